//! The portfolio server on both engines (the embedded store and DynamoDB
//! on moto), through the tools as a caller reaches them:
//! - twenty concurrent `place_order` calls with one idempotency key make
//!   exactly one order, and a key reused for another order is refused;
//! - orders fill on the bars that arrive after them, and cash and positions
//!   reconcile exactly (in decimals) with the stored fills;
//! - a refused order is stored as a rejection and changes nothing else;
//! - another user can neither list, read, trade nor cancel the portfolio
//!   by guessing its ids; a live order is refused.
//! - a history imported through `create_portfolio` (more fills than one
//!   transaction takes) is stored whole: its cash and positions reconcile
//!   with its rows, a repeat stores nothing twice, a bad file stores nothing
//!   and names its lines, and an import cut short is hidden until its
//!   repeat finishes it.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use gs_domain::{Bar, BarStore, DataSource, RecordStore, SeriesKey, Symbol, Timeframe};
use gs_tools::{ComputePool, ErrorKind, Stores, ToolContext, ToolError, find};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn ctx(stores: &Stores, subject: &str) -> ToolContext {
    ToolContext {
        subject: subject.into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-portfolio".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(240),
        pool: Arc::new(ComputePool::new(2)),
        progress: None,
        live: None,
    }
}

async fn try_call(
    stores: &Stores,
    subject: &str,
    tool: &str,
    args: Value,
) -> Result<(Value, String), ToolError> {
    let raw = serde_json::value::to_raw_value(&args).unwrap();
    let out = find(tool).unwrap().call(ctx(stores, subject), raw).await?;
    Ok((
        serde_json::from_str(out.structured.get()).unwrap(),
        out.summary,
    ))
}

async fn call(stores: &Stores, subject: &str, tool: &str, args: Value) -> Value {
    try_call(stores, subject, tool, args.clone())
        .await
        .unwrap_or_else(|e| panic!("{tool} {args}: {e}"))
        .0
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {v}")),
    )
    .unwrap()
}

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap() + chrono::Duration::days(n)
}

/// Daily bars of `symbol` at `days`, a deterministic wave around `level`.
fn bars(days: impl Iterator<Item = DateTime<Utc>>, level: f64, seed: f64) -> Vec<Bar> {
    days.enumerate()
        .map(|(i, t)| {
            let x = i as f64;
            let close = level * (1.0 + 0.05 * (x / 7.0 + seed).sin() + 0.0004 * x);
            let open = close * (1.0 + 0.003 * (x + seed).cos());
            Bar::new(
                t,
                open,
                open.max(close) * 1.01,
                open.min(close) * 0.99,
                close,
                5e6,
            )
            .unwrap()
        })
        .collect()
}

async fn put(store: &dyn BarStore, symbol: &str, bars: &[Bar]) {
    store
        .put_bars(
            &SeriesKey::new(Symbol::parse(symbol).unwrap(), Timeframe::D1),
            bars,
            &DataSource::Imported {
                file: "portfolio-test.csv".into(),
            },
        )
        .await
        .unwrap();
}

