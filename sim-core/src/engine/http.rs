//! HTTP/1.1 over the simulated TCP: the `curl` program, and the programs of
//! [`crate::model::http`] behind listening sockets (traefik/whoami, ingress-nginx's
//! controller). Requests and responses are payload bytes in real segments, so they cross
//! netfilter, conntrack and NAT like the handshake does.
//!
//! One request per connection and no keepalive: curl sends its request when connected,
//! reads one response and closes; the controller opens a new connection to the chosen
//! endpoint pod for each request (as with `upstream-keepalive-connections: 0`), relays
//! the answer and closes it. Every message fits one segment. No TLS, no chunked bodies,
//! no `Date:` headers (hopsim has no wall clock).

use super::{l4, Event, Sim};
use crate::model::http::{host_name, pick_endpoint, select_route, HttpKind};
use crate::model::{stable_hash, NsId, World};
use crate::trace::{Cause, DropReason, Step, Trace};
use crate::wire::{IpPayload, Ipv4Packet, TcpFlags};
use serde::Serialize;
use std::net::Ipv4Addr;

/// The User-Agent of the documents' curl (002: `User-Agent: curl/7.68.0`).
pub const CURL_USER_AGENT: &str = "curl/7.68.0";
/// nginx's `proxy_connect_timeout` in ingress-nginx's default configuration (5 s).
pub const PROXY_CONNECT_TIMEOUT_US: u64 = 5_000_000;
/// When the kernel gives up a connect() after `tcp_syn_retries` = 6 (127 s).
const SYN_GIVE_UP_US: u64 = 127_000_000;
/// SYN retransmissions: 1 s, then doubling (`tcp_syn_retries` = 6).
const SYN_RETRANSMITS_S: [u64; 6] = [1, 3, 7, 15, 31, 63];

/// What `curl` is asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurlRequest {
    /// Destination address.
    pub addr: Ipv4Addr,
    /// Destination port (80 by default).
    pub port: u16,
    /// The path (with any query), `/` by default.
    pub path: String,
    /// `-H` headers, in order (`Host:` replaces curl's own).
    pub headers: Vec<(String, String)>,
    /// `-i`: print the response's status line and headers.
    pub include: bool,
    /// `-f`: fail (exit 22) on an HTTP error status.
    pub fail: bool,
    /// `-m`: maximum time in seconds.
    pub max_time: Option<u32>,
    /// Seed of the draws (`-m statistic`, the controller's round robin start).
    pub seed: u64,
}

impl CurlRequest {
    /// A GET of `http://ADDR[:PORT][/PATH]`.
    pub fn get(url: &str) -> Result<CurlRequest, String> {
        let rest = match url.split_once("://") {
            Some(("http", r)) => r,
            Some(("https", _)) => {
                return Err("curl: (1) hopsim: https is not modelled (no TLS); use http://".into())
            }
            Some((p, _)) => {
                return Err(format!(
                    "curl: (1) Protocol \"{p}\" not supported or disabled in libcurl"
                ))
            }
            None => url,
        };
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| "curl: (3) URL using bad/illegal format or missing URL")?,
            ),
            None => (hostport, 80),
        };
        let addr = crate::format::shell::parse_inet(host)
            .filter(|_| host.contains('.'))
            .ok_or_else(|| format!("curl: (6) Could not resolve host: {host}"))?;
        Ok(CurlRequest {
            addr,
            port,
            path,
            headers: Vec::new(),
            include: false,
            fail: false,
            max_time: None,
            seed: 0,
        })
    }

    /// Parse curl's command line (`curl [-s] [-i] [-f] [-m S] [-X GET] [-H 'K: V']... URL`).
    pub fn from_args(args: &[&str]) -> Result<CurlRequest, String> {
        let mut url = None;
        let mut headers = Vec::new();
        let (mut include, mut fail, mut max_time) = (false, false, None);
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            let mut val = || {
                i += 1;
                args.get(i)
                    .copied()
                    .ok_or_else(|| format!("curl: option {a}: requires parameter"))
            };
            match a {
                "-H" | "--header" => {
                    let h = val()?;
                    let (k, v) = h
                        .split_once(':')
                        .ok_or_else(|| format!("hopsim: curl header \"{h}\" is not NAME: VALUE"))?;
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
                "-m" | "--max-time" => {
                    let v = val()?;
                    max_time = Some(v.parse::<u32>().map_err(|_| {
                        "curl: option -m: expected a proper numerical parameter".to_string()
                    })?);
                }
                "-X" | "--request" => {
                    let m = val()?;
                    if m != "GET" {
                        return Err(format!("hopsim: curl -X {m} is not modelled (GET only)"));
                    }
                }
                "&" => {}
                _ if a.starts_with("--") => match a {
                    "--silent" | "--show-error" => {}
                    "--include" => include = true,
                    "--fail" => fail = true,
                    other => return Err(format!("hopsim: curl option {other} is not modelled")),
                },
                _ if a.starts_with('-') && a.len() > 1 => {
                    for c in a[1..].chars() {
                        match c {
                            's' | 'S' | 'v' => {}
                            'i' => include = true,
                            'f' => fail = true,
                            other => {
                                return Err(format!("hopsim: curl option -{other} is not modelled"))
                            }
                        }
                    }
                }
                u => url = Some(u),
            }
            i += 1;
        }
        let url = url.ok_or("curl: try 'curl --help' or 'curl --manual' for more information")?;
        let mut r = CurlRequest::get(url)?;
        r.headers = headers;
        r.include = include;
        r.fail = fail;
        r.max_time = max_time;
        Ok(r)
    }

    /// The request bytes curl sends: request line, `Host`, `User-Agent`, `Accept`, then
    /// the `-H` headers (a `-H` of one of those three replaces it in place).
    pub fn bytes(&self) -> Vec<u8> {
        let host = if self.port == 80 {
            self.addr.to_string()
        } else {
            format!("{}:{}", self.addr, self.port)
        };
        let mut hs: Vec<(String, String)> = vec![
            ("Host".into(), host),
            ("User-Agent".into(), CURL_USER_AGENT.into()),
            ("Accept".into(), "*/*".into()),
        ];
        for (k, v) in &self.headers {
            match hs.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
                Some(slot) => slot.1 = v.clone(),
                None => hs.push((k.clone(), v.clone())),
            }
        }
        let mut s = format!("GET {} HTTP/1.1\r\n", self.path);
        for (k, v) in hs {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        s.into_bytes()
    }
}

