//! The operations `ip`, `ip netns` and `sysctl` perform, with the kernel's side effects
//! (connected and local routes follow addresses and link state) and the messages the real
//! tools print when they refuse. Both the YAML loader and the script runner go through
//! these, so a topology means the same thing whichever way it was written.

use super::*;
use ipnet::Ipv4Net;

/// A refused operation: the message the real tool prints and its exit status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct OpError {
    /// The message, word for word as iproute2/sysctl print it.
    pub msg: String,
    /// The tool's exit status (1 for "Cannot find device", 2 for kernel refusals).
    pub status: i32,
}

impl OpError {
    /// A message with exit status 2 (what `ip` returns for an RTNETLINK error).
    pub fn rtnl(msg: impl Into<String>) -> OpError {
        OpError {
            msg: msg.into(),
            status: 2,
        }
    }

    /// A message with exit status 1.
    pub fn usage(msg: impl Into<String>) -> OpError {
        OpError {
            msg: msg.into(),
            status: 1,
        }
    }

    /// `Cannot find device "X"` (exit 1).
    pub fn no_device(name: &str) -> OpError {
        OpError::usage(format!("Cannot find device \"{name}\""))
    }
}

/// Result of an operation.
pub type OpResult<T = ()> = Result<T, OpError>;

/// A route as given to `ip route add`, before the kernel's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// Route type.
    pub rtype: RouteType,
    /// Destination.
    pub dst: Ipv4Net,
    /// `via`.
    pub gateway: Option<Ipv4Addr>,
    /// `dev`.
    pub dev: Option<IfId>,
    /// `proto` (boot when not given).
    pub proto: Proto,
    /// `scope` when given explicitly.
    pub scope: Option<Scope>,
    /// `src`.
    pub src: Option<Ipv4Addr>,
    /// `metric`.
    pub metric: u32,
    /// `onlink`.
    pub onlink: bool,
}

impl RouteSpec {
    /// A plain unicast route to `dst`.
    pub fn new(dst: Ipv4Net) -> RouteSpec {
        RouteSpec {
            rtype: RouteType::Unicast,
            dst,
            gateway: None,
            dev: None,
            proto: Proto::BOOT,
            scope: None,
            src: None,
            metric: 0,
            onlink: false,
        }
    }
}

impl World {
    /// Add a machine with its root namespace (`lo` up, as after boot; ip_forward 0).
    pub fn add_host(&mut self, name: &str, kind: HostKind) -> HostId {
        let hid = self.hosts.len();
        let ns = self.netns.len();
        self.hosts.push(Host {
            name: name.into(),
            kind,
            root: ns,
            ipip_loaded: false,
            netns: Vec::new(),
        });
        let ns = self.push_netns(name, "", hid, true);
        // A machine's root namespace was set up at boot: its lo is up (only namespaces
        // created with `ip netns add` start with lo down).
        if let Some(lo) = self.find_iface(ns, "lo") {
            self.link_up(lo);
        }
        hid
    }

    fn push_netns(&mut self, name: &str, local: &str, host: HostId, is_root: bool) -> NsId {
        let id = self.netns.len();
        let seed = stable_hash(name);
        self.netns.push(Netns {
            name: name.into(),
            local_name: local.into(),
            host,
            is_root,
            sysctl: Sysctls::default(),
            routes: Default::default(),
            neigh: Vec::new(),
            next_ifindex: 1,
            ip_id: ((seed >> 16) & 0xffff) as u16,
            deleted: false,
            netfilter: crate::netfilter::Netfilter::default(),
            conntrack: Default::default(),
            sockets: Default::default(),
            arp_responders: Default::default(),
            dns: Default::default(),
            http: Default::default(),
            icmp_peers: Default::default(),
            pmtu: Default::default(),
            devs: Default::default(),
        });
        self.hosts[host].netns.push(id);
        if self.hosts[host].kind == HostKind::Linux {
            self.new_iface(id, "lo", IfKind::Loopback, Some(Mac::ZERO));
            if self.hosts[host].ipip_loaded {
                self.add_tunl0(id);
            }
        }
        id
    }

    /// `ip netns add NAME` on a machine. `display` is the name `--from` will use.
    pub fn add_netns(&mut self, host: HostId, local: &str, display: &str) -> OpResult<NsId> {
        if self.hosts[host].netns.iter().any(|&i| {
            let n = &self.netns[i];
            !n.deleted && !n.is_root && n.local_name == local
        }) {
            return Err(OpError::usage(format!(
                "Cannot create namespace file \"/run/netns/{local}\": File exists"
            )));
        }
        Ok(self.push_netns(display, local, host, false))
    }

