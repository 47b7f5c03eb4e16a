use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::limits::{
    CallLimits, FieldRule, RateLimitDocument, RateLimits, call_limits, check_rate_limits,
};
use crate::{AuthError, Permissions, Scope};

/// Which scopes each Cognito group grants, through named roles.
///
/// Built only by parsing and validating a policy document (see the crate docs for its shape),
/// so every role it names exists, role inclusion has no cycles and every scope is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    roles: BTreeMap<String, Role>,
    groups: BTreeMap<String, Vec<String>>,
    rate_limits: Option<RateLimitDocument>,
    field_rules: Vec<FieldRule>,
}

/// A role with its scopes resolved: its own plus those of the roles it includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    name: String,
    description: Option<String>,
    scopes: Vec<Scope>,
    /// Itself and every role it includes, transitively.
    closure: BTreeSet<String>,
    rate_limits: Option<RateLimits>,
}

impl Role {
    pub fn rate_limits(&self) -> Option<&RateLimits> {
        self.rate_limits.as_ref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Sorted and without duplicates, including those of included roles.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDocument {
    #[serde(rename = "$comment", default)]
    _comment: Option<serde_json::Value>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    roles: BTreeMap<String, RoleDocument>,
    #[serde(default)]
    rate_limits: Option<RateLimitDocument>,
    #[serde(default)]
    field_rules: Vec<FieldRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleDocument {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    includes: Vec<String>,
    #[serde(default)]
    scopes: Vec<Scope>,
    #[serde(default)]
    rate_limits: Option<RateLimits>,
}

impl Policy {
    pub fn from_json(s: &str) -> Result<Policy, AuthError> {
        let document: PolicyDocument =
            serde_json::from_str(s).map_err(|source| AuthError::BadPolicy {
                reason: "not a policy document of the shape described in the gs-auth docs"
                    .to_owned(),
                source: Some(Box::new(source)),
            })?;
        Policy::resolve(document)
    }

    pub fn load(path: &Path) -> Result<Policy, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Io {
            action: "could not read the auth policy",
            path: path.to_owned(),
            source,
        })?;
        Policy::from_json(&text).map_err(|err| match err {
            AuthError::BadPolicy { reason, source } => AuthError::BadPolicy {
                reason: format!("{}: {reason}", path.display()),
                source,
            },
            other => other,
        })
    }

    /// The policy checked in at `infra/auth-policy.json`, compiled into the binary.
    pub fn builtin() -> Result<Policy, AuthError> {
        Policy::from_json(include_str!("../../../infra/auth-policy.json"))
    }

    /// [`Policy::builtin`], which gs-auth's tests keep valid. Should it ever fail to load, the
    /// answer is a policy that grants no group anything (fail closed, logged), not a panic.
    pub fn default_policy() -> Policy {
        Policy::builtin().unwrap_or_else(|error| {
            tracing::error!(%error, "the built-in auth policy is invalid; groups grant nothing");
            Policy {
                roles: BTreeMap::new(),
                groups: BTreeMap::new(),
                rate_limits: None,
                field_rules: Vec::new(),
            }
        })
    }

    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// Each Cognito group with the names of the roles it maps to.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.groups
            .iter()
            .map(|(group, roles)| (group.as_str(), roles.as_slice()))
    }

