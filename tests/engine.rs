//! One test per decision point of the packet path, each built from the commands the
//! kernel facts were measured with (shared/reference/KERNEL_FACTS.md, cited by section).

use hopsim_core::engine::ping::{ping, PingEvent, PingOptions};
use hopsim_core::engine::PingRun;
use hopsim_core::format::script::run_script;
use hopsim_core::format::LoadOptions;
use hopsim_core::model::{NudState, World};
use hopsim_core::render::ip as show;
use hopsim_core::trace::{DropReason, Step};
use hopsim_core::wire::{IcmpRepr, IpPayload, Ipv4Packet, QuotedDatagram, L3};

fn world(script: &str) -> World {
    let run =
        run_script("t.sh", script, LoadOptions { strict: true }).unwrap_or_else(|e| panic!("{e}"));
    run.world
}

fn ping_opts(w: &World, from: &str, dst: &str, opts: PingOptions) -> PingRun {
    let ns = w.resolve_ns(from).expect("namespace");
    ping(w.clone(), ns, dst.parse().expect("addr"), &opts)
}

fn ping1(w: &World, from: &str, dst: &str) -> PingRun {
    ping_opts(w, from, dst, PingOptions::default())
}

const VETH: &str = "ip netns add red\nip netns add blue\nip link add veth-red type veth peer name veth-blue\nip link set veth-red netns red\nip link set veth-blue netns blue\nip -n red addr add 192.168.15.1/24 dev veth-red\nip -n blue addr add 192.168.15.2/24 dev veth-blue\nip -n red link set veth-red up\nip -n blue link set veth-blue up\n";

const CHAIN: &str = "ip netns add A\nip netns add R\nip netns add C\nip -n A link add a-r type veth peer name r-a netns R\nip -n C link add c-r type veth peer name r-c netns R\nip -n A addr add 10.1.0.2/24 dev a-r\nip -n R addr add 10.1.0.1/24 dev r-a\nip -n R addr add 10.2.0.1/24 dev r-c\nip -n C addr add 10.2.0.2/24 dev c-r\nip -n A link set a-r up\nip -n R link set r-a up\nip -n R link set r-c up\nip -n C link set c-r up\nip -n A route add 10.2.0.0/24 via 10.1.0.1\nip -n C route add 10.1.0.0/24 via 10.2.0.1\n";

fn drops(r: &PingRun) -> Vec<DropReason> {
    r.trace.drops().map(|(_, d, _)| d).collect()
}

/// KERNEL_FACTS 1: direct veth, reply ttl=64; requester REACHABLE, responder DELAY.
#[test]
fn veth_pair_reply_and_neighbour_states() {
    let w = world(VETH);
    let r = ping1(&w, "red", "192.168.15.2");
    assert_eq!(r.exit, 0);
    assert_eq!(r.lines[1], "64 bytes from 192.168.15.2: icmp_seq=1 ttl=64");
    let red = w.resolve_ns("red").expect("red");
    let blue = w.resolve_ns("blue").expect("blue");
    assert_eq!(r.world.netns[red].neigh[0].state, NudState::Reachable);
    assert_eq!(r.world.netns[blue].neigh[0].state, NudState::Delay);
    assert!(show::ip_neigh(&r.world, red).ends_with("REACHABLE \n"));
}

/// KERNEL_FACTS 2: a /32 has no connected route: connect fails, nothing is sent.
#[test]
fn address_without_netmask_is_a_host_address() {
    let w = world(&VETH.replace("192.168.15.1/24", "192.168.15.1"));
    let r = ping1(&w, "red", "192.168.15.2");
    assert_eq!(r.lines, vec!["ping: connect: Network is unreachable"]);
    assert_eq!(r.exit, 2);
    assert_eq!(r.trace.transmitted().count(), 0);
    let red = w.resolve_ns("red").expect("red");
    assert_eq!(show::ip_route(&w, red, show::TableSel::Main), "");
}

