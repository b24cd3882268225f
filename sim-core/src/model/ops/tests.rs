//! The kernel side effects of `ip` operations, as measured (see docs/kernel-notes.md).

use super::*;

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

fn setup() -> (World, NsId, IfId, IfId) {
    let mut w = World::new();
    let h = w.add_host("host", HostKind::Linux);
    let ns = w.hosts[h].root;
    let (a, b) = w.add_veth(ns, "va", ns, "vb").expect("veth");
    (w, ns, a, b)
}

fn routes(w: &World, ns: NsId) -> Vec<String> {
    let lo = w.find_iface(ns, "lo");
    let mut r: Vec<String> = w.netns[ns]
        .routes
        .iter()
        .filter(|r| r.dev != lo)
        .map(|r| format!("{:?} {:?} {}", r.table, r.rtype, r.dst))
        .collect();
    r.sort();
    r
}

#[test]
fn address_on_a_down_device_gets_only_its_local_route() {
    let (mut w, ns, a, _) = setup();
    w.addr_add(a, net("10.0.0.1/24")).expect("add");
    assert_eq!(routes(&w, ns), vec!["Local Local 10.0.0.1/32"]);
    w.link_up(a);
    assert_eq!(
        routes(&w, ns),
        vec![
            "Local Broadcast 10.0.0.255/32",
            "Local Local 10.0.0.1/32",
            "Main Unicast 10.0.0.0/24"
        ]
    );
}

#[test]
fn same_address_twice_is_refused_but_another_length_is_not() {
    let (mut w, _, a, _) = setup();
    w.addr_add(a, net("10.0.0.1/24")).expect("add");
    assert_eq!(
        w.addr_add(a, net("10.0.0.1/24")).map_err(|e| e.msg),
        Err("Error: ipv4: Address already assigned.".to_string())
    );
    assert!(w.addr_add(a, net("10.0.0.1/32")).is_ok());
}

#[test]
fn deleting_the_primary_deletes_secondaries_and_the_routes() {
    let (mut w, ns, a, _) = setup();
    w.link_up(a);
    w.addr_add(a, net("10.0.0.1/24")).expect("add");
    w.addr_add(a, net("10.0.0.2/24")).expect("add");
    assert!(w.iface(a).expect("a").addrs[1].secondary);
    w.route_add(
        ns,
        RouteSpec {
            gateway: Some("10.0.0.9".parse().expect("ip")),
            ..RouteSpec::new(net("10.9.0.0/16"))
        },
        false,
    )
    .expect("route");
    w.addr_del(a, net("10.0.0.1/24"), true).expect("del");
    assert!(w.iface(a).expect("a").addrs.is_empty());
    assert!(routes(&w, ns).is_empty(), "{:?}", routes(&w, ns));
}

#[test]
fn replace_and_metrics() {
    let (mut w, ns, a, _) = setup();
    w.link_up(a);
    w.addr_add(a, net("10.0.0.1/24")).expect("add");
    let via = |g: &str, m: u32| RouteSpec {
        gateway: Some(g.parse().expect("ip")),
        metric: m,
        ..RouteSpec::new(net("10.1.2.0/24"))
    };
    w.route_add(ns, via("10.0.0.6", 50), false).expect("add");
    assert_eq!(
        w.route_add(ns, via("10.0.0.7", 50), false)
            .map_err(|e| e.msg),
        Err("RTNETLINK answers: File exists".into())
    );
    w.route_add(ns, via("10.0.0.7", 60), false)
        .expect("another metric");
    w.route_add(ns, via("10.0.0.8", 0), true)
        .expect("replace adds");
    w.route_del(ns, &RouteSpec::new(net("10.1.2.0/24")), false)
        .expect("del");
    let left: Vec<u32> = w.netns[ns]
        .routes
        .iter()
        .filter(|r| r.dst == net("10.1.2.0/24"))
        .map(|r| r.metric)
        .collect();
    assert_eq!(
        left,
        vec![50, 60],
        "ip route del removes the first in print order (metric 0)"
    );
}

#[test]
fn device_for_nexthop_must_be_up() {
    let (mut w, ns, _, b) = setup();
    let spec = RouteSpec {
        dev: Some(b),
        ..RouteSpec::new(net("10.6.0.0/24"))
    };
    assert_eq!(
        w.route_add(ns, spec, false).map_err(|e| e.msg),
        Err("Error: Device for nexthop is not up.".into())
    );
}

#[test]
fn moving_a_device_resets_it() {
    let (mut w, ns, a, _) = setup();
    w.addr_add(a, net("10.0.0.1/24")).expect("add");
    w.link_up(a);
    let h = w.netns[ns].host;
    let red = w.add_netns(h, "red", "red").expect("netns");
    w.set_netns(a, red).expect("move");
    let i = w.iface(a).expect("a");
    assert!(!i.up && i.addrs.is_empty() && i.ns == red);
    assert!(routes(&w, ns).is_empty());
    assert!(w.add_netns(h, "red", "red").is_err());
}

