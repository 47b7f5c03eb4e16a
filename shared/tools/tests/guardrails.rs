//! The audit chain and the rate limiter on the embedded engine.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use gs_auth::CallLimits;
use gs_domain::{Owner, RecordScope, RecordStore, WriteCondition};
use gs_embedded_store::EmbeddedStore;
use gs_tools::guard::audit::{self, AuditEntry, AuditLog, AuditRecord};
use gs_tools::guard::rate_limit::{self, Admission};

fn store() -> (tempfile::TempDir, Arc<EmbeddedStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    (dir, store)
}

fn record(n: usize) -> AuditRecord {
    AuditRecord {
        arrived: Utc::now(),
        request_id: format!("req-{n}"),
        user: "alice".into(),
        roles: vec!["analyst".into()],
        method: "tools/call".into(),
        server: Some("market-data".into()),
        tool: Some("get_quote".into()),
        params: Some(format!(r#"{{"symbol":"AAPL","password":"pw-{n}"}}"#)),
        client_ip: Some("127.0.0.1".into()),
        outcome: "ok".into(),
        error_code: None,
        http_status: 200,
        latency_ms: 1.25,
    }
}

async fn chain(store: &Arc<EmbeddedStore>, n: usize) -> Vec<AuditEntry> {
    let log = AuditLog::new(store.clone(), None);
    let mut out = Vec::new();
    for i in 0..n {
        out.push(log.append(record(i)).await.unwrap());
    }
    out
}

async fn problems(store: &Arc<EmbeddedStore>) -> Vec<(Option<u64>, String)> {
    let now = Utc::now();
    let (checks, truncated) = audit::verify(
        store.as_ref(),
        now - chrono::Duration::hours(2),
        now,
        10_000,
    )
    .await
    .unwrap();
    assert!(!truncated);
    assert!(!checks.is_empty());
    checks
        .into_iter()
        .filter(|c| !c.ok)
        .map(|c| (c.first_bad_seq, c.problem.unwrap()))
        .collect()
}

fn scope() -> RecordScope {
    RecordScope::new(Owner::system(), audit::AUDIT_COLLECTION).unwrap()
}

#[tokio::test]
async fn an_intact_chain_verifies_and_secrets_never_reach_the_store() {
    let (_dir, store) = store();
    let entries = chain(&store, 5).await;
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    // Floats that need not survive a parse and print unchanged still verify:
    // the check is on the stored bytes.
    let log = AuditLog::new(store.clone(), None);
    let mut odd = record(9);
    odd.params = Some(
        r#"{"x":0.30000000000000004,"y":1.7976931348623157e308,"z":5e-324,"w":123456789.12345679,"secret":"s"}"#
            .into(),
    );
    odd.latency_ms = 0.1 + 0.2;
    log.append(odd).await.unwrap();
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert!(problems(&store).await.is_empty());
    let stored = audit::list_all(store.as_ref(), &scope(), "").await.unwrap();
    assert_eq!(stored.len(), 6);
    for r in &stored {
        let text = String::from_utf8_lossy(&r.value);
        assert!(!text.contains("pw-"), "{text}");
        assert!(text.contains("[REDACTED]"));
        // The whole partition expires together, after the retention.
        assert!(r.expires_at.unwrap() > Utc::now() + chrono::Duration::days(89));
    }
}

#[tokio::test]
async fn an_edited_entry_is_found() {
    let (_dir, store) = store();
    let entries = chain(&store, 5).await;
    let mut edited = entries[2].clone();
    edited.outcome = "error".into();
    let key = scope().key(&audit::entry_id(&edited.partition, 2)).unwrap();
    store
        .put(
            &key,
            &serde_json::to_vec(&edited).unwrap(),
            WriteCondition::Always,
            None,
        )
        .await
        .unwrap();
    let found = problems(&store).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(2));
    assert!(found[0].1.contains("edited"), "{found:?}");
}

#[tokio::test]
async fn a_replaced_entry_with_a_fresh_hash_breaks_the_next_link() {
    let (_dir, store) = store();
    let entries = chain(&store, 5).await;
    let mut forged = entries[1].clone();
    forged.user = "mallory".into();
    forged.hash = forged.compute_hash();
    let key = scope().key(&audit::entry_id(&forged.partition, 1)).unwrap();
    store
        .put(
            &key,
            &serde_json::to_vec(&forged).unwrap(),
            WriteCondition::Always,
            None,
        )
        .await
        .unwrap();
    let found = problems(&store).await;
    assert_eq!(found[0].0, Some(2), "{found:?}");
    assert!(found[0].1.contains("does not link"), "{found:?}");
}

#[tokio::test]
async fn deleted_entries_are_found_in_the_middle_and_at_the_end() {
    let (_dir, store) = store();
    let entries = chain(&store, 5).await;
    let partition = entries[0].partition.clone();
    let key = |seq| scope().key(&audit::entry_id(&partition, seq)).unwrap();
    assert!(store.delete(&key(3), WriteCondition::Always).await.unwrap());
    let found = problems(&store).await;
    assert_eq!(found[0].0, Some(3), "{found:?}");
    assert!(found[0].1.contains("missing"), "{found:?}");

    let (_dir2, store) = self::store();
    let entries = chain(&store, 5).await;
    let partition = entries[0].partition.clone();
    let key = scope().key(&audit::entry_id(&partition, 4)).unwrap();
    assert!(store.delete(&key, WriteCondition::Always).await.unwrap());
    let found = problems(&store).await;
    assert!(found[0].1.contains("deleted from the end"), "{found:?}");
}

#[tokio::test]
async fn an_inserted_entry_is_found() {
    let (_dir, store) = store();
    let entries = chain(&store, 3).await;
    let mut extra = entries[2].clone();
    extra.seq = 3;
    extra.prev_hash = entries[2].hash.clone();
    extra.hash = extra.compute_hash();
    let key = scope().key(&audit::entry_id(&extra.partition, 3)).unwrap();
    store
        .put(
            &key,
            &serde_json::to_vec(&extra).unwrap(),
            WriteCondition::IfAbsent,
            None,
        )
        .await
        .unwrap();
    let found = problems(&store).await;
    assert!(found[0].1.contains("head names entry 2"), "{found:?}");
}

#[tokio::test]
async fn a_second_writer_continues_the_chain_after_a_restart() {
    let (_dir, store) = store();
    chain(&store, 2).await;
    // A new process for the same partition is not possible (instances are
    // random), but a log that lost its in-memory tail re-reads the head.
    let more = chain(&store, 2).await;
    assert_eq!(more[0].seq, 0, "a new instance starts its own partition");
    assert!(problems(&store).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_the_limit_is_admitted_under_concurrency() {
    let (_dir, store) = store();
    let limits = CallLimits {
        window: Duration::from_secs(60),
        counters: vec![("server:technical-analysis".into(), 37)],
    };
    let two = CallLimits {
        window: Duration::from_secs(60),
        counters: vec![
            ("server:market-data".into(), 1000),
            ("tool:get_quote".into(), 23),
        ],
    };
    let mut tasks = Vec::new();
    for i in 0..400 {
        let store = store.clone();
        let limits = if i % 2 == 0 {
            limits.clone()
        } else {
            two.clone()
        };
        tasks.push(tokio::spawn(async move {
            (
                i % 2,
                rate_limit::admit(store.as_ref(), "alice", &limits)
                    .await
                    .unwrap(),
            )
        }));
    }
    let mut admitted = [0, 0];
    let mut limited = [0, 0];
    for task in tasks {
        let (kind, admission) = task.await.unwrap();
        match admission {
            Admission::Admitted => admitted[kind] += 1,
            Admission::Limited {
                limit, resets_at, ..
            } => {
                assert!(resets_at > Utc::now());
                assert!(limit == 37 || limit == 23);
                limited[kind] += 1;
            }
        }
    }
    assert_eq!(admitted, [37, 23]);
    assert_eq!(limited, [163, 177]);
    // A refused call consumed nothing: the server counter moved only for admitted calls.
    let used = rate_limit::usage(store.as_ref(), "alice", "server:market-data")
        .await
        .unwrap();
    assert_eq!(used.used, 23);
    let other = rate_limit::usage(store.as_ref(), "bob", "server:market-data")
        .await
        .unwrap();
    assert_eq!(other.used, 0);
}
