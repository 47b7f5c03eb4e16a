//! Greeks and implied volatility for a 2,000-contract chain (a demo chain:
//! weeklies, monthlies and LEAPS, calls and puts), per model.
//! Run: `cargo bench -p gs-options --bench chain_greeks`; the reported time
//! is for the whole chain (divide by 2,000 for one contract).
//! Targets (issue 10): Greeks of the chain <= 2 ms European, <= 20 ms BAW.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gs_options::ChainSnapshot;
use gs_options::demo::{DemoConfig, DemoUnderlying, generate};
use gs_options::metrics::{ChainPricing, greeks_at, price_chain};
use gs_options::model::Model;

const CONTRACTS: usize = 2_000;

/// A demo chain of exactly 2,000 contracts, and each contract's implied vol.
fn chain() -> (ChainSnapshot, Vec<f64>) {
    let start = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
    let mut price = 180.0_f64;
    let mut state = 7u64;
    let closes: Vec<(NaiveDate, f64)> = (0..200)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            price *= 1.0 + (u - 0.5) * 0.035;
            (start + chrono::Days::new(i), price)
        })
        .collect();
    let demo = generate(
        &DemoUnderlying {
            symbol: "BENCH".into(),
            closes,
            rate: 0.04,
            dividend: 0.0,
        },
        &DemoConfig {
            prints_per_day: 10,
            ..DemoConfig::default()
        },
    )
    .unwrap();
    let mut snap = demo.snapshots.last().unwrap().clone();
    let pricing = ChainPricing::default();
    let metrics = price_chain(&snap, &pricing);
    let mut quotes = Vec::new();
    let mut vols = Vec::new();
    for (q, m) in snap.quotes.iter().zip(&metrics) {
        if let Ok(v) = m.iv
            && v > 0.0
        {
            quotes.push(q.clone());
            vols.push(v);
        }
    }
    assert!(
        quotes.len() >= CONTRACTS / 2,
        "{} priced contracts",
        quotes.len()
    );
    // Repeat the priced contracts up to exactly 2,000.
    let (base_q, base_v) = (quotes.clone(), vols.clone());
    while quotes.len() < CONTRACTS {
        let i = quotes.len() % base_q.len();
        quotes.push(base_q[i].clone());
        vols.push(base_v[i]);
    }
    quotes.truncate(CONTRACTS);
    vols.truncate(CONTRACTS);
    snap.quotes = quotes;
    (snap, vols)
}

fn bench(c: &mut Criterion) {
    let (snap, vols) = chain();
    let mut group = c.benchmark_group("chain_2000");
    group.throughput(Throughput::Elements(CONTRACTS as u64));
    group.sample_size(20);
    for (name, model) in [
        ("greeks_black_scholes", Model::BlackScholes),
        ("greeks_barone_adesi_whaley", Model::BaroneAdesiWhaley),
        ("greeks_bjerksund_stensland", Model::BjerksundStensland),
    ] {
        let pricing = ChainPricing {
            model: Some(model),
            ..ChainPricing::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(greeks_at(black_box(&snap), &pricing, &vols)))
        });
    }
    for (name, model) in [
        ("iv_and_greeks_black_scholes", Model::BlackScholes),
        (
            "iv_and_greeks_barone_adesi_whaley",
            Model::BaroneAdesiWhaley,
        ),
    ] {
        let pricing = ChainPricing {
            model: Some(model),
            ..ChainPricing::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(price_chain(black_box(&snap), &pricing)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
