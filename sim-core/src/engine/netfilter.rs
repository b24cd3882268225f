//! The netfilter hooks as the IPv4 path calls them (`NF_HOOK`): at each hook, the tables
//! in priority order (raw, conntrack, mangle, nat, filter), connection tracking, and the
//! address translation the nat table or an existing connection asks for. A namespace where
//! nobody configured iptables skips all of it, as the kernel does (no tables, no hooks,
//! no conntrack).

use super::Sim;
use crate::model::{IfId, NsId, World};
use crate::netfilter::conntrack::{Conntrack, CtEntry, Dir, TcpCtState, Tuple};
use crate::netfilter::eval::{evaluate, trace_lines, CtInfo, EvalCtx, Record, TableVerdict};
use crate::netfilter::{AddrType, Hook, NatRange, PortRange, RejectWith, TableName};
use crate::trace::{Step, Words};
use crate::wire::{IpPayload, Ipv4Packet};
use std::net::Ipv4Addr;

/// What travels with a packet inside one namespace (the skb's `_nfct`, `mark`, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// The conntrack entry.
    pub ct: Option<CtRef>,
    /// Its direction.
    pub dir: Option<Dir>,
    /// The packet created the entry.
    pub new: bool,
    /// The packet's mark.
    pub mark: u32,
    /// NOTRACK'd.
    pub untracked: bool,
    /// A TRACE target matched: log every rule from now on.
    pub traced: bool,
    /// An ICMP error about a tracked connection (RELATED).
    pub related: bool,
}

/// The connection a packet belongs to (the skb's `_nfct` pointer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CtRef {
    /// An entry of the namespace's conntrack table (confirmed).
    Table(usize),
    /// A new connection not confirmed yet: the entry is the packet's own
    /// ([`Sim::unconfirmed`]), and goes away with it unless it is confirmed.
    Unconfirmed(usize),
}

/// A connection created by a packet and not confirmed yet (`init_conntrack` puts it on
/// no list that `conntrack -L` reads; the kernel frees it with its skb).
#[derive(Clone, Debug)]
pub(crate) struct Unconfirmed {
    /// The namespace whose conntrack created it.
    pub ns: NsId,
    /// The entry as the packet has made it so far.
    pub entry: CtEntry,
    /// Where it went in the table when it was confirmed.
    pub inserted: Option<usize>,
}

/// The entry a packet's connection reference points to.
fn entry(sim: &Sim, ns: NsId, r: CtRef) -> Option<&CtEntry> {
    match r {
        CtRef::Table(i) => sim.world.netns[ns].conntrack.entries.get(i),
        CtRef::Unconfirmed(k) => {
            let u = sim.unconfirmed.get(k)?;
            match u.inserted {
                Some(i) => sim.world.netns[u.ns].conntrack.entries.get(i),
                None => Some(&u.entry),
            }
        }
    }
}

fn entry_mut(sim: &mut Sim, ns: NsId, r: CtRef) -> Option<&mut CtEntry> {
    match r {
        CtRef::Table(i) => sim.world.netns[ns].conntrack.entries.get_mut(i),
        CtRef::Unconfirmed(k) => {
            let u = sim.unconfirmed.get_mut(k)?;
            match u.inserted {
                Some(i) => sim.world.netns[u.ns].conntrack.entries.get_mut(i),
                None => Some(&mut u.entry),
            }
        }
    }
}

/// Which end a nat hook translates (`HOOK2MANIP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Manip {
    /// PREROUTING and OUTPUT: the destination.
    Dst,
    /// POSTROUTING and INPUT: the source.
    Src,
}

/// Whether the nat table is consulted for this packet at a hook of this manip type:
/// only for the first packet of a connection, and only once per manip type
/// (`nf_nat_inet_fn`: "Seen it before? This can happen for loopback, retrans, or local
/// packets.": a packet that comes back through `lo` keeps its connection, whose
/// translation is already set up).
fn nat_pending(sim: &Sim, ns: NsId, meta: &Meta, m: Manip) -> bool {
    meta.new
        && meta
            .ct
            .and_then(|r| entry(sim, ns, r))
            .is_some_and(|e| match m {
                Manip::Dst => !e.nat_dst_done,
                Manip::Src => !e.nat_src_done,
            })
}

/// The nat table ran for the packet's connection at a hook of this manip type: its
/// translation for that end is settled, a rule's or the identity (`nf_nat_alloc_null_binding`).
fn nat_done(sim: &mut Sim, ns: NsId, meta: &Meta, m: Manip) {
    if let Some(e) = meta.ct.and_then(|r| entry_mut(sim, ns, r)) {
        match m {
            Manip::Dst => e.nat_dst_done = true,
            Manip::Src => e.nat_src_done = true,
        }
    }
}

