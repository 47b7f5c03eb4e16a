//! Option chains, daily summaries and trade prints through the
//! `RecordStore` port (system-owned records, so both engines hold them
//! alike):
//!
//! - `option-chains/{SYMBOL}#{as_of ms, 13 digits}#{generation}#{expiry YYYYMMDD}#{part, 2 digits}`:
//!   the quotes of one expiry of one snapshot (at most [`QUOTES_PER_PART`]
//!   per record). The generation is a hash of the snapshot's content.
//! - `option-days/{SYMBOL}#{as_of ms}`: the snapshot's summary (volumes, open
//!   interest, ATM implied volatility) naming its generation, written after
//!   every part of it (in the last transaction). Readers find snapshots
//!   through summaries and read only the parts of the generation named, so a
//!   snapshot is seen whole or not at all, also while a corrected file
//!   replaces it; the replaced generation's parts are deleted afterwards.
//! - `option-trades/{SYMBOL}#{time ms}#{OCC symbol, compact}#{print id}`: one
//!   trade print.
//!
//! Writes are puts under ids derived from the data, so importing the same
//! file again rewrites the same records.

use chrono::{DateTime, NaiveDate, Utc};
use gs_domain::{
    ListQuery, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_OPS, Order, Owner, Record, RecordScope,
    RecordStore, StoreError, TxOp, WriteCondition, list_cursor,
};
use gs_options::{ChainSnapshot, OptionQuote, TradePrint};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const CHAINS: &str = "option-chains";
pub const DAYS: &str = "option-days";
pub const TRADES: &str = "option-trades";
/// Quotes per chain record (about 250 bytes each, well under the record cap).
pub const QUOTES_PER_PART: usize = 400;
const PAGE: usize = 500;

/// One expiry (or part of one) of a stored snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChainPart {
    as_of: DateTime<Utc>,
    underlying_price: f64,
    synthetic: bool,
    quotes: Vec<OptionQuote>,
}

/// What one stored snapshot held, for histories (put/call ratios, IV rank).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DaySummary {
    pub as_of: DateTime<Utc>,
    pub underlying_price: f64,
    pub call_volume: u64,
    pub put_volume: u64,
    pub call_open_interest: u64,
    pub put_open_interest: u64,
    /// At-the-money implied volatility about 30 calendar days out
    /// (interpolated in variance between the expiries around 30 days).
    pub atm_iv_30d: Option<f64>,
    pub contracts: usize,
    pub expiries: usize,
    /// True for the generated demo data set.
    pub synthetic: bool,
    /// The generation of the chain records this summary names.
    #[serde(default)]
    pub generation: String,
}

/// A stored snapshot as read back.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub snapshot: ChainSnapshot,
    pub synthetic: bool,
}

/// Keys hold 13-digit milliseconds: times are clamped to 1970..=2199 so
/// every key has 13 digits and sorts by time.
fn ms_key(t: DateTime<Utc>) -> String {
    const LAST: i64 = 7_258_118_399_999; // 2199-12-31T23:59:59.999Z
    format!("{:013}", t.timestamp_millis().clamp(0, LAST))
}

/// A hash of a snapshot's content: its chain records' generation.
pub fn generation(snapshot: &ChainSnapshot) -> Result<String, StoreError> {
    let bytes = encode("a snapshot", snapshot)?;
    Ok(crate::digest::sha256_hex(&bytes, 6))
}

fn scope(collection: &str) -> Result<RecordScope, StoreError> {
    RecordScope::new(Owner::system(), collection)
}

fn encode<T: Serialize>(what: &str, v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Invalid(format!("cannot encode {what}: {e}")))
}

fn decode<T: for<'de> Deserialize<'de>>(collection: &str, r: &Record) -> Result<T, StoreError> {
    serde_json::from_slice(&r.value)
        .map_err(|e| StoreError::Corrupt(format!("{collection}/{}: {e}", r.id)))
}

fn put(key: gs_domain::RecordKey, value: Vec<u8>) -> TxOp {
    TxOp::Put {
        key,
        value,
        condition: WriteCondition::Always,
        expires_at: None,
    }
}

