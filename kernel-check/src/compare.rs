//! The comparison: the same script and probes through hopsim, set against what the real
//! kernel did ([`crate::run_real`]). A probe agrees when the exit status and the verdict
//! (reply with its TTL, or which error from which address, or the connect error) are the
//! same; the timing-free output text is compared too and reported separately. Setup lines
//! agree when both failed or both succeeded, with the same message.
//!
//! "Seen from" is compared on its own ([`SeenComparison`]): the source address of the
//! request as the namespace that accepted it received it (hopsim's `seen_from`, the
//! kernel's from [`crate::capture`]), and for `nc` whether the client's source port
//! arrived unchanged. It is compared when at least one side had the request accepted
//! somewhere; only one side having it accepted is a disagreement, and so is a capture that
//! failed.

use crate::capture::Capture;
use crate::normalize::{normalize_ping, verdict, Verdict};
use crate::{PmtuDisc, Probe, ProbeCmd, RealOutcome, HOST_NS};
use hopsim_core::engine::connect::{connect, ConnectOptions};
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::format::script::run_script;
use hopsim_core::format::{ExpectSpec, LoadOptions};
use hopsim_core::model::L4Proto;
use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// What hopsim printed for one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimProbe {
    /// The output, in ping's words (stdout and stderr together, as the real side records).
    pub output: String,
    /// Exit status.
    pub exit: i32,
    /// The source address (and port, for `nc`) the accepting namespace saw.
    pub seen_from: Option<(Ipv4Addr, Option<u16>)>,
    /// The client's own source port (`nc`).
    pub client_port: Option<u16>,
}

/// hopsim's side of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOutcome {
    /// Per failing setup line: (line, status, message).
    pub failed: Vec<(usize, i32, String)>,
    /// One per probe.
    pub probes: Vec<SimProbe>,
}

/// Run a case through hopsim: the script, then the probes in order on the state the
/// previous ones left (ARP caches carry over, as on the real machine).
pub fn run_sim(script: &str, probes: &[Probe]) -> Result<SimOutcome, String> {
    let run = run_script("case.sh", script, LoadOptions::default()).map_err(|e| e.to_string())?;
    let failed = run
        .steps
        .iter()
        .filter(|s| s.result.status != 0)
        .map(|s| {
            (
                s.line,
                s.result.status,
                s.result.stderr.trim_end().to_string(),
            )
        })
        .collect();
    let mut world = run.world;
    let mut out = Vec::new();
    for p in probes {
        let ns = if p.ns == HOST_NS {
            "host"
        } else {
            p.ns.as_str()
        };
        if let ProbeCmd::Connect {
            dest,
            port,
            udp,
            wait_s,
        } = &p.cmd
        {
            let Ok(nsid) = world.resolve_ns(ns) else {
                out.push(SimProbe {
                    output: format!(
                        "Cannot open network namespace \"{ns}\": No such file or directory\n"
                    ),
                    exit: 255,
                    seen_from: None,
                    client_port: None,
                });
                continue;
            };
            let Ok(dst) = dest.parse() else {
                out.push(SimProbe {
                    output: String::new(),
                    exit: 1,
                    seen_from: None,
                    client_port: None,
                });
                continue;
            };
            let opts = ConnectOptions {
                proto: if *udp { L4Proto::Udp } else { L4Proto::Tcp },
                wait_s: *wait_s,
                sport: None,
                seed: 0,
            };
            let r = connect(world.clone(), nsid, dst, *port, &opts);
            world = r.world;
            out.push(SimProbe {
                output: r.lines.iter().map(|l| format!("{l}\n")).collect(),
                exit: r.exit,
                seen_from: r.seen_from.map(|(a, p)| (a, Some(p))),
                client_port: Some(r.source.1),
            });
            continue;
        }
        let ProbeCmd::Ping {
            dest,
            count,
            ttl,
            wait_s,
            size,
            pmtudisc,
        } = &p.cmd
        else {
            continue;
        };
        let nsid = match world.resolve_ns(ns) {
            Ok(n) => n,
            Err(_) => {
                out.push(SimProbe {
                    output: format!(
                        "Cannot open network namespace \"{ns}\": No such file or directory\n"
                    ),
                    exit: 255,
                    seen_from: None,
                    client_port: None,
                });
                continue;
            }
        };
        let Ok(dst) = dest.parse() else {
            out.push(SimProbe {
                output: format!("ping: {dest}: Name or service not known\n"),
                exit: 2,
                seen_from: None,
                client_port: None,
            });
            continue;
        };
        let opts = PingOptions {
            count: (*count).clamp(1, u32::from(u16::MAX)) as u16,
            ttl: *ttl,
            wait_s: wait_s.unwrap_or(10),
            size: size.unwrap_or(56),
            pmtudisc: pmtudisc.unwrap_or_default(),
            ..PingOptions::default()
        };
        let r = ping(world.clone(), nsid, dst, &opts);
        world = r.world;
        let text: String = r.lines.iter().map(|l| format!("{l}\n")).collect();
        out.push(SimProbe {
            output: text,
            exit: r.exit,
            seen_from: r.seen_from.map(|a| (a, None)),
            client_port: None,
        });
    }
    Ok(SimOutcome {
        failed,
        probes: out,
    })
}

