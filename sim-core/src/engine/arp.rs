//! Neighbour resolution (`neigh_resolve_output`, `arp_solicit`, `arp_process`, the NUD
//! timers): ARP requests and replies as real frames, the cache's states, proxy ARP.

use super::receive::PktType;
use super::{
    icmp, ip_input, ip_output, Event, Pending, Sim, ARP_MCAST_SOLICIT, ARP_RETRANS_US,
    ARP_UNRES_QLEN,
};
use crate::model::{IfId, Neighbour, NsId, NudState, RouteType};
use crate::trace::{Cause, DropReason, Step, Words};
use crate::wire::{ArpOp, ArpRepr, Frame, Ipv4Packet, Mac, L3};
use std::net::Ipv4Addr;

fn state_name(e: Option<&Neighbour>) -> &'static str {
    e.map(|e| e.state.name()).unwrap_or("none")
}

/// `neigh_resolve_output`: send `packet` (with its skb `mark`) to `nexthop` through `dev`,
/// resolving its MAC.
pub(crate) fn neigh_output(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    nexthop: Ipv4Addr,
    packet: Ipv4Packet,
    mark: u32,
) {
    let before = sim.world.neigh(ns, dev, nexthop).cloned();
    match before.as_ref().map(|e| (e.state, e.mac)) {
        Some((state, Some(mac))) if state.is_valid() => {
            let new = if state == NudState::Stale {
                NudState::Delay
            } else {
                state
            };
            if let Some(e) = sim.world.neigh_mut(ns, dev, nexthop) {
                e.state = new;
            }
            if sim.tracing() {
                sim.step(Step::Neigh {
                    nexthop,
                    dev: sim.world.ifname(dev),
                    state: if new == state {
                        Words::Fixed(state.name())
                    } else {
                        Words::Transition(state.name(), new.name())
                    },
                    mac: Some(mac),
                    detail: Words::IsAt {
                        ip: nexthop,
                        mac,
                        note: if new == state {
                            ""
                        } else {
                            " (stale entry used: confirm it soon)"
                        },
                    },
                });
            }
            let frame = Frame {
                dst: mac,
                src: sim.mac_of(dev),
                payload: L3::Ipv4(packet),
            };
            ip_output::transmit_marked(sim, dev, frame, mark);
        }
        Some((NudState::Incomplete, _)) => {
            let q = sim.arp_queue.entry((ns, dev, nexthop)).or_default();
            if q.len() >= ARP_UNRES_QLEN {
                sim.drop_packet(DropReason::NeighFailed, "ARP queue full (unres_qlen)");
                return;
            }
            q.push(Pending { packet, mark });
            if sim.tracing() {
                sim.step(Step::Neigh {
                    nexthop,
                    dev: sim.world.ifname(dev),
                    state: "INCOMPLETE".into(),
                    mac: None,
                    detail: "resolution already in progress: packet queued".into(),
                });
            }
        }
        _ => {
            // No entry, or FAILED: start resolving (`__neigh_event_send`).
            let src = packet.header.src;
            match sim.world.neigh_mut(ns, dev, nexthop) {
                Some(e) => {
                    e.state = NudState::Incomplete;
                    e.mac = None;
                }
                None => sim.world.netns[ns].neigh.push(Neighbour {
                    ip: nexthop,
                    dev,
                    mac: None,
                    state: NudState::Incomplete,
                }),
            }
            sim.arp_queue
                .entry((ns, dev, nexthop))
                .or_default()
                .push(Pending { packet, mark });
            if sim.tracing() {
                sim.step(Step::Neigh {
                    nexthop,
                    dev: sim.world.ifname(dev),
                    state: Words::Transition(state_name(before.as_ref()), "INCOMPLETE"),
                    mac: None,
                    detail: format!("no MAC for {nexthop}: packet queued, ARP request broadcast")
                        .into(),
                });
            }
            arp_solicit(sim, ns, dev, nexthop, Some(src));
            let hop = sim.hop();
            sim.schedule(
                ARP_RETRANS_US,
                Event::NeighTimer {
                    ns,
                    dev,
                    ip: nexthop,
                    probes: 1,
                    hop,
                },
            );
        }
    }
}

/// `arp_solicit`: broadcast a who-has. The sender address is the queued packet's source when
/// it is ours (`arp_announce` 0), else the device's address for the target.
fn arp_solicit(sim: &mut Sim, ns: NsId, dev: IfId, target: Ipv4Addr, pkt_src: Option<Ipv4Addr>) {
    let sender_ip = pkt_src
        .filter(|s| sim.world.is_local_addr(ns, *s))
        .or_else(|| sim.select_src(ns, Some(dev), target))
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let frame = who_has(sim.mac_of(dev), sender_ip, target);
    ip_output::transmit(sim, dev, frame);
}

/// A broadcast ARP request for `target` from `mac`/`sender_ip`.
pub(crate) fn who_has(mac: Mac, sender_ip: Ipv4Addr, target: Ipv4Addr) -> Frame {
    Frame {
        dst: Mac::BROADCAST,
        src: mac,
        payload: L3::Arp(ArpRepr {
            op: ArpOp::Request,
            sender_mac: mac,
            sender_ip,
            target_mac: Mac::ZERO,
            target_ip: target,
        }),
    }
}

