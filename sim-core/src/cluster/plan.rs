//! The compiled cluster as plain topology objects (machines, namespaces, devices, routes,
//! sysctls, listeners, rule texts), written out as the YAML of docs/format.md by
//! [`Plan::to_yaml`]. Loading a cluster file gives these values to the YAML loader
//! directly (`format::yaml::load_plan`, without the text between), and
//! `tests/cluster.rs` checks that the text `hopsim compile` prints loads to the same
//! world, so it shows what every other command simulates.

use crate::format::emit::{block, scalar as q};
use crate::netfilter::save;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// One device.
#[derive(Clone, Debug, Default)]
pub struct IfPlan {
    /// Name.
    pub name: String,
    /// `type:` (`None`: a NIC).
    pub kind: Option<&'static str>,
    /// `veth: NS/DEV`.
    pub veth: Option<String>,
    /// `cable: SWITCH`.
    pub cable: Option<String>,
    /// Addresses.
    pub addrs: Vec<String>,
    /// MAC.
    pub mac: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// `master: BR`.
    pub master: Option<String>,
    /// For tunnels: options after `ip link add NAME type KIND`.
    pub options: Option<String>,
    /// VXLAN: static FDB entries (`MAC dst IP`, as `bridge fdb append`).
    pub fdb: Vec<String>,
    /// A comment written above the device (what it is).
    pub comment: Option<String>,
}

/// A namespace (a machine's root one or a pod's).
#[derive(Clone, Debug, Default)]
pub struct NsPlan {
    /// A comment written above it.
    pub comment: Option<String>,
    /// Devices, in creation order.
    pub interfaces: Vec<IfPlan>,
    /// Routes (`ip route add` syntax).
    pub routes: Vec<String>,
    /// Neighbour entries (`ip neigh add` syntax).
    pub neigh: Vec<String>,
    /// Sysctls.
    pub sysctl: Vec<(String, String)>,
    /// Listening sockets.
    pub listen: Vec<String>,
    /// Userspace ARP responders (`DEV ADDR PROCESS`).
    pub arp_responders: Vec<String>,
    /// HTTP programs (`whoami PORT NAME`, `ingress-nginx PORT ...`).
    pub http: Vec<String>,
    /// IP sets (`ipsets:`), created before the rules that name them.
    pub ipsets: Vec<SetPlan>,
    /// Rule texts, one per table, in iptables-restore syntax; shared between nodes whose
    /// rules are identical.
    pub iptables: Vec<Arc<String>>,
    /// `/etc/hosts` (`hosts:`).
    pub hosts: Option<String>,
    /// `/etc/resolv.conf` (`resolv-conf:`).
    pub resolv_conf: Option<String>,
    /// `libc: musl` (`None`: glibc).
    pub libc: Option<&'static str>,
    /// A DNS server process (`dns-server:`).
    pub dns_server: Option<DnsServerPlan>,
}

/// A DNS server process, as `dns-server:` of docs/dns.md.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DnsServerPlan {
    /// `process:` (the default: named, or coredns with a Corefile).
    pub process: Option<String>,
    /// `records:` of a plain server.
    pub records: Option<String>,
    /// `forward:` of a plain server.
    pub forward: Vec<String>,
    /// `recursive: true`: a public resolver.
    pub recursive: bool,
    /// CoreDNS's `corefile:`.
    pub corefile: Option<String>,
    /// `kubernetes: services:` (`NS/NAME CLUSTER-IP`).
    pub services: Vec<String>,
    /// `kubernetes: namespaces:`.
    pub namespaces: Vec<String>,
}

