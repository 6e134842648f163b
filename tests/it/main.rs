//! Integration tests: HTTP against the real router, on SQLite and PostgreSQL.

mod support;

mod actions;
mod announcements;
mod audit;
mod auth;
mod branding_uploads;
mod catalog;
mod cli;
mod defaults;
mod documents;
mod events;
mod experience;
mod fake_provider;
mod hardening;
mod i18n;
mod identity;
mod invoices;
mod isolation;
mod jobs;
mod kb;
mod mfa;
mod mission;
mod openapi;
mod ops;
mod payments;
mod profile;
mod smtp;
mod sql_scope;
mod staff_workflow;
mod storage;
mod team;
mod tenancy;
mod tenant_keys;
mod tickets;
