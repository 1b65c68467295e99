//! Codes printed on labels: `<PREFIX>-<BODY><CHECK>`, Crockford base32 with a Luhn mod 32 check symbol.
//!
//! Everything stays inside the QR alphanumeric set so printed QR codes stay small.
//! A mistyped code is rejected by its check symbol before anything is looked up.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

/// Crockford's base32 alphabet: digits and upper-case letters without I, L, O, U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BASE: u32 = 32;
/// Random symbols in a body: 40 bits, about a trillion codes per prefix.
pub const BODY_LEN: usize = 8;

/// What a code labels; the prefix says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeKind {
    Item,
    Lot,
    Melt,
    Collection,
    Station,
    Apprentice,
    Certificate,
    Shipment,
}

impl CodeKind {
    pub const ALL: [CodeKind; 8] = [
        CodeKind::Item,
        CodeKind::Lot,
        CodeKind::Melt,
        CodeKind::Collection,
        CodeKind::Station,
        CodeKind::Apprentice,
        CodeKind::Certificate,
        CodeKind::Shipment,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            CodeKind::Item => "IT",
            CodeKind::Lot => "LT",
            CodeKind::Melt => "MT",
            CodeKind::Collection => "CO",
            CodeKind::Station => "ST",
            CodeKind::Apprentice => "AP",
            CodeKind::Certificate => "CE",
            CodeKind::Shipment => "SH",
        }
    }

    pub fn from_prefix(prefix: &str) -> Option<CodeKind> {
        CodeKind::ALL
            .into_iter()
            .find(|kind| kind.prefix().eq_ignore_ascii_case(prefix))
    }
}

/// Why a scanned or typed text is not a valid code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("nothing was scanned")]
    Empty,
    #[error("“{0}” is not a greenchip code (expected something like IT-7K3M9QX4)")]
    Malformed(String),
    #[error("unknown code prefix “{0}” (known: IT, LT, MT, CO, ST, AP, CE, SH)")]
    UnknownPrefix(String),
    #[error("“{0}” has a wrong check symbol: it was probably mistyped or misread")]
    BadCheck(String),
}

/// A valid code. Its text form is canonical: upper case, with the hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code {
    kind: CodeKind,
    /// The random body followed by its check symbol, canonical symbols only.
    body: String,
}

impl Code {
    /// A new random code of the given kind.
    pub fn generate(kind: CodeKind, rng: &mut impl Rng) -> Code {
        let body: Vec<u8> = (0..BODY_LEN)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
            .collect();
        Code::from_body(kind, &body)
    }

    /// A new code from the thread's random generator.
    pub fn random(kind: CodeKind) -> Code {
        Code::generate(kind, &mut rand::thread_rng())
    }

    fn from_body(kind: CodeKind, body: &[u8]) -> Code {
        let mut text = String::from_utf8(body.to_vec()).expect("alphabet is ASCII");
        text.push(check_symbol(body) as char);
        Code { kind, body: text }
    }

    pub fn kind(&self) -> CodeKind {
        self.kind
    }

    /// Parses a typed or scanned code: case-insensitive, `o` read as `0`, `i`/`l` as `1`,
    /// hyphen optional.
    pub fn parse(text: &str) -> Result<Code, CodeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CodeError::Empty);
        }
        let malformed = || CodeError::Malformed(text.to_string());
        let (prefix, rest) = match text.split_once('-') {
            Some((prefix, rest)) => (prefix, rest),
            None if text.len() == 2 + BODY_LEN + 1 && text.is_char_boundary(2) => text.split_at(2),
            None => return Err(malformed()),
        };
        if prefix.len() != 2 || !prefix.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(malformed());
        }
        let kind = CodeKind::from_prefix(prefix)
            .ok_or_else(|| CodeError::UnknownPrefix(prefix.to_ascii_uppercase()))?;
        if rest.chars().count() != BODY_LEN + 1 {
            return Err(malformed());
        }
        let symbols = rest
            .chars()
            .map(canonical_symbol)
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(malformed)?;
        if !check_passes(&symbols) {
            return Err(CodeError::BadCheck(text.to_string()));
        }
        Ok(Code {
            kind,
            body: String::from_utf8(symbols).expect("alphabet is ASCII"),
        })
    }

    /// Parses what a scanner typed: a bare code, or a URL whose last path segment is the code.
    pub fn from_scan(scanned: &str) -> Result<Code, CodeError> {
        Code::parse(code_part_of_scan(scanned))
    }
}

/// The part of a scanned text that should hold a code: what follows the last `/`,
/// without a query string or fragment.
pub fn code_part_of_scan(scanned: &str) -> &str {
    let scanned = scanned.trim();
    let scanned = scanned.split(['?', '#']).next().unwrap_or_default();
    let scanned = scanned.trim_end_matches('/');
    scanned.rsplit('/').next().unwrap_or_default().trim()
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind.prefix(), self.body)
    }
}

