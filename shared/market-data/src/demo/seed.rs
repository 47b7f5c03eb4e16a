//! Seeding a store with the demo data set.

use super::{demo_dataset, demo_source};

/// What [`seed_demo`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub series: usize,
    pub bars: usize,
}

/// Stores the demo data set (ending now) through any bar store, marked as
/// synthetic: what `goldensignals serve` does on an empty data directory and
/// `goldensignals dev bootstrap` does on an emulated table.
pub async fn seed_demo(
    store: &dyn gs_domain::BarStore,
    seed: u64,
) -> Result<SeedReport, gs_domain::StoreError> {
    let source = demo_source(seed);
    let dataset = demo_dataset(seed, chrono::Utc::now());
    let mut bars = 0usize;
    for series in &dataset {
        store.put_bars(&series.key, &series.bars, &source).await?;
        bars = bars.saturating_add(series.bars.len());
    }
    Ok(SeedReport {
        series: dataset.len(),
        bars,
    })
}
