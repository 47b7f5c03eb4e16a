//! Live trading through the Alpaca adapter, against an HTTP server in this
//! test that answers with the shapes of Alpaca's trading API v2 (account,
//! positions, orders by id and by client order id, cancel) and enforces what
//! Alpaca enforces: its API key headers, and one order per client order id.
//!
//! - off by default: a live order is refused with how to turn it on, and so
//!   is a live order without `confirm: true` or without a connected account;
//! - the key pair is stored sealed (the record does not hold the secret);
//! - twenty concurrent calls with one idempotency key make one broker order;
//! - the pre-trade checks run on the broker account (its buying power) and a
//!   refused order never reaches the broker; a broker refusal is stored as a
//!   rejection;
//! - an answer lost after the broker accepted is recovered by repeating the
//!   key, without a second broker order; cancelling reaches the broker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use gs_domain::{Bar, BarStore, DataSource, RecordKey, RecordScope, SeriesKey, Symbol, Timeframe};
use gs_embedded_store::EmbeddedStore;
use gs_tools::portfolio::live::{self, Credentials, LiveTrading};
use gs_tools::{ComputePool, Stores, ToolContext, ToolError, find};
use serde_json::{Value, json};

const KEY_ID: &str = "PKTEST123";
const SECRET: &str = "s3cr3t-never-in-records";

#[derive(Default)]
struct Broker {
    /// Orders by broker id.
    orders: BTreeMap<String, Value>,
    /// POST /v2/orders requests, accepted or not.
    posts: usize,
    /// Requests with wrong or missing API keys.
    unauthorized: usize,
    /// Accept the next order, then answer 500 (the answer is lost).
    lose_next_answer: bool,
    deletes: Vec<String>,
}

type Shared = Arc<Mutex<Broker>>;

fn authorized(headers: &HeaderMap, broker: &Shared) -> Result<(), (StatusCode, Json<Value>)> {
    let ok = headers.get("APCA-API-KEY-ID").and_then(|v| v.to_str().ok()) == Some(KEY_ID)
        && headers
            .get("APCA-API-SECRET-KEY")
            .and_then(|v| v.to_str().ok())
            == Some(SECRET);
    if ok {
        return Ok(());
    }
    broker.lock().unwrap().unauthorized += 1;
    Err((
        StatusCode::UNAUTHORIZED,
        Json(json!({"code": 40110000, "message": "request is not authorized"})),
    ))
}

type Reply = Result<(StatusCode, Json<Value>), (StatusCode, Json<Value>)>;

async fn account(State(b): State<Shared>, headers: HeaderMap) -> Reply {
    authorized(&headers, &b)?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": "a1b2", "account_number": "PA3TEST", "status": "ACTIVE", "currency": "USD",
            "cash": "25000.00", "buying_power": "25000.00", "equity": "29100.00",
            "last_equity": "29000.00", "portfolio_value": "29100.00",
            "trading_blocked": false, "account_blocked": false, "pattern_day_trader": false
        })),
    ))
}

async fn positions(State(b): State<Shared>, headers: HeaderMap) -> Reply {
    authorized(&headers, &b)?;
    Ok((
        StatusCode::OK,
        Json(json!([{
            "asset_id": "b0b6dd9d", "symbol": "MSFT", "exchange": "NASDAQ", "asset_class": "us_equity",
            "qty": "10", "side": "long", "avg_entry_price": "400.00", "market_value": "4100.00",
            "cost_basis": "4000.00", "current_price": "410.00"
        }])),
    ))
}

fn not_found() -> (StatusCode, Json<Value>) {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": 40410000, "message": "order not found"})),
    )
}

