//! DNS messages (RFC 1035, EDNS from RFC 6891, cookies from RFC 7873), built and parsed
//! with the `domain` crate: the engine holds a [`DnsMessage`] and the bytes on the wire
//! are what `domain` composes, so a capture shows real queries and answers. Contract:
//! [`DnsMessage::emit`] produces a message that [`DnsMessage::parse`] reads back to the
//! same representation (names compared without case); `parse` never panics.

use domain::base::iana::{Class, OptionCode, Rcode, Rtype};
use domain::base::message_builder::{AdditionalBuilder, MessageBuilder, StaticCompressor};
use domain::base::name::{Name, ToName};
use domain::base::opt::UnknownOptData;
use domain::base::RecordData;
use domain::base::{Message, ParsedName, Serial, Ttl};
use domain::rdata::{Aaaa, AllRecordData, Cname, Ptr, Soa, A};
use serde::Serialize;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Record types the model answers and asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum QType {
    /// IPv4 address (1).
    A,
    /// IPv6 address (28).
    Aaaa,
    /// Canonical name (5).
    Cname,
    /// Pointer, for reverse lookups (12).
    Ptr,
    /// Start of authority (6).
    Soa,
    /// Any other type, by number.
    Other(u16),
}

impl QType {
    /// The type's number.
    pub fn number(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Aaaa => 28,
            QType::Cname => 5,
            QType::Ptr => 12,
            QType::Soa => 6,
            QType::Other(n) => n,
        }
    }

    /// The type of a number.
    pub fn from_number(n: u16) -> QType {
        match n {
            1 => QType::A,
            28 => QType::Aaaa,
            5 => QType::Cname,
            12 => QType::Ptr,
            6 => QType::Soa,
            n => QType::Other(n),
        }
    }

    /// Parse `A`, `AAAA`, `CNAME`, `PTR` (any case), as `dig`/`--type` take them.
    pub fn parse(s: &str) -> Option<QType> {
        match s.to_ascii_uppercase().as_str() {
            "A" => Some(QType::A),
            "AAAA" => Some(QType::Aaaa),
            "CNAME" => Some(QType::Cname),
            "PTR" => Some(QType::Ptr),
            "SOA" => Some(QType::Soa),
            _ => None,
        }
    }
}

impl fmt::Display for QType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QType::A => f.write_str("A"),
            QType::Aaaa => f.write_str("AAAA"),
            QType::Cname => f.write_str("CNAME"),
            QType::Ptr => f.write_str("PTR"),
            QType::Soa => f.write_str("SOA"),
            QType::Other(n) => write!(f, "TYPE{n}"),
        }
    }
}

/// A record's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RData {
    /// An IPv4 address.
    A {
        /// The address.
        addr: Ipv4Addr,
    },
    /// An IPv6 address.
    Aaaa {
        /// The address.
        addr: Ipv6Addr,
    },
    /// An alias.
    Cname {
        /// The canonical name (absolute, without the final dot).
        target: String,
    },
    /// A reverse-lookup answer.
    Ptr {
        /// The name (absolute, without the final dot).
        target: String,
    },
    /// A zone's start of authority (what NXDOMAIN answers carry).
    Soa {
        /// Primary name server.
        mname: String,
        /// Mailbox of the responsible person.
        rname: String,
        /// Serial.
        serial: u32,
        /// Refresh, retry, expire, minimum (negative TTL), in seconds.
        times: [u32; 4],
    },
}

impl RData {
    /// The record type of this data.
    pub fn qtype(&self) -> QType {
        match self {
            RData::A { .. } => QType::A,
            RData::Aaaa { .. } => QType::Aaaa,
            RData::Cname { .. } => QType::Cname,
            RData::Ptr { .. } => QType::Ptr,
            RData::Soa { .. } => QType::Soa,
        }
    }
}

