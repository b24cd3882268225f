//! The wire layer: packet bytes and nothing else.
//!
//! Every frame that crosses a simulated cable is real bytes, built here and parsed here
//! (with `etherparse` underneath). The engine manipulates the typed representations
//! ([`Frame`], [`Ipv4Repr`], [`IcmpRepr`], [`ArpRepr`]) and never reads or writes bytes by
//! hand. Contract: [`Frame::emit`] always produces a frame that [`Frame::parse`] reads back
//! to the same representation, with valid IPv4 and ICMP checksums; `parse` never panics,
//! whatever the input. The engine relies on it: a receiver reads the frame its sender
//! built, which is what the bytes parse back to, and the bytes are emitted when something
//! reads them (every traced hop records them; a tunnel carries them). Debug builds check
//! the round trip for every frame sent.

pub mod dns;
pub mod mac;

pub use mac::Mac;

use etherparse::{
    ArpEthIpv4Packet, ArpHardwareId, ArpOperation, ArpPacketSlice, EtherType, Ethernet2Header,
    Icmpv4Header, Icmpv4Type, IpNumber, Ipv4Header,
};
use serde::Serialize;
use std::fmt;
use std::net::Ipv4Addr;

/// An Ethernet II frame as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Destination MAC.
    pub dst: Mac,
    /// Source MAC.
    pub src: Mac,
    /// What the frame carries.
    pub payload: L3,
}

/// The frame's payload, by EtherType.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum L3 {
    /// ARP for Ethernet/IPv4 (EtherType 0x0806).
    Arp(ArpRepr),
    /// IPv4 (EtherType 0x0800).
    Ipv4(Ipv4Packet),
}

/// ARP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArpOp {
    /// who-has (1).
    Request,
    /// is-at (2).
    Reply,
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArpRepr {
    /// Request or reply.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sender_mac: Mac,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in a request, as Linux sends it).
    pub target_mac: Mac,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

/// The IPv4 header fields the simulator decides; length and checksum are computed on emit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Don't Fragment flag.
    pub df: bool,
    /// The TOS byte (DSCP and ECN).
    pub tos: u8,
}

/// An IPv4 packet: header plus a typed payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv4Packet {
    /// The header.
    pub header: Ipv4Repr,
    /// The payload.
    pub payload: IpPayload,
}

/// What an IPv4 packet carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "proto", rename_all = "snake_case")]
pub enum IpPayload {
    /// ICMP (protocol 1).
    Icmp(IcmpRepr),
    /// TCP (protocol 6).
    Tcp(TcpRepr),
    /// UDP (protocol 17).
    Udp(UdpRepr),
    /// IPv4 in IPv4 (protocol 4, `ipencap`): the inner packet, whole.
    Ipip(Box<Ipv4Packet>),
    /// Any other protocol, as raw bytes.
    Raw {
        /// IP protocol number.
        protocol: u8,
        /// The payload bytes.
        #[serde(skip)]
        data: Vec<u8>,
    },
}

/// TCP control flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// RST.
    pub rst: bool,
    /// FIN.
    pub fin: bool,
    /// PSH.
    pub psh: bool,
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // tcpdump's letters: S, F, R, P, then '.' for ACK.
        let mut s = String::new();
        if self.syn {
            s.push('S');
        }
        if self.fin {
            s.push('F');
        }
        if self.rst {
            s.push('R');
        }
        if self.psh {
            s.push('P');
        }
        if self.ack {
            s.push('.');
        }
        write!(f, "[{s}]")
    }
}

/// A TCP segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TcpRepr {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
    /// Raw option bytes (a multiple of 4).
    #[serde(skip)]
    pub options: Vec<u8>,
    /// Payload.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// A UDP datagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UdpRepr {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Payload.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// Protocol numbers.
pub const IPPROTO_TCP: u8 = 6;
/// Protocol numbers.
pub const IPPROTO_UDP: u8 = 17;
/// Protocol numbers: IPv4 in IPv4.
pub const IPPROTO_IPIP: u8 = 4;

