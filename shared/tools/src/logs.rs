//! Recent structured log lines of this process, for `get_logs`: a bounded
//! ring filled by a `tracing` layer the binaries install. Each line carries
//! the fields of the request span it was logged in (request id, user,
//! server, tool). Lines are what the process logged, so they hold no token
//! or secret (the log invariant).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use chrono::{SecondsFormat, Utc};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Lines kept (oldest dropped first).
pub const CAPACITY: usize = 5_000;

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LogLine {
    /// RFC 3339, UTC.
    pub time: String,
    /// error, warn, info, debug or trace.
    pub level: String,
    /// The module that logged it.
    pub target: String,
    pub message: String,
    /// Fields of the line and of the spans it was logged in (request_id, user, server, tool, ...).
    pub fields: BTreeMap<String, String>,
}

fn ring() -> &'static Mutex<VecDeque<LogLine>> {
    static RING: OnceLock<Mutex<VecDeque<LogLine>>> = OnceLock::new();
    RING.get_or_init(|| Mutex::new(VecDeque::with_capacity(256)))
}

/// Whether a layer feeds the ring in this process.
pub fn installed() -> bool {
    INSTALLED.get().is_some()
}

static INSTALLED: OnceLock<()> = OnceLock::new();

/// The ring's lines, newest first, that `keep` accepts, at most `limit`.
pub fn recent(limit: usize, keep: impl Fn(&LogLine) -> bool) -> Vec<LogLine> {
    let Ok(ring) = ring().lock() else {
        return Vec::new();
    };
    ring.iter()
        .rev()
        .filter(|l| keep(l))
        .take(limit)
        .cloned()
        .collect()
}

/// The layer that copies each event into the ring.
pub struct RingLayer;

impl RingLayer {
    pub fn new() -> Self {
        let _ = INSTALLED.set(());
        Self
    }
}

impl Default for RingLayer {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0.insert(field.name().to_string(), text);
    }
}

struct SpanFields(BTreeMap<String, String>);

impl<S> tracing_subscriber::Layer<S> for RingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut all = BTreeMap::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    all.extend(span_fields.0.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let message = fields.0.remove("message").unwrap_or_default();
        all.extend(fields.0);
        let line = LogLine {
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            level: event.metadata().level().as_str().to_ascii_lowercase(),
            target: event.metadata().target().to_string(),
            message,
            fields: all,
        };
        if let Ok(mut ring) = ring().lock() {
            if ring.len() >= CAPACITY {
                ring.pop_front();
            }
            ring.push_back(line);
        }
    }
}

/// `error` < `warn` < `info` < `debug` < `trace`, as a rank (lower: more severe).
pub fn rank(level: &str) -> Option<u8> {
    match level {
        "error" => Some(0),
        "warn" => Some(1),
        "info" => Some(2),
        "debug" => Some(3),
        "trace" => Some(4),
        _ => None,
    }
}
