//! ICMP: answering echo requests (`icmp_echo`), generating errors (`icmp_send`, with the
//! kernel's rate limits), and handing replies and errors to the ping socket.

use super::{ip_output, ping, Sim};
use crate::model::PeerTokens;
use crate::model::{IfId, NsId};
use crate::trace::{DropReason, Step};
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr, QuotedDatagram};
use std::net::Ipv4Addr;

/// ICMP errors the stack generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IcmpError {
    /// Destination unreachable, net (no route).
    NetUnreachable,
    /// Destination unreachable, host (neighbour failed, unreachable route).
    HostUnreachable,
    /// Destination unreachable, communication administratively prohibited (code 13).
    PktFiltered,
    /// Destination unreachable, fragmentation needed and DF set.
    FragNeeded(u16),
    /// Time exceeded in transit.
    TtlExceeded,
    /// Redirect for host, with the better gateway.
    Redirect(Ipv4Addr),
    /// Destination unreachable, port (UDP to a closed port).
    PortUnreachable,
    /// Destination unreachable with any code (REJECT --reject-with).
    Code(u8),
}

impl IcmpError {
    fn repr(self, quoted: Vec<u8>) -> IcmpRepr {
        match self {
            IcmpError::NetUnreachable => IcmpRepr::DestUnreachable {
                code: 0,
                mtu: 0,
                quoted,
            },
            IcmpError::HostUnreachable => IcmpRepr::DestUnreachable {
                code: 1,
                mtu: 0,
                quoted,
            },
            IcmpError::PktFiltered => IcmpRepr::DestUnreachable {
                code: 13,
                mtu: 0,
                quoted,
            },
            IcmpError::FragNeeded(mtu) => IcmpRepr::DestUnreachable {
                code: 4,
                mtu,
                quoted,
            },
            IcmpError::TtlExceeded => IcmpRepr::TimeExceeded { code: 0, quoted },
            IcmpError::Redirect(gateway) => IcmpRepr::Redirect {
                code: 1,
                gateway,
                quoted,
            },
            IcmpError::PortUnreachable => IcmpRepr::DestUnreachable {
                code: 3,
                mtu: 0,
                quoted,
            },
            IcmpError::Code(code) => IcmpRepr::DestUnreachable {
                code,
                mtu: 0,
                quoted,
            },
        }
    }
}

/// `icmp_ratelimit` in µs (1000 ms) and the burst factor (`XRLIM_BURST_FACTOR`).
const ICMP_RATELIMIT_US: u64 = 1_000_000;
const XRLIM_BURST: u64 = 6;
/// `ip_rt_error_cost` and `ip_rt_error_burst` (1 s, 5 s) for errors raised by `ip_error`.
const RT_ERROR_COST_US: u64 = 1_000_000;
const RT_ERROR_BURST_US: u64 = 5_000_000;

fn peer(sim: &mut Sim, ns: NsId, dst: Ipv4Addr) -> &mut PeerTokens {
    let now = sim.now();
    let p = sim.world.netns[ns].icmp_peers.entry(dst).or_default();
    if !p.fresh {
        // inet_getpeer: a new peer looks as if its last message was 60 s ago.
        // Simulated time starts at 0, so credit the 60 s directly instead of back-dating.
        p.fresh = true;
        p.last = now;
        p.tokens = 60_000_000;
    }
    p
}

/// `ip_error`'s own bucket (net/host unreachable raised by the input route lookup).
fn ip_error_allow(sim: &mut Sim, ns: NsId, dst: Ipv4Addr) -> bool {
    let now = sim.now();
    let p = peer(sim, ns, dst);
    p.tokens = (p.tokens + (now - p.last)).min(RT_ERROR_BURST_US);
    p.last = now;
    if p.tokens >= RT_ERROR_COST_US {
        p.tokens -= RT_ERROR_COST_US;
        true
    } else {
        false
    }
}

/// `inet_peer_xrlim_allow`: the per-destination token bucket of `icmpv4_xrlim_allow`.
fn xrlim_allow(sim: &mut Sim, ns: NsId, dst: Ipv4Addr) -> bool {
    let now = sim.now();
    let p = peer(sim, ns, dst);
    p.tokens = (p.tokens + (now - p.last)).min(XRLIM_BURST * ICMP_RATELIMIT_US);
    p.last = now;
    if p.tokens >= ICMP_RATELIMIT_US {
        p.tokens -= ICMP_RATELIMIT_US;
        true
    } else {
        false
    }
}

