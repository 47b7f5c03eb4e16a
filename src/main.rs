//! `goldensignals`: run the local MCP endpoint, mint dev tokens, import bars.
//!
//! The binary only wires configuration to the library crates; anything worth
//! testing lives in them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

mod dev;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use gs_auth::{DevIssuer, Policy, Scope, Verifier, VerifierConfig, parse_ttl};
use gs_domain::{BarStore, DataSource, RecordStore, SeriesKey, SeriesQuery, Symbol, Timeframe};
use gs_embedded_store::EmbeddedStore;
use gs_market_data::{CsvOptions, parse_csv};
use gs_mcp::{GoldenSignals, Guardrails, HttpConfig};
use gs_sentiment::ItemKind;
use gs_tools::{ComputePool, LocalInvoker, Stores};
use jsonwebtoken::Algorithm;

/// Responses and inline-bar requests are megabytes each: glibc's malloc (and
/// mimalloc's default purging) hand such blocks back to the kernel after every
/// request and fault in fresh, zero-filled pages for the next, which cost more
/// than the JSON itself. jemalloc keeps freed pages for seconds before
/// returning them, so the next request reuses them.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const DEMO_SEED: u64 = 42;
/// The subject of the dev token `serve` prints, who owns the demo portfolio.
const DEV_SUBJECT: &str = "dev";
/// In the data directory while `serve` runs: the endpoint `import` hands files to.
const ENDPOINT_FILE: &str = "server-endpoint";

#[derive(Parser)]
#[command(
    name = "goldensignals",
    version,
    about = "GoldenSignals MCP: trading intelligence for AI agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the MCP endpoint at http://ADDR/mcp from the local data directory.
    Serve(ServeArgs),
    /// Print a signed access token from the local dev issuer (stdout: the token only).
    Token(TokenArgs),
    /// Import OHLCV bars from a CSV file (all-or-nothing unless --skip-bad).
    Import(ImportArgs),
    /// Import news from a JSONL, CSV, RSS 2.0 or Atom file (all-or-nothing, deduped).
    ImportNews(ImportNewsArgs),
    /// Import social posts from a JSONL file (all-or-nothing, deduped).
    ImportPosts(ImportPostsArgs),
    /// Import option chain snapshots or trade prints from a CSV file (all-or-nothing).
    ImportOptions(ImportOptionsArgs),
    /// Import an account's history (deposits, withdrawals, buys, sells; CSV) as a new portfolio (all-or-nothing).
    ImportPortfolio(ImportPortfolioArgs),
    /// Run one signal scan of a watchlist now (stored results and signal events, as a scheduled scan).
    Scan(ScanArgs),
    /// Development helpers: an emulated AWS (bootstrap), the events/ files.
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Connect a user's live broker account (Alpaca) or disconnect it. The
    /// keys are read from ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY (never
    /// from the command line) and stored sealed by the field key.
    #[command(subcommand)]
    Broker(BrokerCommand),
}

#[derive(Subcommand)]
enum BrokerCommand {
    /// Store the user's Alpaca key pair (replacing an earlier one).
    Connect(BrokerArgs),
    /// Remove the user's Alpaca key pair.
    Disconnect(BrokerArgs),
}

#[derive(Args)]
struct BrokerArgs {
    /// The user (token subject) whose account this is.
    #[arg(long, default_value = "dev")]
    user: String,
    #[command(flatten)]
    data: DataDir,
    /// The store the server uses: the embedded one in the data directory, or
    /// DynamoDB (TABLE_NAME, and FIELD_KEY_ID: the KMS key the functions seal fields with).
    #[arg(
        long,
        value_enum,
        env = "GOLDENSIGNALS_STORE",
        default_value = "embedded"
    )]
    store: StoreKind,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LiveBroker {
    Alpaca,
}

