//! A deterministic generator of random topology cases.
//!
//! A case is a topology script (the commands hopsim accepts), the probes to run after it,
//! and a short label of the features it uses. The same seed always gives the same case.
//!
//! Topologies: two end namespaces `a` and `b`, joined directly or through a chain of 1-3
//! routers `r1..r3`. Each L2 segment is a veth pair, or a bridge `brN` in the script's root
//! namespace (`host`) with the two ends and 0-2 bystanders (`c`, `d`, ...) plugged in, and
//! maybe an address on the bridge itself. Then 0-2 faults are applied: a missing route or
//! return route, an address without `/N`, a link left down, forwarding off on a router
//! (or turned on in the wrong namespace by a misplaced `>` redirection), a routing loop,
//! a ping to a host that does not exist on a connected subnet, or a
//! blackhole/unreachable/prohibit route.
//! Almost half the cases also get iptables rules: FORWARD drops and REJECTs, a stateful
//! FORWARD policy, INPUT and OUTPUT drops, TCP listeners and resets, and NAT (MASQUERADE,
//! SNAT, MASQUERADE with a port range, DNAT of a virtual address, DNAT with MASQUERADE),
//! whose probes check the source address seen at the destination as well as the output.
//!
//! Namespace names are short and plain (`a`, `b`, `r1`, `c`): the real side isolates
//! every case, so they never clash with anything.

use crate::{Probe, ProbeCmd};

/// The splitmix64 generator (Steele, Lea, Flood 2014): small, fast, and the same on
/// every platform, which is all the generator needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // multiply-shift: no modulo bias worth caring about for small n
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi < lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A random index into a slice of length `len` (0 when empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

/// One generated case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenCase {
    /// The seed this case was generated from ([`generate`] of it gives the same case).
    pub seed: u64,
    /// The topology script: one command per line, comments start with `#`.
    pub script: String,
    /// The probes to run after the script.
    pub probes: Vec<Probe>,
    /// The features used, comma-separated, e.g. `router-chain,forward-off`.
    pub label: String,
}

/// The seed of case `i` of a run seeded with `seed` (what [`generate_many`] uses).
pub fn case_seed(seed: u64, i: u64) -> u64 {
    let mut r = SplitMix64::new(seed ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03));
    r.next_u64()
}

/// `n` cases: case `i` is `generate(case_seed(seed, i))`.
pub fn generate_many(seed: u64, n: usize) -> Vec<GenCase> {
    (0..n as u64)
        .map(|i| generate(case_seed(seed, i)))
        .collect()
}

/// An interface with its address.
#[derive(Debug, Clone)]
struct Ifc {
    ns: String,
    dev: String,
    /// (address, prefix length; None = written without `/N`)
    addr: Option<([u8; 4], Option<u8>)>,
    up: bool,
}

/// One L2 segment between two consecutive nodes of the path.
#[derive(Debug, Clone)]
struct Seg {
    net: [u8; 3],
    left: String,
    right: String,
    /// indexes into `Plan::ifcs`
    left_ifc: usize,
    right_ifc: usize,
    bridge: Option<Bridge>,
}

#[derive(Debug, Clone)]
struct Bridge {
    name: String,
    addr: Option<[u8; 4]>,
    up: bool,
    /// (namespace, interface index) of bystanders
    bystanders: Vec<(String, usize)>,
    /// host-side port devices
    ports: Vec<String>,
}

#[derive(Debug, Clone)]
struct Route {
    ns: String,
    spec: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fwd {
    Sysctl,
    Echo,
    ConfAll,
    /// `ip netns exec R echo 1 > /proc/...`: the redirection is done by the outer shell,
    /// so this turns forwarding on in `host`, not in R.
    MisplacedRedirect,
}

#[derive(Debug, Clone)]
struct Plan {
    nodes: Vec<String>,
    routers: Vec<String>,
    segs: Vec<Seg>,
    ifcs: Vec<Ifc>,
    routes: Vec<Route>,
    /// routes added after the normal ones (special routes, loops)
    extra_routes: Vec<Route>,
    fwd: Vec<(String, Fwd)>,
    lo_up: Vec<String>,
    features: Vec<String>,
    probes: Vec<Probe>,
    /// iptables rules: (namespace, arguments after `iptables`).
    nf: Vec<(String, String)>,
    /// Namespaces running a TCP server on port 80 (`nc -lk -p 80 &`).
    listen: Vec<String>,
}

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

fn net_str(n: [u8; 3]) -> String {
    format!("{}.{}.{}.0/24", n[0], n[1], n[2])
}

impl Plan {
    fn addr_of(&self, ifc: usize) -> [u8; 4] {
        self.ifcs[ifc].addr.map(|a| a.0).unwrap_or([0, 0, 0, 0])
    }

