//! Traces are data: hops (one namespace handling one frame or originating one packet),
//! each with ordered steps named after the kernel's stages. Renderers (text, JSON) live in
//! [`crate::render`]; nothing here formats for a terminal except the one-line summaries
//! steps give of themselves.

use crate::model::Name;
use crate::wire::{Frame, Ipv4Packet, Mac};
use serde::Serialize;
use std::net::Ipv4Addr;

/// Why a packet was dropped, named after the kernel's `SKB_DROP_REASON_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum DropReason {
    /// The frame's destination MAC is not ours (`PACKET_OTHERHOST`, `OTHERHOST`).
    Otherhost,
    /// The receiving device is down (`DEV_READY`).
    DevReady,
    /// Sent on a device with no carrier or no peer: the frame goes nowhere.
    NoCarrier,
    /// Not local and forwarding is off on the input device (`IP_INADDRERRORS`): silent.
    IpInaddrerrors,
    /// No route for a packet being forwarded (`IP_INNOROUTES`).
    IpInnoroutes,
    /// No route for a locally generated packet (`IP_OUTNOROUTES`).
    IpOutnoroutes,
    /// TTL expired while forwarding (`IP_INHDR`, counted as InHdrErrors).
    IpInhdr,
    /// Neighbour resolution failed (`NEIGH_FAILED`).
    NeighFailed,
    /// Larger than the path MTU with DF set (`PKT_TOO_BIG`).
    PktTooBig,
    /// A bridge frame with nowhere to go (hairpin off, only the ingress port).
    BridgeNoPort,
    /// Loopback is down: packets to own addresses cannot be delivered.
    LoopbackDown,
    /// No socket wants this packet (an echo reply nobody waits for, ...).
    NoSocket,
    /// ICMP echo ignored by sysctl.
    IcmpEchoIgnored,
    /// An iptables rule or policy dropped it (`NETFILTER_DROP`).
    NetfilterDrop,
    /// A VXLAN device has no FDB entry for the destination MAC and no default remote
    /// (`VXLAN_NO_REMOTE`).
    VxlanNoRemote,
    /// A VXLAN packet for a VNI no device here has (`VXLAN_VNI_NOT_FOUND`).
    VxlanVniNotFound,
    /// A simulator limit was hit (hop budget, loop without TTL).
    SimLimit,
    /// Anything else.
    NotSpecified,
}

impl DropReason {
    /// The kernel's name, e.g. `IP_INADDRERRORS`.
    pub fn kernel_name(self) -> &'static str {
        match self {
            DropReason::Otherhost => "OTHERHOST",
            DropReason::DevReady => "DEV_READY",
            DropReason::NoCarrier => "NO_CARRIER",
            DropReason::IpInaddrerrors => "IP_INADDRERRORS",
            DropReason::IpInnoroutes => "IP_INNOROUTES",
            DropReason::IpOutnoroutes => "IP_OUTNOROUTES",
            DropReason::IpInhdr => "IP_INHDR",
            DropReason::NeighFailed => "NEIGH_FAILED",
            DropReason::PktTooBig => "PKT_TOO_BIG",
            DropReason::BridgeNoPort => "BRIDGE_NO_PORT",
            DropReason::LoopbackDown => "LOOPBACK_DOWN",
            DropReason::NoSocket => "NO_SOCKET",
            DropReason::IcmpEchoIgnored => "ICMP_ECHO_IGNORED",
            DropReason::NetfilterDrop => "NETFILTER_DROP",
            DropReason::VxlanNoRemote => "VXLAN_NO_REMOTE",
            DropReason::VxlanVniNotFound => "VXLAN_VNI_NOT_FOUND",
            DropReason::SimLimit => "SIM_LIMIT",
            DropReason::NotSpecified => "NOT_SPECIFIED",
        }
    }

    /// Parse a kernel name (for `expect: drop:`).
    pub fn from_kernel_name(s: &str) -> Option<DropReason> {
        use DropReason::*;
        [
            Otherhost,
            DevReady,
            NoCarrier,
            IpInaddrerrors,
            IpInnoroutes,
            IpOutnoroutes,
            IpInhdr,
            NeighFailed,
            PktTooBig,
            BridgeNoPort,
            LoopbackDown,
            NoSocket,
            IcmpEchoIgnored,
            NetfilterDrop,
            VxlanNoRemote,
            VxlanVniNotFound,
            SimLimit,
            NotSpecified,
        ]
        .into_iter()
        .find(|r| r.kernel_name() == s)
    }
}

