//! The recent-event log: the `event-log` consumer writes every event it
//! receives (7 days, under its owner: the user it belongs to, or the system
//! for market-wide events), and `get_events` (the `databus://{type}`
//! resources) reads the caller's own events merged with the market's,
//! newest first, cursor-paged.
//!
//! Records of collection `events`, each event twice in one transaction:
//! `all#{time ms, 13 digits}#{event id}` and
//! `type#{type}#{time ms}#{event id}`, so both listings are one key range.
//! A repeat of the same event rewrites the same two records.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use gs_domain::bus::{Event, EventType};
use gs_domain::{ListQuery, Order, Owner, RecordScope, StoreError, TxOp, WriteCondition};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Attempt, Consumer, EVENT_LOG, HandlerError};
use crate::context::{Stores, ToolContext};
use crate::error::ToolError;
use crate::registry::{Annotations, Tool};

pub const COLLECTION: &str = "events";
/// How long the log keeps an event.
pub const LOG_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

/// The `event-log` consumer.
#[derive(Debug)]
pub struct EventLog;

fn owner_of(event: &Event) -> Result<Owner, StoreError> {
    event
        .owner
        .as_deref()
        .map_or_else(|| Ok(Owner::system()), Owner::user)
}

/// `{time ms, 13 digits}#{id}`: the position of an event in a listing.
fn position(event: &Event) -> String {
    format!("{:013}#{}", event.time.timestamp_millis().max(0), event.id)
}

fn prefix(kind: Option<EventType>) -> String {
    kind.map_or_else(|| "all#".to_string(), |t| format!("type#{}#", t.as_str()))
}

/// Writes `event` to the log of its owner.
pub async fn record(stores: &Stores, event: &Event) -> Result<(), StoreError> {
    let scope = RecordScope::new(owner_of(event)?, COLLECTION)?;
    let value = event.encode()?;
    let expires = event
        .time
        .max(Utc::now())
        .checked_add_signed(chrono::Duration::from_std(LOG_TTL).unwrap_or_default());
    let pos = position(event);
    let put = |id: String| -> Result<TxOp, StoreError> {
        Ok(TxOp::Put {
            key: scope.key(&id)?,
            value: value.clone(),
            condition: WriteCondition::Always,
            expires_at: expires,
        })
    };
    stores
        .records
        .transact(vec![
            put(format!("{}{pos}", prefix(None)))?,
            put(format!("{}{pos}", prefix(Some(event.kind))))?,
        ])
        .await
}

#[async_trait]
impl Consumer for EventLog {
    fn name(&self) -> &'static str {
        EVENT_LOG
    }

    async fn handle(&self, stores: &Stores, event: &Event, _: Attempt) -> Result<(), HandlerError> {
        record(stores, event).await.map_err(HandlerError::from)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetEventsArgs {
    /// Only events of this type: bars.updated, signal.generated, signal.changed, pattern.detected, alert.triggered, alert.delivered or alert.escalated (default: every type).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Include market-wide events (new bars) besides your own (default true).
    #[serde(default = "yes")]
    pub include_market: bool,
    /// Events per page, newest first (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page.
    pub cursor: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    /// RFC 3339, milliseconds.
    pub time: String,
    /// What the event is about (a symbol, an alert id).
    pub subject: Option<String>,
    /// True for your own events, false for market-wide ones.
    pub yours: bool,
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetEventsOutput {
    /// Newest first.
    pub events: Vec<EventView>,
    /// Pass as cursor for older events; absent when there are none.
    pub next_cursor: Option<String>,
    /// How long events stay listed.
    pub retention_days: u64,
}

fn parse_kind(kind: Option<&str>) -> Result<Option<EventType>, ToolError> {
    kind.map(|name| {
        EventType::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            ToolError::invalid(format!(
                "unknown event type {name:?}; use one of {}",
                known.join(", ")
            ))
        })
    })
    .transpose()
}

/// A cursor is the position of the last event shown: `e1:{time}#{id}`.
fn parse_cursor(cursor: &str) -> Result<String, ToolError> {
    cursor
        .strip_prefix("e1:")
        .filter(|p| {
            p.split_once('#').is_some_and(|(t, id)| {
                t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty()
            })
        })
        .map(str::to_string)
        .ok_or_else(|| {
            ToolError::invalid(format!(
                "cursor {cursor:?} is not a next_cursor of get_events; start again without a cursor"
            ))
        })
}

