//! The packet parsers: Ethernet/ARP/IPv4/ICMP/TCP/UDP, VXLAN and ICMP-quoted datagrams.
//! Whatever parses emits bytes that parse back to the same representation.
#![no_main]
use hopsim_core::wire::vxlan::VxlanPacket;
use hopsim_core::wire::{Frame, Ipv4Packet, QuotedDatagram};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = Frame::parse(data) {
        let again = Frame::parse(&f.emit()).expect("an emitted frame parses");
        assert_eq!(again, f, "frame round trip");
    }
    if let Ok(p) = Ipv4Packet::parse(data) {
        let again = Ipv4Packet::parse(&p.emit()).expect("an emitted packet parses");
        assert_eq!(again, p, "packet round trip");
    }
    let _ = VxlanPacket::parse(data);
    let _ = QuotedDatagram::parse(data);
});