/// Whether the namespace has a nat table (and so nat hooks that bind every new connection).
fn nat_loaded(sim: &Sim, ns: NsId) -> bool {
    sim.world.netns[ns]
        .netfilter
        .table(TableName::Nat)
        .is_configured()
}

/// What a hook decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Continue along the path.
    Accept,
    /// Dropped silently.
    Drop,
    /// Dropped, and an error goes back.
    Reject(RejectWith),
}

/// Bridge context for frames bridged with `bridge-nf-call-iptables` on.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Phys {
    /// The port the frame came in on.
    pub physdev_in: Option<IfId>,
    /// The port it leaves by.
    pub physdev_out: Option<IfId>,
}

fn addr_type(world: &World, ns: NsId, a: Ipv4Addr, dev: Option<&str>) -> AddrType {
    if let Some(dev) = dev {
        // inet_dev_addr_type: the local table's most specific route for the address
        // gives its type only when it is on `dev`; otherwise the address is UNICAST there.
        if a.is_multicast() {
            return AddrType::Multicast;
        }
        if a.is_broadcast() {
            return AddrType::Broadcast;
        }
        let best = world.netns[ns]
            .routes
            .iter()
            .filter(|r| r.table == crate::model::Table::Local && r.dst.contains(&a))
            .max_by_key(|r| r.dst.prefix_len());
        return match best {
            Some(r) if r.dev.is_some_and(|d| world.ifname(d) == dev) => match r.rtype {
                crate::model::RouteType::Local => AddrType::Local,
                crate::model::RouteType::Broadcast => AddrType::Broadcast,
                _ => AddrType::Unicast,
            },
            _ => AddrType::Unicast,
        };
    }
    if world.is_local_addr(ns, a) {
        AddrType::Local
    } else if a.is_multicast() {
        AddrType::Multicast
    } else if a.is_broadcast() || world.netns[ns].routes.broadcast_covers(a) {
        AddrType::Broadcast
    } else {
        AddrType::Unicast
    }
}

/// Whether a namespace runs netfilter at all.
pub(crate) fn active(world: &World, ns: NsId) -> bool {
    world.netns[ns].netfilter.is_configured()
}

fn ct_info(sim: &Sim, ns: NsId, meta: &Meta) -> CtInfo {
    let mut ci = CtInfo {
        untracked: meta.untracked,
        ..CtInfo::default()
    };
    if let (Some(r), Some(dir)) = (meta.ct, meta.dir) {
        if let Some(e) = entry(sim, ns, r) {
            ci.related = meta.related;
            ci.new = !meta.related && (meta.new || (!e.seen_reply && dir == Dir::Original));
            ci.established = !ci.new && !meta.related;
            ci.dnat = e.dnat();
            ci.snat = e.snat();
        }
    } else if !meta.untracked && sim.world.netns[ns].netfilter.needs_conntrack() {
        ci.invalid = true;
    }
    ci
}