/// How a curl run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CurlOutcome {
    /// An HTTP response came back.
    Response {
        /// Its status code.
        status: u16,
    },
    /// The connection was refused (a reset).
    Refused,
    /// An ICMP error or a routing error, as strerror.
    Error {
        /// strerror.
        errno: String,
    },
    /// The connection was not established in time.
    ConnectTimeout,
    /// Connected, but no response in time.
    NoResponse,
}

/// The result of a curl run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurlRun {
    /// What curl prints (the body; with `-i` the head first; errors on stderr).
    pub lines: Vec<String>,
    /// Its exit status.
    pub exit: i32,
    /// How it ended.
    pub outcome: CurlOutcome,
    /// The trace.
    pub trace: Trace,
    /// The world afterwards.
    #[serde(skip)]
    pub world: World,
    /// The peer address the HTTP server that answered saw (after any NAT): for a request
    /// through the controller, the controller pod's address as the backend saw it.
    pub seen_from: Option<(Ipv4Addr, u16)>,
    /// Where the request was answered: the serving program's address and port.
    pub reached: Option<(Ipv4Addr, u16)>,
    /// iptables rules evaluated.
    pub rules_evaluated: usize,
}

type Key = (NsId, (Ipv4Addr, u16), (Ipv4Addr, u16));

#[derive(Clone, Debug)]
enum Role {
    /// curl's own connection.
    Curl { request: Vec<u8> },
    /// The controller's connection to an endpoint pod, for the request that came on
    /// `down`.
    Upstream {
        request: Vec<u8>,
        down: Key,
        upstream: String,
    },
}

#[derive(Clone, Debug)]
struct Conn {
    key: Key,
    role: Role,
}

/// Timers of the HTTP programs.
#[derive(Clone, Debug)]
pub(crate) enum HttpEvent {
    /// Retransmit a SYN that got no answer.
    SynRetransmit { key: Key, attempt: u8 },
    /// nginx's `proxy_connect_timeout` for an upstream connection.
    UpstreamTimeout { key: Key },
}

/// The HTTP programs' state while a simulation runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct HttpState {
    conns: Vec<Conn>,
    seed: u64,
    outcome: Option<CurlOutcome>,
    response: Option<Vec<u8>>,
    seen_from: Option<(Ipv4Addr, u16)>,
    reached: Option<(Ipv4Addr, u16)>,
    decided_at: Option<u64>,
    connected: bool,
    requests: u64,
}

