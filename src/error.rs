//! One error type for the whole service, answered as RFC 9457 `application/problem+json`.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, RuntimeErr};
use serde::Serialize;
use utoipa::ToSchema;

/// A field-level validation message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The request field, in JSON pointer style without the leading slash (`items/3/mass_g`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    Unprocessable {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// A conflict with a list of reasons (what blocks a certificate, for instance).
    #[error("{detail}")]
    Refused {
        code: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Refused for a reason a client can act on, with a code of its own (a supervisor's
    /// approval not given): 403.
    #[error("{detail}")]
    Denied { code: &'static str, detail: String },
    /// Locked for a while (a badge after too many wrong PINs): 423.
    #[error("{detail}")]
    Locked { code: &'static str, detail: String },
    #[error("{detail}")]
    UnsupportedMediaType { detail: String },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("too many attempts, retry in {retry_after_s} s")]
    TooManyRequests { retry_after_s: u64 },
    #[error("the database is not available")]
    Unavailable,
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("unexpected error: {0}")]
    Unexpected(#[from] anyhow::Error),
}

/// The problem document (RFC 9457) every error is answered with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:greenchip:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable machine-readable code (`not_found`, `validation`, `conflict`, …).
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound(what.into())
    }

    pub fn forbidden() -> AppError {
        AppError::Forbidden("your role does not allow this".into())
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A badge locked after too many wrong PINs. It says nothing of the PIN just typed: while
    /// locked the right one is refused the same way.
    pub fn badge_locked() -> AppError {
        AppError::Locked {
            code: "badge_locked",
            detail: "this badge is locked after too many wrong PINs: ask a supervisor to unlock it"
                .into(),
        }
    }

    /// A supervisor's approval (badge and PIN) not accepted. One answer whatever was wrong
    /// with it (unknown badge, not a supervisor's, wrong PIN) and whatever else the request
    /// holds, so a refusal teaches nothing.
    pub fn approval_refused() -> AppError {
        AppError::Denied {
            code: "approval_refused",
            detail: "not approved: the supervisor scans their own badge and types their PIN".into(),
        }
    }

    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        let error = FieldError::new(field, message);
        AppError::Unprocessable {
            code: "validation",
            detail: format!("{}: {}", error.field, error.message),
            errors: vec![error],
        }
    }

    /// Validation errors on several fields; none when the list is empty.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Result<(), AppError> {
        if errors.is_empty() {
            return Ok(());
        }
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AppError::Unprocessable {
            code: "validation",
            detail,
            errors,
        })
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } | AppError::Refused { .. } => StatusCode::CONFLICT,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Locked { .. } => StatusCode::LOCKED,
            AppError::Denied { .. } => StatusCode::FORBIDDEN,
            AppError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(error) if is_unavailable(error) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict { code, .. } | AppError::Refused { code, .. } => code,
            AppError::Unprocessable { code, .. } => code,
            AppError::Locked { code, .. } | AppError::Denied { code, .. } => code,
            AppError::UnsupportedMediaType { .. } => "unsupported_media_type",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable => "database_unavailable",
            AppError::Database(error) if is_unavailable(error) => "database_unavailable",
            AppError::Database(_) | AppError::Unexpected(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match status {
            // Never leak internals: the cause goes to the log, not to the client.
            StatusCode::INTERNAL_SERVER_ERROR => {
                "something went wrong on our side; it has been logged".to_string()
            }
            StatusCode::SERVICE_UNAVAILABLE => AppError::Unavailable.to_string(),
            _ => self.to_string(),
        };
        Problem {
            problem_type: format!("urn:greenchip:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code: self.code().to_string(),
            errors: match self {
                AppError::Unprocessable { errors, .. } | AppError::Refused { errors, .. } => {
                    errors.clone()
                }
                _ => Vec::new(),
            },
        }
    }
}

/// How long a client should wait before retrying a 503 (`Retry-After`, seconds).
pub const RETRY_AFTER_UNAVAILABLE_S: u64 = 2;

/// Whether a database error means the database is away (answer 503, not 500): no connection
/// could be had, or the one in use broke (PostgreSQL restarting, the network gone).
pub fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            connection_lost(error)
        }
        _ => false,
    }
}

