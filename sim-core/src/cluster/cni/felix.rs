//! felix's FORWARD chains (iptables dataplane, no policies, Calico's default profiles), as
//! `felix/rules/{static,dispatch,endpoints}.go` render them and SYSTEM_RULES.md §3.2-3.3
//! quotes them:
//!
//! - the jump `-j cali-FORWARD` inserted at the top of FORWARD, and the two rules felix
//!   appends at its end ("Policy explicitly accepted packet." and the accept mark);
//! - `cali-FORWARD`: clear the mark bits, the host-endpoint chains, the workload dispatch
//!   chains for `cali+` in and out, `cali-cidr-block`;
//! - `cali-from-wl-dispatch` / `cali-to-wl-dispatch`: one `--goto` per local pod's
//!   interface, sorted, with felix's prefix tree (a child chain `...-dispatch-<char>` for
//!   names sharing the next character), ending in "Unknown interface" DROP;
//! - per pod `cali-fw-<iface>` / `cali-tw-<iface>`: conntrack accept/drop, the mark clear,
//!   the VXLAN/IPIP drops (from-workload only), the namespace and service-account
//!   profiles, "Drop if no profiles matched";
//! - per Kubernetes namespace with a local pod, the profiles `cali-pri-kns.NS` and
//!   `cali-pro-kns.NS` (accept) and the empty `cali-pr[io]-ksa.NS.default` (hopsim does
//!   not model service accounts: every pod runs as `default`).
//!
//! Every rule carries felix's rule hash, computed as felix computes it (§3.1): SHA-224
//! chained through the chain's previous rules over felix's own rendering of the rule
//! (long options, numeric protocols), base64url, 16 characters. The host-endpoint chains
//! and `cali-cidr-block` are declared empty: no host endpoints, no service-loop CIDRs.

use crate::cluster::hash::{base64url, sha224, sha256};
use crate::cluster::rules::TableRules;
use std::collections::BTreeSet;

/// iptables' longest chain name, felix's `maxNameLength`.
const MAX_CHAIN_NAME: usize = 28;
/// felix's default `VXLANPort`, in the from-workload drop rule.
pub(crate) const VXLAN_PORT: u16 = 4789;

/// felix's rule hashes for a chain's rules, given felix's rendering of each rule body
/// (SYSTEM_RULES.md §3.1). Rules felix appends to a kernel chain are hashed with the
/// chain name `"<CHAIN>*appends*"`.
pub fn rule_hashes<'a>(chain: &str, bodies: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut h = sha224(chain.as_bytes());
    // The previous hash, then `-A CHAIN HASH BODY` (one buffer for every rule).
    let mut msg: Vec<u8> = Vec::new();
    bodies
        .into_iter()
        .map(|body| {
            msg.clear();
            msg.extend_from_slice(&h);
            msg.extend_from_slice(b"-A ");
            msg.extend_from_slice(chain.as_bytes());
            msg.extend_from_slice(b" HASH ");
            msg.extend_from_slice(body.as_bytes());
            h = sha224(&msg);
            let mut id = base64url(&h);
            id.truncate(16);
            id
        })
        .collect()
}

/// `hashutils.GetLengthLimitedID`: `prefix + suffix`, or when that is longer than 28
/// characters, `prefix + "_" +` base64url(SHA-256(suffix)) cut to fit.
pub fn length_limited(prefix: &str, suffix: &str) -> String {
    let total = prefix.len() + suffix.len();
    if total > MAX_CHAIN_NAME || (total == MAX_CHAIN_NAME && suffix.starts_with('_')) {
        let hash = base64url(&sha256(suffix.as_bytes()));
        format!("{prefix}_{}", &hash[..MAX_CHAIN_NAME - 1 - prefix.len()])
    } else {
        format!("{prefix}{suffix}")
    }
}

/// One felix rule: the saved form around the hash comment (`pre` holds what
/// `iptables-save` prints before the first `-m`: `-i`, `-o`, `-p`), and felix's rendering
/// that the hash is computed over.
pub(crate) struct Rule {
    pre: String,
    post: String,
    body: String,
}

pub(crate) fn rule(pre: &str, post: &str, body: &str) -> Rule {
    Rule {
        pre: pre.to_string(),
        post: post.to_string(),
        body: body.to_string(),
    }
}

/// A jump or goto with nothing else: `-j X` / `--jump X`.
pub(crate) fn to(verb: &str, target: &str) -> Rule {
    let short = if verb == "goto" { "-g" } else { "-j" };
    rule(
        "",
        &format!("{short} {target}"),
        &format!("--{verb} {target}"),
    )
}

