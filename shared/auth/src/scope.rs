use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::AuthError;

/// The MCP servers a scope can name. A scope for any other server is refused when parsed,
/// so a typo in a policy file or a token cannot silently grant nothing (or the wrong thing).
pub const SERVERS: [&str; 8] = [
    "market-data",
    "technical-analysis",
    "sentiment",
    "options-flow",
    "portfolio",
    "database",
    "monitoring",
    "alerts",
];

const MAX_TOOL_LEN: usize = 64;

/// Permission to call one tool (`market-data:get_quote`), every tool of a server
/// (`market-data:*`), or everything (`*`).
///
/// Only [`Scope::parse`] builds one, so a `Scope` value always names a known server and a
/// snake_case tool.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, AuthError> {
        let bad = |reason: &str| AuthError::BadScope {
            scope: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s == "*" {
            return Ok(Scope(s.to_owned()));
        }
        let Some((server, tool)) = s.split_once(':') else {
            return Err(bad("expected `<server>:<tool>`, `<server>:*` or `*`"));
        };
        if !SERVERS.contains(&server) {
            return Err(bad(&format!(
                "unknown server `{server}`; known servers: {}",
                SERVERS.join(", ")
            )));
        }
        if tool != "*" && !is_snake_case(tool) {
            return Err(bad(&format!(
                "tool must be `*` or a snake_case tool name (lowercase letters, digits and single \
                 underscores, starting with a letter, at most {MAX_TOOL_LEN} characters)"
            )));
        }
        Ok(Scope(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The server this scope is limited to, or `None` for `*`.
    pub fn server(&self) -> Option<&str> {
        self.0.split_once(':').map(|(server, _)| server)
    }

    pub fn allows(&self, server: &str, tool: &str) -> bool {
        match self.0.split_once(':') {
            None => true,
            Some((s, "*")) => s == server,
            Some((s, t)) => s == server && t == tool,
        }
    }
}

fn is_snake_case(tool: &str) -> bool {
    !tool.is_empty()
        && tool.len() <= MAX_TOOL_LEN
        && tool.starts_with(|c: char| c.is_ascii_lowercase())
        && !tool.ends_with('_')
        && !tool.contains("__")
        && tool
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({})", self.0)
    }
}

impl std::str::FromStr for Scope {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::parse(s)
    }
}

impl TryFrom<String> for Scope {
    type Error = AuthError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> String {
        scope.0
    }
}

/// The effective set of scopes of a caller: what it may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    scopes: BTreeSet<Scope>,
}

impl Permissions {
    pub fn allows(&self, server: &str, tool: &str) -> bool {
        self.scopes.iter().any(|scope| scope.allows(server, tool))
    }

    /// Sorted and without duplicates.
    pub fn scopes(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }
}

impl FromIterator<Scope> for Permissions {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Permissions {
            scopes: iter.into_iter().collect(),
        }
    }
}

impl Extend<Scope> for Permissions {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        self.scopes.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    #[test]
    fn accepts_the_three_forms() {
        assert_eq!(scope("*").as_str(), "*");
        assert_eq!(scope("market-data:*").as_str(), "market-data:*");
        assert_eq!(
            scope("options-flow:get_unusual_activity").as_str(),
            "options-flow:get_unusual_activity"
        );
        assert_eq!(
            scope("technical-analysis:rsi14").server(),
            Some("technical-analysis")
        );
        assert_eq!(scope("*").server(), None);
        for server in SERVERS {
            assert!(Scope::parse(&format!("{server}:*")).is_ok(), "{server}");
        }
    }

    #[test]
    fn refuses_malformed_scopes() {
        for bad in [
            "",
            "**",
            "market-data",
            "market-data:",
            ":get_quote",
            "market_data:*",
            "MARKET-DATA:*",
            "unknown:*",
            "market-data:GetQuote",
            "market-data:get-quote",
            "market-data:_get",
            "market-data:get_",
            "market-data:get__quote",
            "market-data:1get",
            "market-data:get quote",
            "market-data:get_quote:extra",
            "market-data:*x",
            " market-data:*",
            "openid",
        ] {
            let err = Scope::parse(bad).expect_err(bad);
            assert!(matches!(err, AuthError::BadScope { .. }), "{bad}: {err:?}");
        }
        let too_long = format!("market-data:{}", "a".repeat(MAX_TOOL_LEN + 1));
        assert!(Scope::parse(&too_long).is_err());
    }

    #[test]
    fn error_names_the_known_servers() {
        let message = Scope::parse("marketdata:*").unwrap_err().to_string();
        assert!(message.contains("marketdata"), "{message}");
        assert!(message.contains("market-data"), "{message}");
    }

    #[test]
    fn matching() {
        assert!(scope("*").allows("portfolio", "place_order"));
        assert!(scope("portfolio:*").allows("portfolio", "place_order"));
        assert!(!scope("portfolio:*").allows("market-data", "place_order"));
        assert!(scope("portfolio:get_positions").allows("portfolio", "get_positions"));
        assert!(!scope("portfolio:get_positions").allows("portfolio", "place_order"));
        assert!(!scope("portfolio:get_positions").allows("market-data", "get_positions"));
        // A prefix of a server name is not that server.
        assert!(!scope("market-data:*").allows("market-data-extra", "get_quote"));
    }

    #[test]
    fn serde_round_trip_validates() {
        let parsed: Vec<Scope> = serde_json::from_str(r#"["*", "alerts:create_alert"]"#).unwrap();
        assert_eq!(parsed, vec![scope("*"), scope("alerts:create_alert")]);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            r#"["*","alerts:create_alert"]"#
        );
        assert!(serde_json::from_str::<Vec<Scope>>(r#"["alerts:Create"]"#).is_err());
    }

    #[test]
    fn permissions_are_the_union_of_their_scopes() {
        let permissions: Permissions = [
            scope("monitoring:*"),
            scope("alerts:list_alerts"),
            scope("monitoring:*"),
        ]
        .into_iter()
        .collect();
        assert_eq!(permissions.scopes().count(), 2, "duplicates are merged");
        assert!(permissions.allows("monitoring", "health"));
        assert!(permissions.allows("alerts", "list_alerts"));
        assert!(!permissions.allows("alerts", "create_alert"));
        assert!(!permissions.allows("portfolio", "get_positions"));

        let nothing = Permissions::default();
        assert!(nothing.is_empty());
        assert!(!nothing.allows("monitoring", "health"));

        let mut admin = nothing.clone();
        admin.extend([scope("*")]);
        assert!(admin.allows("portfolio", "place_order"));
    }
}
