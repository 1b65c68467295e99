//! Static assets, embedded in the binary: the workshop LAN may have no internet.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::AppState;
use crate::http::extract::Path;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:literal) => {
        Asset {
            path: $path,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../assets/", $path)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("css/app.css", "text/css; charset=utf-8"),
    asset!("js/api-docs.js", "text/javascript; charset=utf-8"),
    asset!("js/intake.js", "text/javascript; charset=utf-8"),
    asset!("js/kiosk.js", "text/javascript; charset=utf-8"),
    asset!("vendor/jsqr/jsQR.js", "text/javascript; charset=utf-8"),
    asset!("img/favicon.svg", "image/svg+xml"),
    asset!(
        "vendor/swagger-ui/swagger-ui.css",
        "text/css; charset=utf-8"
    ),
    asset!(
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "text/javascript; charset=utf-8"
    ),
];

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{*path}", get(serve)).route(
        "/favicon.ico",
        get(|| serve(Path("img/favicon.svg".to_string()))),
    )
}

async fn serve(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.path == path) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => crate::error::AppError::not_found(format!("no asset {path}")).into_response(),
    }
}
