//! Cluster DNS end to end: `dig google.com` from the document's dns-query pod crosses the
//! kube-dns Service's DNAT to the CoreDNS pod, which forwards to 1.1.1.1; on the CoreDNS
//! pod's cali interface the capture is the document's four packets (sizes 51, 51, 55, 77),
//! and tshark dissects the capture of the whole lookup as DNS.

use hopsim_core::engine::resolver::{resolve, ResolveOptions, Tool};
use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::trace::Step;

/// `IP SRC.SPORT > DST.DPORT: DNS` of a frame summary, as `tcpdump -nn` prints it.
fn tcpdump_line(summary: &str) -> Option<(String, String, String)> {
    let ip = summary.split("IPv4 ").nth(1)?;
    let mut w = ip.split_whitespace();
    let (src, _, dst) = (w.next()?, w.next()?, w.next()?);
    let udp = ip.split(": UDP ").nth(1)?;
    let (ports, dns) = udp.split_once(": ")?;
    let (sp, dp) = ports.split_once(" > ")?;
    let dns = match dns.rsplit_once(" (") {
        Some((d, tail)) if tail.ends_with(" bytes)") => d,
        _ => dns,
    };
    Some((
        format!("{src}.{sp}"),
        format!("{dst}.{dp}"),
        dns.to_string(),
    ))
}

