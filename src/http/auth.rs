//! Who is asking: a session cookie or a bearer token, resolved to a user and a role.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};

use crate::domain::roles::Role;
use crate::domain::throttle::{DEVICE_FAILURES, Rule};
use crate::entities::{session, user};
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::throttle;
use crate::services::station_sessions::{SessionCache, SessionsUnchanged};
use crate::services::{login_devices, sessions, throttles, tokens, users};

pub const SESSION_COOKIE: &str = "gc_session";
/// Double-submit cookie that protects the login form, before any session exists.
pub const LOGIN_CSRF_COOKIE: &str = "gc_csrf";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: user::Model,
    pub role: Role,
    /// Present when the caller came with a session cookie (a person in a browser).
    pub session: Option<session::Model>,
}

impl CurrentUser {
    /// Refuses with 403 unless the caller's role is one of `allowed` (admins always pass).
    pub fn require(&self, allowed: &[Role]) -> AppResult<()> {
        if self.role.is_any_of(allowed) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// For a partner user, the partner its reads are confined to; none for everyone else.
    pub fn partner_scope(&self) -> Option<uuid::Uuid> {
        (self.role == Role::Partner).then(|| self.user.partner_id.unwrap_or_else(uuid::Uuid::nil))
    }

    /// A list a partner may read too: readers in `allowed` see everything (none), a partner
    /// only its own partner's (`Some`); anyone else is refused.
    pub fn reader_scope(&self, allowed: &[Role]) -> AppResult<Option<uuid::Uuid>> {
        match self.partner_scope() {
            Some(partner) => Ok(Some(partner)),
            None => self.require(allowed).map(|()| None),
        }
    }

    /// Readers in `allowed` may read anything; a partner user only what belongs to its own
    /// partner (`owner`). Anything else a partner asks for answers 404, exactly as a code that
    /// does not exist, so codes cannot be probed.
    pub fn may_read(
        &self,
        allowed: &[Role],
        owner: Option<uuid::Uuid>,
        what: &str,
    ) -> AppResult<()> {
        match self.partner_scope() {
            Some(partner) if owner == Some(partner) => Ok(()),
            Some(_) => Err(AppError::not_found(format!("no {}", what.trim()))),
            None => self.require(allowed),
        }
    }
}

/// The value of one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path /, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age_s: Option<u64>, secure: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(max_age_s) = max_age_s {
        text.push_str(&format!("; Max-Age={max_age_s}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", Some(0), secure)
}

/// Whether a request's `Origin` (when a browser sent one) is this site: the same host as the
/// request's `Host`.
pub fn same_origin(headers: &HeaderMap) -> bool {
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// A browser request that would change something, sent by a page of another site with this
/// site's cookie: refused. (The cookies' `SameSite=Lax` keeps most of them out already; this
/// also covers a sibling site of the same domain, and a bodiless POST that needs no JSON.)
fn refuse_cross_site_write(parts: &Parts) -> AppResult<()> {
    if parts.method.is_safe() || same_origin(&parts.headers) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "a request from another site may not change anything here".into(),
        ))
    }
}

/// The client's address: the socket peer, or `X-Forwarded-For` behind a trusted proxy.
pub fn client_address(
    parts_headers: &HeaderMap,
    connect: Option<&ConnectInfo<SocketAddr>>,
    trust_forwarded: bool,
) -> Option<String> {
    if trust_forwarded
        && let Some(forwarded) = parts_headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
    {
        return Some(forwarded.trim().to_string());
    }
    connect.map(|ConnectInfo(address)| address.ip().to_string())
}

async fn authenticate(parts: &mut Parts, state: &AppState) -> AppResult<Option<CurrentUser>> {
    if let Some(cached) = parts.extensions.get::<CurrentUser>() {
        return Ok(Some(cached.clone()));
    }
    let found = if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
        let token = authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthenticated)?;
        // A presented token that is wrong is an error, never a fall-back to the cookie.
        let user = tokens::resolve(&state.db, token.trim())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Some(CurrentUser {
            role: users::role_of(&user),
            user,
            session: None,
        })
    } else if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        refuse_cross_site_write(parts)?;
        sessions::resolve(&state.db, token, state.config.session_hours)
            .await?
            .map(|(session, user)| CurrentUser {
                role: users::role_of(&user),
                user,
                session: Some(session),
            })
    } else {
        None
    };
    if let Some(current) = &found {
        parts.extensions.insert(current.clone());
    }
    Ok(found)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        authenticate(parts, state)
            .await?
            .ok_or(AppError::Unauthenticated)
    }
}

impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        authenticate(parts, state).await
    }
}

/// The client's address as far as this service can tell (see [`client_address`]).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let connect = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientAddress(client_address(
            &parts.headers,
            connect,
            state.config.trust_forwarded_for,
        )))
    }
}

