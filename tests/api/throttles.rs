//! Login and lookup throttles: a delay rather than a lock-out, a device cookie that lets its
//! owner in during an attack, and counts kept in the database, shared by every instance and
//! kept across a restart. Time moves on the simulated clock (`greenchip::clock`), never by
//! sleeping.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use greenchip::clock;
use greenchip::domain::roles::Role;
use greenchip::services::users::{self, NewUser};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestResponse};

const WRONG: &str = "not the password";
const ATTACKER: &str = "198.51.100.66";
const OWNER: &str = "203.0.113.5";

async fn log_in(
    app: &TestApp,
    login: &str,
    password: &str,
    from: &str,
    device: Option<&str>,
) -> TestResponse {
    let mut request = app
        .post("/api/v1/auth/login")
        .header("x-forwarded-for", from)
        .json(&json!({ "login": login, "password": password }));
    if let Some(device) = device {
        request = request.cookie(device);
    }
    request.send().await
}

fn retry_after_s(response: &TestResponse) -> i64 {
    response.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    response.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Moves the simulated clock on by `seconds`.
fn wait(seconds: i64) {
    clock::set(clock::now() + Duration::seconds(seconds));
}

/// Guesses `guesses` wrong passwords for `login`, each as soon as the delay allows; the clock
/// is left at the last failure.
async fn attack(app: &TestApp, login: &str, guesses: u32) {
    let mut failed = 0;
    while failed < guesses {
        let response = log_in(app, login, WRONG, ATTACKER, None).await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            let wait_s = retry_after_s(&response);
            assert!(wait_s <= 30, "the attacker was told to wait {wait_s} s");
            wait(wait_s);
        } else {
            response.problem(StatusCode::BAD_REQUEST, "login_failed");
            failed += 1;
        }
    }
}

/// A public certificate lookup from the attacker's address (of a code that does not exist:
/// it counts all the same).
async fn lookup(app: &TestApp) -> TestResponse {
    app.get("/api/v1/certificates/CE-0000-0000-0000/verify")
        .header("x-forwarded-for", ATTACKER)
        .send()
        .await
}

async fn forwarded_app() -> TestApp {
    TestApp::with_config(|config| config.trust_forwarded_for = true).await
}

fn start() -> DateTime<Utc> {
    Utc::now()
}

#[tokio::test]
async fn a_login_name_and_its_email_count_as_one_account() {
    clock::simulated(start(), async {
        let app = forwarded_app().await;
        users::create(
            &app.db,
            NewUser {
                name: "samira".into(),
                display_name: None,
                email: Some("samira@example.org".into()),
                role: Role::Supervisor,
                password: Some(PASSWORD.into()),
                partner_id: None,
            },
            None,
        )
        .await
        .unwrap();
        for login in [
            "samira",
            "Samira@Example.org",
            "samira",
            "samira@example.org",
            "samira",
        ] {
            log_in(&app, login, WRONG, ATTACKER, None)
                .await
                .problem(StatusCode::BAD_REQUEST, "login_failed");
        }
        let refused = log_in(&app, "samira@example.org", PASSWORD, OWNER, None).await;
        assert_eq!(retry_after_s(&refused), 1, "five failures: one second");
        wait(1);
        let response = log_in(&app, "samira@example.org", PASSWORD, OWNER, None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    })
    .await;
}

#[tokio::test]
async fn a_user_with_a_device_cookie_logs_in_at_once_during_an_attack() {
    clock::simulated(start(), async {
        let app = forwarded_app().await;
        app.user("samira", Role::Supervisor).await;
        let first = log_in(&app, "samira", PASSWORD, OWNER, None).await;
        assert_eq!(first.status, StatusCode::OK);
        let device = first.cookie_named("gc_device").expect("a device cookie");
        let set = first.set_cookies().join("\n");
        assert!(
            set.contains("gc_device=")
                && set.contains("HttpOnly")
                && set.contains("SameSite=Lax")
                && set.contains("Secure"),
            "{set}"
        );

        attack(&app, "samira", 40).await;
        let at_once = log_in(&app, "samira", PASSWORD, OWNER, Some(&device)).await;
        assert_eq!(at_once.status, StatusCode::OK, "{}", at_once.text());
        // The cookie of another account is no pass.
        app.user("khadija", Role::Apprentice).await;
        let theirs = log_in(&app, "khadija", PASSWORD, OWNER, None)
            .await
            .cookie_named("gc_device")
            .unwrap();
        let refused = log_in(&app, "samira", PASSWORD, OWNER, Some(&theirs)).await;
        assert!(retry_after_s(&refused) <= 30);
    })
    .await;
}

#[tokio::test]
async fn without_a_device_cookie_an_attack_delays_the_owner_thirty_seconds_at_most() {
    clock::simulated(start(), async {
        let app = forwarded_app().await;
        app.user("samira", Role::Supervisor).await;
        attack(&app, "samira", 40).await;
        let refused = log_in(&app, "samira", PASSWORD, OWNER, None).await;
        let wait_s = retry_after_s(&refused);
        assert!((1..=30).contains(&wait_s), "{wait_s}");
        assert!(refused.session_cookie().is_none());
        wait(wait_s);
        let response = log_in(&app, "samira", PASSWORD, OWNER, None).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    })
    .await;
}

#[tokio::test]
async fn the_address_limit_slows_that_address_and_locks_no_account() {
    clock::simulated(start(), async {
        let app = forwarded_app().await;
        app.user("samira", Role::Supervisor).await;
        for index in 0..20 {
            log_in(&app, &format!("guess-{index}"), WRONG, ATTACKER, None)
                .await
                .problem(StatusCode::BAD_REQUEST, "login_failed");
        }
        let slowed = log_in(&app, "samira", PASSWORD, ATTACKER, None).await;
        assert_eq!(retry_after_s(&slowed), 1);
        let elsewhere = log_in(&app, "samira", PASSWORD, OWNER, None).await;
        assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.text());
        wait(1);
        let later = log_in(&app, "samira", PASSWORD, ATTACKER, None).await;
        assert_eq!(later.status, StatusCode::OK, "{}", later.text());
    })
    .await;
}

