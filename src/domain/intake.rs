//! Intake vocabulary: kinds of partner, collection states, and checks on typed text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    Company,
    School,
    PublicBody,
    MineSite,
    Individual,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 5] = [
        PartnerKind::Company,
        PartnerKind::School,
        PartnerKind::PublicBody,
        PartnerKind::MineSite,
        PartnerKind::Individual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::Company => "company",
            PartnerKind::School => "school",
            PartnerKind::PublicBody => "public_body",
            PartnerKind::MineSite => "mine_site",
            PartnerKind::Individual => "individual",
        }
    }
}

impl fmt::Display for PartnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PartnerKind {
    type Err = String;
    fn from_str(text: &str) -> Result<PartnerKind, String> {
        PartnerKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("unknown partner kind “{text}”"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectionState {
    /// Items may still be added.
    Open,
    /// Everything was received; reopening needs a reason.
    Closed,
}

impl CollectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionState::Open => "open",
            CollectionState::Closed => "closed",
        }
    }
}

/// The most items one bulk request may receive.
pub const MAX_ITEMS_PER_REQUEST: usize = 1_000;
/// The largest count of bulk small items weighed as one.
pub const MAX_QUANTITY: i32 = 10_000;

/// Checks an optional free text: trimmed, at most `max` characters, no control characters.
/// Answers the cleaned text (none when blank).
pub fn optional_text(
    field: &str,
    text: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    } else if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.push(FieldError::new(field, "must not hold control characters"));
    }
    Some(text.to_string())
}

/// Checks a required text the same way; an empty one is an error.
pub fn required_text(field: &str, text: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    match optional_text(field, Some(text), max, errors) {
        Some(text) => text,
        None => {
            errors.push(FieldError::new(field, "is required"));
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_bounded_and_free_of_control_characters() {
        let mut errors = Vec::new();
        assert_eq!(
            optional_text("notes", Some("  ok  "), 10, &mut errors),
            Some("ok".into())
        );
        assert_eq!(optional_text("notes", Some("   "), 10, &mut errors), None);
        assert!(errors.is_empty());
        optional_text("notes", Some("far too long text"), 5, &mut errors);
        optional_text("brand", Some("bad\u{0}byte"), 50, &mut errors);
        required_text("name", " ", 50, &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["notes", "brand", "name"]);
    }

    #[test]
    fn partner_kinds_read_back() {
        for kind in PartnerKind::ALL {
            assert_eq!(kind.as_str().parse::<PartnerKind>(), Ok(kind));
        }
        assert!("bank".parse::<PartnerKind>().is_err());
    }
}
