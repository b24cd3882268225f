//! Tunnels: encapsulation round trips and lengths (property tests), the decision points of
//! ipip and VXLAN transmit and receive, path MTUs, and capture files that parse.

use hopsim_core::engine::ping::{ping, PingOptions, PmtuDisc};
use hopsim_core::engine::PingRun;
use hopsim_core::format::script::run_script;
use hopsim_core::format::LoadOptions;
use hopsim_core::model::World;
use hopsim_core::render::pcap;
use hopsim_core::trace::{DropReason, Step, Trace};
use hopsim_core::wire::vxlan::VxlanPacket;
use hopsim_core::wire::{Frame, IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr, Mac, UdpRepr, L3};
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn world(script: &str) -> World {
    run_script("t.sh", script, LoadOptions { strict: false })
        .unwrap_or_else(|e| panic!("{e}"))
        .world
}

fn ping_opts(w: &World, from: &str, dst: &str, opts: &PingOptions) -> PingRun {
    let ns = w.resolve_ns(from).expect("namespace");
    ping(w.clone(), ns, dst.parse().expect("addr"), opts)
}

fn drops(t: &Trace) -> Vec<DropReason> {
    t.drops().map(|(_, r, _)| r).collect()
}

/// Two nodes on 192.168.100.0/24, each with a pod behind a Calico-style veth and tunl0.
const IPIP: &str = "modprobe ipip
ip netns add w1
ip netns add w2
ip netns add pod1
ip netns add pod2
ip -n w1 link add eth1 type veth peer name eth1 netns w2
ip -n w1 addr add 192.168.100.101/24 dev eth1
ip -n w2 addr add 192.168.100.102/24 dev eth1
ip -n w1 link set eth1 up
ip -n w2 link set eth1 up
ip -n w1 route add default via 192.168.100.1
ip -n w2 route add default via 192.168.100.1
ip -n w1 addr add 172.16.228.64/32 dev tunl0
ip -n w2 addr add 172.16.46.0/32 dev tunl0
ip -n w1 link set tunl0 mtu 1480 up
ip -n w2 link set tunl0 mtu 1480 up
ip -n w1 link add cali1 type veth peer name eth0 netns pod1
ip -n w2 link add cali2 type veth peer name eth0 netns pod2
ip -n pod1 addr add 172.16.228.84/32 dev eth0
ip -n pod2 addr add 172.16.46.12/32 dev eth0
ip -n pod1 link set eth0 up
ip -n pod2 link set eth0 up
ip -n w1 link set cali1 up
ip -n w2 link set cali2 up
ip -n pod1 route add 169.254.1.1 dev eth0 scope link
ip -n pod1 route add default via 169.254.1.1 dev eth0
ip -n pod2 route add 169.254.1.1 dev eth0 scope link
ip -n pod2 route add default via 169.254.1.1 dev eth0
ip netns exec w1 sysctl -w net.ipv4.conf.cali1.proxy_arp=1
ip netns exec w2 sysctl -w net.ipv4.conf.cali2.proxy_arp=1
ip netns exec w1 sysctl -w net.ipv4.ip_forward=1
ip netns exec w2 sysctl -w net.ipv4.ip_forward=1
ip -n w1 route add 172.16.228.84 dev cali1 scope link
ip -n w2 route add 172.16.46.12 dev cali2 scope link
ip -n w1 route add 172.16.46.0/26 via 192.168.100.102 dev tunl0 onlink
ip -n w2 route add 172.16.228.64/26 via 192.168.100.101 dev tunl0 onlink
";

/// KERNEL_FACTS §11: two nodes, vxlan1 VNI 1 on port 8472 with remote set.
const VXLAN: &str = "ip netns add node1
ip netns add node2
ip -n node1 link add eth0 type veth peer name eth0 netns node2
ip -n node1 addr add 172.16.0.1/24 dev eth0
ip -n node1 link set eth0 up
ip -n node2 addr add 172.16.0.2/24 dev eth0
ip -n node2 link set eth0 up
ip -n node1 link add vxlan1 type vxlan id 1 dstport 8472 local 172.16.0.1 remote 172.16.0.2 dev eth0
ip -n node2 link add vxlan1 type vxlan id 1 dstport 8472 local 172.16.0.2 remote 172.16.0.1 dev eth0
ip -n node1 addr add 10.244.0.1/24 dev vxlan1
ip -n node1 link set vxlan1 up
ip -n node2 addr add 10.244.0.2/24 dev vxlan1
ip -n node2 link set vxlan1 up
";

