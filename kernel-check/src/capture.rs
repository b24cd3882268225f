//! "Seen from": the source address of a probe's request as the destination received it.
//!
//! hopsim reports, for each probe, the source address (and, for `nc`, the port) of the
//! request as it was delivered in the namespace that answered it: `PingRun::seen_from`
//! is set when the echo request reaches `icmp_echo`, `ConnectRun::seen_from` when the SYN
//! reaches a listening socket or the datagram a bound socket. The real side measures the
//! same thing with `tcpdump`, the kernel's own SNMP counters and conntrack:
//!
//! 1. Before the first probe, every namespace of the case (the wrapper, which is the
//!    script's `host`, and every namespace in the case's private `/run/netns`) starts
//!    `tcpdump -p -nn -l -tt --immediate-mode -i any FILTER` (through `nsenter --net`),
//!    where FILTER keeps only requests: ICMP echo requests for `ping`, TCP segments with
//!    SYN and without ACK for `nc`, UDP for `nc -u` (no port in the filter: a DNAT can
//!    change it). The probes start once every capture has printed `listening on` (at most
//!    about 5 s; a capture that dies or does not listen makes every probe's capture
//!    [`Capture::Failed`]). The captures run until the case ends.
//! 2. Just before and just after each probe, the driver notes the time and reads
//!    `/proc/PID/net/snmp` of each capture process (that namespace's counters). Nothing
//!    else runs between probes, so they follow each other as closely as without a capture
//!    (a probe's outcome can depend on a timer an earlier one started, such as a failing
//!    ARP resolution). A probe's packets are those captured between its two times.
//! 3. The namespace that *accepted* the request is the one whose counters moved:
//!    - ping: `Icmp InEchos` went up (counted by `icmp_rcv`, after the filter INPUT hook,
//!      whether or not the reply can be routed back);
//!    - TCP: `Tcp InSegs` went up, `Tcp OutRsts` did not, and a SYN was captured coming
//!      in there (a listener took it: a closed port answers with a reset, a DROP or REJECT
//!      in INPUT stops it before TCP counts it, and the client only receives SYN-ACKs);
//!    - UDP: `Udp NoPorts` and `Udp InErrors` did not go up, `Udp InDatagrams` or
//!      `Ip InDelivers` did, and a datagram was captured coming in there.
//!
//!    No such namespace: the request was not accepted anywhere ([`Capture::NotReached`]),
//!    which is what hopsim's `seen_from: None` means. (A packet that arrives and is then
//!    dropped by INPUT, refused by a closed port, or ignored, is not "seen".) Counters
//!    that say "accepted" in a namespace whose capture shows no incoming request are a
//!    [`Capture::Failed`], never a silent pass.
//! 4. In that namespace, the observation is the first captured *inbound* (`In`) request on
//!    the interface the IP layer received it on: an interface enslaved to a bridge is
//!    skipped when the same namespace also captured the request on a non-port interface (a
//!    frame for the bridge's own address shows on the port, then on the bridge). If
//!    several namespaces accepted (not seen so far), the earliest observation wins.
//! 5. Its source address (and port) is the result, unless that namespace has a conntrack
//!    entry for it whose reply tuple says otherwise (`conntrack -L`, read after the last
//!    probe in the namespaces whose ICMP, TCP or UDP counters moved): the socket sees the
//!    peer as the reply tuple's destination.
//!
//! Why this observation is hopsim's `seen_from`: packet sockets see a received frame in
//! `__netif_receive_skb`, before the namespace's PREROUTING. The destination address may
//! still be translated there (DNAT in the destination namespace itself), but the source
//! address is only rewritten by SNAT/MASQUERADE in POSTROUTING of a namespace the packet
//! left (already applied when it arrives) or by a nat INPUT rule of the destination
//! namespace (after the capture: step 5 reads it from conntrack). A bridged copy of the
//! frame on a port of the same namespace carries the same source (br_netfilter rewrites
//! sources only in POSTROUTING of frames it forwards, not of frames it delivers locally).
//!
//! For TCP and UDP, the port is compared as "kept" or "changed": the client's own port is
//! random on a real machine, so it is read from the first outbound request captured in the
//! probe's own namespace, and the port seen at the destination is compared with it. (On
//! `lo` libpcap may show only the incoming copy: a request a namespace accepts from itself
//! over `lo` carries the client's port.)

use crate::ProbeCmd;
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

