//! The walkthrough pages under `docs/walkthroughs/`: one Markdown page per scenario,
//! generated from its YAML file (what it is about, its source, and every expectation
//! narrated step by step by [`crate::render::walk`]), and an index in the order of the
//! scenario catalogue, from two hosts on a switch to Kubernetes services. `hopsim docs
//! walkthroughs` writes them; a test fails when the checked-in pages are stale.

use crate::check::{apply_with, check_one};
use crate::format::{load_file, LoadOptions, Topology};
use crate::render::walk::{render_walk, walk, WalkStyle};
use crate::teach::{run_probe, Probe, ProbeRun};
use std::fmt::Write;
use std::path::Path;

/// The command that regenerates the pages.
pub const REGENERATE: &str = "cargo run -p hopsim -- docs walkthroughs --out docs/walkthroughs";

/// How many of a page's expectations are narrated step by step; the others show their
/// outcome and the `hopsim walk` command that narrates them (keeps the pages readable:
/// all of them narrated made 2.6 MB of Markdown).
pub const NARRATED: usize = 3;

/// The scenario catalogue's order (its sections and, in each, the scenarios' file
/// stems): the order in which the documents teach.
pub const ORDER: &[(&str, &[&str])] = &[
    (
        "L2/L3 basics",
        &[
            "switching",
            "routing",
            "internet-gw",
            "scenario-2",
            "encapsulation",
        ],
    ),
    (
        "Network namespaces, veth, bridges, NAT",
        &[
            "netns-veth",
            "netns-no-netmask",
            "netns-doc-typos",
            "vnet-bridge",
            "vnet-external",
            "vnet-internet",
            "vnet-dnat",
            "red-blue-11",
            "br0-forward-drop",
            "br0-masquerade",
            "mesh-vs-bridge",
            "mesh-vs-bridge-bridge",
        ],
    ),
    (
        "Docker",
        &[
            "docker-bridge",
            "docker-none",
            "docker-host",
            "docker-publish",
            "docker-networks",
        ],
    ),
    (
        "Kubernetes",
        &[
            "pod-pause",
            "pod-routes",
            "calico-same-node",
            "calico-ipip",
            "calico-ipip-capture",
            "flannel-vxlan",
            "weave",
            "clusterip",
            "clusterip-dnat",
            "nodeport",
            "loadbalancer",
            "ingress",
            "cluster-ports",
        ],
    ),
    (
        "Name resolution",
        &[
            "hosts-file",
            "dns-server",
            "hosts-vs-dns",
            "forward",
            "search-domains",
            "coredns-hosts",
            "coredns",
            "coredns-records",
            "coredns-down",
        ],
    ),
];

/// Every page (file name, Markdown), the index `README.md` first, for the YAML
/// scenarios in `scenarios` (the `.sh` forms build the same topologies). Fails when a
/// scenario is missing from [`ORDER`] or [`ORDER`] names a missing one.
pub fn generate(scenarios: &Path) -> Result<Vec<(String, String)>, String> {
    let mut stems: Vec<String> = std::fs::read_dir(scenarios)
        .map_err(|e| format!("{}: {e}", scenarios.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    stems.sort();
    let ordered: Vec<&str> = ORDER.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    for s in &stems {
        if !ordered.contains(&s.as_str()) {
            return Err(format!(
                "scenarios/{s}.yaml has no place in the walkthroughs' order: add it to ORDER in sim-core/src/teach/docs.rs"
            ));
        }
    }
    for s in &ordered {
        if !stems.iter().any(|x| x == s) {
            return Err(format!(
                "ORDER in sim-core/src/teach/docs.rs names {s}, and scenarios/{s}.yaml does not exist"
            ));
        }
    }
    let mut pages = Vec::new();
    let mut abouts = Vec::new();
    for s in &ordered {
        let path = scenarios.join(format!("{s}.yaml"));
        let t = load_file(&path, LoadOptions::default()).map_err(|e| e.to_string())?;
        abouts.push((
            s.to_string(),
            first_sentence(t.about.as_deref().unwrap_or("")),
        ));
        pages.push((format!("{s}.md"), page(s, &t)));
    }
    pages.insert(0, ("README.md".into(), index(&abouts)));
    Ok(pages)
}

/// The names of the pages that differ from the files in `dir` (or are missing there),
/// and the `.md` files in `dir` that no scenario generates.
pub fn stale(pages: &[(String, String)], dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = pages
        .iter()
        .filter(|(name, text)| std::fs::read_to_string(dir.join(name)).ok().as_ref() != Some(text))
        .map(|(name, _)| name.clone())
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut extra: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.ends_with(".md") && !pages.iter().any(|(p, _)| p == n))
            .map(|n| format!("{n} (no scenario generates it)"))
            .collect();
        extra.sort();
        out.extend(extra);
    }
    out
}

