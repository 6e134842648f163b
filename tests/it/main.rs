//! Integration tests: HTTP against the real router, on SQLite and PostgreSQL.

mod support;

mod audit;
mod auth;
mod cli;
mod isolation;
mod mfa;
mod ops;
mod profile;
mod team;
mod tenancy;
mod tickets;
