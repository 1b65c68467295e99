//! One error type for the whole service, answered as RFC 9457 `application/problem+json`.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
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

/// Whether a database error means the database is away (answer 503, not 500).
pub fn is_unavailable(error: &DbErr) -> bool {
    matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, ?self, "request failed");
        }
        let problem = self.problem();
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let AppError::TooManyRequests { retry_after_s } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string())
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