/// A frame or packet as recorded in a trace: its bytes, decoded on demand. Recording
/// costs no copy (the bytes are shared with the frame in flight, and with every copy of a
/// flood); the decoded form, the one-line summary and the hex are built when a renderer
/// asks ([`Recorded::decoded`], [`Recorded::summary`], [`Recorded::hex`], and the JSON
/// serializer, which writes `summary`, `decoded`, `hex` and `len`), not while tracing.
/// Bytes the engine sent always decode: tests/properties.rs checks it.
pub struct Recorded<T> {
    /// The bytes on the wire.
    pub bytes: std::sync::Arc<[u8]>,
    decoded: std::sync::OnceLock<Option<T>>,
}

/// A frame on a link-layer device.
pub type FrameRecord = Recorded<Frame>;

/// An IP packet on a layer-3 device (an ipip tunnel has no link-layer header).
pub type PacketRecord = Recorded<Ipv4Packet>;

/// What a record decodes its bytes as.
pub trait Decode: Sized {
    /// The bytes decoded, or `None` if they are malformed.
    fn decode(bytes: &[u8]) -> Option<Self>;
}

impl Decode for Frame {
    fn decode(bytes: &[u8]) -> Option<Frame> {
        Frame::parse(bytes).ok()
    }
}

impl Decode for Ipv4Packet {
    fn decode(bytes: &[u8]) -> Option<Ipv4Packet> {
        Ipv4Packet::parse(bytes).ok()
    }
}

impl<T> Recorded<T> {
    /// Record bytes (shared, not copied).
    pub fn of_bytes(bytes: &std::sync::Arc<[u8]>) -> Recorded<T> {
        Recorded {
            bytes: bytes.clone(),
            decoded: std::sync::OnceLock::new(),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for a record of no bytes (never built by the engine).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes on the wire.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes on the wire, as lower-case hex.
    pub fn hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.bytes)
    }
}

impl Recorded<Frame> {
    /// Record a frame: its bytes (the frame as emitted).
    pub fn new(frame: &Frame) -> FrameRecord {
        Recorded::of_bytes(&frame.emit().into())
    }
}

impl Recorded<Ipv4Packet> {
    /// Record a packet: its bytes (the packet as emitted).
    pub fn new(packet: &Ipv4Packet) -> PacketRecord {
        Recorded::of_bytes(&packet.emit().into())
    }
}

impl<T: Decode> Recorded<T> {
    /// The frame or packet the bytes are (`None` if they are malformed, which bytes the
    /// engine sent never are).
    pub fn decoded(&self) -> Option<&T> {
        self.decoded.get_or_init(|| T::decode(&self.bytes)).as_ref()
    }
}

impl<T: Decode + std::fmt::Display> Recorded<T> {
    /// One line, tcpdump-like.
    pub fn summary(&self) -> String {
        match self.decoded() {
            Some(d) => d.to_string(),
            None => format!("malformed, {} bytes", self.bytes.len()),
        }
    }
}

impl<T> Clone for Recorded<T> {
    fn clone(&self) -> Self {
        // The decoded form is rebuilt on demand: it is the bytes' function.
        Recorded::of_bytes(&self.bytes)
    }
}

impl<T> PartialEq for Recorded<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<T> Eq for Recorded<T> {}

impl<T: Decode + std::fmt::Debug> std::fmt::Debug for Recorded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("decoded", &self.decoded())
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl<T: Decode + std::fmt::Display + Serialize> Serialize for Recorded<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Recorded", 4)?;
        st.serialize_field("summary", &self.summary())?;
        st.serialize_field("decoded", &self.decoded())?;
        st.serialize_field("hex", &self.hex())?;
        st.serialize_field("len", &self.len())?;
        st.end()
    }
}

