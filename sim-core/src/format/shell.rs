//! A shell for the commands the tutorials type: `ip` (link, addr, route, neigh, netns),
//! `bridge`, `brctl`, `sysctl`, `echo V > /proc/sys/...`, `sh -c`, `ip netns exec`, `ping`
//! and `arp`. Each command changes the world through [`crate::model::ops`] and answers with
//! what the real tool prints and its exit status.

use crate::engine::ping::{ping, PingOptions};
use crate::model::ops::{OpError, RouteSpec};
use crate::model::tunnel::VxlanSpec;
use crate::model::{HostId, IfId, IpTunnel, NsId, NudState, Proto, RouteType, Scope, World};
use crate::render::ip as show;
use crate::wire::Mac;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// What a command printed and how it exited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdResult {
    /// Exit status.
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error (the tool's message on failure).
    pub stderr: String,
}

impl CmdResult {
    fn ok() -> CmdResult {
        CmdResult::default()
    }
    fn out(s: String) -> CmdResult {
        CmdResult {
            status: 0,
            stdout: s,
            stderr: String::new(),
        }
    }
    fn err(status: i32, msg: impl Into<String>) -> CmdResult {
        let mut m = msg.into();
        if !m.ends_with('\n') {
            m.push('\n');
        }
        CmdResult {
            status,
            stdout: String::new(),
            stderr: m,
        }
    }
}

impl From<OpError> for CmdResult {
    fn from(e: OpError) -> CmdResult {
        CmdResult::err(e.status, e.msg)
    }
}

/// The shell: a world, the machine the commands run on, and the namespace they start in.
pub struct Shell<'w> {
    /// The world the commands change.
    pub world: &'w mut World,
    /// The machine (`ip netns` names are per machine).
    pub host: HostId,
}

/// Split a line into commands on unquoted `;`, `&&` and `||`, with the operator that
/// precedes each.
fn split_commands(line: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut op: &'static str = ";";
    let (mut sq, mut dq) = (false, false);
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' if !dq => sq = !sq,
            '"' if !sq => dq = !dq,
            _ => {}
        }
        if !sq && !dq {
            let next = chars.get(i + 1).copied();
            let sep = match (c, next) {
                (';', _) => Some((";", 1)),
                ('&', Some('&')) => Some(("&&", 2)),
                ('|', Some('|')) => Some(("||", 2)),
                _ => None,
            };
            if let Some((o, n)) = sep {
                out.push((op, std::mem::take(&mut cur)));
                op = o;
                i += n;
                continue;
            }
        }
        cur.push(c);
        i += 1;
    }
    out.push((op, cur));
    out.into_iter()
        .filter(|(_, c)| !c.trim().is_empty())
        .collect()
}

/// Quote one word for the shell (so `hopsim exec` passes arguments through intact).
pub fn quote(word: &str) -> String {
    shlex::try_quote(word)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| word.to_string())
}

/// iproute2's `matches()`: a non-empty prefix of the keyword.
fn matches(arg: &str, word: &str) -> bool {
    !arg.is_empty() && word.starts_with(arg)
}

/// iproute2's IPv4 address parser: 1 to 4 dotted numbers, missing ones are zero.
pub fn parse_inet(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut o = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        o[i] = p.parse().ok()?;
    }
    Some(Ipv4Addr::from(o))
}

/// `ADDR[/LEN]` as `ip addr add` and `ip route add` read it; a bare address is a /32.
/// Returns the prefix and whether a length was given.
pub fn parse_prefix(s: &str) -> Option<(Ipv4Net, bool)> {
    if s == "default" || s == "all" || s == "any" {
        return Some((Ipv4Net::default(), true));
    }
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr = parse_inet(a)?;
    let plen = match len {
        Some(l) if !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()) => {
            l.parse::<u8>().ok().filter(|x| *x <= 32)?
        }
        Some(_) => return None,
        None => 32,
    };
    Some((Ipv4Net::new(addr, plen).ok()?, len.is_some()))
}

fn bad_prefix(s: &str) -> CmdResult {
    CmdResult::err(
        1,
        format!("Error: any valid prefix is expected rather than \"{s}\"."),
    )
}

fn bad_inet(s: &str) -> CmdResult {
    CmdResult::err(
        1,
        format!("Error: inet address is expected rather than \"{s}\"."),
    )
}

fn need(v: Option<&str>) -> Result<&str, CmdResult> {
    v.ok_or_else(|| CmdResult::err(255, "Command line is not complete. Try option \"help\""))
}

fn need_arg() -> CmdResult {
    CmdResult::err(1, "Command line is not complete. Try option \"help\"")
}

