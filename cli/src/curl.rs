//! `hopsim curl`: an HTTP GET like curl's, as real packets (docs/cluster.md, "Ingress").

use crate::{world_with, Common};
use hopsim_core::engine::http::{curl, CurlRequest};
use hopsim_core::render::text;

/// `hopsim curl FILE --from NS [-H 'NAME: VALUE']... [-i] [-f] [-m S] URL`.
#[derive(clap::Args, Clone)]
pub struct CurlArgs {
    #[command(flatten)]
    common: Common,
    /// Source namespace or an address it owns.
    #[arg(long)]
    from: String,
    /// http://ADDRESS[:PORT][/PATH].
    url: String,
    /// Extra header (repeatable), e.g. -H 'Host: app.example.com'.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Print the response's status line and headers too.
    #[arg(short = 'i', long)]
    include: bool,
    /// Exit 22 on an HTTP error status.
    #[arg(short = 'f', long)]
    fail: bool,
    /// Maximum time in seconds.
    #[arg(short = 'm', long = "max-time")]
    max_time: Option<u32>,
    /// Accepted for curl's sake (hopsim prints no progress meter).
    #[arg(short = 's', long)]
    silent: bool,
    /// Print the trace too.
    #[arg(long)]
    trace: bool,
    /// Seed of the random draws (iptables statistic, the controller's round robin).
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Run it: the body on stdout, curl's errors on stderr, curl's exit status.
pub fn run(a: CurlArgs) -> Result<u8, String> {
    let w = world_with(&a.common)?;
    let ns = w.resolve_ns(&a.from)?;
    let mut req = CurlRequest::get(&a.url)?;
    for h in &a.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| format!("-H {h}: give NAME: VALUE"))?;
        req.headers
            .push((k.trim().to_string(), v.trim().to_string()));
    }
    req.include = a.include;
    req.fail = a.fail;
    req.max_time = a.max_time;
    req.seed = a.seed;
    let r = curl(w, ns, &req);
    if a.trace {
        print!(
            "{}",
            text::render_trace(&r.trace, text::TextOptions::default())
        );
        println!();
    }
    for l in &r.lines {
        if r.exit == 0 {
            println!("{l}");
        } else {
            eprintln!("{l}");
        }
    }
    Ok(r.exit.clamp(0, 255) as u8)
}
