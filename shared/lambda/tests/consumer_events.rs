//! The SQS batch events in `events/consumer/` (what each consumer's queue
//! hands its function) and the scheduled event, through the handlers the
//! functions run, on the embedded store: the partial-batch answer names
//! exactly the records that failed, a repeated batch is a no-op, and the
//! scheduler's tick runs.

mod support;

use std::sync::Arc;

use gs_domain::RecordStore;
use gs_lambda::{ConsumerFunction, SchedulerFunction};
use gs_tools::Stores;
use serde_json::{Value, json};

fn event(path: &str) -> Value {
    let text = std::fs::read_to_string(support::workspace_root().join("events").join(path))
        .unwrap_or_else(|e| panic!("events/{path}: {e} (cargo run -- dev events writes it)"));
    serde_json::from_str(&text).unwrap()
}

fn stores(dir: &std::path::Path) -> Stores {
    let store = Arc::new(gs_embedded_store::EmbeddedStore::open(dir).unwrap());
    Stores {
        bars: store.clone(),
        records: store as Arc<dyn RecordStore>,
        cipher: None,
        bus: None,
    }
}

fn failures(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_consumer_handles_its_sqs_batch_event() {
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(dir.path());
    let mut seen = Vec::new();
    for consumer in gs_tools::bus::consumers() {
        let name = consumer.name();
        seen.push(name.to_string());
        let batch = event(&format!("consumer/{name}.json"));
        let records = batch["Records"].as_array().unwrap().len();
        assert!(records >= 1, "{name}: an empty batch");
        let function = ConsumerFunction::new(stores.clone(), consumer, 5);
        let answer = function.handle(&batch).await;
        let expected: Vec<String> = if name == "notifier" {
            // Its alert does not exist: that record fails (and would go to
            // the DLQ); a batch of one means the one id.
            vec!["notifier-message-0".to_string()]
        } else {
            Vec::new()
        };
        assert_eq!(failures(&answer), expected, "{name}: {answer}");
        // The same batch again: handled records are duplicates now.
        let again = function.handle(&batch).await;
        assert_eq!(failures(&again), expected, "{name} again: {again}");
    }
    let routed: Vec<String> = gs_tools::bus::routes()
        .into_iter()
        .map(|r| r.consumer)
        .collect();
    assert_eq!(seen, routed, "a consumer per route");

    // The event log recorded its batch, once.
    let ctx = gs_tools::portfolio::local_context(&stores, "analyst-7f3a", "t");
    let (out, _) =
        gs_tools::bus::log::get_events(&ctx, serde_json::from_value(json!({"limit": 50})).unwrap())
            .await
            .unwrap();
    let ids: Vec<&str> = out.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        ["evt-alert-triggered-missing", "evt-bars-aapl-1d"],
        "newest first"
    );

    // Not an event at all: refused, named.
    let junk = json!({"Records": [{"messageId": "junk-1", "receiptHandle": "r", "body": "not json",
                                   "attributes": {"ApproximateReceiveCount": "2"}}]});
    let function = ConsumerFunction::new(stores.clone(), gs_tools::bus::consumers().remove(0), 5);
    assert_eq!(failures(&function.handle(&junk).await), ["junk-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_event_runs_a_tick() {
    let dir = tempfile::tempdir().unwrap();
    let function = SchedulerFunction::new(stores(dir.path()));
    let report = function
        .handle(&event("scan/scheduled.json"))
        .await
        .unwrap();
    assert_eq!(report["scans"], json!([]));
    assert_eq!(report["escalations"], json!(0));
}