#[derive(Args)]
struct DataDir {
    /// Directory holding the database and the dev signing key.
    #[arg(long, env = "GOLDENSIGNALS_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GOLDENSIGNALS_ADDR", default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    #[command(flatten)]
    data: DataDir,
    /// Do not seed the synthetic demo data set into an empty store.
    #[arg(long)]
    no_demo: bool,
    /// Base URL clients use to reach this server (default: http://ADDR).
    #[arg(long, env = "GOLDENSIGNALS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Host names accepted in the Host header (repeatable; default: loopback only).
    #[arg(
        long = "allowed-host",
        env = "GOLDENSIGNALS_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_hosts: Vec<String>,
    /// Role policy file mapping groups to scopes (default: infra/auth-policy.json, built in).
    #[arg(long, env = "GOLDENSIGNALS_POLICY")]
    policy: Option<PathBuf>,
    /// Trust tokens from this issuer instead of the local dev issuer (e.g. a Cognito user pool URL).
    #[arg(long, env = "GOLDENSIGNALS_ISSUER", requires_all = ["audience"])]
    issuer: Option<String>,
    /// Accepted audiences / Cognito app client ids (with --issuer).
    #[arg(long, env = "GOLDENSIGNALS_AUDIENCE", value_delimiter = ',')]
    audience: Vec<String>,
    /// JWKS URL of the issuer (default: ISSUER/.well-known/jwks.json).
    #[arg(long, env = "GOLDENSIGNALS_JWKS_URL")]
    jwks_url: Option<String>,
    /// Identifier of our resource server at the issuer (repeatable, with --issuer), e.g.
    /// `https://api.example.com` for Cognito scopes `https://api.example.com/market-data:*`.
    /// Only these prefixes are stripped; scopes with any other prefix are ignored.
    #[arg(
        long = "resource-server-id",
        env = "GOLDENSIGNALS_RESOURCE_SERVER_IDS",
        value_delimiter = ',',
        requires = "issuer"
    )]
    resource_server_ids: Vec<String>,
    /// Most /mcp requests handled at once; more are answered 503 with Retry-After.
    #[arg(long, env = "GOLDENSIGNALS_MAX_IN_FLIGHT", default_value_t = HttpConfig::DEFAULT_MAX_IN_FLIGHT)]
    max_in_flight: usize,
    /// Days audit entries are kept (each hour's chain expires as a whole).
    #[arg(long, env = "GOLDENSIGNALS_AUDIT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3650))]
    audit_retention_days: u64,
    /// Token lifetime of the dev token printed at start-up.
    #[arg(long, default_value = "24h")]
    token_ttl: String,
    /// Where bars and records live: the embedded store in the data
    /// directory, or DynamoDB (TABLE_NAME, AWS_REGION, AWS_ENDPOINT_URL as
    /// the AWS SDK reads them; `dev bootstrap` makes one on an emulator).
    #[arg(
        long,
        value_enum,
        env = "GOLDENSIGNALS_STORE",
        default_value = "embedded"
    )]
    store: StoreKind,
    /// Turn live trading on: place_order with broker live goes to this
    /// broker, for users who connected an account (`broker connect`) and
    /// with confirm: true. Off by default: every order is paper.
    #[arg(long, value_enum, env = "GOLDENSIGNALS_LIVE_BROKER")]
    live_broker: Option<LiveBroker>,
    /// The live broker's API base URL. The default is Alpaca's paper-trading
    /// endpoint; real money only at https://api.alpaca.markets.
    #[arg(long, env = "GOLDENSIGNALS_ALPACA_URL", default_value = gs_tools::portfolio::live::ALPACA_PAPER_URL)]
    alpaca_url: String,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreKind {
    Embedded,
    Dynamodb,
}

#[derive(Args)]
struct TokenArgs {
    /// Subject (user id) of the token.
    #[arg(long)]
    sub: String,
    /// Space-separated scopes: `<server>:<tool>`, `<server>:*` or `*`.
    #[arg(long, default_value = "")]
    scopes: String,
    /// Comma-separated groups (mapped to roles by the policy file), e.g. analyst.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// Lifetime, e.g. 15m, 1h, 7d.
    #[arg(long, default_value = "1h")]
    ttl: String,
    #[command(flatten)]
    data: DataDir,
}

#[derive(Args)]
struct ImportNewsArgs {
    /// jsonl, csv, rss or atom (default: detected from the content).
    #[arg(long)]
    format: Option<String>,
    #[command(flatten)]
    data: DataDir,
    /// Bearer token for a running server that does not trust the local dev issuer (needs database:import_news).
    #[arg(long, env = "GOLDENSIGNALS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The news file: JSONL (time, headline, summary, url, source, tickers), CSV with those columns, RSS 2.0 or Atom.
    file: PathBuf,
}

#[derive(Args)]
struct ImportPostsArgs {
    #[command(flatten)]
    data: DataDir,
    /// Bearer token for a running server that does not trust the local dev issuer (needs database:import_posts).
    #[arg(long, env = "GOLDENSIGNALS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The posts file: JSONL with time, text, and optionally platform, author, url, engagement, tickers.
    file: PathBuf,
}

#[derive(Args)]
struct ImportOptionsArgs {
    /// chain or trades (default: detected from the header).
    #[arg(long)]
    kind: Option<String>,
    #[command(flatten)]
    data: DataDir,
    /// Bearer token for a running server that does not trust the local dev issuer (needs database:import_options).
    #[arg(long, env = "GOLDENSIGNALS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The CSV file: a chain (as_of, underlying, underlying_price, symbol or expiry/strike/right, bid, ask, volume, open_interest...) or trades (time, symbol..., price, size, exchange...).
    file: PathBuf,
}