/// ICMP messages the simulator sends and understands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "icmp", rename_all = "snake_case")]
pub enum IcmpRepr {
    /// Echo request (type 8).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Data after the 8-byte header.
        #[serde(skip)]
        data: Vec<u8>,
    },
    /// Echo reply (type 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Data after the 8-byte header.
        #[serde(skip)]
        data: Vec<u8>,
    },
    /// Destination unreachable (type 3) with its code.
    DestUnreachable {
        /// The code (0 net, 1 host, 3 port, 4 frag needed, 13 filtered, ...).
        code: u8,
        /// Next-hop MTU for code 4.
        mtu: u16,
        /// The quoted datagram (IP header and the start of its payload).
        #[serde(skip)]
        quoted: Vec<u8>,
    },
    /// Time exceeded (type 11).
    TimeExceeded {
        /// 0 = TTL exceeded in transit.
        code: u8,
        /// The quoted datagram.
        #[serde(skip)]
        quoted: Vec<u8>,
    },
    /// Redirect (type 5).
    Redirect {
        /// 1 = redirect for host.
        code: u8,
        /// The better gateway.
        gateway: Ipv4Addr,
        /// The quoted datagram.
        #[serde(skip)]
        quoted: Vec<u8>,
    },
    /// Any other ICMP message, kept as type and code.
    Other {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
    },
}

/// Why bytes could not be read as a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Too short or inconsistent lengths.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// An EtherType the simulator does not model.
    #[error("unsupported EtherType 0x{0:04x}")]
    UnsupportedEtherType(u16),
    /// A checksum that does not verify.
    #[error("bad {0} checksum")]
    BadChecksum(&'static str),
}

/// Protocol numbers.
pub const IPPROTO_ICMP: u8 = 1;

impl Frame {
    /// Serialise to bytes, computing lengths and checksums.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            14 + match &self.payload {
                L3::Arp(_) => 28,
                L3::Ipv4(p) => p.total_len(),
            },
        );
        self.emit_to(&mut out);
        out
    }

    /// [`Frame::emit`] into `out` (emptied first): a buffer kept for the next frame spares
    /// an allocation per frame.
    pub fn emit_to(&self, out: &mut Vec<u8>) {
        out.clear();
        let ether_type = match self.payload {
            L3::Arp(_) => EtherType::ARP,
            L3::Ipv4(_) => EtherType::IPV4,
        };
        let eth = Ethernet2Header {
            source: self.src.octets(),
            destination: self.dst.octets(),
            ether_type,
        };
        out.extend_from_slice(&eth.to_bytes());
        match &self.payload {
            L3::Arp(a) => out.extend_from_slice(&a.to_etherparse().to_bytes()),
            L3::Ipv4(p) => p.emit_into(out),
        }
    }

    /// Parse bytes into a frame. Never panics.
    pub fn parse(bytes: &[u8]) -> Result<Frame, WireError> {
        let (eth, rest) =
            Ethernet2Header::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
        let payload = match eth.ether_type {
            EtherType::ARP => L3::Arp(ArpRepr::parse(rest)?),
            EtherType::IPV4 => L3::Ipv4(Ipv4Packet::parse(rest)?),
            other => return Err(WireError::UnsupportedEtherType(other.0)),
        };
        Ok(Frame {
            dst: Mac(eth.destination),
            src: Mac(eth.source),
            payload,
        })
    }

    /// The IPv4 packet inside, if any.
    pub fn ipv4(&self) -> Option<&Ipv4Packet> {
        match &self.payload {
            L3::Ipv4(p) => Some(p),
            L3::Arp(_) => None,
        }
    }

    /// Frame length in bytes as it goes on the wire (without FCS or padding).
    pub fn len(&self) -> usize {
        14 + match &self.payload {
            L3::Arp(_) => ArpEthIpv4Packet::LEN,
            L3::Ipv4(p) => p.total_len(),
        }
    }

    /// Never true: a frame always has its header.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl ArpRepr {
    /// An ARP packet for Ethernet and IPv4 (the only kind hopsim handles). Read in place
    /// (`ArpPacketSlice`): an owned `ArpPacket` holds four 255-byte address buffers.
    fn parse(bytes: &[u8]) -> Result<ArpRepr, WireError> {
        let slice =
            ArpPacketSlice::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
        let fields = (
            <[u8; 6]>::try_from(slice.sender_hw_addr()),
            <[u8; 4]>::try_from(slice.sender_protocol_addr()),
            <[u8; 6]>::try_from(slice.target_hw_addr()),
            <[u8; 4]>::try_from(slice.target_protocol_addr()),
        );
        let eth_ipv4 = slice.hw_addr_type() == ArpHardwareId::ETHERNET
            && slice.proto_addr_type() == EtherType::IPV4;
        let packet = match fields {
            (Ok(sender_mac), Ok(sender_ipv4), Ok(target_mac), Ok(target_ipv4)) if eth_ipv4 => {
                ArpEthIpv4Packet {
                    operation: slice.operation(),
                    sender_mac,
                    sender_ipv4,
                    target_mac,
                    target_ipv4,
                }
            }
            // Not Ethernet/IPv4: etherparse's owned packet says why.
            _ => slice
                .to_packet()
                .try_eth_ipv4()
                .map_err(|e| WireError::Malformed(e.to_string()))?,
        };
        ArpRepr::from_etherparse(&packet)
    }

    fn to_etherparse(&self) -> ArpEthIpv4Packet {
        ArpEthIpv4Packet {
            operation: match self.op {
                ArpOp::Request => ArpOperation::REQUEST,
                ArpOp::Reply => ArpOperation::REPLY,
            },
            sender_mac: self.sender_mac.octets(),
            sender_ipv4: self.sender_ip.octets(),
            target_mac: self.target_mac.octets(),
            target_ipv4: self.target_ip.octets(),
        }
    }

    fn from_etherparse(a: &ArpEthIpv4Packet) -> Result<ArpRepr, WireError> {
        let op = match a.operation {
            ArpOperation::REQUEST => ArpOp::Request,
            ArpOperation::REPLY => ArpOp::Reply,
            other => return Err(WireError::Malformed(format!("ARP operation {}", other.0))),
        };
        Ok(ArpRepr {
            op,
            sender_mac: Mac(a.sender_mac),
            sender_ip: a.sender_ipv4_addr(),
            target_mac: Mac(a.target_mac),
            target_ip: a.target_ipv4_addr(),
        })
    }
}

