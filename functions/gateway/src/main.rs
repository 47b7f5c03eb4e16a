//! The gateway Lambda: the MCP endpoint behind API Gateway. All of it lives
//! in `gs-lambda`; this only reads the configuration and serves.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let started = std::time::Instant::now();
    gs_lambda::init_tracing();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = gs_lambda::gateway_app(&gs_lambda::Settings::from_env(), &sdk)?;
    gs_lambda::log_ready("gateway", started);
    lambda_http::run(app).await
}