/// What became of the client's source port on the way to the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSeen {
    /// No port (ping).
    None,
    /// The destination saw the client's own port.
    Kept,
    /// The destination saw another port (a NAT changed it).
    Changed(u16),
    /// The client's own port is not known (the port seen is given).
    Unknown(u16),
}

/// A "seen from" value: the source address at the destination and what became of the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenValue {
    /// The source address the accepting namespace saw.
    pub addr: Ipv4Addr,
    /// The port.
    pub port: PortSeen,
}

impl SeenValue {
    fn new(addr: Ipv4Addr, port: Option<u16>, client: Option<u16>) -> SeenValue {
        let port = match (port, client) {
            (None, _) => PortSeen::None,
            (Some(p), Some(c)) if p == c => PortSeen::Kept,
            (Some(p), Some(_)) => PortSeen::Changed(p),
            (Some(p), None) => PortSeen::Unknown(p),
        };
        SeenValue { addr, port }
    }

    /// The same address, and the port kept on both sides or changed on both (the number a
    /// NAT picks for a changed port is its own choice, and the client's port is random).
    pub fn same(&self, other: &SeenValue) -> bool {
        use PortSeen::*;
        self.addr == other.addr
            && matches!(
                (self.port, other.port),
                (None, None)
                    | (Kept, Kept)
                    | (Changed(_), Changed(_))
                    | (Unknown(_), Kept | Changed(_) | Unknown(_))
                    | (Kept | Changed(_), Unknown(_))
            )
    }
}

impl fmt::Display for SeenValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            PortSeen::None => write!(f, "{}", self.addr),
            PortSeen::Kept => write!(f, "{} (client's port kept)", self.addr),
            PortSeen::Changed(p) => write!(f, "{}:{p} (client's port changed)", self.addr),
            PortSeen::Unknown(p) => write!(f, "{}:{p}", self.addr),
        }
    }
}

fn show(v: &Option<SeenValue>) -> String {
    v.map(|v| v.to_string())
        .unwrap_or_else(|| "not accepted anywhere".into())
}

/// "Seen from", both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeenComparison {
    /// Neither side had the request accepted anywhere, or the real run made no capture.
    NotCompared,
    /// At least one side had it accepted: both values (`None`: not accepted anywhere).
    Compared {
        /// The kernel's.
        real: Option<SeenValue>,
        /// hopsim's.
        sim: Option<SeenValue>,
        /// The kernel's observation, for the report.
        at: String,
    },
    /// The capture was asked for and failed (a disagreement: nothing may pass unchecked).
    Failed(String),
}

impl SeenComparison {
    fn new(real: &Capture, sim: Option<SeenValue>) -> SeenComparison {
        let (real, at) = match real {
            Capture::Disabled => return SeenComparison::NotCompared,
            Capture::Failed(m) => return SeenComparison::Failed(m.clone()),
            Capture::NotReached => (None, String::new()),
            Capture::Reached(s) => (
                Some(SeenValue::new(s.src, s.sport, s.client_sport)),
                s.to_string(),
            ),
        };
        if real.is_none() && sim.is_none() {
            return SeenComparison::NotCompared;
        }
        SeenComparison::Compared { real, sim, at }
    }