impl fmt::Display for RData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A { addr } => write!(f, "{addr}"),
            RData::Aaaa { addr } => write!(f, "{addr}"),
            RData::Cname { target } | RData::Ptr { target } => write!(f, "{target}."),
            RData::Soa {
                mname,
                rname,
                serial,
                times,
            } => write!(
                f,
                "{mname}. {rname}. {serial} {} {} {} {}",
                times[0], times[1], times[2], times[3]
            ),
        }
    }
}

/// A resource record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// Owner name (absolute, without the final dot).
    pub name: String,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The data.
    pub data: RData,
}

/// The EDNS OPT pseudo-record (RFC 6891).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Edns {
    /// The requestor's UDP payload size.
    pub udp_size: u16,
    /// The COOKIE option's bytes (RFC 7873), if present.
    pub cookie: Option<Vec<u8>>,
}

/// Response codes the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DnsRcode {
    /// No error.
    NoError,
    /// The server failed.
    ServFail,
    /// The name does not exist.
    NxDomain,
    /// Refused.
    Refused,
    /// Any other code.
    Other(u8),
}

impl DnsRcode {
    fn to_int(self) -> u8 {
        match self {
            DnsRcode::NoError => 0,
            DnsRcode::ServFail => 2,
            DnsRcode::NxDomain => 3,
            DnsRcode::Refused => 5,
            DnsRcode::Other(n) => n,
        }
    }

    fn from_int(n: u8) -> DnsRcode {
        match n {
            0 => DnsRcode::NoError,
            2 => DnsRcode::ServFail,
            3 => DnsRcode::NxDomain,
            5 => DnsRcode::Refused,
            n => DnsRcode::Other(n),
        }
    }

    /// The name `dig` prints (`NOERROR`, `NXDOMAIN`).
    pub fn dig_name(self) -> String {
        match self {
            DnsRcode::NoError => "NOERROR".into(),
            DnsRcode::ServFail => "SERVFAIL".into(),
            DnsRcode::NxDomain => "NXDOMAIN".into(),
            DnsRcode::Refused => "REFUSED".into(),
            DnsRcode::Other(n) => format!("RESERVED{n}"),
        }
    }
}

/// A DNS message as the engine sees it: one question, answer and authority records, and
/// EDNS. `compress` is how it is written: with name compression (BIND, most servers) or
/// without (CoreDNS, whose replies are written uncompressed when they fit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// A response (QR).
    pub response: bool,
    /// Authoritative answer (AA).
    pub aa: bool,
    /// Recursion desired (RD).
    pub rd: bool,
    /// Recursion available (RA).
    pub ra: bool,
    /// Response code.
    pub rcode: DnsRcode,
    /// The question: name (absolute, without the final dot) and type.
    pub question: Option<(String, QType)>,
    /// Answer records.
    pub answers: Vec<DnsRecord>,
    /// Authority records.
    pub authority: Vec<DnsRecord>,
    /// The OPT record.
    pub edns: Option<Edns>,
    /// Whether names are compressed when written.
    #[serde(skip)]
    pub compress: bool,
}

/// Why bytes are not a DNS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsError(pub String);

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DnsError {}

fn name(s: &str) -> Result<Name<Vec<u8>>, DnsError> {
    let abs = if s.is_empty() || s == "." {
        ".".to_string()
    } else {
        format!("{}.", s.trim_end_matches('.'))
    };
    Name::from_str(&abs).map_err(|e| DnsError(format!("bad name {s:?}: {e}")))
}

fn text_of<N: ToName>(n: &N) -> String {
    let s = n.to_name::<Vec<u8>>().to_string();
    s.trim_end_matches('.').to_string()
}

impl DnsMessage {
    /// A query: RD set, as stub resolvers send it.
    pub fn query(id: u16, qname: &str, qtype: QType) -> DnsMessage {
        DnsMessage {
            id,
            response: false,
            aa: false,
            rd: true,
            ra: false,
            rcode: DnsRcode::NoError,
            question: Some((qname.trim_end_matches('.').to_string(), qtype)),
            answers: Vec::new(),
            authority: Vec::new(),
            edns: None,
            compress: true,
        }
    }

