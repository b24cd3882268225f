//! IPv4 output: the output routing decision (`ip_route_output_key`), `ip_local_out`,
//! `ip_output`/`ip_finish_output2`, and the device transmit (`dev_queue_xmit`, veth,
//! cables, loopback).

use super::netfilter as nf;
use super::{arp, bridge, Event, LoopbackEvent, OnWire, Sim, WIRE_DELAY_US};
use crate::model::{IfId, IfKind, NsId, Route, RouteType, Table, World};
use crate::trace::{DropReason, FrameRecord, Step, Words};
use crate::wire::{Frame, Ipv4Packet};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Where a locally generated packet goes.
#[derive(Clone, Debug)]
pub struct OutputRoute {
    /// The route used.
    pub route: Route,
    /// Output device (`lo` for our own addresses).
    pub dev: IfId,
    /// The next hop (the gateway, or the destination itself).
    pub nexthop: Ipv4Addr,
    /// The source address the kernel picks.
    pub src: Ipv4Addr,
    /// The destination is one of our own addresses (goes through `lo`).
    pub local: bool,
}

/// Why the kernel refuses to route a locally generated packet; each is an errno that
/// `connect()`/`sendto()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputError {
    /// No route (`ENETUNREACH`).
    NetUnreachable,
    /// An `unreachable` route (`EHOSTUNREACH`).
    HostUnreachable,
    /// A `prohibit` route (`EACCES`).
    Prohibited,
    /// A `blackhole` route (`EINVAL`).
    Blackhole,
    /// A broadcast address without `-b` (`EACCES` from the socket layer).
    Broadcast,
}

impl OutputError {
    /// The strerror text.
    pub fn strerror(self) -> &'static str {
        match self {
            OutputError::NetUnreachable => "Network is unreachable",
            OutputError::HostUnreachable => "No route to host",
            OutputError::Prohibited | OutputError::Broadcast => "Permission denied",
            OutputError::Blackhole => "Invalid argument",
        }
    }
}

/// `ip_route_output_key`: route a packet this namespace originates.
pub fn route_output(
    world: &World,
    ns: NsId,
    dst: Ipv4Addr,
    oif: Option<IfId>,
) -> Result<OutputRoute, OutputError> {
    let routes = &world.netns[ns].routes;
    if let Some(r) = routes.lpm(Table::Local, dst, |_| true) {
        match r.rtype {
            RouteType::Local => {
                return Ok(OutputRoute {
                    route: r.clone(),
                    dev: world.find_iface(ns, "lo").unwrap_or(usize::MAX),
                    nexthop: dst,
                    src: r.src.unwrap_or(dst),
                    local: true,
                })
            }
            RouteType::Broadcast => return Err(OutputError::Broadcast),
            _ => {}
        }
    }
    if dst == Ipv4Addr::BROADCAST {
        return Err(OutputError::Broadcast);
    }
    let r = routes
        .lpm(Table::Main, dst, |r| {
            oif.is_none() || r.dev == oif || r.dev.is_none()
        })
        .ok_or(OutputError::NetUnreachable)?;
    match r.rtype {
        RouteType::Unreachable => return Err(OutputError::HostUnreachable),
        RouteType::Prohibit => return Err(OutputError::Prohibited),
        RouteType::Blackhole => return Err(OutputError::Blackhole),
        _ => {}
    }
    let dev = r.dev.ok_or(OutputError::NetUnreachable)?;
    let src = r
        .src
        .or_else(|| world.select_src(ns, Some(dev), r.gateway.unwrap_or(dst)))
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    Ok(OutputRoute {
        route: r.clone(),
        dev,
        nexthop: r.gateway.unwrap_or(dst),
        src,
        local: false,
    })
}

/// "gateway X on dev Y" / "directly on dev Y", for trace steps.
pub(crate) fn nexthop_words(world: &World, route: &Route, dst: Ipv4Addr) -> String {
    let dev = route.dev.map(|d| world.ifname(d)).unwrap_or_default();
    match route.gateway {
        Some(gw) => format!("gateway {gw} on {dev}"),
        None => format!("{dst} directly on {dev}"),
    }
}

