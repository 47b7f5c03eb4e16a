//! The `portfolio` server's storage so far: orders placed once per
//! idempotency key, on every engine (`store`). The tools come next.

pub mod store;
