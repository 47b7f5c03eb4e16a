//! `EmbeddedBus`: the local engine of the `EventBus` port, a durable outbox
//! in the same redb file as the records.
//!
//! | table         | key                                | value                             |
//! |---------------|------------------------------------|-----------------------------------|
//! | `bus_queue_v1`| (consumer, visible at ms, seq)     | receive count u32 LE ++ envelope  |
//! | `bus_dlq_v1`  | (consumer, seq)                    | receive count u32 LE ++ envelope  |
//! | `bus_seq_v1`  | "next"                             | the next seq, u64                 |
//!
//! A publish writes one queue row per subscribed consumer in one transaction
//! (committed, so fsynced, before `publish` returns: a restart loses
//! nothing). A queue's rows sort by the time they become visible, so a
//! receive reads the visible ones from the front of its range and moves each
//! to `now + visibility` with its count raised, in one transaction: two
//! receivers never get the same message while it is hidden. The receipt
//! names the row (`visible_at.seq`); an ack or retry of a row that has moved
//! on finds nothing and does nothing.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use gs_domain::StoreError;
use gs_domain::bus::{
    self, Delivery, Event, EventBus, MAX_RECEIVE_BATCH, Route, capped_visibility, check_consumer,
    check_publish,
};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::EmbeddedStore;
use crate::store::engine;

pub(crate) const BUS_QUEUE: TableDefinition<(&str, i64, u64), &[u8]> =
    TableDefinition::new("bus_queue_v1");
pub(crate) const BUS_DLQ: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("bus_dlq_v1");
pub(crate) const BUS_SEQ: TableDefinition<&str, u64> = TableDefinition::new("bus_seq_v1");

/// The default receives before a message is dead-lettered (the SAM
/// template's `maxReceiveCount`).
pub const DEFAULT_MAX_RECEIVES: u32 = 5;

/// The outbox bus. Cloning shares the store.
#[derive(Clone)]
pub struct EmbeddedBus {
    store: EmbeddedStore,
    routes: Arc<Vec<Route>>,
    max_receives: u32,
}

impl std::fmt::Debug for EmbeddedBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBus")
            .field("routes", &self.routes)
            .field("max_receives", &self.max_receives)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(capped_visibility(d).as_millis()).unwrap_or(i64::MAX)
}

fn row(count: u32, envelope: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(envelope.len().saturating_add(4));
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(envelope);
    out
}

fn split_row(bytes: &[u8]) -> Result<(u32, &[u8]), StoreError> {
    let (head, body) = bytes
        .split_at_checked(4)
        .ok_or_else(|| StoreError::Corrupt("a bus row is shorter than its header".into()))?;
    let count = u32::from_le_bytes(
        head.try_into()
            .map_err(|_| StoreError::Corrupt("a bus row header is not 4 bytes".into()))?,
    );
    Ok((count, body))
}

fn receipt(visible_at: i64, seq: u64) -> String {
    format!("{visible_at}.{seq}")
}

/// A receipt of this engine, or `None` for one it never gave (ignored, as a
/// stale one is).
fn parse_receipt(receipt: &str) -> Option<(i64, u64)> {
    let (at, seq) = receipt.split_once('.')?;
    Some((at.parse().ok()?, seq.parse().ok()?))
}

impl EmbeddedBus {
    /// A bus over `store` that routes by `routes`, dead-lettering after
    /// `max_receives` receives (at least 1).
    pub fn new(store: EmbeddedStore, routes: Vec<Route>, max_receives: u32) -> Self {
        Self {
            store,
            routes: Arc::new(routes),
            max_receives: max_receives.max(1),
        }
    }

