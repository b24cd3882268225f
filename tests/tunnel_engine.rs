//! Tunnel devices in the packet path (engine fixes found while writing the CNI scenarios): what the outer packet inherits from the inner one
//! (the skb mark), how conntrack sees an IPIP packet, and ping's `-s`/`-M` in scripts.
//! The VXLAN cases use kernel-check/cases/vxlan.sh, whose probes were compared with the
//! real kernel (Linux 6.18); this kernel has no ipip module, so the IPIP cases rest on
//! the kernel source (`iptunnel_xmit`, `nf_conntrack_generic`).

use hopsim_core::check::apply_with;
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::engine::PingRun;
use hopsim_core::format::script::run_script;
use hopsim_core::format::LoadOptions;
use hopsim_core::model::World;
use hopsim_core::trace::{DropReason, Step};

const FLANNEL: &str = include_str!("../kernel-check/cases/vxlan.sh");

/// Two hosts on a veth, each with the ipip fallback device tunl0 and an onlink route to the
/// other's tunnel address through it (Calico's layout without the pods).
const IPIP: &str = "modprobe ipip
ip netns add a
ip netns add b
ip -n a link add eth0 type veth peer name eth0 netns b
ip -n a addr add 10.0.0.1/24 dev eth0
ip -n b addr add 10.0.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n b link set eth0 up
ip -n a link set lo up
ip -n b link set lo up
ip -n a addr add 172.16.1.0/32 dev tunl0
ip -n b addr add 172.16.2.0/32 dev tunl0
ip -n a link set tunl0 up
ip -n b link set tunl0 up
ip -n a route add 172.16.2.0/24 via 10.0.0.2 dev tunl0 onlink
ip -n b route add 172.16.1.0/24 via 10.0.0.1 dev tunl0 onlink
";

