//! The Linux bridge (`br_handle_frame`, `br_dev_xmit`): learning, FDB lookup, forwarding
//! to one port, flooding, and passing frames up to the bridge device itself.

use super::netfilter as nf;
use super::{ip_input, ip_output, receive, Sim};
use crate::model::{FdbEntry, IfId, IfKind};
use crate::trace::{BridgeAction, DropReason, Step};
use crate::wire::{Frame, Mac, L3};

/// Whether br_netfilter applies on this bridge: `bridge-nf-call-iptables` on and iptables
/// configured in its namespace.
fn br_nf_enabled(sim: &Sim, br: IfId) -> bool {
    sim.world.iface(br).map(|b| b.ns).is_some_and(|ns| {
        sim.world.netns[ns].sysctl.bridge_nf_call_iptables && nf::active(&sim.world, ns)
    })
}

/// A frame arrives on bridge port `port` of bridge `br`.
pub(crate) fn br_handle_frame(sim: &mut Sim, br: IfId, port: IfId, frame: Frame) {
    if !sim.world.port_forwarding(port) {
        let name = sim.world.ifname(br);
        sim.drop_packet(
            DropReason::DevReady,
            format!(
                "bridge {name} is down or port {} is not forwarding",
                sim.world.ifname(port)
            ),
        );
        return;
    }
    learn(sim, br, port, frame.src);
    let mut frame = frame;
    // br_netfilter (br_nf_pre_routing): a unicast IPv4 frame entering the bridge meets
    // iptables' PREROUTING first, whether it is for the host or to be bridged.
    let mut pre: Option<nf::Meta> = None;
    if !frame.dst.is_multicast() && br_nf_enabled(sim, br) {
        if let L3::Ipv4(p) = &frame.payload {
            let ns = sim.world.iface(br).map(|b| b.ns).unwrap_or(0);
            let mut packet = p.clone();
            let orig_dst = packet.header.dst;
            let mut meta = nf::Meta::default();
            let phys = nf::Phys {
                physdev_in: Some(port),
                physdev_out: None,
            };
            let v = nf::prerouting(sim, ns, br, &mut packet, phys, &mut meta);
            if !ip_output::apply_verdict(sim, ns, &packet, v, "PREROUTING (bridge)") {
                return;
            }
            if packet.header.dst != orig_dst {
                // br_nf_pre_routing_finish: a translated destination that the routing table
                // puts behind this same bridge is bridged straight to its neighbour
                // ("bridged DNAT", no TTL decrement); any other goes up to be routed.
                match bridged_dnat_mac(sim, ns, br, packet.header.dst) {
                    None if bridged_dnat_nexthop(sim, ns, br, packet.header.dst).is_some() => {
                        // The neighbour is not known yet: br_nf_pre_routing_finish_bridge hands
                        // the frame to the neighbour layer of the bridge, which resolves it and
                        // sends it on, still bridged (no routing, no TTL decrement).
                        let nh = bridged_dnat_nexthop(sim, ns, br, packet.header.dst)
                            .unwrap_or(packet.header.dst);
                        if sim.tracing() {
                            let brname = sim.world.ifname(br);
                            sim.step(Step::Arp {
                                detail: format!(
                                    "br_netfilter: the new destination {} is on {brname} itself: resolve it and bridge the frame (bridged DNAT, no routing)",
                                    packet.header.dst
                                )
                                .into(),
                            });
                        }
                        let phys = nf::Phys {
                            physdev_in: Some(port),
                            physdev_out: None,
                        };
                        let v = nf::forward(sim, ns, br, br, &packet, phys, &mut meta);
                        if !ip_output::apply_verdict(sim, ns, &packet, v, "FORWARD (bridged)") {
                            return;
                        }
                        let v = nf::postrouting(sim, ns, br, &mut packet, phys, &mut meta);
                        if !ip_output::apply_verdict(sim, ns, &packet, v, "POSTROUTING (bridged)") {
                            return;
                        }
                        super::arp::neigh_output(sim, ns, br, nh, packet, meta.mark);
                        return;
                    }
                    Some(mac) => {
                        if sim.tracing() {
                            sim.step(Step::Bridge {
                                bridge: sim.world.ifname(br),
                                action: BridgeAction::Local,
                            });
                        }
                        if sim.tracing() {
                            let brname = sim.world.ifname(br);
                            sim.step(Step::Arp {
                                detail: format!(
                                    "br_netfilter: the new destination {} is on {brname} itself: bridge the frame to {mac} (bridged DNAT, no routing)",
                                    packet.header.dst
                                )
                                .into(),
                            });
                        }
                        frame.dst = mac;
                    }
                    None => {
                        if sim.tracing() {
                            sim.step(Step::Bridge {
                                bridge: sim.world.ifname(br),
                                action: BridgeAction::Local,
                            });
                        }
                        ip_input::ip_rcv_after_prerouting(sim, ns, br, packet, meta);
                        return;
                    }
                }
            }
            frame.payload = L3::Ipv4(packet);
            pre = Some(meta);
        }
    }
    let dst = if frame.dst == sim.mac_of(br) {
        FdbHit::Local
    } else {
        fdb_find(sim, br, frame.dst)
    };
    if dst == FdbHit::Local {
        if sim.tracing() {
            sim.step(Step::Bridge {
                bridge: sim.world.ifname(br),
                action: BridgeAction::Local,
            });
        }
        match (pre, frame.payload) {
            (Some(meta), L3::Ipv4(packet)) => {
                let ns = sim.world.iface(br).map(|b| b.ns).unwrap_or(0);
                ip_input::ip_rcv_after_prerouting(sim, ns, br, packet, meta);
            }
            (_, payload) => receive::deliver_l2(
                sim,
                br,
                Frame {
                    dst: frame.dst,
                    src: frame.src,
                    payload,
                },
            ),
        }
        return;
    }
    if frame.dst.is_multicast() {
        flood(sim, br, Some(port), &frame, true);
        // br_pass_frame_up: the bridge device gets its copy after the flood.
        if sim.tracing() {
            sim.step(Step::Bridge {
                bridge: sim.world.ifname(br),
                action: BridgeAction::Local,
            });
        }
        receive::deliver_l2(sim, br, frame);
        return;
    }
    let learned = match dst {
        FdbHit::Learned(_, out) => Some(out),
        _ => None,
    };
    match learned {
        Some(out) if out == port => {
            if sim.tracing() {
                sim.step(Step::Bridge {
                    bridge: sim.world.ifname(br),
                    action: BridgeAction::Filtered,
                });
            }
            sim.drop_packet(
                DropReason::BridgeNoPort,
                format!("{} is behind the port it came in on", frame.dst),
            );
        }
        Some(out) => {
            if sim.tracing() {
                sim.step(Step::Bridge {
                    bridge: sim.world.ifname(br),
                    action: BridgeAction::Forward {
                        port: sim.world.ifname(out),
                    },
                });
            }
            if let Some(frame) = br_nf_forward(sim, br, port, out, frame, pre) {
                ip_output::transmit_raw(sim, out, frame);
            }
        }
        None => flood(sim, br, Some(port), &frame, false),
    }
}

