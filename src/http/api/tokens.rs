//! API tokens of the logged-in user.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::api_token;
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::{Json, Path};
use crate::services::tokens;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<&api_token::Model> for TokenView {
    fn from(token: &api_token::Model) -> TokenView {
        TokenView {
            id: token.id,
            name: token.name.clone(),
            created_at: token.created_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for, e.g. "scale bridge at the dismantling bench".
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenView {
    #[serde(flatten)]
    record: TokenView,
    /// The secret, shown this once: send it as `Authorization: Bearer <token>`.
    token: String,
}

/// The caller's tokens, newest first (secrets are never shown again).
#[utoipa::path(get, path = "/tokens", tag = "auth",
    responses((status = 200, body = [TokenView]), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<TokenView>>> {
    let all = tokens::list_for(&state.db, &current.user).await?;
    Ok(Json(all.iter().map(TokenView::from).collect()))
}

/// Create an API token for the caller.
#[utoipa::path(post, path = "/tokens", tag = "auth", request_body = CreateToken,
    responses((status = 201, body = CreatedTokenView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<CreateToken>,
) -> AppResult<(StatusCode, Json<CreatedTokenView>)> {
    let created = tokens::create(&state.db, &current.user, &request.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenView {
            record: TokenView::from(&created.record),
            token: created.token,
        }),
    ))
}

/// Revoke a token (its owner, or an admin).
#[utoipa::path(delete, path = "/tokens/{id}", tag = "auth", params(("id" = Uuid, Path)),
    responses((status = 200, body = TokenView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<Uuid>,
) -> AppResult<Json<TokenView>> {
    let record = tokens::revoke(&state.db, &current.user, id).await?;
    Ok(Json(TokenView::from(&record)))
}
