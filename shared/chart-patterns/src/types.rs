use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ChartPatternError;

/// The chart patterns this crate can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternType {
    HeadAndShoulders,
    InverseHeadAndShoulders,
    DoubleTop,
    DoubleBottom,
    TripleTop,
    TripleBottom,
    AscendingTriangle,
    DescendingTriangle,
    SymmetricalTriangle,
    RisingWedge,
    FallingWedge,
    BullFlag,
    BearFlag,
    Pennant,
    CupAndHandle,
    Rectangle,
}

impl PatternType {
    pub const ALL: [PatternType; 16] = [
        PatternType::HeadAndShoulders,
        PatternType::InverseHeadAndShoulders,
        PatternType::DoubleTop,
        PatternType::DoubleBottom,
        PatternType::TripleTop,
        PatternType::TripleBottom,
        PatternType::AscendingTriangle,
        PatternType::DescendingTriangle,
        PatternType::SymmetricalTriangle,
        PatternType::RisingWedge,
        PatternType::FallingWedge,
        PatternType::BullFlag,
        PatternType::BearFlag,
        PatternType::Pennant,
        PatternType::CupAndHandle,
        PatternType::Rectangle,
    ];

    /// Accepts the snake_case name (the serde name), ignoring case and
    /// surrounding spaces, so `"Double_Top "` from a model still works.
    pub fn parse(s: &str) -> Result<Self, ChartPatternError> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == wanted)
            .ok_or_else(|| ChartPatternError::UnknownPatternType {
                given: s.to_string(),
                valid: Self::ALL
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            PatternType::HeadAndShoulders => "head_and_shoulders",
            PatternType::InverseHeadAndShoulders => "inverse_head_and_shoulders",
            PatternType::DoubleTop => "double_top",
            PatternType::DoubleBottom => "double_bottom",
            PatternType::TripleTop => "triple_top",
            PatternType::TripleBottom => "triple_bottom",
            PatternType::AscendingTriangle => "ascending_triangle",
            PatternType::DescendingTriangle => "descending_triangle",
            PatternType::SymmetricalTriangle => "symmetrical_triangle",
            PatternType::RisingWedge => "rising_wedge",
            PatternType::FallingWedge => "falling_wedge",
            PatternType::BullFlag => "bull_flag",
            PatternType::BearFlag => "bear_flag",
            PatternType::Pennant => "pennant",
            PatternType::CupAndHandle => "cup_and_handle",
            PatternType::Rectangle => "rectangle",
        }
    }

    /// What the pattern means for a trader, in one or two sentences.
    pub fn description(&self) -> &'static str {
        match self {
            PatternType::HeadAndShoulders => {
                "Bearish reversal after an uptrend: a higher peak (head) between two lower, similar peaks (shoulders). A close below the neckline through the two troughs signals the trend has turned; the target is the head-to-neckline height projected down."
            }
            PatternType::InverseHeadAndShoulders => {
                "Bullish reversal after a downtrend: a deeper trough (head) between two shallower, similar troughs. A close above the neckline through the two peaks signals the turn; the target is the head-to-neckline depth projected up."
            }
            PatternType::DoubleTop => {
                "Bearish reversal: two peaks at about the same price separated by a pullback. Buyers failed twice at the same level; a close below the pullback low confirms it."
            }
            PatternType::DoubleBottom => {
                "Bullish reversal: two troughs at about the same price separated by a rally. Sellers failed twice at the same level; a close above the rally high confirms it."
            }
            PatternType::TripleTop => {
                "Bearish reversal: three peaks at about the same price. Resistance held three times; a close below the lowest trough between them confirms it."
            }
            PatternType::TripleBottom => {
                "Bullish reversal: three troughs at about the same price. Support held three times; a close above the highest peak between them confirms it."
            }
            PatternType::AscendingTriangle => {
                "Usually bullish: flat resistance with rising lows. Buyers keep paying more while sellers defend one price; a close above resistance targets the triangle's height."
            }
            PatternType::DescendingTriangle => {
                "Usually bearish: flat support with falling highs. Sellers keep accepting less while buyers defend one price; a close below support targets the triangle's height."
            }
            PatternType::SymmetricalTriangle => {
                "Indecision: lower highs and higher lows converging. It usually breaks in the direction of the prior trend; trade the side that closes outside the lines."
            }
            PatternType::RisingWedge => {
                "Bearish: price rises between two upward lines that converge, so each push up gains less. A close below the lower line often starts a sharp drop."
            }
            PatternType::FallingWedge => {
                "Bullish: price falls between two downward lines that converge, so selling loses momentum. A close above the upper line often starts a rally."
            }
            PatternType::BullFlag => {
                "Bullish continuation: a sharp rise (the pole) then a short, shallow channel drifting down or sideways. A close above the channel targets another move the size of the pole."
            }
            PatternType::BearFlag => {
                "Bearish continuation: a sharp fall (the pole) then a short, shallow channel drifting up or sideways. A close below the channel targets another move the size of the pole."
            }
            PatternType::Pennant => {
                "Continuation in the direction of the pole: a sharp move then a small converging triangle. A close out of the pennant in the pole's direction targets another pole-sized move."
            }
            PatternType::CupAndHandle => {
                "Bullish continuation: a rounded U-shaped base (the cup) then a small pullback (the handle). A close above the rim targets the cup's depth added to the rim."
            }
            PatternType::Rectangle => {
                "Range: flat, parallel support and resistance touched several times. It usually resolves in the direction of the prior trend; trade the side that closes outside the range."
            }
        }
    }
}

