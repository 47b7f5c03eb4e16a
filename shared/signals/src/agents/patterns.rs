//! Agents that read price patterns: TA-Lib candlestick patterns (gs-candles)
//! and chart patterns (gs-chart-patterns).

use gs_chart_patterns::{ChartPattern, DetectorConfig, Direction, PatternType, Status};
use gs_domain::BarColumns;

use crate::agent::{Action, Agent, AgentOutcome, AgentSignal, Evaluator, out_of_range, warming_up};
use crate::error::SignalError;
use crate::market::Market;

/// Weighs the candlestick patterns that fired on the latest `window` bars:
/// each hit counts its TA-Lib strength (±100 = 1) times a recency factor, and
/// the net score decides. No pattern, no opinion: the agent abstains.
#[derive(Debug, Clone)]
pub struct CandlestickAgent {
    /// Bars looked back over, the current one included.
    pub window: usize,
    /// Net score at or beyond which the agent takes a side.
    pub threshold: f64,
}

impl Default for CandlestickAgent {
    fn default() -> Self {
        Self {
            window: 3,
            threshold: 0.5,
        }
    }
}

struct CandlestickEval {
    cfg: CandlestickAgent,
    /// (pattern title, per-bar TA-Lib values) for every pattern that fires anywhere.
    hits: Vec<(&'static str, Vec<i32>)>,
    len: usize,
}

impl Agent for CandlestickAgent {
    fn name(&self) -> &'static str {
        "candlestick"
    }
    fn description(&self) -> &'static str {
        "TA-Lib's directional candlestick patterns (indecision shapes such as dojis excluded) on the last 3 bars, weighted by strength and recency."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let mut hits = Vec::new();
        for spec in gs_candles::catalogue() {
            // TA-Lib's CDL functions only read the bars up to the one they
            // flag, so one pass over the whole series has no look-ahead.
            let values = gs_candles::detect(
                spec.name,
                &[],
                market.open(),
                market.high(),
                market.low(),
                market.close(),
            )?;
            // Dojis and other indecision shapes carry TA-Lib's +100 for
            // "present", not a direction; they must not tilt the vote.
            if !gs_candles::is_indecision(spec.name) && values.iter().any(|v| *v != 0) {
                hits.push((spec.title, values));
            }
        }
        Ok(Box::new(CandlestickEval {
            cfg: self.clone(),
            hits,
            len: market.len(),
        }))
    }
}

impl Evaluator for CandlestickEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "candlestick";
        if t >= self.len {
            return out_of_range(NAME, t, self.len);
        }
        // TA-Lib's candle settings average the previous 10 candles, and the
        // longest patterns span 5 bars: before that, nothing can be seen.
        const WARM_UP: usize = 15;
        if t.saturating_add(1) < WARM_UP {
            return warming_up(NAME, "candlestick patterns", WARM_UP, t);
        }
        let first = t.saturating_add(1).saturating_sub(self.cfg.window);
        let mut score = 0.0;
        let mut reasons = Vec::new();
        for (title, values) in &self.hits {
            for (i, &v) in values
                .iter()
                .enumerate()
                .take(t.saturating_add(1))
                .skip(first)
            {
                if v != 0 {
                    let age = t.saturating_sub(i);
                    let recency = 1.0 / (1.0 + age as f64);
                    score += f64::from(v) / 100.0 * recency;
                    reasons.push(format!(
                        "{title} ({}, {v}) {}",
                        if v > 0 { "bullish" } else { "bearish" },
                        if age == 0 {
                            "on this bar".to_string()
                        } else {
                            format!("{age} bar(s) ago")
                        }
                    ));
                }
            }
        }
        if reasons.is_empty() {
            return AgentOutcome::abstain(
                NAME,
                format!(
                    "no candlestick pattern in the last {} bars",
                    self.cfg.window
                ),
            );
        }
        let th = self.cfg.threshold;
        let (action, confidence) = if score >= th {
            (Action::Buy, (score / (2.0 * th)).min(1.0))
        } else if score <= -th {
            (Action::Sell, (-score / (2.0 * th)).min(1.0))
        } else {
            (Action::Hold, 0.3)
        };
        let mut signal = AgentSignal::new(NAME, action, confidence)
            .metric("net_score", score)
            .metric("patterns", reasons.len() as f64);
        for r in reasons {
            signal = signal.reason(r);
        }
        signal.into()
    }
}

