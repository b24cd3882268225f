//! DNS server processes: a plain server answering from its records (the documents' "DNS
//! server entries", hosts-file lines) and forwarding the rest ("Forward All to 8.8.8.8"),
//! and CoreDNS configured by a Corefile (`hosts`, `kubernetes`, `forward`, `cache`). Here
//! only the decision: what a query gets. The engine sends the packets.

use super::corefile::{Corefile, ForwardTo, Plugin};
use super::{FileError, HostsFile, NsDns};
use crate::wire::dns::{DnsMessage, DnsRcode, DnsRecord, QType, RData};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// One record line of a plain server: `IP NAME...` (A or AAAA) or `NAME CNAME TARGET`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZoneRecord {
    /// Owner name.
    pub name: String,
    /// Data.
    pub data: RData,
}

/// What the `kubernetes` plugin sees of the cluster (the API objects it watches).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct K8sView {
    /// Services: namespace, name, ClusterIP.
    pub services: Vec<(String, String, Ipv4Addr)>,
    /// Namespaces that exist.
    pub namespaces: Vec<String>,
}

impl K8sView {
    /// Parse `NS/NAME CLUSTER-IP` lines.
    pub fn parse_service(s: &str) -> Result<(String, String, Ipv4Addr), String> {
        let mut w = s.split_whitespace();
        let (Some(id), Some(ip), None) = (w.next(), w.next(), w.next()) else {
            return Err(format!("\"{s}\" is not NAMESPACE/NAME CLUSTER-IP"));
        };
        let (ns, name) = id
            .split_once('/')
            .ok_or_else(|| format!("\"{id}\" is not NAMESPACE/NAME"))?;
        let ip = ip
            .parse()
            .map_err(|_| format!("\"{ip}\" is not an IPv4 address"))?;
        Ok((ns.to_string(), name.to_string(), ip))
    }
}

/// How a server decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServerKind {
    /// Records, then forwarders.
    Plain {
        /// The records it owns.
        records: Vec<ZoneRecord>,
        /// Where it sends what it does not own (nothing: NXDOMAIN).
        forward: Vec<Ipv4Addr>,
        /// A public recursive resolver (1.1.1.1, 8.8.8.8): its records stand for what
        /// recursion finds, answered without the `aa` flag.
        #[serde(default)]
        recursive: bool,
    },
    /// CoreDNS.
    CoreDns {
        /// Its Corefile.
        corefile: Corefile,
        /// What its kubernetes plugin watches.
        k8s: K8sView,
    },
}

/// A DNS server process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsServer {
    /// The process name (`ss -p`).
    pub process: String,
    /// The port (53).
    pub port: u16,
    /// How it answers.
    pub kind: ServerKind,
}

impl DnsServer {
    /// Parse a plain server's record lines.
    pub fn parse_records(text: &str) -> Result<Vec<ZoneRecord>, FileError> {
        let mut out = Vec::new();
        for (line, words) in super::content_lines(text) {
            if words.len() == 3 && words[1].eq_ignore_ascii_case("CNAME") {
                out.push(ZoneRecord {
                    name: words[0].trim_end_matches('.').into(),
                    data: RData::Cname {
                        target: words[2].trim_end_matches('.').into(),
                    },
                });
                continue;
            }
            let h = HostsFile::parse(&words.join(" ")).map_err(|e| FileError {
                line,
                msg: format!(
                    "{} (a record is `IP NAME...` or `NAME CNAME TARGET`)",
                    e.msg
                ),
            })?;
            for e in h.entries {
                for n in e.names {
                    if !crate::wire::dns::valid_name(&n) {
                        return Err(FileError {
                            line,
                            msg: format!("\"{n}\" is not a valid DNS name"),
                        });
                    }
                    out.push(ZoneRecord {
                        name: n.trim_end_matches('.').into(),
                        data: match e.addr {
                            IpAddr::V4(a) => RData::A { addr: a },
                            IpAddr::V6(a) => RData::Aaaa { addr: a },
                        },
                    });
                }
            }
        }
        Ok(out)
    }
}

/// What the server does with a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Answer it.
    Reply {
        /// The response.
        msg: DnsMessage,
        /// Why, in words.
        why: String,
    },
    /// Ask an upstream server.
    Forward {
        /// The upstream.
        to: Ipv4Addr,
        /// Why, in words.
        why: String,
    },
}

/// The in-addr.arpa name of an address.
pub fn reverse_name(a: Ipv4Addr) -> String {
    let o = a.octets();
    format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
}

fn under(name: &str, zone: &str) -> bool {
    let (n, z) = (name.to_ascii_lowercase(), zone.to_ascii_lowercase());
    z.is_empty() || n == z || n.ends_with(&format!(".{z}"))
}

