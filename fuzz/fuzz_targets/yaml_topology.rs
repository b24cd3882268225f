//! The YAML topology loader: any bytes give a topology or a located error, never a panic.
#![no_main]
use hopsim_core::format::{yaml, LoadOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // Not a cluster file: the cluster target covers those.
        let _ = yaml::load_yaml(Path::new("fuzz.yaml"), text, LoadOptions::default());
    }
});
