//! Kubernetes clusters from a spec (docs/cluster.md): a file with a top-level `cluster:`
//! key lists nodes, the CNI, pods, Deployments and Services, and hopsim builds what kubelet,
//! the CNI plugin and kube-proxy (iptables mode) would build on every node: the pods'
//! network namespaces (one per pod, shared by its containers as the pause container's),
//! veth pairs, tunnels, routes, sysctls and the iptables rules, exactly as a real node's
//! `iptables-save` prints them.
//!
//! The stages, one module each: [`spec`] reads and checks the file (located errors),
//! [`ipam`] allocates blocks, pod addresses, cluster IPs and node ports, [`cni`] wires pods
//! and nodes ([`cni::calico`], [`cni::bridge_routes`]), [`kube_proxy`] writes the service
//! rules, [`rules`] merges rule sets into restore texts, and [`plan`] is the compiled
//! topology, which loads through the ordinary YAML loader (so `hopsim compile` prints
//! exactly what the other commands simulate). Identical rule tables are parsed once (the
//! distinct ones in parallel) and shared between nodes.

pub mod cni;
pub mod dns;
pub mod hash;
pub mod ingress;
pub mod ipam;
pub mod kube_proxy;
pub mod model;
pub mod plan;
pub mod rules;
mod spec;

use crate::format::{yaml, Expect, LoadError, LoadOptions, Topology};
use crate::netfilter::{save, Table, TableName};
use model::*;
use plan::{IfPlan, MachinePlan, NsPlan, Plan};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

/// Whether a YAML text is a cluster file: it has a top-level `cluster:` key.
pub fn is_cluster_text(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("cluster:")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '#']))
    })
}

/// A compiled cluster: the validated cluster with everything allocated, and the topology.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The cluster, as the API server would hold it.
    pub cluster: Cluster,
    /// The topology.
    pub plan: Plan,
    /// The file's expectations.
    pub expects: Vec<Expect>,
    /// The `expect:` section as written, for `hopsim compile`.
    pub expect_text: Option<String>,
}

/// The name of a pod's network namespace on its node: the pod's name, or
/// `NAMESPACE.POD` when two pods of that name run on the node.
pub fn pod_ns_name(c: &Cluster, p: &Pod) -> String {
    // `clashing_names` holds the pairs more than one pod has (a lookup, not a walk over
    // every pod: this is asked once per pod).
    let clash = c
        .clashing_names
        .iter()
        .next()
        .is_some_and(|_| c.clashing_names.contains(&(p.node, p.name.clone())));
    if clash {
        format!("{}.{}", p.namespace, p.name)
    } else {
        p.name.clone()
    }
}

/// A pod's network namespace as the CNI leaves it (the pause container's, shared by every
/// container): `lo`, `eth0` (the veth whose host end is `host_dev` on `node`) with `addr`,
/// and the containers' listening sockets. The CNI adds the routes.
pub(crate) fn pod_namespace(
    p: &Pod,
    node: &str,
    host_dev: &str,
    addr: String,
    mtu: Option<u32>,
) -> plan::NsPlan {
    let containers: Vec<&str> = p.containers.iter().map(|c| c.name.as_str()).collect();
    let mut ns = plan::NsPlan {
        comment: Some(format!(
            "pod {}/{} ({}): one network namespace, the pause container's",
            p.namespace,
            p.name,
            containers.join(", ")
        )),
        ..plan::NsPlan::default()
    };
    ns.interfaces.push(plan::IfPlan {
        name: "lo".into(),
        ..plan::IfPlan::default()
    });
    ns.interfaces.push(plan::IfPlan {
        name: "eth0".into(),
        veth: Some(format!("{node}/{host_dev}")),
        addrs: vec![addr],
        mtu,
        ..plan::IfPlan::default()
    });
    ns.listen = pod_listeners(p);
    ns
}

/// A pod's listening sockets: every container port, in the pod's one namespace.
pub fn pod_listeners(p: &Pod) -> Vec<String> {
    p.containers
        .iter()
        .flat_map(|c| {
            c.ports
                .iter()
                .map(move |cp| format!("{} {} {}", cp.proto.name(), cp.port, c.name))
        })
        .collect()
}

