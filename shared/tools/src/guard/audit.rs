//! The audit log: one append-only entry per MCP request, hash-chained per
//! partition so that an edited, inserted or deleted entry is found by
//! [`verify`].
//!
//! A partition is one writer (process or Lambda instance) for one UTC hour:
//! `{YYYYMMDDHH}-{instance}`. Its entries are records of the system owner in
//! collection `audit` with ids `{partition}#{seq:010}`, seq counting from 0;
//! each entry holds the hash of the previous one (zeros for seq 0) and its
//! own `hash` = SHA-256 over its canonical JSON without `hash`. The
//! partition's head (`audit-heads/{partition}`: last seq and hash) moves in
//! the same transaction as each append, so a deleted tail is found too.
//! One writer per partition, serialised by a lock, so appends never race;
//! the conditional writes make a second writer fail instead of forking.
//! Every record of a partition expires at the same time (the hour's start
//! plus the retention), so retention never cuts a chain in half.

use crate::digest::hex;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use gs_crypto::{FieldCipher, FieldContext};
use gs_domain::{
    ListQuery, Order, Owner, RecordScope, RecordStore, StoreError, TxOp, WriteCondition,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

pub const AUDIT_COLLECTION: &str = "audit";
pub const HEAD_COLLECTION: &str = "audit-heads";
const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Parameters larger than this are recorded by size and digest only.
pub const MAX_AUDITED_PARAM_BYTES: usize = 16 * 1024;
/// Default retention of audit entries.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// One audited request, as stored (field order is the hash's canonical order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// The chain partition (`{YYYYMMDDHH}-{instance}`).
    pub partition: String,
    /// Position in the partition, from 0.
    pub seq: u64,
    /// When the request arrived (RFC 3339, UTC, milliseconds).
    pub time: String,
    pub request_id: String,
    /// The caller's subject.
    pub user: String,
    /// The caller's roles (from its groups), includes resolved.
    pub roles: Vec<String>,
    /// The JSON-RPC method, e.g. `tools/call`, `initialize`.
    pub method: String,
    /// The MCP server of the tool called, when the request called one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Sanitised parameters (secrets redacted), when not encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
    /// The sanitised parameters encrypted with the field key (base64), when a key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_encrypted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// `ok`, `error` (a tool error or JSON-RPC error), `rate_limited`, `forbidden`, `rejected` (an HTTP-level refusal).
    pub outcome: String,
    /// The tool error kind or JSON-RPC error code, when not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub http_status: u16,
    /// Time from the request reaching the gateway to its answer being ready.
    pub latency_ms: f64,
    /// `hash` of the previous entry of the partition (zeros for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of this entry's canonical JSON without `hash`.
    #[serde(default)]
    pub hash: String,
}

impl AuditEntry {
    pub fn compute_hash(&self) -> String {
        let mut unhashed = self.clone();
        unhashed.hash = String::new();
        let bytes = serde_json::to_vec(&unhashed).unwrap_or_default();
        hex(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref())
    }

