//! HTTP programs behind listening TCP sockets (docs/format.md, `http:`): a traefik/whoami
//! server, and ingress-nginx's controller, an L7 proxy routing by Host header and path
//! straight to a Service's endpoint pods. The routing decisions are plain functions here
//! ([`IngressRoute::matches`], [`select_route`], [`pick_endpoint`]); the engine
//! (`engine::http`) moves the bytes.

use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// An HTTP program serving the namespace's TCP socket on `port`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HttpApp {
    /// The listening port it reads requests from (a `listen:` socket must exist).
    pub port: u16,
    /// What it does with a request.
    pub kind: HttpKind,
}

/// The programs modelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum HttpKind {
    /// traefik/whoami: `200 OK` with the host name, its addresses, the peer's address and
    /// the request as received.
    Whoami {
        /// `Hostname:` (a pod's name).
        hostname: String,
    },
    /// ingress-nginx's controller: routes by Host and path to endpoint pods.
    IngressNginx {
        /// Its locations, in the order written.
        routes: Vec<IngressRoute>,
        /// Requests balanced so far per upstream (the round robin's position).
        #[serde(skip)]
        served: BTreeMap<String, u64>,
    },
}

/// `pathType` of an Ingress path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PathType {
    /// The path exactly (case-sensitive).
    Exact,
    /// The path split by `/` is a prefix, element by element, of the request's.
    Prefix,
}

/// One location of the controller: an Ingress rule's host and path, with the upstream
/// (ingress-nginx's name `NAMESPACE-SERVICE-PORT`) and its endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IngressRoute {
    /// The rule's host; `None` matches any host (a rule without `host`).
    pub host: Option<String>,
    /// The path.
    pub path: String,
    /// Exact or Prefix.
    pub path_type: PathType,
    /// The upstream's name, `default-whoami-80`.
    pub upstream: String,
    /// The endpoints' addresses and target ports, as the controller reads them from the
    /// Service's Endpoints (not the Service's cluster IP).
    pub endpoints: Vec<(Ipv4Addr, u16)>,
}

impl IngressRoute {
    /// Whether the request path matches (Kubernetes' Ingress path semantics): Exact is
    /// string equality; Prefix `/foo` matches `/foo`, `/foo/` and `/foo/bar` but not
    /// `/foobar`, and `/` matches every path. A trailing `/` in the rule is ignored.
    pub fn matches_path(&self, path: &str) -> bool {
        let path = path.split(['?', '#']).next().unwrap_or("");
        match self.path_type {
            PathType::Exact => path == self.path,
            PathType::Prefix => {
                let rule = self.path.trim_end_matches('/');
                if rule.is_empty() {
                    return true;
                }
                path == rule
                    || path
                        .strip_prefix(rule)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        }
    }
}

/// The request's host as nginx compares it to `server_name`: the Host header without
/// its port, lower case.
pub fn host_name(host_header: &str) -> String {
    let h = host_header.trim();
    let h = match h.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => h,
    };
    h.to_ascii_lowercase()
}

/// ingress-nginx's choice of location: the server whose name is exactly the host (else
/// the default server `_`, which holds the rules without a host), then within it the
/// longest matching path, an Exact path before a Prefix path of the same length. `None`
/// is the default backend (`404 Not Found`).
pub fn select_route<'a>(
    routes: &'a [IngressRoute],
    host_header: &str,
    path: &str,
) -> Option<&'a IngressRoute> {
    let host = host_name(host_header);
    let server_exists = routes
        .iter()
        .any(|r| r.host.as_deref().map(str::to_ascii_lowercase) == Some(host.clone()));
    let in_server = |r: &&IngressRoute| match &r.host {
        Some(h) => server_exists && h.eq_ignore_ascii_case(&host),
        None => !server_exists,
    };
    routes
        .iter()
        .filter(in_server)
        .filter(|r| r.matches_path(path))
        .max_by_key(|r| {
            (
                r.path.trim_end_matches('/').len(),
                r.path_type == PathType::Exact,
            )
        })
}

/// Round robin over the endpoints: the `served`-th request (counted per upstream) after
/// a start chosen by the seed. `None` without endpoints.
pub fn pick_endpoint(endpoints: &[(Ipv4Addr, u16)], seed: u64, served: u64) -> Option<usize> {
    if endpoints.is_empty() {
        return None;
    }
    let n = endpoints.len() as u64;
    Some(((seed % n + served) % n) as usize)
}

