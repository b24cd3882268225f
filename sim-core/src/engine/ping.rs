//! The `ping` program (iputils): connect, send echo requests, collect replies and ICMP
//! errors, print what iputils prints (without timings), exit as it exits.

use super::{ip_output, Event, Layout, Sim};
use crate::model::{stable_hash, NsId, World};
use crate::trace::{Cause, DropReason, Step, Trace};
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Simulated wall clock at time zero (2026-01-01T00:00:00Z), for ping's timestamps.
pub const EPOCH_SECS: u64 = 1_767_225_600;

/// Options of `ping`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PingOptions {
    /// `-c`: echo requests to send.
    pub count: u16,
    /// `-t`: TTL of the requests (the namespace's default TTL if unset).
    pub ttl: Option<u8>,
    /// `-W`: seconds to wait for a response after the last request (iputils waits 10 s).
    pub wait_s: u32,
    /// `-i`: interval between requests, in milliseconds.
    pub interval_ms: u32,
    /// `-s`: data bytes (56).
    pub size: u16,
    /// Seed of the `-m statistic --mode random` draws.
    pub seed: u64,
    /// `-M`: path MTU discovery (`want` is the kernel default for the socket).
    pub pmtudisc: PmtuDisc,
}

/// `ping -M`: the socket's `IP_MTU_DISCOVER` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PmtuDisc {
    /// `want` (the default): DF set, but the kernel fragments locally what exceeds the
    /// known path MTU.
    #[default]
    Want,
    /// `do`: DF set, and a packet over the path MTU is refused with EMSGSIZE
    /// (`ping: local error: message too long, mtu=N`).
    Do,
    /// `dont`: no DF.
    Dont,
}

impl PmtuDisc {
    /// Parse `-M`'s argument; iputils' message otherwise.
    pub fn parse(s: &str) -> Result<PmtuDisc, String> {
        match s {
            "do" => Ok(PmtuDisc::Do),
            "want" => Ok(PmtuDisc::Want),
            "dont" => Ok(PmtuDisc::Dont),
            other => Err(format!("ping: invalid -M argument: {other}")),
        }
    }

    /// The word `-M` takes for this setting.
    pub fn as_arg(self) -> &'static str {
        match self {
            PmtuDisc::Do => "do",
            PmtuDisc::Want => "want",
            PmtuDisc::Dont => "dont",
        }
    }
}

impl Default for PingOptions {
    fn default() -> Self {
        PingOptions {
            count: 1,
            ttl: None,
            wait_s: 10,
            interval_ms: 1000,
            size: 56,
            seed: 0,
            pmtudisc: PmtuDisc::Want,
        }
    }
}

/// What one echo request got back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PingEvent {
    /// An echo reply.
    Reply {
        /// Sequence number.
        seq: u16,
        /// Who answered.
        from: Ipv4Addr,
        /// TTL of the reply as received.
        ttl: u8,
        /// ICMP bytes.
        bytes: usize,
    },
    /// The kernel refused to send a request (`sendmsg` failed: EMSGSIZE with `-M do`).
    LocalError {
        /// Sequence number.
        seq: u16,
        /// What iputils prints after `ping: local error: `.
        message: String,
    },
    /// An ICMP error about one of our requests.
    Error {
        /// Sequence number.
        seq: u16,
        /// The node that reported it.
        from: Ipv4Addr,
        /// What iputils prints for it, e.g. "Destination Host Unreachable".
        message: String,
    },
}

/// The result of running ping.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PingRun {
    /// Lines exactly as iputils prints them, without timings.
    pub lines: Vec<String>,
    /// Exit status: 0 a reply, 1 no reply, 2 an error before sending.
    pub exit: i32,
    /// Replies and errors in arrival order.
    pub events: Vec<PingEvent>,
    /// Requests sent.
    pub transmitted: u16,
    /// The trace of every frame and decision.
    pub trace: Trace,
    /// The world as the run left it (neighbour caches, FDBs).
    #[serde(skip)]
    pub world: World,
    /// The source address the answering host saw on the first echo request (after NAT).
    pub seen_from: Option<Ipv4Addr>,
    /// iptables rules evaluated during the run.
    pub rules_evaluated: usize,
}

