//! The model rendered the way `ip addr`, `ip link`, `ip route`, `ip neigh`,
//! `bridge fdb` and `arp -n` print it (iproute2 6.1 on the machines measured). IPv6
//! lines are not printed: hopsim models IPv4 only.

use crate::model::{IfId, IfKind, Interface, NsId, Route, Table, World};
use std::fmt::Write;

/// One route as `ip route` prints it (with its trailing space). `with_table` adds
/// `table local` to local-table routes, as `ip route show table all` does.
pub fn route_line(world: &World, r: &Route, with_table: bool) -> String {
    crate::model::route::RouteText::new(world, r, with_table).to_string()
}

/// Which table(s) `ip route show` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableSel {
    /// `ip route` (main).
    Main,
    /// `ip route show table local`.
    Local,
    /// `ip route show table all`.
    All,
}

/// `ip route [show table ...]`.
pub fn ip_route(world: &World, ns: NsId, sel: TableSel) -> String {
    let mut out = String::new();
    let mut tables: Vec<Table> = Vec::new();
    if matches!(sel, TableSel::Main | TableSel::All) {
        tables.push(Table::Main);
    }
    if matches!(sel, TableSel::Local | TableSel::All) {
        tables.push(Table::Local);
    }
    for t in tables {
        let mut routes: Vec<&Route> = world.netns[ns]
            .routes
            .iter()
            .filter(|r| r.table == t)
            .collect();
        routes.sort_by_key(|r| r.print_order());
        for r in routes {
            out.push_str(&route_line(world, r, sel == TableSel::All));
            out.push('\n');
        }
    }
    out
}

fn flags(world: &World, i: &Interface) -> String {
    let mut f: Vec<&str> = Vec::new();
    let carrier = world.carrier(i.id);
    if i.up && !carrier {
        f.push("NO-CARRIER");
    }
    if i.is_loopback() {
        f.push("LOOPBACK");
    } else if i.is_noarp_l3() {
        f.push("NOARP");
    } else {
        f.push("BROADCAST");
        f.push("MULTICAST");
    }
    if i.up {
        f.push("UP");
    }
    if carrier {
        f.push("LOWER_UP");
    }
    f.join(",")
}

fn oper_state(world: &World, i: &Interface) -> &'static str {
    if !i.up {
        return "DOWN";
    }
    match &i.kind {
        IfKind::Loopback | IfKind::Dummy | IfKind::Ipip(_) | IfKind::Vxlan(_) => "UNKNOWN",
        IfKind::Bridge(b) if world.bridge_ports(i.id).is_empty() && !b.had_ports => "UNKNOWN",
        IfKind::Veth { .. } if !world.carrier(i.id) => "LOWERLAYERDOWN",
        _ if world.carrier(i.id) => "UP",
        _ => "DOWN",
    }
}

fn link_head(world: &World, i: &Interface, link_mode: bool) -> String {
    let mut name = i.name.to_string();
    if let IfKind::Veth { peer } = i.kind {
        if let Some(p) = world.iface(peer) {
            if p.ns == i.ns {
                name = format!("{}@{}", i.name, p.name);
            } else {
                name = format!("{}@if{}", i.name, p.ifindex);
            }
        }
    }
    if let IfKind::Ipip(t) = &i.kind {
        // ip_tunnel_get_iflink: the underlay given with `dev`, else 0, which iproute2
        // prints as NONE (`tunl0@NONE`, as on every Calico node).
        name = match t.link.and_then(|l| world.iface(l)) {
            Some(l) => format!("{}@{}", i.name, l.name),
            None => format!("{}@NONE", i.name),
        };
    }
    let qdisc = if !i.up {
        "noop"
    } else {
        match i.kind {
            IfKind::Ether { .. } => "pfifo_fast",
            _ => "noqueue",
        }
    };
    let master = i
        .master
        .map(|m| format!("master {} ", world.ifname(m)))
        .unwrap_or_default();
    format!(
        "{}: {name}: <{}> mtu {} qdisc {qdisc} {master}state {} {}group default qlen 1000",
        i.ifindex,
        flags(world, i),
        i.mtu,
        oper_state(world, i),
        if link_mode { "mode DEFAULT " } else { "" }
    )
}

