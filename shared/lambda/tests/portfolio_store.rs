//! Portfolios and orders on both engines: twenty concurrent repeats of one
//! idempotency key make exactly one order on the embedded store and on
//! DynamoDB (moto); a key reused for a different order is refused; another
//! user can neither list, read nor overwrite a portfolio or an order by
//! guessing its id.

use std::sync::Arc;

use chrono::Utc;
use gs_domain::RecordStore;
use gs_portfolio::paper::{Order, OrderStatus, OrderType, Side, TimeInForce};
use gs_tools::portfolio::store::{
    Placed, StoredOrder, StoredPortfolio, create_portfolio, get_order, get_portfolio,
    list_portfolios, new_portfolio_id, order_id, place,
};
use rust_decimal::Decimal;

fn order(portfolio: &str, key: &str, qty: i64) -> StoredOrder {
    let id = order_id(portfolio, key);
    let request = format!(r#"{{"symbol":"AAPL","side":"buy","quantity":{qty},"type":"market"}}"#);
    StoredOrder {
        order: Order {
            id,
            symbol: "AAPL".into(),
            side: Side::Buy,
            quantity: Decimal::from(qty),
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Day,
            status: OrderStatus::New,
            filled_quantity: Decimal::ZERO,
            average_price: None,
            triggered: false,
            bars_seen: 0,
        },
        idempotency_key: key.into(),
        request,
        created_at: Utc::now(),
    }
}

async fn twenty_at_once(records: Arc<dyn RecordStore>) {
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let records = records.clone();
            tokio::spawn(async move {
                place(records.as_ref(), "alice", "pf1", order("pf1", "key-1", 10)).await
            })
        })
        .collect();
    let mut created = 0;
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Placed::Created(o) => {
                created += 1;
                ids.insert(o.order.id);
            }
            Placed::Repeat(o) => {
                ids.insert(o.order.id);
            }
        }
    }
    assert_eq!(created, 1, "exactly one of the twenty stored the order");
    assert_eq!(
        ids.len(),
        1,
        "every repeat returned the same order: {ids:?}"
    );
    let id = ids.into_iter().next().unwrap();
    assert!(
        get_order(records.as_ref(), "alice", "pf1", &id)
            .await
            .unwrap()
            .is_some()
    );
    // The same key for a different order is refused.
    let err = place(records.as_ref(), "alice", "pf1", order("pf1", "key-1", 99))
        .await
        .unwrap_err();
    assert!(
        err.is_conflict() && err.to_string().contains("different order"),
        "{err}"
    );
    // A new key is a new order.
    assert!(matches!(
        place(records.as_ref(), "alice", "pf1", order("pf1", "key-2", 10))
            .await
            .unwrap(),
        Placed::Created(_)
    ));
    // Another user, guessing the id: nothing.
    assert!(
        get_order(records.as_ref(), "mallory", "pf1", &id)
            .await
            .unwrap()
            .is_none()
    );

    // Portfolios: listed and read by their owner only.
    let pf = StoredPortfolio {
        id: new_portfolio_id().unwrap(),
        name: "core".into(),
        base_currency: "USD".into(),
        ledger: gs_portfolio::paper::Ledger::with_cash(Decimal::from(100_000)),
        limits: gs_portfolio::paper::RiskLimits::default(),
        created_at: Utc::now(),
    };
    assert!(pf.id.starts_with("pf_") && pf.id.len() == 27, "{}", pf.id);
    create_portfolio(records.as_ref(), "alice", &pf)
        .await
        .unwrap();
    assert!(
        create_portfolio(records.as_ref(), "alice", &pf)
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(
        list_portfolios(records.as_ref(), "alice").await.unwrap(),
        vec![pf.clone()]
    );
    assert_eq!(
        get_portfolio(records.as_ref(), "alice", &pf.id)
            .await
            .unwrap(),
        Some(pf.clone())
    );
    assert!(
        list_portfolios(records.as_ref(), "mallory")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        get_portfolio(records.as_ref(), "mallory", &pf.id)
            .await
            .unwrap()
            .is_none()
    );
    // Mallory's "portfolio" of the same id is hers alone: alice's is unchanged.
    let forged = StoredPortfolio {
        name: "mine now".into(),
        ..pf.clone()
    };
    create_portfolio(records.as_ref(), "mallory", &forged)
        .await
        .unwrap();
    assert_eq!(
        get_portfolio(records.as_ref(), "alice", &pf.id)
            .await
            .unwrap(),
        Some(pf)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_order_per_key_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let embedded: Arc<dyn RecordStore> =
        Arc::new(gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap());
    twenty_at_once(embedded).await;
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("orders");
    let dynamo = gs_dynamo_store::DynamoStore::from_config(&sdk, &table);
    gs_dynamo_store::table::create(dynamo.client(), &table)
        .await
        .unwrap();
    twenty_at_once(Arc::new(dynamo)).await;
}
