//! The portfolio server's two timed paths on the embedded engine, through
//! the registry as a caller reaches them:
//! - `get_risk_metrics` of a 50-position portfolio with two years (504
//!   returns) of daily closes per symbol and a benchmark (reads, alignment,
//!   covariance, every VaR method, correlation matrix, output);
//! - `place_order`: a market order with a new idempotency key (settle,
//!   marks, pre-trade checks, one transaction of marker, order and
//!   portfolio).
//!
//! `cargo bench -p gs-tools --bench portfolio`

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use gs_domain::{Bar, BarStore, DataSource, SeriesKey, Symbol, Timeframe};
use gs_embedded_store::EmbeddedStore;
use gs_portfolio::Decimal;
use gs_portfolio::paper::{CostModel, Fill, Ledger, RiskLimits, Side};
use gs_tools::portfolio::store::{StoredPortfolio, create_portfolio};
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

const POSITIONS: usize = 50;
const CLOSES: usize = 505;

fn symbols() -> Vec<String> {
    (0..POSITIONS).map(|i| format!("S{i:02}")).collect()
}

async fn setup(dir: &std::path::Path) -> Stores {
    let store = Arc::new(EmbeddedStore::open(dir).unwrap());
    let start = Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut all = symbols();
    all.push("SPY".into());
    for s in &all {
        let mut price = 100.0;
        let bars: Vec<Bar> = (0..CLOSES)
            .map(|i| {
                let open = price;
                price *= 1.0 + (next() - 0.5) * 0.03;
                let t = start + chrono::Duration::days(i as i64);
                Bar::new(
                    t,
                    open,
                    open.max(price) * 1.01,
                    open.min(price) * 0.99,
                    price,
                    1e6,
                )
                .unwrap()
            })
            .collect();
        store
            .put_bars(
                &SeriesKey::new(Symbol::parse(s).unwrap(), Timeframe::D1),
                &bars,
                &DataSource::Imported {
                    file: "bench.csv".into(),
                },
            )
            .await
            .unwrap();
    }
    let stores = Stores {
        bars: store.clone(),
        records: store,
        cipher: None,
        bus: None,
    };
    let mut ledger = Ledger::with_cash(Decimal::from(10_000_000));
    for s in symbols() {
        ledger.apply(&Fill {
            order_id: "seed".into(),
            symbol: s,
            side: Side::Buy,
            quantity: Decimal::from(1_000),
            price: Decimal::from(100),
            commission: Decimal::ZERO,
        });
    }
    let now = Utc::now();
    let portfolio = StoredPortfolio {
        id: "pf_bench".into(),
        name: "bench".into(),
        base_currency: "USD".into(),
        idempotency_key: "bench".into(),
        request: "{}".into(),
        ledger,
        limits: RiskLimits::default(),
        cost: CostModel::default(),
        fill_timeframe: "1d".into(),
        open_orders: Vec::new(),
        flows: Vec::new(),
        created_at: now,
        updated_at: now,
        since: None,
        importing: false,
    };
    create_portfolio(stores.records.as_ref(), "bench", &portfolio)
        .await
        .unwrap();
    stores
}

fn ctx(stores: &Stores) -> ToolContext {
    ToolContext {
        subject: "bench".into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "bench".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(60),
        pool: Arc::new(ComputePool::new(2)),
        progress: None,
        live: None,
    }
}

async fn call(stores: &Stores, tool: &str, args: &Value) -> Value {
    let raw = serde_json::value::to_raw_value(args).unwrap();
    let out = find(tool).unwrap().call(ctx(stores), raw).await.unwrap();
    serde_json::from_str(out.structured.get()).unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores = runtime.block_on(setup(dir.path()));
    let risk = json!({"portfolio_id": "pf_bench"});
    let out = runtime.block_on(call(&stores, "get_risk_metrics", &risk));
    assert_eq!(out["risk"]["observations"], CLOSES - 1, "{}", out["risk"]);
    assert_eq!(out["holdings"].as_array().unwrap().len(), POSITIONS);
    let mut group = c.benchmark_group("portfolio");
    group.sample_size(30);
    group.bench_function("get_risk_metrics_50x504", |b| {
        b.iter(|| runtime.block_on(call(&stores, "get_risk_metrics", &risk)))
    });
    // Each placement is a new order; cancel it right after (untimed) so the
    // portfolio stays under its open-order cap.
    let mut n = 0u64;
    group.bench_function("place_order_market", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let args = json!({"portfolio_id": "pf_bench", "symbol": "S07", "side": "buy",
                                  "quantity": 10, "idempotency_key": format!("bench-{n}")});
                let started = Instant::now();
                let placed = runtime.block_on(call(&stores, "place_order", &args));
                total += started.elapsed();
                assert_eq!(placed["outcome"], "placed", "{placed}");
                let cancel =
                    json!({"portfolio_id": "pf_bench", "order_id": placed["order"]["order_id"]});
                runtime.block_on(call(&stores, "cancel_order", &cancel));
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
