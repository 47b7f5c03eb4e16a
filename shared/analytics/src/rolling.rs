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

/// The window extreme one bar at a time, for kernels that fuse it with what
/// follows instead of storing an index per bar.
///
/// TA-Lib's own scheme: keep the extreme's index, take a new bar that is at
/// least as extreme, and rescan the window only when the extreme leaves it.
/// On prices that is a rescan every few windows (a steady decline against a
/// running maximum is the O(n · window) worst case, as in TA-Lib), and it
/// runs several times faster than `extreme_indices`'s deque, whose pops
/// the branch predictor cannot guess.
pub(crate) struct SlidingExtreme<F> {
    window: usize,
    at_least: F,
    /// The extreme's bar, `None` while the window holds only NaN.
    extreme: Option<usize>,
}

impl<F: Fn(f64, f64) -> bool> SlidingExtreme<F> {
    pub(crate) fn new(window: usize, at_least: F) -> Self {
        SlidingExtreme {
            window: window.max(1),
            at_least,
            extreme: None,
        }
    }

    /// Admits bar `i` (bars must come in order, from 0) and returns the
    /// window's extreme value, NaN before the first full window or when the
    /// window holds nothing but NaN (NaN is never chosen).
    #[inline]
    pub(crate) fn next(&mut self, x: &[f64], i: usize) -> f64 {
        let start = (i + 1).saturating_sub(self.window);
        match self.extreme {
            Some(e) if e >= start => {
                if (self.at_least)(x[i], x[e]) {
                    self.extreme = Some(i);
                }
            }
            _ => {
                self.extreme = None;
                for (j, &v) in x[start..=i].iter().enumerate() {
                    let better = match self.extreme {
                        None => !v.is_nan(),
                        Some(e) => (self.at_least)(v, x[e]),
                    };
                    if better {
                        self.extreme = Some(start + j);
                    }
                }
            }
        }
        match self.extreme {
            Some(e) if i + 1 >= self.window => x[e],
            _ => f64::NAN,
        }
    }
}
