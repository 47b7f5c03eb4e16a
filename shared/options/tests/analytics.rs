//! Chain analytics on hand-worked chains (the expected numbers are derived in
//! the comments), brute-force checks of max pain and the put/call ratios on
//! seeded random chains, and an independent check of the gamma flip.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gs_options::analytics::{
    ContractView, MAX_PAIN_CURVE_ROWS, expected_move, gamma_exposure, gamma_flip,
    iv_rank_percentile, max_pain, put_call_ratios, skew, term_structure,
};
use gs_options::european::{BlackInputs, bsm};
use gs_options::{Contract, ExerciseStyle, OptionQuote, Right};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn quote(
    expiry: NaiveDate,
    strike: f64,
    right: Right,
    volume: u64,
    open_interest: u64,
) -> OptionQuote {
    quote_full(expiry, strike, right, 1.0, 1.1, volume, open_interest, 100)
}

#[allow(clippy::too_many_arguments)]
fn quote_full(
    expiry: NaiveDate,
    strike: f64,
    right: Right,
    bid: f64,
    ask: f64,
    volume: u64,
    open_interest: u64,
    multiplier: u32,
) -> OptionQuote {
    OptionQuote {
        contract: Contract {
            underlying: "TEST".into(),
            expiry,
            strike,
            right,
            multiplier,
            style: ExerciseStyle::American,
        },
        bid,
        ask,
        last: None,
        volume,
        open_interest,
    }
}

