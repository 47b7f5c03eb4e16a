//! The contract of the storage ports, written once and run against every
//! engine (embedded redb here, DynamoDB in the cloud) so they cannot drift.
//!
//! This file depends only on `gs-domain`, `chrono` and `tokio`, never on redb
//! or anything else in this crate, so it can move to its own crate unchanged.
//!
//! Each case is a `pub async fn` that takes a fresh, empty store and panics on
//! a violation. To run them all, an engine's integration test invokes the
//! macros with an expression that yields `(store, guard)`, where the guard
//! keeps whatever backs the store alive (a temp dir, a table to delete):
//!
//! ```ignore
//! async fn fresh() -> (DynamoStore, TestTable) { /* ... */ }
//! gs_embedded_store::bar_store_contract!(fresh());
//! gs_embedded_store::record_store_contract!(fresh());
//! ```
//!
//! The generated tests use `#[tokio::test]` on a multi-thread runtime, so the
//! calling crate needs `tokio` (features `macros`, `rt-multi-thread`).

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{
    Bar, BarQuery, BarStore, DataSource, Order, PutCondition, PutReport, RecordStore, SeriesKey,
    StoreError, Symbol, Timeframe,
};

/// One `#[tokio::test]` per `BarStore` case. `$fresh` is evaluated once per
/// test and must be a future of `(store, guard)`.
#[macro_export]
macro_rules! bar_store_contract {
    ($fresh:expr) => {
        $crate::contract_cases!($fresh;
            put_reports_inserted_then_updated,
            overlapping_puts_never_duplicate,
            empty_put_creates_nothing,
            unordered_put_is_refused_and_writes_nothing,
            range_bounds_are_inclusive,
            limit_counts_from_the_start_or_from_the_end,
            series_metadata_tracks_count_first_last_source,
            series_are_isolated_and_listed_by_symbol_then_timeframe,
            bar_values_and_times_round_trip_exactly,
            concurrent_bar_writers_end_consistent,
            readers_never_see_part_of_a_put,
        );
    };
}

/// One `#[tokio::test]` per `RecordStore` case; see [`bar_store_contract!`].
#[macro_export]
macro_rules! record_store_contract {
    ($fresh:expr) => {
        $crate::contract_cases!($fresh;
            versions_start_at_one_and_increase_by_one,
            if_absent_conflicts_when_present,
            if_version_requires_the_current_version,
            delete_reports_presence_and_restarts_versions,
            list_orders_by_id_after_cursor_within_limit,
            collections_are_isolated,
            record_values_are_opaque_bytes,
            empty_names_are_invalid,
            concurrent_conditional_writers_never_lose_updates,
            concurrent_creators_exactly_one_wins,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! contract_cases {
    ($fresh:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (store, _guard) = $fresh.await;
                $crate::contract::$case(store).await;
            }
        )+
    };
}

// ---------------------------------------------------------------- fixtures

fn key(symbol: &str, timeframe: Timeframe) -> SeriesKey {
    SeriesKey::new(Symbol::parse(symbol).unwrap(), timeframe)
}

fn daily() -> SeriesKey {
    key("AAPL", Timeframe::D1)
}

fn imported(file: &str) -> DataSource {
    DataSource::Imported { file: file.into() }
}

/// 2024-01-01 00:00 UTC plus `n` days.
fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(n)
}

/// A valid bar whose close identifies it (`tag`), so tests can tell which
/// write a stored bar came from.
fn bar_at(time: DateTime<Utc>, tag: f64) -> Bar {
    Bar::new(time, tag, tag + 2.0, tag - 1.0 / 4.0, tag + 1.0, tag * 10.0).unwrap()
}

fn bars(days: impl IntoIterator<Item = i64>, tag: f64) -> Vec<Bar> {
    days.into_iter().map(|d| bar_at(day(d), tag)).collect()
}

fn tags(got: &[Bar]) -> Vec<f64> {
    got.iter().map(Bar::open).collect()
}

fn days_of(got: &[Bar]) -> Vec<i64> {
    got.iter().map(|b| (b.time() - day(0)).num_days()).collect()
}

async fn all<S: BarStore>(store: &S, k: &SeriesKey) -> Vec<Bar> {
    store.get_bars(k, &BarQuery::default()).await.unwrap()
}

