//! Integration tests: HTTP against the real router, on SQLite and PostgreSQL.

mod support;

mod auth;
mod cli;
mod isolation;
mod ops;
mod tenancy;
mod tickets;
