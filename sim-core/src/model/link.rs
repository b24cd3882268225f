//! Network devices: loopback, veth, physical NICs on a cable, bridges, dummies.

use super::{IfId, Name, NsId};
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
    /// An IPv4-in-IPv4 tunnel (`ip link add NAME type ipip`, or the `tunl0` fallback
    /// device the ipip module creates in every namespace): a layer-3 device with no MAC
    /// and no ARP.
    Ipip(IpTunnel),
    /// A VXLAN device: Ethernet frames inside UDP, sent to the remote its FDB names.
    Vxlan(Vxlan),
}

/// Parameters of an ipip tunnel (`ip -d link show`: `ipip remote R local L ttl T`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IpTunnel {
    /// `local`: the outer source (any: chosen by the route to the outer destination).
    pub local: Option<Ipv4Addr>,
    /// `remote`: the outer destination (any: the inner route's gateway, an NBMA tunnel
    /// like Calico's `tunl0`).
    pub remote: Option<Ipv4Addr>,
    /// `ttl`: outer TTL (0 = `inherit`, the inner packet's TTL).
    pub ttl: u8,
    /// `pmtudisc` (the default for `ip link add`): the outer header always has DF. The
    /// fallback `tunl0` has it off and copies DF from the inner packet.
    pub pmtudisc: bool,
    /// `dev`: the underlay device the outer packet must leave by.
    pub link: Option<IfId>,
    /// The module's fallback device `tunl0`.
    pub fallback: bool,
}

/// A VXLAN device's configuration and forwarding database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vxlan {
    /// `id`: the VXLAN network identifier (24 bits).
    pub vni: u32,
    /// `dstport`: the UDP port (the kernel's default is 8472, IANA's is 4789).
    pub dstport: u16,
    /// `local`: the outer source address.
    pub local: Option<Ipv4Addr>,
    /// `remote` as configured (it also made the default FDB entry).
    pub remote: Option<Ipv4Addr>,
    /// `dev`: the underlay device.
    pub link: Option<IfId>,
    /// Learn remote MACs from received packets (`nolearning` turns it off).
    pub learning: bool,
    /// `ttl`: outer TTL (0 = `auto`, the namespace's default TTL).
    pub ttl: u8,
    /// The VXLAN FDB (`bridge fdb ... self`): where each MAC's VTEP is.
    pub fdb: Vec<VxlanFdb>,
}

/// One VXLAN FDB entry: frames for `mac` go to the VTEP at `dst` (the all-zeros MAC is
/// the default entry used for broadcast and unknown destinations; it may have several).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VxlanFdb {
    /// The inner destination MAC (00:00:00:00:00:00 for the default entries).
    pub mac: Mac,
    /// The remote VTEP address.
    pub dst: Ipv4Addr,
    /// `permanent` (configured) rather than learned.
    pub permanent: bool,
    /// The underlay device of the entry (`via eth0`): the default entry made from
    /// `remote ... dev eth0` at creation has it, `bridge fdb add` entries do not.
    pub via: Option<IfId>,
}

/// Bridge state: the forwarding database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Bridge {
    /// Learned and static FDB entries.
    pub fdb: Fdb,
    /// Whether a port was ever attached: a bridge that never had a port reports carrier
    /// (state UNKNOWN), one whose last port left reports NO-CARRIER, as the kernel does.
    pub had_ports: bool,
}

/// A bridge's forwarding database, entries in the order added. Copies of the world share
/// it: the entries a copy adds are its own, the rest (a port's own entry for each of a
/// hundred ports) stays shared, so a trace that learns a MAC copies one entry, not the
/// whole table. Changing a shared entry copies the shared part first.
#[derive(Clone, Default)]
pub struct Fdb {
    shared: std::sync::Arc<Vec<FdbEntry>>,
    added: Vec<FdbEntry>,
}

impl Fdb {
    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = &FdbEntry> + '_ {
        self.shared.iter().chain(&self.added)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.shared.len() + self.added.len()
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add an entry at the end (into the shared part while nothing else shares it: set-up).
    pub fn push(&mut self, e: FdbEntry) {
        if self.added.is_empty() {
            if let Some(shared) = std::sync::Arc::get_mut(&mut self.shared) {
                shared.push(e);
                return;
            }
        }
        self.added.push(e);
    }

