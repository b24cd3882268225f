//! The subset of CoreDNS's Corefile the documents use: one server block (`.:53 {` or
//! `. :53 {`) with the plugins `hosts`, `kubernetes`, `forward`, `cache`, and the ones that
//! do not change answers (`errors`, `health`, `ready`, `prometheus`, `loop`, `reload`,
//! `loadbalance`, `log`), which are accepted and listed. Errors use CoreDNS's words
//! (`Corefile:3 - Error during parsing: Unknown directive 'x'`).

use serde::Serialize;
use std::net::Ipv4Addr;

/// Where `forward` sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ForwardTo {
    /// `forward . /etc/resolv.conf`: the nameservers of the server's own resolv.conf.
    ResolvConf,
    /// `forward . 1.1.1.1 8.8.8.8`.
    Addrs(Vec<Ipv4Addr>),
}

/// A plugin of the server block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "plugin", rename_all = "snake_case")]
pub enum Plugin {
    /// `hosts [FILE]`: answer from the server's /etc/hosts.
    Hosts {
        /// `fallthrough`: a name not in the file goes on to the next plugin.
        fallthrough: bool,
    },
    /// `kubernetes ZONES { pods insecure; fallthrough ZONES; ttl N }`.
    Kubernetes {
        /// Zones served (`cluster.local`, `in-addr.arpa`, `ip6.arpa`).
        zones: Vec<String>,
        /// `pods insecure`: `a-b-c-d.NS.pod.cluster.local` answered.
        pods_insecure: bool,
        /// Zones for which a miss goes on to the next plugin.
        fallthrough: Vec<String>,
        /// Record TTL (5 by default; kubeadm writes 30).
        ttl: u32,
    },
    /// `forward FROM TO...`.
    Forward {
        /// The zone forwarded (`.`).
        from: String,
        /// The upstreams.
        to: ForwardTo,
    },
    /// `cache [TTL]`.
    Cache {
        /// Maximum TTL (3600 by default).
        ttl: u32,
    },
    /// A plugin that does not change answers here (`errors`, `health`, ...).
    Other {
        /// Its name.
        name: String,
    },
}

/// A parsed Corefile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Corefile {
    /// The zone of the server block (`.`).
    pub zone: String,
    /// Its port (53).
    pub port: u16,
    /// Plugins in the order written (CoreDNS runs them in its own fixed order:
    /// cache, hosts, kubernetes, forward).
    pub plugins: Vec<Plugin>,
    /// The text as written.
    pub text: String,
}

/// A Corefile error: line (1-based) and CoreDNS's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorefileError {
    /// Line in the Corefile.
    pub line: usize,
    /// The message.
    pub msg: String,
}

const QUIET: [&str; 9] = [
    "errors",
    "health",
    "ready",
    "prometheus",
    "loop",
    "reload",
    "loadbalance",
    "log",
    "whoami",
];

impl Corefile {
    /// Parse a Corefile text.
    pub fn parse(text: &str) -> Result<Corefile, CorefileError> {
        let err = |line: usize, m: String| CorefileError {
            line,
            msg: format!("Corefile:{line} - Error during parsing: {m}"),
        };
        // Tokens with their lines; braces are tokens of their own.
        let mut lines: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let l = l.split('#').next().unwrap_or("");
            let spaced = l.replace('{', " { ").replace('}', " } ");
            let words: Vec<String> = spaced.split_whitespace().map(str::to_string).collect();
            if !words.is_empty() {
                lines.push((i + 1, words));
            }
        }
        let Some((first_line, head)) = lines.first().cloned() else {
            return Err(err(1, "no server block".into()));
        };
        if head.last().map(String::as_str) != Some("{") {
            return Err(err(
                first_line,
                "Unexpected token '}', expecting '{'".replace(
                    "'}'",
                    &format!("'{}'", head.last().cloned().unwrap_or_default()),
                ),
            ));
        }
        let keys: Vec<&str> = head[..head.len() - 1].iter().map(String::as_str).collect();
        let (mut zone, mut port) = (".".to_string(), 53u16);
        for k in &keys {
            let k = k.trim_start_matches("dns://");
            let (z, p) = k.rsplit_once(':').unwrap_or((k, ""));
            if !z.is_empty() {
                zone = z.to_string();
            }
            if !p.is_empty() {
                port = p
                    .parse()
                    .map_err(|_| err(first_line, format!("invalid port '{p}'")))?;
            }
        }
        let mut plugins = Vec::new();
        let mut i = 1;
        let mut closed = false;
        while i < lines.len() {
            let (line, words) = &lines[i];
            i += 1;
            if words[0] == "}" {
                closed = true;
                if i < lines.len() {
                    return Err(err(
                        lines[i].0,
                        "a second server block is not modelled".into(),
                    ));
                }
                break;
            }
            let name = words[0].as_str();
            let opens = words.last().map(String::as_str) == Some("{");
            let args: Vec<&str> = words[1..words.len() - usize::from(opens)]
                .iter()
                .map(String::as_str)
                .collect();
            let mut block: Vec<(usize, Vec<String>)> = Vec::new();
            if opens {
                loop {
                    let Some((l, w)) = lines.get(i).cloned() else {
                        return Err(err(*line, "Unexpected EOF".into()));
                    };
                    i += 1;
                    if w[0] == "}" {
                        break;
                    }
                    block.push((l, w));
                }
            }
            plugins.push(plugin(name, &args, &block, *line).map_err(|m| err(*line, m))?);
        }
        if !closed {
            return Err(err(
                lines.last().map(|l| l.0).unwrap_or(1),
                "Unexpected EOF".into(),
            ));
        }
        Ok(Corefile {
            zone,
            port,
            plugins,
            text: text.to_string(),
        })
    }

    /// The plugin of a kind, if configured.
    pub fn find(&self, f: impl Fn(&Plugin) -> bool) -> Option<&Plugin> {
        self.plugins.iter().find(|p| f(p))
    }
}

