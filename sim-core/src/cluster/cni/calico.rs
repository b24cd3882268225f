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

use super::NodeNet;
use crate::cluster::hash::{hex, sha1};
use crate::cluster::model::Cluster;
use crate::cluster::plan::{IfPlan, NsPlan, SetPlan};
use crate::cluster::rules::TableRules;
use crate::netfilter::TableName;

/// The IPIP overhead felix subtracts from the host MTU.
pub const IPIP_OVERHEAD: u32 = 20;

/// The host-side device of a pod: `"cali" + sha1("<ns>.<pod>").hex[:11]`.
pub fn host_veth(namespace: &str, pod: &str) -> String {
    format!(
        "cali{}",
        &hex(&sha1(format!("{namespace}.{pod}").as_bytes()))[..11]
    )
}

/// felix's static nat rules (IPIP mode). The hashes depend only on the chain name and the
/// rule text, so they are the same on every node (SYSTEM_RULES.md §3.1-3.2, verified).
pub fn nat() -> TableRules {
    let mut t = TableRules::new(TableName::Nat);
    for c in [
        "cali-OUTPUT",
        "cali-POSTROUTING",
        "cali-PREROUTING",
        "cali-fip-dnat",
        "cali-fip-snat",
        "cali-nat-outgoing",
    ] {
        t.chain(c);
    }
    t.top(
        "PREROUTING",
        "-m comment --comment \"cali:6gwbT8clXdHdC1b1\" -j cali-PREROUTING",
    );
    t.top(
        "OUTPUT",
        "-m comment --comment \"cali:tVnHkvAo15HuiPy0\" -j cali-OUTPUT",
    );
    t.top(
        "POSTROUTING",
        "-m comment --comment \"cali:O3lYWMrLQYEMJtB5\" -j cali-POSTROUTING",
    );
    t.rule(
        "cali-OUTPUT",
        "-m comment --comment \"cali:GBTAv2p5CwevEyJm\" -j cali-fip-dnat",
    );
    t.rule(
        "cali-POSTROUTING",
        "-m comment --comment \"cali:Z-c7XtVd2Bq7s_hA\" -j cali-fip-snat",
    );
    t.rule(
        "cali-POSTROUTING",
        "-m comment --comment \"cali:nYKhEzDlr11Jccal\" -j cali-nat-outgoing",
    );
    // Traffic leaving by tunl0 with a source address of this host that is not tunl0's
    // own (the host's eth0 address) is masqueraded to tunl0's address.
    t.rule(
        "cali-POSTROUTING",
        "-o tunl0 -m comment --comment \"cali:SXWvdsbh4Mw7wOln\" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully",
    );
    t.rule(
        "cali-PREROUTING",
        "-m comment --comment \"cali:r6XmIziWUJsdOK6Z\" -j cali-fip-dnat",
    );
    // natOutgoing: a pod's packet to anything outside the pools is masqueraded.
    t.rule(
        "cali-nat-outgoing",
        "-m comment --comment \"cali:flqWnvo8yq4ULQLa\" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully",
    );
    t
}

