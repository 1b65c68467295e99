//! `greenchip demo`: a small demo workshop. It grows with each capability.

use sea_orm::DatabaseConnection;

use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::services::users::{self, NewUser};

/// Staff of the demo workshop: (login, display name, role).
const STAFF: [(&str, &str, Role); 4] = [
    ("samira", "Samira El Idrissi", Role::Supervisor),
    ("youssef", "Youssef Amrani", Role::Apprentice),
    ("khadija", "Khadija Ouali", Role::Apprentice),
    ("hamza", "Hamza Boulahcen", Role::Apprentice),
];

/// Fills the database; running it twice adds nothing the second time.
pub async fn fill(db: &DatabaseConnection) -> AppResult<()> {
    for (name, display_name, role) in STAFF {
        let new = NewUser {
            name: name.to_string(),
            display_name: Some(display_name.to_string()),
            email: None,
            role,
            password: None,
            partner_id: None,
        };
        match users::create(db, new, None).await {
            Ok(created) => {
                let badge = created.user.badge_code.as_deref().unwrap_or("-");
                let password = created.generated_password.unwrap_or_default();
                println!("{role:<10} {name:<8} password {password}  badge {badge}");
            }
            Err(AppError::Conflict { .. }) => println!("{role:<10} {name:<8} already there"),
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
