//! Renderers: the model as iproute2 prints it ([`ip`]), traces as text for people
//! ([`text`]) and as JSON for programs ([`json`]), as capture files ([`pcap`]), the
//! topology as DOT ([`dot`]) and Mermaid ([`mermaid`]); for teaching, a narrated
//! walkthrough ([`walk`]) with packet headers ([`headers`]), the path a trace took
//! ([`path`]) and a self-contained HTML report ([`html`]).

pub mod dot;
pub mod headers;
pub mod html;
pub mod ip;
pub mod json;
pub mod mermaid;
pub mod path;
pub mod pcap;
pub mod text;
pub mod walk;
