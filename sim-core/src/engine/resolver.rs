//! The stub resolver of a program, decision by decision (docs/dns.md): glibc's
//! `getaddrinfo` as ping uses it (nsswitch `hosts: files dns`: /etc/hosts first, then DNS
//! with the search list and ndots, A and AAAA together on one socket, `timeout` seconds per
//! try, `attempts` tries), `getent hosts` (AAAA then A, each files then DNS), and the DNS-only
//! tools `nslookup` and `dig`, which never read /etc/hosts. Every query is a datagram sent
//! through the engine ([`super::dns`]); the answer is what came back.

use super::dns::{self as edns, ClientSock, DnsState};
use super::Sim;
use crate::dns::{HostsFile, Libc, ResolvConf};
use crate::model::{stable_hash, NsId, World};
use crate::trace::{Cause, Step, Trace};
use crate::wire::dns::{DnsMessage, DnsRcode, Edns, QType, RData};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};

/// The program asking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    /// `ping NAME`: getaddrinfo, files then dns.
    #[default]
    Ping,
    /// `getent hosts NAME`: gethostbyname2 for IPv6 then IPv4, files then dns.
    Getent,
    /// `nslookup NAME`: DNS only.
    Nslookup,
    /// `dig NAME`: DNS only, no search list.
    Dig,
}

impl Tool {
    /// The name `--tool` and `resolve: {tool: ...}` take.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ping => "ping",
            Tool::Getent => "getent",
            Tool::Nslookup => "nslookup",
            Tool::Dig => "dig",
        }
    }

    /// Parse `ping`, `getent`, `nslookup`, `dig`.
    pub fn parse(s: &str) -> Option<Tool> {
        match s {
            "ping" | "getaddrinfo" => Some(Tool::Ping),
            "getent" => Some(Tool::Getent),
            "nslookup" => Some(Tool::Nslookup),
            "dig" => Some(Tool::Dig),
            _ => None,
        }
    }
}

/// Options of a lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResolveOptions {
    /// Who asks.
    pub tool: Tool,
    /// `--type` (dig/nslookup); A by default.
    pub qtype: Option<QType>,
}

impl ResolveOptions {
    /// The command that does this lookup, as typed: `getent hosts db`, `nslookup db`,
    /// `nslookup -type=AAAA db`, `dig db`, `dig db AAAA`; for ping, the getaddrinfo call.
    pub fn command(&self, name: &str) -> String {
        match (self.tool, self.qtype) {
            (Tool::Ping, _) => format!("getaddrinfo(\"{name}\") (ping {name})"),
            (Tool::Getent, _) => format!("getent hosts {name}"),
            (Tool::Nslookup, None) => format!("nslookup {name}"),
            (Tool::Nslookup, Some(t)) => format!("nslookup -type={t} {name}"),
            (Tool::Dig, None) => format!("dig {name}"),
            (Tool::Dig, Some(t)) => format!("dig {name} {t}"),
        }
    }
}

/// Why a lookup failed (the resolver's h_errno).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Failure {
    /// HOST_NOT_FOUND: every name tried was NXDOMAIN.
    NotFound,
    /// NO_DATA: a name exists but has no address of the kind asked.
    NoData,
    /// TRY_AGAIN: no server answered (timeouts, ICMP errors, SERVFAIL).
    TryAgain,
}

impl Failure {
    /// What `gai_strerror` says for it, per C library.
    pub fn gai_text(self, libc: Libc) -> &'static str {
        match (libc, self) {
            (Libc::Glibc, Failure::NotFound) => "Name or service not known",
            (Libc::Glibc, Failure::NoData) => "No address associated with hostname",
            (Libc::Glibc, Failure::TryAgain) => "Temporary failure in name resolution",
            (Libc::Musl, Failure::TryAgain) => "Try again",
            (Libc::Musl, _) => "Name does not resolve",
        }
    }
}

/// The result of a lookup.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResolveRun {
    /// What the tool prints (for ping: only its error line, if any).
    pub lines: Vec<String>,
    /// Its exit status.
    pub exit: i32,
    /// Addresses found.
    pub addrs: Vec<IpAddr>,
    /// The canonical name (the name that answered, after CNAMEs).
    pub canonical: Option<String>,
    /// Why it failed.
    pub failure: Option<Failure>,
    /// Whether /etc/hosts answered.
    pub from_files: bool,
    /// Every decision and datagram.
    pub trace: Trace,
    /// The world afterwards (conntrack entries, neighbour caches, the clock).
    #[serde(skip)]
    pub world: World,
}

/// How one exchange with one server ended.
enum Exchange {
    Answers(Vec<(DnsMessage, usize)>),
    /// An ICMP error on the connected socket.
    Error(String),
    Timeout,
}

struct Resolver {
    sim: Sim,
    ns: NsId,
    libc: Libc,
    rc: ResolvConf,
    hosts: Option<HostsFile>,
    /// Sockets opened so far (for distinct ports and ids).
    sockets: u32,
    /// Last server that answered, and the answer's size (dig prints them).
    last_server: Option<Ipv4Addr>,
    /// How long the last answered exchange took, in microseconds (dig's Query time).
    last_rtt_us: u64,
    /// Tries that failed, in order, with bind's words for why (`timed out`, `connection
    /// refused`): dig and nslookup print each.
    failed_tries: Vec<(Ipv4Addr, String)>,
}

fn note(sim: &mut Sim, ns: NsId, text: impl Into<String>) {
    sim.begin_hop(ns, Cause::Program);
    if sim.tracing() {
        sim.step(Step::Resolver {
            detail: text.into(),
        });
    }
}

