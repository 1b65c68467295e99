//! The HTTP face: router, middleware, authentication, the JSON API and the HTML pages.

pub mod api;
pub mod assets;
pub mod auth;
pub mod extract;
pub mod metrics;
pub mod throttle;
pub mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::AppError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub metrics: Arc<metrics::Metrics>,
    /// Label layouts: the shipped ones and any from `labels_dir`.
    pub labels: Arc<crate::render::Templates>,
    /// The scan log's writer (group commit).
    pub scan_log: Arc<crate::services::scan_log::ScanLog>,
    /// Station sessions kept a moment (on SQLite), forgotten after any write.
    pub station_sessions: Arc<crate::services::station_sessions::SessionCache>,
}

impl AppState {
    /// The state for a configuration; fails only when `labels_dir` holds a bad layout.
    pub fn try_new(
        db: DatabaseConnection,
        config: Config,
    ) -> Result<AppState, crate::render::TemplateError> {
        let mut labels = crate::render::Templates::shipped()?;
        if let Some(dir) = &config.labels_dir {
            labels = labels.with_dir(dir)?;
        }
        let mut state = AppState::new(db, config);
        state.labels = Arc::new(labels);
        Ok(state)
    }

    pub fn new(db: DatabaseConnection, config: Config) -> AppState {
        AppState {
            scan_log: Arc::new(crate::services::scan_log::ScanLog::new(db.clone())),
            station_sessions: Arc::new(
                crate::services::station_sessions::SessionCache::for_database(&db),
            ),
            db,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::default()),
            // The shipped layouts are checked by the render module's tests.
            labels: Arc::new(
                crate::render::Templates::shipped().expect("the shipped label layouts are valid"),
            ),
        }
    }
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; media-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The whole service: the same router `serve` runs and the tests drive.
pub fn router(state: AppState) -> Router {
    // The document is built once, from the same routes the router serves.
    let (api, document) = api::router_and_document();
    let document: Arc<str> = serde_json::to_string(&document)
        .unwrap_or_else(|_| "{}".to_string())
        .into();
    let x_request_id = HeaderName::from_static("x-request-id");
    let max_body_bytes = state.config.max_body_bytes;
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        document.to_string(),
                    )
                }
            }),
        )
        .merge(ui::router())
        .merge(assets::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.station_sessions.clone(),
            auth::forget_station_sessions_after_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(header::REFERRER_POLICY, "same-origin"))
                .layer(security_header(
                    header::CONTENT_SECURITY_POLICY,
                    CONTENT_SECURITY_POLICY,
                )),
        )
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// One span per request, named by the matched route (not the raw path, which holds codes).
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// Whether the client is a browser asking for a page rather than a program asking for JSON.
pub fn wants_html(request_path: &str, accept: Option<&HeaderValue>) -> bool {
    !request_path.starts_with("/api/")
        && accept
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

async fn not_found(method: Method, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if method == Method::GET && wants_html(&path, request.headers().get(header::ACCEPT)) {
        return ui::not_found_page(&request).into_response();
    }
    AppError::not_found(format!("nothing at {path}")).into_response()
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
