//! `goldensignals dev …`: development against AWS APIs without an AWS
//! account (an emulator such as moto), and the `events/` files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use gs_crypto::{KeyKind, create_key};
use gs_domain::{BarStore, SeriesQuery};
use gs_dynamo_store::DynamoStore;

#[derive(Subcommand)]
pub enum DevCommand {
    /// Create the table, the field-encryption key and the call-context MAC
    /// key on an emulator (AWS_ENDPOINT_URL), seed the demo data, and write
    /// their names to an env file for `serve --store dynamodb` and
    /// `cargo lambda watch --env-file`.
    Bootstrap(BootstrapArgs),
    /// Regenerate the JSON events in events/ (tokens from a fresh throw-away
    /// issuer whose public keys go to events/issuer-jwks.json).
    Events(EventsArgs),
    /// Sign an unsigned tool call (events/tool/*.json) as the gateway would,
    /// for `cargo lambda invoke tool --data-file`.
    SignCall(SignCallArgs),
}

#[derive(Args)]
pub struct BootstrapArgs {
    #[arg(long, env = "TABLE_NAME", default_value = "goldensignals-dev")]
    table: String,
    /// Where the resource names are written.
    #[arg(long, default_value = "data/aws-dev.env")]
    env_file: PathBuf,
    /// Do not seed the synthetic demo data (bars, news, posts, options).
    #[arg(long)]
    no_demo: bool,
    /// Seed the demo bars but not the demo news, posts and option chains
    /// (thousands of small transactions: over a minute on moto).
    #[arg(long)]
    no_demo_news: bool,
}

#[derive(Args)]
pub struct EventsArgs {
    #[arg(long, default_value = "events")]
    out: PathBuf,
}

#[derive(Args)]
pub struct SignCallArgs {
    /// An unsigned call: events/tool/<tool>.json.
    file: PathBuf,
    /// Seconds the signed call stays valid.
    #[arg(long, default_value_t = 60)]
    valid_for: u64,
}

pub async fn run(command: DevCommand) -> Result<()> {
    match command {
        DevCommand::Bootstrap(args) => bootstrap(args).await,
        DevCommand::Events(args) => events(&args.out),
        DevCommand::SignCall(args) => sign_call(args).await,
    }
}

/// SDK configuration for the emulator: dummy credentials and us-east-1
/// unless the environment says otherwise.
pub async fn emulator_config(endpoint: &str) -> aws_config::SdkConfig {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint);
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "emulator",
        ));
    }
    loader.load().await
}

fn read_env_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

async fn key_exists(kms: &aws_sdk_kms::Client, id: &str) -> bool {
    kms.describe_key().key_id(id).send().await.is_ok()
}