/// The words of a step: text, or one of the phrases a large trace repeats most (an ARP
/// request seen by every bystander of a flood, a packet's addresses at `ip_rcv`, a
/// connection), kept as data and put into words when shown (`Display`, and JSON, where
/// it is a string), so that tracing does not format and allocate them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Words {
    /// Text.
    Text(String),
    /// Fixed text.
    Fixed(&'static str),
    /// `who-has TARGET tell SENDER: not one of our addresses, ignored`.
    ArpNotOurs {
        /// The address asked for.
        target: Ipv4Addr,
        /// The asker's address.
        sender: Ipv4Addr,
    },
    /// `FROM -> TO` (a state change).
    Transition(&'static str, &'static str),
    /// `IP is at MAC` and a note.
    IsAt {
        /// The neighbour's address.
        ip: Ipv4Addr,
        /// Its MAC.
        mac: Mac,
        /// Appended as is.
        note: &'static str,
    },
    /// A packet's ends, `SRC[:PORT] -> DST[:PORT]`.
    Flow {
        /// Source address.
        src: Ipv4Addr,
        /// Source port.
        sport: Option<u16>,
        /// Destination address.
        dst: Ipv4Addr,
        /// Destination port.
        dport: Option<u16>,
    },
    /// A route, as `ip route` prints it.
    Route(crate::model::route::RouteText),
    /// `SRC -> DST ttl TTL` and a note.
    Addresses {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
        /// TTL.
        ttl: u8,
        /// Appended as is (empty, or ` (through lo)`).
        note: &'static str,
    },
    /// `new connection TUPLE`.
    NewConnection(crate::netfilter::conntrack::Tuple),
    /// `DIR direction of TUPLE` and `, TCP-STATE`.
    Connection {
        /// `original` or `reply`.
        dir: &'static str,
        /// The connection's original tuple.
        orig: crate::netfilter::conntrack::Tuple,
        /// Its TCP state, if TCP.
        tcp: Option<&'static str>,
    },
}

impl Words {
    /// A route of `world`, as `ip route` prints it (`with_table`: name the local table).
    pub fn route(world: &crate::model::World, r: &crate::model::Route, with_table: bool) -> Words {
        Words::Route(crate::model::route::RouteText::new(world, r, with_table))
    }
}

