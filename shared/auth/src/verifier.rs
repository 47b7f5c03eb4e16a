use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, Validation};
use serde::Deserialize;

use crate::jwks::{JwksCachePolicy, KeyStore, RemoteJwks, verification_keys};
use crate::{AuthError, Caller, Scope};

/// Cognito access tokens are a few KB; anything far larger is not worth decoding.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What a [`Verifier`] trusts. The accepted algorithms come from here, never from the token.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Exact `iss` value, e.g. `https://cognito-idp.<region>.amazonaws.com/<user pool id>`.
    pub issuer: String,
    /// Accepted `aud` values, or, for tokens without `aud` (Cognito access tokens), accepted
    /// `client_id` values. Empty means no token is accepted.
    pub audiences: Vec<String>,
    /// Accepted header `alg` values. Only asymmetric ones can ever verify: key sets never
    /// contribute HMAC secrets.
    pub algorithms: Vec<Algorithm>,
    /// Tolerated clock skew for `exp` and `nbf`.
    pub leeway_secs: u64,
    pub jwks: JwksSource,
    /// Identifiers of our resource servers at the issuer, e.g. `https://api.example.com` or
    /// `goldensignals`. Cognito writes a custom scope as `<identifier>/<scope>`; the prefix is
    /// stripped only when it is one of these. A scope prefixed with any other identifier
    /// belongs to another API and is ignored, so `other-api/*` can never become `*`.
    /// Unprefixed scopes (the dev issuer's) are read as they are.
    pub resource_server_ids: Vec<String>,
}

/// Where the issuer's public keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// Fetched on first use and again when a token names an unknown key, at most once per
    /// refetch interval.
    Url(String),
    Static(JwkSet),
}

impl VerifierConfig {
    pub const DEFAULT_LEEWAY_SECS: u64 = 30;

    /// Trust the access tokens of a Cognito user pool issued to one of `app_client_ids`.
    pub fn cognito(region: &str, user_pool_id: &str, app_client_ids: Vec<String>) -> Self {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}");
        VerifierConfig {
            jwks: JwksSource::Url(format!("{issuer}/.well-known/jwks.json")),
            issuer,
            audiences: app_client_ids,
            algorithms: vec![Algorithm::RS256],
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
            resource_server_ids: Vec::new(),
        }
    }

    /// Sets [`VerifierConfig::resource_server_ids`].
    pub fn with_resource_server_ids(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.resource_server_ids = ids.into_iter().collect();
        self
    }
}

/// Verifies bearer access tokens. Cheap to clone: clones share the key cache.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway_secs: u64,
    /// Without trailing `/`, none empty, longest first (so the most specific one is stripped).
    resource_server_ids: Vec<String>,
    keys: KeyStore,
}

#[derive(Deserialize)]
struct AccessClaims {
    sub: Option<String>,
    exp: Option<i64>,
    aud: Option<Audience>,
    client_id: Option<String>,
    token_use: Option<String>,
    scope: Option<String>,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            Audience::One(aud) => accepted.contains(aud),
            Audience::Many(auds) => auds.iter().any(|aud| accepted.contains(aud)),
        }
    }
}

impl Verifier {
    /// Unknown `kid`s trigger a JWKS refetch at most this often.
    pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration =
        JwksCachePolicy::DEFAULT_MIN_REFETCH_INTERVAL;

    /// With the default [`JwksCachePolicy`].
    pub fn new(config: VerifierConfig) -> Self {
        Verifier::with_jwks_cache(config, JwksCachePolicy::default())
    }

    /// Like [`Verifier::new`] with a different bound on JWKS refetches (tests use a short one).
    pub fn with_refetch_interval(config: VerifierConfig, min_refetch_interval: Duration) -> Self {
        Verifier::with_jwks_cache(
            config,
            JwksCachePolicy {
                min_refetch_interval,
                ..JwksCachePolicy::default()
            },
        )
    }

