//! `ToolContext::compute`, where CPU-heavy tool bodies run: a panic there
//! becomes `ToolError::Internal` at once (never a hung request), work past
//! the deadline becomes `ToolError::Timeout` at the deadline, and the pool's
//! bound holds while timed-out work finishes in the background.
//!
//! No published tool panics on purpose, so this is tested here rather than
//! over the wire.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gs_embedded_store::EmbeddedStore;
use gs_tools::{ComputePool, Stores, ToolContext, ToolError};

fn context(pool: &Arc<ComputePool>, store: &Arc<EmbeddedStore>, timeout: Duration) -> ToolContext {
    ToolContext {
        subject: "compute-test".into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-compute".into(),
        stores: Stores {
            bars: store.clone(),
            records: store.clone(),
            cipher: None,
            bus: None,
        },
        deadline: Instant::now() + timeout,
        pool: pool.clone(),
        progress: None,
        live: None,
    }
}

fn store() -> (tempfile::TempDir, Arc<EmbeddedStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_compute_is_an_internal_error_at_once_and_frees_its_slot() {
    let (_dir, store) = store();
    // One slot: if the panic leaked it, the second call below could never run.
    let pool = Arc::new(ComputePool::new(1));
    let ctx = context(&pool, &store, Duration::from_secs(10));

    let started = Instant::now();
    let outcome: Result<u32, ToolError> = ctx.compute(|| panic!("kernel exploded on bar 7")).await;
    let elapsed = started.elapsed();
    match outcome {
        Err(ToolError::Internal(detail)) => {
            assert!(detail.contains("kernel exploded on bar 7"), "{detail}");
        }
        other => panic!("expected an internal error, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");

    // What the caller sees names the request, not the panic.
    let public = ToolError::Internal("kernel exploded on bar 7".into()).public_message("req-9");
    assert!(
        public.contains("req-9") && !public.contains("exploded"),
        "{public}"
    );

    let again = tokio::time::timeout(Duration::from_secs(2), ctx.compute(|| Ok(41 + 1)))
        .await
        .expect("the slot was not released after the panic");
    assert_eq!(again.unwrap(), 42);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_past_the_deadline_is_a_timeout_and_keeps_its_slot_until_done() {
    let (_dir, store) = store();
    let pool = Arc::new(ComputePool::new(1));
    let (done_tx, done_rx) = mpsc::channel::<()>();

    let deadline = Duration::from_millis(300);
    let ctx = context(&pool, &store, deadline);
    let started = Instant::now();
    let outcome: Result<(), ToolError> = ctx
        .compute(move || {
            std::thread::sleep(Duration::from_millis(3_000));
            let _ = done_tx.send(());
            Ok(())
        })
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, Err(ToolError::Timeout(_))),
        "expected a timeout, got {outcome:?}"
    );
    assert!(
        elapsed >= deadline && elapsed < deadline + Duration::from_millis(1_000),
        "answered after {elapsed:?} for a {deadline:?} deadline"
    );

    // The timed-out work still runs and still holds the only slot: a new call
    // waits for it within its own deadline and is told the server is busy.
    let short = context(&pool, &store, Duration::from_millis(200));
    let started = Instant::now();
    let busy: Result<(), ToolError> = short.compute(|| Ok(())).await;
    assert!(matches!(busy, Err(ToolError::Busy(_))), "got {busy:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );

    // Once the work is done the slot is free again.
    done_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the background work never finished");
    let later = context(&pool, &store, Duration::from_secs(5));
    let ok = tokio::time::timeout(Duration::from_secs(2), later.compute(|| Ok("free")))
        .await
        .expect("the slot was not released after the work finished");
    assert_eq!(ok.unwrap(), "free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compute_keeps_async_workers_free_for_other_requests() {
    let (_dir, store) = store();
    let pool = Arc::new(ComputePool::new(2));
    let busy = context(&pool, &store, Duration::from_secs(5));
    // Two long computations fill the pool...
    let long = |ctx: ToolContext| async move {
        ctx.compute(|| {
            std::thread::sleep(Duration::from_millis(1_500));
            Ok(())
        })
        .await
    };
    let a = tokio::spawn(long(busy.clone()));
    let b = tokio::spawn(long(busy.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    // ...while async work on the same two worker threads still runs promptly.
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let quick = tokio::spawn(async { 7 }).await.unwrap();
    assert_eq!(quick, 7);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "async workers stalled for {:?}",
        started.elapsed()
    );
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
}
