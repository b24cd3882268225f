//! The transport layer as far as the documents need it: TCP's handshake and close
//! (`tcp_v4_rcv`, `tcp_v4_send_reset`), UDP delivery or port unreachable (`udp_rcv`), and
//! the REJECT target's answers. Listening sockets are the namespace's; connections are the
//! simulation's (they last one run).

use super::icmp::{self, IcmpError};
use super::{ip_output, Sim};
use crate::model::{L4Proto, NsId};
use crate::netfilter::RejectWith;
use crate::trace::{DropReason, Step};
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr, TcpFlags, TcpRepr};
use std::net::Ipv4Addr;

/// TCP states of the simulated sockets (RFC 793 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TcpState {
    SynSent,
    SynRecv,
    Established,
    FinWait1,
    LastAck,
    TimeWait,
}

/// A TCP connection's control block.
#[derive(Clone, Debug)]
pub(crate) struct Tcb {
    pub ns: NsId,
    pub local: (Ipv4Addr, u16),
    pub remote: (Ipv4Addr, u16),
    pub state: TcpState,
    pub snd_nxt: u32,
    pub rcv_nxt: u32,
    /// The connecting side (the `nc` client).
    pub client: bool,
}

/// The options Linux puts in a SYN and a SYN-ACK: MSS 1460, SACK permitted, timestamps,
/// NOP, window scale 7 (20 bytes: a SYN is 60 bytes of IP, as the kernel facts counted).
pub(crate) fn syn_options(ts: u32, ecr: u32) -> Vec<u8> {
    let mut o = vec![2, 4, 0x05, 0xb4, 4, 2, 8, 10];
    o.extend_from_slice(&ts.to_be_bytes());
    o.extend_from_slice(&ecr.to_be_bytes());
    o.extend_from_slice(&[1, 3, 3, 7]);
    o
}

/// NOP, NOP, timestamps: what every later segment carries (12 bytes).
pub(crate) fn ts_options(ts: u32, ecr: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend_from_slice(&ts.to_be_bytes());
    o.extend_from_slice(&ecr.to_be_bytes());
    o
}

/// The TCP timestamp clock: the simulated time in ms.
pub(crate) fn ts_now(sim: &Sim) -> u32 {
    (sim.now() / 1000) as u32
}

/// An initial sequence number: deterministic, different per connection.
pub(crate) fn isn(local: (Ipv4Addr, u16), remote: (Ipv4Addr, u16)) -> u32 {
    let h = crate::model::stable_hash(&format!(
        "{}:{}-{}:{}",
        local.0, local.1, remote.0, remote.1
    ));
    (h >> 32) as u32
}

/// Send a TCP segment from this namespace (route output, OUTPUT, ...).
#[allow(clippy::too_many_arguments)]
pub(crate) fn send_segment(
    sim: &mut Sim,
    ns: NsId,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    options: Vec<u8>,
) {
    send_data_segment(sim, ns, src, dst, seq, ack, flags, options, Vec::new());
}

/// [`send_segment`] with payload bytes (an HTTP request or response).
#[allow(clippy::too_many_arguments)]
pub(crate) fn send_data_segment(
    sim: &mut Sim,
    ns: NsId,
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    options: Vec<u8>,
    data: Vec<u8>,
) {
    let out = ip_output::route_output(&sim.world, ns, dst.0, None);
    ip_output::step_route_output(sim, dst.0, &out);
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("no route to {} ({})", dst.0, e.strerror()),
            );
            return;
        }
    };
    let packet = Ipv4Packet {
        header: Ipv4Repr {
            src: src.0,
            dst: dst.0,
            ttl: sim.world.default_ttl(ns),
            id: sim.world.next_ip_id(ns),
            df: true,
            tos: 0,
        },
        payload: IpPayload::Tcp(TcpRepr {
            sport: src.1,
            dport: dst.1,
            seq,
            ack,
            flags,
            window: 64240,
            options,
            data,
        }),
    };
    ip_output::ip_local_out(sim, ns, packet, &out);
}

/// An ephemeral port (`ip_local_port_range` 32768-60999), deterministic per `key` (the
/// program and flow a socket is for).
pub(crate) fn ephemeral_port(key: &str) -> u16 {
    32768 + (crate::model::stable_hash(key) % 28232) as u16
}

/// The connection `(ns, local, remote)`, if there is one.
pub(crate) fn find_tcb(
    sim: &Sim,
    ns: NsId,
    local: (Ipv4Addr, u16),
    remote: (Ipv4Addr, u16),
) -> Option<usize> {
    sim.tcbs
        .iter()
        .position(|t| t.ns == ns && t.local == local && t.remote == remote)
}

fn listener(sim: &Sim, ns: NsId, proto: L4Proto, addr: Ipv4Addr, port: u16) -> Option<String> {
    sim.world.netns[ns]
        .sockets
        .iter()
        .find(|l| l.proto == proto && l.port == port && (l.addr.is_unspecified() || l.addr == addr))
        .map(|l| l.process.clone().unwrap_or_else(|| "a process".into()))
}

