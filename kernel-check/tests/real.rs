//! Real-kernel integration test: runs small cases in isolated namespaces.
//!
//! Needs root and iproute2/iputils. When [`preflight`] fails, every test prints a loud
//! `SKIPPED: ...` line (to the real stderr, not captured by the harness) instead of
//! passing silently; set `HOPSIM_KERNEL_CHECK=require` to make that a failure.

use hopsim_kernel_check::{
    preflight, preflight_capture, run_real, verdict, Capture, Probe, ProbeCmd, RealOpts,
    RealOutcome, Verdict,
};
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

/// True when the machine can run real cases; otherwise says why, loudly.
///
/// The message is written straight to the process's stderr, which the test harness does
/// not capture, so it shows even for a passing test. With `HOPSIM_KERNEL_CHECK=require`
/// a failed preflight fails the test instead.
fn can_run(test: &str) -> bool {
    match preflight() {
        Ok(()) => true,
        Err(msg) => {
            if std::env::var("HOPSIM_KERNEL_CHECK").as_deref() == Ok("require") {
                panic!("HOPSIM_KERNEL_CHECK=require but the kernel check cannot run: {msg}");
            }
            let banner = format!(
                "\n{bar}\nSKIPPED: {test}: real-kernel check not run: {msg}\n{bar}\n",
                bar = "=".repeat(72)
            );
            let _ = std::io::stderr().write_all(banner.as_bytes());
            false
        }
    }
}

