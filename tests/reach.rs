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