/// A driver error that says the connection is gone rather than that the statement is wrong.
fn connection_lost(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(_)
        | Error::Tls(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01..57P04 (admin or crash shutdown,
        // cannot connect now, database dropped), 53300 (too many connections).
        Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }),
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Expected while the database restarts: one line each, no dump.
            tracing::warn!(error = %self, "database unavailable");
        } else if status.is_server_error() {
            tracing::error!(error = %self, ?self, "request failed");
        }
        let problem = self.problem();
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after_s = match self {
            AppError::TooManyRequests { retry_after_s } => Some(retry_after_s),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_AFTER_UNAVAILABLE_S),
            _ => None,
        };
        if let Some(seconds) = retry_after_s
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        match rejection {
            JsonRejection::JsonDataError(error) => {
                let detail = error.body_text();
                let field = field_of_serde_message(&detail);
                AppError::Unprocessable {
                    code: "validation",
                    errors: vec![FieldError::new(field, detail.clone())],
                    detail,
                }
            }
            JsonRejection::JsonSyntaxError(error) => AppError::BadRequest {
                code: "malformed_json",
                detail: error.body_text(),
            },
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType {
                detail: "expected a body with `Content-Type: application/json`".into(),
            },
            JsonRejection::BytesRejection(error)
                if error.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                AppError::PayloadTooLarge
            }
            other => AppError::BadRequest {
                code: "bad_request",
                detail: other.body_text(),
            },
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        AppError::BadRequest {
            code: "bad_query",
            detail: rejection.body_text(),
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> AppError {
        match rejection {
            FormRejection::InvalidFormContentType(_) => AppError::UnsupportedMediaType {
                detail: "expected a form body (`application/x-www-form-urlencoded`)".into(),
            },
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            other => AppError::BadRequest {
                code: "bad_form",
                detail: other.body_text(),
            },
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> AppError {
        AppError::BadRequest {
            code: "bad_path",
            detail: rejection.body_text(),
        }
    }
}

impl From<crate::domain::ledger::LedgerError> for AppError {
    fn from(error: crate::domain::ledger::LedgerError) -> AppError {
        use crate::domain::ledger::LedgerError;
        let field = match &error {
            LedgerError::NonPositiveMass { seq, .. } | LedgerError::PartsMismatch { seq, .. } => {
                format!("movements/{seq}/mass_g")
            }
            LedgerError::SelfMovement { seq }
            | LedgerError::UnknownHolder { seq, .. }
            | LedgerError::MissingBasis { seq, .. }
            | LedgerError::Attribution { seq, .. } => format!("movements/{seq}"),
            LedgerError::WouldGoNegative { .. } | LedgerError::CompositionShort { .. } => {
                return AppError::conflict("insufficient_mass", error.to_string());
            }
            LedgerError::NoMovements | LedgerError::Overflow => "movements".to_string(),
        };
        AppError::invalid(field, error.to_string())
    }
}

/// serde_path_to_error style messages start with the failing path: `items[3].mass_g: invalid type`.
fn field_of_serde_message(message: &str) -> String {
    let message = message
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(message);
    match message.split_once(": ") {
        Some((path, _)) if !path.contains(' ') => path
            .replace('.', "/")
            .replace(['[', ']'], "/")
            .replace("//", "/"),
        _ => ["missing field `", "unknown field `"]
            .iter()
            .find_map(|marker| message.split_once(marker))
            .map(|(_, rest)| rest.split('`').next().unwrap_or_default().to_string())
            .unwrap_or_default(),
    }
}

/// Maps unique-constraint violations of one statement to a clear conflict, in one place.
pub trait OnConstraint<T> {
    fn on_unique(self, code: &'static str, detail: impl FnOnce() -> String) -> Result<T, AppError>;
}

impl<T> OnConstraint<T> for Result<T, DbErr> {
    fn on_unique(self, code: &'static str, detail: impl FnOnce() -> String) -> Result<T, AppError> {
        self.map_err(|error| match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict {
                code,
                detail: detail(),
            },
            _ => AppError::Database(error),
        })
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use sea_orm::sqlx;
    use sea_orm::sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// A PostgreSQL error as the driver reports it: a message and a SQLSTATE.
    #[derive(Debug)]
    struct Sqlstate(&'static str);

    impl std::fmt::Display for Sqlstate {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            "database error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn query(error: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
    }

    fn exec(error: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
    }

    fn sqlstate(code: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Sqlstate(code)))
    }

    #[test]
    fn a_lost_connection_is_unavailable_not_an_internal_error() {
        let reset = || {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ))
        };
        for error in [
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
            query(reset()),
            exec(reset()),
            query(sqlx::Error::PoolTimedOut),
            // terminating connection due to administrator command (a PostgreSQL restart)
            exec(sqlstate("57P01")),
            // the database system is starting up / shutting down
            query(sqlstate("57P03")),
            // connection failure
            query(sqlstate("08006")),
        ] {
            assert!(is_unavailable(&error), "{error}");
            let error = AppError::Database(error);
            assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(error.code(), "database_unavailable");
            assert_eq!(error.problem().detail, "the database is not available");
        }
    }

    #[test]
    fn a_wrong_statement_stays_an_internal_error() {
        for error in [
            query(sqlstate("42601")), // syntax error
            exec(sqlstate("23505")),  // unique violation not mapped by on_unique
            query(sqlx::Error::RowNotFound),
            DbErr::RecordNotFound("x".into()),
        ] {
            assert!(!is_unavailable(&error), "{error}");
            let error = AppError::Database(error);
            assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(error.code(), "internal");
        }
    }

    #[test]
    fn unavailable_answers_carry_retry_after() {
        let response = AppError::Unavailable.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(
            response.headers()[header::RETRY_AFTER],
            RETRY_AFTER_UNAVAILABLE_S.to_string().as_str()
        );
        let refused = AppError::invalid("mass_g", "must be more than 0").into_response();
        assert!(refused.headers().get(header::RETRY_AFTER).is_none());
    }
}