fn first_sentence(about: &str) -> String {
    let flat = about.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(i) => flat[..=i].to_string(),
        None => flat,
    }
}

fn index(abouts: &[(String, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "<!-- generated by `hopsim docs walkthroughs`: do not edit; regenerate with `{REGENERATE}` -->\n");
    out.push_str("# Walkthroughs\n\n");
    out.push_str(
        "One page per scenario, in the order the documents teach: from two hosts on a switch, \
         through namespaces, bridges and NAT, Docker's networks, to Kubernetes pods, overlays \
         and Services (a NodePort reached through Calico IPIP). Every page narrates each of the \
         scenario's first expectations step by step, as `hopsim walk` prints them (the others \
         with their outcome and the command that narrates them); \
         `hopsim report` makes the same trace an HTML page to step through (see \
         [../teaching.md](../teaching.md)).\n",
    );
    let mut k = 0;
    for (section, stems) in ORDER {
        let _ = writeln!(out, "\n## {section}\n");
        for s in stems.iter() {
            k += 1;
            let about = abouts
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, a)| a.as_str())
                .unwrap_or("");
            let _ = writeln!(out, "{k}. [{s}]({s}.md): {about}");
        }
    }
    out
}

/// `hopsim walk` arguments reproducing an expectation.
fn walk_command(name: &str, e: &crate::format::Expect) -> String {
    let mut cmd = format!("hopsim walk scenarios/{name}.yaml --from {}", e.from);
    for w in &e.with {
        let _ = write!(cmd, " --with {}", crate::format::shell::quote(w));
    }
    if !e.options_text.is_empty() {
        let _ = write!(cmd, " {}", e.options_text);
    }
    match e.port {
        Some(p) => {
            let _ = write!(
                cmd,
                " --proto {} --dport {p} {}",
                if e.udp { "udp" } else { "tcp" },
                e.to
            );
        }
        None => {
            let _ = write!(cmd, " {}", e.to);
        }
    }
    cmd
}

