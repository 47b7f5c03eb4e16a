//! Which tokens are accepted and, for each kind of refusal, that it is reported as such.

use std::time::Duration;

use gs_auth::{AuthError, DevIssuer, JwksSource, Policy, Scope, Verifier};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use crate::harness::*;

fn rsa_verifier() -> Verifier {
    Verifier::new(static_rsa_config())
}

fn dev_issuer() -> (tempfile::TempDir, DevIssuer) {
    let dir = tempfile::tempdir().unwrap();
    let issuer = DevIssuer::load_or_create(dir.path()).unwrap();
    (dir, issuer)
}

async fn refusal(verifier: &Verifier, token: &str) -> AuthError {
    let err = verifier
        .verify(token)
        .await
        .expect_err("token should be refused");
    assert!(err.is_unauthorized(), "{err:?} should be a 401");
    err
}

#[tokio::test]
async fn dev_issuer_es256_token_is_accepted() {
    let (_dir, issuer) = dev_issuer();
    let scopes = [Scope::parse("portfolio:get_positions").unwrap()];
    let token = issuer
        .mint(
            "alice",
            &scopes,
            &["viewer".to_owned()],
            Duration::from_secs(900),
        )
        .unwrap();
    let verifier = Verifier::new(issuer.verifier_config());

    let caller = verifier.verify(&token).await.unwrap();
    assert_eq!(caller.subject, "alice");
    assert_eq!(caller.client_id.as_deref(), Some(DevIssuer::CLIENT_ID));
    assert_eq!(caller.scopes, scopes);
    assert_eq!(caller.groups, ["viewer"]);
    assert!((caller.expires_at - (now() + 900)).abs() <= 2);

    let permissions = caller.permissions(&Policy::default_policy());
    assert!(
        permissions.allows("portfolio", "get_positions"),
        "token scope"
    );
    assert!(
        permissions.allows("market-data", "get_quote"),
        "viewer role"
    );
    assert!(!permissions.allows("portfolio", "place_order"));
}

