//! A narrated walkthrough of a trace, for teaching: one step per decision in a plain
//! sentence, the table rows the decision used as the real tools print them (`ip route`,
//! `ip neigh`, `bridge fdb`, `iptables -S`), and the packet's headers with the fields that
//! changed highlighted. Everything comes from the trace's data: nothing is re-decided.
//!
//! [`walk`] builds the steps as data (the HTML report embeds them as JSON);
//! [`render_step`] and [`render_walk`] print them for a terminal.

use crate::render::headers::PacketView;
use crate::trace::{BridgeAction, Cause, Step, Trace};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Rows of a table as a command prints them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The command that prints such rows, e.g. `ip route`.
    pub command: String,
    /// The rows.
    pub rows: Vec<String>,
    /// Per row, whether it only passed the packet on (iptables rows: no match, a jump, a
    /// chain's end); the compact listing leaves those out.
    #[serde(skip)]
    pub passes_on: Vec<bool>,
}

/// One narrated step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WalkStep {
    /// The hop (0-based index into the trace's hops).
    pub hop: usize,
    /// The namespace (or switch) where it happens.
    pub node: String,
    /// The hop this one's frame came from, if a frame started it.
    pub from_hop: Option<usize>,
    /// The kernel stage, as [`Step::stage`] names it.
    pub stage: &'static str,
    /// Short label, as the text trace prints it (`route out`, `transmit`, `DROP`).
    pub label: &'static str,
    /// What happened, in a plain sentence.
    pub sentence: String,
    /// The table rows the decision used.
    pub table: Option<Table>,
    /// The packet, for the steps that carry one (receive, transmit), its changed fields
    /// marked against the copy that entered this hop.
    pub packet: Option<PacketView>,
    /// Whether the packet ends here.
    pub drop: bool,
}

/// The plain sentence for one step in namespace `node`.
pub fn sentence(node: &str, step: &Step) -> String {
    match step {
        Step::Originate { what } => format!("In {node}, {what}."),
        Step::Receive { dev, frame } => {
            format!("A frame arrives on {node}'s {dev}: {}.", frame.summary())
        }
        Step::BridgeLearn { bridge, mac, port } => {
            format!("The bridge {bridge} learns that {mac} is behind its port {port}.")
        }
        Step::Bridge { bridge, action } => match action {
            BridgeAction::Forward { port } => format!(
                "{bridge} knows where the destination MAC is: it forwards the frame to port {port} only."
            ),
            BridgeAction::Flood { ports } if ports.is_empty() => format!(
                "{bridge} would flood the frame (broadcast or unknown destination), but it has no other port."
            ),
            BridgeAction::Flood { ports } => format!(
                "{bridge} floods the frame (broadcast or unknown destination) to {}.",
                ports.join(", ")
            ),
            BridgeAction::Local => format!(
                "The frame is for {bridge} itself: it goes up to {node}'s IP stack."
            ),
            BridgeAction::Filtered => format!(
                "{bridge} knows the destination is behind the port the frame came from: it filters the frame."
            ),
        },
        Step::IpRcv { detail } => format!("{node}'s IP layer takes the packet in ({detail})."),
        Step::RouteInput { result, .. } => {
            format!("{node} looks the destination up in its routing tables: {result}.")
        }
        Step::RouteOutput { dst, result, .. } => match result.strip_prefix("refused: ") {
            Some(err) => {
                format!("{node} has no route to {dst}, so the kernel refuses to send: {err}.")
            }
            None => format!("{node} looks up the route to {dst}: {result}."),
        },
        Step::Forward { ttl_in, ttl_out } => format!(
            "{node} forwards the packet: the TTL goes from {ttl_in} to {ttl_out} and the header checksum is recomputed."
        ),
        Step::LocalDeliver { detail } => format!("The packet is for {node} itself: {detail}."),
        Step::Neigh {
            nexthop,
            dev,
            detail,
            ..
        } => format!("{node} needs the MAC address of {nexthop} on {dev}: {detail}."),
        Step::Arp { detail } => format!("ARP in {node}: {detail}."),
        Step::Transmit { dev, .. } => format!("{node} sends the frame out of {dev}."),
        Step::TransmitIp { dev, .. } => {
            format!("{node} hands the packet to {dev}, a layer-3 tunnel device.")
        }
        Step::ReceiveIp { dev, .. } => {
            format!("The unwrapped packet comes in on {node}'s {dev}.")
        }
        Step::Encap {
            dev,
            tunnel,
            outer,
            detail,
        } => format!("{dev} ({tunnel}) wraps the packet in an outer header, {outer}: {detail}."),
        Step::Decap {
            dev,
            tunnel,
            detail,
        } => format!("{dev} ({tunnel}) takes the outer header off: {detail}."),
        Step::IcmpSend { detail } => format!("{node} answers with an ICMP error: {detail}."),
        Step::SocketDeliver { detail } => format!("The packet reaches its socket in {node}: {detail}."),
        Step::Netfilter {
            hook,
            table,
            visits,
            verdict,
        } => {
            let rules = visits.rules();
            format!(
                "iptables in {node}: the {table} table at {hook} ({rules} rule{} evaluated): {verdict}.",
                if rules == 1 { "" } else { "s" }
            )
        }
        Step::NfLog { lines } => format!("The kernel logs: {}.", lines.join("; ")),
        Step::Conntrack { detail } => format!("Connection tracking in {node}: {detail}."),
        Step::Nat {
            kind,
            before,
            after,
        } => format!("{kind} rewrites the packet in {node}: {before} becomes {after}."),
        Step::Transport { detail } => format!("{node}'s transport layer: {detail}."),
        Step::Resolver { detail } => format!("The resolver in {node}: {detail}."),
        Step::Drop { reason, detail } => format!(
            "{node} drops the packet ({}): {detail}.",
            reason.kernel_name()
        ),
    }
    .replace(".:", ":")
    .replace("..", ".")
}

