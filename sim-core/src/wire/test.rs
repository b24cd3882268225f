//! Byte fixtures: deconstruct, construct, parse, emit.

use super::*;

fn echo_request() -> Frame {
    Frame {
        dst: "02:42:ac:11:00:03".parse().unwrap(),
        src: "02:42:ac:11:00:02".parse().unwrap(),
        payload: L3::Ipv4(Ipv4Packet {
            header: Ipv4Repr {
                src: Ipv4Addr::new(172, 17, 0, 2),
                dst: Ipv4Addr::new(172, 17, 0, 3),
                ttl: 64,
                id: 0x1234,
                df: true,
                tos: 0,
            },
            payload: IpPayload::Icmp(IcmpRepr::EchoRequest {
                ident: 7,
                seq: 1,
                data: (0u8..56).collect(),
            }),
        }),
    }
}

#[test]
fn echo_request_bytes() {
    let bytes = echo_request().emit();
    assert_eq!(bytes.len(), 98, "14 + 20 + 8 + 56, as tcpdump shows a ping");
    assert_eq!(&bytes[12..14], &[0x08, 0x00]);
    // IPv4: version/IHL, total length 84, DF, TTL 64, protocol 1.
    assert_eq!(bytes[14], 0x45);
    assert_eq!(u16::from_be_bytes([bytes[16], bytes[17]]), 84);
    assert_eq!(bytes[20], 0x40);
    assert_eq!(bytes[22], 64);
    assert_eq!(bytes[23], 1);
    // ICMP type 8.
    assert_eq!(bytes[34], 8);
    assert_eq!(Frame::parse(&bytes).unwrap(), echo_request());
}

#[test]
fn arp_request_bytes() {
    let f = Frame {
        dst: Mac::BROADCAST,
        src: "02:42:ac:11:00:02".parse().unwrap(),
        payload: L3::Arp(ArpRepr {
            op: ArpOp::Request,
            sender_mac: "02:42:ac:11:00:02".parse().unwrap(),
            sender_ip: Ipv4Addr::new(172, 17, 0, 2),
            target_mac: Mac::ZERO,
            target_ip: Ipv4Addr::new(172, 17, 0, 3),
        }),
    };
    let bytes = f.emit();
    assert_eq!(bytes.len(), 42);
    assert_eq!(&bytes[12..14], &[0x08, 0x06]);
    assert_eq!(&bytes[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
    assert_eq!(Frame::parse(&bytes).unwrap(), f);
    assert_eq!(
        f.to_string(),
        "02:42:ac:11:00:02 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 172.17.0.3 tell 172.17.0.2, length 28"
    );
}

#[test]
fn corrupted_checksum_is_refused() {
    let mut bytes = echo_request().emit();
    bytes[24] ^= 0xff;
    assert_eq!(
        Frame::parse(&bytes),
        Err(WireError::BadChecksum("IPv4 header"))
    );
}

#[test]
fn truncated_frames_never_panic() {
    let bytes = echo_request().emit();
    for n in 0..bytes.len() {
        let _ = Frame::parse(&bytes[..n]);
    }
}

#[test]
fn icmp_error_quotes_the_echo() {
    let req = echo_request();
    let quoted = req.ipv4().unwrap().emit();
    let q = QuotedDatagram::parse(&quoted).unwrap();
    assert_eq!(q.echo, Some((7, 1)));
    assert_eq!(q.header.dst, Ipv4Addr::new(172, 17, 0, 3));
}

#[test]
fn mac_parse_and_derive() {
    assert_eq!(
        "02:42:E0:ef:c5:b6".parse::<Mac>().unwrap().to_string(),
        "02:42:e0:ef:c5:b6"
    );
    assert!("02:42:e0:ef:c5".parse::<Mac>().is_err());
    assert!("02:42:e0:ef:c5:zz".parse::<Mac>().is_err());
    let m = Mac::derived("host/red/veth-red");
    assert_eq!(m, Mac::derived("host/red/veth-red"));
    assert_ne!(m, Mac::derived("host/blue/veth-blue"));
    assert!(!m.is_multicast());
    assert_eq!(m.0[0] & 2, 2);
}
