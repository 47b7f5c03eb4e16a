//! Option chains, day summaries and trade prints on both engines: the
//! embedded store and DynamoDB (moto) hold the same imported files and
//! answer the options-flow tools identically, including a snapshot whose
//! expiry spans two chain records.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gs_domain::{BarStore, RecordStore};
use gs_tools::{ComputePool, Stores, ToolContext, find};
use serde_json::{Value, json};

fn ctx(stores: &Stores) -> ToolContext {
    ToolContext {
        subject: "options-store-test".into(),
        permissions: Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: Arc::new(gs_auth::Policy::default_policy()),
        request_id: "req-options-store".into(),
        stores: stores.clone(),
        deadline: Instant::now() + Duration::from_secs(240),
        pool: Arc::new(ComputePool::new(2)),
        progress: None,
        live: None,
    }
}

async fn call(stores: &Stores, tool: &str, args: Value) -> Value {
    let raw = serde_json::value::to_raw_value(&args).unwrap();
    let out = find(tool)
        .unwrap()
        .call(ctx(stores), raw)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    serde_json::from_str(out.structured.get()).unwrap()
}

fn stores_of<S: BarStore + RecordStore + 'static>(s: Arc<S>) -> Stores {
    Stores {
        bars: s.clone(),
        records: s,
        cipher: None,
        bus: None,
    }
}

/// Two daily snapshots of ACME: a near expiry with 240 strikes (480 quotes,
/// two chain records) and a far one with a few.
fn chain_csv() -> String {
    let mut out = String::from(
        "as_of,underlying,underlying_price,expiry,strike,right,bid,ask,volume,open_interest\n",
    );
    for (day, spot) in [("2026-11-27", 99.0), ("2026-11-30", 100.0)] {
        for i in 0..240u32 {
            let k = 40.0 + f64::from(i) * 0.5;
            for right in ["call", "put"] {
                let intrinsic: f64 = if right == "call" { spot - k } else { k - spot };
                let mid =
                    intrinsic.max(0.0) + 3.0 * (-((k - spot) / 15.0_f64).powi(2)).exp() + 0.05;
                let oi = 100 + (i * 37) % 900;
                let vol = 10 + (i * 13) % 200;
                out.push_str(&format!(
                    "{day}T21:00:00Z,ACME,{spot},2026-12-18,{k},{right},{:.2},{:.2},{vol},{oi}\n",
                    mid - 0.05,
                    mid + 0.05
                ));
            }
        }
        for (k, c, p) in [(90.0, 12.6, 3.1), (100.0, 6.4, 6.9), (110.0, 2.7, 13.2)] {
            out.push_str(&format!(
                "{day}T21:00:00Z,ACME,{spot},2027-06-18,{k},call,{c},{:.2},40,600\n",
                c + 0.2
            ));
            out.push_str(&format!(
                "{day}T21:00:00Z,ACME,{spot},2027-06-18,{k},put,{p},{:.2},30,700\n",
                p + 0.2
            ));
        }
    }
    out
}

const TRADES: &str = "time,symbol,price,size,exchange,bid,ask\n\
    2026-11-30T15:00:00.000Z,ACME  261218C00110000,2.55,300,CBOE,2.45,2.55\n\
    2026-11-30T15:00:00.150Z,ACME  261218C00110000,2.55,250,ISE,2.45,2.55\n\
    2026-11-30T15:00:00.300Z,ACME  261218C00110000,2.55,200,PHLX,2.45,2.55\n\
    2026-11-30T16:30:00Z,ACME  261218P00090000,1.30,1500,CBOE,1.30,1.40\n\
    2026-11-30T17:00:00Z,ACME  261218C00100000,3.10,5,BOX,3.00,3.10\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_engines_hold_and_answer_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = stores_of(Arc::new(
        gs_embedded_store::EmbeddedStore::open(dir.path()).unwrap(),
    ));
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("options");
    let dynamo = gs_dynamo_store::DynamoStore::from_config(&sdk, &table);
    gs_dynamo_store::table::create(dynamo.client(), &table)
        .await
        .unwrap();
    let dynamo = stores_of(Arc::new(dynamo));
    let chain = chain_csv();
    let mut answers: Vec<Vec<Value>> = Vec::new();
    for stores in [&embedded, &dynamo] {
        let imported = call(stores, "import_options", json!({"text": chain})).await;
        assert_eq!(imported["snapshots"], 2);
        assert_eq!(imported["contracts"], 2 * (480 + 6));
        let trades = call(stores, "import_options", json!({"text": TRADES})).await;
        assert_eq!(trades["prints"], 5);
        // Importing again rewrites the same records.
        call(stores, "import_options", json!({"text": TRADES})).await;
        let as_of = "2026-12-01T00:00:00Z";
        let mut got = vec![
            call(stores, "get_option_chain", json!({"symbol": "ACME", "as_of": as_of, "limit": 200})).await,
            call(stores, "get_option_chain", json!({"symbol": "ACME", "as_of": "2026-11-28", "max_expiries": 1, "strikes_around": 2})).await,
            call(stores, "get_put_call_ratio", json!({"symbol": "ACME", "as_of": as_of})).await,
            call(stores, "detect_unusual_activity", json!({"symbol": "ACME", "date": "2026-11-30"})).await,
            call(stores, "analyze_options_flow", json!({"symbol": "ACME", "as_of": as_of})).await,
        ];
        let chain_page = &got[0];
        assert_eq!(chain_page["matching"], 486, "{}", chain_page["matching"]);
        assert_eq!(got[2]["history"].as_array().unwrap().len(), 2);
        let hits = &got[3];
        assert_eq!(hits["prints_scanned"], 5);
        let kinds: Vec<&str> = hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"sweep") && kinds.contains(&"block"),
            "{kinds:?}"
        );
        // The flow split reads the day's prints: 755 calls bought at the ask
        // and a 1500-lot put sold at the bid, all bullish.
        let split = &got[4]["flow"]["split"];
        assert_eq!(split["bullish"]["contracts"], 2255, "{split}");
        assert_eq!(split["sold_puts"]["contracts"], 1500, "{split}");
        for v in &mut got {
            v.as_object_mut().unwrap().remove("next_cursor");
        }
        answers.push(got);
    }
    assert_eq!(answers[0], answers[1], "the engines answer differently");
}
