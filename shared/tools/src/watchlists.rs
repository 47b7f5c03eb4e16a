//! Watchlists and scheduled signal scans (`technical-analysis` server):
//! a watchlist is a user's list of symbols with scan settings (timeframe,
//! agents, consensus) and an optional schedule; a scan runs
//! `generate_signals` on every symbol, stores each result in the signal
//! history and publishes `signal.generated`, plus `signal.changed` where the
//! action differs from the previous scan's.
//!
//! Records (owner: the user unless marked):
//! - `watchlists/{name}`: the watchlist.
//! - `scan-schedules/{next run ms, 13 digits}#{subject}#{name}` (system):
//!   the due-time index the scheduler reads (`run_due_scans`); moved in the
//!   same transaction as the watchlist, and claimed (deleted `IfVersion`)
//!   before a run, so two schedulers never run one scan twice.
//! - `scan-state/{name}`: each symbol's last action, to tell changes.
//! - `signal-history/{name}#{SYMBOL}#{bar ms}` and `scan-runs/{name}#{run
//!   ms}`: the results (90 days).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use gs_domain::bus::{Event, EventType};
use gs_domain::{
    ListQuery, Order, Owner, RecordKey, RecordScope, StoreError, Symbol, Timeframe, TxOp,
    WriteCondition,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::context::{Stores, ToolContext};
use crate::error::ToolError;
use crate::registry::{Annotations, tool};

pub mod schedule;

pub use schedule::Schedule;

const SERVER: &str = "technical-analysis";
const WATCHLISTS: &str = "watchlists";
const SCHEDULES: &str = "scan-schedules";
const STATE: &str = "scan-state";
const HISTORY: &str = "signal-history";
const RUNS: &str = "scan-runs";
/// Most symbols in one watchlist.
pub const MAX_SYMBOLS: usize = 500;
/// How long scan results are kept.
pub const HISTORY_DAYS: i64 = 90;
/// Symbols scanned at the same time (each takes a compute slot while its
/// agents run; the rest is store reads).
const SCAN_CONCURRENCY: usize = 8;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ToolError> {
    serde_json::to_vec(value)
        .map_err(|e| ToolError::Internal(format!("cannot encode a record: {e}")))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("a watchlist record: {e}")))
}

fn history_expiry(now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    now.checked_add_signed(chrono::Duration::days(HISTORY_DAYS))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredWatchlist {
    name: String,
    symbols: Vec<String>,
    timeframe: String,
    agents: Option<Vec<String>>,
    use_consensus: bool,
    schedule: Option<String>,
    next_run_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ScanState {
    last: BTreeMap<String, LastSignal>,
    last_run_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LastSignal {
    action: String,
    confidence: f64,
    bar_time: DateTime<Utc>,
}

fn check_name(name: &str) -> Result<(), ToolError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
        return Err(ToolError::invalid(format!(
            "watchlist name {name:?} must be 1-64 characters from A-Z a-z 0-9 - _ ."
        )));
    }
    Ok(())
}

fn watchlist_key(subject: &str, name: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, WATCHLISTS, name)
}

fn schedule_key(at: DateTime<Utc>, subject: &str, name: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(
        Owner::system(),
        SCHEDULES,
        &format!("{:013}#{subject}#{name}", at.timestamp_millis().max(0)),
    )
}

fn state_key(subject: &str, name: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, STATE, name)
}

/// Symbols parsed, upper-cased, de-duplicated in their order; 1-500.
fn parse_symbols(symbols: &[String]) -> Result<Vec<String>, ToolError> {
    let mut out: Vec<String> = Vec::new();
    for s in symbols {
        let symbol = Symbol::parse(s)?.to_string();
        if !out.contains(&symbol) {
            out.push(symbol);
        }
    }
    if out.is_empty() || out.len() > MAX_SYMBOLS {
        return Err(ToolError::invalid(format!(
            "a watchlist holds 1-{MAX_SYMBOLS} symbols ({} given)",
            out.len()
        )));
    }
    Ok(out)
}

