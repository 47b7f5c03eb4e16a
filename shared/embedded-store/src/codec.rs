//! Byte layouts of everything the store persists. Decoding never trusts the
//! file: anything that does not decode into a valid domain value is reported
//! as `StoreError::Corrupt` rather than panicking or being silently repaired.

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{Bar, DataSource, SeriesInfo, SeriesKey, StoreError, Symbol, Timeframe};
use serde::{Deserialize, Serialize};

/// open, high, low, close, volume as little-endian f64: fixed width, so a
/// bar costs 40 bytes and decoding needs no allocation.
pub(crate) const BAR_VALUE_LEN: usize = 5 * 8;
/// A bar inside a bucket: its time (i64 LE epoch seconds) then its values.
pub(crate) const BUCKET_ROW_LEN: usize = 8 + BAR_VALUE_LEN;
/// First byte of every bucket blob, so a future layout can be told apart.
const BUCKET_FORMAT: u8 = 1;

pub(crate) type BarRow = (i64, [u8; BAR_VALUE_LEN]);

pub(crate) fn encode_bar(bar: &Bar) -> [u8; BAR_VALUE_LEN] {
    let mut out = [0u8; BAR_VALUE_LEN];
    let fields = [bar.open(), bar.high(), bar.low(), bar.close(), bar.volume()];
    for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

fn le_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_le_bytes)
}

fn le_i64(bytes: &[u8]) -> Option<i64> {
    bytes.try_into().ok().map(i64::from_le_bytes)
}

pub(crate) fn decode_bar(time: i64, bytes: &[u8]) -> Result<Bar, StoreError> {
    let at = time_from_key(time)?;
    if bytes.len() != BAR_VALUE_LEN {
        return Err(StoreError::Corrupt(format!(
            "bar at {at} has {} bytes, expected {BAR_VALUE_LEN}",
            bytes.len()
        )));
    }
    let mut f = [0f64; 5];
    for (v, chunk) in f.iter_mut().zip(bytes.chunks_exact(8)) {
        *v = le_u64(chunk).map_or(f64::NAN, f64::from_bits);
    }
    let [open, high, low, close, volume] = f;
    // Re-validating costs little and keeps a damaged file from feeding
    // impossible prices (NaN, high < low) into the analytics.
    Bar::new(at, open, high, low, close, volume)
        .map_err(|e| StoreError::Corrupt(format!("stored bar is invalid: {e}")))
}

/// A bucket: the format byte, then rows of time + values in rising time order.
pub(crate) fn encode_bucket(rows: &[BarRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len().saturating_mul(BUCKET_ROW_LEN).saturating_add(1));
    out.push(BUCKET_FORMAT);
    for (t, value) in rows {
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// The rows of a bucket, checked for format, whole rows and rising times.
pub(crate) fn decode_bucket_rows(bytes: &[u8]) -> Result<Vec<BarRow>, StoreError> {
    let Some((&BUCKET_FORMAT, body)) = bytes.split_first() else {
        return Err(StoreError::Corrupt(
            "bar bucket has an unknown format".into(),
        ));
    };
    if body.len().checked_rem(BUCKET_ROW_LEN) != Some(0) {
        return Err(StoreError::Corrupt(format!(
            "bar bucket of {} bytes is not whole bars",
            bytes.len()
        )));
    }
    let mut rows: Vec<BarRow> = Vec::with_capacity(body.len() / BUCKET_ROW_LEN);
    for chunk in body.chunks_exact(BUCKET_ROW_LEN) {
        let (time, value) = chunk.split_at(8);
        let t = le_i64(time).ok_or_else(|| StoreError::Corrupt("bar time".into()))?;
        let value: [u8; BAR_VALUE_LEN] = value
            .try_into()
            .map_err(|_| StoreError::Corrupt("bar values".into()))?;
        if rows.last().is_some_and(|(prev, _)| *prev >= t) {
            return Err(StoreError::Corrupt(format!(
                "bar bucket is out of time order at {t}"
            )));
        }
        rows.push((t, value));
    }
    Ok(rows)
}

/// Bars are keyed by whole epoch seconds. A sub-second time is refused rather
/// than truncated: truncation would silently move the bar and could merge two
/// bars of one batch into the same key.
pub(crate) fn time_key(time: DateTime<Utc>) -> Result<i64, StoreError> {
    if time.timestamp_subsec_nanos() != 0 {
        return Err(StoreError::Invalid(format!(
            "bar time {} has a fractional second; bar times must be whole seconds",
            time.to_rfc3339()
        )));
    }
    Ok(time.timestamp())
}

pub(crate) fn time_from_key(secs: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("stored time {secs} is out of range")))
}