/// `-m comment --comment "TEXT" -j TARGET`.
pub(crate) fn commented(text: &str, post: &str, body: &str) -> Rule {
    let c = format!("-m comment --comment \"{text}\"");
    rule("", &format!("{c} {post}"), &format!("{c} {body}"))
}

/// The saved lines of `rules` in `chain` (hashed as `hash_chain`).
pub(crate) fn lines(hash_chain: &str, rules: &[Rule]) -> Vec<String> {
    saved(hash_chain, rules, "")
}

/// The saved lines of `rules` (hashed as `hash_chain`), each after `lead`.
fn saved(hash_chain: &str, rules: &[Rule], lead: &str) -> Vec<String> {
    let hashes = rule_hashes(hash_chain, rules.iter().map(|r| r.body.as_str()));
    rules
        .iter()
        .zip(hashes)
        .map(|(r, h)| {
            let mut l = String::with_capacity(lead.len() + r.pre.len() + r.post.len() + 48);
            l.push_str(lead);
            if !r.pre.is_empty() {
                l.push_str(&r.pre);
                l.push(' ');
            }
            l.push_str("-m comment --comment \"cali:");
            l.push_str(&h);
            l.push_str("\" ");
            l.push_str(&r.post);
            l
        })
        .collect()
}

pub(crate) fn write(t: &mut TableRules, chain: &str, rules: &[Rule]) {
    t.chain(chain);
    for l in saved(chain, rules, &format!("-A {chain} ")) {
        t.raw(l);
    }
}

/// The accept-mark return after a profile.
fn return_if_accepted(what: &str) -> Rule {
    commented(
        &format!("Return if {what} accepted"),
        "-m mark --mark 0x10000/0x10000 -j RETURN",
        "-m mark --mark 0x10000/0x10000 --jump RETURN",
    )
}

/// A profile's chain name: `cali-pri-`/`cali-pro-` + the profile id, length-limited.
fn profile_chain(prefix: &str, id: &str) -> String {
    length_limited(prefix, id)
}

/// A workload's policy chain (`cali-fw-IFACE` from the pod, `cali-tw-IFACE` to it).
fn endpoint_chain(t: &mut TableRules, from_pod: bool, iface: &str, ns: &str) {
    let (name, pfx) = if from_pod {
        (length_limited("cali-fw-", iface), "cali-pro-")
    } else {
        (length_limited("cali-tw-", iface), "cali-pri-")
    };
    let mut rules = vec![
        rule(
            "",
            "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
            "-m conntrack --ctstate RELATED,ESTABLISHED --jump ACCEPT",
        ),
        rule(
            "",
            "-m conntrack --ctstate INVALID -j DROP",
            "-m conntrack --ctstate INVALID --jump DROP",
        ),
        rule(
            "",
            "-j MARK --set-xmark 0x0/0x30000",
            "--jump MARK --set-mark 0/0x30000",
        ),
    ];
    if from_pod {
        let vx = "Drop VXLAN encapped packets originating in workloads";
        rules.push(rule(
            "-p udp",
            &format!("-m comment --comment \"{vx}\" -m multiport --dports {VXLAN_PORT} -j DROP"),
            &format!(
                "-m comment --comment \"{vx}\" -p 17 -m multiport --destination-ports {VXLAN_PORT} --jump DROP"
            ),
        ));
        let ip = "Drop IPinIP encapped packets originating in workloads";
        rules.push(rule(
            "-p ipencap",
            &format!("-m comment --comment \"{ip}\" -j DROP"),
            &format!("-m comment --comment \"{ip}\" -p 4 --jump DROP"),
        ));
    }
    for id in [format!("kns.{ns}"), format!("ksa.{ns}.default")] {
        rules.push(to("jump", &profile_chain(pfx, &id)));
        rules.push(return_if_accepted("profile"));
    }
    rules.push(commented(
        "Drop if no profiles matched",
        "-j DROP",
        "--jump DROP",
    ));
    write(t, &name, &rules);
}

