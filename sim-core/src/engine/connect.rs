//! The `nc -zv` program (OpenBSD netcat): connect to a port and report, with netcat's
//! words and exit status. TCP: SYN (retransmitted after 1 s and 3 s), then the answer decides;
//! the connection is closed at once (`-z`). UDP: one datagram; success unless an ICMP error
//! comes back.

use super::{ip_output, l4, Event, Layout, Sim};
use crate::model::{L4Proto, NsId, World};
use crate::trace::{Cause, DropReason, Step, Trace};
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr, QuotedDatagram, TcpFlags, UdpRepr};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Options of `nc -zv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectOptions {
    /// TCP or UDP (`-u`).
    pub proto: L4Proto,
    /// `-w`: seconds to wait for the connection.
    pub wait_s: u32,
    /// `-p`: source port (an ephemeral one otherwise).
    pub sport: Option<u16>,
    /// Seed of the `-m statistic --mode random` draws.
    pub seed: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            proto: L4Proto::Tcp,
            wait_s: 1,
            sport: None,
            seed: 0,
        }
    }
}

/// How the attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// The handshake completed (TCP) or no error came back (UDP).
    Connected,
    /// A reset (or ICMP port unreachable).
    Refused,
    /// An ICMP error, as the errno text it becomes.
    Error {
        /// strerror.
        errno: String,
        /// Who sent it.
        from: Ipv4Addr,
    },
    /// Nothing came back in time.
    TimedOut,
}

/// The result of running `nc -zv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnectRun {
    /// What netcat prints.
    pub lines: Vec<String>,
    /// Its exit status (0 success, 1 failure).
    pub exit: i32,
    /// How it ended.
    pub outcome: Outcome,
    /// The source address and port used.
    pub source: (Ipv4Addr, u16),
    /// The trace.
    pub trace: Trace,
    /// The world afterwards (conntrack entries, neighbour caches).
    #[serde(skip)]
    pub world: World,
    /// The address the server saw the connection come from (after any NAT), if it got there.
    pub seen_from: Option<(Ipv4Addr, u16)>,
    /// The address and port the connection reached (after any DNAT), if it got there.
    pub reached: Option<(Ipv4Addr, u16)>,
    /// iptables rules evaluated during the run.
    pub rules_evaluated: usize,
}

/// The connect program's state while the simulation runs.
#[derive(Clone, Debug)]
pub(crate) struct ConnectState {
    pub ns: NsId,
    pub src: (Ipv4Addr, u16),
    pub dst: (Ipv4Addr, u16),
    pub proto: L4Proto,
    pub outcome: Option<Outcome>,
    pub iss: u32,
    pub seen_from: Option<(Ipv4Addr, u16)>,
    pub reached: Option<(Ipv4Addr, u16)>,
    /// When the program got its answer (and exited).
    pub decided_at: Option<u64>,
}

/// A port's service name, as netcat prints it (`[tcp/http-alt]`), from the usual
/// /etc/services entries.
pub fn service_name(proto: L4Proto, port: u16) -> &'static str {
    let tcp = proto == L4Proto::Tcp;
    match (port, tcp) {
        (21, true) => "ftp",
        (22, _) => "ssh",
        (23, true) => "telnet",
        (25, true) => "smtp",
        (53, _) => "domain",
        (67, false) => "bootps",
        (68, false) => "bootpc",
        (80, true) => "http",
        (110, true) => "pop3",
        (123, false) => "ntp",
        (143, true) => "imap2",
        (161, _) => "snmp",
        (179, true) => "bgp",
        (443, _) => "https",
        (514, true) => "shell",
        (514, false) => "syslog",
        (853, _) => "domain-s",
        (3306, true) => "mysql",
        (5432, true) => "postgresql",
        (6379, true) => "redis",
        (8080, true) => "http-alt",
        _ => "*",
    }
}

/// An ephemeral port, deterministic per flow.
fn ephemeral(ns: &str, dst: (Ipv4Addr, u16)) -> u16 {
    l4::ephemeral_port(&format!("{ns}->{}:{}", dst.0, dst.1))
}

/// Run `nc -zv [-u] [-w S] DST PORT` in namespace `ns` on a copy of the world.
pub fn connect(
    world: World,
    ns: NsId,
    dst: Ipv4Addr,
    port: u16,
    opts: &ConnectOptions,
) -> ConnectRun {
    let chance = Box::new(crate::netfilter::eval::SeededChance::new(opts.seed));
    connect_with(world, ns, dst, port, opts, chance)
}

/// [`connect`] with the statistic draws given (to enumerate every branch).
pub fn connect_with(
    world: World,
    ns: NsId,
    dst: Ipv4Addr,
    port: u16,
    opts: &ConnectOptions,
    chance: Box<dyn crate::netfilter::eval::Chance>,
) -> ConnectRun {
    connect_sim(Sim::new(world).with_chance(chance), ns, dst, port, opts)
}

