//! The single table: key design, attribute helpers and creation.
//!
//! | Item | `pk` | `sk` | Attributes |
//! |---|---|---|---|
//! | Series metadata | `SERIES` | `{SYMBOL}#{tf code, 2 digits}` | `gen`, `count`, `first`, `last`, `source` (JSON), `dir` (binary: 24 bytes per bucket) |
//! | Bucket version | `BARS#{SYMBOL}#{tf code}` | `{bucket start, 16 hex digits, sign-flipped}#{write id, 16 hex}` | `b` (binary bucket) |
//! | Record | `REC#{owner}#{collection}` | record id | `v`, `k` (`d` document, `c` counter, `t` tombstone), `d` or `c`, `exp` (ms, `i64::MAX` = never), `ttl` (s, only when expiring) |
//!
//! Access patterns:
//! - a series' metadata: `GetItem` (consistent); every series of a symbol
//!   (`series_of`) and a listing by symbol prefix (`list_series`): one
//!   consistent `Query` of `pk = SERIES` with `begins_with(sk)`. All series
//!   metadata shares one partition: strongly consistent listing without a
//!   GSI (GSIs are eventually consistent), at the price of one partition's
//!   throughput (3,000 reads / 1,000 writes a second), far above what one
//!   deployment's series need.
//! - bars: the metadata's directory names each bucket's version, read with
//!   `BatchGetItem` (a year of daily bars or a day of minute bars is one
//!   bucket); a put writes new bucket versions with `BatchWriteItem`, then
//!   switches the metadata with one conditional `PutItem`.
//! - records: `GetItem`, conditional `UpdateItem` (versions and counters in
//!   one step), `TransactWriteItems`, and a consistent `Query` of the
//!   owner+collection partition with `begins_with(sk, prefix)` in either
//!   direction.
//!
//! `#` separates key parts: symbols, timeframe codes and collection names
//! never contain it and every symbol character sorts above it, so sort-key
//! order is (symbol, timeframe) order. An owner may contain `#`, but the
//! collection after the last `#` cannot, so record partitions never collide.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use gs_domain::StoreError;

use crate::error::{corrupt, sdk};

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
/// The TTL attribute (epoch seconds). DynamoDB deletes expired items within
/// days, so every read also checks `exp` itself.
pub const TTL_ATTRIBUTE: &str = "ttl";

/// Creates the table on demand capacity with TTL enabled, for development
/// and tests (`goldensignals dev bootstrap`; the cloud's table comes from
/// `template.yaml`). An existing table is left as it is.
pub async fn create(client: &Client, name: &str) -> Result<(), StoreError> {
    let exists = client.describe_table().table_name(name).send().await;
    if exists.is_ok() {
        return Ok(());
    }
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::engine("describing the key schema", e))
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| StoreError::engine("describing the key attributes", e))
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .attribute_definitions(attr(PARTITION_KEY)?)
        .attribute_definitions(attr(SORT_KEY)?)
        .send()
        .await
        .map_err(|e| sdk("creating the table", e))?;
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(TTL_ATTRIBUTE)
        .enabled(true)
        .build()
        .map_err(|e| StoreError::engine("describing the TTL", e))?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| sdk("enabling TTL", e))?;
    Ok(())
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn b(v: Vec<u8>) -> AttributeValue {
    AttributeValue::B(Blob::new(v))
}

type Item = std::collections::HashMap<String, AttributeValue>;

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(name))
}

pub(crate) fn get_b<'a>(item: &'a Item, name: &str) -> Result<&'a [u8], StoreError> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(Blob::as_ref)
        .ok_or_else(|| corrupt(name))
}

pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(name))
}

/// A sort-key fragment that orders signed integers as their values: the sign
/// bit flipped, as 16 hex digits.
pub(crate) fn sortable_i64(v: i64) -> String {
    format!("{:016x}", (v as u64) ^ (1u64 << 63))
}

/// A fresh write id: 64 random bits (std's per-process random hash keys,
/// mixed with the time and a counter), so writers on different machines
/// never share one.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_integers_sort_as_strings() {
        let values = [i64::MIN, -86_400, -1, 0, 1, 86_400, i64::MAX];
        let keys: Vec<String> = values.iter().map(|v| sortable_i64(*v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert!(keys.iter().all(|k| k.len() == 16));
    }

    #[test]
    fn write_ids_differ() {
        let ids: std::collections::BTreeSet<u64> = (0..1000).map(|_| random_u64()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
