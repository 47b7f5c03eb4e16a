//! The data bus as the tools use it, on both engines: the embedded store
//! with its outbox bus, and DynamoDB with EventBridge + SQS on moto.
//! - `import_bars` publishes `bars.updated`; the `event-log` consumer
//!   records it and `get_events` shows it (market-wide events to everyone,
//!   a user's own events to that user only), newest first, paged;
//! - the consumer driver handles an event id once however often it comes;
//! - a consumer that keeps failing is retried until the bus dead-letters
//!   the event, and knows when its last attempt runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use gs_domain::RecordStore;
use gs_domain::bus::{Event, EventBus, EventType};
use gs_tools::bus::{
    self, ALERTS, Attempt, Consumer, HandlerError, NOTIFIER, Outcome, PollSettings,
};
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

const MAX_RECEIVES: u32 = 3;

fn ctx(stores: &Stores, subject: &str) -> ToolContext {
    ToolContext {
        subject: subject.into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-bus".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(120),
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

fn fast() -> PollSettings {
    PollSettings {
        visibility: Duration::from_secs(30),
        retry_base: Duration::ZERO,
        idle: Duration::from_millis(50),
    }
}

/// Polls `consumer` until `done` holds or 10 s pass.
async fn poll_until<F, Fut>(stores: &Stores, consumer: &dyn Consumer, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let bus = stores.bus.clone().unwrap();
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} did not get there",
            consumer.name()
        );
        if bus::poll_once(bus.as_ref(), consumer, stores, fast())
            .await
            .unwrap()
            == 0
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn events(stores: &Stores, subject: &str, args: Value) -> Value {
    call(stores, subject, "get_events", args).await
}

fn ids(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

struct Counting {
    name: &'static str,
    calls: AtomicU32,
    fail: bool,
    last_seen: AtomicU32,
    /// Only this event counts.
    watch: &'static str,
}

#[async_trait]
impl Consumer for Counting {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn handle(
        &self,
        _: &Stores,
        event: &Event,
        attempt: Attempt,
    ) -> Result<(), HandlerError> {
        if event.id != self.watch {
            return Ok(());
        }
        self.calls.fetch_add(1, Ordering::SeqCst);
        if attempt.is_last() {
            self.last_seen
                .store(attempt.receive_count, Ordering::SeqCst);
        }
        if self.fail {
            Err(HandlerError::Retry("the receiver is down".into()))
        } else {
            Ok(())
        }
    }
}

fn event(id: &str, kind: EventType, ms: i64, owner: Option<&str>) -> Event {
    let e = Event::new(
        id,
        "test",
        kind,
        Utc.timestamp_millis_opt(ms).unwrap(),
        Some("AAPL".into()),
        json!({"n": id}),
    );
    match owner {
        Some(o) => e.owned_by(o),
        None => e,
    }
}

async fn scenario(stores: Stores) {
    let log = bus::log::EventLog;
    let bus_port = stores.bus.clone().unwrap();

    // An import publishes bars.updated; the log records it for everyone.
    let csv = "Date,Open,High,Low,Close,Volume\n2026-01-05,10,11,9,10.5,100\n2026-01-06,10.5,12,10,11.5,200\n";
    let out = call(
        &stores,
        "alice",
        "import_bars",
        json!({"symbol": "AAPL", "timeframe": "1d", "csv": csv}),
    )
    .await;
    let event_id = out["event_id"]
        .as_str()
        .expect("an event was published")
        .to_string();
    let seen = || async { ids(&events(&stores, "bob", json!({})).await).contains(&event_id) };
    poll_until(&stores, &log, seen).await;
    let page = events(&stores, "bob", json!({"type": "bars.updated"})).await;
    let first = &page["events"][0];
    assert_eq!(first["id"], json!(event_id));
    assert_eq!(first["yours"], json!(false));
    assert_eq!(first["data"]["symbol"], json!("AAPL"));
    assert_eq!(first["data"]["last"], json!("2026-01-06T00:00:00Z"));
    assert_eq!(first["data"]["inserted"], json!(2));
    let own_only = events(&stores, "bob", json!({"include_market": false})).await;
    assert!(ids(&own_only).is_empty());

    // A user's own event is shown to that user only.
    bus_port
        .publish(&[event(
            "mine-1",
            EventType::AlertTriggered,
            1_800_000_000_000,
            Some("alice"),
        )])
        .await
        .unwrap();
    let alice_sees = || async {
        ids(&events(&stores, "alice", json!({"include_market": false})).await)
            == vec!["mine-1".to_string()]
    };
    poll_until(&stores, &log, alice_sees).await;
    let page = events(&stores, "alice", json!({"type": "alert.triggered"})).await;
    assert_eq!(page["events"][0]["yours"], json!(true));
    assert!(!ids(&events(&stores, "bob", json!({})).await).contains(&"mine-1".to_string()));

    // Newest first across the user's and the market's events, paged.
    let market: Vec<Event> = (0..5)
        .map(|n| {
            event(
                &format!("m-{n}"),
                EventType::BarsUpdated,
                1_800_000_000_000 - 1000 * (n + 1),
                None,
            )
        })
        .collect();
    bus_port.publish(&market).await.unwrap();
    let all_there = || async {
        events(&stores, "alice", json!({"limit": 200})).await["events"]
            .as_array()
            .unwrap()
            .len()
            == 7
    };
    poll_until(&stores, &log, all_there).await;
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"limit": 3});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = events(&stores, "alice", args).await;
        pages.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages.len(), 7, "{pages:?}");
    assert_eq!(
        pages.get(..6).unwrap(),
        ["mine-1", "m-0", "m-1", "m-2", "m-3", "m-4"],
        "newest first, no event twice"
    );
    assert!(ids(&events(&stores, "alice", json!({"type": "signal.changed"})).await).is_empty());
    let bad = find("get_events")
        .unwrap()
        .call(
            ctx(&stores, "alice"),
            serde_json::value::to_raw_value(&json!({"type": "bars.exploded"})).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("bars.updated"), "{bad}");

    // One event handled once, however often it is delivered.
    let counting = Counting {
        name: ALERTS,
        calls: AtomicU32::new(0),
        fail: false,
        last_seen: AtomicU32::new(0),
        watch: "once-1",
    };
    bus_port
        .publish(&[event(
            "once-1",
            EventType::SignalChanged,
            1_700_000_000_000,
            None,
        )])
        .await
        .unwrap();
    let mut delivered = Vec::new();
    let start = Instant::now();
    while delivered
        .iter()
        .all(|d: &gs_domain::Delivery| d.event.id != "once-1")
    {
        assert!(start.elapsed() < Duration::from_secs(10));
        delivered.extend(
            bus_port
                .receive(ALERTS, 10, Duration::from_secs(30))
                .await
                .unwrap(),
        );
    }
    let once = delivered.iter().find(|d| d.event.id == "once-1").unwrap();
    assert_eq!(
        bus::handle_delivery(&counting, &stores, once, MAX_RECEIVES).await,
        Outcome::Handled
    );
    assert_eq!(
        bus::handle_delivery(&counting, &stores, once, MAX_RECEIVES).await,
        Outcome::Duplicate
    );
    assert_eq!(counting.calls.load(Ordering::SeqCst), 1);

    // A consumer that keeps failing: retried, then dead-lettered.
    let failing = Counting {
        name: NOTIFIER,
        calls: AtomicU32::new(0),
        fail: true,
        last_seen: AtomicU32::new(0),
        watch: "doomed-1",
    };
    bus_port
        .publish(&[event(
            "doomed-1",
            EventType::AlertTriggered,
            1_700_000_000_000,
            Some("alice"),
        )])
        .await
        .unwrap();
    let dead = || async {
        bus_port
            .dead_letters(NOTIFIER, 10)
            .await
            .unwrap()
            .iter()
            .any(|e| e.id == "doomed-1")
    };
    poll_until(&stores, &failing, dead).await;
    assert_eq!(failing.calls.load(Ordering::SeqCst), MAX_RECEIVES);
    assert_eq!(failing.last_seen.load(Ordering::SeqCst), MAX_RECEIVES);
}

/// Runs `scenario` on the embedded store and outbox, then on DynamoDB and
/// EventBridge + SQS on moto.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bus_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap();
    let local_bus = Arc::new(gs_embedded_store::EmbeddedBus::new(
        embedded.clone(),
        bus::routes(),
        MAX_RECEIVES,
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
    let name = gs_aws_emulator::unique_name("bus-flow");
    let dynamo = Arc::new(gs_dynamo_store::DynamoStore::from_config(&sdk, &name));
    gs_dynamo_store::table::create(dynamo.client(), &name)
        .await
        .unwrap();
    let queues = gs_aws_bus::provision(&sdk, &name, &name, &bus::routes(), MAX_RECEIVES)
        .await
        .unwrap();
    let aws_bus = Arc::new(gs_aws_bus::AwsBus::new(&sdk, &name, queues, MAX_RECEIVES));
    scenario(Stores {
        bars: dynamo.clone(),
        records: dynamo,
        cipher: None,
        bus: Some(aws_bus as Arc<dyn EventBus>),
    })
    .await;
}
