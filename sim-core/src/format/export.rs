//! A world written back as YAML topology text (`hopsim import SCRIPT`): every object a
//! script built, in the declarative form of docs/format.md.

use super::Expect;
use crate::model::{IfKind, NudState, Proto, Sysctls, Table, World};
use crate::render::ip::route_line;
use crate::wire::Mac;
use std::fmt::Write;

use super::emit::{block, scalar as q};

/// Write the world as YAML.
pub fn to_yaml(world: &World, name: &str, source: Option<&str>, expects: &[Expect]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "name: {}", q(name));
    if let Some(s) = source {
        let _ = writeln!(out, "source: {}", q(s));
    }
    out.push_str("machines:\n");
    let defaults = Sysctls::default();
    let mut declared_veth = std::collections::BTreeSet::new();
    for (hid, h) in world.hosts.iter().enumerate() {
        let _ = writeln!(out, "  {}:", q(&h.name));
        let nss: Vec<usize> = world
            .live_netns()
            .filter(|(_, n)| n.host == hid)
            .map(|(i, _)| i)
            .collect();
        for (k, ns) in nss.iter().enumerate() {
            let n = &world.netns[*ns];
            let ind = if n.is_root { "    " } else { "        " };
            if !n.is_root && k == 1 || (!n.is_root && k > 0 && world.netns[nss[k - 1]].is_root) {
                out.push_str("    namespaces:\n");
            }
            if !n.is_root {
                let _ = writeln!(out, "      {}:", q(&n.local_name));
            }
            let ifaces = world.ns_ifaces(*ns);
            // The ipip module's fallback tunl0 comes back by itself; list it when used.
            let unused_fallback = |i: &&crate::model::Interface| {
                matches!(&i.kind, IfKind::Ipip(t) if t.fallback) && !i.up && i.addrs.is_empty()
            };
            let listed: Vec<_> = ifaces
                .iter()
                .filter(|i| !i.is_loopback() || i.up)
                .filter(|i| !unused_fallback(i))
                .collect();
            if !listed.is_empty() {
                let _ = writeln!(out, "{ind}interfaces:");
            }
            for i in listed {
                let mut fields: Vec<String> = Vec::new();
                match &i.kind {
                    IfKind::Veth { peer } if declared_veth.insert(i.id) => {
                        if let Some(p) = world.iface(*peer) {
                            declared_veth.insert(p.id);
                            let pns = &world.netns[p.ns];
                            fields
                                .push(format!("veth: {}", q(&format!("{}/{}", pns.name, p.name))));
                        }
                    }
                    IfKind::Bridge(_) => fields.push("type: bridge".into()),
                    IfKind::Dummy => fields.push("type: dummy".into()),
                    IfKind::Ipip(t) => {
                        fields.push("type: ipip".into());
                        if !t.fallback {
                            let mut o = Vec::new();
                            if let Some(r) = t.remote {
                                o.push(format!("remote {r}"));
                            }
                            if let Some(l) = t.local {
                                o.push(format!("local {l}"));
                            }
                            if t.ttl != 0 {
                                o.push(format!("ttl {}", t.ttl));
                            }
                            if !t.pmtudisc {
                                o.push("nopmtudisc".into());
                            }
                            if let Some(d) = t.link {
                                o.push(format!("dev {}", world.ifname(d)));
                            }
                            fields.push(format!("options: \"{}\"", o.join(" ")));
                        }
                    }
                    IfKind::Vxlan(v) => {
                        fields.push("type: vxlan".into());
                        let mut o = vec![format!("id {} dstport {}", v.vni, v.dstport)];
                        if let Some(l) = v.local {
                            o.push(format!("local {l}"));
                        }
                        if let Some(r) = v.remote {
                            o.push(format!("remote {r}"));
                        }
                        if let Some(d) = v.link {
                            o.push(format!("dev {}", world.ifname(d)));
                        }
                        if !v.learning {
                            o.push("nolearning".into());
                        }
                        if v.ttl != 0 {
                            o.push(format!("ttl {}", v.ttl));
                        }
                        fields.push(format!("options: \"{}\"", o.join(" ")));
                        let fdb: Vec<String> = v
                            .fdb
                            .iter()
                            .filter(|e| e.permanent && e.via.is_none())
                            .map(|e| format!("\"{} dst {}\"", e.mac, e.dst))
                            .collect();
                        if !fdb.is_empty() {
                            fields.push(format!("fdb: [{}]", fdb.join(", ")));
                        }
                    }
                    _ => {}
                }
                if let Some(m) = i.master {
                    fields.push(format!("master: {}", q(&world.ifname(m))));
                }
                let derived = Mac::derived(&format!("{}/{}", n.name, i.name));
                if !i.is_loopback() && !i.is_noarp_l3() && (i.mac_set || i.mac != derived) {
                    fields.push(format!("mac: \"{}\"", i.mac));
                }
                if i.mtu != 1500 && !i.is_loopback() {
                    fields.push(format!("mtu: {}", i.mtu));
                }
                let addrs: Vec<String> = i
                    .addrs
                    .iter()
                    .filter(|a| !i.is_loopback() || !a.addr().is_loopback())
                    .map(|a| a.net.to_string())
                    .collect();
                match addrs.len() {
                    0 => {}
                    1 => fields.push(format!("addr: {}", addrs[0])),
                    _ => fields.push(format!("addrs: [{}]", addrs.join(", "))),
                }
                if !i.up {
                    fields.push("up: false".into());
                }
                let _ = writeln!(out, "{ind}  {}: {{{}}}", q(&i.name), fields.join(", "));
            }
            let routes: Vec<String> = {
                let mut r: Vec<_> = n
                    .routes
                    .iter()
                    .filter(|r| r.table == Table::Main && r.proto != Proto::KERNEL)
                    .collect();
                r.sort_by_key(|r| r.print_order());
                // A gateway must be reachable when its route is added: routes without a
                // gateway (scope link) first.
                r.sort_by_key(|r| r.gateway.is_some());
                r.iter()
                    .map(|r| {
                        route_line(world, r, false)
                            .replace("linkdown ", "")
                            .trim_end()
                            .to_string()
                    })
                    .collect()
            };
            if !routes.is_empty() {
                let _ = writeln!(out, "{ind}routes:");
                for r in routes {
                    let _ = writeln!(out, "{ind}  - {}", q(&r));
                }
            }
            let neigh: Vec<String> = n
                .neigh
                .iter()
                .filter(|e| matches!(e.state, NudState::Permanent | NudState::Noarp))
                .filter_map(|e| {
                    e.mac.map(|m| {
                        format!(
                            "{} lladdr {m} dev {} nud {}",
                            e.ip,
                            world.ifname(e.dev),
                            e.state.name().to_lowercase()
                        )
                    })
                })
                .collect();
            if !neigh.is_empty() {
                let _ = writeln!(out, "{ind}neigh:");
                for e in neigh {
                    let _ = writeln!(out, "{ind}  - {}", q(&e));
                }
            }
            let mut sys: Vec<String> = Vec::new();
            let s = &n.sysctl;
            if s.ip_forward() {
                sys.push("net.ipv4.ip_forward: 1".into());
            }
            if s.all.proxy_arp {
                sys.push("net.ipv4.conf.all.proxy_arp: 1".into());
            }
            for (dev, c) in s.dev.iter() {
                if let Some(i) = world.iface(*dev) {
                    if c.proxy_arp {
                        sys.push(format!("net.ipv4.conf.{}.proxy_arp: 1", i.name));
                    }
                    if c.forwarding != s.all.forwarding {
                        sys.push(format!(
                            "net.ipv4.conf.{}.forwarding: {}",
                            i.name,
                            u8::from(c.forwarding)
                        ));
                    }
                }
            }
            if s.bridge_nf_call_iptables != defaults.bridge_nf_call_iptables {
                sys.push(format!(
                    "net.bridge.bridge-nf-call-iptables: {}",
                    u8::from(s.bridge_nf_call_iptables)
                ));
            }
            if s.icmp_echo_ignore_all {
                sys.push("net.ipv4.icmp_echo_ignore_all: 1".into());
            }
            if !sys.is_empty() {
                let _ = writeln!(out, "{ind}sysctl:");
                for l in sys {
                    let _ = writeln!(out, "{ind}  {l}");
                }
            }
            dns(&mut out, ind, &n.dns);
            // Programs: listening sockets, ARP responders and HTTP programs, in the
            // order the loader needs them (an `http:` program needs its socket). The DNS
            // server's two sockets come back with its `dns-server:`.
            let server = n.dns.server.as_ref().map(|s| (s.process.as_str(), s.port));
            let listen: Vec<String> = n
                .sockets
                .iter()
                .filter(|l| {
                    server != Some((l.process.as_deref().unwrap_or(""), l.port))
                        || !l.addr.is_unspecified()
                })
                .map(|l| {
                    let addr = if l.addr.is_unspecified() {
                        String::new()
                    } else {
                        format!("{}:", l.addr)
                    };
                    let p = l
                        .process
                        .as_deref()
                        .map(|p| format!(" {p}"))
                        .unwrap_or_default();
                    format!("{} {addr}{}{p}", l.proto.name(), l.port)
                })
                .collect();
            let arp: Vec<String> = n
                .arp_responders
                .iter()
                .map(|a| format!("{} {} {}", world.ifname(a.dev), a.addr, a.process))
                .collect();
            let http = crate::model::http::http_lines(&n.http);
            for (key, lines) in [("listen", listen), ("arp-responder", arp), ("http", http)] {
                if !lines.is_empty() {
                    let _ = writeln!(out, "{ind}{key}:");
                    for l in lines {
                        let _ = writeln!(out, "{ind}  - {}", q(&l));
                    }
                }
            }
        }
    }
    if !expects.is_empty() {
        out.push_str("expect:\n");
        for e in expects {
            match &e.resolve {
                Some(r) => {
                    let _ = write!(
                        out,
                        "  - resolve: {{ from: {}, name: {}, tool: {}",
                        q(&e.from),
                        q(&r.name),
                        r.opts.tool.name()
                    );
                    if let Some(t) = r.opts.qtype {
                        let _ = write!(out, ", type: {t}");
                    }
                    out.push_str(" }\n");
                    if let Some(a) = &e.answer {
                        let a: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                        let _ = writeln!(out, "    answer: [{}]", a.join(", "));
                    }
                }
                None => {
                    let (key, what) = if let Some(r) = &e.run {
                        ("run", r.clone())
                    } else if e.curl.is_some() {
                        ("curl", format!("{} -> {}", e.from, e.to))
                    } else if let Some(p) = e.port {
                        ("connect", format!("{} -> {}:{p}", e.from, e.to))
                    } else {
                        ("ping", format!("{} -> {}", e.from, e.to))
                    };
                    let _ = writeln!(out, "  - {key}: {}", q(&what));
                }
            }
            if e.udp {
                out.push_str("    udp: true\n");
            }
            if let Some(c) = &e.curl {
                if !c.headers.is_empty() {
                    let h: Vec<String> = c
                        .headers
                        .iter()
                        .map(|(k, v)| q(&format!("{k}: {v}")))
                        .collect();
                    let _ = writeln!(out, "    headers: [{}]", h.join(", "));
                }
            }
            if let Some(f) = &e.seen_from {
                let _ = writeln!(out, "    seen-from: {}", q(f));
            }
            if !e.with.is_empty() {
                out.push_str("    with:\n");
                for w in &e.with {
                    let _ = writeln!(out, "      - {}", q(w));
                }
            }
            if !e.options_text.is_empty() {
                let _ = writeln!(out, "    options: {}", q(&e.options_text));
            }
            if let Some(x) = e.exit {
                let _ = writeln!(out, "    exit: {x}");
            }
            if let Some(t) = e.ttl {
                let _ = writeln!(out, "    ttl: {t}");
            }
            if !e.prints.is_empty() {
                out.push_str("    prints:\n");
                for p in &e.prints {
                    let _ = writeln!(out, "      - {}", q(p));
                }
            }
            if let Some(d) = e.drop {
                let _ = writeln!(out, "    drop: {}", d.kernel_name());
            }
            if let Some(b) = &e.because {
                let _ = writeln!(out, "    because: {}", q(b.trim()));
            }
        }
    }
    out
}