    /// The entry at position `i` (of [`Fdb::iter`]), mutable.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut FdbEntry> {
        match i.checked_sub(self.shared.len()) {
            Some(j) => self.added.get_mut(j),
            None => std::sync::Arc::make_mut(&mut self.shared).get_mut(i),
        }
    }

    /// Keep the entries `keep` says to keep.
    pub fn retain(&mut self, mut keep: impl FnMut(&FdbEntry) -> bool) {
        if !self.shared.iter().all(&mut keep) {
            std::sync::Arc::make_mut(&mut self.shared).retain(&mut keep);
        }
        self.added.retain(keep);
    }

    /// The entries, mutable (the table becomes this copy's own).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut FdbEntry> + '_ {
        let shared = std::sync::Arc::make_mut(&mut self.shared);
        shared.append(&mut self.added);
        shared.iter_mut()
    }
}

impl From<Vec<FdbEntry>> for Fdb {
    fn from(v: Vec<FdbEntry>) -> Fdb {
        Fdb {
            shared: std::sync::Arc::new(v),
            added: Vec::new(),
        }
    }
}

impl<'a> IntoIterator for &'a Fdb {
    type Item = &'a FdbEntry;
    type IntoIter =
        std::iter::Chain<std::slice::Iter<'a, FdbEntry>, std::slice::Iter<'a, FdbEntry>>;
    fn into_iter(self) -> Self::IntoIter {
        self.shared.iter().chain(self.added.iter())
    }
}

impl PartialEq for Fdb {
    fn eq(&self, other: &Fdb) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Fdb {}

impl std::fmt::Debug for Fdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Fdb {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
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
    pub name: Name,
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
            IfKind::Ipip(_) => "ipip",
            IfKind::Vxlan(_) => "vxlan",
        }
    }

    /// A layer-3 device without a link-layer header or ARP (`IFF_NOARP`, ipip).
    pub fn is_noarp_l3(&self) -> bool {
        matches!(self.kind, IfKind::Ipip(_))
    }
}

#[cfg(test)]
mod tests {
    use super::{Fdb, FdbEntry};
    use crate::wire::Mac;

    fn entry(n: u8, port: usize, dynamic: bool) -> FdbEntry {
        FdbEntry {
            mac: Mac([2, 0, 0, 0, 0, n]),
            port,
            dynamic,
        }
    }

    fn macs(f: &Fdb) -> Vec<(u8, usize)> {
        f.iter().map(|e| (e.mac.0[5], e.port)).collect()
    }

    #[test]
    fn a_copy_adds_its_own_entries_and_shares_the_rest() {
        let mut base = Fdb::default();
        for n in 0..4 {
            base.push(entry(n, usize::from(n), false));
        }
        assert!(base.added.is_empty(), "set-up writes the shared part");
        let mut copy = base.clone();
        copy.push(entry(9, 2, true));
        assert!(std::sync::Arc::ptr_eq(&copy.shared, &base.shared));
        assert_eq!(copy.added.len(), 1, "learning copies one entry");
        assert_eq!(macs(&copy), vec![(0, 0), (1, 1), (2, 2), (3, 3), (9, 2)]);
        assert_eq!(base.len(), 4);
        // Changing an added entry keeps sharing; a shared one is copied first.
        if let Some(e) = copy.get_mut(4) {
            e.port = 3;
        }
        assert!(std::sync::Arc::ptr_eq(&copy.shared, &base.shared));
        if let Some(e) = copy.get_mut(1) {
            e.port = 7;
        }
        assert!(!std::sync::Arc::ptr_eq(&copy.shared, &base.shared));
        assert_eq!(macs(&copy), vec![(0, 0), (1, 7), (2, 2), (3, 3), (9, 3)]);
        assert_eq!(macs(&base), vec![(0, 0), (1, 1), (2, 2), (3, 3)]);
        // Order, equality and removal see one table.
        let mut other = base.clone();
        other.push(entry(9, 2, true));
        assert_ne!(other, base);
        other.retain(|e| e.port != 2);
        assert_eq!(macs(&other), vec![(0, 0), (1, 1), (3, 3)]);
        assert_eq!(macs(&base).len(), 4, "removal copies the shared part");
        let mut flat = base.clone();
        flat.push(entry(8, 1, true));
        for e in flat.iter_mut() {
            e.port += 10;
        }
        assert_eq!(
            macs(&flat),
            vec![(0, 10), (1, 11), (2, 12), (3, 13), (8, 11)]
        );
        assert_eq!(
            Fdb::from(vec![entry(0, 0, false), entry(1, 1, false)]),
            {
                let mut f = Fdb::from(vec![entry(0, 0, false)]);
                let _keep = f.clone();
                f.push(entry(1, 1, false));
                f
            },
            "equal whatever part holds the entries"
        );
    }
}
