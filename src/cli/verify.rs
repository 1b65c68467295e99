//! `greenchip certificate verify`: whether a certificate PDF, or a stored certificate, is
//! genuine, and what it states, for a person holding the paper.
//!
//! A PDF is genuine when its embedded snapshot carries the workshop's signature and, from
//! format 2, its printed pages are the ones sealed beside it. The command then prints the
//! signed headline figures to compare with the paper, and the certificate's status (valid,
//! revoked, superseded) whenever the workshop's database can be reached. Exits non-zero when
//! the certificate is not genuine, and when it is genuine but revoked or superseded.

use std::path::Path;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::db;
use crate::domain::certificate::{self as domain, PrintedPages, Seal, Snapshot};
use crate::services::certificates::{self, Status};

/// Checks a PDF file (offline with `keys`, or against the database's keys), or a stored
/// certificate by number or code.
pub async fn certificate(
    config: &Config,
    certificate: &str,
    keys: &[String],
) -> Result<(), String> {
    let path = Path::new(certificate);
    if path.is_file() {
        return pdf(config, path, keys).await;
    }
    let db = db::open_and_migrate(config)
        .await
        .map_err(|e| e.to_string())?;
    let found = certificates::find(&db, certificate)
        .await
        .map_err(|e| e.to_string())?;
    let checked = certificates::verify(&db, &found)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(problem) = checked.problem {
        return Err(format!("NOT genuine: {problem}"));
    }
    // The stored PDF is what every download answers: its pages must be the ones sealed too.
    let stored = crate::render::certificate::extract(&found.pdf)
        .map_err(|error| format!("NOT genuine: the stored PDF: {error}"))?;
    let format = checked.snapshot.as_ref().map_or(1, |s| s.format);
    let printed = stored
        .printed_pages(format)
        .map_err(|problem| format!("NOT genuine: the stored PDF: {problem}"))?;
    let verdict = match printed {
        PrintedPages::Bound => "genuine".to_string(),
        PrintedPages::NotBound => {
            format!("data genuine; printed page not bound (format {format})")
        }
    };
    println!(
        "{verdict}: certificate {} ({}), SHA-256 {}",
        checked.number, checked.code, checked.seal.hash
    );
    if let Some(snapshot) = &checked.snapshot {
        print!("{}", figures(snapshot));
    }
    status_verdict(&checked.number, Some(&checked.status))
}

async fn pdf(config: &Config, path: &Path, keys: &[String]) -> Result<(), String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let embedded = crate::render::certificate::extract(&bytes)
        .map_err(|error| format!("{}: not a greenchip certificate: {error}", path.display()))?;
    domain::verify(&embedded.canonical, &embedded.seal)
        .map_err(|problem| format!("NOT genuine: {problem}"))?;
    let db = existing_database(config).await;
    let ours = if keys.is_empty() {
        let db = db.as_ref().map_err(|why| {
            format!("no --key given and {why}: give the workshop's public key with --key")
        })?;
        certificates::keys::is_ours(db, &embedded.seal.public_key)
            .await
            .map_err(|e| e.to_string())?
    } else {
        keys.iter()
            .any(|key| key.trim().eq_ignore_ascii_case(&embedded.seal.public_key))
    };
    if !ours {
        return Err(format!(
            "NOT genuine: signed by key {}, which is not the workshop's",
            embedded.seal.public_key
        ));
    }
    let snapshot: Snapshot = serde_json::from_str(&embedded.canonical)
        .map_err(|error| format!("NOT genuine: unreadable snapshot: {error}"))?;
    let printed = embedded
        .printed_pages(snapshot.format)
        .map_err(|problem| format!("NOT genuine: {problem}"))?;
    let verdict = match printed {
        PrintedPages::Bound => "genuine".to_string(),
        PrintedPages::NotBound => format!(
            "data genuine; printed page not bound (format {})",
            snapshot.format
        ),
    };
    println!(
        "{verdict}: certificate {} ({}) for {}, issued {} by {}, SHA-256 {}",
        snapshot.number,
        snapshot.code,
        snapshot.partner.name,
        snapshot.issued_at,
        snapshot.issuer.name,
        embedded.seal.hash
    );
    match printed {
        PrintedPages::Bound => println!(
            "printed pages: all {} as sealed",
            embedded.appearance.pages.len()
        ),
        PrintedPages::NotBound => println!(
            "printed pages: not vouched for (sealed before pages were bound): compare them \
             with the figures below"
        ),
    }
    print!("{}", figures(&snapshot));
    let status = match &db {
        Ok(db) => stored_status(db, &snapshot, &embedded.seal).await,
        Err(why) => Err(format!("not checked: {why}")),
    };
    match status {
        Ok(status) => status_verdict(&snapshot.number, Some(&status)),
        Err(why) => {
            println!("status: {why}; the verify page of its QR code says whether it still holds");
            status_verdict(&snapshot.number, None)
        }
    }
}

