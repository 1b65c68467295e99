//! Recovery certificates: the frozen facts a certificate states, their canonical JSON form,
//! and the Ed25519 seal over it. Pure: no database, no clock.
//!
//! The canonical form is what is hashed, signed, stored and embedded in the PDF: object keys
//! sorted by their UTF-8 bytes, no insignificant whitespace, integers only (masses in grams),
//! strings escaped as `serde_json` escapes them. Anyone can re-derive it from the JSON.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Bumped when the snapshot's shape changes; verifiers read old formats too.
pub const FORMAT: u32 = 1;

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
    let key = SigningKey::from_bytes(secret);
    let signature = key.sign(canonical_text.as_bytes());
    Seal {
        hash: hash_hex(canonical_text),
        signature: hex::encode(signature.to_bytes()),
        public_key: hex::encode(key.verifying_key().to_bytes()),
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
    let key_bytes: [u8; 32] = hex::decode(&seal.public_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SealError::Key("not 32 hex bytes".into()))?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|e| SealError::Key(e.to_string()))?;
    let signature_bytes: [u8; 64] = hex::decode(&seal.signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SealError::Signature("not 64 hex bytes".into()))?;
    key.verify(text.as_bytes(), &Signature::from_bytes(&signature_bytes))
        .map_err(|_| Tampered::Signature)
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
}