fn encapsulated(t: &Trace) -> Vec<Ipv4Packet> {
    t.transmitted()
        .filter_map(|(_, _, f)| f.decoded().expect("the frame decodes").ipv4().cloned())
        .filter(|p| matches!(p.payload, IpPayload::Ipip(_)))
        .collect()
}

#[test]
fn ipip_outer_header_follows_the_kernel() {
    let w = world(IPIP);
    let r = ping_opts(&w, "pod1", "172.16.46.12", &PingOptions::default());
    assert_eq!(r.exit, 0, "{}", r.lines.join("\n"));
    // Two nodes forward: the reply arrives with TTL 62.
    assert!(r.lines[1].ends_with("ttl=62"), "{}", r.lines[1]);
    let outer = encapsulated(&r.trace);
    let req = &outer[0];
    assert_eq!(req.header.src, Ipv4Addr::new(192, 168, 100, 101));
    assert_eq!(req.header.dst, Ipv4Addr::new(192, 168, 100, 102));
    // ttl inherit: the inner TTL after the node's forward; DF copied from the inner packet.
    assert_eq!(
        (req.header.ttl, req.header.df, req.total_len()),
        (63, true, 104)
    );
    let IpPayload::Ipip(inner) = &req.payload else {
        unreachable!()
    };
    assert_eq!(
        (inner.header.ttl, inner.header.df, inner.total_len()),
        (63, true, 84)
    );
    // The reply has no DF inside (icmp_reply), so none outside: the fallback tunl0 has
    // no pmtudisc.
    assert!(!outer[1].header.df);
}

#[test]
fn ipip_tunnel_with_pmtudisc_always_sets_df() {
    let script = IPIP.replace(
        "ip -n w1 route add 172.16.46.0/26 via 192.168.100.102 dev tunl0 onlink",
        "ip -n w1 link add t12 type ipip remote 192.168.100.102 local 192.168.100.101 ttl 20\nip -n w1 link set t12 up\nip -n w1 route add 172.16.46.0/26 dev t12",
    );
    let w = world(&script);
    let o = PingOptions {
        pmtudisc: PmtuDisc::Dont,
        ..PingOptions::default()
    };
    let r = ping_opts(&w, "pod1", "172.16.46.12", &o);
    let outer = encapsulated(&r.trace);
    assert_eq!((outer[0].header.ttl, outer[0].header.df), (20, true));
    // The far side has only the fallback tunl0, which takes any endpoint: the reply works.
    assert_eq!(r.exit, 0, "{}", r.lines.join("\n"));
}

#[test]
fn ipip_without_an_up_tunnel_answers_port_unreachable() {
    let script = IPIP.replace("ip -n w2 link set tunl0 mtu 1480 up", "");
    let w = world(&script);
    let r = ping_opts(&w, "pod1", "172.16.46.12", &PingOptions::default());
    assert_eq!(r.exit, 1);
    let w2 = r
        .trace
        .hops
        .iter()
        .find(|h| h.node == "w2" && h.steps.iter().any(|s| matches!(s, Step::IcmpSend { .. })));
    assert!(w2.is_some(), "tunnel4_rcv answers ICMP port unreachable");
}

#[test]
fn ipip_without_the_module_is_protocol_unreachable() {
    // A machine without the module: protocol 4 has no handler.
    let mut w = world(IPIP);
    w.hosts[0].ipip_loaded = false;
    let r = ping_opts(&w, "pod1", "172.16.46.12", &PingOptions::default());
    assert!(r
        .trace
        .drops()
        .any(|(h, _, d)| h.node == "w2" && d.contains("protocol 4")));
}

