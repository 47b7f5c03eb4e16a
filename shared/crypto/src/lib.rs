//! Field-level envelope encryption: a value is sealed with AES-256-GCM under
//! a data key, and the data key is stored beside it wrapped by a master key
//! that never leaves its key service (KMS in the cloud, a key file in the
//! data directory locally). Each ciphertext is bound to a [`FieldContext`]
//! (table, entity, field): KMS receives it as the encryption context and
//! AES-GCM as associated data, so a ciphertext copied to another field,
//! another entity or another table does not decrypt.
//!
//! Data keys are cached with a bounded age and use count ([`CachePolicy`]),
//! so most encryptions cost no key-service call while no data key seals an
//! unbounded amount of data.
//!
//! Ciphertext format, version 1 (every byte after the first is covered by
//! the GCM tag, the wrapped key through the associated data):
//! `0x01 | wrapped key length (u16 BE) | wrapped key | nonce (12) | sealed value | tag (16)`.
//!
//! This crate knows nothing of DynamoDB, MCP or Lambda: stores and tools call
//! [`FieldCipher`]; `main`s pick the engine.

// This crate handles request data: nothing in it may panic or overflow.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod envelope;
mod kms;
mod local;
mod mac;

pub use envelope::{CachePolicy, CipherStats, Envelope};
pub use kms::{KeyKind, KmsKeys, create_key};
pub use local::LocalKeys;
pub use mac::{KmsMac, LocalMac, MacKey};

use async_trait::async_trait;
use zeroize::Zeroizing;

/// Where a ciphertext belongs. Decryption needs the same three names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldContext {
    pub table: String,
    pub entity: String,
    pub field: String,
}

impl FieldContext {
    pub fn new(table: &str, entity: &str, field: &str) -> Self {
        Self {
            table: table.to_string(),
            entity: entity.to_string(),
            field: field.to_string(),
        }
    }

    /// The KMS encryption context.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            ("table", self.table.as_str()),
            ("entity", self.entity.as_str()),
            ("field", self.field.as_str()),
        ]
    }

    /// Unambiguous bytes of the context (each name length-prefixed), for
    /// associated data.
    pub(crate) fn aad_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (_, v) in self.pairs() {
            let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext is not one this key and context sealed: tampered,
    /// truncated, of an unknown format version, or bound to another context.
    /// Retrying cannot help.
    #[error("ciphertext refused: {0}")]
    Refused(String),
    /// The key service could not be reached or throttled us; retry shortly.
    #[error("key service unavailable, retry shortly: {0}")]
    Unavailable(String),
    /// The key service refused the request (access denied, key disabled or
    /// missing): configuration, not data, is wrong.
    #[error("key service refused the request: {0}")]
    KeyService(String),
    /// The local key file could not be read or created.
    #[error("local key file: {0}")]
    KeyFile(String),
}

impl CryptoError {
    /// True when the same call may succeed after a backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// A 256-bit data key in plaintext (zeroed on drop) and wrapped by the
/// master key.
pub struct DataKey {
    pub plaintext: Zeroizing<[u8; 32]>,
    pub wrapped: Vec<u8>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("wrapped_len", &self.wrapped.len())
            .finish_non_exhaustive()
    }
}

/// The master-key side of envelope encryption: the port KMS and the local
/// key file implement.
#[async_trait]
pub trait KeyProvider: Send + Sync {
    /// A fresh data key bound to `context`.
    async fn generate_data_key(&self, context: &FieldContext) -> Result<DataKey, CryptoError>;

    /// The plaintext of a wrapped data key, if `context` is the one it was
    /// generated for.
    async fn unwrap_data_key(
        &self,
        context: &FieldContext,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError>;
}

/// Encrypts and decrypts one field's value: the port stores and tools use.
#[async_trait]
pub trait FieldCipher: Send + Sync {
    async fn encrypt(
        &self,
        context: &FieldContext,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;
    async fn decrypt(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;
}

/// AES-256-GCM with a random nonce: `nonce | sealed | tag`.
pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
    use ring::rand::{SecureRandom, SystemRandom};
    let key = UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::KeyService("a data key is not 256 bits".into()))?;
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CryptoError::Unavailable("the system random source failed".into()))?;
    let mut out = Vec::with_capacity(plaintext.len().saturating_add(NONCE_LEN + 16));
    out.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| CryptoError::Refused("the value is too large to seal".into()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens what [`seal`] made, or `Refused`.
pub(crate) fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
    let key = UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::KeyService("a data key is not 256 bits".into()))?;
    let (nonce, body) = sealed
        .split_at_checked(NONCE_LEN)
        .ok_or_else(|| CryptoError::Refused("the ciphertext is truncated".into()))?;
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| CryptoError::Refused("the ciphertext is truncated".into()))?;
    let mut body = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| {
            CryptoError::Refused(
                "authentication failed: the ciphertext was altered or belongs to another field"
                    .into(),
            )
        })?;
    Ok(plain.to_vec())
}

/// 32 random bytes.
pub(crate) fn random_key() -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut key = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| CryptoError::Unavailable("the system random source failed".into()))?;
    Ok(key)
}