    /// `ip netns del NAME`: its devices go with it (a veth's peer too).
    pub fn del_netns(&mut self, ns: NsId) {
        let ids: Vec<IfId> = self.ns_devs(ns).map(|i| i.id).collect();
        for id in ids {
            if self.iface(id).is_some() {
                self.del_link(id);
            }
        }
        self.netns[ns].deleted = true;
    }

    pub(crate) fn new_iface(
        &mut self,
        ns: NsId,
        name: &str,
        kind: IfKind,
        mac: Option<Mac>,
    ) -> IfId {
        let id = self.ifaces.len();
        let n = &mut self.netns[ns];
        let ifindex = n.next_ifindex;
        n.next_ifindex += 1;
        let key = format!("{}/{}", n.name, name);
        let mtu = match kind {
            IfKind::Loopback => 65536,
            IfKind::Ipip(_) => 1480,
            _ => 1500,
        };
        Arc::make_mut(&mut self.netns[ns].devs).push(id);
        self.ifaces.push(Some(Interface {
            id,
            name: name.into(),
            ns,
            ifindex,
            kind,
            mac: mac.unwrap_or_else(|| Mac::derived(&key)),
            mac_set: false,
            mtu,
            up: false,
            master: None,
            addrs: Vec::new(),
        }));
        let conf = self.netns[ns].sysctl.default.clone();
        self.netns[ns].sysctl.dev_mut().insert(id, conf);
        id
    }

    pub(crate) fn check_new_name(&self, ns: NsId, name: &str) -> OpResult {
        if name.is_empty()
            || name.len() > 15
            || name.contains('/')
            || name.contains(char::is_whitespace)
        {
            return Err(OpError::usage(format!(
                "Error: argument \"{name}\" is wrong: \"name\" not a valid ifname"
            )));
        }
        if self.find_iface(ns, name).is_some() {
            return Err(OpError::rtnl("RTNETLINK answers: File exists"));
        }
        Ok(())
    }

    /// `ip link add NAME type veth peer name PEER [netns PEER_NS]`.
    pub fn add_veth(
        &mut self,
        ns: NsId,
        name: &str,
        peer_ns: NsId,
        peer: &str,
    ) -> OpResult<(IfId, IfId)> {
        self.check_new_name(ns, name)?;
        self.check_new_name(peer_ns, peer)?;
        if ns == peer_ns && name == peer {
            return Err(OpError::rtnl("RTNETLINK answers: File exists"));
        }
        let a = self.new_iface(ns, name, IfKind::Veth { peer: usize::MAX }, None);
        let b = self.new_iface(peer_ns, peer, IfKind::Veth { peer: a }, None);
        if let Some(i) = self.iface_mut(a) {
            i.kind = IfKind::Veth { peer: b };
        }
        Ok((a, b))
    }

    /// `ip link add NAME type bridge`.
    pub fn add_bridge(&mut self, ns: NsId, name: &str) -> OpResult<IfId> {
        self.check_new_name(ns, name)?;
        Ok(self.new_iface(ns, name, IfKind::Bridge(Bridge::default()), None))
    }

    /// `ip link add NAME type dummy`.
    pub fn add_dummy(&mut self, ns: NsId, name: &str) -> OpResult<IfId> {
        self.check_new_name(ns, name)?;
        Ok(self.new_iface(ns, name, IfKind::Dummy, None))
    }

    /// A physical NIC (`eth0`), not yet cabled.
    pub fn add_nic(&mut self, ns: NsId, name: &str) -> OpResult<IfId> {
        self.check_new_name(ns, name)?;
        Ok(self.new_iface(ns, name, IfKind::Ether { peer: None }, None))
    }

    /// Plug a cable between two NICs.
    pub fn cable(&mut self, a: IfId, b: IfId) -> Result<(), String> {
        for (x, y) in [(a, b), (b, a)] {
            match self.iface(x).map(|i| &i.kind) {
                Some(IfKind::Ether { peer: None }) => {}
                Some(IfKind::Ether { peer: Some(_) }) => {
                    return Err(format!("{} is already cabled", self.qualified_ifname(x)))
                }
                _ => {
                    return Err(format!(
                        "{} is not a NIC that takes a cable",
                        self.qualified_ifname(x)
                    ))
                }
            }
            if let Some(i) = self.iface_mut(x) {
                i.kind = IfKind::Ether { peer: Some(y) };
            }
        }
        Ok(())
    }

