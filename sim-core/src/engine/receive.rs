//! Frame reception (`netif_receive_skb`, `eth_type_trans`): a frame arriving on a device is
//! handed to its bridge if the device is a bridge port, otherwise classified by destination
//! MAC and passed to ARP or IPv4.

use super::{arp, bridge, ip_input, OnWire, Sim};
use crate::model::IfId;
use crate::trace::{Cause, DropReason, FrameRecord, Step};
use crate::wire::{Frame, L3};
use std::sync::Arc;

/// How a frame was addressed relative to the receiving device (`skb->pkt_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PktType {
    /// To this device's MAC.
    Host,
    /// To ff:ff:ff:ff:ff:ff.
    Broadcast,
    /// To a group address.
    Multicast,
    /// To someone else (`PACKET_OTHERHOST`).
    OtherHost,
}

/// Bytes arrive on `dev` from its wire: a new hop in the device's namespace.
/// The frame's last receiver (the only one of a unicast) takes the frame; the others copy
/// it.
pub(crate) fn netif_receive(sim: &mut Sim, dev: IfId, wire: Arc<OnWire>, from_hop: usize) {
    let Some(i) = sim.world.iface(dev) else {
        return;
    };
    let (ns, up, master) = (i.ns, i.up, i.master);
    sim.begin_hop(ns, Cause::Frame { hop: from_hop });
    if sim.tracing() {
        sim.step(Step::Receive {
            dev: sim.world.ifname(dev),
            frame: FrameRecord::of_bytes(wire.bytes()),
        });
    }
    let frame = OnWire::into_frame(wire);
    if !up {
        let name = sim.world.ifname(dev);
        sim.drop_packet(DropReason::DevReady, format!("{name} is down"));
        return;
    }
    dispatch(sim, dev, master, frame);
}

/// Quiet mode: whether the frame leaves this device's namespace as it found it and records
/// nothing, so its hop needs no more than opening: a flood's copy for another MAC (the
/// `OTHERHOST` drop, which quiet mode does not record) or an ARP request `arp_rcv` ignores
/// ([`arp::request_ignored`]). The full check, asked of the device and its namespace:
/// [`quiet_bystander`] answers from the layout, and is checked against it in debug builds.
fn bystander(sim: &Sim, ns: crate::model::NsId, dev: IfId, wire: &OnWire) -> bool {
    let frame = wire.frame();
    if frame.dst.is_broadcast() {
        return matches!(&frame.payload, L3::Arp(a) if arp::request_ignored(sim, ns, dev, a));
    }
    !frame.dst.is_multicast() && frame.dst != sim.mac_of(dev)
}

/// What a quiet flood's receivers are checked against, worked out once per flood
/// ([`quiet_bystander`]).
#[derive(Clone)]
pub(crate) enum FloodFrame {
    /// A broadcast ARP request from `sip` for `tip`, which the namespaces at `owners` in the
    /// layout own ([`super::Layout::owners`]).
    ArpRequest {
        sip: std::net::Ipv4Addr,
        owners: std::ops::Range<usize>,
    },
    /// A frame to one MAC (an unknown unicast).
    Unicast(crate::wire::Mac),
}

impl FloodFrame {
    /// The kind of flood `wire` is, when [`quiet_bystander`] can tell its bystanders.
    pub(crate) fn of(sim: &Sim, wire: &OnWire) -> Option<FloodFrame> {
        let frame = wire.frame();
        match &frame.payload {
            L3::Arp(a) if frame.dst.is_broadcast() && a.op == crate::wire::ArpOp::Request => {
                Some(FloodFrame::ArpRequest {
                    sip: a.sender_ip,
                    owners: sim.layout()?.owners(a.target_ip)?,
                })
            }
            _ if !frame.dst.is_multicast() => Some(FloodFrame::Unicast(frame.dst)),
            _ => None,
        }
    }
}

/// Quiet mode, with the world's [`super::Layout`]: the namespace of a flood's receiver
/// `dev` that would only open a hop ([`bystander`]'s answer, told from the layout and the
/// receiver's neighbour table alone, without reading its device or routes): a copy for
/// another MAC, or an ARP request for an address it does not own on a device that nothing
/// answers on for others, from a sender it holds no entry for.
pub(crate) fn quiet_bystander(
    sim: &Sim,
    dev: IfId,
    flood: &FloodFrame,
    wire: &OnWire,
) -> Option<crate::model::NsId> {
    let layout = sim.layout()?;
    let d = layout.dev(dev)?;
    let ignored = match flood {
        FloodFrame::Unicast(dst) => d.plain() && *dst != d.mac,
        FloodFrame::ArpRequest { sip, owners } => {
            d.ignores_others_requests()
                && !layout.owner(owners.clone()).any(|ns| ns == d.ns)
                && sim.world.neigh(d.ns, dev, *sip).is_none()
        }
    };
    debug_assert!(
        !ignored
            || sim
                .world
                .iface(dev)
                .is_some_and(|i| i.ns == d.ns && bystander(sim, d.ns, dev, wire)),
        "the layout's bystander {} is not one",
        sim.world.qualified_ifname(dev)
    );
    ignored.then_some(d.ns)
}

/// A frame a tunnel device decapsulated (`bytes`, as carried) is received on it (`netif_rx`
/// from `vxlan_rcv`): recorded, then handed to its bridge or its protocol, in the current hop.
pub(crate) fn receive_frame(sim: &mut Sim, dev: IfId, frame: Frame, bytes: &[u8]) {
    let Some(master) = sim.world.iface(dev).map(|i| i.master) else {
        return;
    };
    if sim.tracing() {
        sim.step(Step::Receive {
            dev: sim.world.ifname(dev),
            frame: FrameRecord::of_bytes(&bytes.into()),
        });
    }
    dispatch(sim, dev, master, frame);
}

fn dispatch(sim: &mut Sim, dev: IfId, master: Option<IfId>, frame: Frame) {
    match master {
        Some(br) => bridge::br_handle_frame(sim, br, dev, frame),
        None => deliver_l2(sim, dev, frame),
    }
}

/// `eth_type_trans` and the protocol handlers: a frame for device `dev` (a plain device, or
/// a bridge device receiving from its own ports).
pub(crate) fn deliver_l2(sim: &mut Sim, dev: IfId, frame: Frame) {
    let mac = sim.mac_of(dev);
    let pkt_type = if frame.dst == mac {
        PktType::Host
    } else if frame.dst.is_broadcast() {
        PktType::Broadcast
    } else if frame.dst.is_multicast() {
        PktType::Multicast
    } else {
        PktType::OtherHost
    };
    if pkt_type == PktType::OtherHost {
        let name = sim.world.ifname(dev);
        sim.drop_packet(
            DropReason::Otherhost,
            format!("destination MAC {} is not {name}'s ({mac})", frame.dst),
        );
        return;
    }
    match frame.payload {
        L3::Arp(a) => arp::arp_rcv(sim, dev, frame.src, a, pkt_type),
        L3::Ipv4(p) => ip_input::ip_rcv(sim, dev, p, pkt_type),
    }
}
