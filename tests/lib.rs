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

/// Whether tshark can run; panics with what to do when it cannot and skipping was not
/// asked for (HOPSIM_SKIP_TSHARK=1).
pub fn tshark_present(test: &str) -> bool {
    use std::io::Write;
    let ok = std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    if std::env::var("HOPSIM_SKIP_TSHARK").as_deref() == Ok("1") {
        // Written past the test harness's capture, so that the skip shows.
        let _ = std::io::stderr().write_all(
            format!("SKIPPED {test}: tshark is not installed and HOPSIM_SKIP_TSHARK=1\n")
                .as_bytes(),
        );
        return false;
    }
    panic!(
        "{test} needs tshark to dissect the capture hopsim writes, and tshark is not installed: \
         install it (Debian/Ubuntu: apt-get install tshark; CI installs it), or set \
         HOPSIM_SKIP_TSHARK=1 to skip this test"
    );
}
