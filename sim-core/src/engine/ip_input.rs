//! IPv4 input: `ip_rcv`, the input routing decision (`ip_route_input_slow`), `ip_forward`
//! and `ip_local_deliver`.

use super::netfilter as nf;
use super::receive::PktType;
use super::{icmp, ip_output, l4, Sim};
use crate::model::{IfId, NsId, Route, RouteType, Table};
use crate::trace::{DropReason, Step, Words};
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet};
use std::net::Ipv4Addr;

/// The input routing decision.
#[derive(Clone, Debug)]
pub(crate) enum InputRoute {
    /// For one of our addresses (or a broadcast): deliver locally.
    Local { route: Route },
    /// Forward according to `route`.
    Forward { route: Route },
    /// Forwarding is off on the input device: silently dropped (counted as InAddrErrors).
    ForwardingOff,
    /// No route: ICMP net unreachable.
    NoRoute,
    /// A blackhole, unreachable or prohibit route.
    Special { route: Route },
}

/// `ip_route_input_slow`: where does a packet that arrived on `dev` go?
pub(crate) fn route_input(sim: &Sim, ns: NsId, dev: IfId, dst: Ipv4Addr) -> InputRoute {
    let routes = &sim.world.netns[ns].routes;
    if let Some(r) = routes.lpm(Table::Local, dst, |_| true) {
        if matches!(r.rtype, RouteType::Local | RouteType::Broadcast) {
            return InputRoute::Local { route: r.clone() };
        }
    }
    if dst == Ipv4Addr::BROADCAST {
        return InputRoute::Local {
            route: Route {
                table: Table::Local,
                rtype: RouteType::Broadcast,
                dst: ipnet::Ipv4Net::new(dst, 32).unwrap_or_default(),
                gateway: None,
                dev: Some(dev),
                proto: crate::model::Proto::KERNEL,
                scope: crate::model::Scope::Link,
                src: None,
                metric: 0,
                onlink: false,
            },
        };
    }
    if !sim.world.netns[ns].sysctl.forwarding(dev) {
        return InputRoute::ForwardingOff;
    }
    match routes.lpm(Table::Main, dst, |_| true) {
        None => InputRoute::NoRoute,
        Some(r) if r.rtype == RouteType::Unicast => InputRoute::Forward { route: r.clone() },
        Some(r) => InputRoute::Special { route: r.clone() },
    }
}

/// `ip_rcv` and `ip_rcv_finish`.
pub(crate) fn ip_rcv(sim: &mut Sim, dev: IfId, packet: Ipv4Packet, pkt_type: PktType) {
    let Some(ns) = sim.world.iface(dev).map(|i| i.ns) else {
        return;
    };
    let mut packet = packet;
    if sim.tracing() {
        sim.step(Step::IpRcv {
            detail: Words::Addresses {
                src: packet.header.src,
                dst: packet.header.dst,
                ttl: packet.header.ttl,
                note: "",
            },
        });
    }
    let mut meta = nf::Meta::default();
    let v = nf::prerouting(sim, ns, dev, &mut packet, nf::Phys::default(), &mut meta);
    if !ip_output::apply_verdict(sim, ns, &packet, v, "PREROUTING") {
        return;
    }
    ip_rcv_finish(sim, ns, dev, packet, pkt_type, meta);
}

/// A packet that br_netfilter already took through PREROUTING reaches the IP layer.
pub(crate) fn ip_rcv_after_prerouting(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    packet: Ipv4Packet,
    meta: nf::Meta,
) {
    if sim.tracing() {
        sim.step(Step::IpRcv {
            detail: Words::Addresses {
                src: packet.header.src,
                dst: packet.header.dst,
                ttl: packet.header.ttl,
                note: " (PREROUTING already done by br_netfilter)",
            },
        });
    }
    ip_rcv_finish(sim, ns, dev, packet, PktType::Host, meta);
}

