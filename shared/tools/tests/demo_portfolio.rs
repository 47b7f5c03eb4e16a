//! The demo portfolio `serve` seeds for the dev user on a fresh data
//! directory: imported once through `create_portfolio`'s history path over
//! the synthetic demo closes, shown by the tools as synthetic, and nobody
//! else's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gs_domain::RecordStore;
use gs_embedded_store::EmbeddedStore;
use gs_tools::portfolio::demo::{DEMO_NAME, seed_demo_portfolio_if_missing};
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

async fn call(stores: &Stores, subject: &str, tool: &str, args: Value) -> Value {
    let ctx = ToolContext {
        subject: subject.into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-demo".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(120),
        pool: Arc::new(ComputePool::new(2)),
        progress: None,
        live: None,
    };
    let raw = serde_json::value::to_raw_value(&args).unwrap();
    let out = find(tool)
        .unwrap()
        .call(ctx, raw)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    serde_json::from_str(out.structured.get()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_user_gets_one_synthetic_demo_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let stores = Stores {
        bars: store.clone(),
        records: store.clone() as Arc<dyn RecordStore>,
        cipher: None,
        bus: None,
    };
    // Without demo closes there is nothing to build it on.
    assert_eq!(
        seed_demo_portfolio_if_missing(&stores, "dev")
            .await
            .unwrap(),
        None
    );
    gs_market_data::seed_demo(store.as_ref(), 42).await.unwrap();
    let report = seed_demo_portfolio_if_missing(&stores, "dev")
        .await
        .unwrap()
        .expect("seeded");
    assert_eq!(report.rows, 11);
    // Five bought, SPY added, XOM closed.
    assert_eq!(report.positions, 5);
    assert_eq!(
        seed_demo_portfolio_if_missing(&stores, "dev")
            .await
            .unwrap(),
        None
    );

    let listed = call(&stores, "dev", "list_portfolios", json!({})).await;
    let portfolios = listed["portfolios"].as_array().unwrap();
    assert_eq!(portfolios.len(), 1);
    assert_eq!(portfolios[0]["name"], json!(DEMO_NAME));
    let pf = json!(report.portfolio_id);
    let book = call(&stores, "dev", "get_portfolio", json!({"portfolio_id": pf})).await;
    assert_eq!(book["synthetic"], json!(true));
    let mut held: Vec<&str> = book["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    held.sort_unstable();
    assert_eq!(held, ["AAPL", "JPM", "MSFT", "NVDA", "SPY"]);
    let perf = call(
        &stores,
        "dev",
        "get_performance",
        json!({"portfolio_id": pf, "windows": ["all"]}),
    )
    .await;
    assert_eq!(perf["synthetic"], json!(true));
    let all = &perf["windows"][0];
    assert!(
        all["time_weighted_return"].is_number() && all["money_weighted_return"].is_number(),
        "{all}"
    );
    // 20000 in after 60 days, 5000 out after 180.
    assert!(
        (all["net_flows"].as_f64().unwrap() - 15_000.0).abs() < 1e-9,
        "{all}"
    );
    let risk = call(
        &stores,
        "dev",
        "get_risk_metrics",
        json!({"portfolio_id": pf}),
    )
    .await;
    assert_eq!(risk["synthetic"], json!(true));

    let theirs = call(&stores, "someone-else", "list_portfolios", json!({})).await;
    assert!(theirs["portfolios"].as_array().unwrap().is_empty());
}
