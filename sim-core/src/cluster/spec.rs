//! The cluster file as written (serde types with the line and column of every value) and
//! its validation into a [`Cluster`]: names resolved, addresses parsed, selectors and ports
//! checked, Deployments expanded into pods. Every error is a [`LoadError`] at the value that
//! caused it, with a hint; nothing here panics on any input.

use super::model::*;
use crate::format::{ExpectSpec, LoadError};
use indexmap::IndexMap;
use ipnet::Ipv4Net;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The most pods a cluster file may compile to (its deployments' replicas and its pods
/// together): a few lines of YAML must not ask for millions of namespaces.
pub const MAX_PODS: usize = 100_000;

type S<T> = Spanned<T>;

/// The whole file: the usual scenario header, `cluster:`, and `expect:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSpec {
    pub name: S<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub about: Option<String>,
    pub cluster: S<ClusterSpec>,
    #[serde(default)]
    pub expect: Vec<S<ExpectSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ClusterSpec {
    pub cni: S<String>,
    pub cluster_cidr: S<String>,
    #[serde(default)]
    pub service_cidr: Option<S<String>>,
    #[serde(default)]
    pub block_size: Option<S<u8>>,
    #[serde(default)]
    pub mtu: Option<S<u32>>,
    #[serde(default)]
    pub kubernetes_service: Option<bool>,
    #[serde(default)]
    pub kube_proxy: Option<S<KubeProxySpec>>,
    pub nodes: IndexMap<String, S<NodeSpec>>,
    #[serde(default)]
    pub router: Option<S<String>>,
    #[serde(default)]
    pub external: IndexMap<String, S<ExternalSpec>>,
    #[serde(default)]
    pub pods: Vec<S<PodSpec>>,
    #[serde(default)]
    pub deployments: Vec<S<DeploymentSpec>>,
    #[serde(default)]
    pub services: Vec<S<ServiceSpec>>,
    #[serde(default)]
    pub load_balancer: Option<S<String>>,
    #[serde(default)]
    pub dns: Option<S<super::dns::DnsSpec>>,
    #[serde(default)]
    pub ingresses: Vec<S<IngressSpec>>,
}

/// An Ingress: `{name, namespace, ingress-class-name, rules: [{host, paths: [{path,
/// path-type, backend: {service, port}}]}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct IngressSpec {
    pub name: S<String>,
    #[serde(default)]
    pub namespace: Option<S<String>>,
    #[serde(default)]
    pub ingress_class_name: Option<S<String>>,
    #[serde(default)]
    pub rules: Vec<S<IngressRuleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct IngressRuleSpec {
    #[serde(default)]
    pub host: Option<S<String>>,
    #[serde(default)]
    pub paths: Vec<S<IngressPathSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct IngressPathSpec {
    pub path: S<String>,
    pub path_type: S<String>,
    pub backend: S<IngressBackendSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct IngressBackendSpec {
    pub service: S<String>,
    pub port: S<TargetSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct KubeProxySpec {
    #[serde(default)]
    pub random_fully: Option<bool>,
    #[serde(default)]
    pub nfacct: Option<bool>,
    #[serde(default)]
    pub masquerade_all: Option<bool>,
    #[serde(default)]
    pub localhost_nodeports: Option<bool>,
    #[serde(default)]
    pub kubelet_firewall_first: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct NodeSpec {
    pub ip: S<String>,
    #[serde(default)]
    pub pod_cidr: Option<S<String>>,
    #[serde(default)]
    pub gateway: Option<S<String>>,
    #[serde(default)]
    pub role: Option<S<String>>,
    #[serde(default)]
    pub mac: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ExternalSpec {
    pub ip: S<String>,
    #[serde(default)]
    pub gateway: Option<S<String>>,
    #[serde(default)]
    pub listen: Vec<S<String>>,
    #[serde(default)]
    pub dns_server: Option<S<super::dns::ExternalDnsSpec>>,
}

/// A container port: `80`, or `{container-port: 53, name: dns, protocol: UDP}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum PortSpec {
    Number(u16),
    Full(FullPortSpec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct FullPortSpec {
    pub container_port: u16,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ContainerSpec {
    pub name: S<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub ports: Vec<S<PortSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct PodSpec {
    pub name: S<String>,
    #[serde(default)]
    pub namespace: Option<S<String>>,
    pub node: S<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub ip: Option<S<String>>,
    #[serde(default)]
    pub containers: Vec<S<ContainerSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct DeploymentSpec {
    pub name: S<String>,
    #[serde(default)]
    pub namespace: Option<S<String>>,
    pub replicas: S<u32>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub nodes: Vec<S<String>>,
    #[serde(default)]
    pub ips: Vec<S<String>>,
    #[serde(default)]
    pub containers: Vec<S<ContainerSpec>>,
}

/// A service port: `80`, or `{name: http, port: 80, target-port: 8080, node-port: 30080}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum SvcPortSpec {
    Number(u16),
    Full(FullSvcPortSpec),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum TargetSpec {
    Number(u16),
    Name(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct FullSvcPortSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub port: u16,
    #[serde(default)]
    pub target_port: Option<TargetSpec>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub node_port: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ServiceSpec {
    pub name: S<String>,
    #[serde(default)]
    pub namespace: Option<S<String>>,
    #[serde(default, rename = "type")]
    pub kind: Option<S<String>>,
    #[serde(default)]
    pub cluster_ip: Option<S<String>>,
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    #[serde(default)]
    pub ports: Vec<S<SvcPortSpec>>,
    #[serde(default)]
    pub external_traffic_policy: Option<S<String>>,
    #[serde(default)]
    pub internal_traffic_policy: Option<S<String>>,
    #[serde(default)]
    pub load_balancer_ip: Option<S<String>>,
    #[serde(default)]
    pub load_balancer_source_ranges: Vec<S<String>>,
    #[serde(default)]
    pub external_ips: Vec<S<String>>,
    #[serde(default)]
    pub health_check_node_port: Option<S<u16>>,
    #[serde(default)]
    pub announced_by: Option<S<String>>,
}

/// Errors at a spanned value of the cluster file.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
}

impl Ctx<'_> {
    pub fn at<T>(&self, s: &S<T>, msg: impl Into<String>) -> LoadError {
        LoadError::at(
            self.file,
            s.referenced.line() as usize,
            s.referenced.column() as usize,
            msg,
        )
    }

    pub(crate) fn addr<T>(&self, s: &S<T>, text: &str, what: &str) -> Result<Ipv4Addr, LoadError> {
        crate::format::shell::parse_inet(text)
            .filter(|_| text.split('.').count() == 4)
            .ok_or_else(|| {
                self.at(s, format!("{what} \"{text}\" is not an IPv4 address"))
                    .hint("write four decimal bytes, e.g. 192.168.10.10")
            })
    }

    fn net<T>(&self, s: &S<T>, text: &str, what: &str) -> Result<Ipv4Net, LoadError> {
        let bad = || {
            self.at(
                s,
                format!("{what} \"{text}\" is not an IPv4 network ADDRESS/LEN"),
            )
            .hint("write it like 172.16.0.0/16")
        };
        let (a, l) = text.split_once('/').ok_or_else(bad)?;
        let addr = crate::format::shell::parse_inet(a)
            .filter(|_| a.split('.').count() == 4)
            .ok_or_else(bad)?;
        let len: u8 = l.parse().ok().filter(|l| *l <= 32).ok_or_else(bad)?;
        Ipv4Net::new(addr, len).map_err(|_| bad())
    }
}

fn name_ok(s: &str) -> bool {
    // RFC 1123 label/subdomain, as Kubernetes names are (lower case, digits, '-', '.').
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn check_name(cx: &Ctx, s: &S<String>, what: &str) -> Result<(), LoadError> {
    if name_ok(&s.value) {
        Ok(())
    } else {
        Err(cx
            .at(s, format!("{what} \"{}\" is not a valid Kubernetes name", s.value))
            .hint("lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"))
    }
}

fn protocol(cx: &Ctx, s: &S<impl Sized>, p: Option<&str>) -> Result<Protocol, LoadError> {
    match p.unwrap_or("TCP") {
        "TCP" | "tcp" => Ok(Protocol::Tcp),
        "UDP" | "udp" => Ok(Protocol::Udp),
        other => Err(cx
            .at(s, format!("protocol \"{other}\" is not modelled"))
            .hint("TCP or UDP (SCTP is not modelled)")),
    }
}

fn containers(cx: &Ctx, list: &[S<ContainerSpec>]) -> Result<Vec<Container>, LoadError> {
    let mut out: Vec<Container> = Vec::new();
    let mut taken: Vec<(Protocol, u16, String)> = Vec::new();
    for c in list {
        check_name(cx, &c.value.name, "container name")?;
        if out.iter().any(|o| o.name == c.value.name.value) {
            return Err(cx.at(
                &c.value.name,
                format!("container \"{}\" is listed twice", c.value.name.value),
            ));
        }
        let mut ports = Vec::new();
        for p in &c.value.ports {
            let (port, name, proto) = match &p.value {
                PortSpec::Number(n) => (*n, None, Protocol::Tcp),
                PortSpec::Full(f) => (
                    f.container_port,
                    f.name.clone(),
                    protocol(cx, p, f.protocol.as_deref())?,
                ),
            };
            if port == 0 {
                return Err(cx
                    .at(p, "container port 0 is not a port")
                    .hint("1 to 65535"));
            }
            // The containers of a pod share one network namespace (the pause container's):
            // two of them cannot bind the same port.
            if let Some((_, _, other)) =
                taken.iter().find(|(pr, po, _)| *pr == proto && *po == port)
            {
                return Err(cx
                    .at(p, format!(
                        "port {port}/{} is already used by container \"{other}\" of this pod",
                        proto.name()
                    ))
                    .hint("containers of a pod share the pause container's network namespace: the second bind fails with `Address already in use`"));
            }
            taken.push((proto, port, c.value.name.value.clone()));
            ports.push(ContainerPort { port, name, proto });
        }
        out.push(Container {
            name: c.value.name.value.clone(),
            image: c.value.image.clone(),
            ports,
        });
    }
    Ok(out)
}

/// Pod names of a Deployment's replicas, shaped like the real ones
/// (`<deployment>-<pod-template-hash>-<5 chars>`) but derived from the names, so that they
/// are stable from run to run.
pub(crate) fn replica_name(ns: &str, deploy: &str, i: u32) -> String {
    // Kubernetes' SafeEncodeString alphabet (no vowels, no confusable digits).
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let h = super::hash::sha256(format!("{ns}/{deploy}").as_bytes());
    let hash: String = h[..10]
        .iter()
        .map(|b| ALPHA[*b as usize % ALPHA.len()] as char)
        .collect();
    let s = super::hash::sha256(format!("{ns}/{deploy}/{i}").as_bytes());
    let suffix: String = s[..5]
        .iter()
        .map(|b| ALPHA[*b as usize % ALPHA.len()] as char)
        .collect();
    format!("{deploy}-{hash}-{suffix}")
}

/// Check the file and resolve it into a [`Cluster`] (addresses not yet allocated: see
/// [`super::ipam`]).
pub(crate) fn resolve(cx: &Ctx, f: FileSpec) -> Result<Cluster, LoadError> {
    let (cl_line, cl_col) = (
        f.cluster.referenced.line() as usize,
        f.cluster.referenced.column() as usize,
    );
    let c = f.cluster.value;
    let cni = match c.cni.value.as_str() {
        "calico-ipip" | "calico" => Cni::CalicoIpip,
        "calico-vxlan" => Cni::CalicoVxlan,
        "flannel-vxlan" | "flannel" => Cni::FlannelVxlan,
        "weave" => Cni::Weave,
        "bridge-routes" | "bridge" | "bridge-with-routes" => Cni::BridgeRoutes,
        other => {
            return Err(cx
                .at(&c.cni, format!("CNI \"{other}\" is not modelled"))
                .hint("cni: calico-ipip (Calico with BIRD and IPIP Always), calico-vxlan (Calico with VXLAN Always), flannel-vxlan, weave, or bridge-routes (a bridge per node and routes to the other nodes' pod CIDRs)"))
        }
    };
    let cluster_cidr = cx.net(&c.cluster_cidr, &c.cluster_cidr.value, "cluster-cidr")?;
    let service_cidr = match &c.service_cidr {
        Some(s) => cx.net(s, &s.value, "service-cidr")?,
        None => "10.96.0.0/12".parse().expect("literal"),
    };
    if service_cidr.prefix_len() > 30 {
        return Err(cx
            .at(
                c.service_cidr.as_ref().unwrap_or(&c.cluster_cidr),
                "service-cidr is too small",
            )
            .hint("the default is 10.96.0.0/12"));
    }
    let default_block = match cni {
        Cni::CalicoIpip | Cni::CalicoVxlan => 26,
        Cni::FlannelVxlan | Cni::Weave | Cni::BridgeRoutes => 24,
    };
    let block_size =
        match &c.block_size {
            Some(b) if b.value < cluster_cidr.prefix_len() || b.value > 30 => return Err(cx
                .at(
                    b,
                    format!(
                        "block-size /{} does not fit in cluster-cidr {cluster_cidr}",
                        b.value
                    ),
                )
                .hint(
                    "a prefix length between the cluster CIDR's and 30 (Calico's default is 26)",
                )),
            Some(b) => b.value,
            None => default_block.max(cluster_cidr.prefix_len()),
        };
    let mtu = match &c.mtu {
        Some(m) if !(576..=9000).contains(&m.value) => {
            return Err(cx
                .at(m, format!("mtu {} is out of range", m.value))
                .hint("576 to 9000"))
        }
        Some(m) => m.value,
        None => 1500,
    };
    let kp = c.kube_proxy.map(|k| k.value).unwrap_or_default();
    let kube_proxy = KubeProxyConfig {
        random_fully: kp.random_fully.unwrap_or(true),
        nfacct: kp.nfacct.unwrap_or(true),
        masquerade_all: kp.masquerade_all.unwrap_or(false),
        localhost_nodeports: kp.localhost_nodeports.unwrap_or(true),
        kubelet_firewall_first: kp.kubelet_firewall_first.unwrap_or(true),
    };

    // Nodes.
    if c.nodes.is_empty() {
        return Err(LoadError::at(
            cx.file,
            cl_line,
            cl_col,
            "a cluster needs at least one node",
        )
        .hint("nodes: { k8s-m: { ip: 192.168.10.10/24 } }"));
    }
    let mut nodes: Vec<Node> = Vec::new();
    for (name, n) in &c.nodes {
        if !name_ok(name) {
            return Err(cx
                .at(n, format!("node name \"{name}\" is not a valid host name"))
                .hint("lower-case letters, digits and '-'"));
        }
        let ip = cx.net(&n.value.ip, &n.value.ip.value, "node ip")?;
        if ip.prefix_len() >= 31 {
            return Err(cx
                .at(&n.value.ip, "a node's ip needs the LAN's prefix length")
                .hint("e.g. 192.168.10.10/24"));
        }
        if ip.addr() == ip.network() || ip.addr() == ip.broadcast() {
            return Err(cx.at(
                &n.value.ip,
                format!("{} is not a host address of {}", ip.addr(), ip.trunc()),
            ));
        }
        if let Some(other) = nodes.iter().find(|o| o.ip.addr() == ip.addr()) {
            return Err(cx.at(
                &n.value.ip,
                format!("{} is already node {}'s address", ip.addr(), other.name),
            ));
        }
        let pod_cidr = match &n.value.pod_cidr {
            Some(p) => {
                let net = cx.net(p, &p.value, "pod-cidr")?;
                if net.network() != net.addr() {
                    return Err(cx
                        .at(p, format!("pod-cidr {net} has host bits set"))
                        .hint(format!("did you mean {}?", net.trunc())));
                }
                if !cluster_cidr.contains(&net) {
                    return Err(cx.at(
                        p,
                        format!("pod-cidr {net} is outside cluster-cidr {cluster_cidr}"),
                    ));
                }
                Some((
                    net,
                    p.referenced.line() as usize,
                    p.referenced.column() as usize,
                ))
            }
            None => None,
        };
        let gateway = match &n.value.gateway {
            Some(g) => {
                let a = cx.addr(g, &g.value, "gateway")?;
                if !ip.trunc().contains(&a) {
                    return Err(cx
                        .at(
                            g,
                            format!("gateway {a} is not on the node's LAN {}", ip.trunc()),
                        )
                        .hint("the gateway must be on the node's own subnet"));
                }
                Some(a)
            }
            None => None,
        };
        let role = match n.value.role.as_ref().map(|r| r.value.as_str()) {
            None | Some("worker") => Role::Worker,
            Some("control-plane") | Some("master") => Role::ControlPlane,
            Some(other) => {
                let r = n.value.role.as_ref().expect("some");
                return Err(cx.at(
                    r,
                    format!("role \"{other}\" is not one of control-plane, worker"),
                ));
            }
        };
        let mac = match &n.value.mac {
            Some(m) => Some(
                m.value
                    .parse::<crate::wire::Mac>()
                    .map_err(|e| cx.at(m, e.to_string()))?,
            ),
            None => None,
        };
        nodes.push(Node {
            name: name.clone(),
            ip,
            gateway,
            role,
            pod_cidr: pod_cidr.map(|p| p.0),
            mac,
            tunnel_addr: None,
            line: n.referenced.line() as usize,
        });
    }
    if !nodes.iter().any(|n| n.role == Role::ControlPlane) {
        // kubeadm's first node: the control plane.
        nodes[0].role = Role::ControlPlane;
    }
    let node_idx = |s: &S<String>| -> Result<usize, LoadError> {
        nodes.iter().position(|n| n.name == s.value).ok_or_else(|| {
            cx.at(s, format!("no node \"{}\"", s.value)).hint(format!(
                "nodes: {}",
                nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    };

    let mut externals = Vec::new();
    for (name, e) in &c.external {
        if !name_ok(name) || c.nodes.contains_key(name) {
            return Err(cx.at(
                e,
                format!("external machine \"{name}\": a valid name that no node has"),
            ));
        }
        let ip = cx.net(&e.value.ip, &e.value.ip.value, "ip")?;
        let gateway = match &e.value.gateway {
            Some(g) => Some(cx.addr(g, &g.value, "gateway")?),
            None => None,
        };
        let mut listen = Vec::new();
        for l in &e.value.listen {
            crate::format::yaml::parse_listen(&l.value)
                .map_err(|m| cx.at(l, m).hint("write `tcp 80` or `udp 0.0.0.0:53 dns`"))?;
            listen.push(l.value.clone());
        }
        let dns_server = match &e.value.dns_server {
            Some(d) => Some(super::dns::external_server(cx, d)?),
            None => None,
        };
        externals.push(External {
            name: name.clone(),
            ip,
            gateway,
            listen,
            dns_server,
        });
    }
    let router = c.router.as_ref().map(|r| r.value.clone());
    if let Some(r) = &c.router {
        if !name_ok(&r.value) || c.nodes.contains_key(&r.value) || c.external.contains_key(&r.value)
        {
            return Err(cx.at(
                r,
                format!(
                    "router \"{}\": a valid name that no node or external machine has",
                    r.value
                ),
            ));
        }
    }

    // Pods, then Deployments expanded into pods.
    let mut pods: Vec<Pod> = Vec::new();
    // The pods' names so far (a look-up: a walk of every earlier pod is quadratic).
    let mut pod_names: std::collections::HashSet<(String, String)> = Default::default();
    for p in &c.pods {
        let p = &p.value;
        check_name(cx, &p.name, "pod name")?;
        let namespace = match &p.namespace {
            Some(n) => {
                check_name(cx, n, "namespace")?;
                n.value.clone()
            }
            None => "default".to_string(),
        };
        if !pod_names.insert((namespace.clone(), p.name.value.clone())) {
            return Err(cx.at(
                &p.name,
                format!("pod {namespace}/{} is defined twice", p.name.value),
            ));
        }
        let ip = match &p.ip {
            Some(i) => Some((
                cx.addr(i, &i.value, "pod ip")?,
                i.referenced.line() as usize,
                i.referenced.column() as usize,
            )),
            None => None,
        };
        pods.push(Pod {
            namespace,
            name: p.name.value.clone(),
            node: node_idx(&p.node)?,
            labels: p.labels.clone(),
            requested_ip: ip,
            ip: Ipv4Addr::UNSPECIFIED,
            containers: containers(cx, &p.containers)?,
            line: p.name.referenced.line() as usize,
        });
    }
    let mut counts = vec![0usize; nodes.len()];
    for p in &pods {
        counts[p.node] += 1;
    }
    for d in &c.deployments {
        let d = &d.value;
        check_name(cx, &d.name, "deployment name")?;
        let namespace = match &d.namespace {
            Some(n) => {
                check_name(cx, n, "namespace")?;
                n.value.clone()
            }
            None => "default".to_string(),
        };
        if d.replicas.value as usize > MAX_PODS.saturating_sub(pods.len()) {
            return Err(cx
                .at(
                    &d.replicas,
                    format!(
                        "{} replicas make more than {MAX_PODS} pods, the most hopsim compiles",
                        d.replicas.value
                    ),
                )
                .hint(format!(
                    "the cluster has {} pods before this deployment: fewer replicas show the same paths",
                    pods.len()
                )));
        }
        let on: Vec<usize> = if d.nodes.is_empty() {
            // The scheduler spreads replicas over the schedulable nodes: the workers
            // (kubeadm taints the control plane), or every node when there is no worker.
            let workers: Vec<usize> = (0..nodes.len())
                .filter(|i| nodes[*i].role == Role::Worker)
                .collect();
            if workers.is_empty() {
                (0..nodes.len()).collect()
            } else {
                workers
            }
        } else {
            d.nodes.iter().map(node_idx).collect::<Result<_, _>>()?
        };
        if !d.ips.is_empty() && d.ips.len() != d.replicas.value as usize {
            return Err(cx
                .at(
                    &d.replicas,
                    format!("{} ips for {} replicas", d.ips.len(), d.replicas.value),
                )
                .hint("give one ip per replica, or none"));
        }
        let ctrs = containers(cx, &d.containers)?;
        for i in 0..d.replicas.value {
            let ip = match d.ips.get(i as usize) {
                Some(s) => Some((
                    cx.addr(s, &s.value, "ip")?,
                    s.referenced.line() as usize,
                    s.referenced.column() as usize,
                )),
                None => None,
            };
            // The scheduler's spreading, simplified: the candidate node with the fewest
            // pods so far (the first such in file order).
            let node = *on
                .iter()
                .min_by_key(|n| counts[**n])
                .expect("at least one node");
            counts[node] += 1;
            pods.push(Pod {
                namespace: namespace.clone(),
                name: replica_name(&namespace, &d.name.value, i),
                node,
                labels: d.labels.clone(),
                requested_ip: ip,
                ip: Ipv4Addr::UNSPECIFIED,
                containers: ctrs.clone(),
                line: d.name.referenced.line() as usize,
            });
        }
    }

    // Services.
    let mut services: Vec<Service> = Vec::new();
    // The services' names so far (a look-up: a walk of every earlier service is quadratic).
    let mut service_names: std::collections::HashSet<(String, String)> = Default::default();
    for s in &c.services {
        let sv = &s.value;
        check_name(cx, &sv.name, "service name")?;
        let namespace = match &sv.namespace {
            Some(n) => {
                check_name(cx, n, "namespace")?;
                n.value.clone()
            }
            None => "default".to_string(),
        };
        if !service_names.insert((namespace.clone(), sv.name.value.clone())) {
            return Err(cx.at(
                &sv.name,
                format!("service {namespace}/{} is defined twice", sv.name.value),
            ));
        }
        let kind = match sv.kind.as_ref().map(|k| k.value.as_str()) {
            None | Some("ClusterIP") => ServiceType::ClusterIp,
            Some("NodePort") => ServiceType::NodePort,
            Some("LoadBalancer") => ServiceType::LoadBalancer,
            Some(other) => {
                return Err(cx
                    .at(
                        sv.kind.as_ref().expect("some"),
                        format!("service type \"{other}\" is not modelled"),
                    )
                    .hint("ClusterIP, NodePort or LoadBalancer (ExternalName has no packet path)"))
            }
        };
        let cluster_ip = match &sv.cluster_ip {
            Some(c) if c.value == "None" => {
                if kind != ServiceType::ClusterIp {
                    return Err(cx.at(
                        c,
                        "a headless service (cluster-ip: None) must be of type ClusterIP",
                    ));
                }
                ClusterIp::Headless
            }
            Some(c) => {
                let a = cx.addr(c, &c.value, "cluster-ip")?;
                if !service_cidr.contains(&a) {
                    return Err(cx
                        .at(
                            c,
                            format!("cluster-ip {a} is not in service-cidr {service_cidr}"),
                        )
                        .hint(
                            "the API server refuses it: `provided IP is not in the valid range`",
                        ));
                }
                ClusterIp::Fixed(
                    a,
                    c.referenced.line() as usize,
                    c.referenced.column() as usize,
                )
            }
            None => ClusterIp::Auto,
        };
        let policy = |p: &Option<S<String>>, what: &str| -> Result<bool, LoadError> {
            match p.as_ref().map(|x| x.value.as_str()) {
                None | Some("Cluster") => Ok(false),
                Some("Local") => Ok(true),
                Some(other) => Err(cx.at(
                    p.as_ref().expect("some"),
                    format!("{what} \"{other}\" is not Cluster or Local"),
                )),
            }
        };
        let etp_local = policy(&sv.external_traffic_policy, "external-traffic-policy")?;
        let itp_local = policy(&sv.internal_traffic_policy, "internal-traffic-policy")?;
        if etp_local && kind == ServiceType::ClusterIp {
            return Err(cx
                .at(
                    sv.external_traffic_policy.as_ref().expect("some"),
                    "external-traffic-policy applies to NodePort and LoadBalancer services",
                )
                .hint("the API server refuses it on a ClusterIP service"));
        }
        if sv.ports.is_empty() && cluster_ip != ClusterIp::Headless {
            return Err(cx
                .at(&sv.name, format!("service {} has no ports", sv.name.value))
                .hint("ports: [80]"));
        }
        let mut ports: Vec<ServicePort> = Vec::new();
        for p in &sv.ports {
            let (name, port, target, proto, node_port) = match &p.value {
                SvcPortSpec::Number(n) => (None, *n, Target::Number(*n), Protocol::Tcp, None),
                SvcPortSpec::Full(f) => (
                    f.name.clone(),
                    f.port,
                    match &f.target_port {
                        Some(TargetSpec::Number(n)) => Target::Number(*n),
                        Some(TargetSpec::Name(n)) => Target::Name(n.clone()),
                        None => Target::Number(f.port),
                    },
                    protocol(cx, p, f.protocol.as_deref())?,
                    f.node_port,
                ),
            };
            if port == 0 || matches!(target, Target::Number(0)) {
                return Err(cx.at(p, "port 0 is not a port"));
            }
            if sv.ports.len() > 1 && name.is_none() {
                return Err(cx
                    .at(p, "a service with several ports must name each one")
                    .hint(
                        "the API server requires `name:` on every port of a multi-port service",
                    ));
            }
            if let Some(np) = node_port {
                if kind == ServiceType::ClusterIp {
                    return Err(cx
                        .at(p, "node-port on a ClusterIP service")
                        .hint("type: NodePort or LoadBalancer"));
                }
                if !(30000..=32767).contains(&np) {
                    return Err(cx
                        .at(
                            p,
                            format!("node-port {np} is outside the node port range 30000-32767"),
                        )
                        .hint("the API server's default --service-node-port-range"));
                }
            }
            if ports.iter().any(|o| o.port == port && o.proto == proto) {
                return Err(cx.at(p, format!("port {port}/{} is listed twice", proto.name())));
            }
            ports.push(ServicePort {
                name,
                port,
                target,
                proto,
                node_port,
                line: p.referenced.line() as usize,
                column: p.referenced.column() as usize,
            });
        }
        let mut lb_ips = Vec::new();
        if let Some(l) = &sv.load_balancer_ip {
            if kind != ServiceType::LoadBalancer {
                return Err(cx.at(
                    l,
                    "load-balancer-ip on a service that is not of type LoadBalancer",
                ));
            }
            lb_ips.push(cx.addr(l, &l.value, "load-balancer-ip")?);
        }
        let announced_by = match &sv.announced_by {
            Some(a) if lb_ips.is_empty() => {
                return Err(cx
                    .at(a, "announced-by on a service without a load-balancer-ip")
                    .hint("MetalLB announces a LoadBalancer service's load-balancer-ip"))
            }
            Some(a) => Some(node_idx(a)?),
            None => None,
        };
        let mut lb_source_ranges = Vec::new();
        for r in &sv.load_balancer_source_ranges {
            lb_source_ranges.push(cx.net(r, &r.value, "load-balancer-source-range")?.trunc());
        }
        let mut external_ips = Vec::new();
        for e in &sv.external_ips {
            external_ips.push(cx.addr(e, &e.value, "external ip")?);
        }
        services.push(Service {
            namespace,
            name: sv.name.value.clone(),
            kind,
            cluster_ip,
            allocated_ip: None,
            selector: sv.selector.clone(),
            ports,
            etp_local,
            itp_local,
            lb_ips,
            lb_source_ranges,
            external_ips,
            health_check_node_port: sv.health_check_node_port.as_ref().map(|h| h.value),
            announced_by,
            line: sv.name.referenced.line() as usize,
        });
    }
    let metallb =
        match &c.load_balancer {
            None => false,
            Some(l) if l.value == "metallb-l2" => true,
            Some(l) => return Err(cx
                .at(l, format!("load-balancer \"{}\" is not modelled", l.value))
                .hint(
                    "load-balancer: metallb-l2 (MetalLB's speaker answers ARP for the addresses)",
                )),
        };
    let dns = super::dns::resolve(cx, c.dns.as_ref(), &nodes, service_cidr)?;
    let ingresses = resolve_ingresses(cx, &c.ingresses)?;
    let clashing_names = Cluster::clashing_pod_names(&pods);
    Ok(Cluster {
        name: f.name.value,
        source: f.source,
        about: f.about,
        cni,
        cluster_cidr,
        service_cidr,
        block_size,
        mtu,
        kubernetes_service: c.kubernetes_service.unwrap_or(true),
        metallb_l2: metallb,
        kube_proxy,
        nodes,
        router,
        externals,
        pods,
        services,
        dns,
        ingresses,
        clashing_names,
    })
}

/// Ingresses, checked as the API server checks them (names, hosts, absolute paths, a
/// pathType, a backend port), with what hopsim does not model refused.
fn resolve_ingresses(cx: &Ctx, list: &[S<IngressSpec>]) -> Result<Vec<Ingress>, LoadError> {
    use crate::model::http::PathType;
    let mut out: Vec<Ingress> = Vec::new();
    for ing in list {
        let ing = &ing.value;
        check_name(cx, &ing.name, "ingress name")?;
        let namespace = match &ing.namespace {
            Some(n) => {
                check_name(cx, n, "namespace")?;
                n.value.clone()
            }
            None => "default".into(),
        };
        if out
            .iter()
            .any(|o| o.namespace == namespace && o.name == ing.name.value)
        {
            return Err(cx.at(
                &ing.name,
                format!(
                    "ingresses.networking.k8s.io \"{}\" already exists",
                    ing.name.value
                ),
            ));
        }
        if ing.rules.is_empty() {
            return Err(cx
                .at(&ing.name, "an ingress without rules")
                .hint("hopsim models rules (defaultBackend is not modelled): give `rules:`"));
        }
        let mut paths = Vec::new();
        for rs in &ing.rules {
            let r = &rs.value;
            let host = match &r.host {
                Some(h) if h.value.starts_with("*.") => {
                    return Err(cx
                        .at(h, format!("wildcard host \"{}\" is not modelled", h.value))
                        .hint("give the full host name"))
                }
                Some(h) if !name_ok(&h.value) || crate::format::shell::parse_inet(&h.value).is_some() => {
                    return Err(cx
                        .at(
                            h,
                            format!(
                                "spec.rules[].host: Invalid value: \"{}\": a lowercase RFC 1123 subdomain (and not an IP address)",
                                h.value
                            ),
                        )
                        .hint("e.g. app.example.com"))
                }
                Some(h) => Some(h.value.clone()),
                None => None,
            };
            if r.paths.is_empty() {
                return Err(cx
                    .at(rs, "a rule without paths")
                    .hint("give `paths:` with path, path-type and backend"));
            }
            for p in &r.paths {
                let p = &p.value;
                if !p.path.value.starts_with('/') {
                    return Err(cx
                        .at(
                            &p.path,
                            format!(
                                "spec.rules[].http.paths[].path: Invalid value: \"{}\": must be an absolute path",
                                p.path.value
                            ),
                        )
                        .hint("start it with /"));
                }
                let path_type = match p.path_type.value.as_str() {
                    "Prefix" => PathType::Prefix,
                    "Exact" => PathType::Exact,
                    "ImplementationSpecific" => {
                        return Err(cx
                            .at(&p.path_type, "pathType ImplementationSpecific is not modelled")
                            .hint("use Prefix or Exact"))
                    }
                    other => {
                        return Err(cx
                            .at(
                                &p.path_type,
                                format!("spec.rules[].http.paths[].pathType: Unsupported value: \"{other}\""),
                            )
                            .hint("supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""))
                    }
                };
                let b = &p.backend.value;
                check_name(cx, &b.service, "backend service")?;
                let port = match &b.port.value {
                    TargetSpec::Number(0) => return Err(cx.at(&b.port, "port 0 is not a port")),
                    TargetSpec::Number(n) => Target::Number(*n),
                    TargetSpec::Name(n) => Target::Name(n.clone()),
                };
                paths.push(IngressPath {
                    host: host.clone(),
                    path: p.path.value.clone(),
                    path_type,
                    service: b.service.value.clone(),
                    port,
                });
            }
        }
        out.push(Ingress {
            namespace,
            name: ing.name.value.clone(),
            class: ing.ingress_class_name.as_ref().map(|c| c.value.clone()),
            paths,
            line: ing.name.referenced.line() as usize,
        });
    }
    Ok(out)
}
