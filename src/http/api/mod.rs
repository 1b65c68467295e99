//! The JSON API under `/api/v1`, described by an OpenAPI 3.1 document generated from the handlers.

mod auth;
mod catalogue;
pub mod certificates;
pub mod collections;
mod events;
mod health;
mod items;
pub mod labels;
mod ledger;
pub mod lots;
mod melts;
pub mod partners;
mod problems;
pub mod reports;
mod shipments;
pub mod stations;
mod tokens;
mod users;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "greenchip",
        description = "Tracks collected IT equipment through an e-waste recycling training workshop.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("session" = [])),
    components(schemas(crate::error::Problem, crate::error::FieldError))
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `POST /api/v1/tokens` or `greenchip token create`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::http::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API's router and its OpenAPI document, with the shared error answers on every operation.
pub fn router_and_document() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = router().split_for_parts();
    problems::document(&mut document);
    (router, document)
}

/// Every documented route; the HTTP router and the OpenAPI document both come from here.
fn router() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(users::list, users::create))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(events::list))
        .routes(routes!(ledger::holder))
        .routes(routes!(ledger::trace))
        .routes(routes!(ledger::attribution))
        .routes(routes!(ledger::operation))
        .routes(routes!(ledger::correct))
        .routes(routes!(partners::list, partners::create))
        .routes(routes!(partners::get, partners::update))
        .routes(routes!(catalogue::kinds, catalogue::create_kind))
        .routes(routes!(catalogue::update_kind))
        .routes(routes!(catalogue::materials, catalogue::create_material))
        .routes(routes!(catalogue::update_material))
        .routes(routes!(collections::list, collections::create))
        .routes(routes!(collections::get, collections::update))
        .routes(routes!(collections::close))
        .routes(routes!(collections::reopen))
        .routes(routes!(collections::items_of, collections::receive))
        .routes(routes!(collections::receive_bulk))
        .routes(routes!(items::list))
        .routes(routes!(items::get, items::update))
        .routes(routes!(items::correct_mass))
        .routes(routes!(items::link_barcode))
        .routes(routes!(labels::templates))
        .routes(routes!(labels::print))
        .routes(routes!(stations::list, stations::create))
        .routes(routes!(stations::enrol, stations::devices))
        .routes(routes!(stations::revoke))
        .routes(routes!(stations::scan_log))
        .routes(routes!(stations::scan))
        .routes(routes!(stations::session))
        .routes(routes!(stations::sign_out))
        .routes(routes!(stations::act))
        .routes(routes!(stations::set_pin))
        .routes(routes!(stations::unlock_badge))
        .routes(routes!(stations::set_own_pin))
        .routes(routes!(stations::locked_badges))
        .routes(routes!(stations::worklogs))
        .routes(routes!(stations::correct_task))
        .routes(routes!(stations::training))
        .routes(routes!(stations::set_skill))
        .routes(routes!(lots::list, lots::open))
        .routes(routes!(lots::get))
        .routes(routes!(lots::close))
        .routes(routes!(lots::reopen))
        .routes(routes!(lots::transfer))
        .routes(routes!(lots::reweigh))
        .routes(routes!(lots::dismantle))
        .routes(routes!(lots::at_station))
        .routes(routes!(melts::list, melts::start))
        .routes(routes!(melts::get))
        .routes(routes!(melts::charge))
        .routes(routes!(melts::note))
        .routes(routes!(melts::pour))
        .routes(routes!(shipments::processors, shipments::create_processor))
        .routes(routes!(shipments::update_processor))
        .routes(routes!(shipments::list, shipments::ship))
        .routes(routes!(shipments::get))
        .routes(routes!(certificates::list, certificates::issue))
        .routes(routes!(certificates::ready))
        .routes(routes!(certificates::get))
        .routes(routes!(certificates::pdf))
        .routes(routes!(certificates::revoke))
        .routes(routes!(certificates::verify))
        .routes(routes!(certificates::signing_keys))
        .routes(routes!(reports::yields))
        .routes(routes!(reports::yield_table))
        .routes(routes!(reports::dashboard))
        .routes(routes!(reports::monthly));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .route(
            "/metrics",
            axum::routing::get(crate::http::metrics::exposition),
        )
        .nest("/api/v1", v1)
}
