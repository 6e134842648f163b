//! The one HTTP-facing error type. Handlers return `AppError`; it becomes the JSON error shape
//! here, and `http::errors` re-renders it as a page for HTML requests.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::DbError;

/// A field-level validation message.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct FieldError {
    /// Form or JSON field name.
    pub field: String,
    /// What to change.
    pub message: String,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input was malformed or invalid (400).
    #[error("{message}")]
    Validation {
        /// Summary.
        message: String,
        /// Per-field details.
        fields: Vec<FieldError>,
    },
    /// Not signed in, or the session ended (401).
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Signed in but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or belonging to someone else (404).
    #[error("We could not find that page or record.")]
    NotFound,
    /// Conflicts with existing data (409).
    #[error("{0}")]
    Conflict(String),
    /// Body too large (413).
    #[error("That upload or form is too large.")]
    TooLarge,
    /// Understood but cannot be done in the current state (422).
    #[error("{0}")]
    Unprocessable(String),
    /// Throttled (429).
    #[error("Too many attempts. Please wait {0} seconds and try again.")]
    TooManyRequests(u64),
    /// A bug or an outage; details are logged, not shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A 400 with one field message.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        AppError::Validation {
            message: message.clone(),
            fields: vec![FieldError {
                field: field.into(),
                message,
            }],
        }
    }

    /// A 400 from several field messages.
    pub fn fields(fields: Vec<FieldError>) -> AppError {
        let message = if fields.len() == 1 {
            fields[0].message.clone()
        } else {
            "Please correct the highlighted fields.".to_string()
        };
        AppError::Validation { message, fields }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation { .. } => "validation_failed",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge => "payload_too_large",
            AppError::Unprocessable(_) => "unprocessable",
            AppError::TooManyRequests(_) => "rate_limited",
            AppError::Internal(_) => "internal_error",
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict(_) => AppError::Conflict("That already exists.".into()),
            DbError::InvalidText => AppError::Validation {
                message: "The text contains a NUL character, which cannot be stored. Remove it and try again.".into(),
                fields: Vec::new(),
            },
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

/// The JSON body of every error.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// Inner object.
    pub error: ErrorDetail,
}

/// `{"code", "message", "fields"?}`.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Field details for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// Marks a response as an error so the HTML layer can re-render it as a page.
#[derive(Clone, Debug)]
pub struct RenderedError(pub ErrorDetail);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.status();
        let detail = ErrorDetail {
            code: self.code().to_string(),
            message: self.to_string(),
            fields: match &self {
                AppError::Validation { fields, .. } => fields.clone(),
                _ => Vec::new(),
            },
        };
        let mut resp = (
            status,
            axum::Json(ErrorBody {
                error: detail.clone(),
            }),
        )
            .into_response();
        if let AppError::TooManyRequests(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(RenderedError(detail));
        resp
    }
}

/// Result alias for handlers.
pub type AppResult<T> = Result<T, AppError>;