#[derive(Args)]
struct ScanArgs {
    /// The watchlist's name (create_watchlist).
    #[arg(long)]
    watchlist: String,
    /// The user (token subject) the watchlist belongs to (with --token: that token's subject).
    #[arg(long, default_value = DEV_SUBJECT)]
    user: String,
    #[command(flatten)]
    data: DataDir,
    /// Bearer token for a running server that does not trust the local dev issuer (needs technical-analysis:run_scan).
    #[arg(long, env = "GOLDENSIGNALS_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Args)]
struct ImportPortfolioArgs {
    /// The portfolio's name (default: the file's name).
    #[arg(long)]
    name: Option<String>,
    /// Idempotency key (default: from the file's name and content, so importing the same file again changes nothing).
    #[arg(long)]
    key: Option<String>,
    /// The user (token subject) the portfolio belongs to (with --token: that token's subject).
    #[arg(long, default_value = DEV_SUBJECT)]
    user: String,
    #[command(flatten)]
    data: DataDir,
    /// Bearer token for a running server that does not trust the local dev issuer (needs portfolio:create_portfolio); the portfolio is then the token's subject's.
    #[arg(long, env = "GOLDENSIGNALS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The CSV file: time,type,symbol,quantity,price,commission,amount (type deposit, withdrawal, buy or sell).
    file: PathBuf,
}

#[derive(Args)]
struct ImportArgs {
    /// Symbol the bars belong to, e.g. AAPL.
    #[arg(long)]
    symbol: String,
    /// Bar width of the file: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w.
    #[arg(long)]
    timeframe: String,
    /// Store the good rows and report the bad ones instead of rejecting the file.
    #[arg(long)]
    skip_bad: bool,
    #[command(flatten)]
    data: DataDir,
    /// Bearer token for a running server that does not trust the local dev issuer (needs database:import_bars).
    #[arg(long, env = "GOLDENSIGNALS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// CSV file with a date/time column and open, high, low, close (volume optional).
    file: PathBuf,
}

/// Logs to stderr: text, or JSON lines with `GOLDENSIGNALS_LOG_FORMAT=json`
/// (each line with the fields of its request span: request id, user,
/// server, tool). The same lines feed `get_logs`.
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("GOLDENSIGNALS_LOG")
        .unwrap_or_else(|_| "info,rmcp=warn".into());
    let json = std::env::var("GOLDENSIGNALS_LOG_FORMAT").is_ok_and(|f| f == "json");
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(gs_tools::logs::RingLayer::new());
    if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .init();
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .init();
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_logging();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Token(args) => token(args),
        Command::Import(args) => runtime.block_on(import(args)),
        Command::ImportNews(args) => runtime.block_on(import_items(
            ItemKind::News,
            args.file,
            args.format,
            args.data,
            args.token,
        )),
        Command::ImportPosts(args) => runtime.block_on(import_items(
            ItemKind::Post,
            args.file,
            None,
            args.data,
            args.token,
        )),
        Command::ImportOptions(args) => runtime.block_on(import_options(args)),
        Command::ImportPortfolio(args) => runtime.block_on(import_portfolio(args)),
        Command::Scan(args) => runtime.block_on(scan(args)),
        Command::Dev(command) => runtime.block_on(dev::run(command)),
        Command::Broker(command) => runtime.block_on(broker(command)),
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let started = Instant::now();
    let (bars, records, bus) = open_stores(args.store, &args.data.data_dir).await?;
    let live = match args.live_broker {
        None => None,
        Some(LiveBroker::Alpaca) => {
            let live = gs_tools::portfolio::live::LiveTrading::alpaca(&args.alpaca_url)
                .map_err(|e| anyhow::anyhow!("--alpaca-url: {e}"))?;
            tracing::warn!(
                broker = "alpaca",
                url = live.base_url(),
                "LIVE TRADING IS ON: place_order with broker live and confirm true sends orders to the connected accounts"
            );
            Some(live)
        }
    };
    let first = SeriesQuery {
        limit: Some(1),
        ..SeriesQuery::default()
    };
    if !args.no_demo && bars.list_series(&first).await?.series.is_empty() {
        seed_demo(bars.as_ref()).await?;
    }
    if !args.no_demo {
        let stores = Stores {
            bars: bars.clone(),
            records: records.clone(),
            cipher: None,
            bus: None,
        };
        match args.store {
            StoreKind::Embedded => seed_demo_items(&stores).await?,
            // Thousands of small transactions: slow on an emulator, so the
            // server does not wait for them.
            StoreKind::Dynamodb => {
                tokio::spawn(async move {
                    if let Err(e) = seed_demo_items(&stores).await {
                        tracing::warn!(error = %e, "the demo news were not seeded");
                    }
                });
            }
        }
    }
    let policy = match &args.policy {
        Some(path) => Policy::load(path)?,
        None => Policy::default_policy(),
    };
    // Bind first so that `--addr 127.0.0.1:0` reports the port it got.
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another server running there?)",
                args.addr
            )
        })?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_string();
    let allowed_hosts = if args.allowed_hosts.is_empty() {
        HttpConfig::loopback_hosts()
    } else {
        args.allowed_hosts.clone()
    };

    let (verifier_config, dev) = match &args.issuer {
        Some(issuer) => {
            let jwks = args.jwks_url.clone().unwrap_or_else(|| {
                format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
            });
            let config = VerifierConfig {
                issuer: issuer.clone(),
                audiences: args.audience.clone(),
                algorithms: vec![Algorithm::RS256, Algorithm::ES256],
                leeway_secs: VerifierConfig::DEFAULT_LEEWAY_SECS,
                jwks: gs_auth::JwksSource::Url(jwks),
                resource_server_ids: args.resource_server_ids.clone(),
            };
            if config.resource_server_ids.is_empty() {
                tracing::info!(
                    "no --resource-server-id: scopes with a resource-server prefix are ignored, only unprefixed scopes and groups count"
                );
            }
            (config, None)
        }
        None => {
            let dev = DevIssuer::load_or_create(&args.data.data_dir)?;
            (dev.verifier_config(), Some(dev))
        }
    };
    let http = HttpConfig {
        public_url: public_url.clone(),
        allowed_hosts,
        authorization_servers: vec![args.issuer.clone().unwrap_or_else(|| public_url.clone())],
        jwks: dev.as_ref().map(DevIssuer::jwks),
        max_in_flight: args.max_in_flight,
    };
    // Audit parameters are encrypted with the local field key (data/field-key).
    let cipher: Arc<dyn gs_crypto::FieldCipher> = Arc::new(gs_crypto::Envelope::new(
        gs_crypto::LocalKeys::open_or_create(&args.data.data_dir)?,
        gs_crypto::CachePolicy::default(),
    ));
    let policy = Arc::new(policy);
    // Webhook receivers on this machine are fine for a local server.
    gs_tools::alerts::webhook::allow_loopback(true);
    let consumer_stores = Stores {
        bars,
        records: records.clone(),
        cipher: Some(cipher.clone()),
        bus: bus.clone(),
    };
    let invoker = LocalInvoker::new(consumer_stores.clone(), Arc::new(ComputePool::per_core()))
        .with_policy(policy.clone())
        .with_live(live);
    let guardrails = Guardrails::new(policy.clone(), records.clone(), Some(cipher))
        .with_audit_retention(std::time::Duration::from_secs(
            args.audit_retention_days.saturating_mul(86_400),
        ));
    let handler = GoldenSignals::new(Arc::new(invoker), records).with_guardrails(guardrails);
    let app = gs_mcp::router(
        handler,
        Arc::new(Verifier::new(verifier_config)),
        policy,
        http,
    );

    // `goldensignals import` finds the running server here when the store
    // is locked by it (see `import`). Written before the banner, so whoever
    // waits for the banner finds it.
    let endpoint_path = args.data.data_dir.join(ENDPOINT_FILE);
    let local = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    // The local socket, and the Host the server accepts (the public URL's).
    let host = public_url
        .split_once("://")
        .map_or(public_url.as_str(), |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    std::fs::write(&endpoint_path, format!("http://{local}/mcp\n{host}\n"))
        .with_context(|| format!("cannot write {}", endpoint_path.display()))?;
    println!("GoldenSignals MCP endpoint: {public_url}/mcp");
    println!("Data directory: {}", args.data.data_dir.display());
    if let Some(dev) = &dev {
        let ttl = parse_ttl(&args.token_ttl)?;
        let token = dev.mint(DEV_SUBJECT, &[Scope::parse("*")?], &[], ttl)?;
        let token_path = args.data.data_dir.join(DevIssuer::TOKEN_FILE);
        DevIssuer::write_token_file(&token_path, &token)?;
        println!(
            "Dev token (every scope, expires in {}) in {}",
            args.token_ttl,
            token_path.display()
        );
        // Only to a terminal: piped output ends up in logs and CI transcripts.
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            println!("{token}");
        }
    }
    // The bus consumers run in-process on the local outbox (on AWS, SQS
    // feeds their Lambdas).
    let (stop_consumers, stopped) = tokio::sync::watch::channel(false);
    // On DynamoDB the SQS queues `dev bootstrap` made are polled here, when
    // every consumer has one (else their Lambdas consume them).
    let polls_sqs = gs_tools::bus::routes().iter().all(|r| {
        std::env::var(format!(
            "BUS_QUEUE_URL_{}",
            r.consumer.to_ascii_uppercase().replace('-', "_")
        ))
        .is_ok_and(|u| !u.is_empty())
    });
    let consumers = match (&bus, args.store) {
        (Some(bus), kind) if kind == StoreKind::Embedded || polls_sqs => {
            Some(tokio::spawn(gs_tools::bus::run_consumers(
                bus.clone(),
                consumer_stores.clone(),
                gs_tools::bus::consumers(),
                gs_tools::bus::PollSettings::default(),
                stopped,
            )))
        }
        _ => None,
    };
    // Scheduled scans and escalations: a tick every 15 s (on AWS, an
    // EventBridge schedule invokes the scheduler function each minute).
    let scheduler = tokio::spawn(gs_tools::scheduler::run(
        consumer_stores.clone(),
        std::time::Duration::from_secs(15),
        stop_consumers.subscribe(),
    ));
    tracing::info!(%addr, elapsed_ms = started.elapsed().as_millis() as u64, "ready");
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    let _ = std::fs::remove_file(&endpoint_path);
    let _ = stop_consumers.send(true);
    if let Some(consumers) = consumers {
        let _ = consumers.await;
    }
    let _ = scheduler.await;
    served.context("server failed")?;
    Ok(())
}

