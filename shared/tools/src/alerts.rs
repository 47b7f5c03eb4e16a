//! The `alerts` server: rules on a symbol's bars or on the scans' signals,
//! evaluated by the `alerts` bus consumer on `bars.updated` and `signal.*`
//! events, delivered by the `notifier` consumer (an in-app inbox, and
//! webhooks signed as Standard Webhooks), with the history, acknowledgement
//! and the recent-event log (`get_events`, in `bus::log`).
//!
//! Records (owner: the user unless marked):
//! - `alert-rules/{rule id}`: the rule, its state and how far it has read
//!   its series (`seen_until`: it never evaluates a bar at or before it).
//!   The id is derived from the owner and the idempotency key.
//! - `alert-rules-by-symbol/{SYMBOL}#{subject}#{rule id}` (system): the
//!   index the evaluator reads on a symbol's events; written and deleted in
//!   the same transaction as the rule.
//! - `alert-secrets/{url digest}`: the secret of one webhook URL of the
//!   user (shared by their rules that post to it), sealed by the field
//!   cipher (context `alert-secrets/{subject}/{url digest}`, field
//!   `webhook_secret`).
//! - `alerts/{bar time ms, 13 digits}-{rule id}[-{event}]`: a firing, put
//!   `IfAbsent`, so a rule fires at most once per bar however often the
//!   event comes; its deliveries, attempts and acknowledgement.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use gs_crypto::FieldContext;
use gs_domain::bus::{Event, EventType};
use gs_domain::{
    BarColumns, BarQuery, ListQuery, Order, Owner, RecordKey, RecordScope, SeriesKey, StoreError,
    Symbol, Timeframe, TxOp, WriteCondition,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::bus::{self, Attempt, Consumer, HandlerError};
use crate::context::{Stores, ToolContext};
use crate::error::ToolError;
use crate::registry::{Annotations, tool};

pub mod condition;
pub mod demo;
pub mod webhook;

pub use condition::{Comparison, Condition, Direction};

pub const SERVER: &str = "alerts";
const RULES: &str = "alert-rules";
const BY_SYMBOL: &str = "alert-rules-by-symbol";
const SECRETS: &str = "alert-secrets";
const ALERTS: &str = "alerts";
const MAX_CHANNELS: usize = 5;
const MAX_NAME_CHARS: usize = 100;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
/// Most new bars one evaluation looks at (the newest ones): a long import
/// does not fire on its history.
pub const MAX_NEW_BARS: usize = 50;
/// Bars an evaluation reads at most (the condition's lookback plus new bars).
const MAX_READ_BARS: usize = 1_000;
/// Pages of 200 a filtered listing or a bulk acknowledgement reads per call.
const MAX_SCAN_PAGES: usize = 10;
/// Most rules a user may have.
pub const MAX_RULES: usize = 200;

// ------------------------------------------------------------------ records

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Fire the first time, then the rule is done.
    Once,
    /// Fire at most once per bar (the default).
    OncePerBar,
    /// Fire on every event that meets the condition, even on the same bar.
    EveryTime,
}

/// Where a firing goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Channel {
    /// The in-app inbox (get_alert_history); always on.
    Inbox,
    /// An HTTPS POST signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature headers) with the rule's secret, retried with backoff.
    Webhook {
        /// https URL of the receiver.
        url: String,
    },
}

/// One step of an escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// Minutes after the firing (first step) or after the previous step, 1-1440.
    pub after_minutes: u64,
    /// Where this step notifies (webhooks are signed with the rule's secret).
    pub channels: Vec<Channel>,
}

/// What happens while a firing stays unacknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// The steps in order (1-5).
    pub steps: Vec<EscalationStep>,
    /// How many more times to go through the steps after the last one (0-3, default 0).
    #[serde(default)]
    pub repeat: u32,
}

impl Escalation {
    fn check(&self) -> Result<(), ToolError> {
        if self.steps.is_empty() || self.steps.len() > 5 {
            return Err(ToolError::invalid("an escalation has 1-5 steps"));
        }
        if self.repeat > 3 {
            return Err(ToolError::invalid("an escalation repeats at most 3 times"));
        }
        for step in &self.steps {
            if !(1..=1440).contains(&step.after_minutes) {
                return Err(ToolError::invalid("after_minutes is 1-1440"));
            }
            if step.channels.is_empty() || step.channels.len() > MAX_CHANNELS {
                return Err(ToolError::invalid(format!(
                    "an escalation step names 1-{MAX_CHANNELS} channels"
                )));
            }
            if step
                .channels
                .iter()
                .filter(|c| matches!(c, Channel::Webhook { .. }))
                .count()
                > 1
            {
                return Err(ToolError::invalid(
                    "an escalation step has at most one webhook",
                ));
            }
            for c in &step.channels {
                if let Channel::Webhook { url } = c {
                    webhook::check_url(url)?;
                }
            }
        }
        Ok(())
    }

