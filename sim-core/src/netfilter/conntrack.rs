//! Connection tracking (`nf_conntrack`): each connection is an entry with an original and
//! a reply tuple. NAT is recorded by changing the reply tuple (DNAT: the reply comes from
//! the new destination; SNAT: the reply goes to the new source), and every later packet of
//! the connection, either way, is translated from the entry, never by the nat table again.

use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet};
use serde::Serialize;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// A connection tuple. For ICMP the two port fields hold what the kernel's tuple holds in
/// the same place (`icmp_pkt_to_tuple`): the echo identifier in the source half
/// (`src.u.icmp.id`) and the type and code in the destination half (`dst.u.icmp.type`,
/// `dst.u.icmp.code`), so that an echo request and its reply have distinct tuples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Tuple {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// IP protocol.
    pub proto: u8,
    /// Source port (ICMP: the echo identifier).
    pub sport: u16,
    /// Destination port (ICMP: type in the high byte, code in the low byte; see
    /// [`Tuple::icmp_type`]).
    pub dport: u16,
}

/// In words, as traces name a connection: `tcp 10.0.0.1:40000 -> 10.0.0.2:80`,
/// `icmp echo reply 10.0.0.2 -> 10.0.0.1 id 7`.
impl std::fmt::Display for Tuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = self;
        match t.proto {
            1 if t.icmp_type() == 0 => {
                write!(f, "icmp echo reply {} -> {} id {}", t.src, t.dst, t.sport)
            }
            1 => write!(f, "icmp {} -> {} id {}", t.src, t.dst, t.sport),
            6 => write!(f, "tcp {}:{} -> {}:{}", t.src, t.sport, t.dst, t.dport),
            17 => write!(f, "udp {}:{} -> {}:{}", t.src, t.sport, t.dst, t.dport),
            n => write!(f, "protocol {n} {} -> {}", t.src, t.dst),
        }
    }
}

/// ICMP echo request.
const ICMP_ECHO: u8 = 8;
/// ICMP echo reply.
const ICMP_ECHOREPLY: u8 = 0;

impl Tuple {
    /// The tuple of a packet, if conntrack can track it as a connection of its own (TCP,
    /// UDP, ICMP echo, and any other protocol by its addresses alone: the generic tracker,
    /// `nf_conntrack_generic`, which is how an IPIP packet (protocol 4) is tracked). Other
    /// ICMP messages are errors about a connection (RELATED), not connections.
    pub fn of(p: &Ipv4Packet) -> Option<Tuple> {
        let (proto, sport, dport) = match &p.payload {
            IpPayload::Tcp(t) => (6, t.sport, t.dport),
            IpPayload::Udp(u) => (17, u.sport, u.dport),
            IpPayload::Icmp(IcmpRepr::EchoRequest { ident, .. }) => {
                (1, *ident, icmp_key(ICMP_ECHO, 0))
            }
            IpPayload::Icmp(IcmpRepr::EchoReply { ident, .. }) => {
                (1, *ident, icmp_key(ICMP_ECHOREPLY, 0))
            }
            IpPayload::Icmp(_) => return None,
            IpPayload::Ipip(_) | IpPayload::Raw { .. } => (p.protocol(), 0, 0),
        };
        Some(Tuple {
            src: p.header.src,
            dst: p.header.dst,
            proto,
            sport,
            dport,
        })
    }

    /// The tuple of the answer (`nf_ct_invert_tuple`): addresses and ports swapped; for
    /// ICMP the identifier stays and the type becomes its answer's
    /// (`nf_conntrack_invert_icmp_tuple`: echo request 8 <-> echo reply 0).
    pub fn invert(&self) -> Tuple {
        if self.proto == 1 {
            let ty = match self.icmp_type() {
                ICMP_ECHO => ICMP_ECHOREPLY,
                ICMP_ECHOREPLY => ICMP_ECHO,
                other => other,
            };
            return Tuple {
                src: self.dst,
                dst: self.src,
                proto: 1,
                sport: self.sport,
                dport: icmp_key(ty, self.icmp_code()),
            };
        }
        Tuple {
            src: self.dst,
            dst: self.src,
            proto: self.proto,
            sport: self.dport,
            dport: self.sport,
        }
    }

    /// ICMP type (for an ICMP tuple).
    pub fn icmp_type(&self) -> u8 {
        self.dport.to_be_bytes()[0]
    }

    /// ICMP code (for an ICMP tuple).
    pub fn icmp_code(&self) -> u8 {
        self.dport.to_be_bytes()[1]
    }

    /// Whether a packet with this tuple may start a connection: for ICMP only a request
    /// (`nf_conntrack_icmp_packet`'s `valid_new`: an echo reply without its request is
    /// INVALID); any TCP, UDP or other packet.
    pub fn may_start(&self) -> bool {
        self.proto != 1 || self.icmp_type() == ICMP_ECHO
    }
}

fn icmp_key(ty: u8, code: u8) -> u16 {
    u16::from_be_bytes([ty, code])
}

