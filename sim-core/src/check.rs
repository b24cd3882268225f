//! `hopsim check`: run a topology's expectations and report, with a readable diff, the
//! ones that do not hold.

use crate::engine::ping::ping;
use crate::format::shell::{parse_inet, Shell};
use crate::format::{Expect, Topology};
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

/// Run one expectation.
pub fn check_one(world: &World, e: &Expect) -> CheckResult {
    let title = format!(
        "ping {} -> {}{}",
        e.from,
        e.to,
        if e.options_text.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.options_text)
        }
    );
    let mut problems = Vec::new();
    let mut w = world.clone();
    if let Err(msg) = apply_with(&mut w, &e.with) {
        return CheckResult {
            line: e.line,
            title,
            problems: vec![msg],
            output: vec![],
        };
    }
    let from = match w.resolve_ns(&e.from) {
        Ok(n) => n,
        Err(m) => {
            return CheckResult {
                line: e.line,
                title,
                problems: vec![m],
                output: vec![],
            }
        }
    };
    let Some(dst) = parse_inet(&e.to) else {
        return CheckResult {
            line: e.line,
            title,
            problems: vec![format!("bad destination {}", e.to)],
            output: vec![],
        };
    };
    let run = ping(w, from, dst, &e.options);
    if let Some(x) = e.exit {
        if x != run.exit {
            problems.push(format!("exit: expected {x}, got {}", run.exit));
        }
    }
    if let Some(t) = e.ttl {
        let got = run.events.iter().find_map(|ev| match ev {
            crate::engine::ping::PingEvent::Reply { ttl, .. } => Some(*ttl),
            _ => None,
        });
        match got {
            Some(g) if g == t => {}
            Some(g) => problems.push(format!("ttl: expected {t}, got {g}")),
            None => problems.push(format!("ttl: expected a reply with ttl={t}, got no reply")),
        }
    }
    for p in &e.prints {
        if !run.lines.iter().any(|l| l == p) {
            problems.push(format!("prints: expected the line \"{p}\""));
        }
    }
    if let Some(d) = e.drop {
        if !run.trace.drops().any(|(_, r, _)| r == d) {
            let seen: Vec<String> = run
                .trace
                .drops()
                .map(|(h, r, _)| format!("{} at {}", r.kernel_name(), h.node))
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
    if !problems.is_empty() {
        if let Some(b) = &e.because {
            problems.push(format!("because: {}", b.trim()));
        }
    }
    CheckResult {
        line: e.line,
        title,
        problems,
        output: run.lines,
    }
}

/// Run every expectation of a topology.
pub fn check_topology(t: &Topology) -> Vec<CheckResult> {
    t.expects.iter().map(|e| check_one(&t.world, e)).collect()
}