/// The dispatch chains for the local workloads' interfaces (`dispatch.go`): sorted, one
/// `--goto` per interface, or a child chain per next character shared by several.
fn dispatch(t: &mut TableRules, root: &str, from_pod: bool, ifaces: &[String]) {
    let (flag, long, pfx) = if from_pod {
        ("-i", "--in-interface", "cali-fw-")
    } else {
        ("-o", "--out-interface", "cali-tw-")
    };
    let unknown = || commented("Unknown interface", "-j DROP", "--jump DROP");
    let goto = |iface: &str| {
        let target = length_limited(pfx, iface);
        rule(
            &format!("{flag} {iface}"),
            &format!("-g {target}"),
            &format!("{long} {iface} --goto {target}"),
        )
    };
    let mut names: Vec<&str> = ifaces.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let common = common_prefix(&names);
    // Bins by the next character after the common prefix, in sorted order.
    let mut bins: Vec<(String, Vec<&str>)> = Vec::new();
    for n in &names {
        let p = if n.len() > common.len() {
            n[..common.len() + 1].to_string()
        } else {
            common.to_string()
        };
        match bins.last_mut() {
            Some((q, v)) if *q == p => v.push(n),
            _ => bins.push((p, vec![n])),
        }
    }
    let mut root_rules = Vec::new();
    for (p, members) in &bins {
        if let [only] = members.as_slice() {
            root_rules.push(goto(only));
            continue;
        }
        let child = format!("{root}-{}", &p[common.len()..]);
        root_rules.push(rule(
            &format!("{flag} {p}+"),
            &format!("-g {child}"),
            &format!("{long} {p}+ --goto {child}"),
        ));
        let mut child_rules: Vec<Rule> = members.iter().map(|m| goto(m)).collect();
        child_rules.push(unknown());
        write(t, &child, &child_rules);
    }
    root_rules.push(unknown());
    write(t, root, &root_rules);
}