    /// The scopes granted to members of these groups. Groups the policy does not mention
    /// grant nothing: Cognito pools often carry groups that have nothing to do with us.
    pub fn permissions_for_groups<'a>(
        &self,
        groups: impl IntoIterator<Item = &'a str>,
    ) -> Permissions {
        groups
            .into_iter()
            .filter_map(|group| self.groups.get(group))
            .flatten()
            .filter_map(|role| self.roles.get(role))
            .flat_map(|role| role.scopes.iter().cloned())
            .collect()
    }

    /// The roles `groups` map to directly.
    pub fn roles_for_groups<'a>(&'a self, groups: &'a [String]) -> impl Iterator<Item = &'a Role> {
        let mut seen = BTreeSet::new();
        groups
            .iter()
            .filter_map(|group| self.groups.get(group))
            .flatten()
            .filter(move |role| seen.insert(role.as_str()))
            .filter_map(|role| self.roles.get(role))
    }

    /// The role names a caller in `groups` holds, includes resolved.
    pub fn role_names(&self, groups: &[String]) -> BTreeSet<String> {
        self.roles_for_groups(groups)
            .flat_map(|role| role.closure.iter().cloned())
            .collect()
    }

    /// The counters one call of `server`/`tool` by a caller in `groups`
    /// counts against; `None` when the policy sets no rate limits.
    pub fn call_limits(&self, groups: &[String], server: &str, tool: &str) -> Option<CallLimits> {
        let document = self.rate_limits.as_ref()?;
        Some(call_limits(
            document,
            self.roles_for_groups(groups).map(Role::rate_limits),
            server,
            tool,
        ))
    }

    /// The length of a rate-limit window; `None` when the policy sets no limits.
    pub fn rate_limit_window(&self) -> Option<std::time::Duration> {
        self.rate_limits
            .as_ref()
            .map(|r| std::time::Duration::from_secs(r.window_seconds))
    }

    pub fn field_rules(&self) -> &[FieldRule] {
        &self.field_rules
    }

    /// The output fields of `tool` a caller holding `roles` may not see.
    pub fn hidden_fields<'a>(
        &'a self,
        roles: &'a BTreeSet<String>,
        tool: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        self.field_rules
            .iter()
            .filter(move |rule| rule.applies_to(tool))
            .filter(move |rule| !rule.visible_to.iter().any(|r| roles.contains(r)))
            .map(|rule| rule.field.as_str())
    }

    fn resolve(document: PolicyDocument) -> Result<Policy, AuthError> {
        let bad = |reason: String| AuthError::BadPolicy {
            reason,
            source: None,
        };
        if document.roles.is_empty() {
            return Err(bad("`roles` is empty; define at least one role".to_owned()));
        }
        for (name, role) in &document.roles {
            if name.trim().is_empty() {
                return Err(bad("a role has an empty name".to_owned()));
            }
            if let Some(missing) = role
                .includes
                .iter()
                .find(|r| !document.roles.contains_key(*r))
            {
                return Err(bad(format!(
                    "role `{name}` includes undefined role `{missing}`"
                )));
            }
        }
        for (group, roles) in &document.groups {
            if group.trim().is_empty() {
                return Err(bad("a group has an empty name".to_owned()));
            }
            if let Some(missing) = roles.iter().find(|r| !document.roles.contains_key(*r)) {
                return Err(bad(format!(
                    "group `{group}` maps to undefined role `{missing}`"
                )));
            }
        }

        if let Some(limits) = &document.rate_limits {
            let by_role = document
                .roles
                .iter()
                .map(|(name, role)| (name.clone(), role.rate_limits.clone()))
                .collect();
            check_rate_limits(limits, &by_role)?;
        } else if let Some((name, _)) = document.roles.iter().find(|(_, r)| r.rate_limits.is_some())
        {
            return Err(bad(format!(
                "role `{name}` has rate_limits but the policy has no top-level rate_limits (window_seconds)"
            )));
        }
        for rule in &document.field_rules {
            if rule.field.trim().is_empty() || rule.tools.is_empty() {
                return Err(bad(
                    "a field rule needs a field and at least one tool (or \"*\")".to_owned(),
                ));
            }
            if let Some(missing) = rule
                .visible_to
                .iter()
                .find(|r| !document.roles.contains_key(*r))
            {
                return Err(bad(format!(
                    "field rule for `{}` names undefined role `{missing}`",
                    rule.field
                )));
            }
        }

        let mut roles = BTreeMap::new();
        for (name, role) in &document.roles {
            let mut scopes = BTreeSet::new();
            let mut closure = BTreeSet::new();
            collect_scopes(
                &document.roles,
                name,
                &mut Vec::new(),
                &mut scopes,
                &mut closure,
            )?;
            roles.insert(
                name.clone(),
                Role {
                    name: name.clone(),
                    description: role.description.clone(),
                    scopes: scopes.into_iter().collect(),
                    closure,
                    rate_limits: role.rate_limits.clone(),
                },
            );
        }
        Ok(Policy {
            roles,
            groups: document.groups,
            rate_limits: document.rate_limits,
            field_rules: document.field_rules,
        })
    }
}

