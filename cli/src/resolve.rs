//! `hopsim resolve FILE --from NS NAME [--type T] [--tool getent|nslookup|dig|ping]`: the
//! lookup step by step (search list, ndots, /etc/hosts or not), every DNS datagram hop by
//! hop, then what the tool prints. And `ping NAME`: the lookup before the ping.

use hopsim_core::engine::ping::PingOptions;
use hopsim_core::engine::resolver::{ping_name, resolve, ResolveOptions, Tool};
use hopsim_core::model::World;
use hopsim_core::render::text;
use hopsim_core::wire::dns::QType;

/// Run `hopsim resolve`; returns the tool's exit status.
pub fn run(
    w: World,
    from: &str,
    name: &str,
    qtype: Option<&str>,
    tool: &str,
    json: bool,
) -> Result<u8, String> {
    let ns = w.resolve_ns(from)?;
    let tool = Tool::parse(tool)
        .ok_or_else(|| format!("--tool {tool}: use getent, nslookup, dig or ping"))?;
    let qtype = match qtype {
        Some(t) => {
            Some(QType::parse(t).ok_or_else(|| format!("--type {t}: use A, AAAA, CNAME or PTR"))?)
        }
        None => None,
    };
    let r = resolve(w, ns, name, &ResolveOptions { tool, qtype });
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
        );
    } else {
        print!(
            "{}",
            text::render_trace(&r.trace, text::TextOptions::default())
        );
        println!();
        for l in &r.lines {
            println!("{l}");
        }
    }
    Ok(r.exit as u8)
}

/// `hopsim ping FILE --from NS NAME`: resolve like ping, then ping.
pub fn ping(w: World, from: &str, name: &str, opts: &PingOptions) -> Result<u8, String> {
    let ns = w.resolve_ns(from)?;
    let r = ping_name(w, ns, name, opts);
    for l in &r.lines {
        if r.exit == 2 {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    Ok(r.exit as u8)
}
