//! The engine: a deterministic, event-driven walk of the Linux packet path.
//!
//! ```text
//!  program ──► route_output ──► ip_output ──► neigh ──► transmit ──► (wire) ──┐
//!                                                  ▲                          │
//!            local_deliver ◄── route_input ◄── ip_rcv ◄── receive/bridge ◄────┘
//!                                  │
//!                                  └──► forward ──► ip_output ...
//! ```
//!
//! Frames travel between devices as bytes (built and parsed by [`crate::wire`]); every
//! arrival, timer and program action is an event with a simulated time, processed in
//! (time, sequence) order, so the same world always gives the same trace. Each stage is a
//! module named after the kernel function it stands for.

mod arp;
mod bridge;
pub mod connect;
mod dns;
pub mod http;
mod icmp;
mod ip_input;
pub mod ip_output;
mod ipip;
mod l4;
mod netfilter;
pub mod ping;
mod receive;
pub mod resolver;
mod vxlan;

use crate::model::{IfId, NsId, World};
use crate::trace::{Cause, DropReason, Hop, Step, Trace};
use crate::wire::Ipv4Packet;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::Ipv4Addr;

pub use ip_output::{route_output, OutputError, OutputRoute};
pub use ping::{PingOptions, PingRun};

/// Time a frame takes to cross a cable or a veth, in microseconds.
pub const WIRE_DELAY_US: u64 = 10;
/// ARP retransmission interval (`retrans_time_ms`).
pub const ARP_RETRANS_US: u64 = 1_000_000;
/// ARP probes before giving up (`mcast_solicit`).
pub const ARP_MCAST_SOLICIT: u8 = 3;
/// Packets queued per unresolved neighbour (`unres_qlen`, in packets).
pub const ARP_UNRES_QLEN: usize = 101;
/// The hops one ping request or one connection may produce before the simulation stops
/// it as runaway (a broadcast storm on a bridge loop, which Linux without STP keeps up
/// forever): a ping of N requests may take N times this, up to [`MAX_TRACE_HOPS`].
pub const MAX_HOPS: usize = 10_000;
/// The most hops any one trace holds, whatever the request count (about 3 KB each: this
/// bounds a trace's memory to a few hundred MB).
pub const MAX_TRACE_HOPS: usize = 100_000;

/// Something that will happen at a simulated time.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    /// Bytes arrive at a device from its wire.
    Arrive {
        dev: IfId,
        bytes: Vec<u8>,
        hop: usize,
    },
    /// A packet sent to one of the namespace's own addresses comes back through `lo`,
    /// with what its skb carries (`loopback_xmit` keeps the conntrack entry and the mark).
    Loopback {
        ns: NsId,
        packet: Ipv4Packet,
        meta: netfilter::Meta,
        hop: usize,
    },
    /// ARP retransmission or failure for an INCOMPLETE entry.
    NeighTimer {
        ns: NsId,
        dev: IfId,
        ip: Ipv4Addr,
        probes: u8,
        hop: usize,
    },
    /// The ping program sends its next echo request.
    PingSend { seq: u16 },
    /// The nc program sends its SYN (or a retransmission) or its datagram.
    ConnectSend { attempt: u8 },
    /// A timer of an HTTP program (curl, nginx).
    Http(http::HttpEvent),
}

#[derive(Debug)]
struct Queued {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// A packet waiting for its next hop's MAC.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub packet: Ipv4Packet,
    /// The skb's mark, which a tunnel device the packet leaves by passes on to the outer
    /// packet.
    pub mark: u32,
}

/// A simulation in progress: the world (mutated as the kernel would: neighbour caches,
/// FDBs), the event queue and the trace being written.
pub struct Sim {
    /// The world, as packets change it.
    pub world: World,
    /// The trace so far.
    pub trace: Trace,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    pub(crate) arp_queue: BTreeMap<(NsId, IfId, Ipv4Addr), Vec<Pending>>,
    pub(crate) ping: Option<ping::PingState>,
    pub(crate) connect: Option<connect::ConnectState>,
    pub(crate) dns: Option<dns::DnsState>,
    pub(crate) http: Option<http::HttpState>,
    pub(crate) tcbs: Vec<l4::Tcb>,
    /// Connections not yet confirmed, each owned by the packet that created it.
    pub(crate) unconfirmed: Vec<netfilter::Unconfirmed>,
    /// The first of [`Sim::unconfirmed`] created while handling the current event: the
    /// older ones belong to packets already gone (dropped), unless a packet still holds one.
    pub(crate) ct_live_from: usize,
    pub(crate) chance: Box<dyn crate::netfilter::eval::Chance>,
    pub(crate) nth: crate::netfilter::eval::NthState,
    /// iptables rules evaluated so far (what makes iptables mode slow with many Services).
    pub rules_evaluated: usize,
    /// The rule or policy behind the last DROP/REJECT verdict: `table:chain:rule:N TEXT`.
    pub(crate) last_nf_cause: Option<String>,
    current: Option<usize>,
    stopped: bool,
    /// The hops this simulation may produce ([`MAX_HOPS`] per request).
    hop_budget: usize,
    /// Why the simulation was stopped early, when a limit stopped it: what the program's
    /// output ends with (`hopsim: stopped after ...`).
    pub limit_hit: Option<String>,
    /// Quiet mode ([`Sim::quiet`]): hops are opened, but only drop steps are recorded.
    quiet: bool,
}