/// Run one table; record the step; return its verdict.
#[allow(clippy::too_many_arguments)]
fn table(
    sim: &mut Sim,
    ns: NsId,
    hook: Hook,
    t: TableName,
    packet: &Ipv4Packet,
    in_dev: Option<IfId>,
    out_dev: Option<IfId>,
    phys: Phys,
    meta: &mut Meta,
) -> TableVerdict {
    // iptables-nft creates a base chain only when it has a rule or a policy other than
    // ACCEPT: an empty chain is not there to traverse (nor to trace).
    let table = sim.world.netns[ns].netfilter.table(t);
    let exists = table
        .base_chain(hook)
        .and_then(|i| table.chains.get_index(i))
        .is_some_and(|(_, c)| {
            !c.rules.is_empty() || c.policy != Some(crate::netfilter::Policy::Accept)
        });
    if !exists {
        return TableVerdict::Accept;
    }
    let ct = ct_info(sim, ns, meta);
    let world = &sim.world;
    let name = |d: Option<IfId>| d.map(|d| world.iface(d).map_or("?", |i| i.name.as_str()));
    let at = |a: Ipv4Addr, dev: Option<&str>| addr_type(world, ns, a, dev);
    let ctx = EvalCtx {
        hook,
        packet,
        in_dev: name(in_dev),
        out_dev: name(out_dev),
        physdev_in: name(phys.physdev_in),
        physdev_out: name(phys.physdev_out),
        ct,
        mark: meta.mark,
        addr_type: &at,
    };
    // What no one will read is not recorded: a quiet run keeps the rule count and the
    // deciding rule (for a drop's cause).
    let record = if sim.tracing() || sim.keeps_world() {
        Record::Every
    } else {
        Record::Tally
    };
    let run = evaluate(
        &world.netns[ns].netfilter,
        t,
        &ctx,
        sim.chance.as_mut(),
        &mut sim.nth,
        record,
    );
    // The counters go beside the (shared) table: counting never copies it. A quiet run's
    // world is dropped with it, so nobody could list them.
    if sim.keeps_world() {
        let len = u64::from(packet.total_len() as u32);
        sim.world.netns[ns].netfilter.count(t, &run.visits, len);
    }
    meta.mark = run.mark;
    if run.notrack {
        meta.untracked = true;
    }
    sim.rules_evaluated += run.visits.rules();
    if matches!(
        run.verdict,
        TableVerdict::Drop | TableVerdict::Reject { .. }
    ) {
        sim.last_nf_cause = run
            .visits
            .last()
            .map(|v| format!("{}:{}:{}:{} `{}`", t.name(), v.chain, v.kind, v.num, v.text));
    }
    let traced = meta.traced || run.trace;
    if run.trace {
        meta.traced = true;
    }
    if !sim.tracing() {
        return run.verdict;
    }
    // What only the trace shows, built only when there is a trace.
    let mut log = run.log.clone();
    if traced {
        log.extend(trace_lines(&run));
    }
    let verdict = match &run.verdict {
        TableVerdict::Accept => Words::Fixed("ACCEPT"),
        TableVerdict::Drop => Words::Fixed("DROP"),
        TableVerdict::Reject { with } => Words::Text(format!("REJECT ({})", with.name())),
        TableVerdict::Dnat { to } => Words::Text(format!("DNAT to {}", nat_range(to))),
        TableVerdict::Snat { to } => Words::Text(format!("SNAT to {}", nat_range(to))),
        TableVerdict::Masquerade { .. } => Words::Fixed("MASQUERADE"),
    };
    sim.step(Step::Netfilter {
        hook: hook.chain(),
        table: t.name(),
        visits: run.visits,
        verdict,
    });
    if !log.is_empty() {
        sim.step(Step::NfLog { lines: log });
    }
    run.verdict
}

fn nat_range(r: &NatRange) -> String {
    let a = if r.addr_lo == r.addr_hi {
        r.addr_lo.to_string()
    } else {
        format!("{}-{}", r.addr_lo, r.addr_hi)
    };
    match r.ports {
        Some(p) if p.lo == p.hi => format!("{a}:{}", p.lo),
        Some(p) => format!("{a}:{}-{}", p.lo, p.hi),
        None => a,
    }
}

/// A packet's ends, in words when shown.
fn flow(p: &Ipv4Packet) -> Words {
    let ports = p.payload.ports();
    Words::Flow {
        src: p.header.src,
        sport: ports.map(|x| x.0),
        dst: p.header.dst,
        dport: ports.map(|x| x.1),
    }
}

/// Rewrite one end (source or destination, address and port) of a packet; record the
/// change as before/after.
fn rewrite(
    sim: &mut Sim,
    kind: &'static str,
    p: &mut Ipv4Packet,
    source: bool,
    addr: Ipv4Addr,
    port: Option<u16>,
) {
    let before = sim.tracing().then(|| flow(p));
    if source {
        p.header.src = addr;
    } else {
        p.header.dst = addr;
    }
    if let (Some(port), Some((sp, dp))) = (port, p.payload.ports()) {
        if source {
            p.payload.set_ports(port, dp);
        } else {
            p.payload.set_ports(sp, port);
        }
    }
    let Some(before) = before else {
        return;
    };
    let after = flow(p);
    if before != after {
        sim.step(Step::Nat {
            kind,
            before,
            after,
        });
    }
}

/// Rewrite the destination (and port); record the change.
fn set_dst(
    sim: &mut Sim,
    kind: &'static str,
    p: &mut Ipv4Packet,
    addr: Ipv4Addr,
    port: Option<u16>,
) {
    rewrite(sim, kind, p, false, addr, port);
}

/// Rewrite the source (and port); record the change.
fn set_src(
    sim: &mut Sim,
    kind: &'static str,
    p: &mut Ipv4Packet,
    addr: Ipv4Addr,
    port: Option<u16>,
) {
    rewrite(sim, kind, p, true, addr, port);
}

