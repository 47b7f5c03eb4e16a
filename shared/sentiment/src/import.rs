//! Reading news files (JSONL, CSV, RSS 2.0, Atom) and post files (JSONL)
//! into items, all or nothing: any bad line fails the whole file, and the
//! error names every bad line (the first 20). Items are deduped by
//! [`content_id`] within the file; the store dedupes across imports.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::items::{NewsItem, Post, TickerIndex, content_id};

/// Longest headline, and longest summary or post text, in characters.
pub const MAX_HEADLINE_CHARS: usize = 1_000;
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Tickers one item may name; more is refused as likely noise.
pub const MAX_TICKERS: usize = 20;
/// Bad lines an error lists, at most.
pub const MAX_LISTED_ERRORS: usize = 20;

/// File formats for news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewsFormat {
    Jsonl,
    Csv,
    Rss,
    Atom,
}

impl NewsFormat {
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            "rss" => Some(Self::Rss),
            "atom" => Some(Self::Atom),
            _ => None,
        }
    }

    /// From the content: XML (`<rss` or `<feed`), a JSON object per line, or CSV.
    pub fn detect(text: &str) -> Self {
        let head = text.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with('<') {
            let probe: String = head.chars().take(4096).collect();
            if probe.contains("<feed") {
                Self::Atom
            } else {
                Self::Rss
            }
        } else if head.starts_with('{') {
            Self::Jsonl
        } else {
            Self::Csv
        }
    }
}

/// One bad line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a file was refused; nothing of it is to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    /// The first bad lines (at most 20).
    pub errors: Vec<LineError>,
    /// Bad lines in all.
    pub total: usize,
}

impl std::fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let listed: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} bad line{}; nothing was stored (quoted values come from the file: untrusted text): {}",
            self.total,
            if self.total == 1 { "" } else { "s" },
            listed.join("; ")
        )?;
        if self.total > self.errors.len() {
            write!(
                f,
                "; and {} more",
                self.total.saturating_sub(self.errors.len())
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportFailure {}

/// Items of a file that passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub items: Vec<T>,
    /// Items dropped because an earlier one in the file had the same id.
    pub duplicates: usize,
}

#[derive(Default)]
struct Errors {
    listed: Vec<LineError>,
    total: usize,
}

impl Errors {
    fn push(&mut self, line: usize, message: impl Into<String>) {
        self.total = self.total.saturating_add(1);
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed.push(LineError {
                line,
                message: message.into(),
            });
        }
    }

    fn finish<T>(self, items: Vec<T>, duplicates: usize) -> Result<Parsed<T>, ImportFailure> {
        if self.total > 0 {
            Err(ImportFailure {
                errors: self.listed,
                total: self.total,
            })
        } else {
            Ok(Parsed { items, duplicates })
        }
    }
}

/// Item times must lie in [1970-01-01, 2200-01-01).
pub const LATEST_YEAR: i32 = 2200;

/// A value from the file, as quoted in an error: escaped, at most 60 characters.
pub(crate) fn quote(value: &str) -> String {
    let mut cut: String = value.chars().take(60).collect();
    if value.chars().count() > 60 {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Parses a time: RFC 3339, RFC 2822 (RSS), `YYYY-MM-DD HH:MM[:SS]` (UTC),
/// `YYYY-MM-DD` (midnight UTC), Unix seconds or Unix milliseconds (12
/// digits and more); it must lie between 1970 and 2200.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let t = parse_any_time(text)?;
    let year = chrono::Datelike::year(&t);
    if !(1970..LATEST_YEAR).contains(&year) {
        return Err(format!(
            "time {} is in the year {year}; item times must lie between 1970 and {LATEST_YEAR}",
            quote(text.trim())
        ));
    }
    Ok(t)
}

fn parse_any_time(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(n) = t.parse::<i64>() {
        // 12 digits and more are milliseconds (seconds that large are past 5000 AD).
        let d = if n.unsigned_abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
        if let Some(d) = d {
            return Ok(d);
        }
    }
    Err(format!(
        "time {} is not RFC 3339 (2026-03-02T14:30:00Z), RFC 2822, YYYY-MM-DD[ HH:MM:SS] or Unix seconds or milliseconds",
        quote(t)
    ))
}

fn check_ticker(t: &str) -> Result<String, String> {
    let t = t.trim().trim_start_matches('$').to_uppercase();
    let ok = !t.is_empty()
        && t.len() <= 15
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '^');
    if ok {
        Ok(t)
    } else {
        Err(format!(
            "ticker {} is not a symbol (letters, digits, '.', '-', up to 15)",
            quote(&t)
        ))
    }
}