    /// Whether it was compared (or should have been: a failed capture).
    pub fn compared(&self) -> bool {
        !matches!(self, SeenComparison::NotCompared)
    }

    /// Not compared, or the same on both sides.
    pub fn agrees(&self) -> bool {
        match self {
            SeenComparison::NotCompared => true,
            SeenComparison::Compared {
                real: Some(r),
                sim: Some(s),
                ..
            } => r.same(s),
            _ => false,
        }
    }
}

impl fmt::Display for SeenComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeenComparison::NotCompared => write!(f, "not compared"),
            SeenComparison::Failed(m) => write!(f, "kernel: capture failed: {m}"),
            SeenComparison::Compared { real, sim, at } => {
                write!(f, "kernel: {}", show(real))?;
                if !at.is_empty() {
                    write!(f, " [{at}]")?;
                }
                write!(f, "; hopsim: {}", show(sim))
            }
        }
    }
}

/// One probe, both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeComparison {
    /// The probe.
    pub probe: Probe,
    /// The kernel's verdict and exit.
    pub real: (Verdict, i32),
    /// hopsim's verdict and exit.
    pub sim: (Verdict, i32),
    /// Timing-free output of each side.
    pub real_text: String,
    /// hopsim's output.
    pub sim_text: String,
    /// The source address seen where the request was accepted.
    pub seen: SeenComparison,
}

impl ProbeComparison {
    /// Same exit status and verdict.
    pub fn agrees(&self) -> bool {
        self.real == self.sim
    }

    /// Same text, word for word, once timings are removed.
    pub fn same_text(&self) -> bool {
        self.real_text == self.sim_text
    }
}

/// One setup line where at least one side failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupComparison {
    /// Line number.
    pub line: usize,
    /// The command.
    pub text: String,
    /// Kernel: status and message.
    pub real: (i32, String),
    /// hopsim: status and message.
    pub sim: (i32, String),
}

impl SetupComparison {
    /// Same status and message.
    pub fn agrees(&self) -> bool {
        self.real == self.sim
    }
}

/// A whole case compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseComparison {
    /// Feature labels, comma separated.
    pub label: String,
    /// Probes.
    pub probes: Vec<ProbeComparison>,
    /// Setup lines that failed on either side.
    pub setup: Vec<SetupComparison>,
}

impl CaseComparison {
    /// Every probe (verdict and "seen from") and setup line agrees.
    pub fn agrees(&self) -> bool {
        self.probes.iter().all(|p| p.agrees() && p.seen.agrees())
            && self.setup.iter().all(|s| s.agrees())
    }

    /// A readable account of the disagreements.
    pub fn explain(&self, script: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "case [{}]:", self.label);
        for l in script.lines() {
            let _ = writeln!(s, "    {l}");
        }
        for p in self.setup.iter().filter(|p| !p.agrees()) {
            let _ = writeln!(
                s,
                "  setup line {} `{}`: kernel [{}] {:?}, hopsim [{}] {:?}",
                p.line, p.text, p.real.0, p.real.1, p.sim.0, p.sim.1
            );
        }
        for p in self.probes.iter().filter(|p| !p.seen.agrees()) {
            let _ = writeln!(s, "  probe {}: seen-from differs: {}", p.probe, p.seen);
        }
        for p in self.probes.iter().filter(|p| !p.agrees()) {
            let _ = writeln!(s, "  probe {}:", p.probe);
            let _ = writeln!(s, "    kernel: exit {} {}", p.real.1, p.real.0);
            for l in p.real_text.lines() {
                let _ = writeln!(s, "      | {l}");
            }
            let _ = writeln!(s, "    hopsim: exit {} {}", p.sim.1, p.sim.0);
            for l in p.sim_text.lines() {
                let _ = writeln!(s, "      | {l}");
            }
        }
        s
    }
}

