//! Station pages: the list (supervisors), enrolling a device, and the kiosk an enrolled
//! device shows: one scan field, big buttons, feedback, a feed, and a queue for when the
//! network drops.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::lifecycle::StationKind;
use crate::domain::roles::Role;
use crate::entities::{station, station_device};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::api::stations::station_cookie;
use crate::http::auth::{self, CurrentUser, StationDevice};
use crate::http::extract::{Form, Path};
use crate::http::ui::{PageContext, Shell, lang_of, render};
use crate::i18n::Lang;
use crate::services::{sessions, stations};

#[derive(Template)]
#[template(path = "stations.html")]
struct StationsPage {
    shell: Shell,
    stations: Vec<station::Model>,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn list_page(state: &AppState, context: &PageContext, error: Option<String>) -> Response {
    match stations::list(&state.db).await {
        Ok(found) => {
            let shell = context.shell(state);
            let kinds = StationKind::ALL
                .iter()
                .map(|k| (k.as_str(), shell.tk("station_kind", k.as_str())))
                .collect();
            render(&StationsPage {
                shell,
                stations: found,
                kinds,
                error,
            })
        }
        Err(error) => context.app_error(state, error),
    }
}

pub async fn list(State(state): State<AppState>, context: PageContext) -> Response {
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    list_page(&state, &context, None).await
}

#[derive(Debug, Deserialize)]
pub struct NewStationForm {
    csrf: String,
    name: String,
    kind: String,
}

pub async fn create(
    State(state): State<AppState>,
    context: PageContext,
    Form(form): Form<NewStationForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let Ok(kind) = form.kind.parse::<StationKind>() else {
        return list_page(
            &state,
            &context,
            Some(format!("unknown station kind “{}”", form.kind)),
        )
        .await;
    };
    match stations::create(&state.db, &form.name, kind, Some(context.current.user.id)).await {
        Ok(created) => Redirect::to(&format!("/stations/{}", created.code)).into_response(),
        Err(AppError::Unprocessable { detail, .. }) => {
            list_page(&state, &context, Some(detail)).await
        }
        Err(error) => context.app_error(&state, error),
    }
}

#[derive(Template)]
#[template(path = "station.html")]
struct StationPage {
    shell: Shell,
    station: station::Model,
    kind: &'static str,
    devices: Vec<station_device::Model>,
}

#[derive(Template)]
#[template(path = "kiosk.html")]
struct KioskPage {
    lang: Lang,
    station: station::Model,
    kind: &'static str,
    /// The kiosk's words, for its script.
    messages_json: String,
    /// What the kiosk's flows need that a station device cannot ask the API for (the
    /// catalogue is for signed-in people): the materials a new bin can hold, the weighing
    /// tolerance here, the dross material.
    flow_json: String,
    languages: Vec<(&'static str, &'static str, bool)>,
}

/// Words the kiosk's script shows, in the page's language.
const KIOSK_MESSAGES: &[&str] = &[
    "kiosk.scan_badge",
    "kiosk.signed_in",
    "kiosk.nobody",
    "kiosk.offline",
    "kiosk.queued",
    "kiosk.pin",
    "kiosk.not_enrolled",
    "kiosk.done",
    "kiosk.reason",
    "kiosk.destination",
    "kiosk.tool",
    "kiosk.verified",
    "kiosk.verification",
    "kiosk.success",
    "kiosk.failed",
    "kiosk.camera_unavailable",
    "kiosk.wrong_pin",
    "kiosk.unknown",
    "kiosk.malformed",
    "kiosk.bad_check",
    "kiosk.badge_first",
    "kiosk.sanitisation_needed",
    "kiosk.dismantle_title",
    "kiosk.item_mass",
    "kiosk.bins_here",
    "kiosk.no_bins",
    "kiosk.new_bin",
    "kiosk.new_bin_of",
    "kiosk.scan_bin",
    "kiosk.chosen_bin",
    "kiosk.choose_bin_first",
    "kiosk.mass_kg",
    "kiosk.add",
    "kiosk.remove",
    "kiosk.fractions",
    "kiosk.no_fractions",
    "kiosk.weighed",
    "kiosk.difference",
    "kiosk.within",
    "kiosk.outside",
    "kiosk.real_loss",
    "kiosk.finish",
    "kiosk.sending",
    "kiosk.dismantled",
    "kiosk.not_a_mass",
    "kiosk.print_labels",
    "kiosk.label",
    "kiosk.supervisor_approves",
    "kiosk.supervisor_hint",
    "kiosk.supervisor_badge",
    "kiosk.supervisor_pin",
    "kiosk.approve",
    "kiosk.cancel",
    "kiosk.melt_title",
    "kiosk.new_melt",
    "kiosk.melt_starting",
    "kiosk.melt_started",
    "kiosk.scan_copper",
    "kiosk.charged",
    "kiosk.charged_total",
    "kiosk.no_charges",
    "kiosk.pour",
    "kiosk.ingots",
    "kiosk.ingot",
    "kiosk.add_ingot",
    "kiosk.dross_kg",
    "kiosk.pour_finish",
    "kiosk.poured",
    "kiosk.leave_melt",
    "kiosk.in_furnace",
    "kiosk.refused",
    "kiosk.problem_validation",
    "kiosk.problem_outside_tolerance",
    "kiosk.problem_lot_not_open",
    "kiosk.problem_lot_finished",
    "kiosk.problem_not_enough_in_lot",
    "kiosk.problem_melt_finished",
    "kiosk.problem_melt_empty",
    "kiosk.problem_nothing_to_dismantle",
    "kiosk.problem_not_a_smelting_station",
    "kiosk.problem_not_copper",
    "kiosk.problem_badge_locked",
    "kiosk.problem_approval_refused",
    "kiosk.offline_retry",
    "problem.sanitisation_needed",
    "problem.action_not_allowed",
    "problem.not_signed_in",
    "problem.unauthenticated",
    "item_state.received",
    "item_state.triaged",
    "item_state.sanitised",
    "item_state.refurbishing",
    "item_state.reused",
    "item_state.dismantling",
    "item_state.dismantled",
    "item_state.shipped_whole",
    "action.triage",
    "action.sanitise",
    "action.start_refurbishment",
    "action.finish_refurbishment",
    "action.mark_reused",
    "action.start_dismantling",
    "action.finish_dismantling",
    "action.ship_whole",
    "route.reuse",
    "route.dismantle",
    "route.ship_whole",
    "method.clear",
    "method.purge",
    "method.destroy",
];

/// The materials a dismantling puts into new bins (not the ingots and dross a melt pours),
/// named in the page's language, with the tolerance of this kind of station.
async fn flow_data(
    state: &AppState,
    lang: Lang,
    kind: &str,
) -> Result<serde_json::Value, AppError> {
    let materials: Vec<serde_json::Value> = crate::services::catalogue::materials(&state.db)
        .await?
        .into_iter()
        .filter(|m| {
            m.active
                && m.code != crate::services::ledger::summary::INGOT_MATERIAL
                && m.code != crate::services::melts::DROSS_MATERIAL
        })
        .map(|m| {
            serde_json::json!({
                "code": m.code,
                "name": if lang == Lang::En { m.name_en } else { m.name_fr },
                "family": m.family,
                "hazardous": m.hazardous,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "materials": materials,
        "tolerance_bp": state.config.tolerance_for(kind),
        "dross_material": crate::services::melts::DROSS_MATERIAL,
    }))
}

/// `/stations/<code>`: the kiosk on an enrolled device; the enrolment page for a supervisor.
pub async fn page(
    State(state): State<AppState>,
    device: Option<StationDevice>,
    current: Option<CurrentUser>,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    if let Some(at) = device
        && crate::domain::codes::Code::from_scan(&code)
            .is_ok_and(|c| c.to_string() == at.station.code)
    {
        let messages: serde_json::Map<String, serde_json::Value> = KIOSK_MESSAGES
            .iter()
            .map(|key| (key.to_string(), serde_json::Value::from(lang.t(key))))
            .collect();
        let kind = stations::kind_of(&at.station).as_str();
        let flow = match flow_data(&state, lang, kind).await {
            Ok(flow) => flow,
            Err(error) => return error.into_response(),
        };
        let page = KioskPage {
            lang,
            kind,
            station: at.station,
            // Safe inside a JSON script element: `<` is escaped so no tag can close it.
            messages_json: serde_json::Value::Object(messages)
                .to_string()
                .replace('<', "\\u003c"),
            flow_json: flow.to_string().replace('<', "\\u003c"),
            languages: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name(), *l == lang))
                .collect(),
        };
        return render(&page);
    }
    let Some(current) = current else {
        return Redirect::to(&format!("/login?next=/stations/{code}")).into_response();
    };
    let context = PageContext {
        lang,
        path: format!("/stations/{code}"),
        headers,
        current,
    };
    if let Some(refused) = context.refusal(&state, &[Role::Supervisor]) {
        return refused;
    }
    let loaded = async {
        let found = stations::find(&state.db, &code).await?;
        let devices = stations::devices_of(&state.db, found.id).await?;
        Ok::<_, AppError>((found, devices))
    }
    .await;
    match loaded {
        Ok((found, devices)) => render(&StationPage {
            shell: context.shell(&state),
            kind: context.lang.t(&format!("station_kind.{}", found.kind)),
            station: found,
            devices,
        }),
        Err(error) => context.app_error(&state, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

/// Enrols this browser's device as the station and opens the kiosk. The supervisor's own
/// session on this device ends with it: a kiosk is shared, and must not stay signed in as
/// the supervisor who enrolled it.
pub async fn enrol(
    State(state): State<AppState>,
    context: PageContext,
    Path(code): Path<String>,
    Form(form): Form<EnrolForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    let enrolled = match stations::enrol(&state.db, &code, &form.name, &context.current.user).await
    {
        Ok(enrolled) => enrolled,
        Err(error) => return context.app_error(&state, error),
    };
    if let Some(session) = &context.current.session
        && let Err(error) = sessions::close(&state.db, session, &context.current.user).await
    {
        return context.app_error(&state, error);
    }
    (
        AppendHeaders([
            (header::SET_COOKIE, station_cookie(&state, &enrolled.token)),
            (
                header::SET_COOKIE,
                auth::clear_cookie(auth::SESSION_COOKIE, state.config.cookies_secure()),
            ),
        ]),
        Redirect::to(&format!("/stations/{code}")),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    context: PageContext,
    Path((code, device_id)): Path<(String, Uuid)>,
    Form(form): Form<RevokeForm>,
) -> Response {
    if let Some(refused) = context.form_refusal(&state, &[Role::Supervisor], &form.csrf) {
        return refused;
    }
    match stations::revoke(&state.db, device_id, &context.current.user).await {
        Ok(_) => Redirect::to(&format!("/stations/{code}")).into_response(),
        Err(error) => context.app_error(&state, error),
    }
}
