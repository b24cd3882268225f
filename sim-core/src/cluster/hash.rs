//! The digests the chain and device names are made of: SHA-256 (kube-proxy's
//! `portProtoHash`/`servicePortEndpointChainName`) and SHA-1 (Calico's host-side veth
//! names), and the encodings they are printed in (RFC 4648 base32 as Go's
//! `base32.StdEncoding`, lower-case hex). Thin wrappers over the `sha2`, `sha1` and
//! `data-encoding` crates, checked against FIPS 180-4 vectors and the real names quoted in
//! SYSTEM_RULES.md.

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// SHA-256.
pub fn sha256(msg: &[u8]) -> [u8; 32] {
    Sha256::digest(msg).into()
}

/// SHA-1.
pub fn sha1(msg: &[u8]) -> [u8; 20] {
    Sha1::digest(msg).into()
}

/// RFC 4648 base32, standard alphabet, upper case, with `=` padding (Go's
/// `base32.StdEncoding`).
pub fn base32(data: &[u8]) -> String {
    data_encoding::BASE32.encode(data)
}

/// Lower-case hex.
pub fn hex(data: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(data)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn fips_vectors() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
    }
}
