//! Rule evaluation as `ipt_do_table` does it: the chain of the hook from the top, first
//! match wins, matches evaluated in order and only as far as needed (so a statistic match is
//! drawn only when the packet reaches it), jumps push a return point, gotos do not, RETURN
//! or the end of a user chain pops, the end of a built-in chain applies its policy. Rule and
//! policy counters are updated as the kernel updates them. Every rule evaluated is recorded,
//! which is what the trace shows and what "rules evaluated per packet" counts.

use super::ipset::IpSets;
use super::{
    AddrType, Hook, Match, NatRange, Netfilter, Policy, PortRange, RejectWith, Rule, TableName,
    Target,
};
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet};
use serde::Serialize;
use std::net::Ipv4Addr;

/// Conntrack's view of a packet, for `--ctstate`/`--state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CtInfo {
    /// The packet starts a new connection.
    pub new: bool,
    /// The packet belongs to a connection that has seen traffic both ways.
    pub established: bool,
    /// An ICMP error about a tracked connection.
    pub related: bool,
    /// Not trackable.
    pub invalid: bool,
    /// NOTRACK'd in raw.
    pub untracked: bool,
    /// The connection's destination was translated.
    pub dnat: bool,
    /// The connection's source was translated.
    pub snat: bool,
}

/// Where and how a packet is evaluated.
pub struct EvalCtx<'a> {
    /// The hook.
    pub hook: Hook,
    /// The packet.
    pub packet: &'a Ipv4Packet,
    /// `-i`: the input device (the bridge for bridged frames).
    pub in_dev: Option<&'a str>,
    /// `-o`: the output device.
    pub out_dev: Option<&'a str>,
    /// The bridge port the frame came in on (bridged traffic only).
    pub physdev_in: Option<&'a str>,
    /// The bridge port it leaves by.
    pub physdev_out: Option<&'a str>,
    /// Conntrack state.
    pub ct: CtInfo,
    /// The packet's mark.
    pub mark: u32,
    /// `-m addrtype`: the type of an address in this namespace, or, with a device
    /// (`--limit-iface-in`/`--limit-iface-out`), its type on that device only
    /// (`inet_dev_addr_type`: an address local to another device is UNICAST there).
    pub addr_type: &'a dyn Fn(Ipv4Addr, Option<&str>) -> AddrType,
}

/// Decides `-m statistic --mode random` draws: seeded, or scripted to enumerate branches.
pub trait Chance {
    /// Whether a random match with this threshold (probability `threshold / 2^31`) matches.
    fn draw(&mut self, threshold: u32) -> bool;
}

/// What a table decided.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TableVerdict {
    /// Go on to the next table or stage.
    Accept,
    /// Drop silently.
    Drop,
    /// Drop and send an error.
    Reject {
        /// What to send.
        with: RejectWith,
    },
    /// Translate the destination (nat table), then accept.
    Dnat {
        /// The new destination.
        to: NatRange,
    },
    /// Translate the source, then accept.
    Snat {
        /// The new source.
        to: NatRange,
    },
    /// Translate the source to the output device's address, then accept.
    Masquerade {
        /// `--to-ports`.
        to_ports: Option<PortRange>,
    },
}

/// One rule (or policy) the packet met, as the renderers show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleVisit {
    /// Chain.
    pub chain: String,
    /// 1-based rule number (for a policy: number of rules + 1, as the kernel's TRACE does).
    pub num: usize,
    /// `rule`, `return` or `policy`.
    pub kind: &'static str,
    /// The rule in iptables-save form (`-A CHAIN ...`), or `-P CHAIN POLICY`.
    pub text: String,
    /// Whether its matches held (always true for return/policy).
    pub matched: bool,
    /// The target's effect, in words, when it matched.
    pub effect: Option<String>,
}

impl RuleVisit {
    /// Whether the visit only hands the packet on without deciding anything: a rule
    /// whose matches failed, a jump into a user chain, or the return at a user chain's end.
    pub fn passes_on(&self) -> bool {
        !self.matched
            || self.kind == "return"
            || self
                .effect
                .as_deref()
                .is_some_and(|e| e.starts_with("jump to "))
    }
}

/// What evaluation records of one rule or run of rules: positions in the table (chain
/// index, rule index), never text; [`Visits::iter`] renders them.
#[derive(Clone, Debug, PartialEq)]
enum Visit {
    /// Rules `from..to` of a chain, none of which matched.
    Misses { chain: u32, from: u32, to: u32 },
    /// A rule that matched, and what its target did.
    Hit {
        chain: u32,
        idx: u32,
        effect: Effect,
    },
    /// The end of a built-in chain: its policy.
    Policy { chain: u32, policy: Policy },
    /// The end of a user chain: back to the caller.
    End { chain: u32 },
    /// The jump-depth guard tripped at this rule.
    Loop { chain: u32, idx: u32 },
    /// A visit given as text (built by hand; boxed, so that the visits a walk records stay
    /// small).
    Given(Box<RuleVisit>),
}

impl Visit {
    /// How many rules the visit evaluated (the kernel's count: returns and policies aside).
    fn rules(&self) -> usize {
        match self {
            Visit::Misses { from, to, .. } => (to - from) as usize,
            Visit::Hit { .. } | Visit::Loop { .. } => 1,
            Visit::Given(g) => usize::from(g.kind == "rule"),
            Visit::Policy { .. } | Visit::End { .. } => 0,
        }
    }
}

/// What a matched rule's target did, rendered in words on demand ([`Effect::words`]).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Effect {
    /// Words that do not depend on the rule.
    Word(&'static str),
    /// What the rule's target says: `jump to C`, `goto C`, `REJECT with W`.
    Target,
    /// The mark after a MARK target.
    Mark(u32),
}

impl Effect {
    fn words(self, rule: Option<&super::Rule>) -> String {
        match (self, rule.map(|r| &r.target)) {
            (Effect::Word(w), _) => w.to_string(),
            (Effect::Mark(m), _) => format!("MARK set to 0x{m:x}"),
            (Effect::Target, Some(Target::Jump { chain })) => format!("jump to {chain}"),
            (Effect::Target, Some(Target::Goto { chain })) => format!("goto {chain}"),
            (Effect::Target, Some(Target::Reject { with })) => {
                format!("REJECT with {}", with.name())
            }
            (Effect::Target, _) => String::new(),
        }
    }
}

/// Every rule a packet met in one table, in order: the table as it was (shared, not
/// copied) and the positions of the rules, rendered as [`RuleVisit`]s on demand.
#[derive(Clone, Default)]
pub struct Visits {
    table: Option<std::sync::Arc<super::Table>>,
    list: Vec<Visit>,
    /// A tally instead of the list ([`Record::Tally`]).
    tally: Option<Tally>,
}

/// What a quiet run keeps of a walk: how many rules it evaluated and its last visit (the
/// rule that decided).
#[derive(Clone, Default)]
struct Tally {
    rules: usize,
    last: Option<Visit>,
}

/// What [`evaluate`] records of a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// Every visit, in order (what a trace shows and the counters count).
    Every,
    /// The number of rules evaluated and the last visit only (a quiet run: neither trace
    /// nor counters).
    Tally,
}

