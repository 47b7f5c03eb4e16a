use std::collections::HashMap;
use std::str::FromStr;
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

pub(crate) struct RemoteJwks {
    url: String,
    client: Result<reqwest::Client, SharedError>,
    min_refetch_interval: Duration,
    keys: RwLock<Arc<KeyMap>>,
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
    pub(crate) fn new(url: String, min_refetch_interval: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| Arc::new(e) as SharedError);
        RemoteJwks {
            url,
            client,
            min_refetch_interval,
            keys: RwLock::new(Arc::default()),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        // A poisoned lock only means a panic elsewhere while swapping an Arc; the map is intact.
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.get(kid).cloned()
    }

    async fn key(&self, kid: &str) -> Result<Arc<VerificationKey>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut state = self.fetch.lock().await;
        // Whoever held the lock before us may just have fetched the key we need.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if let Some(last) = state.last_completed {
            let wait = match state.last_error {
                Some(_) => self.min_refetch_interval.min(FAILED_FETCH_RETRY),
                None => self.min_refetch_interval,
            };
            if last.elapsed() < wait {
                // Bounded on purpose: random kids must not turn into requests to the issuer.
                return Err(match &state.last_error {
                    Some(source) => self.unavailable(source.clone()),
                    None => unknown_key(kid),
                });
            }
        }

        // Recorded only once the fetch finishes: if this future is dropped midway, the next
        // caller fetches instead of being refused for a fetch that never happened.
        let outcome = self.fetch_keys().await;
        state.last_completed = Some(Instant::now());
        match outcome {
            Ok(keys) => {
                tracing::debug!(url = %self.url, keys = keys.len(), "fetched JWKS");
                state.last_error = None;
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
            }
            Err(source) => {
                tracing::warn!(url = %self.url, error = %source, "could not fetch JWKS");
                state.last_error = Some(source.clone());
                return Err(self.unavailable(source));
            }
        }
        self.cached(kid).ok_or_else(|| unknown_key(kid))
    }

    async fn fetch_keys(&self) -> Result<KeyMap, SharedError> {
        let client = self.client.as_ref().map_err(Arc::clone)?;
        let response = client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| Arc::new(e) as SharedError)?;
        let body = response
            .bytes()
            .await
            .map_err(|e| Arc::new(e) as SharedError)?;
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| Arc::new(e) as SharedError)?;
        Ok(verification_keys(&set))
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
    // The kid comes from an unverified token: keep what ends up in errors and logs short.
    const MAX_KID_CHARS: usize = 64;
    let kid: String = kid.chars().take(MAX_KID_CHARS).collect();
    AuthError::UnknownKey { kid }
}
