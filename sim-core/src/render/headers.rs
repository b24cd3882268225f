//! Packet headers for teaching views: a decoded frame flattened into named fields (the
//! way a Wireshark detail pane lists them), what changed from one copy of a packet to
//! the next (NAT, TTL, MACs, an added outer header), and the byte ranges of each layer
//! for a coloured hex dump. Everything here reads the trace's recorded frames; nothing
//! re-runs a decision.

use crate::trace::{FrameRecord, PacketRecord};
use crate::wire::vxlan::VxlanPacket;
use crate::wire::{ArpOp, Frame, IcmpRepr, IpPayload, Ipv4Packet, L3};
use serde::Serialize;

/// UDP ports on which a payload is read as VXLAN: IANA's 4789, Linux's and flannel's
/// legacy 8472, weave's fastdp 6784.
pub const VXLAN_PORTS: [u16; 3] = [4789, 8472, 6784];

/// One header field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The layer, e.g. `Ethernet`, `IPv4`, `inner IPv4`.
    pub layer: String,
    /// Field name, e.g. `src`, `ttl`.
    pub name: String,
    /// The value as text.
    pub value: String,
    /// The value this field had in the copy of the packet it is compared with, when it
    /// changed.
    pub was: Option<String>,
    /// Not present in that copy (an outer header a tunnel added).
    pub added: bool,
}

impl Field {
    /// `layer name`, the key fields are compared by.
    pub fn key(&self) -> String {
        format!("{} {}", self.layer, self.name)
    }

    /// Whether the field differs from the copy it is compared with.
    pub fn changed(&self) -> bool {
        self.was.is_some() || self.added
    }
}

/// One layer's bytes in a frame: `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// Name, e.g. `Ethernet`, `IPv4`, `ICMP`, `inner IPv4`.
    pub name: String,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A packet as a teaching view shows it: the one-line summary, fields, bytes, layers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PacketView {
    /// tcpdump-like line.
    pub summary: String,
    /// Every field, outermost layer first.
    pub fields: Vec<Field>,
    /// The bytes as lower-case hex.
    pub hex: String,
    /// The layers' byte ranges.
    pub layers: Vec<Layer>,
    /// Whether the fields were compared with an earlier copy of the same packet.
    pub compared: bool,
}

impl PacketView {
    /// The view of a recorded frame.
    pub fn of_frame(f: &FrameRecord) -> PacketView {
        let mut fields = Vec::new();
        let mut layers = Vec::new();
        if let Some(d) = f.decoded() {
            frame_fields(d, "", 0, &mut fields, &mut layers);
        }
        PacketView {
            summary: f.summary(),
            fields,
            hex: f.hex(),
            layers,
            compared: false,
        }
    }

    /// The view of a recorded IP packet (on a layer-3 device: no Ethernet header).
    pub fn of_packet(p: &PacketRecord) -> PacketView {
        let mut fields = Vec::new();
        let mut layers = Vec::new();
        if let Some(d) = p.decoded() {
            ip_fields(d, "", 0, &mut fields, &mut layers);
        }
        PacketView {
            summary: p.summary(),
            fields,
            hex: p.hex(),
            layers,
            compared: false,
        }
    }

    /// Mark the fields that differ from `before` (same key, other value) or that
    /// `before` did not have. When one of the two is the other inside a tunnel's outer
    /// header, the inner layers are compared with the other's own (an encapsulated
    /// packet's `inner IPv4 ttl` with the plain packet's `IPv4 ttl`) and the outer header
    /// counts as added.
    pub fn compare_with(&mut self, before: &PacketView) {
        self.compared = true;
        let shift = self.ip_depth() as isize - before.ip_depth() as isize;
        for f in &mut self.fields {
            let d = depth(&f.layer) as isize - shift;
            if d < 0 {
                f.added = true;
                continue;
            }
            let key = format!(
                "{}{} {}",
                "inner ".repeat(d as usize),
                f.layer.replace("inner ", ""),
                f.name
            );
            match before.fields.iter().find(|b| b.key() == key) {
                Some(b) if b.value != f.value => f.was = Some(b.value.clone()),
                Some(_) => {}
                None => f.added = true,
            }
        }
    }

    /// How deep the innermost IPv4 header is (0: not encapsulated).
    fn ip_depth(&self) -> usize {
        self.fields
            .iter()
            .filter(|f| f.layer.ends_with("IPv4"))
            .map(|f| depth(&f.layer))
            .max()
            .unwrap_or(0)
    }

    /// The fields that changed, as `layer name: was -> value` (or `+ layer name value`).
    pub fn changes(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.changed())
            .map(|f| match &f.was {
                Some(w) => format!("{} {}: {w} -> {}", f.layer, f.name, f.value),
                None => format!("{} {}: {} (added)", f.layer, f.name, f.value),
            })
            .collect()
    }

    /// The innermost IPv4 packet's identification and protocol: the same packet keeps
    /// them through forwarding, NAT and encapsulation.
    pub fn identity(&self) -> Option<(String, String)> {
        let ip_layers: Vec<&str> = self
            .fields
            .iter()
            .filter(|f| f.layer.ends_with("IPv4") && f.name == "id")
            .map(|f| f.layer.as_str())
            .collect();
        let layer = *ip_layers.last()?;
        let get = |name: &str| {
            self.fields
                .iter()
                .find(|f| f.layer == layer && f.name == name)
                .map(|f| f.value.clone())
        };
        Some((get("id")?, get("protocol")?))
    }
}