/// Answer from a list of records (a plain server's, or the hosts plugin's), following
/// CNAMEs inside it. `None` when the name is not there at all.
fn from_records(
    records: &[ZoneRecord],
    q: &DnsMessage,
    qname: &str,
    qtype: QType,
    ttl: u32,
) -> Option<DnsMessage> {
    let mut msg = q.response_to(DnsRcode::NoError);
    msg.aa = true;
    let mut name = qname.to_string();
    if qtype == QType::Ptr {
        let hits: Vec<&ZoneRecord> = records
            .iter()
            .filter(|r| match r.data {
                RData::A { addr } => reverse_name(addr).eq_ignore_ascii_case(qname),
                _ => false,
            })
            .collect();
        let first = hits.first()?;
        msg.answers.push(DnsRecord {
            name: qname.into(),
            ttl,
            data: RData::Ptr {
                target: first.name.clone(),
            },
        });
        return Some(msg);
    }
    let mut known = false;
    for _ in 0..8 {
        let same: Vec<&ZoneRecord> = records
            .iter()
            .filter(|r| r.name.eq_ignore_ascii_case(&name))
            .collect();
        if same.is_empty() {
            break;
        }
        known = true;
        let cname = same.iter().find_map(|r| match &r.data {
            RData::Cname { target } if qtype != QType::Cname => Some(target.clone()),
            _ => None,
        });
        for r in same
            .iter()
            .filter(|r| r.data.qtype() == qtype || cname.is_some())
        {
            if cname.is_some() && r.data.qtype() != QType::Cname {
                continue;
            }
            msg.answers.push(DnsRecord {
                name: name.clone(),
                ttl,
                data: r.data.clone(),
            });
        }
        match cname {
            Some(t) => name = t,
            None => break,
        }
    }
    known.then_some(msg)
}

