//! The `iptables` command language over [`Netfilter`](super::Netfilter): what
//! `iptables [-t TABLE] -A|-I|-D|-R|-P|-N|-X|-F|-Z|-L|-S ...` does to the tables, with the
//! messages and exit statuses of iptables v1.8.9 (nf_tables).
//!
//! The parser follows iptables' own (`xshared.c` `do_parse`): getopt-style short options
//! that cluster (`-nvL`), long options that may be abbreviated (`--to` for
//! `--to-destination`), `!` before the option it negates, extension options that exist only
//! once their match (`-m`) or target (`-j`) is loaded, and the implicit protocol match
//! (`-p tcp --dport 80` loads `-m tcp` at the point where `--dport` appears). The checks the
//! kernel makes when a rule is committed (`xt_check_target`: which targets a table and hook
//! accept, chain loops) are made on the whole table after each change, and a failure leaves
//! the table as it was, as the nf_tables transaction does.
//!
//! Every message below was compared with the real tool (iptables v1.8.9 (nf_tables), Linux
//! 6.18) in a throw-away network namespace; the unit tests quote them.

use super::ipset::IpSets;
use super::{
    AddrType, Chain, CtStates, Hook, Match, NatRange, Netfilter, Policy, PortRange, RejectWith,
    Rule, Table, TableName, Target,
};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// An iptables failure: the text the tool prints on stderr (without the final newline) and
/// its exit status (1 for most run-time errors, 2 for parameter problems, 3 for a missing
/// table, 4 when the kernel refuses the change).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct IptablesError {
    /// What iptables prints, possibly several lines, without the trailing newline.
    pub msg: String,
    /// Exit status.
    pub status: i32,
}

/// What the command needs besides its arguments: the program name that prefixes messages
/// (`iptables`, or `iptables-restore` when the rules come from a restore file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IptablesCtx {
    /// Program name used in messages (`iptables v1.8.9 (nf_tables): ...`).
    pub program: String,
}

impl Default for IptablesCtx {
    fn default() -> Self {
        IptablesCtx {
            program: "iptables".to_string(),
        }
    }
}

/// The version string iptables prints.
pub const VERSION: &str = "v1.8.9 (nf_tables)";

impl IptablesCtx {
    fn try_line(&self) -> String {
        let p = &self.program;
        format!("Try `{p} -h' or '{p} --help' for more information.")
    }

    /// `PROG v1.8.9 (nf_tables): MSG` + the `Try` line, status 2.
    pub(crate) fn usage(&self, msg: impl AsRef<str>) -> IptablesError {
        IptablesError {
            msg: format!(
                "{} {VERSION}: {}\n{}",
                self.program,
                msg.as_ref(),
                self.try_line()
            ),
            status: 2,
        }
    }

    /// An extension's own message, which ends with a newline, so a blank line comes before
    /// the `Try` line (`DNAT: option "--to-destination" must be specified`).
    fn usage_nl(&self, msg: impl AsRef<str>) -> IptablesError {
        self.usage(format!("{}\n", msg.as_ref()))
    }

    /// A message printed without the version prefix (`Bad argument `x'`), status 2.
    fn bare_usage(&self, msg: impl AsRef<str>) -> IptablesError {
        IptablesError {
            msg: format!("{}\n{}", msg.as_ref(), self.try_line()),
            status: 2,
        }
    }

    /// `iptables: MSG` (the libiptc-style run-time messages).
    fn plain(&self, msg: impl AsRef<str>, status: i32) -> IptablesError {
        IptablesError {
            msg: format!("{}: {}", self.program, msg.as_ref()),
            status,
        }
    }

    /// The kernel refused the nf_tables batch:
    /// `PROG v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain X`.
    fn kernel(&self, op: &str, errno: &str, what: &str) -> IptablesError {
        IptablesError {
            msg: format!("{} {VERSION}:  {op} failed ({errno}): {what}", self.program),
            status: 4,
        }
    }

    /// A hopsim limitation (valid iptables that the model cannot hold), status 2.
    fn unmodelled(&self, what: impl AsRef<str>) -> IptablesError {
        IptablesError {
            msg: format!("hopsim: {} is not modelled", what.as_ref()),
            status: 2,
        }
    }
}

/// Run one `iptables` command (the arguments after the program name) on `nf`. Returns what
/// it prints on stdout (listings, `-S`, `--version`), or the error it prints and its status.
/// On error `nf` is unchanged.
pub fn run(nf: &mut Netfilter, args: &[&str], ctx: &IptablesCtx) -> Result<String, IptablesError> {
    let parsed = parse_command(args, ctx, &nf.ipsets)?;
    execute(nf, parsed, ctx)
}

// ---------------------------------------------------------------------------------------
// Command line parsing
// ---------------------------------------------------------------------------------------

/// The command letter and its arguments.
#[derive(Clone, Debug, PartialEq)]
enum Cmd {
    Append(String),
    Insert(String, usize),
    Delete(String, Option<usize>),
    Replace(String, usize),
    Policy(String, String),
    New(String),
    DeleteChain(Option<String>),
    Flush(Option<String>),
    Zero(Option<String>),
    List(Option<String>, Option<usize>),
    ListRules(Option<String>, Option<usize>),
    Help,
    Version,
}

impl Cmd {
    fn letter(&self) -> char {
        match self {
            Cmd::Append(_) => 'A',
            Cmd::Insert(..) => 'I',
            Cmd::Delete(..) => 'D',
            Cmd::Replace(..) => 'R',
            Cmd::Policy(..) => 'P',
            Cmd::New(_) => 'N',
            Cmd::DeleteChain(_) => 'X',
            Cmd::Flush(_) => 'F',
            Cmd::Zero(_) => 'Z',
            Cmd::List(..) => 'L',
            Cmd::ListRules(..) => 'S',
            Cmd::Help => 'h',
            Cmd::Version => 'V',
        }
    }

    fn takes_rule(&self) -> bool {
        matches!(
            self,
            Cmd::Append(_) | Cmd::Insert(..) | Cmd::Replace(..) | Cmd::Delete(_, None)
        )
    }
}

/// A parsed command line.
#[derive(Clone, Debug)]
struct Parsed {
    cmd: Cmd,
    table: String,
    numeric: bool,
    verbose: bool,
    exact: bool,
    line_numbers: bool,
    /// `-L -Z`: zero the listed counters afterwards.
    zero: bool,
    /// The rule options given (`-s`, `-m`, `-j`, ...), for commands that take a rule.
    spec: Spec,
}

/// A rule being assembled from its options.
#[derive(Clone, Debug, Default)]
struct Spec {
    src: Option<(Ipv4Net, bool)>,
    dst: Option<(Ipv4Net, bool)>,
    /// `-p`: number (0 for all) and negation.
    proto: Option<(u8, bool)>,
    iin: Option<(String, bool)>,
    iout: Option<(String, bool)>,
    matches: Vec<Pm>,
    target: Option<Pt>,
    goto: bool,
    /// `! -s 0/0`: iptables accepts it, the kernel refuses it.
    negated_any: bool,
}

/// A match being assembled.
#[derive(Clone, Debug)]
enum Pm {
    Ports {
        proto: u8,
        sport: Option<Option<(PortRange, bool)>>,
        dport: Option<Option<(PortRange, bool)>>,
    },
    Icmp(Option<(u8, Option<u8>, bool)>),
    Comment(Option<String>),
    Nfacct(Option<String>),
    Statistic {
        mode: Option<bool>, // Some(true) random, Some(false) nth
        probability: Option<u32>,
        every: Option<u32>,
        packet: Option<u32>,
        neg: bool,
    },
    Mark(Option<(u32, u32, bool)>),
    Conntrack(Option<(CtStates, bool)>),
    State(Option<(CtStates, bool)>),
    Addrtype {
        src: Option<(AddrType, bool)>,
        dst: Option<(AddrType, bool)>,
        limit_in: bool,
        limit_out: bool,
    },
    Multiport(Option<(&'static str, Vec<PortRange>, bool)>),
    Physdev {
        pin: Option<(String, bool)>,
        pout: Option<(String, bool)>,
        bridged: Option<bool>,
    },
    /// `-m set --match-set NAME DIRS`: name, directions (`true` = src), negation.
    Set(Option<(String, Vec<bool>, bool)>),
}

/// A target being assembled.
#[derive(Clone, Debug)]
enum Pt {
    Accept,
    Drop,
    Return,
    Chain(String),
    Reject(Option<RejectWith>),
    Dnat(Option<NatRange>),
    Snat(Option<NatRange>),
    Masquerade {
        ports: Option<PortRange>,
        random: bool,
        random_fully: bool,
    },
    Mark(Option<(u32, u32)>),
    Log {
        level: Option<u8>,
        prefix: Option<String>,
    },
    Ct(bool),
    Notrack,
    Trace,
}

/// Who owns an option name during parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Global,
    Match(usize),
    Target,
}

/// The global options: long name, short letter, whether it takes an argument.
const GLOBAL_OPTS: &[(&str, char, bool)] = &[
    ("append", 'A', true),
    ("delete", 'D', true),
    ("insert", 'I', true),
    ("replace", 'R', true),
    ("list", 'L', false),
    ("list-rules", 'S', false),
    ("flush", 'F', false),
    ("zero", 'Z', false),
    ("new-chain", 'N', true),
    ("delete-chain", 'X', false),
    ("policy", 'P', true),
    ("help", 'h', false),
    ("version", 'V', false),
    ("source", 's', true),
    ("src", 's', true),
    ("destination", 'd', true),
    ("dst", 'd', true),
    ("protocol", 'p', true),
    ("in-interface", 'i', true),
    ("out-interface", 'o', true),
    ("jump", 'j', true),
    ("goto", 'g', true),
    ("match", 'm', true),
    ("table", 't', true),
    ("numeric", 'n', false),
    ("verbose", 'v', false),
    ("exact", 'x', false),
    ("line-numbers", '0', false),
    ("wait", 'w', false),
    ("wait-interval", 'W', false),
    ("ipv4", '4', false),
    ("rename-chain", 'E', true),
    ("check", 'C', true),
    ("set-counters", 'c', true),
    ("fragment", 'f', false),
];

/// Short options that take an argument.
const SHORT_WITH_ARG: &str = "ADIRNPEsdpiojgmtcC";
/// Short options without one.
const SHORT_FLAGS: &str = "LSFZXhVnvxwW4f6";

/// Options of each match: (name, takes an argument).
fn match_opts(m: &Pm) -> &'static [(&'static str, bool)] {
    match m {
        Pm::Ports { proto: 6, .. } => &[
            ("source-port", true),
            ("sport", true),
            ("destination-port", true),
            ("dport", true),
            ("tcp-flags", true),
            ("syn", false),
            ("tcp-option", true),
        ],
        Pm::Ports { .. } => &[
            ("source-port", true),
            ("sport", true),
            ("destination-port", true),
            ("dport", true),
        ],
        Pm::Icmp(_) => &[("icmp-type", true)],
        Pm::Comment(_) => &[("comment", true)],
        Pm::Nfacct(_) => &[("nfacct-name", true)],
        Pm::Statistic { .. } => &[
            ("mode", true),
            ("probability", true),
            ("every", true),
            ("packet", true),
        ],
        Pm::Mark(_) => &[("mark", true)],
        Pm::Conntrack(_) => &[
            ("ctstate", true),
            ("ctproto", true),
            ("ctorigsrc", true),
            ("ctorigdst", true),
            ("ctreplsrc", true),
            ("ctrepldst", true),
            ("ctstatus", true),
            ("ctexpire", true),
            ("ctdir", true),
        ],
        Pm::State(_) => &[("state", true)],
        Pm::Addrtype { .. } => &[
            ("src-type", true),
            ("dst-type", true),
            ("limit-iface-in", false),
            ("limit-iface-out", false),
        ],
        Pm::Multiport(_) => &[
            ("source-ports", true),
            ("sports", true),
            ("destination-ports", true),
            ("dports", true),
            ("ports", true),
        ],
        Pm::Physdev { .. } => &[
            ("physdev-in", true),
            ("physdev-out", true),
            ("physdev-is-in", false),
            ("physdev-is-out", false),
            ("physdev-is-bridged", false),
        ],
        Pm::Set(_) => &[
            ("match-set", true),
            ("set", true),
            ("return-nomatch", false),
            ("update-counters", false),
            ("update-subcounters", false),
            ("packets-eq", true),
            ("packets-lt", true),
            ("packets-gt", true),
            ("bytes-eq", true),
            ("bytes-lt", true),
            ("bytes-gt", true),
        ],
    }
}

/// Options of each target: (name, takes an argument).
fn target_opts(t: &Pt) -> &'static [(&'static str, bool)] {
    match t {
        Pt::Reject(_) => &[("reject-with", true)],
        Pt::Dnat(_) => &[
            ("to-destination", true),
            ("random", false),
            ("persistent", false),
        ],
        Pt::Snat(_) => &[
            ("to-source", true),
            ("random", false),
            ("random-fully", false),
            ("persistent", false),
        ],
        Pt::Masquerade { .. } => &[
            ("to-ports", true),
            ("random", false),
            ("random-fully", false),
        ],
        Pt::Mark(_) => &[
            ("set-xmark", true),
            ("set-mark", true),
            ("and-mark", true),
            ("or-mark", true),
            ("xor-mark", true),
        ],
        Pt::Log { .. } => &[
            ("log-level", true),
            ("log-prefix", true),
            ("log-tcp-sequence", false),
            ("log-tcp-options", false),
            ("log-ip-options", false),
            ("log-uid", false),
            ("log-macdecode", false),
        ],
        Pt::Ct(_) => &[
            ("notrack", false),
            ("helper", true),
            ("zone", true),
            ("ctevents", true),
            ("expevents", true),
            ("timeout", true),
        ],
        _ => &[],
    }
}

/// Matches iptables knows but hopsim does not model.
const UNMODELLED_MATCHES: &[&str] = &[
    "recent",
    "limit",
    "owner",
    "iprange",
    "connmark",
    "hashlimit",
    "string",
    "length",
    "ttl",
    "tos",
    "dscp",
    "mac",
    "pkttype",
    "connlimit",
    "socket",
    "sctp",
    "dccp",
    "udplite",
    "esp",
    "ah",
    "rpfilter",
    "bpf",
    "cgroup",
    "helper",
    "time",
    "u32",
    "policy",
    "realm",
    "cpu",
    "devgroup",
    "ecn",
    "hl",
    "ipvs",
    "quota",
    "rateest",
    "cluster",
    "connbytes",
    "connlabel",
    "osf",
    "tcpmss",
    "frag",
    "ipcomp",
    "l2tp",
    "nfqueue",
];

/// Targets iptables knows but hopsim does not model (a chain cannot be named after them).
const UNMODELLED_TARGETS: &[&str] = &[
    "QUEUE",
    "NFQUEUE",
    "CONNMARK",
    "TPROXY",
    "REDIRECT",
    "NETMAP",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "TCPMSS",
    "CHECKSUM",
    "CONNSECMARK",
    "SECMARK",
    "NFLOG",
    "ULOG",
    "AUDIT",
    "SET",
    "HMARK",
    "IDLETIMER",
    "LED",
    "RATEEST",
    "SYNPROXY",
    "TEE",
    "CLUSTERIP",
    "ECN",
    "HL",
    "CONNTRACK",
    "TCPOPTSTRIP",
    "NETFLOW",
    "DNPT",
    "SNPT",
];

/// Targets hopsim models, by their iptables name.
const MODELLED_TARGETS: &[&str] = &[
    "ACCEPT",
    "DROP",
    "RETURN",
    "REJECT",
    "DNAT",
    "SNAT",
    "MASQUERADE",
    "MARK",
    "LOG",
    "CT",
    "NOTRACK",
    "TRACE",
];

struct Parser<'a> {
    args: &'a [&'a str],
    i: usize,
    ctx: &'a IptablesCtx,
    /// The namespace's IP sets, which `--match-set` must name.
    sets: &'a IpSets,
    invert: bool,
    cmd: Option<Cmd>,
    table: Option<String>,
    numeric: bool,
    verbose: bool,
    exact: bool,
    line_numbers: bool,
    spec: Spec,
    first_rule_opt: Option<String>,
    /// `-n`, `-x` or `--line-numbers` as typed, for "Illegal option".
    list_opt: Option<String>,
    /// `-Z` given with `-L` or `-S`.
    zero: bool,
}

/// Parse a command line into a command, its options and its rule.
fn parse_command(args: &[&str], ctx: &IptablesCtx, sets: &IpSets) -> Result<Parsed, IptablesError> {
    let mut p = Parser {
        args,
        i: 0,
        ctx,
        sets,
        invert: false,
        cmd: None,
        table: None,
        numeric: false,
        verbose: false,
        exact: false,
        line_numbers: false,
        spec: Spec::default(),
        first_rule_opt: None,
        list_opt: None,
        zero: false,
    };
    while p.i < args.len() {
        let tok = args[p.i];
        p.i += 1;
        if tok == "!" {
            if p.invert {
                return Err(ctx.usage("multiple consecutive ! not allowed"));
            }
            p.invert = true;
            continue;
        }
        if let Some(long) = tok.strip_prefix("--") {
            if long.is_empty() {
                // `--` ends the options: what follows are bad arguments.
                if let Some(a) = args.get(p.i) {
                    return Err(ctx.bare_usage(format!("Bad argument `{a}'")));
                }
                break;
            }
            p.long_option(tok, long)?;
        } else if tok.len() > 1 && tok.starts_with('-') {
            p.short_cluster(tok)?;
        } else {
            return Err(ctx.bare_usage(format!("Bad argument `{tok}'")));
        }
    }
    p.finish()
}

/// An option as iptables names it in its messages (`-j`, `--dport`), formatted only
/// when a message needs it.
#[derive(Clone, Copy)]
enum Shown {
    Short(char),
    Long(&'static str),
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Short(c) => write!(f, "-{c}"),
            Shown::Long(name) => write!(f, "--{name}"),
        }
    }
}

