//! Secrets out of audit parameters: values under secret-sounding keys, at
//! any depth, and any string that looks like a bearer token or a JWT.

use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

/// Key fragments whose values are never stored (compared case-insensitively,
/// with `-` and `_` ignored).
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "apikey",
    "secret",
    "token",
    "authorization",
    "credential",
    "privatekey",
    "accesskey",
    "sessionkey",
    "cookie",
];

fn is_secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEYS.iter().any(|k| folded.contains(k))
}

/// A bearer credential, or three base64url segments starting like a JWT
/// header (`eyJ`).
pub fn looks_like_token(text: &str) -> bool {
    let t = text.trim();
    if t.len() >= 7
        && t.get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        return true;
    }
    t.split_whitespace().any(|word| {
        let parts: Vec<&str> = word.split('.').collect();
        parts.len() == 3
            && word.starts_with("eyJ")
            && parts.iter().take(2).all(|p| p.len() >= 4)
            && word.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b'='
            })
    })
}

/// Replaces secret values in place; returns how many were redacted.
pub fn sanitize(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter_mut()
            .map(|(key, v)| {
                if is_secret_key(key) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                    1
                } else {
                    sanitize(v)
                }
            })
            .fold(0usize, usize::saturating_add),
        Value::Array(items) => items
            .iter_mut()
            .map(sanitize)
            .fold(0usize, usize::saturating_add),
        Value::String(s) if looks_like_token(s) => {
            *s = REDACTED.into();
            1
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl";
        let mut v = json!({
            "symbol": "AAPL",
            "Password": "hunter2",
            "nested": {"api_key": "k-1", "list": [{"client-secret": "s"}, {"note": format!("Bearer {jwt}")}]},
            "Authorization": "Basic abc",
            "free_text": format!("my token is {jwt} ok"),
            "refresh_token": null,
            "count": 3,
        });
        assert_eq!(sanitize(&mut v), 6);
        assert_eq!(v["symbol"], "AAPL");
        assert_eq!(v["Password"], REDACTED);
        assert_eq!(v["nested"]["api_key"], REDACTED);
        assert_eq!(v["nested"]["list"][0]["client-secret"], REDACTED);
        assert_eq!(v["nested"]["list"][1]["note"], REDACTED);
        assert_eq!(v["Authorization"], REDACTED);
        assert_eq!(v["free_text"], REDACTED);
        assert!(v["refresh_token"].is_null());
        assert_eq!(v["count"], 3);
        assert!(!v.to_string().contains("hunter2"));
        assert!(!v.to_string().contains(jwt));
    }

    #[test]
    fn ordinary_text_is_kept() {
        for text in [
            "AAPL",
            "1.2.3",
            "e.g. this",
            "eyJ",
            "rsi.macd.bbands",
            "2025-01-02",
        ] {
            assert!(!looks_like_token(text), "{text}");
        }
    }
}
