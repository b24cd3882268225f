//! The cluster after validation: what the API server would hold (nodes, pods, services
//! with their allocated addresses and ports), from which the CNI and kube-proxy modules
//! derive every node's devices, routes and rules.

use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The CNI plugin that wires pods to nodes and nodes to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cni {
    /// Calico with BIRD routing and IPIP encapsulation `Always` (the documents' clusters):
    /// `cali*` veths, proxy ARP, /32 routes, blackhole block routes, `tunl0`.
    CalicoIpip,
    /// Calico with VXLAN `Always` (no BGP): `vxlan.calico` (VNI 4096, UDP 4789) and
    /// felix's per-block routes via the remote node's tunnel address, onlink.
    CalicoVxlan,
    /// flannel's vxlan backend: `flannel.1` (VNI 1, UDP 8472), the `cni0` bridge, a /24
    /// per node.
    FlannelVxlan,
    /// Weave Net: one `weave` bridge across the nodes (mtu 1376), fast datapath modelled
    /// as a VXLAN bridge port on UDP 6784.
    Weave,
    /// A bridge per node (`cni0`, the node's pod CIDR's first address) and plain routes
    /// to the other nodes' pod CIDRs (004's "Pod Networking" by hand, kubenet-like).
    BridgeRoutes,
}

impl Cni {
    /// Calico, either encapsulation.
    pub fn is_calico(self) -> bool {
        matches!(self, Cni::CalicoIpip | Cni::CalicoVxlan)
    }

    /// The name as written in `cni:`.
    pub fn name(self) -> &'static str {
        match self {
            Cni::CalicoIpip => "calico-ipip",
            Cni::CalicoVxlan => "calico-vxlan",
            Cni::FlannelVxlan => "flannel-vxlan",
            Cni::Weave => "weave",
            Cni::BridgeRoutes => "bridge-routes",
        }
    }
}

/// kube-proxy's options that change the rules it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KubeProxyConfig {
    /// iptables supports `--random-fully` (>= 1.6.2): `MASQUERADE --random-fully`.
    pub random_fully: bool,
    /// The nfacct counters could be created (kube-proxy >= 1.31 with nfacct in the kernel).
    pub nfacct: bool,
    /// `--masquerade-all`.
    pub masquerade_all: bool,
    /// `--iptables-localhost-nodeports` (default true).
    pub localhost_nodeports: bool,
    /// kubelet created KUBE-FIREWALL before kube-proxy started (kubeadm nodes): its jump
    /// ends up last in INPUT/OUTPUT.
    pub kubelet_firewall_first: bool,
}

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs the API server (and, tainted, no Deployment replicas).
    ControlPlane,
    /// Runs workloads.
    Worker,
}

/// A node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Its name (the machine's name).
    pub name: String,
    /// Its address on the LAN, with the LAN's prefix length (eth0).
    pub ip: Ipv4Net,
    /// Its default gateway, if the cluster spans several LANs.
    pub gateway: Option<Ipv4Addr>,
    /// Control plane or worker.
    pub role: Role,
    /// Its pod address range: Calico's IPAM block, or the node's podCIDR.
    pub pod_cidr: Option<Ipv4Net>,
    /// eth0's MAC, if given.
    pub mac: Option<crate::wire::Mac>,
    /// Calico: the tunnel device's address (the block's first address).
    pub tunnel_addr: Option<Ipv4Addr>,
    /// Where it was defined.
    pub line: usize,
}