/// TCP connection-tracking states (`tcp_conntrack_names`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TcpCtState {
    /// SYN seen.
    SynSent,
    /// SYN-ACK seen.
    SynRecv,
    /// Handshake completed.
    Established,
    /// FIN seen one way.
    FinWait,
    /// FIN answered.
    CloseWait,
    /// Last ACK pending.
    LastAck,
    /// Closed both ways.
    TimeWait,
    /// Reset.
    Close,
}

impl TcpCtState {
    /// The name `conntrack -L` prints.
    pub fn name(self) -> &'static str {
        match self {
            TcpCtState::SynSent => "SYN_SENT",
            TcpCtState::SynRecv => "SYN_RECV",
            TcpCtState::Established => "ESTABLISHED",
            TcpCtState::FinWait => "FIN_WAIT",
            TcpCtState::CloseWait => "CLOSE_WAIT",
            TcpCtState::LastAck => "LAST_ACK",
            TcpCtState::TimeWait => "TIME_WAIT",
            TcpCtState::Close => "CLOSE",
        }
    }

    /// The default timeout in seconds (`nf_conntrack_tcp_timeout_*`).
    pub fn timeout(self) -> u64 {
        match self {
            TcpCtState::SynSent | TcpCtState::TimeWait => 120,
            TcpCtState::SynRecv => 60,
            TcpCtState::Established => 432_000,
            TcpCtState::FinWait => 120,
            TcpCtState::CloseWait => 60,
            TcpCtState::LastAck => 30,
            TcpCtState::Close => 10,
        }
    }
}

/// One tracked connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CtEntry {
    /// Original direction.
    pub orig: Tuple,
    /// Reply direction (NAT shows here).
    pub reply: Tuple,
    /// TCP state.
    pub tcp: Option<TcpCtState>,
    /// A reply was seen.
    pub seen_reply: bool,
    /// ASSURED.
    pub assured: bool,
    /// Inserted in the table (the first packet left the box or was delivered).
    pub confirmed: bool,
    /// The connection's mark.
    pub mark: u32,
    /// Simulated time of the last packet, in µs.
    pub last_us: u64,
    /// The destination translation is set up (`IPS_DST_NAT_DONE`: the nat table ran at
    /// PREROUTING or OUTPUT for the first packet).
    #[serde(skip)]
    pub nat_dst_done: bool,
    /// The source translation is set up (`IPS_SRC_NAT_DONE`: POSTROUTING or INPUT).
    #[serde(skip)]
    pub nat_src_done: bool,
}

impl CtEntry {
    /// The destination was translated.
    pub fn dnat(&self) -> bool {
        // An ICMP tuple has no destination port (its place holds the type).
        self.reply.src != self.orig.dst
            || (self.orig.proto != 1 && self.reply.sport != self.orig.dport)
    }

    /// The source was translated.
    pub fn snat(&self) -> bool {
        if self.orig.proto == 1 {
            return self.reply.dst != self.orig.src || self.reply.sport != self.orig.sport;
        }
        self.reply.dst != self.orig.src || self.reply.dport != self.orig.sport
    }

    fn timeout_s(&self) -> u64 {
        match (self.orig.proto, self.tcp) {
            (6, Some(s)) => s.timeout(),
            (17, _) if self.assured => 120,
            (17, _) => 30,
            (1, _) => 30,
            // nf_conntrack_generic_timeout
            _ => 600,
        }
    }
}

/// Which way a packet goes relative to its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    /// As the first packet went.
    Original,
    /// The answer.
    Reply,
}

/// The conntrack table of a namespace: the confirmed connections (`nf_conntrack_hash`). A
/// new connection is not in it until its first packet is confirmed (`__nf_conntrack_confirm`
/// at the last hook: POSTROUTING, or INPUT for local delivery); until then the entry travels
/// with its packet and is freed with it if the packet is dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Conntrack {
    /// Entries, oldest first.
    pub entries: Vec<CtEntry>,
}

impl Conntrack {
    /// The entry a tuple is taken by, if any (`nf_conntrack_tuple_taken`).
    pub fn taken(&self, t: &Tuple) -> Option<usize> {
        self.lookup(t).map(|(i, _)| i)
    }

    /// Find the connection a tuple belongs to.
    pub fn lookup(&self, t: &Tuple) -> Option<(usize, Dir)> {
        self.entries.iter().enumerate().find_map(|(i, e)| {
            if e.orig == *t {
                Some((i, Dir::Original))
            } else if e.reply == *t {
                Some((i, Dir::Reply))
            } else {
                None
            }
        })
    }

    /// A new, unconfirmed entry for the first packet of a connection (`init_conntrack`):
    /// not in the table; [`Conntrack::insert`] puts it there when it is confirmed.
    pub fn new_entry(t: Tuple, now_us: u64) -> CtEntry {
        CtEntry {
            orig: t,
            reply: t.invert(),
            tcp: if t.proto == 6 {
                Some(TcpCtState::SynSent)
            } else {
                None
            },
            seen_reply: false,
            assured: false,
            confirmed: false,
            mark: 0,
            last_us: now_us,
            nat_dst_done: false,
            nat_src_done: false,
        }
    }

