//! The command line: serve, migrate, user, token, demo, ledger, labels, certificate, key,
//! audit, backup, restore.

mod verify;

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sea_orm::DatabaseConnection;
use tracing_subscriber::EnvFilter;

use crate::config::Config;
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::services::{audit, backups, certificates, ledger, tokens, users};
use crate::{db, demo, synthetic};

#[derive(Debug, Parser)]
#[command(
    name = "greenchip",
    version,
    about = "Tracks collected IT equipment through an e-waste recycling training workshop"
)]
pub struct Cli {
    /// Database URL (default: DATABASE_URL, GREENCHIP_DATABASE_URL, then sqlite://greenchip.db).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and report them.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fill the database with a small demo workshop.
    Demo,
    /// Check the mass ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Print labels to a PDF file.
    Labels(LabelsArgs),
    /// Check recovery certificates.
    #[command(subcommand)]
    Certificate(CertificateCommand),
    /// The certificate signing key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Back up the database into a new file while the service runs (SQLite: a consistent
    /// copy; PostgreSQL: runs pg_dump).
    Backup {
        /// The file to write; it must not exist yet. It is readable by its owner only.
        file: std::path::PathBuf,
        /// Keep the certificate signing secret in the backup (left out by default: whoever
        /// holds it can sign certificates in the workshop's name; a restore keeps the key of
        /// the database it replaces).
        #[arg(long)]
        with_signing_key: bool,
    },
    /// Replace the SQLite database with a backup, after checking it. Stop greenchip first.
    Restore {
        /// A file written by `greenchip backup`.
        file: std::path::PathBuf,
        /// Replace a database that is not empty (a copy of it is kept beside it).
        #[arg(long)]
        force: bool,
    },
    /// Generate a large synthetic history (for benchmarks and load tests) into an empty database.
    Synth {
        /// Items to receive; about ten movements each.
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        #[arg(long, default_value_t = 2010)]
        seed: u64,
    },
}

#[derive(Debug, Args)]
struct LabelsArgs {
    /// Layout: L7160, L7163, L7651, roll62, or one from `labels_dir`.
    #[arg(long, default_value = "L7160")]
    template: String,
    /// Every item of this collection (`CO-…`).
    #[arg(long, conflicts_with = "codes")]
    collection: Option<String>,
    /// These codes, comma-separated.
    #[arg(long, value_delimiter = ',', required_unless_present = "collection")]
    codes: Vec<String>,
    /// Used labels at the start of the first sheet.
    #[arg(long, default_value_t = 0)]
    skip: usize,
    /// Printer correction, mm to the right.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    offset_x_mm: f32,
    /// Printer correction, mm down.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    offset_y_mm: f32,
    /// Thin outlines around each label.
    #[arg(long)]
    cut_borders: bool,
    /// The PDF to write.
    #[arg(short, long)]
    output: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Recompute every balance and composition from the movements and compare; exits
    /// non-zero naming every difference.
    Check,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the audit log's hash chain; exits non-zero naming the first broken event.
    Verify,
}