#[test]
fn modprobe_creates_tunl0_and_ip_link_add_tunl0_exists() {
    let run = run_script(
        "t.sh",
        "ip netns add a\nip link add tunl0 type ipip\nip netns add b\n",
        LoadOptions::default(),
    )
    .expect("loads");
    assert!(run
        .steps
        .iter()
        .any(|s| s.result.stderr.contains("RTNETLINK answers: File exists")));
    let w = run.world;
    for ns in ["a", "b", "host"] {
        let id = w.resolve_ns(ns).expect("ns");
        let text = hopsim_core::render::ip::ip_link(&w, id, Some("tunl0")).expect("tunl0");
        assert!(text.contains("<NOARP> mtu 1480"), "{text}");
        assert!(text.contains("link/ipip 0.0.0.0 brd 0.0.0.0"), "{text}");
    }
}

#[test]
fn forwarding_into_a_smaller_tunnel_mtu_sends_frag_needed() {
    let w = world(IPIP);
    let o = PingOptions {
        size: 1472,
        pmtudisc: PmtuDisc::Do,
        ..PingOptions::default()
    };
    let r = ping_opts(&w, "pod1", "172.16.46.12", &o);
    assert_eq!(
        r.lines[1],
        "From 172.16.228.64 icmp_seq=1 Frag needed and DF set (mtu = 1480)"
    );
    assert_eq!(r.exit, 1);
    let ok = PingOptions {
        size: 1452,
        pmtudisc: PmtuDisc::Do,
        ..PingOptions::default()
    };
    assert_eq!(ping_opts(&w, "pod1", "172.16.46.12", &ok).exit, 0);
}

/// The measured run (A - R - B, R's egress MTU 1400): the first request gets "Frag
/// needed", the next ones are refused locally with the learned path MTU.
#[test]
fn ping_m_do_learns_the_path_mtu() {
    let w = world("ip netns add a\nip netns add r\nip netns add b\nip -n a link add eth0 type veth peer name ra netns r\nip -n b link add eth0 type veth peer name rb netns r\nip -n a addr add 10.0.1.2/24 dev eth0\nip -n a link set eth0 up\nip -n a route add default via 10.0.1.1\nip -n b addr add 10.0.2.2/24 dev eth0\nip -n b link set eth0 up\nip -n b route add default via 10.0.2.1\nip -n r addr add 10.0.1.1/24 dev ra\nip -n r link set ra up\nip -n r addr add 10.0.2.1/24 dev rb\nip -n r link set rb up\nip -n r link set rb mtu 1400\nip -n b link set eth0 mtu 1400\nip netns exec r sysctl -w net.ipv4.ip_forward=1\n");
    let o = PingOptions {
        count: 3,
        interval_ms: 200,
        wait_s: 1,
        size: 1400,
        pmtudisc: PmtuDisc::Do,
        ..PingOptions::default()
    };
    let r = ping_opts(&w, "a", "10.0.2.2", &o);
    assert_eq!(
        r.lines,
        [
            "PING 10.0.2.2 (10.0.2.2) 1400(1428) bytes of data.",
            "From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)",
            "ping: local error: message too long, mtu=1400",
            "ping: local error: message too long, mtu=1400",
            "",
            "--- 10.0.2.2 ping statistics ---",
            "3 packets transmitted, 0 received, +3 errors, 100% packet loss",
            "",
        ]
    );
    assert_eq!(r.exit, 1);
    // Too big for the first hop: refused before anything is sent (`mtu=1500`).
    let o = PingOptions {
        size: 1473,
        pmtudisc: PmtuDisc::Do,
        ..PingOptions::default()
    };
    let r = ping_opts(&w, "a", "10.0.1.1", &o);
    assert_eq!(r.lines[1], "ping: local error: message too long, mtu=1500");
}

