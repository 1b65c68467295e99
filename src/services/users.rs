//! People: creating accounts, checking passwords, the first admin.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::codes::{Code, CodeKind};
use crate::domain::roles::Role;
use crate::entities::user;
use crate::error::{AppError, AppResult, FieldError, OnConstraint};
use crate::services::events::{self, NewEvent};
use crate::services::secrets;

/// The login name of the account created on first start.
pub const INITIAL_ADMIN: &str = "admin";
const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    /// None: a password is generated and answered once.
    pub password: Option<String>,
    /// Required for (and only for) partner users: the partner they belong to.
    pub partner_id: Option<Uuid>,
}

/// A created account, with the generated password when none was given.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: user::Model,
    pub generated_password: Option<String>,
}

pub fn role_of(user: &user::Model) -> Role {
    // Roles are written only through `Role::as_str`; an unknown one is treated as the least
    // privileged rather than failing the request.
    user.role.parse().unwrap_or(Role::Partner)
}

fn validate(new: &NewUser) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        errors.push(FieldError::new("name", "must be 1 to 64 characters"));
    } else if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        errors.push(FieldError::new(
            "name",
            "may hold letters, digits and . _ - @ only",
        ));
    }
    if let Some(email) = &new.email
        && (!email.contains('@') || email.chars().count() > 254)
    {
        errors.push(FieldError::new("email", "is not an e-mail address"));
    }
    if let Some(password) = &new.password
        && password.chars().count() < MIN_PASSWORD_CHARS
    {
        errors.push(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    match (new.role, new.partner_id) {
        (Role::Partner, None) => errors.push(FieldError::new(
            "partner_id",
            "a partner user belongs to a partner",
        )),
        (role, Some(_)) if role != Role::Partner => errors.push(FieldError::new(
            "partner_id",
            "only partner users belong to a partner",
        )),
        _ => {}
    }
    AppError::invalid_fields(errors)
}

/// Hashes a password with Argon2id off the async runtime (it takes tens of milliseconds).
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing a password: {error}"))
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(AppError::from)
}

pub async fn password_matches(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Creates an account in one transaction with its audit event. Apprentices and supervisors
/// get a badge code.
pub async fn create(
    db: &DatabaseConnection,
    new: NewUser,
    actor_id: Option<Uuid>,
) -> AppResult<CreatedUser> {
    validate(&new)?;
    let generated_password = new.password.is_none().then(secrets::generated_password);
    let password = new
        .password
        .clone()
        .or_else(|| generated_password.clone())
        .unwrap_or_default();
    let password_hash = hash_password(password).await?;
    let name = new.name.trim().to_string();
    // Apprentices sign in at stations with their badge; supervisors approve steps there with
    // theirs (and a PIN they set themselves).
    let badge_code = new
        .role
        .is_any_of(&[Role::Apprentice, Role::Supervisor])
        .then(|| Code::random(CodeKind::Apprentice).to_string());

    let txn = begin_write(db).await?;
    if let Some(partner_id) = new.partner_id {
        crate::services::partners::get(&txn, partner_id)
            .await
            .map_err(|_| AppError::invalid("partner_id", format!("no partner {partner_id}")))?;
    }
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.clone()),
        display_name: Set(new
            .display_name
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| name.clone())),
        email: Set(new.email.clone().map(|e| e.trim().to_lowercase())),
        role: Set(new.role.as_str().to_string()),
        password_hash: Set(Some(password_hash)),
        badge_code: Set(badge_code),
        active: Set(true),
        created_at: Set(Utc::now()),
        partner_id: Set(new.partner_id),
        pin_hash: Set(None),
    }
    .insert(&txn)
    .await
    .on_unique("user_exists", || {
        format!("a user named “{name}” (or with that e-mail) already exists")
    })?;
    events::record(
        &txn,
        NewEvent::new("user.created", actor_id)
            .subject(user.name.clone())
            .payload(
                json!({ "user_id": user.id, "role": user.role, "badge_code": user.badge_code }),
            ),
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedUser {
        user,
        generated_password,
    })
}

/// On an empty database, creates the `admin` account and answers its generated password,
/// to be shown once. Several instances starting together create it once between them.
pub async fn ensure_initial_admin(db: &DatabaseConnection) -> AppResult<Option<String>> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let new = NewUser {
        name: INITIAL_ADMIN.to_string(),
        display_name: Some("Administrator".to_string()),
        email: None,
        role: Role::Admin,
        password: None,
        partner_id: None,
    };
    match create(db, new, None).await {
        Ok(created) => Ok(created.generated_password),
        Err(AppError::Conflict { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Why a login failed; the client is told only "wrong name or password".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    /// No account has this name or e-mail.
    Unknown,
    /// The account exists: the password is wrong, or it has none.
    WrongPassword {
        account: String,
    },
    Inactive {
        account: String,
    },
}

impl LoginRefusal {
    /// What the log may say of the name typed: the account's name once it matched one,
    /// otherwise a short hash of what was typed, so that a password typed into the name
    /// field never reaches the log while repeated attempts can still be told apart.
    pub fn logged_login(&self, typed: &str) -> String {
        match self {
            LoginRefusal::WrongPassword { account } | LoginRefusal::Inactive { account } => {
                account.clone()
            }
            LoginRefusal::Unknown => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(typed.trim().as_bytes());
                format!("unknown#{}", &hex::encode(digest)[..8])
            }
        }
    }

    /// The refusal in one word, for the log.
    pub fn reason(&self) -> &'static str {
        match self {
            LoginRefusal::Unknown => "unknown account",
            LoginRefusal::WrongPassword { .. } => "wrong password",
            LoginRefusal::Inactive { .. } => "inactive account",
        }
    }
}

/// Checks a login name (or e-mail) and password.
pub async fn authenticate(
    db: &DatabaseConnection,
    login: &str,
    password: &str,
) -> AppResult<Result<user::Model, LoginRefusal>> {
    let found = find_for_login(db, login).await?;
    Ok(check_password(found, password).await)
}

/// The account a login names: its name, or its e-mail address in any case.
pub async fn find_for_login(
    db: &DatabaseConnection,
    login: &str,
) -> AppResult<Option<user::Model>> {
    let login = login.trim();
    Ok(user::Entity::find()
        .filter(
            user::Column::Name
                .eq(login)
                .or(user::Column::Email.eq(login.to_lowercase())),
        )
        .one(db)
        .await?)
}

/// Checks a password against the account [`find_for_login`] found (or did not).
pub async fn check_password(
    found: Option<user::Model>,
    password: &str,
) -> Result<user::Model, LoginRefusal> {
    let Some(user) = found else {
        // Spend the same time as a real check so response times do not reveal names.
        let _ = hash_password(password.to_string()).await;
        return Err(LoginRefusal::Unknown);
    };
    let wrong = || LoginRefusal::WrongPassword {
        account: user.name.clone(),
    };
    let Some(hash) = user.password_hash.clone() else {
        return Err(wrong());
    };
    if !password_matches(hash, password.to_string()).await {
        return Err(wrong());
    }
    if !user.active {
        return Err(LoginRefusal::Inactive { account: user.name });
    }
    Ok(user)
}

pub async fn find_by_name(conn: &impl ConnectionTrait, name: &str) -> AppResult<user::Model> {
    user::Entity::find()
        .filter(user::Column::Name.eq(name.trim()))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no user named “{}”", name.trim())))
}

pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?)
}
