use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use crate::AuthError;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// After a failed fetch we retry sooner than after a successful one: a network blip at cold
/// start should not lock every caller out for a whole refetch interval.
const FAILED_FETCH_RETRY: Duration = Duration::from_secs(5);

type SharedError = Arc<dyn std::error::Error + Send + Sync>;

/// A public key from a JWKS, with what it may verify.
pub(crate) struct VerificationKey {
    pub(crate) key: DecodingKey,
    pub(crate) family: AlgorithmFamily,
    /// The JWK's own `alg`, when it pins one.
    pub(crate) alg: Option<Algorithm>,
}

type KeyMap = HashMap<String, Arc<VerificationKey>>;

pub(crate) enum KeyStore {
    Static(KeyMap),
    Remote(RemoteJwks),
}

impl KeyStore {
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<VerificationKey>, AuthError> {
        match self {
            KeyStore::Static(keys) => keys.get(kid).cloned().ok_or_else(|| unknown_key(kid)),
            KeyStore::Remote(remote) => remote.key(kid).await,
        }
    }
}

/// How long keys fetched from a JWKS URL are trusted, and how hard the issuer may be asked.
///
/// A fetched key set is fresh for its lifetime: the response's `Cache-Control: max-age`, or
/// [`JwksCachePolicy::default_ttl`] without one, never less than
/// [`JwksCachePolicy::min_ttl`] (also used for `no-store` and `no-cache`) nor more than
/// [`JwksCachePolicy::max_ttl`]. A token arriving after that refetches the set first. If that
/// refetch fails, the old keys keep verifying for one more lifetime (so until twice the
/// lifetime after they were fetched, with a retry at most every few seconds), then tokens are
/// refused with [`AuthError::JwksUnavailable`]: an issuer outage does not lock everyone out at
/// once, and a key the issuer withdrew is not trusted for ever. While the issuer is failing,
/// only the caller that retries waits for the retry; concurrent ones use the old keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksCachePolicy {
    /// A token naming a `kid` the fresh set lacks triggers a refetch at most this often.
    pub min_refetch_interval: Duration,
    /// Lifetime of a set whose response has no `Cache-Control: max-age`.
    pub default_ttl: Duration,
    /// Shortest lifetime, whatever the response says (`no-store`, `no-cache`, `max-age=0`).
    pub min_ttl: Duration,
    /// Longest lifetime, whatever the response says.
    pub max_ttl: Duration,
    /// Largest JWKS body read; the body is read in chunks and abandoned past this size.
    pub max_body_bytes: usize,
}

impl JwksCachePolicy {
    pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
    pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);
    pub const DEFAULT_MIN_TTL: Duration = Duration::from_secs(60);
    pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(6 * 60 * 60);
    /// Cognito's key sets are under 2 KB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

    /// The lifetime of a set served with these `Cache-Control` header values.
    pub(crate) fn ttl<'a>(&self, cache_control: impl IntoIterator<Item = &'a str>) -> Duration {
        let mut max_age: Option<Duration> = None;
        for directive in cache_control.into_iter().flat_map(|value| value.split(',')) {
            let (name, value) = match directive.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return self.bounded(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age") {
                // An unreadable max-age counts as zero (RFC 9111 §4.2.1: treat as stale);
                // an absurdly large one as the cap. Several: the shortest wins.
                let secs = match value {
                    Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                        v.parse::<u64>().unwrap_or(u64::MAX)
                    }
                    _ => 0,
                };
                let age = Duration::from_secs(secs);
                max_age = Some(max_age.map_or(age, |m| m.min(age)));
            }
        }
        self.bounded(max_age.unwrap_or(self.default_ttl))
    }

    fn bounded(&self, ttl: Duration) -> Duration {
        // Not `clamp`: it panics when a misconfigured policy has min_ttl > max_ttl.
        ttl.min(self.max_ttl).max(self.min_ttl)
    }
}

