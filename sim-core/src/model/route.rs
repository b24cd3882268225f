//! Routes and the FIB lookup: the local and main tables, longest-prefix match, metrics.

use super::IfId;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;

/// Routing table ids, as in `/etc/iproute2/rt_tables`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// Table 255: local and broadcast addresses, looked up first (rule 0).
    Local,
    /// Table 254: everything `ip route add` puts in by default (rule 32766).
    Main,
}

/// Route types (`RTN_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteType {
    /// A normal route to a gateway or a directly connected subnet.
    Unicast,
    /// One of this namespace's own addresses.
    Local,
    /// A subnet broadcast address.
    Broadcast,
    /// Silently discard (`ip route add blackhole`).
    Blackhole,
    /// Reject with host unreachable (`ip route add unreachable`).
    Unreachable,
    /// Reject with "packet filtered" (`ip route add prohibit`).
    Prohibit,
}

/// Route scope (`RT_SCOPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// 0: valid everywhere (routes via a gateway).
    Global,
    /// 253: valid on the attached link (connected routes).
    Link,
    /// 254: valid only inside this host (local addresses).
    Host,
}

impl Scope {
    /// The kernel's numeric value.
    pub fn value(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Link => 253,
            Scope::Host => 254,
        }
    }

    /// The name iproute2 prints.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Link => "link",
            Scope::Host => "host",
        }
    }
}

/// Who installed a route (`proto`), numbers as in `/etc/iproute2/rt_protos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Proto(pub u8);

impl Proto {
    /// Added by the kernel for an address.
    pub const KERNEL: Proto = Proto(2);
    /// `ip route add` without `proto` (not printed).
    pub const BOOT: Proto = Proto(3);
    /// `proto static`.
    pub const STATIC: Proto = Proto(4);

    const NAMES: [(u8, &'static str); 15] = [
        (0, "unspec"),
        (1, "redirect"),
        (2, "kernel"),
        (3, "boot"),
        (4, "static"),
        (8, "gated"),
        (9, "ra"),
        (11, "zebra"),
        (12, "bird"),
        (16, "dhcp"),
        (42, "babel"),
        (186, "bgp"),
        (187, "isis"),
        (188, "ospf"),
        (189, "rip"),
    ];

    /// Parse a name or a number, as `ip route add ... proto X` accepts.
    pub fn parse(s: &str) -> Option<Proto> {
        if let Ok(n) = s.parse::<u8>() {
            return Some(Proto(n));
        }
        Proto::NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(v, _)| Proto(*v))
    }

    /// The name iproute2 prints.
    pub fn name(self) -> String {
        self.to_string()
    }
}

/// The name iproute2 prints (`kernel`, `static`, or the number).
impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match Proto::NAMES.iter().find(|(v, _)| *v == self.0) {
            Some((_, n)) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A route as `ip route` prints it (with its trailing space), kept as data until
/// printed: the route, with what its printing needs from the world (its device's name,
/// whether that device has carrier). `with_table` adds `table local` to local-table
/// routes, as `ip route show table all` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteText {
    /// The route.
    pub route: Route,
    /// Its device's name.
    pub dev: Option<super::Name>,
    /// Its device has no carrier (`linkdown`).
    pub linkdown: bool,
    /// Name the local table.
    pub with_table: bool,
}

impl RouteText {
    /// The text of a route of `world`.
    pub fn new(world: &super::World, r: &Route, with_table: bool) -> RouteText {
        RouteText {
            route: r.clone(),
            dev: r.dev.map(|d| world.ifname(d)),
            linkdown: r.dev.is_some_and(|d| {
                matches!(r.rtype, RouteType::Unicast | RouteType::Broadcast) && !world.carrier(d)
            }),
            with_table,
        }
    }
}

