//! The gateway function's app: the same MCP router the local server runs,
//! with the Lambda invoker and the DynamoDB store.

use std::sync::Arc;

use gs_auth::Verifier;
use gs_mcp::{GoldenSignals, HttpConfig};
use gs_tools::Invoker;

use crate::LambdaInvoker;
use crate::config::{
    ConfigError, Settings, allowed_hosts, function_names, mac_key, policy, store, verifier_config,
};

/// The gateway's router, dispatching every tool call to the tool functions.
pub fn gateway_app(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<axum::Router, ConfigError> {
    let invoker = LambdaInvoker::new(
        aws_sdk_lambda::Client::new(sdk),
        function_names(settings)?,
        mac_key(settings, sdk)?,
    );
    gateway_app_with(settings, sdk, Arc::new(invoker))
}

/// The gateway's router around any invoker (tests run the tool handler
/// in-process behind the same signing).
pub fn gateway_app_with(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
    invoker: Arc<dyn Invoker>,
) -> Result<axum::Router, ConfigError> {
    let records = Arc::new(store(settings, sdk)?);
    let verifier = verifier_config(settings)?;
    let hosts = allowed_hosts(settings);
    let public_url = settings
        .get("PUBLIC_URL")
        .map(str::to_string)
        .or_else(|| hosts.first().map(|h| format!("https://{h}")))
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let http = HttpConfig {
        public_url,
        authorization_servers: vec![verifier.issuer.clone()],
        allowed_hosts: hosts,
        jwks: None,
        max_in_flight: HttpConfig::DEFAULT_MAX_IN_FLIGHT,
    };
    Ok(gs_mcp::router(
        GoldenSignals::new(invoker, records),
        Arc::new(Verifier::new(verifier)),
        Arc::new(policy(settings)?),
        http,
    ))
}
