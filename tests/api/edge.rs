//! The rest of the HTTP edge: the well-known documents, DNS-rebinding
//! protection and the methods a stateless endpoint refuses.

use gs_auth::DevIssuer;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::{initialize_request, spawn_app, spawn_app_with};

#[tokio::test]
async fn well_known_documents_describe_the_resource_and_only_public_keys() {
    let app = spawn_app().await;

    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let meta = app.get_json(path).await;
        assert_eq!(meta["resource"], format!("{}/mcp", app.base_url), "{path}");
        let servers = meta["authorization_servers"].as_array().unwrap();
        assert!(!servers.is_empty(), "{path}: {meta}");
        assert!(servers.iter().all(Value::is_string), "{path}: {meta}");
        let scopes: Vec<&str> = meta["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for expected in [
            "*",
            "market-data:*",
            "market-data:get_quote",
            "market-data:list_symbols",
            "market-data:get_historical_data",
            "technical-analysis:calculate_indicators",
        ] {
            assert!(
                scopes.contains(&expected),
                "{path}: {expected} in {scopes:?}"
            );
        }
        assert_eq!(
            meta["bearer_methods_supported"],
            serde_json::json!(["header"])
        );
    }

    let jwks_json = app.get_json("/.well-known/jwks.json").await;
    let keys = jwks_json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks_json}");
    let key = &keys[0];
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(
            key.get(private).is_none(),
            "private member {private}: {key}"
        );
    }
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    let kid = DevIssuer::load_or_create(&app.data_dir)
        .unwrap()
        .kid()
        .to_string();
    assert_eq!(key["kid"], kid.as_str());

    // The published key is the one that verifies the server's tokens.
    let jwks: JwkSet = serde_json::from_value(jwks_json.clone()).unwrap();
    let decoding = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[DevIssuer::AUDIENCE]);
    validation.set_issuer(&[DevIssuer::ISSUER]);
    jsonwebtoken::decode::<Value>(&app.token, &decoding, &validation)
        .expect("the dev token verifies with the published key");
}

#[tokio::test]
async fn foreign_host_is_forbidden_and_get_is_not_allowed() {
    let app = spawn_app().await;

    let response = app
        .http
        .post(&app.mcp_url)
        .header("Host", "evil.example.com")
        .header("Accept", "application/json, text/event-stream")
        .bearer_auth(&app.token)
        .json(&initialize_request("2025-11-25"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "a valid token does not bypass the host check"
    );

    // Same request with our own host goes through: the 403 was the host.
    let response = app
        .post_mcp(&initialize_request("2025-11-25"), Some(&app.token))
        .await;
    assert_eq!(response.status(), 200);

    let response = app
        .http
        .get(&app.mcp_url)
        .header("Accept", "text/event-stream")
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        405,
        "stateless endpoint has no GET stream"
    );
    let response = app
        .http
        .delete(&app.mcp_url)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        405,
        "stateless endpoint has no session to delete"
    );

    let health = app
        .http
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn allowed_hosts_replace_the_loopback_default() {
    let app = spawn_app_with(&["--allowed-host", "api.example.com,mcp.example.com"]).await;

    for (host, expected) in [
        ("api.example.com", 200),
        ("MCP.example.com:443", 200),
        ("evil.example.com", 403),
        ("api.example.com.evil.net", 403),
    ] {
        let response = app
            .http
            .post(&app.mcp_url)
            .header("Host", host)
            .header("Accept", "application/json, text/event-stream")
            .bearer_auth(&app.token)
            .json(&initialize_request("2025-11-25"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "Host: {host}");
    }
}
