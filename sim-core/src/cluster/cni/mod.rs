//! The CNI plugins: what each one sets up on a node (devices, addresses, routes, sysctls,
//! rules) and in each pod's network namespace. One module per plugin; [`node`] dispatches.

pub mod bridge_routes;
pub mod calico;
pub mod felix;

use super::model::{Cluster, Cni};
use super::plan::NsPlan;
use super::rules::TableRules;
use crate::netfilter::TableName;

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
    /// Rules in the nat table; `None` when the plugin writes none. They must not depend
    /// on the node: every node shares one nat table.
    pub nat: Option<TableRules>,
}

/// The CNI's setup of node `n`.
pub fn node(c: &Cluster, n: usize) -> NodeNet {
    match c.cni {
        Cni::CalicoIpip => calico::node(c, n),
        Cni::BridgeRoutes => bridge_routes::node(c, n),
    }
}

/// A node-independent empty table, for plugins that write no rules.
pub(crate) fn empty(t: TableName) -> TableRules {
    TableRules::new(t)
}