/// `ip_rcv_finish`: the input routing decision, after PREROUTING (and any DNAT).
pub(crate) fn ip_rcv_finish(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    packet: Ipv4Packet,
    pkt_type: PktType,
    meta: nf::Meta,
) {
    let h = packet.header.clone();
    let devname = sim.world.ifname(dev);
    match route_input(sim, ns, dev, h.dst) {
        InputRoute::Local { route } => {
            if sim.tracing() {
                sim.step(Step::RouteInput {
                    result: format!("{} is local: deliver to this namespace", h.dst),
                    route: Some(Words::route(&sim.world, &route, true)),
                });
            }
            local_deliver(sim, ns, Some(dev), packet, meta);
        }
        InputRoute::ForwardingOff => {
            if sim.tracing() {
                sim.step(Step::RouteInput {
                    result: format!("{} is not ours and forwarding is off on {devname}", h.dst),
                    route: None,
                });
            }
            sim.drop_packet(
                DropReason::IpInaddrerrors,
                format!(
                    "net.ipv4.conf.{devname}.forwarding = 0 (net.ipv4.ip_forward = {}): dropped without an ICMP error",
                    u8::from(sim.world.netns[ns].sysctl.ip_forward())
                ),
            );
        }
        InputRoute::NoRoute => {
            if sim.tracing() {
                sim.step(Step::RouteInput {
                    result: format!("no route to {}", h.dst),
                    route: None,
                });
            }
            sim.drop_packet(
                DropReason::IpInnoroutes,
                format!("no route to {} (ip_error)", h.dst),
            );
            icmp::icmp_send(sim, ns, &packet, icmp::IcmpError::NetUnreachable, Some(dev));
        }
        InputRoute::Special { route } => {
            if sim.tracing() {
                sim.step(Step::RouteInput {
                    result: format!("{} route", type_word(route.rtype)),
                    route: Some(Words::route(&sim.world, &route, false)),
                });
            }
            special_route(sim, ns, &packet, &route, Some(dev));
        }
        InputRoute::Forward { route } => {
            if pkt_type != PktType::Host {
                sim.drop_packet(
                    DropReason::Otherhost,
                    "link-layer broadcast for a unicast address that is not ours: not forwarded",
                );
                return;
            }
            if sim.tracing() {
                sim.step(Step::RouteInput {
                    result: format!(
                        "forward {} to {}",
                        h.dst,
                        ip_output::nexthop_words(&sim.world, &route, h.dst)
                    ),
                    route: Some(Words::route(&sim.world, &route, false)),
                });
            }
            ip_forward(sim, ns, dev, packet, route, meta);
        }
    }
}

pub(crate) fn type_word(t: RouteType) -> &'static str {
    match t {
        RouteType::Blackhole => "blackhole",
        RouteType::Unreachable => "unreachable",
        RouteType::Prohibit => "prohibit",
        RouteType::Local => "local",
        RouteType::Broadcast => "broadcast",
        RouteType::Unicast => "unicast",
    }
}

/// What a blackhole, unreachable or prohibit route does to a packet being forwarded.
pub(crate) fn special_route(
    sim: &mut Sim,
    ns: NsId,
    packet: &Ipv4Packet,
    route: &Route,
    dev: Option<IfId>,
) {
    match route.rtype {
        RouteType::Unreachable => {
            sim.drop_packet(
                DropReason::NotSpecified,
                "unreachable route: ip_error answers host unreachable",
            );
            icmp::icmp_send(sim, ns, packet, icmp::IcmpError::HostUnreachable, dev);
        }
        RouteType::Prohibit => {
            sim.drop_packet(
                DropReason::NotSpecified,
                "prohibit route: ip_error answers administratively prohibited",
            );
            icmp::icmp_send(sim, ns, packet, icmp::IcmpError::PktFiltered, dev);
        }
        _ => sim.drop_packet(
            DropReason::NotSpecified,
            "blackhole route: ip_error discards it silently (EINVAL)",
        ),
    }
}

