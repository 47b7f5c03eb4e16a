//! Call-context signatures on both MAC keys: the local key file and a KMS
//! HMAC_256 key on the AWS emulator.

use gs_crypto::{CryptoError, KmsMac, LocalMac, MacKey};

async fn signatures_verify_only_their_message(mine: &dyn MacKey, other: &dyn MacKey) {
    let message = b"{\"tool\":\"get_quote\",\"expires\":1}";
    let mac = mine.sign(message).await.unwrap();
    assert_eq!(mac.len(), 32, "HMAC-SHA-256");
    mine.verify(message, &mac).await.unwrap();
    let refused = |r: Result<(), CryptoError>, what: &str| {
        assert!(matches!(r, Err(CryptoError::Refused(_))), "{what}: {r:?}");
    };
    let mut altered = message.to_vec();
    altered[3] ^= 1;
    refused(mine.verify(&altered, &mac).await, "altered message");
    let mut bad = mac.clone();
    bad[0] ^= 1;
    refused(mine.verify(message, &bad).await, "altered signature");
    refused(
        mine.verify(message, &mac[..16]).await,
        "truncated signature",
    );
    refused(other.verify(message, &mac).await, "another key");
}

#[tokio::test]
async fn local_signatures() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mine = LocalMac::open_or_create(a.path()).unwrap();
    let other = LocalMac::open_or_create(b.path()).unwrap();
    signatures_verify_only_their_message(&mine, &other).await;
    // The key survives a reopen.
    let mac = mine.sign(b"m").await.unwrap();
    LocalMac::open_or_create(a.path())
        .unwrap()
        .verify(b"m", &mac)
        .await
        .unwrap();
}

async fn hmac_key(client: &aws_sdk_kms::Client) -> String {
    gs_crypto::create_key(client, gs_crypto::KeyKind::Mac, "test")
        .await
        .unwrap()
}

#[tokio::test]
async fn kms_signatures() {
    let client = aws_sdk_kms::Client::new(&gs_aws_emulator::sdk_config());
    let mine = KmsMac::new(client.clone(), hmac_key(&client).await);
    let other = KmsMac::new(client.clone(), hmac_key(&client).await);
    signatures_verify_only_their_message(&mine, &other).await;
}
