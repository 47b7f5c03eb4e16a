//! The data bus's two timed paths on the embedded engine:
//! - `scan_500`: one scan of a 500-symbol watchlist (daily bars, 750 read
//!   per symbol, every agent, weighted vote), through `run_scan_of` as the
//!   scheduler runs it: signals, 500 history records, the run record and
//!   500 `signal.generated` events into the outbox;
//! - `bars_to_webhook`: from `import_bars` returning to the webhook
//!   receiver (127.0.0.1) holding the signed delivery, with the consumers
//!   polling the outbox as `serve` does (default poll settings: 250 ms idle).
//!
//! `cargo bench -p gs-tools --bench bus` (release build, 2 cores).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use gs_domain::{Bar, BarStore, DataSource, EventBus, RecordStore, SeriesKey, Symbol, Timeframe};
use gs_embedded_store::{EmbeddedBus, EmbeddedStore};
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

const SYMBOLS: usize = 500;
const BARS: usize = 760;

fn symbols() -> Vec<String> {
    (0..SYMBOLS).map(|i| format!("B{i:03}")).collect()
}

async fn setup(dir: &std::path::Path) -> (Stores, Arc<EmbeddedBus>) {
    let embedded = EmbeddedStore::open(dir).unwrap();
    let bus = Arc::new(EmbeddedBus::new(
        embedded.clone(),
        gs_tools::bus::routes(),
        5,
    ));
    let store = Arc::new(embedded);
    let start = Utc.with_ymd_and_hms(2023, 1, 2, 0, 0, 0).unwrap();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for s in symbols() {
        let mut price = 50.0 + 100.0 * next();
        let bars: Vec<Bar> = (0..BARS)
            .map(|i| {
                let open = price;
                price *= 1.0 + (next() - 0.5) * 0.03;
                Bar::new(
                    start + chrono::Duration::days(i as i64),
                    open,
                    open.max(price) * 1.01,
                    open.min(price) * 0.99,
                    price,
                    1e6 * (1.0 + next()),
                )
                .unwrap()
            })
            .collect();
        store
            .put_bars(
                &SeriesKey::new(Symbol::parse(&s).unwrap(), Timeframe::D1),
                &bars,
                &DataSource::Imported {
                    file: "bench.csv".into(),
                },
            )
            .await
            .unwrap();
    }
    let cipher: Arc<dyn gs_crypto::FieldCipher> = Arc::new(gs_crypto::Envelope::new(
        gs_crypto::LocalKeys::open_or_create(dir).unwrap(),
        gs_crypto::CachePolicy::default(),
    ));
    (
        Stores {
            bars: store.clone(),
            records: store as Arc<dyn RecordStore>,
            cipher: Some(cipher),
            bus: Some(bus.clone() as Arc<dyn EventBus>),
        },
        bus,
    )
}

fn ctx(stores: &Stores) -> ToolContext {
    ToolContext {
        subject: "bench".into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "bench".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(120),
        pool: Arc::new(ComputePool::per_core()),
        progress: None,
        live: None,
    }
}

async fn call(stores: &Stores, tool: &str, args: &Value) -> Value {
    let raw = serde_json::value::to_raw_value(args).unwrap();
    let out = find(tool)
        .unwrap()
        .call(ctx(stores), raw)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    serde_json::from_str(out.structured.get()).unwrap()
}

/// A receiver that notes when each delivery arrives.
async fn receiver() -> (Arc<Mutex<Vec<Instant>>>, String) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let seen = shared.clone();
            async move {
                seen.lock().unwrap().push(Instant::now());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, url)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (stores, outbox) = runtime.block_on(setup(dir.path()));
    runtime.block_on(call(
        &stores,
        "create_watchlist",
        &json!({"name": "bench", "symbols": symbols()}),
    ));
    let first = runtime.block_on(call(&stores, "run_scan", &json!({"name": "bench"})));
    assert_eq!(first["scanned"], SYMBOLS, "{}", first["results"][0]);

    let mut group = c.benchmark_group("bus");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("scan_500", |b| {
        b.iter(|| {
            runtime
                .block_on(gs_tools::watchlists::run_scan_of(
                    &ctx(&stores),
                    "bench",
                    "bench",
                ))
                .unwrap()
        })
    });

    // Bars → webhook: the consumers run as in `serve`.
    gs_tools::alerts::webhook::allow_loopback(true);
    let (seen, url) = runtime.block_on(receiver());
    runtime.block_on(call(
        &stores,
        "create_alert_rule",
        &json!({"name": "every bar", "symbol": "B000", "idempotency_key": "bench",
                "condition": {"kind": "percent_move", "percent": 0.0001, "bars": 1, "direction": "either"},
                "frequency": "every_time",
                "channels": [{"kind": "webhook", "url": url}]}),
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let consumers = runtime.spawn(gs_tools::bus::run_consumers(
        stores.bus.clone().unwrap(),
        stores.clone(),
        gs_tools::bus::consumers(),
        gs_tools::bus::PollSettings::default(),
        stopped,
    ));
    // The scans above left their signal events queued: let the consumers
    // work through them first, so the delay measured is one event's.
    let started = Instant::now();
    loop {
        let queued: usize = gs_tools::bus::routes()
            .iter()
            .map(|r| runtime.block_on(outbox.depth(&r.consumer)).unwrap())
            .sum();
        if queued == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "{queued} events still queued"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("the scans' events were consumed in {:?}", started.elapsed());
    let mut day = BARS as i64;
    group.bench_function("bars_to_webhook", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                day += 1;
                let date = (Utc.with_ymd_and_hms(2023, 1, 2, 0, 0, 0).unwrap()
                    + chrono::Duration::days(day))
                .format("%Y-%m-%d");
                // Alternate up and down so every bar moves.
                let close = if day % 2 == 0 { 101.0 } else { 99.0 };
                let csv =
                    format!("Date,Open,High,Low,Close,Volume\n{date},100,102,98,{close},1000\n");
                let before = seen.lock().unwrap().len();
                runtime.block_on(call(
                    &stores,
                    "import_bars",
                    &json!({"symbol": "B000", "timeframe": "1d", "csv": csv}),
                ));
                let imported = Instant::now();
                let deadline = imported + Duration::from_secs(30);
                let arrived = loop {
                    if let Some(t) = seen.lock().unwrap().get(before).copied() {
                        break t;
                    }
                    assert!(Instant::now() < deadline, "no delivery within 30 s");
                    std::thread::sleep(Duration::from_millis(1));
                };
                total += arrived.saturating_duration_since(imported);
            }
            total
        })
    });
    group.finish();
    let _ = stop.send(true);
    let _ = runtime.block_on(consumers);
}

criterion_group!(benches, bench);
criterion_main!(benches);
