//! The data bus as the product uses it: its consumers and their routes,
//! publishing from tools, the consumer driver (dedupe by event id, retries
//! with backoff, dead letters after the bus's `max_receives`), the local
//! poller `serve` runs, and the event log behind `get_events` and the
//! `databus://{type}` resources.
//!
//! Delivery is at least once, so every consumer is idempotent: the driver
//! skips an event whose id the consumer has already handled (a `bus-seen`
//! record, put `IfAbsent` after the handler succeeded), and handlers whose
//! effects are records key them so a repeat rewrites the same thing.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use gs_domain::bus::{Delivery, Event, EventBus, EventType, Route};
use gs_domain::{Owner, RecordKey, StoreError, WriteCondition};
use tokio::sync::watch;

use crate::context::Stores;

pub mod log;

/// The consumer that keeps the recent-event log.
pub const EVENT_LOG: &str = "event-log";
/// The consumer that evaluates alert rules on new bars and signals.
pub const ALERTS: &str = "alerts";
/// The consumer that delivers triggered and escalated alerts.
pub const NOTIFIER: &str = "notifier";

/// How long a consumer remembers an event id (longer than SQS keeps a
/// message: 14 days).
pub const SEEN_TTL: Duration = Duration::from_secs(15 * 24 * 3600);
const SEEN: &str = "bus-seen";

/// Every consumer of the product and the event types routed to it. The SAM
/// template declares one rule and queue per entry (`tests/template.rs` in
/// gs-lambda checks it).
pub fn routes() -> Vec<Route> {
    use EventType::*;
    let route = |consumer: &str, types: &[EventType]| Route {
        consumer: consumer.to_string(),
        types: types.to_vec(),
    };
    vec![
        route(EVENT_LOG, &EventType::ALL),
        // Patterns on the newest bar are evaluated from the bars themselves
        // (candlestick conditions); pattern.detected is for people and logs.
        route(ALERTS, &[BarsUpdated, SignalGenerated, SignalChanged]),
        route(NOTIFIER, &[AlertTriggered, AlertEscalated]),
    ]
}

/// A fresh event id: 128 random bits in hex.
pub fn new_event_id() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    // The system RNG does not fail on supported platforms; a failure leaves
    // zeros, which the time prefix still keeps apart.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    format!(
        "{:x}-{}",
        Utc::now().timestamp_millis(),
        crate::digest::hex(&bytes)
    )
}

/// Publishes on the stores' bus; without a bus (a process that only
/// serves reads) there is nobody to tell and nothing happens.
pub async fn publish(stores: &Stores, events: &[Event]) -> Result<(), StoreError> {
    match &stores.bus {
        Some(bus) if !events.is_empty() => bus.publish(events).await,
        _ => Ok(()),
    }
}

/// What went wrong in a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    /// May pass later (a receiver down, storage throttled): retry with
    /// backoff, then dead-letter.
    Retry(String),
    /// Can never pass (a malformed event): released at once, so it
    /// reaches the dead-letter queue after `max_receives` quick failures.
    Poison(String),
    /// Not yet: handle it again after this wait (a grouping window). The
    /// wait uses up one of the message's receives.
    Later(Duration, String),
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Retry(m) => write!(f, "will retry: {m}"),
            Self::Poison(m) => write!(f, "cannot be handled: {m}"),
            Self::Later(d, m) => write!(f, "later ({} ms): {m}", d.as_millis()),
        }
    }
}

impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::Corrupt(_) | StoreError::Invalid(_)) {
            Self::Poison(e.to_string())
        } else {
            Self::Retry(e.to_string())
        }
    }
}

/// What a consumer learns about the delivery it handles.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    /// This receive's number, from 1.
    pub receive_count: u32,
    /// After this many receives the bus dead-letters the message.
    pub max_receives: u32,
}

impl Attempt {
    /// True on the last receive before the dead-letter queue: a handler
    /// records the final failure then.
    pub fn is_last(&self) -> bool {
        self.receive_count >= self.max_receives
    }
}

/// One consumer: handles one event at a time, idempotently.
#[async_trait]
pub trait Consumer: Send + Sync {
    fn name(&self) -> &'static str;
    async fn handle(
        &self,
        stores: &Stores,
        event: &Event,
        attempt: Attempt,
    ) -> Result<(), HandlerError>;
}

/// What the driver did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    /// The consumer had already handled this event id.
    Duplicate,
    Failed(HandlerError),
}

fn seen_key(consumer: &str, event_id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::system(), SEEN, &format!("{consumer}#{event_id}"))
}

