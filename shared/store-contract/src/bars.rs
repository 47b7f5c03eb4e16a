//! `BarStore` cases: merging, ranges, buckets, pages, generations.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{
    Bar, BarQuery, BarStore, DataSource, MAX_BARS_PER_BUCKET, MAX_BARS_PER_PAGE,
    MAX_SERIES_PER_PAGE, Order, PutReport, SeriesKey, SeriesQuery, StoreError, Symbol, Timeframe,
    bucket_span_seconds, read_bars, read_series,
};

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

/// Every bar of a series, following cursors.
async fn all<S: BarStore>(store: &S, k: &SeriesKey) -> Vec<Bar> {
    read_bars(store, k, &BarQuery::default()).await.unwrap()
}

/// One page's bars.
async fn page<S: BarStore>(store: &S, k: &SeriesKey, q: &BarQuery) -> Vec<Bar> {
    store.get_bars(k, q).await.unwrap().bars
}

fn query(start: Option<i64>, end: Option<i64>, limit: Option<usize>, order: Order) -> BarQuery {
    BarQuery {
        start: start.map(day),
        end: end.map(day),
        limit,
        order,
        cursor: None,
    }
}

fn report(inserted: u64, updated: u64) -> PutReport {
    PutReport { inserted, updated }
}

/// A put that another writer beat is not applied; putting again re-merges.
async fn put_retrying<S: BarStore>(store: &S, k: &SeriesKey, batch: &[Bar]) -> PutReport {
    loop {
        match store.put_bars(k, batch, &imported("c")).await {
            Ok(r) => return r,
            Err(StoreError::Conflict(_)) => tokio::task::yield_now().await,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
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
    assert!(read_series(&store, None).await.unwrap().is_empty());
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
        async move { days_of(&page(store, k, &q).await) }
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
        async move { days_of(&page(store, k, &q).await) }
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
    let listed: Vec<(String, Timeframe, u64)> = read_series(&store, None)
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
    assert_eq!(page(&store, &k, &q).await, written[1..3]);
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
                let batch = bars(start..start + WIDTH, 1.0);
                let r = put_retrying(&store, &shared, &batch).await;
                total.inserted += r.inserted;
                total.updated += r.updated;
                let r = put_retrying(&store, &own, &bars([p], 1.0)).await;
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
    let listed = read_series(&store, None).await.unwrap();
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
                put_retrying(&store, &k, &batch).await;
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

// ------------------------------------------------------ buckets and pages

fn secs(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).unwrap()
}

fn times_of(got: &[Bar]) -> Vec<i64> {
    got.iter().map(|b| b.time().timestamp()).collect()
}

/// Bars on each side of several bucket boundaries, for a fine and a coarse
/// timeframe: they must read back as one series, in order, and a re-put of
/// bars at the edges updates them in place.
pub async fn bars_on_both_sides_of_bucket_boundaries<S: BarStore>(store: S) {
    for tf in [Timeframe::M1, Timeframe::D1] {
        let k = key("EDGE", tf);
        let (span, w) = (bucket_span_seconds(tf), tf.seconds());
        // Boundaries at 1, 2 and 3 spans past a boundary in 2024, and one
        // before the epoch.
        let base = (day(0).timestamp() / span) * span;
        let mut times = vec![-span - w, -span, -span + w];
        for n in 1..=3 {
            let b = base + n * span;
            times.extend([b - 2 * w, b - w, b, b + w]);
        }
        let written: Vec<Bar> = times.iter().map(|t| bar_at(secs(*t), 1.0)).collect();
        let r = store.put_bars(&k, &written, &imported("a")).await.unwrap();
        assert_eq!(r, report(times.len() as u64, 0), "{tf}");
        assert_eq!(times_of(&all(&store, &k).await), times, "{tf}");
        // The last bar before and the first bar after a boundary, re-put.
        let b = base + 2 * span;
        let edges = vec![bar_at(secs(b - w), 2.0), bar_at(secs(b), 2.0)];
        let r = store.put_bars(&k, &edges, &imported("a")).await.unwrap();
        assert_eq!(r, report(0, 2), "{tf}");
        let got = all(&store, &k).await;
        assert_eq!(times_of(&got), times, "{tf}");
        for bar in &got {
            let t = bar.time().timestamp();
            let want = if t == b - w || t == b { 2.0 } else { 1.0 };
            assert_eq!(bar.open(), want, "{tf} at {t}");
        }
        // Ranges that start or end exactly on a boundary.
        let q = |start: i64, end: i64, limit: Option<usize>, order: Order| BarQuery {
            start: Some(secs(start)),
            end: Some(secs(end)),
            limit,
            order,
            cursor: None,
        };
        let read = |q: BarQuery| {
            let (store, k) = (&store, &k);
            async move { times_of(&page(store, k, &q).await) }
        };
        assert_eq!(
            read(q(b, b + w, None, Order::Ascending)).await,
            vec![b, b + w]
        );
        assert_eq!(
            read(q(b - 2 * w, b - 1, None, Order::Ascending)).await,
            vec![b - 2 * w, b - w]
        );
        assert_eq!(
            read(q(base, b, Some(2), Order::Descending)).await,
            vec![b - w, b]
        );
        assert_eq!(
            read(q(b - w, base + 3 * span, Some(3), Order::Ascending)).await,
            vec![b - w, b, b + w]
        );
        let info = store.series_info(&k).await.unwrap().unwrap();
        assert_eq!(info.count, times.len() as u64);
        assert_eq!(
            (info.first, info.last),
            (secs(times[0]), secs(*times.last().unwrap()))
        );
    }
}

/// More bars in one bucket than the engine can store in one item is refused
/// before anything is written, also when the overflow comes from merging.
pub async fn bucket_overflow_is_refused_and_writes_nothing<S: BarStore>(store: S) {
    let k = daily();
    // Daily bars one second apart: a whole import lands in one bucket.
    let t0 = (day(0).timestamp() / bucket_span_seconds(Timeframe::D1))
        * bucket_span_seconds(Timeframe::D1);
    let dense = |from: usize, n: usize| -> Vec<Bar> {
        (from..from + n)
            .map(|i| bar_at(secs(t0 + i as i64), 1.0))
            .collect()
    };
    let r = store
        .put_bars(&k, &dense(0, MAX_BARS_PER_BUCKET + 1), &imported("a"))
        .await;
    assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
    assert!(store.series_info(&k).await.unwrap().is_none());
    store
        .put_bars(&k, &dense(0, MAX_BARS_PER_BUCKET - 10), &imported("a"))
        .await
        .unwrap();
    let r = store
        .put_bars(&k, &dense(MAX_BARS_PER_BUCKET - 10, 11), &imported("b"))
        .await;
    assert!(
        matches!(r, Err(StoreError::Invalid(_))),
        "merged overflow: {r:?}"
    );
    let info = store.series_info(&k).await.unwrap().unwrap();
    assert_eq!(
        (info.count, info.source),
        ((MAX_BARS_PER_BUCKET - 10) as u64, imported("a"))
    );
    assert_eq!(all(&store, &k).await.len(), MAX_BARS_PER_BUCKET - 10);
}

/// Minute bars over four UTC days (so pages cross buckets), read in pages of
/// 7 in both orders, with and without bounds.
pub async fn bar_pages_follow_cursors_in_both_orders<S: BarStore>(store: S) {
    let k = key("PAGES", Timeframe::M1);
    // 10 bars around each midnight, 4 midnights: 40 bars.
    let times: Vec<i64> = (1..=4)
        .flat_map(|d| {
            let midnight = day(d).timestamp();
            (-5..5).map(move |m| midnight + m * 60)
        })
        .collect();
    let written: Vec<Bar> = times.iter().map(|t| bar_at(secs(*t), 1.0)).collect();
    store.put_bars(&k, &written, &imported("a")).await.unwrap();
    for (start, end) in [(None, None), (Some(times[3]), Some(times[33]))] {
        let expected: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| start.is_none_or(|s| *t >= s) && end.is_none_or(|e| *t <= e))
            .collect();
        for order in [Order::Ascending, Order::Descending] {
            let mut q = BarQuery {
                start: start.map(secs),
                end: end.map(secs),
                limit: Some(7),
                order,
                cursor: None,
            };
            let mut pages: Vec<Vec<i64>> = Vec::new();
            loop {
                let p = store.get_bars(&k, &q).await.unwrap();
                let got = times_of(&p.bars);
                assert!(
                    got.windows(2).all(|w| w[0] < w[1]),
                    "pages are oldest first"
                );
                match p.next_cursor {
                    Some(c) => {
                        assert_eq!(got.len(), 7, "only the last page may be short");
                        pages.push(got);
                        q.cursor = Some(c);
                    }
                    None => {
                        assert!(got.len() <= 7);
                        pages.push(got);
                        break;
                    }
                }
                assert!(pages.len() <= 10, "cursors must make progress");
            }
            if order == Order::Descending {
                pages.reverse();
            }
            let flat: Vec<i64> = pages.into_iter().flatten().collect();
            assert_eq!(flat, expected, "{order:?} from {start:?} to {end:?}");
        }
    }
    // A page that ends exactly at the last bar has no next page.
    let q = BarQuery {
        limit: Some(40),
        ..BarQuery::default()
    };
    let p = store.get_bars(&k, &q).await.unwrap();
    assert_eq!((p.bars.len(), p.next_cursor), (40, None));
    let p = store
        .get_bars(
            &k,
            &BarQuery {
                limit: Some(39),
                ..q
            },
        )
        .await
        .unwrap();
    assert!(p.next_cursor.is_some());
    let p = store
        .get_bars(
            &k,
            &BarQuery {
                limit: Some(1),
                cursor: p.next_cursor,
                ..BarQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((times_of(&p.bars), p.next_cursor), (vec![times[39]], None));
}

/// A page never holds more than the port's maximum, whatever `limit` says.
pub async fn bar_pages_are_capped_at_the_maximum<S: BarStore>(store: S) {
    let k = key("CAP", Timeframe::M1);
    let n = MAX_BARS_PER_PAGE + 5;
    let minute = |i: usize| secs(day(0).timestamp() + 60 * i as i64);
    let written: Vec<Bar> = (0..n).map(|i| bar_at(minute(i), 1.0)).collect();
    store.put_bars(&k, &written, &imported("a")).await.unwrap();
    for limit in [None, Some(n), Some(usize::MAX)] {
        for order in [Order::Ascending, Order::Descending] {
            let q = BarQuery {
                limit,
                order,
                ..BarQuery::default()
            };
            let first = store.get_bars(&k, &q).await.unwrap();
            assert_eq!(first.bars.len(), MAX_BARS_PER_PAGE, "{limit:?} {order:?}");
            let expected_first = match order {
                Order::Ascending => minute(0),
                Order::Descending => minute(5),
            };
            assert_eq!(first.bars[0].time(), expected_first);
            let rest = store
                .get_bars(
                    &k,
                    &BarQuery {
                        cursor: first.next_cursor.clone(),
                        ..q
                    },
                )
                .await
                .unwrap();
            assert_eq!((rest.bars.len(), rest.next_cursor), (5, None));
        }
    }
    assert_eq!(
        all(&store, &k).await,
        written,
        "read_bars follows the cursors"
    );
    let last = read_bars(
        &store,
        &k,
        &BarQuery {
            limit: Some(MAX_BARS_PER_PAGE + 2),
            order: Order::Descending,
            ..BarQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(last, written[3..]);
}

pub async fn foreign_cursors_are_invalid<S: BarStore>(store: S) {
    let k = daily();
    store
        .put_bars(&k, &bars(0..10, 1.0), &imported("a"))
        .await
        .unwrap();
    let asc = store
        .get_bars(
            &k,
            &BarQuery {
                limit: Some(3),
                ..BarQuery::default()
            },
        )
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let desc = BarQuery {
        order: Order::Descending,
        cursor: Some(asc),
        ..BarQuery::default()
    };
    let r = store.get_bars(&k, &desc).await;
    assert!(
        matches!(r, Err(StoreError::Invalid(_))),
        "cursor of the other order: {r:?}"
    );
    for junk in ["", "garbage", "12345"] {
        let q = BarQuery {
            cursor: Some(junk.into()),
            ..BarQuery::default()
        };
        let r = store.get_bars(&k, &q).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{junk:?}: {r:?}");
        let q = SeriesQuery {
            cursor: Some(junk.into()),
            ..SeriesQuery::default()
        };
        let r = store.list_series(&q).await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{junk:?}: {r:?}");
    }
}

pub async fn series_pages_follow_cursors_within_a_prefix<S: BarStore>(store: S) {
    let symbols = ["A", "AA", "AAPL", "AB", "B", "BA"];
    let tfs = [Timeframe::M1, Timeframe::H1, Timeframe::D1];
    for s in symbols {
        for tf in tfs {
            store
                .put_bars(&key(s, tf), &bars([0], 1.0), &imported("x"))
                .await
                .unwrap();
        }
    }
    let every: Vec<(String, Timeframe)> = symbols
        .iter()
        .flat_map(|s| tfs.iter().map(move |tf| (s.to_string(), *tf)))
        .collect();
    for (prefix, limit) in [
        (None, 4),
        (Some("A"), 5),
        (Some("AA"), 1),
        (Some("B"), 100),
        (Some("Z"), 3),
    ] {
        let expected: Vec<(String, Timeframe)> = every
            .iter()
            .filter(|(s, _)| prefix.is_none_or(|p| s.starts_with(p)))
            .cloned()
            .collect();
        let mut got = Vec::new();
        let mut q = SeriesQuery {
            symbol_prefix: prefix.map(str::to_string),
            limit: Some(limit),
            cursor: None,
        };
        loop {
            let p = store.list_series(&q).await.unwrap();
            assert!(p.series.len() <= limit);
            got.extend(
                p.series
                    .iter()
                    .map(|i| (i.key.symbol.to_string(), i.key.timeframe)),
            );
            match p.next_cursor {
                Some(c) => {
                    assert_eq!(p.series.len(), limit, "only the last page may be short");
                    q.cursor = Some(c);
                }
                None => break,
            }
        }
        assert_eq!(got, expected, "prefix {prefix:?}");
        let listed: Vec<(String, Timeframe)> = read_series(&store, prefix)
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.key.symbol.to_string(), i.key.timeframe))
            .collect();
        assert_eq!(listed, expected);
    }
    let a = SeriesQuery {
        symbol_prefix: Some("A".into()),
        limit: Some(1),
        cursor: None,
    };
    let cursor = store.list_series(&a).await.unwrap().next_cursor;
    let b = SeriesQuery {
        symbol_prefix: Some("B".into()),
        limit: Some(1),
        cursor,
    };
    let r = store.list_series(&b).await;
    assert!(
        matches!(r, Err(StoreError::Invalid(_))),
        "cursor of another prefix: {r:?}"
    );
    let p = store
        .list_series(&SeriesQuery {
            limit: Some(0),
            ..SeriesQuery::default()
        })
        .await
        .unwrap();
    assert!(p.series.is_empty());
}

pub async fn series_of_returns_every_timeframe_finest_first<S: BarStore>(store: S) {
    for (s, tf) in [
        ("AAPL", Timeframe::D1),
        ("AAPL", Timeframe::M5),
        ("AAPL", Timeframe::W1),
        ("AAPL", Timeframe::H1),
        ("AA", Timeframe::M1),
        ("AAPLX", Timeframe::M1),
    ] {
        store
            .put_bars(&key(s, tf), &bars([0, 1], 1.0), &imported(s))
            .await
            .unwrap();
    }
    let got = store
        .series_of(&Symbol::parse("AAPL").unwrap())
        .await
        .unwrap();
    let tfs: Vec<Timeframe> = got.iter().map(|i| i.key.timeframe).collect();
    assert_eq!(
        tfs,
        vec![Timeframe::M5, Timeframe::H1, Timeframe::D1, Timeframe::W1]
    );
    for info in &got {
        assert_eq!(
            Some(info.clone()),
            store.series_info(&info.key).await.unwrap()
        );
    }
    assert!(
        store
            .series_of(&Symbol::parse("MSFT").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

/// A put sent twice (a retry after a timeout) leaves the same bars and
/// metadata as one; the retry reports them as updated.
pub async fn retried_put_is_idempotent<S: BarStore>(store: S) {
    let k = key("RETRY", Timeframe::H1);
    let hour = |h: i64| day(0) + chrono::Duration::hours(h);
    // Spans several 60-day buckets.
    let batch: Vec<Bar> = (0..4_000).map(|h| bar_at(hour(h), 1.0)).collect();
    assert_eq!(
        store.put_bars(&k, &batch, &imported("a")).await.unwrap(),
        report(4_000, 0)
    );
    let info = store.series_info(&k).await.unwrap();
    assert_eq!(
        store.put_bars(&k, &batch, &imported("a")).await.unwrap(),
        report(0, 4_000)
    );
    assert_eq!(store.series_info(&k).await.unwrap(), info);
    assert_eq!(all(&store, &k).await, batch);
}

/// Writers race to rewrite the same buckets while a reader reads. Every read
/// sees one generation whole (all tags equal, the right count); every put
/// either lands whole or fails with `Conflict` and leaves no trace; the
/// series ends at the tag of a winner.
pub async fn losing_writers_leave_no_trace_and_readers_never_mix_generations<
    S: BarStore + Clone + 'static,
>(
    store: S,
) {
    const WRITERS: u32 = 6;
    const N: i64 = 3_000;
    let k = key("RACE", Timeframe::M1);
    let minute = |n: i64| day(0) + chrono::Duration::minutes(n);
    let batch = |tag: f64| -> Vec<Bar> { (0..N).map(|n| bar_at(minute(n), tag)).collect() };
    store
        .put_bars(&k, &batch(100.0), &imported("base"))
        .await
        .unwrap();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS as usize + 1));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, k, start) = (store.clone(), k.clone(), start.clone());
            let bars = batch(f64::from(w + 1));
            tokio::spawn(async move {
                start.wait().await;
                store
                    .put_bars(&k, &bars, &imported(&format!("w{}", w + 1)))
                    .await
            })
        })
        .collect();
    start.wait().await;
    let mut seen = BTreeSet::new();
    let mut reads = 0;
    while writers.iter().any(|w| !w.is_finished()) || reads == 0 {
        let got = page(&store, &k, &BarQuery::default()).await;
        assert_eq!(got.len() as i64, N, "a read saw part of a generation");
        let tag = got[0].open();
        assert!(
            got.iter().all(|b| b.open() == tag),
            "one read mixed generations"
        );
        seen.insert(tag.to_bits());
        reads += 1;
        tokio::task::yield_now().await;
    }
    let mut winners = BTreeSet::new();
    for (w, t) in writers.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r, report(0, N as u64));
                winners.insert(f64::from(w as u32 + 1).to_bits());
            }
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert!(!winners.is_empty(), "the first writer to switch wins");
    for tag in &seen {
        assert!(
            *tag == 100f64.to_bits() || winners.contains(tag),
            "a reader saw bars of a writer that lost: {}",
            f64::from_bits(*tag)
        );
    }
    let last = all(&store, &k).await;
    assert_eq!(last.len() as i64, N);
    assert!(winners.contains(&last[0].open().to_bits()));
    let info = store.series_info(&k).await.unwrap().unwrap();
    assert_eq!(info.count, N as u64);
    assert_eq!(info.source, imported(&format!("w{}", last[0].open())));
}

