//! Offset cursors bound to a fingerprint of the request, for tools that
//! page through a result they compute whole.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ToolError;

/// Offset cursors bound to a fingerprint of the request.
pub(crate) fn fingerprint(parts: &str) -> String {
    crate::digest::sha256_hex(parts.as_bytes(), 8)
}

pub(crate) fn encode_cursor(offset: usize, print: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("o1:{offset}:{print}"))
}

pub(crate) fn decode_cursor(cursor: Option<&str>, print: &str) -> Result<usize, ToolError> {
    let Some(c) = cursor else { return Ok(0) };
    let bad = || {
        ToolError::invalid(
            "cursor is not a next_cursor of this call (same arguments); start again without a cursor",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let mut parts = text.strip_prefix("o1:").ok_or_else(bad)?.splitn(2, ':');
    let offset = parts
        .next()
        .and_then(|p| p.parse::<usize>().ok())
        .ok_or_else(bad)?;
    if parts.next() != Some(print) {
        return Err(bad());
    }
    Ok(offset)
}