    /// The response to this query, with no records yet: same id, question and RD.
    pub fn response_to(&self, rcode: DnsRcode) -> DnsMessage {
        DnsMessage {
            id: self.id,
            response: true,
            aa: false,
            rd: self.rd,
            ra: true,
            rcode,
            question: self.question.clone(),
            answers: Vec::new(),
            authority: Vec::new(),
            edns: self.edns.as_ref().map(|e| Edns {
                udp_size: e.udp_size,
                cookie: None,
            }),
            compress: true,
        }
    }

    /// The bytes on the wire.
    pub fn emit(&self) -> Vec<u8> {
        let out = if self.compress {
            self.compose(MessageBuilder::from_target(StaticCompressor::new(Vec::new())).ok())
                .map(StaticCompressor::into_target)
        } else {
            self.compose(MessageBuilder::from_target(Vec::new()).ok())
        };
        // Names are checked when the message is made (the model only holds valid names),
        // so composing cannot fail short of a name over 255 bytes.
        out.unwrap_or_default()
    }

    fn compose<T>(&self, b: Option<MessageBuilder<T>>) -> Option<T>
    where
        T: domain::base::wire::Composer,
    {
        let mut b = b?;
        let h = b.header_mut();
        h.set_id(self.id);
        h.set_qr(self.response);
        h.set_aa(self.aa);
        h.set_rd(self.rd);
        h.set_ra(self.ra);
        h.set_rcode(Rcode::checked_from_int(self.rcode.to_int())?);
        let mut q = b.question();
        if let Some((n, t)) = &self.question {
            q.push((name(n).ok()?, Rtype::from_int(t.number()), Class::IN))
                .ok()?;
        }
        let mut a = q.answer();
        for r in &self.answers {
            push_record(|rec| a.push(rec).ok(), r)?;
        }
        let mut au = a.authority();
        for r in &self.authority {
            push_record(|rec| au.push(rec).ok(), r)?;
        }
        let mut ad: AdditionalBuilder<T> = au.additional();
        if let Some(e) = &self.edns {
            ad.opt(|o| {
                o.set_udp_payload_size(e.udp_size);
                if let Some(c) = &e.cookie {
                    o.push_raw_option(OptionCode::COOKIE, c.len() as u16, |t| t.append_slice(c))?;
                }
                Ok(())
            })
            .ok()?;
        }
        Some(ad.finish())
    }