/// A `resolve:` or `curl:` expectation run, and the hopsim command that shows its trace
/// (`None` for any other kind).
fn lookup_or_request(
    name: &str,
    w: crate::model::World,
    from: crate::model::NsId,
    e: &crate::format::Expect,
) -> Option<(ProbeRun, String)> {
    let mut cmd = String::new();
    let with: String = e
        .with
        .iter()
        .map(|w| format!(" --with {}", crate::format::shell::quote(w)))
        .collect();
    if let Some(req) = &e.resolve {
        use crate::engine::resolver::Tool;
        let r = crate::engine::resolver::resolve(w, from, &req.name, &req.opts);
        let tool = req.opts.tool.name();
        let _ = write!(
            cmd,
            "hopsim resolve scenarios/{name}.yaml --from {}{with} --tool {tool}",
            e.from
        );
        if let Some(t) = req.opts.qtype {
            let _ = write!(cmd, " --type {t}");
        }
        let _ = write!(cmd, " {}", req.name);
        let mut lines = r.lines;
        if req.opts.tool == Tool::Ping && r.exit == 0 {
            // getaddrinfo prints nothing itself: say what it returned.
            lines.push(format!(
                "(getaddrinfo returns {})",
                r.addrs
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let run = ProbeRun {
            command: req.command(),
            trace: r.trace,
            lines,
            exit: r.exit,
        };
        return Some((run, cmd));
    }
    let req = e.curl.as_ref()?;
    let r = crate::engine::http::curl(w, from, req);
    let hs: String = req
        .headers
        .iter()
        .map(|(k, v)| format!(" -H '{k}: {v}'"))
        .collect();
    let _ = write!(
        cmd,
        "hopsim curl scenarios/{name}.yaml --from {}{with}{hs}{}{} --trace {}",
        e.from,
        if e.options_text.is_empty() { "" } else { " " },
        e.options_text,
        e.to
    );
    let run = ProbeRun {
        command: format!(
            "curl{hs}{}{} {}",
            if e.options_text.is_empty() { "" } else { " " },
            e.options_text,
            e.to
        ),
        trace: r.trace,
        lines: r.lines,
        exit: r.exit,
    };
    Some((run, cmd))
}

/// One scenario's page.
pub fn page(name: &str, t: &Topology) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- generated by `hopsim docs walkthroughs` from scenarios/{name}.yaml: do not edit; regenerate with `{REGENERATE}` -->\n"
    );
    let _ = writeln!(out, "# {name}\n");
    if let Some(a) = &t.about {
        let _ = writeln!(
            out,
            "{}\n",
            a.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    if let Some(s) = &t.source {
        let _ = writeln!(out, "Source: {s}\n");
    }
    let _ = writeln!(
        out,
        "Scenario file: [`scenarios/{name}.yaml`](../../scenarios/{name}.yaml). Diagram: \
         `hopsim graph scenarios/{name}.yaml --format mermaid`.\n"
    );
    for (k, e) in t.expects.iter().enumerate() {
        let r = check_one(&t.world, e);
        let _ = writeln!(out, "## {}. {}\n", k + 1, r.title);
        if !e.with.is_empty() {
            out.push_str("First, in the namespaces named:\n\n```sh\n");
            for w in &e.with {
                let _ = writeln!(out, "{w}");
            }
            out.push_str("```\n\n");
        }
        if let Some(b) = &e.because {
            let _ = writeln!(
                out,
                "Why: {}\n",
                b.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        let mut w = t.world.clone();
        let applied = apply_with(&mut w, &e.with);
        let (run, command) = if e.resolve.is_some() || e.curl.is_some() {
            let (Ok(()), Ok(from)) = (applied, w.resolve_ns(&e.from)) else {
                let _ = writeln!(out, "(this expectation cannot run: {:?})\n", r.problems);
                continue;
            };
            let Some(done) = lookup_or_request(name, w, from, e) else {
                continue;
            };
            done
        } else {
            let Some(probe) = Probe::of_expect(e) else {
                // A `run:` expectation: the command and what it printed.
                let _ = writeln!(out, "```text\n$ {}", e.run.as_deref().unwrap_or(""));
                for l in &r.output {
                    let _ = writeln!(out, "{l}");
                }
                out.push_str("```\n\n");
                continue;
            };
            let (Ok(()), Ok(from), Ok(dst)) = (applied, w.resolve_ns(&e.from), e.to.parse()) else {
                let _ = writeln!(out, "(this expectation cannot run: {:?})\n", r.problems);
                continue;
            };
            (run_probe(w, from, dst, &probe), walk_command(name, e))
        };
        let _ = writeln!(out, "`{command}`\n");
        out.push_str("```text\n");
        if k >= NARRATED {
            // Past the first few, the outcome only: the command above narrates it.
            let _ = writeln!(out, "$ {}   (in {})", run.command, e.from);
            for l in &run.lines {
                let _ = writeln!(out, "{l}");
            }
            let _ = writeln!(out, "(exit {})", run.exit);
            out.push_str("```\n\n");
            continue;
        }
        out.push_str(&render_walk(
            &walk(&run.trace),
            WalkStyle {
                color: false,
                compact: true,
            },
        ));
        let _ = writeln!(out, "\n$ {}   (in {})", run.command, e.from);
        for l in &run.lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out, "(exit {})", run.exit);
        out.push_str("```\n\n");
    }
    out.trim_end().to_string() + "\n"
}
