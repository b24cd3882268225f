//! docs/errors.md is the test: every example there is run with the built binary, and its
//! exit code, stderr (and stdout where the page gives it) must be exactly as written.

use std::path::PathBuf;
use std::process::Command;

struct Example {
    title: String,
    args: Vec<String>,
    exit: i32,
    input: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
}

/// The examples: `### TITLE`, a line `` `hopsim ARGS` exits N ``, then fenced blocks
/// tagged `input`, `stdout` and `stderr`.
fn examples(doc: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = doc.lines();
    while let Some(l) = lines.next() {
        if let Some(t) = l.strip_prefix("### ") {
            out.push(Example {
                title: t.to_string(),
                args: Vec::new(),
                exit: -1,
                input: None,
                stdout: None,
                stderr: None,
            });
            continue;
        }
        let Some(ex) = out.last_mut() else { continue };
        if let Some(rest) = l.strip_prefix("`hopsim ") {
            let (cmd, exit) = rest.split_once("` exits ").expect("`hopsim ...` exits N");
            ex.args = cmd.split_whitespace().map(str::to_string).collect();
            ex.exit = exit.trim().parse().expect("exit code");
        } else if let Some(tag) = l.strip_prefix("```").filter(|t| !t.is_empty()) {
            let mut body = String::new();
            for b in lines.by_ref() {
                if b == "```" {
                    break;
                }
                body.push_str(b);
                body.push('\n');
            }
            match tag {
                "input" => ex.input = Some(body),
                "stdout" => ex.stdout = Some(body),
                "stderr" => ex.stderr = Some(body),
                t => panic!("{}: unknown block {t}", ex.title),
            }
        }
    }
    out
}

#[test]
fn every_example_in_docs_errors_md_gives_its_message_and_exit_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/errors.md")).expect("docs/errors.md");
    let all = examples(&doc);
    assert!(all.len() >= 14, "{} examples", all.len());
    let base = std::env::temp_dir().join(format!("hopsim-errors-doc-{}", std::process::id()));
    for (i, ex) in all.iter().enumerate() {
        assert!(ex.exit >= 0, "{}: no `hopsim ...` exits N line", ex.title);
        let dir = base.join(i.to_string());
        std::fs::create_dir_all(&dir).expect("temp dir");
        if let Some(input) = &ex.input {
            let file = ex
                .args
                .iter()
                .find(|a| a.starts_with("FILE."))
                .expect("an input names FILE.EXT");
            std::fs::write(dir.join(file), input).expect("write input");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_hopsim"))
            .args(&ex.args)
            .current_dir(&dir)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(ex.exit), "{}: {stderr}", ex.title);
        if let Some(want) = &ex.stderr {
            assert_eq!(&stderr, want, "{}: stderr", ex.title);
        }
        if let Some(want) = &ex.stdout {
            assert_eq!(&stdout, want, "{}: stdout", ex.title);
        }
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// The exit codes cli.md documents, on the scenarios: 0 a reply, 1 no reply or a failed
/// check, 2 refused before sending.
#[test]
fn exit_codes_are_those_of_ping() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hopsim"))
            .args(args)
            .current_dir(&root)
            .output()
            .expect("runs")
            .status
            .code()
    };
    let veth = "scenarios/netns-veth.yaml";
    assert_eq!(
        run(&["ping", veth, "--from", "red", "192.168.15.2"]),
        Some(0)
    );
    assert_eq!(
        run(&["ping", veth, "--from", "red", "192.168.15.9", "-W", "5"]),
        Some(1)
    );
    assert_eq!(run(&["ping", veth, "--from", "red", "10.1.1.1"]), Some(2));
    assert_eq!(run(&["check", veth]), Some(0));
    assert_eq!(run(&["check", "no-such-file.yaml"]), Some(1));
    assert_eq!(run(&["nosuchcommand"]), Some(2));
    assert_eq!(run(&["--version"]), Some(0));
}
