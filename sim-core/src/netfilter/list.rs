//! `iptables -L [-n] [-v] [-x] [--line-numbers]` and `iptables -S [-v]`, column for column
//! as iptables v1.8.9 (nf_tables) prints them (`xshared.c` `print_header`,
//! `print_rule_details`, the extensions' `print` functions).
//!
//! Without `-n`, iptables resolves names through the C library. hopsim answers as a
//! Debian host with the stock files does: `/etc/services` and `/etc/protocols` from
//! netbase, `127.0.0.1 localhost` in `/etc/hosts`, and `/etc/networks` naming `default`
//! (0.0.0.0), `loopback` (127.0.0.0) and `link-local` (169.254.0.0).

use super::iptables::{self, protocol_name, service_name, IptablesError, ICMP_CODES, VERSION};
use super::save::{builtin_chains, rule_args, user_chains};
use super::{Chain, Match, Netfilter, Rule, Table, TableName, Target};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

fn incompatible(chain: &str, table: TableName) -> IptablesError {
    IptablesError {
        msg: format!(
            "iptables {VERSION}: chain `{chain}' in table `{}' is incompatible, use 'nft' tool.",
            table.name()
        ),
        status: 1,
    }
}

/// The chains to list: one by name, or all (built-ins in order, then user chains sorted).
fn chains<'a>(
    t: &'a Table,
    chain: Option<&str>,
    table: TableName,
) -> Result<Vec<&'a Chain>, IptablesError> {
    match chain {
        Some(c) => t
            .chains
            .get(c)
            .map(|c| vec![c])
            .ok_or_else(|| incompatible(c, table)),
        None => Ok(builtin_chains(t)
            .into_iter()
            .chain(user_chains(t))
            .collect()),
    }
}

/// How many rules of the table jump or go to `chain`.
pub fn references(t: &Table, chain: &str) -> usize {
    t.chains
        .values()
        .flat_map(|c| c.rules.iter())
        .filter(|r| matches!(&r.target, Target::Jump { chain: c } | Target::Goto { chain: c } if c == chain))
        .count()
}

/// `iptables -L`: every chain of `table` (or one), with the header line, the column titles
/// and one line per rule; chains are separated by an empty line.
pub fn render_list(
    nf: &Netfilter,
    table: TableName,
    chain: Option<&str>,
    numeric: bool,
    verbose: bool,
    exact: bool,
    line_numbers: bool,
) -> Result<String, IptablesError> {
    let t = nf.counted(table);
    let t = &*t;
    let f = Fmt {
        numeric,
        verbose,
        exact,
        line_numbers,
    };
    let mut blocks = Vec::new();
    for c in chains(t, chain, table)? {
        let mut s = chain_header(t, c, &f);
        for (i, r) in c.rules.iter().enumerate() {
            s.push_str(&rule_line(r, i + 1, &f));
        }
        blocks.push(s);
    }
    Ok(blocks.join("\n"))
}

/// `iptables -L CHAIN N`: the line of rule `N` alone (nothing when there is no such rule).
#[allow(clippy::too_many_arguments)]
pub fn render_list_rule(
    nf: &Netfilter,
    table: TableName,
    chain: &str,
    rulenum: usize,
    numeric: bool,
    verbose: bool,
    exact: bool,
    line_numbers: bool,
) -> Result<String, IptablesError> {
    let t = nf.counted(table);
    let t = &*t;
    let c = t
        .chains
        .get(chain)
        .ok_or_else(|| incompatible(chain, table))?;
    let f = Fmt {
        numeric,
        verbose,
        exact,
        line_numbers,
    };
    Ok(match rulenum.checked_sub(1).and_then(|i| c.rules.get(i)) {
        Some(r) => rule_line(r, rulenum, &f),
        None => String::new(),
    })
}

/// `iptables -S [CHAIN [N]] [-v]`: `-P`/`-N` lines, then the rules as `-A CHAIN ...`.
pub fn render_rules(
    nf: &Netfilter,
    table: TableName,
    chain: Option<&str>,
    rulenum: Option<usize>,
    verbose: bool,
) -> Result<String, IptablesError> {
    let t = nf.counted(table);
    let t = &*t;
    let list = chains(t, chain, table)?;
    let rule_text = |c: &Chain, r: &Rule| {
        let a = rule_args(r, verbose);
        if a.is_empty() {
            format!("-A {}\n", c.name)
        } else {
            format!("-A {} {a}\n", c.name)
        }
    };
    let mut out = String::new();
    if let (Some(n), Some(c)) = (rulenum, list.first()) {
        if let Some(r) = n.checked_sub(1).and_then(|i| c.rules.get(i)) {
            out.push_str(&rule_text(c, r));
        }
        return Ok(out);
    }
    for c in &list {
        match c.policy {
            Some(p) => {
                out.push_str(&format!("-P {} {}", c.name, p.name()));
                if verbose {
                    out.push_str(&format!(" -c {} {}", c.packets, c.bytes));
                }
                out.push('\n');
            }
            None => out.push_str(&format!("-N {}\n", c.name)),
        }
    }
    for c in &list {
        for r in &c.rules {
            out.push_str(&rule_text(c, r));
        }
    }
    Ok(out)
}

/// The listing options.
struct Fmt {
    numeric: bool,
    verbose: bool,
    exact: bool,
    line_numbers: bool,
}

/// `xtables_print_num` for a table column: `%8llu ` with `-x`, else at most five
/// characters with a K/M/G/T suffix (rounded to nearest).
fn num_col(n: u64, exact: bool) -> String {
    if exact {
        return format!("{n:>8} ");
    }
    let (v, suffix) = kmg(n);
    match suffix {
        None => format!("{v:>5} "),
        Some(s) => format!("{v:>4}{s} "),
    }
}

/// `xtables_print_num` without the table layout (the chain header's counters).
fn num_plain(n: u64, exact: bool) -> String {
    if exact {
        return n.to_string();
    }
    match kmg(n) {
        (v, None) => v.to_string(),
        (v, Some(s)) => format!("{v}{s}"),
    }
}

fn kmg(n: u64) -> (u64, Option<char>) {
    if n <= 99999 {
        return (n, None);
    }
    // (v + 500) / 1000, without overflowing near u64::MAX.
    let round = |v: u64| v / 1000 + u64::from(v % 1000 >= 500);
    let mut v = n;
    for s in ['K', 'M', 'G'] {
        v = round(v);
        if v <= 9999 {
            return (v, Some(s));
        }
    }
    (round(v), Some('T'))
}

fn chain_header(t: &Table, c: &Chain, f: &Fmt) -> String {
    let mut s = format!("Chain {}", c.name);
    match c.policy {
        Some(p) => {
            s.push_str(&format!(" (policy {}", p.name()));
            if f.verbose {
                s.push_str(&format!(
                    " {} packets, {} bytes",
                    num_plain(c.packets, f.exact),
                    num_plain(c.bytes, f.exact)
                ));
            }
            s.push_str(")\n");
        }
        None => s.push_str(&format!(" ({} references)\n", references(t, &c.name))),
    }
    if f.line_numbers {
        s.push_str("num  ");
    }
    if f.verbose {
        if f.exact {
            s.push_str(&format!("{:>8} {:>10} ", "pkts", "bytes"));
        } else {
            s.push_str(&format!("{:>5} {:>5} ", "pkts", "bytes"));
        }
    }
    s.push_str(&format!("{:<9} ", "target"));
    s.push_str(" prot opt");
    if f.verbose {
        s.push_str(&format!(" {:<6} {:<6} ", "in", "out"));
    }
    s.push_str(&format!(" {:<19} ", "source"));
    s.push_str(&format!(" {:<19} ", "destination"));
    s.push('\n');
    s
}

/// `ADDR[/LEN]` as iptables prints it: numeric with `-n`, else a host or network name
/// when one is known; `/32` is not shown.
fn addr_text(net: &Ipv4Net, numeric: bool) -> String {
    let a = net.addr();
    let name = if numeric {
        a.to_string()
    } else {
        host_or_network_name(a).map_or_else(|| a.to_string(), str::to_string)
    };
    if net.prefix_len() == 32 {
        name
    } else {
        format!("{name}/{}", net.prefix_len())
    }
}

fn host_or_network_name(a: Ipv4Addr) -> Option<&'static str> {
    match a.octets() {
        [127, 0, 0, 1] => Some("localhost"),
        [0, 0, 0, 0] => Some("default"),
        [127, 0, 0, 0] => Some("loopback"),
        [169, 254, 0, 0] => Some("link-local"),
        _ => None,
    }
}

fn port_text(p: u16, proto: &str, numeric: bool) -> String {
    if !numeric {
        if let Some(n) = service_name(p, proto) {
            return n.to_string();
        }
    }
    p.to_string()
}