/// Compare a real run with hopsim's.
pub fn compare(
    label: &str,
    script: &str,
    probes: &[Probe],
    real: &RealOutcome,
    sim: &SimOutcome,
) -> CaseComparison {
    let mut out = CaseComparison {
        label: label.to_string(),
        probes: Vec::new(),
        setup: Vec::new(),
    };
    for (i, p) in probes.iter().enumerate() {
        let (rt, re) = real
            .probes
            .get(i)
            .map(|r| (r.output.clone(), r.exit))
            .unwrap_or_default();
        let (st, se) = sim
            .probes
            .get(i)
            .map(|s| (s.output.clone(), s.exit))
            .unwrap_or_default();
        let real_capture = real
            .probes
            .get(i)
            .map(|r| r.capture.clone())
            .unwrap_or_else(|| Capture::Failed("no result for this probe".into()));
        let sim_seen = sim.probes.get(i).and_then(|s| {
            s.seen_from
                .map(|(a, p)| SeenValue::new(a, p, s.client_port))
        });
        out.probes.push(ProbeComparison {
            probe: p.clone(),
            real: (verdict(&rt, re), re),
            sim: (verdict(&st, se), se),
            real_text: normalize_ping(&rt),
            sim_text: normalize_ping(&st),
            seen: SeenComparison::new(&real_capture, sim_seen),
        });
    }
    let lines: Vec<&str> = script.lines().collect();
    let mut failing: BTreeMap<usize, SetupComparison> = BTreeMap::new();
    for l in real.failed_lines() {
        failing.insert(
            l.line,
            SetupComparison {
                line: l.line,
                text: l.text.clone(),
                real: (l.status, l.stderr.trim_end().to_string()),
                sim: (0, String::new()),
            },
        );
    }
    for (line, status, msg) in &sim.failed {
        let e = failing.entry(*line).or_insert_with(|| SetupComparison {
            line: *line,
            text: lines
                .get(line.saturating_sub(1))
                .map(|s| s.to_string())
                .unwrap_or_default(),
            real: (0, String::new()),
            sim: (0, String::new()),
        });
        e.sim = (*status, msg.clone());
    }
    out.setup = failing.into_values().collect();
    out
}

/// A case built from a scenario script's `# expect:` line: the script, with the
/// expectation's `with:` commands appended, and its ping as the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCase {
    /// "file:line".
    pub label: String,
    /// The script to run.
    pub script: String,
    /// The probes.
    pub probes: Vec<Probe>,
}

/// Turn each `# expect:` of a script into a case.
pub fn cases_from_script(file: &str, text: &str) -> Result<Vec<ScriptCase>, String> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let Some(rest) = l.trim().strip_prefix('#').map(str::trim) else {
            continue;
        };
        let Some(exp) = rest.strip_prefix("expect:") else {
            continue;
        };
        let spec: ExpectSpec =
            serde_saphyr::from_str(exp.trim()).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
        let e = spec.resolve(file, i + 1, 0).map_err(|e| e.to_string())?;
        if e.run.is_some() {
            // A command's own output is compared as a setup line, not as a probe.
            continue;
        }
        let mut script = text.to_string();
        for w in &e.with {
            let Some((ns, cmd)) = w.split_once(':') else {
                continue;
            };
            let (ns, cmd) = (ns.trim(), cmd.trim());
            if ns == HOST_NS {
                let _ = writeln!(script, "{cmd}");
            } else {
                let _ = writeln!(script, "ip netns exec {ns} {cmd}");
            }
        }
        out.push(ScriptCase {
            label: format!("{file}:{}", i + 1),
            script,
            probes: vec![Probe {
                ns: e.from.clone(),
                cmd: match e.port {
                    Some(port) => ProbeCmd::Connect {
                        dest: e.to.clone(),
                        port,
                        udp: e.udp,
                        wait_s: e.options.wait_s.clamp(1, 10),
                    },
                    None => ProbeCmd::Ping {
                        dest: e.to.clone(),
                        count: u32::from(e.options.count),
                        ttl: e.options.ttl,
                        wait_s: Some(e.options.wait_s),
                        size: Some(e.options.size).filter(|s| *s != 56),
                        pmtudisc: Some(e.options.pmtudisc).filter(|m| *m != PmtuDisc::Want),
                    },
                },
            }],
        });
    }
    Ok(out)
}

