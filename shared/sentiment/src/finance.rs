//! The finance layer's lexicon: phrases from `data/finance_terms.tsv` (its
//! header says how they apply) and the negation and intensity words around
//! them.

use std::collections::HashMap;

use crate::SentimentError;

const BUILT_IN: &str = include_str!("../data/finance_terms.tsv");
const FILE: &str = "data/finance_terms.tsv";

/// VADER's negation factor.
pub(crate) const NEGATION_SCALAR: f64 = -0.74;
/// VADER's booster increment.
pub(crate) const BOOSTER_INCREMENT: f64 = 0.293;
/// Words before a phrase a negation reaches back over.
pub(crate) const NEGATION_REACH: usize = 3;
/// Words before a phrase a booster or dampener reaches back over.
pub(crate) const BOOSTER_REACH: usize = 3;

pub(crate) const NEGATIONS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "nowhere", "cannot",
    "without", "rarely", "seldom", "despite", "aint", "isnt", "arent", "wasnt", "werent", "dont",
    "doesnt", "didnt", "wont", "wouldnt", "shouldnt", "couldnt", "cant", "hasnt", "havent",
    "hadnt", "avoids", "avoided", "denies", "denied",
];

pub(crate) const BOOSTERS: &[&str] = &[
    "very",
    "extremely",
    "really",
    "sharply",
    "significantly",
    "substantially",
    "massively",
    "hugely",
    "strongly",
    "deeply",
    "highly",
    "heavily",
    "dramatically",
    "absolutely",
    "completely",
    "totally",
    "incredibly",
    "most",
    "major",
    "huge",
    "big",
];

pub(crate) const DAMPENERS: &[&str] = &[
    "slightly",
    "modestly",
    "marginally",
    "somewhat",
    "barely",
    "hardly",
    "partly",
    "scarcely",
    "little",
    "minor",
    "small",
    "mildly",
];

/// True for negation words, including `n't` forms.
pub(crate) fn is_negation(word: &str) -> bool {
    let bare: String = word.chars().filter(|c| *c != '\'' && *c != '’').collect();
    NEGATIONS.contains(&bare.as_str()) || word.ends_with("n't") || word.ends_with("n’t")
}

/// One phrase of the finance layer.
#[derive(Debug, Clone, PartialEq)]
pub struct FinanceTerm {
    /// Lower-case words.
    pub words: Vec<String>,
    pub valence: f64,
    pub category: String,
    pub why: String,
}

impl FinanceTerm {
    pub fn phrase(&self) -> String {
        self.words.join(" ")
    }
}

/// The phrases, indexed by their first word, longest first.
#[derive(Debug, Clone)]
pub struct FinanceLexicon {
    by_first: HashMap<String, Vec<FinanceTerm>>,
    len: usize,
}

impl FinanceLexicon {
    /// The lexicon shipped in `data/finance_terms.tsv`.
    pub fn built_in() -> Result<Self, SentimentError> {
        Self::parse(BUILT_IN, FILE)
    }

    /// Reads a lexicon in the same format: `phrase<TAB>valence<TAB>category<TAB>why`,
    /// `#` comments, valences in [-4, 4].
    pub fn parse(text: &str, file: &str) -> Result<Self, SentimentError> {
        let mut by_first: HashMap<String, Vec<FinanceTerm>> = HashMap::new();
        let mut len = 0usize;
        for (i, line) in text.lines().enumerate() {
            let line_no = i.saturating_add(1);
            let bad = |message: String| SentimentError::Data {
                file: file.to_string(),
                line: line_no,
                message,
            };
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [phrase, valence, category, why] = cols.as_slice() else {
                return Err(bad(format!(
                    "expected 4 tab-separated columns (phrase, valence, category, why), found {}",
                    cols.len()
                )));
            };
            let words: Vec<String> = phrase.split_whitespace().map(str::to_string).collect();
            if words.is_empty() || words.iter().any(|w| w.to_lowercase() != *w) {
                return Err(bad(format!("phrase {phrase:?} must be lower-case words")));
            }
            let valence: f64 = valence
                .trim()
                .parse()
                .map_err(|_| bad(format!("valence {valence:?} is not a number")))?;
            if !(-4.0..=4.0).contains(&valence) {
                return Err(bad(format!("valence {valence} is outside [-4, 4]")));
            }
            let category = category.trim();
            if category.is_empty()
                || !category
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            {
                return Err(bad(format!("category {category:?} must be snake_case")));
            }
            let Some(first) = words.first().cloned() else {
                continue;
            };
            let entry = by_first.entry(first).or_default();
            if entry.iter().any(|t| t.words == words) {
                return Err(bad(format!("phrase {phrase:?} is listed twice")));
            }
            entry.push(FinanceTerm {
                words,
                valence,
                category: category.to_string(),
                why: why.trim().to_string(),
            });
            len = len.saturating_add(1);
        }
        for terms in by_first.values_mut() {
            terms.sort_by_key(|t| std::cmp::Reverse(t.words.len()));
        }
        Ok(Self { by_first, len })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The longest phrase starting at `words[at]`, if any.
    pub(crate) fn match_at(&self, words: &[String], at: usize) -> Option<&FinanceTerm> {
        let first = words.get(at)?;
        self.by_first.get(first)?.iter().find(|term| {
            words
                .get(at..at.saturating_add(term.words.len()))
                .is_some_and(|w| w == term.words.as_slice())
        })
    }

    /// Every category, sorted.
    pub fn categories(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .by_first
            .values()
            .flatten()
            .map(|t| t.category.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_lexicon_loads() {
        let lex = FinanceLexicon::built_in().unwrap();
        assert!(lex.len() > 60);
        let words: Vec<String> = ["acme", "beats", "estimates"].map(String::from).to_vec();
        assert_eq!(lex.match_at(&words, 1).unwrap().category, "earnings_beat");
        assert!(lex.match_at(&words, 0).is_none());
        assert!(lex.categories().contains(&"guidance_cut".to_string()));
    }

    #[test]
    fn bad_lines_are_named() {
        let err = FinanceLexicon::parse("# c\nbeats\t9\tx\ty\n", "f.tsv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.tsv line 2: valence 9 is outside [-4, 4]"
        );
        let err = FinanceLexicon::parse("Beats\t1\tx\ty\n", "f.tsv").unwrap_err();
        assert!(err.to_string().contains("lower-case"), "{err}");
        let err = FinanceLexicon::parse("a b\t1\n", "f.tsv").unwrap_err();
        assert!(err.to_string().contains("line 1: expected 4"), "{err}");
    }

    #[test]
    fn negations_include_contractions() {
        assert!(is_negation("isn't"));
        assert!(is_negation("never"));
        assert!(!is_negation("note"));
    }
}