    /// Checks a stored entry against its own hash on the stored bytes
    /// (`hash` is the last field; the bytes with it emptied are what was
    /// hashed), so no float re-parsing can make an intact entry look edited.
    pub fn hash_matches(&self, stored: &[u8]) -> bool {
        let suffix = format!(r#","hash":"{}"}}"#, self.hash);
        let Some(body) = stored
            .strip_suffix(suffix.as_bytes())
            .filter(|_| self.hash.len() == 64)
        else {
            return false;
        };
        let mut unhashed = body.to_vec();
        unhashed.extend_from_slice(br#","hash":""}"#);
        hex(ring::digest::digest(&ring::digest::SHA256, &unhashed).as_ref()) == self.hash
    }

    pub fn arrived_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.time)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// What the gateway knows of a request when it has been answered.
#[derive(Debug, Clone, Default)]
pub struct AuditRecord {
    pub arrived: DateTime<Utc>,
    pub request_id: String,
    pub user: String,
    pub roles: Vec<String>,
    pub method: String,
    pub server: Option<String>,
    pub tool: Option<String>,
    /// The raw parameters as sent (sanitised before they are stored).
    pub params: Option<String>,
    pub client_ip: Option<String>,
    pub outcome: String,
    pub error_code: Option<String>,
    pub http_status: u16,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

struct Tail {
    partition: String,
    next_seq: u64,
    prev_hash: String,
    head_version: Option<u64>,
}

/// Appends entries for one writer.
pub struct AuditLog {
    records: Arc<dyn RecordStore>,
    cipher: Option<Arc<dyn FieldCipher>>,
    instance: String,
    retention: Duration,
    tail: Mutex<Option<Tail>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit store: {0}")]
    Store(#[from] StoreError),
    #[error("audit encryption: {0}")]
    Crypto(String),
}

pub fn params_context() -> FieldContext {
    FieldContext::new("records", "audit", "params")
}

impl AuditLog {
    pub fn new(records: Arc<dyn RecordStore>, cipher: Option<Arc<dyn FieldCipher>>) -> Self {
        Self {
            records,
            cipher,
            instance: instance_id(),
            retention: DEFAULT_RETENTION,
            tail: Mutex::new(None),
        }
    }

    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Sanitises, encrypts and appends; returns the stored entry. On error
    /// nothing is half-written: the entry and its head move together.
    pub async fn append(&self, record: AuditRecord) -> Result<AuditEntry, AuditError> {
        let params = sanitized_params(record.params.as_deref());
        let (params, params_encrypted) = match (&self.cipher, params) {
            (Some(cipher), Some(p)) => {
                let plain = serde_json::to_vec(&p).unwrap_or_default();
                let sealed = cipher
                    .encrypt(&params_context(), &plain)
                    .await
                    .map_err(|e| AuditError::Crypto(e.to_string()))?;
                (None, Some(base64_encode(&sealed)))
            }
            (None, p) => (p, None),
            (Some(_), None) => (None, None),
        };
        let now = Utc::now();
        let partition_hour = hour_start(now);
        let partition = format!("{}-{}", partition_hour.format("%Y%m%d%H"), self.instance);
        let expires = partition_hour
            .checked_add_signed(
                chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::days(90)),
            )
            .and_then(|t| t.checked_add_signed(chrono::Duration::hours(1)));
        let mut tail = self.tail.lock().await;
        if tail.as_ref().is_none_or(|t| t.partition != partition) {
            *tail = Some(self.load_tail(&partition).await?);
        }
        let Some(t) = tail.as_mut() else {
            return Err(AuditError::Store(StoreError::Invalid(
                "no audit tail".into(),
            )));
        };
        let mut entry = AuditEntry {
            partition: partition.clone(),
            seq: t.next_seq,
            time: record.arrived.to_rfc3339_opts(SecondsFormat::Millis, true),
            request_id: record.request_id,
            user: record.user,
            roles: record.roles,
            method: record.method,
            server: record.server,
            tool: record.tool,
            params,
            params_encrypted,
            client_ip: record.client_ip,
            outcome: record.outcome,
            error_code: record.error_code,
            http_status: record.http_status,
            latency_ms: (record.latency_ms * 1000.0).round() / 1000.0,
            prev_hash: t.prev_hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        let value = serde_json::to_vec(&entry).unwrap_or_default();
        let head = serde_json::to_vec(&Head {
            seq: entry.seq,
            hash: entry.hash.clone(),
        })
        .unwrap_or_default();
        let entries = RecordScope::new(Owner::system(), AUDIT_COLLECTION)?;
        let heads = RecordScope::new(Owner::system(), HEAD_COLLECTION)?;
        let ops = vec![
            TxOp::Put {
                key: entries.key(&entry_id(&partition, entry.seq))?,
                value,
                condition: WriteCondition::IfAbsent,
                expires_at: expires,
            },
            TxOp::Put {
                key: heads.key(&partition)?,
                value: head,
                condition: t
                    .head_version
                    .map_or(WriteCondition::IfAbsent, WriteCondition::IfVersion),
                expires_at: expires,
            },
        ];
        match self.records.transact(ops).await {
            Ok(()) => {
                t.next_seq = t.next_seq.saturating_add(1);
                t.prev_hash = entry.hash.clone();
                t.head_version = Some(t.head_version.map_or(1, |v| v.saturating_add(1)));
                Ok(entry)
            }
            Err(e) => {
                // Whatever happened, re-read the chain's end next time.
                *tail = None;
                Err(e.into())
            }
        }
    }

    async fn load_tail(&self, partition: &str) -> Result<Tail, AuditError> {
        let heads = RecordScope::new(Owner::system(), HEAD_COLLECTION)?;
        match self.records.get(&heads.key(partition)?).await? {
            Some(record) => {
                let head: Head = serde_json::from_slice(&record.value)
                    .map_err(|e| StoreError::Corrupt(format!("audit head {partition}: {e}")))?;
                Ok(Tail {
                    partition: partition.to_string(),
                    next_seq: head.seq.saturating_add(1),
                    prev_hash: head.hash,
                    head_version: Some(record.version),
                })
            }
            None => Ok(Tail {
                partition: partition.to_string(),
                next_seq: 0,
                prev_hash: ZERO_HASH.to_string(),
                head_version: None,
            }),
        }
    }
}

fn sanitized_params(raw: Option<&str>) -> Option<serde_json::Value> {
    let raw = raw?;
    if raw.len() > MAX_AUDITED_PARAM_BYTES {
        let digest = hex(ring::digest::digest(&ring::digest::SHA256, raw.as_bytes()).as_ref());
        return Some(
            serde_json::json!({"omitted": "parameters too large to record", "bytes": raw.len(), "sha256": digest}),
        );
    }
    let mut value: serde_json::Value = serde_json::from_str(raw).ok()?;
    super::sanitize::sanitize(&mut value);
    Some(value)
}

pub fn entry_id(partition: &str, seq: u64) -> String {
    format!("{partition}#{seq:010}")
}

fn hour_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(t)
}

/// The partition prefix of an hour, for listing.
pub fn hour_prefix(t: DateTime<Utc>) -> String {
    hour_start(t).format("%Y%m%d%H").to_string()
}

fn instance_id() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 6];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        return format!(
            "p{:x}{:x}",
            std::process::id(),
            Utc::now().timestamp_subsec_nanos()
        );
    }
    hex(&bytes)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// One partition's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PartitionCheck {
    pub partition: String,
    pub entries: u64,
    pub ok: bool,
    /// What is wrong, with the first seq where it shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<u64>,
}

