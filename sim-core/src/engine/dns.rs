//! DNS in the packet path: the UDP sockets of resolvers (the program's, and a server's
//! towards its upstream) and the DNS server processes that answer on port 53. Every
//! query and answer is a UDP datagram sent through `ip_local_out`, so routing, netfilter
//! (the kube-dns Service's DNAT, its un-NAT on the way back) and ARP apply as to any
//! packet. What a server answers is decided in [`crate::dns::server`].

use super::{ip_output, Sim};
use crate::dns::server::{decide, Decision};
use crate::model::NsId;
use crate::trace::{DropReason, Step};
use crate::wire::dns::DnsMessage;
use crate::wire::{IcmpRepr, IpPayload, Ipv4Packet, Ipv4Repr, QuotedDatagram, UdpRepr};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A resolver's UDP socket (glibc connects it to the server, so ICMP errors reach it).
#[derive(Clone, Debug)]
pub(crate) struct ClientSock {
    pub ns: NsId,
    pub local: (Ipv4Addr, u16),
    pub remote: (Ipv4Addr, u16),
    /// Connected: ICMP errors are reported, datagrams from elsewhere are not taken.
    pub connected: bool,
    /// Query ids still waited for.
    pub waiting: Vec<u16>,
    /// Answers received, in order, with their length on the wire.
    pub answers: Vec<(DnsMessage, usize)>,
    /// An error the socket reported (`Connection refused`, ...).
    pub error: Option<String>,
}

/// A query a server sent upstream on a client's behalf.
#[derive(Clone, Debug)]
pub(crate) struct Forward {
    pub ns: NsId,
    /// The server's socket towards the upstream.
    pub local: (Ipv4Addr, u16),
    pub upstream: Ipv4Addr,
    /// The client's query.
    pub query: DnsMessage,
    /// Who asked, and where the question arrived (the answer goes back from there).
    pub client: (Ipv4Addr, u16),
    pub served_at: (Ipv4Addr, u16),
}

/// DNS state of one simulation.
#[derive(Clone, Debug, Default)]
pub(crate) struct DnsState {
    pub clients: Vec<ClientSock>,
    pub forwards: Vec<Forward>,
    /// CoreDNS's cache plugin: (server namespace, name, type) -> answer.
    pub cache: BTreeMap<(NsId, String, u16), DnsMessage>,
}

impl DnsState {
    /// Whether the newest client socket has everything it waits for (or failed).
    pub(crate) fn settled(&self) -> bool {
        self.clients
            .last()
            .is_some_and(|c| c.waiting.is_empty() || c.error.is_some())
    }
}

/// Send a datagram from a program or process in `ns` (route, OUTPUT, POSTROUTING, ...).
/// `src` None: the source address the route gives.
pub(crate) fn send_udp(
    sim: &mut Sim,
    ns: NsId,
    src: Option<Ipv4Addr>,
    sport: u16,
    dst: (Ipv4Addr, u16),
    data: Vec<u8>,
) -> Option<Ipv4Addr> {
    let out = ip_output::route_output(&sim.world, ns, dst.0, None);
    ip_output::step_route_output(sim, dst.0, &out);
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            sim.drop_packet(
                DropReason::IpOutnoroutes,
                format!("sendto: {}", e.strerror()),
            );
            return None;
        }
    };
    let s = src.unwrap_or(out.src);
    let packet = Ipv4Packet {
        header: Ipv4Repr {
            src: s,
            dst: dst.0,
            ttl: sim.world.default_ttl(ns),
            id: sim.world.next_ip_id(ns),
            df: true,
            tos: 0,
        },
        payload: IpPayload::Udp(UdpRepr {
            sport,
            dport: dst.1,
            data,
        }),
    };
    ip_output::ip_local_out(sim, ns, packet, &out);
    Some(s)
}

