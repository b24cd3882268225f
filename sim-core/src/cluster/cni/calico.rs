//! Calico (felix + BIRD, IPIP `Always`, the documents' clusters), as SYSTEM_RULES.md §3
//! describes it:
//!
//! - per pod: a veth pair, the host end `cali` + 11 hex digits of SHA-1(`ns.pod`) with MAC
//!   `ee:ee:ee:ee:ee:ee`, no address, `proxy_arp=1` and `forwarding=1`; the pod's `eth0`
//!   has the pod IP as a /32 and the routes `169.254.1.1 dev eth0 scope link` and
//!   `default via 169.254.1.1 dev eth0` (proxy ARP answers for the fake gateway); the host
//!   routes the pod IP to the cali device (`POD dev caliX scope link`);
//! - per node: `tunl0` (the ipip fallback device) with the block's first address as a /32
//!   and MTU 20 less than the LAN's; BIRD's `blackhole BLOCK proto bird` for its own block
//!   and `BLOCK via NODE dev tunl0 proto bird onlink` for every other node's;
//! - felix's nat chains (static, identical on every node, with their rule-hash comments),
//!   including `cali-nat-outgoing`'s MASQUERADE (the pool has `natOutgoing: true`, the
//!   default);
//! - felix's static filter chains for the host: the INPUT and OUTPUT jumps, `cali-INPUT`
//!   (with "Allow IPIP packets from Calico hosts" / "Drop IPIP packets from non-Calico
//!   hosts"), `cali-OUTPUT` (with "Allow IPIP packets to other Calico hosts") and
//!   `cali-wl-to-host`, as SYSTEM_RULES.md §3.2 gives them;
//! - felix's IP sets: `cali40all-hosts-net` (every node's address), `cali40all-ipam-pools`
//!   and `cali40masq-ipam-pools` (the pool, the cluster CIDR), all `hash:net`.
//!
//! Left out, with the reason: the raw and mangle chains (`cali-PREROUTING` with
//! `-m set`/rpfilter, whose sets and rules §3.2 does not give); the per-device sysctls
//! hopsim refuses (`neigh.caliX.proxy_delay=0`, `conf.caliX.route_localnet=1`: hopsim
//! answers proxy ARP at once, as `proxy_delay=0` does). felix's FORWARD chains, with the
//! dispatch chains and the per-pod chains, are in [`super::felix`].

use super::felix::{commented, lines, rule, to, write};
use super::NodeNet;
use crate::cluster::hash::{hex, sha1};
use crate::cluster::model::Cluster;
use crate::cluster::plan::{IfPlan, NsPlan, SetPlan};
use crate::cluster::rules::TableRules;

/// The IPIP overhead felix subtracts from the host MTU.
pub const IPIP_OVERHEAD: u32 = 20;

/// The host-side device of a pod: `"cali" + sha1("<ns>.<pod>").hex[:11]`.
pub fn host_veth(namespace: &str, pod: &str) -> String {
    format!(
        "cali{}",
        &hex(&sha1(format!("{namespace}.{pod}").as_bytes()))[..11]
    )
}

/// How felix encapsulates pod traffic between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encap {
    /// IPIP `Always` over `tunl0` (BIRD routes).
    Ipip,
    /// VXLAN `Always` over `vxlan.calico` (felix's own routes, no BGP).
    Vxlan,
}

impl Encap {
    /// The tunnel device.
    pub fn device(self) -> &'static str {
        match self {
            Encap::Ipip => "tunl0",
            Encap::Vxlan => "vxlan.calico",
        }
    }

    /// The bytes the encapsulation adds, which felix takes off the host MTU.
    pub fn overhead(self) -> u32 {
        match self {
            Encap::Ipip => IPIP_OVERHEAD,
            Encap::Vxlan => VXLAN_OVERHEAD,
        }
    }
}

/// The VXLAN overhead felix subtracts from the host MTU.
pub const VXLAN_OVERHEAD: u32 = 50;
/// felix's `VXLANVNI` default.
pub const VXLAN_VNI: u32 = 4096;

