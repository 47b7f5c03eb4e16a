//! The AWS engine of the `EventBus` port: one EventBridge custom bus fans
//! events out, a rule per consumer routes the consumer's event types to its
//! own SQS queue, and each queue's redrive policy moves a message received
//! `max_receives` times to the consumer's dead-letter queue.
//!
//! On the wire an event is an EventBridge entry with `Source`
//! [`EVENT_SOURCE`], `DetailType` the event type (`bars.updated`) and
//! `Detail` our envelope; SQS then holds EventBridge's event JSON, whose
//! `detail` is the envelope again ([`decode_sqs_body`]). In the cloud the
//! consumers are Lambdas fed by SQS event source mappings (partial-batch
//! responses); `receive`/`ack`/`retry` serve local pollers and the tests.
//!
//! [`provision`] creates the bus, queues, DLQs, rules and targets (the
//! emulator's, and `goldensignals dev bootstrap`'s); `template.yaml`
//! declares the same for a deployment.
//!
//! This crate must never depend on MCP or HTTP, nor on a store engine.

// This crate handles request data: nothing in it may panic or overflow.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use gs_domain::StoreError;
use gs_domain::bus::{
    Delivery, Event, EventBus, EventType, MAX_RECEIVE_BATCH, Route, capped_visibility,
    check_consumer, check_publish,
};

/// `Source` of every entry we put, and what the rules match.
pub const EVENT_SOURCE: &str = "goldensignals";
/// EventBridge's limits per `PutEvents` call.
const PUT_EVENTS_MAX_ENTRIES: usize = 10;
const PUT_EVENTS_MAX_BYTES: usize = 256 * 1024;

/// A consumer's queue and dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub queue: String,
    pub dlq: String,
}

/// The EventBridge + SQS bus. Cloning shares the clients.
#[derive(Clone)]
pub struct AwsBus {
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    bus_name: String,
    queues: Arc<BTreeMap<String, QueueUrls>>,
    max_receives: u32,
}

impl std::fmt::Debug for AwsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsBus")
            .field("bus_name", &self.bus_name)
            .field("queues", &self.queues)
            .finish_non_exhaustive()
    }
}

/// The failure of an SDK call as a port error: timeouts, dispatch failures,
/// throttling and 5xx may pass with a retry; the rest do not.
fn sdk<E, R>(doing: &str, err: aws_sdk_sqs::error::SdkError<E, R>) -> StoreError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            StoreError::Unavailable(format!("{doing}: {detail}"))
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default().to_string();
            let message = service.err().message().unwrap_or_default().to_string();
            if code.contains("Throttl") || code == "RequestThrottled" {
                StoreError::Throttled(format!("{doing}: {message}"))
            } else if code.contains("InternalError") || code.contains("ServiceUnavailable") {
                StoreError::Unavailable(format!("{doing}: {message}"))
            } else {
                StoreError::engine(format!("{doing}: {code} {message}"), err)
            }
        }
        _ => StoreError::engine(format!("{doing}: {detail}"), err),
    }
}

/// Whole seconds for SQS, rounded up (SQS counts seconds; a 300 ms
/// visibility must not become 0).
fn seconds(d: Duration) -> i32 {
    let d = capped_visibility(d);
    let whole = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
    i32::try_from(whole).unwrap_or(i32::MAX)
}

/// The envelope inside an SQS message body: EventBridge's event JSON (its
/// `detail`), or a bare envelope sent straight to the queue.
pub fn decode_sqs_body(body: &str) -> Result<Event, StoreError> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("an SQS message body is not JSON: {e}")))?;
    let envelope = match value.get("detail") {
        Some(detail) if value.get("detail-type").is_some() => detail.clone(),
        _ => value,
    };
    let bytes = serde_json::to_vec(&envelope)
        .map_err(|e| StoreError::Corrupt(format!("an event envelope does not re-encode: {e}")))?;
    Event::decode(&bytes)
}

/// The EventBridge event pattern of a route.
pub fn event_pattern(route: &Route) -> String {
    let types: Vec<&str> = route.types.iter().map(|t| EventType::as_str(*t)).collect();
    serde_json::json!({"source": [EVENT_SOURCE], "detail-type": types}).to_string()
}

