//! Bearer authentication at the HTTP edge: which tokens open /mcp, and what
//! a refused client is told.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gs_auth::DevIssuer;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

use crate::helpers::{TestApp, initialize_request, spawn_app};

const KEY_FILE: &str = "dev-signing-key.pem";

/// Claims the server accepts: those of a dev-issued access token.
fn good_claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": DevIssuer::ISSUER,
        "aud": DevIssuer::AUDIENCE,
        "sub": "mallory",
        "client_id": DevIssuer::CLIENT_ID,
        "token_use": "access",
        "scope": "*",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn sign(alg: Algorithm, kid: &str, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

/// Signing material from the server's data directory: its real key (so a case
/// can change one claim at a time), the public half of it, and an unrelated key.
struct Forger {
    kid: String,
    key: EncodingKey,
    public_pem: String,
    /// Another P-256 key: right shape, wrong signer.
    other_key: EncodingKey,
}

impl Forger {
    fn for_app(app: &TestApp) -> Forger {
        let issuer = DevIssuer::load_or_create(&app.data_dir).expect("load the dev key");
        let pem = std::fs::read_to_string(app.data_dir.join(KEY_FILE)).expect("read the dev key");
        let public_pem = p256::SecretKey::from_pkcs8_pem(&pem)
            .expect("PKCS#8 P-256 key")
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("encode the public key");
        let elsewhere = tempfile::tempdir().unwrap();
        DevIssuer::load_or_create(elsewhere.path()).expect("create another key");
        let other_pem = std::fs::read_to_string(elsewhere.path().join(KEY_FILE)).unwrap();
        Forger {
            kid: issuer.kid().to_string(),
            key: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            public_pem,
            other_key: EncodingKey::from_ec_pem(other_pem.as_bytes()).unwrap(),
        }
    }

    fn es256(&self, claims: &Value) -> String {
        sign(Algorithm::ES256, &self.kid, claims, &self.key)
    }
}

fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn metadata_challenge(app: &TestApp) -> String {
    format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
        app.base_url
    )
}

/// Posts `initialize` with `token` and checks the refusal: 401, a Bearer
/// challenge pointing at the metadata with `error="invalid_token"`, and no
/// trace of the token in the header or the body.
async fn assert_refused(app: &TestApp, case: &str, token: &str) {
    let response = app
        .post_mcp(&initialize_request("2025-11-25"), Some(token))
        .await;
    assert_eq!(response.status(), 401, "{case}: status");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .unwrap_or_else(|| panic!("{case}: no WWW-Authenticate"))
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.starts_with(&metadata_challenge(app)),
        "{case}: challenge {challenge}"
    );
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{case}: challenge {challenge}"
    );
    let body = response.text().await.unwrap();
    let body_json: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{case}: 401 body is not JSON ({e}): {body}"));
    assert_eq!(body_json["error"], "invalid_token", "{case}: {body}");
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!body.contains(part), "{case}: the body echoes the token");
        assert!(
            !challenge.contains(part),
            "{case}: the challenge echoes the token"
        );
    }
}

#[tokio::test]
async fn missing_token_is_challenged_with_the_resource_metadata_url() {
    let app = spawn_app().await;

    let response = app.post_mcp(&initialize_request("2025-11-25"), None).await;
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(challenge, metadata_challenge(&app));

    // Another scheme is no bearer token either.
    let response = app
        .http
        .post(&app.mcp_url)
        .header("Accept", "application/json, text/event-stream")
        .header("Authorization", format!("Basic {}", app.token))
        .json(&initialize_request("2025-11-25"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(!response.text().await.unwrap().contains(&app.token));
}

#[tokio::test]
async fn only_genuine_unexpired_access_tokens_open_the_endpoint() {
    let app = spawn_app().await;
    let forger = Forger::for_app(&app);
    let now = chrono::Utc::now().timestamp();

    // The forging machinery itself is sound: unchanged claims are accepted,
    // so each refusal below is caused by the one thing the case changes.
    let control = forger.es256(&good_claims());
    let response = app
        .post_mcp(&initialize_request("2025-11-25"), Some(&control))
        .await;
    assert_eq!(response.status(), 200, "control token must be accepted");

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-token".to_string()),
        (
            "three garbage segments",
            "aaaa.bbbbbbbbb.cccccccc".to_string(),
        ),
        (
            "expired an hour ago",
            forger.es256(&with(good_claims(), "exp", json!(now - 3600))),
        ),
        (
            "not valid for another hour",
            forger.es256(&with(good_claims(), "nbf", json!(now + 3600))),
        ),
        (
            "wrong issuer",
            forger.es256(&with(
                good_claims(),
                "iss",
                json!("https://evil.example.com"),
            )),
        ),
        (
            "no issuer",
            forger.es256(&{
                let mut c = good_claims();
                c.as_object_mut().unwrap().remove("iss");
                c
            }),
        ),
        (
            "no expiry",
            forger.es256(&{
                let mut c = good_claims();
                c.as_object_mut().unwrap().remove("exp");
                c
            }),
        ),
        (
            "no subject",
            forger.es256(&{
                let mut c = good_claims();
                c.as_object_mut().unwrap().remove("sub");
                c
            }),
        ),
        (
            "empty subject",
            forger.es256(&with(good_claims(), "sub", json!(""))),
        ),
        (
            "oversized",
            forger.es256(&with(good_claims(), "pad", json!("x".repeat(20_000)))),
        ),
        (
            "wrong audience",
            forger.es256(&with(good_claims(), "aud", json!("someone-else"))),
        ),
        (
            "id token",
            forger.es256(&with(good_claims(), "token_use", json!("id"))),
        ),
        (
            "signed by another key under our kid",
            sign(
                Algorithm::ES256,
                &forger.kid,
                &good_claims(),
                &forger.other_key,
            ),
        ),
        (
            "alg none",
            unsigned(
                &json!({"alg": "none", "typ": "JWT", "kid": forger.kid}),
                &good_claims(),
            ),
        ),
        (
            "HS256 keyed with the public key",
            sign(
                Algorithm::HS256,
                &forger.kid,
                &good_claims(),
                &EncodingKey::from_secret(forger.public_pem.as_bytes()),
            ),
        ),
        (
            "unknown kid",
            sign(Algorithm::ES256, "no-such-key", &good_claims(), &forger.key),
        ),
        ("tampered claims", {
            let genuine = forger.es256(&good_claims());
            let mut parts: Vec<String> = genuine.split('.').map(str::to_string).collect();
            parts[1] = URL_SAFE_NO_PAD.encode(
                with(good_claims(), "sub", json!("admin"))
                    .to_string()
                    .as_bytes(),
            );
            parts.join(".")
        }),
    ];
    for (case, token) in &cases {
        assert_refused(&app, case, token).await;
    }

    // The server's own dev token and a CLI-minted one still work afterwards.
    for token in [app.token.clone(), app.mint_token(&["--scopes", "*"])] {
        let response = app
            .post_mcp(&initialize_request("2025-11-25"), Some(&token))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["result"]["serverInfo"]["name"], "goldensignals");
    }
}
