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
mod layout;
mod netfilter;
pub mod ping;
mod receive;
pub mod resolver;
mod vxlan;

use crate::model::{IfId, NsId, World};
use crate::trace::{Cause, DropReason, Hop, Step, Trace};
use crate::wire::Ipv4Packet;
use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;

pub use ip_output::{route_output, OutputError, OutputRoute};
pub use layout::Layout;
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
        wire: Arc<OnWire>,
        hop: usize,
    },
    /// The same bytes arrive at each of `devs` in turn: a flood's copies, sent back to
    /// back. `Sim::flood` handles each arrival as an event of its own (the hop budget and
    /// a stop are checked between them); one event saves queueing a hundred.
    Flood {
        devs: Vec<IfId>,
        wire: Arc<OnWire>,
        hop: usize,
    },
    /// A packet sent to one of the namespace's own addresses comes back through `lo`,
    /// with what its skb carries (`loopback_xmit` keeps the conntrack entry and the mark).
    /// (Boxed: the queue moves every event, and most are small.)
    Loopback(Box<LoopbackEvent>),
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

impl Event {
    /// The arrival of the same bytes at each of `devs`, in order (none for no device).
    pub(crate) fn arrive_each(mut devs: Vec<IfId>, wire: Arc<OnWire>, hop: usize) -> Option<Event> {
        match devs.len() {
            0 => None,
            1 => Some(Event::Arrive {
                dev: devs.pop()?,
                wire,
                hop,
            }),
            _ => Some(Event::Flood { devs, wire, hop }),
        }
    }
}

/// What a loopback event carries.
#[derive(Clone, Debug)]
pub(crate) struct LoopbackEvent {
    pub ns: NsId,
    pub packet: Ipv4Packet,
    pub meta: netfilter::Meta,
    pub hop: usize,
}

/// A frame on a wire, shared by every copy of it a bridge floods. The receivers read the
/// frame the sender built: by the wire layer's contract ([`crate::wire`]) its bytes parse
/// back to that very frame, so they are not parsed again (debug builds check it for every
/// frame sent). The bytes themselves are emitted when something reads them (a trace's
/// record, a tunnel's payload), at most once.
#[derive(Debug)]
pub(crate) struct OnWire {
    bytes: std::sync::OnceLock<Arc<[u8]>>,
    frame: crate::wire::Frame,
}

impl OnWire {
    /// `frame` on the wire, with its bytes when the sender already emitted them.
    pub fn new(frame: crate::wire::Frame, bytes: Option<Arc<[u8]>>) -> Arc<OnWire> {
        if cfg!(debug_assertions) {
            let emitted = frame.emit();
            debug_assert!(
                bytes.as_deref().is_none_or(|b| *b == emitted[..]),
                "bytes that are not the frame's"
            );
            debug_assert_eq!(
                crate::wire::Frame::parse(&emitted).as_ref(),
                Ok(&frame),
                "a frame whose bytes do not parse back to it"
            );
        }
        let cell = std::sync::OnceLock::new();
        if let Some(b) = bytes {
            let _ = cell.set(b);
        }
        Arc::new(OnWire { bytes: cell, frame })
    }

    /// The frame, taken when this is the last reference to it, copied otherwise.
    pub fn into_frame(wire: Arc<OnWire>) -> crate::wire::Frame {
        match Arc::try_unwrap(wire) {
            Ok(w) => w.frame,
            Err(shared) => shared.frame.clone(),
        }
    }

    /// The frame, borrowed.
    pub fn frame(&self) -> &crate::wire::Frame {
        &self.frame
    }

    /// The frame's bytes (emitted on the first call).
    pub fn bytes(&self) -> &Arc<[u8]> {
        self.bytes.get_or_init(|| Arc::from(self.frame.emit()))
    }
}