impl<'a> Parser<'a> {
    /// The next argv element, if any (an option's required argument).
    fn take_arg(&mut self, shown: Shown) -> Result<&'a str, IptablesError> {
        match self.args.get(self.i) {
            Some(a) => {
                self.i += 1;
                Ok(a)
            }
            None => Err(self
                .ctx
                .usage(format!("option \"{shown}\" requires an argument"))),
        }
    }

    /// The next argv element if it is not an option (`-L [CHAIN]`, `-I CHAIN [N]`).
    fn optional_positional(&mut self) -> Option<&'a str> {
        match self.args.get(self.i) {
            Some(a) if !a.starts_with('-') && !a.starts_with('!') => {
                self.i += 1;
                Some(a)
            }
            _ => None,
        }
    }

    fn short_cluster(&mut self, tok: &str) -> Result<(), IptablesError> {
        let body = &tok[1..];
        for (pos, c) in body.char_indices() {
            let rest = &body[pos + c.len_utf8()..];
            if SHORT_WITH_ARG.contains(c) {
                let shown = Shown::Short(c);
                let arg = if rest.is_empty() {
                    self.take_arg(shown)?.to_string()
                } else {
                    rest.to_string()
                };
                return self.global(c, shown, Some(arg));
            } else if SHORT_FLAGS.contains(c) {
                // `-LINPUT`: an optional argument attached to the letter.
                if matches!(c, 'L' | 'S' | 'F' | 'Z' | 'X') && !rest.is_empty() {
                    return self.global(c, Shown::Short(c), Some(rest.to_string()));
                }
                self.global(c, Shown::Short(c), None)?;
            } else {
                let shown = if body.chars().count() == 1 || pos == 0 {
                    tok.to_string()
                } else {
                    format!("-{c}")
                };
                return Err(self.ctx.usage(format!("unknown option \"{shown}\"")));
            }
        }
        Ok(())
    }

    fn long_option(&mut self, tok: &str, long: &str) -> Result<(), IptablesError> {
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (long, None),
        };
        let found = match self.resolve(name) {
            Some(f) => Some(f),
            None => self.implicit_proto_match(name),
        };
        let Some((full, owner, has_arg)) = found else {
            return Err(self.ctx.usage(format!("unknown option \"{tok}\"")));
        };
        let shown = Shown::Long(full);
        let arg = if has_arg {
            Some(match inline {
                Some(v) => v,
                None => self.take_arg(shown)?.to_string(),
            })
        } else {
            None
        };
        match owner {
            Owner::Global => {
                let letter = GLOBAL_OPTS
                    .iter()
                    .find(|(n, _, _)| *n == full)
                    .map(|(_, c, _)| *c)
                    .unwrap_or('?');
                self.global(letter, shown, arg)
            }
            Owner::Match(idx) => {
                let inv = std::mem::take(&mut self.invert);
                self.match_option(idx, full, arg, inv)
            }
            Owner::Target => {
                let inv = std::mem::take(&mut self.invert);
                self.target_option(full, arg, inv)
            }
        }
    }

    /// Find a long option among the global ones and those of the loaded extensions:
    /// exact name first, else a unique prefix (getopt_long).
    fn resolve(&self, name: &str) -> Option<(&'static str, Owner, bool)> {
        // Walked, not collected: this runs for every long option of every rule a restore
        // reads (hundreds of thousands for a big cluster).
        let cands = || {
            let globals = GLOBAL_OPTS.iter().map(|(n, _, a)| (*n, Owner::Global, *a));
            // Later instances of a match shadow earlier ones (a second `-m conntrack`).
            let matches = self
                .spec
                .matches
                .iter()
                .enumerate()
                .rev()
                .flat_map(|(idx, m)| {
                    match_opts(m)
                        .iter()
                        .map(move |(n, a)| (*n, Owner::Match(idx), *a))
                });
            let target = self
                .spec
                .target
                .iter()
                .flat_map(|t| target_opts(t).iter().map(|(n, a)| (*n, Owner::Target, *a)));
            globals.chain(matches).chain(target)
        };
        if let Some(c) = cands().find(|(n, _, _)| *n == name) {
            return Some(c);
        }
        if name.is_empty() {
            return None;
        }
        let mut pre = cands().filter(|(n, _, _)| n.starts_with(name));
        let first = pre.next()?;
        pre.all(|c| c.0 == first.0 && c.1 == first.1)
            .then_some(first)
    }

    /// `-p tcp --dport 80`: an option unknown so far loads the protocol's match.
    fn implicit_proto_match(&mut self, name: &str) -> Option<(&'static str, Owner, bool)> {
        let (proto, _) = self.spec.proto?;
        let m = match proto {
            6 | 17 => Pm::Ports {
                proto,
                sport: None,
                dport: None,
            },
            1 => Pm::Icmp(None),
            _ => return None,
        };
        let opts = match_opts(&m);
        let full = opts
            .iter()
            .find(|(n, _)| *n == name)
            .or_else(|| {
                let v: Vec<_> = opts.iter().filter(|(n, _)| n.starts_with(name)).collect();
                if v.len() == 1 && !name.is_empty() {
                    Some(v[0])
                } else {
                    None
                }
            })
            .copied()?;
        self.spec.matches.push(m);
        Some((full.0, Owner::Match(self.spec.matches.len() - 1), full.1))
    }

    fn set_cmd(&mut self, cmd: Cmd) -> Result<(), IptablesError> {
        // `-L -Z` / `-S -Z`: list, then zero the counters of what was listed.
        let listing = |c: &Cmd| matches!(c, Cmd::List(..) | Cmd::ListRules(..));
        match (&self.cmd, &cmd) {
            (Some(old), Cmd::Zero(_)) if listing(old) => {
                self.zero = true;
                return Ok(());
            }
            (Some(Cmd::Zero(_)), new) if listing(new) => {
                self.zero = true;
                self.cmd = Some(cmd);
                return Ok(());
            }
            _ => {}
        }
        if let Some(old) = &self.cmd {
            return Err(self.ctx.usage(format!(
                "Cannot use -{} with -{}",
                cmd.letter(),
                old.letter()
            )));
        }
        self.cmd = Some(cmd);
        Ok(())
    }

    fn no_invert(&mut self, what: impl std::fmt::Display) -> Result<(), IptablesError> {
        if self.invert {
            return Err(self.ctx.usage(format!("cannot have ! before {what}")));
        }
        Ok(())
    }

    fn rule_opt_seen(&mut self, shown: Shown) {
        if self.first_rule_opt.is_none() {
            self.first_rule_opt = Some(shown.to_string());
        }
    }

    fn global(&mut self, c: char, shown: Shown, arg: Option<String>) -> Result<(), IptablesError> {
        let ctx = self.ctx;
        if !matches!(c, 's' | 'd' | 'p' | 'i' | 'o') {
            if c == 'j' || c == 'g' {
                self.no_invert("-j")?;
            } else if c == 'm' {
                self.no_invert("-m")?;
            } else {
                self.no_invert(shown)?;
            }
        }
        let arg_s = arg.as_deref().unwrap_or_default();
        // `-s ! ADDR` (negation after the option, long removed): the `!` is taken as the
        // option's argument and what follows is a stray argument.
        if matches!(c, 's' | 'd' | 'p' | 'i' | 'o') && arg_s == "!" {
            if let Some(next) = self.args.get(self.i) {
                return Err(ctx.bare_usage(format!("Bad argument `{next}'")));
            }
        }
        match c {
            'A' => self.set_cmd(Cmd::Append(arg_s.to_string())),
            'D' => {
                let n = match self.optional_positional() {
                    Some(n) => Some(parse_rulenum(n, ctx)?),
                    None => None,
                };
                self.set_cmd(Cmd::Delete(arg_s.to_string(), n))
            }
            'I' => {
                let n = match self.optional_positional() {
                    Some(n) => parse_rulenum(n, ctx)?,
                    None => 1,
                };
                self.set_cmd(Cmd::Insert(arg_s.to_string(), n))
            }
            'R' => {
                let Some(n) = self.optional_positional() else {
                    return Err(ctx.usage("-R requires a rule number"));
                };
                let n = parse_rulenum(n, ctx)?;
                self.set_cmd(Cmd::Replace(arg_s.to_string(), n))
            }
            'P' => {
                let Some(pol) = self.optional_positional() else {
                    return Err(ctx.usage("-P requires a chain and a policy"));
                };
                self.set_cmd(Cmd::Policy(arg_s.to_string(), pol.to_string()))
            }
            'N' => self.set_cmd(Cmd::New(arg_s.to_string())),
            'E' => Err(ctx.unmodelled("iptables -E (rename chain)")),
            'C' => Err(ctx.unmodelled("iptables -C (check rule)")),
            'L' | 'S' => {
                let chain = arg.or_else(|| self.optional_positional().map(str::to_string));
                let n = if chain.is_some() {
                    match self.optional_positional() {
                        Some(n) => Some(parse_rulenum(n, ctx)?),
                        None => None,
                    }
                } else {
                    None
                };
                if c == 'L' {
                    self.set_cmd(Cmd::List(chain, n))
                } else {
                    self.set_cmd(Cmd::ListRules(chain, n))
                }
            }
            'F' | 'Z' | 'X' => {
                let chain = arg.or_else(|| self.optional_positional().map(str::to_string));
                self.set_cmd(match c {
                    'F' => Cmd::Flush(chain),
                    'Z' => Cmd::Zero(chain),
                    _ => Cmd::DeleteChain(chain),
                })
            }
            'h' => self.set_cmd(Cmd::Help),
            'V' => self.set_cmd(Cmd::Version),
            't' => {
                self.table = Some(arg_s.to_string());
                Ok(())
            }
            'n' => {
                self.numeric = true;
                self.list_opt.get_or_insert_with(|| "-n".to_string());
                Ok(())
            }
            'v' => {
                self.verbose = true;
                Ok(())
            }
            'x' => {
                self.exact = true;
                self.list_opt.get_or_insert_with(|| "-x".to_string());
                Ok(())
            }
            '0' => {
                self.line_numbers = true;
                self.list_opt
                    .get_or_insert_with(|| "--line-numbers".to_string());
                Ok(())
            }
            'w' | 'W' => {
                // `-w [SECONDS]`: accepted and ignored (there is no lock to wait for).
                if let Some(n) = self.args.get(self.i) {
                    if n.chars().all(|ch| ch.is_ascii_digit() || ch == '.') && !n.is_empty() {
                        self.i += 1;
                    }
                }
                Ok(())
            }
            '4' => Ok(()),
            '6' => Err(IptablesError {
                msg: ctx.try_line(),
                status: 2,
            }),
            'f' => Err(ctx.unmodelled("-f (fragments)")),
            'c' => Err(ctx.unmodelled("-c (set counters)")),
            's' | 'd' => {
                self.rule_opt_seen(shown);
                let inv = std::mem::take(&mut self.invert);
                let slot = if c == 's' {
                    &self.spec.src
                } else {
                    &self.spec.dst
                };
                if slot.is_some() {
                    return Err(ctx.usage(format!("multiple -{c} flags not allowed")));
                }
                let net = parse_host_net(arg_s, ctx)?;
                if net.prefix_len() == 0 {
                    if inv {
                        self.spec.negated_any = true;
                    }
                    // 0/0 is no match at all; remember it was given.
                    let v = Some((net, inv));
                    if c == 's' {
                        self.spec.src = v;
                    } else {
                        self.spec.dst = v;
                    }
                } else if c == 's' {
                    self.spec.src = Some((net, inv));
                } else {
                    self.spec.dst = Some((net, inv));
                }
                Ok(())
            }
            'p' => {
                self.rule_opt_seen(shown);
                let inv = std::mem::take(&mut self.invert);
                if self.spec.proto.is_some() {
                    return Err(ctx.usage("multiple -p flags not allowed"));
                }
                let n = parse_protocol(arg_s)
                    .ok_or_else(|| ctx.usage(format!("unknown protocol \"{arg_s}\" specified")))?;
                if n == 0 && inv {
                    return Err(ctx.usage("rule would never match protocol"));
                }
                self.spec.proto = Some((n, inv));
                Ok(())
            }
            'i' | 'o' => {
                self.rule_opt_seen(shown);
                let inv = std::mem::take(&mut self.invert);
                let slot_set = if c == 'i' {
                    self.spec.iin.is_some()
                } else {
                    self.spec.iout.is_some()
                };
                if slot_set {
                    return Err(ctx.usage(format!("multiple -{c} flags not allowed")));
                }
                let name = parse_iface(arg_s, ctx)?;
                let v = Some((name, inv));
                if c == 'i' {
                    self.spec.iin = v;
                } else {
                    self.spec.iout = v;
                }
                Ok(())
            }
            'j' | 'g' => {
                self.rule_opt_seen(shown);
                if self.spec.target.is_some() {
                    return Err(ctx.usage(format!("multiple -{c} flags not allowed")));
                }
                self.spec.goto = c == 'g';
                self.spec.target = Some(load_target(arg_s, c == 'g', ctx)?);
                Ok(())
            }
            'm' => {
                self.rule_opt_seen(shown);
                self.load_match(arg_s)
            }
            _ => Err(ctx.usage(format!("unknown option \"{shown}\""))),
        }
    }

    fn load_match(&mut self, name: &str) -> Result<(), IptablesError> {
        let ctx = self.ctx;
        let m = match name {
            "tcp" | "udp" => {
                let want = if name == "tcp" { 6 } else { 17 };
                // A second `-m tcp` after the implicit one adds nothing new.
                if self
                    .spec
                    .matches
                    .iter()
                    .any(|m| matches!(m, Pm::Ports { proto, .. } if *proto == want))
                {
                    return Ok(());
                }
                Pm::Ports {
                    proto: want,
                    sport: None,
                    dport: None,
                }
            }
            "icmp" => {
                if self.spec.matches.iter().any(|m| matches!(m, Pm::Icmp(_))) {
                    return Ok(());
                }
                Pm::Icmp(None)
            }
            "comment" => Pm::Comment(None),
            "nfacct" => Pm::Nfacct(None),
            "statistic" => Pm::Statistic {
                mode: None,
                probability: None,
                every: None,
                packet: None,
                neg: false,
            },
            "mark" => Pm::Mark(None),
            "conntrack" => Pm::Conntrack(None),
            "state" => Pm::State(None),
            "addrtype" => Pm::Addrtype {
                src: None,
                dst: None,
                limit_in: false,
                limit_out: false,
            },
            "multiport" => Pm::Multiport(None),
            "physdev" => Pm::Physdev {
                pin: None,
                pout: None,
                bridged: None,
            },
            "set" => Pm::Set(None),
            other if UNMODELLED_MATCHES.contains(&other) => {
                return Err(ctx.unmodelled(format!("match `{other}'")));
            }
            other => {
                return Err(ctx.usage_nl(format!(
                    "Couldn't load match `{other}':No such file or directory"
                )));
            }
        };
        self.spec.matches.push(m);
        Ok(())
    }

    fn match_option(
        &mut self,
        idx: usize,
        opt: &str,
        arg: Option<String>,
        inv: bool,
    ) -> Result<(), IptablesError> {
        let ctx = self.ctx;
        let a = arg.unwrap_or_default();
        let proto = self.spec.proto.map(|p| p.0).unwrap_or(0);
        let Some(m) = self.spec.matches.get_mut(idx) else {
            return Err(ctx.usage(format!("unknown option \"--{opt}\"")));
        };
        // Options of the guided parsers may be given once (xtables_option_parse).
        let once = |ext: &str, long: &str| {
            ctx.usage_nl(format!("{ext}: option \"{long}\" can only be used once."))
        };
        match m {
            Pm::Mark(Some(_)) => return Err(once("mark", "--mark")),
            Pm::Conntrack(Some(_)) if opt == "ctstate" => {
                return Err(once("conntrack", "--ctstate"))
            }
            Pm::State(Some(_)) => return Err(once("state", "--state")),
            Pm::Statistic {
                mode,
                probability,
                every,
                packet,
                ..
            } => {
                let set = match opt {
                    "mode" => mode.is_some(),
                    "probability" => probability.is_some(),
                    "every" => every.is_some(),
                    _ => packet.is_some(),
                };
                if set {
                    return Err(once("statistic", &format!("--{opt}")));
                }
            }
            Pm::Addrtype { src, dst, .. }
                if (opt == "src-type" && src.is_some()) || (opt == "dst-type" && dst.is_some()) =>
            {
                return Err(once("addrtype", &format!("--{opt}")));
            }
            Pm::Physdev { pin, pout, bridged } => {
                let set = match opt {
                    "physdev-in" => pin.is_some(),
                    "physdev-out" => pout.is_some(),
                    "physdev-is-bridged" => bridged.is_some(),
                    _ => false,
                };
                if set {
                    return Err(once("physdev", &format!("--{opt}")));
                }
            }
            _ => {}
        }
        match m {
            Pm::Ports {
                proto: mp,
                sport,
                dport,
            } => {
                let pname = if *mp == 6 { "tcp" } else { "udp" };
                let (slot, long) = match opt {
                    "source-port" | "sport" => (sport, "--source-port"),
                    "destination-port" | "dport" => (dport, "--destination-port"),
                    other => return Err(ctx.unmodelled(format!("--{other}"))),
                };
                if slot.is_some() {
                    return Err(if *mp == 6 {
                        ctx.usage(format!("Only one `{long}' allowed"))
                    } else {
                        ctx.usage_nl(format!("{pname}: option \"{long}\" can only be used once."))
                    });
                }
                let r = parse_port_range(&a, pname, ctx)?;
                let full = r.lo == 0 && r.hi == 0xffff;
                *slot = Some(if full && !inv { None } else { Some((r, inv)) });
            }
            Pm::Icmp(v) => {
                if v.is_some() {
                    return Err(ctx.usage_nl("icmp: option \"--icmp-type\" can only be used once."));
                }
                let (t, c) = parse_icmp_type(&a, ctx)?;
                *v = Some((t, c, inv));
            }
            Pm::Nfacct(v) => {
                if v.is_some() {
                    return Err(
                        ctx.usage_nl("nfacct: option \"--nfacct-name\" can only be used once.")
                    );
                }
                *v = Some(a.clone());
            }
            Pm::Comment(v) => {
                if v.is_some() {
                    return Err(
                        ctx.usage_nl("comment: option \"--comment\" can only be used once.")
                    );
                }
                *v = Some(truncate_bytes(&a, 255));
            }
            Pm::Statistic {
                mode,
                probability,
                every,
                packet,
                neg,
            } => match opt {
                "mode" => {
                    *mode = Some(match a.as_str() {
                        "random" => true,
                        "nth" => false,
                        _ => return Err(ctx.usage(format!("Bad mode \"{a}\""))),
                    });
                }
                "probability" => {
                    let p = parse_probability(&a).ok_or_else(|| {
                        ctx.usage_nl("statistic: bad value for option \"--probability\", or out of range (0-1).")
                    })?;
                    *probability = Some(p);
                    *neg |= inv;
                }
                "every" => {
                    let n = parse_uint(&a)
                        .filter(|n| *n >= 1 && *n <= u64::from(u32::MAX))
                        .ok_or_else(|| {
                            ctx.usage_nl("statistic: bad value for option \"--every\", or out of range (1-4294967295).")
                        })?;
                    *every = Some(n as u32);
                    *neg |= inv;
                }
                _ => {
                    let n = parse_uint(&a)
                        .filter(|n| *n <= u64::from(u32::MAX))
                        .ok_or_else(|| {
                            ctx.usage_nl("statistic: bad value for option \"--packet\", or out of range (0-4294967295).")
                        })?;
                    *packet = Some(n as u32);
                }
            },
            Pm::Mark(v) => {
                let (val, mask) = parse_mark(&a, "mark", "--mark", ctx)?;
                *v = Some((val, mask, inv));
            }
            Pm::Conntrack(v) => {
                if opt != "ctstate" {
                    return Err(ctx.unmodelled(format!("--{opt}")));
                }
                let s = parse_states(&a, true)
                    .ok_or_else(|| ctx.usage(format!("Bad ctstate \"{}\"", bad_state(&a, true))))?;
                *v = Some((s, inv));
            }
            Pm::State(v) => {
                let s = parse_states(&a, false)
                    .ok_or_else(|| ctx.usage(format!("Bad state \"{}\"", bad_state(&a, false))))?;
                *v = Some((s, inv));
            }
            Pm::Addrtype {
                src,
                dst,
                limit_in,
                limit_out,
            } => match opt {
                "src-type" | "dst-type" => {
                    let t = parse_addrtype(&a, ctx)?;
                    if opt == "src-type" {
                        *src = Some((t, inv));
                    } else {
                        *dst = Some((t, inv));
                    }
                }
                "limit-iface-in" => *limit_in = true,
                _ => *limit_out = true,
            },
            Pm::Multiport(v) => {
                let (which, long) = match opt {
                    "source-ports" | "sports" => ("sports", "--source-ports"),
                    "destination-ports" | "dports" => ("dports", "--destination-ports"),
                    _ => ("ports", "--ports"),
                };
                if let Some((old, _, _)) = v {
                    let old_long = match *old {
                        "sports" => "--source-ports",
                        "dports" => "--destination-ports",
                        _ => "--ports",
                    };
                    return Err(if old_long == long {
                        ctx.usage_nl(format!(
                            "multiport: option \"{long}\" can only be used once."
                        ))
                    } else {
                        ctx.usage_nl(format!(
                            "multiport: option \"{long}\" cannot be used together with \"{old_long}\"."
                        ))
                    });
                }
                if !matches!(proto, 6 | 17 | 33 | 132 | 136) || self.spec.proto.is_some_and(|p| p.1)
                {
                    return Err(if proto == 0 || self.spec.proto.is_some_and(|p| p.1) {
                        ctx.usage("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'")
                    } else {
                        ctx.usage("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")
                    });
                }
                let pname = if proto == 17 { "udp" } else { "tcp" };
                let ports = parse_multiport(&a, pname, ctx)?;
                *v = Some((which, ports, inv));
            }
            Pm::Set(v) => {
                // libxt_set set_parse_v4, in its order of checks.
                if opt != "match-set" {
                    return Err(ctx.unmodelled(format!("-m set --{opt}")));
                }
                if v.is_some() {
                    return Err(ctx.usage("--match-set can be specified only once"));
                }
                let dirs = match self.args.get(self.i) {
                    Some(d) if !d.starts_with('-') && !d.starts_with('!') => *d,
                    _ => return Err(ctx.usage("--match-set requires two args.")),
                };
                if a.len() > super::ipset::MAX_NAME_LEN {
                    return Err(ctx.usage(format!(
                        "setname `{a}' too long, max {} characters.",
                        super::ipset::MAX_NAME_LEN
                    )));
                }
                if self.sets.get(&a).is_none() {
                    return Err(ctx.usage_nl(format!("Set {a} doesn't exist.")));
                }
                *v = Some((a.clone(), parse_set_dirs(dirs, ctx)?, inv));
                self.i += 1;
            }
            Pm::Physdev { pin, pout, bridged } => match opt {
                "physdev-in" => *pin = Some((parse_iface(&a, ctx)?, inv)),
                "physdev-out" => *pout = Some((parse_iface(&a, ctx)?, inv)),
                "physdev-is-bridged" => *bridged = Some(inv),
                other => return Err(ctx.unmodelled(format!("--{other}"))),
            },
        }
        Ok(())
    }

    fn target_option(
        &mut self,
        opt: &str,
        arg: Option<String>,
        inv: bool,
    ) -> Result<(), IptablesError> {
        let ctx = self.ctx;
        if inv {
            return Err(ctx.usage(format!("cannot have ! before --{opt}")));
        }
        let a = arg.unwrap_or_default();
        let Some(t) = self.spec.target.as_mut() else {
            return Err(ctx.usage(format!("unknown option \"--{opt}\"")));
        };
        match t {
            Pt::Reject(w) => {
                if w.is_some() {
                    return Err(
                        ctx.usage_nl("REJECT: option \"--reject-with\" can only be used once.")
                    );
                }
                *w = Some(
                    parse_reject_with(&a)
                        .ok_or_else(|| ctx.usage(format!("unknown reject type \"{a}\"")))?,
                );
            }
            Pt::Dnat(r) | Pt::Snat(r) => {
                let (tname, long) = if opt == "to-destination" {
                    ("DNAT", "--to-destination")
                } else if opt == "to-source" {
                    ("SNAT", "--to-source")
                } else {
                    return Err(ctx.unmodelled(format!("NAT option --{opt}")));
                };
                if r.is_some() {
                    return Err(
                        ctx.usage_nl(format!("{tname}: option \"{long}\" can only be used once."))
                    );
                }
                *r = Some(parse_nat_range(&a, ctx)?);
            }
            Pt::Masquerade {
                ports,
                random,
                random_fully,
            } => match opt {
                "to-ports" => *ports = Some(parse_nat_ports(&a, ctx)?),
                "random" => *random = true,
                _ => *random_fully = true,
            },
            Pt::Mark(v) => {
                if v.is_some() {
                    return Err(ctx.usage_nl(format!(
                        "MARK: option \"--{opt}\" cannot be used together with another mark option."
                    )));
                }
                let long = format!("--{opt}");
                let (val, mask) = match opt {
                    "set-xmark" | "set-mark" => parse_mark(&a, "MARK", &long, ctx)?,
                    _ => {
                        let (n, _) = parse_mark(&a, "MARK", &long, ctx)?;
                        match opt {
                            "and-mark" => (0, !n),
                            "or-mark" => (n, n),
                            _ => (n, 0),
                        }
                    }
                };
                *v = Some((val, mask));
            }
            Pt::Log { level, prefix } => match opt {
                "log-level" => {
                    *level = Some(
                        parse_log_level(&a)
                            .ok_or_else(|| ctx.usage_nl(format!("log level \"{a}\" unknown")))?,
                    );
                }
                "log-prefix" => {
                    if a.is_empty() {
                        return Err(
                            ctx.usage_nl("Argument must have a minimum length of 1 characters")
                        );
                    }
                    *prefix = Some(truncate_bytes(&a, 29));
                }
                other => return Err(ctx.unmodelled(format!("LOG --{other}"))),
            },
            Pt::Ct(n) => {
                if opt != "notrack" {
                    return Err(ctx.unmodelled(format!("CT --{opt}")));
                }
                *n = true;
            }
            _ => return Err(ctx.usage(format!("unknown option \"--{opt}\""))),
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Parsed, IptablesError> {
        let ctx = self.ctx;
        if self.invert {
            return Err(ctx.usage("no command specified"));
        }
        let Some(cmd) = self.cmd.take() else {
            return Err(ctx.usage("no command specified"));
        };
        // generic_opt_check: list options only with -L, rule options only with rule commands.
        if let Some(o) = &self.list_opt {
            if !matches!(cmd, Cmd::List(..)) {
                return Err(ctx.usage(format!("Illegal option `{o}' with this command")));
            }
        }
        if let Some(o) = &self.first_rule_opt {
            if !cmd.takes_rule() {
                return Err(ctx.usage(format!("Illegal option `{o}' with this command")));
            }
        }
        // The extensions' final checks (x6_fcheck).
        let proto = self.spec.proto;
        let port_proto_ok = matches!(proto, Some((6 | 17 | 33 | 132, false)));
        for m in &self.spec.matches {
            match m {
                Pm::Ports { proto: want, .. } if proto.map(|p| p.0) != Some(*want) => {
                    let (up, low) = if *want == 6 {
                        ("TCP", "tcp")
                    } else {
                        ("UDP", "udp")
                    };
                    return Err(ctx.usage(format!("{up} match requires '-p {low}'")));
                }
                Pm::Icmp(None) => {
                    return Err(ctx.usage_nl("icmp: option \"--icmp-type\" must be specified"));
                }
                Pm::Comment(None) => {
                    return Err(ctx.usage_nl("comment: option \"--comment\" must be specified"));
                }
                Pm::Nfacct(None) => {
                    return Err(ctx.usage_nl("nfacct: option \"--nfacct-name\" must be specified"));
                }
                Pm::Statistic {
                    mode,
                    probability,
                    every,
                    packet,
                    ..
                } => match mode {
                    _ if probability.is_some() && every.is_some() => {
                        return Err(ctx.usage_nl(
                            "statistic: option \"--probability\" cannot be used together with \"--every\".",
                        ));
                    }
                    None if probability.is_some() || every.is_some() => {
                        return Err(ctx.usage_nl("statistic: option \"--mode\" must be specified"));
                    }
                    None | Some(true) => {
                        if probability.is_none() {
                            return Err(
                                ctx.usage("--probability must be specified when using random mode")
                            );
                        }
                    }
                    Some(false) => {
                        // --every defaults to 1; --every needs --packet.
                        if every.is_some() && packet.is_none() {
                            return Err(ctx.usage_nl(
                                "statistic: option \"--every\" also requires \"--packet\".",
                            ));
                        }
                        if packet.unwrap_or(0) >= every.unwrap_or(1) {
                            return Err(ctx.usage("the --packet p must be 0 <= p <= n-1"));
                        }
                    }
                },
                Pm::Mark(None) => {
                    return Err(ctx.usage_nl("mark: option \"--mark\" must be specified"));
                }
                Pm::Conntrack(None) => {
                    return Err(ctx.usage("conntrack: At least one option is required"));
                }
                Pm::State(None) => {
                    return Err(ctx.usage_nl("state: option \"--state\" must be specified"));
                }
                Pm::Addrtype {
                    limit_in: true,
                    limit_out: true,
                    ..
                } => {
                    return Err(ctx.usage_nl("addrtype: option \"--limit-iface-in\" cannot be used together with \"--limit-iface-out\"."));
                }
                Pm::Addrtype {
                    src: None,
                    dst: None,
                    ..
                } => {
                    return Err(ctx.usage("addrtype: you must specify --src-type or --dst-type"));
                }
                Pm::Multiport(None) => {
                    return Err(ctx.usage("multiport expection an option"));
                }
                Pm::Physdev {
                    pin: None,
                    pout: None,
                    bridged: None,
                } => {
                    return Err(ctx.usage("PHYSDEV: no physdev option specified"));
                }
                Pm::Set(None) => {
                    return Err(ctx.usage("You must specify `--match-set' with proper arguments"));
                }
                _ => {}
            }
        }
        if let Some(t) = &self.spec.target {
            match t {
                Pt::Dnat(None) => {
                    return Err(ctx.usage_nl("DNAT: option \"--to-destination\" must be specified"));
                }
                Pt::Snat(None) => {
                    return Err(ctx.usage_nl("SNAT: option \"--to-source\" must be specified"));
                }
                Pt::Dnat(Some(r)) | Pt::Snat(Some(r)) if r.ports.is_some() && !port_proto_ok => {
                    return Err(ctx.usage("Need TCP, UDP, SCTP or DCCP with port specification"));
                }
                Pt::Masquerade { ports: Some(_), .. } if !port_proto_ok => {
                    return Err(ctx.usage("Need TCP, UDP, SCTP or DCCP with port specification"));
                }
                Pt::Mark(None) => {
                    return Err(ctx.usage(
                        "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
                    ));
                }
                Pt::Ct(false) => return Err(ctx.unmodelled("-j CT without --notrack")),
                _ => {}
            }
        }
        let table = self.table.clone().unwrap_or_else(|| "filter".to_string());
        // Chain names given to the command (xshared.c checks their length).
        let chain_arg = match &cmd {
            Cmd::Append(c) | Cmd::Insert(c, _) | Cmd::Delete(c, _) | Cmd::Replace(c, _) => {
                Some(c.as_str())
            }
            Cmd::Policy(c, _) => Some(c.as_str()),
            _ => None,
        };
        if let Some(c) = chain_arg {
            if c.len() >= 29 {
                return Err(ctx.usage(format!(
                    "chain name `{c}' too long (must be under 29 chars)"
                )));
            }
        }
        if let Some(c) = chain_arg {
            if cmd.takes_rule() {
                let bad = match c {
                    "PREROUTING" | "INPUT" if self.spec.iout.is_some() => Some('o'),
                    "POSTROUTING" | "OUTPUT" if self.spec.iin.is_some() => Some('i'),
                    _ => None,
                };
                if let Some(o) = bad {
                    return Err(ctx.usage_nl(format!("Can't use -{o} with {c}")));
                }
            }
        }
        if table == "nat" {
            let drop_policy = matches!(&cmd, Cmd::Policy(_, p) if p == "DROP");
            let drop_target = matches!(self.spec.target, Some(Pt::Drop));
            if drop_policy || (drop_target && cmd.takes_rule()) {
                return Err(ctx.usage(
                    "\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n",
                ));
            }
        }
        Ok(Parsed {
            cmd,
            table,
            numeric: self.numeric,
            verbose: self.verbose,
            exact: self.exact,
            line_numbers: self.line_numbers,
            zero: self.zero,
            spec: self.spec,
        })
    }
}

fn load_target(name: &str, goto: bool, ctx: &IptablesCtx) -> Result<Pt, IptablesError> {
    if goto {
        return Ok(Pt::Chain(name.to_string()));
    }
    Ok(match name {
        "ACCEPT" => Pt::Accept,
        "DROP" => Pt::Drop,
        "RETURN" => Pt::Return,
        "REJECT" => Pt::Reject(None),
        "DNAT" => Pt::Dnat(None),
        "SNAT" => Pt::Snat(None),
        "MASQUERADE" => Pt::Masquerade {
            ports: None,
            random: false,
            random_fully: false,
        },
        "MARK" => Pt::Mark(None),
        "LOG" => Pt::Log {
            level: None,
            prefix: None,
        },
        "CT" => Pt::Ct(false),
        "NOTRACK" => Pt::Notrack,
        "TRACE" => Pt::Trace,
        other if UNMODELLED_TARGETS.contains(&other) => {
            return Err(ctx.unmodelled(format!("target {other}")));
        }
        other => Pt::Chain(other.to_string()),
    })
}

// ---------------------------------------------------------------------------------------
// Value parsers
// ---------------------------------------------------------------------------------------

/// The directions of `--match-set` (libxt_set `parse_dirs`): up to 6 comma-separated
/// words, each starting with `src` or `dst` (only the first three letters count).
fn parse_set_dirs(s: &str, ctx: &IptablesCtx) -> Result<Vec<bool>, IptablesError> {
    let mut dirs = Vec::new();
    let mut parts = s.split(',');
    for p in parts.by_ref() {
        if p.starts_with("src") {
            dirs.push(true);
        } else if p.starts_with("dst") {
            dirs.push(false);
        } else {
            return Err(ctx.usage("You must spefify (the comma separated list of) 'src' or 'dst'."));
        }
        if dirs.len() == 6 {
            break;
        }
    }
    if parts.next().is_some() {
        return Err(ctx.usage("Can't be more src/dst options than 6."));
    }
    Ok(dirs)
}

fn parse_rulenum(s: &str, ctx: &IptablesCtx) -> Result<usize, IptablesError> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 && n <= i32::MAX as usize => Ok(n),
        _ => Err(ctx.usage(format!("Invalid rule number `{s}'"))),
    }
}