type StorePair = (
    Arc<dyn BarStore>,
    Arc<dyn RecordStore>,
    Option<Arc<dyn gs_domain::EventBus>>,
);

async fn aws_sdk() -> aws_config::SdkConfig {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.is_empty() => dev::emulator_config(&endpoint).await,
        _ => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    }
}

async fn open_stores(kind: StoreKind, data_dir: &Path) -> Result<StorePair> {
    Ok(match kind {
        StoreKind::Embedded => {
            let store = EmbeddedStore::open(data_dir).with_context(|| {
                format!("cannot open the data directory {}", data_dir.display())
            })?;
            let bus = local_bus(&store);
            let store = Arc::new(store);
            (store.clone(), store, Some(bus))
        }
        StoreKind::Dynamodb => {
            let table = std::env::var("TABLE_NAME").context(
                "--store dynamodb needs TABLE_NAME (and AWS_ENDPOINT_URL for an emulator: \
                 `goldensignals dev bootstrap` writes both to data/aws-dev.env)",
            )?;
            let sdk = aws_sdk().await;
            let store = Arc::new(gs_dynamo_store::DynamoStore::from_config(&sdk, table));
            // EVENT_BUS_NAME (and the queue URLs) from `dev bootstrap`.
            let bus = gs_aws_bus::AwsBus::from_env(&sdk, &gs_tools::bus::routes())
                .map(|b| Arc::new(b) as Arc<dyn gs_domain::EventBus>);
            (store.clone(), store, bus)
        }
    })
}