/// Run `curl` in namespace `ns` on a copy of the world.
pub fn curl(world: World, ns: NsId, req: &CurlRequest) -> CurlRun {
    let chance = Box::new(crate::netfilter::eval::SeededChance::new(req.seed));
    let mut sim = Sim::new(world).with_chance(chance);
    sim.http = Some(HttpState {
        seed: req.seed,
        ..HttpState::default()
    });
    let dst = (req.addr, req.port);
    let fail = |errno: &str| {
        format!(
            "curl: (7) Failed to connect to {} port {}: {errno}",
            req.addr, req.port
        )
    };
    let out = super::ip_output::route_output(&sim.world, ns, req.addr, None);
    let src_ip = match out {
        Ok(o) => o.src,
        Err(e) => {
            sim.begin_hop(ns, Cause::Program);
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!(
                        "curl connects to {}:{}: connect() asks for a route",
                        req.addr, req.port
                    ),
                });
            }
            super::ip_output::step_route_output(&mut sim, req.addr, &Err(e));
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("connect: {}", e.strerror()),
            );
            let errno = e.strerror().to_string();
            return CurlRun {
                lines: vec![fail(&errno)],
                exit: 7,
                outcome: CurlOutcome::Error { errno },
                rules_evaluated: sim.rules_evaluated,
                trace: sim.trace,
                world: sim.world,
                seen_from: None,
                reached: None,
            };
        }
    };
    let src = (src_ip, ephemeral(&sim.world.netns[ns].name, dst));
    let key = (ns, src, dst);
    if let Some(h) = sim.http.as_mut() {
        h.conns.push(Conn {
            key,
            role: Role::Curl {
                request: req.bytes(),
            },
        });
    }
    sim.begin_hop(ns, Cause::Program);
    if sim.tracing() {
        sim.step(Step::Originate {
            what: format!(
                "curl connects to {}:{} from port {}: SYN (SYN_SENT)",
                dst.0, dst.1, src.1
            ),
        });
    }
    open(&mut sim, key, true);
    let limit = req
        .max_time
        .map(|s| u64::from(s) * 1_000_000)
        .unwrap_or(SYN_GIVE_UP_US);
    let start = sim.now();
    sim.run(start + limit);
    let st = sim.http.take().unwrap_or_default();
    let outcome = st.outcome.clone().unwrap_or(if st.connected {
        CurlOutcome::NoResponse
    } else {
        CurlOutcome::ConnectTimeout
    });
    let ms = limit / 1000 + 1;
    let (lines, exit) = match &outcome {
        CurlOutcome::Response { status } => {
            let bytes = st.response.clone().unwrap_or_default();
            let (head, body) = split_message(&bytes);
            if req.fail && *status >= 400 {
                (
                    vec![format!(
                        "curl: (22) The requested URL returned error: {}",
                        head.first()
                            .and_then(|l| l.split_once(' ').map(|x| x.1))
                            .unwrap_or("")
                    )],
                    22,
                )
            } else {
                let mut lines = Vec::new();
                if req.include {
                    lines.extend(head.iter().cloned());
                    lines.push(String::new());
                }
                lines.extend(text_lines(&body));
                (lines, 0)
            }
        }
        CurlOutcome::Refused => (vec![fail("Connection refused")], 7),
        CurlOutcome::Error { errno } => (vec![fail(errno)], 7),
        CurlOutcome::ConnectTimeout if req.max_time.is_some() => (
            vec![format!(
                "curl: (28) Connection timed out after {ms} milliseconds"
            )],
            28,
        ),
        CurlOutcome::ConnectTimeout => (vec![fail("Connection timed out")], 7),
        CurlOutcome::NoResponse => (
            vec![format!(
                "curl: (28) Operation timed out after {ms} milliseconds with 0 bytes received"
            )],
            28,
        ),
    };
    sim.world.clock_us = st.decided_at.unwrap_or(sim.now());
    CurlRun {
        lines,
        exit,
        outcome,
        rules_evaluated: sim.rules_evaluated,
        trace: sim.trace,
        world: sim.world,
        seen_from: st.seen_from,
        reached: st.reached,
    }
}

/// An ephemeral port, deterministic per flow.
fn ephemeral(ns: &str, dst: (Ipv4Addr, u16)) -> u16 {
    l4::ephemeral_port(&format!("http {ns}->{}:{}", dst.0, dst.1))
}

/// Send a SYN for `key` (a new client connection) and arm its timers.
fn open(sim: &mut Sim, key: Key, curl: bool) {
    let (ns, local, remote) = key;
    let iss = l4::isn(local, remote);
    sim.tcbs.push(l4::Tcb {
        ns,
        local,
        remote,
        state: l4::TcpState::SynSent,
        snd_nxt: iss.wrapping_add(1),
        rcv_nxt: 0,
        client: true,
    });
    send_syn(sim, key, iss);
    if curl {
        for (k, s) in SYN_RETRANSMITS_S.iter().enumerate() {
            sim.schedule(
                s * 1_000_000,
                Event::Http(HttpEvent::SynRetransmit {
                    key,
                    attempt: k as u8 + 1,
                }),
            );
        }
    } else {
        for (k, s) in SYN_RETRANSMITS_S.iter().take(2).enumerate() {
            sim.schedule(
                s * 1_000_000,
                Event::Http(HttpEvent::SynRetransmit {
                    key,
                    attempt: k as u8 + 1,
                }),
            );
        }
        sim.schedule(
            PROXY_CONNECT_TIMEOUT_US,
            Event::Http(HttpEvent::UpstreamTimeout { key }),
        );
    }
}

