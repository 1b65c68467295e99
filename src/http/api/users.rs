//! User accounts: admins create them; supervisors may list them.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::roles::Role;
use crate::entities::user;
use crate::error::{AppResult, Problem};
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::Json;
use crate::services::users::{self, NewUser};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    id: Uuid,
    name: String,
    display_name: String,
    email: Option<String>,
    role: Role,
    /// An apprentice's badge code (`AP-…`).
    badge_code: Option<String>,
    active: bool,
    /// For a partner user: its partner.
    partner_id: Option<Uuid>,
}

impl From<&user::Model> for UserView {
    fn from(user: &user::Model) -> UserView {
        UserView {
            id: user.id,
            name: user.name.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            role: users::role_of(user),
            badge_code: user.badge_code.clone(),
            active: user.active,
            partner_id: user.partner_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name: letters, digits and `. _ - @`.
    name: String,
    display_name: Option<String>,
    email: Option<String>,
    role: Role,
    /// At least 8 characters; leave out to have one generated and answered once.
    password: Option<String>,
    /// For a partner user (and only then): the partner it belongs to.
    partner_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    user: UserView,
    /// The generated password, shown this once; absent when one was given.
    password: Option<String>,
}

/// All accounts (supervisors and admins).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, body = [UserView]), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> AppResult<Json<Vec<UserView>>> {
    current.require(&[Role::Supervisor])?;
    let all = users::list(&state.db).await?;
    Ok(Json(all.iter().map(UserView::from).collect()))
}

/// Create an account (admins).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUser,
    responses(
        (status = 201, body = CreatedUserView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    Json(request): Json<CreateUser>,
) -> AppResult<(StatusCode, Json<CreatedUserView>)> {
    current.require(&[Role::Admin])?;
    let new = NewUser {
        name: request.name,
        display_name: request.display_name,
        email: request.email,
        role: request.role,
        password: request.password,
        partner_id: request.partner_id,
    };
    let created = users::create(&state.db, new, Some(current.user.id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUserView {
            user: UserView::from(&created.user),
            password: created.generated_password,
        }),
    ))
}
