//! The store is a file: what was committed is there after a restart, and the
//! file cannot be opened twice at once.

use chrono::{TimeZone, Utc};
use gs_domain::{
    Bar, BarQuery, BarStore, DataSource, Owner, RecordKey, RecordStore, SeriesKey, StoreError,
    Symbol, Timeframe, WriteCondition, read_bars,
};
use gs_embedded_store::EmbeddedStore;

fn key() -> SeriesKey {
    SeriesKey::new(Symbol::parse("AAPL").unwrap(), Timeframe::H1)
}

fn record(collection: &str, id: &str) -> RecordKey {
    RecordKey::new(Owner::user("alice").unwrap(), collection, id).unwrap()
}

fn hourly(n: i64) -> Vec<Bar> {
    let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    (0..n)
        .map(|h| {
            let p = 100.0 + h as f64;
            Bar::new(
                t0 + chrono::Duration::hours(h),
                p,
                p + 1.0,
                p - 1.0,
                p + 0.5,
                1_000.0,
            )
            .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: open creates it.
    let data_dir = dir.path().join("nested").join("data");
    let source = DataSource::Synthetic {
        generator: "gbm".into(),
        seed: 7,
    };
    // Several buckets, and more than one page.
    let written = hourly(12_000);
    {
        let store = EmbeddedStore::open(&data_dir).unwrap();
        assert_eq!(store.path(), data_dir.join("goldensignals.redb"));
        store.put_bars(&key(), &written, &source).await.unwrap();
        store
            .put(
                &record("settings", "theme"),
                b"dark",
                WriteCondition::Always,
                None,
            )
            .await
            .unwrap();
        store
            .put(
                &record("settings", "theme"),
                b"light",
                WriteCondition::Always,
                None,
            )
            .await
            .unwrap();
        // A clone shares the database; both must go before the file closes.
        let clone = store.clone();
        drop(store);
        clone
            .put(
                &record("alerts", "a1"),
                b"{}",
                WriteCondition::IfAbsent,
                None,
            )
            .await
            .unwrap();
    }
    assert!(data_dir.join("goldensignals.redb").is_file());

    let store = EmbeddedStore::open(&data_dir).unwrap();
    assert_eq!(
        read_bars(&store, &key(), &BarQuery::default())
            .await
            .unwrap(),
        written
    );
    let info = store.series_info(&key()).await.unwrap().unwrap();
    assert_eq!((info.count, info.source), (12_000, source));
    let theme = store
        .get(&record("settings", "theme"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((theme.version, theme.value.as_slice()), (2, &b"light"[..]));
    assert_eq!(
        store
            .put(
                &record("settings", "theme"),
                b"x",
                WriteCondition::IfVersion(2),
                None
            )
            .await
            .unwrap(),
        3
    );
    assert!(store.get(&record("alerts", "a1")).await.unwrap().is_some());
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_an_engine_error() {
    let dir = tempfile::tempdir().unwrap();
    let _first = EmbeddedStore::open(dir.path()).unwrap();
    match EmbeddedStore::open(dir.path()) {
        Err(e @ StoreError::Engine { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("another GoldenSignals process"),
                "{message}"
            );
            assert!(
                std::error::Error::source(&e).is_some(),
                "the redb error is kept"
            );
        }
        other => panic!("expected an engine error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_an_engine_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("goldensignals.redb"),
        b"definitely not redb",
    )
    .unwrap();
    let r = EmbeddedStore::open(dir.path());
    assert!(matches!(r, Err(StoreError::Engine { .. })), "{r:?}");
}
