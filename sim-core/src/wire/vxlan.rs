//! The VXLAN header (RFC 7348): 8 bytes in front of the inner Ethernet frame, carried in
//! UDP. Flags 0x08 (the I bit: the VNI is valid), 24 reserved bits, the 24-bit VNI, 8
//! reserved bits.

use super::{Frame, WireError};

/// Length of the VXLAN header.
pub const VXLAN_HLEN: usize = 8;
/// The I flag: a valid VNI follows.
pub const VXLAN_FLAG_I: u8 = 0x08;

/// The UDP payload for an inner frame already in bytes: the 8-byte header (flags 0x08,
/// the VNI), then the frame.
pub fn encapsulate(vni: u32, frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(VXLAN_HLEN + frame.len());
    let vni = vni & 0x00ff_ffff;
    out.extend_from_slice(&[VXLAN_FLAG_I, 0, 0, 0]);
    out.extend_from_slice(&[(vni >> 16) as u8, (vni >> 8) as u8, vni as u8, 0]);
    out.extend_from_slice(frame);
    out
}

/// A VXLAN datagram's payload: the VNI and the inner frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanPacket {
    /// VXLAN network identifier (24 bits).
    pub vni: u32,
    /// The encapsulated Ethernet frame.
    pub inner: Frame,
}

impl VxlanPacket {
    /// The UDP payload: header, then the inner frame's bytes (no padding: the kernel
    /// encapsulates the frame as the stack built it).
    pub fn emit(&self) -> Vec<u8> {
        encapsulate(self.vni, &self.inner.emit())
    }

    /// Read a UDP payload as VXLAN. The I flag must be set (`vxlan_rcv` drops the packet
    /// otherwise); the inner frame must parse.
    pub fn parse(bytes: &[u8]) -> Result<VxlanPacket, WireError> {
        if bytes.len() < VXLAN_HLEN {
            return Err(WireError::Malformed(format!(
                "VXLAN header needs {VXLAN_HLEN} bytes, got {}",
                bytes.len()
            )));
        }
        if bytes[0] & VXLAN_FLAG_I == 0 {
            return Err(WireError::Malformed(
                "VXLAN flags without the I bit (no valid VNI)".into(),
            ));
        }
        let vni = (u32::from(bytes[4]) << 16) | (u32::from(bytes[5]) << 8) | u32::from(bytes[6]);
        let inner = Frame::parse(&bytes[VXLAN_HLEN..])?;
        Ok(VxlanPacket { vni, inner })
    }
}