/// `icmp_send`: report a problem with `offending` to its sender.
pub(crate) fn icmp_send(
    sim: &mut Sim,
    ns: NsId,
    offending: &Ipv4Packet,
    kind: IcmpError,
    in_dev: Option<IfId>,
) {
    if let IpPayload::Icmp(i) = &offending.payload {
        if i.is_error() {
            if sim.tracing() {
                sim.step(Step::IcmpSend {
                    detail: "no ICMP error about an ICMP error (RFC 1122 3.2.2)".into(),
                });
            }
            return;
        }
    }
    let dst = offending.header.src;
    if dst.is_unspecified() || dst.is_broadcast() || dst.is_multicast() {
        return;
    }
    let to_self = sim.world.is_local_addr(ns, dst);
    // icmpv4_xrlim_allow: no limit towards ourselves (loopback) or for redirects, which
    // have their own limiter (first one always sent).
    if !to_self && !matches!(kind, IcmpError::Redirect(_)) {
        let from_ip_error = matches!(
            kind,
            IcmpError::NetUnreachable | IcmpError::HostUnreachable | IcmpError::PktFiltered
        ) && in_dev.is_some();
        let allowed = (!from_ip_error || ip_error_allow(sim, ns, dst)) && xrlim_allow(sim, ns, dst);
        if !allowed {
            if sim.tracing() {
                sim.step(Step::IcmpSend {
                    detail: format!(
                        "ICMP error to {dst} suppressed by the rate limit (net.ipv4.icmp_ratelimit)"
                    ),
                });
            }
            return;
        }
    }
    // Source: the offending packet's destination if it was ours, else what the route back
    // to the sender picks (icmp_errors_use_inbound_ifaddr = 0).
    let back = ip_output::route_output(&sim.world, ns, dst, None);
    let src = if sim.world.is_local_addr(ns, offending.header.dst) {
        offending.header.dst
    } else {
        match &back {
            Ok(o) => o.src,
            Err(_) => Ipv4Addr::UNSPECIFIED,
        }
    };
    // Quote as much of the datagram as fits in 576 bytes (RFC 1812 4.3.2.3).
    let mut quoted = offending.emit();
    quoted.truncate(576 - 20 - 8);
    let repr = kind.repr(quoted);
    if sim.tracing() {
        sim.step(Step::IcmpSend {
            detail: format!("{} to {dst}, from {src}", describe(&repr)),
        });
    }
    let out = match back {
        Ok(o) => o,
        Err(e) => {
            ip_output::step_route_output(sim, dst, &Err(e));
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("no route back to {dst} for the ICMP error"),
            );
            return;
        }
    };
    let packet = Ipv4Packet {
        header: Ipv4Repr {
            src,
            dst,
            ttl: sim.world.default_ttl(ns),
            id: sim.world.next_ip_id(ns),
            df: false,
            // IPTOS_PREC_INTERNETCONTROL, keeping the offending packet's TOS bits.
            tos: 0xc0 | (offending.header.tos & 0x1e),
        },
        payload: IpPayload::Icmp(repr),
    };
    ip_output::step_route_output(sim, dst, &Ok(out.clone()));
    ip_output::ip_local_out(sim, ns, packet, &out);
}

fn describe(r: &IcmpRepr) -> String {
    match r {
        IcmpRepr::DestUnreachable { code: 0, .. } => "destination unreachable (net)".into(),
        IcmpRepr::DestUnreachable { code: 1, .. } => "destination unreachable (host)".into(),
        IcmpRepr::DestUnreachable { code: 4, mtu, .. } => {
            format!("fragmentation needed (mtu {mtu})")
        }
        IcmpRepr::DestUnreachable { code: 13, .. } => {
            "destination unreachable (administratively prohibited)".into()
        }
        IcmpRepr::DestUnreachable { code, .. } => format!("destination unreachable (code {code})"),
        IcmpRepr::TimeExceeded { .. } => "time exceeded in transit".into(),
        IcmpRepr::Redirect { gateway, .. } => format!("redirect (use {gateway})"),
        other => format!("{other}"),
    }
}