    /// `ip link del NAME`: a veth takes its peer along; routes, neighbours and FDB entries
    /// through the device go; a bridge's ports are released.
    pub fn del_link(&mut self, id: IfId) {
        let Some(i) = self.iface(id).cloned() else {
            return;
        };
        if let IfKind::Veth { peer } = i.kind {
            self.remove_iface(peer);
        }
        if let IfKind::Ether { peer: Some(p) } = i.kind {
            if let Some(pi) = self.iface_mut(p) {
                pi.kind = IfKind::Ether { peer: None };
            }
        }
        if i.is_bridge() {
            for p in self.bridge_ports(id) {
                if let Some(pi) = self.iface_mut(p) {
                    pi.master = None;
                }
            }
        }
        self.remove_iface(id);
    }

    fn remove_iface(&mut self, id: IfId) {
        let Some(i) = self.iface(id).cloned() else {
            return;
        };
        if let Some(br) = i.master {
            self.forget_port(br, id);
        }
        let n = &mut self.netns[i.ns];
        n.routes.make_mut().retain(|r| r.dev != Some(id));
        n.neigh.retain(|e| e.dev != id);
        n.sysctl.dev_mut().remove(&id);
        Arc::make_mut(&mut n.devs).retain(|d| *d != id);
        self.ifaces[id] = None;
    }

    fn forget_port(&mut self, br: IfId, port: IfId) {
        if let Some(IfKind::Bridge(b)) = self.iface_mut(br).map(|b| &mut b.kind) {
            b.fdb.retain(|e| e.port != port);
        }
    }

    /// `ip link set DEV up`: connected and broadcast routes appear for its addresses.
    pub fn link_up(&mut self, id: IfId) {
        let Some(i) = self.iface_mut(id) else {
            return;
        };
        if i.up {
            return;
        }
        i.up = true;
        let ns = i.ns;
        if i.is_loopback() && i.addrs.is_empty() {
            // inetdev_event(NETDEV_UP) on loopback gives it 127.0.0.1/8.
            let net: Ipv4Net = Ipv4Net::new(Ipv4Addr::LOCALHOST, 8).unwrap_or_default();
            i.addrs.push(IfAddr {
                net,
                secondary: false,
                brd: None,
            });
            self.add_local_route(ns, id, net.addr(), net.addr());
        }
        let addrs: Vec<IfAddr> = self.iface(id).map(|i| i.addrs.clone()).unwrap_or_default();
        for a in addrs.iter().filter(|a| !a.secondary) {
            self.add_prefix_routes(ns, id, a.net);
        }
    }

    /// `ip link set DEV down`: every route through the device goes (static ones too, and
    /// they do not come back), except the local routes of its addresses.
    pub fn link_down(&mut self, id: IfId) {
        let Some(i) = self.iface_mut(id) else {
            return;
        };
        if !i.up {
            return;
        }
        i.up = false;
        let ns = i.ns;
        let lo = i.is_loopback();
        self.netns[ns]
            .routes
            .make_mut()
            .retain(|r| r.dev != Some(id) || (r.rtype == RouteType::Local && !lo));
        self.netns[ns]
            .neigh
            .retain(|n| n.dev != id || n.state == NudState::Permanent);
        if let Some(br) = self.iface(id).and_then(|i| i.master) {
            self.forget_port(br, id);
        }
    }

    fn add_local_route(&mut self, ns: NsId, dev: IfId, addr: Ipv4Addr, src: Ipv4Addr) {
        let dst = Ipv4Net::new(addr, 32).unwrap_or_default();
        let routes = self.netns[ns].routes.make_mut();
        if routes
            .iter()
            .any(|r| r.table == Table::Local && r.dst == dst && r.rtype == RouteType::Local)
        {
            return;
        }
        routes.push(Route {
            table: Table::Local,
            rtype: RouteType::Local,
            dst,
            gateway: None,
            dev: Some(dev),
            proto: Proto::KERNEL,
            scope: Scope::Host,
            src: Some(src),
            metric: 0,
            onlink: false,
        });
    }

