//! A tool Lambda: one binary, deployed once per tool (`GS_TOOL`). All of it
//! lives in `gs-lambda`; this only reads the configuration and serves.

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = std::time::Instant::now();
    gs_lambda::init_tracing();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let function =
        Arc::new(gs_lambda::tool_function(&gs_lambda::Settings::from_env(), &sdk).await?);
    gs_lambda::log_ready("tool", started);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let function = function.clone();
        async move { function.handle(&event.payload).await }
    }))
    .await
}
