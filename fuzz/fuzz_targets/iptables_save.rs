//! The iptables-save reader (iptables-restore): what it loads saves and reloads to the same
//! text.
#![no_main]
use hopsim_core::netfilter::save::{parse_restore, render_save_opts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(nf) = parse_restore(text) {
        let saved = render_save_opts(&nf, None, true);
        let again = parse_restore(&saved)
            .unwrap_or_else(|e| panic!("saved text does not restore: {e:?}\n{saved}"));
        assert_eq!(
            render_save_opts(&again, None, true),
            saved,
            "save is not a fixed point"
        );
    }
});
