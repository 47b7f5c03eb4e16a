//! The AWS emulator the tests of every AWS engine run against: moto's server
//! (`scripts/emulator.py`, PyPI `moto[server]` in the checkout's `.venv`),
//! started once per test process on a free 127.0.0.1 port, and SDK
//! configuration that points at it with dummy credentials.
//!
//! `./scripts/test` starts one emulator for the whole run and passes its URL
//! in `GS_EMULATOR_URL`; without it, the first test of a process starts its
//! own. If the emulator cannot start, the test fails with what to do: AWS
//! tests never skip.
//!
//! Test-only: no engine or binary depends on this crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The region every test uses.
pub const REGION: &str = "us-east-1";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn start() -> Result<String, String> {
    if let Ok(url) = std::env::var("GS_EMULATOR_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let root = workspace_root();
    let python = std::env::var_os("GS_EMULATOR_PYTHON")
        .map_or_else(|| root.join(".venv/bin/python"), PathBuf::from);
    let script = root.join("scripts/emulator.py");
    let dir = std::env::temp_dir().join(format!("gs-emulator-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let port_file = dir.join("url");
    let _ = std::fs::remove_file(&port_file);
    let log = std::fs::File::create(dir.join("emulator.log"))
        .map_err(|e| format!("creating the emulator log: {e}"))?;
    let mut child = Command::new(&python)
        .arg(&script)
        .arg("--port-file")
        .arg(&port_file)
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting {} {}: {e}", python.display(), script.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(url) = std::fs::read_to_string(&port_file) {
            // The child stays behind on purpose: it exits when this process
            // does (--parent-pid).
            return Ok(url);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join("emulator.log")).unwrap_or_default();
            return Err(format!("the emulator exited with {status}:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    Err("the emulator did not report a port within 60 s".into())
}

/// The emulator's endpoint URL, starting it on first use. Panics (failing
/// the test) with instructions when it cannot start.
pub fn endpoint() -> &'static str {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    match URL.get_or_init(start) {
        Ok(url) => url,
        Err(why) => panic!(
            "the AWS emulator (moto) could not start: {why}\n\
             Install it with ./scripts/test (it creates .venv with moto[server]), or run \
             `.venv/bin/pip install 'moto[server]==5.2.5'`, or point GS_EMULATOR_URL at a \
             running moto server."
        ),
    }
}

/// SDK configuration for the emulator: its endpoint, [`REGION`], dummy
/// static credentials, and no retries that would hide a wrong answer.
pub fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "gs-aws-emulator",
            )),
        )
        .build()
}

/// A name no other test of this run uses (tables, keys, queues).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
