//! The model: machines, namespaces, devices, addresses, routes, neighbours and sysctls,
//! with Linux's semantics. Changes go through [`ops`] (the operations `ip` and `sysctl`
//! perform, with the errors they print), so YAML topologies and scripts build the same
//! state the same way.

pub mod cow;
pub mod http;
pub mod link;
pub mod name;
pub mod neigh;
pub mod ops;
pub mod route;
pub mod sysctl;
pub mod tunnel;

pub use cow::CowVec;
pub use link::{Bridge, FdbEntry, IfAddr, IfKind, Interface, IpTunnel, Vxlan, VxlanFdb};
pub use name::Name;
pub use neigh::{Neighbour, NudState};
pub use route::{Proto, Route, RouteType, Scope, Table};
pub use sysctl::{DevConf, Sysctls};

use crate::wire::Mac;
use serde::Serialize;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Index of a machine in [`World::hosts`].
pub type HostId = usize;
/// Index of a namespace in [`World::netns`].
pub type NsId = usize;
/// Index of a device in [`World::ifaces`].
pub type IfId = usize;

/// What a machine is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostKind {
    /// A Linux machine with a root namespace and possibly more.
    Linux,
    /// An unmanaged Ethernet switch: a learning bridge with no address.
    Switch,
}

/// A machine (or a switch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Its name (`host` for a script's machine).
    pub name: String,
    /// Linux machine or switch.
    pub kind: HostKind,
    /// Its root namespace.
    pub root: NsId,
    /// Whether the ipip module is loaded: every namespace of the machine then has the
    /// fallback device `tunl0`.
    pub ipip_loaded: bool,
    /// Its namespaces (the root first), so that name checks never walk the whole world.
    #[serde(skip)]
    pub(crate) netns: Vec<NsId>,
}

/// A network namespace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Netns {
    /// The name users type in `--from`: the machine's name for a root namespace, the
    /// namespace's own name otherwise (prefixed with `machine/` when several machines
    /// have namespaces of that name).
    pub name: Name,
    /// The name given to `ip netns add` (empty for a root namespace).
    pub local_name: Name,
    /// The machine it belongs to.
    pub host: HostId,
    /// Whether it is its machine's root namespace.
    pub is_root: bool,
    /// Sysctls.
    pub sysctl: Sysctls,
    /// Both routing tables (local and main).
    pub routes: route::Routes,
    /// The ARP cache.
    pub neigh: Vec<Neighbour>,
    /// The next ifindex to hand out.
    pub next_ifindex: u32,
    /// The IPv4 identification counter for datagrams this namespace originates.
    pub ip_id: u16,
    /// Whether the namespace was deleted (`ip netns del`); ids stay stable.
    pub deleted: bool,
    /// iptables: tables, chains, rules, counters.
    pub netfilter: crate::netfilter::Netfilter,
    /// Connection tracking.
    pub conntrack: crate::netfilter::conntrack::Conntrack,
    /// Listening sockets (shared between copies of the world: only set-up writes them).
    pub sockets: Arc<Vec<Listener>>,
    /// Userspace ARP responders (a program on a packet socket answering ARP requests for
    /// addresses the kernel does not own, as MetalLB's L2 speaker does).
    pub arp_responders: Arc<Vec<ArpResponder>>,
    /// Name resolution: /etc/hosts, /etc/resolv.conf, the libc, a DNS server process.
    pub dns: std::sync::Arc<crate::dns::NsDns>,
    /// HTTP programs behind listening TCP sockets (whoami, ingress-nginx).
    pub http: Arc<Vec<http::HttpApp>>,
    /// ICMP rate-limit state per peer (`inet_peer`), kept across runs as the kernel keeps it.
    #[serde(skip)]
    pub icmp_peers: std::collections::BTreeMap<Ipv4Addr, PeerTokens>,
    /// Path MTUs learned from ICMP "fragmentation needed" (route exceptions): destination
    /// -> (MTU, expiry time in µs; `mtu_expires` is 600 s).
    #[serde(skip)]
    pub pmtu: std::collections::BTreeMap<Ipv4Addr, (u32, u64)>,
    /// The ids of the devices in this namespace, ascending (kept by [`ops`] as devices are
    /// created, moved and deleted), so lookups by name never walk the whole world.
    #[serde(skip)]
    pub(crate) devs: Arc<Vec<IfId>>,
}

