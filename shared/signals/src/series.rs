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
    let Some(warm_up) = period.checked_sub(1) else {
        return vec![None; x.len()];
    };
    let mut sum = 0.0;
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            sum += v;
            if let Some(old) = i.checked_sub(period).and_then(|j| x.get(j)) {
                sum -= old;
            }
            (i >= warm_up).then(|| sum / period as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_mean_starts_after_the_warm_up() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            trailing_mean(&x, 2),
            vec![None, Some(1.5), Some(2.5), Some(3.5)]
        );
        assert_eq!(trailing_mean(&x, 0), vec![None; 4]);
        assert_eq!(trailing_mean(&x, 5), vec![None; 4]);
        assert!(trailing_mean(&[], 3).is_empty());
        assert_eq!(at(&[None, Some(2.0)], 1), Some(2.0));
        assert_eq!(at(&[None, Some(2.0)], 0), None);
        assert_eq!(at(&[Some(1.0)], usize::MAX), None);
    }
}