/// [`connect`] in quiet mode ([`Sim::quiet`]): the same outcome, output lines, rule count and
/// drop steps, without the other steps (what `hopsim reach` needs of each pair), on a world
/// built once for every pair ([`Layout`]). The world it returns is not for listing: the
/// rules' packet counters are not kept.
pub fn connect_quiet(
    world: World,
    layout: &Arc<Layout>,
    ns: NsId,
    dst: Ipv4Addr,
    port: u16,
    opts: &ConnectOptions,
) -> ConnectRun {
    let chance = Box::new(crate::netfilter::eval::SeededChance::new(opts.seed));
    let sim = Sim::new(world)
        .with_chance(chance)
        .with_layout(layout.clone())
        .quiet();
    connect_sim(sim, ns, dst, port, opts)
}

fn connect_sim(
    mut sim: Sim,
    ns: NsId,
    dst: Ipv4Addr,
    port: u16,
    opts: &ConnectOptions,
) -> ConnectRun {
    let proto = opts.proto;
    let out = ip_output::route_output(&sim.world, ns, dst, None);
    let fail_line = |e: &str| {
        format!(
            "nc: connect to {dst} port {port} ({}) failed: {e}",
            proto.name()
        )
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            sim.begin_hop(ns, Cause::Program);
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!("nc connects to {dst}:{port}: connect() asks for a route"),
                });
            }
            ip_output::step_route_output(&mut sim, dst, &Err(e));
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("connect: {}", e.strerror()),
            );
            let errno = match e {
                ip_output::OutputError::Broadcast | ip_output::OutputError::Prohibited => {
                    "Permission denied"
                }
                other => other.strerror(),
            };
            return ConnectRun {
                lines: vec![fail_line(errno)],
                exit: 1,
                outcome: Outcome::Error {
                    errno: errno.into(),
                    from: Ipv4Addr::UNSPECIFIED,
                },
                source: (Ipv4Addr::UNSPECIFIED, 0),
                rules_evaluated: sim.rules_evaluated,
                trace: sim.trace,
                world: sim.world,
                seen_from: None,
                reached: None,
            };
        }
    };
    let sport = opts
        .sport
        .unwrap_or_else(|| ephemeral(&sim.world.netns[ns].name, (dst, port)));
    let src = (out.src, sport);
    sim.connect = Some(ConnectState {
        ns,
        src,
        dst: (dst, port),
        proto,
        outcome: None,
        iss: l4::isn(src, (dst, port)),
        seen_from: None,
        reached: None,
        decided_at: None,
    });
    sim.schedule(0, Event::ConnectSend { attempt: 0 });
    if proto == L4Proto::Tcp {
        // SYN retransmissions: the initial RTO is 1 s, then doubles.
        sim.schedule(1_000_000, Event::ConnectSend { attempt: 1 });
        sim.schedule(3_000_000, Event::ConnectSend { attempt: 2 });
    }
    let wait = u64::from(opts.wait_s.max(1)) * 1_000_000;
    let start = sim.now();
    sim.run(start + wait);
    let st = sim.connect.take();
    let outcome = st
        .as_ref()
        .and_then(|s| s.outcome.clone())
        .unwrap_or(if proto == L4Proto::Udp {
            Outcome::Connected
        } else {
            Outcome::TimedOut
        });
    let name = service_name(proto, port);
    let (lines, exit) = match &outcome {
        // netcat's UDP test only checks that its writes succeed: an ICMP error that makes a
        // later write fail ends it with status 1 and no message (measured).
        Outcome::Refused | Outcome::Error { .. } if proto == L4Proto::Udp => (Vec::new(), 1),
        Outcome::Connected => (
            vec![format!(
                "Connection to {dst} {port} port [{}/{name}] succeeded!",
                proto.name()
            )],
            0,
        ),
        Outcome::Refused => (vec![fail_line("Connection refused")], 1),
        Outcome::Error { errno, .. } => (vec![fail_line(errno)], 1),
        Outcome::TimedOut => (
            vec![format!(
                "nc: connect to {dst} port {port} ({}) timed out: Operation now in progress",
                proto.name()
            )],
            1,
        ),
    };
    let mut lines = lines;
    lines.extend(sim.limit_line());
    // The program exits when it has its answer; the kernel finishes the close on its own,
    // but the next command starts when this one returned.
    sim.world.clock_us = st.as_ref().and_then(|s| s.decided_at).unwrap_or(sim.now());
    ConnectRun {
        lines,
        exit,
        outcome,
        source: src,
        rules_evaluated: sim.rules_evaluated,
        trace: sim.trace,
        world: sim.world,
        seen_from: st.as_ref().and_then(|s| s.seen_from),
        reached: st.and_then(|s| s.reached),
    }
}