    fn known(&self, consumer: &str) -> Result<(), StoreError> {
        check_consumer(consumer)?;
        if self.routes.iter().any(|r| r.consumer == consumer) {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "no consumer {consumer:?} is routed on this bus"
            )))
        }
    }

    /// Messages waiting (visible or hidden) in the consumer's queue: the
    /// local counterpart of SQS's `ApproximateNumberOfMessages` plus
    /// `...NotVisible`.
    pub async fn depth(&self, consumer: &str) -> Result<usize, StoreError> {
        self.known(consumer)?;
        let consumer = consumer.to_string();
        self.store
            .blocking(move |s| {
                let txn = s.db.begin_read().map_err(engine("beginning a read"))?;
                let table = txn
                    .open_table(BUS_QUEUE)
                    .map_err(engine("opening the bus queue"))?;
                let range = table
                    .range(
                        (consumer.as_str(), i64::MIN, 0u64)
                            ..=(consumer.as_str(), i64::MAX, u64::MAX),
                    )
                    .map_err(engine("reading the bus queue"))?;
                Ok(range.count())
            })
            .await
    }
}

#[async_trait]
impl EventBus for EmbeddedBus {
    async fn publish(&self, events: &[Event]) -> Result<(), StoreError> {
        check_publish(events)?;
        let mut rows = Vec::new();
        for event in events {
            let bytes = event.encode()?;
            for route in self.routes.iter().filter(|r| r.wants(event.kind)) {
                rows.push((route.consumer.clone(), bytes.clone()));
            }
        }
        if rows.is_empty() {
            return Ok(());
        }
        self.store
            .blocking(move |s| {
                let now = now_ms();
                let txn = s.db.begin_write().map_err(engine("beginning a write"))?;
                {
                    let mut seqs = txn
                        .open_table(BUS_SEQ)
                        .map_err(engine("opening the bus sequence"))?;
                    let mut seq = seqs
                        .get("next")
                        .map_err(engine("reading the bus sequence"))?
                        .map_or(1, |v| v.value());
                    let mut queue = txn
                        .open_table(BUS_QUEUE)
                        .map_err(engine("opening the bus queue"))?;
                    for (consumer, bytes) in &rows {
                        queue
                            .insert((consumer.as_str(), now, seq), row(0, bytes).as_slice())
                            .map_err(engine("writing the bus queue"))?;
                        seq = seq.saturating_add(1);
                    }
                    seqs.insert("next", seq)
                        .map_err(engine("writing the bus sequence"))?;
                }
                txn.commit().map_err(engine("committing a publish"))
            })
            .await
    }

