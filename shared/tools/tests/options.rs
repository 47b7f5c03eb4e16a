//! The options-flow server's tools and the database server's option
//! import, on the embedded engine with the seeded demo data, through the
//! registry as a caller reaches them. The put/call ratio, max pain, the
//! gamma flip and the expected move are checked against computations of
//! this test's own (its own Black-Scholes gamma, its own sums), and the
//! planted sweeps and blocks of the demo data against what the detector
//! finds.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
            subject: "options-test".into(),
            permissions: Arc::new(gs_auth::Permissions::default()),
            groups: Vec::new(),
            policy: Arc::new(gs_auth::Policy::default_policy()),
            request_id: "req-options".into(),
            stores: self.stores(),
            deadline: Instant::now() + Duration::from_secs(300),
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

    async fn ok(&self, tool: &str, args: Value) -> Value {
        self.call(tool, args.clone())
            .await
            .unwrap_or_else(|e| panic!("{tool} {args}: {e}"))
            .0
    }

    /// Every contract of a chain query, through all its pages.
    async fn all_rows(&self, mut args: Value) -> (Value, Vec<Value>) {
        args["limit"] = json!(200);
        let mut rows = Vec::new();
        let mut seen_offsets = 0;
        loop {
            let out = self.ok("get_option_chain", args.clone()).await;
            rows.extend(out["contracts"].as_array().unwrap().iter().cloned());
            seen_offsets += 1;
            assert!(seen_offsets < 100, "runaway paging");
            match out["next_cursor"].as_str() {
                Some(c) => args["cursor"] = json!(c),
                None => return (out, rows),
            }
        }
    }
}

async fn demo() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    gs_market_data::seed_demo(store.as_ref(), 42).await.unwrap();
    let f = Fixture { _dir: dir, store };
    let report = gs_tools::options::seed_demo_options_if_missing(&f.stores(), 42)
        .await
        .unwrap()
        .unwrap();
    // Seven equities (BTC-USD has no option root), ten snapshots each.
    assert_eq!(report.symbols, 7, "{report:?}");
    assert_eq!(report.snapshots, 70, "{report:?}");
    assert!(report.prints > 1000 && report.planted > 0, "{report:?}");
    assert!(
        gs_tools::options::seed_demo_options_if_missing(&f.stores(), 42)
            .await
            .unwrap()
            .is_none(),
        "seeded twice"
    );
    f
}

fn empty() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    Fixture { _dir: dir, store }
}

