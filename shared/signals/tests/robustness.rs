//! Short, flat and degenerate input never panics: every entry point answers
//! with a result or a `SignalError` that says what is missing.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::Duration;
use common::*;
use gs_domain::{Bar, Timeframe};
use gs_signals::{
    BacktestRequest, SignalError, SignalRequest, analyze_timeframes, backtest, generate,
    generate_hit_rate_weighted,
};

fn flat(n: usize, price: f64, volume: f64, step: Duration) -> Vec<Bar> {
    (0..n)
        .map(|i| {
            Bar::new(
                start() + step * i as i32,
                price,
                price,
                price,
                price,
                volume,
            )
            .unwrap()
        })
        .collect()
}

/// The series every entry point is tried on, by name.
fn cases() -> Vec<(String, Vec<Bar>, Timeframe)> {
    let day = Duration::days(1);
    let mut out = Vec::new();
    for n in [0, 1, 2, 3, 5, 15, 40] {
        out.push((
            format!("{n} random bars"),
            random_walk(7, n, day),
            Timeframe::D1,
        ));
    }
    for n in [1, 2, 60, 300] {
        out.push((
            format!("{n} flat bars"),
            flat(n, 100.0, 1_000.0, day),
            Timeframe::D1,
        ));
        out.push((
            format!("{n} flat bars, no volume"),
            flat(n, 100.0, 0.0, day),
            Timeframe::D1,
        ));
        out.push((
            format!("{n} bars at price 0"),
            flat(n, 0.0, 0.0, day),
            Timeframe::D1,
        ));
    }
    out.push((
        "2 hourly bars".to_string(),
        random_walk(9, 2, Duration::hours(1)),
        Timeframe::H1,
    ));
    out.push((
        "30 weekly bars".to_string(),
        random_walk(9, 30, Duration::weeks(1)),
        Timeframe::W1,
    ));
    out
}

/// Runs `f`, turning a panic into a message naming the case.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{what}: panicked: {msg}")
    })
}

fn finite(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

/// What an entry point answered, or the panic that replaced the answer.
type Answer = Result<Result<(), SignalError>, String>;

#[test]
fn short_and_flat_series_give_a_result_or_a_clear_error() {
    let mut panics = Vec::new();
    let mut wrong = Vec::new();
    // `expected`: Ok(()) for a result, Err(kind) for the error it must be.
    let mut check = |what: String, answer: Answer, expected: Result<(), &str>| match answer {
        Err(panic) => panics.push(panic),
        Ok(got) => {
            let kind = got.as_ref().map(|_| ()).map_err(|e| match e {
                SignalError::NoBars => "NoBars",
                SignalError::NotEnoughBars { .. } => "NotEnoughBars",
                _ => "other",
            });
            if kind != expected {
                wrong.push(format!("{what}: expected {expected:?}, got {got:?}"));
            }
        }
    };
    for (name, bars, tf) in cases() {
        let n = bars.len();
        // One bar is enough for a reading (every agent abstaining or holding).
        let reading = if n == 0 { Err("NoBars") } else { Ok(()) };
        let request = SignalRequest::default();
        let what = format!("generate on {name}");
        let answer = no_panic(&what, || {
            let r = generate(&bars, tf, &request)?;
            assert!(finite(r.confidence), "generate on {name}: {r:?}");
            assert_eq!(r.bars, n);
            Ok(())
        });
        check(what, answer, reading);
        for horizon in [1, 5, usize::MAX] {
            let what = format!("hit-rate generate (horizon {horizon}) on {name}");
            let answer = no_panic(&what, || {
                let r = generate_hit_rate_weighted(&bars, tf, &request, horizon)?;
                assert!(finite(r.confidence), "hit-rate generate on {name}: {r:?}");
                Ok(())
            });
            check(what, answer, reading);
        }
        let what = format!("analyze_timeframes on {name}");
        let answer = no_panic(&what, || {
            let r = analyze_timeframes(&bars, tf, None)?;
            assert!(r.alignment.is_finite() && r.alignment.abs() <= 1.0);
            assert!(r.timeframes.iter().all(|v| v.bars >= 1));
            Ok(())
        });
        check(what, answer, reading);
        // (request, whether 300 bars are enough for it)
        let requests = [
            (BacktestRequest::default(), true),
            (
                BacktestRequest {
                    n_splits: 1,
                    ..BacktestRequest::default()
                },
                true,
            ),
            (
                BacktestRequest {
                    n_splits: 50,
                    hit_rate_weighting: true,
                    horizon: usize::MAX,
                    ..BacktestRequest::default()
                },
                true,
            ),
            (
                BacktestRequest {
                    n_splits: 1,
                    train_bars: Some(usize::MAX),
                    ..BacktestRequest::default()
                },
                false,
            ),
            (
                BacktestRequest {
                    n_splits: 2,
                    train_bars: Some(1),
                    hit_rate_weighting: true,
                    allow_short: true,
                    cost_bps: 1e6,
                    include_signals: true,
                    ..BacktestRequest::default()
                },
                true,
            ),
        ];
        for (i, (request, enough_with_300)) in requests.iter().enumerate() {
            let what = format!("backtest #{i} on {name}");
            let answer = no_panic(&what, || {
                let r = backtest(&bars, tf, request, &mut |done, total| {
                    assert!(done <= total, "{what}: progress {done} of {total}");
                })?;
                assert_eq!(r.splits.len(), request.n_splits, "{what}");
                assert!(r.overall.max_drawdown.is_finite(), "{what}: {r:?}");
                assert!(r.overall.total_return.is_finite(), "{what}: {r:?}");
                Ok(())
            });
            let expected = match n {
                0 => Err("NoBars"),
                300 if *enough_with_300 => Ok(()),
                300 => Err("NotEnoughBars"),
                // Shorter series may or may not be enough; either answer is
                // fine as long as it is one of the two.
                _ if answer.as_ref().is_ok_and(|r| r.is_ok()) => Ok(()),
                _ => Err("NotEnoughBars"),
            };
            check(what, answer, expected);
        }
    }
    assert!(
        panics.is_empty(),
        "{} panics:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_errors_name_what_is_missing() {
    let none: Vec<Bar> = Vec::new();
    assert_eq!(
        generate(&none, Timeframe::D1, &SignalRequest::default()),
        Err(SignalError::NoBars)
    );
    assert_eq!(
        analyze_timeframes(&none, Timeframe::D1, None),
        Err(SignalError::NoBars)
    );
    let three = random_walk(1, 3, Duration::days(1));
    let err = backtest(
        &three,
        Timeframe::D1,
        &BacktestRequest::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, SignalError::NotEnoughBars { got: 3, .. }),
        "{err}"
    );
    let err = backtest(
        &random_walk(1, 100, Duration::days(1)),
        Timeframe::D1,
        &BacktestRequest {
            n_splits: 1,
            train_bars: Some(usize::MAX),
            ..BacktestRequest::default()
        },
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, SignalError::NotEnoughBars { got: 100, .. }),
        "{err}"
    );
    // One bar is enough for a reading, with every agent abstaining or holding.
    let one = random_walk(1, 1, Duration::days(1));
    let report = generate(&one, Timeframe::D1, &SignalRequest::default()).unwrap();
    assert_eq!(report.bars, 1);
    assert_eq!(report.time, one[0].time());
}