fn view(
    quote: &OptionQuote,
    t: f64,
    iv: Option<f64>,
    delta: Option<f64>,
    gamma: Option<f64>,
) -> ContractView<'_> {
    ContractView {
        quote,
        t,
        iv,
        delta,
        gamma,
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Deterministic SplitMix64, so the random chains need no extra dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------
// Put/call ratios
// ---------------------------------------------------------------------------

#[test]
fn put_call_ratios_hand_worked() {
    let e1 = date(2025, 1, 17);
    let e2 = date(2025, 2, 21);
    let quotes = vec![
        quote(e1, 100.0, Right::Call, 100, 1000),
        quote(e1, 105.0, Right::Call, 50, 500),
        quote(e1, 95.0, Right::Put, 300, 3000),
        quote(e2, 100.0, Right::Call, 0, 0),
        quote(e2, 100.0, Right::Put, 40, 200),
    ];
    let r = put_call_ratios(&quotes);
    // Overall: calls vol 150, OI 1500; puts vol 340, OI 3200.
    assert_eq!(r.overall.call_volume, 150);
    assert_eq!(r.overall.put_volume, 340);
    assert_eq!(r.overall.call_open_interest, 1500);
    assert_eq!(r.overall.put_open_interest, 3200);
    assert!(close(r.overall.volume_ratio.unwrap(), 340.0 / 150.0, 1e-15));
    assert!(close(
        r.overall.open_interest_ratio.unwrap(),
        3200.0 / 1500.0,
        1e-15
    ));
    // e1: 300 / 150 = 2, 3000 / 1500 = 2.
    let first = &r.by_expiry[&e1];
    assert_eq!(first.volume_ratio, Some(2.0));
    assert_eq!(first.open_interest_ratio, Some(2.0));
    // e2: no call volume or OI -> both ratios undefined, sums still reported.
    let second = &r.by_expiry[&e2];
    assert_eq!(second.put_volume, 40);
    assert_eq!(second.put_open_interest, 200);
    assert_eq!(second.volume_ratio, None);
    assert_eq!(second.open_interest_ratio, None);
    assert_eq!(
        r.by_expiry.keys().copied().collect::<Vec<_>>(),
        vec![e1, e2]
    );

    let empty = put_call_ratios(&[]);
    assert_eq!(empty.overall.volume_ratio, None);
    assert!(empty.by_expiry.is_empty());
}

// ---------------------------------------------------------------------------
// Max pain
// ---------------------------------------------------------------------------

#[test]
fn max_pain_hand_worked() {
    let e = date(2025, 3, 21);
    // Calls OI: 90:0, 100:20, 110:50, 120:100. Puts OI: 90:100, 100:80, 110:10, 120:0.
    // Multiplier 100. Payout per share-unit (before x100):
    //   S=90:  calls 0;                          puts 80x10 + 10x20 = 1000 -> 1000
    //   S=100: calls 0 (90 has no OI);           puts 10x10 = 100          -> 100
    //   S=110: calls 20x10 = 200;                puts 0                    -> 200
    //   S=120: calls 20x20 + 50x10 = 900;        puts 0                    -> 900
    // Max pain 100, total 100 x 100 = 10_000.
    let quotes = vec![
        quote(e, 90.0, Right::Call, 0, 0),
        quote(e, 100.0, Right::Call, 0, 20),
        quote(e, 110.0, Right::Call, 0, 50),
        quote(e, 120.0, Right::Call, 0, 100),
        quote(e, 90.0, Right::Put, 0, 100),
        quote(e, 100.0, Right::Put, 0, 80),
        quote(e, 110.0, Right::Put, 0, 10),
        quote(e, 120.0, Right::Put, 0, 0),
    ];
    let mp = max_pain(&quotes).unwrap();
    assert_eq!(mp.expiry, e);
    assert_eq!(mp.strike, 100.0);
    assert!(close(mp.total_payout, 10_000.0, 1e-12));
    assert_eq!(mp.strikes_evaluated, 4);
    assert!(!mp.curve_truncated);
    let totals: Vec<(f64, f64)> = mp.curve.iter().map(|p| (p.strike, p.total)).collect();
    assert_eq!(
        totals,
        vec![
            (90.0, 100_000.0),
            (100.0, 10_000.0),
            (110.0, 20_000.0),
            (120.0, 90_000.0)
        ]
    );
    assert_eq!(mp.curve[2].call_payout, 20_000.0);
    assert_eq!(mp.curve[0].put_payout, 100_000.0);
}

#[test]
fn max_pain_tie_goes_to_lowest_strike_and_edge_cases() {
    let e = date(2025, 3, 21);
    // Call 100 OI 10, put 110 OI 10: S=100 pays puts 10x10; S=110 pays calls 10x10. Tie -> 100.
    let quotes = vec![
        quote(e, 100.0, Right::Call, 0, 10),
        quote(e, 110.0, Right::Put, 0, 10),
    ];
    let mp = max_pain(&quotes).unwrap();
    assert_eq!(mp.strike, 100.0);
    assert_eq!(mp.total_payout, 10_000.0);

    assert!(max_pain(&[]).is_none());
    // No open interest anywhere.
    assert!(max_pain(&[quote(e, 100.0, Right::Call, 5, 0)]).is_none());
    // Two expiries.
    let mixed = vec![
        quote(e, 100.0, Right::Call, 0, 10),
        quote(date(2025, 4, 17), 100.0, Right::Put, 0, 10),
    ];
    assert!(max_pain(&mixed).is_none());
}

#[test]
fn max_pain_curve_is_capped_around_the_answer() {
    let e = date(2025, 6, 20);
    // 300 strikes 1..=300; calls and puts with equal OI everywhere: the payout
    // is symmetric about the middle, minimal at 150 and 151 (tie -> 150).
    let mut quotes = Vec::new();
    for k in 1..=300 {
        quotes.push(quote(e, f64::from(k), Right::Call, 0, 10));
        quotes.push(quote(e, f64::from(k), Right::Put, 0, 10));
    }
    let mp = max_pain(&quotes).unwrap();
    assert_eq!(mp.strike, 150.0);
    assert_eq!(mp.strikes_evaluated, 300);
    assert!(mp.curve_truncated);
    assert_eq!(mp.curve.len(), MAX_PAIN_CURVE_ROWS);
    assert!(mp.curve.iter().any(|p| p.strike == 150.0));
    assert!(mp.curve.windows(2).all(|w| w[0].strike < w[1].strike));
}

/// Brute force, written independently: payout at settlement `s` over all quotes.
fn brute_payout(quotes: &[OptionQuote], s: f64) -> f64 {
    let mut total = 0.0;
    for q in quotes {
        let intrinsic = match q.contract.right {
            Right::Call => (s - q.contract.strike).max(0.0),
            Right::Put => (q.contract.strike - s).max(0.0),
        };
        total += intrinsic * q.open_interest as f64 * f64::from(q.contract.multiplier);
    }
    total
}

#[test]
fn max_pain_and_ratios_match_brute_force_on_random_chains() {
    for seed in [1_u64, 7, 42, 2024, 99_999] {
        let mut rng = SplitMix(seed);
        let expiries = [date(2025, 1, 17), date(2025, 2, 21), date(2025, 3, 21)];
        let mut chain = Vec::new();
        for &e in &expiries {
            for i in 0..25 {
                let strike = 50.0 + 5.0 * f64::from(i);
                for right in [Right::Call, Right::Put] {
                    if rng.below(5) == 0 {
                        continue; // some strikes list only one side
                    }
                    let multiplier = if rng.below(10) == 0 { 10 } else { 100 };
                    let oi = if rng.below(4) == 0 {
                        0
                    } else {
                        rng.below(5000)
                    };
                    let volume = rng.below(2000);
                    chain.push(quote_full(
                        e, strike, right, 1.0, 1.2, volume, oi, multiplier,
                    ));
                }
            }
        }

        // Put/call ratios against plain loops.
        let r = put_call_ratios(&chain);
        let sums = |qs: &[&OptionQuote]| {
            let mut s = [0u64; 4];
            for q in qs {
                match q.contract.right {
                    Right::Call => {
                        s[0] += q.volume;
                        s[2] += q.open_interest;
                    }
                    Right::Put => {
                        s[1] += q.volume;
                        s[3] += q.open_interest;
                    }
                }
            }
            s
        };
        let all: Vec<&OptionQuote> = chain.iter().collect();
        let s = sums(&all);
        assert_eq!(
            [
                r.overall.call_volume,
                r.overall.put_volume,
                r.overall.call_open_interest,
                r.overall.put_open_interest
            ],
            s
        );
        assert_eq!(r.overall.volume_ratio, Some(s[1] as f64 / s[0] as f64));
        assert_eq!(
            r.overall.open_interest_ratio,
            Some(s[3] as f64 / s[2] as f64)
        );
        let mut per: BTreeMap<NaiveDate, Vec<&OptionQuote>> = BTreeMap::new();
        for q in &chain {
            per.entry(q.contract.expiry).or_default().push(q);
        }
        assert_eq!(r.by_expiry.len(), per.len());
        for (e, qs) in &per {
            let s = sums(qs);
            let got = &r.by_expiry[e];
            assert_eq!(
                [
                    got.call_volume,
                    got.put_volume,
                    got.call_open_interest,
                    got.put_open_interest
                ],
                s
            );
            assert_eq!(
                got.volume_ratio,
                (s[0] > 0).then(|| s[1] as f64 / s[0] as f64)
            );
            assert_eq!(
                got.open_interest_ratio,
                (s[2] > 0).then(|| s[3] as f64 / s[2] as f64)
            );
        }

        // Max pain per expiry against brute force over the listed strikes.
        for qs in per.values() {
            let one: Vec<OptionQuote> = qs.iter().map(|q| (*q).clone()).collect();
            let mut strikes: Vec<f64> = one.iter().map(|q| q.contract.strike).collect();
            strikes.sort_by(f64::total_cmp);
            strikes.dedup();
            let mut best = (strikes[0], brute_payout(&one, strikes[0]));
            for &k in &strikes[1..] {
                let p = brute_payout(&one, k);
                if p < best.1 - 1e-9 * best.1.max(1.0) {
                    best = (k, p);
                }
            }
            let mp = max_pain(&one).unwrap();
            assert_eq!(mp.strike, best.0, "seed {seed}");
            assert!(close(mp.total_payout, best.1, 1e-12));
            assert_eq!(mp.curve.len(), strikes.len());
            for p in &mp.curve {
                assert!(close(p.total, brute_payout(&one, p.strike), 1e-12));
                assert!(close(p.total, p.call_payout + p.put_payout, 1e-15));
            }
            // The payout is convex and piecewise linear with kinks at strikes, so
            // no settlement on a fine grid pays less than the max-pain total.
            let lo = strikes[0] - 10.0;
            let hi = strikes[strikes.len() - 1] + 10.0;
            for i in 0..=2000 {
                let s = lo + (hi - lo) * f64::from(i) / 2000.0;
                assert!(brute_payout(&one, s) >= mp.total_payout * (1.0 - 1e-12) - 1e-9);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Gamma exposure and the flip
// ---------------------------------------------------------------------------

#[test]
fn gamma_exposure_hand_worked() {
    let e1 = date(2025, 1, 17);
    let e2 = date(2025, 2, 21);
    let c100 = quote(e1, 100.0, Right::Call, 0, 1000);
    let p95 = quote(e1, 95.0, Right::Put, 0, 2000);
    let c95 = quote(e2, 95.0, Right::Call, 0, 100);
    let no_gamma = quote(e2, 105.0, Right::Call, 0, 5000);
    let bad_gamma = quote(e2, 110.0, Right::Put, 0, 5000);
    let views = vec![
        view(&c100, 0.1, Some(0.2), Some(0.5), Some(0.05)),
        view(&p95, 0.1, Some(0.25), Some(-0.3), Some(0.03)),
        view(&c95, 0.2, Some(0.2), Some(0.6), Some(0.02)),
        view(&no_gamma, 0.2, None, None, None),
        view(&bad_gamma, 0.2, Some(0.2), Some(-0.5), Some(f64::NAN)),
    ];
    // S = 100, S^2 x 0.01 = 100:
    //   call 100: +0.05 x 1000 x 100 x 100 = +500_000
    //   put 95:   -0.03 x 2000 x 100 x 100 = -600_000
    //   call 95:  +0.02 x  100 x 100 x 100 =  +20_000
    // Total -80_000; by strike 95: call 20_000, put -600_000; 100: call 500_000.
    let g = gamma_exposure(&views, 100.0);
    assert_eq!(g.contracts_used, 3);
    assert_eq!(g.contracts_skipped, 2);
    assert!(close(g.total, -80_000.0, 1e-12));
    assert!(close(g.call_total, 520_000.0, 1e-12));
    assert!(close(g.put_total, -600_000.0, 1e-12));
    assert_eq!(g.by_strike.len(), 2);
    assert_eq!(g.by_strike[0].strike, 95.0);
    assert!(close(g.by_strike[0].call_gex, 20_000.0, 1e-12));
    assert!(close(g.by_strike[0].put_gex, -600_000.0, 1e-12));
    assert!(close(g.by_strike[0].net, -580_000.0, 1e-12));
    assert_eq!(g.by_strike[1].strike, 100.0);
    assert!(close(g.by_strike[1].net, 500_000.0, 1e-12));
    assert_eq!(g.by_expiry.len(), 2);
    assert_eq!(g.by_expiry[0].expiry, e1);
    assert!(close(g.by_expiry[0].net, -100_000.0, 1e-12));
    assert!(close(g.by_expiry[1].net, 20_000.0, 1e-12));

    let none = gamma_exposure(&views, f64::NAN);
    assert_eq!(none.contracts_used, 0);
    assert_eq!(none.total, 0.0);
}

const RATE: f64 = 0.03;
const DIVIDEND: f64 = 0.01;

/// The test's own total GEX at a hypothetical spot, straight from BSM gammas.
fn independent_total_gex(views: &[ContractView<'_>], s: f64) -> f64 {
    let mut total = 0.0;
    for v in views {
        let c = &v.quote.contract;
        let g = bsm(&BlackInputs {
            right: c.right,
            spot: s,
            strike: c.strike,
            t: v.t,
            rate: RATE,
            dividend: DIVIDEND,
            vol: v.iv.unwrap(),
        })
        .unwrap();
        let sign = if c.right == Right::Call { 1.0 } else { -1.0 };
        total +=
            sign * g.gamma * v.quote.open_interest as f64 * f64::from(c.multiplier) * s * s * 0.01;
    }
    total
}

#[test]
fn gamma_flip_separates_negative_and_positive_total_gex() {
    let e = date(2025, 2, 21);
    let t = 30.0 / 365.0;
    // Calls above spot heavy, puts below: total GEX is negative at low spots
    // (put gamma dominates) and positive at high spots.
    let quotes = [
        quote(e, 105.0, Right::Call, 0, 5000),
        quote(e, 110.0, Right::Call, 0, 8000),
        quote(e, 115.0, Right::Call, 0, 4000),
        quote(e, 95.0, Right::Put, 0, 6000),
        quote(e, 90.0, Right::Put, 0, 9000),
        quote(e, 85.0, Right::Put, 0, 5000),
    ];
    let views: Vec<ContractView<'_>> = quotes
        .iter()
        .map(|q| view(q, t, Some(0.25), None, None))
        .collect();
    let spot = 100.0;
    let flip = gamma_flip(&views, spot, RATE, DIVIDEND).unwrap();
    assert!(flip > 85.0 && flip < 115.0, "flip {flip}");
    let below = independent_total_gex(&views, flip * (1.0 - 1e-4));
    let above = independent_total_gex(&views, flip * (1.0 + 1e-4));
    assert!(below < 0.0, "below {below}");
    assert!(above > 0.0, "above {above}");
    // And far away on either side the signs agree.
    assert!(independent_total_gex(&views, 0.8 * spot) < 0.0);
    assert!(independent_total_gex(&views, 1.2 * spot) > 0.0);

    // Calls only: GEX positive everywhere, no flip.
    let calls: Vec<ContractView<'_>> = views
        .iter()
        .copied()
        .filter(|v| v.quote.contract.right == Right::Call)
        .collect();
    assert_eq!(gamma_flip(&calls, spot, RATE, DIVIDEND), None);
    // No IVs: nothing to reprice.
    let no_iv: Vec<ContractView<'_>> = quotes
        .iter()
        .map(|q| view(q, t, None, None, Some(0.05)))
        .collect();
    assert_eq!(gamma_flip(&no_iv, spot, RATE, DIVIDEND), None);
}

#[test]
fn gamma_flip_picks_the_sign_change_nearest_spot() {
    let e = date(2025, 2, 21);
    let t = 20.0 / 365.0;
    // Puts at 80 (negative), calls at 100 (positive), puts at 130 (negative):
    // two sign changes, near 90 and near 115; spot 112 is nearer the upper one.
    let quotes = [
        quote(e, 80.0, Right::Put, 0, 10_000),
        quote(e, 100.0, Right::Call, 0, 10_000),
        quote(e, 130.0, Right::Put, 0, 10_000),
    ];
    let views: Vec<ContractView<'_>> = quotes
        .iter()
        .map(|q| view(q, t, Some(0.2), None, None))
        .collect();
    let spot = 112.0;
    let flip = gamma_flip(&views, spot, RATE, DIVIDEND).unwrap();
    assert!(flip > 100.0 && flip < 130.0, "flip {flip}");
    let below = independent_total_gex(&views, flip * (1.0 - 1e-4));
    let above = independent_total_gex(&views, flip * (1.0 + 1e-4));
    assert!(below > 0.0 && above < 0.0, "{below} {above}");
}

// ---------------------------------------------------------------------------
// Expected move
// ---------------------------------------------------------------------------

#[test]
fn expected_move_hand_worked() {
    let near = date(2025, 1, 10);
    let next = date(2025, 2, 7);
    let t_near = 0.5 / 365.0; // under a day: skipped
    let t_next = 30.0 / 365.0;
    let quotes = [
        quote_full(near, 100.0, Right::Call, 1.0, 1.2, 0, 0, 100),
        quote_full(near, 100.0, Right::Put, 0.5, 0.7, 0, 0, 100),
        quote_full(next, 95.0, Right::Call, 7.0, 7.4, 0, 0, 100),
        quote_full(next, 95.0, Right::Put, 1.4, 1.6, 0, 0, 100),
        quote_full(next, 100.0, Right::Call, 3.9, 4.1, 0, 0, 100),
        quote_full(next, 100.0, Right::Put, 2.9, 3.1, 0, 0, 100),
        quote_full(next, 105.0, Right::Call, 1.9, 2.1, 0, 0, 100),
        // 105 put has no usable mid (no bid, no ask), so 105 cannot be the straddle strike.
        quote_full(next, 105.0, Right::Put, 0.0, 0.0, 0, 0, 100),
    ];
    let views: Vec<ContractView<'_>> = quotes
        .iter()
        .map(|q| {
            let t = if q.contract.expiry == near {
                t_near
            } else {
                t_next
            };
            let iv = if q.contract.right == Right::Call {
                0.20
            } else {
                0.22
            };
            view(q, t, Some(iv), None, None)
        })
        .collect();
    // Spot 103: 105 is nearer but lacks a put, so 100. Straddle 4.0 + 3.0 = 7.0,
    // 7 / 103 = 6.796%; ATM IV (0.20 + 0.22) / 2 = 0.21; 1-sigma 103 x 0.21 x sqrt(30/365).
    let spot = 103.0;
    let m = expected_move(&views, spot).unwrap();
    assert_eq!(m.expiry, next);
    assert_eq!(m.strike, 100.0);
    assert!(close(m.call_mid, 4.0, 1e-12));
    assert!(close(m.put_mid, 3.0, 1e-12));
    assert!(close(m.straddle, 7.0, 1e-12));
    assert!(close(m.straddle_pct, 700.0 / 103.0, 1e-12));
    assert!(close(m.lower, 96.0, 1e-12));
    assert!(close(m.upper, 110.0, 1e-12));
    assert!(close(m.days, 30.0, 1e-12));
    assert!(close(m.atm_iv.unwrap(), 0.21, 1e-12));
    let sigma_move = 103.0 * 0.21 * (30.0_f64 / 365.0).sqrt(); // = 6.2007...
    assert!(close(m.implied_move.unwrap(), sigma_move, 1e-12));
    assert!(close(
        m.implied_move_pct.unwrap(),
        sigma_move / 103.0 * 100.0,
        1e-12
    ));
    assert!(close(m.implied_lower.unwrap(), 103.0 - sigma_move, 1e-12));
    assert!(close(m.implied_upper.unwrap(), 103.0 + sigma_move, 1e-12));

    // Spot 97.5 is equidistant from 95 and 100: ties go to the lower strike.
    let tie = expected_move(&views, 97.5).unwrap();
    assert_eq!(tie.strike, 95.0);
    assert!(close(tie.straddle, 7.2 + 1.5, 1e-12));

    assert!(expected_move(&views, 0.0).is_none());
    assert!(expected_move(&views[..2], spot).is_none()); // only the sub-day expiry
}

// ---------------------------------------------------------------------------
// IV rank and percentile
// ---------------------------------------------------------------------------

#[test]
fn iv_rank_and_percentile_hand_worked() {
    let history = [0.10, 0.20, 0.30, 0.40, 0.50];
    // 0.35: rank (0.35 - 0.10) / 0.40 = 62.5; below: 0.10, 0.20, 0.30 -> 3/5 = 60.
    let r = iv_rank_percentile(&history, 0.35).unwrap();
    assert!(close(r.rank.unwrap(), 62.5, 1e-12));
    assert!(close(r.percentile, 60.0, 1e-12));
    assert_eq!((r.low, r.high, r.observations), (0.10, 0.50, 5));
    // A new high ranks 100 and beats every day.
    let r = iv_rank_percentile(&history, 0.60).unwrap();
    assert_eq!(r.rank, Some(100.0));
    assert_eq!(r.percentile, 100.0);
    assert_eq!(r.high, 0.60);
    // Equal to the minimum: rank 0, nothing strictly below.
    let r = iv_rank_percentile(&history, 0.10).unwrap();
    assert_eq!(r.rank, Some(0.0));
    assert_eq!(r.percentile, 0.0);
    // Equal to a middle value: 0.30 -> rank 50, percentile 40 (0.10, 0.20 below).
    let r = iv_rank_percentile(&history, 0.30).unwrap();
    assert!(close(r.rank.unwrap(), 50.0, 1e-12));
    assert!(close(r.percentile, 40.0, 1e-12));
    // Flat history equal to current: no range, rank undefined.
    let r = iv_rank_percentile(&[0.2, 0.2], 0.2).unwrap();
    assert_eq!(r.rank, None);
    assert_eq!(r.percentile, 0.0);
    // Non-finite history values are dropped.
    let r = iv_rank_percentile(&[f64::NAN, 0.1, 0.3], 0.2).unwrap();
    assert_eq!(r.observations, 2);
    assert!(close(r.percentile, 50.0, 1e-12));
    assert!(iv_rank_percentile(&[], 0.2).is_none());
    assert!(iv_rank_percentile(&history, f64::NAN).is_none());
}

// ---------------------------------------------------------------------------
// Term structure and skew
// ---------------------------------------------------------------------------

#[test]
fn term_structure_hand_worked() {
    let a = date(2025, 1, 17);
    let b = date(2025, 2, 21);
    let c = date(2025, 3, 21);
    let quotes = [
        // Expiry a: spot 104 lies between 100 (below spot: put IV 0.22) and 110
        // (at/above: call IV 0.18): 0.22 + (0.18 - 0.22) x 4/10 = 0.204.
        quote(a, 90.0, Right::Put, 0, 0),
        quote(a, 100.0, Right::Put, 0, 0),
        quote(a, 100.0, Right::Call, 0, 0),
        quote(a, 110.0, Right::Call, 0, 0),
        // Expiry b: no 100 put, so 100 falls back to the call IV 0.30; 110 call
        // 0.26: 0.30 - 0.04 x 0.4 = 0.284.
        quote(b, 100.0, Right::Call, 0, 0),
        quote(b, 110.0, Right::Call, 0, 0),
        // Expiry c: strikes all above spot -> left out (no extrapolation).
        quote(c, 110.0, Right::Call, 0, 0),
        quote(c, 120.0, Right::Call, 0, 0),
    ];
    let iv = |q: &OptionQuote| match (q.contract.expiry, q.contract.strike, q.contract.right) {
        (e, 90.0, _) if e == a => 0.25,
        (e, 100.0, Right::Put) if e == a => 0.22,
        (e, 100.0, Right::Call) if e == a => 0.21,
        (e, 110.0, _) if e == a => 0.18,
        (e, 100.0, _) if e == b => 0.30,
        (e, 110.0, _) if e == b => 0.26,
        _ => 0.30,
    };
    let t_of = |e: NaiveDate| {
        if e == a {
            0.05
        } else if e == b {
            0.15
        } else {
            0.25
        }
    };
    let views: Vec<ContractView<'_>> = quotes
        .iter()
        .map(|q| view(q, t_of(q.contract.expiry), Some(iv(q)), None, None))
        .collect();
    let ts = term_structure(&views, 104.0);
    assert_eq!(ts.len(), 2);
    assert_eq!(ts[0].expiry, a);
    assert_eq!(ts[0].t, 0.05);
    assert!(close(ts[0].atm_iv, 0.204, 1e-12));
    assert_eq!(ts[1].expiry, b);
    assert!(close(ts[1].atm_iv, 0.284, 1e-12));

    // Spot on a listed strike: the call IV there (strike >= spot -> call side).
    let on = term_structure(&views, 100.0);
    assert!(close(on[0].atm_iv, 0.21, 1e-12));
}

#[test]
fn skew_hand_worked() {
    let e = date(2025, 2, 21);
    let rows: Vec<(f64, Right, f64, f64)> = vec![
        // (strike, right, delta, iv)
        (100.0, Right::Call, 0.50, 0.200),
        (105.0, Right::Call, 0.30, 0.190),
        (110.0, Right::Call, 0.20, 0.185),
        (100.0, Right::Put, -0.50, 0.210),
        (95.0, Right::Put, -0.30, 0.230),
        (90.0, Right::Put, -0.20, 0.250),
    ];
    let quotes: Vec<OptionQuote> = rows.iter().map(|r| quote(e, r.0, r.1, 0, 0)).collect();
    let views: Vec<ContractView<'_>> = quotes
        .iter()
        .zip(&rows)
        .map(|(q, r)| view(q, 0.1, Some(r.3), Some(r.2), None))
        .collect();
    // call25: halfway between delta 0.20 (0.185) and 0.30 (0.190) -> 0.1875.
    // put25: halfway between -0.30 (0.230) and -0.20 (0.250) -> 0.240.
    // atm: (0.200 + 0.210) / 2 = 0.205.
    // rr25 = 0.1875 - 0.240 = -0.0525; bf25 = (0.1875 + 0.240)/2 - 0.205 = 0.00875.
    let s = skew(&views).unwrap();
    assert_eq!(s.expiry, e);
    assert!(close(s.call25_iv, 0.1875, 1e-12));
    assert!(close(s.put25_iv, 0.240, 1e-12));
    assert!(close(s.atm_iv, 0.205, 1e-12));
    assert!(close(s.rr25, -0.0525, 1e-12));
    assert!(close(s.bf25, 0.00875, 1e-12));

    // Without the 0.20-delta call, 0.25 is not bracketed: no skew.
    let partial: Vec<ContractView<'_>> = views
        .iter()
        .copied()
        .filter(|v| v.quote.contract.strike != 110.0)
        .collect();
    assert!(skew(&partial).is_none());
    // Mixed expiries: no skew.
    let other = quote(date(2025, 3, 21), 100.0, Right::Call, 0, 0);
    let mut mixed = views.clone();
    mixed.push(view(&other, 0.2, Some(0.2), Some(0.5), None));
    assert!(skew(&mixed).is_none());
    assert!(skew(&[]).is_none());
}

// ---------------------------------------------------------------------------
// Output schemas
// ---------------------------------------------------------------------------

/// Every property of every object in the schema carries a description.
fn assert_described(value: &serde_json::Value, path: &str) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                for (name, prop) in props {
                    assert!(
                        prop.get("description").is_some(),
                        "{path}.{name} has no description"
                    );
                }
            }
            for (k, v) in map {
                assert_described(v, &format!("{path}/{k}"));
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| assert_described(v, path)),
        _ => {}
    }
}

#[test]
fn output_schemas_describe_every_field_and_values_serialize() {
    use gs_options::analytics::{
        ExpectedMove, GammaExposure, IvRank, MaxPain, PutCallRatios, Skew, TermPoint,
    };
    let schemas = [
        ("PutCallRatios", schemars::schema_for!(PutCallRatios)),
        ("MaxPain", schemars::schema_for!(MaxPain)),
        ("GammaExposure", schemars::schema_for!(GammaExposure)),
        ("ExpectedMove", schemars::schema_for!(ExpectedMove)),
        ("IvRank", schemars::schema_for!(IvRank)),
        ("TermPoint", schemars::schema_for!(TermPoint)),
        ("Skew", schemars::schema_for!(Skew)),
    ];
    for (name, schema) in &schemas {
        assert_described(schema.as_value(), name);
    }

    let e = date(2025, 1, 17);
    let quotes = vec![
        quote(e, 100.0, Right::Call, 10, 100),
        quote(e, 100.0, Right::Put, 20, 50),
    ];
    let json = serde_json::to_value(put_call_ratios(&quotes)).unwrap();
    assert_eq!(json["by_expiry"]["2025-01-17"]["volume_ratio"], 2.0);
    let json = serde_json::to_value(max_pain(&quotes).unwrap()).unwrap();
    assert_eq!(json["strike"], 100.0);
}