/// The events to come, in (time, order scheduled) order: one FIFO per simulated time,
/// the times in order. Most events are frames a wire delay away, so the times are few and
/// each holds many events (a flood): pushing and popping are O(1) within a time, a new
/// time is most often the last, and an event is moved once, not sifted through a heap.
#[derive(Default)]
struct EventQueue {
    at: VecDeque<(u64, VecDeque<Event>)>,
    /// Emptied queues, kept for the next times (a trace has a time per wire crossing).
    spare: Vec<VecDeque<Event>>,
}

impl EventQueue {
    fn queue_at(&mut self, at: u64) -> &mut VecDeque<Event> {
        // From the back: a new event is most often for the latest time, or a later one.
        let i = match self.at.back() {
            Some((t, _)) if *t < at => self.at.len(),
            _ => self.at.partition_point(|(t, _)| *t < at),
        };
        if self.at.get(i).is_none_or(|(t, _)| *t != at) {
            let q = self.spare.pop().unwrap_or_default();
            self.at.insert(i, (at, q));
        }
        &mut self.at[i].1
    }

    fn push(&mut self, at: u64, event: Event) {
        self.queue_at(at).push_back(event);
    }

    /// Put an event back at the head of its time's queue (the rest of a flood a stop
    /// interrupted: the next run starts with it).
    fn push_front(&mut self, at: u64, event: Event) {
        self.queue_at(at).push_front(event);
    }

    /// The time of the next event.
    fn next_time(&self) -> Option<u64> {
        self.at.front().map(|(t, _)| *t)
    }

    /// The next event and its time.
    fn pop(&mut self) -> Option<(u64, Event)> {
        let (at, first) = self.at.front_mut()?;
        let at = *at;
        let event = first.pop_front();
        if first.is_empty() {
            if let Some((_, q)) = self.at.pop_front() {
                self.spare.push(q);
            }
        }
        event.map(|e| (at, e))
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
    queue: EventQueue,
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
    /// The namespace of the hop being written.
    current_ns: NsId,
    /// Hops opened so far (the trace's hop count; in quiet mode the trace keeps only the
    /// hops that get a step).
    hops_opened: usize,
    /// Quiet mode: the hop opened last, recorded only when it gets a step (its index,
    /// time and cause): a flood's bystanders cost no hop record.
    pending_hop: Option<(usize, u64, Cause)>,
    stopped: bool,
    /// The hops this simulation may produce ([`MAX_HOPS`] per request).
    hop_budget: usize,
    /// Why the simulation was stopped early, when a limit stopped it: what the program's
    /// output ends with (`hopsim: stopped after ...`).
    pub limit_hit: Option<String>,
    /// Quiet mode ([`Sim::quiet`]): hops are opened, but only drop steps are recorded.
    quiet: bool,
    /// The MACs of the bridges met so far ([`Sim::mac_of`]).
    bridge_macs: std::cell::RefCell<Vec<(IfId, crate::wire::Mac)>>,
    /// The forwarding ports of the bridges met so far ([`Sim::forwarding_ports`]).
    bridge_ports: std::cell::RefCell<Vec<(IfId, Arc<[ip_output::FloodPort]>)>>,
    /// The world's layout, when the caller built it ([`Sim::with_layout`]).
    layout: Option<Arc<Layout>>,
    /// The buffer frames are emitted into before their bytes go on the wire.
    scratch: Vec<u8>,
}

impl Sim {
    /// Start a simulation on a world, at the world's clock.
    pub fn new(world: World) -> Sim {
        let now = world.clock_us;
        Sim {
            world,
            trace: Trace::default(),
            now,
            queue: EventQueue::default(),
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
            current_ns: 0,
            hops_opened: 0,
            pending_hop: None,
            stopped: false,
            hop_budget: MAX_HOPS,
            limit_hit: None,
            quiet: false,
            bridge_macs: Default::default(),
            bridge_ports: Default::default(),
            layout: None,
            scratch: Vec::new(),
        }
    }

