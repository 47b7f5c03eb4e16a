//! `BarStore` on DynamoDB: copy-on-write bucket versions written with
//! `BatchWriteItem`, switched in by one conditional `PutItem` of the series
//! metadata (expected: the generation the put started from).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use gs_domain::bar_layout::{
    BarRow, PlannedPut, SeriesListing, bar_page_limit, decode_bucket_rows, encode_bucket,
    finish_page, finish_series_page, key_bounds, le_i64, le_u64, merge, plan_put,
    series_key_from_parts, series_listing, series_stats_after, take_rows, time_from_key,
    timeframe_code, to_u64, too_many_in_bucket,
};
use gs_domain::{
    Bar, BarPage, BarQuery, BarStore, DataSource, MAX_BARS_PER_BUCKET, MAX_BARS_PER_PAGE, Order,
    PutReport, SeriesInfo, SeriesKey, SeriesPage, SeriesQuery, StoreError, Symbol, bucket_start,
};

use crate::DynamoStore;
use crate::error::{corrupt, sdk};
use crate::table::{b, get_b, get_n, get_s, n, random_u64, s, sortable_i64};

const SERIES_PARTITION: &str = "SERIES";
/// `BatchGetItem` takes at most 100 keys and answers at most 16 MB.
const MAX_KEYS_PER_BATCH_GET: usize = 100;
const MAX_BYTES_PER_BATCH_GET: u64 = 12 * 1024 * 1024;
/// `BatchWriteItem` takes at most 25 requests.
const MAX_WRITES_PER_BATCH: usize = 25;
/// A directory entry: bucket start, write id, bar count.
const DIR_ENTRY_LEN: usize = 24;
/// The metadata item must stay under DynamoDB's 400 KB item limit.
const MAX_DIRECTORY_BYTES: usize = 380 * 1024;
/// Rounds of unprocessed keys or items before giving up as throttled.
const MAX_BATCH_ROUNDS: u32 = 8;
/// Metadata re-reads when buckets a page needs were replaced meanwhile.
const MAX_READ_ATTEMPTS: u32 = 4;

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DirEntry {
    start: i64,
    write_id: u64,
    count: u64,
}

/// One series' metadata item.
#[derive(Debug, Clone)]
struct Meta {
    generation: u64,
    count: u64,
    first: i64,
    last: i64,
    source: DataSource,
    dir: Vec<DirEntry>,
}

fn series_sk(key: &SeriesKey) -> String {
    format!("{}#{:02}", key.symbol, timeframe_code(key.timeframe))
}

fn series_key_of(sk: &str) -> Result<SeriesKey, StoreError> {
    let (symbol, code) = sk.rsplit_once('#').ok_or_else(|| corrupt("series key"))?;
    series_key_from_parts(symbol, code.parse().map_err(|_| corrupt("series key"))?)
}

fn bars_pk(key: &SeriesKey) -> String {
    format!("BARS#{}#{:02}", key.symbol, timeframe_code(key.timeframe))
}

fn bucket_sk(start: i64, write_id: u64) -> String {
    format!("{}#{write_id:016x}", sortable_i64(start))
}