fn parse_error(file: &str, e: serde_saphyr::Error) -> LoadError {
    crate::format::saphyr_error(file, &e, |first| {
        if first.contains("unknown field") {
            "see docs/cluster.md for the keys each section takes"
        } else if first.contains("did not match any variant") {
            "a port is a number, or a mapping such as {name: http, port: 80, target-port: 8080}"
        } else {
            "check the indentation and the value's type against docs/cluster.md"
        }
    })
}

/// The `expect:` section of the file as written (to copy into the compiled topology).
fn expect_section(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("expect:"))?;
    let mut end = lines.len();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        if !l.is_empty() && !l.starts_with([' ', '-', '#', '\t']) {
            end = i;
            break;
        }
    }
    Some(lines[start..end].join("\n") + "\n")
}

/// Read, check and compile a cluster file.
pub fn compile(path: &Path, text: &str) -> Result<Compiled, LoadError> {
    let file = path.display().to_string();
    let f: spec::FileSpec = serde_saphyr::from_str(text).map_err(|e| parse_error(&file, e))?;
    let mut expects = Vec::new();
    for e in &f.expect {
        let (line, col) = (e.referenced.line() as usize, e.referenced.column() as usize);
        expects.push(e.value.clone().resolve(&file, line, col)?);
    }
    let cx = spec::Ctx { file: &file };
    let mut c = spec::resolve(&cx, f)?;
    if c.kubernetes_service
        && !c
            .services
            .iter()
            .any(|s| s.namespace == "default" && s.name == "kubernetes")
    {
        let ip = Ipv4Addr::from(u32::from(c.service_cidr.network()) + 1);
        c.services.insert(
            0,
            Service {
                namespace: "default".into(),
                name: "kubernetes".into(),
                kind: ServiceType::ClusterIp,
                cluster_ip: ClusterIp::Fixed(ip, 0, 0),
                allocated_ip: None,
                selector: Default::default(),
                ports: vec![ServicePort {
                    name: Some("https".into()),
                    port: 443,
                    target: Target::Number(6443),
                    proto: Protocol::Tcp,
                    node_port: None,
                    line: 0,
                    column: 0,
                }],
                etp_local: false,
                itp_local: false,
                lb_ips: vec![],
                lb_source_ranges: vec![],
                external_ips: vec![],
                health_check_node_port: None,
                announced_by: None,
                line: 0,
            },
        );
    }
    dns::add_objects(&file, &mut c)?;
    c.clashing_names = Cluster::clashing_pod_names(&c.pods);
    ipam::allocate(&file, &mut c)?;
    let plan = build_plan(&file, &c)?;
    Ok(Compiled {
        cluster: c,
        plan,
        expects,
        expect_text: expect_section(text),
    })
}

/// A LAN of the underlay: its prefix, its switch, its gateway.
struct Lan {
    net: ipnet::Ipv4Net,
    switch: String,
    gateway: Ipv4Addr,
}

fn lans(file: &str, c: &Cluster) -> Result<Vec<Lan>, LoadError> {
    let mut out: Vec<Lan> = Vec::new();
    let members = c
        .nodes
        .iter()
        .map(|n| (n.ip, n.gateway, n.line))
        .chain(c.externals.iter().map(|e| (e.ip, e.gateway, 0)));
    for (ip, gw, line) in members {
        let net = ip.trunc();
        match out.iter_mut().find(|l| l.net == net) {
            Some(l) => {
                if let Some(g) = gw {
                    if g != l.gateway {
                        return Err(LoadError::at(
                            file,
                            line,
                            0,
                            format!(
                                "gateway {g} differs from {} given for {net} earlier",
                                l.gateway
                            ),
                        )
                        .hint("one router address per LAN"));
                    }
                }
            }
            None => {
                let gateway = gw.unwrap_or_else(|| Ipv4Addr::from(u32::from(net.network()) + 1));
                let switch = format!("lan{}", out.len() + 1);
                out.push(Lan {
                    net,
                    switch,
                    gateway,
                });
            }
        }
    }
    Ok(out)
}

/// The rule texts of one node, per table, shared between nodes with identical rules.
#[derive(Default)]
struct RuleCache {
    mangle: Option<Arc<String>>,
    nat: HashMap<Option<usize>, Arc<String>>,
    filter: HashMap<Option<usize>, Arc<String>>,
    /// kube-proxy's rules (mangle, filter, nat), per node when they depend on it.
    kube: HashMap<Option<usize>, Arc<KubeRules>>,
}

