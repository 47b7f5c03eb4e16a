//! Side inference, unusual-activity detection on hand-made prints, and the
//! detector measured against the demo generator's planted sweeps and blocks.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use gs_options::demo::{
    self, DemoConfig, DemoError, DemoOptions, DemoUnderlying, PlantedKind, VolSurface,
};
use gs_options::flow::{
    self, ContractContext, FlowConfig, HitKind, Side, UnusualHit, infer_side, print_side,
};
use gs_options::{Contract, ExerciseStyle, Right, TradePrint};

// ---------- helpers ----------

fn contract(strike: f64, right: Right) -> Contract {
    Contract {
        underlying: "ACME".to_string(),
        expiry: NaiveDate::from_ymd_opt(2025, 2, 21).unwrap(),
        strike,
        right,
        multiplier: 100,
        style: ExerciseStyle::American,
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 15, 0, 0).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn print(
    id: &str,
    c: &Contract,
    ms: i64,
    exchange: &str,
    size: u32,
    price: f64,
    bid: f64,
    ask: f64,
) -> TradePrint {
    TradePrint {
        id: id.to_string(),
        contract: c.clone(),
        time: t0() + Duration::milliseconds(ms),
        price,
        size,
        exchange: exchange.to_string(),
        condition: None,
        bid: Some(bid),
        ask: Some(ask),
        underlying_price: Some(100.0),
    }
}

fn of_kind(hits: &[UnusualHit], kind: HitKind) -> Vec<&UnusualHit> {
    hits.iter().filter(|h| h.kind == kind).collect()
}

fn no_context() -> HashMap<String, ContractContext> {
    HashMap::new()
}

// ---------- side ----------

#[test]
fn side_against_the_nbbo() {
    // 0.90 x 1.00: spread 0.10, tolerance max(0.01, 0.01) = 0.01.
    assert_eq!(infer_side(1.00, 0.90, 1.00), Side::Bought);
    assert_eq!(infer_side(1.05, 0.90, 1.00), Side::Bought);
    assert_eq!(infer_side(0.99, 0.90, 1.00), Side::Bought);
    assert_eq!(infer_side(0.98, 0.90, 1.00), Side::Mid);
    assert_eq!(infer_side(0.95, 0.90, 1.00), Side::Mid);
    assert_eq!(infer_side(0.92, 0.90, 1.00), Side::Mid);
    assert_eq!(infer_side(0.91, 0.90, 1.00), Side::Sold);
    assert_eq!(infer_side(0.90, 0.90, 1.00), Side::Sold);
    assert_eq!(infer_side(0.80, 0.90, 1.00), Side::Sold);
    // Wide: 1.00 x 2.00, tolerance 0.10.
    assert_eq!(infer_side(1.90, 1.00, 2.00), Side::Bought);
    assert_eq!(infer_side(1.89, 1.00, 2.00), Side::Mid);
    assert_eq!(infer_side(1.10, 1.00, 2.00), Side::Sold);
    assert_eq!(infer_side(1.11, 1.00, 2.00), Side::Mid);
    // Two-cent spread: the mid belongs to neither edge.
    assert_eq!(infer_side(1.01, 1.00, 1.02), Side::Mid);
    assert_eq!(infer_side(1.02, 1.00, 1.02), Side::Bought);
    assert_eq!(infer_side(1.00, 1.00, 1.02), Side::Sold);
    // One-cent spread: the edges themselves.
    assert_eq!(infer_side(1.01, 1.00, 1.01), Side::Bought);
    assert_eq!(infer_side(1.00, 1.00, 1.01), Side::Sold);
    // Locked market.
    assert_eq!(infer_side(1.00, 1.00, 1.00), Side::Mid);
    assert_eq!(infer_side(1.01, 1.00, 1.00), Side::Bought);
    assert_eq!(infer_side(0.99, 1.00, 1.00), Side::Sold);
    // No bid: a print at the ask is bought.
    assert_eq!(infer_side(0.05, 0.0, 0.05), Side::Bought);
    // Unusable quotes.
    assert_eq!(infer_side(1.0, 1.10, 1.00), Side::Unknown);
    assert_eq!(infer_side(1.0, -0.1, 1.00), Side::Unknown);
    assert_eq!(infer_side(1.0, 0.0, 0.0), Side::Unknown);
    assert_eq!(infer_side(f64::NAN, 0.9, 1.0), Side::Unknown);
}

#[test]
fn side_falls_back_to_the_context_quote() {
    let c = contract(100.0, Right::Call);
    let mut p = print("a", &c, 0, "CBOE", 10, 2.00, 1.90, 2.00);
    assert_eq!(print_side(&p, Some((2.00, 2.10))), Side::Bought); // own quote wins
    p.bid = None;
    assert_eq!(print_side(&p, Some((2.00, 2.10))), Side::Sold); // half a quote: fallback
    assert_eq!(print_side(&p, None), Side::Unknown);
    p.ask = None;
    assert_eq!(print_side(&p, Some((1.80, 2.00))), Side::Bought);
}

// ---------- sweeps and blocks on hand-made prints ----------

#[test]
fn a_sweep_across_four_exchanges() {
    let c = contract(105.0, Right::Call);
    let prints = vec![
        print("s1", &c, 0, "CBOE", 400, 2.45, 2.40, 2.45),
        print("s2", &c, 80, "ISE", 300, 2.45, 2.40, 2.45),
        print("s3", &c, 150, "PHLX", 300, 2.46, 2.40, 2.45),
        print("s4", &c, 300, "MIAX", 200, 2.45, 2.40, 2.45),
        print("bg", &c, 60_000, "CBOE", 5, 2.42, 2.40, 2.45),
    ];
    let mut ctx = HashMap::new();
    ctx.insert(
        gs_options::occ::format(&c),
        ContractContext {
            open_interest: 390,
            volume: 1_205,
            ..ContractContext::default()
        },
    );
    let hits = flow::detect(&prints, &ctx, &FlowConfig::default());
    let sweeps = of_kind(&hits, HitKind::Sweep);
    assert_eq!(sweeps.len(), 1, "{hits:#?}");
    let s = sweeps[0];
    assert_eq!(s.print_ids, ["s1", "s2", "s3", "s4"]);
    assert_eq!(s.exchanges, ["CBOE", "ISE", "MIAX", "PHLX"]);
    assert_eq!(s.size, 1_200);
    assert_eq!(s.side, Side::Bought);
    assert_eq!(s.duration_ms, 300);
    assert_eq!(s.time, t0());
    let premium = (400.0 * 2.45 + 300.0 * 2.45 + 300.0 * 2.46 + 200.0 * 2.45) * 100.0;
    assert!((s.premium - premium).abs() < 1e-6);
    assert!((s.vwap - premium / 120_000.0).abs() < 1e-9);
    assert!(s.score > 50.0 && s.score <= 100.0, "{}", s.score);
    let text = s.reasons.join("; ");
    assert!(
        text.contains("1,200 contracts bought across 4 exchanges"),
        "{text}"
    );
    assert!(text.contains("in 0.3 s"), "{text}");
    assert!(text.contains("3.1x open interest of 390"), "{text}");
    assert!(text.contains("bullish"), "{text}");
    // No leg is block-sized; the volume rule fires (1,205 > 390 OI).
    assert!(of_kind(&hits, HitKind::Block).is_empty());
    assert_eq!(of_kind(&hits, HitKind::VolumeOverOi).len(), 1);
    // Sorted by score.
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    eprintln!("sweep reasons: {text}");
}

#[test]
fn sweep_near_misses() {
    let c = contract(105.0, Right::Call);
    let cfg = FlowConfig::default();
    let sweeps = |ps: &[TradePrint]| {
        flow::detect(ps, &no_context(), &cfg)
            .into_iter()
            .filter(|h| h.kind == HitKind::Sweep)
            .count()
    };

    // Two exchanges only.
    let two = [
        print("a", &c, 0, "CBOE", 200, 2.45, 2.40, 2.45),
        print("b", &c, 50, "ISE", 200, 2.45, 2.40, 2.45),
        print("c", &c, 100, "CBOE", 200, 2.45, 2.40, 2.45),
    ];
    assert_eq!(sweeps(&two), 0);
    // Window exceeded: the third exchange comes 501 ms after the first.
    let late = [
        print("a", &c, 0, "CBOE", 200, 2.45, 2.40, 2.45),
        print("b", &c, 50, "ISE", 200, 2.45, 2.40, 2.45),
        print("c", &c, 501, "PHLX", 200, 2.45, 2.40, 2.45),
    ];
    assert_eq!(sweeps(&late), 0);
    // ...but 500 ms exactly is inside.
    let edge = [
        print("a", &c, 0, "CBOE", 200, 2.45, 2.40, 2.45),
        print("b", &c, 50, "ISE", 200, 2.45, 2.40, 2.45),
        print("c", &c, 500, "PHLX", 200, 2.45, 2.40, 2.45),
    ];
    assert_eq!(sweeps(&edge), 1);
    // Mixed sides: one leg at the bid.
    let mixed = [
        print("a", &c, 0, "CBOE", 200, 2.45, 2.40, 2.45),
        print("b", &c, 50, "ISE", 200, 2.40, 2.40, 2.45),
        print("c", &c, 100, "PHLX", 200, 2.45, 2.40, 2.45),
    ];
    assert_eq!(sweeps(&mixed), 0);
    // Mid prints never sweep.
    let mid = [
        print("a", &c, 0, "CBOE", 200, 2.425, 2.40, 2.45),
        print("b", &c, 50, "ISE", 200, 2.425, 2.40, 2.45),
        print("c", &c, 100, "PHLX", 200, 2.425, 2.40, 2.45),
    ];
    assert_eq!(sweeps(&mid), 0);
    // Too small: 3 exchanges, 60 contracts.
    let small = [
        print("a", &c, 0, "CBOE", 20, 2.45, 2.40, 2.45),
        print("b", &c, 50, "ISE", 20, 2.45, 2.40, 2.45),
        print("c", &c, 100, "PHLX", 20, 2.45, 2.40, 2.45),
    ];
    assert_eq!(sweeps(&small), 0);
    // Three exchanges, but on three different contracts.
    let spread_out = [
        print(
            "a",
            &contract(105.0, Right::Call),
            0,
            "CBOE",
            200,
            2.45,
            2.40,
            2.45,
        ),
        print(
            "b",
            &contract(110.0, Right::Call),
            50,
            "ISE",
            200,
            2.45,
            2.40,
            2.45,
        ),
        print(
            "c",
            &contract(105.0, Right::Put),
            100,
            "PHLX",
            200,
            2.45,
            2.40,
            2.45,
        ),
    ];
    assert_eq!(sweeps(&spread_out), 0);
    // A configurable exchange count.
    let loose = FlowConfig {
        sweep_min_exchanges: 2,
        ..FlowConfig::default()
    };
    let n = flow::detect(&two, &no_context(), &loose)
        .iter()
        .filter(|h| h.kind == HitKind::Sweep)
        .count();
    assert_eq!(n, 1);
}

#[test]
fn a_sold_sweep_then_a_second_sweep() {
    let c = contract(95.0, Right::Put);
    let prints = vec![
        print("a", &c, 0, "CBOE", 100, 1.20, 1.20, 1.25),
        print("b", &c, 10, "ISE", 100, 1.20, 1.20, 1.25),
        print("c", &c, 20, "BOX", 100, 1.19, 1.20, 1.25),
        // A second, separate sweep a minute later.
        print("d", &c, 60_000, "CBOE", 100, 1.25, 1.20, 1.25),
        print("e", &c, 60_100, "ARCA", 100, 1.25, 1.20, 1.25),
        print("f", &c, 60_200, "BATS", 100, 1.25, 1.20, 1.25),
    ];
    let hits = flow::detect(&prints, &no_context(), &FlowConfig::default());
    let sweeps = of_kind(&hits, HitKind::Sweep);
    assert_eq!(sweeps.len(), 2);
    let sold = sweeps.iter().find(|h| h.side == Side::Sold).unwrap();
    assert_eq!(sold.print_ids, ["a", "b", "c"]);
    assert!(sold.reasons.iter().any(|r| r.contains("puts sold")));
    let bought = sweeps.iter().find(|h| h.side == Side::Bought).unwrap();
    assert_eq!(bought.print_ids, ["d", "e", "f"]);
}

#[test]
fn blocks_by_size_or_premium() {
    let c = contract(100.0, Right::Call);
    let prints = vec![
        print("big", &c, 0, "CBOE", 600, 2.00, 1.95, 2.00),
        print("rich", &c, 10_000, "ISE", 300, 10.00, 9.90, 10.10),
        print("small", &c, 20_000, "ISE", 400, 1.00, 0.95, 1.00),
    ];
    let hits = flow::detect(&prints, &no_context(), &FlowConfig::default());
    let blocks = of_kind(&hits, HitKind::Block);
    let ids: BTreeSet<&str> = blocks.iter().map(|h| h.print_ids[0].as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["big", "rich"]));
    let big = blocks.iter().find(|h| h.print_ids == ["big"]).unwrap();
    assert_eq!(big.side, Side::Bought);
    assert!(
        big.reasons[0].contains("single print of 600 contracts ($120,000 premium) on CBOE"),
        "{:?}",
        big.reasons
    );
    let rich = blocks.iter().find(|h| h.print_ids == ["rich"]).unwrap();
    assert_eq!(rich.side, Side::Mid);
    assert!((rich.premium - 300_000.0).abs() < 1e-6);
}

