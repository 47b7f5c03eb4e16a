//! The arithmetic of the `database` tools on plain slices: summaries, VWAP,
//! returns, rebalanced indices and Pearson correlation. No I/O, no store;
//! parity with numpy is pinned by `tests/data/database_reference.json`
//! (written by `scripts/database_reference.py`).

use gs_domain::Bar;

/// `v` when it is a finite number: sums of huge stored values can overflow,
/// and JSON has no infinity or NaN.
pub(crate) fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Count, mean, min, max and sum of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub count: usize,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
}

/// `None` for no values. The sum runs in order, the mean is sum / count.
pub(crate) fn summarize(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
    let mut count = 0_usize;
    let mut sum = 0.0;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for v in values {
        count = count.saturating_add(1);
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    if count == 0 {
        return None;
    }
    Some(Summary {
        count,
        mean: sum / count as f64,
        min,
        max,
        sum,
    })
}

/// (high + low + close) / 3: the price each bar's volume is taken to trade at.
pub(crate) fn typical_price(bar: &Bar) -> f64 {
    (bar.high() + bar.low() + bar.close()) / 3.0
}

/// Σ typical price × volume / Σ volume; `None` when no volume traded.
pub(crate) fn vwap(bars: &[Bar]) -> Option<f64> {
    let (pv, v) = bars.iter().fold((0.0, 0.0), |(pv, v), b| {
        (pv + typical_price(b) * b.volume(), v + b.volume())
    });
    if v > 0.0 { finite(pv / v) } else { None }
}

/// `cur / prev - 1`; undefined after a zero price.
pub(crate) fn simple_return(prev: f64, cur: f64) -> Option<f64> {
    if prev > 0.0 {
        finite(cur / prev - 1.0)
    } else {
        None
    }
}

/// `ln(cur / prev)`; undefined after or at a zero price.
pub(crate) fn log_return(prev: f64, cur: f64) -> Option<f64> {
    (prev > 0.0 && cur > 0.0)
        .then(|| (cur / prev).ln())
        .and_then(finite)
}

/// Close-to-close simple returns: one per consecutive pair (`len - 1` of them).
pub(crate) fn simple_returns(closes: &[f64]) -> Vec<Option<f64>> {
    closes
        .windows(2)
        .map(|w| match w {
            [p, c] => simple_return(*p, *c),
            _ => None,
        })
        .collect()
}

/// Close-to-close log returns: one per consecutive pair.
pub(crate) fn log_returns(closes: &[f64]) -> Vec<Option<f64>> {
    closes
        .windows(2)
        .map(|w| match w {
            [p, c] => log_return(*p, *c),
            _ => None,
        })
        .collect()
}

/// Mean and sample standard deviation (n − 1 in the denominator, numpy's
/// `ddof=1`); the deviation is `None` below two values.
pub(crate) fn mean_and_std(values: &[f64]) -> Option<(f64, Option<f64>)> {
    let s = summarize(values.iter().copied())?;
    let std = (values.len() > 1).then(|| {
        let ss: f64 = values.iter().map(|v| (v - s.mean) * (v - s.mean)).sum();
        (ss / (values.len() as f64 - 1.0)).sqrt()
    });
    let std = std.and_then(finite);
    Some((s.mean, std))
}

/// How an index weighs its members at each step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Weighting {
    /// 1/n of every member whose return is defined.
    Equal,
    /// Proportional to each member's close × volume on the previous bar
    /// (known when the step starts: no look-ahead); a step where that is
    /// zero for every member falls back to equal weights.
    DollarVolume,
    /// Fixed weights, one per member in order (non-negative, not all zero).
    Fixed(Vec<f64>),
}