type KubeRules = (rules::TableRules, rules::TableRules, rules::TableRules);

fn build_plan(file: &str, c: &Cluster) -> Result<Plan, LoadError> {
    let lans = lans(file, c)?;
    // Every LAN has a gateway, a router joining the LANs: nodes always have a default
    // route (kubeadm needs one, and Calico's proxy ARP for 169.254.1.1 needs a route to
    // it, `arp_fwd_proxy`).
    for l in &lans {
        let clash = c
            .nodes
            .iter()
            .map(|n| (n.ip.addr(), n.line))
            .chain(c.externals.iter().map(|e| (e.ip.addr(), 0)))
            .find(|(a, _)| *a == l.gateway);
        if let Some((a, line)) = clash {
            return Err(LoadError::at(
                file,
                line,
                0,
                format!(
                    "{a} is the router's address on {} (the first address of the LAN)",
                    l.net
                ),
            )
            .hint("give the nodes of that LAN a `gateway:` that no machine uses"));
        }
    }
    let lan_of = |ip: ipnet::Ipv4Net| lans.iter().find(|l| l.net == ip.trunc()).expect("lan");
    let eps = kube_proxy::endpoints(c);
    let per_node = kube_proxy::node_dependent(c);
    let mut cache = RuleCache::default();
    let mut plan = Plan {
        name: c.name.clone(),
        source: c.source.clone(),
        about: c.about.clone(),
        ..Plan::default()
    };
    plan.header = header(c, &eps);
    let mut router_routes: Vec<String> = Vec::new();
    // What the CNI builds on each node (and the pods' programs), the nodes in parallel.
    let nets: Vec<cni::NodeNet> = {
        use rayon::prelude::*;
        (0..c.nodes.len())
            .into_par_iter()
            .map(|n| {
                let mut net = cni::node(c, n);
                let on_node: HashMap<String, &Pod> = c
                    .pods
                    .iter()
                    .filter(|p| p.node == n)
                    .map(|p| (pod_ns_name(c, p), p))
                    .collect();
                for (name, ns) in net.pods.iter_mut() {
                    if let Some(p) = on_node.get(name.as_str()) {
                        ns.http = ingress::pod_http(c, &eps, p);
                    }
                }
                net
            })
            .collect()
    };
    for ((n, node), mut net) in c.nodes.iter().enumerate().zip(nets) {
        let lan = lan_of(node.ip);
        let mut root = NsPlan::default();
        root.interfaces.push(IfPlan {
            name: "lo".into(),
            ..IfPlan::default()
        });
        root.interfaces.push(IfPlan {
            name: "eth0".into(),
            cable: Some(lan.switch.clone()),
            addrs: vec![node.ip.to_string()],
            mac: node.mac.map(|m| m.to_string()),
            mtu: (c.mtu != 1500).then_some(c.mtu),
            ..IfPlan::default()
        });
        root.interfaces.extend(net.root.interfaces);
        root.routes
            .push(format!("default via {} dev eth0", lan.gateway));
        root.routes.extend(net.root.routes);
        root.neigh.extend(net.root.neigh);
        root.sysctl.push(("net.ipv4.ip_forward".into(), "1".into()));
        root.sysctl.extend(net.root.sysctl);
        root.ipsets.extend(net.root.ipsets);
        if node.role == Role::ControlPlane {
            root.listen.push("tcp 6443 kube-apiserver".into());
        }
        root.listen.push("tcp 10250 kubelet".into());
        dns::fill_node(c, n, &mut root, &mut net.pods);
        for s in c.services.iter().filter(|s| s.announcer(c) == Some(n)) {
            for ip in &s.lb_ips {
                root.arp_responders
                    .push(format!("eth0 {ip} metallb-speaker"));
            }
        }
        router_routes.extend(net.router_routes);
        // Rules: the CNI's above kube-proxy's (Calico inserts its jumps at the top).
        let key = per_node.then_some(n);
        let mut kp = None;
        // kube-proxy writes the same rules on every node unless a traffic policy is
        // Local: computed once (a node whose CNI filter rules are its own still shares
        // them).
        let kube_cache = &mut cache.kube;
        let mut kube = || {
            Arc::clone(
                kube_cache
                    .entry(key)
                    .or_insert_with(|| Arc::new(kube_proxy::rules(c, &eps, n))),
            )
        };
        let mangle = match &cache.mangle {
            Some(m) => Arc::clone(m),
            None => {
                let r = kp.get_or_insert_with(&mut kube);
                let m = Arc::new(rules::restore_text(TableName::Mangle, &[&r.0]));
                cache.mangle = Some(Arc::clone(&m));
                m
            }
        };
        let cni_filter_empty = net.filter.is_empty();
        let filter = match cache.filter.get(&key).filter(|_| cni_filter_empty) {
            Some(f) => Arc::clone(f),
            None => {
                let r = kp.get_or_insert_with(&mut kube);
                let f = Arc::new(rules::restore_text(TableName::Filter, &[&net.filter, &r.1]));
                if cni_filter_empty {
                    cache.filter.insert(key, Arc::clone(&f));
                }
                f
            }
        };
        let nat_key = (per_node || net.nat_per_node).then_some(n);
        let nat = match cache.nat.get(&nat_key) {
            Some(t) => Arc::clone(t),
            None => {
                let r = kp.get_or_insert_with(&mut kube);
                let parts: Vec<&rules::TableRules> = net.nat.iter().chain([&r.2]).collect();
                let t = Arc::new(rules::restore_text(TableName::Nat, &parts));
                cache.nat.insert(nat_key, Arc::clone(&t));
                t
            }
        };
        root.iptables = vec![mangle, filter, nat];
        plan.machines.push(MachinePlan {
            name: node.name.clone(),
            comment: Some(format!(
                "node {} ({}), pods {} ({})",
                node.name,
                match node.role {
                    Role::ControlPlane => "control plane",
                    Role::Worker => "worker",
                },
                node.pod_cidr.expect("allocated"),
                c.cni.name()
            )),
            root,
            namespaces: net.pods,
        });
    }
    for e in &c.externals {
        let lan = lan_of(e.ip);
        let mut root = NsPlan::default();
        root.interfaces.push(IfPlan {
            name: "lo".into(),
            ..IfPlan::default()
        });
        root.interfaces.push(IfPlan {
            name: "eth0".into(),
            cable: Some(lan.switch.clone()),
            addrs: vec![e.ip.to_string()],
            ..IfPlan::default()
        });
        root.routes.push(format!(
            "default via {} dev eth0",
            e.gateway.unwrap_or(lan.gateway)
        ));
        root.listen = e.listen.clone();
        root.dns_server = e.dns_server.clone();
        plan.machines.push(MachinePlan {
            name: e.name.clone(),
            comment: Some("outside the cluster".into()),
            root,
            namespaces: vec![],
        });
    }
    {
        let name = c.router.clone().unwrap_or_else(|| "router".into());
        let mut root = NsPlan::default();
        for (i, l) in lans.iter().enumerate() {
            root.interfaces.push(IfPlan {
                name: format!("eth{i}"),
                cable: Some(l.switch.clone()),
                addrs: vec![format!("{}/{}", l.gateway, l.net.prefix_len())],
                ..IfPlan::default()
            });
        }
        root.sysctl.push(("net.ipv4.ip_forward".into(), "1".into()));
        root.routes = router_routes;
        plan.machines.push(MachinePlan {
            name,
            comment: Some("the router between the LANs".into()),
            root,
            namespaces: vec![],
        });
    }
    plan.switches = lans.iter().map(|l| l.switch.clone()).collect();
    Ok(plan)
}