/// Black-Scholes gamma, written out here (not the library's).
fn bs_gamma(s: f64, k: f64, t: f64, r: f64, q: f64, vol: f64) -> f64 {
    let sd = vol * t.sqrt();
    let d1 = ((s / k).ln() + (r - q + 0.5 * vol * vol) * t) / sd;
    (-q * t).exp() * (-0.5 * d1 * d1).exp() / (2.0 * std::f64::consts::PI).sqrt() / (s * sd)
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_filters_page_and_price_every_contract() {
    let f = demo().await;
    let args = json!({"symbol": "AAPL", "max_expiries": 3, "strikes_around": 4});
    let (first, rows) = f.all_rows(args.clone()).await;
    assert_eq!(first["synthetic"], true);
    let spot = num(&first["underlying_price"]);
    let expiries: BTreeSet<&str> = rows.iter().map(|r| r["expiry"].as_str().unwrap()).collect();
    assert_eq!(expiries.len(), 3);
    // 4 strikes each side, calls and puts: 16 per expiry.
    assert_eq!(rows.len(), 3 * 16, "{}", rows.len());
    assert_eq!(first["matching"], 48);
    let mut occs = HashSet::new();
    for r in &rows {
        assert!(
            occs.insert(r["occ"].as_str().unwrap().to_string()),
            "duplicate across pages"
        );
        assert_eq!(r["occ"].as_str().unwrap().len(), 21);
        let iv = num(&r["iv"]);
        assert!((0.05..3.0).contains(&iv), "{r}");
        let g = &r["greeks"];
        // The Greeks are at the implied vol: the model price is the mid.
        assert!(
            (num(&g["price"]) - num(&r["mid"])).abs() < 1e-6 * num(&r["mid"]).max(1.0),
            "{r}"
        );
        let delta = num(&g["delta"]);
        match r["right"].as_str().unwrap() {
            "call" => assert!((0.0..=1.0).contains(&delta)),
            _ => assert!((-1.0..=0.0).contains(&delta)),
        }
        assert!(num(&g["gamma"]) >= 0.0 && num(&g["vega"]) >= 0.0);
        assert!(num(&r["bid"]) <= num(&r["ask"]));
    }
    // Small pages cover the same contracts, in the same order.
    let mut paged = Vec::new();
    let mut a = args.clone();
    a["limit"] = json!(7);
    loop {
        let out = f.ok("get_option_chain", a.clone()).await;
        paged.extend(
            out["contracts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["occ"].as_str().unwrap().to_string()),
        );
        match out["next_cursor"].as_str() {
            Some(c) => a["cursor"] = json!(c),
            None => break,
        }
    }
    let all: Vec<String> = rows
        .iter()
        .map(|r| r["occ"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paged, all);
    // A cursor belongs to its arguments.
    let page = f
        .ok(
            "get_option_chain",
            json!({"symbol": "AAPL", "max_expiries": 3, "strikes_around": 4, "limit": 5}),
        )
        .await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let err = f
        .call(
            "get_option_chain",
            json!({"symbol": "AAPL", "max_expiries": 2, "cursor": cursor}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cursor"), "{err}");
    // The binomial model on a whole chain is refused with what to narrow.
    let err = f
        .call(
            "get_option_chain",
            json!({"symbol": "AAPL", "model": "binomial", "steps": 2000}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("contracts x steps") && err.contains("strikes_around"),
        "{err}"
    );
    let small = f
        .ok(
            "get_option_chain",
            json!({"symbol": "AAPL", "model": "binomial", "max_expiries": 1, "strikes_around": 2}),
        )
        .await;
    assert_eq!(small["matching"], 8);
    let err = f
        .call(
            "analyze_options_flow",
            json!({"symbol": "AAPL", "model": "bachelier"}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Black"), "{err}");
    // Delta and moneyness filters.
    let (_, wings) = f
        .all_rows(json!({"symbol": "AAPL", "max_expiries": 2, "delta_min": 0.2, "delta_max": 0.3, "right": "put"}))
        .await;
    assert!(!wings.is_empty());
    for r in &wings {
        let d = num(&r["greeks"]["delta"]).abs();
        assert!((0.2..=0.3).contains(&d) && r["right"] == "put", "{r}");
    }
    let (_, near) = f
        .all_rows(json!({"symbol": "AAPL", "max_expiries": 1, "moneyness_min": 0.95, "moneyness_max": 1.05}))
        .await;
    for r in &near {
        assert!((num(&r["strike"]) / spot - 1.0).abs() <= 0.05 + 1e-12);
    }
    // Unknown symbol: a typed not-found that says what to do.
    let err = f
        .call("get_option_chain", json!({"symbol": "ZZZZ"}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound(_)), "{err}");
    assert!(err.to_string().contains("import_options"), "{err}");
    let err = f
        .call("get_option_chain", json!({"symbol": "BTC-USD"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("option roots"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeks_and_implied_vol_inline_and_for_stored_contracts() {
    let f = empty();
    let out = f
        .ok(
            "calculate_greeks",
            json!({"right": "call", "underlying_price": 100.0, "strike": 105.0, "days": 73.0, "vol": 0.3, "rate": 0.05, "dividend": 0.01}),
        )
        .await;
    let lib = gs_options::european::bsm(&gs_options::BlackInputs {
        right: gs_options::Right::Call,
        spot: 100.0,
        strike: 105.0,
        t: 73.0 / 365.0,
        rate: 0.05,
        dividend: 0.01,
        vol: 0.3,
    })
    .unwrap();
    assert_eq!(out["model"], "black_scholes");
    assert!((num(&out["greeks"]["price"]) - lib.price).abs() < 1e-12);
    assert!((num(&out["per_contract"]["delta_shares"]) - lib.delta * 100.0).abs() < 1e-9);
    // American put by every American model: close to each other, above European.
    let mut prices = Vec::new();
    for model in ["barone_adesi_whaley", "bjerksund_stensland", "binomial"] {
        let o = f
            .ok(
                "calculate_greeks",
                json!({"right": "put", "underlying_price": 100.0, "strike": 110.0, "days": 365.0, "vol": 0.25, "style": "american", "model": model, "steps": 500}),
            )
            .await;
        assert_eq!(o["model"], model);
        prices.push(num(&o["greeks"]["price"]));
    }
    let european = f
        .ok(
            "calculate_greeks",
            json!({"right": "put", "underlying_price": 100.0, "strike": 110.0, "days": 365.0, "vol": 0.25}),
        )
        .await;
    for p in &prices {
        assert!(
            *p > num(&european["greeks"]["price"]) && (p - prices[2]).abs() < 0.01 * prices[2],
            "{prices:?}"
        );
    }
    // Implied vol round trip, and a price below the lower bound is refused by name.
    let iv = f
        .ok(
            "implied_volatility",
            json!({"price": lib.price, "right": "call", "underlying_price": 100.0, "strike": 105.0, "days": 73.0, "rate": 0.05, "dividend": 0.01}),
        )
        .await;
    assert!((num(&iv["estimates"][0]["iv"]) - 0.3).abs() < 1e-12, "{iv}");
    let err = f
        .call(
            "implied_volatility",
            json!({"price": 1.0, "right": "call", "underlying_price": 100.0, "strike": 90.0, "days": 30.0}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("lower bound") || err.contains("below"),
        "{err}"
    );
    let err = f
        .call(
            "implied_volatility",
            json!({"price": 101.0, "right": "call", "underlying_price": 100.0, "strike": 90.0, "days": 30.0}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("upper bound") && err.contains("worth less than the underlying"),
        "{err}"
    );
    // A European tree: European bounds and price (a deep ITM European put
    // is worth less than its intrinsic value).
    let euro = f
        .ok(
            "calculate_greeks",
            json!({"right": "put", "underlying_price": 100.0, "strike": 150.0, "days": 365.0, "vol": 0.2, "rate": 0.04, "model": "binomial", "steps": 400}),
        )
        .await;
    let p = num(&euro["greeks"]["price"]);
    assert!(p < 50.0, "{p}");
    let iv = f
        .ok(
            "implied_volatility",
            json!({"price": p, "right": "put", "underlying_price": 100.0, "strike": 150.0, "days": 365.0, "rate": 0.04, "model": "binomial", "steps": 400}),
        )
        .await;
    assert!((num(&iv["estimates"][0]["iv"]) - 0.2).abs() < 1e-8, "{iv}");
    assert!(num(&iv["upper_bound"]) < 150.0);
    // Missing inputs name what is needed.
    let err = f
        .call(
            "calculate_greeks",
            json!({"right": "call", "strike": 100.0}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("underlying_price") && err.contains("contract"),
        "{err}"
    );
    let err = f
        .call(
            "calculate_greeks",
            json!({"right": "call", "underlying_price": 100.0, "strike": 100.0, "days": 30, "vol": 25}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("0.25 for 25%"), "{err}");

    let f = demo().await;
    let chain = f
        .ok(
            "get_option_chain",
            json!({"symbol": "MSFT", "max_expiries": 2, "strikes_around": 1, "right": "put"}),
        )
        .await;
    let row = &chain["contracts"][0];
    let occ = row["occ"].as_str().unwrap();
    let g = f.ok("calculate_greeks", json!({"contract": occ})).await;
    assert_eq!(g["synthetic"], true);
    assert_eq!(g["inputs"]["contract"], occ);
    assert!((num(&g["vol"]) - num(&row["iv"])).abs() < 1e-12);
    assert!((num(&g["greeks"]["delta"]) - num(&row["greeks"]["delta"])).abs() < 1e-12);
    // The compact OCC form names the same contract.
    let compact: String = occ.split_whitespace().collect();
    let g2 = f.ok("calculate_greeks", json!({"contract": compact})).await;
    assert_eq!(g2["inputs"]["contract"], occ);
    let iv = f.ok("implied_volatility", json!({"contract": occ})).await;
    let sources: Vec<&str> = iv["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&"mid") && sources.contains(&"ask"), "{iv}");
    let by = |s: &str| {
        iv["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source"] == s)
            .and_then(|e| e["iv"].as_f64())
    };
    if let (Some(bid), Some(mid), Some(ask)) = (by("bid"), by("mid"), by("ask")) {
        assert!(bid <= mid && mid <= ask, "{iv}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_call_ratio_max_pain_gamma_flip_and_expected_move_match_independent_sums() {
    let f = demo().await;
    for symbol in ["AAPL", "TSLA"] {
        let (head, rows) = f.all_rows(json!({"symbol": symbol})).await;
        let spot = num(&head["underlying_price"]);
        // Put/call ratio: our own sums over every contract.
        let (mut cv, mut pv, mut coi, mut poi) = (0u64, 0u64, 0u64, 0u64);
        for r in &rows {
            let (v, oi) = (
                r["volume"].as_u64().unwrap(),
                r["open_interest"].as_u64().unwrap(),
            );
            if r["right"] == "call" {
                cv += v;
                coi += oi;
            } else {
                pv += v;
                poi += oi;
            }
        }
        let pcr = f
            .ok("get_put_call_ratio", json!({"symbol": symbol, "days": 10}))
            .await;
        assert_eq!(pcr["latest"]["call_volume"].as_u64().unwrap(), cv);
        assert_eq!(pcr["latest"]["put_open_interest"].as_u64().unwrap(), poi);
        assert!((num(&pcr["latest"]["volume_ratio"]) - pv as f64 / cv as f64).abs() < 1e-12);
        assert!(
            (num(&pcr["latest"]["open_interest_ratio"]) - poi as f64 / coi as f64).abs() < 1e-12
        );
        assert_eq!(pcr["history"].as_array().unwrap().len(), 10);
        assert_eq!(pcr["history"][0]["as_of"], head["as_of"]);

        let flow = f
            .ok("analyze_options_flow", json!({"symbol": symbol}))
            .await;
        assert_eq!(flow["synthetic"], true);
        // Max pain of the nearest expiry: brute force over its listed strikes.
        let mp = &flow["max_pain"][0];
        let expiry = mp["expiry"].as_str().unwrap();
        let of: Vec<&Value> = rows.iter().filter(|r| r["expiry"] == expiry).collect();
        let strikes: BTreeSet<u64> = of
            .iter()
            .map(|r| (num(&r["strike"]) * 1000.0) as u64)
            .collect();
        let payout = |s: f64| -> f64 {
            of.iter()
                .map(|r| {
                    let k = num(&r["strike"]);
                    let oi = r["open_interest"].as_u64().unwrap() as f64 * 100.0;
                    if r["right"] == "call" {
                        (s - k).max(0.0) * oi
                    } else {
                        (k - s).max(0.0) * oi
                    }
                })
                .sum()
        };
        let best = strikes
            .iter()
            .map(|k| *k as f64 / 1000.0)
            .min_by(|a, b| payout(*a).total_cmp(&payout(*b)))
            .unwrap();
        assert!(
            (num(&mp["strike"]) - best).abs() < 1e-9,
            "{symbol}: {} vs {best}",
            mp["strike"]
        );

        // Gamma flip: total dealer GEX by this test's own gamma changes sign
        // across it, and not between it and the spot.
        let gex = |s: f64| -> f64 {
            rows.iter()
                .filter_map(|r| {
                    let iv = r["iv"].as_f64()?;
                    let t = num(&r["days_to_expiry"]) / 365.0;
                    if t <= 0.0 || iv <= 0.0 {
                        return None;
                    }
                    let sign = if r["right"] == "call" { 1.0 } else { -1.0 };
                    let oi = r["open_interest"].as_u64().unwrap() as f64;
                    Some(
                        sign * bs_gamma(s, num(&r["strike"]), t, 0.04, 0.0, iv)
                            * oi
                            * 100.0
                            * s
                            * s
                            * 0.01,
                    )
                })
                .sum()
        };
        match flow["gamma_flip"].as_f64() {
            Some(flip) => {
                let (lo, hi) = (gex(flip * (1.0 - 2e-3)), gex(flip * (1.0 + 2e-3)));
                assert!(
                    lo * hi < 0.0,
                    "{symbol}: GEX {lo} / {hi} around the flip {flip}"
                );
                for i in 1..50 {
                    let s = flip + (spot - flip) * f64::from(i) / 50.0;
                    assert!(
                        gex(s).signum() == gex(spot).signum() || (s - flip).abs() < flip * 3e-3,
                        "{symbol}: a sign change nearer the spot at {s}"
                    );
                }
            }
            None => {
                for i in 0..=100 {
                    let s = spot * (0.5 + f64::from(i) / 100.0);
                    assert_eq!(
                        gex(s).signum(),
                        gex(spot).signum(),
                        "{symbol}: no flip reported but GEX changes sign at {s}"
                    );
                }
            }
        }
        // Expected move: the straddle at the strike nearest the spot.
        let em = &flow["expected_move"];
        let exp = em["expiry"].as_str().unwrap();
        let k = num(&em["strike"]);
        let mid = |right: &str| {
            rows.iter()
                .find(|r| {
                    r["expiry"] == exp
                        && r["right"] == right
                        && (num(&r["strike"]) - k).abs() < 1e-9
                })
                .map(|r| num(&r["mid"]))
                .unwrap()
        };
        assert!((num(&em["straddle"]) - (mid("call") + mid("put"))).abs() < 1e-9);
        let nearest = rows
            .iter()
            .filter(|r| r["expiry"] == exp)
            .map(|r| (num(&r["strike"]) - spot).abs())
            .fold(f64::MAX, f64::min);
        assert!(((k - spot).abs() - nearest).abs() < 1e-9);
        // Flow split adds up; IV rank within bounds; skew of equities: puts bid.
        let split = &flow["flow"]["split"];
        let parts = num(&split["bullish"]["premium"])
            + num(&split["bearish"]["premium"])
            + num(&split["neutral"]["premium"]);
        assert!((parts - num(&split["total_premium"])).abs() < 1e-6 * parts.max(1.0));
        let rank = &flow["iv_rank"];
        assert!((0.0..=100.0).contains(&num(&rank["percentile"])));
        assert!(num(&flow["skew"][0]["rr25"]) < 0.0, "{}", flow["skew"]);
        assert!(!flow["term_structure"].as_array().unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_sweeps_and_blocks_are_found() {
    let f = demo().await;
    let truth = gs_tools::options::generate_demo_options(&f.stores(), 42)
        .await
        .unwrap();
    let (mut planted, mut found, mut false_hits, mut prints) = (0usize, 0usize, 0usize, 0usize);
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for demo in &truth {
        let symbol = demo.snapshots[0].underlying.clone();
        let days: BTreeSet<chrono::NaiveDate> =
            demo.prints.iter().map(|p| p.time.date_naive()).collect();
        for day in days {
            let mut hits = Vec::new();
            let mut args = json!({"symbol": symbol, "date": day.to_string(), "kinds": ["sweep", "block"], "limit": 200});
            loop {
                let out = f.ok("detect_unusual_activity", args.clone()).await;
                assert_eq!(out["synthetic"], true);
                prints += if args.get("cursor").is_none() {
                    out["prints_scanned"].as_u64().unwrap() as usize
                } else {
                    0
                };
                hits.extend(out["hits"].as_array().unwrap().iter().cloned());
                match out["next_cursor"].as_str() {
                    Some(c) => args["cursor"] = json!(c),
                    None => break,
                }
            }
            let planted_today: Vec<&gs_options::demo::Planted> = demo
                .planted
                .iter()
                .filter(|p| p.time.date_naive() == day)
                .collect();
            for p in &planted_today {
                planted += 1;
                let kind = format!("{:?}", p.kind).to_lowercase();
                let want: BTreeSet<&str> = p.print_ids.iter().map(String::as_str).collect();
                let hit = hits.iter().any(|h| {
                    h["kind"] == kind.as_str()
                        && h["print_ids"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_str().unwrap())
                            .collect::<BTreeSet<_>>()
                            == want
                });
                let e = by_kind.entry(kind).or_default();
                e.0 += 1;
                if hit {
                    found += 1;
                    e.1 += 1;
                }
            }
            for h in &hits {
                let ids: BTreeSet<&str> = h["print_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect();
                let matches = planted_today.iter().any(|p| {
                    p.print_ids
                        .iter()
                        .map(String::as_str)
                        .collect::<BTreeSet<_>>()
                        == ids
                });
                if !matches {
                    false_hits += 1;
                }
            }
        }
    }
    let per_1000 = false_hits as f64 / prints as f64 * 1000.0;
    println!(
        "planted sweeps and blocks: {found}/{planted} found ({by_kind:?}); {false_hits} false sweep/block hits over {prints} prints ({per_1000:.3} per 1000)"
    );
    assert!(planted >= 20, "{planted}");
    assert_eq!(found, planted, "recall below 100%: {by_kind:?}");
    assert_eq!(false_hits, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_options_is_all_or_nothing_and_idempotent() {
    let f = empty();
    let chain = "as_of,underlying,underlying_price,symbol,bid,ask,last,volume,open_interest\n\
        2026-11-30T21:00:00Z,ACME,100,ACME  261218C00100000,4.10,4.30,4.20,120,1500\n\
        2026-11-30T21:00:00Z,ACME,100,ACME  261218P00100000,3.60,3.80,,80,1200\n\
        2026-11-30T21:00:00Z,ACME,100,ACME  261218C00110000,1.05,1.15,1.10,300,900\n\
        2026-11-30T21:00:00Z,ACME,100,ACME  261218P00090000,0.95,1.05,1.00,50,2000\n";
    let (out, summary) = f
        .call(
            "import_options",
            json!({"text": chain, "file_name": "acme.csv"}),
        )
        .await
        .unwrap();
    assert_eq!(out["kind"], "chain");
    assert_eq!(out["snapshots"], 1);
    assert_eq!(out["contracts"], 4);
    assert!(summary.contains("acme.csv"), "{summary}");
    let got = f
        .ok(
            "get_option_chain",
            json!({"symbol": "ACME", "as_of": "2026-12-01"}),
        )
        .await;
    assert_eq!(got["synthetic"], false);
    assert_eq!(got["matching"], 4);
    assert_eq!(got["underlying_price"], 100.0);
    // The same file again: the same records.
    f.ok("import_options", json!({"text": chain})).await;
    let again = f
        .ok(
            "get_option_chain",
            json!({"symbol": "ACME", "as_of": "2026-12-01"}),
        )
        .await;
    assert_eq!(again["matching"], 4);
    // A corrected snapshot (one contract dropped, one price changed)
    // replaces the old one whole.
    let corrected: String = chain
        .lines()
        .filter(|l| !l.contains("261218P00090000"))
        .map(|l| l.replace("4.10,4.30", "4.00,4.20"))
        .collect::<Vec<_>>()
        .join("\n");
    f.ok("import_options", json!({"text": corrected})).await;
    let fixed = f
        .ok(
            "get_option_chain",
            json!({"symbol": "ACME", "as_of": "2026-12-01"}),
        )
        .await;
    assert_eq!(fixed["matching"], 3, "{fixed}");
    assert!(
        fixed["contracts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["bid"] == 4.0)
    );
    f.ok("import_options", json!({"text": chain})).await;
    let pcr = f
        .ok(
            "get_put_call_ratio",
            json!({"symbol": "ACME", "as_of": "2026-12-01"}),
        )
        .await;
    assert_eq!(pcr["history"].as_array().unwrap().len(), 1);
    assert!((num(&pcr["latest"]["volume_ratio"]) - 130.0 / 420.0).abs() < 1e-12);

    let trades = "time,symbol,price,size,exchange,bid,ask\n\
        2026-11-30T15:00:00.000Z,ACME  261218C00110000,1.15,300,CBOE,1.05,1.15\n\
        2026-11-30T15:00:00.100Z,ACME  261218C00110000,1.15,250,ISE,1.05,1.15\n\
        2026-11-30T15:00:00.200Z,ACME  261218C00110000,1.15,200,PHLX,1.05,1.15\n\
        2026-11-30T16:00:00Z,ACME  261218P00090000,1.00,2000,CBOE,0.95,1.05\n";
    let out = f.ok("import_options", json!({"text": trades})).await;
    assert_eq!(out["kind"], "trades");
    assert_eq!(out["prints"], 4);
    f.ok("import_options", json!({"text": trades, "kind": "trades"}))
        .await;
    let hits = f
        .ok(
            "detect_unusual_activity",
            json!({"symbol": "ACME", "date": "2026-11-30"}),
        )
        .await;
    assert_eq!(
        hits["prints_scanned"], 4,
        "re-import duplicated prints: {hits}"
    );
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
    let sweep = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "sweep")
        .unwrap();
    assert_eq!(sweep["side"], "bought");
    assert_eq!(sweep["size"], 750);

    // A bad line refuses the whole file, by line number, and stores nothing.
    let bad = "as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest\n\
        2026-11-29T21:00:00Z,WIDG,50,WIDG  261218C00050000,2.0,2.2,10,100\n\
        2026-11-29T21:00:00Z,WIDG,50,WIDG  261218C00055000,2.5,2.2,10,100\n";
    let err = f
        .call("import_options", json!({"text": bad}))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidInput(_)));
    assert!(err.to_string().contains("line 3"), "{err}");
    let none = f
        .call("get_option_chain", json!({"symbol": "WIDG"}))
        .await
        .unwrap_err();
    assert!(matches!(none, ToolError::NotFound(_)), "{none}");
    let err = f
        .call("import_options", json!({"text": "a,b\n1,2\n"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("kind"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_sentiment_counts_the_put_call_ratio_of_stored_chains() {
    let f = demo().await;
    let out = f.ok("get_market_sentiment", json!({})).await;
    let pc = &out["put_call"];
    assert_eq!(pc["available"], true, "{pc}");
    let symbols: Vec<&str> = pc["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(symbols.len(), 7, "{symbols:?}");
    let (mut puts, mut calls) = (0u64, 0u64);
    for s in &symbols {
        let r = f
            .ok("get_put_call_ratio", json!({"symbol": s, "days": 1}))
            .await;
        puts += r["latest"]["put_volume"].as_u64().unwrap();
        calls += r["latest"]["call_volume"].as_u64().unwrap();
    }
    let ratio = puts as f64 / calls as f64;
    assert!((num(&pc["ratio"]) - ratio).abs() < 1e-12);
    let component = out["breadth"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "put_call_ratio")
        .expect("a put/call component");
    let score = ((1.2 - ratio) / 0.7 * 100.0).clamp(0.0, 100.0);
    assert!((num(&component["score"]) - score).abs() < 1e-9);
    let scores: Vec<f64> = out["breadth"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["score"].as_f64())
        .collect();
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    assert!((num(&out["breadth"]["composite"]) - mean).abs() < 1e-9);
}
