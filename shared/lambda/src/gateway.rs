//! The gateway function's app: the same MCP router the local server runs,
//! with the Lambda invoker and the DynamoDB store.

use std::sync::Arc;

use gs_auth::Verifier;
use gs_mcp::{ClientIp, GoldenSignals, Guardrails, HttpConfig};
use gs_tools::Invoker;

use crate::LambdaInvoker;
use crate::config::{
    ConfigError, Settings, allowed_hosts, field_cipher, function_names, mac_key, policy,
    resource_function_names, store, verifier_config,
};

/// The gateway's router, dispatching every tool call to the tool functions.
pub fn gateway_app(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<axum::Router, ConfigError> {
    let client = aws_sdk_lambda::Client::new(sdk);
    let key = mac_key(settings, sdk)?;
    let tools = function_names(settings)?;
    let resources = resource_function_names(settings).unwrap_or_else(|| tools.clone());
    let invoker = LambdaInvoker::new(client.clone(), tools, key.clone());
    let resource_invoker = LambdaInvoker::new(client, resources, key);
    gateway_app_with(
        settings,
        sdk,
        Arc::new(invoker),
        Some(Arc::new(resource_invoker)),
    )
}

/// The gateway's router around any invokers (tests run the tool handler
/// in-process behind the same signing); `resource_invoker` serves
/// `resources/read` (default: `invoker`).
pub fn gateway_app_with(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
    invoker: Arc<dyn Invoker>,
    resource_invoker: Option<Arc<dyn Invoker>>,
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
    let policy = Arc::new(policy(settings)?);
    let retention_days = match settings.get("AUDIT_RETENTION_DAYS") {
        None => 90,
        Some(days) => days
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| ConfigError::Invalid {
                name: "AUDIT_RETENTION_DAYS",
                why: format!("{days:?} is not a number of days between 1 and 3650"),
            })?,
    };
    let guardrails = Guardrails::new(
        policy.clone(),
        records.clone(),
        field_cipher(settings, sdk)?,
    )
    .with_emf(true)
    .with_audit_retention(std::time::Duration::from_secs(
        retention_days.saturating_mul(86_400),
    ));
    let mut handler = GoldenSignals::new(invoker, records).with_guardrails(guardrails);
    if let Some(resources) = resource_invoker {
        handler = handler.with_resource_invoker(resources);
    }
    let mcp = gs_mcp::router(handler, Arc::new(Verifier::new(verifier)), policy, http);
    // Outside the MCP router, so the path is fixed before it routes.
    Ok(axum::Router::new()
        .fallback_service(mcp)
        .layer(axum::middleware::map_request(strip_stage)))
}

/// On a named API Gateway stage, lambda_http puts the stage in front of the
/// path (`/prod/mcp`) unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set;
/// the routes are `/mcp` and `/.well-known/*` on any stage, so the prefix
/// goes here whatever the environment says.
async fn strip_stage(mut request: axum::extract::Request) -> axum::extract::Request {
    use lambda_http::request::RequestContext;
    let (stage, source_ip) = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            (context.stage.clone(), context.http.source_ip.clone())
        }
        _ => (None, None),
    };
    if let Some(ip) = source_ip {
        request.extensions_mut().insert(ClientIp(ip));
    }
    let Some(stage) = stage.filter(|s| s != "$default" && !s.is_empty()) else {
        return request;
    };
    let prefix = format!("/{stage}");
    let uri = request.uri();
    let Some(rest) = uri
        .path()
        .strip_prefix(prefix.as_str())
        .filter(|rest| rest.starts_with('/'))
    else {
        return request;
    };
    let path_and_query = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(stripped) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = stripped;
        }
    }
    request
}
