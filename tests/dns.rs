//! Cluster DNS end to end: `dig google.com` from the document's dns-query pod crosses the
//! kube-dns Service's DNAT to the CoreDNS pod, which forwards to 1.1.1.1; on the CoreDNS
//! pod's cali interface the capture is the document's four packets (sizes 51, 51, 55, 77).

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
