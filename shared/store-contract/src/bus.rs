//! `EventBus` cases: routing, the envelope, visibility, acks and retries,
//! dead letters, batch limits, concurrent receivers.
//!
//! Engines are built with [`routes`] and [`MAX_RECEIVES`]. Receives may
//! return fewer messages than are visible (SQS samples), so the cases read
//! with [`drain`], which receives until it has what it expects or a few
//! seconds pass.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gs_domain::StoreError;
use gs_domain::bus::{Delivery, Event, EventBus, EventType, MAX_PUBLISH_BATCH, Route};

/// Receives before a message is dead-lettered, on every engine under test.
pub const MAX_RECEIVES: u32 = 3;
/// A consumer of bars and signal changes.
pub const RULES: &str = "rules";
/// A consumer of triggered alerts.
pub const NOTIFY: &str = "notify";

/// The routes every engine under test is built with. `pattern.detected` is
/// routed nowhere.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(RULES, &[EventType::BarsUpdated, EventType::SignalChanged]).unwrap(),
        Route::new(NOTIFY, &[EventType::AlertTriggered]).unwrap(),
    ]
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn event(id: &str, kind: EventType) -> Event {
    Event::new(
        id,
        "goldensignals/contract",
        kind,
        at(1_767_225_600_123),
        Some("AAPL".into()),
        serde_json::json!({"id": id, "bars": [1.5, 2.25], "note": "é ✓"}),
    )
}

const LONG: Duration = Duration::from_secs(60);

/// Receives (hiding for `visibility`) until `want` messages have come or
/// `patience` has passed.
pub async fn drain<B: EventBus>(
    bus: &B,
    consumer: &str,
    want: usize,
    visibility: Duration,
    patience: Duration,
) -> Vec<Delivery> {
    let start = Instant::now();
    let mut out = Vec::new();
    while out.len() < want && start.elapsed() < patience {
        let batch = bus.receive(consumer, 10, visibility).await.unwrap();
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        out.extend(batch);
    }
    out
}

fn ids(deliveries: &[Delivery]) -> BTreeSet<String> {
    deliveries.iter().map(|d| d.event.id.clone()).collect()
}

async fn nothing_visible<B: EventBus>(bus: &B, consumer: &str) {
    let got = drain(bus, consumer, 1, LONG, Duration::from_millis(700)).await;
    assert!(got.is_empty(), "{consumer} received {:?}", ids(&got));
}

pub async fn events_reach_only_the_consumers_routed_to_their_type<B: EventBus>(bus: B) {
    bus.publish(&[
        event("b1", EventType::BarsUpdated),
        event("s1", EventType::SignalChanged),
        event("a1", EventType::AlertTriggered),
        event("p1", EventType::PatternDetected),
        event("g1", EventType::SignalGenerated),
    ])
    .await
    .unwrap();
    let rules = drain(&bus, RULES, 2, LONG, Duration::from_secs(5)).await;
    assert_eq!(ids(&rules), BTreeSet::from(["b1".into(), "s1".into()]));
    let notify = drain(&bus, NOTIFY, 1, LONG, Duration::from_secs(5)).await;
    assert_eq!(ids(&notify), BTreeSet::from(["a1".into()]));
    nothing_visible(&bus, RULES).await;
    nothing_visible(&bus, NOTIFY).await;
}

pub async fn the_envelope_round_trips_exactly<B: EventBus>(bus: B) {
    let sent = event("round-trip-1", EventType::BarsUpdated).owned_by("alice@example.com");
    bus.publish(std::slice::from_ref(&sent)).await.unwrap();
    let got = drain(&bus, RULES, 1, LONG, Duration::from_secs(5)).await;
    let first = got.first().expect("the event arrives");
    assert_eq!(first.event, sent);
    assert_eq!(first.event.specversion, "1.0");
    assert_eq!(first.receive_count, 1);
}

pub async fn acked_messages_are_never_delivered_again<B: EventBus>(bus: B) {
    bus.publish(&[event("ack-1", EventType::BarsUpdated)])
        .await
        .unwrap();
    let got = drain(
        &bus,
        RULES,
        1,
        Duration::from_secs(1),
        Duration::from_secs(5),
    )
    .await;
    bus.ack(RULES, &got.first().expect("delivered").receipt)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    nothing_visible(&bus, RULES).await;
}