/// Parse one `http:` entry of a topology file: `whoami PORT [HOSTNAME]` or
/// `ingress-nginx PORT HOST PATH Prefix|Exact UPSTREAM ENDPOINT,...` (HOST `*` for any,
/// ENDPOINTS `-` for none). Several `ingress-nginx` lines on one port make one controller.
pub fn parse_http(s: &str, default_hostname: &str, apps: &mut Vec<HttpApp>) -> Result<(), String> {
    let f: Vec<&str> = s.split_whitespace().collect();
    let port = |w: Option<&&str>| -> Result<u16, String> {
        let w = w.ok_or_else(|| format!("http: \"{s}\" names no port"))?;
        w.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("http: bad port \"{w}\""))
    };
    match f.first().copied() {
        Some("whoami") => {
            let port = port(f.get(1))?;
            if f.len() > 3 {
                return Err(format!("http: \"{s}\" is not whoami PORT [HOSTNAME]"));
            }
            if apps.iter().any(|a| a.port == port) {
                return Err(format!("http: a program already serves port {port}"));
            }
            apps.push(HttpApp {
                port,
                kind: HttpKind::Whoami {
                    hostname: f.get(2).unwrap_or(&default_hostname).to_string(),
                },
            });
            Ok(())
        }
        Some("ingress-nginx") => {
            let port = port(f.get(1))?;
            let [_, _, host, path, ptype, upstream, eps] = f.as_slice() else {
                return Err(format!(
                    "http: \"{s}\" is not ingress-nginx PORT HOST PATH Prefix|Exact UPSTREAM ENDPOINTS"
                ));
            };
            if !path.starts_with('/') {
                return Err(format!("http: path \"{path}\" does not start with /"));
            }
            let path_type = match *ptype {
                "Prefix" => PathType::Prefix,
                "Exact" => PathType::Exact,
                other => return Err(format!("http: pathType \"{other}\" is not Prefix or Exact")),
            };
            let mut endpoints = Vec::new();
            if *eps != "-" {
                for e in eps.split(',') {
                    let ep = e
                        .rsplit_once(':')
                        .and_then(|(a, p)| Some((a.parse().ok()?, p.parse().ok()?)))
                        .ok_or_else(|| format!("http: endpoint \"{e}\" is not ADDR:PORT"))?;
                    endpoints.push(ep);
                }
            }
            let route = IngressRoute {
                host: (*host != "*").then(|| host.to_ascii_lowercase()),
                path: path.to_string(),
                path_type,
                upstream: upstream.to_string(),
                endpoints,
            };
            match apps.iter_mut().find(|a| a.port == port) {
                Some(HttpApp {
                    kind: HttpKind::IngressNginx { routes, .. },
                    ..
                }) => routes.push(route),
                Some(_) => return Err(format!("http: a program already serves port {port}")),
                None => apps.push(HttpApp {
                    port,
                    kind: HttpKind::IngressNginx {
                        routes: vec![route],
                        served: BTreeMap::new(),
                    },
                }),
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "http: program \"{other}\" is not modelled (whoami or ingress-nginx)"
        )),
        None => Err("http: empty entry".into()),
    }
}

/// The `http:` lines that give these programs back (the inverse of [`parse_http`]).
pub fn http_lines(apps: &[HttpApp]) -> Vec<String> {
    let mut out = Vec::new();
    for a in apps {
        match &a.kind {
            HttpKind::Whoami { hostname } => out.push(format!("whoami {} {hostname}", a.port)),
            HttpKind::IngressNginx { routes, .. } => {
                for r in routes {
                    out.push(route_line(a.port, r));
                }
            }
        }
    }
    out
}