/// The request as the destination namespace received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The namespace that accepted it ([`crate::HOST_NS`] for the wrapper).
    pub ns: String,
    /// The interface it arrived on.
    pub dev: String,
    /// Its source address as the accepting socket saw it: as captured, unless the
    /// namespace's conntrack entry for it says a nat INPUT rule translated it.
    pub src: Ipv4Addr,
    /// Its source port (TCP and UDP), likewise.
    pub sport: Option<u16>,
    /// The source address and port as captured on the wire, when a nat INPUT rule of the
    /// accepting namespace changed them (`None` when they are `src`, `sport`).
    pub wire_src: Option<(Ipv4Addr, Option<u16>)>,
    /// Its destination as captured (before any DNAT in that namespace).
    pub dst: Ipv4Addr,
    /// Its destination port as captured.
    pub dport: Option<u16>,
    /// The port the client sent from (first outbound request in the probe's namespace).
    pub client_sport: Option<u16>,
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hp = |a: Ipv4Addr, p: Option<u16>| match p {
            Some(p) => format!("{a}:{p}"),
            None => a.to_string(),
        };
        write!(
            f,
            "{} > {} on {} in {}",
            hp(self.src, self.sport),
            hp(self.dst, self.dport),
            self.dev,
            self.ns
        )?;
        if let Some((a, p)) = self.wire_src {
            write!(f, " (from {} on the wire)", hp(a, p))?;
        }
        if let Some(c) = self.client_sport {
            write!(f, " (client port {c})")?;
        }
        Ok(())
    }
}

/// What the capture found for one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// No capture was asked for ([`crate::RealOpts::capture`] is false).
    Disabled,
    /// A capture was asked for but could not be made or read: why.
    Failed(String),
    /// No namespace of the case accepted the request.
    NotReached,
    /// Where the request was accepted, and how it arrived there.
    Reached(Seen),
}

impl fmt::Display for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capture::Disabled => write!(f, "not captured"),
            Capture::Failed(m) => write!(f, "capture failed: {m}"),
            Capture::NotReached => write!(f, "not accepted by any namespace"),
            Capture::Reached(s) => write!(f, "{s}"),
        }
    }
}

/// The `tcpdump` filter for a probe's requests.
pub fn filter(cmd: &ProbeCmd) -> &'static str {
    match cmd {
        ProbeCmd::Ping { .. } => "icmp[icmptype] == icmp-echo",
        ProbeCmd::Connect { udp: false, .. } => {
            "ip and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"
        }
        ProbeCmd::Connect { udp: true, .. } => "ip and udp",
    }
}

/// The filter for all the probes of a case: the union of theirs.
pub fn case_filter<'a>(cmds: impl IntoIterator<Item = &'a ProbeCmd>) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in cmds {
        let f = filter(c);
        if !parts.contains(&f) {
            parts.push(f);
        }
    }
    parts
        .iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// What kind of request a captured packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Echo,
    Syn,
    Udp,
    Other,
}

fn kind_of(cmd: &ProbeCmd) -> Kind {
    match cmd {
        ProbeCmd::Ping { .. } => Kind::Echo,
        ProbeCmd::Connect { udp: false, .. } => Kind::Syn,
        ProbeCmd::Connect { udp: true, .. } => Kind::Udp,
    }
}

