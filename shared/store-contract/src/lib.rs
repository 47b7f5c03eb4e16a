//! The contract of the storage ports, written once and run against every
//! engine (embedded redb, DynamoDB) so they cannot drift. The ports' doc
//! comments in `gs-domain` say what is promised; these cases check it.
//!
//! This crate depends only on `gs-domain`, `chrono` and `tokio`, never on an
//! engine, so any engine crate runs it as a dev-dependency without pulling in
//! another engine.
//!
//! Each case is a `pub async fn` that takes a fresh, empty store and panics on
//! a violation. To run them all, an engine's integration test invokes the
//! macros with an expression that yields `(store, guard)`, where the guard
//! keeps whatever backs the store alive (a temp dir, a table to delete):
//!
//! ```text
//! async fn fresh() -> (DynamoStore, TestTable) { /* ... */ }
//! gs_store_contract::bar_store_contract!(fresh());
//! gs_store_contract::record_store_contract!(fresh());
//! ```
//!
//! The generated tests use `#[tokio::test]` on a multi-thread runtime, so the
//! calling crate needs `tokio` (features `macros`, `rt-multi-thread`). TTL
//! cases sleep for under a second in all, against the engine's own clock.

pub mod bars;
pub mod bus;
pub mod records;

/// One `#[tokio::test]` per `BarStore` case. `$fresh` is evaluated once per
/// test and must be a future of `(store, guard)`; the store must be `Clone`.
#[macro_export]
macro_rules! bar_store_contract {
    ($fresh:expr) => {
        $crate::contract_cases!($fresh; bars;
            put_reports_inserted_then_updated,
            overlapping_puts_never_duplicate,
            empty_put_creates_nothing,
            unordered_put_is_refused_and_writes_nothing,
            range_bounds_are_inclusive,
            limit_counts_from_the_start_or_from_the_end,
            series_metadata_tracks_count_first_last_source,
            series_are_isolated_and_listed_by_symbol_then_timeframe,
            bar_values_and_times_round_trip_exactly,
            concurrent_bar_writers_end_consistent,
            readers_never_see_part_of_a_put,
            bars_on_both_sides_of_bucket_boundaries,
            bucket_overflow_is_refused_and_writes_nothing,
            bar_pages_follow_cursors_in_both_orders,
            bar_pages_are_capped_at_the_maximum,
            foreign_cursors_are_invalid,
            series_pages_follow_cursors_within_a_prefix,
            series_pages_are_capped_at_the_maximum,
            series_of_returns_every_timeframe_finest_first,
            retried_put_is_idempotent,
            losing_writers_leave_no_trace_and_readers_never_mix_generations,
        );
    };
}

/// One `#[tokio::test]` per `RecordStore` case; see [`bar_store_contract!`].
#[macro_export]
macro_rules! record_store_contract {
    ($fresh:expr) => {
        $crate::contract_cases!($fresh; records;
            versions_start_at_one_and_increase_by_one,
            if_absent_conflicts_when_present,
            if_version_requires_the_current_version,
            conditional_delete,
            versions_never_restart_after_delete,
            owners_are_isolated,
            collections_are_isolated,
            list_by_prefix_in_both_orders_with_cursors,
            list_pages_are_capped_by_count_and_bytes,
            record_values_are_opaque_bytes,
            oversized_values_are_too_large,
            expired_records_are_invisible,
            short_ttls_expire,
            increment_stops_at_the_ceiling,
            increment_window_restarts_after_expiry,
            concurrent_increments_stop_exactly_at_the_ceiling,
            transaction_is_all_or_nothing,
            transaction_applies_every_kind_of_operation,
            transaction_size_limits,
            concurrent_conditional_writers_never_lose_updates,
            concurrent_creators_exactly_one_wins,
        );
    };
}

/// One `#[tokio::test]` per `EventBus` case. `$fresh` is a function
/// `async fn(Vec<Route>, max_receives: u32) -> (bus, guard)` that builds a
/// fresh, empty bus with those routes; the bus must be `Clone`.
#[macro_export]
macro_rules! bus_contract {
    ($fresh:path) => {
        $crate::bus_cases!($fresh;
            events_reach_only_the_consumers_routed_to_their_type,
            the_envelope_round_trips_exactly,
            acked_messages_are_never_delivered_again,
            unacked_messages_hide_then_come_back,
            retry_releases_now_or_after_a_delay_keeping_the_count,
            past_max_receives_a_message_is_dead_lettered,
            batches_beyond_the_wire_limits_are_split,
            bad_batches_are_refused_and_publish_nothing,
            concurrent_receivers_never_share_a_hidden_message,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! bus_cases {
    ($fresh:path; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (bus, _guard) =
                    $fresh($crate::bus::routes(), $crate::bus::MAX_RECEIVES).await;
                $crate::bus::$case(bus).await;
            }
        )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! contract_cases {
    ($fresh:expr; $module:ident; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (store, _guard) = $fresh.await;
                $crate::$module::$case(store).await;
            }
        )+
    };
}