/// One controller location as an `http:` line.
pub fn route_line(port: u16, r: &IngressRoute) -> String {
    let eps: Vec<String> = r
        .endpoints
        .iter()
        .map(|(a, p)| format!("{a}:{p}"))
        .collect();
    format!(
        "ingress-nginx {port} {} {} {:?} {} {}",
        r.host.as_deref().unwrap_or("*"),
        r.path,
        r.path_type,
        r.upstream,
        if eps.is_empty() {
            "-".to_string()
        } else {
            eps.join(",")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: Option<&str>, path: &str, t: PathType, up: &str) -> IngressRoute {
        IngressRoute {
            host: host.map(str::to_string),
            path: path.into(),
            path_type: t,
            upstream: up.into(),
            endpoints: vec![],
        }
    }

    #[test]
    fn prefix_matches_by_path_element() {
        let r = route(None, "/foo", PathType::Prefix, "u");
        assert!(r.matches_path("/foo"));
        assert!(r.matches_path("/foo/"));
        assert!(r.matches_path("/foo/bar"));
        assert!(r.matches_path("/foo?x=1"));
        assert!(!r.matches_path("/foobar"));
        assert!(!r.matches_path("/"));
        let slash = route(None, "/foo/", PathType::Prefix, "u");
        assert!(slash.matches_path("/foo"), "a trailing slash is ignored");
        let root = route(None, "/", PathType::Prefix, "u");
        assert!(root.matches_path("/anything/at/all"));
    }

    #[test]
    fn exact_matches_only_the_path() {
        let r = route(None, "/foo", PathType::Exact, "u");
        assert!(r.matches_path("/foo"));
        assert!(!r.matches_path("/foo/"));
        assert!(!r.matches_path("/foo/bar"));
        assert!(!r.matches_path("/FOO"));
    }

    #[test]
    fn host_is_exact_without_port_and_case() {
        assert_eq!(host_name("App.Example.com:30080"), "app.example.com");
        assert_eq!(host_name("192.168.10.101"), "192.168.10.101");
        let routes = vec![route(Some("app.example.com"), "/", PathType::Prefix, "a")];
        assert!(select_route(&routes, "APP.example.com:80", "/x").is_some());
        assert!(select_route(&routes, "www.app.example.com", "/x").is_none());
        assert!(select_route(&routes, "example.com", "/x").is_none());
    }

    #[test]
    fn longest_path_wins_and_exact_before_prefix() {
        let routes = vec![
            route(Some("h"), "/", PathType::Prefix, "root"),
            route(Some("h"), "/api", PathType::Prefix, "api"),
            route(Some("h"), "/api", PathType::Exact, "api-exact"),
            route(Some("h"), "/api/v1", PathType::Prefix, "v1"),
        ];
        let up = |p: &str| select_route(&routes, "h", p).map(|r| r.upstream.as_str());
        assert_eq!(up("/"), Some("root"));
        assert_eq!(up("/apix"), Some("root"));
        assert_eq!(up("/api"), Some("api-exact"));
        assert_eq!(up("/api/"), Some("api"));
        assert_eq!(up("/api/v1/users"), Some("v1"));
    }

    #[test]
    fn no_match_is_the_default_backend() {
        let routes = vec![route(Some("h"), "/app", PathType::Exact, "a")];
        assert!(select_route(&routes, "h", "/").is_none(), "no location");
        assert!(
            select_route(&routes, "other", "/app").is_none(),
            "no server"
        );
        assert!(select_route(&[], "h", "/").is_none());
    }

    #[test]
    fn rules_without_host_serve_unknown_hosts_only() {
        let routes = vec![
            route(None, "/", PathType::Prefix, "any"),
            route(Some("h"), "/only", PathType::Prefix, "h"),
        ];
        let up = |h: &str, p: &str| select_route(&routes, h, p).map(|r| r.upstream.clone());
        assert_eq!(up("x", "/z").as_deref(), Some("any"));
        assert_eq!(up("h", "/only").as_deref(), Some("h"));
        // The server `h` exists: its locations decide, the default server is not used.
        assert_eq!(up("h", "/z"), None);
    }

    #[test]
    fn round_robin_from_the_seed() {
        let eps: Vec<(Ipv4Addr, u16)> = vec![
            ("10.0.0.1".parse().unwrap(), 80),
            ("10.0.0.2".parse().unwrap(), 80),
            ("10.0.0.3".parse().unwrap(), 80),
        ];
        let seq: Vec<usize> = (0..4).map(|k| pick_endpoint(&eps, 1, k).unwrap()).collect();
        assert_eq!(seq, vec![1, 2, 0, 1]);
        assert_eq!(pick_endpoint(&eps, 0, 0), Some(0));
        assert_eq!(pick_endpoint(&[], 5, 0), None);
    }

    #[test]
    fn lines_parse_back() {
        let mut apps = Vec::new();
        parse_http("whoami 80 web-1", "ns", &mut apps).unwrap();
        parse_http(
            "ingress-nginx 8080 app.example.com /api Prefix default-api-80 10.0.0.1:80,10.0.0.2:8080",
            "ns",
            &mut apps,
        )
        .unwrap();
        parse_http(
            "ingress-nginx 8080 * / Exact default-web-80 -",
            "ns",
            &mut apps,
        )
        .unwrap();
        let lines = http_lines(&apps);
        let mut again = Vec::new();
        for l in &lines {
            parse_http(l, "ns", &mut again).unwrap();
        }
        assert_eq!(apps, again);
        assert_eq!(apps.len(), 2);
        for bad in [
            "whoami",
            "whoami 0",
            "apache 80",
            "ingress-nginx 80 h nopath Prefix u -",
            "ingress-nginx 80 h / Regex u -",
            "ingress-nginx 80 h / Prefix u 10.0.0.1",
        ] {
            assert!(parse_http(bad, "ns", &mut Vec::new()).is_err(), "{bad}");
        }
        assert!(
            parse_http("whoami 8080", "ns", &mut apps).is_err(),
            "port taken"
        );
    }
}