/// `tcp_v4_rcv`.
pub(crate) fn tcp_rcv(sim: &mut Sim, ns: NsId, packet: Ipv4Packet) {
    let IpPayload::Tcp(seg) = &packet.payload else {
        return;
    };
    let local = (packet.header.dst, seg.dport);
    let remote = (packet.header.src, seg.sport);
    let f = seg.flags;
    let Some(i) = find_tcb(sim, ns, local, remote) else {
        if f.syn && !f.ack {
            if let Some(proc_name) = listener(sim, ns, L4Proto::Tcp, local.0, local.1) {
                let iss = isn(local, remote);
                if sim.tracing() {
                    sim.step(Step::Transport {
                        detail: format!(
                            "SYN for {}:{}: {proc_name} listens there: answer SYN-ACK (SYN_RECV)",
                            local.0, local.1
                        ),
                    });
                }
                super::connect::on_server_saw(sim, remote, local);
                sim.tcbs.push(Tcb {
                    ns,
                    local,
                    remote,
                    state: TcpState::SynRecv,
                    snd_nxt: iss.wrapping_add(1),
                    rcv_nxt: seg.seq.wrapping_add(1),
                    client: false,
                });
                let ts = ts_now(sim);
                send_segment(
                    sim,
                    ns,
                    local,
                    remote,
                    iss,
                    seg.seq.wrapping_add(1),
                    TcpFlags {
                        syn: true,
                        ack: true,
                        ..TcpFlags::default()
                    },
                    syn_options(ts, ts),
                );
                return;
            }
        }
        if f.rst {
            sim.drop_packet(DropReason::NoSocket, "a reset for no connection: ignored");
            return;
        }
        if sim.tracing() {
            sim.step(Step::Transport {
                detail: format!(
                    "no socket for {}:{}: answer with a reset (tcp_v4_send_reset)",
                    local.0, local.1
                ),
            });
        }
        sim.drop_packet(
            DropReason::NoSocket,
            format!("TCP to closed port {}", local.1),
        );
        send_reset(sim, ns, &packet);
        return;
    };
    let tcb = sim.tcbs[i].clone();
    let ts = ts_now(sim);
    if f.rst {
        sim.tcbs.remove(i);
        if sim.tracing() {
            sim.step(Step::Transport {
                detail: "reset received: the connection is refused or aborted".into(),
            });
        }
        if tcb.client && tcb.state == TcpState::SynSent {
            super::connect::on_result(sim, super::connect::Outcome::Refused);
            super::http::on_reset(sim, (ns, local, remote));
        }
        return;
    }
    // Payload: the program reading the socket decides what comes next.
    if !seg.data.is_empty() && super::http::on_data(sim, i, &packet) {
        return;
    }
    match tcb.state {
        TcpState::SynSent if f.syn && f.ack => {
            sim.tcbs[i].state = TcpState::Established;
            sim.tcbs[i].rcv_nxt = seg.seq.wrapping_add(1);
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: "SYN-ACK: connected (ESTABLISHED), acknowledge it".into(),
                });
            }
            send_segment(
                sim,
                ns,
                local,
                remote,
                tcb.snd_nxt,
                seg.seq.wrapping_add(1),
                TcpFlags {
                    ack: true,
                    ..TcpFlags::default()
                },
                ts_options(ts, ts),
            );
            if super::http::on_connected(sim, (ns, local, remote)) {
                return;
            }
            super::connect::on_result(sim, super::connect::Outcome::Connected);
            // nc -z closes at once.
            if let Some(j) = find_tcb(sim, ns, local, remote) {
                sim.tcbs[j].state = TcpState::FinWait1;
                let (snd, rcv) = (sim.tcbs[j].snd_nxt, sim.tcbs[j].rcv_nxt);
                sim.tcbs[j].snd_nxt = snd.wrapping_add(1);
                if sim.tracing() {
                    sim.step(Step::Transport {
                        detail: "the program closes the socket: FIN (FIN_WAIT1)".into(),
                    });
                }
                send_segment(
                    sim,
                    ns,
                    local,
                    remote,
                    snd,
                    rcv,
                    TcpFlags {
                        fin: true,
                        ack: true,
                        ..TcpFlags::default()
                    },
                    ts_options(ts, ts),
                );
            }
        }
        TcpState::SynRecv if f.ack && !f.syn => {
            sim.tcbs[i].state = TcpState::Established;
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: "ACK: handshake complete (ESTABLISHED); the connection is accepted"
                        .into(),
                });
            }
            if f.fin {
                close_on_fin(sim, i, seg);
            }
        }
        TcpState::Established if f.fin => {
            close_on_fin(sim, i, seg);
        }
        TcpState::FinWait1 if f.fin => {
            sim.tcbs[i].state = TcpState::TimeWait;
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: "FIN from the peer: acknowledge it (TIME_WAIT)".into(),
                });
            }
            send_segment(
                sim,
                ns,
                local,
                remote,
                sim.tcbs[i].snd_nxt,
                seg.seq.wrapping_add(1),
                TcpFlags {
                    ack: true,
                    ..TcpFlags::default()
                },
                ts_options(ts, ts),
            );
        }
        TcpState::LastAck if f.ack => {
            sim.tcbs.remove(i);
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: "last ACK: the connection is closed".into(),
                });
            }
        }
        _ => {
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: format!("segment {} in state {:?}: nothing to do", f, tcb.state),
                });
            }
        }
    }
}

