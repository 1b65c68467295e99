//! Who may do what: the four roles of DESIGN.md section 5.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users and configuration.
    Admin,
    /// All workshop data, overrides with a reason, certificates, reports.
    Supervisor,
    /// Acts at a station they are signed in to; sees their own training record.
    Apprentice,
    /// Reads its own partner's collections, items' fates and certificates.
    Partner,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Supervisor,
        Role::Apprentice,
        Role::Partner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Apprentice => "apprentice",
            Role::Partner => "partner",
        }
    }

    /// Whether this role may do what any of `allowed` may. An admin may do everything.
    pub fn is_any_of(self, allowed: &[Role]) -> bool {
        self == Role::Admin || allowed.contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role “{0}” (expected admin, supervisor, apprentice or partner)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownRole(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("Supervisor".parse::<Role>(), Ok(Role::Supervisor));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn an_admin_may_do_what_any_role_may_and_others_only_their_own() {
        assert!(Role::Admin.is_any_of(&[Role::Supervisor]));
        assert!(Role::Supervisor.is_any_of(&[Role::Supervisor, Role::Apprentice]));
        assert!(!Role::Supervisor.is_any_of(&[Role::Admin]));
        assert!(!Role::Partner.is_any_of(&[Role::Supervisor, Role::Apprentice]));
        assert!(!Role::Apprentice.is_any_of(&[]));
    }
}