    /// The prefix route and the broadcast route of a primary address (`fib_add_ifaddr`).
    fn add_prefix_routes(&mut self, ns: NsId, dev: IfId, net: Ipv4Net) {
        let lo = self.iface(dev).is_some_and(|i| i.is_loopback());
        let routes = self.netns[ns].routes.make_mut();
        let prefix = net.trunc();
        if net.prefix_len() < 32 {
            let (table, rtype, scope) = if lo {
                (Table::Local, RouteType::Local, Scope::Host)
            } else {
                (Table::Main, RouteType::Unicast, Scope::Link)
            };
            if !routes
                .iter()
                .any(|r| r.table == table && r.dst == prefix && r.dev == Some(dev) && r.metric == 0)
            {
                routes.push(Route {
                    table,
                    rtype,
                    dst: prefix,
                    gateway: None,
                    dev: Some(dev),
                    proto: Proto::KERNEL,
                    scope,
                    src: Some(net.addr()),
                    metric: 0,
                    onlink: false,
                });
            }
        }
        if net.prefix_len() < 31 {
            let b = Ipv4Net::new(net.broadcast(), 32).unwrap_or_default();
            if !routes
                .iter()
                .any(|r| r.table == Table::Local && r.dst == b && r.rtype == RouteType::Broadcast)
            {
                routes.push(Route {
                    table: Table::Local,
                    rtype: RouteType::Broadcast,
                    dst: b,
                    gateway: None,
                    dev: Some(dev),
                    proto: Proto::KERNEL,
                    scope: Scope::Link,
                    src: Some(net.addr()),
                    metric: 0,
                    onlink: false,
                });
            }
        }
    }

    /// `ip addr add ADDR[/LEN] dev DEV`. A bare address is a /32. The local route appears
    /// at once; the prefix and broadcast routes when (or if) the device is up.
    pub fn addr_add(&mut self, dev: IfId, net: Ipv4Net) -> OpResult {
        self.addr_add_brd(dev, net, None)
    }

    /// `ip addr add ADDR/LEN brd BRD dev DEV`.
    pub fn addr_add_brd(&mut self, dev: IfId, net: Ipv4Net, brd: Option<Ipv4Addr>) -> OpResult {
        let Some(i) = self.iface(dev) else {
            return Err(OpError::no_device("?"));
        };
        if i.addrs
            .iter()
            .any(|a| a.addr() == net.addr() && a.net.prefix_len() == net.prefix_len())
        {
            return Err(OpError::rtnl("Error: ipv4: Address already assigned."));
        }
        let secondary = i.addrs.iter().any(|a| {
            !a.secondary && a.net.prefix_len() == net.prefix_len() && a.net.contains(&net.addr())
        });
        let primary_src = if secondary {
            i.addrs
                .iter()
                .find(|a| !a.secondary && a.net.contains(&net.addr()))
                .map(|a| a.addr())
                .unwrap_or(net.addr())
        } else {
            net.addr()
        };
        let (ns, up) = (i.ns, i.up);
        if let Some(i) = self.iface_mut(dev) {
            i.addrs.push(IfAddr {
                net,
                secondary,
                brd,
            });
        }
        self.add_local_route(ns, dev, net.addr(), primary_src);
        if up && !secondary {
            self.add_prefix_routes(ns, dev, net);
        }
        Ok(())
    }

    /// `ip addr del ADDR[/LEN] dev DEV`. Deleting a primary deletes its secondaries
    /// (`promote_secondaries` is 0); when the device has no address left, every route
    /// through it goes.
    pub fn addr_del(&mut self, dev: IfId, net: Ipv4Net, len_given: bool) -> OpResult {
        let Some(i) = self.iface(dev) else {
            return Err(OpError::no_device("?"));
        };
        let Some(pos) = i.addrs.iter().position(|a| {
            a.addr() == net.addr() && (!len_given || a.net.prefix_len() == net.prefix_len())
        }) else {
            return Err(OpError::rtnl("Error: ipv4: Address not found."));
        };
        let ns = i.ns;
        let removed = i.addrs[pos].clone();
        let mut gone = vec![removed.clone()];
        if !removed.secondary {
            gone.extend(
                i.addrs
                    .iter()
                    .filter(|a| a.secondary && removed.net.contains(&a.addr()))
                    .cloned(),
            );
        }
        if let Some(i) = self.iface_mut(dev) {
            i.addrs.retain(|a| !gone.contains(a));
        }
        let left = self.iface(dev).map(|i| i.addrs.clone()).unwrap_or_default();
        let routes = self.netns[ns].routes.make_mut();
        for g in &gone {
            let host = Ipv4Net::new(g.addr(), 32).unwrap_or_default();
            routes.retain(|r| {
                !(r.table == Table::Local && r.rtype == RouteType::Local && r.dst == host)
            });
            if !g.secondary {
                let prefix = g.net.trunc();
                let bcast = Ipv4Net::new(g.net.broadcast(), 32).unwrap_or_default();
                routes.retain(|r| {
                    !(r.dev == Some(dev)
                        && r.proto == Proto::KERNEL
                        && (r.dst == prefix || r.dst == bcast))
                });
            }
            routes.retain(|r| r.src != Some(g.addr()) || r.proto == Proto::KERNEL);
        }
        if left.is_empty() {
            routes.retain(|r| r.dev != Some(dev) || r.rtype == RouteType::Local);
        }
        Ok(())
    }

