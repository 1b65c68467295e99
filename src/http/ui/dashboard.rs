//! The landing page: what each role needs first.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::roles::Role;
use crate::entities::event;
use crate::http::AppState;
use crate::http::auth::CurrentUser;
use crate::http::extract::Form;
use crate::http::ui::{PageContext, Shell, render};
use crate::i18n::Lang;
use crate::services::events::{self, EventFilter};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    badge_code: Option<String>,
    /// Latest audit events, for supervisors and admins.
    recent_events: Vec<event::Model>,
    sees_audit: bool,
    /// Supervisors: every apprentice, to open their training record.
    apprentices: Vec<crate::entities::user::Model>,
    /// An apprentice's own record.
    own_record: Option<uuid::Uuid>,
    /// Supervisors: badges locked after too many wrong PINs.
    locked_badges: Vec<crate::services::badge_locks::LockedBadge>,
    /// Supervisors: this month's figures and alerts.
    figures: Option<crate::services::reports::Dashboard>,
}

impl DashboardPage {
    fn kg(&self, grams: impl std::borrow::Borrow<i64>) -> String {
        self.shell.lang.kg(*grams.borrow())
    }

    fn pct(&self, bp: impl std::borrow::Borrow<i64>) -> String {
        crate::http::ui::reports::percent(self.shell.lang, *bp.borrow())
    }
}

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    current: Option<CurrentUser>,
) -> Response {
    let Some(current) = current else {
        return Redirect::to("/login?next=/").into_response();
    };
    if current.role == Role::Partner {
        return Redirect::to("/portal").into_response();
    }
    let sees_audit = current.role.is_any_of(&[Role::Supervisor]);
    let recent_events = if sees_audit {
        match events::list(
            &state.db,
            EventFilter {
                limit: 15,
                ..EventFilter::default()
            },
        )
        .await
        {
            Ok(found) => found,
            Err(error) => return crate::error::AppError::from(error).into_response(),
        }
    } else {
        Vec::new()
    };
    let apprentices = if sees_audit {
        match crate::services::users::list(&state.db).await {
            Ok(all) => all
                .into_iter()
                .filter(|u| u.role == Role::Apprentice.as_str())
                .collect(),
            Err(error) => return error.into_response(),
        }
    } else {
        Vec::new()
    };
    let locked_badges = if sees_audit {
        match crate::services::badge_locks::locked(&state.db).await {
            Ok(locked) => locked,
            Err(error) => return error.into_response(),
        }
    } else {
        Vec::new()
    };
    let own_record = (current.role == Role::Apprentice).then_some(current.user.id);
    let figures = if sees_audit {
        match crate::services::reports::dashboard(&state.db).await {
            Ok(figures) => Some(figures),
            Err(error) => return error.into_response(),
        }
    } else {
        None
    };
    let page = DashboardPage {
        apprentices,
        locked_badges,
        own_record,
        figures,
        shell: Shell::new(&state, lang, "/", Some(&current)),
        badge_code: current.user.badge_code.clone(),
        recent_events,
        sees_audit,
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct PinForm {
    csrf: String,
    pin: String,
}

/// A supervisor sets their own PIN, to approve steps at a station with their badge.
pub async fn set_own_pin(
    State(state): State<AppState>,
    context: PageContext,
    Form(form): Form<PinForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    match crate::services::stations::set_own_pin(&state.db, &context.current.user, Some(&form.pin))
        .await
    {
        Ok(_) => Redirect::to("/").into_response(),
        Err(error) => context.app_error(&state, error),
    }
}