fn query(start: Option<i64>, end: Option<i64>, limit: Option<usize>, order: Order) -> BarQuery {
    BarQuery {
        start: start.map(day),
        end: end.map(day),
        limit,
        order,
    }
}

fn report(inserted: u64, updated: u64) -> PutReport {
    PutReport { inserted, updated }
}

// ------------------------------------------------------------- BarStore

pub async fn put_reports_inserted_then_updated<S: BarStore>(store: S) {
    let k = daily();
    let r = store
        .put_bars(&k, &bars(0..3, 10.0), &imported("a.csv"))
        .await;
    assert_eq!(r.unwrap(), report(3, 0));
    // Days 1-2 exist, 3-4 are new.
    let r = store
        .put_bars(&k, &bars(1..5, 20.0), &imported("a.csv"))
        .await;
    assert_eq!(r.unwrap(), report(2, 2));
    let got = all(&store, &k).await;
    assert_eq!(days_of(&got), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        tags(&got),
        vec![10.0, 20.0, 20.0, 20.0, 20.0],
        "re-put bars replace the old ones"
    );
    let r = store
        .put_bars(&k, &bars(0..5, 30.0), &imported("a.csv"))
        .await;
    assert_eq!(r.unwrap(), report(0, 5));
    assert_eq!(tags(&all(&store, &k).await), vec![30.0; 5]);
}

pub async fn overlapping_puts_never_duplicate<S: BarStore>(store: S) {
    let k = daily();
    for start in 0..10 {
        store
            .put_bars(
                &k,
                &bars(start..start + 5, start as f64 + 1.0),
                &imported("x"),
            )
            .await
            .unwrap();
    }
    let got = all(&store, &k).await;
    assert_eq!(days_of(&got), (0..14).collect::<Vec<_>>());
    assert_eq!(store.series_info(&k).await.unwrap().unwrap().count, 14);
}

pub async fn empty_put_creates_nothing<S: BarStore>(store: S) {
    let r = store.put_bars(&daily(), &[], &imported("x")).await.unwrap();
    assert_eq!(r, PutReport::default());
    assert!(store.series_info(&daily()).await.unwrap().is_none());
    assert!(store.list_series().await.unwrap().is_empty());
}

pub async fn unordered_put_is_refused_and_writes_nothing<S: BarStore>(store: S) {
    let k = daily();
    let fresh = key("MSFT", Timeframe::D1);
    store
        .put_bars(&k, &bars([0, 1], 1.0), &imported("a"))
        .await
        .unwrap();
    let before = store.series_info(&k).await.unwrap();
    let refused = [
        bars([5, 3], 2.0),       // backwards
        bars([2, 3, 3], 2.0),    // duplicate time
        bars([1, 7, 6, 8], 2.0), // disorder after valid bars: nothing of it may land
    ];
    for batch in &refused {
        let r = store.put_bars(&k, batch, &imported("b")).await;
        assert!(
            matches!(r, Err(StoreError::Invalid(_))),
            "expected Invalid, got {r:?}"
        );
        let r = store.put_bars(&fresh, batch, &imported("b")).await;
        assert!(
            matches!(r, Err(StoreError::Invalid(_))),
            "expected Invalid, got {r:?}"
        );
    }
    let got = all(&store, &k).await;
    assert_eq!((days_of(&got), tags(&got)), (vec![0, 1], vec![1.0, 1.0]));
    assert_eq!(
        store.series_info(&k).await.unwrap(),
        before,
        "metadata untouched"
    );
    assert!(
        store.series_info(&fresh).await.unwrap().is_none(),
        "no series created"
    );
    assert!(all(&store, &fresh).await.is_empty());
}

