//! The envelope: data keys from a [`KeyProvider`], cached within bounds,
//! sealing values in the versioned ciphertext format.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::{CryptoError, FieldCipher, FieldContext, KeyProvider, open, seal};

const FORMAT_V1: u8 = 1;
const AAD_LABEL: &[u8] = b"goldensignals-field-v1";

/// How long and how often one data key may be used before a new one is
/// generated (encryption) or unwrapped again (decryption).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub max_age: Duration,
    pub max_uses: u64,
    /// Distinct keys kept for decryption; the oldest goes first.
    pub max_entries: usize,
}

impl Default for CachePolicy {
    /// Five minutes or 10,000 values per data key: a KMS call per few
    /// thousand writes, far inside AES-GCM's random-nonce limits.
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            max_uses: 10_000,
            max_entries: 1_000,
        }
    }
}

/// Calls made to the key provider since the envelope was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CipherStats {
    pub generated: u64,
    pub unwrapped: u64,
}

struct Cached {
    key: Zeroizing<[u8; 32]>,
    wrapped: Vec<u8>,
    created: Instant,
    uses: u64,
}

impl Cached {
    fn usable(&self, policy: &CachePolicy, now: Instant) -> bool {
        self.uses < policy.max_uses && now.saturating_duration_since(self.created) < policy.max_age
    }
}

/// [`FieldCipher`] over any [`KeyProvider`].
pub struct Envelope<P> {
    provider: P,
    policy: CachePolicy,
    sealing: Mutex<HashMap<FieldContext, Cached>>,
    opening: Mutex<HashMap<(FieldContext, Vec<u8>), Cached>>,
    generated: AtomicU64,
    unwrapped: AtomicU64,
}

impl<P> std::fmt::Debug for Envelope<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<P: KeyProvider> Envelope<P> {
    pub fn new(provider: P, policy: CachePolicy) -> Self {
        Self {
            provider,
            policy,
            sealing: Mutex::new(HashMap::new()),
            opening: Mutex::new(HashMap::new()),
            generated: AtomicU64::new(0),
            unwrapped: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CipherStats {
        CipherStats {
            generated: self.generated.load(Ordering::Relaxed),
            unwrapped: self.unwrapped.load(Ordering::Relaxed),
        }
    }

    /// A data key for sealing under `context`, counting one use.
    async fn sealing_key(
        &self,
        context: &FieldContext,
    ) -> Result<(Zeroizing<[u8; 32]>, Vec<u8>), CryptoError> {
        let now = Instant::now();
        if let Ok(mut cache) = self.sealing.lock()
            && let Some(c) = cache.get_mut(context)
            && c.usable(&self.policy, now)
        {
            c.uses = c.uses.saturating_add(1);
            return Ok((c.key.clone(), c.wrapped.clone()));
        }
        let fresh = self.provider.generate_data_key(context).await?;
        self.generated.fetch_add(1, Ordering::Relaxed);
        let out = (fresh.plaintext.clone(), fresh.wrapped.clone());
        if let Ok(mut cache) = self.sealing.lock() {
            cache.insert(
                context.clone(),
                Cached {
                    key: fresh.plaintext,
                    wrapped: fresh.wrapped,
                    created: now,
                    uses: 1,
                },
            );
        }
        Ok(out)
    }

    async fn opening_key(
        &self,
        context: &FieldContext,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let now = Instant::now();
        let id = (context.clone(), wrapped.to_vec());
        if let Ok(mut cache) = self.opening.lock()
            && let Some(c) = cache.get_mut(&id)
            && c.usable(&self.policy, now)
        {
            c.uses = c.uses.saturating_add(1);
            return Ok(c.key.clone());
        }
        let key = self.provider.unwrap_data_key(context, wrapped).await?;
        self.unwrapped.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut cache) = self.opening.lock() {
            cache.retain(|_, c| c.usable(&self.policy, now));
            while cache.len() >= self.policy.max_entries.max(1) {
                let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, c)| c.created)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                cache.remove(&oldest);
            }
            cache.insert(
                id,
                Cached {
                    key: key.clone(),
                    wrapped: wrapped.to_vec(),
                    created: now,
                    uses: 1,
                },
            );
        }
        Ok(key)
    }
}

fn aad(context: &FieldContext, wrapped: &[u8]) -> Vec<u8> {
    let mut out = AAD_LABEL.to_vec();
    out.push(FORMAT_V1);
    out.extend_from_slice(&context.aad_bytes());
    out.extend_from_slice(wrapped);
    out
}

#[async_trait]
impl<P: KeyProvider> FieldCipher for Envelope<P> {
    async fn encrypt(
        &self,
        context: &FieldContext,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let (key, wrapped) = self.sealing_key(context).await?;
        let len = u16::try_from(wrapped.len()).map_err(|_| {
            CryptoError::KeyService("the key service returned an oversized wrapped key".into())
        })?;
        let sealed = seal(&key, &aad(context, &wrapped), plaintext)?;
        let mut out =
            Vec::with_capacity(sealed.len().saturating_add(wrapped.len()).saturating_add(3));
        out.push(FORMAT_V1);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    async fn decrypt(
        &self,
        context: &FieldContext,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let truncated = || CryptoError::Refused("the ciphertext is truncated".into());
        let Some((&version, rest)) = ciphertext.split_first() else {
            return Err(truncated());
        };
        if version != FORMAT_V1 {
            return Err(CryptoError::Refused(format!(
                "unknown ciphertext format version {version}; this build reads version {FORMAT_V1}"
            )));
        }
        let (len, rest) = rest.split_at_checked(2).ok_or_else(truncated)?;
        let len = usize::from(u16::from_be_bytes(len.try_into().map_err(|_| truncated())?));
        let (wrapped, sealed) = rest.split_at_checked(len).ok_or_else(truncated)?;
        let key = self.opening_key(context, wrapped).await?;
        open(&key, &aad(context, wrapped), sealed)
    }
}
