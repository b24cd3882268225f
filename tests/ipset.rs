//! IP sets in the packet path: Calico's static rules (SYSTEM_RULES.md §3.2, saved form),
//! loaded from YAML with the sets they name, decide which IPIP packets a node accepts and
//! which pod traffic leaves masqueraded.

use hopsim_core::engine::ping::{ping, PingOptions, PingRun};
use hopsim_core::format::shell::{CmdResult, Shell};
use hopsim_core::format::yaml::load_yaml;
use hopsim_core::format::LoadOptions;
use hopsim_core::model::World;
use hopsim_core::trace::DropReason;
use std::path::Path;

/// Felix's rules of one node: the INPUT/OUTPUT jumps, cali-INPUT and cali-OUTPUT as
/// SYSTEM_RULES §3.2 gives them (IPIP mode), and nat cali-POSTROUTING / cali-nat-outgoing.
const CALICO_RULES: &str = r#"*filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :cali-INPUT - [0:0]
      :cali-OUTPUT - [0:0]
      :cali-from-host-endpoint - [0:0]
      :cali-from-wl-dispatch - [0:0]
      :cali-to-host-endpoint - [0:0]
      :cali-wl-to-host - [0:0]
      -A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT
      -A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT
      -A cali-INPUT -p ipencap -m comment --comment "cali:PajejrV4aFdkZojI" -m comment --comment "Allow IPIP packets from Calico hosts" -m set --match-set cali40all-hosts-net src -m addrtype --dst-type LOCAL -j ACCEPT
      -A cali-INPUT -p ipencap -m comment --comment "cali:_wjq-Yrma8Ly1Svo" -m comment --comment "Drop IPIP packets from non-Calico hosts" -j DROP
      -A cali-INPUT -i cali+ -m comment --comment "cali:8TZGxLWh_Eiz66wc" -g cali-wl-to-host
      -A cali-INPUT -m comment --comment "cali:6McIeIDvPdL6PE1T" -m mark --mark 0x10000/0x10000 -j ACCEPT
      -A cali-INPUT -m comment --comment "cali:YGPbrUms7NId8xVa" -j MARK --set-xmark 0x0/0xf0000
      -A cali-INPUT -m comment --comment "cali:2gmY7Bg2i0i84Wk_" -j cali-from-host-endpoint
      -A cali-INPUT -m comment --comment "cali:q-Vz2ZT9iGE331LL" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT
      -A cali-OUTPUT -m comment --comment "cali:Mq1_rAdXXH3YkrzW" -m mark --mark 0x10000/0x10000 -j ACCEPT
      -A cali-OUTPUT -o cali+ -m comment --comment "cali:69FkRTJDvD5Vu6Vl" -j RETURN
      -A cali-OUTPUT -p ipencap -m comment --comment "cali:AnEsmO6bDZbQntWW" -m comment --comment "Allow IPIP packets to other Calico hosts" -m set --match-set cali40all-hosts-net dst -m addrtype --src-type LOCAL -j ACCEPT
      -A cali-OUTPUT -m comment --comment "cali:9e9Uf3GU5tX--Lxy" -j MARK --set-xmark 0x0/0xf0000
      -A cali-OUTPUT -m comment --comment "cali:0f3LDz_VKuHFaA2K" -m conntrack ! --ctstate DNAT -j cali-to-host-endpoint
      -A cali-OUTPUT -m comment --comment "cali:OgU2f8BVEAZ_fwkq" -m comment --comment "Host endpoint policy accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT
      -A cali-wl-to-host -m comment --comment "cali:Ee9Sbo10IpVujdIY" -j cali-from-wl-dispatch
      -A cali-wl-to-host -m comment --comment "cali:nSZbcOoG1xPONxb8" -m comment --comment "Configured DefaultEndpointToHostAction" -j ACCEPT
      COMMIT
      *nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      :cali-POSTROUTING - [0:0]
      :cali-nat-outgoing - [0:0]
      -A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING
      -A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing
      -A cali-POSTROUTING -o tunl0 -m comment --comment "cali:SXWvdsbh4Mw7wOln" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully
      -A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully
      COMMIT"#;

