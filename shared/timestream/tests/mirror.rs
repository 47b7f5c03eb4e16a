//! The Timestream mirror against the AWS emulator (moto), without endpoint
//! discovery: a put lands in the primary store and, as multi-measure records,
//! in Timestream; a broken mirror never fails the put.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use gs_domain::{Bar, BarQuery, BarStore, DataSource, SeriesKey, Symbol, Timeframe};
use gs_timestream::{Mirrored, TimestreamMirror};

/// The primary store: the DynamoDB engine, on the same emulator.
async fn primary() -> Arc<dyn BarStore> {
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("mirror");
    let store = gs_dynamo_store::DynamoStore::from_config(&sdk, &table);
    gs_dynamo_store::table::create(store.client(), &table)
        .await
        .unwrap();
    Arc::new(store)
}

async fn timestream_table(database: &str, table: &str) {
    let client = aws_sdk_timestreamwrite::Client::new(&gs_aws_emulator::sdk_config());
    client
        .create_database()
        .database_name(database)
        .send()
        .await
        .unwrap();
    client
        .create_table()
        .database_name(database)
        .table_name(table)
        .send()
        .await
        .unwrap();
}

/// What moto holds for `table`, through its state endpoint.
async fn stored_records(table: &str) -> Vec<serde_json::Value> {
    let url = format!("{}/moto-api/data.json", gs_aws_emulator::endpoint());
    let state: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    state["timestreamwrite"]["TimestreamTable"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["name"] == table)
        .flat_map(|t| t["records"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn bars(n: i64) -> Vec<Bar> {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 14, 30, 0).unwrap();
    (0..n)
        .map(|k| {
            let p = 100.0 + k as f64 / 8.0;
            Bar::new(
                t0 + chrono::Duration::minutes(k),
                p,
                p + 0.5,
                p - 0.5,
                p + 0.25,
                1e6,
            )
            .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn puts_are_mirrored_as_multi_measure_records() {
    let database = gs_aws_emulator::unique_name("gsdb");
    let table = gs_aws_emulator::unique_name("bars");
    timestream_table(&database, &table).await;
    let mirror = TimestreamMirror::at_endpoint(&gs_aws_emulator::sdk_config(), &database, &table);
    let store = Mirrored::new(primary().await, mirror.clone());
    let key = SeriesKey::new(Symbol::parse("AAPL").unwrap(), Timeframe::M1);
    let source = DataSource::Imported {
        file: "mirror.csv".into(),
    };
    // 250 bars: three WriteRecords calls of at most 100.
    let put = bars(250);
    let report = store.put_bars(&key, &put, &source).await.unwrap();
    assert_eq!(report.inserted, 250);
    assert_eq!(mirror.failures(), 0);
    // Reads come from the primary store.
    let page = store.get_bars(&key, &BarQuery::default()).await.unwrap();
    assert_eq!(page.bars, put);

    let records = stored_records(&table).await;
    assert_eq!(records.len(), 250, "one record per bar");
    let first = &records[0];
    assert_eq!(first["MeasureName"], "bar");
    assert_eq!(first["MeasureValueType"], "MULTI");
    assert_eq!(first["TimeUnit"], "SECONDS");
    assert_eq!(first["Time"], put[0].time().timestamp().to_string());
    let dims: Vec<(String, String)> = first["Dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["Name"].as_str().unwrap().into(),
                d["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        dims,
        vec![
            ("symbol".into(), "AAPL".into()),
            ("timeframe".into(), "1m".into())
        ]
    );
    let close = first["MeasureValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == "close")
        .unwrap();
    assert_eq!(
        close["Value"].as_str().unwrap().parse::<f64>().unwrap(),
        put[0].close()
    );
}

#[tokio::test]
async fn a_failing_mirror_never_fails_the_put() {
    // No such database: every mirror write fails.
    let mirror = TimestreamMirror::at_endpoint(
        &gs_aws_emulator::sdk_config(),
        &gs_aws_emulator::unique_name("missing"),
        "bars",
    );
    let store = Mirrored::new(primary().await, mirror.clone());
    let key = SeriesKey::new(Symbol::parse("MSFT").unwrap(), Timeframe::M1);
    let source = DataSource::Imported {
        file: "mirror.csv".into(),
    };
    let report = store.put_bars(&key, &bars(10), &source).await.unwrap();
    assert_eq!(report.inserted, 10);
    assert_eq!(mirror.failures(), 1);
    assert_eq!(
        store
            .get_bars(&key, &BarQuery::default())
            .await
            .unwrap()
            .bars
            .len(),
        10
    );
}