    /// The step after `(round, step)`, with its delay.
    fn next(&self, round: u32, step: usize) -> Option<(u32, usize, u64)> {
        if let Some(s) = self.steps.get(step.saturating_add(1)) {
            return Some((round, step.saturating_add(1), s.after_minutes));
        }
        if round < self.repeat {
            return self
                .steps
                .first()
                .map(|s| (round.saturating_add(1), 0, s.after_minutes));
        }
        None
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredRule {
    id: String,
    name: String,
    symbol: String,
    timeframe: String,
    condition: Condition,
    frequency: Frequency,
    cooldown_secs: u64,
    expires_at: Option<DateTime<Utc>>,
    channels: Vec<Channel>,
    paused: bool,
    /// A `once` rule that has fired.
    done: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Bars at or before this time have been evaluated (or predate the rule).
    seen_until: Option<DateTime<Utc>>,
    last_fired_at: Option<DateTime<Utc>>,
    fired: u64,
    /// Digest of the create call's arguments, to tell a repeat from a clash.
    fingerprint: String,
    #[serde(default)]
    escalation: Option<Escalation>,
    /// With no bars seen yet: the earliest bar time evaluated (a bar before
    /// the rule was created or resumed is history, not news).
    #[serde(default)]
    not_before: Option<DateTime<Utc>>,
    /// Seconds a webhook notification waits so firings of the rule's owner
    /// to the same URL go out as one.
    #[serde(default)]
    group_seconds: u64,
}

impl StoredRule {
    /// Every webhook URL of the rule (channels, then escalation steps), once.
    fn webhook_urls(&self) -> Vec<String> {
        let steps = self
            .escalation
            .iter()
            .flat_map(|e| e.steps.iter())
            .flat_map(|s| s.channels.iter());
        let mut urls: Vec<String> = Vec::new();
        for c in self.channels.iter().chain(steps) {
            if let Channel::Webhook { url } = c
                && !urls.contains(url)
            {
                urls.push(url.clone());
            }
        }
        urls
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// A silence matched when it fired: nothing was sent.
    Silenced,
    /// The alert was acknowledged before this escalation notification went out.
    Cancelled,
    /// Retries are used up; the event is in the notifier's dead-letter queue.
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryView {
    /// inbox or webhook.
    pub channel: String,
    /// The webhook's URL (absent for the inbox).
    pub url: Option<String>,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// What the last failed attempt got.
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    /// alert.triggered, or alert.escalated for an escalation step's notification.
    #[serde(default)]
    pub kind: String,
    /// The webhook-id header of this notification (the same across its retries).
    #[serde(default)]
    pub message_id: String,
    /// Which escalation step sent it (e.g. "step 2 of 2, round 1").
    #[serde(default)]
    pub step: Option<String>,
    /// The grouped notification that carries it (its webhook-id), when grouping put it in another alert's notification.
    #[serde(default)]
    pub claimed_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Triggered,
    Acknowledged,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredAlert {
    id: String,
    rule_id: String,
    rule_name: String,
    symbol: String,
    timeframe: String,
    /// The bar (or signal) the rule fired on.
    bar_time: DateTime<Utc>,
    fired_at: DateTime<Utc>,
    message: String,
    values: BTreeMap<String, f64>,
    state: AlertState,
    acknowledged_at: Option<DateTime<Utc>>,
    deliveries: Vec<DeliveryView>,
    /// The event that made it fire.
    cause: String,
    /// Escalation steps taken.
    #[serde(default)]
    escalations: u32,
    /// The silence that muted it.
    #[serde(default)]
    silenced_by: Option<String>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ToolError> {
    serde_json::to_vec(value)
        .map_err(|e| ToolError::Internal(format!("cannot encode a record: {e}")))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("an alerts record: {e}")))
}

/// The id of the rule `subject` creates with `idempotency_key`.
pub fn rule_id(subject: &str, idempotency_key: &str) -> String {
    format!(
        "ar_{}",
        crate::digest::sha256_hex(format!("{subject}\n{idempotency_key}").as_bytes(), 12)
    )
}

/// The id of the silence `subject` creates with `idempotency_key`.
pub fn silence_id(subject: &str, idempotency_key: &str) -> String {
    format!(
        "si_{}",
        crate::digest::sha256_hex(format!("{subject}\n{idempotency_key}").as_bytes(), 12)
    )
}

fn rule_key(subject: &str, id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, RULES, id)
}

fn index_key(symbol: &str, subject: &str, id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(
        Owner::system(),
        BY_SYMBOL,
        &format!("{symbol}#{subject}#{id}"),
    )
}

/// Secrets are per webhook URL of a user: every rule of theirs that posts
/// to one URL signs with its one secret (so a grouped notification verifies
/// with it too).
fn url_id(url: &str) -> String {
    crate::digest::sha256_hex(url.as_bytes(), 16)
}

fn secret_key(subject: &str, url: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, SECRETS, &url_id(url))
}

fn secret_context(subject: &str, url: &str) -> FieldContext {
    FieldContext::new(
        "records",
        &format!("{SECRETS}/{subject}/{}", url_id(url)),
        "webhook_secret",
    )
}

/// A webhook URL and the secret its deliveries are signed with.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookSecret {
    pub url: String,
    /// whsec_...: verify each delivery's webhook-signature with it (any Standard Webhooks library).
    pub secret: String,
}

/// The secret of each URL, made (and stored sealed) where there is none.
async fn ensure_secrets(
    ctx: &ToolContext,
    urls: &[String],
) -> Result<Vec<WebhookSecret>, ToolError> {
    let mut out = Vec::new();
    for url in urls {
        let key = secret_key(&ctx.subject, url)?;
        let opened = open_secret(&ctx.stores, &ctx.subject, url)
            .await
            .map_err(|e| ToolError::Internal(e.to_string()))?;
        let secret = match opened {
            Some(s) => s,
            None => {
                let fresh = webhook::new_secret()?;
                let sealed = seal_secret(ctx, url, &fresh).await?;
                match ctx
                    .stores
                    .records
                    .put(&key, &sealed, WriteCondition::IfAbsent, None)
                    .await
                {
                    Ok(_) => fresh,
                    // Made at the same time by another call: use that one.
                    Err(StoreError::Conflict(_)) => open_secret(&ctx.stores, &ctx.subject, url)
                        .await
                        .map_err(|e| ToolError::Internal(e.to_string()))?
                        .ok_or_else(|| {
                            ToolError::Conflict(
                                "a webhook secret changed meanwhile; repeat the call".into(),
                            )
                        })?,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        out.push(WebhookSecret {
            url: url.clone(),
            secret: secret.to_string(),
        });
    }
    Ok(out)
}

fn alert_key(subject: &str, id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, ALERTS, id)
}

async fn load_rule(
    stores: &Stores,
    subject: &str,
    id: &str,
) -> Result<Option<(StoredRule, u64)>, StoreError> {
    match stores.records.get(&rule_key(subject, id)?).await? {
        Some(r) => Ok(Some((decode(&r.value)?, r.version))),
        None => Ok(None),
    }
}

async fn rule_or_not_found(ctx: &ToolContext, id: &str) -> Result<(StoredRule, u64), ToolError> {
    load_rule(&ctx.stores, &ctx.subject, id)
        .await?
        .ok_or_else(|| {
            ToolError::NotFound(format!(
                "no alert rule {id:?} of yours; list_alert_rules shows your rules"
            ))
        })
}

/// The newest stored bar time of a series (`None`: no bars yet).
async fn newest_bar(
    stores: &Stores,
    symbol: &str,
    timeframe: &str,
) -> Result<Option<DateTime<Utc>>, ToolError> {
    let key = SeriesKey::new(Symbol::parse(symbol)?, Timeframe::parse(timeframe)?);
    let page = stores
        .bars
        .get_bars(
            &key,
            &BarQuery {
                limit: Some(1),
                order: Order::Descending,
                ..BarQuery::default()
            },
        )
        .await?;
    Ok(page.bars.last().map(gs_domain::Bar::time))
}

// ------------------------------------------------------------------ views

#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleView {
    pub rule_id: String,
    pub name: String,
    pub symbol: String,
    pub timeframe: String,
    pub condition: Condition,
    /// The condition in words.
    pub watches: String,
    pub frequency: Frequency,
    pub cooldown_minutes: u64,
    pub expires_at: Option<String>,
    pub channels: Vec<Channel>,
    /// active, paused, expired or done (a once rule that fired).
    pub state: String,
    pub created_at: String,
    /// Bars up to this time have been evaluated.
    pub seen_until: Option<String>,
    pub last_fired_at: Option<String>,
    pub times_fired: u64,
    /// Steps taken while a firing stays unacknowledged.
    pub escalation: Option<Escalation>,
    /// Seconds webhook notifications wait to go out grouped.
    pub group_seconds: u64,
}

fn state_of(rule: &StoredRule, now: DateTime<Utc>) -> &'static str {
    if rule.done {
        "done"
    } else if rule.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else if rule.paused {
        "paused"
    } else {
        "active"
    }
}

fn view(rule: &StoredRule) -> RuleView {
    RuleView {
        rule_id: rule.id.clone(),
        name: rule.name.clone(),
        symbol: rule.symbol.clone(),
        timeframe: rule.timeframe.clone(),
        condition: rule.condition.clone(),
        watches: rule.condition.describe(),
        frequency: rule.frequency,
        cooldown_minutes: rule.cooldown_secs / 60,
        expires_at: rule.expires_at.map(rfc3339),
        channels: rule.channels.clone(),
        state: state_of(rule, Utc::now()).to_string(),
        created_at: rfc3339(rule.created_at),
        seen_until: rule.seen_until.map(rfc3339),
        last_fired_at: rule.last_fired_at.map(rfc3339),
        times_fired: rule.fired,
        escalation: rule.escalation.clone(),
        group_seconds: rule.group_seconds,
    }
}

// ------------------------------------------------------------------ create

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlertRuleArgs {
    /// A name for the rule (1-100 characters).
    pub name: String,
    /// The symbol watched, e.g. AAPL.
    pub symbol: String,
    /// Bar width the rule evaluates: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w (default 1d).
    pub timeframe: Option<String>,
    /// What fires the rule.
    pub condition: Condition,
    /// once, once_per_bar (default) or every_time.
    pub frequency: Option<Frequency>,
    /// Minutes after a firing during which the rule stays quiet (default 0).
    #[serde(default)]
    pub cooldown_minutes: u64,
    /// When the rule stops (RFC 3339); default never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where firings go (at most 5, one webhook); the inbox always gets them. The result carries the signing secret of each webhook URL (one per URL of yours, shared by your rules that post to it).
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// Escalation while a firing stays unacknowledged: steps with a delay and channels, repeated repeat more times; acknowledge_alert stops it.
    pub escalation: Option<Escalation>,
    /// Seconds (0-300, default 0) a webhook notification waits so that your firings to the same URL in that window go out as one notification (a burst over many symbols).
    #[serde(default)]
    pub group_seconds: u64,
    /// Any string unique to this rule (1-200 characters): repeating the call with the same key returns the same rule instead of a second one.
    pub idempotency_key: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateAlertRuleOutput {
    pub rule: RuleView,
    /// False when the idempotency key had already made this rule.
    pub created: bool,
    /// The signing secret (whsec_...) of the rule's first webhook: verify each delivery's webhook-signature with it (any Standard Webhooks library). Absent without a webhook. Each of your webhook URLs has one secret, shared by every rule of yours that posts to it.
    pub webhook_secret: Option<String>,
    /// The secret of every webhook URL of the rule.
    pub webhook_secrets: Vec<WebhookSecret>,
}

fn check_common(name: &str, channels: &[Channel], cooldown_minutes: u64) -> Result<(), ToolError> {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ToolError::invalid(format!(
            "name must be 1-{MAX_NAME_CHARS} characters"
        )));
    }
    if channels.len() > MAX_CHANNELS {
        return Err(ToolError::invalid(format!(
            "at most {MAX_CHANNELS} channels per rule"
        )));
    }
    let webhooks = channels
        .iter()
        .filter(|c| matches!(c, Channel::Webhook { .. }))
        .count();
    if webhooks > 1 {
        return Err(ToolError::invalid("at most one webhook per rule"));
    }
    for c in channels {
        if let Channel::Webhook { url } = c {
            webhook::check_url(url)?;
        }
    }
    if cooldown_minutes > 366 * 24 * 60 {
        return Err(ToolError::invalid("cooldown_minutes may be at most a year"));
    }
    Ok(())
}

