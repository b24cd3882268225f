//! kube-proxy in iptables mode (and kubelet's own chains), written as the restore input
//! kube-proxy feeds to `iptables-restore`: the same chains, rule order, argument order,
//! comments and probabilities as `pkg/proxy/iptables/proxier.go` (v1.28-1.33:
//! `syncProxyRules`, `writeServiceToEndpointRules`, `portProtoHash`), so that the
//! engine's `iptables-save` prints what a real node prints (SYSTEM_RULES.md §1; the
//! worked example of §1.5 is a test).
//!
//! Services come in the file's order (kube-proxy iterates a Go map: the real order is
//! unspecified and changes between syncs). Endpoints of a service port are sorted by the
//! string `ip:port`, as `endpointslicecache.go` sorts them.

use super::hash::{base32, sha256};
use super::model::*;
use super::rules::TableRules;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// The masquerade mark: `1 << masqueradeBit` (14), written `%#08x`.
const MASQ_MARK: &str = "0x004000";
/// Above this many endpoints in total, kube-proxy drops the comments of SVC->SEP and SEP
/// rules (`largeClusterEndpointsThreshold`).
const LARGE_CLUSTER_ENDPOINTS: usize = 1000;

/// One endpoint of a service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Address.
    pub ip: Ipv4Addr,
    /// Port.
    pub port: u16,
    /// The node it runs on (its pod's node, or the node itself for the API server).
    pub node: usize,
    /// `ip:port`, the sort key and the text in comments and chain hashes.
    pub text: String,
}

/// `portProtoHash`: the 16-character suffix shared by KUBE-SVC/SVL/EXT/FW chains.
pub fn port_proto_hash(spn: &str, proto: &str) -> String {
    base32(&sha256(format!("{spn}{proto}").as_bytes()))[..16].to_string()
}

/// `servicePortEndpointChainName`: `KUBE-SEP-` + hash of the port name, protocol and
/// endpoint.
pub fn endpoint_chain(spn: &str, proto: &str, endpoint: &str) -> String {
    format!(
        "KUBE-SEP-{}",
        &base32(&sha256(format!("{spn}{proto}{endpoint}").as_bytes()))[..16]
    )
}

/// kube-proxy's `--probability` argument: `fmt.Sprintf("%0.10f", 1.0/float64(n))`.
pub fn probability(n: usize) -> String {
    format!("{:.10}", 1.0 / n as f64)
}

/// The endpoints of each service port (`[service][port]`), computed once for all nodes.
pub fn endpoints(c: &Cluster) -> Vec<Vec<Vec<Endpoint>>> {
    // The pods carrying each (namespace, label, value), in pod order: a selector's
    // candidates are the pods with its first label (not every pod, for every service).
    let mut by_label: std::collections::HashMap<(&str, &str, &str), Vec<usize>> =
        std::collections::HashMap::new();
    for (i, pod) in c.pods.iter().enumerate() {
        for (k, v) in &pod.labels {
            by_label
                .entry((pod.namespace.as_str(), k.as_str(), v.as_str()))
                .or_default()
                .push(i);
        }
    }
    let selected = |s: &super::model::Service| -> Vec<&super::model::Pod> {
        let Some((k, v)) = s.selector.iter().next() else {
            return Vec::new();
        };
        by_label
            .get(&(s.namespace.as_str(), k.as_str(), v.as_str()))
            .map(|ids| ids.iter().map(|&i| &c.pods[i]).collect())
            .unwrap_or_default()
    };
    c.services
        .iter()
        .map(|s| {
            s.ports
                .iter()
                .map(|p| {
                    let mut eps: Vec<Endpoint> = if s.name == "kubernetes"
                        && s.namespace == "default"
                        && s.selector.is_empty()
                        && c.kubernetes_service
                    {
                        // The API server's own endpoints: the control-plane nodes' 6443.
                        c.nodes
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| n.role == Role::ControlPlane)
                            .map(|(i, n)| (n.ip.addr(), 6443, i))
                            .collect::<Vec<_>>()
                    } else if s.selector.is_empty() {
                        // No selector: Endpoints are managed by hand, which hopsim does
                        // not model; the service has none.
                        Vec::new()
                    } else {
                        selected(s)
                            .into_iter()
                            .filter(|pod| {
                                pod.namespace == s.namespace
                                    && s.selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
                            })
                            .filter_map(|pod| {
                                let port = match &p.target {
                                    Target::Number(n) => Some(*n),
                                    // A named targetPort resolves per pod; pods without
                                    // a port of that name are not endpoints.
                                    Target::Name(name) => pod
                                        .containers
                                        .iter()
                                        .flat_map(|c| c.ports.iter())
                                        .find(|cp| {
                                            cp.name.as_deref() == Some(name) && cp.proto == p.proto
                                        })
                                        .map(|cp| cp.port),
                                }?;
                                Some((pod.ip, port, pod.node))
                            })
                            .collect()
                    }
                    .into_iter()
                    .map(|(ip, port, node)| Endpoint {
                        ip,
                        port,
                        node,
                        text: format!("{ip}:{port}"),
                    })
                    .collect();
                    eps.sort_by(|a, b| a.text.cmp(&b.text));
                    eps
                })
                .collect()
        })
        .collect()
}