#[tokio::test]
async fn dev_issuer_key_survives_a_restart() {
    let (dir, issuer) = dev_issuer();
    let token = issuer
        .mint("alice", &[], &[], Duration::from_secs(60))
        .unwrap();
    let reloaded = DevIssuer::load_or_create(dir.path()).unwrap();
    let verifier = Verifier::new(reloaded.verifier_config());
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn token_of_another_dev_issuer_is_refused() {
    let (_dir_a, issuer_a) = dev_issuer();
    let (_dir_b, issuer_b) = dev_issuer();
    let token = issuer_a
        .mint("alice", &[], &[], Duration::from_secs(60))
        .unwrap();
    let verifier = Verifier::new(issuer_b.verifier_config());
    let err = refusal(&verifier, &token).await;
    assert!(matches!(err, AuthError::UnknownKey { .. }), "{err:?}");
}

#[tokio::test]
async fn cognito_rs256_access_token_is_accepted() {
    let caller = rsa_verifier()
        .verify(&sign_rs256(&cognito_access_claims()))
        .await
        .unwrap();
    assert_eq!(caller.subject, "3f6b-user");
    assert_eq!(caller.client_id.as_deref(), Some(CLIENT_ID));
    let scopes: Vec<&str> = caller.scopes.iter().map(Scope::as_str).collect();
    assert_eq!(
        scopes,
        ["market-data:*", "alerts:list_alerts"],
        "openid dropped, prefix stripped"
    );
    assert_eq!(caller.groups, ["analyst"]);
}

#[tokio::test]
async fn rs256_token_with_aud_is_accepted() {
    let mut claims = cognito_access_claims();
    claims.as_object_mut().unwrap().remove("client_id");
    claims["aud"] = json!(API_AUDIENCE);
    let caller = rsa_verifier().verify(&sign_rs256(&claims)).await.unwrap();
    assert_eq!(caller.client_id, None);

    claims["aud"] = json!(["some-other-api", API_AUDIENCE]);
    assert!(
        rsa_verifier().verify(&sign_rs256(&claims)).await.is_ok(),
        "aud as an array"
    );
}

#[tokio::test]
async fn missing_token_is_refused() {
    let err = refusal(&rsa_verifier(), "").await;
    assert!(matches!(err, AuthError::MissingToken), "{err:?}");
}

#[tokio::test]
async fn garbage_tokens_are_refused_as_malformed() {
    let verifier = rsa_verifier();
    let valid = sign_rs256(&cognito_access_claims());
    let (header, rest) = valid.split_once('.').unwrap();
    let (claims, _) = rest.split_once('.').unwrap();
    for garbage in [
        "Bearer".to_owned(),
        "not-a-jwt".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d.e".to_owned(),
        "!!!.???.***".to_owned(),
        format!("{header}.{claims}"),
        format!("Bearer {valid}"),
        format!("{}.{claims}.sig", "e30"), // header `{}`: no alg
        "x".repeat(20_000),
    ] {
        let err = refusal(&verifier, &garbage).await;
        assert!(
            matches!(
                err,
                AuthError::MalformedToken { .. } | AuthError::DisallowedAlgorithm { .. }
            ),
            "{garbage:.40}: {err:?}"
        );
    }
    // Behind a good header the signature is checked first, so broken claims or signatures
    // may surface as either.
    for broken in [
        format!("{header}.bm90IGpzb24.c2ln"),
        format!("{header}.!!!.sig"),
        format!("{header}.{claims}.!!!"),
        format!("{header}.{claims}."),
    ] {
        let err = refusal(&verifier, &broken).await;
        assert!(
            matches!(
                err,
                AuthError::MalformedToken { .. } | AuthError::BadSignature { .. }
            ),
            "{broken:.40}: {err:?}"
        );
    }
}

#[tokio::test]
async fn expired_token_is_refused_beyond_the_leeway() {
    let verifier = rsa_verifier();
    let mut claims = cognito_access_claims();
    claims["exp"] = json!(now() - 120);
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::Expired), "{err:?}");

    claims["exp"] = json!(now() - 10);
    assert!(
        verifier.verify(&sign_rs256(&claims)).await.is_ok(),
        "within 30 s leeway"
    );

    claims.as_object_mut().unwrap().remove("exp");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(
        matches!(err, AuthError::MissingClaim { ref claim } if claim == "exp"),
        "{err:?}"
    );
}

#[tokio::test]
async fn not_yet_valid_token_is_refused_beyond_the_leeway() {
    let verifier = rsa_verifier();
    let mut claims = cognito_access_claims();
    claims["nbf"] = json!(now() + 120);
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::NotYetValid), "{err:?}");

    claims["nbf"] = json!(now() + 10);
    assert!(
        verifier.verify(&sign_rs256(&claims)).await.is_ok(),
        "within 30 s leeway"
    );
}

#[tokio::test]
async fn wrong_or_missing_issuer_is_refused() {
    let verifier = rsa_verifier();
    let mut claims = cognito_access_claims();
    claims["iss"] = json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::WrongIssuer), "{err:?}");

    claims.as_object_mut().unwrap().remove("iss");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(
        matches!(err, AuthError::MissingClaim { ref claim } if claim == "iss"),
        "{err:?}"
    );
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let verifier = rsa_verifier();
    let mut claims = cognito_access_claims();
    claims.as_object_mut().unwrap().remove("client_id");
    claims["aud"] = json!("some-other-api");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::WrongAudience), "{err:?}");

    claims["aud"] = json!([]);
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::WrongAudience), "{err:?}");
}

