//! A put is one transaction: concurrent readers see all of it or none of it,
//! for inserts and for in-place rewrites alike.

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{Bar, BarQuery, BarStore, DataSource, SeriesKey, Symbol, Timeframe};
use gs_embedded_store::EmbeddedStore;

const BATCH: i64 = 2_000;

fn minute(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap() + chrono::Duration::minutes(n)
}

/// Bars whose every price is `generation`, so a reader can tell which put
/// each bar came from.
fn batch(range: std::ops::Range<i64>, generation: f64) -> Vec<Bar> {
    range
        .map(|n| {
            Bar::new(
                minute(n),
                generation,
                generation,
                generation,
                generation,
                1.0,
            )
            .unwrap()
        })
        .collect()
}

fn source() -> DataSource {
    DataSource::Imported {
        file: "atomic.csv".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_see_whole_batches_of_new_bars_and_matching_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let key = SeriesKey::new(Symbol::parse("BIG").unwrap(), Timeframe::M1);
    let writer = {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            for p in 0..5 {
                let bars = batch(p * BATCH..(p + 1) * BATCH, 1.0);
                store.put_bars(&key, &bars, &source()).await.unwrap();
            }
        })
    };
    let mut reads = 0u32;
    // Read until the writer is done (and at least once), then let a writer
    // panic surface instead of spinning forever.
    while !writer.is_finished() || reads == 0 {
        let info = store.series_info(&key).await.unwrap();
        let n = store
            .get_bars(&key, &BarQuery::default())
            .await
            .unwrap()
            .bars
            .len() as i64;
        assert_eq!(n % BATCH, 0, "read {n} bars: part of a put was visible");
        // Metadata read first cannot be ahead of the rows read after it.
        let count = info.map_or(0, |i| i.count as i64);
        assert_eq!(count % BATCH, 0, "metadata count {count} is mid-put");
        assert!(count <= n, "metadata ({count}) ahead of rows ({n})");
        reads += 1;
    }
    writer.await.unwrap();
    let info = store.series_info(&key).await.unwrap().unwrap();
    assert_eq!(info.count as i64, 5 * BATCH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_mix_generations_of_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let key = SeriesKey::new(Symbol::parse("REWRITE").unwrap(), Timeframe::M1);
    store
        .put_bars(&key, &batch(0..BATCH, 0.0), &source())
        .await
        .unwrap();
    const GENERATIONS: u32 = 15;
    let writer = {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            for g in 1..=GENERATIONS {
                let r = store
                    .put_bars(&key, &batch(0..BATCH, f64::from(g)), &source())
                    .await
                    .unwrap();
                assert_eq!((r.inserted, r.updated), (0, BATCH as u64));
            }
        })
    };
    let mut reads = 0u32;
    while !writer.is_finished() || reads == 0 {
        let bars = store
            .get_bars(&key, &BarQuery::default())
            .await
            .unwrap()
            .bars;
        assert_eq!(bars.len() as i64, BATCH);
        let generation = bars[0].close();
        assert!(
            bars.iter().all(|b| b.close() == generation),
            "one read mixed two rewrites"
        );
        reads += 1;
    }
    writer.await.unwrap();
    let last = store
        .get_bars(&key, &BarQuery::default())
        .await
        .unwrap()
        .bars;
    assert!(last.iter().all(|b| b.close() == f64::from(GENERATIONS)));
    assert_eq!(
        store.series_info(&key).await.unwrap().unwrap().count,
        BATCH as u64
    );
}