/// Send the SYN (or its retransmission), or the UDP datagram.
pub(crate) fn send(sim: &mut Sim, attempt: u8) {
    let Some(st) = sim.connect.clone() else {
        return;
    };
    if st.outcome.is_some()
        || (attempt > 0
            && !sim
                .tcbs
                .iter()
                .any(|t| t.ns == st.ns && t.local == st.src && t.state == l4::TcpState::SynSent))
    {
        return;
    }
    sim.begin_hop(st.ns, Cause::Program);
    match st.proto {
        L4Proto::Tcp => {
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: if attempt == 0 {
                        format!(
                            "nc connects to {}:{} from port {}: SYN (SYN_SENT)",
                            st.dst.0, st.dst.1, st.src.1
                        )
                    } else {
                        format!("no answer yet: SYN retransmitted (attempt {})", attempt + 1)
                    },
                });
            }
            if attempt == 0 {
                sim.tcbs.push(l4::Tcb {
                    ns: st.ns,
                    local: st.src,
                    remote: st.dst,
                    state: l4::TcpState::SynSent,
                    snd_nxt: st.iss.wrapping_add(1),
                    rcv_nxt: 0,
                    client: true,
                });
            }
            let o = l4::syn_options(l4::ts_now(sim), 0);
            l4::send_segment(
                sim,
                st.ns,
                st.src,
                st.dst,
                st.iss,
                0,
                TcpFlags {
                    syn: true,
                    ..TcpFlags::default()
                },
                o,
            );
        }
        L4Proto::Udp => {
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!(
                        "nc sends a UDP datagram to {}:{} from port {}",
                        st.dst.0, st.dst.1, st.src.1
                    ),
                });
            }
            let out = ip_output::route_output(&sim.world, st.ns, st.dst.0, None);
            ip_output::step_route_output(sim, st.dst.0, &out);
            let Ok(out) = out else {
                return;
            };
            let packet = Ipv4Packet {
                header: Ipv4Repr {
                    src: st.src.0,
                    dst: st.dst.0,
                    ttl: sim.world.default_ttl(st.ns),
                    id: sim.world.next_ip_id(st.ns),
                    df: true,
                    tos: 0,
                },
                payload: IpPayload::Udp(UdpRepr {
                    sport: st.src.1,
                    dport: st.dst.1,
                    data: b"X".to_vec(),
                }),
            };
            ip_output::ip_local_out(sim, st.ns, packet, &out);
        }
    }
}

/// The TCP handshake ended (or was refused).
pub(crate) fn on_result(sim: &mut Sim, o: Outcome) {
    let now = sim.now();
    if let Some(st) = sim.connect.as_mut() {
        if st.outcome.is_none() {
            st.outcome = Some(o);
            st.decided_at = Some(now);
        }
    }
}

/// A server socket got the SYN or datagram: remember who it appeared to come from, and
/// where it arrived.
pub(crate) fn on_server_saw(sim: &mut Sim, from: (Ipv4Addr, u16), at: (Ipv4Addr, u16)) {
    if let Some(st) = sim.connect.as_mut() {
        if st.seen_from.is_none() {
            st.seen_from = Some(from);
            st.reached = Some(at);
        }
    }
}

/// A UDP datagram reached a socket.
pub(crate) fn on_udp_delivered(sim: &mut Sim, _ns: NsId, packet: &Ipv4Packet) {
    if let Some((sp, dp)) = packet.payload.ports() {
        on_server_saw(sim, (packet.header.src, sp), (packet.header.dst, dp));
    }
}

/// An ICMP error arrived: is it about our connection?
pub(crate) fn on_icmp_error(
    sim: &mut Sim,
    ns: NsId,
    q: &QuotedDatagram,
    from: Ipv4Addr,
    icmp: &IcmpRepr,
) -> bool {
    let Some(st) = sim.connect.clone() else {
        return false;
    };
    let ours = st.ns == ns
        && q.header.src == st.src.0
        && q.ports == Some((st.src.1, st.dst.1))
        && q.protocol == st.proto.number();
    if !ours {
        return false;
    }
    let Some(errno) = l4::icmp_errno_text(icmp) else {
        return false;
    };
    if sim.tracing() {
        sim.step(Step::SocketDeliver {
            detail: format!("ICMP error from {from} for nc's connection: {errno}"),
        });
    }
    sim.tcbs.retain(|t| !(t.ns == ns && t.local == st.src));
    on_result(
        sim,
        if errno == "Connection refused" {
            Outcome::Refused
        } else {
            Outcome::Error {
                errno: errno.into(),
                from,
            }
        },
    );
    true
}