impl Ipv4Packet {
    /// Total length (header + payload) in bytes.
    pub fn total_len(&self) -> usize {
        20 + self.payload.len()
    }

    /// The protocol number of the payload.
    pub fn protocol(&self) -> u8 {
        match &self.payload {
            IpPayload::Icmp(_) => IPPROTO_ICMP,
            IpPayload::Tcp(_) => IPPROTO_TCP,
            IpPayload::Udp(_) => IPPROTO_UDP,
            IpPayload::Ipip(_) => IPPROTO_IPIP,
            IpPayload::Raw { protocol, .. } => *protocol,
        }
    }

    /// Serialise header and payload with valid checksums.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.payload.len());
        self.emit_into(&mut out);
        out
    }

    /// Append header and payload, with valid checksums, to `out` (one buffer for a whole
    /// frame, tunnels included: the header is written once the payload's length is known).
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        let h = &self.header;
        let start = out.len();
        out.extend_from_slice(&[0; 20]);
        self.payload.emit_into(h.src, h.dst, out);
        let payload_len = out.len() - start - 20;
        let mut ip = Ipv4Header {
            dscp: etherparse::IpDscp::try_new(h.tos >> 2).unwrap_or(etherparse::IpDscp::ZERO),
            ecn: etherparse::IpEcn::try_new(h.tos & 3).unwrap_or(etherparse::IpEcn::ZERO),
            total_len: 0,
            identification: h.id,
            dont_fragment: h.df,
            more_fragments: false,
            fragment_offset: etherparse::IpFragOffset::ZERO,
            time_to_live: h.ttl,
            protocol: IpNumber(self.protocol()),
            header_checksum: 0,
            source: h.src.octets(),
            destination: h.dst.octets(),
            options: Default::default(),
        };
        // A payload too big for one datagram cannot be built by the engine (it enforces
        // MTUs far below 65515); clamp defensively instead of panicking.
        let _ = ip.set_payload_len(payload_len.min(65515));
        ip.header_checksum = ip.calc_header_checksum();
        out[start..start + 20].copy_from_slice(&ip.to_bytes());
    }

    /// Parse an IPv4 datagram (header and payload). Verifies the header checksum.
    pub fn parse(bytes: &[u8]) -> Result<Ipv4Packet, WireError> {
        let (ip, rest) =
            Ipv4Header::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
        if ip.header_checksum != ip.calc_header_checksum() {
            return Err(WireError::BadChecksum("IPv4 header"));
        }
        let plen = ip
            .payload_len()
            .map_err(|e| WireError::Malformed(e.to_string()))? as usize;
        if rest.len() < plen {
            return Err(WireError::Malformed(format!(
                "IPv4 total length {} but only {} payload bytes",
                ip.total_len,
                rest.len()
            )));
        }
        let rest = &rest[..plen];
        let payload = match ip.protocol {
            IpNumber::ICMP => IpPayload::Icmp(IcmpRepr::parse(rest)?),
            IpNumber::TCP => IpPayload::Tcp(parse_tcp(rest, ip.source, ip.destination)?),
            IpNumber::UDP => IpPayload::Udp(parse_udp(rest, ip.source, ip.destination)?),
            IpNumber::IPV4 => IpPayload::Ipip(Box::new(Ipv4Packet::parse(rest)?)),
            other => IpPayload::Raw {
                protocol: other.0,
                data: rest.to_vec(),
            },
        };
        Ok(Ipv4Packet {
            header: Ipv4Repr {
                src: ip.source.into(),
                dst: ip.destination.into(),
                ttl: ip.time_to_live,
                id: ip.identification,
                df: ip.dont_fragment,
                tos: (ip.dscp.value() << 2) | ip.ecn.value(),
            },
            payload,
        })
    }
}

