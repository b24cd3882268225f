//! VXLAN devices (`drivers/net/vxlan/vxlan_core.c`).
//!
//! Transmit (`vxlan_xmit`): the device's FDB names the remote VTEP for the frame's
//! destination MAC; without an entry the all-zeros default entries are used (one copy per
//! remote, head-end replication), and without those the frame is dropped
//! (`VXLAN_NO_REMOTE`). Each copy becomes outer Ethernet + IPv4 + UDP + an 8-byte VXLAN
//! header + the inner frame (+50 bytes). The outer source is `local` (or what the route
//! picks), the UDP destination the device's `dstport`, the UDP source a hash of the inner
//! flow in 32768-60999 (the same both ways), TTL `auto` = the namespace's default TTL, no
//! DF, TOS 0 (KERNEL_FACTS §11). The outer packet leaves like any locally generated one
//! (`udp_tunnel_xmit_skb` → `iptunnel_xmit` → `ip_local_out`), keeping the skb's mark
//! (measured: a mark set in FORWARD matches in OUTPUT on the UDP packet).
//!
//! Receive (`vxlan_rcv`): a UDP datagram for the device's port (its socket is bound to
//! 0.0.0.0:PORT while the device is up) is matched by VNI to an up device; the source
//! MAC is learned against the outer source unless `nolearning`; the inner frame is then
//! received on the VXLAN device (a bridge port hands it to its bridge).

use super::{ip_output, receive, Sim};
use crate::model::{stable_hash, IfId, IfKind, NsId, VxlanFdb};
use crate::trace::{DropReason, Step};
use crate::wire::vxlan::{encapsulate, VxlanPacket, VXLAN_HLEN};
use crate::wire::{Frame, IpPayload, Ipv4Packet, Ipv4Repr, Mac, UdpRepr, L3};
use std::net::Ipv4Addr;

/// The default ephemeral port range (`net.ipv4.ip_local_port_range`), which
/// `udp_flow_src_port` maps the flow hash into.
const SRC_PORT_MIN: u16 = 32768;
const SRC_PORT_MAX: u16 = 60999;

/// `udp_flow_src_port`: a source port from a hash of the inner flow, symmetric so that
/// both directions of a conversation use the same port (as measured). The kernel's hash
/// is seeded at boot, so real values differ from these; the range and the symmetry hold.
pub(crate) fn flow_src_port(inner: &Frame) -> u16 {
    let key = match &inner.payload {
        L3::Arp(a) => {
            let (x, y) = order(a.sender_ip, a.target_ip);
            format!("arp {x} {y}")
        }
        L3::Ipv4(p) => {
            let (x, y) = order(p.header.src, p.header.dst);
            let ports = p
                .payload
                .ports()
                .map(|(a, b)| (a.min(b), a.max(b)))
                .unwrap_or_default();
            format!("ip {x} {y} {} {} {}", p.protocol(), ports.0, ports.1)
        }
    };
    let h = (stable_hash(&key) >> 32) as u32;
    let span = u64::from(SRC_PORT_MAX - SRC_PORT_MIN);
    SRC_PORT_MIN + ((u64::from(h) * span) >> 32) as u16
}

