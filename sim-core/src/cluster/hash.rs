//! The digests the chain and device names are made of: SHA-256 (kube-proxy's
//! `portProtoHash`/`servicePortEndpointChainName`) and SHA-1 (Calico's host-side veth
//! names), SHA-224 (felix's rule hashes), and the encodings they are printed in (RFC 4648 base32 as Go's
//! `base32.StdEncoding`, lower-case hex). Thin wrappers over the `sha2`, `sha1` and
//! `data-encoding` crates, checked against FIPS 180-4 vectors and the real names quoted in
//! SYSTEM_RULES.md.

use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256};

/// SHA-256.
pub fn sha256(msg: &[u8]) -> [u8; 32] {
    Sha256::digest(msg).into()
}

/// SHA-224 (felix's rule-hash comments).
pub fn sha224(msg: &[u8]) -> [u8; 28] {
    Sha224::digest(msg).into()
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

/// RFC 4648 base64 with the URL-safe alphabet, without padding (Go's
/// `base64.RawURLEncoding`, as felix trims `URLEncoding`'s `=`).
pub fn base64url(data: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(data)
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
            hex(&sha224(b"abc")),
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
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
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
    }
}