fn link_line(world: &World, i: &Interface) -> String {
    let mac = world.mac_of(i.id);
    let mut s = if i.is_loopback() {
        format!("    link/loopback {mac} brd 00:00:00:00:00:00")
    } else if let IfKind::Ipip(t) = &i.kind {
        let any = std::net::Ipv4Addr::UNSPECIFIED;
        match t.remote {
            Some(r) => format!("    link/ipip {} peer {r}", t.local.unwrap_or(any)),
            None => format!("    link/ipip {} brd 0.0.0.0", t.local.unwrap_or(any)),
        }
    } else {
        format!("    link/ether {mac} brd ff:ff:ff:ff:ff:ff")
    };
    if let IfKind::Veth { peer } = i.kind {
        if let Some(p) = world.iface(peer) {
            if p.ns != i.ns {
                let pns = &world.netns[p.ns];
                if pns.is_root {
                    s.push_str(" link-netnsid 0");
                } else {
                    let _ = write!(s, " link-netns {}", pns.local_name);
                }
            }
        }
    }
    s
}

fn find_dev(world: &World, ns: NsId, dev: Option<&str>) -> Result<Vec<IfId>, String> {
    match dev {
        Some(d) => world
            .find_iface(ns, d)
            .map(|id| vec![id])
            .ok_or_else(|| format!("Device \"{d}\" does not exist.")),
        None => Ok(world.ns_ifaces(ns).into_iter().map(|i| i.id).collect()),
    }
}

/// `ip link [show [dev] DEV]`.
pub fn ip_link(world: &World, ns: NsId, dev: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    for id in find_dev(world, ns, dev)? {
        if let Some(i) = world.iface(id) {
            out.push_str(&link_head(world, i, true));
            out.push('\n');
            out.push_str(&link_line(world, i));
            out.push('\n');
        }
    }
    Ok(out)
}

/// `ip -d link [show [dev] DEV]`: with the device kind's own line where hopsim models it
/// (VXLAN: `vxlan id 1 local ... dstport 8472 nolearning ttl auto ageing 300 ...`).
pub fn ip_link_details(world: &World, ns: NsId, dev: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    for id in find_dev(world, ns, dev)? {
        let Some(i) = world.iface(id) else { continue };
        out.push_str(&link_head(world, i, true));
        out.push('\n');
        out.push_str(&link_line(world, i));
        out.push_str(" promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \n");
        if let IfKind::Vxlan(v) = &i.kind {
            let _ = writeln!(
                out,
                "    vxlan id {}{}{}{} srcport 0 0 dstport {} {}ttl {} ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx ",
                v.vni,
                v.remote.map(|r| format!(" remote {r}")).unwrap_or_default(),
                v.local.map(|l| format!(" local {l}")).unwrap_or_default(),
                v.link.map(|l| format!(" dev {}", world.ifname(l))).unwrap_or_default(),
                v.dstport,
                if v.learning { "" } else { "nolearning " },
                match v.ttl {
                    0 => "auto".to_string(),
                    n => n.to_string(),
                }
            );
        }
    }
    Ok(out)
}

/// `ip addr [show [dev] DEV]`.
pub fn ip_addr(world: &World, ns: NsId, dev: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    for id in find_dev(world, ns, dev)? {
        let Some(i) = world.iface(id) else { continue };
        out.push_str(&link_head(world, i, false));
        out.push('\n');
        out.push_str(&link_line(world, i));
        out.push('\n');
        for a in &i.addrs {
            let scope = if a.addr().is_loopback() {
                "host"
            } else {
                "global"
            };
            let _ = writeln!(
                out,
                "    inet {} {}scope {scope} {}{}",
                a.net,
                a.brd.map(|b| format!("brd {b} ")).unwrap_or_default(),
                if a.secondary { "secondary " } else { "" },
                i.name
            );
            out.push_str("       valid_lft forever preferred_lft forever\n");
        }
    }
    Ok(out)
}

/// `ip neigh [show]`.
pub fn ip_neigh(world: &World, ns: NsId) -> String {
    let mut out = String::new();
    let mut entries: Vec<_> = world.netns[ns].neigh.iter().collect();
    entries.sort_by_key(|n| (world.iface(n.dev).map(|i| i.ifindex), u32::from(n.ip)));
    for n in entries {
        let _ = write!(out, "{} dev {} ", n.ip, world.ifname(n.dev));
        if let Some(m) = n.mac {
            let _ = write!(out, "lladdr {m} ");
        }
        let _ = writeln!(out, "{} ", n.state.name());
    }
    out
}

/// `arp -n` (net-tools).
pub fn arp_n(world: &World, ns: NsId) -> String {
    let mut out = String::from(
        "Address                  HWtype  HWaddress           Flags Mask            Iface\n",
    );
    for n in &world.netns[ns].neigh {
        let dev = world.ifname(n.dev);
        match n.mac {
            Some(m) if n.state.is_valid() => {
                let flags = if matches!(n.state, crate::model::NudState::Permanent) {
                    "CM"
                } else {
                    "C"
                };
                let _ = writeln!(
                    out,
                    "{:<24} {:<7} {:<19} {:<5} {:<15} {dev}",
                    n.ip.to_string(),
                    "ether",
                    m.to_string(),
                    flags,
                    ""
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{:<24} {:<7} {:<19} {:<5} {:<15} {dev}",
                    n.ip.to_string(),
                    "",
                    "(incomplete)",
                    "",
                    ""
                );
            }
        }
    }
    out
}

