//! Highest/lowest over a sliding window, in O(n) whatever the period.

/// For every bar `i >= window - 1`, the index of the most extreme value in
/// `x[i + 1 - window ..= i]`, where `at_least(a, b)` says `a` is at least as
/// extreme as `b`. Ties go to the latest bar, as in TA-Lib's AROON. NaN
/// values are never chosen (TA-Lib's comparisons skip them); a window of
/// nothing but NaN gives `None`. Bars before the first full window get `None`.
pub(crate) fn extreme_indices(
    x: &[f64],
    window: usize,
    at_least: impl Fn(f64, f64) -> bool,
) -> Vec<Option<usize>> {
    let window = window.max(1);
    let mut out = vec![None; x.len()];
    // Candidates in index order; their values strictly weaken from front to
    // back, so the front is always the window's extreme.
    let mut candidates = std::collections::VecDeque::new();
    for (i, &v) in x.iter().enumerate() {
        if !v.is_nan() {
            while candidates
                .back()
                .is_some_and(|&b: &usize| at_least(v, x[b]))
            {
                candidates.pop_back();
            }
            candidates.push_back(i);
        }
        while candidates.front().is_some_and(|&f| f + window <= i) {
            candidates.pop_front();
        }
        if i + 1 >= window {
            out[i] = candidates.front().copied();
        }
    }
    out
}

pub(crate) fn highest(x: &[f64], window: usize) -> Vec<f64> {
    values(x, extreme_indices(x, window, |a, b| a >= b))
}

pub(crate) fn lowest(x: &[f64], window: usize) -> Vec<f64> {
    values(x, extreme_indices(x, window, |a, b| a <= b))
}

fn values(x: &[f64], indices: Vec<Option<usize>>) -> Vec<f64> {
    indices
        .into_iter()
        .map(|i| i.map_or(f64::NAN, |i| x[i]))
        .collect()
}