/// The header of the compiled topology: what `kubectl get` would list.
fn header(c: &Cluster, eps: &[Vec<Vec<kube_proxy::Endpoint>>]) -> Vec<String> {
    let mut h = vec![
        format!(
            "Compiled by hopsim from the cluster \"{}\" ({}).",
            c.name,
            c.cni.name()
        ),
        String::new(),
        "NODE            INTERNAL-IP       POD-CIDR".into(),
    ];
    for n in &c.nodes {
        h.push(format!(
            "{:<15} {:<17} {}",
            n.name,
            n.ip.addr().to_string(),
            n.pod_cidr.map(|b| b.to_string()).unwrap_or_default()
        ));
    }
    if !c.pods.is_empty() {
        h.push(String::new());
        h.push("NAMESPACE   POD                                  IP                NODE".into());
        for p in &c.pods {
            h.push(format!(
                "{:<11} {:<36} {:<17} {}",
                p.namespace,
                p.name,
                p.ip.to_string(),
                c.nodes[p.node].name
            ));
        }
    }
    h.push(String::new());
    h.push("NAMESPACE   SERVICE              TYPE          CLUSTER-IP        PORT(S)            ENDPOINTS".into());
    for (si, s) in c.services.iter().enumerate() {
        let ports: Vec<String> = s
            .ports
            .iter()
            .map(|p| match p.node_port {
                Some(np) => format!("{}:{np}/{}", p.port, p.proto.name().to_uppercase()),
                None => format!("{}/{}", p.port, p.proto.name().to_uppercase()),
            })
            .collect();
        let e: Vec<String> = eps[si]
            .first()
            .map(|v| v.iter().map(|e| e.text.clone()).collect())
            .unwrap_or_default();
        h.push(format!(
            "{:<11} {:<20} {:<13} {:<17} {:<18} {}",
            s.namespace,
            s.name,
            match s.kind {
                ServiceType::ClusterIp => "ClusterIP",
                ServiceType::NodePort => "NodePort",
                ServiceType::LoadBalancer => "LoadBalancer",
            },
            s.allocated_ip
                .map(|a| a.to_string())
                .unwrap_or_else(|| "None".into()),
            ports.join(","),
            if e.is_empty() {
                "<none>".into()
            } else {
                e.join(",")
            }
        ));
    }
    h
}

