//! Regression: `hopsim resolve ... | head` panicked with "failed printing to stdout:
//! Broken pipe". Every printing subcommand, run into a pipe whose reading end is already
//! closed, ends quietly with the status a shell shows for SIGPIPE (141).

use std::process::{Command, Stdio};

fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    // The reading end is closed before hopsim starts, so that it cannot have printed
    // into the pipe's buffer first (a race the test lost on a loaded machine).
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_hopsim"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_every_subcommand_quietly() {
    for args in [
        &[
            "resolve",
            "scenarios/coredns-records.yaml",
            "--from",
            "coredns-example",
            "--tool",
            "nslookup",
            "coredns-example.default",
        ][..],
        &[
            "trace",
            "scenarios/netns-veth.yaml",
            "--from",
            "red",
            "192.168.15.2",
        ],
        &[
            "ping",
            "scenarios/netns-veth.yaml",
            "--from",
            "red",
            "192.168.15.2",
        ],
        &[
            "walk",
            "scenarios/netns-veth.yaml",
            "--from",
            "red",
            "192.168.15.2",
        ],
        &["check", "scenarios/coredns.yaml"],
        &[
            "trace",
            "scenarios/netns-veth.yaml",
            "--from",
            "red",
            "--format",
            "pcap",
            "192.168.15.2",
        ],
    ] {
        let (code, err) = into_closed_pipe(args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(code, Some(141), "{args:?}: {err}");
    }
}
