//! Reading masses typed by people or by a USB scale: whole grams out, clear refusals.
//!
//! A field is either in grams or in kilograms and says so. A kilogram field takes a decimal
//! comma or point (`8,4`, `8.4`, `8,4 kg`); a gram field takes whole grams only (`8400`,
//! `8 400 g`), so `1,5 kg` typed into a gram field is refused rather than misread.

use std::fmt;

/// The largest mass one item or weighing may have: 2,000 kg.
pub const MAX_MASS_G: i64 = 2_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Grams,
    Kilograms,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Grams => "g",
            Unit::Kilograms => "kg",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MassError {
    #[error("no mass was entered")]
    Empty,
    #[error("“{0}” is not a mass")]
    NotANumber(String),
    #[error("“{text}” is in {found}, but this field is in {expected}")]
    WrongUnit {
        text: String,
        found: String,
        expected: Unit,
    },
    #[error("“{0}” has a decimal part, but this field takes whole grams")]
    FractionOfGram(String),
    #[error("a mass must be more than 0 g")]
    NotPositive,
    #[error("{0} g is more than the 2,000 kg one weighing may hold: check the unit")]
    TooLarge(i64),
}

/// Parses a typed mass in the field's unit into whole grams (kilograms rounded to the gram).
pub fn parse(text: &str, unit: Unit) -> Result<i64, MassError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(MassError::Empty);
    }
    // Digits may be grouped with spaces (also the narrow no-break space French uses).
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect::<String>()
        .to_lowercase();
    let number_end = compact
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.' || c == '-' || c == '+'))
        .unwrap_or(compact.len());
    let (number, suffix) = compact.split_at(number_end);
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(MassError::NotANumber(trimmed.to_string()));
    }
    match (suffix, unit) {
        ("", _) | ("g", Unit::Grams) | ("kg", Unit::Kilograms) => {}
        (other, _) => {
            return Err(MassError::WrongUnit {
                text: trimmed.to_string(),
                found: other.to_string(),
                expected: unit,
            });
        }
    }
    let normalised = number.replace(',', ".");
    if normalised.is_empty() || normalised.matches('.').count() > 1 {
        return Err(MassError::NotANumber(trimmed.to_string()));
    }
    let grams = match unit {
        Unit::Grams => {
            if normalised.contains('.') {
                return Err(MassError::FractionOfGram(trimmed.to_string()));
            }
            normalised
                .parse::<i64>()
                .map_err(|_| MassError::NotANumber(trimmed.to_string()))?
        }
        Unit::Kilograms => kilograms_to_grams(&normalised)
            .ok_or_else(|| MassError::NotANumber(trimmed.to_string()))?,
    };
    check(grams)
}

/// `8.4` → 8400, exactly, without going through a float; more than three decimals round.
fn kilograms_to_grams(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut padded: String = fraction.chars().take(4).collect();
    while padded.len() < 4 {
        padded.push('0');
    }
    let tenths_of_gram: i64 = padded.parse().ok()?;
    let grams = whole
        .checked_mul(1_000)?
        .checked_add((tenths_of_gram + 5) / 10)?;
    Some(if negative { -grams } else { grams })
}

/// The bounds every mass must respect: more than 0 g, at most 2,000 kg.
pub fn check(grams: i64) -> Result<i64, MassError> {
    if grams <= 0 {
        Err(MassError::NotPositive)
    } else if grams > MAX_MASS_G {
        Err(MassError::TooLarge(grams))
    } else {
        Ok(grams)
    }
}

/// Grams as kilograms for people: `8400` → `8.4`, `8450` → `8.45`.
pub fn kilograms(grams: i64) -> String {
    let sign = if grams < 0 { "-" } else { "" };
    let grams = grams.unsigned_abs();
    let text = format!("{}.{:03}", grams / 1000, grams % 1000);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilogram_fields_take_a_comma_or_a_point() {
        assert_eq!(parse("8,4", Unit::Kilograms), Ok(8_400));
        assert_eq!(parse("8.4", Unit::Kilograms), Ok(8_400));
        assert_eq!(parse(" 1,5 kg ", Unit::Kilograms), Ok(1_500));
        assert_eq!(parse("1 234,5", Unit::Kilograms), Ok(1_234_500));
        assert_eq!(parse("0,0125", Unit::Kilograms), Ok(13));
        assert_eq!(parse("12", Unit::Kilograms), Ok(12_000));
        assert_eq!(parse("1,5KG", Unit::Kilograms), Ok(1_500));
    }

    #[test]
    fn gram_fields_take_whole_grams() {
        assert_eq!(parse("8400", Unit::Grams), Ok(8_400));
        assert_eq!(parse("8 400 g", Unit::Grams), Ok(8_400));
        assert_eq!(parse("8\u{202f}400", Unit::Grams), Ok(8_400));
    }

    #[test]
    fn a_kilogram_mass_in_a_gram_field_is_refused_not_misread() {
        assert!(matches!(
            parse("1,5 kg", Unit::Grams),
            Err(MassError::WrongUnit { .. })
        ));
        assert_eq!(
            parse("1,5", Unit::Grams),
            Err(MassError::FractionOfGram("1,5".into()))
        );
        assert!(matches!(
            parse("1500 g", Unit::Kilograms),
            Err(MassError::WrongUnit { .. })
        ));
        assert!(matches!(
            parse("3 lb", Unit::Kilograms),
            Err(MassError::WrongUnit { .. })
        ));
    }

    #[test]
    fn nonsense_and_out_of_range_masses_are_refused() {
        assert_eq!(parse("", Unit::Grams), Err(MassError::Empty));
        assert_eq!(
            parse("abc", Unit::Grams),
            Err(MassError::NotANumber("abc".into()))
        );
        assert_eq!(
            parse("1.2.3", Unit::Kilograms),
            Err(MassError::NotANumber("1.2.3".into()))
        );
        assert_eq!(parse("0", Unit::Grams), Err(MassError::NotPositive));
        assert_eq!(parse("-5", Unit::Kilograms), Err(MassError::NotPositive));
        assert_eq!(
            parse("2000,001", Unit::Kilograms),
            Err(MassError::TooLarge(2_000_001))
        );
        assert_eq!(parse("2000", Unit::Kilograms), Ok(2_000_000));
        assert!(parse("99999999999999999999", Unit::Grams).is_err());
    }

    #[test]
    fn grams_read_as_kilograms() {
        assert_eq!(kilograms(8_400), "8.4");
        assert_eq!(kilograms(8_450), "8.45");
        assert_eq!(kilograms(12_000), "12");
        assert_eq!(kilograms(5), "0.005");
    }
}