/// A compiled topology the loader refused: the compiler's fault.
fn not_loaded(file: &str, e: LoadError) -> LoadError {
    LoadError::at(
        file,
        0,
        0,
        format!(
            "the compiled topology did not load (a hopsim bug): {}",
            e.message
        ),
    )
    .hint("please report it with the cluster file; `hopsim compile` shows the topology")
}

/// Read each distinct rule text (with the IP sets of a namespace that has it), the texts
/// in parallel: `then` of the tables each one names, in its order.
fn read_rule_texts<T: Send>(
    file: &str,
    distinct: &[(&str, crate::netfilter::ipset::IpSets)],
    then: impl Fn(Vec<Arc<Table>>) -> T + Sync,
) -> Result<Vec<T>, LoadError> {
    use rayon::prelude::*;
    let read: Vec<Result<T, LoadError>> = distinct
        .par_iter()
        .map(|(text, sets)| {
            let nf = save::parse_restore_with_sets(text, sets).map_err(|e| {
                let line = text.lines().nth(e.line.saturating_sub(1)).unwrap_or("");
                LoadError::at(
                    file,
                    0,
                    0,
                    format!(
                        "the compiled rules did not load (a hopsim bug): {} at `{line}`",
                        e.msg
                    ),
                )
            })?;
            Ok(then(
                save::restore_table_names(text)
                    .into_iter()
                    .map(|t| nf.shared_table(t))
                    .collect(),
            ))
        })
        .collect();
    read.into_iter().collect()
}

/// The IP sets of a namespace of the plan, as the loader creates them (`ipset create`,
/// `ipset add`), for reading its rules without building the world.
fn plan_ipsets(ns: &NsPlan) -> Result<crate::netfilter::ipset::IpSets, String> {
    let mut nf = crate::netfilter::Netfilter::default();
    for set in &ns.ipsets {
        crate::netfilter::ipset::run(&mut nf, &["create", &set.name, set.kind])
            .map_err(|e| e.msg)?;
        for m in &set.members {
            crate::netfilter::ipset::run(&mut nf, &["add", &set.name, m]).map_err(|e| e.msg)?;
        }
    }
    Ok(nf.ipsets)
}

/// Load a cluster file: compile it, load the topology, install the rule tables (each
/// distinct table parsed once and shared), and name the pods for `--from`.
pub fn load_cluster(path: &Path, text: &str, opts: LoadOptions) -> Result<Topology, LoadError> {
    let compiled = compile(path, text)?;
    load_compiled(path, &compiled, opts)
}

