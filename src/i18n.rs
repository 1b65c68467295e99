//! Message catalogues: English, French and Arabic (right to left), embedded in the binary.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Fr,
    Ar,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Ar];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Ar => "ar",
        }
    }

    /// The language's own name, as shown in the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
            Lang::Ar => "العربية",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// A catalogue name in this language: English for English, French otherwise (the
    /// catalogue has no Arabic names).
    pub fn name<'a>(self, name_en: &'a str, name_fr: &'a str) -> &'a str {
        if self == Lang::En { name_en } else { name_fr }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
        Lang::ALL
            .into_iter()
            .find(|lang| lang.code().eq_ignore_ascii_case(primary))
    }

    /// The first supported language of an `Accept-Language` header, by preference order.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::from_code(pieces.next()?)?;
                let quality = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((quality, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, lang)| *lang)
    }

    /// A mass for people: kilograms, grouped and with the decimal mark of the language
    /// (`1,234.5 kg`, `1 234,5 kg`).
    pub fn kg(self, grams: i64) -> String {
        format!(
            "{}\u{a0}kg",
            self.decimal(&crate::domain::mass::kilograms(grams))
        )
    }

    /// A plain decimal (`1234.5`) written the way this language writes numbers.
    pub fn decimal(self, plain: &str) -> String {
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let (group, mark) = match self {
            Lang::En => (",", "."),
            Lang::Fr | Lang::Ar => ("\u{202f}", ","),
        };
        let mut grouped = String::new();
        for (index, digit) in whole.chars().enumerate() {
            if index > 0 && (whole.len() - index) % 3 == 0 {
                grouped.push_str(group);
            }
            grouped.push(digit);
        }
        if fraction.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}{mark}{fraction}")
        }
    }

    /// The text for a message key; English when this language lacks it, the key when both do.
    pub fn t(self, key: &str) -> &'static str {
        let catalogue = &CATALOGUES[&self];
        catalogue
            .get(key)
            .or_else(|| CATALOGUES[&Lang::En].get(key))
            .copied()
            .unwrap_or_else(|| leak_key(key))
    }
}

fn leak_key(key: &str) -> &'static str {
    tracing::warn!(key, "missing message");
    Box::leak(key.to_string().into_boxed_str())
}

type Catalogue = HashMap<String, &'static str>;

static CATALOGUES: LazyLock<HashMap<Lang, Catalogue>> = LazyLock::new(|| {
    [
        (Lang::En, include_str!("../assets/i18n/en.toml")),
        (Lang::Fr, include_str!("../assets/i18n/fr.toml")),
        (Lang::Ar, include_str!("../assets/i18n/ar.toml")),
    ]
    .into_iter()
    .map(|(lang, text)| (lang, parse_catalogue(lang, text)))
    .collect()
});

/// Catalogues are flat TOML tables of strings (`login.title = "Sign in"`, dotted keys).
fn parse_catalogue(lang: Lang, text: &str) -> Catalogue {
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|error| panic!("assets/i18n/{}.toml: {error}", lang.code()));
    let mut catalogue = Catalogue::new();
    flatten("", &table, &mut catalogue);
    catalogue
}

fn flatten(prefix: &str, table: &toml::Table, into: &mut Catalogue) {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(text) => {
                into.insert(key, Box::leak(text.clone().into_boxed_str()));
            }
            toml::Value::Table(inner) => flatten(&key, inner, into),
            other => panic!("message {key} is not text: {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_message() {
        let english = &CATALOGUES[&Lang::En];
        for lang in [Lang::Fr, Lang::Ar] {
            let missing: Vec<_> = english
                .keys()
                .filter(|key| !CATALOGUES[&lang].contains_key(*key))
                .collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            let extra: Vec<_> = CATALOGUES[&lang]
                .keys()
                .filter(|key| !english.contains_key(*key))
                .collect();
            assert!(
                extra.is_empty(),
                "{} has unknown keys {extra:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn messages_come_in_the_asked_language() {
        assert_eq!(Lang::En.t("login.title"), "Sign in");
        assert_eq!(Lang::Fr.t("login.title"), "Connexion");
        assert_ne!(Lang::Ar.t("login.title"), Lang::En.t("login.title"));
        assert_eq!(Lang::Fr.t("no.such.key"), "no.such.key");
    }

    #[test]
    fn masses_read_the_way_each_language_writes_numbers() {
        assert_eq!(Lang::En.kg(1_234_500), "1,234.5\u{a0}kg");
        assert_eq!(Lang::Fr.kg(1_234_500), "1\u{202f}234,5\u{a0}kg");
        assert_eq!(Lang::Fr.kg(8_400), "8,4\u{a0}kg");
        assert_eq!(Lang::En.kg(-500), "-0.5\u{a0}kg");
        assert_eq!(Lang::En.decimal("1000000"), "1,000,000");
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(
            Lang::from_accept_language("fr-MA,fr;q=0.9,en;q=0.8"),
            Some(Lang::Fr)
        );
        assert_eq!(
            Lang::from_accept_language("de;q=1,ar;q=0.5,en;q=0.7"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::Ar.dir(), "rtl");
    }
}
