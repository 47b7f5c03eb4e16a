//! Tokens as VADER sees them: whitespace-separated words with surrounding
//! punctuation stripped (unless that leaves two characters or fewer), words
//! of one character dropped. Explanations and the finance layer match on
//! these, lower-cased.

/// One word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// As written (punctuation stripped).
    pub raw: &'a str,
    /// Lower-cased.
    pub lower: String,
    /// Position among the text's whitespace-separated words.
    pub word: usize,
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
}

pub(crate) fn tokens(text: &str) -> Vec<Token<'_>> {
    text.split_whitespace()
        .enumerate()
        .filter_map(|(index, word)| {
            let stripped = word.trim_matches(is_punct);
            let raw = if stripped.chars().count() <= 2 {
                word
            } else {
                stripped
            };
            (raw.chars().count() > 1).then(|| Token {
                raw,
                lower: raw.to_lowercase(),
                word: index,
            })
        })
        .collect()
}

/// True when the token is written in capitals (and has a letter).
pub(crate) fn is_shouting(raw: &str) -> bool {
    raw.chars().any(char::is_alphabetic) && !raw.chars().any(char::is_lowercase)
}

/// True when some words are capitalised and some are not: VADER's
/// condition for capitals to add emphasis.
pub(crate) fn mixed_case(tokens: &[Token<'_>]) -> bool {
    let shouting = tokens.iter().filter(|t| is_shouting(t.raw)).count();
    shouting > 0 && shouting < tokens.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_is_stripped_unless_little_is_left() {
        let t: Vec<String> = tokens("Great!!! :) ok, a $AAPL")
            .into_iter()
            .map(|t| t.raw.to_string())
            .collect();
        assert_eq!(t, vec!["Great", ":)", "ok,", "AAPL"]);
    }

    #[test]
    fn shouting_needs_a_letter_and_no_lower_case() {
        assert!(is_shouting("GREAT"));
        assert!(!is_shouting("Great"));
        assert!(!is_shouting("123"));
        assert!(mixed_case(&tokens("this is GREAT")));
        assert!(!mixed_case(&tokens("THIS IS GREAT")));
    }
}
