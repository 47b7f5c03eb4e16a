//! Symbol metadata the risk checks and exposures read: sector, asset class
//! and lot size, from `data/symbols.csv` (compiled in). A symbol not listed
//! gets the defaults: sector `Unclassified`, asset class `crypto` for
//! `XXX-USD` pairs and `equity` otherwise, lot size 1 (0.0001 for crypto).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::Serialize;

const DATA: &str = include_str!("../data/symbols.csv");

/// What the portfolio knows about a symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SymbolInfo {
    pub sector: String,
    pub asset_class: String,
    /// Smallest tradable quantity step.
    #[schemars(with = "String")]
    pub lot_size: Decimal,
    /// Listed in the metadata file (false: defaults).
    pub listed: bool,
}

fn table() -> &'static BTreeMap<String, SymbolInfo> {
    static TABLE: OnceLock<BTreeMap<String, SymbolInfo>> = OnceLock::new();
    TABLE.get_or_init(|| parse(DATA))
}

fn parse(text: &str) -> BTreeMap<String, SymbolInfo> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split(',').map(str::trim);
            let (symbol, sector, class, lot) = (f.next()?, f.next()?, f.next()?, f.next()?);
            Some((
                symbol.to_string(),
                SymbolInfo {
                    sector: sector.to_string(),
                    asset_class: class.to_string(),
                    lot_size: lot.parse().ok()?,
                    listed: true,
                },
            ))
        })
        .collect()
}

/// The metadata of `symbol`, or the defaults.
pub fn symbol_info(symbol: &str) -> SymbolInfo {
    if let Some(info) = table().get(symbol) {
        return info.clone();
    }
    let crypto = symbol.ends_with("-USD");
    SymbolInfo {
        sector: "Unclassified".into(),
        asset_class: if crypto { "crypto" } else { "equity" }.into(),
        lot_size: if crypto {
            Decimal::new(1, 4)
        } else {
            Decimal::ONE
        },
        listed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_and_default_symbols() {
        let aapl = symbol_info("AAPL");
        assert_eq!(aapl.sector, "Information Technology");
        assert!(aapl.listed);
        assert_eq!(symbol_info("BTC-USD").lot_size, Decimal::new(1, 4));
        let other = symbol_info("ZZZZ");
        assert_eq!(
            (
                other.sector.as_str(),
                other.asset_class.as_str(),
                other.listed
            ),
            ("Unclassified", "equity", false)
        );
        assert_eq!(symbol_info("DOGE-USD").asset_class, "crypto");
        // Every line of the file parsed.
        assert_eq!(table().len(), DATA.lines().count() - 1);
    }
}
