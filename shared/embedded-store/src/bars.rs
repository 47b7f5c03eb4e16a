//! `BarStore` on redb: copy-on-write buckets, staged under a fresh write id,
//! switched in by one transaction that checks the generation it started from.

use async_trait::async_trait;
use gs_domain::{
    Bar, BarPage, BarQuery, BarStore, DataSource, MAX_BARS_PER_BUCKET, MAX_BARS_PER_PAGE, Order,
    PutReport, SeriesInfo, SeriesKey, SeriesPage, SeriesQuery, StoreError, Symbol, bucket_start,
};
use redb::{Durability, ReadableDatabase, ReadableTable};

use gs_domain::bar_layout::{
    BarRow, PlannedPut, SeriesListing, bar_page_limit, decode_bucket_rows, encode_bucket,
    finish_page, finish_series_page, key_bounds, merge, plan_put, series_key_from_parts,
    series_listing, series_stats_after, take_rows, timeframe_code, to_u64, too_many_in_bucket,
};

use crate::codec::{BucketRef, SeriesMeta};
use crate::store::{BAR_DIR, BUCKETS, EmbeddedStore, SERIES, engine};

/// Buckets staged per write transaction: a large import releases the single
/// redb writer between chunks instead of holding it for the whole file.
const STAGE_CHUNK: usize = 64;

/// A bucket ready to stage: its start, blob, bar count and the directory
/// entry it replaces.
struct Staged {
    start: i64,
    blob: Vec<u8>,
    count: u64,
    replaces: Option<BucketRef>,
}

impl EmbeddedStore {
    /// Phase 1: from one snapshot, the generation the put starts from and
    /// every touched bucket merged with the bars of that generation.
    fn plan_put(
        &self,
        key: &SeriesKey,
        groups: Vec<(i64, Vec<BarRow>)>,
    ) -> Result<(Option<SeriesMeta>, Vec<Staged>, PutReport), StoreError> {
        let symbol = key.symbol.as_str();
        let tf = timeframe_code(key.timeframe);
        let txn = self.db.begin_read().map_err(engine("beginning a read"))?;
        let series = txn.open_table(SERIES).map_err(engine("opening series"))?;
        let meta = series
            .get((symbol, tf))
            .map_err(engine("reading series metadata"))?
            .map(|v| SeriesMeta::decode(v.value()))
            .transpose()?;
        let dir = txn
            .open_table(BAR_DIR)
            .map_err(engine("opening the bar directory"))?;
        let blobs = txn
            .open_table(BUCKETS)
            .map_err(engine("opening bar buckets"))?;
        let mut report = PutReport::default();
        let mut staged = Vec::with_capacity(groups.len());
        for (start, rows) in groups {
            let replaces = dir
                .get((symbol, tf, start))
                .map_err(engine("reading the bar directory"))?
                .map(|v| BucketRef::decode(v.value()))
                .transpose()?;
            let old = match replaces {
                Some(r) => load_bucket(&blobs, symbol, tf, start, r)?,
                None => Vec::new(),
            };
            let merged = merge(old, rows, &mut report);
            if merged.len() > MAX_BARS_PER_BUCKET {
                return Err(too_many_in_bucket(key, start, merged.len()));
            }
            staged.push(Staged {
                start,
                blob: encode_bucket(&merged),
                count: to_u64(merged.len()),
                replaces,
            });
        }
        Ok((meta, staged, report))
    }

    /// Phase 2: writes the new bucket versions under `write_id`. Nothing reads
    /// them until the switch names them, so these commits need not be durable
    /// on their own; the switch's durable commit persists them.
    fn stage(&self, key: &SeriesKey, write_id: u64, staged: &[Staged]) -> Result<(), StoreError> {
        let symbol = key.symbol.as_str();
        let tf = timeframe_code(key.timeframe);
        for chunk in staged.chunks(STAGE_CHUNK) {
            let mut txn = self.db.begin_write().map_err(engine("beginning a write"))?;
            txn.set_durability(Durability::None)
                .map_err(engine("staging bar buckets"))?;
            {
                let mut blobs = txn
                    .open_table(BUCKETS)
                    .map_err(engine("opening bar buckets"))?;
                for s in chunk {
                    blobs
                        .insert((symbol, tf, s.start, write_id), s.blob.as_slice())
                        .map_err(engine("staging a bar bucket"))?;
                }
            }
            txn.commit()
                .map_err(engine("committing staged bar buckets"))?;
        }
        Ok(())
    }

