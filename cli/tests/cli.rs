//! The `hopsim` binary: the README's commands, exit codes, error output.

use std::process::Command;

fn hopsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hopsim"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn readme_trace_command() {
    let (code, out, _) = hopsim(&[
        "trace",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "192.168.15.2",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("hop 1 red [program, t=0us]"), "{out}");
    assert!(
        out.contains("64 bytes from 192.168.15.2: icmp_seq=1 ttl=64"),
        "{out}"
    );
}

#[test]
fn ping_exit_codes_follow_iputils() {
    let (code, out, _) = hopsim(&[
        "ping",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "192.168.15.2",
    ]);
    assert_eq!(
        (code, out.lines().nth(1)),
        (0, Some("64 bytes from 192.168.15.2: icmp_seq=1 ttl=64"))
    );
    let (code, out, err) = hopsim(&[
        "ping",
        "scenarios/netns-no-netmask.yaml",
        "--from",
        "red",
        "192.168.15.2",
    ]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(err, "ping: connect: Network is unreachable\n");
    let (code, out, _) = hopsim(&[
        "ping",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "-W",
        "1",
        "192.168.15.1",
    ]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn from_accepts_an_address_and_rejects_unknown_names() {
    let (code, out, _) = hopsim(&[
        "ping",
        "scenarios/netns-veth.yaml",
        "--from",
        "192.168.15.1",
        "192.168.15.2",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = hopsim(&[
        "ping",
        "scenarios/netns-veth.yaml",
        "--from",
        "green",
        "192.168.15.2",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "hopsim: no namespace \"green\" (known: host, red, blue)\n"
    );
}

#[test]
fn show_after_ping_shows_what_arp_learned() {
    let (code, out, _) = hopsim(&[
        "show",
        "scenarios/netns-veth.yaml",
        "red",
        "neigh",
        "--after-ping",
        "red",
        "192.168.15.2",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("192.168.15.2 dev veth-red lladdr ") && out.ends_with(" REACHABLE \n"),
        "{out}"
    );
    let (_, out, _) = hopsim(&[
        "show",
        "scenarios/netns-veth.yaml",
        "host",
        "neigh",
        "--after-ping",
        "red",
        "192.168.15.2",
    ]);
    assert_eq!(out, "", "the host knows nothing");
    let (_, out, _) = hopsim(&["show", "scenarios/netns-veth.yaml", "red", "route"]);
    assert_eq!(
        out,
        "192.168.15.0/24 dev veth-red proto kernel scope link src 192.168.15.1 \n"
    );
}

#[test]
fn check_passes_on_the_scenarios_and_fails_readably() {
    let (code, out, _) = hopsim(&["check", "scenarios/"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("0 failed"), "{out}");
    let dir = std::env::temp_dir().join(format!("hopsim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("wrong.yaml");
    std::fs::write(
        &f,
        "name: wrong\nsource: test.txt\nnamespaces:\n  red:\n    interfaces:\n      veth-red: { veth: blue/veth-blue, addr: 192.168.15.1/24 }\n  blue:\n    interfaces:\n      veth-blue: { addr: 192.168.15.2/24 }\nexpect:\n  - ping: red -> 192.168.15.2\n    ttl: 63\n",
    )
    .expect("write");
    let (code, out, _) = hopsim(&["check", f.to_str().expect("utf8")]);
    assert_eq!(code, 1);
    assert!(
        out.contains("wrong.yaml:11: ping red -> 192.168.15.2"),
        "{out}"
    );
    assert!(out.contains("ttl: expected 63, got 64"), "{out}");
    assert!(out.contains("0 passed, 1 failed"), "{out}");
}

#[test]
fn scripts_run_like_a_shell() {
    let (_, _, err) = hopsim(&["run", "scenarios/netns-doc-typos.sh"]);
    assert!(
        err.contains("netns-doc-typos.sh:") && err.contains("Cannot find device \"veth-red\""),
        "{err}"
    );
    let (code, out, _) = hopsim(&["import", "scenarios/netns-veth.sh"]);
    assert_eq!(code, 0);
    assert!(out.contains("veth-red: {veth: blue/veth-blue"), "{out}");
}

#[test]
fn import_round_trips() {
    // The YAML that `import` prints builds a world where the same pings behave the same.
    let (_, yaml, _) = hopsim(&["import", "scenarios/vnet-bridge.sh"]);
    let dir = std::env::temp_dir().join(format!("hopsim-imp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("vnet.yaml");
    std::fs::write(&f, &yaml).expect("write");
    let (code, out, err) = hopsim(&["check", f.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{yaml}\n{out}\n{err}");
}

#[test]
fn bad_input_exits_2_with_location() {
    let dir = std::env::temp_dir().join(format!("hopsim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("bad.yaml");
    std::fs::write(
        &f,
        "name: bad\nnamespaces:\n  red:\n    interfaces:\n      eth0: { addr: 10.0.0.1/33 }\n",
    )
    .expect("write");
    let (code, _, err) = hopsim(&[
        "ping",
        f.to_str().expect("utf8"),
        "--from",
        "red",
        "10.0.0.2",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.yaml:5:21: \"10.0.0.1/33\" is not an IPv4 address"),
        "{err}"
    );
}

#[test]
fn help_has_examples() {
    let (_, out, _) = hopsim(&["trace", "--help"]);
    assert!(out.contains("Examples:"), "{out}");
    let (_, out, _) = hopsim(&["--help"]);
    assert!(out.contains("hopsim check scenarios/"), "{out}");
}

#[test]
fn trace_json_is_stable_and_tagged() {
    let (code, out, _) = hopsim(&[
        "trace",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "192.168.15.2",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("\"type\": \"transmit\""), "{out}");
    let (_, again, _) = hopsim(&[
        "trace",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "192.168.15.2",
        "--format",
        "json",
    ]);
    assert_eq!(out, again);
}

#[test]
fn graph_is_dot() {
    let (code, out, _) = hopsim(&["graph", "scenarios/vnet-bridge.yaml"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("graph hopsim {") && out.contains("veth-red-br -- veth-red"),
        "{out}"
    );
}

#[test]
fn exec_runs_one_command_like_ip_netns_exec() {
    let (code, out, _) = hopsim(&[
        "exec",
        "scenarios/netns-veth.yaml",
        "red",
        "--",
        "ip",
        "route",
        "get",
        "192.168.15.2",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "192.168.15.2 dev veth-red src 192.168.15.1 uid 0 \n    cache \n"
    );
    let (code, _, err) = hopsim(&[
        "exec",
        "scenarios/netns-no-netmask.yaml",
        "red",
        "--",
        "ip",
        "route",
        "get",
        "192.168.15.2",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (2, "RTNETLINK answers: Network is unreachable\n")
    );
}

#[test]
fn walk_narrates_in_plain_text_when_piped() {
    let (code, out, _) = hopsim(&[
        "walk",
        "scenarios/vnet-external.yaml",
        "--from",
        "blue",
        "192.168.1.3",
    ]);
    assert_eq!(code, 2, "ping's exit code: {out}");
    assert!(
        out.contains("blue has no route to 192.168.1.3, so the kernel refuses to send: Network is unreachable."),
        "{out}"
    );
    assert!(
        !out.contains('\x1b'),
        "no ANSI codes when not a terminal: {out}"
    );
    let (code, out, _) = hopsim(&[
        "walk",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "--step",
        "192.168.15.2",
    ]);
    assert_eq!(code, 0, "--step goes on at the end of the input: {out}");
    assert!(out.contains("64 bytes from 192.168.15.2"), "{out}");
}

#[test]
fn graph_formats_and_svg_without_graphviz() {
    let (code, out, _) = hopsim(&[
        "graph",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "192.168.15.2",
        "--format",
        "sequence",
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("sequenceDiagram\n"), "{out}");
    let (code, _, err) = hopsim(&["graph", "scenarios/netns-veth.yaml", "--format", "sequence"]);
    assert_eq!(code, 2);
    assert!(err.contains("give --from NS DEST"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_hopsim"))
        .args(["graph", "scenarios/netns-veth.yaml", "--format", "svg"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("PATH", "/nonexistent")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install graphviz"), "{err}");
}

#[test]
fn report_writes_one_html_file() {
    let file = std::env::temp_dir().join(format!("hopsim-report-{}.html", std::process::id()));
    let (code, _, err) = hopsim(&[
        "report",
        "scenarios/netns-veth.yaml",
        "--from",
        "red",
        "192.168.15.2",
        "-o",
        file.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&file).expect("written");
    let _ = std::fs::remove_file(&file);
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("id=\"data\""));
}

#[test]
fn docs_check_finds_the_pages_up_to_date() {
    let (code, out, _) = hopsim(&["docs", "walkthroughs", "--check"]);
    assert_eq!(code, 0, "{out}");
}