fn send_syn(sim: &mut Sim, (ns, local, remote): Key, iss: u32) {
    let ts = l4::ts_now(sim);
    l4::send_segment(
        sim,
        ns,
        local,
        remote,
        iss,
        0,
        TcpFlags {
            syn: true,
            ..TcpFlags::default()
        },
        l4::syn_options(ts, 0),
    );
}

fn tcb_of(sim: &Sim, (ns, local, remote): Key) -> Option<usize> {
    l4::find_tcb(sim, ns, local, remote)
}

fn conn_of(sim: &Sim, key: Key) -> Option<usize> {
    sim.http.as_ref()?.conns.iter().position(|c| c.key == key)
}

/// The HTTP programs' timers.
pub(crate) fn on_event(sim: &mut Sim, ev: HttpEvent) {
    match ev {
        HttpEvent::SynRetransmit { key, attempt } => {
            let waiting = tcb_of(sim, key)
                .is_some_and(|i| sim.tcbs[i].state == l4::TcpState::SynSent)
                && conn_of(sim, key).is_some();
            if !waiting {
                return;
            }
            sim.begin_hop(key.0, Cause::Program);
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!("no answer yet: SYN retransmitted (attempt {})", attempt + 1),
                });
            }
            let iss = l4::isn(key.1, key.2);
            send_syn(sim, key, iss);
        }
        HttpEvent::UpstreamTimeout { key } => {
            let Some(c) = conn_of(sim, key) else {
                return;
            };
            let Some(i) = tcb_of(sim, key) else {
                return;
            };
            if sim.tcbs[i].state != l4::TcpState::SynSent {
                return;
            }
            sim.tcbs.remove(i);
            let conn = remove_conn(sim, c);
            if let Role::Upstream { down, upstream, .. } = conn.role {
                sim.begin_hop(key.0, Cause::Program);
                if sim.tracing() {
                    sim.step(Step::Originate {
                        what: format!(
                            "nginx: upstream timed out (110: Connection timed out) while connecting to upstream {upstream} {}:{}: 504",
                            key.2 .0, key.2 .1
                        ),
                    });
                }
                respond(sim, down, &nginx_error(504, "Gateway Time-out"));
            }
        }
    }
}

fn remove_conn(sim: &mut Sim, c: usize) -> Conn {
    sim.http.as_mut().expect("http state").conns.remove(c)
}

/// A client connection of an HTTP program completed its handshake: send the request.
/// Returns whether the connection is one of theirs.
pub(crate) fn on_connected(sim: &mut Sim, key: Key) -> bool {
    let Some(c) = conn_of(sim, key) else {
        return false;
    };
    let role = sim.http.as_ref().expect("http state").conns[c].role.clone();
    let (request, who) = match role {
        Role::Curl { request } => {
            if let Some(h) = sim.http.as_mut() {
                h.connected = true;
            }
            (request, "curl")
        }
        Role::Upstream { request, .. } => (request, "nginx"),
    };
    if sim.tracing() {
        sim.step(Step::Originate {
            what: format!("{who} sends {}", summary(&request)),
        });
    }
    send_data(sim, key, request, false);
    true
}

/// A client connection of an HTTP program was reset while connecting.
pub(crate) fn on_reset(sim: &mut Sim, key: Key) {
    let Some(c) = conn_of(sim, key) else {
        return;
    };
    let conn = remove_conn(sim, c);
    match conn.role {
        Role::Curl { .. } => decide(sim, CurlOutcome::Refused),
        Role::Upstream { down, upstream, .. } => {
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!(
                        "nginx: connect() failed (111: Connection refused) while connecting to upstream {upstream} {}:{}: 502",
                        key.2 .0, key.2 .1
                    ),
                });
            }
            respond(sim, down, &nginx_error(502, "Bad Gateway"));
        }
    }
}