#[test]
fn a_block_sized_sweep_leg_is_reported_once() {
    let c = contract(100.0, Right::Call);
    let prints = vec![
        print("a", &c, 0, "CBOE", 900, 2.00, 1.95, 2.00),
        print("b", &c, 40, "ISE", 100, 2.00, 1.95, 2.00),
        print("c", &c, 80, "PHLX", 100, 2.00, 1.95, 2.00),
    ];
    let hits = flow::detect(&prints, &no_context(), &FlowConfig::default());
    assert_eq!(of_kind(&hits, HitKind::Sweep).len(), 1);
    assert!(of_kind(&hits, HitKind::Block).is_empty());
    assert!(hits[0].reasons.iter().any(|r| r.contains("block-sized")));
}

#[test]
fn volume_premium_and_iv_rules() {
    let c = contract(100.0, Right::Put);
    let occ = gs_options::occ::format(&c);
    let prints: Vec<TradePrint> = (0..12)
        .map(|i| {
            print(
                &format!("p{i}"),
                &c,
                i * 10_000,
                "CBOE",
                90,
                9.50,
                9.40,
                9.50,
            )
        })
        .collect();
    // 12 x 90 = 1,080 contracts, premium 1,080 x 950 = $1,026,000.
    let ctx_for = |oi: u64, avg: Option<f64>, iv: Option<f64>, prev: Option<f64>| {
        let mut m = HashMap::new();
        m.insert(
            occ.clone(),
            ContractContext {
                open_interest: oi,
                volume: 1_000,
                average_volume: avg,
                iv,
                previous_iv: prev,
                bid: None,
                ask: None,
            },
        );
        m
    };
    let cfg = FlowConfig::default();
    let hits = flow::detect(
        &prints,
        &ctx_for(300, Some(150.0), Some(0.42), Some(0.35)),
        &cfg,
    );
    let voi = of_kind(&hits, HitKind::VolumeOverOi);
    assert_eq!(voi.len(), 1);
    assert_eq!(voi[0].size, 1_080);
    assert_eq!(voi[0].time, t0() + Duration::milliseconds(110_000));
    assert!(
        voi[0].reasons[0].contains("3.6x open interest of 300"),
        "{:?}",
        voi[0].reasons
    );
    assert!(
        voi[0].reasons[0].contains("7.2x the average volume of 150"),
        "{:?}",
        voi[0].reasons
    );
    let big = of_kind(&hits, HitKind::LargePremium);
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].print_ids.len(), 12);
    assert_eq!(big[0].side, Side::Bought);
    assert!(
        big[0]
            .reasons
            .iter()
            .any(|r| r.contains("puts bought: bearish"))
    );
    let iv = of_kind(&hits, HitKind::IvJump);
    assert_eq!(iv.len(), 1);
    assert!(
        iv[0].reasons[0].contains("up 7.0 vol points to 42.0%"),
        "{:?}",
        iv[0].reasons
    );

    // Near misses: OI above volume; volume under 5x the average; IV up 4 points.
    let hits = flow::detect(&prints, &ctx_for(2_000, None, Some(0.39), Some(0.35)), &cfg);
    assert!(of_kind(&hits, HitKind::VolumeOverOi).is_empty());
    assert!(of_kind(&hits, HitKind::IvJump).is_empty());
    let hits = flow::detect(&prints, &ctx_for(300, Some(250.0), None, None), &cfg);
    assert!(of_kind(&hits, HitKind::VolumeOverOi).is_empty());
    // Unknown average: volume over OI suffices.
    let hits = flow::detect(&prints, &ctx_for(300, None, None, None), &cfg);
    assert_eq!(of_kind(&hits, HitKind::VolumeOverOi).len(), 1);
    // Without context only the premium rule applies.
    let hits = flow::detect(&prints, &no_context(), &cfg);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].kind, HitKind::LargePremium);
}