async fn bootstrap(args: BootstrapArgs) -> Result<()> {
    let Some(endpoint) = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        bail!(
            "dev bootstrap creates resources on an emulator, not in an AWS account: set \
             AWS_ENDPOINT_URL (start one with `.venv/bin/python scripts/emulator.py --port 5000`, \
             then AWS_ENDPOINT_URL=http://127.0.0.1:5000)"
        );
    };
    let sdk = emulator_config(&endpoint).await;
    let store = DynamoStore::from_config(&sdk, &args.table);
    gs_dynamo_store::table::create(store.client(), &args.table).await?;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let previous = read_env_file(&args.env_file);
    let known = |name: &str| {
        previous
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let field_key = match known("FIELD_KEY_ID") {
        Some(id) if key_exists(&kms, &id).await => id,
        _ => {
            create_key(
                &kms,
                KeyKind::Encryption,
                "GoldenSignals field encryption (dev)",
            )
            .await?
        }
    };
    let mac_key = match known("CONTEXT_MAC_KEY_ID") {
        Some(id) if key_exists(&kms, &id).await => id,
        _ => create_key(&kms, KeyKind::Mac, "GoldenSignals call-context MAC (dev)").await?,
    };
    let empty = store
        .list_series(&SeriesQuery {
            limit: Some(1),
            ..SeriesQuery::default()
        })
        .await?
        .series
        .is_empty();
    if empty && !args.no_demo {
        let report = gs_market_data::seed_demo(&store, crate::DEMO_SEED).await?;
        println!(
            "Seeded {} synthetic series ({} bars) into {}.",
            report.series, report.bars, args.table
        );
    }
    if !args.no_demo && !args.no_demo_news {
        let store = std::sync::Arc::new(store.clone());
        let stores = gs_tools::Stores {
            bars: store.clone(),
            records: store,
            cipher: None,
            bus: None,
        };
        if let Some(report) =
            gs_tools::sentiment::seed_demo_items_if_missing(&stores, crate::DEMO_SEED)
                .await
                .map_err(|e| anyhow::anyhow!("cannot seed the demo news: {e}"))?
        {
            println!(
                "Seeded {} synthetic news items and {} posts into {}.",
                report.news, report.posts, args.table
            );
        }
        if let Some(report) =
            gs_tools::options::seed_demo_options_if_missing(&stores, crate::DEMO_SEED)
                .await
                .map_err(|e| anyhow::anyhow!("cannot seed the demo options: {e}"))?
        {
            println!(
                "Seeded {} synthetic option chain snapshots ({} quotes) and {} trade prints into {}.",
                report.snapshots, report.quotes, report.prints, args.table
            );
        }
    }
    // The data bus: EventBridge, and a queue and DLQ per consumer.
    let queues =
        gs_aws_bus::provision(&sdk, &args.table, &args.table, &gs_tools::bus::routes(), 5).await?;
    let mut bus_env = format!("EVENT_BUS_NAME={}\nBUS_MAX_RECEIVES=5\n", args.table);
    for (consumer, urls) in &queues {
        let suffix = consumer.to_ascii_uppercase().replace('-', "_");
        bus_env.push_str(&format!(
            "BUS_QUEUE_URL_{suffix}={}\nBUS_DLQ_URL_{suffix}={}\n",
            urls.queue, urls.dlq
        ));
    }
    let region = sdk
        .region()
        .map_or_else(|| "us-east-1".to_string(), ToString::to_string);
    let env = format!(
        "AWS_ENDPOINT_URL={endpoint}\nAWS_REGION={region}\nAWS_ACCESS_KEY_ID=testing\n\
         AWS_SECRET_ACCESS_KEY=testing\nTABLE_NAME={}\nFIELD_KEY_ID={field_key}\n\
         KMS_KEY_ID={field_key}\nCONTEXT_MAC_KEY_ID={mac_key}\n",
        args.table
    );
    let env = env + &bus_env;
    if let Some(dir) = args.env_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.env_file, &env)
        .with_context(|| format!("cannot write {}", args.env_file.display()))?;
    println!(
        "Table {}, field key {field_key}, context MAC key {mac_key}, event bus and {} consumer queues on {endpoint}.\n\
         Their names are in {} (for `serve --store dynamodb` and `cargo lambda watch --env-file`).",
        args.table,
        queues.len(),
        args.env_file.display()
    );
    Ok(())
}

fn events(out: &Path) -> Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let set = gs_lambda::events::generate(scratch.path())?;
    for (path, value) in &set.files {
        let target = out.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(
            &target,
            format!("{}\n", serde_json::to_string_pretty(value)?),
        )
        .with_context(|| format!("cannot write {}", target.display()))?;
    }
    std::fs::write(
        out.join("issuer-jwks.json"),
        format!("{}\n", serde_json::to_string_pretty(&set.jwks)?),
    )?;
    println!(
        "Wrote {} events and the issuer's public keys to {}.",
        set.files.len(),
        out.display()
    );
    Ok(())
}

async fn sign_call(args: SignCallArgs) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Unsigned {
        tool: String,
        arguments: Box<serde_json::value::RawValue>,
        caller: gs_tools::CallerIdentity,
        request_id: String,
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let unsigned: Unsigned = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an unsigned tool call", args.file.display()))?;
    let call = gs_tools::ToolCall::new(
        unsigned.tool,
        unsigned.arguments,
        unsigned.caller,
        unsigned.request_id,
        std::time::Duration::from_secs(args.valid_for),
    );
    let settings = gs_lambda::Settings::from_env();
    let sdk = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.is_empty() => emulator_config(&endpoint).await,
        _ => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    };
    let key = gs_lambda::mac_key(&settings, &sdk)?;
    let signed = gs_lambda::signed::sign(key.as_ref(), call).await?;
    println!("{}", serde_json::to_string(&signed)?);
    Ok(())
}
