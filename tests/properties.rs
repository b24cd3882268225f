//! Property tests: invariants of the packet path on generated inputs.

use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::engine::MAX_HOPS;
use hopsim_core::format::script::run_script;
use hopsim_core::format::LoadOptions;
use hopsim_core::model::route::{lpm, Route, Table};
use hopsim_core::model::L4Proto;
use hopsim_core::model::{Proto, RouteType, Scope};
use hopsim_core::wire::{
    ArpOp, ArpRepr, Frame, IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr, Mac, L3,
};
use ipnet::Ipv4Net;
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn route(dst: Ipv4Net, metric: u32) -> Route {
    Route {
        table: Table::Main,
        rtype: RouteType::Unicast,
        dst,
        gateway: None,
        dev: Some(1),
        proto: Proto::BOOT,
        scope: Scope::Link,
        src: None,
        metric,
        onlink: false,
    }
}

fn arb_net() -> impl Strategy<Value = Ipv4Net> {
    // A small address space so that prefixes overlap often.
    (0u32..16, 0u8..=32).prop_map(|(a, len)| {
        let addr = Ipv4Addr::from(0x0a00_0000 | (a << 20) | (a << 4));
        Ipv4Net::new(addr, len).expect("len <= 32").trunc()
    })
}

proptest! {
    /// Longest-prefix match equals a brute-force search (longest prefix, then lowest
    /// metric, then first added).
    #[test]
    fn lpm_equals_brute_force(nets in prop::collection::vec((arb_net(), 0u32..4), 0..24), dst in 0u32..16) {
        let routes: Vec<Route> = nets.iter().map(|(n, m)| route(*n, *m)).collect();
        let dst = Ipv4Addr::from(0x0a00_0000 | (dst << 20) | (dst << 4) | 1);
        let got = lpm(routes.iter(), Table::Main, dst, |_| true).map(|r| (r.dst, r.metric));
        let mut best: Option<(usize, &Route)> = None;
        for (i, r) in routes.iter().enumerate() {
            if !r.dst.contains(&dst) { continue; }
            best = match best {
                None => Some((i, r)),
                Some((j, b)) => {
                    let key = |r: &Route| (r.dst.prefix_len(), std::cmp::Reverse(r.metric));
                    if key(r) > key(b) { Some((i, r)) } else { Some((j, b)) }
                }
            };
        }
        prop_assert_eq!(got, best.map(|(_, r)| (r.dst, r.metric)));
    }

    /// Frames built by the wire layer parse back to the same representation, so every
    /// length and checksum is valid.
    #[test]
    fn echo_frames_round_trip(src in any::<u32>(), dst in any::<u32>(), ttl in 1u8.., id in any::<u16>(), df in any::<bool>(),
                              tos in any::<u8>(), ident in any::<u16>(), seq in any::<u16>(), data in prop::collection::vec(any::<u8>(), 0..200),
                              reply in any::<bool>(), m1 in any::<[u8; 6]>(), m2 in any::<[u8; 6]>()) {
        let icmp = if reply { IcmpRepr::EchoReply { ident, seq, data } } else { IcmpRepr::EchoRequest { ident, seq, data } };
        let f = Frame {
            dst: Mac(m1),
            src: Mac(m2),
            payload: L3::Ipv4(Ipv4Packet {
                header: Ipv4Repr { src: src.into(), dst: dst.into(), ttl, id, df, tos },
                payload: IpPayload::Icmp(icmp),
            }),
        };
        let bytes = f.emit();
        prop_assert_eq!(bytes.len(), f.len());
        prop_assert_eq!(Frame::parse(&bytes), Ok(f));
    }

    /// ICMP errors quote the datagram and round-trip too.
    #[test]
    fn icmp_errors_round_trip(code in prop::sample::select(vec![0u8, 1, 3, 4, 13]), mtu in 68u16..9000, quoted in prop::collection::vec(any::<u8>(), 0..548)) {
        let icmp = IcmpRepr::DestUnreachable { code, mtu: if code == 4 { mtu } else { 0 }, quoted };
        let p = Ipv4Packet {
            header: Ipv4Repr { src: Ipv4Addr::new(10, 0, 0, 1), dst: Ipv4Addr::new(10, 0, 0, 2), ttl: 64, id: 1, df: false, tos: 0xc0 },
            payload: IpPayload::Icmp(icmp),
        };
        prop_assert_eq!(Ipv4Packet::parse(&p.emit()), Ok(p));
    }

    /// ARP round-trips.
    #[test]
    fn arp_round_trips(op in any::<bool>(), a in any::<[u8; 6]>(), b in any::<[u8; 6]>(), s in any::<u32>(), t in any::<u32>()) {
        let f = Frame {
            dst: Mac::BROADCAST,
            src: Mac(a),
            payload: L3::Arp(ArpRepr { op: if op { ArpOp::Request } else { ArpOp::Reply }, sender_mac: Mac(a), sender_ip: s.into(), target_mac: Mac(b), target_ip: t.into() }),
        };
        prop_assert_eq!(Frame::parse(&f.emit()), Ok(f));
    }

    /// Arbitrary bytes never make the parser panic.
    #[test]
    fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Frame::parse(&bytes);
    }
}

