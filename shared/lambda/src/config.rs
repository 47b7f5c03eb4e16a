//! Configuration from the environment, read once at cold start. Every
//! missing or malformed variable is an error that names it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use gs_auth::{JwksSource, Policy, VerifierConfig};
use gs_crypto::{CachePolicy, Envelope, FieldCipher, KmsKeys, KmsMac, LocalKeys, LocalMac, MacKey};
use gs_dynamo_store::DynamoStore;
use jsonwebtoken::Algorithm;

use crate::FunctionNames;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set; {1}")]
    Missing(&'static str, &'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// The variables a function reads: the process environment, or a map in
/// tests.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    vars: HashMap<String, String>,
}

impl Settings {
    pub fn from_env() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn require(&self, name: &'static str, hint: &'static str) -> Result<&str, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name, hint))
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The table every function uses (`TABLE_NAME`).
pub fn store(settings: &Settings, sdk: &aws_config::SdkConfig) -> Result<DynamoStore, ConfigError> {
    let table = settings.require(
        "TABLE_NAME",
        "name the DynamoDB table (template.yaml sets it)",
    )?;
    Ok(DynamoStore::from_config(sdk, table))
}

/// The bar store over `primary`: mirrored to Timestream when
/// `TIMESTREAM_DATABASE` and `TIMESTREAM_TABLE` are set (off otherwise).
/// Endpoint discovery is used unless an endpoint is configured
/// (`AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_TIMESTREAM_WRITE`, an emulator),
/// where it must stay off.
pub async fn bar_store(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
    primary: Arc<DynamoStore>,
) -> Result<Arc<dyn gs_domain::BarStore>, ConfigError> {
    let (Some(database), Some(table)) = (
        settings.get("TIMESTREAM_DATABASE"),
        settings.get("TIMESTREAM_TABLE"),
    ) else {
        return Ok(primary);
    };
    let fixed_endpoint = settings.get("AWS_ENDPOINT_URL_TIMESTREAM_WRITE").is_some()
        || settings.get("AWS_ENDPOINT_URL").is_some()
        || sdk.endpoint_url().is_some();
    let mirror = if fixed_endpoint {
        gs_timestream::TimestreamMirror::at_endpoint(sdk, database, table)
    } else {
        gs_timestream::TimestreamMirror::discovered(sdk, database, table)
            .await
            .map_err(|e| ConfigError::Invalid {
                name: "TIMESTREAM_DATABASE",
                why: e.to_string(),
            })?
    };
    Ok(Arc::new(gs_timestream::Mirrored::new(primary, mirror)))
}

