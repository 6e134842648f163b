//! Integration tests: HTTP against the real router, on SQLite and PostgreSQL.

mod support;

mod auth;
mod events;
mod isolation;
mod jobs;
mod ops;
mod smtp;
mod tenancy;