/// The durable outbox bus in the data directory's store, routed to the
/// product's consumers.
fn local_bus(store: &EmbeddedStore) -> Arc<dyn gs_domain::EventBus> {
    Arc::new(gs_embedded_store::EmbeddedBus::new(
        store.clone(),
        gs_tools::bus::routes(),
        gs_embedded_store::DEFAULT_MAX_RECEIVES,
    ))
}

/// `broker connect` / `broker disconnect`: the user's Alpaca key pair,
/// sealed by the same field key the server opens it with.
async fn broker(command: BrokerCommand) -> Result<()> {
    use gs_tools::portfolio::live;
    let (BrokerCommand::Connect(args) | BrokerCommand::Disconnect(args)) = &command;
    let (_, records, _) = open_stores(args.store, &args.data.data_dir)
        .await
        .context("stop the running server first (it holds the data directory)")?;
    if let BrokerCommand::Disconnect(_) = command {
        let removed = live::disconnect(records.as_ref(), &args.user).await?;
        println!(
            "{}",
            if removed {
                format!("Disconnected the Alpaca account of {}.", args.user)
            } else {
                format!("{} had no connected account.", args.user)
            }
        );
        return Ok(());
    }
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .with_context(|| {
                format!("set {name} in the environment (it is never read from the command line)")
            })
    };
    let credentials = live::Credentials {
        key_id: var("ALPACA_API_KEY_ID")?,
        secret_key: zeroize::Zeroizing::new(var("ALPACA_API_SECRET_KEY")?),
    };
    let cipher: Arc<dyn gs_crypto::FieldCipher> = match args.store {
        StoreKind::Embedded => Arc::new(gs_crypto::Envelope::new(
            gs_crypto::LocalKeys::open_or_create(&args.data.data_dir)?,
            gs_crypto::CachePolicy::default(),
        )),
        StoreKind::Dynamodb => Arc::new(gs_crypto::Envelope::new(
            gs_crypto::KmsKeys::from_config(
                &aws_sdk().await,
                var("FIELD_KEY_ID")
                    .context("--store dynamodb seals with the functions' KMS key")?,
            ),
            gs_crypto::CachePolicy::default(),
        )),
    };
    live::connect(records.as_ref(), cipher.as_ref(), &args.user, &credentials).await?;
    println!(
        "Connected an Alpaca account for {} (key id {}); the keys are stored sealed. Live orders also need a server started with --live-broker alpaca.",
        args.user, credentials.key_id
    );
    Ok(())
}

async fn seed_demo(store: &dyn BarStore) -> Result<()> {
    let started = Instant::now();
    let report = gs_market_data::seed_demo(store, DEMO_SEED).await?;
    tracing::info!(
        series = report.series,
        bars = report.bars,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seeded the synthetic demo data set (use --no-demo to skip)"
    );
    Ok(())
}