/// Runs `consumer` on one delivery unless it has handled the event before,
/// and remembers it after it succeeded.
pub async fn handle_delivery(
    consumer: &dyn Consumer,
    stores: &Stores,
    delivery: &Delivery,
    max_receives: u32,
) -> Outcome {
    let key = match seen_key(consumer.name(), &delivery.event.id) {
        Ok(key) => key,
        Err(e) => return Outcome::Failed(e.into()),
    };
    match stores.records.get(&key).await {
        Ok(Some(_)) => return Outcome::Duplicate,
        Ok(None) => {}
        Err(e) => return Outcome::Failed(e.into()),
    }
    let attempt = Attempt {
        receive_count: delivery.receive_count,
        max_receives,
    };
    if let Err(e) = consumer.handle(stores, &delivery.event, attempt).await {
        return Outcome::Failed(e);
    }
    let expires = Utc::now()
        .checked_add_signed(chrono::Duration::from_std(SEEN_TTL).unwrap_or_default())
        .unwrap_or_else(Utc::now);
    match stores
        .records
        .put(&key, b"1", WriteCondition::IfAbsent, Some(expires))
        .await
    {
        // Another receiver handled it at the same time: both effects are
        // the same (handlers are idempotent).
        Ok(_) | Err(StoreError::Conflict(_)) => Outcome::Handled,
        Err(e) => Outcome::Failed(e.into()),
    }
}

/// The wait before a failed delivery is tried again: `base` doubled per
/// receive, at most 5 minutes.
pub fn backoff(base: Duration, receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(16);
    base.saturating_mul(1u32 << doublings)
        .min(Duration::from_secs(300))
}

/// How the local poller runs.
#[derive(Debug, Clone, Copy)]
pub struct PollSettings {
    /// How long a received message stays hidden while it is handled.
    pub visibility: Duration,
    /// The first retry delay (doubled per attempt).
    pub retry_base: Duration,
    /// The pause when every queue was empty.
    pub idle: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            visibility: Duration::from_secs(60),
            retry_base: Duration::from_secs(2),
            idle: Duration::from_millis(250),
        }
    }
}

/// Receives one batch of `consumer`'s queue and settles each message: an
/// ack when it was handled or is a duplicate; when it failed, a retry after
/// [`backoff`] (a poison event at once, so it reaches the dead-letter queue
/// after `max_receives` quick failures). Returns the messages received.
pub async fn poll_once(
    bus: &dyn EventBus,
    consumer: &dyn Consumer,
    stores: &Stores,
    settings: PollSettings,
) -> Result<usize, StoreError> {
    let batch = bus
        .receive(consumer.name(), 10, settings.visibility)
        .await?;
    let max_receives = bus.max_receives();
    for delivery in &batch {
        match handle_delivery(consumer, stores, delivery, max_receives).await {
            Outcome::Handled | Outcome::Duplicate => {
                bus.ack(consumer.name(), &delivery.receipt).await?;
            }
            Outcome::Failed(HandlerError::Retry(why)) => {
                tracing::warn!(consumer = consumer.name(), event = %delivery.event.id, attempt = delivery.receive_count, %why, "event handling failed; will retry");
                let delay = backoff(settings.retry_base, delivery.receive_count);
                bus.retry(consumer.name(), &delivery.receipt, delay).await?;
            }
            Outcome::Failed(HandlerError::Later(wait, why)) => {
                tracing::debug!(consumer = consumer.name(), event = %delivery.event.id, %why, "event handling deferred");
                bus.retry(consumer.name(), &delivery.receipt, wait).await?;
            }
            Outcome::Failed(HandlerError::Poison(why)) => {
                tracing::warn!(consumer = consumer.name(), event = %delivery.event.id, %why, "event cannot be handled; it goes to the dead-letter queue");
                bus.retry(consumer.name(), &delivery.receipt, Duration::ZERO)
                    .await?;
            }
        }
    }
    Ok(batch.len())
}

/// The local poller `serve` runs: every consumer's queue in turn until
/// `stop` turns true. Errors are logged and the loop goes on after a pause.
pub async fn run_consumers(
    bus: Arc<dyn EventBus>,
    stores: Stores,
    consumers: Vec<Arc<dyn Consumer>>,
    settings: PollSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let mut received = 0usize;
        for consumer in &consumers {
            match poll_once(bus.as_ref(), consumer.as_ref(), &stores, settings).await {
                Ok(n) => received = received.saturating_add(n),
                Err(e) => {
                    tracing::warn!(consumer = consumer.name(), error = %e, "polling the bus failed");
                }
            }
        }
        if received == 0 {
            tokio::select! {
                _ = tokio::time::sleep(settings.idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// The product's consumers, in route order.
pub fn consumers() -> Vec<Arc<dyn Consumer>> {
    vec![
        Arc::new(log::EventLog),
        Arc::new(crate::alerts::Evaluator),
        Arc::new(crate::alerts::Notifier),
    ]
}
