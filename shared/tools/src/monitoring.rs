//! The `monitoring` server: service health, the caller's rate-limit usage,
//! call metrics and recent errors (computed from the audit log, which every
//! gateway instance writes, so every instance sees the same figures), the
//! audit log itself and its chain check.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use gs_domain::{Owner, RecordScope, SeriesQuery};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::guard::audit::{self, AuditEntry, PartitionCheck};
use crate::guard::rate_limit;
use crate::registry::{Annotations, Tool, registry};
use crate::time_input::parse_time;

const SERVER: &str = "monitoring";

fn window(
    since: Option<&str>,
    until: Option<&str>,
    default: ChronoDuration,
    max: ChronoDuration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ToolError> {
    let to = match until {
        Some(t) => parse_time("until", t)?,
        None => Utc::now(),
    };
    let from = match since {
        Some(t) => parse_time("since", t)?,
        None => to.checked_sub_signed(default).unwrap_or(to),
    };
    if from > to {
        return Err(ToolError::invalid(
            "since is after until: give since earlier than until",
        ));
    }
    if to.signed_duration_since(from) > max {
        return Err(ToolError::invalid(format!(
            "the window is longer than {} hours: narrow since/until",
            max.num_hours()
        )));
    }
    Ok((from, to))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---------------------------------------------------------------- get_usage

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetUsageArgs {
    /// Only this server's limits (market-data, technical-analysis, ...); all servers you may call when omitted.
    pub server: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LimitUsage {
    /// What the limit counts: `server:<name>` (every tool of a server), `tool:<name>` (one expensive tool, on top of its server's limit) or `server:*` (requests that call no tool, such as tools/list).
    pub counter: String,
    /// Calls allowed per window.
    pub limit: u64,
    /// Calls counted in the current window.
    pub used: u64,
    /// Calls left in the current window.
    pub remaining: u64,
    /// When the current window ends (RFC 3339); absent when no window is open.
    pub resets_at: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetUsageOutput {
    /// Length of a rate-limit window in seconds (fixed windows starting at the first call).
    pub window_seconds: u64,
    /// One entry per limit that applies to you; servers without one are unlimited.
    pub limits: Vec<LimitUsage>,
    /// True when the policy sets no rate limits at all.
    pub unlimited: bool,
}

pub struct GetUsage;

impl Tool for GetUsage {
    const NAME: &'static str = "get_usage";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Get my rate-limit usage";
    const DESCRIPTION: &'static str = "Show your call-rate limits (per server, and per expensive tool), how many calls you have used in the current window, how many are left and when the window resets. Call this after a rate-limit error (HTTP 429) to plan retries.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetUsageArgs;
    type Output = GetUsageOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        if let Some(server) = &args.server
            && !gs_auth::SERVERS.contains(&server.as_str())
        {
            return Err(ToolError::invalid(format!(
                "unknown server {server:?}; servers: {}",
                gs_auth::SERVERS.join(", ")
            )));
        }
        let window_seconds = ctx.policy.rate_limit_window().map_or(0, |w| w.as_secs());
        let unlimited = window_seconds == 0;
        let mut counters: BTreeMap<String, u64> = BTreeMap::new();
        for spec in registry() {
            if args.server.as_deref().is_some_and(|s| s != spec.server)
                || !ctx.permissions.allows(spec.server, spec.name)
            {
                continue;
            }
            if let Some(limits) = ctx.policy.call_limits(&ctx.groups, spec.server, spec.name) {
                counters.extend(limits.counters);
            }
        }
        // Requests that call no tool (initialize, tools/list, ...) count as `server:*`.
        if args.server.is_none()
            && let Some(limits) = ctx.policy.call_limits(&ctx.groups, "*", "")
        {
            counters.extend(limits.counters.into_iter().filter(|(c, _)| c == "server:*"));
        }
        let mut limits = Vec::with_capacity(counters.len());
        for (counter, limit) in counters {
            let usage =
                rate_limit::usage(ctx.stores.records.as_ref(), &ctx.subject, &counter).await?;
            let used = if usage.resets_at.is_some_and(|t| t > Utc::now()) {
                usage.used
            } else {
                0
            };
            limits.push(LimitUsage {
                remaining: limit.saturating_sub(used),
                resets_at: usage.resets_at.filter(|_| used > 0).map(rfc3339),
                counter,
                limit,
                used,
            });
        }
        let summary = if unlimited {
            "No rate limits are configured.".to_string()
        } else {
            let tight = limits
                .iter()
                .min_by_key(|l| l.remaining)
                .map(|l| {
                    format!(
                        " Tightest: {} with {} of {} calls left.",
                        l.counter, l.remaining, l.limit
                    )
                })
                .unwrap_or_default();
            format!(
                "{} limits apply to you, per {window_seconds} s window.{tight}",
                limits.len()
            )
        };
        Ok((
            GetUsageOutput {
                window_seconds,
                limits,
                unlimited,
            },
            summary,
        ))
    }
}

// ---------------------------------------------------------- query_audit_log

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryAuditLogArgs {
    /// Start of the window (RFC 3339, a date, or epoch seconds); default one hour before `until`.
    pub since: Option<String>,
    /// End of the window; default now. At most 7 days after `since`.
    pub until: Option<String>,
    /// Only entries of this user (subject).
    pub user: Option<String>,
    /// Only entries of this tool.
    pub tool: Option<String>,
    /// Only entries with this outcome: ok, error, rate_limited, forbidden, rejected.
    pub outcome: Option<String>,
    /// Entries per page, newest first (1-200, default 50).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page, to continue.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryAuditLogOutput {
    /// Matching entries, newest first. `params` are the request's parameters with secrets redacted (decrypted when they are stored encrypted).
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for older entries; absent when this is the last page.
    pub next_cursor: Option<String>,
    /// True when the search stopped before the window's start (too many entries); narrow the window.
    pub truncated: bool,
}

pub struct QueryAuditLog;

fn parse_cursor(cursor: &str) -> Result<(String, String, u64), ToolError> {
    let bad =
        || ToolError::invalid("cursor is not one this tool returned; start again without a cursor");
    let bytes = audit::base64_decode(cursor).ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '|');
    let (Some(time), Some(partition), Some(seq)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    Ok((
        time.to_string(),
        partition.to_string(),
        seq.parse().map_err(|_| bad())?,
    ))
}

fn make_cursor(entry: &AuditEntry) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(format!("{}|{}|{}", entry.time, entry.partition, entry.seq))
}

impl Tool for QueryAuditLog {
    const NAME: &'static str = "query_audit_log";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Query the audit log";
    const DESCRIPTION: &'static str = "Read the audit log: one entry per MCP request (time, request id, user, roles, method, server, tool, parameters with secrets redacted, client IP, outcome, error code, latency, and its hash-chain links), newest first, filtered by window, user, tool and outcome, paged with a cursor. Needs the monitoring:query_audit_log scope.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = QueryAuditLogArgs;
    type Output = QueryAuditLogOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        let limit = args.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ToolError::invalid("limit must be between 1 and 200"));
        }
        let (from, mut to) = window(
            args.since.as_deref(),
            args.until.as_deref(),
            ChronoDuration::hours(1),
            ChronoDuration::days(7),
        )?;
        let after = args.cursor.as_deref().map(parse_cursor).transpose()?;
        if let Some((time, _, _)) = &after
            && let Ok(t) = DateTime::parse_from_rfc3339(time)
        {
            to = to.min(t.with_timezone(&Utc));
        }
        let keep = |e: &AuditEntry| {
            args.user.as_deref().is_none_or(|u| e.user == u)
                && args
                    .tool
                    .as_deref()
                    .is_none_or(|t| e.tool.as_deref() == Some(t))
                && args.outcome.as_deref().is_none_or(|o| e.outcome == o)
                && after.as_ref().is_none_or(|(time, partition, seq)| {
                    (e.time.as_str(), e.partition.as_str(), e.seq)
                        < (time.as_str(), partition.as_str(), *seq)
                })
        };
        let (mut entries, truncated) = audit::search(
            ctx.stores.records.as_ref(),
            ctx.stores.cipher.as_deref(),
            from,
            to,
            limit.saturating_add(1),
            keep,
        )
        .await?;
        let next_cursor = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(make_cursor)
        } else {
            None
        };
        let summary = match (entries.first(), entries.last()) {
            (Some(newest), Some(oldest)) => format!(
                "{} audit entries from {} to {}{}.",
                entries.len(),
                oldest.time,
                newest.time,
                if next_cursor.is_some() {
                    "; more with next_cursor"
                } else {
                    ""
                }
            ),
            _ => format!(
                "No audit entries match between {} and {}.",
                rfc3339(from),
                rfc3339(to)
            ),
        };
        Ok((
            QueryAuditLogOutput {
                entries,
                next_cursor,
                truncated,
            },
            summary,
        ))
    }
}

