//! Network devices: loopback, veth, physical NICs on a cable, bridges, dummies.

use super::{IfId, NsId};
use crate::wire::Mac;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;

/// What kind of device an interface is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IfKind {
    /// `lo`: created DOWN in every new namespace.
    Loopback,
    /// One end of a veth pair.
    Veth {
        /// The other end (possibly in another namespace).
        peer: IfId,
    },
    /// A physical NIC, optionally cabled to another NIC or to a switch port.
    Ether {
        /// The device at the other end of the cable, if any.
        peer: Option<IfId>,
    },
    /// A Linux bridge.
    Bridge(Bridge),
    /// A dummy device (no carrier partner; frames sent to it vanish).
    Dummy,
}

/// Bridge state: the forwarding database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Bridge {
    /// Learned and static FDB entries.
    pub fdb: Vec<FdbEntry>,
    /// Whether a port was ever attached: a bridge that never had a port reports carrier
    /// (state UNKNOWN), one whose last port left reports NO-CARRIER, as the kernel does.
    pub had_ports: bool,
}

/// One forwarding-database entry: this MAC is behind that port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FdbEntry {
    /// The station's MAC.
    pub mac: Mac,
    /// The bridge port it was learned on.
    pub port: IfId,
    /// Learned from traffic (`false`: a port's own address, `permanent`).
    pub dynamic: bool,
}

/// An IPv4 address on a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IfAddr {
    /// The address and prefix length, e.g. 192.168.15.1/24 (a bare address is a /32).
    pub net: Ipv4Net,
    /// A secondary address (same subnet as an earlier primary on the device).
    pub secondary: bool,
    /// The broadcast address, when one was given (`brd +` or `brd ADDR`, as Docker does);
    /// `ip addr` prints it. The kernel's broadcast route exists either way.
    pub brd: Option<Ipv4Addr>,
}

impl IfAddr {
    /// The address itself.
    pub fn addr(&self) -> Ipv4Addr {
        self.net.addr()
    }
}

/// A network device in a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Stable id inside the simulation.
    pub id: IfId,
    /// Device name, e.g. `veth-red`.
    pub name: String,
    /// The namespace it is in.
    pub ns: NsId,
    /// The ifindex the kernel would show (per namespace, in creation order).
    pub ifindex: u32,
    /// The device type.
    pub kind: IfKind,
    /// The MAC address as configured (for a bridge, see [`crate::model::World::mac_of`]).
    pub mac: Mac,
    /// Whether the MAC was set explicitly (a bridge then stops following its ports).
    pub mac_set: bool,
    /// MTU.
    pub mtu: u32,
    /// Administrative state (`ip link set X up`).
    pub up: bool,
    /// The bridge this device is a port of.
    pub master: Option<IfId>,
    /// IPv4 addresses, primaries first in the order added.
    pub addrs: Vec<IfAddr>,
}

impl Interface {
    /// Is it a bridge?
    pub fn is_bridge(&self) -> bool {
        matches!(self.kind, IfKind::Bridge(_))
    }

    /// Is it the loopback device?
    pub fn is_loopback(&self) -> bool {
        matches!(self.kind, IfKind::Loopback)
    }

    /// The device at the other end of the wire (veth peer or cable partner).
    pub fn wire_peer(&self) -> Option<IfId> {
        match self.kind {
            IfKind::Veth { peer } => Some(peer),
            IfKind::Ether { peer } => peer,
            _ => None,
        }
    }

    /// The primary address whose subnet contains `ip`, if any.
    pub fn addr_on_link(&self, ip: Ipv4Addr) -> Option<&IfAddr> {
        self.addrs.iter().find(|a| a.net.contains(&ip))
    }

    /// The kind name `ip -d link` prints.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            IfKind::Loopback => "loopback",
            IfKind::Veth { .. } => "veth",
            IfKind::Ether { .. } => "ether",
            IfKind::Bridge(_) => "bridge",
            IfKind::Dummy => "dummy",
        }
    }
}
