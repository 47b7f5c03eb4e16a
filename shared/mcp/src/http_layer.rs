//! HTTP in front of the MCP service: DNS-rebinding protection (`Host` and
//! `Origin` checks), a bound on concurrent `/mcp` requests, bearer
//! authentication (401 + `WWW-Authenticate` pointing at RFC 9728 metadata),
//! and the well-known documents.
//!
//! Order on `/mcp`: host and origin check, then the in-flight limit, then
//! authentication, then rmcp. Callers never see internal error details (the
//! log does, under a reference they are given) and never see their token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
use tokio::sync::Semaphore;

use crate::{GoldenSignals, Principal, fast_call, guard};

/// Largest request body `/mcp` reads (a 12 MiB CSV for `import_bars`, escaped, fits).
pub(crate) const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How the endpoint presents itself.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL clients reach us at, e.g. `http://127.0.0.1:8787`.
    pub public_url: String,
    /// Host names (or host:port) accepted in the `Host` header, and as the
    /// host of an `Origin` header; loopback by default so a web page cannot
    /// reach a local server through DNS rebinding. Empty accepts nothing.
    pub allowed_hosts: Vec<String>,
    /// Authorization servers advertised in the protected-resource metadata.
    pub authorization_servers: Vec<String>,
    /// Public keys to serve at `/.well-known/jwks.json` (the local dev issuer).
    pub jwks: Option<JwkSet>,
    /// Most `/mcp` requests handled at once (at least 1). One more is not
    /// queued: it gets 503 with `Retry-After` at once, so a flood cannot pile
    /// up connections and memory behind slow tool calls. A request counts
    /// until its response head is ready (with JSON responses, until the tool
    /// has answered; an SSE stream stops counting once it starts).
    pub max_in_flight: usize,
}

impl HttpConfig {
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
    /// Seconds a caller refused for being over [`HttpConfig::max_in_flight`] is
    /// told to wait.
    pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

    /// Loopback hosts, `public_url` as the authorization server, no JWKS, the
    /// default in-flight limit.
    pub fn new(public_url: impl Into<String>) -> Self {
        let public_url = public_url.into();
        HttpConfig {
            authorization_servers: vec![public_url.clone()],
            public_url,
            allowed_hosts: Self::loopback_hosts(),
            jwks: None,
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
        }
    }

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
    in_flight: Arc<Semaphore>,
}

impl Gate {
    fn new(verifier: Arc<Verifier>, policy: Arc<Policy>, config: HttpConfig) -> Arc<Gate> {
        let permits = config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        Arc::new(Gate {
            verifier,
            policy,
            config,
            in_flight: Arc::new(Semaphore::new(permits)),
        })
    }
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
        .with_max_request_body_bytes(MAX_REQUEST_BODY_BYTES)
        .with_allowed_hosts(config.allowed_hosts.clone());
    let direct = handler.clone();
    let audited = handler.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(NeverSessionManager::default()),
        mcp_config,
    );

    let jwks = config.jwks.clone();
    let gate = Gate::new(verifier, policy, config);
    let mcp = Router::new()
        .fallback_service(mcp)
        .layer(middleware::from_fn_with_state(
            direct,
            fast_call::tools_call,
        ))
        .layer(middleware::from_fn_with_state(audited, guard::audit));
    let mcp_routes = guard_mcp(mcp, &gate);

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
    guard_all(router, gate)
}

/// The limit, then authentication, in front of the MCP service.
fn guard_mcp(mcp: Router, gate: &Arc<Gate>) -> Router {
    mcp.layer(middleware::from_fn_with_state(gate.clone(), authenticate))
        .layer(middleware::from_fn_with_state(
            gate.in_flight.clone(),
            limit_in_flight,
        ))
}

/// The host and origin check in front of every route.
fn guard_all(router: Router, gate: Arc<Gate>) -> Router {
    router.layer(middleware::from_fn_with_state(gate, check_host))
}

/// Refuses requests whose `Host`, or `Origin` when there is one, is not ours
/// before anything else runs, so a rebinding page or a cross-site script
/// learns nothing, not even whether a token would be accepted.
async fn check_host(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let allowed = &gate.config.allowed_hosts;
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if !host.is_some_and(|h| host_allowed(h, allowed)) {
        return forbidden("Host header is not allowed");
    }
    // Browsers send Origin on cross-origin requests and on every POST; other
    // clients usually send none, which is fine. `Origin: null` (sandboxed
    // frames, file: pages) can be anyone, so it is refused.
    let origins_ok = request
        .headers()
        .get_all(header::ORIGIN)
        .iter()
        .all(|origin| origin.to_str().is_ok_and(|o| origin_allowed(o, allowed)));
    if !origins_ok {
        return forbidden("Origin header is not allowed");
    }
    next.run(request).await
}

