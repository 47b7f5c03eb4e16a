//! The JSON path of `calculate_indicators` with 5,000 inline bars and six
//! indicators (sma 20, ema 50, rsi, macd, bbands, atr), every row returned:
//! parsing the arguments, the whole call through the invoker (parse,
//! compute, serialise), and serialising the output alone.
//!
//! `cargo bench -p gs-tools --bench json_path`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gs_auth::{Permissions, Scope};
use gs_embedded_store::EmbeddedStore;
use gs_tools::technical::{CalculateIndicatorsArgs, calculate_indicators};
use gs_tools::{
    CallerIdentity, ComputePool, Invoker, LocalInvoker, Stores, ToolCall, ToolContext, ToolReply,
};
use serde_json::value::RawValue;

const BARS: usize = 5_000;

/// A seeded random walk as inline bars, the way a client sends them.
fn arguments() -> String {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 100.0_f64;
    let mut bars = Vec::with_capacity(BARS);
    for i in 0..BARS {
        let open = price;
        let close = open * (1.0 + (next() - 0.5) * 0.02);
        let high = open.max(close) * (1.0 + 0.005 * next());
        let low = open.min(close) * (1.0 - 0.005 * next());
        let volume = (1e5 * (0.5 + next())).round();
        bars.push(serde_json::json!({
            "time": 1_700_000_000 + 300 * i as i64,
            "open": open, "high": high, "low": low, "close": close, "volume": volume
        }));
        price = close;
    }
    serde_json::json!({
        "bars": bars,
        "output_rows": BARS,
        "indicators": [
            {"name": "sma", "params": {"timeperiod": 20}},
            {"name": "ema", "params": {"timeperiod": 50}},
            {"name": "rsi"}, {"name": "macd"}, {"name": "bbands"}, {"name": "atr"}
        ]
    })
    .to_string()
}

fn bench(c: &mut Criterion) {
    let json = arguments();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let stores = Stores {
        bars: store.clone(),
        records: store,
        cipher: None,
        bus: None,
    };
    let pool = Arc::new(ComputePool::per_core());
    let permissions: Permissions = [Scope::parse("*").unwrap()].into_iter().collect();
    let ctx = ToolContext {
        subject: "bench".into(),
        permissions: Arc::new(permissions.clone()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "bench".into(),
        stores: stores.clone(),
        deadline: std::time::Instant::now() + Duration::from_secs(3600),
        pool: pool.clone(),
        progress: None,
        live: None,
    };
    let invoker = LocalInvoker::new(stores, pool);

    let mut group = c.benchmark_group("calculate_indicators_5000_inline_bars");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("parse_arguments", |b| {
        b.iter(|| serde_json::from_str::<CalculateIndicatorsArgs>(black_box(&json)).unwrap())
    });
    let args = || serde_json::from_str::<CalculateIndicatorsArgs>(&json).unwrap();
    let (output, _) = runtime
        .block_on(calculate_indicators(&ctx, args()))
        .unwrap();
    group.bench_function("serialise_output", |b| {
        b.iter(|| serde_json::to_vec(black_box(&output)).unwrap())
    });
    let raw = RawValue::from_string(json.clone()).unwrap();
    group.bench_function("whole_call_through_the_invoker", |b| {
        b.iter(|| {
            let call = ToolCall::new(
                "calculate_indicators",
                raw.clone(),
                CallerIdentity::new("bench", &permissions),
                "bench",
                Duration::from_secs(60),
            );
            let reply = runtime.block_on(invoker.invoke(call, None));
            assert!(matches!(reply, ToolReply::Ok { .. }));
            reply
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