/// Depth-first over `includes`; `path` is the chain being expanded, so meeting a role already
/// on it means a cycle, which would otherwise recurse forever.
fn collect_scopes(
    roles: &BTreeMap<String, RoleDocument>,
    name: &str,
    path: &mut Vec<String>,
    scopes: &mut BTreeSet<Scope>,
    closure: &mut BTreeSet<String>,
) -> Result<(), AuthError> {
    if path.iter().any(|r| r == name) {
        path.push(name.to_owned());
        return Err(AuthError::BadPolicy {
            reason: format!("roles include each other in a cycle: {}", path.join(" -> ")),
            source: None,
        });
    }
    // Every name reaching here was checked to be defined; an unknown one contributes nothing.
    let Some(role) = roles.get(name) else {
        return Ok(());
    };
    scopes.extend(role.scopes.iter().cloned());
    closure.insert(name.to_owned());
    path.push(name.to_owned());
    for included in &role.includes {
        collect_scopes(roles, included, path, scopes, closure)?;
    }
    path.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(role: &Role) -> Vec<&str> {
        role.scopes().iter().map(Scope::as_str).collect()
    }

    fn bad_policy_reason(json: &str) -> String {
        match Policy::from_json(json) {
            Err(AuthError::BadPolicy { reason, source }) => {
                let detail = source.map(|s| s.to_string()).unwrap_or_default();
                format!("{reason} {detail}")
            }
            other => panic!("expected BadPolicy, got {other:?}"),
        }
    }

    #[test]
    fn default_policy_grants_the_documented_roles() {
        let policy = Policy::default_policy();
        assert_eq!(
            policy,
            Policy::builtin().unwrap(),
            "the built-in policy loads"
        );
        let viewer = policy.role("viewer").unwrap();
        assert_eq!(
            scopes(viewer),
            [
                "database:aggregate_series",
                "database:list_series",
                "database:query_timeseries",
                "market-data:*",
                "monitoring:get_usage",
                "monitoring:health_check"
            ]
        );
        let analyst = policy.role("analyst").unwrap();
        assert_eq!(
            scopes(analyst),
            [
                "alerts:*",
                "database:aggregate_series",
                "database:list_series",
                "database:query_timeseries",
                "market-data:*",
                "monitoring:get_usage",
                "monitoring:health_check",
                "options-flow:*",
                "sentiment:*",
                "technical-analysis:*"
            ]
        );
        // The audit log is for operators and admins.
        assert!(
            !analyst
                .scopes()
                .iter()
                .any(|s| s.as_str() == "monitoring:*")
        );
        let operator = policy.role("operator").unwrap();
        assert!(
            operator
                .scopes()
                .iter()
                .any(|s| s.as_str() == "monitoring:*")
        );
        let trader = policy.role("trader").unwrap();
        assert!(trader.scopes().iter().any(|s| s.as_str() == "portfolio:*"));
        assert!(
            analyst.scopes().iter().all(|s| trader.scopes().contains(s)),
            "trader includes analyst"
        );
        assert_eq!(scopes(policy.role("admin").unwrap()), ["*"]);

        let viewer_permissions = policy.permissions_for_groups(["viewer"]);
        assert!(viewer_permissions.allows("market-data", "get_quote"));
        assert!(!viewer_permissions.allows("portfolio", "get_positions"));
        assert!(!viewer_permissions.allows("alerts", "create_alert"));
        let trader_permissions = policy.permissions_for_groups(["trader"]);
        assert!(trader_permissions.allows("portfolio", "get_positions"));
        assert!(trader_permissions.allows("sentiment", "get_sentiment"));
        // Shared market data is written by admins only.
        assert!(!trader_permissions.allows("database", "import_bars"));
        assert!(
            policy
                .permissions_for_groups(["admin"])
                .allows("database", "drop_everything")
        );
        assert!(
            policy
                .permissions_for_groups(["unrelated-group"])
                .is_empty()
        );
        // Every group of the default policy maps to an existing role.
        assert!(policy.groups().count() >= 4);
    }

    #[test]
    fn includes_are_resolved_transitively() {
        let policy = Policy::from_json(
            r#"{
                "groups": {"g": ["c"]},
                "roles": {
                    "a": {"scopes": ["alerts:list_alerts"]},
                    "b": {"includes": ["a"], "scopes": ["sentiment:*"]},
                    "c": {"includes": ["b", "a"], "description": "top"}
                }
            }"#,
        )
        .unwrap();
        let c = policy.role("c").unwrap();
        assert_eq!(scopes(c), ["alerts:list_alerts", "sentiment:*"]);
        assert_eq!(c.description(), Some("top"));
        assert_eq!(policy.roles().count(), 3);
        assert!(
            policy
                .permissions_for_groups(["g"])
                .allows("alerts", "list_alerts")
        );
        assert!(
            !policy
                .permissions_for_groups(["g"])
                .allows("alerts", "create_alert")
        );
    }

    fn limits_policy() -> Policy {
        Policy::from_json(
            r#"{
                "groups": {"v": ["viewer"], "a": ["analyst"], "n": ["nolimits"], "both": ["viewer", "analyst"]},
                "rate_limits": {"window_seconds": 30, "default": {"servers": {"*": 10}, "tools": {"backtest_signals": 2}}},
                "field_rules": [{"tools": ["query_audit_log"], "field": "client_ip", "visible_to": ["admin"]}],
                "roles": {
                    "viewer": {"scopes": ["market-data:*"], "rate_limits": {"servers": {"market-data": 50}}},
                    "analyst": {"includes": ["viewer"], "scopes": ["technical-analysis:*"],
                                "rate_limits": {"servers": {"*": 20}, "tools": {"backtest_signals": 5}}},
                    "nolimits": {"scopes": ["*"]},
                    "admin": {"includes": ["analyst"], "scopes": ["*"]}
                }
            }"#,
        )
        .unwrap()
    }

    fn counters(policy: &Policy, groups: &[&str], server: &str, tool: &str) -> Vec<(String, u64)> {
        let groups: Vec<String> = groups.iter().map(|g| (*g).to_string()).collect();
        let limits = policy.call_limits(&groups, server, tool).unwrap();
        assert_eq!(limits.window.as_secs(), 30);
        limits.counters
    }

    #[test]
    fn rate_limits_resolve_per_role_with_fallbacks() {
        let p = limits_policy();
        let c = |groups: &[&str], server: &str, tool: &str| counters(&p, groups, server, tool);
        let pair = |a: &str, n: u64| (a.to_string(), n);
        // A role's own server entry, then its "*", then the default.
        assert_eq!(
            c(&["v"], "market-data", "get_quote"),
            [pair("server:market-data", 50)]
        );
        assert_eq!(
            c(&["v"], "technical-analysis", "calculate_indicators"),
            [pair("server:technical-analysis", 10)]
        );
        assert_eq!(
            c(&["a"], "technical-analysis", "calculate_indicators"),
            [pair("server:technical-analysis", 20)]
        );
        // Tool caps come on top of the server's; a role without one takes the default's.
        assert_eq!(
            c(&["a"], "technical-analysis", "backtest_signals"),
            [
                pair("server:technical-analysis", 20),
                pair("tool:backtest_signals", 5)
            ]
        );
        assert_eq!(
            c(&["v"], "technical-analysis", "backtest_signals"),
            [
                pair("server:technical-analysis", 10),
                pair("tool:backtest_signals", 2)
            ]
        );
        // The most generous of the caller's roles wins, per counter.
        assert_eq!(
            c(&["both"], "market-data", "get_quote"),
            [pair("server:market-data", 50)]
        );
        assert_eq!(
            c(&["both"], "technical-analysis", "backtest_signals"),
            [
                pair("server:technical-analysis", 20),
                pair("tool:backtest_signals", 5)
            ]
        );
        // No roles, or a role without a block: the default.
        assert_eq!(c(&[], "sentiment", "x"), [pair("server:sentiment", 10)]);
        assert_eq!(c(&["n"], "sentiment", "x"), [pair("server:sentiment", 10)]);
        // No rate_limits at all: none.
        let open = Policy::from_json(r#"{"roles": {"a": {"scopes": ["*"]}}}"#).unwrap();
        assert!(open.call_limits(&[], "market-data", "get_quote").is_none());
    }

    #[test]
    fn field_rules_hide_fields_from_roles_not_listed() {
        let p = limits_policy();
        let roles = |groups: &[&str]| {
            p.role_names(&groups.iter().map(|g| (*g).to_string()).collect::<Vec<_>>())
        };
        let analyst = roles(&["a"]);
        assert_eq!(
            analyst.iter().map(String::as_str).collect::<Vec<_>>(),
            ["analyst", "viewer"]
        );
        assert_eq!(
            p.hidden_fields(&analyst, "query_audit_log")
                .collect::<Vec<_>>(),
            ["client_ip"]
        );
        assert_eq!(p.hidden_fields(&analyst, "get_quote").count(), 0);
        let admin: std::collections::BTreeSet<String> = ["admin".to_string()].into();
        assert_eq!(p.hidden_fields(&admin, "query_audit_log").count(), 0);
    }

    #[test]
    fn refuses_bad_documents() {
        for (json, expected) in [
            ("not json", "expected"),
            (r#"{"groups": {}}"#, "missing field `roles`"),
            (r#"{"roles": {}}"#, "`roles` is empty"),
            (
                r#"{"roles": {"a": {"scopes": ["marketdata:*"]}}}"#,
                "unknown server `marketdata`",
            ),
            (
                r#"{"roles": {"a": {"scopes": ["market-data:Quote"]}}}"#,
                "snake_case",
            ),
            (
                r#"{"roles": {"a": {"scope": ["market-data:*"]}}}"#,
                "unknown field `scope`",
            ),
            (
                r#"{"roles": {"a": {}}, "grups": {}}"#,
                "unknown field `grups`",
            ),
            (
                r#"{"roles": {"a": {"includes": ["b"]}}}"#,
                "undefined role `b`",
            ),
            (
                r#"{"roles": {"a": {}}, "groups": {"g": ["admin"]}}"#,
                "undefined role `admin`",
            ),
            (
                r#"{"roles": {"a": {"includes": ["b"]}, "b": {"includes": ["a"]}}}"#,
                "cycle: a -> b -> a",
            ),
            (r#"{"roles": {"a": {"includes": ["a"]}}}"#, "cycle: a -> a"),
            (
                r#"{"roles": {"a": {"rate_limits": {"servers": {"*": 5}}}}}"#,
                "no top-level rate_limits",
            ),
            (
                r#"{"roles": {"a": {}}, "rate_limits": {"window_seconds": 0}}"#,
                "window_seconds",
            ),
            (
                r#"{"roles": {"a": {}}, "rate_limits": {"window_seconds": 60, "default": {"servers": {"marketdata": 5}}}}"#,
                "unknown server `marketdata`",
            ),
            (
                r#"{"roles": {"a": {"rate_limits": {"servers": {"*": 0}}}}, "rate_limits": {"window_seconds": 60}}"#,
                "is 0",
            ),
            (
                r#"{"roles": {"a": {}}, "rate_limits": {"window_seconds": 60, "default": {"tools": {"Backtest": 5}}}}"#,
                "snake_case",
            ),
            (
                r#"{"roles": {"a": {}}, "field_rules": [{"tools": ["*"], "field": "x", "visible_to": ["b"]}]}"#,
                "undefined role `b`",
            ),
            (
                r#"{"roles": {"a": {}}, "field_rules": [{"tools": [], "field": "x", "visible_to": []}]}"#,
                "at least one tool",
            ),
        ] {
            let reason = bad_policy_reason(json);
            assert!(reason.contains(expected), "{json}: {reason}");
        }
    }

    #[test]
    fn load_reports_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"roles": {"a": {"scopes": ["*"]}}}"#).unwrap();
        assert!(
            Policy::load(&good)
                .unwrap()
                .permissions_for_groups([])
                .is_empty()
        );

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"roles": {"a": {"scopes": ["nope"]}}}"#).unwrap();
        let err = Policy::load(&bad).unwrap_err();
        assert!(err.to_string().contains("bad.json"), "{err}");

        let missing = dir.path().join("missing.json");
        let err = Policy::load(&missing).unwrap_err();
        assert!(matches!(err, AuthError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("missing.json"), "{err}");
    }
}