fn forbidden(description: &'static str) -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({"error": "forbidden", "error_description": description})),
    )
        .into_response()
}

/// An RFC 6454 serialised origin (`scheme://host[:port]`) whose host is
/// allowed. With no port, the scheme's default port is assumed, so an
/// allowed `api.example.com:443` accepts `https://api.example.com`.
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let Some((scheme, authority)) = origin.trim().split_once("://") else {
        return false; // includes `null`
    };
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else if scheme.eq_ignore_ascii_case("http") {
        "80"
    } else {
        return false;
    };
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', '\\', ' ']) {
        return false;
    }
    let has_port = match authority.rsplit_once(':') {
        Some((_, port)) => !port.contains(']'),
        None => false,
    };
    host_allowed(authority, allowed)
        || (!has_port && host_allowed(&format!("{authority}:{default_port}"), allowed))
}

/// Whether a `Host`-style authority names one of `allowed`. An empty list
/// allows nothing: misconfiguration fails closed.
fn host_allowed(authority: &str, allowed: &[String]) -> bool {
    let authority = authority.trim().to_ascii_lowercase();
    if authority.is_empty() {
        return false;
    }
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_string()
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    allowed
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .any(|a| {
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
            let roles = gate.policy.role_names(&caller.groups);
            let principal = Principal::new(caller, permissions).with_roles(roles);
            request.extensions_mut().insert(Arc::new(principal));
            next.run(request).await
        }
        Err(e) if !e.is_unauthorized() => {
            // The detail (JWKS URL, network error) is for the operator only.
            let reference = error_reference();
            tracing::error!(%reference, error = %error_chain(&e), "cannot verify tokens");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "error": "temporarily_unavailable",
                    "error_description": format!("tokens cannot be verified right now; retry shortly (reference {reference})"),
                })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        Err(e) => {
            // AuthError messages carry no token and only printable, truncated
            // bits of its header; `unauthorized` sanitises again for the header.
            tracing::info!(reason = %e, "token refused");
            unauthorized(&gate.config, Some("invalid_token"), &e.to_string())
        }
    }
}

/// Answers at once when `max_in_flight` requests are already being handled,
/// instead of queueing without bound.
async fn limit_in_flight(
    State(in_flight): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = in_flight.try_acquire_owned() else {
        tracing::debug!("refused a request: too many in flight");
        return busy();
    };
    next.run(request).await
}