impl AwsBus {
    /// A bus publishing to `bus_name`, receiving from `queues` (consumer →
    /// URLs; a process that only publishes passes none).
    pub fn new(
        config: &aws_config::SdkConfig,
        bus_name: &str,
        queues: BTreeMap<String, QueueUrls>,
        max_receives: u32,
    ) -> Self {
        Self {
            events: aws_sdk_eventbridge::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            bus_name: bus_name.to_string(),
            queues: Arc::new(queues),
            max_receives: max_receives.max(1),
        }
    }

    /// The bus from the environment: `EVENT_BUS_NAME`, and for each route's
    /// consumer `BUS_QUEUE_URL_<CONSUMER>` / `BUS_DLQ_URL_<CONSUMER>`
    /// (upper case, `-` as `_`) where set; `BUS_MAX_RECEIVES` (default 5).
    pub fn from_env(config: &aws_config::SdkConfig, routes: &[Route]) -> Option<Self> {
        let bus_name = std::env::var("EVENT_BUS_NAME")
            .ok()
            .filter(|s| !s.is_empty())?;
        let mut queues = BTreeMap::new();
        for route in routes {
            let suffix = route.consumer.to_ascii_uppercase().replace('-', "_");
            if let (Ok(queue), Ok(dlq)) = (
                std::env::var(format!("BUS_QUEUE_URL_{suffix}")),
                std::env::var(format!("BUS_DLQ_URL_{suffix}")),
            ) {
                queues.insert(route.consumer.clone(), QueueUrls { queue, dlq });
            }
        }
        let max_receives = std::env::var("BUS_MAX_RECEIVES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5);
        Some(Self::new(config, &bus_name, queues, max_receives))
    }

    fn urls(&self, consumer: &str) -> Result<&QueueUrls, StoreError> {
        check_consumer(consumer)?;
        self.queues.get(consumer).ok_or_else(|| {
            StoreError::Invalid(format!(
                "no queue of consumer {consumer:?} is configured on this bus"
            ))
        })
    }

    async fn put_chunk(&self, chunk: Vec<PutEventsRequestEntry>) -> Result<(), StoreError> {
        let out = self
            .events
            .put_events()
            .set_entries(Some(chunk))
            .send()
            .await
            .map_err(|e| sdk("publishing to EventBridge", e))?;
        if out.failed_entry_count() > 0 {
            let first = out
                .entries()
                .iter()
                .find_map(|e| e.error_message())
                .unwrap_or("no reason given");
            return Err(StoreError::Unavailable(format!(
                "EventBridge refused {} of the events ({first}); publish the same events again",
                out.failed_entry_count()
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl EventBus for AwsBus {
    async fn publish(&self, events: &[Event]) -> Result<(), StoreError> {
        check_publish(events)?;
        // Encode (and so check) every event before anything is sent.
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let bytes = event.encode()?;
            let detail = String::from_utf8(bytes)
                .map_err(|e| StoreError::Invalid(format!("event {:?}: {e}", event.id)))?;
            let size = detail
                .len()
                .saturating_add(EVENT_SOURCE.len())
                .saturating_add(event.kind.as_str().len());
            let entry = PutEventsRequestEntry::builder()
                .event_bus_name(&self.bus_name)
                .source(EVENT_SOURCE)
                .detail_type(event.kind.as_str())
                .detail(detail)
                .build();
            entries.push((size, entry));
        }
        let mut chunk = Vec::new();
        let mut bytes = 0usize;
        for (size, entry) in entries {
            if !chunk.is_empty()
                && (chunk.len() >= PUT_EVENTS_MAX_ENTRIES
                    || bytes.saturating_add(size) > PUT_EVENTS_MAX_BYTES)
            {
                self.put_chunk(std::mem::take(&mut chunk)).await?;
                bytes = 0;
            }
            bytes = bytes.saturating_add(size);
            chunk.push(entry);
        }
        if !chunk.is_empty() {
            self.put_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn receive(
        &self,
        consumer: &str,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        let urls = self.urls(consumer)?;
        let max = max.min(MAX_RECEIVE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let out = self
            .sqs
            .receive_message()
            .queue_url(&urls.queue)
            .max_number_of_messages(i32::try_from(max).unwrap_or(10))
            .visibility_timeout(seconds(visibility))
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sdk("receiving from SQS", e))?;
        let mut deliveries = Vec::new();
        for message in out.messages() {
            let receipt = message.receipt_handle().unwrap_or_default().to_string();
            let receive_count = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            // A body that is not an event stays hidden and is redriven to
            // the DLQ after its receives; the rest of the batch goes on.
            let Ok(event) = decode_sqs_body(message.body().unwrap_or_default()) else {
                continue;
            };
            deliveries.push(Delivery {
                event,
                receipt,
                receive_count,
            });
        }
        Ok(deliveries)
    }

    async fn ack(&self, consumer: &str, receipt: &str) -> Result<(), StoreError> {
        let urls = self.urls(consumer)?;
        match self
            .sqs
            .delete_message()
            .queue_url(&urls.queue)
            .receipt_handle(receipt)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if stale_receipt(&e) => Ok(()),
            Err(e) => Err(sdk("acknowledging an SQS message", e)),
        }
    }

    async fn retry(
        &self,
        consumer: &str,
        receipt: &str,
        delay: Duration,
    ) -> Result<(), StoreError> {
        let urls = self.urls(consumer)?;
        match self
            .sqs
            .change_message_visibility()
            .queue_url(&urls.queue)
            .receipt_handle(receipt)
            .visibility_timeout(seconds(delay))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if stale_receipt(&e) => Ok(()),
            Err(e) => Err(sdk("releasing an SQS message", e)),
        }
    }

    async fn dead_letters(&self, consumer: &str, max: usize) -> Result<Vec<Event>, StoreError> {
        let urls = self.urls(consumer)?;
        let max = max.clamp(1, MAX_RECEIVE_BATCH);
        let out = self
            .sqs
            .receive_message()
            .queue_url(&urls.dlq)
            .max_number_of_messages(i32::try_from(max).unwrap_or(10))
            .visibility_timeout(0)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| sdk("reading a dead-letter queue", e))?;
        out.messages()
            .iter()
            .map(|m| decode_sqs_body(m.body().unwrap_or_default()))
            .collect()
    }

    fn max_receives(&self) -> u32 {
        self.max_receives
    }
}

/// SQS's answers to a receipt that is no longer current.
fn stale_receipt<E, R>(err: &aws_sdk_sqs::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| {
            matches!(
                code,
                "ReceiptHandleIsInvalid"
                    | "InvalidReceiptHandle"
                    | "MessageNotInflight"
                    | "AWS.SimpleQueueService.MessageNotInflight"
            )
        })
}

/// Creates (or keeps) `bus_name` and, for each route, the queues `{prefix}-{consumer}`
/// and `{prefix}-{consumer}-dlq` (redrive after `max_receives`), the rule
/// `{prefix}-{consumer}` on the bus with [`event_pattern`] and the queue as
/// its target. Returns the queue URLs for [`AwsBus::new`]. For emulators and
/// development accounts; a deployment's come from `template.yaml`.
pub async fn provision(
    config: &aws_config::SdkConfig,
    bus_name: &str,
    prefix: &str,
    routes: &[Route],
    max_receives: u32,
) -> Result<BTreeMap<String, QueueUrls>, StoreError> {
    let events = aws_sdk_eventbridge::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    // Idempotent: an existing bus, queue, rule or target is kept.
    match events.create_event_bus().name(bus_name).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .and_then(aws_sdk_eventbridge::error::ProvideErrorMetadata::code)
                == Some("ResourceAlreadyExistsException") => {}
        Err(e) => return Err(sdk("creating the event bus", e)),
    }
    let mut queues = BTreeMap::new();
    for route in routes {
        let name = format!("{prefix}-{}", route.consumer);
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
            .send()
            .await
            .map_err(|e| sdk("creating a dead-letter queue", e))?
            .queue_url()
            .unwrap_or_default()
            .to_string();
        let dlq_arn = queue_arn(&sqs, &dlq).await?;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": max_receives.max(1).to_string(),
        })
        .to_string();
        let queue = sqs
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .send()
            .await
            .map_err(|e| sdk("creating a consumer queue", e))?
            .queue_url()
            .unwrap_or_default()
            .to_string();
        let arn = queue_arn(&sqs, &queue).await?;
        events
            .put_rule()
            .name(&name)
            .event_bus_name(bus_name)
            .event_pattern(event_pattern(route))
            .send()
            .await
            .map_err(|e| sdk("creating a bus rule", e))?;
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id(format!("{}-queue", route.consumer))
            .arn(arn)
            .build()
            .map_err(|e| StoreError::Invalid(format!("a rule target: {e}")))?;
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(bus_name)
            .targets(target)
            .send()
            .await
            .map_err(|e| sdk("targeting a queue", e))?;
        queues.insert(route.consumer.clone(), QueueUrls { queue, dlq });
    }
    Ok(queues)
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, StoreError> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk("reading a queue's ARN", e))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("queue {url} has no ARN")))
}
