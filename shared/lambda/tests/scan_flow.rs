//! Watchlists and scheduled scans on both engines (embedded + outbox bus;
//! DynamoDB + EventBridge/SQS on moto):
//! - a scheduled scan of a 50-symbol watchlist stores 50 results and
//!   publishes 50 `signal.generated` and no `signal.changed` (nothing to
//!   change from);
//! - the next scan publishes `signal.changed` exactly for the symbols whose
//!   previous action differs, and an alert rule on a signal change fires
//!   for its owner's scan only;
//! - the schedule index is claimed: a second scheduler pass at the same
//!   time runs nothing, and the next run is indexed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use gs_domain::bus::EventBus;
use gs_domain::{
    Bar, DataSource, ListQuery, Owner, RecordKey, RecordScope, RecordStore, SeriesKey, Symbol,
    Timeframe, WriteCondition,
};
use gs_tools::bus::{self, PollSettings};
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

const SYMBOLS: usize = 50;

fn ctx(stores: &Stores, subject: &str) -> ToolContext {
    ToolContext {
        subject: subject.into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-scan".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(240),
        pool: Arc::new(ComputePool::new(2)),
        progress: None,
        live: None,
    }
}

async fn call(stores: &Stores, subject: &str, tool: &str, args: Value) -> Value {
    let raw = serde_json::value::to_raw_value(&args).unwrap();
    let out = find(tool)
        .unwrap()
        .call(ctx(stores, subject), raw)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    serde_json::from_str(out.structured.get()).unwrap()
}

fn symbols() -> Vec<String> {
    (0..SYMBOLS).map(|i| format!("W{i:02}")).collect()
}

async fn seed(stores: &Stores) {
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for s in symbols() {
        let mut price = 50.0 + next() * 100.0;
        let drift = (next() - 0.5) * 0.01;
        let bars: Vec<Bar> = (0..260)
            .map(|i| {
                let open = price;
                price *= 1.0 + drift + (next() - 0.5) * 0.03;
                Bar::new(
                    start + chrono::Duration::days(i),
                    open,
                    open.max(price) * 1.01,
                    open.min(price) * 0.99,
                    price,
                    1e6 * (1.0 + next()),
                )
                .unwrap()
            })
            .collect();
        let key = SeriesKey::new(Symbol::parse(&s).unwrap(), Timeframe::parse("1d").unwrap());
        stores
            .bars
            .put_bars(
                &key,
                &bars,
                &DataSource::Imported {
                    file: "seed.csv".into(),
                },
            )
            .await
            .unwrap();
    }
}

fn fast() -> PollSettings {
    PollSettings {
        visibility: Duration::from_secs(30),
        retry_base: Duration::ZERO,
        idle: Duration::from_millis(20),
    }
}

async fn drain(stores: &Stores) {
    let bus = stores.bus.clone().unwrap();
    let consumers = bus::consumers();
    let mut quiet = 0;
    while quiet < 3 {
        let mut n = 0;
        for c in &consumers {
            n += bus::poll_once(bus.as_ref(), c.as_ref(), stores, fast())
                .await
                .unwrap();
        }
        if n == 0 {
            quiet += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            quiet = 0;
        }
    }
}

async fn count_events(stores: &Stores, subject: &str, kind: &str) -> usize {
    call(
        stores,
        subject,
        "get_events",
        json!({"type": kind, "limit": 200, "include_market": false}),
    )
    .await["events"]
        .as_array()
        .unwrap()
        .len()
}

