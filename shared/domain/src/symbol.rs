use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A ticker, upper-cased and restricted to characters real venues use, so it
/// is safe to embed in storage keys and URIs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

impl Symbol {
    pub const MAX_LEN: usize = 20;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_ascii_uppercase();
        let valid_char = |c: char| c.is_ascii_alphanumeric() || ".-^=/_".contains(c);
        if s.is_empty()
            || s.len() > Self::MAX_LEN
            || !s.chars().all(valid_char)
            || !s.chars().any(|c| c.is_ascii_alphanumeric())
        {
            return Err(DomainError::InvalidSymbol(raw.to_string()));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Symbol {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Symbol> for String {
    fn from(value: Symbol) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(Symbol::parse(" aapl ").unwrap().as_str(), "AAPL");
        assert_eq!(Symbol::parse("brk.b").unwrap().as_str(), "BRK.B");
        assert_eq!(Symbol::parse("^gspc").unwrap().as_str(), "^GSPC");
    }

    #[test]
    fn refuses_unsafe_or_empty_symbols() {
        for bad in [
            "",
            "   ",
            "AA PL",
            "A|B",
            "AAPL#",
            "...",
            &"X".repeat(21),
            "é",
        ] {
            assert!(Symbol::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
