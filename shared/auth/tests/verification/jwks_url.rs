//! Keys fetched from a JWKS URL: fetched once, shared by concurrent verifications, refetched
//! for unknown kids only within a bound, and rotation picked up.

use std::time::Duration;

use gs_auth::{AuthError, JwksSource, Verifier};
use jsonwebtoken::Algorithm;

use crate::harness::*;

const ROTATED_KID: &str = "rsa-rotated";

fn primary_set() -> jsonwebtoken::jwk::JwkSet {
    jwk_set(vec![rsa_jwk(PRIMARY_PEM, PRIMARY_KID)])
}

fn token_with_kid(kid: &str, pem: &str) -> String {
    sign(
        Algorithm::RS256,
        Some(kid),
        &cognito_access_claims(),
        &rsa_key(pem),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_verifications_fetch_the_jwks_once() {
    // The delay keeps the first fetch in flight while the other verifications arrive.
    let server = JwksServer::start(&primary_set(), Duration::from_millis(300)).await;
    let verifier = Verifier::new(rsa_config(JwksSource::Url(server.url.clone())));
    let token = sign_rs256(&cognito_access_claims());

    let concurrent: Vec<_> = (0..16)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for verification in concurrent {
        verification.await.unwrap().unwrap();
    }
    assert_eq!(
        server.requests(),
        1,
        "concurrent verifications share one fetch"
    );

    for _ in 0..50 {
        verifier.verify(&token).await.unwrap();
    }
    assert_eq!(server.requests(), 1, "keys are cached");
}

#[tokio::test]
async fn unknown_kids_cannot_hammer_the_jwks_endpoint() {
    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    let verifier = Verifier::new(rsa_config(JwksSource::Url(server.url.clone())));
    verifier
        .verify(&sign_rs256(&cognito_access_claims()))
        .await
        .unwrap();
    assert_eq!(server.requests(), 1);

    let random: Vec<String> = (0..50)
        .map(|i| token_with_kid(&format!("random-{i}"), PRIMARY_PEM))
        .collect();
    for token in &random {
        let err = verifier.verify(token).await.unwrap_err();
        assert!(matches!(err, AuthError::UnknownKey { .. }), "{err:?}");
    }
    assert_eq!(
        server.requests(),
        1,
        "within the default 30 s interval no refetch happens"
    );
}

#[tokio::test]
async fn unknown_kid_refetches_within_the_bound_and_finds_a_rotated_key() {
    let interval = Duration::from_millis(800);
    // Signed up front so that slow debug-build RSA signing cannot eat into the interval.
    let primary = sign_rs256(&cognito_access_claims());
    let rotated = token_with_kid(ROTATED_KID, OTHER_PEM);
    let random: Vec<String> = (0..20)
        .map(|i| token_with_kid(&format!("random-{i}"), OTHER_PEM))
        .collect();

    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    let verifier =
        Verifier::with_refetch_interval(rsa_config(JwksSource::Url(server.url.clone())), interval);
    verifier.verify(&primary).await.unwrap();
    assert_eq!(server.requests(), 1);

    // The issuer rotates a new key in; a token signed with it arrives right away.
    server.serve(&jwk_set(vec![
        rsa_jwk(PRIMARY_PEM, PRIMARY_KID),
        rsa_jwk(OTHER_PEM, ROTATED_KID),
    ]));
    let err = verifier.verify(&rotated).await.unwrap_err();
    assert!(
        matches!(err, AuthError::UnknownKey { .. }),
        "too soon: {err:?}"
    );
    for token in &random {
        let _ = verifier.verify(token).await;
    }
    assert_eq!(server.requests(), 1, "no refetch inside the interval");

    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    let caller = verifier.verify(&rotated).await.unwrap();
    assert_eq!(caller.subject, "3f6b-user");
    assert_eq!(server.requests(), 2, "one refetch found the rotated key");
    verifier.verify(&primary).await.unwrap();
    assert_eq!(server.requests(), 2);

    // After the interval an unknown kid refetches once more, then the bound applies again.
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    for token in &random {
        let err = verifier.verify(token).await.unwrap_err();
        assert!(matches!(err, AuthError::UnknownKey { .. }), "{err:?}");
    }
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn unreachable_jwks_is_a_server_side_error_and_recovers() {
    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    server.fail_with(503);
    let interval = Duration::from_millis(500);
    let verifier =
        Verifier::with_refetch_interval(rsa_config(JwksSource::Url(server.url.clone())), interval);
    let token = sign_rs256(&cognito_access_claims());

    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
    assert!(!err.is_unauthorized(), "not the caller's fault");
    assert!(
        std::error::Error::source(&err).is_some(),
        "keeps the HTTP error"
    );
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
    assert_eq!(server.requests(), 1, "failures are rate-limited too");

    server.serve(&primary_set());
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    verifier.verify(&token).await.unwrap();
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn closed_port_and_non_jwks_bodies_are_jwks_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    drop(listener);
    let verifier = Verifier::new(rsa_config(JwksSource::Url(closed)));
    let err = verifier
        .verify(&sign_rs256(&cognito_access_claims()))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");

    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    server.fail_with(200); // `{}`: valid JSON, not a key set
    let verifier = Verifier::new(rsa_config(JwksSource::Url(server.url.clone())));
    let err = verifier
        .verify(&sign_rs256(&cognito_access_claims()))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn refused_algorithms_never_reach_the_jwks_endpoint() {
    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    let verifier = Verifier::new(rsa_config(JwksSource::Url(server.url.clone())));
    let token = hand_built(
        &serde_json::json!({"alg": "none", "kid": "whatever"}),
        &cognito_access_claims(),
        b"",
    );
    let err = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(err, AuthError::DisallowedAlgorithm { .. }),
        "{err:?}"
    );
    assert_eq!(server.requests(), 0);
}
