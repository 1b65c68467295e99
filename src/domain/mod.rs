//! Pure rules, no I/O: codes, roles, the mass ledger, attribution and tolerances.

pub mod attribution;
pub mod audit;
pub mod badge_lock;
pub mod certificate;
pub mod codes;
pub mod intake;
pub mod ledger;
pub mod lifecycle;
pub mod lots;
pub mod mass;
pub mod public_facts;
pub mod roles;
pub mod tolerance;
