//! Address and port allocation, as the cluster's allocators would do it but deterministic:
//! node pod blocks from the cluster CIDR (Calico IPAM blocks / the controller-manager's
//! podCIDRs), pod addresses from their node's block, cluster IPs from the service CIDR
//! (the API server), node ports from 30000-32767. Real allocators pick at random; hopsim
//! takes the lowest free value so that a file always compiles to the same cluster, and
//! anything the file pins is kept.

use super::model::*;
use crate::format::LoadError;
use ipnet::Ipv4Net;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

fn add(a: Ipv4Addr, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(a).wrapping_add(n))
}

/// Allocate everything the file leaves open, checking what it pins.
pub(crate) fn allocate(file: &str, c: &mut Cluster) -> Result<(), LoadError> {
    blocks(file, c)?;
    pod_ips(file, c)?;
    cluster_ips(file, c)?;
    node_ports(file, c)?;
    Ok(())
}

fn blocks(file: &str, c: &mut Cluster) -> Result<(), LoadError> {
    for i in 0..c.nodes.len() {
        let Some(b) = c.nodes[i].pod_cidr else {
            continue;
        };
        if let Some(o) = c.nodes[..i].iter().find(|o| {
            o.pod_cidr
                .is_some_and(|ob| ob.contains(&b) || b.contains(&ob))
        }) {
            return Err(LoadError::at(
                file,
                c.nodes[i].line,
                0,
                format!(
                    "pod-cidr {b} of node {} overlaps node {}'s {}",
                    c.nodes[i].name,
                    o.name,
                    o.pod_cidr.expect("some")
                ),
            )
            .hint("each node needs its own block of the cluster CIDR"));
        }
    }
    let mut free = c
        .cluster_cidr
        .subnets(c.block_size)
        .map_err(|_| LoadError::at(file, 0, 0, "block-size does not fit the cluster CIDR"))?;
    for i in 0..c.nodes.len() {
        if c.nodes[i].pod_cidr.is_none() {
            let taken: Vec<Ipv4Net> = c.nodes.iter().filter_map(|n| n.pod_cidr).collect();
            let b = free
                .by_ref()
                .find(|b| !taken.iter().any(|t| t.contains(b) || b.contains(t)))
                .ok_or_else(|| {
                    LoadError::at(
                        file,
                        c.nodes[i].line,
                        0,
                        format!(
                            "no free /{} block left in {} for node {}",
                            c.block_size, c.cluster_cidr, c.nodes[i].name
                        ),
                    )
                    .hint("a larger cluster-cidr or a longer block-size")
                })?;
            c.nodes[i].pod_cidr = Some(b);
        }
        if c.cni.is_calico() {
            // Calico gives the tunnel device the first address of the node's block.
            c.nodes[i].tunnel_addr = c.nodes[i].pod_cidr.map(|b| b.network());
        }
    }
    Ok(())
}

/// The first address IPAM hands to pods in a block: Calico keeps the first for its
/// tunnel device, weave for the bridge; host-local skips the network address and the
/// bridge's gateway (flannel: the network address is flannel.1's).
fn first_pod_offset(cni: Cni) -> u32 {
    match cni {
        Cni::CalicoIpip | Cni::CalicoVxlan | Cni::Weave => 1,
        Cni::BridgeRoutes | Cni::FlannelVxlan => 2,
    }
}

/// host-local IPAM (a /24 with a gateway) keeps the block's broadcast address.
fn host_local(cni: Cni) -> bool {
    matches!(cni, Cni::BridgeRoutes | Cni::FlannelVxlan)
}

fn pod_ips(file: &str, c: &mut Cluster) -> Result<(), LoadError> {
    let mut used: BTreeSet<Ipv4Addr> = BTreeSet::new();
    for p in &c.pods {
        let Some((ip, line, col)) = p.requested_ip else {
            continue;
        };
        let node = &c.nodes[p.node];
        let block = node.pod_cidr.expect("allocated");
        let off = u32::from(ip) - u32::from(block.network());
        if !block.contains(&ip) {
            return Err(LoadError::at(
                file,
                line,
                col,
                format!(
                    "pod {}/{}: {ip} is not in node {}'s block {block}",
                    p.namespace, p.name, node.name
                ),
            )
            .hint("a pod's address comes from its node's block (pod-cidr)"));
        }
        if off < first_pod_offset(c.cni) || ip == block.broadcast() && host_local(c.cni) {
            return Err(LoadError::at(
                file,
                line,
                col,
                format!(
                    "pod {}/{}: {ip} is reserved in block {block} ({})",
                    p.namespace,
                    p.name,
                    match c.cni {
                        Cni::CalicoIpip => "the first address is tunl0's",
                        Cni::CalicoVxlan => "the first address is vxlan.calico's",
                        Cni::Weave => "the first address is the weave bridge's",
                        Cni::FlannelVxlan => "flannel.1's, cni0's or the broadcast address",
                        Cni::BridgeRoutes => "network, gateway or broadcast address",
                    }
                ),
            ));
        }
        if !used.insert(ip) {
            return Err(LoadError::at(
                file,
                line,
                col,
                format!(
                    "pod {}/{}: {ip} is already another pod's",
                    p.namespace, p.name
                ),
            ));
        }
    }
    let mut next: Vec<u32> = vec![first_pod_offset(c.cni); c.nodes.len()];
    for i in 0..c.pods.len() {
        if let Some((ip, _, _)) = c.pods[i].requested_ip {
            c.pods[i].ip = ip;
            continue;
        }
        let n = c.pods[i].node;
        let block = c.nodes[n].pod_cidr.expect("allocated");
        let size = 1u32 << (32 - block.prefix_len());
        let last = if host_local(c.cni) { size - 1 } else { size };
        loop {
            if next[n] >= last {
                return Err(LoadError::at(
                    file,
                    c.pods[i].line,
                    0,
                    format!(
                        "node {}'s block {block} is full: no address for pod {}/{}",
                        c.nodes[n].name, c.pods[i].namespace, c.pods[i].name
                    ),
                )
                .hint("a larger block (block-size) or fewer pods on that node"));
            }
            let ip = add(block.network(), next[n]);
            next[n] += 1;
            if used.insert(ip) {
                c.pods[i].ip = ip;
                break;
            }
        }
    }
    Ok(())
}

