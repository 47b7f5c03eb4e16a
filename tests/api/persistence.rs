//! The data directory outlives the server: bars, the dev signing key, and the
//! rule that the demo is only seeded into an empty store.

use serde_json::json;

use crate::helpers::{
    TestDir, all_daily_bars, call, expect_ok, import, spawn_app_in, stored_series,
};

#[tokio::test]
async fn imported_bars_and_tokens_survive_a_restart_and_block_the_demo() {
    let dir = TestDir::new();
    let data = dir.data_dir();
    let (stdout, _) = import(&data, "TEST", "daily_20_bars.csv", &[]);
    assert!(stdout.contains("Imported 20 bars"), "{stdout}");

    let app = spawn_app_in(&data, false).await;
    let client = app.client(&app.token).await;
    assert_eq!(
        stored_series(&client).await,
        [("TEST".to_string(), "1d".to_string(), 20)]
    );
    let listing = expect_ok(&call(&client, "list_symbols", json!({})).await);
    assert_eq!(
        listing["synthetic"],
        json!(false),
        "imported data is not synthetic"
    );
    let before = all_daily_bars(&client, "TEST").await;
    assert_eq!(before.len(), 20);
    assert_eq!(before[0]["time"], "2024-01-02T00:00:00Z");
    assert_eq!(
        (
            &before[0]["open"],
            &before[0]["high"],
            &before[0]["low"],
            &before[0]["close"],
            &before[0]["volume"]
        ),
        (
            &json!(100.0),
            &json!(101.5),
            &json!(99.0),
            &json!(100.5),
            &json!(1000.0)
        ),
        "first row of the file"
    );
    // A daily-only symbol is quoted from its daily bars.
    let quote = expect_ok(&call(&client, "get_quote", json!({"symbol": "test"})).await);
    assert_eq!(quote["symbol"], "TEST");
    assert_eq!(quote["source_timeframe"], "1d");
    assert_eq!(quote["synthetic"], json!(false));
    assert_eq!(quote["time"], before[19]["time"]);
    assert_eq!(quote["price"], before[19]["close"]);
    assert_eq!(quote["open"], before[19]["open"]);
    assert_eq!(quote["previous_close"], before[18]["close"]);
    let old_token = app.token.clone();
    client.cancel().await.unwrap();
    let status = app.stop();
    assert!(status.success(), "SIGINT shuts down cleanly: {status}");

    // Restart without --no-demo: the store is not empty, so no demo data.
    let app = spawn_app_in(&data, true).await;
    let client = app.client(&old_token).await; // same key, so old tokens still verify
    assert_eq!(
        stored_series(&client).await,
        [("TEST".to_string(), "1d".to_string(), 20)],
        "the demo must not be seeded into a non-empty store"
    );
    assert_eq!(all_daily_bars(&client, "TEST").await, before);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_demo_is_seeded_once() {
    let dir = TestDir::new();
    let data = dir.data_dir();

    let app = spawn_app_in(&data, true).await;
    let client = app.client(&app.token).await;
    let first = stored_series(&client).await;
    assert_eq!(first.len(), 24, "8 symbols x 3 timeframes");
    let aapl = all_daily_bars(&client, "AAPL").await;
    client.cancel().await.unwrap();
    assert!(app.stop().success());

    let app = spawn_app_in(&data, true).await;
    let client = app.client(&app.token).await;
    assert_eq!(stored_series(&client).await, first);
    assert_eq!(all_daily_bars(&client, "AAPL").await, aapl);
    client.cancel().await.unwrap();
}