const SETS: &str = r#"ipsets:
      cali40all-hosts-net: { type: "hash:net", members: [192.168.100.101, 192.168.100.102] }
      cali40masq-ipam-pools: { type: "hash:net", members: [172.16.0.0/16] }
      cali40all-ipam-pools: { type: "hash:net", members: [172.16.0.0/16] }"#;

/// A Calico node: eth1 on the LAN, tunl0, one pod, a route to the other node's block.
fn node(
    name: &str,
    addr: &str,
    tunl: &str,
    pod: &str,
    pod_ip: &str,
    cali: &str,
    other: &str,
) -> String {
    let (block, peer) = other.split_once(' ').expect("block peer");
    format!(
        r#"  {name}:
    interfaces:
      eth1: {{ addr: {addr}/24, cable: lan }}
      tunl0: {{ type: ipip, addr: {tunl}/32, mtu: 1480 }}
      {cali}: {{ veth: {pod}/eth0, mac: "ee:ee:ee:ee:ee:ee" }}
    routes:
      - default via 192.168.100.1
      - {pod_ip} dev {cali} scope link
      - {block} via {peer} dev tunl0 onlink
    sysctl:
      net.ipv4.ip_forward: 1
      net.ipv4.conf.{cali}.proxy_arp: 1
    {SETS}
    iptables-save: |
      {CALICO_RULES}
    namespaces:
      {pod}:
        interfaces:
          eth0: {{ addr: {pod_ip}/32 }}
        routes:
          - 169.254.1.1 dev eth0 scope link
          - default via 169.254.1.1 dev eth0
"#
    )
}

fn topology() -> String {
    format!(
        "name: calico-ipip-sets\nswitches:\n  lan: {{}}\nmachines:\n{}{}  gw:\n    interfaces:\n      eth1: {{ addr: 192.168.100.1/24, cable: lan }}\n      ext0: {{ type: dummy, addr: 8.8.8.8/32 }}\n",
        node("w1", "192.168.100.101", "172.16.228.64", "pod1", "172.16.228.84", "cali1", "172.16.46.0/26 192.168.100.102"),
        node("w2", "192.168.100.102", "172.16.46.0", "pod2", "172.16.46.12", "cali2", "172.16.228.64/26 192.168.100.101"),
    )
}

fn load(text: &str) -> World {
    load_yaml(Path::new("calico.yaml"), text, LoadOptions { strict: true })
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .world
}

fn sh(w: &mut World, ns: &str, cmd: &str) -> CmdResult {
    let ns = w.resolve_ns(ns).expect("namespace");
    let host = w.netns[ns].host;
    Shell { world: w, host }.run_command(ns, cmd)
}

fn ping1(w: &World, from: &str, dst: &str) -> PingRun {
    let ns = w.resolve_ns(from).expect("namespace");
    let o = PingOptions {
        count: 1,
        ..PingOptions::default()
    };
    ping(w.clone(), ns, dst.parse().expect("addr"), &o)
}

#[test]
fn ipip_between_calico_hosts_is_accepted_by_the_set() {
    let w = load(&topology());
    let r = ping1(&w, "pod1", "172.16.46.12");
    assert_eq!(r.exit, 0, "{}", r.lines.join("\n"));
    // Pod to pod stays unmasqueraded (both ends in cali40all-ipam-pools).
    assert_eq!(
        r.seen_from.map(|a| a.to_string()),
        Some("172.16.228.84".into())
    );
    // w2's cali-INPUT accepted the encapsulated request with its first rule, and the set
    // is referenced by the two filter rules.
    let mut after = r.world;
    let out = sh(&mut after, "w2", "iptables -L cali-INPUT 1 -v -n -x");
    assert!(
        out.stdout.starts_with("       1      104 ACCEPT"),
        "{out:?}"
    );
    let list = sh(&mut after, "w2", "ipset list -t cali40all-hosts-net");
    assert!(
        list.stdout
            .contains("References: 2\nNumber of entries: 2\n"),
        "{list:?}"
    );
}