/// Record the output routing decision for a packet in a trace step.
pub(crate) fn step_route_output(
    sim: &mut Sim,
    dst: Ipv4Addr,
    r: &Result<OutputRoute, OutputError>,
) {
    if !sim.tracing() {
        return;
    }
    let step = match r {
        Ok(o) if o.local => Step::RouteOutput {
            dst,
            route: Some(Words::route(&sim.world, &o.route, true)),
            result: format!(
                "{dst} is one of our addresses: through lo, source {}",
                o.src
            ),
        },
        Ok(o) => Step::RouteOutput {
            dst,
            route: Some(Words::route(&sim.world, &o.route, false)),
            result: format!(
                "{}, source {}",
                nexthop_words(&sim.world, &o.route, dst),
                o.src
            ),
        },
        Err(e) => Step::RouteOutput {
            dst,
            route: None,
            result: format!("refused: {}", e.strerror()),
        },
    };
    sim.step(step);
}

/// `ip_local_out`: send a packet this namespace originates along a route already chosen:
/// the OUTPUT hook (which may translate the destination, in which case the packet is
/// routed again), then `ip_output`.
pub(crate) fn ip_local_out(sim: &mut Sim, ns: NsId, packet: Ipv4Packet, out: &OutputRoute) {
    ip_local_out_marked(sim, ns, packet, out, 0);
}

/// [`ip_local_out`] for a packet that already carries an skb mark: a tunnel's outer packet
/// keeps the inner packet's (`iptunnel_xmit` scrubs the skb with `xnet` false when the
/// tunnel stays in its namespace, and that keeps `skb->mark`; measured: a mark set in
/// FORWARD on a packet routed to a VXLAN device matches in OUTPUT and POSTROUTING on the
/// UDP packet around it).
pub(crate) fn ip_local_out_marked(
    sim: &mut Sim,
    ns: NsId,
    mut packet: Ipv4Packet,
    out: &OutputRoute,
    mark: u32,
) {
    let mut meta = nf::Meta {
        mark,
        ..nf::Meta::default()
    };
    let out_dev = if out.local { None } else { Some(out.dev) };
    let (verdict, rerouted) = nf::output(sim, ns, out_dev, &mut packet, &mut meta);
    if !apply_verdict(sim, ns, &packet, verdict, "OUTPUT") {
        return;
    }
    let mut route = out.clone();
    if rerouted {
        let r = route_output(&sim.world, ns, packet.header.dst, None);
        step_route_output(sim, packet.header.dst, &r);
        match r {
            Ok(o) => route = o,
            Err(e) => {
                sim.drop_packet(
                    DropReason::IpOutnoroutes,
                    format!(
                        "no route to the translated destination {} ({})",
                        packet.header.dst,
                        e.strerror()
                    ),
                );
                return;
            }
        }
    }
    if route.local {
        let lo = sim.world.find_iface(ns, "lo");
        // POSTROUTING (and the conntrack confirmation) come before the device: a packet
        // to a down lo is dropped by dev_queue_xmit with its connection already in the
        // table (measured: `conntrack -L` lists the echo request, [UNREPLIED]).
        if let Some(lo) = lo {
            let v = nf::postrouting(sim, ns, lo, &mut packet, nf::Phys::default(), &mut meta);
            if !apply_verdict(sim, ns, &packet, v, "POSTROUTING") {
                return;
            }
        }
        let lo_up = lo.and_then(|l| sim.world.iface(l)).is_some_and(|l| l.up);
        if !lo_up {
            sim.drop_packet(
                DropReason::LoopbackDown,
                "lo is down: packets to our own addresses go nowhere (ip link set lo up)",
            );
            return;
        }
        let hop = sim.hop();
        sim.schedule(
            WIRE_DELAY_US,
            Event::Loopback(Box::new(LoopbackEvent {
                ns,
                packet,
                meta,
                hop,
            })),
        );
        return;
    }
    ip_output(sim, ns, route.dev, route.nexthop, packet, meta);
}

/// Act on a hook's verdict: `true` to go on; a drop is recorded, a reject answered.
pub(crate) fn apply_verdict(
    sim: &mut Sim,
    ns: NsId,
    packet: &Ipv4Packet,
    v: nf::Verdict,
    hook: &str,
) -> bool {
    match v {
        nf::Verdict::Accept => true,
        nf::Verdict::Drop => {
            let cause = sim.last_nf_cause.clone().unwrap_or_default();
            sim.drop_packet(
                DropReason::NetfilterDrop,
                format!("dropped at {hook} by {cause}"),
            );
            false
        }
        nf::Verdict::Reject(with) => {
            let cause = sim.last_nf_cause.clone().unwrap_or_default();
            sim.drop_packet(
                DropReason::NetfilterDrop,
                format!(
                    "rejected at {hook} by {cause}, answering with {}",
                    with.name()
                ),
            );
            super::l4::reject(sim, ns, packet, with);
            false
        }
    }
}

