//! Logging in and out with a session cookie, and who am I.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::api::users::UserView;
use crate::http::auth::{self, ClientAddress, CurrentUser, DEVICE_COOKIE, SESSION_COOKIE};
use crate::http::extract::Json;
use crate::services::sessions;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name or e-mail address.
    login: String,
    password: String,
}

/// Log in with a password; answers the user and sets the session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()), request_body = LoginRequest,
    responses(
        (status = 200, body = UserView, description = "logged in; `Set-Cookie: gc_session=…` and `gc_device=…` (this browser may skip the account's login delay later)"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "wrong name or password"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many failed attempts: wait `Retry-After` seconds (at most 30)"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> AppResult<Response> {
    let device = auth::cookie(&headers, DEVICE_COOKIE);
    let logged_in =
        auth::log_in(&state, &request.login, &request.password, &address, device).await?;
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                auth::session_cookie(&state, &logged_in.session.token),
            ),
            (
                header::SET_COOKIE,
                auth::device_cookie(&state, &logged_in.device_token),
            ),
        ]),
        Json(UserView::from(&logged_in.user)),
    )
        .into_response())
}

/// End the current session on the server.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn logout(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    if let Some(session) = &current.session {
        sessions::close(&state.db, session, &current.user).await?;
    }
    let cookie = auth::clear_cookie(SESSION_COOKIE, state.config.cookies_secure());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The authenticated user.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(current: CurrentUser) -> Json<UserView> {
    Json(UserView::from(&current.user))
}
