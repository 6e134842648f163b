//! Integration tests: HTTP against the real router, on SQLite and PostgreSQL.

mod support;

mod actions;
mod audit;
mod auth;
mod branding_uploads;
mod cli;
mod defaults;
mod documents;
mod events;
mod experience;
mod hardening;
mod i18n;
mod isolation;
mod jobs;
mod mfa;
mod openapi;
mod ops;
mod profile;
mod smtp;
mod sql_scope;
mod staff_workflow;
mod storage;
mod team;
mod tenancy;
mod tenant_keys;
mod tickets;
