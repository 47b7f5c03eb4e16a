//! The storage-port contract, run against the embedded engine. Each test gets
//! its own data directory, removed when the test ends.

use gs_embedded_store::{EmbeddedBus, EmbeddedStore};
use tempfile::TempDir;

async fn fresh_store() -> (EmbeddedStore, TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir for the test store");
    let store = EmbeddedStore::open(dir.path()).expect("a fresh store opens");
    (store, dir)
}

gs_store_contract::bar_store_contract!(fresh_store());
gs_store_contract::record_store_contract!(fresh_store());

async fn fresh_bus(routes: Vec<gs_domain::Route>, max_receives: u32) -> (EmbeddedBus, TempDir) {
    let (store, dir) = fresh_store().await;
    (EmbeddedBus::new(store, routes, max_receives), dir)
}

gs_store_contract::bus_contract!(fresh_bus);

/// The outbox is the redb file: what was published, and a message received
/// but not acked, survive closing and reopening it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_no_event() {
    use gs_domain::bus::{Event, EventBus, EventType};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let routes = gs_store_contract::bus::routes();
    let event = |id: &str| {
        Event::new(
            id,
            "test",
            EventType::BarsUpdated,
            chrono::Utc::now(),
            Some("MSFT".into()),
            serde_json::json!({"n": id}),
        )
    };
    {
        let bus = EmbeddedBus::new(EmbeddedStore::open(dir.path()).unwrap(), routes.clone(), 3);
        bus.publish(&[event("r1"), event("r2")]).await.unwrap();
        let got = bus
            .receive("rules", 1, Duration::from_millis(300))
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "one in flight when the process stops");
        assert_eq!(bus.depth("rules").await.unwrap(), 2);
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let bus = EmbeddedBus::new(EmbeddedStore::open(dir.path()).unwrap(), routes, 3);
    let got = gs_store_contract::bus::drain(
        &bus,
        "rules",
        2,
        Duration::from_secs(30),
        Duration::from_secs(3),
    )
    .await;
    let mut ids: Vec<_> = got.iter().map(|d| d.event.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["r1", "r2"]);
    let counts: Vec<u32> = got.iter().map(|d| d.receive_count).collect();
    assert!(counts.contains(&2) && counts.contains(&1), "{counts:?}");
}