/// 503 with `Retry-After` and a JSON-RPC error body (the request id is not
/// known: the body was not read), which MCP clients report as is.
fn busy() -> Response {
    let retry_after = HttpConfig::BUSY_RETRY_AFTER_SECS;
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {
                "code": -32000,
                "message": format!("the server is busy with other requests; retry in {retry_after} s"),
            },
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A short id tying a generic error answer to its detailed log line.
fn error_reference() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{started:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
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

const MAX_DESCRIPTION_CHARS: usize = 300;

fn unauthorized(config: &HttpConfig, error: Option<&str>, description: &str) -> Response {
    let mut challenge = format!(
        "Bearer resource_metadata=\"{}\"",
        config.resource_metadata_url()
    );
    // RFC 6750 error_description: printable ASCII, no quote, no backslash.
    let description: String = description
        .chars()
        .take(MAX_DESCRIPTION_CHARS)
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .collect();
    if let Some(error) = error {
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
    use std::path::PathBuf;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use axum::body::Body;
    use gs_auth::{DevIssuer, JwksSource, Scope, VerifierConfig};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use tower::ServiceExt;

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
    fn an_empty_host_list_allows_nothing() {
        for host in ["localhost", "127.0.0.1:8787", "api.example.com", ""] {
            assert!(!host_allowed(host, &[]), "{host}");
            assert!(!host_allowed(host, &["".into(), " ".into()]), "{host}");
        }
    }

    #[test]
    fn origin_check_compares_the_origins_host() {
        let loopback = HttpConfig::loopback_hosts();
        for ok in [
            "http://localhost:5173",
            "http://127.0.0.1:8787",
            "HTTP://LOCALHOST",
            "https://[::1]:3000",
            "http://[::1]",
        ] {
            assert!(origin_allowed(ok, &loopback), "{ok}");
        }
        for bad in [
            "null",
            "",
            "localhost",
            "http://",
            "http://evil.example",
            "http://localhost.evil.example",
            "http://localhost@evil.example",
            "http://evil.example#@localhost",
            "http://localhost/path",
            "ftp://localhost",
            "file://",
            "chrome-extension://abcdef",
        ] {
            assert!(!origin_allowed(bad, &loopback), "{bad}");
        }
        assert!(!origin_allowed("http://localhost", &[]), "empty list");

        let with_port = ["api.example.com:443".to_owned()];
        assert!(origin_allowed("https://api.example.com", &with_port));
        assert!(origin_allowed("https://api.example.com:443", &with_port));
        assert!(!origin_allowed("http://api.example.com", &with_port));
        assert!(!origin_allowed("https://api.example.com:8443", &with_port));
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

    #[test]
    fn new_config_has_safe_defaults() {
        let config = HttpConfig::new("http://127.0.0.1:8787");
        assert_eq!(config.allowed_hosts, HttpConfig::loopback_hosts());
        assert_eq!(config.authorization_servers, ["http://127.0.0.1:8787"]);
        assert_eq!(config.max_in_flight, HttpConfig::DEFAULT_MAX_IN_FLIGHT);
        assert!(config.jwks.is_none());
    }

    /// A data directory for the dev issuer, removed on drop.
    struct ScratchDir(PathBuf);

    impl ScratchDir {
        fn new() -> ScratchDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "gs-mcp-http-layer-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ));
            ScratchDir(dir)
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    struct Fixture {
        app: Router,
        token: String,
        /// The dev issuer's private key, to sign tokens with odd headers.
        signing_key: EncodingKey,
        _dir: ScratchDir,
    }

    impl Fixture {
        /// ES256 over `claims`, with `kid`: a real signature, a key nobody published.
        fn token_with_kid(&self, kid: &str, claims: serde_json::Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(kid.to_owned());
            jsonwebtoken::encode(&header, &claims, &self.signing_key).unwrap()
        }
    }

    /// The guards of [`router`] around `inner` (instead of rmcp), with the
    /// dev issuer's tokens, or `verifier` when given.
    fn fixture(config: HttpConfig, verifier: Option<Verifier>, inner: Router) -> Fixture {
        let dir = ScratchDir::new();
        let issuer = DevIssuer::load_or_create(&dir.0).unwrap();
        let token = issuer
            .mint(
                "tester",
                &[Scope::parse("*").unwrap()],
                &[],
                Duration::from_secs(600),
            )
            .unwrap();
        let pem = std::fs::read(issuer.key_path()).unwrap();
        let signing_key = EncodingKey::from_ec_pem(&pem).unwrap();
        let verifier = verifier.unwrap_or_else(|| Verifier::new(issuer.verifier_config()));
        let gate = Gate::new(
            Arc::new(verifier),
            Arc::new(Policy::default_policy()),
            config,
        );
        let app = guard_all(
            Router::new()
                .route("/healthz", get(|| async { "ok" }))
                .nest("/mcp", guard_mcp(inner, &gate)),
            gate,
        );
        Fixture {
            app,
            token,
            signing_key,
            _dir: dir,
        }
    }

    /// Answers with the authenticated subject.
    fn whoami() -> Router {
        Router::new().fallback(|request: Request| async move {
            request
                .extensions()
                .get::<Arc<Principal>>()
                .map_or_else(|| "anonymous".to_owned(), |p| p.subject.clone())
        })
    }

    fn post_mcp(token: Option<&str>, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder()
            .method("POST")
            .uri("/mcp")
            .header(header::HOST, "127.0.0.1:8787");
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    async fn send(app: &Router, request: Request) -> (StatusCode, HeaderMap, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn an_empty_host_list_denies_every_route() {
        let mut config = HttpConfig::new("http://127.0.0.1:8787");
        let f = fixture(config.clone(), None, whoami());
        let (status, _, body) = send(&f.app, post_mcp(Some(&f.token), &[])).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "tester"));

        config.allowed_hosts.clear();
        let f = fixture(config, None, whoami());
        let (status, _, body) = send(&f.app, post_mcp(Some(&f.token), &[])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("Host header is not allowed"), "{body}");
        let health = Request::builder()
            .uri("/healthz")
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&f.app, health).await.0, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn foreign_and_null_origins_are_refused_before_authentication() {
        let f = fixture(HttpConfig::new("http://127.0.0.1:8787"), None, whoami());
        for origin in [
            "https://evil.example",
            "null",
            "http://localhost.evil.example",
        ] {
            // No token: authentication would answer 401, the origin check answers first.
            let (status, headers, body) = send(&f.app, post_mcp(None, &[("origin", origin)])).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{origin}: {body}");
            assert!(body.contains("Origin header is not allowed"), "{body}");
            assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
            // With a valid token too.
            let (status, _, _) =
                send(&f.app, post_mcp(Some(&f.token), &[("origin", origin)])).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{origin}");
        }
        let (status, _, _) = send(
            &f.app,
            post_mcp(
                Some(&f.token),
                &[
                    ("origin", "http://localhost:6274"),
                    ("origin", "https://evil.example"),
                ],
            ),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "every Origin must be allowed"
        );

        let (status, _, body) = send(
            &f.app,
            post_mcp(Some(&f.token), &[("origin", "http://localhost:6274")]),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "tester"),
            "allowed origin"
        );
        let (status, _, body) = send(&f.app, post_mcp(Some(&f.token), &[])).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "tester"),
            "no Origin"
        );
        let (status, _, _) = send(&f.app, post_mcp(None, &[])).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn over_the_in_flight_limit_answers_503_at_once() {
        // Requests inside the service wait here until the test lets them go.
        let hold = Arc::new(Semaphore::new(0));
        let entered = Arc::new(AtomicUsize::new(0));
        let inner = Router::new().fallback({
            let (hold, entered) = (hold.clone(), entered.clone());
            move || async move {
                entered.fetch_add(1, Ordering::SeqCst);
                let _released = hold.acquire().await;
                "done"
            }
        });
        let config = HttpConfig {
            max_in_flight: 2,
            ..HttpConfig::new("http://127.0.0.1:8787")
        };
        let f = fixture(config, None, inner);

        let busy: Vec<_> = (0..2)
            .map(|_| {
                let app = f.app.clone();
                let request = post_mcp(Some(&f.token), &[]);
                tokio::spawn(async move { send(&app, request).await })
            })
            .collect();
        tokio::time::timeout(Duration::from_secs(5), async {
            while entered.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("both requests reach the service");

        let (status, headers, body) = tokio::time::timeout(
            Duration::from_secs(1),
            send(&f.app, post_mcp(Some(&f.token), &[])),
        )
        .await
        .expect("the third request is answered promptly, not queued");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "1");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["error"]["code"], -32000);
        assert!(body["id"].is_null());
        assert!(
            body["error"]["message"].as_str().unwrap().contains("busy"),
            "{body}"
        );
        assert_eq!(
            entered.load(Ordering::SeqCst),
            2,
            "it never reached the service"
        );

        // Routes outside /mcp are not counted.
        let health = Request::builder()
            .uri("/healthz")
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&f.app, health).await.0, StatusCode::OK);

        hold.add_permits(3);
        for request in busy {
            let (status, _, body) = request.await.unwrap();
            assert_eq!((status, body.as_str()), (StatusCode::OK, "done"));
        }
        let (status, _, _) = send(&f.app, post_mcp(Some(&f.token), &[])).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "permits come back when requests finish"
        );
    }

    #[tokio::test]
    async fn internal_errors_are_generic_and_never_echo_the_token() {
        // Nothing listens on this port: the JWKS cannot be fetched.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let jwks_url = format!("http://127.0.0.1:{port}/secret-path/jwks.json");
        let verifier = Verifier::new(VerifierConfig {
            jwks: JwksSource::Url(jwks_url),
            algorithms: vec![Algorithm::ES256],
            ..VerifierConfig::cognito("eu-west-1", "eu-west-1_Pool", vec!["client".into()])
        });
        let f = fixture(
            HttpConfig::new("http://127.0.0.1:8787"),
            Some(verifier),
            whoami(),
        );
        // A well-formed token naming a kid, so the JWKS is needed.
        let token = f.token_with_kid("k1", json!({"sub": "someone-secret"}));
        let (status, headers, body) = send(&f.app, post_mcp(Some(&token), &[])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(headers.get(header::RETRY_AFTER).is_some());
        assert!(
            body.contains("retry shortly") && body.contains("reference"),
            "{body}"
        );
        for secret in [
            &token,
            "secret-path",
            &port.to_string(),
            "someone-secret",
            "onnect",
        ] {
            assert!(!body.contains(secret), "{secret} leaked: {body}");
        }
    }

    #[tokio::test]
    async fn refusals_never_echo_the_token_and_keep_a_valid_challenge() {
        let f = fixture(HttpConfig::new("http://127.0.0.1:8787"), None, whoami());
        // A kid with control characters and quotes must not break the header.
        let hostile = f.token_with_kid(
            "evil\r\nSet-Cookie: x=\"1\"",
            json!({"sub": "bearer-secret-claims"}),
        );
        for token in ["not-a-jwt-but-secret".to_owned(), hostile] {
            let (status, headers, body) = send(&f.app, post_mcp(Some(&token), &[])).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            let challenge = headers
                .get(header::WWW_AUTHENTICATE)
                .expect("a challenge even for hostile tokens")
                .to_str()
                .unwrap();
            assert!(
                challenge.contains(r#"error="invalid_token""#),
                "{challenge}"
            );
            assert!(challenge.contains("resource_metadata="), "{challenge}");
            for text in [challenge, body.as_str()] {
                assert!(!text.contains(&token), "token echoed: {text}");
                assert!(!text.contains("secret"), "token content echoed: {text}");
                assert!(!text.contains('\r') && !text.contains('\n'), "{text:?}");
            }
        }
    }
}