/// The server side sees FIN: the application (which only accepted) closes too, so the
/// FIN is answered with FIN-ACK (LAST_ACK).
fn close_on_fin(sim: &mut Sim, i: usize, seg: &TcpRepr) {
    let tcb = sim.tcbs[i].clone();
    let ts = ts_now(sim);
    sim.tcbs[i].state = TcpState::LastAck;
    sim.tcbs[i].snd_nxt = tcb.snd_nxt.wrapping_add(1);
    if sim.tracing() {
        sim.step(Step::Transport {
            detail: "FIN from the peer: the server closes as well, FIN-ACK (LAST_ACK)".into(),
        });
    }
    send_segment(
        sim,
        tcb.ns,
        tcb.local,
        tcb.remote,
        tcb.snd_nxt,
        seg.seq.wrapping_add(1),
        TcpFlags {
            fin: true,
            ack: true,
            ..TcpFlags::default()
        },
        ts_options(ts, ts),
    );
}

/// `tcp_v4_send_reset`: answer a segment for no connection.
fn send_reset(sim: &mut Sim, ns: NsId, packet: &Ipv4Packet) {
    let IpPayload::Tcp(seg) = &packet.payload else {
        return;
    };
    let (seq, ack, flags) = if seg.flags.ack {
        (
            seg.ack,
            0,
            TcpFlags {
                rst: true,
                ..TcpFlags::default()
            },
        )
    } else {
        let len = u32::from(seg.flags.syn) + u32::from(seg.flags.fin) + seg.data.len() as u32;
        (
            0,
            seg.seq.wrapping_add(len),
            TcpFlags {
                rst: true,
                ack: true,
                ..TcpFlags::default()
            },
        )
    };
    send_segment(
        sim,
        ns,
        (packet.header.dst, seg.dport),
        (packet.header.src, seg.sport),
        seq,
        ack,
        flags,
        Vec::new(),
    );
}

/// `udp_rcv`: a socket takes it, or port unreachable goes back.
pub(crate) fn udp_rcv(sim: &mut Sim, ns: NsId, packet: Ipv4Packet) {
    let IpPayload::Udp(d) = &packet.payload else {
        return;
    };
    if super::dns::client_rcv(sim, ns, &packet) {
        return;
    }
    match listener(sim, ns, L4Proto::Udp, packet.header.dst, d.dport) {
        Some(p) => {
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: format!("UDP to {}:{}: delivered to {p}", packet.header.dst, d.dport),
                });
            }
            super::connect::on_udp_delivered(sim, ns, &packet);
            super::dns::server_rcv(sim, ns, &packet);
        }
        None => {
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: format!(
                        "UDP to {}:{}: no socket, ICMP port unreachable",
                        packet.header.dst, d.dport
                    ),
                });
            }
            sim.drop_packet(
                DropReason::NoSocket,
                format!("UDP to closed port {}", d.dport),
            );
            icmp::icmp_send(sim, ns, &packet, IcmpError::PortUnreachable, None);
        }
    }
}

/// The REJECT target's answer.
pub(crate) fn reject(sim: &mut Sim, ns: NsId, packet: &Ipv4Packet, with: RejectWith) {
    match with.icmp_code() {
        None => send_reset(sim, ns, packet),
        Some(code) => {
            if matches!(&packet.payload, IpPayload::Icmp(i) if i.is_error()) {
                return;
            }
            icmp::icmp_send(sim, ns, packet, IcmpError::Code(code), None);
        }
    }
}

/// The errno an ICMP error gives a socket (`icmp_err_convert`), as strerror.
pub fn icmp_errno_text(icmp: &IcmpRepr) -> Option<&'static str> {
    match icmp {
        IcmpRepr::DestUnreachable { code, .. } => Some(match code {
            0 | 6 | 9 | 11 => "Network is unreachable",
            1 | 10 | 12 | 13 | 14 | 15 => "No route to host",
            2 => "Protocol not available",
            3 => "Connection refused",
            4 => "Message too long",
            7 => "Host is down",
            8 => "Machine is not on the network",
            _ => "No route to host",
        }),
        IcmpRepr::TimeExceeded { .. } => Some("No route to host"),
        _ => None,
    }
}
