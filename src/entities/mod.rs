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
pub mod sanitisation_record;
pub mod scan;
pub mod session;
pub mod skill;
pub mod station;
pub mod station_action;
pub mod station_device;
pub mod task;
pub mod task_correction;
pub mod user;