/// An ICMP error for a connection of an HTTP program. Returns whether it was theirs.
pub(crate) fn on_icmp_error(sim: &mut Sim, key: Key, errno: &str) -> bool {
    let Some(c) = conn_of(sim, key) else {
        return false;
    };
    if let Some(i) = tcb_of(sim, key) {
        if sim.tcbs[i].state != l4::TcpState::SynSent {
            return false;
        }
        sim.tcbs.remove(i);
    }
    if sim.tracing() {
        sim.step(Step::SocketDeliver {
            detail: format!(
                "ICMP error for the connection to {}:{}: {errno}",
                key.2 .0, key.2 .1
            ),
        });
    }
    let conn = remove_conn(sim, c);
    match conn.role {
        Role::Curl { .. } => decide(
            sim,
            if errno == "Connection refused" {
                CurlOutcome::Refused
            } else {
                CurlOutcome::Error {
                    errno: errno.into(),
                }
            },
        ),
        Role::Upstream { down, .. } => respond(sim, down, &nginx_error(502, "Bad Gateway")),
    }
    true
}

fn decide(sim: &mut Sim, o: CurlOutcome) {
    let now = sim.now();
    if let Some(h) = sim.http.as_mut() {
        if h.outcome.is_none() {
            h.outcome = Some(o);
            h.decided_at = Some(now);
        }
    }
}

/// Send `data` on the connection `key` (PSH, ACK; `fin` closes after it).
fn send_data(sim: &mut Sim, key: Key, data: Vec<u8>, fin: bool) {
    let Some(i) = tcb_of(sim, key) else {
        return;
    };
    let t = sim.tcbs[i].clone();
    let len = data.len() as u32 + u32::from(fin);
    sim.tcbs[i].snd_nxt = t.snd_nxt.wrapping_add(len);
    if fin {
        sim.tcbs[i].state = l4::TcpState::FinWait1;
    }
    let ts = l4::ts_now(sim);
    l4::send_data_segment(
        sim,
        key.0,
        key.1,
        key.2,
        t.snd_nxt,
        t.rcv_nxt,
        TcpFlags {
            psh: !data.is_empty(),
            ack: true,
            fin,
            ..TcpFlags::default()
        },
        l4::ts_options(ts, ts),
        data,
    );
}

/// Close the connection `key` from this side: FIN (FIN_WAIT1).
fn close(sim: &mut Sim, key: Key, who: &str) {
    if sim.tracing() {
        sim.step(Step::Transport {
            detail: format!("{who} closes the connection: FIN (FIN_WAIT1)"),
        });
    }
    send_data(sim, key, Vec::new(), true);
}