#[test]
fn the_premium_split() {
    let call = contract(100.0, Right::Call);
    let put = contract(100.0, Right::Put);
    let prints = vec![
        print("bc", &call, 0, "CBOE", 10, 2.00, 1.90, 2.00), // bought call: bullish $2,000
        print("sp", &put, 1, "CBOE", 10, 1.00, 1.00, 1.10),  // sold put: bullish $1,000
        print("bp", &put, 2, "CBOE", 5, 1.10, 1.00, 1.10),   // bought put: bearish $550
        print("sc", &call, 3, "CBOE", 5, 1.90, 1.90, 2.00),  // sold call: bearish $950
        print("mid", &call, 4, "CBOE", 10, 1.95, 1.90, 2.00), // neutral $1,950
    ];
    let s = flow::premium_split(&prints, &no_context());
    assert_eq!(s.bullish.prints, 2);
    assert_eq!(s.bullish.contracts, 20);
    assert!((s.bullish.premium - 3_000.0).abs() < 1e-6);
    assert!((s.bearish.premium - 1_500.0).abs() < 1e-6);
    assert!((s.neutral.premium - 1_950.0).abs() < 1e-6);
    assert!((s.bought_calls.premium - 2_000.0).abs() < 1e-6);
    assert!((s.sold_puts.premium - 1_000.0).abs() < 1e-6);
    assert!((s.bought_puts.premium - 550.0).abs() < 1e-6);
    assert!((s.sold_calls.premium - 950.0).abs() < 1e-6);
    assert!((s.call_premium - 4_900.0).abs() < 1e-6);
    assert!((s.put_premium - 1_550.0).abs() < 1e-6);
    assert!((s.total_premium - 6_450.0).abs() < 1e-6);
    assert!((s.net - 1_500.0 / 6_450.0).abs() < 1e-12);
    let empty = flow::premium_split(&[], &no_context());
    assert_eq!(empty.net, 0.0);
}