impl Resolver {
    fn new(world: World, ns: NsId) -> Resolver {
        let d = world.netns[ns].dns.clone();
        let mut sim = Sim::new(world);
        sim.dns = Some(DnsState::default());
        Resolver {
            sim,
            ns,
            libc: d.libc,
            rc: d.resolv.clone().unwrap_or_default(),
            hosts: d.hosts.clone(),
            sockets: 0,
            last_server: None,
            last_rtt_us: 0,
            failed_tries: Vec::new(),
        }
    }

    fn note(&mut self, text: impl Into<String>) {
        note(&mut self.sim, self.ns, text);
    }

    fn id(&self, name: &str, t: QType) -> u16 {
        (stable_hash(&format!(
            "{}/{name}/{t}/{}",
            self.sim.world.netns[self.ns].name, self.sockets
        )) & 0xffff) as u16
    }

    /// Send `queries` to `server` on one socket, `tries` times `wait_us` apart, and wait.
    fn exchange(
        &mut self,
        server: Ipv4Addr,
        queries: &[DnsMessage],
        tries: u32,
        wait_us: u64,
        program: &str,
    ) -> Exchange {
        self.sockets += 1;
        let ns = self.ns;
        let nsname = self.sim.world.netns[ns].name.clone();
        let port = super::l4::ephemeral_port(&format!("{nsname}/resolver/{}", self.sockets));
        let connected = self.libc == Libc::Glibc;
        let src = super::ip_output::route_output(&self.sim.world, ns, server, None)
            .map(|o| o.src)
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        if let Some(st) = self.sim.dns.as_mut() {
            st.clients.push(ClientSock {
                ns,
                local: (src, port),
                remote: (server, 53),
                connected,
                waiting: queries.iter().map(|q| q.id).collect(),
                answers: Vec::new(),
                error: None,
            });
        }
        for attempt in 0..tries {
            let start = self.sim.now();
            let waiting: Vec<u16> = self
                .sim
                .dns
                .as_ref()
                .and_then(|s| s.clients.last())
                .map(|c| c.waiting.clone())
                .unwrap_or_default();
            for q in queries.iter().filter(|q| waiting.contains(&q.id)) {
                self.sim.begin_hop(ns, Cause::Program);
                let (n, t) = q.question.clone().unwrap_or((String::new(), QType::A));
                self.sim.step(Step::Originate {
                    what: format!(
                        "{program} sends {} {t} query for {n} (id {}) to {server}:53 from port {port}{}",
                        if t == QType::A { "an" } else { "a" },
                        q.id,
                        if attempt > 0 {
                            format!(", try {}", attempt + 1)
                        } else {
                            String::new()
                        }
                    ),
                });
                let sent = edns::send_udp(&mut self.sim, ns, None, port, (server, 53), q.emit());
                if sent.is_none() {
                    return Exchange::Error("Network is unreachable".into());
                }
            }
            self.sim.run(start + wait_us);
            self.sim.stopped = false;
            let c = self
                .sim
                .dns
                .as_ref()
                .and_then(|s| s.clients.last())
                .cloned();
            let Some(c) = c else {
                return Exchange::Timeout;
            };
            if let Some(e) = c.error {
                // Measured with bind 9.18: dig and nslookup do not end a try on an ICMP
                // host unreachable (an ARP failure for the server); they wait it out and
                // say "timed out". Connection refused ends it at once.
                let bind = program == "dig" || program == "nslookup";
                if !(bind && e == "No route to host") {
                    return Exchange::Error(e);
                }
                self.note(format!(
                    "{program} does not act on the socket's error ({e}): it waits out the try"
                ));
            }
            if c.waiting.is_empty() {
                self.last_server = Some(server);
                self.last_rtt_us = self.sim.now().saturating_sub(start);
                return Exchange::Answers(c.answers);
            }
            self.sim.now = self.sim.now.max(start + wait_us);
            self.failed_tries.push((server, "timed out".into()));
            self.note(format!(
                "no answer from {server} within {} ms{}",
                wait_us / 1000,
                if attempt + 1 < tries {
                    ": send again"
                } else {
                    ""
                }
            ));
        }
        Exchange::Timeout
    }

    /// Ask the servers (in order, `attempts` rounds) for `name` with the given types.
    /// `Ok(answers)` or the failure to report for this name.
    fn query_servers(
        &mut self,
        name: &str,
        types: &[QType],
        edns: Option<Edns>,
        program: &str,
        (tries_per_server, rounds, wait_us): (u32, u32, u64),
    ) -> Result<Vec<(DnsMessage, usize)>, Failure> {
        let servers = self.rc.servers();
        for _ in 0..rounds {
            for server in &servers {
                let queries: Vec<DnsMessage> = types
                    .iter()
                    .map(|t| {
                        let mut q = DnsMessage::query(self.id(name, *t), name, *t);
                        q.edns = edns.clone();
                        q
                    })
                    .collect();
                match self.exchange(*server, &queries, tries_per_server, wait_us, program) {
                    Exchange::Answers(a) => {
                        if a.iter()
                            .any(|(m, _)| matches!(m.rcode, DnsRcode::ServFail | DnsRcode::Refused))
                        {
                            self.note(format!(
                                "{server} answered {}: try the next server",
                                a[0].0.rcode.dig_name()
                            ));
                            continue;
                        }
                        return Ok(a);
                    }
                    Exchange::Error(e) => {
                        // bind's isc_result texts for the socket errors.
                        let why = match e.as_str() {
                            "No route to host" => "host unreachable".to_string(),
                            "Network is unreachable" => "network unreachable".to_string(),
                            other => other.to_ascii_lowercase(),
                        };
                        self.failed_tries.push((*server, why));
                        self.note(format!("{server}: {e}: try the next server"));
                    }
                    Exchange::Timeout => {}
                }
            }
        }
        Err(Failure::TryAgain)
    }

