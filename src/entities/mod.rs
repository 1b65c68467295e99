//! sea-orm entities, one file per table.

pub mod api_token;
pub mod collection;
pub mod equipment_kind;
pub mod event;
pub mod holder;
pub mod holder_composition;
pub mod item;
pub mod item_barcode;
pub mod material;
pub mod movement;
pub mod operation;
pub mod partner;
pub mod session;
pub mod user;
