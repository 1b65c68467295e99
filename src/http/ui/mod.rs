//! HTML pages for people: server-rendered, compile-time-checked templates, three languages.

mod dashboard;
mod login;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::auth::{self, CurrentUser};
use crate::http::extract::{Path, Query};
use crate::i18n::Lang;

pub const LANG_COOKIE: &str = "gc_lang";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/lang/{code}", get(switch_language))
        .route("/api/docs", get(api_docs))
}

/// The language of the page: the visitor's choice (cookie), else the browser's, else English.
impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Lang, Self::Rejection> {
        Ok(lang_of(&parts.headers))
    }
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    auth::cookie(headers, LANG_COOKIE)
        .and_then(Lang::from_code)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

/// A link in the navigation bar.
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the layout around every page needs.
pub struct Shell {
    pub lang: Lang,
    pub workshop_name: String,
    /// The current path, to come back to after switching language.
    pub path: String,
    pub user_name: Option<String>,
    pub role: Option<Role>,
    pub csrf: String,
    pub nav: Vec<NavLink>,
}

impl Shell {
    pub fn new(state: &AppState, lang: Lang, path: &str, current: Option<&CurrentUser>) -> Shell {
        let role = current.map(|c| c.role);
        Shell {
            lang,
            workshop_name: state.config.workshop_name.clone(),
            path: path.to_string(),
            user_name: current.map(|c| c.user.display_name.clone()),
            role,
            csrf: current
                .and_then(|c| c.session.as_ref())
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            nav: nav_for(role, lang, path),
        }
    }

    /// A message in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|lang| (lang.code(), lang.native_name(), *lang == self.lang))
            .collect()
    }

    pub fn role_label(&self) -> &'static str {
        self.role
            .map(|role| self.lang.t(&format!("role.{}", role.as_str())))
            .unwrap_or_default()
    }
}

/// The navigation a role sees. Later capabilities add their pages here.
fn nav_for(role: Option<Role>, lang: Lang, path: &str) -> Vec<NavLink> {
    let Some(role) = role else {
        return Vec::new();
    };
    let mut links = vec![("/", "nav.home")];
    if role.is_any_of(&[Role::Supervisor]) {
        links.push(("/api/docs", "nav.api"));
    }
    links
        .into_iter()
        .map(|(href, key)| NavLink {
            href,
            label: lang.t(key),
            current: href == path,
        })
        .collect()
}

/// Renders a template into a page; a template error is logged and answered as a 500.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            AppError::Unexpected(anyhow::anyhow!("rendering a page: {error}")).into_response()
        }
    }
}

/// Only paths on this site are followed after login or a language switch (no open redirect).
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") =>
        {
            next
        }
        _ => "/",
    }
}

#[derive(Debug, serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn switch_language(Path(code): Path<String>, Query(query): Query<NextQuery>) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return AppError::not_found(format!("no language {code}")).into_response();
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(local_path(query.next.as_deref())),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    shell: Shell,
}

/// The page a browser gets for an unknown address (programs get problem+json).
pub fn not_found_page(request: &Request) -> Response {
    let lang = lang_of(request.headers());
    let shell = Shell {
        lang,
        workshop_name: String::new(),
        path: request.uri().path().to_string(),
        user_name: None,
        role: None,
        csrf: String::new(),
        nav: Vec::new(),
    };
    (StatusCode::NOT_FOUND, render(&NotFoundPage { shell })).into_response()
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct ApiDocsPage;

async fn api_docs() -> Response {
    render(&ApiDocsPage)
}