impl std::fmt::Display for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Words::Text(s) => f.write_str(s),
            Words::Fixed(s) => f.write_str(s),
            Words::ArpNotOurs { target, sender } => write!(
                f,
                "who-has {target} tell {sender}: not one of our addresses, ignored"
            ),
            Words::Addresses {
                src,
                dst,
                ttl,
                note,
            } => write!(f, "{src} -> {dst} ttl {ttl}{note}"),
            Words::Transition(a, b) => write!(f, "{a} -> {b}"),
            Words::IsAt { ip, mac, note } => write!(f, "{ip} is at {mac}{note}"),
            Words::Flow {
                src,
                sport,
                dst,
                dport,
            } => {
                write!(f, "{src}")?;
                if let Some(p) = sport {
                    write!(f, ":{p}")?;
                }
                write!(f, " -> {dst}")?;
                match dport {
                    Some(p) => write!(f, ":{p}"),
                    None => Ok(()),
                }
            }
            Words::Route(r) => r.fmt(f),
            Words::NewConnection(t) => write!(f, "new connection {t}"),
            Words::Connection { dir, orig, tcp } => {
                write!(f, "{dir} direction of {orig}")?;
                match tcp {
                    Some(s) => write!(f, ", {s}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl Serialize for Words {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<String> for Words {
    fn from(s: String) -> Words {
        Words::Text(s)
    }
}

impl From<&'static str> for Words {
    fn from(s: &'static str) -> Words {
        Words::Fixed(s)
    }
}

impl PartialEq<str> for Words {
    fn eq(&self, other: &str) -> bool {
        match self {
            Words::Text(s) => s == other,
            Words::Fixed(s) => *s == other,
            w => w.to_string().as_str() == other,
        }
    }
}

impl PartialEq<&str> for Words {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

/// What the bridge did with a frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BridgeAction {
    /// Sent to the one port the FDB names.
    Forward {
        /// Output port.
        port: Name,
    },
    /// Unknown unicast, broadcast or multicast: copied to every other forwarding port.
    Flood {
        /// Output ports.
        ports: Vec<Name>,
    },
    /// For the bridge device itself (its MAC, or a copy of a broadcast).
    Local,
    /// Nothing to do: the FDB says the station is behind the port it came from.
    Filtered,
}

/// One decision or action inside a hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// A program sends: `ping` creates an echo request.
    Originate {
        /// What was sent, in words.
        what: String,
    },
    /// A frame arrives on a device (`netif_receive_skb`).
    Receive {
        /// The device.
        dev: Name,
        /// The frame.
        frame: FrameRecord,
    },
    /// The bridge learned a source MAC on a port (`br_fdb_update`).
    BridgeLearn {
        /// The bridge.
        bridge: Name,
        /// The MAC learned.
        mac: Mac,
        /// The port.
        port: Name,
    },
    /// The bridge's forwarding decision (`br_handle_frame_finish`).
    Bridge {
        /// The bridge.
        bridge: Name,
        /// The decision.
        #[serde(flatten)]
        action: BridgeAction,
    },
    /// `ip_rcv`: an IPv4 packet accepted for routing.
    IpRcv {
        /// Addresses, TTL.
        detail: Words,
    },
    /// The input routing decision (`ip_route_input`).
    RouteInput {
        /// The result in words: local, forward via ..., error.
        result: String,
        /// The route used, as `ip route` prints it.
        route: Option<Words>,
    },
    /// The output routing decision (`ip_route_output_key`).
    RouteOutput {
        /// Destination looked up.
        dst: Ipv4Addr,
        /// The route used, as `ip route` prints it.
        route: Option<Words>,
        /// The result in words.
        result: String,
    },
    /// `ip_forward`: TTL decremented (checksum updated).
    Forward {
        /// TTL on arrival.
        ttl_in: u8,
        /// TTL on departure.
        ttl_out: u8,
    },
    /// `ip_local_deliver`: the packet is for this namespace.
    LocalDeliver {
        /// What happened to it (echo answered, reply to ping, ...).
        detail: String,
    },
    /// A neighbour-table decision (`neigh_resolve_output`).
    Neigh {
        /// Next hop.
        nexthop: Ipv4Addr,
        /// Device.
        dev: Name,
        /// State before and after, e.g. "none -> INCOMPLETE".
        state: Words,
        /// The MAC used, if known.
        mac: Option<Mac>,
        /// In words.
        detail: Words,
    },
    /// ARP processing (`arp_process`).
    Arp {
        /// In words: answered, learned, proxied, ignored.
        detail: Words,
    },
    /// A frame leaves through a device (`dev_queue_xmit`).
    Transmit {
        /// The device.
        dev: Name,
        /// The frame, as real bytes.
        frame: FrameRecord,
    },
    /// An IP packet handed to a layer-3 device (an ipip tunnel), before encapsulation.
    TransmitIp {
        /// The device.
        dev: Name,
        /// The packet, as real bytes.
        packet: PacketRecord,
    },
    /// A decapsulated IP packet received on a layer-3 device (an ipip tunnel).
    ReceiveIp {
        /// The device.
        dev: Name,
        /// The packet, as real bytes.
        packet: PacketRecord,
    },
    /// A tunnel device wraps a packet or frame in an outer header (`ip_tunnel_xmit`,
    /// `vxlan_xmit`).
    Encap {
        /// The tunnel device.
        dev: Name,
        /// `ipip`, or `vxlan vni N`.
        tunnel: String,
        /// The outer header in words (addresses, TTL, DF, ports).
        outer: String,
        /// Why these outer values (where the destination and TTL came from).
        detail: String,
    },
    /// A tunnel device unwraps a packet (`ipip_rcv`, `vxlan_rcv`).
    Decap {
        /// The tunnel device that took it.
        dev: Name,
        /// `ipip`, or `vxlan vni N`.
        tunnel: String,
        /// In words: which tunnel matched and why.
        detail: String,
    },
    /// An ICMP error is generated (`icmp_send`).
    IcmpSend {
        /// In words: type/code and destination.
        detail: String,
    },
    /// The packet is delivered to a socket (ping's).
    SocketDeliver {
        /// In words.
        detail: String,
    },
    /// One iptables table at one hook: every rule the packet met, and the verdict.
    Netfilter {
        /// The hook (PREROUTING, INPUT, ...).
        hook: &'static str,
        /// The table.
        table: &'static str,
        /// Rules evaluated, in order.
        visits: crate::netfilter::eval::Visits,
        /// The verdict, in words.
        verdict: Words,
    },
    /// Kernel-style TRACE lines (`TRACE: nat:PREROUTING:rule:2`) for a packet marked by
    /// `-j TRACE`, and LOG lines.
    NfLog {
        /// The lines.
        lines: Vec<String>,
    },
    /// Connection tracking: a new entry, or the connection a packet belongs to.
    Conntrack {
        /// In words.
        detail: Words,
    },
    /// Network address translation: which fields changed.
    Nat {
        /// DNAT, SNAT, MASQUERADE, or un-NAT of a reply.
        kind: &'static str,
        /// Before, e.g. `192.168.1.2:40000 -> 192.168.1.1:8080`.
        before: Words,
        /// After.
        after: Words,
    },
    /// Transport layer: a socket lookup, a TCP state change, a reset.
    Transport {
        /// In words.
        detail: String,
    },
    /// A resolver's decision (nsswitch order, /etc/hosts, search list, ndots, timeouts).
    Resolver {
        /// In words.
        detail: String,
    },
    /// The packet is dropped.
    Drop {
        /// Kernel-style reason.
        reason: DropReason,
        /// Why, in words (route, sysctl, state).
        detail: String,
    },
}

