//! Pure rules, no I/O: codes, roles, the mass ledger, attribution, tolerances and throttles.

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
pub mod throttle;
pub mod tolerance;