/// The ping socket's state while the simulation runs.
#[derive(Clone, Debug)]
pub(crate) struct PingState {
    pub ns: NsId,
    pub ident: u16,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub opts: PingOptions,
    pub sent: u16,
    pub events: Vec<PingEvent>,
    pub seen_from: Option<Ipv4Addr>,
}

impl PingState {
    pub(crate) fn finished(&self) -> bool {
        self.sent >= self.opts.count && self.events.len() >= usize::from(self.opts.count)
    }
}

/// iputils' text for an ICMP error (`pr_icmph`).
pub fn icmp_error_text(icmp: &IcmpRepr) -> String {
    match icmp {
        IcmpRepr::DestUnreachable { code, mtu, .. } => match code {
            0 => "Destination Net Unreachable".into(),
            1 => "Destination Host Unreachable".into(),
            2 => "Destination Protocol Unreachable".into(),
            3 => "Destination Port Unreachable".into(),
            4 => format!("Frag needed and DF set (mtu = {mtu})"),
            5 => "Source Route Failed".into(),
            6 => "Destination Net Unknown".into(),
            7 => "Destination Host Unknown".into(),
            8 => "Source Host Isolated".into(),
            9 => "Destination Net Prohibited".into(),
            10 => "Destination Host Prohibited".into(),
            11 => "Destination Net Unreachable for Type of Service".into(),
            12 => "Destination Host Unreachable for Type of Service".into(),
            13 => "Packet filtered".into(),
            14 => "Precedence Violation".into(),
            15 => "Precedence Cutoff".into(),
            c => format!("Dest Unreachable, Bad Code: {c}"),
        },
        IcmpRepr::TimeExceeded { code: 0, .. } => "Time to live exceeded".into(),
        IcmpRepr::TimeExceeded { .. } => "Frag reassembly time exceeded".into(),
        IcmpRepr::Redirect { gateway, .. } => format!("Redirect Host(New nexthop: {gateway})"),
        other => format!("{other}"),
    }
}

