//! `RecordStore` cases: versions, owners, TTLs, counters, transactions,
//! listings and size limits.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gs_domain::{
    Increment, ListQuery, MAX_PAGE_BYTES, MAX_RECORD_VALUE_BYTES, MAX_RECORDS_PER_PAGE,
    MAX_TRANSACTION_OPS, Order, Owner, Record, RecordKey, RecordScope, RecordStore, StoreError,
    TxOp, WriteCondition,
};

// ---------------------------------------------------------------- fixtures

const PORTFOLIOS: &str = "portfolios";

fn alice() -> Owner {
    Owner::user("alice").unwrap()
}

fn scope(collection: &str) -> RecordScope {
    RecordScope::new(alice(), collection).unwrap()
}

/// Alice's record `id` in `collection`.
fn rk(collection: &str, id: &str) -> RecordKey {
    RecordKey::new(alice(), collection, id).unwrap()
}

fn p(id: &str) -> RecordKey {
    rk(PORTFOLIOS, id)
}

async fn put<S: RecordStore>(
    store: &S,
    key: &RecordKey,
    value: &[u8],
    condition: WriteCondition,
) -> Result<u64, StoreError> {
    store.put(key, value, condition, None).await
}

async fn get<S: RecordStore>(store: &S, key: &RecordKey) -> Option<Record> {
    store.get(key).await.unwrap()
}

fn conflict<T: std::fmt::Debug>(r: &Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

/// Every id of a listing, following cursors, in the listing's order.
async fn list_all<S: RecordStore>(
    store: &S,
    scope: &RecordScope,
    mut query: ListQuery,
) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for _ in 0..1_000 {
        let page = store.list(scope, &query).await.unwrap();
        if let Some(limit) = query.limit {
            assert!(page.records.len() <= limit);
        }
        out.extend(page.records.into_iter().map(|r| (r.id, r.version)));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return out,
        }
    }
    panic!("listing did not end");
}

/// A time in whole seconds, so any engine stores it exactly.
fn in_secs(from_now: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp() + from_now, 0).unwrap()
}

const HOUR: Duration = Duration::from_secs(3_600);

// ---------------------------------------------------------------- versions

pub async fn versions_start_at_one_and_increase_by_one<S: RecordStore>(store: S) {
    assert!(get(&store, &p("main")).await.is_none());
    for (n, value) in [b"one".as_slice(), b"two", b"three"]
        .into_iter()
        .enumerate()
    {
        let v = put(&store, &p("main"), value, WriteCondition::Always)
            .await
            .unwrap();
        assert_eq!(v, n as u64 + 1);
        let r = get(&store, &p("main")).await.unwrap();
        assert_eq!(
            (r.id.as_str(), r.version, r.value.as_slice(), r.expires_at),
            ("main", v, value, None)
        );
    }
}

pub async fn if_absent_conflicts_when_present<S: RecordStore>(store: S) {
    assert_eq!(
        put(&store, &p("p"), b"first", WriteCondition::IfAbsent)
            .await
            .unwrap(),
        1
    );
    let r = put(&store, &p("p"), b"second", WriteCondition::IfAbsent).await;
    assert!(conflict(&r), "got {r:?}");
    let r = get(&store, &p("p")).await.unwrap();
    assert_eq!((r.version, r.value.as_slice()), (1, &b"first"[..]));
}

pub async fn if_version_requires_the_current_version<S: RecordStore>(store: S) {
    let r = put(&store, &p("p"), b"x", WriteCondition::IfVersion(1)).await;
    assert!(conflict(&r), "absent record: got {r:?}");
    assert!(get(&store, &p("p")).await.is_none());
    put(&store, &p("p"), b"v1", WriteCondition::IfAbsent)
        .await
        .unwrap();
    assert_eq!(
        put(&store, &p("p"), b"v2", WriteCondition::IfVersion(1))
            .await
            .unwrap(),
        2
    );
    for stale in [0, 1, 3] {
        let r = put(&store, &p("p"), b"lost", WriteCondition::IfVersion(stale)).await;
        assert!(conflict(&r), "version {stale}: got {r:?}");
    }
    let r = get(&store, &p("p")).await.unwrap();
    assert_eq!((r.version, r.value.as_slice()), (2, &b"v2"[..]));
}

