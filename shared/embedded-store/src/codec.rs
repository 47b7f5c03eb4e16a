//! Byte layouts of everything the store persists. Decoding never trusts the
//! file: anything that does not decode into a valid domain value is reported
//! as `StoreError::Corrupt` rather than panicking or being silently repaired.

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::bar_layout::{le_i64, le_u64, time_from_key};
use gs_domain::{DataSource, SeriesInfo, SeriesKey, StoreError};
use serde::{Deserialize, Serialize};

/// Series metadata. JSON because it is small, written once per put, and
/// `DataSource` may grow variants; times are epoch seconds like the bar keys.
/// `generation` is the write id of the put that switched the series last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeriesMeta {
    pub generation: u64,
    pub count: u64,
    pub first: i64,
    pub last: i64,
    pub source: DataSource,
}

impl SeriesMeta {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, StoreError> {
        serde_json::to_vec(self).map_err(|e| StoreError::engine("encoding series metadata", e))
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("series metadata does not decode: {e}")))
    }

    pub(crate) fn into_info(self, key: SeriesKey) -> Result<SeriesInfo, StoreError> {
        Ok(SeriesInfo {
            key,
            count: self.count,
            first: time_from_key(self.first)?,
            last: time_from_key(self.last)?,
            source: self.source,
        })
    }
}

/// A directory entry: which write id holds the bucket, and how many bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BucketRef {
    pub write_id: u64,
    pub count: u64,
}

impl BucketRef {
    pub(crate) fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        let (id, count) = out.split_at_mut(8);
        id.copy_from_slice(&self.write_id.to_le_bytes());
        count.copy_from_slice(&self.count.to_le_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let bad =
            || StoreError::Corrupt(format!("bucket directory entry of {} bytes", bytes.len()));
        if bytes.len() != 16 {
            return Err(bad());
        }
        let (id, count) = bytes.split_at(8);
        Ok(Self {
            write_id: le_u64(id).ok_or_else(bad)?,
            count: le_u64(count).ok_or_else(bad)?,
        })
    }
}

/// What a record row holds. Tombstones keep the version of the deleted
/// record so versions never restart; expired rows stay until overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stored {
    Tombstone,
    Document(Vec<u8>),
    Counter(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredRecord {
    pub version: u64,
    /// Milliseconds since the epoch; `i64::MAX` for never.
    pub expires_ms: i64,
    pub body: Stored,
}

const KIND_TOMBSTONE: u8 = 0;
const KIND_DOCUMENT: u8 = 1;
const KIND_COUNTER: u8 = 2;
/// kind (1) + version (8) + expiry (8).
const RECORD_HEAD_LEN: usize = 17;

impl StoredRecord {
    /// Visible at `now_ms`: neither a tombstone nor expired.
    pub(crate) fn is_live(&self, now_ms: i64) -> bool {
        !matches!(self.body, Stored::Tombstone) && now_ms < self.expires_ms
    }

    pub(crate) fn expires_at(&self) -> Option<DateTime<Utc>> {
        (self.expires_ms != i64::MAX)
            .then(|| Utc.timestamp_millis_opt(self.expires_ms).single())
            .flatten()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let (kind, payload): (u8, &[u8]) = match &self.body {
            Stored::Tombstone => (KIND_TOMBSTONE, &[]),
            Stored::Document(v) => (KIND_DOCUMENT, v),
            Stored::Counter(_) => (KIND_COUNTER, &[]),
        };
        let mut out = Vec::with_capacity(RECORD_HEAD_LEN.saturating_add(payload.len()));
        out.push(kind);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.expires_ms.to_le_bytes());
        match &self.body {
            Stored::Counter(n) => out.extend_from_slice(&n.to_le_bytes()),
            _ => out.extend_from_slice(payload),
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let bad =
            |why: &str| StoreError::Corrupt(format!("record of {} bytes: {why}", bytes.len()));
        let (head, payload) = bytes
            .split_at_checked(RECORD_HEAD_LEN)
            .ok_or_else(|| bad("no header"))?;
        let (kind, rest) = head.split_first().ok_or_else(|| bad("no header"))?;
        let (version, expires) = rest.split_at(8);
        let version = le_u64(version).ok_or_else(|| bad("no version"))?;
        let expires_ms = le_i64(expires).ok_or_else(|| bad("no expiry"))?;
        if version == 0 {
            return Err(bad("version 0"));
        }
        let body = match *kind {
            KIND_TOMBSTONE if payload.is_empty() => Stored::Tombstone,
            KIND_DOCUMENT => Stored::Document(payload.to_vec()),
            KIND_COUNTER => Stored::Counter(le_u64(payload).ok_or_else(|| bad("bad counter"))?),
            _ => return Err(bad("unknown kind")),
        };
        Ok(Self {
            version,
            expires_ms,
            body,
        })
    }

    /// The record a caller sees (counters as decimal ASCII).
    pub(crate) fn into_record(self, id: &str) -> gs_domain::Record {
        let expires_at = self.expires_at();
        let value = match self.body {
            Stored::Document(v) => v,
            Stored::Counter(n) => n.to_string().into_bytes(),
            Stored::Tombstone => Vec::new(),
        };
        gs_domain::Record {
            id: id.to_string(),
            version: self.version,
            value,
            expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_domain::bar_layout::series_key_from_parts;

    #[test]
    fn records_keep_kind_version_expiry_and_bytes() {
        for body in [
            Stored::Tombstone,
            Stored::Document(b"\0xyz".to_vec()),
            Stored::Counter(17),
        ] {
            let r = StoredRecord {
                version: 7,
                expires_ms: 1_234,
                body,
            };
            assert_eq!(StoredRecord::decode(&r.encode()).unwrap(), r);
        }
        let zero = StoredRecord {
            version: 0,
            expires_ms: i64::MAX,
            body: Stored::Tombstone,
        };
        for bad in [b"short".to_vec(), zero.encode()] {
            assert!(matches!(
                StoredRecord::decode(&bad),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn damaged_metadata_is_corrupt() {
        assert!(matches!(
            SeriesMeta::decode(b"{"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            series_key_from_parts("not a symbol", 1),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            BucketRef::decode(b"123"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
