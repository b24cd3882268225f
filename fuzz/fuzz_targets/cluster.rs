//! The cluster compiler: a cluster file compiles to a topology that loads, or gives a
//! located error.
#![no_main]
use hopsim_core::cluster::compile_to_yaml;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = compile_to_yaml(Path::new("fuzz.yaml"), text);
    }
});