/// `nf_conntrack_in`: find or create the packet's connection, update its state.
fn conntrack_in(sim: &mut Sim, ns: NsId, p: &Ipv4Packet, meta: &mut Meta) {
    let tracing = sim.tracing();
    if let (Some(r), Some(dir)) = (meta.ct, meta.dir) {
        // "Previously seen (loopback or untracked)? Ignore.": a packet back through `lo`
        // still carries its connection; it is neither looked up nor updated again.
        if let Some(e) = entry(sim, ns, r).filter(|_| sim.tracing()) {
            let detail = format!(
                "still attached to {} ({} direction): lo keeps the skb's connection",
                e.orig,
                if dir == Dir::Original {
                    "original"
                } else {
                    "reply"
                }
            );
            sim.step(Step::Conntrack {
                detail: detail.into(),
            });
        }
        return;
    }
    if meta.untracked || !sim.world.netns[ns].netfilter.needs_conntrack() {
        return;
    }
    let Some(t) = Tuple::of(p) else {
        related_in(sim, ns, p, meta);
        return;
    };
    let now = sim.now();
    let (r, dir, new) = match sim.world.netns[ns].conntrack.lookup(&t) {
        Some((i, d)) => (CtRef::Table(i), d, false),
        None if !t.may_start() => {
            if sim.tracing() {
                sim.step(Step::Conntrack {
                    detail: format!("{t}: no connection, and only a request starts one: INVALID")
                        .into(),
                });
            }
            return;
        }
        None => {
            sim.unconfirmed.push(Unconfirmed {
                ns,
                entry: Conntrack::new_entry(t, now),
                inserted: None,
            });
            (
                CtRef::Unconfirmed(sim.unconfirmed.len() - 1),
                Dir::Original,
                true,
            )
        }
    };
    let Some(e) = entry_mut(sim, ns, r) else {
        return;
    };
    e.last_us = now;
    if dir == Dir::Reply {
        e.seen_reply = true;
        // UDP becomes ASSURED once traffic flows both ways; ICMP never does
        // (nf_conntrack_icmp_packet only refreshes the timeout).
        if e.orig.proto == 17 {
            e.assured = e.assured || !new;
        }
    }
    if let IpPayload::Tcp(tcp) = &p.payload {
        let f = tcp.flags;
        let s = e.tcp.unwrap_or(TcpCtState::SynSent);
        let next = if f.rst {
            TcpCtState::Close
        } else if f.syn && f.ack && dir == Dir::Reply {
            TcpCtState::SynRecv
        } else if f.fin {
            match s {
                TcpCtState::Established | TcpCtState::SynRecv => TcpCtState::FinWait,
                TcpCtState::FinWait | TcpCtState::CloseWait => TcpCtState::LastAck,
                other => other,
            }
        } else if f.ack {
            match s {
                TcpCtState::SynRecv if dir == Dir::Original => {
                    e.assured = true;
                    TcpCtState::Established
                }
                TcpCtState::LastAck => TcpCtState::TimeWait,
                TcpCtState::FinWait => TcpCtState::CloseWait,
                other => other,
            }
        } else {
            s
        };
        e.tcp = Some(next);
    }
    let word = tracing.then(|| {
        if new {
            Words::NewConnection(t)
        } else {
            Words::Connection {
                dir: if dir == Dir::Original {
                    "original"
                } else {
                    "reply"
                },
                orig: e.orig,
                tcp: e.tcp.map(TcpCtState::name),
            }
        }
    });
    meta.ct = Some(r);
    meta.dir = Some(dir);
    meta.new = new;
    if let Some(detail) = word {
        sim.step(Step::Conntrack { detail });
    }
}