/// The longest common prefix of sorted names (Go's `stringutils.CommonPrefix`).
fn common_prefix<'a>(names: &[&'a str]) -> &'a str {
    let Some(first) = names.first() else {
        return "";
    };
    let mut len = first.len();
    for n in &names[1..] {
        len = first
            .bytes()
            .zip(n.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    &first[..len]
}

/// felix's FORWARD chains on a node whose local pods have the host interfaces `ifaces`
/// (the pod's Kubernetes namespace, the interface).
pub fn forward(t: &mut TableRules, ifaces: &[(String, String)]) {
    let [jump] = lines("FORWARD", &[to("jump", "cali-FORWARD")])
        .try_into()
        .expect("one rule");
    t.top("FORWARD", &jump);
    for l in lines(
        "FORWARD*appends*",
        &[
            commented(
                "Policy explicitly accepted packet.",
                "-m mark --mark 0x10000/0x10000 -j ACCEPT",
                "-m mark --mark 0x10000/0x10000 --jump ACCEPT",
            ),
            rule(
                "",
                "-j MARK --set-xmark 0x10000/0x10000",
                "--jump MARK --set-mark 0x10000/0x10000",
            ),
        ],
    ) {
        t.bottom("FORWARD", &l);
    }
    write(
        t,
        "cali-FORWARD",
        &[
            rule(
                "",
                "-j MARK --set-xmark 0x0/0xe0000",
                "--jump MARK --set-mark 0/0xe0000",
            ),
            rule(
                "",
                "-m mark --mark 0x0/0x10000 -j cali-from-hep-forward",
                "-m mark --mark 0/0x10000 --jump cali-from-hep-forward",
            ),
            rule(
                "-i cali+",
                "-j cali-from-wl-dispatch",
                "--in-interface cali+ --jump cali-from-wl-dispatch",
            ),
            rule(
                "-o cali+",
                "-j cali-to-wl-dispatch",
                "--out-interface cali+ --jump cali-to-wl-dispatch",
            ),
            to("jump", "cali-to-hep-forward"),
            to("jump", "cali-cidr-block"),
        ],
    );
    for empty in [
        "cali-cidr-block",
        "cali-from-hep-forward",
        "cali-to-hep-forward",
    ] {
        t.chain(empty);
    }
    let names: Vec<String> = ifaces.iter().map(|(_, i)| i.clone()).collect();
    dispatch(t, "cali-from-wl-dispatch", true, &names);
    dispatch(t, "cali-to-wl-dispatch", false, &names);
    for (ns, iface) in ifaces {
        endpoint_chain(t, true, iface, ns);
        endpoint_chain(t, false, iface, ns);
    }
    let namespaces: BTreeSet<&str> = ifaces.iter().map(|(ns, _)| ns.as_str()).collect();
    for ns in namespaces {
        for pfx in ["cali-pri-", "cali-pro-"] {
            write(
                t,
                &profile_chain(pfx, &format!("kns.{ns}")),
                &[
                    rule(
                        "",
                        "-j MARK --set-xmark 0x10000/0x10000",
                        "--jump MARK --set-mark 0x10000/0x10000",
                    ),
                    rule(
                        "",
                        "-m mark --mark 0x10000/0x10000 -j RETURN",
                        "-m mark --mark 0x10000/0x10000 --jump RETURN",
                    ),
                ],
            );
            t.chain(&profile_chain(pfx, &format!("ksa.{ns}.default")));
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn saved(t: &TableRules) -> String {
        t.lines.join("\n")
    }

    #[test]
    fn static_hashes() {
        // SYSTEM_RULES.md §3.1-3.2, from real nodes.
        assert_eq!(
            rule_hashes("FORWARD", ["--jump cali-FORWARD"]),
            ["wUHhoiAYhphO9Mso"]
        );
        assert_eq!(
            rule_hashes("INPUT", ["--jump cali-INPUT"]),
            ["Cz_u1IQiXIMmKD4c"]
        );
        let mut t = TableRules::default();
        forward(&mut t, &[]);
        assert_eq!(
            t.bottom.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(),
            [
                "-m comment --comment \"cali:S93hcgKJrXEqnTfs\" -m comment --comment \"Policy explicitly accepted packet.\" -m mark --mark 0x10000/0x10000 -j ACCEPT",
                "-m comment --comment \"cali:mp77cMpurHhyjLrM\" -j MARK --set-xmark 0x10000/0x10000",
            ]
        );
        let s = saved(&t);
        for h in [
            "vjrMJCRpqwy5oRoX",
            "A_sPAO0mcxbT9mOV",
            "-A cali-FORWARD -i cali+ -m comment --comment \"cali:8ZoYfO5HKXWbB3pk\" -j cali-from-wl-dispatch",
            "-A cali-FORWARD -o cali+ -m comment --comment \"cali:jdEuaPBe14V2hutn\" -j cali-to-wl-dispatch",
            "12bc6HljsMKsmfr-",
            "-A cali-FORWARD -m comment --comment \"cali:NOSxoaGx8OIstr1z\" -j cali-cidr-block",
        ] {
            assert!(s.contains(h), "{h} missing from\n{s}");
        }
        // No workloads: the dispatch chains are the DROP alone.
        assert!(s.contains("-A cali-from-wl-dispatch -m comment --comment \"cali:"));
    }

    #[test]
    fn per_pod_chains_match_the_worked_example() {
        // SYSTEM_RULES.md §3.3: pod default/web-0 alone on its node, felix >= 3.29.
        let mut t = TableRules::default();
        forward(&mut t, &[("default".into(), "cali0d7763386da".into())]);
        let s = saved(&t);
        let want = "\
-A cali-from-wl-dispatch -i cali0d7763386da -m comment --comment \"cali:UFrfeYEe5VMXOxxv\" -g cali-fw-cali0d7763386da
-A cali-from-wl-dispatch -m comment --comment \"cali:YyRH6nZ0gdkrUrc9\" -m comment --comment \"Unknown interface\" -j DROP
-A cali-to-wl-dispatch -o cali0d7763386da -m comment --comment \"cali:KRo0LUiU2hTFYQW2\" -g cali-tw-cali0d7763386da
-A cali-to-wl-dispatch -m comment --comment \"cali:_Od7TysNnxzNriya\" -m comment --comment \"Unknown interface\" -j DROP
-A cali-fw-cali0d7763386da -m comment --comment \"cali:jmN6LhWi_ZQe6T_y\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-fw-cali0d7763386da -m comment --comment \"cali:xMle_RuDLF0m3A_3\" -m conntrack --ctstate INVALID -j DROP
-A cali-fw-cali0d7763386da -m comment --comment \"cali:9P_myjrpwVb4crJG\" -j MARK --set-xmark 0x0/0x30000
-A cali-fw-cali0d7763386da -p udp -m comment --comment \"cali:MqRFCH_Q6vu0cL2h\" -m comment --comment \"Drop VXLAN encapped packets originating in workloads\" -m multiport --dports 4789 -j DROP
-A cali-fw-cali0d7763386da -p ipencap -m comment --comment \"cali:W71josaEkYA4Ev77\" -m comment --comment \"Drop IPinIP encapped packets originating in workloads\" -j DROP
-A cali-fw-cali0d7763386da -m comment --comment \"cali:n5BFnic7LTonqsOb\" -j cali-pro-kns.default
-A cali-fw-cali0d7763386da -m comment --comment \"cali:D_fEYfe1FRPCnGmW\" -m comment --comment \"Return if profile accepted\" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-cali0d7763386da -m comment --comment \"cali:h0q4NywDRNsvOpnV\" -j cali-pro-ksa.default.default
-A cali-fw-cali0d7763386da -m comment --comment \"cali:OS-6aoK07Gks6yjC\" -m comment --comment \"Return if profile accepted\" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-fw-cali0d7763386da -m comment --comment \"cali:2mwHIy07L0zH7DkT\" -m comment --comment \"Drop if no profiles matched\" -j DROP
-A cali-tw-cali0d7763386da -m comment --comment \"cali:GrNZkUzcI_GLn7x5\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A cali-tw-cali0d7763386da -m comment --comment \"cali:4I6o444L3mfs6Y32\" -m conntrack --ctstate INVALID -j DROP
-A cali-tw-cali0d7763386da -m comment --comment \"cali:VpJKk6gYd_2yp3I3\" -j MARK --set-xmark 0x0/0x30000
-A cali-tw-cali0d7763386da -m comment --comment \"cali:r7x3sNhy0-rNgzAQ\" -j cali-pri-kns.default
-A cali-tw-cali0d7763386da -m comment --comment \"cali:igdNfsisDhPzvV_p\" -m comment --comment \"Return if profile accepted\" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali0d7763386da -m comment --comment \"cali:NwlhlIn0_mzAHzxd\" -j cali-pri-ksa.default.default
-A cali-tw-cali0d7763386da -m comment --comment \"cali:Xxw1n_V_A0itQ8bG\" -m comment --comment \"Return if profile accepted\" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-tw-cali0d7763386da -m comment --comment \"cali:yYb7Pfz_Ndm2UD8b\" -m comment --comment \"Drop if no profiles matched\" -j DROP
-A cali-pri-kns.default -m comment --comment \"cali:7Fnh7Pv3_98FtLW7\" -j MARK --set-xmark 0x10000/0x10000
-A cali-pri-kns.default -m comment --comment \"cali:ZbV6bJXWSRefjK0u\" -m mark --mark 0x10000/0x10000 -j RETURN
-A cali-pro-kns.default -m comment --comment \"cali:oLzzje5WExbgfib5\" -j MARK --set-xmark 0x10000/0x10000
-A cali-pro-kns.default -m comment --comment \"cali:4goskqvxh5xcGw3s\" -m mark --mark 0x10000/0x10000 -j RETURN";
        for l in want.lines() {
            assert!(s.contains(l), "{l} missing from\n{s}");
        }
        assert!(t.chains.iter().any(|c| c == "cali-pri-ksa.default.default"));
        assert!(t.chains.iter().any(|c| c == "cali-pro-ksa.default.default"));
    }

    #[test]
    fn dispatch_tree() {
        // Two names sharing the next character after the common prefix get a child chain;
        // a lone one is a direct goto.
        let mut t = TableRules::default();
        dispatch(
            &mut t,
            "cali-from-wl-dispatch",
            true,
            &[
                "cali1aaaaaaaaaa".into(),
                "cali1bbbbbbbbbb".into(),
                "cali2cccccccccc".into(),
            ],
        );
        let s = saved(&t);
        assert!(
            s.contains("-A cali-from-wl-dispatch -i cali1+ -m comment"),
            "{s}"
        );
        assert!(s.contains("-g cali-from-wl-dispatch-1"), "{s}");
        assert!(
            s.contains("-A cali-from-wl-dispatch-1 -i cali1aaaaaaaaaa "),
            "{s}"
        );
        assert!(
            s.contains("-A cali-from-wl-dispatch -i cali2cccccccccc "),
            "{s}"
        );
        assert_eq!(s.matches("Unknown interface").count(), 2, "{s}");
        assert_eq!(common_prefix(&["cali1a", "cali1b", "cali2"]), "cali");
        assert_eq!(common_prefix(&["cali1a"]), "cali1a");
    }

    #[test]
    fn long_profile_names_are_hashed() {
        assert_eq!(
            length_limited("cali-pro-", "ksa.default.default"),
            "cali-pro-ksa.default.default"
        );
        let n = length_limited("cali-pro-", "ksa.kube-system.default");
        assert_eq!(n.len(), 28);
        assert!(n.starts_with("cali-pro-_"), "{n}");
    }
}
