//! What a tool body gets besides its arguments: who is calling, the stores,
//! the request's deadline, a bounded pool for CPU-heavy work, and an optional
//! progress sink.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gs_auth::{Permissions, Policy};
use gs_crypto::FieldCipher;
use gs_domain::{BarStore, EventBus, RecordStore};
use tokio::sync::Semaphore;

use crate::error::ToolError;

/// The storage ports a tool may use.
#[derive(Clone)]
pub struct Stores {
    pub bars: Arc<dyn BarStore>,
    pub records: Arc<dyn RecordStore>,
    /// Field encryption (audit parameters), where a key is configured.
    pub cipher: Option<Arc<dyn FieldCipher>>,
    /// The data bus tools publish on (`bus::publish`); `None` where nothing
    /// consumes events.
    pub bus: Option<Arc<dyn EventBus>>,
}

/// Receives `(done, total)` as a long tool run advances. Called from the
/// compute pool's threads, so it must be cheap and never block.
pub type ProgressSink = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Runs CPU-heavy closures off the async worker threads, at most `permits`
/// at a time, so one caller's backtest cannot stall everyone's quotes.
#[derive(Debug)]
pub struct ComputePool {
    permits: Arc<Semaphore>,
}

impl ComputePool {
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// One permit per available core: the pool never oversubscribes the CPU.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }
}

/// The context of one tool call.
#[derive(Clone)]
pub struct ToolContext {
    pub subject: String,
    pub permissions: Arc<Permissions>,
    /// The caller's groups (mapped to roles by `policy`).
    pub groups: Vec<String>,
    /// The role policy: limits and field rules.
    pub policy: Arc<Policy>,
    pub request_id: String,
    pub stores: Stores,
    pub deadline: Instant,
    pub pool: Arc<ComputePool>,
    pub progress: Option<ProgressSink>,
    /// Live trading, when the operator turned it on (`None`: paper only).
    pub live: Option<Arc<crate::portfolio::live::LiveTrading>>,
}

impl ToolContext {
    pub fn bars(&self) -> &dyn BarStore {
        self.stores.bars.as_ref()
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Runs `work` on the compute pool within the request's deadline. Waiting
    /// for a permit counts against the deadline. A panic inside `work`
    /// becomes an internal error; on timeout the caller gets an error at
    /// once while the work finishes in the background, still holding its
    /// permit so the pool's bound holds.
    pub async fn compute<T, F>(&self, work: F) -> Result<T, ToolError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ToolError> + Send + 'static,
    {
        let permits = self.pool.permits.clone();
        let permit = tokio::time::timeout(self.remaining(), permits.acquire_owned())
            .await
            .map_err(|_| {
                ToolError::Busy(
                    "every compute slot stayed busy until the request's deadline; retry shortly or ask for less (fewer bars, indicators or splits)".into(),
                )
            })?
            .map_err(|_| ToolError::Internal("compute pool closed".into()))?;
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        match tokio::time::timeout(self.remaining(), task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) if join.is_panic() => Err(ToolError::Internal(format!(
                "tool computation panicked: {}",
                panic_text(join.into_panic())
            ))),
            Ok(Err(join)) => Err(ToolError::Internal(format!(
                "tool computation was cancelled: {join}"
            ))),
            Err(_) => Err(ToolError::Timeout(
                "the computation did not finish before the request's deadline; ask for less (fewer bars, indicators or splits)".into(),
            )),
        }
    }

    pub fn report_progress(&self, done: u64, total: u64) {
        if let Some(sink) = &self.progress {
            sink(done, total);
        }
    }
}

/// The message of a caught panic payload.
pub fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-text panic payload".to_string()
    }
}