async fn scenario(stores: Stores) {
    // 260 days of history, ending well before now.
    for (symbol, level, seed) in [
        ("AAPL", 190.0, 0.0),
        ("MSFT", 410.0, 1.3),
        ("SPY", 520.0, 2.1),
    ] {
        put(
            stores.bars.as_ref(),
            symbol,
            &bars((0..260).map(day), level, seed),
        )
        .await;
    }
    let created = call(
        &stores,
        "alice",
        "create_portfolio",
        json!({"name": "core", "idempotency_key": "pf-key-1", "initial_cash": 100000,
               "limits": {"max_position_weight": 0.6}}),
    )
    .await;
    let pf = created["portfolio_id"].as_str().unwrap().to_string();
    assert_eq!(created["created"], true);
    assert_eq!(dec(&created["cash"]), Decimal::from(100_000));
    // The same key again: the same portfolio, not a second one.
    let again = call(
        &stores,
        "alice",
        "create_portfolio",
        json!({"name": "core", "idempotency_key": "pf-key-1", "initial_cash": 100000,
               "limits": {"max_position_weight": 0.6}}),
    )
    .await;
    assert_eq!(
        (again["portfolio_id"].as_str(), again["created"].as_bool()),
        (Some(pf.as_str()), Some(false))
    );

    // Twenty at once with one key: one order.
    let order = json!({"portfolio_id": pf, "symbol": "AAPL", "side": "buy", "quantity": 100,
                       "idempotency_key": "buy-aapl-1"});
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (stores, order) = (stores.clone(), order.clone());
            tokio::spawn(async move { call(&stores, "alice", "place_order", order).await })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::new();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let out = t.await.unwrap();
        *outcomes
            .entry(out["outcome"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
        ids.insert(out["order"]["order_id"].as_str().unwrap().to_string());
    }
    assert_eq!(outcomes.get("placed"), Some(&1), "{outcomes:?}");
    assert_eq!(outcomes.get("repeat"), Some(&19), "{outcomes:?}");
    assert_eq!(ids.len(), 1, "{ids:?}");
    let listed = call(&stores, "alice", "get_orders", json!({"portfolio_id": pf})).await;
    assert_eq!(listed["total"], 1, "{listed}");
    // The key reused for a different order is refused.
    let mut other = order.clone();
    other["quantity"] = json!(5);
    let err = try_call(&stores, "alice", "place_order", other)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("different order"), "{err}");

    // More orders: a GTC limit sell far above, a sell limit that will fill,
    // and one the buying power check refuses.
    let far = call(
        &stores,
        "alice",
        "place_order",
        json!({"portfolio_id": pf, "symbol": "MSFT",
        "side": "buy", "quantity": 10, "order_type": "limit", "limit_price": "1.00",
        "time_in_force": "gtc", "idempotency_key": "far-limit"}),
    )
    .await;
    assert_eq!(far["outcome"], "placed");
    let msft = call(
        &stores,
        "alice",
        "place_order",
        json!({"portfolio_id": pf, "symbol": "MSFT",
        "side": "buy", "quantity": 50, "idempotency_key": "buy-msft"}),
    )
    .await;
    assert_eq!(msft["outcome"], "placed");
    let too_big = call(
        &stores,
        "alice",
        "place_order",
        json!({"portfolio_id": pf, "symbol": "MSFT",
        "side": "buy", "quantity": 1000, "idempotency_key": "too-big"}),
    )
    .await;
    assert_eq!(too_big["outcome"], "rejected", "{too_big}");
    assert_eq!(too_big["order"]["status"], "rejected");
    let refusal = &too_big["refusal"];
    assert!(
        ["buying_power", "max_position_weight"].contains(&refusal["check"].as_str().unwrap()),
        "{refusal}"
    );
    assert!(dec(&refusal["value"]) > dec(&refusal["limit"]), "{refusal}");
    // A dry run stores nothing.
    let dry = call(
        &stores,
        "alice",
        "place_order",
        json!({"portfolio_id": pf, "symbol": "AAPL",
        "side": "buy", "quantity": 1, "dry_run": true}),
    )
    .await;
    assert_eq!(dry["outcome"], "would_place");
    assert!(dry["order"].is_null());
    let listed = call(&stores, "alice", "get_orders", json!({"portfolio_id": pf})).await;
    assert_eq!(
        listed["total"], 4,
        "three placed and one rejection: {listed}"
    );

    // Nothing has filled yet: no bar after the orders.
    let before = call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await;
    assert_eq!(dec(&before["cash"]), Decimal::from(100_000));
    assert_eq!(before["open_orders"].as_array().unwrap().len(), 3);

    // Bars arrive after the orders: tomorrow on.
    let tomorrow = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        + chrono::Duration::days(1);
    let future = |n: i64| (0..n).map(move |i| tomorrow + chrono::Duration::days(i));
    put(stores.bars.as_ref(), "AAPL", &bars(future(3), 200.0, 0.5)).await;
    put(stores.bars.as_ref(), "MSFT", &bars(future(3), 400.0, 0.9)).await;
    put(stores.bars.as_ref(), "SPY", &bars(future(3), 530.0, 0.2)).await;

    // Readers see the settled book; a writer (cancel) stores it.
    let seen = call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await;
    let cancel = call(
        &stores,
        "alice",
        "cancel_order",
        json!({"portfolio_id": pf, "order_id": far["order"]["order_id"]}),
    )
    .await;
    assert_eq!(cancel["cancelled"], true);
    assert_eq!(cancel["order"]["status"], "cancelled");
    let again = call(
        &stores,
        "alice",
        "cancel_order",
        json!({"portfolio_id": pf, "order_id": far["order"]["order_id"]}),
    )
    .await;
    assert_eq!(again["cancelled"], false, "a second cancel changes nothing");
    let after = call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await;
    assert_eq!(
        seen["cash"], after["cash"],
        "what readers saw is what was stored"
    );
    assert!(
        after["open_orders"].as_array().unwrap().is_empty(),
        "{after}"
    );

    // Cash and positions reconcile exactly with the fills.
    let fills = call(
        &stores,
        "alice",
        "get_fills",
        json!({"portfolio_id": pf, "limit": 200}),
    )
    .await;
    let fills = fills["fills"].as_array().unwrap().clone();
    assert_eq!(
        fills.len(),
        2,
        "the two market orders filled on the first new bar: {fills:?}"
    );
    let mut cash = Decimal::from(100_000);
    let mut qty = std::collections::BTreeMap::<String, Decimal>::new();
    for f in &fills {
        let (q, p, c) = (dec(&f["quantity"]), dec(&f["price"]), dec(&f["commission"]));
        assert_eq!(f["side"], "buy");
        assert_eq!(
            DateTime::parse_from_rfc3339(f["time"].as_str().unwrap()).unwrap(),
            tomorrow
        );
        cash -= q * p + c;
        *qty.entry(f["symbol"].as_str().unwrap().to_string())
            .or_default() += q;
    }
    assert_eq!(dec(&after["cash"]), cash);
    for p in after["positions"].as_array().unwrap() {
        assert_eq!(
            Some(&dec(&p["quantity"])),
            qty.get(p["symbol"].as_str().unwrap())
        );
    }
    assert_eq!(qty.get("AAPL"), Some(&Decimal::from(100)));
    assert_eq!(qty.get("MSFT"), Some(&Decimal::from(50)));
    // The market orders filled at the new bar's open plus 0.5 bp.
    let open = bars(future(3), 200.0, 0.5)[0].open();
    let aapl = fills.iter().find(|f| f["symbol"] == "AAPL").unwrap();
    let expect = gs_portfolio::paper::price(open).unwrap() * (Decimal::ONE + Decimal::new(5, 5));
    assert_eq!(dec(&aapl["price"]), expect.round_dp(8));

    // The figures run on the stored prices.
    let risk = call(
        &stores,
        "alice",
        "get_risk_metrics",
        json!({"portfolio_id": pf, "lookback": 200}),
    )
    .await;
    assert_eq!(risk["risk"]["observations"], 200, "{}", risk["risk"]);
    assert_eq!(risk["benchmark"], "SPY");
    let perf = call(
        &stores,
        "alice",
        "get_performance",
        json!({"portfolio_id": pf}),
    )
    .await;
    let all = perf["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == "all")
        .unwrap();
    let pnl: f64 = all["attribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["pnl"].as_f64().unwrap())
        .sum();
    assert!((pnl - all["pnl"].as_f64().unwrap()).abs() < 1e-6, "{all}");

    // Another user, guessing ids: nothing, and nothing changes.
    let mallory = |tool: &'static str, args: Value| {
        let stores = stores.clone();
        async move { try_call(&stores, "mallory", tool, args).await }
    };
    assert_eq!(
        mallory("list_portfolios", json!({})).await.unwrap().0["portfolios"],
        json!([])
    );
    for (tool, args) in [
        ("get_portfolio", json!({"portfolio_id": pf})),
        ("get_orders", json!({"portfolio_id": pf})),
        ("get_fills", json!({"portfolio_id": pf})),
        (
            "place_order",
            json!({"portfolio_id": pf, "symbol": "AAPL", "side": "sell", "quantity": 100, "idempotency_key": "steal"}),
        ),
        (
            "cancel_order",
            json!({"portfolio_id": pf, "order_id": msft["order"]["order_id"]}),
        ),
    ] {
        let err = mallory(tool, args).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{tool}: {err}");
    }
    // Mallory's own portfolio with alice's key is a different one.
    let hers = mallory(
        "create_portfolio",
        json!({"name": "core", "idempotency_key": "pf-key-1"}),
    )
    .await
    .unwrap()
    .0;
    assert_ne!(hers["portfolio_id"], json!(pf));
    let unchanged = call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await;
    assert_eq!(unchanged["cash"], after["cash"]);

    // Live trading is refused, and says how it would be enabled.
    let err = try_call(&stores, "alice", "place_order", json!({"portfolio_id": pf, "symbol": "AAPL",
        "side": "buy", "quantity": 1, "idempotency_key": "live-1", "broker": "live", "confirm": true}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("live trading is off"), "{err}");
}

/// Runs `scenario` on a fresh embedded store, then on a fresh table on moto.
async fn on_both_engines<F, Fut>(name: &str, scenario: F)
where
    F: Fn(Stores) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let embedded = Arc::new(gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap());
    scenario(Stores {
        bars: embedded.clone(),
        records: embedded as Arc<dyn RecordStore>,
        cipher: None,
        bus: None,
    })
    .await;
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name(name);
    let dynamo = Arc::new(gs_dynamo_store::DynamoStore::from_config(&sdk, &table));
    gs_dynamo_store::table::create(dynamo.client(), &table)
        .await
        .unwrap();
    scenario(Stores {
        bars: dynamo.clone(),
        records: dynamo,
        cipher: None,
        bus: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn portfolio_tools_on_both_engines() {
    on_both_engines("portfolio", scenario).await;
}

/// A history of `fills` alternating buys of 10 and sells of 4 AAPL after a
/// deposit and before a withdrawal, with what it leaves in cash.
fn history(fills: usize) -> (String, Decimal, Decimal) {
    let mut text = String::from("time,type,symbol,quantity,price,commission,amount\n");
    text.push_str(&format!("{},deposit,,,,,500000\n", day(0).to_rfc3339()));
    let mut cash = Decimal::from(500_000);
    let mut held = Decimal::ZERO;
    for i in 0..fills {
        let (side, q) = if i % 2 == 0 { ("buy", 10) } else { ("sell", 4) };
        let price = Decimal::from_str(&format!("{}.{:02}", 180 + i % 17, (i * 37) % 100)).unwrap();
        let commission = Decimal::from_str("1.05").unwrap();
        text.push_str(&format!(
            "{},{side},AAPL,{q},{price},{commission},\n",
            (day(1 + i as i64 / 2) + chrono::Duration::hours(15)).to_rfc3339()
        ));
        let q = Decimal::from(q);
        if side == "buy" {
            cash -= q * price + commission;
            held += q;
        } else {
            cash += q * price - commission;
            held -= q;
        }
    }
    text.push_str(&format!("{},withdrawal,,,,,1000\n", day(200).to_rfc3339()));
    cash -= Decimal::from(1000);
    (text, cash, held)
}

async fn fills_of(stores: &Stores, subject: &str, pf: &str) -> usize {
    let mut n = 0;
    let mut cursor = Value::Null;
    loop {
        let page = call(
            stores,
            subject,
            "get_fills",
            json!({"portfolio_id": pf, "limit": 200, "cursor": cursor}),
        )
        .await;
        n += page["fills"].as_array().unwrap().len();
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            return n;
        }
    }
}

async fn history_scenario(stores: Stores) {
    for (symbol, level, seed) in [("AAPL", 190.0, 0.0), ("SPY", 520.0, 2.1)] {
        put(
            stores.bars.as_ref(),
            symbol,
            &bars((0..260).map(day), level, seed),
        )
        .await;
    }
    let (text, cash, held) = history(61);
    let args = json!({"name": "imported", "idempotency_key": "hist-1", "history": text});
    let made = call(&stores, "alice", "create_portfolio", args.clone()).await;
    assert_eq!(made["created"], json!(true));
    assert_eq!(made["imported_rows"], json!(63));
    assert_eq!(made["positions"], json!(1));
    assert_eq!(dec(&made["cash"]), cash);
    assert_eq!(
        made["since"],
        json!(day(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    let pf = made["portfolio_id"].as_str().unwrap().to_string();
    let book = call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await;
    assert_eq!(dec(&book["cash"]), cash);
    let aapl = &book["positions"][0];
    assert_eq!(aapl["symbol"], json!("AAPL"));
    assert_eq!(dec(&aapl["quantity"]), held);
    assert_eq!(fills_of(&stores, "alice", &pf).await, 61);
    // Performance is replayed from the history's first day.
    let perf = call(
        &stores,
        "alice",
        "get_performance",
        json!({"portfolio_id": pf}),
    )
    .await;
    let all = perf["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == json!("all"))
        .unwrap_or_else(|| panic!("an all window: {perf}"));
    assert_eq!(
        all["start"],
        json!(day(0).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    assert!(all["time_weighted_return"].is_number(), "{all}");
    assert!(
        (all["net_flows"].as_f64().unwrap() + 1000.0).abs() < 1e-9,
        "{all}"
    );

    // A repeat stores nothing twice; the key with another file is refused.
    let again = call(&stores, "alice", "create_portfolio", args.clone()).await;
    assert_eq!(again["created"], json!(false));
    assert_eq!(again["portfolio_id"], json!(pf));
    assert_eq!(fills_of(&stores, "alice", &pf).await, 61);
    let (other, _, _) = history(3);
    let err = try_call(
        &stores,
        "alice",
        "create_portfolio",
        json!({"name": "imported", "idempotency_key": "hist-1", "history": other}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // A bad file names its lines and stores nothing.
    let bad = "time,type,symbol,quantity,price,amount\n2026-01-05,deposit,,,,100\n2026-01-06,buy,AAPL,zero,100,\n2026-01-07,buy,AAPL,5,100,\n";
    let err = try_call(
        &stores,
        "alice",
        "create_portfolio",
        json!({"name": "bad", "idempotency_key": "hist-bad", "history": bad}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.to_string();
    assert!(
        text.contains("line 3: quantity \"zero\" is not a number")
            && text.contains("nothing was stored"),
        "{text}"
    );
    let listed = call(&stores, "alice", "list_portfolios", json!({})).await;
    assert_eq!(
        listed["portfolios"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
    let err = try_call(
        &stores,
        "alice",
        "create_portfolio",
        json!({"name": "both", "idempotency_key": "hist-both", "history": bad, "initial_cash": 5}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not both"), "{err}");

    // An import cut short after some of its fills is not readable (and
    // says how to finish it) until the same call is repeated, which writes
    // the missing fills.
    let id = gs_tools::portfolio::store::portfolio_id("alice", "hist-1");
    let owner = gs_domain::Owner::user("alice").unwrap();
    let fills = gs_domain::RecordScope::new(owner.clone(), "fills").unwrap();
    let page = stores
        .records
        .list(
            &fills,
            &gs_domain::ListQuery {
                id_prefix: format!("{id}#"),
                order: gs_domain::Order::Ascending,
                limit: Some(500),
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 61);
    for r in page.records.iter().skip(20) {
        let k = fills.key(&r.id).unwrap();
        assert!(
            stores
                .records
                .delete(&k, gs_domain::WriteCondition::Always)
                .await
                .unwrap()
        );
    }
    assert_eq!(fills_of(&stores, "alice", &pf).await, 20);
    let (mut stored, version) =
        gs_tools::portfolio::store::get_portfolio(stores.records.as_ref(), "alice", &id)
            .await
            .unwrap()
            .unwrap();
    stored.importing = true;
    let key = gs_domain::RecordScope::new(owner, "portfolios")
        .unwrap()
        .key(&id)
        .unwrap();
    stores
        .records
        .put(
            &key,
            &serde_json::to_vec(&stored).unwrap(),
            gs_domain::WriteCondition::IfVersion(version),
            None,
        )
        .await
        .unwrap();
    let err = try_call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("still being imported"), "{err}");
    let listed = call(&stores, "alice", "list_portfolios", json!({})).await;
    assert_eq!(
        listed["portfolios"][0]["importing"],
        json!(true),
        "{listed}"
    );
    let finished = call(&stores, "alice", "create_portfolio", args).await;
    assert_eq!(finished["portfolio_id"], json!(pf));
    assert_eq!(dec(&finished["cash"]), cash);
    assert_eq!(fills_of(&stores, "alice", &pf).await, 61);
    call(
        &stores,
        "alice",
        "get_portfolio",
        json!({"portfolio_id": pf}),
    )
    .await;

    // Nobody else sees it.
    let theirs = call(&stores, "bob", "list_portfolios", json!({})).await;
    assert!(theirs["portfolios"].as_array().unwrap().is_empty());
    let err = try_call(&stores, "bob", "get_fills", json!({"portfolio_id": pf}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn imported_histories_on_both_engines() {
    on_both_engines("history", history_scenario).await;
}