    /// glibc's per-try wait and tries for a server; musl's retry interval.
    fn timing(&self) -> (u32, u32, u64) {
        match self.libc {
            // glibc: each server `attempts` times, `timeout` seconds each.
            Libc::Glibc => (1, self.rc.attempts, u64::from(self.rc.timeout) * 1_000_000),
            // musl: resends every timeout/attempts, gives up after timeout.
            Libc::Musl => (
                self.rc.attempts,
                1,
                u64::from(self.rc.timeout) * 1_000_000 / u64::from(self.rc.attempts.max(1)),
            ),
        }
    }

    /// The names to try, by the libc's rules.
    fn candidates(&mut self, name: &str, search: bool) -> Vec<String> {
        let bare = name.trim_end_matches('.');
        let dots = bare.matches('.').count();
        if !search {
            return vec![bare.to_string()];
        }
        let c = match self.libc {
            Libc::Glibc => self.rc.candidates(name),
            // musl searches only names with fewer dots than ndots, and never a name
            // ending in a dot; the name itself comes last.
            Libc::Musl if name.ends_with('.') || dots >= usize::from(self.rc.ndots) => {
                vec![bare.to_string()]
            }
            Libc::Musl => {
                let mut v: Vec<String> = self
                    .rc
                    .search
                    .iter()
                    .map(|d| format!("{bare}.{d}"))
                    .collect();
                v.push(bare.to_string());
                v
            }
        };
        self.note(format!(
            "\"{bare}\" has {dots} dot{} {} ndots:{}{}: try {}",
            if dots == 1 { "" } else { "s" },
            if name.ends_with('.') {
                "and a final dot, whatever"
            } else if dots >= usize::from(self.rc.ndots) {
                ">="
            } else {
                "<"
            },
            self.rc.ndots,
            if self.rc.search.is_empty() {
                String::new()
            } else {
                format!(" (search {})", self.rc.search.join(" "))
            },
            c.join(", then ")
        ));
        c
    }

    /// The DNS part of a lookup: every candidate name, until one answers.
    fn dns(
        &mut self,
        name: &str,
        types: &[QType],
        edns: Option<Edns>,
        program: &str,
        search: bool,
    ) -> Result<(String, Vec<(DnsMessage, usize)>), Failure> {
        let cands = self.candidates(name, search);
        let (tries, rounds, wait) = self.timing();
        let (rounds, tries, wait) = if program == "dig" || program == "nslookup" {
            // dig and nslookup (bind 9.18): 3 tries of 5 s, each from a new socket (a new
            // port), whatever resolv.conf says.
            (3, 1, 5_000_000)
        } else {
            (rounds, tries, wait)
        };
        let mut nodata: Option<(String, Vec<(DnsMessage, usize)>)> = None;
        let mut last = Failure::NotFound;
        // dig prints the NXDOMAIN answer itself (status: NXDOMAIN, the SOA).
        let mut nxdomain: Option<(String, Vec<(DnsMessage, usize)>)> = None;
        for c in cands {
            match self.query_servers(&c, types, edns.clone(), program, (tries, rounds, wait)) {
                Ok(answers) => {
                    let nx = answers.iter().any(|(m, _)| m.rcode == DnsRcode::NxDomain);
                    let has = answers
                        .iter()
                        .any(|(m, _)| m.answers.iter().any(|r| types.contains(&r.data.qtype())));
                    if has {
                        self.note(format!("{c}: answered"));
                        return Ok((c, answers));
                    }
                    if nx {
                        self.note(format!("{c}: NXDOMAIN, next name"));
                        last = Failure::NotFound;
                        nxdomain = Some((c.clone(), answers));
                    } else {
                        self.note(format!(
                            "{c}: the name exists but has no {} record (NODATA), next name",
                            types
                                .iter()
                                .map(|t| t.to_string())
                                .collect::<Vec<_>>()
                                .join("/")
                        ));
                        if nodata.is_none() {
                            nodata = Some((c.clone(), answers));
                        }
                        if self.libc == Libc::Musl {
                            break;
                        }
                    }
                }
                Err(f) => {
                    self.note(format!(
                        "{c}: no server answered: give up (TRY_AGAIN ends the search)"
                    ));
                    return Err(f);
                }
            }
        }
        match nodata {
            Some(n) if program == "dig" || program == "nslookup" => Ok(n),
            Some(_) => Err(Failure::NoData),
            None if program == "dig" => nxdomain.ok_or(last),
            None => Err(last),
        }
    }