/// `ip_forward`.
fn ip_forward(
    sim: &mut Sim,
    ns: NsId,
    in_dev: IfId,
    mut packet: Ipv4Packet,
    route: Route,
    mut meta: nf::Meta,
) {
    let ttl = packet.header.ttl;
    if ttl <= 1 {
        sim.drop_packet(
            DropReason::IpInhdr,
            format!("TTL {ttl} would reach 0: time exceeded"),
        );
        icmp::icmp_send(sim, ns, &packet, icmp::IcmpError::TtlExceeded, Some(in_dev));
        return;
    }
    let Some(out_dev) = route.dev else {
        sim.drop_packet(DropReason::IpInnoroutes, "route without a device");
        return;
    };
    // ip_exceeds_mtu: a packet with DF that does not fit the output device is refused
    // before its TTL is decreased and before the FORWARD hook sees it (measured: with
    // `iptables -A FORWARD -j DROP` the sender still gets "Frag needed"). The error quotes
    // the packet as it arrived.
    let mtu = sim.world.iface(out_dev).map(|i| i.mtu).unwrap_or(1500) as usize;
    if packet.header.df && packet.total_len() > mtu {
        sim.drop_packet(
            DropReason::PktTooBig,
            format!(
                "ip_forward: {} bytes with DF set do not fit {}'s MTU {mtu}",
                packet.total_len(),
                sim.world.ifname(out_dev)
            ),
        );
        icmp::icmp_send(
            sim,
            ns,
            &packet,
            icmp::IcmpError::FragNeeded(mtu as u16),
            Some(in_dev),
        );
        return;
    }
    let nexthop = route.gateway.unwrap_or(packet.header.dst);
    // Redirect when the packet leaves by the device it came in on and the sender could
    // have reached the next hop directly (`RTCF_DOREDIRECT`, RFC 1812 5.2.7.2).
    let redirect = out_dev == in_dev
        && route.gateway.is_some()
        && sim.world.netns[ns].sysctl.send_redirects(in_dev)
        && sim.world.iface(in_dev).is_some_and(|i| {
            i.addrs
                .iter()
                .any(|a| a.net.contains(&packet.header.src) && a.net.contains(&nexthop))
        });
    packet.header.ttl = ttl - 1;
    if sim.tracing() {
        sim.step(Step::Forward {
            ttl_in: ttl,
            ttl_out: ttl - 1,
        });
    }
    if redirect {
        let mut original = packet.clone();
        original.header.ttl = ttl;
        icmp::icmp_send(
            sim,
            ns,
            &original,
            icmp::IcmpError::Redirect(nexthop),
            Some(in_dev),
        );
    }
    let v = nf::forward(
        sim,
        ns,
        in_dev,
        out_dev,
        &packet,
        nf::Phys::default(),
        &mut meta,
    );
    if !ip_output::apply_verdict(sim, ns, &packet, v, "FORWARD") {
        return;
    }
    ip_output::ip_output(sim, ns, out_dev, nexthop, packet, meta);
}

/// A packet sent to one of our own addresses arrives back through `lo`. Its skb still
/// carries its conntrack entry, mark and trace flag (`loopback_xmit` resets none of them),
/// so PREROUTING finds the connection already attached (`nf_conntrack_in`: "Previously seen
/// (loopback or untracked)? Ignore.") and the nat tables, which already ran for it on the
/// way out, are not consulted again.
pub(crate) fn loopback_rcv(sim: &mut Sim, ns: NsId, mut packet: Ipv4Packet, meta: nf::Meta) {
    let lo = sim.world.find_iface(ns, "lo");
    if sim.tracing() {
        sim.step(Step::IpRcv {
            detail: Words::Addresses {
                src: packet.header.src,
                dst: packet.header.dst,
                ttl: packet.header.ttl,
                note: " (through lo)",
            },
        });
    }
    let mut meta = meta;
    if let Some(lo) = lo {
        let v = nf::prerouting(sim, ns, lo, &mut packet, nf::Phys::default(), &mut meta);
        if !ip_output::apply_verdict(sim, ns, &packet, v, "PREROUTING") {
            return;
        }
    }
    local_deliver(sim, ns, lo, packet, meta);
}

/// `ip_local_deliver`: the INPUT hook, then the protocol handler.
pub(crate) fn local_deliver(
    sim: &mut Sim,
    ns: NsId,
    dev: Option<IfId>,
    mut packet: Ipv4Packet,
    mut meta: nf::Meta,
) {
    let v = nf::input(sim, ns, dev, &mut packet, &mut meta);
    if !ip_output::apply_verdict(sim, ns, &packet, v, "INPUT") {
        return;
    }
    match &packet.payload {
        IpPayload::Icmp(IcmpRepr::EchoRequest { .. }) => icmp::icmp_echo(sim, ns, packet),
        IpPayload::Icmp(_) => icmp::icmp_rcv_other(sim, ns, packet),
        IpPayload::Tcp(_) => l4::tcp_rcv(sim, ns, packet),
        IpPayload::Udp(u) if super::vxlan::socket_for(sim, ns, u.dport) => {
            super::vxlan::rcv(sim, ns, packet)
        }
        IpPayload::Udp(_) => l4::udp_rcv(sim, ns, packet),
        IpPayload::Ipip(_) if sim.world.hosts[sim.world.netns[ns].host].ipip_loaded => {
            super::ipip::rcv(sim, ns, packet)
        }
        IpPayload::Ipip(_) | IpPayload::Raw { .. } => {
            // ip_local_deliver_finish: no handler and no raw socket.
            let p = packet.protocol();
            sim.drop_packet(
                DropReason::NoSocket,
                format!("protocol {p}: no handler or socket in this namespace, ICMP protocol unreachable"),
            );
            icmp::icmp_send(sim, ns, &packet, icmp::IcmpError::Code(2), None);
        }
    }
}
