//! Live trading through a broker: Alpaca's trading REST API (v2). Off unless
//! the operator turns it on ([`LiveTrading`] in the tool context: `serve
//! --live-broker alpaca`, or `GS_LIVE_BROKER=alpaca` on the Lambda
//! functions); each user then connects their own account
//! (`goldensignals broker connect`), whose key id and secret are stored
//! sealed by the field-encryption port, bound to that user.
//!
//! Orders keep the paper broker's idempotency: the stored order is written
//! first under the idempotency key (one record whatever the concurrency),
//! and Alpaca receives a `client_order_id` derived from it, which Alpaca
//! refuses to accept twice, so a retry after a lost answer never makes a
//! second order at the broker.

use std::time::Duration;

use gs_crypto::{FieldCipher, FieldContext};
use gs_domain::{Owner, RecordScope, RecordStore, WriteCondition};
use gs_portfolio::Decimal;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::ToolError;

/// Alpaca's paper-trading endpoint: the default base URL, so turning live
/// trading on without naming an endpoint still moves no real money.
pub const ALPACA_PAPER_URL: &str = "https://paper-api.alpaca.markets";
/// Alpaca's live endpoint (real money): only when named explicitly.
pub const ALPACA_LIVE_URL: &str = "https://api.alpaca.markets";

const CREDENTIALS: &str = "broker-credentials";
const ALPACA: &str = "alpaca";
const TIMEOUT: Duration = Duration::from_secs(10);

/// How to turn live trading on, for messages.
pub const HOW_TO_ENABLE: &str = "an operator turns it on with `goldensignals serve --live-broker alpaca` (GS_LIVE_BROKER=alpaca on the Lambda functions), each user connects their Alpaca account with `goldensignals broker connect`, and every live order needs confirm: true";

/// The operator's opt-in: which broker live orders go to.
#[derive(Debug, Clone)]
pub struct LiveTrading {
    base_url: String,
    http: reqwest::Client,
}

impl LiveTrading {
    /// Alpaca at `base_url` (e.g. [`ALPACA_PAPER_URL`]).
    pub fn alpaca(base_url: &str) -> Result<Self, String> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        // http only to this machine: the host itself, not a prefix of it.
        let loopback = base_url.strip_prefix("http://").is_some_and(|rest| {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = match authority.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
                _ => authority,
            };
            matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        });
        if !(base_url.starts_with("https://") || loopback) {
            return Err(format!(
                "the broker URL must be https (or http on loopback, for tests): {base_url:?}"
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the broker's HTTP client: {e}"))?;
        Ok(Self { base_url, http })
    }

    pub fn broker(&self) -> &'static str {
        ALPACA
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A client for one user's account.
    pub fn client<'a>(&'a self, credentials: &'a Credentials) -> Alpaca<'a> {
        Alpaca {
            live: self,
            credentials,
        }
    }
}

/// An Alpaca API key pair. The secret is zeroed on drop and never printed.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub key_id: String,
    pub secret_key: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The stored form: the key pair sealed as one field.
#[derive(Debug, Serialize, Deserialize)]
struct SealedCredentials {
    broker: String,
    /// base64 of the envelope ciphertext of the JSON key pair.
    sealed: String,
    connected_at: chrono::DateTime<chrono::Utc>,
}

fn credentials_context(subject: &str) -> FieldContext {
    FieldContext::new(
        "records",
        &format!("user/{subject}/{CREDENTIALS}/{ALPACA}"),
        "credentials",
    )
}

fn credentials_key(subject: &str) -> Result<gs_domain::RecordKey, ToolError> {
    Ok(RecordScope::new(Owner::user(subject)?, CREDENTIALS)?.key(ALPACA)?)
}

/// Stores (or replaces) `subject`'s Alpaca key pair, sealed.
pub async fn connect(
    records: &dyn RecordStore,
    cipher: &dyn FieldCipher,
    subject: &str,
    credentials: &Credentials,
) -> Result<(), ToolError> {
    if credentials.key_id.trim().is_empty() || credentials.secret_key.trim().is_empty() {
        return Err(ToolError::invalid(
            "both the Alpaca key id and the secret key are needed",
        ));
    }
    let plain = Zeroizing::new(
        serde_json::to_vec(credentials)
            .map_err(|e| ToolError::Internal(format!("cannot encode the credentials: {e}")))?,
    );
    let sealed = cipher
        .encrypt(&credentials_context(subject), &plain)
        .await
        .map_err(|e| ToolError::Internal(format!("cannot seal the credentials: {e}")))?;
    let record = SealedCredentials {
        broker: ALPACA.into(),
        sealed: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sealed),
        connected_at: chrono::Utc::now(),
    };
    let value = serde_json::to_vec(&record)
        .map_err(|e| ToolError::Internal(format!("cannot encode the credentials: {e}")))?;
    records
        .put(
            &credentials_key(subject)?,
            &value,
            WriteCondition::Always,
            None,
        )
        .await?;
    Ok(())
}

