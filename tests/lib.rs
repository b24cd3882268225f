//! Helpers shared by hopsim's integration tests.

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every scenario file (`.yaml`, `.sh`) under scenarios/, sorted.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "sh")
            )
        })
        .collect();
    v.sort();
    v
}

/// Whether `tool` runs (`tool ARG` succeeds); panics with what to do when it does not and
/// skipping was not asked for (`SKIP_ENV=1`). `needs` says what the test uses it for.
pub fn tool_present(test: &str, tool: &str, arg: &str, skip_env: &str, needs: &str) -> bool {
    use std::io::Write;
    let ok = std::process::Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    if std::env::var(skip_env).as_deref() == Ok("1") {
        // Written past the test harness's capture, so that the skip shows.
        let _ = std::io::stderr().write_all(
            format!("SKIPPED {test}: {tool} is not installed and {skip_env}=1\n").as_bytes(),
        );
        return false;
    }
    panic!(
        "{test} needs {needs}, and {tool} is not installed: install it (Debian/Ubuntu: \
         apt-get install {tool}; CI installs it), or set {skip_env}=1 to skip this test"
    );
}

/// Whether tshark can run ([`tool_present`] with HOPSIM_SKIP_TSHARK).
pub fn tshark_present(test: &str) -> bool {
    tool_present(
        test,
        "tshark",
        "-v",
        "HOPSIM_SKIP_TSHARK",
        "tshark to dissect the capture hopsim writes",
    )
}