    /// Phase 3: one transaction that switches the series to `write_id` if it
    /// is still at the generation the put started from, or else removes the
    /// staged buckets and reports the conflict.
    fn switch(
        &self,
        key: &SeriesKey,
        expected: Option<&SeriesMeta>,
        next: &SeriesMeta,
        staged: &[Staged],
    ) -> Result<(), StoreError> {
        let symbol = key.symbol.as_str();
        let tf = timeframe_code(key.timeframe);
        let txn = self.db.begin_write().map_err(engine("beginning a write"))?;
        let lost = {
            let mut series = txn.open_table(SERIES).map_err(engine("opening series"))?;
            let current = series
                .get((symbol, tf))
                .map_err(engine("reading series metadata"))?
                .map(|v| SeriesMeta::decode(v.value()))
                .transpose()?
                .map(|m| m.generation);
            let mut blobs = txn
                .open_table(BUCKETS)
                .map_err(engine("opening bar buckets"))?;
            if current != expected.map(|m| m.generation) {
                for s in staged {
                    blobs
                        .remove((symbol, tf, s.start, next.generation))
                        .map_err(engine("removing a staged bucket"))?;
                }
                true
            } else {
                let mut dir = txn
                    .open_table(BAR_DIR)
                    .map_err(engine("opening the bar directory"))?;
                for s in staged {
                    let entry = BucketRef {
                        write_id: next.generation,
                        count: s.count,
                    };
                    dir.insert((symbol, tf, s.start), entry.encode().as_slice())
                        .map_err(engine("writing the bar directory"))?;
                    if let Some(old) = s.replaces {
                        blobs
                            .remove((symbol, tf, s.start, old.write_id))
                            .map_err(engine("removing a superseded bucket"))?;
                    }
                }
                series
                    .insert((symbol, tf), next.encode()?.as_slice())
                    .map_err(engine("writing series metadata"))?;
                false
            }
        };
        txn.commit().map_err(engine("committing bars"))?;
        if lost {
            return Err(StoreError::Conflict(format!(
                "another writer changed {} {} while these bars were being written; nothing of this \
                 put is visible, put the bars again",
                key.symbol, key.timeframe
            )));
        }
        Ok(())
    }
}

fn load_bucket(
    blobs: &redb::ReadOnlyTable<(&str, u8, i64, u64), &[u8]>,
    symbol: &str,
    tf: u8,
    start: i64,
    r: BucketRef,
) -> Result<Vec<BarRow>, StoreError> {
    let blob = blobs
        .get((symbol, tf, start, r.write_id))
        .map_err(engine("reading a bar bucket"))?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the directory of {symbol} names bucket {start} version {} but it is missing",
                r.write_id
            ))
        })?;
    let rows = decode_bucket_rows(blob.value())?;
    if to_u64(rows.len()) != r.count {
        return Err(StoreError::Corrupt(format!(
            "bucket {start} of {symbol} holds {} bars, its directory entry says {}",
            rows.len(),
            r.count
        )));
    }
    Ok(rows)
}

#[async_trait]
impl BarStore for EmbeddedStore {
    async fn put_bars(
        &self,
        key: &SeriesKey,
        bars: &[Bar],
        source: &DataSource,
    ) -> Result<PutReport, StoreError> {
        let Some(PlannedPut {
            first,
            last,
            groups,
        }) = plan_put(key, bars)?
        else {
            return Ok(PutReport::default());
        };
        let (key, source) = (key.clone(), source.clone());
        self.blocking(move |store| {
            let (meta, staged, report) = store.plan_put(&key, groups)?;
            let write_id = store.next_write_id();
            // The latest put names the source: a series re-imported from a
            // file stops being reported as synthetic.
            let (count, first, last) = series_stats_after(
                &key,
                meta.as_ref().map(|m| (m.count, m.first, m.last)),
                report.inserted,
                (first, last),
            )?;
            let next = SeriesMeta {
                generation: write_id,
                count,
                first,
                last,
                source,
            };
            store.stage(&key, write_id, &staged)?;
            store.switch(&key, meta.as_ref(), &next, &staged)?;
            Ok(report)
        })
        .await
    }