/// An ICMP error quoting a packet of a tracked connection is RELATED to it, and travels
/// the other way.
fn related_in(sim: &mut Sim, ns: NsId, p: &Ipv4Packet, meta: &mut Meta) {
    let IpPayload::Icmp(icmp) = &p.payload else {
        return;
    };
    let Some(inner) = icmp.quoted().and_then(|q| Ipv4Packet::parse(q).ok()) else {
        return;
    };
    let Some(t) = Tuple::of(&inner) else {
        return;
    };
    // nf_conntrack_inet_error: the quoted packet went one way, so the error belongs to the
    // connection whose tuple is the quoted one inverted, in that tuple's direction. A
    // packet REJECTed before its connection was confirmed still has its (unconfirmed)
    // entry attached while it is being handled: those come first, newest first.
    let inv = t.invert();
    let dir_of = |e: &CtEntry| {
        if e.reply == inv {
            Some(Dir::Reply)
        } else if e.orig == inv {
            Some(Dir::Original)
        } else {
            None
        }
    };
    let live = sim
        .unconfirmed
        .iter()
        .enumerate()
        .skip(sim.ct_live_from)
        .rev();
    let found = live
        .filter(|(_, u)| u.ns == ns && u.inserted.is_none())
        .find_map(|(k, u)| dir_of(&u.entry).map(|d| (CtRef::Unconfirmed(k), d)))
        .or_else(|| {
            let ct = &sim.world.netns[ns].conntrack;
            ct.entries
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, e)| dir_of(e).map(|d| (CtRef::Table(i), d)))
        });
    let Some((r, d)) = found else {
        return;
    };
    let Some(orig) = entry(sim, ns, r).map(|e| e.orig) else {
        return;
    };
    meta.ct = Some(r);
    meta.dir = Some(d);
    meta.related = true;
    if sim.tracing() {
        sim.step(Step::Conntrack {
            detail: format!("ICMP error RELATED to {orig}").into(),
        });
    }
}

/// Rewrite the packet quoted inside an ICMP error, the inverse of the outer change
/// (`nf_nat_icmp_reply_translation`).
fn translate_inner(p: &mut Ipv4Packet, src: Option<(Ipv4Addr, u16)>, dst: Option<(Ipv4Addr, u16)>) {
    let IpPayload::Icmp(icmp) = &mut p.payload else {
        return;
    };
    let quoted = match icmp {
        crate::wire::IcmpRepr::DestUnreachable { quoted, .. }
        | crate::wire::IcmpRepr::TimeExceeded { quoted, .. }
        | crate::wire::IcmpRepr::Redirect { quoted, .. } => quoted,
        _ => return,
    };
    let Ok(mut inner) = Ipv4Packet::parse(quoted) else {
        return;
    };
    if let Some((a, port)) = src {
        inner.header.src = a;
        if let Some((_, dp)) = inner.payload.ports() {
            inner.payload.set_ports(port, dp);
        }
    }
    if let Some((a, port)) = dst {
        inner.header.dst = a;
        if let Some((sp, _)) = inner.payload.ports() {
            inner.payload.set_ports(sp, port);
        }
    }
    *quoted = inner.emit();
}

/// Destination manipulation at PREROUTING/OUTPUT for a packet of a known connection.
fn manip_dst_from_ct(sim: &mut Sim, ns: NsId, p: &mut Ipv4Packet, meta: &Meta) {
    let (Some(r), Some(dir)) = (meta.ct, meta.dir) else {
        return;
    };
    let Some(e) = entry(sim, ns, r).cloned() else {
        return;
    };
    match dir {
        Dir::Original if e.dnat() => {
            set_dst(sim, "DNAT (conntrack)", p, e.reply.src, Some(e.reply.sport));
            if meta.related {
                translate_inner(p, Some((e.reply.src, e.reply.sport)), None);
            }
        }
        Dir::Reply if e.snat() => {
            set_dst(
                sim,
                "un-SNAT of a reply (conntrack)",
                p,
                e.orig.src,
                Some(e.orig.sport),
            );
            if meta.related {
                translate_inner(p, Some((e.orig.src, e.orig.sport)), None);
            }
        }
        _ => {}
    }
}

/// Source manipulation at POSTROUTING/INPUT for a packet of a known connection.
fn manip_src_from_ct(sim: &mut Sim, ns: NsId, p: &mut Ipv4Packet, meta: &Meta) {
    let (Some(r), Some(dir)) = (meta.ct, meta.dir) else {
        return;
    };
    let Some(e) = entry(sim, ns, r).cloned() else {
        return;
    };
    match dir {
        Dir::Original if e.snat() => {
            set_src(sim, "SNAT (conntrack)", p, e.reply.dst, Some(e.reply.dport));
            if meta.related {
                translate_inner(p, None, Some((e.reply.dst, e.reply.dport)));
            }
        }
        Dir::Reply if e.dnat() => {
            set_src(
                sim,
                "un-DNAT of a reply (conntrack)",
                p,
                e.orig.dst,
                Some(e.orig.dport),
            );
            if meta.related {
                translate_inner(p, None, Some((e.orig.dst, e.orig.dport)));
            }
        }
        _ => {}
    }
}

fn verdict_of(v: &TableVerdict) -> Option<Verdict> {
    match v {
        TableVerdict::Drop => Some(Verdict::Drop),
        TableVerdict::Reject { with } => Some(Verdict::Reject(*with)),
        _ => None,
    }
}

