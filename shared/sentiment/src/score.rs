//! Scoring one text, with the terms and rules that made the score.

use std::collections::HashMap;
use std::sync::RwLock;

use schemars::JsonSchema;
use serde::Serialize;
use vader_parity::SentimentIntensityAnalyzer;

use crate::SentimentError;
use crate::finance::{
    BOOSTER_INCREMENT, BOOSTER_REACH, BOOSTERS, DAMPENERS, FinanceLexicon, NEGATION_REACH,
    NEGATION_SCALAR, is_negation,
};
use crate::lm::{LmCounts, LmDictionary};
use crate::text::{is_shouting, mixed_case, tokens};

/// VADER's normalisation constant: compound = sum / sqrt(sum² + 15).
const ALPHA: f64 = 15.0;
/// VADER's conventional thresholds for a positive or negative text.
pub const POSITIVE_THRESHOLD: f64 = 0.05;

/// Positive (compound ≥ 0.05), negative (≤ −0.05) or neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Positive,
    Neutral,
    Negative,
}

pub fn label_of(compound: f64) -> Label {
    if compound >= POSITIVE_THRESHOLD {
        Label::Positive
    } else if compound <= -POSITIVE_THRESHOLD {
        Label::Negative
    } else {
        Label::Neutral
    }
}

/// The four numbers of VADER, exactly as `vaderSentiment` 3.3.2 gives them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct VaderScores {
    /// Share of negative tokens, 3 decimals.
    pub neg: f64,
    /// Share of neutral tokens, 3 decimals.
    pub neu: f64,
    /// Share of positive tokens, 3 decimals.
    pub pos: f64,
    /// Normalised sum in [-1, 1], 4 decimals.
    pub compound: f64,
}

/// Where a matched term comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TermSource {
    /// A word of VADER's lexicon (or an emoticon or emoji).
    Vader,
    /// A phrase of the finance layer (`data/finance_terms.tsv`).
    Finance,
}

/// A term that moved the score.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MatchedTerm {
    /// The word or phrase as written.
    pub term: String,
    pub source: TermSource,
    /// Its valence on VADER's scale (-4..4) before rules: the lexicon entry.
    pub valence: f64,
    /// Its valence after negation and intensity words (finance phrases only;
    /// for VADER words the reference applies its own rules, listed in `rules`).
    pub applied: f64,
    /// The negation word before it, if any.
    pub negated_by: Option<String>,
    /// The booster or dampener before it, if any.
    pub intensified_by: Option<String>,
    /// Written in capitals in a mixed-case text (VADER adds emphasis).
    pub emphasised: bool,
    /// Event kind of a finance phrase (e.g. earnings_beat).
    pub category: Option<String>,
    /// For finance phrases: VADER's valence of the words it replaces.
    pub replaces_vader: Option<f64>,
}

/// One text's scores and their explanation.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TextScore {
    /// The score to use: VADER's compound adjusted by the finance layer
    /// (equal to `vader.compound` when no finance phrase matched), in [-1, 1].
    pub compound: f64,
    pub label: Label,
    /// Plain VADER, exactly as the reference package scores the text.
    pub vader: VaderScores,
    /// Label of plain VADER's compound.
    pub vader_label: Label,
    /// Terms that carry tone: VADER lexicon words and finance phrases.
    pub terms: Vec<MatchedTerm>,
    /// The rules that shaped the score, in words.
    pub rules: Vec<String>,
    /// Event kinds of the finance phrases matched, sorted.
    pub categories: Vec<String>,
    /// Loughran-McDonald counts, when a dictionary is configured.
    pub loughran_mcdonald: Option<LmCounts>,
}

/// Scores texts: VADER, the finance layer, and optionally Loughran-McDonald.
/// Build one and share it; scoring takes `&self`.
pub struct Scorer {
    vader: SentimentIntensityAnalyzer,
    finance: FinanceLexicon,
    lm: Option<LmDictionary>,
    /// Lexicon valences of words seen, for explanations.
    valences: RwLock<HashMap<String, f64>>,
}

