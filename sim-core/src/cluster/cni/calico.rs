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
//! - felix's nat chains (static, identical on every node, with their rule-hash comments)
//!   and the FORWARD jumps.
//!
//! Left out, with the reason: felix's `cali-INPUT`/`cali-OUTPUT` and `cali-nat-outgoing`
//! rules match on ipsets (`-m set --match-set cali40all-hosts-net`), which hopsim does not
//! model; the raw and mangle chains (`cali-PREROUTING` with `-m set`/rpfilter); the
//! per-device sysctls hopsim refuses (`neigh.caliX.proxy_delay=0`,
//! `conf.caliX.route_localnet=1`: hopsim answers proxy ARP at once, as `proxy_delay=0`
//! does). Not written yet: felix's filter chains (`cali-FORWARD`, the dispatch chains and
//! the per-pod `cali-fw-*`/`cali-tw-*` chains with their position-dependent rule hashes).

use super::NodeNet;
use crate::cluster::hash::{hex, sha1};
use crate::cluster::model::Cluster;
use crate::cluster::plan::{IfPlan, NsPlan};
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
    // cali-nat-outgoing's rule (`-m set --match-set cali40masq-ipam-pools src -m set !
    // --match-set cali40all-ipam-pools dst -j MASQUERADE`) needs ipsets: left out.
    t
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
    let mut filter = TableRules::new(TableName::Filter);
    for p in c.pods.iter().filter(|p| p.node == n) {
        let cali = host_veth(&p.namespace, &p.name);
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
        let mut ns = NsPlan {
            comment: Some(format!(
                "pod {}/{} ({}): one network namespace, the pause container's",
                p.namespace,
                p.name,
                p.containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ..NsPlan::default()
        };
        ns.interfaces.push(IfPlan {
            name: "lo".into(),
            ..IfPlan::default()
        });
        ns.interfaces.push(IfPlan {
            name: "eth0".into(),
            veth: Some(format!("{}/{cali}", node.name)),
            addrs: vec![format!("{}/32", p.ip)],
            mtu: Some(tmtu),
            ..IfPlan::default()
        });
        ns.routes.push("169.254.1.1 dev eth0 scope link".into());
        ns.routes.push("default via 169.254.1.1 dev eth0".into());
        ns.listen = crate::cluster::pod_listeners(p);
        pods.push((crate::cluster::pod_ns_name(c, p), ns));
    }
    // felix's filter chains are not written yet (see the module doc): the FORWARD path
    // through them ends in ACCEPT for pod traffic with Calico's default profiles, which
    // is what the FORWARD policy gives without them.
    let _ = &mut filter;
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