impl Step {
    /// The kernel stage this step belongs to, for grouping in renderers.
    pub fn stage(&self) -> &'static str {
        match self {
            Step::Originate { .. } => "socket",
            Step::Receive { .. } => "receive",
            Step::BridgeLearn { .. } | Step::Bridge { .. } => "bridge",
            Step::IpRcv { .. } => "ip_rcv",
            Step::RouteInput { .. } => "route_input",
            Step::RouteOutput { .. } => "route_output",
            Step::Forward { .. } => "forward",
            Step::LocalDeliver { .. } => "local_deliver",
            Step::Neigh { .. } | Step::Arp { .. } => "neighbour",
            Step::Transmit { .. } | Step::TransmitIp { .. } => "transmit",
            Step::ReceiveIp { .. } => "receive",
            Step::Encap { .. } | Step::Decap { .. } => "tunnel",
            Step::IcmpSend { .. } => "icmp",
            Step::SocketDeliver { .. } => "socket",
            Step::Netfilter { .. } | Step::NfLog { .. } => "netfilter",
            Step::Conntrack { .. } => "conntrack",
            Step::Nat { .. } => "nat",
            Step::Transport { .. } => "transport",
            Step::Resolver { .. } => "resolver",
            Step::Drop { .. } => "drop",
        }
    }
}

/// Where a hop came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cause {
    /// A program in this namespace.
    Program,
    /// A frame transmitted in hop `hop` arrived here.
    Frame {
        /// The hop that transmitted it.
        hop: usize,
    },
    /// A timer fired (ARP retransmission or failure).
    Timer {
        /// The hop that armed it.
        hop: usize,
    },
}

/// One namespace (or switch) handling one frame, or originating one packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// Position in the trace.
    pub index: usize,
    /// Simulated time in microseconds.
    pub time_us: u64,
    /// The namespace (or switch) name.
    pub node: Name,
    /// What started this hop.
    pub cause: Cause,
    /// What happened, in order.
    pub steps: Vec<Step>,
}

/// A complete trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// Hops in the order they happened.
    pub hops: Vec<Hop>,
}

impl Trace {
    /// Every drop in the trace, with its hop.
    pub fn drops(&self) -> impl Iterator<Item = (&Hop, DropReason, &str)> {
        self.hops.iter().flat_map(|h| {
            h.steps.iter().filter_map(move |s| match s {
                Step::Drop { reason, detail } => Some((h, *reason, detail.as_str())),
                _ => None,
            })
        })
    }

    /// Every frame transmitted, in order, with the hop and device.
    pub fn transmitted(&self) -> impl Iterator<Item = (&Hop, &str, &FrameRecord)> {
        self.hops.iter().flat_map(|h| {
            h.steps.iter().filter_map(move |s| match s {
                Step::Transmit { dev, frame } => Some((h, dev.as_str(), frame)),
                _ => None,
            })
        })
    }
}
