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
const MAX_ERROR_BYTES: usize = 200;

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

static ALLOW_LOOPBACK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets webhooks go to this machine (http to 127.0.0.1, ::1 or localhost).
/// Off by default: on Lambda, 127.0.0.1 is the runtime API. The local
/// server turns it on, for receivers on the developer's machine.
pub fn allow_loopback(on: bool) {
    ALLOW_LOOPBACK.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn loopback_allowed() -> bool {
    ALLOW_LOOPBACK.load(std::sync::atomic::Ordering::Relaxed)
}

/// An address no webhook may reach: private, carrier-grade NAT,
/// link-local (cloud metadata), unspecified, broadcast, multicast,
/// documentation, "this network", and loopback unless allowed.
pub fn forbidden_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let v4 = |ip: std::net::Ipv4Addr| {
        let [a, b, ..] = ip.octets();
        (ip.is_loopback() && !loopback_allowed())
            || ip.is_private()
            || ip.is_link_local()
            || ip.is_unspecified()
            || ip.is_broadcast()
            || ip.is_multicast()
            || ip.is_documentation()
            || a == 0
            || a >= 240
            || (a == 100 && (64..128).contains(&b))
            || (a == 192 && b == 0 && ip.octets().get(2) == Some(&0))
            || (a == 198 && (b == 18 || b == 19))
    };
    match ip {
        IpAddr::V4(ip) => v4(ip),
        IpAddr::V6(ip) => {
            if let Some(mapped) = ip.to_ipv4_mapped() {
                return v4(mapped);
            }
            let segments = ip.segments();
            let first = segments.first().copied().unwrap_or(0);
            // IPv4-compatible ::a.b.c.d carries an IPv4 address too.
            if segments.get(..6).is_some_and(|s| s.iter().all(|x| *x == 0))
                && !ip.is_loopback()
                && !ip.is_unspecified()
            {
                let o = ip.octets();
                let v4addr = std::net::Ipv4Addr::new(
                    o.get(12).copied().unwrap_or(0),
                    o.get(13).copied().unwrap_or(0),
                    o.get(14).copied().unwrap_or(0),
                    o.get(15).copied().unwrap_or(0),
                );
                return v4(v4addr);
            }
            (ip.is_loopback() && !loopback_allowed())
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach IPv4 space.
                || (first == 0x0064 && segments.get(1).copied() == Some(0xff9b))
                || first == 0x2002
        }
    }
}

/// Refuses a URL we would not send to: https only (http to this machine's
/// loopback where allowed), no credentials in it, no literal forbidden
/// address. Names are checked again when they resolve, at send time.
pub fn check_url(url: &str) -> Result<(), ToolError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ToolError::invalid(format!("webhook url {url:?} is not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| ToolError::invalid(format!("webhook url {url:?} has no host")))?;
    let ip: Option<std::net::IpAddr> = host.trim_matches(['[', ']']).parse().ok();
    let loopback = host.eq_ignore_ascii_case("localhost") || ip.is_some_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if !loopback || loopback_allowed() => {}
        "http" if loopback && loopback_allowed() => {}
        _ => {
            return Err(ToolError::invalid(format!(
                "webhook url {url:?} must be https to a public host"
            )));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ToolError::invalid(
            "a webhook url may not carry a user name or password; the signature authenticates us to the receiver",
        ));
    }
    if ip.is_some_and(forbidden_address) {
        return Err(ToolError::invalid(format!(
            "webhook url {url:?} points at a private, link-local or reserved address; use a public https endpoint"
        )));
    }
    Ok(())
}

/// Resolves webhook hosts and keeps only addresses a webhook may reach, so
/// a name that points (or is rebound) at a private address is refused at
/// connect time.
#[derive(Debug)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<std::net::SocketAddr> =
                found.filter(|a| !forbidden_address(a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The one HTTP client of every delivery (its connection pool is shared):
/// a timeout, no redirects, no proxy, and only public addresses.
fn client() -> &'static Result<reqwest::Client, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the host itself, past the address checks.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(PublicOnly))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))
    })
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
    if let Err(e) = check_url(url) {
        return Sent::Failed {
            reason: e.to_string(),
        };
    }
    let client = match client() {
        Ok(c) => c,
        Err(reason) => {
            return Sent::Failed {
                reason: reason.clone(),
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
        // Without the URL: it may carry a capability (a token in the path).
        Err(e) => Sent::Failed {
            reason: format!("no answer: {}", e.without_url()),
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
        // Loopback only where the operator allows it (the local server).
        allow_loopback(false);
        for bad in [
            "http://127.0.0.1:9001/2018-06-01/runtime",
            "https://[::1]/h",
            "http://localhost/h",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        allow_loopback(true);
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
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://224.0.0.1/x",
            "https://[::ffff:a9fe:a9fe]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[64:ff9b::a00:1]/x",
            "https://[fd00::1]/x",
            "https://198.18.0.1/x",
            "https://240.0.0.1/x",
            "https://192.0.0.8/x",
            "https://[::10.0.0.1]/x",
            "https://[2002:a00:1::]/x",
            "https://user:pw@example.com/",
            "ftp://example.com/",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
