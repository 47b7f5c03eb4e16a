//! The built-in agents. Each turns whole indicator series into a cheap
//! per-bar reading; thresholds are the textbook ones, stated in the reasons.

mod multi_timeframe;
mod oscillators;
mod patterns;
mod trend;
mod volume;

pub use multi_timeframe::MultiTimeframeAgent;
pub use oscillators::{BollingerAgent, MeanReversionAgent, RsiAgent};
pub use patterns::{CandlestickAgent, ChartPatternAgent};
pub use trend::{MaCrossoverAgent, MacdAgent, MomentumAgent, TrendStrengthAgent};
pub use volume::VolumeAgent;

use crate::{Agent, AgentOutcome};

/// The built-in agents in report order.
pub(crate) fn builtin() -> Vec<Box<dyn Agent>> {
    vec![
        Box::new(RsiAgent::default()),
        Box::new(MacdAgent::default()),
        Box::new(BollingerAgent::default()),
        Box::new(MaCrossoverAgent::default()),
        Box::new(MomentumAgent::default()),
        Box::new(MeanReversionAgent::default()),
        Box::new(VolumeAgent::default()),
        Box::new(TrendStrengthAgent::default()),
        Box::new(MultiTimeframeAgent::default()),
        Box::new(CandlestickAgent::default()),
        Box::new(ChartPatternAgent::default()),
    ]
}

/// The value of an indicator series at `t`, if it has one there.
pub(crate) fn at(series: &[Option<f64>], t: usize) -> Option<f64> {
    series.get(t).copied().flatten()
}

/// The abstention for a bar inside an indicator's warm-up (or past the end).
pub(crate) fn warming_up(agent: &'static str, what: &str, needed: usize, t: usize) -> AgentOutcome {
    AgentOutcome::abstain(
        agent,
        format!(
            "not enough history: {what} needs at least {needed} bars, {} available at this bar",
            t + 1
        ),
    )
}

pub(crate) fn out_of_range(agent: &'static str, t: usize, len: usize) -> AgentOutcome {
    AgentOutcome::abstain(
        agent,
        format!("bar index {t} is past the last bar (history has {len} bars)"),
    )
}
