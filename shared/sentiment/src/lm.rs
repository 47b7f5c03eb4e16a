//! Loughran-McDonald word lists, from a dictionary file the user supplies
//! (the Master Dictionary CSV: a `Word` column and one column per list whose
//! non-zero, positive entries mark membership). Its licence allows research
//! use only, so none is shipped.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::SentimentError;

const LISTS: [&str; 4] = ["positive", "negative", "uncertainty", "litigious"];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Membership {
    positive: bool,
    negative: bool,
    uncertainty: bool,
    litigious: bool,
}

/// The four lists, by upper-case word.
#[derive(Debug, Clone)]
pub struct LmDictionary {
    words: HashMap<String, Membership>,
}

/// Loughran-McDonald counts for one text.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LmCounts {
    /// Words counted (alphabetic tokens).
    pub words: usize,
    pub positive: usize,
    pub negative: usize,
    pub uncertainty: usize,
    pub litigious: usize,
    /// (positive − negative) / (positive + negative); absent when both are 0.
    pub tone: Option<f64>,
}

impl LmDictionary {
    /// Reads the Master Dictionary CSV (or any CSV with `Word` and some of
    /// `Positive`, `Negative`, `Uncertainty`, `Litigious`; case-insensitive
    /// headers). Errors name the line.
    pub fn from_csv(text: &str, file: &str) -> Result<Self, SentimentError> {
        let bad = |line: usize, message: String| SentimentError::Data {
            file: file.to_string(),
            line,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| bad(1, format!("cannot read the header: {e}")))?
            .clone();
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let word_col = find("word").ok_or_else(|| bad(1, "no Word column".into()))?;
        let cols: Vec<Option<usize>> = LISTS.iter().map(|l| find(l)).collect();
        if cols.iter().all(Option::is_none) {
            return Err(bad(
                1,
                "none of the columns Positive, Negative, Uncertainty, Litigious".into(),
            ));
        }
        let mut words = HashMap::new();
        for (i, record) in reader.records().enumerate() {
            let line = i.saturating_add(2);
            let record = record.map_err(|e| bad(line, e.to_string()))?;
            let word = record
                .get(word_col)
                .unwrap_or_default()
                .trim()
                .to_uppercase();
            if word.is_empty() {
                return Err(bad(line, "empty Word".into()));
            }
            let mut flags = [false; 4];
            for (flag, col) in flags.iter_mut().zip(&cols) {
                let Some(col) = col else { continue };
                let cell = record.get(*col).unwrap_or_default().trim();
                let value: f64 = if cell.is_empty() {
                    0.0
                } else {
                    cell.parse()
                        .map_err(|_| bad(line, format!("{cell:?} is not a number")))?
                };
                *flag = value > 0.0;
            }
            let [positive, negative, uncertainty, litigious] = flags;
            if positive || negative || uncertainty || litigious {
                words.insert(
                    word,
                    Membership {
                        positive,
                        negative,
                        uncertainty,
                        litigious,
                    },
                );
            }
        }
        Ok(Self { words })
    }

    /// Words in at least one list.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn count(&self, text: &str) -> LmCounts {
        let mut c = LmCounts {
            words: 0,
            positive: 0,
            negative: 0,
            uncertainty: 0,
            litigious: 0,
            tone: None,
        };
        for word in text
            .split(|ch: char| !ch.is_alphabetic() && ch != '\'')
            .map(|w| w.trim_matches('\''))
            .filter(|w| !w.is_empty())
        {
            c.words = c.words.saturating_add(1);
            if let Some(m) = self.words.get(&word.to_uppercase()) {
                let add = |n: &mut usize, yes: bool| {
                    if yes {
                        *n = n.saturating_add(1);
                    }
                };
                add(&mut c.positive, m.positive);
                add(&mut c.negative, m.negative);
                add(&mut c.uncertainty, m.uncertainty);
                add(&mut c.litigious, m.litigious);
            }
        }
        let polar = c.positive.saturating_add(c.negative);
        if polar > 0 {
            c.tone = Some((c.positive as f64 - c.negative as f64) / polar as f64);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICT: &str = "Word,Seq_num,Negative,Positive,Uncertainty,Litigious\n\
        LOSS,1,2009,0,0,0\nGAIN,2,0,2009,0,0\nMAY,3,0,0,2009,0\nCOURT,4,0,0,0,2009\n\
        REMOVED,5,-2020,0,0,0\n";

    #[test]
    fn counts_and_tone() {
        let lm = LmDictionary::from_csv(DICT, "lm.csv").unwrap();
        assert_eq!(lm.len(), 4, "a negative year marks a removed word");
        let c = lm.count("A gain, a gain and a loss; the court may rule. Removed.");
        assert_eq!(
            (c.positive, c.negative, c.uncertainty, c.litigious),
            (2, 1, 1, 1)
        );
        assert_eq!(c.words, 12);
        assert_eq!(c.tone, Some(1.0 / 3.0));
        assert_eq!(lm.count("nothing here").tone, None);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let err = LmDictionary::from_csv("Word,Negative\nLOSS,x\n", "lm.csv").unwrap_err();
        assert_eq!(err.to_string(), "lm.csv line 2: \"x\" is not a number");
        assert!(LmDictionary::from_csv("Term,Negative\n", "lm.csv").is_err());
    }
}
