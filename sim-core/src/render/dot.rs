//! The topology as a Graphviz DOT graph, built with petgraph; optionally with a traced
//! path highlighted (visited namespaces filled, the wires and tunnels it used in red).

use crate::model::{HostKind, IfKind, World};
use crate::render::path::TracePath;
use petgraph::graph::{NodeIndex, UnGraph};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Attributes of an edge the traced path used.
const HOT: &str = ", color=\"#d62728\", penwidth=3";

/// DOT text: one cluster per machine, one node per namespace, edges for veths and cables
/// labelled with device names; bridges drawn inside their namespace.
pub fn to_dot(world: &World) -> String {
    to_dot_with_path(world, None)
}

/// DOT text as [`to_dot`], with the path of a trace highlighted.
pub fn to_dot_with_path(world: &World, path: Option<&TracePath>) -> String {
    let mut g: UnGraph<String, (String, usize, usize)> = UnGraph::new_undirected();
    let mut ns_node: BTreeMap<usize, NodeIndex> = BTreeMap::new();
    for (id, n) in world.live_netns() {
        ns_node.insert(id, g.add_node(n.name.to_string()));
    }
    let mut done = std::collections::BTreeSet::new();
    for i in world.live_ifaces() {
        let Some(peer) = i.wire_peer() else { continue };
        let Some(p) = world.iface(peer) else { continue };
        let key = (i.id.min(peer), i.id.max(peer));
        if !done.insert(key) {
            continue;
        }
        let label = format!("{} -- {}", i.name, p.name);
        if let (Some(a), Some(b)) = (ns_node.get(&i.ns), ns_node.get(&p.ns)) {
            g.add_edge(*a, *b, (label, i.id, peer));
        }
    }
    let tunnels: std::collections::BTreeSet<(usize, usize, String)> = tunnel_ends(world)
        .into_iter()
        .filter_map(|(dev, o, label)| world.iface(dev).map(|i| (i.ns, o, label)))
        .collect();
    let mut out = String::from("graph hopsim {\n  node [shape=box, style=rounded];\n");
    for (hid, h) in world.hosts.iter().enumerate() {
        let _ = writeln!(out, "  subgraph \"cluster_{}\" {{", h.name);
        let _ = writeln!(
            out,
            "    label=\"{}{}\";",
            h.name,
            if h.kind == HostKind::Switch {
                " (switch)"
            } else {
                ""
            }
        );
        for (id, n) in world.live_netns().filter(|(_, n)| n.host == hid) {
            let mut label = n.name.to_string();
            for i in world.ns_ifaces(id) {
                if i.is_loopback() {
                    continue;
                }
                let addrs: Vec<String> = i.addrs.iter().map(|a| a.net.to_string()).collect();
                let kind = super::kind_suffix(&i.kind);
                let _ = write!(
                    label,
                    "\\n{}{}{}",
                    i.name,
                    kind,
                    if addrs.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", addrs.join(" "))
                    }
                );
            }
            if let Some(ix) = ns_node.get(&id) {
                let style = match path {
                    Some(p) if p.drops.contains(&id) => {
                        ", style=\"rounded,filled\", fillcolor=\"#f8c0c0\""
                    }
                    Some(p) if p.nodes.contains(&id) => {
                        ", style=\"rounded,filled\", fillcolor=\"#ffe9a8\""
                    }
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "    n{} [label=\"{}\"{style}];",
                    ix.index(),
                    label.replace('"', "'")
                );
            }
        }
        out.push_str("  }\n");
    }
    for e in g.edge_indices() {
        if let Some((a, b)) = g.edge_endpoints(e) {
            let (label, x, y) = &g[e];
            let hot = path.is_some_and(|p| p.has_wire(*x, *y));
            let _ = writeln!(
                out,
                "  n{} -- n{} [label=\"{}\"{}];",
                a.index(),
                b.index(),
                label,
                if hot { HOT } else { "" }
            );
        }
    }
    for (a, b, label) in &tunnels {
        if let (Some(x), Some(y)) = (ns_node.get(a), ns_node.get(b)) {
            let hot = path.is_some_and(|p| p.has_tunnel(*a, *b));
            let _ = writeln!(
                out,
                "  n{} -- n{} [label=\"{}\", style=dashed{}];",
                x.index(),
                y.index(),
                label.replace('"', "'"),
                if hot { HOT } else { "" }
            );
        }
    }
    out.push_str("}\n");
    out
}

/// Tunnels: each tunnel device with every namespace it sends to (VXLAN FDB remotes, ipip
/// remotes and the gateways of routes through an ipip device) and its label
/// (`flannel.1 vxlan 1`, `tunl0 ipip`).
pub(crate) fn tunnel_ends(
    world: &World,
) -> std::collections::BTreeSet<(crate::model::IfId, crate::model::NsId, String)> {
    let owner = |ip: std::net::Ipv4Addr| {
        world
            .live_netns()
            .find(|(id, _)| world.is_local_addr(*id, ip))
            .map(|(id, _)| id)
    };
    let mut tunnels = std::collections::BTreeSet::new();
    for i in world.live_ifaces() {
        let (ends, label): (Vec<std::net::Ipv4Addr>, String) = match &i.kind {
            IfKind::Vxlan(v) => (
                v.fdb.iter().map(|e| e.dst).collect(),
                format!("{} vxlan {}", i.name, v.vni),
            ),
            IfKind::Ipip(t) => {
                let mut ends: Vec<std::net::Ipv4Addr> = t.remote.into_iter().collect();
                ends.extend(
                    world.netns[i.ns]
                        .routes
                        .iter()
                        .filter(|r| r.dev == Some(i.id))
                        .filter_map(|r| r.gateway),
                );
                (ends, format!("{} ipip", i.name))
            }
            _ => continue,
        };
        for e in ends {
            if let Some(o) = owner(e).filter(|o| *o != i.ns) {
                tunnels.insert((i.id, o, label.clone()));
            }
        }
    }
    tunnels
}