/// A program answering ARP requests for `addr` on `dev` from userspace (an `AF_PACKET`
/// socket): the kernel ignores the request (the address is not its own), the program
/// replies with `dev`'s MAC. MetalLB's speaker in L2 mode does this for the LoadBalancer
/// addresses its node was elected for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArpResponder {
    /// The device it listens and answers on.
    pub dev: IfId,
    /// The address it announces.
    pub addr: Ipv4Addr,
    /// The program's name, for traces.
    pub process: String,
}

/// ICMP rate-limit tokens towards one peer (`inet_peer.rate_tokens`/`rate_last`), in µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerTokens {
    /// Tokens.
    pub tokens: u64,
    /// When they were last counted.
    pub last: u64,
    /// Set once the peer exists.
    pub fresh: bool,
}

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum L4Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl L4Proto {
    /// `tcp` / `udp`.
    pub fn name(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
        }
    }

    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            L4Proto::Tcp => 6,
            L4Proto::Udp => 17,
        }
    }
}

/// A listening socket (a server's `bind` + `listen`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// TCP or UDP.
    pub proto: L4Proto,
    /// The address bound (0.0.0.0 for any).
    pub addr: Ipv4Addr,
    /// The port.
    pub port: u16,
    /// The process, for `ss -p`/`netstat -p` views.
    pub process: Option<String>,
    /// `SO_REUSEPORT` (Debian's OpenBSD netcat sets it): several sockets that all set it
    /// may bind the same port.
    pub reuseport: bool,
}

/// The whole simulated world.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct World {
    /// Machines and switches.
    pub hosts: CowVec<Host>,
    /// Namespaces (deleted ones stay, marked, so ids are stable).
    pub netns: CowVec<Netns>,
    /// Devices (`None` once deleted, so ids are stable).
    pub ifaces: CowVec<Option<Interface>>,
    /// Simulated time in µs: each run (a ping, a connection) starts where the last ended,
    /// so state with a memory (ICMP rate limits, conntrack timeouts) carries over.
    pub clock_us: u64,
    /// Other names `--from` accepts for a namespace (a cluster's `NAMESPACE/POD`).
    /// Shared: a cluster has one per pod, and every copy of the world keeps them.
    pub ns_aliases: std::sync::Arc<Vec<(String, NsId)>>,
}

