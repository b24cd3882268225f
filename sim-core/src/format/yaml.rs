//! YAML topologies (see docs/format.md): parsed with serde-saphyr, keeping the line and
//! column of every value so that a semantic error (a gateway off-link, a veth peer in a
//! namespace that does not exist) points at the text that caused it.

use super::shell::{parse_prefix, Shell};
use super::{script, ExpectSpec, LoadError, LoadOptions, Topology};
use crate::model::{HostId, HostKind, IfId, NsId, World};
use crate::netfilter::{ipset::IpSets, save, Table, TableName};
use crate::wire::Mac;
use indexmap::IndexMap;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;
use std::sync::Arc;

/// A scalar that may be written as a number, a boolean or a string (sysctl values).
#[derive(Clone, Debug, PartialEq)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, a boolean or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(if v { "1".into() } else { "0".into() }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: S<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    about: Option<String>,
    #[serde(default)]
    machines: IndexMap<String, S<MachineSpec>>,
    #[serde(default)]
    namespaces: IndexMap<String, S<NsSpec>>,
    #[serde(default)]
    switches: IndexMap<String, S<SwitchSpec>>,
    #[serde(default)]
    script: Option<S<String>>,
    /// Named `iptables-save` texts that namespaces take tables from
    /// (`iptables-save-from:`), read once however many use them.
    #[serde(default, rename = "iptables-save-texts")]
    iptables_save_texts: IndexMap<String, S<String>>,
    #[serde(default)]
    expect: Vec<S<ExpectSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchSpec {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineSpec {
    #[serde(default)]
    interfaces: IndexMap<String, S<IfSpec>>,
    #[serde(default)]
    routes: Vec<S<String>>,
    #[serde(default)]
    neigh: Vec<S<String>>,
    #[serde(default)]
    sysctl: IndexMap<String, S<Scalar>>,
    #[serde(default)]
    ipsets: IndexMap<String, S<IpsetSpec>>,
    #[serde(default)]
    iptables: Vec<S<String>>,
    #[serde(default, rename = "iptables-save")]
    iptables_save: Option<S<String>>,
    #[serde(default, rename = "iptables-save-from")]
    iptables_save_from: Vec<S<String>>,
    #[serde(default)]
    listen: Vec<S<String>>,
    #[serde(default, rename = "arp-responder")]
    arp_responder: Vec<S<String>>,
    #[serde(default)]
    hosts: Option<S<String>>,
    #[serde(default, rename = "resolv-conf")]
    resolv_conf: Option<S<String>>,
    #[serde(default)]
    libc: Option<S<String>>,
    #[serde(default, rename = "dns-server")]
    dns_server: Option<S<DnsServerSpec>>,
    #[serde(default)]
    http: Vec<S<String>>,
    #[serde(default)]
    namespaces: IndexMap<String, S<NsSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NsSpec {
    #[serde(default)]
    interfaces: IndexMap<String, S<IfSpec>>,
    #[serde(default)]
    routes: Vec<S<String>>,
    #[serde(default)]
    neigh: Vec<S<String>>,
    #[serde(default)]
    sysctl: IndexMap<String, S<Scalar>>,
    #[serde(default)]
    ipsets: IndexMap<String, S<IpsetSpec>>,
    #[serde(default)]
    iptables: Vec<S<String>>,
    #[serde(default, rename = "iptables-save")]
    iptables_save: Option<S<String>>,
    #[serde(default, rename = "iptables-save-from")]
    iptables_save_from: Vec<S<String>>,
    #[serde(default)]
    listen: Vec<S<String>>,
    #[serde(default, rename = "arp-responder")]
    arp_responder: Vec<S<String>>,
    #[serde(default)]
    hosts: Option<S<String>>,
    #[serde(default, rename = "resolv-conf")]
    resolv_conf: Option<S<String>>,
    #[serde(default)]
    libc: Option<S<String>>,
    #[serde(default, rename = "dns-server")]
    dns_server: Option<S<DnsServerSpec>>,
    #[serde(default)]
    http: Vec<S<String>>,
}

/// A DNS server process (docs/dns.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DnsServerSpec {
    #[serde(default)]
    process: Option<String>,
    #[serde(default)]
    records: Option<S<String>>,
    #[serde(default)]
    forward: Vec<S<String>>,
    #[serde(default)]
    recursive: bool,
    #[serde(default)]
    corefile: Option<S<String>>,
    #[serde(default)]
    kubernetes: Option<S<K8sViewSpec>>,
}

/// What a CoreDNS kubernetes plugin watches.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct K8sViewSpec {
    #[serde(default)]
    services: Vec<S<String>>,
    #[serde(default)]
    namespaces: Vec<String>,
}

/// One IP set: `ipset create NAME TYPE [hashsize N] [maxelem N]`, then `ipset add` of
/// each member.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IpsetSpec {
    #[serde(rename = "type")]
    kind: S<String>,
    #[serde(default)]
    members: Vec<S<String>>,
    #[serde(default)]
    hashsize: Option<u32>,
    #[serde(default)]
    maxelem: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IfSpec {
    #[serde(default, rename = "type")]
    kind: Option<S<String>>,
    #[serde(default)]
    veth: Option<S<String>>,
    #[serde(default)]
    cable: Option<S<String>>,
    #[serde(default)]
    addr: Option<S<String>>,
    #[serde(default)]
    addrs: Vec<S<String>>,
    #[serde(default)]
    mac: Option<S<String>>,
    #[serde(default)]
    mtu: Option<S<u32>>,
    #[serde(default)]
    master: Option<S<String>>,
    #[serde(default)]
    up: Option<bool>,
    /// For `type: ipip` and `type: vxlan`: what follows `ip link add NAME type KIND`.
    #[serde(default)]
    options: Option<S<String>>,
    /// For `type: vxlan`: FDB entries, `MAC dst IP` (as `bridge fdb append`).
    #[serde(default)]
    fdb: Vec<S<String>>,
}

