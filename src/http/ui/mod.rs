//! HTML pages for people: server-rendered, compile-time-checked templates, three languages.

mod certificates;
mod collections;
mod dashboard;
mod intake;
mod items;
mod labels;
mod login;
mod lots;
mod melts;
mod partners;
pub mod reports;
mod scan;
mod shipments;
mod stations;
mod trace;
mod training;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;

use crate::domain::roles::Role;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::auth::{self, CurrentUser};
use crate::http::extract::{Path, Query};
use crate::i18n::Lang;

pub const LANG_COOKIE: &str = "gc_lang";

/// Declares the pages once: [`router`] serves them and [`PAGE_ROUTES`] lists them, so a test
/// can hold a rule for every page (the access-control matrix fails on a page it does not know).
macro_rules! pages {
    ($($path:literal => $($method:ident($handler:path)),+;)*) => {
        /// Every page route as (method, path), in the order the router declares them.
        pub const PAGE_ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path),)+)*];

        pub fn router() -> Router<AppState> {
            Router::new()$(.route($path, MethodRouter::new()$(.$method($handler))+))*
        }
    };
}

pages! {
    "/" => get(dashboard::page);
    "/login" => get(login::page), post(login::submit);
    "/logout" => post(login::logout);
    "/lang/{code}" => get(switch_language);
    "/api/docs" => get(api_docs);
    "/partners" => get(partners::list), post(partners::create);
    "/collections" => get(collections::list), post(collections::create);
    "/collections/{code}" => get(collections::detail);
    "/collections/{code}/state" => post(collections::change_state);
    "/intake/{code}" => get(intake::page), post(intake::receive);
    "/items/{code}" => get(items::detail);
    "/items/{code}/barcodes" => post(items::link_barcode);
    "/labels/{file}" => get(labels::one);
    "/collections/{code}/labels.pdf" => get(labels::collection);
    "/stations" => get(stations::list), post(stations::create);
    "/stations/{code}" => get(stations::page);
    "/stations/{code}/enrol" => post(stations::enrol);
    "/stations/{code}/devices/{id}/revoke" => post(stations::revoke);
    "/apprentices" => get(training::cohort);
    "/apprentices/{id}" => get(training::page);
    "/apprentices/{id}/skills" => post(training::set_skill);
    "/apprentices/{id}/unlock-badge" => post(training::unlock_badge);
    "/me/pin" => post(dashboard::set_own_pin);
    "/lots" => get(lots::list);
    "/lots/{code}" => get(lots::detail);
    "/lots/{code}/state" => post(lots::change_state);
    "/melts" => get(melts::list);
    "/melts/{code}" => get(melts::detail);
    "/certificates" => get(certificates::list), post(certificates::issue);
    "/certificates/{number}/revoke" => post(certificates::revoke);
    "/verify" => get(certificates::verify_form);
    "/verify/{number}" => get(certificates::verify);
    "/portal" => get(certificates::portal);
    "/portal/collections/{code}" => get(certificates::portal_collection);
    "/.well-known/greenchip-signing-key" => get(certificates::signing_key);
    "/reports" => get(reports::page);
    "/reports/{table}" => get(reports::csv);
    "/shipments" => get(shipments::list);
    "/shipments/{code}" => get(shipments::detail);
    "/trace/{code}" => get(trace::page);
    "/s/{code}" => get(scan::resolve);
    "/S/{code}" => get(scan::resolve);
}

/// A signed-in person asking for a page: who, in which language, at which path.
/// Anyone not signed in is sent to the login page and back.
pub struct PageContext {
    pub current: CurrentUser,
    pub lang: Lang,
    pub path: String,
    pub headers: HeaderMap,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts.uri.path().to_string();
        let current = match <CurrentUser as axum::extract::OptionalFromRequestParts<AppState>>::from_request_parts(
            parts, state,
        )
        .await
        {
            Ok(Some(current)) => current,
            Ok(None) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let encoded: String = next
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => (b as char).to_string(),
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                return Err(Redirect::to(&format!("/login?next={encoded}")).into_response());
            }
            Err(error) => return Err(error.into_response()),
        };
        Ok(PageContext {
            lang: lang_of(&parts.headers),
            current,
            path,
            headers: parts.headers.clone(),
        })
    }
}