/// The workshop's database, when the configuration names one that exists: a verify never
/// creates one.
async fn existing_database(config: &Config) -> Result<DatabaseConnection, String> {
    let url = config.database_url.trim();
    if let Some(file) = crate::services::backups::sqlite_path(url)
        && !file.exists()
    {
        return Err(format!("no database at {}", file.display()));
    }
    db::open(config)
        .await
        .map_err(|error| format!("the database cannot be reached ({error})"))
}

/// The stored status of the certificate a PDF carries, when this database issued it.
async fn stored_status(
    db: &DatabaseConnection,
    snapshot: &Snapshot,
    seal: &Seal,
) -> Result<Status, String> {
    let found = certificates::find(db, &snapshot.code)
        .await
        .map_err(|_| "not checked: this database holds no such certificate".to_string())?;
    if found.hash != seal.hash {
        return Err(format!(
            "not checked: this database holds another certificate {} (SHA-256 {})",
            found.number, found.hash
        ));
    }
    certificates::status(db, &found)
        .await
        .map_err(|error| format!("not checked: {error}"))
}

/// Prints the status; revoked or superseded is an error for the exit code.
fn status_verdict(number: &str, status: Option<&Status>) -> Result<(), String> {
    match status {
        None => Ok(()),
        Some(Status::Valid) => {
            println!("status: valid");
            Ok(())
        }
        Some(Status::Revoked {
            reason, revoked_at, ..
        }) => {
            println!("status: REVOKED on {}: {reason}", revoked_at.date_naive());
            Err(format!("certificate {number} is genuine but was revoked"))
        }
        Some(Status::Superseded {
            reason,
            revoked_at,
            by,
            ..
        }) => {
            println!(
                "status: SUPERSEDED by certificate {by} on {}: {reason}",
                revoked_at.date_naive()
            );
            Err(format!(
                "certificate {number} is genuine but was replaced by {by}"
            ))
        }
    }
}

/// The signed headline figures, one per line, to compare with the paper.
pub fn figures(snapshot: &Snapshot) -> String {
    let fate = &snapshot.fate;
    let mut lines = vec![
        ("partner", snapshot.partner.name.clone()),
        (
            "period",
            format!(
                "{} to {} ({})",
                snapshot.scope.from,
                snapshot.scope.to,
                snapshot
                    .scope
                    .collections
                    .iter()
                    .map(|c| c.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (
            "received",
            pieces(fate.received.count, fate.received.mass_g),
        ),
        ("reused", pieces(fate.reused.count, fate.reused.mass_g)),
        (
            "dismantled",
            pieces(fate.dismantled.count, fate.dismantled.mass_g),
        ),
        (
            "shipped whole",
            pieces(fate.shipped_whole.count, fate.shipped_whole.mass_g),
        ),
    ];
    for line in &fate.recycled {
        lines.push(("recycled", format!("{} {}", line.family, kg(line.mass_g))));
    }
    lines.push(("copper ingot", kg(fate.copper_ingot_g)));
    for line in &fate.hazardous {
        lines.push((
            "hazardous",
            format!(
                "{} ({}) {} to {}, permit {}",
                line.material_name,
                line.material,
                kg(line.mass_g),
                line.processor,
                line.permit_number
            ),
        ));
    }
    lines.push(("lost", kg(fate.lost_g)));
    lines.push((
        "signed by",
        format!("{}, {}", snapshot.signatory.name, snapshot.signatory.role),
    ));
    if let Some(old) = &snapshot.supersedes {
        lines.push(("replaces", old.clone()));
    }
    lines
        .into_iter()
        .map(|(label, value)| format!("  {:<14}{value}\n", format!("{label}:")))
        .collect()
}

fn pieces(count: i64, mass_g: i64) -> String {
    format!("{count} piece(s), {}", kg(mass_g))
}

/// Grams as kilograms to the gram, as the certificate prints them: `1,234.567 kg`.
fn kg(mass_g: i64) -> String {
    let sign = if mass_g < 0 { "-" } else { "" };
    let grams = mass_g.unsigned_abs();
    let plain = format!("{sign}{}.{:03}", grams / 1000, grams % 1000);
    format!("{} kg", crate::i18n::Lang::En.decimal(&plain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::certificate::tests::sample;

    #[test]
    fn kilograms_print_to_the_gram_with_thousands_grouped() {
        assert_eq!(kg(0), "0.000 kg");
        assert_eq!(kg(120), "0.120 kg");
        assert_eq!(kg(1_234_567), "1,234.567 kg");
        assert_eq!(kg(-310), "-0.310 kg");
        assert_eq!(kg(999_999), "999.999 kg");
    }

    #[test]
    fn the_figures_name_every_headline_the_paper_shows() {
        let text = figures(&sample(0));
        for expected in [
            "partner:      Lycée Félix Éboué",
            "period:       2026-03-02 to 2026-03-02 (CO-00000001X)",
            "received:     3 piece(s), 27.500 kg",
            "reused:       1 piece(s), 9.000 kg",
            "recycled:     metal 12.000 kg",
            "copper ingot: 1.250 kg",
            "hazardous:    Piles lithium (BATT-LI) 0.120 kg to Récupération Guyane, permit 973-44",
            "lost:         0.310 kg",
        ] {
            assert!(text.contains(expected), "{expected} not in\n{text}");
        }
    }
}
