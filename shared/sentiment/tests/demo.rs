//! The demo generator: tone follows the demo prices, planted events sit on
//! the largest moves, and the finance layer reads the planted events'
//! direction at least as well as plain VADER (the figures go in the issue note:
//! `cargo test -p gs-sentiment --test demo -- --nocapture`).

use chrono::{TimeZone, Utc};
use gs_domain::Timeframe;
use gs_sentiment::demo::{DemoPrices, generate, headline_name, planted_sign};
use gs_sentiment::event_study::{StudyConfig, aggregate, study_event};
use gs_sentiment::{Label, Scorer, TickerIndex, default_symbol_metadata};

fn prices() -> Vec<DemoPrices> {
    let end = Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap();
    let meta = default_symbol_metadata().unwrap();
    gs_market_data::demo_dataset(42, end)
        .into_iter()
        .filter(|s| s.key.timeframe == Timeframe::D1)
        .map(|s| {
            let sym = s.key.symbol.as_str().to_string();
            DemoPrices {
                name: headline_name(&meta, &sym),
                symbol: sym,
                bars: s.bars.iter().map(|b| (b.time(), b.close())).collect(),
            }
        })
        .collect()
}

#[test]
fn same_seed_same_items_and_every_item_is_synthetic() {
    let p = prices();
    let index = TickerIndex::new(Vec::new(), &default_symbol_metadata().unwrap());
    let a = generate(&p, 42, &index);
    let b = generate(&p, 42, &index);
    assert_eq!(a, b);
    assert!(
        a.news.len() > 500 && a.posts.len() > 500,
        "{} news, {} posts",
        a.news.len(),
        a.posts.len()
    );
    assert!(a.news.iter().all(|n| n.synthetic) && a.posts.iter().all(|p| p.synthetic));
    let ids: std::collections::HashSet<&str> = a.news.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), a.news.len(), "news ids are unique");
}

#[test]
fn the_finance_layer_reads_planted_events_better_than_vader() {
    let p = prices();
    let index = TickerIndex::new(Vec::new(), &default_symbol_metadata().unwrap());
    let items = generate(&p, 42, &index);
    let scorer = Scorer::new().unwrap();
    let planted: Vec<_> = items
        .news
        .iter()
        .filter(|n| n.planted_event.is_some())
        .collect();
    assert!(planted.len() >= 30, "{} planted events", planted.len());
    let (mut fin, mut vader) = (0usize, 0usize);
    for n in &planted {
        let want = planted_sign(n.planted_event.as_deref().unwrap()).unwrap();
        let s = scorer.score(&n.text());
        let agrees = |l: Label| {
            matches!(
                (l, want > 0.0),
                (Label::Positive, true) | (Label::Negative, false)
            )
        };
        fin += usize::from(agrees(s.label));
        vader += usize::from(agrees(s.vader_label));
    }
    let pct = |k: usize| 100.0 * k as f64 / planted.len() as f64;
    println!(
        "planted events: {}; sign agreement: finance layer {fin} ({:.1}%), plain VADER {vader} ({:.1}%)",
        planted.len(),
        pct(fin),
        pct(vader)
    );
    assert!(fin > vader, "finance {fin} vs VADER {vader}");
    assert!(pct(fin) >= 90.0, "finance layer agrees on {:.1}%", pct(fin));
}

#[test]
fn planted_events_show_abnormal_returns_in_the_direction_of_their_tone() {
    let p = prices();
    let index = TickerIndex::new(Vec::new(), &default_symbol_metadata().unwrap());
    let items = generate(&p, 42, &index);
    let spy = p.iter().find(|s| s.symbol == "SPY").unwrap();
    let cfg = StudyConfig::default();
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for n in items.news.iter().filter(|n| n.planted_event.is_some()) {
        let sym = n.tickers.iter().find(|t| *t != "SPY").unwrap();
        let s = p.iter().find(|x| &x.symbol == sym).unwrap();
        // Align on SPY's dates (both are weekday equities).
        let closes: Vec<f64> = s.bars.iter().map(|b| b.1).collect();
        let market: Vec<f64> = spy.bars.iter().map(|b| b.1).collect();
        assert_eq!(s.bars.len(), spy.bars.len());
        let e = s
            .bars
            .iter()
            .position(|b| b.0.date_naive() == n.time.date_naive())
            .unwrap();
        let r = study_event(&closes, &market, e, &cfg).unwrap();
        if planted_sign(n.planted_event.as_deref().unwrap()).unwrap() > 0.0 {
            up.push(r)
        } else {
            down.push(r)
        }
    }
    let up = aggregate(&up, &cfg);
    let down = aggregate(&down, &cfg);
    println!(
        "[-1,+1] CAAR: positive events {:.4} (t {:.2}), negative events {:.4} (t {:.2})",
        up[0].caar, up[0].t_pooled, down[0].caar, down[0].t_pooled
    );
    assert!(up[0].caar > 0.0 && up[0].significant_5pct, "{:?}", up[0]);
    assert!(
        down[0].caar < 0.0 && down[0].significant_5pct,
        "{:?}",
        down[0]
    );
}
