//! Traces as text for people: one block per hop, one line per step, each saying what
//! the kernel decided and why. `bytes` adds a hex dump of every frame.

use crate::trace::{BridgeAction, Cause, Hop, Step, Trace};
use std::fmt::Write;

/// Options for the text renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// Print every frame's bytes as hex.
    pub bytes: bool,
}

fn time(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{}.{:06}s", us / 1_000_000, us % 1_000_000)
    } else {
        format!("{us}us")
    }
}

fn cause(h: &Hop) -> String {
    match h.cause {
        Cause::Program => "program".into(),
        Cause::Frame { hop } => format!("from hop {}", hop + 1),
        Cause::Timer { hop } => format!("timer armed in hop {}", hop + 1),
    }
}

fn byte_lines(out: &mut String, bytes: &[u8], opts: TextOptions) {
    if opts.bytes {
        for line in crate::wire::hexdump(bytes).lines() {
            let _ = writeln!(out, "                 {line}");
        }
    }
}

/// One step as `(label, text)`.
pub fn step_text(s: &Step) -> (&'static str, String) {
    match s {
        Step::Originate { what } => ("socket", what.clone()),
        Step::Receive { dev, frame } => (
            "receive",
            format!("on {dev}: {} ({} bytes)", frame.summary(), frame.len()),
        ),
        Step::BridgeLearn { bridge, mac, port } => {
            ("bridge", format!("{bridge} learns {mac} is behind {port}"))
        }
        Step::Bridge { bridge, action } => (
            "bridge",
            match action {
                BridgeAction::Forward { port } => {
                    format!("{bridge}: destination known, forward to {port}")
                }
                BridgeAction::Flood { ports } if ports.is_empty() => {
                    format!("{bridge}: flood, but no other port")
                }
                BridgeAction::Flood { ports } => format!("{bridge}: flood to {}", ports.join(", ")),
                BridgeAction::Local => {
                    format!("{bridge}: for the bridge device itself, pass up to {bridge}")
                }
                BridgeAction::Filtered => {
                    format!("{bridge}: destination is behind the ingress port, filtered")
                }
            },
        ),
        Step::IpRcv { detail } => ("ip_rcv", detail.to_string()),
        Step::RouteInput { result, route } => (
            "route in",
            match route {
                Some(r) => format!("{result}  [{}]", r.to_string().trim_end()),
                None => result.clone(),
            },
        ),
        Step::RouteOutput { result, route, .. } => (
            "route out",
            match route {
                Some(r) => format!("{result}  [{}]", r.to_string().trim_end()),
                None => result.clone(),
            },
        ),
        Step::Forward { ttl_in, ttl_out } => (
            "forward",
            format!("ip_forward: TTL {ttl_in} -> {ttl_out}, checksum updated"),
        ),
        Step::LocalDeliver { detail } => ("deliver", detail.clone()),
        Step::Neigh { state, detail, .. } => ("neighbour", format!("{detail}  [{state}]")),
        Step::Arp { detail } => ("arp", detail.to_string()),
        Step::Transmit { dev, frame } => (
            "transmit",
            format!("on {dev}: {} ({} bytes)", frame.summary(), frame.len()),
        ),
        Step::TransmitIp { dev, packet } => (
            "transmit",
            format!("on {dev}: {} ({} bytes)", packet.summary(), packet.len()),
        ),
        Step::ReceiveIp { dev, packet } => (
            "receive",
            format!("on {dev}: {} ({} bytes)", packet.summary(), packet.len()),
        ),
        Step::Encap {
            dev,
            tunnel,
            outer,
            detail,
        } => (
            "encap",
            format!("{dev} ({tunnel}) wraps it: {outer}; {detail}"),
        ),
        Step::Decap {
            dev,
            tunnel,
            detail,
        } => ("decap", format!("{dev} ({tunnel}) unwraps it: {detail}")),
        Step::IcmpSend { detail } => ("icmp", detail.clone()),
        Step::SocketDeliver { detail } => ("socket", detail.clone()),
        Step::Netfilter {
            hook,
            table,
            visits,
            verdict,
        } => {
            let rules = visits.rules();
            let mut s = format!(
                "{table} {hook}: {verdict} ({rules} rule{} evaluated)",
                if rules == 1 { "" } else { "s" }
            );
            for v in visits.iter() {
                s.push_str(&format!(
                    "\n               {} {}:{} {}{}",
                    if v.matched { "*" } else { " " },
                    v.chain,
                    v.num,
                    v.text,
                    v.effect
                        .as_ref()
                        .map(|e| format!("  => {e}"))
                        .unwrap_or_default()
                ));
            }
            ("iptables", s)
        }
        Step::NfLog { lines } => ("nf log", lines.join("\n               ")),
        Step::Conntrack { detail } => ("conntrack", detail.to_string()),
        Step::Nat {
            kind,
            before,
            after,
        } => ("nat", format!("{kind}: {before}  ->  {after}")),
        Step::Transport { detail } => ("transport", detail.clone()),
        Step::Resolver { detail } => ("resolver", detail.clone()),
        Step::Drop { reason, detail } => ("DROP", format!("{}: {detail}", reason.kernel_name())),
    }
}

/// Render a whole trace.
pub fn render_trace(trace: &Trace, opts: TextOptions) -> String {
    let mut out = String::new();
    for h in &trace.hops {
        let _ = writeln!(
            out,
            "hop {} {} [{}, t={}]",
            h.index + 1,
            h.node,
            cause(h),
            time(h.time_us)
        );
        for s in &h.steps {
            let (label, text) = step_text(s);
            let _ = writeln!(out, "  {label:<10} {text}");
            match s {
                Step::Receive { frame, .. } | Step::Transmit { frame, .. } => {
                    byte_lines(&mut out, frame.bytes(), opts)
                }
                Step::ReceiveIp { packet, .. } | Step::TransmitIp { packet, .. } => {
                    byte_lines(&mut out, packet.bytes(), opts)
                }
                _ => {}
            }
        }
    }
    out
}