/// Build the world of a compiled cluster.
pub fn load_compiled(
    path: &Path,
    compiled: &Compiled,
    opts: LoadOptions,
) -> Result<Topology, LoadError> {
    let file = path.display().to_string();
    let mut topo = yaml::load_plan(path, &compiled.plan, opts).map_err(|e| not_loaded(&file, e))?;
    // Each distinct rule text (the same `Arc`) is read once, with the sets of the first
    // namespace that has it (every node sharing a text has the same `ipsets:`), the
    // distinct texts in parallel; then every namespace gets the tables of its texts.
    let mut installs: Vec<(usize, usize)> = Vec::new();
    let mut index: HashMap<*const String, usize> = HashMap::new();
    let mut distinct: Vec<(&str, crate::netfilter::ipset::IpSets)> = Vec::new();
    for m in &compiled.plan.machines {
        if m.root.iptables.is_empty() {
            continue;
        }
        let ns = topo
            .world
            .resolve_ns(&m.name)
            .map_err(|e| LoadError::at(&file, 0, 0, e))?;
        for text in &m.root.iptables {
            let i = *index.entry(Arc::as_ptr(text)).or_insert_with(|| {
                let sets = topo.world.netns[ns].netfilter.ipsets.clone();
                distinct.push((text.as_str(), sets));
                distinct.len() - 1
            });
            installs.push((ns, i));
        }
    }
    let tables = read_rule_texts(&file, &distinct, |tables| tables)?;
    for (ns, i) in installs {
        for t in &tables[i] {
            topo.world.netns[ns]
                .netfilter
                .set_shared_table(Arc::clone(t));
        }
    }
    // `--from NAMESPACE/POD` (and `NODE/POD`, which the loader already knows).
    // One map of the machines' namespaces: resolving each pod's name in turn walks every
    // namespace (quadratic in a cluster of thousands of pods).
    let by_name: std::collections::HashMap<(&str, &str), usize> = topo
        .world
        .live_netns()
        .filter(|(_, n)| !n.is_root)
        .map(|(id, n)| {
            let host = topo.world.hosts[n.host].name.as_str();
            ((host, n.local_name.as_str()), id)
        })
        .collect();
    let mut aliases = Vec::with_capacity(compiled.cluster.pods.len());
    for p in &compiled.cluster.pods {
        let node = compiled.cluster.nodes[p.node].name.as_str();
        let local = pod_ns_name(&compiled.cluster, p);
        if let Some(ns) = by_name.get(&(node, local.as_str())) {
            aliases.push((format!("{}/{}", p.namespace, p.name), *ns));
        }
    }
    std::sync::Arc::make_mut(&mut topo.world.ns_aliases).extend(aliases);
    topo.expects = compiled.expects.clone();
    topo.source = compiled.cluster.source.clone();
    topo.about = compiled.cluster.about.clone();
    Ok(topo)
}

/// `hopsim compile`: the topology as YAML, with every node's rules as its
/// `iptables-save` prints them.
///
/// The same checks as [`load_compiled`], in the same order (the topology loads, then each
/// rule text reads), without keeping the world: the world is built only to be checked,
/// while the rule texts are read (in parallel with it), and the tables printed are the
/// ones read, as [`compiled_yaml`] prints them from a loaded world.
pub fn compile_to_yaml(path: &Path, text: &str) -> Result<String, LoadError> {
    compiled_to_yaml(path, compile(path, text)?)
}

/// [`compile_to_yaml`] of a compiled cluster.
fn compiled_to_yaml(path: &Path, mut compiled: Compiled) -> Result<String, LoadError> {
    let file = path.display().to_string();
    let (loaded, printed) = rayon::join(
        || {
            yaml::load_plan(path, &compiled.plan, LoadOptions::default())
                .map(drop)
                .map_err(|e| not_loaded(&file, e))
        },
        || print_rule_texts(&file, &compiled.plan),
    );
    loaded?;
    for (mi, texts) in printed? {
        compiled.plan.machines[mi].root.iptables = texts;
    }
    Ok(plan_yaml(&compiled, &compiled.plan))
}

/// A machine (its index in the plan) and its rule texts.
type MachineTexts = (usize, Vec<Arc<String>>);