pub async fn conditional_delete<S: RecordStore>(store: S) {
    use WriteCondition::{Always, IfAbsent, IfVersion};
    assert!(!store.delete(&p("p"), Always).await.unwrap(), "absent");
    assert!(
        !store.delete(&p("p"), IfAbsent).await.unwrap(),
        "absent, as required"
    );
    assert!(conflict(&store.delete(&p("p"), IfVersion(1)).await));
    put(&store, &p("p"), b"a", Always).await.unwrap();
    put(&store, &p("p"), b"b", Always).await.unwrap();
    put(&store, &p("q"), b"q", Always).await.unwrap();
    for refused in [IfVersion(1), IfVersion(3), IfAbsent] {
        let r = store.delete(&p("p"), refused).await;
        assert!(conflict(&r), "{refused:?}: {r:?}");
        assert_eq!(
            get(&store, &p("p")).await.unwrap().version,
            2,
            "{refused:?} deleted"
        );
    }
    assert!(store.delete(&p("p"), IfVersion(2)).await.unwrap());
    assert!(get(&store, &p("p")).await.is_none());
    assert!(!store.delete(&p("p"), Always).await.unwrap());
    assert!(
        conflict(&store.delete(&p("p"), IfVersion(2)).await),
        "a deleted record has no version"
    );
    assert!(get(&store, &p("q")).await.is_some(), "other ids untouched");
    assert!(store.delete(&p("q"), Always).await.unwrap());
}

/// A record deleted and created again continues its versions, so a writer
/// holding a version from before the delete can never overwrite the new
/// record by accident (no ABA).
pub async fn versions_never_restart_after_delete<S: RecordStore>(store: S) {
    put(&store, &p("p"), b"a", WriteCondition::Always)
        .await
        .unwrap();
    put(&store, &p("p"), b"b", WriteCondition::Always)
        .await
        .unwrap();
    assert!(store.delete(&p("p"), WriteCondition::Always).await.unwrap());
    let v = put(&store, &p("p"), b"c", WriteCondition::IfAbsent)
        .await
        .unwrap();
    assert!(v > 2, "re-created at version {v}: versions restarted");
    for stale in [1, 2] {
        assert!(conflict(
            &put(&store, &p("p"), b"x", WriteCondition::IfVersion(stale)).await
        ));
    }
    // Deleting inside a transaction keeps the promise too.
    store
        .transact(vec![TxOp::Delete {
            key: p("p"),
            condition: WriteCondition::IfVersion(v),
        }])
        .await
        .unwrap();
    let w = put(&store, &p("p"), b"d", WriteCondition::IfAbsent)
        .await
        .unwrap();
    assert!(w > v, "{w} after {v}");
    // Increments are writes: a counter re-created after a delete continues.
    let n = rk("counters", "n");
    store.increment(&n, 1, 10, HOUR).await.unwrap();
    store.increment(&n, 1, 10, HOUR).await.unwrap();
    assert_eq!(get(&store, &n).await.unwrap().version, 2);
    store.delete(&n, WriteCondition::Always).await.unwrap();
    store.increment(&n, 1, 10, HOUR).await.unwrap();
    let r = get(&store, &n).await.unwrap();
    assert_eq!(r.value, b"1");
    assert!(r.version > 2);
}

// ------------------------------------------------------- owners and scopes