/// The next hop of a translated destination that is routed through the bridge itself.
fn bridged_dnat_nexthop(
    sim: &Sim,
    ns: crate::model::NsId,
    br: IfId,
    dst: std::net::Ipv4Addr,
) -> Option<std::net::Ipv4Addr> {
    let routes = &sim.world.netns[ns].routes;
    let r = routes.fib_lookup(dst, |_| true)?;
    if r.dev != Some(br) || r.rtype != crate::model::RouteType::Unicast {
        return None;
    }
    Some(r.gateway.unwrap_or(dst))
}

/// The MAC to bridge a translated frame to, when its neighbour entry is known.
fn bridged_dnat_mac(
    sim: &Sim,
    ns: crate::model::NsId,
    br: IfId,
    dst: std::net::Ipv4Addr,
) -> Option<Mac> {
    let nh = bridged_dnat_nexthop(sim, ns, br, dst)?;
    sim.world
        .neigh(ns, br, nh)
        .filter(|n| n.state.is_valid())
        .and_then(|n| n.mac)
}

/// br_netfilter: with `net.bridge.bridge-nf-call-iptables = 1` (the default here), an IPv4
/// frame bridged from one port to another traverses iptables' FORWARD and POSTROUTING as
/// `-i BR -o BR` (PREROUTING ran when it entered), with `-m physdev` seeing the ports.
/// Returns the frame to send (translated by conntrack/NAT), or `None` when iptables
/// dropped it.
fn br_nf_forward(
    sim: &mut Sim,
    br: IfId,
    in_port: IfId,
    out_port: IfId,
    frame: Frame,
    pre: Option<nf::Meta>,
) -> Option<Frame> {
    let ns = sim.world.iface(br).map(|b| b.ns)?;
    let Some(mut meta) = pre else {
        return Some(frame);
    };
    let L3::Ipv4(packet) = &frame.payload else {
        return Some(frame);
    };
    let mut packet = packet.clone();
    let phys = nf::Phys {
        physdev_in: Some(in_port),
        physdev_out: Some(out_port),
    };
    let v = nf::forward(sim, ns, br, br, &packet, phys, &mut meta);
    if !ip_output::apply_verdict(sim, ns, &packet, v, "FORWARD (bridged)") {
        return None;
    }
    let phys = nf::Phys {
        physdev_in: None,
        physdev_out: Some(out_port),
    };
    let v = nf::postrouting(sim, ns, br, &mut packet, phys, &mut meta);
    if !ip_output::apply_verdict(sim, ns, &packet, v, "POSTROUTING (bridged)") {
        return None;
    }
    Some(Frame {
        dst: frame.dst,
        src: frame.src,
        payload: L3::Ipv4(packet),
    })
}