impl IpPayload {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            IpPayload::Icmp(i) => i.len(),
            IpPayload::Tcp(t) => 20 + t.options.len() + t.data.len(),
            IpPayload::Udp(u) => 8 + u.data.len(),
            IpPayload::Ipip(p) => p.total_len(),
            IpPayload::Raw { data, .. } => data.len(),
        }
    }

    /// Source and destination ports of TCP and UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self {
            IpPayload::Tcp(t) => Some((t.sport, t.dport)),
            IpPayload::Udp(u) => Some((u.sport, u.dport)),
            _ => None,
        }
    }

    /// Set the ports of TCP and UDP (NAT).
    pub fn set_ports(&mut self, sport: u16, dport: u16) {
        match self {
            IpPayload::Tcp(t) => {
                t.sport = sport;
                t.dport = dport;
            }
            IpPayload::Udp(u) => {
                u.sport = sport;
                u.dport = dport;
            }
            _ => {}
        }
    }

    /// True for an empty raw payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append the payload's bytes (checksums computed) to `out`.
    fn emit_into(&self, src: Ipv4Addr, dst: Ipv4Addr, out: &mut Vec<u8>) {
        match self {
            IpPayload::Icmp(i) => i.emit_into(out),
            IpPayload::Tcp(t) => {
                let mut h = etherparse::TcpHeader::new(t.sport, t.dport, t.seq, t.window);
                h.acknowledgment_number = t.ack;
                h.syn = t.flags.syn;
                h.ack = t.flags.ack;
                h.rst = t.flags.rst;
                h.fin = t.flags.fin;
                h.psh = t.flags.psh;
                let _ = h.set_options_raw(&t.options);
                h.checksum = h
                    .calc_checksum_ipv4_raw(src.octets(), dst.octets(), &t.data)
                    .unwrap_or(0);
                out.extend_from_slice(&h.to_bytes());
                out.extend_from_slice(&t.data);
            }
            IpPayload::Udp(u) => {
                let mut h = etherparse::UdpHeader {
                    source_port: u.sport,
                    destination_port: u.dport,
                    length: (8 + u.data.len()).min(65535) as u16,
                    checksum: 0,
                };
                h.checksum = h
                    .calc_checksum_ipv4_raw(src.octets(), dst.octets(), &u.data)
                    .unwrap_or(0);
                out.extend_from_slice(&h.to_bytes());
                out.extend_from_slice(&u.data);
            }
            IpPayload::Ipip(p) => p.emit_into(out),
            IpPayload::Raw { data, .. } => out.extend_from_slice(data),
        }
    }
}