/// `strtoul(s, 0)`-style unsigned parse: decimal, `0x` hex or leading-`0` octal.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let s = s.trim_start_matches('+');
    if s.is_empty() {
        return None;
    }
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if s.len() > 1 && s.starts_with('0') {
        return u64::from_str_radix(&s[1..], 8).ok();
    }
    s.parse().ok()
}

/// An IPv4 address as iptables reads it: 1 to 4 dotted decimal parts, missing ones zero
/// (`10.1` is 10.1.0.0), or `localhost`.
pub(crate) fn parse_ipv4_loose(s: &str) -> Option<Ipv4Addr> {
    if s == "localhost" {
        return Some(Ipv4Addr::LOCALHOST);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut b = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 3 {
            return None;
        }
        b[i] = p.parse::<u8>().ok()?;
    }
    Some(Ipv4Addr::from(b))
}

/// `-s`/`-d`: `ADDR[/LEN|/MASK]`, the address masked to the network.
fn parse_host_net(s: &str, ctx: &IptablesCtx) -> Result<Ipv4Net, IptablesError> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let len = match m {
        None => 32,
        Some(m) if m.contains('.') => {
            let mask = parse_ipv4_loose(m)
                .filter(|_| m.split('.').count() == 4)
                .ok_or_else(|| ctx.usage(format!("invalid mask `{m}' specified")))?;
            let bits = u32::from(mask);
            let len = bits.leading_ones();
            if bits.checked_shl(len).unwrap_or(0) != 0 {
                return Err(ctx.unmodelled(format!("the non-contiguous mask {m}")));
            }
            len as u8
        }
        Some(m) => match m.parse::<u8>() {
            Ok(l) if l <= 32 && !m.starts_with('+') => l,
            _ => return Err(ctx.usage(format!("invalid mask `{m}' specified"))),
        },
    };
    let addr =
        parse_ipv4_loose(a).ok_or_else(|| ctx.usage(format!("host/network `{a}' not found")))?;
    Ipv4Net::new(addr, len)
        .map(|n| n.trunc())
        .map_err(|_| ctx.usage(format!("invalid mask `{len}' specified")))
}

/// `-p NAME|NUMBER` (names case-insensitively, from iptables' own list and /etc/protocols).
pub(crate) fn parse_protocol(s: &str) -> Option<u8> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse::<u8>().ok();
    }
    let l = s.to_ascii_lowercase();
    if l == "all" {
        return Some(0);
    }
    PROTOCOLS
        .iter()
        .find(|(_, n, al)| *n == l || al.iter().any(|a| a.eq_ignore_ascii_case(&l)))
        .map(|(n, _, _)| *n)
}

/// The name iptables prints for a protocol number (`-p` in `iptables-save`, the prot
/// column without `-n`), or `None` when it prints the number.
pub(crate) fn protocol_name(n: u8) -> Option<&'static str> {
    if n == 0 {
        return Some("all");
    }
    PROTOCOLS
        .iter()
        .find(|(p, _, _)| *p == n)
        .map(|(_, name, _)| *name)
}

fn parse_iface(s: &str, ctx: &IptablesCtx) -> Result<String, IptablesError> {
    if s.is_empty() {
        return Err(ctx.usage("Empty interface is likely to be undesired"));
    }
    if s.len() > 15 {
        return Err(ctx.usage(format!(
            "interface name `{s}' must be shorter than IFNAMSIZ (15)"
        )));
    }
    Ok(s.to_string())
}

/// One port: a number or a service name for `proto`.
fn parse_port(s: &str, proto: &str) -> Option<u16> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse::<u16>().ok();
    }
    service_port(s, proto)
}

/// `--dport A[:B]` (`A:` and `:B` are open ranges).
fn parse_port_range(s: &str, proto: &str, ctx: &IptablesCtx) -> Result<PortRange, IptablesError> {
    let bad = |p: &str| ctx.usage(format!("invalid port/service `{p}' specified"));
    let (lo, hi) = match s.split_once(':') {
        None => {
            let p = parse_port(s, proto).ok_or_else(|| bad(s))?;
            (p, p)
        }
        Some((a, b)) => {
            let lo = if a.is_empty() {
                0
            } else {
                parse_port(a, proto).ok_or_else(|| bad(a))?
            };
            let hi = if b.is_empty() {
                0xffff
            } else {
                parse_port(b, proto).ok_or_else(|| bad(b))?
            };
            (lo, hi)
        }
    };
    if lo > hi {
        return Err(ctx.usage("invalid portrange (min > max)"));
    }
    Ok(PortRange { lo, hi })
}

/// `-m multiport --dports 80,443,8000:8080` (at most 15 ports, a range counting two).
fn parse_multiport(
    s: &str,
    proto: &str,
    ctx: &IptablesCtx,
) -> Result<Vec<PortRange>, IptablesError> {
    let mut out = Vec::new();
    let mut slots = 0;
    for part in s.split(',') {
        let bad = |p: &str| ctx.usage(format!("invalid port/service `{p}' specified"));
        let r = match part.split_once(':') {
            Some((a, b)) => {
                let lo = parse_port(a, proto).ok_or_else(|| bad(a))?;
                let hi = parse_port(b, proto).ok_or_else(|| bad(b))?;
                if lo > hi {
                    return Err(ctx.usage("invalid portrange specified"));
                }
                slots += 2;
                PortRange { lo, hi }
            }
            None => {
                let p = parse_port(part, proto).ok_or_else(|| bad(part))?;
                slots += 1;
                PortRange { lo: p, hi: p }
            }
        };
        if slots > 15 {
            return Err(ctx.usage("too many ports specified"));
        }
        out.push(r);
    }
    Ok(out)
}

/// `--icmp-type NAME|TYPE[/CODE]|any` (names by case-insensitive prefix, as libxt_icmp).
fn parse_icmp_type(s: &str, ctx: &IptablesCtx) -> Result<(u8, Option<u8>), IptablesError> {
    let hits: Vec<&(&str, u8, u8, u8)> = ICMP_CODES
        .iter()
        .filter(|(n, ..)| n.len() >= s.len() && n[..s.len()].eq_ignore_ascii_case(s))
        .collect();
    if !s.is_empty() {
        if let Some(first) = hits.first() {
            if let Some(other) = hits
                .iter()
                .find(|h| (h.1, h.2, h.3) != (first.1, first.2, first.3))
            {
                return Err(ctx.usage(format!(
                    "Ambiguous ICMP type `{s}': `{}' or `{}'?",
                    first.0, other.0
                )));
            }
            let code = if first.2 == 0 && first.3 == 0xff {
                None
            } else {
                Some(first.2)
            };
            return Ok((first.1, code));
        }
    }
    let (t, c) = match s.split_once('/') {
        Some((t, c)) => (t, Some(c)),
        None => (s, None),
    };
    let ty = t
        .parse::<u8>()
        .ok()
        .filter(|_| t.chars().all(|ch| ch.is_ascii_digit()))
        .ok_or_else(|| ctx.usage(format!("Unknown ICMP type `{s}'")))?;
    let code = match c {
        None => None,
        Some(c) => Some(
            c.parse::<u8>()
                .ok()
                .filter(|_| c.chars().all(|ch| ch.is_ascii_digit()))
                .ok_or_else(|| ctx.usage(format!("Unknown ICMP code `{s}'")))?,
        ),
    };
    Ok((ty, code))
}

/// `--probability P` as libxt_statistic stores it: `lround(0x80000000 * P)`.
pub(crate) fn parse_probability(s: &str) -> Option<u32> {
    let t = s.trim();
    if t.is_empty() || t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
        return None;
    }
    let p: f64 = t.parse().ok()?;
    if !(0.0..=1.0).contains(&p) {
        return None;
    }
    Some((p * 2147483648.0).round() as u32)
}

/// The probability a threshold stands for, as iptables prints it (`%.11f`).
pub fn probability_text(threshold: u32) -> String {
    format!("{:.11}", f64::from(threshold) / 2147483648.0)
}

/// `VALUE[/MASK]` for `-m mark --mark` and the MARK target.
fn parse_mark(
    s: &str,
    ext: &str,
    long: &str,
    ctx: &IptablesCtx,
) -> Result<(u32, u32), IptablesError> {
    let bad = || {
        ctx.usage_nl(format!(
            "{ext}: bad integer value for option \"{long}\", or out of range."
        ))
    };
    let num = |x: &str| -> Result<u32, IptablesError> {
        parse_uint(x)
            .filter(|n| *n <= u64::from(u32::MAX))
            .map(|n| n as u32)
            .ok_or_else(bad)
    };
    match s.split_once('/') {
        None => Ok((num(s)?, u32::MAX)),
        Some((v, m)) => {
            if m.contains('/') {
                return Err(ctx.usage_nl(format!(
                    "{ext}: trailing garbage after value for option \"{long}\"."
                )));
            }
            Ok((num(v)?, num(m)?))
        }
    }
}

const CT_NAMES: [&str; 7] = [
    "INVALID",
    "NEW",
    "RELATED",
    "ESTABLISHED",
    "UNTRACKED",
    "SNAT",
    "DNAT",
];

fn parse_states(s: &str, ctstate: bool) -> Option<CtStates> {
    let mut st = CtStates::default();
    for part in s.split(',') {
        match part.to_ascii_uppercase().as_str() {
            "INVALID" => st.invalid = true,
            "NEW" => st.new = true,
            "RELATED" => st.related = true,
            "ESTABLISHED" => st.established = true,
            "UNTRACKED" => st.untracked = true,
            "SNAT" if ctstate => st.snat = true,
            "DNAT" if ctstate => st.dnat = true,
            _ => return None,
        }
    }
    Some(st)
}

fn bad_state(s: &str, ctstate: bool) -> String {
    s.split(',')
        .find(|p| {
            let u = p.to_ascii_uppercase();
            let n = if ctstate { 7 } else { 5 };
            !CT_NAMES[..n].contains(&u.as_str())
        })
        .unwrap_or(s)
        .to_string()
}

/// The states in the order iptables prints them.
pub(crate) fn states_text(s: &CtStates) -> String {
    let flags = [
        s.invalid,
        s.new,
        s.related,
        s.established,
        s.untracked,
        s.snat,
        s.dnat,
    ];
    let v: Vec<&str> = CT_NAMES
        .iter()
        .zip(flags)
        .filter(|(_, f)| *f)
        .map(|(n, _)| *n)
        .collect();
    v.join(",")
}