/// felix's static nat rules. Their hashes depend only on the chain and the rules, so they
/// are the same on every node (SYSTEM_RULES.md §3.1-3.2; both tunnels' masquerade rules
/// as real nodes show them).
pub fn nat(encap: Encap) -> TableRules {
    let mut t = TableRules::default();
    for (chain, target) in [
        ("PREROUTING", "cali-PREROUTING"),
        ("OUTPUT", "cali-OUTPUT"),
        ("POSTROUTING", "cali-POSTROUTING"),
    ] {
        for l in lines(chain, &[to("jump", target)]) {
            t.top(chain, &l);
        }
    }
    for c in ["cali-fip-dnat", "cali-fip-snat"] {
        t.chain(c);
    }
    write(&mut t, "cali-OUTPUT", &[to("jump", "cali-fip-dnat")]);
    write(&mut t, "cali-PREROUTING", &[to("jump", "cali-fip-dnat")]);
    // Traffic leaving by the tunnel with a source address of this host that is not the
    // tunnel's own (the host's eth0 address) is masqueraded to the tunnel's address.
    let dev = encap.device();
    let masq = "-m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL";
    write(
        &mut t,
        "cali-POSTROUTING",
        &[
            to("jump", "cali-fip-snat"),
            to("jump", "cali-nat-outgoing"),
            rule(
                &format!("-o {dev}"),
                &format!("{masq} -j MASQUERADE --random-fully"),
                &format!("--out-interface {dev} {masq} --jump MASQUERADE --random-fully"),
            ),
        ],
    );
    // natOutgoing: a pod's packet to anything outside the pools is masqueraded.
    let sets = "-m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst";
    write(
        &mut t,
        "cali-nat-outgoing",
        &[rule(
            "",
            &format!("{sets} -j MASQUERADE --random-fully"),
            &format!("{sets} --jump MASQUERADE --random-fully"),
        )],
    );
    t
}

/// felix's static filter chains for traffic to and from the host (no WireGuard, no IPVS;
/// SYSTEM_RULES.md §3.2, and a real VXLAN node's for the VXLAN pair). Node-independent.
pub fn filter(encap: Encap) -> TableRules {
    let mut t = TableRules::default();
    for (chain, target) in [("INPUT", "cali-INPUT"), ("OUTPUT", "cali-OUTPUT")] {
        for l in lines(chain, &[to("jump", target)]) {
            t.top(chain, &l);
        }
    }
    for c in ["cali-from-host-endpoint", "cali-to-host-endpoint"] {
        t.chain(c);
    }
    let port = super::felix::VXLAN_PORT;
    let accept = |dir: &str, set_first: bool, text: &str| {
        let (set, addr) = match dir {
            "src" => (
                "-m set --match-set cali40all-vxlan-net src",
                "-m addrtype --dst-type LOCAL",
            ),
            _ => (
                "-m set --match-set cali40all-vxlan-net dst",
                "-m addrtype --src-type LOCAL",
            ),
        };
        let m = if set_first {
            format!("{set} {addr}")
        } else {
            format!("{addr} {set}")
        };
        rule(
            "-p udp",
            &format!("-m comment --comment \"{text}\" -m multiport --dports {port} {m} -j ACCEPT"),
            &format!("-m comment --comment \"{text}\" -p 17 -m multiport --destination-ports {port} {m} --jump ACCEPT"),
        )
    };
    let mut input = match encap {
        Encap::Ipip => vec![
            rule(
                "-p ipencap",
                "-m comment --comment \"Allow IPIP packets from Calico hosts\" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT",
                "-m comment --comment \"Allow IPIP packets from Calico hosts\" -p 4 -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL --jump ACCEPT",
            ),
            rule(
                "-p ipencap",
                "-m comment --comment \"Drop IPIP packets from non-Calico hosts\" -j DROP",
                "-m comment --comment \"Drop IPIP packets from non-Calico hosts\" -p 4 --jump DROP",
            ),
        ],
        Encap::Vxlan => vec![
            accept("src", true, "Allow IPv4 VXLAN packets from allowed hosts"),
            rule(
                "-p udp",
                &format!("-m comment --comment \"Drop IPv4 VXLAN packets from non-allowed hosts\" -m multiport --dports {port} -m addrtype --dst-type LOCAL -j DROP"),
                &format!("-m comment --comment \"Drop IPv4 VXLAN packets from non-allowed hosts\" -p 17 -m multiport --destination-ports {port} -m addrtype --dst-type LOCAL --jump DROP"),
            ),
        ],
    };
    let accepted = || {
        commented(
            "Host endpoint policy accepted packet.",
            "-m mark --mark 0x10000/0x10000 -j ACCEPT",
            "-m mark --mark 0x10000/0x10000 --jump ACCEPT",
        )
    };
    let mark_accept = || {
        rule(
            "",
            "-m mark --mark 0x10000/0x10000 -j ACCEPT",
            "-m mark --mark 0x10000/0x10000 --jump ACCEPT",
        )
    };
    let clear = || {
        rule(
            "",
            "-j MARK --set-xmark 0x0/0xf0000",
            "--jump MARK --set-mark 0/0xf0000",
        )
    };
    input.extend([
        rule(
            "-i cali+",
            "-g cali-wl-to-host",
            "--in-interface cali+ --goto cali-wl-to-host",
        ),
        mark_accept(),
        clear(),
        to("jump", "cali-from-host-endpoint"),
        accepted(),
    ]);
    write(&mut t, "cali-INPUT", &input);
    let mut output = vec![
        mark_accept(),
        rule(
            "-o cali+",
            "-j RETURN",
            "--out-interface cali+ --jump RETURN",
        ),
    ];
    output.push(match encap {
        Encap::Ipip => rule(
            "-p ipencap",
            "-m comment --comment \"Allow IPIP packets to other Calico hosts\" -m set --match-set cali40all-hosts-net dst -m addrtype --src-type LOCAL -j ACCEPT",
            "-m comment --comment \"Allow IPIP packets to other Calico hosts\" -p 4 -m set --match-set cali40all-hosts-net dst -m addrtype --src-type LOCAL --jump ACCEPT",
        ),
        Encap::Vxlan => accept("dst", false, "Allow IPv4 VXLAN packets to other allowed hosts"),
    });
    output.extend([
        clear(),
        rule(
            "",
            "-m conntrack ! --ctstate DNAT -j cali-to-host-endpoint",
            "-m conntrack ! --ctstate DNAT --jump cali-to-host-endpoint",
        ),
        accepted(),
    ]);
    write(&mut t, "cali-OUTPUT", &output);
    write(
        &mut t,
        "cali-wl-to-host",
        &[
            to("jump", "cali-from-wl-dispatch"),
            commented(
                "Configured DefaultEndpointToHostAction",
                "-j ACCEPT",
                "--jump ACCEPT",
            ),
        ],
    );
    t
}