/// Whether any service's rules depend on the node (a Local traffic policy).
pub fn node_dependent(c: &Cluster) -> bool {
    c.services
        .iter()
        .any(|s| s.allocated_ip.is_some() && (s.etp_local || s.itp_local))
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// The built-in chain jumps of kube-proxy (`iptablesJumpChains`, each prepended) and
/// kubelet (`KUBE-FIREWALL`), in the order they end up in.
fn jumps(cfg: &KubeProxyConfig, filter: &mut TableRules, nat: &mut TableRules) {
    const EXT: &str = "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES";
    const HC: &str =
        "-m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS";
    const SVC: &str = "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES";
    const FWD: &str = "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD";
    const LBF: &str = "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL";
    let fw_first = !cfg.kubelet_firewall_first;
    let mut input = vec![LBF, HC, EXT];
    let forward = vec![LBF, FWD, SVC, EXT];
    let mut output = vec![LBF, SVC];
    if fw_first {
        input.insert(0, "-j KUBE-FIREWALL");
        output.insert(0, "-j KUBE-FIREWALL");
    } else {
        input.push("-j KUBE-FIREWALL");
        output.push("-j KUBE-FIREWALL");
    }
    for (chain, rules) in [("INPUT", input), ("FORWARD", forward), ("OUTPUT", output)] {
        for r in rules {
            filter.top(chain, r);
        }
    }
    nat.top(
        "PREROUTING",
        "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
    );
    nat.top(
        "OUTPUT",
        "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
    );
    nat.top(
        "POSTROUTING",
        "-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
    );
}

/// The three tables kube-proxy and kubelet write on `node` (for node-independent rule
/// sets any node gives the same result).
pub fn rules(
    c: &Cluster,
    eps: &[Vec<Vec<Endpoint>>],
    node: usize,
) -> (TableRules, TableRules, TableRules) {
    let cfg = &c.kube_proxy;
    let mut mangle = TableRules::default();
    let mut filter = TableRules::default();
    let mut nat = TableRules::default();
    for ch in [
        "KUBE-IPTABLES-HINT",
        "KUBE-KUBELET-CANARY",
        "KUBE-PROXY-CANARY",
    ] {
        mangle.chain(ch);
    }
    for ch in [
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FIREWALL",
        "KUBE-FORWARD",
        "KUBE-KUBELET-CANARY",
        "KUBE-NODEPORTS",
        "KUBE-PROXY-CANARY",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SERVICES",
    ] {
        filter.chain(ch);
    }
    for ch in [
        "KUBE-KUBELET-CANARY",
        "KUBE-MARK-MASQ",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-PROXY-CANARY",
        "KUBE-SERVICES",
    ] {
        nat.chain(ch);
    }
    jumps(cfg, &mut filter, &mut nat);
    // kubelet's anti-martian rule (IPv4 only).
    filter.rule(
        "KUBE-FIREWALL",
        "-m comment --comment \"block incoming localnet connections\" --dst 127.0.0.0/8 ! --src 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
    );
    // Static nat chains.
    nat.rule(
        "KUBE-POSTROUTING",
        &format!("-m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN"),
    );
    nat.rule(
        "KUBE-POSTROUTING",
        &format!("-j MARK --xor-mark {MASQ_MARK}"),
    );
    nat.rule(
        "KUBE-POSTROUTING",
        &format!(
            "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE{}",
            if cfg.random_fully {
                " --random-fully"
            } else {
                ""
            }
        ),
    );
    nat.rule("KUBE-MARK-MASQ", &format!("-j MARK --or-mark {MASQ_MARK}"));

    let total_eps: usize = eps.iter().flatten().map(Vec::len).sum();
    let large = total_eps > LARGE_CLUSTER_ENDPOINTS;
    let svc_comment = |args: &mut String, text: &str| {
        if !large {
            let _ = write!(args, " -m comment --comment {text}");
        }
    };
    let local_detect = format!("! -s {}", c.cluster_cidr);
    let is_local = format!("-s {}", c.cluster_cidr);

    for (si, s) in c.services.iter().enumerate() {
        let Some(cip) = s.allocated_ip else {
            continue; // headless: kube-proxy skips it
        };
        for (pi, p) in s.ports.iter().enumerate() {
            let all = &eps[si][pi];
            let proto = p.proto.name();
            let spn = p.spn(s);
            let h = port_proto_hash(&spn, proto);
            let svc_chain = format!("KUBE-SVC-{h}");
            let svl_chain = format!("KUBE-SVL-{h}");
            let ext_chain = format!("KUBE-EXT-{h}");
            let fw_chain = format!("KUBE-FW-{h}");
            let local: Vec<&Endpoint> = all.iter().filter(|e| e.node == node).collect();
            let cluster_eps: Vec<&Endpoint> = all.iter().collect();
            let has_endpoints = !all.is_empty();
            let externally = s.kind != ServiceType::ClusterIp || !s.external_ips.is_empty();
            // UsesClusterEndpoints: Cluster internal policy, or reachable from outside at
            // all (even with ETP Local, the short circuits need the cluster chain).
            let uses_cluster_chain = !cluster_eps.is_empty() && (!s.itp_local || externally);
            let uses_local_chain =
                !local.is_empty() && (s.itp_local || (externally && s.etp_local));
            let (internal_chain, has_internal) = if s.itp_local {
                (svl_chain.clone(), !local.is_empty())
            } else {
                (svc_chain.clone(), has_endpoints)
            };
            let (external_policy_chain, has_external) = if s.etp_local {
                (svl_chain.clone(), !local.is_empty())
            } else {
                (svc_chain.clone(), has_endpoints)
            };
            let uses_ext_chain = has_endpoints && externally;
            let uses_fw = has_endpoints && !s.lb_ips.is_empty() && !s.lb_source_ranges.is_empty();
            let lb_chain = if uses_fw { &fw_chain } else { &ext_chain };
            let (int_target, int_comment, ext_target, ext_comment) = if !has_endpoints {
                let cm = q(&format!("{spn} has no endpoints"));
                ("REJECT", cm.clone(), "REJECT", cm)
            } else {
                let cm = q(&format!("{spn} has no local endpoints"));
                ("DROP", cm.clone(), "DROP", cm)
            };
            let dport = format!("-m {proto} -p {proto}");

            // The cluster IP.
            if has_internal {
                nat.rule(
                    "KUBE-SERVICES",
                    &format!(
                        "-m comment --comment {} {dport} -d {cip} --dport {} -j {internal_chain}",
                        q(&format!("{spn} cluster IP")),
                        p.port
                    ),
                );
            } else {
                filter.rule(
                    "KUBE-SERVICES",
                    &format!(
                        "-m comment --comment {int_comment} {dport} -d {cip} --dport {} -j {int_target}",
                        p.port
                    ),
                );
            }
            // External IPs.
            for eip in &s.external_ips {
                if has_endpoints {
                    nat.rule(
                        "KUBE-SERVICES",
                        &format!(
                            "-m comment --comment {} {dport} -d {eip} --dport {} -j {ext_chain}",
                            q(&format!("{spn} external IP")),
                            p.port
                        ),
                    );
                }
                if !has_external {
                    filter.rule(
                        "KUBE-EXTERNAL-SERVICES",
                        &format!(
                            "-m comment --comment {ext_comment} {dport} -d {eip} --dport {} -j {ext_target}",
                            p.port
                        ),
                    );
                }
            }
            // Load-balancer addresses.
            for lb in &s.lb_ips {
                if has_endpoints {
                    nat.rule(
                        "KUBE-SERVICES",
                        &format!(
                            "-m comment --comment {} {dport} -d {lb} --dport {} -j {lb_chain}",
                            q(&format!("{spn} loadbalancer IP")),
                            p.port
                        ),
                    );
                }
                if uses_fw {
                    filter.rule(
                        "KUBE-PROXY-FIREWALL",
                        &format!(
                            "-m comment --comment {} {dport} -d {lb} --dport {} -j DROP",
                            q(&format!("{spn} traffic not accepted by {fw_chain}")),
                            p.port
                        ),
                    );
                }
            }
            if !has_external {
                for lb in &s.lb_ips {
                    filter.rule(
                        "KUBE-EXTERNAL-SERVICES",
                        &format!(
                            "-m comment --comment {ext_comment} {dport} -d {lb} --dport {} -j {ext_target}",
                            p.port
                        ),
                    );
                }
            }
            // Node ports.
            if let Some(np) = p.node_port {
                if has_endpoints {
                    if cfg.localhost_nodeports && cfg.nfacct {
                        nat.rule(
                            "KUBE-NODEPORTS",
                            &format!(
                                "-m comment --comment {spn} {dport} -d 127.0.0.0/8 --dport {np} -m nfacct --nfacct-name localhost_nps_accepted_pkts -j {ext_chain}"
                            ),
                        );
                    }
                    nat.rule(
                        "KUBE-NODEPORTS",
                        &format!("-m comment --comment {spn} {dport} --dport {np} -j {ext_chain}"),
                    );
                }
                if !has_external {
                    filter.rule(
                        "KUBE-EXTERNAL-SERVICES",
                        &format!(
                            "-m comment --comment {ext_comment} -m addrtype --dst-type LOCAL {dport} --dport {np} -j {ext_target}"
                        ),
                    );
                }
            }
            // Health check node port (written once per service port, as kube-proxy does).
            if let Some(hc) = s.health_check_node_port.filter(|_| s.etp_local) {
                filter.rule(
                    "KUBE-NODEPORTS",
                    &format!(
                        "-m comment --comment {} -m tcp -p tcp --dport {hc} -j ACCEPT",
                        q(&format!("{spn} health check node port"))
                    ),
                );
            }
            // Internal traffic: masquerade what does not come from a pod.
            if has_internal {
                let args = format!(
                    "-m comment --comment {} {dport} -d {cip} --dport {}",
                    q(&format!("{spn} cluster IP")),
                    p.port
                );
                if cfg.masquerade_all {
                    nat.rule(&internal_chain, &format!("{args} -j KUBE-MARK-MASQ"));
                } else {
                    nat.rule(
                        &internal_chain,
                        &format!("{args} {local_detect} -j KUBE-MARK-MASQ"),
                    );
                }
            }
            // External traffic.
            if uses_ext_chain {
                nat.chain(&ext_chain);
                if !s.etp_local {
                    nat.rule(
                        &ext_chain,
                        &format!(
                            "-m comment --comment {} -j KUBE-MARK-MASQ",
                            q(&format!(
                                "masquerade traffic for {spn} external destinations"
                            ))
                        ),
                    );
                } else {
                    nat.rule(
                        &ext_chain,
                        &format!(
                            "-m comment --comment {} {is_local} -j {svc_chain}",
                            q(&format!("pod traffic for {spn} external destinations"))
                        ),
                    );
                    nat.rule(
                        &ext_chain,
                        &format!(
                            "-m comment --comment {} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
                            q(&format!("masquerade LOCAL traffic for {spn} external destinations"))
                        ),
                    );
                    nat.rule(
                        &ext_chain,
                        &format!(
                            "-m comment --comment {} -m addrtype --src-type LOCAL -j {svc_chain}",
                            q(&format!(
                                "route LOCAL traffic for {spn} external destinations"
                            ))
                        ),
                    );
                }
                if has_external {
                    nat.rule(&ext_chain, &format!("-j {external_policy_chain}"));
                }
            }
            // Load-balancer source ranges.
            if uses_fw {
                nat.chain(&fw_chain);
                let args = format!(
                    "-m comment --comment {}",
                    q(&format!("{spn} loadbalancer IP"))
                );
                let mut allow_from_node = false;
                for r in &s.lb_source_ranges {
                    nat.rule(&fw_chain, &format!("{args} -s {r} -j {ext_chain}"));
                    if r.contains(&c.nodes[node].ip.addr()) {
                        allow_from_node = true;
                    }
                }
                if allow_from_node {
                    for lb in &s.lb_ips {
                        nat.rule(&fw_chain, &format!("{args} -s {lb} -j {ext_chain}"));
                    }
                }
                nat.rule(
                    &fw_chain,
                    &format!(
                        "-m comment --comment {}",
                        q(&format!(
                            "other traffic to {spn} will be dropped by KUBE-PROXY-FIREWALL"
                        ))
                    ),
                );
            }
            // Endpoint selection.
            let mut to_endpoints = |chain: &str, list: &[&Endpoint]| {
                nat.chain(chain);
                let n = list.len();
                for (i, ep) in list.iter().enumerate() {
                    let mut args = format!("-A {chain}");
                    svc_comment(&mut args, &q(&format!("{spn} -> {}", ep.text)));
                    if i + 1 < n {
                        let _ = write!(
                            args,
                            " -m statistic --mode random --probability {}",
                            probability(n - i)
                        );
                    }
                    let _ = write!(args, " -j {}", endpoint_chain(&spn, proto, &ep.text));
                    nat.raw(args);
                }
            };
            if uses_cluster_chain {
                to_endpoints(&svc_chain, &cluster_eps);
            }
            if uses_local_chain {
                to_endpoints(&svl_chain, &local);
            }
            // Per-endpoint chains (the locally reachable endpoints): hairpin masquerade,
            // then DNAT.
            let reachable: Vec<&Endpoint> = if uses_cluster_chain {
                cluster_eps.clone()
            } else {
                local.clone()
            };
            for ep in reachable {
                let chain = endpoint_chain(&spn, proto, &ep.text);
                nat.chain(&chain);
                let mut args = format!("-A {chain}");
                svc_comment(&mut args, &spn);
                nat.raw(format!("{args} -s {} -j KUBE-MARK-MASQ", ep.ip));
                nat.raw(format!(
                    "{args} -m {proto} -p {proto} -j DNAT --to-destination {}",
                    ep.text
                ));
            }
        }
    }
    nat.rule(
        "KUBE-SERVICES",
        "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
    );
    // KUBE-FORWARD.
    if cfg.nfacct {
        filter.rule(
            "KUBE-FORWARD",
            "-m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP",
        );
    } else {
        filter.rule("KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP");
    }
    filter.rule(
        "KUBE-FORWARD",
        &format!(
            "-m comment --comment \"kubernetes forwarding rules\" -m mark --mark {MASQ_MARK}/{MASQ_MARK} -j ACCEPT"
        ),
    );
    filter.rule(
        "KUBE-FORWARD",
        "-m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    );
    (mangle, filter, nat)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn chain_hashes_match_real_nodes() {
        // SYSTEM_RULES.md §1.3: names recomputed from real dumps.
        assert_eq!(
            port_proto_hash("kube-system/kube-dns:dns", "udp"),
            "TCOU7JCQXEZGVUNU"
        );
        assert_eq!(
            port_proto_hash("kube-system/kube-dns:dns-tcp", "tcp"),
            "ERIFXISQEP7F7OF4"
        );
        assert_eq!(
            port_proto_hash("default/kubernetes:https", "tcp"),
            "NPX46M4PTMTKRN6Y"
        );
        assert_eq!(port_proto_hash("ns1/svc1:p80", "tcp"), "XPGD46QRK7WJZT7O");
        assert_eq!(port_proto_hash("default/nginx", "tcp"), "2CMXP7HKUVJN7L6M");
        assert_eq!(
            endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80"),
            "KUBE-SEP-SXIVWICOYRO3J4NJ"
        );
    }

    #[test]
    fn probabilities_as_kube_proxy_writes_them() {
        assert_eq!(probability(3), "0.3333333333");
        assert_eq!(probability(2), "0.5000000000");
        assert_eq!(probability(5), "0.2000000000");
    }
}
