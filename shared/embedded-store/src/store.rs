//! `EmbeddedStore`: the redb engine of the storage ports.
//!
//! Table layout (all in `<data_dir>/goldensignals.redb`):
//!
//! | table        | key                                    | value                                      |
//! |--------------|----------------------------------------|--------------------------------------------|
//! | `bars_v1`    | (symbol, timeframe code, epoch secs)   | 5 × f64 LE: open, high, low, close, volume |
//! | `series_v1`  | (symbol, timeframe code)               | JSON `{count, first, last, source}`        |
//! | `records_v1` | (collection, id)                       | version u64 LE ++ caller's bytes           |
//!
//! redb compares tuple keys element by element, so a series' bars are one
//! contiguous, time-ordered key range (`get_bars` is a range scan, forwards or
//! backwards), and a collection is exactly the keys whose first element equals
//! its name: "port" can never see the records of "portfolio". Table names carry
//! a version so a future layout can live beside this one during a migration.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use gs_domain::{
    Bar, BarQuery, BarStore, DataSource, Order, PutCondition, PutReport, Record, RecordStore,
    SeriesInfo, SeriesKey, StoreError,
};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::codec::{
    SeriesMeta, decode_bar, decode_record, decode_record_version, encode_bar, encode_record,
    series_key_from_parts, time_key, timeframe_code,
};

pub(crate) const BARS: TableDefinition<(&str, u8, i64), &[u8]> = TableDefinition::new("bars_v1");
pub(crate) const SERIES: TableDefinition<(&str, u8), &[u8]> = TableDefinition::new("series_v1");
pub(crate) const RECORDS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("records_v1");

const FILE_NAME: &str = "goldensignals.redb";

/// Bars and records in one redb file. Cloning shares the open database; the
/// file is closed when the last clone is dropped.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// redb reports failures through several error types; they all convert into
/// `redb::Error`, which keeps the detail as the source of our error.
fn engine<E: Into<redb::Error>>(doing: &'static str) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::engine(doing, e.into())
}

impl EmbeddedStore {
    /// Opens (creating if needed) `data_dir` and `data_dir/goldensignals.redb`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::engine(
                format!(
                    "cannot create data directory {}; check its permissions or choose another directory",
                    data_dir.display()
                ),
                e,
            )
        })?;
        let path = data_dir.join(FILE_NAME);
        let db = Database::create(&path).map_err(|e| {
            StoreError::engine(
                format!(
                    "cannot open {}; if another GoldenSignals process uses this data directory, stop it or choose another directory",
                    path.display()
                ),
                redb::Error::from(e),
            )
        })?;
        // Creating every table up front means readers never have to treat
        // "table does not exist" as "empty".
        let txn = db.begin_write().map_err(engine("beginning a write"))?;
        txn.open_table(BARS)
            .map_err(engine("creating the bars table"))?;
        txn.open_table(SERIES)
            .map_err(engine("creating the series table"))?;
        txn.open_table(RECORDS)
            .map_err(engine("creating the records table"))?;
        txn.commit().map_err(engine("committing table creation"))?;
        Ok(Self {
            db: Arc::new(db),
            path: Arc::new(path),
        })
    }

    /// The database file this store writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a redb job on the blocking pool: redb does file I/O and fsyncs, and
    /// `begin_write` waits for the previous writer, neither of which may stall
    /// an async worker. If the caller's future is dropped the job still runs to
    /// the end, so a write is committed whole or not at all.
    async fn blocking<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || job(&db))
            .await
            .map_err(|e| StoreError::engine("embedded store task did not complete", e))?
    }
}

/// A bar put, checked and encoded before the transaction starts so that a bad
/// batch is refused without touching the file.
fn encode_batch(bars: &[Bar]) -> Result<Vec<(i64, [u8; crate::codec::BAR_VALUE_LEN])>, StoreError> {
    let mut rows = Vec::with_capacity(bars.len());
    for bar in bars {
        let t = time_key(bar.time())?;
        if let Some((prev, _)) = rows.last()
            && *prev >= t
        {
            return Err(StoreError::Invalid(format!(
                "bars must be in strictly increasing time order; {} does not follow the bar before it",
                bar.time().to_rfc3339()
            )));
        }
        rows.push((t, encode_bar(bar)));
    }
    Ok(rows)
}