/// felix's IP sets on every node: all Calico hosts' addresses, the pools and the pools
/// with natOutgoing (here the one pool, the cluster CIDR, which has it).
pub fn ipsets(c: &Cluster, encap: Encap) -> Vec<SetPlan> {
    let pool = c.cluster_cidr.to_string();
    let hosts: Vec<String> = c.nodes.iter().map(|n| n.ip.addr().to_string()).collect();
    let first = match encap {
        Encap::Ipip => SetPlan {
            name: "cali40all-hosts-net".into(),
            kind: "hash:net",
            members: hosts,
            comment: Some("felix: every Calico node's address".into()),
        },
        Encap::Vxlan => SetPlan {
            name: "cali40all-vxlan-net".into(),
            kind: "hash:net",
            members: hosts,
            comment: Some("felix: the nodes' VXLAN source addresses (their node IPs)".into()),
        },
    };
    vec![
        first,
        SetPlan {
            name: "cali40all-ipam-pools".into(),
            kind: "hash:net",
            members: vec![pool.clone()],
            comment: Some("felix: every IP pool".into()),
        },
        SetPlan {
            name: "cali40masq-ipam-pools".into(),
            kind: "hash:net",
            members: vec![pool],
            comment: Some("felix: the pools with natOutgoing".into()),
        },
    ]
}

/// The MAC felix gives `vxlan.calico` on a node (random on a real node, published in the
/// node's `projectcalico.org/VXLANTunnelMACAddr` annotation; derived from the name here).
pub fn vxlan_mac(node: &str) -> String {
    super::derived_mac(&format!("vxlan.calico/{node}"))
}

