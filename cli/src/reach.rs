//! `hopsim reach`: the reachability matrix (hopsim_core::reach), rendered as a table, CSV
//! or JSON, with a progress bar on stderr for long runs on a terminal.

use super::{world_with, Common};
use clap::ValueEnum;
use hopsim_core::reach::{self, Probe, Target};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ReachFormat {
    Table,
    Csv,
    Json,
}

/// Pairs above which a terminal gets a progress bar.
const PROGRESS_FROM: usize = 2000;

#[derive(clap::Args)]
pub(crate) struct ReachArgs {
    #[command(flatten)]
    common: Common,
    /// Source namespaces (repeatable; default: every namespace). Names as --from takes them.
    #[arg(long, num_args = 1.., value_name = "NS")]
    from: Vec<String>,
    /// Targets (repeatable; default: every address of every namespace): an address, or a
    /// namespace (all its addresses).
    #[arg(long, num_args = 1.., value_name = "ADDR|NS")]
    to: Vec<String>,
    /// Probe a TCP port (`nc -zv`) instead of pinging.
    #[arg(long, value_name = "PORT", conflicts_with = "udp")]
    tcp: Option<u16>,
    /// Probe a UDP port (`nc -zvu`) instead of pinging.
    #[arg(long, value_name = "PORT")]
    udp: Option<u16>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReachFormat::Table)]
    format: ReachFormat,
    /// Print only the pairs that were not reached (table and CSV).
    #[arg(long)]
    failing: bool,
    /// Worker threads (default: one per core; 1 runs in order in one thread).
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
}

pub(crate) fn run(a: ReachArgs) -> Result<u8, String> {
    let w = world_with(&a.common)?;
    let sources = if a.from.is_empty() {
        reach::all_sources(&w)
    } else {
        a.from
            .iter()
            .map(|f| w.resolve_ns(f))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut targets = Vec::new();
    if a.to.is_empty() {
        targets = reach::all_targets(&w);
    }
    for t in &a.to {
        if let Ok(addr) = t.parse() {
            targets.push(Target {
                addr,
                owner: reach::owner_of(&w, addr),
            });
        } else {
            let ns = w.resolve_ns(t)?;
            targets.extend(reach::addresses_of(&w, ns).into_iter().map(|addr| Target {
                addr,
                owner: w.netns[ns].name.clone(),
            }));
        }
    }
    let probe = match (a.tcp, a.udp) {
        (Some(port), _) => Probe::Tcp { port },
        (None, Some(port)) => Probe::Udp { port },
        (None, None) => Probe::Icmp,
    };
    if a.jobs == Some(0) {
        return Err("-j 0: at least one thread is needed".into());
    }
    let total = sources.len() * targets.len();
    let bar = (total >= PROGRESS_FROM && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(total as u64);
        if let Ok(s) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} pairs, {per_sec}, eta {eta}")
        {
            b.set_style(s);
        }
        b
    });
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let r = reach::reach(&w, &sources, &targets, probe, a.jobs, &tick);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match a.format {
        ReachFormat::Table => print!("{}", reach::render_table(&r, a.failing)),
        ReachFormat::Csv => print!("{}", reach::render_csv(&r, a.failing)),
        ReachFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
        ),
    }
    Ok(0)
}
