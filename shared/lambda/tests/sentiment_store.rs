//! News and posts on both engines: the embedded store and DynamoDB (moto)
//! hold the same demo items and answer `get_news_sentiment` and
//! `get_social_sentiment` identically; imports racing each other with the
//! same file store every item exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use gs_domain::{BarStore, RecordStore, Timeframe};
use gs_tools::sentiment::store::store_items;
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

fn ctx(stores: &Stores) -> ToolContext {
    ToolContext {
        subject: "sentiment-store-test".into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-sentiment-store".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(240),
        pool: Arc::new(ComputePool::new(2)),
        progress: None,
        live: None,
    }
}

async fn call(stores: &Stores, tool: &str, args: Value) -> Value {
    let raw = serde_json::value::to_raw_value(&args).unwrap();
    let out = find(tool)
        .unwrap()
        .call(ctx(stores), raw)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    serde_json::from_str(out.structured.get()).unwrap()
}

/// The daily demo series of a few symbols (enough for items and a study).
async fn seed(bars: &dyn BarStore) {
    let source = gs_market_data::demo_source(42);
    for s in gs_market_data::demo_dataset(42, Utc::now()) {
        if s.key.timeframe == Timeframe::D1 && ["AAPL", "SPY"].contains(&s.key.symbol.as_str()) {
            bars.put_bars(&s.key, &s.bars, &source).await.unwrap();
        }
    }
}

fn stores_of<S: BarStore + RecordStore + 'static>(s: Arc<S>) -> Stores {
    Stores {
        bars: s.clone(),
        records: s,
        cipher: None,
        bus: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_engines_hold_and_answer_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = stores_of(Arc::new(
        gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap(),
    ));
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("sentiment");
    let dynamo = gs_dynamo_store::DynamoStore::from_config(&sdk, &table);
    gs_dynamo_store::table::create(dynamo.client(), &table)
        .await
        .unwrap();
    let dynamo = stores_of(Arc::new(dynamo));

    // The demo items of the last 150 days of AAPL and SPY (moto takes about
    // 20 ms an operation in transactions, so not the whole demo set).
    let since = Utc::now() - chrono::Duration::days(150);
    let mut prices = Vec::new();
    for stores in [&embedded, &dynamo] {
        seed(stores.bars.as_ref()).await;
    }
    for s in gs_market_data::demo_dataset(42, Utc::now()) {
        if s.key.timeframe == Timeframe::D1 && ["AAPL", "SPY"].contains(&s.key.symbol.as_str()) {
            prices.push(gs_sentiment::demo::DemoPrices {
                symbol: s.key.symbol.as_str().to_string(),
                name: s.key.symbol.as_str().to_string(),
                bars: s.bars.iter().map(|b| (b.time(), b.close())).collect(),
            });
        }
    }
    let index = gs_tools::sentiment::ticker_index(&embedded).await.unwrap();
    let mut items = gs_sentiment::demo::generate(&prices, 42, &index);
    items.news.retain(|n| n.time >= since);
    items.posts.retain(|p| p.time >= since);
    let mut reports = Vec::new();
    for stores in [&embedded, &dynamo] {
        let records = stores.records.as_ref();
        let news = store_items(records, &items.news).await.unwrap();
        let posts = store_items(records, &items.posts).await.unwrap();
        reports.push((news, posts));
    }
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0].0.stored, items.news.len());
    assert!(items.news.len() > 30 && items.posts.len() > 30);

    let end = Utc::now().to_rfc3339();
    for tool in ["get_news_sentiment", "get_social_sentiment"] {
        let args = json!({"symbol": "AAPL", "days": 140, "end": end, "limit": 100});
        let a = call(&embedded, tool, args.clone()).await;
        let b = call(&dynamo, tool, args).await;
        assert!(a["total_items"].as_u64().unwrap() > 0, "{tool}");
        assert_eq!(a, b, "{tool} differs between the engines");
    }
    let study = json!({"symbol": "AAPL", "date": items.news[0].time.to_rfc3339()});
    assert_eq!(
        call(&embedded, "analyze_event_impact", study.clone()).await,
        call(&dynamo, "analyze_event_impact", study).await
    );

    // Three imports of one 30-item file at once: every item stored once.
    let file: String = (0..30)
        .map(|i| format!("{{\"time\":\"2026-02-0{}T{:02}:00:00Z\",\"headline\":\"Item {i}\",\"tickers\":[\"IBM\"],\"url\":\"https://race.example/{i}\"}}\n", 1 + i / 24, i % 24))
        .collect();
    for stores in [&embedded, &dynamo] {
        let runs = (0..3).map(|_| {
            let stores = stores.clone();
            let file = file.clone();
            tokio::spawn(async move { call(&stores, "import_news", json!({"text": file})).await })
        });
        let mut stored = 0;
        let mut already = 0;
        for r in runs {
            let out = r.await.unwrap();
            stored += out["stored"].as_u64().unwrap();
            already += out["already_stored"].as_u64().unwrap();
        }
        assert_eq!((stored, already), (30, 60));
        let listed = call(
            stores,
            "get_news_sentiment",
            json!({"symbol": "IBM", "end": "2026-02-06T00:00:00Z", "days": 6}),
        )
        .await;
        assert_eq!(listed["total_items"], 30);
    }
}