struct Builder {
    world: World,
    /// Namespace name as written (`red`, `host`) to id.
    ns_by_name: IndexMap<String, NsId>,
    switch_bridge: IndexMap<String, (NsId, IfId)>,
}

fn err_at<T>(file: &str, s: &S<T>, msg: impl Into<String>) -> LoadError {
    LoadError::at(
        file,
        s.referenced.line() as usize,
        s.referenced.column() as usize,
        msg,
    )
}

impl Builder {
    fn ns(&self, name: &str) -> Option<NsId> {
        self.ns_by_name.get(name).copied()
    }

    /// Resolve `NS/DEV` (or `MACHINE/NS/DEV`) to a namespace and a device name.
    fn split_ref<'s>(&self, r: &'s str) -> Option<(NsId, &'s str)> {
        let (ns, dev) = r.rsplit_once('/')?;
        Some((self.ns(ns)?, dev))
    }
}

/// The YAML reader's limits for a topology. serde-saphyr's defaults (250,000 nodes,
/// 1,000,000 events, 64 MiB of scalar text) are sized for configuration files; the
/// compiled text of a large cluster is bigger (100 nodes and 5,000 Services: 66 MiB,
/// 566,030 nodes, 723,353 events, 55 MiB of scalars), so these scale with the file size hopsim
/// reads ([`super::MAX_INPUT_BYTES`], 256 MiB: 16 times the nodes and events, scalar
/// text up to the file size). The limits against alias bombs and deep nesting keep
/// their defaults.
fn topology_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: 4_000_000,
            max_events: 16_000_000,
            max_total_scalar_bytes: super::MAX_INPUT_BYTES as usize,
        },
    }
}

/// Load a YAML topology.
pub fn load_yaml(path: &Path, text: &str, opts: LoadOptions) -> Result<Topology, LoadError> {
    let file = path.display().to_string();
    let spec: FileSpec =
        serde_saphyr::from_str_with_options(text, topology_options()).map_err(|e| {
            super::saphyr_error(&file, &e, |first| {
                if first.contains("unknown field") {
                    "see docs/format.md for the keys each section takes"
                } else {
                    "check the indentation and the value's type against docs/format.md"
                }
            })
        })?;
    load_spec(path, spec, opts)
}

/// Load a compiled cluster's topology (its rule texts left out: the cluster loader
/// installs them, shared) from the plan itself: the values `Plan::to_yaml` writes, given
/// to the same loader without the YAML text between (a cluster of 15,000 pods is 20 MB of
/// it). Its values have no place in a file: an error is the compiler's (a hopsim bug).
pub(crate) fn load_plan(
    path: &Path,
    plan: &crate::cluster::plan::Plan,
    opts: LoadOptions,
) -> Result<Topology, LoadError> {
    let spec = FileSpec {
        name: at(plan.name.clone()),
        source: plan.source.clone(),
        about: plan.about.clone(),
        machines: plan
            .machines
            .iter()
            .map(|m| {
                let root = ns_of_plan(&m.root);
                let machine = MachineSpec {
                    interfaces: root.interfaces,
                    routes: root.routes,
                    neigh: root.neigh,
                    sysctl: root.sysctl,
                    ipsets: root.ipsets,
                    iptables: root.iptables,
                    iptables_save: root.iptables_save,
                    iptables_save_from: root.iptables_save_from,
                    listen: root.listen,
                    arp_responder: root.arp_responder,
                    hosts: root.hosts,
                    resolv_conf: root.resolv_conf,
                    libc: root.libc,
                    dns_server: root.dns_server,
                    http: root.http,
                    namespaces: m
                        .namespaces
                        .iter()
                        .map(|(n, ns)| (n.clone(), at(ns_of_plan(ns))))
                        .collect(),
                };
                (m.name.clone(), at(machine))
            })
            .collect(),
        namespaces: IndexMap::new(),
        switches: plan
            .switches
            .iter()
            .map(|s| (s.clone(), at(SwitchSpec {})))
            .collect(),
        script: None,
        iptables_save_texts: IndexMap::new(),
        expect: Vec::new(),
    };
    load_spec(path, spec, opts)
}

/// A value of a plan: no place in a file.
fn at<T>(value: T) -> S<T> {
    use serde_saphyr::Location;
    S::new(value, Location::UNKNOWN, Location::UNKNOWN)
}

fn strings(v: &[String]) -> Vec<S<String>> {
    v.iter().map(|x| at(x.clone())).collect()
}