impl std::fmt::Display for RouteText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.route;
        f.write_str(match r.rtype {
            RouteType::Unicast => "",
            RouteType::Local => "local ",
            RouteType::Broadcast => "broadcast ",
            RouteType::Blackhole => "blackhole ",
            RouteType::Unreachable => "unreachable ",
            RouteType::Prohibit => "prohibit ",
        })?;
        if r.dst.prefix_len() == 0 {
            f.write_str("default ")?;
        } else if r.dst.prefix_len() == 32 {
            write!(f, "{} ", r.dst.addr())?;
        } else {
            write!(f, "{} ", r.dst)?;
        }
        if let Some(gw) = r.gateway {
            write!(f, "via {gw} ")?;
        }
        if let Some(d) = &self.dev {
            write!(f, "dev {d} ")?;
        }
        if self.with_table && r.table == Table::Local {
            f.write_str("table local ")?;
        }
        if r.proto.0 != 3 {
            write!(f, "proto {} ", r.proto)?;
        }
        let default_scope = match r.rtype {
            RouteType::Local => Scope::Host,
            RouteType::Broadcast => Scope::Link,
            _ => Scope::Global,
        };
        if r.scope != Scope::Global || (r.scope != default_scope && r.rtype != RouteType::Unicast) {
            write!(f, "scope {} ", r.scope.name())?;
        }
        if let Some(src) = r.src {
            write!(f, "src {src} ")?;
        }
        if r.metric != 0 {
            write!(f, "metric {} ", r.metric)?;
        }
        if r.onlink {
            f.write_str("onlink ")?;
        }
        if self.linkdown {
            f.write_str("linkdown ")?;
        }
        Ok(())
    }
}

/// One route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Local or main.
    pub table: Table,
    /// Route type.
    #[serde(rename = "type")]
    pub rtype: RouteType,
    /// Destination prefix.
    pub dst: Ipv4Net,
    /// Gateway (`via`).
    pub gateway: Option<Ipv4Addr>,
    /// Output device.
    pub dev: Option<IfId>,
    /// `proto`.
    pub proto: Proto,
    /// `scope`.
    pub scope: Scope,
    /// Preferred source (`src`).
    pub src: Option<Ipv4Addr>,
    /// `metric` (priority).
    pub metric: u32,
    /// `onlink`: the gateway is on the link even without a covering connected route.
    pub onlink: bool,
}

impl Route {
    /// The sort key `ip route` prints in: prefix address ascending, longer prefixes of the
    /// same address first, then metric (the FIB trie's order).
    pub fn print_order(&self) -> (u32, std::cmp::Reverse<u8>, u32) {
        (
            u32::from(self.dst.network()),
            std::cmp::Reverse(self.dst.prefix_len()),
            self.metric,
        )
    }

    /// Whether this is the same route for `ip route del`/`replace` matching purposes:
    /// same table, destination and metric (the kernel's key).
    pub fn same_key(&self, other: &Route) -> bool {
        self.table == other.table && self.dst == other.dst && self.metric == other.metric
    }
}

/// Longest-prefix match over one table, lowest metric among equal prefixes. Routes whose
/// device fails `usable` are skipped (e.g. a different output device than requested).
pub fn lpm<'a>(
    routes: impl Iterator<Item = &'a Route>,
    table: Table,
    dst: Ipv4Addr,
    usable: impl Fn(&Route) -> bool,
) -> Option<&'a Route> {
    let mut best: Option<&Route> = None;
    for r in routes {
        if r.table != table || !r.dst.contains(&dst) || !usable(r) {
            continue;
        }
        best = match best {
            None => Some(r),
            Some(b) => {
                let better = r.dst.prefix_len() > b.dst.prefix_len()
                    || (r.dst.prefix_len() == b.dst.prefix_len() && r.metric < b.metric);
                Some(if better { r } else { b })
            }
        };
    }
    best
}

/// The result of a route lookup in both tables (the default rules: local, then main).
pub fn fib_lookup(
    routes: &[Route],
    dst: Ipv4Addr,
    usable: impl Fn(&Route) -> bool + Copy,
) -> Option<&Route> {
    lpm(routes.iter(), Table::Local, dst, usable)
        .or_else(|| lpm(routes.iter(), Table::Main, dst, usable))
}

/// A namespace's routes (the local and main tables), shared between copies of the world
/// until one changes them ([`Routes::make_mut`]), with what is derived from them built once
/// on first use: its local addresses (the `local` routes of the local table) for
/// [`Routes::is_local`], which ARP asks of every namespace a broadcast reaches, and a
/// longest-prefix index for [`Routes::lpm`] (a Kubernetes node has hundreds of routes,
/// and every packet it forwards looks up two tables).
#[derive(Clone, Default)]
pub struct Routes {
    list: std::sync::Arc<Vec<Route>>,
    derived: std::sync::Arc<std::sync::OnceLock<Derived>>,
}

