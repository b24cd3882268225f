//! The script importer: every line of `ip`/`bridge`/`iptables`/`sysctl`/... commands.
#![no_main]
use hopsim_core::format::{export, script, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(run) = script::run_script("fuzz.sh", text, LoadOptions::default()) {
            // What `hopsim import` prints must be producible from whatever loaded.
            let _ = export::to_yaml(&run.world, "fuzz", run.source.as_deref(), &run.expects);
        }
    }
});