impl Shell<'_> {
    /// Run one line (which may hold several commands) in namespace `ns`.
    pub fn run_line(&mut self, ns: NsId, line: &str) -> CmdResult {
        let mut last = CmdResult::ok();
        let mut acc = CmdResult::ok();
        for (op, cmd) in split_commands(line) {
            let run = match op {
                "&&" => last.status == 0,
                "||" => last.status != 0,
                _ => true,
            };
            if !run {
                continue;
            }
            last = self.run_command(ns, &cmd);
            acc.stdout.push_str(&last.stdout);
            acc.stderr.push_str(&last.stderr);
            acc.status = last.status;
        }
        acc
    }

    /// Run one simple command (no `;`).
    pub fn run_command(&mut self, ns: NsId, cmd: &str) -> CmdResult {
        let Some(mut argv) = shlex::split(cmd) else {
            return CmdResult::err(2, "bash: syntax error: unterminated quoted string");
        };
        if argv.first().is_some_and(|a| a == "sudo") {
            argv.remove(0);
        }
        // Output redirection (`echo 1 > /proc/sys/net/ipv4/ip_forward`): the shell opens
        // the file itself, in its own namespace, before running the command; the command's
        // output goes into it. So `ip netns exec C echo 1 > /proc/sys/...` sets the outer
        // namespace's value, not C's, exactly as bash does.
        if let Some(pos) = argv.iter().position(|a| a.starts_with('>')) {
            let target = if argv[pos] == ">" || argv[pos] == ">>" {
                argv.get(pos + 1).cloned()
            } else {
                Some(argv[pos].trim_start_matches('>').to_string())
            };
            let Some(target) = target else {
                return CmdResult::err(2, "bash: syntax error near unexpected token `newline'");
            };
            if !target.starts_with("/proc/sys/") {
                return CmdResult::err(
                    1,
                    format!("hopsim: writing to {target} is not modelled (only /proc/sys/...)"),
                );
            }
            if self.world.sysctl_get(ns, &target).is_err() {
                return CmdResult::err(1, format!("bash: {target}: No such file or directory"));
            }
            let inner: Vec<String> = argv[..pos].iter().map(|a| quote(a)).collect();
            let mut r = self.run_command(ns, &inner.join(" "));
            if r.status == 0 {
                let value = std::mem::take(&mut r.stdout);
                if let Err(e) = self.world.sysctl_set(ns, &target, value.trim()) {
                    return CmdResult::err(
                        1,
                        format!(
                            "bash: echo: write error: {}",
                            if e.msg.contains("Invalid") {
                                "Invalid argument"
                            } else {
                                "No such file or directory"
                            }
                        ),
                    );
                }
            }
            return r;
        }
        let Some(prog) = argv.first().cloned() else {
            return CmdResult::ok();
        };
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        match prog.as_str() {
            "ip" => self.ip(ns, &args),
            "sysctl" => self.sysctl(ns, &args),
            "sh" | "bash" => {
                if args.first() == Some(&"-c") {
                    match args.get(1) {
                        Some(c) => self.run_line(ns, c),
                        None => {
                            CmdResult::err(2, format!("{prog}: -c: option requires an argument"))
                        }
                    }
                } else {
                    CmdResult::err(1, format!("hopsim: only `{prog} -c '...'` is supported"))
                }
            }
            "ping" => self.ping(ns, &args),
            "nc" | "netcat" => self.nc(ns, &args),
            "getent" | "nslookup" | "dig" => self.lookup(ns, &prog, &args),
            "python3" | "python" if args.len() >= 2 && args[0] == "-m" && args[1] == "http.server" => {
                self.http_server(ns, &args[2..])
            }
            "conntrack" => match args.first().copied() {
                Some("-L") | Some("--dump") | None => {
                    let now = 0;
                    let text = self.world.netns[ns].conntrack.render(now);
                    let (body, summary) = text
                        .rsplit_once("conntrack v")
                        .map(|(b, s)| (b.to_string(), format!("conntrack v{s}")))
                        .unwrap_or((text.clone(), String::new()));
                    CmdResult {
                        status: 0,
                        stdout: body,
                        stderr: summary,
                    }
                }
                Some("-F") => {
                    self.world.netns[ns].conntrack.entries.clear();
                    CmdResult::err(0, "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.")
                }
                Some(o) => {
                    CmdResult::err(1, format!("hopsim: conntrack {o} is not modelled (-L, -F)"))
                }
            },
            "ss" => CmdResult::out(show::sockets(self.world, ns)),
            "arp" => CmdResult::out(show::arp_n(self.world, ns)),
            "bridge" => self.bridge(ns, &args),
            "brctl" => self.brctl(ns, &args),
            "modprobe" => match args.iter().find(|a| !a.starts_with('-')).copied() {
                Some("ipip") => {
                    self.world.load_ipip(ns);
                    CmdResult::ok()
                }
                Some("vxlan") | Some("br_netfilter") | Some("bridge") | Some("veth") => {
                    CmdResult::ok()
                }
                Some(m) => CmdResult::err(
                    1,
                    format!("hopsim: modprobe {m}: only ipip, vxlan, bridge, veth and br_netfilter are modelled"),
                ),
                None => CmdResult::err(1, "modprobe: ERROR: missing parameters. See -h."),
            },
            "cat" => match args.first() {
                Some(p) if p.starts_with("/proc/sys/") => match self.world.sysctl_get(ns, p) {
                    Ok(v) => CmdResult::out(format!("{}\n", v.rsplit(" = ").next().unwrap_or(""))),
                    Err(_) => CmdResult::err(1, format!("cat: {p}: No such file or directory")),
                },
                _ => CmdResult::err(1, "hopsim: only `cat /proc/sys/...` is modelled"),
            },
            "set" | "true" | ":" | "exit" => CmdResult::ok(),
            "echo" => CmdResult::out(format!("{}\n", args.join(" "))),
            "iptables" | "iptables-legacy" | "iptables-nft" => {
                let ctx = crate::netfilter::iptables::IptablesCtx::default();
                let nf = &mut self.world.netns[ns].netfilter;
                match crate::netfilter::iptables::run(nf, &args, &ctx) {
                    Ok(out) => CmdResult::out(out),
                    Err(e) => CmdResult::err(e.status, e.msg),
                }
            }
            "iptables-save" | "iptables-nft-save" => self.iptables_save(ns, &args),
            "ipset" => {
                let nf = &mut self.world.netns[ns].netfilter;
                match crate::netfilter::ipset::run(nf, &args) {
                    Ok(out) => CmdResult {
                        status: 0,
                        stdout: out.stdout,
                        stderr: out.stderr,
                    },
                    // `-q` failures print nothing.
                    Err(e) if e.msg.is_empty() => CmdResult {
                        status: e.status,
                        ..CmdResult::default()
                    },
                    Err(e) => CmdResult::err(e.status, e.msg),
                }
            }
            "iptables-restore" => CmdResult::err(
                1,
                "hopsim: iptables-restore reads its rules from stdin, which scripts cannot give it here",
            ),
            "curl" => self.curl(ns, &args),
            "tcpdump" => {
                CmdResult::err(127, format!("hopsim: {prog} is not modelled yet"))
            }
            other => CmdResult::err(127, format!("bash: {other}: command not found")),
        }
    }

    /// `iptables-save [-t TABLE] [-c]`.
    fn iptables_save(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        use crate::netfilter::{save, TableName};
        let mut table = None;
        let mut counters = false;
        let mut i = 0;
        while i < args.len() {
            match args[i] {
                "-c" | "--counters" => counters = true,
                "-t" | "--table" => {
                    let Some(t) = args.get(i + 1) else {
                        return CmdResult::err(
                            2,
                            "iptables-save v1.8.9 (nf_tables): option \"-t\" requires an argument",
                        );
                    };
                    let Some(t) = TableName::parse(t) else {
                        return CmdResult::err(1, format!("Table `{t}' does not exist"));
                    };
                    table = Some(t);
                    i += 1;
                }
                other => {
                    return CmdResult::err(
                        2,
                        format!("iptables-save v1.8.9 (nf_tables): unknown option \"{other}\""),
                    )
                }
            }
            i += 1;
        }
        let nf = &self.world.netns[ns].netfilter;
        CmdResult::out(save::render_save_opts(nf, table, counters))
    }

    fn ns_by_name(&self, name: &str) -> Option<NsId> {
        self.world
            .live_netns()
            .find(|(_, n)| n.host == self.host && !n.is_root && n.local_name == name)
            .map(|(id, _)| id)
    }

    fn dev(&self, ns: NsId, name: &str) -> Result<IfId, CmdResult> {
        self.world
            .find_iface(ns, name)
            .ok_or_else(|| CmdResult::err(1, format!("Cannot find device \"{name}\"")))
    }

    fn ip(&mut self, mut ns: NsId, args: &[&str]) -> CmdResult {
        let mut i = 0;
        let mut details = false;
        while i < args.len() && args[i].starts_with('-') {
            let opt = args[i].trim_start_matches('-');
            match opt {
                "n" | "netns" => {
                    let Some(name) = args.get(i + 1) else {
                        return CmdResult::err(255, "No netns name specified");
                    };
                    match self.ns_by_name(name) {
                        Some(n) => ns = n,
                        None => {
                            return CmdResult::err(255, format!("Cannot open network namespace \"{name}\": No such file or directory"))
                        }
                    }
                    i += 2;
                    continue;
                }
                "d" | "details" => details = true,
                "4" | "s" | "stats" | "c" | "color" | "o" | "oneline" => {}
                _ if opt.starts_with("color") => {}
                _ => {
                    return CmdResult::err(
                        255,
                        format!("Option \"{}\" is unknown, try \"ip -help\".", args[i]),
                    )
                }
            }
            i += 1;
        }
        let rest = &args[i..];
        let Some(obj) = rest.first() else {
            return CmdResult::err(255, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }");
        };
        let sub = &rest[1..];
        if matches(obj, "address") {
            self.ip_addr(ns, sub)
        } else if matches(obj, "route") {
            self.ip_route(ns, sub)
        } else if matches(obj, "neighbor") || matches(obj, "neighbour") {
            self.ip_neigh(ns, sub)
        } else if matches(obj, "link") {
            let showing = sub
                .first()
                .is_none_or(|c| matches(c, "show") || *c == "list");
            if details && showing {
                let dev = sub.iter().skip(1).copied().find(|a| *a != "dev");
                return match show::ip_link_details(self.world, ns, dev) {
                    Ok(s) => CmdResult::out(s),
                    Err(e) => CmdResult::err(1, e),
                };
            }
            self.ip_link(ns, sub)
        } else if matches(obj, "netns") {
            self.ip_netns(sub)
        } else {
            CmdResult::err(1, format!("Object \"{obj}\" is unknown, try \"ip help\"."))
        }
    }

    fn ip_netns(&mut self, args: &[&str]) -> CmdResult {
        let cmd = args.first().copied().unwrap_or("list");
        let name = args.get(1).copied();
        if matches(cmd, "list") || cmd == "show" {
            let mut names: Vec<&str> = self
                .world
                .live_netns()
                .filter(|(_, n)| n.host == self.host && !n.is_root)
                .map(|(_, n)| n.local_name.as_str())
                .collect();
            names.reverse();
            return CmdResult::out(names.iter().map(|n| format!("{n}\n")).collect());
        }
        let Some(name) = name else {
            return CmdResult::err(255, "No netns name specified");
        };
        match cmd {
            "add" => {
                let clash = self
                    .world
                    .live_netns()
                    .any(|(_, n)| n.local_name == name && n.host != self.host && !n.is_root)
                    || self.world.hosts.len() > 1 && self.world.live_netns().any(|(_, n)| n.name == name);
                let display = if clash {
                    format!("{}/{name}", self.world.hosts[self.host].name)
                } else {
                    name.to_string()
                };
                self.world.add_netns(self.host, name, &display).map(|_| CmdResult::ok()).unwrap_or_else(Into::into)
            }
            "del" | "delete" => match self.ns_by_name(name) {
                Some(n) => {
                    self.world.del_netns(n);
                    CmdResult::ok()
                }
                None => CmdResult::err(1, format!("Cannot remove namespace file \"/run/netns/{name}\": No such file or directory")),
            },
            "exec" => {
                let Some(target) = self.ns_by_name(name) else {
                    return CmdResult::err(255, format!("Cannot open network namespace \"{name}\": No such file or directory"));
                };
                let inner: Vec<String> = args[2..].iter().map(|s| quote(s)).collect();
                if inner.is_empty() {
                    return CmdResult::err(255, "No command specified");
                }
                self.run_command(target, &inner.join(" "))
            }
            other => CmdResult::err(255, format!("Command \"{other}\" is unknown, try \"ip netns help\".")),
        }
    }

    fn ip_link(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let cmd = args.first().copied().unwrap_or("show");
        let rest = if args.is_empty() { args } else { &args[1..] };
        if matches(cmd, "show") || matches(cmd, "list") || cmd == "lst" {
            let dev = rest.iter().copied().find(|a| *a != "dev");
            return match show::ip_link(self.world, ns, dev) {
                Ok(s) => CmdResult::out(s),
                Err(e) => CmdResult::err(1, e),
            };
        }
        match cmd {
            "add" => self.link_add(ns, rest),
            "del" | "delete" => {
                let Some(name) = rest.iter().copied().find(|a| *a != "dev") else {
                    return CmdResult::err(
                        1,
                        "Not enough information: \"dev\" argument is required.",
                    );
                };
                match self.dev(ns, name) {
                    Ok(id) => {
                        if self.world.iface(id).is_some_and(|i| i.is_loopback()) {
                            return CmdResult::err(2, "RTNETLINK answers: Operation not supported");
                        }
                        self.world.del_link(id);
                        CmdResult::ok()
                    }
                    Err(e) => e,
                }
            }
            "set" => self.link_set(ns, rest),
            other => CmdResult::err(
                255,
                format!("Command \"{other}\" is unknown, try \"ip link help\"."),
            ),
        }
    }

    fn link_add(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let mut name: Option<&str> = None;
        let mut kind: Option<&str> = None;
        let mut peer: Option<&str> = None;
        let mut peer_ns: Option<&str> = None;
        let mut mac: Option<&str> = None;
        let mut type_args: &[&str] = &[];
        let mut i = 0;
        while i < args.len() {
            match args[i] {
                "name" | "dev" => {
                    name = args.get(i + 1).copied();
                    i += 2;
                }
                "type" => {
                    kind = args.get(i + 1).copied();
                    i += 2;
                    if matches!(kind, Some("ipip" | "vxlan")) {
                        type_args = &args[i..];
                        break;
                    }
                    if kind == Some("veth") {
                        // veth-specific arguments follow: peer [name] NAME [netns NS]
                        while i < args.len() {
                            match args[i] {
                                "peer" => i += 1,
                                "name" => {
                                    peer = args.get(i + 1).copied();
                                    i += 2;
                                }
                                "netns" => {
                                    peer_ns = args.get(i + 1).copied();
                                    i += 2;
                                }
                                other if peer.is_none() => {
                                    peer = Some(other);
                                    i += 1;
                                }
                                other => return CmdResult::err(255, format!("Error: argument \"{other}\" is wrong: unknown veth peer option")),
                            }
                        }
                    }
                }
                "address" => {
                    mac = args.get(i + 1).copied();
                    i += 2;
                }
                "mtu" | "txqueuelen" | "qlen" => i += 2,
                other if name.is_none() => {
                    name = Some(other);
                    i += 1;
                }
                other => {
                    return CmdResult::err(
                        255,
                        format!("Error: argument \"{other}\" is wrong: unknown option"),
                    )
                }
            }
        }
        let Some(name) = name else {
            return CmdResult::err(255, "Not enough information: \"dev\" argument is required.");
        };
        let Some(kind) = kind else {
            return CmdResult::err(2, "RTNETLINK answers: Operation not supported");
        };
        let mac = match mac.map(|m| m.parse::<Mac>()) {
            Some(Ok(m)) => Some(m),
            Some(Err(_)) => {
                return CmdResult::err(1, format!("\"{}\" is invalid lladdr.", mac.unwrap_or("")))
            }
            None => None,
        };
        let made = match kind {
            "veth" => {
                let pns = match peer_ns {
                    Some(p) => match self.ns_by_name(p) {
                        Some(n) => n,
                        None => {
                            return CmdResult::err(
                                255,
                                format!(
                                    "Error: argument \"{p}\" is wrong: Invalid \"netns\" value\n"
                                ),
                            )
                        }
                    },
                    None => ns,
                };
                let peer = match peer {
                    Some(p) => p.to_string(),
                    None => {
                        // The kernel names an anonymous peer vethN.
                        let mut k = 0;
                        while self.world.find_iface(pns, &format!("veth{k}")).is_some() {
                            k += 1;
                        }
                        format!("veth{k}")
                    }
                };
                self.world.add_veth(ns, name, pns, &peer).map(|(a, _)| a)
            }
            "bridge" => self.world.add_bridge(ns, name),
            "dummy" => self.world.add_dummy(ns, name),
            "ipip" => match self.ipip_args(ns, type_args) {
                Ok(t) => self.world.add_ipip(ns, name, t),
                Err(e) => return e,
            },
            "vxlan" => match self.vxlan_args(ns, type_args) {
                Ok(v) => {
                    let warn = v.dstport.is_none();
                    let r = self.world.add_vxlan(ns, name, v);
                    if warn && r.is_ok() {
                        // iproute2's warning, on stderr, when dstport is left out.
                        return CmdResult {
                            status: 0,
                            stdout: String::new(),
                            stderr: VXLAN_DSTPORT_WARNING.into(),
                        };
                    }
                    r
                }
                Err(e) => return e,
            },
            "gre" | "macvlan" | "ipvlan" | "vlan" | "bond" | "wireguard" | "vrf" | "tun" => {
                return CmdResult::err(
                    2,
                    format!("hopsim: device type \"{kind}\" is not modelled yet"),
                )
            }
            _ => return CmdResult::err(2, "Error: Unknown device type."),
        };
        match made {
            Ok(id) => {
                if let Some(m) = mac {
                    if let Err(e) = self.world.set_mac(id, m) {
                        return e.into();
                    }
                }
                CmdResult::ok()
            }
            Err(e) => e.into(),
        }
    }

    /// The arguments after `type ipip`, as iproute2's `iptunnel_parse_opt` reads them.
    fn ipip_args(&self, ns: NsId, args: &[&str]) -> Result<IpTunnel, CmdResult> {
        let usage = || CmdResult::err(1, IPIP_USAGE);
        let addr = |v: Option<&&str>| -> Result<Option<Ipv4Addr>, CmdResult> {
            match v.copied() {
                None => Err(usage()),
                Some("any") => Ok(None),
                Some(a) => parse_inet(a).map(Some).ok_or_else(|| {
                    CmdResult::err(
                        1,
                        format!("Error: inet address is expected rather than \"{a}\"."),
                    )
                }),
            }
        };
        let mut t = IpTunnel {
            pmtudisc: true,
            ..IpTunnel::default()
        };
        let mut i = 0;
        while i < args.len() {
            match args[i] {
                "remote" => t.remote = addr(args.get(i + 1))?,
                "local" => t.local = addr(args.get(i + 1))?,
                "ttl" | "hoplimit" | "hlim" => {
                    t.ttl = match args.get(i + 1).copied() {
                        Some("inherit") => 0,
                        Some(v) => match v.parse::<u8>() {
                            Ok(n) if n > 0 => n,
                            _ => {
                                return Err(CmdResult::err(
                                    255,
                                    format!("Error: argument \"{v}\" is wrong: invalid TTL"),
                                ))
                            }
                        },
                        None => return Err(usage()),
                    }
                }
                "dev" => {
                    let d = args.get(i + 1).copied().ok_or_else(usage)?;
                    t.link = Some(self.world.find_iface(ns, d).ok_or_else(|| {
                        CmdResult::err(255, format!("Cannot find device \"{d}\""))
                    })?);
                }
                "pmtudisc" => {
                    t.pmtudisc = true;
                    i += 1;
                    continue;
                }
                "nopmtudisc" => {
                    t.pmtudisc = false;
                    i += 1;
                    continue;
                }
                "mode" if args.get(i + 1) == Some(&"ipip") => {}
                _ => return Err(usage()),
            }
            i += 2;
        }
        if !t.pmtudisc && t.ttl != 0 {
            return Err(CmdResult::err(
                255,
                "ttl != 0 and nopmtudisc are incompatible",
            ));
        }
        Ok(t)
    }

    /// The arguments after `type vxlan`, as iproute2's `vxlan_parse_opt` reads them.
    fn vxlan_args(&self, ns: NsId, args: &[&str]) -> Result<VxlanSpec, CmdResult> {
        let mut spec = VxlanSpec::new(0);
        let mut vni: Option<u32> = None;
        let mut i = 0;
        let bad = |v: &str, what: &str| {
            CmdResult::err(255, format!("Error: argument \"{v}\" is wrong: {what}"))
        };
        while i < args.len() {
            let a = args[i];
            let v = args.get(i + 1).copied();
            let need = || {
                v.ok_or_else(|| {
                    CmdResult::err(255, "Command line is not complete. Try option \"help\"")
                })
            };
            match a {
                "id" | "vni" => {
                    let x = need()?;
                    vni = Some(
                        x.parse::<u32>()
                            .ok()
                            .filter(|n| *n < 1 << 24)
                            .ok_or_else(|| bad(x, "invalid id"))?,
                    );
                }
                "remote" | "local" | "group" => {
                    let x = need()?;
                    let ip = parse_inet(x).ok_or_else(|| {
                        CmdResult::err(
                            1,
                            format!("Error: any valid address is expected rather than \"{x}\"."),
                        )
                    })?;
                    match a {
                        "remote" if ip.is_multicast() => return Err(bad(x, "invalid remote address")),
                        "remote" => spec.remote = Some(ip),
                        "local" => spec.local = Some(ip),
                        _ => {
                            return Err(CmdResult::err(
                                2,
                                "hopsim: multicast VXLAN (group) is not modelled; use remote or bridge fdb append",
                            ))
                        }
                    }
                }
                "dev" => {
                    let x = need()?;
                    spec.link = Some(self.world.find_iface(ns, x).ok_or_else(|| {
                        CmdResult::err(255, format!("Cannot find device \"{x}\""))
                    })?);
                }
                "dstport" | "port" => {
                    let x = need()?;
                    spec.dstport = Some(x.parse::<u16>().map_err(|_| bad(x, "dstport"))?);
                }
                "ttl" | "hoplimit" => {
                    let x = need()?;
                    spec.ttl = match x {
                        "auto" | "inherit" => 0,
                        n => n.parse::<u8>().map_err(|_| bad(x, "TTL"))?,
                    };
                }
                "ageing" | "tos" | "maxaddress" | "df" | "flowlabel" => {
                    need()?;
                }
                "srcport" => {
                    i += 3;
                    continue;
                }
                "learning" | "nolearning" => {
                    spec.learning = a == "learning";
                    i += 1;
                    continue;
                }
                "udpcsum" | "noudpcsum" | "proxy" | "noproxy" | "rsc" | "norsc" | "l2miss"
                | "nol2miss" | "l3miss" | "nol3miss" | "udp6zerocsumtx" | "noudp6zerocsumtx"
                | "udp6zerocsumrx" | "noudp6zerocsumrx" => {
                    i += 1;
                    continue;
                }
                other => {
                    return Err(CmdResult::err(
                        1,
                        format!("vxlan: unknown command \"{other}\"?\n{VXLAN_USAGE}"),
                    ))
                }
            }
            i += 2;
        }
        let Some(vni) = vni else {
            return Err(CmdResult::err(
                1,
                "vxlan: missing virtual network identifier",
            ));
        };
        spec.vni = vni;
        Ok(spec)
    }

    fn link_set(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let mut i = 0;
        let mut name: Option<&str> = None;
        enum Change {
            Up,
            Down,
            Netns(NsId),
            Master(IfId),
            NoMaster,
            Mac(Mac),
            Mtu(u32),
            Rename(String),
        }
        let mut changes = Vec::new();
        while i < args.len() {
            let a = args[i];
            let val = args.get(i + 1).copied();
            match a {
                "dev" => {
                    name = val;
                    i += 2;
                    continue;
                }
                "up" => changes.push(Change::Up),
                "down" => changes.push(Change::Down),
                "nomaster" => changes.push(Change::NoMaster),
                "netns" | "master" | "address" | "mtu" | "name" | "promisc" | "arp"
                | "multicast" | "txqueuelen" | "qlen" | "alias" => {
                    let Some(v) = val else {
                        return CmdResult::err(
                            255,
                            "Command line is not complete. Try option \"help\"",
                        );
                    };
                    match a {
                        "netns" => match self.ns_by_name(v) {
                            Some(n) => changes.push(Change::Netns(n)),
                            None => {
                                return CmdResult::err(
                                    255,
                                    format!(
                                    "Error: argument \"{v}\" is wrong: Invalid \"netns\" value\n"
                                ),
                                )
                            }
                        },
                        "master" => match self.world.find_iface(ns, v) {
                            Some(b) => changes.push(Change::Master(b)),
                            None => {
                                return CmdResult::err(
                                    255,
                                    format!(
                                        "Error: argument \"{v}\" is wrong: Device does not exist\n"
                                    ),
                                )
                            }
                        },
                        "address" => match v.parse::<Mac>() {
                            Ok(m) => changes.push(Change::Mac(m)),
                            Err(_) => {
                                let bad = v
                                    .split(':')
                                    .find(|p| p.len() > 2 || u8::from_str_radix(p, 16).is_err())
                                    .unwrap_or(v);
                                return CmdResult::err(1, format!("\"{bad}\" is invalid lladdr."));
                            }
                        },
                        "mtu" => match v.parse::<u32>() {
                            Ok(m) => changes.push(Change::Mtu(m)),
                            Err(_) => {
                                return CmdResult::err(
                                    255,
                                    format!(
                                        "Error: argument \"{v}\" is wrong: Invalid \"mtu\" value\n"
                                    ),
                                )
                            }
                        },
                        "name" => changes.push(Change::Rename(v.to_string())),
                        _ => {}
                    }
                    i += 2;
                    continue;
                }
                other if name.is_none() => name = Some(other),
                other => {
                    return CmdResult::err(
                        255,
                        format!("Error: either \"dev\" is duplicate, or \"{other}\" is a garbage."),
                    )
                }
            }
            i += 1;
        }
        let Some(name) = name else {
            return CmdResult::err(255, "Not enough information: \"dev\" argument is required.");
        };
        let id = match self.dev(ns, name) {
            Ok(id) => id,
            Err(e) => return e,
        };
        for c in changes {
            let r = match c {
                Change::Up => {
                    self.world.link_up(id);
                    Ok(())
                }
                Change::Down => {
                    self.world.link_down(id);
                    Ok(())
                }
                Change::Netns(to) => self.world.set_netns(id, to),
                Change::Master(b) => self.world.set_master(id, b),
                Change::NoMaster => {
                    self.world.set_nomaster(id);
                    Ok(())
                }
                Change::Mac(m) => self.world.set_mac(id, m),
                Change::Mtu(m) => self.world.set_mtu(id, m),
                Change::Rename(n) => {
                    if self.world.iface(id).is_some_and(|i| i.up) {
                        Err(OpError::rtnl("RTNETLINK answers: Device or resource busy"))
                    } else if self.world.find_iface(ns, &n).is_some() {
                        Err(OpError::rtnl("RTNETLINK answers: File exists"))
                    } else {
                        if let Some(i) = self.world.iface_mut(id) {
                            i.name = n.into();
                        }
                        Ok(())
                    }
                }
            };
            if let Err(e) = r {
                return e.into();
            }
        }
        CmdResult::ok()
    }

    fn ip_addr(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let cmd = args.first().copied().unwrap_or("show");
        let rest = if args.is_empty() { args } else { &args[1..] };
        if matches(cmd, "show") || matches(cmd, "list") || cmd == "lst" {
            let dev = rest.iter().copied().find(|a| *a != "dev");
            return match show::ip_addr(self.world, ns, dev) {
                Ok(s) => CmdResult::out(s),
                Err(e) => CmdResult::err(1, e),
            };
        }
        let is_add = matches(cmd, "add");
        let is_del = cmd == "del" || matches(cmd, "delete");
        let is_flush = matches(cmd, "flush");
        if !is_add && !is_del && !is_flush {
            return CmdResult::err(
                255,
                format!("Command \"{cmd}\" is unknown, try \"ip address help\"."),
            );
        }
        let mut local: Option<&str> = None;
        let mut dev: Option<&str> = None;
        let mut brd: Option<&str> = None;
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                "brd" | "broadcast" => {
                    brd = rest.get(i + 1).copied();
                    i += 2;
                }
                "dev" => {
                    dev = rest.get(i + 1).copied();
                    i += 2;
                }
                "local" => {
                    local = rest.get(i + 1).copied();
                    i += 2;
                }
                "label" | "scope" | "peer" | "valid_lft" | "preferred_lft" => i += 2,
                "noprefixroute" | "secondary" | "primary" => i += 1,
                other if local.is_none() && !is_flush => {
                    local = Some(other);
                    i += 1;
                }
                other if dev.is_none() => {
                    dev = Some(other);
                    i += 1;
                }
                other => {
                    return CmdResult::err(
                        255,
                        format!(
                            "Error: either \"local\" is duplicate, or \"{other}\" is a garbage."
                        ),
                    )
                }
            }
        }
        let Some(dev) = dev else {
            return CmdResult::err(1, "Not enough information: \"dev\" argument is required.");
        };
        if is_flush {
            let id = match self.dev(ns, dev) {
                Ok(id) => id,
                Err(e) => return e,
            };
            let addrs = self
                .world
                .iface(id)
                .map(|i| i.addrs.clone())
                .unwrap_or_default();
            for a in addrs.iter().rev() {
                let _ = self.world.addr_del(id, a.net, true);
            }
            return CmdResult::ok();
        }
        let Some(local) = local else {
            return CmdResult::err(1, "Not enough information: \"local\" argument is required.");
        };
        let Some((net, len_given)) = parse_prefix(local).filter(|_| local != "default") else {
            return bad_prefix(local);
        };
        let id = match self.dev(ns, dev) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let brd = match brd {
            None => None,
            Some("+") => Some(net.broadcast()),
            Some("-") => Some(net.network()),
            Some(b) => match parse_inet(b) {
                Some(a) => Some(a),
                None => return bad_inet(b),
            },
        };
        let r = if is_add {
            self.world.addr_add_brd(id, net, brd)
        } else {
            self.world.addr_del(id, net, len_given)
        };
        r.map(|_| CmdResult::ok()).unwrap_or_else(Into::into)
    }

    fn ip_route(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let cmd = args.first().copied().unwrap_or("show");
        let rest = if args.is_empty() { args } else { &args[1..] };
        if matches(cmd, "show") || matches(cmd, "list") {
            let table = rest
                .iter()
                .position(|a| *a == "table")
                .and_then(|p| rest.get(p + 1))
                .copied();
            let sel = match table {
                None | Some("main") => show::TableSel::Main,
                Some("local") => show::TableSel::Local,
                Some("all") => show::TableSel::All,
                Some(t) => {
                    return CmdResult::err(
                        1,
                        format!("hopsim: table \"{t}\" is not modelled (main, local, all)"),
                    )
                }
            };
            return CmdResult::out(show::ip_route(self.world, ns, sel));
        }
        if matches(cmd, "get") {
            let Some(dst) = rest
                .iter()
                .copied()
                .find(|a| !matches!(*a, "to" | "from" | "iif" | "oif"))
            else {
                return need_arg();
            };
            let Some(dst) = parse_inet(dst) else {
                return bad_inet(dst);
            };
            return match show::ip_route_get(self.world, ns, dst) {
                Ok(s) => CmdResult::out(s),
                Err(e) => CmdResult::err(2, e),
            };
        }
        if matches(cmd, "flush") {
            self.world.netns[ns]
                .routes
                .make_mut()
                .retain(|r| r.table == crate::model::Table::Local);
            return CmdResult::ok();
        }
        let (replace, del) = match cmd {
            "add" | "append" => (false, false),
            "replace" | "change" | "chg" => (true, false),
            "del" | "delete" => (false, true),
            other => {
                return CmdResult::err(
                    255,
                    format!("Command \"{other}\" is unknown, try \"ip route help\"."),
                )
            }
        };
        let mut spec = RouteSpec::new(Ipv4Net::default());
        let mut dst: Option<&str> = None;
        let mut metric_given = false;
        let mut i = 0;
        while i < rest.len() {
            let a = rest[i];
            let v = rest.get(i + 1).copied();
            match a {
                "via" => {
                    let mut v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    if v == "inet" {
                        v = rest.get(i + 2).copied().unwrap_or("");
                        i += 1;
                    }
                    match parse_inet(v) {
                        Some(g) => spec.gateway = Some(g),
                        None => return bad_inet(v),
                    }
                    i += 2;
                }
                "dev" | "oif" => {
                    let v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    match self.dev(ns, v) {
                        Ok(id) => spec.dev = Some(id),
                        Err(e) => return e,
                    }
                    i += 2;
                }
                "proto" | "protocol" => {
                    let v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    match Proto::parse(v) {
                        Some(p) => spec.proto = p,
                        None => {
                            return CmdResult::err(
                                255,
                                format!(
                                "Error: argument \"{v}\" is wrong: \"protocol\" value is invalid\n"
                            ),
                            )
                        }
                    }
                    i += 2;
                }
                "scope" => {
                    let v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    spec.scope = Some(match v {
                        "global" | "universe" | "0" => Scope::Global,
                        "link" | "253" => Scope::Link,
                        "host" | "254" => Scope::Host,
                        _ => {
                            return CmdResult::err(
                                255,
                                format!(
                                    "Error: argument \"{v}\" is wrong: invalid \"scope\" value\n"
                                ),
                            )
                        }
                    });
                    i += 2;
                }
                "src" => {
                    let v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    match parse_inet(v) {
                        Some(s) => spec.src = Some(s),
                        None => return bad_inet(v),
                    }
                    i += 2;
                }
                "metric" | "priority" | "preference" => {
                    let v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    match v.parse::<u32>() {
                        Ok(m) => {
                            spec.metric = m;
                            metric_given = true;
                        }
                        Err(_) => {
                            return CmdResult::err(
                                255,
                                format!(
                                "Error: argument \"{v}\" is wrong: \"metric\" value is invalid\n"
                            ),
                            )
                        }
                    }
                    i += 2;
                }
                "table" => {
                    let v = match need(v) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    if v != "main" && v != "254" {
                        return CmdResult::err(
                            1,
                            format!("hopsim: routing table \"{v}\" is not modelled (only main)"),
                        );
                    }
                    i += 2;
                }
                "onlink" => {
                    spec.onlink = true;
                    i += 1;
                }
                "to" => {
                    dst = v;
                    i += 2;
                }
                "unicast" => i += 1,
                "blackhole" => {
                    spec.rtype = RouteType::Blackhole;
                    i += 1;
                }
                "unreachable" => {
                    spec.rtype = RouteType::Unreachable;
                    i += 1;
                }
                "prohibit" => {
                    spec.rtype = RouteType::Prohibit;
                    i += 1;
                }
                "mtu" | "advmss" | "initcwnd" | "realm" | "realms" => i += 2,
                other if dst.is_none() => {
                    dst = Some(other);
                    i += 1;
                }
                other => {
                    return CmdResult::err(
                        255,
                        format!("Error: either \"to\" is duplicate, or \"{other}\" is a garbage."),
                    )
                }
            }
        }
        let Some(dst) = dst else {
            return need_arg();
        };
        let Some((net, _)) = parse_prefix(dst) else {
            return bad_prefix(dst);
        };
        spec.dst = net;
        if del {
            return self
                .world
                .route_del(ns, &spec, metric_given)
                .map(|_| CmdResult::ok())
                .unwrap_or_else(Into::into);
        }
        self.world
            .route_add(ns, spec, replace)
            .map(|_| CmdResult::ok())
            .unwrap_or_else(Into::into)
    }

    fn ip_neigh(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let cmd = args.first().copied().unwrap_or("show");
        let rest = if args.is_empty() { args } else { &args[1..] };
        if matches(cmd, "show") || matches(cmd, "list") {
            return CmdResult::out(show::ip_neigh(self.world, ns));
        }
        if matches(cmd, "flush") {
            self.world.netns[ns]
                .neigh
                .retain(|n| n.state == NudState::Permanent);
            return CmdResult::ok();
        }
        let (add, replace) = match cmd {
            "add" => (true, false),
            "replace" | "change" | "chg" => (true, true),
            "del" | "delete" => (false, false),
            other => {
                return CmdResult::err(
                    255,
                    format!("Command \"{other}\" is unknown, try \"ip neigh help\"."),
                )
            }
        };
        let mut ip: Option<&str> = None;
        let mut mac: Option<&str> = None;
        let mut dev: Option<&str> = None;
        let mut state = NudState::Permanent;
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                "lladdr" => {
                    mac = rest.get(i + 1).copied();
                    i += 2;
                }
                "dev" => {
                    dev = rest.get(i + 1).copied();
                    i += 2;
                }
                "nud" => {
                    state = match rest.get(i + 1).copied() {
                        Some("permanent") => NudState::Permanent,
                        Some("noarp") => NudState::Noarp,
                        Some("reachable") => NudState::Reachable,
                        Some("stale") => NudState::Stale,
                        Some(v) => {
                            return CmdResult::err(
                                255,
                                format!("Error: argument \"{v}\" is wrong: nud state is bad\n"),
                            )
                        }
                        None => {
                            return CmdResult::err(
                                255,
                                "Command line is not complete. Try option \"help\"",
                            )
                        }
                    };
                    i += 2;
                }
                "to" => {
                    ip = rest.get(i + 1).copied();
                    i += 2;
                }
                other if ip.is_none() => {
                    ip = Some(other);
                    i += 1;
                }
                other => {
                    return CmdResult::err(
                        255,
                        format!("Error: either \"to\" is duplicate, or \"{other}\" is a garbage."),
                    )
                }
            }
        }
        let (Some(ip), Some(dev)) = (ip, dev) else {
            return CmdResult::err(255, "Device and destination are required arguments.");
        };
        let Some(addr) = parse_inet(ip) else {
            return bad_inet(ip);
        };
        let id = match self.dev(ns, dev) {
            Ok(id) => id,
            Err(e) => return e,
        };
        if !add {
            return self
                .world
                .neigh_del(ns, id, addr)
                .map(|_| CmdResult::ok())
                .unwrap_or_else(Into::into);
        }
        let Some(mac) = mac else {
            return CmdResult::err(255, "hopsim: ip neigh add needs lladdr MAC");
        };
        let Ok(mac) = mac.parse::<Mac>() else {
            return CmdResult::err(1, format!("\"{mac}\" is invalid lladdr."));
        };
        self.world
            .neigh_add(ns, id, addr, mac, state, replace)
            .map(|_| CmdResult::ok())
            .unwrap_or_else(Into::into)
    }

    fn sysctl(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let mut quiet = false;
        let mut out = CmdResult::ok();
        for a in args {
            match *a {
                "-w" => {}
                "-q" => quiet = true,
                "-n" | "-e" => {}
                a if a.starts_with('-') => {
                    return CmdResult::err(
                        1,
                        format!("sysctl: invalid option -- '{}'", a.trim_start_matches('-')),
                    )
                }
                a => {
                    let r = match a.split_once('=') {
                        Some((k, v)) => self
                            .world
                            .sysctl_set(ns, k, v)
                            .map(|_| format!("{} = {}", k.replace('/', "."), v.trim())),
                        None if args.contains(&"-w") => {
                            return CmdResult::err(
                                1,
                                "sysctl: command line(0): invalid syntax, continuing...",
                            )
                        }
                        None => self.world.sysctl_get(ns, a),
                    };
                    match r {
                        Ok(line) if !quiet => out.stdout.push_str(&format!("{line}\n")),
                        Ok(_) => {}
                        Err(e) => {
                            out.stderr.push_str(&format!("{}\n", e.msg));
                            out.status = e.status;
                        }
                    }
                }
            }
        }
        out
    }

    fn ping(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let mut opts = PingOptions {
            count: 0,
            ..PingOptions::default()
        };
        let mut dest: Option<&str> = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            let v = args.get(i + 1).copied();
            let num = |v: Option<&str>| v.and_then(|s| s.parse::<f64>().ok());
            match a {
                "-c" => {
                    opts.count = num(v).unwrap_or(1.0) as u16;
                    i += 2;
                }
                "-t" => {
                    opts.ttl = num(v).map(|t| t as u8);
                    i += 2;
                }
                "-W" | "-w" => {
                    opts.wait_s = num(v).map(|t| t.ceil() as u32).unwrap_or(10);
                    i += 2;
                }
                "-i" => {
                    opts.interval_ms = num(v).map(|t| (t * 1000.0) as u32).unwrap_or(1000);
                    i += 2;
                }
                "-s" => {
                    match v.and_then(|s| s.parse::<u32>().ok()) {
                        Some(s) if s <= u32::from(crate::format::MAX_PING_SIZE) => {
                            opts.size = s as u16
                        }
                        Some(s) => {
                            return CmdResult::err(
                                2,
                                format!("hopsim: ping -s {s}: sizes above 65507 (an IPv4 packet's limit) are not modelled"),
                            )
                        }
                        None => {
                            return CmdResult::err(
                                1,
                                format!("ping: invalid argument: '{}'", v.unwrap_or("")),
                            )
                        }
                    }
                    i += 2;
                }
                "-M" => {
                    match crate::engine::ping::PmtuDisc::parse(v.unwrap_or("")) {
                        Ok(m) => opts.pmtudisc = m,
                        Err(e) => return CmdResult::err(2, e),
                    }
                    i += 2;
                }
                "-q" | "-n" => i += 1,
                a if a.starts_with("-c") => {
                    opts.count = a[2..].parse().unwrap_or(1);
                    i += 1;
                }
                a if a.starts_with('-') => {
                    return CmdResult::err(2, format!("hopsim: ping option {a} is not modelled"))
                }
                a => {
                    dest = Some(a);
                    i += 1;
                }
            }
        }
        if opts.count == 0 {
            return CmdResult::err(
                2,
                "hopsim: give ping a count (-c N): an endless ping cannot be simulated",
            );
        }
        let Some(dest) = dest else {
            return CmdResult::err(2, "ping: usage error: Destination address required");
        };
        let Some(dst) = parse_inet(dest).filter(|_| dest.contains('.')) else {
            // A name: resolved as iputils' getaddrinfo does, through /etc/hosts and DNS.
            let r = crate::engine::resolver::ping_name(self.world.clone(), ns, dest, &opts);
            *self.world = match r.ping {
                Some(p) => p.world,
                None => r.resolve.world,
            };
            let text: String = r.lines.iter().map(|l| format!("{l}\n")).collect();
            return if r.exit == 2 {
                CmdResult::err(2, text)
            } else {
                CmdResult {
                    status: r.exit,
                    stdout: text,
                    stderr: String::new(),
                }
            };
        };
        let run = ping(self.world.clone(), ns, dst, &opts);
        *self.world = run.world;
        let text: String = run.lines.iter().map(|l| format!("{l}\n")).collect();
        if run.exit == 2 {
            CmdResult::err(2, text)
        } else {
            CmdResult {
                status: run.exit,
                stdout: text,
                stderr: String::new(),
            }
        }
    }

    /// `getent hosts NAME`, `nslookup NAME`, `dig [-t TYPE] NAME [TYPE]`: a lookup.
    fn lookup(&mut self, ns: NsId, prog: &str, args: &[&str]) -> CmdResult {
        use crate::engine::resolver::{resolve, ResolveOptions, Tool};
        use crate::wire::dns::QType;
        let mut args: Vec<&str> = args.to_vec();
        if prog == "getent" {
            if args.first() != Some(&"hosts") {
                return CmdResult::err(2, "hopsim: only `getent hosts NAME` is modelled");
            }
            args.remove(0);
        }
        let mut qtype = None;
        let mut name = None;
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            if a == "-t" || a == "-type" {
                qtype = args.get(i + 1).and_then(|t| QType::parse(t));
                i += 2;
                continue;
            }
            if let Some(t) = a.strip_prefix("-type=") {
                qtype = QType::parse(t);
            } else if a.starts_with(['-', '+', '@']) {
                return CmdResult::err(2, format!("hopsim: {prog} option {a} is not modelled"));
            } else if name.is_some() && prog == "dig" && QType::parse(a).is_some() {
                qtype = QType::parse(a);
            } else {
                name = Some(a);
            }
            i += 1;
        }
        let Some(name) = name else {
            return CmdResult::err(2, format!("hopsim: {prog}: give a name to look up"));
        };
        let tool = Tool::parse(prog).unwrap_or_default();
        let r = resolve(
            self.world.clone(),
            ns,
            name,
            &ResolveOptions { tool, qtype },
        );
        *self.world = r.world;
        let text: String = r.lines.iter().map(|l| format!("{l}\n")).collect();
        CmdResult {
            status: r.exit,
            stdout: text,
            stderr: String::new(),
        }
    }

    /// `nc -zv [-u] [-w S] HOST PORT` connects; `nc -l[k] [-u] [-p] PORT [&]` listens.
    fn nc(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        use crate::engine::connect::{connect, ConnectOptions};
        use crate::model::{L4Proto, Listener};
        let mut listen = false;
        let mut udp = false;
        let mut wait = 1u32;
        let mut rest: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            if a == "&" {
                i += 1;
                continue;
            }
            if a == "-w" || a == "-p" || a == "-s" {
                if a == "-w" {
                    wait = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1);
                } else if a == "-p" {
                    if let Some(v) = args.get(i + 1) {
                        rest.push(v);
                    }
                }
                i += 2;
                continue;
            }
            if let Some(flags) = a.strip_prefix('-') {
                for c in flags.chars() {
                    match c {
                        'l' => listen = true,
                        'u' => udp = true,
                        'z' | 'v' | 'k' | 'n' | 'N' | 'q' => {}
                        other => {
                            return CmdResult::err(
                                1,
                                format!("hopsim: nc option -{other} is not modelled"),
                            )
                        }
                    }
                }
                i += 1;
                continue;
            }
            rest.push(a);
            i += 1;
        }
        let proto = if udp { L4Proto::Udp } else { L4Proto::Tcp };
        if listen {
            let (addr, port) = match rest.as_slice() {
                [p] => ("0.0.0.0", *p),
                [a, p] => (*a, *p),
                _ => return CmdResult::err(1, "usage: nc -l [-k] [-u] [-p] PORT"),
            };
            let (Some(addr), Ok(port)) = (parse_inet(addr), port.parse::<u16>()) else {
                return CmdResult::err(1, format!("nc: port number invalid: {port}"));
            };
            return match self.world.listen(
                ns,
                Listener {
                    proto,
                    addr,
                    port,
                    process: Some("nc".into()),
                    reuseport: true,
                },
            ) {
                Ok(()) => CmdResult::ok(),
                Err(_) => CmdResult::err(1, "nc: Address already in use"),
            };
        }
        let [host, port] = rest.as_slice() else {
            return CmdResult::err(1, "usage: nc -zv [-u] [-w SECS] HOST PORT");
        };
        let Some(dst) = parse_inet(host).filter(|_| host.contains('.')) else {
            return CmdResult::err(
                1,
                format!(
                    "nc: getaddrinfo for host \"{host}\" port {port}: Name or service not known"
                ),
            );
        };
        let Ok(port) = port.parse::<u16>() else {
            return CmdResult::err(1, format!("nc: port number invalid: {port}"));
        };
        let run = connect(
            self.world.clone(),
            ns,
            dst,
            port,
            &ConnectOptions {
                proto,
                wait_s: wait,
                sport: None,
                seed: 0,
            },
        );
        *self.world = run.world;
        // netcat prints its verdict on stderr.
        CmdResult {
            status: run.exit,
            stdout: String::new(),
            stderr: run.lines.iter().map(|l| format!("{l}\n")).collect(),
        }
    }

    /// `curl [-s] [-i] [-f] [-m S] [-H 'NAME: VALUE']... URL`: an HTTP GET as packets.
    fn curl(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        use crate::engine::http::{curl, CurlRequest};
        let req = match CurlRequest::from_args(args) {
            Ok(r) => r,
            Err(m) => return CmdResult::err(2, m),
        };
        let run = curl(self.world.clone(), ns, &req);
        *self.world = run.world;
        let text: String = run.lines.iter().map(|l| format!("{l}\n")).collect();
        if run.exit == 0 {
            CmdResult {
                status: 0,
                stdout: text,
                stderr: String::new(),
            }
        } else {
            CmdResult::err(run.exit, text.trim_end())
        }
    }

    /// `python3 -m http.server [--bind ADDR] [PORT] [&]`: a TCP server that binds without
    /// SO_REUSEPORT, like nginx.
    fn http_server(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        use crate::model::{L4Proto, Listener};
        let mut addr = std::net::Ipv4Addr::UNSPECIFIED;
        let mut port = 8000u16;
        let mut i = 0;
        while i < args.len() {
            match args[i] {
                "&" => {}
                "--bind" | "-b" => {
                    match args.get(i + 1).and_then(|a| parse_inet(a)) {
                        Some(a) => addr = a,
                        None => return CmdResult::err(2, "usage: server.py [-h] [--cgi] [--bind ADDRESS] [--directory DIRECTORY] [port]"),
                    }
                    i += 1;
                }
                p => match p.parse::<u16>() {
                    Ok(v) => port = v,
                    Err(_) => {
                        return CmdResult::err(
                            2,
                            format!("server.py: error: argument port: invalid int value: '{p}'"),
                        )
                    }
                },
            }
            i += 1;
        }
        match self.world.listen(
            ns,
            Listener {
                proto: L4Proto::Tcp,
                addr,
                port,
                process: Some("python3".into()),
                reuseport: false,
            },
        ) {
            Ok(()) => CmdResult::ok(),
            Err(_) => CmdResult::err(1, "OSError: [Errno 98] Address already in use"),
        }
    }

    fn bridge(&mut self, mut ns: NsId, mut args: &[&str]) -> CmdResult {
        while let Some(opt) = args.first().filter(|a| a.starts_with('-')) {
            match opt.trim_start_matches('-') {
                "n" | "netns" => {
                    let Some(name) = args.get(1) else {
                        return CmdResult::err(255, "No netns name specified");
                    };
                    match self.ns_by_name(name) {
                        Some(n) => ns = n,
                        None => {
                            return CmdResult::err(
                                255,
                                format!("Cannot open network namespace \"{name}\": No such file or directory"),
                            )
                        }
                    }
                    args = &args[2..];
                }
                "d" | "details" | "s" | "statistics" | "c" | "color" => args = &args[1..],
                _ => {
                    return CmdResult::err(
                        255,
                        format!("Option \"{opt}\" is unknown, try \"bridge help\"."),
                    )
                }
            }
        }
        match args.first().copied() {
            Some(o) if matches(o, "fdb") => self.bridge_fdb(ns, &args[1..]),
            Some(o) if matches(o, "link") => {
                let mut out = String::new();
                for i in self.world.ns_ifaces(ns) {
                    if let Some(br) = i.master {
                        let state = if self.world.port_forwarding(i.id) {
                            "forwarding"
                        } else {
                            "disabled"
                        };
                        let head = show::ip_link(self.world, ns, Some(&i.name)).unwrap_or_default();
                        let first = head.lines().next().unwrap_or("");
                        let upto = first.find(" mtu ").map(|p| &first[..p]).unwrap_or(first);
                        out.push_str(&format!(
                            "{upto} mtu {} master {} state {state} priority 32 cost 2 \n",
                            i.mtu,
                            self.world.ifname(br)
                        ));
                    }
                }
                CmdResult::out(out)
            }
            _ => CmdResult::err(
                1,
                "hopsim: only `bridge fdb show` and `bridge link` are modelled",
            ),
        }
    }

    /// `bridge fdb [show [dev DEV]]`, and `add|append|replace|del MAC dev VXLAN dst IP
    /// [self] [permanent]` for VXLAN devices (flannel and Calico program theirs so).
    fn bridge_fdb(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        let cmd = args.first().copied().unwrap_or("show");
        let rest = if args.is_empty() { args } else { &args[1..] };
        let mut dev: Option<&str> = None;
        let mut dst: Option<&str> = None;
        let mut mac: Option<&str> = None;
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                "dev" => {
                    dev = rest.get(i + 1).copied();
                    i += 2;
                }
                "dst" => {
                    dst = rest.get(i + 1).copied();
                    i += 2;
                }
                "self" | "permanent" | "static" | "master" | "router" | "use" | "sticky" => i += 1,
                "br" | "brport" | "vlan" | "port" | "vni" | "via" | "src_vni" | "nhid" => {
                    return CmdResult::err(
                        2,
                        format!("hopsim: bridge fdb {} is not modelled", rest[i]),
                    )
                }
                other if mac.is_none() && cmd != "show" => {
                    mac = Some(other);
                    i += 1;
                }
                other => {
                    return CmdResult::err(
                        255,
                        format!(
                            "Unknown bridge fdb argument \"{other}\"? Try \"bridge fdb help\"."
                        ),
                    )
                }
            }
        }
        let dev_id = match dev {
            Some(d) => match self.world.find_iface(ns, d) {
                Some(id) => Some(id),
                None => return CmdResult::err(255, format!("Cannot find device \"{d}\"")),
            },
            None => None,
        };
        if matches(cmd, "show") || cmd == "list" {
            return CmdResult::out(show::bridge_fdb_dev(self.world, ns, dev_id));
        }
        let mode = match cmd {
            "add" => Some(crate::model::tunnel::FdbMode::Add),
            "append" => Some(crate::model::tunnel::FdbMode::Append),
            "replace" => Some(crate::model::tunnel::FdbMode::Replace),
            "del" | "delete" => None,
            other => {
                return CmdResult::err(
                    255,
                    format!("Command \"{other}\" is unknown, try \"bridge fdb help\"."),
                )
            }
        };
        let Some(dev_id) = dev_id else {
            return CmdResult::err(255, "Device is a compulsory argument.");
        };
        let Some(mac_s) = mac else {
            return CmdResult::err(255, "Device and address are required arguments.");
        };
        let Ok(mac) = mac_s.parse::<Mac>() else {
            return CmdResult::err(255, format!("Invalid mac address {mac_s}"));
        };
        let dst = match dst {
            Some(x) => match parse_inet(x) {
                Some(ip) => Some(ip),
                None => {
                    return CmdResult::err(
                        255,
                        format!("Error: any valid address is expected rather than \"{x}\"."),
                    )
                }
            },
            None => None,
        };
        let is_vxlan = self
            .world
            .iface(dev_id)
            .is_some_and(|i| matches!(i.kind, crate::model::IfKind::Vxlan(_)));
        if !is_vxlan {
            return CmdResult::err(
                2,
                "hopsim: bridge fdb add/del is modelled for VXLAN devices only (bridges learn)",
            );
        }
        let r = match (mode, dst) {
            (Some(_), None) => return CmdResult::err(255, "RTNETLINK answers: Invalid argument"),
            (Some(m), Some(ip)) => self.world.vxlan_fdb_add(dev_id, mac, ip, m),
            (None, d) => self.world.vxlan_fdb_del(dev_id, mac, d),
        };
        match r {
            Ok(()) => CmdResult::ok(),
            Err(e) => CmdResult::err(255, e.msg),
        }
    }

    fn brctl(&mut self, ns: NsId, args: &[&str]) -> CmdResult {
        match args.first().copied() {
            Some("show") | None => {
                let mut out = String::from("bridge name\tbridge id\t\tSTP enabled\tinterfaces\n");
                for b in self
                    .world
                    .ns_ifaces(ns)
                    .into_iter()
                    .filter(|i| i.is_bridge())
                {
                    let id: String = self.world.mac_of(b.id).to_string().replace(':', "");
                    // brctl lists a bridge's ports as its brif/ directory sorts: by name.
                    let mut ports = self.world.bridge_ports(b.id);
                    ports.sort_by_key(|p| self.world.ifname(*p));
                    let first = ports
                        .first()
                        .map(|p| self.world.ifname(*p))
                        .unwrap_or_default();
                    out.push_str(&format!("{}\t\t8000.{id}\tno\t\t{first}\n", b.name));
                    for p in ports.iter().skip(1) {
                        out.push_str(&format!("\t\t\t\t\t\t\t{}\n", self.world.ifname(*p)));
                    }
                }
                CmdResult::out(out)
            }
            Some("addbr") => match args.get(1) {
                Some(n) => self
                    .world
                    .add_bridge(ns, n)
                    .map(|_| CmdResult::ok())
                    .unwrap_or_else(Into::into),
                None => CmdResult::err(1, "Incorrect number of arguments for command"),
            },
            Some("addif") => {
                let (Some(b), Some(p)) = (args.get(1), args.get(2)) else {
                    return CmdResult::err(1, "Incorrect number of arguments for command");
                };
                let (Some(b), Some(p)) =
                    (self.world.find_iface(ns, b), self.world.find_iface(ns, p))
                else {
                    return CmdResult::err(1, format!("interface {} does not exist!", args[2]));
                };
                self.world
                    .set_master(p, b)
                    .map(|_| CmdResult::ok())
                    .unwrap_or_else(Into::into)
            }
            Some(o) => CmdResult::err(1, format!("hopsim: brctl {o} is not modelled")),
        }
    }
}