/// The same collection and id under two users and the system owner are three
/// records; nothing one owner does is visible to another.
pub async fn owners_are_isolated<S: RecordStore>(store: S) {
    let owners = [
        Owner::user("alice").unwrap(),
        Owner::user("bob").unwrap(),
        Owner::system(),
    ];
    for (n, o) in owners.iter().enumerate() {
        let key = RecordKey::new(o.clone(), "settings", "theme").unwrap();
        for _ in 0..=n {
            store
                .put(&key, o.as_str().as_bytes(), WriteCondition::Always, None)
                .await
                .unwrap();
        }
    }
    for (n, o) in owners.iter().enumerate() {
        let key = RecordKey::new(o.clone(), "settings", "theme").unwrap();
        let r = get(&store, &key).await.unwrap();
        assert_eq!(
            (r.version, r.value.as_slice()),
            (n as u64 + 1, o.as_str().as_bytes())
        );
        let listed = list_all(&store, key.scope(), ListQuery::default()).await;
        assert_eq!(listed, vec![("theme".to_string(), n as u64 + 1)]);
    }
    // A user named like the system's stored form is still only a user.
    let impostor = RecordKey::new(Owner::user("#system").unwrap(), "settings", "theme").unwrap();
    assert!(get(&store, &impostor).await.is_none());
    let bob = RecordKey::new(owners[1].clone(), "settings", "theme").unwrap();
    assert!(store.delete(&bob, WriteCondition::Always).await.unwrap());
    assert!(
        get(
            &store,
            &RecordKey::new(owners[0].clone(), "settings", "theme").unwrap()
        )
        .await
        .is_some()
    );
    let n = RecordKey::new(owners[2].clone(), "settings", "n").unwrap();
    store.increment(&n, 1, 5, HOUR).await.unwrap();
    assert!(
        get(
            &store,
            &RecordKey::new(owners[0].clone(), "settings", "n").unwrap()
        )
        .await
        .is_none()
    );
}

pub async fn collections_are_isolated<S: RecordStore>(store: S) {
    // Each name is a prefix of the next.
    let collections = ["po", "port", "portfolio", "portfolios"];
    for (n, c) in collections.iter().enumerate() {
        for _ in 0..=n {
            put(
                &store,
                &rk(c, "shared-id"),
                c.as_bytes(),
                WriteCondition::Always,
            )
            .await
            .unwrap();
        }
        put(
            &store,
            &rk(c, &format!("only-{c}")),
            b"x",
            WriteCondition::IfAbsent,
        )
        .await
        .unwrap();
    }
    for (n, c) in collections.iter().enumerate() {
        let r = get(&store, &rk(c, "shared-id")).await.unwrap();
        assert_eq!(
            (r.version, r.value.as_slice()),
            (n as u64 + 1, c.as_bytes())
        );
        for order in [Order::Ascending, Order::Descending] {
            let mut ids: Vec<String> = list_all(
                &store,
                &scope(c),
                ListQuery {
                    order,
                    ..ListQuery::default()
                },
            )
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
            if order == Order::Descending {
                ids.reverse();
            }
            assert_eq!(
                ids,
                vec![format!("only-{c}"), "shared-id".to_string()],
                "collection {c} {order:?}"
            );
        }
    }
    assert!(get(&store, &rk("port", "only-portfolio")).await.is_none());
    assert!(
        store
            .delete(&rk("port", "shared-id"), WriteCondition::Always)
            .await
            .unwrap()
    );
    assert!(get(&store, &rk("portfolio", "shared-id")).await.is_some());
    assert!(get(&store, &rk("po", "shared-id")).await.is_some());
}