/// A namespace of a plan as its spec: what `write_ns` of `Plan::to_yaml` writes, without
/// the rules.
fn ns_of_plan(ns: &crate::cluster::plan::NsPlan) -> NsSpec {
    let interfaces = ns
        .interfaces
        .iter()
        .map(|i| {
            let spec = IfSpec {
                kind: i.kind.map(|k| at(k.to_string())),
                veth: i.veth.clone().map(at),
                cable: i.cable.clone().map(at),
                addr: None,
                addrs: strings(&i.addrs),
                mac: i.mac.clone().map(at),
                mtu: i.mtu.map(at),
                master: i.master.clone().map(at),
                up: None,
                options: i.options.clone().map(at),
                fdb: strings(&i.fdb),
            };
            (i.name.clone(), at(spec))
        })
        .collect();
    let ipsets = ns
        .ipsets
        .iter()
        .map(|set| {
            let spec = IpsetSpec {
                kind: at(set.kind.to_string()),
                members: strings(&set.members),
                hashsize: None,
                maxelem: None,
            };
            (set.name.clone(), at(spec))
        })
        .collect();
    let dns_server = ns.dns_server.as_ref().map(|d| {
        let kubernetes = (!d.services.is_empty() || !d.namespaces.is_empty()).then(|| {
            at(K8sViewSpec {
                services: strings(&d.services),
                namespaces: d.namespaces.clone(),
            })
        });
        at(DnsServerSpec {
            process: d.process.clone(),
            records: d.records.clone().map(at),
            forward: strings(&d.forward),
            recursive: d.recursive,
            corefile: d.corefile.clone().map(at),
            kubernetes,
        })
    });
    NsSpec {
        interfaces,
        routes: strings(&ns.routes),
        neigh: strings(&ns.neigh),
        sysctl: ns
            .sysctl
            .iter()
            .map(|(k, v)| (k.clone(), at(Scalar(v.clone()))))
            .collect(),
        ipsets,
        iptables: Vec::new(),
        iptables_save: None,
        iptables_save_from: Vec::new(),
        listen: strings(&ns.listen),
        arp_responder: strings(&ns.arp_responders),
        hosts: ns.hosts.clone().map(at),
        resolv_conf: ns.resolv_conf.clone().map(at),
        libc: ns.libc.map(|l| at(l.to_string())),
        dns_server,
        http: strings(&ns.http),
    }
}

