//! Portico: a white-label, multi-tenant client portal for MSPs and missions.
//!
//! Features live in their own modules (`tickets`, `team`, `users`, `companies`, `branding`,
//! `profile`, `mfa`, `portal`, `admin`); shared machinery beside them (`state`, `db`, `http`,
//! `files`, `auth`, `tenancy`, `audit`, `jobs`, `events`, `mail`, `i18n`, `web`). `app`
//! assembles them.

pub mod admin;
pub mod announcements;
pub mod app;
pub mod assistant;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod branding;
pub mod catalog;
pub mod companies;
pub mod config;
pub mod db;
pub mod demo;
pub mod documents;
pub mod error;
pub mod events;
pub mod files;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod integrations;
pub mod invoices;
pub mod jobs;
pub mod kb;
pub mod mail;
pub mod mfa;
pub mod mission;
pub mod ops;
pub mod payments;
pub mod pdf;
pub mod portal;
pub mod profile;
pub mod psa;
pub mod seed;
pub mod state;
pub mod team;
pub mod tenancy;
pub mod text;
pub mod tickets;
pub mod users;
pub mod web;
