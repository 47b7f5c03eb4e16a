//! TA-Lib's warm-up conventions, in one place so every indicator pads alike.

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