/// FNV-1a, for deterministic derived values (MACs, IP ids).
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl World {
    /// An empty world.
    pub fn new() -> World {
        World::default()
    }

    /// A device by id (deleted devices are `None`).
    pub fn iface(&self, id: IfId) -> Option<&Interface> {
        self.ifaces.get(id).and_then(Option::as_ref)
    }

    /// A device by id, mutable.
    pub fn iface_mut(&mut self, id: IfId) -> Option<&mut Interface> {
        self.ifaces.get_mut(id).and_then(Option::as_mut)
    }

    /// All live devices.
    pub fn live_ifaces(&self) -> impl Iterator<Item = &Interface> {
        self.ifaces.iter().flatten()
    }

    /// The devices of a namespace in ifindex order.
    pub fn ns_ifaces(&self, ns: NsId) -> Vec<&Interface> {
        let mut v: Vec<&Interface> = self.ns_devs(ns).collect();
        v.sort_by_key(|i| i.ifindex);
        v
    }

    /// The live devices of a namespace, in id (creation) order.
    pub fn ns_devs(&self, ns: NsId) -> impl Iterator<Item = &Interface> {
        self.netns
            .get(ns)
            .map(|n| n.devs.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(move |d| self.iface(*d))
            .filter(move |i| i.ns == ns)
    }

    /// A device by name in a namespace.
    pub fn find_iface(&self, ns: NsId, name: &str) -> Option<IfId> {
        self.ns_devs(ns).find(|i| i.name == name).map(|i| i.id)
    }

    /// A device's name, or `?` for a deleted one.
    pub fn ifname(&self, id: IfId) -> Name {
        self.iface(id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| "?".into())
    }

    /// A device's name qualified with its namespace, e.g. `red/veth-red`.
    pub fn qualified_ifname(&self, id: IfId) -> String {
        match self.iface(id) {
            Some(i) => format!("{}/{}", self.netns[i.ns].name, i.name),
            None => "?".into(),
        }
    }

    /// Live namespaces.
    pub fn live_netns(&self) -> impl Iterator<Item = (NsId, &Netns)> {
        self.netns.iter().enumerate().filter(|(_, n)| !n.deleted)
    }

    /// Find a namespace the way `--from` does: its full name, its own name when that is
    /// unambiguous, or an address exactly one namespace owns.
    pub fn resolve_ns(&self, what: &str) -> Result<NsId, String> {
        let live: Vec<(NsId, &Netns)> = self
            .live_netns()
            .filter(|(_, n)| self.hosts[n.host].kind == HostKind::Linux)
            .collect();
        if let Some((id, _)) = live.iter().find(|(_, n)| n.name == what) {
            return Ok(*id);
        }
        if let Some((_, id)) = self.ns_aliases.iter().find(|(a, _)| a == what) {
            if live.iter().any(|(i, _)| i == id) {
                return Ok(*id);
            }
        }
        if let Some((machine, local)) = what.split_once('/') {
            if let Some((id, _)) = live.iter().find(|(_, n)| {
                self.hosts[n.host].name == machine
                    && (n.local_name == local || (n.is_root && local.is_empty()))
            }) {
                return Ok(*id);
            }
        }
        let by_local: Vec<NsId> = live
            .iter()
            .filter(|(_, n)| !n.is_root && n.local_name == what)
            .map(|(i, _)| *i)
            .collect();
        if by_local.len() == 1 {
            return Ok(by_local[0]);
        }
        if by_local.len() > 1 {
            let names: Vec<String> = by_local
                .iter()
                .map(|i| self.netns[*i].name.to_string())
                .collect();
            return Err(format!(
                "namespace \"{what}\" is ambiguous: it could be {}",
                names.join(", ")
            ));
        }
        if let Ok(ip) = what.parse::<Ipv4Addr>() {
            let owners: Vec<NsId> = live
                .iter()
                .filter(|(id, _)| self.is_local_addr(*id, ip))
                .map(|(i, _)| *i)
                .collect();
            match owners.len() {
                1 => return Ok(owners[0]),
                0 => {}
                _ => {
                    let names: Vec<String> = owners
                        .iter()
                        .map(|i| self.netns[*i].name.to_string())
                        .collect();
                    return Err(format!(
                        "address {ip} is configured in several namespaces ({}): name one",
                        names.join(", ")
                    ));
                }
            }
        }
        // A cluster has thousands of namespaces: name the first few, count the rest.
        const LISTED: usize = 12;
        let known: Vec<String> = live
            .iter()
            .take(LISTED)
            .map(|(_, n)| n.name.to_string())
            .collect();
        let more = match live.len().saturating_sub(LISTED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        Err(format!(
            "no namespace \"{what}\" (known: {}{more})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    }

    /// Whether `ip` is one of the namespace's own addresses (`inet_addr_type == RTN_LOCAL`).
    pub fn is_local_addr(&self, ns: NsId, ip: Ipv4Addr) -> bool {
        self.netns[ns].routes.is_local(ip)
    }

    /// The MAC a device uses on the wire. A bridge without an explicitly set address takes
    /// the lowest MAC among its ports, and all zeroes once its last port has left
    /// (`br_stp_recalculate_bridge_id`); before it ever had a port it keeps its own.
    pub fn mac_of(&self, id: IfId) -> Mac {
        let Some(i) = self.iface(id) else {
            return Mac::ZERO;
        };
        match &i.kind {
            IfKind::Bridge(b) if !i.mac_set => {
                let ports = self.ns_devs(i.ns).filter(|p| p.master == Some(id));
                match ports.map(|p| p.mac).min() {
                    Some(m) => m,
                    None if b.had_ports => Mac::ZERO,
                    None => i.mac,
                }
            }
            _ => i.mac,
        }
    }

    /// Bridge ports of a bridge, in ifindex order.
    pub fn bridge_ports(&self, br: IfId) -> Vec<IfId> {
        // A port is always in its bridge's namespace (`br_add_if` refuses others).
        let ns = self.iface(br).map_or(usize::MAX, |b| b.ns);
        let mut v: Vec<&Interface> = self.ns_devs(ns).filter(|p| p.master == Some(br)).collect();
        v.sort_by_key(|p| p.ifindex);
        v.into_iter().map(|p| p.id).collect()
    }

    /// Whether the device has carrier (`LOWER_UP`): up, and for a veth or a cabled NIC, its
    /// peer is up too; a bridge has carrier when one of its ports forwards.
    pub fn carrier(&self, id: IfId) -> bool {
        let Some(i) = self.iface(id) else {
            return false;
        };
        if !i.up {
            return false;
        }
        match &i.kind {
            IfKind::Loopback | IfKind::Dummy | IfKind::Ipip(_) | IfKind::Vxlan(_) => true,
            IfKind::Veth { peer } => self.iface(*peer).is_some_and(|p| p.up),
            IfKind::Ether { peer } => peer.and_then(|p| self.iface(p)).is_some_and(|p| p.up),
            IfKind::Bridge(b) => {
                let ports = self.bridge_ports(id);
                if ports.is_empty() {
                    !b.had_ports
                } else {
                    ports.iter().any(|p| self.carrier(*p))
                }
            }
        }
    }

    /// A bridge port forwards frames when it and its bridge are up and it has carrier
    /// (STP is off, as on every bridge in the documents).
    pub fn port_forwarding(&self, port: IfId) -> bool {
        let Some(p) = self.iface(port) else {
            return false;
        };
        let Some(br) = p.master else {
            return false;
        };
        self.iface(br).is_some_and(|b| b.up) && self.carrier(port)
    }

    /// The preferred source address for sending through `dev` towards `dst` within
    /// `scope` (`inet_select_addr`): a primary address on `dev` whose subnet holds `dst`,
    /// else the first primary on `dev`, else the first global address on any device of the
    /// namespace, in device order.
    pub fn select_src(&self, ns: NsId, dev: Option<IfId>, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        self.src_on_dev(dev, dst).or_else(|| self.fallback_src(ns))
    }

    /// [`World::select_src`]'s first choice: a primary address of `dev` (the one whose
    /// subnet holds `dst`, else the first).
    pub(crate) fn src_on_dev(&self, dev: Option<IfId>, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        let i = dev.and_then(|d| self.iface(d))?;
        // 127/8 has scope host (as `ip` assigns it), wider than the universe scope
        // asked for: inet_select_addr skips it, so a packet masqueraded out of lo
        // (a DNAT to one of our own addresses) gets a global address.
        let mut prim = i
            .addrs
            .iter()
            .filter(|a| !a.secondary && !a.addr().is_loopback());
        let first = prim.clone().next()?;
        Some(prim.find(|a| a.net.contains(&dst)).unwrap_or(first).addr())
    }

    /// [`World::select_src`]'s fallback, when the device has no address: it walks every
    /// device in list order, lo first ("Not loopback addresses on loopback should be
    /// preferred", inet_select_addr), skipping host-scope addresses: 127.0.0.1 is passed
    /// over, a global address on lo is chosen. (The first such address of the device with
    /// the lowest ifindex that has one: a node has a hundred devices, not worth sorting
    /// for one address.)
    pub(crate) fn fallback_src(&self, ns: NsId) -> Option<Ipv4Addr> {
        self.ns_devs(ns)
            .filter_map(|i| {
                let a = i
                    .addrs
                    .iter()
                    .find(|a| !a.secondary && !a.addr().is_loopback())?;
                Some((i.ifindex, a.addr()))
            })
            .min_by_key(|(ifindex, _)| *ifindex)
            .map(|(_, a)| a)
    }

    /// A neighbour entry.
    pub fn neigh(&self, ns: NsId, dev: IfId, ip: Ipv4Addr) -> Option<&Neighbour> {
        self.netns[ns]
            .neigh
            .iter()
            .find(|n| n.dev == dev && n.ip == ip)
    }

    /// A neighbour entry, mutable.
    pub fn neigh_mut(&mut self, ns: NsId, dev: IfId, ip: Ipv4Addr) -> Option<&mut Neighbour> {
        self.netns[ns]
            .neigh
            .iter_mut()
            .find(|n| n.dev == dev && n.ip == ip)
    }

    /// Next IPv4 identification value for a datagram from this namespace.
    pub fn next_ip_id(&mut self, ns: NsId) -> u16 {
        let n = &mut self.netns[ns];
        let id = n.ip_id;
        n.ip_id = n.ip_id.wrapping_add(1);
        id
    }

    /// The path MTU learned for `dst`, if one is still valid at `now` (µs).
    pub fn pmtu(&self, ns: NsId, dst: Ipv4Addr, now: u64) -> Option<u32> {
        self.netns[ns]
            .pmtu
            .get(&dst)
            .filter(|(_, expires)| *expires > now)
            .map(|(m, _)| *m)
    }

    /// `__ip_rt_update_pmtu`: remember a smaller path MTU towards `dst` for 600 s (never
    /// below `min_pmtu`, 552).
    pub fn learn_pmtu(&mut self, ns: NsId, dst: Ipv4Addr, mtu: u32, now: u64) {
        let mtu = mtu.max(552);
        let cur = self.pmtu(ns, dst, now);
        if cur.is_none_or(|c| mtu < c) {
            self.netns[ns].pmtu.insert(dst, (mtu, now + 600_000_000));
        }
    }

    /// The namespace's default TTL.
    pub fn default_ttl(&self, ns: NsId) -> u8 {
        self.netns[ns].sysctl.default_ttl
    }
}