/// `hosts:`, `resolv-conf:`, `libc:` and `dns-server:` of a namespace (docs/dns.md).
fn dns(out: &mut String, ind: &str, d: &crate::dns::NsDns) {
    use crate::dns::server::ServerKind;
    use crate::wire::dns::RData;
    if let Some(h) = &d.hosts {
        block(out, ind, "hosts", &h.text);
    }
    if let Some(r) = &d.resolv {
        block(out, ind, "resolv-conf", &r.text);
    }
    if d.libc == crate::dns::Libc::Musl {
        let _ = writeln!(out, "{ind}libc: musl");
    }
    let Some(s) = &d.server else {
        return;
    };
    let _ = writeln!(out, "{ind}dns-server:");
    let _ = writeln!(out, "{ind}  process: {}", q(&s.process));
    let inner = format!("{ind}  ");
    match &s.kind {
        ServerKind::Plain {
            records,
            forward,
            recursive,
        } => {
            let lines: String = records
                .iter()
                .map(|r| match &r.data {
                    RData::Cname { target } => format!("{} CNAME {target}\n", r.name),
                    other => format!("{other} {}\n", r.name),
                })
                .collect();
            if !lines.is_empty() {
                block(out, &inner, "records", &lines);
            }
            if !forward.is_empty() {
                let f: Vec<String> = forward.iter().map(|a| a.to_string()).collect();
                let _ = writeln!(out, "{inner}forward: [{}]", f.join(", "));
            }
            if *recursive {
                let _ = writeln!(out, "{inner}recursive: true");
            }
        }
        ServerKind::CoreDns { corefile, k8s } => {
            block(out, &inner, "corefile", &corefile.text);
            if !k8s.services.is_empty() || !k8s.namespaces.is_empty() {
                let _ = writeln!(out, "{inner}kubernetes:");
                let sv: Vec<String> = k8s
                    .services
                    .iter()
                    .map(|(ns, name, ip)| q(&format!("{ns}/{name} {ip}")))
                    .collect();
                let _ = writeln!(out, "{inner}  services: [{}]", sv.join(", "));
                let ns: Vec<String> = k8s.namespaces.iter().map(|n| q(n)).collect();
                let _ = writeln!(out, "{inner}  namespaces: [{}]", ns.join(", "));
            }
        }
    }
}
