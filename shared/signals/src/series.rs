//! Reading and deriving per-bar series (indicator outputs are `Option<f64>`
//! per bar, `None` inside the warm-up). A leaf: used by agents and by the
//! timeframe analysis alike.

/// The value of an indicator series at `t`, if it has one there.
pub(crate) fn at(series: &[Option<f64>], t: usize) -> Option<f64> {
    series.get(t).copied().flatten()
}

/// `period`-bar simple moving average of `x` ending at each index, `None`
/// until `period` values exist. Used where an average of a derived series
/// (not a bar column) is needed.
pub(crate) fn trailing_mean(x: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; x.len()];
    if period == 0 {
        return out;
    }
    let mut sum = 0.0;
    for i in 0..x.len() {
        sum += x[i];
        if i >= period {
            sum -= x[i - period];
        }
        if i + 1 >= period {
            out[i] = Some(sum / period as f64);
        }
    }
    out
}
