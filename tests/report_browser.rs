//! The HTML report (`hopsim report`) in a real headless Chromium (Debian's `chromium`
//! package; CI installs it): the page loads without a console error, stepping forward
//! with the keyboard shows the next hop's headers, a click on a hop opens it, and a
//! screenshot is kept under target/ as a test artifact. Without chromium these tests
//! fail and say so, unless HOPSIM_SKIP_BROWSER=1 asks to skip them.
//!
//! The page's test hooks: `#step=N` opens hop N, `&keys=...` presses keys, `&click=N`
//! clicks hop N in the list; console errors land in `#console-errors` (`data-count`).

use hopsim_core::check::apply_with;
use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::render::html;
use hopsim_core::render::walk::walk;
use hopsim_core::teach::{run_probe, Probe, ProbeRun};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether chromium can run ([`hopsim_tests::tool_present`] with HOPSIM_SKIP_BROWSER).
fn chromium_present(test: &str) -> bool {
    hopsim_tests::tool_present(
        test,
        "chromium",
        "--version",
        "HOPSIM_SKIP_BROWSER",
        "a headless Chromium to load the HTML report",
    )
}

/// The report of the masquerade walk of vnet-external, written under target/.
fn report() -> (PathBuf, ProbeRun) {
    let t = load_file(
        &hopsim_tests::root().join("scenarios/vnet-external.yaml"),
        LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut w = t.world.clone();
    apply_with(
        &mut w,
        &[
            "blue: ip route add 192.168.1.0/24 via 192.168.15.5".to_string(),
            "host: iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE".to_string(),
        ],
    )
    .unwrap_or_else(|m| panic!("{m}"));
    let ns = w.resolve_ns("blue").expect("blue");
    let run = run_probe(
        w.clone(),
        ns,
        "192.168.1.3".parse().expect("address"),
        &Probe::Ping(Default::default()),
    );
    assert_eq!(run.exit, 0, "{:?}", run.lines);
    let page = html::report(
        &w,
        &run,
        "ping 192.168.1.3 from blue",
        "scenarios/vnet-external.yaml",
    );
    let dir = artifacts();
    let file = dir.join("report-vnet-external.html");
    std::fs::write(&file, page).expect("write the report");
    (file, run)
}

/// target/hopsim-artifacts/ (kept after the test run).
fn artifacts() -> PathBuf {
    let dir = hopsim_tests::root().join("target/hopsim-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts folder");
    dir
}

/// Chromium headless with a fresh profile: `--dump-dom` of the page at `fragment`, or a
/// screenshot when `screenshot` is given. Returns (stdout, stderr).
fn chromium(file: &Path, fragment: &str, screenshot: Option<&Path>) -> (String, String) {
    let profile = std::env::temp_dir().join(format!(
        "hopsim-chromium-{}-{}",
        std::process::id(),
        fragment.len() + screenshot.map_or(0, |_| 1000)
    ));
    let _ = std::fs::remove_dir_all(&profile);
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1400,1000",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    match screenshot {
        Some(s) => cmd.arg(format!("--screenshot={}", s.display())),
        None => cmd.arg("--dump-dom"),
    };
    cmd.arg(format!("file://{}#{fragment}", file.display()));
    let out = cmd.output().expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The text of the element with id `id` in a dumped DOM (up to its closing tag).
fn element<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page:\n{dom}"));
    let rest = &dom[start..];
    let end = rest
        .find("</section>")
        .or_else(|| rest.find("</pre>"))
        .unwrap_or(rest.len());
    &rest[..end]
}

fn no_console_errors(dom: &str, stderr: &str) {
    let errors = element(dom, "console-errors");
    assert!(
        errors.starts_with("id=\"console-errors\" data-count=\"0\""),
        "the page reported console errors: {errors}"
    );
    // Chromium logs console messages as `CONSOLE(line)] "message"`.
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains(":CONSOLE(") && l.to_lowercase().contains("error")),
        "chromium logged a console error:\n{stderr}"
    );
}

#[test]
fn report_is_self_contained() {
    let (file, _) = report();
    let page = std::fs::read_to_string(&file).expect("read");
    for needle in [
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !page.contains(needle),
            "the report refers outside itself: {needle}"
        );
    }
}

#[test]
fn report_loads_and_steps_forward_to_the_next_hop() {
    if !chromium_present("report_loads_and_steps_forward_to_the_next_hop") {
        return;
    }
    let (file, run) = report();
    let steps = walk(&run.trace);
    // The hop where the host sends the masqueraded echo request: its transmit carries
    // the rewritten source and the decremented TTL.
    let nat_hop = steps
        .iter()
        .find(|s| {
            s.packet.as_ref().is_some_and(|p| {
                p.changes()
                    .iter()
                    .any(|c| c.starts_with("IPv4 src: 192.168.15.2 -> 192.168.1.2"))
            })
        })
        .map(|s| s.hop)
        .expect("a masqueraded packet");

    // Open the hop before it, then press the right arrow: the page must show the next
    // hop's headers.
    let (dom, stderr) = chromium(&file, &format!("step={nat_hop}&keys=ArrowRight"), None);
    no_console_errors(&dom, &stderr);
    let headers = element(&dom, "headers");
    assert!(
        headers.contains(&format!("data-hop=\"{}\"", nat_hop + 1)),
        "ArrowRight did not move to hop {}: {headers}",
        nat_hop + 1
    );
    let want = steps
        .iter()
        .filter(|s| s.hop == nat_hop)
        .find_map(|s| s.packet.as_ref())
        .expect("a packet in the hop");
    assert!(
        headers.contains(&want.summary.replace('>', "&gt;")),
        "hop {}'s first packet ({}) is not shown: {headers}",
        nat_hop + 1,
        want.summary
    );
    assert!(
        headers.contains("<tr class=\"changed\"><td class=\"layer\">IPv4</td><td class=\"name\">src</td><td class=\"value\">192.168.1.2</td><td class=\"was\">was 192.168.15.2</td></tr>"),
        "the rewritten source is not highlighted: {headers}"
    );

    // End goes to the last hop, Home back to the first; a click opens a hop.
    let (dom, _) = chromium(&file, "keys=End", None);
    let last = run.trace.hops.len();
    assert!(element(&dom, "headers").contains(&format!("data-hop=\"{last}\"")));
    let (dom, _) = chromium(&file, "step=3&keys=Home", None);
    assert!(element(&dom, "headers").contains("data-hop=\"1\""));
    let (dom, _) = chromium(&file, "click=4", None);
    assert!(element(&dom, "headers").contains("data-hop=\"4\""));
    assert!(
        element(&dom, "rules").contains("iptables rules met")
            || element(&dom, "rules").contains("No iptables rules")
    );

    let shot = artifacts().join("report-vnet-external.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&file, &format!("step={}", nat_hop + 1), Some(&shot));
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "no screenshot at {}", shot.display());
    let _ = std::io::stderr().write_all(format!("screenshot: {}\n", shot.display()).as_bytes());
}
