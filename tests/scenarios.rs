//! Every scenario under scenarios/: it loads, every `expect:` holds, and the trace of
//! every expectation's probe (ping, nc, curl, name lookup) is pinned as an insta snapshot
//! (review changes as code).

use hopsim_core::check::{apply_with, check_one};
use hopsim_core::engine::connect::{connect, ConnectOptions};
use hopsim_core::engine::ping::ping;
use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::model::L4Proto;
use hopsim_core::render::text::{render_trace, TextOptions};
use std::fmt::Write;

#[test]
fn every_scenario_loads_and_its_expectations_hold() {
    let files = hopsim_tests::scenario_files();
    assert!(files.len() >= 13, "the catalogue's scenarios are there");
    let mut failures = Vec::new();
    for f in &files {
        let t = load_file(f, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !t.expects.is_empty() || f.extension().is_some_and(|e| e == "sh"),
            "{} has no expect: entries",
            f.display()
        );
        for e in &t.expects {
            let r = check_one(&t.world, e);
            if !r.passed() {
                failures.push(format!(
                    "{}:{} {}: {:?}",
                    f.display(),
                    r.line,
                    r.title,
                    r.problems
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "expectations failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_scenario_names_its_source_document() {
    for f in hopsim_tests::scenario_files() {
        let t = load_file(&f, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let src = t.source.unwrap_or_default();
        assert!(
            src.contains(".txt"),
            "{} does not name its source document (source: {src:?})",
            f.display()
        );
    }
}

#[test]
fn scenario_trace_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in hopsim_tests::scenario_files() {
            let t = load_file(&f, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            let mut out = String::new();
            for (k, e) in t.expects.iter().enumerate() {
                let mut w = t.world.clone();
                apply_with(&mut w, &e.with).unwrap_or_else(|m| panic!("{m}"));
                let from = w.resolve_ns(&e.from).unwrap_or_else(|m| panic!("{m}"));
                if e.run.is_some() {
                    let r = hopsim_core::check::check_one(&t.world, e);
                    let _ = writeln!(out, "=== expect {} (line {}): {}", k + 1, e.line, r.title);
                    for w in &e.with {
                        let _ = writeln!(out, "    with: {w}");
                    }
                    for l in &r.output {
                        let _ = writeln!(out, "| {l}");
                    }
                    continue;
                }
                if let Some(req) = &e.curl {
                    let run = hopsim_core::engine::http::curl(w, from, req);
                    let hs: String = req
                        .headers
                        .iter()
                        .map(|(k, v)| format!(" -H '{k}: {v}'"))
                        .collect();
                    let _ = writeln!(
                        out,
                        "=== expect {} (line {}): curl {}{hs} {} {}",
                        k + 1,
                        e.line,
                        e.from,
                        e.to,
                        e.options_text
                    );
                    for w in &e.with {
                        let _ = writeln!(out, "    with: {w}");
                    }
                    out.push_str(&render_trace(&run.trace, TextOptions::default()));
                    for l in &run.lines {
                        let _ = writeln!(out, "| {l}");
                    }
                    let _ = writeln!(out, "exit {}", run.exit);
                    continue;
                }
                if let Some(req) = &e.resolve {
                    let run = hopsim_core::engine::resolver::resolve(w, from, &req.name, &req.opts);
                    let _ = writeln!(
                        out,
                        "=== expect {} (line {}): {}",
                        k + 1,
                        e.line,
                        hopsim_core::check::resolve_title(e, req)
                    );
                    for w in &e.with {
                        let _ = writeln!(out, "    with: {w}");
                    }
                    out.push_str(&render_trace(&run.trace, TextOptions::default()));
                    for l in &run.lines {
                        let _ = writeln!(out, "| {l}");
                    }
                    let addrs: Vec<String> = run.addrs.iter().map(|a| a.to_string()).collect();
                    let _ = writeln!(out, "answer [{}]", addrs.join(", "));
                    let _ = writeln!(out, "exit {}", run.exit);
                    continue;
                }
                let dst = e.to.parse().expect("address");
                if let Some(port) = e.port {
                    let opts = ConnectOptions {
                        proto: if e.udp { L4Proto::Udp } else { L4Proto::Tcp },
                        wait_s: e.options.wait_s.min(10),
                        sport: None,
                        seed: e.options.seed,
                    };
                    let run = connect(w, from, dst, port, &opts);
                    let _ = writeln!(
                        out,
                        "=== expect {} (line {}): connect {} -> {}:{port}{}",
                        k + 1,
                        e.line,
                        e.from,
                        e.to,
                        if e.udp { " udp" } else { "" }
                    );
                    for w in &e.with {
                        let _ = writeln!(out, "    with: {w}");
                    }
                    out.push_str(&render_trace(&run.trace, TextOptions::default()));
                    for l in &run.lines {
                        let _ = writeln!(out, "| {l}");
                    }
                    let _ = writeln!(out, "exit {}", run.exit);
                    continue;
                }
                let run = ping(w, from, dst, &e.options);
                let _ = writeln!(
                    out,
                    "=== expect {} (line {}): ping {} -> {} {}",
                    k + 1,
                    e.line,
                    e.from,
                    e.to,
                    e.options_text
                );
                for w in &e.with {
                    let _ = writeln!(out, "    with: {w}");
                }
                out.push_str(&render_trace(&run.trace, TextOptions::default()));
                for l in &run.lines {
                    let _ = writeln!(out, "| {l}");
                }
                let _ = writeln!(out, "exit {}", run.exit);
            }
            let name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("x")
                .replace('.', "_");
            insta::assert_snapshot!(name, out);
        }
    });
}

#[test]
fn scripts_print_the_tools_messages_with_line_numbers() {
    let f = hopsim_tests::root().join("scenarios/netns-doc-typos.sh");
    let t = load_file(&f, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let failures = t.script.expect("a script").failures();
    assert!(
        failures
            .iter()
            .any(|l| l.contains("Cannot find device \"veth-red\"")),
        "{failures:?}"
    );
    // --strict turns the first failure into a located load error.
    let err = load_file(&f, LoadOptions { strict: true }).expect_err("strict fails");
    assert!(
        err.line > 0 && err.message.contains("Cannot find device"),
        "{err}"
    );
}
