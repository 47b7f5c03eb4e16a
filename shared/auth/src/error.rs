use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong while authenticating a caller or loading auth configuration.
///
/// Token problems ([`AuthError::is_unauthorized`]) are the caller's to fix and map to HTTP 401;
/// the others are ours (JWKS endpoint down, bad policy file, unreadable key) and map to 5xx.
/// Messages never contain the token or any key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <access token>`")]
    MissingToken,

    #[error(
        "the bearer token is not a well-formed JWT ({reason}); send the access token exactly as issued"
    )]
    MalformedToken {
        reason: String,
        #[source]
        source: Option<jsonwebtoken::errors::Error>,
    },

    #[error(
        "the token has no `{claim}` claim; send an access token issued by the configured issuer"
    )]
    MissingClaim { claim: String },

    #[error(
        "the token header has no `kid`; tokens must name the signing key from the issuer's JWKS"
    )]
    MissingKeyId,

    #[error(
        "the token is signed with `{alg}`, which this server does not accept; use an access token from the configured issuer"
    )]
    DisallowedAlgorithm { alg: String },

    #[error(
        "the token signature does not verify; obtain a new access token from the configured issuer"
    )]
    BadSignature {
        #[source]
        source: Option<jsonwebtoken::errors::Error>,
    },

    #[error("the access token has expired; sign in again or refresh it")]
    Expired,

    #[error(
        "the access token is not valid yet (`nbf` is in the future); check the clock of the issuing machine"
    )]
    NotYetValid,

    #[error("the token was issued by a different issuer; sign in to the issuer this server trusts")]
    WrongIssuer,

    #[error(
        "the token was issued for a different audience or app client; request a token for this server"
    )]
    WrongAudience,

    #[error(
        "the token is a `{token_use}` token, not an access token; send the access token, not the id token"
    )]
    NotAccessToken { token_use: String },

    #[error(
        "no key with kid `{kid}` in the issuer's JWKS; the key may have been rotated out, sign in again"
    )]
    UnknownKey { kid: String },

    #[error(
        "the issuer's JWKS at {url} could not be fetched; retry later, or check the JWKS URL and network access"
    )]
    JwksUnavailable {
        url: String,
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },

    #[error("invalid scope `{scope}`: {reason}")]
    BadScope { scope: String, reason: String },

    #[error("invalid auth policy: {reason}")]
    BadPolicy {
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    #[error("invalid duration `{input}`: {reason}")]
    BadTtl { input: String, reason: String },

    #[error("{action} {}; check that the path exists and is accessible", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the dev signing key at {} is unusable ({reason}); delete it to have a new one created", .path.display())]
    BadDevKey {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    #[error("could not sign the token")]
    Signing {
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

impl AuthError {
    /// True when the token itself is at fault: answer 401 with `WWW-Authenticate`.
    /// False when the server cannot decide (JWKS down) or is misconfigured: answer 5xx.
    pub fn is_unauthorized(&self) -> bool {
        match self {
            AuthError::MissingToken
            | AuthError::MalformedToken { .. }
            | AuthError::MissingClaim { .. }
            | AuthError::MissingKeyId
            | AuthError::DisallowedAlgorithm { .. }
            | AuthError::BadSignature { .. }
            | AuthError::Expired
            | AuthError::NotYetValid
            | AuthError::WrongIssuer
            | AuthError::WrongAudience
            | AuthError::NotAccessToken { .. }
            | AuthError::UnknownKey { .. } => true,
            AuthError::JwksUnavailable { .. }
            | AuthError::BadScope { .. }
            | AuthError::BadPolicy { .. }
            | AuthError::BadTtl { .. }
            | AuthError::Io { .. }
            | AuthError::BadDevKey { .. }
            | AuthError::Signing { .. } => false,
        }
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        AuthError::MalformedToken {
            reason: reason.into(),
            source: None,
        }
    }

    /// Maps a `jsonwebtoken` failure onto the variant the caller can act on.
    pub(crate) fn from_jwt(err: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match err.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim {
                claim: claim.clone(),
            },
            ErrorKind::InvalidAlgorithm
            | ErrorKind::MissingAlgorithm
            | ErrorKind::UnsupportedAlgorithm
            | ErrorKind::InvalidAlgorithmName => AuthError::DisallowedAlgorithm {
                alg: "unsupported".to_owned(),
            },
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::Provider(_) => AuthError::BadSignature { source: Some(err) },
            ErrorKind::InvalidClaimFormat(claim) => AuthError::MalformedToken {
                reason: format!("claim `{claim}` has the wrong type"),
                source: Some(err),
            },
            _ => AuthError::MalformedToken {
                reason: "undecodable header, claims or signature".to_owned(),
                source: Some(err),
            },
        }
    }
}

/// A value taken from a token, fit for an error message, a log line or a response header:
/// printable ASCII only (anything else becomes `?`), at most `max_chars` characters.
pub(crate) fn printable(value: &str, max_chars: usize) -> String {
    value
        .chars()
        .take(max_chars)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_strips_control_characters_and_truncates() {
        assert_eq!(printable("rsa-1", 64), "rsa-1");
        assert_eq!(printable("a\r\nb\u{7f}é\"", 64), "a??b??\"");
        assert_eq!(printable(&"k".repeat(100), 64).len(), 64);
    }
}