async fn scenario(stores: Stores) {
    seed(&stores).await;
    let created = call(
        &stores,
        "alice",
        "create_watchlist",
        json!({"name": "core", "symbols": symbols(), "schedule": "rate(5 minutes)",
               "agents": ["rsi", "macd", "bollinger", "ma_crossover", "momentum"]}),
    )
    .await;
    assert_eq!(created["created"], json!(true));
    let next: chrono::DateTime<Utc> = created["watchlist"]["next_run_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > Utc::now() + chrono::Duration::minutes(4));

    // Nothing is due yet.
    assert!(
        gs_tools::watchlists::run_due_scans(&stores, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    // The scheduler's pass after the due time runs the scan once.
    let due = next + chrono::Duration::seconds(1);
    let runs = gs_tools::watchlists::run_due_scans(&stores, due)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    let first = runs.into_iter().next().unwrap().result.unwrap();
    assert_eq!(first.trigger, "schedule");
    assert_eq!(
        first.scanned,
        SYMBOLS,
        "{:?}",
        first.results.iter().find(|r| r.error.is_some())
    );
    assert_eq!(first.changed, 0);
    assert!(
        gs_tools::watchlists::run_due_scans(&stores, due)
            .await
            .unwrap()
            .is_empty(),
        "claimed"
    );
    let listed = call(&stores, "alice", "list_watchlists", json!({})).await;
    let rescheduled: chrono::DateTime<Utc> = listed["watchlists"][0]["next_run_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rescheduled > due, "the next run is indexed");

    // 50 stored results.
    let scope = RecordScope::new(Owner::user("alice").unwrap(), "signal-history").unwrap();
    let page = stores
        .records
        .list(
            &scope,
            &ListQuery {
                id_prefix: "core#".into(),
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), SYMBOLS);
    let one = call(
        &stores,
        "alice",
        "get_signal_history",
        json!({"watchlist": "core", "symbol": "W07"}),
    )
    .await;
    assert_eq!(one["signals"].as_array().unwrap().len(), 1);
    assert_eq!(one["signals"][0]["result"]["symbol"], json!("W07"));
    drain(&stores).await;
    assert_eq!(
        count_events(&stores, "alice", "signal.generated").await,
        SYMBOLS
    );
    assert_eq!(count_events(&stores, "alice", "signal.changed").await, 0);

    // Make five symbols' previous action differ from what the same bars give.
    let flip = |a: &str| if a == "buy" { "sell" } else { "buy" }.to_string();
    let key = RecordKey::new(Owner::user("alice").unwrap(), "scan-state", "core").unwrap();
    let record = stores.records.get(&key).await.unwrap().unwrap();
    let mut state: Value = serde_json::from_slice(&record.value).unwrap();
    let flipped: Vec<String> = symbols().into_iter().take(5).collect();
    for s in &flipped {
        let a = state["last"][s]["action"].as_str().unwrap().to_string();
        state["last"][s]["action"] = json!(flip(&a));
    }
    stores
        .records
        .put(
            &key,
            &serde_json::to_vec(&state).unwrap(),
            WriteCondition::IfVersion(record.version),
            None,
        )
        .await
        .unwrap();
    // Alice watches W02's changes; bob has the same rule, on his own scans.
    for who in ["alice", "bob"] {
        call(
            &stores,
            who,
            "create_alert_rule",
            json!({"name": "W02 flips", "symbol": "W02", "condition": {"kind": "signal_change"},
                   "idempotency_key": "w02"}),
        )
        .await;
    }
    let second = call(&stores, "alice", "run_scan", json!({"name": "core"})).await;
    assert_eq!(second["trigger"], json!("on_demand"));
    assert_eq!(second["changed"], json!(5));
    let changed: Vec<String> = second["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["changed"] == json!(true))
        .map(|r| r["symbol"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(changed, flipped);
    drain(&stores).await;
    assert_eq!(count_events(&stores, "alice", "signal.changed").await, 5);
    assert_eq!(
        count_events(&stores, "alice", "signal.generated").await,
        2 * SYMBOLS
    );
    let alerts = call(&stores, "alice", "get_alert_history", json!({})).await;
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(alerts["alerts"][0]["symbol"], json!("W02"));
    assert!(
        alerts["alerts"][0]["message"]
            .as_str()
            .unwrap()
            .contains("changed from")
    );
    let bobs = call(&stores, "bob", "get_alert_history", json!({})).await;
    assert!(
        bobs["alerts"].as_array().unwrap().is_empty(),
        "alice's scan is not bob's"
    );
    let runs = call(
        &stores,
        "alice",
        "get_signal_history",
        json!({"watchlist": "core"}),
    )
    .await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
    assert_eq!(runs["runs"][0]["trigger"], json!("on_demand"));

    // The pattern agents' findings are published as pattern.detected, once
    // per symbol, agent and bar however often the scan runs.
    call(
        &stores,
        "alice",
        "create_watchlist",
        json!({"name": "patterns", "symbols": symbols(), "agents": ["candlestick", "chart_pattern"]}),
    )
    .await;
    for _ in 0..2 {
        call(&stores, "alice", "run_scan", json!({"name": "patterns"})).await;
    }
    drain(&stores).await;
    let found = call(
        &stores,
        "alice",
        "get_events",
        json!({"type": "pattern.detected", "limit": 200, "include_market": false}),
    )
    .await;
    let found = found["events"].as_array().unwrap();
    assert!(
        !found.is_empty(),
        "random walks show some candlestick patterns"
    );
    let mut keys = std::collections::BTreeSet::new();
    for e in found {
        let d = &e["data"];
        assert!(
            ["candlestick", "chart_pattern"].contains(&d["agent"].as_str().unwrap()),
            "{d}"
        );
        assert_ne!(d["action"], json!("hold"), "{d}");
        assert!(
            symbols().contains(&d["symbol"].as_str().unwrap().to_string()),
            "{d}"
        );
        assert!(
            keys.insert((d["symbol"].to_string(), d["agent"].to_string())),
            "twice: {d}"
        );
    }

    // Deleting the watchlist removes its schedule.
    call(
        &stores,
        "alice",
        "delete_watchlist",
        json!({"name": "core"}),
    )
    .await;
    let far = Utc::now() + chrono::Duration::days(30);
    assert!(
        gs_tools::watchlists::run_due_scans(&stores, far)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scheduled_scans_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap();
    let local_bus = Arc::new(gs_embedded_store::EmbeddedBus::new(
        embedded.clone(),
        bus::routes(),
        3,
    ));
    let embedded = Arc::new(embedded);
    scenario(Stores {
        bars: embedded.clone(),
        records: embedded as Arc<dyn RecordStore>,
        cipher: None,
        bus: Some(local_bus as Arc<dyn EventBus>),
    })
    .await;

    let sdk = gs_aws_emulator::sdk_config();
    let name = gs_aws_emulator::unique_name("scan");
    let dynamo = Arc::new(gs_dynamo_store::DynamoStore::from_config(&sdk, &name));
    gs_dynamo_store::table::create(dynamo.client(), &name)
        .await
        .unwrap();
    let queues = gs_aws_bus::provision(&sdk, &name, &name, &bus::routes(), 3)
        .await
        .unwrap();
    let aws_bus = Arc::new(gs_aws_bus::AwsBus::new(&sdk, &name, queues, 3));
    scenario(Stores {
        bars: dynamo.clone(),
        records: dynamo,
        cipher: None,
        bus: Some(aws_bus as Arc<dyn EventBus>),
    })
    .await;
}
