//! Limits: whatever the input, a trace stops, a load finishes, and the limit that stopped
//! it is named with its value and what to do (docs/robustness.md).

use hopsim_core::engine::connect::{connect, ConnectOptions};
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::engine::{MAX_HOPS, MAX_TRACE_HOPS};
use hopsim_core::format::{load_file, yaml, LoadOptions, MAX_INPUT_BYTES};
use hopsim_core::trace::{DropReason, Step};
use std::path::Path;

/// Two bridges joined by two veth pairs, no STP, and a namespace on one of them: the
/// first ARP broadcast circulates forever on Linux.
const BRIDGE_LOOP: &str = "name: storm
machines:
  host:
    interfaces:
      br0: { type: bridge }
      br1: { type: bridge }
      a0: { veth: host/a1, master: br0 }
      a1: { master: br1 }
      b0: { veth: host/b1, master: br0 }
      b1: { master: br1 }
      vr-br: { veth: red/vr, master: br0 }
    namespaces:
      red:
        interfaces:
          vr: { addr: 10.0.0.1/24 }
";

fn storm() -> hopsim_core::model::World {
    yaml::load_yaml(Path::new("storm.yaml"), BRIDGE_LOOP, LoadOptions::default())
        .expect("loads")
        .world
}

fn last_drop(t: &hopsim_core::trace::Trace) -> Option<(DropReason, String)> {
    t.hops
        .iter()
        .flat_map(|h| &h.steps)
        .rev()
        .find_map(|s| match s {
            Step::Drop { reason, detail } => Some((*reason, detail.clone())),
            _ => None,
        })
}

#[test]
fn a_broadcast_storm_on_a_bridge_loop_stops_at_the_hop_limit_and_says_why() {
    let w = storm();
    let red = w.resolve_ns("red").expect("red");
    let r = ping(
        w,
        red,
        "10.0.0.2".parse().expect("ip"),
        &PingOptions::default(),
    );
    assert_eq!(r.trace.hops.len(), MAX_HOPS);
    assert_eq!(r.exit, 1);
    let (reason, detail) = last_drop(&r.trace).expect("a drop");
    assert_eq!(reason, DropReason::SimLimit);
    assert_eq!(
        r.lines.last().map(String::as_str),
        Some(format!("hopsim: {detail}").as_str())
    );
    assert_eq!(
        detail,
        "stopped after 10000 hops, the limit of one trace (10000 per request, at most 100000): \
         frames that never stop are a loop without TTL, such as two bridges joined twice \
         (Linux would storm forever; STP is not modelled): remove one of the links, or send \
         fewer requests"
    );
}

#[test]
fn the_hop_limit_grows_with_the_request_count_up_to_the_trace_limit() {
    let w = storm();
    let red = w.resolve_ns("red").expect("red");
    let opts = PingOptions {
        count: 3,
        ..PingOptions::default()
    };
    let r = ping(w.clone(), red, "10.0.0.2".parse().expect("ip"), &opts);
    assert_eq!(r.trace.hops.len(), 3 * MAX_HOPS);
    let c = connect(
        w,
        red,
        "10.0.0.2".parse().expect("ip"),
        80,
        &ConnectOptions::default(),
    );
    assert_eq!(c.trace.hops.len(), MAX_HOPS);
    assert!(
        c.lines
            .last()
            .is_some_and(|l| l.starts_with("hopsim: stopped after 10000 hops")),
        "{:?}",
        c.lines
    );
    const { assert!(MAX_TRACE_HOPS >= 10 * MAX_HOPS) };
}

#[test]
fn many_requests_on_a_sane_topology_all_complete() {
    let t = load_file(
        &hopsim_tests::root().join("scenarios/netns-veth.yaml"),
        LoadOptions::default(),
    )
    .expect("loads");
    let red = t.world.resolve_ns("red").expect("red");
    let opts = PingOptions {
        count: 5000,
        interval_ms: 1,
        ..PingOptions::default()
    };
    let r = ping(t.world, red, "192.168.15.2".parse().expect("ip"), &opts);
    assert_eq!(r.transmitted, 5000);
    assert!(
        r.lines
            .iter()
            .any(|l| l == "5000 packets transmitted, 5000 received, 0% packet loss"),
        "{:?}",
        &r.lines[r.lines.len() - 3..]
    );
}

/// A sparse file of `len` bytes named `name` in a fresh temporary folder: (folder, file).
fn sparse_file(folder: &str, name: &str, len: u64) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("{folder}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join(name);
    let f = std::fs::File::create(&p).expect("create");
    f.set_len(len).expect("sparse file");
    (dir, p)
}

#[test]
fn an_input_file_over_the_size_limit_is_refused_before_it_is_read() {
    let (dir, p) = sparse_file("hopsim-limits", "big.yaml", MAX_INPUT_BYTES + 1);
    let e = load_file(&p, LoadOptions::default()).expect_err("too big");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(e.line, 0);
    assert_eq!(
        e.message,
        "268435457 bytes is more than hopsim reads (268435456 bytes, 256 MiB)"
    );
    assert!(e.hint.is_some_and(|h| h.starts_with("give a topology")));
}

/// The compiled text of a large cluster (66 MiB for 100 nodes and 5,000 Services) is
/// read: a file over the former 16 MiB limit is not refused for its size.
#[test]
fn an_input_file_under_the_size_limit_is_read() {
    let (dir, p) = sparse_file("hopsim-limits-ok", "compiled.yaml", 70 << 20);
    let read = hopsim_core::format::read_input(&p).map(|t| t.len());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(read, Ok(70 << 20));
}

#[test]
fn a_cluster_asking_for_too_many_pods_is_refused_at_the_replicas() {
    let text = "name: big
cluster:
  cni: calico-ipip
  cluster-cidr: 10.0.0.0/8
  block-size: 24
  nodes:
    n1: { ip: 192.168.10.10/24 }
  deployments:
    - name: a
      replicas: 60000
      containers: [{ name: c, ports: [80] }]
    - name: b
      replicas: 60000
      containers: [{ name: c, ports: [80] }]
";
    let Err(e) = hopsim_core::cluster::compile(Path::new("big.yaml"), text) else {
        panic!("too many pods should be refused");
    };
    assert_eq!(
        e.to_string(),
        "big.yaml:13:17: 60000 replicas make more than 100000 pods, the most hopsim compiles\n  hint: the cluster has 60000 pods before this deployment: fewer replicas show the same paths"
    );
}

#[test]
fn many_thousand_iptables_commands_load_in_linear_time() {
    use hopsim_core::format::script::run_script;
    let mut s = String::from("ip netns add a\n");
    for i in 0..20_000u32 {
        s.push_str(&format!(
            "ip netns exec a iptables -A INPUT -s 10.{}.{}.1 -j ACCEPT\n",
            i / 256 % 256,
            i % 256
        ));
    }
    let start = std::time::Instant::now();
    let run = run_script("many.sh", &s, LoadOptions { strict: true }).expect("loads");
    let a = run.world.resolve_ns("a").expect("a");
    let rules = run.world.netns[a]
        .netfilter
        .table(hopsim_core::netfilter::TableName::Filter)
        .chains["INPUT"]
        .rules
        .len();
    assert_eq!(rules, 20_000);
    // Quadratic (a table copy and check per command) took 100 s in a debug build here.
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}
