//! `notifications/progress` for long tool runs, sent only when the client
//! asked for progress with a token. Reports are thinned to 5% steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gs_tools::ProgressSink;
use rmcp::RoleServer;
use rmcp::model::ProgressNotificationParam;
use rmcp::service::RequestContext;

/// A sink for the tool and the task forwarding its reports to the client;
/// `(None, None)` when the request carries no progress token.
pub(crate) fn reporter(
    ctx: &RequestContext<RoleServer>,
) -> (Option<ProgressSink>, Option<tokio::task::JoinHandle<()>>) {
    let Some(token) = ctx.meta.get_progress_token() else {
        return (None, None);
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
    let peer = ctx.peer.clone();
    let forwarder = tokio::spawn(async move {
        while let Some((done, total)) = rx.recv().await {
            #[allow(clippy::cast_precision_loss)] // step counts are far below 2^52
            let param = ProgressNotificationParam::new(token.clone(), done as f64)
                .with_total(total as f64)
                .with_message(format!("{done} of {total} steps"));
            if peer.notify_progress(param).await.is_err() {
                break;
            }
        }
    });
    let last_step = AtomicU64::new(u64::MAX);
    let sink: ProgressSink = Arc::new(move |done: u64, total: u64| {
        let step = done.saturating_mul(20).checked_div(total).unwrap_or(20);
        if last_step.swap(step, Ordering::Relaxed) != step || done == total {
            let _ = tx.send((done, total));
        }
    });
    (Some(sink), Some(forwarder))
}