#[test]
fn vxlan_reproduces_the_measured_capture() {
    let w = world(VXLAN);
    let r = ping_opts(&w, "node1", "10.244.0.2", &PingOptions::default());
    assert_eq!(r.exit, 0);
    assert!(r.lines[1].ends_with("ttl=64"));
    let udp: Vec<(usize, Ipv4Packet)> = r
        .trace
        .transmitted()
        .filter(|(_, dev, _)| *dev == "eth0")
        .filter_map(|(_, _, f)| {
            f.decoded()
                .expect("the frame decodes")
                .ipv4()
                .map(|p| (f.len(), p.clone()))
        })
        .collect();
    // ARP request and reply 42 -> 92, echo request and reply 98 -> 148.
    let lens: Vec<usize> = udp.iter().map(|(l, _)| *l).collect();
    assert_eq!(lens, [92, 92, 148, 148]);
    for (_, p) in &udp {
        assert_eq!((p.header.ttl, p.header.df), (64, false));
        let IpPayload::Udp(u) = &p.payload else {
            panic!("UDP")
        };
        assert_eq!(u.dport, 8472);
        assert!((32768..=60999).contains(&u.sport));
        assert_eq!(VxlanPacket::parse(&u.data).map(|v| v.vni), Ok(1));
    }
    // The hash is symmetric: request and reply share the source port.
    let port = |i: usize| match &udp[i].1.payload {
        IpPayload::Udp(u) => u.sport,
        _ => 0,
    };
    assert_eq!(port(0), port(1));
    assert_eq!(port(2), port(3));
    // Learning: node2 knows node1's vxlan1 MAC behind 172.16.0.1.
    let n2 = r.world.resolve_ns("node2").expect("node2");
    let fdb = hopsim_core::render::ip::bridge_fdb(&r.world, n2);
    assert!(fdb.contains("dst 172.16.0.1 self \n"), "{fdb}");
    assert!(
        fdb.contains("00:00:00:00:00:00 dev vxlan1 dst 172.16.0.1 via eth0 self permanent"),
        "{fdb}"
    );
}

#[test]
fn vxlan_without_a_remote_drops_and_wrong_vni_is_not_found() {
    let no_remote = VXLAN.replace(" remote 172.16.0.2", "");
    let r = ping_opts(
        &world(&no_remote),
        "node1",
        "10.244.0.2",
        &PingOptions {
            wait_s: 1,
            ..PingOptions::default()
        },
    );
    assert!(drops(&r.trace).contains(&DropReason::VxlanNoRemote));
    let wrong = VXLAN.replace(
        "vxlan1 type vxlan id 1 dstport 8472 local 172.16.0.2",
        "vxlan1 type vxlan id 2 dstport 8472 local 172.16.0.2",
    );
    let r = ping_opts(
        &world(&wrong),
        "node1",
        "10.244.0.2",
        &PingOptions {
            wait_s: 1,
            ..PingOptions::default()
        },
    );
    assert!(drops(&r.trace).contains(&DropReason::VxlanVniNotFound));
}

