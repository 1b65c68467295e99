//! Recovery certificates: the frozen facts a certificate states, their canonical JSON form,
//! and the Ed25519 seal over it. Pure: no database, no clock.
//!
//! The canonical form is what is hashed, signed, stored and embedded in the PDF: object keys
//! sorted by their UTF-8 bytes, no insignificant whitespace, integers only (masses in grams),
//! strings escaped as `serde_json` escapes them. Anyone can re-derive it from the JSON.
//!
//! From format 2 a second signature by the same key binds the printed pages to the snapshot:
//! [`PageSeal`] holds a digest of each part of each page a reader sees (drawn by
//! `render::page_seal`), and [`check_pages`] names what differs in a PDF at hand. A format-1
//! certificate carries no page seal: its data is genuine, its printed pages are not vouched for.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Bumped when the snapshot's shape or what its seal covers changes; verifiers read old
/// formats too. 1: the snapshot only. 2: the snapshot and, by a second signature, the printed
/// pages ([`PageSeal`]).
pub const FORMAT: u32 = 2;
/// The first format whose PDF must carry a page seal: one without is not genuine.
pub const PAGES_SEALED_FROM: u32 = 2;

/// Everything a certificate states, as issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Snapshot {
    pub format: u32,
    /// `CE-…`, the code its QR and the verify page use.
    pub code: String,
    /// The human sequence, e.g. `2026-0042`.
    pub number: String,
    /// `en` or `fr`: the language of the PDF and the declaration.
    pub language: String,
    /// RFC 3339, whole seconds, UTC.
    pub issued_at: String,
    pub issuer: Issuer,
    pub partner: Party,
    pub scope: CertificateScope,
    pub received: Vec<ReceivedLine>,
    pub fate: Fate,
    /// Data-bearing devices and how their data was destroyed.
    pub annex: Vec<AnnexLine>,
    pub declaration: String,
    pub signatory: Signatory,
    /// The number of the certificate this one corrects and replaces.
    pub supersedes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Issuer {
    pub name: String,
    pub address: String,
    pub permit_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Party {
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CertificateScope {
    /// `collection` or `partner`.
    pub kind: String,
    /// The collections covered, by code, with the date each was received.
    pub collections: Vec<ScopeCollection>,
    /// First and last day of the period (for one collection: its reception day twice).
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScopeCollection {
    pub code: String,
    pub received_on: String,
    /// The partner's own reference (delivery note), when it gave one.
    pub reference: Option<String>,
}

/// Items received of one equipment kind and WEEE category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceivedLine {
    pub equipment_kind: String,
    pub weee_category: i64,
    /// Pieces (a bulk item of 40 keyboards counts 40).
    pub count: i64,
    pub mass_g: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CountMass {
    pub count: i64,
    pub mass_g: i64,
}

/// What became of what was received. Masses are this partner's attributed share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fate {
    pub received: CountMass,
    pub reused: CountMass,
    pub dismantled: CountMass,
    pub shipped_whole: CountMass,
    /// Recovered fractions by material family, wherever they are now.
    pub recycled: Vec<FamilyLine>,
    /// Hazardous fractions handed to licensed processors.
    pub hazardous: Vec<HazardousLine>,
    /// Copper ingot cast at the workshop, attributed by mass balance.
    pub copper_ingot_g: i64,
    /// Process loss and weighing variance.
    pub lost_g: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FamilyLine {
    pub family: String,
    pub mass_g: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HazardousLine {
    /// Material code, e.g. `BATT-LI`.
    pub material: String,
    pub material_name: String,
    pub mass_g: i64,
    pub processor: String,
    pub permit_number: String,
    /// Shipment codes and transport document numbers, e.g. `SH-… / BSD 2026-118`.
    pub documents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnnexLine {
    pub item: String,
    pub equipment_kind: String,
    /// The device's serial, or the removed drive's own serial.
    pub serial: String,
    /// `clear`, `purge` or `destroy` (NIST SP 800-88).
    pub method: String,
    pub tool: String,
    pub verification: String,
    /// YYYY-MM-DD.
    pub date: String,
    pub operator: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Signatory {
    pub name: String,
    pub role: String,
}

/// The declaration a certificate makes, in its language.
pub fn declaration(language: &str, issuer: &str, partner: &str) -> String {
    match language {
        "fr" => format!(
            "{issuer} certifie que les équipements reçus de {partner} décrits ci-dessus ont été \
             traités comme indiqué, que les fractions dangereuses ont été remises à des \
             installations autorisées, et que les données des appareils listés en annexe ont été \
             effacées ou détruites et vérifiées."
        ),
        _ => format!(
            "{issuer} certifies that the equipment received from {partner} described above was \
             processed as stated, that hazardous fractions were handed to licensed processors, \
             and that the data on the devices listed in the annex was erased or destroyed and \
             verified."
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a certificate snapshot holds only integers, never fractions: {0}")]
    Fraction(String),
    #[error("the snapshot is not valid JSON: {0}")]
    Json(String),
    #[error("the key is not an Ed25519 key: {0}")]
    Key(String),
    #[error("the signature is malformed: {0}")]
    Signature(String),
}

/// The canonical text of any JSON value (see the module documentation).
pub fn canonical(value: &Value) -> Result<String, SealError> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), SealError> {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(number) => {
            if number.is_f64() {
                return Err(SealError::Fraction(number.to_string()));
            }
            out.push_str(&number.to_string());
        }
        Value::Array(values) => {
            out.push('[');
            for (index, item) in values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

impl Snapshot {
    pub fn canonical(&self) -> Result<String, SealError> {
        let value = serde_json::to_value(self).map_err(|e| SealError::Json(e.to_string()))?;
        canonical(&value)
    }
}

/// SHA-256 of the canonical text, lower-case hex.
pub fn hash_hex(canonical_text: &str) -> String {
    hex::encode(Sha256::digest(canonical_text.as_bytes()))
}

/// The seal on a certificate: what was signed, by which key, and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Seal {
    /// SHA-256 of the canonical snapshot, hex.
    pub hash: String,
    /// Ed25519 signature over the canonical snapshot's bytes, hex.
    pub signature: String,
    /// The signing key's public half, hex: its identity.
    pub public_key: String,
}

/// Signs a canonical text with a 32-byte Ed25519 secret key.
pub fn seal(canonical_text: &str, secret: &[u8; 32]) -> Seal {
    Seal {
        hash: hash_hex(canonical_text),
        signature: sign(canonical_text, secret),
        public_key: public_key_hex(secret),
    }
}

/// The public half of a secret key, hex.
pub fn public_key_hex(secret: &[u8; 32]) -> String {
    hex::encode(SigningKey::from_bytes(secret).verifying_key().to_bytes())
}

/// Why a sealed text does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tampered {
    #[error("the snapshot's hash is not the one sealed")]
    Hash,
    #[error("the signature does not match the snapshot and key")]
    Signature,
    #[error("the snapshot is not in canonical form")]
    NotCanonical,
    #[error(transparent)]
    Malformed(#[from] SealError),
}

/// Checks that `text` is canonical, hashes to the seal's hash, and carries a valid signature
/// by the seal's key. Whether that key is the workshop's is for the caller to check.
pub fn verify(text: &str, seal: &Seal) -> Result<(), Tampered> {
    let value: Value = serde_json::from_str(text).map_err(|e| SealError::Json(e.to_string()))?;
    if canonical(&value)? != text {
        return Err(Tampered::NotCanonical);
    }
    if hash_hex(text) != seal.hash {
        return Err(Tampered::Hash);
    }
    signature_valid(text, &seal.signature, &seal.public_key)
}

/// An Ed25519 signature over `text`'s bytes, hex.
pub fn sign(text: &str, secret: &[u8; 32]) -> String {
    hex::encode(
        SigningKey::from_bytes(secret)
            .sign(text.as_bytes())
            .to_bytes(),
    )
}

/// Checks a hex Ed25519 signature over `text` by the hex public key.
pub fn signature_valid(text: &str, signature: &str, public_key: &str) -> Result<(), Tampered> {
    let key_bytes: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SealError::Key("not 32 hex bytes".into()))?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|e| SealError::Key(e.to_string()))?;
    let signature_bytes: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SealError::Signature("not 64 hex bytes".into()))?;
    key.verify(text.as_bytes(), &Signature::from_bytes(&signature_bytes))
        .map_err(|_| Tampered::Signature)
}

/// What a reader sees of a certificate's pages, as SHA-256 digests (hex) of each part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appearance {
    /// What the whole document adds to its pages: actions, forms, optional content, a
    /// portfolio view.
    pub document: String,
    pub pages: Vec<PageAppearance>,
}

/// One page's parts, each a digest of what it holds, decoded and independent of how the file
/// is written (object numbers, compression, whitespace between operators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageAppearance {
    /// The text and drawings: the content streams, operator by operator.
    pub content: String,
    /// The fonts with their embedded programs (every glyph's outline).
    pub fonts: String,
    /// Images and form XObjects.
    pub images: String,
    /// The other resources: graphics states, colour spaces, patterns, shadings.
    pub resources: String,
    pub annotations: String,
    /// The page's other entries: its size, crop box, rotation.
    pub page: String,
}

/// The text the page seal signs: a certificate's printed pages bound to its snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSeal {
    /// The snapshot's seal hash: the pages belong to this certificate and no other.
    pub snapshot_hash: String,
    pub appearance: Appearance,
}

impl PageSeal {
    /// The canonical text and its signature by `secret`.
    pub fn signed(&self, secret: &[u8; 32]) -> Result<(String, String), SealError> {
        let value = serde_json::to_value(self).map_err(|e| SealError::Json(e.to_string()))?;
        let text = canonical(&value)?;
        let signature = sign(&text, secret);
        Ok((text, signature))
    }
}

/// What checking a PDF's printed pages finds when they do not contradict the seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintedPages {
    /// Every page is exactly as sealed.
    Bound,
    /// Sealed before pages were bound (format 1): the data is genuine, the print is not vouched
    /// for.
    NotBound,
}

/// Why a PDF's printed pages are not the ones sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagesTampered {
    #[error("the seal of its printed pages was removed (format {0} carries one)")]
    Removed(u32),
    #[error("the seal of its printed pages does not match its signature")]
    Signature,
    #[error("its printed pages were sealed for another certificate")]
    OtherCertificate,
    #[error("the seal of its printed pages is unreadable: {0}")]
    Malformed(String),
    #[error("the printed pages differ from what was sealed: {}", .0.join("; "))]
    Differ(Vec<String>),
}