/// Listing by prefix, both orders, with cursors: byte order of ids.
pub async fn list_by_prefix_in_both_orders_with_cursors<S: RecordStore>(store: S) {
    let ids = [
        "b",
        "a",
        "c",
        "aa",
        "b0",
        "B",
        "a b",
        "ab",
        "é",
        "a\u{10FFFF}",
        "ab\u{10FFFF}x",
    ];
    for id in ids {
        put(&store, &p(id), id.as_bytes(), WriteCondition::Always)
            .await
            .unwrap();
    }
    put(&store, &p("a"), b"a", WriteCondition::Always)
        .await
        .unwrap();
    // Expired records are skipped, wherever they fall.
    for id in ["a0", "ac", "zz"] {
        store
            .put(&p(id), b"gone", WriteCondition::Always, Some(in_secs(-10)))
            .await
            .unwrap();
    }
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    let version = |id: &str| if id == "a" { 2 } else { 1 };
    for prefix in ["", "a", "ab", "b", "é", "nothing"] {
        let expected: Vec<(String, u64)> = sorted
            .iter()
            .filter(|id| id.starts_with(prefix))
            .map(|id| (id.to_string(), version(id)))
            .collect();
        for limit in [None, Some(1), Some(2), Some(3)] {
            let q = ListQuery {
                id_prefix: prefix.into(),
                order: Order::Ascending,
                limit,
                cursor: None,
            };
            assert_eq!(
                list_all(&store, &scope(PORTFOLIOS), q.clone()).await,
                expected,
                "{prefix:?} {limit:?}"
            );
            let mut desc = list_all(
                &store,
                &scope(PORTFOLIOS),
                ListQuery {
                    order: Order::Descending,
                    ..q
                },
            )
            .await;
            desc.reverse();
            assert_eq!(desc, expected, "{prefix:?} {limit:?} descending");
        }
    }
    let first = store
        .list(
            &scope(PORTFOLIOS),
            &ListQuery {
                limit: Some(2),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    let page: Vec<&str> = first.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(page, vec!["B", "a"]);
    for r in &first.records {
        assert_eq!(r.value, r.id.as_bytes(), "value belongs to its id");
    }
    let cursor = first.next_cursor.unwrap();
    let other_order = ListQuery {
        order: Order::Descending,
        cursor: Some(cursor),
        ..ListQuery::default()
    };
    let r = store.list(&scope(PORTFOLIOS), &other_order).await;
    assert!(
        matches!(r, Err(StoreError::Invalid(_))),
        "cursor of the other order: {r:?}"
    );
    let junk = ListQuery {
        cursor: Some("junk".into()),
        ..ListQuery::default()
    };
    assert!(matches!(
        store.list(&scope(PORTFOLIOS), &junk).await,
        Err(StoreError::Invalid(_))
    ));
    let none = ListQuery {
        limit: Some(0),
        ..ListQuery::default()
    };
    assert!(
        store
            .list(&scope(PORTFOLIOS), &none)
            .await
            .unwrap()
            .records
            .is_empty()
    );
    assert!(
        list_all(&store, &scope("nothing-here"), ListQuery::default())
            .await
            .is_empty()
    );
}

/// Pages stop at the record count cap and at about 1 MB of values, and the
/// cursor carries on from there.
pub async fn list_pages_are_capped_by_count_and_bytes<S: RecordStore>(store: S) {
    let n = MAX_RECORDS_PER_PAGE + 1;
    let ids: Vec<String> = (0..n).map(|i| format!("r{i:05}")).collect();
    for chunk in ids.chunks(MAX_TRANSACTION_OPS) {
        let ops = chunk
            .iter()
            .map(|id| TxOp::Put {
                key: rk("many", id),
                value: b"x".to_vec(),
                condition: WriteCondition::IfAbsent,
                expires_at: None,
            })
            .collect();
        store.transact(ops).await.unwrap();
    }
    for order in [Order::Ascending, Order::Descending] {
        let q = ListQuery {
            order,
            limit: Some(usize::MAX),
            ..ListQuery::default()
        };
        let first = store.list(&scope("many"), &q).await.unwrap();
        assert!(first.records.len() <= MAX_RECORDS_PER_PAGE, "{order:?}");
        assert!(first.next_cursor.is_some());
        assert_eq!(
            list_all(&store, &scope("many"), q).await.len(),
            n,
            "{order:?}"
        );
    }
    // Five values of 340 KB: no page may carry much more than 1 MB.
    let big = vec![3u8; 340 * 1024];
    for i in 0..5 {
        put(
            &store,
            &rk("big", &format!("b{i}")),
            &big,
            WriteCondition::Always,
        )
        .await
        .unwrap();
    }
    let mut q = ListQuery::default();
    let mut seen = 0;
    loop {
        let page = store.list(&scope("big"), &q).await.unwrap();
        let bytes: usize = page.records.iter().map(|r| r.value.len()).sum();
        assert!(
            bytes < MAX_PAGE_BYTES + MAX_RECORD_VALUE_BYTES,
            "a page of {bytes} bytes"
        );
        seen += page.records.len();
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, 5);
}

// ------------------------------------------------------------------ values

pub async fn record_values_are_opaque_bytes<S: RecordStore>(store: S) {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let values: [&[u8]; 4] = [b"", b"\0\0\xff\x01", "ünïcødé ✓".as_bytes(), &big];
    for (n, value) in values.iter().enumerate() {
        let key = rk("blobs", &format!("v{n}"));
        put(&store, &key, value, WriteCondition::Always)
            .await
            .unwrap();
        assert_eq!(get(&store, &key).await.unwrap().value.as_slice(), *value);
    }
}

/// The item limit is DynamoDB's, in every engine.
pub async fn oversized_values_are_too_large<S: RecordStore>(store: S) {
    let key = rk("blobs", "big");
    let most = vec![7u8; MAX_RECORD_VALUE_BYTES];
    put(&store, &key, &most, WriteCondition::Always)
        .await
        .unwrap();
    let over = vec![8u8; MAX_RECORD_VALUE_BYTES + 1];
    let r = put(&store, &key, &over, WriteCondition::Always).await;
    assert!(
        matches!(r, Err(StoreError::TooLarge(_))),
        "{:?}",
        r.map_err(|e| e.to_string())
    );
    let r = store
        .transact(vec![TxOp::Put {
            key: key.clone(),
            value: over,
            condition: WriteCondition::Always,
            expires_at: None,
        }])
        .await;
    assert!(matches!(r, Err(StoreError::TooLarge(_))));
    let r = get(&store, &key).await.unwrap();
    assert_eq!((r.version, r.value.len()), (1, MAX_RECORD_VALUE_BYTES));
}

// -------------------------------------------------------------------- TTL

/// A record past its `expires_at` is gone for every operation, even while the
/// engine still holds it.
pub async fn expired_records_are_invisible<S: RecordStore>(store: S) {
    let later = in_secs(3_600);
    let v = store
        .put(&p("live"), b"x", WriteCondition::Always, Some(later))
        .await
        .unwrap();
    assert_eq!(
        get(&store, &p("live")).await.unwrap().expires_at,
        Some(later)
    );
    assert_eq!(v, 1);

    let past = in_secs(-1);
    store
        .put(&p("old"), b"x", WriteCondition::IfAbsent, Some(past))
        .await
        .unwrap();
    assert!(get(&store, &p("old")).await.is_none());
    assert_eq!(
        list_all(&store, &scope(PORTFOLIOS), ListQuery::default()).await,
        vec![("live".to_string(), 1)]
    );
    assert!(conflict(
        &put(&store, &p("old"), b"y", WriteCondition::IfVersion(1)).await
    ));
    assert!(
        !store
            .delete(&p("old"), WriteCondition::Always)
            .await
            .unwrap(),
        "nothing live to delete"
    );
    let r = store
        .transact(vec![TxOp::Check {
            key: p("old"),
            condition: WriteCondition::IfVersion(1),
        }])
        .await;
    assert!(
        matches!(r, Err(StoreError::TransactionConflict { op: 0, .. })),
        "{r:?}"
    );
    store
        .transact(vec![TxOp::Check {
            key: p("old"),
            condition: WriteCondition::IfAbsent,
        }])
        .await
        .unwrap();
    // Creating over an expired record works and is not expiring.
    put(&store, &p("old"), b"new", WriteCondition::IfAbsent)
        .await
        .unwrap();
    let r = get(&store, &p("old")).await.unwrap();
    assert_eq!((r.value.as_slice(), r.expires_at), (&b"new"[..], None));
}

pub async fn short_ttls_expire<S: RecordStore>(store: S) {
    let soon = Utc::now() + chrono::Duration::milliseconds(300);
    store
        .put(&p("brief"), b"x", WriteCondition::Always, Some(soon))
        .await
        .unwrap();
    store
        .put(&p("stays"), b"x", WriteCondition::Always, None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(get(&store, &p("brief")).await.is_none());
    assert_eq!(
        list_all(&store, &scope(PORTFOLIOS), ListQuery::default()).await,
        vec![("stays".to_string(), 1)]
    );
}

// ---------------------------------------------------------------- counters

pub async fn increment_stops_at_the_ceiling<S: RecordStore>(store: S) {
    let key = rk("limits", "calls");
    let mut resets = None;
    for want in 1..=3u64 {
        match store.increment(&key, 1, 3, HOUR).await.unwrap() {
            Increment::Applied { value, resets_at } => {
                assert_eq!(value, want);
                assert!(
                    resets.is_none_or(|r| r == resets_at),
                    "later increments keep the window"
                );
                assert!(resets_at > Utc::now() + chrono::Duration::minutes(59));
                resets = Some(resets_at);
            }
            refused => panic!("increment {want}: {refused:?}"),
        }
    }
    let r = store.increment(&key, 1, 3, HOUR).await.unwrap();
    assert_eq!(
        r,
        Increment::Refused {
            current: 3,
            resets_at: resets.unwrap()
        }
    );
    let record = get(&store, &key).await.unwrap();
    assert_eq!(
        (record.value.as_slice(), record.version),
        (&b"3"[..], 3),
        "a refusal changes nothing"
    );
    // Steps larger than 1, and a step that can never fit.
    let big = rk("limits", "bytes");
    assert!(matches!(
        store.increment(&big, 600, 1_000, HOUR).await.unwrap(),
        Increment::Applied { value: 600, .. }
    ));
    assert!(matches!(
        store.increment(&big, 500, 1_000, HOUR).await.unwrap(),
        Increment::Refused { current: 600, .. }
    ));
    assert!(matches!(
        store.increment(&big, 400, 1_000, HOUR).await.unwrap(),
        Increment::Applied { value: 1_000, .. }
    ));
    let never = rk("limits", "never");
    assert!(matches!(
        store.increment(&never, 5, 3, HOUR).await.unwrap(),
        Increment::Refused { current: 0, .. }
    ));
    assert!(
        get(&store, &never).await.is_none(),
        "a refused first increment creates nothing"
    );
    // Near u64::MAX nothing overflows.
    let edge = rk("limits", "edge");
    store
        .increment(&edge, u64::MAX - 1, u64::MAX, HOUR)
        .await
        .unwrap();
    assert!(matches!(
        store.increment(&edge, 2, u64::MAX, HOUR).await.unwrap(),
        Increment::Refused { .. }
    ));
    // Not a counter, or a meaningless step.
    put(&store, &p("doc"), b"x", WriteCondition::Always)
        .await
        .unwrap();
    assert!(matches!(
        store.increment(&p("doc"), 1, 10, HOUR).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.increment(&key, 0, 10, HOUR).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.increment(&key, 1, 10, Duration::ZERO).await,
        Err(StoreError::Invalid(_))
    ));
}

/// A counter's TTL is its window: once it passes, counting starts from 0.
pub async fn increment_window_restarts_after_expiry<S: RecordStore>(store: S) {
    let key = rk("limits", "window");
    // Long enough that a slow machine does not end the window between the
    // three increments, short enough to wait for.
    let window = Duration::from_millis(1_000);
    let first = store.increment(&key, 1, 2, window).await.unwrap();
    let Increment::Applied {
        value: 1,
        resets_at,
    } = first
    else {
        panic!("{first:?}");
    };
    store.increment(&key, 1, 2, window).await.unwrap();
    let third = store.increment(&key, 1, 2, window).await.unwrap();
    if Utc::now() < resets_at {
        assert!(
            matches!(third, Increment::Refused { current: 2, .. }),
            "{third:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(get(&store, &key).await.is_none(), "the window has passed");
    match store.increment(&key, 1, 2, window).await.unwrap() {
        Increment::Applied {
            value: 1,
            resets_at: again,
        } => {
            assert!(again > resets_at, "a new window starts")
        }
        other => panic!("{other:?}"),
    }
}

/// 50 concurrent increments against a ceiling of 20: exactly 20 apply, each
/// sees a distinct value, the rest are refused at 20.
pub async fn concurrent_increments_stop_exactly_at_the_ceiling<S: RecordStore + Clone + 'static>(
    store: S,
) {
    let key = rk("limits", "burst");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.increment(&key, 1, 20, HOUR).await.unwrap() })
        })
        .collect();
    let (mut applied, mut refused) = (BTreeSet::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Increment::Applied { value, .. } => {
                assert!(applied.insert(value), "value {value} twice")
            }
            Increment::Refused { current, .. } => {
                assert_eq!(current, 20);
                refused += 1;
            }
        }
    }
    assert_eq!(applied, (1..=20).collect::<BTreeSet<u64>>());
    assert_eq!(refused, 30);
    assert_eq!(get(&store, &key).await.unwrap().value, b"20");
}