/// Removes `subject`'s key pair; true if there was one.
pub async fn disconnect(records: &dyn RecordStore, subject: &str) -> Result<bool, ToolError> {
    Ok(records
        .delete(&credentials_key(subject)?, WriteCondition::Always)
        .await?)
}

/// `subject`'s key pair, if connected.
pub async fn credentials(
    records: &dyn RecordStore,
    cipher: Option<&dyn FieldCipher>,
    subject: &str,
) -> Result<Option<Credentials>, ToolError> {
    let Some(record) = records.get(&credentials_key(subject)?).await? else {
        return Ok(None);
    };
    let Some(cipher) = cipher else {
        return Err(ToolError::Internal(
            "the broker credentials are sealed but this server has no field key to open them"
                .into(),
        ));
    };
    let stored: SealedCredentials = serde_json::from_slice(&record.value).map_err(|e| {
        ToolError::Internal(format!("the stored broker credentials are unreadable: {e}"))
    })?;
    let sealed = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &stored.sealed)
        .map_err(|e| {
            ToolError::Internal(format!("the stored broker credentials are unreadable: {e}"))
        })?;
    let plain = Zeroizing::new(
        cipher
            .decrypt(&credentials_context(subject), &sealed)
            .await
            .map_err(|e| ToolError::Internal(format!("cannot open the broker credentials: {e}")))?,
    );
    serde_json::from_slice(&plain).map(Some).map_err(|e| {
        ToolError::Internal(format!("the stored broker credentials are unreadable: {e}"))
    })
}

/// The account figures the pre-trade checks read.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub currency: String,
    pub cash: Decimal,
    pub buying_power: Decimal,
    #[serde(default)]
    pub equity: Option<Decimal>,
    /// Equity at the previous close (the day's P&L is equity - last_equity).
    #[serde(default)]
    pub last_equity: Option<Decimal>,
    #[serde(default)]
    pub trading_blocked: bool,
}

/// One open position at the broker.
#[derive(Debug, Clone, Deserialize)]
pub struct Position {
    pub symbol: String,
    /// Signed quantity (negative: short).
    pub qty: Decimal,
    #[serde(default)]
    pub avg_entry_price: Option<Decimal>,
}

/// An order as Alpaca reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct BrokerOrder {
    pub id: String,
    pub client_order_id: String,
    pub status: String,
    #[serde(default)]
    pub filled_qty: Option<Decimal>,
    #[serde(default)]
    pub filled_avg_price: Option<Decimal>,
}

/// What is sent to `POST /v2/orders`.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    pub symbol: String,
    pub qty: String,
    pub side: &'static str,
    #[serde(rename = "type")]
    pub order_type: &'static str,
    pub time_in_force: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<String>,
    pub client_order_id: String,
}

/// A broker call that did not succeed.
#[derive(Debug)]
pub enum BrokerError {
    /// The broker answered and refused (its status and message): the order
    /// was not accepted, and the same request will be refused again.
    Refused { status: u16, message: String },
    /// No answer, or a server error: the outcome is unknown; retry.
    Unavailable(String),
}

impl BrokerError {
    pub fn into_tool_error(self, what: &str) -> ToolError {
        match self {
            Self::Refused {
                status: 401,
                message,
            } => ToolError::invalid(format!(
                "the broker refused your credentials for {what} ({message}); connect the account again with `goldensignals broker connect`"
            )),
            Self::Refused { status, message } => ToolError::invalid(format!(
                "the broker refused {what} (HTTP {status}): {message}"
            )),
            Self::Unavailable(why) => ToolError::Busy(format!(
                "the broker did not answer {what} ({why}); call again with the same arguments"
            )),
        }
    }
}

/// One user's Alpaca account.
#[derive(Debug)]
pub struct Alpaca<'a> {
    live: &'a LiveTrading,
    credentials: &'a Credentials,
}