#[tokio::test]
async fn a_device_cookie_is_no_longer_trusted_after_five_failures() {
    clock::simulated(start(), async {
        let app = forwarded_app().await;
        app.user("samira", Role::Supervisor).await;
        let device = log_in(&app, "samira", PASSWORD, OWNER, None)
            .await
            .cookie_named("gc_device")
            .expect("a device cookie");
        attack(&app, "samira", 6).await;
        for _ in 0..5 {
            log_in(&app, "samira", WRONG, OWNER, Some(&device))
                .await
                .problem(StatusCode::BAD_REQUEST, "login_failed");
        }
        let refused = log_in(&app, "samira", PASSWORD, OWNER, Some(&device)).await;
        assert!(retry_after_s(&refused) <= 30);
    })
    .await;
}

#[tokio::test]
async fn simultaneous_guesses_get_no_more_than_the_free_failures() {
    clock::simulated(start(), async {
        let app = forwarded_app().await;
        app.user("samira", Role::Supervisor).await;
        let guesses = (0..12).map(|_| log_in(&app, "samira", WRONG, ATTACKER, None));
        let statuses: Vec<StatusCode> = join_all(guesses)
            .await
            .iter()
            .map(|response| response.status)
            .collect();
        let checked = statuses
            .iter()
            .filter(|status| **status == StatusCode::BAD_REQUEST)
            .count();
        assert_eq!(checked, 5, "{statuses:?}");
    })
    .await;
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_counts() {
    clock::simulated(start(), async {
        let first = forwarded_app().await;
        let second = first.another_instance();
        first.user("samira", Role::Supervisor).await;
        for app in [&first, &second, &first, &second, &first] {
            log_in(app, "samira", WRONG, ATTACKER, None)
                .await
                .problem(StatusCode::BAD_REQUEST, "login_failed");
        }
        for app in [&first, &second] {
            let refused = log_in(app, "samira", PASSWORD, OWNER, None).await;
            assert_eq!(retry_after_s(&refused), 1);
        }

        for index in 0..30 {
            let app = if index % 2 == 0 { &first } else { &second };
            let answer = lookup(app).await;
            assert_ne!(
                answer.status,
                StatusCode::TOO_MANY_REQUESTS,
                "lookup {index}"
            );
        }
        for app in [&first, &second] {
            let wait_s = retry_after_s(&lookup(app).await);
            assert!((1..=60).contains(&wait_s), "{wait_s}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_counts_survive_a_restart() {
    clock::simulated(start(), async {
        let before = forwarded_app().await;
        before.user("samira", Role::Supervisor).await;
        attack(&before, "samira", 5).await;
        for _ in 0..30 {
            lookup(&before).await;
        }
        let restarted = before.another_instance();
        drop(before);
        let refused = log_in(&restarted, "samira", PASSWORD, OWNER, None).await;
        assert_eq!(retry_after_s(&refused), 1);
        assert!(retry_after_s(&lookup(&restarted).await) <= 60);
    })
    .await;
}