fn parse_tcp(bytes: &[u8], src: [u8; 4], dst: [u8; 4]) -> Result<TcpRepr, WireError> {
    let (h, data) = etherparse::TcpHeader::from_slice(bytes)
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    if h.calc_checksum_ipv4_raw(src, dst, data).ok() != Some(h.checksum) {
        return Err(WireError::BadChecksum("TCP"));
    }
    Ok(TcpRepr {
        sport: h.source_port,
        dport: h.destination_port,
        seq: h.sequence_number,
        ack: h.acknowledgment_number,
        flags: TcpFlags {
            syn: h.syn,
            ack: h.ack,
            rst: h.rst,
            fin: h.fin,
            psh: h.psh,
        },
        window: h.window_size,
        options: h.options.as_slice().to_vec(),
        data: data.to_vec(),
    })
}

fn parse_udp(bytes: &[u8], src: [u8; 4], dst: [u8; 4]) -> Result<UdpRepr, WireError> {
    let (h, rest) = etherparse::UdpHeader::from_slice(bytes)
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    let len = usize::from(h.length);
    if len < 8 || len - 8 > rest.len() {
        return Err(WireError::Malformed(format!("UDP length {len}")));
    }
    let data = &rest[..len - 8];
    if h.checksum != 0 && h.calc_checksum_ipv4_raw(src, dst, data).ok() != Some(h.checksum) {
        return Err(WireError::BadChecksum("UDP"));
    }
    Ok(UdpRepr {
        sport: h.source_port,
        dport: h.destination_port,
        data: data.to_vec(),
    })
}