/// felix's static filter chains for traffic to and from the host (IPIP enabled, no
/// WireGuard, no IPVS; SYSTEM_RULES.md §3.2, verified). Node-independent.
pub fn filter() -> TableRules {
    let mut t = TableRules::new(TableName::Filter);
    for c in [
        "cali-INPUT",
        "cali-OUTPUT",
        "cali-from-host-endpoint",
        "cali-from-wl-dispatch",
        "cali-to-host-endpoint",
        "cali-wl-to-host",
    ] {
        t.chain(c);
    }
    t.top(
        "INPUT",
        "-m comment --comment \"cali:Cz_u1IQiXIMmKD4c\" -j cali-INPUT",
    );
    t.top(
        "OUTPUT",
        "-m comment --comment \"cali:tVnHkvAo15HuiPy0\" -j cali-OUTPUT",
    );
    for (chain, args) in [
        ("cali-INPUT", "-p ipencap -m comment --comment \"cali:PajejrV4aFdkZojI\" -m comment --comment \"Allow IPIP packets from Calico hosts\" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT"),
        ("cali-INPUT", "-p ipencap -m comment --comment \"cali:_wjq-Yrma8Ly1Svo\" -m comment --comment \"Drop IPIP packets from non-Calico hosts\" -j DROP"),
        ("cali-INPUT", "-i cali+ -m comment --comment \"cali:8TZGxLWh_Eiz66wc\" -g cali-wl-to-host"),
        ("cali-INPUT", "-m comment --comment \"cali:6McIeIDvPdL6PE1T\" -m mark --mark 0x10000/0x10000 -j ACCEPT"),
        ("cali-INPUT", "-m comment --comment \"cali:YGPbrUms7NId8xVa\" -j MARK --set-xmark 0x0/0xf0000"),
        ("cali-INPUT", "-m comment --comment \"cali:2gmY7Bg2i0i84Wk_\" -j cali-from-host-endpoint"),
        ("cali-INPUT", "-m comment --comment \"cali:q-Vz2ZT9iGE331LL\" -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark 0x10000/0x10000 -j ACCEPT"),
        ("cali-OUTPUT", "-m comment --comment \"cali:Mq1_rAdXXH3YkrzW\" -m mark --mark 0x10000/0x10000 -j ACCEPT"),
        ("cali-OUTPUT", "-o cali+ -m comment --comment \"cali:69FkRTJDvD5Vu6Vl\" -j RETURN"),
        ("cali-OUTPUT", "-p ipencap -m comment --comment \"cali:AnEsmO6bDZbQntWW\" -m comment --comment \"Allow IPIP packets to other Calico hosts\" -m set --match-set cali40all-hosts-net dst -m addrtype --src-type LOCAL -j ACCEPT"),
        ("cali-OUTPUT", "-m comment --comment \"cali:9e9Uf3GU5tX--Lxy\" -j MARK --set-xmark 0x0/0xf0000"),
        ("cali-OUTPUT", "-m comment --comment \"cali:0f3LDz_VKuHFaA2K\" -m conntrack ! --ctstate DNAT -j cali-to-host-endpoint"),
        ("cali-OUTPUT", "-m comment --comment \"cali:OgU2f8BVEAZ_fwkq\" -m comment --comment \"Host endpoint policy accepted packet.\" -m mark --mark 0x10000/0x10000 -j ACCEPT"),
        ("cali-wl-to-host", "-m comment --comment \"cali:Ee9Sbo10IpVujdIY\" -j cali-from-wl-dispatch"),
        ("cali-wl-to-host", "-m comment --comment \"cali:nSZbcOoG1xPONxb8\" -m comment --comment \"Configured DefaultEndpointToHostAction\" -j ACCEPT"),
    ] {
        t.rule(chain, args);
    }
    t
}

/// felix's IP sets on every node: all Calico hosts' addresses, the pools and the pools
/// with natOutgoing (here the one pool, the cluster CIDR, which has it).
pub fn ipsets(c: &Cluster) -> Vec<SetPlan> {
    let pool = c.cluster_cidr.to_string();
    vec![
        SetPlan {
            name: "cali40all-hosts-net".into(),
            kind: "hash:net",
            members: c.nodes.iter().map(|n| n.ip.addr().to_string()).collect(),
            comment: Some("felix: every Calico node's address".into()),
        },
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

/// Node `n`: tunl0, routes, pods.
pub fn node(c: &Cluster, n: usize) -> NodeNet {
    let node = &c.nodes[n];
    let block = node.pod_cidr.expect("allocated");
    let tmtu = c.mtu - IPIP_OVERHEAD;
    let mut root = NsPlan::default();
    root.interfaces.push(IfPlan {
        name: "tunl0".into(),
        kind: Some("ipip"),
        addrs: vec![format!("{}/32", node.tunnel_addr.expect("calico"))],
        mtu: Some(tmtu),
        comment: Some(
            "the ipip module's fallback device; Calico gives it the block's first address".into(),
        ),
        ..IfPlan::default()
    });
    root.routes.push(format!("blackhole {block} proto bird"));
    for (i, other) in c.nodes.iter().enumerate() {
        if i == n {
            continue;
        }
        root.routes.push(format!(
            "{} via {} dev tunl0 proto bird onlink",
            other.pod_cidr.expect("allocated"),
            other.ip.addr()
        ));
    }
    let mut pods = Vec::new();
    let mut filter = filter();
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
    root.ipsets = ipsets(c);
    NodeNet {
        root,
        router_routes: Vec::new(),
        pods,
        filter,
        nat: Some(nat()),
    }
}

#[cfg(test)]
mod test {
    #[test]
    fn host_veth_name() {
        // SYSTEM_RULES.md §3.3: pod default/web-0.
        assert_eq!(super::host_veth("default", "web-0"), "cali0d7763386da");
    }
}