/// Checks every partition whose hour is in `[from, to]` (at most 31 days):
/// seqs contiguous from 0, each entry's hash recomputes, each links to the
/// previous, and the head names the last entry. Stops after about
/// `max_entries` entries (the flag says so).
pub async fn verify(
    records: &dyn RecordStore,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_entries: usize,
) -> Result<(Vec<PartitionCheck>, bool), StoreError> {
    let heads = RecordScope::new(Owner::system(), HEAD_COLLECTION)?;
    let entries_scope = RecordScope::new(Owner::system(), AUDIT_COLLECTION)?;
    let mut checks = Vec::new();
    let mut seen = 0usize;
    let mut hour = hour_start(from);
    let end = hour_start(to);
    let mut hours = 0u32;
    while hour <= end && hours < 24 * 31 {
        if seen >= max_entries {
            return Ok((checks, true));
        }
        let prefix = hour_prefix(hour);
        let mut partitions: std::collections::BTreeMap<
            String,
            (Option<Head>, Vec<gs_domain::Record>),
        > = Default::default();
        for record in list_all(records, &heads, &prefix).await? {
            let head = serde_json::from_slice::<Head>(&record.value).ok();
            partitions.entry(record.id).or_default().0 = head;
        }
        for record in list_all(records, &entries_scope, &prefix).await? {
            let partition = record
                .id
                .split_once('#')
                .map_or(record.id.clone(), |(p, _)| p.to_string());
            partitions.entry(partition).or_default().1.push(record);
        }
        for (partition, (head, entries)) in partitions {
            seen = seen.saturating_add(entries.len());
            checks.push(check_partition(&partition, head.as_ref(), &entries));
        }
        hour = match hour.checked_add_signed(chrono::Duration::hours(1)) {
            Some(h) => h,
            None => break,
        };
        hours = hours.saturating_add(1);
    }
    Ok((checks, false))
}

