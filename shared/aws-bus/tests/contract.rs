//! The `EventBus` contract on EventBridge + SQS, through the real SDK
//! against the AWS emulator (moto): moto delivers `PutEvents` to the SQS
//! targets of matching rules and applies the redrive policy. Each test gets
//! its own bus, queues and rules.

use gs_aws_bus::{AwsBus, provision};
use gs_domain::Route;

async fn fresh(routes: Vec<Route>, max_receives: u32) -> (AwsBus, ()) {
    let config = gs_aws_emulator::sdk_config();
    let name = gs_aws_emulator::unique_name("bus");
    let queues = provision(&config, &name, &name, &routes, max_receives)
        .await
        .unwrap();
    (AwsBus::new(&config, &name, queues, max_receives), ())
}

gs_store_contract::bus_contract!(fresh);

#[test]
fn sqs_bodies_from_eventbridge_and_bare_envelopes_decode() {
    let envelope = serde_json::json!({
        "specversion": "1.0", "id": "e1", "source": "goldensignals/import",
        "type": "bars.updated", "time": "2026-01-02T03:04:05.678Z",
        "subject": "AAPL", "data": {"timeframe": "1d"}
    });
    let wrapped = serde_json::json!({
        "version": "0", "id": "eb-id", "detail-type": "bars.updated",
        "source": "goldensignals", "account": "123456789012",
        "time": "2026-01-02T03:04:05Z", "region": "us-east-1", "resources": [],
        "detail": envelope,
    });
    for body in [wrapped.to_string(), envelope.to_string()] {
        let event = gs_aws_bus::decode_sqs_body(&body).unwrap();
        assert_eq!(event.id, "e1");
        assert_eq!(event.subject.as_deref(), Some("AAPL"));
    }
    let future = envelope.to_string().replace("\"1.0\"", "\"2.0\"");
    assert!(gs_aws_bus::decode_sqs_body(&future).is_err());
    assert!(gs_aws_bus::decode_sqs_body("not json").is_err());
}
