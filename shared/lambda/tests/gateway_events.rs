//! The gateway Lambda's app driven with the API Gateway events in `events/`
//! (the same files `cargo lambda invoke gateway --data-file` sends), on a
//! DynamoDB table and a KMS HMAC key on the AWS emulator; tool calls are
//! signed and verified exactly as between the functions.

mod support;

use std::sync::Arc;

use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
}

/// The gateway app, with tools and resources served by two functions (as
/// deployed: the resource handlers have functions of their own).
async fn app() -> (
    axum::Router,
    Arc<support::SignedInProcess>,
    Arc<support::SignedInProcess>,
) {
    let aws = support::aws(true).await;
    let settings = aws.settings(&[]);
    let function = || gs_lambda::tool_function(&settings, &aws.sdk);
    let key = gs_lambda::mac_key(&settings, &aws.sdk).unwrap();
    let tools = Arc::new(support::SignedInProcess::new(
        key.clone(),
        function().await.unwrap(),
    ));
    let resources = Arc::new(support::SignedInProcess::new(
        key,
        function().await.unwrap(),
    ));
    let app =
        gs_lambda::gateway_app_with(&settings, &aws.sdk, tools.clone(), Some(resources.clone()))
            .unwrap();
    (app, tools, resources)
}

async fn send(app: &axum::Router, event: &str) -> Answer {
    let path = support::workspace_root().join("events").join(event);
    let text = std::fs::read_to_string(&path).unwrap();
    let request = lambda_http::request::from_str(&text).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_gets_the_right_answer() {
    let (app, tools, resources) = app().await;

    let init = send(&app, "gateway/initialize.json").await;
    assert_eq!(init.status, 200, "{}", init.body);
    assert_eq!(
        init.body["result"]["protocolVersion"],
        gs_lambda::events::PROTOCOL
    );

    let list = send(&app, "gateway/tools-list.json").await;
    let mut names: Vec<String> = list.body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut expected: Vec<String> = gs_tools::registry()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    expected.sort();
    assert_eq!(names, expected, "the admin token lists every tool");

    // On a named stage the path carries the stage; the same routes answer.
    let staged = send(&app, "gateway/named-stage-tools-list.json").await;
    assert_eq!(staged.status, 200, "{}", staged.body);
    assert_eq!(
        staged.body["result"]["tools"].as_array().unwrap().len(),
        expected.len()
    );

    // A tools/call event for every tool in the registry, each answered
    // with structured content by the tool function.
    for spec in gs_tools::registry() {
        let event = format!("gateway/tools-call-{}.json", spec.name);
        let answer = send(&app, &event).await;
        assert_eq!(answer.status, 200, "{event}: {}", answer.body);
        let result = &answer.body["result"];
        assert_ne!(result["isError"], Value::Bool(true), "{event}: {result}");
        assert!(
            result["structuredContent"].is_object(),
            "{event}: {}",
            answer.body
        );
    }

    let listing = send(&app, "gateway/resources-list.json").await;
    assert!(
        !listing.body["result"]["resources"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    for (name, uri) in gs_lambda::events::SAMPLE_RESOURCES {
        let answer = send(&app, &format!("gateway/resources-read-{name}.json")).await;
        let contents = &answer.body["result"]["contents"][0];
        assert_eq!(contents["uri"], *uri, "{}", answer.body);
        let data: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
        assert!(data.is_object(), "{name}: {data}");
    }

    // Resource reads went to the resource handlers' function, tool calls to
    // the tools' functions.
    let read: Vec<String> = resources.called();
    assert!(
        read.ends_with(&[
            "get_quote".to_string(),
            "get_historical_data".to_string(),
            "get_events".to_string()
        ]),
        "{read:?}"
    );
    let called = tools.called();
    assert_eq!(called.len(), gs_tools::registry().len(), "{called:?}");

    // A viewer may not calculate indicators: refused, nothing run.
    let forbidden = send(&app, "gateway/forbidden-scope.json").await;
    let text = forbidden.body.to_string();
    assert_eq!(forbidden.body["result"]["isError"], true, "{text}");
    assert!(
        text.contains("needs scope technical-analysis:calculate_indicators"),
        "{text}"
    );
    assert!(
        !text.contains("\"rsi\""),
        "no indicator values for a viewer: {text}"
    );

    // A history-only token gets no quote or indicator values in the prompt.
    let prompt = send(&app, "gateway/forbidden-prompt.json").await;
    assert_eq!(prompt.status, 200, "{}", prompt.body);
    let prompt_text = prompt.body.to_string();
    assert!(!prompt_text.contains("\"rsi\""), "{prompt_text}");

    // No token: 401 with the resource-metadata challenge, no body run.
    let anonymous = send(&app, "gateway/no-token.json").await;
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata="), "{challenge}");

    // The well-known metadata is public and names this endpoint.
    let metadata = send(&app, "gateway/well-known.json").await;
    assert_eq!(metadata.status, 200);
    assert_eq!(
        metadata.body["resource"],
        format!("https://{}/mcp", gs_lambda::events::EVENT_HOST)
    );
}