// ------------------------------------------------------- verify_audit_chain

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyAuditChainArgs {
    /// Start of the window (RFC 3339, a date, or epoch seconds); default 24 hours before `until`.
    pub since: Option<String>,
    /// End of the window; default now. At most 31 days after `since`.
    pub until: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyAuditChainOutput {
    /// True when every partition checked is intact.
    pub ok: bool,
    /// Partitions (one writer, one UTC hour) checked.
    pub partitions: usize,
    /// Entries checked.
    pub entries: u64,
    /// Partitions whose chain is broken, with what is wrong.
    pub broken: Vec<PartitionCheck>,
    /// True when the check stopped early (too many entries); narrow the window.
    pub truncated: bool,
}

pub struct VerifyAuditChain;

impl Tool for VerifyAuditChain {
    const NAME: &'static str = "verify_audit_chain";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Verify the audit log's hash chain";
    const DESCRIPTION: &'static str = "Check that the audit log is intact over a window: in every partition the entries are numbered without gaps, each entry's hash matches its content, each links to the one before it, and the partition's head names the last entry. Reports which partitions are broken and whether an entry was edited, inserted or deleted.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = VerifyAuditChainArgs;
    type Output = VerifyAuditChainOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        let (from, to) = window(
            args.since.as_deref(),
            args.until.as_deref(),
            ChronoDuration::hours(24),
            ChronoDuration::days(31),
        )?;
        let (checks, truncated) = audit::verify(
            ctx.stores.records.as_ref(),
            from,
            to,
            audit::MAX_SCANNED_ENTRIES,
        )
        .await?;
        let entries = checks
            .iter()
            .map(|c| c.entries)
            .fold(0u64, u64::saturating_add);
        let partitions = checks.len();
        let broken: Vec<PartitionCheck> = checks.into_iter().filter(|c| !c.ok).collect();
        let ok = broken.is_empty();
        let summary = if ok {
            format!(
                "The audit chain is intact: {entries} entries in {partitions} partitions checked."
            )
        } else {
            let first = broken
                .first()
                .and_then(|b| b.problem.clone().map(|p| format!(" {}: {p}.", b.partition)))
                .unwrap_or_default();
            format!(
                "The audit chain is BROKEN in {} of {partitions} partitions.{first}",
                broken.len()
            )
        };
        Ok((
            VerifyAuditChainOutput {
                ok,
                partitions,
                entries,
                broken,
                truncated,
            },
            summary,
        ))
    }
}

