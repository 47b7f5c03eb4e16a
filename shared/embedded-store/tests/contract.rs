//! The storage-port contract, run against the embedded engine. Each test gets
//! its own data directory, removed when the test ends.

use gs_embedded_store::EmbeddedStore;
use tempfile::TempDir;

async fn fresh_store() -> (EmbeddedStore, TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir for the test store");
    let store = EmbeddedStore::open(dir.path()).expect("a fresh store opens");
    (store, dir)
}

gs_store_contract::bar_store_contract!(fresh_store());
gs_store_contract::record_store_contract!(fresh_store());