/// KERNEL_FACTS 2: a one-way host route: ARP works, the reply has no route back.
#[test]
fn one_way_route_is_silent_loss() {
    let w = world(&format!(
        "{}ip -n red route add 192.168.15.2 dev veth-red\n",
        VETH.replace("192.168.15.1/24", "192.168.15.1")
            .replace("192.168.15.2/24", "192.168.15.2")
    ));
    let r = ping_opts(
        &w,
        "red",
        "192.168.15.2",
        PingOptions {
            wait_s: 1,
            ..Default::default()
        },
    );
    assert_eq!(r.exit, 1);
    assert!(drops(&r).contains(&DropReason::IpOutnoroutes));
    assert_eq!(
        r.lines[r.lines.len() - 2..],
        ["1 packets transmitted, 0 received, 100% packet loss", ""],
        "iputils ends a failed ping with a blank line"
    );
}

/// KERNEL_FACTS 3b: forwarding off on the router: silent drop, no ICMP.
#[test]
fn router_with_forwarding_off_drops_silently() {
    let w = world(CHAIN);
    let r = ping1(&w, "A", "10.2.0.2");
    assert_eq!(r.exit, 1);
    assert_eq!(drops(&r), vec![DropReason::IpInaddrerrors]);
    assert!(!r.lines.iter().any(|l| l.starts_with("From")));
    // Weak host model: the router's far address answers anyway.
    assert_eq!(
        ping1(&w, "A", "10.2.0.1").lines[1],
        "64 bytes from 10.2.0.1: icmp_seq=1 ttl=64"
    );
}

/// KERNEL_FACTS 3c: forwarding on: ttl=63 both ways.
#[test]
fn router_forwards_with_ttl_minus_one() {
    let w = world(&format!(
        "{CHAIN}ip netns exec R sysctl -w net.ipv4.ip_forward=1\n"
    ));
    let r = ping1(&w, "A", "10.2.0.2");
    assert_eq!(r.lines[1], "64 bytes from 10.2.0.2: icmp_seq=1 ttl=63");
    assert_eq!(
        ping1(&w, "C", "10.1.0.2").lines[1],
        "64 bytes from 10.1.0.2: icmp_seq=1 ttl=63"
    );
    // The Ethernet header is rewritten at the router, the IP addresses are not.
    let frames: Vec<_> = r
        .trace
        .transmitted()
        .filter_map(|(_, dev, f)| {
            f.decoded().expect("the frame decodes").ipv4().map(|p| {
                (
                    dev.to_string(),
                    f.decoded().expect("the frame decodes").src,
                    p.header.src,
                    p.header.ttl,
                )
            })
        })
        .collect();
    let a = frames.iter().find(|f| f.0 == "a-r").expect("sent on a-r");
    let c = frames
        .iter()
        .find(|f| f.0 == "r-c")
        .expect("forwarded on r-c");
    assert_eq!(a.2, c.2);
    assert_ne!(a.1, c.1);
    assert_eq!(a.3 - 1, c.3);
}

/// KERNEL_FACTS 3d: return route missing: silent loss at C.
#[test]
fn missing_return_route_is_silent() {
    let w = world(&format!("{CHAIN}ip netns exec R sysctl -w net.ipv4.ip_forward=1\nip -n C route del 10.1.0.0/24 via 10.2.0.1\n"));
    let r = ping1(&w, "A", "10.2.0.2");
    assert_eq!(r.exit, 1);
    assert_eq!(drops(&r), vec![DropReason::IpOutnoroutes]);
    assert_eq!(
        ping1(&w, "C", "10.1.0.2").lines,
        vec!["ping: connect: Network is unreachable"]
    );
}

