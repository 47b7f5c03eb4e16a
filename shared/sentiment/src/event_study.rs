//! Market-model event studies (MacKinlay 1997, "Event Studies in Economics
//! and Finance"), on aligned daily closes of a stock and a benchmark.
//!
//! Conventions:
//! - simple returns, `r[t] = close[t] / close[t-1] - 1`, for date index `t ≥ 1`;
//! - the event's date index `e` is the first trading day at or after the event
//!   (an event after the close counts from the next day: the caller decides);
//! - estimation window: offsets `[a, b]` from `e`, inclusive (default
//!   `[-120, -11]`): OLS `r_stock = alpha + beta * r_market`, residual
//!   variance `sigma² = SSR / (L - 2)`;
//! - abnormal return `AR[t] = r_stock[t] - alpha - beta * r_market[t]`;
//! - for an event window `[s, f]`: `CAR = Σ AR`, `var = (f - s + 1) sigma²`,
//!   `t = CAR / sqrt(var)` (no correction for estimation error);
//! - over N events: `CAAR = mean CAR`, `t_pooled = CAAR / (sqrt(Σ var_i) / N)`,
//!   `t_cross = CAAR / (sd(CAR, n-1) / sqrt N)` (N ≥ 2).
//!
//! `tests/event_study.rs` holds this to `scripts/event_study_reference.py`
//! (numpy) within 1e-10.

use schemars::JsonSchema;
use serde::Serialize;

/// Shortest estimation window accepted.
pub const MIN_ESTIMATION: usize = 30;
/// |t| above which a figure is called significant (5 %, two-sided, normal).
pub const T_CRITICAL_5PCT: f64 = 1.96;

/// Windows of a study, as offsets from the event day (inclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct StudyConfig {
    pub estimation: (i64, i64),
    pub windows: Vec<(i64, i64)>,
}

impl Default for StudyConfig {
    fn default() -> Self {
        Self {
            estimation: (-120, -11),
            windows: vec![(-1, 1), (0, 5), (-5, 5)],
        }
    }
}

/// Why a study cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    #[error("the windows are not valid: {0}")]
    Windows(String),
    #[error(
        "not enough history: the study needs date index {needed} but the series has {have} days ({what})"
    )]
    History {
        what: &'static str,
        needed: i64,
        have: usize,
    },
    #[error("the stock and the benchmark have different lengths ({0} and {1})")]
    Misaligned(usize, usize),
    #[error("the benchmark does not move over the estimation window (zero variance)")]
    FlatBenchmark,
    #[error(
        "the market model fits the estimation window exactly (no residual variance): the stock moves in lockstep with the benchmark, so abnormal returns have no scale; choose another benchmark"
    )]
    NoResidual,
    #[error("a close is not a positive finite number at date index {0}")]
    BadClose(usize),
}

impl StudyConfig {
    pub fn check(&self) -> Result<(), StudyError> {
        let (a, b) = self.estimation;
        if a > b {
            return Err(StudyError::Windows(format!(
                "estimation [{a}, {b}] is reversed"
            )));
        }
        let len = b.saturating_sub(a).saturating_add(1);
        if len < MIN_ESTIMATION as i64 {
            return Err(StudyError::Windows(format!(
                "estimation [{a}, {b}] has {len} days; at least {MIN_ESTIMATION}"
            )));
        }
        if self.windows.is_empty() {
            return Err(StudyError::Windows("no event window".into()));
        }
        for &(s, f) in &self.windows {
            if s > f {
                return Err(StudyError::Windows(format!(
                    "event window [{s}, {f}] is reversed"
                )));
            }
            if s <= b {
                return Err(StudyError::Windows(format!(
                    "event window [{s}, {f}] overlaps the estimation window [{a}, {b}]"
                )));
            }
        }
        Ok(())
    }

    fn span(&self) -> (i64, i64) {
        let lo = self.windows.iter().map(|w| w.0).min().unwrap_or(0);
        let hi = self.windows.iter().map(|w| w.1).max().unwrap_or(0);
        (lo, hi)
    }
}

/// The fitted market model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct MarketModel {
    pub alpha: f64,
    pub beta: f64,
    /// Residual standard deviation (daily).
    pub sigma: f64,
    pub r_squared: f64,
    /// Returns in the estimation window.
    pub observations: usize,
}

