//! Mermaid diagrams: the topology as a flowchart (machines and their namespaces as
//! nested boxes, devices inside, veth pairs and cables as lines, bridge ports dotted to
//! their bridge, tunnels dashed), with a traced path highlighted; and a trace as a
//! sequence diagram (one arrow per frame between namespaces, notes for the decisions a
//! reader must see: NAT, tunnels, drops, deliveries).

use crate::model::{HostKind, IfKind, World};
use crate::render::dot::tunnel_ends;
use crate::render::path::TracePath;
use crate::trace::{Cause, Step, Trace};
use std::fmt::Write;

/// Mermaid's escaping inside a quoted label.
fn esc(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// The topology as a Mermaid flowchart, with `path` highlighted when given.
pub fn flowchart(world: &World, path: Option<&TracePath>) -> String {
    let mut out = String::from("flowchart LR\n");
    for (hid, h) in world.hosts.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph h{hid}[\"{}{}\"]",
            esc(&h.name),
            if h.kind == HostKind::Switch {
                " (switch)"
            } else {
                ""
            }
        );
        for (id, n) in world.live_netns().filter(|(_, n)| n.host == hid) {
            let title = if n.is_root && h.kind == HostKind::Linux {
                format!("{} (root namespace)", n.name)
            } else {
                n.name.to_string()
            };
            let _ = writeln!(out, "    subgraph n{id}[\"{}\"]", esc(&title));
            let devs: Vec<_> = world
                .ns_ifaces(id)
                .into_iter()
                .filter(|i| !i.is_loopback())
                .collect();
            if devs.is_empty() {
                let _ = writeln!(out, "      n{id}_lo[\"lo only\"]");
            }
            for i in devs {
                let addrs: Vec<String> = i.addrs.iter().map(|a| a.net.to_string()).collect();
                let mut label = i.name.to_string();
                label.push_str(&super::kind_suffix(&i.kind));
                for a in &addrs {
                    label.push_str(&format!("<br/>{a}"));
                }
                let label = esc(&label).replace("#lt;br/#gt;", "<br/>");
                let (open, close) = match i.kind {
                    IfKind::Bridge(_) => ("{{", "}}"),
                    IfKind::Ipip(_) | IfKind::Vxlan(_) => ("[/", "/]"),
                    _ => ("[", "]"),
                };
                let _ = writeln!(out, "      d{}{open}\"{label}\"{close}", i.id);
            }
            out.push_str("    end\n");
        }
        out.push_str("  end\n");
    }
    let mut links = 0usize;
    let mut hot = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for i in world.live_ifaces() {
        if let Some(peer) = i.wire_peer().filter(|p| world.iface(*p).is_some()) {
            if done.insert((i.id.min(peer), i.id.max(peer))) {
                let _ = writeln!(out, "  d{} --- d{}", i.id.min(peer), i.id.max(peer));
                if path.is_some_and(|p| p.has_wire(i.id, peer)) {
                    hot.push(links);
                }
                links += 1;
            }
        }
    }
    for i in world.live_ifaces() {
        if let Some(m) = i.master.filter(|m| world.iface(*m).is_some()) {
            let _ = writeln!(out, "  d{} -.- d{m}", i.id);
            if path.is_some_and(|p| p.devices.contains(&i.id) && p.devices.contains(&m)) {
                hot.push(links);
            }
            links += 1;
        }
    }
    for (dev, owner, label) in tunnel_ends(world) {
        let Some(d) = world.iface(dev) else {
            continue;
        };
        let (ns, kind) = (d.ns, std::mem::discriminant(&d.kind));
        // The far end: the owner's tunnel device of the same kind, else its namespace.
        let far = world
            .ns_ifaces(owner)
            .into_iter()
            .find(|i| std::mem::discriminant(&i.kind) == kind)
            .map(|i| format!("d{}", i.id))
            .unwrap_or_else(|| format!("n{owner}"));
        let _ = writeln!(out, "  d{dev} -. \"{}\" .-> {far}", esc(&label));
        if path.is_some_and(|p| p.has_tunnel(ns, owner)) {
            hot.push(links);
        }
        links += 1;
    }
    if let Some(p) = path {
        if !hot.is_empty() {
            let list: Vec<String> = hot.iter().map(usize::to_string).collect();
            let _ = writeln!(
                out,
                "  linkStyle {} stroke:#d62728,stroke-width:3px",
                list.join(",")
            );
        }
        for ns in &p.nodes {
            let fill = if p.drops.contains(ns) {
                "#f8c0c0"
            } else {
                "#ffe9a8"
            };
            let _ = writeln!(out, "  style n{ns} fill:{fill}");
        }
        for d in &p.devices {
            let _ = writeln!(out, "  style d{d} stroke:#d62728,stroke-width:3px");
        }
    }
    out
}

/// What a frame is, without its MACs: `ARP, Request who-has ...`, `IPv4 a > b ...`.
fn frame_text(summary: &str) -> String {
    // The summary starts `src > dst, `; MACs never contain ", ".
    let s = summary.split_once(", ").map(|x| x.1).unwrap_or(summary);
    s.replace([';', '#'], ",")
}

fn note_text(s: &str) -> String {
    s.replace([';', '#'], ",")
}

/// A trace as a Mermaid sequence diagram.
pub fn sequence(trace: &Trace) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let mut parts: Vec<&str> = Vec::new();
    for h in &trace.hops {
        if !parts.contains(&h.node.as_str()) {
            parts.push(&h.node);
        }
    }
    let pid = |n: &str| parts.iter().position(|p| *p == n).unwrap_or(0);
    for (i, p) in parts.iter().enumerate() {
        let _ = writeln!(out, "  participant p{i} as {}", note_text(p));
    }
    for h in &trace.hops {
        let me = pid(&h.node);
        if let Cause::Frame { hop } = h.cause {
            let from = trace.hops.get(hop).map(|f| pid(&f.node)).unwrap_or(me);
            let what = h.steps.iter().find_map(|s| match s {
                Step::Receive { dev, frame } => {
                    Some(format!("{} (on {dev})", frame_text(&frame.summary())))
                }
                _ => None,
            });
            if let Some(what) = what {
                let _ = writeln!(out, "  p{from}->>p{me}: {what}");
            }
        }
        for s in &h.steps {
            let note = match s {
                Step::Originate { what } => Some(what.clone()),
                Step::Nat {
                    kind,
                    before,
                    after,
                } => Some(format!("{kind}: {before} becomes {after}")),
                Step::Encap { dev, outer, .. } => Some(format!("{dev} wraps it: {outer}")),
                Step::Decap { dev, .. } => Some(format!("{dev} unwraps it")),
                Step::Forward { ttl_in, ttl_out } => {
                    Some(format!("forward, TTL {ttl_in} to {ttl_out}"))
                }
                Step::IcmpSend { detail } => Some(detail.clone()),
                Step::SocketDeliver { detail } | Step::LocalDeliver { detail } => {
                    Some(detail.clone())
                }
                Step::Drop { reason, detail } => {
                    Some(format!("DROP {}: {detail}", reason.kernel_name()))
                }
                _ => None,
            };
            if let Some(n) = note {
                let _ = writeln!(out, "  Note over p{me}: {}", note_text(&n));
            }
        }
    }
    out
}