/// A `list_series` page never holds more than the port's maximum.
pub async fn series_pages_are_capped_at_the_maximum<S: BarStore + Clone + 'static>(store: S) {
    let n = MAX_SERIES_PER_PAGE + 1;
    let symbols: Vec<String> = (0..n).map(|i| format!("S{i:04}")).collect();
    // A few writers at once: each series is its own put.
    let tasks: Vec<_> = symbols
        .chunks(n.div_ceil(4))
        .map(|chunk| {
            let (store, chunk) = (store.clone(), chunk.to_vec());
            tokio::spawn(async move {
                for s in chunk {
                    store
                        .put_bars(&key(&s, Timeframe::D1), &bars([0], 1.0), &imported("x"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let q = SeriesQuery {
        limit: Some(usize::MAX),
        ..SeriesQuery::default()
    };
    let first = store.list_series(&q).await.unwrap();
    assert_eq!(first.series.len(), MAX_SERIES_PER_PAGE);
    let rest = store
        .list_series(&SeriesQuery {
            cursor: first.next_cursor,
            ..q
        })
        .await
        .unwrap();
    assert_eq!(rest.series.len(), 1);
    assert_eq!(rest.series[0].key.symbol.as_str(), symbols[n - 1]);
    assert!(rest.next_cursor.is_none());
}