fn parse_addrtype(s: &str, ctx: &IptablesCtx) -> Result<AddrType, IptablesError> {
    const ALL: &[&str] = &[
        "UNSPEC",
        "UNICAST",
        "LOCAL",
        "BROADCAST",
        "ANYCAST",
        "MULTICAST",
        "BLACKHOLE",
        "UNREACHABLE",
        "PROHIBIT",
        "THROW",
        "NAT",
        "XRESOLVE",
    ];
    let mut found = Vec::new();
    for part in s.split(',') {
        let u = part.to_ascii_uppercase();
        if !ALL.contains(&u.as_str()) {
            return Err(ctx.usage(format!("addrtype: bad type \"{part}\"")));
        }
        found.push(u);
    }
    match found.as_slice() {
        [one] => match one.as_str() {
            "LOCAL" => Ok(AddrType::Local),
            "UNICAST" => Ok(AddrType::Unicast),
            "BROADCAST" => Ok(AddrType::Broadcast),
            "MULTICAST" => Ok(AddrType::Multicast),
            other => Err(ctx.unmodelled(format!("addrtype {other}"))),
        },
        _ => Err(ctx.unmodelled(format!("an addrtype list ({s})"))),
    }
}

/// The name of an address type.
pub(crate) fn addrtype_name(t: AddrType) -> &'static str {
    match t {
        AddrType::Local => "LOCAL",
        AddrType::Unicast => "UNICAST",
        AddrType::Broadcast => "BROADCAST",
        AddrType::Multicast => "MULTICAST",
    }
}

fn parse_reject_with(s: &str) -> Option<RejectWith> {
    Some(match s {
        "icmp-net-unreachable" | "net-unreach" => RejectWith::IcmpNetUnreachable,
        "icmp-host-unreachable" | "host-unreach" => RejectWith::IcmpHostUnreachable,
        "icmp-proto-unreachable" | "proto-unreach" => RejectWith::IcmpProtoUnreachable,
        "icmp-port-unreachable" | "port-unreach" => RejectWith::IcmpPortUnreachable,
        "icmp-net-prohibited" | "net-prohib" => RejectWith::IcmpNetProhibited,
        "icmp-host-prohibited" | "host-prohib" => RejectWith::IcmpHostProhibited,
        "icmp-admin-prohibited" | "admin-prohib" => RejectWith::IcmpAdminProhibited,
        "tcp-reset" | "tcp-rst" => RejectWith::TcpReset,
        _ => return None,
    })
}

/// `--to-destination [IP[-IP]][:PORT[-PORT]]`.
fn parse_nat_range(s: &str, ctx: &IptablesCtx) -> Result<NatRange, IptablesError> {
    let (ips, ports) = match s.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip = |x: &str| -> Result<Ipv4Addr, IptablesError> {
        x.parse::<Ipv4Addr>()
            .map_err(|_| ctx.usage(format!("Bad IP address \"{x}\"")))
    };
    let (lo, hi) = if ips.is_empty() {
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
    } else {
        match ips.split_once('-') {
            Some((a, b)) => (ip(a)?, ip(b)?),
            None => {
                let a = ip(ips)?;
                (a, a)
            }
        }
    };
    let ports = match ports {
        None => None,
        Some(p) => Some(parse_nat_ports(p, ctx)?),
    };
    Ok(NatRange {
        addr_lo: lo,
        addr_hi: hi,
        ports,
    })
}

/// `PORT[-PORT]` of a NAT target.
fn parse_nat_ports(s: &str, ctx: &IptablesCtx) -> Result<PortRange, IptablesError> {
    if s.contains('/') {
        return Err(ctx.unmodelled(format!("the shifted NAT port range {s}")));
    }
    let port = |x: &str| -> Result<u16, IptablesError> {
        x.parse::<u16>()
            .ok()
            .filter(|_| x.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| ctx.usage(format!("Port `{x}' not valid")))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let lo = port(a)?;
            let hi = port(b)?;
            if hi < lo {
                return Err(ctx.usage(format!("Port range `{b}' funky")));
            }
            Ok(PortRange { lo, hi })
        }
        None => {
            let p = port(s)?;
            Ok(PortRange { lo: p, hi: p })
        }
    }
}

fn parse_log_level(s: &str) -> Option<u8> {
    if let Ok(n) = s.parse::<u8>() {
        return (n <= 7).then_some(n);
    }
    Some(match s {
        "emerg" | "panic" => 0,
        "alert" => 1,
        "crit" => 2,
        "error" => 3,
        "warning" => 4,
        "notice" => 5,
        "info" => 6,
        "debug" => 7,
        _ => return None,
    })
}

/// The first `max` bytes of `s`, cut at a character boundary.
fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

// ---------------------------------------------------------------------------------------
// Building the rule
// ---------------------------------------------------------------------------------------

/// The rule a spec describes, in the canonical order (`-s -d -i -o -p`, then the matches in
/// the order given), with the target resolved against the table's chains.
/// Marker status: the rule jumps to a built-in chain, which the kernel refuses
/// (EOPNOTSUPP); the caller words the message with its operation and chain.
const JUMP_TO_BUILTIN: i32 = -1;

fn build_rule(spec: &Spec, table: &Table, ctx: &IptablesCtx) -> Result<Rule, IptablesError> {
    let mut matches = Vec::new();
    if let Some((net, neg)) = spec.src {
        if net.prefix_len() > 0 {
            matches.push(Match::Source { net, neg });
        }
    }
    if let Some((net, neg)) = spec.dst {
        if net.prefix_len() > 0 {
            matches.push(Match::Destination { net, neg });
        }
    }
    if let Some((name, neg)) = &spec.iin {
        if name != "+" {
            matches.push(Match::InInterface {
                name: name.clone(),
                neg: *neg,
            });
        }
    }
    if let Some((name, neg)) = &spec.iout {
        if name != "+" {
            matches.push(Match::OutInterface {
                name: name.clone(),
                neg: *neg,
            });
        }
    }
    if let Some((proto, neg)) = spec.proto {
        if proto != 0 {
            matches.push(Match::Protocol { proto, neg });
        }
    }
    for m in &spec.matches {
        matches.push(match m {
            Pm::Ports {
                proto,
                sport,
                dport,
            } => Match::Ports {
                proto: *proto,
                sport: sport.flatten(),
                dport: dport.flatten(),
            },
            Pm::Icmp(v) => {
                let (icmp_type, code, neg) = v.unwrap_or((255, None, false));
                Match::Icmp {
                    icmp_type,
                    code,
                    neg,
                }
            }
            Pm::Comment(t) => Match::Comment {
                text: t.clone().unwrap_or_default(),
            },
            Pm::Nfacct(n) => Match::Nfacct {
                name: n.clone().unwrap_or_default(),
            },
            Pm::Statistic {
                mode,
                probability,
                every,
                packet,
                neg,
            } => {
                if *mode != Some(false) {
                    Match::StatisticRandom {
                        threshold: probability.unwrap_or(0),
                        neg: *neg,
                    }
                } else {
                    Match::StatisticNth {
                        every: every.unwrap_or(1),
                        packet: packet.unwrap_or(0),
                        neg: *neg,
                    }
                }
            }
            Pm::Mark(v) => {
                let (value, mask, neg) = v.unwrap_or((0, u32::MAX, false));
                Match::Mark { value, mask, neg }
            }
            Pm::Conntrack(v) | Pm::State(v) => {
                let (states, neg) = v.unwrap_or_default();
                Match::CtState {
                    states,
                    neg,
                    legacy_state: matches!(m, Pm::State(_)),
                }
            }
            Pm::Addrtype {
                src,
                dst,
                limit_in,
                limit_out,
            } => Match::AddrType {
                src: *src,
                dst: *dst,
                limit_iface_in: *limit_in,
                limit_iface_out: *limit_out,
            },
            Pm::Multiport(v) => {
                let (which, ports, neg) = v.clone().unwrap_or(("dports", Vec::new(), false));
                Match::Multiport {
                    which: which.to_string(),
                    ports,
                    neg,
                }
            }
            Pm::Physdev { pin, pout, bridged } => Match::Physdev {
                physdev_in: pin.clone(),
                physdev_out: pout.clone(),
                is_bridged: *bridged,
            },
            Pm::Set(v) => {
                let (name, dirs, neg) = v.clone().unwrap_or_default();
                Match::Set { name, dirs, neg }
            }
        });
    }
    let target = match &spec.target {
        None => Target::None,
        Some(t) => match t {
            Pt::Accept => Target::Accept,
            Pt::Drop => Target::Drop,
            Pt::Return => Target::Return,
            Pt::Chain(c) => {
                let is_user = table.chains.get(c).is_some_and(|ch| ch.policy.is_none());
                if table.chains.get(c).is_some_and(|ch| ch.policy.is_some()) {
                    return Err(IptablesError {
                        msg: String::new(),
                        status: JUMP_TO_BUILTIN,
                    });
                }
                if !is_user {
                    return Err(ctx.usage(format!("Chain '{c}' does not exist")));
                }
                if spec.goto {
                    Target::Goto { chain: c.clone() }
                } else {
                    Target::Jump { chain: c.clone() }
                }
            }
            Pt::Reject(w) => Target::Reject {
                with: w.unwrap_or(RejectWith::IcmpPortUnreachable),
            },
            Pt::Dnat(r) => Target::Dnat {
                to: r.unwrap_or(NatRange {
                    addr_lo: Ipv4Addr::UNSPECIFIED,
                    addr_hi: Ipv4Addr::UNSPECIFIED,
                    ports: None,
                }),
            },
            Pt::Snat(r) => Target::Snat {
                to: r.unwrap_or(NatRange {
                    addr_lo: Ipv4Addr::UNSPECIFIED,
                    addr_hi: Ipv4Addr::UNSPECIFIED,
                    ports: None,
                }),
            },
            Pt::Masquerade {
                ports,
                random,
                random_fully,
            } => Target::Masquerade {
                to_ports: *ports,
                random_fully: *random_fully,
                random: *random,
            },
            Pt::Mark(v) => {
                let (value, mask) = v.unwrap_or((0, u32::MAX));
                Target::Mark { value, mask }
            }
            Pt::Log { level, prefix } => Target::Log {
                prefix: prefix.clone(),
                // Level 4 (warning) is the default and is not saved: keep one form of it.
                level: level.filter(|l| *l != 4).map(|l| l.to_string()),
            },
            Pt::Ct(_) | Pt::Notrack => Target::Notrack,
            Pt::Trace => Target::Trace,
        },
    };
    Ok(Rule {
        matches,
        target,
        packets: 0,
        bytes: 0,
    })
}

// ---------------------------------------------------------------------------------------
// The kernel's checks
// ---------------------------------------------------------------------------------------

/// Bit of a hook in a hook mask.
fn hook_bit(h: Hook) -> u8 {
    1 << (h as u8)
}

/// For each chain, the hooks it can be reached from (built-in chains and what they jump to).
fn reaching_hooks(table: &Table) -> std::collections::HashMap<String, u8> {
    let mut reach: std::collections::HashMap<String, u8> = std::collections::HashMap::new();
    let mut work: Vec<(String, u8)> = Vec::new();
    for name in table.chains.keys() {
        if let Some(h) = Hook::from_chain(name) {
            if table.chains[name].policy.is_some() {
                work.push((name.clone(), hook_bit(h)));
            }
        }
    }
    while let Some((name, mask)) = work.pop() {
        let cur = reach.entry(name.clone()).or_insert(0);
        if *cur & mask == mask {
            continue;
        }
        *cur |= mask;
        let all = *cur;
        if let Some(ch) = table.chains.get(&name) {
            for r in &ch.rules {
                if let Target::Jump { chain } | Target::Goto { chain } = &r.target {
                    work.push((chain.clone(), all));
                }
            }
        }
    }
    reach
}

/// The jump stack of nf_tables (`NFT_JUMP_STACK_SIZE`): a chain reached through this many
/// jumps or gotos from a built-in chain is refused with `EMLINK` ("Too many links"), and so
/// is any loop of jumps. Measured with iptables v1.8.9 (nf_tables), Linux 6.18: INPUT -> C1
/// -> ... -> C15 is accepted, one chain more is refused.
pub const MAX_JUMP_LEVELS: usize = 16;

/// Whether a chain sits [`MAX_JUMP_LEVELS`] jumps deep below a built-in chain, or a loop
/// of jumps is reachable from one (`nft_chain_validate`'s `EMLINK`). Chains nobody reaches
/// are not checked, as in the kernel. Recursion stops at the limit, so any table (even
/// thousands of chains in a line) is checked without deep recursion, and each chain's
/// height is computed once.
fn too_many_links(table: &Table) -> bool {
    /// The most jump levels below `name`, or `None` when that reaches the limit or loops.
    fn height(
        table: &Table,
        name: &str,
        depth: usize,
        memo: &mut std::collections::HashMap<String, usize>,
        stack: &mut Vec<String>,
    ) -> Option<usize> {
        if let Some(h) = memo.get(name) {
            return (depth + h < MAX_JUMP_LEVELS).then_some(*h);
        }
        if depth >= MAX_JUMP_LEVELS || stack.iter().any(|s| s == name) {
            return None;
        }
        stack.push(name.to_string());
        let mut h = 0;
        if let Some(ch) = table.chains.get(name) {
            for r in &ch.rules {
                if let Target::Jump { chain } | Target::Goto { chain } = &r.target {
                    h = h.max(1 + height(table, chain, depth + 1, memo, stack)?);
                }
            }
        }
        stack.pop();
        memo.insert(name.to_string(), h);
        Some(h)
    }
    let mut memo = std::collections::HashMap::new();
    table
        .chains
        .values()
        .filter(|c| c.policy.is_some())
        .any(|c| height(table, &c.name, 0, &mut memo, &mut Vec::new()).is_none())
}

/// Whether a rule is acceptable in `table` at the hooks in `mask` (xt_check_target and
/// xt_check_match: table and hook restrictions, protocol requirements).
fn rule_valid(rule: &Rule, table: TableName, mask: u8) -> bool {
    let only = |allowed: &[Hook]| {
        let ok: u8 = allowed.iter().map(|h| hook_bit(*h)).fold(0, |a, b| a | b);
        mask & !ok == 0
    };
    let proto = rule.matches.iter().find_map(|m| match m {
        Match::Protocol { proto, neg } => Some((*proto, *neg)),
        _ => None,
    });
    for m in &rule.matches {
        match m {
            Match::Icmp { .. } if proto != Some((1, false)) => return false,
            Match::Physdev {
                physdev_out,
                is_bridged,
                ..
            } if physdev_out.is_some()
                && is_bridged != &Some(false)
                && mask & hook_bit(Hook::Output) != 0 =>
            {
                return false;
            }
            Match::AddrType {
                limit_iface_in,
                limit_iface_out,
                ..
            } => {
                if *limit_iface_in && !only(&[Hook::Prerouting, Hook::Input, Hook::Forward]) {
                    return false;
                }
                if *limit_iface_out && !only(&[Hook::Postrouting, Hook::Output, Hook::Forward]) {
                    return false;
                }
            }
            _ => {}
        }
    }
    match &rule.target {
        Target::Dnat { .. } => table == TableName::Nat && only(&[Hook::Prerouting, Hook::Output]),
        Target::Snat { .. } => table == TableName::Nat && only(&[Hook::Postrouting, Hook::Input]),
        Target::Masquerade { .. } => table == TableName::Nat && only(&[Hook::Postrouting]),
        Target::Reject { with } => {
            table == TableName::Filter
                && (*with != RejectWith::TcpReset || proto == Some((6, false)))
        }
        Target::Notrack => table == TableName::Raw,
        _ => true,
    }
}