fn tickers_from(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => split_tickers(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => check_ticker(s),
                other => Err(format!(
                    "tickers must be strings, found {}",
                    quote(&other.to_string())
                )),
            })
            .collect(),
        Some(other) => Err(format!(
            "tickers must be a list or a string, found {}",
            quote(&other.to_string())
        )),
    }
}

fn split_tickers(s: &str) -> Result<Vec<String>, String> {
    s.split([',', ';', ' ', '|'])
        .filter(|t| !t.trim().is_empty())
        .map(check_ticker)
        .collect()
}

fn merge_tickers(mut given: Vec<String>, found: Vec<String>) -> Result<Vec<String>, String> {
    given.extend(found);
    given.sort();
    given.dedup();
    if given.len() > MAX_TICKERS {
        return Err(format!(
            "{} tickers; an item may name at most {MAX_TICKERS}",
            given.len()
        ));
    }
    Ok(given)
}

fn text_field(
    obj: &serde_json::Map<String, Value>,
    names: &[&str],
) -> Result<Option<String>, String> {
    for n in names {
        match obj.get(*n) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                let s = s.trim();
                return Ok((!s.is_empty()).then(|| s.to_string()));
            }
            Some(Value::Number(n)) => return Ok(Some(n.to_string())),
            Some(other) => {
                return Err(format!(
                    "{n} must be a string, found {}",
                    quote(&other.to_string())
                ));
            }
        }
    }
    Ok(None)
}

fn bounded(what: &str, text: String, max: usize) -> Result<String, String> {
    let n = text.chars().count();
    if n > max {
        Err(format!("{what} has {n} characters; at most {max}"))
    } else {
        Ok(text)
    }
}

/// Raw fields of one news item, from whichever format.
#[derive(Default)]
struct NewsFields {
    time: Option<String>,
    source: Option<String>,
    headline: Option<String>,
    summary: Option<String>,
    url: Option<String>,
    tickers: Vec<String>,
}

fn build_news(
    f: NewsFields,
    default_source: &str,
    index: &TickerIndex,
) -> Result<NewsItem, String> {
    let headline = f.headline.ok_or("no headline (field headline or title)")?;
    let headline = bounded("headline", collapse(&headline), MAX_HEADLINE_CHARS)?;
    let time = parse_time(
        f.time
            .as_deref()
            .ok_or("no time (field time, published or date)")?,
    )?;
    let summary = f
        .summary
        .map(|s| {
            // Feeds carry HTML: drop the tags, then decode its entities.
            bounded(
                "summary",
                collapse(&decode_entities(&strip_tags(&s))),
                MAX_TEXT_CHARS,
            )
        })
        .transpose()?
        .filter(|s| !s.is_empty());
    let source = f.source.unwrap_or_else(|| default_source.to_string());
    let found = index.extract(&format!("{headline} {}", summary.as_deref().unwrap_or("")));
    let tickers = merge_tickers(f.tickers, found)?;
    let id = content_id(f.url.as_deref(), &source, &headline);
    Ok(NewsItem {
        id,
        time,
        source,
        headline,
        summary,
        url: f.url,
        tickers,
        synthetic: false,
        planted_event: None,
    })
}

fn dedupe<T>(items: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, usize) {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    let mut duplicates = 0usize;
    for item in items {
        if seen.insert(id(&item).to_string()) {
            out.push(item);
        } else {
            duplicates = duplicates.saturating_add(1);
        }
    }
    (out, duplicates)
}

