//! Typed configuration: defaults, then an optional `greenchip.toml`, then `GREENCHIP_*` variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The file read when `GREENCHIP_CONFIG` names none.
pub const DEFAULT_CONFIG_FILE: &str = "greenchip.toml";
/// The embedded default: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://greenchip.db";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// Where `serve` listens.
    pub addr: SocketAddr,
    /// The address people and phones reach the service at, e.g. `https://greenchip.example.org`.
    /// Printed into QR codes; when absent, labels carry the bare code.
    pub public_url: Option<String>,
    /// The workshop's name, shown in the page header and on documents.
    pub workshop_name: String,
    /// The workshop's postal address, printed on certificates.
    pub workshop_address: String,
    /// The workshop's environmental permit or registration number, printed on certificates.
    pub workshop_permit: String,
    /// Keep the certificate signing key in this file (hex, created at first start) rather
    /// than in the database.
    pub signing_key_file: Option<PathBuf>,
    /// `tracing` filter, e.g. `info` or `greenchip=debug,tower_http=info`.
    pub log: String,
    /// Marks cookies `Secure`. Defaults to true when `public_url` is https.
    pub secure_cookies: Option<bool>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// How long a login session lasts without use, in hours.
    pub session_hours: u32,
    /// Failed logins on an account before each further attempt waits (1 s doubling to 30 s;
    /// a browser with the account's device cookie does not wait).
    pub login_failures_per_account: u32,
    /// Failed logins from one client address before that address waits the same way.
    pub login_failures_per_address: u32,
    /// Failed logins are forgotten after this many seconds without one.
    pub login_window_s: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Connections in the PostgreSQL pool.
    pub postgres_pool_size: u32,
    /// Connections to the SQLite file (one writes at a time; the others read).
    pub sqlite_pool_size: u32,
    /// A folder of extra label layouts (`*.toml`); one named like a shipped layout replaces it.
    pub labels_dir: Option<PathBuf>,
    /// The language of the words printed on labels (`fr`, `en`, `ar`).
    pub label_language: String,
    /// An apprentice signed in at a station is signed out after this many idle minutes.
    pub station_idle_minutes: u32,
    /// How far weighed outputs may stray from their input, in basis points (300 = ±3 %),
    /// per station kind (`dismantling = 300`, `sorting = 200`, `smelting = 500`); kinds not
    /// named take ±3 %.
    pub tolerance_bp: std::collections::BTreeMap<String, u32>,
}

impl Config {
    /// The weighing tolerance at a kind of station.
    pub fn tolerance_for(&self, station_kind: &str) -> u32 {
        self.tolerance_bp
            .get(station_kind)
            .copied()
            .unwrap_or(crate::domain::tolerance::DEFAULT_BP)
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            workshop_name: "Green Chip".to_string(),
            workshop_address: String::new(),
            workshop_permit: String::new(),
            signing_key_file: None,
            log: "info,sqlx=warn,sea_orm=warn".to_string(),
            secure_cookies: None,
            trust_forwarded_for: false,
            session_hours: 12,
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            login_window_s: 900,
            max_body_bytes: 2 * 1024 * 1024,
            postgres_pool_size: 16,
            sqlite_pool_size: 8,
            labels_dir: None,
            label_language: "fr".to_string(),
            station_idle_minutes: 15,
            tolerance_bp: std::collections::BTreeMap::new(),
        }
    }
}

impl Config {
    /// Defaults < `greenchip.toml` (or the file `GREENCHIP_CONFIG` names) < `DATABASE_URL`
    /// < `GREENCHIP_*` variables.
    pub fn load() -> Result<Config, Box<figment::Error>> {
        let file = std::env::var_os("GREENCHIP_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("GREENCHIP_").ignore(&["CONFIG", "TEST_POSTGRES_URL"]))
            .extract()
            .map_err(Box::new)
    }

    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://"))
        })
    }

    /// The language labels are printed in. Labels use the PDF base fonts, which have no
    /// Arabic letters, so `ar` prints in French.
    pub fn label_lang(&self) -> crate::i18n::Lang {
        match crate::i18n::Lang::from_code(&self.label_language) {
            Some(crate::i18n::Lang::En) => crate::i18n::Lang::En,
            _ => crate::i18n::Lang::Fr,
        }
    }

    /// Where a certificate's QR code points: `PUBLIC_URL/verify/<code>`, or the listening
    /// address when no public URL is configured.
    pub fn verify_url(&self, code: &str) -> String {
        match self.public_base() {
            Some(base) => format!("{base}/verify/{code}"),
            None => format!("http://{}/verify/{code}", self.addr),
        }
    }

    /// The public URL without a trailing slash, if configured.
    pub fn public_base(&self) -> Option<&str> {
        self.public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/'))
            .filter(|url| !url.is_empty())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail API
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "greenchip.toml",
                "workshop_name = \"Atelier Green Chip\"\naddr = \"0.0.0.0:9000\"\nsession_hours = 8\n",
            )?;
            jail.set_env("GREENCHIP_SESSION_HOURS", "4");
            jail.set_env("DATABASE_URL", "postgres://postgres@localhost/gc");
            let config = Config::load().map_err(|e| *e)?;
            assert_eq!(config.workshop_name, "Atelier Green Chip");
            assert_eq!(config.addr, "0.0.0.0:9000".parse().unwrap());
            assert_eq!(config.session_hours, 4);
            assert_eq!(config.database_url, "postgres://postgres@localhost/gc");
            jail.set_env("GREENCHIP_DATABASE_URL", "sqlite://other.db");
            assert_eq!(
                Config::load().map_err(|e| *e)?.database_url,
                "sqlite://other.db"
            );
            Ok(())
        });
    }

    #[test]
    fn a_mistyped_value_is_a_clear_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GREENCHIP_SESSION_HOURS", "twelve");
            let error = Config::load().unwrap_err().to_string();
            assert!(error.to_lowercase().contains("session_hours"), "{error}");
            assert!(error.contains("twelve"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn cookies_are_secure_behind_https() {
        let mut config = Config::default();
        assert!(!config.cookies_secure());
        config.public_url = Some("https://gc.example.org/".into());
        assert!(config.cookies_secure());
        assert_eq!(config.public_base(), Some("https://gc.example.org"));
    }
}
