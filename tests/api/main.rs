//! The integration suite: one binary, every test on a fresh database — SQLite by default,
//! PostgreSQL when `GREENCHIP_TEST_POSTGRES_URL` is set.

mod helpers;

mod access;
mod approvals;
mod audit;
mod auth;
mod backups;
mod certificate_guard;
mod certificate_public;
pub(crate) mod certificates;
mod cli;
mod errors;
mod flow_pages;
mod flows;
mod health;
mod hostile;
mod intake;
mod intake_pages;
mod labels;
mod ledger;
mod migrations;
mod pages;
mod reliability;
mod reports;
mod security;
mod stations;
mod throttles;