/// The bash functions the driver uses to capture around the probes. `$__hk_td` is
/// tcpdump's path, `$__hk_ct` conntrack's (or empty), `$__hk_capdir` a private directory.
///
/// `__hk_cap_start FILTER` starts one tcpdump per namespace before the first probe and
/// waits until each listens; they run until the case ends. `__hk_cap_begin N` and
/// `__hk_cap_end N` read every namespace's counters and the time just before and just after
/// probe N: nothing else runs between probes, so the probes follow each other as closely
/// as without a capture (a probe's outcome can depend on a timer a previous one started).
/// After the last probe, `__hk_cap_finish` lets the captures catch up and dumps conntrack
/// where counters moved, and `__hk_cap_emit N` prints probe N's window, the counters around
/// it, and every packet captured (the caller keeps those of the window).
pub(crate) const DRIVER_FUNCS: &str = r#"__hk_cap_pid=()
__hk_cap_name=()
__hk_cap_kind=()
__hk_cap_ok=()
__hk_cap_t0=()
__hk_cap_t1=()
__hk_cap_snmp() {
  local i x l
  for i in "${!__hk_cap_pid[@]}"; do
    [ "${__hk_cap_ok[i]}" = 1 ] || continue
    l=()
    { mapfile -t l </proc/"${__hk_cap_pid[i]}"/net/snmp; } 2>/dev/null
    for x in "${l[@]}"; do
      case "$x" in Ip:*|Icmp:*|Tcp:*|Udp:*) printf '%s\n' "$x";; esac
    done >"$__hk_capdir/$i.snmp.$1"
  done
}
__hk_cap_start() {
  local f i=0 t=0 all l
  for f in @host /run/netns/*; do
    if [ "$f" = @host ]; then
      "$__hk_td" -p -nn -l -tt --immediate-mode -i any "$1" </dev/null >"$__hk_capdir/$i.out" 2>"$__hk_capdir/$i.err" &
      __hk_cap_kind+=(W); __hk_cap_name+=(host)
    else
      [ -e "$f" ] || continue
      nsenter --net="$f" "$__hk_td" -p -nn -l -tt --immediate-mode -i any "$1" </dev/null >"$__hk_capdir/$i.out" 2>"$__hk_capdir/$i.err" &
      __hk_cap_kind+=(N); __hk_cap_name+=("${f##*/}")
    fi
    __hk_cap_pid+=("$!"); i=$((i+1))
  done
  while :; do
    all=1
    for i in "${!__hk_cap_pid[@]}"; do
      [ -n "${__hk_cap_ok[i]}" ] && continue
      l=()
      { mapfile -t l <"$__hk_capdir/$i.err"; } 2>/dev/null
      case "${l[*]}" in *"listening on"*) __hk_cap_ok[i]=1; continue;; esac
      if ! kill -0 "${__hk_cap_pid[i]}" 2>/dev/null; then __hk_cap_ok[i]=dead; continue; fi
      all=0
    done
    [ "$all" = 1 ] && break
    t=$((t+1))
    if [ "$t" -ge 500 ]; then
      for i in "${!__hk_cap_pid[@]}"; do [ -n "${__hk_cap_ok[i]}" ] || __hk_cap_ok[i]=timeout; done
      break
    fi
    sleep 0.01
  done
}
__hk_cap_begin() {
  __hk_cap_snmp "$1.0"
  __hk_cap_t0[$1]=$EPOCHREALTIME
}
__hk_cap_end() {
  __hk_cap_t1[$1]=$EPOCHREALTIME
  __hk_cap_snmp "$1.1"
}
__hk_cap_finish() {
  local i n ct=() a b
  sleep 0.05
  [ -n "$__hk_ct" ] || return 0
  for i in "${!__hk_cap_pid[@]}"; do
    [ "${__hk_cap_ok[i]}" = 1 ] || continue
    # conntrack only where ICMP, TCP or UDP counters moved: the namespaces that accepted
    a=(); b=()
    { mapfile -t a <"$__hk_capdir/$i.snmp.0.0"; mapfile -t b <"$__hk_capdir/$i.snmp.$1.1"; } 2>/dev/null
    [ "${a[*]#Ip:*}" = "${b[*]#Ip:*}" ] && continue
    if [ "${__hk_cap_kind[i]}" = W ]; then
      "$__hk_ct" -L </dev/null >"$__hk_capdir/$i.ct" 2>/dev/null &
    else
      nsenter --net=/run/netns/"${__hk_cap_name[i]}" "$__hk_ct" -L </dev/null >"$__hk_capdir/$i.ct" 2>/dev/null &
    fi
    ct+=("$!")
  done
  for n in "${ct[@]}"; do wait "$n" 2>/dev/null; done
}
__hk_cap_emit() {
  local i x
  printf 'w %s %s\n' "${__hk_cap_t0[$1]}" "${__hk_cap_t1[$1]}"
  for i in "${!__hk_cap_name[@]}"; do
    printf 'ns %s %s %s\n' "${__hk_cap_ok[i]:-none}" "${__hk_cap_kind[i]}" "${__hk_cap_name[i]}"
    if [ "${__hk_cap_ok[i]}" = 1 ]; then
      while IFS= read -r x; do printf 'a %s\n' "$x"; done <"$__hk_capdir/$i.snmp.$1.0"
      while IFS= read -r x; do printf 'b %s\n' "$x"; done <"$__hk_capdir/$i.snmp.$1.1"
      while IFS= read -r x; do printf 'c %s\n' "$x"; done <"$__hk_capdir/$i.out"
      [ -e "$__hk_capdir/$i.ct" ] && while IFS= read -r x; do printf 't %s\n' "$x"; done <"$__hk_capdir/$i.ct"
    else
      while IFS= read -r x; do printf 'e %s\n' "$x"; done <"$__hk_capdir/$i.err"
    fi
  done 2>/dev/null
}
__hk_cap_kill() {
  local i
  for i in "${!__hk_cap_pid[@]}"; do kill "${__hk_cap_pid[i]}" 2>/dev/null; done
  __hk_cap_pid=()
}
__hk_links() {
  local f x
  ip -o link show 2>/dev/null | while IFS= read -r x; do printf 'W host %s\n' "$x"; done
  for f in /run/netns/*; do
    [ -e "$f" ] || continue
    ip -n "${f##*/}" -o link show 2>/dev/null | while IFS= read -r x; do printf 'N %s %s\n' "${f##*/}" "$x"; done
  done
}
"#;

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Packet {
    /// Microseconds since the epoch.
    ts: u64,
    dev: String,
    inbound: bool,
    outbound: bool,
    src: Ipv4Addr,
    sport: Option<u16>,
    dst: Ipv4Addr,
    dport: Option<u16>,
    /// The ICMP echo identifier.
    icmp_id: Option<u16>,
    kind: Kind,
}