/// The kernel's verdict on a whole table: `Ok` or the errno text.
pub(crate) fn check_table(table: &Table) -> Result<(), &'static str> {
    if too_many_links(table) {
        return Err("Too many links");
    }
    let reach = reaching_hooks(table);
    for ch in table.chains.values() {
        let mask = reach.get(&ch.name).copied().unwrap_or(0);
        for r in &ch.rules {
            if !rule_valid(r, table.name, mask) {
                return Err("Invalid argument");
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Running a command
// ---------------------------------------------------------------------------------------

/// Names a user chain may not take (targets iptables can load).
fn is_target_name(s: &str) -> bool {
    MODELLED_TARGETS.contains(&s) || UNMODELLED_TARGETS.contains(&s)
}

/// Check a new chain name as iptables does (`assert_valid_chain_name`).
pub(crate) fn check_chain_name(name: &str, ctx: &IptablesCtx) -> Result<(), IptablesError> {
    if name.len() >= 29 {
        return Err(ctx.usage(format!(
            "chain name `{name}' too long (must be under 29 chars)"
        )));
    }
    if let Some(c) = name.chars().next().filter(|c| *c == '-' || *c == '!') {
        return Err(ctx.usage(format!("chain name not allowed to start with `{c}'")));
    }
    if is_target_name(name) {
        return Err(ctx.usage("chain name may not clash with target name"));
    }
    if name.chars().any(char::is_whitespace) || name.is_empty() {
        return Err(ctx.usage(format!("Invalid chain name `{name}'")));
    }
    Ok(())
}

fn no_chain(ctx: &IptablesCtx) -> IptablesError {
    ctx.plain("No chain/target/match by that name.", 1)
}

fn execute(nf: &mut Netfilter, p: Parsed, ctx: &IptablesCtx) -> Result<String, IptablesError> {
    match &p.cmd {
        Cmd::Help => return Ok(help_text(ctx)),
        Cmd::Version => return Ok(format!("{} {VERSION}\n", ctx.program)),
        _ => {}
    }
    let Some(tname) = TableName::parse(&p.table) else {
        return Err(IptablesError {
            msg: format!(
                "{} {VERSION}: table '{}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.",
                ctx.program, p.table
            ),
            status: 3,
        });
    };
    match &p.cmd {
        Cmd::List(chain, n) | Cmd::ListRules(chain, n) => {
            let out = match (&p.cmd, n) {
                (Cmd::List(..), Some(n)) => super::list::render_list_rule(
                    nf,
                    tname,
                    chain.as_deref().unwrap_or(""),
                    *n,
                    p.numeric,
                    p.verbose,
                    p.exact,
                    p.line_numbers,
                )?,
                (Cmd::List(..), None) => super::list::render_list(
                    nf,
                    tname,
                    chain.as_deref(),
                    p.numeric,
                    p.verbose,
                    p.exact,
                    p.line_numbers,
                )?,
                _ => super::list::render_rules(nf, tname, chain.as_deref(), *n, p.verbose)?,
            };
            if p.zero {
                let t = nf.table_mut(tname);
                for ch in t.chains.values_mut() {
                    if chain.as_ref().is_some_and(|c| *c != ch.name) {
                        continue;
                    }
                    ch.packets = 0;
                    ch.bytes = 0;
                    for r in &mut ch.rules {
                        r.packets = 0;
                        r.bytes = 0;
                    }
                }
            }
            return Ok(out);
        }
        _ => {}
    }
    // Appending a rule that jumps nowhere changes neither what reaches which chain nor the
    // jump depth: on a table the kernel accepted, only the new rule needs the kernel's
    // check, and it goes in place (a script of many thousand `iptables -A` lines stays
    // linear instead of copying and checking the whole table at every line).
    if let Cmd::Append(c) = &p.cmd {
        let table = nf.table(tname);
        if !p.spec.negated_any && table.chains.contains_key(c) {
            let rule = build_rule(&p.spec, table, ctx)
                .ok()
                .filter(|r| !matches!(r.target, Target::Jump { .. } | Target::Goto { .. }));
            if let Some(rule) = rule {
                let mask = if table.chains.get(c).is_some_and(|ch| ch.policy.is_some()) {
                    Hook::from_chain(c).map(hook_bit).unwrap_or(0)
                } else {
                    reaching_hooks(table).get(c).copied().unwrap_or(0)
                };
                if !rule_valid(&rule, tname, mask) {
                    return Err(ctx.kernel(
                        "RULE_APPEND",
                        "Invalid argument",
                        &format!("rule in chain {c}"),
                    ));
                }
                if let Some(ch) = nf.table_mut(tname).chains.get_mut(c) {
                    ch.rules.push(rule);
                }
                return Ok(String::new());
            }
        }
    }
    nf.fold_counters(tname);
    let mut table = nf.table(tname).clone();
    let (op, chain_name) = apply(&mut table, &p, ctx)?;
    if let Some(op) = op {
        if let Err(errno) = check_table(&table) {
            return Err(ctx.kernel(op, errno, &format!("rule in chain {chain_name}")));
        }
    }
    *nf.table_mut(tname) = table;
    Ok(String::new())
}

/// Apply a modifying command to a copy of the table. Returns the nf_tables operation name
/// when the kernel must check the result, and the chain the command named.
fn apply(
    table: &mut Table,
    p: &Parsed,
    ctx: &IptablesCtx,
) -> Result<(Option<&'static str>, String), IptablesError> {
    match &p.cmd {
        Cmd::Append(c) | Cmd::Insert(c, _) | Cmd::Replace(c, _) => {
            let rule = build_rule(&p.spec, table, ctx).map_err(|e| {
                if e.status == JUMP_TO_BUILTIN {
                    ctx.kernel(
                        op_name(&p.cmd),
                        "Operation not supported",
                        &format!("rule in chain {c}"),
                    )
                } else {
                    e
                }
            })?;
            if p.spec.negated_any {
                let op = op_name(&p.cmd);
                if table.chains.contains_key(c) {
                    return Err(ctx.kernel(op, "Invalid argument", &format!("rule in chain {c}")));
                }
            }
            let Some(ch) = table.chains.get_mut(c) else {
                return Err(no_chain(ctx));
            };
            match &p.cmd {
                Cmd::Append(_) => ch.rules.push(rule),
                Cmd::Insert(_, n) => {
                    if *n > ch.rules.len() + 1 {
                        return Err(ctx.plain("Index of insertion too big.", 1));
                    }
                    ch.rules.insert(n - 1, rule);
                }
                Cmd::Replace(_, n) => {
                    if *n > ch.rules.len() {
                        return Err(ctx.plain("Index of replacement too big.", 1));
                    }
                    ch.rules[n - 1] = rule;
                }
                _ => {}
            }
            Ok((Some(op_name(&p.cmd)), c.clone()))
        }
        Cmd::Delete(c, Some(n)) => {
            let Some(ch) = table.chains.get_mut(c) else {
                return Err(no_chain(ctx));
            };
            if *n > ch.rules.len() {
                return Err(ctx.plain("Index of deletion too big.", 1));
            }
            ch.rules.remove(n - 1);
            Ok((None, c.clone()))
        }
        Cmd::Delete(c, None) => {
            let rule = build_rule(&p.spec, table, ctx).map_err(|e| {
                if e.status == JUMP_TO_BUILTIN {
                    ctx.plain("Bad rule (does a matching rule exist in that chain?).", 1)
                } else {
                    e
                }
            })?;
            let Some(ch) = table.chains.get_mut(c) else {
                return Err(no_chain(ctx));
            };
            let Some(pos) = ch
                .rules
                .iter()
                .position(|r| r.matches == rule.matches && r.target == rule.target)
            else {
                return Err(ctx.plain("Bad rule (does a matching rule exist in that chain?).", 1));
            };
            ch.rules.remove(pos);
            Ok((None, c.clone()))
        }
        Cmd::Policy(c, pol) => {
            let Some(ch) = table.chains.get_mut(c).filter(|ch| ch.policy.is_some()) else {
                return Err(ctx.plain("Bad built-in chain name.", 1));
            };
            ch.policy = Some(match pol.as_str() {
                "ACCEPT" => Policy::Accept,
                "DROP" => Policy::Drop,
                _ => return Err(ctx.plain("Bad policy name. Run `dmesg' for more information.", 1)),
            });
            Ok((None, c.clone()))
        }
        Cmd::New(c) => {
            check_chain_name(c, ctx)?;
            if table.chains.contains_key(c) {
                return Err(ctx.plain("Chain already exists.", 1));
            }
            table.chains.insert(
                c.clone(),
                Chain {
                    name: c.clone(),
                    policy: None,
                    rules: Vec::new(),
                    packets: 0,
                    bytes: 0,
                },
            );
            Ok((None, c.clone()))
        }
        Cmd::DeleteChain(c) => {
            let refs = |t: &Table, name: &str| {
                t.chains
                    .values()
                    .flat_map(|ch| ch.rules.iter())
                    .filter(|r| {
                        matches!(&r.target, Target::Jump { chain } | Target::Goto { chain } if chain == name)
                    })
                    .count()
            };
            let busy = |name: &str| {
                ctx.kernel(
                    "CHAIN_DEL",
                    "Device or resource busy",
                    &format!("chain {name}"),
                )
            };
            match c {
                Some(c) => {
                    let Some(ch) = table.chains.get(c) else {
                        return Err(no_chain(ctx));
                    };
                    if ch.policy.is_some() || !ch.rules.is_empty() || refs(table, c) > 0 {
                        return Err(busy(c));
                    }
                    table.chains.shift_remove(c);
                    Ok((None, c.clone()))
                }
                None => {
                    let mut users: Vec<String> = table
                        .chains
                        .values()
                        .filter(|ch| ch.policy.is_none())
                        .map(|ch| ch.name.clone())
                        .collect();
                    users.sort();
                    for u in &users {
                        if !table.chains[u].rules.is_empty() || refs(table, u) > 0 {
                            return Err(busy(u));
                        }
                    }
                    for u in &users {
                        table.chains.shift_remove(u);
                    }
                    Ok((None, String::new()))
                }
            }
        }
        Cmd::Flush(c) | Cmd::Zero(c) => {
            let flush = matches!(p.cmd, Cmd::Flush(_));
            let names: Vec<String> = match c {
                Some(c) => {
                    if !table.chains.contains_key(c) {
                        return Err(no_chain(ctx));
                    }
                    vec![c.clone()]
                }
                None => table.chains.keys().cloned().collect(),
            };
            for n in &names {
                if let Some(ch) = table.chains.get_mut(n) {
                    if flush {
                        ch.rules.clear();
                    } else {
                        ch.packets = 0;
                        ch.bytes = 0;
                        for r in &mut ch.rules {
                            r.packets = 0;
                            r.bytes = 0;
                        }
                    }
                }
            }
            Ok((None, c.clone().unwrap_or_default()))
        }
        _ => Ok((None, String::new())),
    }
}

/// One rule line of a restore file (`-A CHAIN ...`, `-I`, `-D`, `-N`, `-X`, `-F`, `-Z`,
/// `-P`) applied to the table being restored. The kernel's checks run at `COMMIT`.
pub(crate) fn apply_restore_line(
    table: &mut Table,
    args: &[&str],
    counters: Option<(u64, u64)>,
    ctx: &IptablesCtx,
    sets: &IpSets,
) -> Result<(), IptablesError> {
    let p = parse_command(args, ctx, sets)?;
    if matches!(
        p.cmd,
        Cmd::List(..) | Cmd::ListRules(..) | Cmd::Help | Cmd::Version
    ) {
        return Err(ctx.usage("no command specified"));
    }
    apply(table, &p, ctx)?;
    if let Some((packets, bytes)) = counters {
        let slot = match &p.cmd {
            Cmd::Append(c) => table.chains.get_mut(c).and_then(|ch| ch.rules.last_mut()),
            Cmd::Insert(c, n) | Cmd::Replace(c, n) => table
                .chains
                .get_mut(c)
                .and_then(|ch| ch.rules.get_mut(n - 1)),
            _ => None,
        };
        if let Some(r) = slot {
            r.packets = packets;
            r.bytes = bytes;
        }
    }
    Ok(())
}

fn op_name(cmd: &Cmd) -> &'static str {
    match cmd {
        // iptables-nft inserts at position N > 1 by appending after rule N-1.
        Cmd::Insert(_, 1) => "RULE_INSERT",
        Cmd::Replace(..) => "RULE_REPLACE",
        _ => "RULE_APPEND",
    }
}

/// A short usage text for `iptables -h` (the real one lists every option; this one lists
/// what hopsim models).
fn help_text(ctx: &IptablesCtx) -> String {
    let p = &ctx.program;
    format!(
        "{p} {VERSION}\n\n\
Usage: {p} -[ACD] chain rule-specification [options]\n\
       {p} -I chain [rulenum] rule-specification [options]\n\
       {p} -R chain rulenum rule-specification [options]\n\
       {p} -D chain rulenum [options]\n\
       {p} -[LS] [chain [rulenum]] [options]\n\
       {p} -[FZ] [chain] [options]\n\
       {p} -[NX] chain\n\
       {p} -P chain target [options]\n\
       {p} -h (print this help information)\n\n\
Commands:\n\
  --append  -A chain            Append to chain\n\
  --delete  -D chain            Delete matching rule from chain\n\
  --delete  -D chain rulenum    Delete rule rulenum (1 = first) from chain\n\
  --insert  -I chain [rulenum]  Insert in chain as rulenum (default 1=first)\n\
  --replace -R chain rulenum    Replace rule rulenum (1 = first) in chain\n\
  --list    -L [chain [rulenum]] List the rules in a chain or all chains\n\
  --list-rules -S [chain [rulenum]] Print the rules in a chain or all chains\n\
  --flush   -F [chain]          Delete all rules in  chain or all chains\n\
  --zero    -Z [chain [rulenum]] Zero counters in chain or all chains\n\
  --new     -N chain            Create a new user-defined chain\n\
  --delete-chain -X [chain]     Delete a user-defined chain\n\
  --policy  -P chain target     Change policy on chain to target\n\n\
Options:\n\
[!] --proto     -p proto        protocol: by number or name, eg. `tcp'\n\
[!] --source    -s address[/mask] source specification\n\
[!] --destination -d address[/mask] destination specification\n\
[!] --in-interface -i input name[+] network interface name ([+] for wildcard)\n\
 --jump -j target               target for rule (may load target extension)\n\
  --goto      -g chain          jump to chain with no return\n\
  --match       -m match        extended match (may load extension)\n\
  --numeric     -n              numeric output of addresses and ports\n\
[!] --out-interface -o output name[+] network interface name ([+] for wildcard)\n\
  --table       -t table        table to manipulate (default: `filter')\n\
  --verbose     -v              verbose mode\n\
  --wait        -w [seconds]    maximum wait to acquire xtables lock before give up\n\
  --line-numbers                print line numbers when listing\n\
  --exact       -x              expand numbers (display exact values)\n\
  --version     -V              print package version.\n"
    )
}

// ---------------------------------------------------------------------------------------
// Name tables
// ---------------------------------------------------------------------------------------

/// libxt_icmp's names: (name, type, code_min, code_max), in its order (the first entry
/// that fits is the one printed).
pub(crate) const ICMP_CODES: &[(&str, u8, u8, u8)] = &[
    ("any", 0xff, 0, 0xff),
    ("echo-reply", 0, 0, 0xff),
    ("pong", 0, 0, 0xff),
    ("destination-unreachable", 3, 0, 0xff),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xff),
    ("redirect", 5, 0, 0xff),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xff),
    ("ping", 8, 0, 0xff),
    ("router-advertisement", 9, 0, 0xff),
    ("router-solicitation", 10, 0, 0xff),
    ("time-exceeded", 11, 0, 0xff),
    ("ttl-exceeded", 11, 0, 0xff),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xff),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xff),
    ("timestamp-reply", 14, 0, 0xff),
    ("address-mask-request", 17, 0, 0xff),
    ("address-mask-reply", 18, 0, 0xff),
];

/// The port of a service name for `proto` (`getservbyname`).
pub(crate) fn service_port(name: &str, proto: &str) -> Option<u16> {
    SERVICES
        .iter()
        .find(|(_, p, n, al)| *p == proto && (*n == name || al.contains(&name)))
        .map(|(port, ..)| *port)
}

/// The service name of a port for `proto` (`getservbyport`), as `iptables -L` prints it.
pub(crate) fn service_name(port: u16, proto: &str) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|(p, pr, ..)| *p == port && *pr == proto)
        .map(|(_, _, n, _)| *n)
}

/// `/etc/protocols` (Debian netbase): number, name, aliases. `getprotobynumber` returns
/// the first name listed for a number.
pub(crate) const PROTOCOLS: &[(u8, &str, &[&str])] = &[
    (0, "ip", &["IP"]),
    (0, "hopopt", &["HOPOPT"]),
    (1, "icmp", &["ICMP"]),
    (2, "igmp", &["IGMP"]),
    (3, "ggp", &["GGP"]),
    (4, "ipencap", &["IP-ENCAP"]),
    (5, "st", &["ST"]),
    (6, "tcp", &["TCP"]),
    (8, "egp", &["EGP"]),
    (9, "igp", &["IGP"]),
    (12, "pup", &["PUP"]),
    (17, "udp", &["UDP"]),
    (20, "hmp", &["HMP"]),
    (22, "xns-idp", &["XNS-IDP"]),
    (27, "rdp", &["RDP"]),
    (29, "iso-tp4", &["ISO-TP4"]),
    (33, "dccp", &["DCCP"]),
    (36, "xtp", &["XTP"]),
    (37, "ddp", &["DDP"]),
    (38, "idpr-cmtp", &["IDPR-CMTP"]),
    (41, "ipv6", &["IPv6"]),
    (43, "ipv6-route", &["IPv6-Route"]),
    (44, "ipv6-frag", &["IPv6-Frag"]),
    (45, "idrp", &["IDRP"]),
    (46, "rsvp", &["RSVP"]),
    (47, "gre", &["GRE"]),
    (50, "esp", &["IPSEC-ESP"]),
    (51, "ah", &["IPSEC-AH"]),
    (57, "skip", &["SKIP"]),
    (58, "ipv6-icmp", &["IPv6-ICMP"]),
    (59, "ipv6-nonxt", &["IPv6-NoNxt"]),
    (60, "ipv6-opts", &["IPv6-Opts"]),
    (73, "rspf", &["RSPF", "CPHB"]),
    (81, "vmtp", &["VMTP"]),
    (88, "eigrp", &["EIGRP"]),
    (89, "ospf", &["OSPFIGP"]),
    (93, "ax.25", &["AX.25"]),
    (94, "ipip", &["IPIP"]),
    (97, "etherip", &["ETHERIP"]),
    (98, "encap", &["ENCAP"]),
    (103, "pim", &["PIM"]),
    (108, "ipcomp", &["IPCOMP"]),
    (112, "vrrp", &["VRRP"]),
    (115, "l2tp", &["L2TP"]),
    (124, "isis", &["ISIS"]),
    (132, "sctp", &["SCTP"]),
    (133, "fc", &["FC"]),
    (135, "mobility-header", &["Mobility-Header"]),
    (136, "udplite", &["UDPLite"]),
    (137, "mpls-in-ip", &["MPLS-in-IP"]),
    (138, "manet", &[]),
    (139, "hip", &["HIP"]),
    (140, "shim6", &["Shim6"]),
    (141, "wesp", &["WESP"]),
    (142, "rohc", &["ROHC"]),
    (143, "ethernet", &["Ethernet"]),
];

