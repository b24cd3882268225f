//! Running a topology script and its probes in real, isolated network namespaces.
//!
//! # Isolation
//!
//! Every case runs in a fresh *wrapper* network namespace named `hk_<pid>_<n>`, which
//! stands for the script's root namespace (`host`). The whole case (setup lines, probes,
//! cleanup) is one `bash` process started as
//!
//! ```text
//! timeout -k 5 SECS ip netns exec hk_<pid>_<n> \
//!     unshare --mount --propagation private --pid --fork --kill-child --mount-proc bash -s
//! ```
//!
//! Before any script line runs, that shell
//! - mounts its own `tmpfs` on `/run/netns`, so the script's `ip netns add red` creates
//!   `red` only in this private mount namespace (it never shows in the machine's
//!   `ip netns list`, and two cases can both use `red`);
//! - makes `/proc/sys` read-only except `/proc/sys/net` (which is per network namespace),
//!   so a script cannot change machine-wide sysctls such as `kernel.*` or `vm.*`;
//! - checks that its network namespace is neither the caller's nor PID 1's.
//!
//! If any of that fails, no script line is run ([`RealError::Isolation`]).
//!
//! The shell is PID 1 of its own PID namespace: when it exits (or is killed by `timeout`),
//! the kernel kills every process the script left behind, the private mount namespace
//! disappears with its `/run/netns` bind mounts, and so every namespace of the case is
//! freed. The shell also deletes the script's namespaces itself at the end, and the
//! wrapper namespace is deleted by this process afterwards, on every path (also errors,
//! timeouts and panics, through a drop guard).
//!
//! Because the PID namespace is private, a script's `ip link set X netns 1` refers to the
//! case's own shell, not to the machine's init.
//!
//! # Line by line
//!
//! Each non-blank, non-comment physical line of the script is one unit (no `\`
//! continuations, no multi-line constructs); it is run with a top-level `eval` in the same
//! shell (so shell errors read `bash: ...` without a misleading line number, and
//! variables and `cd` carry over), with stdin from `/dev/null`, between marker lines on
//! stdout and stderr that carry the line number and the exit status. A line that fails
//! does not stop the script (`set -e` is neutralised), and `exit N` in a line does not
//! end the case: it only sets that command's status.
//!
//! # Captures
//!
//! With [`RealOpts::capture`] (the default), after the last setup line the shell mounts a
//! private `tmpfs` over `/tmp` (in its own mount namespace: the machine's `/tmp` is not
//! touched) for the capture files, starts one `tcpdump` per namespace of the case, and
//! notes counters and times around each probe; see [`crate::capture`] for what is
//! recorded and how it is read. The captures end with the case's PID namespace.

use crate::capture::{self, Capture};
use crate::{Probe, HOST_NS};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Options for [`run_real`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealOpts {
    /// Upper bound for the whole case: setup, probes and cleanup (`timeout`). Default 60 s.
    pub case_timeout: Duration,
    /// Pause between the last setup line and the first probe. Default 0.
    pub settle: Duration,
    /// Refuse to run (with [`RealError::InheritedForwarding`]) when the case's namespaces
    /// start with `net.ipv4.ip_forward=1`. New namespaces copy the IPv4 settings of the
    /// machine's root namespace (`net.core.devconf_inherit_init_net=0`), so on a host whose
    /// root has forwarding on (Docker) results would not be those of a fresh Linux.
    /// Default true.
    pub require_fresh_forwarding: bool,
    /// Bring `lo` up in the wrapper namespace before the script runs, as it is in a real
    /// machine's root namespace (which the wrapper stands for). Namespaces the script
    /// creates start with `lo` down either way. Default true.
    pub host_lo_up: bool,
    /// Capture each probe's requests with `tcpdump` in every namespace of the case, to
    /// find where the request was accepted and with which source address
    /// ([`ProbeResult::capture`]; see [`crate::capture`]). When `tcpdump` is missing every
    /// probe's capture is [`Capture::Failed`]. Default true.
    pub capture: bool,
}

impl Default for RealOpts {
    fn default() -> Self {
        RealOpts {
            case_timeout: Duration::from_secs(60),
            settle: Duration::ZERO,
            require_fresh_forwarding: true,
            host_lo_up: true,
            capture: true,
        }
    }
}

/// The result of one setup line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLine {
    /// 1-based physical line number in the script.
    pub line: usize,
    /// The line as written (without a trailing `\r`).
    pub text: String,
    /// Exit status (`$?`) of the line; -1 if it did not finish (case timed out).
    pub status: i32,
    /// What the line printed on stdout.
    pub stdout: String,
    /// What the line printed on stderr.
    pub stderr: String,
}