/// `1795229322.196328 ba    In  IP 10.0.0.1.52922 > 10.0.0.2.80: Flags [S], ...`
fn parse_packet(line: &str) -> Option<Packet> {
    let mut w = line.split_whitespace();
    let ts = parse_ts(w.next()?)?;
    let dev = w.next()?.to_string();
    let dir = w.next()?;
    if w.next()? != "IP" {
        return None;
    }
    let src = w.next()?;
    if w.next()? != ">" {
        return None;
    }
    let dst = w.next()?.trim_end_matches(':');
    let (src, sport) = host_port(src)?;
    let (dst, dport) = host_port(dst)?;
    let icmp_id = line
        .split_once(" echo request, id ")
        .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|x| x.parse().ok());
    let rest = line.split_once(": ").map(|x| x.1).unwrap_or("");
    let kind = if rest.starts_with("ICMP echo request") {
        Kind::Echo
    } else if rest.starts_with("Flags [S]") {
        Kind::Syn
    } else if rest.starts_with("Flags [") || rest.starts_with("ICMP") || sport.is_none() {
        Kind::Other
    } else {
        Kind::Udp
    };
    Some(Packet {
        kind,
        icmp_id,
        ts,
        dev,
        inbound: dir == "In",
        outbound: dir == "Out",
        src,
        sport,
        dst,
        dport,
    })
}

/// `1795229322.196328` (tcpdump's `-tt`, bash's `$EPOCHREALTIME`) -> microseconds.
fn parse_ts(s: &str) -> Option<u64> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let us = format!("{frac:0<6}");
    Some(secs.parse::<u64>().ok()? * 1_000_000 + us[..6].parse::<u64>().ok()?)
}

/// `10.0.0.1.52922` -> (10.0.0.1, Some(52922)); `10.0.0.1` -> (10.0.0.1, None).
fn host_port(s: &str) -> Option<(Ipv4Addr, Option<u16>)> {
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some((a, None));
    }
    let (a, p) = s.rsplit_once('.')?;
    Some((a.parse().ok()?, Some(p.parse().ok()?)))
}

/// One namespace's capture.
#[derive(Debug, Clone, Default)]
struct NsCapture {
    name: String,
    state: String,
    before: BTreeMap<String, i64>,
    after: BTreeMap<String, i64>,
    packets: Vec<Packet>,
    errors: Vec<String>,
    conntrack: Vec<CtEntry>,
}

/// One `conntrack -L` line: the original and the reply tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CtEntry {
    orig: CtTuple,
    reply: CtTuple,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CtTuple {
    src: Option<Ipv4Addr>,
    dst: Option<Ipv4Addr>,
    sport: Option<u16>,
    dport: Option<u16>,
    id: Option<u16>,
}

/// `tcp 6 119 TIME_WAIT src=A dst=B sport=P dport=Q src=B dst=A' sport=Q dport=P' [ASSURED] ...`
/// `icmp 1 29 src=A dst=B type=8 code=0 id=N src=B dst=A type=0 code=0 id=N mark=0 use=1`
fn parse_ct(line: &str) -> Option<CtEntry> {
    let mut t = [CtTuple::default(), CtTuple::default()];
    let mut k = 0usize;
    for w in line.split_whitespace() {
        let Some((key, v)) = w.split_once('=') else {
            continue;
        };
        if key == "src" && t[k].src.is_some() {
            k += 1;
            if k > 1 {
                break;
            }
        }
        let cur = &mut t[k];
        match key {
            "src" => cur.src = v.parse().ok(),
            "dst" => cur.dst = v.parse().ok(),
            "sport" => cur.sport = v.parse().ok(),
            "dport" => cur.dport = v.parse().ok(),
            "id" => cur.id = v.parse().ok(),
            _ => {}
        }
    }
    let [orig, reply] = t;
    (orig.src.is_some() && reply.src.is_some()).then_some(CtEntry { orig, reply })
}