pub async fn unacked_messages_hide_then_come_back<B: EventBus>(bus: B) {
    bus.publish(&[event("hide-1", EventType::BarsUpdated)])
        .await
        .unwrap();
    let first = drain(
        &bus,
        RULES,
        1,
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .await;
    let first = first.first().expect("delivered").clone();
    assert_eq!(first.receive_count, 1);
    nothing_visible(&bus, RULES).await;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let again = drain(&bus, RULES, 1, LONG, Duration::from_secs(5)).await;
    let again = again
        .first()
        .expect("redelivered after the visibility timeout");
    assert_eq!(again.event, first.event);
    assert_eq!(again.receive_count, 2);
    assert_ne!(
        again.receipt, first.receipt,
        "each receive has its own receipt"
    );
    bus.ack(RULES, &again.receipt).await.unwrap();
    nothing_visible(&bus, RULES).await;
}

pub async fn retry_releases_now_or_after_a_delay_keeping_the_count<B: EventBus>(bus: B) {
    bus.publish(&[event("retry-1", EventType::AlertTriggered)])
        .await
        .unwrap();
    let got = drain(&bus, NOTIFY, 1, LONG, Duration::from_secs(5)).await;
    bus.retry(
        NOTIFY,
        &got.first().expect("delivered").receipt,
        Duration::ZERO,
    )
    .await
    .unwrap();
    let got = drain(&bus, NOTIFY, 1, LONG, Duration::from_secs(5)).await;
    let second = got.first().expect("released at once");
    assert_eq!(second.receive_count, 2);
    bus.retry(NOTIFY, &second.receipt, Duration::from_secs(2))
        .await
        .unwrap();
    nothing_visible(&bus, NOTIFY).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let got = drain(&bus, NOTIFY, 1, LONG, Duration::from_secs(5)).await;
    let third = got.first().expect("released after the delay");
    assert_eq!(third.event.id, "retry-1");
    assert_eq!(third.receive_count, 3);
}

pub async fn past_max_receives_a_message_is_dead_lettered<B: EventBus>(bus: B) {
    assert_eq!(bus.max_receives(), MAX_RECEIVES);
    bus.publish(&[event("dead-1", EventType::AlertTriggered)])
        .await
        .unwrap();
    for n in 1..=MAX_RECEIVES {
        let got = drain(&bus, NOTIFY, 1, LONG, Duration::from_secs(5)).await;
        let d = got.first().expect("delivered while under max_receives");
        assert_eq!(d.receive_count, n);
        bus.retry(NOTIFY, &d.receipt, Duration::ZERO).await.unwrap();
    }
    nothing_visible(&bus, NOTIFY).await;
    let start = Instant::now();
    let mut dead = Vec::new();
    while dead.is_empty() && start.elapsed() < Duration::from_secs(5) {
        dead = bus.dead_letters(NOTIFY, 10).await.unwrap();
    }
    assert_eq!(dead, vec![event("dead-1", EventType::AlertTriggered)]);
    assert!(bus.dead_letters(RULES, 10).await.unwrap().is_empty());
    // A peek leaves it there.
    assert_eq!(bus.dead_letters(NOTIFY, 10).await.unwrap().len(), 1);
}

pub async fn batches_beyond_the_wire_limits_are_split<B: EventBus>(bus: B) {
    let events: Vec<Event> = (0..25)
        .map(|n| event(&format!("many-{n:02}"), EventType::BarsUpdated))
        .collect();
    bus.publish(&events).await.unwrap();
    let got = drain(&bus, RULES, 25, LONG, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 25, "each message once while hidden");
    assert_eq!(ids(&got), events.iter().map(|e| e.id.clone()).collect());
}

pub async fn bad_batches_are_refused_and_publish_nothing<B: EventBus>(bus: B) {
    let mut big = event("big-1", EventType::BarsUpdated);
    big.data = serde_json::json!({"blob": "x".repeat(300 * 1024)});
    let err = bus
        .publish(&[event("ok-1", EventType::BarsUpdated), big])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooLarge(_)), "{err}");
    let bad_id = event("has space", EventType::BarsUpdated);
    let err = bus
        .publish(&[event("ok-2", EventType::BarsUpdated), bad_id])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let many: Vec<Event> = (0..=MAX_PUBLISH_BATCH)
        .map(|n| event(&format!("x{n}"), EventType::BarsUpdated))
        .collect();
    assert!(matches!(
        bus.publish(&many).await.unwrap_err(),
        StoreError::TooLarge(_)
    ));
    nothing_visible(&bus, RULES).await;
    for consumer in ["nobody", "Bad Name"] {
        let err = bus.receive(consumer, 1, LONG).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{consumer}: {err}");
    }
    bus.publish(&[]).await.unwrap();
}

pub async fn concurrent_receivers_never_share_a_hidden_message<B: EventBus + Clone + 'static>(
    bus: B,
) {
    let events: Vec<Event> = (0..20)
        .map(|n| event(&format!("c-{n:02}"), EventType::SignalChanged))
        .collect();
    bus.publish(&events).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let bus = bus.clone();
        tasks.push(tokio::spawn(async move {
            drain(&bus, RULES, 20, LONG, Duration::from_secs(3)).await
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(
        all.len(),
        20,
        "no message twice while hidden: {:?}",
        ids(&all)
    );
    assert_eq!(ids(&all).len(), 20);
}
