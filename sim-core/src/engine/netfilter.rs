//! The netfilter hooks as the IPv4 path calls them (`NF_HOOK`): at each hook, the tables
//! in priority order (raw, conntrack, mangle, nat, filter), connection tracking, and the
//! address translation the nat table or an existing connection asks for. A namespace where
//! nobody configured iptables skips all of it, as the kernel does (no tables, no hooks,
//! no conntrack).

use super::Sim;
use crate::model::{IfId, NsId, World};
use crate::netfilter::conntrack::{Dir, TcpCtState, Tuple};
use crate::netfilter::eval::{evaluate, trace_lines, CtInfo, EvalCtx, TableVerdict};
use crate::netfilter::{AddrType, Hook, NatRange, RejectWith, TableName};
use crate::trace::Step;
use crate::wire::{IpPayload, Ipv4Packet};
use std::net::Ipv4Addr;

/// What travels with a packet inside one namespace (the skb's `_nfct`, `mark`, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// The conntrack entry.
    pub ct: Option<usize>,
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
    } else if a.is_broadcast()
        || world.netns[ns]
            .routes
            .iter()
            .any(|r| r.rtype == crate::model::RouteType::Broadcast && r.dst.contains(&a))
    {
        AddrType::Broadcast
    } else {
        AddrType::Unicast
    }
}

/// Whether a namespace runs netfilter at all.
pub(crate) fn active(world: &World, ns: NsId) -> bool {
    world.netns[ns].netfilter.is_configured()
}

