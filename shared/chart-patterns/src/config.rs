/// How close two prices must be to count as "the same level" (equal tops,
/// a touch of a trend line).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// A multiple of the average true range over the pattern. Scales with
    /// the instrument's own noise, so one setting fits a penny stock and an
    /// index future.
    AtrMultiple(f64),
    /// A fraction of the average close over the pattern (0.02 = 2 %), the
    /// textbook rule of thumb.
    PriceFraction(f64),
}

/// Knobs of the detector. `Default` is what the recall and false-positive
/// numbers in `tests/` were measured with.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Wilder ATR period. Default 14.
    pub atr_period: usize,
    /// Minimum swing, in ATRs, for [`crate::pivots`] to confirm a pivot.
    /// Default 2.0.
    pub pivot_atr_multiple: f64,
    /// [`crate::detect`] repeats the search on pivots found with
    /// `pivot_atr_multiple × factor` for each factor, because one swing size
    /// cannot see both a tight flag and a wide cup. Default `[0.75, 1.5]`.
    pub pivot_scales: Vec<f64>,
    /// Equal-level tolerance. Default `AtrMultiple(1.0)`.
    pub tolerance: Tolerance,
    /// Shortest reversal, triangle, wedge, rectangle or cup, in bars from
    /// first to last key point (flags have their own limits). Default 15.
    pub min_pattern_bars: usize,
    /// Longest pattern, in bars from first to last key point. Default 250.
    pub max_pattern_bars: usize,
    /// A pattern's height (peak to neckline, widest part of a triangle) must
    /// be at least this many ATRs, otherwise it is noise; triangles, wedges
    /// and rectangles need 1.5 times this. Default 4.0.
    pub min_height_atr: f64,
    /// Fewest pivots touching the two lines of a triangle, wedge or
    /// rectangle. Default 5.
    pub min_touches: usize,
    /// Most pivots tried in one triangle, wedge or rectangle window.
    /// Default 8.
    pub max_touches: usize,
    /// A flag or pennant pole must move at least this many ATRs (measured
    /// before the pole) and cover at least two "random-walk standard
    /// deviations" (move / (ATR·√bars) ≥ 2)... Default 4.0.
    pub pole_min_atr: f64,
    /// ...within at most this many bars. Default 15.
    pub max_pole_bars: usize,
    /// Longest flag or pennant after its pole. Default 40.
    pub max_flag_bars: usize,
    /// Shortest cup, rim to rim. Default 20.
    pub min_cup_bars: usize,
    /// Patterns below this confidence are dropped. Default 0.6: weaker fits
    /// are mostly chance alignments in random walks (at 0.6 the false
    /// positives on random walks halve for a loss of about 0.01 in recall;
    /// see `tests/recall.rs`).
    pub min_confidence: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            atr_period: 14,
            pivot_atr_multiple: 2.0,
            pivot_scales: vec![0.75, 1.5],
            tolerance: Tolerance::AtrMultiple(1.0),
            min_pattern_bars: 15,
            max_pattern_bars: 250,
            min_height_atr: 4.0,
            min_touches: 5,
            max_touches: 8,
            pole_min_atr: 4.0,
            max_pole_bars: 15,
            max_flag_bars: 40,
            min_cup_bars: 20,
            min_confidence: 0.6,
        }
    }
}