/// `br_dev_xmit`: the bridge device itself sends a frame (its own IP traffic).
pub(crate) fn br_dev_xmit(sim: &mut Sim, br: IfId, frame: Frame) {
    if frame.dst.is_multicast() {
        flood(sim, br, None, &frame, false);
        return;
    }
    match fdb_lookup(sim, br, frame.dst) {
        Some(out) => {
            if sim.tracing() {
                sim.step(Step::Bridge {
                    bridge: sim.world.ifname(br),
                    action: BridgeAction::Forward {
                        port: sim.world.ifname(out),
                    },
                });
            }
            ip_output::transmit_raw(sim, out, frame);
        }
        None => flood(sim, br, None, &frame, false),
    }
}

/// Copy a frame to every forwarding port but `except`. `passed_up`: the bridge device
/// also gets a copy (a broadcast), so no port to flood to is not a drop.
fn flood(sim: &mut Sim, br: IfId, except: Option<IfId>, frame: &Frame, passed_up: bool) {
    let all = sim.forwarding_ports(br);
    let ports = all.iter().filter(|p| Some(p.port) != except);
    if sim.tracing() {
        sim.step(Step::Bridge {
            bridge: sim.world.ifname(br),
            action: BridgeAction::Flood {
                ports: ports.clone().map(|p| sim.world.ifname(p.port)).collect(),
            },
        });
    }
    if ports.clone().next().is_none() && !passed_up {
        sim.drop_packet(
            DropReason::BridgeNoPort,
            if except.is_some() {
                "no other port to flood to"
            } else {
                "the bridge has no port to send on"
            },
        );
    }
    ip_output::transmit_raw_each(sim, ports, all.len(), frame);
}

/// What a bridge's FDB says of a MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FdbHit {
    /// One of the bridge's own ports has it (a local, permanent entry).
    Local,
    /// Learned behind a port (the first such entry: its index and the port).
    Learned(usize, IfId),
    /// Not known.
    Unknown,
}

/// Look a MAC up in one walk of the FDB (a bridge of a hundred ports has a hundred local
/// entries): a local entry wins over a learned one.
fn fdb_find(sim: &Sim, br: IfId, mac: Mac) -> FdbHit {
    let Some(IfKind::Bridge(b)) = sim.world.iface(br).map(|b| &b.kind) else {
        return FdbHit::Unknown;
    };
    let mut learned = FdbHit::Unknown;
    for (i, e) in b.fdb.iter().enumerate() {
        if e.mac != mac {
            continue;
        }
        if !e.dynamic {
            return FdbHit::Local;
        }
        if learned == FdbHit::Unknown {
            learned = FdbHit::Learned(i, e.port);
        }
    }
    learned
}

fn fdb_lookup(sim: &Sim, br: IfId, mac: Mac) -> Option<IfId> {
    match sim.world.iface(br).map(|b| &b.kind) {
        Some(IfKind::Bridge(b)) => b
            .fdb
            .iter()
            .find(|e| e.dynamic && e.mac == mac)
            .map(|e| e.port),
        _ => None,
    }
}

/// `br_fdb_update`: remember which port a source MAC is behind.
fn learn(sim: &mut Sim, br: IfId, port: IfId, src: Mac) {
    if src.is_multicast() || src == Mac::ZERO {
        return;
    }
    let hit = fdb_find(sim, br, src);
    if matches!(hit, FdbHit::Local) || matches!(hit, FdbHit::Learned(_, p) if p == port) {
        return;
    }
    // Only now write (a copy of) the bridge.
    let Some(IfKind::Bridge(b)) = sim.world.iface_mut(br).map(|b| &mut b.kind) else {
        return;
    };
    match hit {
        FdbHit::Learned(i, _) => {
            if let Some(e) = b.fdb.get_mut(i) {
                e.port = port;
            }
        }
        _ => b.fdb.push(FdbEntry {
            mac: src,
            port,
            dynamic: true,
        }),
    }
    if sim.tracing() {
        sim.step(Step::BridgeLearn {
            bridge: sim.world.ifname(br),
            mac: src,
            port: sim.world.ifname(port),
        });
    }
}
