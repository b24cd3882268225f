//! `hopsim check`: run a topology's expectations and report, with a readable diff, the
//! ones that do not hold.

use crate::engine::connect::{connect, ConnectOptions};
use crate::engine::ping::ping;
use crate::format::shell::{parse_inet, Shell};
use crate::format::{Expect, Topology};
use crate::model::L4Proto;
use crate::model::World;

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// Where it was written.
    pub line: usize,
    /// `ping FROM -> DEST [options]`, for the report.
    pub title: String,
    /// Empty when it held; otherwise what differed, one line each.
    pub problems: Vec<String>,
    /// ping's output, for the report.
    pub output: Vec<String>,
}

impl CheckResult {
    /// Did it hold?
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Apply `with:` lines (`NS: COMMAND`) to a copy of the world.
pub fn apply_with(world: &mut World, lines: &[String]) -> Result<(), String> {
    for l in lines {
        let (ns, cmd) = l
            .split_once(':')
            .ok_or_else(|| format!("with: \"{l}\" is not NS: COMMAND"))?;
        let nsid = world.resolve_ns(ns.trim())?;
        let host = world.netns[nsid].host;
        let r = Shell { world, host }.run_line(nsid, cmd.trim());
        if r.status != 0 {
            return Err(format!("with: \"{l}\" failed: {}", r.stderr.trim_end()));
        }
    }
    Ok(())
}

/// What a probe printed, its exit, the source its destination saw, and the drops.
type Outcome = (
    Vec<String>,
    i32,
    Option<String>,
    Vec<(String, crate::trace::DropReason)>,
);

/// Run one expectation.
pub fn check_one(world: &World, e: &Expect) -> CheckResult {
    if let Some(cmd) = &e.run {
        return check_run(world, e, cmd);
    }
    if let Some(req) = &e.curl {
        return check_curl(world, e, req);
    }
    if let Some(req) = &e.resolve {
        return check_resolve(world, e, req);
    }
    let title = match e.port {
        Some(p) => format!(
            "connect {} -> {}:{}{}",
            e.from,
            e.to,
            p,
            if e.udp { " (udp)" } else { "" }
        ),
        None => format!(
            "ping {} -> {}{}",
            e.from,
            e.to,
            if e.options_text.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.options_text)
            }
        ),
    };
    let fail = |m: String| CheckResult {
        line: e.line,
        title: title.clone(),
        problems: vec![m],
        output: vec![],
    };
    let (w, from) = match prepare(world, e) {
        Ok(x) => x,
        Err(m) => return fail(m),
    };
    let Some(dst) = parse_inet(&e.to) else {
        return fail(format!("bad destination {}", e.to));
    };
    let mut problems = Vec::new();
    let (lines, exit, seen, drops): Outcome = match e.port {
        Some(port) => {
            let opts = ConnectOptions {
                proto: if e.udp { L4Proto::Udp } else { L4Proto::Tcp },
                wait_s: e.options.wait_s.min(10),
                sport: None,
                seed: e.options.seed,
            };
            let r = connect(w, from, dst, port, &opts);
            let drops = trace_drops(&r.trace);
            (
                r.lines,
                r.exit,
                r.seen_from.map(|(a, _)| a.to_string()),
                drops,
            )
        }
        None => {
            let r = ping(w, from, dst, &e.options);
            if let Some(t) = e.ttl {
                let got = r.events.iter().find_map(|ev| match ev {
                    crate::engine::ping::PingEvent::Reply { ttl, .. } => Some(*ttl),
                    _ => None,
                });
                match got {
                    Some(g) if g == t => {}
                    Some(g) => problems.push(format!("ttl: expected {t}, got {g}")),
                    None => {
                        problems.push(format!("ttl: expected a reply with ttl={t}, got no reply"))
                    }
                }
            }
            let drops = trace_drops(&r.trace);
            (r.lines, r.exit, r.seen_from.map(|a| a.to_string()), drops)
        }
    };
    outcome_problems(e, exit, &lines, Some(&drops), &mut problems);
    if let Some(want) = &e.seen_from {
        match &seen {
            Some(s) if s == want => {}
            Some(s) => problems.push(format!(
                "seen-from: the destination saw {s}, expected {want}"
            )),
            None => problems.push(format!(
                "seen-from: expected {want}, but nothing reached the destination"
            )),
        }
    }
    finish(e, title, problems, lines)
}

/// A `curl:` expectation: exit status, printed lines, drops, and the address the HTTP
/// server that answered saw.
fn check_curl(world: &World, e: &Expect, req: &crate::engine::http::CurlRequest) -> CheckResult {
    let hs: Vec<String> = req
        .headers
        .iter()
        .map(|(k, v)| format!(" -H '{k}: {v}'"))
        .collect();
    let title = format!("curl {}{} {}", e.from, hs.concat(), e.to);
    let fail = |m: String| CheckResult {
        line: e.line,
        title: title.clone(),
        problems: vec![m],
        output: vec![],
    };
    let (w, from) = match prepare(world, e) {
        Ok(x) => x,
        Err(m) => return fail(m),
    };
    let r = crate::engine::http::curl(w, from, req);
    let mut problems = Vec::new();
    outcome_problems(
        e,
        r.exit,
        &r.lines,
        Some(&trace_drops(&r.trace)),
        &mut problems,
    );
    if let Some(want) = &e.seen_from {
        match r.seen_from {
            Some((a, _)) if a.to_string() == *want => {}
            Some((a, _)) => problems.push(format!(
                "seen-from: the HTTP server saw {a}, expected {want}"
            )),
            None => problems.push(format!(
                "seen-from: expected {want}, but no HTTP server answered the request"
            )),
        }
    }
    finish(e, title, problems, r.lines)
}

