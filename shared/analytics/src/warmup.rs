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

/// Bars per chunk in `for_each_chunk`.
pub(crate) const CHUNK: usize = 256;

/// Appends `input.len()` values to each of `N` outputs: `body` gets each
/// chunk of up to `CHUNK` input values with the matching, freshly appended
/// (zeroed) stretch of every output, and fills them.
///
/// The outputs grow one chunk at a time, so the zeroing stays in L1 and
/// `body` writes the outputs in place: no staging copy, and nothing in the
/// inner loop that calls out, so its running state stays in registers.
#[inline(always)]
pub(crate) fn for_each_chunk<const N: usize>(
    input: &[f64],
    mut outs: [&mut Vec<f64>; N],
    mut body: impl FnMut(&[f64], [&mut [f64]; N]),
) {
    for chunk in input.chunks(CHUNK) {
        let slices = outs.each_mut().map(|out| {
            let base = out.len();
            out.resize(base + chunk.len(), 0.0);
            &mut out[base..]
        });
        body(chunk, slices);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_each_chunk_appends_every_value_once_in_order() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            let input: Vec<f64> = (0..len).map(|i| i as f64).collect();
            let mut a = vec![-1.0];
            let mut b = Vec::new();
            let mut seen = 0;
            for_each_chunk(&input, [&mut a, &mut b], |chunk, [a, b]| {
                for ((&v, a), b) in chunk.iter().zip(a).zip(b) {
                    *a = v;
                    *b = 2.0 * v;
                }
                seen += chunk.len();
            });
            assert_eq!(seen, len);
            assert_eq!(a.len(), len + 1);
            assert!(a[1..].iter().enumerate().all(|(i, &v)| v == i as f64));
            assert!(b.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f64));
        }
    }
}
