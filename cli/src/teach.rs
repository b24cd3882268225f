//! The teaching commands: `walk` (a narrated walkthrough), `graph` (DOT, Mermaid, SVG
//! diagrams with the traced path), `report` (one self-contained HTML file) and
//! `docs walkthroughs` (the generated pages under docs/walkthroughs/).

use crate::{parse_dest, world_with, Common, PingArgs, Proto};
use clap::ValueEnum;
use hopsim_core::engine::connect::ConnectOptions;
use hopsim_core::model::L4Proto;
use hopsim_core::render::walk::{self, WalkStyle};
use hopsim_core::teach::{run_probe, Probe, ProbeRun};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// A probe on a topology: FILE --from NS DEST and the trace options.
#[derive(clap::Args, Clone)]
pub struct ProbeArgs {
    #[command(flatten)]
    common: Common,
    /// Source namespace or an address it owns.
    #[arg(long)]
    from: String,
    /// Destination address.
    dest: String,
    #[command(flatten)]
    ping: PingArgs,
    /// Trace a TCP or UDP connection (like `nc -zv`) instead of a ping.
    #[arg(long, value_enum)]
    proto: Option<Proto>,
    /// Destination port (with --proto).
    #[arg(long)]
    dport: Option<u16>,
    /// Source port (with --proto; an ephemeral port otherwise).
    #[arg(long)]
    sport: Option<u16>,
    /// Seed for `-m statistic --mode random` draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl ProbeArgs {
    fn probe(&self) -> Result<Probe, String> {
        Ok(match self.proto {
            Some(proto) => Probe::Connect {
                port: self.dport.ok_or("--proto needs --dport")?,
                opts: ConnectOptions {
                    proto: match proto {
                        Proto::Tcp => L4Proto::Tcp,
                        Proto::Udp => L4Proto::Udp,
                    },
                    wait_s: self.ping.wait.min(10),
                    sport: self.sport,
                    seed: self.seed,
                },
            },
            None => {
                let mut o = self.ping.options();
                o.seed = self.seed;
                Probe::Ping(o)
            }
        })
    }

    /// Load, run, and return the world before the run with the outcome.
    fn run(&self) -> Result<(hopsim_core::World, ProbeRun), String> {
        let w = world_with(&self.common)?;
        let ns = w.resolve_ns(&self.from)?;
        let dst = parse_dest(&self.dest)?;
        let r = run_probe(w.clone(), ns, dst, &self.probe()?);
        Ok((w, r))
    }
}

/// `hopsim walk`.
pub fn walk_cmd(args: &ProbeArgs, step: bool) -> Result<u8, String> {
    let (_, r) = args.run()?;
    let steps = walk::walk(&r.trace);
    let mut out = std::io::stdout();
    let style = WalkStyle {
        color: out.is_terminal(),
        compact: false,
    };
    crate::pipe::written(writeln!(out, "$ {}   (in {})", r.command, args.from))?;
    let stdin = std::io::stdin();
    for i in 0..steps.len() {
        crate::pipe::written(write!(out, "{}", walk::render_step(&steps, i, style)))?;
        if step && i + 1 < steps.len() {
            crate::pipe::written(out.flush())?;
            if stdin.is_terminal() {
                eprint!("  [Enter: next step] ");
            }
            let mut line = String::new();
            // At the end of a piped input, go on without waiting.
            let _ = stdin.lock().read_line(&mut line);
        }
    }
    crate::pipe::written(writeln!(out))?;
    for l in &r.lines {
        crate::pipe::written(writeln!(out, "{l}"))?;
    }
    Ok(r.exit.clamp(0, 255) as u8)
}

/// `hopsim graph --format`.
#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart (hosts and namespaces as nested boxes).
    Mermaid,
    /// The trace as a Mermaid sequence diagram (needs --from and DEST).
    Sequence,
    /// SVG, drawn by Graphviz's `dot` (must be installed).
    Svg,
}

/// `hopsim graph`.
#[derive(clap::Args, Clone)]
pub struct GraphArgs {
    #[command(flatten)]
    common: Common,
    /// Highlight the path of a ping (or connection) from this namespace.
    #[arg(long, requires = "dest")]
    from: Option<String>,
    /// The destination address of the traced probe.
    #[arg(requires = "from")]
    dest: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// `hopsim graph`.
pub fn graph_cmd(args: &GraphArgs) -> Result<u8, String> {
    use hopsim_core::render::{dot, mermaid, path};
    let w = world_with(&args.common)?;
    let run = match (&args.from, &args.dest) {
        (Some(from), Some(dest)) => {
            let ns = w.resolve_ns(from)?;
            let dst = parse_dest(dest)?;
            Some(run_probe(
                w.clone(),
                ns,
                dst,
                &Probe::Ping(hopsim_core::PingOptions::default()),
            ))
        }
        _ => None,
    };
    let p = run.as_ref().map(|r| path::trace_path(&w, &r.trace));
    let text = match args.format {
        GraphFormat::Dot => dot::to_dot_with_path(&w, p.as_ref()),
        GraphFormat::Mermaid => mermaid::flowchart(&w, p.as_ref()),
        GraphFormat::Sequence => match &run {
            Some(r) => mermaid::sequence(&r.trace),
            None => return Err("--format sequence draws a trace: give --from NS DEST".into()),
        },
        GraphFormat::Svg => svg(&dot::to_dot_with_path(&w, p.as_ref()))?,
    };
    match &args.output {
        Some(f) => std::fs::write(f, text).map_err(|e| format!("{}: {e}", f.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// DOT through Graphviz's `dot -Tsvg`.
fn svg(dot_text: &str) -> Result<String, String> {
    let child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(
                "--format svg needs Graphviz's `dot`, which is not installed: \
                 install it (Debian/Ubuntu: apt-get install graphviz), or use --format dot \
                 or --format mermaid"
                    .into(),
            )
        }
        Err(e) => return Err(format!("dot: {e}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot_text.as_bytes())
            .map_err(|e| format!("dot: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("dot: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "dot -Tsvg failed: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("dot: {e}"))
}

/// `hopsim report`.
pub fn report_cmd(args: &ProbeArgs, output: &std::path::Path) -> Result<u8, String> {
    let (w, r) = args.run()?;
    let title = format!("{} from {}", r.command, args.from);
    let html =
        hopsim_core::render::html::report(&w, &r, &title, &args.common.file.display().to_string());
    std::fs::write(output, html).map_err(|e| format!("{}: {e}", output.display()))?;
    eprintln!("wrote {}", output.display());
    Ok(0)
}

/// `hopsim docs walkthroughs`.
pub fn docs_cmd(
    scenarios: &std::path::Path,
    out: &std::path::Path,
    check: bool,
) -> Result<u8, String> {
    let pages = hopsim_core::teach::docs::generate(scenarios)?;
    if check {
        let stale = hopsim_core::teach::docs::stale(&pages, out);
        if stale.is_empty() {
            println!("{} pages up to date in {}", pages.len(), out.display());
            return Ok(0);
        }
        for s in &stale {
            println!("stale: {s}");
        }
        println!(
            "regenerate them with: cargo run -p hopsim -- docs walkthroughs --out {}",
            out.display()
        );
        return Ok(1);
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, text) in &pages {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    println!("wrote {} pages to {}", pages.len(), out.display());
    Ok(0)
}
