use crate::{Permissions, Policy, Scope};

/// Who sent a verified access token, as far as the token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `sub`: the user, or the app client for machine-to-machine tokens.
    pub subject: String,
    pub client_id: Option<String>,
    /// Our scopes from the token's `scope` claim; scopes of other APIs are left out.
    pub scopes: Vec<Scope>,
    /// `cognito:groups`.
    pub groups: Vec<String>,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Caller {
    /// The token's own scopes plus those of the roles its groups map to in `policy`.
    pub fn permissions(&self, policy: &Policy) -> Permissions {
        let mut permissions: Permissions = self.scopes.iter().cloned().collect();
        permissions.extend(
            policy
                .permissions_for_groups(self.groups.iter().map(String::as_str))
                .scopes()
                .cloned(),
        );
        permissions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scopes: &[&str], groups: &[&str]) -> Caller {
        Caller {
            subject: "user-1".to_owned(),
            client_id: None,
            scopes: scopes.iter().map(|s| Scope::parse(s).unwrap()).collect(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            expires_at: 0,
        }
    }

    #[test]
    fn permissions_are_token_scopes_union_group_roles() {
        let policy = Policy::default_policy();

        let viewer_with_extra = caller(&["portfolio:get_positions"], &["viewer"]);
        let permissions = viewer_with_extra.permissions(&policy);
        assert!(
            permissions.allows("market-data", "get_quote"),
            "from the viewer role"
        );
        assert!(
            permissions.allows("portfolio", "get_positions"),
            "from the token"
        );
        assert!(!permissions.allows("portfolio", "place_order"));
        assert!(!permissions.allows("sentiment", "get_sentiment"));

        let scopes_only = caller(&["alerts:*"], &[]);
        let permissions = scopes_only.permissions(&policy);
        assert_eq!(
            permissions.scopes().map(Scope::as_str).collect::<Vec<_>>(),
            ["alerts:*"]
        );

        let stranger = caller(&[], &["some-other-team"]);
        assert!(stranger.permissions(&policy).is_empty());

        let admin = caller(&[], &["viewer", "admin"]);
        assert!(
            admin
                .permissions(&policy)
                .allows("portfolio", "place_order")
        );
    }
}