/// One event window's result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct WindowResult {
    pub start: i64,
    pub end: i64,
    /// Cumulative abnormal return (a fraction: 0.02 is 2 %).
    pub car: f64,
    pub variance: f64,
    pub t_stat: f64,
    /// |t| > 1.96.
    pub significant_5pct: bool,
}

/// One event's study.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EventResult {
    /// Date index of the event day.
    pub event_index: usize,
    pub model: MarketModel,
    /// (offset, abnormal return) over the span of all windows.
    pub abnormal_returns: Vec<(i64, f64)>,
    pub windows: Vec<WindowResult>,
}

/// Averages over events for one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct AggregateWindow {
    pub start: i64,
    pub end: i64,
    pub events: usize,
    /// Mean CAR.
    pub caar: f64,
    /// CAAR over the pooled standard error of the events' CARs.
    pub t_pooled: f64,
    /// CAAR over the cross-sectional standard error (absent under 2 events).
    pub t_cross: Option<f64>,
    /// |t_pooled| > 1.96.
    pub significant_5pct: bool,
    /// Events with a positive CAR.
    pub positive: usize,
}

/// Simple returns; index 0 has none (NaN).
pub fn simple_returns(closes: &[f64]) -> Result<Vec<f64>, StudyError> {
    let mut out = Vec::with_capacity(closes.len());
    let mut prev: Option<f64> = None;
    for (i, &c) in closes.iter().enumerate() {
        if !(c.is_finite() && c > 0.0) {
            return Err(StudyError::BadClose(i));
        }
        out.push(prev.map_or(f64::NAN, |p| c / p - 1.0));
        prev = Some(c);
    }
    Ok(out)
}

fn at(v: &[f64], e: usize, offset: i64, what: &'static str) -> Result<f64, StudyError> {
    let idx = i64::try_from(e).unwrap_or(i64::MAX).saturating_add(offset);
    let out_of_range = StudyError::History {
        what,
        needed: idx,
        have: v.len(),
    };
    if idx < 1 {
        return Err(out_of_range);
    }
    usize::try_from(idx)
        .ok()
        .and_then(|i| v.get(i))
        .copied()
        .ok_or(out_of_range)
}

/// Studies one event at date index `event` on aligned closes.
pub fn study_event(
    stock: &[f64],
    market: &[f64],
    event: usize,
    cfg: &StudyConfig,
) -> Result<EventResult, StudyError> {
    if stock.len() != market.len() {
        return Err(StudyError::Misaligned(stock.len(), market.len()));
    }
    let rs = simple_returns(stock)?;
    let rm = simple_returns(market)?;
    study_returns(&rs, &rm, event, cfg)
}

/// As [`study_event`], on returns from [`simple_returns`].
pub fn study_returns(
    rs: &[f64],
    rm: &[f64],
    event: usize,
    cfg: &StudyConfig,
) -> Result<EventResult, StudyError> {
    cfg.check()?;
    if rs.len() != rm.len() {
        return Err(StudyError::Misaligned(rs.len(), rm.len()));
    }
    let (a, b) = cfg.estimation;
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for off in a..=b {
        xs.push(at(rm, event, off, "estimation window")?);
        ys.push(at(rs, event, off, "estimation window")?);
    }
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx <= 0.0 {
        return Err(StudyError::FlatBenchmark);
    }
    let beta = sxy / sxx;
    let alpha = my - beta * mx;
    let ssr: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| {
            let e = y - alpha - beta * x;
            e * e
        })
        .sum();
    let syy: f64 = ys.iter().map(|y| (y - my) * (y - my)).sum();
    let sigma2 = ssr / (n - 2.0);
    // Residuals at rounding level (R² within 1e-12 of 1) or none: no scale.
    if !(ssr > 1e-12 * syy && sigma2.is_finite()) {
        return Err(StudyError::NoResidual);
    }
    let model = MarketModel {
        alpha,
        beta,
        sigma: sigma2.sqrt(),
        r_squared: if syy > 0.0 { 1.0 - ssr / syy } else { 0.0 },
        observations: xs.len(),
    };
    let (lo, hi) = cfg.span();
    let mut abnormal = Vec::new();
    for off in lo..=hi {
        let ar = at(rs, event, off, "event window")?
            - alpha
            - beta * at(rm, event, off, "event window")?;
        abnormal.push((off, ar));
    }
    let windows = cfg
        .windows
        .iter()
        .map(|&(s, f)| {
            let car: f64 = abnormal
                .iter()
                .filter(|(o, _)| (s..=f).contains(o))
                .map(|(_, ar)| ar)
                .sum();
            let k = f.saturating_sub(s).saturating_add(1) as f64;
            let variance = k * sigma2;
            let t_stat = car / variance.sqrt();
            WindowResult {
                start: s,
                end: f,
                car,
                variance,
                t_stat,
                significant_5pct: t_stat.abs() > T_CRITICAL_5PCT,
            }
        })
        .collect();
    Ok(EventResult {
        event_index: event,
        model,
        abnormal_returns: abnormal,
        windows,
    })
}