fn write_dns(out: &mut String, ns: &NsPlan, ind: &str) {
    if let Some(h) = &ns.hosts {
        block(out, ind, "hosts", h);
    }
    if let Some(r) = &ns.resolv_conf {
        block(out, ind, "resolv-conf", r);
    }
    if let Some(l) = ns.libc {
        let _ = writeln!(out, "{ind}libc: {l}");
    }
    let Some(d) = &ns.dns_server else {
        return;
    };
    let _ = writeln!(out, "{ind}dns-server:");
    let sub = format!("{ind}  ");
    if let Some(p) = &d.process {
        let _ = writeln!(out, "{sub}process: {}", q(p));
    }
    if let Some(r) = &d.records {
        block(out, &sub, "records", r);
    }
    if !d.forward.is_empty() {
        let f: Vec<String> = d.forward.iter().map(|f| q(f)).collect();
        let _ = writeln!(out, "{sub}forward: [{}]", f.join(", "));
    }
    if d.recursive {
        let _ = writeln!(out, "{sub}recursive: true");
    }
    if let Some(c) = &d.corefile {
        block(out, &sub, "corefile", c);
    }
    if !d.services.is_empty() || !d.namespaces.is_empty() {
        let _ = writeln!(out, "{sub}kubernetes:");
        let s: Vec<String> = d.services.iter().map(|x| q(x)).collect();
        let n: Vec<String> = d.namespaces.iter().map(|x| q(x)).collect();
        let _ = writeln!(out, "{sub}  services: [{}]", s.join(", "));
        let _ = writeln!(out, "{sub}  namespaces: [{}]", n.join(", "));
    }
}

/// An IP set, as `ipset create NAME TYPE` then `ipset add NAME MEMBER` for each member.
#[derive(Clone, Debug, Default)]
pub struct SetPlan {
    /// Name.
    pub name: String,
    /// `hash:ip` or `hash:net`.
    pub kind: &'static str,
    /// Members.
    pub members: Vec<String>,
    /// A comment written above it (who fills it, with what).
    pub comment: Option<String>,
}

/// A machine.
#[derive(Clone, Debug, Default)]
pub struct MachinePlan {
    /// Name.
    pub name: String,
    /// A comment written above it.
    pub comment: Option<String>,
    /// Its root namespace.
    pub root: NsPlan,
    /// Named namespaces (pods).
    pub namespaces: Vec<(String, NsPlan)>,
}

/// The whole compiled topology.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Scenario id.
    pub name: String,
    /// Source document.
    pub source: Option<String>,
    /// Free text.
    pub about: Option<String>,
    /// Lines of the header comment (what was compiled: pods, services).
    pub header: Vec<String>,
    /// Machines.
    pub machines: Vec<MachinePlan>,
    /// Switches (one per LAN).
    pub switches: Vec<String>,
}

/// The rule texts written once under `iptables-save-texts:` because more than one
/// namespace has them (the same `Arc`): their names, and who uses them.
#[derive(Default)]
struct SharedTexts {
    /// By text: its name.
    names: HashMap<*const String, String>,
    /// In order of first use: the text, its name, the machines using it.
    order: Vec<(Arc<String>, String, Vec<String>)>,
}

impl SharedTexts {
    /// Texts used by two namespaces or more are shared, named after their table (`nat`;
    /// `nat-1`, `nat-2` when several shared texts hold a nat table), in order of first use.
    fn of(plan: &Plan) -> SharedTexts {
        let namespaces = || {
            plan.machines.iter().flat_map(|m| {
                std::iter::once((m, &m.root)).chain(m.namespaces.iter().map(move |(_, n)| (m, n)))
            })
        };
        let mut uses: HashMap<*const String, usize> = HashMap::new();
        for (_, ns) in namespaces() {
            for t in &ns.iptables {
                *uses.entry(Arc::as_ptr(t)).or_default() += 1;
            }
        }
        let mut s = SharedTexts::default();
        let mut first: Vec<(Arc<String>, Vec<String>)> = Vec::new();
        for (m, ns) in namespaces() {
            for t in ns.iptables.iter().filter(|t| uses[&Arc::as_ptr(t)] > 1) {
                match first.iter_mut().find(|(f, _)| Arc::ptr_eq(f, t)) {
                    Some((_, users)) => users.push(m.name.clone()),
                    None => first.push((Arc::clone(t), vec![m.name.clone()])),
                }
            }
        }
        let table = |t: &str| {
            save::restore_table_names(t)
                .iter()
                .map(|n| n.name())
                .collect::<Vec<_>>()
                .join("-")
        };
        // The table names of each text named so far (read once per text).
        let mut bases: Vec<String> = Vec::new();
        for (t, users) in first {
            let base = table(&t);
            let same = bases.iter().filter(|b| **b == base).count();
            let name = if same == 0 {
                base.clone()
            } else {
                format!("{base}-{}", same + 1)
            };
            if same == 1 {
                // The first of its table gets its number too.
                let first_of = bases.iter().position(|b| *b == base);
                if let Some((o, n, _)) = first_of.and_then(|i| s.order.get_mut(i)) {
                    *n = format!("{base}-1");
                    s.names.insert(Arc::as_ptr(o), n.clone());
                }
            }
            s.names.insert(Arc::as_ptr(&t), name.clone());
            s.order.push((t, name, users));
            bases.push(base);
        }
        s
    }