impl NsCapture {
    fn delta(&self, key: &str) -> i64 {
        self.after.get(key).copied().unwrap_or(0) - self.before.get(key).copied().unwrap_or(0)
    }
}

/// `Icmp: InMsgs InErrors ...` followed by `Icmp: 1 0 ...` -> {"Icmp.InMsgs": 1, ...}.
fn add_snmp(
    map: &mut BTreeMap<String, i64>,
    pending: &mut Option<(String, Vec<String>)>,
    line: &str,
) {
    let Some((proto, rest)) = line.split_once(':') else {
        return;
    };
    let words: Vec<&str> = rest.split_whitespace().collect();
    let numeric = words.iter().all(|w| w.parse::<i64>().is_ok());
    match pending.take() {
        Some((p, names)) if numeric && p == proto => {
            for (n, v) in names.iter().zip(&words) {
                if let Ok(v) = v.parse() {
                    map.insert(format!("{p}.{n}"), v);
                }
            }
        }
        _ if !numeric => {
            *pending = Some((
                proto.to_string(),
                words.iter().map(|w| w.to_string()).collect(),
            ));
        }
        _ => {}
    }
}

fn parse_body(body: &str) -> Vec<NsCapture> {
    let mut out: Vec<NsCapture> = Vec::new();
    let mut pend_a = None;
    let mut pend_b = None;
    for line in body.lines() {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        if tag == "ns" {
            let mut w = rest.splitn(3, ' ');
            let state = w.next().unwrap_or("").to_string();
            let kind = w.next().unwrap_or("");
            let name = w.next().unwrap_or("").to_string();
            out.push(NsCapture {
                name: if kind == "W" {
                    crate::HOST_NS.to_string()
                } else {
                    name
                },
                state,
                ..NsCapture::default()
            });
            pend_a = None;
            pend_b = None;
            continue;
        }
        let Some(cur) = out.last_mut() else {
            continue;
        };
        match tag {
            "a" => add_snmp(&mut cur.before, &mut pend_a, rest),
            "b" => add_snmp(&mut cur.after, &mut pend_b, rest),
            "c" => {
                if let Some(p) = parse_packet(rest) {
                    cur.packets.push(p);
                }
            }
            "e" => cur.errors.push(rest.to_string()),
            "t" => {
                if let Some(e) = parse_ct(rest) {
                    cur.conntrack.push(e);
                }
            }
            _ => {}
        }
    }
    out
}

/// Bridge ports per namespace, from the driver's `L` unit (`W host 5: veth2@if4: <...> ...
/// master br0 ...` and `N red ...` lines).
pub(crate) fn parse_links(body: &str) -> BTreeMap<String, Vec<String>> {
    let mut ports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in body.lines() {
        let mut w = line.split_whitespace();
        let (Some(kind), Some(ns), Some(_idx), Some(dev)) =
            (w.next(), w.next(), w.next(), w.next())
        else {
            continue;
        };
        let ns = if kind == "W" { crate::HOST_NS } else { ns };
        let dev = dev.trim_end_matches(':');
        let dev = dev.split('@').next().unwrap_or(dev);
        if w.any(|x| x == "master") {
            ports
                .entry(ns.to_string())
                .or_default()
                .push(dev.to_string());
        }
    }
    ports
}

/// Whether namespace `c` accepted the probe's request, from its counters and capture.
fn accepted(cmd: &ProbeCmd, c: &NsCapture) -> bool {
    match cmd {
        ProbeCmd::Ping { .. } => c.delta("Icmp.InEchos") > 0,
        ProbeCmd::Connect { udp: false, .. } => {
            c.delta("Tcp.InSegs") > 0
                && c.delta("Tcp.OutRsts") == 0
                && c.packets.iter().any(|p| p.inbound)
        }
        ProbeCmd::Connect { udp: true, .. } => {
            c.delta("Udp.NoPorts") == 0
                && c.delta("Udp.InErrors") == 0
                && (c.delta("Udp.InDatagrams") > 0 || c.delta("Ip.InDelivers") > 0)
                && c.packets.iter().any(|p| p.inbound)
        }
    }
}