/// Build the world of a topology file's values.
fn load_spec(path: &Path, spec: FileSpec, opts: LoadOptions) -> Result<Topology, LoadError> {
    let file = path.display().to_string();
    let mut b = Builder {
        world: World::new(),
        ns_by_name: IndexMap::new(),
        switch_bridge: IndexMap::new(),
    };
    let mut expects = Vec::new();
    for e in spec.expect {
        let (line, col) = (e.referenced.line() as usize, e.referenced.column() as usize);
        expects.push(e.value.resolve(&file, line, col)?);
    }
    if let Some(s) = &spec.script {
        if !spec.machines.is_empty()
            || !spec.namespaces.is_empty()
            || !spec.switches.is_empty()
            || !spec.iptables_save_texts.is_empty()
        {
            return Err(err_at(
                &file,
                s,
                "script: and machines/namespaces/switches/iptables-save-texts cannot be combined",
            )
            .hint("a topology is either built by a script or described in YAML"));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let spath = dir.join(&s.value);
        let stext = super::read_input(&spath).map_err(|e| {
            let mut le = err_at(
                &file,
                s,
                format!("script {}: {}", spath.display(), e.message),
            );
            le.hint = e.hint;
            le
        })?;
        let run = script::run_script(&spath.display().to_string(), &stext, opts)?;
        return Ok(Topology {
            path: path.to_path_buf(),
            name: spec.name.value,
            source: spec.source,
            about: spec.about,
            world: run.world.clone(),
            expects,
            script: Some(run),
        });
    }
    // Machines: the declared ones, plus `host` for top-level namespaces.
    let mut machines: Vec<(String, MachineSpec)> = Vec::new();
    for (name, m) in spec.machines {
        machines.push((name, m.value));
    }
    if !spec.namespaces.is_empty() {
        match machines.iter_mut().find(|(n, _)| n == "host") {
            Some((_, m)) => {
                for (k, v) in spec.namespaces {
                    m.namespaces.insert(k, v);
                }
            }
            None => machines.push((
                "host".into(),
                MachineSpec {
                    namespaces: spec.namespaces,
                    ..MachineSpec::default()
                },
            )),
        }
    }
    if machines.is_empty() {
        return Err(err_at(
            &file,
            &spec.name,
            "no machines, namespaces or script: nothing to simulate",
        )
        .hint("add `namespaces:` (on the machine `host`) or `machines:`"));
    }
    // Pass 1: machines, switches, namespaces.
    let mut hosts: Vec<HostId> = Vec::new();
    for (name, _) in &machines {
        if b.ns_by_name.contains_key(name) {
            return Err(LoadError::at(
                &file,
                0,
                0,
                format!("duplicate machine name \"{name}\""),
            ));
        }
        let h = b.world.add_host(name, HostKind::Linux);
        hosts.push(h);
        b.ns_by_name.insert(name.clone(), b.world.hosts[h].root);
    }
    for (name, s) in &spec.switches {
        if b.ns_by_name.contains_key(name) {
            return Err(err_at(
                &file,
                s,
                format!("switch \"{name}\" has the name of a machine or namespace"),
            ));
        }
        let h = b.world.add_host(name, HostKind::Switch);
        let ns = b.world.hosts[h].root;
        let br = b
            .world
            .add_bridge(ns, name)
            .map_err(|e| err_at(&file, s, e.msg))?;
        b.world.link_up(br);
        b.switch_bridge.insert(name.clone(), (ns, br));
    }
    let mut all_ns: Vec<(NsId, NsSpec)> = Vec::new();
    let mut local_names: IndexMap<String, usize> = IndexMap::new();
    for (_, m) in &machines {
        for k in m.namespaces.keys() {
            *local_names.entry(k.clone()).or_default() += 1;
        }
    }
    for ((mname, m), h) in machines.into_iter().zip(hosts.iter().copied()) {
        let root = b.world.hosts[h].root;
        all_ns.push((
            root,
            NsSpec {
                interfaces: m.interfaces,
                routes: m.routes,
                neigh: m.neigh,
                sysctl: m.sysctl,
                ipsets: m.ipsets,
                iptables: m.iptables,
                iptables_save: m.iptables_save,
                iptables_save_from: m.iptables_save_from,
                listen: m.listen,
                arp_responder: m.arp_responder,
                hosts: m.hosts,
                resolv_conf: m.resolv_conf,
                libc: m.libc,
                dns_server: m.dns_server,
                http: m.http,
            },
        ));
        for (nsname, nspec) in m.namespaces {
            let display = if local_names.get(&nsname).copied().unwrap_or(0) > 1
                || b.ns_by_name.contains_key(&nsname)
            {
                format!("{mname}/{nsname}")
            } else {
                nsname.clone()
            };
            let id = b
                .world
                .add_netns(h, &nsname, &display)
                .map_err(|e| err_at(&file, &nspec, e.msg))?;
            b.ns_by_name.insert(display.clone(), id);
            all_ns.push((id, nspec.value));
        }
    }
    // Pass 2: devices. veth pairs first, from whichever end declares them.
    let mut created: IndexMap<(NsId, String), IfId> = IndexMap::new();
    for (ns, spec) in &all_ns {
        for (dev, s) in &spec.interfaces {
            if let Some(peer) = &s.value.veth {
                let Some((pns, pdev)) = b.split_ref(&peer.value) else {
                    return Err(err_at(
                        &file,
                        peer,
                        format!(
                            "veth peer \"{}\" is not NAMESPACE/DEVICE of a known namespace",
                            peer.value
                        ),
                    )
                    .hint(format!(
                        "known namespaces: {}",
                        b.ns_by_name.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                };
                if let Some(existing) = created.get(&(*ns, dev.clone())) {
                    // Declared from both ends: must agree.
                    let agrees = b
                        .world
                        .iface(*existing)
                        .and_then(|i| i.wire_peer())
                        .and_then(|p| b.world.iface(p))
                        .is_some_and(|p| p.ns == pns && p.name == pdev);
                    if !agrees {
                        return Err(err_at(
                            &file,
                            peer,
                            format!("{dev} is already the peer of another veth"),
                        ));
                    }
                    continue;
                }
                let (a, pb) = b.world.add_veth(*ns, dev, pns, pdev).map_err(|e| {
                    err_at(&file, s, format!("{dev}: {}", e.msg))
                        .hint("a device name may appear once per namespace")
                })?;
                created.insert((*ns, dev.clone()), a);
                created.insert((pns, pdev.to_string()), pb);
            }
        }
    }
    for (ns, spec) in &all_ns {
        for (dev, s) in &spec.interfaces {
            if created.contains_key(&(*ns, dev.clone())) || dev == "lo" {
                continue;
            }
            let kind = s
                .value
                .kind
                .as_ref()
                .map(|k| k.value.as_str())
                .unwrap_or("nic");
            if matches!(kind, "ipip" | "vxlan") {
                // Tunnels come after every other device: `dev eth0` names their underlay.
                continue;
            }
            let r = match kind {
                "nic" | "ether" | "eth" => b.world.add_nic(*ns, dev),
                "bridge" => b.world.add_bridge(*ns, dev),
                "dummy" => b.world.add_dummy(*ns, dev),
                "veth" => {
                    return Err(err_at(
                        &file,
                        s,
                        format!("{dev}: a veth needs `veth: NAMESPACE/PEER`"),
                    )
                    .hint("name the other end, e.g. `veth: blue/veth-blue`"))
                }
                other => {
                    let e = match &s.value.kind {
                        Some(k) => err_at(&file, k, format!("unknown interface type \"{other}\"")),
                        None => err_at(&file, s, format!("unknown interface type \"{other}\"")),
                    };
                    return Err(e.hint("types: nic, veth, bridge, dummy, ipip, vxlan"));
                }
            };
            let id = r.map_err(|e| err_at(&file, s, format!("{dev}: {}", e.msg)))?;
            created.insert((*ns, dev.clone()), id);
        }
    }
    for (ns, spec) in &all_ns {
        for (dev, s) in &spec.interfaces {
            let Some(kind) = s.value.kind.as_ref().map(|k| k.value.as_str()) else {
                continue;
            };
            if !matches!(kind, "ipip" | "vxlan") || created.contains_key(&(*ns, dev.clone())) {
                continue;
            }
            let options = s.value.options.as_ref();
            let id = if kind == "ipip" && dev == "tunl0" && options.is_none() {
                // The ipip module's fallback device: it exists once the module is loaded.
                b.world.load_ipip(*ns);
                b.world.find_iface(*ns, "tunl0")
            } else {
                let at: &dyn Fn(String) -> LoadError = &|m| match options {
                    Some(o) => err_at(&file, o, m),
                    None => err_at(&file, s, m),
                };
                let host = b.world.netns[*ns].host;
                let cmd = format!(
                    "ip link add {dev} type {kind} {}",
                    options.map(|o| o.value.as_str()).unwrap_or("")
                );
                let res = Shell {
                    world: &mut b.world,
                    host,
                }
                .run_command(*ns, cmd.trim_end());
                if res.status != 0 {
                    let first = res.stderr.lines().next().unwrap_or("").to_string();
                    return Err(at(format!("{dev}: {first}")).hint(if kind == "vxlan" {
                        "options are what follows `ip link add NAME type vxlan`, e.g. `id 1 local 192.168.1.12 dev eth0 dstport 8472 nolearning`"
                    } else {
                        "options are what follows `ip link add NAME type ipip`, e.g. `remote 192.168.1.13 local 192.168.1.12`; a bare `tunl0` is the module's fallback device"
                    }));
                }
                b.world.find_iface(*ns, dev)
            };
            let id = id.ok_or_else(|| err_at(&file, s, format!("{dev}: not created")))?;
            created.insert((*ns, dev.clone()), id);
        }
    }
    // Pass 3: device settings, addresses, cables, state.
    let mut port_no: IndexMap<String, usize> = IndexMap::new();
    for (ns, spec) in &all_ns {
        for (dev, s) in &spec.interfaces {
            let id = if dev == "lo" {
                b.world
                    .find_iface(*ns, "lo")
                    .ok_or_else(|| err_at(&file, s, "no lo"))?
            } else {
                created[&(*ns, dev.clone())]
            };
            let v = &s.value;
            if let Some(m) = &v.mac {
                let mac: Mac = m
                    .value
                    .parse()
                    .map_err(|e: crate::wire::mac::MacParseError| {
                        err_at(&file, m, e.to_string())
                    })?;
                b.world
                    .set_mac(id, mac)
                    .map_err(|e| err_at(&file, m, e.msg))?;
            }
            if let Some(m) = &v.mtu {
                b.world
                    .set_mtu(id, m.value)
                    .map_err(|e| err_at(&file, m, e.msg))?;
            }
            for f in &v.fdb {
                let host = b.world.netns[*ns].host;
                let res = Shell {
                    world: &mut b.world,
                    host,
                }
                .run_command(*ns, &format!("bridge fdb append {} dev {dev}", f.value));
                if res.status != 0 {
                    return Err(err_at(&file, f, format!("fdb: {}", res.stderr.trim_end()))
                        .hint("write `MAC dst IP`, e.g. `66:c0:d0:7a:17:07 dst 192.168.1.13`, on a vxlan device"));
                }
            }
            if let Some(br) = &v.master {
                let brid = b.world.find_iface(*ns, &br.value).ok_or_else(|| {
                    err_at(
                        &file,
                        br,
                        format!("master: no bridge \"{}\" in this namespace", br.value),
                    )
                })?;
                b.world
                    .set_master(id, brid)
                    .map_err(|e| err_at(&file, br, e.msg))?;
            }
            if let Some(c) = &v.cable {
                let other = if let Some((sns, sbr)) = b.switch_bridge.get(&c.value).copied() {
                    let n = port_no.entry(c.value.clone()).or_insert(0);
                    *n += 1;
                    let p = b
                        .world
                        .add_nic(sns, &format!("port{n}"))
                        .map_err(|e| err_at(&file, c, e.msg))?;
                    b.world
                        .set_master(p, sbr)
                        .map_err(|e| err_at(&file, c, e.msg))?;
                    b.world.link_up(p);
                    p
                } else {
                    let (pns, pdev) = b.split_ref(&c.value).ok_or_else(|| {
                        err_at(
                            &file,
                            c,
                            format!(
                                "cable: \"{}\" is neither a switch nor MACHINE/DEVICE",
                                c.value
                            ),
                        )
                    })?;
                    b.world.find_iface(pns, pdev).ok_or_else(|| {
                        err_at(&file, c, format!("cable: no device \"{}\"", c.value))
                    })?
                };
                b.world.cable(id, other).map_err(|e| err_at(&file, c, e))?;
            }
            let mut addrs: Vec<&S<String>> = v.addr.iter().collect();
            addrs.extend(v.addrs.iter());
            for a in addrs {
                let (text, brd) = match a.value.split_once(" brd ") {
                    Some((t, b)) => (t.trim(), Some(b.trim())),
                    None => (a.value.trim(), None),
                };
                let bad = || {
                    err_at(
                        &file,
                        a,
                        format!(
                            "\"{}\" is not an IPv4 address with an optional /LEN (and `brd +`)",
                            a.value
                        ),
                    )
                };
                let (net, _) = parse_prefix(text)
                    .filter(|_| text != "default")
                    .ok_or_else(bad)?;
                let brd = match brd {
                    None => None,
                    Some("+") => Some(net.broadcast()),
                    Some(b) => Some(super::shell::parse_inet(b).ok_or_else(bad)?),
                };
                b.world
                    .addr_add_brd(id, net, brd)
                    .map_err(|e| err_at(&file, a, e.msg))?;
            }
            if v.up.unwrap_or(true) {
                b.world.link_up(id);
            }
        }
    }
    // veth ends created implicitly as a peer and not listed come up with their pair.
    // (A map of the namespaces' specs: a search of all of them for each device is
    // quadratic in a cluster's pods.)
    let spec_of: std::collections::HashMap<NsId, &NsSpec> =
        all_ns.iter().map(|(n, s)| (*n, s)).collect();
    for ((ns, dev), id) in &created {
        let listed = spec_of
            .get(ns)
            .is_some_and(|s| s.interfaces.contains_key(dev));
        if !listed {
            b.world.link_up(*id);
        }
    }
    let mut shared = SharedRules::new(&spec.iptables_save_texts);
    // Pass 4: sysctls, routes, neighbours, each through the shell so they mean exactly
    // what the commands mean.
    for (ns, spec) in &all_ns {
        let host = b.world.netns[*ns].host;
        for (k, v) in &spec.sysctl {
            b.world
                .sysctl_set(*ns, k, &v.value.0)
                .map_err(|e| err_at(&file, v, e.msg))?;
        }
        for r in &spec.routes {
            let res = Shell {
                world: &mut b.world,
                host,
            }
            .run_command(*ns, &format!("ip route add {}", r.value));
            if res.status != 0 {
                return Err(err_at(&file, r, res.stderr.trim_end().to_string())
                    .hint(route_hint(&res.stderr)));
            }
        }
        // IP sets before the rules that name them.
        for (name, set) in &spec.ipsets {
            let mut create = format!(
                "ipset create {} {}",
                crate::format::shell::quote(name),
                crate::format::shell::quote(&set.value.kind.value)
            );
            if let Some(n) = set.value.hashsize {
                create.push_str(&format!(" hashsize {n}"));
            }
            if let Some(n) = set.value.maxelem {
                create.push_str(&format!(" maxelem {n}"));
            }
            let mut sh = Shell {
                world: &mut b.world,
                host,
            };
            let res = sh.run_command(*ns, &create);
            if res.status != 0 {
                return Err(err_at(&file, set, res.stderr.trim_end().to_string())
                    .hint("a set is `NAME: { type: hash:net, members: [10.0.0.0/8, 192.168.1.2] }` (types: hash:ip, hash:net)"));
            }
            for m in &set.value.members {
                let res = sh.run_command(
                    *ns,
                    &format!(
                        "ipset add {} {}",
                        crate::format::shell::quote(name),
                        crate::format::shell::quote(&m.value)
                    ),
                );
                if res.status != 0 {
                    return Err(err_at(&file, m, res.stderr.trim_end().to_string())
                        .hint("a member is an address, or for hash:net a network (10.0.0.0/8)"));
                }
            }
        }
        if let Some(text) = &spec.iptables_save {
            let sets = b.world.netns[*ns].netfilter.ipsets.clone();
            let nf = crate::netfilter::save::parse_restore_with_sets(&text.value, &sets).map_err(
                |e| {
                    // The scalar's span starts at its first line (the one after
                    // `iptables-save: |`), which is the restore text's line 1.
                    file_err(&file, text, "iptables-save", e.line, e.msg.trim_end())
                    .hint(if e.msg.contains("doesn't exist.") {
                        "declare the IP sets the rules name under `ipsets:` of the same namespace"
                    } else {
                        "paste the output of `iptables-save` as it is"
                    })
                },
            )?;
            b.world.netns[*ns].netfilter = nf;
        }
        shared.install(&file, &mut b.world, *ns, spec)?;
        for r in &spec.iptables {
            let res = Shell {
                world: &mut b.world,
                host,
            }
            .run_command(*ns, &format!("iptables {}", r.value));
            if res.status != 0 {
                return Err(err_at(&file, r, res.stderr.trim_end().to_string())
                    .hint("write each rule as after `iptables`, e.g. `-t nat -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE`"));
            }
        }
        for l in &spec.listen {
            let listener = parse_listen(&l.value).map_err(|m| {
                err_at(&file, l, m).hint(
                    "write `tcp 80`, `udp 0.0.0.0:53 coredns` or `tcp 192.168.1.10:8080 nginx`",
                )
            })?;
            b.world
                .listen(*ns, listener)
                .map_err(|e| err_at(&file, l, e.msg))?;
        }
        for a in &spec.arp_responder {
            let r = parse_arp_responder(&b.world, *ns, &a.value).map_err(|m| {
                err_at(&file, a, m)
                    .hint("write `DEV ADDR [PROCESS]`, e.g. `eth0 192.168.10.240 metallb-speaker`")
            })?;
            std::sync::Arc::make_mut(&mut b.world.netns[*ns].arp_responders).push(r);
        }
        load_dns(&file, &mut b.world, *ns, spec)?;
        for h in &spec.http {
            let n = &b.world.netns[*ns];
            let name = if n.local_name.is_empty() {
                n.name.to_string()
            } else {
                n.local_name.to_string()
            };
            let mut apps = std::mem::take(&mut b.world.netns[*ns].http);
            let res = crate::model::http::parse_http(
                &h.value,
                &name,
                std::sync::Arc::make_mut(&mut apps),
            );
            b.world.netns[*ns].http = apps;
            res.map_err(|m| {
                err_at(&file, h, m).hint(
                    "write `whoami PORT [HOSTNAME]` or `ingress-nginx PORT HOST PATH Prefix|Exact UPSTREAM ADDR:PORT,...`",
                )
            })?;
            let port: u16 = h
                .value
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let listening = b.world.netns[*ns]
                .sockets
                .iter()
                .any(|l| l.proto == crate::model::L4Proto::Tcp && l.port == port);
            if !listening {
                return Err(err_at(
                    &file,
                    h,
                    format!("http: no socket listens on tcp port {port}"),
                )
                .hint("add the port to `listen:`, e.g. `tcp 80 whoami`"));
            }
        }
        for n in &spec.neigh {
            let res = Shell {
                world: &mut b.world,
                host,
            }
            .run_command(*ns, &format!("ip neigh add {}", n.value));
            if res.status != 0 {
                return Err(err_at(&file, n, res.stderr.trim_end().to_string()));
            }
        }
    }
    shared.check_all_used(&file)?;
    Ok(Topology {
        path: path.to_path_buf(),
        name: spec.name.value,
        source: spec.source,
        about: spec.about,
        world: b.world,
        expects,
        script: None,
    })
}

/// The named texts of `iptables-save-texts:`, each read once for each distinct set of IP
/// sets it is read with (the rules' `-m set` must name sets of the namespace), its tables
/// then shared by every namespace that names it in `iptables-save-from:`.
struct SharedRules<'a> {
    texts: &'a IndexMap<String, S<String>>,
    /// Per text: the sets it was read with and the tables it gave.
    read: IndexMap<&'a str, Vec<ReadText>>,
}

/// A shared text read with these sets: its tables.
type ReadText = (IpSets, Vec<Arc<Table>>);

impl<'a> SharedRules<'a> {
    fn new(texts: &'a IndexMap<String, S<String>>) -> Self {
        SharedRules {
            texts,
            read: IndexMap::new(),
        }
    }

    /// Install the tables of the namespace's `iptables-save-from:` texts, after its own
    /// `iptables-save:`. Each table comes from one text.
    fn install(
        &mut self,
        file: &str,
        world: &mut World,
        ns: NsId,
        spec: &NsSpec,
    ) -> Result<(), LoadError> {
        if spec.iptables_save_from.is_empty() {
            return Ok(());
        }
        // Which text gave each table so far.
        let mut given: Vec<(TableName, String)> = spec
            .iptables_save
            .iter()
            .flat_map(|t| save::restore_table_names(&t.value))
            .map(|t| (t, "iptables-save:".to_string()))
            .collect();
        for r in &spec.iptables_save_from {
            let Some((name, text)) = self.texts.get_key_value(r.value.as_str()) else {
                let known: Vec<&str> = self.texts.keys().map(String::as_str).collect();
                return Err(err_at(
                    file,
                    r,
                    format!(
                        "iptables-save-from: no text \"{}\" under iptables-save-texts:",
                        r.value
                    ),
                )
                .hint(if known.is_empty() {
                    "add it at the top level: `iptables-save-texts: { NAME: | (an iptables-save text) }`".to_string()
                } else {
                    format!("name one of the top-level iptables-save-texts: {}", known.join(", "))
                }));
            };
            for t in save::restore_table_names(&text.value) {
                if let Some((_, by)) = given.iter().find(|(g, _)| *g == t) {
                    return Err(err_at(
                        file,
                        r,
                        format!(
                            "iptables-save-from: table {} of \"{name}\" is already given by {by}",
                            t.name()
                        ),
                    )
                    .hint(
                        "each table of a namespace comes from one text: take it out of one of them",
                    ));
                }
                given.push((t, format!("\"{name}\"")));
            }
            let sets = &world.netns[ns].netfilter.ipsets;
            let read = self.read.entry(name.as_str()).or_default();
            let tables = match read.iter().find(|(s, _)| s == sets) {
                Some((_, t)) => t.clone(),
                None => {
                    let nf = save::parse_restore_with_sets(&text.value, sets).map_err(|e| {
                        file_err(
                            file,
                            text,
                            &format!("iptables-save-texts: {name}"),
                            e.line,
                            e.msg.trim_end(),
                        )
                        .hint(if e.msg.contains("doesn't exist.") {
                            "declare the IP sets the rules name under `ipsets:` of every namespace that takes this text"
                        } else {
                            "paste the output of `iptables-save` as it is"
                        })
                    })?;
                    let t: Vec<Arc<Table>> = save::restore_table_names(&text.value)
                        .into_iter()
                        .map(|t| nf.shared_table(t))
                        .collect();
                    read.push((sets.clone(), t.clone()));
                    t
                }
            };
            for t in tables {
                world.netns[ns].netfilter.set_shared_table(t);
            }
        }
        Ok(())
    }

    /// A text nobody takes is an error (it would never be read, nor checked).
    fn check_all_used(&self, file: &str) -> Result<(), LoadError> {
        match self
            .texts
            .iter()
            .find(|(n, _)| !self.read.contains_key(n.as_str()))
        {
            Some((name, text)) => Err(err_at(
                file,
                text,
                format!("iptables-save-texts: no namespace takes \"{name}\""),
            )
            .hint(format!(
                "name it in a machine's or namespace's `iptables-save-from: [{name}]`, or remove it"
            ))),
            None => Ok(()),
        }
    }
}

/// An error at line `line` of a block scalar (`hosts: |`, `corefile: |`): the scalar's
/// span starts at its first line, which is the text's line 1.
pub(crate) fn file_err<T>(file: &str, at: &S<T>, key: &str, line: usize, msg: &str) -> LoadError {
    LoadError::at(
        file,
        at.referenced.line() as usize + line - 1,
        0,
        format!("{key}: {msg}"),
    )
}

/// `hosts:`, `resolv-conf:`, `libc:` and `dns-server:` of a namespace.
fn load_dns(file: &str, world: &mut World, ns: NsId, spec: &NsSpec) -> Result<(), LoadError> {
    use crate::dns::{corefile::Corefile, server, HostsFile, Libc, ResolvConf};
    let d = std::sync::Arc::make_mut(&mut world.netns[ns].dns);
    if let Some(h) = &spec.hosts {
        d.hosts = Some(HostsFile::parse(&h.value).map_err(|e| {
            file_err(file, h, "hosts", e.line, &e.msg)
                .hint("write /etc/hosts lines: `IP NAME [ALIAS...]`")
        })?);
    }
    if let Some(r) = &spec.resolv_conf {
        d.resolv = Some(ResolvConf::parse(&r.value).map_err(|e| {
            file_err(file, r, "resolv-conf", e.line, &e.msg)
                .hint("write /etc/resolv.conf lines: `nameserver IP`, `search DOMAIN...`, `options ndots:N`")
        })?);
    }
    if let Some(l) = &spec.libc {
        d.libc = Libc::parse(&l.value).ok_or_else(|| {
            err_at(
                file,
                l,
                format!("libc: \"{}\" is not glibc or musl", l.value),
            )
        })?;
    }
    let Some(s) = &spec.dns_server else {
        return Ok(());
    };
    let kind = match (&s.value.corefile, &s.value.records) {
        (Some(_), Some(r)) => {
            return Err(err_at(
                file,
                r,
                "dns-server: records: and corefile: cannot be combined",
            )
            .hint("CoreDNS reads names from its hosts plugin (the namespace's `hosts:`)"))
        }
        (Some(c), None) => {
            let corefile = Corefile::parse(&c.value)
                .map_err(|e| file_err(file, c, "corefile", e.line, &e.msg))?;
            let mut k8s = server::K8sView::default();
            if let Some(k) = &s.value.kubernetes {
                for sv in &k.value.services {
                    k8s.services
                        .push(server::K8sView::parse_service(&sv.value).map_err(|m| {
                            err_at(file, sv, format!("kubernetes: {m}")).hint(
                            "write `NAMESPACE/NAME CLUSTER-IP`, e.g. `default/web 10.96.100.10`",
                        )
                        })?);
                }
                k8s.namespaces = k.value.namespaces.clone();
            }
            server::ServerKind::CoreDns { corefile, k8s }
        }
        (None, r) => {
            let records = match r {
                Some(r) => server::DnsServer::parse_records(&r.value)
                    .map_err(|e| file_err(file, r, "records", e.line, &e.msg))?,
                None => Vec::new(),
            };
            let mut forward = Vec::new();
            for f in &s.value.forward {
                forward.push(f.value.parse().map_err(|_| {
                    err_at(
                        file,
                        f,
                        format!("forward: \"{}\" is not an IPv4 address", f.value),
                    )
                })?);
            }
            server::ServerKind::Plain {
                records,
                forward,
                recursive: s.value.recursive,
            }
        }
    };
    let coredns = matches!(kind, server::ServerKind::CoreDns { .. });
    let port = match &kind {
        server::ServerKind::CoreDns { corefile, .. } => corefile.port,
        _ => 53,
    };
    let process = s
        .value
        .process
        .clone()
        .unwrap_or_else(|| if coredns { "coredns" } else { "named" }.to_string());
    for proto in ["udp", "tcp"] {
        let l =
            parse_listen(&format!("{proto} {port} {process}")).map_err(|m| err_at(file, s, m))?;
        world.listen(ns, l).map_err(|e| err_at(file, s, e.msg))?;
    }
    std::sync::Arc::make_mut(&mut world.netns[ns].dns).server =
        Some(std::sync::Arc::new(server::DnsServer {
            process,
            port,
            kind,
        }));
    Ok(())
}

fn route_hint(stderr: &str) -> &'static str {
    if stderr.contains("invalid gateway") {
        "the gateway must be on a subnet of one of this namespace's interfaces (or add `onlink`)"
    } else if stderr.contains("not up") {
        "the device is down (up: false?)"
    } else if stderr.contains("Cannot find device") {
        "name a device of this namespace"
    } else {
        "write the route as after `ip route add`, e.g. `192.168.2.0/24 via 192.168.1.1`"
    }
}

/// `DEV ADDR [PROCESS]`: a userspace ARP responder (docs/format.md).
fn parse_arp_responder(
    world: &crate::model::World,
    ns: crate::model::NsId,
    s: &str,
) -> Result<crate::model::ArpResponder, String> {
    let mut f = s.split_whitespace();
    let (Some(dev), Some(addr)) = (f.next(), f.next()) else {
        return Err(format!("arp-responder: \"{s}\" is not DEV ADDR [PROCESS]"));
    };
    let dev = world
        .find_iface(ns, dev)
        .ok_or_else(|| format!("arp-responder: Cannot find device \"{dev}\""))?;
    let addr = addr
        .parse()
        .map_err(|_| format!("arp-responder: bad address \"{addr}\""))?;
    let process = f.next().unwrap_or("arp-responder").to_string();
    if f.next().is_some() {
        return Err(format!("arp-responder: \"{s}\" is not DEV ADDR [PROCESS]"));
    }
    Ok(crate::model::ArpResponder { dev, addr, process })
}

/// `PROTO [ADDR:]PORT [PROCESS]`.
pub fn parse_listen(s: &str) -> Result<crate::model::Listener, String> {
    use crate::model::{L4Proto, Listener};
    let w: Vec<&str> = s.split_whitespace().collect();
    let (proto, at, process) = match w.as_slice() {
        [p, a] => (*p, *a, None),
        [p, a, n] => (*p, *a, Some(n.to_string())),
        _ => {
            return Err(format!(
                "listen: \"{s}\" is not PROTO [ADDR:]PORT [PROCESS]"
            ))
        }
    };
    let proto = match proto {
        "tcp" => L4Proto::Tcp,
        "udp" => L4Proto::Udp,
        other => return Err(format!("listen: protocol \"{other}\" is not tcp or udp")),
    };
    let (addr, port) = match at.rsplit_once(':') {
        Some((a, p)) => (
            super::shell::parse_inet(a)
                .filter(|_| a.contains('.'))
                .ok_or(format!("listen: bad address \"{a}\""))?,
            p,
        ),
        None => (std::net::Ipv4Addr::UNSPECIFIED, at),
    };
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("listen: bad port \"{port}\""))?;
    Ok(Listener {
        proto,
        addr,
        port,
        process,
        reuseport: false,
    })
}

#[cfg(test)]
mod tests {
    /// A topology of more nodes than serde-saphyr's default budget (250,000) reads: the
    /// compiled text of a large cluster has more than twice that.
    #[test]
    fn a_topology_larger_than_the_default_yaml_budget_reads() {
        let text = format!("[{}0]", "0,".repeat(300_000));
        assert!(serde_saphyr::from_str::<Vec<u8>>(&text).is_err());
        let v: Vec<u8> = serde_saphyr::from_str_with_options(&text, super::topology_options())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.len(), 300_001);
    }
}