/// Data arrived on the TCP connection `tcbs[i]` (`tcp_data_queue`, then the program
/// reads it). Returns whether it was handled here.
pub(crate) fn on_data(sim: &mut Sim, i: usize, packet: &Ipv4Packet) -> bool {
    let IpPayload::Tcp(seg) = &packet.payload else {
        return false;
    };
    let t = sim.tcbs[i].clone();
    if !matches!(
        t.state,
        l4::TcpState::SynRecv | l4::TcpState::Established | l4::TcpState::FinWait1
    ) {
        return false;
    }
    if t.state == l4::TcpState::SynRecv && seg.flags.ack {
        sim.tcbs[i].state = l4::TcpState::Established;
    }
    sim.tcbs[i].rcv_nxt = seg.seq.wrapping_add(seg.data.len() as u32);
    let key = (t.ns, t.local, t.remote);
    let data = seg.data.clone();
    if let Some(c) = conn_of(sim, key) {
        // A response, on a connection this program opened.
        let conn = remove_conn(sim, c);
        let status = status_of(&data);
        match conn.role {
            Role::Curl { .. } => {
                if sim.tracing() {
                    sim.step(Step::SocketDeliver {
                        detail: format!("curl reads the response: {}", summary(&data)),
                    });
                }
                if let Some(h) = sim.http.as_mut() {
                    h.response = Some(data);
                }
                decide(sim, CurlOutcome::Response { status });
                close(sim, key, "curl");
            }
            Role::Upstream { down, upstream, .. } => {
                if sim.tracing() {
                    sim.step(Step::SocketDeliver {
                        detail: format!(
                            "nginx reads upstream {upstream}'s response: {}",
                            summary(&data)
                        ),
                    });
                }
                close(sim, key, "nginx");
                let relayed = relay(&data);
                if sim.tracing() {
                    sim.step(Step::Originate {
                        what: format!(
                            "nginx answers the client {}:{} with it: {}",
                            down.2 .0,
                            down.2 .1,
                            summary(&relayed)
                        ),
                    });
                }
                send_data(sim, down, relayed, false);
            }
        }
        return true;
    }
    // A request, on an accepted connection: the program serving the port reads it.
    let app = sim.world.netns[t.ns]
        .http
        .iter()
        .position(|a| a.port == t.local.1);
    let Some(app) = app else {
        if sim.tracing() {
            sim.step(Step::Transport {
                detail: format!(
                    "{} bytes of data; no modelled program reads them: acknowledge",
                    data.len()
                ),
            });
        }
        send_data(sim, key, Vec::new(), false);
        return true;
    };
    let Some(req) = Request::parse(&data) else {
        sim.drop_packet(DropReason::NoSocket, "not an HTTP request: 400");
        respond(
            sim,
            key,
            &plain(400, "Bad Request", "text/plain", "400 Bad Request"),
        );
        return true;
    };
    let kind = sim.world.netns[t.ns].http[app].kind.clone();
    match kind {
        HttpKind::Whoami { hostname } => {
            if sim.tracing() {
                sim.step(Step::SocketDeliver {
                    detail: format!(
                        "whoami reads {} {} (Host: {}) from {}:{}",
                        req.method,
                        req.path,
                        req.header("host").unwrap_or(""),
                        t.remote.0,
                        t.remote.1
                    ),
                });
            }
            if let Some(h) = sim.http.as_mut() {
                if h.seen_from.is_none() {
                    h.seen_from = Some(t.remote);
                    h.reached = Some(t.local);
                }
            }
            let addrs: Vec<Ipv4Addr> = sim
                .world
                .ns_ifaces(t.ns)
                .iter()
                .flat_map(|i| i.addrs.iter().map(|a| a.net.addr()))
                .collect();
            let body = whoami_body(&hostname, &addrs, t.remote, &req);
            respond(
                sim,
                key,
                &plain(200, "OK", "text/plain; charset=utf-8", &body),
            );
        }
        HttpKind::IngressNginx { routes, .. } => {
            let host = req.header("host").unwrap_or("").to_string();
            if sim.tracing() {
                sim.step(Step::SocketDeliver {
                    detail: format!(
                        "nginx (ingress-nginx controller) reads {} {} (Host: {host}) from {}:{}",
                        req.method, req.path, t.remote.0, t.remote.1
                    ),
                });
            }
            let Some(route) = select_route(&routes, &host, &req.path).cloned() else {
                if sim.tracing() {
                    sim.step(Step::Originate {
                        what: format!(
                            "nginx: no Ingress rule for host \"{}\" and path {}: the default backend answers 404",
                            host_name(&host),
                            req.path
                        ),
                    });
                }
                respond(sim, key, &nginx_error(404, "Not Found"));
                return true;
            };
            let served = match &sim.world.netns[t.ns].http[app].kind {
                HttpKind::IngressNginx { served, .. } => {
                    served.get(&route.upstream).copied().unwrap_or(0)
                }
                HttpKind::Whoami { .. } => 0,
            };
            let seed = sim.http.as_ref().map(|h| h.seed).unwrap_or(0);
            let Some(k) = pick_endpoint(&route.endpoints, seed, served) else {
                if sim.tracing() {
                    sim.step(Step::Originate {
                        what: format!("nginx: upstream {} has no endpoints: 503", route.upstream),
                    });
                }
                respond(
                    sim,
                    key,
                    &nginx_error(503, "Service Temporarily Unavailable"),
                );
                return true;
            };
            if let HttpKind::IngressNginx { served, .. } =
                &mut std::sync::Arc::make_mut(&mut sim.world.netns[t.ns].http)[app].kind
            {
                *served.entry(route.upstream.clone()).or_default() += 1;
            }
            let ep = route.endpoints[k];
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!(
                        "nginx: host {} path {} ({:?} {}) -> upstream {}, endpoint {}:{} (round robin, {} of {}): connect to the pod itself, not to the Service",
                        route.host.as_deref().unwrap_or("*"),
                        req.path,
                        route.path_type,
                        route.path,
                        route.upstream,
                        ep.0,
                        ep.1,
                        k + 1,
                        route.endpoints.len()
                    ),
                });
            }
            let out = super::ip_output::route_output(&sim.world, t.ns, ep.0, None);
            let Ok(out) = out else {
                respond(sim, key, &nginx_error(502, "Bad Gateway"));
                return true;
            };
            let n = sim.http.as_ref().map(|h| h.requests).unwrap_or(0);
            if let Some(h) = sim.http.as_mut() {
                h.requests += 1;
            }
            let request_id = format!(
                "{:016x}{:016x}",
                stable_hash(&format!("{seed} {n} {}:{}", t.remote.0, t.remote.1)),
                stable_hash(&format!("{n} {seed} {}", req.path))
            );
            let upstream_req = proxied_request(&req, t.remote.0, t.local.1, &request_id);
            let src = (
                out.src,
                ephemeral(&format!("{} {n}", sim.world.netns[t.ns].name), ep),
            );
            let up = (t.ns, src, ep);
            if let Some(h) = sim.http.as_mut() {
                h.conns.push(Conn {
                    key: up,
                    role: Role::Upstream {
                        request: upstream_req,
                        down: key,
                        upstream: route.upstream.clone(),
                    },
                });
            }
            if sim.tracing() {
                sim.step(Step::Originate {
                    what: format!(
                        "nginx connects to {}:{} from {}:{}: SYN (SYN_SENT)",
                        ep.0, ep.1, src.0, src.1
                    ),
                });
            }
            open(sim, up, false);
        }
    }
    true
}

