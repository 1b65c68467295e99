//! greenchip: tracks collected IT equipment through an e-waste recycling training workshop.

pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entities;
pub mod error;
pub mod files;
pub mod http;
pub mod i18n;
pub mod render;
pub mod services;
pub mod synthetic;

pub use config::Config;
pub use error::{AppError, AppResult};
pub use http::AppState;

/// The whole HTTP service for a state: what `serve` runs and what the tests drive.
pub fn app(state: AppState) -> axum::Router {
    http::router(state)
}