fn encode_dir(dir: &[DirEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(dir.len().saturating_mul(DIR_ENTRY_LEN));
    for e in dir {
        out.extend_from_slice(&e.start.to_le_bytes());
        out.extend_from_slice(&e.write_id.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
    }
    out
}

fn decode_dir(bytes: &[u8]) -> Result<Vec<DirEntry>, StoreError> {
    if bytes.len().checked_rem(DIR_ENTRY_LEN) != Some(0) {
        return Err(corrupt("bucket directory"));
    }
    let mut dir: Vec<DirEntry> = Vec::with_capacity(bytes.len() / DIR_ENTRY_LEN);
    for chunk in bytes.chunks_exact(DIR_ENTRY_LEN) {
        let field = |at: usize| chunk.get(at..at.saturating_add(8));
        let entry = DirEntry {
            start: field(0)
                .and_then(le_i64)
                .ok_or_else(|| corrupt("bucket start"))?,
            write_id: field(8)
                .and_then(le_u64)
                .ok_or_else(|| corrupt("write id"))?,
            count: field(16)
                .and_then(le_u64)
                .ok_or_else(|| corrupt("bucket count"))?,
        };
        if dir.last().is_some_and(|prev| prev.start >= entry.start) {
            return Err(corrupt("bucket directory order"));
        }
        dir.push(entry);
    }
    Ok(dir)
}

impl Meta {
    fn to_item(&self, key: &SeriesKey) -> Result<Item, StoreError> {
        let source = serde_json::to_string(&self.source)
            .map_err(|e| StoreError::engine("encoding the series source", e))?;
        let dir = encode_dir(&self.dir);
        if dir.len() > MAX_DIRECTORY_BYTES {
            return Err(StoreError::TooLarge(format!(
                "{} {} would span {} storage buckets; one series holds at most {}",
                key.symbol,
                key.timeframe,
                self.dir.len(),
                MAX_DIRECTORY_BYTES / DIR_ENTRY_LEN
            )));
        }
        Ok(HashMap::from([
            ("pk".to_string(), s(SERIES_PARTITION)),
            ("sk".to_string(), s(series_sk(key))),
            ("g".to_string(), n(self.generation)),
            ("nb".to_string(), n(self.count)),
            ("t0".to_string(), n(self.first)),
            ("t1".to_string(), n(self.last)),
            ("src".to_string(), s(source)),
            ("dir".to_string(), b(dir)),
        ]))
    }

    /// `with_dir: false` for items read without their directory.
    fn from_item(item: &Item, with_dir: bool) -> Result<Self, StoreError> {
        let source = serde_json::from_str(get_s(item, "src")?)
            .map_err(|e| StoreError::Corrupt(format!("series source does not decode: {e}")))?;
        Ok(Self {
            generation: get_n(item, "g")?,
            count: get_n(item, "nb")?,
            first: get_n(item, "t0")?,
            last: get_n(item, "t1")?,
            source,
            dir: if with_dir {
                decode_dir(get_b(item, "dir")?)?
            } else {
                Vec::new()
            },
        })
    }

    fn info(&self, key: SeriesKey) -> Result<SeriesInfo, StoreError> {
        Ok(SeriesInfo {
            key,
            count: self.count,
            first: time_from_key(self.first)?,
            last: time_from_key(self.last)?,
            source: self.source.clone(),
        })
    }
}

/// Attributes a listing reads: everything but the directory.
const LISTING_PROJECTION: &str = "sk, g, nb, t0, t1, src";

fn info_of_item(item: &Item) -> Result<SeriesInfo, StoreError> {
    Meta::from_item(item, false)?.info(series_key_of(get_s(item, "sk")?)?)
}

/// A bucket version to write, and the one it replaces.
struct Staged {
    start: i64,
    blob: Vec<u8>,
    count: u64,
    replaces: Option<DirEntry>,
}

fn key_of(pk: String, sk: String) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn conflict(key: &SeriesKey) -> StoreError {
    StoreError::Conflict(format!(
        "another writer changed {} {} while these bars were being written; nothing of this put \
         is visible, put the bars again",
        key.symbol, key.timeframe
    ))
}

impl DynamoStore {
    async fn read_meta(&self, key: &SeriesKey) -> Result<Option<Meta>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(SERIES_PARTITION.into(), series_sk(key))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("reading series metadata", e))?;
        out.item().map(|i| Meta::from_item(i, true)).transpose()
    }

    /// The blobs of `sks` in partition `pk` that exist, by sort key.
    async fn batch_get(
        &self,
        pk: &str,
        sks: &[String],
        consistent: bool,
    ) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        let mut found = HashMap::with_capacity(sks.len());
        let mut pending: Vec<Item> = sks
            .iter()
            .map(|sk| key_of(pk.to_string(), sk.clone()))
            .collect();
        let mut rounds = 0u32;
        while !pending.is_empty() {
            rounds = rounds.saturating_add(1);
            if rounds > MAX_BATCH_ROUNDS {
                return Err(StoreError::Throttled(
                    "DynamoDB kept leaving bar buckets unprocessed; read again shortly".into(),
                ));
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(consistent)
                .build()
                .map_err(|e| StoreError::engine("building a batch read", e))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk("reading bar buckets", e))?;
            for item in out
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                found.insert(get_s(item, "sk")?.to_string(), get_b(item, "b")?.to_vec());
            }
            if let Some(left) = out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                pending = left.keys().to_vec();
                backoff(rounds).await;
            }
        }
        Ok(found)
    }

    async fn batch_write(&self, mut pending: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut rounds = 0u32;
        while !pending.is_empty() {
            let rest = pending.split_off(pending.len().min(MAX_WRITES_PER_BATCH));
            let chunk = std::mem::replace(&mut pending, rest);
            let out = self
                .client
                .batch_write_item()
                .request_items(&self.table, chunk)
                .send()
                .await
                .map_err(|e| sdk("writing bar buckets", e))?;
            if let Some(left) = out.unprocessed_items().and_then(|u| u.get(&self.table))
                && !left.is_empty()
            {
                rounds = rounds.saturating_add(1);
                if rounds > MAX_BATCH_ROUNDS {
                    return Err(StoreError::Throttled(
                        "DynamoDB kept leaving bar buckets unwritten; put the bars again shortly"
                            .into(),
                    ));
                }
                pending.extend(left.iter().cloned());
                backoff(rounds).await;
            }
        }
        Ok(())
    }

    /// Deletes bucket versions nobody names any more. Best effort: a failure
    /// leaves unreachable items behind, never a wrong read.
    async fn forget(&self, key: &SeriesKey, versions: Vec<(i64, u64)>) {
        let pk = bars_pk(key);
        let requests: Vec<WriteRequest> = versions
            .into_iter()
            .filter_map(|(start, id)| {
                DeleteRequest::builder()
                    .set_key(Some(key_of(pk.clone(), bucket_sk(start, id))))
                    .build()
                    .ok()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
            })
            .collect();
        if let Err(e) = self.batch_write(requests).await {
            tracing_free_warn(key, &e);
        }
    }

    /// The rows of the buckets `entries` names, in their order, or `None`
    /// when one of them is gone (a newer generation replaced it).
    async fn load_buckets(
        &self,
        key: &SeriesKey,
        entries: &[DirEntry],
    ) -> Result<Option<Vec<Vec<BarRow>>>, StoreError> {
        let pk = bars_pk(key);
        let sks: Vec<String> = entries
            .iter()
            .map(|e| bucket_sk(e.start, e.write_id))
            .collect();
        // Versions are immutable once named, so an eventually consistent read
        // is right unless a version is too new to have reached every replica.
        let mut found = self.batch_get(&pk, &sks, false).await?;
        let missing: Vec<String> = sks
            .iter()
            .filter(|sk| !found.contains_key(*sk))
            .cloned()
            .collect();
        if !missing.is_empty() {
            found.extend(self.batch_get(&pk, &missing, true).await?);
        }
        let mut out = Vec::with_capacity(entries.len());
        for (entry, sk) in entries.iter().zip(&sks) {
            let Some(blob) = found.remove(sk) else {
                return Ok(None);
            };
            let rows = decode_bucket_rows(&blob)?;
            if to_u64(rows.len()) != entry.count {
                return Err(StoreError::Corrupt(format!(
                    "bucket {} of {} holds {} bars, its directory entry says {}",
                    entry.start,
                    key.symbol,
                    rows.len(),
                    entry.count
                )));
            }
            out.push(rows);
        }
        Ok(Some(out))
    }

    /// One page from one generation, or `None` if the generation was
    /// replaced while it was read.
    async fn page_from(
        &self,
        key: &SeriesKey,
        meta: &Meta,
        (lo, hi): (i64, i64),
        limit: usize,
        order: Order,
    ) -> Result<Option<BarPage>, StoreError> {
        let (first, last) = (
            bucket_start(key.timeframe, lo),
            bucket_start(key.timeframe, hi),
        );
        let mut entries: Vec<DirEntry> = meta
            .dir
            .iter()
            .filter(|e| (first..=last).contains(&e.start))
            .copied()
            .collect();
        if order == Order::Descending {
            entries.reverse();
        }
        // One row past the limit tells whether another page exists.
        let want = limit.saturating_add(1);
        let mut picked: Vec<BarRow> = Vec::with_capacity(want.min(MAX_BARS_PER_PAGE));
        let mut rest = entries.as_slice();
        while picked.len() < want && !rest.is_empty() {
            // Enough buckets, by their counts, to fill the page in one batch.
            let need = to_u64(want.saturating_sub(picked.len()));
            let (mut take, mut bars, mut bytes) = (0usize, 0u64, 0u64);
            for e in rest {
                let size = e.count.saturating_mul(48);
                if take > 0
                    && (bars >= need
                        || take >= MAX_KEYS_PER_BATCH_GET
                        || bytes.saturating_add(size) > MAX_BYTES_PER_BATCH_GET)
                {
                    break;
                }
                take = take.saturating_add(1);
                bars = bars.saturating_add(e.count);
                bytes = bytes.saturating_add(size);
            }
            let (batch, after) = rest.split_at(take.min(rest.len()));
            rest = after;
            let Some(buckets) = self.load_buckets(key, batch).await? else {
                return Ok(None);
            };
            for rows in buckets {
                take_rows(&mut picked, rows, (lo, hi), want, order);
            }
        }
        finish_page(picked, limit, order).map(Some)
    }

    /// Series metadata items of the `SERIES` partition whose sort key starts
    /// with `prefix`, after `start_after`, at most `most`.
    async fn query_series(
        &self,
        prefix: &str,
        start_after: Option<String>,
        most: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out: Vec<Item> = Vec::new();
        let mut start_key = start_after.map(|sk| key_of(SERIES_PARTITION.into(), sk));
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .projection_expression(LISTING_PROJECTION)
                .expression_attribute_values(":pk", s(SERIES_PARTITION))
                .limit(i32::try_from(most.saturating_sub(out.len())).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take());
            q = if prefix.is_empty() {
                q.key_condition_expression("pk = :pk")
            } else {
                q.key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix))
            };
            let page = q.send().await.map_err(|e| sdk("listing series", e))?;
            out.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(last) if out.len() < most => start_key = Some(last.clone()),
                _ => return Ok(out),
            }
        }
    }
}

