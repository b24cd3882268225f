//! Scripts: the tutorials' commands, run line by line as a shell would. A failing command
//! prints the real tool's message with the line number and changes nothing; later lines
//! still run (unless `strict`).

use super::shell::{CmdResult, Shell};
use super::{Expect, ExpectSpec, LoadError, LoadOptions};
use crate::model::{HostKind, World};

/// What one line did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptStep {
    /// 1-based line number (of the first physical line).
    pub line: usize,
    /// The command text.
    pub text: String,
    /// Output and status.
    pub result: CmdResult,
}

/// A script, run.
#[derive(Clone, Debug)]
pub struct ScriptRun {
    /// The file name used in messages.
    pub file: String,
    /// The world the script built.
    pub world: World,
    /// Each command line with its result.
    pub steps: Vec<ScriptStep>,
    /// `# expect:` lines.
    pub expects: Vec<Expect>,
    /// `# source:` text.
    pub source: Option<String>,
}

impl ScriptRun {
    /// The failures, formatted `FILE:LINE: MESSAGE`.
    pub fn failures(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.result.status != 0 && !s.result.stderr.is_empty())
            .flat_map(|s| {
                s.result
                    .stderr
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(|l| format!("{}:{}: {l}", self.file, s.line))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The name of a script's machine, and of its root namespace in `--from`.
pub const SCRIPT_HOST: &str = "host";

/// Run a script on a fresh machine `host`.
pub fn run_script(file: &str, text: &str, opts: LoadOptions) -> Result<ScriptRun, LoadError> {
    let mut world = World::new();
    let host = world.add_host(SCRIPT_HOST, HostKind::Linux);
    let mut run = ScriptRun {
        file: file.to_string(),
        world,
        steps: Vec::new(),
        expects: Vec::new(),
        source: None,
    };
    run_lines(&mut run, host, text, opts)?;
    Ok(run)
}

/// Run more lines on an existing run's world (used by `with:`).
pub fn run_lines(
    run: &mut ScriptRun,
    host: usize,
    text: &str,
    opts: LoadOptions,
) -> Result<(), LoadError> {
    let file = run.file.clone();
    let mut pending = String::new();
    let mut start = 0;
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let trimmed = raw.trim();
        if pending.is_empty() {
            start = line_no;
        }
        if let Some(rest) = trimmed.strip_prefix('#') {
            if !pending.is_empty() {
                continue;
            }
            let rest = rest.trim();
            if let Some(src) = rest.strip_prefix("source:") {
                run.source = Some(src.trim().to_string());
            } else if let Some(exp) = rest.strip_prefix("expect:") {
                let spec: ExpectSpec = serde_saphyr::from_str(exp.trim()).map_err(|e| {
                    LoadError::at(&file, line_no, 0, format!("# expect: {}", first_line(&e.to_string())))
                        .hint("write it as a YAML flow mapping: # expect: {ping: red -> 192.168.15.2, exit: 0, ttl: 64}")
                })?;
                run.expects.push(spec.resolve(&file, line_no, 0)?);
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let cmd = std::mem::take(&mut pending);
        let root = run.world.hosts[host].root;
        let result = Shell {
            world: &mut run.world,
            host,
        }
        .run_line(root, &cmd);
        if opts.strict && result.status != 0 {
            return Err(
                LoadError::at(&file, start, 0, result.stderr.trim_end().to_string()).hint(
                    "--strict stops at the first failing command; fix the line or drop --strict",
                ),
            );
        }
        run.steps.push(ScriptStep {
            line: start,
            text: cmd,
            result,
        });
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
