//! Token verification end to end: real signatures, real key sets, a loopback JWKS endpoint.

mod harness;
mod jwks_url;
mod tokens;
