//! The built-in agents. Each turns whole indicator series into a cheap
//! per-bar reading; thresholds are the textbook ones, stated in the reasons.

mod multi_timeframe;
mod oscillators;
mod patterns;
mod sentiment;
mod trend;
mod volume;

pub use multi_timeframe::MultiTimeframeAgent;
pub use oscillators::{BollingerAgent, MeanReversionAgent, RsiAgent};
pub use patterns::{CandlestickAgent, ChartPatternAgent};
pub use sentiment::{SentimentAgent, ToneItem};
pub use trend::{MaCrossoverAgent, MacdAgent, MomentumAgent, TrendStrengthAgent};
pub use volume::VolumeAgent;

use crate::agent::Agent;

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
