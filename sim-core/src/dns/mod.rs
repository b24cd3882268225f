//! Name resolution state of a namespace (docs/dns.md): its `/etc/hosts`, its
//! `/etc/resolv.conf`, which C library its programs use, and the DNS server process that
//! may listen in it. The texts are parsed as glibc and the servers read them; the engine
//! ([`crate::engine::resolver`], [`crate::engine::dns`]) turns lookups into packets.

pub mod corefile;
pub mod server;

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Everything about names in one namespace (a container's or pod's files and processes).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NsDns {
    /// `/etc/hosts` (absent: empty).
    pub hosts: Option<HostsFile>,
    /// `/etc/resolv.conf` (absent: glibc asks 127.0.0.1).
    pub resolv: Option<ResolvConf>,
    /// The C library of the programs that run here.
    pub libc: Libc,
    /// A DNS server process listening on port 53 here.
    pub server: Option<Arc<server::DnsServer>>,
}

/// The C library whose resolver the programs use: it decides the error texts (and, for
/// musl, that ICMP errors are not seen: its socket is not connected).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    /// glibc (Debian, Ubuntu, most images): `Name or service not known`, `Temporary
    /// failure in name resolution`.
    #[default]
    Glibc,
    /// musl (Alpine, netshoot): `Name does not resolve`, `Try again`.
    Musl,
}

impl Libc {
    /// Parse `glibc` or `musl`.
    pub fn parse(s: &str) -> Option<Libc> {
        match s {
            "glibc" => Some(Libc::Glibc),
            "musl" => Some(Libc::Musl),
            _ => None,
        }
    }
}

/// One line of `/etc/hosts`: an address and its names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostsEntry {
    /// The address.
    pub addr: IpAddr,
    /// Canonical name first, then aliases.
    pub names: Vec<String>,
}

/// `/etc/hosts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostsFile {
    /// Entries in file order.
    pub entries: Vec<HostsEntry>,
    /// The text as written.
    pub text: String,
}

/// A parse error in one of the files: the line (1-based) and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// 1-based line in the text.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

fn content_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or("");
        let words: Vec<&str> = l.split_whitespace().collect();
        (!words.is_empty()).then_some((i + 1, words))
    })
}

impl HostsFile {
    /// Parse the text of a hosts file (`IP NAME [ALIAS...]`, `#` comments).
    pub fn parse(text: &str) -> Result<HostsFile, FileError> {
        let mut entries = Vec::new();
        for (line, words) in content_lines(text) {
            let addr: IpAddr = words[0].parse().map_err(|_| FileError {
                line,
                msg: format!("\"{}\" is not an IP address", words[0]),
            })?;
            if words.len() < 2 {
                return Err(FileError {
                    line,
                    msg: format!("{addr} has no name"),
                });
            }
            entries.push(HostsEntry {
                addr,
                names: words[1..].iter().map(|w| w.to_string()).collect(),
            });
        }
        Ok(HostsFile {
            entries,
            text: text.to_string(),
        })
    }

    /// The entries naming `name` (case-insensitive, as glibc's files backend compares),
    /// IPv4 ones if `v4`, IPv6 ones otherwise.
    pub fn lookup(&self, name: &str, v4: bool) -> Vec<&HostsEntry> {
        let n = name.trim_end_matches('.');
        self.entries
            .iter()
            .filter(|e| e.addr.is_ipv4() == v4)
            .filter(|e| e.names.iter().any(|x| x.eq_ignore_ascii_case(n)))
            .collect()
    }

    /// The first name of the first entry for an address (a reverse lookup).
    pub fn reverse(&self, addr: IpAddr) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.addr == addr)
            .and_then(|e| e.names.first().map(String::as_str))
    }
}

/// `/etc/resolv.conf`, as glibc reads it (`res_init`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvConf {
    /// `nameserver` lines (glibc uses the first three).
    pub nameservers: Vec<Ipv4Addr>,
    /// `search` (or `domain`) list: the last such line wins.
    pub search: Vec<String>,
    /// `options ndots:N` (1).
    pub ndots: u8,
    /// `options timeout:N` in seconds (5).
    pub timeout: u32,
    /// `options attempts:N` (2).
    pub attempts: u32,
    /// The text as written.
    pub text: String,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: 5,
            attempts: 2,
            text: String::new(),
        }
    }
}

/// glibc's `MAXNS`.
pub const MAXNS: usize = 3;