async fn submit(State(b): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Reply {
    authorized(&headers, &b)?;
    let mut broker = b.lock().unwrap();
    broker.posts += 1;
    let client = body["client_order_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(client.len() <= 48, "Alpaca allows 48 characters: {client}");
    if broker
        .orders
        .values()
        .any(|o| o["client_order_id"] == client.as_str())
    {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"code": 40010001, "message": "client_order_id must be unique"})),
        ));
    }
    if body["symbol"] == "TSLA" {
        return Err((
            StatusCode::FORBIDDEN,
            Json(json!({"code": 40310000, "message": "insufficient buying power"})),
        ));
    }
    let id = format!("61e69015-8549-4bfd-b9c3-{:012}", broker.orders.len() + 1);
    let order = json!({
        "id": id, "client_order_id": client, "created_at": "2026-12-02T15:00:00Z",
        "submitted_at": "2026-12-02T15:00:00Z", "filled_at": null, "symbol": body["symbol"],
        "asset_class": "us_equity", "qty": body["qty"], "filled_qty": "0", "filled_avg_price": null,
        "order_class": "", "order_type": body["type"], "type": body["type"], "side": body["side"],
        "time_in_force": body["time_in_force"], "limit_price": body.get("limit_price"),
        "stop_price": body.get("stop_price"), "status": "accepted", "extended_hours": false
    });
    broker.orders.insert(id, order.clone());
    if std::mem::take(&mut broker.lose_next_answer) {
        return Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"message": "internal error"})),
        ));
    }
    Ok((StatusCode::OK, Json(order)))
}

async fn by_client(
    State(b): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Reply {
    authorized(&headers, &b)?;
    let broker = b.lock().unwrap();
    let wanted = q.get("client_order_id").cloned().unwrap_or_default();
    broker
        .orders
        .values()
        .find(|o| o["client_order_id"] == wanted.as_str())
        .map(|o| (StatusCode::OK, Json(o.clone())))
        .ok_or_else(not_found)
}

async fn order(State(b): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    authorized(&headers, &b)?;
    let broker = b.lock().unwrap();
    broker
        .orders
        .get(&id)
        .map(|o| (StatusCode::OK, Json(o.clone())))
        .ok_or_else(not_found)
}

async fn cancel(State(b): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    authorized(&headers, &b)?;
    let mut broker = b.lock().unwrap();
    broker.deletes.push(id.clone());
    let Some(o) = broker.orders.get_mut(&id) else {
        return Err(not_found());
    };
    if o["status"] == "filled" {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"code": 42210000, "message": "order is not cancelable"})),
        ));
    }
    o["status"] = json!("canceled");
    Ok((StatusCode::NO_CONTENT, Json(Value::Null)))
}

async fn fake_alpaca() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route("/v2/account", get(account))
        .route("/v2/positions", get(positions))
        .route("/v2/orders", axum::routing::post(submit))
        .route("/v2/orders:by_client_order_id", get(by_client))
        .route("/v2/orders/{id}", get(order).delete(cancel))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

struct Fixture {
    _dir: tempfile::TempDir,
    stores: Stores,
    live: Option<Arc<LiveTrading>>,
}

impl Fixture {
    fn ctx(&self, subject: &str) -> ToolContext {
        ToolContext {
            subject: subject.into(),
            permissions: Arc::new(gs_auth::Permissions::default()),
            groups: Vec::new(),
            policy: Arc::new(gs_auth::Policy::default_policy()),
            request_id: "req-live".into(),
            stores: self.stores.clone(),
            deadline: Instant::now() + Duration::from_secs(120),
            pool: Arc::new(ComputePool::new(2)),
            progress: None,
            live: self.live.clone(),
        }
    }

    async fn try_call(&self, subject: &str, tool: &str, args: Value) -> Result<Value, ToolError> {
        let raw = serde_json::value::to_raw_value(&args).unwrap();
        let out = find(tool).unwrap().call(self.ctx(subject), raw).await?;
        Ok(serde_json::from_str(out.structured.get()).unwrap())
    }

    async fn call(&self, subject: &str, tool: &str, args: Value) -> Value {
        self.try_call(subject, tool, args.clone())
            .await
            .unwrap_or_else(|e| panic!("{tool} {args}: {e}"))
    }
}

async fn fixture(live: Option<LiveTrading>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let cipher: Arc<dyn gs_crypto::FieldCipher> = Arc::new(gs_crypto::Envelope::new(
        gs_crypto::LocalKeys::open_or_create(dir.path()).unwrap(),
        gs_crypto::CachePolicy::default(),
    ));
    for (symbol, level) in [("AAPL", 190.0), ("MSFT", 410.0), ("TSLA", 250.0)] {
        let bars: Vec<Bar> = (0..40)
            .map(|i| {
                let t =
                    Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap() + chrono::Duration::days(i);
                let c = level * (1.0 + 0.01 * (i as f64 / 3.0).sin());
                Bar::new(t, c, c * 1.01, c * 0.99, c, 1e6).unwrap()
            })
            .collect();
        store
            .put_bars(
                &SeriesKey::new(Symbol::parse(symbol).unwrap(), Timeframe::D1),
                &bars,
                &DataSource::Imported {
                    file: "live-test.csv".into(),
                },
            )
            .await
            .unwrap();
    }
    Fixture {
        _dir: dir,
        stores: Stores {
            bars: store.clone(),
            records: store,
            cipher: Some(cipher),
            bus: None,
        },
        live: live.map(Arc::new),
    }
}

