//! Traces and ping runs as JSON (stable field names, enums tagged by `type`).

use crate::engine::PingRun;
use serde::Serialize;

/// The JSON document `hopsim trace --format json` prints.
#[derive(Serialize)]
struct TraceDoc<'a> {
    hopsim: &'static str,
    from: &'a str,
    to: String,
    exit: i32,
    output: &'a [String],
    trace: &'a crate::trace::Trace,
}

/// Render a traced ping as pretty JSON.
pub fn trace_json(from: &str, to: std::net::Ipv4Addr, run: &PingRun) -> String {
    let doc = TraceDoc {
        hopsim: env!("CARGO_PKG_VERSION"),
        from,
        to: to.to_string(),
        exit: run.exit,
        output: &run.lines,
        trace: &run.trace,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}
