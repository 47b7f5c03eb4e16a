//! The field-cipher contract on the local key file.

mod cases;

use gs_crypto::{CachePolicy, CryptoError, Envelope, LocalKeys};

fn maker(dir: &std::path::Path) -> impl Fn() -> Envelope<LocalKeys> + '_ {
    move || {
        Envelope::new(
            LocalKeys::open_or_create(dir).unwrap(),
            CachePolicy::default(),
        )
    }
}

#[tokio::test]
async fn values_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    cases::values_round_trip(maker(dir.path())).await;
}

#[tokio::test]
async fn another_context_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    cases::another_context_is_refused(maker(dir.path())).await;
}

#[tokio::test]
async fn tampered_ciphertexts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    cases::tampered_ciphertexts_are_refused(maker(dir.path()), false).await;
}

#[tokio::test]
async fn data_key_cache_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    cases::data_key_cache_is_bounded(move |policy| {
        Envelope::new(LocalKeys::open_or_create(&path).unwrap(), policy)
    })
    .await;
}

#[tokio::test]
async fn the_key_file_is_private_and_kept() {
    use gs_crypto::FieldCipher;
    let dir = tempfile::tempdir().unwrap();
    let keys = LocalKeys::open_or_create(dir.path()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let sealed = Envelope::new(keys, CachePolicy::default())
        .encrypt(&cases::ctx("params"), b"kept")
        .await
        .unwrap();
    // Reopening reads the same key; another directory's key cannot read it.
    let again = Envelope::new(
        LocalKeys::open_or_create(dir.path()).unwrap(),
        CachePolicy::default(),
    );
    assert_eq!(
        again.decrypt(&cases::ctx("params"), &sealed).await.unwrap(),
        b"kept"
    );
    let other_dir = tempfile::tempdir().unwrap();
    let other = Envelope::new(
        LocalKeys::open_or_create(other_dir.path()).unwrap(),
        CachePolicy::default(),
    );
    assert!(matches!(
        other.decrypt(&cases::ctx("params"), &sealed).await,
        Err(CryptoError::Refused(_))
    ));
    // A damaged key file is an error that says what to do, not a new key.
    std::fs::write(dir.path().join(LocalKeys::FILE_NAME), b"short").unwrap();
    let err = LocalKeys::open_or_create(dir.path()).unwrap_err();
    assert!(
        matches!(err, CryptoError::KeyFile(ref m) if m.contains("backup")),
        "{err}"
    );
}