// --------------------------------------------------------------- get_metrics

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetMetricsArgs {
    /// Minutes back from now to aggregate over (1-10080, default 60).
    pub window_minutes: Option<i64>,
    /// Only this tool.
    pub tool: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ToolMetrics {
    /// Tool name, or the JSON-RPC method for requests that call no tool.
    pub name: String,
    pub calls: u64,
    /// Requests that ended in a tool error or JSON-RPC error.
    pub errors: u64,
    /// Requests refused by a rate limit.
    pub throttles: u64,
    /// Latency percentiles in milliseconds (nearest rank), from the gateway's measurements.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetMetricsOutput {
    pub since: String,
    pub until: String,
    /// Per tool (or method), busiest first.
    pub metrics: Vec<ToolMetrics>,
    /// True when the window held more entries than one aggregation reads.
    pub truncated: bool,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let n = sorted.len() as f64;
    let rank = (p / 100.0 * n).ceil().max(1.0) as usize;
    sorted
        .get(rank.saturating_sub(1))
        .or(sorted.last())
        .copied()
        .unwrap_or(0.0)
}

pub struct GetMetrics;

impl Tool for GetMetrics {
    const NAME: &'static str = "get_metrics";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Get call metrics";
    const DESCRIPTION: &'static str = "Calls, errors, rate-limit throttles and p50/p95/p99 latency per tool over a recent window, from the measurements every gateway instance records in the audit log. Use it to spot slow or failing tools.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetMetricsArgs;
    type Output = GetMetricsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        let minutes = args.window_minutes.unwrap_or(60);
        if !(1..=10_080).contains(&minutes) {
            return Err(ToolError::invalid(
                "window_minutes must be between 1 and 10080 (7 days)",
            ));
        }
        let to = Utc::now();
        let from = to
            .checked_sub_signed(ChronoDuration::minutes(minutes))
            .unwrap_or(to);
        let tool = args.tool.clone();
        let (entries, truncated) = audit::search(
            ctx.stores.records.as_ref(),
            None,
            from,
            to,
            audit::MAX_SCANNED_ENTRIES,
            |e| tool.as_deref().is_none_or(|t| e.tool.as_deref() == Some(t)),
        )
        .await?;
        let mut groups: BTreeMap<String, (u64, u64, Vec<f64>)> = BTreeMap::new();
        for entry in &entries {
            let name = entry.tool.clone().unwrap_or_else(|| entry.method.clone());
            let slot = groups.entry(name).or_default();
            match entry.outcome.as_str() {
                "error" => slot.0 = slot.0.saturating_add(1),
                "rate_limited" => slot.1 = slot.1.saturating_add(1),
                _ => {}
            }
            slot.2.push(entry.latency_ms);
        }
        let mut metrics: Vec<ToolMetrics> = groups
            .into_iter()
            .map(|(name, (errors, throttles, mut latencies))| {
                latencies.sort_by(f64::total_cmp);
                let calls = u64::try_from(latencies.len()).unwrap_or(u64::MAX);
                let mean = latencies.iter().sum::<f64>() / latencies.len().max(1) as f64;
                ToolMetrics {
                    p50_ms: percentile(&latencies, 50.0),
                    p95_ms: percentile(&latencies, 95.0),
                    p99_ms: percentile(&latencies, 99.0),
                    mean_ms: (mean * 1000.0).round() / 1000.0,
                    name,
                    calls,
                    errors,
                    throttles,
                }
            })
            .collect();
        metrics.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.name.cmp(&b.name)));
        let total = metrics
            .iter()
            .map(|m| m.calls)
            .fold(0u64, u64::saturating_add);
        let errors = metrics
            .iter()
            .map(|m| m.errors)
            .fold(0u64, u64::saturating_add);
        let summary = format!(
            "{total} requests over the last {minutes} min across {} tools/methods, {errors} errors.{}",
            metrics.len(),
            metrics
                .first()
                .map(|m| format!(
                    " Busiest: {} ({} calls, p95 {:.1} ms).",
                    m.name, m.calls, m.p95_ms
                ))
                .unwrap_or_default()
        );
        Ok((
            GetMetricsOutput {
                since: rfc3339(from),
                until: rfc3339(to),
                metrics,
                truncated,
            },
            summary,
        ))
    }
}