#[tokio::test]
async fn cognito_client_id_stands_in_for_a_missing_aud() {
    let verifier = rsa_verifier();
    let mut claims = cognito_access_claims();
    assert!(claims.get("aud").is_none());
    assert!(
        verifier.verify(&sign_rs256(&claims)).await.is_ok(),
        "client_id matches"
    );

    claims["client_id"] = json!("another-app-client");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::WrongAudience), "{err:?}");

    claims.as_object_mut().unwrap().remove("client_id");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(
        matches!(err, AuthError::WrongAudience),
        "neither aud nor client_id: {err:?}"
    );

    // A present but foreign `aud` is not rescued by a matching client_id.
    claims["client_id"] = json!(CLIENT_ID);
    claims["aud"] = json!("some-other-api");
    let err = refusal(&verifier, &sign_rs256(&claims)).await;
    assert!(matches!(err, AuthError::WrongAudience), "{err:?}");
}

#[tokio::test]
async fn id_token_is_refused() {
    let mut claims = cognito_access_claims();
    let claims_map = claims.as_object_mut().unwrap();
    claims_map.remove("client_id");
    claims_map.remove("scope");
    claims["aud"] = json!(CLIENT_ID);
    claims["token_use"] = json!("id");
    claims["email"] = json!("alice@example.com");
    let err = refusal(&rsa_verifier(), &sign_rs256(&claims)).await;
    assert!(
        matches!(err, AuthError::NotAccessToken { ref token_use } if token_use == "id"),
        "{err:?}"
    );
}

#[tokio::test]
async fn token_without_token_use_is_accepted() {
    let mut claims = cognito_access_claims();
    claims.as_object_mut().unwrap().remove("token_use");
    assert!(rsa_verifier().verify(&sign_rs256(&claims)).await.is_ok());
}

#[tokio::test]
async fn token_signed_by_another_key_under_our_kid_is_refused() {
    let token = sign(
        Algorithm::RS256,
        Some(PRIMARY_KID),
        &cognito_access_claims(),
        &rsa_key(OTHER_PEM),
    );
    let err = refusal(&rsa_verifier(), &token).await;
    assert!(matches!(err, AuthError::BadSignature { .. }), "{err:?}");
}

#[tokio::test]
async fn tampered_claims_are_refused() {
    let token = sign_rs256(&cognito_access_claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut claims = cognito_access_claims();
    claims["cognito:groups"] = json!(["admin"]);
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims.to_string(),
    );
    parts[1] = &forged;
    let err = refusal(&rsa_verifier(), &parts.join(".")).await;
    assert!(matches!(err, AuthError::BadSignature { .. }), "{err:?}");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let claims = cognito_access_claims();
    for alg in ["none", "None", "NONE", ""] {
        let token = hand_built(
            &json!({"alg": alg, "kid": PRIMARY_KID, "typ": "JWT"}),
            &claims,
            b"",
        );
        let err = refusal(&rsa_verifier(), &token).await;
        assert!(
            matches!(err, AuthError::DisallowedAlgorithm { .. }),
            "{alg}: {err:?}"
        );
    }
    let token = hand_built(&json!({"kid": PRIMARY_KID}), &claims, b"");
    let err = refusal(&rsa_verifier(), &token).await;
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { .. }),
        "no alg: {err:?}"
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let hmac_with_public_key = EncodingKey::from_secret(PRIMARY_PUBLIC_PEM.as_bytes());
    let token = sign(
        Algorithm::HS256,
        Some(PRIMARY_KID),
        &cognito_access_claims(),
        &hmac_with_public_key,
    );
    let err = refusal(&rsa_verifier(), &token).await;
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { ref alg } if alg == "HS256"),
        "{err:?}"
    );

    // Even a configuration that lists HS256 never lets a key set's public key act as a secret.
    let mut config = static_rsa_config();
    config.algorithms.push(Algorithm::HS256);
    let err = refusal(&Verifier::new(config), &token).await;
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn algorithm_not_configured_is_refused_before_key_lookup() {
    let (_dir, issuer) = dev_issuer();
    let mut config = issuer.verifier_config();
    config.algorithms = vec![Algorithm::RS256];
    let token = issuer
        .mint("alice", &[], &[], Duration::from_secs(60))
        .unwrap();
    let err = refusal(&Verifier::new(config), &token).await;
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { ref alg } if alg == "ES256"),
        "{err:?}"
    );
}