// ------------------------------------------------------------ transactions

pub async fn transaction_is_all_or_nothing<S: RecordStore>(store: S) {
    use WriteCondition::{Always, IfAbsent, IfVersion};
    put(&store, &p("a"), b"a1", Always).await.unwrap();
    store
        .increment(&rk("limits", "n"), 5, 10, HOUR)
        .await
        .unwrap();
    let failing = [
        // A failed version check at the end undoes the puts before it.
        (
            vec![
                TxOp::Put {
                    key: p("b"),
                    value: b"b1".to_vec(),
                    condition: IfAbsent,
                    expires_at: None,
                },
                TxOp::Put {
                    key: p("a"),
                    value: b"a2".to_vec(),
                    condition: IfVersion(1),
                    expires_at: None,
                },
                TxOp::Delete {
                    key: p("c"),
                    condition: IfVersion(5),
                },
            ],
            2,
        ),
        // A failed check first: the put after it is not applied.
        (
            vec![
                TxOp::Check {
                    key: p("a"),
                    condition: IfAbsent,
                },
                TxOp::Put {
                    key: p("b"),
                    value: b"b1".to_vec(),
                    condition: Always,
                    expires_at: None,
                },
            ],
            0,
        ),
        // An increment that would pass its ceiling fails the transaction.
        (
            vec![
                TxOp::Put {
                    key: p("b"),
                    value: b"b1".to_vec(),
                    condition: Always,
                    expires_at: None,
                },
                TxOp::Increment {
                    key: rk("limits", "n"),
                    by: 6,
                    ceiling: 10,
                    window: HOUR,
                },
            ],
            1,
        ),
    ];
    for (ops, failing_op) in failing {
        match store.transact(ops).await {
            Err(StoreError::TransactionConflict { op, .. }) => assert_eq!(op, failing_op),
            other => panic!("expected a conflict at {failing_op}, got {other:?}"),
        }
        let a = get(&store, &p("a")).await.unwrap();
        assert_eq!(
            (a.version, a.value.as_slice()),
            (1, &b"a1"[..]),
            "nothing applied"
        );
        assert!(get(&store, &p("b")).await.is_none(), "nothing applied");
        assert_eq!(get(&store, &rk("limits", "n")).await.unwrap().value, b"5");
    }
}

