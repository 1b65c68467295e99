//! Use cases: one function per operation, each one transaction, no HTTP types.

pub mod actions;
pub mod audit;
pub mod backups;
pub mod badge_locks;
pub mod catalogue;
pub mod certificates;
pub mod collections;
pub mod dismantling;
pub mod events;
pub mod flows;
pub mod items;
pub mod labels;
pub mod ledger;
pub mod login_devices;
pub mod lots;
pub mod melts;
pub mod partners;
pub mod reports;
pub mod scan_log;
pub mod scans;
pub mod secrets;
pub mod sessions;
pub mod shipments;
pub mod station_sessions;
pub mod stations;
pub mod throttles;
pub mod tokens;
pub mod users;
pub mod worklogs;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

/// A numeric query parameter, refused (422, naming it) outside `min..=max`.
pub fn in_range<T>(field: &str, value: Option<T>, min: T, max: T) -> Result<Option<T>, AppError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    match value {
        Some(value) if value < min || value > max => Err(AppError::invalid(
            field,
            format!("must be from {min} to {max}"),
        )),
        _ => Ok(value),
    }
}

/// The highest page number a list answers: far beyond any list's end, and far below what
/// would overflow the database's row offset.
pub const MAX_PAGE: u64 = 1_000_000;
/// The most rows a page or a limited list answers.
pub const MAX_PER_PAGE: u64 = 500;

/// Which page of a list to answer.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
pub struct Paging {
    /// From 1 (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

impl Paging {
    /// The page asked for, refused (422) when a number is out of its range: a page is from
    /// 1 to [`MAX_PAGE`], its size from 1 to [`MAX_PER_PAGE`].
    pub fn checked(page: Option<u64>, per_page: Option<u64>) -> Result<Paging, AppError> {
        in_range("page", page, 1, MAX_PAGE)?;
        in_range("per_page", per_page, 1, MAX_PER_PAGE)?;
        Ok(Paging { page, per_page })
    }

    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).max(1)
    }

    pub fn per_page(&self) -> u64 {
        self.per_page.unwrap_or(50).clamp(1, 500)
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// Runs a query one page at a time.
pub async fn paginate<E, C>(
    conn: &C,
    query: sea_orm::Select<E>,
    paging: Paging,
) -> Result<Page<E::Model>, sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: Send + Sync,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::PaginatorTrait;
    let paginator = query.paginate(conn, paging.per_page());
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(paging.page() - 1).await?;
    Ok(Page {
        items,
        total,
        page: paging.page(),
        per_page: paging.per_page(),
    })
}
