//! Runs generated cases against the real kernel and prints what happened.
//!
//! `cargo run -p hopsim-kernel-check --example kcheck -- [SEED] [N] [-v]`

use hopsim_kernel_check::{generate_many, normalize_ping, preflight, run_real, verdict, RealOpts};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let seed = nums.first().copied().unwrap_or(1);
    let n = nums.get(1).copied().unwrap_or(10) as usize;
    if let Err(e) = preflight() {
        eprintln!("SKIPPED: kernel check preflight failed: {e}");
        std::process::exit(2);
    }
    let total = Instant::now();
    for (i, case) in generate_many(seed, n).into_iter().enumerate() {
        let t = Instant::now();
        match run_real(&case.script, &case.probes, &RealOpts::default()) {
            Ok(o) => {
                println!(
                    "== case {i} seed {:#x} [{}] {:?}",
                    case.seed,
                    case.label,
                    t.elapsed()
                );
                if verbose {
                    print!("{}", case.script);
                }
                for l in o.failed_lines() {
                    println!(
                        "  line {} [{}] {}: {}",
                        l.line,
                        l.status,
                        l.text,
                        l.stderr.trim()
                    );
                }
                for p in &o.probes {
                    println!(
                        "  {} -> exit {} {}",
                        p.probe,
                        p.exit,
                        verdict(&p.output, p.exit)
                    );
                    if verbose {
                        for l in normalize_ping(&p.output).lines() {
                            println!("    | {l}");
                        }
                    }
                }
            }
            Err(e) => println!(
                "== case {i} seed {:#x} [{}] ERROR {e}",
                case.seed, case.label
            ),
        }
    }
    println!("total {:?}", total.elapsed());
}