/// Parses a news file. `default_source` names items without a source (the
/// file name, say); RSS and Atom items take the feed's title.
pub fn parse_news(
    text: &str,
    format: NewsFormat,
    default_source: &str,
    index: &TickerIndex,
) -> Result<Parsed<NewsItem>, ImportFailure> {
    let text = text.trim_start_matches('\u{feff}');
    let mut errors = Errors::default();
    let mut items = Vec::new();
    let mut emit =
        |line: usize, fields: Result<NewsFields, String>, errors: &mut Errors| match fields
            .and_then(|f| build_news(f, default_source, index))
        {
            Ok(item) => items.push(item),
            Err(e) => errors.push(line, e),
        };
    match format {
        NewsFormat::Jsonl => {
            for (i, line) in text.lines().enumerate() {
                let n = i.saturating_add(1);
                if line.trim().is_empty() {
                    continue;
                }
                emit(n, news_from_json(line), &mut errors);
            }
        }
        NewsFormat::Csv => match csv_rows(text) {
            Ok(rows) => {
                for (line, row) in rows {
                    emit(
                        line,
                        row.map(|r| news_from_row(&r)).and_then(|r| r),
                        &mut errors,
                    );
                }
            }
            Err(e) => errors.push(e.line, e.message),
        },
        NewsFormat::Rss | NewsFormat::Atom => match parse_feed(text) {
            Ok(feed) => {
                let source = feed.title.clone();
                for entry in feed.entries {
                    let fields = entry.into_fields(source.as_deref());
                    emit(fields.0, Ok(fields.1), &mut errors);
                }
            }
            Err(e) => errors.push(e.line, e.message),
        },
    }
    if items.is_empty() && errors.total == 0 {
        errors.push(1, "the file holds no items");
    }
    let (items, duplicates) = dedupe(items, |i| i.id.as_str());
    errors.finish(items, duplicates)
}

fn news_from_json(line: &str) -> Result<NewsFields, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("each line must be a JSON object".into());
    };
    Ok(NewsFields {
        time: text_field(
            &obj,
            &["time", "published", "published_at", "datetime", "date"],
        )?,
        source: text_field(&obj, &["source", "publisher"])?,
        headline: text_field(&obj, &["headline", "title"])?,
        summary: text_field(&obj, &["summary", "description", "body"])?,
        url: text_field(&obj, &["url", "link"])?,
        tickers: tickers_from(obj.get("tickers").or_else(|| obj.get("symbols")))?,
    })
}

type Row = Vec<(String, String)>;
type Rows = Vec<(usize, Result<Row, String>)>;

fn csv_rows(text: &str) -> Result<Rows, LineError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| LineError {
            line: 1,
            message: format!("cannot read the header: {e}"),
        })?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let fallback = i.saturating_add(2);
        match rec {
            Ok(r) => {
                let line = r
                    .position()
                    .and_then(|p| usize::try_from(p.line()).ok())
                    .unwrap_or(fallback);
                let row = headers
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_string))
                    .collect();
                out.push((line, Ok(row)));
            }
            Err(e) => {
                let line = e
                    .position()
                    .and_then(|p| usize::try_from(p.line()).ok())
                    .unwrap_or(fallback);
                out.push((line, Err(e.to_string())));
            }
        }
    }
    Ok(out)
}

