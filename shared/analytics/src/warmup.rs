//! TA-Lib's warm-up conventions, in one place so every indicator pads alike,
//! and the sink kernels write their series into.

/// A series with no value yet: TA-Lib's Python wrapper writes NaN for every
/// bar inside the lookback, and so do we until `compute` turns NaN into `None`.
pub(crate) fn nan_vec(len: usize) -> Vec<f64> {
    vec![f64::NAN; len]
}

/// Runs `f` on `x[skip..]` and pads the front back to full length.
///
/// TA-Lib composes indicators by running the inner one from a later start
/// index (MACD seeds its fast EMA where the slow one starts; STOCH smooths a
/// %K that only exists after its own lookback). Recursive averages seed from
/// the first value they are given, so *where* the slice starts is part of the
/// result, not an optimisation.
pub(crate) fn shifted(x: &[f64], skip: usize, f: impl FnOnce(&[f64]) -> Vec<f64>) -> Vec<f64> {
    if skip >= x.len() {
        return nan_vec(x.len());
    }
    let mut out = nan_vec(skip);
    out.extend(f(&x[skip..]));
    debug_assert_eq!(out.len(), x.len());
    out
}

/// Where a kernel writes one output, bar by bar from the first.
///
/// The hot kernels are written once against this trait: composed into other
/// indicators they fill a `Vec<f64>` (NaN in the warm-up), and called by
/// `compute` they fill the final `Vec<Option<f64>>` directly, so a million
/// bars cost one 16-byte-per-bar allocation per output instead of an 8-byte
/// one converted into a fresh 16-byte one (the page faults of those
/// allocations, not the arithmetic, dominated the run time).
pub(crate) trait Sink {
    /// `bars` bars with no value (the warm-up).
    fn push_missing(&mut self, bars: usize);
    /// The next bar's value; NaN means no value.
    fn push_value(&mut self, value: f64);
}

impl Sink for Vec<f64> {
    fn push_missing(&mut self, bars: usize) {
        self.resize(self.len() + bars, f64::NAN);
    }

    #[inline]
    fn push_value(&mut self, value: f64) {
        self.push(value);
    }
}

impl Sink for Vec<Option<f64>> {
    fn push_missing(&mut self, bars: usize) {
        self.resize(self.len() + bars, None);
    }

    #[inline]
    fn push_value(&mut self, value: f64) {
        self.push((!value.is_nan()).then_some(value));
    }
}

/// Runs a sink kernel into a fresh `Vec<f64>` of exactly `len` bars.
pub(crate) fn collect_values(len: usize, kernel: impl FnOnce(&mut Vec<f64>)) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    kernel(&mut out);
    debug_assert_eq!(out.len(), len);
    out
}

/// An output for `compute`: `skipped` leading `None`s (bars before the first
/// all-number bar), room for exactly `len` bars in all.
pub(crate) fn option_output(len: usize, skipped: usize) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(len);
    out.resize(skipped, None);
    out
}