/// Trades chart-pattern breakouts: a pattern confirmed within the last
/// `recent` bars votes in its direction with the pattern's confidence.
/// Patterns are detected on the bars up to `t` only (a trailing window),
/// because pivots need later bars to be confirmed and a detection over the
/// whole series would leak the future into past signals.
#[derive(Debug, Clone)]
pub struct ChartPatternAgent {
    /// Trailing bars the detector sees at each evaluation.
    pub lookback: usize,
    /// A confirmation this many bars old or newer counts.
    pub recent: usize,
}

impl Default for ChartPatternAgent {
    fn default() -> Self {
        Self {
            lookback: 250,
            recent: 5,
        }
    }
}

struct ChartPatternEval {
    cfg: ChartPatternAgent,
    columns: BarColumns,
}

impl Agent for ChartPatternAgent {
    fn name(&self) -> &'static str {
        "chart_pattern"
    }
    fn description(&self) -> &'static str {
        "Chart-pattern breakouts (head and shoulders, tops/bottoms, triangles, wedges, flags, cup and handle, rectangles) confirmed in the last 5 bars."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        Ok(Box::new(ChartPatternEval {
            cfg: self.clone(),
            columns: market.columns().clone(),
        }))
    }
}

impl Evaluator for ChartPatternEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "chart_pattern";
        let bars = &self.columns;
        let len = bars.len();
        if t >= len {
            return out_of_range(NAME, t, len);
        }
        let config = DetectorConfig::default();
        let needed = config.min_pattern_bars.saturating_mul(2);
        if t.saturating_add(1) < needed {
            return warming_up(NAME, "chart patterns", needed, t);
        }
        let from = t.saturating_add(1).saturating_sub(self.cfg.lookback);
        let window = |column| bars_between(column, from, t);
        let volume = window(bars.volume());
        let found = gs_chart_patterns::detect(
            window(bars.high()),
            window(bars.low()),
            window(bars.close()),
            volume.iter().any(|v| *v > 0.0).then_some(volume),
            &PatternType::ALL,
            &config,
        );
        let last = t.saturating_sub(from);
        let fresh: Vec<&ChartPattern> = found
            .iter()
            .filter(|p| {
                p.status == Status::Confirmed
                    && p.breakout_index
                        .is_some_and(|b| last.saturating_sub(b) < self.cfg.recent)
            })
            .collect();
        let Some(best) = fresh
            .iter()
            .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
        else {
            let forming = found.iter().filter(|p| p.status == Status::Forming).count();
            return AgentOutcome::abstain(
                NAME,
                format!(
                    "no chart-pattern breakout in the last {} bars ({forming} pattern(s) still forming)",
                    self.cfg.recent
                ),
            );
        };
        let action = match best.direction {
            Direction::Bullish => Action::Buy,
            Direction::Bearish => Action::Sell,
            Direction::Neutral => Action::Hold,
        };
        let ago = last.saturating_sub(best.breakout_index.unwrap_or(last));
        AgentSignal::new(NAME, action, best.confidence)
            .reason(format!(
                "{} confirmed {} bar(s) ago: close beyond {:.4}, measured-move target {:.4}",
                best.kind.as_str().replace('_', " "),
                ago,
                best.breakout_level,
                best.target
            ))
            .metric("breakout_level", best.breakout_level)
            .metric("target", best.target)
            .metric("pattern_confidence", best.confidence)
            .metric("confirmed_patterns", fresh.len() as f64)
            .into()
    }
}

/// `column[from..=t]`, empty when that is out of range.
fn bars_between(column: &[f64], from: usize, t: usize) -> &[f64] {
    column.get(from..=t).unwrap_or_default()
}