/// PREROUTING: raw, conntrack, mangle, nat (DNAT).
pub(crate) fn prerouting(
    sim: &mut Sim,
    ns: NsId,
    in_dev: IfId,
    p: &mut Ipv4Packet,
    phys: Phys,
    meta: &mut Meta,
) -> Verdict {
    if !active(&sim.world, ns) {
        return Verdict::Accept;
    }
    for t in [TableName::Raw, TableName::Mangle, TableName::Nat] {
        if t == TableName::Mangle {
            conntrack_in(sim, ns, p, meta);
            manip_dst_from_ct(sim, ns, p, meta);
        }
        if t == TableName::Nat {
            if !nat_pending(sim, ns, meta, Manip::Dst) {
                continue;
            }
            nat_done(sim, ns, meta, Manip::Dst);
        }
        let v = table(
            sim,
            ns,
            Hook::Prerouting,
            t,
            p,
            Some(in_dev),
            None,
            phys,
            meta,
        );
        if let Some(v) = verdict_of(&v) {
            return v;
        }
        if let TableVerdict::Dnat { to } = v {
            apply_dnat(sim, ns, p, meta, &to);
        }
    }
    Verdict::Accept
}

/// The port a NAT range gives a packet (`nf_nat_l4proto_unique_tuple`): the packet's own
/// when it is in the range (`nf_nat_used_tuple` aside: hopsim runs one connection at a
/// time), else the first of the range (the kernel starts from a hashed offset instead).
fn nat_port(range: Option<crate::netfilter::PortRange>, current: Option<u16>) -> Option<u16> {
    let r = range?;
    Some(match current {
        Some(c) if r.contains(c) => c,
        _ => r.lo,
    })
}

fn apply_dnat(sim: &mut Sim, ns: NsId, p: &mut Ipv4Packet, meta: &Meta, to: &NatRange) {
    let port = nat_port(to.ports, p.payload.ports().map(|(_, d)| d));
    if let Some(r) = meta.ct {
        if let Some(e) = entry_mut(sim, ns, r) {
            e.reply.src = to.addr_lo;
            if let Some(port) = port {
                e.reply.sport = port;
            }
        }
    }
    set_dst(sim, "DNAT", p, to.addr_lo, port);
}

/// INPUT: mangle, filter, then nat's source manipulation for replies, and confirm.
pub(crate) fn input(
    sim: &mut Sim,
    ns: NsId,
    in_dev: Option<IfId>,
    p: &mut Ipv4Packet,
    meta: &mut Meta,
) -> Verdict {
    if !active(&sim.world, ns) {
        return Verdict::Accept;
    }
    // NF_INET_LOCAL_IN in priority order: mangle, filter, then nat (NF_IP_PRI_NAT_SRC:
    // SNAT of a new connection delivered locally, as `-t nat -A INPUT ... -j SNAT`).
    for t in [TableName::Mangle, TableName::Filter, TableName::Nat] {
        if t == TableName::Nat {
            if !nat_pending(sim, ns, meta, Manip::Src) {
                continue;
            }
            nat_done(sim, ns, meta, Manip::Src);
        }
        let v = table(
            sim,
            ns,
            Hook::Input,
            t,
            p,
            in_dev,
            None,
            Phys::default(),
            meta,
        );
        if let Some(v) = verdict_of(&v) {
            return v;
        }
        if t == TableName::Nat {
            let bind = match v {
                TableVerdict::Snat { to } => Some((to.addr_lo, to.ports, "SNAT")),
                _ => None,
            };
            src_binding(sim, ns, p, meta, bind);
        }
    }
    if !meta.new {
        manip_src_from_ct(sim, ns, p, meta);
    }
    confirm(sim, ns, meta)
}

/// FORWARD: mangle, filter.
pub(crate) fn forward(
    sim: &mut Sim,
    ns: NsId,
    in_dev: IfId,
    out_dev: IfId,
    p: &Ipv4Packet,
    phys: Phys,
    meta: &mut Meta,
) -> Verdict {
    if !active(&sim.world, ns) {
        return Verdict::Accept;
    }
    for t in [TableName::Mangle, TableName::Filter] {
        let v = table(
            sim,
            ns,
            Hook::Forward,
            t,
            p,
            Some(in_dev),
            Some(out_dev),
            phys,
            meta,
        );
        if let Some(v) = verdict_of(&v) {
            return v;
        }
    }
    Verdict::Accept
}

