//! The `EventBus` port: the data bus the agents, the scans and the alerts
//! talk over. Delivery is **at least once**: every event published reaches
//! every consumer subscribed to its type one or more times, so consumers are
//! idempotent (they remember the event ids they have handled, see
//! [`Delivery::event`] and the consumer driver in `gs-tools`).
//!
//! Each consumer has its own queue. A received message is invisible to other
//! receivers for the visibility timeout given to [`EventBus::receive`]; it
//! comes back when that passes without an [`EventBus::ack`], or earlier with
//! [`EventBus::retry`]. A message received more than the engine's
//! `max_receives` times moves to the consumer's dead-letter queue instead of
//! being delivered again (SQS's redrive policy, which also moves it on the
//! next receive after the count is passed).
//!
//! Engines: EventBridge (one custom bus, a rule per consumer) → SQS (a queue
//! and a DLQ per consumer) in the cloud; a durable outbox in the embedded
//! store locally. The contract in `gs-store-contract` (`bus_contract!`) holds
//! both to this text.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The envelope's version (CloudEvents' `specversion`). Readers refuse a
/// major version they do not know.
pub const ENVELOPE_VERSION: &str = "1.0";
/// Most events in one `publish` call.
pub const MAX_PUBLISH_BATCH: usize = 100;
/// Largest serialised event (bytes): EventBridge's and SQS's 256 KB, less
/// room for EventBridge's own envelope around ours.
pub const MAX_EVENT_BYTES: usize = 200 * 1024;
/// Most messages one `receive` returns.
pub const MAX_RECEIVE_BATCH: usize = 10;
/// Longest visibility timeout or retry delay (SQS's 12 hours).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// What happened. The wire names (`bars.updated`, ...) are the `type` of the
/// envelope and EventBridge's `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// New or corrected bars were stored for a series (`subject`: the symbol).
    #[serde(rename = "bars.updated")]
    BarsUpdated,
    /// A scan produced a signal for a symbol.
    #[serde(rename = "signal.generated")]
    SignalGenerated,
    /// A scan's action for a symbol differs from the previous scan's.
    #[serde(rename = "signal.changed")]
    SignalChanged,
    /// A candlestick or chart pattern completed on the last bar.
    #[serde(rename = "pattern.detected")]
    PatternDetected,
    /// An alert rule fired.
    #[serde(rename = "alert.triggered")]
    AlertTriggered,
    /// A notification of an alert reached (or finally failed to reach) a channel.
    #[serde(rename = "alert.delivered")]
    AlertDelivered,
    /// An unacknowledged alert moved to its next escalation step.
    #[serde(rename = "alert.escalated")]
    AlertEscalated,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        Self::BarsUpdated,
        Self::SignalGenerated,
        Self::SignalChanged,
        Self::PatternDetected,
        Self::AlertTriggered,
        Self::AlertDelivered,
        Self::AlertEscalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BarsUpdated => "bars.updated",
            Self::SignalGenerated => "signal.generated",
            Self::SignalChanged => "signal.changed",
            Self::PatternDetected => "pattern.detected",
            Self::AlertTriggered => "alert.triggered",
            Self::AlertDelivered => "alert.delivered",
            Self::AlertEscalated => "alert.escalated",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event, in an envelope close to CloudEvents 1.0 (structured JSON mode):
/// `specversion`, `id`, `source`, `type`, `time`, `subject`, `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub specversion: String,
    /// Unique per event (consumers dedupe on it); a republished event keeps
    /// its id.
    pub id: String,
    /// Who published it (`goldensignals/import`, `goldensignals/scan`, ...).
    pub source: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it happened, to the millisecond.
    #[serde(with = "millis")]
    pub time: DateTime<Utc>,
    /// What it is about: a symbol, an alert id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The user (a token's `sub`) whose event this is, for events about a
    /// user's own things (alerts, watchlist scans); `None` for market-wide
    /// ones (bars). A CloudEvents extension attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub data: serde_json::Value,
}

mod millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

impl Event {
    /// An event of this version; `time` is truncated to the millisecond so it
    /// survives the wire unchanged.
    pub fn new(
        id: impl Into<String>,
        source: impl Into<String>,
        kind: EventType,
        time: DateTime<Utc>,
        subject: Option<String>,
        data: serde_json::Value,
    ) -> Self {
        let time = DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(time);
        Self {
            specversion: ENVELOPE_VERSION.to_string(),
            id: id.into(),
            source: source.into(),
            kind,
            time,
            subject,
            owner: None,
            data,
        }
    }

    /// The same event, owned by the user `subject`.
    pub fn owned_by(mut self, subject: &str) -> Self {
        self.owner = Some(subject.to_string());
        self
    }

