//! The event study against an independent numpy computation
//! (`scripts/event_study_reference.py` wrote `data/event_study_reference.json`).

use gs_sentiment::event_study::{StudyConfig, aggregate, study_event};
use serde_json::Value;

use std::cell::Cell;

thread_local! {
    /// Largest relative (or, near zero, absolute) difference seen.
    static WORST: Cell<f64> = const { Cell::new(0.0) };
}

fn close(a: f64, b: f64) -> bool {
    let err = (a - b).abs() / b.abs().max(1.0);
    WORST.with(|w| w.set(w.get().max(err)));
    err <= 1e-10
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn pair(v: &Value) -> (i64, i64) {
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

#[test]
fn agrees_with_numpy_to_1e_10() {
    let r: Value = serde_json::from_str(include_str!("data/event_study_reference.json")).unwrap();
    let stock = floats(&r["stock"]);
    let market = floats(&r["market"]);
    let cfg = StudyConfig {
        estimation: pair(&r["estimation"]),
        windows: r["windows"].as_array().unwrap().iter().map(pair).collect(),
    };
    let mut results = Vec::new();
    for want in r["results"].as_array().unwrap() {
        let e = want["event"].as_u64().unwrap() as usize;
        let got = study_event(&stock, &market, e, &cfg).unwrap();
        for (name, g) in [
            ("alpha", got.model.alpha),
            ("beta", got.model.beta),
            ("sigma", got.model.sigma),
        ] {
            let w = want[name].as_f64().unwrap();
            assert!(close(g, w), "event {e} {name}: {g} vs {w}");
        }
        let ar = floats(&want["ar"]);
        let got_ar: Vec<f64> = got
            .abnormal_returns
            .iter()
            .filter(|(o, _)| (-5..=5).contains(o))
            .map(|(_, a)| *a)
            .collect();
        assert_eq!(got_ar.len(), ar.len());
        for (g, w) in got_ar.iter().zip(&ar) {
            assert!(close(*g, *w), "event {e} AR: {g} vs {w}");
        }
        for (gw, ww) in got.windows.iter().zip(want["windows"].as_array().unwrap()) {
            assert_eq!(gw.start, ww["start"].as_i64().unwrap());
            assert!(
                close(gw.car, ww["car"].as_f64().unwrap()),
                "event {e} CAR {gw:?} vs {ww}"
            );
            assert!(
                close(gw.t_stat, ww["t_stat"].as_f64().unwrap()),
                "event {e} t {gw:?} vs {ww}"
            );
        }
        results.push(got);
    }
    let agg = aggregate(&results, &cfg);
    let worst_per_event = WORST.with(Cell::get);
    for (g, w) in agg.iter().zip(r["aggregate"].as_array().unwrap()) {
        assert_eq!(g.events, 4);
        assert!(close(g.caar, w["caar"].as_f64().unwrap()), "{g:?} vs {w}");
        assert!(
            close(g.t_pooled, w["t_pooled"].as_f64().unwrap()),
            "{g:?} vs {w}"
        );
        assert!(
            close(g.t_cross.unwrap(), w["t_cross"].as_f64().unwrap()),
            "{g:?} vs {w}"
        );
    }
    println!(
        "event study vs numpy: worst difference {:.2e} (per event), {:.2e} (with the aggregates)",
        worst_per_event,
        WORST.with(Cell::get)
    );
}