/// KERNEL_FACTS 8: routing loop; TTL exceeded from the router that gets TTL 1, with the
/// source address of its route back, TOS 0xc0, TTL 64, no DF, the datagram quoted whole.
#[test]
fn routing_loop_time_exceeded() {
    let s = "ip netns add A\nip netns add R1\nip netns add R2\nip -n A link add a-r1 type veth peer name r1-a netns R1\nip -n R1 link add r1-r2 type veth peer name r2-r1 netns R2\nip -n A addr add 10.1.0.2/24 dev a-r1\nip -n R1 addr add 10.1.0.1/24 dev r1-a\nip -n R1 addr add 10.12.0.1/24 dev r1-r2\nip -n R2 addr add 10.12.0.2/24 dev r2-r1\nip -n A link set a-r1 up\nip -n R1 link set r1-a up\nip -n R1 link set r1-r2 up\nip -n R2 link set r2-r1 up\nip -n A route add default via 10.1.0.1\nip -n R1 route add 10.99.0.0/24 via 10.12.0.2\nip -n R2 route add 10.99.0.0/24 via 10.12.0.1\nip -n R2 route add 10.1.0.0/24 via 10.12.0.1\nip netns exec R1 sysctl -w net.ipv4.ip_forward=1\nip netns exec R2 sysctl -w net.ipv4.ip_forward=1\n";
    let w = world(s);
    for (ttl, from) in [
        (5, "10.1.0.1"),
        (4, "10.12.0.2"),
        (1, "10.1.0.1"),
        (64, "10.12.0.2"),
    ] {
        let r = ping_opts(
            &w,
            "A",
            "10.99.0.1",
            PingOptions {
                ttl: Some(ttl),
                ..Default::default()
            },
        );
        assert_eq!(
            r.lines[1],
            format!("From {from} icmp_seq=1 Time to live exceeded"),
            "-t {ttl}"
        );
        assert_eq!(
            r.lines[4],
            "1 packets transmitted, 0 received, +1 errors, 100% packet loss"
        );
        assert_eq!(r.exit, 1);
    }
    let r = ping_opts(
        &w,
        "A",
        "10.99.0.1",
        PingOptions {
            ttl: Some(4),
            ..Default::default()
        },
    );
    let err: Ipv4Packet = r
        .trace
        .hops
        .iter()
        .filter(|h| h.node == "A")
        .flat_map(|h| h.steps.iter())
        .find_map(|s| match s {
            Step::Receive { frame, .. } => {
                match &frame.decoded().expect("the frame decodes").payload {
                    L3::Ipv4(p)
                        if matches!(p.payload, IpPayload::Icmp(IcmpRepr::TimeExceeded { .. })) =>
                    {
                        Some(p.clone())
                    }
                    _ => None,
                }
            }
            _ => None,
        })
        .expect("A receives the error");
    assert_eq!(
        (err.header.tos, err.header.ttl, err.header.df),
        (0xc0, 63, false)
    );
    assert_eq!(err.total_len(), 112);
    let IpPayload::Icmp(icmp) = &err.payload else {
        unreachable!()
    };
    let q = QuotedDatagram::parse(icmp.quoted().expect("quote")).expect("parses");
    assert_eq!(q.header.ttl, 1);
    assert!(q.header.df);
}

/// KERNEL_FACTS 9: ARP failure on a connected subnet: 3 probes a second apart, then
/// Destination Host Unreachable from our own address; nothing within -W 1.
#[test]
fn neighbour_failure() {
    let w = world(&format!("{VETH}ip -n red link set lo up\n"));
    let r = ping1(&w, "red", "192.168.15.99");
    assert_eq!(
        r.lines[1],
        "From 192.168.15.1 icmp_seq=1 Destination Host Unreachable"
    );
    let arps = r
        .trace
        .transmitted()
        .filter(|(_, _, f)| f.summary().contains("who-has 192.168.15.99"))
        .count();
    assert_eq!(arps, 3);
    assert!(drops(&r).contains(&DropReason::NeighFailed));
    let quick = ping_opts(
        &w,
        "red",
        "192.168.15.99",
        PingOptions {
            wait_s: 1,
            ..Default::default()
        },
    );
    assert_eq!(quick.lines.len(), 5, "{:?}", quick.lines);
    let red = w.resolve_ns("red").expect("red");
    assert_eq!(
        show::ip_neigh(&quick.world, red),
        "192.168.15.99 dev veth-red INCOMPLETE \n"
    );
    assert_eq!(
        show::ip_neigh(&r.world, red),
        "192.168.15.99 dev veth-red FAILED \n"
    );
}

