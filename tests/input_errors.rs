//! Bad input never panics and never half-loads: each error names the file, line and
//! column (YAML) or line (script), says what is wrong in the real tool's words, and says
//! what to do. Each case here pins the exact message.

use hopsim_core::format::{load_file, LoadOptions};
use std::io::Write;

fn load_yaml(text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("hopsim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let n = text.len()
        ^ (text
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize)));
    let p = dir.join(format!("t{n}.yaml"));
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write");
    let r = load_file(&p, LoadOptions::default());
    let _ = std::fs::remove_file(&p);
    match r {
        Ok(_) => "loaded".into(),
        Err(e) => e.to_string().replace(&p.display().to_string(), "FILE"),
    }
}

#[test]
fn malformed_yaml_names_line_and_column() {
    let e = load_yaml("name: x\nnamespaces:\n  red:\n    interfaces: [\n");
    assert!(e.starts_with("FILE:"), "{e}");
    assert!(e.contains("hint:"), "{e}");
}

#[test]
fn unknown_key() {
    let e = load_yaml(
        "name: x\nnamespaces:\n  red:\n    interfaces:\n      eth0: { adr: 10.0.0.1/24 }\n",
    );
    assert!(e.starts_with("FILE:5:"), "{e}");
    assert!(e.contains("adr"), "{e}");
    assert!(e.contains("docs/format.md"), "{e}");
}

#[test]
fn bad_prefix() {
    let e = load_yaml(
        "name: x\nnamespaces:\n  red:\n    interfaces:\n      eth0: { addr: 10.0.0.300/24 }\n",
    );
    assert_eq!(
        e,
        "FILE:5:21: \"10.0.0.300/24\" is not an IPv4 address with an optional /LEN (and `brd +`)"
    );
}

#[test]
fn bad_mac() {
    let e = load_yaml("name: x\nnamespaces:\n  red:\n    interfaces:\n      eth0: { mac: \"02:42:zz:00:00:01\" }\n");
    assert!(
        e.starts_with("FILE:5:20: invalid MAC address \"02:42:zz:00:00:01\""),
        "{e}"
    );
}

#[test]
fn veth_peer_in_missing_namespace() {
    let e = load_yaml(
        "name: x\nnamespaces:\n  red:\n    interfaces:\n      veth-red: { veth: blue/veth-blue }\n",
    );
    assert!(
        e.starts_with(
            "FILE:5:25: veth peer \"blue/veth-blue\" is not NAMESPACE/DEVICE of a known namespace"
        ),
        "{e}"
    );
    assert!(e.contains("known namespaces: host, red"), "{e}");
}

#[test]
fn duplicate_device_name() {
    let e = load_yaml(
        "name: x\nnamespaces:\n  red:\n    interfaces:\n      v1: { veth: blue/v2 }\n  blue:\n    interfaces:\n      v2: {}\n      v3: { veth: red/v1 }\n",
    );
    assert!(e.contains("FILE:9:"), "{e}");
}

#[test]
fn gateway_off_link_gets_iproutes_message_at_the_route() {
    let e = load_yaml(
        "name: x\nnamespaces:\n  red:\n    interfaces:\n      eth0: { addr: 10.0.0.1/24 }\n    routes:\n      - 10.9.0.0/16 via 10.5.0.1\n",
    );
    assert_eq!(
        e,
        "FILE:7:9: Error: Nexthop has invalid gateway.\n  hint: the gateway must be on a subnet of one of this namespace's interfaces (or add `onlink`)"
    );
}

#[test]
fn route_on_missing_device() {
    let e = load_yaml("name: x\nnamespaces:\n  red:\n    routes:\n      - 10.9.0.0/16 dev eth9\n");
    assert!(
        e.starts_with("FILE:5:9: Cannot find device \"eth9\""),
        "{e}"
    );
}

#[test]
fn master_that_is_not_there() {
    let e =
        load_yaml("name: x\nnamespaces:\n  red:\n    interfaces:\n      eth0: { master: br0 }\n");
    assert!(
        e.starts_with("FILE:5:23: master: no bridge \"br0\" in this namespace"),
        "{e}"
    );
}

#[test]
fn unknown_sysctl_says_what_is_modelled() {
    let e =
        load_yaml("name: x\nnamespaces:\n  red:\n    sysctl:\n      net.ipv4.tcp_syncookies: 1\n");
    assert!(
        e.starts_with("FILE:5:32: sysctl: cannot stat /proc/sys/net/ipv4/tcp_syncookies"),
        "{e}"
    );
    assert!(e.contains("hopsim models net.ipv4.ip_forward"), "{e}");
}

#[test]
fn bad_expectations() {
    let e = load_yaml("name: x\nnamespaces:\n  red: {}\nexpect:\n  - ping: red to 10.0.0.1\n");
    assert!(
        e.starts_with("FILE:5:5: ping: \"red to 10.0.0.1\" is not FROM -> DEST"),
        "{e}"
    );
    let e = load_yaml(
        "name: x\nnamespaces:\n  red: {}\nexpect:\n  - ping: red -> 10.0.0.1\n    drop: NOPE\n",
    );
    assert!(e.contains("drop: unknown reason \"NOPE\""), "{e}");
    let e = load_yaml(
        "name: x\nnamespaces:\n  red: {}\nexpect:\n  - ping: red -> 10.0.0.1\n    options: -x\n",
    );
    assert!(e.contains("unknown ping option -x"), "{e}");
    let e = load_yaml(
        "name: x\nnamespaces:\n  red: {}\nexpect:\n  - ping: red -> 10.0.0.1\n    options: -M maybe\n",
    );
    assert!(
        e.contains("options: ping: invalid -M argument: maybe"),
        "{e}"
    );
    let e = load_yaml(
        "name: x\nnamespaces:\n  red: {}\nexpect:\n  - ping: red -> 10.0.0.1\n    options: -s 70000\n",
    );
    assert!(e.contains("-s takes a data size from 0 to 65507"), "{e}");
}

