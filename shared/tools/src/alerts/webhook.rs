//! Webhook deliveries signed as Standard Webhooks
//! (<https://www.standardwebhooks.com>): headers `webhook-id` (stable across
//! retries of one message), `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,` + base64 HMAC-SHA256 over
//! `{id}.{timestamp}.{body}` with the secret's bytes; secrets are `whsec_` +
//! base64 of 32 random bytes).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::ToolError;

pub const SECRET_PREFIX: &str = "whsec_";
const TIMEOUT: Duration = Duration::from_secs(10);
/// Most of a receiver's answer kept in the history.
const MAX_ERROR_BYTES: usize = 300;

/// A fresh secret, `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> Result<Zeroizing<String>, ToolError> {
    use ring::rand::SecureRandom;
    let mut bytes = Zeroizing::new([0u8; 32]);
    ring::rand::SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| ToolError::Internal("the system random source failed".into()))?;
    Ok(Zeroizing::new(format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(bytes.as_ref())
    )))
}

/// `v1,` + base64 HMAC-SHA256(secret bytes, `{id}.{timestamp}.{body}`).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, ToolError> {
    let raw = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = Zeroizing::new(
        STANDARD
            .decode(raw)
            .map_err(|_| ToolError::Internal("a stored webhook secret is not base64".into()))?,
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    Ok(format!("v1,{}", STANDARD.encode(ctx.sign().as_ref())))
}

/// Refuses a URL we would not send to: https only (http to this machine's
/// loopback, for tests and local receivers), no credentials in it, and no
/// literal private, link-local (cloud metadata) or unspecified address.
pub fn check_url(url: &str) -> Result<(), ToolError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ToolError::invalid(format!("webhook url {url:?} is not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| ToolError::invalid(format!("webhook url {url:?} has no host")))?;
    let ip: Option<std::net::IpAddr> = host.trim_matches(['[', ']']).parse().ok();
    let loopback = host.eq_ignore_ascii_case("localhost") || ip.is_some_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(ToolError::invalid(format!(
                "webhook url {url:?} must be https (http only to 127.0.0.1 or localhost)"
            )));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ToolError::invalid(
            "a webhook url may not carry a user name or password; the signature authenticates us to the receiver",
        ));
    }
    let private = match ip {
        Some(std::net::IpAddr::V4(ip)) => {
            ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Some(std::net::IpAddr::V6(ip)) => {
            ip.is_unspecified()
                || ip
                    .segments()
                    .first()
                    .is_some_and(|s| (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80)
        }
        None => false,
    };
    if private {
        return Err(ToolError::invalid(format!(
            "webhook url {url:?} points at a private or link-local address; use a public https endpoint"
        )));
    }
    Ok(())
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Anything else, with what the receiver said (truncated).
    Failed { reason: String },
}

/// POSTs `body` (JSON) to `url`, signed; no redirects are followed.
pub async fn send(url: &str, secret: &str, id: &str, body: &[u8]) -> Sent {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match sign(secret, id, timestamp, body) {
        Ok(s) => s,
        Err(e) => {
            return Sent::Failed {
                reason: e.to_string(),
            };
        }
    };
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return Sent::Failed {
                reason: format!("cannot build an HTTP client: {e}"),
            };
        }
    };
    let answer = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "GoldenSignals-Webhooks/1")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Sent::Delivered {
            status: r.status().as_u16(),
        },
        Ok(r) => {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            let text: String = text.chars().take(MAX_ERROR_BYTES).collect();
            Sent::Failed {
                reason: format!("HTTP {status}: {text}"),
            }
        }
        Err(e) => Sent::Failed {
            reason: format!("no answer: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn urls_are_checked() {
        for ok in [
            "https://hooks.example.com/x",
            "http://127.0.0.1:9000/h",
            "http://localhost/h",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/x",
            "https://169.254.169.254/latest",
            "https://10.0.0.1/x",
            "https://user:pw@example.com/",
            "ftp://example.com/",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
