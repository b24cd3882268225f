//! Cluster DNS (docs/cluster.md, "Cluster DNS"): what kubelet writes into every pod
//! (`/etc/resolv.conf` for `dnsPolicy: ClusterFirst`, the Kubernetes-managed `/etc/hosts`),
//! and, with `dns: coredns`, what kubeadm deploys: the `kube-system/kube-dns` Service
//! (53/UDP, 53/TCP, 9153/TCP, compiled by kube-proxy like any other) and the CoreDNS
//! Deployment's pods running kubeadm's Corefile, whose `kubernetes` plugin sees the
//! cluster's Services and namespaces. CoreDNS pods use `dnsPolicy: Default`: the node's
//! resolv.conf, whose nameservers (`upstream:`) its `forward . /etc/resolv.conf` asks.
//! SYSTEM_RULES.md §6.

use super::model::*;
use super::plan::NsPlan;
use super::spec::Ctx;
use crate::format::yaml::file_err;
use crate::format::LoadError;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

type S<T> = Spanned<T>;

/// kubeadm's CoreDNS Corefile (the ConfigMap `kube-system/coredns`), for `DOMAIN`.
pub const KUBEADM_COREFILE: &str = ".:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes DOMAIN in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
";

/// `dns:` as written: `coredns`, `none`, or a mapping.
#[derive(Debug)]
pub(crate) enum DnsSpec {
    Provider(String),
    Full(Box<FullDnsSpec>),
}