    /// Parse a message; anything but a well-formed message is an error.
    pub fn parse(bytes: &[u8]) -> Result<DnsMessage, DnsError> {
        let m = Message::from_octets(bytes).map_err(|_| DnsError("short message".into()))?;
        let h = m.header();
        let mut question = None;
        for q in m.question() {
            let q = q.map_err(|e| DnsError(format!("bad question: {e}")))?;
            if question.is_none() {
                question = Some((text_of(q.qname()), QType::from_number(q.qtype().to_int())));
            }
        }
        let records = |sec: Result<domain::base::RecordSection<'_, &[u8]>, _>| {
            let sec = sec.map_err(|e: domain::base::wire::ParseError| {
                DnsError(format!("bad section: {e}"))
            })?;
            let mut out = Vec::new();
            for r in sec.limit_to::<AllRecordData<&[u8], ParsedName<&[u8]>>>() {
                let r = r.map_err(|e| DnsError(format!("bad record: {e}")))?;
                let data = match r.data() {
                    AllRecordData::A(a) => RData::A { addr: a.addr() },
                    AllRecordData::Aaaa(a) => RData::Aaaa { addr: a.addr() },
                    AllRecordData::Cname(c) => RData::Cname {
                        target: text_of(c.cname()),
                    },
                    AllRecordData::Ptr(p) => RData::Ptr {
                        target: text_of(p.ptrdname()),
                    },
                    AllRecordData::Soa(s) => RData::Soa {
                        mname: text_of(s.mname()),
                        rname: text_of(s.rname()),
                        serial: s.serial().into_int(),
                        times: [
                            s.refresh().as_secs(),
                            s.retry().as_secs(),
                            s.expire().as_secs(),
                            s.minimum().as_secs(),
                        ],
                    },
                    AllRecordData::Opt(_) => continue,
                    other => {
                        return Err(DnsError(format!(
                            "record type {} is not modelled",
                            other.rtype()
                        )))
                    }
                };
                out.push(DnsRecord {
                    name: text_of(r.owner()),
                    ttl: r.ttl().as_secs(),
                    data,
                });
            }
            Ok::<_, DnsError>(out)
        };
        let answers = records(m.answer())?;
        let authority = records(m.authority())?;
        let edns = m.opt().map(|o| {
            let cookie = o
                .opt()
                .iter::<UnknownOptData<_>>()
                .filter_map(Result::ok)
                .find(|u| u.code() == OptionCode::COOKIE)
                .map(|u| u.as_slice().to_vec());
            Edns {
                udp_size: o.udp_payload_size(),
                cookie,
            }
        });
        // Whether the sender compressed: composing it again both ways tells.
        let mut msg = DnsMessage {
            id: h.id(),
            response: h.qr(),
            aa: h.aa(),
            rd: h.rd(),
            ra: h.ra(),
            rcode: DnsRcode::from_int(h.rcode().to_int()),
            question,
            answers,
            authority,
            edns,
            compress: true,
        };
        if msg.emit().len() != bytes.len() {
            msg.compress = false;
        }
        Ok(msg)
    }

    /// What tcpdump prints for it after the ports (`20729+ [1au] A? google.com. (51)`,
    /// `20729 1/0/1 A 172.217.26.238 (55)`), `len` being the message's length.
    pub fn summary(&self, len: usize) -> String {
        let ar = usize::from(self.edns.is_some());
        let mut s = format!("{}", self.id);
        if !self.response {
            if self.rd {
                s.push('+');
            }
            if ar > 0 {
                s.push_str(&format!(" [{ar}au]"));
            }
            if let Some((n, t)) = &self.question {
                s.push_str(&format!(" {t}? {n}."));
            }
        } else {
            if self.aa {
                s.push('*');
            }
            if !self.ra {
                s.push('-');
            }
            match self.rcode {
                DnsRcode::NoError => {}
                DnsRcode::NxDomain => s.push_str(" NXDomain"),
                DnsRcode::ServFail => s.push_str(" ServFail"),
                DnsRcode::Refused => s.push_str(" Refused"),
                DnsRcode::Other(n) => s.push_str(&format!(" Resp{n}")),
            }
            s.push_str(&format!(
                " {}/{}/{}",
                self.answers.len(),
                self.authority.len(),
                ar
            ));
            let rr: Vec<String> = self
                .answers
                .iter()
                .map(|r| format!("{} {}", r.data.qtype(), r.data))
                .collect();
            if !rr.is_empty() {
                s.push(' ');
                s.push_str(&rr.join(", "));
            }
        }
        s.push_str(&format!(" ({len})"));
        s
    }
}