/// Answer on an accepted connection (the server keeps it open: the client closes).
fn respond(sim: &mut Sim, key: Key, bytes: &[u8]) {
    if sim.tracing() {
        sim.step(Step::Originate {
            what: format!("answer {}", summary(bytes)),
        });
    }
    send_data(sim, key, bytes.to_vec(), false);
}

/// A parsed request: the request line and the headers in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET`.
    pub method: String,
    /// The request target.
    pub path: String,
    /// `HTTP/1.1`.
    pub version: String,
    /// Headers as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Parse the head of an HTTP/1.x request.
    pub fn parse(bytes: &[u8]) -> Option<Request> {
        let text = std::str::from_utf8(bytes).ok()?;
        let head = text.split("\r\n\r\n").next()?;
        let mut lines = head.split("\r\n");
        let mut first = lines.next()?.split(' ');
        let (method, path, version) = (first.next()?, first.next()?, first.next()?);
        if !version.starts_with("HTTP/1.") || !path.starts_with('/') {
            return None;
        }
        let headers = lines
            .map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Request {
            method: method.into(),
            path: path.into(),
            version: version.into(),
            headers,
        })
    }

    /// A header's value (names compare without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The request ingress-nginx sends upstream (`proxy_http_version 1.1` and the
/// `proxy_set_header` lines of its nginx.tmpl, in their order): Host is the client's,
/// then `Connection: close` (no upstream keepalive here), `X-Request-ID`, `X-Real-IP` and
/// `X-Forwarded-For` (the client address nginx saw: after any NAT), `X-Forwarded-Host`,
/// `X-Forwarded-Port` (the port nginx listens on), `X-Forwarded-Proto`,
/// `X-Forwarded-Scheme`, `X-Scheme`; then the client's other headers.
pub fn proxied_request(req: &Request, client: Ipv4Addr, port: u16, request_id: &str) -> Vec<u8> {
    let host = req.header("host").unwrap_or("").to_string();
    let set: Vec<(&str, String)> = vec![
        ("Host", host.clone()),
        ("Connection", "close".into()),
        ("X-Request-ID", request_id.into()),
        ("X-Real-IP", client.to_string()),
        ("X-Forwarded-For", client.to_string()),
        ("X-Forwarded-Host", host),
        ("X-Forwarded-Port", port.to_string()),
        ("X-Forwarded-Proto", "http".into()),
        ("X-Forwarded-Scheme", "http".into()),
        ("X-Scheme", "http".into()),
    ];
    let mut s = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    for (k, v) in &set {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    for (k, v) in &req.headers {
        if !set.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    s.push_str("\r\n");
    s.into_bytes()
}

/// Go's `CanonicalMIMEHeaderKey`: `x-real-ip` -> `X-Real-Ip`.
fn canonical(k: &str) -> String {
    k.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// traefik/whoami's answer: `Hostname:`, one `IP:` per address, `RemoteAddr:`, then the
/// request as Go's `Request.Write` prints it (request line, Host, User-Agent, the other
/// headers sorted by canonical name).
pub fn whoami_body(
    hostname: &str,
    addrs: &[Ipv4Addr],
    remote: (Ipv4Addr, u16),
    req: &Request,
) -> String {
    let mut s = format!("Hostname: {hostname}\n");
    for a in addrs {
        s.push_str(&format!("IP: {a}\n"));
    }
    s.push_str(&format!("RemoteAddr: {}:{}\n", remote.0, remote.1));
    s.push_str(&format!("{} {} {}\r\n", req.method, req.path, req.version));
    s.push_str(&format!("Host: {}\r\n", req.header("host").unwrap_or("")));
    if let Some(ua) = req.header("user-agent") {
        s.push_str(&format!("User-Agent: {ua}\r\n"));
    }
    let mut rest: Vec<(String, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("user-agent"))
        .map(|(k, v)| (canonical(k), v.as_str()))
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in rest {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

/// A response with a body.
fn plain(status: u16, reason: &str, ctype: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: {ctype}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// nginx's own error page (`server_tokens off`, as ingress-nginx sets it).
pub fn nginx_error(status: u16, reason: &str) -> Vec<u8> {
    let body = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What nginx sends its client for an upstream's response: the status line and body as
/// they came, its own `Connection: keep-alive`, the upstream's `Content-Type` and
/// `Content-Length` (nginx drops the upstream's `Connection`).
fn relay(upstream: &[u8]) -> Vec<u8> {
    let (head, body) = split_message(upstream);
    let status = head.first().cloned().unwrap_or_default();
    let get = |name: &str| {
        head.iter().skip(1).find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let mut s = format!("{status}\r\n");
    if let Some(ct) = get("content-type") {
        s.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    s.push_str(&format!("Content-Length: {}\r\n", body.len()));
    s.push_str("Connection: keep-alive\r\n\r\n");
    let mut out = s.into_bytes();
    out.extend_from_slice(&body);
    out
}

/// The head's lines and the body of a message.
fn split_message(bytes: &[u8]) -> (Vec<String>, Vec<u8>) {
    let pos = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match pos {
        Some(p) => (&bytes[..p], bytes[p + 4..].to_vec()),
        None => (bytes, Vec::new()),
    };
    let head = String::from_utf8_lossy(head)
        .split("\r\n")
        .map(str::to_string)
        .collect();
    (head, body)
}

/// A body as the lines a terminal shows.
fn text_lines(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if text.is_empty() {
        return Vec::new();
    }
    text.split('\n')
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect()
}

fn status_of(bytes: &[u8]) -> u16 {
    let (head, _) = split_message(bytes);
    head.first()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A message in a few words: its first line and size.
fn summary(bytes: &[u8]) -> String {
    let (head, _) = split_message(bytes);
    format!(
        "\"{}\" ({} bytes)",
        head.first().cloned().unwrap_or_default(),
        bytes.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_request_bytes_as_curl_sends_them() {
        let mut r = CurlRequest::from_args(&[
            "-s",
            "-H",
            "Host: app.example.com",
            "http://192.168.10.101:30080/whoami",
        ])
        .unwrap();
        assert_eq!(r.port, 30080);
        assert_eq!(
            String::from_utf8(r.bytes()).unwrap(),
            "GET /whoami HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: curl/7.68.0\r\nAccept: */*\r\n\r\n"
        );
        r.headers.clear();
        assert!(String::from_utf8(r.bytes())
            .unwrap()
            .contains("Host: 192.168.10.101:30080\r\n"));
        let plain = CurlRequest::get("192.168.20.100").unwrap();
        assert_eq!((plain.port, plain.path.as_str()), (80, "/"));
        assert!(CurlRequest::get("https://10.0.0.1/").is_err());
        assert!(CurlRequest::get("http://app.example.com/")
            .unwrap_err()
            .contains("(6)"));
        assert!(CurlRequest::from_args(&["-X", "POST", "http://10.0.0.1/"]).is_err());
    }

    #[test]
    fn proxied_request_carries_ingress_nginx_headers() {
        let req = Request::parse(
            b"GET /x HTTP/1.1\r\nHost: h.example\r\nUser-Agent: curl/7.68.0\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        let up = String::from_utf8(proxied_request(
            &req,
            "192.168.10.101".parse().unwrap(),
            80,
            "abc",
        ))
        .unwrap();
        assert!(up.starts_with("GET /x HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\nX-Request-ID: abc\r\nX-Real-IP: 192.168.10.101\r\nX-Forwarded-For: 192.168.10.101\r\nX-Forwarded-Host: h.example\r\nX-Forwarded-Port: 80\r\nX-Forwarded-Proto: http\r\n"));
        assert!(up.ends_with("User-Agent: curl/7.68.0\r\nAccept: */*\r\n\r\n"));
        // whoami prints them the Go way: canonical names, sorted.
        let back = Request::parse(up.as_bytes()).unwrap();
        let body = whoami_body(
            "w",
            &["127.0.0.1".parse().unwrap()],
            ("172.16.158.5".parse().unwrap(), 40000),
            &back,
        );
        assert!(body.contains("RemoteAddr: 172.16.158.5:40000\n"));
        assert!(
            body.contains("X-Real-Ip: 192.168.10.101\r\nX-Request-Id: abc\r\nX-Scheme: http\r\n")
        );
        assert!(body.contains(
            "Host: h.example\r\nUser-Agent: curl/7.68.0\r\nAccept: */*\r\nConnection: close\r\n"
        ));
    }

    #[test]
    fn nginx_pages_and_relay() {
        let e = nginx_error(404, "Not Found");
        assert_eq!(status_of(&e), 404);
        let (head, body) = split_message(&e);
        assert_eq!(head[0], "HTTP/1.1 404 Not Found");
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let up = plain(200, "OK", "text/plain; charset=utf-8", "hi\n");
        let r = relay(&up);
        let (head, body) = split_message(&r);
        assert_eq!(head[0], "HTTP/1.1 200 OK");
        assert_eq!(body, b"hi\n");
        assert!(head.contains(&"Connection: keep-alive".to_string()));
    }
}
