//! The `greenchip` binary itself: first start, clear failures, users and tokens, real TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::TestDb;

fn greenchip(database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_greenchip"));
    command
        .args(args)
        .arg("--database-url")
        .arg(database_url)
        .current_dir(std::env::temp_dir())
        .env_remove("DATABASE_URL")
        .env("GREENCHIP_CONFIG", "/nonexistent/greenchip.toml")
        .env("RUST_LOG", "warn");
    for (key, _) in std::env::vars() {
        if key.starts_with("GREENCHIP_") && key != "GREENCHIP_CONFIG" {
            command.env_remove(key);
        }
    }
    command
}

fn run(database_url: &str, args: &[&str]) -> Output {
    greenchip(database_url, args)
        .output()
        .expect("run greenchip")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running `greenchip serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    lines: Vec<String>,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let mut child = greenchip(database_url, &["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start greenchip");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let port = loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("greenchip exited before listening: {lines:?}");
            }
            lines.push(line.trim().to_string());
            if let Some(rest) = line
                .trim()
                .strip_prefix("greenchip is listening on http://127.0.0.1:")
            {
                break rest.trim_end_matches('/').parse().unwrap();
            }
        };
        Server { child, port, lines }
    }

    /// One HTTP/1.1 exchange over a real socket; answers status and body.
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_unsupported_database_url_is_one_clear_line_and_a_failure() {
    let output = run("mysql://root@localhost/gc", &["migrate"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: unsupported database URL"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_database_is_one_clear_line_and_a_failure() {
    let output = run(
        "postgres://nobody@127.0.0.1:1/none",
        &["serve", "--addr", "127.0.0.1:0"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database at postgres://nobody@127.0.0.1:1/none"),
        "{stderr}"
    );
}

#[tokio::test]
async fn first_start_prints_the_admin_password_once_and_it_logs_in() {
    let (_db, url) = TestDb::create().await;
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let server = Server::start(&url);
        let password = server
            .lines
            .iter()
            .find_map(|line| line.strip_prefix("initial admin password: "))
            .expect("the password is printed")
            .to_string();
        assert!(password.len() >= 16);
        let (status, body) = server.call("GET", "/healthz", &[], "");
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"status":"ok","db":"ok"}"#)
        );
        let login = format!(r#"{{"login":"admin","password":"{password}"}}"#);
        let (status, body) = server.call(
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            &login,
        );
        assert_eq!(status, 200, "{body}");
        drop(server);

        let again = Server::start(&url);
        assert!(
            !again.lines.iter().any(|l| l.contains("password")),
            "{:?}",
            again.lines
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn users_and_tokens_made_on_the_command_line_work_over_http() {
    let (_db, url) = TestDb::create().await;
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let migrated = run(&url, &["migrate"]);
        assert!(migrated.status.success());
        assert!(
            stdout(&migrated).contains("applied m20261129_000001_foundation"),
            "{}",
            stdout(&migrated)
        );
        assert!(stdout(&run(&url, &["migrate"])).contains("up to date"));

        let added = run(
            &url,
            &["user", "add", "--role", "supervisor", "--name", "samira"],
        );
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let password = stdout(&added)
            .lines()
            .find_map(|l| l.strip_prefix("password: ").map(str::to_string))
            .unwrap();
        assert_eq!(password.len(), 16);

        let refused = run(&url, &["user", "add", "--role", "overlord", "--name", "x"]);
        assert!(!refused.status.success());

        let token = stdout(&run(&url, &["token", "create", "--user", "samira"]))
            .trim()
            .to_string();
        assert!(token.starts_with("gct_"), "{token}");
        let unknown = run(&url, &["token", "create", "--user", "nobody"]);
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named"));

        let server = Server::start(&url);
        let bearer = format!("Bearer {token}");
        let (status, body) =
            server.call("GET", "/api/v1/auth/me", &[("Authorization", &bearer)], "");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"name\":\"samira\""), "{body}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_demo_fills_a_workshop_and_can_run_twice() {
    let (_db, url) = TestDb::create().await;
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let first = run(&url, &["demo"]);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(stdout(&first).contains("badge AP-"));
        let second = run(&url, &["demo"]);
        assert!(second.status.success());
        assert!(stdout(&second).contains("already there"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn ledger_check_is_clean_on_a_consistent_history_and_fails_naming_damage() {
    let (_db, url) = TestDb::create().await;
    {
        let config = greenchip::Config {
            database_url: url.clone(),
            ..greenchip::Config::default()
        };
        let db = greenchip::db::open_and_migrate(&config).await.unwrap();
        let spec = greenchip::synthetic::Spec {
            batch: 50,
            ..greenchip::synthetic::Spec::items(120)
        };
        let made = greenchip::synthetic::generate(&db, &spec).await.unwrap();
        assert_eq!(made.items, 120);
        assert!(made.movements > 120 * 5, "{made:?}");
        db.close().await.unwrap();
    }
    let check_url = url.clone();
    let clean = tokio::task::spawn_blocking(move || run(&check_url, &["ledger", "check"]))
        .await
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(
        stdout(&clean).starts_with("ledger clean:"),
        "{}",
        stdout(&clean)
    );

    {
        let config = greenchip::Config {
            database_url: url.clone(),
            ..greenchip::Config::default()
        };
        let db = greenchip::db::open(&config).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            "UPDATE holder_compositions SET mass_g = mass_g - 1 WHERE holder_id IN \
             (SELECT id FROM holders WHERE account_key = 'weighing_variance')",
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    }
    let damaged = tokio::task::spawn_blocking(move || run(&url, &["ledger", "check"]))
        .await
        .unwrap();
    assert!(!damaged.status.success());
    assert!(
        stdout(&damaged).contains("weighing_variance: holds"),
        "{}",
        stdout(&damaged)
    );
    assert!(String::from_utf8_lossy(&damaged.stderr).starts_with("error: ledger damaged"));
}
