//! The field-cipher contract, run on every key provider (`local.rs`,
//! `kms.rs`). Each case takes a function that builds a fresh envelope over
//! the same master key, so a second "instance" can read what the first
//! sealed.

use std::time::Duration;

use gs_crypto::{CachePolicy, CryptoError, Envelope, FieldCipher, FieldContext, KeyProvider};

pub fn ctx(field: &str) -> FieldContext {
    FieldContext::new("goldensignals", "audit", field)
}

fn refused<T: std::fmt::Debug>(r: Result<T, CryptoError>, what: &str) {
    assert!(
        matches!(r, Err(CryptoError::Refused(_))),
        "{what}: expected Refused, got {r:?}"
    );
}

pub async fn values_round_trip<P: KeyProvider>(make: impl Fn() -> Envelope<P>) {
    let env = make();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for value in [&b""[..], b"\0\xff secret", "ünïcødé".as_bytes(), &big] {
        let sealed = env.encrypt(&ctx("params"), value).await.unwrap();
        assert_eq!(sealed.first(), Some(&1), "format version 1");
        if value.len() >= 4 {
            assert!(
                !sealed.windows(value.len()).any(|w| w == value),
                "the plaintext must not appear in the ciphertext"
            );
        }
        assert_eq!(env.decrypt(&ctx("params"), &sealed).await.unwrap(), value);
        // Another instance with an empty cache reads it too.
        assert_eq!(
            make().decrypt(&ctx("params"), &sealed).await.unwrap(),
            value
        );
    }
    let a = env.encrypt(&ctx("params"), b"same").await.unwrap();
    let b = env.encrypt(&ctx("params"), b"same").await.unwrap();
    assert_ne!(a, b, "random nonces: equal values seal differently");
}

pub async fn another_context_is_refused<P: KeyProvider>(make: impl Fn() -> Envelope<P>) {
    let env = make();
    let sealed = env.encrypt(&ctx("params"), b"api_key=abc").await.unwrap();
    let others = [
        ctx("client_ip"),
        FieldContext::new("goldensignals", "portfolio", "params"),
        FieldContext::new("other-table", "audit", "params"),
    ];
    for other in &others {
        // Through the envelope that sealed it (its caches are warm) and
        // through a fresh one.
        refused(env.decrypt(other, &sealed).await, "same envelope");
        refused(make().decrypt(other, &sealed).await, "fresh envelope");
    }
    assert_eq!(
        env.decrypt(&ctx("params"), &sealed).await.unwrap(),
        b"api_key=abc"
    );
}

/// `key_service_may_refuse`: whether a tampered wrapped key may come back as
/// `KeyService` instead of `Refused`. moto answers a KMS blob whose key id
/// was altered with AccessDeniedException, where KMS itself answers
/// InvalidCiphertextException (which maps to `Refused`); either way nothing
/// decrypts.
pub async fn tampered_ciphertexts_are_refused<P: KeyProvider>(
    make: impl Fn() -> Envelope<P>,
    key_service_may_refuse: bool,
) {
    let env = make();
    let sealed = env.encrypt(&ctx("params"), b"order 42").await.unwrap();
    let wrapped_len = usize::from(u16::from_be_bytes([sealed[1], sealed[2]]));
    let positions = [
        0,                    // the format version
        3,                    // inside the wrapped data key
        3 + wrapped_len - 1,  // its last byte
        3 + wrapped_len,      // the nonce
        3 + wrapped_len + 12, // the sealed value
        sealed.len() - 1,     // the tag
    ];
    for at in positions {
        let mut bad = sealed.clone();
        bad[at] ^= 0x01;
        let in_wrapped_key = (3..3 + wrapped_len).contains(&at);
        for (r, fresh) in [
            (env.decrypt(&ctx("params"), &bad).await, ""),
            (make().decrypt(&ctx("params"), &bad).await, ", fresh"),
        ] {
            if key_service_may_refuse && in_wrapped_key {
                assert!(
                    matches!(r, Err(CryptoError::Refused(_) | CryptoError::KeyService(_))),
                    "byte {at}{fresh}: {r:?}"
                );
            } else {
                refused(r, &format!("byte {at}{fresh}"));
            }
        }
    }
    for cut in [0, 1, 3, sealed.len() - 1] {
        refused(
            env.decrypt(&ctx("params"), &sealed[..cut]).await,
            &format!("cut at {cut}"),
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    refused(
        env.decrypt(&ctx("params"), &longer).await,
        "a byte appended",
    );
}

pub async fn data_key_cache_is_bounded<P: KeyProvider>(make: impl Fn(CachePolicy) -> Envelope<P>) {
    let by_uses = make(CachePolicy {
        max_age: Duration::from_secs(3600),
        max_uses: 3,
        max_entries: 10,
    });
    let mut sealed = Vec::new();
    for n in 0..7u8 {
        sealed.push(by_uses.encrypt(&ctx("params"), &[n]).await.unwrap());
    }
    assert_eq!(by_uses.stats().generated, 3, "7 values at 3 per data key");
    // A second context gets its own key.
    by_uses.encrypt(&ctx("other"), b"x").await.unwrap();
    assert_eq!(by_uses.stats().generated, 4);
    // Decryption: the first three share one data key, unwrapped once per 3 uses.
    let reader = make(CachePolicy {
        max_age: Duration::from_secs(3600),
        max_uses: 2,
        max_entries: 10,
    });
    for s in sealed.iter().take(3) {
        reader.decrypt(&ctx("params"), s).await.unwrap();
    }
    reader.decrypt(&ctx("params"), &sealed[0]).await.unwrap();
    assert_eq!(
        reader.stats().unwrapped,
        2,
        "4 reads of one key at 2 uses each"
    );

    let by_age = make(CachePolicy {
        max_age: Duration::from_millis(300),
        max_uses: 1_000,
        max_entries: 10,
    });
    by_age.encrypt(&ctx("params"), b"a").await.unwrap();
    by_age.encrypt(&ctx("params"), b"b").await.unwrap();
    assert_eq!(by_age.stats().generated, 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    by_age.encrypt(&ctx("params"), b"c").await.unwrap();
    assert_eq!(
        by_age.stats().generated,
        2,
        "an expired data key is replaced"
    );

    // At most max_entries unwrapped keys are kept.
    let few = make(CachePolicy {
        max_age: Duration::from_secs(3600),
        max_uses: 1_000,
        max_entries: 1,
    });
    let (one, two) = (sealed[0].clone(), sealed[3].clone());
    few.decrypt(&ctx("params"), &one).await.unwrap();
    few.decrypt(&ctx("params"), &two).await.unwrap();
    few.decrypt(&ctx("params"), &one).await.unwrap();
    assert_eq!(
        few.stats().unwrapped,
        3,
        "one slot: the first key was evicted"
    );
}