    fn feature(&mut self, f: &str) {
        if !self.features.iter().any(|x| x == f) {
            self.features.push(f.to_string());
        }
    }
}

/// Generates the case for `seed`.
pub fn generate(seed: u64) -> GenCase {
    let mut r = SplitMix64::new(seed);
    let mut plan = build(&mut r);
    apply_faults(&mut r, &mut plan);
    if r.chance(45) {
        apply_netfilter(&mut r, &mut plan);
    }
    let script = emit(&mut r, &plan, seed);
    if plan.features.is_empty() {
        plan.features.push("plain".to_string());
    }
    GenCase {
        seed,
        script,
        probes: plan.probes,
        label: plan.features.join(","),
    }
}

/// Builds the fault-free topology, its routes and the main probe (a -> b).
fn build(r: &mut SplitMix64) -> Plan {
    let k = match r.below(10) {
        0..=1 => 0,
        2..=5 => 1,
        6..=7 => 2,
        _ => 3,
    } as usize;
    let mut nodes = vec!["a".to_string()];
    let routers: Vec<String> = (1..=k).map(|i| format!("r{i}")).collect();
    nodes.extend(routers.iter().cloned());
    nodes.push("b".to_string());

    let family = r.below(3);
    let base = r.range(1, 50) as u8;
    let net_of = |s: usize| -> [u8; 3] {
        let s = base.wrapping_add(s as u8);
        match family {
            0 => [10, s, 0],
            1 => [192, 168, s],
            _ => [172, 16, s],
        }
    };
    let mut plan = Plan {
        nodes: nodes.clone(),
        routers: routers.clone(),
        segs: Vec::new(),
        ifcs: Vec::new(),
        routes: Vec::new(),
        extra_routes: Vec::new(),
        fwd: Vec::new(),
        lo_up: Vec::new(),
        features: Vec::new(),
        probes: Vec::new(),
        nf: Vec::new(),
        listen: Vec::new(),
    };
    if k == 0 {
        plan.feature("veth-pair");
    } else {
        plan.feature("router-chain");
    }
    let host_nums: [u8; 6] = [1, 2, 3, 10, 100, 254];
    let mut next_bystander = b'c';
    let mut bridge_count = 0;
    for s in 0..=k {
        let (left, right) = (nodes[s].clone(), nodes[s + 1].clone());
        let net = net_of(s);
        let lh = host_nums[r.index(host_nums.len())];
        let mut rh = host_nums[r.index(host_nums.len())];
        while rh == lh {
            rh = host_nums[r.index(host_nums.len())];
        }
        let bridged = r.chance(if k == 0 { 40 } else { 25 });
        let (ldev, rdev, bridge) = if bridged {
            let name = format!("br{bridge_count}");
            bridge_count += 1;
            plan.feature("bridge");
            let mut br = Bridge {
                name: name.clone(),
                addr: None,
                up: true,
                bystanders: Vec::new(),
                ports: vec![format!("{name}-{left}"), format!("{name}-{right}")],
            };
            if r.chance(35) {
                let mut h = 250;
                while h == lh || h == rh {
                    h -= 1;
                }
                br.addr = Some([net[0], net[1], net[2], h]);
                plan.feature("bridge-ip");
            }
            let nb = r.below(3) as usize;
            for i in 0..nb {
                let ns = (next_bystander as char).to_string();
                next_bystander += 1;
                let h = 20 + 10 * i as u8 + r.below(5) as u8;
                let idx = plan.ifcs.len();
                plan.ifcs.push(Ifc {
                    ns: ns.clone(),
                    dev: format!("{ns}-{name}"),
                    addr: Some(([net[0], net[1], net[2], h], Some(24))),
                    up: true,
                });
                br.ports.push(format!("{name}-{ns}"));
                br.bystanders.push((ns.clone(), idx));
                plan.nodes.push(ns);
                plan.feature("bystander");
            }
            (
                format!("{left}-{name}"),
                format!("{right}-{name}"),
                Some(br),
            )
        } else {
            (format!("{left}-{right}"), format!("{right}-{left}"), None)
        };
        let li = plan.ifcs.len();
        plan.ifcs.push(Ifc {
            ns: left.clone(),
            dev: ldev,
            addr: Some(([net[0], net[1], net[2], lh], Some(24))),
            up: true,
        });
        let ri = plan.ifcs.len();
        plan.ifcs.push(Ifc {
            ns: right.clone(),
            dev: rdev,
            addr: Some(([net[0], net[1], net[2], rh], Some(24))),
            up: true,
        });
        plan.segs.push(Seg {
            net,
            left,
            right,
            left_ifc: li,
            right_ifc: ri,
            bridge,
        });
    }

    // routes: a and b towards the far end, routers towards every subnet not connected
    if k > 0 {
        let gw_a = ip(plan.addr_of(plan.segs[0].right_ifc));
        let gw_b = ip(plan.addr_of(plan.segs[k].left_ifc));
        let spec_a = if r.chance(60) {
            format!("default via {gw_a}")
        } else {
            format!("{} via {gw_a}", net_str(plan.segs[k].net))
        };
        let spec_b = if r.chance(60) {
            format!("default via {gw_b}")
        } else {
            format!("{} via {gw_b}", net_str(plan.segs[0].net))
        };
        plan.routes.push(Route {
            ns: "a".into(),
            spec: spec_a,
        });
        plan.routes.push(Route {
            ns: "b".into(),
            spec: spec_b,
        });
        for i in 1..=k {
            let name = format!("r{i}");
            // r_i sits between segment i-1 (left) and segment i (right)
            let left_gw = ip(plan.addr_of(plan.segs[i - 1].left_ifc));
            let right_gw = ip(plan.addr_of(plan.segs[i].right_ifc));
            for j in 0..i.saturating_sub(1) {
                plan.routes.push(Route {
                    ns: name.clone(),
                    spec: format!("{} via {left_gw}", net_str(plan.segs[j].net)),
                });
            }
            if i < k && r.chance(30) {
                plan.routes.push(Route {
                    ns: name.clone(),
                    spec: format!("default via {right_gw}"),
                });
            } else {
                for j in i + 1..=k {
                    plan.routes.push(Route {
                        ns: name.clone(),
                        spec: format!("{} via {right_gw}", net_str(plan.segs[j].net)),
                    });
                }
            }
            let how = match r.below(10) {
                0..=5 => Fwd::Sysctl,
                6..=8 => Fwd::Echo,
                _ => Fwd::ConfAll,
            };
            plan.fwd.push((name, how));
        }
    }
    let all: Vec<String> = plan.nodes.clone();
    for n in all {
        if r.chance(50) {
            plan.lo_up.push(n);
        }
    }
    let b_addr = ip(plan.addr_of(plan.segs[k].right_ifc));
    plan.probes.push(Probe::ping("a", b_addr));
    plan
}

/// The faults that can apply to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    MissingRoute,
    MissingReturnRoute,
    NoNetmask,
    LinkDown,
    ForwardOff,
    RoutingLoop,
    GhostHost,
    Special(&'static str),
}

fn apply_faults(r: &mut SplitMix64, plan: &mut Plan) {
    let k = plan.routers.len();
    let mut choices = vec![Fault::NoNetmask, Fault::LinkDown, Fault::GhostHost];
    choices.push(Fault::Special("blackhole"));
    choices.push(Fault::Special("unreachable"));
    choices.push(Fault::Special("prohibit"));
    if k > 0 {
        choices.push(Fault::MissingRoute);
        choices.push(Fault::MissingReturnRoute);
        choices.push(Fault::ForwardOff);
    }
    if k >= 2 {
        choices.push(Fault::RoutingLoop);
    }
    let n = match r.below(10) {
        0..=2 => 0,
        3..=8 => 1,
        _ => 2,
    };
    let mut used: Vec<Fault> = Vec::new();
    for _ in 0..n {
        let f = choices[r.index(choices.len())];
        // at most one fault that picks the probe destination
        let picks_dest = |f: &Fault| matches!(f, Fault::RoutingLoop | Fault::GhostHost);
        if used.contains(&f) || (picks_dest(&f) && used.iter().any(picks_dest)) {
            continue;
        }
        used.push(f);
        apply(r, plan, f);
    }
    // sometimes also probe the way back, or a bystander
    if r.chance(30)
        && !used
            .iter()
            .any(|f| matches!(f, Fault::GhostHost | Fault::RoutingLoop))
    {
        let a_addr = ip(plan.addr_of(plan.segs[0].left_ifc));
        plan.probes.push(Probe::ping("b", a_addr));
    }
    let bystanders: Vec<(String, usize, usize)> = plan
        .segs
        .iter()
        .enumerate()
        .filter_map(|(si, s)| s.bridge.as_ref().map(|b| (si, b)))
        .flat_map(|(si, b)| b.bystanders.iter().map(move |(ns, i)| (ns.clone(), *i, si)))
        .collect();
    if !bystanders.is_empty() && r.chance(50) {
        let (_, idx, si) = bystanders[r.index(bystanders.len())].clone();
        let from_ifc = if r.chance(50) {
            plan.segs[si].left_ifc
        } else {
            plan.segs[si].right_ifc
        };
        let from = plan.ifcs[from_ifc].ns.clone();
        plan.probes.push(Probe::ping(from, ip(plan.addr_of(idx))));
    }
}

fn apply(r: &mut SplitMix64, plan: &mut Plan, f: Fault) {
    let k = plan.routers.len();
    match f {
        Fault::MissingRoute => {
            // a's route, or a router's route towards b's side
            let victims: Vec<usize> = plan
                .routes
                .iter()
                .enumerate()
                .filter(|(_, rt)| {
                    rt.ns == "a" || (rt.ns.starts_with('r') && !is_left_route(plan, rt))
                })
                .map(|(i, _)| i)
                .collect();
            if !victims.is_empty() {
                plan.routes.remove(victims[r.index(victims.len())]);
                plan.feature("missing-route");
            }
        }
        Fault::MissingReturnRoute => {
            let victims: Vec<usize> = plan
                .routes
                .iter()
                .enumerate()
                .filter(|(_, rt)| {
                    rt.ns == "b" || (rt.ns.starts_with('r') && is_left_route(plan, rt))
                })
                .map(|(i, _)| i)
                .collect();
            if !victims.is_empty() {
                plan.routes.remove(victims[r.index(victims.len())]);
                plan.feature("missing-return-route");
            }
        }
        Fault::NoNetmask => {
            // one address on the a..b path
            let path: Vec<usize> = plan
                .segs
                .iter()
                .flat_map(|s| [s.left_ifc, s.right_ifc])
                .collect();
            let i = path[r.index(path.len())];
            if let Some((a, _)) = plan.ifcs[i].addr {
                plan.ifcs[i].addr = Some((a, None));
                plan.feature("no-netmask");
            }
        }
        Fault::LinkDown => {
            let si = r.index(plan.segs.len());
            let bridge_up = plan.segs[si].bridge.as_ref().map(|b| b.up);
            if bridge_up == Some(true) && r.chance(30) {
                if let Some(b) = plan.segs[si].bridge.as_mut() {
                    b.up = false;
                }
            } else {
                let i = if r.chance(50) {
                    plan.segs[si].left_ifc
                } else {
                    plan.segs[si].right_ifc
                };
                plan.ifcs[i].up = false;
            }
            plan.feature("link-down");
        }
        Fault::ForwardOff => {
            if plan.fwd.is_empty() {
                return;
            }
            let i = r.index(plan.fwd.len());
            if r.chance(25) {
                plan.fwd[i].1 = Fwd::MisplacedRedirect;
                plan.feature("misplaced-redirect");
            } else {
                plan.fwd.remove(i);
                plan.feature("forward-off");
            }
        }
        Fault::RoutingLoop => {
            if k < 2 {
                return;
            }
            // r_i <-> r_{i+1} bounce 10.99.0.0/24 (or 172.31.x) between them
            let i = r.range(1, (k - 1) as u64) as usize;
            let dest_net = if r.chance(50) {
                [10, 99, 0]
            } else {
                [172, 31, 7]
            };
            let left_of = |p: &Plan, ri: usize| ip(p.addr_of(p.segs[ri - 1].left_ifc));
            let right_of = |p: &Plan, ri: usize| ip(p.addr_of(p.segs[ri].right_ifc));
            // a -> r1 -> ... -> r_i towards the loop (a: only if a has no default route)
            if !plan
                .routes
                .iter()
                .any(|rt| rt.ns == "a" && rt.spec.starts_with("default"))
            {
                let gw = right_of(plan, 0);
                plan.extra_routes.push(Route {
                    ns: "a".into(),
                    spec: format!("{} via {gw}", net_str(dest_net)),
                });
            }
            for j in 1..i {
                let gw = right_of(plan, j);
                plan.extra_routes.push(Route {
                    ns: format!("r{j}"),
                    spec: format!("{} via {gw}", net_str(dest_net)),
                });
            }
            let to_next = right_of(plan, i);
            let to_prev = left_of(plan, i + 1);
            plan.extra_routes.push(Route {
                ns: format!("r{i}"),
                spec: format!("{} via {to_next}", net_str(dest_net)),
            });
            plan.extra_routes.push(Route {
                ns: format!("r{}", i + 1),
                spec: format!("{} via {to_prev}", net_str(dest_net)),
            });
            let ttl = if r.chance(50) {
                Some(r.range(2, 9) as u8)
            } else {
                None
            };
            plan.probes[0] = Probe {
                ns: "a".into(),
                cmd: ProbeCmd::Ping {
                    dest: ip([dest_net[0], dest_net[1], dest_net[2], 1]),
                    count: 1,
                    ttl,
                    wait_s: Some(1),
                    size: None,
                    pmtudisc: None,
                },
            };
            plan.feature("routing-loop");
        }
        Fault::GhostHost => {
            // a host that does not exist, on a's own segment or on b's
            let si = if r.chance(50) { 0 } else { k };
            let net = plan.segs[si].net;
            let ghost = [net[0], net[1], net[2], 77];
            plan.probes[0] = Probe {
                ns: "a".into(),
                cmd: ProbeCmd::Ping {
                    dest: ip(ghost),
                    count: 1,
                    ttl: None,
                    wait_s: Some(4),
                    size: None,
                    pmtudisc: None,
                },
            };
            plan.feature("ghost-host");
            if si == 0 && !plan.lo_up.iter().any(|n| n == "a") {
                // the local "Destination Host Unreachable" is delivered through lo: with
                // lo down it is never printed
                plan.feature("lo-down");
            }
        }
        Fault::Special(kind) => {
            // on a (fails before sending) or on a router (ICMP error or silence), for b's
            // address as a /32, more specific than every normal route
            let dest = plan.probes[0].cmd.clone();
            let (ProbeCmd::Ping { dest, .. } | ProbeCmd::Connect { dest, .. }) = dest;
            let mut places = vec!["a".to_string()];
            places.extend(plan.routers.iter().cloned());
            let ns = places[r.index(places.len())].clone();
            plan.extra_routes.push(Route {
                ns,
                spec: format!("{kind} {dest}/32"),
            });
            plan.feature(kind);
        }
    }
}

/// Whether a router's route points back towards `a` (its gateway is on its left segment).
fn is_left_route(plan: &Plan, rt: &Route) -> bool {
    let Some(i) = rt
        .ns
        .strip_prefix('r')
        .and_then(|x| x.parse::<usize>().ok())
    else {
        return false;
    };
    if i == 0 || i > plan.segs.len() {
        return false;
    }
    let left_gw = ip(plan.addr_of(plan.segs[i - 1].left_ifc));
    rt.spec.ends_with(&format!(" via {left_gw}"))
}

/// Adds iptables rules (filter and NAT) and TCP probes: one netfilter scenario per case
/// (a DNAT may come with a MASQUERADE).
fn apply_netfilter(r: &mut SplitMix64, plan: &mut Plan) {
    let k = plan.routers.len();
    let b_addr = ip(plan.addr_of(plan.segs[k].right_ifc));
    let a_net = net_str(plan.segs[0].net);
    let pick = r.below(8);
    let needs_router = matches!(pick, 0 | 1 | 2 | 4 | 7);
    if needs_router && k == 0 {
        return;
    }
    let router = if k > 0 {
        plan.routers[r.index(k)].clone()
    } else {
        String::new()
    };
    match pick {
        0 => {
            plan.nf
                .push((router, format!("-A FORWARD -d {b_addr} -j DROP")));
            plan.feature("nf-forward-drop");
        }
        1 => {
            let with = [
                "icmp-port-unreachable",
                "icmp-host-prohibited",
                "icmp-net-unreachable",
                "icmp-admin-prohibited",
                "icmp-host-unreachable",
            ];
            let w = with[r.index(with.len())];
            plan.nf.push((
                router,
                format!("-A FORWARD -p icmp -j REJECT --reject-with {w}"),
            ));
            plan.feature("nf-reject");
        }
        2 => {
            plan.nf
                .push((router.clone(), "-P FORWARD DROP".to_string()));
            plan.nf.push((
                router.clone(),
                "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT".to_string(),
            ));
            if r.chance(60) {
                plan.nf
                    .push((router, format!("-A FORWARD -s {a_net} -j ACCEPT")));
            }
            plan.feature("nf-stateful");
        }
        3 => {
            plan.nf.push((
                "b".into(),
                "-A INPUT -p icmp --icmp-type echo-request -j DROP".to_string(),
            ));
            plan.feature("nf-input-drop");
        }
        4 => {
            // The last router translates sources towards b, and b loses its way back: only
            // NAT brings the replies home, and b sees the router's address ("seen from").
            // MASQUERADE, SNAT to the router's address, or MASQUERADE with a port range
            // for TCP (the source port changes too).
            let last = plan.routers[k - 1].clone();
            let dev = plan.ifcs[plan.segs[k].left_ifc].dev.clone();
            let addr = ip(plan.addr_of(plan.segs[k].left_ifc));
            let variant = r.below(3);
            match variant {
                0 => {
                    plan.nf.push((
                        last,
                        format!("-t nat -A POSTROUTING -o {dev} -j MASQUERADE"),
                    ));
                    plan.feature("nf-masquerade");
                }
                1 => {
                    plan.nf.push((
                        last,
                        format!("-t nat -A POSTROUTING -o {dev} -j SNAT --to-source {addr}"),
                    ));
                    plan.feature("nf-snat");
                }
                _ => {
                    plan.nf.push((
                        last.clone(),
                        format!(
                            "-t nat -A POSTROUTING -o {dev} -p tcp -j MASQUERADE --to-ports 20000-20099"
                        ),
                    ));
                    plan.nf.push((
                        last,
                        format!("-t nat -A POSTROUTING -o {dev} -j MASQUERADE"),
                    ));
                    plan.feature("nf-masquerade");
                    plan.feature("nf-nat-ports");
                }
            }
            plan.routes.retain(|rt| rt.ns != "b");
            // a TCP probe (always with a port range: it is what the range is about)
            if r.chance(60) || variant == 2 {
                plan.listen.push("b".into());
                plan.probes.push(Probe {
                    ns: "a".into(),
                    cmd: ProbeCmd::Connect {
                        dest: b_addr,
                        port: 80,
                        udp: false,
                        wait_s: 1,
                    },
                });
            }
        }
        5 => {
            let target = if r.chance(50) { "DROP" } else { "REJECT" };
            plan.nf
                .push(("a".into(), format!("-A OUTPUT -p icmp -j {target}")));
            plan.feature("nf-output");
        }
        6 => {
            plan.listen.push("b".into());
            if r.chance(50) {
                plan.nf.push((
                    "b".into(),
                    "-A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset".to_string(),
                ));
            }
            plan.probes.push(Probe {
                ns: "a".into(),
                cmd: ProbeCmd::Connect {
                    dest: b_addr.clone(),
                    port: 80,
                    udp: false,
                    wait_s: 1,
                },
            });
            let port = if r.chance(50) { 80 } else { 81 };
            plan.probes.push(Probe {
                ns: "a".into(),
                cmd: ProbeCmd::Connect {
                    dest: b_addr,
                    port,
                    udp: false,
                    wait_s: 1,
                },
            });
            plan.feature("nf-tcp");
        }
        _ => {
            // DNAT of a virtual address on the first router to b's port 80.
            let first = plan.routers[0].clone();
            plan.nf.push((first.clone(), format!("-t nat -A PREROUTING -d 10.250.0.1 -p tcp --dport 8080 -j DNAT --to-destination {b_addr}:80")));
            if r.chance(50) {
                // and a MASQUERADE on the way to b, as a load balancer does: b sees the
                // router's address, and needs no route back to a
                let dev = plan.ifcs[plan.segs[1].left_ifc].dev.clone();
                plan.nf.push((
                    first,
                    format!("-t nat -A POSTROUTING -o {dev} -j MASQUERADE"),
                ));
                plan.feature("nf-masquerade");
            }
            plan.listen.push("b".into());
            let gw_a = ip(plan.addr_of(plan.segs[0].right_ifc));
            plan.extra_routes.push(Route {
                ns: "a".into(),
                spec: format!("10.250.0.0/24 via {gw_a}"),
            });
            plan.probes.push(Probe {
                ns: "a".into(),
                cmd: ProbeCmd::Connect {
                    dest: "10.250.0.1".into(),
                    port: 8080,
                    udp: false,
                    wait_s: 1,
                },
            });
            plan.feature("nf-dnat");
        }
    }
}

/// Writes the plan as a script, with randomly chosen (equivalent) command spellings.
fn emit(r: &mut SplitMix64, plan: &Plan, seed: u64) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# generated by hopsim-kernel-check, seed {seed:#018x}\n# features: {}\n",
        if plan.features.is_empty() {
            "plain".to_string()
        } else {
            plan.features.join(",")
        }
    ));
    let line = |s: &mut String, l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    for n in &plan.nodes {
        line(&mut s, format!("ip netns add {n}"));
    }
    // links
    for seg in &plan.segs {
        let l = &plan.ifcs[seg.left_ifc];
        let rt = &plan.ifcs[seg.right_ifc];
        match &seg.bridge {
            None => match r.below(3) {
                0 => {
                    line(
                        &mut s,
                        format!("ip link add {} type veth peer name {}", l.dev, rt.dev),
                    );
                    line(&mut s, format!("ip link set {} netns {}", l.dev, seg.left));
                    line(
                        &mut s,
                        format!("ip link set {} netns {}", rt.dev, seg.right),
                    );
                }
                1 => line(
                    &mut s,
                    format!(
                        "ip -n {} link add {} type veth peer name {} netns {}",
                        seg.left, l.dev, rt.dev, seg.right
                    ),
                ),
                _ => line(
                    &mut s,
                    format!(
                        "ip netns exec {} ip link add {} type veth peer name {} netns {}",
                        seg.left, l.dev, rt.dev, seg.right
                    ),
                ),
            },
            Some(br) => {
                line(&mut s, format!("ip link add {} type bridge", br.name));
                let mut members: Vec<usize> = vec![seg.left_ifc, seg.right_ifc];
                members.extend(br.bystanders.iter().map(|(_, i)| *i));
                for (m, port) in members.iter().zip(&br.ports) {
                    let ifc = &plan.ifcs[*m];
                    line(
                        &mut s,
                        format!("ip link add {} type veth peer name {}", ifc.dev, port),
                    );
                    line(&mut s, format!("ip link set {} netns {}", ifc.dev, ifc.ns));
                    line(&mut s, format!("ip link set {} master {}", port, br.name));
                    line(&mut s, format!("ip link set {port} up"));
                }
                if let Some(a) = br.addr {
                    line(&mut s, format!("ip addr add {}/24 dev {}", ip(a), br.name));
                }
                if br.up {
                    line(&mut s, format!("ip link set {} up", br.name));
                }
            }
        }
    }
    // addresses, then links up
    for ifc in &plan.ifcs {
        if let Some((a, pfx)) = ifc.addr {
            let a = match pfx {
                Some(p) => format!("{}/{p}", ip(a)),
                None => ip(a),
            };
            if r.chance(70) {
                line(
                    &mut s,
                    format!("ip -n {} addr add {a} dev {}", ifc.ns, ifc.dev),
                );
            } else {
                line(
                    &mut s,
                    format!("ip netns exec {} ip addr add {a} dev {}", ifc.ns, ifc.dev),
                );
            }
        }
    }
    for ifc in plan.ifcs.iter().filter(|i| i.up) {
        if r.chance(70) {
            line(&mut s, format!("ip -n {} link set {} up", ifc.ns, ifc.dev));
        } else {
            line(
                &mut s,
                format!("ip netns exec {} ip link set dev {} up", ifc.ns, ifc.dev),
            );
        }
    }
    for n in &plan.lo_up {
        line(&mut s, format!("ip -n {n} link set lo up"));
    }
    for rt in plan.routes.iter().chain(&plan.extra_routes) {
        if r.chance(70) {
            line(&mut s, format!("ip -n {} route add {}", rt.ns, rt.spec));
        } else {
            line(
                &mut s,
                format!("ip netns exec {} ip route add {}", rt.ns, rt.spec),
            );
        }
    }
    for (ns, how) in &plan.fwd {
        let l = match how {
            Fwd::Sysctl => format!("ip netns exec {ns} sysctl -w net.ipv4.ip_forward=1"),
            Fwd::Echo => {
                format!("ip netns exec {ns} sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'")
            }
            Fwd::ConfAll => {
                format!("ip netns exec {ns} sysctl -w net.ipv4.conf.all.forwarding=1")
            }
            Fwd::MisplacedRedirect => {
                format!("ip netns exec {ns} echo 1 > /proc/sys/net/ipv4/ip_forward")
            }
        };
        line(&mut s, l);
    }
    for ns in &plan.listen {
        line(&mut s, format!("ip netns exec {ns} nc -lk -p 80 &"));
    }
    for (ns, rule) in &plan.nf {
        line(&mut s, format!("ip netns exec {ns} iptables {rule}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_known_values() {
        // reference values of splitmix64 seeded with 0
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64::new(7);
        for _ in 0..1000 {
            assert!(r.below(6) < 6);
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn same_seed_same_case() {
        for seed in 0..200u64 {
            assert_eq!(generate(seed), generate(seed));
        }
        assert_eq!(generate_many(42, 30), generate_many(42, 30));
        assert_ne!(generate_many(42, 5), generate_many(43, 5));
    }

    #[test]
    fn cases_are_well_formed() {
        let mut labels = std::collections::BTreeSet::new();
        for c in generate_many(1, 500) {
            assert!(!c.probes.is_empty());
            for p in &c.probes {
                p.validate().unwrap();
                assert!(
                    c.script.contains(&format!("ip netns add {}\n", p.ns)),
                    "{}",
                    c.script
                );
            }
            for l in c.script.lines() {
                assert!(!l.contains("  "), "{l}");
                assert!(!l.ends_with('\\'));
            }
            // interface names fit IFNAMSIZ
            for w in c
                .script
                .lines()
                .filter(|l| !l.starts_with('#'))
                .flat_map(|l| l.split(' '))
            {
                assert!(w.len() < 60, "{w}");
            }
            assert!(c.script.starts_with("# generated by hopsim-kernel-check"));
            for f in c.label.split(',') {
                labels.insert(f.to_string());
            }
            // ARP-failure probes wait long enough for "Destination Host Unreachable"
            if c.label.contains("ghost-host") {
                assert!(matches!(
                    c.probes[0].cmd,
                    ProbeCmd::Ping {
                        wait_s: Some(4),
                        ..
                    }
                ));
            }
        }
        for f in [
            "veth-pair",
            "router-chain",
            "bridge",
            "bystander",
            "bridge-ip",
            "missing-route",
            "missing-return-route",
            "no-netmask",
            "link-down",
            "forward-off",
            "misplaced-redirect",
            "routing-loop",
            "ghost-host",
            "blackhole",
            "unreachable",
            "prohibit",
            "nf-masquerade",
            "nf-snat",
            "nf-nat-ports",
            "nf-dnat",
        ] {
            assert!(
                labels.contains(f),
                "feature {f} never generated: {labels:?}"
            );
        }
    }

    #[test]
    fn interface_names_are_short() {
        for c in generate_many(9, 300) {
            for l in c.script.lines().filter(|l| l.contains(" dev ")) {
                let dev = l.split(" dev ").nth(1).and_then(|x| x.split(' ').next());
                if let Some(d) = dev {
                    assert!(d.len() <= 15, "{d}");
                }
            }
        }
    }
}