/// Writes `ops` in transactions within the store's limits, in order; the
/// last transaction holds the last op.
async fn write_all(records: &dyn RecordStore, ops: Vec<TxOp>) -> Result<(), StoreError> {
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    for op in ops {
        let b = op.size_bytes();
        if !batch.is_empty()
            && (batch.len() >= MAX_TRANSACTION_OPS
                || bytes.saturating_add(b) > MAX_TRANSACTION_BYTES)
        {
            records.transact(std::mem::take(&mut batch)).await?;
            bytes = 0;
        }
        bytes = bytes.saturating_add(b);
        batch.push(op);
    }
    if !batch.is_empty() {
        records.transact(batch).await?;
    }
    Ok(())
}

/// Stores one snapshot and its summary (the summary last, naming the new
/// generation), then deletes the parts of any generation it replaced.
pub async fn store_snapshot(
    records: &dyn RecordStore,
    snapshot: &ChainSnapshot,
    summary: &DaySummary,
) -> Result<usize, StoreError> {
    let chains = scope(CHAINS)?;
    let days = scope(DAYS)?;
    let symbol = &snapshot.underlying;
    let at = ms_key(snapshot.as_of);
    let generation = generation(snapshot)?;
    let summary = DaySummary {
        generation: generation.clone(),
        ..summary.clone()
    };
    let mut by_expiry: std::collections::BTreeMap<NaiveDate, Vec<OptionQuote>> =
        std::collections::BTreeMap::new();
    for q in &snapshot.quotes {
        by_expiry
            .entry(q.contract.expiry)
            .or_default()
            .push(q.clone());
    }
    let mut ops = Vec::new();
    for (expiry, quotes) in by_expiry {
        for (part, chunk) in quotes.chunks(QUOTES_PER_PART).enumerate() {
            let id = format!(
                "{symbol}#{at}#{generation}#{}#{part:02}",
                expiry.format("%Y%m%d")
            );
            let value = encode(
                "a chain part",
                &ChainPart {
                    as_of: snapshot.as_of,
                    underlying_price: snapshot.underlying_price,
                    synthetic: summary.synthetic,
                    quotes: chunk.to_vec(),
                },
            )?;
            ops.push(put(chains.key(&id)?, value));
        }
    }
    let parts = ops.len();
    ops.push(put(
        days.key(&format!("{symbol}#{at}"))?,
        encode("a day summary", &summary)?,
    ));
    write_all(records, ops).await?;
    // What the summary no longer names: an earlier generation's parts.
    let keep = format!("{symbol}#{at}#{generation}#");
    let stale: Vec<TxOp> = list_all(records, &chains, &format!("{symbol}#{at}#"))
        .await?
        .into_iter()
        .filter(|id| !id.starts_with(&keep))
        .map(|id| {
            Ok(TxOp::Delete {
                key: chains.key(&id)?,
                condition: WriteCondition::Always,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    write_all(records, stale).await?;
    Ok(parts)
}

/// Every id under `prefix`.
async fn list_all(
    records: &dyn RecordStore,
    scope: &RecordScope,
    prefix: &str,
) -> Result<Vec<String>, StoreError> {
    let mut cursor = None;
    let mut ids = Vec::new();
    loop {
        let page = records
            .list(
                scope,
                &ListQuery {
                    id_prefix: prefix.to_string(),
                    order: Order::Ascending,
                    limit: Some(PAGE),
                    cursor: cursor.take(),
                },
            )
            .await?;
        ids.extend(page.records.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(ids),
        }
    }
}

/// Summaries of `symbol` at or before `end`, newest first, at most `max`.
pub async fn summaries(
    records: &dyn RecordStore,
    symbol: &str,
    end: DateTime<Utc>,
    max: usize,
) -> Result<Vec<DaySummary>, StoreError> {
    let days = scope(DAYS)?;
    let prefix = format!("{symbol}#");
    let just_after = end
        .checked_add_signed(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(end);
    let mut cursor = Some(list_cursor(
        Order::Descending,
        &format!("{prefix}{}", ms_key(just_after)),
    ));
    let mut out = Vec::new();
    while out.len() < max {
        let page = records
            .list(
                &days,
                &ListQuery {
                    id_prefix: prefix.clone(),
                    order: Order::Descending,
                    limit: Some(PAGE.min(max.saturating_sub(out.len()).max(1))),
                    cursor: cursor.take(),
                },
            )
            .await?;
        for r in &page.records {
            if out.len() < max {
                out.push(decode::<DaySummary>(DAYS, r)?);
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}

/// The snapshot a summary names: the chain records of its generation.
pub async fn read_snapshot(
    records: &dyn RecordStore,
    symbol: &str,
    summary: &DaySummary,
) -> Result<Option<StoredSnapshot>, StoreError> {
    let chains = scope(CHAINS)?;
    let as_of = summary.as_of;
    let prefix = format!("{symbol}#{}#{}#", ms_key(as_of), summary.generation);
    let mut cursor = None;
    let mut quotes = Vec::new();
    let mut head: Option<(f64, bool)> = None;
    loop {
        let page = records
            .list(
                &chains,
                &ListQuery {
                    id_prefix: prefix.clone(),
                    order: Order::Ascending,
                    limit: Some(PAGE),
                    cursor: cursor.take(),
                },
            )
            .await?;
        for r in &page.records {
            let part: ChainPart = decode(CHAINS, r)?;
            head.get_or_insert((part.underlying_price, part.synthetic));
            quotes.extend(part.quotes);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(head.map(|(underlying_price, synthetic)| StoredSnapshot {
        snapshot: ChainSnapshot {
            underlying: symbol.to_string(),
            as_of,
            underlying_price,
            quotes,
        },
        synthetic,
    }))
}

/// A stored print.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredPrint {
    print: TradePrint,
    synthetic: bool,
}

/// Stores trade prints (idempotent: the id comes from the print).
pub async fn store_prints(
    records: &dyn RecordStore,
    prints: &[TradePrint],
    synthetic: bool,
) -> Result<usize, StoreError> {
    let trades = scope(TRADES)?;
    let mut ops = Vec::with_capacity(prints.len());
    for p in prints {
        let occ: String = gs_options::occ::format(&p.contract)
            .chars()
            .filter(|c| *c != ' ')
            .collect();
        let id = format!(
            "{}#{}#{occ}#{}",
            p.contract.underlying,
            ms_key(p.time),
            p.id
        );
        ops.push(put(
            trades.key(&id)?,
            encode(
                "a trade print",
                &StoredPrint {
                    print: p.clone(),
                    synthetic,
                },
            )?,
        ));
    }
    let n = ops.len();
    write_all(records, ops).await?;
    Ok(n)
}

/// Prints of `symbol` in `[start, end]`, oldest first, at most `max`; the
/// flags say whether any was synthetic and whether more were left.
pub async fn read_prints(
    records: &dyn RecordStore,
    symbol: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Result<(Vec<TradePrint>, bool, bool), StoreError> {
    let trades = scope(TRADES)?;
    let prefix = format!("{symbol}#");
    let just_before = start
        .checked_sub_signed(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(start);
    let end_key = format!("{prefix}{}~", ms_key(end));
    let mut cursor = Some(list_cursor(
        Order::Ascending,
        &format!("{prefix}{}~", ms_key(just_before)),
    ));
    let (mut out, mut synthetic) = (Vec::new(), false);
    loop {
        let page = records
            .list(
                &trades,
                &ListQuery {
                    id_prefix: prefix.clone(),
                    order: Order::Ascending,
                    limit: Some(PAGE),
                    cursor: cursor.take(),
                },
            )
            .await?;
        for r in &page.records {
            if r.id.as_str() > end_key.as_str() {
                return Ok((out, synthetic, false));
            }
            if out.len() >= max {
                return Ok((out, synthetic, true));
            }
            let p: StoredPrint = decode(TRADES, r)?;
            if p.print.time >= start && p.print.time <= end {
                synthetic |= p.synthetic;
                out.push(p.print);
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok((out, synthetic, false)),
        }
    }
}

/// The time of the newest print of `symbol`, if any.
pub async fn last_print_time(
    records: &dyn RecordStore,
    symbol: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let page = records
        .list(
            &scope(TRADES)?,
            &ListQuery {
                id_prefix: format!("{symbol}#"),
                order: Order::Descending,
                limit: Some(1),
                cursor: None,
            },
        )
        .await?;
    match page.records.first() {
        Some(r) => Ok(Some(decode::<StoredPrint>(TRADES, r)?.print.time)),
        None => Ok(None),
    }
}