fn row_get(row: &Row, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        row.iter()
            .find(|(h, _)| h == n)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

fn news_from_row(row: &Row) -> Result<NewsFields, String> {
    Ok(NewsFields {
        time: row_get(
            row,
            &["time", "published", "published_at", "datetime", "date"],
        ),
        source: row_get(row, &["source", "publisher"]),
        headline: row_get(row, &["headline", "title"]),
        summary: row_get(row, &["summary", "description", "body"]),
        url: row_get(row, &["url", "link"]),
        tickers: match row_get(row, &["tickers", "symbols"]) {
            Some(s) => split_tickers(&s)?,
            None => Vec::new(),
        },
    })
}

/// Parses a JSONL file of posts: `time`, `text` required; `platform`,
/// `author`, `url`, `engagement` (a number, or an object of counts that are
/// added up) or `likes`/`reposts`/`replies`, `tickers` optional.
pub fn parse_posts(text: &str, index: &TickerIndex) -> Result<Parsed<Post>, ImportFailure> {
    let text = text.trim_start_matches('\u{feff}');
    let mut errors = Errors::default();
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i.saturating_add(1);
        if line.trim().is_empty() {
            continue;
        }
        match post_from_json(line, index) {
            Ok(p) => items.push(p),
            Err(e) => errors.push(n, e),
        }
    }
    if items.is_empty() && errors.total == 0 {
        errors.push(1, "the file holds no posts");
    }
    let (items, duplicates) = dedupe(items, |p| p.id.as_str());
    errors.finish(items, duplicates)
}

fn count(v: &Value, what: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| format!("{what} must be a non-negative number")),
        Value::Null => Ok(0.0),
        other => Err(format!(
            "{what} must be a number, found {}",
            quote(&other.to_string())
        )),
    }
}