    fn files(&mut self, name: &str, v4: bool, v6: bool) -> Option<(String, Vec<IpAddr>)> {
        let Some(h) = self.hosts.clone() else {
            self.note("files: there is no /etc/hosts entry at all: go on to dns");
            return None;
        };
        let mut hits: Vec<&crate::dns::HostsEntry> = Vec::new();
        if v4 {
            hits.extend(h.lookup(name, true));
        }
        if v6 {
            hits.extend(h.lookup(name, false));
        }
        if hits.is_empty() {
            self.note(format!(
                "files: /etc/hosts has no {}entry for {name}: go on to dns",
                if v6 && !v4 {
                    "IPv6 "
                } else if v4 && !v6 {
                    "IPv4 "
                } else {
                    ""
                }
            ));
            return None;
        }
        let canon = hits[0].names[0].clone();
        let addrs: Vec<IpAddr> = hits.iter().map(|e| e.addr).collect();
        self.note(format!(
            "files: /etc/hosts says {name} is {}: DNS is not asked",
            addrs
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Some((canon, addrs))
    }
}

fn addresses(answers: &[(DnsMessage, usize)], t: &[QType]) -> Vec<IpAddr> {
    answers
        .iter()
        .flat_map(|(m, _)| m.answers.iter())
        .filter_map(|r| match &r.data {
            RData::A { addr } if t.contains(&QType::A) => Some(IpAddr::V4(*addr)),
            RData::Aaaa { addr } if t.contains(&QType::Aaaa) => Some(IpAddr::V6(*addr)),
            _ => None,
        })
        .collect()
}

fn canonical(answers: &[(DnsMessage, usize)], asked: &str) -> String {
    let mut name = asked.to_string();
    for (m, _) in answers {
        for r in &m.answers {
            if let RData::Cname { target } = &r.data {
                if r.name.eq_ignore_ascii_case(&name) {
                    name = target.clone();
                }
            }
        }
    }
    name
}

/// Look `name` up from namespace `ns` as `opts.tool` does, on a copy of the world.
pub fn resolve(world: World, ns: NsId, name: &str, opts: &ResolveOptions) -> ResolveRun {
    let mut r = Resolver::new(world, ns);
    let mut run = ResolveRun {
        lines: Vec::new(),
        exit: 0,
        addrs: Vec::new(),
        canonical: None,
        failure: None,
        from_files: false,
        trace: Trace::default(),
        world: World::default(),
    };
    let libc = r.libc;
    match opts.tool {
        Tool::Ping => {
            if let Ok(ip) = name.parse::<Ipv4Addr>() {
                r.note(format!("{name} is an address: nothing to look up"));
                run.addrs = vec![IpAddr::V4(ip)];
                run.canonical = Some(name.into());
            } else {
                r.note(format!(
                    "getaddrinfo(\"{name}\") ({}): /etc/nsswitch.conf `hosts: files dns`: /etc/hosts first, then DNS",
                    if libc == Libc::Musl { "musl" } else { "glibc" }
                ));
                if let Some((canon, addrs)) = r.files(name, true, true) {
                    run.from_files = true;
                    run.addrs = addrs;
                    run.canonical = Some(canon);
                } else {
                    let types = [QType::A, QType::Aaaa];
                    r.note(format!(
                        "dns: A and AAAA queries together on one socket, {} s per try, {} tr{} per server",
                        r.rc.timeout,
                        r.rc.attempts,
                        if r.rc.attempts == 1 { "y" } else { "ies" }
                    ));
                    match r.dns(name, &types, None, "ping", true) {
                        Ok((c, answers)) => {
                            run.addrs = addresses(&answers, &types);
                            run.canonical = Some(canonical(&answers, &c));
                        }
                        Err(f) => {
                            run.failure = Some(f);
                            run.exit = 2;
                            run.lines
                                .push(format!("ping: {name}: {}", f.gai_text(libc)));
                        }
                    }
                }
            }
        }
        Tool::Getent => {
            r.note(format!(
                "getent hosts {name}: gethostbyname2 for IPv6 first, then IPv4; each /etc/hosts then DNS"
            ));
            let mut found = None;
            for (v6, t) in [(true, QType::Aaaa), (false, QType::A)] {
                if let Some((canon, addrs)) = r.files(name, !v6, v6) {
                    run.from_files = true;
                    found = Some((canon, addrs));
                    break;
                }
                match r.dns(name, &[t], None, "getent", true) {
                    Ok((c, answers)) => {
                        found = Some((canonical(&answers, &c), addresses(&answers, &[t])));
                        break;
                    }
                    Err(f) => run.failure = Some(f),
                }
            }
            match found {
                Some((canon, addrs)) => {
                    run.failure = None;
                    for a in &addrs {
                        run.lines.push(format!("{:<15} {canon}", a.to_string()));
                    }
                    run.addrs = addrs;
                    run.canonical = Some(canon);
                }
                None => run.exit = 2,
            }
        }
        Tool::Nslookup | Tool::Dig => {
            let dig = opts.tool == Tool::Dig;
            let typed = name;
            let t = opts.qtype.unwrap_or(QType::A);
            r.note(format!(
                "{} asks DNS only: /etc/hosts is not read{}",
                if dig { "dig" } else { "nslookup" },
                if dig {
                    "; no search list (+nosearch)"
                } else {
                    ""
                }
            ));
            let edns = dig.then(|| Edns {
                udp_size: 1232,
                cookie: Some(
                    stable_hash(&format!("cookie/{}", r.sim.world.netns[ns].name))
                        .to_be_bytes()
                        .to_vec(),
                ),
            });
            let server = r.rc.servers()[0];
            // nslookup given an address asks for its PTR record (no search list).
            let reverse = (!dig && opts.qtype.is_none())
                .then(|| name.parse::<Ipv4Addr>().ok())
                .flatten()
                .map(crate::dns::server::reverse_name);
            let (name, t) = match &reverse {
                Some(rev) => {
                    r.note(format!("{name} is an address: nslookup asks for {rev} PTR"));
                    (rev.as_str(), QType::Ptr)
                }
                None => (name, t),
            };
            let res = r.dns(
                name,
                &[t],
                edns,
                if dig { "dig" } else { "nslookup" },
                !dig && reverse.is_none(),
            );
            // nslookup asks AAAA for the name whose A record answered (bind 9.18: a
            // second question, after the search list found the name).
            let mut aaaa = Vec::new();
            if let (false, None, None, Ok((c, answers))) = (dig, opts.qtype, &reverse, &res) {
                if !addresses(answers, &[QType::A]).is_empty() {
                    let canon = canonical(answers, c);
                    r.note(format!("nslookup asks the AAAA question for {canon} too"));
                    if let Ok(a) =
                        r.query_servers(&canon, &[QType::Aaaa], None, "nslookup", (1, 3, 5_000_000))
                    {
                        aaaa = a;
                    }
                }
            }
            let server = r.last_server.unwrap_or(server);
            let args = match opts.qtype {
                Some(q) => format!("{typed} {q}"),
                None => typed.to_string(),
            };
            let printed = Printed {
                args: &args,
                server,
                failed: &r.failed_tries,
                rtt_us: r.last_rtt_us,
                clock_us: r.sim.now(),
            };
            if dig {
                dig_output(&mut run, name, t, &printed, res);
            } else {
                nslookup_output(&mut run, name, t, &printed, res, &aaaa);
            }
        }
    }
    if run.addrs.is_empty() && run.failure.is_none() && run.exit == 0 && opts.tool == Tool::Ping {
        run.failure = Some(Failure::NoData);
    }
    r.sim.world.clock_us = r.sim.now();
    run.trace = r.sim.trace;
    run.world = r.sim.world;
    run
}

/// The bind release whose dig and nslookup output hopsim reproduces (docs/dns.md).
pub const BIND_VERSION: &str = "9.18.49-1~deb12u3-Debian";

/// bind's `indent()` (lib/dns/masterdump.c): from column `cur` to column `to` (at least
/// one further), with tabs (stops every 8) and then spaces.
fn indent(out: &mut String, cur: &mut usize, to: usize) {
    let to = to.max(*cur + 1);
    let ntabs = (to / 8).saturating_sub(*cur / 8);
    let mut from = *cur;
    if ntabs > 0 {
        out.extend(std::iter::repeat_n('\t', ntabs));
        from = to / 8 * 8;
    }
    out.extend(std::iter::repeat_n(' ', to - from));
    *cur = to;
}

/// Fields at bind's columns (dig's default style: TTL at 24, class at 32, type at 40,
/// data at 48); the first field's column is ignored (it starts the line).
fn columns(fields: &[(&str, usize)]) -> String {
    let mut out = String::new();
    let mut cur = 0;
    for (k, (text, col)) in fields.iter().enumerate() {
        if k > 0 {
            indent(&mut out, &mut cur, *col);
        }
        out.push_str(text);
        cur += text.len();
    }
    out
}

/// `Thu Jan 01 00:00:05 UTC 1970`: dig's `WHEN:` line for the simulated clock, which
/// starts at the Unix epoch (the one date every run agrees on).
pub fn dig_when(clock_us: u64) -> String {
    let secs = clock_us / 1_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {d:02} {:02}:{:02}:{:02} UTC {y}",
        WD[(days % 7) as usize],
        MON[(m - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// What dig and nslookup need besides the answer.
struct Printed<'a> {
    /// The arguments as typed (`db`, `db AAAA`).
    args: &'a str,
    server: Ipv4Addr,
    /// The tries that failed, in order, and why.
    failed: &'a [(Ipv4Addr, String)],
    rtt_us: u64,
    clock_us: u64,
}

fn timeout_lines(run: &mut ResolveRun, p: &Printed) {
    for (s, why) in p.failed {
        run.lines
            .push(format!(";; communications error to {s}#53: {why}"));
    }
}

fn dig_output(
    run: &mut ResolveRun,
    name: &str,
    t: QType,
    p: &Printed,
    res: Result<(String, Vec<(DnsMessage, usize)>), Failure>,
) {
    let bare = name.trim_end_matches('.');
    let head = format!("; <<>> DiG {BIND_VERSION} <<>> {}", p.args);
    timeout_lines(run, p);
    match res {
        Err(_) => {
            run.lines.push(String::new());
            run.lines.push(head);
            run.lines.push(";; global options: +cmd".into());
            run.lines.push(";; no servers could be reached".into());
            run.exit = 9;
            run.failure = Some(Failure::TryAgain);
        }
        Ok((_, answers)) => {
            let Some((m, len)) = answers.first().cloned() else {
                return;
            };
            let mut flags = vec!["qr"];
            if m.aa {
                flags.push("aa");
            }
            if m.rd {
                flags.push("rd");
            }
            if m.ra {
                flags.push("ra");
            }
            run.lines.push(String::new());
            run.lines.push(head);
            run.lines.push(";; global options: +cmd".into());
            run.lines.push(";; Got answer:".into());
            if bare.to_ascii_lowercase().ends_with(".local") || bare.eq_ignore_ascii_case("local") {
                run.lines
                    .push(";; WARNING: .local is reserved for Multicast DNS".into());
                run.lines.push(
                    ";; You are currently testing what happens when an mDNS query is leaked to DNS"
                        .into(),
                );
            }
            run.lines.push(format!(
                ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}",
                m.rcode.dig_name(),
                m.id
            ));
            run.lines.push(format!(
                ";; flags: {}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
                flags.join(" "),
                m.answers.len(),
                m.authority.len(),
                usize::from(m.edns.is_some())
            ));
            run.lines.push(String::new());
            if let Some(e) = &m.edns {
                run.lines.push(";; OPT PSEUDOSECTION:".into());
                run.lines
                    .push(format!("; EDNS: version: 0, flags:; udp: {}", e.udp_size));
                // The server's COOKIE option: the client's 8 bytes alone are "echoed"
                // (CoreDNS); a server cookie after them is checked ("good").
                if let Some(c) = &e.cookie {
                    let hex: String = c.iter().map(|b| format!("{b:02x}")).collect();
                    let how = if c.len() == 8 { "echoed" } else { "good" };
                    run.lines.push(format!("; COOKIE: {hex} ({how})"));
                }
            }
            run.lines.push(";; QUESTION SECTION:".into());
            // The ';' of the question is a comment mark outside the columns.
            let q = format!("{bare}.");
            let ts = t.to_string();
            run.lines
                .push(format!(";{}", columns(&[(&q, 0), ("IN", 32), (&ts, 40)])));
            let rr = |r: &crate::wire::dns::DnsRecord| {
                let (n, ttl) = (format!("{}.", r.name), r.ttl.to_string());
                let (ty, data) = (r.data.qtype().to_string(), r.data.to_string());
                columns(&[(&n, 0), (&ttl, 24), ("IN", 32), (&ty, 40), (&data, 48)])
            };
            if !m.answers.is_empty() {
                run.lines.push(String::new());
                run.lines.push(";; ANSWER SECTION:".into());
                run.lines.extend(m.answers.iter().map(rr));
            }
            if !m.authority.is_empty() {
                run.lines.push(String::new());
                run.lines.push(";; AUTHORITY SECTION:".into());
                run.lines.extend(m.authority.iter().map(rr));
            }
            run.lines.push(String::new());
            run.lines
                .push(format!(";; Query time: {} msec", p.rtt_us / 1000));
            run.lines
                .push(format!(";; SERVER: {}#53({}) (UDP)", p.server, p.server));
            run.lines.push(format!(";; WHEN: {}", dig_when(p.clock_us)));
            run.lines.push(format!(";; MSG SIZE  rcvd: {len}"));
            run.lines.push(String::new());
            run.addrs = addresses(&answers, &[t]);
            run.canonical = Some(canonical(&answers, bare));
        }
    }
}

fn nslookup_output(
    run: &mut ResolveRun,
    name: &str,
    t: QType,
    p: &Printed,
    res: Result<(String, Vec<(DnsMessage, usize)>), Failure>,
    aaaa: &[(DnsMessage, usize)],
) {
    let bare = name.trim_end_matches('.');
    let server = p.server;
    timeout_lines(run, p);
    match res {
        Err(Failure::TryAgain) => {
            run.lines.push(";; no servers could be reached".into());
            run.exit = 1;
            run.failure = Some(Failure::TryAgain);
        }
        Err(f) => {
            run.lines.push(format!("Server:\t\t{server}"));
            run.lines.push(format!("Address:\t{server}#53"));
            run.lines.push(String::new());
            run.lines
                .push(format!("** server can't find {bare}: NXDOMAIN"));
            run.exit = 1;
            run.failure = Some(f);
        }
        Ok((c, answers)) => {
            run.lines.push(format!("Server:\t\t{server}"));
            run.lines.push(format!("Address:\t{server}#53"));
            run.lines.push(String::new());
            if answers.iter().any(|(m, _)| !m.aa) {
                run.lines.push("Non-authoritative answer:".into());
            }
            for (m, _) in &answers {
                for r in &m.answers {
                    match &r.data {
                        RData::Cname { target } => run
                            .lines
                            .push(format!("{}\tcanonical name = {target}.", r.name)),
                        RData::A { addr } => {
                            run.lines.push(format!("Name:\t{}", r.name));
                            run.lines.push(format!("Address: {addr}"));
                        }
                        RData::Aaaa { addr } => {
                            run.lines.push(format!("Name:\t{}", r.name));
                            run.lines.push(format!("Address: {addr}"));
                        }
                        RData::Ptr { target } => {
                            run.lines.push(format!("{}\tname = {target}.", r.name))
                        }
                        other => run.lines.push(format!("{}\t{other}", r.name)),
                    }
                }
            }
            // The AAAA question nslookup asks after an A answer: its addresses follow.
            for (m, _) in aaaa {
                for r in &m.answers {
                    if let RData::Aaaa { addr } = &r.data {
                        run.lines.push(format!("Name:\t{}", r.name));
                        run.lines.push(format!("Address: {addr}"));
                    }
                }
            }
            if answers.iter().all(|(m, _)| m.answers.is_empty()) {
                run.lines.push(format!("*** Can't find {c}: No answer"));
            }
            run.addrs = addresses(&answers, &[t]);
            run.addrs.extend(addresses(aaaa, &[QType::Aaaa]));
            run.canonical = Some(canonical(&answers, &c));
        }
    }
    run.lines.push(String::new());
}

/// `ping NAME`: the lookup, then the ping to the first IPv4 address, with the name in
/// ping's lines as iputils prints it (`PING db (192.168.1.11)`, `64 bytes from db
/// (192.168.1.11)`: the reply's name is looked up in /etc/hosts; a reverse DNS query is
/// not simulated, the address stands for the name then).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedPing {
    /// The lookup.
    pub resolve: ResolveRun,
    /// The ping, if the name resolved to an IPv4 address.
    pub ping: Option<super::PingRun>,
    /// What ping prints.
    pub lines: Vec<String>,
    /// Its exit status.
    pub exit: i32,
}

/// Resolve `name` as ping does, then ping it.
pub fn ping_name(world: World, ns: NsId, name: &str, opts: &super::PingOptions) -> NamedPing {
    let resolve = resolve(
        world,
        ns,
        name,
        &ResolveOptions {
            tool: Tool::Ping,
            qtype: None,
        },
    );
    let v4 = resolve.addrs.iter().find_map(|a| match a {
        IpAddr::V4(a) => Some(*a),
        IpAddr::V6(_) => None,
    });
    let Some(dst) = v4.filter(|_| resolve.failure.is_none()) else {
        let mut lines = resolve.lines.clone();
        if lines.is_empty() {
            let libc = resolve.world.netns[ns].dns.libc;
            lines.push(format!(
                "ping: {name}: {}",
                resolve.failure.unwrap_or(Failure::NoData).gai_text(libc)
            ));
        }
        return NamedPing {
            lines,
            exit: 2,
            ping: None,
            resolve,
        };
    };
    let canon = resolve
        .canonical
        .clone()
        .unwrap_or_else(|| name.to_string());
    let p = super::ping::ping(resolve.world.clone(), ns, dst, opts);
    let hosts = resolve.world.netns[ns].dns.hosts.clone();
    let label = |a: Ipv4Addr| -> String {
        let n = hosts
            .as_ref()
            .and_then(|h| h.reverse(IpAddr::V4(a)).map(str::to_string))
            .unwrap_or_else(|| a.to_string());
        format!("{n} ({a})")
    };
    let lines = p
        .lines
        .iter()
        .map(|l| {
            if let Some(rest) = l.strip_prefix(&format!("PING {dst} ({dst})")) {
                format!("PING {canon} ({dst}){rest}")
            } else if let Some(rest) = l.strip_prefix(&format!("--- {dst} ping")) {
                format!("--- {canon} ping{rest}")
            } else if let Some((head, tail)) = l.split_once(" bytes from ") {
                match tail.split_once(": ") {
                    Some((a, rest)) => match a.parse::<Ipv4Addr>() {
                        Ok(a) => format!("{head} bytes from {}: {rest}", label(a)),
                        Err(_) => l.clone(),
                    },
                    None => l.clone(),
                }
            } else if let Some(tail) = l.strip_prefix("From ") {
                match tail.split_once(' ') {
                    Some((a, rest)) => match a.parse::<Ipv4Addr>() {
                        Ok(a) => format!("From {} {rest}", label(a)),
                        Err(_) => l.clone(),
                    },
                    None => l.clone(),
                }
            } else {
                l.clone()
            }
        })
        .collect();
    NamedPing {
        lines,
        exit: p.exit,
        ping: Some(p),
        resolve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{yaml::load_yaml, LoadOptions};

    /// A (glibc) and M (musl) ask the server 192.168.1.100; `a_extra` goes into A's
    /// machine entry (hosts:, resolv-conf:).
    fn world(a_extra: &str, m_resolv: &str) -> World {
        let text = format!(
            "name: t
machines:
  A:
    interfaces:
      eth0: {{ addr: 192.168.1.10/24, cable: sw1 }}
{a_extra}
  M:
    interfaces:
      eth0: {{ addr: 192.168.1.20/24, cable: sw1 }}
    libc: musl
    resolv-conf: |
{m_resolv}
  dns:
    interfaces:
      eth0: {{ addr: 192.168.1.100/24, cable: sw1 }}
    dns-server:
      records: |
        192.168.1.11 db
        192.168.1.12 web.a.com
        192.168.1.13 x.y
        192.168.1.14 x.y.a.com
switches:
  sw1: {{}}
expect:
  - ping: A -> 192.168.1.100
"
        );
        load_yaml(
            std::path::Path::new("t.yaml"),
            &text,
            LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .world
    }

    fn ask(w: &World, from: &str, name: &str, tool: Tool) -> ResolveRun {
        let ns = w.resolve_ns(from).expect("namespace");
        resolve(w.clone(), ns, name, &ResolveOptions { tool, qtype: None })
    }

    /// The names queried, in order, as `TYPE name -> server`.
    fn queries(r: &ResolveRun) -> Vec<String> {
        r.trace
            .hops
            .iter()
            .flat_map(|h| h.steps.iter())
            .filter_map(|s| match s {
                Step::Originate { what } => {
                    let w: Vec<&str> = what.split_whitespace().collect();
                    let t = w.iter().position(|x| *x == "query")?;
                    let to = w.iter().position(|x| *x == "to")?;
                    Some(format!("{} {} -> {}", w[t - 1], w[t + 2], w[to + 1]))
                }
                _ => None,
            })
            .collect()
    }

    const SEARCH: &str =
        "    resolv-conf: |\n      nameserver 192.168.1.100\n      search a.com b.com";
    const M_RESOLV: &str = "      nameserver 192.168.1.100\n      search a.com b.com";

    #[test]
    fn hosts_first_for_getaddrinfo_dns_only_for_nslookup() {
        let w = world(
            &format!("    hosts: |\n      10.0.0.1 db\n{SEARCH}"),
            M_RESOLV,
        );
        let r = ask(&w, "A", "db", Tool::Ping);
        assert_eq!(r.addrs, vec!["10.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(r.from_files);
        assert!(queries(&r).is_empty(), "{:?}", queries(&r));
        let r = ask(&w, "A", "db", Tool::Nslookup);
        assert!(!r.from_files);
        assert_eq!(r.addrs, vec!["192.168.1.11".parse::<IpAddr>().unwrap()]);
        let r = ask(&w, "A", "db", Tool::Dig);
        assert_eq!(queries(&r), ["A db -> 192.168.1.100:53"]);
    }

    #[test]
    fn fewer_dots_than_ndots_search_first_then_the_name() {
        let w = world(SEARCH, M_RESOLV);
        let r = ask(&w, "A", "db", Tool::Ping);
        assert_eq!(
            queries(&r),
            [
                "A db.a.com -> 192.168.1.100:53",
                "AAAA db.a.com -> 192.168.1.100:53",
                "A db.b.com -> 192.168.1.100:53",
                "AAAA db.b.com -> 192.168.1.100:53",
                "A db -> 192.168.1.100:53",
                "AAAA db -> 192.168.1.100:53",
            ]
        );
        assert_eq!(r.addrs, vec!["192.168.1.11".parse::<IpAddr>().unwrap()]);
        // The first search name that answers wins.
        let r = ask(&w, "A", "web", Tool::Ping);
        assert_eq!(r.canonical.as_deref(), Some("web.a.com"));
    }

    #[test]
    fn as_many_dots_as_ndots_the_name_first() {
        let w = world(SEARCH, M_RESOLV);
        // "x.y" has 1 dot >= ndots:1: x.y itself answers before x.y.a.com is asked.
        let r = ask(&w, "A", "x.y", Tool::Ping);
        assert_eq!(queries(&r)[0], "A x.y -> 192.168.1.100:53");
        assert_eq!(r.addrs, vec!["192.168.1.13".parse::<IpAddr>().unwrap()]);
        // With ndots:5 the search list comes first.
        let w = world(
            "    resolv-conf: |\n      nameserver 192.168.1.100\n      search a.com\n      options ndots:5",
            M_RESOLV,
        );
        let r = ask(&w, "A", "x.y", Tool::Ping);
        assert_eq!(queries(&r)[0], "A x.y.a.com -> 192.168.1.100:53");
        assert_eq!(r.addrs, vec!["192.168.1.14".parse::<IpAddr>().unwrap()]);
        // A final dot: the name alone, whatever ndots says.
        let r = ask(&w, "A", "x.y.", Tool::Ping);
        assert_eq!(
            queries(&r),
            ["A x.y -> 192.168.1.100:53", "AAAA x.y -> 192.168.1.100:53"]
        );
    }

    #[test]
    fn nxdomain_everywhere_is_name_or_service_not_known() {
        let w = world(SEARCH, M_RESOLV);
        let r = ask(&w, "A", "nosuch", Tool::Ping);
        assert_eq!(r.failure, Some(Failure::NotFound));
        assert_eq!(r.exit, 2);
        assert_eq!(r.lines, ["ping: nosuch: Name or service not known"]);
        assert_eq!(queries(&r).len(), 6, "three names, A and AAAA each");
        let r = ask(&w, "M", "nosuch", Tool::Ping);
        assert_eq!(r.lines, ["ping: nosuch: Name does not resolve"]);
    }

    #[test]
    fn no_server_answering_is_temporary_failure_or_try_again() {
        // 192.168.1.50 does not exist: ARP fails.
        let w = world(
            "    resolv-conf: |\n      nameserver 192.168.1.50",
            "      nameserver 192.168.1.50",
        );
        let r = ask(&w, "A", "db", Tool::Ping);
        assert_eq!(r.failure, Some(Failure::TryAgain));
        assert_eq!(r.lines, ["ping: db: Temporary failure in name resolution"]);
        let r = ask(&w, "M", "db", Tool::Ping);
        assert_eq!(r.failure, Some(Failure::TryAgain));
        assert_eq!(r.lines, ["ping: db: Try again"]);
        // musl's socket is not connected: it waits out resolv.conf's timeout (5 s).
        assert!(r.world.clock_us >= 5_000_000, "{}", r.world.clock_us);
        // dig: three tries of 5 s, then exit 9.
        let r = ask(&w, "A", "db", Tool::Dig);
        assert_eq!(r.exit, 9);
        assert_eq!(
            r.lines
                .iter()
                .filter(|l| *l == ";; communications error to 192.168.1.50#53: timed out")
                .count(),
            3
        );
        assert!(r.world.clock_us >= 15_000_000);
    }

    #[test]
    fn without_resolv_conf_glibc_asks_localhost() {
        let w = world("", M_RESOLV);
        let r = ask(&w, "A", "db", Tool::Ping);
        assert_eq!(queries(&r)[0], "A db -> 127.0.0.1:53");
        // Nothing listens there: port unreachable on the connected socket, at once.
        assert_eq!(r.lines, ["ping: db: Temporary failure in name resolution"]);
        assert!(r.world.clock_us < 1_000_000);
    }

    #[test]
    fn getent_asks_aaaa_first_and_nslookup_aaaa_after_the_a_answer() {
        let w = world(SEARCH, M_RESOLV);
        let r = ask(&w, "A", "db", Tool::Getent);
        assert_eq!(queries(&r)[0], "AAAA db.a.com -> 192.168.1.100:53");
        assert_eq!(r.lines, ["192.168.1.11    db"]);
        let r = ask(&w, "A", "db", Tool::Nslookup);
        let q = queries(&r);
        assert_eq!(
            q.last().map(String::as_str),
            Some("AAAA db -> 192.168.1.100:53")
        );
        assert_eq!(q.iter().filter(|x| x.starts_with("AAAA")).count(), 1);
    }

    #[test]
    fn dig_columns_follow_binds_indent() {
        assert_eq!(
            columns(&[("db.", 0), ("IN", 32), ("A", 40)]),
            "db.\t\t\t\tIN\tA"
        );
        // Past the column: tabs to the next stop if one is passed, else one space.
        assert_eq!(
            columns(&[
                ("kube-dns.kube-system.svc.cluster.local.", 0),
                ("3600", 24),
                ("IN", 32),
                ("A", 40),
                ("10.96.0.10", 48)
            ]),
            "kube-dns.kube-system.svc.cluster.local.\t3600 IN\tA 10.96.0.10"
        );
        assert_eq!(dig_when(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            dig_when(86_400_000_000 * 365 + 3_723_000_000),
            "Fri Jan 01 01:02:03 UTC 1971"
        );
    }
}
