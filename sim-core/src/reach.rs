//! Reachability: every source namespace probes every address (one `ping -c 1`, or one
//! `nc -zv` to a TCP or UDP port), each probe a complete trace on its own copy of the
//! world, so each pair's answer is the one `hopsim ping`/`hopsim connect` gives for it
//! alone. Pairs run in parallel (rayon); the result is in source-major order whatever the
//! number of threads, and every trace is deterministic (seed 0), so the matrix is the same
//! on every run and every machine.

use crate::engine::connect::{connect, connect_quiet, ConnectOptions, ConnectRun, Outcome};
use crate::engine::ping::{ping, ping_quiet, PingOptions, PingRun};
use crate::engine::Layout;
use crate::model::{HostKind, L4Proto, Name, NsId, World};
use crate::trace::{DropReason, Hop, Trace};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// What each source sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Probe {
    /// `ping -c 1 ADDR`.
    Icmp,
    /// `nc -zv ADDR PORT`.
    Tcp {
        /// The port.
        port: u16,
    },
    /// `nc -zvu ADDR PORT`.
    Udp {
        /// The port.
        port: u16,
    },
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Icmp => write!(f, "icmp"),
            Probe::Tcp { port } => write!(f, "tcp/{port}"),
            Probe::Udp { port } => write!(f, "udp/{port}"),
        }
    }
}

/// An address to probe, with the namespace that owns it (empty for an address nobody
/// owns, given with `--to`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The address.
    pub addr: Ipv4Addr,
    /// Its owner's name.
    pub owner: Name,
}

/// How a probe ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// An echo reply came back, or the connection was made (for UDP: no error came back).
    Reached,
    /// TCP reset or ICMP port unreachable.
    Refused,
    /// An ICMP error came back, or the source could not send (no route: `ping: connect:
    /// Network is unreachable`).
    Unreachable,
    /// Dropped on the way, silently (a netfilter DROP, forwarding off, ...).
    Dropped,
    /// Nothing came back and nothing was dropped (a reply nobody answers).
    NoReply,
}

impl Verdict {
    /// The word used in tables and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Reached => "reached",
            Verdict::Refused => "refused",
            Verdict::Unreachable => "unreachable",
            Verdict::Dropped => "dropped",
            Verdict::NoReply => "no-reply",
        }
    }
}

/// One source-address pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pair {
    /// The source namespace.
    pub from: Name,
    /// The address probed.
    pub to: Ipv4Addr,
    /// The namespace that owns it.
    pub owner: Name,
    /// How it ended.
    pub verdict: Verdict,
    /// For a failure: the tool's message (`From 10.0.0.1 icmp_seq=1 Destination Host
    /// Unreachable`, `nc: connect to ... failed: Connection refused`).
    pub message: Option<String>,
    /// For a failure: the first drop in the trace, `hop N NODE: REASON detail`.
    pub step: Option<String>,
    /// iptables rules evaluated (the kernel's first-match walk) over the whole trace.
    pub rules_evaluated: usize,
}

/// The matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// What was sent.
    pub probe: Probe,
    /// Every pair, source-major, targets in the order given.
    pub pairs: Vec<Pair>,
}

impl Reach {
    /// Pairs that were not reached.
    pub fn failing(&self) -> impl Iterator<Item = &Pair> {
        self.pairs.iter().filter(|p| p.verdict != Verdict::Reached)
    }
}

/// Every live namespace of a Linux machine, in id order (the default sources).
pub fn all_sources(world: &World) -> Vec<NsId> {
    world
        .live_netns()
        .filter(|(_, n)| world.hosts[n.host].kind == HostKind::Linux)
        .map(|(id, _)| id)
        .collect()
}

/// The addresses of one namespace (not 127/8), in device order.
pub fn addresses_of(world: &World, ns: NsId) -> Vec<Ipv4Addr> {
    world
        .ns_ifaces(ns)
        .into_iter()
        .flat_map(|i| i.addrs.iter().map(|a| a.addr()))
        .filter(|a| !a.is_loopback())
        .collect()
}

/// Every address of every live namespace of a Linux machine (the default targets), each
/// address once, with its first owner.
pub fn all_targets(world: &World) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for ns in all_sources(world) {
        for addr in addresses_of(world, ns) {
            if seen.insert(addr) {
                out.push(Target {
                    addr,
                    owner: world.netns[ns].name.clone(),
                });
            }
        }
    }
    out
}

/// The owner of an address (the first namespace holding it), or "".
pub fn owner_of(world: &World, addr: Ipv4Addr) -> Name {
    all_sources(world)
        .into_iter()
        .find(|ns| world.is_local_addr(*ns, addr) && !addr.is_loopback())
        .map(|ns| world.netns[ns].name.clone())
        .unwrap_or_default()
}

