//! Sentiment for GoldenSignals, as pure computation: explainable scores for
//! news and social text, the parsing of news feeds and post files into
//! items, market breadth from stored prices, and market-model event studies.
//!
//! - [`Scorer`] scores one text three ways and says why: VADER exactly as the
//!   reference package `vaderSentiment` 3.3.2 (through `vader-parity`, held
//!   to the package by `tests/vader_parity.rs`), a finance layer over it
//!   (phrases whose tone differs in finance, from `data/finance_terms.tsv`),
//!   and optionally a user-supplied Loughran-McDonald dictionary.
//! - [`import`] reads news (JSONL, CSV, RSS 2.0, Atom) and posts (JSONL)
//!   into [`NewsItem`]s and [`Post`]s, all or nothing, with line-numbered
//!   errors; [`TickerIndex`] finds the symbols an item is about.
//! - [`event_study`] measures abnormal returns around events the way finance
//!   does (market model, CARs, t-statistics, averages over events).
//! - [`breadth`] reads market sentiment from prices across a universe.
//! - [`demo`] writes seeded synthetic headlines and posts whose tone follows
//!   the demo prices, with planted events.
//!
//! Third-party text stays data: nothing here interprets it beyond scoring.
//! This crate does no I/O and knows nothing of storage, MCP or AWS.

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod aggregate;
pub mod breadth;
pub mod demo;
pub mod event_study;
mod finance;
pub mod import;
mod items;
mod lm;
mod score;
mod text;

pub use finance::{FinanceLexicon, FinanceTerm};
pub use items::{
    ItemKind, NewsItem, Post, SymbolMeta, TickerIndex, UNTRUSTED_NOTE, content_id,
    default_symbol_metadata,
};
pub use lm::{LmCounts, LmDictionary};
pub use score::{Label, MatchedTerm, POSITIVE_THRESHOLD, Scorer, TextScore, label_of};

/// What can go wrong building a scorer or reading a data file.
#[derive(Debug, thiserror::Error)]
pub enum SentimentError {
    #[error("{file} line {line}: {message}")]
    Data {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}