impl SetupLine {
    /// Whether the line exited with a non-zero status (or did not finish).
    pub fn failed(&self) -> bool {
        self.status != 0
    }
}

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// The probe that was run.
    pub probe: Probe,
    /// stdout and stderr of the command, interleaved as printed.
    pub output: String,
    /// Exit status of the command; -1 if it did not finish (case timed out).
    pub exit: i32,
    /// Where the request was accepted and how it arrived there: the source address (and
    /// port) "seen from" at the destination, what hopsim's `seen_from` reports.
    pub capture: Capture,
}

/// Everything a case produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealOutcome {
    /// Name of the wrapper namespace the case ran in (already deleted).
    pub wrapper: String,
    /// One entry per executed line (blank lines and comments are not executed).
    pub setup: Vec<SetupLine>,
    /// One entry per probe, in order.
    pub probes: Vec<ProbeResult>,
    /// `net.ipv4.ip_forward` the wrapper namespace started with (inherited from the
    /// machine's root namespace, like every namespace the script creates).
    pub initial_ip_forward: Option<u8>,
    /// Wall-clock time of the whole case, including namespace creation and deletion.
    pub elapsed: Duration,
}

impl RealOutcome {
    /// The setup lines that failed.
    pub fn failed_lines(&self) -> impl Iterator<Item = &SetupLine> {
        self.setup.iter().filter(|l| l.failed())
    }
}

/// Why a case could not be run (or finished).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealError {
    /// The script or a probe cannot be run safely (NUL byte, bad namespace name, ...).
    InvalidInput(String),
    /// The wrapper namespace could not be created.
    Wrapper(String),
    /// The shell could not be started or talked to.
    Spawn(String),
    /// The isolation could not be set up; no script line was run.
    Isolation(String),
    /// The case's namespaces would start with `ip_forward=1` (see
    /// [`RealOpts::require_fresh_forwarding`]).
    InheritedForwarding,
    /// The case did not finish within [`RealOpts::case_timeout`]; `partial` holds what
    /// finished (the line or probe that hung has status -1).
    Timeout {
        /// The limit that was exceeded.
        limit: Duration,
        /// Results gathered before the timeout.
        partial: Box<RealOutcome>,
    },
    /// The shell ended without finishing the case, or its output was garbled.
    Protocol(String),
}

impl fmt::Display for RealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RealError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            RealError::Wrapper(m) => write!(f, "cannot create wrapper namespace: {m}"),
            RealError::Spawn(m) => write!(f, "cannot run the case shell: {m}"),
            RealError::Isolation(m) => write!(f, "isolation failed, nothing was run: {m}"),
            RealError::InheritedForwarding => write!(
                f,
                "new namespaces start with net.ipv4.ip_forward=1 (inherited from the root \
                 namespace), so results would not match a fresh Linux"
            ),
            RealError::Timeout { limit, partial } => write!(
                f,
                "case timed out after {:?} ({} setup lines, {} probes finished)",
                limit,
                partial.setup.iter().filter(|l| l.status >= 0).count(),
                partial.probes.iter().filter(|p| p.exit >= 0).count()
            ),
            RealError::Protocol(m) => write!(f, "case shell misbehaved: {m}"),
        }
    }
}

impl std::error::Error for RealError {}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next_n() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Deletes a namespace of the machine's `/run/netns` when dropped.
struct NetnsGuard {
    name: String,
}