pub async fn range_bounds_are_inclusive<S: BarStore>(store: S) {
    let k = daily();
    store
        .put_bars(&k, &bars(0..10, 1.0), &imported("a"))
        .await
        .unwrap();
    let read = |q: BarQuery| {
        let (store, k) = (&store, &k);
        async move { days_of(&store.get_bars(k, &q).await.unwrap()) }
    };
    let asc = Order::Ascending;
    assert_eq!(
        read(query(Some(2), Some(5), None, asc)).await,
        vec![2, 3, 4, 5]
    );
    assert_eq!(read(query(Some(7), None, None, asc)).await, vec![7, 8, 9]);
    assert_eq!(read(query(None, Some(2), None, asc)).await, vec![0, 1, 2]);
    assert_eq!(read(query(Some(4), Some(4), None, asc)).await, vec![4]);
    assert_eq!(
        read(query(Some(-5), Some(50), None, asc)).await,
        (0..10).collect::<Vec<_>>()
    );
    assert!(
        read(query(Some(6), Some(3), None, asc)).await.is_empty(),
        "start after end"
    );
    assert!(read(query(Some(10), None, None, asc)).await.is_empty());
    assert!(read(query(None, Some(-1), None, asc)).await.is_empty());
    // Bounds between bar times include exactly the bars inside them.
    let q = BarQuery {
        start: Some(day(2) + chrono::Duration::hours(12)),
        end: Some(day(5) - chrono::Duration::milliseconds(1)),
        ..BarQuery::default()
    };
    assert_eq!(read(q).await, vec![3, 4]);
    assert!(
        all(&store, &key("AAPL", Timeframe::H1)).await.is_empty(),
        "an unknown series reads as empty"
    );
}

pub async fn limit_counts_from_the_start_or_from_the_end<S: BarStore>(store: S) {
    let k = daily();
    store
        .put_bars(&k, &bars(0..10, 1.0), &imported("a"))
        .await
        .unwrap();
    let read = |q: BarQuery| {
        let (store, k) = (&store, &k);
        async move { days_of(&store.get_bars(k, &q).await.unwrap()) }
    };
    let (asc, desc) = (Order::Ascending, Order::Descending);
    assert_eq!(read(query(None, None, Some(3), asc)).await, vec![0, 1, 2]);
    assert_eq!(
        read(query(None, None, Some(3), desc)).await,
        vec![7, 8, 9],
        "oldest first"
    );
    assert_eq!(
        read(query(Some(2), Some(6), Some(2), asc)).await,
        vec![2, 3]
    );
    assert_eq!(
        read(query(Some(2), Some(6), Some(2), desc)).await,
        vec![5, 6]
    );
    assert_eq!(
        read(query(Some(2), Some(6), Some(99), desc)).await,
        vec![2, 3, 4, 5, 6]
    );
    assert_eq!(
        read(query(None, None, None, desc)).await,
        (0..10).collect::<Vec<_>>()
    );
    assert!(read(query(None, None, Some(0), asc)).await.is_empty());
    assert!(read(query(None, None, Some(0), desc)).await.is_empty());
}

pub async fn series_metadata_tracks_count_first_last_source<S: BarStore>(store: S) {
    let k = daily();
    store
        .put_bars(&k, &bars(10..20, 1.0), &imported("a.csv"))
        .await
        .unwrap();
    let info = store.series_info(&k).await.unwrap().unwrap();
    assert_eq!(info.key, k);
    assert_eq!((info.count, info.first, info.last), (10, day(10), day(19)));
    assert_eq!(info.source, imported("a.csv"));

    // Earlier bars, overlapping bars and later bars; the latest put names the source.
    store
        .put_bars(&k, &bars([3, 12, 25], 2.0), &imported("a.csv"))
        .await
        .unwrap();
    let synthetic = DataSource::Synthetic {
        generator: "gbm".into(),
        seed: 42,
    };
    store
        .put_bars(&k, &bars([15, 16], 3.0), &synthetic)
        .await
        .unwrap();
    let info = store.series_info(&k).await.unwrap().unwrap();
    assert_eq!((info.count, info.first, info.last), (12, day(3), day(25)));
    assert_eq!(info.source, synthetic);
    assert_eq!(info.count as usize, all(&store, &k).await.len());
    assert!(
        store
            .series_info(&key("AAPL", Timeframe::W1))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn series_are_isolated_and_listed_by_symbol_then_timeframe<S: BarStore>(store: S) {
    // "AA" is a prefix of "AAPL" and "BRK-B"/"BRK.B" differ in one byte:
    // neither may read the other's bars.
    let keys = [
        (key("MSFT", Timeframe::D1), 1),
        (key("AAPL", Timeframe::W1), 2),
        (key("AAPL", Timeframe::M1), 3),
        (key("AA", Timeframe::D1), 4),
        (key("AAPL", Timeframe::H1), 5),
        (key("BRK.B", Timeframe::D1), 6),
        (key("BRK-B", Timeframe::D1), 7),
        (key("AAPL", Timeframe::H4), 8),
    ];
    for (k, n) in &keys {
        let tag = f64::from(*n);
        store
            .put_bars(k, &bars(0..i64::from(*n), tag), &imported("x"))
            .await
            .unwrap();
    }
    for (k, n) in &keys {
        let got = all(&store, k).await;
        assert_eq!(got.len(), *n as usize, "{k:?}");
        assert!(
            tags(&got).iter().all(|t| *t == f64::from(*n)),
            "{k:?} read another series"
        );
    }
    let listed: Vec<(String, Timeframe, u64)> = store
        .list_series()
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.key.symbol.to_string(), i.key.timeframe, i.count))
        .collect();
    let expected: Vec<(String, Timeframe, u64)> = [
        ("AA", Timeframe::D1, 4),
        ("AAPL", Timeframe::M1, 3),
        ("AAPL", Timeframe::H1, 5),
        ("AAPL", Timeframe::H4, 8),
        ("AAPL", Timeframe::W1, 2),
        ("BRK-B", Timeframe::D1, 7),
        ("BRK.B", Timeframe::D1, 6),
        ("MSFT", Timeframe::D1, 1),
    ]
    .into_iter()
    .map(|(s, tf, n)| (s.to_string(), tf, n))
    .collect();
    assert_eq!(listed, expected);
}

