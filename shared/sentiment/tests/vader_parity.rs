//! VADER parity: every sentence of the committed corpus scores exactly as
//! the reference package `vaderSentiment` 3.3.2 scored it
//! (`scripts/vader_reference.py` wrote `data/vader_reference.jsonl`).

use gs_sentiment::Scorer;
use serde_json::Value;

#[test]
fn every_sentence_scores_as_the_reference() {
    let text = include_str!("data/vader_reference.jsonl");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["package"], "vaderSentiment 3.3.2");
    let scorer = Scorer::new().unwrap();
    let mut checked = 0usize;
    let mut mismatches = Vec::new();
    for line in lines {
        let row: Value = serde_json::from_str(line).unwrap();
        let sentence = row["text"].as_str().unwrap();
        let got = scorer.vader(sentence);
        let want = |k: &str| row[k].as_f64().unwrap();
        if (got.neg, got.neu, got.pos, got.compound)
            != (want("neg"), want("neu"), want("pos"), want("compound"))
        {
            mismatches.push(format!("{sentence:?}: got {got:?}, want {row}"));
        }
        checked += 1;
    }
    assert_eq!(checked as u64, header["sentences"].as_u64().unwrap());
    assert!(
        checked >= 500,
        "the corpus must hold at least 500 sentences"
    );
    assert!(
        mismatches.is_empty(),
        "{} of {checked} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_full_score_reports_plain_vader_unchanged() {
    // The finance layer adds to VADER; it never alters the VADER numbers it reports.
    let text = include_str!("data/vader_reference.jsonl");
    let scorer = Scorer::new().unwrap();
    for line in text.lines().skip(1) {
        let row: Value = serde_json::from_str(line).unwrap();
        let s = scorer.score(row["text"].as_str().unwrap());
        assert_eq!(s.vader.compound, row["compound"].as_f64().unwrap());
        if s.terms.iter().all(|t| t.category.is_none()) {
            assert_eq!(s.compound, s.vader.compound, "{row}");
        }
    }
}
