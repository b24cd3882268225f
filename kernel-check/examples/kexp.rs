//! Ad-hoc experiment: `kexp SCRIPT_FILE NS DEST WAIT [COUNT]`; prints setup failures and the probe.
use hopsim_kernel_check::{run_real, verdict, Probe, ProbeCmd, RealOpts};
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 4 {
        eprintln!("usage: kexp SCRIPT NS DEST WAIT [COUNT]");
        std::process::exit(2);
    }
    let script = std::fs::read_to_string(&a[0]).unwrap_or_default();
    let probe = Probe {
        ns: a[1].clone(),
        cmd: ProbeCmd::Ping {
            dest: a[2].clone(),
            count: a.get(4).and_then(|c| c.parse().ok()).unwrap_or(1),
            ttl: None,
            wait_s: a[3].parse().ok(),
            size: None,
            pmtudisc: None,
        },
    };
    let t = Instant::now();
    match run_real(&script, &[probe], &RealOpts::default()) {
        Ok(o) => {
            for l in o.failed_lines() {
                println!("line {} [{}] {}", l.line, l.status, l.stderr.trim());
            }
            for p in &o.probes {
                print!("{}", p.output);
                println!(
                    "exit {} => {} ({:?})",
                    p.exit,
                    verdict(&p.output, p.exit),
                    t.elapsed()
                );
            }
        }
        Err(e) => println!("error: {e}"),
    }
}
