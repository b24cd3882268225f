//! The HTML trace report: one self-contained file (inline CSS and JavaScript, the data
//! embedded as JSON, the topology as an inline SVG laid out here; no request to any
//! server) in which a reader steps through a trace hop by hop: the topology with the path
//! animated, the narrated steps, each packet's headers with the changed fields
//! highlighted, its bytes in hex coloured by layer, and the iptables rules met.
//!
//! The page has test hooks: `#step=N` in the URL opens hop N, `&keys=ArrowRight,...`
//! presses keys after loading, `&click=N` clicks hop N in the list; every console error
//! and uncaught exception is written into `#console-errors` (its `data-count`
//! attribute counts them), which the browser test reads.

use crate::model::{HostKind, NsId, World};
use crate::render::dot::tunnel_ends;
use crate::render::path::trace_path;
use crate::render::walk::{walk, WalkStep};
use crate::teach::ProbeRun;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

const CSS: &str = include_str!("report/report.css");
const JS: &str = include_str!("report/report.js");
const COLLECTOR: &str = include_str!("report/collector.js");

/// One hop as the page lists it.
#[derive(Serialize)]
struct HopDoc<'a> {
    index: usize,
    node: &'a str,
    from_hop: Option<usize>,
    time_us: u64,
}

/// The JSON the page reads.
#[derive(Serialize)]
struct ReportDoc<'a> {
    hopsim: &'static str,
    title: &'a str,
    file: &'a str,
    command: &'a str,
    output: &'a [String],
    exit: i32,
    hops: Vec<HopDoc<'a>>,
    steps: Vec<WalkStep>,
    /// Namespace name -> index of its box in the SVG.
    nodes: BTreeMap<String, usize>,
}

/// HTML-escape text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Box sizes of the drawing.
const NS_W: i64 = 200;
const LINE_H: i64 = 14;
const GAP: i64 = 24;
const COLS: usize = 4;

struct NsBox {
    x: i64,
    y: i64,
    h: i64,
}

/// The topology as SVG: machines as boxes in a grid (four per row), their namespaces
/// stacked inside with their devices and addresses, wires as lines between namespaces,
/// tunnels dashed. Namespace boxes are `#ns-K`, edges carry `data-a`/`data-b` with the
/// namespaces' indices.
fn topology_svg(world: &World, order: &BTreeMap<String, usize>) -> String {
    let mut boxes: BTreeMap<NsId, NsBox> = BTreeMap::new();
    let mut host_boxes = Vec::new();
    let (mut x, mut y, mut row_h) = (GAP, GAP, 0i64);
    for (hid, h) in world.hosts.iter().enumerate() {
        if hid > 0 && hid % COLS == 0 {
            x = GAP;
            y += row_h + GAP;
            row_h = 0;
        }
        let mut ny = y + 22;
        for (id, _) in world.live_netns().filter(|(_, n)| n.host == hid) {
            let lines = world
                .ns_ifaces(id)
                .iter()
                .filter(|i| !i.is_loopback())
                .count()
                .max(1) as i64;
            let bh = 24 + lines * LINE_H;
            boxes.insert(
                id,
                NsBox {
                    x: x + 10,
                    y: ny,
                    h: bh,
                },
            );
            ny += bh + 10;
        }
        let hh = ny - y;
        host_boxes.push((hid, x, y, hh, h));
        row_h = row_h.max(hh);
        x += NS_W + 20 + GAP;
    }
    let width = (world.hosts.len().min(COLS) as i64) * (NS_W + 20 + GAP) + GAP;
    let height = y + row_h + GAP;
    let mut s = format!(
        "<svg id=\"topology\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\n"
    );
    for (_, hx, hy, hh, h) in &host_boxes {
        let _ = writeln!(
            s,
            "<g class=\"host\"><rect x=\"{hx}\" y=\"{hy}\" width=\"{}\" height=\"{hh}\" rx=\"8\"/><text x=\"{}\" y=\"{}\">{}{}</text></g>",
            NS_W + 20,
            hx + 8,
            hy + 15,
            esc(&h.name),
            if h.kind == HostKind::Switch { " (switch)" } else { "" }
        );
    }
    let center = |b: &NsBox| (b.x + NS_W / 2, b.y + b.h / 2);
    let idx = |ns: NsId| {
        order
            .get(world.netns[ns].name.as_str())
            .copied()
            .unwrap_or(0)
    };
    let mut done = std::collections::BTreeSet::new();
    let mut edges = String::new();
    for i in world.live_ifaces() {
        let Some(p) = i.wire_peer().and_then(|p| world.iface(p)) else {
            continue;
        };
        if i.ns == p.ns || !done.insert((i.ns.min(p.ns), i.ns.max(p.ns))) {
            continue;
        }
        if let (Some(a), Some(b)) = (boxes.get(&i.ns), boxes.get(&p.ns)) {
            let ((x1, y1), (x2, y2)) = (center(a), center(b));
            let _ = writeln!(
                edges,
                "<line class=\"edge\" data-a=\"{}\" data-b=\"{}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"><title>{} -- {}</title></line>",
                idx(i.ns),
                idx(p.ns),
                esc(&i.name),
                esc(&p.name)
            );
        }
    }
    for (dev, owner, label) in tunnel_ends(world) {
        let Some(ns) = world.iface(dev).map(|i| i.ns) else {
            continue;
        };
        if let (Some(a), Some(b)) = (boxes.get(&ns), boxes.get(&owner)) {
            let ((x1, y1), (x2, y2)) = (center(a), center(b));
            let _ = writeln!(
                edges,
                "<line class=\"edge tunnel\" data-a=\"{}\" data-b=\"{}\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"><title>{}</title></line>",
                idx(ns),
                idx(owner),
                esc(&label)
            );
        }
    }
    s.push_str(&edges);
    for (id, b) in &boxes {
        let n = &world.netns[*id];
        let _ = write!(
            s,
            "<g class=\"ns\" id=\"ns-{}\" data-ns=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{NS_W}\" height=\"{}\" rx=\"6\"/><text class=\"nsname\" x=\"{}\" y=\"{}\">{}</text>",
            idx(*id),
            esc(&n.name),
            b.x,
            b.y,
            b.h,
            b.x + 8,
            b.y + 16,
            esc(&n.name)
        );
        let mut ty = b.y + 16 + LINE_H;
        for i in world.ns_ifaces(*id).iter().filter(|i| !i.is_loopback()) {
            let addrs: Vec<String> = i.addrs.iter().map(|a| a.net.to_string()).collect();
            let _ = write!(
                s,
                "<text class=\"dev\" x=\"{}\" y=\"{ty}\">{} {}</text>",
                b.x + 12,
                esc(&i.name),
                esc(&addrs.join(" "))
            );
            ty += LINE_H;
        }
        s.push_str("</g>\n");
    }
    s.push_str("<circle id=\"packet\" r=\"7\" cx=\"-20\" cy=\"-20\"/>\n</svg>");
    s
}

