//! Chart pattern detection: finds head and shoulders, double and triple
//! tops and bottoms, triangles, wedges, flags, pennants, cups with handles
//! and rectangles in OHLC(V) series. Swing points come from an ATR-scaled
//! zig-zag ([`pivots`]); each pattern is a geometric test on those pivots
//! (or, for the small pause of a flag, on the bars), scored for fit and
//! followed forward to see whether it broke out ([`Status`]). The measured
//! recall and false-positive rates live in `tests/recall.rs`.
//!
//! This crate is pure, deterministic computation on slices of `f64`. It must
//! never depend on storage, networking, a runtime, MCP, JSON-RPC, AWS or any
//! other workspace crate, and it never does I/O or panics on odd input
//! (empty, NaN, flat or very short series give no patterns).

mod boundary;
mod candidate;
mod config;
mod continuation;
mod cup;
mod detect;
mod error;
mod line;
mod pivots;
mod reversal;
mod series;
mod types;

pub use config::{DetectorConfig, Tolerance};
pub use detect::{detect, overall_confidence, pivots};
pub use error::ChartPatternError;
pub use types::{ChartPattern, Direction, KeyPoint, PatternType, Pivot, PivotKind, Status};
