//! Teaching views: one probe (a ping or a connection) run on a topology, for the
//! narrated walkthrough ([`crate::render::walk`]), the diagrams
//! ([`crate::render::mermaid`], [`crate::render::dot`]), the HTML report
//! ([`crate::render::html`]) and the generated walkthrough pages ([`docs`]).

pub mod docs;

use crate::engine::connect::{connect, ConnectOptions};
use crate::engine::ping::ping;
use crate::engine::PingOptions;
use crate::format::Expect;
use crate::model::{L4Proto, NsId, World};
use crate::trace::Trace;
use std::net::Ipv4Addr;

/// What to send.
#[derive(Clone, Debug)]
pub enum Probe {
    /// `ping` with its options.
    Ping(PingOptions),
    /// `nc -zv DEST PORT` (TCP, or UDP with `-u`).
    Connect {
        /// Destination port.
        port: u16,
        /// netcat's options.
        opts: ConnectOptions,
    },
}

impl Probe {
    /// The probe an expectation runs (`None` for a `run:`, `curl:` or `resolve:`
    /// expectation, which are not a ping or a connection).
    pub fn of_expect(e: &Expect) -> Option<Probe> {
        if e.run.is_some() || e.curl.is_some() || e.resolve.is_some() {
            return None;
        }
        Some(match e.port {
            Some(port) => Probe::Connect {
                port,
                opts: ConnectOptions {
                    proto: if e.udp { L4Proto::Udp } else { L4Proto::Tcp },
                    wait_s: e.options.wait_s.min(10),
                    sport: None,
                    seed: e.options.seed,
                },
            },
            None => Probe::Ping(e.options.clone()),
        })
    }
}

/// A probe's outcome: its trace, what the program printed, its exit status.
#[derive(Clone, Debug)]
pub struct ProbeRun {
    /// `ping 192.168.15.2` or `nc -zv 192.168.1.2 80`, as typed in the source namespace.
    pub command: String,
    /// The trace.
    pub trace: Trace,
    /// What the program printed.
    pub lines: Vec<String>,
    /// Its exit status.
    pub exit: i32,
}

/// Run a probe from namespace `ns` to `dst`.
pub fn run_probe(world: World, ns: NsId, dst: Ipv4Addr, probe: &Probe) -> ProbeRun {
    match probe {
        Probe::Ping(o) => {
            let r = ping(world, ns, dst, o);
            ProbeRun {
                command: format!("ping {dst}"),
                trace: r.trace,
                lines: r.lines,
                exit: r.exit,
            }
        }
        Probe::Connect { port, opts } => {
            let r = connect(world, ns, dst, *port, opts);
            ProbeRun {
                command: format!(
                    "nc -zv{} {dst} {port}",
                    if opts.proto == L4Proto::Udp { "u" } else { "" }
                ),
                trace: r.trace,
                lines: r.lines,
                exit: r.exit,
            }
        }
    }
}