pub async fn transaction_applies_every_kind_of_operation<S: RecordStore>(store: S) {
    use WriteCondition::{Always, IfAbsent, IfVersion};
    put(&store, &p("a"), b"a1", Always).await.unwrap();
    put(&store, &p("gone"), b"x", Always).await.unwrap();
    let bob = RecordKey::new(Owner::user("bob").unwrap(), PORTFOLIOS, "a").unwrap();
    let later = in_secs(600);
    store
        .transact(vec![
            TxOp::Put {
                key: p("a"),
                value: b"a2".to_vec(),
                condition: IfVersion(1),
                expires_at: None,
            },
            TxOp::Put {
                key: p("b"),
                value: b"b1".to_vec(),
                condition: IfAbsent,
                expires_at: Some(later),
            },
            TxOp::Delete {
                key: p("gone"),
                condition: IfVersion(1),
            },
            TxOp::Check {
                key: bob.clone(),
                condition: IfAbsent,
            },
            TxOp::Increment {
                key: rk("limits", "n"),
                by: 3,
                ceiling: 10,
                window: HOUR,
            },
        ])
        .await
        .unwrap();
    let a = get(&store, &p("a")).await.unwrap();
    assert_eq!((a.version, a.value.as_slice()), (2, &b"a2"[..]));
    let b = get(&store, &p("b")).await.unwrap();
    assert_eq!(
        (b.version, b.value.as_slice(), b.expires_at),
        (1, &b"b1"[..], Some(later))
    );
    assert!(get(&store, &p("gone")).await.is_none());
    assert!(get(&store, &bob).await.is_none(), "a check writes nothing");
    assert_eq!(get(&store, &rk("limits", "n")).await.unwrap().value, b"3");
}

