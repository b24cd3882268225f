//! IPv4-in-IPv4 tunnels (`net/ipv4/ipip.c`, `ip_tunnel.c`, `tunnel4.c`).
//!
//! Transmit (`ipip_tunnel_xmit` → `ip_tunnel_xmit`): the inner packet, routed to an ipip
//! device, becomes the payload of an outer IPv4 header with protocol 4. The outer
//! destination is the tunnel's `remote`, or for an NBMA tunnel like Calico's `tunl0`
//! (remote any) the inner route's next hop (`rt_nexthop`: the gateway of
//! `X via G dev tunl0 onlink`). The outer TTL is the tunnel's `ttl`, or with `ttl inherit`
//! (0) the inner TTL; DF is set when the tunnel has `pmtudisc` and is copied from the inner
//! packet in any case; TOS 0. The outer packet then leaves like any locally generated
//! packet (`iptunnel_xmit` → `ip_local_out`: OUTPUT and POSTROUTING see it), as a new
//! connection but with the inner packet's skb mark (`skb_scrub_packet` keeps the mark
//! within a namespace: Calico's cali-OUTPUT accepts the outer packet by the mark its
//! FORWARD rules set).
//!
//! Receive (`tunnel4_rcv` → `ipip_rcv` → `ip_tunnel_lookup`): an outer packet delivered
//! locally is matched to an up tunnel by (remote, local), most specific first, the fallback
//! `tunl0` last; without a match `tunnel4_rcv` answers ICMP port unreachable. The inner
//! packet is then received on the tunnel device (`ip_tunnel_rcv`) and routed again there.

use super::icmp::{self, IcmpError};
use super::receive::PktType;
use super::{ip_input, ip_output, Sim};
use crate::model::{IfId, IfKind, IpTunnel, NsId};
use crate::trace::{DropReason, PacketRecord, Step};
use crate::wire::{IpPayload, Ipv4Packet, Ipv4Repr};
use std::net::Ipv4Addr;

/// `ip_tunnel_xmit`: encapsulate `inner`, which routing sent to the ipip device `dev`
/// with next hop `nexthop`; the outer packet keeps the skb's `mark`.
pub(crate) fn xmit(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    nexthop: Ipv4Addr,
    inner: Ipv4Packet,
    mark: u32,
) {
    let Some((name, t)) = sim.world.iface(dev).and_then(|i| match &i.kind {
        IfKind::Ipip(t) => Some((i.name.clone(), t.clone())),
        _ => None,
    }) else {
        return;
    };
    if sim.tracing() {
        sim.step(Step::TransmitIp {
            dev: name.clone(),
            packet: PacketRecord::new(&inner),
        });
    }
    // NBMA (`remote any`): the route's nexthop, the inner destination without a gateway.
    let outer_dst = t.remote.unwrap_or(nexthop);
    let inner_dst = inner.header.dst;
    let out = ip_output::route_output(&sim.world, ns, outer_dst, t.link);
    ip_output::step_route_output(sim, outer_dst, &out);
    let out = match out {
        Ok(o) if o.dev == dev => {
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("the route to the tunnel endpoint {outer_dst} goes through {name} itself: local routing loop"),
            );
            return;
        }
        Ok(o) => o,
        Err(e) => {
            // tx_error_icmp: dst_link_failure() tells the inner sender.
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!(
                    "no route to the tunnel endpoint {outer_dst} ({}): tx_carrier_errors",
                    e.strerror()
                ),
            );
            icmp::icmp_send(sim, ns, &inner, IcmpError::HostUnreachable, None);
            return;
        }
    };
    // tnl_update_pmtu: the inner packet must fit the underlay's MTU less the outer header.
    let under_mtu = sim.world.iface(out.dev).map(|i| i.mtu).unwrap_or(1500);
    let mtu = under_mtu.saturating_sub(crate::model::tunnel::IPIP_OVERHEAD) as usize;
    if inner.header.df && inner.total_len() > mtu && !out.local {
        sim.drop_packet(
            DropReason::PktTooBig,
            format!(
                "{} bytes with DF set do not fit the path through {} ({under_mtu} - 20 = {mtu})",
                inner.total_len(),
                sim.world.ifname(out.dev)
            ),
        );
        icmp::icmp_send(sim, ns, &inner, IcmpError::FragNeeded(mtu as u16), None);
        return;
    }
    let src = t.local.unwrap_or(out.src);
    let (ttl, why_ttl) = match t.ttl {
        0 => (inner.header.ttl, "ttl inherit: the inner TTL"),
        n => (n, "the tunnel's ttl"),
    };
    let df = t.pmtudisc || inner.header.df;
    let why_df = match (t.pmtudisc, inner.header.df) {
        (true, _) => "DF: pmtudisc",
        (false, true) => "DF copied from the inner packet",
        (false, false) => "no DF: neither pmtudisc nor DF inside",
    };
    let outer = Ipv4Packet {
        header: Ipv4Repr {
            src,
            dst: outer_dst,
            ttl,
            id: sim.world.next_ip_id(ns),
            df,
            tos: 0,
        },
        payload: IpPayload::Ipip(Box::new(inner)),
    };
    if sim.tracing() {
        let why_dst = match t.remote {
            Some(r) => format!("remote {r} of {name}"),
            None if nexthop != inner_dst => {
                format!("{name} has remote any: the route's gateway {nexthop}")
            }
            None => {
                format!("{name} has remote any and the route no gateway: the inner destination")
            }
        };
        sim.step(Step::Encap {
            dev: name,
            tunnel: "ipip".into(),
            outer: format!(
                "IPv4 {src} > {outer_dst} ttl {ttl}{} proto 4 len {}",
                if df { " DF" } else { "" },
                outer.total_len()
            ),
            detail: format!("destination: {why_dst}; {why_ttl}; {why_df}"),
        });
    }
    ip_output::ip_local_out_marked(sim, ns, outer, &out, mark);
}

