//! Use cases: one function per operation, each one transaction, no HTTP types.

pub mod events;
pub mod ledger;
pub mod secrets;
pub mod sessions;
pub mod tokens;
pub mod users;