/// C's `%g` for the packet-loss percentage (six significant digits, no trailing zeros).
pub fn percent_g(v: f32) -> String {
    let v = f64::from(v);
    if v == 0.0 {
        return "0".into();
    }
    let digits = 6 - 1 - v.abs().log10().floor() as i32;
    let s = format!("{:.*}", digits.max(0) as usize, v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Run `ping` in namespace `ns` against `dst` on a copy of the world.
pub fn ping(world: World, ns: NsId, dst: Ipv4Addr, opts: &PingOptions) -> PingRun {
    let chance = Box::new(crate::netfilter::eval::SeededChance::new(opts.seed));
    ping_with(world, ns, dst, opts, chance)
}

/// [`ping`] with the statistic draws given (to enumerate every branch).
pub fn ping_with(
    world: World,
    ns: NsId,
    dst: Ipv4Addr,
    opts: &PingOptions,
    chance: Box<dyn crate::netfilter::eval::Chance>,
) -> PingRun {
    ping_sim(Sim::new(world).with_chance(chance), ns, dst, opts)
}

/// [`ping`] in quiet mode ([`Sim::quiet`]): the same outcome, rule count and drop steps,
/// without the other steps (what `hopsim reach` needs of each pair), on a world built once
/// for every pair ([`Layout`]). Its output lines are those of a ping that got no reply;
/// a ping that got one (exit 0) prints none. The world it returns is not for listing: the
/// rules' packet counters are not kept.
pub fn ping_quiet(
    world: World,
    layout: &Arc<Layout>,
    ns: NsId,
    dst: Ipv4Addr,
    opts: &PingOptions,
) -> PingRun {
    let chance = Box::new(crate::netfilter::eval::SeededChance::new(opts.seed));
    let sim = Sim::new(world)
        .with_chance(chance)
        .with_layout(layout.clone())
        .quiet();
    ping_sim(sim, ns, dst, opts)
}

fn ping_sim(mut sim: Sim, ns: NsId, dst: Ipv4Addr, opts: &PingOptions) -> PingRun {
    let out = ip_output::route_output(&sim.world, ns, dst, None);
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            sim.begin_hop(ns, Cause::Program);
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!("ping {dst}: connect() asks the kernel for a route"),
                });
            }
            ip_output::step_route_output(&mut sim, dst, &Err(e));
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("connect: {}", e.strerror()),
            );
            let line = match e {
                ip_output::OutputError::Prohibited | ip_output::OutputError::Broadcast => {
                    "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules".to_string()
                }
                e => format!("ping: connect: {}", e.strerror()),
            };
            return PingRun {
                lines: vec![line],
                exit: 2,
                events: Vec::new(),
                transmitted: 0,
                seen_from: None,
                rules_evaluated: sim.rules_evaluated,
                trace: sim.trace,
                world: sim.world,
            };
        }
    };
    let ident = (stable_hash(&sim.world.netns[ns].name) & 0xffff) as u16;
    sim.ping = Some(PingState {
        ns,
        ident,
        src: out.src,
        dst,
        opts: opts.clone(),
        sent: 0,
        events: Vec::new(),
        seen_from: None,
    });
    for seq in 1..=opts.count {
        sim.schedule(
            u64::from(seq - 1) * u64::from(opts.interval_ms) * 1000,
            Event::PingSend { seq },
        );
    }
    sim.budget_for(usize::from(opts.count));
    let last = u64::from(opts.count.saturating_sub(1)) * u64::from(opts.interval_ms) * 1000;
    let start = sim.now();
    sim.run(start + last + u64::from(opts.wait_s) * 1_000_000);
    let st = sim.ping.take().unwrap_or(PingState {
        ns,
        ident,
        src: out.src,
        dst,
        opts: opts.clone(),
        sent: 0,
        events: Vec::new(),
        seen_from: None,
    });
    let received = st
        .events
        .iter()
        .filter(|e| matches!(e, PingEvent::Reply { .. }))
        .count();
    // A quiet run's caller reads the lines of a ping that failed, and only its exit status
    // otherwise.
    let lines = if sim.tracing() || received == 0 {
        output_lines(dst, opts, &st, sim.limit_line())
    } else {
        Vec::new()
    };
    sim.world.clock_us = sim.now();
    PingRun {
        lines,
        exit: if received > 0 { 0 } else { 1 },
        events: st.events,
        transmitted: st.sent,
        seen_from: st.seen_from,
        rules_evaluated: sim.rules_evaluated,
        trace: sim.trace,
        world: sim.world,
    }
}

/// What iputils prints: the header, a line per reply or error, the statistics (and the
/// line saying the simulation stopped, when it did).
fn output_lines(
    dst: Ipv4Addr,
    opts: &PingOptions,
    st: &PingState,
    limit_line: Option<String>,
) -> Vec<String> {
    let mut lines = vec![format!(
        "PING {dst} ({dst}) {}({}) bytes of data.",
        opts.size,
        u32::from(opts.size) + 28
    )];
    let mut received = 0u32;
    let mut errors = 0u32;
    for e in &st.events {
        match e {
            PingEvent::Reply {
                seq,
                from,
                ttl,
                bytes,
            } => {
                received += 1;
                lines.push(format!(
                    "{bytes} bytes from {from}: icmp_seq={seq} ttl={ttl}"
                ));
            }
            PingEvent::Error { seq, from, message } => {
                errors += 1;
                lines.push(format!("From {from} icmp_seq={seq} {message}"));
            }
            PingEvent::LocalError { message, .. } => {
                errors += 1;
                lines.push(format!("ping: local error: {message}"));
            }
        }
    }
    lines.push(String::new());
    lines.push(format!("--- {dst} ping statistics ---"));
    let tx = u32::from(st.sent);
    let mut stats = format!("{tx} packets transmitted, {received} received");
    if errors > 0 {
        stats.push_str(&format!(", +{errors} errors"));
    }
    if tx > 0 {
        let loss = ((f64::from(tx - received.min(tx))) * 100.0 / f64::from(tx)) as f32;
        stats.push_str(&format!(", {}% packet loss", percent_g(loss)));
    }
    lines.push(stats);
    if received == 0 {
        // iputils ends with a blank line when there is no rtt line to print.
        lines.push(String::new());
    }
    lines.extend(limit_line);
    lines
}

