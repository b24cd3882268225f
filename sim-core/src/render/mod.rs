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

/// What a drawing writes after a device's name for its kind: ` (bridge)`, ` (ipip)`,
/// ` (vxlan VNI)`, nothing for the others.
pub(crate) fn kind_suffix(kind: &crate::model::IfKind) -> String {
    use crate::model::IfKind;
    match kind {
        IfKind::Bridge(_) => " (bridge)".to_string(),
        IfKind::Ipip(_) => " (ipip)".to_string(),
        IfKind::Vxlan(v) => format!(" (vxlan {})", v.vni),
        _ => String::new(),
    }
}
