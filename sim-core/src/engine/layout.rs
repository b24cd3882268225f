//! What a simulation derives from the world's devices and addresses, which no event
//! changes (no event adds, removes, enslaves, readdresses or sets up or down a device, nor
//! changes a route or a sysctl): each bridge's MAC and forwarding ports, what a flood's
//! receivers would make of an ARP request, each namespace's ipip tunnels and the source
//! address a device without one borrows. Built once for a world whose copies run many
//! simulations (`hopsim reach`'s pairs); a simulation without one finds what it needs as it
//! goes.

use super::ip_output::FloodPort;
use crate::model::{IfId, NsId, World};
use crate::wire::Mac;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// A world's layout ([`Layout::of`]).
#[derive(Debug, Default)]
pub struct Layout {
    /// Every live bridge, by id: its MAC and its forwarding ports.
    bridges: Vec<(IfId, Mac, Arc<[FloodPort]>)>,
    /// By device id.
    devs: Vec<DevLayout>,
    /// Every namespace's own addresses (the `local` host routes of its local table), as
    /// (address, namespace), sorted.
    local_hosts: Vec<(u32, NsId)>,
    /// The wider `local` routes of every namespace (`127.0.0.0/8` on `lo`, AnyIP routes).
    local_nets: Vec<Ipv4Net>,
    /// Every up ipip device, as (namespace, device), sorted: where a namespace looks for
    /// the tunnel an IPIP packet arrives for (a node has a hundred other devices).
    ipip: Vec<(NsId, IfId)>,
    /// By namespace: [`World::fallback_src`], the source address of a device without one.
    fallback_src: Vec<Option<Ipv4Addr>>,
}

/// What a device is, for the frames a flood brings it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DevLayout {
    /// Its namespace.
    pub ns: NsId,
    /// Its MAC on the wire.
    pub mac: Mac,
    flags: u8,
}

/// `proxy_arp` is on for the device.
const PROXY_ARP: u8 = 1;
/// A program answers ARP requests on the device.
const RESPONDER: u8 = 2;
/// The device exists, is up, and hands what it receives to its own namespace's stack (no
/// bridge is its master, it is no bridge itself).
const PLAIN: u8 = 4;

impl DevLayout {
    /// `proxy_arp` is on.
    pub fn proxy_arp(self) -> bool {
        self.flags & PROXY_ARP != 0
    }

    /// A program may answer ARP requests on it.
    pub fn responder(self) -> bool {
        self.flags & RESPONDER != 0
    }

    /// An ARP request for an address it does not own reaches nothing that could answer:
    /// a plain, up device without proxy ARP or a responder.
    pub fn ignores_others_requests(self) -> bool {
        self.flags & (PLAIN | PROXY_ARP | RESPONDER) == PLAIN
    }

    /// An up device that hands frames to its own stack.
    pub fn plain(self) -> bool {
        self.flags & PLAIN != 0
    }
}

impl Layout {
    /// The layout of a world.
    pub fn of(world: &World) -> Layout {
        let bridges = world
            .live_ifaces()
            .filter(|i| i.is_bridge())
            .map(|i| (i.id, world.mac_of(i.id), forwarding_ports(world, i.id)))
            .collect::<Vec<_>>();
        let devs = (0..world.ifaces.len())
            .map(|id| {
                let Some(i) = world.iface(id) else {
                    return DevLayout::default();
                };
                let n = &world.netns[i.ns];
                let mut flags = 0;
                if n.sysctl.proxy_arp(id) {
                    flags |= PROXY_ARP;
                }
                if n.arp_responders.iter().any(|r| r.dev == id) {
                    flags |= RESPONDER;
                }
                if i.up && i.master.is_none() && !i.is_bridge() {
                    flags |= PLAIN;
                }
                DevLayout {
                    ns: i.ns,
                    mac: world.mac_of(id),
                    flags,
                }
            })
            .collect();
        let mut local_hosts = Vec::new();
        let mut local_nets: Vec<Ipv4Net> = Vec::new();
        for (ns, n) in world.netns.iter().enumerate() {
            let (hosts, nets) = n.routes.local_addrs();
            local_hosts.extend(hosts.iter().map(|h| (*h, ns)));
            for net in nets {
                if !local_nets.contains(net) {
                    local_nets.push(*net);
                }
            }
        }
        local_hosts.sort_unstable();
        let mut ipip: Vec<(NsId, IfId)> = world
            .live_ifaces()
            .filter(|i| i.up && matches!(i.kind, crate::model::IfKind::Ipip(_)))
            .map(|i| (i.ns, i.id))
            .collect();
        ipip.sort_unstable();
        Layout {
            bridges,
            devs,
            local_hosts,
            local_nets,
            ipip,
            fallback_src: (0..world.netns.len())
                .map(|ns| world.fallback_src(ns))
                .collect(),
        }
    }

    fn bridge(&self, br: IfId) -> Option<&(IfId, Mac, Arc<[FloodPort]>)> {
        self.bridges
            .binary_search_by_key(&br, |b| b.0)
            .ok()
            .map(|i| &self.bridges[i])
    }

    /// A bridge's MAC.
    pub(crate) fn bridge_mac(&self, br: IfId) -> Option<Mac> {
        self.bridge(br).map(|b| b.1)
    }

    /// A bridge's forwarding ports, in ifindex order, with their peers.
    pub(crate) fn forwarding_ports(&self, br: IfId) -> Option<Arc<[FloodPort]>> {
        self.bridge(br).map(|b| b.2.clone())
    }

    /// A device.
    pub(crate) fn dev(&self, id: IfId) -> Option<DevLayout> {
        self.devs.get(id).copied()
    }

    /// The namespaces that own `ip` (one of their `local` host routes), as a range of
    /// [`Layout::owner`]; `None` when some namespace's wider local route covers it (then
    /// only that namespace's routes can tell).
    pub(crate) fn owners(&self, ip: Ipv4Addr) -> Option<std::ops::Range<usize>> {
        if self.local_nets.iter().any(|n| n.contains(&ip)) {
            return None;
        }
        let ip = u32::from(ip);
        let from = self.local_hosts.partition_point(|(h, _)| *h < ip);
        let to = from + self.local_hosts[from..].partition_point(|(h, _)| *h == ip);
        Some(from..to)
    }

    /// [`World::fallback_src`] of namespace `ns`.
    pub(crate) fn fallback_src(&self, ns: NsId) -> Option<Ipv4Addr> {
        self.fallback_src.get(ns).copied().flatten()
    }

    /// The up ipip devices of namespace `ns`, by id.
    pub(crate) fn ipip_devs(&self, ns: NsId) -> impl Iterator<Item = IfId> + '_ {
        let from = self.ipip.partition_point(|(n, _)| *n < ns);
        self.ipip[from..]
            .iter()
            .take_while(move |(n, _)| *n == ns)
            .map(|(_, d)| *d)
    }

    /// The namespaces of a range [`Layout::owners`] gave.
    pub(crate) fn owner(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = NsId> + '_ {
        self.local_hosts[range].iter().map(|(_, ns)| *ns)
    }
}

/// The ports of bridge `br` that forward frames, in ifindex order ([`World::bridge_ports`]
/// that pass [`World::port_forwarding`]).
pub(crate) fn forwarding_ports(world: &World, br: IfId) -> Arc<[FloodPort]> {
    world
        .bridge_ports(br)
        .into_iter()
        .filter(|p| world.port_forwarding(*p))
        .map(|port| FloodPort {
            port,
            peer: super::ip_output::straight_peer(world, port),
        })
        .collect()
}