/// DynamoDB's transaction limits hold in every engine: 100 operations, 4 MB,
/// each key once.
pub async fn transaction_size_limits<S: RecordStore>(store: S) {
    let puts = |n: usize, size: usize| -> Vec<TxOp> {
        (0..n)
            .map(|i| TxOp::Put {
                key: p(&format!("r{i:03}")),
                value: vec![1u8; size],
                condition: WriteCondition::Always,
                expires_at: None,
            })
            .collect()
    };
    let r = store.transact(puts(MAX_TRANSACTION_OPS + 1, 1)).await;
    assert!(matches!(r, Err(StoreError::TooLarge(_))), "{r:?}");
    let r = store.transact(puts(13, 330 * 1024)).await;
    assert!(matches!(r, Err(StoreError::TooLarge(_))), "over 4 MB");
    assert!(
        list_all(&store, &scope(PORTFOLIOS), ListQuery::default())
            .await
            .is_empty()
    );
    let dup = vec![
        TxOp::Check {
            key: p("x"),
            condition: WriteCondition::Always,
        },
        TxOp::Delete {
            key: p("x"),
            condition: WriteCondition::Always,
        },
    ];
    assert!(matches!(
        store.transact(dup).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.transact(Vec::new()).await,
        Err(StoreError::Invalid(_))
    ));
    store.transact(puts(MAX_TRANSACTION_OPS, 1)).await.unwrap();
    store.transact(puts(11, 340 * 1024)).await.unwrap();
    assert_eq!(
        list_all(&store, &scope(PORTFOLIOS), ListQuery::default())
            .await
            .len(),
        MAX_TRANSACTION_OPS
    );
}