/// iproute2's warning when `dstport` is left out of `ip link add ... type vxlan`.
const VXLAN_DSTPORT_WARNING: &str = "vxlan: destination port not specified\nWill use Linux kernel default (non-standard value)\nUse 'dstport 4789' to get the IANA assigned value\nUse 'dstport 0' to get default and quiet this message\n";

/// iproute2's usage text for `type ipip` (printed on an unknown argument).
const IPIP_USAGE: &str = "Usage: ... ipip  \t[ remote ADDR ]\n\t\t\t[ local ADDR ]\n\t\t\t[ ttl TTL ]\n\t\t\t[ tos TOS ]\n\t\t\t[ [no]pmtudisc ]\n\t\t\t[ 6rd-prefix ADDR ]\n\t\t\t[ 6rd-relay_prefix ADDR ]\n\t\t\t[ 6rd-reset ]\n\t\t\t[ dev PHYS_DEV ]\n\t\t\t[ fwmark MARK ]\n\t\t\t[ external ]\n\t\t\t[ noencap ]\n\t\t\t[ encap { fou | gue | none } ]\n\t\t\t[ encap-sport PORT ]\n\t\t\t[ encap-dport PORT ]\n\t\t\t[ [no]encap-csum ]\n\t\t\t[ [no]encap-csum6 ]\n\t\t\t[ [no]encap-remcsum ]\n\t\t\t[ mode { ipip | mplsip | any } ]\n\nWhere:\tADDR := { IP_ADDRESS | any }\n\tTOS  := { NUMBER | inherit }\n\tTTL  := { 1..255 | inherit }\n\tMARK := { 0x0..0xffffffff }\n";