impl fmt::Display for PatternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PatternType {
    type Err = ChartPatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PatternType::parse(s)
    }
}

/// Which way the pattern expects price to move once it breaks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Bullish,
    Bearish,
    /// A symmetrical pattern with no prior trend to lean on: either side may
    /// break. Once one does, the pattern reports that side instead.
    Neutral,
}

/// Where the pattern stands after its last key point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Neither the breakout nor the invalidation level has been closed beyond yet.
    Forming,
    /// A close beyond the breakout level in the expected direction.
    Confirmed,
    /// A close beyond the invalidation level, or no decision within twice
    /// the pattern's length after it completed (or past a triangle's apex):
    /// the setup went stale. `breakout_index` is `None` in the stale case.
    Failed,
}

/// A price point that defines the pattern (a peak, a trough, a touch).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPoint {
    pub index: usize,
    pub price: f64,
    /// e.g. `left_shoulder`, `head`, `neckline_1`, `resistance_2`, `pole_start`.
    pub label: &'static str,
}

/// One detected pattern. Prices are in the units of the input; indices point
/// into the input slices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartPattern {
    pub kind: PatternType,
    pub direction: Direction,
    pub start_index: usize,
    /// The last key point; the breakout is looked for after it.
    pub end_index: usize,
    pub key_points: Vec<KeyPoint>,
    /// The level a close must clear in `direction` to confirm the pattern,
    /// evaluated at `breakout_index` (or at the last bar examined while the
    /// pattern is still forming; sloped lines move with time).
    pub breakout_level: f64,
    /// The level whose breach, by a close, invalidates the pattern.
    pub invalidation_level: f64,
    /// Measured move: the pattern's height projected from `breakout_level`.
    pub target: f64,
    /// Fit quality in [0, 1]: tolerance residuals, symmetry, trend context
    /// and, when volume is given, volume behaviour.
    pub confidence: f64,
    pub status: Status,
    /// The bar whose close confirmed or failed the pattern.
    pub breakout_index: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PivotKind {
    High,
    Low,
}

/// A swing high or low found by [`crate::pivots`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pivot {
    pub index: usize,
    /// The bar's high for a swing high, its low for a swing low.
    pub price: f64,
    pub kind: PivotKind,
}