fn cluster_ips(file: &str, c: &mut Cluster) -> Result<(), LoadError> {
    let base = c.service_cidr.network();
    let size = 1u32 << (32 - c.service_cidr.prefix_len());
    let mut used: BTreeSet<Ipv4Addr> = BTreeSet::new();
    // The API server's own service takes the first address; the tenth is kube-dns's by
    // kubeadm's convention, so hopsim leaves it free.
    used.insert(add(base, 1));
    used.insert(add(base, 10));
    for s in &c.services {
        if let ClusterIp::Fixed(ip, line, col) = s.cluster_ip {
            let off = u32::from(ip) - u32::from(base);
            if off == 0 || off == size - 1 {
                return Err(LoadError::at(
                    file,
                    line,
                    col,
                    format!("cluster-ip {ip} is the service CIDR's network or broadcast address"),
                ));
            }
            let is_apiserver = s.namespace == "default" && s.name == "kubernetes";
            if ip == add(base, 1) && c.kubernetes_service && !is_apiserver {
                return Err(LoadError::at(
                    file,
                    line,
                    col,
                    format!("cluster-ip {ip} is the kubernetes service's"),
                )
                .hint("the API server's own service default/kubernetes has the first address"));
            }
            if !used.insert(ip) && ip != add(base, 10) && !is_apiserver {
                return Err(LoadError::at(
                    file,
                    line,
                    col,
                    format!("cluster-ip {ip} is already allocated"),
                )
                .hint("the API server refuses it: `provided IP is already allocated`"));
            }
        }
    }
    let mut next = 2u32;
    for s in &mut c.services {
        s.allocated_ip = match s.cluster_ip {
            ClusterIp::Fixed(ip, _, _) => Some(ip),
            ClusterIp::Headless => None,
            ClusterIp::Auto => loop {
                if next >= size - 1 {
                    return Err(LoadError::at(file, s.line, 0, "the service CIDR is full"));
                }
                let ip = add(base, next);
                next += 1;
                if used.insert(ip) {
                    break Some(ip);
                }
            },
        };
    }
    Ok(())
}

fn node_ports(file: &str, c: &mut Cluster) -> Result<(), LoadError> {
    let mut used: BTreeSet<(Protocol, u16)> = BTreeSet::new();
    for s in &c.services {
        for p in &s.ports {
            if let Some(np) = p.node_port {
                if !used.insert((p.proto, np)) {
                    return Err(LoadError::at(
                        file,
                        p.line,
                        p.column,
                        format!("node-port {np} is already allocated"),
                    )
                    .hint("the API server refuses it: `provided port is already allocated`"));
                }
            }
        }
        if let Some(h) = s.health_check_node_port {
            used.insert((Protocol::Tcp, h));
        }
    }
    let mut next = 30000u16;
    let mut take = |proto: Protocol, line: usize| -> Result<u16, LoadError> {
        loop {
            if next > 32767 {
                return Err(LoadError::at(
                    file,
                    line,
                    0,
                    "the node port range 30000-32767 is full",
                ));
            }
            let p = next;
            next += 1;
            if !used.contains(&(Protocol::Tcp, p)) && !used.contains(&(Protocol::Udp, p)) {
                used.insert((proto, p));
                return Ok(p);
            }
        }
    };
    for s in &mut c.services {
        if s.kind == ServiceType::ClusterIp || s.allocated_ip.is_none() {
            continue;
        }
        for p in &mut s.ports {
            if p.node_port.is_none() {
                p.node_port = Some(take(p.proto, p.line)?);
            }
        }
        if s.etp_local && s.health_check_node_port.is_none() {
            s.health_check_node_port = Some(take(Protocol::Tcp, s.line)?);
        }
    }
    Ok(())
}