/// An index of aligned members rebased to 100 at the first timestamp and
/// rebalanced at every bar: `I_t = I_{t-1} × (1 + Σ w_i r_i / Σ w_i)` over the
/// members whose simple return `r_i` is defined at `t`. `closes[i][t]` and
/// `volumes[i][t]` are member `i` at aligned time `t`; every row must have the
/// same length. A step with no defined, weighted member keeps the level.
pub(crate) fn rebalanced_index(
    closes: &[Vec<f64>],
    volumes: &[Vec<f64>],
    weighting: &Weighting,
) -> Vec<f64> {
    let len = closes.iter().map(Vec::len).min().unwrap_or(0);
    let mut out = Vec::with_capacity(len);
    let mut level = 100.0;
    if len == 0 {
        return out;
    }
    out.push(level);
    for t in 1..len {
        let prev_t = t.saturating_sub(1);
        let mut parts: Vec<(f64, f64)> = Vec::with_capacity(closes.len());
        for (i, series) in closes.iter().enumerate() {
            let (Some(p), Some(c)) = (series.get(prev_t), series.get(t)) else {
                continue;
            };
            let Some(r) = simple_return(*p, *c) else {
                continue;
            };
            let w = match weighting {
                Weighting::Equal => 1.0,
                Weighting::DollarVolume => {
                    let v = volumes.get(i).and_then(|v| v.get(prev_t)).copied();
                    p * v.unwrap_or(0.0)
                }
                Weighting::Fixed(ws) => ws.get(i).copied().unwrap_or(0.0),
            };
            parts.push((w, r));
        }
        if matches!(weighting, Weighting::DollarVolume) && parts.iter().all(|(w, _)| *w <= 0.0) {
            parts.iter_mut().for_each(|(w, _)| *w = 1.0);
        }
        let total_w: f64 = parts.iter().map(|(w, _)| w).sum();
        if total_w > 0.0 {
            let step: f64 = parts.iter().map(|(w, r)| w * r).sum::<f64>() / total_w;
            level *= 1.0 + step;
        }
        out.push(level);
    }
    out
}

