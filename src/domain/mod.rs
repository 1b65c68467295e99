//! Pure rules, no I/O: codes, roles, and (with later capabilities) the ledger and lifecycles.

pub mod codes;
pub mod roles;