/// Decides what the capture of one probe shows; `body` is the driver's `C` unit for it,
/// `ports` the bridge ports per namespace, `client` the probe's namespace.
pub(crate) fn decide(
    cmd: &ProbeCmd,
    client: &str,
    body: &str,
    ports: &BTreeMap<String, Vec<String>>,
) -> Capture {
    if let Some(m) = body.lines().find_map(|l| l.strip_prefix("fail ")) {
        return Capture::Failed(m.to_string());
    }
    // the probe's window: packets captured while it ran
    let window = body.lines().find_map(|l| {
        let mut w = l.strip_prefix("w ")?.split_whitespace();
        Some((parse_ts(w.next()?)?, parse_ts(w.next()?)?))
    });
    let Some((t0, t1)) = window else {
        return Capture::Failed("the driver printed no time window for this probe".into());
    };
    let mut caps = parse_body(body);
    let want = kind_of(cmd);
    for c in &mut caps {
        c.packets
            .retain(|p| p.kind == want && (t0..=t1).contains(&p.ts));
    }
    if caps.is_empty() {
        return Capture::Failed("the driver printed no capture for this probe".into());
    }
    let broken: Vec<String> = caps
        .iter()
        .filter(|c| c.state != "1")
        .map(|c| {
            format!(
                "tcpdump in {} {}: {}",
                c.name,
                match c.state.as_str() {
                    "dead" => "exited before listening",
                    "timeout" => "did not report `listening on` within 5 s",
                    _ => "did not start",
                },
                c.errors.join(" / ")
            )
        })
        .collect();
    if !broken.is_empty() {
        return Capture::Failed(broken.join("; "));
    }
    if let Some(c) = caps
        .iter()
        .find(|c| c.before.is_empty() || c.after.is_empty())
    {
        return Capture::Failed(format!("cannot read the SNMP counters of {}", c.name));
    }
    let client_sport = caps
        .iter()
        .find(|c| c.name == client)
        .and_then(|c| c.packets.iter().find(|p| p.outbound))
        .and_then(|p| p.sport);
    let mut best: Option<Seen> = None;
    let mut best_ts = u64::MAX;
    for c in caps.iter().filter(|c| accepted(cmd, c)) {
        let no_ports = Vec::new();
        let port_list = ports.get(&c.name).unwrap_or(&no_ports);
        let inbound: Vec<&Packet> = c.packets.iter().filter(|p| p.inbound).collect();
        let pick = inbound
            .iter()
            .find(|p| !port_list.contains(&p.dev))
            .or_else(|| inbound.first());
        let Some(p) = pick else {
            return Capture::Failed(format!(
                "the counters of {} show the request accepted there, but tcpdump captured \
                 no incoming request in it",
                c.name
            ));
        };
        if p.ts < best_ts {
            best_ts = p.ts;
            // the socket sees the peer as the reply tuple's destination: different from
            // the wire only after a nat INPUT rule
            let (src, sport) = c
                .conntrack
                .iter()
                .find(|e| {
                    e.orig.src == Some(p.src)
                        && e.orig.dst == Some(p.dst)
                        && e.orig.sport == p.sport
                        && e.orig.dport == p.dport
                        && (p.icmp_id.is_none() || e.orig.id == p.icmp_id)
                })
                .and_then(|e| Some((e.reply.dst?, e.reply.dport)))
                .unwrap_or((p.src, p.sport));
            best = Some(Seen {
                ns: c.name.clone(),
                dev: p.dev.clone(),
                src,
                sport,
                wire_src: ((src, sport) != (p.src, p.sport)).then_some((p.src, p.sport)),
                dst: p.dst,
                dport: p.dport,
                client_sport,
            });
        }
    }
    match best {
        Some(mut s) => {
            // libpcap does not show the outgoing copy of a packet on `lo`: a request to the
            // client's own namespace is one packet, with the client's port
            if s.client_sport.is_none() && s.ns == client && s.dev == "lo" {
                s.client_sport = s.sport;
            }
            Capture::Reached(s)
        }
        None => Capture::NotReached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snmp(prefix: &str, echos: i64, insegs: i64, rsts: i64) -> String {
        format!(
            "{prefix} Ip: Forwarding InDelivers\n{prefix} Ip: 2 0\n\
             {prefix} Icmp: InMsgs InEchos\n{prefix} Icmp: {echos} {echos}\n\
             {prefix} Tcp: InSegs OutRsts\n{prefix} Tcp: {insegs} {rsts}\n\
             {prefix} Udp: InDatagrams NoPorts InErrors\n{prefix} Udp: 0 0 0\n"
        )
    }

    #[test]
    fn packets_parse() {
        let p = parse_packet(
            "1795229322.196328 ba    In  IP 10.0.0.1.52922 > 10.0.0.2.80: Flags [S], seq 1, length 0",
        )
        .unwrap();
        assert_eq!(p.ts, 1_795_229_322_196_328);
        assert_eq!(parse_ts("12.5"), Some(12_500_000));
        assert_eq!(parse_ts("12"), Some(12_000_000));
        assert_eq!(parse_ts("x.1"), None);
        assert_eq!((p.dev.as_str(), p.inbound, p.outbound), ("ba", true, false));
        assert_eq!((p.src, p.sport), ("10.0.0.1".parse().unwrap(), Some(52922)));
        assert_eq!((p.dst, p.dport), ("10.0.0.2".parse().unwrap(), Some(80)));
        let p = parse_packet(
            "1795229322.248469 lo    Out IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 49, seq 1, length 64",
        )
        .unwrap();
        assert!(p.outbound && p.sport.is_none());
        assert!(parse_packet("garbage").is_none());
        assert!(parse_packet("1.2 eth0 In IP6 ::1 > ::2: x").is_none());
    }

    #[test]
    fn conntrack_lines_parse() {
        let e = parse_ct(
            "tcp      6 119 TIME_WAIT src=10.2.0.1 dst=10.2.0.2 sport=54760 dport=80 \
             src=10.2.0.2 dst=10.2.0.77 sport=80 dport=54760 [ASSURED] mark=0 use=1",
        )
        .unwrap();
        assert_eq!(e.orig.src, Some("10.2.0.1".parse().unwrap()));
        assert_eq!((e.orig.sport, e.orig.dport), (Some(54760), Some(80)));
        assert_eq!(e.reply.dst, Some("10.2.0.77".parse().unwrap()));
        let e = parse_ct(
            "icmp     1 29 src=10.1.0.2 dst=10.2.0.2 type=8 code=0 id=7 src=10.2.0.2 \
             dst=10.2.0.1 type=0 code=0 id=7 mark=0 use=1",
        )
        .unwrap();
        assert_eq!((e.orig.id, e.reply.id), (Some(7), Some(7)));
        assert!(parse_ct("conntrack v1.4.7 (conntrack-tools): 1 flow entries").is_none());
        let p = parse_packet(
            "1.000001 eth0 In IP 10.1.0.2 > 10.2.0.2: ICMP echo request, id 7, seq 1, length 64",
        )
        .unwrap();
        assert_eq!(p.icmp_id, Some(7));
    }

    #[test]
    fn a_nat_input_rule_changes_what_the_socket_sees() {
        let tcp = ProbeCmd::Connect {
            dest: "10.2.0.2".into(),
            port: 80,
            udp: false,
            wait_s: 1,
        };
        let body = format!(
            "w 0.5 2\nns 1 N b\n{}{}\
             c 1.000001 b-r In IP 10.2.0.1.54760 > 10.2.0.2.80: Flags [S]\n\
             t tcp 6 119 TIME_WAIT src=10.2.0.1 dst=10.2.0.2 sport=54760 dport=80 \
             src=10.2.0.2 dst=10.2.0.77 sport=80 dport=54760 [ASSURED] mark=0 use=1\n",
            snmp("a", 0, 0, 0),
            snmp("b", 0, 3, 0),
        );
        let Capture::Reached(s) = decide(&tcp, "a", &body, &BTreeMap::new()) else {
            panic!()
        };
        assert_eq!(s.src, "10.2.0.77".parse::<Ipv4Addr>().unwrap());
        assert_eq!(s.wire_src, Some(("10.2.0.1".parse().unwrap(), Some(54760))));
    }

    #[test]
    fn links_give_bridge_ports() {
        let l = parse_links(
            "W host 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n\
             W host 5: veth2@if4: <BROADCAST,UP> mtu 1500 qdisc noqueue master br0 state UP\n\
             N red 2: eth0@if5: <BROADCAST,UP> mtu 1500 qdisc noqueue state UP\n",
        );
        assert_eq!(l.get("host"), Some(&vec!["veth2".to_string()]));
        assert!(!l.contains_key("red"));
    }

    #[test]
    fn the_accepting_namespace_and_its_receiving_interface() {
        // host routes the ping (captured, no InEchos), BLUE accepts it; host is also shown
        // with a bridged copy. The client is RED.
        let body = format!(
            "w 99.5 100.5\nns 1 W host\n{}{}\
             c 100.000001 veth2 P IP 11.11.11.2 > 11.11.11.3: ICMP echo request, id 1, seq 1, length 64\n\
             c 100.000002 veth4 Out IP 11.11.11.1 > 11.11.11.3: ICMP echo request, id 1, seq 1, length 64\n\
             ns 1 N BLUE\n{}{}\
             c 100.000003 veth3 In IP 11.11.11.1 > 11.11.11.3: ICMP echo request, id 1, seq 1, length 64\n\
             ns 1 N RED\n{}{}\
             c 100.000000 veth1 Out IP 11.11.11.2 > 11.11.11.3: ICMP echo request, id 1, seq 1, length 64\n",
            snmp("a", 0, 0, 0),
            snmp("b", 0, 0, 0),
            snmp("a", 0, 0, 0),
            snmp("b", 1, 0, 0),
            snmp("a", 0, 0, 0),
            snmp("b", 0, 0, 0),
        );
        let c = decide(
            &ProbeCmd::ping("11.11.11.3"),
            "RED",
            &body,
            &BTreeMap::new(),
        );
        let Capture::Reached(s) = c else {
            panic!("{c:?}")
        };
        assert_eq!((s.ns.as_str(), s.dev.as_str()), ("BLUE", "veth3"));
        assert_eq!(s.src, "11.11.11.1".parse::<Ipv4Addr>().unwrap());
        // the same packets outside the probe's window are another probe's
        let other = body.replace("w 99.5 100.5", "w 101 102");
        assert!(matches!(
            decide(&ProbeCmd::ping("11.11.11.3"), "RED", &other, &BTreeMap::new()),
            Capture::Failed(ref m) if m.contains("captured no incoming request")
        ));
        // nobody's InEchos moved: not reached
        let body = body.replace("b Icmp: 1 1", "b Icmp: 0 0");
        assert_eq!(
            decide(
                &ProbeCmd::ping("11.11.11.3"),
                "RED",
                &body,
                &BTreeMap::new()
            ),
            Capture::NotReached
        );
    }

    #[test]
    fn bridge_port_copies_are_skipped_and_ports_compared() {
        let tcp = ProbeCmd::Connect {
            dest: "11.11.11.1".into(),
            port: 80,
            udp: false,
            wait_s: 1,
        };
        let body = format!(
            "w 99.5 100.5\nns 1 W host\n{}{}\
             c 100.000001 veth2 In IP 11.11.11.2.40000 > 11.11.11.1.80: Flags [S]\n\
             c 100.000002 br0 In IP 11.11.11.2.40000 > 11.11.11.1.80: Flags [S]\n\
             ns 1 N RED\n{}{}\
             c 100.000000 veth1 Out IP 11.11.11.2.40000 > 11.11.11.1.80: Flags [S]\n",
            snmp("a", 0, 0, 0),
            snmp("b", 0, 3, 0),
            snmp("a", 0, 0, 0),
            snmp("b", 0, 2, 0),
        );
        let mut ports = BTreeMap::new();
        ports.insert("host".to_string(), vec!["veth2".to_string()]);
        let Capture::Reached(s) = decide(&tcp, "RED", &body, &ports) else {
            panic!()
        };
        assert_eq!((s.ns.as_str(), s.dev.as_str()), ("host", "br0"));
        assert_eq!((s.sport, s.client_sport), (Some(40000), Some(40000)));
        // a reset went back: a closed port, not a listener
        let refused = body.replace("b Tcp: 3 0", "b Tcp: 1 1");
        assert_eq!(decide(&tcp, "RED", &refused, &ports), Capture::NotReached);
    }

    #[test]
    fn broken_captures_are_failures() {
        let body = "w 1 2\nns dead N red\ne tcpdump: permission denied\n";
        let c = decide(&ProbeCmd::ping("1.2.3.4"), "red", body, &BTreeMap::new());
        assert!(
            matches!(c, Capture::Failed(ref m) if m.contains("permission denied")),
            "{c:?}"
        );
        assert!(matches!(
            decide(&ProbeCmd::ping("1.2.3.4"), "red", "", &BTreeMap::new()),
            Capture::Failed(_)
        ));
    }
}
