use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand_core::{OsRng, RngCore};
use serde::Serialize;

use crate::{AuthError, JwksSource, Scope, VerifierConfig};

const KEY_FILE: &str = "dev-signing-key.pem";

/// A local token issuer for development and tests, standing in for Cognito.
///
/// Its ES256 key pair lives in the data directory so that tokens survive restarts; its tokens
/// look like Cognito access tokens (plus `aud`) so the same [`crate::Verifier`] code path runs.
pub struct DevIssuer {
    key_path: PathBuf,
    signing_key: EncodingKey,
    jwk: Jwk,
    kid: String,
}

#[derive(Serialize)]
struct DevClaims<'a> {
    iss: &'static str,
    aud: &'static str,
    sub: &'a str,
    client_id: &'static str,
    token_use: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(rename = "cognito:groups", skip_serializing_if = "<[_]>::is_empty")]
    groups: &'a [String],
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
}

impl DevIssuer {
    pub const ISSUER: &str = "goldensignals-dev";
    pub const AUDIENCE: &str = "goldensignals-mcp";
    pub const CLIENT_ID: &str = "goldensignals-dev-cli";
    /// Suggested name, in the data directory, for [`DevIssuer::write_token_file`].
    pub const TOKEN_FILE: &str = "dev-token";

    /// Loads `dev-signing-key.pem` from `data_dir`, creating the directory and a new key
    /// (PKCS#8 PEM, mode 0600) on first run.
    pub fn load_or_create(data_dir: &Path) -> Result<DevIssuer, AuthError> {
        let key_path = data_dir.join(KEY_FILE);
        let pem = match std::fs::read_to_string(&key_path) {
            Ok(pem) => {
                warn_if_readable_by_others(&key_path);
                pem
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(data_dir, &key_path)?,
            Err(source) => {
                return Err(AuthError::Io {
                    action: "could not read the dev signing key",
                    path: key_path,
                    source,
                });
            }
        };
        DevIssuer::from_pem(key_path, &pem)
    }

    fn from_pem(key_path: PathBuf, pem: &str) -> Result<DevIssuer, AuthError> {
        let bad = |reason: &str, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
            AuthError::BadDevKey {
                path: key_path.clone(),
                reason: reason.to_owned(),
                source,
            }
        };
        let secret = p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| {
            bad(
                "not a PKCS#8 PEM P-256 private key",
                Some(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            )
        })?;
        let signing_key = EncodingKey::from_ec_pem(pem.as_bytes())
            .map_err(|e| bad("not usable for ES256", Some(Box::new(e))))?;

        let point = secret.public_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(bad("the public key is the identity point", None));
        };
        let mut jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: URL_SAFE_NO_PAD.encode(x),
                y: URL_SAFE_NO_PAD.encode(y),
            }),
        };
        // RFC 7638: the thumbprint covers only the required members, so it is computed before
        // kid/use/alg are added.
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| bad("could not compute its JWK thumbprint", Some(Box::new(e))))?;
        jwk.common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::ES256),
            key_id: Some(kid.clone()),
            ..CommonParameters::default()
        };
        Ok(DevIssuer {
            key_path,
            signing_key,
            jwk,
            kid,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// Mints an access token shaped like Cognito's, with `aud` set to [`DevIssuer::AUDIENCE`].
    pub fn mint(
        &self,
        subject: &str,
        scopes: &[Scope],
        groups: &[String],
        ttl: Duration,
    ) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let mut jti = [0u8; 16];
        OsRng.fill_bytes(&mut jti);
        let claims = DevClaims {
            iss: Self::ISSUER,
            aud: Self::AUDIENCE,
            sub: subject,
            client_id: Self::CLIENT_ID,
            token_use: "access",
            scope: (!scopes.is_empty()).then(|| {
                scopes
                    .iter()
                    .map(Scope::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            groups,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl_secs),
            jti: URL_SAFE_NO_PAD.encode(jti),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing_key)
            .map_err(|source| AuthError::Signing { source })
    }

    /// Writes `token` (and a newline) to `path`, readable and writable only by its owner
    /// (mode 0600 on unix), creating the parent directory if needed.
    ///
    /// The token goes to a new file next to `path` that is renamed over it, so a reader never
    /// sees half a token, and a file that was readable by others is replaced rather than
    /// rewritten in place (its permissions never apply to the new token). Elsewhere than unix
    /// the file gets the directory's default permissions.
    pub fn write_token_file(path: &Path, token: &str) -> Result<(), AuthError> {
        let io_error = |action: &'static str, path: &Path| {
            let path = path.to_owned();
            move |source| AuthError::Io {
                action,
                path,
                source,
            }
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| {
                io_error("could not write the dev token to", path)(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path names no file",
                ))
            })?
            .to_string_lossy()
            .into_owned();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(io_error("could not create the directory of", dir))?;
        }
        let mut nonce = [0u8; 8];
        OsRng.fill_bytes(&mut nonce);
        let temp = path.with_file_name(format!(
            ".{file_name}.{}.tmp",
            URL_SAFE_NO_PAD.encode(nonce)
        ));

        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(token.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()
        });
        let result = written.and_then(|()| std::fs::rename(&temp, path));
        if let Err(source) = result {
            // Best effort: the temp file holds a token and must not linger.
            let _ = std::fs::remove_file(&temp);
            return Err(io_error("could not write the dev token to", path)(source));
        }
        Ok(())
    }

    /// The public key only, as served at a `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// Trusts exactly this issuer's tokens: its issuer and audience, ES256, its public key.
    pub fn verifier_config(&self) -> VerifierConfig {
        VerifierConfig {
            issuer: Self::ISSUER.to_owned(),
            audiences: vec![Self::AUDIENCE.to_owned()],
            algorithms: vec![Algorithm::ES256],
            leeway_secs: VerifierConfig::DEFAULT_LEEWAY_SECS,
            jwks: JwksSource::Static(self.jwks()),
            // Dev tokens carry unprefixed scopes.
            resource_server_ids: Vec::new(),
        }
    }
}