// --------------------------------------------------------- get_recent_errors

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRecentErrorsArgs {
    /// Minutes back from now (1-10080, default 60).
    pub window_minutes: Option<i64>,
    /// Most errors to return, newest first (1-200, default 50).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RecentError {
    pub time: String,
    pub request_id: String,
    pub user: String,
    pub method: String,
    pub tool: Option<String>,
    /// error, rate_limited, forbidden or rejected.
    pub outcome: String,
    pub error_code: Option<String>,
    pub http_status: u16,
    pub client_ip: Option<String>,
    pub latency_ms: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetRecentErrorsOutput {
    pub errors: Vec<RecentError>,
    pub truncated: bool,
}

pub struct GetRecentErrors;

impl Tool for GetRecentErrors {
    const NAME: &'static str = "get_recent_errors";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Get recent errors";
    const DESCRIPTION: &'static str = "The most recent failed requests (tool errors, JSON-RPC errors, rate-limit refusals, permission refusals) with their request ids, so the matching log lines and audit entries can be found.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetRecentErrorsArgs;
    type Output = GetRecentErrorsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        let minutes = args.window_minutes.unwrap_or(60);
        if !(1..=10_080).contains(&minutes) {
            return Err(ToolError::invalid(
                "window_minutes must be between 1 and 10080 (7 days)",
            ));
        }
        let limit = args.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ToolError::invalid("limit must be between 1 and 200"));
        }
        let to = Utc::now();
        let from = to
            .checked_sub_signed(ChronoDuration::minutes(minutes))
            .unwrap_or(to);
        let (entries, truncated) =
            audit::search(ctx.stores.records.as_ref(), None, from, to, limit, |e| {
                e.outcome != "ok"
            })
            .await?;
        let errors: Vec<RecentError> = entries
            .into_iter()
            .map(|e| RecentError {
                time: e.time,
                request_id: e.request_id,
                user: e.user,
                method: e.method,
                tool: e.tool,
                outcome: e.outcome,
                error_code: e.error_code,
                http_status: e.http_status,
                client_ip: e.client_ip,
                latency_ms: e.latency_ms,
            })
            .collect();
        let summary = match errors.first() {
            Some(e) => format!(
                "{} failed requests in the last {minutes} min; newest: {} {} ({}) at {}.",
                errors.len(),
                e.tool.as_deref().unwrap_or(&e.method),
                e.outcome,
                e.error_code.as_deref().unwrap_or("-"),
                e.time
            ),
            None => format!("No failed requests in the last {minutes} min."),
        };
        Ok((GetRecentErrorsOutput { errors, truncated }, summary))
    }
}