/// `bridge fdb show` for the bridges of a namespace (learned and port entries; the
/// kernel's multicast `self permanent` entries are not modelled).
pub fn bridge_fdb(world: &World, ns: NsId) -> String {
    bridge_fdb_dev(world, ns, None)
}

/// `bridge fdb show [dev DEV]`: the bridges' FDBs (`master`) and the VXLAN devices' own
/// (`self`, with `dst`). With a device, its entries only, without `dev DEV`. iproute2 ends
/// each entry with its state, which is empty for a learned one: `MAC dev P master BR `
/// and `MAC dst IP self ` keep that trailing space (kernel-logs/04.log).
pub fn bridge_fdb_dev(world: &World, ns: NsId, only: Option<IfId>) -> String {
    let mut rows: Vec<(IfId, String)> = Vec::new();
    for i in world.ns_ifaces(ns) {
        match &i.kind {
            IfKind::Bridge(b) => {
                rows.push((
                    i.id,
                    format!("{} master {} permanent", world.mac_of(i.id), i.name),
                ));
                for e in &b.fdb {
                    rows.push((
                        e.port,
                        format!(
                            "{} master {} {}",
                            e.mac,
                            i.name,
                            if e.dynamic { "" } else { "permanent" }
                        ),
                    ));
                }
            }
            IfKind::Vxlan(v) => {
                for e in &v.fdb {
                    let via = e
                        .via
                        .map(|l| format!(" via {}", world.ifname(l)))
                        .unwrap_or_default();
                    rows.push((
                        i.id,
                        format!(
                            "{} dst {}{via} self {}",
                            e.mac,
                            e.dst,
                            if e.permanent { "permanent" } else { "" }
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    for (dev, row) in rows {
        match only {
            Some(d) if d != dev => {}
            Some(_) => {
                let _ = writeln!(out, "{row}");
            }
            None => {
                let (mac, rest) = row.split_once(' ').unwrap_or((&row, ""));
                let _ = writeln!(out, "{mac} dev {} {rest}", world.ifname(dev));
            }
        }
    }
    out
}

/// `ip route get ADDR`, or iproute2's error.
pub fn ip_route_get(world: &World, ns: NsId, dst: std::net::Ipv4Addr) -> Result<String, String> {
    match crate::engine::route_output(world, ns, dst, None) {
        Ok(o) if o.local => Ok(format!(
            "local {dst} dev lo table local src {} uid 0 \n    cache <local> \n",
            o.src
        )),
        Ok(o) => {
            let via = o
                .route
                .gateway
                .map(|g| format!("via {g} "))
                .unwrap_or_default();
            Ok(format!(
                "{dst} {via}dev {} src {} uid 0 \n    cache \n",
                world.ifname(o.dev),
                o.src
            ))
        }
        Err(e) => Err(format!("RTNETLINK answers: {}", e.strerror())),
    }
}

/// `ss -ltun` with processes: listening sockets.
pub fn sockets(world: &World, ns: NsId) -> String {
    let mut out =
        String::from("Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n");
    // An up VXLAN device holds a kernel UDP socket on 0.0.0.0:dstport.
    let vxlan: Vec<crate::model::Listener> = world
        .ns_ifaces(ns)
        .into_iter()
        .filter(|i| i.up)
        .filter_map(|i| match &i.kind {
            IfKind::Vxlan(v) => Some(v.dstport),
            _ => None,
        })
        .collect::<std::collections::BTreeSet<u16>>()
        .into_iter()
        .map(|port| crate::model::Listener {
            proto: crate::model::L4Proto::Udp,
            addr: std::net::Ipv4Addr::UNSPECIFIED,
            port,
            process: None,
            reuseport: false,
        })
        .collect();
    let mut socks: Vec<_> = world.netns[ns].sockets.iter().chain(vxlan.iter()).collect();
    socks.sort_by_key(|s| (s.proto, s.port, u32::from(s.addr)));
    for s in socks {
        let tcp = s.proto == crate::model::L4Proto::Tcp;
        let local = format!("{}:{}", s.addr, s.port);
        let proc_ = s
            .process
            .as_ref()
            .map(|p| format!("users:((\"{p}\"))"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<5} {:<6} {:<6} {:<6} {:>18} {:>18} {}",
            s.proto.name(),
            if tcp { "LISTEN" } else { "UNCONN" },
            0,
            if tcp { 4096 } else { 0 },
            local,
            "0.0.0.0:*",
            proc_
        );
    }
    out
}
