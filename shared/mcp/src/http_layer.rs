//! HTTP in front of the MCP service: DNS-rebinding protection, bearer
//! authentication (401 + `WWW-Authenticate` pointing at RFC 9728 metadata),
//! and the well-known documents.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gs_auth::{Policy, SERVERS, Verifier};
use jsonwebtoken::jwk::JwkSet;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;

use crate::{GoldenSignals, Principal};

/// How the endpoint presents itself.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL clients reach us at, e.g. `http://127.0.0.1:8787`.
    pub public_url: String,
    /// Host names (or host:port) accepted in the `Host` header; loopback by
    /// default so a web page cannot reach a local server through DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Authorization servers advertised in the protected-resource metadata.
    pub authorization_servers: Vec<String>,
    /// Public keys to serve at `/.well-known/jwks.json` (the local dev issuer).
    pub jwks: Option<JwkSet>,
}

impl HttpConfig {
    pub fn loopback_hosts() -> Vec<String> {
        vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
            "[::1]".into(),
        ]
    }

    fn resource_metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource", self.public_url)
    }
}

struct Gate {
    verifier: Arc<Verifier>,
    policy: Arc<Policy>,
    config: HttpConfig,
}

pub fn router(
    handler: GoldenSignals,
    verifier: Arc<Verifier>,
    policy: Arc<Policy>,
    config: HttpConfig,
) -> Router {
    let mut scopes: Vec<String> = vec!["*".into()];
    scopes.extend(SERVERS.iter().map(|s| format!("{s}:*")));
    scopes.extend(
        handler
            .tool_entries()
            .iter()
            .map(|e| format!("{}:{}", e.server, e.tool.name)),
    );
    let metadata = Arc::new(json!({
        "resource": format!("{}/mcp", config.public_url),
        "resource_name": "GoldenSignals MCP",
        "authorization_servers": config.authorization_servers,
        "scopes_supported": scopes,
        "bearer_methods_supported": ["header"],
    }));

    let mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(config.allowed_hosts.clone());
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );

    let jwks = config.jwks.clone();
    let gate = Arc::new(Gate {
        verifier,
        policy,
        config,
    });
    let mcp_routes = Router::new()
        .fallback_service(mcp)
        .layer(middleware::from_fn_with_state(gate.clone(), authenticate));

    let meta = metadata.clone();
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/.well-known/oauth-protected-resource",
            get(move || async move { Json((*metadata).clone()) }),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(move || async move { Json((*meta).clone()) }),
        )
        .nest("/mcp", mcp_routes);
    if let Some(jwks) = jwks {
        let jwks = Arc::new(jwks);
        router = router.route(
            "/.well-known/jwks.json",
            get(move || async move { Json((*jwks).clone()) }),
        );
    }
    router.layer(middleware::from_fn_with_state(gate, check_host))
}

/// Refuses requests whose `Host` is not ours before anything else runs, so a
/// rebinding page learns nothing, not even whether a token would be accepted.
async fn check_host(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if host_allowed(h, &gate.config.allowed_hosts) => next.run(request).await,
        _ => (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "forbidden", "error_description": "Host header is not allowed"})),
        )
            .into_response(),
    }
}

fn host_allowed(authority: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let authority = authority.trim().to_ascii_lowercase();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_string()
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    allowed.iter().any(|a| {
        a.eq_ignore_ascii_case(&authority)
            || a.eq_ignore_ascii_case(&host)
            || a.eq_ignore_ascii_case(bare)
    })
}

async fn authenticate(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    let token = match bearer_token(request.headers()) {
        Ok(t) => t,
        Err(reason) => return unauthorized(&gate.config, None, reason),
    };
    match gate.verifier.verify(token).await {
        Ok(caller) => {
            let permissions = caller.permissions(&gate.policy);
            let principal = Principal::new(caller, permissions);
            request.extensions_mut().insert(Arc::new(principal));
            next.run(request).await
        }
        Err(e) if !e.is_unauthorized() => {
            tracing::error!(error = %e, "cannot verify tokens");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "temporarily_unavailable", "error_description": "signing keys cannot be fetched; retry shortly"})),
            )
                .into_response()
        }
        Err(e) => {
            tracing::info!(reason = %e, "token refused");
            unauthorized(&gate.config, Some("invalid_token"), &e.to_string())
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, &'static str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or("no bearer token: send Authorization: Bearer <token>")?
        .to_str()
        .map_err(|_| "Authorization header is not valid text")?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or("Authorization header must be: Bearer <token>")?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err("Authorization header must be: Bearer <token>");
    }
    Ok(token.trim())
}

fn unauthorized(config: &HttpConfig, error: Option<&str>, description: &str) -> Response {
    let mut challenge = format!(
        "Bearer resource_metadata=\"{}\"",
        config.resource_metadata_url()
    );
    if let Some(error) = error {
        // RFC 6750 quoted-string: keep the description free of quotes.
        let description = description.replace(['"', '\\'], "'");
        challenge.push_str(&format!(
            ", error=\"{error}\", error_description=\"{description}\""
        ));
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": error.unwrap_or("unauthorized"), "error_description": description})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_check_accepts_loopback_with_ports_and_refuses_others() {
        let allowed = HttpConfig::loopback_hosts();
        for ok in ["127.0.0.1:8787", "localhost", "LOCALHOST:1", "[::1]:8787"] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "evil.example.com",
            "evil.example.com:8787",
            "127.0.0.1.evil.com",
            "",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
        assert!(host_allowed("api.example.com", &["api.example.com".into()]));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert!(bearer_token(&h).is_err());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(bearer_token(&h).is_err());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc.def"),
        );
        assert_eq!(bearer_token(&h).unwrap(), "abc.def");
    }
}