/// By hand rather than `#[serde(untagged)]`: an untagged enum buffers the mapping, which
/// loses the line and column of every field inside (errors in `dns:` came out unlocated)
/// and replaces a field's own error with "did not match any variant".
impl<'de> Deserialize<'de> for DnsSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DnsSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("coredns, none, or a mapping (provider, replicas, nodes, ips, ...)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DnsSpec, E> {
                Ok(DnsSpec::Provider(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<DnsSpec, A::Error> {
                FullDnsSpec::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(|f| DnsSpec::Full(Box::new(f)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct FullDnsSpec {
    #[serde(default)]
    pub provider: Option<S<String>>,
    #[serde(default)]
    pub cluster_ip: Option<S<String>>,
    #[serde(default)]
    pub domain: Option<S<String>>,
    #[serde(default)]
    pub replicas: Option<S<u32>>,
    #[serde(default)]
    pub nodes: Vec<S<String>>,
    #[serde(default)]
    pub ips: Vec<S<String>>,
    #[serde(default)]
    pub upstream: Vec<S<String>>,
    #[serde(default)]
    pub corefile: Option<S<String>>,
}

/// A DNS server on a machine outside the cluster (`external: {NAME: {dns-server: ...}}`):
/// the records it owns and where it forwards the rest, as in topology files.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExternalDnsSpec {
    #[serde(default)]
    pub records: Option<S<String>>,
    #[serde(default)]
    pub forward: Vec<String>,
    #[serde(default)]
    pub recursive: bool,
    #[serde(default)]
    pub process: Option<String>,
}

/// The cluster's DNS, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterDns {
    /// kubelet's `--cluster-dns`: the kube-dns Service's ClusterIP.
    pub cluster_ip: Ipv4Addr,
    /// kubelet's `--cluster-domain`.
    pub domain: String,
    /// Deploy CoreDNS and the kube-dns Service (`dns: coredns`).
    pub coredns: bool,
    /// CoreDNS replicas.
    pub replicas: u32,
    /// Their nodes (indices), one per replica in turn.
    pub nodes: Vec<usize>,
    /// Their addresses, if given (with line and column).
    pub ips: Vec<(Ipv4Addr, usize, usize)>,
    /// The nodes' resolv.conf nameservers.
    pub upstream: Vec<Ipv4Addr>,
    /// The Corefile.
    pub corefile: String,
    /// Where `corefile:` starts in the file, for its errors.
    pub corefile_line: usize,
}

/// Resolve `dns:`; absent means kubelet's defaults without CoreDNS.
pub(crate) fn resolve(
    cx: &Ctx,
    spec: Option<&S<DnsSpec>>,
    nodes: &[Node],
    service_cidr: ipnet::Ipv4Net,
) -> Result<ClusterDns, LoadError> {
    let default_ip = Ipv4Addr::from(u32::from(service_cidr.network()) + 10);
    let node_idx = |s: &S<String>| {
        nodes.iter().position(|n| n.name == s.value).ok_or_else(|| {
            cx.at(s, format!("node \"{}\" is not in nodes:", s.value))
                .hint("name one of the cluster's nodes")
        })
    };
    let control: Vec<usize> = {
        let cp: Vec<usize> = (0..nodes.len())
            .filter(|i| nodes[*i].role == Role::ControlPlane)
            .collect();
        if cp.is_empty() {
            vec![0]
        } else {
            cp
        }
    };
    let mut d = ClusterDns {
        cluster_ip: default_ip,
        domain: "cluster.local".into(),
        coredns: false,
        replicas: 2,
        nodes: control,
        ips: vec![],
        upstream: vec![],
        corefile: String::new(),
        corefile_line: 0,
    };
    let provider = |p: &str, at: &S<DnsSpec>| match p {
        "coredns" => Ok(true),
        "none" => Ok(false),
        other => Err(cx
            .at(at, format!("dns provider \"{other}\" is not modelled"))
            .hint("dns: coredns (kubeadm's CoreDNS and kube-dns Service) or dns: none")),
    };
    match spec {
        None => {}
        Some(s) => match &s.value {
            DnsSpec::Provider(p) => d.coredns = provider(p, s)?,
            DnsSpec::Full(f) => {
                d.coredns = match &f.provider {
                    Some(p) => provider(&p.value, s)?,
                    None => true,
                };
                if let Some(ip) = &f.cluster_ip {
                    let a = cx.addr(ip, &ip.value, "dns cluster-ip")?;
                    if !service_cidr.contains(&a) {
                        return Err(cx
                            .at(
                                ip,
                                format!("cluster-ip {a} is not in service-cidr {service_cidr}"),
                            )
                            .hint("kubeadm uses the 10th address of the service CIDR"));
                    }
                    d.cluster_ip = a;
                }
                if let Some(dom) = &f.domain {
                    let ok = crate::wire::dns::valid_name(&dom.value) && dom.value.contains('.');
                    if !ok {
                        return Err(cx
                            .at(dom, format!("domain \"{}\" is not a DNS domain", dom.value))
                            .hint("kubelet's --cluster-domain, cluster.local by default"));
                    }
                    d.domain = dom.value.trim_end_matches('.').to_string();
                }
                if let Some(r) = &f.replicas {
                    if r.value > 100 {
                        return Err(cx.at(r, "more than 100 CoreDNS replicas"));
                    }
                    d.replicas = r.value;
                }
                if !f.nodes.is_empty() {
                    d.nodes = f.nodes.iter().map(node_idx).collect::<Result<_, _>>()?;
                }
                if !f.ips.is_empty() && f.ips.len() != d.replicas as usize {
                    return Err(cx
                        .at(
                            &f.ips[0],
                            format!("{} ips for {} CoreDNS replicas", f.ips.len(), d.replicas),
                        )
                        .hint("give one ip per replica (replicas: N), or none"));
                }
                for ip in &f.ips {
                    d.ips.push((
                        cx.addr(ip, &ip.value, "CoreDNS pod ip")?,
                        ip.referenced.line() as usize,
                        ip.referenced.column() as usize,
                    ));
                }
                for u in &f.upstream {
                    d.upstream
                        .push(cx.addr(u, &u.value, "upstream nameserver")?);
                }
                if d.upstream.len() > crate::dns::MAXNS {
                    return Err(cx
                        .at(&f.upstream[3], "more than 3 nameservers")
                        .hint("glibc and CoreDNS's forward read the first three (MAXNS)"));
                }
                if let Some(c) = &f.corefile {
                    crate::dns::corefile::Corefile::parse(&c.value).map_err(|e| {
                        file_err(cx.file, c, "corefile", e.line, &e.msg)
                            .hint("docs/dns.md lists the Corefile subset hopsim models")
                    })?;
                    d.corefile = c.value.clone();
                    d.corefile_line = c.referenced.line() as usize;
                }
            }
        },
    }
    if d.corefile.is_empty() {
        d.corefile = KUBEADM_COREFILE.replace("DOMAIN", &d.domain);
    }
    Ok(d)
}

/// Add what `dns: coredns` deploys to the cluster: the CoreDNS pods (first: kubeadm creates
/// them before any workload) and the kube-dns Service.
pub(crate) fn add_objects(file: &str, c: &mut Cluster) -> Result<(), LoadError> {
    if !c.dns.coredns {
        return Ok(());
    }
    if let Some(s) = c
        .services
        .iter()
        .find(|s| s.namespace == "kube-system" && s.name == "kube-dns")
    {
        return Err(LoadError::at(
            file,
            s.line,
            0,
            "service kube-system/kube-dns is defined twice (dns: coredns creates it)",
        )
        .hint("remove the service, or write dns: none"));
    }
    let labels: BTreeMap<String, String> = [("k8s-app".to_string(), "kube-dns".to_string())]
        .into_iter()
        .collect();
    let d = c.dns.clone();
    let mut pods = Vec::new();
    for i in 0..d.replicas {
        pods.push(Pod {
            namespace: "kube-system".into(),
            name: super::spec::replica_name("kube-system", "coredns", i),
            node: d.nodes[i as usize % d.nodes.len()],
            labels: labels.clone(),
            requested_ip: d.ips.get(i as usize).copied(),
            ip: Ipv4Addr::UNSPECIFIED,
            // Port 53 is the DNS server process's (the namespace's dns-server), 9153
            // prometheus's metrics.
            containers: vec![Container {
                name: "coredns".into(),
                image: Some("registry.k8s.io/coredns/coredns:v1.11.1".into()),
                ports: vec![ContainerPort {
                    port: 9153,
                    name: Some("metrics".into()),
                    proto: Protocol::Tcp,
                }],
            }],
            line: 0,
        });
    }
    c.pods.splice(0..0, pods);
    let port = |name: &str, port: u16, proto| ServicePort {
        name: Some(name.into()),
        port,
        target: Target::Number(port),
        proto,
        node_port: None,
        line: 0,
        column: 0,
    };
    c.services.push(Service {
        namespace: "kube-system".into(),
        name: "kube-dns".into(),
        kind: ServiceType::ClusterIp,
        cluster_ip: ClusterIp::Fixed(d.cluster_ip, 0, 0),
        allocated_ip: None,
        selector: labels,
        ports: vec![
            port("dns", 53, Protocol::Udp),
            port("dns-tcp", 53, Protocol::Tcp),
            port("metrics", 9153, Protocol::Tcp),
        ],
        etp_local: false,
        itp_local: false,
        lb_ips: vec![],
        lb_source_ranges: vec![],
        external_ips: vec![],
        health_check_node_port: None,
        announced_by: None,
        line: 0,
    });
    Ok(())
}

/// The libc of a container image: musl for Alpine-based images (alpine, netshoot), glibc
/// otherwise. It decides the resolver's error texts (`ping: google.com: Try again`).
pub fn image_libc(image: &str) -> crate::dns::Libc {
    let repo = image.rsplit('/').next().unwrap_or(image);
    let (name, tag) = repo.split_once(':').unwrap_or((repo, ""));
    if name == "alpine" || name == "netshoot" || tag.contains("alpine") || tag.contains("musl") {
        crate::dns::Libc::Musl
    } else {
        crate::dns::Libc::Glibc
    }
}

/// The Kubernetes-managed `/etc/hosts` kubelet writes into a pod (hostNetwork: false).
pub fn kubelet_hosts(p: &Pod) -> String {
    format!(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{}\t{}\n",
        p.ip, p.name
    )
}

/// The node's /etc/resolv.conf (only when the file gives `upstream:`).
fn node_resolv(d: &ClusterDns) -> Option<String> {
    (!d.upstream.is_empty()).then(|| {
        d.upstream
            .iter()
            .map(|u| format!("nameserver {u}\n"))
            .collect()
    })
}

/// What the kubernetes plugin watches: every Service with a ClusterIP, and the namespaces.
fn k8s_view(c: &Cluster) -> (Vec<String>, Vec<String>) {
    let services = c
        .services
        .iter()
        .filter_map(|s| {
            s.allocated_ip
                .map(|ip| format!("{}/{} {ip}", s.namespace, s.name))
        })
        .collect();
    let mut ns: Vec<String> = ["default", "kube-node-lease", "kube-public", "kube-system"]
        .into_iter()
        .map(String::from)
        .chain(c.pods.iter().map(|p| p.namespace.clone()))
        .chain(c.services.iter().map(|s| s.namespace.clone()))
        .collect();
    ns.sort();
    ns.dedup();
    (services, ns)
}

/// Whether pod `p` is one of the CoreDNS replicas `dns: coredns` added.
fn is_coredns(c: &Cluster, p: &Pod) -> bool {
    c.dns.coredns
        && p.namespace == "kube-system"
        && p.labels.get("k8s-app").map(String::as_str) == Some("kube-dns")
        && p.line == 0
}

/// Fill in the names of node `n` and its pods: the node's resolv.conf, every pod's
/// kubelet-written files and libc, the CoreDNS pods' server.
pub(crate) fn fill_node(c: &Cluster, n: usize, root: &mut NsPlan, pods: &mut [(String, NsPlan)]) {
    let d = &c.dns;
    root.resolv_conf = node_resolv(d);
    for p in c.pods.iter().filter(|p| p.node == n) {
        let name = super::pod_ns_name(c, p);
        let Some((_, ns)) = pods.iter_mut().find(|(k, _)| *k == name) else {
            continue;
        };
        ns.hosts = Some(kubelet_hosts(p));
        if is_coredns(c, p) {
            // dnsPolicy: Default: the node's resolv.conf.
            ns.resolv_conf = node_resolv(d);
            let (services, namespaces) = k8s_view(c);
            ns.dns_server = Some(super::plan::DnsServerPlan {
                process: Some("coredns".into()),
                records: None,
                forward: vec![],
                recursive: false,
                corefile: Some(d.corefile.clone()),
                services,
                namespaces,
            });
        } else {
            ns.resolv_conf = Some(crate::dns::kubelet_resolv_conf(
                &p.namespace,
                d.cluster_ip,
                &d.domain,
            ));
        }
        let libc = p
            .containers
            .first()
            .and_then(|c| c.image.as_deref())
            .map(image_libc)
            .unwrap_or_default();
        if libc == crate::dns::Libc::Musl {
            ns.libc = Some("musl");
        }
    }
}

/// The DNS server of an external machine, checked (errors at the `dns-server:` key).
pub(crate) fn external_server(
    cx: &Ctx,
    s: &S<ExternalDnsSpec>,
) -> Result<super::plan::DnsServerPlan, LoadError> {
    if let Some(r) = &s.value.records {
        crate::dns::server::DnsServer::parse_records(&r.value).map_err(|e| {
            file_err(cx.file, r, "dns-server: records", e.line, &e.msg)
                .hint("a record is `IP NAME...` or `NAME CNAME TARGET`")
        })?;
    }
    for f in &s.value.forward {
        if f.parse::<Ipv4Addr>().is_err() {
            return Err(cx.at(
                s,
                format!("dns-server: forward: \"{f}\" is not an IPv4 address"),
            ));
        }
    }
    Ok(super::plan::DnsServerPlan {
        process: s.value.process.clone(),
        records: s.value.records.as_ref().map(|r| r.value.clone()),
        forward: s.value.forward.clone(),
        recursive: s.value.recursive,
        corefile: None,
        services: vec![],
        namespaces: vec![],
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn images_and_their_libc() {
        use crate::dns::Libc::*;
        assert_eq!(image_libc("nicolaka/netshoot"), Musl);
        assert_eq!(image_libc("nicolaka/netshoot:v0.13"), Musl);
        assert_eq!(image_libc("alpine:3.20"), Musl);
        assert_eq!(image_libc("nginx:1.27-alpine"), Musl);
        assert_eq!(image_libc("nginx"), Glibc);
        assert_eq!(image_libc("registry.k8s.io/coredns/coredns:v1.11.1"), Glibc);
        assert_eq!(image_libc("traefik/whoami"), Glibc);
    }

    #[test]
    fn kubeadm_corefile_parses_with_its_plugins() {
        let text = KUBEADM_COREFILE.replace("DOMAIN", "cluster.local");
        let c = crate::dns::corefile::Corefile::parse(&text).unwrap();
        assert_eq!((c.zone.as_str(), c.port), (".", 53));
        assert!(c
            .find(|p| matches!(p, crate::dns::corefile::Plugin::Kubernetes { ttl: 30, .. }))
            .is_some());
        assert!(c
            .find(|p| matches!(
                p,
                crate::dns::corefile::Plugin::Forward {
                    to: crate::dns::corefile::ForwardTo::ResolvConf,
                    ..
                }
            ))
            .is_some());
    }
}