fn push_record<F>(mut push: F, r: &DnsRecord) -> Option<()>
where
    F: FnMut(
        domain::base::Record<Name<Vec<u8>>, AllRecordData<Vec<u8>, Name<Vec<u8>>>>,
    ) -> Option<()>,
{
    let data: AllRecordData<Vec<u8>, Name<Vec<u8>>> = match &r.data {
        RData::A { addr } => AllRecordData::A(A::new(*addr)),
        RData::Aaaa { addr } => AllRecordData::Aaaa(Aaaa::new(*addr)),
        RData::Cname { target } => AllRecordData::Cname(Cname::new(name(target).ok()?)),
        RData::Ptr { target } => AllRecordData::Ptr(Ptr::new(name(target).ok()?)),
        RData::Soa {
            mname,
            rname,
            serial,
            times,
        } => AllRecordData::Soa(Soa::new(
            name(mname).ok()?,
            name(rname).ok()?,
            Serial(*serial),
            Ttl::from_secs(times[0]),
            Ttl::from_secs(times[1]),
            Ttl::from_secs(times[2]),
            Ttl::from_secs(times[3]),
        )),
    };
    push(domain::base::Record::new(
        name(&r.name).ok()?,
        Class::IN,
        Ttl::from_secs(r.ttl),
        data,
    ))
}

/// Whether a name is valid for the model (labels of 1-63 bytes, 255 in all).
pub fn valid_name(s: &str) -> bool {
    let t = s.trim_end_matches('.');
    !t.is_empty()
        && t.len() <= 253
        && t.split('.').all(|l| !l.is_empty() && l.len() <= 63)
        && name(t).is_ok()
}

#[cfg(test)]
mod test {
    use super::*;

    /// The document's tcpdump (002, CoreDNS): dig's query for google.com is 51 bytes (12
    /// header, 16 question, 11 OPT, 12 cookie option with an 8-byte client cookie).
    #[test]
    fn dig_query_is_51_bytes() {
        let mut q = DnsMessage::query(20729, "google.com", QType::A);
        q.edns = Some(Edns {
            udp_size: 1232,
            cookie: Some(vec![1, 2, 3, 4, 5, 6, 7, 8]),
        });
        let b = q.emit();
        assert_eq!(b.len(), 51);
        assert_eq!(&b[..2], &20729u16.to_be_bytes());
        let back = DnsMessage::parse(&b).unwrap();
        assert_eq!(back, q);
        assert_eq!(back.summary(b.len()), "20729+ [1au] A? google.com. (51)");
    }

    /// The upstream's answer is 55 bytes compressed (the answer's owner a 2-byte pointer);
    /// CoreDNS's copy to the client is 77: the same, uncompressed (+10), with the client's
    /// cookie echoed (+12).
    #[test]
    fn answer_sizes_of_the_coredns_capture() {
        let mut q = DnsMessage::query(20729, "google.com", QType::A);
        q.edns = Some(Edns {
            udp_size: 1232,
            cookie: Some(vec![9; 8]),
        });
        let mut r = q.response_to(DnsRcode::NoError);
        r.answers.push(DnsRecord {
            name: "google.com".into(),
            ttl: 30,
            data: RData::A {
                addr: Ipv4Addr::new(172, 217, 26, 238),
            },
        });
        let b = r.emit();
        assert_eq!(b.len(), 55);
        assert_eq!(
            DnsMessage::parse(&b).unwrap().summary(b.len()),
            "20729 1/0/1 A 172.217.26.238 (55)"
        );
        r.compress = false;
        r.edns.as_mut().unwrap().cookie = Some(vec![9; 8]);
        let b = r.emit();
        assert_eq!(b.len(), 77);
        let back = DnsMessage::parse(&b).unwrap();
        assert!(!back.compress);
        assert_eq!(back, r);
    }

    #[test]
    fn nxdomain_with_soa_round_trips() {
        let q = DnsMessage::query(7, "nosuch.mycompany.com", QType::Aaaa);
        let mut r = q.response_to(DnsRcode::NxDomain);
        r.aa = true;
        r.authority.push(DnsRecord {
            name: "cluster.local".into(),
            ttl: 30,
            data: RData::Soa {
                mname: "ns.dns.cluster.local".into(),
                rname: "hostmaster.cluster.local".into(),
                serial: 1,
                times: [7200, 1800, 86400, 30],
            },
        });
        let b = r.emit();
        let back = DnsMessage::parse(&b).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            back.summary(b.len()),
            format!("7* NXDomain 0/1/0 ({})", b.len())
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(DnsMessage::parse(b"X").is_err());
        assert!(DnsMessage::parse(&[0; 11]).is_err());
    }