/// Node `n`: the tunnel device, routes, pods.
pub fn node(c: &Cluster, n: usize, encap: Encap) -> NodeNet {
    let node = &c.nodes[n];
    let block = node.pod_cidr.expect("allocated");
    let tmtu = c.mtu - encap.overhead();
    let tunnel_addr = node.tunnel_addr.expect("calico");
    let mut root = NsPlan::default();
    match encap {
        Encap::Ipip => {
            root.interfaces.push(IfPlan {
                name: "tunl0".into(),
                kind: Some("ipip"),
                addrs: vec![format!("{tunnel_addr}/32")],
                mtu: Some(tmtu),
                comment: Some(
                    "the ipip module's fallback device; Calico gives it the block's first address"
                        .into(),
                ),
                ..IfPlan::default()
            });
            root.routes.push(format!("blackhole {block} proto bird"));
            for (i, other) in c.nodes.iter().enumerate() {
                if i != n {
                    root.routes.push(format!(
                        "{} via {} dev tunl0 proto bird onlink",
                        other.pod_cidr.expect("allocated"),
                        other.ip.addr()
                    ));
                }
            }
        }
        Encap::Vxlan => {
            // felix's vxlan manager: the device, and per remote VTEP a permanent
            // neighbour (its tunnel address -> its MAC), an FDB entry (its MAC -> its
            // node IP) and the route to its block via its tunnel address, onlink.
            let mut fdb = Vec::new();
            for (i, other) in c.nodes.iter().enumerate() {
                if i == n {
                    continue;
                }
                let mac = vxlan_mac(&other.name);
                let ot = other.tunnel_addr.expect("calico");
                root.neigh
                    .push(format!("{ot} dev vxlan.calico lladdr {mac} nud permanent"));
                fdb.push(format!("{mac} dst {}", other.ip.addr()));
                root.routes.push(format!(
                    "{} via {ot} dev vxlan.calico onlink",
                    other.pod_cidr.expect("allocated")
                ));
            }
            root.interfaces.push(IfPlan {
                name: "vxlan.calico".into(),
                kind: Some("vxlan"),
                options: Some(format!(
                    "id {VXLAN_VNI} local {} dev eth0 dstport {} nolearning",
                    node.ip.addr(),
                    super::felix::VXLAN_PORT
                )),
                addrs: vec![format!("{tunnel_addr}/32")],
                mac: Some(vxlan_mac(&node.name)),
                mtu: Some(tmtu),
                fdb,
                comment: Some(
                    "felix's VXLAN device (VNI 4096, UDP 4789), with the block's first address"
                        .into(),
                ),
                ..IfPlan::default()
            });
            // felix's routes carry its protocol number, 80; the blackhole too.
            root.routes.insert(0, format!("blackhole {block} proto 80"));
        }
    }
    let mut pods = Vec::new();
    let mut filter = filter(encap);
    let mut endpoints = Vec::new();
    for p in c.pods.iter().filter(|p| p.node == n) {
        let cali = host_veth(&p.namespace, &p.name);
        endpoints.push((p.namespace.clone(), cali.clone()));
        root.interfaces.push(IfPlan {
            name: cali.clone(),
            mac: Some("ee:ee:ee:ee:ee:ee".into()),
            mtu: Some(tmtu),
            comment: Some(format!("pod {}/{}", p.namespace, p.name)),
            ..IfPlan::default()
        });
        root.routes.push(format!("{} dev {cali} scope link", p.ip));
        root.sysctl
            .push((format!("net.ipv4.conf.{cali}.proxy_arp"), "1".into()));
        root.sysctl
            .push((format!("net.ipv4.conf.{cali}.forwarding"), "1".into()));
        let mut ns =
            crate::cluster::pod_namespace(p, &node.name, &cali, format!("{}/32", p.ip), Some(tmtu));
        ns.routes.push("169.254.1.1 dev eth0 scope link".into());
        ns.routes.push("default via 169.254.1.1 dev eth0".into());
        pods.push((crate::cluster::pod_ns_name(c, p), ns));
    }
    super::felix::forward(&mut filter, &endpoints);
    root.ipsets = ipsets(c, encap);
    NodeNet {
        root,
        router_routes: Vec::new(),
        pods,
        filter,
        nat: Some(nat(encap)),
        nat_per_node: false,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn saved(t: &TableRules) -> String {
        let mut v: Vec<String> = t.top.iter().map(|(c, a)| format!("-A {c} {a}")).collect();
        v.extend(t.lines.iter().cloned());
        v.join("\n")
    }

    #[test]
    fn ipip_static_rules_as_real_nodes_have_them() {
        // SYSTEM_RULES.md §3.2 (verified on real nodes).
        let f = saved(&filter(Encap::Ipip));
        for h in [
            "-A INPUT -m comment --comment \"cali:Cz_u1IQiXIMmKD4c\" -j cali-INPUT",
            "-A OUTPUT -m comment --comment \"cali:tVnHkvAo15HuiPy0\" -j cali-OUTPUT",
            "-A cali-INPUT -p ipencap -m comment --comment \"cali:PajejrV4aFdkZojI\" -m comment --comment \"Allow IPIP packets from Calico hosts\" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT",
            "-A cali-INPUT -p ipencap -m comment --comment \"cali:_wjq-Yrma8Ly1Svo\" -m comment --comment \"Drop IPIP packets from non-Calico hosts\" -j DROP",
            "-A cali-INPUT -i cali+ -m comment --comment \"cali:8TZGxLWh_Eiz66wc\" -g cali-wl-to-host",
            "-A cali-INPUT -m comment --comment \"cali:q-Vz2ZT9iGE331LL\" -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark 0x10000/0x10000 -j ACCEPT",
            "-A cali-OUTPUT -p ipencap -m comment --comment \"cali:AnEsmO6bDZbQntWW\" -m comment --comment \"Allow IPIP packets to other Calico hosts\" -m set --match-set cali40all-hosts-net dst -m addrtype --src-type LOCAL -j ACCEPT",
            "-A cali-OUTPUT -m comment --comment \"cali:OgU2f8BVEAZ_fwkq\" -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark 0x10000/0x10000 -j ACCEPT",
            "-A cali-wl-to-host -m comment --comment \"cali:nSZbcOoG1xPONxb8\" -m comment --comment \"Configured DefaultEndpointToHostAction\" -j ACCEPT",
        ] {
            assert!(f.contains(h), "{h}\nmissing from\n{f}");
        }
        let n = saved(&nat(Encap::Ipip));
        for h in [
            "-A PREROUTING -m comment --comment \"cali:6gwbT8clXdHdC1b1\" -j cali-PREROUTING",
            "-A POSTROUTING -m comment --comment \"cali:O3lYWMrLQYEMJtB5\" -j cali-POSTROUTING",
            "-A cali-OUTPUT -m comment --comment \"cali:GBTAv2p5CwevEyJm\" -j cali-fip-dnat",
            "-A cali-PREROUTING -m comment --comment \"cali:r6XmIziWUJsdOK6Z\" -j cali-fip-dnat",
            "-A cali-POSTROUTING -o tunl0 -m comment --comment \"cali:SXWvdsbh4Mw7wOln\" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully",
            "-A cali-nat-outgoing -m comment --comment \"cali:flqWnvo8yq4ULQLa\" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully",
        ] {
            assert!(n.contains(h), "{h}\nmissing from\n{n}");
        }
    }

    #[test]
    fn vxlan_static_rules_as_a_real_node_has_them() {
        // The hashes of a real VXLAN-mode node's `iptables -L` (cali-INPUT, cali-OUTPUT,
        // the vxlan.calico masquerade rule).
        let f = saved(&filter(Encap::Vxlan));
        for h in [
            "-A cali-INPUT -p udp -m comment --comment \"cali:J76FwxInZIsk7uKY\" -m comment --comment \"Allow IPv4 VXLAN packets from allowed hosts\" -m multiport --dports 4789 -m set --match-set cali40all-vxlan-net src -m addrtype --dst-type LOCAL -j ACCEPT",
            "-A cali-INPUT -p udp -m comment --comment \"cali:EDCNTTxYfggApx8C\" -m comment --comment \"Drop IPv4 VXLAN packets from non-allowed hosts\" -m multiport --dports 4789 -m addrtype --dst-type LOCAL -j DROP",
            "cali:H03xYXARh4e8pwd4",
            "cali:MN6K3isIWBigb1Va",
            "cali:OSYphBLwOgic22Hz",
            "cali:rmi2_piRVmfeiwVp",
            "cali:F7Q8zu44qIbOVben",
            "-A cali-OUTPUT -p udp -m comment --comment \"cali:-QZG79DohFjalQBb\" -m comment --comment \"Allow IPv4 VXLAN packets to other allowed hosts\" -m multiport --dports 4789 -m addrtype --src-type LOCAL -m set --match-set cali40all-vxlan-net dst -j ACCEPT",
            "cali:iC1pSPgbvgQzkUk_",
            "cali:4Zh7KtRvt4W5AEBR",
            "cali:Y0k-bqjt-5CUqyUq",
        ] {
            assert!(f.contains(h), "{h}\nmissing from\n{f}");
        }
        assert!(saved(&nat(Encap::Vxlan)).contains(
            "-A cali-POSTROUTING -o vxlan.calico -m comment --comment \"cali:e9dnSgSVNmIcpVhP\""
        ));
    }

    #[test]
    fn host_veth_name() {
        // SYSTEM_RULES.md §3.3: pod default/web-0.
        assert_eq!(super::host_veth("default", "web-0"), "cali0d7763386da");
    }
}