/// Each machine's tables as `iptables-save` prints them, one text per table, read from
/// the plan's rule texts: `(machine, texts)`. A text shared by machines is read once and
/// its tables printed once (the distinct ones in parallel), and the texts printed are
/// shared as the plan's were.
fn print_rule_texts(file: &str, plan: &Plan) -> Result<Vec<MachineTexts>, LoadError> {
    let mut index: HashMap<*const String, usize> = HashMap::new();
    let mut distinct: Vec<(&str, crate::netfilter::ipset::IpSets)> = Vec::new();
    let mut texts_of: Vec<(usize, Vec<usize>)> = Vec::new();
    for (mi, m) in plan.machines.iter().enumerate() {
        if m.root.iptables.is_empty() {
            continue;
        }
        let mut texts = Vec::new();
        for text in &m.root.iptables {
            let i = match index.get(&Arc::as_ptr(text)) {
                Some(i) => *i,
                None => {
                    let sets = plan_ipsets(&m.root).map_err(|e| {
                        LoadError::at(
                            file,
                            0,
                            0,
                            format!("the compiled IP sets did not load (a hopsim bug): {e}"),
                        )
                    })?;
                    distinct.push((text.as_str(), sets));
                    index.insert(Arc::as_ptr(text), distinct.len() - 1);
                    distinct.len() - 1
                }
            };
            texts.push(i);
        }
        texts_of.push((mi, texts));
    }
    // Each text's tables printed as soon as read (the tables are not kept): a table
    // that does not exist (empty) is not printed.
    let printed = read_rule_texts(file, &distinct, |tables| {
        tables
            .into_iter()
            .map(|t| {
                let text = save::table_exists(&t).then(|| {
                    let mut s = String::new();
                    save::write_table(&mut s, &t, false);
                    Arc::new(s)
                });
                (t.name, text)
            })
            .collect::<Vec<_>>()
    })?;
    // A machine's table of each name is the one of its last text naming it (each text
    // replaces the tables it names, as iptables-restore does), in the save order.
    Ok(texts_of
        .into_iter()
        .map(|(mi, texts)| {
            let mut by_name: [Option<&Option<Arc<String>>>; 4] = [None; 4];
            for (name, text) in texts.iter().flat_map(|&i| &printed[i]) {
                by_name[*name as usize] = Some(text);
            }
            let shown = save::SAVE_ORDER
                .into_iter()
                .filter_map(|n| by_name[n as usize].cloned().flatten())
                .collect();
            (mi, shown)
        })
        .collect())
}

/// The text of `hopsim compile`: the plan, with the rules of each node as loaded in
/// `world` (the world of [`load_compiled`]), as `iptables-save` prints them.
pub fn compiled_yaml(compiled: &Compiled, world: &crate::model::World) -> String {
    let mut plan = compiled.plan.clone();
    // Each node's tables as `iptables-save` prints them, one text per table: a table
    // shared by nodes is printed once (the distinct ones in parallel), and the plan's
    // writer shares its text.
    let mut index: HashMap<*const Table, usize> = HashMap::new();
    let mut distinct: Vec<(usize, TableName)> = Vec::new();
    let mut uses: Vec<(usize, Vec<usize>)> = Vec::new();
    for (mi, m) in plan.machines.iter().enumerate() {
        if m.root.iptables.is_empty() {
            continue;
        }
        if let Ok(ns) = world.resolve_ns(&m.name) {
            let nf = &world.netns[ns].netfilter;
            let tables = save::SAVE_ORDER
                .into_iter()
                .filter(|t| save::table_exists(&nf.counted(*t)))
                .map(|t| {
                    *index
                        .entry(Arc::as_ptr(&nf.shared_table(t)))
                        .or_insert_with(|| {
                            distinct.push((ns, t));
                            distinct.len() - 1
                        })
                })
                .collect();
            uses.push((mi, tables));
        }
    }
    let printed: Vec<Arc<String>> = {
        use rayon::prelude::*;
        distinct
            .par_iter()
            .map(|(ns, t)| Arc::new(save::render_save(&world.netns[*ns].netfilter, Some(*t))))
            .collect()
    };
    for (mi, tables) in uses {
        plan.machines[mi].root.iptables = tables.iter().map(|&i| Arc::clone(&printed[i])).collect();
    }
    plan_yaml(compiled, &plan)
}

