//! Field-level access: output fields a caller's roles may not see read
//! `"[REDACTED]"` in the structured content, and their values are masked in
//! the summary wherever they appear as a whole token.

use serde_json::Value;

use super::sanitize::REDACTED;

/// Redacts `fields` (object keys at any depth) in `structured`; returns the
/// text forms of the values removed, for masking the summary.
pub fn redact_fields(structured: &mut Value, fields: &[&str]) -> Vec<String> {
    let mut removed = Vec::new();
    walk(structured, fields, &mut removed);
    removed.sort_by_key(|s| std::cmp::Reverse(s.len()));
    removed.dedup();
    removed
}

fn walk(value: &mut Value, fields: &[&str], removed: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if fields.contains(&key.as_str()) {
                    collect(v, removed);
                    *v = Value::String(REDACTED.into());
                } else {
                    walk(v, fields, removed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, fields, removed)),
        _ => {}
    }
}

fn collect(value: &Value, removed: &mut Vec<String>) {
    match value {
        Value::String(s) if !s.is_empty() && s != REDACTED => removed.push(s.clone()),
        Value::Number(n) => removed.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, removed)),
        Value::Object(map) => map.values().for_each(|v| collect(v, removed)),
        _ => {}
    }
}

/// Replaces every whole-token occurrence of `values` in `text`.
pub fn mask_text(text: &str, values: &[String]) -> String {
    let mut out = text.to_string();
    for value in values {
        out = replace_tokens(&out, value);
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '_' || c == '-'
}

fn replace_tokens(text: &str, needle: &str) -> String {
    if needle.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        let (before, from) = rest.split_at(at);
        let after = from.get(needle.len()..).unwrap_or("");
        let boundary_before = before
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c) || !needle.starts_with(is_word));
        // A trailing '.' ends a sentence, not a number.
        let next = after.chars().next();
        let next_after = after.chars().nth(1);
        let boundary_after = match next {
            None => true,
            Some('.') => next_after.is_none_or(|c| !c.is_alphanumeric()),
            Some(c) => !is_word(c) || !needle.ends_with(is_word),
        };
        out.push_str(before);
        if boundary_before && boundary_after {
            out.push_str(REDACTED);
        } else {
            out.push_str(needle);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_redacted_everywhere_they_appear() {
        let mut v = json!({
            "entries": [
                {"user": "u1", "client_ip": "10.1.2.3", "latency_ms": 1.5},
                {"user": "u2", "client_ip": "10.1.2.34"}
            ],
            "account": {"number": 12345, "client_ip": null}
        });
        let removed = redact_fields(&mut v, &["client_ip", "number"]);
        assert_eq!(v["entries"][0]["client_ip"], REDACTED);
        assert_eq!(v["entries"][1]["client_ip"], REDACTED);
        assert_eq!(v["account"]["number"], REDACTED);
        assert_eq!(v["entries"][0]["user"], "u1");
        assert_eq!(v["account"]["client_ip"], REDACTED);
        let summary =
            "2 entries from 10.1.2.3 and 10.1.2.34; account 12345. Latency 1.5 ms, id 123456.";
        let masked = mask_text(summary, &removed);
        assert_eq!(
            masked,
            "2 entries from [REDACTED] and [REDACTED]; account [REDACTED]. Latency 1.5 ms, id 123456."
        );
    }
}
