//! A certificate's public facts: what anyone holding the printed code may read, derived from
//! the full snapshot and sealed on their own with the same key and canonical JSON.
//!
//! The full snapshot names people and things that are not the public's business: the
//! partner's address, device serials, item and collection codes, and the apprentices who
//! sanitised the devices (some are minors). The public facts keep what a funder or an
//! auditor needs to trust the headline: who issued it to whom, over what period, the totals,
//! who signed, and what it replaces. They are a separate signed text rather than a redacted
//! view of the snapshot, so a public check needs no secret part of it. They are built by a
//! whitelist (each field copied by name), so a field added to the snapshot later stays
//! private until someone decides otherwise here.
//!
//! The live status (valid, revoked, superseded) is not inside: it changes after issue, and a
//! signed text cannot. It is served beside the facts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::certificate::{
    CountMass, FamilyLine, SealError, Signatory, Snapshot, canonical,
};

/// Bumped when the public facts' shape changes.
pub const FORMAT: u32 = 1;

/// What anyone may read of a certificate, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicFacts {
    pub format: u32,
    /// `CE-…`, the code printed beside the number and carried by the QR code.
    pub code: String,
    /// The human sequence, e.g. `2026-0042`.
    pub number: String,
    /// SHA-256 of the full snapshot's canonical text: binds these facts to the certificate
    /// its owner holds, without revealing it.
    pub snapshot_hash: String,
    pub issuer: PublicIssuer,
    /// YYYY-MM-DD (UTC).
    pub issued_on: String,
    /// The partner's name (never its address).
    pub partner: String,
    pub scope: PublicScope,
    pub totals: Totals,
    pub signatory: Signatory,
    /// The number of the certificate this one corrects and replaces.
    pub supersedes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicIssuer {
    pub name: String,
    /// The workshop's own permit number (empty when none is configured).
    pub permit_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicScope {
    /// `collection` or `partner`.
    pub kind: String,
    /// First and last day of the period, YYYY-MM-DD.
    pub from: String,
    pub to: String,
}

/// The headline figures; masses in grams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    pub received: CountMass,
    pub reused: CountMass,
    pub dismantled: CountMass,
    pub shipped_whole: CountMass,
    /// Recovered fractions by material family.
    pub recycled: Vec<FamilyLine>,
    pub copper_ingot_g: i64,
    /// Hazardous fractions handed to licensed processors, all materials together.
    pub hazardous_g: i64,
    pub lost_g: i64,
}

impl PublicFacts {
    /// The public facts of a snapshot whose canonical text hashes to `snapshot_hash`.
    pub fn of(snapshot: &Snapshot, snapshot_hash: &str) -> PublicFacts {
        let fate = &snapshot.fate;
        PublicFacts {
            format: FORMAT,
            code: snapshot.code.clone(),
            number: snapshot.number.clone(),
            snapshot_hash: snapshot_hash.to_string(),
            issuer: PublicIssuer {
                name: snapshot.issuer.name.clone(),
                permit_number: snapshot.issuer.permit_number.clone(),
            },
            issued_on: snapshot.issued_at.chars().take(10).collect(),
            partner: snapshot.partner.name.clone(),
            scope: PublicScope {
                kind: snapshot.scope.kind.clone(),
                from: snapshot.scope.from.clone(),
                to: snapshot.scope.to.clone(),
            },
            totals: Totals {
                received: fate.received.clone(),
                reused: fate.reused.clone(),
                dismantled: fate.dismantled.clone(),
                shipped_whole: fate.shipped_whole.clone(),
                recycled: fate.recycled.clone(),
                copper_ingot_g: fate.copper_ingot_g,
                hazardous_g: fate.hazardous.iter().map(|line| line.mass_g).sum(),
                lost_g: fate.lost_g,
            },
            signatory: snapshot.signatory.clone(),
            supersedes: snapshot.supersedes.clone(),
        }
    }

    /// The canonical text that is signed (the same rules as the snapshot's).
    pub fn canonical(&self) -> Result<String, SealError> {
        let value = serde_json::to_value(self).map_err(|e| SealError::Json(e.to_string()))?;
        canonical(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::certificate::tests::sample;
    use crate::domain::certificate::{hash_hex, seal, verify};

    fn facts() -> (Snapshot, PublicFacts) {
        let snapshot = sample(3);
        let hash = hash_hex(&snapshot.canonical().unwrap());
        let facts = PublicFacts::of(&snapshot, &hash);
        (snapshot, facts)
    }

    #[test]
    fn nothing_personal_leaks_into_the_signed_text() {
        let (snapshot, facts) = facts();
        let text = facts.canonical().unwrap();
        let mut private: Vec<&str> = vec![
            &snapshot.partner.address,
            &snapshot.issuer.address,
            &snapshot.declaration,
        ];
        for line in &snapshot.annex {
            private.extend([
                line.operator.as_str(),
                line.serial.as_str(),
                line.item.as_str(),
            ]);
        }
        for collection in &snapshot.scope.collections {
            private.push(&collection.code);
            private.extend(collection.reference.as_deref());
        }
        for line in &snapshot.fate.hazardous {
            private.extend(line.documents.iter().map(String::as_str));
        }
        for secret in private {
            // JSON escapes apostrophes and accents nowhere, so a plain search is enough.
            assert!(!text.contains(secret), "{secret:?} leaks into {text}");
        }
        assert!(!text.contains("operator") && !text.contains("serial"));
    }

    #[test]
    fn the_headline_is_kept() {
        let (snapshot, facts) = facts();
        assert_eq!(facts.number, "2026-0042");
        assert_eq!(facts.code, snapshot.code);
        assert_eq!(facts.issued_on, "2026-11-29");
        assert_eq!(facts.partner, "Lycée Félix Éboué");
        assert_eq!(facts.issuer.permit_number, "ICPE 973-2026-17");
        assert_eq!(facts.scope.from, "2026-03-02");
        assert_eq!(facts.totals.received, snapshot.fate.received);
        assert_eq!(facts.totals.hazardous_g, 120);
        assert_eq!(facts.totals.copper_ingot_g, 1_250);
        assert_eq!(facts.totals.lost_g, 310);
        assert_eq!(facts.signatory.name, "Hélène Dupré");
        assert_eq!(
            facts.snapshot_hash,
            hash_hex(&snapshot.canonical().unwrap())
        );
    }

    #[test]
    fn the_public_facts_seal_verifies_and_round_trips() {
        let (_, facts) = facts();
        let text = facts.canonical().unwrap();
        let sealed = seal(&text, &[7; 32]);
        assert_eq!(verify(&text, &sealed), Ok(()));
        let back: PublicFacts = serde_json::from_str(&text).unwrap();
        assert_eq!(back, facts);
        let forged = text.replace("\"lost_g\":310", "\"lost_g\":0");
        assert!(verify(&forged, &sealed).is_err());
    }
}