impl Sim {
    /// Start a simulation on a world, at the world's clock.
    pub fn new(world: World) -> Sim {
        let now = world.clock_us;
        Sim {
            world,
            trace: Trace::default(),
            now,
            seq: 0,
            queue: BinaryHeap::new(),
            arp_queue: BTreeMap::new(),
            ping: None,
            connect: None,
            dns: None,
            http: None,
            tcbs: Vec::new(),
            unconfirmed: Vec::new(),
            ct_live_from: 0,
            chance: Box::new(crate::netfilter::eval::SeededChance::new(0)),
            nth: Default::default(),
            rules_evaluated: 0,
            last_nf_cause: None,
            current: None,
            stopped: false,
            hop_budget: MAX_HOPS,
            limit_hit: None,
            quiet: false,
        }
    }

    /// Quiet mode, for callers that need only how a run ended (`hopsim reach`): hops are
    /// still opened (the hop budget and the dropping hop's number and name stay those of
    /// the full trace), but only [`Step::Drop`] steps are recorded, and the steps that are
    /// costly to build (frames, words) are not built at all.
    pub fn quiet(mut self) -> Sim {
        self.quiet = true;
        self
    }

    /// Whether steps other than drops are recorded (false in quiet mode): callers check it
    /// before building a costly step.
    pub(crate) fn tracing(&self) -> bool {
        !self.quiet
    }

    /// Allow [`MAX_HOPS`] hops for each of `requests` requests, up to [`MAX_TRACE_HOPS`].
    pub(crate) fn budget_for(&mut self, requests: usize) {
        self.hop_budget = MAX_HOPS.saturating_mul(requests.max(1)).min(MAX_TRACE_HOPS);
    }

    /// Seed the draws of `-m statistic --mode random`.
    pub fn with_chance(mut self, chance: Box<dyn crate::netfilter::eval::Chance>) -> Sim {
        self.chance = chance;
        self
    }

    /// Simulated time now, in microseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    pub(crate) fn schedule(&mut self, delay: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at: self.now + delay,
            seq: self.seq,
            event,
        }));
    }

    /// Open a new hop in a namespace; later steps go to it.
    pub(crate) fn begin_hop(&mut self, ns: NsId, cause: Cause) -> usize {
        let index = self.trace.hops.len();
        self.trace.hops.push(Hop {
            index,
            time_us: self.now,
            node: self.world.netns[ns].name.clone(),
            cause,
            steps: Vec::new(),
        });
        self.current = Some(index);
        index
    }

    /// The hop being written.
    pub(crate) fn hop(&self) -> usize {
        self.current.unwrap_or(0)
    }

    /// Append a step to the current hop.
    pub(crate) fn step(&mut self, s: Step) {
        if self.quiet && !matches!(s, Step::Drop { .. }) {
            return;
        }
        if let Some(h) = self.current.and_then(|i| self.trace.hops.get_mut(i)) {
            h.steps.push(s);
        }
    }

    /// Record a drop in the current hop.
    pub(crate) fn drop_packet(&mut self, reason: DropReason, detail: impl Into<String>) {
        self.step(Step::Drop {
            reason,
            detail: detail.into(),
        });
    }

    /// Process events until the queue is empty, `until` (µs) is reached, or `done` says
    /// so. Returns the time reached.
    pub(crate) fn run(&mut self, until: u64) {
        while let Some(Reverse(q)) = self.queue.peek() {
            if q.at > until || self.stopped {
                break;
            }
            let Some(Reverse(q)) = self.queue.pop() else {
                break;
            };
            self.now = q.at;
            if self.trace.hops.len() >= self.hop_budget {
                let msg = limit_message(self.hop_budget);
                self.drop_packet(DropReason::SimLimit, msg.clone());
                self.limit_hit = Some(msg);
                self.stopped = true;
                break;
            }
            self.dispatch(q.event);
            if self.ping.as_ref().is_some_and(|p| p.finished())
                || self.dns.as_ref().is_some_and(|d| d.settled())
            {
                self.stopped = true;
            }
        }
    }

    /// The line a program's output ends with when the simulation was stopped by a limit.
    pub(crate) fn limit_line(&self) -> Option<String> {
        self.limit_hit.as_ref().map(|m| format!("hopsim: {m}"))
    }

    fn dispatch(&mut self, event: Event) {
        self.ct_live_from = self.unconfirmed.len();
        match event {
            Event::Arrive { dev, bytes, hop } => receive::netif_receive(self, dev, bytes, hop),
            Event::Loopback {
                ns,
                packet,
                meta,
                hop,
            } => {
                self.begin_hop(ns, Cause::Frame { hop });
                ip_input::loopback_rcv(self, ns, packet, meta);
            }
            Event::NeighTimer {
                ns,
                dev,
                ip,
                probes,
                hop,
            } => arp::neigh_timer(self, ns, dev, ip, probes, hop),
            Event::PingSend { seq } => ping::send(self, seq),
            Event::ConnectSend { attempt } => connect::send(self, attempt),
            Event::Http(ev) => http::on_event(self, ev),
        }
    }
}

/// What the hop limit says: the limit, the likely cause and what to do.
pub fn limit_message(budget: usize) -> String {
    format!(
        "stopped after {budget} hops, the limit of one trace ({MAX_HOPS} per request, at most \
         {MAX_TRACE_HOPS}): frames that never stop are a loop without TTL, such as two bridges \
         joined twice (Linux would storm forever; STP is not modelled): remove one of the \
         links, or send fewer requests"
    )
}
