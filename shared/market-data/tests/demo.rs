//! Behaviour of the demo data set as the rest of the product sees it.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use gs_domain::{Bar, DataSource, Timeframe, resample};
use gs_market_data::{DEMO_GENERATOR, DemoSeries, demo_dataset, demo_source};

/// A Wednesday at noon UTC: the session of that day has not closed yet.
fn end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 18, 12, 0, 0).unwrap()
}

fn series<'a>(set: &'a [DemoSeries], symbol: &str, timeframe: Timeframe) -> &'a [Bar] {
    &set.iter()
        .find(|s| s.key.symbol.as_str() == symbol && s.key.timeframe == timeframe)
        .unwrap_or_else(|| panic!("no {symbol} {timeframe}"))
        .bars
}

fn is_crypto(s: &DemoSeries) -> bool {
    s.key.symbol.as_str() == "BTC-USD"
}

fn lag1_autocorrelation(x: &[f64]) -> f64 {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    let cov: f64 = x.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    cov / var
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = demo_dataset(7, end());
    assert_eq!(a, demo_dataset(7, end()));
    let b = demo_dataset(8, end());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.key, y.key);
        assert_ne!(x.bars, y.bars, "{:?} did not change with the seed", x.key);
    }
}

#[test]
fn covers_every_symbol_and_timeframe_with_the_expected_depth() {
    let set = demo_dataset(1, end());
    let symbols: Vec<&str> = set
        .iter()
        .filter(|s| s.key.timeframe == Timeframe::D1)
        .map(|s| s.key.symbol.as_str())
        .collect();
    assert_eq!(
        symbols,
        [
            "AAPL", "BTC-USD", "JPM", "MSFT", "NVDA", "SPY", "TSLA", "XOM"
        ]
    );
    assert_eq!(set.len(), 24);
    for w in set.windows(2) {
        assert!(w[0].key < w[1].key, "series are ordered by key");
    }
    for s in &set {
        let (crypto, n) = (is_crypto(s), s.bars.len());
        let expected = match (s.key.timeframe, crypto) {
            (Timeframe::D1, false) => 780..=784, // ~3 years of weekdays
            (Timeframe::D1, true) => 1094..=1097,
            (Timeframe::H1, false) => 7 * 125..=7 * 132, // ~6 months of 7 (partly half) hours
            (Timeframe::H1, true) => 24 * 180..=24 * 184,
            (Timeframe::M5, false) => 20 * 78..=20 * 78,
            (Timeframe::M5, true) => 20 * 288..=20 * 288,
            (other, _) => panic!("unexpected timeframe {other}"),
        };
        assert!(expected.contains(&n), "{:?}: {n} bars", s.key);
    }
}

#[test]
fn every_bar_is_valid_ordered_positive_and_not_after_end() {
    for s in demo_dataset(3, end()) {
        for b in &s.bars {
            assert!(
                Bar::new(b.time(), b.open(), b.high(), b.low(), b.close(), b.volume()).is_ok(),
                "{:?} {b:?}",
                s.key
            );
            assert!(b.low() > 0.0);
            assert!(b.time() < end());
        }
        for w in s.bars.windows(2) {
            assert!(
                w[0].time() < w[1].time(),
                "{:?} not strictly increasing",
                s.key
            );
        }
    }
}

#[test]
fn ends_with_the_last_session_closed_by_end() {
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    // (end, last stock session, last bitcoin day)
    let cases = [
        (
            Utc.with_ymd_and_hms(2026, 3, 18, 12, 0, 0).unwrap(),
            "2026-03-17",
            "2026-03-17",
        ),
        (
            Utc.with_ymd_and_hms(2026, 3, 18, 21, 0, 0).unwrap(),
            "2026-03-18",
            "2026-03-17",
        ),
        (
            Utc.with_ymd_and_hms(2026, 3, 22, 12, 0, 0).unwrap(),
            "2026-03-20",
            "2026-03-21",
        ),
    ];
    for (end, stock, crypto) in cases {
        for s in demo_dataset(3, end) {
            let expected = if is_crypto(&s) { crypto } else { stock };
            let last = s.bars.last().unwrap().time();
            assert_eq!(
                last.date_naive(),
                day(expected),
                "{:?} with end {end}",
                s.key
            );
        }
    }
}

