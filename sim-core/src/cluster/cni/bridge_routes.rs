//! A bridge per node and plain routes between nodes (004's "Pod Networking" by hand, as
//! kubenet and the CNI bridge plugin with host-local IPAM do it): bridge `cni0` with the
//! first address of the node's pod CIDR, one veth per pod (`veth` + 8 hex digits on the
//! host, enslaved to cni0), the pod's `eth0` with an address of the pod CIDR and a default
//! route via the bridge, and on every node a route to each other node's pod CIDR via that
//! node. Nodes on another LAN are reached through the router, which then needs the routes
//! itself (as a cloud route table does).
//!
//! Not modelled: the plugin's `ipMasq` rule for pod traffic leaving the cluster, and
//! hairpin mode on the bridge ports.

use super::NodeNet;
use crate::cluster::hash::{hex, sha256};
use crate::cluster::model::Cluster;
use crate::cluster::plan::{IfPlan, NsPlan};
use crate::cluster::rules::TableRules;

/// The host-side device of a pod: `veth` + 8 hex digits (random in reality, derived from
/// the pod's name here).
pub fn host_veth(namespace: &str, pod: &str) -> String {
    format!(
        "veth{}",
        &hex(&sha256(format!("{namespace}/{pod}").as_bytes()))[..8]
    )
}

/// Node `n`.
pub fn node(c: &Cluster, n: usize) -> NodeNet {
    let node = &c.nodes[n];
    let cidr = node.pod_cidr.expect("allocated");
    let gw = std::net::Ipv4Addr::from(u32::from(cidr.network()) + 1);
    let mut root = NsPlan::default();
    root.interfaces.push(IfPlan {
        name: "cni0".into(),
        kind: Some("bridge"),
        addrs: vec![format!("{gw}/{}", cidr.prefix_len())],
        comment: Some("the CNI bridge, with the first address of the node's pod CIDR".into()),
        ..IfPlan::default()
    });
    let mut router_routes = Vec::new();
    for (i, other) in c.nodes.iter().enumerate() {
        if i == n {
            continue;
        }
        let ocidr = other.pod_cidr.expect("allocated");
        if node.ip.trunc().contains(&other.ip.addr()) {
            root.routes
                .push(format!("{ocidr} via {} dev eth0", other.ip.addr()));
        }
    }
    router_routes.push(format!("{cidr} via {}", node.ip.addr()));
    let mut pods = Vec::new();
    for p in c.pods.iter().filter(|p| p.node == n) {
        let veth = host_veth(&p.namespace, &p.name);
        root.interfaces.push(IfPlan {
            name: veth.clone(),
            master: Some("cni0".into()),
            comment: Some(format!("pod {}/{}", p.namespace, p.name)),
            ..IfPlan::default()
        });
        let mut ns = crate::cluster::pod_namespace(
            p,
            &node.name,
            &veth,
            format!("{}/{}", p.ip, cidr.prefix_len()),
            None,
        );
        ns.routes.push(format!("default via {gw} dev eth0"));
        pods.push((crate::cluster::pod_ns_name(c, p), ns));
    }
    NodeNet {
        root,
        router_routes,
        pods,
        filter: TableRules::default(),
        nat: None,
        nat_per_node: false,
    }
}