#[derive(Debug, Subcommand)]
enum CertificateCommand {
    /// Check that a certificate PDF (or a stored certificate, by number or `CE-…` code) is
    /// genuine: its snapshot carries the workshop's signature and its printed pages are the
    /// ones sealed. Prints the signed figures and, when the database is at hand, the status.
    /// Exits non-zero when it is not genuine, or is revoked or superseded.
    Verify {
        /// A certificate PDF, or a number such as `2026-0042`, or a `CE-…` code.
        certificate: String,
        /// The workshop's public key (hex, from `/.well-known/greenchip-signing-key`); may
        /// repeat. With it, a PDF is checked offline, without the database.
        #[arg(long)]
        key: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Print the public keys, current first.
    Show,
    /// Retire the signing key and make a new one; certificates signed before stay valid.
    Rotate,
}

#[derive(Debug, Default, Args)]
struct ServeArgs {
    /// Address to listen on (default: GREENCHIP_ADDR, then 127.0.0.1:8080).
    #[arg(long)]
    addr: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; prints a generated password once when none is given.
    Add {
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password: Option<String>,
        /// For a partner user: the partner's id.
        #[arg(long)]
        partner_id: Option<uuid::Uuid>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create {
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// Parses the command line and runs it; errors are printed as one line.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match Config::load() {
        Ok(config) => config,
        Err(error) => return fail(format!("configuration: {error}")),
    };
    if let Some(url) = cli.database_url {
        config.database_url = url;
    }
    init_tracing(&config.log);
    let outcome = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            if let Some(addr) = args.addr {
                config.addr = addr;
            }
            serve(config).await
        }
        Command::Migrate => migrate(&config).await,
        Command::User(UserCommand::Add {
            role,
            name,
            display_name,
            email,
            password,
            partner_id,
        }) => {
            with_db(&config, |db| async move {
                let new = users::NewUser {
                    name,
                    display_name,
                    email,
                    role,
                    password,
                    partner_id,
                };
                let created = users::create(&db, new, None).await?;
                println!("created {} “{}”", created.user.role, created.user.name);
                if let Some(badge) = &created.user.badge_code {
                    println!("badge: {badge}");
                }
                if let Some(password) = created.generated_password {
                    println!("password: {password}");
                }
                Ok(())
            })
            .await
        }
        Command::Token(TokenCommand::Create { user, name }) => {
            with_db(&config, |db| async move {
                let owner = users::find_by_name(&db, &user).await?;
                let created = tokens::create(&db, &owner, &name).await?;
                println!("{}", created.token);
                Ok(())
            })
            .await
        }
        Command::Demo => {
            let settings = config.clone();
            with_db(&config, |db| async move {
                crate::services::certificates::keys::ensure(&db, &settings).await?;
                demo::fill(&db, &settings).await
            })
            .await
        }
        Command::Ledger(LedgerCommand::Check) => ledger_check(&config).await,
        Command::Labels(args) => print_labels(&config, args).await,
        Command::Audit(AuditCommand::Verify) => audit_verify(&config).await,
        Command::Backup {
            file,
            with_signing_key,
        } => backup(&config, &file, with_signing_key).await,
        Command::Restore { file, force } => restore(&config, &file, force).await,
        Command::Certificate(CertificateCommand::Verify { certificate, key }) => {
            verify::certificate(&config, &certificate, &key).await
        }
        Command::Key(KeyCommand::Show) => {
            let settings = config.clone();
            with_db(&config, |db| async move {
                certificates::keys::ensure(&db, &settings).await?;
                for key in certificates::keys::published(&db).await? {
                    let state = match key.retired_at {
                        Some(at) => format!("retired {}", at.format("%Y-%m-%d")),
                        None => "current".to_string(),
                    };
                    println!("{} {} ({state})", key.algorithm, key.public_key);
                }
                Ok(())
            })
            .await
        }
        Command::Key(KeyCommand::Rotate) => {
            let settings = config.clone();
            with_db(&config, |db| async move {
                let key = certificates::keys::rotate(&db, &settings).await?;
                println!("new signing key: {} {}", key.algorithm, key.public_key);
                Ok(())
            })
            .await
        }
        Command::Synth { items, seed } => {
            with_db(&config, |db| async move {
                let started = std::time::Instant::now();
                let spec = synthetic::Spec { seed, ..synthetic::Spec::items(items) };
                let made = synthetic::generate(&db, &spec).await?;
                println!(
                    "generated {} items in {} collections from {} partners: {} operations, {} movements, {} melts, {} ingots in {:.0} s",
                    made.items,
                    made.collections,
                    made.partners,
                    made.operations,
                    made.movements,
                    made.melts,
                    made.ingots,
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            })
            .await
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn init_tracing(filter: &str) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

async fn with_db<F, Fut>(config: &Config, work: F) -> Result<(), String>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = crate::AppResult<()>>,
{
    let db = db::open_and_migrate(config)
        .await
        .map_err(|e| e.to_string())?;
    work(db).await.map_err(|error| error.to_string())
}

async fn print_labels(config: &Config, args: LabelsArgs) -> Result<(), String> {
    let mut templates = crate::render::Templates::shipped().map_err(|e| e.to_string())?;
    if let Some(dir) = &config.labels_dir {
        templates = templates.with_dir(dir).map_err(|e| e.to_string())?;
    }
    let db = db::open_and_migrate(config)
        .await
        .map_err(|e| e.to_string())?;
    let lang = config.label_lang();
    let labels = match &args.collection {
        Some(collection) => crate::services::labels::for_collection(&db, collection, lang).await,
        None => crate::services::labels::for_codes(&db, &args.codes, lang).await,
    }
    .map_err(|e| e.to_string())?;
    let count = labels.len();
    let run = crate::services::labels::PrintRun {
        template: args.template,
        skip: args.skip,
        offset_x_mm: args.offset_x_mm,
        offset_y_mm: args.offset_y_mm,
        cut_borders: args.cut_borders,
    };
    let pdf = crate::services::labels::render(
        &templates,
        &run,
        labels,
        config.public_base().map(str::to_string),
    )
    .await
    .map_err(|e| e.to_string())?;
    std::fs::write(&args.output, &pdf)
        .map_err(|error| format!("cannot write {}: {error}", args.output.display()))?;
    println!(
        "{count} labels written to {} ({} bytes)",
        args.output.display(),
        pdf.len()
    );
    Ok(())
}

async fn ledger_check(config: &Config) -> Result<(), String> {
    let db = db::open_and_migrate(config)
        .await
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let report = ledger::check::check(&db).await.map_err(|e| e.to_string())?;
    for difference in &report.differences {
        println!("{difference}");
    }
    let summary = format!(
        "{} holders, {} movements, sum {} g, {} difference(s), {:.1} s",
        report.holders,
        report.movements,
        report.sum_g,
        report.differences.len(),
        started.elapsed().as_secs_f64()
    );
    if report.is_clean() {
        println!("ledger clean: {summary}");
        Ok(())
    } else {
        Err(format!("ledger damaged: {summary}"))
    }
}

async fn audit_verify(config: &Config) -> Result<(), String> {
    let db = db::open_and_migrate(config)
        .await
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let report = audit::verify(&db).await.map_err(|e| e.to_string())?;
    match &report.damage {
        None => {
            println!(
                "audit chain intact: {} events verified, head sequence {} hash {}, {:.1} s",
                report.verified,
                report.head_seq,
                report.head_hash,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some(damage) => Err(format!(
            "audit chain broken: {damage} ({} events before it verified)",
            report.verified
        )),
    }
}

async fn backup(
    config: &Config,
    file: &std::path::Path,
    with_signing_key: bool,
) -> Result<(), String> {
    let report = backups::backup(config, file, with_signing_key)
        .await
        .map_err(|e| e.to_string())?;
    let events = report
        .events
        .map(|events| format!(", {events} audit events"))
        .unwrap_or_default();
    println!(
        "backed up {} to {} ({} bytes{events})",
        db::redact(&config.database_url),
        report.path.display(),
        report.bytes
    );
    if report.signing_secret {
        println!(
            "it holds the certificate signing secret: keep it where only the workshop's \
             administrators can read it"
        );
    } else {
        println!(
            "the certificate signing secret is left out (--with-signing-key keeps it); a \
             restore keeps the current key"
        );
    }
    Ok(())
}

async fn restore(config: &Config, file: &std::path::Path, force: bool) -> Result<(), String> {
    let report = backups::restore(config, file, force)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(kept) = &report.kept {
        println!("the replaced database is kept at {}", kept.display());
    }
    println!(
        "restored {} into {}: {} audit events, migrations up to {}; start greenchip to use it",
        file.display(),
        report.path.display(),
        report.events,
        report.migration
    );
    Ok(())
}

async fn migrate(config: &Config) -> Result<(), String> {
    let db = db::open(config).await.map_err(|e| e.to_string())?;
    let applied = db::migrate(&db).await.map_err(|e| e.to_string())?;
    if applied.is_empty() {
        println!(
            "database {} is up to date",
            db::redact(&config.database_url)
        );
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

async fn serve(config: Config) -> Result<(), String> {
    let db = db::open_and_migrate(&config)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(password) = users::ensure_initial_admin(&db)
        .await
        .map_err(|e| e.to_string())?
    {
        println!("created the account “{}”", users::INITIAL_ADMIN);
        println!("initial admin password: {password}");
    }
    certificates::keys::ensure(&db, &config)
        .await
        .map_err(|error| format!("certificate signing key: {error}"))?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", config.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(url = %format!("http://{local}/"), database = %db::redact(&config.database_url), "greenchip is listening");
    println!("greenchip is listening on http://{local}/");
    db::spawn_checkpoints(db.clone());
    let state = AppState::try_new(db, config).map_err(|error| format!("label layouts: {error}"))?;
    let app = crate::app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|error| format!("server stopped: {error}"))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
