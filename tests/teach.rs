//! Teaching views: the narrated walkthrough of a few scenarios (no route, NAT, a tunnel)
//! and the diagrams, pinned as snapshots; the generated walkthrough pages under
//! docs/walkthroughs/ must be up to date.

use hopsim_core::check::apply_with;
use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::render::walk::{render_walk, walk, WalkStyle};
use hopsim_core::render::{dot, mermaid, path};
use hopsim_core::teach::{docs, run_probe, Probe, ProbeRun};
use hopsim_core::World;

/// Load a scenario, apply `with` lines, ping `dest` from `from`.
fn ping(scenario: &str, with: &[&str], from: &str, dest: &str) -> (World, ProbeRun) {
    let t = load_file(
        &hopsim_tests::root().join("scenarios").join(scenario),
        LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut w = t.world.clone();
    let with: Vec<String> = with.iter().map(|s| s.to_string()).collect();
    apply_with(&mut w, &with).unwrap_or_else(|m| panic!("{m}"));
    let ns = w.resolve_ns(from).unwrap_or_else(|m| panic!("{m}"));
    let run = run_probe(
        w.clone(),
        ns,
        dest.parse().expect("address"),
        &Probe::Ping(Default::default()),
    );
    (w, run)
}

fn walk_text(run: &ProbeRun) -> String {
    let mut s = render_walk(&walk(&run.trace), WalkStyle::default());
    for l in &run.lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots/teach");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn walk_no_route_says_the_kernel_refuses() {
    let (_, run) = ping("vnet-external.yaml", &[], "blue", "192.168.1.3");
    let text = walk_text(&run);
    assert!(
        text.contains("blue has no route to 192.168.1.3, so the kernel refuses to send: Network is unreachable."),
        "{text}"
    );
    settings().bind(|| insta::assert_snapshot!("walk-no-route", text));
}

#[test]
fn walk_masquerade_shows_the_rewritten_source_and_ttl() {
    let (_, run) = ping(
        "vnet-external.yaml",
        &[
            "blue: ip route add 192.168.1.0/24 via 192.168.15.5",
            "host: iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE",
        ],
        "blue",
        "192.168.1.3",
    );
    let text = walk_text(&run);
    for want in [
        "* -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE  => MASQUERADE",
        "changed: IPv4 src: 192.168.15.2 -> 192.168.1.2",
        "changed: IPv4 ttl: 64 -> 63",
        "192.168.1.3 dev eth0 lladdr 3e:67:72:d7:d8:b2 REACHABLE",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    settings().bind(|| insta::assert_snapshot!("walk-masquerade", text));
}

#[test]
fn walk_ipip_adds_an_outer_header_around_the_same_packet() {
    let (_, run) = ping("calico-ipip.yaml", &[], "client", "172.16.184.5");
    assert_eq!(run.exit, 0, "{:?}", run.lines);
    let text = walk_text(&run);
    assert!(
        text.contains("tunl0 (ipip) wraps the packet in an outer header"),
        "{text}"
    );
    assert!(
        text.contains("changed: IPv4 protocol: IPIP (4) (added)"),
        "{text}"
    );
    settings().bind(|| insta::assert_snapshot!("walk-ipip", text));
}

#[test]
fn diagrams_highlight_the_path() {
    let (w, run) = ping("vnet-external.yaml", &[], "red", "192.168.15.2");
    let p = path::trace_path(&w, &run.trace);
    let flow = mermaid::flowchart(&w, Some(&p));
    let seq = mermaid::sequence(&run.trace);
    let dot_text = dot::to_dot_with_path(&w, Some(&p));
    assert!(flow.contains("linkStyle"), "{flow}");
    assert!(dot_text.contains("penwidth=3"), "{dot_text}");
    assert_eq!(
        dot::to_dot_with_path(&w, None),
        dot::to_dot(&w),
        "without a path the DOT output is the plain graph"
    );
    settings().bind(|| {
        insta::assert_snapshot!("mermaid-flowchart-vnet-external", flow);
        insta::assert_snapshot!("mermaid-sequence-vnet-external", seq);
        insta::assert_snapshot!("dot-path-vnet-external", dot_text);
    });
}

#[test]
fn tunnel_diagram_marks_the_tunnel_used() {
    let (w, run) = ping("calico-ipip.yaml", &[], "client", "172.16.184.5");
    let p = path::trace_path(&w, &run.trace);
    assert!(!p.encap.is_empty() && !p.decap.is_empty(), "{p:?}");
    let dot_text = dot::to_dot_with_path(&w, Some(&p));
    assert!(
        dot_text
            .lines()
            .any(|l| l.contains("tunl0 ipip") && l.contains("penwidth=3")),
        "{dot_text}"
    );
    settings().bind(|| {
        insta::assert_snapshot!(
            "mermaid-flowchart-calico-ipip",
            mermaid::flowchart(&w, Some(&p))
        )
    });
}

#[test]
fn walkthrough_pages_are_up_to_date() {
    let root = hopsim_tests::root();
    let pages = docs::generate(&root.join("scenarios")).unwrap_or_else(|e| panic!("{e}"));
    let stale = docs::stale(&pages, &root.join("docs/walkthroughs"));
    assert!(
        stale.is_empty(),
        "docs/walkthroughs/ is stale ({}): regenerate it with `{}`",
        stale.join(", "),
        docs::REGENERATE
    );
    let index = &pages[0];
    assert_eq!(index.0, "README.md");
    let pos = |s: &str| index.1.find(&format!("[{s}]")).expect(s);
    assert!(pos("switching") < pos("netns-veth"));
    assert!(pos("netns-veth") < pos("docker-bridge"));
    assert!(pos("calico-ipip") < pos("nodeport"));
}