fn plugin(
    name: &str,
    args: &[&str],
    block: &[(usize, Vec<String>)],
    _line: usize,
) -> Result<Plugin, String> {
    match name {
        "hosts" => {
            if let Some(f) = args.first() {
                if *f != "/etc/hosts" {
                    return Err(format!(
                        "hosts {f}: only the server's /etc/hosts is modelled"
                    ));
                }
            }
            Ok(Plugin::Hosts {
                fallthrough: block.iter().any(|(_, w)| w[0] == "fallthrough"),
            })
        }
        "kubernetes" => {
            let mut zones: Vec<String> = args
                .iter()
                .map(|z| z.trim_end_matches('.').to_string())
                .collect();
            if zones.is_empty() {
                zones.push(String::new());
            }
            let (mut pods_insecure, mut fallthrough, mut ttl) = (false, Vec::new(), 5u32);
            for (_, w) in block {
                match w[0].as_str() {
                    "pods" => pods_insecure = w.get(1).map(String::as_str) == Some("insecure"),
                    "fallthrough" => {
                        fallthrough = if w.len() > 1 {
                            w[1..]
                                .iter()
                                .map(|z| z.trim_end_matches('.').to_string())
                                .collect()
                        } else {
                            zones.clone()
                        }
                    }
                    "ttl" => {
                        ttl = w
                            .get(1)
                            .and_then(|t| t.parse().ok())
                            .filter(|t| *t <= 3600)
                            .ok_or_else(|| "ttl must be in range [0, 3600]".to_string())?
                    }
                    _ => {}
                }
            }
            Ok(Plugin::Kubernetes {
                zones,
                pods_insecure,
                fallthrough,
                ttl,
            })
        }
        "forward" => {
            let (Some(from), Some(_)) = (args.first(), args.get(1)) else {
                return Err(
                    "Wrong argument count or unexpected line ending after 'forward'".into(),
                );
            };
            let to = if args[1] == "/etc/resolv.conf" {
                ForwardTo::ResolvConf
            } else {
                let mut v = Vec::new();
                for a in &args[1..] {
                    let a = a.trim_start_matches("dns://");
                    let a = a.strip_suffix(":53").unwrap_or(a);
                    v.push(
                        a.parse()
                            .map_err(|_| format!("not an IP address or file: \"{a}\""))?,
                    );
                }
                ForwardTo::Addrs(v)
            };
            Ok(Plugin::Forward {
                from: from.trim_end_matches('.').to_string(),
                to,
            })
        }
        "cache" => Ok(Plugin::Cache {
            ttl: args.first().and_then(|t| t.parse().ok()).unwrap_or(3600),
        }),
        n if QUIET.contains(&n) => Ok(Plugin::Other { name: n.into() }),
        n => Err(format!("Unknown directive '{n}'")),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The kubeadm Corefile as the document (002) prints it, with its `. :53 {` head.
    #[test]
    fn the_documents_corefile() {
        let c = Corefile::parse(
            ". :53 {\n    errors\n    health {\n        lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n        pods insecure\n        fallthrough in-addr.arpa ip6.arpa\n        ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n        max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n",
        )
        .unwrap();
        assert_eq!((c.zone.as_str(), c.port), (".", 53));
        assert!(c.plugins.contains(&Plugin::Kubernetes {
            zones: vec![
                "cluster.local".into(),
                "in-addr.arpa".into(),
                "ip6.arpa".into()
            ],
            pods_insecure: true,
            fallthrough: vec!["in-addr.arpa".into(), "ip6.arpa".into()],
            ttl: 30,
        }));
        assert!(c.plugins.contains(&Plugin::Forward {
            from: "".into(),
            to: ForwardTo::ResolvConf
        }));
        assert!(c.plugins.contains(&Plugin::Cache { ttl: 30 }));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Corefile::parse(".:53 {\n    hosts\n    rewrite name a b\n}\n").unwrap_err();
        assert_eq!(
            e.msg,
            "Corefile:3 - Error during parsing: Unknown directive 'rewrite'"
        );
        assert!(Corefile::parse(".:53 {\n    hosts\n").is_err());
        assert!(Corefile::parse("").is_err());
        assert!(Corefile::parse(".:53 {\n forward .\n}").is_err());
    }
}
