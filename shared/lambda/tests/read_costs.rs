//! DynamoDB requests per `get_historical_data` call, counted on the wire by
//! an SDK interceptor: a year of daily bars and a day of minute bars are a
//! handful of reads, not one per bar or per day.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{Bar, BarStore, DataSource, SeriesKey, Symbol, Timeframe};
use gs_dynamo_store::DynamoStore;
use gs_tools::{CallerIdentity, ComputePool, Invoker, LocalInvoker, Stores, ToolCall, ToolReply};
use serde_json::value::RawValue;

/// Requests sent, by DynamoDB operation.
#[derive(Debug, Clone, Default)]
struct Counter(Arc<Mutex<BTreeMap<String, u32>>>);

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "request counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.split('.').nth(1))
            .unwrap_or("?")
            .to_string();
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

impl Counter {
    fn take(&self) -> BTreeMap<String, u32> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn bars(last: DateTime<Utc>, step: chrono::Duration, n: i64) -> Vec<Bar> {
    (0..n)
        .rev()
        .map(|k| {
            let p = 100.0 + (k % 17) as f64;
            Bar::new(
                last - step * (k as i32),
                p,
                p + 1.0,
                p - 1.0,
                p + 0.5,
                1000.0,
            )
            .unwrap()
        })
        .collect()
}

async fn history(invoker: &LocalInvoker, args: &str) -> usize {
    let call = ToolCall::new(
        "get_historical_data",
        RawValue::from_string(args.to_string()).unwrap(),
        CallerIdentity {
            subject: "reader".into(),
            scopes: vec!["market-data:*".into()],
            groups: Vec::new(),
        },
        "read-costs",
        Duration::from_secs(60),
    );
    match invoker.invoke(call, None).await {
        ToolReply::Ok { structured, .. } => {
            let v: serde_json::Value = serde_json::from_str(structured.get()).unwrap();
            v["bars"].as_array().unwrap().len()
        }
        other => panic!("{args}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_daily_bars_and_a_day_of_minute_bars_are_a_few_reads() {
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("reads");
    let counter = Counter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(counter.clone())
        .build();
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        &table,
    ));
    gs_dynamo_store::table::create(store.client(), &table)
        .await
        .unwrap();
    let source = DataSource::Imported {
        file: "reads.csv".into(),
    };
    // Two years of daily bars (so a year is a range inside the series) and
    // three days of minute bars, ending at one fixed time.
    let end = Utc.with_ymd_and_hms(2026, 11, 30, 21, 0, 0).unwrap();
    let daily = SeriesKey::new(Symbol::parse("DAILY").unwrap(), Timeframe::D1);
    let minute = SeriesKey::new(Symbol::parse("MINUTE").unwrap(), Timeframe::M1);
    store
        .put_bars(&daily, &bars(end, chrono::Duration::days(1), 730), &source)
        .await
        .unwrap();
    store
        .put_bars(
            &minute,
            &bars(end, chrono::Duration::minutes(1), 3 * 1440),
            &source,
        )
        .await
        .unwrap();
    counter.take();

    let invoker = LocalInvoker::new(
        Stores {
            bars: store.clone(),
            records: store,
            cipher: None,
            bus: None,
        },
        Arc::new(ComputePool::new(1)),
    );
    let year = history(
        &invoker,
        r#"{"symbol":"DAILY","timeframe":"1d","days":365,"limit":5000}"#,
    )
    .await;
    let year_reads = counter.take();
    let day = history(
        &invoker,
        r#"{"symbol":"MINUTE","timeframe":"1m","days":1,"limit":5000}"#,
    )
    .await;
    let day_reads = counter.take();
    eprintln!("1 year of daily bars ({year} bars): {year_reads:?}");
    eprintln!("1 day of minute bars ({day} bars): {day_reads:?}");
    assert!((365..=366).contains(&year), "{year}");
    assert!((1440..=1441).contains(&day), "{day}");
    for reads in [&year_reads, &day_reads] {
        let total: u32 = reads.values().sum();
        assert!(total <= 4, "{reads:?}");
        assert!(
            reads.get("BatchGetItem").copied().unwrap_or(0) <= 1,
            "{reads:?}"
        );
        assert!(
            reads
                .keys()
                .all(|op| matches!(op.as_str(), "GetItem" | "Query" | "BatchGetItem")),
            "reads only: {reads:?}"
        );
    }
}