#[test]
fn ipip_from_a_host_outside_the_set_is_dropped() {
    let mut w = load(&topology());
    let del = sh(
        &mut w,
        "w2",
        "ipset del cali40all-hosts-net 192.168.100.101",
    );
    assert_eq!(del.status, 0, "{del:?}");
    let r = ping1(&w, "pod1", "172.16.46.12");
    assert_eq!(r.exit, 1, "{}", r.lines.join("\n"));
    let drops: Vec<DropReason> = r.trace.drops().map(|(_, d, _)| d).collect();
    assert!(drops.contains(&DropReason::NetfilterDrop), "{drops:?}");
    let mut after = r.world;
    let out = sh(&mut after, "w2", "iptables -L cali-INPUT 2 -v -n -x");
    assert!(out.stdout.starts_with("       1      104 DROP"), "{out:?}");
    // w1 still sends it: its own set names w2.
    let out = sh(&mut after, "w1", "iptables -L cali-OUTPUT 3 -v -n -x");
    assert!(
        out.stdout.starts_with("       1      104 ACCEPT"),
        "{out:?}"
    );
}

#[test]
fn nat_outgoing_masquerades_pool_traffic_leaving_the_pools() {
    let mut w = load(&topology());
    let r = ping1(&w, "pod1", "8.8.8.8");
    assert_eq!(r.exit, 0, "{}", r.lines.join("\n"));
    assert_eq!(
        r.seen_from.map(|a| a.to_string()),
        Some("192.168.100.101".into())
    );
    // Without the pool in cali40masq-ipam-pools the pod's address goes out as it is and
    // the gateway, with no route to 172.16.0.0/16, cannot answer.
    let f = sh(&mut w, "w1", "ipset flush cali40masq-ipam-pools");
    assert_eq!(f.status, 0);
    let r = ping1(&w, "pod1", "8.8.8.8");
    assert_eq!(r.exit, 1, "{}", r.lines.join("\n"));
    assert_eq!(
        r.seen_from.map(|a| a.to_string()),
        Some("172.16.228.84".into())
    );
}

#[test]
fn a_set_in_use_cannot_be_destroyed() {
    let mut w = load(&topology());
    let d = sh(&mut w, "w1", "ipset destroy cali40all-hosts-net");
    assert_eq!(
        (d.status, d.stderr.as_str()),
        (
            1,
            "ipset v7.17: Set cannot be destroyed: it is in use by a kernel component\n"
        )
    );
    let d = sh(&mut w, "w1", "ipset destroy");
    assert_eq!(d.status, 1);
    // Once felix's rules are gone, it can.
    for c in [
        "iptables -F",
        "iptables -t nat -F",
        "ipset destroy cali40all-hosts-net",
    ] {
        let r = sh(&mut w, "w1", c);
        assert_eq!(r.status, 0, "{c}: {r:?}");
    }
    let n = sh(&mut w, "w1", "ipset list -n");
    assert_eq!(n.stdout, "cali40masq-ipam-pools\ncali40all-ipam-pools\n");
}

#[test]
fn rules_naming_undeclared_sets_do_not_load() {
    let text = topology().replacen(SETS, "", 1);
    let e = load_yaml(
        Path::new("calico.yaml"),
        &text,
        LoadOptions { strict: true },
    )
    .expect_err("w1 has no sets");
    assert_eq!(
        e.message,
        "iptables-save: iptables-restore v1.8.9 (nf_tables): Set cali40all-hosts-net doesn't exist."
    );
    assert!(
        e.hint.as_deref().is_some_and(|h| h.contains("ipsets:")),
        "{e:?}"
    );
    // Its line is the rule's (the 12th line of the block).
    let rule_line = text
        .lines()
        .position(|l| l.contains("cali:PajejrV4aFdkZojI"))
        .expect("rule")
        + 1;
    assert_eq!(e.line, rule_line);

    let bad = topology().replacen("members: [172.16.0.0/16]", "members: [172.16.0.0/33]", 1);
    let e = load_yaml(Path::new("calico.yaml"), &bad, LoadOptions { strict: true })
        .expect_err("bad member");
    assert_eq!(
        e.message,
        "ipset v7.17: Syntax error: '33' is out of range 0-32"
    );
    let bad = topology().replacen("type: \"hash:net\"", "type: \"hash:ip,port\"", 1);
    let e = load_yaml(Path::new("calico.yaml"), &bad, LoadOptions { strict: true })
        .expect_err("unmodelled type");
    assert_eq!(
        e.message,
        "hopsim: ipset type hash:ip,port (hash:ip and hash:net are) is not modelled"
    );
}
