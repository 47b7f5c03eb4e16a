//! What the gs-lambda tests share: a table seeded with the demo data and a
//! KMS HMAC key on the AWS emulator, and the settings that name them.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use gs_crypto::MacKey;
use gs_lambda::{Settings, ToolFunction};
use gs_tools::{ErrorKind, Invoker, ProgressSink, ToolCall, ToolReply};

pub struct Aws {
    pub sdk: aws_config::SdkConfig,
    pub table: String,
    pub mac_key_id: String,
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh table (seeded with the demo data when `seed`) and HMAC key.
pub async fn aws(seed: bool) -> Aws {
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("lambda");
    let store = gs_dynamo_store::DynamoStore::from_config(&sdk, &table);
    gs_dynamo_store::table::create(store.client(), &table)
        .await
        .unwrap();
    if seed {
        gs_market_data::seed_demo(&store, 42).await.unwrap();
    }
    let kms = aws_sdk_kms::Client::new(&sdk);
    let mac_key_id = gs_crypto::create_key(&kms, gs_crypto::KeyKind::Mac, "test")
        .await
        .unwrap();
    Aws {
        sdk,
        table,
        mac_key_id,
    }
}

impl Aws {
    /// The gateway's and the tools' environment for the events.
    pub fn settings(&self, extra: &[(&str, &str)]) -> Settings {
        let jwks = workspace_root().join("events/issuer-jwks.json");
        let jwks = jwks.to_str().unwrap().to_string();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("TABLE_NAME", &self.table),
            ("CONTEXT_MAC_KEY_ID", &self.mac_key_id),
            ("ISSUER", gs_auth::DevIssuer::ISSUER),
            ("AUDIENCE", gs_auth::DevIssuer::AUDIENCE),
            ("JWKS_FILE", &jwks),
            ("ALLOWED_HOSTS", gs_lambda::events::EVENT_HOST),
        ];
        pairs.extend_from_slice(extra);
        Settings::from_pairs(pairs)
    }
}

/// The gateway's signing and the tool function's handler, joined by the
/// JSON payload Lambda would carry, without the Lambda transport (which
/// `cargo lambda watch` covers).
pub struct SignedInProcess {
    pub key: Arc<dyn MacKey>,
    pub function: ToolFunction,
    /// The tools called through this invoker, in order.
    pub called: std::sync::Mutex<Vec<String>>,
}

impl SignedInProcess {
    pub fn new(key: Arc<dyn MacKey>, function: ToolFunction) -> Self {
        Self {
            key,
            function,
            called: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn called(&self) -> Vec<String> {
        self.called.lock().unwrap().clone()
    }
}

#[async_trait]
impl Invoker for SignedInProcess {
    async fn invoke(&self, call: ToolCall, _progress: Option<ProgressSink>) -> ToolReply {
        self.called.lock().unwrap().push(call.tool.clone());
        let signed = gs_lambda::signed::sign(self.key.as_ref(), call)
            .await
            .unwrap();
        let payload =
            serde_json::value::RawValue::from_string(serde_json::to_string(&signed).unwrap())
                .unwrap();
        match self.function.handle(&payload).await {
            // Through JSON, as the reply crosses Lambda.
            Ok(reply) => serde_json::from_str(&serde_json::to_string(&reply).unwrap()).unwrap(),
            Err(refused) => ToolReply::Error {
                kind: ErrorKind::Internal,
                message: refused.to_string(),
            },
        }
    }
}
