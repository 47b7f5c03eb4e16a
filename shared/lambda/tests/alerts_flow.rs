//! The alerts server end to end on both engines (the embedded store and its
//! outbox bus; DynamoDB with EventBridge + SQS on moto), through the tools
//! and the bus consumers as `serve` and the consumer Lambdas run them:
//! - a rule created through the tools (the same idempotency key again gives
//!   the same rule and secret) fires when imported bars cross its level;
//! - the webhook receiver (on 127.0.0.1) gets exactly one delivery per
//!   firing, whose signature the reference `standardwebhooks` package
//!   verifies; a repeated event or re-imported bars fire nothing again;
//! - a failing receiver gets retries with the same `webhook-id`, then the
//!   event goes to the notifier's dead-letter queue and the history says so;
//! - acknowledging works, another user sees and touches nothing, and the
//!   event log shows the user's alert events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gs_domain::bus::EventBus;
use gs_domain::{RecordStore, SeriesKey, Symbol, Timeframe};
use gs_tools::bus::{self, Consumer, NOTIFIER, PollSettings};
use gs_tools::{ComputePool, ErrorKind, Stores, ToolContext, ToolError, find};
use serde_json::{Value, json};

const MAX_RECEIVES: u32 = 3;

fn ctx(stores: &Stores, subject: &str) -> ToolContext {
    ToolContext {
        subject: subject.into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-alerts".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(120),
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
) -> Result<Value, ToolError> {
    let raw = serde_json::value::to_raw_value(&args).unwrap();
    let out = find(tool).unwrap().call(ctx(stores, subject), raw).await?;
    Ok(serde_json::from_str(out.structured.get()).unwrap())
}

async fn call(stores: &Stores, subject: &str, tool: &str, args: Value) -> Value {
    try_call(stores, subject, tool, args)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// One received request: its headers and body.
type Received = (Vec<(String, String)>, String);

#[derive(Default)]
struct Receiver {
    deliveries: Mutex<Vec<Received>>,
    fail: std::sync::atomic::AtomicBool,
}

/// A webhook receiver on 127.0.0.1 that records every request and answers
/// 200, or 503 while `fail` is set.
async fn start_receiver() -> (Arc<Receiver>, String) {
    let state = Arc::new(Receiver::default());
    let shared = state.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: http::HeaderMap, body: String| {
            let state = shared.clone();
            async move {
                let headers = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                    .collect();
                state.deliveries.lock().unwrap().push((headers, body));
                if state.fail.load(std::sync::atomic::Ordering::SeqCst) {
                    (
                        http::StatusCode::SERVICE_UNAVAILABLE,
                        "down for maintenance",
                    )
                } else {
                    (http::StatusCode::OK, "ok")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (state, url)
}

fn fast() -> PollSettings {
    PollSettings {
        visibility: Duration::from_secs(30),
        retry_base: Duration::ZERO,
        idle: Duration::from_millis(20),
    }
}

/// Runs every consumer until `done` holds (or fails after 15 s).
async fn settle<F, Fut>(stores: &Stores, what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let bus = stores.bus.clone().unwrap();
    let consumers = bus::consumers();
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        let mut n = 0;
        for c in &consumers {
            n += bus::poll_once(bus.as_ref(), c.as_ref(), stores, fast())
                .await
                .unwrap();
        }
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

/// Drains every queue: consumers run until a full round receives nothing.
async fn drain(stores: &Stores) {
    let bus = stores.bus.clone().unwrap();
    let consumers: Vec<Arc<dyn Consumer>> = bus::consumers();
    let mut quiet_rounds = 0;
    while quiet_rounds < 3 {
        let mut n = 0;
        for c in &consumers {
            n += bus::poll_once(bus.as_ref(), c.as_ref(), stores, fast())
                .await
                .unwrap();
        }
        if n == 0 {
            quiet_rounds += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            quiet_rounds = 0;
        }
    }
}

fn csv(rows: &[(&str, f64)]) -> String {
    let mut text = String::from("Date,Open,High,Low,Close,Volume\n");
    for (day, close) in rows {
        text.push_str(&format!(
            "{day},{close},{},{},{close},1000\n",
            close + 1.0,
            close - 1.0
        ));
    }
    text
}

async fn import(stores: &Stores, rows: &[(&str, f64)]) -> Value {
    call(
        stores,
        "alice",
        "import_bars",
        json!({"symbol": "AAPL", "timeframe": "1d", "csv": csv(rows)}),
    )
    .await
}

async fn history(stores: &Stores, subject: &str) -> Vec<Value> {
    call(stores, subject, "get_alert_history", json!({})).await["alerts"]
        .as_array()
        .unwrap()
        .clone()
}

fn python() -> PathBuf {
    std::env::var_os("GS_EMULATOR_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    )
}

/// The reference library verifies every captured delivery.
fn verify_with_standardwebhooks(secret: &str, deliveries: &[Received]) {
    let capture = json!({
        "secret": secret,
        "deliveries": deliveries.iter().map(|(headers, body)| json!({
            "headers": headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<serde_json::Map<String, Value>>(),
            "body": body,
        })).collect::<Vec<_>>(),
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.json");
    std::fs::write(&path, capture.to_string()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify_webhooks.py");
    let out = std::process::Command::new(python())
        .arg(&script)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "running {} (./scripts/test installs standardwebhooks in .venv): {e}",
                script.display()
            )
        });
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "standardwebhooks refused a delivery:\n{text}"
    );
    assert!(text.contains("tampered body refused"), "{text}");
}

async fn scenario(stores: Stores) {
    // The receivers are on 127.0.0.1, as on a developer's machine.
    gs_tools::alerts::webhook::allow_loopback(true);
    let (receiver, url) = start_receiver().await;
    // 30 quiet days under the level.
    let key = SeriesKey::new(
        Symbol::parse("AAPL").unwrap(),
        Timeframe::parse("1d").unwrap(),
    );
    let days: Vec<String> = (1..=31).map(|d| format!("2026-03-{d:02}")).collect();
    let quiet: Vec<(&str, f64)> = days.iter().take(30).map(|d| (d.as_str(), 100.0)).collect();
    import(&stores, &quiet).await;
    drain(&stores).await;

    let rule_args = json!({
        "name": "AAPL breaks 105",
        "symbol": "AAPL",
        "condition": {"kind": "price_crosses_above", "value": 105.0},
        "channels": [{"kind": "webhook", "url": url}],
        "idempotency_key": "aapl-105",
    });
    let created = call(&stores, "alice", "create_alert_rule", rule_args.clone()).await;
    assert_eq!(created["created"], json!(true));
    let rule_id = created["rule"]["rule_id"].as_str().unwrap().to_string();
    let secret = created["webhook_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        created["rule"]["seen_until"],
        json!("2026-03-30T00:00:00Z"),
        "never fires on bars it predates"
    );
    let again = call(&stores, "alice", "create_alert_rule", rule_args.clone()).await;
    assert_eq!(again["created"], json!(false));
    assert_eq!(again["rule"]["rule_id"], json!(rule_id));
    assert_eq!(again["webhook_secret"], json!(secret));
    let mut clash = rule_args.clone();
    clash["condition"]["value"] = json!(110.0);
    let err = try_call(&stores, "alice", "create_alert_rule", clash)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
    let err = try_call(&stores, "alice", "create_alert_rule", json!({
        "name": "bad", "symbol": "AAPL", "idempotency_key": "k",
        "condition": {"kind": "indicator", "indicator": "rsi", "op": "below", "value": 30, "output": "nope"}
    })).await.unwrap_err();
    assert!(err.to_string().contains("outputs are real"), "{err}");
    let err = try_call(
        &stores,
        "alice",
        "create_alert_rule",
        json!({
            "name": "ssrf", "symbol": "AAPL", "idempotency_key": "k2",
            "condition": {"kind": "price_crosses_above", "value": 1},
            "channels": [{"kind": "webhook", "url": "https://169.254.169.254/latest/meta-data"}]
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    // A bar crossing the level: one firing, one delivery.
    let out = import(&stores, &[(days[30].as_str(), 106.0)]).await;
    let first_event = out["event_id"].as_str().unwrap().to_string();
    let one_delivered = || async {
        let h = history(&stores, "alice").await;
        h.len() == 1 && h[0]["deliveries"][1]["status"] == json!("delivered")
    };
    settle(&stores, "the first delivery", one_delivered).await;
    drain(&stores).await;
    let h = history(&stores, "alice").await;
    assert_eq!(h[0]["bar_time"], json!("2026-03-31T00:00:00Z"));
    assert_eq!(h[0]["values"]["close"], json!(106.0));
    assert_eq!(h[0]["deliveries"][0]["channel"], json!("inbox"));
    assert_eq!(h[0]["deliveries"][1]["attempts"], json!(1));
    assert_eq!(receiver.deliveries.lock().unwrap().len(), 1);

    // The same event again, and the same bars again: nothing new.
    let replay = gs_tools::import::bars_updated(
        &key,
        &stores
            .bars
            .get_bars(&key, &Default::default())
            .await
            .unwrap()
            .bars,
        Default::default(),
        "test",
    );
    let mut replay = replay;
    replay.id = first_event;
    stores
        .bus
        .as_ref()
        .unwrap()
        .publish(&[replay])
        .await
        .unwrap();
    import(&stores, &[(days[30].as_str(), 106.0)]).await;
    drain(&stores).await;
    assert_eq!(history(&stores, "alice").await.len(), 1);
    assert_eq!(
        receiver.deliveries.lock().unwrap().len(),
        1,
        "exactly one delivery per firing"
    );
    let rules = call(&stores, "alice", "list_alert_rules", json!({})).await;
    assert_eq!(rules["rules"][0]["times_fired"], json!(1));

    // The reference library verifies the delivery.
    verify_with_standardwebhooks(&secret, &receiver.deliveries.lock().unwrap());

    // A failing receiver: retries with the same webhook-id, then the DLQ.
    receiver
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    import(&stores, &[("2026-04-01", 100.0), ("2026-04-02", 107.0)]).await;
    let failed = || async {
        let h = history(&stores, "alice").await;
        h.len() == 2 && h[0]["deliveries"][1]["status"] == json!("failed")
    };
    settle(&stores, "the failed delivery", failed).await;
    let h = history(&stores, "alice").await;
    assert_eq!(h[0]["bar_time"], json!("2026-04-02T00:00:00Z"));
    assert_eq!(h[0]["deliveries"][1]["attempts"], json!(MAX_RECEIVES));
    let last_error = h[0]["deliveries"][1]["last_error"].as_str().unwrap();
    assert!(
        last_error.contains("503") && last_error.contains("dead-letter"),
        "{last_error}"
    );
    let bus_port = stores.bus.clone().unwrap();
    let start = Instant::now();
    loop {
        let dead = bus_port.dead_letters(NOTIFIER, 10).await.unwrap();
        if dead.iter().any(|e| e.data["alert_id"] == h[0]["alert_id"]) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the event reaches the DLQ"
        );
        bus::poll_once(
            bus_port.as_ref(),
            &gs_tools::alerts::Notifier,
            &stores,
            fast(),
        )
        .await
        .unwrap();
    }
    {
        let all = receiver.deliveries.lock().unwrap();
        let retries: Vec<&str> = all
            .iter()
            .skip(1)
            .map(|(hs, _)| {
                hs.iter()
                    .find(|(k, _)| k == "webhook-id")
                    .unwrap()
                    .1
                    .as_str()
            })
            .collect();
        assert_eq!(retries.len(), MAX_RECEIVES as usize);
        assert!(
            retries.iter().all(|id| *id == retries[0]),
            "one webhook-id across retries"
        );
    }

    // Acknowledge; another user sees and touches nothing.
    let alert_id = h[0]["alert_id"].as_str().unwrap();
    let acked = call(
        &stores,
        "alice",
        "acknowledge_alert",
        json!({"alert_id": alert_id}),
    )
    .await;
    assert_eq!(acked["acknowledged"][0]["state"], json!("acknowledged"));
    let again = call(
        &stores,
        "alice",
        "acknowledge_alert",
        json!({"alert_id": alert_id}),
    )
    .await;
    assert_eq!(again["already_acknowledged"], json!(1));
    let open = call(
        &stores,
        "alice",
        "get_alert_history",
        json!({"state": "triggered"}),
    )
    .await;
    assert_eq!(open["alerts"].as_array().unwrap().len(), 1);
    assert!(history(&stores, "bob").await.is_empty());
    let err = try_call(
        &stores,
        "bob",
        "acknowledge_alert",
        json!({"alert_id": alert_id}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = try_call(
        &stores,
        "bob",
        "delete_alert_rule",
        json!({"rule_id": rule_id}),
    )
    .await
    .map(|v| v["deleted"].clone());
    assert_eq!(err.unwrap(), json!(false));

    // Pause: new crossings do not fire; resume does not fire on them later.
    call(
        &stores,
        "alice",
        "pause_alert_rule",
        json!({"rule_id": rule_id}),
    )
    .await;
    receiver
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    import(&stores, &[("2026-04-03", 100.0), ("2026-04-04", 108.0)]).await;
    drain(&stores).await;
    call(
        &stores,
        "alice",
        "resume_alert_rule",
        json!({"rule_id": rule_id}),
    )
    .await;
    import(&stores, &[("2026-04-04", 108.0)]).await;
    drain(&stores).await;
    assert_eq!(history(&stores, "alice").await.len(), 2);

    // The event log shows alice's alert events.
    let events = call(
        &stores,
        "alice",
        "get_events",
        json!({"include_market": false}),
    )
    .await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"alert.triggered") && kinds.contains(&"alert.delivered"),
        "{kinds:?}"
    );

    // Delete: the rule and its index go; evaluation skips it.
    let deleted = call(
        &stores,
        "alice",
        "delete_alert_rule",
        json!({"rule_id": rule_id}),
    )
    .await;
    assert_eq!(deleted["deleted"], json!(true));
    import(&stores, &[("2026-04-05", 100.0), ("2026-04-06", 109.0)]).await;
    drain(&stores).await;
    assert_eq!(history(&stores, "alice").await.len(), 2);
}

async fn import_symbol(stores: &Stores, symbol: &str, rows: &[(&str, f64)]) {
    call(
        stores,
        "alice",
        "import_bars",
        json!({"symbol": symbol, "timeframe": "1d", "csv": csv(rows)}),
    )
    .await;
}

/// The webhook-id header of every request, in order.
fn webhook_ids(receiver: &Receiver) -> Vec<String> {
    receiver
        .deliveries
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(hs, _)| {
            hs.iter()
                .find(|(k, _)| k == "webhook-id")
                .map(|(_, v)| v.clone())
        })
        .collect()
}

fn bodies(receiver: &Receiver) -> Vec<Value> {
    receiver
        .deliveries
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect()
}

async fn esc_history(stores: &Stores, rule_id: &str) -> Vec<Value> {
    call(
        stores,
        "alice",
        "get_alert_history",
        json!({"rule_id": rule_id}),
    )
    .await["alerts"]
        .as_array()
        .unwrap()
        .clone()
}

/// Escalation on schedule until acknowledged, silences, grouping.
async fn escalation_scenario(stores: Stores) {
    let (receiver, url) = start_receiver().await;
    let quiet: Vec<(String, f64)> = (1..=20)
        .map(|d| (format!("2026-05-{d:02}"), 100.0))
        .collect();
    let quiet: Vec<(&str, f64)> = quiet.iter().map(|(d, c)| (d.as_str(), *c)).collect();
    for symbol in ["ESC", "MSFT", "NVDA", "AMZN"] {
        import_symbol(&stores, symbol, &quiet).await;
    }
    drain(&stores).await;
    let created = call(&stores, "alice", "create_alert_rule", json!({
        "name": "ESC under 95", "symbol": "ESC",
        "condition": {"kind": "price_crosses_below", "value": 95.0},
        "channels": [{"kind": "webhook", "url": url}],
        "escalation": {"steps": [{"after_minutes": 1, "channels": [{"kind": "webhook", "url": url}]},
                                 {"after_minutes": 2, "channels": [{"kind": "inbox"}]}], "repeat": 1},
        "idempotency_key": "esc",
    })).await;
    let secret = created["webhook_secret"].as_str().unwrap().to_string();
    let rule_id = created["rule"]["rule_id"].as_str().unwrap().to_string();
    import_symbol(&stores, "ESC", &[("2026-05-21", 90.0)]).await;
    settle(&stores, "the firing", || async {
        bodies(&receiver).len() == 1
    })
    .await;
    let fired_at: chrono::DateTime<chrono::Utc> =
        esc_history(&stores, &rule_id).await[0]["fired_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    let at =
        |minutes: i64| fired_at + chrono::Duration::minutes(minutes) + chrono::Duration::seconds(1);
    assert_eq!(
        gs_tools::alerts::escalate_due(&stores, fired_at)
            .await
            .unwrap(),
        0,
        "not due yet"
    );
    // Step 1 (webhook) after a minute, step 2 (inbox) two minutes later,
    // then the same again once (repeat 1), then nothing.
    let mut taken = Vec::new();
    for minutes in [1, 3, 4, 6, 30] {
        taken.push(
            gs_tools::alerts::escalate_due(&stores, at(minutes))
                .await
                .unwrap(),
        );
        drain(&stores).await;
    }
    assert_eq!(taken, [1, 1, 1, 1, 0]);
    let h = esc_history(&stores, &rule_id).await;
    let steps: Vec<&str> = h[0]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "step 1 of 2, round 1 of 2",
            "step 2 of 2, round 1 of 2",
            "step 1 of 2, round 2 of 2",
            "step 2 of 2, round 2 of 2"
        ]
    );
    let sent = bodies(&receiver);
    let kinds: Vec<&str> = sent.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["alert.triggered", "alert.escalated", "alert.escalated"],
        "webhook steps only"
    );
    verify_with_standardwebhooks(&secret, &receiver.deliveries.lock().unwrap());
    let ids: std::collections::BTreeSet<String> = webhook_ids(&receiver).into_iter().collect();
    assert_eq!(ids.len(), 3, "each notification its own webhook-id");

    // Acknowledged before its first step: no escalation.
    import_symbol(
        &stores,
        "ESC",
        &[("2026-05-22", 100.0), ("2026-05-23", 90.0)],
    )
    .await;
    settle(&stores, "the second firing", || async {
        esc_history(&stores, &rule_id).await.len() == 2
    })
    .await;
    drain(&stores).await;
    let second = esc_history(&stores, &rule_id).await[0].clone();
    call(
        &stores,
        "alice",
        "acknowledge_alert",
        json!({"alert_id": second["alert_id"]}),
    )
    .await;
    let fired: chrono::DateTime<chrono::Utc> =
        second["fired_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        gs_tools::alerts::escalate_due(&stores, fired + chrono::Duration::minutes(10))
            .await
            .unwrap(),
        0
    );

    // A silence on the symbol: recorded, not sent, not escalated.
    let silence = call(
        &stores,
        "alice",
        "create_silence",
        json!({"symbol": "ESC", "duration_minutes": 60, "idempotency_key": "maint"}),
    )
    .await;
    assert_eq!(silence["created"], json!(true));
    let before = bodies(&receiver).len();
    import_symbol(
        &stores,
        "ESC",
        &[("2026-05-24", 100.0), ("2026-05-25", 90.0)],
    )
    .await;
    settle(&stores, "the silenced firing", || async {
        esc_history(&stores, &rule_id).await.len() == 3
    })
    .await;
    drain(&stores).await;
    let third = esc_history(&stores, &rule_id).await[0].clone();
    assert_eq!(third["deliveries"][1]["status"], json!("silenced"));
    assert_eq!(bodies(&receiver).len(), before);
    let fired: chrono::DateTime<chrono::Utc> = third["fired_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        gs_tools::alerts::escalate_due(&stores, fired + chrono::Duration::minutes(10))
            .await
            .unwrap(),
        0
    );
    let listed = call(&stores, "alice", "list_silences", json!({})).await;
    assert_eq!(listed["silences"].as_array().unwrap().len(), 1);
    call(
        &stores,
        "alice",
        "delete_silence",
        json!({"silence_id": silence["silence"]["silence_id"]}),
    )
    .await;

    // Grouping: three symbols crossing at once are one notification.
    let (group_receiver, group_url) = start_receiver().await;
    for symbol in ["MSFT", "NVDA", "AMZN"] {
        call(
            &stores,
            "alice",
            "create_alert_rule",
            json!({
                "name": format!("{symbol} over 105"), "symbol": symbol,
                "condition": {"kind": "price_crosses_above", "value": 105.0},
                "channels": [{"kind": "webhook", "url": group_url}],
                "group_seconds": 3, "idempotency_key": format!("grp-{symbol}"),
            }),
        )
        .await;
    }
    // The receiver is down for the first attempt: the group is sent again,
    // whole, under the same webhook-id.
    group_receiver
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    for symbol in ["MSFT", "NVDA", "AMZN"] {
        import_symbol(&stores, symbol, &[("2026-05-21", 110.0)]).await;
    }
    settle(&stores, "the first grouped attempt", || async {
        !bodies(&group_receiver).is_empty()
    })
    .await;
    group_receiver
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let all_delivered = || async {
        let h = call(&stores, "alice", "get_alert_history", json!({"limit": 200})).await;
        let grouped: Vec<&Value> = h["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["rule_name"].as_str().unwrap().ends_with("over 105"))
            .collect();
        grouped.len() == 3
            && grouped
                .iter()
                .all(|a| a["deliveries"][1]["status"] == json!("delivered"))
    };
    settle(&stores, "the grouped delivery", all_delivered).await;
    drain(&stores).await;
    let sent = bodies(&group_receiver);
    assert_eq!(
        sent.len(),
        2,
        "one notification for the burst, sent twice: {sent:?}"
    );
    for body in &sent {
        assert_eq!(body["data"]["count"], json!(3));
        assert!(
            body["data"]["alerts"][0]["deliveries"]
                .as_array()
                .unwrap()
                .is_empty(),
            "no channel details for the receiver"
        );
        let mut symbols: Vec<&str> = body["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["symbol"].as_str().unwrap())
            .collect();
        symbols.sort_unstable();
        assert_eq!(symbols, ["AMZN", "MSFT", "NVDA"]);
    }
    let ids = webhook_ids(&group_receiver);
    assert_eq!(ids[0], ids[1], "the retry is the same message");
    // The grouped notification verifies with the URL's secret, which every
    // rule posting to it shares.
    let secret = call(
        &stores,
        "alice",
        "create_alert_rule",
        json!({
            "name": "MSFT over 105", "symbol": "MSFT",
            "condition": {"kind": "price_crosses_above", "value": 105.0},
            "channels": [{"kind": "webhook", "url": group_url}],
            "group_seconds": 3, "idempotency_key": "grp-MSFT",
        }),
    )
    .await["webhook_secret"]
        .as_str()
        .unwrap()
        .to_string();
    verify_with_standardwebhooks(&secret, &group_receiver.deliveries.lock().unwrap());

    // Acknowledging by rule acknowledges that rule's alerts only.
    let msft = call(
        &stores,
        "alice",
        "list_alert_rules",
        json!({"symbol": "MSFT"}),
    )
    .await;
    let msft_rule = msft["rules"][0]["rule_id"].as_str().unwrap().to_string();
    let acked = call(
        &stores,
        "alice",
        "acknowledge_alert",
        json!({"rule_id": msft_rule}),
    )
    .await;
    let acked = acked["acknowledged"].as_array().unwrap();
    assert_eq!(acked.len(), 1, "{acked:?}");
    assert_eq!(acked[0]["symbol"], json!("MSFT"));
    let open = call(
        &stores,
        "alice",
        "get_alert_history",
        json!({"state": "triggered", "limit": 200}),
    )
    .await;
    let open: Vec<&str> = open["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["symbol"].as_str().unwrap())
        .collect();
    assert!(
        open.contains(&"NVDA") && open.contains(&"AMZN") && !open.contains(&"MSFT"),
        "{open:?}"
    );
}

fn cipher(dir: &std::path::Path) -> Arc<dyn gs_crypto::FieldCipher> {
    Arc::new(gs_crypto::Envelope::new(
        gs_crypto::LocalKeys::open_or_create(dir).unwrap(),
        gs_crypto::CachePolicy::default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alerts_end_to_end_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap();
    let local_bus = Arc::new(gs_embedded_store::EmbeddedBus::new(
        embedded.clone(),
        bus::routes(),
        MAX_RECEIVES,
    ));
    let embedded = Arc::new(embedded);
    let stores = Stores {
        bars: embedded.clone(),
        records: embedded as Arc<dyn RecordStore>,
        cipher: Some(cipher(dir.path())),
        bus: Some(local_bus as Arc<dyn EventBus>),
    };
    scenario(stores.clone()).await;
    escalation_scenario(stores).await;

    let sdk = gs_aws_emulator::sdk_config();
    let name = gs_aws_emulator::unique_name("alerts");
    let dynamo = Arc::new(gs_dynamo_store::DynamoStore::from_config(&sdk, &name));
    gs_dynamo_store::table::create(dynamo.client(), &name)
        .await
        .unwrap();
    let queues = gs_aws_bus::provision(&sdk, &name, &name, &bus::routes(), MAX_RECEIVES)
        .await
        .unwrap();
    let aws_bus = Arc::new(gs_aws_bus::AwsBus::new(&sdk, &name, queues, MAX_RECEIVES));
    let keys = tempfile::tempdir().unwrap();
    let stores = Stores {
        bars: dynamo.clone(),
        records: dynamo,
        cipher: Some(cipher(keys.path())),
        bus: Some(aws_bus as Arc<dyn EventBus>),
    };
    scenario(stores.clone()).await;
    escalation_scenario(stores).await;
}
