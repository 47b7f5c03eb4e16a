//! The field-cipher contract on AWS KMS, through the real SDK against the
//! AWS emulator (moto).

mod cases;

use gs_crypto::{CachePolicy, Envelope, KmsKeys};

/// A new symmetric KMS key on the emulator.
async fn new_key() -> KmsKeys {
    let client = aws_sdk_kms::Client::new(&gs_aws_emulator::sdk_config());
    let id = gs_crypto::create_key(&client, gs_crypto::KeyKind::Encryption, "test")
        .await
        .unwrap();
    KmsKeys::new(client, id)
}

#[tokio::test]
async fn values_round_trip() {
    let keys = new_key().await;
    cases::values_round_trip(|| Envelope::new(keys.clone(), CachePolicy::default())).await;
}

#[tokio::test]
async fn another_context_is_refused() {
    let keys = new_key().await;
    cases::another_context_is_refused(|| Envelope::new(keys.clone(), CachePolicy::default())).await;
}

#[tokio::test]
async fn tampered_ciphertexts_are_refused() {
    let keys = new_key().await;
    cases::tampered_ciphertexts_are_refused(
        || Envelope::new(keys.clone(), CachePolicy::default()),
        true,
    )
    .await;
}

#[tokio::test]
async fn data_key_cache_is_bounded() {
    let keys = new_key().await;
    cases::data_key_cache_is_bounded(|policy| Envelope::new(keys.clone(), policy)).await;
}

#[tokio::test]
async fn another_kms_key_cannot_unwrap() {
    use gs_crypto::{CryptoError, FieldCipher};
    let (mine, theirs) = (new_key().await, new_key().await);
    let sealed = Envelope::new(mine, CachePolicy::default())
        .encrypt(&cases::ctx("params"), b"x")
        .await
        .unwrap();
    let r = Envelope::new(theirs, CachePolicy::default())
        .decrypt(&cases::ctx("params"), &sealed)
        .await;
    // Real KMS answers IncorrectKeyException (Refused); moto answers
    // AccessDeniedException (KeyService). Either way nothing is revealed.
    assert!(
        matches!(r, Err(CryptoError::Refused(_) | CryptoError::KeyService(_))),
        "{r:?}"
    );
}