/// What [`Routes`] derives from its list.
#[derive(Default)]
struct Derived {
    local: LocalAddrs,
    /// The networks of the broadcast routes of both tables.
    broadcast: Vec<Ipv4Net>,
    /// By table ([`Table::Local`], [`Table::Main`]): the routes grouped by prefix length,
    /// longest first.
    prefixes: [Vec<PrefixGroup>; 2],
}

/// The addresses `local` routes of the local table cover: single addresses, sorted, and
/// the wider prefixes (`127.0.0.0/8`, AnyIP routes).
#[derive(Default)]
struct LocalAddrs {
    hosts: Vec<u32>,
    nets: Vec<Ipv4Net>,
}

/// The routes of one table with one prefix length: (network, position in the list),
/// sorted, so the routes to one network are together and in list order.
struct PrefixGroup {
    len: u8,
    routes: Vec<(u32, u32)>,
}

fn mask(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

impl Derived {
    fn of(list: &[Route]) -> Derived {
        let mut local = LocalAddrs::default();
        for r in list
            .iter()
            .filter(|r| r.table == Table::Local && r.rtype == RouteType::Local)
        {
            if r.dst.prefix_len() == 32 {
                local.hosts.push(u32::from(r.dst.addr()));
            } else {
                local.nets.push(r.dst.trunc());
            }
        }
        local.hosts.sort_unstable();
        let prefixes = [Table::Local, Table::Main].map(|table| {
            let mut groups: Vec<PrefixGroup> = Vec::new();
            for (i, r) in list.iter().enumerate().filter(|(_, r)| r.table == table) {
                let len = r.dst.prefix_len();
                let net = u32::from(r.dst.addr()) & mask(len);
                match groups.iter_mut().find(|g| g.len == len) {
                    Some(g) => g.routes.push((net, i as u32)),
                    None => groups.push(PrefixGroup {
                        len,
                        routes: vec![(net, i as u32)],
                    }),
                }
            }
            for g in &mut groups {
                g.routes.sort_unstable();
            }
            groups.sort_unstable_by_key(|g| std::cmp::Reverse(g.len));
            groups
        });
        let broadcast = list
            .iter()
            .filter(|r| r.rtype == RouteType::Broadcast)
            .map(|r| r.dst)
            .collect();
        Derived {
            local,
            broadcast,
            prefixes,
        }
    }
}

impl Routes {
    /// The routes, to change (copied first if another copy of the world shares them).
    pub fn make_mut(&mut self) -> &mut Vec<Route> {
        self.derived = Default::default();
        std::sync::Arc::make_mut(&mut self.list)
    }

    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| Derived::of(&self.list))
    }

    /// Whether a `local` route of the local table covers `ip` (the address is ours).
    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        let l = &self.derived().local;
        l.hosts.binary_search(&u32::from(ip)).is_ok() || l.nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether a broadcast route of the local or main table covers `ip` (what a lookup of
    /// either table for a broadcast route finds).
    pub fn broadcast_covers(&self, ip: Ipv4Addr) -> bool {
        self.derived().broadcast.iter().any(|n| n.contains(&ip))
    }

    /// The addresses `local` routes of the local table cover: single addresses (sorted) and
    /// wider prefixes.
    pub fn local_addrs(&self) -> (&[u32], &[Ipv4Net]) {
        let l = &self.derived().local;
        (&l.hosts, &l.nets)
    }

    /// [`lpm`] over these routes, through the index: the same route, found without walking
    /// the table.
    pub fn lpm(
        &self,
        table: Table,
        dst: Ipv4Addr,
        usable: impl Fn(&Route) -> bool,
    ) -> Option<&Route> {
        let groups = &self.derived().prefixes[table as usize];
        let dst = u32::from(dst);
        for g in groups {
            let net = dst & mask(g.len);
            let from = g.routes.partition_point(|(n, _)| *n < net);
            // Among the routes to this network, the lowest metric, the first in list
            // order on a tie (as the walk keeps the first of equals).
            let mut best: Option<&Route> = None;
            for (_, i) in g.routes[from..].iter().take_while(|(n, _)| *n == net) {
                let r = &self.list[*i as usize];
                if usable(r) && best.is_none_or(|b| r.metric < b.metric) {
                    best = Some(r);
                }
            }
            if best.is_some() {
                return best;
            }
        }
        None
    }

    /// [`fib_lookup`] over these routes, through the index.
    pub fn fib_lookup(
        &self,
        dst: Ipv4Addr,
        usable: impl Fn(&Route) -> bool + Copy,
    ) -> Option<&Route> {
        self.lpm(Table::Local, dst, usable)
            .or_else(|| self.lpm(Table::Main, dst, usable))
    }
}