/// Checks the printed pages `found` in a PDF against its page seal (`sealed`: the signed text
/// and its signature), for a snapshot of `format` whose seal is `seal` and already verified.
pub fn check_pages(
    format: u32,
    seal: &Seal,
    sealed: Option<(&str, &str)>,
    found: &Appearance,
) -> Result<PrintedPages, PagesTampered> {
    let Some((text, signature)) = sealed else {
        return if format >= PAGES_SEALED_FROM {
            Err(PagesTampered::Removed(format))
        } else {
            Ok(PrintedPages::NotBound)
        };
    };
    signature_valid(text, signature, &seal.public_key).map_err(|_| PagesTampered::Signature)?;
    let page_seal: PageSeal =
        serde_json::from_str(text).map_err(|e| PagesTampered::Malformed(e.to_string()))?;
    if page_seal.snapshot_hash != seal.hash {
        return Err(PagesTampered::OtherCertificate);
    }
    let differences = differences(&page_seal.appearance, found);
    if differences.is_empty() {
        Ok(PrintedPages::Bound)
    } else {
        Err(PagesTampered::Differ(differences))
    }
}

/// What differs between the sealed appearance and the one found, in words, page by page.
pub fn differences(sealed: &Appearance, found: &Appearance) -> Vec<String> {
    let mut differences = Vec::new();
    if sealed.pages.len() != found.pages.len() {
        differences.push(format!(
            "the document has {} page(s), {} were sealed",
            found.pages.len(),
            sealed.pages.len()
        ));
    }
    for (index, (was, is)) in sealed.pages.iter().zip(&found.pages).enumerate() {
        let parts = [
            (&was.content, &is.content, "its text or drawings changed"),
            (&was.fonts, &is.fonts, "its fonts or their glyphs changed"),
            (&was.images, &is.images, "its images or forms changed"),
            (
                &was.resources,
                &is.resources,
                "its graphics resources changed",
            ),
            (
                &was.annotations,
                &is.annotations,
                "annotations were added or changed",
            ),
            (&was.page, &is.page, "its size, crop or rotation changed"),
        ];
        let changed: Vec<&str> = parts
            .iter()
            .filter(|(was, is, _)| was != is)
            .map(|(_, _, what)| *what)
            .collect();
        if !changed.is_empty() {
            differences.push(format!("page {}: {}", index + 1, changed.join(", ")));
        }
    }
    if sealed.document != found.document {
        differences.push("the document adds actions, forms or hidden layers".into());
    }
    differences
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use serde_json::json;

    /// A small certificate with accents, for tests of the seal and the PDF.
    pub fn sample(annex_lines: usize) -> Snapshot {
        Snapshot {
            format: FORMAT,
            code: "CE-0000000AB".into(),
            number: "2026-0042".into(),
            language: "fr".into(),
            issued_at: "2026-11-29T10:00:00Z".into(),
            issuer: Issuer {
                name: "Atelier Électronique Solidaire".into(),
                address: "12 rue de l'École, 97300 Cayenne".into(),
                permit_number: "ICPE 973-2026-17".into(),
            },
            partner: Party {
                name: "Lycée Félix Éboué".into(),
                address: "Avenue Léopold Héder, Cayenne".into(),
            },
            scope: CertificateScope {
                kind: "collection".into(),
                collections: vec![ScopeCollection {
                    code: "CO-00000001X".into(),
                    received_on: "2026-03-02".into(),
                    reference: Some("BL-118".into()),
                }],
                from: "2026-03-02".into(),
                to: "2026-03-02".into(),
            },
            received: vec![ReceivedLine {
                equipment_kind: "Ordinateur de bureau".into(),
                weee_category: 6,
                count: 3,
                mass_g: 27_500,
            }],
            fate: Fate {
                received: CountMass {
                    count: 3,
                    mass_g: 27_500,
                },
                reused: CountMass {
                    count: 1,
                    mass_g: 9_000,
                },
                dismantled: CountMass {
                    count: 2,
                    mass_g: 18_500,
                },
                shipped_whole: CountMass {
                    count: 0,
                    mass_g: 0,
                },
                recycled: vec![FamilyLine {
                    family: "metal".into(),
                    mass_g: 12_000,
                }],
                hazardous: vec![HazardousLine {
                    material: "BATT-LI".into(),
                    material_name: "Piles lithium".into(),
                    mass_g: 120,
                    processor: "Récupération Guyane".into(),
                    permit_number: "973-44".into(),
                    documents: vec!["SH-0000001Z / BSD 2026-118".into()],
                }],
                copper_ingot_g: 1_250,
                lost_g: 310,
            },
            annex: (0..annex_lines)
                .map(|index| AnnexLine {
                    item: format!("IT-{index:08}X"),
                    equipment_kind: "Ordinateur portable".into(),
                    serial: format!("SN{index:06}"),
                    method: "purge".into(),
                    tool: "nwipe 0.34".into(),
                    verification: "relecture d'échantillons".into(),
                    date: "2026-03-10".into(),
                    operator: "Aïcha N'Diaye".into(),
                })
                .collect(),
            declaration: declaration("fr", "Atelier Électronique Solidaire", "Lycée Félix Éboué"),
            signatory: Signatory {
                name: "Hélène Dupré".into(),
                role: "Responsable d'atelier".into(),
            },
            supersedes: None,
        }
    }

    const SECRET: [u8; 32] = [7; 32];

    #[test]
    fn canonical_text_sorts_keys_and_drops_whitespace() {
        let value = json!({"b": 1, "a": {"z": [1, 2], "é": "x\"y"}, "A": null});
        assert_eq!(
            canonical(&value).unwrap(),
            r#"{"A":null,"a":{"z":[1,2],"é":"x\"y"},"b":1}"#
        );
    }

    #[test]
    fn fractions_are_refused() {
        assert!(matches!(
            canonical(&json!({"mass_kg": 1.5})),
            Err(SealError::Fraction(_))
        ));
    }

    #[test]
    fn a_sealed_snapshot_verifies_and_its_canonical_form_round_trips() {
        let text = sample(2).canonical().unwrap();
        let sealed = seal(&text, &SECRET);
        assert_eq!(verify(&text, &sealed), Ok(()));
        let back: Snapshot = serde_json::from_str(&text).unwrap();
        assert_eq!(back.canonical().unwrap(), text);
        assert_eq!(sealed.public_key, public_key_hex(&SECRET));
    }

    #[test]
    fn changing_one_figure_breaks_the_seal() {
        let text = sample(0).canonical().unwrap();
        let sealed = seal(&text, &SECRET);
        let forged = text.replace("\"copper_ingot_g\":1250", "\"copper_ingot_g\":1251");
        assert_ne!(forged, text);
        assert_eq!(verify(&forged, &sealed), Err(Tampered::Hash));
        // Even with the hash recomputed, the signature gives it away.
        let rehashed = Seal {
            hash: hash_hex(&forged),
            ..sealed.clone()
        };
        assert_eq!(verify(&forged, &rehashed), Err(Tampered::Signature));
    }

    #[test]
    fn another_key_does_not_verify() {
        let text = sample(0).canonical().unwrap();
        let sealed = seal(&text, &SECRET);
        let other = Seal {
            public_key: public_key_hex(&[9; 32]),
            ..sealed
        };
        assert_eq!(verify(&text, &other), Err(Tampered::Signature));
    }

    #[test]
    fn re_spaced_text_is_not_canonical() {
        let text = sample(0).canonical().unwrap();
        let sealed = seal(&text, &SECRET);
        let spaced = text.replacen(':', ": ", 1);
        assert_eq!(verify(&spaced, &sealed), Err(Tampered::NotCanonical));
    }

    fn appearance(pages: usize) -> Appearance {
        Appearance {
            document: "d".into(),
            pages: (0..pages)
                .map(|page| PageAppearance {
                    content: format!("c{page}"),
                    fonts: format!("f{page}"),
                    images: format!("i{page}"),
                    resources: format!("r{page}"),
                    annotations: format!("a{page}"),
                    page: format!("p{page}"),
                })
                .collect(),
        }
    }

    /// A sealed sample with its page seal over `pages` pages.
    fn sealed_pages(pages: usize) -> (Seal, String, String) {
        let text = sample(0).canonical().unwrap();
        let sealed = seal(&text, &SECRET);
        let (pages_text, signature) = PageSeal {
            snapshot_hash: sealed.hash.clone(),
            appearance: appearance(pages),
        }
        .signed(&SECRET)
        .unwrap();
        (sealed, pages_text, signature)
    }

    #[test]
    fn pages_as_sealed_are_bound() {
        let (sealed, text, signature) = sealed_pages(2);
        assert_eq!(
            check_pages(FORMAT, &sealed, Some((&text, &signature)), &appearance(2)),
            Ok(PrintedPages::Bound)
        );
    }

    #[test]
    fn each_changed_part_is_named_with_its_page() {
        let (sealed, text, signature) = sealed_pages(2);
        type Change = (fn(&mut PageAppearance), &'static str);
        let changes: [Change; 6] = [
            (
                |p| p.content.push('x'),
                "page 2: its text or drawings changed",
            ),
            (
                |p| p.fonts.push('x'),
                "page 2: its fonts or their glyphs changed",
            ),
            (
                |p| p.images.push('x'),
                "page 2: its images or forms changed",
            ),
            (
                |p| p.resources.push('x'),
                "page 2: its graphics resources changed",
            ),
            (
                |p| p.annotations.push('x'),
                "page 2: annotations were added or changed",
            ),
            (
                |p| p.page.push('x'),
                "page 2: its size, crop or rotation changed",
            ),
        ];
        for (change, named) in changes {
            let mut found = appearance(2);
            change(&mut found.pages[1]);
            assert_eq!(
                check_pages(FORMAT, &sealed, Some((&text, &signature)), &found),
                Err(PagesTampered::Differ(vec![named.to_string()]))
            );
        }
        let mut found = appearance(2);
        found.pages[0].content.push('x');
        found.pages[0].fonts.push('x');
        assert_eq!(
            differences(&appearance(2), &found),
            vec!["page 1: its text or drawings changed, its fonts or their glyphs changed"]
        );
    }

    #[test]
    fn an_added_page_and_document_actions_are_named() {
        let mut found = appearance(3);
        found.document.push('x');
        assert_eq!(
            differences(&appearance(2), &found),
            vec![
                "the document has 3 page(s), 2 were sealed",
                "the document adds actions, forms or hidden layers"
            ]
        );
        assert_eq!(
            differences(&appearance(2), &appearance(1)),
            vec!["the document has 1 page(s), 2 were sealed"]
        );
    }

    #[test]
    fn a_format_1_certificate_without_a_page_seal_is_not_bound_but_a_later_one_is_refused() {
        let (sealed, _, _) = sealed_pages(1);
        assert_eq!(
            check_pages(1, &sealed, None, &appearance(1)),
            Ok(PrintedPages::NotBound)
        );
        assert_eq!(
            check_pages(PAGES_SEALED_FROM, &sealed, None, &appearance(1)),
            Err(PagesTampered::Removed(PAGES_SEALED_FROM))
        );
    }

    #[test]
    fn a_page_seal_by_another_key_or_for_another_certificate_is_refused() {
        let (sealed, text, signature) = sealed_pages(1);
        let (_, forged_signature) = PageSeal {
            snapshot_hash: sealed.hash.clone(),
            appearance: appearance(1),
        }
        .signed(&[9; 32])
        .unwrap();
        assert_eq!(forged_signature.len(), signature.len());
        assert_eq!(
            check_pages(
                FORMAT,
                &sealed,
                Some((&text, &forged_signature)),
                &appearance(1)
            ),
            Err(PagesTampered::Signature)
        );
        let (other_text, other_signature) = PageSeal {
            snapshot_hash: hash_hex("another certificate"),
            appearance: appearance(1),
        }
        .signed(&SECRET)
        .unwrap();
        assert_eq!(
            check_pages(
                FORMAT,
                &sealed,
                Some((&other_text, &other_signature)),
                &appearance(1)
            ),
            Err(PagesTampered::OtherCertificate)
        );
        assert!(matches!(
            check_pages(
                FORMAT,
                &sealed,
                Some(("{}", &sign("{}", &SECRET))),
                &appearance(1)
            ),
            Err(PagesTampered::Malformed(_))
        ));
    }
}