fn depth(layer: &str) -> usize {
    layer.matches("inner ").count()
}

fn push(fields: &mut Vec<Field>, layer: &str, name: &str, value: impl ToString) {
    fields.push(Field {
        layer: layer.to_string(),
        name: name.to_string(),
        value: value.to_string(),
        was: None,
        added: false,
    });
}

fn layer(layers: &mut Vec<Layer>, name: String, start: usize, len: usize) {
    layers.push(Layer {
        name,
        start,
        end: start + len,
    });
}

fn frame_fields(
    f: &Frame,
    prefix: &str,
    at: usize,
    fields: &mut Vec<Field>,
    layers: &mut Vec<Layer>,
) {
    let eth = format!("{prefix}Ethernet");
    push(fields, &eth, "dst", f.dst);
    push(fields, &eth, "src", f.src);
    match &f.payload {
        L3::Arp(a) => {
            push(fields, &eth, "type", "ARP (0x0806)");
            layer(layers, eth, at, 14);
            let l = format!("{prefix}ARP");
            push(
                fields,
                &l,
                "operation",
                match a.op {
                    ArpOp::Request => "request (1)",
                    ArpOp::Reply => "reply (2)",
                },
            );
            push(fields, &l, "sender MAC", a.sender_mac);
            push(fields, &l, "sender IP", a.sender_ip);
            push(fields, &l, "target MAC", a.target_mac);
            push(fields, &l, "target IP", a.target_ip);
            layer(layers, l, at + 14, 28);
        }
        L3::Ipv4(p) => {
            push(fields, &eth, "type", "IPv4 (0x0800)");
            layer(layers, eth, at, 14);
            ip_fields(p, prefix, at + 14, fields, layers);
        }
    }
}