/// iproute2's usage text for `type vxlan` (printed on an unknown argument).
const VXLAN_USAGE: &str = "Usage: ... vxlan id VNI\n\t\t[ { group | remote } IP_ADDRESS ]\n\t\t[ local ADDR ]\n\t\t[ ttl TTL ]\n\t\t[ tos TOS ]\n\t\t[ df DF ]\n\t\t[ flowlabel LABEL ]\n\t\t[ dev PHYS_DEV ]\n\t\t[ dstport PORT ]\n\t\t[ srcport MIN MAX ]\n\t\t[ [no]learning ]\n\t\t[ [no]proxy ]\n\t\t[ [no]rsc ]\n\t\t[ [no]l2miss ]\n\t\t[ [no]l3miss ]\n\t\t[ ageing SECONDS ]\n\t\t[ maxaddress NUMBER ]\n\t\t[ [no]udpcsum ]\n\t\t[ [no]udp6zerocsumtx ]\n\t\t[ [no]udp6zerocsumrx ]\n\t\t[ [no]remcsumtx ] [ [no]remcsumrx ]\n\t\t[ [no]external ] [ gbp ] [ gpe ]\n\t\t[ [no]vnifilter ]\n\nWhere:\tVNI\t:= 0-16777215\n\tADDR\t:= { IP_ADDRESS | any }\n\tTOS\t:= { NUMBER | inherit }\n\tTTL\t:= { 1..255 | auto | inherit }\n\tDF\t:= { unset | set | inherit }\n\tLABEL := 0-1048575\n";