pub async fn bar_values_and_times_round_trip_exactly<S: BarStore>(store: S) {
    let k = key("^GSPC", Timeframe::M1);
    let at = |y, mo, d, h, mi| Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
    // Times on both sides of the epoch: a key encoding that sorts bytes
    // instead of numbers would put 1969 after 1970.
    let written = vec![
        Bar::new(at(1962, 2, 20, 14, 47), 0.1 + 0.2, 1e300, 1e-300, 0.3, 0.0).unwrap(),
        Bar::new(at(1969, 12, 31, 23, 59), 1.0, 1.0, 1.0, 1.0, 1e15).unwrap(),
        Bar::new(at(1970, 1, 1, 0, 0), 0.0, 0.0, 0.0, 0.0, 0.0).unwrap(),
        Bar::new(
            at(2038, 1, 19, 3, 14),
            123.456_789,
            130.0,
            120.5,
            125.0,
            42.5,
        )
        .unwrap(),
        Bar::new(at(2262, 4, 11, 0, 0), 5.0, 6.0, 4.0, 5.5, 1.0).unwrap(),
    ];
    store.put_bars(&k, &written, &imported("x")).await.unwrap();
    let got = all(&store, &k).await;
    assert_eq!(got, written);
    for (g, w) in got.iter().zip(&written) {
        assert_eq!(
            g.open().to_bits(),
            w.open().to_bits(),
            "values must be bit-exact"
        );
    }
    let info = store.series_info(&k).await.unwrap().unwrap();
    assert_eq!(
        (info.first, info.last),
        (written[0].time(), written[4].time())
    );
    let q = BarQuery {
        end: Some(at(1970, 1, 1, 0, 0)),
        limit: Some(2),
        order: Order::Descending,
        ..BarQuery::default()
    };
    assert_eq!(store.get_bars(&k, &q).await.unwrap(), written[1..3]);
}

