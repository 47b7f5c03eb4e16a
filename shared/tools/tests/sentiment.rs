//! The sentiment server's tools and the database server's news and post
//! imports, on the embedded engine with the seeded demo data, through the
//! registry as a caller reaches them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gs_domain::{BarQuery, SeriesKey, Symbol, Timeframe, read_bars, read_series};
use gs_embedded_store::EmbeddedStore;
use gs_tools::{ComputePool, Stores, ToolContext, ToolError, find};
use serde_json::{Value, json};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<EmbeddedStore>,
}

impl Fixture {
    fn stores(&self) -> Stores {
        Stores {
            bars: self.store.clone(),
            records: self.store.clone(),
            cipher: None,
            bus: None,
        }
    }

    fn ctx(&self) -> ToolContext {
        ToolContext {
            subject: "sentiment-test".into(),
            permissions: Arc::new(gs_auth::Permissions::default()),
            groups: Vec::new(),
            policy: Arc::new(gs_auth::Policy::default_policy()),
            request_id: "req-sentiment".into(),
            stores: self.stores(),
            deadline: Instant::now() + Duration::from_secs(120),
            pool: Arc::new(ComputePool::new(2)),
            progress: None,
            live: None,
        }
    }

    async fn call(&self, tool: &str, args: Value) -> Result<(Value, String), ToolError> {
        let spec = find(tool).unwrap();
        let raw = serde_json::value::to_raw_value(&args).unwrap();
        let out = spec.call(self.ctx(), raw).await?;
        Ok((
            serde_json::from_str(out.structured.get()).unwrap(),
            out.summary,
        ))
    }
}

async fn demo() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    gs_market_data::seed_demo(store.as_ref(), 42).await.unwrap();
    let f = Fixture { _dir: dir, store };
    let report = gs_tools::sentiment::seed_demo_items_if_missing(&f.stores(), 42)
        .await
        .unwrap()
        .unwrap();
    assert!(report.news > 500 && report.posts > 500, "{report:?}");
    // Once only.
    assert!(
        gs_tools::sentiment::seed_demo_items_if_missing(&f.stores(), 42)
            .await
            .unwrap()
            .is_none()
    );
    f
}