/// A login that succeeded: the account, its new session, and the browser's new device token.
pub struct LoggedIn {
    pub user: user::Model,
    pub session: sessions::NewSession,
    pub device_token: String,
}

/// Checks a login against the rate limits (`http::throttle`) and the password, opens a
/// session and issues a new device token. `device_token` is the browser's device cookie, if
/// any. Shared by the JSON API and the login form.
pub async fn log_in(
    state: &AppState,
    login: &str,
    password: &str,
    address: &ClientAddress,
    device_token: Option<&str>,
) -> AppResult<LoggedIn> {
    let now = crate::clock::now();
    let db = &state.db;
    let rules = throttle::LoginRules::of(&state.config);
    let found = users::find_for_login(db, login).await?;
    let account = throttle::account_key(found.as_ref(), login);
    let address = throttle::address_key(address.0.as_deref());
    let device = match (device_token, &found) {
        (Some(token), Some(user))
            if login_devices::resolve(db, token, now).await? == Some(user.id) =>
        {
            Some(login_devices::throttle_key(token))
        }
        _ => None,
    };
    let trusted = match &device {
        Some(key) => throttles::count(db, key, now).await? < DEVICE_FAILURES,
        None => false,
    };
    // Counted before the password is checked, so simultaneous guesses cannot all slip
    // through while the first is being checked; a success gives the counts back below.
    let counted: Vec<(&str, Rule)> = match &device {
        Some(device) if trusted => vec![(device, rules.device)],
        _ => vec![(&account, rules.account), (&address, rules.address)],
    };
    throttles::take(db, &counted, now).await?;
    match users::check_password(found, password).await {
        Ok(user) => {
            if trusted {
                throttles::forget(db, &[device.as_deref().unwrap_or_default()]).await?;
            } else {
                let mut proven = vec![account.as_str()];
                proven.extend(device.as_deref());
                throttles::forget(db, &proven).await?;
                throttles::give_back(db, &address).await?;
            }
            let session = sessions::open(db, &user, state.config.session_hours).await?;
            let device_token = login_devices::issue(db, user.id, device_token, now).await?;
            Ok(LoggedIn {
                user,
                session,
                device_token,
            })
        }
        Err(refusal) => {
            tracing::info!(
                login = %refusal.logged_login(login),
                reason = refusal.reason(),
                "login refused"
            );
            Err(AppError::BadRequest {
                code: "login_failed",
                detail: "wrong name or password".into(),
            })
        }
    }
}

/// The session cookie for a new session.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(
        SESSION_COOKIE,
        token,
        Some(u64::from(state.config.session_hours) * 3600),
        state.config.cookies_secure(),
    )
}

/// The device cookie: the browser has logged into its account before (`http::throttle`).
pub const DEVICE_COOKIE: &str = "gc_device";

/// The device cookie for a new device token, kept as long as the token is honoured.
pub fn device_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(
        DEVICE_COOKIE,
        token,
        Some(login_devices::DEVICE_DAYS as u64 * 24 * 3600),
        state.config.cookies_secure(),
    )
}

/// The cookie an enrolled station device holds (its long-lived station session).
pub const STATION_COOKIE: &str = "gc_station";

/// A request from a device enrolled as a station (cookie `gc_station`, or the header
/// `X-Station-Token` for scanners and scripts).
pub use crate::services::stations::Session as StationDevice;

impl FromRequestParts<AppState> for StationDevice {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = match parts
            .headers
            .get("x-station-token")
            .and_then(|value| value.to_str().ok())
        {
            Some(token) => token,
            None => {
                let token =
                    cookie(&parts.headers, STATION_COOKIE).ok_or(AppError::Unauthenticated)?;
                refuse_cross_site_write(parts)?;
                token
            }
        };
        state
            .station_sessions
            .resolve(&state.db, token.trim())
            .await?
            .ok_or(AppError::Unauthenticated)
    }
}

/// After a request that may have written (any method but GET, HEAD, OPTIONS and TRACE), the
/// kept station sessions are read again, unless its answer says it changed none. A request
/// dropped half-way (its client gone) forgets them too: its write may have committed.
pub async fn forget_station_sessions_after_writes(
    axum::extract::State(sessions): axum::extract::State<Arc<SessionCache>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut forget = ForgetOnDrop((!request.method().is_safe()).then_some(sessions));
    let response = next.run(request).await;
    if response.extensions().get::<SessionsUnchanged>().is_some() {
        forget.0 = None;
    }
    response
}

/// Forgets the kept station sessions when dropped (unless emptied first).
struct ForgetOnDrop(Option<Arc<SessionCache>>);

