//! TA-Lib's warm-up conventions, in one place so every indicator pads alike,
//! and the helpers the appending kernels write their series with.

/// A series with no value yet: TA-Lib's Python wrapper writes NaN for every
/// bar inside the lookback, and so do we (a caller sees `null` only when it
/// serialises a `Series`).
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

/// Appends `bars` bars with no value (a warm-up) to an output.
pub(crate) fn push_missing(out: &mut Vec<f64>, bars: usize) {
    out.resize(out.len() + bars, f64::NAN);
}

/// Runs a kernel that appends to its output into a fresh `Vec<f64>` of
/// exactly `len` bars, allocated once.
///
/// The hot kernels append rather than return: called by `compute_series`
/// they write straight into the final output (which may already hold the
/// bars skipped before the first all-number bar), and composed into other
/// indicators they fill a vector of their own through this. At a million
/// bars the cost of an output is mostly the first touch of its pages, so
/// each output is allocated once and written once.
pub(crate) fn collect_values(len: usize, kernel: impl FnOnce(&mut Vec<f64>)) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    kernel(&mut out);
    debug_assert_eq!(out.len(), len);
    out
}
