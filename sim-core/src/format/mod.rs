//! Input formats: YAML topologies ([`yaml`]) and command scripts ([`script`]), both
//! building a [`World`] through the same operations, plus the expectations they carry.
//! Loading either never half-loads: a file gives a complete world or a located error.

pub(crate) mod emit;
pub mod export;
pub mod script;
pub mod shell;
pub mod yaml;

use crate::engine::PingOptions;
use crate::model::World;
use crate::trace::DropReason;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The largest topology file hopsim reads (a guard against feeding it something else):
/// 256 MiB, room for the compiled text of a large cluster (`hopsim compile` of 100 nodes
/// and 5,000 Services of 3 pods each prints 66 MiB, which `hopsim ping` loads in 2.1 s and
/// 480 MB).
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

/// A located input error: file, line and column, the message, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown or for scripts).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl LoadError {
    /// An error at a position.
    pub fn at(file: &str, line: usize, column: usize, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            hint: None,
        }
    }

    /// Add a hint.
    pub fn hint(mut self, h: impl Into<String>) -> LoadError {
        self.hint = Some(h.into());
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file, self.message)?,
            (l, 0) => write!(f, "{}:{l}: {}", self.file, self.message)?,
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.file, self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// One expectation as written (YAML entry or `# expect:` comment).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// `FROM -> DEST`: a ping.
    #[serde(default)]
    pub ping: Option<String>,
    /// `FROM -> DEST:PORT`: a connection (`nc -zv`).
    #[serde(default)]
    pub connect: Option<String>,
    /// `NS: COMMAND`: a command whose exit status and output are checked.
    #[serde(default)]
    pub run: Option<String>,
    /// `FROM -> URL`: an HTTP GET with curl (`http://ADDR[:PORT][/PATH]`).
    #[serde(default)]
    pub curl: Option<String>,
    /// With `curl`: `-H` headers, `NAME: VALUE` (e.g. `Host: app.example.com`).
    #[serde(default)]
    pub headers: Vec<String>,
    /// A name lookup: `{from: A, name: db, tool: getent, type: A}` (docs/dns.md).
    #[serde(default)]
    pub resolve: Option<ResolveSpec>,
    /// With `resolve`: the addresses the lookup must find, in order (`[]`: none).
    #[serde(default)]
    pub answer: Option<Vec<String>>,
    /// With `connect`: UDP instead of TCP.
    #[serde(default)]
    pub udp: bool,
    /// The source address (and port) the destination must see, after any NAT.
    #[serde(default, rename = "seen-from")]
    pub seen_from: Option<String>,
    /// Commands to run first, `NS: COMMAND`.
    #[serde(default)]
    pub with: Vec<String>,
    /// ping options (`-c N -t TTL -W S`).
    #[serde(default)]
    pub options: Option<String>,
    /// Expected exit status.
    #[serde(default)]
    pub exit: Option<i32>,
    /// Expected TTL of the first reply.
    #[serde(default)]
    pub ttl: Option<u8>,
    /// Lines that must appear in ping's output.
    #[serde(default)]
    pub prints: Vec<String>,
    /// A drop reason that must occur in the trace.
    #[serde(default)]
    pub drop: Option<String>,
    /// Why (shown on failure).
    #[serde(default)]
    pub because: Option<String>,
}

/// A `resolve:` expectation as written.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResolveSpec {
    /// The namespace (or machine, or pod) that asks.
    pub from: String,
    /// The name looked up.
    pub name: String,
    /// `ping` (getaddrinfo, the default), `getent`, `nslookup` or `dig`.
    #[serde(default)]
    pub tool: Option<String>,
    /// The record type nslookup or dig asks for (A, AAAA, CNAME, PTR).
    #[serde(default, rename = "type")]
    pub qtype: Option<String>,
}

/// A name lookup to run: the name, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolveRequest {
    /// The name as written.
    pub name: String,
    /// Tool and record type.
    pub opts: crate::engine::resolver::ResolveOptions,
}

impl ResolveRequest {
    /// The command as it would be typed (`getent hosts db`, `dig db AAAA`).
    pub fn command(&self) -> String {
        self.opts.command(&self.name)
    }
}