    /// `ip link set DEV master BR`.
    pub fn set_master(&mut self, dev: IfId, br: IfId) -> OpResult {
        let Some(b) = self.iface(br) else {
            return Err(OpError::no_device("?"));
        };
        let Some(d) = self.iface(dev) else {
            return Err(OpError::no_device("?"));
        };
        if !b.is_bridge() {
            return Err(OpError::rtnl("RTNETLINK answers: Operation not supported"));
        }
        if d.ns != b.ns || dev == br || d.is_loopback() {
            return Err(OpError::rtnl("RTNETLINK answers: Invalid argument"));
        }
        if d.is_bridge() {
            return Err(OpError::rtnl(
                "Error: Can not enslave a bridge to a bridge.",
            ));
        }
        let (old_master, mac) = (d.master, d.mac);
        if let Some(old) = old_master {
            self.forget_port(old, dev);
        }
        if let Some(d) = self.iface_mut(dev) {
            d.master = Some(br);
        }
        if let Some(IfKind::Bridge(b)) = self.iface_mut(br).map(|b| &mut b.kind) {
            b.had_ports = true;
            b.fdb.push(FdbEntry {
                mac,
                port: dev,
                dynamic: false,
            });
        }
        Ok(())
    }

    /// `ip link set DEV nomaster`.
    pub fn set_nomaster(&mut self, dev: IfId) {
        if let Some(br) = self.iface(dev).and_then(|d| d.master) {
            self.forget_port(br, dev);
        }
        if let Some(d) = self.iface_mut(dev) {
            d.master = None;
        }
    }

    /// `ip link set DEV netns NS`: the device arrives down, without addresses, and its
    /// routes and neighbours stay behind (are removed).
    pub fn set_netns(&mut self, dev: IfId, to: NsId) -> OpResult {
        let Some(i) = self.iface(dev).cloned() else {
            return Err(OpError::no_device("?"));
        };
        if i.is_loopback() || i.is_bridge() && !self.bridge_ports(dev).is_empty() {
            return Err(OpError::rtnl("RTNETLINK answers: Invalid argument"));
        }
        if self.find_iface(to, &i.name).is_some() {
            return Err(OpError::rtnl("RTNETLINK answers: File exists"));
        }
        if i.ns == to {
            return Ok(());
        }
        self.set_nomaster(dev);
        let from = i.ns;
        let n = &mut self.netns[from];
        n.routes.make_mut().retain(|r| r.dev != Some(dev));
        n.neigh.retain(|e| e.dev != dev);
        n.sysctl.dev_mut().remove(&dev);
        Arc::make_mut(&mut n.devs).retain(|d| *d != dev);
        // Keep the ifindex if it is free in the new namespace (dev_change_net_namespace).
        let taken = self.ns_devs(to).any(|x| x.ifindex == i.ifindex);
        let tn = &mut self.netns[to];
        if let Err(at) = tn.devs.binary_search(&dev) {
            Arc::make_mut(&mut tn.devs).insert(at, dev);
        }
        let ifindex = if taken {
            let v = tn.next_ifindex;
            tn.next_ifindex += 1;
            v
        } else {
            tn.next_ifindex = tn.next_ifindex.max(i.ifindex + 1);
            i.ifindex
        };
        let conf = tn.sysctl.default.clone();
        tn.sysctl.dev_mut().insert(dev, conf);
        if let Some(x) = self.iface_mut(dev) {
            x.ns = to;
            x.ifindex = ifindex;
            x.up = false;
            x.addrs.clear();
        }
        Ok(())
    }

    /// `ip link set DEV address MAC`.
    pub fn set_mac(&mut self, dev: IfId, mac: Mac) -> OpResult {
        if mac.is_multicast() {
            return Err(OpError::rtnl(
                "RTNETLINK answers: Cannot assign requested address",
            ));
        }
        let Some(i) = self.iface_mut(dev) else {
            return Err(OpError::no_device("?"));
        };
        if i.is_loopback() {
            return Err(OpError::rtnl("RTNETLINK answers: Operation not supported"));
        }
        i.mac = mac;
        i.mac_set = true;
        let master = i.master;
        if let Some(br) = master {
            if let Some(IfKind::Bridge(b)) = self.iface_mut(br).map(|b| &mut b.kind) {
                for e in b.fdb.iter_mut().filter(|e| e.port == dev && !e.dynamic) {
                    e.mac = mac;
                }
            }
        }
        Ok(())
    }