/// Send echo request `seq`.
pub(crate) fn send(sim: &mut Sim, seq: u16) {
    let Some(st) = sim.ping.clone() else {
        return;
    };
    sim.begin_hop(st.ns, Cause::Program);
    if sim.tracing() {
        sim.step(Step::Originate {
            what: format!(
                "ping sends ICMP echo request id {} seq {seq} to {}",
                st.ident, st.dst
            ),
        });
    }
    let out = ip_output::route_output(&sim.world, st.ns, st.dst, None);
    ip_output::step_route_output(sim, st.dst, &out);
    if let Some(p) = sim.ping.as_mut() {
        p.sent += 1;
    }
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("sendmsg: {}", e.strerror()),
            );
            return;
        }
    };
    // The path MTU: the device's, or a smaller one learned from "fragmentation needed".
    let dev_mtu = sim.world.iface(out.dev).map(|i| i.mtu).unwrap_or(1500);
    let learned = sim.world.pmtu(st.ns, st.dst, sim.now());
    let mtu = if out.local {
        u32::MAX
    } else {
        learned.map_or(dev_mtu, |m| m.min(dev_mtu))
    };
    let ip_len = u32::from(st.opts.size) + 28;
    if ip_len > mtu {
        match st.opts.pmtudisc {
            PmtuDisc::Do => {
                sim.drop_packet(
                    DropReason::PktTooBig,
                    format!(
                        "sendmsg: EMSGSIZE: {ip_len} bytes exceed the path MTU {mtu}{} and -M do forbids fragmenting",
                        if learned.is_some_and(|m| m < dev_mtu) { " (learned from an ICMP fragmentation-needed)" } else { "" }
                    ),
                );
                if let Some(p) = sim.ping.as_mut() {
                    p.events.push(PingEvent::LocalError {
                        seq,
                        message: format!("message too long, mtu={mtu}"),
                    });
                }
                return;
            }
            PmtuDisc::Want | PmtuDisc::Dont => {
                sim.drop_packet(
                    DropReason::SimLimit,
                    format!("hopsim: {ip_len} bytes exceed the path MTU {mtu}: Linux would fragment the packet, and IP fragmentation is not modelled (use -M do to see the MTU at work)"),
                );
                return;
            }
        }
    }
    let now = sim.now();
    let secs = EPOCH_SECS + now / 1_000_000;
    let usecs = now % 1_000_000;
    // iputils puts a struct timeval (16 bytes on 64-bit Linux) first, then 0x10, 0x11, ...
    let mut data = Vec::with_capacity(usize::from(st.opts.size));
    data.extend_from_slice(&secs.to_le_bytes());
    data.extend_from_slice(&usecs.to_le_bytes());
    data.truncate(usize::from(st.opts.size));
    while data.len() < usize::from(st.opts.size) {
        data.push(data.len() as u8);
    }
    let packet = Ipv4Packet {
        header: Ipv4Repr {
            src: st.src,
            dst: st.dst,
            ttl: st.opts.ttl.unwrap_or_else(|| sim.world.default_ttl(st.ns)),
            id: sim.world.next_ip_id(st.ns),
            df: st.opts.pmtudisc != PmtuDisc::Dont,
            tos: 0,
        },
        payload: IpPayload::Icmp(IcmpRepr::EchoRequest {
            ident: st.ident,
            seq,
            data,
        }),
    };
    ip_output::ip_local_out(sim, st.ns, packet, &out);
}

pub(crate) fn on_reply(sim: &mut Sim, seq: u16, from: Ipv4Addr, ttl: u8, bytes: usize) {
    if let Some(p) = sim.ping.as_mut() {
        p.events.push(PingEvent::Reply {
            seq,
            from,
            ttl,
            bytes,
        });
    }
}

pub(crate) fn on_error(sim: &mut Sim, seq: u16, from: Ipv4Addr, icmp: IcmpRepr) {
    if matches!(icmp, IcmpRepr::Redirect { .. }) {
        // iputils does not report redirects unless -v; the request goes on.
        return;
    }
    if let Some(p) = sim.ping.as_mut() {
        p.events.push(PingEvent::Error {
            seq,
            from,
            message: icmp_error_text(&icmp),
        });
    }
}
