//! `cargo bench -p hopsim-tests --bench reach_scale`: `hopsim reach` all-pairs on a
//! generated cluster of PODS pods (default 1000) on NODES nodes (default 10,
//! bridge-routes: a bridge per node, routes between nodes), every pod pinging every pod:
//! PODS x PODS traces, in parallel on every core. `HOPSIM_BENCH_SOURCES=N` limits the
//! sources to the first N pods (the time then scales linearly). `HOPSIM_BENCH_CNI` picks
//! another CNI (`calico-ipip`: a routed veth per pod, no bridge to flood ARP on).

use hopsim_core::cluster;
use hopsim_core::format::LoadOptions;
use hopsim_core::reach::{self, Probe, Target};
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let pods = env("HOPSIM_BENCH_PODS", 1000);
    let nodes = env("HOPSIM_BENCH_NODES", 10);
    let cni = std::env::var("HOPSIM_BENCH_CNI").unwrap_or_else(|_| "bridge-routes".into());
    let mut s = format!(
        "name: reach-scale\nsource: \"generated (no source document)\"\ncluster:\n  cni: {cni}\n  cluster-cidr: 10.244.0.0/16\n{}  nodes:\n",
        // One pod block per node, large enough for its share of the pods.
        if cni.starts_with("calico") { "  block-size: 24\n" } else { "" }
    );
    for n in 0..nodes {
        let _ = writeln!(s, "    node{n}: {{ ip: 192.168.10.{}/24 }}", n + 10);
    }
    let _ = writeln!(
        s,
        "  deployments:\n    - {{ name: web, replicas: {pods}, labels: {{ app: web }}, containers: [{{ name: c, ports: [80] }}] }}"
    );
    let path = Path::new("reach-scale.yaml");
    let t0 = Instant::now();
    let compiled = cluster::compile(path, &s).unwrap_or_else(|e| panic!("{e}"));
    let topo = cluster::load_compiled(path, &compiled, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let w = &topo.world;
    let load = t0.elapsed();
    let mut sources = Vec::new();
    let mut targets = Vec::new();
    for p in &compiled.cluster.pods {
        let ns = w
            .resolve_ns(&format!("{}/{}", p.namespace, p.name))
            .expect("pod namespace");
        sources.push(ns);
        targets.push(Target {
            addr: p.ip,
            owner: w.netns[ns].name.clone(),
        });
    }
    sources.truncate(env("HOPSIM_BENCH_SOURCES", usize::MAX));
    let t1 = Instant::now();
    let r = reach::reach(w, &sources, &targets, Probe::Icmp, None, &|| {});
    let took = t1.elapsed();
    let reached = r.pairs.len() - r.failing().count();
    let rules: usize = r.pairs.iter().map(|p| p.rules_evaluated).sum();
    println!(
        "reach_scale: {} pods on {nodes} nodes, {cni} (compile + load {load:?}); {} sources x {} targets = {} pairs ({reached} reached) in {took:?} on {} threads: {:.1} us per pair, {:.0} iptables rules evaluated per pair",
        compiled.cluster.pods.len(),
        sources.len(),
        targets.len(),
        r.pairs.len(),
        rayon::current_num_threads(),
        took.as_secs_f64() * 1e6 / r.pairs.len().max(1) as f64,
        rules as f64 / r.pairs.len().max(1) as f64
    );
}