/// `icmp_echo`: answer an echo request.
pub(crate) fn icmp_echo(sim: &mut Sim, ns: NsId, request: Ipv4Packet) {
    if sim.world.netns[ns].sysctl.icmp_echo_ignore_all {
        sim.drop_packet(
            DropReason::IcmpEchoIgnored,
            "net.ipv4.icmp_echo_ignore_all = 1",
        );
        return;
    }
    let IpPayload::Icmp(IcmpRepr::EchoRequest { ident, seq, data }) = request.payload else {
        return;
    };
    let dst = request.header.src;
    if let Some(p) = sim.ping.as_mut() {
        if p.ident == ident && p.seen_from.is_none() {
            p.seen_from = Some(dst);
        }
    }
    if sim.tracing() {
        sim.step(Step::LocalDeliver {
            detail: format!(
                "ICMP echo request id {ident} seq {seq}: the kernel answers with an echo reply"
            ),
        });
    }
    let out = ip_output::route_output(&sim.world, ns, dst, None);
    ip_output::step_route_output(sim, dst, &out);
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!(
                    "no route back to {dst} ({}): the reply is dropped silently",
                    e.strerror()
                ),
            );
            return;
        }
    };
    let reply = Ipv4Packet {
        header: Ipv4Repr {
            // icmp_reply answers from the address the request was sent to.
            src: request.header.dst,
            dst,
            ttl: sim.world.default_ttl(ns),
            id: sim.world.next_ip_id(ns),
            df: false,
            tos: request.header.tos,
        },
        payload: IpPayload::Icmp(IcmpRepr::EchoReply { ident, seq, data }),
    };
    ip_output::ip_local_out(sim, ns, reply, &out);
}

/// Echo replies and ICMP errors: for the ping socket, if it is waiting for them.
pub(crate) fn icmp_rcv_other(sim: &mut Sim, ns: NsId, packet: Ipv4Packet) {
    let IpPayload::Icmp(icmp) = &packet.payload else {
        return;
    };
    // icmp_unreach: a "fragmentation needed" about a packet we sent updates the route
    // exception for its destination, whichever socket sent it.
    if let IcmpRepr::DestUnreachable {
        code: 4,
        mtu,
        quoted,
    } = icmp
    {
        if let Some(q) = QuotedDatagram::parse(quoted) {
            if sim.world.is_local_addr(ns, q.header.src) && *mtu > 0 {
                let now = sim.now();
                sim.world.learn_pmtu(ns, q.header.dst, u32::from(*mtu), now);
            }
        }
    }
    let wanted = sim.ping.as_ref().map(|p| (p.ns, p.ident));
    match icmp {
        IcmpRepr::EchoReply { ident, seq, .. } if wanted == Some((ns, *ident)) => {
            let (seq, ttl, from, len) = (*seq, packet.header.ttl, packet.header.src, icmp.len());
            if sim.tracing() {
                sim.step(Step::SocketDeliver {
                    detail: format!("echo reply seq {seq} from {from} for ping (id {ident})"),
                });
            }
            ping::on_reply(sim, seq, from, ttl, len);
        }
        other => {
            if let Some(q) = other.quoted().and_then(QuotedDatagram::parse) {
                if let (Some((ident, seq)), Some((pns, pid))) = (q.echo, wanted) {
                    if pns == ns
                        && pid == ident
                        && q.header.src == sim.ping.as_ref().map(|p| p.src).unwrap_or(q.header.src)
                    {
                        if sim.tracing() {
                            sim.step(Step::SocketDeliver {
                                detail: format!(
                                    "ICMP error from {} about ping seq {seq}",
                                    packet.header.src
                                ),
                            });
                        }
                        ping::on_error(sim, seq, packet.header.src, other.clone());
                        return;
                    }
                }
            }
            if let Some(q) = other.quoted().and_then(QuotedDatagram::parse) {
                if super::connect::on_icmp_error(sim, ns, &q, packet.header.src, other) {
                    return;
                }
                if super::dns::on_icmp_error(sim, ns, &q, packet.header.src, other) {
                    return;
                }
                if let (Some((sp, dp)), Some(errno), 6) =
                    (q.ports, super::l4::icmp_errno_text(other), q.protocol)
                {
                    let key = (ns, (q.header.src, sp), (q.header.dst, dp));
                    if super::http::on_icmp_error(sim, key, errno) {
                        return;
                    }
                }
            }
            sim.drop_packet(
                DropReason::NoSocket,
                format!("{other}: no socket is waiting for it"),
            );
        }
    }
}