/// Probe every target from every source. `threads` 1 runs in this thread, in order;
/// otherwise rayon's pool runs the pairs (the output order is the same). `progress` is
/// called once per finished pair (from any thread).
pub fn reach(
    world: &World,
    sources: &[NsId],
    targets: &[Target],
    probe: Probe,
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
) -> Reach {
    // Sources and targets are taken machine by machine (a tile's pods then share their
    // nodes' state too); the output order is the order given.
    let host_of = |ns: NsId| world.netns.get(ns).map_or(usize::MAX, |n| n.host);
    let by_host = |keys: Vec<usize>| {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| (keys[i], i));
        order
    };
    let source_order = by_host(sources.iter().map(|&ns| host_of(ns)).collect());
    let target_order = by_host(
        targets
            .iter()
            .map(|t| world.resolve_ns(&t.owner).map_or(usize::MAX, host_of))
            .collect(),
    );
    let jobs: Vec<(usize, usize)> = tiled(sources.len(), targets.len())
        .into_iter()
        .map(|(s, t)| (source_order[s], target_order[t]))
        .collect();
    let layout = Arc::new(Layout::of(world));
    let one = |&(s, t): &(usize, usize)| {
        let p = probe_pair_in(world, &layout, sources[s], &targets[t], probe);
        progress();
        (s * targets.len() + t, p)
    };
    let mut done: Vec<(usize, Pair)> = match threads {
        Some(1) => jobs.iter().map(one).collect(),
        Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(|| jobs.par_iter().map(one).collect()),
            Err(_) => jobs.iter().map(one).collect(),
        },
        None => jobs.par_iter().map(one).collect(),
    };
    // Back in source-major order (in place: a million pairs are a hundred megabytes).
    done.sort_unstable_by_key(|(i, _)| *i);
    Reach {
        probe,
        pairs: done.into_iter().map(|(_, p)| p).collect(),
    }
}

/// Sources and targets per side of a tile of [`tiled`].
const TILE: usize = 32;

/// Every (source, target) position, tile by tile: the pairs of TILE sources and TILE
/// targets run one after another, so that what those 2 x TILE pods' traces read (their
/// namespaces, devices, their rules on their nodes) is still in the cache when the next
/// pair reads it. In source-major order, each pair's target was last read a whole row
/// earlier: on a 1,000-pod cluster, megabytes of state in between.
fn tiled(sources: usize, targets: usize) -> Vec<(usize, usize)> {
    let mut jobs = Vec::with_capacity(sources * targets);
    for s0 in (0..sources).step_by(TILE) {
        for t0 in (0..targets).step_by(TILE) {
            for s in s0..(s0 + TILE).min(sources) {
                for t in t0..(t0 + TILE).min(targets) {
                    jobs.push((s, t));
                }
            }
        }
    }
    jobs
}

/// One probe on a copy of the world, in quiet mode (only drop steps recorded: the pair is
/// the same as [`probe_pair_traced`]'s, `tests/reach.rs` checks it).
pub fn probe_pair(world: &World, ns: NsId, t: &Target, probe: Probe) -> Pair {
    probe_pair_in(world, &Arc::new(Layout::of(world)), ns, t, probe)
}

/// [`probe_pair`] with the world's layout built once for all pairs.
fn probe_pair_in(world: &World, layout: &Arc<Layout>, ns: NsId, t: &Target, probe: Probe) -> Pair {
    probe_pair_with(
        world,
        ns,
        t,
        probe,
        &|w, ns, dst, opts| ping_quiet(w, layout, ns, dst, opts),
        &|w, ns, dst, port, opts| connect_quiet(w, layout, ns, dst, port, opts),
    )
}

/// One probe on a copy of the world, with the full trace built (as `hopsim ping` and
/// `hopsim connect` do).
pub fn probe_pair_traced(world: &World, ns: NsId, t: &Target, probe: Probe) -> Pair {
    probe_pair_with(world, ns, t, probe, &ping, &connect)
}

type PingFn<'a> = &'a dyn Fn(World, NsId, Ipv4Addr, &PingOptions) -> PingRun;
type ConnectFn<'a> = &'a dyn Fn(World, NsId, Ipv4Addr, u16, &ConnectOptions) -> ConnectRun;

fn probe_pair_with(
    world: &World,
    ns: NsId,
    t: &Target,
    probe: Probe,
    ping: PingFn,
    connect: ConnectFn,
) -> Pair {
    let from = world.netns[ns].name.clone();
    let (verdict, lines, trace, rules) = match probe {
        Probe::Icmp => {
            let opts = PingOptions {
                count: 1,
                ..PingOptions::default()
            };
            let r = ping(world.clone(), ns, t.addr, &opts);
            let v = if r.exit == 0 {
                Verdict::Reached
            } else if r.exit == 2 || r.lines.iter().any(|l| l.starts_with("From ")) {
                Verdict::Unreachable
            } else if real_drops(&r.trace).next().is_some() {
                Verdict::Dropped
            } else {
                Verdict::NoReply
            };
            (v, r.lines, r.trace, r.rules_evaluated)
        }
        Probe::Tcp { port } | Probe::Udp { port } => {
            let opts = ConnectOptions {
                proto: if matches!(probe, Probe::Tcp { .. }) {
                    L4Proto::Tcp
                } else {
                    L4Proto::Udp
                },
                ..ConnectOptions::default()
            };
            let r = connect(world.clone(), ns, t.addr, port, &opts);
            let v = match r.outcome {
                Outcome::Connected => Verdict::Reached,
                Outcome::Refused => Verdict::Refused,
                Outcome::Error { .. } => Verdict::Unreachable,
                Outcome::TimedOut if real_drops(&r.trace).next().is_some() => Verdict::Dropped,
                Outcome::TimedOut => Verdict::NoReply,
            };
            (v, r.lines, r.trace, r.rules_evaluated)
        }
    };
    let failed = verdict != Verdict::Reached;
    Pair {
        from,
        to: t.addr,
        owner: t.owner.clone(),
        verdict,
        message: failed.then(|| message(&lines)).flatten(),
        step: failed.then(|| first_drop(&trace)).flatten(),
        rules_evaluated: rules,
    }
}