// ---------- the demo ----------

/// A seeded geometric random walk of weekday closes.
fn walk(seed: u64, start: f64, daily_vol: f64, n: usize) -> Vec<(NaiveDate, f64)> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut date = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    let mut price = start;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push((date, price));
            let (u1, u2) = (next().max(1e-12), next());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            price *= (daily_vol * z - 0.5 * daily_vol * daily_vol).exp();
        }
        date = date.succ_opt().unwrap();
    }
    out
}

fn underlyings() -> Vec<DemoUnderlying> {
    vec![
        DemoUnderlying {
            symbol: "ACME".into(),
            closes: walk(11, 150.0, 0.018, 160),
            rate: 0.045,
            dividend: 0.005,
        },
        DemoUnderlying {
            symbol: "TINY".into(),
            closes: walk(22, 24.0, 0.035, 120),
            rate: 0.045,
            dividend: 0.0,
        },
        DemoUnderlying {
            symbol: "BIGCO".into(),
            closes: walk(33, 620.0, 0.012, 60),
            rate: 0.04,
            dividend: 0.012,
        },
    ]
}

fn planted_ids(d: &DemoOptions) -> HashSet<&str> {
    d.planted
        .iter()
        .flat_map(|p| p.print_ids.iter().map(String::as_str))
        .collect()
}

