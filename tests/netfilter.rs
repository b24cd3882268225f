//! Netfilter in the packet path, checked against KERNEL_FACTS sections 4 to 7. Rules are
//! built as data here; the iptables command language has its own tests.

use hopsim_core::engine::connect::{connect, ConnectOptions, Outcome};
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::format::script::run_script;
use hopsim_core::format::LoadOptions;
use hopsim_core::model::{L4Proto, Listener, World};
use hopsim_core::netfilter::{Match, NatRange, Policy, PortRange, Rule, TableName, Target};
use hopsim_core::trace::DropReason;

fn world(script: &str) -> World {
    run_script("t.sh", script, LoadOptions { strict: true })
        .unwrap_or_else(|e| panic!("{e}"))
        .world
}

fn rule(matches: Vec<Match>, target: Target) -> Rule {
    Rule {
        matches,
        target,
        packets: 0,
        bytes: 0,
    }
}

fn add(w: &mut World, ns: &str, t: TableName, chain: &str, r: Rule) {
    let ns = w.resolve_ns(ns).expect("ns");
    w.netns[ns]
        .netfilter
        .table_mut(t)
        .chains
        .get_mut(chain)
        .expect("chain")
        .rules
        .push(r);
}

/// KERNEL_FACTS 5: br0 11.11.11.1/24 with RED; host-ext 192.168.1.1/24 <-> ext 192.168.1.2.
const MASQ: &str = "ip link add br0 type bridge\nip addr add 11.11.11.1/24 dev br0\nip link set br0 up\nip netns add RED\nip link add veth-red type veth peer name veth-red-br\nip link set veth-red netns RED\nip link set veth-red-br master br0\nip link set veth-red-br up\nip -n RED addr add 11.11.11.2/24 dev veth-red\nip -n RED link set veth-red up\nip -n RED route add default via 11.11.11.1\nip netns add ext\nip link add host-ext type veth peer name eth0 netns ext\nip addr add 192.168.1.1/24 dev host-ext\nip link set host-ext up\nip -n ext addr add 192.168.1.2/24 dev eth0\nip -n ext link set eth0 up\nsysctl -w net.ipv4.ip_forward=1\n";