impl Alpaca<'_> {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.live
            .http
            .request(method, format!("{}{path}", self.live.base_url))
            .header("APCA-API-KEY-ID", &self.credentials.key_id)
            .header("APCA-API-SECRET-KEY", self.credentials.secret_key.as_str())
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<T>, BrokerError> {
        let reply = request
            .send()
            .await
            .map_err(|e| BrokerError::Unavailable(without_url(e)))?;
        let status = reply.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body = reply
            .bytes()
            .await
            .map_err(|e| BrokerError::Unavailable(without_url(e)))?;
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(BrokerError::Unavailable(format!(
                "HTTP {}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            #[derive(Deserialize)]
            struct Problem {
                message: Option<String>,
            }
            let message = serde_json::from_slice::<Problem>(&body)
                .ok()
                .and_then(|p| p.message)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            return Err(BrokerError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| BrokerError::Unavailable(format!("an unexpected answer: {e}")))
    }

    pub async fn account(&self) -> Result<Account, BrokerError> {
        self.send(self.request(reqwest::Method::GET, "/v2/account"))
            .await?
            .ok_or_else(|| BrokerError::Unavailable("no account".into()))
    }

    pub async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        Ok(self
            .send(self.request(reqwest::Method::GET, "/v2/positions"))
            .await?
            .unwrap_or_default())
    }

    pub async fn submit(&self, order: &Submission) -> Result<BrokerOrder, BrokerError> {
        self.send(
            self.request(reqwest::Method::POST, "/v2/orders")
                .json(order),
        )
        .await?
        .ok_or_else(|| BrokerError::Unavailable("no order in the answer".into()))
    }

    pub async fn by_client_order_id(&self, id: &str) -> Result<Option<BrokerOrder>, BrokerError> {
        // Our client order ids are `gs-` and hex: nothing to escape.
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Ok(None);
        }
        self.send(self.request(
            reqwest::Method::GET,
            &format!("/v2/orders:by_client_order_id?client_order_id={id}"),
        ))
        .await
    }

    pub async fn order(&self, id: &str) -> Result<Option<BrokerOrder>, BrokerError> {
        self.send(self.request(reqwest::Method::GET, &format!("/v2/orders/{id}")))
            .await
    }

    pub async fn cancel(&self, id: &str) -> Result<(), BrokerError> {
        self.send::<serde_json::Value>(
            self.request(reqwest::Method::DELETE, &format!("/v2/orders/{id}")),
        )
        .await
        .map(|_| ())
    }

    /// Submits once per `client_order_id`: an order Alpaca already has under
    /// that id (an earlier attempt whose answer was lost, or a concurrent
    /// repeat) is returned instead of a second one.
    pub async fn submit_once(&self, order: &Submission) -> Result<BrokerOrder, BrokerError> {
        if let Some(existing) = self.by_client_order_id(&order.client_order_id).await? {
            return Ok(existing);
        }
        match self.submit(order).await {
            Ok(o) => Ok(o),
            Err(BrokerError::Refused {
                status: 422,
                message,
            }) => match self.by_client_order_id(&order.client_order_id).await? {
                Some(existing) => Ok(existing),
                None => Err(BrokerError::Refused {
                    status: 422,
                    message,
                }),
            },
            Err(e) => Err(e),
        }
    }
}

/// A reqwest error's text without the URL (it may carry a query).
fn without_url(e: reqwest::Error) -> String {
    let timeout = e.is_timeout();
    let text = e.without_url().to_string();
    if timeout {
        format!("timed out: {text}")
    } else {
        text
    }
}

/// The client order id of a stored order: Alpaca allows 48 characters.
pub fn client_order_id(order_id: &str) -> String {
    format!("gs-{}", order_id.trim_start_matches("ord_"))
}

/// Alpaca's order status as ours.
pub fn status_of(broker_status: &str) -> gs_portfolio::paper::OrderStatus {
    use gs_portfolio::paper::OrderStatus;
    match broker_status {
        "filled" => OrderStatus::Filled,
        "partially_filled" => OrderStatus::PartiallyFilled,
        "canceled" | "replaced" => OrderStatus::Cancelled,
        "expired" => OrderStatus::Expired,
        "rejected" => OrderStatus::Rejected,
        // done_for_day and suspended orders can still fill later.
        _ => OrderStatus::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_this_machine_itself() {
        for ok in [
            "https://paper-api.alpaca.markets",
            "http://127.0.0.1:8080",
            "http://localhost:9/v2",
            "http://[::1]:80",
        ] {
            assert!(LiveTrading::alpaca(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example:80",
            "http://localhost@evil.example",
            "http://paper-api.alpaca.markets",
            "ftp://127.0.0.1",
        ] {
            assert!(LiveTrading::alpaca(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn orders_that_can_still_fill_stay_open() {
        use gs_portfolio::paper::OrderStatus;
        for open in [
            "new",
            "accepted",
            "done_for_day",
            "suspended",
            "pending_cancel",
        ] {
            assert!(status_of(open).is_open(), "{open}");
        }
        assert_eq!(status_of("partially_filled"), OrderStatus::PartiallyFilled);
        assert_eq!(status_of("canceled"), OrderStatus::Cancelled);
        assert_eq!(status_of("rejected"), OrderStatus::Rejected);
    }
}