    /// Quiet mode, for callers that need only how a run ended (`hopsim reach`): hops are
    /// still opened (the hop budget and the dropping hop's number and name stay those of
    /// the full trace), but only [`Step::Drop`] steps are recorded (not the `OTHERHOST`
    /// drops of frames flooded to bystanders, which never end a probe), and the steps that
    /// are costly to build (frames, words) are not built at all. The caller must drop the
    /// world afterwards: the rules' packet counters are not kept.
    pub fn quiet(mut self) -> Sim {
        self.quiet = true;
        self
    }

    /// The MAC a device uses on the wire ([`World::mac_of`]). A bridge's is derived from
    /// its ports (a walk of its namespace's devices), and no event of a simulation adds,
    /// removes or readdresses a port, so it is derived once per simulation.
    pub(crate) fn mac_of(&self, dev: IfId) -> crate::wire::Mac {
        if !self.world.iface(dev).is_some_and(|i| i.is_bridge()) {
            return self.world.mac_of(dev);
        }
        if let Some(mac) = self.layout.as_ref().and_then(|l| l.bridge_mac(dev)) {
            return mac;
        }
        if let Some((_, mac)) = self.bridge_macs.borrow().iter().find(|(d, _)| *d == dev) {
            return *mac;
        }
        let mac = self.world.mac_of(dev);
        self.bridge_macs.borrow_mut().push((dev, mac));
        mac
    }

    /// The ports of bridge `br` that forward frames, in ifindex order. Found once per
    /// simulation (see [`Layout`]).
    pub(crate) fn forwarding_ports(&self, br: IfId) -> Arc<[ip_output::FloodPort]> {
        if let Some(ports) = self.layout.as_ref().and_then(|l| l.forwarding_ports(br)) {
            return ports;
        }
        if let Some((_, ports)) = self.bridge_ports.borrow().iter().find(|(b, _)| *b == br) {
            return ports.clone();
        }
        let ports = layout::forwarding_ports(&self.world, br);
        self.bridge_ports.borrow_mut().push((br, ports.clone()));
        ports
    }

    /// Whether `proxy_arp` is on for `dev` (of namespace `ns`).
    pub(crate) fn proxy_arp(&self, ns: NsId, dev: IfId) -> bool {
        match self.layout.as_ref().and_then(|l| l.dev(dev)) {
            Some(d) => d.proxy_arp(),
            None => self.world.netns[ns].sysctl.proxy_arp(dev),
        }
    }

    /// [`World::select_src`]; its fallback (a device without an address: every Calico
    /// veth) from the layout when there is one, instead of a walk of the node's devices.
    pub(crate) fn select_src(
        &self,
        ns: NsId,
        dev: Option<IfId>,
        dst: Ipv4Addr,
    ) -> Option<Ipv4Addr> {
        let Some(layout) = self.layout() else {
            return self.world.select_src(ns, dev, dst);
        };
        let src = self
            .world
            .src_on_dev(dev, dst)
            .or_else(|| layout.fallback_src(ns));
        debug_assert_eq!(src, self.world.select_src(ns, dev, dst));
        src
    }

    /// Whether a program may answer ARP requests on `dev` (of namespace `ns`): false means
    /// none does.
    pub(crate) fn may_respond_arp(&self, ns: NsId, dev: IfId) -> bool {
        match self.layout.as_ref().and_then(|l| l.dev(dev)) {
            Some(d) => d.responder(),
            None => !self.world.netns[ns].arp_responders.is_empty(),
        }
    }

    /// A frame's bytes, as they go on the wire (emitted into the simulation's buffer, then
    /// copied into the shared bytes: one allocation per frame, not two).
    pub(crate) fn emit(&mut self, frame: &crate::wire::Frame) -> Arc<[u8]> {
        frame.emit_to(&mut self.scratch);
        Arc::from(self.scratch.as_slice())
    }

    /// The world's layout, when the caller built it.
    pub(crate) fn layout(&self) -> Option<&Layout> {
        self.layout.as_deref()
    }

    /// Run on a world whose [`Layout`] the caller built (it must be this world's, or that of
    /// the world this one is a copy of).
    pub fn with_layout(mut self, layout: Arc<Layout>) -> Sim {
        self.layout = Some(layout);
        self
    }