impl NetnsGuard {
    /// Creates `name` with `ip netns add`.
    fn create(name: &str) -> Result<NetnsGuard, String> {
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `ip netns add {name}`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`ip netns add {name}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(NetnsGuard {
            name: name.to_string(),
        })
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Creates a fresh wrapper namespace `PREFIX<pid>_<n>`, trying a few `n` if a name is
/// taken (never touching an existing namespace).
fn create_wrapper(prefix: &str) -> Result<NetnsGuard, String> {
    let pid = std::process::id();
    let mut last = String::new();
    for _ in 0..8 {
        let name = format!("{prefix}{pid}_{}", next_n());
        if Path::new("/run/netns").join(&name).exists() {
            last = format!("{name} already exists");
            continue;
        }
        match NetnsGuard::create(&name) {
            Ok(g) => return Ok(g),
            // taken in the meantime: try the next name; anything else will not get better
            Err(e) if e.contains("File exists") => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Quotes `s` for bash with single quotes.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn netns_id(path: &str) -> Option<String> {
    std::fs::read_link(path)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Where a case's unit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Setup,
    Probe,
    /// The capture around a probe.
    Capture,
    /// The links of every namespace, before the first probe.
    Links,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Setup => "S",
            Kind::Probe => "P",
            Kind::Capture => "C",
            Kind::Links => "L",
        }
    }
}

/// The executable lines of a script: (1-based line number, text).
fn script_units(script: &str) -> Vec<(usize, String)> {
    script
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') {
                None
            } else {
                Some((i + 1, l.to_string()))
            }
        })
        .collect()
}

/// Builds the bash program that runs one case.
fn driver(
    tok: &str,
    units: &[(usize, String)],
    probes: &[Probe],
    opts: &RealOpts,
    forbidden_netns: &[String],
    tcpdump: Option<&Path>,
) -> String {
    let settle = opts.settle;
    let capture = tcpdump.filter(|_| !probes.is_empty());
    let mut d = String::new();
    d.push_str("set +e +u\n");
    d.push_str(&format!("__hk_tok={}\n", shell_quote(tok)));
    d.push_str(
        "__hk_b() { printf '%s B %s %s\\n' \"$__hk_tok\" \"$1\" \"$2\"; \
         printf '%s B %s %s\\n' \"$__hk_tok\" \"$1\" \"$2\" >&2; }\n",
    );
    d.push_str(
        "__hk_e() { printf '\\n%s E %s %s %s\\n' \"$__hk_tok\" \"$1\" \"$2\" \"$3\"; \
         printf '\\n%s E %s %s %s\\n' \"$__hk_tok\" \"$1\" \"$2\" \"$3\" >&2; }\n",
    );
    d.push_str("__hk_fatal() { printf '%s FATAL %s\\n' \"$__hk_tok\" \"$*\"; builtin exit 97; }\n");
    // isolation first: nothing of the script may run without it
    d.push_str(
        "mount -t tmpfs -o mode=0755 hk_netns /run/netns 2>&1 || __hk_fatal 'cannot mount a private tmpfs on /run/netns'\n",
    );
    d.push_str(
        "[ \"$(stat -f -c %T /run/netns 2>/dev/null)\" = tmpfs ] || __hk_fatal '/run/netns is not a tmpfs'\n",
    );
    // the machine's /run/netns holds at least our wrapper: empty proves it is covered
    d.push_str("[ -z \"$(ls -A /run/netns)\" ] || __hk_fatal 'private /run/netns is not empty'\n");
    d.push_str(
        "{ mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys \
         && mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net; } 2>&1 \
         || __hk_fatal 'cannot make /proc/sys read-only outside /proc/sys/net'\n",
    );
    d.push_str("__hk_me=$(readlink /proc/self/ns/net)\n");
    for f in forbidden_netns {
        d.push_str(&format!(
            "[ \"$__hk_me\" != {} ] || __hk_fatal 'case shell is in a forbidden network namespace'\n",
            shell_quote(f)
        ));
    }
    d.push_str("printf '%s INFO ip_forward %s\\n' \"$__hk_tok\" \"$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)\"\n");
    if opts.host_lo_up {
        d.push_str("ip link set lo up 2>&1 || __hk_fatal 'cannot bring lo up in the wrapper'\n");
    }
    if capture.is_some() {
        d.push_str(capture::DRIVER_FUNCS);
    }
    d.push_str(&format!(
        "__hk_cleanup() {{ {}for __hk_f in /run/netns/*; do [ -e \"$__hk_f\" ] && ip netns del \"${{__hk_f##*/}}\" >/dev/null 2>&1; done; }}\n",
        if capture.is_some() { "__hk_cap_kill; " } else { "" }
    ));
    d.push_str("trap __hk_cleanup EXIT\n");
    // a script's `exit` ends only its own line
    d.push_str("exit() { return \"${1:-$?}\"; }\n");
    for (n, text) in units {
        d.push_str(&format!("__hk_b {} {n}\n", Kind::Setup.tag()));
        d.push_str(&format!(
            "eval {} </dev/null && __hk_rc=0 || __hk_rc=$?\n",
            shell_quote(text)
        ));
        d.push_str("{ set +x +v +e; } 2>/dev/null\n");
        d.push_str(&format!("__hk_e {} {n} \"$__hk_rc\"\n", Kind::Setup.tag()));
    }
    if !settle.is_zero() && !probes.is_empty() {
        d.push_str(&format!("sleep {:.3}\n", settle.as_secs_f64()));
    }
    if let Some(td) = capture {
        // the captures' files go to a private tmpfs over /tmp (this mount namespace only;
        // it disappears with the case)
        d.push_str("set +u\n");
        d.push_str(&format!("__hk_td={}\n", shell_quote(&td.to_string_lossy())));
        let ct = find_tool("conntrack")
            .map(|p| shell_quote(&p.to_string_lossy()))
            .unwrap_or_default();
        d.push_str(&format!("__hk_ct={ct}\n"));
        d.push_str("__hk_capdir=/tmp\n");
        d.push_str(
            "if [ -z \"$EPOCHREALTIME\" ]; then __hk_capfail='bash 5 is needed (EPOCHREALTIME)'; \
             elif mount -t tmpfs -o mode=0700 hk_cap /tmp >/dev/null 2>&1; then __hk_capfail=; \
             else __hk_capfail='cannot mount a private tmpfs on /tmp for the captures'; fi\n",
        );
        d.push_str(&format!("__hk_b {} 0\n", Kind::Links.tag()));
        d.push_str("__hk_links\n");
        d.push_str(&format!("__hk_e {} 0 0\n", Kind::Links.tag()));
        d.push_str(&format!(
            "[ -n \"$__hk_capfail\" ] || __hk_cap_start {}\n",
            shell_quote(&capture::case_filter(probes.iter().map(|p| &p.cmd)))
        ));
    }
    for (i, p) in probes.iter().enumerate() {
        let limit = p.cmd.expected_max_secs();
        let argv: Vec<String> = p.cmd.argv().iter().map(|a| shell_quote(a)).collect();
        let cmd = if p.ns == HOST_NS {
            format!("timeout -k 2 {limit} {}", argv.join(" "))
        } else {
            format!(
                "ip netns exec {} timeout -k 2 {limit} {}",
                shell_quote(&p.ns),
                argv.join(" ")
            )
        };
        if capture.is_some() {
            d.push_str(&format!("[ -n \"$__hk_capfail\" ] || __hk_cap_begin {i}\n"));
        }
        d.push_str(&format!("__hk_b {} {i}\n", Kind::Probe.tag()));
        d.push_str(&format!(
            "{{ {cmd} ; }} </dev/null 2>&1 && __hk_rc=0 || __hk_rc=$?\n"
        ));
        d.push_str(&format!("__hk_e {} {i} \"$__hk_rc\"\n", Kind::Probe.tag()));
        if capture.is_some() {
            d.push_str(&format!("[ -n \"$__hk_capfail\" ] || __hk_cap_end {i}\n"));
        }
    }
    if capture.is_some() {
        d.push_str(&format!(
            "[ -n \"$__hk_capfail\" ] || __hk_cap_finish {}\n",
            probes.len() - 1
        ));
        for i in 0..probes.len() {
            d.push_str(&format!("__hk_b {} {i}\n", Kind::Capture.tag()));
            d.push_str(&format!(
                "if [ -n \"$__hk_capfail\" ]; then printf 'fail %s\\n' \"$__hk_capfail\"; else __hk_cap_emit {i}; fi\n"
            ));
            d.push_str(&format!("__hk_e {} {i} 0\n", Kind::Capture.tag()));
        }
    }
    d.push_str("__hk_cleanup\n");
    d.push_str("printf '%s DONE\\n' \"$__hk_tok\"\n");
    d.push_str("builtin exit 0\n");
    d
}

/// What the driver printed, split up by markers.
#[derive(Debug, Default)]
struct Parsed {
    /// (kind, index) -> (body, status if finished)
    units: Vec<(Kind, usize, String, Option<i32>)>,
    info: Vec<(String, String)>,
    fatal: Option<String>,
    done: bool,
}

impl Parsed {
    fn unit(&self, kind: Kind, idx: usize) -> Option<(&str, Option<i32>)> {
        self.units
            .iter()
            .find(|u| u.0 == kind && u.1 == idx)
            .map(|u| (u.2.as_str(), u.3))
    }
}

fn parse_stream(s: &str, tok: &str) -> Parsed {
    let mut p = Parsed::default();
    // the currently open unit: (kind, idx, body start)
    let mut open: Option<(Kind, usize, usize)> = None;
    let mut search = 0;
    while let Some(rel) = s[search..].find(tok) {
        let pos = search + rel;
        let line_end = s[pos..].find('\n').map(|e| pos + e).unwrap_or(s.len());
        let marker = &s[pos + tok.len()..line_end];
        let mut f = marker.split_whitespace();
        let what = f.next().unwrap_or("");
        let kind = |k: Option<&str>| match k {
            Some("S") => Some(Kind::Setup),
            Some("P") => Some(Kind::Probe),
            Some("C") => Some(Kind::Capture),
            Some("L") => Some(Kind::Links),
            _ => None,
        };
        match what {
            "B" => {
                if let (Some(k), Some(Ok(i))) = (kind(f.next()), f.next().map(str::parse)) {
                    if let Some((ok, oi, start)) = open.take() {
                        // unterminated previous unit: keep what it printed
                        p.units.push((ok, oi, s[start..pos].to_string(), None));
                    }
                    open = Some((k, i, (line_end + 1).min(s.len())));
                }
            }
            "E" => {
                let k = kind(f.next());
                let i: Option<usize> = f.next().and_then(|x| x.parse().ok());
                let rc: Option<i32> = f.next().and_then(|x| x.parse().ok());
                if let (Some(k), Some(i)) = (k, i) {
                    let body_end = if pos > 0 && s.as_bytes()[pos - 1] == b'\n' {
                        pos - 1
                    } else {
                        pos
                    };
                    let body = match open.take() {
                        Some((ok, oi, start)) if ok == k && oi == i && start <= body_end => {
                            s[start..body_end].to_string()
                        }
                        _ => String::new(),
                    };
                    p.units.push((k, i, body, Some(rc.unwrap_or(-1))));
                }
            }
            "INFO" => {
                let key = f.next().unwrap_or("").to_string();
                let val = f.collect::<Vec<_>>().join(" ");
                p.info.push((key, val));
            }
            "FATAL" => {
                p.fatal = Some(
                    marker
                        .trim_start()
                        .trim_start_matches("FATAL")
                        .trim()
                        .to_string(),
                );
            }
            "DONE" => p.done = true,
            _ => {}
        }
        search = (line_end + 1).min(s.len());
        if line_end >= s.len() {
            break;
        }
    }
    if let Some((k, i, start)) = open {
        p.units
            .push((k, i, s[start.min(s.len())..].to_string(), None));
    }
    p
}

/// Bash prefixes some of its own errors with the driver's line number
/// (`bash: line 46: /proc/sys/x: No such file or directory`), which means nothing to the
/// caller: drop it (`bash: /proc/sys/x: No such file or directory`).
fn strip_driver_lineno(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive('\n') {
        let stripped = piece.strip_prefix("bash: line ").and_then(|rest| {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            (digits > 0)
                .then(|| rest[digits..].strip_prefix(": "))
                .flatten()
        });
        match stripped {
            Some(msg) => {
                out.push_str("bash: ");
                out.push_str(msg);
            }
            None => out.push_str(piece),
        }
    }
    out
}

fn make_token() -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = (t as u64)
        ^ (u64::from(std::process::id()) << 32)
        ^ next_n().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // one splitmix64 step to spread the bits
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("@@HK{z:016x}@@")
}

/// Runs `script` line by line in fresh, isolated namespaces, then runs `probes`, and
/// returns what every line and probe printed and its exit status.
///
/// The script's root namespace (`host`) is a fresh wrapper namespace; see the module
/// documentation for how the case is isolated from the machine. All namespaces are
/// deleted before this returns, also on error and timeout.
///
/// Needs root; call [`preflight`] first for a clear message when the machine cannot do it.
pub fn run_real(script: &str, probes: &[Probe], opts: &RealOpts) -> Result<RealOutcome, RealError> {
    let start = Instant::now();
    if script.contains('\0') {
        return Err(RealError::InvalidInput("script contains a NUL byte".into()));
    }
    for p in probes {
        p.validate().map_err(RealError::InvalidInput)?;
    }
    let units = script_units(script);
    let tok = make_token();
    let mut forbidden = Vec::new();
    for path in ["/proc/self/ns/net", "/proc/1/ns/net"] {
        if let Some(id) = netns_id(path) {
            if !forbidden.contains(&id) {
                forbidden.push(id);
            }
        }
    }
    if forbidden.is_empty() {
        return Err(RealError::Isolation(
            "cannot read /proc/self/ns/net to identify the machine's namespace".into(),
        ));
    }
    let tools = opts.capture.then(capture_tool);
    let tcpdump = tools.as_ref().and_then(|t| t.as_ref().ok());
    let program = driver(
        &tok,
        &units,
        probes,
        opts,
        &forbidden,
        tcpdump.map(PathBuf::as_path),
    );

    let wrapper = create_wrapper("hk_").map_err(RealError::Wrapper)?;
    let secs = opts.case_timeout.as_secs().max(1);
    let mut child = Command::new("timeout")
        .args(["-k", "5", &secs.to_string()])
        .args(["ip", "netns", "exec", &wrapper.name])
        .args([
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "bash",
            "-s",
        ])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RealError::Spawn(format!("cannot start timeout/ip/unshare/bash: {e}")))?;

    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    if let Some(mut stdin) = child.stdin.take() {
        // the shell may have stopped early (isolation failure): ignore EPIPE
        let _ = stdin.write_all(program.as_bytes());
    }

    // `timeout` bounds the case; this is a second, outer bound in case it does not
    let hard_deadline = Instant::now() + Duration::from_secs(secs + 15);
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {
                if Instant::now() > hard_deadline {
                    // `timeout` leads its own process group: kill all of it, so that no
                    // child keeps our pipes open
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{}", child.id())])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    let _ = child.kill();
                    killed = true;
                    break child.wait().ok();
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => break None,
        }
    };
    let stdout = String::from_utf8_lossy(&out_thread.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    let wrapper_name = wrapper.name.clone();
    drop(wrapper);

    let po = parse_stream(&stdout, &tok);
    let pe = parse_stream(&stderr, &tok);
    if let Some(msg) = &po.fatal {
        let detail: String = stdout
            .lines()
            .filter(|l| !l.contains(&tok))
            .chain(stderr.lines())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(RealError::Isolation(if detail.is_empty() {
            msg.clone()
        } else {
            format!("{msg} ({detail})")
        }));
    }
    let initial_ip_forward = po
        .info
        .iter()
        .find(|(k, _)| k == "ip_forward")
        .and_then(|(_, v)| v.trim().parse::<u8>().ok());

    let setup = units
        .iter()
        .map(|(n, text)| {
            let o = po.unit(Kind::Setup, *n);
            let e = pe.unit(Kind::Setup, *n);
            SetupLine {
                line: *n,
                text: text.clone(),
                status: o.and_then(|x| x.1).unwrap_or(-1),
                stdout: o.map(|x| x.0.to_string()).unwrap_or_default(),
                stderr: e.map(|x| strip_driver_lineno(x.0)).unwrap_or_default(),
            }
        })
        .collect();
    let ports = po
        .unit(Kind::Links, 0)
        .map(|(body, _)| capture::parse_links(body))
        .unwrap_or_default();
    let probe_results = probes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let capture = match &tools {
                None => Capture::Disabled,
                Some(Err(e)) => Capture::Failed(e.clone()),
                Some(Ok(_)) => match po.unit(Kind::Capture, i) {
                    Some((body, Some(_))) => capture::decide(&p.cmd, &p.ns, body, &ports),
                    _ => Capture::Failed("the case ended before this probe's capture".into()),
                },
            };
            let o = po.unit(Kind::Probe, i);
            let e = pe.unit(Kind::Probe, i);
            let mut output = o.map(|x| x.0.to_string()).unwrap_or_default();
            if let Some((extra, _)) = e {
                output.push_str(extra);
            }
            ProbeResult {
                probe: p.clone(),
                output,
                exit: o.and_then(|x| x.1).unwrap_or(-1),
                capture,
            }
        })
        .collect();
    let outcome = RealOutcome {
        wrapper: wrapper_name,
        setup,
        probes: probe_results,
        initial_ip_forward,
        elapsed: start.elapsed(),
    };

    let code = status.and_then(|s| s.code());
    if !po.done {
        if killed || matches!(code, Some(124) | Some(137)) || status.is_none() {
            return Err(RealError::Timeout {
                limit: opts.case_timeout,
                partial: Box::new(outcome),
            });
        }
        let tail: String = stderr
            .lines()
            .filter(|l| !l.contains(&tok))
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("; ");
        return Err(RealError::Protocol(format!(
            "the case shell ended early (status {code:?}) before finishing: {tail}"
        )));
    }
    if opts.require_fresh_forwarding && initial_ip_forward == Some(1) {
        return Err(RealError::InheritedForwarding);
    }
    Ok(outcome)
}

/// Looks for `name` in the directories of `$PATH` (and the usual sbin directories, which
/// a non-login root shell may miss).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for extra in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        dirs.push(PathBuf::from(extra));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Checks that this machine can run cases: we are root, the tools exist (`ip`, `ping`,
/// `unshare`, `timeout`, `bash`, `mount`), `ip netns add`/`del` work (with a probe
/// namespace `hk_probe_<pid>_<n>`), and a minimal case runs isolated (its `ip netns add`
/// lands in a private, empty `/run/netns`).
///
/// The error is a message meant to be shown to a person, with what to do.
pub fn preflight() -> Result<(), String> {
    match effective_uid() {
        Some(0) => {}
        Some(u) => {
            return Err(format!(
                "kernel check needs root (effective uid is {u}): run the tests as root, \
                 e.g. with sudo, in a VM or container allowed to create network namespaces"
            ))
        }
        None => return Err("cannot read the effective uid from /proc/self/status".into()),
    }
    let missing: Vec<&str> = ["ip", "ping", "unshare", "timeout", "bash", "mount"]
        .into_iter()
        .filter(|t| find_tool(t).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing tools: {} (install with: apt-get install -y iproute2 iputils-ping util-linux coreutils)",
            missing.join(", ")
        ));
    }
    {
        let g = create_wrapper("hk_probe_")
            .map_err(|e| format!("`ip netns add` does not work here: {e}"))?;
        let out = Command::new("ip")
            .args(["netns", "exec", &g.name, "true"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `ip netns exec`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`ip netns exec {} true` failed: {}",
                g.name,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let opts = RealOpts {
        case_timeout: Duration::from_secs(20),
        require_fresh_forwarding: false,
        ..RealOpts::default()
    };
    let o = run_real("ip netns add hk_iso_check\nip netns list\n", &[], &opts)
        .map_err(|e| format!("a minimal isolated case failed: {e}"))?;
    let ok = o.setup.len() == 2
        && o.setup.iter().all(|l| l.status == 0)
        && o.setup[1].stdout.trim() == "hk_iso_check";
    if !ok {
        return Err(format!(
            "a minimal isolated case did not behave: `ip netns list` inside printed {:?} \
             (expected only hk_iso_check), statuses {:?}",
            o.setup.get(1).map(|l| l.stdout.clone()).unwrap_or_default(),
            o.setup.iter().map(|l| l.status).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// tcpdump's path, if it and `nsenter` (which starts it in each namespace) are installed.
fn capture_tool() -> Result<PathBuf, String> {
    if find_tool("nsenter").is_none() {
        return Err("nsenter is not installed (install it: apt-get install -y util-linux)".into());
    }
    find_tool("tcpdump").ok_or_else(|| {
        "tcpdump is not installed, so the source address seen at the destination cannot be \
         checked (install it: apt-get install -y tcpdump)"
            .to_string()
    })
}

/// Checks that probes' requests can be captured ([`RealOpts::capture`]): `tcpdump` is
/// installed, and a ping from a namespace to its own `127.0.0.1` is found accepted there,
/// from `127.0.0.1`, on `lo`. Call [`preflight`] first.
///
/// The error is a message meant to be shown to a person.
pub fn preflight_capture() -> Result<(), String> {
    capture_tool()?;
    let opts = RealOpts {
        case_timeout: Duration::from_secs(30),
        require_fresh_forwarding: false,
        ..RealOpts::default()
    };
    let o = run_real(
        "ip netns add hk_cap_check\nip -n hk_cap_check link set lo up\n",
        &[Probe::ping("hk_cap_check", "127.0.0.1")],
        &opts,
    )
    .map_err(|e| format!("a minimal captured case failed: {e}"))?;
    let c = o.probes.first().map(|p| &p.capture);
    match c {
        Some(Capture::Reached(s))
            if s.ns == "hk_cap_check"
                && s.dev == "lo"
                && s.src == std::net::Ipv4Addr::LOCALHOST =>
        {
            Ok(())
        }
        other => Err(format!(
            "tcpdump does not work here: a ping to 127.0.0.1 in a namespace should be seen \
             from 127.0.0.1 on lo there, the capture says: {}",
            other.map(|c| c.to_string()).unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_skip_comments_and_blanks() {
        let u = script_units("# c\n\nip netns add red\r\n   # x\n  ip -n red link\n");
        assert_eq!(
            u,
            vec![
                (3, "ip netns add red".to_string()),
                (5, "  ip -n red link".to_string())
            ]
        );
    }

    #[test]
    fn driver_line_numbers_are_dropped() {
        assert_eq!(
            strip_driver_lineno("bash: line 46: /x: No such file\nother\nbash: line : y\n"),
            "bash: /x: No such file\nother\nbash: line : y\n"
        );
    }

    #[test]
    fn quote_roundtrip_shape() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn parse_markers() {
        let tok = "@@HKx@@";
        let s = format!(
            "{tok} INFO ip_forward 0\n{tok} B S 1\n\n{tok} E S 1 0\n{tok} B S 2\nabc\n\n{tok} E S 2 1\n\
             {tok} B S 3\nno newline\n{tok} E S 3 2\n{tok} B P 0\npartial"
        );
        let p = parse_stream(&s, tok);
        assert_eq!(p.unit(Kind::Setup, 1), Some(("", Some(0))));
        assert_eq!(p.unit(Kind::Setup, 2), Some(("abc\n", Some(1))));
        assert_eq!(p.unit(Kind::Setup, 3), Some(("no newline", Some(2))));
        assert_eq!(p.unit(Kind::Probe, 0), Some(("partial", None)));
        assert_eq!(p.info, vec![("ip_forward".to_string(), "0".to_string())]);
        assert!(!p.done);
    }

    #[test]
    fn driver_contains_no_raw_script_outside_quotes() {
        let units = vec![(1, "echo 'x' ; exit 3".to_string())];
        let d = driver(
            "@@T@@",
            &units,
            &[],
            &RealOpts::default(),
            &["net:[1]".into()],
            None,
        );
        assert!(d.contains(r"eval 'echo '\''x'\'' ; exit 3' </dev/null"));
        assert!(d.starts_with("set +e +u\n"));
    }

    #[test]
    fn rejects_nul_and_bad_probes() {
        let e = run_real("a\0b", &[], &RealOpts::default()).unwrap_err();
        assert!(matches!(e, RealError::InvalidInput(_)));
        let e = run_real("", &[Probe::ping("x y", "1.1.1.1")], &RealOpts::default()).unwrap_err();
        assert!(matches!(e, RealError::InvalidInput(_)));
    }
}
