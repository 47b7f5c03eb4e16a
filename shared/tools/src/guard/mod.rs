//! Guardrails the gateway applies to every call, whatever its path: rate
//! limits, the audit log, and output redaction. They use only the store and
//! field-encryption ports, so the local server and the Lambda gateway share
//! them; the HTTP and JSON-RPC parts live in gs-mcp.

pub mod audit;
pub mod rate_limit;
pub mod redact;
pub mod sanitize;