/// The compiled topology's YAML: `plan` (the compiled plan with the printed rules) and
/// the file's expectations.
fn plan_yaml(compiled: &Compiled, plan: &Plan) -> String {
    // A plain topology knows pods by NODE/POD only: rewrite NAMESPACE/POD in the
    // expectations' `FROM ->` and `NS: COMMAND` positions.
    let expect = compiled.expect_text.as_ref().map(|e| {
        let mut e = e.clone();
        for p in &compiled.cluster.pods {
            let alias = format!("{}/{}", p.namespace, p.name);
            // Most pods are not named in the expectations: their six rewrites (each a
            // copy of the whole text) are skipped.
            if !e.contains(&alias) {
                continue;
            }
            let real = format!(
                "{}/{}",
                compiled.cluster.nodes[p.node].name,
                pod_ns_name(&compiled.cluster, p)
            );
            for (a, b) in [(" ->", " ->"), (": ", ": ")] {
                for lead in [" ", "\"", "'"] {
                    e = e.replace(&format!("{lead}{alias}{a}"), &format!("{lead}{real}{b}"));
                }
            }
        }
        e
    });
    plan.to_yaml(expect.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = "name: t\ncluster:\n  cni: calico-ipip\n  cluster-cidr: 10.0.0.0/16\n  nodes:\n    n0: { ip: 192.168.1.10/24 }\n    n1: { ip: 192.168.1.11/24 }\n  deployments:\n    - { name: web, replicas: 2, labels: { app: web }, containers: [{ name: c, ports: [8080] }] }\n  services:\n    - { name: web, selector: { app: web }, ports: [{ port: 80, target-port: 8080 }] }\n";

    fn compiled() -> Compiled {
        compile(Path::new("t.yaml"), CLUSTER).unwrap_or_else(|e| panic!("{e}"))
    }

    /// What `hopsim compile` printed before it stopped keeping the world: the tables
    /// printed from the loaded world.
    fn from_world(c: &Compiled) -> Result<String, LoadError> {
        let topo = load_compiled(Path::new("t.yaml"), c, LoadOptions::default())?;
        Ok(compiled_yaml(c, &topo.world))
    }

    #[test]
    fn compile_prints_the_tables_the_world_has() {
        let c = compiled();
        let text = compiled_to_yaml(Path::new("t.yaml"), c.clone()).expect("compiles");
        assert_eq!(text, from_world(&c).expect("loads"));
        assert!(text.contains("\n  nat: |\n"), "{text}");
    }

    /// A compiled topology that would not load, or rules that would not read, fail
    /// `hopsim compile` with the error loading gives (the loader's first).
    #[test]
    fn compile_fails_where_loading_fails_with_the_same_error() {
        let mut bad_rules = compiled();
        let n = &mut bad_rules.plan.machines[1].root;
        let mut text = n.iptables[1].as_str().to_string();
        text = text.replacen("COMMIT", "-A FORWARD -j NO-SUCH-CHAIN\nCOMMIT", 1);
        n.iptables[1] = Arc::new(text);
        let mut bad_plan = bad_rules.clone();
        bad_plan.plan.machines[0]
            .root
            .routes
            .push("10.9.0.0/16 dev nosuchdev".into());
        for (what, c, want) in [
            (
                "rules",
                bad_rules,
                "the compiled rules did not load (a hopsim bug)",
            ),
            (
                "plan",
                bad_plan,
                "the compiled topology did not load (a hopsim bug)",
            ),
        ] {
            let loaded = from_world(&c).expect_err(what).to_string();
            let compiled = compiled_to_yaml(Path::new("t.yaml"), c)
                .expect_err(what)
                .to_string();
            assert!(loaded.contains(want), "{what}: {loaded}");
            assert_eq!(compiled, loaded, "{what}");
        }
    }

    #[test]
    fn expectations_name_pods_by_node_and_namespace_name() {
        let mut c = compiled();
        let pod = &c.cluster.pods[0];
        let node = c.cluster.nodes[pod.node].name.clone();
        c.expect_text = Some(format!(
            "expect:\n  - \"default/{0} -> 10.96.0.10 tcp 80: reach\"\n  - 'default/{0}: ping -c1 1.1.1.1'\n",
            pod.name
        ));
        let text = compiled_to_yaml(Path::new("t.yaml"), c.clone()).expect("compiles");
        let e = &text[text.find("expect:").expect("expect")..];
        assert!(e.contains(&format!("\"{node}/{} ->", pod.name)), "{e}");
        assert!(e.contains(&format!("'{node}/{}: ping", pod.name)), "{e}");
        assert!(!e.contains("default/"), "{e}");
    }
}