/// An INCOMPLETE entry's timer: probe again, or fail and report every queued packet.
pub(crate) fn neigh_timer(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    ip: Ipv4Addr,
    probes: u8,
    hop: usize,
) {
    let still_incomplete = sim
        .world
        .neigh(ns, dev, ip)
        .is_some_and(|e| e.state == NudState::Incomplete);
    if !still_incomplete {
        return;
    }
    sim.begin_hop(ns, Cause::Timer { hop });
    let devname = sim.world.ifname(dev);
    if probes < ARP_MCAST_SOLICIT {
        if sim.tracing() {
            sim.step(Step::Neigh {
                nexthop: ip,
                dev: devname,
                state: "INCOMPLETE".into(),
                mac: None,
                detail: format!("no answer yet: probe {} of {ARP_MCAST_SOLICIT}", probes + 1)
                    .into(),
            });
        }
        let src = sim
            .arp_queue
            .get(&(ns, dev, ip))
            .and_then(|q| q.first())
            .map(|p| p.packet.header.src);
        arp_solicit(sim, ns, dev, ip, src);
        sim.schedule(
            ARP_RETRANS_US,
            Event::NeighTimer {
                ns,
                dev,
                ip,
                probes: probes + 1,
                hop: sim.hop(),
            },
        );
        return;
    }
    if let Some(e) = sim.world.neigh_mut(ns, dev, ip) {
        e.state = NudState::Failed;
    }
    if sim.tracing() {
        sim.step(Step::Neigh {
            nexthop: ip,
            dev: devname.clone(),
            state: "INCOMPLETE -> FAILED".into(),
            mac: None,
            detail: format!("{ARP_MCAST_SOLICIT} ARP requests for {ip} went unanswered").into(),
        });
    }
    let queued = sim.arp_queue.remove(&(ns, dev, ip)).unwrap_or_default();
    for p in queued {
        sim.drop_packet(
            DropReason::NeighFailed,
            format!(
                "{} -> {}: no MAC for next hop {ip} on {devname}",
                p.packet.header.src, p.packet.header.dst
            ),
        );
        // arp_error_report: host unreachable back to the sender.
        icmp::icmp_send(sim, ns, &p.packet, icmp::IcmpError::HostUnreachable, None);
    }
}

/// `arp_rcv`/`arp_process`.
pub(crate) fn arp_rcv(sim: &mut Sim, dev: IfId, eth_src: Mac, arp: ArpRepr, pkt_type: PktType) {
    let Some(ns) = sim.world.iface(dev).map(|i| i.ns) else {
        return;
    };
    let sip = arp.sender_ip;
    let tip = arp.target_ip;
    if arp.op == ArpOp::Request {
        let (for_us, proxy) = request_answered(sim, ns, dev, &arp);
        if for_us || proxy {
            // neigh_event_ns: the asker is now known (STALE), without downgrading a
            // confirmed entry that already has this MAC.
            learn(sim, ns, dev, sip, arp.sender_mac, NudState::Stale, true);
            let mac = sim.mac_of(dev);
            if sim.tracing() {
                sim.step(Step::Arp {
                    detail: if for_us {
                        format!("who-has {tip} tell {sip}: {tip} is ours, reply {tip} is-at {mac}")
                    } else {
                        format!(
                            "who-has {tip} tell {sip}: proxy_arp on {} and {tip} is routed through another device, reply with our MAC {mac}",
                            sim.world.ifname(dev)
                        )
                    }
                    .into(),
                });
            }
            let reply = Frame {
                dst: eth_src,
                src: mac,
                payload: L3::Arp(ArpRepr {
                    op: ArpOp::Reply,
                    sender_mac: mac,
                    sender_ip: tip,
                    target_mac: arp.sender_mac,
                    target_ip: sip,
                }),
            };
            ip_output::transmit(sim, dev, reply);
            return;
        }
        // Not for us: refresh an entry we already have for the sender.
        if sim.world.neigh(ns, dev, sip).is_some() {
            learn(sim, ns, dev, sip, arp.sender_mac, NudState::Stale, false);
        }
        if sim.tracing() {
            sim.step(Step::Arp {
                detail: Words::ArpNotOurs {
                    target: tip,
                    sender: sip,
                },
            });
        }
        // A program on a packet socket saw the request too and answers for an address it
        // announces (MetalLB's L2 speaker), with the device's MAC.
        let responder = responder(sim, ns, dev, tip).map(|r| r.process.clone());
        if let Some(process) = responder {
            let mac = sim.mac_of(dev);
            if sim.tracing() {
                sim.step(Step::Arp {
                    detail: format!(
                        "who-has {tip} tell {sip}: {process} (a packet socket on {}) announces {tip}, reply {tip} is-at {mac}",
                        sim.world.ifname(dev)
                    )
                    .into(),
                });
            }
            let reply = Frame {
                dst: eth_src,
                src: mac,
                payload: L3::Arp(ArpRepr {
                    op: ArpOp::Reply,
                    sender_mac: mac,
                    sender_ip: tip,
                    target_mac: arp.sender_mac,
                    target_ip: sip,
                }),
            };
            ip_output::transmit(sim, dev, reply);
        }
        return;
    }
    // A reply: it updates an entry we have; without one it is ignored (arp_accept = 0).
    if sim.world.neigh(ns, dev, sip).is_none() {
        if sim.tracing() {
            sim.step(Step::Arp {
                detail: format!(
                    "{sip} is-at {}: unsolicited, no entry to update, ignored",
                    arp.sender_mac
                )
                .into(),
            });
        }
        return;
    }
    let state = if pkt_type == PktType::Host {
        NudState::Reachable
    } else {
        NudState::Stale
    };
    if sim.tracing() {
        sim.step(Step::Arp {
            detail: format!("{sip} is-at {}: neighbour entry confirmed", arp.sender_mac).into(),
        });
    }
    learn(sim, ns, dev, sip, arp.sender_mac, state, false);
}

