//! The bus consumers and the scheduler as Lambda handlers.
//!
//! A consumer function is fed by its SQS queue (an event source mapping
//! with `ReportBatchItemFailures`): each record's body is EventBridge's
//! event around our envelope; the driver dedupes by event id, runs the
//! consumer, and the answer lists the records that failed, which SQS makes
//! visible again (after the backoff this handler sets with
//! `ChangeMessageVisibility`) until the redrive policy moves them to the
//! dead-letter queue. The scheduler function is invoked by an EventBridge
//! schedule each minute and runs the due scans and escalation steps.

use std::sync::Arc;
use std::time::Duration;

use gs_domain::bus::{Delivery, EventBus};
use gs_tools::Stores;
use gs_tools::bus::{Consumer, HandlerError, Outcome};
use serde_json::{Value, json};

use crate::config::{self, ConfigError, Settings};

/// The first retry delay of a failed record (doubled per receive).
const RETRY_BASE: Duration = Duration::from_secs(10);

/// One consumer's SQS batch handler.
pub struct ConsumerFunction {
    stores: Stores,
    consumer: Arc<dyn Consumer>,
    max_receives: u32,
}

impl std::fmt::Debug for ConsumerFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerFunction")
            .field("consumer", &self.consumer.name())
            .finish_non_exhaustive()
    }
}

impl ConsumerFunction {
    pub fn new(stores: Stores, consumer: Arc<dyn Consumer>, max_receives: u32) -> Self {
        Self {
            stores,
            consumer,
            max_receives: max_receives.max(1),
        }
    }

    pub fn consumer(&self) -> &'static str {
        self.consumer.name()
    }

    /// Handles an SQS event and answers the partial-batch response:
    /// `{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}`.
    pub async fn handle(&self, event: &Value) -> Value {
        let records = event
            .get("Records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut failures = Vec::new();
        for record in &records {
            let text = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or_default();
            let message_id = text("messageId").to_string();
            let receipt = text("receiptHandle").to_string();
            let receive_count = record
                .pointer("/attributes/ApproximateReceiveCount")
                .and_then(Value::as_str)
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let event = match gs_aws_bus::decode_sqs_body(text("body")) {
                Ok(event) => event,
                Err(e) => {
                    tracing::warn!(consumer = self.consumer(), %message_id, error = %e, "an SQS record is not an event; it goes to the dead-letter queue");
                    failures.push(message_id);
                    continue;
                }
            };
            let delivery = Delivery {
                event,
                receipt: receipt.clone(),
                receive_count,
            };
            let outcome = gs_tools::bus::handle_delivery(
                self.consumer.as_ref(),
                &self.stores,
                &delivery,
                self.max_receives,
            )
            .await;
            let delay = match outcome {
                Outcome::Handled | Outcome::Duplicate => continue,
                Outcome::Failed(HandlerError::Later(wait, _)) => Some(wait),
                Outcome::Failed(HandlerError::Retry(why)) => {
                    tracing::warn!(consumer = self.consumer(), event = %delivery.event.id, attempt = receive_count, %why, "event handling failed; SQS retries it");
                    Some(gs_tools::bus::backoff(RETRY_BASE, receive_count))
                }
                Outcome::Failed(HandlerError::Poison(why)) => {
                    tracing::warn!(consumer = self.consumer(), event = %delivery.event.id, %why, "event cannot be handled");
                    None
                }
            };
            if let (Some(delay), Some(bus)) = (delay, &self.stores.bus) {
                // Best effort: without it the queue's visibility timeout applies.
                if let Err(e) = bus.retry(self.consumer(), &receipt, delay).await {
                    tracing::debug!(error = %e, "could not set the retry delay");
                }
            }
            failures.push(message_id);
        }
        json!({
            "batchItemFailures": failures
                .into_iter()
                .map(|id| json!({"itemIdentifier": id}))
                .collect::<Vec<_>>()
        })
    }
}

/// The scheduler's handler: one tick per invocation.
#[derive(Clone)]
pub struct SchedulerFunction {
    stores: Stores,
}

impl std::fmt::Debug for SchedulerFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerFunction").finish_non_exhaustive()
    }
}