/// The rule's protocol, for service names (`tcp` or `udp`; other protocols print numbers).
fn rule_proto(r: &Rule) -> Option<u8> {
    r.matches.iter().find_map(|m| match m {
        Match::Protocol { proto, .. } => Some(*proto),
        _ => None,
    })
}

fn proto_str(p: Option<u8>) -> &'static str {
    match p {
        Some(17) => "udp",
        Some(6) => "tcp",
        _ => "",
    }
}

fn rule_line(r: &Rule, n: usize, f: &Fmt) -> String {
    let mut s = String::new();
    if f.line_numbers {
        s.push_str(&format!("{n:<4} "));
    }
    if f.verbose {
        s.push_str(&num_col(r.packets, f.exact));
        s.push_str(&num_col(r.bytes, f.exact));
    }
    s.push_str(&format!("{:<9} ", target_column(&r.target)));
    let mut src = None;
    let mut dst = None;
    let mut iin = None;
    let mut iout = None;
    let mut proto = None;
    for m in &r.matches {
        match m {
            Match::Source { net, neg } => src = Some((net, *neg)),
            Match::Destination { net, neg } => dst = Some((net, *neg)),
            Match::InInterface { name, neg } => iin = Some((name, *neg)),
            Match::OutInterface { name, neg } => iout = Some((name, *neg)),
            Match::Protocol { proto: p, neg } => proto = Some((*p, *neg)),
            _ => {}
        }
    }
    let (pnum, pneg) = proto.unwrap_or((0, false));
    s.push(if pneg { '!' } else { ' ' });
    let ptext = if f.numeric {
        pnum.to_string()
    } else {
        protocol_name(pnum).map_or_else(|| pnum.to_string(), str::to_string)
    };
    s.push_str(&format!("{ptext:<4} "));
    s.push_str("-- ");
    if f.verbose {
        let iface = |i: Option<(&String, bool)>| match i {
            Some((name, neg)) => format!("{}{name}", if neg { "!" } else { "" }),
            None => (if f.numeric { "*" } else { "any" }).to_string(),
        };
        s.push_str(&format!(" {:<6} ", iface(iin)));
        s.push_str(&format!("{:<6} ", iface(iout)));
    }
    for a in [src, dst] {
        let (neg, text) = match a {
            Some((net, neg)) => (neg, addr_text(net, f.numeric)),
            None => (
                false,
                (if f.numeric { "0.0.0.0/0" } else { "anywhere" }).to_string(),
            ),
        };
        s.push(if neg { '!' } else { ' ' });
        s.push_str(&format!("{text:<19} "));
    }
    if matches!(r.target, Target::Goto { .. }) {
        s.push_str("[goto] ");
    }
    let rp = rule_proto(r);
    for m in &r.matches {
        s.push_str(&match_text(m, rp, f.numeric));
    }
    s.push_str(&target_text(&r.target, f.numeric));
    s.push('\n');
    s
}

fn target_column(t: &Target) -> &str {
    match t {
        Target::None => "",
        Target::Accept => "ACCEPT",
        Target::Drop => "DROP",
        Target::Return => "RETURN",
        Target::Reject { .. } => "REJECT",
        Target::Jump { chain } | Target::Goto { chain } => chain,
        Target::Dnat { .. } => "DNAT",
        Target::Snat { .. } => "SNAT",
        Target::Masquerade { .. } => "MASQUERADE",
        Target::Mark { .. } => "MARK",
        Target::Log { .. } => "LOG",
        Target::Trace => "TRACE",
        Target::Notrack => "CT",
    }
}

/// libxt_tcp's `print_ports`.
fn print_ports(
    name: &str,
    r: &Option<(super::PortRange, bool)>,
    proto: &str,
    numeric: bool,
) -> String {
    let Some((r, inv)) = r else {
        return String::new();
    };
    let inv_s = if *inv { "!" } else { "" };
    if r.lo == 0 && r.hi == 0xffff && !inv {
        return String::new();
    }
    if r.lo == r.hi {
        format!(" {name}:{inv_s}{}", port_text(r.lo, proto, numeric))
    } else {
        format!(
            " {name}s:{inv_s}{}:{}",
            port_text(r.lo, proto, numeric),
            port_text(r.hi, proto, numeric)
        )
    }
}

/// The right-hand text of one match (with its leading space), as `iptables -L` prints it.
fn match_text(m: &Match, rule_proto: Option<u8>, numeric: bool) -> String {
    let neg_sp = |n: bool| if n { " !" } else { "" };
    match m {
        Match::Source { .. }
        | Match::Destination { .. }
        | Match::InInterface { .. }
        | Match::OutInterface { .. }
        | Match::Protocol { .. } => String::new(),
        Match::Ports {
            proto,
            sport,
            dport,
        } => {
            let p = if *proto == 17 { "udp" } else { "tcp" };
            format!(
                " {p}{}{}",
                print_ports("spt", sport, p, numeric),
                print_ports("dpt", dport, p, numeric)
            )
        }
        Match::Multiport { which, ports, neg } => {
            let p = proto_str(rule_proto);
            let list: Vec<String> = ports
                .iter()
                .map(|r| {
                    if r.lo == r.hi {
                        port_text(r.lo, p, numeric)
                    } else {
                        format!(
                            "{}:{}",
                            port_text(r.lo, p, numeric),
                            port_text(r.hi, p, numeric)
                        )
                    }
                })
                .collect();
            format!(" multiport {which} {}{}", neg_sp(*neg), list.join(","))
        }
        Match::Icmp {
            icmp_type,
            code,
            neg,
        } => {
            let (cmin, cmax) = match code {
                Some(c) => (*c, *c),
                None => (0, 0xff),
            };
            if !numeric {
                if let Some((name, ..)) = ICMP_CODES
                    .iter()
                    .find(|(_, t, lo, hi)| t == icmp_type && *lo == cmin && *hi == cmax)
                {
                    return format!(" icmp {}{name}", if *neg { "!" } else { "" });
                }
            }
            // libxt_icmp prints " icmp" then "type N" with no space between, unless
            // negated (" !type N"): hence `icmptype 8`.
            let mut s = format!(" icmp{}type {icmp_type}", neg_sp(*neg));
            if cmin == cmax {
                s.push_str(&format!(" code {cmin}"));
            }
            s
        }
        Match::Comment { text } => format!(" /* {text} */"),
        Match::Set { name, dirs, neg } => format!(
            " {}match-set {name} {}",
            if *neg { "! " } else { "" },
            super::save::dirs_text(dirs)
        ),
        Match::Nfacct { name } => format!(" nfacct-name  {}", super::save::save_string(name)),
        Match::StatisticRandom { threshold, neg } => format!(
            " statistic mode random{} probability {}",
            neg_sp(*neg),
            iptables::probability_text(*threshold)
        ),
        Match::StatisticNth { every, packet, neg } => {
            let mut s = format!(" statistic mode nth{} every {every}", neg_sp(*neg));
            if *packet != 0 {
                s.push_str(&format!(" packet {packet}"));
            }
            s
        }
        Match::Mark { value, mask, neg } => {
            let mut s = format!(" mark match{} {value:#x}", neg_sp(*neg));
            if *mask != u32::MAX {
                s.push_str(&format!("/{mask:#x}"));
            }
            s
        }
        Match::CtState {
            states,
            neg,
            legacy_state,
        } => format!(
            "{} {} {}",
            neg_sp(*neg),
            if *legacy_state { "state" } else { "ctstate" },
            iptables::states_text(states)
        ),
        Match::AddrType {
            src,
            dst,
            limit_iface_in,
            limit_iface_out,
        } => {
            let mut s = String::from(" ADDRTYPE match");
            if let Some((t, n)) = src {
                s.push_str(&format!(
                    " src-type {}{}",
                    if *n { "!" } else { "" },
                    iptables::addrtype_name(*t)
                ));
            }
            if let Some((t, n)) = dst {
                s.push_str(&format!(
                    " dst-type {}{}",
                    if *n { "!" } else { "" },
                    iptables::addrtype_name(*t)
                ));
            }
            if *limit_iface_in {
                s.push_str(" limit-in");
            }
            if *limit_iface_out {
                s.push_str(" limit-out");
            }
            s
        }
        Match::Physdev {
            physdev_in,
            physdev_out,
            is_bridged,
        } => {
            let mut s = String::from(" PHYSDEV match");
            if let Some((name, n)) = physdev_in {
                s.push_str(&format!("{} --physdev-in {name}", neg_sp(*n)));
            }
            if let Some((name, n)) = physdev_out {
                s.push_str(&format!("{} --physdev-out {name}", neg_sp(*n)));
            }
            if let Some(n) = is_bridged {
                s.push_str(&format!("{} --physdev-is-bridged", neg_sp(*n)));
            }
            s
        }
    }
}

const LOG_LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];