    /// Confirm an entry: insert it in the table; returns its index.
    pub fn insert(&mut self, mut e: CtEntry) -> usize {
        e.confirmed = true;
        self.entries.push(e);
        self.entries.len() - 1
    }

    /// `conntrack -L` at simulated time `now_us`.
    pub fn render(&self, now_us: u64) -> String {
        let mut out = String::new();
        for e in self.entries.iter().filter(|e| e.confirmed) {
            let (name, num) = match e.orig.proto {
                6 => ("tcp", 6),
                17 => ("udp", 17),
                1 => ("icmp", 1),
                n => ("unknown", n),
            };
            let elapsed = now_us.saturating_sub(e.last_us) / 1_000_000;
            let left = e.timeout_s().saturating_sub(elapsed);
            let _ = write!(out, "{name:<8} {num} {left} ");
            if let Some(s) = e.tcp {
                let _ = write!(out, "{} ", s.name());
            }
            let tuple = |t: &Tuple| -> String {
                if t.proto == 1 {
                    format!(
                        "src={} dst={} type={} code={} id={}",
                        t.src,
                        t.dst,
                        t.icmp_type(),
                        t.icmp_code(),
                        t.sport
                    )
                } else if !matches!(t.proto, 6 | 17) {
                    format!("src={} dst={}", t.src, t.dst)
                } else {
                    format!(
                        "src={} dst={} sport={} dport={}",
                        t.src, t.dst, t.sport, t.dport
                    )
                }
            };
            let _ = write!(out, "{} ", tuple(&e.orig));
            if !e.seen_reply {
                out.push_str("[UNREPLIED] ");
            }
            let _ = write!(out, "{} ", tuple(&e.reply));
            if e.assured {
                out.push_str("[ASSURED] ");
            }
            let _ = writeln!(out, "mark={} use=1", e.mark);
        }
        let n = self.entries.iter().filter(|e| e.confirmed).count();
        let _ = writeln!(
            out,
            "conntrack v1.4.7 (conntrack-tools): {n} flow entries have been shown."
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn icmp(src: [u8; 4], dst: [u8; 4], ty: u8, id: u16) -> Tuple {
        Tuple {
            src: src.into(),
            dst: dst.into(),
            proto: 1,
            sport: id,
            dport: icmp_key(ty, 0),
        }
    }

    #[test]
    fn an_icmp_echo_tuple_inverts_to_the_reply_type_with_the_same_id() {
        let req = icmp([10, 0, 0, 1], [10, 0, 0, 1], ICMP_ECHO, 7);
        let rep = req.invert();
        assert_eq!(rep, icmp([10, 0, 0, 1], [10, 0, 0, 1], ICMP_ECHOREPLY, 7));
        assert_ne!(req, rep, "an echo to ourselves has two tuples");
        assert_eq!(rep.invert(), req);
        assert_eq!((rep.icmp_type(), rep.icmp_code(), rep.sport), (0, 0, 7));
    }

    #[test]
    fn only_a_request_starts_an_icmp_connection() {
        assert!(icmp([1, 1, 1, 1], [2, 2, 2, 2], ICMP_ECHO, 1).may_start());
        assert!(!icmp([1, 1, 1, 1], [2, 2, 2, 2], ICMP_ECHOREPLY, 1).may_start());
    }

    #[test]
    fn icmp_nat_is_seen_in_the_addresses_and_the_id_not_the_type() {
        let t = icmp([10, 0, 0, 1], [10, 0, 0, 2], ICMP_ECHO, 7);
        let mut e = Conntrack::new_entry(t, 0);
        assert!(!e.dnat() && !e.snat());
        e.reply.src = [10, 0, 0, 9].into();
        assert!(e.dnat() && !e.snat());
        e.reply.sport = 8;
        assert!(e.snat());
    }

    #[test]
    fn the_table_holds_only_confirmed_entries_and_renders_icmp_as_the_kernel() {
        let mut ct = Conntrack::default();
        let t = icmp([10, 0, 0, 1], [10, 0, 0, 1], ICMP_ECHO, 5);
        let mut e = Conntrack::new_entry(t, 0);
        e.seen_reply = true;
        assert_eq!(ct.taken(&t), None);
        let i = ct.insert(e);
        assert_eq!(ct.taken(&t.invert()), Some(i));
        assert_eq!(ct.lookup(&t.invert()), Some((i, Dir::Reply)));
        assert_eq!(
            ct.render(0),
            "icmp     1 30 src=10.0.0.1 dst=10.0.0.1 type=8 code=0 id=5 src=10.0.0.1 \
             dst=10.0.0.1 type=0 code=0 id=5 mark=0 use=1\n\
             conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n"
        );
    }
}
