//! Keys, token builders and a loopback JWKS server shared by the verification tests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gs_auth::{JwksSource, VerifierConfig};
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Test";
pub const CLIENT_ID: &str = "cognito-app-client";
pub const API_AUDIENCE: &str = "goldensignals-api";
pub const PRIMARY_KID: &str = "rsa-primary";
/// The Cognito resource server whose scopes are ours (`goldensignals/alerts:*`).
pub const RESOURCE_SERVER_ID: &str = "goldensignals";

pub const PRIMARY_PEM: &str = include_str!("../fixtures/rsa-primary.pem");
pub const PRIMARY_PUBLIC_PEM: &str = include_str!("../fixtures/rsa-primary.pub.pem");
pub const OTHER_PEM: &str = include_str!("../fixtures/rsa-other.pem");

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn rsa_key(pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
}

/// The public JWK of an RSA private key, as Cognito publishes it (`alg`, `use`, `kid`).
pub fn rsa_jwk(pem: &str, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(&rsa_key(pem), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk
}

pub fn jwk_set(keys: Vec<Jwk>) -> JwkSet {
    JwkSet { keys }
}

pub fn rsa_config(jwks: JwksSource) -> VerifierConfig {
    VerifierConfig {
        issuer: ISSUER.to_owned(),
        audiences: vec![CLIENT_ID.to_owned(), API_AUDIENCE.to_owned()],
        algorithms: vec![Algorithm::RS256, Algorithm::ES256],
        leeway_secs: 30,
        jwks,
        resource_server_ids: vec![RESOURCE_SERVER_ID.to_owned()],
    }
}

pub fn static_rsa_config() -> VerifierConfig {
    rsa_config(JwksSource::Static(jwk_set(vec![rsa_jwk(
        PRIMARY_PEM,
        PRIMARY_KID,
    )])))
}

/// Claims of a Cognito access token: `client_id`, no `aud`.
pub fn cognito_access_claims() -> Value {
    let now = now();
    json!({
        "sub": "3f6b-user",
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "openid market-data:* goldensignals/alerts:list_alerts",
        "cognito:groups": ["analyst"],
        "auth_time": now,
        "iat": now,
        "exp": now + 600,
        "jti": "9a1c",
        "username": "alice",
    })
}

pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

pub fn sign_rs256(claims: &Value) -> String {
    sign(
        Algorithm::RS256,
        Some(PRIMARY_KID),
        claims,
        &rsa_key(PRIMARY_PEM),
    )
}

/// A token assembled by hand, for headers `jsonwebtoken` refuses to produce.
pub fn hand_built(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// What the loopback JWKS server answers.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: Body,
    cache_control: Option<String>,
}

#[derive(Clone)]
enum Body {
    /// Sent whole, with `content-length`.
    Text(String),
    /// `transfer-encoding: chunked`, no length announced: this many bytes of JSON whitespace
    /// in 8 KiB chunks (the client has to count).
    Chunked(usize),
    /// Announces this `content-length` but sends only a few bytes.
    Declared(u64),
}

/// Serves a JWKS over plain HTTP/1.1 on 127.0.0.1, counting requests. The served set can be
/// replaced (key rotation), given a `Cache-Control` header, replaced by oversized bodies, and
/// responses delayed (to make verifications overlap a fetch).
pub struct JwksServer {
    pub url: String,
    requests: Arc<AtomicUsize>,
    reply: Arc<Mutex<Reply>>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(jwks: &JwkSet, delay: Duration) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(Mutex::new(Reply {
            status: 200,
            body: Body::Text(serde_json::to_string(jwks).unwrap()),
            cache_control: None,
        }));
        let task = tokio::spawn({
            let requests = requests.clone();
            let reply = reply.clone();
            async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        return;
                    };
                    let requests = requests.clone();
                    let reply = reply.clone();
                    tokio::spawn(async move {
                        let mut request = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&buf[..n]),
                            }
                        }
                        requests.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        let reply = reply.lock().unwrap().clone();
                        let mut head = format!(
                            "HTTP/1.1 {} X\r\ncontent-type: application/json\r\nconnection: close\r\n",
                            reply.status
                        );
                        if let Some(cache_control) = &reply.cache_control {
                            head.push_str(&format!("cache-control: {cache_control}\r\n"));
                        }
                        match reply.body {
                            Body::Text(body) => {
                                head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                                let _ = stream.write_all(head.as_bytes()).await;
                                let _ = stream.write_all(body.as_bytes()).await;
                            }
                            Body::Chunked(total) => {
                                head.push_str("transfer-encoding: chunked\r\n\r\n");
                                if stream.write_all(head.as_bytes()).await.is_err() {
                                    return;
                                }
                                let chunk = vec![b' '; 8192];
                                let mut sent = 0;
                                while sent < total {
                                    let n = chunk.len().min(total - sent);
                                    let frame = format!("{n:x}\r\n");
                                    if stream.write_all(frame.as_bytes()).await.is_err()
                                        || stream.write_all(&chunk[..n]).await.is_err()
                                        || stream.write_all(b"\r\n").await.is_err()
                                    {
                                        // The client hung up, as it should past its limit.
                                        return;
                                    }
                                    sent += n;
                                }
                                let _ = stream.write_all(b"0\r\n\r\n").await;
                            }
                            Body::Declared(length) => {
                                head.push_str(&format!("content-length: {length}\r\n\r\n"));
                                let _ = stream.write_all(head.as_bytes()).await;
                                let _ = stream.write_all(b"{\"keys\":[").await;
                            }
                        }
                        let _ = stream.shutdown().await;
                    });
                }
            }
        });
        JwksServer {
            url,
            requests,
            reply,
            task,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn serve(&self, jwks: &JwkSet) {
        self.serve_with_cache_control(jwks, None);
    }

    pub fn serve_with_cache_control(&self, jwks: &JwkSet, cache_control: Option<&str>) {
        *self.reply.lock().unwrap() = Reply {
            status: 200,
            body: Body::Text(serde_json::to_string(jwks).unwrap()),
            cache_control: cache_control.map(str::to_owned),
        };
    }

    pub fn fail_with(&self, status: u16) {
        *self.reply.lock().unwrap() = Reply {
            status,
            body: Body::Text("{}".to_owned()),
            cache_control: None,
        };
    }

    /// A 200 whose body is `bytes` long, sent in chunks without a length.
    pub fn serve_chunked_body(&self, bytes: usize) {
        self.serve_body(Body::Chunked(bytes));
    }

    /// A 200 announcing a `content-length` of `bytes`.
    pub fn serve_declared_length(&self, bytes: u64) {
        self.serve_body(Body::Declared(bytes));
    }

    /// A 200 with this exact body.
    pub fn serve_text(&self, body: String) {
        self.serve_body(Body::Text(body));
    }

    fn serve_body(&self, body: Body) {
        *self.reply.lock().unwrap() = Reply {
            status: 200,
            body,
            cache_control: None,
        };
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