#[test]
fn vxlan_commands_say_what_iproute2_says() {
    let run = run_script(
        "t.sh",
        "ip netns add n\nip -n n link add eth0 type veth peer name eth1\nip -n n link add vx0 type vxlan id 7\nip -n n link add vx1 type vxlan id 7\nip -n n link add vx2 type vxlan dstport 4789\nip -n n link add vx3 type vxlan id 16777216\nip -n n link add vx4 type vxlan id 4 dstport 4789 remote 239.1.1.1\nip -n n link add f1 type vxlan id 1 dev eth0 dstport 8472\nip -n n link set f1 mtu 1460\nbridge -n n fdb add 02:00:00:00:00:01 dev f1\nbridge -n n fdb add 02:00:00:00:00:01 dev f1 dst 10.0.0.9\nbridge -n n fdb add 02:00:00:00:00:01 dev f1 dst 10.0.0.9\nbridge -n n fdb del 02:00:00:00:00:05 dev f1\n",
        LoadOptions::default(),
    )
    .expect("loads");
    let text: String = run.steps.iter().map(|s| s.result.stderr.clone()).collect();
    for want in [
        "vxlan: destination port not specified",
        "Error: A VXLAN device with the specified VNI already exists.",
        "vxlan: missing virtual network identifier",
        "Error: argument \"16777216\" is wrong: invalid id",
        "Error: argument \"239.1.1.1\" is wrong: invalid remote address",
        "RTNETLINK answers: Invalid argument",
        "RTNETLINK answers: File exists",
        "RTNETLINK answers: No such file or directory",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let n = run.world.resolve_ns("n").expect("n");
    let link = hopsim_core::render::ip::ip_link(&run.world, n, Some("f1")).expect("f1");
    assert!(link.contains("mtu 1450"), "{link}");
}

#[test]
fn pcap_and_pcapng_carry_every_frame() {
    let w = world(IPIP);
    let r = ping_opts(&w, "pod1", "172.16.46.12", &PingOptions::default());
    let tx = r.trace.transmitted().count();
    let records = read_pcap(&pcap::pcap(&r.trace));
    assert_eq!(records.len(), tx);
    assert!(records.iter().any(|b| b.len() == 118));
    let ng = pcap::pcapng(&r.trace);
    let (ifaces, packets) = read_pcapng(&ng);
    assert!(ifaces.iter().any(|(n, lt)| n == "w1/tunl0" && *lt == 101));
    assert!(ifaces.iter().any(|(n, lt)| n == "pod1/eth0" && *lt == 1));
    // Transmit and receive of every Ethernet frame, plus the inner packets on tunl0.
    assert!(packets.len() > 2 * tx);
}

/// Records of a classic pcap file, checking the header as it goes.
fn read_pcap(b: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&b[0..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(u32::from_le_bytes([b[20], b[21], b[22], b[23]]), 1);
    let mut out = Vec::new();
    let mut at = 24;
    while at < b.len() {
        let incl = u32::from_le_bytes([b[at + 8], b[at + 9], b[at + 10], b[at + 11]]) as usize;
        let orig = u32::from_le_bytes([b[at + 12], b[at + 13], b[at + 14], b[at + 15]]) as usize;
        assert_eq!(incl, orig);
        out.push(b[at + 16..at + 16 + incl].to_vec());
        at += 16 + incl;
    }
    assert_eq!(at, b.len());
    out
}

/// Interfaces (name, link type) and packets (interface, bytes) of a pcapng file.
#[allow(clippy::type_complexity)]
fn read_pcapng(b: &[u8]) -> (Vec<(String, u16)>, Vec<(u32, Vec<u8>)>) {
    let u32at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut ifaces = Vec::new();
    let mut packets = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let (kind, len) = (u32at(at), u32at(at + 4) as usize);
        assert_eq!(len % 4, 0);
        assert_eq!(u32at(at + len - 4) as usize, len, "trailing block length");
        match kind {
            0x0a0d_0d0a => assert_eq!(u32at(at + 8), 0x1a2b_3c4d),
            1 => {
                let lt = u16::from_le_bytes([b[at + 8], b[at + 9]]);
                // First option: if_name.
                let olen = u16::from_le_bytes([b[at + 18], b[at + 19]]) as usize;
                assert_eq!(u16::from_le_bytes([b[at + 16], b[at + 17]]), 2);
                let name = String::from_utf8(b[at + 20..at + 20 + olen].to_vec()).expect("utf8");
                ifaces.push((name, lt));
            }
            6 => {
                let id = u32at(at + 8);
                let cap = u32at(at + 20) as usize;
                packets.push((id, b[at + 28..at + 28 + cap].to_vec()));
            }
            other => panic!("unexpected block {other:#x}"),
        }
        at += len;
    }
    (ifaces, packets)
}

fn arb_inner() -> impl Strategy<Value = Ipv4Packet> {
    (
        any::<u32>(),
        any::<u32>(),
        1u8..,
        any::<u16>(),
        any::<bool>(),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(|(s, d, ttl, id, df, seq, data)| Ipv4Packet {
            header: Ipv4Repr {
                src: s.into(),
                dst: d.into(),
                ttl,
                id,
                df,
                tos: 0,
            },
            payload: IpPayload::Icmp(IcmpRepr::EchoRequest {
                ident: 7,
                seq,
                data,
            }),
        })
}

proptest! {
    /// decapsulate(encapsulate(p)) == p for ipip; the outer header's length and checksum
    /// are valid (etherparse as the oracle).
    #[test]
    fn ipip_round_trips(inner in arb_inner(), ttl in 1u8.., df in any::<bool>()) {
        let outer = Ipv4Packet {
            header: Ipv4Repr { src: Ipv4Addr::new(192, 168, 100, 101), dst: Ipv4Addr::new(192, 168, 100, 102), ttl, id: 1, df, tos: 0 },
            payload: IpPayload::Ipip(Box::new(inner.clone())),
        };
        let bytes = outer.emit();
        prop_assert_eq!(bytes.len(), inner.total_len() + 20);
        let h = etherparse::Ipv4HeaderSlice::from_slice(&bytes).expect("outer header");
        prop_assert_eq!(usize::from(h.total_len()), bytes.len());
        prop_assert_eq!(h.protocol(), etherparse::IpNumber::IPV4);
        prop_assert_eq!(h.header_checksum(), h.to_header().calc_header_checksum());
        let back = Ipv4Packet::parse(&bytes).expect("parses");
        let IpPayload::Ipip(got) = back.payload else { panic!("ipip") };
        prop_assert_eq!(*got, inner);
    }

    /// decapsulate(encapsulate(f)) == f for VXLAN, in a UDP datagram whose length and
    /// checksum etherparse accepts.
    #[test]
    fn vxlan_round_trips(inner in arb_inner(), vni in 0u32..(1 << 24), sport in any::<u16>(), m1 in any::<[u8; 6]>(), m2 in any::<[u8; 6]>()) {
        let frame = Frame { dst: Mac(m1), src: Mac(m2), payload: L3::Ipv4(inner) };
        let data = VxlanPacket { vni, inner: frame.clone() }.emit();
        prop_assert_eq!(data.len(), frame.len() + 8);
        let outer = Frame {
            dst: Mac([2, 0, 0, 0, 0, 2]),
            src: Mac([2, 0, 0, 0, 0, 1]),
            payload: L3::Ipv4(Ipv4Packet {
                header: Ipv4Repr { src: Ipv4Addr::new(172, 16, 0, 1), dst: Ipv4Addr::new(172, 16, 0, 2), ttl: 64, id: 9, df: false, tos: 0 },
                payload: IpPayload::Udp(UdpRepr { sport, dport: 8472, data }),
            }),
        };
        let bytes = outer.emit();
        // +50 bytes: outer Ethernet, IPv4, UDP, VXLAN.
        prop_assert_eq!(bytes.len(), frame.len() + 50);
        let sliced = etherparse::SlicedPacket::from_ethernet(&bytes).expect("etherparse");
        let Some(etherparse::TransportSlice::Udp(udp)) = sliced.transport else { panic!("udp") };
        prop_assert_eq!(usize::from(udp.length()), bytes.len() - 34);
        let ip = etherparse::Ipv4HeaderSlice::from_slice(&bytes[14..]).expect("ip");
        let sum = udp.to_header().calc_checksum_ipv4_raw(ip.source(), ip.destination(), udp.payload()).expect("sum");
        prop_assert_eq!(udp.checksum(), sum);
        let back = Frame::parse(&bytes).expect("parses");
        let L3::Ipv4(p) = back.payload else { panic!("ipv4") };
        let IpPayload::Udp(u) = p.payload else { panic!("udp") };
        prop_assert_eq!(VxlanPacket::parse(&u.data), Ok(VxlanPacket { vni, inner: frame }));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Capture files of tunnel traces always parse: every pcap record and every pcapng
    /// packet is a frame (or, on tunl0, a packet) etherparse reads.
    #[test]
    fn captures_always_parse(vxlan in any::<bool>(), size in 0u16..1600, drop_route in any::<bool>()) {
        let mut script = if vxlan { VXLAN.to_string() } else { IPIP.to_string() };
        if drop_route {
            script = script.replace("ip -n w2 route add 172.16.228.64/26 via 192.168.100.101 dev tunl0 onlink", "");
        }
        let w = world(&script);
        let (from, to) = if vxlan { ("node1", "10.244.0.2") } else { ("pod1", "172.16.46.12") };
        let o = PingOptions { size, wait_s: 1, pmtudisc: PmtuDisc::Do, ..PingOptions::default() };
        let r = ping_opts(&w, from, to, &o);
        for rec in read_pcap(&pcap::pcap(&r.trace)) {
            prop_assert!(etherparse::SlicedPacket::from_ethernet(&rec).is_ok());
        }
        let (ifaces, packets) = read_pcapng(&pcap::pcapng(&r.trace));
        for (id, bytes) in packets {
            let lt = ifaces[id as usize].1;
            if lt == 1 {
                prop_assert!(etherparse::SlicedPacket::from_ethernet(&bytes).is_ok());
            } else {
                prop_assert!(etherparse::SlicedPacket::from_ip(&bytes).is_ok());
            }
        }
    }
}