impl SchedulerFunction {
    pub fn new(stores: Stores) -> Self {
        Self { stores }
    }

    /// Runs the scans and escalation steps due now; the answer says what ran.
    pub async fn handle(&self, _event: &Value) -> Result<Value, String> {
        let report = gs_tools::scheduler::tick(&self.stores, chrono::Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            scans = report.scans.len(),
            failed = report.failed_scans.len(),
            escalations = report.escalations,
            "scheduler tick"
        );
        serde_json::to_value(&report).map_err(|e| e.to_string())
    }
}

/// What this function is: `GS_ROLE` `tool` (the default), `consumer`
/// (with `GS_CONSUMER`) or `scheduler`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Tool,
    Consumer,
    Scheduler,
}

pub fn role(settings: &Settings) -> Result<Role, ConfigError> {
    match settings.get("GS_ROLE").unwrap_or("tool") {
        "tool" => Ok(Role::Tool),
        "consumer" => Ok(Role::Consumer),
        "scheduler" => Ok(Role::Scheduler),
        other => Err(ConfigError::Invalid {
            name: "GS_ROLE",
            why: format!("{other:?} is not tool, consumer or scheduler"),
        }),
    }
}

/// The stores of a consumer or the scheduler: the table, the field cipher
/// and the bus (`EVENT_BUS_NAME`, the consumer's queue URLs).
async fn bus_stores(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<Stores, ConfigError> {
    let store = Arc::new(config::store(settings, sdk)?);
    let bars = config::bar_store(settings, sdk, store.clone()).await?;
    Ok(Stores {
        bars,
        records: store,
        cipher: config::field_cipher(settings, sdk)?,
        bus: gs_aws_bus::AwsBus::from_env(sdk, &gs_tools::bus::routes())
            .map(|b| Arc::new(b) as Arc<dyn EventBus>),
    })
}

/// The consumer `GS_CONSUMER` names.
pub async fn consumer_function(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<ConsumerFunction, ConfigError> {
    let name = settings.get("GS_CONSUMER").unwrap_or_default();
    let consumer = gs_tools::bus::consumers()
        .into_iter()
        .find(|c| c.name() == name)
        .ok_or_else(|| ConfigError::Invalid {
            name: "GS_CONSUMER",
            why: format!(
                "no consumer is named {name:?}; the consumers are {}",
                gs_tools::bus::routes()
                    .iter()
                    .map(|r| r.consumer.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let max_receives = settings
        .get("BUS_MAX_RECEIVES")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    Ok(ConsumerFunction::new(
        bus_stores(settings, sdk).await?,
        consumer,
        max_receives,
    ))
}

pub async fn scheduler_function(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<SchedulerFunction, ConfigError> {
    Ok(SchedulerFunction::new(bus_stores(settings, sdk).await?))
}

/// The `tool` binary's whole run: reads the environment and serves the role
/// it names (a tool, a bus consumer or the scheduler) until Lambda stops it.
pub async fn run_tool_binary() -> Result<(), lambda_runtime::Error> {
    use lambda_runtime::{LambdaEvent, service_fn};
    use serde_json::value::RawValue;
    let started = std::time::Instant::now();
    crate::init_tracing();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let settings = Settings::from_env();
    match role(&settings)? {
        Role::Tool => {
            let function = Arc::new(crate::tool_function(&settings, &sdk).await?);
            crate::log_ready("tool", started);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
                let function = function.clone();
                async move { function.handle(&event.payload).await }
            }))
            .await
        }
        Role::Consumer => {
            let function = Arc::new(consumer_function(&settings, &sdk).await?);
            crate::log_ready(function.consumer(), started);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let function = function.clone();
                async move { Ok::<Value, lambda_runtime::Error>(function.handle(&event.payload).await) }
            }))
            .await
        }
        Role::Scheduler => {
            let function = Arc::new(scheduler_function(&settings, &sdk).await?);
            crate::log_ready("scheduler", started);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let function = function.clone();
                async move {
                    function
                        .handle(&event.payload)
                        .await
                        .map_err(lambda_runtime::Error::from)
                }
            }))
            .await
        }
    }
}