impl FromStr for Code {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Code, CodeError> {
        Code::parse(s)
    }
}

/// Maps a typed character to its canonical symbol, forgiving the usual confusions.
fn canonical_symbol(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&s| s as char == c)
        .map(|i| ALPHABET[i])
}

fn value(symbol: u8) -> u32 {
    ALPHABET
        .iter()
        .position(|&s| s == symbol)
        .expect("symbol is canonical") as u32
}

/// Luhn mod N sum: from the right, every second value doubled and folded back below N.
fn luhn_sum(symbols: &[u8], double_first_from_right: bool) -> u32 {
    let mut double = double_first_from_right;
    symbols.iter().rev().fold(0, |sum, &symbol| {
        let mut addend = value(symbol) * if double { 2 } else { 1 };
        addend = addend / BASE + addend % BASE;
        double = !double;
        sum + addend
    })
}

fn check_symbol(body: &[u8]) -> u8 {
    let remainder = luhn_sum(body, true) % BASE;
    ALPHABET[((BASE - remainder) % BASE) as usize]
}

fn check_passes(body_and_check: &[u8]) -> bool {
    luhn_sum(body_and_check, false).is_multiple_of(BASE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn some_code() -> Code {
        Code::from_body(CodeKind::Item, b"7K3M9QX4")
    }

    #[test]
    fn a_code_reads_as_prefix_hyphen_body_and_check() {
        let code = some_code();
        let text = code.to_string();
        assert!(text.starts_with("IT-7K3M9QX4"));
        assert_eq!(text.len(), 2 + 1 + BODY_LEN + 1);
        assert_eq!(Code::parse(&text), Ok(code));
    }

    #[test]
    fn lower_case_and_confusable_letters_are_accepted() {
        let code = Code::from_body(CodeKind::Lot, b"10A0B1C1");
        let typed = code
            .to_string()
            .to_lowercase()
            .replacen('0', "o", 1)
            .replacen('1', "l", 1);
        assert_ne!(typed.to_uppercase(), code.to_string());
        assert_eq!(Code::parse(&typed), Ok(code.clone()));
        let with_i = code.to_string().replacen('1', "i", 1);
        assert_eq!(Code::parse(&with_i), Ok(code));
    }

    #[test]
    fn the_hyphen_may_be_left_out() {
        let code = some_code();
        let typed = code.to_string().replace('-', "");
        assert_eq!(Code::parse(&typed), Ok(code));
    }

    #[test]
    fn a_wrong_check_symbol_is_refused() {
        let text = some_code().to_string();
        let last = text.chars().last().unwrap();
        let wrong = if last == 'A' { 'B' } else { 'A' };
        let typed = format!("{}{}", &text[..text.len() - 1], wrong);
        assert!(matches!(Code::parse(&typed), Err(CodeError::BadCheck(_))));
    }

    #[test]
    fn a_transposition_is_refused() {
        let text = some_code().to_string();
        // swap "7K" → "K7"
        let typed = text.replacen("7K", "K7", 1);
        assert!(matches!(Code::parse(&typed), Err(CodeError::BadCheck(_))));
    }

    #[test]
    fn an_unknown_prefix_is_refused() {
        let text = some_code().to_string().replacen("IT", "ZZ", 1);
        assert_eq!(
            Code::parse(&text),
            Err(CodeError::UnknownPrefix("ZZ".into()))
        );
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in [
            "IT-123",
            "hello",
            "IT-7K3M9QX4UU",
            "I-7K3M9QX4A",
            "IT-7K3M9QÉ4A",
        ] {
            assert!(
                matches!(Code::parse(text), Err(CodeError::Malformed(_))),
                "{text}"
            );
        }
        assert_eq!(Code::parse("   "), Err(CodeError::Empty));
    }

    #[test]
    fn a_scanned_url_yields_its_code() {
        let code = some_code();
        for scanned in [
            format!("HTTPS://GC.EXAMPLE.ORG/S/{code}"),
            format!("http://10.0.0.5:8080/s/{}", code.to_string().to_lowercase()),
            format!("https://gc.example.org/S/{code}?from=label"),
            format!("https://gc.example.org/S/{code}/\r\n"),
            format!("{code}"),
        ] {
            assert_eq!(Code::from_scan(&scanned), Ok(code.clone()), "{scanned}");
        }
    }

    #[test]
    fn generated_codes_stay_in_the_qr_alphanumeric_set() {
        let mut rng = rand::thread_rng();
        for kind in CodeKind::ALL {
            let text = Code::generate(kind, &mut rng).to_string();
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-'),
                "{text}"
            );
        }
    }

    fn any_kind() -> impl Strategy<Value = CodeKind> {
        prop::sample::select(CodeKind::ALL.to_vec())
    }

    fn any_body() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), BODY_LEN)
    }

    proptest! {
        #[test]
        fn encoding_then_decoding_round_trips(kind in any_kind(), body in any_body()) {
            let code = Code::from_body(kind, &body);
            prop_assert_eq!(Code::parse(&code.to_string()), Ok(code.clone()));
            prop_assert_eq!(Code::parse(&code.to_string().to_lowercase()), Ok(code));
        }

        #[test]
        fn any_single_symbol_substitution_is_detected(
            body in any_body(), position in 0..=BODY_LEN, replacement in prop::sample::select(ALPHABET.to_vec())
        ) {
            let code = Code::from_body(CodeKind::Item, &body);
            let mut symbols = code.body.clone().into_bytes();
            prop_assume!(symbols[position] != replacement);
            symbols[position] = replacement;
            let typed = format!("IT-{}", String::from_utf8(symbols).unwrap());
            prop_assert!(matches!(Code::parse(&typed), Err(CodeError::BadCheck(_))));
        }

        /// Luhn mod 32 misses exactly one adjacent swap: the symbols `0` and `Z`
        /// (values 0 and 31), as Luhn mod 10 misses `09` ↔ `90`.
        #[test]
        fn adjacent_transpositions_are_detected(body in any_body(), position in 0..BODY_LEN) {
            let code = Code::from_body(CodeKind::Lot, &body);
            let mut symbols = code.body.clone().into_bytes();
            let (a, b) = (symbols[position], symbols[position + 1]);
            prop_assume!(a != b && !matches!((a, b), (b'0', b'Z') | (b'Z', b'0')));
            symbols.swap(position, position + 1);
            let typed = format!("LT-{}", String::from_utf8(symbols).unwrap());
            prop_assert!(matches!(Code::parse(&typed), Err(CodeError::BadCheck(_))));
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = Code::from_scan(&text);
        }

        /// Arbitrary bytes (read as a scanner's text would be, lossily) and URL-shaped text:
        /// never a panic, and whatever parses is canonical and parses again to itself.
        #[test]
        fn parsing_arbitrary_bytes_and_urls_never_panics(
            bytes in prop::collection::vec(any::<u8>(), 0..64),
            url in "(https?://)?[a-zA-Z0-9.:]{0,20}(/[sS])?/[A-Za-z0-9ÉéOoIiLl-]{0,14}[?#/]?.{0,8}",
        ) {
            for text in [String::from_utf8_lossy(&bytes).into_owned(), url] {
                for code in [Code::parse(&text), Code::from_scan(&text)].into_iter().flatten() {
                    let canonical = code.to_string();
                    prop_assert!(canonical.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-'));
                    prop_assert_eq!(Code::parse(&canonical), Ok(code));
                }
            }
        }

        /// Every generated code round-trips through its text, its URL form and a sloppy
        /// typing of it (lower case, no hyphen, surrounding blanks).
        #[test]
        fn every_generated_code_round_trips(seed in any::<u64>(), kind in any_kind()) {
            use rand::SeedableRng;
            let code = Code::generate(kind, &mut rand::rngs::StdRng::seed_from_u64(seed));
            let text = code.to_string();
            prop_assert_eq!(Code::parse(&text), Ok(code.clone()));
            prop_assert_eq!(Code::from_scan(&format!("HTTPS://GC.EXAMPLE/S/{text}")), Ok(code.clone()));
            prop_assert_eq!(Code::parse(&format!("  {}\r\n", text.to_lowercase().replace('-', ""))), Ok(code));
        }

        /// Any single character of a code's text changed to any other character: refused, or
        /// read as the same code (a case or look-alike variant of the same symbol), or, when
        /// the prefix changed, a valid code of another kind with the same body. Never a
        /// different code of the same kind.
        #[test]
        fn any_single_character_change_is_refused_or_harmless(
            kind in any_kind(), body in any_body(), position in 0..(3 + BODY_LEN + 1), replacement in any::<char>()
        ) {
            let code = Code::from_body(kind, &body);
            let text = code.to_string();
            let mut chars: Vec<char> = text.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let typed: String = chars.into_iter().collect();
            match Code::parse(&typed) {
                Err(_) => {}
                Ok(read) if read == code => {
                    prop_assert!(
                        replacement.eq_ignore_ascii_case(&text.chars().nth(position).unwrap())
                            || matches!(replacement, 'o' | 'O' | 'i' | 'I' | 'l' | 'L')
                            || replacement.is_whitespace(),
                        "{typed} read as {code} after a change to {replacement:?}"
                    );
                }
                Ok(read) => {
                    prop_assert!(position < 2, "{typed} became {read}");
                    prop_assert_ne!(read.kind(), code.kind());
                    prop_assert_eq!(&read.body, &code.body);
                }
            }
        }
    }
}
