//! Message authentication for call contexts the gateway hands to tool
//! functions: HMAC-SHA-256 under a key that only the gateway may use to sign
//! (KMS `GenerateMac`) and tools may only use to verify (`VerifyMac`), or a
//! local key file for development.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::kms::classify;

/// Signs and verifies messages.
#[async_trait]
pub trait MacKey: Send + Sync {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// `Ok(())` only if `mac` is this key's tag of `message`; a mismatch is
    /// `Refused`.
    async fn verify(&self, message: &[u8], mac: &[u8]) -> Result<(), CryptoError>;
}

/// [`MacKey`] on a KMS HMAC_256 key.
#[derive(Debug, Clone)]
pub struct KmsMac {
    client: Client,
    key_id: String,
}

impl KmsMac {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, key_id: impl Into<String>) -> Self {
        Self::new(Client::new(config), key_id)
    }
}

fn mismatch() -> CryptoError {
    CryptoError::Refused("the signature does not match the message".into())
}

#[async_trait]
impl MacKey for KmsMac {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let out = self
            .client
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(message.to_vec()))
            .send()
            .await
            .map_err(|e| classify("signing a call context", e))?;
        out.mac()
            .map(|m| m.as_ref().to_vec())
            .ok_or_else(|| CryptoError::KeyService("KMS returned no MAC".into()))
    }

    async fn verify(&self, message: &[u8], mac: &[u8]) -> Result<(), CryptoError> {
        let out = self
            .client
            .verify_mac()
            .key_id(&self.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(message.to_vec()))
            .mac(Blob::new(mac.to_vec()))
            .send()
            .await;
        match out {
            Ok(o) if o.mac_valid() => Ok(()),
            Ok(_) => Err(mismatch()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_kms_invalid_mac_exception()) =>
            {
                Err(mismatch())
            }
            Err(e) => Err(classify("verifying a call context", e)),
        }
    }
}

/// [`MacKey`] on a key file of the data directory (32 random bytes, 0600).
pub struct LocalMac {
    key: ring::hmac::Key,
    path: PathBuf,
}

impl std::fmt::Debug for LocalMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMac")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalMac {
    pub const FILE_NAME: &'static str = "context-mac-key";

    pub fn open_or_create(data_dir: &Path) -> Result<Self, CryptoError> {
        let path = data_dir.join(Self::FILE_NAME);
        let secret: Zeroizing<[u8; 32]> = crate::local::read_or_create_key(&path)?;
        Ok(Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_ref()),
            path,
        })
    }
}

#[async_trait]
impl MacKey for LocalMac {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(ring::hmac::sign(&self.key, message).as_ref().to_vec())
    }

    async fn verify(&self, message: &[u8], mac: &[u8]) -> Result<(), CryptoError> {
        ring::hmac::verify(&self.key, message, mac).map_err(|_| mismatch())
    }
}