    /// Whether steps other than drops are recorded (false in quiet mode): callers check it
    /// before building a costly step.
    pub(crate) fn tracing(&self) -> bool {
        !self.quiet
    }

    /// Whether the world this simulation leaves behind may be looked at (`iptables -L -v`
    /// after a ping): false in quiet mode, whose callers drop it, so state only a listing
    /// shows (the rules' packet counters) is not kept.
    pub(crate) fn keeps_world(&self) -> bool {
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
        self.queue.push(self.now + delay, event);
    }

    /// Open a new hop in a namespace; later steps go to it.
    pub(crate) fn begin_hop(&mut self, ns: NsId, cause: Cause) -> usize {
        let index = self.hops_opened;
        self.hops_opened += 1;
        self.current = Some(index);
        self.current_ns = ns;
        if self.quiet {
            // Recorded by `step` if it gets one (a drop).
            self.pending_hop = Some((index, self.now, cause));
            return index;
        }
        self.trace.hops.push(Hop {
            index,
            time_us: self.now,
            node: self.world.netns[ns].name.clone(),
            cause,
            // A traced hop has a handful of steps (receive, a decision or two, transmit).
            steps: Vec::with_capacity(6),
        });
        index
    }

    /// The hop being written.
    pub(crate) fn hop(&self) -> usize {
        self.current.unwrap_or(0)
    }

