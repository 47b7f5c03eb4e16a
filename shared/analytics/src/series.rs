//! Indicator outputs as plain `f64` columns: what `compute_series` returns.
//!
//! A value is NaN wherever TA-Lib gives NaN (the warm-up, or bars after a NaN
//! input); it becomes `null` only when a caller serialises it. Keeping the
//! column as `f64` halves its size against `Option<f64>` and lets kernels
//! write it directly, which is most of their cost on long histories.

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

/// One output of an indicator: one value per input bar.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// One value per input bar, NaN where TA-Lib gives NaN.
    pub values: Vec<f64>,
    /// The first bar with a value (not NaN); `values.len()` when there is none.
    pub first_valid: usize,
}

impl Series {
    /// Wraps a column, finding its first value.
    pub fn from_values(values: Vec<f64>) -> Series {
        let first_valid = values
            .iter()
            .position(|v| !v.is_nan())
            .unwrap_or(values.len());
        Series {
            values,
            first_valid,
        }
    }

    /// Number of bars (the input's length).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values from bar `skip` on (empty when `skip` is past the end), for
    /// callers that return only the latest rows. NaN still means no value.
    pub fn window(&self, skip: usize) -> &[f64] {
        self.values.get(skip..).unwrap_or_default()
    }

    /// The values from the first bar that has one.
    pub fn valid(&self) -> &[f64] {
        self.window(self.first_valid)
    }

    /// The value on bar `index`, `None` when that bar has none or is past
    /// the end.
    pub fn get(&self, index: usize) -> Option<f64> {
        self.values.get(index).copied().filter(|v| !v.is_nan())
    }

    /// The value on the last bar, `None` when it has none (a warm-up longer
    /// than the data, or a NaN input that poisons what follows).
    pub fn last(&self) -> Option<f64> {
        self.values.last().copied().filter(|v| !v.is_nan())
    }

    /// The latest bar that has a value, and that value: the last bar itself
    /// unless trailing bars have none.
    pub fn last_valid(&self) -> Option<(usize, f64)> {
        self.valid()
            .iter()
            .rposition(|v| !v.is_nan())
            .map(|i| (self.first_valid + i, self.values[self.first_valid + i]))
    }

    /// The column as options (`None` for NaN), as `compute` returns it.
    pub fn to_options(&self) -> Vec<Option<f64>> {
        to_options(&self.values)
    }
}

/// `None` for NaN, the value otherwise.
pub(crate) fn to_options(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().map(|&v| (!v.is_nan()).then_some(v)).collect()
}

/// Serialises as a sequence with `null` for NaN.
impl Serialize for Series {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Nullable(&self.values).serialize(serializer)
    }
}

/// A slice of values that serialises with `null` for NaN, for callers that
/// serialise part of a `Series` (`Nullable(series.window(skip))`) without
/// copying it. Serde formats disagree on NaN (JSON has none), so the
/// conversion is explicit here rather than left to the format.
#[derive(Debug, Clone, Copy)]
pub struct Nullable<'a>(pub &'a [f64]);

impl Serialize for Nullable<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for &v in self.0 {
            if v.is_nan() {
                seq.serialize_element(&None::<f64>)?;
            } else {
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
    }
}

/// One computed indicator, outputs as `Series`.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesOutput {
    /// The catalogue name (lower case), whatever case the caller used.
    pub name: &'static str,
    /// Every parameter in catalogue order, defaults filled in.
    pub params: Vec<(&'static str, f64)>,
    /// Every output in catalogue order, one value per input bar.
    pub outputs: Vec<(&'static str, Series)>,
}

impl SeriesOutput {
    /// The output called `name` (TA-Lib's output name, e.g. `macdsignal`).
    pub fn output(&self, name: &str) -> Option<&Series> {
        self.outputs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;

    #[test]
    fn accessors_skip_the_warm_up_and_trailing_gaps() {
        let s = Series::from_values(vec![NAN, NAN, 1.0, 2.0, NAN]);
        assert_eq!(s.first_valid, 2);
        assert_eq!(s.valid().len(), 3);
        assert_eq!(s.window(3)[0], 2.0);
        assert!(s.window(9).is_empty());
        assert_eq!(s.get(1), None);
        assert_eq!(s.get(3), Some(2.0));
        assert_eq!(s.get(9), None);
        assert_eq!(s.last(), None);
        assert_eq!(s.last_valid(), Some((3, 2.0)));
        assert_eq!(s.to_options(), [None, None, Some(1.0), Some(2.0), None]);

        let none = Series::from_values(vec![NAN; 3]);
        assert_eq!(none.first_valid, 3);
        assert!(none.valid().is_empty());
        assert_eq!(none.last_valid(), None);
        let empty = Series::from_values(Vec::new());
        assert_eq!((empty.first_valid, empty.last_valid()), (0, None));
    }

    #[test]
    fn nan_serialises_as_null() {
        let s = Series::from_values(vec![NAN, 1.5, -0.0]);
        assert_eq!(serde_json::to_string(&s).unwrap(), "[null,1.5,-0.0]");
        let window = Nullable(s.window(1));
        assert_eq!(serde_json::to_string(&window).unwrap(), "[1.5,-0.0]");
    }
}