/// Timeframes are stored as explicit codes, not enum positions, so that
/// reordering the domain enum can never reinterpret existing data. The codes
/// rise with bar width so key order matches `Timeframe`'s `Ord`.
pub(crate) fn timeframe_code(tf: Timeframe) -> u8 {
    match tf {
        Timeframe::M1 => 1,
        Timeframe::M5 => 2,
        Timeframe::M15 => 3,
        Timeframe::M30 => 4,
        Timeframe::H1 => 5,
        Timeframe::H4 => 6,
        Timeframe::D1 => 7,
        Timeframe::W1 => 8,
    }
}

pub(crate) fn timeframe_from_code(code: u8) -> Result<Timeframe, StoreError> {
    Timeframe::ALL
        .into_iter()
        .find(|tf| timeframe_code(*tf) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown stored timeframe code {code}")))
}

pub(crate) fn series_key_from_parts(symbol: &str, code: u8) -> Result<SeriesKey, StoreError> {
    let symbol = Symbol::parse(symbol)
        .map_err(|e| StoreError::Corrupt(format!("stored series has a bad symbol: {e}")))?;
    Ok(SeriesKey::new(symbol, timeframe_from_code(code)?))
}

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

    #[test]
    fn bars_round_trip_bit_for_bit() {
        let t = Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 0).unwrap();
        let bar = Bar::new(t, 0.1 + 0.2, 1e300, 1e-300, 0.3, 0.0).unwrap();
        let rows = decode_bucket_rows(&encode_bucket(&[(time_key(t).unwrap(), encode_bar(&bar))]))
            .unwrap();
        let back = decode_bar(rows[0].0, &rows[0].1).unwrap();
        assert_eq!(back, bar);
        assert_eq!(back.open().to_bits(), (0.1f64 + 0.2).to_bits());
    }

    #[test]
    fn damaged_bars_and_buckets_are_corrupt_not_panics() {
        assert!(matches!(
            decode_bar(0, &[1, 2, 3]),
            Err(StoreError::Corrupt(_))
        ));
        let mut nan = encode_bar(&Bar::new(Utc::now(), 1.0, 2.0, 0.5, 1.5, 10.0).unwrap());
        nan[..8].copy_from_slice(&f64::NAN.to_le_bytes());
        assert!(matches!(decode_bar(0, &nan), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            decode_bar(i64::MAX, &nan),
            Err(StoreError::Corrupt(_))
        ));
        let row = (5, [0u8; BAR_VALUE_LEN]);
        for bad in [
            vec![],
            vec![9],
            vec![BUCKET_FORMAT, 1, 2],
            encode_bucket(&[row, row]),
        ] {
            assert!(matches!(
                decode_bucket_rows(&bad),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn sub_second_times_are_refused() {
        let t = Utc.timestamp_opt(1_700_000_000, 500_000_000).unwrap();
        assert!(matches!(time_key(t), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn timeframe_codes_are_unique_and_follow_timeframe_order() {
        let codes: Vec<u8> = Timeframe::ALL.into_iter().map(timeframe_code).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        for tf in Timeframe::ALL {
            assert_eq!(timeframe_from_code(timeframe_code(tf)).unwrap(), tf);
        }
        assert!(matches!(
            timeframe_from_code(0),
            Err(StoreError::Corrupt(_))
        ));
    }

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
