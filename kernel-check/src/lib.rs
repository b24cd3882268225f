//! The real-kernel side of hopsim's differential check.
//!
//! Linux is hopsim's specification. This crate runs a topology script (the same `.sh`
//! commands hopsim accepts) in real, throw-away network namespaces, runs probes (pings)
//! in them, and returns what the real tools printed, so that a caller can compare it with
//! what hopsim prints for the same script.
//!
//! - [`real`]: [`run_real`] executes one case in an isolated wrapper namespace, and
//!   [`preflight`] checks that the machine can do it at all.
//! - [`normalize`]: turns real `ping` output into hopsim's timing-free form and extracts a
//!   [`Verdict`].
//! - [`capture`]: where each probe's request was accepted, and the source address it
//!   arrived with ("seen from"), from `tcpdump` and the kernel's counters.
//! - [`gen`]: a deterministic generator of random topology cases.
//! - [`compare`]: the same case through hopsim, and the comparison.
//!
//! Safety: nothing is ever configured in the machine's own root namespace; see [`real`]
//! for how each case is isolated.

#![warn(missing_docs)]

pub mod capture;
pub mod compare;
pub mod gen;
pub mod normalize;
pub mod real;

pub use capture::{Capture, Seen};
pub use gen::{generate, generate_many, GenCase, SplitMix64};
pub use normalize::{normalize_ping, verdict, Verdict};
pub use real::{
    preflight, preflight_capture, run_real, ProbeResult, RealError, RealOpts, RealOutcome,
    SetupLine,
};

pub use hopsim_core::engine::ping::PmtuDisc;
use std::fmt;

/// The namespace name that stands for the script's root namespace (`host`).
pub const HOST_NS: &str = "host";

/// One probe to run after the setup script: a command, run in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Probe {
    /// The namespace to run in: a name created by the script (`ip netns add NAME`), or
    /// [`HOST_NS`] (`"host"`) for the script's root namespace.
    pub ns: String,
    /// What to run.
    pub cmd: ProbeCmd,
}

/// A probe command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProbeCmd {
    /// `ping -c COUNT [-t TTL] [-W WAIT] [-s SIZE] [-M HINT] DEST`.
    Ping {
        /// Destination address (or name).
        dest: String,
        /// Number of echo requests (`-c`).
        count: u32,
        /// IP time to live of the requests (`-t`), if not the default.
        ttl: Option<u8>,
        /// Seconds to wait for a reply (`-W`), if not the default.
        wait_s: Option<u32>,
        /// Data bytes per request (`-s`), if not the default 56.
        size: Option<u16>,
        /// Path MTU discovery (`-M do|want|dont`), if not the default.
        pmtudisc: Option<PmtuDisc>,
    },
    /// `nc -zv [-u] -w WAIT DEST PORT` (OpenBSD netcat).
    Connect {
        /// Destination address.
        dest: String,
        /// Destination port.
        port: u16,
        /// UDP instead of TCP.
        udp: bool,
        /// Seconds to wait (`-w`).
        wait_s: u32,
    },
}

impl ProbeCmd {
    /// A ping with `-c 1 -W 1`, the generator's default.
    pub fn ping(dest: impl Into<String>) -> ProbeCmd {
        ProbeCmd::Ping {
            dest: dest.into(),
            count: 1,
            ttl: None,
            wait_s: Some(1),
            size: None,
            pmtudisc: None,
        }
    }

    /// The command's argument vector, e.g. `["ping", "-c", "1", "-W", "1", "10.0.0.2"]`.
    pub fn argv(&self) -> Vec<String> {
        match self {
            ProbeCmd::Ping {
                dest,
                count,
                ttl,
                wait_s,
                size,
                pmtudisc,
            } => {
                let mut v = vec!["ping".to_string(), "-c".to_string(), count.to_string()];
                if let Some(t) = ttl {
                    v.push("-t".to_string());
                    v.push(t.to_string());
                }
                if let Some(w) = wait_s {
                    v.push("-W".to_string());
                    v.push(w.to_string());
                }
                if let Some(s) = size {
                    v.push("-s".to_string());
                    v.push(s.to_string());
                }
                if let Some(m) = pmtudisc {
                    v.push("-M".to_string());
                    v.push(m.as_arg().to_string());
                }
                v.push(dest.clone());
                v
            }
            ProbeCmd::Connect {
                dest,
                port,
                udp,
                wait_s,
            } => {
                let mut v = vec![
                    "nc".to_string(),
                    "-zv".to_string(),
                    "-w".to_string(),
                    wait_s.to_string(),
                ];
                if *udp {
                    v.push("-u".to_string());
                }
                v.push(dest.clone());
                v.push(port.to_string());
                v
            }
        }
    }

