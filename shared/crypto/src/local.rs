//! The local master key: 32 random bytes in a file of the data directory
//! that only its owner can read. Data keys are wrapped with AES-256-GCM
//! under it, bound to the field context like KMS binds its encryption
//! context.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::{CryptoError, DataKey, FieldContext, KeyProvider, open, random_key, seal};

const WRAP_LABEL: &[u8] = b"goldensignals-local-wrap-v1";

/// [`KeyProvider`] on a key file.
pub struct LocalKeys {
    master: Zeroizing<[u8; 32]>,
    path: PathBuf,
}

impl std::fmt::Debug for LocalKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeys")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalKeys {
    /// The file name inside a data directory.
    pub const FILE_NAME: &'static str = "field-key";

    /// Opens `data_dir/field-key`, creating it (mode 0600) on first use.
    pub fn open_or_create(data_dir: &Path) -> Result<Self, CryptoError> {
        let path = data_dir.join(Self::FILE_NAME);
        let master = read_or_create_key(&path)?;
        Ok(Self { master, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The 32-byte key in `path`, created (mode 0600) if there is none. A file
/// of another length is an error, never silently replaced: values sealed
/// under the old key would become unreadable.
pub(crate) fn read_or_create_key(path: &Path) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let fail = |what: &str, e: std::io::Error| {
        CryptoError::KeyFile(format!("{what} {}: {e}", path.display()))
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                CryptoError::KeyFile(format!(
                    "{} holds {} bytes, not a 32-byte key; restore it from a backup (what was \
                     sealed or signed under it cannot be checked without it)",
                    path.display(),
                    bytes.len()
                ))
            })?;
            Ok(Zeroizing::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = random_key()?;
            write_private(path, key.as_ref()).map_err(|e| fail("creating", e))?;
            Ok(key)
        }
        Err(e) => Err(fail("reading", e)),
    }
}

/// Writes a new file only its owner can read; never replaces one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn wrap_aad(context: &FieldContext) -> Vec<u8> {
    let mut out = WRAP_LABEL.to_vec();
    out.extend_from_slice(&context.aad_bytes());
    out
}

#[async_trait]
impl KeyProvider for LocalKeys {
    async fn generate_data_key(&self, context: &FieldContext) -> Result<DataKey, CryptoError> {
        let plaintext = random_key()?;
        let wrapped = seal(&self.master, &wrap_aad(context), plaintext.as_ref())?;
        Ok(DataKey { plaintext, wrapped })
    }

    async fn unwrap_data_key(
        &self,
        context: &FieldContext,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let plain = Zeroizing::new(open(&self.master, &wrap_aad(context), wrapped)?);
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Refused("the wrapped data key is not 256 bits".into()))?;
        Ok(Zeroizing::new(key))
    }
}
