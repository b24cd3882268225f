//! `cargo bench -p hopsim-tests --bench cluster_scale`: compile and load a cluster of
//! NODES nodes with SERVICES ClusterIP services of 3 endpoints each (defaults 100 and
//! 5000; `HOPSIM_BENCH_NODES`/`HOPSIM_BENCH_SERVICES` override), and report the time of
//! each stage (compile, load, and the text `hopsim compile` prints, with its size), the peak resident memory (`VmHWM`), and the time of one traced TCP request
//! (`nc -zv`) from the first pod to the last Service's ClusterIP (the last rule
//! of KUBE-SERVICES: the longest walk), with the rules the kernel evaluates for it.
//! kube-proxy's nat table (about 14 rules per service) is parsed once and shared by every
//! node.

use hopsim_core::cluster;
use hopsim_core::engine::connect::{connect, ConnectOptions};
use hopsim_core::format::LoadOptions;
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// The system allocator, counting allocations (a traced request's cost is mostly its
/// allocations: the count is a figure that does not depend on the machine's load).
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static REALLOCATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        REALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and reallocations so far.
fn allocations() -> (usize, usize) {
    (
        ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed),
        REALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed),
    )
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The cluster file: nodes on one /16 LAN, a /22 pod block each (calico-ipip), one
/// Deployment of 3 replicas per service.
pub fn cluster_text(nodes: usize, services: usize) -> String {
    let mut s = String::new();
    s.push_str("name: scale\nsource: \"generated (no source document)\"\ncluster:\n");
    s.push_str("  cni: calico-ipip\n  cluster-cidr: 10.0.0.0/8\n  block-size: 22\n  nodes:\n");
    for n in 0..nodes {
        let _ = writeln!(
            s,
            "    node{n}: {{ ip: 172.20.{}.{}/16 }}",
            (n + 10) / 250,
            (n + 10) % 250 + 2
        );
    }
    s.push_str("  deployments:\n");
    for i in 0..services {
        let _ = writeln!(
            s,
            "    - {{ name: app{i}, replicas: 3, labels: {{ app: app{i} }}, containers: [{{ name: c, ports: [8080] }}] }}"
        );
    }
    s.push_str("  services:\n");
    for i in 0..services {
        let _ = writeln!(
            s,
            "    - {{ name: app{i}, selector: {{ app: app{i} }}, ports: [{{ port: 80, target-port: 8080 }}] }}"
        );
    }
    s
}

/// One timed request (its own function so that profilers can single out the requests
/// after the first, which also builds the rule indexes: `valgrind --tool=callgrind
/// --toggle-collect='*cluster_scale::request*'`).
#[inline(never)]
fn request(
    world: hopsim_core::model::World,
    from: hopsim_core::model::NsId,
    to: std::net::Ipv4Addr,
    opts: &ConnectOptions,
) -> i32 {
    connect(world, from, to, 80, opts).exit
}

fn main() {
    let nodes = env("HOPSIM_BENCH_NODES", 100);
    let services = env("HOPSIM_BENCH_SERVICES", 5000);
    let text = cluster_text(nodes, services);
    let path = Path::new("scale.yaml");
    let t0 = Instant::now();
    let compiled = cluster::compile(path, &text).unwrap_or_else(|e| panic!("{e}"));
    let t1 = Instant::now();
    let topo = cluster::load_compiled(path, &compiled, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let t2 = Instant::now();
    let yaml = cluster::compiled_yaml(&compiled, &topo.world);
    let t3 = Instant::now();
    let w = &topo.world;
    let n0 = w.resolve_ns("node0").unwrap();
    let n1 = w.resolve_ns(&format!("node{}", nodes - 1)).unwrap();
    let nat = hopsim_core::netfilter::TableName::Nat;
    let shared = std::sync::Arc::ptr_eq(
        &w.netns[n0].netfilter.shared_table(nat),
        &w.netns[n1].netfilter.shared_table(nat),
    );
    let rules: usize = w.netns[n0]
        .netfilter
        .table(nat)
        .chains
        .values()
        .map(|c| c.rules.len())
        .sum();
    println!(
        "cluster_scale: {nodes} nodes, {services} services x 3 endpoints, {} pods",
        compiled.cluster.pods.len()
    );
    println!(
        "  compile (spec, IPAM, CNI, kube-proxy rule texts): {:?}",
        t1 - t0
    );
    println!(
        "  load (topology, pods, one parse of each distinct table): {:?}",
        t2 - t1
    );
    println!(
        "  `hopsim compile`'s text (each distinct table as iptables-save prints it, YAML): {:?}, {} bytes",
        t3 - t2,
        yaml.len()
    );
    drop(yaml);
    println!("  nat rules per node: {rules}; one nat table shared by all nodes: {shared}");
    assert!(shared);
    let vm = |key: &str| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(key))
                    .map(|l| l[key.len()..].trim().to_string())
            })
            .unwrap_or_else(|| "?".into())
    };
    println!(
        "  peak resident memory after load and `hopsim compile`'s text (VmHWM): {}",
        vm("VmHWM:")
    );

    // A request from the first pod to the last Service.
    let last = compiled
        .cluster
        .services
        .iter()
        .rev()
        .find_map(|s| s.allocated_ip)
        .expect("a ClusterIP");
    let pod = compiled.cluster.pods.first().expect("a pod");
    let from = w
        .resolve_ns(&format!("{}/{}", pod.namespace, pod.name))
        .or_else(|_| w.resolve_ns(&pod.name))
        .expect("pod namespace");
    let opts = ConnectOptions::default();
    let first = connect(w.clone(), from, last, 80, &opts);
    assert_eq!(first.exit, 0, "{}", first.lines.join("\n"));
    let runs = env("HOPSIM_BENCH_RUNS", 200);
    let a0 = allocations();
    let t4 = Instant::now();
    let mut clone_time = std::time::Duration::ZERO;
    for _ in 0..runs {
        let c0 = Instant::now();
        let world = w.clone();
        clone_time += c0.elapsed();
        std::hint::black_box(request(world, from, last, &opts));
    }
    let per = t4.elapsed() / runs as u32;
    let a1 = allocations();
    let (allocs, reallocs) = ((a1.0 - a0.0) / runs.max(1), (a1.1 - a0.1) / runs.max(1));
    println!(
        "  traced request {} -> {last}:80 (nc -zv, connected): {per:?} per request over {runs} runs, of which {:?} copying the world",
        pod.name,
        clone_time / runs as u32
    );
    println!(
        "  rules evaluated for it (the kernel's first-match walk, every table and hook): {}",
        first.rules_evaluated
    );
    println!(
        "  allocations per request: {allocs}, and {reallocs} reallocations; {} hops, {} steps",
        first.trace.hops.len(),
        first
            .trace
            .hops
            .iter()
            .map(|h| h.steps.len())
            .sum::<usize>()
    );
    println!(
        "  peak resident memory at the end (VmHWM): {}",
        vm("VmHWM:")
    );
}