/// An expectation ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    /// Where it was written.
    pub line: usize,
    /// Source namespace as written.
    pub from: String,
    /// Destination address as written.
    pub to: String,
    /// For a connection: the port.
    pub port: Option<u16>,
    /// For a connection: UDP.
    pub udp: bool,
    /// The source the destination must see.
    pub seen_from: Option<String>,
    /// For a `run:` expectation: the command line (`NS: COMMAND`).
    pub run: Option<String>,
    /// For a `curl:` expectation: the request (`to` holds the URL as written).
    pub curl: Option<crate::engine::http::CurlRequest>,
    /// For a `resolve:` expectation: the lookup (`to` holds the name).
    pub resolve: Option<ResolveRequest>,
    /// With `resolve`: the addresses expected, in order.
    pub answer: Option<Vec<std::net::IpAddr>>,
    /// Commands to run first.
    pub with: Vec<String>,
    /// ping options.
    pub options: PingOptions,
    /// The options as written, for messages.
    pub options_text: String,
    /// Expected exit status.
    pub exit: Option<i32>,
    /// Expected TTL.
    pub ttl: Option<u8>,
    /// Lines ping must print.
    pub prints: Vec<String>,
    /// Drop reason that must occur.
    pub drop: Option<DropReason>,
    /// Why.
    pub because: Option<String>,
}

/// The largest `ping -s` for IPv4: 65535 less the IP and ICMP headers.
pub const MAX_PING_SIZE: u16 = 65507;

/// Parse ping options as `ping` takes them.
pub fn parse_ping_options(s: &str) -> Result<PingOptions, String> {
    let mut o = PingOptions::default();
    let words = shlex::split(s).ok_or("unbalanced quotes in options")?;
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let mut val = |name: &str| -> Result<String, String> {
            it.next().cloned().ok_or(format!("{name} needs a value"))
        };
        match w.as_str() {
            "-c" => {
                o.count = val("-c")?
                    .parse()
                    .map_err(|_| "-c takes a count from 1 to 65535")?
            }
            "-t" => {
                o.ttl = Some(
                    val("-t")?
                        .parse()
                        .map_err(|_| "-t takes a TTL from 1 to 255")?,
                )
            }
            "-W" => o.wait_s = val("-W")?.parse().map_err(|_| "-W takes whole seconds")?,
            "-i" => {
                let v: f64 = val("-i")?.parse().map_err(|_| "-i takes seconds")?;
                o.interval_ms = (v * 1000.0) as u32;
            }
            "-s" => {
                o.size = val("-s")?
                    .parse()
                    .ok()
                    .filter(|s| *s <= MAX_PING_SIZE)
                    .ok_or("-s takes a data size from 0 to 65507")?
            }
            "-M" => o.pmtudisc = crate::engine::ping::PmtuDisc::parse(&val("-M")?)?,
            other => {
                return Err(format!(
                    "unknown ping option {other} (hopsim ping takes -c, -t, -W, -i, -s, -M)"
                ))
            }
        }
    }
    if o.count == 0 {
        return Err("-c takes a count from 1 to 65535".into());
    }
    Ok(o)
}