/// KERNEL_FACTS 9 (special routes) at the sender and at a router.
#[test]
fn special_routes() {
    let base = format!("{CHAIN}ip netns exec R sysctl -w net.ipv4.ip_forward=1\nip -n A route add default via 10.1.0.1\n");
    for (kind, sender_line) in [
        ("unreachable", "ping: connect: No route to host"),
        (
            "prohibit",
            "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules",
        ),
        ("blackhole", "ping: connect: Invalid argument"),
    ] {
        let w = world(&format!("{base}ip -n A route add {kind} 172.31.0.0/16\n"));
        let r = ping1(&w, "A", "172.31.0.1");
        assert_eq!(r.lines, vec![sender_line]);
        assert_eq!(r.exit, 2);
    }
    for (kind, router_line) in [
        (
            "unreachable",
            Some("From 10.1.0.1 icmp_seq=1 Destination Host Unreachable"),
        ),
        ("prohibit", Some("From 10.1.0.1 icmp_seq=1 Packet filtered")),
        ("blackhole", None),
    ] {
        let w = world(&format!("{base}ip -n R route add {kind} 172.31.0.0/16\n"));
        let r = ping1(&w, "A", "172.31.0.1");
        match router_line {
            Some(l) => assert_eq!(r.lines[1], l),
            None => assert_eq!(r.lines.len(), 5),
        }
        assert_eq!(r.exit, 1);
    }
    let w = world(&base);
    assert_eq!(
        ping1(&w, "A", "172.31.0.1").lines[1],
        "From 10.1.0.1 icmp_seq=1 Destination Net Unreachable"
    );
}

