//! The login page and logging out from a page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::AppState;
use crate::http::auth::{
    self, ClientAddress, CurrentUser, DEVICE_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::http::extract::{Form, Query};
use crate::http::ui::{Shell, checked_next, local_path, render};
use crate::i18n::Lang;
use crate::services::{secrets, sessions};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    next: String,
    login: String,
    error: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    if let Err(refused) = checked_next(query.next.as_deref()) {
        return refused.into_response();
    }
    login_form(
        &state,
        lang,
        &headers,
        query.next.as_deref(),
        String::new(),
        None,
        StatusCode::OK,
    )
}

/// Renders the form with a fresh double-submit token (cookie and hidden field agree).
fn login_form(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    next: Option<&str>,
    login: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let csrf = auth::cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|token| token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_string)
        .unwrap_or_else(|| secrets::token("", 16));
    let mut shell = Shell::new(state, lang, "/login", None);
    shell.csrf = csrf.clone();
    let page = LoginPage {
        shell,
        next: local_path(next).to_string(),
        login,
        error,
    };
    let cookie = auth::set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        None,
        state.config.cookies_secure(),
    );
    (status, [(header::SET_COOKIE, cookie)], render(&page)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// Whether a form post comes from this site: its token matches, and its Origin (if sent) is ours.
pub fn form_is_from_us(headers: &HeaderMap, expected_token: &str, sent_token: &str) -> bool {
    auth::same_origin(headers) && !expected_token.is_empty() && expected_token == sent_token
}

pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    address: ClientAddress,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(refused) = checked_next(form.next.as_deref()) {
        return refused.into_response();
    }
    let expected = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !form_is_from_us(&headers, expected, &form.csrf) {
        return login_form(
            &state,
            lang,
            &headers,
            form.next.as_deref(),
            form.login,
            Some("login.error_expired"),
            StatusCode::FORBIDDEN,
        );
    }
    let device = auth::cookie(&headers, DEVICE_COOKIE);
    match auth::log_in(&state, &form.login, &form.password, &address, device).await {
        Ok(logged_in) => (
            AppendHeaders([
                (
                    header::SET_COOKIE,
                    auth::session_cookie(&state, &logged_in.session.token),
                ),
                (
                    header::SET_COOKIE,
                    auth::device_cookie(&state, &logged_in.device_token),
                ),
                (
                    header::SET_COOKIE,
                    auth::clear_cookie(LOGIN_CSRF_COOKIE, state.config.cookies_secure()),
                ),
            ]),
            Redirect::to(local_path(form.next.as_deref())),
        )
            .into_response(),
        Err(AppError::TooManyRequests { .. }) => login_form(
            &state,
            lang,
            &headers,
            form.next.as_deref(),
            form.login,
            Some("login.error_throttled"),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(AppError::BadRequest { .. }) => login_form(
            &state,
            lang,
            &headers,
            form.next.as_deref(),
            form.login,
            Some("login.error_wrong"),
            StatusCode::UNAUTHORIZED,
        ),
        Err(other) => other.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    current: Option<CurrentUser>,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Some(current) = current
        && let Some(session) = &current.session
    {
        if !form_is_from_us(&headers, &session.csrf_token, &form.csrf) {
            return AppError::Forbidden("this form did not come from this site".into())
                .into_response();
        }
        if let Err(error) = sessions::close(&state.db, session, &current.user).await {
            return error.into_response();
        }
    }
    (
        [(
            header::SET_COOKIE,
            auth::clear_cookie(SESSION_COOKIE, state.config.cookies_secure()),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}