// ------------------------------------------------------------- concurrency

/// Optimistic read-modify-write from many tasks: with `IfVersion`, no
/// increment may be lost however the writes interleave.
pub async fn concurrent_conditional_writers_never_lose_updates<S: RecordStore + Clone + 'static>(
    store: S,
) {
    const TASKS: u64 = 8;
    const INCREMENTS: u64 = 10;
    let key = rk("counters", "c");
    put(&store, &key, &0u64.to_le_bytes(), WriteCondition::IfAbsent)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (store, key) = (store.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..INCREMENTS {
                loop {
                    let r = store.get(&key).await.unwrap().unwrap();
                    let n = u64::from_le_bytes(r.value.as_slice().try_into().unwrap());
                    let next = (n + 1).to_le_bytes();
                    match store
                        .put(&key, &next, WriteCondition::IfVersion(r.version), None)
                        .await
                    {
                        Ok(v) => {
                            assert_eq!(v, r.version + 1);
                            break;
                        }
                        Err(StoreError::Conflict(_)) => {}
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let r = get(&store, &key).await.unwrap();
    let n = u64::from_le_bytes(r.value.as_slice().try_into().unwrap());
    assert_eq!(n, TASKS * INCREMENTS, "an increment was lost");
    assert_eq!(r.version, TASKS * INCREMENTS + 1);
}

pub async fn concurrent_creators_exactly_one_wins<S: RecordStore + Clone + 'static>(store: S) {
    let key = rk("locks", "job");
    let tasks: Vec<_> = (0..16u8)
        .map(|n| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.put(&key, &[n], WriteCondition::IfAbsent, None).await })
        })
        .collect();
    let mut winners = Vec::new();
    for (n, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(v) => winners.push((n as u8, v)),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let r = get(&store, &key).await.unwrap();
    assert_eq!((r.value, r.version), (vec![winners[0].0], 1));
}