fn machine_netns_list() -> String {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lines_of(names: &str) -> Vec<String> {
    names
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn run(script: &str, probes: &[Probe]) -> RealOutcome {
    let o = run_real(script, probes, &RealOpts::default()).expect("case runs");
    for l in o.failed_lines() {
        eprintln!(
            "line {} failed ({}): {} -> {}",
            l.line,
            l.status,
            l.text,
            l.stderr.trim()
        );
    }
    o
}

const VETH: &str = "\
ip netns add red
ip netns add blue
ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n red link set veth-red up
ip -n blue link set veth-blue up
";

#[test]
fn veth_pair_replies_with_ttl_64() {
    if !can_run("veth_pair_replies_with_ttl_64") {
        return;
    }
    let t = Instant::now();
    let o = run(VETH, &[Probe::ping("red", "192.168.15.2")]);
    eprintln!("veth case took {:?}", t.elapsed());
    assert_eq!(o.failed_lines().count(), 0, "{o:#?}");
    assert_eq!(o.setup.len(), 9);
    assert_eq!(o.probes[0].exit, 0, "{}", o.probes[0].output);
    assert_eq!(
        verdict(&o.probes[0].output, o.probes[0].exit),
        Verdict::Reply { ttl: 64 }
    );
    assert_eq!(o.initial_ip_forward, Some(0));
}

#[test]
fn address_without_netmask_is_unreachable() {
    if !can_run("address_without_netmask_is_unreachable") {
        return;
    }
    let script = VETH.replace("192.168.15.1/24", "192.168.15.1");
    let o = run(&script, &[Probe::ping("red", "192.168.15.2")]);
    assert_eq!(o.failed_lines().count(), 0);
    let p = &o.probes[0];
    assert_eq!(p.exit, 2, "{}", p.output);
    assert_eq!(p.output.trim(), "ping: connect: Network is unreachable");
    assert_eq!(
        verdict(&p.output, p.exit),
        Verdict::ConnectError("connect: Network is unreachable".into())
    );
}

#[test]
fn router_with_forwarding_off_drops_silently() {
    if !can_run("router_with_forwarding_off_drops_silently") {
        return;
    }
    let script = "\
ip netns add a
ip netns add r
ip netns add c
ip -n a link add a-r type veth peer name r-a netns r
ip -n c link add c-r type veth peer name r-c netns r
ip -n a addr add 10.1.0.2/24 dev a-r
ip -n r addr add 10.1.0.1/24 dev r-a
ip -n r addr add 10.2.0.1/24 dev r-c
ip -n c addr add 10.2.0.2/24 dev c-r
ip -n a link set a-r up
ip -n r link set r-a up
ip -n r link set r-c up
ip -n c link set c-r up
ip -n a route add 10.2.0.0/24 via 10.1.0.1
ip -n c route add 10.1.0.0/24 via 10.2.0.1
";
    let probes = [
        Probe::ping("a", "10.2.0.2"),
        // weak host model: R's far address answers even with forwarding off
        Probe::ping("a", "10.2.0.1"),
    ];
    let o = run(script, &probes);
    assert_eq!(o.failed_lines().count(), 0);
    let p = &o.probes[0];
    assert_eq!(p.exit, 1, "{}", p.output);
    assert_eq!(verdict(&p.output, p.exit), Verdict::NoReply);
    assert!(!p.output.contains("From "), "{}", p.output);
    assert_eq!(
        verdict(&o.probes[1].output, o.probes[1].exit),
        Verdict::Reply { ttl: 64 }
    );
}

#[test]
fn failing_lines_are_reported_with_status_and_stderr() {
    if !can_run("failing_lines_are_reported_with_status_and_stderr") {
        return;
    }
    let script = "\
set -e
ip netns add red
# a comment

ip -n red link set veth-nope up
echo out; echo err >&2; exit 3
ip -n red link set lo up
sysctl -w kernel.hostname=evil
ip netns exec red sysctl -w net.ipv4.ip_forward=1
echo 1 > /proc/sys/net/ipv4/nonexistent
";
    let o = run(script, &[Probe::ping("red", "127.0.0.1")]);
    let by_line = |n: usize| o.setup.iter().find(|l| l.line == n).expect("line");
    assert_eq!(o.setup.len(), 8, "comments and blank lines are not run");
    assert_eq!(by_line(2).status, 0);
    let l5 = by_line(5);
    assert_ne!(l5.status, 0);
    assert!(l5.stderr.contains("veth-nope"), "{:?}", l5.stderr);
    let l6 = by_line(6);
    assert_eq!(
        (l6.status, l6.stdout.as_str(), l6.stderr.as_str()),
        (3, "out\n", "err\n")
    );
    assert_eq!(
        by_line(7).status,
        0,
        "later lines still run after a failure and exit"
    );
    assert_ne!(by_line(8).status, 0, "machine-wide sysctls are read-only");
    assert_eq!(by_line(9).status, 0);
    assert_eq!(by_line(9).stdout, "net.ipv4.ip_forward = 1\n");
    assert_eq!(by_line(10).status, 1);
    assert_eq!(
        by_line(10).stderr,
        "bash: /proc/sys/net/ipv4/nonexistent: No such file or directory\n"
    );
    assert_eq!(
        verdict(&o.probes[0].output, o.probes[0].exit),
        Verdict::Reply { ttl: 64 }
    );
}

/// A script's namespaces never show in the machine's `ip netns list`, two cases can use
/// the same names at the same time, and nothing is left behind.
#[test]
fn cases_are_isolated_and_cleaned_up() {
    if !can_run("cases_are_isolated_and_cleaned_up") {
        return;
    }
    let before = lines_of(&machine_netns_list());
    let script = "ip netns add red\nip netns add blue\nsleep 1.5\nip netns list\n";
    let handles: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || run_real(script, &[], &RealOpts::default())))
        .collect();
    // while both run: the machine sees only their wrappers, never red/blue
    let deadline = Instant::now() + Duration::from_millis(1200);
    let mut saw_wrappers = 0;
    while Instant::now() < deadline {
        let now = lines_of(&machine_netns_list());
        assert!(
            !now.iter().any(|n| n == "red" || n == "blue"),
            "script namespaces leaked into the machine: {now:?}"
        );
        saw_wrappers = saw_wrappers.max(now.iter().filter(|n| n.starts_with("hk_")).count());
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut wrappers = Vec::new();
    for h in handles {
        let o = h.join().expect("thread").expect("case runs");
        assert!(o.setup.iter().all(|l| l.status == 0), "{o:#?}");
        assert_eq!(o.setup[3].stdout, "blue\nred\n");
        assert!(o.wrapper.starts_with("hk_"));
        wrappers.push(o.wrapper);
    }
    assert!(
        saw_wrappers >= 2,
        "expected to see both wrappers, saw {saw_wrappers}"
    );
    // other tests of this binary run in parallel: only our own wrappers must be gone
    let after = lines_of(&machine_netns_list());
    assert!(
        !after.iter().any(|n| wrappers.contains(n)),
        "wrapper left behind: {after:?}"
    );
    assert!(
        !after.iter().any(|n| n == "red" || n == "blue"),
        "{before:?} {after:?}"
    );
}

#[test]
fn timeout_is_enforced_and_cleans_up() {
    if !can_run("timeout_is_enforced_and_cleans_up") {
        return;
    }
    let opts = RealOpts {
        case_timeout: Duration::from_secs(2),
        ..RealOpts::default()
    };
    let t = Instant::now();
    let r = run_real(
        "ip netns add red\nsleep 30 &\nsleep 30\necho never\n",
        &[Probe {
            ns: "red".into(),
            cmd: ProbeCmd::ping("127.0.0.1"),
        }],
        &opts,
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    match r {
        Err(hopsim_kernel_check::RealError::Timeout { partial, .. }) => {
            assert_eq!(partial.setup[0].status, 0);
            assert_eq!(partial.setup[2].status, -1);
            assert_eq!(partial.probes[0].exit, -1);
            let after = lines_of(&machine_netns_list());
            assert!(
                !after.contains(&partial.wrapper),
                "wrapper left behind: {after:?}"
            );
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// ARP failure on a connected subnet: with `-W 4` Linux reports it (after ~3 s) as
/// `Destination Host Unreachable` from the sender's own address, but only if the sender's
/// `lo` is up (the locally generated ICMP error is delivered through `lo`); with `lo` down,
/// or with `-W 1`, it is silent.
#[test]
fn ghost_host_on_connected_subnet() {
    if !can_run("ghost_host_on_connected_subnet") {
        return;
    }
    let slow = Probe {
        ns: "red".into(),
        cmd: ProbeCmd::Ping {
            dest: "192.168.15.99".into(),
            count: 1,
            ttl: None,
            wait_s: Some(4),
            size: None,
            pmtudisc: None,
        },
    };
    let with_lo = format!("{VETH}ip -n red link set lo up\n");
    let handles: Vec<_> = [
        (with_lo.clone(), slow.clone()),
        (VETH.to_string(), slow),
        (with_lo, Probe::ping("red", "192.168.15.99")),
    ]
    .into_iter()
    .map(|(s, p)| {
        std::thread::spawn(move || {
            let t = Instant::now();
            let o = run_real(&s, &[p], &RealOpts::default()).expect("case runs");
            (o, t.elapsed())
        })
    })
    .collect();
    let res: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    let v: Vec<Verdict> = res
        .iter()
        .map(|(o, _)| verdict(&o.probes[0].output, o.probes[0].exit))
        .collect();
    eprintln!(
        "ghost cases took {:?}",
        res.iter().map(|r| r.1).collect::<Vec<_>>()
    );
    assert_eq!(
        v[0],
        Verdict::HostUnreachable {
            from: "192.168.15.1".into()
        },
        "{}",
        res[0].0.probes[0].output
    );
    assert_eq!(v[1], Verdict::NoReply, "lo down: the local error is lost");
    assert_eq!(
        v[2],
        Verdict::NoReply,
        "-W 1: ping gives up before ARP does"
    );
    assert!(res.iter().all(|(o, _)| o.probes[0].exit == 1));
}

/// "Seen from": the namespace that accepted each request, and the source it arrived with.
/// A MASQUERADE on the router makes b see the router's address (and the client's port);
/// an INPUT DROP and a closed port are not "accepted"; the router's own address is
/// accepted by the router, from the client itself; a bridge's address is seen on the
/// bridge, not on its port.
#[test]
fn seen_from_is_captured_where_the_request_is_accepted() {
    if !can_run("seen_from_is_captured_where_the_request_is_accepted") {
        return;
    }
    if let Err(e) = preflight_capture() {
        let banner = format!(
            "\n{bar}\nSKIPPED: seen_from_is_captured_where_the_request_is_accepted: {e}\n{bar}\n",
            bar = "=".repeat(72)
        );
        let _ = std::io::stderr().write_all(banner.as_bytes());
        assert!(
            std::env::var("HOPSIM_KERNEL_CHECK").as_deref() != Ok("require"),
            "{banner}"
        );
        return;
    }
    let script = "\
ip netns add a
ip netns add r
ip netns add b
ip -n a link add a-r type veth peer name r-a netns r
ip -n b link add b-r type veth peer name r-b netns r
ip -n a addr add 10.1.0.2/24 dev a-r
ip -n r addr add 10.1.0.1/24 dev r-a
ip -n r addr add 10.2.0.1/24 dev r-b
ip -n b addr add 10.2.0.2/24 dev b-r
ip -n a link set a-r up
ip -n r link set r-a up
ip -n r link set r-b up
ip -n b link set b-r up
ip -n a route add default via 10.1.0.1
ip netns exec r sysctl -w net.ipv4.ip_forward=1
ip netns exec r iptables -t nat -A POSTROUTING -o r-b -j MASQUERADE
ip netns exec b iptables -A INPUT -p tcp --dport 22 -j DROP
ip netns exec b nc -lk -p 80 &
ip link add br0 type bridge
ip link add v-host type veth peer name v-br
ip link set v-host netns a
ip link set v-br master br0
ip addr add 10.3.0.1/24 dev br0
ip -n a addr add 10.3.0.2/24 dev v-host
ip link set br0 up
ip link set v-br up
ip -n a link set v-host up
sleep 0.2
";
    let tcp = |port| Probe {
        ns: "a".into(),
        cmd: ProbeCmd::Connect {
            dest: "10.2.0.2".into(),
            port,
            udp: false,
            wait_s: 1,
        },
    };
    let probes = [
        Probe::ping("a", "10.2.0.2"),
        tcp(80),
        tcp(22),
        tcp(81),
        Probe::ping("a", "10.1.0.1"),
        Probe::ping("a", "10.3.0.1"),
    ];
    let o = run(script, &probes);
    assert_eq!(o.failed_lines().count(), 0);
    let seen = |i: usize| match &o.probes[i].capture {
        Capture::Reached(s) => s.clone(),
        other => panic!("probe {i}: {other:?}\n{}", o.probes[i].output),
    };
    let s = seen(0);
    assert_eq!(
        (s.ns.as_str(), s.dev.as_str(), s.src.to_string()),
        ("b", "b-r", "10.2.0.1".to_string())
    );
    let s = seen(1);
    assert_eq!(s.src.to_string(), "10.2.0.1");
    assert!(s.sport.is_some() && s.sport == s.client_sport, "{s}");
    assert_eq!(o.probes[2].capture, Capture::NotReached, "INPUT DROP");
    assert_eq!(o.probes[3].capture, Capture::NotReached, "closed port");
    let s = seen(4);
    assert_eq!(
        (s.ns.as_str(), s.src.to_string()),
        ("r", "10.1.0.2".to_string())
    );
    let s = seen(5);
    assert_eq!(
        (s.ns.as_str(), s.dev.as_str(), s.src.to_string()),
        ("host", "br0", "10.3.0.2".to_string())
    );
}
