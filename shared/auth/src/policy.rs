use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::{AuthError, Permissions, Scope};

/// Which scopes each Cognito group grants, through named roles.
///
/// Built only by parsing and validating a policy document (see the crate docs for its shape),
/// so every role it names exists, role inclusion has no cycles and every scope is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    roles: BTreeMap<String, Role>,
    groups: BTreeMap<String, Vec<String>>,
}

/// A role with its scopes resolved: its own plus those of the roles it includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    name: String,
    description: Option<String>,
    scopes: Vec<Scope>,
}

impl Role {
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

        let mut roles = BTreeMap::new();
        for (name, role) in &document.roles {
            let mut scopes = BTreeSet::new();
            collect_scopes(&document.roles, name, &mut Vec::new(), &mut scopes)?;
            roles.insert(
                name.clone(),
                Role {
                    name: name.clone(),
                    description: role.description.clone(),
                    scopes: scopes.into_iter().collect(),
                },
            );
        }
        Ok(Policy {
            roles,
            groups: document.groups,
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
    path.push(name.to_owned());
    for included in &role.includes {
        collect_scopes(roles, included, path, scopes)?;
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
        assert_eq!(scopes(viewer), ["market-data:*", "monitoring:*"]);
        let analyst = policy.role("analyst").unwrap();
        assert_eq!(
            scopes(analyst),
            [
                "alerts:*",
                "market-data:*",
                "monitoring:*",
                "options-flow:*",
                "sentiment:*",
                "technical-analysis:*"
            ]
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