    /// `ip link set DEV mtu N`.
    pub fn set_mtu(&mut self, dev: IfId, mtu: u32) -> OpResult {
        if let Some(max) = self.max_mtu(dev) {
            if mtu > max {
                return Err(OpError::rtnl("RTNETLINK answers: Invalid argument"));
            }
        }
        let Some(i) = self.iface_mut(dev) else {
            return Err(OpError::no_device("?"));
        };
        let max = if i.is_loopback() { 65536 * 4 } else { 65535 };
        if mtu < 68 {
            return Err(OpError::rtnl("Error: mtu less than device minimum."));
        }
        if mtu > max {
            return Err(OpError::rtnl("Error: mtu greater than device maximum."));
        }
        i.mtu = mtu;
        Ok(())
    }

    /// `ip route add|append` (and `replace` with `replace = true`), with the checks the
    /// kernel makes (`fib_check_nh`).
    pub fn route_add(&mut self, ns: NsId, spec: RouteSpec, replace: bool) -> OpResult {
        let route = self.check_route(ns, &spec)?;
        let routes = self.netns[ns].routes.make_mut();
        if let Some(pos) = routes.iter().position(|r| r.same_key(&route)) {
            if replace {
                routes[pos] = route;
                return Ok(());
            }
            return Err(OpError::rtnl("RTNETLINK answers: File exists"));
        }
        routes.push(route);
        Ok(())
    }

    fn check_route(&self, ns: NsId, spec: &RouteSpec) -> OpResult<Route> {
        let n = &self.netns[ns];
        if spec.dst.addr() != spec.dst.network() {
            return Err(OpError::rtnl(
                "Error: Invalid prefix for given prefix length.",
            ));
        }
        let mut dev = spec.dev;
        let special = matches!(
            spec.rtype,
            RouteType::Blackhole | RouteType::Unreachable | RouteType::Prohibit
        );
        if special {
            return Ok(Route {
                table: Table::Main,
                rtype: spec.rtype,
                dst: spec.dst,
                gateway: None,
                dev: None,
                proto: spec.proto,
                scope: spec.scope.unwrap_or(Scope::Global),
                src: spec.src,
                metric: spec.metric,
                onlink: false,
            });
        }
        if let Some(d) = dev {
            if !self.iface(d).is_some_and(|i| i.up) {
                return Err(OpError::rtnl(if spec.gateway.is_some() && spec.onlink {
                    "Error: Nexthop device is not up."
                } else if spec.gateway.is_some() {
                    "Error: Nexthop has invalid gateway."
                } else {
                    "Error: Device for nexthop is not up."
                }));
            }
        }
        match spec.gateway {
            Some(gw) if !spec.onlink => {
                // fib_check_nh_v4_gw: the gateway must be reachable through a route of
                // scope link or host (a connected subnet or an own address), on `dev` if given.
                let found = route::fib_lookup(&n.routes, gw, |r| {
                    r.scope >= Scope::Link
                        && matches!(r.rtype, RouteType::Unicast | RouteType::Local)
                        && (dev.is_none() || r.dev == dev || r.rtype == RouteType::Local)
                        && r.dev.is_some_and(|d| self.iface(d).is_some_and(|i| i.up))
                });
                match found {
                    Some(r) => {
                        if dev.is_none() {
                            dev = r.dev;
                        }
                    }
                    None => return Err(OpError::rtnl("Error: Nexthop has invalid gateway.")),
                }
            }
            Some(_) => {
                if dev.is_none() {
                    return Err(OpError::rtnl("Error: Nexthop device required for onlink."));
                }
            }
            None => {
                if dev.is_none() {
                    return Err(OpError::rtnl("Error: Nexthop device required."));
                }
            }
        }
        if let Some(src) = spec.src {
            if !self.is_local_addr(ns, src) {
                return Err(OpError::rtnl("Error: Invalid prefsrc address."));
            }
        }
        let scope = spec.scope.unwrap_or(if spec.gateway.is_some() {
            Scope::Global
        } else {
            Scope::Link
        });
        Ok(Route {
            table: Table::Main,
            rtype: RouteType::Unicast,
            dst: spec.dst,
            gateway: spec.gateway,
            dev,
            proto: spec.proto,
            scope,
            src: spec.src,
            metric: spec.metric,
            onlink: spec.onlink,
        })
    }

