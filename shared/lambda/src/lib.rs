//! GoldenSignals on AWS Lambda, as a library so the functions' `main`s stay
//! a few lines and everything here is tested without Lambda:
//! - [`gateway_app`]: the MCP endpoint behind API Gateway (the local
//!   server's router, with the [`LambdaInvoker`] and the DynamoDB store);
//! - [`ToolFunction`]: the handler of one tool's function;
//! - [`signed`]: the call contexts the gateway signs and tools verify
//!   (KMS HMAC), so a tool function trusts only its gateway.
//!
//! Configuration comes from the environment ([`Settings`]); `template.yaml`
//! sets it in the cloud, `cargo lambda watch --env-file` locally.

mod config;
mod consumer;
pub mod events;
mod gateway;
mod invoker;
pub mod signed;
mod tool_function;

pub use config::{ConfigError, Settings, function_names, mac_key, store, verifier_config};
pub use consumer::{
    ConsumerFunction, Role, SchedulerFunction, consumer_function, role, run_tool_binary,
    scheduler_function,
};
pub use gateway::{gateway_app, gateway_app_with};
pub use invoker::{FunctionNames, LambdaInvoker};
pub use tool_function::{CallRefused, ToolFunction};

use std::sync::Arc;

use gs_tools::{ComputePool, LocalInvoker, Stores};

/// The tool function of this process: `GS_TOOL` names the one tool it
/// serves (every tool when unset, as under `cargo lambda watch`).
pub async fn tool_function(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<ToolFunction, ConfigError> {
    let store = Arc::new(store(settings, sdk)?);
    let bars = config::bar_store(settings, sdk, store.clone()).await?;
    let only = settings.get("GS_TOOL").map(str::to_string);
    if let Some(tool) = &only
        && gs_tools::find(tool).is_none()
    {
        return Err(ConfigError::Invalid {
            name: "GS_TOOL",
            why: format!("no tool is named {tool:?}"),
        });
    }
    let verifier = signed::Verifier::new(mac_key(settings, sdk)?, store.clone(), only);
    let invoker = LocalInvoker::new(
        Stores {
            bars,
            records: store,
            cipher: config::field_cipher(settings, sdk)?,
            // Publishing only (EVENT_BUS_NAME); consumers are their own functions.
            bus: gs_aws_bus::AwsBus::from_env(sdk, &gs_tools::bus::routes())
                .map(|b| Arc::new(b) as Arc<dyn gs_domain::EventBus>),
        },
        Arc::new(ComputePool::per_core()),
    )
    .with_policy(Arc::new(config::policy(settings)?))
    .with_live(config::live_trading(settings)?);
    Ok(ToolFunction::new(verifier, Arc::new(invoker)))
}

/// Logs for CloudWatch: JSON lines (each with the fields of its request
/// span: request id, user, server, tool), level from `RUST_LOG`.
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,rmcp=warn".into());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .without_time(),
        )
        .try_init();
}

/// Logs how long the function took from `main` to serving (its share of a
/// cold start), as `ready function=… elapsed_us=…`.
pub fn log_ready(function: &str, started: std::time::Instant) {
    let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(function, elapsed_us, "ready");
}
