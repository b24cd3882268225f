//! `cargo bench -p hopsim-core`: what hopsim costs.
//!
//! - `load/<scenario>`: read and build every scenario of `scenarios/` (YAML or script).
//! - `ping/<scenario>`: one traced ping, the first `ping:` expectation of each scenario, on
//!   a world already built (the world is cloned per run, as every command does).
//! - `chain6`: trace throughput on a six-hop path (five routers) with a stateful FORWARD
//!   policy and NAT on the way.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::format::script::run_script;
use hopsim_core::format::{load_file, LoadOptions};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "sh")));
    v.sort();
    v
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    for p in scenarios() {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        g.bench_function(name, |b| {
            b.iter(|| black_box(load_file(&p, LoadOptions::default()).map(|t| t.world.netns.len())))
        });
    }
    g.finish();
}

fn pings(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping");
    for p in scenarios() {
        let Ok(t) = load_file(&p, LoadOptions::default()) else {
            continue;
        };
        let Some(e) = t
            .expects
            .iter()
            .find(|e| e.run.is_none() && e.port.is_none() && e.with.is_empty())
        else {
            continue;
        };
        let (Ok(ns), Ok(dst)) = (t.world.resolve_ns(&e.from), e.to.parse()) else {
            continue;
        };
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let opts = PingOptions {
            count: 1,
            ..e.options.clone()
        };
        g.bench_function(name, |b| {
            b.iter(|| black_box(ping(t.world.clone(), ns, dst, &opts).exit))
        });
    }
    g.finish();
}

/// A -- R1 -- R2 -- R3 -- R4 -- R5 -- B: six links, five forwarding routers, each with a
/// stateful FORWARD policy; R5 masquerades towards B.
fn chain6_script() -> String {
    let mut s = String::new();
    let nodes = ["A", "R1", "R2", "R3", "R4", "R5", "B"];
    for n in nodes {
        s.push_str(&format!("ip netns add {n}\nip -n {n} link set lo up\n"));
    }
    for i in 0..6 {
        let (l, r) = (nodes[i], nodes[i + 1]);
        s.push_str(&format!(
            "ip -n {l} link add e{i}l type veth peer name e{i}r netns {r}\nip -n {l} addr add 10.{i}.0.1/24 dev e{i}l\nip -n {r} addr add 10.{i}.0.2/24 dev e{i}r\nip -n {l} link set e{i}l up\nip -n {r} link set e{i}r up\n"
        ));
    }
    // Default routes towards B, and back towards A.
    for i in 0..6 {
        if i < 5 {
            s.push_str(&format!(
                "ip -n {} route add default via 10.{}.0.2\n",
                nodes[i], i
            ));
        }
        if i > 0 {
            s.push_str(&format!(
                "ip -n {} route add 10.0.0.0/16 via 10.{}.0.1\n",
                nodes[i + 1],
                i
            ));
        }
    }
    s.push_str("ip -n A route add default via 10.0.0.2\n");
    for r in &nodes[1..6] {
        s.push_str(&format!(
            "ip netns exec {r} sysctl -w net.ipv4.ip_forward=1\nip netns exec {r} iptables -P FORWARD DROP\nip netns exec {r} iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\nip netns exec {r} iptables -A FORWARD -p icmp -j ACCEPT\n"
        ));
    }
    s.push_str("ip netns exec R5 iptables -t nat -A POSTROUTING -o e5l -j MASQUERADE\n");
    s
}

fn chain6(c: &mut Criterion) {
    let run =
        run_script("chain6.sh", &chain6_script(), LoadOptions::default()).expect("chain6 builds");
    let w = run.world;
    let ns = w.resolve_ns("A").expect("A");
    let dst = "10.5.0.2".parse().expect("addr");
    let opts = PingOptions::default();
    let first = ping(w.clone(), ns, dst, &opts);
    assert_eq!(first.exit, 0, "{}", first.lines.join("\n"));
    let mut g = c.benchmark_group("chain6");
    g.throughput(Throughput::Elements(1));
    g.bench_function(
        "traced ping, 5 routers, stateful FORWARD + MASQUERADE",
        |b| b.iter(|| black_box(ping(w.clone(), ns, dst, &opts).trace.hops.len())),
    );
    g.finish();
}

criterion_group!(benches, load, pings, chain6);
criterion_main!(benches);
