//! The error answers of the API, declared once and added to every operation by its shape.
//!
//! Every handler goes through the same extractors and `AppError`, so which problems an
//! operation can answer follows from what it takes: a path parameter can name nothing (404) or
//! fail to parse (400), a body can be too large (413), of the wrong type (415), malformed (400)
//! or invalid (422), a protected operation can be refused (401, 403), and any operation that
//! reads the database can find it away (503). Handlers still declare the answers particular to
//! them (409 conflicts, 429 at login) with their own descriptions, which are kept.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The shared answers: name in `components/responses`, status, description.
const SHARED: [(&str, &str, &str); 8] = [
    (
        "BadRequest",
        "400",
        "a path parameter, query string or JSON body that cannot be read",
    ),
    ("Unauthenticated", "401", "no valid session or API token"),
    ("Forbidden", "403", "the caller's role does not allow this"),
    ("NotFound", "404", "nothing has this code, id or name"),
    (
        "PayloadTooLarge",
        "413",
        "the body is larger than `max_body_bytes`",
    ),
    (
        "UnsupportedMediaType",
        "415",
        "the body is not `Content-Type: application/json`",
    ),
    (
        "Unprocessable",
        "422",
        "a parameter or body field breaks a rule (a malformed code, say); `errors` names the fields",
    ),
    ("Unavailable", "503", "the database is not available"),
];

/// A problem+json answer with this description.
pub fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Adds the shared problem answers to `components/responses` and to each operation they apply to.
pub fn document(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, _, description) in SHARED {
        components
            .responses
            .insert(name.to_string(), RefOr::T(problem_response(description)));
    }
    let globally_secured = openapi.security.as_ref().is_some_and(|requirements| {
        requirements
            .iter()
            .any(|r| *r != SecurityRequirement::default())
    });
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let secured = match &operation.security {
                Some(requirements) => requirements
                    .iter()
                    .any(|r| *r != SecurityRequirement::default()),
                None => globally_secured,
            };
            let wanted = statuses(operation, secured);
            for (name, status, _) in SHARED.iter().filter(|(_, s, _)| wanted.contains(s)) {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| {
                        RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
                    });
            }
        }
    }
}

/// The shared statuses an operation can answer, from what it takes.
fn statuses(operation: &Operation, secured: bool) -> Vec<&'static str> {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let in_path = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let in_query = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let body = operation.request_body.is_some();
    let mut statuses = Vec::new();
    if in_path || in_query || body {
        statuses.push("400");
    }
    if secured {
        statuses.extend(["401", "403"]);
    }
    if in_path {
        statuses.push("404");
    }
    if body {
        statuses.extend(["413", "415"]);
    }
    // A code in the path or query that is not a well-formed greenchip code is a validation
    // error, as is a bad field in a body.
    if in_path || in_query || body {
        statuses.push("422");
    }
    statuses.push("503");
    statuses
}