fn world(script: &str, with: &[&str]) -> World {
    // Not strict: vxlan.sh has a line that fails on purpose (flannel.1 mtu 1500).
    let run = run_script("t.sh", script, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut w = run.world;
    let with: Vec<String> = with.iter().map(|s| s.to_string()).collect();
    apply_with(&mut w, &with).unwrap_or_else(|e| panic!("{e}"));
    w
}

fn ping1(w: &World, from: &str, dst: &str) -> PingRun {
    let ns = w.resolve_ns(from).expect("namespace");
    let opts = PingOptions {
        wait_s: 1,
        ..PingOptions::default()
    };
    ping(w.clone(), ns, dst.parse().expect("address"), &opts)
}

fn drops(r: &PingRun) -> Vec<DropReason> {
    r.trace.drops().map(|(_, d, _)| d).collect()
}

/// A mark set in FORWARD on a packet routed to a VXLAN device is still on the UDP packet
/// around it in OUTPUT (measured: `-A OUTPUT -p udp --dport 8472 -m mark --mark
/// 0x10000/0x10000` counted the encapsulated echo request, 1 packet, 134 bytes; and the
/// kernel-check probes vxlan.sh:77/78 agree).
#[test]
fn vxlan_outer_packet_keeps_the_skb_mark() {
    let drop_unmarked =
        "node1: iptables -A OUTPUT -p udp --dport 8472 -m mark ! --mark 0x10000/0x10000 -j DROP";
    let marked = world(
        FLANNEL,
        &[
            "node1: iptables -A FORWARD -j MARK --set-mark 0x10000",
            drop_unmarked,
        ],
    );
    let r = ping1(&marked, "pod1", "10.244.1.2");
    assert_eq!(r.exit, 0, "{:?}", r.lines);
    let unmarked = world(FLANNEL, &[drop_unmarked]);
    let r = ping1(&unmarked, "pod1", "10.244.1.2");
    assert_eq!(r.exit, 1, "{:?}", r.lines);
    assert!(drops(&r).contains(&DropReason::NetfilterDrop));
}

/// The same for ipip (`ip_tunnel_xmit` -> `iptunnel_xmit`, the code VXLAN uses): a mark
/// set in OUTPUT on the inner packet matches on the outer one.
#[test]
fn ipip_outer_packet_keeps_the_skb_mark() {
    let drop_unmarked = "a: iptables -A OUTPUT -p 4 -m mark ! --mark 0x10000/0x10000 -j DROP";
    let marked = world(
        IPIP,
        &[
            "a: iptables -A OUTPUT -p icmp -j MARK --set-mark 0x10000",
            drop_unmarked,
        ],
    );
    let r = ping1(&marked, "a", "172.16.2.0");
    assert_eq!(r.exit, 0, "{:?}", r.lines);
    let unmarked = world(IPIP, &[drop_unmarked]);
    assert_eq!(ping1(&unmarked, "a", "172.16.2.0").exit, 1);
}

/// conntrack tracks an IPIP packet with the generic tracker, by its addresses: the nat
/// table sees its first packet, and `conntrack -L` lists it as `unknown  4` with the
/// generic timeout (600 s).
#[test]
fn ipip_packets_are_tracked_by_the_generic_tracker() {
    let w = world(
        IPIP,
        &["b: iptables -A INPUT -m conntrack --ctstate INVALID -j DROP"],
    );
    let r = ping1(&w, "a", "172.16.2.0");
    assert_eq!(r.exit, 0, "the outer packet is not INVALID: {:?}", r.lines);
    let b = r.world.resolve_ns("b").expect("b");
    let ct = r.world.netns[b].conntrack.render(0);
    assert!(
        ct.contains("unknown  4 600 src=10.0.0.1 dst=10.0.0.2 src=10.0.0.2 dst=10.0.0.1 "),
        "{ct}"
    );
    assert!(
        r.trace.hops.iter().flat_map(|h| &h.steps).any(|s| matches!(
            s,
            Step::Conntrack { detail } if detail == "new connection protocol 4 10.0.0.1 -> 10.0.0.2"
        )),
        "the outer packet starts a connection"
    );
}

/// `ping -s SIZE -M do` in a script, as on the real kernel (vxlan.sh:70): over the
/// 1450-byte overlay, 1423 data bytes make a 1451-byte packet that the pod's own kernel
/// refuses.
#[test]
fn script_ping_takes_size_and_pmtu_discovery() {
    let script = format!("{FLANNEL}ip netns exec pod1 ping -c 1 -W 1 -M do -s 1423 10.244.1.2\n");
    let run = run_script("t.sh", &script, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let last = run.steps.last().expect("the ping ran");
    assert_eq!(last.result.status, 1);
    assert!(
        last.result
            .stdout
            .starts_with("PING 10.244.1.2 (10.244.1.2) 1423(1451) bytes of data.\nping: local error: message too long, mtu=1450\n"),
        "{}",
        last.result.stdout
    );
    let bad = format!("{FLANNEL}ip netns exec pod1 ping -c 1 -M maybe 10.244.1.2\n");
    let run = run_script("t.sh", &bad, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let last = run.steps.last().expect("the ping ran");
    assert_eq!(
        (last.result.status, last.result.stderr.trim_end()),
        (2, "ping: invalid -M argument: maybe")
    );
}

/// `ip link` names an ipip device with its underlay, `@NONE` without one: real Calico
/// nodes show `tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 ... link/ipip 0.0.0.0 brd 0.0.0.0`.
#[test]
fn ip_link_shows_tunl0_at_none() {
    let script = format!("{IPIP}ip -n a link add tun1 type ipip remote 10.0.0.2 local 10.0.0.1 dev eth0\nip -n a link show\n");
    let run = run_script("t.sh", &script, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let out = &run.steps.last().expect("ip link ran").result.stdout;
    assert!(
        out.contains(": tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link/ipip 0.0.0.0 brd 0.0.0.0\n"),
        "{out}"
    );
    assert!(out.contains(": tun1@eth0: "), "with `dev eth0`: {out}");
}

/// The forwarding path checks a DF packet against the output device's MTU before the
/// TTL is decreased and before the FORWARD hook (`ip_forward`: `ip_exceeds_mtu`), so even
/// with FORWARD dropping everything the sender learns the MTU (measured, vxlan.sh:73).
#[test]
fn forwarding_checks_the_mtu_before_the_forward_hook() {
    let w = world(
        FLANNEL,
        &[
            "pod1: ip link set eth0 mtu 1500",
            "node1: ip link set veth1 mtu 1500",
            "node1: ip link set cni0 mtu 1500",
            "node1: iptables -A FORWARD -j DROP",
        ],
    );
    let ns = w.resolve_ns("pod1").expect("pod1");
    let opts = PingOptions {
        wait_s: 1,
        size: 1472,
        pmtudisc: hopsim_core::engine::ping::PmtuDisc::Do,
        ..PingOptions::default()
    };
    let r = ping(w.clone(), ns, "10.244.1.2".parse().expect("address"), &opts);
    assert!(
        r.lines
            .iter()
            .any(|l| l == "From 10.244.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)"),
        "{:?}",
        r.lines
    );
    let d = drops(&r);
    assert!(d.contains(&DropReason::PktTooBig), "{d:?}");
    assert!(
        !d.contains(&DropReason::NetfilterDrop),
        "FORWARD never saw it: {d:?}"
    );
    let forwarded = r
        .trace
        .hops
        .iter()
        .flat_map(|h| &h.steps)
        .any(|s| matches!(s, Step::Forward { .. }));
    assert!(!forwarded, "refused before the TTL decrement");
}

/// `bridge fdb show` ends a learned entry with a space (its state is empty) and a
/// permanent one with `permanent`, as iproute2 6.1 prints them (measured on a VXLAN port
/// of a bridge: `9a:97:f7:13:c3:db master weave `, `9a:97:f7:13:c3:db dst 192.33.199.9
/// self `, `00:00:00:00:00:00 dst 192.33.199.9 self permanent`).
#[test]
fn bridge_fdb_show_keeps_the_empty_state_of_learned_entries() {
    let script = include_str!("../kernel-check/cases/vxlan-bridge.sh");
    let w = world(script, &[]);
    let r = ping1(&w, "p1", "10.244.192.1");
    assert_eq!(r.exit, 0);
    let p2 = r.world.resolve_ns("p2").expect("p2");
    let mac = r
        .world
        .mac_of(r.world.find_iface(p2, "eth0").expect("eth0"));
    let n1 = r.world.resolve_ns("n1").expect("n1");
    let host = r.world.netns[n1].host;
    let out = hopsim_core::format::shell::Shell {
        world: &mut r.world.clone(),
        host,
    }
    .run_line(n1, "bridge fdb show dev vxlan-6784")
    .stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.contains(&format!("{mac} master weave ").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("{mac} dst 192.33.199.9 self ").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&"00:00:00:00:00:00 dst 192.33.199.9 self permanent"),
        "{out}"
    );
}
