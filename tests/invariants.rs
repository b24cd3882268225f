//! Invariants of every trace the engine writes, checked over generated topologies (the
//! generator of tests/properties.rs, in scripts) and over every expectation of every
//! scenario (tunnels, NAT, clusters): the same input gives the same bytes in every output
//! format; every frame has a cause; a forwarded packet's TTL never grows; every IPv4,
//! ICMP, TCP and UDP checksum on the wire is valid (checked from the bytes, with etherparse
//! slicing them); and every conntrack entry's reply tuple leads back to it.

use etherparse::{Ipv4HeaderSlice, NetSlice, SlicedPacket, TransportSlice};
use hopsim_core::engine::connect::{connect, ConnectOptions};
use hopsim_core::engine::http::{curl, CurlRequest};
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::format::script::run_script;
use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::model::{L4Proto, World};
use hopsim_core::netfilter::conntrack::Dir;
use hopsim_core::render::{json, pcap, text};
use hopsim_core::trace::{Cause, Step, Trace};
use hopsim_core::wire::{IpPayload, L3};
use proptest::prelude::*;
use std::net::Ipv4Addr;

/// RFC 1071: the one's-complement sum of 16-bit words, folded.
fn ones_sum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for c in chunks {
        for w in c.chunks(2) {
            let v = u32::from(w[0]) << 8 | u32::from(*w.get(1).unwrap_or(&0));
            sum += v;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Check every checksum of one IPv4 packet (and of the packet or frame it carries, for
/// ipip and VXLAN). Returns what is wrong.
fn check_ipv4(bytes: &[u8], what: &str) -> Result<(), String> {
    let h = Ipv4HeaderSlice::from_slice(bytes).map_err(|e| format!("{what}: {e}"))?;
    if h.header_checksum() != h.to_header().calc_header_checksum() {
        return Err(format!("{what}: bad IPv4 header checksum"));
    }
    let hl = usize::from(h.ihl()) * 4;
    let total = usize::from(h.total_len());
    if total > bytes.len() || total < hl {
        return Err(format!(
            "{what}: total length {total} vs {} bytes",
            bytes.len()
        ));
    }
    let l4 = &bytes[hl..total];
    let pseudo = |proto: u8| {
        let mut p = Vec::with_capacity(12);
        p.extend_from_slice(&h.source());
        p.extend_from_slice(&h.destination());
        p.extend_from_slice(&[0, proto]);
        p.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        p
    };
    match h.protocol().0 {
        1 if ones_sum(&[l4]) != 0xffff => Err(format!("{what}: bad ICMP checksum")),
        6 if ones_sum(&[&pseudo(6), l4]) != 0xffff => Err(format!("{what}: bad TCP checksum")),
        17 if l4.len() >= 8 && l4[6..8] != [0, 0] && ones_sum(&[&pseudo(17), l4]) != 0xffff => {
            Err(format!("{what}: bad UDP checksum"))
        }
        // VXLAN (8472 or 4789): the carried frame.
        17 if l4.len() >= 16 && matches!(u16::from_be_bytes([l4[2], l4[3]]), 8472 | 4789) => {
            check_frame(&l4[16..], &format!("{what} (VXLAN inner)"))
        }
        4 => check_ipv4(l4, &format!("{what} (ipip inner)")),
        _ => Ok(()),
    }
}

/// Check one Ethernet frame's checksums, slicing it with etherparse.
fn check_frame(bytes: &[u8], what: &str) -> Result<(), String> {
    let s = SlicedPacket::from_ethernet(bytes).map_err(|e| format!("{what}: {e}"))?;
    if let Some(NetSlice::Ipv4(ip)) = &s.net {
        let off = bytes.len() - ip.header().slice().len() - ip.payload().payload.len();
        check_ipv4(&bytes[off..], what)?;
        if let Some(TransportSlice::Udp(u)) = &s.transport {
            if u.checksum() != 0 {
                let c = u
                    .to_header()
                    .calc_checksum_ipv4(&ip.header().to_header(), u.payload())
                    .map_err(|e| format!("{what}: {e}"))?;
                if c != u.checksum() {
                    return Err(format!("{what}: etherparse finds a bad UDP checksum"));
                }
            }
        }
    }
    Ok(())
}

/// Every frame on the wire has valid checksums.
fn checksums_valid(t: &Trace) -> Result<(), String> {
    for (h, dev, f) in t.transmitted() {
        check_frame(f.bytes(), &format!("hop {} {dev} {}", h.index, f.summary()))?;
    }
    Ok(())
}

/// No packet from nothing: every hop caused by a frame or a timer names an earlier hop,
/// a frame-caused hop's earlier hop transmitted something, and the frame it received is
/// one of the frames that hop put on the wire, byte for byte.
fn causes_hold(t: &Trace) -> Result<(), String> {
    for h in &t.hops {
        match &h.cause {
            Cause::Program => {}
            Cause::Timer { hop } if *hop < h.index => {}
            &Cause::Frame { hop } if hop < h.index => {
                let sent: Vec<String> = t.hops[hop]
                    .steps
                    .iter()
                    .filter_map(|s| match s {
                        Step::Transmit { frame, .. } => Some(frame.hex()),
                        _ => None,
                    })
                    .collect();
                // A packet to one of our own addresses comes back through lo without a
                // frame: its cause routed it out.
                let sent_any = !sent.is_empty()
                    || t.hops[hop]
                        .steps
                        .iter()
                        .any(|s| matches!(s, Step::TransmitIp { .. } | Step::RouteOutput { .. }));
                if !sent_any {
                    return Err(format!(
                        "hop {} is caused by hop {hop}, which sent nothing",
                        h.index
                    ));
                }
                if let Some(Step::Receive { frame, .. }) = h.steps.first() {
                    if !sent.contains(&frame.hex()) {
                        return Err(format!(
                            "hop {} received {} which hop {hop} did not transmit",
                            h.index,
                            frame.summary()
                        ));
                    }
                }
            }
            c => return Err(format!("hop {} has cause {c:?} from the future", h.index)),
        }
    }
    Ok(())
}

/// A packet forwarded through a hop (same IP id, protocol and kind of payload in and out)
/// leaves with a TTL no higher than it arrived with; only new packets (replies, ICMP
/// errors, tunnel headers) start from a fresh TTL.
fn ttl_never_grows(t: &Trace) -> Result<(), String> {
    fn key(p: &hopsim_core::wire::Ipv4Packet) -> (u16, u8, String) {
        let kind = match &p.payload {
            IpPayload::Icmp(i) => format!("{:?}", std::mem::discriminant(i)),
            IpPayload::Tcp(t) => format!("{:?}", t.flags),
            _ => String::new(),
        };
        (p.header.id, p.protocol(), kind)
    }
    for h in &t.hops {
        let mut received = Vec::new();
        for s in &h.steps {
            match s {
                Step::Receive { frame, .. } => {
                    if let L3::Ipv4(p) = &frame.decoded().expect("the frame decodes").payload {
                        received.push((key(p), p.header.ttl));
                    }
                }
                Step::Transmit { frame, .. } => {
                    if let L3::Ipv4(p) = &frame.decoded().expect("the frame decodes").payload {
                        let k = key(p);
                        for (rk, ttl) in &received {
                            if *rk == k && p.header.ttl > *ttl {
                                return Err(format!(
                                    "hop {}: {} leaves with ttl {} after arriving with {ttl}",
                                    h.index,
                                    frame.summary(),
                                    p.header.ttl
                                ));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Every conntrack entry of every namespace is confirmed, and found again by its reply
/// tuple (the answer maps back to the connection it answers) and by its original tuple.
/// This covers packets that come back into the namespace that tracked them: through lo
/// (the skb keeps its entry) and over a veth pair whose two ends are in that namespace
/// (looked up again by tuple; a new entry whose reply would collide gets another source
/// port, `nf_nat_used_tuple`).
fn conntrack_reversible(w: &World) -> Result<(), String> {
    for ns in &w.netns {
        let ct = &ns.conntrack;
        for (i, e) in ct.entries.iter().enumerate() {
            if e.reply.proto != e.orig.proto {
                return Err(format!("{}: entry {i} changes protocol", ns.name));
            }
            // Only confirmed connections are in the table (an entry whose packet was
            // dropped before confirmation goes with the packet).
            if !e.confirmed {
                return Err(format!(
                    "{}: entry {i} is in the table unconfirmed",
                    ns.name
                ));
            }
            // A socket connected to itself (same address and port both ends) has one tuple
            // both ways: found as the original.
            if e.reply == e.orig {
                continue;
            }
            let lookup = |t| {
                ct.entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.confirmed)
                    .find_map(|(j, e)| {
                        if e.orig == t {
                            Some((j, Dir::Original))
                        } else if e.reply == t {
                            Some((j, Dir::Reply))
                        } else {
                            None
                        }
                    })
            };
            if lookup(e.reply) != Some((i, Dir::Reply)) {
                return Err(format!(
                    "{}: reply tuple of entry {i} leads elsewhere",
                    ns.name
                ));
            }
            if lookup(e.orig) != Some((i, Dir::Original)) {
                return Err(format!(
                    "{}: original tuple of entry {i} leads elsewhere",
                    ns.name
                ));
            }
            if !e.dnat() && !e.snat() && e.reply != e.orig.invert() {
                return Err(format!(
                    "{}: entry {i} without NAT is not inverted",
                    ns.name
                ));
            }
        }
    }
    Ok(())
}

/// Every output format twice, byte for byte.
fn outputs(t: &Trace, r: Option<&hopsim_core::engine::PingRun>) -> Vec<Vec<u8>> {
    let mut v = vec![
        text::render_trace(t, text::TextOptions { bytes: true }).into_bytes(),
        pcap::pcap(t),
        pcap::pcapng(t),
    ];
    if let Some(r) = r {
        v.push(json::trace_json("x", "10.0.0.1".parse().expect("ip"), r).into_bytes());
    }
    v
}

fn check_ping(w: &World, from: &str, dst: Ipv4Addr, opts: &PingOptions) -> Result<(), String> {
    let ns = w.resolve_ns(from)?;
    let a = ping(w.clone(), ns, dst, opts);
    let b = ping(w.clone(), ns, dst, opts);
    if outputs(&a.trace, Some(&a)) != outputs(&b.trace, Some(&b)) || a.lines != b.lines {
        return Err("the same ping gave different output".into());
    }
    checksums_valid(&a.trace)?;
    causes_hold(&a.trace)?;
    ttl_never_grows(&a.trace)?;
    conntrack_reversible(&a.world)
}

fn check_connect(w: &World, from: &str, dst: Ipv4Addr, port: u16, udp: bool) -> Result<(), String> {
    let ns = w.resolve_ns(from)?;
    let opts = ConnectOptions {
        proto: if udp { L4Proto::Udp } else { L4Proto::Tcp },
        ..ConnectOptions::default()
    };
    let a = connect(w.clone(), ns, dst, port, &opts);
    let b = connect(w.clone(), ns, dst, port, &opts);
    if outputs(&a.trace, None) != outputs(&b.trace, None) || a.lines != b.lines {
        return Err("the same connection gave different output".into());
    }
    checksums_valid(&a.trace)?;
    causes_hold(&a.trace)?;
    ttl_never_grows(&a.trace)?;
    conntrack_reversible(&a.world)
}

fn check_resolve(
    w: &World,
    from: &str,
    req: &hopsim_core::format::ResolveRequest,
) -> Result<(), String> {
    use hopsim_core::engine::resolver::resolve;
    let ns = w.resolve_ns(from)?;
    let a = resolve(w.clone(), ns, &req.name, &req.opts);
    let b = resolve(w.clone(), ns, &req.name, &req.opts);
    if outputs(&a.trace, None) != outputs(&b.trace, None) || a.lines != b.lines {
        return Err("the same lookup gave different output".into());
    }
    checksums_valid(&a.trace)?;
    causes_hold(&a.trace)?;
    ttl_never_grows(&a.trace)?;
    conntrack_reversible(&a.world)
}

fn check_curl(w: &World, from: &str, req: &CurlRequest) -> Result<(), String> {
    let ns = w.resolve_ns(from)?;
    let a = curl(w.clone(), ns, req);
    let b = curl(w.clone(), ns, req);
    if outputs(&a.trace, None) != outputs(&b.trace, None) || a.lines != b.lines {
        return Err("the same request gave different output".into());
    }
    checksums_valid(&a.trace)?;
    causes_hold(&a.trace)?;
    ttl_never_grows(&a.trace)?;
    conntrack_reversible(&a.world)
}

/// Every ping and connection every scenario expects, with every invariant.
#[test]
fn every_scenario_trace_keeps_the_invariants() {
    let mut checked = 0;
    for f in hopsim_tests::scenario_files() {
        let t = load_file(&f, LoadOptions::default()).expect("scenarios load");
        for e in &t.expects {
            // Scripts (`run:`) have their own tests; this covers every ping, nc, curl and
            // name-lookup expectation.
            if e.run.is_some() || !e.with.is_empty() {
                continue;
            }
            if let Some(req) = &e.resolve {
                if let Err(m) = check_resolve(&t.world, &e.from, req) {
                    panic!("{}:{}: {m}", f.display(), e.line);
                }
                checked += 1;
                continue;
            }
            if let Some(req) = &e.curl {
                if let Err(m) = check_curl(&t.world, &e.from, req) {
                    panic!("{}:{}: {m}", f.display(), e.line);
                }
                checked += 1;
                continue;
            }
            let dst: Ipv4Addr = e.to.parse().expect("checked at load");
            let r = match e.port {
                Some(p) => check_connect(&t.world, &e.from, dst, p, e.udp),
                None => check_ping(&t.world, &e.from, dst, &e.options),
            };
            if let Err(m) = r {
                panic!("{}:{}: {m}", f.display(), e.line);
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} traces checked");
}

/// The generator of tests/properties.rs, smaller: namespaces joined by veths, random
/// routes (loops included), forwarding and link states, and NAT on some.
fn arb_script() -> impl Strategy<Value = (String, usize, u8)> {
    (2usize..5)
        .prop_flat_map(|n| {
            (
                Just(n),
                prop::collection::vec((0..n, 0..n), 1..6),
                prop::collection::vec((0..n, 0u8..6, 0u8..6), 0..8),
                prop::collection::vec(any::<bool>(), n),
                prop::collection::vec(0u8..3, n),
                0..n,
                0u8..6,
            )
        })
        .prop_map(|(n, links, routes, fwd, nat, from, dst)| {
            let mut s = String::new();
            for i in 0..n {
                s.push_str(&format!("ip netns add n{i}\n"));
            }
            for (k, (a, b)) in links.iter().enumerate() {
                s.push_str(&format!(
                    "ip -n n{a} link add l{k}a type veth peer name l{k}b netns n{b}\n\
                     ip -n n{a} addr add 10.{k}.0.1/24 dev l{k}a\nip -n n{b} addr add 10.{k}.0.2/24 dev l{k}b\n\
                     ip -n n{a} link set l{k}a up\nip -n n{b} link set l{k}b up\n"
                ));
            }
            for (i, f) in fwd.iter().enumerate() {
                if *f {
                    s.push_str(&format!("ip netns exec n{i} sysctl -w net.ipv4.ip_forward=1\n"));
                }
                match nat[i] {
                    1 => s.push_str(&format!(
                        "ip netns exec n{i} iptables -t nat -A POSTROUTING -j MASQUERADE\n"
                    )),
                    2 => s.push_str(&format!(
                        "ip netns exec n{i} iptables -t nat -A PREROUTING -d 10.9.9.9 -j DNAT --to-destination 10.0.0.2\n"
                    )),
                    _ => {}
                }
                s.push_str(&format!("ip netns exec n{i} nc -lk -p 80 &\n"));
            }
            for (ns, net, via) in routes {
                s.push_str(&format!(
                    "ip -n n{ns} route add 10.{net}.0.0/24 via 10.{via}.0.2\nip -n n{ns} route add default via 10.{via}.0.1\n"
                ));
            }
            (s, from, dst)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// The invariants hold on generated topologies, for pings (with any TTL) and TCP and
    /// UDP connections (to real addresses and to a DNAT'ed one).
    #[test]
    fn generated_traces_keep_the_invariants((script, from, dst) in arb_script(), ttl in 1u8..8, udp in any::<bool>(), dnat in any::<bool>()) {
        let w = run_script("gen.sh", &script, LoadOptions::default()).expect("non-strict").world;
        let from = format!("n{from}");
        let dst = if dnat { Ipv4Addr::new(10, 9, 9, 9) } else { Ipv4Addr::new(10, dst, 0, 2) };
        let opts = PingOptions { ttl: Some(ttl), count: 2, ..PingOptions::default() };
        if let Err(m) = check_ping(&w, &from, dst, &opts) {
            return Err(TestCaseError::fail(format!("{m}\n{script}")));
        }
        if let Err(m) = check_connect(&w, &from, dst, 80, udp) {
            return Err(TestCaseError::fail(format!("{m}\n{script}")));
        }
    }
}