    /// The envelope as bytes, refused (`Invalid`, `TooLarge`) where any
    /// engine would refuse it.
    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        check_event(self)?;
        let bytes = serde_json::to_vec(self).map_err(|e| {
            StoreError::Invalid(format!("event {:?} does not serialise: {e}", self.id))
        })?;
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(StoreError::TooLarge(format!(
                "event {:?} is {} bytes; events may be at most {MAX_EVENT_BYTES} bytes",
                self.id,
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// An envelope from bytes: a major version other than ours is `Corrupt`.
    pub fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let event: Self = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("an event envelope does not decode: {e}")))?;
        let major = |v: &str| v.split('.').next().map(str::to_string);
        if major(&event.specversion) != major(ENVELOPE_VERSION) {
            return Err(StoreError::Corrupt(format!(
                "event {:?} has envelope version {:?}; this build reads {ENVELOPE_VERSION}",
                event.id, event.specversion
            )));
        }
        Ok(event)
    }
}

/// Ids and sources: 1-128 printable ASCII characters without spaces.
fn check_event(event: &Event) -> Result<(), StoreError> {
    let ok = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    if !ok(&event.id) || !ok(&event.source) {
        return Err(StoreError::Invalid(format!(
            "event id {:?} and source {:?} must be 1-128 printable ASCII characters without spaces",
            event.id, event.source
        )));
    }
    Ok(())
}

/// One consumer and the event types routed to its queue. Consumer names are
/// 1-40 characters of `a-z 0-9 -` (they name SQS queues and store keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub consumer: String,
    pub types: Vec<EventType>,
}

impl Route {
    pub fn new(consumer: &str, types: &[EventType]) -> Result<Self, StoreError> {
        check_consumer(consumer)?;
        if types.is_empty() {
            return Err(StoreError::Invalid(format!(
                "consumer {consumer:?} subscribes to no event type"
            )));
        }
        Ok(Self {
            consumer: consumer.to_string(),
            types: types.to_vec(),
        })
    }

    pub fn wants(&self, kind: EventType) -> bool {
        self.types.contains(&kind)
    }
}

pub fn check_consumer(consumer: &str) -> Result<(), StoreError> {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if consumer.is_empty() || consumer.len() > 40 || !consumer.chars().all(ok) {
        return Err(StoreError::Invalid(format!(
            "consumer name {consumer:?} must be 1-40 characters from a-z 0-9 -"
        )));
    }
    Ok(())
}

/// A received message: the event, the receipt that acks or retries this
/// receive (a later receive of the same message has another receipt), and
/// how many times it has been received, this time included.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event: Event,
    pub receipt: String,
    pub receive_count: u32,
}

/// Refuses a batch or a timeout no engine can honour.
pub fn check_publish(events: &[Event]) -> Result<(), StoreError> {
    if events.len() > MAX_PUBLISH_BATCH {
        return Err(StoreError::TooLarge(format!(
            "{} events in one publish; at most {MAX_PUBLISH_BATCH}",
            events.len()
        )));
    }
    Ok(())
}

/// The visibility timeout an engine applies: capped at [`MAX_VISIBILITY`]
/// (engines round it: the outbox to milliseconds, SQS up to seconds).
pub fn capped_visibility(visibility: Duration) -> Duration {
    visibility.min(MAX_VISIBILITY)
}

/// The bus. Every method is safe to call concurrently from many tasks and
/// processes.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Delivers each event (at least once) to the queue of every consumer
    /// whose route names its type; events no route wants are dropped.
    /// At most [`MAX_PUBLISH_BATCH`] events, each at most
    /// [`MAX_EVENT_BYTES`] encoded; a refused batch publishes nothing the
    /// engine could check first. On `Unavailable` some events may have been
    /// published: publish the same events (same ids) again.
    async fn publish(&self, events: &[Event]) -> Result<(), StoreError>;

    /// Up to `max` (at most [`MAX_RECEIVE_BATCH`]) visible messages of the
    /// consumer's queue, oldest first where the engine can tell, each hidden
    /// for `visibility` (capped at [`MAX_VISIBILITY`]). May return fewer than
    /// are visible, even none (SQS samples its servers); it never waits for
    /// messages to arrive. A message past `max_receives` goes to the
    /// dead-letter queue instead of being returned.
    async fn receive(
        &self,
        consumer: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Removes the received message for good. A receipt that is no longer
    /// current (the message came back and was received again, or was acked)
    /// is ignored.
    async fn ack(&self, consumer: &str, receipt: &str) -> Result<(), StoreError>;

    /// Makes the received message visible again after `delay` (0: now),
    /// keeping its receive count. A stale receipt is ignored.
    async fn retry(&self, consumer: &str, receipt: &str, delay: Duration)
    -> Result<(), StoreError>;

    /// Up to `max` (at most [`MAX_RECEIVE_BATCH`]) messages of the
    /// consumer's dead-letter queue, left there (a peek).
    async fn dead_letters(&self, consumer: &str, max: usize) -> Result<Vec<Event>, StoreError>;

    /// How many receives a message gets before it is dead-lettered.
    fn max_receives(&self) -> u32;
}