/// The inbox first, then the others once each.
fn normalise_channels(channels: Vec<Channel>) -> Vec<Channel> {
    let mut out = vec![Channel::Inbox];
    for c in channels {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

async fn seal_secret(ctx: &ToolContext, url: &str, secret: &str) -> Result<Vec<u8>, ToolError> {
    let cipher = ctx.stores.cipher.as_ref().ok_or_else(|| {
        ToolError::invalid(
            "webhooks need field encryption for their secrets, which this server has not configured; use the inbox channel",
        )
    })?;
    let sealed = cipher
        .encrypt(&secret_context(&ctx.subject, url), secret.as_bytes())
        .await
        .map_err(|e| ToolError::Internal(format!("cannot seal the webhook secret: {e}")))?;
    Ok(sealed)
}

async fn open_secret(
    stores: &Stores,
    subject: &str,
    url: &str,
) -> Result<Option<Zeroizing<String>>, HandlerError> {
    let Some(record) = stores.records.get(&secret_key(subject, url)?).await? else {
        return Ok(None);
    };
    let cipher = stores
        .cipher
        .as_ref()
        .ok_or_else(|| HandlerError::Retry("no field cipher to open the webhook secret".into()))?;
    let plain = cipher
        .decrypt(&secret_context(subject, url), &record.value)
        .await
        .map_err(|e| HandlerError::Retry(format!("cannot open the webhook secret: {e}")))?;
    let text = String::from_utf8(plain.to_vec())
        .map_err(|_| HandlerError::Poison("a webhook secret is not text".into()))?;
    Ok(Some(Zeroizing::new(text)))
}

pub async fn create_alert_rule(
    ctx: &ToolContext,
    args: CreateAlertRuleArgs,
) -> Result<(CreateAlertRuleOutput, String), ToolError> {
    let symbol = Symbol::parse(&args.symbol)?;
    let timeframe = Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?;
    let key_len = args.idempotency_key.chars().count();
    if key_len == 0 || key_len > 200 {
        return Err(ToolError::invalid(
            "idempotency_key must be 1-200 characters",
        ));
    }
    args.condition.check()?;
    check_common(&args.name, &args.channels, args.cooldown_minutes)?;
    if let Some(e) = &args.escalation {
        e.check()?;
    }
    if args.group_seconds > 300 {
        return Err(ToolError::invalid("group_seconds is 0-300"));
    }
    let channels = normalise_channels(args.channels);
    let frequency = args.frequency.unwrap_or(Frequency::OncePerBar);
    let fingerprint = crate::digest::sha256_hex(
        &encode(&(
            &args.name,
            symbol.as_str(),
            timeframe.to_string(),
            &args.condition,
            frequency,
            args.cooldown_minutes,
            args.expires_at,
            &channels,
            (&args.escalation, args.group_seconds),
        ))?,
        16,
    );
    let id = rule_id(&ctx.subject, &args.idempotency_key);
    // A repeat returns what the first call made.
    if let Some((existing, _)) = load_rule(&ctx.stores, &ctx.subject, &id).await? {
        if existing.fingerprint != fingerprint {
            return Err(ToolError::Conflict(format!(
                "idempotency_key {:?} already made rule {id} with other settings; use another key for another rule, or update_alert_rule to change it",
                args.idempotency_key
            )));
        }
        let secrets = ensure_secrets(ctx, &existing.webhook_urls()).await?;
        let summary = format!(
            "Alert rule {id} ({}) already existed; nothing changed.",
            existing.name
        );
        return Ok((
            CreateAlertRuleOutput {
                rule: view(&existing),
                created: false,
                webhook_secret: secrets.first().map(|s| s.secret.clone()),
                webhook_secrets: secrets,
            },
            summary,
        ));
    }
    let now = Utc::now();
    // Bar rules start after the newest stored bar; signal rules watch
    // signals from now on (a scan's signal is for a bar already stored).
    let seen_until = if args.condition.on_bars() {
        newest_bar(&ctx.stores, symbol.as_str(), timeframe.as_str()).await?
    } else {
        None
    };
    let rule = StoredRule {
        id: id.clone(),
        name: args.name.trim().to_string(),
        symbol: symbol.to_string(),
        timeframe: timeframe.to_string(),
        condition: args.condition,
        frequency,
        cooldown_secs: args.cooldown_minutes.saturating_mul(60),
        expires_at: args.expires_at,
        channels,
        paused: false,
        done: false,
        created_at: now,
        updated_at: now,
        seen_until,
        last_fired_at: None,
        fired: 0,
        fingerprint,
        escalation: args.escalation,
        group_seconds: args.group_seconds,
        not_before: now.checked_sub_signed(chrono::Duration::seconds(timeframe.seconds())),
    };
    let ops = vec![
        TxOp::Put {
            key: rule_key(&ctx.subject, &id)?,
            value: encode(&rule)?,
            condition: WriteCondition::IfAbsent,
            expires_at: None,
        },
        TxOp::Put {
            key: index_key(&rule.symbol, &ctx.subject, &id)?,
            value: Vec::new(),
            condition: WriteCondition::Always,
            expires_at: None,
        },
    ];
    let owned = ctx
        .stores
        .records
        .list(
            &RecordScope::new(Owner::user(&ctx.subject)?, RULES)?,
            &ListQuery {
                limit: Some(MAX_RULES),
                ..ListQuery::default()
            },
        )
        .await?;
    if owned.records.len() >= MAX_RULES {
        return Err(ToolError::invalid(format!(
            "you have {MAX_RULES} alert rules, the most one user may have; delete_alert_rule some first"
        )));
    }
    let secrets = ensure_secrets(ctx, &rule.webhook_urls()).await?;
    match ctx.stores.records.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.is_conflict() => {
            return Err(ToolError::Conflict(format!(
                "another call with idempotency_key {:?} created the rule at the same time; repeat this call to get it",
                args.idempotency_key
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let summary = format!(
        "Created alert rule {id} \"{}\" on {} {}: fires when {} ({:?}); delivers to {}.",
        rule.name,
        rule.symbol,
        rule.timeframe,
        rule.condition.describe(),
        rule.frequency,
        rule.channels
            .iter()
            .map(|c| match c {
                Channel::Inbox => "the inbox".to_string(),
                Channel::Webhook { url } => format!("webhook {url}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((
        CreateAlertRuleOutput {
            rule: view(&rule),
            created: true,
            webhook_secret: secrets.first().map(|s| s.secret.clone()),
            webhook_secrets: secrets,
        },
        summary,
    ))
}

// ------------------------------------------------------------------ list

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAlertRulesArgs {
    /// Only rules on this symbol.
    pub symbol: Option<String>,
    /// Rules per page (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListAlertRulesOutput {
    pub rules: Vec<RuleView>,
    pub next_cursor: Option<String>,
}

pub async fn list_alert_rules(
    ctx: &ToolContext,
    args: ListAlertRulesArgs,
) -> Result<(ListAlertRulesOutput, String), ToolError> {
    let symbol = args.symbol.as_deref().map(Symbol::parse).transpose()?;
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let scope = RecordScope::new(Owner::user(&ctx.subject)?, RULES)?;
    let mut query = ListQuery {
        id_prefix: String::new(),
        order: Order::Ascending,
        limit: Some(limit),
        cursor: args.cursor,
    };
    let mut rules = Vec::new();
    let mut pages = 0usize;
    let next_cursor = loop {
        let page = ctx
            .stores
            .records
            .list(&scope, &query)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) => ToolError::invalid(m),
                other => other.into(),
            })?;
        for r in page.records {
            let rule: StoredRule = decode(&r.value)?;
            if symbol.as_ref().is_none_or(|s| s.as_str() == rule.symbol) {
                rules.push(view(&rule));
            }
        }
        pages = pages.saturating_add(1);
        match page.next_cursor {
            Some(next) if rules.len() < limit && pages < MAX_SCAN_PAGES => {
                query.cursor = Some(next)
            }
            other => break other,
        }
    };
    let active = rules.iter().filter(|r| r.state == "active").count();
    let summary = format!(
        "{} alert rules ({active} active){}.",
        rules.len(),
        if next_cursor.is_some() {
            "; more on the next page"
        } else {
            ""
        }
    );
    Ok((ListAlertRulesOutput { rules, next_cursor }, summary))
}

// ------------------------------------------------------------------ update, pause, resume, delete

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlertRuleArgs {
    /// The rule to change.
    pub rule_id: String,
    /// A new name.
    pub name: Option<String>,
    /// A new condition (the symbol and timeframe stay: delete and create for another series).
    pub condition: Option<Condition>,
    /// once, once_per_bar or every_time.
    pub frequency: Option<Frequency>,
    /// New cooldown in minutes.
    pub cooldown_minutes: Option<u64>,
    /// New expiry (RFC 3339).
    pub expires_at: Option<DateTime<Utc>>,
    /// Remove the expiry.
    #[serde(default)]
    pub clear_expiry: bool,
    /// New channels (replaces the list; the inbox stays). A webhook URL new to the rule signs with that URL's secret (made if it has none), returned in this call's result.
    pub channels: Option<Vec<Channel>>,
    /// A new escalation policy.
    pub escalation: Option<Escalation>,
    /// Remove the escalation policy.
    #[serde(default)]
    pub clear_escalation: bool,
    /// New grouping window in seconds (0-300).
    pub group_seconds: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleOutput {
    pub rule: RuleView,
    /// The secret of the first webhook URL this call added to the rule (each of your URLs has one secret, shared by your rules that post to it).
    pub webhook_secret: Option<String>,
    /// The secrets of every webhook URL this call added.
    pub webhook_secrets: Vec<WebhookSecret>,
}

async fn save_rule(
    ctx: &ToolContext,
    rule: &StoredRule,
    version: u64,
    mut extra: Vec<TxOp>,
) -> Result<(), ToolError> {
    extra.insert(
        0,
        TxOp::Put {
            key: rule_key(&ctx.subject, &rule.id)?,
            value: encode(rule)?,
            condition: WriteCondition::IfVersion(version),
            expires_at: None,
        },
    );
    ctx.stores.records.transact(extra).await.map_err(|e| {
        if e.is_conflict() {
            ToolError::Conflict(format!(
                "rule {} changed while this call ran (it was evaluated or updated); repeat the call",
                rule.id
            ))
        } else {
            e.into()
        }
    })
}

pub async fn update_alert_rule(
    ctx: &ToolContext,
    args: UpdateAlertRuleArgs,
) -> Result<(RuleOutput, String), ToolError> {
    let (mut rule, version) = rule_or_not_found(ctx, &args.rule_id).await?;
    if let Some(name) = args.name {
        rule.name = name.trim().to_string();
    }
    if let Some(condition) = args.condition {
        condition.check()?;
        rule.condition = condition;
    }
    if let Some(f) = args.frequency {
        rule.frequency = f;
    }
    if let Some(c) = args.cooldown_minutes {
        rule.cooldown_secs = c.saturating_mul(60);
    }
    if args.clear_expiry {
        rule.expires_at = None;
    } else if let Some(e) = args.expires_at {
        rule.expires_at = Some(e);
    }
    let old_urls = rule.webhook_urls();
    if let Some(channels) = args.channels {
        check_common(&rule.name, &channels, rule.cooldown_secs / 60)?;
        rule.channels = normalise_channels(channels);
    }
    check_common(&rule.name, &[], rule.cooldown_secs / 60)?;
    if args.clear_escalation {
        rule.escalation = None;
    } else if let Some(e) = args.escalation {
        e.check()?;
        rule.escalation = Some(e);
    }
    if let Some(g) = args.group_seconds {
        if g > 300 {
            return Err(ToolError::invalid("group_seconds is 0-300"));
        }
        rule.group_seconds = g;
    }
    let added: Vec<String> = rule
        .webhook_urls()
        .into_iter()
        .filter(|u| !old_urls.contains(u))
        .collect();
    let secrets = ensure_secrets(ctx, &added).await?;
    let extra = Vec::new();
    rule.updated_at = Utc::now();
    save_rule(ctx, &rule, version, extra).await?;
    let summary = format!(
        "Updated alert rule {} ({}): {}.",
        rule.id,
        rule.name,
        rule.condition.describe()
    );
    Ok((
        RuleOutput {
            rule: view(&rule),
            webhook_secret: secrets.first().map(|s| s.secret.clone()),
            webhook_secrets: secrets,
        },
        summary,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIdArgs {
    /// The rule, as create_alert_rule or list_alert_rules gave it.
    pub rule_id: String,
}

async fn set_paused(
    ctx: &ToolContext,
    id: &str,
    paused: bool,
) -> Result<(RuleOutput, String), ToolError> {
    let (mut rule, version) = rule_or_not_found(ctx, id).await?;
    if rule.paused != paused {
        rule.paused = paused;
        if !paused && rule.condition.on_bars() {
            // Bars that came while it was paused are not evaluated.
            rule.seen_until = newest_bar(&ctx.stores, &rule.symbol, &rule.timeframe)
                .await?
                .max(rule.seen_until);
            let width = Timeframe::parse(&rule.timeframe).map_or(0, Timeframe::seconds);
            rule.not_before = Utc::now().checked_sub_signed(chrono::Duration::seconds(width));
        }
        rule.updated_at = Utc::now();
        save_rule(ctx, &rule, version, Vec::new()).await?;
    }
    let summary = if paused {
        format!(
            "Alert rule {} ({}) is paused; resume_alert_rule turns it back on.",
            rule.id, rule.name
        )
    } else {
        format!(
            "Alert rule {} ({}) is {}; it evaluates bars after {}.",
            rule.id,
            rule.name,
            state_of(&rule, Utc::now()),
            rule.seen_until.map_or_else(|| "now".to_string(), rfc3339)
        )
    };
    Ok((
        RuleOutput {
            rule: view(&rule),
            webhook_secret: None,
            webhook_secrets: Vec::new(),
        },
        summary,
    ))
}

pub async fn pause_alert_rule(
    ctx: &ToolContext,
    args: RuleIdArgs,
) -> Result<(RuleOutput, String), ToolError> {
    set_paused(ctx, &args.rule_id, true).await
}

pub async fn resume_alert_rule(
    ctx: &ToolContext,
    args: RuleIdArgs,
) -> Result<(RuleOutput, String), ToolError> {
    set_paused(ctx, &args.rule_id, false).await
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeleteAlertRuleOutput {
    pub rule_id: String,
    /// False when there was no such rule (already deleted).
    pub deleted: bool,
}

pub async fn delete_alert_rule(
    ctx: &ToolContext,
    args: RuleIdArgs,
) -> Result<(DeleteAlertRuleOutput, String), ToolError> {
    let Some((rule, version)) = load_rule(&ctx.stores, &ctx.subject, &args.rule_id).await? else {
        return Ok((
            DeleteAlertRuleOutput {
                rule_id: args.rule_id.clone(),
                deleted: false,
            },
            format!(
                "There is no alert rule {} of yours (already deleted?).",
                args.rule_id
            ),
        ));
    };
    ctx.stores
        .records
        .transact(vec![
            TxOp::Delete {
                key: rule_key(&ctx.subject, &rule.id)?,
                condition: WriteCondition::IfVersion(version),
            },
            TxOp::Delete {
                key: index_key(&rule.symbol, &ctx.subject, &rule.id)?,
                condition: WriteCondition::Always,
            },
        ])
        .await
        .map_err(|e| {
            if e.is_conflict() {
                ToolError::Conflict(format!(
                    "rule {} changed while it was being deleted; repeat the call",
                    rule.id
                ))
            } else {
                e.into()
            }
        })?;
    Ok((
        DeleteAlertRuleOutput {
            rule_id: rule.id.clone(),
            deleted: true,
        },
        format!(
            "Deleted alert rule {} ({}); its past alerts stay in the history.",
            rule.id, rule.name
        ),
    ))
}

// ------------------------------------------------------------------ history, acknowledge

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAlertHistoryArgs {
    /// Only alerts of this rule.
    pub rule_id: Option<String>,
    /// Only alerts in this state: triggered or acknowledged.
    pub state: Option<AlertState>,
    /// Alerts per page, newest bar first (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertView {
    pub alert_id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub symbol: String,
    pub timeframe: String,
    /// The bar (or signal) the rule fired on.
    pub bar_time: String,
    pub fired_at: String,
    pub message: String,
    pub values: BTreeMap<String, f64>,
    pub state: AlertState,
    pub acknowledged_at: Option<String>,
    /// One per channel, with attempts and the last error.
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetAlertHistoryOutput {
    pub alerts: Vec<AlertView>,
    pub next_cursor: Option<String>,
}

fn alert_view(a: StoredAlert) -> AlertView {
    AlertView {
        alert_id: a.id,
        rule_id: a.rule_id,
        rule_name: a.rule_name,
        symbol: a.symbol,
        timeframe: a.timeframe,
        bar_time: rfc3339(a.bar_time),
        fired_at: rfc3339(a.fired_at),
        message: a.message,
        values: a.values,
        state: a.state,
        acknowledged_at: a.acknowledged_at.map(rfc3339),
        deliveries: a.deliveries,
    }
}

pub async fn get_alert_history(
    ctx: &ToolContext,
    args: GetAlertHistoryArgs,
) -> Result<(GetAlertHistoryOutput, String), ToolError> {
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let scope = RecordScope::new(Owner::user(&ctx.subject)?, ALERTS)?;
    let mut query = ListQuery {
        id_prefix: String::new(),
        order: Order::Descending,
        limit: Some(limit),
        cursor: args.cursor,
    };
    let mut alerts = Vec::new();
    let mut pages = 0usize;
    let next_cursor = loop {
        let page = ctx
            .stores
            .records
            .list(&scope, &query)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) => ToolError::invalid(m),
                other => other.into(),
            })?;
        for r in page.records {
            let a: StoredAlert = decode(&r.value)?;
            if args.rule_id.as_ref().is_some_and(|id| *id != a.rule_id)
                || args.state.is_some_and(|s| s != a.state)
            {
                continue;
            }
            alerts.push(alert_view(a));
        }
        pages = pages.saturating_add(1);
        match page.next_cursor {
            Some(next) if alerts.len() < limit && pages < MAX_SCAN_PAGES => {
                query.cursor = Some(next)
            }
            other => break other,
        }
    };
    let open = alerts
        .iter()
        .filter(|a| a.state == AlertState::Triggered)
        .count();
    let failed = alerts
        .iter()
        .filter(|a| {
            a.deliveries
                .iter()
                .any(|d| d.status == DeliveryStatus::Failed)
        })
        .count();
    let summary = match alerts.first() {
        Some(newest) => format!(
            "{} alerts ({open} unacknowledged{}); newest: {} {} at {}: {}.",
            alerts.len(),
            if failed > 0 {
                format!(", {failed} with a failed delivery")
            } else {
                String::new()
            },
            newest.rule_name,
            newest.symbol,
            newest.bar_time,
            newest.message
        ),
        None => "No alerts.".to_string(),
    };
    Ok((
        GetAlertHistoryOutput {
            alerts,
            next_cursor,
        },
        summary,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeAlertArgs {
    /// One alert, as get_alert_history gave it (give exactly one of alert_id, rule_id and all).
    pub alert_id: Option<String>,
    /// Every unacknowledged alert of this rule.
    pub rule_id: Option<String>,
    /// Every unacknowledged alert of yours (the newest 200 at most per call).
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AcknowledgeAlertOutput {
    /// The alerts this call acknowledged.
    pub acknowledged: Vec<AlertView>,
    /// How many of the selected alerts were acknowledged already.
    pub already_acknowledged: usize,
}

/// Acknowledges one stored alert; false when it already was.
async fn acknowledge_one(
    ctx: &ToolContext,
    key: &RecordKey,
    version: u64,
    mut alert: StoredAlert,
) -> Result<Option<StoredAlert>, ToolError> {
    if alert.state == AlertState::Acknowledged {
        return Ok(None);
    }
    alert.state = AlertState::Acknowledged;
    alert.acknowledged_at = Some(Utc::now());
    // Escalation notifications not sent yet are cancelled with it.
    for d in &mut alert.deliveries {
        if d.status == DeliveryStatus::Pending && d.kind == "alert.escalated" {
            d.status = DeliveryStatus::Cancelled;
        }
    }
    ctx.stores
        .records
        .put(key, &encode(&alert)?, WriteCondition::IfVersion(version), None)
        .await
        .map_err(|e| {
            if e.is_conflict() {
                ToolError::Conflict(
                    "an alert changed (a delivery or escalation finished) while this call ran; repeat the call".into(),
                )
            } else {
                e.into()
            }
        })?;
    Ok(Some(alert))
}

pub async fn acknowledge_alert(
    ctx: &ToolContext,
    args: AcknowledgeAlertArgs,
) -> Result<(AcknowledgeAlertOutput, String), ToolError> {
    let selectors = usize::from(args.alert_id.is_some())
        .saturating_add(usize::from(args.rule_id.is_some()))
        .saturating_add(usize::from(args.all));
    if selectors != 1 {
        return Err(ToolError::invalid(
            "give exactly one of alert_id (one alert), rule_id (its rule's open alerts) and all: true",
        ));
    }
    let mut acknowledged = Vec::new();
    let mut already = 0usize;
    if let Some(id) = &args.alert_id {
        let key = alert_key(&ctx.subject, id)?;
        let record = ctx.stores.records.get(&key).await?.ok_or_else(|| {
            ToolError::NotFound(format!(
                "no alert {id:?} of yours; get_alert_history lists them"
            ))
        })?;
        match acknowledge_one(ctx, &key, record.version, decode(&record.value)?).await? {
            Some(a) => acknowledged.push(alert_view(a)),
            None => already = 1,
        }
    } else {
        let scope = RecordScope::new(Owner::user(&ctx.subject)?, ALERTS)?;
        let mut query = ListQuery {
            order: Order::Descending,
            limit: Some(MAX_LIMIT),
            ..ListQuery::default()
        };
        let mut records = Vec::new();
        for _ in 0..MAX_SCAN_PAGES {
            let page = ctx.stores.records.list(&scope, &query).await?;
            records.extend(page.records);
            match page.next_cursor {
                Some(next) => query.cursor = Some(next),
                None => break,
            }
        }
        for r in records {
            let alert: StoredAlert = decode(&r.value)?;
            if args.rule_id.as_ref().is_some_and(|id| *id != alert.rule_id) {
                continue;
            }
            if alert.state == AlertState::Acknowledged {
                already = already.saturating_add(usize::from(
                    args.rule_id.as_ref().is_none_or(|id| *id == alert.rule_id),
                ));
                continue;
            }
            match acknowledge_one(ctx, &scope.key(&r.id)?, r.version, alert).await? {
                Some(a) => acknowledged.push(alert_view(a)),
                None => already = already.saturating_add(1),
            }
        }
    }
    let summary = match (acknowledged.as_slice(), &args.alert_id) {
        ([one], Some(_)) => format!(
            "Alert {} ({} {}) is acknowledged; its escalation stops.",
            one.alert_id, one.rule_name, one.symbol
        ),
        ([], Some(id)) => format!("Alert {id} was acknowledged already."),
        (list, _) => format!(
            "Acknowledged {} alerts{} ({already} were already); their escalations stop.",
            list.len(),
            args.rule_id
                .as_deref()
                .map(|r| format!(" of rule {r}"))
                .unwrap_or_default()
        ),
    };
    Ok((
        AcknowledgeAlertOutput {
            acknowledged,
            already_acknowledged: already,
        },
        summary,
    ))
}

// ------------------------------------------------------------------ silences

const SILENCES: &str = "alert-silences";
const ESCALATIONS: &str = "alert-escalations";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Silence {
    pub silence_id: String,
    /// Only firings on this symbol (absent: any symbol).
    pub symbol: Option<String>,
    /// Only firings of this rule (absent: any rule).
    pub rule_id: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub comment: Option<String>,
}

fn silence_key(subject: &str, id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, SILENCES, id)
}

/// Most silences a user may have in force or pending (ended ones expire).
const MAX_SILENCES: usize = 100;

async fn silences_of(stores: &Stores, subject: &str) -> Result<Vec<Silence>, StoreError> {
    let scope = RecordScope::new(Owner::user(subject)?, SILENCES)?;
    let mut query = ListQuery {
        limit: Some(MAX_LIMIT),
        ..ListQuery::default()
    };
    let mut out = Vec::new();
    loop {
        let page = stores.records.list(&scope, &query).await?;
        for r in &page.records {
            out.push(decode(&r.value)?);
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// The first silence that mutes a firing of `rule` at `now`.
fn silenced_by(silences: &[Silence], rule: &StoredRule, now: DateTime<Utc>) -> Option<String> {
    silences
        .iter()
        .find(|s| {
            s.starts_at <= now
                && now < s.ends_at
                && s.symbol.as_ref().is_none_or(|x| *x == rule.symbol)
                && s.rule_id.as_ref().is_none_or(|x| *x == rule.id)
        })
        .map(|s| s.silence_id.clone())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSilenceArgs {
    /// Mute only firings on this symbol (give symbol, rule_id or both).
    pub symbol: Option<String>,
    /// Mute only firings of this rule.
    pub rule_id: Option<String>,
    /// When the silence starts (RFC 3339; default now).
    pub starts_at: Option<DateTime<Utc>>,
    /// How long it lasts, in minutes (1 to 43200, i.e. 30 days).
    pub duration_minutes: u64,
    /// Why (shown in list_silences).
    pub comment: Option<String>,
    /// Any string unique to this silence: the same key again returns the same silence.
    pub idempotency_key: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SilenceOutput {
    pub silence: Silence,
    pub created: bool,
}

pub async fn create_silence(
    ctx: &ToolContext,
    args: CreateSilenceArgs,
) -> Result<(SilenceOutput, String), ToolError> {
    if args.symbol.is_none() && args.rule_id.is_none() {
        return Err(ToolError::invalid(
            "a silence needs a symbol, a rule_id or both (pause_alert_rule stops one rule)",
        ));
    }
    if !(1..=43_200).contains(&args.duration_minutes) {
        return Err(ToolError::invalid("duration_minutes is 1-43200 (30 days)"));
    }
    let key_len = args.idempotency_key.chars().count();
    if key_len == 0 || key_len > 200 {
        return Err(ToolError::invalid(
            "idempotency_key must be 1-200 characters",
        ));
    }
    let symbol = args
        .symbol
        .as_deref()
        .map(Symbol::parse)
        .transpose()?
        .map(|s| s.to_string());
    let starts_at = args.starts_at.unwrap_or_else(Utc::now);
    let ends_at = starts_at
        .checked_add_signed(chrono::Duration::minutes(
            i64::try_from(args.duration_minutes).unwrap_or(1),
        ))
        .ok_or_else(|| ToolError::invalid("the silence ends too far in the future"))?;
    let id = silence_id(&ctx.subject, &args.idempotency_key);
    let silence = Silence {
        silence_id: id.clone(),
        symbol,
        rule_id: args.rule_id,
        starts_at,
        ends_at,
        comment: args.comment.map(|c| c.chars().take(200).collect()),
    };
    let now = Utc::now();
    if ends_at <= now {
        return Err(ToolError::invalid(
            "that silence would have ended already; give a later starts_at or a longer duration",
        ));
    }
    let live = silences_of(&ctx.stores, &ctx.subject).await?;
    if live.iter().filter(|s| s.ends_at > now).count() >= MAX_SILENCES
        && !live.iter().any(|s| s.silence_id == id)
    {
        return Err(ToolError::invalid(format!(
            "you have {MAX_SILENCES} silences in force or pending; delete_silence one first"
        )));
    }
    let key = silence_key(&ctx.subject, &id)?;
    let created = match ctx
        .stores
        .records
        .put(
            &key,
            &encode(&silence)?,
            WriteCondition::IfAbsent,
            Some(ends_at),
        )
        .await
    {
        Ok(_) => true,
        Err(StoreError::Conflict(_)) => false,
        Err(e) => return Err(e.into()),
    };
    let silence = if created {
        silence
    } else {
        match ctx.stores.records.get(&key).await? {
            Some(r) => decode(&r.value)?,
            None => silence,
        }
    };
    let summary = format!(
        "Silence {} mutes firings{}{} from {} to {} (they are still recorded in get_alert_history, without notifications or escalation).",
        silence.silence_id,
        silence
            .symbol
            .as_deref()
            .map(|s| format!(" on {s}"))
            .unwrap_or_default(),
        silence
            .rule_id
            .as_deref()
            .map(|r| format!(" of rule {r}"))
            .unwrap_or_default(),
        rfc3339(silence.starts_at),
        rfc3339(silence.ends_at)
    );
    Ok((SilenceOutput { silence, created }, summary))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSilencesArgs {
    /// Also list silences whose end has passed but that are still stored (they are removed when they end, so usually none; default false).
    #[serde(default)]
    pub include_ended: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListSilencesOutput {
    pub silences: Vec<Silence>,
}

pub async fn list_silences(
    ctx: &ToolContext,
    args: ListSilencesArgs,
) -> Result<(ListSilencesOutput, String), ToolError> {
    let now = Utc::now();
    let mut silences = silences_of(&ctx.stores, &ctx.subject).await?;
    if !args.include_ended {
        silences.retain(|s| s.ends_at > now);
    }
    let active = silences
        .iter()
        .filter(|s| s.starts_at <= now && now < s.ends_at)
        .count();
    let summary = format!("{} silences ({active} in force now).", silences.len());
    Ok((ListSilencesOutput { silences }, summary))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteSilenceArgs {
    /// The silence, as create_silence or list_silences gave it.
    pub silence_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeleteSilenceOutput {
    pub silence_id: String,
    pub deleted: bool,
}

pub async fn delete_silence(
    ctx: &ToolContext,
    args: DeleteSilenceArgs,
) -> Result<(DeleteSilenceOutput, String), ToolError> {
    let deleted = ctx
        .stores
        .records
        .delete(
            &silence_key(&ctx.subject, &args.silence_id)?,
            WriteCondition::Always,
        )
        .await?;
    let summary = if deleted {
        format!("Deleted silence {}; firings notify again.", args.silence_id)
    } else {
        format!("There is no silence {} of yours.", args.silence_id)
    };
    Ok((
        DeleteSilenceOutput {
            silence_id: args.silence_id,
            deleted,
        },
        summary,
    ))
}

// ------------------------------------------------------------------ escalation

/// The deliveries of one notification: the inbox at once, webhooks pending
/// (or silenced).
fn deliveries_for(
    channels: &[Channel],
    kind: &str,
    message_id: &str,
    step: Option<String>,
    now: DateTime<Utc>,
    silenced: bool,
) -> Vec<DeliveryView> {
    channels
        .iter()
        .map(|c| {
            let (channel, url, status) = match c {
                Channel::Inbox => ("inbox", None, DeliveryStatus::Delivered),
                Channel::Webhook { url } => (
                    "webhook",
                    Some(url.clone()),
                    if silenced {
                        DeliveryStatus::Silenced
                    } else {
                        DeliveryStatus::Pending
                    },
                ),
            };
            DeliveryView {
                channel: channel.into(),
                url,
                status,
                attempts: 0,
                last_error: None,
                delivered_at: (status == DeliveryStatus::Delivered).then(|| rfc3339(now)),
                kind: kind.into(),
                message_id: message_id.into(),
                step: step.clone(),
                claimed_by: None,
            }
        })
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct EscalationPosition {
    round: u32,
    step: usize,
}

/// Indexes step `step` of round `round` of an alert, due `after_minutes`
/// after `from`. The id is fixed by the alert and position, so a repeat
/// writes the same entry.
async fn schedule_escalation(
    stores: &Stores,
    subject: &str,
    alert_id: &str,
    from: DateTime<Utc>,
    round: u32,
    step: usize,
    after_minutes: u64,
) -> Result<(), StoreError> {
    stores
        .records
        .transact(vec![escalation_entry(
            subject,
            alert_id,
            from,
            round,
            step,
            after_minutes,
        )?])
        .await
}

/// The index entry of step `step` of round `round`, due `after_minutes`
/// after `from`.
fn escalation_entry(
    subject: &str,
    alert_id: &str,
    from: DateTime<Utc>,
    round: u32,
    step: usize,
    after_minutes: u64,
) -> Result<TxOp, StoreError> {
    let due = from
        .checked_add_signed(
            chrono::Duration::try_minutes(i64::try_from(after_minutes).unwrap_or(0))
                .unwrap_or_default(),
        )
        .unwrap_or(from);
    let key = RecordKey::new(
        Owner::system(),
        ESCALATIONS,
        &format!("{:013}#{subject}#{alert_id}", due.timestamp_millis().max(0)),
    )?;
    let value = serde_json::to_vec(&EscalationPosition { round, step })
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(TxOp::Put {
        key,
        value,
        condition: WriteCondition::Always,
        expires_at: None,
    })
}
/// Takes every escalation step due at `now` (at most 100 a call): for an
/// alert still unacknowledged, its step's notifications are added to the
/// alert and `alert.escalated` is published for the notifier; the next step
/// is indexed. Each entry is claimed (deleted `IfVersion`) first, so two
/// schedulers never take one step twice. Returns the steps taken.
pub async fn escalate_due(stores: &Stores, now: DateTime<Utc>) -> Result<usize, ToolError> {
    let scope = RecordScope::new(Owner::system(), ESCALATIONS)?;
    let page = stores
        .records
        .list(
            &scope,
            &ListQuery {
                limit: Some(100),
                ..ListQuery::default()
            },
        )
        .await?;
    let mut taken = 0usize;
    for record in page.records {
        // `{due ms}#{subject}#{alert id}`: alert ids have no `#`, subjects may.
        let Some((due, rest)) = record.id.split_once('#') else {
            continue;
        };
        let Some((subject, alert_id)) = rest.rsplit_once('#') else {
            continue;
        };
        let Some(due) = due
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
        else {
            continue;
        };
        if due > now {
            break;
        }
        let position: EscalationPosition = decode(&record.value)?;
        let entry = scope.key(&record.id)?;
        let drop_entry = || async {
            let _ = stores
                .records
                .delete(&entry, WriteCondition::IfVersion(record.version))
                .await;
        };
        let key = alert_key(subject, alert_id)?;
        let mut step_event = None;
        // Claim the entry, add the step's notifications and index the next
        // step in one transaction; re-read when the alert changed.
        for _ in 0..3 {
            let Some(current) = stores.records.get(&key).await? else {
                drop_entry().await;
                break;
            };
            let mut alert: StoredAlert = decode(&current.value)?;
            let rule = load_rule(stores, subject, &alert.rule_id)
                .await?
                .map(|(r, _)| r);
            let policy = rule.as_ref().and_then(|r| r.escalation.clone());
            let (Some(rule), Some(policy)) = (rule, policy) else {
                drop_entry().await;
                break;
            };
            let Some(step) = policy.steps.get(position.step) else {
                drop_entry().await;
                break;
            };
            if alert.state == AlertState::Acknowledged {
                drop_entry().await;
                break;
            }
            let silenced = silenced_by(&silences_of(stores, subject).await?, &rule, now);
            let label = format!(
                "step {} of {}, round {} of {}",
                position.step.saturating_add(1),
                policy.steps.len(),
                position.round.saturating_add(1),
                policy.repeat.saturating_add(1)
            );
            let message_id = format!("msg_{}_r{}s{}", alert.id, position.round, position.step);
            let mut ops = vec![TxOp::Delete {
                key: entry.clone(),
                condition: WriteCondition::IfVersion(record.version),
            }];
            if alert.deliveries.iter().all(|d| d.message_id != message_id) {
                alert.deliveries.extend(deliveries_for(
                    &step.channels,
                    "alert.escalated",
                    &message_id,
                    Some(label.clone()),
                    now,
                    silenced.is_some(),
                ));
                alert.escalations = alert.escalations.saturating_add(1);
                ops.push(TxOp::Put {
                    key: key.clone(),
                    value: encode(&alert)?,
                    condition: WriteCondition::IfVersion(current.version),
                    expires_at: None,
                });
                // The next step's time counts from this step's due time;
                // it is indexed with this step's notifications, so a redo
                // of this step (after a failed publish) indexes nothing.
                if let Some((round, next, after)) = policy.next(position.round, position.step) {
                    ops.push(escalation_entry(
                        subject, &alert.id, due, round, next, after,
                    )?);
                }
            }
            match stores.records.transact(ops).await {
                Ok(()) => {
                    step_event = Some(
                        Event::new(
                            format!(
                                "escalated-{}",
                                crate::digest::sha256_hex(
                                    format!("{subject}\n{message_id}").as_bytes(),
                                    16
                                )
                            ),
                            "goldensignals/alerts",
                            EventType::AlertEscalated,
                            now,
                            Some(alert.symbol.clone()),
                            serde_json::json!({
                                "alert_id": alert.id,
                                "rule_id": alert.rule_id,
                                "rule_name": alert.rule_name,
                                "symbol": alert.symbol,
                                "step": label,
                                "message_id": message_id,
                                "silenced_by": silenced,
                                "message": alert.message,
                            }),
                        )
                        .owned_by(subject),
                    );
                    break;
                }
                // Another scheduler took the step.
                Err(StoreError::TransactionConflict { op: 0, .. }) => break,
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(event) = step_event {
            if let Err(e) = bus::publish(stores, &[event]).await {
                // Put the entry back: the next tick publishes the step again
                // (same event id; its notifications are already recorded).
                let _ = stores
                    .records
                    .put(&entry, &record.value, WriteCondition::Always, None)
                    .await;
                return Err(e.into());
            }
            taken = taken.saturating_add(1);
        }
    }
    Ok(taken)
}

// ------------------------------------------------------------------ evaluation (the `alerts` consumer)

/// The `alerts` consumer: evaluates the rules on an event's symbol.
#[derive(Debug)]
pub struct Evaluator;

/// A rule found through the symbol index.
struct Indexed {
    subject: String,
    rule_id: String,
}

async fn rules_on(stores: &Stores, symbol: &str) -> Result<Vec<Indexed>, StoreError> {
    let scope = RecordScope::new(Owner::system(), BY_SYMBOL)?;
    let prefix = format!("{symbol}#");
    let mut query = ListQuery {
        id_prefix: prefix.clone(),
        order: Order::Ascending,
        limit: None,
        cursor: None,
    };
    let mut out = Vec::new();
    loop {
        let page = stores.records.list(&scope, &query).await?;
        for r in page.records {
            let rest = r.id.strip_prefix(prefix.as_str()).unwrap_or_default();
            if let Some((subject, rule_id)) = rest.rsplit_once('#') {
                out.push(Indexed {
                    subject: subject.to_string(),
                    rule_id: rule_id.to_string(),
                });
            }
        }
        match page.next_cursor {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    Ok(out)
}

/// One firing decided by an evaluation.
struct Firing {
    bar_time: DateTime<Utc>,
    hit: condition::Hit,
}

fn alert_id(rule: &StoredRule, bar_time: DateTime<Utc>, event: &Event) -> String {
    let base = format!("{:013}-{}", bar_time.timestamp_millis().max(0), rule.id);
    match rule.frequency {
        Frequency::EveryTime => format!(
            "{base}-{}",
            crate::digest::sha256_hex(event.id.as_bytes(), 6)
        ),
        _ => base,
    }
}

/// The bar firings of `rule` on the bars after `seen_until` (at most
/// [`MAX_NEW_BARS`] of the newest), and the newest bar time read.
async fn bar_firings(
    stores: &Stores,
    rule: &StoredRule,
) -> Result<(Vec<Firing>, Option<DateTime<Utc>>), HandlerError> {
    let key = SeriesKey::new(
        Symbol::parse(&rule.symbol).map_err(|e| HandlerError::Poison(e.to_string()))?,
        Timeframe::parse(&rule.timeframe).map_err(|e| HandlerError::Poison(e.to_string()))?,
    );
    let want = rule
        .condition
        .lookback()
        .saturating_add(MAX_NEW_BARS)
        .saturating_add(1)
        .min(MAX_READ_BARS);
    let bars = gs_domain::read_bars(
        stores.bars.as_ref(),
        &key,
        &BarQuery {
            limit: Some(want),
            order: Order::Descending,
            ..BarQuery::default()
        },
    )
    .await?;
    let newest = bars.last().map(gs_domain::Bar::time);
    let columns = BarColumns::from_bars(&bars);
    let times = columns.time();
    let first_new = times
        .iter()
        .position(|t| match rule.seen_until {
            Some(s) => *t > s,
            None => rule.not_before.is_none_or(|n| *t >= n),
        })
        .unwrap_or(times.len());
    let first_new = first_new.max(times.len().saturating_sub(MAX_NEW_BARS));
    let condition = rule.condition.clone();
    let owned_times = times.to_vec();
    // Pure computation; small (at most ~1,000 bars).
    let mut firings = Vec::new();
    for at in first_new..owned_times.len() {
        if let Some(hit) = condition::evaluate(&condition, &columns, at)
            .map_err(|e| HandlerError::Poison(e.to_string()))?
            && let Some(bar_time) = owned_times.get(at).copied()
        {
            firings.push(Firing { bar_time, hit });
        }
    }
    Ok((firings, newest))
}

impl Evaluator {
    async fn evaluate_rule(
        &self,
        stores: &Stores,
        indexed: &Indexed,
        event: &Event,
    ) -> Result<(), HandlerError> {
        let Some((mut rule, version)) =
            load_rule(stores, &indexed.subject, &indexed.rule_id).await?
        else {
            return Ok(()); // deleted since
        };
        let now = Utc::now();
        if state_of(&rule, now) != "active" {
            return Ok(());
        }
        let (firings, newest) = match event.kind {
            EventType::BarsUpdated if rule.condition.on_bars() => {
                let timeframe = event
                    .data
                    .get("timeframe")
                    .and_then(serde_json::Value::as_str);
                if timeframe.is_some_and(|t| t != rule.timeframe) {
                    return Ok(());
                }
                bar_firings(stores, &rule).await?
            }
            EventType::SignalChanged | EventType::SignalGenerated if !rule.condition.on_bars() => {
                // Only the rule owner's own scans, of the rule's timeframe.
                let timeframe = event
                    .data
                    .get("timeframe")
                    .and_then(serde_json::Value::as_str);
                if event.owner.as_deref() != Some(indexed.subject.as_str())
                    || timeframe.is_some_and(|t| t != rule.timeframe)
                {
                    return Ok(());
                }
                let changed = event.kind == EventType::SignalChanged;
                // Changes are watched on signal.changed, confidences on
                // signal.generated; the other type says nothing to the rule.
                if changed != matches!(rule.condition, Condition::SignalChange { .. }) {
                    return Ok(());
                }
                let bar_time = event
                    .data
                    .get("bar_time")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map_or(event.time, |t| t.with_timezone(&Utc));
                if rule.seen_until.is_some_and(|s| bar_time <= s)
                    && rule.frequency != Frequency::EveryTime
                {
                    return Ok(());
                }
                let firings = condition::evaluate_signal(&rule.condition, changed, &event.data)
                    .map(|hit| vec![Firing { bar_time, hit }])
                    .unwrap_or_default();
                (firings, Some(bar_time))
            }
            _ => return Ok(()),
        };
        let silences = if firings.is_empty() {
            Vec::new()
        } else {
            silences_of(stores, &indexed.subject).await?
        };
        let mut fired = Vec::new();
        for firing in firings {
            if rule.done {
                break;
            }
            let quiet = rule.last_fired_at.is_some_and(|last| {
                let cooldown = chrono::Duration::try_seconds(
                    i64::try_from(rule.cooldown_secs).unwrap_or(i64::MAX),
                )
                .unwrap_or(chrono::Duration::MAX);
                last.checked_add_signed(cooldown)
                    .is_some_and(|until| now < until)
            });
            if quiet {
                continue;
            }
            let alert = StoredAlert {
                id: alert_id(&rule, firing.bar_time, event),
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                symbol: rule.symbol.clone(),
                timeframe: rule.timeframe.clone(),
                bar_time: firing.bar_time,
                fired_at: now,
                message: firing.hit.message,
                values: firing.hit.values,
                state: AlertState::Triggered,
                acknowledged_at: None,
                deliveries: Vec::new(),
                cause: event.id.clone(),
                escalations: 0,
                silenced_by: None,
            };
            let mut alert = alert;
            alert.silenced_by = silenced_by(&silences, &rule, now);
            alert.deliveries = deliveries_for(
                &rule.channels,
                "alert.triggered",
                &format!("msg_{}", alert.id),
                None,
                now,
                alert.silenced_by.is_some(),
            );
            let key = alert_key(&indexed.subject, &alert.id)?;
            let value =
                serde_json::to_vec(&alert).map_err(|e| HandlerError::Poison(e.to_string()))?;
            let mut escalation_begun = false;
            let fired_at = match stores
                .records
                .put(&key, &value, WriteCondition::IfAbsent, None)
                .await
            {
                Ok(_) => alert.fired_at,
                // Already fired on this bar (a repeat of the event): its
                // escalation is keyed from the stored firing, and it is
                // published again below (the notifier dedupes).
                Err(StoreError::Conflict(_)) => match stores.records.get(&key).await? {
                    Some(r) => {
                        let stored = decode::<StoredAlert>(&r.value)?;
                        // Its escalation has begun: do not index step 1 again.
                        escalation_begun = stored.escalations > 0;
                        stored.fired_at
                    }
                    None => alert.fired_at,
                },
                Err(e) => return Err(e.into()),
            };
            if let (Some(policy), None, false) =
                (&rule.escalation, &alert.silenced_by, escalation_begun)
                && let Some(first) = policy.steps.first()
            {
                schedule_escalation(
                    stores,
                    &indexed.subject,
                    &alert.id,
                    fired_at,
                    0,
                    0,
                    first.after_minutes,
                )
                .await?;
            }
            rule.last_fired_at = Some(now);
            rule.fired = rule.fired.saturating_add(1);
            if rule.frequency == Frequency::Once {
                rule.done = true;
            }
            fired.push(alert);
        }
        let events: Vec<Event> = fired
            .iter()
            .map(|a| {
                Event::new(
                    format!(
                        "triggered-{}",
                        crate::digest::sha256_hex(
                            format!("{}\n{}", indexed.subject, a.id).as_bytes(),
                            16
                        )
                    ),
                    "goldensignals/alerts",
                    EventType::AlertTriggered,
                    now,
                    Some(a.symbol.clone()),
                    serde_json::json!({
                        "alert_id": a.id,
                        "rule_id": a.rule_id,
                        "rule_name": a.rule_name,
                        "symbol": a.symbol,
                        "bar_time": rfc3339(a.bar_time),
                        "message": a.message,
                    }),
                )
                .owned_by(&indexed.subject)
            })
            .collect();
        // Published before the rule is saved: if saving fails (the user
        // changed the rule, a concurrent evaluation), the firings are
        // already announced; a redelivery publishes them again under the
        // same ids, which the notifier dedupes.
        for chunk in events.chunks(gs_domain::bus::MAX_PUBLISH_BATCH) {
            bus::publish(stores, chunk).await?;
        }
        rule.seen_until = newest.max(rule.seen_until);
        let value = serde_json::to_vec(&rule).map_err(|e| HandlerError::Poison(e.to_string()))?;
        match stores
            .records
            .put(
                &rule_key(&indexed.subject, &rule.id)?,
                &value,
                WriteCondition::IfVersion(version),
                None,
            )
            .await
        {
            Ok(_) => {}
            // The user changed the rule meanwhile: evaluate again on the
            // redelivery (the firings above are kept by their ids).
            Err(e) if e.is_conflict() => {
                return Err(HandlerError::Retry(format!(
                    "rule {} changed during its evaluation",
                    rule.id
                )));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

#[async_trait]
impl Consumer for Evaluator {
    fn name(&self) -> &'static str {
        bus::ALERTS
    }

    async fn handle(&self, stores: &Stores, event: &Event, _: Attempt) -> Result<(), HandlerError> {
        let Some(symbol) = event
            .data
            .get("symbol")
            .and_then(serde_json::Value::as_str)
            .or(event.subject.as_deref())
        else {
            return Ok(());
        };
        let Ok(symbol) = Symbol::parse(symbol) else {
            return Err(HandlerError::Poison(format!(
                "event {} names no valid symbol",
                event.id
            )));
        };
        let mut first_error = None;
        for indexed in rules_on(stores, symbol.as_str()).await? {
            // One rule's failure does not hold back the others; the event is
            // redelivered and the rules that fired are idempotent.
            match self.evaluate_rule(stores, &indexed, event).await {
                Ok(()) => {}
                // A rule that cannot evaluate (bad parameters on this data)
                // must not hold back everyone's rules on the symbol.
                Err(HandlerError::Poison(why)) => {
                    tracing::warn!(rule = %indexed.rule_id, %why, "an alert rule cannot be evaluated; skipped");
                }
                Err(e) => {
                    tracing::warn!(rule = %indexed.rule_id, error = %e, "alert rule evaluation failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

// ------------------------------------------------------------------ delivery (the `notifier` consumer)

/// The `notifier` consumer: sends an alert's pending webhook notifications
/// (its firing, or an escalation step), each signed with the secret of its
/// URL under its own `webhook-id`, retried by the bus until its last attempt
/// marks it failed (the event then goes to the dead-letter queue). An
/// acknowledged alert's pending escalation notifications are cancelled, not
/// sent.
#[derive(Debug)]
pub struct Notifier;

/// The newest alerts a grouped notification looks through for partners.
const GROUP_LOOKBACK: usize = 200;

/// Another alert of the owner whose first notification to the same URL is
/// pending (unclaimed, or claimed by this group), fired within `group`
/// seconds of the alert that leads the group.
struct Partner {
    key: RecordKey,
    version: u64,
    alert: StoredAlert,
    index: usize,
}

async fn partners(
    stores: &Stores,
    subject: &str,
    lead: &StoredAlert,
    url: &str,
    group: u64,
    message_id: &str,
    retry: bool,
) -> Result<Vec<Partner>, StoreError> {
    let scope = RecordScope::new(Owner::user(subject)?, ALERTS)?;
    let page = stores
        .records
        .list(
            &scope,
            &ListQuery {
                order: Order::Descending,
                limit: Some(GROUP_LOOKBACK),
                ..ListQuery::default()
            },
        )
        .await?;
    let window = chrono::Duration::seconds(i64::try_from(group).unwrap_or(0));
    let mut out = Vec::new();
    for r in page.records {
        if r.id == lead.id {
            continue;
        }
        let other: StoredAlert = decode(&r.value)?;
        let index = other.deliveries.iter().position(|d| {
            d.status == DeliveryStatus::Pending
                && d.kind == "alert.triggered"
                && d.url.as_deref() == Some(url)
                && match d.claimed_by.as_deref() {
                    Some(by) => by == message_id,
                    None => {
                        !retry
                            && d.attempts == 0
                            && other.fired_at.signed_duration_since(lead.fired_at).abs() <= window
                    }
                }
        });
        if let Some(index) = index {
            out.push(Partner {
                key: scope.key(&r.id)?,
                version: r.version,
                alert: other,
                index,
            });
        }
    }
    Ok(out)
}

/// What one attempt did to one delivery, to apply to a fresh copy.
struct Change {
    index: usize,
    message_id: String,
    apply: DeliveryView,
}

/// The view a receiver gets: the alert without its deliveries (other
/// channels' URLs and errors are not the receiver's business).
fn receiver_view(alert: &StoredAlert) -> AlertView {
    let mut v = alert_view(alert.clone());
    v.deliveries = Vec::new();
    v
}

/// Applies `changes` to the stored alert, re-reading it when another writer
/// (an acknowledgement, an escalation) got there first.
async fn save_changes(
    stores: &Stores,
    key: &RecordKey,
    mut alert: StoredAlert,
    mut version: u64,
    changes: &[Change],
) -> Result<(), HandlerError> {
    for _ in 0..5 {
        for c in changes {
            if let Some(d) = alert.deliveries.get_mut(c.index)
                && (d.message_id == c.message_id
                    || d.claimed_by.as_deref() == Some(c.message_id.as_str()))
            {
                *d = c.apply.clone();
            }
        }
        let value = serde_json::to_vec(&alert).map_err(|e| HandlerError::Poison(e.to_string()))?;
        match stores
            .records
            .put(key, &value, WriteCondition::IfVersion(version), None)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.is_conflict() => {
                let Some(fresh) = stores.records.get(key).await? else {
                    return Ok(());
                };
                alert = decode(&fresh.value)?;
                version = fresh.version;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(HandlerError::Retry(
        "the alert kept changing during its delivery".into(),
    ))
}

impl Notifier {
    /// Sends the alert's pending notifications the event is about: its
    /// firing's (`alert.triggered`) or one escalation step's (`message_id`).
    async fn deliver(
        &self,
        stores: &Stores,
        subject: &str,
        alert_id: &str,
        only: Option<&str>,
        attempt: Attempt,
    ) -> Result<(), HandlerError> {
        let key = alert_key(subject, alert_id)?;
        let Some(record) = stores.records.get(&key).await? else {
            return Err(HandlerError::Poison(format!(
                "alert {alert_id} does not exist"
            )));
        };
        let alert: StoredAlert = decode(&record.value)?;
        let now = Utc::now();
        let acknowledged = alert.state == AlertState::Acknowledged;
        let mut changes = Vec::new();
        let mut pending = Vec::new();
        for (i, d) in alert.deliveries.iter().enumerate() {
            if d.status != DeliveryStatus::Pending || d.url.is_none() {
                continue;
            }
            let about = match only {
                Some(message_id) => d.message_id == message_id,
                None => d.kind == "alert.triggered",
            };
            if !about {
                continue;
            }
            // Claimed by another alert's grouped notification: that one sends it.
            let own_group = format!("msg_grp_{}", alert.id);
            if d.claimed_by
                .as_deref()
                .is_some_and(|by| by != d.message_id && by != own_group)
            {
                continue;
            }
            if acknowledged && d.kind == "alert.escalated" {
                let mut cancelled = d.clone();
                cancelled.status = DeliveryStatus::Cancelled;
                changes.push(Change {
                    index: i,
                    message_id: d.message_id.clone(),
                    apply: cancelled,
                });
                continue;
            }
            pending.push(i);
        }
        if pending.is_empty() {
            if !changes.is_empty() {
                save_changes(stores, &key, alert, record.version, &changes).await?;
            }
            return Ok(());
        }
        let group = load_rule(stores, subject, &alert.rule_id)
            .await?
            .map_or(0, |(r, _)| r.group_seconds);
        if group > 0 {
            let until = alert
                .fired_at
                .checked_add_signed(chrono::Duration::seconds(i64::try_from(group).unwrap_or(0)))
                .unwrap_or(now);
            if now < until {
                let wait = until
                    .signed_duration_since(now)
                    .to_std()
                    .unwrap_or_default();
                return Err(HandlerError::Later(
                    wait,
                    "the rule's grouping window".into(),
                ));
            }
        }
        let mut failed = None;
        let mut finished = Vec::new();
        let mut partner_saves = Vec::new();
        for i in pending {
            let Some(d) = alert.deliveries.get(i).cloned() else {
                continue;
            };
            let url = d.url.clone().unwrap_or_default();
            let secret = open_secret(stores, subject, &url).await?;
            // A group is led by the first firing; its id stays the same
            // across retries, and its partners are claimed before it is sent.
            let group_id = format!("msg_grp_{}", alert.id);
            // A retry resends the same group: only the partners it claimed.
            let retry = d.attempts > 0 || d.claimed_by.as_deref() == Some(group_id.as_str());
            let mut together = if group > 0 && d.kind == "alert.triggered" {
                partners(stores, subject, &alert, &url, group, &group_id, retry).await?
            } else {
                Vec::new()
            };
            // The lead and its partners in one transaction.
            together.truncate(gs_domain::MAX_TRANSACTION_OPS.saturating_sub(1));
            if !together.is_empty() && !retry {
                let mut lead = alert.clone();
                if let Some(ld) = lead.deliveries.get_mut(i) {
                    ld.claimed_by = Some(group_id.clone());
                }
                let mut ops = vec![TxOp::Put {
                    key: key.clone(),
                    value: serde_json::to_vec(&lead)
                        .map_err(|e| HandlerError::Poison(e.to_string()))?,
                    condition: WriteCondition::IfVersion(record.version),
                    expires_at: None,
                }];
                for p in &mut together {
                    if let Some(pd) = p.alert.deliveries.get_mut(p.index) {
                        pd.claimed_by = Some(group_id.clone());
                    }
                    ops.push(TxOp::Put {
                        key: p.key.clone(),
                        value: serde_json::to_vec(&p.alert)
                            .map_err(|e| HandlerError::Poison(e.to_string()))?,
                        condition: WriteCondition::IfVersion(p.version),
                        expires_at: None,
                    });
                }
                match stores.records.transact(ops).await {
                    Ok(()) => {
                        for p in &mut together {
                            p.version = p.version.saturating_add(1);
                        }
                    }
                    // Another notifier claimed some of them (or the lead):
                    // read again on the next delivery.
                    Err(e) if e.is_conflict() => {
                        return Err(HandlerError::Retry(
                            "another notification is grouping these alerts".into(),
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let (message_id, body) = if together.is_empty() {
                (
                    d.message_id.clone(),
                    serde_json::json!({
                        "type": d.kind,
                        "timestamp": rfc3339(now),
                        "data": receiver_view(&alert),
                    }),
                )
            } else {
                let mut views = vec![receiver_view(&alert)];
                views.extend(together.iter().map(|p| receiver_view(&p.alert)));
                (
                    group_id.clone(),
                    serde_json::json!({
                        "type": "alert.triggered",
                        "timestamp": rfc3339(now),
                        "data": {"grouped": true, "count": views.len(), "alerts": views},
                    }),
                )
            };
            let payload =
                serde_json::to_vec(&body).map_err(|e| HandlerError::Poison(e.to_string()))?;
            let outcome = match &secret {
                Some(secret) => webhook::send(&url, secret, &message_id, &payload).await,
                None => webhook::Sent::Failed {
                    reason: "the webhook URL's secret is gone".into(),
                },
            };
            let mut after = d.clone();
            after.attempts = after.attempts.saturating_add(1);
            if !together.is_empty() {
                after.claimed_by = Some(group_id.clone());
            }
            let final_status = match outcome {
                webhook::Sent::Delivered { .. } => {
                    after.status = DeliveryStatus::Delivered;
                    after.delivered_at = Some(rfc3339(Utc::now()));
                    after.last_error = None;
                    finished.push((
                        "delivered",
                        url.clone(),
                        d.kind.clone(),
                        d.message_id.clone(),
                    ));
                    Some((DeliveryStatus::Delivered, None))
                }
                webhook::Sent::Failed { reason } => {
                    after.last_error = Some(reason.clone());
                    let result = if attempt.is_last() {
                        after.status = DeliveryStatus::Failed;
                        let why = format!(
                            "{reason}; gave up after {} attempts, the event is in the notifier's dead-letter queue",
                            after.attempts
                        );
                        after.last_error = Some(why.clone());
                        finished.push((
                            "failed",
                            url.clone(),
                            d.kind.clone(),
                            d.message_id.clone(),
                        ));
                        Some((DeliveryStatus::Failed, Some(why)))
                    } else {
                        None
                    };
                    failed.get_or_insert(reason);
                    result
                }
            };
            changes.push(Change {
                index: i,
                message_id: d.message_id.clone(),
                apply: after,
            });
            if let Some((status, why)) = final_status {
                for p in together {
                    if let Some(pd) = p.alert.deliveries.get(p.index) {
                        let mut done = pd.clone();
                        done.status = status;
                        done.attempts = done.attempts.saturating_add(1);
                        done.last_error.clone_from(&why);
                        done.delivered_at =
                            (status == DeliveryStatus::Delivered).then(|| rfc3339(Utc::now()));
                        done.message_id.clone_from(&group_id);
                        let change = Change {
                            index: p.index,
                            message_id: pd.message_id.clone(),
                            apply: done,
                        };
                        partner_saves.push((p.key, p.alert, p.version, change));
                    }
                }
            }
        }
        save_changes(stores, &key, alert.clone(), record.version, &changes).await?;
        for (key, partner, version, change) in partner_saves {
            save_changes(
                stores,
                &key,
                partner,
                version,
                std::slice::from_ref(&change),
            )
            .await?;
        }
        let events: Vec<Event> = finished
            .into_iter()
            .map(|(status, url, kind, message_id)| {
                Event::new(
                    format!(
                        "delivered-{}",
                        crate::digest::sha256_hex(
                            format!("{subject}\n{}\n{url}\n{message_id}\n{status}", alert.id)
                                .as_bytes(),
                            16
                        )
                    ),
                    "goldensignals/notifier",
                    EventType::AlertDelivered,
                    now,
                    Some(alert.symbol.clone()),
                    serde_json::json!({"alert_id": alert.id, "channel": "webhook", "notification": kind, "status": status}),
                )
                .owned_by(subject)
            })
            .collect();
        bus::publish(stores, &events).await?;
        match failed {
            Some(reason) => Err(HandlerError::Retry(reason)),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Consumer for Notifier {
    fn name(&self) -> &'static str {
        bus::NOTIFIER
    }

    async fn handle(
        &self,
        stores: &Stores,
        event: &Event,
        attempt: Attempt,
    ) -> Result<(), HandlerError> {
        let (Some(subject), Some(alert_id)) = (
            event.owner.as_deref(),
            event
                .data
                .get("alert_id")
                .and_then(serde_json::Value::as_str),
        ) else {
            return Err(HandlerError::Poison(format!(
                "event {} names no owner or alert",
                event.id
            )));
        };
        // An escalation step's event names its notification; a firing's
        // event is about the firing's notifications.
        let only = match event.kind {
            EventType::AlertEscalated => Some(
                event
                    .data
                    .get("message_id")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| {
                        HandlerError::Poison(format!("event {} names no notification", event.id))
                    })?,
            ),
            _ => None,
        };
        self.deliver(stores, subject, alert_id, only, attempt).await
    }
}

// ------------------------------------------------------------------ the tools

const WRITE: Annotations = Annotations {
    read_only: false,
    destructive: false,
    idempotent: true,
    open_world: false,
};

tool!(
    CreateAlertRule,
    "create_alert_rule",
    "Create an alert rule",
    WRITE,
    CreateAlertRuleArgs,
    CreateAlertRuleOutput,
    create_alert_rule,
    "Creates an alert rule of yours on one symbol and timeframe: the close crossing a price, a % move over N bars, any TA-Lib indicator output against a value or another output (e.g. rsi below 30, macd crosses_above macdsignal), a candlestick pattern on the newest bar, or a scheduled scan's signal changing or reaching a confidence. It is evaluated whenever new bars (or scan signals) for the symbol arrive, only on bars after its creation, and fires at most once per bar (frequency once, once_per_bar or every_time; cooldown; expiry). Firings go to your inbox (get_alert_history) and optionally to a webhook signed as Standard Webhooks; the result carries each webhook URL's signing secret (one per URL of yours, shared by your rules that post to it). Safe to retry: the same idempotency_key returns the same rule."
);

tool!(
    ListAlertRules,
    "list_alert_rules",
    "List your alert rules",
    Annotations::READ_ONLY,
    ListAlertRulesArgs,
    ListAlertRulesOutput,
    list_alert_rules,
    "Lists your alert rules with their condition in words, state (active, paused, expired, done), how far they have evaluated and how often they fired; filter by symbol; paged."
);

tool!(
    UpdateAlertRule,
    "update_alert_rule",
    "Change an alert rule",
    WRITE,
    UpdateAlertRuleArgs,
    RuleOutput,
    update_alert_rule,
    "Changes the name, condition, frequency, cooldown, expiry or channels of one of your alert rules (not its symbol or timeframe: delete it and create another). Bars it has already evaluated are not evaluated again."
);

tool!(
    DeleteAlertRule,
    "delete_alert_rule",
    "Delete an alert rule",
    Annotations {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    },
    RuleIdArgs,
    DeleteAlertRuleOutput,
    delete_alert_rule,
    "Deletes one of your alert rules for good (its webhook URLs keep their secrets for your other rules); its past alerts stay in get_alert_history. Deleting a rule that is gone already reports deleted false."
);

tool!(
    PauseAlertRule,
    "pause_alert_rule",
    "Pause an alert rule",
    WRITE,
    RuleIdArgs,
    RuleOutput,
    pause_alert_rule,
    "Pauses one of your alert rules: it is not evaluated until resume_alert_rule. Pausing a paused rule changes nothing."
);

tool!(
    ResumeAlertRule,
    "resume_alert_rule",
    "Resume an alert rule",
    WRITE,
    RuleIdArgs,
    RuleOutput,
    resume_alert_rule,
    "Resumes a paused alert rule of yours. Bars that arrived while it was paused are not evaluated: it fires on bars from now on."
);

tool!(
    GetAlertHistory,
    "get_alert_history",
    "Your alerts and their deliveries",
    Annotations::READ_ONLY,
    GetAlertHistoryArgs,
    GetAlertHistoryOutput,
    get_alert_history,
    "Your inbox: the alerts your rules fired, newest bar first, with the message and values that made each fire, its state (triggered or acknowledged) and each delivery's status, attempts and last error (a webhook that kept failing shows failed: its event went to the dead-letter queue). Filter by rule or state; paged."
);

tool!(
    AcknowledgeAlert,
    "acknowledge_alert",
    "Acknowledge an alert",
    WRITE,
    AcknowledgeAlertArgs,
    AcknowledgeAlertOutput,
    acknowledge_alert,
    "Acknowledges your alerts: one (alert_id), every open one of a rule (rule_id) or all of them (all: true). They stay in the history; their escalation stops. Acknowledging again changes nothing."
);

tool!(
    CreateSilence,
    "create_silence",
    "Silence alerts for a while",
    WRITE,
    CreateSilenceArgs,
    SilenceOutput,
    create_silence,
    "Mutes your alert notifications for a time window: firings on a symbol, of one rule, or both, are still recorded in get_alert_history (deliveries marked silenced) but send no webhook and do not escalate. Safe to retry with the same idempotency_key."
);

tool!(
    ListSilences,
    "list_silences",
    "List your silences",
    Annotations::READ_ONLY,
    ListSilencesArgs,
    ListSilencesOutput,
    list_silences,
    "Lists your silences (what they match and their window); ended ones only with include_ended."
);

tool!(
    DeleteSilence,
    "delete_silence",
    "End a silence",
    Annotations {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    },
    DeleteSilenceArgs,
    DeleteSilenceOutput,
    delete_silence,
    "Deletes one of your silences, so matching firings notify again."
);
