//! Per-namespace sysctls the packet path depends on.

use super::IfId;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `net.ipv4.conf.<dev|all|default>.*` values the simulator models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DevConf {
    /// `forwarding`: forward packets that arrive on this device.
    pub forwarding: bool,
    /// `proxy_arp`: answer ARP for addresses routed through another device.
    pub proxy_arp: bool,
    /// `send_redirects`.
    pub send_redirects: bool,
    /// `rp_filter` (0 off, 1 strict, 2 loose). Stored and shown; not yet enforced.
    pub rp_filter: u8,
    /// `route_localnet` (Calico sets it on its veths). Stored and shown; 127/8 routing
    /// is not modelled.
    pub route_localnet: bool,
    /// `net.ipv4.neigh.<dev>.proxy_delay` (in 1/100 s, 80 by default; Calico sets 0).
    /// Stored and shown; hopsim answers proxy ARP at once.
    pub proxy_delay: u32,
}

impl Default for DevConf {
    fn default() -> Self {
        DevConf {
            forwarding: false,
            proxy_arp: false,
            send_redirects: true,
            rp_filter: 0,
            route_localnet: false,
            proxy_delay: 80,
        }
    }
}

/// The sysctls of one namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sysctls {
    /// `net.ipv4.conf.all.*` (`net.ipv4.ip_forward` is `all.forwarding`).
    pub all: DevConf,
    /// `net.ipv4.conf.default.*`: copied into each device created afterwards.
    pub default: DevConf,
    /// `net.ipv4.conf.<dev>.*` (shared between copies of the world until one writes:
    /// a node has one per pod veth, and a trace that touches the node copies the rest).
    pub dev: Arc<BTreeMap<IfId, DevConf>>,
    /// `net.bridge.bridge-nf-call-iptables` (1 by default on the kernel measured here).
    pub bridge_nf_call_iptables: bool,
    /// `net.bridge.bridge-nf-call-arptables`.
    pub bridge_nf_call_arptables: bool,
    /// `net.ipv4.icmp_echo_ignore_all`.
    pub icmp_echo_ignore_all: bool,
    /// `net.ipv4.ip_default_ttl`.
    pub default_ttl: u8,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls {
            all: DevConf::default(),
            default: DevConf::default(),
            dev: Arc::default(),
            bridge_nf_call_iptables: true,
            bridge_nf_call_arptables: true,
            icmp_echo_ignore_all: false,
            default_ttl: 64,
        }
    }
}

impl Sysctls {
    /// `net.ipv4.ip_forward`.
    pub fn ip_forward(&self) -> bool {
        self.all.forwarding
    }

    /// The per-device config (the defaults if the device has none yet).
    pub fn dev_conf(&self, dev: IfId) -> DevConf {
        self.dev_conf_ref(dev).clone()
    }

    fn dev_conf_ref(&self, dev: IfId) -> &DevConf {
        self.dev.get(&dev).unwrap_or(&self.default)
    }

    /// The per-device configs, to change.
    pub fn dev_mut(&mut self) -> &mut BTreeMap<IfId, DevConf> {
        Arc::make_mut(&mut self.dev)
    }

    /// `IN_DEV_FORWARD(in_dev)`: whether packets arriving on `dev` may be forwarded.
    pub fn forwarding(&self, dev: IfId) -> bool {
        self.dev_conf_ref(dev).forwarding
    }

    /// `IN_DEV_PROXY_ARP`: all || dev.
    pub fn proxy_arp(&self, dev: IfId) -> bool {
        self.all.proxy_arp || self.dev_conf_ref(dev).proxy_arp
    }

    /// `IN_DEV_TX_REDIRECTS`: all || dev.
    pub fn send_redirects(&self, dev: IfId) -> bool {
        self.all.send_redirects || self.dev_conf_ref(dev).send_redirects
    }

    /// Writing `net.ipv4.ip_forward` or `conf.all.forwarding` sets `all`, `default` and
    /// every device (`inet_forward_change` in net/ipv4/devinet.c).
    pub fn set_ip_forward(&mut self, on: bool) {
        self.all.forwarding = on;
        self.default.forwarding = on;
        for c in self.dev_mut().values_mut() {
            c.forwarding = on;
        }
    }
}