/// Words whose valence is remembered, at most (then the cache starts again).
const VALENCE_CACHE: usize = 50_000;

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("finance_terms", &self.finance.len())
            .field(
                "loughran_mcdonald",
                &self.lm.as_ref().map(LmDictionary::len),
            )
            .finish()
    }
}

/// Sum of valences whose VADER compound is `c` (the inverse of the
/// normalisation; compounds of ±1 are taken as ±0.9999).
fn raw_sum(c: f64) -> f64 {
    let c = c.clamp(-0.9999, 0.9999);
    c * (ALPHA / (1.0 - c * c)).sqrt()
}

fn normalise(sum: f64) -> f64 {
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

fn round_to(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

impl Scorer {
    /// VADER plus the built-in finance layer.
    pub fn new() -> Result<Self, SentimentError> {
        Ok(Self {
            vader: SentimentIntensityAnalyzer::new(),
            finance: FinanceLexicon::built_in()?,
            lm: None,
            valences: RwLock::new(HashMap::new()),
        })
    }

    /// Adds a Loughran-McDonald dictionary (supplied by the user: its licence
    /// does not allow us to ship it).
    pub fn with_loughran_mcdonald(mut self, lm: LmDictionary) -> Self {
        self.lm = Some(lm);
        self
    }

    pub fn finance(&self) -> &FinanceLexicon {
        &self.finance
    }

    pub fn has_loughran_mcdonald(&self) -> bool {
        self.lm.is_some()
    }

    /// Plain VADER, exactly as the reference.
    pub fn vader(&self, text: &str) -> VaderScores {
        let s = self.vader.polarity_scores(text);
        VaderScores {
            neg: s.neg,
            neu: s.neu,
            pos: s.pos,
            compound: s.compound,
        }
    }

    /// The lexicon valence of one word as VADER has it (0 when none),
    /// recovered from the word scored alone.
    fn valence_of(&self, word: &str) -> f64 {
        if let Some(v) = self.valences.read().ok().and_then(|m| m.get(word).copied()) {
            return v;
        }
        let c = self.vader.polarity_scores(word).compound;
        let v = if c == 0.0 {
            0.0
        } else {
            round_to(raw_sum(c), 3)
        };
        if let Ok(mut m) = self.valences.write() {
            if m.len() >= VALENCE_CACHE {
                m.clear();
            }
            m.insert(word.to_string(), v);
        }
        v
    }

    pub fn score(&self, text: &str) -> TextScore {
        let vader = self.vader(text);
        let toks = tokens(text);
        let bare: Vec<String> = toks
            .iter()
            .map(|t| {
                t.lower
                    .trim_matches(|c: char| c.is_ascii_punctuation())
                    .to_string()
            })
            .collect();
        let mixed = mixed_case(&toks);
        let before =
            |at: usize, reach: usize| -> std::ops::Range<usize> { at.saturating_sub(reach)..at };
        let find_in = |range: std::ops::Range<usize>, pred: &dyn Fn(&str) -> bool| {
            bare.get(range)
                .and_then(|ws| ws.iter().rev().find(|w| pred(w)).cloned())
        };
        // VADER's contrast rule: tone before the first "but" weighs half,
        // after it 1.5 times.
        let but_at = bare.iter().position(|w| w == "but");

        let mut terms = Vec::new();
        let mut categories = Vec::new();
        let mut finance_sum = 0.0f64;
        // Whitespace words inside finance phrases, masked for the re-score.
        let mut masked: Vec<usize> = Vec::new();
        let mut i = 0usize;
        while i < toks.len() {
            if let Some(term) = self.finance.match_at(&bare, i) {
                let end = i.saturating_add(term.words.len());
                let span = toks.get(i..end).unwrap_or_default();
                let replaced: f64 = span.iter().map(|t| self.valence_of(&t.lower)).sum();
                masked.extend(span.iter().map(|t| t.word));
                let negated_by = find_in(before(i, NEGATION_REACH), &|w| is_negation(w));
                // The nearest booster or dampener in the three words before,
                // scaled by distance as VADER does (1, 0.95, 0.9).
                let booster = (1..=BOOSTER_REACH).find_map(|d| {
                    let w = bare.get(i.checked_sub(d)?)?;
                    (BOOSTERS.contains(&w.as_str()) || DAMPENERS.contains(&w.as_str()))
                        .then(|| (w.clone(), d))
                });
                let mut applied = term.valence;
                if let Some((word, d)) = &booster {
                    let scale = match d {
                        1 => 1.0,
                        2 => 0.95,
                        _ => 0.9,
                    };
                    let step = (BOOSTER_INCREMENT * scale).copysign(applied);
                    if BOOSTERS.contains(&word.as_str()) {
                        applied += step;
                    } else {
                        applied -= step;
                    }
                }
                if negated_by.is_some() {
                    applied *= NEGATION_SCALAR;
                }
                if let Some(b) = but_at {
                    applied *= if i < b { 0.5 } else { 1.5 };
                }
                finance_sum += applied;
                let written: Vec<&str> = span.iter().map(|t| t.raw).collect();
                if negated_by.is_none() {
                    categories.push(term.category.clone());
                }
                terms.push(MatchedTerm {
                    term: written.join(" "),
                    source: TermSource::Finance,
                    valence: term.valence,
                    applied: round_to(applied, 3),
                    negated_by,
                    intensified_by: booster.map(|b| b.0),
                    emphasised: false,
                    category: Some(term.category.clone()),
                    replaces_vader: Some(round_to(replaced, 3)),
                });
                i = end;
                continue;
            }
            if let Some(tok) = toks.get(i) {
                let valence = self.valence_of(&tok.lower);
                if valence != 0.0 {
                    terms.push(MatchedTerm {
                        term: tok.raw.to_string(),
                        source: TermSource::Vader,
                        valence,
                        applied: valence,
                        negated_by: find_in(before(i, NEGATION_REACH), &|w| is_negation(w)),
                        intensified_by: find_in(before(i, BOOSTER_REACH), &|w| {
                            BOOSTERS.contains(&w) || DAMPENERS.contains(&w)
                        }),
                        emphasised: mixed && is_shouting(tok.raw),
                        category: None,
                        replaces_vader: None,
                    });
                }
            }
            i = i.saturating_add(1);
        }
        categories.sort();
        categories.dedup();

        let compound = if masked.is_empty() {
            vader.compound
        } else {
            // VADER on the text with the phrases' words masked (so none of
            // its rules act on them), plus the phrases' own valences.
            let rest: Vec<&str> = text
                .split_whitespace()
                .enumerate()
                .map(|(k, w)| if masked.contains(&k) { MASK } else { w })
                .collect();
            let rest = self.vader.polarity_scores(&rest.join(" ")).compound;
            round_to(normalise(raw_sum(rest) + finance_sum), 4)
        };
        let rules = rules_of(text, &bare, &terms);
        TextScore {
            compound,
            label: label_of(compound),
            vader,
            vader_label: label_of(vader.compound),
            terms,
            rules,
            categories,
            loughran_mcdonald: self.lm.as_ref().map(|lm| lm.count(text)),
        }
    }
}

/// Stands in for a finance phrase's words when VADER re-scores the rest:
/// a lower-case word VADER has no entry for and no rule about.
const MASK: &str = "qqxq";

fn rules_of(text: &str, bare: &[String], terms: &[MatchedTerm]) -> Vec<String> {
    let mut rules = Vec::new();
    for t in terms {
        let what = match t.source {
            TermSource::Vader => "VADER",
            TermSource::Finance => "finance",
        };
        if let Some(n) = &t.negated_by {
            rules.push(format!(
                "negation: {n:?} flips and damps {what} term {:?}",
                t.term
            ));
        }
        if let Some(b) = &t.intensified_by {
            let kind = if BOOSTERS.contains(&b.as_str()) {
                "intensifies"
            } else {
                "damps"
            };
            rules.push(format!("intensity: {b:?} {kind} {what} term {:?}", t.term));
        }
        if t.emphasised {
            rules.push(format!("capitals: {:?} is emphasised", t.term));
        }
        if let (TermSource::Finance, Some(v)) = (t.source, t.replaces_vader) {
            rules.push(format!(
                "finance: {:?} ({}) counts {:+.3} in place of VADER's {v:+.3}",
                t.term,
                t.category.as_deref().unwrap_or(""),
                t.applied
            ));
        }
    }
    if bare.iter().any(|w| w == "but") {
        rules.push("contrast: words before \"but\" weigh half, words after it 1.5 times".into());
    }
    let bangs = text.chars().filter(|c| *c == '!').count();
    if bangs > 0 {
        rules.push(format!(
            "emphasis: {bangs} exclamation mark{} (VADER counts up to 4)",
            if bangs == 1 { "" } else { "s" }
        ));
    }
    let questions = text.chars().filter(|c| *c == '?').count();
    if questions > 1 {
        rules.push(format!("emphasis: {questions} question marks"));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer() -> Scorer {
        Scorer::new().unwrap()
    }

    #[test]
    fn plain_text_keeps_vader_exactly() {
        let s = scorer().score("VADER is smart, handsome, and funny.");
        assert_eq!(s.compound, 0.8316);
        assert_eq!(s.vader.compound, 0.8316);
        let words: Vec<&str> = s.terms.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(words, vec!["smart", "handsome", "funny"]);
        assert!(s.terms.iter().all(|t| t.source == TermSource::Vader));
    }

    #[test]
    fn valences_are_recovered_from_the_lexicon() {
        // "good" is 1.9 in VADER's lexicon.
        assert_eq!(scorer().valence_of("good"), 1.9);
        assert_eq!(scorer().valence_of("table"), 0.0);
    }

    #[test]
    fn the_finance_layer_turns_a_beat_positive() {
        let s = scorer().score("Acme crushes estimates");
        assert_eq!(s.vader_label, Label::Negative, "{s:?}");
        assert_eq!(s.label, Label::Positive, "{s:?}");
        assert_eq!(s.categories, vec!["earnings_beat"]);
        assert!(
            s.rules.iter().any(|r| r.starts_with("finance:")),
            "{:?}",
            s.rules
        );
    }

    #[test]
    fn negation_flips_a_finance_phrase() {
        let s = scorer().score("Acme did not cut guidance");
        let t = s
            .terms
            .iter()
            .find(|t| t.source == TermSource::Finance)
            .unwrap();
        assert_eq!(t.negated_by.as_deref(), Some("not"));
        // -2.7 x -0.74 = +1.998 alone: 1.998 / sqrt(1.998^2 + 15) = 0.4585.
        assert_eq!(t.applied, 1.998);
        assert_eq!(s.compound, 0.4585);
        assert!(
            s.categories.is_empty(),
            "a negated guidance cut is no guidance_cut event"
        );
        let strong = scorer().score("Acme sharply cuts dividend");
        let t = strong
            .terms
            .iter()
            .find(|t| t.source == TermSource::Finance)
            .unwrap();
        assert_eq!(t.applied, -2.693);
        // VADER boosts before it negates, and weighs tone after "but" 1.5 times.
        let both = scorer().score("Acme did not sharply cut dividend");
        let t = both
            .terms
            .iter()
            .find(|t| t.source == TermSource::Finance)
            .unwrap();
        assert_eq!(t.applied, 1.993);
        let contrast = scorer().score("Sales were fine but Acme cuts dividend");
        let t = contrast
            .terms
            .iter()
            .find(|t| t.source == TermSource::Finance)
            .unwrap();
        assert_eq!(t.applied, -3.6);
    }

    #[test]
    fn rules_are_listed() {
        let s = scorer().score("The food is good but the service is TERRIBLE!!");
        assert!(
            s.rules.iter().any(|r| r.starts_with("contrast")),
            "{:?}",
            s.rules
        );
        assert!(
            s.rules.iter().any(|r| r.contains("2 exclamation")),
            "{:?}",
            s.rules
        );
        assert!(
            s.rules.iter().any(|r| r.contains("TERRIBLE")),
            "{:?}",
            s.rules
        );
    }
}