/// `ip_output` / `ip_finish_output2`: the POSTROUTING hook, the MTU, then the neighbour
/// layer.
pub(crate) fn ip_output(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    nexthop: Ipv4Addr,
    mut packet: Ipv4Packet,
    mut meta: nf::Meta,
) {
    let v = nf::postrouting(sim, ns, dev, &mut packet, nf::Phys::default(), &mut meta);
    if !apply_verdict(sim, ns, &packet, v, "POSTROUTING") {
        return;
    }
    let mtu = sim.world.iface(dev).map(|i| i.mtu).unwrap_or(1500) as usize;
    if packet.total_len() > mtu {
        let (len, name) = (packet.total_len(), sim.world.ifname(dev));
        if !packet.header.df {
            sim.drop_packet(
                DropReason::SimLimit,
                format!("hopsim: {len} bytes without DF exceed {name}'s MTU {mtu}: Linux would fragment the packet, and IP fragmentation is not modelled"),
            );
            return;
        }
        sim.drop_packet(
            DropReason::PktTooBig,
            format!("{len} bytes with DF set do not fit {name}'s MTU {mtu}"),
        );
        super::icmp::icmp_send(
            sim,
            ns,
            &packet,
            super::icmp::IcmpError::FragNeeded(mtu as u16),
            None,
        );
        return;
    }
    if sim.world.iface(dev).is_some_and(|i| i.is_noarp_l3()) {
        super::ipip::xmit(sim, ns, dev, nexthop, packet, meta.mark);
        return;
    }
    arp::neigh_output(sim, ns, dev, nexthop, packet, meta.mark);
}

/// `dev_queue_xmit` for a frame the namespace's stack sends on `dev` (a bridge device
/// hands it to the bridge).
pub(crate) fn transmit(sim: &mut Sim, dev: IfId, frame: Frame) {
    transmit_marked(sim, dev, frame, 0);
}

/// [`transmit`] for a frame whose skb carries a mark: a VXLAN device passes it on to the
/// outer packet. (A frame a bridge forwards is sent with mark 0: hopsim does not carry
/// marks through the bridge.)
pub(crate) fn transmit_marked(sim: &mut Sim, dev: IfId, frame: Frame, mark: u32) {
    let is_bridge = sim.world.iface(dev).is_some_and(|i| i.is_bridge());
    if is_bridge {
        record_tx(sim, dev, &frame);
        bridge::br_dev_xmit(sim, dev, frame);
        return;
    }
    transmit_dev(sim, dev, frame, mark);
}

/// The transmit step of `frame` on `dev` (traced runs only), and the frame's bytes it
/// records.
fn record_tx(sim: &mut Sim, dev: IfId, frame: &Frame) -> Option<Arc<[u8]>> {
    if !sim.tracing() {
        return None;
    }
    let bytes = sim.emit(frame);
    record_tx_bytes(sim, dev, &bytes);
    Some(bytes)
}

fn record_tx_bytes(sim: &mut Sim, dev: IfId, bytes: &Arc<[u8]>) {
    if sim.tracing() {
        sim.step(Step::Transmit {
            dev: sim.world.ifname(dev),
            frame: FrameRecord::of_bytes(bytes),
        });
    }
}

/// Put a frame on `dev`'s wire: the peer receives it after the wire delay.
pub(crate) fn transmit_raw(sim: &mut Sim, dev: IfId, frame: Frame) {
    transmit_dev(sim, dev, frame, 0);
}

/// A port a flood goes out of: the port, and the device at the other end of its veth or
/// cable when the frame simply arrives there ([`straight_peer`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FloodPort {
    pub port: IfId,
    pub peer: Option<IfId>,
}

/// The device a frame `dev` sends arrives at with nothing else happening: `dev` is up, a
/// veth or a cabled NIC, and its peer is up. (No event of a simulation changes any of it.)
pub(crate) fn straight_peer(world: &crate::model::World, dev: IfId) -> Option<IfId> {
    let i = world.iface(dev).filter(|i| i.up)?;
    let peer = match &i.kind {
        IfKind::Veth { peer } => *peer,
        IfKind::Ether { peer } => (*peer)?,
        _ => return None,
    };
    world.iface(peer).is_some_and(|p| p.up).then_some(peer)
}

