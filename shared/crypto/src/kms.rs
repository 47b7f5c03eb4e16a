//! The cloud master key: AWS KMS `GenerateDataKey` and `Decrypt` with the
//! field context as the encryption context.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use zeroize::Zeroizing;

use crate::{CryptoError, DataKey, FieldContext, KeyProvider};

/// [`KeyProvider`] on one KMS symmetric key.
#[derive(Debug, Clone)]
pub struct KmsKeys {
    client: Client,
    key_id: String,
}

impl KmsKeys {
    /// `key_id`: a key id, ARN or alias (`KMS_KEY_ID`).
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, key_id: impl Into<String>) -> Self {
        Self::new(Client::new(config), key_id)
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

pub(crate) fn classify<E, R>(doing: &str, err: SdkError<E, R>) -> CryptoError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            CryptoError::Unavailable(format!("{doing}: KMS could not be reached"))
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            let message = service.err().message().unwrap_or_default();
            match code {
                "InvalidCiphertextException" | "IncorrectKeyException" => {
                    CryptoError::Refused(format!(
                        "{doing}: KMS refused the wrapped key (altered, or sealed for another \
                         table, entity or field)"
                    ))
                }
                "ThrottlingException" | "KMSInternalException" | "DependencyTimeoutException" => {
                    CryptoError::Unavailable(format!("{doing}: {code} {message}"))
                }
                _ => CryptoError::KeyService(format!("{doing}: {code} {message}")),
            }
        }
        _ => CryptoError::KeyService(format!("{doing}: {err}")),
    }
}

#[async_trait]
impl KeyProvider for KmsKeys {
    async fn generate_data_key(&self, context: &FieldContext) -> Result<DataKey, CryptoError> {
        let mut request = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256);
        for (k, v) in context.pairs() {
            request = request.encryption_context(k, v);
        }
        let out = request
            .send()
            .await
            .map_err(|e| classify("generating a data key", e))?;
        let plaintext: [u8; 32] = out
            .plaintext()
            .map(Blob::as_ref)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| CryptoError::KeyService("KMS returned no 256-bit data key".into()))?;
        let wrapped = out
            .ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| CryptoError::KeyService("KMS returned no wrapped data key".into()))?;
        Ok(DataKey {
            plaintext: Zeroizing::new(plaintext),
            wrapped,
        })
    }

    async fn unwrap_data_key(
        &self,
        context: &FieldContext,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let mut request = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped.to_vec()));
        for (k, v) in context.pairs() {
            request = request.encryption_context(k, v);
        }
        let out = request
            .send()
            .await
            .map_err(|e| classify("unwrapping a data key", e))?;
        let key: [u8; 32] = out
            .plaintext()
            .map(Blob::as_ref)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| CryptoError::Refused("the wrapped data key is not 256 bits".into()))?;
        Ok(Zeroizing::new(key))
    }
}

/// Which kind of KMS key [`create_key`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Symmetric encryption, for [`KmsKeys`].
    Encryption,
    /// HMAC_256 with GENERATE_VERIFY_MAC, for [`crate::KmsMac`].
    Mac,
}

/// Creates a KMS key and returns its id: for `goldensignals dev bootstrap`
/// and tests on an emulator (the cloud's keys come from `template.yaml`).
pub async fn create_key(
    client: &Client,
    kind: KeyKind,
    description: &str,
) -> Result<String, CryptoError> {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let mut request = client.create_key().description(description);
    if kind == KeyKind::Mac {
        request = request
            .key_spec(KeySpec::Hmac256)
            .key_usage(KeyUsageType::GenerateVerifyMac);
    }
    let out = request
        .send()
        .await
        .map_err(|e| classify("creating a key", e))?;
    out.key_metadata()
        .map(|m| m.key_id().to_string())
        .ok_or_else(|| CryptoError::KeyService("KMS created a key without an id".into()))
}