impl ExpectSpec {
    /// Check and resolve, reporting errors at `line`.
    pub fn resolve(self, file: &str, line: usize, column: usize) -> Result<Expect, LoadError> {
        let kinds = [
            self.ping.is_some(),
            self.connect.is_some(),
            self.curl.is_some(),
            self.run.is_some(),
            self.resolve.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Err(LoadError::at(
                file,
                line,
                column,
                "an expectation needs exactly one of ping:, connect:, curl:, resolve: or run:",
            ));
        }
        if self.answer.is_some() && self.resolve.is_none() {
            return Err(LoadError::at(
                file,
                line,
                column,
                "answer: belongs to a resolve: expectation",
            )
            .hint("write `resolve: {from: A, name: db}` with `answer: [192.168.1.11]`"));
        }
        if let Some(r) = self.resolve.clone() {
            return self.resolve_lookup(r, file, line, column);
        }
        if let Some(r) = &self.run {
            let Some((ns, _)) = r.split_once(':') else {
                return Err(LoadError::at(
                    file,
                    line,
                    column,
                    format!("run: \"{r}\" is not NS: COMMAND"),
                )
                .hint("write e.g. \"host: python3 -m http.server 80\""));
            };
            return Ok(Expect {
                line,
                from: ns.trim().to_string(),
                to: String::new(),
                port: None,
                udp: false,
                seen_from: None,
                run: Some(r.clone()),
                curl: None,
                resolve: None,
                answer: None,
                with: self.with,
                options: crate::engine::PingOptions::default(),
                options_text: String::new(),
                exit: self.exit,
                ttl: None,
                prints: self.prints,
                drop: None,
                because: self.because,
            });
        }
        if let Some(c) = self.curl.clone() {
            return self.resolve_curl(c, file, line, column);
        }
        let (what, text) =
            match (&self.ping, &self.connect) {
                (Some(p), None) => ("ping", p.clone()),
                (None, Some(c)) => ("connect", c.clone()),
                _ => return Err(LoadError::at(
                    file,
                    line,
                    column,
                    "an expectation needs exactly one of ping:, connect:, curl:, resolve: or run:",
                )
                .hint("write `ping: red -> 192.168.15.2` or `connect: ext -> 192.168.1.1:8080`")),
            };
        let Some((from, to)) = text.split_once("->") else {
            return Err(LoadError::at(
                file,
                line,
                column,
                format!("{what}: \"{text}\" is not FROM -> DEST"),
            )
            .hint(
                "write it like `ping: red -> 192.168.15.2` or `connect: ext -> 192.168.1.1:8080`",
            ));
        };
        let (from, mut to) = (from.trim().to_string(), to.trim().to_string());
        let mut port = None;
        if what == "connect" {
            let Some((a, p)) = to.rsplit_once(':') else {
                return Err(LoadError::at(
                    file,
                    line,
                    column,
                    format!("connect: \"{to}\" is not ADDRESS:PORT"),
                ));
            };
            port = Some(p.parse::<u16>().map_err(|_| {
                LoadError::at(file, line, column, format!("connect: bad port \"{p}\""))
            })?);
            to = a.to_string();
        }
        if crate::format::shell::parse_inet(&to).is_none() || !to.contains('.') {
            return Err(LoadError::at(
                file,
                line,
                column,
                format!("{what}: destination \"{to}\" is not an IPv4 address"),
            )
            .hint("give the address; for a name, use a `resolve:` expectation (or `run: NS: ping NAME`)"));
        }
        let options_text = self.options.clone().unwrap_or_default();
        let options = parse_ping_options(&options_text)
            .map_err(|e| LoadError::at(file, line, column, format!("options: {e}")))?;
        let drop = match &self.drop {
            Some(d) => Some(DropReason::from_kernel_name(d).ok_or_else(|| {
                LoadError::at(file, line, column, format!("drop: unknown reason \"{d}\""))
                    .hint("use a kernel name such as IP_INADDRERRORS, IP_INNOROUTES, NEIGH_FAILED, IP_INHDR")
            })?),
            None => None,
        };
        if let Some(e) = self.exit {
            if !(0..=2).contains(&e) {
                return Err(LoadError::at(
                    file,
                    line,
                    column,
                    format!("exit: {e} is not one of ping's exit codes (0, 1, 2)"),
                ));
            }
        }
        for w in &self.with {
            if !w.contains(':') {
                return Err(LoadError::at(
                    file,
                    line,
                    column,
                    format!("with: \"{w}\" is not NS: COMMAND"),
                )
                .hint("write e.g. \"B: ip route add 192.168.2.0/24 via 192.168.1.1\""));
            }
        }
        Ok(Expect {
            line,
            from,
            to,
            port,
            udp: self.udp,
            seen_from: self.seen_from,
            run: None,
            curl: None,
            resolve: None,
            answer: None,
            with: self.with,
            options,
            options_text,
            exit: self.exit,
            ttl: self.ttl,
            prints: self.prints,
            drop,
            because: self.because,
        })
    }

