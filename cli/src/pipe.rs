//! A closed stdout or stderr (`hopsim trace ... | head`) ends hopsim quietly, as it ends
//! coreutils: they die of SIGPIPE, which the shell reports as 141 (128 + 13). Rust ignores
//! SIGPIPE, so `println!` gets EPIPE and panics ("failed printing to stdout: Broken pipe");
//! this hook turns exactly that panic into a quiet exit with the same status, for every
//! subcommand at once. Any other panic keeps the default report.

/// The status a shell shows for a program killed by SIGPIPE.
pub const BROKEN_PIPE_STATUS: i32 = 128 + 13;

/// Whether a panic message is std's report of a write to a closed pipe.
fn is_broken_pipe(msg: &str) -> bool {
    (msg.starts_with("failed printing to stdout") || msg.starts_with("failed printing to stderr"))
        && msg.contains("Broken pipe")
}

/// Install the hook (once, first thing in `main`).
pub fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_broken_pipe(msg) {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        default(info)
    }));
}

/// For code that writes with `write!` and looks at the result: a closed pipe ends hopsim
/// the same quiet way; other errors are returned.
pub fn written(r: std::io::Result<()>) -> Result<(), String> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::exit(BROKEN_PIPE_STATUS)
        }
        other => other.map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::is_broken_pipe;

    #[test]
    fn only_the_closed_pipe_panic_is_quiet() {
        assert!(is_broken_pipe(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(is_broken_pipe(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
        assert!(!is_broken_pipe(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_broken_pipe("index out of bounds"));
    }
}