    /// `ip route del PREFIX [via GW] [dev DEV] [metric N]`: the first route that matches
    /// every selector given.
    pub fn route_del(&mut self, ns: NsId, spec: &RouteSpec, metric_given: bool) -> OpResult {
        let mut routes: Vec<(usize, &Route)> = self.netns[ns]
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.table == Table::Main)
            .collect();
        routes.sort_by_key(|(_, r)| r.print_order());
        let pos = routes
            .iter()
            .find(|(_, r)| {
                r.dst == spec.dst
                    && (spec.gateway.is_none() || r.gateway == spec.gateway)
                    && (spec.dev.is_none() || r.dev == spec.dev)
                    && (!metric_given || r.metric == spec.metric)
                    && (spec.rtype == RouteType::Unicast || r.rtype == spec.rtype)
            })
            .map(|(i, _)| *i);
        match pos {
            Some(i) => {
                self.netns[ns].routes.make_mut().remove(i);
                Ok(())
            }
            None => Err(OpError::rtnl("RTNETLINK answers: No such process")),
        }
    }

    /// `ip neigh add|replace IP lladdr MAC dev DEV [nud STATE]`.
    pub fn neigh_add(
        &mut self,
        ns: NsId,
        dev: IfId,
        ip: Ipv4Addr,
        mac: Mac,
        state: NudState,
        replace: bool,
    ) -> OpResult {
        if let Some(e) = self.neigh_mut(ns, dev, ip) {
            if !replace {
                return Err(OpError::rtnl("RTNETLINK answers: File exists"));
            }
            e.mac = Some(mac);
            e.state = state;
            return Ok(());
        }
        self.netns[ns].neigh.push(Neighbour {
            ip,
            dev,
            mac: Some(mac),
            state,
        });
        Ok(())
    }

    /// `ip neigh del IP dev DEV`.
    pub fn neigh_del(&mut self, ns: NsId, dev: IfId, ip: Ipv4Addr) -> OpResult {
        let before = self.netns[ns].neigh.len();
        self.netns[ns]
            .neigh
            .retain(|n| !(n.dev == dev && n.ip == ip));
        if self.netns[ns].neigh.len() == before {
            return Err(OpError::rtnl(
                "RTNETLINK answers: No such file or directory",
            ));
        }
        Ok(())
    }

    /// A server binds and listens: `Address already in use` if the port is taken on that
    /// address (or on any address, 0.0.0.0, either way).
    pub fn listen(&mut self, ns: NsId, l: Listener) -> OpResult {
        let clash = self.netns[ns].sockets.iter().any(|s| {
            s.proto == l.proto
                && s.port == l.port
                && (s.addr == l.addr || s.addr.is_unspecified() || l.addr.is_unspecified())
                && !(s.reuseport && l.reuseport)
        });
        if clash {
            return Err(OpError::usage(format!(
                "bind() to {}:{} failed (98: Address already in use)",
                l.addr, l.port
            )));
        }
        if !l.addr.is_unspecified() && !self.is_local_addr(ns, l.addr) {
            return Err(OpError::usage(format!(
                "bind() to {}:{} failed (99: Cannot assign requested address)",
                l.addr, l.port
            )));
        }
        Arc::make_mut(&mut self.netns[ns].sockets).push(l);
        Ok(())
    }

    /// `sysctl -w KEY=VALUE` in a namespace. Keys are dotted or slashed.
    pub fn sysctl_set(&mut self, ns: NsId, key: &str, value: &str) -> OpResult {
        let key = key.trim_start_matches("/proc/sys/").replace('/', ".");
        let unknown = || unknown_sysctl(&key);
        let v = value.trim();
        let as_bool = || -> OpResult<bool> {
            match v {
                "0" => Ok(false),
                "1" => Ok(true),
                _ => Err(OpError::rtnl(format!(
                    "sysctl: setting key \"{key}\": Invalid argument"
                ))),
            }
        };
        let parts: Vec<&str> = key.split('.').collect();
        match parts.as_slice() {
            ["net", "ipv4", "ip_forward"] | ["net", "ipv4", "conf", "all", "forwarding"] => {
                let on = as_bool()?;
                self.netns[ns].sysctl.set_ip_forward(on);
            }
            ["net", "ipv4", "icmp_echo_ignore_all"] => {
                self.netns[ns].sysctl.icmp_echo_ignore_all = as_bool()?;
            }
            ["net", "ipv4", "ip_default_ttl"] => {
                let ttl: u8 = v.parse().ok().filter(|t| *t >= 1).ok_or_else(|| {
                    OpError::rtnl(format!("sysctl: setting key \"{key}\": Invalid argument"))
                })?;
                self.netns[ns].sysctl.default_ttl = ttl;
            }
            ["net", "bridge", "bridge-nf-call-iptables"] => {
                self.netns[ns].sysctl.bridge_nf_call_iptables = as_bool()?;
            }
            ["net", "bridge", "bridge-nf-call-arptables"] => {
                self.netns[ns].sysctl.bridge_nf_call_arptables = as_bool()?;
            }
            ["net", "ipv4", kind @ ("conf" | "neigh"), dev, field] => {
                let field = *field;
                let neigh = *kind == "neigh";
                let set = |c: &mut DevConf| -> OpResult {
                    match field {
                        "proxy_delay" if neigh => {
                            c.proxy_delay = v.parse().map_err(|_| {
                                OpError::rtnl(format!(
                                    "sysctl: setting key \"{key}\": Invalid argument"
                                ))
                            })?
                        }
                        _ if neigh => return Err(unknown()),
                        "route_localnet" => c.route_localnet = as_bool()?,
                        "forwarding" => c.forwarding = as_bool()?,
                        "proxy_arp" => c.proxy_arp = as_bool()?,
                        "send_redirects" => c.send_redirects = as_bool()?,
                        "rp_filter" => {
                            c.rp_filter = match v {
                                "0" => 0,
                                "1" => 1,
                                "2" => 2,
                                _ => {
                                    return Err(OpError::rtnl(format!(
                                        "sysctl: setting key \"{key}\": Invalid argument"
                                    )))
                                }
                            }
                        }
                        _ => return Err(unknown()),
                    }
                    Ok(())
                };
                match *dev {
                    "all" => set(&mut self.netns[ns].sysctl.all)?,
                    "default" => set(&mut self.netns[ns].sysctl.default)?,
                    name => {
                        let id = self.find_iface(ns, name).ok_or_else(unknown)?;
                        let mut c = self.netns[ns].sysctl.dev_conf(id);
                        set(&mut c)?;
                        self.netns[ns].sysctl.dev_mut().insert(id, c);
                    }
                }
            }
            _ => return Err(unknown()),
        }
        Ok(())
    }

    /// `sysctl KEY`: the value as `sysctl` prints it, for the keys that `sysctl_set` knows.
    pub fn sysctl_get(&self, ns: NsId, key: &str) -> OpResult<String> {
        let key = key.trim_start_matches("/proc/sys/").replace('/', ".");
        let s = &self.netns[ns].sysctl;
        let b = |x: bool| if x { "1".to_string() } else { "0".to_string() };
        let parts: Vec<&str> = key.split('.').collect();
        let v = match parts.as_slice() {
            ["net", "ipv4", "ip_forward"] => b(s.ip_forward()),
            ["net", "ipv4", "icmp_echo_ignore_all"] => b(s.icmp_echo_ignore_all),
            ["net", "ipv4", "ip_default_ttl"] => s.default_ttl.to_string(),
            ["net", "bridge", "bridge-nf-call-iptables"] => b(s.bridge_nf_call_iptables),
            ["net", "bridge", "bridge-nf-call-arptables"] => b(s.bridge_nf_call_arptables),
            ["net", "ipv4", kind @ ("conf" | "neigh"), dev, field] => {
                let neigh = *kind == "neigh";
                let c = match *dev {
                    "all" => s.all.clone(),
                    "default" => s.default.clone(),
                    name => self
                        .find_iface(ns, name)
                        .map(|id| s.dev_conf(id))
                        .ok_or_else(|| unknown_sysctl(&key))?,
                };
                match *field {
                    "proxy_delay" if neigh => c.proxy_delay.to_string(),
                    _ if neigh => return Err(unknown_sysctl(&key)),
                    "route_localnet" => b(c.route_localnet),
                    "forwarding" => b(c.forwarding),
                    "proxy_arp" => b(c.proxy_arp),
                    "send_redirects" => b(c.send_redirects),
                    "rp_filter" => c.rp_filter.to_string(),
                    _ => return Err(unknown_sysctl(&key)),
                }
            }
            _ => return Err(unknown_sysctl(&key)),
        };
        Ok(format!("{key} = {v}"))
    }
}

/// The sysctls hopsim models, for the error that names them.
pub const MODELLED_SYSCTLS: &str = "net.ipv4.ip_forward, net.ipv4.conf.{all,default,DEV}.{forwarding,proxy_arp,send_redirects,rp_filter,route_localnet}, net.ipv4.neigh.{default,DEV}.proxy_delay, net.ipv4.icmp_echo_ignore_all, net.ipv4.ip_default_ttl, net.bridge.bridge-nf-call-{iptables,arptables}";

fn unknown_sysctl(key: &str) -> OpError {
    OpError {
        msg: format!(
            "sysctl: cannot stat /proc/sys/{}: No such file or directory (hopsim models {MODELLED_SYSCTLS})",
            key.replace('.', "/")
        ),
        status: 1,
    }
}

#[cfg(test)]
mod tests;