#[test]
fn ip_forward_sets_every_device() {
    let (mut w, ns, a, b) = setup();
    w.sysctl_set(ns, "net.ipv4.ip_forward", "1").expect("set");
    assert!(w.netns[ns].sysctl.forwarding(a) && w.netns[ns].sysctl.forwarding(b));
    w.sysctl_set(ns, "net.ipv4.conf.va.forwarding", "0")
        .expect("set");
    assert!(!w.netns[ns].sysctl.forwarding(a) && w.netns[ns].sysctl.forwarding(b));
    assert_eq!(
        w.sysctl_get(ns, "/proc/sys/net/ipv4/ip_forward")
            .expect("get"),
        "net.ipv4.ip_forward = 1"
    );
    let e = w
        .sysctl_set(ns, "net.ipv4.tcp_syncookies", "1")
        .expect_err("not modelled");
    assert!(e.msg.contains("hopsim models net.ipv4.ip_forward"));
    assert!(w.sysctl_set(ns, "net.ipv4.ip_forward", "yes").is_err());
}

#[test]
fn bridge_mac_follows_ports_then_zero() {
    let (mut w, ns, a, _) = setup();
    let br = w.add_bridge(ns, "br0").expect("bridge");
    let own = w.mac_of(br);
    w.set_master(a, br).expect("enslave");
    assert_eq!(w.mac_of(br), w.iface(a).expect("a").mac);
    assert_ne!(w.mac_of(br), own);
    w.set_nomaster(a);
    assert_eq!(w.mac_of(br), Mac::ZERO);
}

#[test]
fn veth_delete_takes_the_peer() {
    let (mut w, ns, a, b) = setup();
    w.del_link(a);
    assert!(w.iface(a).is_none() && w.iface(b).is_none());
    assert_eq!(w.ns_ifaces(ns).len(), 1, "only lo is left");
}

#[test]
fn a_machines_root_namespace_has_lo_up_a_new_namespace_not() {
    let (mut w, ns, _, _) = setup();
    let lo = w.find_iface(ns, "lo").expect("lo");
    assert!(w.iface(lo).expect("lo").up);
    let h = w.netns[ns].host;
    let red = w.add_netns(h, "red", "red").expect("netns");
    let lo = w.find_iface(red, "lo").expect("lo");
    assert!(!w.iface(lo).expect("lo").up);
}

#[test]
fn carrier_needs_both_ends_up() {
    let (mut w, _, a, b) = setup();
    w.link_up(a);
    assert!(!w.carrier(a));
    w.link_up(b);
    assert!(w.carrier(a) && w.carrier(b));
}

#[test]
fn from_accepts_machine_slash_namespace() {
    let (mut w, ns, _, _) = setup();
    let h = w.netns[ns].host;
    let red = w.add_netns(h, "red", "red").expect("netns");
    assert_eq!(w.resolve_ns("host/red"), Ok(red));
    assert_eq!(w.resolve_ns("red"), Ok(red));
    assert_eq!(w.resolve_ns("host"), Ok(ns));
    assert!(w.resolve_ns("other/red").is_err());
}

/// `inet_select_addr` on a device without addresses takes the first global address of the
/// namespace in device order, lo first (measured: a Calico node's ARP on its address-less
/// cali device says `tell 10.0.2.15`, its eth0 address, and `tell 10.9.9.9` once
/// 10.9.9.9/32 is on lo).
#[test]
fn source_for_a_device_without_addresses_prefers_a_global_address_on_lo() {
    let (mut w, ns, a, b) = setup();
    w.link_up(a);
    w.link_up(b);
    w.addr_add(b, net("10.0.2.15/24")).expect("add");
    let dst: Ipv4Addr = "172.16.158.15".parse().expect("ip");
    assert_eq!(
        w.select_src(ns, Some(a), dst),
        Some("10.0.2.15".parse().expect("ip"))
    );
    let lo = w.find_iface(ns, "lo").expect("lo");
    w.addr_add(lo, net("10.9.9.9/32")).expect("add");
    assert_eq!(
        w.select_src(ns, Some(a), dst),
        Some("10.9.9.9".parse().expect("ip"))
    );
}

#[test]
fn source_for_lo_is_never_a_loopback_address() {
    // inet_select_addr(lo, dst, RT_SCOPE_UNIVERSE) skips 127.0.0.1 (scope host) and
    // falls back to a global address of another device: what MASQUERADE picks for a
    // connection DNATed to one of the host's own addresses (kube-proxy's
    // default/kubernetes from the control plane itself).
    let (mut w, ns, a, _) = setup();
    w.addr_add(a, net("192.168.10.10/24")).expect("addr");
    let lo = w.find_iface(ns, "lo").expect("lo");
    assert_eq!(
        w.select_src(ns, Some(lo), "192.168.10.10".parse().unwrap()),
        Some("192.168.10.10".parse().unwrap())
    );
}

#[test]
fn an_unknown_namespace_lists_the_first_known_and_counts_the_rest() {
    let mut w = World::new();
    let h = w.add_host("host", HostKind::Linux);
    for i in 0..20 {
        let name = format!("pod{i}");
        w.add_netns(h, &name, &name).expect("netns");
    }
    let e = w.resolve_ns("nope").expect_err("unknown");
    assert_eq!(
        e,
        "no namespace \"nope\" (known: host, pod0, pod1, pod2, pod3, pod4, pod5, pod6, pod7, \
         pod8, pod9, pod10 and 9 more)"
    );
}