async fn portfolio(f: &Fixture, subject: &str, limits: Value) -> String {
    f.call(
        subject,
        "create_portfolio",
        json!({"name": "live", "idempotency_key": "live-pf", "limits": limits}),
    )
    .await["portfolio_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn live_orders_are_refused_unless_turned_on() {
    let f = fixture(None).await;
    let pf = portfolio(&f, "alice", json!({})).await;
    let err = f
        .try_call(
            "alice",
            "place_order",
            json!({"portfolio_id": pf, "symbol": "AAPL", "side": "buy", "quantity": 1,
                   "idempotency_key": "k1", "broker": "live", "confirm": true}),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ToolError::InvalidInput(_)), "{err:?}");
    for needle in [
        "live trading is off",
        "--live-broker alpaca",
        "broker connect",
        "confirm: true",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    let orders = f
        .call("alice", "get_orders", json!({"portfolio_id": pf}))
        .await;
    assert_eq!(orders["total"], 0, "{orders}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_orders_reach_the_broker_once() {
    let (url, broker) = fake_alpaca().await;
    let f = Arc::new(fixture(Some(LiveTrading::alpaca(&url).unwrap())).await);
    let pf = portfolio(&f, "alice", json!({"max_order_notional": 30000})).await;
    let order = |key: &str, symbol: &str, qty: u32| {
        json!({"portfolio_id": pf, "symbol": symbol, "side": "buy", "quantity": qty,
               "order_type": "limit", "limit_price": "180.5", "time_in_force": "gtc",
               "idempotency_key": key, "broker": "live", "confirm": true})
    };

    // Without confirm: refused, nothing sent.
    let mut unconfirmed = order("k0", "AAPL", 1);
    unconfirmed["confirm"] = json!(false);
    let err = f
        .try_call("alice", "place_order", unconfirmed)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("confirm: true"), "{err}");
    // Not connected: refused with how to connect, nothing sent.
    let err = f
        .try_call("alice", "place_order", order("k0", "AAPL", 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("broker connect"), "{err}");
    assert_eq!(broker.lock().unwrap().posts, 0);

    let credentials = Credentials {
        key_id: KEY_ID.into(),
        secret_key: zeroize::Zeroizing::new(SECRET.into()),
    };
    live::connect(
        f.stores.records.as_ref(),
        f.stores.cipher.as_deref().unwrap(),
        "alice",
        &credentials,
    )
    .await
    .unwrap();
    // Stored sealed: the record holds neither the secret nor the key id in the clear.
    let key: RecordKey = RecordScope::new(
        gs_domain::Owner::user("alice").unwrap(),
        "broker-credentials",
    )
    .unwrap()
    .key("alpaca")
    .unwrap();
    let raw = f.stores.records.get(&key).await.unwrap().unwrap().value;
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.contains(SECRET) && !raw.contains(KEY_ID), "{raw}");
    // Bob has no account connected, and cannot reach alice's portfolio.
    let err = f
        .try_call("bob", "place_order", order("k0", "AAPL", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound(_)), "{err:?}");

    // A dry run checks against the broker account and sends nothing.
    let mut dry = order("k-dry", "AAPL", 10);
    dry["dry_run"] = json!(true);
    let out = f.call("alice", "place_order", dry).await;
    assert_eq!(out["outcome"], "would_place", "{out}");
    assert_eq!(broker.lock().unwrap().posts, 0);

    // Twenty at once with one key: one broker order.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (f, args) = (f.clone(), order("k1", "AAPL", 10));
            tokio::spawn(async move { f.call("alice", "place_order", args).await })
        })
        .collect();
    let mut outs = Vec::new();
    for t in tasks {
        outs.push(t.await.unwrap());
    }
    let mut outcomes = BTreeMap::new();
    for o in &outs {
        *outcomes
            .entry(o["outcome"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(outcomes.get("placed"), Some(&1), "{outcomes:?}");
    assert_eq!(outcomes.get("repeat"), Some(&19), "{outcomes:?}");
    {
        let b = broker.lock().unwrap();
        assert_eq!(b.orders.len(), 1, "{:?}", b.orders);
        assert_eq!(b.unauthorized, 0);
        let sent = b.orders.values().next().unwrap();
        assert_eq!(
            (
                sent["symbol"].as_str(),
                sent["qty"].as_str(),
                sent["limit_price"].as_str(),
                sent["type"].as_str()
            ),
            (Some("AAPL"), Some("10"), Some("180.5"), Some("limit"))
        );
    }
    let first = &outs.iter().find(|o| o["outcome"] == "placed").unwrap()["order"];
    assert_eq!(first["broker"], "alpaca");
    assert!(first["broker_order_id"].as_str().is_some(), "{first}");
    for o in &outs {
        assert_eq!(o["order"]["order_id"], first["order_id"]);
    }

    // The pre-trade checks read the broker account: 25 000 of buying power.
    let posts_before = broker.lock().unwrap().posts;
    let out = f
        .call("alice", "place_order", order("k2", "AAPL", 200))
        .await;
    assert_eq!(out["outcome"], "rejected", "{out}");
    assert_eq!(out["refusal"]["check"], "max_order_notional", "{out}");
    let mut big = order("k3", "AAPL", 140);
    big["limit_price"] = json!("190");
    let out = f.call("alice", "place_order", big).await;
    assert_eq!(out["refusal"]["check"], "buying_power", "{out}");
    let posts = broker.lock().unwrap().posts;
    assert_eq!(posts, posts_before, "refused orders never reach the broker");

    // The broker refuses: stored as a rejection.
    let out = f.call("alice", "place_order", order("k4", "TSLA", 1)).await;
    assert_eq!(out["outcome"], "rejected", "{out}");
    assert_eq!(out["refusal"]["check"], "broker", "{out}");
    assert!(
        out["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("insufficient buying power")
    );

    // The broker accepts but the answer is lost: the call fails; repeating
    // the key finds the broker's order instead of sending a second.
    broker.lock().unwrap().lose_next_answer = true;
    let err = f
        .try_call("alice", "place_order", order("k5", "AAPL", 2))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same arguments"), "{err}");
    let again = f.call("alice", "place_order", order("k5", "AAPL", 2)).await;
    assert_eq!(again["outcome"], "repeat", "{again}");
    assert!(
        again["order"]["broker_order_id"].as_str().is_some(),
        "{again}"
    );
    assert_eq!(broker.lock().unwrap().orders.len(), 2);

    // Live orders are not paper: the paper ledger is untouched.
    let shown = f
        .call("alice", "get_portfolio", json!({"portfolio_id": pf}))
        .await;
    assert_eq!(shown["open_orders"].as_array().unwrap().len(), 0, "{shown}");
    let listed = f
        .call("alice", "get_orders", json!({"portfolio_id": pf}))
        .await;
    assert_eq!(listed["total"], 5, "{listed}");

    // The broker fills an order: get_orders reads it from the broker.
    let k5 = again["order"]["broker_order_id"]
        .as_str()
        .unwrap()
        .to_string();
    {
        let mut b = broker.lock().unwrap();
        let o = b.orders.get_mut(&k5).unwrap();
        o["status"] = json!("filled");
        o["filled_qty"] = json!("2");
        o["filled_avg_price"] = json!("180.1");
    }
    let listed = f
        .call("alice", "get_orders", json!({"portfolio_id": pf}))
        .await;
    let filled = listed["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["broker_order_id"] == k5.as_str())
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(filled["status"], "filled", "{filled}");
    assert_eq!(filled["broker_status"], "filled", "{filled}");
    assert_eq!(filled["filled_quantity"], "2", "{filled}");
    assert_eq!(filled["average_price"], "180.1", "{filled}");
    assert!(filled["broker_synced_at"].is_string(), "{filled}");

    // Cancelling reaches the broker.
    let out = f
        .call(
            "alice",
            "cancel_order",
            json!({"portfolio_id": pf, "order_id": first["order_id"]}),
        )
        .await;
    assert_eq!(out["cancelled"], true, "{out}");
    assert_eq!(out["order"]["status"], "cancelled", "{out}");
    assert_eq!(out["order"]["broker_status"], "canceled", "{out}");
    let b = broker.lock().unwrap();
    assert_eq!(
        b.deletes,
        vec![first["broker_order_id"].as_str().unwrap().to_string()]
    );
}