impl Default for JwksCachePolicy {
    fn default() -> Self {
        JwksCachePolicy {
            min_refetch_interval: Self::DEFAULT_MIN_REFETCH_INTERVAL,
            default_ttl: Self::DEFAULT_TTL,
            min_ttl: Self::DEFAULT_MIN_TTL,
            max_ttl: Self::DEFAULT_MAX_TTL,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The JWKS body went past [`JwksCachePolicy::max_body_bytes`].
#[derive(Debug, thiserror::Error)]
#[error(
    "the JWKS response is larger than {limit} bytes, far more than a key set needs; check that the JWKS URL points at the issuer's key set"
)]
pub(crate) struct BodyTooLarge {
    limit: usize,
}

/// One fetched key set and how long it may be used.
struct Snapshot {
    keys: KeyMap,
    /// Used without asking the issuer until then.
    fresh_until: Instant,
    /// Used, when a refetch fails, until then; refused after.
    usable_until: Instant,
}

pub(crate) struct RemoteJwks {
    url: String,
    client: Result<reqwest::Client, SharedError>,
    policy: JwksCachePolicy,
    keys: RwLock<Option<Arc<Snapshot>>>,
    /// The last fetch failed; read without the fetch lock.
    issuer_failing: AtomicBool,
    /// Held for the whole fetch, so concurrent verifications wait for one fetch instead of
    /// each starting their own.
    fetch: tokio::sync::Mutex<FetchState>,
}

#[derive(Default)]
struct FetchState {
    last_completed: Option<Instant>,
    last_error: Option<SharedError>,
}

impl RemoteJwks {
    pub(crate) fn new(url: String, policy: JwksCachePolicy) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| Arc::new(e) as SharedError);
        RemoteJwks {
            url,
            client,
            policy,
            keys: RwLock::new(None),
            issuer_failing: AtomicBool::new(false),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn snapshot(&self) -> Option<Arc<Snapshot>> {
        // A poisoned lock only means a panic elsewhere while swapping an Arc; the value is intact.
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn fresh_key(&self, kid: &str, now: Instant) -> Option<Arc<VerificationKey>> {
        self.snapshot()
            .filter(|snapshot| now < snapshot.fresh_until)
            .and_then(|snapshot| snapshot.keys.get(kid).cloned())
    }

    /// A key of the set still within its grace, fresh or not.
    fn usable_key(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        self.snapshot()
            .filter(|snapshot| Instant::now() < snapshot.usable_until)
            .and_then(|snapshot| snapshot.keys.get(kid).cloned())
    }

    async fn key(&self, kid: &str) -> Result<Arc<VerificationKey>, AuthError> {
        if let Some(key) = self.fresh_key(kid, Instant::now()) {
            return Ok(key);
        }
        let mut state = match self.fetch.try_lock() {
            Ok(state) => state,
            Err(_) => {
                // While the issuer is failing, a retry can take the whole fetch timeout: only
                // the caller that retries waits; the others use keys still in their grace.
                if self.issuer_failing.load(Ordering::Acquire)
                    && let Some(key) = self.usable_key(kid)
                {
                    return Ok(key);
                }
                self.fetch.lock().await
            }
        };
        let now = Instant::now();
        // Whoever held the lock before us may just have fetched the key we need.
        if let Some(key) = self.fresh_key(kid, now) {
            return Ok(key);
        }
        let expired = self
            .snapshot()
            .is_none_or(|snapshot| now >= snapshot.fresh_until);
        let wait = match (&state.last_error, expired) {
            (Some(_), _) => self.policy.min_refetch_interval.min(FAILED_FETCH_RETRY),
            // Expired keys are refetched before use.
            (None, true) => Duration::ZERO,
            // Bounded on purpose: random kids must not turn into requests to the issuer.
            (None, false) => self.policy.min_refetch_interval,
        };
        let may_fetch = state
            .last_completed
            .is_none_or(|last| now.saturating_duration_since(last) >= wait);

        if may_fetch {
            // Recorded only once the fetch finishes: if this future is dropped midway, the next
            // caller fetches instead of being refused for a fetch that never happened.
            let outcome = self.fetch_keys().await;
            let done = Instant::now();
            state.last_completed = Some(done);
            match outcome {
                Ok((keys, ttl)) => {
                    self.issuer_failing.store(false, Ordering::Release);
                    tracing::debug!(url = %self.url, keys = keys.len(), ttl_secs = ttl.as_secs(), "fetched JWKS");
                    state.last_error = None;
                    let fresh_until = done.checked_add(ttl).unwrap_or(done);
                    let snapshot = Arc::new(Snapshot {
                        keys,
                        fresh_until,
                        usable_until: fresh_until.checked_add(ttl).unwrap_or(fresh_until),
                    });
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
                        Some(Arc::clone(&snapshot));
                    return snapshot
                        .keys
                        .get(kid)
                        .cloned()
                        .ok_or_else(|| unknown_key(kid));
                }
                Err(source) => {
                    self.issuer_failing.store(true, Ordering::Release);
                    tracing::warn!(url = %self.url, error = %source, "could not fetch JWKS");
                    state.last_error = Some(source);
                }
            }
        }

        // No fetch now (too soon) or it failed: keys within their grace still count.
        match (self.usable_key(kid), &state.last_error) {
            (Some(key), _) => {
                tracing::debug!(url = %self.url, "verifying with JWKS keys past their lifetime");
                Ok(key)
            }
            (None, Some(source)) => Err(self.unavailable(Arc::clone(source))),
            (None, None) => Err(unknown_key(kid)),
        }
    }

    async fn fetch_keys(&self) -> Result<(KeyMap, Duration), SharedError> {
        let shared = |e: reqwest::Error| Arc::new(e) as SharedError;
        let client = self.client.as_ref().map_err(Arc::clone)?;
        let mut response = client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(shared)?;
        let limit = self.policy.max_body_bytes;
        let too_large = || Arc::new(BodyTooLarge { limit }) as SharedError;
        if response
            .content_length()
            .is_some_and(|length| usize::try_from(length).map_or(true, |length| length > limit))
        {
            return Err(too_large());
        }
        let ttl = self.policy.ttl(
            response
                .headers()
                .get_all(reqwest::header::CACHE_CONTROL)
                .iter()
                .filter_map(|value| value.to_str().ok()),
        );
        // Chunk by chunk, so a huge (or endless) body is dropped at the limit, never buffered.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(shared)? {
            if chunk.len() > limit.saturating_sub(body.len()) {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| Arc::new(e) as SharedError)?;
        Ok((verification_keys(&set), ttl))
    }

    fn unavailable(&self, source: SharedError) -> AuthError {
        AuthError::JwksUnavailable {
            url: self.url.clone(),
            source,
        }
    }
}

/// Keeps the signature keys of a set that we can use; skips (and logs) the rest instead of
/// failing, because issuers may publish keys for other purposes next to the ones we need.
pub(crate) fn verification_keys(set: &JwkSet) -> KeyMap {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            tracing::debug!("skipping a JWK without kid");
            continue;
        };
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            tracing::debug!(%kid, "skipping a JWK not meant for signatures");
            continue;
        }
        // Symmetric keys are never accepted from a key set: anyone who can read the set could
        // forge tokens with them.
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa,
            AlgorithmParameters::EllipticCurve(_) => AlgorithmFamily::Ec,
            AlgorithmParameters::OctetKeyPair(_) => AlgorithmFamily::Ed,
            _ => {
                tracing::debug!(%kid, "skipping a JWK of an unsupported key type");
                continue;
            }
        };
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(key_alg) => match Algorithm::from_str(&key_alg.to_string()) {
                Ok(alg) if alg.family() == family => Some(alg),
                _ => {
                    tracing::debug!(%kid, alg = %key_alg, "skipping a JWK whose alg does not fit its key type");
                    continue;
                }
            },
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => {
                keys.insert(kid, Arc::new(VerificationKey { key, family, alg }));
            }
            Err(error) => tracing::warn!(%kid, %error, "skipping an unusable JWK"),
        }
    }
    keys
}