/// A machine outside the cluster on one of the LANs (a client).
#[derive(Clone, Debug, PartialEq)]
pub struct External {
    /// Its name.
    pub name: String,
    /// Its address with the LAN's prefix length.
    pub ip: Ipv4Net,
    /// Its default gateway.
    pub gateway: Option<Ipv4Addr>,
    /// Listening sockets, as in topology files.
    pub listen: Vec<String>,
    /// A DNS server process on it (the internet's 1.1.1.1).
    pub dns_server: Option<super::plan::DnsServerPlan>,
}

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` / `udp` (`strings.ToLower(string(protocol))`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A container port.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerPort {
    /// The port.
    pub port: u16,
    /// Its name (a Service's `targetPort` may name it).
    pub name: Option<String>,
    /// TCP or UDP.
    pub proto: Protocol,
}

/// A container: it shares the pod's network namespace (the pause container's).
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// Its name.
    pub name: String,
    /// Its image, for the reader.
    pub image: Option<String>,
    /// The ports it listens on.
    pub ports: Vec<ContainerPort>,
}

/// A pod.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    /// Kubernetes namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Index of its node.
    pub node: usize,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// An address the file asks for, with where it was written.
    pub requested_ip: Option<(Ipv4Addr, usize, usize)>,
    /// Its address (after IPAM).
    pub ip: Ipv4Addr,
    /// Its containers.
    pub containers: Vec<Container>,
    /// Where it was defined.
    pub line: usize,
}

/// A Service's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceType {
    /// A virtual address inside the cluster.
    ClusterIp,
    /// ClusterIP plus a port on every node.
    NodePort,
    /// NodePort plus an external load-balancer address.
    LoadBalancer,
}

/// `spec.clusterIP` as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterIp {
    /// Allocated from the service CIDR.
    Auto,
    /// Given, with its line and column.
    Fixed(Ipv4Addr, usize, usize),
    /// `None`: headless, kube-proxy ignores the service.
    Headless,
}

/// `targetPort`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A number.
    Number(u16),
    /// The name of a container port.
    Name(String),
}

/// One port of a Service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServicePort {
    /// Its name (empty for the single unnamed port).
    pub name: Option<String>,
    /// The service port.
    pub port: u16,
    /// The endpoints' port.
    pub target: Target,
    /// TCP or UDP.
    pub proto: Protocol,
    /// The node port (given, or allocated for NodePort/LoadBalancer).
    pub node_port: Option<u16>,
    /// Where it was written.
    pub line: usize,
    /// Column.
    pub column: usize,
}

/// A Service.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Kubernetes namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: ServiceType,
    /// As written.
    pub cluster_ip: ClusterIp,
    /// The cluster IP after allocation (`None` for headless).
    pub allocated_ip: Option<Ipv4Addr>,
    /// Label selector.
    pub selector: BTreeMap<String, String>,
    /// Ports.
    pub ports: Vec<ServicePort>,
    /// `externalTrafficPolicy: Local`.
    pub etp_local: bool,
    /// `internalTrafficPolicy: Local`.
    pub itp_local: bool,
    /// `status.loadBalancer.ingress[].ip`.
    pub lb_ips: Vec<Ipv4Addr>,
    /// `loadBalancerSourceRanges`.
    pub lb_source_ranges: Vec<Ipv4Net>,
    /// `externalIPs`.
    pub external_ips: Vec<Ipv4Addr>,
    /// `healthCheckNodePort` (ETP Local NodePort/LoadBalancer; allocated when absent).
    pub health_check_node_port: Option<u16>,
    /// MetalLB L2: the node whose speaker announces the load-balancer addresses, if the
    /// file names it.
    pub announced_by: Option<usize>,
    /// Where it was defined.
    pub line: usize,
}

/// The validated cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Scenario id.
    pub name: String,
    /// Source document.
    pub source: Option<String>,
    /// Free text.
    pub about: Option<String>,
    /// The CNI.
    pub cni: Cni,
    /// The cluster CIDR (Calico's pool, kube-proxy's `--cluster-cidr`).
    pub cluster_cidr: Ipv4Net,
    /// The service CIDR.
    pub service_cidr: Ipv4Net,
    /// Prefix length of a node's pod block.
    pub block_size: u8,
    /// The nodes' LAN MTU.
    pub mtu: u32,
    /// Create `default/kubernetes` (443 -> the control plane's 6443), as the API server does.
    pub kubernetes_service: bool,
    /// `load-balancer: metallb-l2`: MetalLB's speakers announce LoadBalancer addresses by
    /// ARP.
    pub metallb_l2: bool,
    /// kube-proxy's options.
    pub kube_proxy: KubeProxyConfig,
    /// Nodes, in file order.
    pub nodes: Vec<Node>,
    /// The name of the router joining the LANs and the nodes' default gateway
    /// (default `router`).
    pub router: Option<String>,
    /// Machines outside the cluster.
    pub externals: Vec<External>,
    /// Pods (Deployments expanded).
    pub pods: Vec<Pod>,
    /// Services.
    pub services: Vec<Service>,
    /// Cluster DNS: kubelet's `--cluster-dns`/`--cluster-domain`, CoreDNS (docs/cluster.md).
    pub dns: super::dns::ClusterDns,
    /// Ingresses (networking.k8s.io/v1, reduced), in file order.
    pub ingresses: Vec<Ingress>,
    /// The (node, pod name) pairs that more than one pod has, computed once with the
    /// pods (see [`Cluster::clashing_pod_names`]): their namespaces are `NAMESPACE.POD`.
    pub(crate) clashing_names: std::collections::BTreeSet<(usize, String)>,
}

impl Cluster {
    /// The (node, pod name) pairs that more than one of `pods` has.
    pub fn clashing_pod_names(pods: &[Pod]) -> std::collections::BTreeSet<(usize, String)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut twice = std::collections::BTreeSet::new();
        for p in pods {
            let key = (p.node, p.name.clone());
            if !seen.insert(key.clone()) {
                twice.insert(key);
            }
        }
        twice
    }
}

/// An Ingress (networking.k8s.io/v1, reduced to what routing needs).
#[derive(Clone, Debug, PartialEq)]
pub struct Ingress {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `spec.ingressClassName` (ingress-nginx's class is `nginx`).
    pub class: Option<String>,
    /// Its rules' paths, flattened: (host, path, backend).
    pub paths: Vec<IngressPath>,
    /// Where it was defined.
    pub line: usize,
}

/// One `rules[].http.paths[]` entry with its rule's host.
#[derive(Clone, Debug, PartialEq)]
pub struct IngressPath {
    /// The rule's host (`None`: any host).
    pub host: Option<String>,
    /// The path.
    pub path: String,
    /// Exact or Prefix.
    pub path_type: crate::model::http::PathType,
    /// The backend Service, in the Ingress's namespace.
    pub service: String,
    /// The Service port, by number or name.
    pub port: Target,
}

impl Service {
    /// MetalLB L2: the node that announces this service's load-balancer addresses (the
    /// one the file names, or else the first worker: kubeadm labels control planes
    /// `node.kubernetes.io/exclude-from-external-load-balancers`).
    pub fn announcer(&self, c: &Cluster) -> Option<usize> {
        if !c.metallb_l2 || self.lb_ips.is_empty() {
            return None;
        }
        self.announced_by.or_else(|| {
            c.nodes
                .iter()
                .position(|n| n.role == Role::Worker)
                .or(Some(0))
        })
    }
}

impl ServicePort {
    /// `ServicePortName.String()`: `ns/svc:port`, or `ns/svc` for an unnamed port.
    pub fn spn(&self, svc: &Service) -> String {
        match &self.name {
            Some(n) if !n.is_empty() => format!("{}/{}:{n}", svc.namespace, svc.name),
            _ => format!("{}/{}", svc.namespace, svc.name),
        }
    }
}
