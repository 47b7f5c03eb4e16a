//! Byte layouts of everything the store persists. Decoding never trusts the
//! file: anything that does not decode into a valid domain value is reported
//! as `StoreError::Corrupt` rather than panicking or being silently repaired.

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{Bar, DataSource, SeriesInfo, SeriesKey, StoreError, Symbol, Timeframe};
use serde::{Deserialize, Serialize};

/// open, high, low, close, volume as little-endian f64: fixed width, so a
/// bar costs 40 bytes plus its key and decoding needs no allocation.
pub(crate) const BAR_VALUE_LEN: usize = 5 * 8;

pub(crate) fn encode_bar(bar: &Bar) -> [u8; BAR_VALUE_LEN] {
    let mut out = [0u8; BAR_VALUE_LEN];
    let fields = [bar.open(), bar.high(), bar.low(), bar.close(), bar.volume()];
    for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
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
        let mut le = [0u8; 8];
        le.copy_from_slice(chunk);
        *v = f64::from_le_bytes(le);
    }
    // Re-validating costs little and keeps a damaged file from feeding
    // impossible prices (NaN, high < low) into the analytics.
    Bar::new(at, f[0], f[1], f[2], f[3], f[4])
        .map_err(|e| StoreError::Corrupt(format!("stored bar is invalid: {e}")))
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SeriesMeta {
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

/// A record is its version (u64 little-endian) followed by the caller's bytes,
/// so version and value can only ever be written together.
pub(crate) fn encode_record(version: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + value.len());
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(value);
    out
}

pub(crate) fn decode_record_version(bytes: &[u8]) -> Result<u64, StoreError> {
    let head: [u8; 8] = bytes
        .get(..8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| {
            StoreError::Corrupt(format!("record of {} bytes has no version", bytes.len()))
        })?;
    match u64::from_le_bytes(head) {
        0 => Err(StoreError::Corrupt("record has version 0".into())),
        v => Ok(v),
    }
}

pub(crate) fn decode_record(id: &str, bytes: &[u8]) -> Result<gs_domain::Record, StoreError> {
    Ok(gs_domain::Record {
        id: id.to_string(),
        version: decode_record_version(bytes)?,
        value: bytes[8..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_round_trip_bit_for_bit() {
        let t = Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 0).unwrap();
        let bar = Bar::new(t, 0.1 + 0.2, 1e300, 1e-300, 0.3, 0.0).unwrap();
        let back = decode_bar(time_key(t).unwrap(), &encode_bar(&bar)).unwrap();
        assert_eq!(back, bar);
        assert_eq!(back.open().to_bits(), (0.1f64 + 0.2).to_bits());
    }

    #[test]
    fn damaged_bars_are_corrupt_not_panics() {
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
    fn records_keep_version_and_bytes() {
        let r = decode_record("a", &encode_record(7, b"\0xyz")).unwrap();
        assert_eq!((r.version, r.value.as_slice()), (7, &b"\0xyz"[..]));
        assert!(matches!(
            decode_record("a", b"short"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            decode_record("a", &encode_record(0, b"")),
            Err(StoreError::Corrupt(_))
        ));
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
    }
}