impl IcmpRepr {
    fn header_and_data(&self) -> (Icmpv4Type, &[u8]) {
        use etherparse::icmpv4::{DestUnreachableHeader, TimeExceededCode};
        use etherparse::IcmpEchoHeader;
        match self {
            IcmpRepr::EchoRequest { ident, seq, data } => (
                Icmpv4Type::EchoRequest(IcmpEchoHeader {
                    id: *ident,
                    seq: *seq,
                }),
                data,
            ),
            IcmpRepr::EchoReply { ident, seq, data } => (
                Icmpv4Type::EchoReply(IcmpEchoHeader {
                    id: *ident,
                    seq: *seq,
                }),
                data,
            ),
            IcmpRepr::DestUnreachable { code, mtu, quoted } => {
                let h = if *code == 4 {
                    DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: *mtu }
                } else {
                    DestUnreachableHeader::from_values(*code, 0)
                        .unwrap_or(DestUnreachableHeader::Host)
                };
                (Icmpv4Type::DestinationUnreachable(h), quoted)
            }
            IcmpRepr::TimeExceeded { code, quoted } => (
                Icmpv4Type::TimeExceeded(
                    TimeExceededCode::from_u8(*code)
                        .unwrap_or(TimeExceededCode::TtlExceededInTransit),
                ),
                quoted,
            ),
            IcmpRepr::Redirect {
                code,
                gateway,
                quoted,
            } => (
                Icmpv4Type::Redirect(etherparse::icmpv4::RedirectHeader {
                    code: etherparse::icmpv4::RedirectCode::from_u8(*code)
                        .unwrap_or(etherparse::icmpv4::RedirectCode::RedirectForHost),
                    gateway_internet_address: gateway.octets(),
                }),
                quoted,
            ),
            IcmpRepr::Other { icmp_type, code } => (
                Icmpv4Type::Unknown {
                    type_u8: *icmp_type,
                    code_u8: *code,
                    bytes5to8: [0; 4],
                },
                &[],
            ),
        }
    }

    /// Length in bytes (8-byte header plus data).
    pub fn len(&self) -> usize {
        8 + self.header_and_data().1.len()
    }

    /// Never true.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn emit_into(&self, out: &mut Vec<u8>) {
        let (t, data) = self.header_and_data();
        let h = Icmpv4Header::with_checksum(t, data);
        out.extend_from_slice(&h.to_bytes());
        out.extend_from_slice(data);
    }

    fn parse(bytes: &[u8]) -> Result<IcmpRepr, WireError> {
        use etherparse::icmpv4::DestUnreachableHeader;
        let (h, data) =
            Icmpv4Header::from_slice(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
        if h.checksum != h.icmp_type.calc_checksum(data) {
            return Err(WireError::BadChecksum("ICMP"));
        }
        let data = data.to_vec();
        Ok(match h.icmp_type {
            Icmpv4Type::EchoRequest(e) => IcmpRepr::EchoRequest {
                ident: e.id,
                seq: e.seq,
                data,
            },
            Icmpv4Type::EchoReply(e) => IcmpRepr::EchoReply {
                ident: e.id,
                seq: e.seq,
                data,
            },
            Icmpv4Type::DestinationUnreachable(d) => {
                let (code, mtu) = match d {
                    DestUnreachableHeader::FragmentationNeeded { next_hop_mtu } => {
                        (4, next_hop_mtu)
                    }
                    other => (other.code_u8(), 0),
                };
                IcmpRepr::DestUnreachable {
                    code,
                    mtu,
                    quoted: data,
                }
            }
            Icmpv4Type::TimeExceeded(c) => IcmpRepr::TimeExceeded {
                code: c.code_u8(),
                quoted: data,
            },
            Icmpv4Type::Redirect(r) => IcmpRepr::Redirect {
                code: r.code.code_u8(),
                gateway: r.gateway_internet_address.into(),
                quoted: data,
            },
            _ => {
                let b = h.to_bytes();
                IcmpRepr::Other {
                    icmp_type: b[0],
                    code: b[1],
                }
            }
        })
    }

    /// The datagram an ICMP error quotes, if this is an error.
    pub fn quoted(&self) -> Option<&[u8]> {
        match self {
            IcmpRepr::DestUnreachable { quoted, .. }
            | IcmpRepr::TimeExceeded { quoted, .. }
            | IcmpRepr::Redirect { quoted, .. } => Some(quoted),
            _ => None,
        }
    }

    /// True for ICMP error messages (never answered with another error, RFC 1122 3.2.2).
    pub fn is_error(&self) -> bool {
        self.quoted().is_some()
    }
}

/// The leading part of an IPv4 header quoted in an ICMP error: enough to find the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotedDatagram {
    /// The quoted header.
    pub header: Ipv4Repr,
    /// Protocol number.
    pub protocol: u8,
    /// Echo identifier and sequence, if the quoted datagram is an echo request.
    pub echo: Option<(u16, u16)>,
    /// Source and destination ports, if it is TCP or UDP.
    pub ports: Option<(u16, u16)>,
}