impl std::fmt::Debug for Visits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Visits {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Visits {}

impl Serialize for Visits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl From<Vec<RuleVisit>> for Visits {
    fn from(v: Vec<RuleVisit>) -> Visits {
        Visits {
            table: None,
            list: v.into_iter().map(|g| Visit::Given(Box::new(g))).collect(),
            tally: None,
        }
    }
}

impl Visits {
    fn new(table: std::sync::Arc<super::Table>, record: Record) -> Visits {
        match record {
            Record::Every => Visits {
                table: Some(table),
                // A walk meets a few runs of misses, a jump or two and its verdict: one
                // allocation, not four growing ones.
                list: Vec::with_capacity(16),
                tally: None,
            },
            Record::Tally => Visits {
                table: Some(table),
                list: Vec::new(),
                tally: Some(Tally::default()),
            },
        }
    }

    /// A rule that did not match: joins the run of misses before it.
    #[inline(always)]
    fn miss(&mut self, chain: u32, idx: usize, to: usize) {
        let (idx, to) = (idx as u32, to as u32);
        if let Some(t) = &mut self.tally {
            t.rules += (to - idx) as usize;
            t.last = Some(Visit::Misses {
                chain,
                from: idx,
                to,
            });
            return;
        }
        if let Some(Visit::Misses {
            chain: c, to: end, ..
        }) = self.list.last_mut()
        {
            if *c == chain && *end == idx {
                *end = to;
                return;
            }
        }
        self.list.push(Visit::Misses {
            chain,
            from: idx,
            to,
        });
    }

    // Inlined: the visit is then written in place, not stored by the caller and read back
    // whole by the call (perf showed that read stalling on the store just made).
    #[inline(always)]
    fn push(&mut self, v: Visit) {
        match &mut self.tally {
            Some(t) => {
                t.rules += v.rules();
                t.last = Some(v);
            }
            None => self.list.push(v),
        }
    }

    /// Nothing was met.
    pub fn is_empty(&self) -> bool {
        match &self.tally {
            Some(t) => t.last.is_none(),
            None => self.list.is_empty(),
        }
    }

    /// How many rules were evaluated (the kernel's count: returns and policies aside).
    pub fn rules(&self) -> usize {
        match &self.tally {
            Some(t) => t.rules,
            None => self.list.iter().map(Visit::rules).sum(),
        }
    }

    /// The counters the packet adds to: (chain index, rule index or
    /// [`super::counters::POLICY`]) of every matched rule and the policy it met. (A tally
    /// has none: it is for runs that do not count.)
    pub fn counted(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        debug_assert!(self.tally.is_none(), "a tally has no counters");
        self.list.iter().filter_map(|v| match v {
            Visit::Hit { chain, idx, .. } => Some((*chain, *idx)),
            Visit::Policy { chain, .. } => Some((*chain, super::counters::POLICY)),
            _ => None,
        })
    }

    /// The last visit.
    pub fn last(&self) -> Option<RuleVisit> {
        let v = match &self.tally {
            Some(t) => t.last.as_ref()?,
            None => self.list.last()?,
        };
        match v {
            Visit::Misses { chain, to, .. } => Some(self.render_rule(*chain, *to - 1, false, None)),
            _ => self.render(v).next(),
        }
    }

    /// Every visit, rendered (of a tally: its last).
    pub fn iter(&self) -> impl Iterator<Item = RuleVisit> + '_ {
        let list = match &self.tally {
            Some(t) => t.last.as_slice(),
            None => self.list.as_slice(),
        };
        list.iter().flat_map(|v| self.render(v))
    }

    fn chain_name(&self, chain: u32) -> &str {
        self.table
            .as_ref()
            .and_then(|t| t.chains.get_index(chain as usize))
            .map_or("", |(n, _)| n.as_str())
    }

    fn render_rule(
        &self,
        chain: u32,
        idx: u32,
        matched: bool,
        effect: Option<Effect>,
    ) -> RuleVisit {
        let name = self.chain_name(chain);
        let rule = self
            .table
            .as_ref()
            .and_then(|t| t.chains.get_index(chain as usize))
            .and_then(|(_, c)| c.rules.get(idx as usize));
        RuleVisit {
            chain: name.to_string(),
            num: idx as usize + 1,
            kind: "rule",
            text: rule.map(|r| rule_text(name, r)).unwrap_or_default(),
            matched,
            effect: effect.map(|e| e.words(rule)),
        }
    }

    fn render<'a>(&'a self, v: &'a Visit) -> Box<dyn Iterator<Item = RuleVisit> + 'a> {
        let rules_len = |chain: u32| {
            self.table
                .as_ref()
                .and_then(|t| t.chains.get_index(chain as usize))
                .map_or(0, |(_, c)| c.rules.len())
        };
        match v {
            Visit::Misses { chain, from, to } => {
                Box::new((*from..*to).map(move |i| self.render_rule(*chain, i, false, None)))
            }
            Visit::Hit { chain, idx, effect } => Box::new(std::iter::once(self.render_rule(
                *chain,
                *idx,
                true,
                Some(*effect),
            ))),
            Visit::Policy { chain, policy } => {
                let name = self.chain_name(*chain);
                Box::new(std::iter::once(RuleVisit {
                    chain: name.to_string(),
                    num: rules_len(*chain) + 1,
                    kind: "policy",
                    text: format!("-P {name} {}", policy.name()),
                    matched: true,
                    effect: Some(policy.name().to_string()),
                }))
            }
            Visit::End { chain } => {
                let name = self.chain_name(*chain);
                Box::new(std::iter::once(RuleVisit {
                    chain: name.to_string(),
                    num: rules_len(*chain) + 1,
                    kind: "return",
                    text: format!("end of {name}"),
                    matched: true,
                    effect: Some("RETURN to the calling chain".into()),
                }))
            }
            Visit::Loop { chain, idx } => Box::new(std::iter::once(RuleVisit {
                chain: self.chain_name(*chain).to_string(),
                num: *idx as usize + 1,
                kind: "rule",
                text: "jump loop".into(),
                matched: true,
                effect: Some("DROP: chains jump in a loop".into()),
            })),
            Visit::Given(g) => Box::new(std::iter::once(RuleVisit::clone(g))),
        }
    }
}

/// The outcome of one table at one hook.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRun {
    /// Table.
    pub table: TableName,
    /// Hook.
    pub hook: Hook,
    /// Every rule evaluated, in order.
    pub visits: Visits,
    /// The verdict.
    pub verdict: TableVerdict,
    /// The mark after the table (MARK targets).
    pub mark: u32,
    /// A TRACE target matched (raw table): the kernel then logs every later rule hit.
    pub trace: bool,
    /// A NOTRACK target matched.
    pub notrack: bool,
    /// LOG lines, kernel-style.
    pub log: Vec<String>,
}