/// Whether a request is answered by the stack: (the target is ours, proxy ARP applies).
fn request_answered(sim: &Sim, ns: NsId, dev: IfId, arp: &ArpRepr) -> (bool, bool) {
    let for_us = sim.world.is_local_addr(ns, arp.target_ip);
    let proxy = !for_us && proxy_arp_applies(sim, ns, dev, arp.sender_ip, arp.target_ip);
    (for_us, proxy)
}

/// The packet-socket program that announces `tip` on `dev`.
fn responder(sim: &Sim, ns: NsId, dev: IfId, tip: Ipv4Addr) -> Option<&crate::model::ArpResponder> {
    sim.world.netns[ns]
        .arp_responders
        .iter()
        .find(|r| r.dev == dev && r.addr == tip)
}

/// Whether [`arp_rcv`] does nothing with this frame's ARP but say so: a request nobody here
/// answers (not our address, no proxy ARP, no responder) from a sender we hold no entry
/// for (none to refresh).
pub(crate) fn request_ignored(sim: &Sim, ns: NsId, dev: IfId, arp: &ArpRepr) -> bool {
    arp.op == ArpOp::Request
        && request_answered(sim, ns, dev, arp) == (false, false)
        && sim.world.neigh(ns, dev, arp.sender_ip).is_none()
        && (!sim.may_respond_arp(ns, dev) || responder(sim, ns, dev, arp.target_ip).is_none())
}

/// `neigh_update`: set an entry's MAC and state, and send what was waiting for it.
fn learn(
    sim: &mut Sim,
    ns: NsId,
    dev: IfId,
    ip: Ipv4Addr,
    mac: Mac,
    state: NudState,
    create: bool,
) {
    let before = sim.world.neigh(ns, dev, ip).cloned();
    let new_state = match &before {
        Some(e) if matches!(e.state, NudState::Permanent | NudState::Noarp) => return,
        Some(e) if state == NudState::Stale && e.mac == Some(mac) && e.state.is_valid() => e.state,
        _ => state,
    };
    match sim.world.neigh_mut(ns, dev, ip) {
        Some(e) => {
            e.mac = Some(mac);
            e.state = new_state;
        }
        None if create => sim.world.netns[ns].neigh.push(Neighbour {
            ip,
            dev,
            mac: Some(mac),
            state: new_state,
        }),
        None => return,
    }
    let old = state_name(before.as_ref());
    if sim.tracing()
        && (old != new_state.name() || before.as_ref().and_then(|e| e.mac) != Some(mac))
    {
        sim.step(Step::Neigh {
            nexthop: ip,
            dev: sim.world.ifname(dev),
            state: Words::Transition(old, new_state.name()),
            mac: Some(mac),
            detail: Words::IsAt { ip, mac, note: "" },
        });
    }
    // Flush packets queued while the entry was INCOMPLETE.
    if let Some(queued) = sim.arp_queue.remove(&(ns, dev, ip)) {
        for p in queued {
            let frame = Frame {
                dst: mac,
                src: sim.mac_of(dev),
                payload: L3::Ipv4(p.packet),
            };
            ip_output::transmit_marked(sim, dev, frame, p.mark);
        }
    }
}

/// Proxy ARP (`arp_fwd_proxy`): the target is routed (and would be forwarded) through a
/// device other than the one the request came in on, and `proxy_arp` is on for that device.
fn proxy_arp_applies(sim: &Sim, ns: NsId, dev: IfId, sip: Ipv4Addr, tip: Ipv4Addr) -> bool {
    if !sim.proxy_arp(ns, dev) || sip == Ipv4Addr::UNSPECIFIED {
        return false;
    }
    match ip_input::route_input(sim, ns, dev, tip) {
        ip_input::InputRoute::Forward { route, .. } => {
            route.rtype == RouteType::Unicast && route.dev.is_some_and(|d| d != dev)
        }
        _ => false,
    }
}
