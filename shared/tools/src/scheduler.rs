//! The scheduler's tick: every scan that is due, and every escalation step
//! that is due. In the cloud an EventBridge schedule invokes it once a
//! minute (the `scheduler` role of the tool function); locally `serve` runs
//! [`run`] in-process.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::context::Stores;
use crate::error::ToolError;

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TickReport {
    /// Scans run (`subject/watchlist`), with their failures.
    pub scans: Vec<String>,
    pub failed_scans: Vec<String>,
    /// Escalation steps published.
    pub escalations: usize,
}

/// One tick at `now`: escalation steps first (they are cheap and must not
/// wait behind a backlog of scans), then the due scans.
pub async fn tick(stores: &Stores, now: DateTime<Utc>) -> Result<TickReport, ToolError> {
    // A failed escalation pass must not keep the scans from running.
    let escalations = match crate::alerts::escalate_due(stores, now).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "the escalation pass failed; the scans still run");
            0
        }
    };
    let mut report = TickReport {
        escalations,
        ..TickReport::default()
    };
    for run in crate::watchlists::run_due_scans(stores, now).await? {
        let name = format!("{}/{}", run.subject, run.watchlist);
        match run.result {
            Ok(_) => report.scans.push(name),
            Err(e) => {
                tracing::warn!(scan = %name, error = %e, "a scheduled scan failed");
                report.failed_scans.push(name);
            }
        }
    }
    Ok(report)
}

/// Ticks every `every` until `stop` turns true; failures are logged.
pub async fn run(stores: Stores, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match tick(&stores, Utc::now()).await {
            Ok(r) if !r.scans.is_empty() || r.escalations > 0 => {
                tracing::info!(
                    scans = r.scans.len(),
                    failed = r.failed_scans.len(),
                    escalations = r.escalations,
                    "scheduler tick"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the scheduler tick failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
