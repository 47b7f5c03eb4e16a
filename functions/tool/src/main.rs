//! The tool function binary: deployed once per tool (`GS_TOOL`), once per
//! bus consumer (`GS_ROLE=consumer`, `GS_CONSUMER`) and once as the
//! scheduler (`GS_ROLE=scheduler`). All of it lives in `gs-lambda`; this
//! only reads the configuration and serves.

use std::sync::Arc;

use gs_lambda::Role;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let started = std::time::Instant::now();
    gs_lambda::init_tracing();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let settings = gs_lambda::Settings::from_env();
    match gs_lambda::role(&settings)? {
        Role::Tool => {
            let function = Arc::new(gs_lambda::tool_function(&settings, &sdk).await?);
            gs_lambda::log_ready("tool", started);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
                let function = function.clone();
                async move { function.handle(&event.payload).await }
            }))
            .await
        }
        Role::Consumer => {
            let function = Arc::new(gs_lambda::consumer_function(&settings, &sdk).await?);
            gs_lambda::log_ready(function.consumer(), started);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let function = function.clone();
                async move { Ok::<Value, lambda_runtime::Error>(function.handle(&event.payload).await) }
            }))
            .await
        }
        Role::Scheduler => {
            let function = Arc::new(gs_lambda::scheduler_function(&settings, &sdk).await?);
            gs_lambda::log_ready("scheduler", started);
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