/// A short exponential pause between rounds of unprocessed batch work.
async fn backoff(round: u32) {
    let ms = 10u64.saturating_mul(1u64 << round.min(8));
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Cleanup failures are not the caller's problem; this crate has no logger,
/// so they go to stderr, where Lambda sends them to CloudWatch.
fn tracing_free_warn(key: &SeriesKey, e: &StoreError) {
    eprintln!(
        "warning: could not delete superseded bar buckets of {} {}: {e}",
        key.symbol, key.timeframe
    );
}

#[async_trait]
impl BarStore for DynamoStore {
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
        let meta = self.read_meta(key).await?;
        let old_dir: HashMap<i64, DirEntry> = meta
            .iter()
            .flat_map(|m| m.dir.iter().map(|e| (e.start, *e)))
            .collect();
        let touched: Vec<DirEntry> = groups
            .iter()
            .filter_map(|(start, _)| old_dir.get(start).copied())
            .collect();
        let mut old_rows: HashMap<i64, Vec<BarRow>> = HashMap::new();
        for chunk in touched.chunks(MAX_KEYS_PER_BATCH_GET / 4) {
            let Some(loaded) = self.load_buckets(key, chunk).await? else {
                return Err(conflict(key));
            };
            old_rows.extend(chunk.iter().map(|e| e.start).zip(loaded));
        }
        let mut report = PutReport::default();
        let mut staged = Vec::with_capacity(groups.len());
        for (start, rows) in groups {
            let old = old_rows.remove(&start).unwrap_or_default();
            let merged = merge(old, rows, &mut report);
            if merged.len() > MAX_BARS_PER_BUCKET {
                return Err(too_many_in_bucket(key, start, merged.len()));
            }
            staged.push(Staged {
                start,
                blob: encode_bucket(&merged),
                count: to_u64(merged.len()),
                replaces: old_dir.get(&start).copied(),
            });
        }
        let write_id = random_u64();
        let mut dir = old_dir;
        for st in &staged {
            dir.insert(
                st.start,
                DirEntry {
                    start: st.start,
                    write_id,
                    count: st.count,
                },
            );
        }
        let mut dir: Vec<DirEntry> = dir.into_values().collect();
        dir.sort_by_key(|e| e.start);
        // The latest put names the source: a series re-imported from a file
        // stops being reported as synthetic.
        let (count, first, last) = series_stats_after(
            key,
            meta.as_ref().map(|m| (m.count, m.first, m.last)),
            report.inserted,
            (first, last),
        )?;
        let next = Meta {
            generation: write_id,
            count,
            first,
            last,
            source: source.clone(),
            dir,
        };
        let item = next.to_item(key)?;

        let pk = bars_pk(key);
        let mut writes = Vec::with_capacity(staged.len());
        for st in &staged {
            let mut bucket = key_of(pk.clone(), bucket_sk(st.start, write_id));
            bucket.insert("b".into(), b(st.blob.clone()));
            let put = PutRequest::builder()
                .set_item(Some(bucket))
                .build()
                .map_err(|e| StoreError::engine("building a bucket write", e))?;
            writes.push(WriteRequest::builder().put_request(put).build());
        }
        let staged_versions =
            || -> Vec<(i64, u64)> { staged.iter().map(|st| (st.start, write_id)).collect() };
        if let Err(e) = self.batch_write(writes).await {
            self.forget(key, staged_versions()).await;
            return Err(e);
        }
        let mut switch = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        switch = match &meta {
            Some(old) => switch
                .condition_expression("g = :expected")
                .expression_attribute_values(":expected", n(old.generation)),
            None => switch.condition_expression("attribute_not_exists(pk)"),
        };
        match switch.send().await {
            Ok(_) => {}
            Err(e) => {
                let lost = e
                    .as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception());
                // A timeout may have switched the series after all: then the
                // staged versions are named and must stay. Only a refused
                // condition proves they are unreachable.
                if lost {
                    self.forget(key, staged_versions()).await;
                    return Err(conflict(key));
                }
                return Err(sdk("switching the series to its new bars", e));
            }
        }
        let superseded: Vec<(i64, u64)> = staged
            .iter()
            .filter_map(|st| st.replaces.map(|r| (r.start, r.write_id)))
            .collect();
        if !superseded.is_empty() {
            self.forget(key, superseded).await;
        }
        Ok(report)
    }

    async fn get_bars(&self, key: &SeriesKey, query: &BarQuery) -> Result<BarPage, StoreError> {
        let Some(bounds) = key_bounds(query)? else {
            return Ok(BarPage::default());
        };
        let limit = bar_page_limit(query);
        if limit == 0 {
            return Ok(BarPage::default());
        }
        let mut seen_generation = None;
        for _ in 0..MAX_READ_ATTEMPTS {
            let Some(meta) = self.read_meta(key).await? else {
                return Ok(BarPage::default());
            };
            if seen_generation == Some(meta.generation) {
                return Err(StoreError::Corrupt(format!(
                    "the directory of {} {} names a bucket version that does not exist",
                    key.symbol, key.timeframe
                )));
            }
            if let Some(page) = self
                .page_from(key, &meta, bounds, limit, query.order)
                .await?
            {
                return Ok(page);
            }
            seen_generation = Some(meta.generation);
        }
        Err(StoreError::Unavailable(format!(
            "{} {} kept changing while it was read; read it again",
            key.symbol, key.timeframe
        )))
    }

    async fn series_info(&self, key: &SeriesKey) -> Result<Option<SeriesInfo>, StoreError> {
        self.read_meta(key)
            .await?
            .map(|m| m.info(key.clone()))
            .transpose()
    }

    async fn series_of(&self, symbol: &Symbol) -> Result<Vec<SeriesInfo>, StoreError> {
        let items = self
            .query_series(&format!("{symbol}#"), None, usize::MAX)
            .await?;
        let mut out = items
            .iter()
            .map(info_of_item)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
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
        let start_after = after.map(|(symbol, code)| format!("{symbol}#{code:02}"));
        let items = self
            .query_series(&prefix, start_after, limit.saturating_add(1))
            .await?;
        let series = items
            .iter()
            .map(info_of_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(finish_series_page(series, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_round_trip_and_refuse_damage() {
        let dir = vec![
            DirEntry {
                start: -86_400,
                write_id: 7,
                count: 1440,
            },
            DirEntry {
                start: 0,
                write_id: u64::MAX,
                count: 1,
            },
        ];
        assert_eq!(decode_dir(&encode_dir(&dir)).unwrap(), dir);
        assert!(decode_dir(&[0u8; 23]).is_err());
        let unordered = encode_dir(&[dir[1], dir[0]]);
        assert!(decode_dir(&unordered).is_err());
    }

    #[test]
    fn series_sort_keys_round_trip() {
        for tf in gs_domain::Timeframe::ALL {
            let key = SeriesKey::new(Symbol::parse("BRK.B").unwrap(), tf);
            assert_eq!(series_key_of(&series_sk(&key)).unwrap(), key);
        }
    }
}