    async fn get_bars(&self, key: &SeriesKey, query: &BarQuery) -> Result<BarPage, StoreError> {
        let Some((lo, hi)) = key_bounds(query)? else {
            return Ok(BarPage::default());
        };
        let limit = bar_page_limit(query);
        if limit == 0 {
            return Ok(BarPage::default());
        }
        let order = query.order;
        let key = key.clone();
        self.blocking(move |store| {
            let symbol = key.symbol.as_str();
            let tf = timeframe_code(key.timeframe);
            // One snapshot: the directory and the buckets it names agree.
            let txn = store.db.begin_read().map_err(engine("beginning a read"))?;
            let dir = txn
                .open_table(BAR_DIR)
                .map_err(engine("opening the bar directory"))?;
            let blobs = txn
                .open_table(BUCKETS)
                .map_err(engine("opening bar buckets"))?;
            let range = dir
                .range(
                    (symbol, tf, bucket_start(key.timeframe, lo))
                        ..=(symbol, tf, bucket_start(key.timeframe, hi)),
                )
                .map_err(engine("scanning the bar directory"))?;
            let entries: Box<dyn Iterator<Item = _>> = match order {
                Order::Ascending => Box::new(range),
                Order::Descending => Box::new(range.rev()),
            };
            // One row past the limit tells whether another page exists.
            let want = limit.saturating_add(1);
            let mut picked: Vec<BarRow> = Vec::with_capacity(want.min(MAX_BARS_PER_PAGE));
            for entry in entries {
                let (k, v) = entry.map_err(engine("scanning the bar directory"))?;
                let start = k.value().2;
                let rows = load_bucket(&blobs, symbol, tf, start, BucketRef::decode(v.value())?)?;
                take_rows(&mut picked, rows, (lo, hi), want, order);
                if picked.len() >= want {
                    break;
                }
            }
            finish_page(picked, limit, order)
        })
        .await
    }