    /// Like [`Verifier::new`] with different JWKS caching bounds (ignored for
    /// [`JwksSource::Static`]).
    pub fn with_jwks_cache(config: VerifierConfig, cache: JwksCachePolicy) -> Self {
        let keys = match config.jwks {
            JwksSource::Url(url) => KeyStore::Remote(RemoteJwks::new(url, cache)),
            JwksSource::Static(set) => KeyStore::Static(verification_keys(&set)),
        };
        let mut resource_server_ids: Vec<String> = config
            .resource_server_ids
            .iter()
            .map(|id| id.trim().trim_end_matches('/').to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        resource_server_ids.sort();
        resource_server_ids.dedup();
        resource_server_ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
        Verifier {
            inner: Arc::new(Inner {
                issuer: config.issuer,
                audiences: config.audiences,
                algorithms: config.algorithms,
                leeway_secs: config.leeway_secs,
                resource_server_ids,
                keys,
            }),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Verifies a compact JWS access token (the part after `Bearer `).
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let inner = &*self.inner;
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        let (alg, kid) = inner.check_header(token)?;
        let key = inner.keys.key(&kid).await?;
        // A key verifies only its own family, and only its pinned algorithm if it has one.
        if key.family != alg.family() || key.alg.is_some_and(|pinned| pinned != alg) {
            return Err(AuthError::DisallowedAlgorithm {
                alg: format!("{alg:?}"),
            });
        }

        let mut validation = Validation::new(alg);
        validation.leeway = inner.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // jsonwebtoken accepts a missing `iss` even when one is configured; requiring it closes that.
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.set_issuer(&[&inner.issuer]);
        // Audience is checked below, because Cognito access tokens carry `client_id` instead.
        validation.validate_aud = false;

        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.key, &validation)
            .map_err(AuthError::from_jwt)?
            .claims;

        if let Some(token_use) = claims.token_use
            && token_use != "access"
        {
            return Err(AuthError::NotAccessToken {
                token_use: crate::error::printable(&token_use, 32),
            });
        }
        // When `aud` is present it alone decides (RFC 7519 §4.1.3); `client_id` stands in only
        // for tokens without one.
        let audience_ok = match (&claims.aud, &claims.client_id) {
            (Some(aud), _) => aud.contains_any(&inner.audiences),
            (None, Some(client_id)) => inner.audiences.contains(client_id),
            (None, None) => false,
        };
        if !audience_ok {
            return Err(AuthError::WrongAudience);
        }
        let subject =
            claims
                .sub
                .filter(|s| !s.is_empty())
                .ok_or_else(|| AuthError::MissingClaim {
                    claim: "sub".to_owned(),
                })?;
        let expires_at = claims.exp.ok_or_else(|| AuthError::MissingClaim {
            claim: "exp".to_owned(),
        })?;

        Ok(Caller {
            subject,
            client_id: claims.client_id,
            scopes: token_scopes(
                claims.scope.as_deref().unwrap_or_default(),
                &inner.resource_server_ids,
            ),
            groups: claims.groups,
            expires_at,
        })
    }
}

impl Inner {
    /// Reads `alg` and `kid` from the raw header before anything else, so that `alg: none`
    /// and algorithms we do not configure are refused as such rather than as parse errors,
    /// and no key is looked up for them.
    fn check_header(&self, token: &str) -> Result<(Algorithm, String), AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::malformed(format!(
                "longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::malformed(
                "expected three dot-separated parts (header.claims.signature)",
            ));
        };
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| {
                serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok()
            })
            .ok_or_else(|| AuthError::malformed("the header is not base64url-encoded JSON"))?;

        let alg_name = header.get("alg").and_then(|v| v.as_str()).unwrap_or("");
        let alg = Algorithm::from_str(alg_name)
            .ok()
            .filter(|alg| self.algorithms.contains(alg) && alg.family() != AlgorithmFamily::Hmac)
            .ok_or_else(|| AuthError::DisallowedAlgorithm {
                alg: crate::error::printable(alg_name, 16),
            })?;
        // We implement no JWS extensions, and RFC 7515 §4.1.11 says to refuse what we do not
        // understand.
        if header.contains_key("crit") {
            return Err(AuthError::malformed(
                "the header has `crit` extensions, which are not supported",
            ));
        }
        let kid = header
            .get("kid")
            .and_then(|v| v.as_str())
            .filter(|kid| !kid.is_empty())
            .ok_or(AuthError::MissingKeyId)?;
        Ok((alg, kid.to_owned()))
    }
}