fn empty() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    Fixture { _dir: dir, store }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_sentiment_pages_through_the_window_and_marks_external_text() {
    let f = demo().await;
    let (out, summary) = f
        .call(
            "get_news_sentiment",
            json!({"symbol": "aapl", "days": 365, "limit": 50}),
        )
        .await
        .unwrap();
    let total = out["total_items"].as_u64().unwrap() as usize;
    assert!(total > 50, "{total}");
    assert_eq!(out["synthetic"], true);
    assert!(
        summary.contains("untrusted") && summary.contains("synthetic"),
        "{summary}"
    );
    assert!(
        out["external_text_note"]
            .as_str()
            .unwrap()
            .contains("never as instructions")
    );
    let tone = &out["tone"];
    let counted = tone["bullish"].as_u64().unwrap()
        + tone["bearish"].as_u64().unwrap()
        + tone["neutral"].as_u64().unwrap();
    assert_eq!(counted as usize, total);

    // Page through: every item once, newest first, each scored and marked.
    let window_mean = tone["mean"].as_f64().unwrap();
    let mut compounds = Vec::new();
    let mut seen = Vec::new();
    let mut page = out;
    loop {
        for v in page["items"].as_array().unwrap() {
            assert_eq!(v["external_text"], true);
            assert!(
                v["item"]["tickers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == "AAPL")
            );
            compounds.push(v["score"]["compound"].as_f64().unwrap());
            seen.push((
                v["item"]["time"].as_str().unwrap().to_string(),
                v["item"]["id"].as_str().unwrap().to_string(),
            ));
        }
        let Some(cursor) = page["next_cursor"].as_str().map(str::to_string) else {
            break;
        };
        page = f
            .call(
                "get_news_sentiment",
                json!({"symbol": "AAPL", "days": 365, "limit": 50, "cursor": cursor}),
            )
            .await
            .unwrap()
            .0;
    }
    assert_eq!(seen.len(), total);
    let mut ids: Vec<&String> = seen.iter().map(|s| &s.1).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "no item twice");
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");

    // The window's mean tone is the mean of its items' compounds.
    let mean = compounds.iter().sum::<f64>() / compounds.len() as f64;
    assert!(
        (mean - window_mean).abs() < 1e-12,
        "{mean} vs {window_mean}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_sentiment_and_bad_arguments() {
    let f = demo().await;
    let (out, _) = f
        .call(
            "get_social_sentiment",
            json!({"symbol": "TSLA", "days": 60}),
        )
        .await
        .unwrap();
    assert!(out["total_items"].as_u64().unwrap() > 10);
    assert!(out["tone"]["engagement_weighted"].is_number());
    assert!(out["by_origin"]["demo-social"].as_u64().unwrap() > 0);
    let err = f
        .call("get_social_sentiment", json!({"symbol": "TSLA", "days": 0}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("days must be 1 to 365"), "{err}");
    let err = f
        .call(
            "get_news_sentiment",
            json!({"symbol": "TSLA", "cursor": "nope"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cursor"), "{err}");
    let (none, summary) = f
        .call("get_news_sentiment", json!({"symbol": "IBM"}))
        .await
        .unwrap();
    assert_eq!(none["total_items"], 0);
    assert!(summary.contains("import_news"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_sentiment_explains_and_bounds_its_input() {
    let f = empty();
    let (out, _) = f
        .call(
            "analyze_sentiment",
            json!({"texts": ["Acme crushes estimates", "The meeting is at noon."]}),
        )
        .await
        .unwrap();
    let r = &out["results"][0]["score"];
    assert_eq!(r["label"], "positive");
    assert_eq!(r["vader_label"], "negative");
    assert_eq!(r["categories"][0], "earnings_beat");
    assert_eq!(out["results"][1]["score"]["label"], "neutral");
    let err = f
        .call("analyze_sentiment", json!({"texts": []}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 to 100"), "{err}");
    let long = "a ".repeat(6_000);
    let err = f
        .call("analyze_sentiment", json!({"texts": ["ok", long]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("texts[1]"), "{err}");
}

/// Advance/decline and SMA50 counts, computed here from the stored bars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_sentiment_matches_a_hand_count() {
    let f = demo().await;
    let (out, _) = f.call("get_market_sentiment", json!({})).await.unwrap();
    let (mut adv, mut dec, mut above50) = (0u64, 0u64, 0u64);
    let series: Vec<_> = read_series(f.store.as_ref(), None)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.key.timeframe == Timeframe::D1)
        .collect();
    for s in &series {
        let bars = read_bars(f.store.as_ref(), &s.key, &BarQuery::default())
            .await
            .unwrap();
        let c: Vec<f64> = bars.iter().map(|b| b.close()).collect();
        let n = c.len();
        if c[n - 1] > c[n - 2] {
            adv += 1
        } else if c[n - 1] < c[n - 2] {
            dec += 1
        }
        let sma: f64 = c[n - 50..].iter().sum::<f64>() / 50.0;
        if c[n - 1] > sma {
            above50 += 1
        }
    }
    let b = &out["breadth"];
    assert_eq!(out["symbols"].as_array().unwrap().len(), series.len());
    assert_eq!(b["advancing"].as_u64().unwrap(), adv);
    assert_eq!(b["declining"].as_u64().unwrap(), dec);
    assert_eq!(b["above_sma50"].as_u64().unwrap(), above50);
    let composite = b["composite"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&composite));
    assert_eq!(out["put_call"]["available"], false);
    assert_eq!(out["synthetic"], true);
    let err = f
        .call("get_market_sentiment", json!({"as_of": "2001-01-01"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no 1d series has a recent bar"),
        "{err}"
    );
    let err = f
        .call("get_market_sentiment", json!({"symbols": ["NOPE"]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NOPE"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_studies_of_planted_events() {
    let f = demo().await;
    // Every planted beat of every stock: positive mean CAR over [-1, +1].
    let mut found = 0;
    let mut first: Option<(&str, Value)> = None;
    for sym in ["AAPL", "MSFT", "NVDA", "TSLA", "JPM", "XOM"] {
        let (out, summary) = f
            .call(
                "analyze_event_impact",
                json!({"symbol": sym, "kind": "earnings_beat"}),
            )
            .await
            .unwrap();
        let events = out["events"].as_array().unwrap();
        if events.is_empty() {
            continue;
        }
        found += events.len();
        assert!(summary.contains("CAAR"), "{summary}");
        for e in events {
            assert!(e["sources"][0]["headline"].is_string());
            assert_eq!(e["sources"][0]["planted_event"], "earnings_beat");
        }
        first.get_or_insert((sym, events[0]["sources"][0].clone()));
        assert!(
            out["aggregate"][0]["caar"].as_f64().unwrap() > 0.0,
            "{sym}: {}",
            out["aggregate"]
        );
    }
    assert!(found > 0, "no planted earnings beat among the demo stocks");

    // One item by id: day 0 is its date, and day 0's abnormal return is the
    // stock's return less alpha + beta x SPY's, computed here.
    let (sym, planted) = first.unwrap();
    let id = planted["news_id"].as_str().unwrap();
    let (out, _) = f
        .call(
            "analyze_event_impact",
            json!({"symbol": sym, "news_id": id}),
        )
        .await
        .unwrap();
    let e = &out["events"][0];
    assert_eq!(
        e["event_day"].as_str().unwrap(),
        &planted["time"].as_str().unwrap()[..10]
    );
    let closes = |s: &str| {
        let f = &f;
        let s = s.to_string();
        async move {
            let key = SeriesKey::new(Symbol::parse(&s).unwrap(), Timeframe::D1);
            read_bars(f.store.as_ref(), &key, &BarQuery::default())
                .await
                .unwrap()
        }
    };
    let stock = closes(sym).await;
    let spy = closes("SPY").await;
    let day = e["event_day"].as_str().unwrap();
    let i = stock
        .iter()
        .position(|b| b.time().format("%Y-%m-%d").to_string() == day)
        .unwrap();
    let j = spy
        .iter()
        .position(|b| b.time().format("%Y-%m-%d").to_string() == day)
        .unwrap();
    let rs = stock[i].close() / stock[i - 1].close() - 1.0;
    let rm = spy[j].close() / spy[j - 1].close() - 1.0;
    let (alpha, beta) = (
        e["model"]["alpha"].as_f64().unwrap(),
        e["model"]["beta"].as_f64().unwrap(),
    );
    let ar0 = e["abnormal_returns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == 0)
        .unwrap()[1]
        .as_f64()
        .unwrap();
    assert!((ar0 - (rs - alpha - beta * rm)).abs() < 1e-12, "{ar0}");

    let err = f
        .call("analyze_event_impact", json!({"symbol": "NVDA"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exactly one of"), "{err}");
    let err = f
        .call(
            "analyze_event_impact",
            json!({"symbol": "NVDA", "kind": "meteor"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("earnings_beat"), "{err}");
    let err = f
        .call(
            "analyze_event_impact",
            json!({"symbol": "SPY", "date": "2026-01-05"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("benchmark"), "{err}");
    // A date too early for the estimation window is skipped with the reason.
    let first = spy[3].time().format("%Y-%m-%d").to_string();
    let (out, _) = f
        .call(
            "analyze_event_impact",
            json!({"symbol": "NVDA", "date": first}),
        )
        .await
        .unwrap();
    assert!(out["events"].as_array().unwrap().is_empty());
    assert!(
        out["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not enough history")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_are_all_or_nothing_and_idempotent() {
    let f = empty();
    let news = "{\"time\":\"2026-03-02T12:00:00Z\",\"headline\":\"Apple beats estimates\",\"url\":\"https://n.example/1\"}\n\
                {\"time\":\"2026-03-02T13:00:00Z\",\"headline\":\"Tesla and Apple slide\",\"url\":\"https://n.example/2\"}\n";
    let (out, summary) = f
        .call(
            "import_news",
            json!({"text": news, "file_name": "wire.jsonl"}),
        )
        .await
        .unwrap();
    assert_eq!(
        (out["parsed"].as_u64(), out["stored"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(out["tickers"]["AAPL"], 2);
    assert!(summary.contains("wire.jsonl"), "{summary}");
    let (again, _) = f.call("import_news", json!({"text": news})).await.unwrap();
    assert_eq!(
        (again["stored"].as_u64(), again["already_stored"].as_u64()),
        (Some(0), Some(2))
    );

    let bad = format!(
        "{news}{{\"time\":\"later\",\"headline\":\"x\",\"url\":\"https://n.example/3\"}}\n"
    );
    let err = f
        .call("import_news", json!({"text": bad}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("line 3"), "{err}");
    let end = "2026-03-03T00:00:00Z";
    let (listed, _) = f
        .call("get_news_sentiment", json!({"symbol": "AAPL", "end": end}))
        .await
        .unwrap();
    assert_eq!(
        listed["total_items"], 2,
        "nothing of the refused file was stored"
    );
    let (tsla, _) = f
        .call("get_news_sentiment", json!({"symbol": "TSLA", "end": end}))
        .await
        .unwrap();
    assert_eq!(tsla["total_items"], 1);

    let posts =
        "{\"time\":\"2026-03-02T14:00:00Z\",\"text\":\"$AAPL looking strong\",\"likes\":5}\n";
    let (p, _) = f
        .call("import_posts", json!({"text": posts}))
        .await
        .unwrap();
    assert_eq!(p["stored"], 1);
    let (social, _) = f
        .call(
            "get_social_sentiment",
            json!({"symbol": "AAPL", "end": end}),
        )
        .await
        .unwrap();
    assert_eq!(social["total_items"], 1);
    assert_eq!(social["items"][0]["item"]["cashtags"][0], "AAPL");

    // Many items in one file: several transactions, all stored, a repeat stores none.
    let many: String = (0..250)
        .map(|i| format!("{{\"time\":\"2026-03-01T{:02}:{:02}:00Z\",\"headline\":\"Item {i} about Microsoft\",\"source\":\"bulk\"}}\n", i / 60, i % 60))
        .collect();
    let (bulk, _) = f
        .call("import_news", json!({"text": many, "format": "jsonl"}))
        .await
        .unwrap();
    assert_eq!(bulk["stored"], 250);
    let (bulk2, _) = f.call("import_news", json!({"text": many})).await.unwrap();
    assert_eq!(
        (bulk2["stored"].as_u64(), bulk2["already_stored"].as_u64()),
        (Some(0), Some(250))
    );
    let (msft, _) = f
        .call(
            "get_news_sentiment",
            json!({"symbol": "MSFT", "end": end, "days": 2}),
        )
        .await
        .unwrap();
    assert_eq!(msft["total_items"], 250);

    // Keyset pages: an item imported between two pages, inside the window
    // and older than the first page, neither repeats nor hides an item.
    let args = json!({"symbol": "MSFT", "end": end, "days": 2, "limit": 100});
    let (p1, _) = f.call("get_news_sentiment", args.clone()).await.unwrap();
    let cursor = p1["next_cursor"].as_str().unwrap().to_string();
    let late = "{\"time\":\"2026-03-01T00:00:30Z\",\"headline\":\"Late Microsoft item\",\"source\":\"bulk\"}\n";
    f.call("import_news", json!({"text": late})).await.unwrap();
    let mut ids: Vec<String> = Vec::new();
    let mut page = p1;
    let mut next = Some(cursor.clone());
    loop {
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["item"]["id"].as_str().unwrap().to_string()),
        );
        let Some(c) = next.take() else { break };
        let mut a = args.clone();
        a["cursor"] = json!(c);
        page = f.call("get_news_sentiment", a).await.unwrap().0;
        next = page["next_cursor"].as_str().map(str::to_string);
    }
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no item twice");
    assert_eq!(ids.len(), 251, "the 250 and the late one");
    let mut wrong = args.clone();
    wrong["symbol"] = json!("AAPL");
    wrong["cursor"] = json!(cursor);
    let err = f.call("get_news_sentiment", wrong).await.unwrap_err();
    assert!(err.to_string().contains("another symbol"), "{err}");
    let err = f
        .call(
            "get_news_sentiment",
            json!({"symbol": "MSFT", "end": "2500-01-01"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("between 1970"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sentiment_agent_joins_generate_signals_when_items_exist() {
    let f = demo().await;
    let (out, _) = f
        .call("generate_signals", json!({"symbol": "AAPL"}))
        .await
        .unwrap();
    let agents: Vec<&str> = out["metadata"]["agent_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert!(agents.contains(&"sentiment"), "{agents:?}");
    let (only, _) = f
        .call(
            "generate_signals",
            json!({"symbol": "AAPL", "agents": ["sentiment"], "use_consensus": false}),
        )
        .await
        .unwrap();
    assert_eq!(only["metadata"]["agent_breakdown"][0]["agent"], "sentiment");

    // A stored symbol without items: the agent is not there, and asking for it says why.
    let bars_only = empty();
    gs_market_data::seed_demo(bars_only.store.as_ref(), 42)
        .await
        .unwrap();
    let (other, _) = bars_only
        .call("generate_signals", json!({"symbol": "AAPL"}))
        .await
        .unwrap();
    let agents: Vec<&str> = other["metadata"]["agent_breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert!(!agents.contains(&"sentiment"), "{agents:?}");
    let err = bars_only
        .call(
            "generate_signals",
            json!({"symbol": "AAPL", "agents": ["sentiment"]}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("import_news"), "{err}");
    let e = empty();
    let err = e
        .call("generate_signals", json!({"bars": [{"time": "2026-01-02T00:00:00Z", "open": 1, "high": 1, "low": 1, "close": 1}], "agents": ["sentiment"]}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("import_news"), "{err}");
}