#[tokio::test]
async fn algorithm_of_the_wrong_key_type_is_refused() {
    // An RS256 header naming the EC key: the key must not be used with another family.
    let (_dir, issuer) = dev_issuer();
    let mut config = issuer.verifier_config();
    config.algorithms = vec![Algorithm::RS256, Algorithm::ES256];
    let claims = json!({
        "sub": "alice", "iss": DevIssuer::ISSUER, "aud": DevIssuer::AUDIENCE,
        "exp": now() + 60, "token_use": "access",
    });
    let token = sign(
        Algorithm::RS256,
        Some(issuer.kid()),
        &claims,
        &rsa_key(PRIMARY_PEM),
    );
    let err = refusal(&Verifier::new(config), &token).await;
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_or_missing_kid_is_refused() {
    let verifier = rsa_verifier();
    let claims = cognito_access_claims();
    let token = sign(
        Algorithm::RS256,
        Some("no-such-key"),
        &claims,
        &rsa_key(PRIMARY_PEM),
    );
    let err = refusal(&verifier, &token).await;
    assert!(
        matches!(err, AuthError::UnknownKey { ref kid } if kid == "no-such-key"),
        "{err:?}"
    );

    let token = sign(Algorithm::RS256, None, &claims, &rsa_key(PRIMARY_PEM));
    let err = refusal(&verifier, &token).await;
    assert!(matches!(err, AuthError::MissingKeyId), "{err:?}");
}

#[tokio::test]
async fn token_without_subject_is_refused() {
    let mut claims = cognito_access_claims();
    claims.as_object_mut().unwrap().remove("sub");
    let err = refusal(&rsa_verifier(), &sign_rs256(&claims)).await;
    assert!(
        matches!(err, AuthError::MissingClaim { ref claim } if claim == "sub"),
        "{err:?}"
    );
}

#[tokio::test]
async fn symmetric_keys_in_a_key_set_are_ignored() {
    let secret = b"shared-secret-that-must-not-count";
    let oct: jsonwebtoken::jwk::Jwk = serde_json::from_value(json!({
        "kty": "oct", "kid": "hmac", "alg": "HS256",
        "k": base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, secret),
    }))
    .unwrap();
    let mut config = rsa_config(JwksSource::Static(jwk_set(vec![oct])));
    config.algorithms.push(Algorithm::HS256);
    let token = sign(
        Algorithm::HS256,
        Some("hmac"),
        &cognito_access_claims(),
        &EncodingKey::from_secret(secret),
    );
    let err = refusal(&Verifier::new(config), &token).await;
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn errors_never_echo_the_token() {
    let mut claims = cognito_access_claims();
    claims["exp"] = json!(now() - 3600);
    let token = sign_rs256(&claims);
    let err = refusal(&rsa_verifier(), &token).await;
    let signature = token.rsplit('.').next().unwrap();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(signature), "{text}");
    }
}

#[tokio::test]
async fn only_configured_resource_servers_grant_prefixed_scopes() {
    let mut claims = cognito_access_claims();
    claims["scope"] = serde_json::json!(
        "other-api/* https://other.example/market-data:* goldensignals/alerts:list_alerts"
    );
    let token = sign_rs256(&claims);

    let caller = rsa_verifier().verify(&token).await.unwrap();
    let scopes: Vec<&str> = caller.scopes.iter().map(Scope::as_str).collect();
    assert_eq!(
        scopes,
        ["alerts:list_alerts"],
        "other APIs' scopes are ignored"
    );

    let mut config = static_rsa_config();
    config.resource_server_ids.clear();
    let caller = Verifier::new(config).verify(&token).await.unwrap();
    assert!(caller.scopes.is_empty(), "{:?}", caller.scopes);
}