/// Demo headlines, posts and option chains for the synthetic daily series, once.
async fn seed_demo_items(stores: &Stores) -> Result<()> {
    let started = Instant::now();
    if let Some(report) = gs_tools::sentiment::seed_demo_items_if_missing(stores, DEMO_SEED)
        .await
        .map_err(|e| anyhow::anyhow!("cannot seed the demo news: {e}"))?
    {
        tracing::info!(
            news = report.news,
            posts = report.posts,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "seeded synthetic demo news and posts"
        );
    }
    let started = Instant::now();
    if let Some(report) = gs_tools::options::seed_demo_options_if_missing(stores, DEMO_SEED)
        .await
        .map_err(|e| anyhow::anyhow!("cannot seed the demo options: {e}"))?
    {
        tracing::info!(
            symbols = report.symbols,
            snapshots = report.snapshots,
            quotes = report.quotes,
            prints = report.prints,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "seeded synthetic demo option chains and trade prints"
        );
    }
    let started = Instant::now();
    if let Some(report) =
        gs_tools::portfolio::demo::seed_demo_portfolio_if_missing(stores, DEV_SUBJECT)
            .await
            .map_err(|e| anyhow::anyhow!("cannot seed the demo portfolio: {e}"))?
    {
        tracing::info!(
            user = DEV_SUBJECT,
            portfolio = report.portfolio_id,
            rows = report.rows,
            positions = report.positions,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "seeded the synthetic demo portfolio"
        );
    }
    if let Some(report) = gs_tools::alerts::demo::seed_demo_alerts_if_missing(stores, DEV_SUBJECT)
        .await
        .map_err(|e| anyhow::anyhow!("cannot seed the demo alerts: {e}"))?
    {
        tracing::info!(
            user = DEV_SUBJECT,
            watchlist = report.watchlist,
            rules = report.rules,
            "seeded the demo watchlist and alert rules"
        );
    }
    Ok(())
}