fn ct_info(world: &World, ns: NsId, meta: &Meta) -> CtInfo {
    let mut ci = CtInfo {
        untracked: meta.untracked,
        ..CtInfo::default()
    };
    if let (Some(i), Some(dir)) = (meta.ct, meta.dir) {
        if let Some(e) = world.netns[ns].conntrack.entries.get(i) {
            ci.related = meta.related;
            ci.new = !meta.related && (meta.new || (!e.seen_reply && dir == Dir::Original));
            ci.established = !ci.new && !meta.related;
            ci.dnat = e.dnat();
            ci.snat = e.snat();
        }
    } else if !meta.untracked && world.netns[ns].netfilter.needs_conntrack() {
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
    let exists = sim.world.netns[ns]
        .netfilter
        .table(t)
        .chains
        .get(hook.chain())
        .is_some_and(|c| !c.rules.is_empty() || c.policy != Some(crate::netfilter::Policy::Accept));
    if !exists {
        return TableVerdict::Accept;
    }
    let name = |d: Option<IfId>| d.map(|d| sim.world.ifname(d));
    let (in_name, out_name) = (name(in_dev), name(out_dev));
    let (pin, pout) = (name(phys.physdev_in), name(phys.physdev_out));
    let ct = ct_info(&sim.world, ns, meta);
    let world = &sim.world;
    let at = |a: Ipv4Addr, dev: Option<&str>| addr_type(world, ns, a, dev);
    let ctx = EvalCtx {
        hook,
        packet,
        in_dev: in_name.as_deref(),
        out_dev: out_name.as_deref(),
        physdev_in: pin.as_deref(),
        physdev_out: pout.as_deref(),
        ct,
        mark: meta.mark,
        addr_type: &at,
    };
    let run = evaluate(
        &world.netns[ns].netfilter,
        t,
        &ctx,
        sim.chance.as_mut(),
        &mut sim.nth,
    );
    // The counters go beside the (shared) table: counting never copies it.
    let len = u64::from(packet.total_len() as u32);
    sim.world.netns[ns].netfilter.count(t, &run.visits, len);
    meta.mark = run.mark;
    if run.notrack {
        meta.untracked = true;
    }
    let verdict = match &run.verdict {
        TableVerdict::Accept => "ACCEPT".to_string(),
        TableVerdict::Drop => "DROP".to_string(),
        TableVerdict::Reject { with } => format!("REJECT ({})", with.name()),
        TableVerdict::Dnat { to } => format!("DNAT to {}", nat_range(to)),
        TableVerdict::Snat { to } => format!("SNAT to {}", nat_range(to)),
        TableVerdict::Masquerade { .. } => "MASQUERADE".to_string(),
    };
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
    let mut log = run.log.clone();
    if meta.traced || run.trace {
        log.extend(trace_lines(&run));
    }
    sim.step(Step::Netfilter {
        hook: hook.chain().to_string(),
        table: t.name().to_string(),
        visits: run.visits,
        verdict,
    });
    if run.trace {
        meta.traced = true;
    }
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

fn endpoint(p: &Ipv4Packet, src: bool) -> String {
    let (a, port) = if src {
        (p.header.src, p.payload.ports().map(|x| x.0))
    } else {
        (p.header.dst, p.payload.ports().map(|x| x.1))
    };
    match port {
        Some(port) => format!("{a}:{port}"),
        None => a.to_string(),
    }
}

fn flow(p: &Ipv4Packet) -> String {
    format!("{} -> {}", endpoint(p, true), endpoint(p, false))
}

/// Rewrite one end (source or destination, address and port) of a packet; record the
/// change as before/after.
fn rewrite(
    sim: &mut Sim,
    kind: &str,
    p: &mut Ipv4Packet,
    source: bool,
    addr: Ipv4Addr,
    port: Option<u16>,
) {
    let before = flow(p);
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
    let after = flow(p);
    if before != after {
        sim.step(Step::Nat {
            kind: kind.into(),
            before,
            after,
        });
    }
}

/// Rewrite the destination (and port); record the change.
fn set_dst(sim: &mut Sim, kind: &str, p: &mut Ipv4Packet, addr: Ipv4Addr, port: Option<u16>) {
    rewrite(sim, kind, p, false, addr, port);
}

/// Rewrite the source (and port); record the change.
fn set_src(sim: &mut Sim, kind: &str, p: &mut Ipv4Packet, addr: Ipv4Addr, port: Option<u16>) {
    rewrite(sim, kind, p, true, addr, port);
}

/// `nf_conntrack_in`: find or create the packet's connection, update its state.
fn conntrack_in(sim: &mut Sim, ns: NsId, p: &Ipv4Packet, meta: &mut Meta) {
    if meta.untracked || meta.ct.is_some() || !sim.world.netns[ns].netfilter.needs_conntrack() {
        return;
    }
    let Some(t) = Tuple::of(p) else {
        related_in(sim, ns, p, meta);
        return;
    };
    let now = sim.now();
    let ct = &mut sim.world.netns[ns].conntrack;
    let (i, dir, new) = match ct.lookup(&t).filter(|(i, _)| ct.entries[*i].confirmed) {
        Some((i, d)) => (i, d, false),
        None => (ct.create(t, now), Dir::Original, true),
    };
    let e = &mut ct.entries[i];
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
    let word = if new {
        format!("new connection {}", describe_tuple(&t))
    } else {
        format!(
            "{} direction of {}{}",
            if dir == Dir::Original {
                "original"
            } else {
                "reply"
            },
            describe_tuple(&e.orig),
            e.tcp.map(|s| format!(", {}", s.name())).unwrap_or_default()
        )
    };
    meta.ct = Some(i);
    meta.dir = Some(dir);
    meta.new = new;
    sim.step(Step::Conntrack { detail: word });
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
    // connection whose tuple is the quoted one inverted, in that tuple's direction. The
    // newest entry wins: a packet REJECTed before its connection was confirmed still has
    // its (unconfirmed) entry attached.
    let ct = &sim.world.netns[ns].conntrack;
    let inv = t.invert();
    let found = ct.entries.iter().enumerate().rev().find_map(|(i, e)| {
        if e.reply == inv {
            Some((i, Dir::Reply))
        } else if e.orig == inv {
            Some((i, Dir::Original))
        } else {
            None
        }
    });
    let Some((i, d)) = found else {
        return;
    };
    let orig = ct.entries[i].orig;
    meta.ct = Some(i);
    meta.dir = Some(d);
    meta.related = true;
    sim.step(Step::Conntrack {
        detail: format!("ICMP error RELATED to {}", describe_tuple(&orig)),
    });
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

fn describe_tuple(t: &Tuple) -> String {
    match t.proto {
        1 => format!("icmp {} -> {} id {}", t.src, t.dst, t.sport),
        6 => format!("tcp {}:{} -> {}:{}", t.src, t.sport, t.dst, t.dport),
        17 => format!("udp {}:{} -> {}:{}", t.src, t.sport, t.dst, t.dport),
        n => format!("protocol {n} {} -> {}", t.src, t.dst),
    }
}

/// Destination manipulation at PREROUTING/OUTPUT for a packet of a known connection.
fn manip_dst_from_ct(sim: &mut Sim, ns: NsId, p: &mut Ipv4Packet, meta: &Meta) {
    let (Some(i), Some(dir)) = (meta.ct, meta.dir) else {
        return;
    };
    let Some(e) = sim.world.netns[ns].conntrack.entries.get(i).cloned() else {
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
    let (Some(i), Some(dir)) = (meta.ct, meta.dir) else {
        return;
    };
    let Some(e) = sim.world.netns[ns].conntrack.entries.get(i).cloned() else {
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
        if t == TableName::Nat && !meta.new {
            continue;
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
    if let Some(i) = meta.ct {
        if let Some(e) = sim.world.netns[ns].conntrack.entries.get_mut(i) {
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
        if t == TableName::Nat && !meta.new {
            continue;
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
        if let TableVerdict::Snat { to } = v {
            let port = nat_port(to.ports, p.payload.ports().map(|(s, _)| s));
            apply_snat(sim, ns, p, meta, to.addr_lo, port, "SNAT");
        }
    }
    if !meta.new {
        manip_src_from_ct(sim, ns, p, meta);
    }
    confirm(sim, ns, meta);
    Verdict::Accept
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
        if t == TableName::Nat && !meta.new {
            continue;
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
        if t == TableName::Nat && !meta.new {
            continue;
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
        let sport = p.payload.ports().map(|(s, _)| s);
        let to_src = match v {
            TableVerdict::Snat { to } => Some((to.addr_lo, nat_port(to.ports, sport), "SNAT")),
            TableVerdict::Masquerade { to_ports } => {
                // The address of the output device, chosen as for a locally sent packet.
                let a = sim
                    .world
                    .select_src(ns, Some(out_dev), p.header.dst)
                    .unwrap_or(Ipv4Addr::UNSPECIFIED);
                Some((a, nat_port(to_ports, sport), "MASQUERADE"))
            }
            _ => None,
        };
        if let Some((addr, port, kind)) = to_src {
            apply_snat(sim, ns, p, meta, addr, port, kind);
        }
    }
    if !meta.new {
        manip_src_from_ct(sim, ns, p, meta);
    }
    confirm(sim, ns, meta);
    Verdict::Accept
}

/// Source NAT of a new connection: the reply tuple comes back to the new source.
fn apply_snat(
    sim: &mut Sim,
    ns: NsId,
    p: &mut Ipv4Packet,
    meta: &Meta,
    addr: Ipv4Addr,
    port: Option<u16>,
    kind: &str,
) {
    if let Some(i) = meta.ct {
        if let Some(e) = sim.world.netns[ns].conntrack.entries.get_mut(i) {
            e.reply.dst = addr;
            if let Some(port) = port {
                e.reply.dport = port;
            }
        }
    }
    set_src(sim, kind, p, addr, port);
}

fn confirm(sim: &mut Sim, ns: NsId, meta: &Meta) {
    if let Some(i) = meta.ct {
        if let Some(e) = sim.world.netns[ns].conntrack.entries.get_mut(i) {
            e.confirmed = true;
        }
    }
}