/// Pearson correlation of paired values, using only pairs where both are
/// defined; `None` with fewer than two pairs or a constant side.
pub(crate) fn pearson(x: &[Option<f64>], y: &[Option<f64>]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
        .collect();
    if pairs.len() < 2 {
        return None;
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let denom = (sxx * syy).sqrt();
    (denom > 0.0 && denom.is_finite())
        .then(|| (sxy / denom).clamp(-1.0, 1.0))
        .and_then(finite)
}

/// The Pearson matrix of every pair of return series (symmetric; the
/// diagonal is 1 for a series that varies, `None` for a constant one).
pub(crate) fn correlation_matrix(returns: &[Vec<Option<f64>>]) -> Vec<Vec<Option<f64>>> {
    returns
        .iter()
        .map(|a| returns.iter().map(|b| pearson(a, b)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use serde::Deserialize;
    use std::collections::BTreeMap;

    const FIXTURE: &str = include_str!("../../tests/data/database_reference.json");

    #[derive(Deserialize)]
    struct RefBar {
        time: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    }

    #[derive(Deserialize)]
    struct RefStats {
        mean: f64,
        min: f64,
        max: f64,
        sum: f64,
    }

    #[derive(Deserialize)]
    struct RefSymbol {
        close: RefStats,
        volume: RefStats,
        vwap: f64,
        simple_returns: Vec<f64>,
        log_returns: Vec<f64>,
        mean_return: f64,
        std_return: f64,
    }

    #[derive(Deserialize)]
    struct Reference {
        symbols: Vec<String>,
        bars: BTreeMap<String, Vec<RefBar>>,
        per_symbol: BTreeMap<String, RefSymbol>,
        common_times: Vec<i64>,
        equal_weighted_index: Vec<f64>,
        value_weighted_index: Vec<f64>,
        fixed_weights: Vec<f64>,
        fixed_weighted_index: Vec<f64>,
        correlation: Vec<Vec<f64>>,
        cumulative_returns: Vec<f64>,
    }

    fn reference() -> Reference {
        serde_json::from_str(FIXTURE).unwrap()
    }

    fn bars_of(r: &Reference, sym: &str) -> Vec<Bar> {
        r.bars[sym]
            .iter()
            .map(|b| {
                Bar::new(
                    DateTime::<Utc>::from_timestamp(b.time, 0).unwrap(),
                    b.open,
                    b.high,
                    b.low,
                    b.close,
                    b.volume,
                )
                .unwrap()
            })
            .collect()
    }

    #[track_caller]
    fn close(what: &str, got: f64, want: f64) {
        let scale = got.abs().max(want.abs());
        assert!(
            (got - want).abs() <= 1e-12 * scale || (got - want).abs() <= 1e-15,
            "{what}: got {got:e}, numpy {want:e}"
        );
    }

    #[track_caller]
    fn close_all(what: &str, got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            close(&format!("{what}[{i}]"), *g, *w);
        }
    }

    /// Aligned closes and volumes of every reference symbol on the common times.
    fn panel(r: &Reference) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let series: Vec<Vec<Bar>> = r.symbols.iter().map(|s| bars_of(r, s)).collect();
        let aligned = crate::database::align(&series);
        let times: Vec<i64> = aligned.times.iter().map(DateTime::timestamp).collect();
        assert_eq!(times, r.common_times);
        let closes = aligned
            .members
            .iter()
            .map(|m| m.iter().map(Bar::close).collect())
            .collect();
        let volumes = aligned
            .members
            .iter()
            .map(|m| m.iter().map(Bar::volume).collect())
            .collect();
        (closes, volumes)
    }

    #[test]
    fn per_symbol_statistics_match_numpy() {
        let r = reference();
        for sym in &r.symbols {
            let bars = bars_of(&r, sym);
            let want = &r.per_symbol[sym];
            let c = summarize(bars.iter().map(Bar::close)).unwrap();
            close("close mean", c.mean, want.close.mean);
            close("close min", c.min, want.close.min);
            close("close max", c.max, want.close.max);
            close("close sum", c.sum, want.close.sum);
            let v = summarize(bars.iter().map(Bar::volume)).unwrap();
            close("volume mean", v.mean, want.volume.mean);
            close("volume min", v.min, want.volume.min);
            close("volume max", v.max, want.volume.max);
            close("volume sum", v.sum, want.volume.sum);
            close("vwap", vwap(&bars).unwrap(), want.vwap);
            let closes: Vec<f64> = bars.iter().map(Bar::close).collect();
            let simple: Vec<f64> = simple_returns(&closes).into_iter().flatten().collect();
            close_all("simple returns", &simple, &want.simple_returns);
            let logs: Vec<f64> = log_returns(&closes).into_iter().flatten().collect();
            close_all("log returns", &logs, &want.log_returns);
            let (mean, std) = mean_and_std(&simple).unwrap();
            close("mean return", mean, want.mean_return);
            close("std return", std.unwrap(), want.std_return);
        }
    }

    #[test]
    fn indices_match_numpy() {
        let r = reference();
        let (closes, volumes) = panel(&r);
        close_all(
            "equal-weighted index",
            &rebalanced_index(&closes, &volumes, &Weighting::Equal),
            &r.equal_weighted_index,
        );
        close_all(
            "value-weighted index",
            &rebalanced_index(&closes, &volumes, &Weighting::DollarVolume),
            &r.value_weighted_index,
        );
        close_all(
            "fixed-weight index",
            &rebalanced_index(
                &closes,
                &volumes,
                &Weighting::Fixed(r.fixed_weights.clone()),
            ),
            &r.fixed_weighted_index,
        );
    }

    #[test]
    fn correlation_and_cumulative_returns_match_numpy() {
        let r = reference();
        let (closes, _) = panel(&r);
        let returns: Vec<Vec<Option<f64>>> = closes.iter().map(|c| simple_returns(c)).collect();
        let m = correlation_matrix(&returns);
        for (i, row) in m.iter().enumerate() {
            let got: Vec<f64> = row.iter().map(|v| v.unwrap()).collect();
            close_all(&format!("correlation row {i}"), &got, &r.correlation[i]);
        }
        for (i, c) in closes.iter().enumerate() {
            let got = simple_return(c[0], *c.last().unwrap()).unwrap();
            close("cumulative return", got, r.cumulative_returns[i]);
        }
    }

    #[test]
    fn degenerate_inputs_are_undefined_not_nan() {
        assert_eq!(summarize(std::iter::empty()), None);
        assert_eq!(simple_return(0.0, 5.0), None);
        assert_eq!(log_return(5.0, 0.0), None);
        assert_eq!(
            pearson(&[Some(1.0), Some(1.0)], &[Some(1.0), Some(2.0)]),
            None
        );
        assert_eq!(pearson(&[Some(1.0)], &[Some(2.0)]), None);
        let flat = vec![vec![1.0, 1.0, 1.0], vec![2.0, 2.2, 2.42]];
        let idx = rebalanced_index(
            &flat,
            &[vec![0.0; 3], vec![0.0; 3]],
            &Weighting::DollarVolume,
        );
        close_all("zero-volume fallback", &idx, &[100.0, 105.0, 110.25]);
        assert_eq!(mean_and_std(&[2.0]), Some((2.0, None)));
    }
}
