//! The storage ports' contract on DynamoDB, through the real SDK against the
//! AWS emulator (moto). Each test gets its own table.

use gs_dynamo_store::{DynamoStore, table};

/// Deletes the test's table when the test ends.
struct Table(DynamoStore);

impl Drop for Table {
    fn drop(&mut self) {
        let (client, name) = (self.0.client().clone(), self.0.table().to_string());
        // Best effort, off the test's runtime (which is shutting down).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                let _ = rt.block_on(client.delete_table().table_name(name).send());
            }
        })
        .join();
    }
}

async fn fresh() -> (DynamoStore, Table) {
    let config = gs_aws_emulator::sdk_config();
    let store = DynamoStore::from_config(&config, gs_aws_emulator::unique_name("contract"));
    table::create(store.client(), store.table()).await.unwrap();
    (store.clone(), Table(store))
}

gs_store_contract::bar_store_contract!(fresh());
gs_store_contract::record_store_contract!(fresh());