/// KERNEL_FACTS 9: ICMP errors from ip_error are rate-limited: -c8 -i0.2 gets 2 errors.
#[test]
fn icmp_rate_limit() {
    let w = world(&format!("{CHAIN}ip netns exec R sysctl -w net.ipv4.ip_forward=1\nip -n A route add default via 10.1.0.1\n"));
    let r = ping_opts(
        &w,
        "A",
        "172.31.0.1",
        PingOptions {
            count: 8,
            interval_ms: 200,
            ..Default::default()
        },
    );
    let errors: Vec<u16> = r
        .events
        .iter()
        .filter_map(|e| match e {
            PingEvent::Error { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(errors, vec![1, 2]);
    assert_eq!(
        r.lines[r.lines.len() - 2],
        "8 packets transmitted, 0 received, +2 errors, 100% packet loss"
    );
}

/// KERNEL_FACTS general facts: lo down in a new namespace.
#[test]
fn loopback_down() {
    let w = world(VETH);
    let r = ping1(&w, "red", "192.168.15.1");
    assert_eq!(r.exit, 1);
    assert_eq!(drops(&r), vec![DropReason::LoopbackDown]);
    assert_eq!(
        ping1(&w, "red", "127.0.0.1").lines,
        vec!["ping: connect: Network is unreachable"]
    );
    let up = world(&format!("{VETH}ip -n red link set lo up\n"));
    assert_eq!(
        ping1(&up, "red", "127.0.0.1").lines[1],
        "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64"
    );
    assert_eq!(
        ping1(&up, "red", "192.168.15.1").lines[1],
        "64 bytes from 192.168.15.1: icmp_seq=1 ttl=64"
    );
}

/// KERNEL_FACTS 4: a bridge learns, floods the first ARP, then forwards; TTL unchanged.
#[test]
fn bridge_learns_and_forwards() {
    let s = "ip link add br0 type bridge\nip addr add 11.11.11.1/24 dev br0\nip link set br0 up\nip netns add RED\nip netns add BLUE\nip link add veth-red type veth peer name veth-red-br\nip link add veth-blue type veth peer name veth-blue-br\nip link set veth-red netns RED\nip link set veth-blue netns BLUE\nip link set veth-red-br master br0\nip link set veth-blue-br master br0\nip link set veth-red-br up\nip link set veth-blue-br up\nip -n RED addr add 11.11.11.2/24 dev veth-red\nip -n BLUE addr add 11.11.11.3/24 dev veth-blue\nip -n RED link set veth-red up\nip -n BLUE link set veth-blue up\n";
    let w = world(s);
    let r = ping1(&w, "RED", "11.11.11.3");
    assert_eq!(r.lines[1], "64 bytes from 11.11.11.3: icmp_seq=1 ttl=64");
    let host = w.resolve_ns("host").expect("host");
    let fdb = show::bridge_fdb(&r.world, host);
    assert_eq!(
        fdb.lines().filter(|l| !l.ends_with("permanent")).count(),
        2,
        "{fdb}"
    );
    assert_eq!(
        ping1(&w, "RED", "11.11.11.1").lines[1],
        "64 bytes from 11.11.11.1: icmp_seq=1 ttl=64"
    );
    // The bridge takes the lowest port MAC (no address set by hand).
    let br = w.find_iface(host, "br0").expect("br0");
    let ports = w.bridge_ports(br);
    let min = ports
        .iter()
        .map(|p| w.iface(*p).expect("port").mac)
        .min()
        .expect("ports");
    assert_eq!(w.mac_of(br), min);
}

/// Proxy ARP answers for an address routed through another device, with our own MAC.
#[test]
fn proxy_arp() {
    let s = "ip netns add pod\nip link add cali1 type veth peer name eth0 netns pod\nip link set cali1 address ee:ee:ee:ee:ee:ee\nip link set cali1 up\nip link add uplink type dummy\nip link set uplink up\nip addr add 192.168.100.101/24 dev uplink\nip route add default via 192.168.100.1\nsysctl -w net.ipv4.ip_forward=1\nsysctl -w net.ipv4.conf.cali1.proxy_arp=1\nip route add 172.16.158.15 dev cali1 scope link\nip -n pod addr add 172.16.158.15/32 dev eth0\nip -n pod link set eth0 up\nip -n pod route add 169.254.1.1 dev eth0 scope link\nip -n pod route add default via 169.254.1.1 dev eth0\n";
    let w = world(s);
    let r = ping_opts(&w, "pod", "192.168.100.101", PingOptions::default());
    let pod = w.resolve_ns("pod").expect("pod");
    let n = &r.world.netns[pod].neigh;
    assert_eq!(
        n[0].ip,
        "169.254.1.1".parse::<std::net::Ipv4Addr>().expect("ip")
    );
    assert_eq!(
        n[0].mac.map(|m| m.to_string()).as_deref(),
        Some("ee:ee:ee:ee:ee:ee")
    );
    assert!(r.trace.transmitted().any(|(_, _, f)| f
        .summary()
        .contains("who-has 169.254.1.1 tell 172.16.158.15")));
    assert_eq!(
        r.lines[1],
        "64 bytes from 192.168.100.101: icmp_seq=1 ttl=64"
    );
}

/// `ip link set down` takes every route through the device with it, static ones too,
/// and they do not come back; the local route of its address stays.
#[test]
fn link_down_flushes_routes() {
    let w = world(&format!(
        "{CHAIN}ip -n A link set a-r down\nip -n A link set a-r up\n"
    ));
    let a = w.resolve_ns("A").expect("A");
    assert_eq!(
        show::ip_route(&w, a, show::TableSel::Main),
        "10.1.0.0/24 dev a-r proto kernel scope link src 10.1.0.2 \n"
    );
    let w2 = world(&format!("{CHAIN}ip -n A link set a-r down\n"));
    assert_eq!(
        show::ip_route(&w2, a, show::TableSel::All),
        "local 10.1.0.2 dev a-r table local proto kernel scope host src 10.1.0.2 \n"
    );
}

/// The gateway checks of `ip route add` (fib_check_nh).
#[test]
fn route_add_checks() {
    let run = run_script("t.sh", &format!("{CHAIN}ip -n A route add 10.9.0.0/24 via 10.5.0.1\nip -n A route add 10.9.0.0/24 via 10.5.0.1 dev a-r onlink\nip -n A route add 10.2.0.0/24 via 10.1.0.9\nip -n A route add 10.7.0.5/24 dev a-r\n"), LoadOptions::default()).expect("runs");
    assert_eq!(
        run.failures(),
        vec![
            "t.sh:16: Error: Nexthop has invalid gateway.",
            "t.sh:18: RTNETLINK answers: File exists",
            "t.sh:19: Error: Invalid prefix for given prefix length.",
        ]
    );
}

/// Same input, byte-identical output.
#[test]
fn deterministic() {
    let w = world(&format!(
        "{CHAIN}ip netns exec R sysctl -w net.ipv4.ip_forward=1\n"
    ));
    let a = hopsim_core::render::json::trace_json(
        "A",
        "10.2.0.2".parse().expect("ip"),
        &ping1(&w, "A", "10.2.0.2"),
    );
    let b = hopsim_core::render::json::trace_json(
        "A",
        "10.2.0.2".parse().expect("ip"),
        &ping1(&w, "A", "10.2.0.2"),
    );
    assert_eq!(a, b);
}
