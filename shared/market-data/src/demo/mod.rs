//! The seeded demo data set: plausible-looking but clearly synthetic bars
//! for a handful of tickers, so the product can be tried without a data feed.
//!
//! Each symbol's daily path is simulated session by session from a fixed
//! origin, and each session's intraday bars come from their own stream keyed
//! by (seed, symbol, date). So the bars of a given day are the same whatever
//! `end` is: re-running the demo later only adds days, it never rewrites history.

mod daily;
mod intraday;
mod rng;
mod seed;

pub use seed::{SeedReport, seed_demo};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use gs_domain::{Bar, DataSource, SeriesKey, Symbol, Timeframe};

use daily::{Session, simulate_sessions};
use intraday::{intraday_bars, session_end};
use rng::{Rng, derive_seed, fnv1a};

/// Names the model in every series' [`DataSource`]. Change it whenever the
/// output for a given seed changes, so stored demo data says which model made it.
pub const DEMO_GENERATOR: &str = "goldensignals-demo-v1";

/// One generated series.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSeries {
    pub key: SeriesKey,
    /// Oldest first, strictly increasing times, every bar valid.
    pub bars: Vec<Bar>,
}

/// The source to store demo series under, so anything computed from them is
/// labelled synthetic.
pub fn demo_source(seed: u64) -> DataSource {
    DataSource::Synthetic {
        generator: DEMO_GENERATOR.to_string(),
        seed,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Market {
    /// Mon-Fri, 14:30-21:00 UTC, no holidays.
    Equity,
    /// Every day, around the clock.
    Crypto,
}

impl Market {
    fn sessions_per_year(self) -> f64 {
        match self {
            Self::Equity => 252.0,
            Self::Crypto => 365.0,
        }
    }
}

pub(crate) struct Spec {
    ticker: &'static str,
    /// Price the path starts at and is loosely pulled back to.
    level: f64,
    annual_vol: f64,
    /// Typical shares (coins) per session.
    daily_volume: f64,
    market: Market,
}

const SPECS: [Spec; 8] = [
    spec("AAPL", 190.0, 0.27, 55e6, Market::Equity),
    spec("MSFT", 410.0, 0.24, 22e6, Market::Equity),
    spec("NVDA", 120.0, 0.50, 300e6, Market::Equity),
    spec("SPY", 520.0, 0.16, 70e6, Market::Equity),
    spec("TSLA", 220.0, 0.58, 95e6, Market::Equity),
    spec("JPM", 200.0, 0.22, 9e6, Market::Equity),
    spec("XOM", 110.0, 0.25, 16e6, Market::Equity),
    spec("BTC-USD", 60_000.0, 0.60, 30e3, Market::Crypto),
];

const fn spec(
    ticker: &'static str,
    level: f64,
    annual_vol: f64,
    daily_volume: f64,
    market: Market,
) -> Spec {
    Spec {
        ticker,
        level,
        annual_vol,
        daily_volume,
        market,
    }
}

/// Where every path starts, whatever `end` is, so that history is stable.
/// Recent enough that simulating up to today stays cheap in debug builds,
/// early enough that the anchor pull has forgotten the starting level by any
/// plausible window.
const ORIGIN: NaiveDate = match NaiveDate::from_ymd_opt(2015, 1, 5) {
    Some(d) => d,
    None => panic!("valid date"),
};
const DAILY_MONTHS: u32 = 36;
const HOURLY_MONTHS: u32 = 6;
const FIVE_MINUTE_SESSIONS: usize = 20;

/// Demo bars for every symbol: `1d` for about three years, `1h` for about six
/// months and `5m` for the last 20 sessions, all ending with the last session
/// that had closed by `end` (no partial bars, nothing after `end`).
///
/// Same `seed` and `end` give identical output; different `end`s give the
/// same bars on the days they share. Series are ordered by symbol, then
/// timeframe. Intraday bars aggregate exactly to the daily bar of their
/// session.
pub fn demo_dataset(seed: u64, end: DateTime<Utc>) -> Vec<DemoSeries> {
    let mut out: Vec<DemoSeries> = SPECS
        .iter()
        .flat_map(|spec| symbol_series(spec, seed, end))
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

fn symbol_series(spec: &Spec, seed: u64, end: DateTime<Utc>) -> [DemoSeries; 3] {
    let symbol = Symbol::parse(spec.ticker).expect("demo tickers are valid symbols");
    let stream = derive_seed(&[seed, fnv1a(spec.ticker)]);
    let last = last_closed_session(spec.market, end);
    let end_date = end.date_naive();
    let daily_from = end_date - Months::new(DAILY_MONTHS);
    let hourly_from = end_date - Months::new(HOURLY_MONTHS);

    let dates = session_dates(spec.market, ORIGIN.min(daily_from), last);
    let sessions = simulate_sessions(spec, &mut Rng::new(stream), &dates);
    let daily: Vec<Bar> = sessions
        .iter()
        .filter(|s| s.date > daily_from)
        .map(daily_bar)
        .collect();

    let recent: Vec<&Session> = sessions.iter().filter(|s| s.date > hourly_from).collect();
    let five_from = recent.len().saturating_sub(FIVE_MINUTE_SESSIONS);
    let mut hourly = Vec::new();
    let mut five = Vec::new();
    for (i, session) in recent.iter().enumerate() {
        let day = u64::try_from(session.date.num_days_from_ce()).unwrap_or_default();
        let mut hourly_rng = Rng::new(derive_seed(&[stream, day, 60]));
        let mut five_rng = (i >= five_from).then(|| Rng::new(derive_seed(&[stream, day, 5])));
        let (h, m5) = intraday_bars(spec.market, session, &mut hourly_rng, five_rng.as_mut());
        hourly.extend(h);
        five.extend(m5);
    }

    let key = |timeframe| SeriesKey::new(symbol.clone(), timeframe);
    [
        DemoSeries {
            key: key(Timeframe::D1),
            bars: daily,
        },
        DemoSeries {
            key: key(Timeframe::H1),
            bars: hourly,
        },
        DemoSeries {
            key: key(Timeframe::M5),
            bars: five,
        },
    ]
}

fn daily_bar(s: &Session) -> Bar {
    let midnight = Utc.from_utc_datetime(&s.date.and_time(NaiveTime::MIN));
    Bar::new(midnight, s.open, s.high, s.low, s.close, s.volume)
        .expect("sessions are built consistent")
}

/// The last session whose close is at or before `end`.
fn last_closed_session(market: Market, end: DateTime<Utc>) -> NaiveDate {
    let mut date = end.date_naive();
    while !(is_session(market, date) && session_end(market, date) <= end) {
        date = date - Days::new(1);
    }
    date
}

fn is_session(market: Market, date: NaiveDate) -> bool {
    match market {
        Market::Equity => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        Market::Crypto => true,
    }
}

fn session_dates(market: Market, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| is_session(market, *d))
        .collect()
}
