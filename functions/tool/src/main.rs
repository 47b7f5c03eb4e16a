//! The tool function binary: deployed once per tool (`GS_TOOL`), once per
//! bus consumer (`GS_ROLE=consumer`, `GS_CONSUMER`) and once as the
//! scheduler (`GS_ROLE=scheduler`). All of it lives in `gs-lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    gs_lambda::run_tool_binary().await
}