fn check_partition(
    partition: &str,
    head: Option<&Head>,
    records: &[gs_domain::Record],
) -> PartitionCheck {
    let mut check = PartitionCheck {
        partition: partition.to_string(),
        entries: u64::try_from(records.len()).unwrap_or(u64::MAX),
        ok: true,
        problem: None,
        first_bad_seq: None,
    };
    let fail = |check: &mut PartitionCheck, seq: u64, problem: String| {
        if check.ok {
            check.ok = false;
            check.problem = Some(problem);
            check.first_bad_seq = Some(seq);
        }
    };
    let mut expected_seq = 0u64;
    let mut prev_hash = ZERO_HASH.to_string();
    for record in records {
        let entry: AuditEntry = match serde_json::from_slice(&record.value) {
            Ok(e) => e,
            Err(e) => {
                fail(
                    &mut check,
                    expected_seq,
                    format!("entry {} is not an audit entry: {e}", record.id),
                );
                break;
            }
        };
        if record.id != entry_id(partition, entry.seq) || entry.partition != partition {
            fail(
                &mut check,
                expected_seq,
                format!(
                    "entry stored as {} claims partition {} seq {}",
                    record.id, entry.partition, entry.seq
                ),
            );
            break;
        }
        if entry.seq != expected_seq {
            fail(
                &mut check,
                expected_seq,
                format!(
                    "entries {expected_seq}..{} are missing (deleted)",
                    entry.seq
                ),
            );
            break;
        }
        if entry.prev_hash != prev_hash {
            fail(
                &mut check,
                entry.seq,
                format!(
                    "entry {} does not link to the entry before it (an entry was inserted, deleted or replaced)",
                    entry.seq
                ),
            );
            break;
        }
        if !entry.hash_matches(&record.value) {
            fail(
                &mut check,
                entry.seq,
                format!(
                    "entry {} was edited: its content no longer matches its hash",
                    entry.seq
                ),
            );
            break;
        }
        prev_hash = entry.hash;
        expected_seq = expected_seq.saturating_add(1);
    }
    if check.ok {
        match head {
            None => fail(
                &mut check,
                expected_seq,
                "the partition's head record is missing".into(),
            ),
            Some(head) if head.seq.saturating_add(1) != expected_seq || head.hash != prev_hash => {
                let last = expected_seq
                    .checked_sub(1)
                    .map_or("none".to_string(), |s| s.to_string());
                fail(
                    &mut check,
                    expected_seq,
                    format!(
                        "the head names entry {} but the chain ends at {last} (entries were deleted from the end)",
                        head.seq
                    ),
                );
            }
            Some(_) => {}
        }
    }
    check
}

/// Every live record of `scope` whose id starts with `prefix`, ascending.
pub async fn list_all(
    records: &dyn RecordStore,
    scope: &RecordScope,
    prefix: &str,
) -> Result<Vec<gs_domain::Record>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = records
            .list(
                scope,
                &ListQuery {
                    id_prefix: prefix.to_string(),
                    order: Order::Ascending,
                    limit: None,
                    cursor,
                },
            )
            .await?;
        out.extend(page.records);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Most entries one search reads before it stops (and says so).
pub const MAX_SCANNED_ENTRIES: usize = 50_000;

/// Entries whose arrival is in `[from, to]` and that `keep` accepts,
/// newest first, at most `limit`; `true` with them when the search stopped
/// at [`MAX_SCANNED_ENTRIES`] before the window's start. Parameters are
/// decrypted when `cipher` is given.
pub async fn search(
    records: &dyn RecordStore,
    cipher: Option<&dyn FieldCipher>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: usize,
    keep: impl Fn(&AuditEntry) -> bool,
) -> Result<(Vec<AuditEntry>, bool), StoreError> {
    let scope = RecordScope::new(Owner::system(), AUDIT_COLLECTION)?;
    let mut out: Vec<AuditEntry> = Vec::new();
    let mut scanned = 0usize;
    let start = hour_start(from);
    let mut hour = hour_start(to);
    while hour >= start && out.len() < limit {
        if scanned >= MAX_SCANNED_ENTRIES {
            return Ok((out, true));
        }
        let mut hour_entries: Vec<AuditEntry> = Vec::new();
        for record in list_all(records, &scope, &hour_prefix(hour)).await? {
            scanned = scanned.saturating_add(1);
            let Ok(entry) = serde_json::from_slice::<AuditEntry>(&record.value) else {
                continue;
            };
            let Some(at) = entry.arrived_at() else {
                continue;
            };
            if at >= from && at <= to && keep(&entry) {
                hour_entries.push(entry);
            }
        }
        hour_entries.sort_by(|a, b| {
            b.time
                .cmp(&a.time)
                .then(b.partition.cmp(&a.partition))
                .then(b.seq.cmp(&a.seq))
        });
        for mut entry in hour_entries {
            if out.len() >= limit {
                break;
            }
            if let (Some(cipher), Some(sealed)) = (cipher, entry.params_encrypted.as_deref())
                && let Some(bytes) = base64_decode(sealed)
                && let Ok(plain) = cipher.decrypt(&params_context(), &bytes).await
            {
                entry.params = serde_json::from_slice(&plain).ok();
                entry.params_encrypted = None;
            }
            out.push(entry);
        }
        hour = match hour.checked_sub_signed(chrono::Duration::hours(1)) {
            Some(h) => h,
            None => break,
        };
    }
    Ok((out, false))
}