    async fn receive(
        &self,
        consumer: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.known(consumer)?;
        let max = max.min(MAX_RECEIVE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let consumer = consumer.to_string();
        let hide = millis(visibility);
        let max_receives = self.max_receives;
        self.store
            .blocking(move |s| {
                let now = now_ms();
                let until = now.saturating_add(hide);
                // An idle poll reads only: no write transaction (an fsync)
                // unless something is visible.
                {
                    let read = s.db.begin_read().map_err(engine("beginning a read"))?;
                    let queue = read
                        .open_table(BUS_QUEUE)
                        .map_err(engine("opening the bus queue"))?;
                    let c = consumer.as_str();
                    let mut visible = queue
                        .range((c, i64::MIN, 0u64)..=(c, now, u64::MAX))
                        .map_err(engine("reading the bus queue"))?;
                    if visible.next().is_none() {
                        return Ok(Vec::new());
                    }
                }
                let txn = s.db.begin_write().map_err(engine("beginning a write"))?;
                let mut out = Vec::new();
                {
                    let mut queue = txn
                        .open_table(BUS_QUEUE)
                        .map_err(engine("opening the bus queue"))?;
                    let mut dlq = txn
                        .open_table(BUS_DLQ)
                        .map_err(engine("opening the dead-letter queue"))?;
                    let c = consumer.as_str();
                    // Visible rows, oldest first; dead ones do not count
                    // towards `max`, so read until enough live ones.
                    let mut visible = Vec::new();
                    for entry in queue
                        .range((c, i64::MIN, 0u64)..=(c, now, u64::MAX))
                        .map_err(engine("reading the bus queue"))?
                    {
                        let (k, v) = entry.map_err(engine("reading the bus queue"))?;
                        let (_, at, seq) = k.value();
                        let (count, _) = split_row(v.value())?;
                        let live = count < max_receives;
                        visible.push((at, seq, v.value().to_vec(), live));
                        if visible.iter().filter(|r| r.3).count() >= max {
                            break;
                        }
                    }
                    for (at, seq, bytes, live) in visible {
                        queue
                            .remove((c, at, seq))
                            .map_err(engine("claiming a bus message"))?;
                        let (count, envelope) = split_row(&bytes)?;
                        if !live {
                            dlq.insert((c, seq), bytes.as_slice())
                                .map_err(engine("dead-lettering a bus message"))?;
                            continue;
                        }
                        let count = count.saturating_add(1);
                        queue
                            .insert((c, until, seq), row(count, envelope).as_slice())
                            .map_err(engine("claiming a bus message"))?;
                        out.push(Delivery {
                            event: Event::decode(envelope)?,
                            receipt: receipt(until, seq),
                            receive_count: count,
                        });
                    }
                }
                txn.commit().map_err(engine("committing a receive"))?;
                Ok(out)
            })
            .await
    }

    async fn ack(&self, consumer: &str, receipt: &str) -> Result<(), StoreError> {
        self.known(consumer)?;
        let Some((at, seq)) = parse_receipt(receipt) else {
            return Ok(());
        };
        let consumer = consumer.to_string();
        self.store
            .blocking(move |s| {
                let txn = s.db.begin_write().map_err(engine("beginning a write"))?;
                {
                    let mut queue = txn
                        .open_table(BUS_QUEUE)
                        .map_err(engine("opening the bus queue"))?;
                    queue
                        .remove((consumer.as_str(), at, seq))
                        .map_err(engine("acknowledging a bus message"))?;
                }
                txn.commit().map_err(engine("committing an ack"))
            })
            .await
    }

    async fn retry(
        &self,
        consumer: &str,
        receipt: &str,
        delay: Duration,
    ) -> Result<(), StoreError> {
        self.known(consumer)?;
        let Some((at, seq)) = parse_receipt(receipt) else {
            return Ok(());
        };
        let consumer = consumer.to_string();
        let delay = millis(delay);
        self.store
            .blocking(move |s| {
                let txn = s.db.begin_write().map_err(engine("beginning a write"))?;
                {
                    let mut queue = txn
                        .open_table(BUS_QUEUE)
                        .map_err(engine("opening the bus queue"))?;
                    let c = consumer.as_str();
                    let bytes = queue
                        .remove((c, at, seq))
                        .map_err(engine("releasing a bus message"))?
                        .map(|v| v.value().to_vec());
                    if let Some(bytes) = bytes {
                        let back = now_ms().saturating_add(delay);
                        queue
                            .insert((c, back, seq), bytes.as_slice())
                            .map_err(engine("releasing a bus message"))?;
                    }
                }
                txn.commit().map_err(engine("committing a retry"))
            })
            .await
    }

    async fn dead_letters(&self, consumer: &str, max: usize) -> Result<Vec<Event>, StoreError> {
        self.known(consumer)?;
        let max = max.min(MAX_RECEIVE_BATCH);
        let consumer = consumer.to_string();
        self.store
            .blocking(move |s| {
                let txn = s.db.begin_read().map_err(engine("beginning a read"))?;
                let table = txn
                    .open_table(BUS_DLQ)
                    .map_err(engine("opening the dead-letter queue"))?;
                let c = consumer.as_str();
                let mut out = Vec::new();
                for entry in table
                    .range((c, 0u64)..=(c, u64::MAX))
                    .map_err(engine("reading the dead-letter queue"))?
                    .take(max)
                {
                    let (_, v) = entry.map_err(engine("reading the dead-letter queue"))?;
                    let (_, envelope) = split_row(v.value())?;
                    out.push(bus::Event::decode(envelope)?);
                }
                Ok(out)
            })
            .await
    }

    fn max_receives(&self) -> u32 {
        self.max_receives
    }
}