/// [`transmit_raw`] of one frame on several ports (a bridge's flood): built once, its
/// bytes shared by every copy, and the copies that reach a peer queued as one event (in
/// order: a VXLAN port's own sending comes between them).
pub(crate) fn transmit_raw_each<'a>(
    sim: &mut Sim,
    ports: impl Iterator<Item = &'a FloodPort>,
    at_most: usize,
    frame: &Frame,
) {
    let bytes = sim.tracing().then(|| sim.emit(frame));
    let wire = OnWire::new(frame.clone(), bytes);
    let mut peers = Vec::with_capacity(at_most);
    for p in ports {
        if sim.tracing() {
            record_tx_bytes(sim, p.port, wire.bytes());
        }
        let to = match p.peer {
            Some(peer) => Wire::Peer(peer),
            None => onto_wire(sim, p.port),
        };
        match to {
            Wire::Peer(peer) => peers.push(peer),
            Wire::Vxlan => {
                arrive_each(sim, std::mem::take(&mut peers), &wire);
                super::vxlan::xmit(sim, p.port, frame, wire.bytes(), 0);
            }
            Wire::Dropped => {}
        }
    }
    arrive_each(sim, peers, &wire);
}

fn arrive_each(sim: &mut Sim, peers: Vec<IfId>, wire: &Arc<OnWire>) {
    let hop = sim.hop();
    if let Some(event) = Event::arrive_each(peers, wire.clone(), hop) {
        sim.schedule(WIRE_DELAY_US, event);
    }
}

fn transmit_dev(sim: &mut Sim, dev: IfId, frame: Frame, mark: u32) {
    let bytes = record_tx(sim, dev, &frame);
    put_on_wire(sim, dev, OnWire::new(frame, bytes), mark);
}

/// Where a frame sent on a device goes.
enum Wire {
    /// To the device at the other end of the veth or cable.
    Peer(IfId),
    /// Into the VXLAN device's tunnel.
    Vxlan,
    /// Nowhere (the drop is recorded).
    Dropped,
}

/// Put a frame on `dev`'s wire: the peer receives it after the wire delay.
fn put_on_wire(sim: &mut Sim, dev: IfId, wire: Arc<OnWire>, mark: u32) {
    match onto_wire(sim, dev) {
        Wire::Peer(p) => {
            let hop = sim.hop();
            sim.schedule(WIRE_DELAY_US, Event::Arrive { dev: p, wire, hop });
        }
        Wire::Vxlan => super::vxlan::xmit(sim, dev, wire.frame(), wire.bytes(), mark),
        Wire::Dropped => {}
    }
}

/// Where a frame `dev` sends goes (a drop is recorded here).
fn onto_wire(sim: &mut Sim, dev: IfId) -> Wire {
    if let Some(peer) = straight_peer(&sim.world, dev) {
        return Wire::Peer(peer);
    }
    let Some(i) = sim.world.iface(dev) else {
        return Wire::Dropped;
    };
    if !i.up {
        let name = &i.name;
        sim.drop_packet(DropReason::DevReady, format!("{name} is down"));
        return Wire::Dropped;
    }
    let peer = match &i.kind {
        IfKind::Veth { peer } => Some(*peer),
        IfKind::Ether { peer } => *peer,
        IfKind::Dummy => {
            let name = &i.name;
            sim.drop_packet(
                DropReason::NotSpecified,
                format!("{name} is a dummy device: frames vanish"),
            );
            return Wire::Dropped;
        }
        IfKind::Vxlan(_) => return Wire::Vxlan,
        IfKind::Loopback | IfKind::Bridge(_) | IfKind::Ipip(_) => None,
    };
    match peer {
        Some(p) if sim.world.iface(p).is_some_and(|x| x.up) => return Wire::Peer(p),
        Some(p) => sim.drop_packet(
            DropReason::NoCarrier,
            format!(
                "{} has no carrier: its peer {} is down",
                sim.world.ifname(dev),
                sim.world.qualified_ifname(p)
            ),
        ),
        None => sim.drop_packet(
            DropReason::NoCarrier,
            format!(
                "{} has no carrier: nothing is plugged in",
                sim.world.ifname(dev)
            ),
        ),
    }
    Wire::Dropped
}