#[test]
fn expectation_options_take_size_and_pmtu_discovery() {
    use hopsim_core::engine::ping::PmtuDisc;
    use hopsim_core::format::parse_ping_options;
    let o = parse_ping_options("-c 2 -M do -s 1472").expect("parses");
    assert_eq!(
        (o.count, o.size, o.pmtudisc),
        (2, 1472, PmtuDisc::Do),
        "-s and -M as ping takes them"
    );
    let o = parse_ping_options("-M dont").expect("parses");
    assert_eq!((o.size, o.pmtudisc), (56, PmtuDisc::Dont));
}

#[test]
fn empty_and_garbage_files_do_not_panic() {
    for text in [
        "",
        "---",
        "[]",
        "name: x",
        ":",
        "\u{0}\u{1}",
        "name: [1, 2]",
        "name: x\nmachines: 3\n",
    ] {
        let e = load_yaml(text);
        assert_ne!(e, "loaded", "{text:?} should not load");
        assert!(e.starts_with("FILE"), "{text:?}: {e}");
    }
}

#[test]
fn scripts_report_line_numbers_and_the_tools_words() {
    use hopsim_core::format::script::run_script;
    let run = run_script(
        "s.sh",
        "ip netns add red\nip netns add red\nip -n red addr add 10.0.0.1/24 dev nope\nip -n blue link\nip route add 10.0.0.0/8 via 1.2.3.4.5\nip link add x type nosuch\n",
        LoadOptions::default(),
    )
    .expect("non-strict run");
    assert_eq!(
        run.failures(),
        vec![
            "s.sh:2: Cannot create namespace file \"/run/netns/red\": File exists",
            "s.sh:3: Cannot find device \"nope\"",
            "s.sh:4: Cannot open network namespace \"blue\": No such file or directory",
            "s.sh:5: Error: inet address is expected rather than \"1.2.3.4.5\".",
            "s.sh:6: Error: Unknown device type.",
        ]
    );
    let err = run_script(
        "s.sh",
        "ip netns add red\nip netns add red\n",
        LoadOptions { strict: true },
    )
    .expect_err("strict");
    assert_eq!(err.line, 2);
}

/// A file with a top-level `iptables-save-texts:` holding one text, `nat`, and two
/// namespaces whose keys are `red` and `blue` (lines indented for a namespace).
fn shared_rules(text: &str, red: &str, blue: &str) -> String {
    format!(
        "name: x\niptables-save-texts:\n  nat: |\n{}namespaces:\n  red:\n{red}  blue:\n{blue}",
        text.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    )
}

const NAT: &str = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE\nCOMMIT\n";

#[test]
fn shared_iptables_save_texts_load_once_and_name_their_errors() {
    let from = "    iptables-save-from: [nat]\n";
    let t = shared_rules(NAT, from, from);
    let dir = std::env::temp_dir().join(format!("hopsim-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join("shared.yaml");
    std::fs::write(&p, &t).expect("write");
    let topo = load_file(&p, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let w = &topo.world;
    let (red, blue) = (w.resolve_ns("red").unwrap(), w.resolve_ns("blue").unwrap());
    let nat = hopsim_core::netfilter::TableName::Nat;
    assert!(std::sync::Arc::ptr_eq(
        &w.netns[red].netfilter.shared_table(nat),
        &w.netns[blue].netfilter.shared_table(nat)
    ));
    assert!(
        hopsim_core::netfilter::save::render_save(&w.netns[blue].netfilter, None)
            .contains("-A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE\n")
    );

    let cases = [
        (
            shared_rules(NAT, "    iptables-save-from: [nta]\n", from),
            "FILE:13:26: iptables-save-from: no text \"nta\" under iptables-save-texts:\n  hint: name one of the top-level iptables-save-texts: nat",
        ),
        (
            shared_rules(
                NAT,
                &format!(
                    "    iptables-save: |\n{}{from}",
                    NAT.lines().map(|l| format!("      {l}\n")).collect::<String>()
                ),
                from,
            ),
            "FILE:21:26: iptables-save-from: table nat of \"nat\" is already given by iptables-save:\n  hint: each table of a namespace comes from one text: take it out of one of them",
        ),
        (
            shared_rules(NAT, "    iptables-save-from: [nat, nat]\n", from),
            "FILE:13:31: iptables-save-from: table nat of \"nat\" is already given by \"nat\"\n  hint: each table of a namespace comes from one text: take it out of one of them",
        ),
        (
            shared_rules(NAT, "    listen: [tcp 80]\n", "    listen: [tcp 80]\n"),
            "FILE:4:5: iptables-save-texts: no namespace takes \"nat\"\n  hint: name it in a machine's or namespace's `iptables-save-from: [nat]`, or remove it",
        ),
        (
            shared_rules(&NAT.replace("-j MASQUERADE", "-j MASQUERAD"), from, from),
            "FILE:9: iptables-save-texts: nat: iptables-restore v1.8.9 (nf_tables): Chain 'MASQUERAD' does not exist\n  hint: paste the output of `iptables-save` as it is",
        ),
        (
            "name: x\nscript: setup.sh\niptables-save-texts:\n  nat: |\n    *nat\n    COMMIT\n"
                .to_string(),
            "FILE:2:9: script: and machines/namespaces/switches/iptables-save-texts cannot be combined\n  hint: a topology is either built by a script or described in YAML",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .map(|(text, want)| (load_yaml(text), want))
        .filter(|(got, want)| got != *want)
        .map(|(got, want)| format!("got  {got}\nwant {want}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