impl Drop for ForgetOnDrop {
    fn drop(&mut self) {
        if let Some(sessions) = self.0.take() {
            sessions.forget_all();
        }
    }
}

impl OptionalFromRequestParts<AppState> for StationDevice {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        match <StationDevice as FromRequestParts<AppState>>::from_request_parts(parts, state).await
        {
            Ok(found) => Ok(Some(found)),
            Err(AppError::Unauthenticated) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// Who performs a material-flow step: the apprentice signed in at an enrolled station device,
/// or a supervisor (or admin) with a session or token. A device with nobody signed in is
/// refused with "scan your badge first".
#[derive(Debug, Clone)]
pub struct Performing(pub crate::services::flows::Performer);

impl Performing {
    /// The performer, at the station a supervisor names (a device is always at its own).
    pub async fn at(
        self,
        state: &AppState,
        station: Option<&str>,
    ) -> AppResult<crate::services::flows::Performer> {
        let mut performer = self.0;
        if performer.station.is_none()
            && let Some(code) = station.map(str::trim).filter(|c| !c.is_empty())
        {
            performer.station = Some(
                crate::services::stations::find(&state.db, code)
                    .await
                    .map_err(|error| match error {
                        AppError::NotFound(detail) => AppError::invalid("station", detail),
                        other => other,
                    })?,
            );
        }
        Ok(performer)
    }
}

/// A step that weighs: who performs it, a supervisor's override if one was asked for, and the
/// tolerance at the station's kind (`default_kind` off a station).
pub struct Weighing {
    pub performer: crate::services::flows::Performer,
    pub overridden: Option<crate::services::flows::Override>,
    pub tolerance_bp: u32,
}

impl Performing {
    pub async fn weighing(
        self,
        state: &AppState,
        station: Option<&str>,
        override_request: Option<&crate::services::flows::OverrideRequest>,
        default_kind: &str,
    ) -> AppResult<Weighing> {
        // The approval first: a refused one answers the same whatever else is wrong.
        let overridden =
            crate::services::flows::resolve_override(&state.db, &self.0, override_request).await?;
        let performer = self.at(state, station).await?;
        let tolerance_bp = state
            .config
            .tolerance_for(performer.station_kind_or(default_kind));
        Ok(Weighing {
            performer,
            overridden,
            tolerance_bp,
        })
    }
}

impl FromRequestParts<AppState> for Performing {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(at) =
            <StationDevice as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
                .await?
        {
            let apprentice = at
                .require_apprentice(state.config.station_idle_minutes, chrono::Utc::now())?
                .clone();
            return Ok(Performing(crate::services::flows::Performer {
                role: users::role_of(&apprentice),
                user: apprentice,
                station: Some(at.station),
                device_id: Some(at.device.id),
            }));
        }
        let current =
            <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        current.require(&[Role::Supervisor])?;
        Ok(Performing(crate::services::flows::Performer {
            user: current.user,
            role: current.role,
            station: None,
            device_id: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Method, Request};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A router whose `/unchanged` marks its answer, `/plain` does not and `/stuck` never answers.
    fn app(sessions: Arc<SessionCache>) -> Router {
        let unchanged = || async { (axum::Extension(SessionsUnchanged), "ok") };
        Router::new()
            .route("/unchanged", axum::routing::post(unchanged))
            .route("/plain", get(|| async { "ok" }).post(|| async { "ok" }))
            .route("/stuck", axum::routing::post(std::future::pending::<()>))
            .layer(axum::middleware::from_fn_with_state(
                sessions,
                forget_station_sessions_after_writes,
            ))
    }

    async fn send(sessions: &Arc<SessionCache>, method: Method, path: &str) -> u64 {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        // A request still running after 50 ms is dropped, as when its client goes away.
        let _ = tokio::time::timeout(
            Duration::from_millis(50),
            app(sessions.clone()).oneshot(request),
        )
        .await;
        sessions.forgotten()
    }

    #[tokio::test]
    async fn sessions_are_forgotten_after_a_request_that_may_write_unless_it_changed_none() {
        let sessions = Arc::new(SessionCache::with_lifetime(Some(Duration::from_secs(1))));
        assert_eq!(send(&sessions, Method::GET, "/plain").await, 0, "a read");
        assert_eq!(send(&sessions, Method::HEAD, "/plain").await, 0, "a read");
        assert_eq!(
            send(&sessions, Method::POST, "/unchanged").await,
            0,
            "said unchanged"
        );
        assert_eq!(send(&sessions, Method::POST, "/plain").await, 1, "a write");
        assert_eq!(
            send(&sessions, Method::DELETE, "/plain").await,
            2,
            "refused, all the same"
        );
        assert_eq!(
            send(&sessions, Method::POST, "/stuck").await,
            3,
            "dropped half-way"
        );
    }
}
