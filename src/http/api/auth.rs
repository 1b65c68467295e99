//! Logging in and out with a session cookie, and who am I.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::api::users::UserView;
use crate::http::auth::{self, ClientAddress, CurrentUser, SESSION_COOKIE};
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
        (status = 200, body = UserView, description = "logged in; `Set-Cookie: gc_session=…`"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "wrong name or password"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many failed attempts"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    address: ClientAddress,
    Json(request): Json<LoginRequest>,
) -> AppResult<Response> {
    let (user, session) = auth::log_in(&state, &request.login, &request.password, &address).await?;
    let cookie = auth::session_cookie(&state, &session.token);
    Ok(([(header::SET_COOKIE, cookie)], Json(UserView::from(&user))).into_response())
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