/// The report page for a probe's run in `world` (the world before the run).
pub fn report(world: &World, run: &ProbeRun, title: &str, file: &str) -> String {
    let path = trace_path(world, &run.trace);
    let mut nodes = BTreeMap::new();
    // Visited namespaces first, in visiting order, then the others.
    for ns in path
        .nodes
        .iter()
        .copied()
        .chain(world.live_netns().map(|(id, _)| id))
    {
        let next = nodes.len();
        nodes
            .entry(world.netns[ns].name.to_string())
            .or_insert(next);
    }
    let doc = ReportDoc {
        hopsim: env!("CARGO_PKG_VERSION"),
        title,
        file,
        command: &run.command,
        output: &run.lines,
        exit: run.exit,
        hops: run
            .trace
            .hops
            .iter()
            .map(|h| HopDoc {
                index: h.index,
                node: &h.node,
                from_hop: match h.cause {
                    crate::trace::Cause::Frame { hop } => Some(hop),
                    _ => None,
                },
                time_us: h.time_us,
            })
            .collect(),
        steps: walk(&run.trace),
        nodes: nodes.clone(),
    };
    let json = serde_json::to_string(&doc)
        .unwrap_or_else(|_| "{}".into())
        // Inside <script>, "</" would end the element.
        .replace("</", "<\\/");
    let svg = topology_svg(world, &nodes);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<script>\n{COLLECTOR}</script>\n<style>\n{CSS}</style>\n</head>\n<body>\n<header><h1>{t}</h1><p class=\"file\">{f}</p><p class=\"keys\">Keys: &rarr; / &larr; next and previous hop, Home / End first and last. Click a hop or a namespace.</p></header>\n<main>\n<div id=\"left\">\n<div id=\"drawing\">{svg}</div>\n<ol id=\"hops\"></ol>\n<pre id=\"output\"></pre>\n</div>\n<div id=\"right\">\n<section id=\"hop\"></section>\n<section id=\"headers\" data-hop=\"\"></section>\n<section id=\"rules\"></section>\n</div>\n</main>\n<pre id=\"console-errors\" data-count=\"0\"></pre>\n<script type=\"application/json\" id=\"data\">{json}</script>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        t = esc(title),
        f = esc(file),
    )
}