    mod roundtrip {
        use super::super::*;
        use proptest::prelude::*;

        fn name() -> impl Strategy<Value = String> {
            proptest::collection::vec("[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?", 1..5)
                .prop_map(|l| l.join("."))
        }

        fn record() -> impl Strategy<Value = DnsRecord> {
            let data = prop_oneof![
                any::<[u8; 4]>().prop_map(|a| RData::A { addr: a.into() }),
                any::<[u8; 16]>().prop_map(|a| RData::Aaaa { addr: a.into() }),
                name().prop_map(|target| RData::Cname { target }),
                name().prop_map(|target| RData::Ptr { target }),
            ];
            (name(), any::<u32>(), data).prop_map(|(name, ttl, data)| DnsRecord {
                name,
                ttl: ttl & 0x7fff_ffff,
                data,
            })
        }

        prop_compose! {
            fn message()(
                id in any::<u16>(),
                flags in any::<[bool; 4]>(),
                rcode in prop_oneof![
                    Just(DnsRcode::NoError),
                    Just(DnsRcode::ServFail),
                    Just(DnsRcode::NxDomain),
                    Just(DnsRcode::Refused),
                ],
                q in name(),
                qt in prop_oneof![Just(QType::A), Just(QType::Aaaa), Just(QType::Cname), Just(QType::Ptr)],
                answers in proptest::collection::vec(record(), 0..5),
                edns in proptest::option::of((512u16..4096, proptest::option::of(any::<[u8; 8]>()))),
                compress in any::<bool>(),
            ) -> DnsMessage {
                DnsMessage {
                    id,
                    response: flags[0],
                    aa: flags[1],
                    rd: flags[2],
                    ra: flags[3],
                    rcode,
                    question: Some((q, qt)),
                    answers,
                    authority: Vec::new(),
                    edns: edns.map(|(udp_size, c)| Edns { udp_size, cookie: c.map(|c| c.to_vec()) }),
                    compress,
                }
            }
        }

        proptest! {
            /// What hopsim writes, the `domain` crate reads back with the same header,
            /// counts, question and records; hopsim's parse gives the same message, and
            /// writing it again gives the same bytes.
            #[test]
            fn messages_round_trip_through_the_domain_crate(m in message()) {
                let bytes = m.emit();
                let d = Message::from_octets(bytes.as_slice()).expect("domain parses it");
                let h = d.header();
                prop_assert_eq!(h.id(), m.id);
                prop_assert_eq!(
                    (h.qr(), h.aa(), h.rd(), h.ra()),
                    (m.response, m.aa, m.rd, m.ra)
                );
                let c = d.header_counts();
                prop_assert_eq!(c.qdcount(), 1);
                prop_assert_eq!(usize::from(c.ancount()), m.answers.len());
                prop_assert_eq!(c.arcount(), u16::from(m.edns.is_some()));
                let back = DnsMessage::parse(&bytes).expect("hopsim parses it");
                prop_assert_eq!(back.id, m.id);
                prop_assert_eq!(back.rcode, m.rcode);
                prop_assert_eq!(&back.question, &m.question);
                prop_assert_eq!(&back.answers, &m.answers);
                prop_assert_eq!(&back.edns, &m.edns);
                prop_assert_eq!(
                    (back.response, back.aa, back.rd, back.ra),
                    (m.response, m.aa, m.rd, m.ra)
                );
                let mut again = back.clone();
                again.compress = m.compress;
                prop_assert_eq!(again.emit(), bytes);
            }

            /// Any bytes: an error or a message, never a panic.
            #[test]
            fn any_bytes_parse_without_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
                let _ = DnsMessage::parse(&b);
            }
        }
    }
}