/// The up ipip device among `devs` that takes a packet from `src` to `dst`: the best
/// match of its endpoints, the lowest ifindex among equals (as `ip_tunnel_lookup`).
fn taker<'a>(
    devs: impl Iterator<Item = &'a crate::model::link::Interface>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> Option<(u8, u32, crate::model::IfId)> {
    devs.filter(|i| i.up)
        .filter_map(|i| match &i.kind {
            IfKind::Ipip(t) => match_rank(t, src, dst).map(|r| (r, i.ifindex, i.id)),
            _ => None,
        })
        .max_by_key(|(r, ifindex, _)| (*r, std::cmp::Reverse(*ifindex)))
}

/// How well a tunnel matches a received packet (`ip_tunnel_lookup`); higher is better.
fn match_rank(t: &IpTunnel, src: Ipv4Addr, dst: Ipv4Addr) -> Option<u8> {
    if t.fallback {
        return Some(0);
    }
    match (t.remote, t.local) {
        (Some(r), Some(l)) if r == src && l == dst => Some(4),
        (Some(r), None) if r == src => Some(3),
        (None, Some(l)) if l == dst => Some(2),
        (None, None) => Some(1),
        _ => None,
    }
}

/// `tunnel4_rcv` / `ipip_rcv`: an IPIP packet delivered to this namespace.
pub(crate) fn rcv(sim: &mut Sim, ns: NsId, outer: Ipv4Packet) {
    let (src, dst) = (outer.header.src, outer.header.dst);
    let best = match sim.layout() {
        // The namespace's tunnels, as the layout lists them (no event adds one).
        Some(layout) => {
            let best = taker(
                layout.ipip_devs(ns).filter_map(|d| sim.world.iface(d)),
                src,
                dst,
            );
            debug_assert_eq!(best, taker(sim.world.ns_devs(ns), src, dst));
            best
        }
        None => taker(sim.world.ns_devs(ns), src, dst),
    };
    let Some((_, _, dev)) = best else {
        if sim.tracing() {
            sim.step(Step::LocalDeliver {
                detail: format!("IPIP from {src}: no up ipip tunnel here takes it"),
            });
        }
        sim.drop_packet(
            DropReason::NoSocket,
            format!("tunnel4_rcv: no tunnel for {src} -> {dst}, ICMP port unreachable"),
        );
        icmp::icmp_send(sim, ns, &outer, IcmpError::PortUnreachable, None);
        return;
    };
    let IpPayload::Ipip(inner) = outer.payload else {
        return;
    };
    let name = sim.world.ifname(dev);
    if sim.tracing() {
        let which = match sim.world.iface(dev).map(|i| &i.kind) {
            Some(IfKind::Ipip(t)) if t.fallback => {
                format!("the fallback device {name} (remote any, local any)")
            }
            _ => format!("{name}, whose endpoints match {src} -> {dst}"),
        };
        sim.step(Step::Decap {
            dev: name.clone(),
            tunnel: "ipip".into(),
            detail: format!(
                "outer {src} -> {dst} taken by {which}; inner {} -> {} ttl {} received on {name}",
                inner.header.src, inner.header.dst, inner.header.ttl
            ),
        });
    }
    if sim.tracing() {
        sim.step(Step::ReceiveIp {
            dev: name,
            packet: PacketRecord::new(&inner),
        });
    }
    // The inner packet starts afresh (skb_scrub_packet): no conntrack entry, no mark.
    ip_input::ip_rcv(sim, dev, *inner, PktType::Host);
}