    /// A generous upper bound, in seconds, for how long the command can run by itself.
    pub fn expected_max_secs(&self) -> u64 {
        match self {
            ProbeCmd::Ping { count, wait_s, .. } => {
                // one request per second, then up to WAIT (default 10 s) for the last one
                u64::from(*count) + u64::from(wait_s.unwrap_or(10)) + 2
            }
            ProbeCmd::Connect { wait_s, .. } => u64::from(*wait_s) + 2,
        }
    }

    /// Checks that the arguments are safe to put on a shell command line.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ProbeCmd::Ping {
                dest,
                count,
                ttl,
                wait_s,
                size,
                ..
            } => {
                let ok_dest = !dest.is_empty()
                    && dest.len() <= 253
                    && !dest.starts_with('-')
                    && dest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '_'));
                if !ok_dest {
                    return Err(format!("invalid ping destination {dest:?}"));
                }
                if *count == 0 || *count > 100 {
                    return Err(format!("ping count {count} out of range 1..=100"));
                }
                if *ttl == Some(0) {
                    return Err("ping ttl 0 is not allowed".to_string());
                }
                if let Some(w) = wait_s {
                    if *w > 60 {
                        return Err(format!("ping wait {w} s out of range 0..=60"));
                    }
                }
                if size.is_some_and(|s| s > hopsim_core::format::MAX_PING_SIZE) {
                    return Err(format!("ping size {size:?} out of range 0..=65507"));
                }
                Ok(())
            }
            ProbeCmd::Connect { dest, wait_s, .. } => {
                if dest.parse::<std::net::Ipv4Addr>().is_err() {
                    return Err(format!("invalid nc destination {dest:?}"));
                }
                if *wait_s == 0 || *wait_s > 60 {
                    return Err(format!("nc wait {wait_s} s out of range 1..=60"));
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ProbeCmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.argv().join(" "))
    }
}

impl Probe {
    /// A `ping -c 1 -W 1 DEST` probe from namespace `ns`.
    pub fn ping(ns: impl Into<String>, dest: impl Into<String>) -> Probe {
        Probe {
            ns: ns.into(),
            cmd: ProbeCmd::ping(dest),
        }
    }

    /// The probe as a script line: `ip netns exec NS ping ...`, or just `ping ...` for
    /// [`HOST_NS`].
    pub fn shell_command(&self) -> String {
        if self.ns == HOST_NS {
            self.cmd.to_string()
        } else {
            format!("ip netns exec {} {}", self.ns, self.cmd)
        }
    }

    /// Checks the namespace name and the command arguments.
    pub fn validate(&self) -> Result<(), String> {
        if !valid_ns_name(&self.ns) {
            return Err(format!("invalid namespace name {:?}", self.ns));
        }
        self.cmd.validate()
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.ns, self.cmd)
    }
}

/// Whether `name` is a plain namespace name: 1 to 64 characters out of `[A-Za-z0-9_.-]`,
/// not starting with `-` or `.`.
pub fn valid_ns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_command_lines() {
        let p = Probe::ping("red", "192.168.15.2");
        assert_eq!(
            p.shell_command(),
            "ip netns exec red ping -c 1 -W 1 192.168.15.2"
        );
        let h = Probe {
            ns: HOST_NS.to_string(),
            cmd: ProbeCmd::Ping {
                dest: "10.0.0.1".into(),
                count: 3,
                ttl: Some(5),
                wait_s: None,
                size: None,
                pmtudisc: None,
            },
        };
        assert_eq!(h.shell_command(), "ping -c 3 -t 5 10.0.0.1");
        let m = Probe {
            ns: "pod".to_string(),
            cmd: ProbeCmd::Ping {
                dest: "10.244.1.2".into(),
                count: 1,
                ttl: None,
                wait_s: Some(1),
                size: Some(1472),
                pmtudisc: Some(PmtuDisc::Do),
            },
        };
        assert_eq!(
            m.shell_command(),
            "ip netns exec pod ping -c 1 -W 1 -s 1472 -M do 10.244.1.2"
        );
        assert!(p.validate().is_ok());
    }

    #[test]
    fn probe_validation_rejects_shell_syntax() {
        assert!(Probe::ping("red; rm -rf /", "1.2.3.4").validate().is_err());
        assert!(Probe::ping("red", "1.2.3.4 && reboot").validate().is_err());
        assert!(Probe::ping("red", "-f").validate().is_err());
        assert!(Probe::ping("", "1.2.3.4").validate().is_err());
        let mut p = Probe::ping("red", "1.2.3.4");
        p.cmd = ProbeCmd::Ping {
            dest: "1.2.3.4".into(),
            count: 0,
            ttl: None,
            wait_s: None,
            size: None,
            pmtudisc: None,
        };
        assert!(p.validate().is_err());
    }
}