/// Field encryption (audit parameters): `FIELD_KEY_ID` (a KMS symmetric
/// key; data keys from `GenerateDataKey`), or for development
/// `FIELD_KEY_DIR` (a directory holding a local key file); neither: none.
pub fn field_cipher(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<Option<Arc<dyn FieldCipher>>, ConfigError> {
    if let Some(id) = settings.get("FIELD_KEY_ID") {
        let keys = KmsKeys::from_config(sdk, id);
        return Ok(Some(Arc::new(Envelope::new(keys, CachePolicy::default()))));
    }
    if let Some(dir) = settings.get("FIELD_KEY_DIR") {
        let keys = LocalKeys::open_or_create(Path::new(dir)).map_err(|e| ConfigError::Invalid {
            name: "FIELD_KEY_DIR",
            why: e.to_string(),
        })?;
        return Ok(Some(Arc::new(Envelope::new(keys, CachePolicy::default()))));
    }
    Ok(None)
}

/// Live trading: off unless `GS_LIVE_BROKER=alpaca`; then `GS_ALPACA_URL`
/// (default: Alpaca's paper-trading endpoint).
pub fn live_trading(
    settings: &Settings,
) -> Result<Option<gs_tools::portfolio::live::LiveTrading>, ConfigError> {
    use gs_tools::portfolio::live::{ALPACA_PAPER_URL, LiveTrading};
    match settings.get("GS_LIVE_BROKER").map(str::trim) {
        None | Some("off") => Ok(None),
        Some("alpaca") => {
            LiveTrading::alpaca(settings.get("GS_ALPACA_URL").unwrap_or(ALPACA_PAPER_URL))
                .map(Some)
                .map_err(|why| ConfigError::Invalid {
                    name: "GS_ALPACA_URL",
                    why,
                })
        }
        Some(other) => Err(ConfigError::Invalid {
            name: "GS_LIVE_BROKER",
            why: format!("{other:?} is not a broker; use alpaca, or off (the default)"),
        }),
    }
}

/// The call-context MAC key: `CONTEXT_MAC_KEY_ID` (a KMS HMAC_256 key), or
/// for development `CONTEXT_MAC_KEY_DIR` (a directory holding a local key
/// file both the gateway and the tools read).
pub fn mac_key(
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
) -> Result<Arc<dyn MacKey>, ConfigError> {
    if let Some(id) = settings.get("CONTEXT_MAC_KEY_ID") {
        return Ok(Arc::new(KmsMac::from_config(sdk, id)));
    }
    if let Some(dir) = settings.get("CONTEXT_MAC_KEY_DIR") {
        return LocalMac::open_or_create(Path::new(dir))
            .map(|k| Arc::new(k) as Arc<dyn MacKey>)
            .map_err(|e| ConfigError::Invalid {
                name: "CONTEXT_MAC_KEY_DIR",
                why: e.to_string(),
            });
    }
    Err(ConfigError::Missing(
        "CONTEXT_MAC_KEY_ID",
        "name the KMS HMAC key that signs call contexts (or set CONTEXT_MAC_KEY_DIR for local development)",
    ))
}

/// Which function serves each tool: `TOOL_FUNCTION_NAME` (one function for
/// all, as under `cargo lambda watch`) or `TOOL_FUNCTION_PREFIX`.
pub fn function_names(settings: &Settings) -> Result<FunctionNames, ConfigError> {
    if let Some(name) = settings.get("TOOL_FUNCTION_NAME") {
        return Ok(FunctionNames::Single(name.to_string()));
    }
    settings
        .require(
            "TOOL_FUNCTION_PREFIX",
            "the tool functions are named {prefix}{tool}, e.g. goldensignals-dev-tool-",
        )
        .map(|p| FunctionNames::Prefix(p.to_string()))
}

/// Which function serves the tool calls behind resources:
/// `RESOURCE_FUNCTION_PREFIX` (`goldensignals-dev-resource-`, so
/// `…-resource-get-quote`), or, when unset or when `TOOL_FUNCTION_NAME`
/// sends everything to one function, the tools' functions.
pub fn resource_function_names(settings: &Settings) -> Option<FunctionNames> {
    if settings.get("TOOL_FUNCTION_NAME").is_some() {
        return None;
    }
    settings
        .get("RESOURCE_FUNCTION_PREFIX")
        .map(|p| FunctionNames::Prefix(p.to_string()))
}

/// The token verifier: `ISSUER`, `AUDIENCE` (comma-separated app client
/// ids), `JWKS_FILE` or `JWKS_URL` (default: the issuer's well-known JWKS),
/// `RESOURCE_SERVER_IDS`.
pub fn verifier_config(settings: &Settings) -> Result<VerifierConfig, ConfigError> {
    let issuer = settings.require(
        "ISSUER",
        "name the token issuer, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>",
    )?;
    let audiences = settings.list("AUDIENCE");
    if audiences.is_empty() {
        return Err(ConfigError::Missing(
            "AUDIENCE",
            "list the app client ids whose tokens are accepted",
        ));
    }
    let jwks = match settings.get("JWKS_FILE") {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
                name: "JWKS_FILE",
                why: format!("{path}: {e}"),
            })?;
            JwksSource::Static(
                serde_json::from_str(&text).map_err(|e| ConfigError::Invalid {
                    name: "JWKS_FILE",
                    why: format!("{path} is not a JWK set: {e}"),
                })?,
            )
        }
        None => JwksSource::Url(settings.get("JWKS_URL").map_or_else(
            || format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')),
            str::to_string,
        )),
    };
    Ok(VerifierConfig {
        issuer: issuer.to_string(),
        audiences,
        algorithms: vec![Algorithm::RS256, Algorithm::ES256],
        leeway_secs: VerifierConfig::DEFAULT_LEEWAY_SECS,
        jwks,
        resource_server_ids: settings.list("RESOURCE_SERVER_IDS"),
    })
}

/// `POLICY_FILE`, or the policy built into the binary.
pub fn policy(settings: &Settings) -> Result<Policy, ConfigError> {
    match settings.get("POLICY_FILE") {
        Some(path) => Policy::load(Path::new(path)).map_err(|e| ConfigError::Invalid {
            name: "POLICY_FILE",
            why: e.to_string(),
        }),
        None => Ok(Policy::default_policy()),
    }
}

/// `ALLOWED_HOSTS`: the Host values the gateway answers (the execute-api
/// domain, a custom domain). None means none: the gateway fails closed.
pub fn allowed_hosts(settings: &Settings) -> Vec<String> {
    settings.list("ALLOWED_HOSTS")
}