/// A random topology as a script: namespaces n0..nN joined by veths on small subnets,
/// random routes (loops included), random forwarding and link states.
fn arb_topology() -> impl Strategy<Value = (String, usize, u8)> {
    let n = 2usize..6;
    n.prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec((0..n, 0..n), 1..8),
            prop::collection::vec((0..n, 0u8..8, 0u8..8), 0..10),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(0u8..10, 8),
            0..n,
            0u8..8,
        )
    })
    .prop_map(|(n, links, routes, fwd, down, from, dst)| {
        let mut s = String::new();
        for i in 0..n {
            s.push_str(&format!("ip netns add n{i}\n"));
        }
        for (k, (a, b)) in links.iter().enumerate() {
            s.push_str(&format!("ip -n n{a} link add l{k}a type veth peer name l{k}b netns n{b}\n"));
            s.push_str(&format!("ip -n n{a} addr add 10.{k}.0.1/24 dev l{k}a\nip -n n{b} addr add 10.{k}.0.2/24 dev l{k}b\n"));
            let da = down.get(k).is_some_and(|d| *d == 0);
            s.push_str(&format!("ip -n n{a} link set l{k}a {}\nip -n n{b} link set l{k}b up\n", if da { "down" } else { "up" }));
        }
        for (i, f) in fwd.iter().enumerate() {
            if *f {
                s.push_str(&format!("ip netns exec n{i} sysctl -w net.ipv4.ip_forward=1\n"));
            }
        }
        for (ns, net, via) in routes {
            // Any of these may fail (gateway off-link): the script goes on, as a shell would.
            s.push_str(&format!("ip -n n{ns} route add 10.{net}.0.0/24 via 10.{via}.0.2\nip -n n{ns} route add default via 10.{via}.0.1\n"));
        }
        (s, from, dst)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Every trace terminates (TTL ends loops, ARP gives up), within the hop budget, and
    /// the same input gives byte-identical output.
    #[test]
    fn traces_terminate_and_are_deterministic((script, from, dst) in arb_topology(), ttl in 1u8..70) {
        let run = run_script("gen.sh", &script, LoadOptions::default()).expect("non-strict scripts always load");
        let w = run.world;
        let ns = w.resolve_ns(&format!("n{from}")).expect("ns");
        let opts = PingOptions { ttl: Some(ttl), count: 2, ..PingOptions::default() };
        let dst = Ipv4Addr::new(10, dst, 0, 2);
        let a = ping(w.clone(), ns, dst, &opts);
        prop_assert!(a.trace.hops.len() < MAX_HOPS);
        prop_assert!((0..=2).contains(&a.exit));
        let b = ping(w, ns, dst, &opts);
        prop_assert_eq!(
            hopsim_core::render::json::trace_json("x", dst, &a),
            hopsim_core::render::json::trace_json("x", dst, &b)
        );
        // Every frame on the wire parses back, with valid checksums.
        for (_, _, f) in a.trace.transmitted() {
            prop_assert!(Frame::parse(f.bytes()).is_ok(), "{}", f.hex());
        }
    }
}

/// client 10.1.0.2 - router (10.1.0.1 | 10.2.0.1) - server 10.2.0.2 listening on TCP 80 and
/// UDP 53; the server routes back to the client only when `back` is set.
fn nat_world(back: bool) -> hopsim_core::model::World {
    let mut s = String::from(
        "ip netns add client\nip netns add router\nip netns add server\n\
         ip -n client link add c type veth peer name r1 netns router\n\
         ip -n server link add s type veth peer name r2 netns router\n\
         ip -n client addr add 10.1.0.2/24 dev c\nip -n router addr add 10.1.0.1/24 dev r1\n\
         ip -n router addr add 10.2.0.1/24 dev r2\nip -n server addr add 10.2.0.2/24 dev s\n\
         ip -n client link set c up\nip -n router link set r1 up\nip -n router link set r2 up\nip -n server link set s up\n\
         ip -n client route add default via 10.1.0.1\nip netns exec router sysctl -w net.ipv4.ip_forward=1\n\
         ip netns exec server nc -lk -p 80 &\nip netns exec server nc -lku -p 53 &\n",
    );
    if back {
        s.push_str("ip -n server route add default via 10.2.0.1\n");
    }
    run_script("nat.sh", &s, LoadOptions { strict: true })
        .expect("loads")
        .world
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Whatever NAT the router does (DNAT of a virtual address, SNAT, MASQUERADE, both, or
    /// none), a connection that reaches the server comes back to the client as a reply to
    /// exactly what the client sent: the client sees success, and the server saw the source
    /// the SNAT decides (or the client's own).
    #[test]
    fn nat_round_trips(dnat in any::<bool>(), snat in 0u8..3, back in any::<bool>(), udp in any::<bool>(), vport in 1024u16..2000) {
        use hopsim_core::engine::connect::{connect, ConnectOptions, Outcome};
        use hopsim_core::format::shell::Shell;
        let mut w = nat_world(back);
        let router = w.resolve_ns("router").expect("router");
        let port = if udp { 53 } else { 80 };
        let mut cmds = Vec::new();
        if dnat {
            cmds.push(format!("iptables -t nat -A PREROUTING -d 10.9.9.9 -p {} --dport {vport} -j DNAT --to-destination 10.2.0.2:{port}", if udp { "udp" } else { "tcp" }));
        }
        match snat {
            1 => cmds.push("iptables -t nat -A POSTROUTING -o r2 -j MASQUERADE".to_string()),
            2 => cmds.push("iptables -t nat -A POSTROUTING -o r2 -j SNAT --to-source 10.2.0.1".to_string()),
            _ => {}
        }
        for c in &cmds {
            let host = w.netns[router].host;
            let r = Shell { world: &mut w, host }.run_line(router, c);
            prop_assert_eq!(r.status, 0, "{}: {}", c, r.stderr);
        }
        if dnat {
            // The client reaches the virtual address through its default route.
        }
        let client = w.resolve_ns("client").expect("client");
        let (dst, dport) = if dnat { ("10.9.9.9", vport) } else { ("10.2.0.2", port) };
        let opts = ConnectOptions { proto: if udp { L4Proto::Udp } else { L4Proto::Tcp }, ..ConnectOptions::default() };
        let r = connect(w, client, dst.parse().expect("ip"), dport, &opts);
        let reachable_back = back || snat != 0;
        if !udp {
            prop_assert_eq!(r.outcome == Outcome::Connected, reachable_back, "{:?}", r.lines);
        } else {
            prop_assert_eq!(r.exit, 0, "UDP with no error back: {:?}", r.lines);
        }
        if let Some((seen, _)) = r.seen_from {
            let want = if snat != 0 { "10.2.0.1" } else { "10.1.0.2" };
            prop_assert_eq!(seen.to_string(), want);
        }
        if !dnat || reachable_back {
            prop_assert!(r.seen_from.is_some(), "the server got it");
        }
        if let Some((reached, p)) = r.reached {
            prop_assert_eq!((reached.to_string(), p), ("10.2.0.2".to_string(), port));
        }
    }
}
