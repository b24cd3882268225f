//! The iptables command parser: one command line (split as a shell would), run twice on
//! the same tables, then listed and saved.
#![no_main]
use hopsim_core::netfilter::iptables::{run, IptablesCtx};
use hopsim_core::netfilter::save::render_save;
use hopsim_core::netfilter::Netfilter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut nf = Netfilter::default();
    let ctx = IptablesCtx::default();
    for line in text.lines().take(64) {
        let Some(words) = shlex::split(line) else {
            continue;
        };
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let _ = run(&mut nf, &args, &ctx);
    }
    for list in [
        &["-L", "-n", "-v"][..],
        &["-S"][..],
        &["-t", "nat", "-L", "-n"][..],
    ] {
        let _ = run(&mut nf, list, &ctx);
    }
    let _ = render_save(&nf, None);
});
