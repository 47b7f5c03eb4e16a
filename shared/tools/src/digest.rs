//! Hex and SHA-256 helpers shared by page cursors, record ids and the
//! audit chain.

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(
        String::with_capacity(bytes.len().saturating_mul(2)),
        |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        },
    )
}

/// The first `bytes` bytes (at most 32) of SHA-256(`data`), in hex.
pub(crate) fn sha256_hex(data: &[u8], bytes: usize) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let all = digest.as_ref();
    hex(all.get(..bytes).unwrap_or(all))
}