impl ResolvConf {
    /// Parse a resolv.conf text. Unknown keywords and options are ignored, as glibc
    /// ignores them; a `nameserver` that is not an IPv4 address is an error here (glibc
    /// skips it silently, which hides typos).
    pub fn parse(text: &str) -> Result<ResolvConf, FileError> {
        let mut rc = ResolvConf {
            text: text.to_string(),
            ..ResolvConf::default()
        };
        for (i, l) in text.lines().enumerate() {
            let line = i + 1;
            if l.starts_with(['#', ';']) {
                continue;
            }
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.first().copied() {
                Some("nameserver") => {
                    let Some(a) = words.get(1) else {
                        continue;
                    };
                    let ip: Ipv4Addr = a.parse().map_err(|_| FileError {
                        line,
                        msg: format!(
                            "nameserver \"{a}\" is not an IPv4 address (IPv6 servers are not modelled)"
                        ),
                    })?;
                    if rc.nameservers.len() < MAXNS {
                        rc.nameservers.push(ip);
                    }
                }
                Some("search") | Some("domain") => {
                    rc.search = words[1..]
                        .iter()
                        .map(|w| w.trim_end_matches('.').to_string())
                        .collect();
                }
                Some("options") => {
                    for o in &words[1..] {
                        let (k, v) = o.split_once(':').unwrap_or((o, ""));
                        let n = v.parse::<u32>().ok();
                        match (k, n) {
                            // res_init caps: ndots 15, timeout 30, attempts 5.
                            ("ndots", Some(n)) => rc.ndots = n.min(15) as u8,
                            ("timeout", Some(n)) => rc.timeout = n.clamp(1, 30),
                            ("attempts", Some(n)) => rc.attempts = n.clamp(1, 5),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(rc)
    }

    /// The servers asked: the listed ones, or 127.0.0.1 when there are none.
    pub fn servers(&self) -> Vec<Ipv4Addr> {
        if self.nameservers.is_empty() {
            vec![Ipv4Addr::LOCALHOST]
        } else {
            self.nameservers.clone()
        }
    }

    /// The names glibc's `res_search` tries for `name`, in order: with at least `ndots`
    /// dots (or a final dot) the name as it is first, then the search list (not after a
    /// final dot); with fewer, the search list first and the name as it is last.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        let trailing = name.ends_with('.');
        let bare = name.trim_end_matches('.').to_string();
        let dots = bare.matches('.').count();
        let mut out = Vec::new();
        let as_is_first = trailing || dots >= usize::from(self.ndots);
        if as_is_first {
            out.push(bare.clone());
        }
        if !trailing {
            for d in &self.search {
                let c = format!("{bare}.{d}");
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        if !as_is_first {
            out.push(bare);
        }
        out
    }
}

/// The resolv.conf kubelet writes for a pod with `dnsPolicy: ClusterFirst` (containerd
/// writes search, then nameserver, then options).
pub fn kubelet_resolv_conf(namespace: &str, cluster_dns: Ipv4Addr, domain: &str) -> String {
    format!(
        "search {namespace}.svc.{domain} svc.{domain} {domain}\nnameserver {cluster_dns}\noptions ndots:5\n"
    )
}

#[cfg(test)]
mod test {
    use super::*;

    fn rc(text: &str) -> ResolvConf {
        ResolvConf::parse(text).unwrap()
    }

    #[test]
    fn ndots_one_single_label_searches_first() {
        let r = rc("nameserver 192.168.1.100\nsearch mycompany.com prod.mycompany.com\n");
        assert_eq!(
            r.candidates("web"),
            ["web.mycompany.com", "web.prod.mycompany.com", "web"]
        );
        // One dot reaches ndots 1: the name as it is first.
        assert_eq!(
            r.candidates("google.com"),
            [
                "google.com",
                "google.com.mycompany.com",
                "google.com.prod.mycompany.com"
            ]
        );
    }

    #[test]
    fn ndots_five_and_a_final_dot() {
        let r = rc(&kubelet_resolv_conf(
            "default",
            Ipv4Addr::new(10, 96, 0, 10),
            "cluster.local",
        ));
        assert_eq!(r.ndots, 5);
        assert_eq!(
            r.candidates("google.com"),
            [
                "google.com.default.svc.cluster.local",
                "google.com.svc.cluster.local",
                "google.com.cluster.local",
                "google.com"
            ]
        );
        assert_eq!(r.candidates("google.com."), ["google.com"]);
    }

    #[test]
    fn defaults_and_limits() {
        let r = rc("# nothing\noptions timeout:99 attempts:0 rotate\n");
        assert_eq!(r.servers(), [Ipv4Addr::LOCALHOST]);
        assert_eq!((r.timeout, r.attempts, r.ndots), (30, 1, 1));
        let r = rc("nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\nsearch a\ndomain b\n");
        assert_eq!(r.nameservers.len(), 3);
        assert_eq!(r.search, ["b"]);
        let e = ResolvConf::parse("\nnameserver 1.1.1\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn hosts_lookup_is_case_insensitive_and_per_family() {
        let h = HostsFile::parse(
            "127.0.0.1 localhost\n192.168.1.115   test  # comment\n::1 localhost ip6-localhost\n",
        )
        .unwrap();
        assert_eq!(h.lookup("TEST", true).len(), 1);
        assert!(h.lookup("test", false).is_empty());
        assert_eq!(h.lookup("localhost", false).len(), 1);
        assert_eq!(h.reverse("192.168.1.115".parse().unwrap()), Some("test"));
        assert_eq!(HostsFile::parse("x db").unwrap_err().line, 1);
        assert_eq!(HostsFile::parse("\n1.2.3.4").unwrap_err().line, 2);
    }
}