impl PageContext {
    pub fn shell(&self, state: &AppState) -> Shell {
        Shell::new(state, self.lang, &self.path, Some(&self.current))
    }

    /// A 403 page unless the person's role is one of `allowed` (none: go ahead).
    pub fn refusal(&self, state: &AppState, allowed: &[Role]) -> Option<Response> {
        (!self.current.role.is_any_of(allowed)).then(|| {
            self.error_page(
                state,
                StatusCode::FORBIDDEN,
                self.lang.t("error.forbidden").to_string(),
            )
        })
    }

    /// As [`refusal`](Self::refusal), and also refuses a form that did not come from one of
    /// this site's pages (CSRF).
    pub fn form_refusal(
        &self,
        state: &AppState,
        allowed: &[Role],
        sent_token: &str,
    ) -> Option<Response> {
        self.refusal(state, allowed)
            .or_else(|| self.forged_form(state, sent_token))
    }

    fn forged_form(&self, state: &AppState, sent_token: &str) -> Option<Response> {
        let expected = self
            .current
            .session
            .as_ref()
            .map(|s| s.csrf_token.as_str())
            .unwrap_or_default();
        (!login::form_is_from_us(&self.headers, expected, sent_token)).then(|| {
            self.error_page(
                state,
                StatusCode::FORBIDDEN,
                self.lang.t("error.form_expired").to_string(),
            )
        })
    }

    /// An error as a page, in the person's language, for what a browser cannot show as JSON.
    pub fn error_page(&self, state: &AppState, status: StatusCode, detail: String) -> Response {
        let page = ErrorPage {
            shell: self.shell(state),
            status: status.as_u16(),
            detail,
        };
        (status, render(&page)).into_response()
    }

    /// An application error as a page (server errors are logged, never shown).
    pub fn app_error(&self, state: &AppState, error: AppError) -> Response {
        let problem = error.problem();
        if error.status().is_server_error() {
            return error.into_response();
        }
        self.error_page(state, error.status(), problem.detail)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    detail: String,
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

    /// A message whose key ends in a value: `tk("item_state", "received")`.
    pub fn tk(&self, prefix: &str, value: &str) -> &'static str {
        self.lang.t(&format!("{prefix}.{value}"))
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
        links.extend([
            ("/collections", "nav.collections"),
            ("/partners", "nav.partners"),
            ("/stations", "nav.stations"),
            ("/lots", "nav.lots"),
            ("/melts", "nav.melts"),
            ("/shipments", "nav.shipments"),
            ("/certificates", "nav.certificates"),
            ("/reports", "nav.reports"),
            ("/apprentices", "nav.apprentices"),
            ("/api/docs", "nav.api"),
        ]);
    } else if role.is_any_of(&[Role::Apprentice]) {
        links.extend([("/lots", "nav.lots"), ("/melts", "nav.melts")]);
    } else if role == Role::Partner {
        links.extend([("/portal", "nav.portal")]);
    }
    links
        .into_iter()
        .map(|(href, key)| NavLink {
            href,
            label: lang.t(key),
            current: if href == "/" {
                path == "/"
            } else {
                path.starts_with(href)
            },
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

/// Only paths on this site are followed after login or a language switch (no open redirect):
/// a path from the root, not `//host`, and without a backslash or a control character
/// anywhere (browsers read `\\` as `/` and drop tabs and line breaks, so `/\t/evil.example`
/// would become `//evil.example`). Anything else leads home.
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.chars().any(|c| c == '\\' || c.is_control()) =>
        {
            next
        }
        _ => "/",
    }
}

/// [`local_path`], refusing outright a `next` that holds a control character (a line break
/// could split the redirect's header): 400, not a redirect.
pub fn checked_next(next: Option<&str>) -> Result<&str, AppError> {
    if next.is_some_and(|next| next.chars().any(char::is_control)) {
        return Err(AppError::BadRequest {
            code: "bad_next",
            detail: "`next` must be a path on this site, without control characters".into(),
        });
    }
    Ok(local_path(next))
}

#[derive(Debug, serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn switch_language(Path(code): Path<String>, Query(query): Query<NextQuery>) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return AppError::not_found(format!("no language {code}")).into_response();
    };
    let next = match checked_next(query.next.as_deref()) {
        Ok(next) => next,
        Err(refused) => return refused.into_response(),
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
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