#[test]
fn levels_are_plausible_for_the_tickers() {
    let set = demo_dataset(5, end());
    let range = |symbol| {
        let bars = series(&set, symbol, Timeframe::D1);
        let lo = bars.iter().map(Bar::low).fold(f64::MAX, f64::min);
        let hi = bars.iter().map(Bar::high).fold(0.0, f64::max);
        (lo, hi)
    };
    let (lo, hi) = range("SPY");
    assert!(lo > 150.0 && hi < 1500.0, "SPY {lo}..{hi}");
    let (lo, hi) = range("BTC-USD");
    assert!(lo > 10_000.0 && hi < 300_000.0, "BTC {lo}..{hi}");
}

#[test]
fn stocks_trade_weekdays_in_the_regular_session_and_bitcoin_every_day() {
    let set = demo_dataset(11, end());
    for s in &set {
        let weekend = s
            .bars
            .iter()
            .filter(|b| matches!(b.time().weekday(), Weekday::Sat | Weekday::Sun))
            .count();
        if is_crypto(s) {
            assert!(weekend > 0, "{:?} should trade at weekends", s.key);
            continue;
        }
        assert_eq!(weekend, 0, "{:?} has weekend bars", s.key);
        for b in &s.bars {
            let t = b.time();
            let minutes = t.hour() * 60 + t.minute();
            match s.key.timeframe {
                Timeframe::D1 => assert_eq!(minutes, 0),
                // 1h bars sit on UTC hour boundaries; the first covers 14:30-15:00.
                Timeframe::H1 => assert!(
                    (14 * 60..=20 * 60).contains(&minutes) && t.minute() == 0,
                    "{t}"
                ),
                _ => assert!((14 * 60 + 30..21 * 60).contains(&minutes), "{t}"),
            }
        }
    }
    let btc_5m = series(&set, "BTC-USD", Timeframe::M5);
    for w in btc_5m.windows(2) {
        assert_eq!(
            w[1].time() - w[0].time(),
            Duration::minutes(5),
            "BTC trades around the clock"
        );
    }
}

#[test]
fn intraday_bars_add_up_to_the_daily_bar() {
    let set = demo_dataset(13, end());
    for symbol in ["AAPL", "BTC-USD"] {
        let daily: BTreeMap<_, _> = series(&set, symbol, Timeframe::D1)
            .iter()
            .map(|b| (b.time(), *b))
            .collect();
        let check = |bars: &[Bar], from: Timeframe| {
            let mut days: BTreeMap<_, Vec<Bar>> = BTreeMap::new();
            for b in bars {
                days.entry(Timeframe::D1.bucket_start(b.time()))
                    .or_default()
                    .push(*b);
            }
            assert!(days.len() >= 20);
            for (day, bars) in days {
                let agg = resample(&bars, from, Timeframe::D1).unwrap()[0];
                let d = daily[&day];
                assert_eq!(
                    (agg.open(), agg.high(), agg.low(), agg.close(), agg.volume()),
                    (d.open(), d.high(), d.low(), d.close(), d.volume()),
                    "{symbol} {from} on {day}"
                );
            }
        };
        check(series(&set, symbol, Timeframe::H1), Timeframe::H1);
        check(series(&set, symbol, Timeframe::M5), Timeframe::M5);
        // And the 5m bars resample to exactly the 1h bars of their hours.
        let five = series(&set, symbol, Timeframe::M5);
        let from_five = resample(five, Timeframe::M5, Timeframe::H1).unwrap();
        let hourly = series(&set, symbol, Timeframe::H1);
        assert_eq!(&hourly[hourly.len() - from_five.len()..], &from_five[..]);
    }
}

#[test]
fn volatility_clusters() {
    // Pooled over the stocks' three years: lag-1 autocorrelation of |return|.
    // GARCH puts it around 0.1-0.2; independent shocks would average ~0.
    let set = demo_dataset(17, end());
    let acfs: Vec<f64> = set
        .iter()
        .filter(|s| s.key.timeframe == Timeframe::D1)
        .map(|s| {
            let abs: Vec<f64> = s
                .bars
                .windows(2)
                .map(|w| (w[1].close() / w[0].close()).ln().abs())
                .collect();
            lag1_autocorrelation(&abs)
        })
        .collect();
    let mean = acfs.iter().sum::<f64>() / acfs.len() as f64;
    assert!(
        mean > 0.06,
        "mean lag-1 autocorrelation of |r| is {mean:.3} ({acfs:.3?})"
    );
}