#[test]
fn demo_recall_and_false_hits() {
    const SEEDS: u64 = 5;
    let (mut planted_sweeps, mut found_sweeps, mut planted_blocks, mut found_blocks) = (0, 0, 0, 0);
    let (mut false_sweeps, mut false_blocks, mut background) = (0usize, 0usize, 0usize);
    for (seed, u) in (1..=SEEDS).flat_map(|s| underlyings().into_iter().map(move |u| (s, u))) {
        let cfg = DemoConfig {
            seed,
            ..DemoConfig::default()
        };
        let d = demo::generate(&u, &cfg).unwrap();
        let hits = flow::detect(&d.prints, &HashMap::new(), &FlowConfig::default());
        let planted = planted_ids(&d);
        let bg = d.prints.len() - planted.len();
        background += bg;
        let (mut ps, mut fs, mut pb, mut fb) = (0, 0, 0, 0);
        for p in &d.planted {
            let want: BTreeSet<&str> = p.print_ids.iter().map(String::as_str).collect();
            let kind = match p.kind {
                PlantedKind::Sweep => HitKind::Sweep,
                PlantedKind::Block => HitKind::Block,
            };
            let found = hits.iter().any(|h| {
                h.kind == kind
                    && h.occ == p.occ
                    && h.print_ids
                        .iter()
                        .map(String::as_str)
                        .collect::<BTreeSet<_>>()
                        == want
            });
            match p.kind {
                PlantedKind::Sweep => {
                    ps += 1;
                    fs += usize::from(found);
                }
                PlantedKind::Block => {
                    pb += 1;
                    fb += usize::from(found);
                }
            }
        }
        let (mut xs, mut xb) = (0, 0);
        for h in &hits {
            let truth = d.planted.iter().any(|p| {
                let kind_matches = matches!(
                    (p.kind, h.kind),
                    (PlantedKind::Sweep, HitKind::Sweep) | (PlantedKind::Block, HitKind::Block)
                );
                let a: BTreeSet<&String> = p.print_ids.iter().collect();
                let b: BTreeSet<&String> = h.print_ids.iter().collect();
                kind_matches && a == b
            });
            match h.kind {
                HitKind::Sweep if !truth => xs += 1,
                HitKind::Block if !truth => xb += 1,
                _ => {}
            }
        }
        println!(
            "{} seed {seed}: {} prints ({} background), sweeps {fs}/{ps}, blocks {fb}/{pb}, false sweeps {xs}, false blocks {xb}, all hits {}",
            u.symbol,
            d.prints.len(),
            bg,
            hits.len()
        );
        if let Some(top) = hits.first() {
            println!(
                "  top hit {:?} {} score {}: {}",
                top.kind,
                top.occ,
                top.score,
                top.reasons.join("; ")
            );
        }
        planted_sweeps += ps;
        found_sweeps += fs;
        planted_blocks += pb;
        found_blocks += fb;
        false_sweeps += xs;
        false_blocks += xb;
    }
    let per_k = |x: usize| x as f64 * 1000.0 / background.max(1) as f64;
    println!(
        "recall: sweeps {found_sweeps}/{planted_sweeps}, blocks {found_blocks}/{planted_blocks}; \
         false hits per 1,000 background prints: sweeps {:.2}, blocks {:.2} ({background} background prints)",
        per_k(false_sweeps),
        per_k(false_blocks)
    );
    let cfg = DemoConfig::default();
    let runs = 3 * SEEDS as usize;
    assert_eq!(planted_sweeps, runs * cfg.print_days * cfg.sweeps_per_day);
    assert_eq!(planted_blocks, runs * cfg.print_days * cfg.blocks_per_day);
    assert_eq!(found_sweeps, planted_sweeps);
    assert_eq!(found_blocks, planted_blocks);
    assert_eq!(false_sweeps, 0);
    assert_eq!(false_blocks, 0);
}

