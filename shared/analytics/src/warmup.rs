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

/// Bars per block in `extend_blocks`: small enough for the blocks of three
/// outputs to stay in L1, large enough that flushing them is noise.
const BLOCK: usize = 128;

/// Appends one value per item to each of `N` outputs, `step` giving the
/// `N` values of an item from the kernel's running `state` (which it
/// advances); returns the final state.
///
/// A kernel that pushed to several vectors bar by bar paid for it on its
/// critical path: each push may call the allocator, and no floating-point
/// register survives a call, so the compiler kept the running state in
/// memory. Here a call-free loop fills stack blocks (`fill_block`, kept out
/// of line so that nothing in it is live across the copies), and each block
/// is appended with one copy per output. MACD ran twice as fast for it.
pub(crate) fn extend_blocks<S, T, const N: usize>(
    items: impl Iterator<Item = T>,
    mut outs: [&mut Vec<f64>; N],
    state: S,
    mut step: impl FnMut(&mut S, T) -> [f64; N],
) -> S {
    let mut items = items;
    let mut state = state;
    let mut blocks = [[0.0; BLOCK]; N];
    loop {
        let filled;
        (state, filled) = fill_block(&mut items, &mut blocks, state, &mut step);
        for (out, block) in outs.iter_mut().zip(&blocks) {
            out.extend_from_slice(&block[..filled]);
        }
        if filled < BLOCK {
            return state;
        }
    }
}

/// Fills `blocks` from up to `BLOCK` items; returns the state and how many
/// items there were.
#[inline(never)]
fn fill_block<S, T, const N: usize>(
    items: &mut impl Iterator<Item = T>,
    blocks: &mut [[f64; BLOCK]; N],
    mut state: S,
    step: &mut impl FnMut(&mut S, T) -> [f64; N],
) -> (S, usize) {
    let mut filled = 0;
    // The range comes first so that a full block takes no extra item.
    for (i, item) in (0..BLOCK).zip(items) {
        for (block, value) in blocks.iter_mut().zip(step(&mut state, item)) {
            block[i] = value;
        }
        filled = i + 1;
    }
    (state, filled)
}

/// Bars per chunk in `for_each_chunk`.
const CHUNK: usize = 256;

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
    fn extend_blocks_appends_every_item_once_in_order() {
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5] {
            let mut a = vec![-1.0];
            let mut b = Vec::new();
            let items = (0..len).map(|i| i as f64);
            let count = extend_blocks(items, [&mut a, &mut b], 0, |count, v| {
                *count += 1;
                [v, 2.0 * v]
            });
            assert_eq!(count, len);
            assert_eq!(a.len(), len + 1);
            assert!(a[1..].iter().enumerate().all(|(i, &v)| v == i as f64));
            assert!(b.iter().enumerate().all(|(i, &v)| v == 2.0 * i as f64));
        }
    }
}
