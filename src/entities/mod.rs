//! sea-orm entities, one file per table.

pub mod api_token;
pub mod event;
pub mod session;
pub mod user;