impl fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevIssuer")
            .field("key_path", &self.key_path)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn create_key(data_dir: &Path, key_path: &Path) -> Result<String, AuthError> {
    std::fs::create_dir_all(data_dir).map_err(|source| AuthError::Io {
        action: "could not create the data directory",
        path: data_dir.to_owned(),
        source,
    })?;
    let secret = p256::SecretKey::random(&mut OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AuthError::BadDevKey {
            path: key_path.to_owned(),
            reason: "could not encode a new key".to_owned(),
            source: Some(Box::new(e)),
        })?;

    let mut options = std::fs::OpenOptions::new();
    // create_new: if another process created the key meanwhile, use theirs rather than
    // overwriting a key that may already have signed tokens.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io_error = |source| AuthError::Io {
        action: "could not write the dev signing key",
        path: key_path.to_owned(),
        source,
    };
    match options.open(key_path) {
        Ok(mut file) => {
            file.write_all(pem.as_bytes()).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            tracing::info!(path = %key_path.display(), "created a dev signing key");
            Ok(pem.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(key_path).map_err(|source| AuthError::Io {
                action: "could not read the dev signing key",
                path: key_path.to_owned(),
                source,
            })
        }
        Err(source) => Err(io_error(source)),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(key_path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(key_path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %key_path.display(),
            "the dev signing key is accessible to other users; run `chmod 600` on it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_key_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed P-256 key; its RFC 7638 thumbprint was computed independently of this crate
    /// (Python: sha256 over `{"crv":"P-256","kty":"EC","x":...,"y":...}`, base64url).
    const FIXED_KEY_PEM: &str = include_str!("../tests/fixtures/ec-dev-key.pem");
    const FIXED_KEY_THUMBPRINT: &str = include_str!("../tests/fixtures/ec-dev-key.thumbprint");

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), FIXED_KEY_PEM).unwrap();
        let issuer = DevIssuer::load_or_create(dir.path()).unwrap();
        assert_eq!(issuer.kid(), FIXED_KEY_THUMBPRINT.trim());
    }

    #[test]
    fn jsonwebtoken_thumbprint_matches_rfc7638_example() {
        // The example key of RFC 7638 §3.1 and its published thumbprint.
        let jwk: Jwk =
            serde_json::from_str(include_str!("../tests/fixtures/rfc7638-example.jwk.json"))
                .unwrap();
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn creates_a_private_key_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("nested/data");
        let first = DevIssuer::load_or_create(&data_dir).unwrap();
        let pem = std::fs::read_to_string(data_dir.join(KEY_FILE)).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data_dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = DevIssuer::load_or_create(&data_dir).unwrap();
        assert_eq!(first.kid(), second.kid());
        assert_eq!(first.jwks(), second.jwks());

        let other = DevIssuer::load_or_create(&dir.path().join("elsewhere")).unwrap();
        assert_ne!(first.kid(), other.kid(), "a new directory gets a new key");
    }

    #[test]
    fn token_file_is_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(DevIssuer::TOKEN_FILE);
        DevIssuer::write_token_file(&path, "first.token.value").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "first.token.value\n"
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            // A token file someone made world-readable is replaced, not rewritten in place.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            DevIssuer::write_token_file(&path, "second.token").unwrap();
            assert_eq!(mode(&path), 0o600);
        }
        #[cfg(not(unix))]
        DevIssuer::write_token_file(&path, "second.token").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second.token\n");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, [DevIssuer::TOKEN_FILE], "no temp file remains");
    }

    #[test]
    fn token_file_errors_name_the_path_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails after the temp file was written.
        let target = dir.path().join("occupied");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "keep").unwrap();
        let err = DevIssuer::write_token_file(&target, "tok").unwrap_err();
        assert!(matches!(err, AuthError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("occupied"), "{err}");
        assert!(!err.to_string().contains("tok\n"), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["occupied"], "the temp file was removed");
        assert!(DevIssuer::write_token_file(Path::new("/"), "tok").is_err());
    }

    #[test]
    fn jwks_has_only_the_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = DevIssuer::load_or_create(dir.path()).unwrap();
        let json = serde_json::to_value(issuer.jwks()).unwrap();
        let key = &json["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], issuer.kid());
        assert!(key.get("d").is_none(), "no private part: {key}");
        assert!(!format!("{issuer:?}").contains("PRIVATE"));
    }

    #[test]
    fn refuses_a_corrupt_key_file_with_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), "not a key").unwrap();
        let err = DevIssuer::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, AuthError::BadDevKey { .. }), "{err:?}");
        assert!(err.to_string().contains("delete it"), "{err}");
    }

    #[test]
    fn minted_claims_look_like_cognito_access_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = DevIssuer::load_or_create(dir.path()).unwrap();
        let scopes = [
            Scope::parse("market-data:*").unwrap(),
            Scope::parse("alerts:list_alerts").unwrap(),
        ];
        let token = issuer
            .mint(
                "alice",
                &scopes,
                &["trader".to_owned()],
                Duration::from_secs(900),
            )
            .unwrap();
        let claims: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
        assert_eq!(claims["iss"], DevIssuer::ISSUER);
        assert_eq!(claims["aud"], DevIssuer::AUDIENCE);
        assert_eq!(claims["client_id"], DevIssuer::CLIENT_ID);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["token_use"], "access");
        assert_eq!(claims["scope"], "market-data:* alerts:list_alerts");
        assert_eq!(claims["cognito:groups"][0], "trader");
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["nbf"].as_i64().unwrap(), iat);
        assert_eq!(claims["exp"].as_i64().unwrap(), iat + 900);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 22);

        let other = issuer
            .mint("alice", &scopes, &[], Duration::from_secs(900))
            .unwrap();
        let other: serde_json::Value =
            jsonwebtoken::dangerous::insecure_decode_claims(&other).unwrap();
        assert_ne!(claims["jti"], other["jti"]);
        assert!(other.get("cognito:groups").is_none());

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some(issuer.kid()));
    }
}