/// OUTPUT: raw, conntrack, mangle, nat (DNAT of local traffic), filter. Returns whether
/// the destination changed (the packet must be routed again).
pub(crate) fn output(
    sim: &mut Sim,
    ns: NsId,
    out_dev: Option<IfId>,
    p: &mut Ipv4Packet,
    meta: &mut Meta,
) -> (Verdict, bool) {
    if !active(&sim.world, ns) {
        return (Verdict::Accept, false);
    }
    let dst = p.header.dst;
    for t in [
        TableName::Raw,
        TableName::Mangle,
        TableName::Nat,
        TableName::Filter,
    ] {
        if t == TableName::Mangle {
            conntrack_in(sim, ns, p, meta);
            manip_dst_from_ct(sim, ns, p, meta);
        }
        if t == TableName::Nat {
            if !nat_pending(sim, ns, meta, Manip::Dst) {
                continue;
            }
            nat_done(sim, ns, meta, Manip::Dst);
        }
        let v = table(
            sim,
            ns,
            Hook::Output,
            t,
            p,
            None,
            out_dev,
            Phys::default(),
            meta,
        );
        if let Some(v) = verdict_of(&v) {
            return (v, false);
        }
        if let TableVerdict::Dnat { to } = v {
            apply_dnat(sim, ns, p, meta, &to);
        }
    }
    (Verdict::Accept, p.header.dst != dst)
}

/// POSTROUTING: mangle, nat (SNAT, MASQUERADE) for a new connection or the connection's
/// own translation otherwise; then the connection is confirmed.
pub(crate) fn postrouting(
    sim: &mut Sim,
    ns: NsId,
    out_dev: IfId,
    p: &mut Ipv4Packet,
    phys: Phys,
    meta: &mut Meta,
) -> Verdict {
    if !active(&sim.world, ns) {
        return Verdict::Accept;
    }
    for t in [TableName::Mangle, TableName::Nat] {
        if t == TableName::Nat {
            if !nat_pending(sim, ns, meta, Manip::Src) {
                continue;
            }
            nat_done(sim, ns, meta, Manip::Src);
        }
        let v = table(
            sim,
            ns,
            Hook::Postrouting,
            t,
            p,
            None,
            Some(out_dev),
            phys,
            meta,
        );
        if let Some(v) = verdict_of(&v) {
            return v;
        }
        if t == TableName::Nat {
            let bind = match v {
                TableVerdict::Snat { to } => Some((to.addr_lo, to.ports, "SNAT")),
                TableVerdict::Masquerade { to_ports } => {
                    // The address of the output device, chosen as for a locally sent packet.
                    let a = sim
                        .select_src(ns, Some(out_dev), p.header.dst)
                        .unwrap_or(Ipv4Addr::UNSPECIFIED);
                    Some((a, to_ports, "MASQUERADE"))
                }
                _ => None,
            };
            src_binding(sim, ns, p, meta, bind);
        }
    }
    if !meta.new {
        manip_src_from_ct(sim, ns, p, meta);
    }
    confirm(sim, ns, meta)
}

