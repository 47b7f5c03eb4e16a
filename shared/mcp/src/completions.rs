//! `completion/complete` for the `symbol` and `timeframe` arguments of the
//! prompt and the resource templates. Symbols come from `list_symbols`
//! through the invoker, so a caller without that scope completes none.

use gs_domain::Timeframe;
use rmcp::ErrorData as McpError;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

use crate::Principal;
use crate::resources;
use crate::server::GoldenSignals;

const MAX_COMPLETIONS: usize = 100;

pub(crate) async fn complete(
    server: &GoldenSignals,
    who: &Principal,
    request: CompleteRequestParams,
) -> Result<CompleteResult, McpError> {
    let prefix = request.argument.value.trim().to_ascii_uppercase();
    let applies = match &request.r#ref {
        Reference::Prompt(p) => crate::prompts::PROMPTS.contains(&p.name.as_str()),
        Reference::Resource(r) => r.uri.starts_with("market://"),
        _ => false,
    };
    let values: Vec<String> = match request.argument.name.as_str() {
        "symbol" if applies => resources::symbols(server, who, &prefix)
            .await?
            .into_iter()
            .filter(|s| s.starts_with(&prefix))
            .collect(),
        "timeframe" if applies => Timeframe::ALL
            .iter()
            .map(|t| t.as_str().to_string())
            .filter(|t| t.to_ascii_uppercase().starts_with(&prefix))
            .collect(),
        _ => Vec::new(),
    };
    let total = values.len();
    let shown: Vec<String> = values.into_iter().take(MAX_COMPLETIONS).collect();
    let info = CompletionInfo::with_pagination(
        shown,
        Some(u32::try_from(total).unwrap_or(u32::MAX)),
        total > MAX_COMPLETIONS,
    )
    .map_err(|e| McpError::internal_error(e, None))?;
    Ok(CompleteResult::new(info))
}