fn unknown_key(kid: &str) -> AuthError {
    AuthError::UnknownKey {
        kid: crate::error::printable(kid, MAX_KID_CHARS),
    }
}

/// The kid comes from an unverified token: keep what ends up in errors and logs short.
const MAX_KID_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    fn ttl(headers: &[&str]) -> Duration {
        JwksCachePolicy::default().ttl(headers.iter().copied())
    }

    const SECS: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn max_age_sets_the_lifetime_within_the_bounds() {
        assert_eq!(ttl(&["max-age=600"]), SECS(600));
        assert_eq!(ttl(&["public, max-age=3600, must-revalidate"]), SECS(3600));
        assert_eq!(ttl(&["Max-Age=\"120\""]), SECS(120), "case and quotes");
        assert_eq!(ttl(&["max-age=10"]), SECS(60), "floor");
        assert_eq!(ttl(&["max-age=86400"]), SECS(6 * 3600), "cap");
        assert_eq!(ttl(&["max-age=99999999999999999999999"]), SECS(6 * 3600));
        assert_eq!(
            ttl(&["max-age=900", "max-age=300"]),
            SECS(300),
            "shortest wins"
        );
        assert_eq!(
            ttl(&["s-maxage=10, max-age=900"]),
            SECS(900),
            "s-maxage is for shared caches"
        );
    }

    #[test]
    fn no_store_no_cache_and_nonsense_get_the_floor() {
        for header in [
            "no-store",
            "no-cache",
            "max-age=3600, no-cache",
            "NO-STORE",
            "max-age=0",
            "max-age=-5",
            "max-age=1h",
            "max-age=",
            "max-age",
        ] {
            assert_eq!(ttl(&[header]), SECS(60), "{header}");
        }
    }

    #[test]
    fn without_max_age_the_default_applies() {
        assert_eq!(ttl(&[]), SECS(3600));
        assert_eq!(ttl(&["public", "must-revalidate"]), SECS(3600));
        assert_eq!(ttl(&[""]), SECS(3600));
    }

    #[test]
    fn a_misconfigured_policy_does_not_panic() {
        let policy = JwksCachePolicy {
            min_ttl: SECS(100),
            max_ttl: SECS(10),
            ..JwksCachePolicy::default()
        };
        assert_eq!(policy.ttl(["max-age=50"]), SECS(100));
    }
}