// -------------------------------------------------------------- health_check

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckArgs {
    /// Only report the freshness of this symbol's series (case-insensitive); every series when omitted.
    pub symbol: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ComponentHealth {
    pub name: String,
    /// ok, degraded, down, or not_configured.
    pub status: String,
    pub latency_ms: Option<f64>,
    pub detail: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SeriesFreshness {
    pub symbol: String,
    pub timeframe: String,
    pub last_bar: String,
    /// Hours since the last bar.
    pub age_hours: f64,
    /// Older than three bar widths (four days for daily, ten for weekly bars).
    pub stale: bool,
    pub synthetic: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HealthCheckOutput {
    /// ok, degraded or down: down when the store cannot be read; degraded when the key service fails, the store is slow (over 1 s) or imported (non-synthetic) data is stale.
    pub status: String,
    /// Why the status is not ok.
    pub reasons: Vec<String>,
    pub components: Vec<ComponentHealth>,
    /// Data freshness per stored series (first 200).
    pub series: Vec<SeriesFreshness>,
    pub checked_at: String,
}

pub struct HealthCheck;

fn stale_after(tf: gs_domain::Timeframe) -> ChronoDuration {
    match tf.as_str() {
        "1d" => ChronoDuration::days(4),
        "1w" => ChronoDuration::days(10),
        _ => ChronoDuration::seconds(tf.seconds().saturating_mul(3)),
    }
}

impl Tool for HealthCheck {
    const NAME: &'static str = "health_check";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Check service health";
    const DESCRIPTION: &'static str = "Check the service: the record and bar stores (a timed read), the field-encryption key service (a round trip), the data bus (not part of this deployment yet) and the freshness of every stored series. Returns ok, degraded or down with the reasons.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = HealthCheckArgs;
    type Output = HealthCheckOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        let mut components = Vec::new();
        let symbol = args
            .symbol
            .as_deref()
            .map(str::trim)
            .map(str::to_ascii_uppercase);
        let mut reasons = Vec::new();
        let mut down = false;
        let mut degraded = false;

        let started = std::time::Instant::now();
        let probe = RecordScope::new(Owner::system(), "health")
            .and_then(|s| s.key("probe"))
            .map_err(ToolError::Store)?;
        let read = ctx.stores.records.get(&probe).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match read {
            Ok(_) => {
                let slow = ms > 1000.0;
                degraded |= slow;
                if slow {
                    reasons.push(format!("the record store answered in {ms:.0} ms"));
                }
                components.push(ComponentHealth {
                    name: "record_store".into(),
                    status: if slow { "degraded" } else { "ok" }.into(),
                    latency_ms: Some((ms * 1000.0).round() / 1000.0),
                    detail: "consistent read of a probe record".into(),
                });
            }
            Err(e) => {
                down = true;
                reasons.push(format!("the record store cannot be read: {e}"));
                components.push(ComponentHealth {
                    name: "record_store".into(),
                    status: "down".into(),
                    latency_ms: Some(ms),
                    detail: e.to_string(),
                });
            }
        }

        let started = std::time::Instant::now();
        let listing = ctx
            .bars()
            .list_series(&SeriesQuery {
                symbol_prefix: None,
                limit: Some(200),
                cursor: None,
            })
            .await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut series = Vec::new();
        match listing {
            Ok(page) => {
                let now = Utc::now();
                for info in page.series {
                    if symbol
                        .as_deref()
                        .is_some_and(|s| info.key.symbol.as_str() != s)
                    {
                        continue;
                    }
                    let age = now.signed_duration_since(info.last);
                    let stale = age > stale_after(info.key.timeframe);
                    let synthetic = info.source.is_synthetic();
                    if stale && !synthetic {
                        degraded = true;
                        reasons.push(format!(
                            "{} {} is stale (last bar {})",
                            info.key.symbol,
                            info.key.timeframe.as_str(),
                            rfc3339(info.last)
                        ));
                    }
                    series.push(SeriesFreshness {
                        symbol: info.key.symbol.to_string(),
                        timeframe: info.key.timeframe.as_str().into(),
                        last_bar: rfc3339(info.last),
                        age_hours: (age.num_seconds() as f64 / 3600.0 * 100.0).round() / 100.0,
                        stale,
                        synthetic,
                    });
                }
                components.push(ComponentHealth {
                    name: "bar_store".into(),
                    status: "ok".into(),
                    latency_ms: Some((ms * 1000.0).round() / 1000.0),
                    detail: format!("{} series listed", series.len()),
                });
            }
            Err(e) => {
                down = true;
                reasons.push(format!("the bar store cannot be listed: {e}"));
                components.push(ComponentHealth {
                    name: "bar_store".into(),
                    status: "down".into(),
                    latency_ms: Some(ms),
                    detail: e.to_string(),
                });
            }
        }

        match &ctx.stores.cipher {
            Some(cipher) => {
                let started = std::time::Instant::now();
                let context = gs_crypto::FieldContext::new("records", "health", "probe");
                let round = match cipher.encrypt(&context, b"probe").await {
                    Ok(sealed) => cipher
                        .decrypt(&context, &sealed)
                        .await
                        .map(|p| p == b"probe"),
                    Err(e) => Err(e),
                };
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let (status, detail) = match round {
                    Ok(true) => ("ok", "encrypt and decrypt round trip".to_string()),
                    Ok(false) => (
                        "degraded",
                        "the round trip returned other bytes".to_string(),
                    ),
                    Err(e) => ("degraded", e.to_string()),
                };
                if status != "ok" {
                    degraded = true;
                    reasons.push(format!("the key service failed: {detail}"));
                }
                components.push(ComponentHealth {
                    name: "key_service".into(),
                    status: status.into(),
                    latency_ms: Some((ms * 1000.0).round() / 1000.0),
                    detail,
                });
            }
            None => components.push(ComponentHealth {
                name: "key_service".into(),
                status: "not_configured".into(),
                latency_ms: None,
                detail: "no field key is configured for this function".into(),
            }),
        }
        components.push(ComponentHealth {
            name: "bus".into(),
            status: "not_configured".into(),
            latency_ms: None,
            detail: "the data bus is not part of this deployment yet".into(),
        });

        let status = if down {
            "down"
        } else if degraded {
            "degraded"
        } else {
            "ok"
        };
        let stale = series.iter().filter(|s| s.stale).count();
        let summary = format!(
            "Service is {status}.{} {} series, {stale} stale.",
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" {}.", reasons.join("; "))
            },
            series.len()
        );
        Ok((
            HealthCheckOutput {
                status: status.into(),
                reasons,
                components,
                series,
                checked_at: rfc3339(Utc::now()),
            },
            summary,
        ))
    }
}

