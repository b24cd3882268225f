//! The CNI plugins: what each one sets up on a node (devices, addresses, routes, sysctls,
//! rules) and in each pod's network namespace. One module per plugin; [`node`] dispatches.

pub mod bridge_routes;
pub mod calico;
pub mod felix;
pub mod flannel;
pub mod weave;

use super::model::{Cluster, Cni};
use super::plan::NsPlan;
use super::rules::TableRules;

/// What a CNI contributes to one node.
#[derive(Debug)]
pub struct NodeNet {
    /// Additions to the node's root namespace (after eth0).
    pub root: NsPlan,
    /// Routes the LAN's router needs for this node's pods (plain-routing CNIs).
    pub router_routes: Vec<String>,
    /// Each pod's namespace: (namespace name, contents).
    pub pods: Vec<(String, NsPlan)>,
    /// Rules in the filter table (inserted above kube-proxy's, appended below).
    pub filter: TableRules,
    /// Rules in the nat table; `None` when the plugin writes none.
    pub nat: Option<TableRules>,
    /// The nat rules depend on the node (flannel's name the node's subnet), so nodes
    /// cannot share one nat table.
    pub nat_per_node: bool,
}

/// The CNI's setup of node `n`.
pub fn node(c: &Cluster, n: usize) -> NodeNet {
    match c.cni {
        Cni::CalicoIpip => calico::node(c, n, calico::Encap::Ipip),
        Cni::CalicoVxlan => calico::node(c, n, calico::Encap::Vxlan),
        Cni::FlannelVxlan => flannel::node(c, n),
        Cni::Weave => weave::node(c, n),
        Cni::BridgeRoutes => bridge_routes::node(c, n),
    }
}

/// A MAC for a device whose real MAC is random (a VXLAN device's): derived from `seed`,
/// locally administered and unicast, so the same file always gives the same MAC.
pub fn derived_mac(seed: &str) -> String {
    let h = crate::cluster::hash::sha256(seed.as_bytes());
    let b0 = (h[0] & 0xfe) | 0x02;
    format!(
        "{b0:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        h[1], h[2], h[3], h[4], h[5]
    )
}