fn order(a: Ipv4Addr, b: Ipv4Addr) -> (Ipv4Addr, Ipv4Addr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The remotes the FDB gives for a destination MAC, and whether the default entry was used.
fn fdb_remotes(fdb: &[VxlanFdb], dst: Mac) -> (Vec<Ipv4Addr>, bool) {
    if !dst.is_multicast() && !dst.is_broadcast() {
        let hits: Vec<Ipv4Addr> = fdb.iter().filter(|e| e.mac == dst).map(|e| e.dst).collect();
        if !hits.is_empty() {
            return (hits, false);
        }
    }
    let defaults = fdb
        .iter()
        .filter(|e| e.mac == Mac::ZERO)
        .map(|e| e.dst)
        .collect();
    (defaults, true)
}

/// What transmit needs of a VXLAN device's configuration (not its FDB).
struct Endpoint {
    vni: u32,
    dstport: u16,
    local: Option<Ipv4Addr>,
    link: Option<IfId>,
    ttl: u8,
}

/// `vxlan_xmit`: the stack sent `frame` (its skb marked `mark`, `bytes` as it was
/// transmitted) on the VXLAN device `dev`.
pub(crate) fn xmit(sim: &mut Sim, dev: IfId, frame: &Frame, bytes: &[u8], mark: u32) {
    let Some((ns, name, v, (remotes, default))) =
        sim.world.iface(dev).and_then(|i| match &i.kind {
            IfKind::Vxlan(v) => Some((
                i.ns,
                i.name.clone(),
                Endpoint {
                    vni: v.vni,
                    dstport: v.dstport,
                    local: v.local,
                    link: v.link,
                    ttl: v.ttl,
                },
                fdb_remotes(&v.fdb, frame.dst),
            )),
            _ => None,
        })
    else {
        return;
    };
    if remotes.is_empty() {
        sim.drop_packet(
            DropReason::VxlanNoRemote,
            format!(
                "{name}'s FDB has no entry for {} and no default (00:00:00:00:00:00) remote (bridge fdb show dev {name})",
                frame.dst
            ),
        );
        return;
    }
    let data = encapsulate(v.vni, bytes);
    let sport = flow_src_port(frame);
    for remote in remotes {
        let out = ip_output::route_output(&sim.world, ns, remote, v.link);
        ip_output::step_route_output(sim, remote, &out);
        let out = match out {
            Ok(o) if o.dev == dev => {
                sim.drop_packet(
                    DropReason::IpOutnoroutes,
                    format!("the route to the VTEP {remote} goes through {name} itself"),
                );
                continue;
            }
            Ok(o) => o,
            Err(e) => {
                sim.drop_packet(
                    DropReason::IpOutnoroutes,
                    format!("no route to the VTEP {remote} ({})", e.strerror()),
                );
                continue;
            }
        };
        let src = v.local.unwrap_or(out.src);
        let ttl = match v.ttl {
            0 => sim.world.default_ttl(ns),
            n => n,
        };
        let outer = Ipv4Packet {
            header: Ipv4Repr {
                src,
                dst: remote,
                ttl,
                id: sim.world.next_ip_id(ns),
                df: false,
                tos: 0,
            },
            payload: IpPayload::Udp(UdpRepr {
                sport,
                dport: v.dstport,
                data: data.clone(),
            }),
        };
        if sim.tracing() {
            let why = if default {
                format!(
                    "{} is not in the FDB: the default entry's remote",
                    frame.dst
                )
            } else {
                format!("FDB: {} is behind {remote}", frame.dst)
            };
            sim.step(Step::Encap {
                dev: name.clone(),
                tunnel: format!("vxlan vni {}", v.vni),
                outer: format!(
                    "IPv4 {src} > {remote} ttl {ttl} UDP {sport} > {} len {}",
                    v.dstport,
                    outer.total_len()
                ),
                detail: format!("{why}; source port from the inner flow's hash; ttl auto, no DF"),
            });
        }
        ip_output::ip_local_out_marked(sim, ns, outer, &out, mark);
    }
}

/// The up VXLAN device listening on UDP `port` in `ns`, if any (its socket).
pub(crate) fn socket_for(sim: &Sim, ns: NsId, port: u16) -> bool {
    sim.world
        .ns_devs(ns)
        .any(|i| i.up && matches!(&i.kind, IfKind::Vxlan(v) if v.dstport == port))
}

/// `vxlan_rcv`: a UDP datagram for a VXLAN socket.
pub(crate) fn rcv(sim: &mut Sim, ns: NsId, outer: Ipv4Packet) {
    let IpPayload::Udp(u) = &outer.payload else {
        return;
    };
    let port = u.dport;
    let pkt = match VxlanPacket::parse(&u.data) {
        Ok(p) => p,
        Err(e) => {
            sim.drop_packet(
                DropReason::NotSpecified,
                format!("UDP to the VXLAN port {port}: {e}"),
            );
            return;
        }
    };
    let dev = sim
        .world
        .ns_devs(ns)
        .filter(|i| i.up)
        .find(|i| matches!(&i.kind, IfKind::Vxlan(v) if v.dstport == port && v.vni == pkt.vni))
        .map(|i| (i.id, i.name.clone()));
    let Some((dev, name)) = dev else {
        sim.drop_packet(
            DropReason::VxlanVniNotFound,
            format!(
                "VXLAN on port {port} with VNI {}: no up device has that VNI",
                pkt.vni
            ),
        );
        return;
    };
    let own = sim.mac_of(dev);
    if pkt.inner.src == own {
        sim.drop_packet(
            DropReason::NotSpecified,
            format!("inner source MAC {own} is {name}'s own: a loop, dropped"),
        );
        return;
    }
    let learned = learn(sim, dev, pkt.inner.src, outer.header.src);
    if sim.tracing() {
        sim.step(Step::Decap {
            dev: name.clone(),
            tunnel: format!("vxlan vni {}", pkt.vni),
            detail: format!(
                "UDP {} > {}:{port} from VTEP {}; {}",
                u.sport,
                outer.header.dst,
                outer.header.src,
                match learned {
                    Some(true) =>
                        format!("learned {} is behind {}", pkt.inner.src, outer.header.src),
                    Some(false) => "learning on, entry already known".into(),
                    None => "nolearning".into(),
                }
            ),
        });
    }
    receive::receive_frame(sim, dev, pkt.inner, &u.data[VXLAN_HLEN..]);
}

/// `vxlan_snoop`: learn (or move) the inner source MAC's remote. `None` with `nolearning`,
/// `Some(true)` when the FDB changed.
fn learn(sim: &mut Sim, dev: IfId, mac: Mac, remote: Ipv4Addr) -> Option<bool> {
    let Some(IfKind::Vxlan(v)) = sim.world.iface_mut(dev).map(|i| &mut i.kind) else {
        return None;
    };
    if !v.learning {
        return None;
    }
    if mac.is_multicast() || mac.is_broadcast() {
        return Some(false);
    }
    if let Some(e) = v.fdb.iter_mut().find(|e| e.mac == mac) {
        if e.dst == remote || e.permanent {
            return Some(false);
        }
        e.dst = remote;
        return Some(true);
    }
    v.fdb.push(VxlanFdb {
        mac,
        dst: remote,
        permanent: false,
        via: None,
    });
    Some(true)
}