/// A datagram for one of the simulation's DNS sockets (a resolver's, or a server's
/// upstream socket)? Takes it and returns true.
pub(crate) fn client_rcv(sim: &mut Sim, ns: NsId, packet: &Ipv4Packet) -> bool {
    let IpPayload::Udp(d) = &packet.payload else {
        return false;
    };
    let local = (packet.header.dst, d.dport);
    let remote = (packet.header.src, d.sport);
    let tracing = sim.tracing();
    let Some(st) = sim.dns.as_mut() else {
        return false;
    };
    if let Some(i) = st
        .clients
        .iter()
        .position(|c| c.ns == ns && c.local == local && (!c.connected || c.remote == remote))
    {
        let msg = DnsMessage::parse(&d.data);
        let c = &mut st.clients[i];
        match msg {
            Ok(m) if m.response && c.waiting.contains(&m.id) => {
                c.waiting.retain(|id| *id != m.id);
                let text = tracing.then(|| m.summary(d.data.len()));
                c.answers.push((m, d.data.len()));
                if let Some(text) = text {
                    sim.step(Step::SocketDeliver {
                        detail: format!(
                            "DNS answer from {}:{} for the resolver's socket {}:{}: {text}",
                            remote.0, remote.1, local.0, local.1
                        ),
                    });
                }
            }
            Ok(m) => sim.drop_packet(
                DropReason::NotSpecified,
                format!("the resolver waits for no answer with id {}: ignored", m.id),
            ),
            Err(e) => sim.drop_packet(
                DropReason::NotSpecified,
                format!("not a DNS message ({e}): ignored"),
            ),
        }
        return true;
    }
    if let Some(i) = st
        .forwards
        .iter()
        .position(|f| f.ns == ns && f.local == local && f.upstream == remote.0)
    {
        let f = st.forwards.remove(i);
        let Ok(up) = DnsMessage::parse(&d.data) else {
            sim.drop_packet(
                DropReason::NotSpecified,
                "the upstream's answer is not a DNS message: dropped",
            );
            return true;
        };
        let process = server_process(sim, ns);
        if sim.tracing() {
            sim.step(Step::SocketDeliver {
                detail: format!(
                    "{process} gets the upstream's answer on {}:{}: {}",
                    local.0,
                    local.1,
                    up.summary(d.data.len())
                ),
            });
        }
        let mut answer = up.clone();
        answer.id = f.query.id;
        // CoreDNS writes its replies uncompressed when they fit, and echoes the
        // client's cookie (its EDNS options are the request's supported ones).
        let coredns = is_coredns(sim, ns);
        if coredns {
            answer.compress = false;
            // The cache plugin caps the TTLs of the reply it passes on too (cache.go:
            // "Apply capped TTL to this reply to avoid jarring TTL experience").
            if let Some(cap) = cache_cap(sim, ns) {
                for r in answer.answers.iter_mut().chain(answer.authority.iter_mut()) {
                    r.ttl = r.ttl.min(cap);
                }
            }
            if let (Some(e), Some(qe)) = (answer.edns.as_mut(), f.query.edns.as_ref()) {
                e.cookie = qe.cookie.clone();
            }
            if let Some((n, t)) = &f.query.question {
                if let Some(st) = sim.dns.as_mut() {
                    st.cache
                        .insert((ns, n.to_ascii_lowercase(), t.number()), answer.clone());
                }
            }
        }
        if sim.tracing() {
            sim.step(Step::Transport {
                detail: format!(
                    "{process} answers {}:{} from {}:{}",
                    f.client.0, f.client.1, f.served_at.0, f.served_at.1
                ),
            });
        }
        send_udp(
            sim,
            ns,
            Some(f.served_at.0),
            f.served_at.1,
            f.client,
            answer.emit(),
        );
        return true;
    }
    false
}

/// The `cache TTL` of the CoreDNS server in `ns`, if it has the plugin.
fn cache_cap(sim: &Sim, ns: NsId) -> Option<u32> {
    use crate::dns::corefile::Plugin;
    use crate::dns::server::ServerKind;
    let s = sim.world.netns[ns].dns.server.as_ref()?;
    let ServerKind::CoreDns { corefile, .. } = &s.kind else {
        return None;
    };
    match corefile.find(|p| matches!(p, Plugin::Cache { .. }))? {
        Plugin::Cache { ttl } => Some(*ttl),
        _ => None,
    }
}

fn server_process(sim: &Sim, ns: NsId) -> String {
    sim.world.netns[ns]
        .dns
        .server
        .as_ref()
        .map(|s| s.process.clone())
        .unwrap_or_else(|| "the server".into())
}