impl std::ops::Deref for Routes {
    type Target = Vec<Route>;
    fn deref(&self) -> &Vec<Route> {
        &self.list
    }
}

impl PartialEq for Routes {
    fn eq(&self, other: &Routes) -> bool {
        self.list == other.list
    }
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.list.fmt(f)
    }
}

impl Serialize for Routes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn route(table: bool, rtype: u8, net: u32, len: u8, dev: u8, metric: u8) -> Route {
        Route {
            table: if table { Table::Local } else { Table::Main },
            rtype: match rtype % 4 {
                0 => RouteType::Unicast,
                1 => RouteType::Local,
                2 => RouteType::Broadcast,
                _ => RouteType::Blackhole,
            },
            dst: Ipv4Net::new(Ipv4Addr::from(net), len).unwrap_or_default(),
            gateway: None,
            dev: Some(usize::from(dev % 4)),
            proto: crate::model::Proto::KERNEL,
            scope: crate::model::Scope::Link,
            src: None,
            metric: u32::from(metric % 3),
            onlink: false,
        }
    }

    proptest! {
        /// The index finds the route the walk finds (the same one, not an equal one): for
        /// random tables of nested and equal prefixes, metrics and devices, with and
        /// without a device filter.
        #[test]
        fn the_index_finds_what_the_walk_finds(
            spec in proptest::collection::vec(
                (any::<bool>(), any::<u8>(), 0u32..16, 0u8..=32, any::<u8>(), any::<u8>()),
                0..40,
            ),
            dsts in proptest::collection::vec(0u32..16, 1..8),
            oif in 0usize..5,
        ) {
            // Networks and destinations from a few values spread over the address space,
            // so that prefixes overlap.
            let spread = |v: u32| v.wrapping_mul(0x1111_1111) ^ 0x0a00_0000;
            let list: Vec<Route> = spec
                .iter()
                .map(|(t, k, n, l, d, m)| route(*t, *k, spread(*n), *l, *d, *m))
                .collect();
            let mut routes = Routes::default();
            *routes.make_mut() = list.clone();
            for d in dsts {
                let dst = Ipv4Addr::from(spread(d) ^ (d << 3));
                for table in [Table::Local, Table::Main] {
                    let usable = |r: &Route| oif == 4 || r.dev == Some(oif);
                    let walk = lpm(list.iter(), table, dst, usable).map(|r| r as *const Route);
                    let walk = walk.map(|p| list.iter().position(|r| std::ptr::eq(r, p)));
                    let index = routes
                        .lpm(table, dst, usable)
                        .map(|r| routes.iter().position(|x| std::ptr::eq(x, r)));
                    prop_assert_eq!(walk, index, "{} in {:?}", dst, table);
                }
                let walk = fib_lookup(&list, dst, |_| true).map(|r| list.iter().position(|x| x == r));
                let index = routes.fib_lookup(dst, |_| true).map(|r| list.iter().position(|x| x == r));
                prop_assert_eq!(walk, index);
                // A broadcast route of either table covers it: what a lookup of each for
                // one finds.
                let broadcast = |r: &Route| r.rtype == RouteType::Broadcast;
                prop_assert_eq!(
                    routes.broadcast_covers(dst),
                    lpm(list.iter(), Table::Local, dst, broadcast).is_some()
                        || lpm(list.iter(), Table::Main, dst, broadcast).is_some()
                );
            }
        }
    }

    #[test]
    fn the_index_is_rebuilt_when_the_routes_change() {
        let mut routes = Routes::default();
        routes
            .make_mut()
            .push(route(false, 0, 0x0a00_0000, 8, 0, 0));
        let dst = Ipv4Addr::new(10, 1, 2, 3);
        assert_eq!(
            routes
                .lpm(Table::Main, dst, |_| true)
                .map(|r| r.dst.prefix_len()),
            Some(8)
        );
        routes
            .make_mut()
            .push(route(false, 0, 0x0a01_0000, 16, 0, 0));
        assert_eq!(
            routes
                .lpm(Table::Main, dst, |_| true)
                .map(|r| r.dst.prefix_len()),
            Some(16)
        );
    }
}