impl QuotedDatagram {
    /// Read the quoted datagram of an ICMP error. Lenient: the quote may be truncated.
    pub fn parse(bytes: &[u8]) -> Option<QuotedDatagram> {
        let (ip, rest) = Ipv4Header::from_slice(bytes).ok()?;
        let echo = if ip.protocol == IpNumber::ICMP && rest.len() >= 8 && rest[0] == 8 {
            Some((
                u16::from_be_bytes([rest[4], rest[5]]),
                u16::from_be_bytes([rest[6], rest[7]]),
            ))
        } else {
            None
        };
        let ports =
            if (ip.protocol == IpNumber::TCP || ip.protocol == IpNumber::UDP) && rest.len() >= 4 {
                Some((
                    u16::from_be_bytes([rest[0], rest[1]]),
                    u16::from_be_bytes([rest[2], rest[3]]),
                ))
            } else {
                None
            };
        Some(QuotedDatagram {
            ports,
            header: Ipv4Repr {
                src: ip.source.into(),
                dst: ip.destination.into(),
                ttl: ip.time_to_live,
                id: ip.identification,
                df: ip.dont_fragment,
                tos: (ip.dscp.value() << 2) | ip.ecn.value(),
            },
            protocol: ip.protocol.0,
            echo,
        })
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}, ", self.src, self.dst)?;
        match &self.payload {
            L3::Arp(a) => write!(f, "{a}"),
            L3::Ipv4(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for ArpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // tcpdump's wording.
        match self.op {
            ArpOp::Request => write!(
                f,
                "ARP, Request who-has {} tell {}, length 28",
                self.target_ip, self.sender_ip
            ),
            ArpOp::Reply => write!(
                f,
                "ARP, Reply {} is-at {}, length 28",
                self.sender_ip, self.sender_mac
            ),
        }
    }
}

impl fmt::Display for Ipv4Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.header;
        write!(
            f,
            "IPv4 {} > {} ttl {} id {}{} len {}: ",
            h.src,
            h.dst,
            h.ttl,
            h.id,
            if h.df { " DF" } else { "" },
            self.total_len()
        )?;
        match &self.payload {
            IpPayload::Icmp(i) => write!(f, "{i}"),
            IpPayload::Tcp(t) => write!(
                f,
                "TCP {} > {} Flags {}, seq {}{}, length {}",
                t.sport,
                t.dport,
                t.flags,
                t.seq,
                if t.flags.ack {
                    format!(", ack {}", t.ack)
                } else {
                    String::new()
                },
                t.data.len()
            ),
            IpPayload::Udp(u) => match (u.sport == 53 || u.dport == 53)
                .then(|| dns::DnsMessage::parse(&u.data).ok())
                .flatten()
            {
                Some(m) => write!(
                    f,
                    "UDP {} > {}: {}",
                    u.sport,
                    u.dport,
                    m.summary(u.data.len())
                ),
                None => write!(f, "UDP {} > {}, length {}", u.sport, u.dport, u.data.len()),
            },
            IpPayload::Ipip(inner) => write!(f, "IPIP: {inner}"),
            IpPayload::Raw { protocol, data } => {
                write!(f, "protocol {protocol}, {} bytes", data.len())
            }
        }
    }
}

impl fmt::Display for IcmpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcmpRepr::EchoRequest { ident, seq, .. } => {
                write!(f, "ICMP echo request, id {ident}, seq {seq}")
            }
            IcmpRepr::EchoReply { ident, seq, .. } => {
                write!(f, "ICMP echo reply, id {ident}, seq {seq}")
            }
            IcmpRepr::DestUnreachable { code, mtu, quoted } => {
                let what = QuotedDatagram::parse(quoted)
                    .map(|q| q.header.dst.to_string())
                    .unwrap_or_default();
                match code {
                    0 => write!(f, "ICMP net {what} unreachable"),
                    1 => write!(f, "ICMP host {what} unreachable"),
                    3 => write!(f, "ICMP {what} port unreachable"),
                    4 => write!(f, "ICMP {what} unreachable - need to frag (mtu {mtu})"),
                    13 => write!(f, "ICMP host {what} unreachable - admin prohibited filter"),
                    c => write!(f, "ICMP {what} unreachable, code {c}"),
                }
            }
            IcmpRepr::TimeExceeded { .. } => write!(f, "ICMP time exceeded in-transit"),
            IcmpRepr::Redirect {
                gateway, quoted, ..
            } => {
                let what = QuotedDatagram::parse(quoted)
                    .map(|q| q.header.dst.to_string())
                    .unwrap_or_default();
                write!(f, "ICMP redirect {what} to host {gateway}")
            }
            IcmpRepr::Other { icmp_type, code } => write!(f, "ICMP type {icmp_type} code {code}"),
        }
    }
}

/// Hex dump of bytes, 16 per line, like `tcpdump -xx` without offsets column noise.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        s.push_str(&format!("{:04x}: ", i * 16));
        for (j, b) in chunk.iter().enumerate() {
            if j > 0 && j % 2 == 0 {
                s.push(' ');
            }
            s.push_str(&format!("{b:02x}"));
        }
        s.push('\n');
    }
    s
}

pub mod vxlan;

#[cfg(test)]
mod test;
