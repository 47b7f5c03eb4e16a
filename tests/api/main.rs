//! End-to-end tests of the `goldensignals` binary: each test starts the real
//! server (see `helpers::spawn_app`) and talks to it over HTTP, with raw
//! requests where the wire matters and with the rmcp client elsewhere.

mod auth;
mod cli;
mod edge;
mod guardrails;
mod helpers;
mod persistence;
mod protocol;
mod resources;
mod roles;
mod schemas;
mod scopes;
mod technical;
mod tools;
mod wire;
