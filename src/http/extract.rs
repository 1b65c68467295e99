//! axum extractors whose rejections are `AppError`s, so bad input is always problem+json.
//!
//! They also refuse text carrying the NUL character (U+0000) before anything reads it:
//! PostgreSQL cannot store it in a text column and no field of greenchip means it, so a body,
//! path or query string with one is answered 400 the same way on both databases.

use axum::body::{Body, Bytes};
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// JSON body in and out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let request = checked_body(request, state, json_has_nul, |e| {
            JsonRejection::from(e).into()
        })
        .await?;
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(Json(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        refuse_nul(parts.uri.query().is_some_and(url_has_nul))?;
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(value))
    }
}

/// Path parameters.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        refuse_nul(url_has_nul(parts.uri.path()))?;
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(value))
    }
}

/// URL-encoded form body (pages), or the query string of a GET form.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        refuse_nul(request.uri().query().is_some_and(url_has_nul))?;
        let request = checked_body(request, state, url_has_nul_bytes, |e| {
            FormRejection::from(e).into()
        })
        .await?;
        let axum::Form(value) = axum::Form::<T>::from_request(request, state).await?;
        Ok(Form(value))
    }
}

/// Reads the body (within the body limit), refuses it when `has_nul` finds U+0000 in it, and
/// hands back the request with the same body for the real extractor.
async fn checked_body<S: Send + Sync>(
    request: Request,
    state: &S,
    has_nul: fn(&[u8]) -> bool,
    rejected: fn(axum::extract::rejection::BytesRejection) -> AppError,
) -> Result<Request, AppError> {
    let (parts, body) = request.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
        .await
        .map_err(rejected)?;
    refuse_nul(has_nul(&bytes))?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn refuse_nul(found: bool) -> Result<(), AppError> {
    if found {
        return Err(AppError::BadRequest {
            code: "nul_character",
            detail: "text may not contain the NUL character (U+0000)".into(),
        });
    }
    Ok(())
}

/// Whether a JSON text holds U+0000 in a string. JSON can only carry it escaped (`\u0000`; a raw
/// control character is a syntax error the parser reports), and a backslash starts an escape
/// only inside a string, so one pass over the escapes finds it.
fn json_has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Whether URL-encoded text (a path, query string or form body) decodes to U+0000.
fn url_has_nul(text: &str) -> bool {
    url_has_nul_bytes(text.as_bytes())
}

fn url_has_nul_bytes(text: &[u8]) -> bool {
    text.contains(&0) || text.windows(3).any(|w| w == b"%00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_escaped_in_json_and_only_there() {
        assert!(json_has_nul(br#"{"raw":"\u0000"}"#));
        assert!(json_has_nul(br#"{"raw":"ab\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"raw":"\\u0000"}"#));
        assert!(!json_has_nul(br#"{"raw":"\u0001 \"u0000\""}"#));
        assert!(!json_has_nul(br#"{"raw":"trailing\"#));
    }

    #[test]
    fn nul_is_found_percent_encoded_and_not_behind_an_encoded_percent() {
        assert!(url_has_nul("name=a%00b"));
        assert!(url_has_nul("/api/v1/items/%00"));
        assert!(!url_has_nul("name=a%2500b"));
        assert!(!url_has_nul("name=100%25"));
    }
}