fn post_from_json(line: &str, index: &TickerIndex) -> Result<Post, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("each line must be a JSON object".into());
    };
    let text = text_field(&obj, &["text", "body", "content"])?.ok_or("no text (field text)")?;
    let text = bounded("text", text, MAX_TEXT_CHARS)?;
    let time = parse_time(
        &text_field(&obj, &["time", "created_at", "timestamp", "date"])?
            .ok_or("no time (field time or created_at)")?,
    )?;
    let platform = text_field(&obj, &["platform", "site"])?.unwrap_or_else(|| "unknown".into());
    let author =
        text_field(&obj, &["author", "user", "username"])?.unwrap_or_else(|| "unknown".into());
    let url = text_field(&obj, &["url", "link"])?;
    let engagement = match obj.get("engagement") {
        Some(Value::Object(counts)) => {
            let mut sum = 0.0;
            for (k, v) in counts {
                sum += count(v, &format!("engagement.{k}"))?;
            }
            sum
        }
        Some(v) => count(v, "engagement")?,
        None => {
            let mut sum = 0.0;
            for k in ["likes", "reposts", "retweets", "replies", "score"] {
                if let Some(v) = obj.get(k) {
                    sum += count(v, k)?;
                }
            }
            sum
        }
    };
    if !engagement.is_finite() || engagement > 1e15 {
        return Err("engagement adds up to more than 1e15; give real counts".into());
    }
    let cashtags = TickerIndex::cashtags(&text);
    let tickers = merge_tickers(
        tickers_from(obj.get("tickers").or_else(|| obj.get("symbols")))?,
        index.extract(&text),
    )?;
    let id = content_id(
        url.as_deref(),
        &format!("{platform}/{author}/{}", time.timestamp()),
        &text,
    );
    Ok(Post {
        id,
        time,
        platform,
        author,
        text,
        cashtags,
        tickers,
        engagement,
        synthetic: false,
        planted_event: None,
    })
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drops HTML tags (feeds and news APIs put markup in descriptions): a `<`
/// followed by a letter, `/`, `!` or `?` up to the next `>`. Any other `<`
/// (as in "EPS < consensus"), or one never closed, is text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(rest.get(..lt).unwrap_or_default());
        let after = rest.get(lt.saturating_add(1)..).unwrap_or_default();
        let tag_like = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        match after.find('>').filter(|_| tag_like) {
            Some(gt) => {
                out.push(' ');
                rest = after.get(gt.saturating_add(1)..).unwrap_or_default();
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// ------------------------------------------------------------- RSS and Atom

#[derive(Debug, Default)]
struct Feed {
    title: Option<String>,
    entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct Entry {
    line: usize,
    title: String,
    link: Option<String>,
    summary: String,
    content: String,
    published: String,
    updated: String,
    id: String,
    categories: Vec<String>,
}

impl Entry {
    fn into_fields(self, feed_title: Option<&str>) -> (usize, NewsFields) {
        let nonempty = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let link = self
            .link
            .and_then(nonempty)
            .or_else(|| nonempty(self.id.clone()).filter(|id| id.starts_with("http")));
        let tickers = self
            .categories
            .iter()
            .filter_map(|c| {
                let c = c.trim();
                c.strip_prefix('$').and_then(|t| check_ticker(t).ok())
            })
            .collect();
        (
            self.line,
            NewsFields {
                time: nonempty(self.published).or_else(|| nonempty(self.updated)),
                source: feed_title.map(str::to_string),
                headline: nonempty(self.title),
                summary: nonempty(self.summary).or_else(|| nonempty(self.content)),
                url: link,
                tickers,
            },
        )
    }
}

fn line_of(text: &str, pos: usize) -> usize {
    LineCounter::default().line_at(text, pos)
}

/// Line numbers of increasing byte positions, counting each byte once.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, pos: usize) -> usize {
        if pos < self.pos {
            *self = Self::default();
        }
        let more = text
            .get(self.pos..pos)
            .map_or(0, |s| s.bytes().filter(|b| *b == b'\n').count());
        self.newlines = self.newlines.saturating_add(more);
        self.pos = pos;
        self.newlines.saturating_add(1)
    }
}

/// Decodes the five XML entities and numeric character references.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp..).unwrap_or_default();
        let Some(semi) = after.find(';').filter(|i| *i <= 12) else {
            out.push('&');
            rest = after.get(1..).unwrap_or_default();
            continue;
        };
        let name = after.get(1..semi).unwrap_or_default();
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            n if n.starts_with("#x") || n.starts_with("#X") => n
                .get(2..)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32),
            n if n.starts_with('#') => n
                .get(1..)
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32),
            "nbsp" => Some(' '),
            "rsquo" | "lsquo" => Some('\''),
            "rdquo" | "ldquo" => Some('"'),
            "mdash" => Some('—'),
            "ndash" => Some('–'),
            "hellip" => Some('…'),
            _ => None,
        }
        // A reference to a control character decodes to a space.
        .map(|c| if c.is_control() { ' ' } else { c });
        match decoded {
            Some(c) => {
                out.push(c);
                rest = after.get(semi.saturating_add(1)..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_feed(text: &str) -> Result<Feed, LineError> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let mut feed = Feed::default();
    let mut stack: Vec<String> = Vec::new();
    let mut opening: Option<(String, usize)> = None;
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut entry: Option<(Entry, usize)> = None;
    let mut root: Option<String> = None;
    let mut lines = LineCounter::default();
    let name_of = |prefix: &str, local: &str| {
        if prefix.is_empty() {
            local.to_string()
        } else {
            format!("{prefix}:{local}")
        }
    };
    for token in Tokenizer::from(text) {
        let token = token.map_err(|e| LineError {
            line: usize::try_from(e.pos().row).unwrap_or(1),
            message: format!("not well-formed XML: {e}"),
        })?;
        match token {
            Token::ElementStart {
                prefix,
                local,
                span,
            } => {
                opening = Some((name_of(prefix.as_str(), local.as_str()), span.start()));
                attrs.clear();
            }
            Token::Attribute {
                prefix,
                local,
                value,
                ..
            } => {
                attrs.push((
                    name_of(prefix.as_str(), local.as_str()),
                    decode_entities(value.as_str()),
                ));
            }
            Token::ElementEnd { end, span } => match end {
                ElementEnd::Open | ElementEnd::Empty => {
                    let Some((name, start)) = opening.take() else {
                        continue;
                    };
                    if root.is_none() {
                        if name != "rss" && name != "feed" && name != "rdf:RDF" {
                            return Err(LineError {
                                line: line_of(text, start),
                                message: format!(
                                    "the root element {} is neither an RSS 2.0 <rss> nor an Atom <feed>",
                                    quote(&name)
                                ),
                            });
                        }
                        root = Some(name.clone());
                    }
                    let is_entry = name == "item" || name == "entry";
                    if let (Some((e, depth)), "link") = (entry.as_mut(), name.as_str())
                        && stack.len() == *depth
                    {
                        let rel = attrs
                            .iter()
                            .find(|(k, _)| k == "rel")
                            .map(|(_, v)| v.as_str());
                        if let Some((_, href)) = attrs.iter().find(|(k, _)| k == "href")
                            && matches!(rel, None | Some("alternate"))
                            && e.link.is_none()
                        {
                            e.link = Some(href.clone());
                        }
                    }
                    if matches!(end, ElementEnd::Open) {
                        if is_entry && entry.is_none() {
                            entry = Some((
                                Entry {
                                    line: lines.line_at(text, start),
                                    ..Entry::default()
                                },
                                stack.len().saturating_add(1),
                            ));
                        }
                        stack.push(name);
                    }
                }
                ElementEnd::Close(prefix, local) => {
                    let name = name_of(prefix.as_str(), local.as_str());
                    if stack.pop().as_deref() != Some(name.as_str()) {
                        return Err(LineError {
                            line: line_of(text, span.start()),
                            message: format!(
                                "closing tag {} does not match the element it closes",
                                quote(&name)
                            ),
                        });
                    }
                    if (name == "item" || name == "entry")
                        && entry
                            .as_ref()
                            .is_some_and(|(_, d)| stack.len().saturating_add(1) == *d)
                        && let Some((e, _)) = entry.take()
                    {
                        feed.entries.push(e);
                    }
                }
            },
            Token::Text { .. } | Token::Cdata { .. } => {
                let value = match token {
                    Token::Text { text: t } => decode_entities(t.as_str()),
                    Token::Cdata { text: t, .. } => t.as_str().to_string(),
                    _ => String::new(),
                };
                if let Some((e, depth)) = entry.as_mut() {
                    if stack.len() == depth.saturating_add(1) {
                        let field = stack.last().map(String::as_str).unwrap_or_default();
                        let slot = match field {
                            "title" => Some(&mut e.title),
                            "description" | "summary" => Some(&mut e.summary),
                            "content" | "content:encoded" => Some(&mut e.content),
                            "pubDate" | "published" | "dc:date" => Some(&mut e.published),
                            "updated" => Some(&mut e.updated),
                            "guid" | "id" => Some(&mut e.id),
                            "link" => {
                                if e.link.is_none() {
                                    e.link = Some(value.clone());
                                }
                                None
                            }
                            "category" => {
                                e.categories.push(value.clone());
                                None
                            }
                            _ => None,
                        };
                        if let Some(slot) = slot {
                            slot.push_str(&value);
                        }
                    }
                } else if stack.last().map(String::as_str) == Some("title")
                    && feed.title.is_none()
                    && matches!(stack.len(), 2 | 3)
                {
                    let title = value.trim().to_string();
                    if !title.is_empty() {
                        feed.title = Some(title);
                    }
                }
            }
            _ => {}
        }
    }
    if root.is_none() {
        return Err(LineError {
            line: 1,
            message: "no XML element: expected an RSS 2.0 or Atom feed".into(),
        });
    }
    if !stack.is_empty() {
        return Err(LineError {
            line: line_of(text, text.len()),
            message: format!("the file ends inside <{}>", stack.join("> <")),
        });
    }
    Ok(feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_accepted_spelling() {
        let want = "2026-03-02T14:30:00Z";
        for t in [
            "2026-03-02T14:30:00Z",
            "2026-03-02T15:30:00+01:00",
            "Mon, 02 Mar 2026 14:30:00 GMT",
            "2026-03-02 14:30:00",
            "1772461800",
        ] {
            assert_eq!(
                parse_time(t)
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                want,
                "{t}"
            );
        }
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("AT&amp;T &lt;up&gt; &#36;5 &#x41; &bogus; & x"),
            "AT&T <up> $5 A &bogus; & x"
        );
    }
}