    /// A `resolve: {from, name, tool, type}` expectation.
    fn resolve_lookup(
        self,
        r: ResolveSpec,
        file: &str,
        line: usize,
        column: usize,
    ) -> Result<Expect, LoadError> {
        use crate::engine::resolver::{ResolveOptions, Tool};
        let at = |m: String| LoadError::at(file, line, column, m);
        if self.udp
            || self.ttl.is_some()
            || self.seen_from.is_some()
            || self.options.is_some()
            || !self.headers.is_empty()
        {
            return Err(at(
                "resolve: takes from, name, tool and type; udp, ttl, seen-from, options and headers are not a lookup's".into(),
            ));
        }
        let tool_text = r.tool.as_deref().unwrap_or("ping");
        let tool = Tool::parse(tool_text).ok_or_else(|| {
            at(format!("resolve: tool \"{tool_text}\" is not modelled"))
                .hint("use ping (getaddrinfo, the default), getent, nslookup or dig")
        })?;
        let qtype = match &r.qtype {
            Some(t) if matches!(tool, Tool::Ping | Tool::Getent) => {
                return Err(at(format!(
                    "resolve: type {t} is for nslookup and dig; {tool_text} asks for addresses (A and AAAA)"
                ))
                .hint("drop `type:`, or use tool: dig"))
            }
            Some(t) => Some(crate::wire::dns::QType::parse(t).ok_or_else(|| {
                at(format!("resolve: type \"{t}\" is not modelled"))
                    .hint("use A, AAAA, CNAME or PTR")
            })?),
            None => None,
        };
        if r.name.trim().is_empty() || r.name.contains(char::is_whitespace) {
            return Err(at(format!("resolve: \"{}\" is not a name", r.name)));
        }
        let answer = match &self.answer {
            Some(list) => Some(
                list.iter()
                    .map(|a| {
                        a.parse::<std::net::IpAddr>()
                            .map_err(|_| at(format!("answer: \"{a}\" is not an address")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        for w in &self.with {
            if !w.contains(':') {
                return Err(at(format!("with: \"{w}\" is not NS: COMMAND")));
            }
        }
        let drop = match &self.drop {
            Some(d) => Some(
                DropReason::from_kernel_name(d)
                    .ok_or_else(|| at(format!("drop: unknown reason \"{d}\"")))?,
            ),
            None => None,
        };
        Ok(Expect {
            line,
            from: r.from.trim().to_string(),
            to: r.name.clone(),
            port: None,
            udp: false,
            seen_from: None,
            run: None,
            curl: None,
            resolve: Some(ResolveRequest {
                name: r.name,
                opts: ResolveOptions { tool, qtype },
            }),
            answer,
            with: self.with,
            options: crate::engine::PingOptions::default(),
            options_text: String::new(),
            exit: self.exit,
            ttl: None,
            prints: self.prints,
            drop,
            because: self.because,
        })
    }

    /// A `curl: FROM -> URL` expectation.
    fn resolve_curl(
        self,
        text: String,
        file: &str,
        line: usize,
        column: usize,
    ) -> Result<Expect, LoadError> {
        let at = |m: String| LoadError::at(file, line, column, m);
        if self.ping.is_some() || self.connect.is_some() || self.udp || self.ttl.is_some() {
            return Err(at("udp and ttl are not curl's".into()));
        }
        let Some((from, url)) = text.split_once("->") else {
            return Err(at(format!("curl: \"{text}\" is not FROM -> URL"))
                .hint("write it like `curl: client -> http://192.168.10.101:30080/whoami`"));
        };
        let mut req = crate::engine::http::CurlRequest::get(url.trim()).map_err(|m| {
            at(format!("curl: {m}")).hint("give the address: http://ADDR[:PORT][/PATH]")
        })?;
        for h in &self.headers {
            let Some((k, v)) = h.split_once(':') else {
                return Err(at(format!("headers: \"{h}\" is not NAME: VALUE"))
                    .hint("write e.g. \"Host: app.example.com\""));
            };
            req.headers
                .push((k.trim().to_string(), v.trim().to_string()));
        }
        let options_text = self.options.clone().unwrap_or_default();
        let words = shlex::split(&options_text).unwrap_or_default();
        let mut words = words.iter();
        while let Some(w) = words.next() {
            match w.as_str() {
                "-i" => req.include = true,
                "-f" => req.fail = true,
                "-m" => {
                    let v = words.next().map(String::as_str).unwrap_or("");
                    req.max_time =
                        Some(v.parse().map_err(|_| {
                            at(format!("options: -m takes whole seconds, not \"{v}\""))
                        })?)
                }
                other => match other.strip_prefix("--seed=") {
                    Some(s) => {
                        req.seed = s
                            .parse()
                            .map_err(|_| at(format!("options: bad seed {s}")))?
                    }
                    None => {
                        return Err(at(format!("options: curl option {other} is not modelled"))
                            .hint("curl's options here: -i, -f, -m SECONDS, --seed=N"))
                    }
                },
            }
        }
        for w in &self.with {
            if !w.contains(':') {
                return Err(at(format!("with: \"{w}\" is not NS: COMMAND")));
            }
        }
        let drop = match &self.drop {
            Some(d) => Some(
                DropReason::from_kernel_name(d)
                    .ok_or_else(|| at(format!("drop: unknown reason \"{d}\"")))?,
            ),
            None => None,
        };
        Ok(Expect {
            line,
            from: from.trim().to_string(),
            to: url.trim().to_string(),
            port: None,
            udp: false,
            seen_from: self.seen_from,
            run: None,
            curl: Some(req),
            resolve: None,
            answer: None,
            with: self.with,
            options: crate::engine::PingOptions::default(),
            options_text,
            exit: self.exit,
            ttl: None,
            prints: self.prints,
            drop,
            because: self.because,
        })
    }
}

/// A loaded topology.
#[derive(Clone, Debug)]
pub struct Topology {
    /// The file it came from.
    pub path: PathBuf,
    /// The scenario id.
    pub name: String,
    /// The source document.
    pub source: Option<String>,
    /// Free text for learners.
    pub about: Option<String>,
    /// The world it builds.
    pub world: World,
    /// Its expectations.
    pub expects: Vec<Expect>,
    /// For scripts (and YAML with `script:`): what each line did.
    pub script: Option<script::ScriptRun>,
}

/// How to load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Any failing script command is fatal.
    pub strict: bool,
}

/// A serde-saphyr error as a located [`LoadError`]: its first line, at its line and
/// column, with the hint `hint` picks for that line.
pub(crate) fn saphyr_error(
    file: &str,
    e: &serde_saphyr::Error,
    hint: impl Fn(&str) -> &'static str,
) -> LoadError {
    let (line, col) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    let msg = e.to_string();
    let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
    let h = hint(&first);
    LoadError::at(file, line, col, first).hint(h)
}

/// Read an input file (topology, script, cluster file), refusing one larger than
/// [`MAX_INPUT_BYTES`] before reading it.
pub fn read_input(path: &Path) -> Result<String, LoadError> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| LoadError::at(&file, 0, 0, format!("cannot read: {e}")))?;
    if meta.len() > MAX_INPUT_BYTES {
        return Err(LoadError::at(
            &file,
            0,
            0,
            format!(
                "{} bytes is more than hopsim reads ({MAX_INPUT_BYTES} bytes, {} MiB)",
                meta.len(),
                MAX_INPUT_BYTES >> 20
            ),
        )
        .hint("give a topology, a script or a cluster file; larger inputs are refused so that a service running hopsim stays up"));
    }
    std::fs::read_to_string(path)
        .map_err(|e| LoadError::at(&file, 0, 0, format!("cannot read: {e}")))
}

/// Load a YAML topology or a script, by extension. A YAML file with a top-level
/// `cluster:` key is a Kubernetes cluster spec ([`crate::cluster`]), compiled first.
pub fn load_file(path: &Path, opts: LoadOptions) -> Result<Topology, LoadError> {
    let file = path.display().to_string();
    let text = read_input(path)?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml") | Some("yml") if crate::cluster::is_cluster_text(&text) => {
            crate::cluster::load_cluster(path, &text, opts)
        }
        Some("yaml") | Some("yml") => yaml::load_yaml(path, &text, opts),
        Some("sh") => {
            let run = script::run_script(&file, &text, opts)?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("script")
                .to_string();
            Ok(Topology {
                path: path.to_path_buf(),
                name,
                source: run.source.clone(),
                about: None,
                world: run.world.clone(),
                expects: run.expects.clone(),
                script: Some(run),
            })
        }
        _ => Err(LoadError::at(&file, 0, 0, "unknown file type")
            .hint("topologies are .yaml/.yml files or .sh scripts")),
    }
}