#[test]
fn demo_is_deterministic() {
    let u = &underlyings()[0];
    let cfg = DemoConfig::default();
    let a = demo::generate(u, &cfg).unwrap();
    let b = demo::generate(u, &cfg).unwrap();
    assert_eq!(a, b);
    let c = demo::generate(
        u,
        &DemoConfig {
            seed: 2,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert_ne!(a.prints, c.prints);
    // The chains' prices do not depend on the seed, only their volumes.
    assert_eq!(a.snapshots[0].quotes[0].bid, c.snapshots[0].quotes[0].bid);
}

#[test]
fn demo_chain_invariants() {
    let cfg = DemoConfig::default();
    for u in underlyings() {
        let d = demo::generate(&u, &cfg).unwrap();
        assert_eq!(d.snapshots.len(), cfg.snapshot_days);
        let tail = &u.closes[u.closes.len() - cfg.snapshot_days..];
        let mut parity_checked = 0;
        for (snap, (date, close)) in d.snapshots.iter().zip(tail) {
            assert_eq!(snap.as_of, date.and_hms_opt(21, 0, 0).unwrap().and_utc());
            assert_eq!(snap.underlying_price, *close);
            assert_eq!(snap.underlying, u.symbol);
            assert!(snap.quotes.len() > 100, "{} quotes", snap.quotes.len());
            let closes: Vec<f64> = u
                .closes
                .iter()
                .take_while(|(d2, _)| d2 <= date)
                .map(|(_, c)| *c)
                .collect();
            let surface = VolSurface::from_closes(&closes).unwrap();
            let mut total_oi = 0;
            for q in &snap.quotes {
                assert!(q.bid >= 0.0 && q.bid <= q.ask, "{q:?}");
                assert!(q.ask >= 0.01);
                assert!(q.contract.expiry > *date);
                assert_eq!(q.contract.multiplier, 100);
                assert_eq!(q.contract.style, ExerciseStyle::American);
                let t = (q.contract.expiry - *date).num_days() as f64 / 365.0;
                let vol = surface.vol(*close, q.contract.strike, t, u.rate, u.dividend);
                assert!((demo::VOL_MIN..=demo::VOL_MAX).contains(&vol));
                total_oi += q.open_interest;
            }
            assert!(total_oi > 0);
            // Put-call parity on the mids of the nearest ATM pair 7-60 days out.
            let expiry = snap
                .quotes
                .iter()
                .map(|q| q.contract.expiry)
                .filter(|e| (7..=60).contains(&(*e - *date).num_days()))
                .min()
                .unwrap();
            let atm = snap
                .quotes
                .iter()
                .filter(|q| q.contract.expiry == expiry)
                .map(|q| q.contract.strike)
                .min_by(|a, b| (a - close).abs().total_cmp(&(b - close).abs()))
                .unwrap();
            let find = |r: Right| {
                snap.quotes
                    .iter()
                    .find(|q| {
                        q.contract.expiry == expiry
                            && q.contract.strike == atm
                            && q.contract.right == r
                    })
                    .unwrap()
            };
            let (c, p) = (find(Right::Call), find(Right::Put));
            let t = (expiry - *date).num_days() as f64 / 365.0;
            let parity = close * (-u.dividend * t).exp() - atm * (-u.rate * t).exp();
            let gap = (c.mid() - p.mid()) - parity;
            let tol = 0.5 * ((c.ask - c.bid) + (p.ask - p.bid)) + 0.02;
            assert!(gap.abs() <= tol, "{}: parity gap {gap} > {tol}", u.symbol);
            parity_checked += 1;
        }
        assert_eq!(parity_checked, cfg.snapshot_days);
        // Open interest moves from day to day.
        let first = &d.snapshots[0];
        let last = &d.snapshots[d.snapshots.len() - 1];
        let changed = last
            .quotes
            .iter()
            .filter(|q| {
                first
                    .quotes
                    .iter()
                    .find(|f| f.contract == q.contract)
                    .is_some_and(|f| f.open_interest != q.open_interest)
            })
            .count();
        assert!(changed > 0);
    }
}

#[test]
fn demo_print_invariants() {
    let cfg = DemoConfig::default();
    for u in underlyings() {
        let d = demo::generate(&u, &cfg).unwrap();
        assert!(d.prints.windows(2).all(|w| w[0].time <= w[1].time));
        let ids: HashSet<&str> = d.prints.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), d.prints.len());
        assert!(
            d.prints
                .iter()
                .all(|p| p.id.starts_with(&format!("demo-{}-", u.symbol)))
        );
        let print_dates: BTreeSet<NaiveDate> =
            d.prints.iter().map(|p| p.time.date_naive()).collect();
        let want: BTreeSet<NaiveDate> = u.closes[u.closes.len() - cfg.print_days..]
            .iter()
            .map(|(d, _)| *d)
            .collect();
        assert_eq!(print_dates, want);
        let planted = planted_ids(&d);
        let by_id: HashMap<&str, &TradePrint> =
            d.prints.iter().map(|p| (p.id.as_str(), p)).collect();
        for p in &d.prints {
            let secs = p
                .time
                .time()
                .signed_duration_since(chrono::NaiveTime::from_hms_opt(14, 30, 0).unwrap());
            assert!(
                secs >= chrono::TimeDelta::zero()
                    && secs < chrono::TimeDelta::hours(6) + chrono::TimeDelta::minutes(30)
            );
            assert!(p.bid.unwrap() <= p.ask.unwrap());
            assert!(p.price > 0.0 && p.underlying_price.unwrap() > 0.0);
            assert!(p.contract.expiry > p.time.date_naive());
            // Each printed contract is listed in its day's snapshot.
            let snap = d
                .snapshots
                .iter()
                .find(|s| s.as_of.date_naive() == p.time.date_naive())
                .unwrap();
            assert!(snap.quotes.iter().any(|q| q.contract == p.contract));
            if !planted.contains(p.id.as_str()) {
                assert!(p.size < 100 && p.premium() < 125_000.0, "{p:?}");
                assert!(p.condition.is_none());
            }
        }
        // No two background prints of one contract within 2 s.
        let mut by_contract: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
        for p in d.prints.iter().filter(|p| !planted.contains(p.id.as_str())) {
            by_contract
                .entry(gs_options::occ::format(&p.contract))
                .or_default()
                .push(p.time);
        }
        for times in by_contract.values() {
            assert!(
                times
                    .windows(2)
                    .all(|w| (w[1] - w[0]).num_milliseconds() > demo::MIN_GAP_MS)
            );
        }
        for pl in &d.planted {
            let legs: Vec<&TradePrint> = pl.print_ids.iter().map(|i| by_id[i.as_str()]).collect();
            assert_eq!(legs[0].time, pl.time);
            assert!(
                legs.iter()
                    .all(|l| gs_options::occ::format(&l.contract) == pl.occ)
            );
            match pl.kind {
                PlantedKind::Sweep => {
                    let venues: BTreeSet<&str> = legs.iter().map(|l| l.exchange.as_str()).collect();
                    assert!((3..=6).contains(&venues.len()) && venues.len() == legs.len());
                    let total: u32 = legs.iter().map(|l| l.size).sum();
                    assert!((300..=2000).contains(&total), "{total}");
                    assert!((legs[legs.len() - 1].time - legs[0].time).num_milliseconds() <= 200);
                    assert!(
                        legs.iter()
                            .all(|l| l.condition.as_deref() == Some("ISOI")
                                && Some(l.price) == l.ask)
                    );
                }
                PlantedKind::Block => {
                    assert_eq!(legs.len(), 1);
                    assert!((800..=5000).contains(&legs[0].size));
                }
            }
        }
    }
}

