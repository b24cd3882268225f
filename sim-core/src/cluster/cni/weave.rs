//! Weave Net (SYSTEM_RULES.md §5), as scenarios/weave.yaml models it by hand
//! (docs/tunnel-scenarios.md):
//!
//! - per node: the bridge `weave` (MTU 1376) with the first address of the node's share
//!   of the range and the whole range's prefix length (weave's "expose" address, e.g.
//!   `10.244.192.0/16`), so all pods of the cluster are one L2 segment;
//! - fast datapath, modelled as a Linux VXLAN device `vxlan-6784` (UDP 6784, VNI 1,
//!   learning on) enslaved to `weave`, with one default FDB entry
//!   (`00:00:00:00:00:00 dst PEER`) per other node: broadcasts such as ARP reach every
//!   peer, and the answers teach the device where each MAC lives;
//! - per pod: a veth on the bridge (`vethwepl` + 7 hex digits), `eth0` with an address of
//!   the node's share and the range's prefix length, `default via` the bridge's address;
//! - weave's nat rules (the chain `WEAVE`, node-independent) and the set
//!   `weaver-no-masq-local` holding the node's own share.
//!
//! Simplified: real fast datapath is an Open vSwitch kernel datapath (`datapath`, joined by
//! `vethwe-bridge`/`vethwe-datapath`) whose VNI encodes the two peers' short ids; here the
//! VNI is 1 for all. Weave's IPAM splits the range between peers by consensus into
//! unequal pieces; here each node gets a `block-size` block in node order. weave's filter
//! rules (WEAVE-NPC and its `weave-<hash>` sets) are left out: §5 does not give them, and
//! without them `-A FORWARD -o weave -j DROP` would drop every bridged frame.

use super::NodeNet;
use crate::cluster::hash::{hex, sha256};
use crate::cluster::model::Cluster;
use crate::cluster::plan::{IfPlan, NsPlan, SetPlan};
use crate::cluster::rules::TableRules;

/// weave's default MTU.
pub const MTU: u32 = 1376;
/// The fast datapath's UDP port (weave's port + 1).
pub const PORT: u16 = 6784;

/// The host-side device of a pod: `vethwepl` + 7 hex digits (from the container id in
/// reality; from the pod's name here).
pub fn host_veth(namespace: &str, pod: &str) -> String {
    format!(
        "vethwepl{}",
        &hex(&sha256(format!("{namespace}/{pod}").as_bytes()))[..7]
    )
}

/// weave's nat rules (§5): no SNAT to local containers, none for multicast, masquerade
/// what enters or leaves the range.
pub fn nat(c: &Cluster) -> TableRules {
    let r = c.cluster_cidr;
    let mut t = TableRules::default();
    t.chain("WEAVE");
    t.bottom("POSTROUTING", "-j WEAVE");
    for args in [
        "-m set --match-set weaver-no-masq-local dst -m comment --comment \"Prevent SNAT to locally running containers\" -j RETURN".to_string(),
        format!("-s {r} -d 224.0.0.0/4 -j RETURN"),
        format!("! -s {r} -d {r} -j MASQUERADE"),
        format!("-s {r} ! -d {r} -j MASQUERADE"),
    ] {
        t.rule("WEAVE", &args);
    }
    t
}

/// Node `n`.
pub fn node(c: &Cluster, n: usize) -> NodeNet {
    let node = &c.nodes[n];
    let share = node.pod_cidr.expect("allocated");
    let plen = c.cluster_cidr.prefix_len();
    let bridge = share.network();
    let mut root = NsPlan::default();
    root.interfaces.push(IfPlan {
        name: "weave".into(),
        kind: Some("bridge"),
        addrs: vec![format!("{bridge}/{plen}")],
        mtu: Some(MTU),
        comment: Some(
            "weave's bridge: the first address of the node's share, the whole range's prefix"
                .into(),
        ),
        ..IfPlan::default()
    });
    root.interfaces.push(IfPlan {
        name: format!("vxlan-{PORT}"),
        kind: Some("vxlan"),
        options: Some(format!("id 1 dstport {PORT}")),
        mtu: Some(MTU),
        master: Some("weave".into()),
        fdb: c
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != n)
            .map(|(_, o)| format!("00:00:00:00:00:00 dst {}", o.ip.addr()))
            .collect(),
        comment: Some(
            "fast datapath, modelled as a VXLAN bridge port flooding to every peer".into(),
        ),
        ..IfPlan::default()
    });
    let mut pods = Vec::new();
    for p in c.pods.iter().filter(|p| p.node == n) {
        let veth = host_veth(&p.namespace, &p.name);
        root.interfaces.push(IfPlan {
            name: veth.clone(),
            master: Some("weave".into()),
            mtu: Some(MTU),
            comment: Some(format!("pod {}/{}", p.namespace, p.name)),
            ..IfPlan::default()
        });
        let mut ns = crate::cluster::pod_namespace(
            p,
            &node.name,
            &veth,
            format!("{}/{plen}", p.ip),
            Some(MTU),
        );
        ns.routes.push(format!("default via {bridge} dev eth0"));
        pods.push((crate::cluster::pod_ns_name(c, p), ns));
    }
    root.ipsets = vec![SetPlan {
        name: "weaver-no-masq-local".into(),
        kind: "hash:net",
        members: vec![share.to_string()],
        comment: Some("weaver: the ranges this peer's IPAM owns".into()),
    }];
    NodeNet {
        root,
        router_routes: Vec::new(),
        pods,
        filter: TableRules::default(),
        nat: Some(nat(c)),
        nat_per_node: false,
    }
}