fn is_coredns(sim: &Sim, ns: NsId) -> bool {
    sim.world.netns[ns]
        .dns
        .server
        .as_ref()
        .is_some_and(|s| matches!(s.kind, crate::dns::server::ServerKind::CoreDns { .. }))
}

/// A datagram delivered to a listening socket: if a DNS server process owns it, it
/// answers or forwards.
pub(crate) fn server_rcv(sim: &mut Sim, ns: NsId, packet: &Ipv4Packet) {
    let IpPayload::Udp(d) = &packet.payload else {
        return;
    };
    let Some(server) = sim.world.netns[ns].dns.server.clone() else {
        return;
    };
    if d.dport != server.port {
        return;
    }
    let client = (packet.header.src, d.sport);
    let at = (packet.header.dst, d.dport);
    let q = match DnsMessage::parse(&d.data) {
        Ok(q) if !q.response => q,
        Ok(_) => {
            sim.drop_packet(
                DropReason::NotSpecified,
                format!("{}: a response on the server port: ignored", server.process),
            );
            return;
        }
        Err(e) => {
            sim.drop_packet(
                DropReason::NotSpecified,
                format!("{}: not a DNS query ({e}): ignored", server.process),
            );
            return;
        }
    };
    let coredns = is_coredns(sim, ns);
    let cached = q.question.as_ref().and_then(|(n, t)| {
        sim.dns
            .as_ref()
            .and_then(|st| st.cache.get(&(ns, n.to_ascii_lowercase(), t.number())))
            .cloned()
    });
    let decision = match cached {
        Some(mut msg) if coredns => {
            msg.id = q.id;
            Decision::Reply {
                msg,
                why: "cache plugin: answered from the cache".into(),
            }
        }
        _ => decide(&server, &sim.world.netns[ns].dns, &q),
    };
    match decision {
        Decision::Reply { mut msg, why } => {
            if coredns {
                msg.compress = false;
                if let (Some(e), Some(qe)) = (msg.edns.as_mut(), q.edns.as_ref()) {
                    e.cookie = qe.cookie.clone();
                }
            }
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: format!(
                        "{}: {why}; answer {}:{} from {}:{}",
                        server.process, client.0, client.1, at.0, at.1
                    ),
                });
            }
            send_udp(sim, ns, Some(at.0), at.1, client, msg.emit());
        }
        Decision::Forward { to, why } => {
            let port = super::l4::ephemeral_port(&format!(
                "{}:{}:{}:{}",
                sim.world.netns[ns].name, client.0, client.1, q.id
            ));
            // A forwarder passes the client's message on as it came (same id, same EDNS).
            if sim.tracing() {
                sim.step(Step::Transport {
                    detail: format!(
                        "{}: {why} (from port {port}, the client's message as it came)",
                        server.process
                    ),
                });
            }
            let src = send_udp(sim, ns, None, port, (to, 53), d.data.clone());
            if let (Some(src), Some(st)) = (src, sim.dns.as_mut()) {
                st.forwards.push(Forward {
                    ns,
                    local: (src, port),
                    upstream: to,
                    query: q,
                    client,
                    served_at: at,
                });
            }
        }
    }
}

/// An ICMP error about a datagram from one of the resolver's connected sockets.
pub(crate) fn on_icmp_error(
    sim: &mut Sim,
    ns: NsId,
    q: &QuotedDatagram,
    from: Ipv4Addr,
    icmp: &IcmpRepr,
) -> bool {
    let Some(st) = sim.dns.as_mut() else {
        return false;
    };
    let Some((sp, dp)) = q.ports else {
        return false;
    };
    let Some(c) = st.clients.iter_mut().find(|c| {
        c.ns == ns && c.local == (q.header.src, sp) && c.remote.1 == dp && q.protocol == 17
    }) else {
        return false;
    };
    if !c.connected {
        if sim.tracing() {
            sim.step(Step::SocketDeliver {
                detail: format!(
                    "ICMP error from {from}: the resolver's socket is not connected (musl), so it never learns of it"
                ),
            });
        }
        return true;
    }
    let Some(errno) = super::l4::icmp_errno_text(icmp) else {
        return false;
    };
    c.error = Some(errno.to_string());
    if sim.tracing() {
        sim.step(Step::SocketDeliver {
            detail: format!("ICMP error from {from} for the resolver's socket: {errno}"),
        });
    }
    true
}