fn check_agents(agents: &Option<Vec<String>>) -> Result<(), ToolError> {
    if let Some(list) = agents {
        let known = gs_signals::agent_names();
        for a in list {
            if !known.contains(&a.as_str()) {
                return Err(ToolError::invalid(format!(
                    "unknown agent {a:?}; the agents are {}",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WatchlistView {
    pub name: String,
    pub symbols: Vec<String>,
    pub timeframe: String,
    /// Agents the scans run (absent: all).
    pub agents: Option<Vec<String>>,
    pub use_consensus: bool,
    /// rate(...) or cron(...) in UTC; absent when scans run only on demand.
    pub schedule: Option<String>,
    pub next_run_at: Option<String>,
}

fn view(w: &StoredWatchlist) -> WatchlistView {
    WatchlistView {
        name: w.name.clone(),
        symbols: w.symbols.clone(),
        timeframe: w.timeframe.clone(),
        agents: w.agents.clone(),
        use_consensus: w.use_consensus,
        schedule: w.schedule.clone(),
        next_run_at: w.next_run_at.map(rfc3339),
    }
}

async fn load(
    stores: &Stores,
    subject: &str,
    name: &str,
) -> Result<Option<(StoredWatchlist, u64)>, StoreError> {
    match stores.records.get(&watchlist_key(subject, name)?).await? {
        Some(r) => Ok(Some((decode(&r.value)?, r.version))),
        None => Ok(None),
    }
}

async fn load_or_not_found(
    ctx: &ToolContext,
    name: &str,
) -> Result<(StoredWatchlist, u64), ToolError> {
    check_name(name)?;
    load(&ctx.stores, &ctx.subject, name).await?.ok_or_else(|| {
        ToolError::NotFound(format!(
            "no watchlist {name:?} of yours; list_watchlists shows them"
        ))
    })
}

/// The run after the one due at `at`: `rate` schedules keep their cadence
/// from the due time (no drift), stepped past `now`; whole milliseconds.
fn next_due(schedule: &Schedule, at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut next = schedule.next_after(at)?;
    let mut steps = 0u32;
    while next <= now && steps < 10_000 {
        next = schedule.next_after(next)?;
        steps = steps.saturating_add(1);
    }
    DateTime::from_timestamp_millis(next.timestamp_millis())
}

/// The schedule's next run after now, checked.
fn next_run(
    schedule: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ToolError> {
    match schedule {
        None => Ok(None),
        Some(expr) => {
            let parsed = Schedule::parse(expr)?;
            // Whole milliseconds: the index key holds milliseconds.
            parsed
                .next_after(now)
                .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis()))
                .map(Some)
                .ok_or_else(|| ToolError::invalid(format!("schedule {expr:?} never runs again")))
        }
    }
}

// ------------------------------------------------------------------ create, list, update, delete

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWatchlistArgs {
    /// Your name for it (1-64 of A-Z a-z 0-9 - _ .); unique among your watchlists.
    pub name: String,
    /// The symbols (1-500), e.g. ["AAPL", "MSFT"].
    pub symbols: Vec<String>,
    /// Bar width scans read: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w (default 1d).
    pub timeframe: Option<String>,
    /// Agents the scans run (default all; see generate_signals).
    pub agents: Option<Vec<String>>,
    /// Combine agents by weighted vote (default true).
    pub use_consensus: Option<bool>,
    /// When scans run by themselves, in UTC: rate(15 minutes), rate(1 day) or cron(0 21 ? * MON-FRI *) (minutes hours day-of-month month day-of-week year). Default: only on demand (run_scan).
    pub schedule: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WatchlistOutput {
    pub watchlist: WatchlistView,
    /// False when an identical watchlist of that name existed (a repeat).
    pub created: bool,
}

pub async fn create_watchlist(
    ctx: &ToolContext,
    args: CreateWatchlistArgs,
) -> Result<(WatchlistOutput, String), ToolError> {
    check_name(&args.name)?;
    let symbols = parse_symbols(&args.symbols)?;
    let timeframe = Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?.to_string();
    check_agents(&args.agents)?;
    let now = Utc::now();
    let next_run_at = next_run(args.schedule.as_deref(), now)?;
    let watchlist = StoredWatchlist {
        name: args.name.clone(),
        symbols,
        timeframe,
        agents: args.agents,
        use_consensus: args.use_consensus.unwrap_or(true),
        schedule: args.schedule.map(|s| s.trim().to_string()),
        next_run_at,
        created_at: now,
        updated_at: now,
    };
    if let Some((existing, _)) = load(&ctx.stores, &ctx.subject, &args.name).await? {
        let same = existing.symbols == watchlist.symbols
            && existing.timeframe == watchlist.timeframe
            && existing.agents == watchlist.agents
            && existing.use_consensus == watchlist.use_consensus
            && existing.schedule == watchlist.schedule;
        if same {
            return Ok((
                WatchlistOutput {
                    watchlist: view(&existing),
                    created: false,
                },
                format!(
                    "Watchlist {} already existed as given; nothing changed.",
                    existing.name
                ),
            ));
        }
        return Err(ToolError::Conflict(format!(
            "you already have a watchlist {:?} with other settings; change it with update_watchlist or pick another name",
            args.name
        )));
    }
    let mut ops = vec![TxOp::Put {
        key: watchlist_key(&ctx.subject, &watchlist.name)?,
        value: encode(&watchlist)?,
        condition: WriteCondition::IfAbsent,
        expires_at: None,
    }];
    if let Some(at) = watchlist.next_run_at {
        ops.push(TxOp::Put {
            key: schedule_key(at, &ctx.subject, &watchlist.name)?,
            value: Vec::new(),
            condition: WriteCondition::Always,
            expires_at: None,
        });
    }
    ctx.stores.records.transact(ops).await.map_err(|e| {
        if e.is_conflict() {
            ToolError::Conflict(format!(
                "watchlist {:?} was created at the same time; repeat the call",
                watchlist.name
            ))
        } else {
            e.into()
        }
    })?;
    let summary = format!(
        "Created watchlist {} with {} symbols ({}); {}.",
        watchlist.name,
        watchlist.symbols.len(),
        watchlist.timeframe,
        match (&watchlist.schedule, watchlist.next_run_at) {
            (Some(s), Some(at)) => format!("scans {s}, next at {}", rfc3339(at)),
            _ => "scans on demand (run_scan)".into(),
        }
    );
    Ok((
        WatchlistOutput {
            watchlist: view(&watchlist),
            created: true,
        },
        summary,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListWatchlistsArgs {
    /// Watchlists per page (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListWatchlistsOutput {
    pub watchlists: Vec<WatchlistView>,
    pub next_cursor: Option<String>,
}

pub async fn list_watchlists(
    ctx: &ToolContext,
    args: ListWatchlistsArgs,
) -> Result<(ListWatchlistsOutput, String), ToolError> {
    let scope = RecordScope::new(Owner::user(&ctx.subject)?, WATCHLISTS)?;
    let page = ctx
        .stores
        .records
        .list(
            &scope,
            &ListQuery {
                id_prefix: String::new(),
                order: Order::Ascending,
                limit: Some(args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)),
                cursor: args.cursor,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => ToolError::invalid(m),
            other => other.into(),
        })?;
    let mut watchlists = Vec::new();
    for r in page.records {
        watchlists.push(view(&decode(&r.value)?));
    }
    let summary = format!(
        "{} watchlists: {}.",
        watchlists.len(),
        watchlists
            .iter()
            .map(|w| format!(
                "{} ({} symbols{})",
                w.name,
                w.symbols.len(),
                w.schedule
                    .as_deref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok((
        ListWatchlistsOutput {
            watchlists,
            next_cursor: page.next_cursor,
        },
        summary,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWatchlistArgs {
    /// The watchlist to change.
    pub name: String,
    /// Replace the symbols.
    pub symbols: Option<Vec<String>>,
    /// Symbols to add.
    #[serde(default)]
    pub add_symbols: Vec<String>,
    /// Symbols to remove.
    #[serde(default)]
    pub remove_symbols: Vec<String>,
    /// New bar width.
    pub timeframe: Option<String>,
    /// New agents (an empty list: all).
    pub agents: Option<Vec<String>>,
    /// Weighted vote on or off.
    pub use_consensus: Option<bool>,
    /// A new schedule (rate(...) or cron(...), UTC).
    pub schedule: Option<String>,
    /// Stop scheduled scans (run_scan still works).
    #[serde(default)]
    pub clear_schedule: bool,
}

async fn save(
    ctx: &ToolContext,
    old: &StoredWatchlist,
    new: Option<&StoredWatchlist>,
    version: u64,
) -> Result<(), ToolError> {
    let mut ops = Vec::new();
    match new {
        Some(w) => ops.push(TxOp::Put {
            key: watchlist_key(&ctx.subject, &w.name)?,
            value: encode(w)?,
            condition: WriteCondition::IfVersion(version),
            expires_at: None,
        }),
        None => {
            ops.push(TxOp::Delete {
                key: watchlist_key(&ctx.subject, &old.name)?,
                condition: WriteCondition::IfVersion(version),
            });
            ops.push(TxOp::Delete {
                key: state_key(&ctx.subject, &old.name)?,
                condition: WriteCondition::Always,
            });
        }
    }
    let old_at = old.next_run_at;
    let new_at = new.and_then(|w| w.next_run_at);
    if old_at != new_at {
        if let Some(at) = old_at {
            ops.push(TxOp::Delete {
                key: schedule_key(at, &ctx.subject, &old.name)?,
                condition: WriteCondition::Always,
            });
        }
        if let Some(at) = new_at {
            ops.push(TxOp::Put {
                key: schedule_key(at, &ctx.subject, &old.name)?,
                value: Vec::new(),
                condition: WriteCondition::Always,
                expires_at: None,
            });
        }
    }
    ctx.stores.records.transact(ops).await.map_err(|e| {
        if e.is_conflict() {
            ToolError::Conflict(format!(
                "watchlist {} changed while this call ran (a scheduled scan moved its next run, or another update); repeat the call",
                old.name
            ))
        } else {
            e.into()
        }
    })
}

pub async fn update_watchlist(
    ctx: &ToolContext,
    args: UpdateWatchlistArgs,
) -> Result<(WatchlistOutput, String), ToolError> {
    let (old, version) = load_or_not_found(ctx, &args.name).await?;
    let mut w = old.clone();
    if let Some(symbols) = &args.symbols {
        w.symbols = parse_symbols(symbols)?;
    }
    let mut symbols = w.symbols.clone();
    symbols.extend(args.add_symbols.iter().cloned());
    let removed: Vec<String> = args
        .remove_symbols
        .iter()
        .map(|s| Symbol::parse(s).map(|s| s.to_string()))
        .collect::<Result<_, _>>()?;
    symbols.retain(|s| !removed.contains(s));
    w.symbols = parse_symbols(&symbols)?;
    if let Some(tf) = &args.timeframe {
        w.timeframe = Timeframe::parse(tf)?.to_string();
    }
    if let Some(agents) = args.agents {
        w.agents = if agents.is_empty() {
            None
        } else {
            Some(agents)
        };
        check_agents(&w.agents)?;
    }
    if let Some(c) = args.use_consensus {
        w.use_consensus = c;
    }
    let now = Utc::now();
    if args.clear_schedule {
        w.schedule = None;
        w.next_run_at = None;
    } else if let Some(s) = args.schedule {
        w.next_run_at = next_run(Some(&s), now)?;
        w.schedule = Some(s.trim().to_string());
    }
    w.updated_at = now;
    save(ctx, &old, Some(&w), version).await?;
    let summary = format!(
        "Updated watchlist {}: {} symbols, {}, {}.",
        w.name,
        w.symbols.len(),
        w.timeframe,
        w.schedule
            .as_deref()
            .map_or_else(|| "on demand".to_string(), |s| format!("scans {s}"))
    );
    Ok((
        WatchlistOutput {
            watchlist: view(&w),
            created: false,
        },
        summary,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchlistNameArgs {
    /// The watchlist's name.
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeleteWatchlistOutput {
    pub name: String,
    /// False when there was no such watchlist.
    pub deleted: bool,
}

pub async fn delete_watchlist(
    ctx: &ToolContext,
    args: WatchlistNameArgs,
) -> Result<(DeleteWatchlistOutput, String), ToolError> {
    check_name(&args.name)?;
    let Some((old, version)) = load(&ctx.stores, &ctx.subject, &args.name).await? else {
        return Ok((
            DeleteWatchlistOutput {
                name: args.name.clone(),
                deleted: false,
            },
            format!("There is no watchlist {} of yours.", args.name),
        ));
    };
    save(ctx, &old, None, version).await?;
    Ok((
        DeleteWatchlistOutput {
            name: old.name.clone(),
            deleted: true,
        },
        format!(
            "Deleted watchlist {} and its schedule; its signal history stays for up to {HISTORY_DAYS} days.",
            old.name
        ),
    ))
}

// ------------------------------------------------------------------ scans

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SymbolResult {
    pub symbol: String,
    /// buy, sell or hold (absent when the symbol could not be scanned).
    pub action: Option<String>,
    pub confidence: Option<f64>,
    /// The bar the signal is for.
    pub bar_time: Option<String>,
    /// The previous scan's action.
    pub previous_action: Option<String>,
    /// True when the action differs from the previous scan's.
    pub changed: bool,
    /// Why the symbol could not be scanned (no bars, too few bars).
    pub error: Option<String>,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScanOutput {
    pub watchlist: String,
    pub run_id: String,
    /// What started it: on_demand or schedule.
    pub trigger: String,
    pub started_at: String,
    pub elapsed_ms: u64,
    pub scanned: usize,
    pub changed: usize,
    pub failed: usize,
    /// Counts of buy, sell and hold.
    pub actions: BTreeMap<String, usize>,
    pub results: Vec<SymbolResult>,
}

async fn scan_symbol(
    ctx: ToolContext,
    w: Arc<StoredWatchlist>,
    symbol: String,
) -> (
    String,
    Result<crate::signals::GenerateSignalsOutput, ToolError>,
) {
    let mut args = serde_json::json!({
        "symbol": symbol,
        "timeframe": w.timeframe,
        "use_consensus": w.use_consensus,
    });
    if let (Some(agents), Some(obj)) = (&w.agents, args.as_object_mut()) {
        obj.insert("agents".into(), serde_json::json!(agents));
    }
    let parsed: Result<crate::signals::GenerateSignalsArgs, ToolError> =
        serde_json::from_value(args)
            .map_err(|e| ToolError::Internal(format!("scan arguments: {e}")));
    let out = match parsed {
        Ok(args) => crate::signals::generate_signals(&ctx, args)
            .await
            .map(|(o, _)| o),
        Err(e) => Err(e),
    };
    (symbol, out)
}

/// Runs one scan of `subject`'s watchlist `name` as that user: stores the
/// results and publishes the signal events.
pub async fn run_scan_of(
    ctx: &ToolContext,
    name: &str,
    trigger: &str,
) -> Result<ScanOutput, ToolError> {
    let (w, _) = load_or_not_found(ctx, name).await?;
    let started = Utc::now();
    let clock = std::time::Instant::now();
    let run_id = format!(
        "{}-{}",
        started.timestamp_millis(),
        crate::digest::sha256_hex(crate::bus::new_event_id().as_bytes(), 4)
    );
    let state_key = state_key(&ctx.subject, &w.name)?;
    let state_record = ctx.stores.records.get(&state_key).await?;
    let mut state: ScanState = match &state_record {
        Some(r) => decode(&r.value)?,
        None => ScanState::default(),
    };
    let w = Arc::new(w);
    let limiter = Arc::new(tokio::sync::Semaphore::new(SCAN_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for symbol in w.symbols.iter().cloned() {
        let (ctx, w, limiter) = (ctx.clone(), w.clone(), limiter.clone());
        tasks.spawn(async move {
            let _permit = limiter.acquire_owned().await;
            scan_symbol(ctx, w, symbol).await
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (symbol, out) =
            joined.map_err(|e| ToolError::Internal(format!("a scan task failed: {e}")))?;
        outcomes.insert(symbol, out);
    }
    let mut results = Vec::new();
    let mut history_ops = Vec::new();
    let mut events = Vec::new();
    let expires = history_expiry(started);
    for symbol in &w.symbols {
        let Some(outcome) = outcomes.remove(symbol) else {
            continue;
        };
        let previous = state.last.get(symbol).map(|l| l.action.clone());
        match outcome {
            Ok(out) => {
                let action = format!("{:?}", out.action).to_lowercase();
                let changed = previous.as_ref().is_some_and(|p| *p != action);
                let result = SymbolResult {
                    symbol: symbol.clone(),
                    action: Some(action.clone()),
                    confidence: Some(out.confidence),
                    bar_time: Some(rfc3339(out.time)),
                    previous_action: previous.clone(),
                    changed,
                    error: None,
                    synthetic: out.metadata.synthetic,
                };
                history_ops.push(TxOp::Put {
                    key: RecordKey::new(
                        Owner::user(&ctx.subject)?,
                        HISTORY,
                        &format!(
                            "{}#{symbol}#{:013}",
                            w.name,
                            out.time.timestamp_millis().max(0)
                        ),
                    )?,
                    value: encode(&serde_json::json!({
                        "result": result,
                        "run_id": run_id,
                        "timeframe": w.timeframe,
                        "votes": out.metadata.votes,
                        "scanned_at": rfc3339(started),
                    }))?,
                    condition: WriteCondition::Always,
                    expires_at: expires,
                });
                let data = serde_json::json!({
                    "symbol": symbol,
                    "timeframe": w.timeframe,
                    "watchlist": w.name,
                    "run_id": run_id,
                    "action": action,
                    "previous_action": previous,
                    "confidence": out.confidence,
                    "bar_time": rfc3339(out.time),
                    "synthetic": out.metadata.synthetic,
                });
                let id = |kind: &str| {
                    format!(
                        "{kind}-{}",
                        crate::digest::sha256_hex(
                            format!("{}\n{}\n{run_id}\n{symbol}", ctx.subject, w.name).as_bytes(),
                            16
                        )
                    )
                };
                events.push(
                    Event::new(
                        id("generated"),
                        "goldensignals/scan",
                        EventType::SignalGenerated,
                        started,
                        Some(symbol.clone()),
                        data.clone(),
                    )
                    .owned_by(&ctx.subject),
                );
                // The pattern agents' findings on the newest bars, once per
                // bar (the id leaves out the run).
                for finding in out
                    .metadata
                    .agent_breakdown
                    .iter()
                    .filter_map(|o| o.signal())
                {
                    if !matches!(finding.agent, "candlestick" | "chart_pattern")
                        || finding.action == gs_signals::Action::Hold
                    {
                        continue;
                    }
                    let pattern_id = format!(
                        "pattern-{}",
                        crate::digest::sha256_hex(
                            format!(
                                "{}\n{}\n{symbol}\n{}\n{}",
                                ctx.subject,
                                w.name,
                                finding.agent,
                                out.time.timestamp()
                            )
                            .as_bytes(),
                            16
                        )
                    );
                    events.push(
                        Event::new(
                            pattern_id,
                            "goldensignals/scan",
                            EventType::PatternDetected,
                            started,
                            Some(symbol.clone()),
                            serde_json::json!({
                                "symbol": symbol,
                                "timeframe": w.timeframe,
                                "watchlist": w.name,
                                "agent": finding.agent,
                                "action": format!("{:?}", finding.action).to_lowercase(),
                                "confidence": finding.confidence,
                                "reasons": finding.reasons,
                                "bar_time": rfc3339(out.time),
                                "synthetic": out.metadata.synthetic,
                            }),
                        )
                        .owned_by(&ctx.subject),
                    );
                }
                if changed {
                    events.push(
                        Event::new(
                            id("changed"),
                            "goldensignals/scan",
                            EventType::SignalChanged,
                            started,
                            Some(symbol.clone()),
                            data,
                        )
                        .owned_by(&ctx.subject),
                    );
                }
                state.last.insert(
                    symbol.clone(),
                    LastSignal {
                        action,
                        confidence: out.confidence,
                        bar_time: out.time,
                    },
                );
                results.push(result);
            }
            Err(e) => results.push(SymbolResult {
                symbol: symbol.clone(),
                action: None,
                confidence: None,
                bar_time: None,
                previous_action: previous,
                changed: false,
                error: Some(e.to_string().chars().take(200).collect()),
                synthetic: false,
            }),
        }
    }
    for chunk in history_ops.chunks(25) {
        ctx.stores.records.transact(chunk.to_vec()).await?;
    }
    state.last_run_at = Some(started);
    state.last.retain(|s, _| w.symbols.contains(s));
    let elapsed_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut actions = BTreeMap::new();
    for r in &results {
        if let Some(a) = &r.action {
            let n = actions.entry(a.clone()).or_insert(0usize);
            *n = n.saturating_add(1);
        }
    }
    let output = ScanOutput {
        watchlist: w.name.clone(),
        run_id: run_id.clone(),
        trigger: trigger.to_string(),
        started_at: rfc3339(started),
        elapsed_ms,
        scanned: results.iter().filter(|r| r.action.is_some()).count(),
        changed: results.iter().filter(|r| r.changed).count(),
        failed: results.iter().filter(|r| r.error.is_some()).count(),
        actions,
        results,
    };
    // Published before the state moves on: if publishing fails, the
    // scan run again compares against the same previous actions.
    for chunk in events.chunks(gs_domain::bus::MAX_PUBLISH_BATCH) {
        crate::bus::publish(&ctx.stores, chunk).await.map_err(|e| {
            ToolError::Store(StoreError::Unavailable(format!(
                "the scan's results were stored but its signal events were not all published ({e}); run the scan again"
            )))
        })?;
    }
    let owner = Owner::user(&ctx.subject)?;
    ctx.stores
        .records
        .transact(vec![
            TxOp::Put {
                key: state_key,
                value: encode(&state)?,
                condition: WriteCondition::Always,
                expires_at: None,
            },
            TxOp::Put {
                key: RecordKey::new(
                    owner,
                    RUNS,
                    &format!("{}#{:013}", w.name, started.timestamp_millis().max(0)),
                )?,
                value: encode(&output)?,
                condition: WriteCondition::Always,
                expires_at: expires,
            },
        ])
        .await?;
    Ok(output)
}

fn scan_summary(out: &ScanOutput) -> String {
    let changes: Vec<String> = out
        .results
        .iter()
        .filter(|r| r.changed)
        .take(10)
        .map(|r| {
            format!(
                "{} {}→{}",
                r.symbol,
                r.previous_action.as_deref().unwrap_or("?"),
                r.action.as_deref().unwrap_or("?")
            )
        })
        .collect();
    format!(
        "Scanned {} of {} symbols of {} in {} ms: {}; {} changed{}{}.",
        out.scanned,
        out.results.len(),
        out.watchlist,
        out.elapsed_ms,
        out.actions
            .iter()
            .map(|(a, n)| format!("{n} {a}"))
            .collect::<Vec<_>>()
            .join(", "),
        out.changed,
        if changes.is_empty() {
            String::new()
        } else {
            format!(" ({})", changes.join(", "))
        },
        if out.failed > 0 {
            format!("; {} could not be scanned", out.failed)
        } else {
            String::new()
        }
    )
}

pub async fn run_scan(
    ctx: &ToolContext,
    args: WatchlistNameArgs,
) -> Result<(ScanOutput, String), ToolError> {
    let out = run_scan_of(ctx, &args.name, "on_demand").await?;
    let summary = scan_summary(&out);
    Ok((out, summary))
}

/// A scan the scheduler ran.
#[derive(Debug)]
pub struct ScheduledRun {
    pub subject: String,
    pub watchlist: String,
    pub result: Result<ScanOutput, ToolError>,
}

/// Runs every scan due at `now` (at most 100 a call): each index entry is
/// claimed (deleted `IfVersion`) and the next run indexed before the scan
/// runs, so a scheduler that dies mid-scan does not repeat it and two
/// schedulers never run one scan twice.
pub async fn run_due_scans(
    stores: &Stores,
    now: DateTime<Utc>,
) -> Result<Vec<ScheduledRun>, ToolError> {
    let scope = RecordScope::new(Owner::system(), SCHEDULES)?;
    let page = stores
        .records
        .list(
            &scope,
            &ListQuery {
                id_prefix: String::new(),
                order: Order::Ascending,
                limit: Some(100),
                cursor: None,
            },
        )
        .await?;
    let mut runs = Vec::new();
    for record in page.records {
        // `{ms}#{subject}#{name}`: names have no `#`, subjects may.
        let Some((at, rest)) = record.id.split_once('#') else {
            continue;
        };
        let Some((subject, name)) = rest.rsplit_once('#') else {
            continue;
        };
        let Some(at) = at
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
        else {
            continue;
        };
        if at > now {
            break;
        }
        // Claim the entry, move the watchlist's next run and index it in
        // one transaction: either this scheduler runs the scan and the next
        // run is indexed, or nothing changed.
        let mut claimed = false;
        for _ in 0..3 {
            let Some((mut w, version)) = load(stores, subject, name).await? else {
                // Deleted: drop its stale entry.
                let _ = stores
                    .records
                    .delete(
                        &scope.key(&record.id)?,
                        WriteCondition::IfVersion(record.version),
                    )
                    .await;
                break;
            };
            if w.next_run_at != Some(at) {
                // Rescheduled meanwhile: its own entry stands; this one is stale.
                let _ = stores
                    .records
                    .delete(
                        &scope.key(&record.id)?,
                        WriteCondition::IfVersion(record.version),
                    )
                    .await;
                break;
            }
            w.next_run_at = w.schedule.as_deref().and_then(|expr| {
                Schedule::parse(expr)
                    .ok()
                    .and_then(|s| next_due(&s, at, now))
            });
            let mut ops = vec![
                TxOp::Delete {
                    key: scope.key(&record.id)?,
                    condition: WriteCondition::IfVersion(record.version),
                },
                TxOp::Put {
                    key: watchlist_key(subject, name)?,
                    value: encode(&w)?,
                    condition: WriteCondition::IfVersion(version),
                    expires_at: None,
                },
            ];
            if let Some(next) = w.next_run_at {
                ops.push(TxOp::Put {
                    key: schedule_key(next, subject, name)?,
                    value: Vec::new(),
                    condition: WriteCondition::Always,
                    expires_at: None,
                });
            }
            match stores.records.transact(ops).await {
                Ok(()) => {
                    claimed = true;
                    break;
                }
                // Op 0: another scheduler claimed it. Op 1: the watchlist
                // changed; read it again.
                Err(StoreError::TransactionConflict { op: 0, .. }) => break,
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !claimed {
            continue;
        }
        let ctx = crate::portfolio::local_context(
            stores,
            subject,
            &format!("scan-{name}-{}", at.timestamp_millis()),
        );
        let result = run_scan_of(&ctx, name, "schedule").await;
        runs.push(ScheduledRun {
            subject: subject.to_string(),
            watchlist: name.to_string(),
            result,
        });
    }
    Ok(runs)
}

// ------------------------------------------------------------------ history

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetSignalHistoryArgs {
    /// The watchlist whose scans to read.
    pub watchlist: String,
    /// One symbol's signals, newest bar first; without it, the scan runs newest first (each with every symbol's result).
    pub symbol: Option<String>,
    /// Entries per page (signals: default 50, at most 200; runs: at most 5, each with every symbol).
    pub limit: Option<usize>,
    /// next_cursor of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetSignalHistoryOutput {
    pub watchlist: String,
    /// A symbol's signals (with symbol), newest first.
    pub signals: Vec<serde_json::Value>,
    /// Scan runs (without symbol), newest first.
    pub runs: Vec<ScanOutput>,
    pub next_cursor: Option<String>,
}

pub async fn get_signal_history(
    ctx: &ToolContext,
    args: GetSignalHistoryArgs,
) -> Result<(GetSignalHistoryOutput, String), ToolError> {
    check_name(&args.watchlist)?;
    let owner = Owner::user(&ctx.subject)?;
    let symbol = args.symbol.as_deref().map(Symbol::parse).transpose()?;
    let (collection, prefix, max) = match &symbol {
        Some(s) => (HISTORY, format!("{}#{s}#", args.watchlist), MAX_LIMIT),
        None => (RUNS, format!("{}#", args.watchlist), 5),
    };
    let scope = RecordScope::new(owner, collection)?;
    let page = ctx
        .stores
        .records
        .list(
            &scope,
            &ListQuery {
                id_prefix: prefix,
                order: Order::Descending,
                limit: Some(args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, max)),
                // (runs default to the cap: 5)
                cursor: args.cursor,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => ToolError::invalid(m),
            other => other.into(),
        })?;
    let mut signals = Vec::new();
    let mut runs = Vec::new();
    for r in page.records {
        if symbol.is_some() {
            signals.push(decode::<serde_json::Value>(&r.value)?);
        } else {
            runs.push(decode::<ScanOutput>(&r.value)?);
        }
    }
    let summary = match &symbol {
        Some(s) => format!(
            "{} stored signals of {s} in {}{}.",
            signals.len(),
            args.watchlist,
            signals
                .first()
                .and_then(|v| v
                    .pointer("/result/action")
                    .and_then(serde_json::Value::as_str)
                    .map(|a| format!(
                        "; latest {a} on {}",
                        v.pointer("/result/bar_time")
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or("?")
                    )))
                .unwrap_or_default()
        ),
        None => format!(
            "{} scan runs of {}{}.",
            runs.len(),
            args.watchlist,
            runs.first()
                .map(|r| format!("; latest {}: {}", r.started_at, scan_summary(r)))
                .unwrap_or_default()
        ),
    };
    Ok((
        GetSignalHistoryOutput {
            watchlist: args.watchlist,
            signals,
            runs,
            next_cursor: page.next_cursor,
        },
        summary,
    ))
}

// ------------------------------------------------------------------ the tools

const WRITE: Annotations = Annotations {
    read_only: false,
    destructive: false,
    idempotent: true,
    open_world: false,
};

tool!(
    CreateWatchlist,
    "create_watchlist",
    "Create a watchlist",
    WRITE,
    CreateWatchlistArgs,
    WatchlistOutput,
    create_watchlist,
    "Creates a watchlist of yours: up to 500 symbols with the scan settings (timeframe, agents, consensus) and optionally a schedule (rate(15 minutes), cron(0 21 ? * MON-FRI *), UTC) on which a signal scan runs by itself. Each scan stores every symbol's signal (get_signal_history) and publishes signal.generated, and signal.changed where the action changed, which alert rules can watch. Repeating the same call changes nothing."
);

tool!(
    ListWatchlists,
    "list_watchlists",
    "List your watchlists",
    Annotations::READ_ONLY,
    ListWatchlistsArgs,
    ListWatchlistsOutput,
    list_watchlists,
    "Lists your watchlists with their symbols, scan settings, schedule and next scheduled run."
);

tool!(
    UpdateWatchlist,
    "update_watchlist",
    "Change a watchlist",
    WRITE,
    UpdateWatchlistArgs,
    WatchlistOutput,
    update_watchlist,
    "Changes one of your watchlists: replace, add or remove symbols, the timeframe, agents, consensus, or the schedule (clear_schedule stops scheduled scans)."
);

tool!(
    DeleteWatchlist,
    "delete_watchlist",
    "Delete a watchlist",
    Annotations {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    },
    WatchlistNameArgs,
    DeleteWatchlistOutput,
    delete_watchlist,
    "Deletes one of your watchlists and its schedule; its stored signals stay readable for up to 90 days."
);

tool!(
    RunScan,
    "run_scan",
    "Scan a watchlist now",
    Annotations {
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: false,
    },
    WatchlistNameArgs,
    ScanOutput,
    run_scan,
    "Runs a signal scan of one of your watchlists now: generate_signals on every symbol with the watchlist's settings, each result stored in the signal history, signal.generated published for each and signal.changed where the action differs from the previous scan. Returns every symbol's action, confidence and change."
);

tool!(
    GetSignalHistory,
    "get_signal_history",
    "Stored scan signals",
    Annotations::READ_ONLY,
    GetSignalHistoryArgs,
    GetSignalHistoryOutput,
    get_signal_history,
    "Reads the stored results of a watchlist's scans (kept 90 days): with symbol, that symbol's signals newest bar first (action, confidence, previous action, votes); without, the scan runs newest first with every symbol's result. Paged."
);