pub async fn concurrent_bar_writers_end_consistent<S: BarStore + Clone + 'static>(store: S) {
    const WRITERS: i64 = 8;
    const PUTS: i64 = 10;
    const WIDTH: i64 = 20;
    let shared = daily();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        let (shared, own) = (shared.clone(), key(&format!("W{w}"), Timeframe::H1));
        tasks.push(tokio::spawn(async move {
            let mut total = PutReport::default();
            for p in 0..PUTS {
                // Writers overlap each other on the shared series (start
                // offsets 5 days apart, 20 wide) and also own a series each.
                let start = w * 5 + p * 3;
                let r = store
                    .put_bars(&shared, &bars(start..start + WIDTH, 1.0), &imported("c"))
                    .await
                    .unwrap();
                total.inserted += r.inserted;
                total.updated += r.updated;
                let r = store
                    .put_bars(&own, &bars([p], 1.0), &imported("c"))
                    .await
                    .unwrap();
                assert_eq!(r, report(1, 0));
            }
            total
        }));
    }
    let mut total = PutReport::default();
    for t in tasks {
        let r = t.await.unwrap();
        total.inserted += r.inserted;
        total.updated += r.updated;
    }
    let distinct: BTreeSet<i64> = (0..WRITERS)
        .flat_map(|w| (0..PUTS).flat_map(move |p| (w * 5 + p * 3)..(w * 5 + p * 3 + WIDTH)))
        .collect();
    let got = all(&store, &shared).await;
    assert_eq!(days_of(&got), distinct.iter().copied().collect::<Vec<_>>());
    assert_eq!(
        total.inserted,
        distinct.len() as u64,
        "each time inserted exactly once"
    );
    assert_eq!(
        total.inserted + total.updated,
        (WRITERS * PUTS * WIDTH) as u64
    );
    let info = store.series_info(&shared).await.unwrap().unwrap();
    assert_eq!(info.count, distinct.len() as u64);
    assert_eq!(
        (info.first, info.last),
        (got[0].time(), got[got.len() - 1].time())
    );
    let listed = store.list_series().await.unwrap();
    assert_eq!(listed.len() as i64, WRITERS + 1);
    for info in &listed {
        assert_eq!(
            info.count as usize,
            all(&store, &info.key).await.len(),
            "{:?}",
            info.key
        );
    }
}

