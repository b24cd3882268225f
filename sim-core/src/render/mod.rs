//! Renderers: the model as iproute2 prints it ([`ip`]), traces as text for people
//! ([`text`]) and as JSON for programs ([`json`]), as capture files ([`pcap`]), the
//! topology as DOT ([`dot`]).

pub mod dot;
pub mod ip;
pub mod json;
pub mod pcap;
pub mod text;
