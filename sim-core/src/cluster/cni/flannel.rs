//! flannel with the vxlan backend (SYSTEM_RULES.md §4; `pkg/backend/vxlan`, the CNI
//! `flannel` plugin delegating to `bridge`):
//!
//! - per node: `flannel.1`, a VXLAN device (`id 1 local NODE-IP dev eth0 dstport 8472
//!   nolearning`, MTU the LAN's less 50, the subnet's network address as a /32); the CNI
//!   bridge `cni0` with the subnet's first address (MTU as flannel.1's);
//! - per remote node, in flanneld's order: the permanent neighbour `10.244.X.0 dev
//!   flannel.1 lladdr MAC`, the FDB entry `MAC dst NODE-IP` (self permanent) and the route
//!   `10.244.X.0/24 via 10.244.X.0 dev flannel.1 onlink`;
//! - per pod: a veth on cni0 (`veth` + 8 hex digits), `eth0` with an address of the
//!   subnet, `default via` cni0's address and the cluster CIDR via it too (host-local's
//!   route `{"dst": CLUSTER-CIDR}`);
//! - flanneld's rules, appended below kube-proxy's: nat `FLANNEL-POSTRTG` (which names the
//!   node's own subnet, so every node has its own nat table) and filter `FLANNEL-FWD`.
//!
//! Simplified: flannel.1's MAC is random on a real node (kept in the node annotation
//! `flannel.alpha.coreos.com/backend-data`); here it is derived from the node's name.
//! Hairpin mode on cni0's ports and the `portmap` plugin are not modelled.

use super::NodeNet;
use crate::cluster::model::Cluster;
use crate::cluster::plan::{IfPlan, NsPlan};
use crate::cluster::rules::TableRules;

/// flannel's default VNI.
pub const VNI: u32 = 1;
/// The kernel's default VXLAN port, which flannel uses (Port 0).
pub const PORT: u16 = 8472;
/// VXLAN's overhead, which flanneld takes off the external interface's MTU.
pub const OVERHEAD: u32 = 50;

/// flannel.1's MAC on a node (random in reality; derived from the name here).
pub fn vtep_mac(node: &str) -> String {
    super::derived_mac(&format!("flannel.1/{node}"))
}

/// flanneld's nat rules for the node whose subnet is `subnet` (§4, `--ip-masq`).
pub fn nat(c: &Cluster, subnet: ipnet::Ipv4Net) -> TableRules {
    let net = c.cluster_cidr;
    let mut t = TableRules::default();
    t.chain("FLANNEL-POSTRTG");
    let m = "-m comment --comment \"flanneld masq\"";
    t.bottom("POSTROUTING", &format!("{m} -j FLANNEL-POSTRTG"));
    for args in [
        format!("-m mark --mark 0x4000/0x4000 {m} -j RETURN"),
        format!("-s {subnet} -d {net} {m} -j RETURN"),
        format!("-s {net} -d {subnet} {m} -j RETURN"),
        format!("! -s {net} -d {subnet} {m} -j RETURN"),
        format!("-s {net} ! -d 224.0.0.0/4 {m} -j MASQUERADE --random-fully"),
        format!("! -s {net} -d {net} {m} -j MASQUERADE --random-fully"),
    ] {
        t.rule("FLANNEL-POSTRTG", &args);
    }
    t
}

/// flanneld's filter rules (§4): accept forwarding from and to the pod network.
pub fn filter(c: &Cluster) -> TableRules {
    let net = c.cluster_cidr;
    let mut t = TableRules::default();
    t.chain("FLANNEL-FWD");
    let m = "-m comment --comment \"flanneld forward\"";
    t.bottom("FORWARD", &format!("{m} -j FLANNEL-FWD"));
    t.rule("FLANNEL-FWD", &format!("-s {net} {m} -j ACCEPT"));
    t.rule("FLANNEL-FWD", &format!("-d {net} {m} -j ACCEPT"));
    t
}

/// Node `n`.
pub fn node(c: &Cluster, n: usize) -> NodeNet {
    let node = &c.nodes[n];
    let subnet = node.pod_cidr.expect("allocated");
    let mtu = c.mtu - OVERHEAD;
    let gw = std::net::Ipv4Addr::from(u32::from(subnet.network()) + 1);
    let mut root = NsPlan::default();
    let mut fdb = Vec::new();
    for (i, other) in c.nodes.iter().enumerate() {
        if i == n {
            continue;
        }
        let osub = other.pod_cidr.expect("allocated");
        let mac = vtep_mac(&other.name);
        root.neigh.push(format!(
            "{} dev flannel.1 lladdr {mac} nud permanent",
            osub.network()
        ));
        fdb.push(format!("{mac} dst {}", other.ip.addr()));
        root.routes.push(format!(
            "{osub} via {} dev flannel.1 onlink",
            osub.network()
        ));
    }
    root.interfaces.push(IfPlan {
        name: "flannel.1".into(),
        kind: Some("vxlan"),
        options: Some(format!(
            "id {VNI} local {} dev eth0 dstport {PORT} nolearning",
            node.ip.addr()
        )),
        addrs: vec![format!("{}/32", subnet.network())],
        mac: Some(vtep_mac(&node.name)),
        mtu: Some(mtu),
        fdb,
        comment: Some("flanneld's VTEP: VNI 1, UDP 8472, the subnet's network address".into()),
        ..IfPlan::default()
    });
    root.interfaces.push(IfPlan {
        name: "cni0".into(),
        kind: Some("bridge"),
        addrs: vec![format!("{gw}/{}", subnet.prefix_len())],
        mtu: Some(mtu),
        comment: Some("the bridge plugin's bridge, with the subnet's first address".into()),
        ..IfPlan::default()
    });
    let mut pods = Vec::new();
    for p in c.pods.iter().filter(|p| p.node == n) {
        let veth = super::bridge_routes::host_veth(&p.namespace, &p.name);
        root.interfaces.push(IfPlan {
            name: veth.clone(),
            master: Some("cni0".into()),
            mtu: Some(mtu),
            comment: Some(format!("pod {}/{}", p.namespace, p.name)),
            ..IfPlan::default()
        });
        let mut ns = crate::cluster::pod_namespace(
            p,
            &node.name,
            &veth,
            format!("{}/{}", p.ip, subnet.prefix_len()),
            Some(mtu),
        );
        ns.routes.push(format!("default via {gw} dev eth0"));
        ns.routes
            .push(format!("{} via {gw} dev eth0", c.cluster_cidr));
        pods.push((crate::cluster::pod_ns_name(c, p), ns));
    }
    NodeNet {
        root,
        router_routes: Vec::new(),
        pods,
        filter: filter(c),
        nat: Some(nat(c, subnet)),
        nat_per_node: true,
    }
}