/// Agreement counts per feature group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// feature -> (probes agreeing, probes run, same text, setup lines agreeing, setup lines
    /// compared, seen-from agreeing, seen-from compared)
    pub groups: BTreeMap<String, [usize; 7]>,
}

impl Tally {
    /// Count a case under each of its labels (and "all").
    pub fn add(&mut self, c: &CaseComparison, groups: &[&str]) {
        for g in groups.iter().copied().chain(std::iter::once("all")) {
            let e = self.groups.entry(g.to_string()).or_default();
            for p in &c.probes {
                e[0] += usize::from(p.agrees());
                e[1] += 1;
                e[2] += usize::from(p.same_text());
                if p.seen.compared() {
                    e[5] += usize::from(p.seen.agrees());
                    e[6] += 1;
                }
            }
            for s in &c.setup {
                e[3] += usize::from(s.agrees());
                e[4] += 1;
            }
        }
    }

    /// The report table.
    pub fn report(&self) -> String {
        let mut s = String::from(
            "feature group            probes agreeing   same text   setup errors agreeing   seen-from\n",
        );
        for (g, [a, n, t, sa, sn, fa, fn_]) in &self.groups {
            let setup = format!("{sa:>5} / {sn}");
            let _ = writeln!(
                s,
                "{g:<24} {a:>5} / {n:<7}   {t:>5}       {setup:<21}   {fa:>5} / {fn_}"
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Seen;

    fn reached(src: &str, sport: Option<u16>, client: Option<u16>) -> Capture {
        Capture::Reached(Seen {
            ns: "b".into(),
            dev: "eth0".into(),
            src: src.parse().unwrap(),
            sport,
            wire_src: None,
            dst: "10.0.0.2".parse().unwrap(),
            dport: sport.map(|_| 80),
            client_sport: client,
        })
    }

    fn sim(src: &str, port: Option<u16>, client: Option<u16>) -> Option<SeenValue> {
        Some(SeenValue::new(src.parse().unwrap(), port, client))
    }

    #[test]
    fn seen_from_is_compared_when_either_side_got_there() {
        let c = SeenComparison::new(&Capture::NotReached, None);
        assert!(!c.compared() && c.agrees());
        let c = SeenComparison::new(&Capture::Disabled, sim("10.0.0.1", None, None));
        assert!(!c.compared() && c.agrees());
        let c = SeenComparison::new(&Capture::NotReached, sim("10.0.0.1", None, None));
        assert!(c.compared() && !c.agrees(), "only hopsim got there");
        let c = SeenComparison::new(&reached("10.0.0.1", None, None), None);
        assert!(c.compared() && !c.agrees(), "only the kernel got there");
        let c = SeenComparison::new(&Capture::Failed("x".into()), None);
        assert!(c.compared() && !c.agrees(), "a failed capture never passes");
        let c = SeenComparison::new(
            &reached("10.0.0.1", None, None),
            sim("10.0.0.1", None, None),
        );
        assert!(c.compared() && c.agrees());
        let c = SeenComparison::new(
            &reached("10.0.0.9", None, None),
            sim("10.0.0.1", None, None),
        );
        assert!(!c.agrees());
    }

    #[test]
    fn ports_compare_as_kept_or_changed() {
        // the kernel's client port is random, a NAT's choice its own
        let kept = SeenComparison::new(
            &reached("10.0.0.1", Some(40000), Some(40000)),
            sim("10.0.0.1", Some(51000), Some(51000)),
        );
        assert!(kept.agrees(), "{kept}");
        let changed = SeenComparison::new(
            &reached("10.0.0.1", Some(20014), Some(40000)),
            sim("10.0.0.1", Some(20000), Some(51000)),
        );
        assert!(changed.agrees(), "{changed}");
        let differ = SeenComparison::new(
            &reached("10.0.0.1", Some(40000), Some(40000)),
            sim("10.0.0.1", Some(1024), Some(51000)),
        );
        assert!(!differ.agrees(), "{differ}");
    }
}