#[test]
fn masquerade_rewrites_the_source_and_conntrack_un_nats_the_reply() {
    let mut w = world(MASQ);
    let r = ping(
        w.clone(),
        w.resolve_ns("RED").expect("RED"),
        "192.168.1.2".parse().expect("ip"),
        &PingOptions {
            wait_s: 1,
            ..Default::default()
        },
    );
    assert_eq!(r.exit, 1, "without NAT ext has no way back");
    let src: ipnet::Ipv4Net = "11.11.11.0/24".parse().expect("net");
    add(
        &mut w,
        "host",
        TableName::Nat,
        "POSTROUTING",
        rule(
            vec![Match::Source {
                net: src,
                neg: false,
            }],
            Target::Masquerade {
                to_ports: None,
                random_fully: false,
                random: false,
            },
        ),
    );
    let red = w.resolve_ns("RED").expect("RED");
    let r = ping(
        w.clone(),
        red,
        "192.168.1.2".parse().expect("ip"),
        &PingOptions {
            count: 3,
            ..Default::default()
        },
    );
    assert_eq!(r.lines[1], "64 bytes from 192.168.1.2: icmp_seq=1 ttl=63");
    assert_eq!(r.exit, 0);
    let host = w.resolve_ns("host").expect("host");
    let counted = r.world.netns[host].netfilter.counted(TableName::Nat);
    let nat = &counted;
    let rl = &nat.chains["POSTROUTING"].rules[0];
    assert_eq!(
        (rl.packets, rl.bytes),
        (1, 84),
        "only the first packet of the flow meets the nat table"
    );
    let ct = r.world.netns[host].conntrack.render(0);
    assert!(
        ct.contains("src=11.11.11.2 dst=192.168.1.2 type=8 code=0 id="),
        "{ct}"
    );
    assert!(
        ct.contains("src=192.168.1.2 dst=192.168.1.1 type=0 code=0"),
        "{ct}"
    );
    // What ext saw: the host's address.
    let ext = w.resolve_ns("ext").expect("ext");
    let seen: Vec<String> = r
        .trace
        .hops
        .iter()
        .filter(|h| h.node == "ext")
        .flat_map(|h| h.steps.iter())
        .filter_map(|s| match s {
            hopsim_core::trace::Step::IpRcv { detail } => Some(detail.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        seen.iter()
            .all(|d| d.starts_with("192.168.1.1 -> 192.168.1.2")),
        "{seen:?}"
    );
    let _ = ext;
}

#[test]
fn forward_policy_drop() {
    let mut w = world(MASQ);
    let host = w.resolve_ns("host").expect("host");
    w.netns[host]
        .netfilter
        .table_mut(TableName::Filter)
        .chains
        .get_mut("FORWARD")
        .expect("FORWARD")
        .policy = Some(Policy::Drop);
    let r = ping(
        w.clone(),
        w.resolve_ns("RED").expect("RED"),
        "192.168.1.2".parse().expect("ip"),
        &PingOptions {
            wait_s: 1,
            ..Default::default()
        },
    );
    assert_eq!(r.exit, 1);
    assert!(r
        .trace
        .drops()
        .any(|(_, d, _)| d == DropReason::NetfilterDrop));
    let counted = r.world.netns[host].netfilter.counted(TableName::Filter);
    let f = &counted.chains["FORWARD"];
    assert_eq!((f.packets, f.bytes), (1, 84));
}

#[test]
fn dnat_port_publish_and_connect() {
    let mut w = world(MASQ);
    let red = w.resolve_ns("RED").expect("RED");
    w.listen(
        red,
        Listener {
            proto: L4Proto::Tcp,
            addr: "0.0.0.0".parse().expect("ip"),
            port: 80,
            process: Some("nc".into()),
            reuseport: true,
        },
    )
    .expect("listen");
    let ext = w.resolve_ns("ext").expect("ext");
    let opts = ConnectOptions::default();
    let r = connect(
        w.clone(),
        ext,
        "192.168.1.1".parse().expect("ip"),
        8080,
        &opts,
    );
    assert_eq!(
        r.lines,
        vec!["nc: connect to 192.168.1.1 port 8080 (tcp) failed: Connection refused"]
    );
    assert_eq!(r.exit, 1);
    add(
        &mut w,
        "host",
        TableName::Nat,
        "PREROUTING",
        rule(
            vec![
                Match::Protocol {
                    proto: 6,
                    neg: false,
                },
                Match::Ports {
                    proto: 6,
                    sport: None,
                    dport: Some((PortRange { lo: 8080, hi: 8080 }, false)),
                },
            ],
            Target::Dnat {
                to: NatRange {
                    addr_lo: "11.11.11.2".parse().expect("ip"),
                    addr_hi: "11.11.11.2".parse().expect("ip"),
                    ports: Some(PortRange { lo: 80, hi: 80 }),
                },
            },
        ),
    );
    let r = connect(
        w.clone(),
        ext,
        "192.168.1.1".parse().expect("ip"),
        8080,
        &opts,
    );
    assert_eq!(
        r.lines,
        vec!["Connection to 192.168.1.1 8080 port [tcp/http-alt] succeeded!"]
    );
    assert_eq!(r.outcome, Outcome::Connected);
    let host = w.resolve_ns("host").expect("host");
    let counted = r.world.netns[host].netfilter.counted(TableName::Nat);
    let rl = &counted.chains["PREROUTING"].rules[0];
    assert_eq!((rl.packets, rl.bytes), (1, 60), "the SYN, 60 bytes");
    let ct = r.world.netns[host].conntrack.render(0);
    assert!(
        ct.contains("TIME_WAIT src=192.168.1.2 dst=192.168.1.1 sport="),
        "{ct}"
    );
    assert!(
        ct.contains("dport=8080 src=11.11.11.2 dst=192.168.1.2 sport=80"),
        "{ct}"
    );
    assert!(ct.contains("[ASSURED]"), "{ct}");
    // From the host itself, PREROUTING is not traversed: refused (KERNEL_FACTS 6 (2)).
    let r = connect(
        w.clone(),
        host,
        "192.168.1.1".parse().expect("ip"),
        8080,
        &opts,
    );
    assert_eq!(r.outcome, Outcome::Refused);
}

const BR0: &str = "ip link add br0 type bridge\nip addr add 11.11.11.1/24 dev br0\nip link set br0 up\nip netns add RED\nip netns add BLUE\nip link add veth-red type veth peer name veth-red-br\nip link add veth-blue type veth peer name veth-blue-br\nip link set veth-red netns RED\nip link set veth-blue netns BLUE\nip link set veth-red-br master br0\nip link set veth-blue-br master br0\nip link set veth-red-br up\nip link set veth-blue-br up\nip -n RED addr add 11.11.11.2/24 dev veth-red\nip -n BLUE addr add 11.11.11.3/24 dev veth-blue\nip -n RED link set veth-red up\nip -n BLUE link set veth-blue up\n";

/// KERNEL_FACTS 4: bridged IPv4 meets filter FORWARD as -i br0 -o br0 when
/// bridge-nf-call-iptables is 1 (the default); ARP and pings to br0 are not affected.
#[test]
fn bridged_frames_meet_the_forward_policy() {
    let mut w = world(BR0);
    let host = w.resolve_ns("host").expect("host");
    w.netns[host]
        .netfilter
        .table_mut(TableName::Filter)
        .chains
        .get_mut("FORWARD")
        .expect("FORWARD")
        .policy = Some(Policy::Drop);
    let red = w.resolve_ns("RED").expect("RED");
    let opts = PingOptions {
        wait_s: 1,
        ..Default::default()
    };
    let r = ping(w.clone(), red, "11.11.11.3".parse().expect("ip"), &opts);
    assert_eq!(r.exit, 1);
    assert!(r
        .trace
        .drops()
        .any(|(_, d, _)| d == DropReason::NetfilterDrop));
    let counted = r.world.netns[host].netfilter.counted(TableName::Filter);
    let f = &counted.chains["FORWARD"];
    assert_eq!(
        (f.packets, f.bytes),
        (1, 84),
        "the request, dropped by the policy"
    );
    // ARP crossed the bridge: RED knows BLUE's MAC.
    assert!(r.world.netns[red].neigh.iter().any(|n| n.ip
        == "11.11.11.3".parse::<std::net::Ipv4Addr>().expect("ip")
        && n.mac.is_some()));
    assert_eq!(
        ping(w.clone(), red, "11.11.11.1".parse().expect("ip"), &opts).exit,
        0,
        "br0 itself: INPUT, not FORWARD"
    );
    // -i br0 -o br0 ACCEPT counts both the request and the reply.
    let mut w2 = w.clone();
    add(
        &mut w2,
        "host",
        TableName::Filter,
        "FORWARD",
        rule(
            vec![
                Match::InInterface {
                    name: "br0".into(),
                    neg: false,
                },
                Match::OutInterface {
                    name: "br0".into(),
                    neg: false,
                },
            ],
            Target::Accept,
        ),
    );
    let r = ping(w2.clone(), red, "11.11.11.3".parse().expect("ip"), &opts);
    assert_eq!(r.exit, 0);
    let counted = r.world.netns[host].netfilter.counted(TableName::Filter);
    let rl = &counted.chains["FORWARD"].rules[0];
    assert_eq!((rl.packets, rl.bytes), (2, 168));
    // -m physdev sees the ports: only the request goes red -> blue.
    let mut w3 = w.clone();
    add(
        &mut w3,
        "host",
        TableName::Filter,
        "FORWARD",
        rule(
            vec![Match::Physdev {
                physdev_in: Some(("veth-red-br".into(), false)),
                physdev_out: Some(("veth-blue-br".into(), false)),
                is_bridged: None,
            }],
            Target::Accept,
        ),
    );
    let r = ping(w3, red, "11.11.11.3".parse().expect("ip"), &opts);
    let counted = r.world.netns[host].netfilter.counted(TableName::Filter);
    let rl = &counted.chains["FORWARD"].rules[0];
    assert_eq!(rl.packets, 1);
    // With bridge-nf-call-iptables = 0 the bridge ignores iptables.
    w.sysctl_set(host, "net.bridge.bridge-nf-call-iptables", "0")
        .expect("sysctl");
    let r = ping(w, red, "11.11.11.3".parse().expect("ip"), &opts);
    assert_eq!(r.exit, 0);
    let counted = r.world.netns[host].netfilter.counted(TableName::Filter);
    let f = &counted.chains["FORWARD"];
    assert_eq!(f.packets, 0);
}

/// KERNEL_FACTS 7: kube-proxy-style statistic rules: each endpoint 1/3 with kube-proxy's
/// probabilities, computed from the chain of draws as the kernel evaluates them.
#[test]
fn statistic_branches_have_kube_proxy_probabilities() {
    use hopsim_core::engine::connect::connect_with;
    use hopsim_core::netfilter::eval::enumerate_branches;
    let mut s = String::from("ip link add br0 type bridge\nip addr add 11.11.11.1/24 dev br0\nip link set br0 up\nsysctl -w net.ipv4.ip_forward=1\n");
    for (i, n) in ["ep1", "ep2", "ep3", "client"].iter().enumerate() {
        let ip = if *n == "client" {
            "11.11.11.100".to_string()
        } else {
            format!("11.11.11.1{}", i + 1)
        };
        s.push_str(&format!("ip netns add {n}\nip link add v{i} type veth peer name eth0 netns {n}\nip link set v{i} master br0\nip link set v{i} up\nip -n {n} addr add {ip}/24 dev eth0\nip -n {n} link set eth0 up\nip -n {n} route add default via 11.11.11.1\n"));
    }
    let mut w = world(&s);
    for n in ["ep1", "ep2", "ep3"] {
        let ns = w.resolve_ns(n).expect("ns");
        w.listen(
            ns,
            Listener {
                proto: L4Proto::Tcp,
                addr: "0.0.0.0".parse().expect("ip"),
                port: 80,
                process: Some("nc".into()),
                reuseport: true,
            },
        )
        .expect("listen");
    }
    let host = w.resolve_ns("host").expect("host");
    let nat = w.netns[host].netfilter.table_mut(TableName::Nat);
    for c in [
        "KUBE-SERVICES",
        "KUBE-SVC-TEST",
        "KUBE-SEP-1",
        "KUBE-SEP-2",
        "KUBE-SEP-3",
    ] {
        nat.chains.insert(
            c.into(),
            hopsim_core::netfilter::Chain {
                name: c.into(),
                policy: None,
                rules: vec![],
                packets: 0,
                bytes: 0,
            },
        );
    }
    let push = |w: &mut World, c: &str, r: Rule| {
        w.netns[host]
            .netfilter
            .table_mut(TableName::Nat)
            .chains
            .get_mut(c)
            .expect("c")
            .rules
            .push(r)
    };
    push(
        &mut w,
        "PREROUTING",
        rule(
            vec![],
            Target::Jump {
                chain: "KUBE-SERVICES".into(),
            },
        ),
    );
    push(
        &mut w,
        "KUBE-SERVICES",
        rule(
            vec![
                Match::Destination {
                    net: "10.96.0.10/32".parse().expect("n"),
                    neg: false,
                },
                Match::Protocol {
                    proto: 6,
                    neg: false,
                },
                Match::Ports {
                    proto: 6,
                    sport: None,
                    dport: Some((PortRange { lo: 80, hi: 80 }, false)),
                },
            ],
            Target::Jump {
                chain: "KUBE-SVC-TEST".into(),
            },
        ),
    );
    let th = |p: f64| (p * 2_147_483_648.0) as u32;
    push(
        &mut w,
        "KUBE-SVC-TEST",
        rule(
            vec![Match::StatisticRandom {
                threshold: th(0.33333333349),
                neg: false,
            }],
            Target::Jump {
                chain: "KUBE-SEP-1".into(),
            },
        ),
    );
    push(
        &mut w,
        "KUBE-SVC-TEST",
        rule(
            vec![Match::StatisticRandom {
                threshold: th(0.5),
                neg: false,
            }],
            Target::Jump {
                chain: "KUBE-SEP-2".into(),
            },
        ),
    );
    push(
        &mut w,
        "KUBE-SVC-TEST",
        rule(
            vec![],
            Target::Jump {
                chain: "KUBE-SEP-3".into(),
            },
        ),
    );
    for i in 1..=3 {
        let ip: std::net::Ipv4Addr = format!("11.11.11.1{i}").parse().expect("ip");
        push(
            &mut w,
            &format!("KUBE-SEP-{i}"),
            rule(
                vec![Match::Protocol {
                    proto: 6,
                    neg: false,
                }],
                Target::Dnat {
                    to: NatRange {
                        addr_lo: ip,
                        addr_hi: ip,
                        ports: Some(PortRange { lo: 80, hi: 80 }),
                    },
                },
            ),
        );
    }
    let client = w.resolve_ns("client").expect("client");
    let opts = ConnectOptions::default();
    let branches = enumerate_branches(100, |c| {
        connect_with(
            w.clone(),
            client,
            "10.96.0.10".parse().expect("ip"),
            80,
            &opts,
            c,
        )
    });
    assert_eq!(branches.len(), 3);
    let mut got: Vec<(String, f64)> = branches
        .iter()
        .map(|b| {
            (
                b.run.reached.map(|r| r.0.to_string()).unwrap_or_default(),
                b.probability,
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    for (ip, p) in &got {
        assert!((p - 1.0 / 3.0).abs() < 1e-6, "{ip}: {p}");
        assert!(ip.starts_with("11.11.11.1"), "{ip}");
    }
    assert!(branches.iter().all(|b| b.run.exit == 0));
}

/// An ICMP echo connection never becomes ASSURED (`nf_conntrack_icmp_packet` only refreshes
/// the timeout). Measured with two echo requests and replies forwarded by a node:
/// `icmp 1 29 src=172.16.158.16 dst=172.16.158.15 type=8 code=0 id=72 src=172.16.158.15
/// dst=172.16.158.16 type=0 code=0 id=72 mark=0 use=1`.
#[test]
fn icmp_conntrack_entries_are_never_assured() {
    let mut w = world(MASQ);
    let src: ipnet::Ipv4Net = "11.11.11.0/24".parse().expect("net");
    add(
        &mut w,
        "host",
        TableName::Nat,
        "POSTROUTING",
        rule(
            vec![Match::Source {
                net: src,
                neg: false,
            }],
            Target::Masquerade {
                to_ports: None,
                random_fully: false,
                random: false,
            },
        ),
    );
    let red = w.resolve_ns("RED").expect("RED");
    let r = ping(
        w.clone(),
        red,
        "192.168.1.2".parse().expect("ip"),
        &PingOptions {
            count: 2,
            ..Default::default()
        },
    );
    assert_eq!(r.exit, 0);
    let host = r.world.resolve_ns("host").expect("host");
    let ct = r.world.netns[host].conntrack.render(0);
    assert!(ct.contains("icmp     1 "), "{ct}");
    assert!(!ct.contains("[UNREPLIED]"), "the reply was seen: {ct}");
    assert!(!ct.contains("[ASSURED]"), "ICMP is never assured: {ct}");
}

/// `-m addrtype --limit-iface-out`: LOCAL means an address of the output device
/// (addrtype_mt_v1 passes xt_out to inet_dev_addr_type). Calico's
/// `cali-POSTROUTING -o tunl0 -m addrtype ! --src-type LOCAL --limit-iface-out -m
/// addrtype --src-type LOCAL -j MASQUERADE` masquerades host traffic whose source is
/// another device's address, and only that.
#[test]
fn addrtype_limit_iface_out_counts_only_the_output_devices_addresses() {
    let base = "ip link add d0 type dummy\nip addr add 10.9.9.9/32 dev d0\nip link set d0 up\nip netns add B\nip link add va type veth peer name vb netns B\nip addr add 10.0.0.1/24 dev va\nip link set va up\nip -n B addr add 10.0.0.2/24 dev vb\nip -n B link set vb up\niptables -t nat -A POSTROUTING -o va -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE\n";
    let host = |extra: &str| {
        let w = world(&format!("{base}{extra}"));
        let ns = w.resolve_ns("host").unwrap();
        let r = ping(w, ns, "10.0.0.2".parse().unwrap(), &PingOptions::default());
        (r.exit, r.seen_from.map(|a| a.to_string()))
    };
    // Source 10.0.0.1 is va's own: not masqueraded (B sees it as it is).
    assert_eq!(host(""), (0, Some("10.0.0.1".into())));
    // Source 10.9.9.9 is local but on d0: masqueraded to va's address.
    assert_eq!(
        host("ip route replace 10.0.0.2/32 dev va src 10.9.9.9\n"),
        (0, Some("10.0.0.1".into()))
    );
    // Without --limit-iface-out the source is LOCAL either way: never masqueraded.
    let w = world(&format!(
        "{}ip route replace 10.0.0.2/32 dev va src 10.9.9.9\n",
        base.replace(" --limit-iface-out", "")
    ));
    let ns = w.resolve_ns("host").unwrap();
    let r = ping(w, ns, "10.0.0.2".parse().unwrap(), &PingOptions::default());
    assert_eq!(r.seen_from.map(|a| a.to_string()), Some("10.9.9.9".into()));
}

/// `-m nfacct --nfacct-name NAME` (kube-proxy >= 1.31): loads from iptables-restore,
/// prints with libxt_nfacct's two spaces, and matches (no quota).
#[test]
fn nfacct_match_round_trips_and_matches() {
    use hopsim_core::netfilter::save::{parse_restore, render_save};
    let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP\nCOMMIT\n";
    let nf = parse_restore(text).unwrap();
    let saved = render_save(&nf, Some(TableName::Filter));
    assert!(
        saved.contains("-A INPUT -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP\n"),
        "{saved}"
    );
    let mut w = world(MASQ);
    let ns = w.resolve_ns("ext").unwrap();
    w.netns[ns]
        .netfilter
        .set_shared_table(nf.shared_table(TableName::Filter));
    let host = w.resolve_ns("host").unwrap();
    let r = ping(
        w,
        host,
        "192.168.1.2".parse().unwrap(),
        &PingOptions::default(),
    );
    assert_eq!(r.exit, 1, "dropped by the nfacct rule in ext's INPUT");
}

/// A client and a server on one veth, the server listening on TCP 80 (the differential
/// tier's measurements, `kernel-check/cases/nat-and-l4.sh`).
const CS: &str = "ip netns add c\nip netns add s\nip -n c link add eth0 type veth peer name eth0 netns s\nip -n c addr add 10.2.0.1/24 dev eth0\nip -n s addr add 10.2.0.2/24 dev eth0\nip -n c link set eth0 up\nip -n s link set eth0 up\nip -n s link set lo up\nip netns exec s nc -l 80 &\n";

fn seen_at_server(extra: &str, sport: u16) -> Option<(std::net::Ipv4Addr, u16)> {
    let w = world(&format!("{CS}{extra}"));
    let c = w.resolve_ns("c").expect("c");
    let opts = ConnectOptions {
        proto: L4Proto::Tcp,
        wait_s: 1,
        sport: Some(sport),
        seed: 0,
    };
    let r = connect(w, c, "10.2.0.2".parse().expect("ip"), 80, &opts);
    assert_eq!(r.exit, 0, "{}", r.lines.join("\n"));
    r.seen_from
}

/// `-t nat -A INPUT -j SNAT` rewrites the source of a connection delivered locally
/// (NF_INET_LOCAL_IN, NF_IP_PRI_NAT_SRC); measured: the socket saw 10.2.0.77.
#[test]
fn nat_input_snat_changes_the_source_the_socket_sees() {
    let seen = seen_at_server(
        "ip netns exec s iptables -t nat -A INPUT -s 10.2.0.1 -p tcp -j SNAT --to-source 10.2.0.77\n",
        40000,
    );
    assert_eq!(seen, Some(("10.2.0.77".parse().expect("ip"), 40000)));
}

/// A NAT port range keeps the packet's own port when it is inside the range
/// (`nf_nat_l4proto_unique_tuple`); measured with `MASQUERADE --to-ports 1024-65535`.
#[test]
fn nat_port_range_keeps_a_port_inside_it() {
    let masq = "ip netns exec c iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1024-65535\n";
    assert_eq!(
        seen_at_server(masq, 40000),
        Some(("10.2.0.1".parse().expect("ip"), 40000))
    );
    let narrow = "ip netns exec c iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 2000-2010\n";
    assert_eq!(
        seen_at_server(narrow, 40000),
        Some(("10.2.0.1".parse().expect("ip"), 2000))
    );
}

/// The conntrack table of namespace `ns` as `conntrack -L` prints it, one line per entry
/// (the summary line left out).
fn ct_lines(w: &World, ns: &str) -> Vec<String> {
    let ns = w.resolve_ns(ns).expect("ns");
    w.netns[ns]
        .conntrack
        .render(0)
        .lines()
        .filter(|l| !l.starts_with("conntrack v"))
        .map(str::to_string)
        .collect()
}

/// How many entries the table of namespace `ns` holds, shown or not.
fn held(w: &World, ns: &str) -> usize {
    w.netns[w.resolve_ns(ns).expect("ns")]
        .conntrack
        .entries
        .len()
}

/// The packets a rule has counted.
fn counted(w: &World, ns: &str, t: TableName, chain: &str, n: usize) -> u64 {
    let ns = w.resolve_ns(ns).expect("ns");
    w.netns[ns].netfilter.counted(t).chains[chain].rules[n].packets
}

/// A namespace whose own address 192.168.10.10 is the DNAT target of 10.96.0.1:443 in
/// OUTPUT, as kube-proxy writes the `kubernetes` Service on a control-plane node.
const LO_DNAT: &str = "ip netns add h\nip -n h link set lo up\nip -n h link add a0 type veth peer name a1\nip -n h addr add 192.168.10.10/24 dev a0\nip -n h link set a0 up\nip -n h link set a1 up\nip -n h route add default via 192.168.10.1\nip netns exec h iptables -t nat -A PREROUTING -j ACCEPT\nip netns exec h iptables -t nat -A OUTPUT -d 10.96.0.1 -p tcp --dport 443 -j DNAT --to-destination 192.168.10.10:6443\nip netns exec h iptables -t nat -A POSTROUTING -j MASQUERADE\nip netns exec h nc -lk -p 6443 &\n";

/// Found by tests/invariants.rs (conntrack_reversible): a connection DNATed in OUTPUT to
/// an address of the namespace comes back through lo, which keeps the skb's conntrack
/// entry. Measured (Linux 6.18): one entry, and the nat PREROUTING chain never sees the
/// packets (its rule counts 0). hopsim used to track the re-entering SYN and SYN-ACK as
/// two more connections.
#[test]
fn regression_lo_reentry_after_output_dnat_is_tracked_once() {
    let w = world(LO_DNAT);
    let h = w.resolve_ns("h").expect("h");
    let r = connect(
        w,
        h,
        "10.96.0.1".parse().expect("ip"),
        443,
        &ConnectOptions::default(),
    );
    assert_eq!(r.exit, 0, "{:?}", r.lines);
    let ct = ct_lines(&r.world, "h");
    assert_eq!(ct.len(), 1, "{ct:#?}");
    assert_eq!(held(&r.world, "h"), 1);
    let sport = r.source.1;
    assert_eq!(
        ct[0],
        format!(
            "tcp      6 120 TIME_WAIT src=192.168.10.10 dst=10.96.0.1 sport={sport} dport=443 \
             src=192.168.10.10 dst=192.168.10.10 sport=6443 dport={sport} [ASSURED] mark=0 use=1"
        )
    );
    assert_eq!(counted(&r.world, "h", TableName::Nat, "PREROUTING", 0), 0);
}

/// A namespace with a veth pair whose two ends are both in it: 10.9.9.9 is routed out of
/// a0 to a1's MAC, and a1 forwards it back out of a0 (until its TTL runs out).
const SAME_NS_VETH: &str = "ip netns add h\nip -n h link set lo up\nip -n h link add a0 type veth peer name a1\nip -n h link set a1 address 02:00:00:00:00:a1\nip -n h addr add 10.0.0.1/24 dev a0\nip -n h addr add 10.0.1.1/24 dev a1\nip -n h link set a0 up\nip -n h link set a1 up\nip netns exec h sysctl -w net.ipv4.ip_forward=1\nip -n h route add 10.9.9.9/32 dev a0\nip -n h route add 10.96.0.0/12 dev a0\nip -n h neigh add 10.9.9.9 lladdr 02:00:00:00:00:a1 dev a0 nud permanent\nip netns exec h iptables -A FORWARD -m conntrack --ctstate NEW -j ACCEPT\nip netns exec h iptables -t raw -A PREROUTING -i a1 -j ACCEPT\n";

/// Found by tests/invariants.rs: a veth scrubs the skb (`skb_scrub_packet` ->
/// `nf_reset_ct`) even when both ends are in one namespace, so a packet coming back is
/// looked up again by its tuple. Measured on Linux 6.18 with [`SAME_NS_VETH`]:
/// - UDP without NAT: 64 arrivals on a1, each found as the original direction of the one
///   entry, still NEW (FORWARD's `--ctstate NEW` counts 63);
/// - a PREROUTING DNAT for the second pass never matches: the connection's destination
///   binding was made in OUTPUT (counter 0; one entry; nc: No route to host);
/// - after an OUTPUT DNAT 10.96.0.1 -> 10.9.9.9 each pass is a new connection whose
///   reply tuple would be the previous one's, so its source port is remapped
///   (`nf_nat_used_tuple`; the kernel picks random ports): 64 entries, no drop.
#[test]
fn regression_same_namespace_veth_reentry_is_looked_up_by_tuple() {
    let w = world(SAME_NS_VETH);
    let h = w.resolve_ns("h").expect("h");
    let udp = ConnectOptions {
        proto: L4Proto::Udp,
        ..ConnectOptions::default()
    };
    let r = connect(w.clone(), h, "10.9.9.9".parse().expect("ip"), 80, &udp);
    let ct = ct_lines(&r.world, "h");
    assert_eq!(ct.len(), 1, "{ct:#?}");
    assert!(
        ct[0].contains("[UNREPLIED] src=10.9.9.9 dst=10.0.0.1 sport=80"),
        "{ct:#?}"
    );
    assert_eq!(counted(&r.world, "h", TableName::Raw, "PREROUTING", 0), 64);
    assert_eq!(counted(&r.world, "h", TableName::Filter, "FORWARD", 0), 63);

    let mut w2 = world(&format!(
        "{SAME_NS_VETH}ip netns exec h iptables -t nat -A PREROUTING -i a1 -d 10.9.9.9 -j DNAT --to-destination 10.0.0.1\nip netns exec h nc -lk -p 80 &\n"
    ));
    let r = connect(
        w2.clone(),
        h,
        "10.9.9.9".parse().expect("ip"),
        80,
        &ConnectOptions::default(),
    );
    assert_eq!(
        r.lines,
        ["nc: connect to 10.9.9.9 port 80 (tcp) failed: No route to host"]
    );
    assert_eq!(counted(&r.world, "h", TableName::Nat, "PREROUTING", 0), 0);
    assert_eq!(ct_lines(&r.world, "h").len(), 1);

    w2 = world(&format!(
        "{SAME_NS_VETH}ip netns exec h iptables -t nat -A OUTPUT -d 10.96.0.1 -j DNAT --to-destination 10.9.9.9\n"
    ));
    let r = connect(
        w2,
        h,
        "10.96.0.1".parse().expect("ip"),
        80,
        &ConnectOptions::default(),
    );
    let sport = r.source.1;
    let ct = ct_lines(&r.world, "h");
    assert_eq!(ct.len(), 64, "{ct:#?}");
    assert!(ct[0].contains(&format!(
        "src=10.0.0.1 dst=10.96.0.1 sport={sport} dport=80 [UNREPLIED] src=10.9.9.9 dst=10.0.0.1 sport=80 dport={sport} "
    )));
    assert!(ct[1].contains(&format!(
        "src=10.0.0.1 dst=10.9.9.9 sport={sport} dport=80 [UNREPLIED] src=10.9.9.9 dst=10.0.0.1 sport=80 dport=1024 "
    )));
    assert!(ct[2].contains(
        "src=10.0.0.1 dst=10.9.9.9 sport=1024 dport=80 [UNREPLIED] src=10.9.9.9 dst=10.0.0.1 sport=80 dport=1025 "
    ));
    assert!(
        !r.trace.hops.iter().flat_map(|h| &h.steps).any(|s| matches!(
            s,
            hopsim_core::trace::Step::Drop {
                reason: DropReason::NetfilterDrop,
                ..
            }
        ))
    );
}

/// Found by tests/invariants.rs: an entry created for a packet that is dropped before its
/// connection is confirmed (POSTROUTING, or INPUT for local delivery) goes with the packet.
/// Measured on Linux 6.18: an echo request dropped in OUTPUT, or an incoming one dropped in
/// INPUT, leaves no entry; one to our own address with lo down does leave one (it was
/// confirmed at POSTROUTING before the down device dropped it).
#[test]
fn regression_unconfirmed_entry_is_freed_with_its_dropped_packet() {
    const BASE: &str = "ip netns add h\nip netns add p\nip -n h link add a0 type veth peer name a1 netns p\nip -n h addr add 10.0.0.1/24 dev a0\nip -n h link set a0 up\nip -n p addr add 10.0.0.2/24 dev a1\nip -n p link set a1 up\n";
    let one = PingOptions {
        count: 1,
        wait_s: 1,
        ..Default::default()
    };
    let w = world(&format!(
        "{BASE}ip netns exec h iptables -A OUTPUT -m conntrack --ctstate NEW -d 10.0.0.2 -j DROP\n"
    ));
    let h = w.resolve_ns("h").expect("h");
    let r = ping(w.clone(), h, "10.0.0.2".parse().expect("ip"), &one);
    assert_eq!(r.exit, 1);
    assert_eq!(ct_lines(&r.world, "h"), Vec::<String>::new());
    assert_eq!(held(&r.world, "h"), 0);

    // lo is down in h: the request to 10.0.0.1 is confirmed, then dropped by lo.
    let r = ping(w, h, "10.0.0.1".parse().expect("ip"), &one);
    assert_eq!(r.exit, 1);
    let ct = ct_lines(&r.world, "h");
    assert_eq!(ct.len(), 1, "{ct:#?}");
    assert!(
        ct[0].starts_with("icmp     1 30 src=10.0.0.1 dst=10.0.0.1 type=8 code=0 id="),
        "{ct:#?}"
    );
    assert!(ct[0].contains(" [UNREPLIED] src=10.0.0.1 dst=10.0.0.1 type=0 code=0 id="));

    let w = world(&format!(
        "{BASE}ip netns exec h iptables -A INPUT -p icmp -m conntrack --ctstate NEW -j DROP\n"
    ));
    let p = w.resolve_ns("p").expect("p");
    let r = ping(w, p, "10.0.0.1".parse().expect("ip"), &one);
    assert_eq!(r.exit, 1);
    assert_eq!(counted(&r.world, "h", TableName::Filter, "INPUT", 0), 1);
    assert_eq!(ct_lines(&r.world, "h"), Vec::<String>::new());
    assert_eq!(held(&r.world, "h"), 0);
}

/// Found by tests/invariants.rs: the kernel's ICMP tuple holds the type and code
/// (`icmp_pkt_to_tuple`), and the reply tuple has the answer's type (echo request 8 ->
/// reply 0), so a ping to one of our own addresses has distinct tuples and its reply is
/// the reply direction. Measured on Linux 6.18 (`ping -c1` to the namespace's address):
/// `icmp     1 29 src=A dst=A type=8 code=0 id=N src=A dst=A type=0 code=0 id=N mark=0
/// use=1`, without [UNREPLIED], which hopsim printed.
#[test]
fn regression_icmp_conntrack_tuple_has_type_and_code() {
    let w = world("ip netns add h\nip -n h link set lo up\nip -n h link add a0 type veth peer name a1\nip -n h addr add 192.168.10.10/24 dev a0\nip -n h link set a0 up\nip -n h link set a1 up\nip netns exec h iptables -A INPUT -m conntrack --ctstate INVALID -j DROP\n");
    let h = w.resolve_ns("h").expect("h");
    let r = ping(
        w,
        h,
        "192.168.10.10".parse().expect("ip"),
        &PingOptions {
            count: 1,
            ..Default::default()
        },
    );
    assert_eq!(r.exit, 0);
    let ct = ct_lines(&r.world, "h");
    assert_eq!(ct.len(), 1, "{ct:#?}");
    let n = ct[0]
        .split("id=")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .expect("id");
    assert_eq!(
        ct[0],
        format!(
            "icmp     1 30 src=192.168.10.10 dst=192.168.10.10 type=8 code=0 id={n} \
             src=192.168.10.10 dst=192.168.10.10 type=0 code=0 id={n} mark=0 use=1"
        )
    );
}