    async fn series_info(&self, key: &SeriesKey) -> Result<Option<SeriesInfo>, StoreError> {
        let key = key.clone();
        self.blocking(move |store| {
            let txn = store.db.begin_read().map_err(engine("beginning a read"))?;
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

    async fn series_of(&self, symbol: &Symbol) -> Result<Vec<SeriesInfo>, StoreError> {
        let symbol = symbol.clone();
        self.blocking(move |store| {
            let txn = store.db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(SERIES).map_err(engine("opening series"))?;
            let s = symbol.as_str();
            let mut out = Vec::new();
            for entry in table
                .range((s, u8::MIN)..=(s, u8::MAX))
                .map_err(engine("scanning series"))?
            {
                let (k, v) = entry.map_err(engine("scanning series"))?;
                let key = series_key_from_parts(k.value().0, k.value().1)?;
                out.push(SeriesMeta::decode(v.value())?.into_info(key)?);
            }
            // Codes rise with bar width, so key order is finest first; sorting
            // by the domain key keeps the promise if the two ever diverge.
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }

    async fn list_series(&self, query: &SeriesQuery) -> Result<SeriesPage, StoreError> {
        let Some(SeriesListing {
            prefix,
            limit,
            after,
        }) = series_listing(query)?
        else {
            return Ok(SeriesPage::default());
        };
        self.blocking(move |store| {
            let txn = store.db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(SERIES).map_err(engine("opening series"))?;
            let range = match &after {
                Some((symbol, code)) => table.range::<(&str, u8)>((
                    std::ops::Bound::Excluded((symbol.as_str(), *code)),
                    std::ops::Bound::Unbounded,
                )),
                None => table.range((prefix.as_str(), u8::MIN)..),
            }
            .map_err(engine("scanning series"))?;
            let mut out: Vec<SeriesInfo> = Vec::new();
            for entry in range {
                let (k, v) = entry.map_err(engine("scanning series"))?;
                let (symbol, code) = k.value();
                // Keys are ordered by symbol, so the first symbol past the
                // prefix ends the listing.
                if !symbol.starts_with(prefix.as_str()) {
                    break;
                }
                if out.len() > limit {
                    break;
                }
                let key = series_key_from_parts(symbol, code)?;
                out.push(SeriesMeta::decode(v.value())?.into_info(key)?);
            }
            Ok(finish_series_page(out, limit))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use gs_domain::Timeframe;
    use gs_domain::bar_layout::{encode_bar, encode_batch, group_by_bucket};
    use gs_domain::{Owner, RecordKey, RecordStore, WriteCondition, read_bars};
    use redb::{ReadableTableMetadata, TableDefinition};

    use crate::store::RECORDS;

    fn key() -> SeriesKey {
        SeriesKey::new(Symbol::parse("AAPL").unwrap(), Timeframe::D1)
    }

    fn days(n: i64, tag: f64) -> Vec<Bar> {
        let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        (0..n)
            .map(|d| Bar::new(t0 + chrono::Duration::days(d), tag, tag, tag, tag, 1.0).unwrap())
            .collect()
    }

    fn source() -> DataSource {
        DataSource::Imported { file: "a".into() }
    }

    fn count_rows<K: redb::Key + 'static>(
        store: &EmbeddedStore,
        table: TableDefinition<K, &[u8]>,
    ) -> u64 {
        let txn = store.db.begin_read().unwrap();
        txn.open_table(table).unwrap().len().unwrap()
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

    /// Two puts planned from the same generation: the second switch loses,
    /// leaves nothing behind, and readers only ever see the winner.
    #[tokio::test]
    async fn the_second_switch_from_one_generation_conflicts_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .put_bars(&key(), &days(1000, 1.0), &source())
            .await
            .unwrap();
        let buckets = count_rows(&store, BUCKETS);
        let groups = |tag| group_by_bucket(Timeframe::D1, encode_batch(&days(1000, tag)).unwrap());
        let (meta_a, staged_a, _) = store.plan_put(&key(), groups(2.0)).unwrap();
        let (meta_b, staged_b, _) = store.plan_put(&key(), groups(3.0)).unwrap();
        let next = |meta: &Option<SeriesMeta>| SeriesMeta {
            generation: store.next_write_id(),
            ..meta.clone().unwrap()
        };
        let (next_a, next_b) = (next(&meta_a), next(&meta_b));
        store.stage(&key(), next_a.generation, &staged_a).unwrap();
        store.stage(&key(), next_b.generation, &staged_b).unwrap();
        store
            .switch(&key(), meta_a.as_ref(), &next_a, &staged_a)
            .unwrap();
        let lost = store.switch(&key(), meta_b.as_ref(), &next_b, &staged_b);
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
        let got = read_bars(&store, &key(), &BarQuery::default())
            .await
            .unwrap();
        assert!(got.iter().all(|b| b.open() == 2.0));
        assert_eq!(
            count_rows(&store, BUCKETS),
            buckets,
            "no orphans, no superseded buckets"
        );
    }

    /// A put that stopped after staging (a crash) is invisible, and its
    /// buckets are swept when the file is opened again.
    #[tokio::test]
    async fn staged_buckets_of_an_unfinished_put_are_invisible_and_swept() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EmbeddedStore::open(dir.path()).unwrap();
            store
                .put_bars(&key(), &days(10, 1.0), &source())
                .await
                .unwrap();
            let groups = group_by_bucket(Timeframe::D1, encode_batch(&days(3000, 9.0)).unwrap());
            let (_, staged, _) = store.plan_put(&key(), groups).unwrap();
            store.stage(&key(), store.next_write_id(), &staged).unwrap();
            assert!(count_rows(&store, BUCKETS) > 1);
            let got = read_bars(&store, &key(), &BarQuery::default())
                .await
                .unwrap();
            assert_eq!(got, days(10, 1.0));
            assert_eq!(store.series_info(&key()).await.unwrap().unwrap().count, 10);
        }
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(count_rows(&store, BUCKETS), 1);
        assert_eq!(
            read_bars(&store, &key(), &BarQuery::default())
                .await
                .unwrap(),
            days(10, 1.0)
        );
        // Write ids keep rising past what the file holds.
        store
            .put_bars(&key(), &days(20, 2.0), &source())
            .await
            .unwrap();
        assert_eq!(
            read_bars(&store, &key(), &BarQuery::default())
                .await
                .unwrap(),
            days(20, 2.0)
        );
    }

    #[tokio::test]
    async fn damaged_values_are_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .put_bars(&key(), &days(1, 1.0), &source())
            .await
            .unwrap();
        let record = RecordKey::new(Owner::system(), "c", "id").unwrap();
        store
            .put(&record, b"ok", WriteCondition::Always, None)
            .await
            .unwrap();
        let d1 = timeframe_code(Timeframe::D1);
        let t = days(1, 1.0)[0].time().timestamp();
        let start = bucket_start(Timeframe::D1, t);
        let r = {
            let txn = store.db.begin_read().unwrap();
            let dir = txn.open_table(BAR_DIR).unwrap();
            BucketRef::decode(dir.get(("AAPL", d1, start)).unwrap().unwrap().value()).unwrap()
        };
        let q = BarQuery::default();

        damage(&store, BUCKETS, ("AAPL", d1, start, r.write_id), b"short");
        assert!(corrupt(store.get_bars(&key(), &q).await));
        let mut nan = encode_bucket(&[(t, encode_bar(&days(1, 1.0)[0]))]);
        nan[9..17].copy_from_slice(&f64::NAN.to_le_bytes());
        damage(&store, BUCKETS, ("AAPL", d1, start, r.write_id), &nan);
        assert!(corrupt(store.get_bars(&key(), &q).await));
        let wrong_count = BucketRef { count: 2, ..r };
        damage(&store, BAR_DIR, ("AAPL", d1, start), &wrong_count.encode());
        assert!(corrupt(store.get_bars(&key(), &q).await));
        let missing = BucketRef {
            write_id: 999_999,
            ..r
        };
        damage(&store, BAR_DIR, ("AAPL", d1, start), &missing.encode());
        assert!(corrupt(store.get_bars(&key(), &q).await));
        assert!(corrupt(
            store.put_bars(&key(), &days(1, 1.0), &source()).await
        ));

        damage(&store, SERIES, ("AAPL", d1), b"{not json");
        assert!(corrupt(store.series_info(&key()).await));
        assert!(corrupt(store.series_of(&key().symbol).await));
        assert!(corrupt(store.list_series(&SeriesQuery::default()).await));
        damage(&store, SERIES, ("bad symbol", 1), b"{}");
        assert!(corrupt(
            store
                .list_series(&SeriesQuery {
                    symbol_prefix: Some("bad".into()),
                    ..SeriesQuery::default()
                })
                .await
        ));

        damage(&store, RECORDS, ("#system", "c", "id"), b"1234");
        assert!(corrupt(store.get(&record).await));
        assert!(corrupt(
            store.put(&record, b"x", WriteCondition::Always, None).await
        ));
        assert!(corrupt(
            store
                .list(record.scope(), &gs_domain::ListQuery::default())
                .await
        ));
    }

    #[tokio::test]
    async fn sub_second_bar_times_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let t = Utc.timestamp_opt(1_700_000_000, 1_000_000).unwrap();
        let bar = Bar::new(t, 1.0, 1.0, 1.0, 1.0, 1.0).unwrap();
        let r = store.put_bars(&key(), &[bar], &source()).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
        assert!(store.series_info(&key()).await.unwrap().is_none());
    }
}
