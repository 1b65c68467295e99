//! `/s/<code>`: what a phone opens when it reads a label's QR code. Any code, or a linked
//! manufacturer barcode, leads to its page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::codes::{Code, CodeKind};
use crate::http::AppState;
use crate::http::extract::Path;
use crate::http::ui::PageContext;
use crate::services::{items, partners};

pub async fn resolve(
    State(state): State<AppState>,
    context: PageContext,
    Path(scanned): Path<String>,
) -> Response {
    match Code::from_scan(&scanned) {
        Ok(code) => match code.kind() {
            CodeKind::Item => Redirect::to(&format!("/items/{code}")).into_response(),
            CodeKind::Collection => Redirect::to(&format!("/collections/{code}")).into_response(),
            CodeKind::Lot => Redirect::to(&format!("/lots/{code}")).into_response(),
            CodeKind::Melt => Redirect::to(&format!("/melts/{code}")).into_response(),
            CodeKind::Shipment => Redirect::to(&format!("/shipments/{code}")).into_response(),
            _ => context.error_page(
                &state,
                StatusCode::NOT_FOUND,
                format!("{code}: {}", context.lang.t("scan.no_page")),
            ),
        },
        // Not a greenchip code: perhaps a manufacturer barcode linked to an item. A partner
        // is led only to its own items: another partner's answers as a barcode nobody linked,
        // so that barcodes cannot be probed.
        Err(reason) => {
            let found = match items::find(&state.db, &scanned).await {
                Ok(found) => match context.current.partner_scope() {
                    None => Some(found),
                    Some(partner) => match partners::owner_of(&state.db, &found.code).await {
                        Ok(owner) => (owner == Some(partner)).then_some(found),
                        Err(error) => return context.app_error(&state, error),
                    },
                },
                Err(_) => None,
            };
            match found {
                Some(found) => Redirect::to(&format!("/items/{}", found.code)).into_response(),
                None => context.error_page(&state, StatusCode::NOT_FOUND, reason.to_string()),
            }
        }
    }
}