/// Inclusive query bounds in key seconds, or `None` when no key can match.
/// A fractional start rounds up and a fractional end rounds down, so the
/// bounds stay inclusive of exactly the bars inside them.
fn key_bounds(query: &BarQuery) -> Option<(i64, i64)> {
    let lo = query.start.map_or(i64::MIN, |s| {
        s.timestamp()
            .saturating_add(i64::from(s.timestamp_subsec_nanos() > 0))
    });
    let hi = query.end.map_or(i64::MAX, |e| e.timestamp());
    (lo <= hi).then_some((lo, hi))
}

fn check_names(collection: &str, id: Option<&str>) -> Result<(), StoreError> {
    if collection.is_empty() {
        return Err(StoreError::Invalid(
            "collection name must not be empty".into(),
        ));
    }
    if id.is_some_and(str::is_empty) {
        return Err(StoreError::Invalid(format!(
            "record id in collection {collection:?} must not be empty"
        )));
    }
    Ok(())
}

#[async_trait]
impl BarStore for EmbeddedStore {
    async fn put_bars(
        &self,
        key: &SeriesKey,
        bars: &[Bar],
        source: &DataSource,
    ) -> Result<PutReport, StoreError> {
        let rows = encode_batch(bars)?;
        let (Some((first, _)), Some((last, _))) = (rows.first(), rows.last()) else {
            return Ok(PutReport::default());
        };
        let (first, last) = (*first, *last);
        let symbol = key.symbol.as_str().to_string();
        let tf = timeframe_code(key.timeframe);
        let source = source.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(engine("beginning a write"))?;
            let mut report = PutReport::default();
            {
                let mut table = txn.open_table(BARS).map_err(engine("opening bars"))?;
                for (t, value) in &rows {
                    let replaced = table
                        .insert((symbol.as_str(), tf, *t), value.as_slice())
                        .map_err(engine("writing a bar"))?
                        .is_some();
                    if replaced {
                        report.updated += 1;
                    } else {
                        report.inserted += 1;
                    }
                }
            }
            {
                let mut series = txn.open_table(SERIES).map_err(engine("opening series"))?;
                let previous = series
                    .get((symbol.as_str(), tf))
                    .map_err(engine("reading series metadata"))?
                    .map(|v| SeriesMeta::decode(v.value()))
                    .transpose()?;
                // The latest put names the source: a series re-imported from a
                // file stops being reported as synthetic.
                let meta = match previous {
                    Some(old) => SeriesMeta {
                        count: old.count + report.inserted,
                        first: old.first.min(first),
                        last: old.last.max(last),
                        source,
                    },
                    None => SeriesMeta {
                        count: report.inserted,
                        first,
                        last,
                        source,
                    },
                };
                series
                    .insert((symbol.as_str(), tf), meta.encode()?.as_slice())
                    .map_err(engine("writing series metadata"))?;
            }
            // Returning early above drops `txn` uncommitted, which aborts it.
            txn.commit().map_err(engine("committing bars"))?;
            Ok(report)
        })
        .await
    }

    async fn get_bars(&self, key: &SeriesKey, query: &BarQuery) -> Result<Vec<Bar>, StoreError> {
        let Some((lo, hi)) = key_bounds(query) else {
            return Ok(Vec::new());
        };
        let limit = query.limit.unwrap_or(usize::MAX);
        let order = query.order;
        let symbol = key.symbol.as_str().to_string();
        let tf = timeframe_code(key.timeframe);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(BARS).map_err(engine("opening bars"))?;
            let range = table
                .range((symbol.as_str(), tf, lo)..=(symbol.as_str(), tf, hi))
                .map_err(engine("scanning bars"))?;
            let decode = |entry: Result<_, redb::StorageError>| -> Result<Bar, StoreError> {
                let (k, v): (
                    redb::AccessGuard<'_, (&str, u8, i64)>,
                    redb::AccessGuard<'_, &[u8]>,
                ) = entry.map_err(engine("scanning bars"))?;
                decode_bar(k.value().2, v.value())
            };
            let bars = match order {
                Order::Ascending => range
                    .take(limit)
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()?,
                // The last `limit` bars are read backwards from the end of the
                // range, then flipped: results are always oldest first.
                Order::Descending => {
                    let mut newest_first = range
                        .rev()
                        .take(limit)
                        .map(decode)
                        .collect::<Result<Vec<_>, _>>()?;
                    newest_first.reverse();
                    newest_first
                }
            };
            Ok(bars)
        })
        .await
    }

    async fn series_info(&self, key: &SeriesKey) -> Result<Option<SeriesInfo>, StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(SERIES).map_err(engine("opening series"))?;
            let Some(value) = table
                .get((key.symbol.as_str(), timeframe_code(key.timeframe)))
                .map_err(engine("reading series metadata"))?
            else {
                return Ok(None);
            };
            SeriesMeta::decode(value.value())?.into_info(key).map(Some)
        })
        .await
    }

    async fn list_series(&self) -> Result<Vec<SeriesInfo>, StoreError> {
        self.blocking(|db| {
            let txn = db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(SERIES).map_err(engine("opening series"))?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(engine("scanning series"))? {
                let (k, v) = entry.map_err(engine("scanning series"))?;
                let (symbol, tf) = k.value();
                let key = series_key_from_parts(symbol, tf)?;
                out.push(SeriesMeta::decode(v.value())?.into_info(key)?);
            }
            // Key order already is symbol then timeframe; sorting by the domain
            // key keeps the promise even if the two orders ever diverge.
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl RecordStore for EmbeddedStore {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Record>, StoreError> {
        check_names(collection, Some(id))?;
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
            let value = table
                .get((collection.as_str(), id.as_str()))
                .map_err(engine("reading a record"))?;
            value.map(|v| decode_record(&id, v.value())).transpose()
        })
        .await
    }

    async fn put(
        &self,
        collection: &str,
        id: &str,
        value: &[u8],
        condition: PutCondition,
    ) -> Result<u64, StoreError> {
        check_names(collection, Some(id))?;
        let (collection, id, value) = (collection.to_string(), id.to_string(), value.to_vec());
        self.blocking(move |db| {
            // The condition is checked and the new version written inside one
            // write transaction; redb runs one writer at a time, so two callers
            // holding the same version cannot both succeed.
            let txn = db.begin_write().map_err(engine("beginning a write"))?;
            let version = {
                let mut table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
                let key = (collection.as_str(), id.as_str());
                let current = table
                    .get(key)
                    .map_err(engine("reading a record"))?
                    .map(|v| decode_record_version(v.value()))
                    .transpose()?;
                let conflict = |why: String| {
                    StoreError::Conflict(format!("record {id:?} in {collection:?} {why}"))
                };
                match (condition, current) {
                    (PutCondition::IfAbsent, Some(v)) => {
                        return Err(conflict(format!(
                            "already exists at version {v}; read it and update with its version"
                        )));
                    }
                    (PutCondition::IfVersion(want), None) => {
                        return Err(conflict(format!(
                            "does not exist (expected version {want}); create it with IfAbsent"
                        )));
                    }
                    (PutCondition::IfVersion(want), Some(v)) if v != want => {
                        return Err(conflict(format!(
                            "is at version {v}, not {want}; read it again and retry"
                        )));
                    }
                    _ => {}
                }
                let next = match current {
                    None => 1,
                    Some(v) => v.checked_add(1).ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "record {id:?} has version {v}, which cannot grow"
                        ))
                    })?,
                };
                table
                    .insert(key, encode_record(next, &value).as_slice())
                    .map_err(engine("writing a record"))?;
                next
            };
            txn.commit().map_err(engine("committing a record"))?;
            Ok(version)
        })
        .await
    }

    async fn delete(&self, collection: &str, id: &str) -> Result<bool, StoreError> {
        check_names(collection, Some(id))?;
        let (collection, id) = (collection.to_string(), id.to_string());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(engine("beginning a write"))?;
            let existed = {
                let mut table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
                table
                    .remove((collection.as_str(), id.as_str()))
                    .map_err(engine("deleting a record"))?
                    .is_some()
            };
            txn.commit().map_err(engine("committing a delete"))?;
            Ok(existed)
        })
        .await
    }

    async fn list(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        check_names(collection, None)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let collection = collection.to_string();
        let after = after.map(str::to_string);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
            let start = match &after {
                Some(a) => Bound::Excluded((collection.as_str(), a.as_str())),
                None => Bound::Included((collection.as_str(), "")),
            };
            let mut out = Vec::new();
            for entry in table
                .range::<(&str, &str)>((start, Bound::Unbounded))
                .map_err(engine("scanning records"))?
            {
                let (k, v) = entry.map_err(engine("scanning records"))?;
                let (c, id) = k.value();
                // Keys are ordered by collection first, so the first key of
                // another collection ends this one.
                if c != collection {
                    break;
                }
                out.push(decode_record(id, v.value())?);
                if out.len() == limit {
                    break;
                }
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use gs_domain::{Symbol, Timeframe};

    fn key() -> SeriesKey {
        SeriesKey::new(Symbol::parse("AAPL").unwrap(), Timeframe::D1)
    }

    fn one_bar() -> Vec<Bar> {
        let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        vec![Bar::new(t, 1.0, 2.0, 0.5, 1.5, 10.0).unwrap()]
    }

    /// Overwrites one stored value behind the store's back, as a damaged file would.
    fn damage<K: redb::Key + 'static>(
        store: &EmbeddedStore,
        table: TableDefinition<K, &[u8]>,
        key: K::SelfType<'_>,
        bytes: &[u8],
    ) {
        let txn = store.db.begin_write().unwrap();
        txn.open_table(table).unwrap().insert(key, bytes).unwrap();
        txn.commit().unwrap();
    }

    fn corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::Corrupt(_)))
    }

    #[tokio::test]
    async fn damaged_values_are_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let source = DataSource::Imported { file: "a".into() };
        store.put_bars(&key(), &one_bar(), &source).await.unwrap();
        store
            .put("c", "id", b"ok", PutCondition::Always)
            .await
            .unwrap();
        let t = one_bar()[0].time().timestamp();
        let d1 = timeframe_code(Timeframe::D1);

        damage(&store, BARS, ("AAPL", d1, t), b"short");
        assert!(corrupt(store.get_bars(&key(), &BarQuery::default()).await));
        let mut nan = encode_bar(&one_bar()[0]);
        nan[8..16].copy_from_slice(&f64::NAN.to_le_bytes());
        damage(&store, BARS, ("AAPL", d1, t), &nan);
        assert!(corrupt(store.get_bars(&key(), &BarQuery::default()).await));

        damage(&store, SERIES, ("AAPL", d1), b"{not json");
        assert!(corrupt(store.series_info(&key()).await));
        assert!(corrupt(store.list_series().await));
        assert!(corrupt(store.put_bars(&key(), &one_bar(), &source).await));

        damage(&store, RECORDS, ("c", "id"), b"1234");
        assert!(corrupt(store.get("c", "id").await));
        assert!(corrupt(store.list("c", None, 10).await));
        assert!(corrupt(
            store.put("c", "id", b"x", PutCondition::Always).await
        ));
    }

    #[tokio::test]
    async fn unknown_series_keys_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let meta = SeriesMeta {
            count: 0,
            first: 0,
            last: 0,
            source: DataSource::Imported { file: "a".into() },
        };
        damage(&store, SERIES, ("AAPL", 99), &meta.encode().unwrap());
        assert!(corrupt(store.list_series().await));
        damage(&store, SERIES, ("bad symbol", 1), &meta.encode().unwrap());
        assert!(corrupt(store.list_series().await));
    }

    #[tokio::test]
    async fn sub_second_bar_times_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let t = Utc.timestamp_opt(1_700_000_000, 1_000_000).unwrap();
        let bar = Bar::new(t, 1.0, 1.0, 1.0, 1.0, 1.0).unwrap();
        let source = DataSource::Imported { file: "a".into() };
        let r = store.put_bars(&key(), &[bar], &source).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
        assert!(store.series_info(&key()).await.unwrap().is_none());
    }
}