#[test]
fn coredns_capture_is_the_documents_four_packets() {
    let path = hopsim_tests::root().join("scenarios/coredns.yaml");
    let t = load_file(&path, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let from = t.world.resolve_ns("dns-query").unwrap();
    let r = resolve(
        t.world.clone(),
        from,
        "google.com",
        &ResolveOptions {
            tool: Tool::Dig,
            qtype: None,
        },
    );
    assert_eq!(r.exit, 0, "{:?}", r.lines);
    assert_eq!(
        r.addrs,
        vec!["172.217.26.238".parse::<std::net::IpAddr>().unwrap()]
    );
    // The CoreDNS pod's veth on k8s-m: what it transmits to the pod and receives from it.
    let mut seen = Vec::new();
    for h in r.trace.hops.iter().filter(|h| h.node == "k8s-m") {
        for s in &h.steps {
            let (dev, sum) = match s {
                Step::Transmit { dev, frame } => (dev, &frame.summary()),
                Step::Receive { dev, frame } => (dev, &frame.summary()),
                _ => continue,
            };
            if !dev.starts_with("cali") || !sum.contains("UDP") {
                continue;
            }
            if let Some(l) = tcpdump_line(sum) {
                if !seen.contains(&l) {
                    seen.push(l);
                }
            }
        }
    }
    let shape: Vec<(String, String, String)> = seen
        .iter()
        .map(|(s, d, x)| {
            // Ports and ids are random on a real system: keep the addresses, the well-known
            // port and the message without its id.
            let keep = |a: &str| {
                let (ip, port) = a.rsplit_once('.').unwrap();
                if port == "53" {
                    a.to_string()
                } else {
                    format!("{ip}.*")
                }
            };
            let body = x.split_once(' ').map(|(_, b)| b).unwrap_or(x);
            (keep(s), keep(d), body.to_string())
        })
        .collect();
    let want = [
        (
            "172.16.158.14.*",
            "172.16.116.10.53",
            "[1au] A? google.com. (51)",
        ),
        ("172.16.116.10.*", "1.1.1.1.53", "[1au] A? google.com. (51)"),
        (
            "1.1.1.1.53",
            "172.16.116.10.*",
            "1/0/1 A 172.217.26.238 (55)",
        ),
        (
            "172.16.116.10.53",
            "172.16.158.14.*",
            "1/0/1 A 172.217.26.238 (77)",
        ),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(shape, want, "the capture on the CoreDNS pod's cali device");
}

/// The pcap of the coredns scenario's `dig google.com`, read by tshark: every DNS datagram
/// (inside IPIP on tunl0's underlay too) dissects as DNS without a malformed packet, and
/// the four legs are there: the query to the Service address, the query CoreDNS forwards
/// to 1.1.1.1, 1.1.1.1's answer, and the answer back from 10.96.0.10 (un-DNATed).
#[test]
fn tshark_dissects_the_coredns_capture_as_dns() {
    if !hopsim_tests::tshark_present("tshark_dissects_the_coredns_capture_as_dns") {
        return;
    }
    let path = hopsim_tests::root().join("scenarios/coredns.yaml");
    let t = load_file(&path, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let from = t.world.resolve_ns("dns-query").unwrap();
    let opts = ResolveOptions {
        tool: Tool::Dig,
        qtype: None,
    };
    let r = resolve(t.world.clone(), from, "google.com", &opts);
    let file = std::env::temp_dir().join(format!("hopsim-{}-coredns-dns.pcap", std::process::id()));
    std::fs::write(&file, hopsim_core::render::pcap::pcap(&r.trace)).expect("write");
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-Y",
            "dns",
            "-T",
            "fields",
            "-E",
            "occurrence=l",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "dns.flags.response",
            "-e",
            "dns.qry.name",
            "-e",
            "dns.a",
            "-e",
            "_ws.malformed",
        ])
        .output()
        .expect("tshark runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert!(!rows.is_empty(), "no DNS in the capture");
    for r in &rows {
        assert_eq!(r.len(), 6, "{r:?}");
        assert_eq!(r[3], "google.com", "{r:?}");
        assert_eq!(r[5], "", "malformed: {r:?}");
    }
    let has = |src: &str, dst: &str, response: bool| {
        rows.iter().any(|r| {
            r[0] == src
                && r[1] == dst
                && matches!(r[2], "1" | "True") == response
                && (!response || r[4] == "172.217.26.238")
        })
    };
    assert!(has("172.16.158.14", "10.96.0.10", false), "{text}");
    assert!(has("172.16.158.14", "172.16.116.10", false), "{text}");
    assert!(has("192.168.10.10", "1.1.1.1", false), "{text}");
    assert!(has("1.1.1.1", "192.168.10.10", true), "{text}");
    assert!(has("172.16.116.10", "172.16.158.14", true), "{text}");
    assert!(has("10.96.0.10", "172.16.158.14", true), "{text}");
}

/// The coredns scenario with one piece of its `dns:` key replaced: the located error.
/// `at` is the text whose line the error must name.
#[test]
fn wrong_dns_keys_in_a_cluster_file_give_located_errors() {
    let path = hopsim_tests::root().join("scenarios/coredns.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cases = [
        (
            "provider: coredns",
            "provider: kube-dns",
            "provider: kube-dns",
            "dns provider \"kube-dns\" is not modelled",
        ),
        (
            "nodes: [k8s-m]",
            "nodes: [k8s-x]",
            "nodes: [k8s-x]",
            "node \"k8s-x\" is not in nodes:",
        ),
        (
            "ips: [172.16.116.10]",
            "ips: [172.16.116.10, 172.16.116.11]",
            "ips: [",
            "2 ips for 1 CoreDNS replicas",
        ),
        (
            "upstream: [1.1.1.1]",
            "upstream: [1.1.1]",
            "upstream: [1.1.1]",
            "1.1.1",
        ),
        (
            "replicas: 1",
            "replicas: 1\n    colour: blue",
            "colour: blue",
            "unknown field `colour`",
        ),
        (
            "replicas: 1",
            "replicas: 1\n    corefile: |\n      .:53 {\n          rewrite name a b\n      }",
            "rewrite name",
            "Unknown directive 'rewrite'",
        ),
        (
            "172.217.26.238 google.com",
            "172.217.26.238 google.com\n          172.217.26 bad.example",
            "172.217.26 bad",
            "dns-server: records:",
        ),
    ];
    let mut wrong = Vec::new();
    for (from, to, at, want) in cases {
        assert!(text.contains(from), "{from}");
        let bad = text.replacen(from, to, 1);
        let line = bad[..bad.find(at).expect("marker")].matches('\n').count() + 1;
        match hopsim_core::cluster::compile(std::path::Path::new("bad-dns.yaml"), &bad) {
            Ok(_) => wrong.push(format!("{to}: compiled")),
            Err(e) => {
                let e = e.to_string();
                if !e.contains(want) || !e.starts_with(&format!("bad-dns.yaml:{line}:")) {
                    wrong.push(format!("{to}: expected line {line} and {want:?}, got {e}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `hopsim import` writes a world back as YAML: every namespace's /etc/hosts, resolv.conf,
/// C library and DNS server (records, forwarders, recursion, Corefile and the kubernetes
/// plugin's view) load back the same, and the lookups' expectations keep their kind.
#[test]
fn export_round_trips_the_name_resolution_config() {
    use hopsim_core::format::export::to_yaml;
    use hopsim_core::format::yaml::load_yaml;
    let mut musl = 0;
    let mut coredns = 0;
    for s in [
        "hosts-file",
        "dns-server",
        "hosts-vs-dns",
        "forward",
        "search-domains",
        "coredns-hosts",
        "coredns",
        "coredns-records",
        "coredns-down",
    ] {
        let path = hopsim_tests::root().join(format!("scenarios/{s}.yaml"));
        let t = load_file(&path, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let yaml = to_yaml(&t.world, s, t.source.as_deref(), &t.expects);
        let back = load_yaml(
            std::path::Path::new("exported.yaml"),
            &yaml,
            LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{s}: {e}\n{yaml}"));
        let mut compared = 0;
        for (_, n) in t.world.live_netns() {
            if n.dns == Default::default() {
                continue;
            }
            let id = back
                .world
                .resolve_ns(&n.name)
                .unwrap_or_else(|e| panic!("{s}: {}: {e}", n.name));
            assert_eq!(back.world.netns[id].dns, n.dns, "{s}: {}", n.name);
            musl += usize::from(n.dns.libc == hopsim_core::dns::Libc::Musl);
            coredns += usize::from(
                n.dns
                    .server
                    .as_ref()
                    .is_some_and(|d| d.process == "coredns"),
            );
            compared += 1;
        }
        assert!(compared > 0, "{s}: no name-resolution config");
        let kinds = |ex: &[hopsim_core::format::Expect]| -> Vec<(bool, bool, Option<Vec<std::net::IpAddr>>)> {
            ex.iter().map(|e| (e.resolve.is_some(), e.run.is_some(), e.answer.clone())).collect()
        };
        assert_eq!(kinds(&back.expects), kinds(&t.expects), "{s}");
    }
    assert!(musl > 0 && coredns > 0, "musl {musl}, coredns {coredns}");
}

/// Wrong `resolve:` expectations are located load errors with what to write instead.
#[test]
fn wrong_resolve_expectations_give_located_errors() {
    let path = hopsim_tests::root().join("scenarios/hosts-vs-dns.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let from = "  - resolve: { from: A, name: test, tool: nslookup }\n    answer: [56.119.78.108]";
    let cases = [
        (
            "  - resolve: { from: A, name: test, tool: host }",
            "tool \"host\" is not modelled",
        ),
        (
            "  - resolve: { from: A, name: test, tool: getent, type: A }",
            "type A is for nslookup and dig",
        ),
        (
            "  - resolve: { from: A, name: test, tool: dig, type: MX }",
            "type \"MX\" is not modelled",
        ),
        (
            "  - resolve: { from: A, name: test, tool: dig, port: 53 }",
            "unknown field `port`",
        ),
        (
            "  - ping: A -> 192.168.1.100\n    answer: [1.2.3.4]",
            "answer: belongs to a resolve: expectation",
        ),
        (
            "  - resolve: { from: A, name: test }\n    answer: [1.2.3]",
            "answer: \"1.2.3\" is not an address",
        ),
        (
            "  - resolve: { from: A, name: test }\n    ping: A -> 192.168.1.100",
            "exactly one of",
        ),
    ];
    let line = text[..text.find(from).expect("the nslookup entry")]
        .matches('\n')
        .count()
        + 1;
    for (to, want) in cases {
        let bad = text.replacen(from, to, 1);
        match hopsim_core::format::yaml::load_yaml(
            std::path::Path::new("bad.yaml"),
            &bad,
            LoadOptions::default(),
        ) {
            Ok(_) => panic!("{to}: loaded"),
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains(want), "{to}: got {e}");
                assert!(
                    e.starts_with(&format!("bad.yaml:{line}:")),
                    "{to}: not at line {line}: {e}"
                );
            }
        }
    }
}