/// One owner's events older than `after` (a position), newest first.
async fn page_of(
    stores: &Stores,
    owner: Owner,
    kind: Option<EventType>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Event, bool)>, ToolError> {
    let yours = !owner.is_system();
    let scope = RecordScope::new(owner, COLLECTION)?;
    let prefix = prefix(kind);
    let query = ListQuery {
        id_prefix: prefix.clone(),
        order: Order::Descending,
        limit: Some(limit),
        cursor: after.map(|p| gs_domain::list_cursor(Order::Descending, &format!("{prefix}{p}"))),
    };
    let mut out = Vec::new();
    let mut query = query;
    // Pages may come back short (expired records); read until `limit` or
    // the end.
    loop {
        let page = stores.records.list(&scope, &query).await?;
        for record in page.records {
            let event = Event::decode(&record.value)?;
            let pos = record
                .id
                .strip_prefix(prefix.as_str())
                .unwrap_or(&record.id)
                .to_string();
            out.push((pos, event, yours));
        }
        match page.next_cursor {
            Some(next) if out.len() < limit => query.cursor = Some(next),
            _ => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

pub async fn get_events(
    ctx: &ToolContext,
    args: GetEventsArgs,
) -> Result<(GetEventsOutput, String), ToolError> {
    let kind = parse_kind(args.kind.as_deref())?;
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let after = args.cursor.as_deref().map(parse_cursor).transpose()?;
    let owner = Owner::user(&ctx.subject)?;
    // One page more than asked tells whether there is a next page.
    let want = limit.saturating_add(1);
    let mut merged = page_of(&ctx.stores, owner, kind, after.as_deref(), want).await?;
    if args.include_market {
        merged.extend(page_of(&ctx.stores, Owner::system(), kind, after.as_deref(), want).await?);
    }
    merged.sort_by(|a, b| b.0.cmp(&a.0));
    merged.dedup_by(|a, b| a.0 == b.0);
    let more = merged.len() > limit;
    merged.truncate(limit);
    let next_cursor = if more {
        merged.last().map(|(pos, _, _)| format!("e1:{pos}"))
    } else {
        None
    };
    let events: Vec<EventView> = merged
        .into_iter()
        .map(|(_, e, yours)| EventView {
            id: e.id,
            kind: e.kind.as_str().to_string(),
            source: e.source,
            time: e.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            subject: e.subject,
            yours,
            data: e.data,
        })
        .collect();
    let summary = match (events.first(), events.last()) {
        (Some(newest), Some(oldest)) => format!(
            "{} {}events, newest {} ({} {}), oldest {}{}.",
            events.len(),
            kind.map(|k| format!("{k} ")).unwrap_or_default(),
            newest.time,
            newest.kind,
            newest.subject.as_deref().unwrap_or("-"),
            oldest.time,
            if next_cursor.is_some() {
                "; older ones on the next page"
            } else {
                ""
            }
        ),
        _ => format!(
            "No {}events in the last {} days.",
            kind.map(|k| format!("{k} ")).unwrap_or_default(),
            LOG_TTL.as_secs() / 86_400
        ),
    };
    Ok((
        GetEventsOutput {
            events,
            next_cursor,
            retention_days: LOG_TTL.as_secs() / 86_400,
        },
        summary,
    ))
}

/// `get_events` of the `alerts` server.
#[derive(Debug)]
pub struct GetEvents;

impl Tool for GetEvents {
    const NAME: &'static str = "get_events";
    const SERVER: &'static str = "alerts";
    const TITLE: &'static str = "Recent data-bus events";
    const DESCRIPTION: &'static str = "Lists recent events of the data bus, newest first: new bars (bars.updated), scan signals (signal.generated, signal.changed), patterns (pattern.detected) and alerts (alert.triggered, alert.delivered, alert.escalated). Shows your own events and, unless include_market is false, market-wide ones; filter by type; page with next_cursor. Events are kept 7 days.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetEventsArgs;
    type Output = GetEventsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        get_events(&ctx, args).await
    }
}