#[test]
fn stocks_gap_overnight_and_bitcoin_does_not() {
    let set = demo_dataset(19, end());
    for s in set.iter().filter(|s| s.key.timeframe == Timeframe::D1) {
        let gaps: Vec<f64> = s
            .bars
            .windows(2)
            .map(|w| w[1].open() / w[0].close() - 1.0)
            .collect();
        if is_crypto(s) {
            assert!(
                gaps.iter().all(|g| *g == 0.0),
                "BTC opens at the previous close"
            );
        } else {
            let big = gaps.iter().filter(|g| g.abs() > 0.01).count();
            assert!(big >= 10, "{:?}: only {big} gaps over 1%", s.key);
            assert!(
                big < gaps.len() / 2,
                "{:?}: {big} gaps over 1% is too many",
                s.key
            );
        }
    }
}

#[test]
fn fat_tails_in_daily_returns() {
    let set = demo_dataset(23, end());
    let mut returns = Vec::new();
    for s in set
        .iter()
        .filter(|s| s.key.timeframe == Timeframe::D1 && !is_crypto(s))
    {
        let r: Vec<f64> = s
            .bars
            .windows(2)
            .map(|w| (w[1].close() / w[0].close()).ln())
            .collect();
        let sd = (r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64).sqrt();
        returns.extend(r.iter().map(|x| x / sd));
    }
    let n = returns.len() as f64;
    let kurtosis = returns.iter().map(|z| z.powi(4)).sum::<f64>() / n;
    assert!(
        kurtosis > 4.0,
        "kurtosis {kurtosis:.2} is not fat-tailed (normal is 3)"
    );
}

#[test]
fn intraday_volume_is_u_shaped() {
    let set = demo_dataset(29, end());
    for symbol in ["AAPL", "SPY", "XOM"] {
        let by_minute = |bars: &[Bar], from: u32, to: u32| {
            let v: Vec<f64> = bars
                .iter()
                .filter(|b| (from..to).contains(&(b.time().hour() * 60 + b.time().minute())))
                .map(Bar::volume)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let five = series(&set, symbol, Timeframe::M5);
        let first_hour = by_minute(five, 14 * 60 + 30, 15 * 60 + 30);
        let midday = by_minute(five, 17 * 60, 18 * 60 + 30);
        let last_hour = by_minute(five, 20 * 60, 21 * 60);
        assert!(
            first_hour > 1.5 * midday && last_hour > 1.5 * midday,
            "{symbol} 5m: {first_hour} {midday} {last_hour}"
        );

        // Per full hour on the 1h bars too (15:00 opens the first full hour).
        let hourly = series(&set, symbol, Timeframe::H1);
        let hour = |h: u32| by_minute(hourly, h * 60, h * 60 + 1);
        assert!(hour(15) > hour(17) && hour(20) > hour(17), "{symbol} 1h");
    }
}

#[test]
fn volume_rises_with_the_size_of_the_move() {
    let set = demo_dataset(31, end());
    for s in set.iter().filter(|s| s.key.timeframe == Timeframe::D1) {
        let mut days: Vec<(f64, f64)> = s
            .bars
            .windows(2)
            .map(|w| ((w[1].close() / w[0].close()).ln().abs(), w[1].volume()))
            .collect();
        days.sort_by(|a, b| a.0.total_cmp(&b.0));
        let q = days.len() / 4;
        let calm: f64 = days[..q].iter().map(|d| d.1).sum::<f64>() / q as f64;
        let wild: f64 = days[days.len() - q..].iter().map(|d| d.1).sum::<f64>() / q as f64;
        assert!(
            wild > 1.3 * calm,
            "{:?}: calm {calm:.0} vs wild {wild:.0}",
            s.key
        );
    }
}

#[test]
fn history_does_not_change_when_end_moves() {
    let earlier = demo_dataset(37, end());
    let later = demo_dataset(37, end() + Duration::days(9));
    for (a, b) in earlier.iter().zip(&later) {
        assert_eq!(a.key, b.key);
        let shared: Vec<&Bar> = a
            .bars
            .iter()
            .filter(|x| x.time() >= b.bars[0].time())
            .collect();
        let same: Vec<&Bar> = b
            .bars
            .iter()
            .filter(|x| x.time() <= a.bars.last().unwrap().time())
            .collect();
        assert!(!shared.is_empty());
        assert_eq!(shared, same, "{:?}", a.key);
        assert!(b.bars.last().unwrap().time() > a.bars.last().unwrap().time());
    }
}

#[test]
fn the_source_says_synthetic() {
    let source = demo_source(42);
    assert!(source.is_synthetic());
    assert_eq!(
        source,
        DataSource::Synthetic {
            generator: DEMO_GENERATOR.to_string(),
            seed: 42
        }
    );
}