/// The line of the tool's output that says what went wrong.
fn message(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .find(|l| l.starts_with("From ") || l.starts_with("ping:") || l.starts_with("nc:"))
        .or_else(|| lines.iter().find(|l| l.contains("packet loss")))
        .cloned()
}

/// The first drop that ended the probe (a frame flooded to a bystander and dropped there,
/// `OTHERHOST`, is not it).
fn first_drop(trace: &Trace) -> Option<String> {
    real_drops(trace).next().map(|(h, reason, detail)| {
        format!(
            "hop {} {}: {} {detail}",
            h.index + 1,
            h.node,
            reason.kernel_name()
        )
    })
}

fn real_drops(trace: &Trace) -> impl Iterator<Item = (&Hop, DropReason, &str)> {
    trace
        .drops()
        .filter(|(_, reason, _)| *reason != DropReason::Otherhost)
}

/// A plain table: one line per pair (only the failing ones with `failing_only`), then a
/// count.
pub fn render_table(r: &Reach, failing_only: bool) -> String {
    let rows: Vec<&Pair> = r
        .pairs
        .iter()
        .filter(|p| !failing_only || p.verdict != Verdict::Reached)
        .collect();
    let to_col = |p: &Pair| {
        if p.owner.is_empty() {
            p.to.to_string()
        } else {
            format!("{} ({})", p.to, p.owner)
        }
    };
    let wf = rows.iter().map(|p| p.from.len()).max().unwrap_or(0).max(4);
    let wt = rows
        .iter()
        .map(|p| to_col(p).len())
        .max()
        .unwrap_or(0)
        .max(2);
    let mut out = String::new();
    if !rows.is_empty() {
        let _ = writeln!(
            out,
            "{:<wf$}  {:<wt$}  {:<11}  WHY",
            "FROM", "TO", "VERDICT"
        );
    }
    for p in &rows {
        let why = match (&p.message, &p.step) {
            (Some(m), Some(s)) => format!("{m}; {s}"),
            (Some(m), None) => m.clone(),
            (None, Some(s)) => s.clone(),
            (None, None) => String::new(),
        };
        let line = format!(
            "{:<wf$}  {:<wt$}  {:<11}  {why}",
            p.from,
            to_col(p),
            p.verdict.name()
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let failing = r.failing().count();
    let _ = writeln!(
        out,
        "{} pairs ({}): {} reached, {failing} not",
        r.pairs.len(),
        r.probe,
        r.pairs.len() - failing
    );
    out
}

/// CSV (RFC 4180 quoting): `from,to,owner,verdict,message,step,rules_evaluated`.
pub fn render_csv(r: &Reach, failing_only: bool) -> String {
    let q = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("from,to,owner,verdict,message,step,rules_evaluated\n");
    for p in r
        .pairs
        .iter()
        .filter(|p| !failing_only || p.verdict != Verdict::Reached)
    {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            q(&p.from),
            p.to,
            q(&p.owner),
            p.verdict.name(),
            q(p.message.as_deref().unwrap_or("")),
            q(p.step.as_deref().unwrap_or("")),
            p.rules_evaluated
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{tiled, TILE};

    #[test]
    fn tiles_cover_every_pair_once_a_tile_at_a_time() {
        for (s, t) in [(0, 5), (5, 0), (1, 1), (TILE, TILE), (70, 45), (3, 100)] {
            let jobs = tiled(s, t);
            let mut sorted = jobs.clone();
            sorted.sort_unstable();
            let all: Vec<(usize, usize)> =
                (0..s).flat_map(|a| (0..t).map(move |b| (a, b))).collect();
            assert_eq!(sorted, all, "{s} x {t}");
            // Each tile's pairs run one after another: a tile, once left, never comes back.
            let mut tiles: Vec<(usize, usize)> =
                jobs.iter().map(|(a, b)| (a / TILE, b / TILE)).collect();
            tiles.dedup();
            let runs = tiles.len();
            tiles.sort_unstable();
            tiles.dedup();
            assert_eq!(runs, tiles.len(), "{s} x {t}");
        }
    }
}
