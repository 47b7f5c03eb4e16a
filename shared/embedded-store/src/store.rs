//! `EmbeddedStore`: the redb engine of the storage ports.
//!
//! Table layout (all in `<data_dir>/goldensignals.redb`):
//!
//! | table            | key                                            | value                                          |
//! |------------------|------------------------------------------------|------------------------------------------------|
//! | `series_v2`      | (symbol, timeframe code)                       | JSON `{generation, count, first, last, source}` |
//! | `bar_dir_v2`     | (symbol, timeframe code, bucket start)         | write id u64 LE ++ bar count u64 LE             |
//! | `bar_buckets_v2` | (symbol, timeframe code, bucket start, write id) | format byte ++ rows of time i64 ++ 5 × f64 LE |
//! | `records_v2`     | (owner, collection, id)                        | kind u8 ++ version u64 ++ expiry ms i64 ++ body |
//!
//! `series_v2` plus `bar_dir_v2` are the series metadata of the port: they
//! are only ever written together, in the one transaction that switches a
//! series to a new generation, so together they play the part of the single
//! conditional metadata write DynamoDB makes. Bucket blobs are immutable:
//! a put stages new blobs under a fresh write id in transactions of their
//! own (which do not hold the single redb writer for a whole import), and
//! the switch deletes the blobs it supersedes. Blobs no directory names
//! (a put that failed or lost the race) are invisible and are removed the
//! next time the file is opened.
//!
//! redb compares tuple keys element by element, so a series' directory is one
//! contiguous, time-ordered key range, a symbol's series are one range
//! (`series_of`), and a scope's records are exactly the keys whose first two
//! elements equal it. Table names carry a version so a future layout can live
//! beside this one during a migration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gs_domain::StoreError;
use redb::{Database, ReadableTable, TableDefinition};

use crate::codec::BucketRef;

pub(crate) const SERIES: TableDefinition<(&str, u8), &[u8]> = TableDefinition::new("series_v2");
pub(crate) const BAR_DIR: TableDefinition<(&str, u8, i64), &[u8]> =
    TableDefinition::new("bar_dir_v2");
pub(crate) const BUCKETS: TableDefinition<(&str, u8, i64, u64), &[u8]> =
    TableDefinition::new("bar_buckets_v2");
pub(crate) const RECORDS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("records_v2");

const FILE_NAME: &str = "goldensignals.redb";

/// Bars and records in one redb file. Cloning shares the open database; the
/// file is closed when the last clone is dropped.
#[derive(Clone)]
pub struct EmbeddedStore {
    pub(crate) db: Arc<Database>,
    path: Arc<PathBuf>,
    /// The next write id for staged buckets. The file is open in one process
    /// only, so a counter seeded past every id in the file is unique.
    write_ids: Arc<AtomicU64>,
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
pub(crate) fn engine<E: Into<redb::Error>>(doing: &'static str) -> impl FnOnce(E) -> StoreError {
    move |e| StoreError::engine(doing, e.into())
}

impl EmbeddedStore {
    /// Opens (creating if needed) `data_dir` and `data_dir/goldensignals.redb`,
    /// and removes bucket blobs left behind by puts that never switched.
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
        let next_id = sweep_orphans(&db)?;
        Ok(Self {
            db: Arc::new(db),
            path: Arc::new(path),
            write_ids: Arc::new(AtomicU64::new(next_id)),
        })
    }

    /// The database file this store writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn next_write_id(&self) -> u64 {
        self.write_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs a redb job on the blocking pool: redb does file I/O and fsyncs, and
    /// `begin_write` waits for the previous writer, neither of which may stall
    /// an async worker. If the caller's future is dropped the job still runs to
    /// the end, so a write is committed whole or not at all.
    pub(crate) async fn blocking<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&EmbeddedStore) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || job(&store))
            .await
            .map_err(|e| StoreError::engine("embedded store task did not complete", e))?
    }
}

/// Creates every table (so readers never treat "no table" as "empty"),
/// deletes bucket blobs no directory entry names, and returns a write id
/// above every id in the file.
fn sweep_orphans(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_write().map_err(engine("beginning a write"))?;
    let mut max_id = 0u64;
    {
        txn.open_table(SERIES)
            .map_err(engine("creating the series table"))?;
        txn.open_table(RECORDS)
            .map_err(engine("creating the records table"))?;
        txn.open_table(crate::bus::BUS_QUEUE)
            .map_err(engine("creating the bus queue"))?;
        txn.open_table(crate::bus::BUS_DLQ)
            .map_err(engine("creating the dead-letter queue"))?;
        txn.open_table(crate::bus::BUS_SEQ)
            .map_err(engine("creating the bus sequence"))?;
        let dir = txn
            .open_table(BAR_DIR)
            .map_err(engine("creating the bar directory"))?;
        let mut buckets = txn
            .open_table(BUCKETS)
            .map_err(engine("creating the bar buckets table"))?;
        let mut orphans = Vec::new();
        for entry in buckets.iter().map_err(engine("scanning bar buckets"))? {
            let (k, _) = entry.map_err(engine("scanning bar buckets"))?;
            let (symbol, tf, start, id) = k.value();
            max_id = max_id.max(id);
            let named = dir
                .get((symbol, tf, start))
                .map_err(engine("reading the bar directory"))?
                .map(|v| BucketRef::decode(v.value()))
                .transpose()?
                .is_some_and(|r| r.write_id == id);
            if !named {
                orphans.push((symbol.to_string(), tf, start, id));
            }
        }
        for entry in dir.iter().map_err(engine("scanning the bar directory"))? {
            let (_, v) = entry.map_err(engine("scanning the bar directory"))?;
            max_id = max_id.max(BucketRef::decode(v.value())?.write_id);
        }
        for (symbol, tf, start, id) in &orphans {
            buckets
                .remove((symbol.as_str(), *tf, *start, *id))
                .map_err(engine("removing an orphaned bucket"))?;
        }
    }
    txn.commit().map_err(engine("committing table creation"))?;
    Ok(max_id.saturating_add(1))
}