/// `/etc/services` (Debian netbase 6.4, as on the reference machine): port, protocol,
/// name and aliases, in file order. `getservbyport` returns the first name listed.
pub(crate) const SERVICES: &[(u16, &str, &str, &[&str])] = &[
    (1, "tcp", "tcpmux", &[]),
    (7, "tcp", "echo", &[]),
    (7, "udp", "echo", &[]),
    (9, "tcp", "discard", &["sink", "null"]),
    (9, "udp", "discard", &["sink", "null"]),
    (11, "tcp", "systat", &["users"]),
    (13, "tcp", "daytime", &[]),
    (13, "udp", "daytime", &[]),
    (15, "tcp", "netstat", &[]),
    (17, "tcp", "qotd", &["quote"]),
    (19, "tcp", "chargen", &["ttytst", "source"]),
    (19, "udp", "chargen", &["ttytst", "source"]),
    (20, "tcp", "ftp-data", &[]),
    (21, "tcp", "ftp", &[]),
    (21, "udp", "fsp", &["fspd"]),
    (22, "tcp", "ssh", &[]),
    (23, "tcp", "telnet", &[]),
    (25, "tcp", "smtp", &["mail"]),
    (37, "tcp", "time", &["timserver"]),
    (37, "udp", "time", &["timserver"]),
    (43, "tcp", "whois", &["nicname"]),
    (49, "tcp", "tacacs", &[]),
    (49, "udp", "tacacs", &[]),
    (53, "tcp", "domain", &[]),
    (53, "udp", "domain", &[]),
    (67, "udp", "bootps", &[]),
    (68, "udp", "bootpc", &[]),
    (69, "udp", "tftp", &[]),
    (70, "tcp", "gopher", &[]),
    (79, "tcp", "finger", &[]),
    (80, "tcp", "http", &["www"]),
    (
        88,
        "tcp",
        "kerberos",
        &["kerberos5", "krb5", "kerberos-sec"],
    ),
    (
        88,
        "udp",
        "kerberos",
        &["kerberos5", "krb5", "kerberos-sec"],
    ),
    (102, "tcp", "iso-tsap", &["tsap"]),
    (104, "tcp", "acr-nema", &["dicom"]),
    (110, "tcp", "pop3", &["pop-3"]),
    (111, "tcp", "sunrpc", &["portmapper"]),
    (111, "udp", "sunrpc", &["portmapper"]),
    (113, "tcp", "auth", &["authentication", "tap", "ident"]),
    (119, "tcp", "nntp", &["readnews", "untp"]),
    (123, "udp", "ntp", &[]),
    (135, "tcp", "epmap", &["loc-srv"]),
    (137, "udp", "netbios-ns", &[]),
    (138, "udp", "netbios-dgm", &[]),
    (139, "tcp", "netbios-ssn", &[]),
    (143, "tcp", "imap2", &["imap"]),
    (161, "tcp", "snmp", &[]),
    (161, "udp", "snmp", &[]),
    (162, "tcp", "snmp-trap", &["snmptrap"]),
    (162, "udp", "snmp-trap", &["snmptrap"]),
    (163, "tcp", "cmip-man", &[]),
    (163, "udp", "cmip-man", &[]),
    (164, "tcp", "cmip-agent", &[]),
    (164, "udp", "cmip-agent", &[]),
    (174, "tcp", "mailq", &[]),
    (177, "udp", "xdmcp", &[]),
    (179, "tcp", "bgp", &[]),
    (199, "tcp", "smux", &[]),
    (209, "tcp", "qmtp", &[]),
    (210, "tcp", "z3950", &["wais"]),
    (213, "udp", "ipx", &[]),
    (319, "udp", "ptp-event", &[]),
    (320, "udp", "ptp-general", &[]),
    (345, "tcp", "pawserv", &[]),
    (346, "tcp", "zserv", &[]),
    (369, "tcp", "rpc2portmap", &[]),
    (369, "udp", "rpc2portmap", &[]),
    (370, "tcp", "codaauth2", &[]),
    (370, "udp", "codaauth2", &[]),
    (371, "udp", "clearcase", &["Clearcase"]),
    (389, "tcp", "ldap", &[]),
    (389, "udp", "ldap", &[]),
    (427, "tcp", "svrloc", &[]),
    (427, "udp", "svrloc", &[]),
    (443, "tcp", "https", &[]),
    (443, "udp", "https", &[]),
    (444, "tcp", "snpp", &[]),
    (445, "tcp", "microsoft-ds", &[]),
    (464, "tcp", "kpasswd", &[]),
    (464, "udp", "kpasswd", &[]),
    (465, "tcp", "submissions", &["ssmtp", "smtps", "urd"]),
    (487, "tcp", "saft", &[]),
    (500, "udp", "isakmp", &[]),
    (554, "tcp", "rtsp", &[]),
    (554, "udp", "rtsp", &[]),
    (607, "tcp", "nqs", &[]),
    (623, "udp", "asf-rmcp", &[]),
    (628, "tcp", "qmqp", &[]),
    (631, "tcp", "ipp", &[]),
    (646, "tcp", "ldp", &[]),
    (646, "udp", "ldp", &[]),
    (512, "tcp", "exec", &[]),
    (512, "udp", "biff", &["comsat"]),
    (513, "tcp", "login", &[]),
    (513, "udp", "who", &["whod"]),
    (514, "tcp", "shell", &["cmd", "syslog"]),
    (514, "udp", "syslog", &[]),
    (515, "tcp", "printer", &["spooler"]),
    (517, "udp", "talk", &[]),
    (518, "udp", "ntalk", &[]),
    (520, "udp", "route", &["router", "routed"]),
    (538, "tcp", "gdomap", &[]),
    (538, "udp", "gdomap", &[]),
    (540, "tcp", "uucp", &["uucpd"]),
    (543, "tcp", "klogin", &[]),
    (544, "tcp", "kshell", &["krcmd"]),
    (546, "udp", "dhcpv6-client", &[]),
    (547, "udp", "dhcpv6-server", &[]),
    (548, "tcp", "afpovertcp", &[]),
    (563, "tcp", "nntps", &["snntp"]),
    (587, "tcp", "submission", &[]),
    (636, "tcp", "ldaps", &[]),
    (636, "udp", "ldaps", &[]),
    (655, "tcp", "tinc", &[]),
    (655, "udp", "tinc", &[]),
    (706, "tcp", "silc", &[]),
    (749, "tcp", "kerberos-adm", &[]),
    (853, "tcp", "domain-s", &[]),
    (853, "udp", "domain-s", &[]),
    (873, "tcp", "rsync", &[]),
    (989, "tcp", "ftps-data", &[]),
    (990, "tcp", "ftps", &[]),
    (992, "tcp", "telnets", &[]),
    (993, "tcp", "imaps", &[]),
    (995, "tcp", "pop3s", &[]),
    (1080, "tcp", "socks", &[]),
    (1093, "tcp", "proofd", &[]),
    (1094, "tcp", "rootd", &[]),
    (1194, "tcp", "openvpn", &[]),
    (1194, "udp", "openvpn", &[]),
    (1099, "tcp", "rmiregistry", &[]),
    (1352, "tcp", "lotusnote", &["lotusnotes"]),
    (1433, "tcp", "ms-sql-s", &[]),
    (1434, "udp", "ms-sql-m", &[]),
    (1524, "tcp", "ingreslock", &[]),
    (1645, "tcp", "datametrics", &["old-radius"]),
    (1645, "udp", "datametrics", &["old-radius"]),
    (1646, "tcp", "sa-msg-port", &["old-radacct"]),
    (1646, "udp", "sa-msg-port", &["old-radacct"]),
    (1649, "tcp", "kermit", &[]),
    (1677, "tcp", "groupwise", &[]),
    (1701, "udp", "l2f", &["l2tp"]),
    (1812, "tcp", "radius", &[]),
    (1812, "udp", "radius", &[]),
    (1813, "tcp", "radius-acct", &["radacct"]),
    (1813, "udp", "radius-acct", &["radacct"]),
    (2000, "tcp", "cisco-sccp", &[]),
    (2049, "tcp", "nfs", &[]),
    (2049, "udp", "nfs", &[]),
    (2086, "tcp", "gnunet", &[]),
    (2086, "udp", "gnunet", &[]),
    (2101, "tcp", "rtcm-sc104", &[]),
    (2101, "udp", "rtcm-sc104", &[]),
    (2119, "tcp", "gsigatekeeper", &[]),
    (2135, "tcp", "gris", &[]),
    (2401, "tcp", "cvspserver", &[]),
    (2430, "tcp", "venus", &[]),
    (2430, "udp", "venus", &[]),
    (2431, "tcp", "venus-se", &[]),
    (2431, "udp", "venus-se", &[]),
    (2432, "tcp", "codasrv", &[]),
    (2432, "udp", "codasrv", &[]),
    (2433, "tcp", "codasrv-se", &[]),
    (2433, "udp", "codasrv-se", &[]),
    (2583, "tcp", "mon", &[]),
    (2583, "udp", "mon", &[]),
    (2628, "tcp", "dict", &[]),
    (2792, "tcp", "f5-globalsite", &[]),
    (2811, "tcp", "gsiftp", &[]),
    (2947, "tcp", "gpsd", &[]),
    (3050, "tcp", "gds-db", &["gds_db"]),
    (3130, "udp", "icpv2", &["icp"]),
    (3205, "tcp", "isns", &[]),
    (3205, "udp", "isns", &[]),
    (3260, "tcp", "iscsi-target", &[]),
    (3306, "tcp", "mysql", &[]),
    (3389, "tcp", "ms-wbt-server", &[]),
    (3493, "tcp", "nut", &[]),
    (3493, "udp", "nut", &[]),
    (3632, "tcp", "distcc", &[]),
    (3689, "tcp", "daap", &[]),
    (3690, "tcp", "svn", &["subversion"]),
    (4031, "tcp", "suucp", &[]),
    (4094, "tcp", "sysrqd", &[]),
    (4190, "tcp", "sieve", &[]),
    (4369, "tcp", "epmd", &[]),
    (4373, "tcp", "remctl", &[]),
    (4353, "tcp", "f5-iquery", &[]),
    (4460, "tcp", "ntske", &[]),
    (4500, "udp", "ipsec-nat-t", &[]),
    (4569, "udp", "iax", &[]),
    (4691, "tcp", "mtn", &[]),
    (4899, "tcp", "radmin-port", &[]),
    (5060, "tcp", "sip", &[]),
    (5060, "udp", "sip", &[]),
    (5061, "tcp", "sip-tls", &[]),
    (5061, "udp", "sip-tls", &[]),
    (5222, "tcp", "xmpp-client", &["jabber-client"]),
    (5269, "tcp", "xmpp-server", &["jabber-server"]),
    (5308, "tcp", "cfengine", &[]),
    (5353, "udp", "mdns", &[]),
    (5432, "tcp", "postgresql", &["postgres"]),
    (5556, "tcp", "freeciv", &["rptp"]),
    (5671, "tcp", "amqps", &[]),
    (5672, "tcp", "amqp", &[]),
    (6000, "tcp", "x11", &["x11-0"]),
    (6001, "tcp", "x11-1", &[]),
    (6002, "tcp", "x11-2", &[]),
    (6003, "tcp", "x11-3", &[]),
    (6004, "tcp", "x11-4", &[]),
    (6005, "tcp", "x11-5", &[]),
    (6006, "tcp", "x11-6", &[]),
    (6007, "tcp", "x11-7", &[]),
    (6346, "tcp", "gnutella-svc", &[]),
    (6346, "udp", "gnutella-svc", &[]),
    (6347, "tcp", "gnutella-rtr", &[]),
    (6347, "udp", "gnutella-rtr", &[]),
    (6379, "tcp", "redis", &[]),
    (6444, "tcp", "sge-qmaster", &["sge_qmaster"]),
    (6445, "tcp", "sge-execd", &["sge_execd"]),
    (6446, "tcp", "mysql-proxy", &[]),
    (6696, "udp", "babel", &[]),
    (6697, "tcp", "ircs-u", &[]),
    (7000, "tcp", "bbs", &[]),
    (7000, "udp", "afs3-fileserver", &[]),
    (7001, "udp", "afs3-callback", &[]),
    (7002, "udp", "afs3-prserver", &[]),
    (7003, "udp", "afs3-vlserver", &[]),
    (7004, "udp", "afs3-kaserver", &[]),
    (7005, "udp", "afs3-volser", &[]),
    (7007, "udp", "afs3-bos", &[]),
    (7008, "udp", "afs3-update", &[]),
    (7009, "udp", "afs3-rmtsys", &[]),
    (7100, "tcp", "font-service", &["xfs"]),
    (8080, "tcp", "http-alt", &["webcache"]),
    (8140, "tcp", "puppet", &[]),
    (9101, "tcp", "bacula-dir", &[]),
    (9102, "tcp", "bacula-fd", &[]),
    (9103, "tcp", "bacula-sd", &[]),
    (9667, "tcp", "xmms2", &[]),
    (10809, "tcp", "nbd", &[]),
    (10050, "tcp", "zabbix-agent", &[]),
    (10051, "tcp", "zabbix-trapper", &[]),
    (10080, "tcp", "amanda", &[]),
    (11112, "tcp", "dicom", &[]),
    (11371, "tcp", "hkp", &[]),
    (17500, "tcp", "db-lsp", &[]),
    (22125, "tcp", "dcap", &[]),
    (22128, "tcp", "gsidcap", &[]),
    (22273, "tcp", "wnn6", &[]),
    (750, "udp", "kerberos4", &["kerberos-iv", "kdc"]),
    (750, "tcp", "kerberos4", &["kerberos-iv", "kdc"]),
    (751, "udp", "kerberos-master", &["kerberos_master"]),
    (751, "tcp", "kerberos-master", &[]),
    (752, "udp", "passwd-server", &["passwd_server"]),
    (754, "tcp", "krb-prop", &["krb_prop", "krb5_prop", "hprop"]),
    (2102, "udp", "zephyr-srv", &[]),
    (2103, "udp", "zephyr-clt", &[]),
    (2104, "udp", "zephyr-hm", &[]),
    (2121, "tcp", "iprop", &[]),
    (871, "tcp", "supfilesrv", &[]),
    (1127, "tcp", "supfiledbg", &[]),
    (106, "tcp", "poppassd", &[]),
    (775, "tcp", "moira-db", &["moira_db"]),
    (777, "tcp", "moira-update", &["moira_update"]),
    (779, "udp", "moira-ureg", &["moira_ureg"]),
    (783, "tcp", "spamd", &[]),
    (1178, "tcp", "skkserv", &[]),
    (1210, "udp", "predict", &[]),
    (1236, "tcp", "rmtcfg", &[]),
    (1313, "tcp", "xtel", &[]),
    (1314, "tcp", "xtelw", &[]),
    (2600, "tcp", "zebrasrv", &[]),
    (2601, "tcp", "zebra", &[]),
    (2602, "tcp", "ripd", &[]),
    (2603, "tcp", "ripngd", &[]),
    (2604, "tcp", "ospfd", &[]),
    (2605, "tcp", "bgpd", &[]),
    (2606, "tcp", "ospf6d", &[]),
    (2607, "tcp", "ospfapi", &[]),
    (2608, "tcp", "isisd", &[]),
    (4557, "tcp", "fax", &[]),
    (4559, "tcp", "hylafax", &[]),
    (4949, "tcp", "munin", &["lrrd"]),
    (5555, "udp", "rplay", &[]),
    (5666, "tcp", "nrpe", &[]),
    (5667, "tcp", "nsca", &[]),
    (5680, "tcp", "canna", &[]),
    (6514, "tcp", "syslog-tls", &[]),
    (6566, "tcp", "sane-port", &["sane", "saned"]),
    (6667, "tcp", "ircd", &[]),
    (8021, "tcp", "zope-ftp", &[]),
    (8081, "tcp", "tproxy", &[]),
    (8088, "tcp", "omniorb", &[]),
    (8990, "tcp", "clc-build-daemon", &[]),
    (9098, "tcp", "xinetd", &[]),
    (9418, "tcp", "git", &[]),
    (9673, "tcp", "zope", &[]),
    (10000, "tcp", "webmin", &[]),
    (10081, "tcp", "kamanda", &[]),
    (10082, "tcp", "amandaidx", &[]),
    (10083, "tcp", "amidxtape", &[]),
    (17001, "udp", "sgi-cmsd", &[]),
    (17002, "udp", "sgi-crsd", &[]),
    (17003, "udp", "sgi-gcd", &[]),
    (17004, "tcp", "sgi-cad", &[]),
    (24554, "tcp", "binkp", &[]),
    (27374, "tcp", "asp", &[]),
    (27374, "udp", "asp", &[]),
    (30865, "tcp", "csync2", &[]),
    (57000, "tcp", "dircproxy", &[]),
    (60177, "tcp", "tfido", &[]),
    (60179, "tcp", "fido", &[]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sh(nf: &mut Netfilter, line: &str) -> (String, i32) {
        let argv = shlex::split(line).expect("test line quotes");
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        match run(nf, &args, &IptablesCtx::default()) {
            Ok(out) => (out, 0),
            Err(e) => (format!("{}\n", e.msg), e.status),
        }
    }

    /// The kernel's jump stack (`NFT_JUMP_STACK_SIZE` 16), measured: INPUT -> C1 -> ... ->
    /// C15 is accepted; with C16 the last jump, into a chain 16 levels down, is refused
    /// with `EMLINK`, even though C16 is empty.
    #[test]
    fn chains_nested_sixteen_deep_are_refused_as_the_kernel_does() {
        for (n, status) in [(15, 0), (16, 4), (17, 4)] {
            let mut nf = Netfilter::default();
            for i in 1..=n {
                assert_eq!(sh(&mut nf, &format!("iptables -N C{i}")).1, 0);
            }
            for i in 1..n {
                assert_eq!(sh(&mut nf, &format!("iptables -A C{i} -j C{}", i + 1)).1, 0);
            }
            let (out, rc) = sh(&mut nf, "iptables -A INPUT -j C1");
            assert_eq!(rc, status, "{n} chains: {out}");
            if status != 0 {
                assert_eq!(
                    out,
                    "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain INPUT\n"
                );
            }
        }
    }

    /// Thousands of chains in a line (a generated or hostile file) are checked without deep
    /// recursion: the check stops at the kernel's limit.
    #[test]
    fn a_very_long_chain_of_jumps_is_refused_without_overflowing_the_stack() {
        let jump = |c: &str| Rule {
            matches: Vec::new(),
            target: Target::Jump { chain: c.into() },
            packets: 0,
            bytes: 0,
        };
        let mut t = Table::new(TableName::Filter);
        let n = 100_000;
        for i in 0..n {
            let name = format!("C{i}");
            let mut ch = Chain {
                name: name.clone(),
                policy: None,
                rules: Vec::new(),
                packets: 0,
                bytes: 0,
            };
            if i + 1 < n {
                ch.rules.push(jump(&format!("C{}", i + 1)));
            }
            t.chains.insert(name, ch);
        }
        assert_eq!(check_table(&t), Ok(()), "nothing reaches C0 yet");
        if let Some(input) = t.chains.get_mut("INPUT") {
            input.rules.push(jump("C0"));
        }
        assert_eq!(check_table(&t), Err("Too many links"));
    }

    /// Replays a transcript of the real iptables v1.8.9 (nf_tables), recorded on Linux 6.18
    /// by running every command in a fresh throw-away network namespace per scenario
    /// (`ip netns add hi_ipt_dN; ip netns exec hi_ipt_dN iptables ...`): stdout and stderr
    /// together, then the exit status. Comment lines (`#`) of iptables-save are dropped.
    fn replay(transcript: &str) {
        for block in transcript.split("### scenario\n").filter(|b| !b.is_empty()) {
            let mut nf = Netfilter::default();
            let mut lines = block.lines().peekable();
            while let Some(cmd) = lines.next() {
                let cmd = cmd.strip_prefix("$ ").expect("a command line");
                let mut expected = String::new();
                let mut status = 0;
                for l in lines.by_ref() {
                    if let Some(rc) = l.strip_prefix("[exit=").and_then(|r| r.strip_suffix(']')) {
                        status = rc.parse().expect("exit status");
                        break;
                    }
                    expected.push_str(l);
                    expected.push('\n');
                }
                let got = if cmd == "iptables-save" {
                    let s = crate::netfilter::save::render_save(&nf, None);
                    let body: String = s
                        .lines()
                        .filter(|l| !l.starts_with('#'))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    (body, 0)
                } else {
                    sh(&mut nf, cmd)
                };
                assert_eq!(got, (expected, status), "command: {cmd}");
            }
        }
    }

    #[test]
    fn real_iptables_transcript() {
        replay(REAL_TRANSCRIPT);
    }

    /// The typo line of the source documents (seeds 001 and 004): `-a` is not an option.
    #[test]
    fn document_typo_line() {
        let mut nf = Netfilter::default();
        let (out, st) = sh(
            &mut nf,
            "iptables -t nat -a PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT",
        );
        assert_eq!(st, 2);
        assert_eq!(
            out,
            "iptables v1.8.9 (nf_tables): unknown option \"-a\"\nTry `iptables -h' or 'iptables --help' for more information.\n"
        );
        // Corrected to -A, the next problems come one at a time, as with the real tool.
        let (out, st) = sh(
            &mut nf,
            "iptables -t nat -A PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT",
        );
        assert_eq!(
            (st, out.lines().next()),
            (
                2,
                Some("iptables v1.8.9 (nf_tables): unknown option \"--dport\"")
            )
        );
        let (_, st) = sh(
            &mut nf,
            "iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 192.168.15.2:80",
        );
        assert_eq!(st, 0);
        assert!(!nf.table(TableName::Nat).chains["PREROUTING"]
            .rules
            .is_empty());
    }

    #[test]
    fn probability_is_stored_as_the_kernel_does() {
        // Measured: 0.33333 lists as 0.33332999982; 1/3 and 1/2 as kube-proxy writes them
        // list unchanged once normalised.
        for (given, shown) in [
            ("0.33333", "0.33332999982"),
            ("0.3333333333", "0.33333333349"),
            ("0.33333333349", "0.33333333349"),
            ("0.5", "0.50000000000"),
            ("0.2", "0.20000000019"),
            ("0.1", "0.10000000009"),
            ("1", "1.00000000000"),
            ("0", "0.00000000000"),
        ] {
            let t = parse_probability(given).expect("valid");
            assert_eq!(probability_text(t), shown, "{given}");
            assert_eq!(parse_probability(shown), Some(t), "{shown} round trip");
        }
        assert_eq!(parse_probability("1.5"), None);
        assert_eq!(parse_probability("-0.1"), None);
        assert_eq!(parse_probability("abc"), None);
        assert_eq!(parse_probability("nan"), None);
    }

    #[test]
    fn wait_help_and_version() {
        let mut nf = Netfilter::default();
        assert_eq!(sh(&mut nf, "iptables -w -A INPUT -j ACCEPT").1, 0);
        assert_eq!(sh(&mut nf, "iptables --wait 3 -D INPUT -j ACCEPT").1, 0);
        let (h, st) = sh(&mut nf, "iptables -h");
        assert_eq!(st, 0);
        assert!(h.starts_with("iptables v1.8.9 (nf_tables)\n\nUsage: iptables -[ACD] chain"));
        assert_eq!(
            sh(&mut nf, "iptables -V"),
            ("iptables v1.8.9 (nf_tables)\n".into(), 0)
        );
    }

    #[test]
    fn unmodelled_features_say_so() {
        let mut nf = Netfilter::default();
        crate::netfilter::ipset::run(&mut nf, &["create", "x", "hash:ip"]).expect("ipset");
        for (cmd, what) in [
            ("iptables -A INPUT -m recent --name x", "match `recent'"),
            (
                "iptables -A INPUT -m set --match-set x src --return-nomatch",
                "-m set --return-nomatch",
            ),
            ("iptables -A INPUT -j CONNMARK", "target CONNMARK"),
            (
                "iptables -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.1.1.1 --random",
                "NAT option --random",
            ),
            (
                "iptables -A INPUT -m addrtype --src-type LOCAL,UNICAST",
                "an addrtype list (LOCAL,UNICAST)",
            ),
            (
                "iptables -A INPUT -s 10.0.0.0/255.0.255.0",
                "the non-contiguous mask 255.0.255.0",
            ),
            ("iptables -t raw -A PREROUTING -j CT --zone 1", "CT --zone"),
        ] {
            let (out, st) = sh(&mut nf, cmd);
            assert_eq!(
                (out, st),
                (format!("hopsim: {what} is not modelled\n"), 2),
                "{cmd}"
            );
        }
    }

    #[test]
    fn long_option_abbreviations() {
        let mut nf = Netfilter::default();
        assert_eq!(
            sh(
                &mut nf,
                "iptables -t nat -A PREROUTING -p tcp --dp 80 -j DNAT --to 1.2.3.4:8080"
            )
            .1,
            0
        );
        assert_eq!(
            crate::netfilter::list::render_rules(
                &nf,
                TableName::Nat,
                Some("PREROUTING"),
                Some(1),
                false
            )
            .expect("chain exists"),
            "-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 1.2.3.4:8080\n"
        );
    }

    #[test]
    fn failed_commands_leave_the_tables_alone() {
        let mut nf = Netfilter::default();
        sh(&mut nf, "iptables -t nat -N X");
        sh(&mut nf, "iptables -t nat -A X -j MASQUERADE");
        let before = nf.clone();
        assert_eq!(sh(&mut nf, "iptables -t nat -A PREROUTING -j X").1, 4);
        assert_eq!(nf, before);
        assert_eq!(sh(&mut nf, "iptables -t nat -A POSTROUTING -j X").1, 0);
    }

    proptest! {
        /// No input makes the parser panic.
        #[test]
        fn never_panics(words in proptest::collection::vec(prop_oneof![
            Just("-A"), Just("-I"), Just("-D"), Just("-R"), Just("-P"), Just("-N"), Just("-X"),
            Just("-F"), Just("-Z"), Just("-L"), Just("-S"), Just("-t"), Just("nat"), Just("raw"),
            Just("INPUT"), Just("PREROUTING"), Just("X"), Just("1"), Just("0"), Just("!"),
            Just("-s"), Just("-d"), Just("1.2.3.4/8"), Just("-p"), Just("tcp"), Just("icmp"),
            Just("--dport"), Just("80:90"), Just("-m"), Just("multiport"), Just("--dports"),
            Just("statistic"), Just("--mode"), Just("nth"), Just("--every"), Just("--packet"),
            Just("--probability"), Just("-j"), Just("DNAT"), Just("--to-destination"),
            Just(":80"), Just("ACCEPT"), Just("DROP"), Just("-g"), Just("-nvL"), Just("--"),
            Just("--icmp-type"), Just("3/3"), Just("-i"), Just("+"), Just("comment"),
            Just("--comment"), Just("-x"), Just("--line-numbers"), Just("-w"), Just(""),
            Just("-"), Just("--to"), Just("MARK"), Just("--set-mark"), Just("0x1/0x"),
        ], 0..12)) {
            let mut nf = Netfilter::default();
            let _ = run(&mut nf, &["-N", "X"], &IptablesCtx::default());
            let _ = run(&mut nf, &words, &IptablesCtx::default());
        }
    }

    const REAL_TRANSCRIPT: &str = r####"### scenario
$ iptables -t nat -a PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT
iptables v1.8.9 (nf_tables): unknown option "-a"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT
iptables v1.8.9 (nf_tables): unknown option "--dport"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A PREROUTING -p tcp --dport 80 --to-destination 192.168.15.2:80 -j DNAT
iptables v1.8.9 (nf_tables): unknown option "--to-destination"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4:80
iptables v1.8.9 (nf_tables): Need TCP, UDP, SCTP or DCCP with port specification
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A PREROUTING -j DNAT
iptables v1.8.9 (nf_tables): DNAT: option "--to-destination" must be specified

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A POSTROUTING -p tcp --dport 80 -j DNAT --to-destination 1.2.3.4:80
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING
[exit=4]
$ iptables -A FORWARD -p tcp -j DNAT --to-destination 1.2.3.4:80
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain FORWARD
[exit=4]
$ iptables -t nat -A PREROUTING -j MASQUERADE
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING
[exit=4]
$ iptables -t nat -A PREROUTING -j SNAT --to-source 1.1.1.1
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING
[exit=4]
$ iptables -t nat -A OUTPUT -j SNAT --to-source 1.1.1.1
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT
[exit=4]
$ iptables -t nat -A INPUT -j DNAT --to-destination 1.1.1.1
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT
[exit=4]
$ iptables -t mangle -A PREROUTING -j DNAT --to-destination 1.1.1.1
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING
[exit=4]
$ iptables -A INPUT -j CT --notrack
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT
[exit=4]
$ iptables -t nat -A PREROUTING -j DROP
iptables v1.8.9 (nf_tables): 
The "nat" table is not intended for filtering, the use of DROP is therefore inhibited.


Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A PREROUTING -j REJECT
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING
[exit=4]
$ iptables -t mangle -A INPUT -j REJECT
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT
[exit=4]
$ iptables -t foo -L
iptables v1.8.9 (nf_tables): table 'foo' does not exist
Perhaps iptables or your kernel needs to be upgraded.
[exit=3]
$ iptables -t nat -P PREROUTING DROP
iptables v1.8.9 (nf_tables): 
The "nat" table is not intended for filtering, the use of DROP is therefore inhibited.


Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -P FORWARD FOO
iptables: Bad policy name. Run `dmesg' for more information.
[exit=1]
$ iptables -N X
[exit=0]
$ iptables -P X DROP
iptables: Bad built-in chain name.
[exit=1]
$ iptables -P NOPE DROP
iptables: Bad built-in chain name.
[exit=1]
$ iptables -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4
[exit=0]
$ iptables -t nat -A INPUT -j SNAT --to-source 1.1.1.1
[exit=0]
$ iptables -A INPUT -j TRACE
[exit=0]
$ iptables -t raw -A PREROUTING -p udp -j CT --notrack
[exit=0]
$ iptables -A INPUT -j MARK --set-mark 1
[exit=0]
$ iptables-save
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -j CT --notrack
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:X - [0:0]
-A INPUT -j TRACE
-A INPUT -j MARK --set-xmark 0x1/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j DNAT --to-destination 1.2.3.4
-A INPUT -j SNAT --to-source 1.1.1.1
COMMIT
[exit=0]
### scenario
$ iptables -A FORWARD -s 1.2.3.4 -j DROP
[exit=0]
$ iptables -D FORWARD -s 1.2.3.5 -j DROP
iptables: Bad rule (does a matching rule exist in that chain?).
[exit=1]
$ iptables -D FORWARD 0
iptables v1.8.9 (nf_tables): Invalid rule number `0'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -D FORWARD 2
iptables: Index of deletion too big.
[exit=1]
$ iptables -D FORWARD -1
iptables v1.8.9 (nf_tables): unknown option "-1"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -D FORWARD abc
iptables v1.8.9 (nf_tables): Invalid rule number `abc'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -I FORWARD 3 -j ACCEPT
iptables: Index of insertion too big.
[exit=1]
$ iptables -I FORWARD 2 -j ACCEPT
[exit=0]
$ iptables -I FORWARD 0 -j ACCEPT
iptables v1.8.9 (nf_tables): Invalid rule number `0'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -R FORWARD 5 -j ACCEPT
iptables: Index of replacement too big.
[exit=1]
$ iptables -R FORWARD 0 -j ACCEPT
iptables v1.8.9 (nf_tables): Invalid rule number `0'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -R FORWARD -j ACCEPT
iptables v1.8.9 (nf_tables): -R requires a rule number
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A NOPE -j ACCEPT
iptables: No chain/target/match by that name.
[exit=1]
$ iptables -I NOPE -j ACCEPT
iptables: No chain/target/match by that name.
[exit=1]
$ iptables -D NOPE 1
iptables: No chain/target/match by that name.
[exit=1]
$ iptables -F NOPE
iptables: No chain/target/match by that name.
[exit=1]
$ iptables -Z NOPE
iptables: No chain/target/match by that name.
[exit=1]
$ iptables -L NOPE
iptables v1.8.9 (nf_tables): chain `NOPE' in table `filter' is incompatible, use 'nft' tool.
[exit=1]
$ iptables -S NOPE
iptables v1.8.9 (nf_tables): chain `NOPE' in table `filter' is incompatible, use 'nft' tool.
[exit=1]
$ iptables -X NOPE
iptables: No chain/target/match by that name.
[exit=1]
$ iptables -X FORWARD
iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain FORWARD
[exit=4]
$ iptables -N FORWARD
iptables: Chain already exists.
[exit=1]
$ iptables -N Y
[exit=0]
$ iptables -A Y -j ACCEPT
[exit=0]
$ iptables -X Y
iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain Y
[exit=4]
$ iptables -N Z
[exit=0]
$ iptables -A FORWARD -j Z
[exit=0]
$ iptables -X Z
iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain Z
[exit=4]
$ iptables -X
iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain Y
[exit=4]
$ iptables -D FORWARD -j Z
[exit=0]
$ iptables -X
iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain Y
[exit=4]
$ iptables -S
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N Y
-N Z
-A FORWARD -s 1.2.3.4/32 -j DROP
-A FORWARD -j ACCEPT
-A Y -j ACCEPT
[exit=0]
$ iptables -A FORWARD -g NOSUCH
iptables v1.8.9 (nf_tables): Chain 'NOSUCH' does not exist
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -j
iptables v1.8.9 (nf_tables): option "-j" requires an argument
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A
iptables v1.8.9 (nf_tables): option "-A" requires an argument
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables
iptables v1.8.9 (nf_tables): no command specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -j ACCEPT -j DROP
iptables v1.8.9 (nf_tables): multiple -j flags not allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -L
iptables v1.8.9 (nf_tables): Cannot use -L with -A
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -N "with space"
iptables v1.8.9 (nf_tables): Invalid chain name `with space'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -N -bad
iptables v1.8.9 (nf_tables): chain name not allowed to start with `-'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -N 01234567890123456789012345678
iptables v1.8.9 (nf_tables): chain name `01234567890123456789012345678' too long (must be under 29 chars)
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -N 0123456789012345678901234567
[exit=0]
$ iptables -N ACCEPT
iptables v1.8.9 (nf_tables): chain name may not clash with target name
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -N DNAT
iptables v1.8.9 (nf_tables): chain name may not clash with target name
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -D FORWARD -s 1.2.3.4/32 -j DROP
[exit=0]
$ iptables -S FORWARD
-P FORWARD ACCEPT
-A FORWARD -j ACCEPT
[exit=0]
$ iptables -D FORWARD 1
[exit=0]
$ iptables -L FORWARD --line-numbers -n
Chain FORWARD (policy ACCEPT)
num  target     prot opt source               destination         
[exit=0]
### scenario
$ iptables -A FORWARD -p foo
iptables v1.8.9 (nf_tables): unknown protocol "foo" specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -p 300
iptables v1.8.9 (nf_tables): unknown protocol "300" specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -p 4 -j ACCEPT
[exit=0]
$ iptables -A FORWARD -p 47
[exit=0]
$ iptables -A FORWARD -p 0
[exit=0]
$ iptables -A FORWARD -p all
[exit=0]
$ iptables -A FORWARD ! -p udp
[exit=0]
$ iptables -A FORWARD -p TCP
[exit=0]
$ iptables -A FORWARD -p 255
[exit=0]
$ iptables -A FORWARD -s 1.2.3
[exit=0]
$ iptables -A FORWARD -s 1.2.3.4/33
iptables v1.8.9 (nf_tables): invalid mask `33' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -s 1.2.3.4/24 -d 10.0.0.0/255.0.0.0 -j ACCEPT
[exit=0]
$ iptables -A FORWARD -s 0/0 -d 0.0.0.0/0
[exit=0]
$ iptables -A FORWARD ! -s 0/0
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain FORWARD
[exit=4]
$ iptables -A FORWARD -s localhost
[exit=0]
$ iptables -A FORWARD -s 10
[exit=0]
$ iptables -A FORWARD -s 1.2.3.4/abc
iptables v1.8.9 (nf_tables): invalid mask `abc' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -s foo.invalid
iptables v1.8.9 (nf_tables): host/network `foo.invalid' not found
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -s
iptables v1.8.9 (nf_tables): option "-s" requires an argument
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -s 1.1.1.1 -s 2.2.2.2
iptables v1.8.9 (nf_tables): multiple -s flags not allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD ! ! -s 1.1.1.1
iptables v1.8.9 (nf_tables): multiple consecutive ! not allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD -s ! 1.1.1.1
Bad argument `1.1.1.1'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A FORWARD ! -j ACCEPT
iptables v1.8.9 (nf_tables): cannot have ! before -j
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -S FORWARD
-P FORWARD ACCEPT
-A FORWARD -p ipencap -j ACCEPT
-A FORWARD -p gre
-A FORWARD
-A FORWARD
-A FORWARD ! -p udp
-A FORWARD -p tcp
-A FORWARD -p 255
-A FORWARD -s 1.2.3.0/32
-A FORWARD -s 1.2.3.0/24 -d 10.0.0.0/8 -j ACCEPT
-A FORWARD
-A FORWARD -s 127.0.0.1/32
-A FORWARD -s 10.0.0.0/32
[exit=0]
$ iptables -L FORWARD
Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     ipencap --  anywhere             anywhere            
           gre  --  anywhere             anywhere            
           all  --  anywhere             anywhere            
           all  --  anywhere             anywhere            
          !udp  --  anywhere             anywhere            
           tcp  --  anywhere             anywhere            
           255  --  anywhere             anywhere            
           all  --  1.2.3.0              anywhere            
ACCEPT     all  --  1.2.3.0/24           10.0.0.0/8          
           all  --  anywhere             anywhere            
           all  --  localhost            anywhere            
           all  --  10.0.0.0             anywhere            
[exit=0]
$ iptables -L FORWARD -v -n
Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     4    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            47   --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0           !17   --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            255  --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            0    --  *      *       1.2.3.0              0.0.0.0/0           
    0     0 ACCEPT     0    --  *      *       1.2.3.0/24           10.0.0.0/8          
    0     0            0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0            0    --  *      *       127.0.0.1            0.0.0.0/0           
    0     0            0    --  *      *       10.0.0.0             0.0.0.0/0           
[exit=0]
### scenario
$ iptables -A INPUT -m comment --comment x -p tcp --dport 80 -m mark --mark 1 -s 1.1.1.1 -i eth0
[exit=0]
$ iptables -A INPUT -p tcp -m comment --comment y --sport 5 -m tcp --dport 6
[exit=0]
$ iptables -A INPUT -p tcp --dport 7 -m tcp --sport 8
[exit=0]
$ iptables -A INPUT -m tcp -p tcp
[exit=0]
$ iptables -A INPUT -p udp -m udp -m comment --comment z --dport 53
[exit=0]
$ iptables -A INPUT -p tcp --sport 1 --dport 2 --sport 3
iptables v1.8.9 (nf_tables): Only one `--source-port' allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m conntrack --ctstate NEW -m conntrack --ctstate ESTABLISHED
[exit=0]
$ iptables -A INPUT -p icmp --icmp-type echo-request -m comment --comment c
[exit=0]
$ iptables -A INPUT -m comment --comment c -p icmp --icmp-type echo-request
[exit=0]
$ iptables -A INPUT -p icmp --icmp-type 3/99
[exit=0]
$ iptables -A INPUT -p icmp --icmp-type 300
iptables v1.8.9 (nf_tables): Unknown ICMP type `300'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp --icmp-type ttl
iptables v1.8.9 (nf_tables): Ambiguous ICMP type `ttl': `ttl-exceeded' or `ttl-zero-during-transit'?
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp ! --icmp-type pong
[exit=0]
$ iptables -S INPUT
-P INPUT ACCEPT
-A INPUT -s 1.1.1.1/32 -i eth0 -p tcp -m comment --comment x -m tcp --dport 80 -m mark --mark 0x1
-A INPUT -p tcp -m comment --comment y -m tcp --sport 5 --dport 6
-A INPUT -p tcp -m tcp --sport 8 --dport 7
-A INPUT -p tcp -m tcp
-A INPUT -p udp -m udp --dport 53 -m comment --comment z
-A INPUT -p tcp -m conntrack --ctstate NEW -m conntrack --ctstate ESTABLISHED
-A INPUT -p icmp -m icmp --icmp-type 8 -m comment --comment c
-A INPUT -p icmp -m comment --comment c -m icmp --icmp-type 8
-A INPUT -p icmp -m icmp --icmp-type 3/99
-A INPUT -p icmp -m icmp ! --icmp-type 0
[exit=0]
$ iptables -L INPUT
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
           tcp  --  1.1.1.1              anywhere             /* x */ tcp dpt:http mark match 0x1
           tcp  --  anywhere             anywhere             /* y */ tcp spt:5 dpt:6
           tcp  --  anywhere             anywhere             tcp spt:8 dpt:echo
           tcp  --  anywhere             anywhere             tcp
           udp  --  anywhere             anywhere             udp dpt:domain /* z */
           tcp  --  anywhere             anywhere             ctstate NEW ctstate ESTABLISHED
           icmp --  anywhere             anywhere             icmp echo-request /* c */
           icmp --  anywhere             anywhere             /* c */ icmp echo-request
           icmp --  anywhere             anywhere             icmptype 3 code 99
           icmp --  anywhere             anywhere             icmp !echo-reply
[exit=0]
$ iptables -L INPUT -n
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
           6    --  1.1.1.1              0.0.0.0/0            /* x */ tcp dpt:80 mark match 0x1
           6    --  0.0.0.0/0            0.0.0.0/0            /* y */ tcp spt:5 dpt:6
           6    --  0.0.0.0/0            0.0.0.0/0            tcp spt:8 dpt:7
           6    --  0.0.0.0/0            0.0.0.0/0            tcp
           17   --  0.0.0.0/0            0.0.0.0/0            udp dpt:53 /* z */
           6    --  0.0.0.0/0            0.0.0.0/0            ctstate NEW ctstate ESTABLISHED
           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 8 /* c */
           1    --  0.0.0.0/0            0.0.0.0/0            /* c */ icmptype 8
           1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 99
           1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 0
[exit=0]
### scenario
$ iptables -A INPUT -p tcp --dport http
[exit=0]
$ iptables -A INPUT -p tcp --dport 65536
iptables v1.8.9 (nf_tables): invalid port/service `65536' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp --dport 90:80
iptables v1.8.9 (nf_tables): invalid portrange (min > max)
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp --dport 80:
[exit=0]
$ iptables -A INPUT -p tcp --dport :90
[exit=0]
$ iptables -A INPUT -p tcp --dport :
[exit=0]
$ iptables -A INPUT -p tcp --dport 80-90
iptables v1.8.9 (nf_tables): invalid port/service `80-90' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp --dport 1,2
iptables v1.8.9 (nf_tables): invalid port/service `1,2' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p udp --sport 53 --sport 54
iptables v1.8.9 (nf_tables): udp: option "--source-port" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p udp --dport 53 --dport 54
iptables v1.8.9 (nf_tables): udp: option "--destination-port" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m udp --dport 5
iptables v1.8.9 (nf_tables): UDP match requires '-p udp'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m tcp --dport 5
iptables v1.8.9 (nf_tables): TCP match requires '-p tcp'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p all --dport 5
iptables v1.8.9 (nf_tables): unknown option "--dport"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp --dport 5
iptables v1.8.9 (nf_tables): unknown option "--dport"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT ! -p tcp --dport 5
[exit=0]
$ iptables -A INPUT -p tcp --source-port 1 --destination-port 2
[exit=0]
$ iptables -A INPUT -p tcp ! --dport 22
[exit=0]
$ iptables -A INPUT -p tcp --dport ! 22
iptables v1.8.9 (nf_tables): invalid port/service `!' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p udp -m multiport --dports 53,http,8000:8080
iptables v1.8.9 (nf_tables): invalid port/service `http' specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m multiport ! --sports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15
[exit=0]
$ iptables -A INPUT -p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16
iptables v1.8.9 (nf_tables): too many ports specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m multiport --dports 80 --sports 90
iptables v1.8.9 (nf_tables): multiport: option "--source-ports" cannot be used together with "--destination-ports".

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m multiport --dports 90:80
iptables v1.8.9 (nf_tables): invalid portrange specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp -m multiport --dports 80
iptables v1.8.9 (nf_tables): multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m multiport --dports 80
iptables v1.8.9 (nf_tables): multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m multiport
iptables v1.8.9 (nf_tables): multiport expection an option
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -S INPUT
-P INPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 80
-A INPUT -p tcp -m tcp --dport 80:65535
-A INPUT -p tcp -m tcp --dport 0:90
-A INPUT -p tcp -m tcp
-A INPUT ! -p tcp -m tcp --dport 5
-A INPUT -p tcp -m tcp --sport 1 --dport 2
-A INPUT -p tcp -m tcp ! --dport 22
-A INPUT -p tcp -m multiport ! --sports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15
[exit=0]
$ iptables -L INPUT
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
           tcp  --  anywhere             anywhere             tcp dpt:http
           tcp  --  anywhere             anywhere             tcp dpts:http:65535
           tcp  --  anywhere             anywhere             tcp dpts:0:90
           tcp  --  anywhere             anywhere             tcp
          !tcp  --  anywhere             anywhere             tcp dpt:5
           tcp  --  anywhere             anywhere             tcp spt:tcpmux dpt:2
           tcp  --  anywhere             anywhere             tcp dpt:!ssh
           tcp  --  anywhere             anywhere             multiport sports  !tcpmux:2,3:4,5:6,echo:8,discard:10,systat:12,daytime:14,netstat
[exit=0]
$ iptables -L INPUT -n -v --line-numbers
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80
2        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpts:80:65535
3        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpts:0:90
4        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp
5        0     0           !6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:5
6        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp spt:1 dpt:2
7        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:!22
8        0     0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport sports  !1:2,3:4,5:6,7:8,9:10,11:12,13:14,15
[exit=0]
### scenario
$ iptables -A INPUT -m state --state FOO
iptables v1.8.9 (nf_tables): Bad state "FOO"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m state --state NEW,DNAT
iptables v1.8.9 (nf_tables): Bad state "DNAT"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m conntrack --ctstate FOO
iptables v1.8.9 (nf_tables): Bad ctstate "FOO"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m conntrack
iptables v1.8.9 (nf_tables): conntrack: At least one option is required
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m state
iptables v1.8.9 (nf_tables): state: option "--state" must be specified

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m conntrack --ctstate new,Established
[exit=0]
$ iptables -A INPUT -m state ! --state NEW
[exit=0]
$ iptables -A INPUT -m conntrack ! --ctstate DNAT,SNAT,UNTRACKED,INVALID
[exit=0]
$ iptables -A INPUT -m foo
iptables v1.8.9 (nf_tables): Couldn't load match `foo':No such file or directory

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m
iptables v1.8.9 (nf_tables): option "-m" requires an argument
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT --ctstate NEW
iptables v1.8.9 (nf_tables): unknown option "--ctstate"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m addrtype
iptables v1.8.9 (nf_tables): addrtype: you must specify --src-type or --dst-type
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m addrtype --src-type FOO
iptables v1.8.9 (nf_tables): addrtype: bad type "FOO"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m addrtype --src-type local
[exit=0]
$ iptables -A INPUT -m addrtype --dst-type LOCAL --limit-iface-in --limit-iface-out
iptables v1.8.9 (nf_tables): addrtype: option "--limit-iface-in" cannot be used together with "--limit-iface-out".

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m addrtype --dst-type LOCAL --limit-iface-out
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT
[exit=4]
$ iptables -A OUTPUT -m addrtype ! --dst-type LOCAL --limit-iface-out
[exit=0]
$ iptables -A INPUT -m statistic
iptables v1.8.9 (nf_tables): --probability must be specified when using random mode
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode random
iptables v1.8.9 (nf_tables): --probability must be specified when using random mode
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode foo
iptables v1.8.9 (nf_tables): Bad mode "foo"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode random --probability 2
iptables v1.8.9 (nf_tables): statistic: bad value for option "--probability", or out of range (0-1).

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode random --probability abc
iptables v1.8.9 (nf_tables): statistic: bad value for option "--probability", or out of range (0-1).

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode random --every 2
iptables v1.8.9 (nf_tables): --probability must be specified when using random mode
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode nth --every 0 --packet 0
iptables v1.8.9 (nf_tables): statistic: bad value for option "--every", or out of range (1-4294967295).

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode nth --every 2 --packet 2
iptables v1.8.9 (nf_tables): the --packet p must be 0 <= p <= n-1
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode nth --every 2
iptables v1.8.9 (nf_tables): statistic: option "--every" also requires "--packet".

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode nth --every 2 --packet 1 --probability 0.5
iptables v1.8.9 (nf_tables): statistic: option "--probability" cannot be used together with "--every".

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --probability 0.5
iptables v1.8.9 (nf_tables): statistic: option "--mode" must be specified

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode random --probability 0.33333
[exit=0]
$ iptables -A INPUT -m statistic --mode random --probability 0.3333333333
[exit=0]
$ iptables -A INPUT -m statistic --mode random --probability 0.2
[exit=0]
$ iptables -A INPUT -m statistic --mode random ! --probability 1
[exit=0]
$ iptables -A INPUT -m statistic --mode nth ! --every 3 --packet 2
[exit=0]
$ iptables -A INPUT -m mark --mark 0x4000/0x4000
[exit=0]
$ iptables -A INPUT -m mark ! --mark 5
[exit=0]
$ iptables -A INPUT -m mark --mark abc
iptables v1.8.9 (nf_tables): mark: bad integer value for option "--mark", or out of range.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m mark
iptables v1.8.9 (nf_tables): mark: option "--mark" must be specified

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -S
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -m conntrack --ctstate NEW,ESTABLISHED
-A INPUT -m state ! --state NEW
-A INPUT -m conntrack ! --ctstate INVALID,UNTRACKED,SNAT,DNAT
-A INPUT -m addrtype --src-type LOCAL
-A INPUT -m statistic --mode random --probability 0.33332999982
-A INPUT -m statistic --mode random --probability 0.33333333349
-A INPUT -m statistic --mode random --probability 0.20000000019
-A INPUT -m statistic --mode random ! --probability 1.00000000000
-A INPUT -m statistic --mode nth ! --every 3 --packet 2
-A INPUT -m mark --mark 0x4000/0x4000
-A INPUT -m mark ! --mark 0x5
-A OUTPUT -m addrtype ! --dst-type LOCAL --limit-iface-out
[exit=0]
$ iptables -L
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
           all  --  anywhere             anywhere             ctstate NEW,ESTABLISHED
           all  --  anywhere             anywhere             ! state NEW
           all  --  anywhere             anywhere             ! ctstate INVALID,UNTRACKED,SNAT,DNAT
           all  --  anywhere             anywhere             ADDRTYPE match src-type LOCAL
           all  --  anywhere             anywhere             statistic mode random probability 0.33332999982
           all  --  anywhere             anywhere             statistic mode random probability 0.33333333349
           all  --  anywhere             anywhere             statistic mode random probability 0.20000000019
           all  --  anywhere             anywhere             statistic mode random ! probability 1.00000000000
           all  --  anywhere             anywhere             statistic mode nth ! every 3 packet 2
           all  --  anywhere             anywhere             mark match 0x4000/0x4000
           all  --  anywhere             anywhere             mark match ! 0x5

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
           all  --  anywhere             anywhere             ADDRTYPE match dst-type !LOCAL limit-out
[exit=0]
$ iptables -L -n
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
           0    --  0.0.0.0/0            0.0.0.0/0            ctstate NEW,ESTABLISHED
           0    --  0.0.0.0/0            0.0.0.0/0            ! state NEW
           0    --  0.0.0.0/0            0.0.0.0/0            ! ctstate INVALID,UNTRACKED,SNAT,DNAT
           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type LOCAL
           0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.33332999982
           0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.33333333349
           0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.20000000019
           0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random ! probability 1.00000000000
           0    --  0.0.0.0/0            0.0.0.0/0            statistic mode nth ! every 3 packet 2
           0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x4000/0x4000
           0    --  0.0.0.0/0            0.0.0.0/0            mark match ! 0x5

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
           0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type !LOCAL limit-out
[exit=0]
### scenario
$ iptables -A INPUT -j LOG --log-level 3
[exit=0]
$ iptables -A INPUT -j LOG --log-level warning
[exit=0]
$ iptables -A INPUT -j LOG --log-level warn
iptables v1.8.9 (nf_tables): log level "warn" unknown

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -j LOG --log-level 8
iptables v1.8.9 (nf_tables): log level "8" unknown

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -j LOG --log-prefix "a b\"c" --log-level info
[exit=0]
$ iptables -A INPUT -j LOG --log-prefix ""
iptables v1.8.9 (nf_tables): Argument must have a minimum length of 1 characters

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -j LOG --log-prefix 012345678901234567890123456789
[exit=0]
$ iptables -A INPUT -j MARK --set-xmark 0x10/0xff
[exit=0]
$ iptables -A INPUT -j MARK --set-xmark 4294967296
iptables v1.8.9 (nf_tables): MARK: bad integer value for option "--set-xmark", or out of range.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -j MARK --set-xmark 0x10/0x10/0
iptables v1.8.9 (nf_tables): MARK: trailing garbage after value for option "--set-xmark".

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -j MARK --set-mark 5
[exit=0]
$ iptables -A INPUT -j MARK --or-mark 0x4000
[exit=0]
$ iptables -A INPUT -j MARK --and-mark 0xff
[exit=0]
$ iptables -A INPUT -j MARK --xor-mark 3
[exit=0]
$ iptables -A INPUT -j MARK --set-xmark 0/0xffffffff
[exit=0]
$ iptables -A INPUT -j MARK
iptables v1.8.9 (nf_tables): MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -j REJECT --reject-with tcp-reset
[exit=0]
$ iptables -A INPUT -j REJECT --reject-with tcp-reset
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT
[exit=4]
$ iptables -A INPUT -j REJECT --reject-with host-prohib
[exit=0]
$ iptables -A INPUT -j REJECT --reject-with foo
iptables v1.8.9 (nf_tables): unknown reject type "foo"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -j REJECT --reject-with icmp-net-unreachable --reject-with icmp-host-unreachable
iptables v1.8.9 (nf_tables): REJECT: option "--reject-with" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m comment --comment "a b" -m comment --comment "a'b\\c" -j REJECT
[exit=0]
$ iptables -A INPUT -m comment --comment ""
[exit=0]
$ iptables -S INPUT
-P INPUT ACCEPT
-A INPUT -j LOG --log-level 3
-A INPUT -j LOG
-A INPUT -j LOG --log-prefix "a b\"c" --log-level 6
-A INPUT -j LOG --log-prefix 01234567890123456789012345678
-A INPUT -j MARK --set-xmark 0x10/0xff
-A INPUT -j MARK --set-xmark 0x5/0xffffffff
-A INPUT -j MARK --set-xmark 0x4000/0x4000
-A INPUT -j MARK --set-xmark 0x0/0xffffff00
-A INPUT -j MARK --set-xmark 0x3/0x0
-A INPUT -j MARK --set-xmark 0x0/0xffffffff
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A INPUT -m comment --comment "a b" -m comment --comment "a\'b\\c" -j REJECT --reject-with icmp-port-unreachable
-A INPUT -m comment --comment ""
[exit=0]
$ iptables -L INPUT
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
LOG        all  --  anywhere             anywhere             LOG level err
LOG        all  --  anywhere             anywhere             LOG level warn
LOG        all  --  anywhere             anywhere             LOG level info prefix "a b"c"
LOG        all  --  anywhere             anywhere             LOG level warn prefix "01234567890123456789012345678"
MARK       all  --  anywhere             anywhere             MARK xset 0x10/0xff
MARK       all  --  anywhere             anywhere             MARK set 0x5
MARK       all  --  anywhere             anywhere             MARK or 0x4000
MARK       all  --  anywhere             anywhere             MARK and 0xff
MARK       all  --  anywhere             anywhere             MARK xor 0x3
MARK       all  --  anywhere             anywhere             MARK and 0x0
REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset
REJECT     all  --  anywhere             anywhere             reject-with icmp-host-prohibited
REJECT     all  --  anywhere             anywhere             /* a b */ /* a'b\c */ reject-with icmp-port-unreachable
           all  --  anywhere             anywhere             /*  */
[exit=0]
$ iptables -L INPUT -n -v -x
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 3
       0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4
       0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 6 prefix "a b"c"
       0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4 prefix "01234567890123456789012345678"
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK xset 0x10/0xff
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK set 0x5
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK or 0x4000
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK and 0xff
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK xor 0x3
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK and 0x0
       0        0 REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset
       0        0 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with icmp-host-prohibited
       0        0 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* a b */ /* a'b\c */ reject-with icmp-port-unreachable
       0        0            0    --  *      *       0.0.0.0/0            0.0.0.0/0            /*  */
[exit=0]
### scenario
$ iptables -t nat -N D
[exit=0]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 1.2.3.4:80-90
[exit=0]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 1.2.3.4-1.2.3.9:80
[exit=0]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination :80
[exit=0]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 1.2.3.4:90-80
iptables v1.8.9 (nf_tables): Port range `80' funky
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 1.2.3.4:
iptables v1.8.9 (nf_tables): Port `' not valid
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 1.2.3.4:abc
iptables v1.8.9 (nf_tables): Port `abc' not valid
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 300.1.1.1
iptables v1.8.9 (nf_tables): Bad IP address "300.1.1.1"
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j DNAT --to-destination 1.1.1.1 --to-destination 2.2.2.2
iptables v1.8.9 (nf_tables): DNAT: option "--to-destination" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j DNAT --to 5.5.5.5:55
[exit=0]
$ iptables -t nat -A D -p udp -j SNAT --to-source 1.2.3.4-1.2.3.9:80-90
[exit=0]
$ iptables -t nat -A D -j SNAT --to-source 1.1.1.1:80
iptables v1.8.9 (nf_tables): Need TCP, UDP, SCTP or DCCP with port specification
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -j SNAT
iptables v1.8.9 (nf_tables): SNAT: option "--to-source" must be specified

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -j MASQUERADE --to-ports 80
iptables v1.8.9 (nf_tables): Need TCP, UDP, SCTP or DCCP with port specification
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j MASQUERADE --to-ports 80-70
iptables v1.8.9 (nf_tables): Port range `70' funky
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -p tcp -j MASQUERADE --to-ports abc
iptables v1.8.9 (nf_tables): Port `abc' not valid
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -A D -j MASQUERADE --random --random-fully
[exit=0]
$ iptables -t nat -A D -p tcp -j MASQUERADE --to-ports 1000-2000 --random
[exit=0]
$ iptables -t nat -A PREROUTING -j D
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING
[exit=4]
$ iptables -t nat -A POSTROUTING -j D
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING
[exit=4]
$ iptables -t nat -S
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N D
-A D -p tcp -j DNAT --to-destination 1.2.3.4:80-90
-A D -p tcp -j DNAT --to-destination 1.2.3.4-1.2.3.9:80
-A D -p tcp -j DNAT --to-destination :80
-A D -p tcp -j DNAT --to-destination 5.5.5.5:55
-A D -p udp -j SNAT --to-source 1.2.3.4-1.2.3.9:80-90
-A D -j MASQUERADE --random --random-fully
-A D -p tcp -j MASQUERADE --to-ports 1000-2000 --random
[exit=0]
$ iptables -t nat -L -n
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain D (0 references)
target     prot opt source               destination         
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:1.2.3.4:80-90
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:1.2.3.4-1.2.3.9:80
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            to::80
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            to:5.5.5.5:55
SNAT       17   --  0.0.0.0/0            0.0.0.0/0            to:1.2.3.4-1.2.3.9:80-90
MASQUERADE  0    --  0.0.0.0/0            0.0.0.0/0            random random-fully
MASQUERADE  6    --  0.0.0.0/0            0.0.0.0/0            masq ports: 1000-2000 random
[exit=0]
$ iptables -t nat -L
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain D (0 references)
target     prot opt source               destination         
DNAT       tcp  --  anywhere             anywhere             to:1.2.3.4:80-90
DNAT       tcp  --  anywhere             anywhere             to:1.2.3.4-1.2.3.9:80
DNAT       tcp  --  anywhere             anywhere             to::80
DNAT       tcp  --  anywhere             anywhere             to:5.5.5.5:55
SNAT       udp  --  anywhere             anywhere             to:1.2.3.4-1.2.3.9:80-90
MASQUERADE  all  --  anywhere             anywhere             random random-fully
MASQUERADE  tcp  --  anywhere             anywhere             masq ports: 1000-2000 random
[exit=0]
$ iptables-save
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:D - [0:0]
-A D -p tcp -j DNAT --to-destination 1.2.3.4:80-90
-A D -p tcp -j DNAT --to-destination 1.2.3.4-1.2.3.9:80
-A D -p tcp -j DNAT --to-destination :80
-A D -p tcp -j DNAT --to-destination 5.5.5.5:55
-A D -p udp -j SNAT --to-source 1.2.3.4-1.2.3.9:80-90
-A D -j MASQUERADE --random --random-fully
-A D -p tcp -j MASQUERADE --to-ports 1000-2000 --random
COMMIT
[exit=0]
### scenario
$ iptables -A INPUT -i 0123456789abcdef
iptables v1.8.9 (nf_tables): interface name `0123456789abcdef' must be shorter than IFNAMSIZ (15)
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -i 0123456789abcde
[exit=0]
$ iptables -A INPUT -i eth+ -o br0
iptables v1.8.9 (nf_tables): Can't use -o with INPUT

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -i +
[exit=0]
$ iptables -A INPUT -i ""
iptables v1.8.9 (nf_tables): Empty interface is likely to be undesired
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m physdev
iptables v1.8.9 (nf_tables): PHYSDEV: no physdev option specified
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m physdev --physdev-in 0123456789abcdef
iptables v1.8.9 (nf_tables): interface name `0123456789abcdef' must be shorter than IFNAMSIZ (15)
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m physdev --physdev-out x
[exit=0]
$ iptables -A OUTPUT -m physdev --physdev-out x
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT
[exit=4]
$ iptables -A FORWARD -m physdev --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
[exit=0]
$ iptables -A FORWARD ! -i docker0 -o docker0 -m physdev ! --physdev-is-bridged
[exit=0]
$ iptables -S
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -i 0123456789abcde
-A INPUT
-A INPUT -m physdev --physdev-out x
-A FORWARD -m physdev --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
-A FORWARD ! -i docker0 -o docker0 -m physdev ! --physdev-is-bridged
[exit=0]
$ iptables -L -v
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0            all  --  0123456789abcde any     anywhere             anywhere            
    0     0            all  --  any    any     anywhere             anywhere            
    0     0            all  --  any    any     anywhere             anywhere             PHYSDEV match --physdev-out x

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0            all  --  any    any     anywhere             anywhere             PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
    0     0            all  --  !docker0 docker0  anywhere             anywhere             PHYSDEV match ! --physdev-is-bridged

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
$ iptables -N U
[exit=0]
$ iptables -L U
Chain U (0 references)
target     prot opt source               destination         
[exit=0]
$ iptables -L U -v
Chain U (0 references)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
$ iptables -Z
[exit=0]
$ iptables -F
[exit=0]
$ iptables -S
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N U
[exit=0]
$ iptables -X
[exit=0]
$ iptables -S
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
[exit=0]
### scenario
$ iptables -N LOOP
[exit=0]
$ iptables -A LOOP -j LOOP
[exit=0]
$ iptables -A INPUT -j LOOP
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain INPUT
[exit=4]
$ iptables -N A
[exit=0]
$ iptables -A INPUT -j A
[exit=0]
$ iptables -A A -j A
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain A
[exit=4]
$ iptables -I INPUT 2 -j LOOP
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain INPUT
[exit=4]
$ iptables -S
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N A
-N LOOP
-A INPUT -j A
-A LOOP -j LOOP
[exit=0]
$ iptables -N ZZ
[exit=0]
$ iptables -N AA
[exit=0]
$ iptables -A ZZ -j AA
[exit=0]
$ iptables -L -n
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
A          0    --  0.0.0.0/0            0.0.0.0/0           

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain A (1 references)
target     prot opt source               destination         

Chain AA (1 references)
target     prot opt source               destination         

Chain LOOP (1 references)
target     prot opt source               destination         
LOOP       0    --  0.0.0.0/0            0.0.0.0/0           

Chain ZZ (0 references)
target     prot opt source               destination         
AA         0    --  0.0.0.0/0            0.0.0.0/0           
[exit=0]
### scenario
$ iptables -V
iptables v1.8.9 (nf_tables)
[exit=0]
$ iptables --version
iptables v1.8.9 (nf_tables)
[exit=0]
$ iptables -L -t filter -n INPUT
Bad argument `INPUT'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -nL INPUT
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
[exit=0]
$ iptables -vnL
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
$ iptables --list-rules FORWARD
-P FORWARD ACCEPT
[exit=0]
$ iptables -S FORWARD -v
-P FORWARD ACCEPT -c 0 0
[exit=0]
$ iptables --line-numbers -L
Chain INPUT (policy ACCEPT)
num  target     prot opt source               destination         

Chain FORWARD (policy ACCEPT)
num  target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
num  target     prot opt source               destination         
[exit=0]
$ iptables -L --numeric
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
[exit=0]
$ iptables -L --verbose --exact INPUT
Bad argument `INPUT'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -w -j ACCEPT
[exit=0]
$ iptables -A INPUT --wait 5 -j ACCEPT
[exit=0]
$ iptables -w 5 -S INPUT
-P INPUT ACCEPT
-A INPUT -j ACCEPT
-A INPUT -j ACCEPT
[exit=0]
$ iptables -A INPUT -j ACCEPT extra
Bad argument `extra'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -L INPUT extra
iptables v1.8.9 (nf_tables): Invalid rule number `extra'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -S INPUT 1 -n
iptables v1.8.9 (nf_tables): Illegal option `-n' with this command
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -S INPUT 2
-A INPUT -j ACCEPT
[exit=0]
$ iptables -L INPUT 3
[exit=0]
$ iptables -L INPUT 2 -v --line-numbers
2        0     0 ACCEPT     all  --  any    any     anywhere             anywhere            
[exit=0]
$ iptables -A INPUT -n -j ACCEPT
iptables v1.8.9 (nf_tables): Illegal option `-n' with this command
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -F INPUT -s 1.1.1.1
iptables v1.8.9 (nf_tables): Illegal option `-s' with this command
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables --append INPUT --source 1.2.3.4 --protocol tcp --destination-port 80 --jump ACCEPT
[exit=0]
$ iptables --insert INPUT 1 --in-interface lo --jump ACCEPT
[exit=0]
$ iptables --new-chain FOO
[exit=0]
$ iptables --policy FORWARD DROP
[exit=0]
$ iptables --list-rules
-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N FOO
-A INPUT -i lo -j ACCEPT
-A INPUT -j ACCEPT
-A INPUT -j ACCEPT
-A INPUT -s 1.2.3.4/32 -p tcp -m tcp --dport 80 -j ACCEPT
[exit=0]
$ iptables --delete INPUT 1
[exit=0]
$ iptables --flush INPUT
[exit=0]
$ iptables --delete-chain FOO
[exit=0]
$ iptables --zero
[exit=0]
$ iptables --list --numeric --verbose
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy DROP 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
### scenario
$ iptables -A INPUT -m comment
iptables v1.8.9 (nf_tables): comment: option "--comment" must be specified

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp --icmp-type 8 --icmp-type 0
iptables v1.8.9 (nf_tables): icmp: option "--icmp-type" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT ! -p all
iptables v1.8.9 (nf_tables): rule would never match protocol
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT ! -p 0
iptables v1.8.9 (nf_tables): rule would never match protocol
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -P INPUT
iptables v1.8.9 (nf_tables): -P requires a chain and a policy
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -t nat -t nat -L
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         
[exit=0]
$ iptables -A INPUT -p tcp -p udp
iptables v1.8.9 (nf_tables): multiple -p flags not allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -i a -i b
iptables v1.8.9 (nf_tables): multiple -i flags not allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -6 -L
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp -m multiport --dports 1 --dports 2
iptables v1.8.9 (nf_tables): multiport: option "--destination-ports" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p tcp --dport 1 --dport 2
iptables v1.8.9 (nf_tables): Only one `--destination-port' allowed
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m mark --mark 1 --mark 2
iptables v1.8.9 (nf_tables): mark: option "--mark" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m conntrack --ctstate NEW --ctstate INVALID
iptables v1.8.9 (nf_tables): conntrack: option "--ctstate" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp --icmp-type echo
iptables v1.8.9 (nf_tables): Ambiguous ICMP type `echo': `echo-reply' or `echo-request'?
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -p icmp --icmp-type 3/abc
iptables v1.8.9 (nf_tables): Unknown ICMP code `3/abc'
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m state ! --state NEW,RELATED
[exit=0]
$ iptables -A INPUT -j LOG --log-level alert --log-prefix x
[exit=0]
$ iptables -A INPUT -m statistic --mode nth --packet 1
iptables v1.8.9 (nf_tables): the --packet p must be 0 <= p <= n-1
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m statistic --mode random --probability 0.5 --probability 0.2
iptables v1.8.9 (nf_tables): statistic: option "--probability" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -A INPUT -m addrtype --src-type LOCAL --src-type UNICAST
iptables v1.8.9 (nf_tables): addrtype: option "--src-type" can only be used once.

Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
$ iptables -L INPUT -v
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0            all  --  any    any     anywhere             anywhere             ! state NEW,RELATED
    0     0 LOG        all  --  any    any     anywhere             anywhere             LOG level alert prefix "x"
[exit=0]
$ iptables -S INPUT
-P INPUT ACCEPT
-A INPUT -m state ! --state NEW,RELATED
-A INPUT -j LOG --log-prefix x --log-level 1
[exit=0]
$ iptables -N X
[exit=0]
$ iptables -A X -j RETURN
[exit=0]
$ iptables -A INPUT -g X
[exit=0]
$ iptables -A INPUT -j INPUT
iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Operation not supported): rule in chain INPUT
[exit=4]
$ iptables -Z INPUT
[exit=0]
$ iptables -L X -n -v
Chain X (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           
[exit=0]
$ iptables -S -Z
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N X
-A INPUT -m state ! --state NEW,RELATED
-A INPUT -j LOG --log-prefix x --log-level 1
-A INPUT -g X
-A X -j RETURN
[exit=0]
$ iptables -L -Z
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
           all  --  anywhere             anywhere             ! state NEW,RELATED
LOG        all  --  anywhere             anywhere             LOG level alert prefix "x"
X          all  --  anywhere             anywhere            [goto] 

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain X (1 references)
target     prot opt source               destination         
RETURN     all  --  anywhere             anywhere            
[exit=0]
$ iptables -F -Z
iptables v1.8.9 (nf_tables): Cannot use -Z with -F
Try `iptables -h' or 'iptables --help' for more information.
[exit=2]
"####;
}
