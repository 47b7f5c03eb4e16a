//! `import_bars` of the `database` server: CSV text in, stored bars out,
//! all-or-nothing with line-numbered errors. `goldensignals import` uses it
//! to hand a file to a running server, so importing never needs the server
//! stopped and nothing is lost.

use gs_domain::{DataSource, SeriesKey, Symbol, Timeframe};
use gs_market_data::{CsvOptions, parse_csv_str};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::registry::{Annotations, Tool};

/// Largest CSV text one call takes (a year of 1-minute bars is about 25 MB:
/// split such files by month).
pub const MAX_CSV_BYTES: usize = 12 * 1024 * 1024;
const MAX_LISTED_SKIPS: usize = 20;
const MAX_FILE_NAME_BYTES: usize = 256;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBarsArgs {
    /// Symbol the bars belong to, e.g. AAPL.
    pub symbol: String,
    /// Bar width of the file: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w.
    pub timeframe: String,
    /// The CSV text: a time column and open, high, low, close (volume optional); Yahoo, yfinance and pandas layouts, `,` `;` or tab separated (at most 12 MiB).
    pub csv: String,
    /// Store the good rows and report the bad ones instead of refusing the whole file (default false).
    #[serde(default)]
    pub skip_bad: bool,
    /// Name of the file the text came from, recorded as the series' source (default "import.csv").
    pub file_name: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportBarsOutput {
    pub symbol: String,
    pub timeframe: String,
    /// Bars stored by this call.
    pub imported: usize,
    /// Bars that were new.
    pub inserted: u64,
    /// Bars that replaced stored bars at the same time.
    pub updated: u64,
    /// How the file was read (separator, decimal mark, header rows).
    pub dialect: String,
    /// Rows left out under skip_bad, with their line numbers (the first 20).
    pub skipped: Vec<String>,
    /// Number of rows left out under skip_bad.
    pub skipped_count: usize,
    /// The id of the bars.updated event that tells alert rules and other consumers about these bars (absent when none could be published; the bars are stored either way and the next import's event covers them).
    pub event_id: Option<String>,
}

pub async fn import_bars(
    ctx: &ToolContext,
    args: ImportBarsArgs,
) -> Result<(ImportBarsOutput, String), ToolError> {
    let symbol = Symbol::parse(&args.symbol)?;
    let timeframe = Timeframe::parse(&args.timeframe)?;
    if args.csv.len() > MAX_CSV_BYTES {
        return Err(ToolError::invalid(format!(
            "csv is {} bytes; send at most {MAX_CSV_BYTES} per call (split the file by date range)",
            args.csv.len()
        )));
    }
    let file = args.file_name.unwrap_or_else(|| "import.csv".to_string());
    if file.len() > MAX_FILE_NAME_BYTES {
        return Err(ToolError::invalid(format!(
            "file_name is {} bytes; give at most {MAX_FILE_NAME_BYTES} (it is recorded as the series' source)",
            file.len()
        )));
    }
    let source = DataSource::Imported { file: file.clone() };
    let options = CsvOptions {
        skip_bad: args.skip_bad,
    };
    let csv = args.csv;
    let parsed = ctx
        .compute(move || {
            parse_csv_str(&csv, &options).map_err(|e| {
                ToolError::invalid(format!("{file} was not imported; nothing was stored: {e}"))
            })
        })
        .await?;
    if let Some(ticker) = parsed
        .dialect
        .ticker
        .as_deref()
        .filter(|t| !t.eq_ignore_ascii_case(symbol.as_str()))
    {
        return Err(ToolError::invalid(format!(
            "the file holds {ticker} (its yfinance Ticker row) but symbol is {symbol}; nothing was stored: import it as {ticker} or fix the symbol"
        )));
    }
    if parsed.bars.is_empty() {
        return Err(ToolError::invalid(
            "the file has no valid bars; nothing was stored",
        ));
    }
    let key = SeriesKey::new(symbol, timeframe);
    let report = ctx.bars().put_bars(&key, &parsed.bars, &source).await?;
    let event = bars_updated(&key, &parsed.bars, report, "goldensignals/import");
    let event_id = match crate::bus::publish(&ctx.stores, std::slice::from_ref(&event)).await {
        Ok(()) => ctx.stores.bus.as_ref().map(|_| event.id.clone()),
        Err(e) => {
            tracing::warn!(error = %e, "the bars were stored but their bars.updated event was not published");
            None
        }
    };
    let skipped: Vec<String> = parsed
        .skipped
        .iter()
        .take(MAX_LISTED_SKIPS)
        .map(ToString::to_string)
        .collect();
    let summary = format!(
        "Imported {} bars of {} {} ({} new, {} updated; read as {}).{}",
        parsed.bars.len(),
        key.symbol,
        key.timeframe,
        report.inserted,
        report.updated,
        parsed.dialect,
        if parsed.skipped.is_empty() {
            String::new()
        } else {
            format!(" Skipped {} bad rows.", parsed.skipped.len())
        }
    );
    Ok((
        ImportBarsOutput {
            symbol: key.symbol.to_string(),
            timeframe: key.timeframe.to_string(),
            imported: parsed.bars.len(),
            inserted: report.inserted,
            updated: report.updated,
            dialect: parsed.dialect.to_string(),
            skipped,
            skipped_count: parsed.skipped.len(),
            event_id,
        },
        summary,
    ))
}

/// The `bars.updated` event of a put: the series, the first and last bar
/// time written, how many bars, and what the put did.
pub fn bars_updated(
    key: &SeriesKey,
    bars: &[gs_domain::Bar],
    report: gs_domain::PutReport,
    source: &str,
) -> gs_domain::Event {
    let time = |b: Option<&gs_domain::Bar>| {
        b.map(|b| b.time().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    gs_domain::Event::new(
        crate::bus::new_event_id(),
        source,
        gs_domain::EventType::BarsUpdated,
        chrono::Utc::now(),
        Some(key.symbol.to_string()),
        serde_json::json!({
            "symbol": key.symbol.as_str(),
            "timeframe": key.timeframe.to_string(),
            "first": time(bars.first()),
            "last": time(bars.last()),
            "bars": bars.len(),
            "inserted": report.inserted,
            "updated": report.updated,
        }),
    )
}

/// `import_bars` of the `database` server.
#[derive(Debug)]
pub struct ImportBars;

impl Tool for ImportBars {
    const NAME: &'static str = "import_bars";
    const SERVER: &'static str = "database";
    const TITLE: &'static str = "Import OHLCV bars from CSV";
    const DESCRIPTION: &'static str = "Store OHLCV bars of one symbol and timeframe from CSV text (Yahoo, yfinance and pandas layouts; `,` `;` or tab separated; time zone offsets converted to UTC). All or nothing: a malformed file is refused with the line numbers of its bad rows and nothing is stored, unless skip_bad. Bars at times already stored are replaced; readers see the old series or the new one, never a mix.";
    const ANNOTATIONS: Annotations = Annotations {
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
    };
    type Args = ImportBarsArgs;
    type Output = ImportBarsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        import_bars(&ctx, args).await
    }
}