/// Averages each window over the events.
pub fn aggregate(results: &[EventResult], cfg: &StudyConfig) -> Vec<AggregateWindow> {
    cfg.windows
        .iter()
        .map(|&(s, f)| {
            let wins: Vec<&WindowResult> = results
                .iter()
                .filter_map(|r| r.windows.iter().find(|w| w.start == s && w.end == f))
                .collect();
            let n = wins.len() as f64;
            let caar = wins.iter().map(|w| w.car).sum::<f64>() / n;
            let var_sum: f64 = wins.iter().map(|w| w.variance).sum();
            let t_pooled = caar / (var_sum.sqrt() / n);
            let t_cross = (wins.len() >= 2).then(|| {
                let ss: f64 = wins.iter().map(|w| (w.car - caar) * (w.car - caar)).sum();
                let sd = (ss / (n - 1.0)).sqrt();
                caar / (sd / n.sqrt())
            });
            AggregateWindow {
                start: s,
                end: f,
                events: wins.len(),
                caar,
                t_pooled,
                t_cross,
                significant_5pct: t_pooled.abs() > T_CRITICAL_5PCT,
                positive: wins.iter().filter(|w| w.car > 0.0).count(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_checked() {
        let mut cfg = StudyConfig::default();
        assert!(cfg.check().is_ok());
        cfg.windows = vec![(-20, 1)];
        assert!(cfg.check().unwrap_err().to_string().contains("overlaps"));
        cfg.estimation = (-20, -15);
        assert!(cfg.check().unwrap_err().to_string().contains("at least 30"));
    }

    #[test]
    fn too_little_history_is_named() {
        let closes: Vec<f64> = (0..50).map(|i| 100.0 + f64::from(i)).collect();
        let err = study_event(&closes, &closes, 20, &StudyConfig::default()).unwrap_err();
        assert!(err.to_string().contains("not enough history"), "{err}");
    }

    #[test]
    fn a_planted_jump_is_the_abnormal_return() {
        // Stock = 2 x market every day, plus a 5 % jump on the event day.
        let mut m = vec![100.0];
        let mut s = vec![50.0];
        for i in 1..200usize {
            let rm = 0.01 * ((i as f64) * 1.7).sin();
            let jump = if i == 150 { 0.05 } else { 0.0 };
            m.push(m[i - 1] * (1.0 + rm));
            s.push(s[i - 1] * (1.0 + 2.0 * rm + jump));
        }
        // Exact lockstep leaves no residual: refused, not a t-statistic of infinity.
        assert_eq!(
            study_event(&s, &m, 150, &StudyConfig::default()).unwrap_err(),
            StudyError::NoResidual
        );
        // With some noise the jump is the day's abnormal return.
        for (i, x) in s.iter_mut().enumerate() {
            *x *= 1.0 + 1e-4 * ((i as f64) * 0.37).cos();
        }
        let r = study_event(&s, &m, 150, &StudyConfig::default()).unwrap();
        assert!((r.model.beta - 2.0).abs() < 0.05, "{:?}", r.model);
        let day0 = r.abnormal_returns.iter().find(|(o, _)| *o == 0).unwrap().1;
        assert!((day0 - 0.05).abs() < 1e-3, "{day0}");
    }
}