/// Every put adds `BATCH` new bars while readers run: any read must see a
/// whole number of batches, both in the rows and in the metadata count.
pub async fn readers_never_see_part_of_a_put<S: BarStore + Clone + 'static>(store: S) {
    const BATCH: i64 = 100;
    const PUTS: i64 = 20;
    let k = key("ATOM", Timeframe::M1);
    let minute = |n: i64| day(0) + chrono::Duration::minutes(n);
    let writer = {
        let (store, k) = (store.clone(), k.clone());
        tokio::spawn(async move {
            for p in 0..PUTS {
                let batch: Vec<Bar> = (p * BATCH..(p + 1) * BATCH)
                    .map(|n| bar_at(minute(n), 1.0))
                    .collect();
                store.put_bars(&k, &batch, &imported("a")).await.unwrap();
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() || reads == 0 {
        let n = all(&store, &k).await.len() as i64;
        assert_eq!(n % BATCH, 0, "a reader saw {n} bars: part of a put");
        if let Some(info) = store.series_info(&k).await.unwrap() {
            assert_eq!(info.count as i64 % BATCH, 0, "metadata saw part of a put");
        }
        reads += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    assert_eq!(all(&store, &k).await.len() as i64, BATCH * PUTS);
}

// ----------------------------------------------------------- RecordStore

const PORTFOLIOS: &str = "portfolios";

pub async fn versions_start_at_one_and_increase_by_one<S: RecordStore>(store: S) {
    assert!(store.get(PORTFOLIOS, "main").await.unwrap().is_none());
    for (n, value) in [b"one".as_slice(), b"two", b"three"]
        .into_iter()
        .enumerate()
    {
        let v = store
            .put(PORTFOLIOS, "main", value, PutCondition::Always)
            .await
            .unwrap();
        assert_eq!(v, n as u64 + 1);
        let r = store.get(PORTFOLIOS, "main").await.unwrap().unwrap();
        assert_eq!(
            (r.id.as_str(), r.version, r.value.as_slice()),
            ("main", v, value)
        );
    }
}

pub async fn if_absent_conflicts_when_present<S: RecordStore>(store: S) {
    let v = store
        .put(PORTFOLIOS, "p", b"first", PutCondition::IfAbsent)
        .await
        .unwrap();
    assert_eq!(v, 1);
    let r = store
        .put(PORTFOLIOS, "p", b"second", PutCondition::IfAbsent)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "got {r:?}");
    let r = store.get(PORTFOLIOS, "p").await.unwrap().unwrap();
    assert_eq!((r.version, r.value.as_slice()), (1, &b"first"[..]));
}

pub async fn if_version_requires_the_current_version<S: RecordStore>(store: S) {
    let r = store
        .put(PORTFOLIOS, "p", b"x", PutCondition::IfVersion(1))
        .await;
    assert!(
        matches!(r, Err(StoreError::Conflict(_))),
        "absent record: got {r:?}"
    );
    assert!(store.get(PORTFOLIOS, "p").await.unwrap().is_none());

    store
        .put(PORTFOLIOS, "p", b"v1", PutCondition::IfAbsent)
        .await
        .unwrap();
    let v = store
        .put(PORTFOLIOS, "p", b"v2", PutCondition::IfVersion(1))
        .await
        .unwrap();
    assert_eq!(v, 2);
    for stale in [0, 1, 3] {
        let r = store
            .put(PORTFOLIOS, "p", b"lost", PutCondition::IfVersion(stale))
            .await;
        assert!(
            matches!(r, Err(StoreError::Conflict(_))),
            "version {stale}: got {r:?}"
        );
    }
    let r = store.get(PORTFOLIOS, "p").await.unwrap().unwrap();
    assert_eq!((r.version, r.value.as_slice()), (2, &b"v2"[..]));
}

/// A deleted record is gone: recreating it starts again at version 1.
pub async fn delete_reports_presence_and_restarts_versions<S: RecordStore>(store: S) {
    assert!(!store.delete(PORTFOLIOS, "p").await.unwrap());
    store
        .put(PORTFOLIOS, "p", b"a", PutCondition::Always)
        .await
        .unwrap();
    store
        .put(PORTFOLIOS, "p", b"b", PutCondition::Always)
        .await
        .unwrap();
    store
        .put(PORTFOLIOS, "q", b"q", PutCondition::Always)
        .await
        .unwrap();
    assert!(store.delete(PORTFOLIOS, "p").await.unwrap());
    assert!(!store.delete(PORTFOLIOS, "p").await.unwrap());
    assert!(store.get(PORTFOLIOS, "p").await.unwrap().is_none());
    assert!(
        store.get(PORTFOLIOS, "q").await.unwrap().is_some(),
        "other ids untouched"
    );
    let v = store
        .put(PORTFOLIOS, "p", b"c", PutCondition::IfAbsent)
        .await
        .unwrap();
    assert_eq!(v, 1);
}

pub async fn list_orders_by_id_after_cursor_within_limit<S: RecordStore>(store: S) {
    for id in ["b", "a", "c", "aa", "b0", "B", "a b"] {
        store
            .put(PORTFOLIOS, id, id.as_bytes(), PutCondition::Always)
            .await
            .unwrap();
    }
    store
        .put(PORTFOLIOS, "a", b"a", PutCondition::Always)
        .await
        .unwrap();
    let ids = |after: Option<&'static str>, limit: usize| {
        let store = &store;
        async move {
            let got = store.list(PORTFOLIOS, after, limit).await.unwrap();
            for r in &got {
                assert_eq!(r.value, r.id.as_bytes(), "value belongs to its id");
            }
            got.into_iter()
                .map(|r| (r.id, r.version))
                .collect::<Vec<_>>()
        }
    };
    let owned = |v: &[(&str, u64)]| {
        v.iter()
            .map(|(i, n)| (i.to_string(), *n))
            .collect::<Vec<_>>()
    };
    // Byte order of ids: uppercase before lowercase, space before letters.
    let every = owned(&[
        ("B", 1),
        ("a", 2),
        ("a b", 1),
        ("aa", 1),
        ("b", 1),
        ("b0", 1),
        ("c", 1),
    ]);
    assert_eq!(ids(None, 100).await, every);
    assert_eq!(ids(None, 2).await, every[..2]);
    assert_eq!(ids(Some("aa"), 2).await, every[4..6], "after is exclusive");
    assert_eq!(
        ids(Some("ab"), 100).await,
        every[4..],
        "cursor need not exist"
    );
    assert!(ids(Some("c"), 100).await.is_empty());
    assert!(ids(None, 0).await.is_empty());
    // Paging with the last id as cursor visits every record once.
    let (mut paged, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = store.list(PORTFOLIOS, cursor.as_deref(), 3).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(last.id.clone());
        paged.extend(page.into_iter().map(|r| (r.id, r.version)));
    }
    assert_eq!(paged, every);
    assert!(
        store
            .list("nothing-here", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn collections_are_isolated<S: RecordStore>(store: S) {
    // Each name is a prefix of the next.
    let collections = ["po", "port", "portfolio", "portfolios"];
    for (n, c) in collections.iter().enumerate() {
        for _ in 0..=n {
            store
                .put(c, "shared-id", c.as_bytes(), PutCondition::Always)
                .await
                .unwrap();
        }
        store
            .put(c, &format!("only-{c}"), b"x", PutCondition::IfAbsent)
            .await
            .unwrap();
    }
    for (n, c) in collections.iter().enumerate() {
        let r = store.get(c, "shared-id").await.unwrap().unwrap();
        assert_eq!(
            (r.version, r.value.as_slice()),
            (n as u64 + 1, c.as_bytes())
        );
        let ids: Vec<String> = store
            .list(c, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            ids,
            vec![format!("only-{c}"), "shared-id".to_string()],
            "collection {c}"
        );
    }
    assert!(store.get("port", "only-portfolio").await.unwrap().is_none());
    assert!(store.delete("port", "shared-id").await.unwrap());
    assert!(store.get("portfolio", "shared-id").await.unwrap().is_some());
    assert!(store.get("po", "shared-id").await.unwrap().is_some());
    let after_last_of_port = store.list("port", Some("only-port"), 100).await.unwrap();
    assert!(
        after_last_of_port.is_empty(),
        "listing must stop at the collection's end"
    );
}

pub async fn record_values_are_opaque_bytes<S: RecordStore>(store: S) {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let values: [&[u8]; 4] = [b"", b"\0\0\xff\x01", "ünïcødé ✓".as_bytes(), &big];
    for (n, value) in values.iter().enumerate() {
        let id = format!("v{n}");
        store
            .put("blobs", &id, value, PutCondition::Always)
            .await
            .unwrap();
        let r = store.get("blobs", &id).await.unwrap().unwrap();
        assert_eq!(r.value.as_slice(), *value);
    }
}

pub async fn empty_names_are_invalid<S: RecordStore>(store: S) {
    let r = store.put("", "id", b"x", PutCondition::Always).await;
    assert!(matches!(r, Err(StoreError::Invalid(_))), "got {r:?}");
    let r = store.put("c", "", b"x", PutCondition::Always).await;
    assert!(matches!(r, Err(StoreError::Invalid(_))), "got {r:?}");
    assert!(matches!(
        store.get("c", "").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.list("", None, 1).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Optimistic read-modify-write from many tasks: with `IfVersion`, no
/// increment may be lost however the writes interleave.
pub async fn concurrent_conditional_writers_never_lose_updates<S: RecordStore + Clone + 'static>(
    store: S,
) {
    const TASKS: u64 = 8;
    const INCREMENTS: u64 = 10;
    store
        .put("counters", "c", &0u64.to_le_bytes(), PutCondition::IfAbsent)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u64;
            for _ in 0..INCREMENTS {
                loop {
                    let r = store.get("counters", "c").await.unwrap().unwrap();
                    let n = u64::from_le_bytes(r.value.as_slice().try_into().unwrap());
                    let next = (n + 1).to_le_bytes();
                    match store
                        .put("counters", "c", &next, PutCondition::IfVersion(r.version))
                        .await
                    {
                        Ok(v) => {
                            assert_eq!(v, r.version + 1);
                            break;
                        }
                        Err(StoreError::Conflict(_)) => conflicts += 1,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                    tokio::task::yield_now().await;
                }
            }
            conflicts
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = store.get("counters", "c").await.unwrap().unwrap();
    let n = u64::from_le_bytes(r.value.as_slice().try_into().unwrap());
    assert_eq!(n, TASKS * INCREMENTS, "an increment was lost");
    assert_eq!(r.version, TASKS * INCREMENTS + 1);
}

pub async fn concurrent_creators_exactly_one_wins<S: RecordStore + Clone + 'static>(store: S) {
    let tasks: Vec<_> = (0..16u8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .put("locks", "job", &[n], PutCondition::IfAbsent)
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (n, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(v) => winners.push((n as u8, v)),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let r = store.get("locks", "job").await.unwrap().unwrap();
    assert_eq!((r.value, r.version), (vec![winners[0].0], 1));
}
