//! `hopsim reach`: the matrix of a few scenarios (snapshots), the same whatever the number
//! of threads, and one verdict of each kind.

use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::reach::{self, Probe, Verdict};
use hopsim_core::World;
use std::path::Path;

fn world(name: &str) -> World {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    load_file(&p, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .world
}

fn matrix(w: &World, probe: Probe, threads: Option<usize>) -> reach::Reach {
    let sources = reach::all_sources(w);
    let targets = reach::all_targets(w);
    reach::reach(w, &sources, &targets, probe, threads, &|| {})
}

#[test]
fn routing_matrix() {
    let w = world("routing.yaml");
    insta::assert_snapshot!(reach::render_table(&matrix(&w, Probe::Icmp, None), false));
}

#[test]
fn vnet_dnat_tcp_matrix_failing_pairs() {
    let w = world("vnet-dnat.yaml");
    let r = matrix(&w, Probe::Tcp { port: 80 }, None);
    insta::assert_snapshot!(reach::render_csv(&r, true));
}

#[test]
fn br0_forward_drop_names_the_dropping_rule() {
    let w = world("br0-forward-drop.yaml");
    let r = matrix(&w, Probe::Icmp, None);
    insta::assert_snapshot!(reach::render_table(&r, true));
    assert!(
        r.pairs.iter().any(|p| p.verdict == Verdict::Dropped
            && p.step
                .as_deref()
                .is_some_and(|s| s.contains("NETFILTER_DROP"))),
        "{}",
        reach::render_table(&r, true)
    );
}

#[test]
fn parallel_output_is_the_sequential_output() {
    for name in ["routing.yaml", "calico-same-node.yaml", "vnet-bridge.yaml"] {
        let w = world(name);
        let seq = matrix(&w, Probe::Icmp, Some(1));
        let par = matrix(&w, Probe::Icmp, Some(2));
        assert_eq!(seq, par, "{name}");
        assert_eq!(
            serde_json::to_string(&seq).ok(),
            serde_json::to_string(&par).ok()
        );
    }
}

#[test]
fn each_pair_is_the_single_trace() {
    // A pair's verdict is what one ping on a fresh world gives: earlier pairs leave no
    // neighbour or conntrack state behind.
    let w = world("routing.yaml");
    let r = matrix(&w, Probe::Icmp, Some(1));
    for p in &r.pairs {
        let ns = w.resolve_ns(&p.from).expect("source");
        let one = hopsim_core::engine::ping::ping(
            w.clone(),
            ns,
            p.to,
            &hopsim_core::PingOptions {
                count: 1,
                ..Default::default()
            },
        );
        assert_eq!(one.exit == 0, p.verdict == Verdict::Reached, "{p:?}");
    }
}

#[test]
fn quiet_pairs_are_the_traced_pairs() {
    // `reach` runs each pair in the engine's quiet mode (only drop steps recorded): every
    // pair's verdict, tool message, dropping step and rule count must be those of the
    // fully traced run, for every scenario and each kind of probe.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("scenarios")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    let mut checked = 0;
    let mut failed = 0;
    for name in &names {
        let w = world(name);
        let sources = reach::all_sources(&w);
        let targets = reach::all_targets(&w);
        for probe in [
            Probe::Icmp,
            Probe::Tcp { port: 80 },
            Probe::Udp { port: 53 },
        ] {
            for s in &sources {
                for t in &targets {
                    let quiet = reach::probe_pair(&w, *s, t, probe);
                    let traced = reach::probe_pair_traced(&w, *s, t, probe);
                    assert_eq!(quiet, traced, "{name} {probe}");
                    checked += 1;
                    failed += usize::from(traced.verdict != Verdict::Reached);
                }
            }
        }
    }
    // Both kinds of pair were compared (a drop step is only recorded for failures).
    assert!(
        checked > 1000 && failed > 100,
        "{checked} pairs, {failed} failing"
    );
}

#[test]
fn a_matrix_larger_than_a_tile_comes_out_source_major() {
    // 40 pods: the pairs run tile by tile (32 x 32), the matrix is still every source's
    // row in turn, targets in the order given, each pair the one probe_pair gives.
    let text = "name: tiles\nsource: \"generated (no source document)\"\ncluster:\n  cni: bridge-routes\n  cluster-cidr: 10.244.0.0/16\n  nodes:\n    node0: { ip: 192.168.10.10/24 }\n    node1: { ip: 192.168.10.11/24 }\n  deployments:\n    - { name: web, replicas: 40, labels: { app: web }, containers: [{ name: c, ports: [80] }] }\n";
    let path = Path::new("tiles.yaml");
    let compiled = hopsim_core::cluster::compile(path, text).unwrap_or_else(|e| panic!("{e}"));
    let w = hopsim_core::cluster::load_compiled(path, &compiled, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .world;
    let sources: Vec<_> = compiled
        .cluster
        .pods
        .iter()
        .filter_map(|p| w.resolve_ns(&format!("{}/{}", p.namespace, p.name)).ok())
        .collect();
    assert_eq!(sources.len(), 40);
    let targets: Vec<reach::Target> = compiled
        .cluster
        .pods
        .iter()
        .rev()
        .take(35)
        .map(|p| reach::Target {
            addr: p.ip,
            owner: reach::owner_of(&w, p.ip),
        })
        .collect();
    let r = reach::reach(&w, &sources, &targets, Probe::Icmp, Some(2), &|| {});
    assert_eq!(r.pairs.len(), 40 * 35);
    for (i, p) in r.pairs.iter().enumerate() {
        let (s, t) = (sources[i / 35], &targets[i % 35]);
        assert_eq!((&p.from, p.to), (&w.netns[s].name, t.addr), "pair {i}");
    }
    for i in [0, 34, 35, 32 * 35 + 31, 40 * 35 - 1] {
        let (s, t) = (sources[i / 35], &targets[i % 35]);
        assert_eq!(
            r.pairs[i],
            reach::probe_pair(&w, s, t, Probe::Icmp),
            "pair {i}"
        );
    }
    assert_eq!(r.failing().count(), 0, "{}", reach::render_table(&r, true));
}
