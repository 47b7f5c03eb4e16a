//! What the guardrails add to a call: the same `get_quote` through the whole
//! in-process gateway (host check, authentication, rate limit, audit
//! append, redaction check, fast path, tool, embedded store), with the
//! guardrails on and off; and the token check both include.
//!
//! `cargo bench -p gs-mcp --bench guardrails`

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use gs_auth::Policy;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Limits high enough that the benchmark never reaches them.
    let policy = || {
        Policy::from_json(
            r#"{"rate_limits": {"window_seconds": 3600, "default": {"servers": {"*": 100000000}}},
                "roles": {"admin": {"scopes": ["*"]}}}"#,
        )
        .unwrap()
    };
    let mut group = c.benchmark_group("get_quote_through_the_gateway");
    for on in [false, true] {
        let gw = runtime.block_on(support::gateway(on, None, policy()));
        let name = if on {
            "guardrails_on"
        } else {
            "guardrails_off"
        };
        let mut id = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                id += 1;
                let request =
                    support::call_request(&gw.token, id, "get_quote", r#"{"symbol":"AAPL"}"#);
                let (status, _) = runtime.block_on(support::send(&gw.app, request));
                assert!(status.is_success());
            })
        });
    }
    group.finish();
    // Authentication, which both variants include: one ES256 token check
    // (signature, claims, scopes; the JWKS is cached).
    let gw = runtime.block_on(support::gateway(false, None, policy()));
    c.bench_function("authenticate_bearer_token", |b| {
        b.iter(|| runtime.block_on(gw.verifier.verify(&gw.token)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(200).measurement_time(std::time::Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