    fn write(&self, out: &mut String) {
        if self.order.is_empty() {
            return;
        }
        out.push_str("iptables-save-texts:\n");
        for (text, name, users) in &self.order {
            let shown = match users.as_slice() {
                [a, b, c, .., z] if users.len() > 4 => format!("{a}, {b}, {c}, ..., {z}"),
                all => all.join(", "),
            };
            let _ = writeln!(out, "  # on {} machines: {shown}", users.len());
            block(out, "  ", &q(name), text);
        }
    }
}

fn write_ns(out: &mut String, ns: &NsPlan, ind: &str, shared: &SharedTexts) {
    if !ns.interfaces.is_empty() {
        let _ = writeln!(out, "{ind}interfaces:");
        for i in &ns.interfaces {
            if let Some(c) = &i.comment {
                let _ = writeln!(out, "{ind}  # {c}");
            }
            let mut f: Vec<String> = Vec::new();
            if let Some(k) = i.kind {
                f.push(format!("type: {k}"));
            }
            if let Some(o) = &i.options {
                f.push(format!("options: {}", q(o)));
            }
            if let Some(v) = &i.veth {
                f.push(format!("veth: {}", q(v)));
            }
            if let Some(c) = &i.cable {
                f.push(format!("cable: {}", q(c)));
            }
            match i.addrs.as_slice() {
                [] => {}
                [a] => f.push(format!("addr: {}", q(a))),
                many => f.push(format!(
                    "addrs: [{}]",
                    many.iter().map(|a| q(a)).collect::<Vec<_>>().join(", ")
                )),
            }
            if let Some(m) = &i.mac {
                f.push(format!("mac: \"{m}\""));
            }
            if let Some(m) = i.mtu {
                f.push(format!("mtu: {m}"));
            }
            if let Some(m) = &i.master {
                f.push(format!("master: {}", q(m)));
            }
            if !i.fdb.is_empty() {
                f.push(format!(
                    "fdb: [{}]",
                    i.fdb.iter().map(|e| q(e)).collect::<Vec<_>>().join(", ")
                ));
            }
            let _ = writeln!(out, "{ind}  {}: {{ {} }}", q(&i.name), f.join(", "));
        }
    }
    if !ns.routes.is_empty() {
        let _ = writeln!(out, "{ind}routes:");
        for r in &ns.routes {
            let _ = writeln!(out, "{ind}  - {}", q(r));
        }
    }
    if !ns.neigh.is_empty() {
        let _ = writeln!(out, "{ind}neigh:");
        for n in &ns.neigh {
            let _ = writeln!(out, "{ind}  - {}", q(n));
        }
    }
    if !ns.sysctl.is_empty() {
        let _ = writeln!(out, "{ind}sysctl:");
        for (k, v) in &ns.sysctl {
            let _ = writeln!(out, "{ind}  {k}: {v}");
        }
    }
    if !ns.listen.is_empty() {
        let _ = writeln!(out, "{ind}listen:");
        for l in &ns.listen {
            let _ = writeln!(out, "{ind}  - {}", q(l));
        }
    }
    if !ns.arp_responders.is_empty() {
        let _ = writeln!(out, "{ind}arp-responder:");
        for a in &ns.arp_responders {
            let _ = writeln!(out, "{ind}  - {}", q(a));
        }
    }
    if !ns.http.is_empty() {
        let _ = writeln!(out, "{ind}http:");
        for h in &ns.http {
            let _ = writeln!(out, "{ind}  - {}", q(h));
        }
    }
    // The loader creates the sets in the namespace before it reads the rules that name
    // them.
    if !ns.ipsets.is_empty() {
        let _ = writeln!(out, "{ind}ipsets:");
        for set in &ns.ipsets {
            if let Some(c) = &set.comment {
                let _ = writeln!(out, "{ind}  # {c}");
            }
            let _ = writeln!(
                out,
                "{ind}  {}: {{ type: \"{}\", members: [{}] }}",
                q(&set.name),
                set.kind,
                set.members
                    .iter()
                    .map(|m| q(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    write_dns(out, ns, ind);
    let (from, own): (Vec<&Arc<String>>, Vec<&Arc<String>>) = ns
        .iptables
        .iter()
        .partition(|t| shared.names.contains_key(&Arc::as_ptr(t)));
    if !own.is_empty() {
        let _ = writeln!(out, "{ind}iptables-save: |");
        for t in own {
            for l in t.lines() {
                out.push_str(ind);
                out.push_str("  ");
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    if !from.is_empty() {
        let names: Vec<String> = from
            .iter()
            .map(|t| q(&shared.names[&Arc::as_ptr(t)]))
            .collect();
        let _ = writeln!(out, "{ind}iptables-save-from: [{}]", names.join(", "));
    }
}

impl Plan {
    /// The topology as YAML (docs/format.md). A rule text several namespaces have (the
    /// same `Arc`) is written once, under `iptables-save-texts:`, and named in their
    /// `iptables-save-from:`.
    pub fn to_yaml(&self, expect: Option<&str>) -> String {
        let shared = SharedTexts::of(self);
        let rules = &shared;
        // The rule texts are most of a big cluster's text (tens of MB): room for them,
        // indented, and for the rest, so that the text is not copied as it grows.
        let namespaces = || {
            self.machines
                .iter()
                .flat_map(|m| std::iter::once(&m.root).chain(m.namespaces.iter().map(|(_, n)| n)))
        };
        let own: usize = namespaces()
            .flat_map(|ns| &ns.iptables)
            .filter(|t| !rules.names.contains_key(&Arc::as_ptr(t)))
            .map(|t| t.len() + t.len() / 16)
            .sum();
        let from: usize = rules
            .order
            .iter()
            .map(|(t, _, _)| t.len() + t.len() / 16)
            .sum();
        let mut out = String::with_capacity(own + from + 1024 * namespaces().count());
        for h in &self.header {
            if h.is_empty() {
                out.push_str("#\n");
            } else {
                let _ = writeln!(out, "# {h}");
            }
        }
        let _ = writeln!(out, "name: {}", q(&self.name));
        if let Some(s) = &self.source {
            let _ = writeln!(out, "source: {}", q(s));
        }
        if let Some(a) = &self.about {
            out.push_str("about: >\n");
            for l in a.lines() {
                let _ = writeln!(out, "  {l}");
            }
        }
        out.push_str("machines:\n");
        for m in &self.machines {
            if let Some(c) = &m.comment {
                let _ = writeln!(out, "  # {c}");
            }
            let _ = writeln!(out, "  {}:", q(&m.name));
            write_ns(&mut out, &m.root, "    ", rules);
            if !m.namespaces.is_empty() {
                out.push_str("    namespaces:\n");
                for (n, ns) in &m.namespaces {
                    if let Some(c) = &ns.comment {
                        let _ = writeln!(out, "      # {c}");
                    }
                    let _ = writeln!(out, "      {}:", q(n));
                    write_ns(&mut out, ns, "        ", rules);
                }
            }
        }
        if !self.switches.is_empty() {
            out.push_str("switches:\n");
            for s in &self.switches {
                let _ = writeln!(out, "  {}: {{}}", q(s));
            }
        }
        rules.write(&mut out);
        if let Some(e) = expect {
            out.push_str(e);
            if !e.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}