/// A `resolve:` expectation's title: `resolve A: getent hosts db`.
pub fn resolve_title(e: &Expect, req: &crate::format::ResolveRequest) -> String {
    format!("resolve {}: {}", e.from, req.command())
}

/// A `resolve:` expectation: the addresses found, exit status, printed lines, drops.
fn check_resolve(world: &World, e: &Expect, req: &crate::format::ResolveRequest) -> CheckResult {
    let title = resolve_title(e, req);
    let fail = |m: String| CheckResult {
        line: e.line,
        title: title.clone(),
        problems: vec![m],
        output: vec![],
    };
    let (w, from) = match prepare(world, e) {
        Ok(x) => x,
        Err(m) => return fail(m),
    };
    let r = crate::engine::resolver::resolve(w, from, &req.name, &req.opts);
    let mut problems = Vec::new();
    if let Some(want) = &e.answer {
        if *want != r.addrs {
            let show = |v: &[std::net::IpAddr]| {
                if v.is_empty() {
                    "nothing".to_string()
                } else {
                    v.iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            problems.push(format!(
                "answer: expected {}, got {}",
                show(want),
                show(&r.addrs)
            ));
        }
    }
    outcome_problems(
        e,
        r.exit,
        &r.lines,
        Some(&trace_drops(&r.trace)),
        &mut problems,
    );
    finish(e, title, problems, r.lines)
}

/// A `run:` expectation: the command's exit status and the lines it prints.
fn check_run(world: &World, e: &Expect, cmd: &str) -> CheckResult {
    let title = format!("run {cmd}");
    let mut w = world.clone();
    let fail = |m: String| CheckResult {
        line: e.line,
        title: title.clone(),
        problems: vec![m],
        output: vec![],
    };
    if let Err(msg) = apply_with(&mut w, &e.with) {
        return fail(msg);
    }
    let Some((ns, c)) = cmd.split_once(':') else {
        return fail(format!("run: \"{cmd}\" is not NS: COMMAND"));
    };
    let nsid = match w.resolve_ns(ns.trim()) {
        Ok(n) => n,
        Err(m) => return fail(m),
    };
    let host = w.netns[nsid].host;
    let r = Shell {
        world: &mut w,
        host,
    }
    .run_line(nsid, c.trim());
    let lines: Vec<String> = r
        .stdout
        .lines()
        .chain(r.stderr.lines())
        .map(str::to_string)
        .collect();
    let mut problems = Vec::new();
    outcome_problems(e, r.status, &lines, None, &mut problems);
    finish(e, title, problems, lines)
}

/// Run every expectation of a topology.
pub fn check_topology(t: &Topology) -> Vec<CheckResult> {
    t.expects.iter().map(|e| check_one(&t.world, e)).collect()
}

/// The world an expectation runs in (its `with:` commands applied) and its source
/// namespace; the message of the first that fails.
fn prepare(world: &World, e: &Expect) -> Result<(World, crate::model::NsId), String> {
    let mut w = world.clone();
    apply_with(&mut w, &e.with)?;
    let from = w.resolve_ns(&e.from)?;
    Ok((w, from))
}

/// The checks every kind of expectation shares: `exit:`, `prints:` and `drop:` (against
/// the drops of the trace, as (namespace, reason); `None` for a `run:` command, which has
/// no trace).
fn outcome_problems(
    e: &Expect,
    exit: i32,
    lines: &[String],
    drops: Option<&[(String, crate::trace::DropReason)]>,
    problems: &mut Vec<String>,
) {
    if let Some(x) = e.exit {
        if x != exit {
            problems.push(format!("exit: expected {x}, got {exit}"));
        }
    }
    for p in &e.prints {
        if !lines.iter().any(|l| l == p) {
            problems.push(format!("prints: expected the line \"{p}\""));
        }
    }
    if let (Some(d), Some(drops)) = (e.drop, drops) {
        if !drops.iter().any(|(_, r)| *r == d) {
            let seen: Vec<String> = drops
                .iter()
                .map(|(n, r)| format!("{} at {n}", r.kernel_name()))
                .collect();
            problems.push(format!(
                "drop: expected {} in the trace, saw {}",
                d.kernel_name(),
                if seen.is_empty() {
                    "no drop".into()
                } else {
                    seen.join(", ")
                }
            ));
        }
    }
}

/// The result, with the expectation's `because:` after its problems when it failed.
fn finish(
    e: &Expect,
    title: String,
    mut problems: Vec<String>,
    output: Vec<String>,
) -> CheckResult {
    if !problems.is_empty() {
        if let Some(b) = &e.because {
            problems.push(format!("because: {}", b.trim()));
        }
    }
    CheckResult {
        line: e.line,
        title,
        problems,
        output,
    }
}

/// The drops of a trace as (namespace, reason).
fn trace_drops(t: &crate::trace::Trace) -> Vec<(String, crate::trace::DropReason)> {
    t.drops().map(|(h, d, _)| (h.node.to_string(), d)).collect()
}