/// The neighbour state after a transition such as `none -> INCOMPLETE`.
fn state_after(state: &str) -> &str {
    state.rsplit("->").next().unwrap_or(state).trim()
}

/// The table rows a step used, as the real tools print them.
pub fn table(step: &Step) -> Option<Table> {
    match step {
        Step::RouteInput { route: Some(r), .. } | Step::RouteOutput { route: Some(r), .. } => {
            let r = r.to_string();
            let r = r.trim_end();
            let command = if r.contains("table local") {
                "ip route show table local"
            } else {
                "ip route"
            };
            Some(Table {
                passes_on: Vec::new(),
                command: command.into(),
                rows: vec![r.replace(" table local", "")],
            })
        }
        Step::Neigh {
            nexthop,
            dev,
            state,
            mac,
            ..
        } => {
            let state = state.to_string();
            let after = state_after(&state);
            if after == "none" {
                return None;
            }
            let row = match mac {
                Some(m) if after != "INCOMPLETE" && after != "FAILED" => {
                    format!("{nexthop} dev {dev} lladdr {m} {after}")
                }
                _ => format!("{nexthop} dev {dev} {after}"),
            };
            Some(Table {
                passes_on: Vec::new(),
                command: "ip neigh".into(),
                rows: vec![row],
            })
        }
        Step::BridgeLearn { bridge, mac, port } => Some(Table {
            passes_on: Vec::new(),
            command: "bridge fdb".into(),
            rows: vec![format!("{mac} dev {port} master {bridge}")],
        }),
        Step::Netfilter { table, visits, .. } if !visits.is_empty() => Some(Table {
            command: format!("iptables -t {table} -S  (* = matched)"),
            passes_on: visits.iter().map(|v| v.passes_on()).collect(),
            rows: visits
                .iter()
                .map(|v| {
                    format!(
                        "{} {}{}",
                        if v.matched { "*" } else { " " },
                        v.text,
                        v.effect
                            .as_ref()
                            .map(|e| format!("  => {e}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        }),
        Step::NfLog { lines } => Some(Table {
            passes_on: Vec::new(),
            command: "dmesg".into(),
            rows: lines.clone(),
        }),
        _ => None,
    }
}

/// The narrated steps of a whole trace.
pub fn walk(trace: &Trace) -> Vec<WalkStep> {
    // The copy of each packet (by namespace and identity) as it entered that namespace:
    // the copies it sends on, also later (a packet queued for ARP), are compared with it.
    let mut entered: BTreeMap<(String, (String, String)), PacketView> = BTreeMap::new();
    let mut out = Vec::new();
    for h in &trace.hops {
        for s in &h.steps {
            let packet = match s {
                Step::Receive { frame, .. } => Some(PacketView::of_frame(frame)),
                Step::ReceiveIp { packet, .. } => Some(PacketView::of_packet(packet)),
                Step::Transmit { frame, .. } => Some(PacketView::of_frame(frame)),
                Step::TransmitIp { packet, .. } => Some(PacketView::of_packet(packet)),
                _ => None,
            };
            let packet = packet.map(|mut v| {
                if let Some(id) = v.identity() {
                    let key = (h.node.to_string(), id);
                    match entered.get(&key) {
                        Some(e) => v.compare_with(e),
                        None if s.stage() == "receive" => {
                            entered.insert(key, v.clone());
                        }
                        None => {}
                    }
                }
                v
            });
            let (label, _) = crate::render::text::step_text(s);
            out.push(WalkStep {
                hop: h.index,
                node: h.node.to_string(),
                from_hop: match h.cause {
                    Cause::Frame { hop } => Some(hop),
                    _ => None,
                },
                stage: s.stage(),
                label,
                sentence: sentence(&h.node, s),
                table: table(s),
                packet,
                drop: matches!(s, Step::Drop { .. }),
            });
        }
    }
    out
}

/// How a walkthrough is printed.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkStyle {
    /// ANSI colours and bold (a terminal); plain text otherwise.
    pub color: bool,
    /// Shorter, for pages: of the iptables rules evaluated only those that matched and
    /// decided something (and how many others), and a new packet's summary without its
    /// fields.
    pub compact: bool,
}

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[1;31m";
const HIGHLIGHT: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

fn paint(s: &str, code: &str, style: WalkStyle) -> String {
    if style.color {
        format!("{code}{s}{RESET}")
    } else {
        s.to_string()
    }
}

/// One step as text: `n. sentence`, then the table rows and, for a transmitted packet,
/// its summary and either the fields that changed since it entered this namespace
/// (`changed: IPv4 ttl: 64 -> 63`, highlighted in colour on a terminal) or, for a packet
/// made here, its headers layer by layer. A hop's first step is preceded by a heading.
pub fn render_step(steps: &[WalkStep], i: usize, style: WalkStyle) -> String {
    let mut out = String::new();
    let Some(s) = steps.get(i) else {
        return out;
    };
    if i == 0 || steps[i - 1].hop != s.hop {
        let from = s
            .from_hop
            .map(|f| format!(", frame from hop {}", f + 1))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!("== hop {} in {}{from} ==", s.hop + 1, s.node),
                BOLD,
                style
            )
        );
    }
    let sentence = if s.drop {
        paint(&s.sentence, RED, style)
    } else {
        s.sentence.clone()
    };
    let _ = writeln!(out, "{:>3}. {sentence}", i + 1);
    if let Some(t) = &s.table {
        let _ = writeln!(
            out,
            "       {}",
            paint(&format!("$ {}", t.command), DIM, style)
        );
        // Compact: only the rules that decided something (not the jumps and returns).
        let skip = |i: usize| style.compact && t.passes_on.get(i).copied().unwrap_or(false);
        for (_, r) in t.rows.iter().enumerate().filter(|(i, _)| !skip(*i)) {
            let _ = writeln!(out, "       {r}");
        }
        let skipped = (0..t.rows.len()).filter(|i| skip(*i)).count();
        if skipped > 0 {
            let _ = writeln!(
                out,
                "       ({skipped} more rule{}: no match, or a jump or return)",
                if skipped == 1 { "" } else { "s" }
            );
        }
    }
    // Compact: a frame sent on as it came in (a bridge's copies) needs no second look.
    let seen_in_hop = steps[..i]
        .iter()
        .rev()
        .take_while(|x| x.hop == s.hop)
        .any(|x| x.packet.as_ref().map(|p| &p.hex) == s.packet.as_ref().map(|p| &p.hex));
    if let (Some(p), "transmit", false) = (&s.packet, s.stage, style.compact && seen_in_hop) {
        let _ = writeln!(out, "       {}", paint(&p.summary, DIM, style));
        if p.compared {
            let changes = p.changes();
            if changes.is_empty() {
                let _ = writeln!(out, "       headers unchanged");
            }
            for c in changes {
                let _ = writeln!(
                    out,
                    "       {}",
                    paint(&format!("changed: {c}"), HIGHLIGHT, style)
                );
            }
        } else if !style.compact {
            let mut layer = "";
            let mut line = String::new();
            for f in &p.fields {
                if f.layer != layer {
                    if !line.is_empty() {
                        let _ = writeln!(out, "{line}");
                    }
                    layer = &f.layer;
                    line = format!("       {:<16}", f.layer);
                }
                let _ = write!(line, " {}={}", f.name, f.value);
            }
            if !line.is_empty() {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// A whole walkthrough as text.
pub fn render_walk(steps: &[WalkStep], style: WalkStyle) -> String {
    (0..steps.len())
        .map(|i| render_step(steps, i, style))
        .collect()
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::netfilter::eval::RuleVisit;
    use crate::trace::DropReason;
    use crate::wire::Mac;

    fn say(s: Step) -> String {
        sentence("blue", &s)
    }

    #[test]
    fn no_route_says_the_kernel_refuses() {
        assert_eq!(
            say(Step::RouteOutput {
                dst: "192.168.1.3".parse().unwrap(),
                route: None,
                result: "refused: Network is unreachable".into()
            }),
            "blue has no route to 192.168.1.3, so the kernel refuses to send: Network is unreachable."
        );
        assert_eq!(
            say(Step::Drop {
                reason: DropReason::IpOutnoroutes,
                detail: "connect: Network is unreachable".into()
            }),
            "blue drops the packet (IP_OUTNOROUTES): connect: Network is unreachable."
        );
    }

    #[test]
    fn routing_forwarding_and_delivery() {
        assert_eq!(
            say(Step::RouteOutput {
                dst: "192.168.15.1".parse().unwrap(),
                route: Some("192.168.15.0/24 dev veth-blue proto kernel scope link src 192.168.15.2".into()),
                result: "192.168.15.1 directly on veth-blue, source 192.168.15.2".into()
            }),
            "blue looks up the route to 192.168.15.1: 192.168.15.1 directly on veth-blue, source 192.168.15.2."
        );
        assert_eq!(
            say(Step::RouteInput {
                result: "192.168.15.2 is local: deliver to this namespace".into(),
                route: None
            }),
            "blue looks the destination up in its routing tables: 192.168.15.2 is local: deliver to this namespace."
        );
        assert_eq!(
            say(Step::Forward { ttl_in: 64, ttl_out: 63 }),
            "blue forwards the packet: the TTL goes from 64 to 63 and the header checksum is recomputed."
        );
        assert_eq!(
            say(Step::LocalDeliver {
                detail: "ICMP echo request id 1 seq 1: the kernel answers with an echo reply".into()
            }),
            "The packet is for blue itself: ICMP echo request id 1 seq 1: the kernel answers with an echo reply."
        );
        assert_eq!(
            say(Step::SocketDeliver {
                detail: "echo reply seq 1 from 192.168.15.1 for ping (id 1)".into()
            }),
            "The packet reaches its socket in blue: echo reply seq 1 from 192.168.15.1 for ping (id 1)."
        );
        assert_eq!(
            say(Step::IcmpSend {
                detail: "time exceeded to 10.0.0.1".into()
            }),
            "blue answers with an ICMP error: time exceeded to 10.0.0.1."
        );
    }

    #[test]
    fn bridges_learn_forward_flood_and_pass_up() {
        let mac: Mac = "72:ab:57:5c:70:b0".parse().unwrap();
        assert_eq!(
            say(Step::BridgeLearn {
                bridge: "v-net-0".into(),
                mac,
                port: "veth-blue-br".into()
            }),
            "The bridge v-net-0 learns that 72:ab:57:5c:70:b0 is behind its port veth-blue-br."
        );
        let bridge = |action| Step::Bridge {
            bridge: "v-net-0".into(),
            action,
        };
        assert!(
            say(bridge(BridgeAction::Forward { port: "p1".into() })).contains("to port p1 only")
        );
        assert!(say(bridge(BridgeAction::Flood {
            ports: vec!["p1".into(), "p2".into()]
        }))
        .ends_with("floods the frame (broadcast or unknown destination) to p1, p2."));
        assert!(say(bridge(BridgeAction::Flood { ports: vec![] })).contains("no other port"));
        assert!(say(bridge(BridgeAction::Local)).contains("up to blue's IP stack"));
        assert!(say(bridge(BridgeAction::Filtered)).contains("filters the frame"));
        let t = table(&Step::BridgeLearn {
            bridge: "v-net-0".into(),
            mac,
            port: "veth-blue-br".into(),
        })
        .unwrap();
        assert_eq!(
            t.rows,
            ["72:ab:57:5c:70:b0 dev veth-blue-br master v-net-0"]
        );
    }

    #[test]
    fn neighbours_show_as_ip_neigh_rows() {
        let step = |state: &str, mac: Option<Mac>| Step::Neigh {
            nexthop: "192.168.15.2".parse().unwrap(),
            dev: "veth-red".into(),
            state: state.to_string().into(),
            mac,
            detail: "no MAC for 192.168.15.2: packet queued, ARP request broadcast".into(),
        };
        assert_eq!(
            say(step("none -> INCOMPLETE", None)),
            "blue needs the MAC address of 192.168.15.2 on veth-red: no MAC for 192.168.15.2: packet queued, ARP request broadcast."
        );
        assert_eq!(
            table(&step("none -> INCOMPLETE", None)).unwrap().rows,
            ["192.168.15.2 dev veth-red INCOMPLETE"]
        );
        let mac = Some("72:ab:57:5c:70:b0".parse().unwrap());
        let t = table(&step("INCOMPLETE -> REACHABLE", mac)).unwrap();
        assert_eq!(
            (t.command.as_str(), t.rows),
            (
                "ip neigh",
                vec!["192.168.15.2 dev veth-red lladdr 72:ab:57:5c:70:b0 REACHABLE".to_string()]
            )
        );
    }

    #[test]
    fn arp_tunnels_and_transport() {
        assert_eq!(
            say(Step::Arp {
                detail: "who-has 10.0.0.1 tell 10.0.0.2: not one of our addresses, ignored".into()
            }),
            "ARP in blue: who-has 10.0.0.1 tell 10.0.0.2: not one of our addresses, ignored."
        );
        assert_eq!(
            say(Step::Encap {
                dev: "tunl0".into(),
                tunnel: "ipip".into(),
                outer: "IPv4 192.168.10.101 > 192.168.10.102 ttl 63".into(),
                detail: "destination: the route's gateway".into()
            }),
            "tunl0 (ipip) wraps the packet in an outer header, IPv4 192.168.10.101 > 192.168.10.102 ttl 63: destination: the route's gateway."
        );
        assert_eq!(
            say(Step::Decap {
                dev: "tunl0".into(),
                tunnel: "ipip".into(),
                detail: "tunl0 takes any ipip packet".into()
            }),
            "tunl0 (ipip) takes the outer header off: tunl0 takes any ipip packet."
        );
        assert_eq!(
            say(Step::Transport {
                detail: "SYN to 80: a listener accepts".into()
            }),
            "blue's transport layer: SYN to 80: a listener accepts."
        );
        assert_eq!(
            say(Step::Conntrack {
                detail: "new connection tcp 1.1.1.1:1 -> 2.2.2.2:80".into()
            }),
            "Connection tracking in blue: new connection tcp 1.1.1.1:1 -> 2.2.2.2:80."
        );
        assert_eq!(
            say(Step::Originate {
                what: "ping sends ICMP echo request id 1 seq 1 to 10.0.0.1".into()
            }),
            "In blue, ping sends ICMP echo request id 1 seq 1 to 10.0.0.1."
        );
    }

    #[test]
    fn nat_and_iptables() {
        assert_eq!(
            say(Step::Nat {
                kind: "MASQUERADE",
                before: "192.168.15.2 -> 192.168.1.3".into(),
                after: "192.168.1.2 -> 192.168.1.3".into()
            }),
            "MASQUERADE rewrites the packet in blue: 192.168.15.2 -> 192.168.1.3 becomes 192.168.1.2 -> 192.168.1.3."
        );
        let step = Step::Netfilter {
            hook: "POSTROUTING",
            table: "nat",
            visits: vec![RuleVisit {
                chain: "POSTROUTING".into(),
                num: 1,
                kind: "rule",
                text: "-A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE".into(),
                matched: true,
                effect: Some("MASQUERADE to 192.168.1.2".into()),
            }]
            .into(),
            verdict: "ACCEPT".into(),
        };
        assert_eq!(
            say(step.clone()),
            "iptables in blue: the nat table at POSTROUTING (1 rule evaluated): ACCEPT."
        );
        assert_eq!(
            table(&step).unwrap().rows,
            ["* -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE  => MASQUERADE to 192.168.1.2"]
        );
        assert_eq!(
            say(Step::NfLog {
                lines: vec!["TRACE: nat:PREROUTING:rule:2".into()]
            }),
            "The kernel logs: TRACE: nat:PREROUTING:rule:2."
        );
    }
}