fn iface_matches(pattern: &str, name: Option<&str>) -> bool {
    let Some(name) = name else {
        return false;
    };
    match pattern.strip_suffix('+') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn ct_matches(states: &super::CtStates, ct: &CtInfo) -> bool {
    (states.new && ct.new)
        || (states.established && ct.established)
        || (states.related && ct.related)
        || (states.invalid && ct.invalid)
        || (states.untracked && ct.untracked)
        || (states.dnat && ct.dnat)
        || (states.snat && ct.snat)
}

/// Evaluate one match. `None` means the packet does not carry what the match needs
/// (e.g. `--dport` on ICMP), which is a non-match.
fn eval_match(
    m: &Match,
    ctx: &EvalCtx,
    sets: &IpSets,
    chance: &mut dyn Chance,
    nth: &mut u32,
) -> bool {
    let h = &ctx.packet.header;
    let xor = |v: bool, neg: bool| v != neg;
    match m {
        Match::Source { net, neg } => xor(net.contains(&h.src), *neg),
        Match::Destination { net, neg } => xor(net.contains(&h.dst), *neg),
        Match::Protocol { proto, neg } => xor(ctx.packet.protocol() == *proto, *neg),
        Match::InInterface { name, neg } => xor(iface_matches(name, ctx.in_dev), *neg),
        Match::OutInterface { name, neg } => xor(iface_matches(name, ctx.out_dev), *neg),
        Match::Ports {
            proto,
            sport,
            dport,
        } => {
            if ctx.packet.protocol() != *proto {
                return false;
            }
            let Some((sp, dp)) = ctx.packet.payload.ports() else {
                return false;
            };
            sport.is_none_or(|(r, neg)| xor(r.contains(sp), neg))
                && dport.is_none_or(|(r, neg)| xor(r.contains(dp), neg))
        }
        Match::Multiport { which, ports, neg } => {
            let Some((sp, dp)) = ctx.packet.payload.ports() else {
                return false;
            };
            let hit = |p: u16| ports.iter().any(|r| r.contains(p));
            let v = match which.as_str() {
                "sports" => hit(sp),
                "dports" => hit(dp),
                _ => hit(sp) || hit(dp),
            };
            xor(v, *neg)
        }
        Match::Icmp {
            icmp_type,
            code,
            neg,
        } => {
            let IpPayload::Icmp(i) = &ctx.packet.payload else {
                return false;
            };
            let (t, c) = icmp_type_code(i);
            let v = *icmp_type == 255 || (t == *icmp_type && code.is_none_or(|x| x == c));
            xor(v, *neg)
        }
        Match::Comment { .. } => true,
        // xt_nfacct: true unless the object is over its quota; no quota is modelled.
        Match::Nfacct { .. } => true,
        Match::StatisticRandom { threshold, neg } => xor(chance.draw(*threshold), *neg),
        Match::StatisticNth { every, packet, neg } => {
            // xt_statistic: count = (count + 1) % every; match when count == packet... the
            // kernel keeps the counter per rule and starts it at --packet.
            let every = (*every).max(1);
            let hit = *nth == *packet % every;
            *nth = (*nth + 1) % every;
            xor(hit, *neg)
        }
        Match::Mark { value, mask, neg } => xor(ctx.mark & mask == *value, *neg),
        Match::CtState { states, neg, .. } => xor(ct_matches(states, &ctx.ct), *neg),
        Match::AddrType {
            src,
            dst,
            limit_iface_in,
            limit_iface_out,
        } => {
            // addrtype_mt_v1: the limit names the device; without one (no input device
            // at OUTPUT, say) the type is the namespace-wide one.
            let dev = if *limit_iface_in {
                ctx.in_dev
            } else if *limit_iface_out {
                ctx.out_dev
            } else {
                None
            };
            src.is_none_or(|(t, neg)| xor((ctx.addr_type)(h.src, dev) == t, neg))
                && dst.is_none_or(|(t, neg)| xor((ctx.addr_type)(h.dst, dev) == t, neg))
        }
        Match::Set { name, dirs, neg } => {
            // ip_set_test: the address the first direction names, tested against the set
            // (hash:ip exact, hash:net the networks containing it). A set that is gone
            // (never, while a rule holds it) matches nothing.
            let addr = if dirs.first().copied().unwrap_or(true) {
                h.src
            } else {
                h.dst
            };
            let hit = sets.get(name).is_some_and(|s| s.contains(addr));
            xor(hit, *neg)
        }
        Match::Physdev {
            physdev_in,
            physdev_out,
            is_bridged,
        } => {
            let bridged = ctx.physdev_in.is_some() || ctx.physdev_out.is_some();
            physdev_in
                .as_ref()
                .is_none_or(|(n, neg)| xor(iface_matches(n, ctx.physdev_in), *neg))
                && physdev_out
                    .as_ref()
                    .is_none_or(|(n, neg)| xor(iface_matches(n, ctx.physdev_out), *neg))
                && is_bridged.is_none_or(|neg| xor(bridged, neg))
        }
    }
}

/// ICMP type and code of a message.
pub fn icmp_type_code(i: &IcmpRepr) -> (u8, u8) {
    match i {
        IcmpRepr::EchoRequest { .. } => (8, 0),
        IcmpRepr::EchoReply { .. } => (0, 0),
        IcmpRepr::DestUnreachable { code, .. } => (3, *code),
        IcmpRepr::TimeExceeded { code, .. } => (11, *code),
        IcmpRepr::Redirect { code, .. } => (5, *code),
        IcmpRepr::Other { icmp_type, code } => (*icmp_type, *code),
    }
}

fn rule_text(chain: &str, rule: &Rule) -> String {
    let args = super::save::rule_args(rule, false);
    if args.is_empty() {
        format!("-A {chain}")
    } else {
        format!("-A {chain} {args}")
    }
}

/// Per-rule state of `--mode nth` counters, keyed by (table, chain, rule index).
pub type NthState = std::collections::BTreeMap<(TableName, String, usize), u32>;

/// The most chain frames a packet may stack (jump loops are refused at insertion by
/// iptables; this guards tables loaded from elsewhere).
pub const MAX_JUMP_DEPTH: usize = 64;

/// Run `table`'s chain for `ctx.hook`, updating counters.
pub fn run_table(
    nf: &mut Netfilter,
    table: TableName,
    ctx: &EvalCtx,
    chance: &mut dyn Chance,
    nth: &mut NthState,
) -> TableRun {
    let run = evaluate(nf, table, ctx, chance, nth, Record::Every);
    nf.count(table, &run.visits, u64::from(ctx.packet.total_len() as u32));
    run
}

/// The chains a walk jumped from, with the rule to return to: on the stack of the walk
/// (a walk is never deeper than [`MAX_JUMP_DEPTH`] + 1, the guard stops it there), so a
/// walk allocates nothing for it.
struct JumpStack {
    frames: [(u32, u32); MAX_JUMP_DEPTH + 1],
    len: usize,
}

impl JumpStack {
    fn new() -> JumpStack {
        JumpStack {
            frames: [(0, 0); MAX_JUMP_DEPTH + 1],
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Push a frame; false (and nothing pushed) when the stack is full, which the depth
    /// guard prevents.
    fn push(&mut self, (chain, idx): (usize, usize)) -> bool {
        let Some(slot) = self.frames.get_mut(self.len) else {
            return false;
        };
        *slot = (chain as u32, idx as u32);
        self.len += 1;
        true
    }

    fn pop(&mut self) -> Option<(usize, usize)> {
        self.len = self.len.checked_sub(1)?;
        let (chain, idx) = self.frames[self.len];
        Some((chain as usize, idx as usize))
    }
}

/// Run `table`'s chain for `ctx.hook` without counting (the caller counts the run with
/// [`Netfilter::count`]). Long chains are walked with their destination index
/// ([`super::index`]): the rules it leaps over are recorded as misses, so the visits and
/// their count are the kernel's linear first-match walk.
pub fn evaluate(
    nf: &Netfilter,
    table: TableName,
    ctx: &EvalCtx,
    chance: &mut dyn Chance,
    nth: &mut NthState,
    record: Record,
) -> TableRun {
    let shared = nf.shared_table(table);
    let mut run = TableRun {
        table,
        hook: ctx.hook,
        visits: Visits::new(std::sync::Arc::clone(&shared), record),
        verdict: TableVerdict::Accept,
        mark: ctx.mark,
        trace: false,
        notrack: false,
        log: Vec::new(),
    };
    let t: &super::Table = &shared;
    let ipsets = &nf.ipsets;
    let Some(base) = t.base_chain(ctx.hook) else {
        return run;
    };
    let dst = ctx.packet.header.dst;
    // Stack of (chain, next rule index) to return to.
    let mut stack = JumpStack::new();
    let (mut chain, mut idx) = (base, 0usize);
    let mut local = EvalCtx {
        hook: ctx.hook,
        packet: ctx.packet,
        in_dev: ctx.in_dev,
        out_dev: ctx.out_dev,
        physdev_in: ctx.physdev_in,
        physdev_out: ctx.physdev_out,
        ct: ctx.ct,
        mark: ctx.mark,
        addr_type: ctx.addr_type,
    };
    let mut steps = 0usize;
    // A chain entered: its laid-out copy, and for a long chain its index with this
    // destination's keyed rules (looked up once per entry, not per rule).
    let enter = |chain: usize| {
        let flat = t.flat_chain(chain);
        (flat.index().map(|ix| (ix, ix.keyed(dst))), flat)
    };
    let (mut index, mut flat) = enter(chain);
    loop {
        steps += 1;
        if steps > 100_000 || stack.len() > MAX_JUMP_DEPTH {
            run.verdict = TableVerdict::Drop;
            run.visits.push(Visit::Loop {
                chain: chain as u32,
                idx: idx.min(u32::MAX as usize - 1) as u32,
            });
            return run;
        }
        // The chain's length, from its laid-out copy (the chain itself is read only at
        // its end).
        let len = flat.len();
        if let Some((ix, keyed)) = index.filter(|_| idx < len) {
            // Leap over the rules that cannot match this destination, counting each as
            // a step of the walk as the linear walk would.
            let next = ix.next_in(idx, keyed, len).min(idx + (100_000 - steps));
            if next > idx {
                run.visits.miss(chain as u32, idx, next);
                steps += next - idx - 1;
                idx = next;
                continue;
            }
        }
        if idx >= len {
            let policy = t.chains.get_index(chain).and_then(|(_, c)| c.policy);
            if let Some(policy) = policy.filter(|_| stack.is_empty() || chain == base) {
                run.visits.push(Visit::Policy {
                    chain: chain as u32,
                    policy,
                });
                run.verdict = match policy {
                    Policy::Accept => TableVerdict::Accept,
                    Policy::Drop => TableVerdict::Drop,
                };
                return run;
            }
            // End of a user chain: back to the caller.
            run.visits.push(Visit::End {
                chain: chain as u32,
            });
            match stack.pop() {
                Some((ch, i)) => {
                    chain = ch;
                    idx = i;
                }
                None => {
                    // The end of a chain reached by -g with nothing to return to: the
                    // built-in chain's policy decides (its underflow).
                    chain = base;
                    idx = usize::MAX;
                }
            }
            (index, flat) = enter(chain);
            continue;
        }
        // The rule's matches as laid out for the walk (the rule itself is read only when
        // they hold).
        let (matches, stateful) = flat.rule(idx);
        let matched = if stateful {
            let name = t.chains.get_index(chain).map(|(n, _)| n.clone());
            let key = (table, name.unwrap_or_default(), idx);
            let mut counter = nth.get(&key).copied().unwrap_or(0);
            let matched = matches
                .iter()
                .all(|m| eval_match(m, &local, ipsets, chance, &mut counter));
            nth.insert(key, counter);
            matched
        } else {
            let mut unused = 0;
            matches
                .iter()
                .all(|m| eval_match(m, &local, ipsets, chance, &mut unused))
        };
        if !matched {
            run.visits.miss(chain as u32, idx, idx + 1);
            idx += 1;
            continue;
        }
        let Some(target) = flat.target(idx) else {
            // Not a rule of the chain (the laid-out copy is the chain's: never).
            run.verdict = TableVerdict::Drop;
            return run;
        };
        let (hit_chain, hit_idx) = (chain as u32, idx as u32);
        let hit = move |effect: Effect| Visit::Hit {
            chain: hit_chain,
            idx: hit_idx,
            effect,
        };
        idx += 1;
        let finish = |run: &mut TableRun, v: TableVerdict, word: Effect| {
            run.visits.push(hit(word));
            run.verdict = v;
        };
        match target {
            Target::None => {
                run.visits
                    .push(hit(Effect::Word("counted, no target: continue")));
            }
            Target::Accept => {
                finish(&mut run, TableVerdict::Accept, Effect::Word("ACCEPT"));
                return run;
            }
            Target::Drop => {
                finish(&mut run, TableVerdict::Drop, Effect::Word("DROP"));
                return run;
            }
            Target::Reject { with } => {
                finish(
                    &mut run,
                    TableVerdict::Reject { with: *with },
                    Effect::Target,
                );
                return run;
            }
            Target::Dnat { to } => {
                finish(
                    &mut run,
                    TableVerdict::Dnat { to: *to },
                    Effect::Word("DNAT"),
                );
                return run;
            }
            Target::Snat { to } => {
                finish(
                    &mut run,
                    TableVerdict::Snat { to: *to },
                    Effect::Word("SNAT"),
                );
                return run;
            }
            Target::Masquerade { to_ports, .. } => {
                finish(
                    &mut run,
                    TableVerdict::Masquerade {
                        to_ports: *to_ports,
                    },
                    Effect::Word("MASQUERADE"),
                );
                return run;
            }
            Target::Return => {
                run.visits.push(hit(Effect::Word("RETURN")));
                match stack.pop() {
                    Some((ch, i)) => {
                        chain = ch;
                        idx = i;
                    }
                    None => {
                        // RETURN in a built-in chain (or a goto'd chain): the policy decides.
                        chain = base;
                        idx = usize::MAX;
                    }
                }
                (index, flat) = enter(chain);
            }
            Target::Jump { .. } | Target::Goto { .. } => {
                let jump = matches!(target, Target::Jump { .. });
                run.visits.push(hit(Effect::Target));
                let Some(next) = flat.jump(hit_idx as usize) else {
                    run.verdict = TableVerdict::Drop;
                    return run;
                };
                if jump && !stack.push((chain, idx)) {
                    // Deeper than the guard lets a walk go (it stops the walk first).
                    run.verdict = TableVerdict::Drop;
                    return run;
                }
                chain = next;
                idx = 0;
                (index, flat) = enter(chain);
            }
            Target::Mark { value, mask } => {
                local.mark = (local.mark & !mask) ^ value;
                run.mark = local.mark;
                run.visits.push(hit(Effect::Mark(local.mark)));
            }
            Target::Log { prefix, level } => {
                let h = &ctx.packet.header;
                run.log.push(format!(
                    "{}IN={} OUT={} SRC={} DST={} LEN={} TTL={} ID={}{}",
                    prefix.clone().unwrap_or_default(),
                    ctx.in_dev.unwrap_or(""),
                    ctx.out_dev.unwrap_or(""),
                    h.src,
                    h.dst,
                    ctx.packet.total_len(),
                    h.ttl,
                    h.id,
                    level
                        .as_ref()
                        .map(|l| format!(" (level {l})"))
                        .unwrap_or_default()
                ));
                run.visits.push(hit(Effect::Word("LOG")));
            }
            Target::Trace => {
                run.trace = true;
                run.visits.push(hit(Effect::Word(
                    "TRACE: the kernel will log every rule this packet meets",
                )));
            }
            Target::Notrack => {
                run.notrack = true;
                run.visits.push(hit(Effect::Word("NOTRACK")));
            }
        }
    }
}

/// Kernel-style TRACE lines for a table run (`TRACE: nat:PREROUTING:rule:2`).
pub fn trace_lines(run: &TableRun) -> Vec<String> {
    run.visits
        .iter()
        .filter(|v| v.matched)
        .map(|v| {
            format!(
                "TRACE: {}:{}:{}:{}",
                run.table.name(),
                v.chain,
                v.kind,
                v.num
            )
        })
        .collect()
}

/// A seeded source of draws (splitmix64), deterministic for a given `--seed`.
#[derive(Clone, Debug)]
pub struct SeededChance {
    state: u64,
}

impl SeededChance {
    /// From a seed.
    pub fn new(seed: u64) -> SeededChance {
        SeededChance { state: seed }
    }
}

impl Chance for SeededChance {
    fn draw(&mut self, threshold: u32) -> bool {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability.
        ((z as u32) & 0x7fff_ffff) < threshold
    }
}

/// Draws that follow a script, recording every branch point, to enumerate all outcomes.
#[derive(Clone, Debug, Default)]
pub struct ScriptedChance {
    /// Choices to make, in order; once exhausted, the draw matches.
    pub script: Vec<bool>,
    /// The draws made: (threshold, matched).
    pub made: Vec<(u32, bool)>,
}

impl Chance for ScriptedChance {
    fn draw(&mut self, threshold: u32) -> bool {
        let i = self.made.len();
        let v = self.script.get(i).copied().unwrap_or(true);
        // A threshold of 0 never matches, of 2^31 always does: not a branch.
        let v = if threshold == 0 {
            false
        } else if threshold >= 0x8000_0000 {
            true
        } else {
            v
        };
        self.made.push((threshold, v));
        v
    }
}

/// The probability of a branch's recorded draws.
pub fn branch_probability(made: &[(u32, bool)]) -> f64 {
    made.iter().fold(1.0, |p, (t, v)| {
        let q = f64::from(*t) / 2_147_483_648.0;
        p * if *v { q } else { 1.0 - q }
    })
}

/// A [`ScriptedChance`] shared with the caller, so the draws can be read after a run.
#[derive(Clone, Debug, Default)]
pub struct SharedScript(pub std::rc::Rc<std::cell::RefCell<ScriptedChance>>);

impl Chance for SharedScript {
    fn draw(&mut self, threshold: u32) -> bool {
        self.0.borrow_mut().draw(threshold)
    }
}

/// One possible outcome of a run whose rules draw at random.
#[derive(Clone, Debug)]
pub struct Branch<T> {
    /// Its probability (the product of each draw's, as the kernel evaluates them).
    pub probability: f64,
    /// The draws: (threshold, matched).
    pub draws: Vec<(u32, bool)>,
    /// The run.
    pub run: T,
}

/// Run `f` once per combination of statistic draws (depth first, matches first), up to
/// `limit` branches: every possible outcome with its probability.
pub fn enumerate_branches<T>(
    limit: usize,
    mut f: impl FnMut(Box<dyn Chance>) -> T,
) -> Vec<Branch<T>> {
    let mut out = Vec::new();
    let mut todo: Vec<Vec<bool>> = vec![Vec::new()];
    while let Some(script) = todo.pop() {
        if out.len() >= limit {
            break;
        }
        let shared = SharedScript::default();
        shared.0.borrow_mut().script = script.clone();
        let run = f(Box::new(shared.clone()));
        let made = shared.0.borrow().made.clone();
        // Every draw past the script that matched by default could also have missed.
        for i in (script.len()..made.len()).rev() {
            let (t, v) = made[i];
            if v && t > 0 && t < 0x8000_0000 {
                let mut alt: Vec<bool> = made[..i].iter().map(|(_, v)| *v).collect();
                alt.push(false);
                todo.push(alt);
            }
        }
        out.push(Branch {
            probability: branch_probability(&made),
            draws: made,
            run,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    //! One test per match and target: the decision each makes for a packet.

    use super::*;
    use crate::netfilter::{iptables, CtStates, Netfilter, TableName};
    use crate::wire::{Ipv4Repr, TcpFlags, TcpRepr};

    fn tcp(src: &str, sport: u16, dst: &str, dport: u16) -> Ipv4Packet {
        Ipv4Packet {
            header: Ipv4Repr {
                src: src.parse().expect("ip"),
                dst: dst.parse().expect("ip"),
                ttl: 64,
                id: 1,
                df: true,
                tos: 0,
            },
            payload: IpPayload::Tcp(TcpRepr {
                sport,
                dport,
                seq: 1,
                ack: 0,
                flags: TcpFlags {
                    syn: true,
                    ..TcpFlags::default()
                },
                window: 1,
                options: vec![],
                data: vec![],
            }),
        }
    }

    fn icmp_echo(src: &str, dst: &str) -> Ipv4Packet {
        Ipv4Packet {
            header: Ipv4Repr {
                src: src.parse().expect("ip"),
                dst: dst.parse().expect("ip"),
                ttl: 64,
                id: 1,
                df: true,
                tos: 0,
            },
            payload: IpPayload::Icmp(IcmpRepr::EchoRequest {
                ident: 1,
                seq: 1,
                data: vec![0; 56],
            }),
        }
    }

    /// INPUT, no devices, a new connection's packet, every address unicast.
    fn input_ctx(p: &Ipv4Packet) -> EvalCtx<'_> {
        EvalCtx {
            hook: Hook::Input,
            packet: p,
            in_dev: None,
            out_dev: None,
            physdev_in: None,
            physdev_out: None,
            ct: CtInfo::default(),
            mark: 0,
            addr_type: &|_, _| AddrType::Unicast,
        }
    }

    struct Always(bool);
    impl Chance for Always {
        fn draw(&mut self, _t: u32) -> bool {
            self.0
        }
    }

    /// Build tables with iptables commands, run `hook` in `table` for `p`.
    fn verdict(
        rules: &[&str],
        table: TableName,
        hook: Hook,
        p: &Ipv4Packet,
        in_dev: Option<&str>,
        out_dev: Option<&str>,
        ct: CtInfo,
    ) -> (TableRun, Netfilter) {
        let mut nf = Netfilter::default();
        for r in rules {
            let args: Vec<&str> = r.split_whitespace().collect();
            iptables::run(&mut nf, &args, &iptables::IptablesCtx::default())
                .unwrap_or_else(|e| panic!("{r}: {}", e.msg));
        }
        let at = |a: Ipv4Addr, _dev: Option<&str>| {
            if a == Ipv4Addr::new(10, 0, 0, 1) {
                AddrType::Local
            } else {
                AddrType::Unicast
            }
        };
        let ctx = EvalCtx {
            hook,
            packet: p,
            in_dev,
            out_dev,
            physdev_in: Some("veth-a"),
            physdev_out: None,
            ct,
            mark: 0,
            addr_type: &at,
        };
        // Every walk here also checks that a quiet run's tally keeps what it must: the
        // verdict, the mark, the number of rules evaluated and the deciding visit.
        let tally = evaluate(
            &nf,
            table,
            &ctx,
            &mut Always(true),
            &mut NthState::new(),
            Record::Tally,
        );
        let run = run_table(
            &mut nf,
            table,
            &ctx,
            &mut Always(true),
            &mut NthState::new(),
        );
        assert_eq!(
            (&tally.verdict, tally.mark, tally.visits.rules()),
            (&run.verdict, run.mark, run.visits.rules())
        );
        assert_eq!(tally.visits.last(), run.visits.last());
        assert_eq!(tally.visits.is_empty(), run.visits.is_empty());
        (run, nf)
    }

    fn filter_input(rules: &[&str], p: &Ipv4Packet) -> TableVerdict {
        verdict(
            rules,
            TableName::Filter,
            Hook::Input,
            p,
            Some("eth0"),
            None,
            CtInfo {
                new: true,
                ..CtInfo::default()
            },
        )
        .0
        .verdict
    }

    #[test]
    fn addresses_protocols_ports_and_negation() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        assert_eq!(
            filter_input(&["-A INPUT -s 192.168.1.0/24 -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT ! -s 192.168.1.0/24 -j DROP"], &p),
            TableVerdict::Accept
        );
        assert_eq!(
            filter_input(&["-A INPUT -d 10.0.0.1 -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -p udp -j DROP"], &p),
            TableVerdict::Accept
        );
        assert_eq!(
            filter_input(&["-A INPUT -p tcp --dport 80 -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -p tcp --dport 1:79 -j DROP"], &p),
            TableVerdict::Accept
        );
        assert_eq!(
            filter_input(&["-A INPUT -p tcp ! --dport 22 -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -p tcp --sport 30000:50000 -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(
                &["-A INPUT -p tcp -m multiport --dports 22,80,443 -j DROP"],
                &p
            ),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -i eth+ -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT ! -i eth0 -j DROP"], &p),
            TableVerdict::Accept
        );
        assert_eq!(
            filter_input(&["-A INPUT -m comment --comment hi -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -m addrtype --dst-type LOCAL -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -m addrtype --src-type LOCAL -j DROP"], &p),
            TableVerdict::Accept
        );
        assert_eq!(
            filter_input(&["-A INPUT -m physdev --physdev-in veth-a -j DROP"], &p),
            TableVerdict::Drop
        );
    }

    #[test]
    fn icmp_types() {
        let p = icmp_echo("192.168.1.2", "10.0.0.1");
        assert_eq!(
            filter_input(&["-A INPUT -p icmp --icmp-type echo-request -j DROP"], &p),
            TableVerdict::Drop
        );
        assert_eq!(
            filter_input(&["-A INPUT -p icmp --icmp-type echo-reply -j DROP"], &p),
            TableVerdict::Accept
        );
        assert_eq!(
            filter_input(&["-A INPUT -p tcp --dport 80 -j DROP"], &p),
            TableVerdict::Accept,
            "no ports on ICMP"
        );
    }

    #[test]
    fn conntrack_states_and_marks() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        let est = CtInfo {
            established: true,
            ..CtInfo::default()
        };
        let (r, _) = verdict(
            &[
                "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
                "-A INPUT -j DROP",
            ],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            est,
        );
        assert_eq!(r.verdict, TableVerdict::Accept);
        let (r, _) = verdict(
            &["-A INPUT -m state --state NEW -j DROP"],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            est,
        );
        assert_eq!(r.verdict, TableVerdict::Accept);
        let (r, _) = verdict(
            &[
                "-A INPUT -j MARK --set-xmark 0x4000/0x4000",
                "-A INPUT -m mark --mark 0x4000/0x4000 -j DROP",
            ],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            CtInfo::default(),
        );
        assert_eq!(r.verdict, TableVerdict::Drop);
        assert_eq!(r.mark, 0x4000);
        let _ = CtStates::default();
    }

    #[test]
    fn jumps_gotos_returns_and_policies() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        // A user chain that returns: the rule after the jump decides.
        let (r, nf) = verdict(
            &[
                "-N C",
                "-A C -p udp -j DROP",
                "-A INPUT -j C",
                "-A INPUT -j DROP",
            ],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            CtInfo::default(),
        );
        assert_eq!(r.verdict, TableVerdict::Drop);
        assert_eq!(
            r.visits
                .iter()
                .map(|v| (v.chain, v.num, v.kind))
                .collect::<Vec<_>>(),
            vec![
                ("INPUT".to_string(), 1, "rule"),
                ("C".to_string(), 1, "rule"),
                ("C".to_string(), 2, "return"),
                ("INPUT".to_string(), 2, "rule")
            ]
        );
        let counted = nf.counted(TableName::Filter);
        let c = &counted.chains["INPUT"];
        assert_eq!((c.rules[0].packets, c.rules[1].packets), (1, 1));
        // RETURN in the built-in chain: the policy.
        let (r, nf) = verdict(
            &["-P INPUT DROP", "-A INPUT -j RETURN", "-A INPUT -j ACCEPT"],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            CtInfo::default(),
        );
        assert_eq!(r.verdict, TableVerdict::Drop);
        assert_eq!(
            nf.counted(TableName::Filter).chains["INPUT"].packets,
            1,
            "the policy counter"
        );
        // A goto'd chain that falls off its end goes to the built-in's policy, not back.
        let (r, _) = verdict(
            &[
                "-P INPUT DROP",
                "-N G",
                "-A INPUT -g G",
                "-A INPUT -j ACCEPT",
            ],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            CtInfo::default(),
        );
        assert_eq!(r.verdict, TableVerdict::Drop);
        // A rule without a target only counts.
        let (r, nf) = verdict(
            &["-A INPUT -p tcp"],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            CtInfo::default(),
        );
        assert_eq!(r.verdict, TableVerdict::Accept);
        assert_eq!(
            nf.counted(TableName::Filter).chains["INPUT"].rules[0].bytes,
            40,
            "IP total length of an option-less SYN"
        );
    }

    /// A table nested deeper than any loader accepts (iptables refuses it with "Too many
    /// links"): the walk stops at the guard, with a drop, and allocates no deeper.
    #[test]
    fn the_jump_depth_guard_stops_a_walk_nested_too_deep() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        let run = |depth: usize, record: Record| {
            let mut nf = Netfilter::default();
            for i in 0..=depth {
                iptables::run(&mut nf, &["-N", &format!("C{i}")], &Default::default())
                    .unwrap_or_else(|e| panic!("{}", e.msg));
            }
            let t = nf.table_mut(TableName::Filter);
            let rule = |target| crate::netfilter::Rule {
                matches: Vec::new(),
                target,
                packets: 0,
                bytes: 0,
            };
            let mut push = |chain: &str, target| {
                if let Some(c) = t.chains.get_mut(chain) {
                    c.rules.push(rule(target));
                }
            };
            push("INPUT", Target::Jump { chain: "C0".into() });
            for i in 0..depth {
                push(
                    &format!("C{i}"),
                    Target::Jump {
                        chain: format!("C{}", i + 1),
                    },
                );
            }
            push(&format!("C{depth}"), Target::Accept);
            let ctx = input_ctx(&p);
            evaluate(
                &nf,
                TableName::Filter,
                &ctx,
                &mut Always(true),
                &mut NthState::new(),
                record,
            )
        };
        for record in [Record::Every, Record::Tally] {
            let r = run(MAX_JUMP_DEPTH + 6, record);
            assert_eq!(r.verdict, TableVerdict::Drop);
            assert_eq!(
                r.visits.last().map(|v| v.text),
                Some("jump loop".to_string())
            );
            // INPUT's jump and one per chain, until the stack is one frame too deep.
            assert_eq!(r.visits.rules(), MAX_JUMP_DEPTH + 2);
            let r = run(MAX_JUMP_DEPTH - 1, record);
            assert_eq!(
                r.verdict,
                TableVerdict::Accept,
                "deep, but within the guard"
            );
        }
    }

    #[test]
    fn terminal_targets() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        assert_eq!(
            filter_input(&["-A INPUT -j REJECT"], &p),
            TableVerdict::Reject {
                with: RejectWith::IcmpPortUnreachable
            }
        );
        assert_eq!(
            filter_input(&["-A INPUT -p tcp -j REJECT --reject-with tcp-reset"], &p),
            TableVerdict::Reject {
                with: RejectWith::TcpReset
            }
        );
        let (r, _) = verdict(
            &["-t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 11.11.11.2:8080"],
            TableName::Nat,
            Hook::Prerouting,
            &p,
            Some("eth0"),
            None,
            CtInfo::default(),
        );
        assert!(
            matches!(r.verdict, TableVerdict::Dnat { to } if to.addr_lo == Ipv4Addr::new(11, 11, 11, 2) && to.ports.map(|p| p.lo) == Some(8080))
        );
        let (r, _) = verdict(
            &["-t nat -A POSTROUTING -o eth1 -j MASQUERADE"],
            TableName::Nat,
            Hook::Postrouting,
            &p,
            None,
            Some("eth1"),
            CtInfo::default(),
        );
        assert!(matches!(r.verdict, TableVerdict::Masquerade { .. }));
        let (r, _) = verdict(
            &["-t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4"],
            TableName::Nat,
            Hook::Postrouting,
            &p,
            None,
            Some("eth1"),
            CtInfo::default(),
        );
        assert!(
            matches!(r.verdict, TableVerdict::Snat { to } if to.addr_lo == Ipv4Addr::new(1, 2, 3, 4))
        );
        let (r, _) = verdict(
            &["-A INPUT -j LOG --log-prefix X:", "-A INPUT -j ACCEPT"],
            TableName::Filter,
            Hook::Input,
            &p,
            Some("eth0"),
            None,
            CtInfo::default(),
        );
        assert_eq!(r.log.len(), 1);
        assert!(
            r.log[0].starts_with("X:IN=eth0 OUT= SRC=192.168.1.2 DST=10.0.0.1 LEN=40"),
            "{}",
            r.log[0]
        );
        let (r, _) = verdict(
            &["-t raw -A PREROUTING -p tcp -j TRACE"],
            TableName::Raw,
            Hook::Prerouting,
            &p,
            Some("eth0"),
            None,
            CtInfo::default(),
        );
        assert!(r.trace);
        assert_eq!(
            trace_lines(&r),
            vec![
                "TRACE: raw:PREROUTING:rule:1",
                "TRACE: raw:PREROUTING:policy:2"
            ]
        );
    }

    #[test]
    fn statistic_draws_only_when_reached() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        let mut nf = Netfilter::default();
        for r in [
            "-A INPUT -p udp -m statistic --mode random --probability 0.5 -j DROP",
            "-A INPUT -m statistic --mode random --probability 0.5 -j DROP",
        ] {
            let args: Vec<&str> = r.split_whitespace().collect();
            iptables::run(&mut nf, &args, &iptables::IptablesCtx::default()).expect("rule");
        }
        let ctx = input_ctx(&p);
        let mut s = ScriptedChance::default();
        let r = run_table(
            &mut nf,
            TableName::Filter,
            &ctx,
            &mut s,
            &mut NthState::new(),
        );
        assert_eq!(
            s.made.len(),
            1,
            "the first rule's -p udp fails before its draw"
        );
        assert_eq!(r.verdict, TableVerdict::Drop);
        assert!((branch_probability(&s.made) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn nth_mode_counts_per_rule() {
        let p = tcp("192.168.1.2", 40000, "10.0.0.1", 80);
        let mut nf = Netfilter::default();
        let args: Vec<&str> = "-A INPUT -m statistic --mode nth --every 3 --packet 0 -j DROP"
            .split_whitespace()
            .collect();
        iptables::run(&mut nf, &args, &iptables::IptablesCtx::default()).expect("rule");
        let ctx = input_ctx(&p);
        let mut nth = NthState::new();
        let got: Vec<bool> = (0..6)
            .map(|_| {
                run_table(
                    &mut nf,
                    TableName::Filter,
                    &ctx,
                    &mut Always(true),
                    &mut nth,
                )
                .verdict
                    == TableVerdict::Drop
            })
            .collect();
        assert_eq!(got, vec![true, false, false, true, false, false]);
    }

    /// Sets made with `ipset`, rules with `iptables`, then one packet through `hook` of
    /// `table`. 10.0.0.1 is local, on eth0 only.
    fn with_sets(
        sets: &[&str],
        rules: &[&str],
        table: TableName,
        hook: Hook,
        p: &Ipv4Packet,
        out_dev: Option<&str>,
    ) -> TableVerdict {
        let mut nf = Netfilter::default();
        for c in sets {
            let args: Vec<&str> = c.split_whitespace().collect();
            crate::netfilter::ipset::run(&mut nf, &args).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        for r in rules {
            let args: Vec<&str> = r.split_whitespace().collect();
            iptables::run(&mut nf, &args, &iptables::IptablesCtx::default())
                .unwrap_or_else(|e| panic!("{r}: {}", e.msg));
        }
        let at = |a: Ipv4Addr, dev: Option<&str>| {
            if a == Ipv4Addr::new(10, 0, 0, 1) && dev.is_none_or(|d| d == "eth0") {
                AddrType::Local
            } else {
                AddrType::Unicast
            }
        };
        let ctx = EvalCtx {
            hook,
            packet: p,
            in_dev: None,
            out_dev,
            physdev_in: None,
            physdev_out: None,
            ct: CtInfo::default(),
            mark: 0,
            addr_type: &at,
        };
        run_table(
            &mut nf,
            table,
            &ctx,
            &mut Always(true),
            &mut NthState::new(),
        )
        .verdict
    }

    #[test]
    fn set_match_member_negation_and_direction() {
        let sets = [
            "create hosts hash:net",
            "add hosts 192.168.100.0/24",
            "add hosts 192.168.100.101",
            "create one hash:ip",
            "add one 10.0.0.1",
        ];
        let p = icmp_echo("192.168.100.7", "10.0.0.1");
        let input = |rule: &str, p: &Ipv4Packet| {
            with_sets(&sets, &[rule], TableName::Filter, Hook::Input, p, None)
        };
        // hash:net: the source is inside 192.168.100.0/24.
        assert_eq!(
            input("-A INPUT -m set --match-set hosts src -j DROP", &p),
            TableVerdict::Drop
        );
        assert_eq!(
            input("-A INPUT -m set ! --match-set hosts src -j DROP", &p),
            TableVerdict::Accept
        );
        // The destination is not in hosts, it is in one (hash:ip, exact).
        assert_eq!(
            input("-A INPUT -m set --match-set hosts dst -j DROP", &p),
            TableVerdict::Accept
        );
        assert_eq!(
            input("-A INPUT -m set --match-set one dst -j DROP", &p),
            TableVerdict::Drop
        );
        assert_eq!(
            input("-A INPUT -m set --match-set one src -j DROP", &p),
            TableVerdict::Accept
        );
        // A one-dimensional set uses the first direction only.
        assert_eq!(
            input("-A INPUT -m set --match-set one dst,src -j DROP", &p),
            TableVerdict::Drop
        );
        assert_eq!(
            input("-A INPUT -m set --match-set one src,dst -j DROP", &p),
            TableVerdict::Accept
        );
        // Outside every network of hosts; hash:ip holds no neighbour of a member.
        let q = icmp_echo("192.168.101.7", "10.0.0.2");
        assert_eq!(
            input("-A INPUT -m set --match-set hosts src -j DROP", &q),
            TableVerdict::Accept
        );
        assert_eq!(
            input("-A INPUT -m set ! --match-set hosts src -j DROP", &q),
            TableVerdict::Drop
        );
        assert_eq!(
            input("-A INPUT -m set --match-set one dst -j DROP", &q),
            TableVerdict::Accept
        );
    }

    #[test]
    fn calico_nat_outgoing_masquerades_pool_traffic_leaving_the_pools() {
        let sets = [
            "create cali40masq-ipam-pools hash:net",
            "add cali40masq-ipam-pools 172.16.0.0/16",
            "create cali40all-ipam-pools hash:net",
            "add cali40all-ipam-pools 172.16.0.0/16",
        ];
        let rules = [
            "-t nat -N cali-nat-outgoing",
            "-t nat -A POSTROUTING -j cali-nat-outgoing",
            "-t nat -A cali-nat-outgoing -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully",
        ];
        let nat = |p: &Ipv4Packet| {
            with_sets(
                &sets,
                &rules,
                TableName::Nat,
                Hook::Postrouting,
                p,
                Some("eth0"),
            )
        };
        assert!(matches!(
            nat(&icmp_echo("172.16.158.5", "8.8.8.8")),
            TableVerdict::Masquerade { .. }
        ));
        assert_eq!(
            nat(&icmp_echo("172.16.158.5", "172.16.184.2")),
            TableVerdict::Accept
        );
        assert_eq!(
            nat(&icmp_echo("10.0.2.15", "8.8.8.8")),
            TableVerdict::Accept
        );
    }

    #[test]
    fn addrtype_limit_iface_out_asks_the_output_device() {
        // Calico's tunl0 rule: MASQUERADE what the host sends through tunl0 from an
        // address that is local but not tunl0's.
        let rules = [
            "-t nat -A POSTROUTING -o tunl0 -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully",
        ];
        let p = icmp_echo("10.0.0.1", "172.16.184.2");
        let v = |dev| {
            with_sets(
                &[],
                &rules,
                TableName::Nat,
                Hook::Postrouting,
                &p,
                Some(dev),
            )
        };
        assert!(matches!(v("tunl0"), TableVerdict::Masquerade { .. }));
        // Through eth0, 10.0.0.1 is local on the output device: the rule does not hold
        // (and -o tunl0 fails anyway).
        assert_eq!(v("eth0"), TableVerdict::Accept);
        let from_pod = icmp_echo("172.16.158.5", "172.16.184.2");
        assert_eq!(
            with_sets(
                &[],
                &rules,
                TableName::Nat,
                Hook::Postrouting,
                &from_pod,
                Some("tunl0")
            ),
            TableVerdict::Accept
        );
    }

    /// A long chain is walked by its destination index, yet the visits and their count
    /// are the linear walk's: every rule before the first match, in order.
    #[test]
    fn indexed_chain_reports_the_linear_walk() {
        let mut rules: Vec<String> = (0..100)
            .map(|i| format!("-A INPUT -d 10.96.0.{i}/32 -p tcp --dport 80 -j ACCEPT"))
            .collect();
        rules.insert(50, "-A INPUT -p udp -j DROP".into());
        rules.insert(0, "-P INPUT DROP".into());
        let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
        let run = |dport: u16| {
            verdict(
                &refs,
                TableName::Filter,
                Hook::Input,
                &tcp("10.0.0.2", 1000, "10.96.0.70", dport),
                None,
                None,
                CtInfo::default(),
            )
        };
        let (r, nf) = run(80);
        assert_eq!(r.verdict, TableVerdict::Accept);
        assert_eq!(r.visits.rules(), 72);
        let v: Vec<RuleVisit> = r.visits.iter().collect();
        assert_eq!(v.len(), 72);
        assert!(v
            .iter()
            .enumerate()
            .all(|(i, v)| v.num == i + 1 && v.chain == "INPUT"));
        assert!(v[..71].iter().all(|v| !v.matched && v.effect.is_none()));
        assert_eq!(v[50].text, "-A INPUT -p udp -j DROP");
        assert_eq!(
            v[71].text,
            "-A INPUT -d 10.96.0.70/32 -p tcp -m tcp --dport 80 -j ACCEPT"
        );
        assert_eq!(v[71].effect.as_deref(), Some("ACCEPT"));
        let counted = nf.counted(TableName::Filter);
        assert_eq!(counted.chains["INPUT"].rules[71].packets, 1);
        assert_eq!(r.visits.last().map(|v| v.num), Some(72));
        // No rule matches port 81: all 101 rules, then the policy.
        let (r, nf) = run(81);
        assert_eq!(r.verdict, TableVerdict::Drop);
        assert_eq!(r.visits.rules(), 101);
        let v: Vec<RuleVisit> = r.visits.iter().collect();
        assert_eq!(v.len(), 102);
        assert_eq!((v[101].kind, v[101].num), ("policy", 102));
        assert_eq!(nf.counted(TableName::Filter).chains["INPUT"].packets, 1);
        assert_eq!(
            serde_json::to_value(&r.visits).expect("json")[101]["text"],
            "-P INPUT DROP"
        );
    }

    /// Counting a packet adds to the namespace's overlay: a table shared with another
    /// namespace stays shared, and each namespace lists its own counters.
    #[test]
    fn counting_does_not_copy_a_shared_table() {
        let p = tcp("10.0.0.2", 1000, "10.0.0.1", 80);
        let (_, nf) = verdict(
            &["-A INPUT -p tcp -j ACCEPT"],
            TableName::Filter,
            Hook::Input,
            &p,
            None,
            None,
            CtInfo::default(),
        );
        let mut other = Netfilter::default();
        other.set_shared_table(nf.shared_table(TableName::Filter));
        let ctx = input_ctx(&p);
        for _ in 0..2 {
            run_table(
                &mut other,
                TableName::Filter,
                &ctx,
                &mut Always(true),
                &mut NthState::new(),
            );
        }
        assert!(std::sync::Arc::ptr_eq(
            &nf.shared_table(TableName::Filter),
            &other.shared_table(TableName::Filter)
        ));
        let rule = |n: &Netfilter| {
            let t = n.counted(TableName::Filter);
            (
                t.chains["INPUT"].rules[0].packets,
                t.chains["INPUT"].rules[0].bytes,
            )
        };
        assert_eq!(rule(&nf), (1, 40));
        assert_eq!(rule(&other), (2, 80));
        // A change folds the counters into the (now private) table first.
        iptables::run(
            &mut other,
            &["-A", "INPUT", "-j", "DROP"],
            &Default::default(),
        )
        .expect("rule");
        let t = other.table(TableName::Filter);
        assert_eq!(
            (
                t.chains["INPUT"].rules[0].packets,
                t.chains["INPUT"].rules.len()
            ),
            (2, 2)
        );
        assert_eq!(rule(&nf), (1, 40));
        // -Z zeroes what was counted since, too.
        run_table(
            &mut other,
            TableName::Filter,
            &ctx,
            &mut Always(true),
            &mut NthState::new(),
        );
        iptables::run(&mut other, &["-Z"], &Default::default()).expect("-Z");
        assert_eq!(rule(&other), (0, 0));
    }
}