// ------------------------------------------------------------------ get_logs

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetLogsArgs {
    /// Least severe level to include: error, warn, info (default), debug or trace.
    pub level: Option<String>,
    /// Only lines logged while serving this request id (from an error message, an audit entry or get_recent_errors).
    pub request_id: Option<String>,
    /// Most lines to return, newest first (1-500, default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetLogsOutput {
    /// Matching lines, newest first.
    pub lines: Vec<crate::logs::LogLine>,
    /// Where the lines come from: this process only (the local server holds all of them; on AWS each function's lines are in its CloudWatch log group).
    pub source: String,
}

pub struct GetLogs;

impl Tool for GetLogs {
    const NAME: &'static str = "get_logs";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Get recent log lines";
    const DESCRIPTION: &'static str = "Recent structured log lines of the server process by level and request id, each with the request's fields (request_id, user, server, tool). Use a request id from an error message or get_recent_errors to see what happened to that request.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetLogsArgs;
    type Output = GetLogsOutput;

    async fn call(
        _ctx: ToolContext,
        args: Self::Args,
    ) -> Result<(Self::Output, String), ToolError> {
        let level = args.level.as_deref().unwrap_or("info").to_ascii_lowercase();
        let Some(max_rank) = crate::logs::rank(&level) else {
            return Err(ToolError::invalid(
                "level must be one of error, warn, info, debug, trace",
            ));
        };
        let limit = args.limit.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ToolError::invalid("limit must be between 1 and 500"));
        }
        let lines = crate::logs::recent(limit, |line| {
            crate::logs::rank(&line.level).is_some_and(|r| r <= max_rank)
                && args
                    .request_id
                    .as_deref()
                    .is_none_or(|id| line.fields.get("request_id").is_some_and(|v| v == id))
        });
        let source = if crate::logs::installed() {
            "this process (the most recent lines kept in memory)".to_string()
        } else {
            "none: this process keeps no log lines; read the function's CloudWatch log group"
                .to_string()
        };
        let summary = format!(
            "{} log lines at {level} or more severe{}.",
            lines.len(),
            args.request_id
                .as_deref()
                .map(|id| format!(" for request {id}"))
                .unwrap_or_default()
        );
        Ok((GetLogsOutput { lines, source }, summary))
    }
}
