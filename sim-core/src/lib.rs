//! hopsim-core: a model of the Linux packet path (namespaces, veth pairs, bridges, routing
//! tables, ARP caches, sysctls), an event-driven engine that walks one packet through it as
//! the kernel would, the input formats (YAML topologies, `ip` command scripts) and the
//! renderers (iproute2-style views, text and JSON traces, DOT).
//!
//! The crate follows the packet: [`wire`] knows bytes, [`model`] holds state and the
//! operations `ip` performs on it, [`engine`] has one module per stage of the kernel's path,
//! [`trace`] is the record of what happened, [`render`] turns it into text, and [`format`]
//! reads topologies. [`check`] runs a scenario's expectations. [`cluster`] compiles a
//! Kubernetes cluster spec into a topology.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod cluster;
pub mod dns;
pub mod engine;
pub mod format;
pub mod model;
pub mod netfilter;
pub mod reach;
pub mod render;
pub mod teach;
pub mod trace;
pub mod wire;

pub use engine::{route_output, PingOptions, PingRun};
pub use model::World;