/// `import-options`: into the local store, or through the running server's
/// `import_options` when it holds the store.
async fn import_options(args: ImportOptionsArgs) -> Result<()> {
    let path = args.file;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    let name = file_name(&path);
    let store = match import_target(&args.data)? {
        ImportTarget::Store(store) => store,
        ImportTarget::Server { url, host } => {
            let host = host.as_deref();
            let mut arguments = serde_json::json!({"text": text, "file_name": name});
            if let Some(k) = &args.kind {
                arguments["kind"] = serde_json::json!(k);
            }
            let (summary, _) = call_running_server(
                &url,
                host,
                args.token.as_deref(),
                &args.data,
                "import_options",
                arguments,
            )
            .await
            .with_context(|| format!("{} was not imported", path.display()))?;
            println!("{summary} (through the running server at {url})");
            return Ok(());
        }
    };
    let stores = Stores {
        bars: store.clone(),
        records: store,
        cipher: None,
        bus: None,
    };
    let out = gs_tools::options::import_options(&stores, None, text, args.kind.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{} was not imported: {e}", path.display()))?;
    println!("{}", gs_tools::options::import_summary(&name, &out));
    Ok(())
}

/// `import-portfolio`: into the local store, or through the running
/// server's `create_portfolio` when it holds the store.
async fn import_portfolio(args: ImportPortfolioArgs) -> Result<()> {
    let path = args.file;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    let file = file_name(&path);
    let name = args
        .name
        .unwrap_or_else(|| file.chars().take(100).collect());
    let key = args
        .key
        .unwrap_or_else(|| gs_tools::portfolio::import_key(&file, &text));
    let store = match import_target(&args.data)? {
        ImportTarget::Store(store) => store,
        ImportTarget::Server { url, host } => {
            let host = host.as_deref();
            let arguments =
                serde_json::json!({"name": name, "idempotency_key": key, "history": text});
            let (summary, _) = call_running_server_as(
                &url,
                host,
                args.token.as_deref(),
                &args.data,
                &args.user,
                "create_portfolio",
                arguments,
            )
            .await
            .with_context(|| format!("{} was not imported", path.display()))?;
            println!("{summary} (through the running server at {url})");
            return Ok(());
        }
    };
    let stores = Stores {
        bars: store.clone(),
        records: store,
        cipher: None,
        bus: None,
    };
    let (_, summary) = gs_tools::portfolio::import_history(&stores, &args.user, &name, &key, text)
        .await
        .map_err(|e| anyhow::anyhow!("{} was not imported: {e}", path.display()))?;
    println!("{summary} (user {})", args.user);
    Ok(())
}

/// `scan`: in the local store, or through the running server's `run_scan`
/// when it holds the store.
async fn scan(args: ScanArgs) -> Result<()> {
    let store = match import_target(&args.data)? {
        ImportTarget::Store(store) => store,
        ImportTarget::Server { url, host } => {
            let (summary, _) = call_running_server_as(
                &url,
                host.as_deref(),
                args.token.as_deref(),
                &args.data,
                &args.user,
                "run_scan",
                serde_json::json!({"name": args.watchlist}),
            )
            .await
            .with_context(|| format!("watchlist {} was not scanned", args.watchlist))?;
            println!("{summary} (through the running server at {url})");
            return Ok(());
        }
    };
    let stores = Stores {
        bars: store.clone(),
        records: store.clone(),
        cipher: None,
        // Into the outbox: the server's consumers see the signals when it runs.
        bus: Some(local_bus(&store)),
    };
    let ctx = gs_tools::portfolio::local_context(&stores, &args.user, "cli-scan");
    let (_, summary) = gs_tools::watchlists::run_scan(
        &ctx,
        gs_tools::watchlists::WatchlistNameArgs {
            name: args.watchlist.clone(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("watchlist {} was not scanned: {e}", args.watchlist))?;
    println!("{summary} (user {})", args.user);
    Ok(())
}

fn token(args: TokenArgs) -> Result<()> {
    let scopes = args
        .scopes
        .split_whitespace()
        .map(Scope::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if scopes.is_empty() && args.groups.is_empty() {
        bail!(
            "the token would grant nothing: give --scopes \"market-data:*\" and/or --groups analyst"
        );
    }
    let ttl = parse_ttl(&args.ttl)?;
    let dev = DevIssuer::load_or_create(&args.data.data_dir)?;
    println!("{}", dev.mint(&args.sub, &scopes, &args.groups, ttl)?);
    Ok(())
}

async fn import(args: ImportArgs) -> Result<()> {
    let symbol = Symbol::parse(&args.symbol)?;
    let timeframe = Timeframe::parse(&args.timeframe)?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let parsed = parse_csv(
        std::io::BufReader::new(file),
        &CsvOptions {
            skip_bad: args.skip_bad,
        },
    )
    .with_context(|| {
        format!(
            "{} was not imported; nothing was stored",
            args.file.display()
        )
    })?;
    if parsed.bars.is_empty() {
        bail!(
            "{} has no valid bars; nothing was stored",
            args.file.display()
        );
    }
    if let Some(ticker) = parsed
        .dialect
        .ticker
        .as_deref()
        .filter(|t| !t.eq_ignore_ascii_case(symbol.as_str()))
    {
        bail!(
            "{} holds {ticker} (its yfinance Ticker row) but --symbol is {symbol}; nothing was stored: import it with --symbol {ticker}",
            args.file.display()
        );
    }
    let store = match EmbeddedStore::open(&args.data.data_dir) {
        Ok(store) => store,
        Err(open_error) => {
            // A running server holds the store: hand it the file instead.
            let Ok(endpoint) = std::fs::read_to_string(args.data.data_dir.join(ENDPOINT_FILE))
            else {
                return Err(anyhow::Error::new(open_error).context(format!(
                    "cannot open the data directory {}",
                    args.data.data_dir.display()
                )));
            };
            let mut lines = endpoint.lines();
            let url = lines.next().unwrap_or_default().trim().to_string();
            let host = lines.next().map(str::trim).filter(|h| !h.is_empty());
            return import_via_server(&url, host, &args, &symbol, timeframe).await;
        }
    };
    let key = SeriesKey::new(symbol, timeframe);
    let source = DataSource::Imported {
        file: file_name(&args.file),
    };
    let report = store.put_bars(&key, &parsed.bars, &source).await?;
    // Into the outbox: the server's consumers see it when it next runs.
    let event = gs_tools::import::bars_updated(&key, &parsed.bars, report, "goldensignals/import");
    local_bus(&store).publish(&[event]).await?;
    println!(
        "Imported {} bars of {} {} from {} ({} new, {} updated).",
        parsed.bars.len(),
        key.symbol,
        key.timeframe,
        args.file.display(),
        report.inserted,
        report.updated
    );
    if !parsed.skipped.is_empty() {
        eprintln!("Skipped {} bad rows:", parsed.skipped.len());
        for row in &parsed.skipped {
            eprintln!("  {row}");
        }
    }
    Ok(())
}

/// Sends the file to the running server's `import_bars` tool, with the
/// caller's `--token` or a short-lived one from the local dev issuer.
async fn import_via_server(
    endpoint: &str,
    host: Option<&str>,
    args: &ImportArgs,
    symbol: &Symbol,
    timeframe: Timeframe,
) -> Result<()> {
    let csv = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {} as text", args.file.display()))?;
    let arguments = serde_json::json!({
        "symbol": symbol.as_str(),
        "timeframe": timeframe.as_str(),
        "csv": csv,
        "skip_bad": args.skip_bad,
        "file_name": file_name(&args.file),
    });
    let (text, structured) = call_running_server(
        endpoint,
        host,
        args.token.as_deref(),
        &args.data,
        "import_bars",
        arguments,
    )
    .await
    .with_context(|| format!("{} was not imported", args.file.display()))?;
    println!("{text} (through the running server at {endpoint})");
    for row in structured["skipped"].as_array().into_iter().flatten() {
        eprintln!("  {}", row.as_str().unwrap_or_default());
    }
    Ok(())
}

/// `import-news` / `import-posts`: into the local store, or through the
/// running server's `import_news` / `import_posts` when it holds the store.
async fn import_items(
    kind: ItemKind,
    path: PathBuf,
    format: Option<String>,
    data: DataDir,
    token: Option<String>,
) -> Result<()> {
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    let name = file_name(&path);
    let tool = match kind {
        ItemKind::News => "import_news",
        ItemKind::Post => "import_posts",
    };
    let store = match import_target(&data)? {
        ImportTarget::Store(store) => store,
        ImportTarget::Server { url, host } => {
            let host = host.as_deref();
            let mut arguments = serde_json::json!({"text": text, "file_name": name});
            if let Some(f) = &format {
                arguments["format"] = serde_json::json!(f);
            }
            let (summary, _) =
                call_running_server(&url, host, token.as_deref(), &data, tool, arguments)
                    .await
                    .with_context(|| format!("{} was not imported", path.display()))?;
            println!("{summary} (through the running server at {url})");
            return Ok(());
        }
    };
    let stores = Stores {
        bars: store.clone(),
        records: store,
        cipher: None,
        bus: None,
    };
    let result = match kind {
        ItemKind::News => {
            gs_tools::sentiment::import_news(&stores, None, text, format.as_deref(), &name).await
        }
        ItemKind::Post => gs_tools::sentiment::import_posts(&stores, None, text).await,
    };
    let out = result.map_err(|e| anyhow::anyhow!("{} was not imported: {e}", path.display()))?;
    println!(
        "{}",
        gs_tools::sentiment::import_summary_of(kind, &name, &out)
    );
    Ok(())
}

/// Where an import goes: the data directory's store, or, while `serve`
/// holds it, the running server (its endpoint and host).
enum ImportTarget {
    Store(Arc<EmbeddedStore>),
    Server { url: String, host: Option<String> },
}

fn import_target(data: &DataDir) -> Result<ImportTarget> {
    match EmbeddedStore::open(&data.data_dir) {
        Ok(store) => Ok(ImportTarget::Store(Arc::new(store))),
        Err(open_error) => {
            let Ok(endpoint) = std::fs::read_to_string(data.data_dir.join(ENDPOINT_FILE)) else {
                return Err(anyhow::Error::new(open_error).context(format!(
                    "cannot open the data directory {}",
                    data.data_dir.display()
                )));
            };
            let mut lines = endpoint.lines();
            let url = lines.next().unwrap_or_default().trim().to_string();
            let host = lines
                .next()
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(String::from);
            Ok(ImportTarget::Server { url, host })
        }
    }
}

/// Calls one tool of the server that holds the data directory, with
/// `token` or a five-minute one from the local dev issuer for that tool's
/// scope; returns the summary and the structured content.
async fn call_running_server(
    endpoint: &str,
    host: Option<&str>,
    token: Option<&str>,
    data: &DataDir,
    tool: &str,
    arguments: serde_json::Value,
) -> Result<(String, serde_json::Value)> {
    call_running_server_as(endpoint, host, token, data, "cli-import", tool, arguments).await
}

/// [`call_running_server`] with a dev token for `subject` (whose records
/// the call reads and writes).
async fn call_running_server_as(
    endpoint: &str,
    host: Option<&str>,
    token: Option<&str>,
    data: &DataDir,
    subject: &str,
    tool: &str,
    arguments: serde_json::Value,
) -> Result<(String, serde_json::Value)> {
    let server = gs_tools::find(tool).map_or("database", |t| t.server);
    let scope = format!("{server}:{tool}");
    let token = match token {
        Some(token) => token.to_string(),
        None => DevIssuer::load_or_create(&data.data_dir)?.mint(
            subject,
            &[Scope::parse(&scope)?],
            &[],
            parse_ttl("5m")?,
        )?,
    };
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}
    });
    let mut request = reqwest::Client::new().post(endpoint).bearer_auth(token);
    if let Some(host) = host {
        request = request.header(reqwest::header::HOST, host);
    }
    let response = request
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-11-25")
        .json(&body)
        .send()
        .await
        .with_context(|| {
            format!("the server at {endpoint} holds the store but did not answer; stop it or retry")
        })?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        bail!(
            "the running server at {endpoint} refused the import ({status}); pass --token (or GOLDENSIGNALS_TOKEN) with a token that has {scope}"
        );
    }
    let reply: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("the server at {endpoint} answered {status} without JSON"))?;
    if let Some(error) = reply.get("error") {
        bail!("the running server refused the import: {error}");
    }
    let result = reply.get("result").cloned().unwrap_or_default();
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if result["isError"].as_bool().unwrap_or(true) {
        bail!("the running server ({endpoint}) refused it: {text}");
    }
    Ok((text, result["structuredContent"].clone()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
