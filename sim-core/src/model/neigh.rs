//! The neighbour (ARP) cache.

use super::IfId;
use crate::wire::Mac;
use serde::Serialize;
use std::net::Ipv4Addr;

/// Neighbour states (`NUD_*`) as `ip neigh` prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NudState {
    /// Resolution in progress: requests sent, no answer yet.
    Incomplete,
    /// Confirmed recently (an ARP reply to our request).
    Reachable,
    /// Known but not confirmed (learned from someone else's request).
    Stale,
    /// A stale entry was used to send; waiting for confirmation before probing.
    Delay,
    /// Unicast probes in flight.
    Probe,
    /// Resolution failed: every probe went unanswered.
    Failed,
    /// Configured by hand (`ip neigh add ... lladdr ...`, `nud permanent` by default).
    Permanent,
    /// Configured by hand with `nud noarp`.
    Noarp,
}

impl NudState {
    /// Whether a frame can be sent with this entry's MAC right away.
    pub fn is_valid(self) -> bool {
        matches!(
            self,
            NudState::Reachable
                | NudState::Stale
                | NudState::Delay
                | NudState::Probe
                | NudState::Permanent
                | NudState::Noarp
        )
    }

    /// The word `ip neigh` prints.
    pub fn name(self) -> &'static str {
        match self {
            NudState::Incomplete => "INCOMPLETE",
            NudState::Reachable => "REACHABLE",
            NudState::Stale => "STALE",
            NudState::Delay => "DELAY",
            NudState::Probe => "PROBE",
            NudState::Failed => "FAILED",
            NudState::Permanent => "PERMANENT",
            NudState::Noarp => "NOARP",
        }
    }
}

/// One neighbour entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    /// The neighbour's IPv4 address.
    pub ip: Ipv4Addr,
    /// The device it is reached through.
    pub dev: IfId,
    /// Its MAC, once known.
    pub mac: Option<Mac>,
    /// State.
    pub state: NudState,
}