    /// Append a step to the current hop.
    pub(crate) fn step(&mut self, s: Step) {
        // Quiet mode keeps the drops that may end a probe; a frame flooded to a bystander
        // (OTHERHOST) never does.
        if self.quiet
            && !matches!(&s, Step::Drop { reason, .. } if *reason != DropReason::Otherhost)
        {
            return;
        }
        let Some(current) = self.current else {
            return;
        };
        if let Some((index, time_us, cause)) = self.pending_hop.take_if(|p| p.0 == current) {
            self.trace.hops.push(Hop {
                index,
                time_us,
                node: self.world.netns[self.current_ns].name.clone(),
                cause,
                steps: Vec::new(),
            });
        }
        if let Some(h) = self.trace.hops.last_mut().filter(|h| h.index == current) {
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
        while let Some(at) = self.queue.next_time() {
            if at > until || self.stopped {
                break;
            }
            let Some((at, event)) = self.queue.pop() else {
                break;
            };
            self.now = at;
            // A flood checks the budget before each of its arrivals.
            let flood = matches!(event, Event::Flood { .. });
            if !flood && !self.within_budget() {
                break;
            }
            self.dispatch(event);
            if !flood {
                self.check_finished();
            }
        }
    }

    /// A flood's arrivals, each an event of its own: the budget and the stop are checked
    /// between them, and a stop leaves the rest queued.
    fn flood(&mut self, devs: Vec<IfId>, wire: Arc<OnWire>, hop: usize) {
        let flood = if self.quiet {
            receive::FloodFrame::of(self, &wire)
        } else {
            None
        };
        let mut devs = devs.into_iter();
        while let Some(dev) = devs.next() {
            if !self.within_budget() {
                self.requeue(devs.collect(), wire, hop);
                return;
            }
            self.ct_live_from = self.unconfirmed.len();
            match flood
                .as_ref()
                .and_then(|f| receive::quiet_bystander(self, dev, f, &wire))
            {
                // Nothing happens there but the hop.
                Some(ns) => {
                    self.begin_hop(ns, Cause::Frame { hop });
                }
                None => receive::netif_receive(self, dev, wire.clone(), hop),
            }
            self.check_finished();
            if self.stopped {
                self.requeue(devs.collect(), wire, hop);
                return;
            }
        }
    }

    /// Whether another event may run; if not, the limit is recorded and the run stopped.
    #[inline]
    fn within_budget(&mut self) -> bool {
        self.hops_opened < self.hop_budget || self.out_of_budget()
    }

    /// The hop budget is spent: the limit is recorded and the run stopped (false).
    #[cold]
    fn out_of_budget(&mut self) -> bool {
        let msg = limit_message(self.hop_budget);
        self.drop_packet(DropReason::SimLimit, msg.clone());
        self.limit_hit = Some(msg);
        self.stopped = true;
        false
    }

    /// A program that has its answer stops the run.
    fn check_finished(&mut self) {
        if self.ping.as_ref().is_some_and(|p| p.finished())
            || self.dns.as_ref().is_some_and(|d| d.settled())
        {
            self.stopped = true;
        }
    }

    /// Queue again the devices of a flood not reached yet when the run stopped.
    fn requeue(&mut self, devs: Vec<IfId>, wire: Arc<OnWire>, hop: usize) {
        if let Some(event) = Event::arrive_each(devs, wire, hop) {
            self.queue.push_front(self.now, event);
        }
    }

    /// The line a program's output ends with when the simulation was stopped by a limit.
    pub(crate) fn limit_line(&self) -> Option<String> {
        self.limit_hit.as_ref().map(|m| format!("hopsim: {m}"))
    }

    fn dispatch(&mut self, event: Event) {
        self.ct_live_from = self.unconfirmed.len();
        match event {
            Event::Arrive { dev, wire, hop } => receive::netif_receive(self, dev, wire, hop),
            Event::Flood { devs, wire, hop } => self.flood(devs, wire, hop),
            Event::Loopback(l) => {
                let LoopbackEvent {
                    ns,
                    packet,
                    meta,
                    hop,
                } = *l;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Cause;
    use crate::wire::{ArpOp, ArpRepr, Mac};

    proptest::proptest! {
        /// The queue hands events out in (time, order pushed) order, an event put back at
        /// the front of its time first, whatever the order of the times pushed.
        #[test]
        fn event_queue_is_time_then_fifo(ops in proptest::collection::vec((0u64..6, proptest::bool::ANY, proptest::bool::ANY), 0..40)) {
            let mut q = EventQueue::default();
            let mut model: Vec<(u64, i64, u16)> = Vec::new();
            let mut front = 0i64;
            for (n, (at, to_front, pop)) in ops.into_iter().enumerate() {
                let seq = n as u16;
                if pop {
                    model.sort();
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    let got = q.pop().map(|(t, e)| match e {
                        Event::PingSend { seq } => (t, seq),
                        _ => unreachable!(),
                    });
                    proptest::prop_assert_eq!(got, want.map(|(t, _, s)| (t, s)));
                    continue;
                }
                let order = if to_front { front -= 1; front } else { i64::from(seq) };
                model.push((at, order, seq));
                if to_front {
                    q.push_front(at, Event::PingSend { seq });
                } else {
                    q.push(at, Event::PingSend { seq });
                }
                model.sort();
                proptest::prop_assert_eq!(q.next_time(), model.first().map(|m| m.0));
            }
        }
    }

    /// A bridge with five namespaces on it: `a` asks, `b` owns the address asked for, `c`
    /// is a plain bystander, `d` holds a stale entry for `a`'s address (a bystander the
    /// request refreshes) and `e` has proxy ARP on and a route elsewhere for it.
    const LAN: &str = "name: lan
machines:
  host:
    interfaces:
      br0: { type: bridge }
      va: { veth: a/eth0, master: br0 }
      vb: { veth: b/eth0, master: br0 }
      vc: { veth: c/eth0, master: br0 }
      vd: { veth: d/eth0, master: br0 }
      ve: { veth: e/eth0, master: br0 }
    namespaces:
      a: { interfaces: { eth0: { addr: 10.0.0.1/24 } } }
      b: { interfaces: { eth0: { addr: 10.0.0.2/24 } } }
      c: { interfaces: { eth0: { addr: 10.0.0.3/24 } } }
      d:
        interfaces: { eth0: { addr: 10.0.0.4/24 } }
        neigh: [10.0.0.1 lladdr 02:00:00:00:00:99 dev eth0 nud stale]
      e:
        interfaces: { eth0: { addr: 10.0.0.5/24 }, dummy0: { type: dummy, addr: 10.9.0.1/24 } }
        routes: [10.0.0.2/32 dev dummy0]
        sysctl: { net.ipv4.ip_forward: 1, net.ipv4.conf.eth0.proxy_arp: 1 }
";

    fn lan() -> World {
        crate::format::yaml::load_yaml(
            std::path::Path::new("lan.yaml"),
            LAN,
            crate::format::LoadOptions::default(),
        )
        .expect("loads")
        .world
    }

    /// `a` broadcasts a who-has for 10.0.0.2: the bridge floods it to the other four.
    fn ask(sim: &mut Sim) {
        let a = sim.world.resolve_ns("a").expect("a");
        let eth0 = sim.world.find_iface(a, "eth0").expect("eth0");
        let mac = sim.mac_of(eth0);
        sim.begin_hop(a, Cause::Program);
        let ip = |s: &str| s.parse().expect("ip");
        let frame = arp::who_has(mac, ip("10.0.0.1"), ip("10.0.0.2"));
        ip_output::transmit(sim, eth0, frame);
    }

    fn neighbours(w: &World) -> Vec<Vec<crate::model::Neighbour>> {
        w.live_netns().map(|(_, n)| n.neigh.clone()).collect()
    }

    #[test]
    fn a_quiet_flood_leaves_the_world_and_the_hop_count_of_the_traced_one() {
        let mut traced = Sim::new(lan());
        let mut quiet = Sim::new(lan())
            .with_layout(Arc::new(Layout::of(&lan())))
            .quiet();
        for sim in [&mut traced, &mut quiet] {
            ask(sim);
            sim.run(u64::MAX);
        }
        assert_eq!(neighbours(&quiet.world), neighbours(&traced.world));
        assert_eq!(quiet.hops_opened, traced.hops_opened);
        // a's ask, the bridge, four receivers, then two replies (b's and e's proxy reply),
        // each through the bridge to a.
        assert_eq!(traced.hops_opened, 10);
        let d = traced.world.resolve_ns("d").expect("d");
        let entry = traced.world.netns[d].neigh.first().expect("d's entry");
        assert_ne!(entry.mac, Some("02:00:00:00:00:99".parse().expect("mac")));
        // Only the plain bystander c was taken by the quiet path; b, d and e were not
        // ignored (answered, refreshed, proxied).
        let ignored: Vec<&str> = ["b", "c", "d", "e"]
            .into_iter()
            .filter(|n| {
                let ns = quiet.world.resolve_ns(n).expect("ns");
                let dev = quiet.world.find_iface(ns, "eth0").expect("eth0");
                let lan = lan();
                let fresh = Sim::new(lan);
                arp::request_ignored(
                    &fresh,
                    ns,
                    dev,
                    &ArpRepr {
                        op: ArpOp::Request,
                        sender_mac: Mac::ZERO,
                        sender_ip: "10.0.0.1".parse().expect("ip"),
                        target_mac: Mac::ZERO,
                        target_ip: "10.0.0.2".parse().expect("ip"),
                    },
                )
            })
            .collect();
        assert_eq!(ignored, ["c"]);
    }

    #[test]
    fn a_flood_cut_by_the_hop_budget_leaves_the_rest_queued_in_order() {
        let mut sim = Sim::new(lan());
        ask(&mut sim);
        // a's hop, the bridge's, b's: the budget runs out before c.
        sim.hop_budget = 3;
        sim.run(u64::MAX);
        assert_eq!(sim.hops_opened, 3);
        assert!(sim.limit_hit.is_some());
        // c's arrival was the event the limit stopped; d's and e's are still queued.
        let Some((_, Event::Flood { devs, .. })) = sim.queue.pop() else {
            panic!("the rest of the flood is queued");
        };
        let names: Vec<String> = devs
            .iter()
            .map(|d| sim.world.qualified_ifname(*d))
            .collect();
        assert_eq!(names, ["d/eth0", "e/eth0"]);
    }
}