/// The target's text after the matches (with its leading space).
fn target_text(t: &Target, numeric: bool) -> String {
    match t {
        Target::Reject { with } => format!(" reject-with {}", with.name()),
        Target::Dnat { to } | Target::Snat { to } => {
            format!(" to:{}", super::save::nat_range_text(to))
        }
        Target::Masquerade {
            to_ports,
            random_fully,
            random,
        } => {
            let mut s = String::new();
            if let Some(p) = to_ports {
                s.push_str(&format!(" masq ports: {}", p.lo));
                if p.hi != p.lo {
                    s.push_str(&format!("-{}", p.hi));
                }
            }
            if *random {
                s.push_str(" random");
            }
            if *random_fully {
                s.push_str(" random-fully");
            }
            s
        }
        Target::Mark { value, mask } => {
            // libxt_MARK's mark_tg_print.
            if *value == 0 {
                format!(" MARK and {:#x}", !mask)
            } else if value == mask {
                format!(" MARK or {value:#x}")
            } else if *mask == 0 {
                format!(" MARK xor {value:#x}")
            } else if *mask == u32::MAX {
                format!(" MARK set {value:#x}")
            } else {
                format!(" MARK xset {value:#x}/{mask:#x}")
            }
        }
        Target::Log { prefix, level } => {
            let lvl: usize = level
                .as_deref()
                .and_then(|l| l.parse().ok())
                .filter(|l| *l < 8)
                .unwrap_or(4);
            let mut s = if numeric {
                format!(" LOG flags 0 level {lvl}")
            } else {
                format!(" LOG level {}", LOG_LEVELS[lvl])
            };
            if let Some(p) = prefix {
                s.push_str(&format!(" prefix \"{p}\""));
            }
            s
        }
        Target::Notrack => " CT notrack".to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::netfilter::save::parse_restore;

    pub(crate) const RULES_FOR_SAVE: &str = RULES;

    /// `iptables -t T -L` with every option combination, `-S` and `-S -v`, compared with
    /// the real iptables v1.8.9 (nf_tables) after `iptables-restore -c` of [`RULES`] in a
    /// throw-away namespace. The one edit: the real dump had `-j NOTRACK` on raw OUTPUT,
    /// which hopsim stores as `CT --notrack`; its three lines are those of the real
    /// `-j CT --notrack` rule on PREROUTING (`CT notrack`).
    #[test]
    fn listings_match_real_iptables() {
        let nf = parse_restore(RULES).unwrap_or_else(|e| panic!("{e}"));
        let mut out = String::new();
        for (t, tn) in [
            ("filter", TableName::Filter),
            ("nat", TableName::Nat),
            ("raw", TableName::Raw),
            ("mangle", TableName::Mangle),
        ] {
            for (o, n, v, x, l) in [
                ("", false, false, false, false),
                ("-n", true, false, false, false),
                ("-v", false, true, false, false),
                ("-n -v", true, true, false, false),
                ("-n -v -x", true, true, true, false),
                ("-n --line-numbers", true, false, false, true),
                ("-v --line-numbers", false, true, false, true),
            ] {
                out.push_str(&format!("=== -t {t} -L {o}\n"));
                out.push_str(&render_list(&nf, tn, None, n, v, x, l).expect("table"));
                out.push_str("[exit=0]\n");
            }
            out.push_str(&format!("=== -t {t} -S\n"));
            out.push_str(&render_rules(&nf, tn, None, None, false).expect("table"));
            out.push_str(&format!("=== -t {t} -S -v\n"));
            out.push_str(&render_rules(&nf, tn, None, None, true).expect("table"));
        }
        for (a, b) in out.lines().zip(REAL_LISTINGS.lines()) {
            assert_eq!(a, b);
        }
        assert_eq!(out, REAL_LISTINGS);
    }

    /// One chain, one rule, as the real tool printed them for the same tables.
    #[test]
    fn single_chain_and_rule() {
        let nf = parse_restore(RULES).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            render_list(
                &nf,
                TableName::Filter,
                Some("DOCKER"),
                true,
                false,
                false,
                false
            )
            .expect("chain"),
            concat!(
                "Chain DOCKER (3 references)\n",
                "target     prot opt source               destination         \n",
                "ACCEPT     6    --  0.0.0.0/0            172.17.0.2           tcp dpt:80\n",
                "           0    --  0.0.0.0/0            0.0.0.0/0           \n"
            )
        );
        assert_eq!(
            render_rules(&nf, TableName::Filter, Some("DOCKER"), None, false).expect("chain"),
            "-N DOCKER\n-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT\n-A DOCKER\n"
        );
        assert_eq!(
            render_list_rule(&nf, TableName::Filter, "FORWARD", 2, false, false, false, false).expect("chain"),
            "ACCEPT     all  --  anywhere             anywhere             ctstate RELATED,ESTABLISHED\n"
        );
        assert_eq!(
            render_list_rule(&nf, TableName::Filter, "FORWARD", 2, true, true, false, false).expect("chain"),
            "    0     0 ACCEPT     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED\n"
        );
        assert_eq!(
            render_rules(&nf, TableName::Filter, Some("FORWARD"), Some(2), true).expect("chain"),
            "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -c 0 0 -j ACCEPT\n"
        );
        let e = render_list(
            &nf,
            TableName::Filter,
            Some("NOPE"),
            false,
            false,
            false,
            false,
        )
        .expect_err("no such chain");
        assert_eq!(
            (e.msg.as_str(), e.status),
            ("iptables v1.8.9 (nf_tables): chain `NOPE' in table `filter' is incompatible, use 'nft' tool.", 1)
        );
    }

    /// Docker's classic rules (SYSTEM_RULES.md 2.2) listed with `-L -n -v` then `-L`, per
    /// table, as the real tool printed them after `iptables-restore`.
    #[test]
    fn docker_listing() {
        let nf = parse_restore(crate::netfilter::save::tests::DOCKER_SAVE)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut out = String::new();
        for t in [TableName::Filter, TableName::Nat] {
            out.push_str(&render_list(&nf, t, None, true, true, false, false).expect("table"));
            out.push_str(&render_list(&nf, t, None, false, false, false, false).expect("table"));
        }
        assert_eq!(out, DOCKER_LISTING);
    }

    #[test]
    fn counter_suffixes() {
        for (n, col, plain) in [
            (0u64, "    0 ", "0"),
            (99999, "99999 ", "99999"),
            (100000, " 100K ", "100K"),
            (678901, " 679K ", "679K"),
            (9999499, "9999K ", "9999K"),
            (9999500, "  10M ", "10M"),
            (123456789, " 123M ", "123M"),
            (98765432100, "  99G ", "99G"),
            (u64::MAX, "18446744T ", "18446744T"),
        ] {
            assert_eq!(num_col(n, false), col, "{n}");
            assert_eq!(num_plain(n, false), plain, "{n}");
        }
        assert_eq!(num_col(5, true), "       5 ");
    }

    const RULES: &str = r####"*filter
:INPUT ACCEPT [12345:678901]
:FORWARD DROP [1:84]
:OUTPUT ACCEPT [123456789:98765432100]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
[5:300] -A INPUT -i lo -j ACCEPT
[99999:100000] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
[100000:1000000] -A INPUT -p udp -m udp --sport 53 --dport 1024:65535 -j ACCEPT
[999999:9999999] -A INPUT ! -s 10.0.0.0/8 -d 192.168.1.1/32 -p icmp -m icmp --icmp-type 8 -j ACCEPT
[1000000:10000000] -A INPUT -p icmp -m icmp --icmp-type 3/3 -j ACCEPT
[0:0] -A INPUT -p icmp -m icmp ! --icmp-type 0 -j DROP
[0:0] -A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT
[0:0] -A INPUT -p icmp -m icmp --icmp-type 11 -j ACCEPT
[0:0] -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[0:0] -A INPUT -m state --state NEW,INVALID -j DROP
[0:0] -A INPUT -m conntrack ! --ctstate DNAT,SNAT,UNTRACKED -j LOG --log-prefix "hello: " --log-level 4
[0:0] -A INPUT -j LOG
[0:0] -A INPUT -m comment --comment "a comment" -j REJECT --reject-with icmp-host-prohibited
[0:0] -A INPUT -p tcp -j REJECT --reject-with tcp-reset
[0:0] -A INPUT -j REJECT
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[0:0] -A FORWARD -o docker0 -j DOCKER
[0:0] -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
[0:0] -A FORWARD -i veth+ ! -o br+ -g DOCKER
[0:0] -A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
[0:0] -A FORWARD -m mark ! --mark 0x1 -j ACCEPT
[0:0] -A FORWARD -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT
[0:0] -A FORWARD -p udp -m multiport ! --sports 53 -j ACCEPT
[0:0] -A FORWARD -p tcp -m multiport --ports 1,2 -j ACCEPT
[0:0] -A FORWARD -m addrtype --src-type LOCAL --dst-type UNICAST -j ACCEPT
[0:0] -A FORWARD -m addrtype ! --dst-type BROADCAST --limit-iface-in -j ACCEPT
[0:0] -A FORWARD -m physdev --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged -j ACCEPT
[0:0] -A FORWARD -m physdev ! --physdev-is-bridged -j ACCEPT
[0:0] -A FORWARD -p tcp -m tcp ! --sport 1000 ! --dport 2000:3000 -j ACCEPT
[0:0] -A FORWARD -m statistic --mode random --probability 0.33333 -j ACCEPT
[0:0] -A FORWARD -m statistic --mode random ! --probability 0.5 -j ACCEPT
[0:0] -A FORWARD -m statistic --mode nth --every 3 --packet 1 -j ACCEPT
[0:0] -A FORWARD -m statistic --mode nth ! --every 2 --packet 0 -j ACCEPT
[0:0] -A FORWARD -j MARK --set-xmark 0x10/0xff
[0:0] -A FORWARD -j RETURN
[0:0] -A FORWARD -p tcp -m tcp --dport 80 -m comment --comment x -j DOCKER
[0:0] -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
[7:420] -A DOCKER
COMMIT
*nat
:PREROUTING ACCEPT [3:180]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 10.0.0.0/8 -p udp -j MASQUERADE --to-ports 1000-2000 --random
-A POSTROUTING -s 10.0.0.0/8 -p tcp -j MASQUERADE --to-ports 1000 --random-fully
-A POSTROUTING -s 10.0.0.0/8 -j SNAT --to-source 1.2.3.4
-A POSTROUTING -s 10.0.0.0/8 -p udp -j SNAT --to-source 1.2.3.4-1.2.3.10:1000-2000
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:80-90
-A DOCKER -p tcp -m tcp --dport 8082 -j DNAT --to-destination 172.17.0.2-172.17.0.5
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p icmp -j TRACE
-A PREROUTING -p udp -j CT --notrack
-A OUTPUT -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-IPTABLES-HINT - [0:0]
-A PREROUTING -j MARK --set-mark 5
COMMIT
"####;

    const REAL_LISTINGS: &str = r####"=== -t filter -L 
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     all  --  anywhere             anywhere            
ACCEPT     tcp  --  anywhere             anywhere             tcp dpt:ssh
ACCEPT     udp  --  anywhere             anywhere             udp spt:domain dpts:1024:65535
ACCEPT     icmp -- !10.0.0.0/8           192.168.1.1          icmp echo-request
ACCEPT     icmp --  anywhere             anywhere             icmp port-unreachable
DROP       icmp --  anywhere             anywhere             icmp !echo-reply
ACCEPT     icmp --  anywhere             anywhere             icmp any
ACCEPT     icmp --  anywhere             anywhere             icmp time-exceeded
ACCEPT     all  --  anywhere             anywhere             ctstate RELATED,ESTABLISHED
DROP       all  --  anywhere             anywhere             state INVALID,NEW
LOG        all  --  anywhere             anywhere             ! ctstate UNTRACKED,SNAT,DNAT LOG level warn prefix "hello: "
LOG        all  --  anywhere             anywhere             LOG level warn
REJECT     all  --  anywhere             anywhere             /* a comment */ reject-with icmp-host-prohibited
REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset
REJECT     all  --  anywhere             anywhere             reject-with icmp-port-unreachable

Chain FORWARD (policy DROP)
target     prot opt source               destination         
DOCKER-USER  all  --  anywhere             anywhere            
ACCEPT     all  --  anywhere             anywhere             ctstate RELATED,ESTABLISHED
DOCKER     all  --  anywhere             anywhere            
ACCEPT     all  --  anywhere             anywhere            
DOCKER     all  --  anywhere             anywhere            [goto] 
ACCEPT     all  --  anywhere             anywhere             mark match 0x4000/0x4000
ACCEPT     all  --  anywhere             anywhere             mark match ! 0x1
ACCEPT     tcp  --  anywhere             anywhere             multiport dports http,https,8000:http-alt
ACCEPT     udp  --  anywhere             anywhere             multiport sports  !domain
ACCEPT     tcp  --  anywhere             anywhere             multiport ports tcpmux,2
ACCEPT     all  --  anywhere             anywhere             ADDRTYPE match src-type LOCAL dst-type UNICAST
ACCEPT     all  --  anywhere             anywhere             ADDRTYPE match dst-type !BROADCAST limit-in
ACCEPT     all  --  anywhere             anywhere             PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
ACCEPT     all  --  anywhere             anywhere             PHYSDEV match ! --physdev-is-bridged
ACCEPT     tcp  --  anywhere             anywhere             tcp spt:!1000 dpts:!cisco-sccp:3000
ACCEPT     all  --  anywhere             anywhere             statistic mode random probability 0.33332999982
ACCEPT     all  --  anywhere             anywhere             statistic mode random ! probability 0.50000000000
ACCEPT     all  --  anywhere             anywhere             statistic mode nth every 3 packet 1
ACCEPT     all  --  anywhere             anywhere             statistic mode nth ! every 2
MARK       all  --  anywhere             anywhere             MARK xset 0x10/0xff
RETURN     all  --  anywhere             anywhere            
DOCKER     tcp  --  anywhere             anywhere             tcp dpt:http /* x */

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain DOCKER (3 references)
target     prot opt source               destination         
ACCEPT     tcp  --  anywhere             172.17.0.2           tcp dpt:http
           all  --  anywhere             anywhere            

Chain DOCKER-USER (1 references)
target     prot opt source               destination         
[exit=0]
=== -t filter -L -n
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:22
ACCEPT     17   --  0.0.0.0/0            0.0.0.0/0            udp spt:53 dpts:1024:65535
ACCEPT     1    -- !10.0.0.0/8           192.168.1.1          icmptype 8
ACCEPT     1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3
DROP       1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 0
ACCEPT     1    --  0.0.0.0/0            0.0.0.0/0            icmptype 255
ACCEPT     1    --  0.0.0.0/0            0.0.0.0/0            icmptype 11
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
DROP       0    --  0.0.0.0/0            0.0.0.0/0            state INVALID,NEW
LOG        0    --  0.0.0.0/0            0.0.0.0/0            ! ctstate UNTRACKED,SNAT,DNAT LOG flags 0 level 4 prefix "hello: "
LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4
REJECT     0    --  0.0.0.0/0            0.0.0.0/0            /* a comment */ reject-with icmp-host-prohibited
REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset
REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable

Chain FORWARD (policy DROP)
target     prot opt source               destination         
DOCKER-USER  0    --  0.0.0.0/0            0.0.0.0/0           
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
DOCKER     0    --  0.0.0.0/0            0.0.0.0/0           
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
DOCKER     0    --  0.0.0.0/0            0.0.0.0/0           [goto] 
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x4000/0x4000
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            mark match ! 0x1
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 80,443,8000:8080
ACCEPT     17   --  0.0.0.0/0            0.0.0.0/0            multiport sports  !53
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            multiport ports 1,2
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type LOCAL dst-type UNICAST
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type !BROADCAST limit-in
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            PHYSDEV match ! --physdev-is-bridged
ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp spt:!1000 dpts:!2000:3000
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.33332999982
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random ! probability 0.50000000000
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode nth every 3 packet 1
ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode nth ! every 2
MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xset 0x10/0xff
RETURN     0    --  0.0.0.0/0            0.0.0.0/0           
DOCKER     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80 /* x */

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain DOCKER (3 references)
target     prot opt source               destination         
ACCEPT     6    --  0.0.0.0/0            172.17.0.2           tcp dpt:80
           0    --  0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-USER (1 references)
target     prot opt source               destination         
[exit=0]
=== -t filter -L -v
Chain INPUT (policy ACCEPT 12345 packets, 679K bytes)
 pkts bytes target     prot opt in     out     source               destination         
    5   300 ACCEPT     all  --  lo     any     anywhere             anywhere            
99999  100K ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp dpt:ssh
 100K 1000K ACCEPT     udp  --  any    any     anywhere             anywhere             udp spt:domain dpts:1024:65535
1000K   10M ACCEPT     icmp --  any    any    !10.0.0.0/8           192.168.1.1          icmp echo-request
1000K   10M ACCEPT     icmp --  any    any     anywhere             anywhere             icmp port-unreachable
    0     0 DROP       icmp --  any    any     anywhere             anywhere             icmp !echo-reply
    0     0 ACCEPT     icmp --  any    any     anywhere             anywhere             icmp any
    0     0 ACCEPT     icmp --  any    any     anywhere             anywhere             icmp time-exceeded
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             ctstate RELATED,ESTABLISHED
    0     0 DROP       all  --  any    any     anywhere             anywhere             state INVALID,NEW
    0     0 LOG        all  --  any    any     anywhere             anywhere             ! ctstate UNTRACKED,SNAT,DNAT LOG level warn prefix "hello: "
    0     0 LOG        all  --  any    any     anywhere             anywhere             LOG level warn
    0     0 REJECT     all  --  any    any     anywhere             anywhere             /* a comment */ reject-with icmp-host-prohibited
    0     0 REJECT     tcp  --  any    any     anywhere             anywhere             reject-with tcp-reset
    0     0 REJECT     all  --  any    any     anywhere             anywhere             reject-with icmp-port-unreachable

Chain FORWARD (policy DROP 1 packets, 84 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER-USER  all  --  any    any     anywhere             anywhere            
    0     0 ACCEPT     all  --  any    docker0  anywhere             anywhere             ctstate RELATED,ESTABLISHED
    0     0 DOCKER     all  --  any    docker0  anywhere             anywhere            
    0     0 ACCEPT     all  --  docker0 !docker0  anywhere             anywhere            
    0     0 DOCKER     all  --  veth+  !br+    anywhere             anywhere            [goto] 
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             mark match 0x4000/0x4000
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             mark match ! 0x1
    0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             multiport dports http,https,8000:http-alt
    0     0 ACCEPT     udp  --  any    any     anywhere             anywhere             multiport sports  !domain
    0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             multiport ports tcpmux,2
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             ADDRTYPE match src-type LOCAL dst-type UNICAST
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             ADDRTYPE match dst-type !BROADCAST limit-in
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             PHYSDEV match ! --physdev-is-bridged
    0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp spt:!1000 dpts:!cisco-sccp:3000
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode random probability 0.33332999982
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode random ! probability 0.50000000000
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode nth every 3 packet 1
    0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode nth ! every 2
    0     0 MARK       all  --  any    any     anywhere             anywhere             MARK xset 0x10/0xff
    0     0 RETURN     all  --  any    any     anywhere             anywhere            
    0     0 DOCKER     tcp  --  any    any     anywhere             anywhere             tcp dpt:http /* x */

Chain OUTPUT (policy ACCEPT 123M packets, 99G bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain DOCKER (3 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     tcp  --  !docker0 docker0  anywhere             172.17.0.2           tcp dpt:http
    7   420            all  --  any    any     anywhere             anywhere            

Chain DOCKER-USER (1 references)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t filter -L -n -v
Chain INPUT (policy ACCEPT 12345 packets, 679K bytes)
 pkts bytes target     prot opt in     out     source               destination         
    5   300 ACCEPT     0    --  lo     *       0.0.0.0/0            0.0.0.0/0           
99999  100K ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22
 100K 1000K ACCEPT     17   --  *      *       0.0.0.0/0            0.0.0.0/0            udp spt:53 dpts:1024:65535
1000K   10M ACCEPT     1    --  *      *      !10.0.0.0/8           192.168.1.1          icmptype 8
1000K   10M ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3
    0     0 DROP       1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmp !type 0
    0     0 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 255
    0     0 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 11
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            state INVALID,NEW
    0     0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            ! ctstate UNTRACKED,SNAT,DNAT LOG flags 0 level 4 prefix "hello: "
    0     0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4
    0     0 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* a comment */ reject-with icmp-host-prohibited
    0     0 REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset
    0     0 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable

Chain FORWARD (policy DROP 1 packets, 84 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER-USER  0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
    0     0 DOCKER     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 DOCKER     0    --  veth+  !br+    0.0.0.0/0            0.0.0.0/0           [goto] 
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match 0x4000/0x4000
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match ! 0x1
    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports 80,443,8000:8080
    0     0 ACCEPT     17   --  *      *       0.0.0.0/0            0.0.0.0/0            multiport sports  !53
    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport ports 1,2
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type LOCAL dst-type UNICAST
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type !BROADCAST limit-in
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match ! --physdev-is-bridged
    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp spt:!1000 dpts:!2000:3000
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.33332999982
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode random ! probability 0.50000000000
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode nth every 3 packet 1
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode nth ! every 2
    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK xset 0x10/0xff
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 DOCKER     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80 /* x */

Chain OUTPUT (policy ACCEPT 123M packets, 99G bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain DOCKER (3 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     6    --  !docker0 docker0  0.0.0.0/0            172.17.0.2           tcp dpt:80
    7   420            0    --  *      *       0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-USER (1 references)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t filter -L -n -v -x
Chain INPUT (policy ACCEPT 12345 packets, 678901 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       5      300 ACCEPT     0    --  lo     *       0.0.0.0/0            0.0.0.0/0           
   99999   100000 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22
  100000  1000000 ACCEPT     17   --  *      *       0.0.0.0/0            0.0.0.0/0            udp spt:53 dpts:1024:65535
  999999  9999999 ACCEPT     1    --  *      *      !10.0.0.0/8           192.168.1.1          icmptype 8
 1000000 10000000 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3
       0        0 DROP       1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmp !type 0
       0        0 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 255
       0        0 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 11
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
       0        0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            state INVALID,NEW
       0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            ! ctstate UNTRACKED,SNAT,DNAT LOG flags 0 level 4 prefix "hello: "
       0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4
       0        0 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* a comment */ reject-with icmp-host-prohibited
       0        0 REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset
       0        0 REJECT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable

Chain FORWARD (policy DROP 1 packets, 84 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 DOCKER-USER  0    --  *      *       0.0.0.0/0            0.0.0.0/0           
       0        0 ACCEPT     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
       0        0 DOCKER     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0           
       0        0 ACCEPT     0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0           
       0        0 DOCKER     0    --  veth+  !br+    0.0.0.0/0            0.0.0.0/0           [goto] 
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match 0x4000/0x4000
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match ! 0x1
       0        0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports 80,443,8000:8080
       0        0 ACCEPT     17   --  *      *       0.0.0.0/0            0.0.0.0/0            multiport sports  !53
       0        0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            multiport ports 1,2
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type LOCAL dst-type UNICAST
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type !BROADCAST limit-in
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match ! --physdev-is-bridged
       0        0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp spt:!1000 dpts:!2000:3000
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.33332999982
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode random ! probability 0.50000000000
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode nth every 3 packet 1
       0        0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            statistic mode nth ! every 2
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK xset 0x10/0xff
       0        0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           
       0        0 DOCKER     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:80 /* x */

Chain OUTPUT (policy ACCEPT 123456789 packets, 98765432100 bytes)
    pkts      bytes target     prot opt in     out     source               destination         

Chain DOCKER (3 references)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 ACCEPT     6    --  !docker0 docker0  0.0.0.0/0            172.17.0.2           tcp dpt:80
       7      420            0    --  *      *       0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-USER (1 references)
    pkts      bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t filter -L -n --line-numbers
Chain INPUT (policy ACCEPT)
num  target     prot opt source               destination         
1    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
2    ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:22
3    ACCEPT     17   --  0.0.0.0/0            0.0.0.0/0            udp spt:53 dpts:1024:65535
4    ACCEPT     1    -- !10.0.0.0/8           192.168.1.1          icmptype 8
5    ACCEPT     1    --  0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3
6    DROP       1    --  0.0.0.0/0            0.0.0.0/0            icmp !type 0
7    ACCEPT     1    --  0.0.0.0/0            0.0.0.0/0            icmptype 255
8    ACCEPT     1    --  0.0.0.0/0            0.0.0.0/0            icmptype 11
9    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
10   DROP       0    --  0.0.0.0/0            0.0.0.0/0            state INVALID,NEW
11   LOG        0    --  0.0.0.0/0            0.0.0.0/0            ! ctstate UNTRACKED,SNAT,DNAT LOG flags 0 level 4 prefix "hello: "
12   LOG        0    --  0.0.0.0/0            0.0.0.0/0            LOG flags 0 level 4
13   REJECT     0    --  0.0.0.0/0            0.0.0.0/0            /* a comment */ reject-with icmp-host-prohibited
14   REJECT     6    --  0.0.0.0/0            0.0.0.0/0            reject-with tcp-reset
15   REJECT     0    --  0.0.0.0/0            0.0.0.0/0            reject-with icmp-port-unreachable

Chain FORWARD (policy DROP)
num  target     prot opt source               destination         
1    DOCKER-USER  0    --  0.0.0.0/0            0.0.0.0/0           
2    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
3    DOCKER     0    --  0.0.0.0/0            0.0.0.0/0           
4    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
5    DOCKER     0    --  0.0.0.0/0            0.0.0.0/0           [goto] 
6    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            mark match 0x4000/0x4000
7    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            mark match ! 0x1
8    ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            multiport dports 80,443,8000:8080
9    ACCEPT     17   --  0.0.0.0/0            0.0.0.0/0            multiport sports  !53
10   ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            multiport ports 1,2
11   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type LOCAL dst-type UNICAST
12   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type !BROADCAST limit-in
13   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
14   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            PHYSDEV match ! --physdev-is-bridged
15   ACCEPT     6    --  0.0.0.0/0            0.0.0.0/0            tcp spt:!1000 dpts:!2000:3000
16   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random probability 0.33332999982
17   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode random ! probability 0.50000000000
18   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode nth every 3 packet 1
19   ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            statistic mode nth ! every 2
20   MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK xset 0x10/0xff
21   RETURN     0    --  0.0.0.0/0            0.0.0.0/0           
22   DOCKER     6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80 /* x */

Chain OUTPUT (policy ACCEPT)
num  target     prot opt source               destination         

Chain DOCKER (3 references)
num  target     prot opt source               destination         
1    ACCEPT     6    --  0.0.0.0/0            172.17.0.2           tcp dpt:80
2               0    --  0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-USER (1 references)
num  target     prot opt source               destination         
[exit=0]
=== -t filter -L -v --line-numbers
Chain INPUT (policy ACCEPT 12345 packets, 679K bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        5   300 ACCEPT     all  --  lo     any     anywhere             anywhere            
2    99999  100K ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp dpt:ssh
3     100K 1000K ACCEPT     udp  --  any    any     anywhere             anywhere             udp spt:domain dpts:1024:65535
4    1000K   10M ACCEPT     icmp --  any    any    !10.0.0.0/8           192.168.1.1          icmp echo-request
5    1000K   10M ACCEPT     icmp --  any    any     anywhere             anywhere             icmp port-unreachable
6        0     0 DROP       icmp --  any    any     anywhere             anywhere             icmp !echo-reply
7        0     0 ACCEPT     icmp --  any    any     anywhere             anywhere             icmp any
8        0     0 ACCEPT     icmp --  any    any     anywhere             anywhere             icmp time-exceeded
9        0     0 ACCEPT     all  --  any    any     anywhere             anywhere             ctstate RELATED,ESTABLISHED
10       0     0 DROP       all  --  any    any     anywhere             anywhere             state INVALID,NEW
11       0     0 LOG        all  --  any    any     anywhere             anywhere             ! ctstate UNTRACKED,SNAT,DNAT LOG level warn prefix "hello: "
12       0     0 LOG        all  --  any    any     anywhere             anywhere             LOG level warn
13       0     0 REJECT     all  --  any    any     anywhere             anywhere             /* a comment */ reject-with icmp-host-prohibited
14       0     0 REJECT     tcp  --  any    any     anywhere             anywhere             reject-with tcp-reset
15       0     0 REJECT     all  --  any    any     anywhere             anywhere             reject-with icmp-port-unreachable

Chain FORWARD (policy DROP 1 packets, 84 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 DOCKER-USER  all  --  any    any     anywhere             anywhere            
2        0     0 ACCEPT     all  --  any    docker0  anywhere             anywhere             ctstate RELATED,ESTABLISHED
3        0     0 DOCKER     all  --  any    docker0  anywhere             anywhere            
4        0     0 ACCEPT     all  --  docker0 !docker0  anywhere             anywhere            
5        0     0 DOCKER     all  --  veth+  !br+    anywhere             anywhere            [goto] 
6        0     0 ACCEPT     all  --  any    any     anywhere             anywhere             mark match 0x4000/0x4000
7        0     0 ACCEPT     all  --  any    any     anywhere             anywhere             mark match ! 0x1
8        0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             multiport dports http,https,8000:http-alt
9        0     0 ACCEPT     udp  --  any    any     anywhere             anywhere             multiport sports  !domain
10       0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             multiport ports tcpmux,2
11       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             ADDRTYPE match src-type LOCAL dst-type UNICAST
12       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             ADDRTYPE match dst-type !BROADCAST limit-in
13       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             PHYSDEV match --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged
14       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             PHYSDEV match ! --physdev-is-bridged
15       0     0 ACCEPT     tcp  --  any    any     anywhere             anywhere             tcp spt:!1000 dpts:!cisco-sccp:3000
16       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode random probability 0.33332999982
17       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode random ! probability 0.50000000000
18       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode nth every 3 packet 1
19       0     0 ACCEPT     all  --  any    any     anywhere             anywhere             statistic mode nth ! every 2
20       0     0 MARK       all  --  any    any     anywhere             anywhere             MARK xset 0x10/0xff
21       0     0 RETURN     all  --  any    any     anywhere             anywhere            
22       0     0 DOCKER     tcp  --  any    any     anywhere             anywhere             tcp dpt:http /* x */

Chain OUTPUT (policy ACCEPT 123M packets, 99G bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain DOCKER (3 references)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 ACCEPT     tcp  --  !docker0 docker0  anywhere             172.17.0.2           tcp dpt:http
2        7   420            all  --  any    any     anywhere             anywhere            

Chain DOCKER-USER (1 references)
num   pkts bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t filter -S
-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-USER
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p udp -m udp --sport 53 --dport 1024:65535 -j ACCEPT
-A INPUT ! -s 10.0.0.0/8 -d 192.168.1.1/32 -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 3/3 -j ACCEPT
-A INPUT -p icmp -m icmp ! --icmp-type 0 -j DROP
-A INPUT -p icmp -m icmp --icmp-type any -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 11 -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m state --state INVALID,NEW -j DROP
-A INPUT -m conntrack ! --ctstate UNTRACKED,SNAT,DNAT -j LOG --log-prefix "hello: "
-A INPUT -j LOG
-A INPUT -m comment --comment "a comment" -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i veth+ ! -o br+ -g DOCKER
-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A FORWARD -m mark ! --mark 0x1 -j ACCEPT
-A FORWARD -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT
-A FORWARD -p udp -m multiport ! --sports 53 -j ACCEPT
-A FORWARD -p tcp -m multiport --ports 1,2 -j ACCEPT
-A FORWARD -m addrtype --src-type LOCAL --dst-type UNICAST -j ACCEPT
-A FORWARD -m addrtype ! --dst-type BROADCAST --limit-iface-in -j ACCEPT
-A FORWARD -m physdev --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged -j ACCEPT
-A FORWARD -m physdev ! --physdev-is-bridged -j ACCEPT
-A FORWARD -p tcp -m tcp ! --sport 1000 ! --dport 2000:3000 -j ACCEPT
-A FORWARD -m statistic --mode random --probability 0.33332999982 -j ACCEPT
-A FORWARD -m statistic --mode random ! --probability 0.50000000000 -j ACCEPT
-A FORWARD -m statistic --mode nth --every 3 --packet 1 -j ACCEPT
-A FORWARD -m statistic --mode nth ! --every 2 --packet 0 -j ACCEPT
-A FORWARD -j MARK --set-xmark 0x10/0xff
-A FORWARD -j RETURN
-A FORWARD -p tcp -m tcp --dport 80 -m comment --comment x -j DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER
=== -t filter -S -v
-P INPUT ACCEPT -c 12345 678901
-P FORWARD DROP -c 1 84
-P OUTPUT ACCEPT -c 123456789 98765432100
-N DOCKER
-N DOCKER-USER
-A INPUT -i lo -c 5 300 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -c 99999 100000 -j ACCEPT
-A INPUT -p udp -m udp --sport 53 --dport 1024:65535 -c 100000 1000000 -j ACCEPT
-A INPUT ! -s 10.0.0.0/8 -d 192.168.1.1/32 -p icmp -m icmp --icmp-type 8 -c 999999 9999999 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 3/3 -c 1000000 10000000 -j ACCEPT
-A INPUT -p icmp -m icmp ! --icmp-type 0 -c 0 0 -j DROP
-A INPUT -p icmp -m icmp --icmp-type any -c 0 0 -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 11 -c 0 0 -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -c 0 0 -j ACCEPT
-A INPUT -m state --state INVALID,NEW -c 0 0 -j DROP
-A INPUT -m conntrack ! --ctstate UNTRACKED,SNAT,DNAT -c 0 0 -j LOG --log-prefix "hello: "
-A INPUT -c 0 0 -j LOG
-A INPUT -m comment --comment "a comment" -c 0 0 -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p tcp -c 0 0 -j REJECT --reject-with tcp-reset
-A INPUT -c 0 0 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -c 0 0 -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -c 0 0 -j ACCEPT
-A FORWARD -o docker0 -c 0 0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -c 0 0 -j ACCEPT
-A FORWARD -i veth+ ! -o br+ -c 0 0 -g DOCKER
-A FORWARD -m mark --mark 0x4000/0x4000 -c 0 0 -j ACCEPT
-A FORWARD -m mark ! --mark 0x1 -c 0 0 -j ACCEPT
-A FORWARD -p tcp -m multiport --dports 80,443,8000:8080 -c 0 0 -j ACCEPT
-A FORWARD -p udp -m multiport ! --sports 53 -c 0 0 -j ACCEPT
-A FORWARD -p tcp -m multiport --ports 1,2 -c 0 0 -j ACCEPT
-A FORWARD -m addrtype --src-type LOCAL --dst-type UNICAST -c 0 0 -j ACCEPT
-A FORWARD -m addrtype ! --dst-type BROADCAST --limit-iface-in -c 0 0 -j ACCEPT
-A FORWARD -m physdev --physdev-in eth0 ! --physdev-out eth1 --physdev-is-bridged -c 0 0 -j ACCEPT
-A FORWARD -m physdev ! --physdev-is-bridged -c 0 0 -j ACCEPT
-A FORWARD -p tcp -m tcp ! --sport 1000 ! --dport 2000:3000 -c 0 0 -j ACCEPT
-A FORWARD -m statistic --mode random --probability 0.33332999982 -c 0 0 -j ACCEPT
-A FORWARD -m statistic --mode random ! --probability 0.50000000000 -c 0 0 -j ACCEPT
-A FORWARD -m statistic --mode nth --every 3 --packet 1 -c 0 0 -j ACCEPT
-A FORWARD -m statistic --mode nth ! --every 2 --packet 0 -c 0 0 -j ACCEPT
-A FORWARD -c 0 0 -j MARK --set-xmark 0x10/0xff
-A FORWARD -c 0 0 -j RETURN
-A FORWARD -p tcp -m tcp --dport 80 -m comment --comment x -c 0 0 -j DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -c 0 0 -j ACCEPT
-A DOCKER -c 7 420
=== -t nat -L 
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
DOCKER     all  --  anywhere             anywhere             ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
DOCKER     all  --  anywhere            !loopback/8           ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         
MASQUERADE  all  --  172.17.0.0/16        anywhere            
MASQUERADE  udp  --  10.0.0.0/8           anywhere             masq ports: 1000-2000 random
MASQUERADE  tcp  --  10.0.0.0/8           anywhere             masq ports: 1000 random-fully
SNAT       all  --  10.0.0.0/8           anywhere             to:1.2.3.4
SNAT       udp  --  10.0.0.0/8           anywhere             to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
target     prot opt source               destination         
RETURN     all  --  anywhere             anywhere            
DNAT       tcp  --  anywhere             anywhere             tcp dpt:http-alt to:172.17.0.2:80
DNAT       tcp  --  anywhere             anywhere             tcp dpt:tproxy to:172.17.0.2:80-90
DNAT       tcp  --  anywhere             anywhere             tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -L -n
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
DOCKER     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
DOCKER     0    --  0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         
MASQUERADE  0    --  172.17.0.0/16        0.0.0.0/0           
MASQUERADE  17   --  10.0.0.0/8           0.0.0.0/0            masq ports: 1000-2000 random
MASQUERADE  6    --  10.0.0.0/8           0.0.0.0/0            masq ports: 1000 random-fully
SNAT       0    --  10.0.0.0/8           0.0.0.0/0            to:1.2.3.4
SNAT       17   --  10.0.0.0/8           0.0.0.0/0            to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
target     prot opt source               destination         
RETURN     0    --  0.0.0.0/0            0.0.0.0/0           
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8081 to:172.17.0.2:80-90
DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -L -v
Chain PREROUTING (policy ACCEPT 3 packets, 180 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     all  --  any    any     anywhere             anywhere             ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     all  --  any    any     anywhere            !loopback/8           ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 MASQUERADE  all  --  any    !docker0  172.17.0.0/16        anywhere            
    0     0 MASQUERADE  udp  --  any    any     10.0.0.0/8           anywhere             masq ports: 1000-2000 random
    0     0 MASQUERADE  tcp  --  any    any     10.0.0.0/8           anywhere             masq ports: 1000 random-fully
    0     0 SNAT       all  --  any    any     10.0.0.0/8           anywhere             to:1.2.3.4
    0     0 SNAT       udp  --  any    any     10.0.0.0/8           anywhere             to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     all  --  docker0 any     anywhere             anywhere            
    0     0 DNAT       tcp  --  !docker0 any     anywhere             anywhere             tcp dpt:http-alt to:172.17.0.2:80
    0     0 DNAT       tcp  --  any    any     anywhere             anywhere             tcp dpt:tproxy to:172.17.0.2:80-90
    0     0 DNAT       tcp  --  any    any     anywhere             anywhere             tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -L -n -v
Chain PREROUTING (policy ACCEPT 3 packets, 180 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     0    --  *      *       0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 MASQUERADE  0    --  *      !docker0  172.17.0.0/16        0.0.0.0/0           
    0     0 MASQUERADE  17   --  *      *       10.0.0.0/8           0.0.0.0/0            masq ports: 1000-2000 random
    0     0 MASQUERADE  6    --  *      *       10.0.0.0/8           0.0.0.0/0            masq ports: 1000 random-fully
    0     0 SNAT       0    --  *      *       10.0.0.0/8           0.0.0.0/0            to:1.2.3.4
    0     0 SNAT       17   --  *      *       10.0.0.0/8           0.0.0.0/0            to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  docker0 *       0.0.0.0/0            0.0.0.0/0           
    0     0 DNAT       6    --  !docker0 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
    0     0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8081 to:172.17.0.2:80-90
    0     0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -L -n -v -x
Chain PREROUTING (policy ACCEPT 3 packets, 180 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 DOCKER     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 DOCKER     0    --  *      *       0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 MASQUERADE  0    --  *      !docker0  172.17.0.0/16        0.0.0.0/0           
       0        0 MASQUERADE  17   --  *      *       10.0.0.0/8           0.0.0.0/0            masq ports: 1000-2000 random
       0        0 MASQUERADE  6    --  *      *       10.0.0.0/8           0.0.0.0/0            masq ports: 1000 random-fully
       0        0 SNAT       0    --  *      *       10.0.0.0/8           0.0.0.0/0            to:1.2.3.4
       0        0 SNAT       17   --  *      *       10.0.0.0/8           0.0.0.0/0            to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 RETURN     0    --  docker0 *       0.0.0.0/0            0.0.0.0/0           
       0        0 DNAT       6    --  !docker0 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
       0        0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8081 to:172.17.0.2:80-90
       0        0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -L -n --line-numbers
Chain PREROUTING (policy ACCEPT)
num  target     prot opt source               destination         
1    DOCKER     0    --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT)
num  target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
num  target     prot opt source               destination         
1    DOCKER     0    --  0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT)
num  target     prot opt source               destination         
1    MASQUERADE  0    --  172.17.0.0/16        0.0.0.0/0           
2    MASQUERADE  17   --  10.0.0.0/8           0.0.0.0/0            masq ports: 1000-2000 random
3    MASQUERADE  6    --  10.0.0.0/8           0.0.0.0/0            masq ports: 1000 random-fully
4    SNAT       0    --  10.0.0.0/8           0.0.0.0/0            to:1.2.3.4
5    SNAT       17   --  10.0.0.0/8           0.0.0.0/0            to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
num  target     prot opt source               destination         
1    RETURN     0    --  0.0.0.0/0            0.0.0.0/0           
2    DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
3    DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8081 to:172.17.0.2:80-90
4    DNAT       6    --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -L -v --line-numbers
Chain PREROUTING (policy ACCEPT 3 packets, 180 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 DOCKER     all  --  any    any     anywhere             anywhere             ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 DOCKER     all  --  any    any     anywhere            !loopback/8           ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 MASQUERADE  all  --  any    !docker0  172.17.0.0/16        anywhere            
2        0     0 MASQUERADE  udp  --  any    any     10.0.0.0/8           anywhere             masq ports: 1000-2000 random
3        0     0 MASQUERADE  tcp  --  any    any     10.0.0.0/8           anywhere             masq ports: 1000 random-fully
4        0     0 SNAT       all  --  any    any     10.0.0.0/8           anywhere             to:1.2.3.4
5        0     0 SNAT       udp  --  any    any     10.0.0.0/8           anywhere             to:1.2.3.4-1.2.3.10:1000-2000

Chain DOCKER (2 references)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 RETURN     all  --  docker0 any     anywhere             anywhere            
2        0     0 DNAT       tcp  --  !docker0 any     anywhere             anywhere             tcp dpt:http-alt to:172.17.0.2:80
3        0     0 DNAT       tcp  --  any    any     anywhere             anywhere             tcp dpt:tproxy to:172.17.0.2:80-90
4        0     0 DNAT       tcp  --  any    any     anywhere             anywhere             tcp dpt:8082 to:172.17.0.2-172.17.0.5
[exit=0]
=== -t nat -S
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 10.0.0.0/8 -p udp -j MASQUERADE --to-ports 1000-2000 --random
-A POSTROUTING -s 10.0.0.0/8 -p tcp -j MASQUERADE --to-ports 1000 --random-fully
-A POSTROUTING -s 10.0.0.0/8 -j SNAT --to-source 1.2.3.4
-A POSTROUTING -s 10.0.0.0/8 -p udp -j SNAT --to-source 1.2.3.4-1.2.3.10:1000-2000
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:80-90
-A DOCKER -p tcp -m tcp --dport 8082 -j DNAT --to-destination 172.17.0.2-172.17.0.5
=== -t nat -S -v
-P PREROUTING ACCEPT -c 3 180
-P INPUT ACCEPT -c 0 0
-P OUTPUT ACCEPT -c 0 0
-P POSTROUTING ACCEPT -c 0 0
-N DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -c 0 0 -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -c 0 0 -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -c 0 0 -j MASQUERADE
-A POSTROUTING -s 10.0.0.0/8 -p udp -c 0 0 -j MASQUERADE --to-ports 1000-2000 --random
-A POSTROUTING -s 10.0.0.0/8 -p tcp -c 0 0 -j MASQUERADE --to-ports 1000 --random-fully
-A POSTROUTING -s 10.0.0.0/8 -c 0 0 -j SNAT --to-source 1.2.3.4
-A POSTROUTING -s 10.0.0.0/8 -p udp -c 0 0 -j SNAT --to-source 1.2.3.4-1.2.3.10:1000-2000
-A DOCKER -i docker0 -c 0 0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -c 0 0 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER -p tcp -m tcp --dport 8081 -c 0 0 -j DNAT --to-destination 172.17.0.2:80-90
-A DOCKER -p tcp -m tcp --dport 8082 -c 0 0 -j DNAT --to-destination 172.17.0.2-172.17.0.5
=== -t raw -L 
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
TRACE      icmp --  anywhere             anywhere            
CT         udp  --  anywhere             anywhere             CT notrack

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
CT         all  --  anywhere             anywhere             CT notrack
[exit=0]
=== -t raw -L -n
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
TRACE      1    --  0.0.0.0/0            0.0.0.0/0           
CT         17   --  0.0.0.0/0            0.0.0.0/0            CT notrack

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack
[exit=0]
=== -t raw -L -v
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 TRACE      icmp --  any    any     anywhere             anywhere            
    0     0 CT         udp  --  any    any     anywhere             anywhere             CT notrack

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 CT         all  --  any    any     anywhere             anywhere             CT notrack
[exit=0]
=== -t raw -L -n -v
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 TRACE      1    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 CT         17   --  *      *       0.0.0.0/0            0.0.0.0/0            CT notrack

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 CT         0    --  *      *       0.0.0.0/0            0.0.0.0/0            CT notrack
[exit=0]
=== -t raw -L -n -v -x
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 TRACE      1    --  *      *       0.0.0.0/0            0.0.0.0/0           
       0        0 CT         17   --  *      *       0.0.0.0/0            0.0.0.0/0            CT notrack

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 CT         0    --  *      *       0.0.0.0/0            0.0.0.0/0            CT notrack
[exit=0]
=== -t raw -L -n --line-numbers
Chain PREROUTING (policy ACCEPT)
num  target     prot opt source               destination         
1    TRACE      1    --  0.0.0.0/0            0.0.0.0/0           
2    CT         17   --  0.0.0.0/0            0.0.0.0/0            CT notrack

Chain OUTPUT (policy ACCEPT)
num  target     prot opt source               destination         
1    CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack
[exit=0]
=== -t raw -L -v --line-numbers
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 TRACE      icmp --  any    any     anywhere             anywhere            
2        0     0 CT         udp  --  any    any     anywhere             anywhere             CT notrack

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 CT         all  --  any    any     anywhere             anywhere             CT notrack
[exit=0]
=== -t raw -S
-P PREROUTING ACCEPT
-P OUTPUT ACCEPT
-A PREROUTING -p icmp -j TRACE
-A PREROUTING -p udp -j CT --notrack
-A OUTPUT -j CT --notrack
=== -t raw -S -v
-P PREROUTING ACCEPT -c 0 0
-P OUTPUT ACCEPT -c 0 0
-A PREROUTING -p icmp -c 0 0 -j TRACE
-A PREROUTING -p udp -c 0 0 -j CT --notrack
-A OUTPUT -c 0 0 -j CT --notrack
=== -t mangle -L 
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
MARK       all  --  anywhere             anywhere             MARK set 0x5

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
target     prot opt source               destination         
[exit=0]
=== -t mangle -L -n
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x5

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
target     prot opt source               destination         
[exit=0]
=== -t mangle -L -v
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 MARK       all  --  any    any     anywhere             anywhere             MARK set 0x5

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t mangle -L -n -v
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK set 0x5

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
 pkts bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t mangle -L -n -v -x
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         
       0        0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK set 0x5

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
    pkts      bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t mangle -L -n --line-numbers
Chain PREROUTING (policy ACCEPT)
num  target     prot opt source               destination         
1    MARK       0    --  0.0.0.0/0            0.0.0.0/0            MARK set 0x5

Chain INPUT (policy ACCEPT)
num  target     prot opt source               destination         

Chain FORWARD (policy ACCEPT)
num  target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
num  target     prot opt source               destination         

Chain POSTROUTING (policy ACCEPT)
num  target     prot opt source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
num  target     prot opt source               destination         
[exit=0]
=== -t mangle -L -v --line-numbers
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         
1        0     0 MARK       all  --  any    any     anywhere             anywhere             MARK set 0x5

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination         

Chain KUBE-IPTABLES-HINT (0 references)
num   pkts bytes target     prot opt in     out     source               destination         
[exit=0]
=== -t mangle -S
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N KUBE-IPTABLES-HINT
-A PREROUTING -j MARK --set-xmark 0x5/0xffffffff
=== -t mangle -S -v
-P PREROUTING ACCEPT -c 0 0
-P INPUT ACCEPT -c 0 0
-P FORWARD ACCEPT -c 0 0
-P OUTPUT ACCEPT -c 0 0
-P POSTROUTING ACCEPT -c 0 0
-N KUBE-IPTABLES-HINT
-A PREROUTING -c 0 0 -j MARK --set-xmark 0x5/0xffffffff
"####;

    const DOCKER_LISTING: &str = r####"Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain FORWARD (policy DROP 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER-USER  0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 DOCKER-ISOLATION-STAGE-1  0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
    0     0 DOCKER     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  docker0 docker0  0.0.0.0/0            0.0.0.0/0           

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain DOCKER (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     6    --  !docker0 docker0  0.0.0.0/0            172.17.0.2           tcp dpt:80

Chain DOCKER-ISOLATION-STAGE-1 (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER-ISOLATION-STAGE-2  0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-ISOLATION-STAGE-2 (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DROP       0    --  *      docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-USER (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain FORWARD (policy DROP)
target     prot opt source               destination         
DOCKER-USER  all  --  anywhere             anywhere            
DOCKER-ISOLATION-STAGE-1  all  --  anywhere             anywhere            
ACCEPT     all  --  anywhere             anywhere             ctstate RELATED,ESTABLISHED
DOCKER     all  --  anywhere             anywhere            
ACCEPT     all  --  anywhere             anywhere            
ACCEPT     all  --  anywhere             anywhere            

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         

Chain DOCKER (1 references)
target     prot opt source               destination         
ACCEPT     tcp  --  anywhere             172.17.0.2           tcp dpt:http

Chain DOCKER-ISOLATION-STAGE-1 (1 references)
target     prot opt source               destination         
DOCKER-ISOLATION-STAGE-2  all  --  anywhere             anywhere            
RETURN     all  --  anywhere             anywhere            

Chain DOCKER-ISOLATION-STAGE-2 (1 references)
target     prot opt source               destination         
DROP       all  --  anywhere             anywhere            
RETURN     all  --  anywhere             anywhere            

Chain DOCKER-USER (1 references)
target     prot opt source               destination         
RETURN     all  --  anywhere             anywhere            
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     0    --  *      *       0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 MASQUERADE  0    --  *      !docker0  172.17.0.0/16        0.0.0.0/0           
    0     0 MASQUERADE  6    --  *      *       172.17.0.2           172.17.0.2           tcp dpt:80

Chain DOCKER (2 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  docker0 *       0.0.0.0/0            0.0.0.0/0           
    0     0 DNAT       6    --  !docker0 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination         
DOCKER     all  --  anywhere             anywhere             ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT)
target     prot opt source               destination         

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination         
DOCKER     all  --  anywhere            !loopback/8           ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination         
MASQUERADE  all  --  172.17.0.0/16        anywhere            
MASQUERADE  tcp  --  172.17.0.2           172.17.0.2           tcp dpt:http

Chain DOCKER (2 references)
target     prot opt source               destination         
RETURN     all  --  anywhere             anywhere            
DNAT       tcp  --  anywhere             anywhere             tcp dpt:http-alt to:172.17.0.2:80
"####;
}
