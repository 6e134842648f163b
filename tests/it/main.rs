//! Integration tests: HTTP against the real router, on SQLite and PostgreSQL.

mod support;

mod audit;
mod auth;
mod cli;
mod events;
mod i18n;
mod isolation;
mod jobs;
mod mfa;
mod ops;
mod profile;
mod smtp;
mod team;
mod tenancy;
mod tickets;
