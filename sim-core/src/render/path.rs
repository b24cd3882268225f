//! The path a trace took through the topology: the namespaces it visited, the devices it
//! crossed, the wires (veth pairs and cables) its frames travelled and the tunnels it
//! used. The diagrams highlight it.

use crate::model::{IfId, NsId, World};
use crate::trace::{Step, Trace};
use std::collections::BTreeSet;

/// Where a trace went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TracePath {
    /// Namespaces in the order first visited.
    pub nodes: Vec<NsId>,
    /// Devices a frame or packet was received on or sent out of.
    pub devices: BTreeSet<IfId>,
    /// Wires that carried a frame, as (smaller id, larger id).
    pub wires: BTreeSet<(IfId, IfId)>,
    /// Namespaces where a tunnel wrapped a packet.
    pub encap: BTreeSet<NsId>,
    /// Namespaces where a tunnel unwrapped one.
    pub decap: BTreeSet<NsId>,
    /// Namespaces where something was dropped.
    pub drops: BTreeSet<NsId>,
}

impl TracePath {
    /// Whether the wire between two devices carried a frame.
    pub fn has_wire(&self, a: IfId, b: IfId) -> bool {
        self.wires.contains(&(a.min(b), a.max(b)))
    }

    /// Whether the tunnel from `a` to `b` (either way) carried a packet.
    pub fn has_tunnel(&self, a: NsId, b: NsId) -> bool {
        (self.encap.contains(&a) && self.decap.contains(&b))
            || (self.encap.contains(&b) && self.decap.contains(&a))
    }
}

/// The path of a trace in `world` (the world the trace ran in).
pub fn trace_path(world: &World, trace: &Trace) -> TracePath {
    let mut p = TracePath::default();
    for h in &trace.hops {
        let Some((ns, _)) = world.live_netns().find(|(_, n)| n.name == h.node) else {
            continue;
        };
        if !p.nodes.contains(&ns) {
            p.nodes.push(ns);
        }
        for s in &h.steps {
            match s {
                Step::Receive { dev, .. } => {
                    if let Some(id) = world.find_iface(ns, dev) {
                        p.devices.insert(id);
                        if let Some(peer) = world.iface(id).and_then(|i| i.wire_peer()) {
                            p.wires.insert((id.min(peer), id.max(peer)));
                        }
                    }
                }
                Step::Transmit { dev, .. }
                | Step::TransmitIp { dev, .. }
                | Step::ReceiveIp { dev, .. } => {
                    if let Some(id) = world.find_iface(ns, dev) {
                        p.devices.insert(id);
                    }
                }
                Step::Encap { .. } => {
                    p.encap.insert(ns);
                }
                Step::Decap { .. } => {
                    p.decap.insert(ns);
                }
                Step::Drop { .. } => {
                    p.drops.insert(ns);
                }
                _ => {}
            }
        }
    }
    p
}
