//! Keys fetched from a JWKS URL: fetched once, shared by concurrent verifications, refetched
//! for unknown kids only within a bound, and rotation picked up.

use std::time::Duration;

use gs_auth::{AuthError, JwksCachePolicy, JwksSource, Verifier};
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

/// Signs once: debug-build RSA signing is slow enough to blur the timings below.
fn primary_token() -> String {
    sign_rs256(&cognito_access_claims())
}

fn short_lived(policy: impl FnOnce(&mut JwksCachePolicy)) -> JwksCachePolicy {
    let mut cache = JwksCachePolicy {
        min_ttl: Duration::ZERO,
        ..JwksCachePolicy::default()
    };
    policy(&mut cache);
    cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_expire_with_max_age_and_are_refetched_before_use() {
    let primary = primary_token();
    let server = JwksServer::start(&primary_set(), Duration::from_millis(200)).await;
    server.serve_with_cache_control(&primary_set(), Some("public, max-age=2"));
    // The default 30 s refetch bound must not delay an expiry refetch.
    let verifier = Verifier::with_jwks_cache(
        rsa_config(JwksSource::Url(server.url.clone())),
        short_lived(|_| {}),
    );
    verifier.verify(&primary).await.unwrap();
    verifier.verify(&primary).await.unwrap();
    assert_eq!(server.requests(), 1, "fresh for max-age");

    // The issuer withdraws the primary key; once our copy expires we must notice.
    server.serve_with_cache_control(
        &jwk_set(vec![rsa_jwk(OTHER_PEM, ROTATED_KID)]),
        Some("max-age=2"),
    );
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let concurrent: Vec<_> = (0..8)
        .map(|_| {
            let verifier = verifier.clone();
            let token = primary.clone();
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    for verification in concurrent {
        let err = verification.await.unwrap().unwrap_err();
        assert!(matches!(err, AuthError::UnknownKey { .. }), "{err:?}");
    }
    assert_eq!(
        server.requests(),
        2,
        "expired keys were refetched once, shared by concurrent verifications"
    );
    let rotated = token_with_kid(ROTATED_KID, OTHER_PEM);
    verifier.verify(&rotated).await.unwrap();
    assert_eq!(server.requests(), 2);
}

/// Fetches once, checks that the keys are still used at half `lifetime`, and that they are
/// refetched (exactly once) a little after it.
async fn assert_lifetime(cache: JwksCachePolicy, cache_control: Option<&str>, lifetime: Duration) {
    let primary = primary_token();
    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    server.serve_with_cache_control(&primary_set(), cache_control);
    let verifier =
        Verifier::with_jwks_cache(rsa_config(JwksSource::Url(server.url.clone())), cache);
    verifier.verify(&primary).await.unwrap();
    tokio::time::sleep(lifetime / 2).await;
    verifier.verify(&primary).await.unwrap();
    assert_eq!(server.requests(), 1, "{cache_control:?}: still fresh");
    tokio::time::sleep(lifetime / 2 + Duration::from_millis(200)).await;
    verifier.verify(&primary).await.unwrap();
    verifier.verify(&primary).await.unwrap();
    assert_eq!(
        server.requests(),
        2,
        "{cache_control:?}: refetched after expiry"
    );
}

#[tokio::test]
async fn no_store_and_no_cache_get_the_floor_not_zero() {
    let floor = Duration::from_millis(1000);
    for cache_control in ["no-store", "no-cache, max-age=3600", "max-age=0"] {
        let cache = short_lived(|c| c.min_ttl = floor);
        assert_lifetime(cache, Some(cache_control), floor).await;
    }
}

#[tokio::test]
async fn without_cache_control_the_default_lifetime_applies() {
    let default = Duration::from_millis(1000);
    assert_lifetime(short_lived(|c| c.default_ttl = default), None, default).await;
}

#[tokio::test]
async fn a_long_max_age_is_capped() {
    let cap = Duration::from_millis(1000);
    assert_lifetime(short_lived(|c| c.max_ttl = cap), Some("max-age=86400"), cap).await;
}

#[tokio::test]
async fn failed_refetch_serves_expired_keys_only_within_the_grace() {
    let primary = primary_token();
    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    server.serve_with_cache_control(&primary_set(), Some("max-age=2"));
    let cache = short_lived(|c| c.min_refetch_interval = Duration::from_millis(300));
    let verifier =
        Verifier::with_jwks_cache(rsa_config(JwksSource::Url(server.url.clone())), cache);
    let fetched = std::time::Instant::now();
    verifier.verify(&primary).await.unwrap();

    server.fail_with(503);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let caller = verifier.verify(&primary).await.unwrap();
    assert_eq!(
        caller.subject, "3f6b-user",
        "expired keys still serve during the grace"
    );
    assert_eq!(server.requests(), 2, "but a refetch was tried first");
    verifier.verify(&primary).await.unwrap();
    assert_eq!(
        server.requests(),
        2,
        "failed refetches are retried within a bound"
    );

    // Past twice max-age the old keys are no longer trusted.
    tokio::time::sleep(Duration::from_millis(4400).saturating_sub(fetched.elapsed())).await;
    let err = verifier.verify(&primary).await.unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
    assert!(!err.is_unauthorized());
    assert_eq!(server.requests(), 3);

    server.serve(&primary_set());
    tokio::time::sleep(Duration::from_millis(400)).await;
    verifier.verify(&primary).await.unwrap();
    assert_eq!(server.requests(), 4, "recovers once the issuer answers");
}

fn source_text(err: &AuthError) -> String {
    std::error::Error::source(err)
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[tokio::test]
async fn oversized_jwks_bodies_are_refused_at_the_cap() {
    let primary = primary_token();
    let server = JwksServer::start(&primary_set(), Duration::ZERO).await;
    let verifier = || Verifier::new(rsa_config(JwksSource::Url(server.url.clone())));

    // Endless and chunked: had the client buffered the body, this would end in a timeout,
    // not in the size error.
    server.serve_chunked_body(usize::MAX);
    let started = std::time::Instant::now();
    let err = verifier().verify(&primary).await.unwrap_err();
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
    let reason = source_text(&err);
    assert!(reason.contains("larger than 65536 bytes"), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // An announced length past the cap is refused before any body is read.
    server.serve_declared_length(100_000_000);
    let err = verifier().verify(&primary).await.unwrap_err();
    assert!(source_text(&err).contains("larger than"), "{err:?}");

    // Just under the cap is fine.
    let set = serde_json::to_string(&primary_set()).unwrap();
    let padded = set.clone() + &" ".repeat(JwksCachePolicy::DEFAULT_MAX_BODY_BYTES - set.len());
    server.serve_text(padded.clone());
    verifier().verify(&primary).await.unwrap();

    // The cap is configurable, and one byte over is over.
    let small = JwksCachePolicy {
        max_body_bytes: padded.len() - 1,
        ..JwksCachePolicy::default()
    };
    let err = Verifier::with_jwks_cache(rsa_config(JwksSource::Url(server.url.clone())), small)
        .verify(&primary)
        .await
        .unwrap_err();
    assert!(source_text(&err).contains("larger than"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_an_outage_only_the_retrying_caller_waits() {
    let primary = primary_token();
    let fetch_time = Duration::from_millis(500);
    let server = JwksServer::start(&primary_set(), fetch_time).await;
    server.serve_with_cache_control(&primary_set(), Some("max-age=3"));
    let cache = short_lived(|c| c.min_refetch_interval = Duration::from_millis(300));
    let verifier =
        Verifier::with_jwks_cache(rsa_config(JwksSource::Url(server.url.clone())), cache);
    verifier.verify(&primary).await.unwrap();

    server.fail_with(503);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    // The first retry after expiry: the caller waits for it, and is served from the grace.
    verifier.verify(&primary).await.unwrap();
    assert_eq!(server.requests(), 2);

    tokio::time::sleep(Duration::from_millis(400)).await;
    let retrying = tokio::spawn({
        let verifier = verifier.clone();
        let token = primary.clone();
        async move { verifier.verify(&token).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = std::time::Instant::now();
    verifier.verify(&primary).await.unwrap();
    assert!(
        started.elapsed() < fetch_time / 2,
        "a concurrent caller does not wait for the retry: {:?}",
        started.elapsed()
    );
    retrying.await.unwrap().unwrap();
    assert_eq!(server.requests(), 3, "one retry");
}
