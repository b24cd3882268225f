//! Traces as capture files Wireshark and tshark open.
//!
//! - [`pcap`]: classic libpcap, Ethernet link type: every Ethernet frame as it was
//!   transmitted, once per device that sent it (a frame forwarded by a bridge appears on
//!   each port it left by), in trace order.
//! - [`pcapng`]: one interface per simulated device, named `namespace/device` (for example
//!   `k8s-w1/tunl0`), and every frame on every device it crossed, transmitted and received,
//!   with its direction. An ipip device has no link-layer header, so its interface has the
//!   raw-IPv4 link type and shows the inner packet.
//!
//! Timestamps are the simulated time, counted from 2026-01-01T00:00:00Z (the ping clock's
//! epoch), so the same trace always gives the same bytes.

use crate::trace::{Step, Trace};

const LINKTYPE_ETHERNET: u16 = 1;
/// `LINKTYPE_RAW`: raw IPv4/IPv6, no link-layer header.
const LINKTYPE_RAW: u16 = 101;
const SNAPLEN: u32 = 262_144;

/// One captured packet: which device, direction, when, and the bytes.
struct Capture {
    iface: String,
    linktype: u16,
    outbound: bool,
    time_us: u64,
    bytes: Vec<u8>,
}

fn captures(trace: &Trace) -> Vec<Capture> {
    let mut out = Vec::new();
    for h in &trace.hops {
        for s in &h.steps {
            let (dev, linktype, outbound, bytes) = match s {
                Step::Transmit { dev, frame } => (dev, LINKTYPE_ETHERNET, true, frame.bytes()),
                Step::Receive { dev, frame } => (dev, LINKTYPE_ETHERNET, false, frame.bytes()),
                Step::TransmitIp { dev, packet } => (dev, LINKTYPE_RAW, true, packet.bytes()),
                Step::ReceiveIp { dev, packet } => (dev, LINKTYPE_RAW, false, packet.bytes()),
                _ => continue,
            };
            out.push(Capture {
                iface: format!("{}/{dev}", h.node),
                linktype,
                outbound,
                time_us: h.time_us,
                bytes: bytes.to_vec(),
            });
        }
    }
    out
}

fn timestamp_us(time_us: u64) -> u64 {
    crate::engine::ping::EPOCH_SECS * 1_000_000 + time_us
}

/// A classic pcap file (microsecond timestamps, Ethernet): each transmitted frame.
pub fn pcap(trace: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&u32::from(LINKTYPE_ETHERNET).to_le_bytes());
    for c in captures(trace)
        .into_iter()
        .filter(|c| c.outbound && c.linktype == LINKTYPE_ETHERNET)
    {
        let ts = timestamp_us(c.time_us);
        let len = c.bytes.len() as u32;
        out.extend_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&c.bytes);
    }
    out
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// An option: code, length, value padded to 32 bits.
fn option(v: &mut Vec<u8>, code: u16, value: &[u8]) {
    v.extend_from_slice(&code.to_le_bytes());
    v.extend_from_slice(&(value.len() as u16).to_le_bytes());
    v.extend_from_slice(value);
    pad4(v);
}

/// A block: type, total length, body, total length again.
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let total = (12 + body.len()) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

/// A pcapng file: an interface per simulated device, every frame in both directions.
pub fn pcapng(trace: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    // Section header block.
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    option(&mut shb, 4, b"hopsim"); // shb_userappl
    option(&mut shb, 0, &[]);
    block(&mut out, 0x0a0d_0d0a, &shb);
    let caps = captures(trace);
    let mut ifaces: Vec<(String, u16)> = Vec::new();
    for c in &caps {
        if !ifaces.iter().any(|(n, _)| *n == c.iface) {
            ifaces.push((c.iface.clone(), c.linktype));
        }
    }
    for (name, linktype) in &ifaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&SNAPLEN.to_le_bytes());
        option(&mut idb, 2, name.as_bytes()); // if_name
        option(&mut idb, 9, &[6]); // if_tsresol: microseconds
        option(&mut idb, 0, &[]);
        block(&mut out, 1, &idb);
    }
    for c in caps {
        let id = ifaces.iter().position(|(n, _)| *n == c.iface).unwrap_or(0) as u32;
        let ts = timestamp_us(c.time_us);
        let len = c.bytes.len() as u32;
        let mut epb = Vec::new();
        epb.extend_from_slice(&id.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(&c.bytes);
        pad4(&mut epb);
        // epb_flags: direction 01 inbound, 10 outbound.
        let flags: u32 = if c.outbound { 2 } else { 1 };
        option(&mut epb, 2, &flags.to_le_bytes());
        option(&mut epb, 0, &[]);
        block(&mut out, 6, &epb);
    }
    out
}