#[test]
fn demo_refuses_bad_input() {
    let mut u = underlyings()[0].clone();
    u.closes.truncate(29);
    assert!(matches!(
        demo::generate(&u, &DemoConfig::default()),
        Err(DemoError::TooFewCloses { need: 30, .. })
    ));
    let mut u = underlyings()[0].clone();
    u.symbol = "TOOLONGX".into();
    assert!(matches!(
        demo::generate(&u, &DemoConfig::default()),
        Err(DemoError::BadSymbol(_))
    ));
    let mut u = underlyings()[0].clone();
    u.closes[5].1 = -1.0;
    assert!(matches!(
        demo::generate(&u, &DemoConfig::default()),
        Err(DemoError::BadClose { index: 5, .. })
    ));
    let mut u = underlyings()[0].clone();
    u.closes.swap(3, 4);
    assert!(matches!(
        demo::generate(&u, &DemoConfig::default()),
        Err(DemoError::NotAscending { index: 4, .. })
    ));
}

#[test]
fn realised_vol_matches_a_hand_computation() {
    // Log returns alternate +r, -r: sample stdev = r * sqrt(n / (n - 1)).
    let r: f64 = 0.01;
    let closes: Vec<f64> = (0..21)
        .map(|i| if i % 2 == 0 { 100.0 } else { 100.0 * r.exp() })
        .collect();
    let v = demo::realised_vol(&closes, 20).unwrap();
    let want = r * (20.0f64 / 19.0).sqrt() * 252f64.sqrt();
    assert!((v - want).abs() < 1e-12, "{v} vs {want}");
    assert_eq!(demo::realised_vol(&closes, 21), None);
}