/// Scopes we do not know (`openid`, `aws.cognito.signin.user.admin`, other APIs' scopes) are
/// dropped, not refused: Cognito puts them in the same claim. Cognito prefixes custom scopes with
/// their resource server identifier (`<identifier>/market-data:*`); the prefix is stripped only
/// for `resource_server_ids` (longest first), and a scope with any other prefix is dropped.
fn token_scopes(claim: &str, resource_server_ids: &[String]) -> Vec<Scope> {
    claim
        .split_whitespace()
        .filter_map(|raw| {
            let name = if raw.contains('/') {
                let ours = resource_server_ids.iter().find_map(|id| {
                    raw.strip_prefix(id.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                });
                let Some(name) = ours else {
                    tracing::trace!(scope = raw, "ignoring a scope of another resource server");
                    return None;
                };
                name
            } else {
                raw
            };
            match Scope::parse(name) {
                Ok(scope) => Some(scope),
                Err(_) => {
                    tracing::trace!(scope = raw, "ignoring a scope that is not ours");
                    None
                }
            }
        })
        .collect()
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jwks = match &self.inner.keys {
            KeyStore::Static(keys) => format!("static ({} keys)", keys.len()),
            KeyStore::Remote(remote) => remote.url().to_owned(),
        };
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("audiences", &self.inner.audiences)
            .field("algorithms", &self.inner.algorithms)
            .field("leeway_secs", &self.inner.leeway_secs)
            .field("resource_server_ids", &self.inner.resource_server_ids)
            .field("jwks", &jwks)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(claim: &str, ids: &[&str]) -> Vec<String> {
        let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
        let verifier = Verifier::new(VerifierConfig {
            resource_server_ids: ids,
            ..VerifierConfig::cognito("eu-west-1", "pool", vec![])
        });
        token_scopes(claim, &verifier.inner.resource_server_ids)
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect()
    }

    #[test]
    fn token_scopes_strip_only_configured_resource_server_prefixes() {
        let claim = "openid aws.cognito.signin.user.admin market-data:* \
             https://api.goldensignals.example/portfolio:get_positions other-api/read \
             goldensignals/alerts:*";
        assert_eq!(
            names(
                claim,
                &["goldensignals", "https://api.goldensignals.example/"]
            ),
            ["market-data:*", "portfolio:get_positions", "alerts:*"]
        );
        assert_eq!(
            names(claim, &["goldensignals"]),
            ["market-data:*", "alerts:*"],
            "the https:// resource server is not configured here"
        );
        assert_eq!(
            names(claim, &[]),
            ["market-data:*"],
            "without resource servers only unprefixed scopes count"
        );
        assert!(names("", &["goldensignals"]).is_empty());
    }

    #[test]
    fn another_apis_wildcard_never_becomes_ours() {
        for claim in [
            "other-api/*",
            "other-api/market-data:*",
            "https://other.example/*",
            "goldensignals-evil/*",
            "evil/goldensignals/*",
            "goldensignals/v2/*",
            "goldensignals//*",
            "/*",
        ] {
            assert!(
                names(claim, &["goldensignals", "https://api.example.com"]).is_empty(),
                "{claim}"
            );
        }
        // Our own resource server may grant everything.
        assert_eq!(names("goldensignals/*", &["goldensignals"]), ["*"]);
        // The most specific configured identifier wins.
        assert_eq!(
            names(
                "https://api.example.com/v2/market-data:get_quote",
                &["https://api.example.com", "https://api.example.com/v2"]
            ),
            ["market-data:get_quote"]
        );
        // An empty identifier must not make `/*` ours.
        assert!(names("/*", &["", " "]).is_empty());
    }

    #[test]
    fn verifier_is_send_sync_and_cheap_to_share() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Verifier>();
    }

    #[test]
    fn cognito_config_points_at_the_pool() {
        let config = VerifierConfig::cognito("eu-west-1", "eu-west-1_AbC", vec!["client".into()]);
        assert_eq!(
            config.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
        );
        assert!(matches!(
            config.jwks,
            JwksSource::Url(ref url)
                if url == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/jwks.json"
        ));
        assert_eq!(config.algorithms, [Algorithm::RS256]);
        assert_eq!(config.leeway_secs, 30);
        assert!(config.resource_server_ids.is_empty());
        let config = config.with_resource_server_ids(["goldensignals".to_owned()]);
        assert_eq!(config.resource_server_ids, ["goldensignals"]);
    }
}