/// The source translation of a new connection at POSTROUTING or INPUT, after its nat
/// table: a rule's SNAT or MASQUERADE, or the identity when no rule matched
/// (`nf_nat_alloc_null_binding`). Either way the source port is the packet's own when
/// the reply tuple that gives is free, else another one (`get_unique_tuple`,
/// `nf_nat_used_tuple`: a reply must lead to one connection only).
fn src_binding(
    sim: &mut Sim,
    ns: NsId,
    p: &mut Ipv4Packet,
    meta: &Meta,
    bind: Option<(Ipv4Addr, Option<PortRange>, &'static str)>,
) {
    let sport = p.payload.ports().map(|(s, _)| s);
    let (addr, range, kind) = match bind {
        Some(b) => b,
        None if nat_loaded(sim, ns) => (p.header.src, None, "SNAT (null binding)"),
        None => return,
    };
    // Without --to-ports the port is kept, unless the reply tuple is taken.
    let port = nat_port(range, sport).or(sport);
    apply_snat(sim, ns, p, meta, addr, port, range, kind);
}

/// Source NAT of a new connection: the reply tuple comes back to the new source.
#[allow(clippy::too_many_arguments)]
fn apply_snat(
    sim: &mut Sim,
    ns: NsId,
    p: &mut Ipv4Packet,
    meta: &Meta,
    addr: Ipv4Addr,
    port: Option<u16>,
    range: Option<PortRange>,
    kind: &'static str,
) {
    let mut port = port;
    if let Some(e) = meta.ct.and_then(|r| entry(sim, ns, r)) {
        let mut reply = e.reply;
        reply.dst = addr;
        if let Some(port) = port {
            reply.dport = port;
        }
        let table = &sim.world.netns[ns].conntrack;
        // nf_conntrack_tuple_taken: taken by another connection (one with the same
        // original tuple is this flow again, and clash resolution deals with it).
        let taken = |t: &Tuple| {
            table
                .taken(t)
                .is_some_and(|j| table.entries[j].orig != e.orig)
        };
        if taken(&reply) {
            if let Some(cur) = port {
                port = free_port(range, cur, |q| {
                    let mut t = reply;
                    t.dport = q;
                    taken(&t)
                })
                .or(port);
            }
        }
    }
    if let Some(e) = meta.ct.and_then(|r| entry_mut(sim, ns, r)) {
        e.reply.dst = addr;
        if let Some(port) = port {
            e.reply.dport = port;
        }
    }
    set_src(sim, kind, p, addr, port);
}

/// The first port of the range that `taken` does not refuse (`nf_nat_l4proto_unique_tuple`;
/// the kernel starts from a random offset, hopsim from the start of the range). Without a
/// range, the range of the packet's port: 1-511, 600-1023 or 1024-65535.
fn free_port(range: Option<PortRange>, cur: u16, taken: impl Fn(u16) -> bool) -> Option<u16> {
    let r = range.unwrap_or(match cur {
        0..=511 => PortRange { lo: 1, hi: 511 },
        512..=1023 => PortRange { lo: 600, hi: 1023 },
        _ => PortRange {
            lo: 1024,
            hi: 65535,
        },
    });
    (r.lo..=r.hi).find(|&q| !taken(q))
}

/// `__nf_conntrack_confirm`, at the last hook: a new connection goes into the table, unless
/// one of its tuples is already there (a clash). A UDP packet then joins the entry in the
/// table when that entry is the same flow both ways or has no NAT binding
/// (`__nf_ct_resolve_clash`); otherwise, and always for TCP and ICMP (no `allow_clash`),
/// the packet is dropped (`insert_failed`).
fn confirm(sim: &mut Sim, ns: NsId, meta: &mut Meta) -> Verdict {
    let Some(CtRef::Unconfirmed(k)) = meta.ct else {
        return Verdict::Accept;
    };
    // Only the original direction confirms (an ICMP error attached to the connection
    // does not).
    if meta.related || meta.dir != Some(Dir::Original) {
        return Verdict::Accept;
    }
    let Some(u) = sim.unconfirmed.get(k) else {
        return Verdict::Accept;
    };
    if let Some(i) = u.inserted {
        meta.ct = Some(CtRef::Table(i));
        return Verdict::Accept;
    }
    let e = u.entry.clone();
    let table = &sim.world.netns[ns].conntrack;
    let clash = table
        .taken(&e.orig)
        .map(|j| (j, "original"))
        .or_else(|| table.taken(&e.reply).map(|j| (j, "reply")));
    let Some((j, which)) = clash else {
        let i = sim.world.netns[ns].conntrack.insert(e);
        sim.unconfirmed[k].inserted = Some(i);
        meta.ct = Some(CtRef::Table(i));
        return Verdict::Accept;
    };
    let other = table.entries[j].clone();
    let same = other.orig == e.orig && other.reply == e.reply;
    if e.orig.proto == 17 && (same || !nat_loaded(sim, ns)) {
        if sim.tracing() {
            sim.step(Step::Conntrack {
                detail: format!(
                    "clash on confirm: {} is already tracked; the packet joins that entry",
                    e.orig
                )
                .into(),
            });
        }
        meta.ct = Some(CtRef::Table(j));
        return Verdict::Accept;
    }
    let why = format!(
        "nf_conntrack_confirm: the {which} tuple of {} is already taken by {} (insert_failed)",
        e.orig, other.orig
    );
    if sim.tracing() {
        sim.step(Step::Conntrack {
            detail: why.clone().into(),
        });
    }
    sim.last_nf_cause = Some(why);
    Verdict::Drop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_gives_the_first_free_one_of_its_class_or_of_the_range() {
        assert_eq!(free_port(None, 40000, |_| false), Some(1024));
        assert_eq!(free_port(None, 40000, |q| q < 1030), Some(1030));
        assert_eq!(free_port(None, 700, |_| false), Some(600));
        assert_eq!(free_port(None, 80, |q| q == 1), Some(2));
        let r = PortRange { lo: 5000, hi: 5001 };
        assert_eq!(free_port(Some(r), 80, |q| q == 5000), Some(5001));
        assert_eq!(free_port(Some(r), 80, |_| true), None);
    }
}