fn hosts_records(h: Option<&HostsFile>) -> Vec<ZoneRecord> {
    h.map(|h| {
        h.entries
            .iter()
            .flat_map(|e| {
                e.names.iter().map(move |n| ZoneRecord {
                    name: n.clone(),
                    data: match e.addr {
                        IpAddr::V4(a) => RData::A { addr: a },
                        IpAddr::V6(a) => RData::Aaaa { addr: a },
                    },
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

fn soa(zone: &str, ttl: u32) -> DnsRecord {
    DnsRecord {
        name: zone.into(),
        ttl,
        data: RData::Soa {
            mname: format!("ns.dns.{zone}"),
            rname: format!("hostmaster.{zone}"),
            serial: 1_767_225_600,
            times: [7200, 1800, 86400, ttl],
        },
    }
}

/// The kubernetes plugin's answer for a name inside one of its zones, or `None` to fall
/// through.
fn kubernetes(
    q: &DnsMessage,
    qname: &str,
    qtype: QType,
    plugin: &Plugin,
    k8s: &K8sView,
) -> Option<(DnsMessage, String)> {
    let Plugin::Kubernetes {
        zones,
        pods_insecure,
        fallthrough,
        ttl,
    } = plugin
    else {
        return None;
    };
    let (pods_insecure, ttl) = (*pods_insecure, *ttl);
    let zone = zones.iter().find(|z| under(qname, z))?;
    let mut msg = q.response_to(DnsRcode::NoError);
    msg.aa = true;
    let lower = qname.to_ascii_lowercase();
    let rel = lower
        .strip_suffix(zone.as_str())
        .unwrap_or(&lower)
        .trim_end_matches('.');
    let labels: Vec<&str> = rel.split('.').collect();
    let found: Option<(RData, String)> = if zone.ends_with("in-addr.arpa") {
        k8s.services
            .iter()
            .find(|(_, _, ip)| reverse_name(*ip) == lower)
            .map(|(ns, n, _)| {
                (
                    RData::Ptr {
                        target: format!("{n}.{ns}.svc.cluster.local"),
                    },
                    format!("the ClusterIP of Service {ns}/{n}"),
                )
            })
    } else {
        match labels.as_slice() {
            [svc, ns, "svc"] => k8s
                .services
                .iter()
                .find(|(sns, sn, _)| sns == ns && sn == svc)
                .map(|(_, _, ip)| {
                    (
                        RData::A { addr: *ip },
                        format!("Service {ns}/{svc} has ClusterIP {ip}"),
                    )
                }),
            [dashed, ns, "pod"] if pods_insecure => {
                let ip: Option<Ipv4Addr> = dashed.replace('-', ".").parse().ok();
                ip.filter(|_| k8s.namespaces.iter().any(|n| n == ns))
                    .map(|ip| {
                        (
                            RData::A { addr: ip },
                            format!("pods insecure: {dashed} in namespace {ns} is {ip}, read from the name"),
                        )
                    })
            }
            _ => None,
        }
    };
    match found {
        Some((data, why)) => {
            if data.qtype() == qtype {
                msg.answers.push(DnsRecord {
                    name: qname.into(),
                    ttl,
                    data,
                });
                Some((msg, format!("kubernetes plugin: {why}")))
            } else {
                msg.authority.push(soa(zone, ttl));
                Some((
                    msg,
                    format!("kubernetes plugin: {why}, no {qtype} record: NOERROR, no answer"),
                ))
            }
        }
        None if fallthrough.iter().any(|z| z == zone) => None,
        None => {
            msg.rcode = DnsRcode::NxDomain;
            msg.authority.push(soa(zone, ttl));
            Some((
                msg,
                format!("kubernetes plugin: no such object in {zone}: NXDOMAIN"),
            ))
        }
    }
}

/// What `server`, running in a namespace with `files`, does with `q`.
pub fn decide(server: &DnsServer, files: &NsDns, q: &DnsMessage) -> Decision {
    let Some((qname, qtype)) = q.question.clone() else {
        return Decision::Reply {
            msg: q.response_to(DnsRcode::Other(1)),
            why: "no question: FORMERR".into(),
        };
    };
    match &server.kind {
        ServerKind::Plain {
            records,
            forward,
            recursive,
        } => {
            if let Some(mut msg) = from_records(records, q, &qname, qtype, 3600) {
                msg.aa = !recursive;
                let why = if msg.answers.is_empty() {
                    format!(
                        "{qname} is in its records but has no {qtype} record: NOERROR, no answer"
                    )
                } else {
                    format!("{qname} is in its records")
                };
                return Decision::Reply { msg, why };
            }
            match forward.first() {
                Some(to) => Decision::Forward {
                    to: *to,
                    why: format!("{qname} is not in its records: forwarded to {to}"),
                },
                None => {
                    let mut msg = q.response_to(DnsRcode::NxDomain);
                    msg.aa = !recursive;
                    Decision::Reply {
                        msg,
                        why: format!(
                            "{qname} is not in its records and nothing is forwarded: NXDOMAIN"
                        ),
                    }
                }
            }
        }
        ServerKind::CoreDns { corefile, k8s } => {
            // CoreDNS runs plugins in plugin.cfg order, whatever the Corefile's:
            // cache (the engine's), hosts, kubernetes, forward.
            if let Some(Plugin::Hosts { fallthrough }) =
                corefile.find(|p| matches!(p, Plugin::Hosts { .. }))
            {
                let recs = hosts_records(files.hosts.as_ref());
                match from_records(&recs, q, &qname, qtype, 3600) {
                    Some(msg) => {
                        return Decision::Reply {
                            msg,
                            why: format!("hosts plugin: {qname} is in /etc/hosts"),
                        }
                    }
                    None if !fallthrough => {
                        let mut msg = q.response_to(DnsRcode::NxDomain);
                        msg.aa = true;
                        return Decision::Reply {
                            msg,
                            why: format!("hosts plugin: {qname} is not in /etc/hosts (no fallthrough): NXDOMAIN"),
                        };
                    }
                    None => {}
                }
            }
            if let Some(k) = corefile.find(|p| matches!(p, Plugin::Kubernetes { .. })) {
                if let Some((mut msg, why)) = kubernetes(q, &qname, qtype, k, k8s) {
                    msg.compress = false;
                    return Decision::Reply { msg, why };
                }
            }
            if let Some(Plugin::Forward { from, to }) =
                corefile.find(|p| matches!(p, Plugin::Forward { .. }))
            {
                if under(&qname, from) {
                    let ups = match to {
                        ForwardTo::ResolvConf => files
                            .resolv
                            .as_ref()
                            .map(|r| r.servers())
                            .unwrap_or_else(|| vec![Ipv4Addr::LOCALHOST]),
                        ForwardTo::Addrs(a) => a.clone(),
                    };
                    if let Some(up) = ups.first().filter(|u| u.is_loopback()) {
                        // The loop plugin: a forward to itself is a loop. Real CoreDNS
                        // detects it at start and exits (`Loop (127.0.0.1:53 -> :53)
                        // detected for zone "."`, CrashLoopBackOff); hopsim answers
                        // SERVFAIL instead of sending the query round in circles.
                        return Decision::Reply {
                            msg: q.response_to(DnsRcode::ServFail),
                            why: format!("forward plugin: {qname} would go to {up}, this server itself (no nameserver in its /etc/resolv.conf): a loop, which real CoreDNS's loop plugin refuses to start with; SERVFAIL"),
                        };
                    }
                    if let Some(up) = ups.first() {
                        let src = if *to == ForwardTo::ResolvConf {
                            " (the first nameserver of its /etc/resolv.conf)"
                        } else {
                            ""
                        };
                        return Decision::Forward {
                            to: *up,
                            why: format!("forward plugin: {qname} is not served here: forwarded to {up}{src}"),
                        };
                    }
                }
            }
            Decision::Reply {
                msg: q.response_to(DnsRcode::Refused),
                why: format!("no plugin serves {qname}: REFUSED"),
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::dns::corefile::Corefile;

    fn plain(records: &str, forward: Vec<Ipv4Addr>) -> DnsServer {
        DnsServer {
            process: "named".into(),
            port: 53,
            kind: ServerKind::Plain {
                records: DnsServer::parse_records(records).unwrap(),
                forward,
                recursive: false,
            },
        }
    }

    #[test]
    fn plain_server_answers_forwards_or_nxdomain() {
        let s = plain("49.236.74.206 db\nwww CNAME db\n", vec![]);
        let f = NsDns::default();
        let d = decide(&s, &f, &DnsMessage::query(1, "db", QType::A));
        let Decision::Reply { msg, .. } = d else {
            panic!()
        };
        assert_eq!(msg.answers.len(), 1);
        let Decision::Reply { msg, .. } = decide(&s, &f, &DnsMessage::query(1, "www", QType::A))
        else {
            panic!()
        };
        assert_eq!(msg.answers.len(), 2, "the CNAME and the A it points to");
        let Decision::Reply { msg, .. } = decide(&s, &f, &DnsMessage::query(1, "db", QType::Aaaa))
        else {
            panic!()
        };
        assert!(msg.answers.is_empty() && msg.rcode == DnsRcode::NoError);
        let Decision::Reply { msg, .. } =
            decide(&s, &f, &DnsMessage::query(1, "netflix.com", QType::A))
        else {
            panic!()
        };
        assert_eq!(msg.rcode, DnsRcode::NxDomain);
        let s = plain("49.236.74.206 db\n", vec![Ipv4Addr::new(8, 8, 8, 8)]);
        assert!(matches!(
            decide(&s, &f, &DnsMessage::query(1, "netflix.com", QType::A)),
            Decision::Forward { to, .. } if to == Ipv4Addr::new(8, 8, 8, 8)
        ));
        let Decision::Reply { msg, .. } = decide(
            &s,
            &f,
            &DnsMessage::query(1, "206.74.236.49.in-addr.arpa", QType::Ptr),
        ) else {
            panic!()
        };
        assert_eq!(msg.answers.len(), 1);
    }

    #[test]
    fn coredns_kubernetes_records() {
        let core = DnsServer {
            process: "coredns".into(),
            port: 53,
            kind: ServerKind::CoreDns {
                corefile: Corefile::parse(".:53 {\n kubernetes cluster.local in-addr.arpa ip6.arpa {\n pods insecure\n fallthrough in-addr.arpa ip6.arpa\n ttl 30\n }\n forward . /etc/resolv.conf\n}\n").unwrap(),
                k8s: K8sView {
                    services: vec![("default".into(), "coredns-example".into(), Ipv4Addr::new(10, 104, 85, 140))],
                    namespaces: vec!["default".into(), "kube-system".into()],
                },
            },
        };
        let f = NsDns {
            resolv: Some(crate::dns::ResolvConf::parse("nameserver 1.1.1.1\n").unwrap()),
            ..NsDns::default()
        };
        let ask = |n: &str, t| decide(&core, &f, &DnsMessage::query(1, n, t));
        let Decision::Reply { msg, .. } =
            ask("coredns-example.default.svc.cluster.local", QType::A)
        else {
            panic!()
        };
        assert_eq!(
            msg.answers[0].data,
            RData::A {
                addr: Ipv4Addr::new(10, 104, 85, 140)
            }
        );
        assert_eq!(msg.answers[0].ttl, 30);
        let Decision::Reply { msg, .. } = ask("172-16-184-4.default.pod.cluster.local", QType::A)
        else {
            panic!()
        };
        assert_eq!(
            msg.answers[0].data,
            RData::A {
                addr: Ipv4Addr::new(172, 16, 184, 4)
            }
        );
        let Decision::Reply { msg, .. } = ask("172-16-184-4.nosuchns.pod.cluster.local", QType::A)
        else {
            panic!()
        };
        assert_eq!(msg.rcode, DnsRcode::NxDomain);
        let Decision::Reply { msg, .. } = ask("google.com.default.svc.cluster.local", QType::Aaaa)
        else {
            panic!()
        };
        assert_eq!(msg.rcode, DnsRcode::NxDomain);
        assert!(
            matches!(ask("google.com", QType::A), Decision::Forward { to, .. } if to == Ipv4Addr::new(1, 1, 1, 1))
        );
        // A reverse lookup of an address that is no Service falls through to forward.
        assert!(matches!(
            ask("4.184.16.172.in-addr.arpa", QType::Ptr),
            Decision::Forward { .. }
        ));
    }
}