fn ip_fields(
    p: &Ipv4Packet,
    prefix: &str,
    at: usize,
    fields: &mut Vec<Field>,
    layers: &mut Vec<Layer>,
) {
    let l = format!("{prefix}IPv4");
    let h = &p.header;
    push(fields, &l, "src", h.src);
    push(fields, &l, "dst", h.dst);
    push(fields, &l, "ttl", h.ttl);
    push(fields, &l, "id", h.id);
    push(fields, &l, "DF", if h.df { "set" } else { "not set" });
    push(fields, &l, "total length", p.total_len());
    push(
        fields,
        &l,
        "protocol",
        match &p.payload {
            IpPayload::Icmp(_) => "ICMP (1)".to_string(),
            IpPayload::Tcp(_) => "TCP (6)".to_string(),
            IpPayload::Udp(_) => "UDP (17)".to_string(),
            IpPayload::Ipip(_) => "IPIP (4)".to_string(),
            IpPayload::Raw { protocol, .. } => format!("{protocol}"),
        },
    );
    if h.tos != 0 {
        push(fields, &l, "tos", format!("0x{:02x}", h.tos));
    }
    layer(layers, l, at, 20);
    let at = at + 20;
    match &p.payload {
        IpPayload::Icmp(icmp) => {
            let l = format!("{prefix}ICMP");
            match icmp {
                IcmpRepr::EchoRequest { ident, seq, .. } => {
                    push(fields, &l, "type", "echo request (8)");
                    push(fields, &l, "id", ident);
                    push(fields, &l, "seq", seq);
                }
                IcmpRepr::EchoReply { ident, seq, .. } => {
                    push(fields, &l, "type", "echo reply (0)");
                    push(fields, &l, "id", ident);
                    push(fields, &l, "seq", seq);
                }
                IcmpRepr::DestUnreachable { code, mtu, .. } => {
                    push(fields, &l, "type", "destination unreachable (3)");
                    push(fields, &l, "code", code);
                    if *code == 4 {
                        push(fields, &l, "next-hop MTU", mtu);
                    }
                }
                IcmpRepr::TimeExceeded { code, .. } => {
                    push(fields, &l, "type", "time exceeded (11)");
                    push(fields, &l, "code", code);
                }
                IcmpRepr::Redirect { code, gateway, .. } => {
                    push(fields, &l, "type", "redirect (5)");
                    push(fields, &l, "code", code);
                    push(fields, &l, "gateway", gateway);
                }
                IcmpRepr::Other { icmp_type, code } => {
                    push(fields, &l, "type", icmp_type);
                    push(fields, &l, "code", code);
                }
            }
            layer(layers, l, at, p.payload.len());
        }
        IpPayload::Tcp(t) => {
            let l = format!("{prefix}TCP");
            push(fields, &l, "sport", t.sport);
            push(fields, &l, "dport", t.dport);
            push(fields, &l, "flags", t.flags);
            push(fields, &l, "seq", t.seq);
            push(fields, &l, "ack", t.ack);
            layer(layers, l, at, p.payload.len());
        }
        IpPayload::Udp(u) => {
            let l = format!("{prefix}UDP");
            push(fields, &l, "sport", u.sport);
            push(fields, &l, "dport", u.dport);
            push(fields, &l, "length", 8 + u.data.len());
            let vxlan = VXLAN_PORTS
                .contains(&u.dport)
                .then(|| VxlanPacket::parse(&u.data).ok())
                .flatten();
            match vxlan {
                Some(v) => {
                    layer(layers, l, at, 8);
                    let vl = format!("{prefix}VXLAN");
                    push(fields, &vl, "VNI", v.vni);
                    layer(layers, vl, at + 8, 8);
                    frame_fields(
                        &v.inner,
                        &format!("{prefix}inner "),
                        at + 16,
                        fields,
                        layers,
                    );
                }
                None => layer(layers, l, at, p.payload.len()),
            }
        }
        IpPayload::Ipip(inner) => ip_fields(inner, &format!("{prefix}inner "), at, fields, layers),
        IpPayload::Raw { .. } => layer(layers, format!("{prefix}payload"), at, p.payload.len()),
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::{Ipv4Repr, Mac};

    fn echo(src: &str, dst: &str, ttl: u8) -> Frame {
        Frame {
            dst: Mac([2, 0, 0, 0, 0, 2]),
            src: Mac([2, 0, 0, 0, 0, 1]),
            payload: L3::Ipv4(Ipv4Packet {
                header: Ipv4Repr {
                    src: src.parse().unwrap(),
                    dst: dst.parse().unwrap(),
                    ttl,
                    id: 7,
                    df: true,
                    tos: 0,
                },
                payload: IpPayload::Icmp(IcmpRepr::EchoRequest {
                    ident: 1,
                    seq: 1,
                    data: vec![0; 56],
                }),
            }),
        }
    }

    #[test]
    fn layers_cover_the_frame_and_fields_name_the_headers() {
        let f = echo("10.0.0.1", "10.0.0.2", 64);
        let v = PacketView::of_frame(&FrameRecord::new(&f));
        let names: Vec<(&str, usize, usize)> = v
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.start, l.end))
            .collect();
        assert_eq!(
            names,
            [("Ethernet", 0, 14), ("IPv4", 14, 34), ("ICMP", 34, 98)]
        );
        assert_eq!(v.hex.len() / 2, 98);
        assert_eq!(v.identity(), Some(("7".into(), "ICMP (1)".into())));
    }

    #[test]
    fn forwarding_changes_ttl_and_macs_and_nat_the_source() {
        let a = echo("10.0.0.1", "10.0.0.2", 64);
        let mut b = echo("192.168.1.2", "10.0.0.2", 63);
        b.src = Mac([2, 0, 0, 0, 0, 9]);
        let before = PacketView::of_frame(&FrameRecord::new(&a));
        let mut after = PacketView::of_frame(&FrameRecord::new(&b));
        after.compare_with(&before);
        assert_eq!(
            after.changes(),
            [
                "Ethernet src: 02:00:00:00:00:01 -> 02:00:00:00:00:09",
                "IPv4 src: 10.0.0.1 -> 192.168.1.2",
                "IPv4 ttl: 64 -> 63",
            ]
        );
    }

    #[test]
    fn an_ipip_outer_header_is_added_around_the_same_packet() {
        let inner = match echo("10.0.0.1", "10.0.0.2", 63).payload {
            L3::Ipv4(p) => p,
            L3::Arp(_) => unreachable!(),
        };
        let outer = Frame {
            dst: Mac([2, 0, 0, 0, 0, 2]),
            src: Mac([2, 0, 0, 0, 0, 1]),
            payload: L3::Ipv4(Ipv4Packet {
                header: Ipv4Repr {
                    src: "192.168.0.1".parse().unwrap(),
                    dst: "192.168.0.2".parse().unwrap(),
                    ttl: 63,
                    id: 99,
                    df: true,
                    tos: 0,
                },
                payload: IpPayload::Ipip(Box::new(inner.clone())),
            }),
        };
        let before = PacketView::of_packet(&PacketRecord::new(&inner));
        let mut after = PacketView::of_frame(&FrameRecord::new(&outer));
        assert_eq!(after.identity(), before.identity());
        after.compare_with(&before);
        let changes = after.changes();
        assert!(changes.contains(&"Ethernet src: 02:00:00:00:00:01 (added)".to_string()));
        assert!(changes.contains(&"IPv4 src: 192.168.0.1 (added)".to_string()));
        assert!(
            !changes.iter().any(|c| c.starts_with("inner")),
            "the inner packet is the one that came in: {changes:?}"
        );
        let names: Vec<&str> = after.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Ethernet", "IPv4", "inner IPv4", "inner ICMP"]);
    }
}
