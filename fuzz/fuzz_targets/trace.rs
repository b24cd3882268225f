//! A whole trace on a fuzzed topology: load the YAML, then ping and connect from the first
//! namespace to an address of every namespace, and render text, JSON and pcapng.
#![no_main]
use hopsim_core::engine::connect::{connect, ConnectOptions};
use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::format::{yaml, LoadOptions};
use hopsim_core::render::{json, pcap, text};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(t) = yaml::load_yaml(Path::new("fuzz.yaml"), src, LoadOptions::default()) else {
        return;
    };
    let w = t.world;
    let Some((from, _)) = w.live_netns().next() else {
        return;
    };
    let dests: Vec<_> = w
        .live_ifaces()
        .flat_map(|i| i.addrs.iter().map(|a| a.net.addr()))
        .take(4)
        .collect();
    for dst in dests {
        let r = ping(w.clone(), from, dst, &PingOptions::default());
        let _ = text::render_trace(&r.trace, text::TextOptions { bytes: true });
        let _ = json::trace_json("fuzz", dst, &r);
        let _ = pcap::pcapng(&r.trace);
        let c = connect(w.clone(), from, dst, 80, &ConnectOptions::default());
        let _ = text::render_trace(&c.trace, text::TextOptions::default());
    }
});
