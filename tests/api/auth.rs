//! Logging in, sessions, roles and API tokens.

use axum::http::{Method, StatusCode};
use greenchip::domain::roles::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn login_with_the_right_password_opens_a_session() {
    let app = TestApp::spawn().await;
    app.user("samira", Role::Supervisor).await;
    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "samira", "password": PASSWORD }))
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["role"], "supervisor");
    let set_cookie = response.set_cookies().join("\n");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = response.session_cookie().unwrap();

    let me = app.get("/api/v1/auth/me").cookie(&cookie).send().await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["name"], "samira");
}

#[tokio::test]
async fn login_with_a_wrong_password_is_refused_and_sets_nothing() {
    let app = TestApp::spawn().await;
    app.user("samira", Role::Supervisor).await;
    for login in ["samira", "nobody"] {
        let response = app
            .post("/api/v1/auth/login")
            .json(&json!({ "login": login, "password": "wrong password" }))
            .send()
            .await;
        let problem = response.problem(StatusCode::BAD_REQUEST, "login_failed");
        assert_eq!(problem["detail"], "wrong name or password");
        assert!(response.session_cookie().is_none());
    }
}

#[tokio::test]
async fn an_anonymous_caller_gets_401_problem_json() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/auth/me").send().await;
    response.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let response = app
        .get("/api/v1/auth/me")
        .cookie("gc_session=forged")
        .send()
        .await;
    response.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn every_login_gets_a_fresh_session_and_logout_ends_it_on_the_server() {
    let app = TestApp::spawn().await;
    let first = app.logged_in("samira", Role::Supervisor).await;
    let second = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "samira", "password": PASSWORD }))
        .send()
        .await
        .session_cookie()
        .unwrap();
    assert_ne!(first, second, "a login must never reuse a session id");

    let logout = app.post("/api/v1/auth/logout").cookie(&first).send().await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    // A copy of the cookie kept elsewhere is worthless now; the other session lives on.
    let after = app.get("/api/v1/auth/me").cookie(&first).send().await;
    after.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let other = app.get("/api/v1/auth/me").cookie(&second).send().await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_per_account() {
    let app = TestApp::with_config(|config| config.login_failures_per_account = 3).await;
    app.user("youssef", Role::Apprentice).await;
    for _ in 0..3 {
        let response = app
            .post("/api/v1/auth/login")
            .json(&json!({ "login": "youssef", "password": "guess guess" }))
            .send()
            .await;
        response.problem(StatusCode::BAD_REQUEST, "login_failed");
    }
    // Now even the right password waits: a guesser learns nothing more.
    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "youssef", "password": PASSWORD }))
        .send()
        .await;
    response.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let retry_after: u64 = response.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert!(response.session_cookie().is_none());

    // Another account is not affected.
    app.user("khadija", Role::Apprentice).await;
    let response = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "khadija", "password": PASSWORD }))
        .send()
        .await;
    assert_eq!(response.status, StatusCode::OK);
}

#[tokio::test]
async fn a_role_that_may_not_gets_403_problem_json() {
    let app = TestApp::spawn().await;
    let supervisor = app.logged_in("samira", Role::Supervisor).await;
    let apprentice = app.logged_in("youssef", Role::Apprentice).await;
    let partner = app.logged_in("ocp", Role::Partner).await;
    let new_user = json!({ "name": "hamza", "role": "apprentice" });

    let refused = app
        .post("/api/v1/users")
        .cookie(&supervisor)
        .json(&new_user)
        .send()
        .await;
    refused.problem(StatusCode::FORBIDDEN, "forbidden");
    for cookie in [&apprentice, &partner] {
        let refused = app.get("/api/v1/users").cookie(cookie).send().await;
        refused.problem(StatusCode::FORBIDDEN, "forbidden");
    }
    let listed = app.get("/api/v1/users").cookie(&supervisor).send().await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json().as_array().unwrap().len(), 3);
    // Nothing was created by the refused request.
    assert!(!listed.text().contains("hamza"));
}

#[tokio::test]
async fn an_admin_creates_users_and_a_generated_password_is_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.logged_in("root", Role::Admin).await;
    let created = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "hamza", "display_name": "Hamza B.", "role": "apprentice" }))
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    let password = body["password"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 16);
    let badge = body["user"]["badge_code"].as_str().unwrap();
    assert!(badge.starts_with("AP-"), "{badge}");
    assert!(greenchip::domain::codes::Code::parse(badge).is_ok());

    let login = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "hamza", "password": password }))
        .send()
        .await;
    assert_eq!(login.status, StatusCode::OK);

    let again = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "hamza", "role": "supervisor", "password": "long enough" }))
        .send()
        .await;
    again.problem(StatusCode::CONFLICT, "user_exists");

    let bad = app
        .post("/api/v1/users")
        .cookie(&admin)
        .json(&json!({ "name": "has space", "role": "supervisor", "password": "short" }))
        .send()
        .await;
    let problem = bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "password"]);
}

#[tokio::test]
async fn an_api_token_authenticates_until_it_is_revoked() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let created = app
        .post("/api/v1/tokens")
        .cookie(&cookie)
        .json(&json!({ "name": "scale bridge" }))
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let token = created.json()["token"].as_str().unwrap().to_string();
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("gct_"));

    let me = app.get("/api/v1/auth/me").bearer(&token).send().await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["name"], "samira");
    // The token carries its owner's role.
    let users = app.get("/api/v1/users").bearer(&token).send().await;
    assert_eq!(users.status, StatusCode::OK);

    let listed = app.get("/api/v1/tokens").bearer(&token).send().await.json();
    assert_eq!(listed[0]["name"], "scale bridge");
    assert!(
        listed[0].get("token").is_none(),
        "a token's secret is shown only once"
    );

    let wrong = app.get("/api/v1/auth/me").bearer("gct_0000").send().await;
    wrong.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // A wrong bearer token never falls back to a valid cookie.
    let mixed = app
        .get("/api/v1/auth/me")
        .bearer("gct_0000")
        .cookie(&cookie)
        .send()
        .await;
    mixed.problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    let revoked = app
        .request(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(revoked.json()["revoked_at"].is_string());
    let after = app.get("/api/v1/auth/me").bearer(&token).send().await;
    after.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn someone_else_cannot_revoke_my_token() {
    let app = TestApp::spawn().await;
    let mine = app.logged_in("samira", Role::Supervisor).await;
    let theirs = app.logged_in("youssef", Role::Apprentice).await;
    let created = app
        .post("/api/v1/tokens")
        .cookie(&mine)
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .json();
    let id = created["id"].as_str().unwrap();
    let refused = app
        .request(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .cookie(&theirs)
        .send()
        .await;
    refused.problem(StatusCode::NOT_FOUND, "not_found");
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/auth/me").bearer(token).send().await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_login_clears_that_persons_expired_sessions() {
    use greenchip::entities::session;
    use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
    let app = TestApp::spawn().await;
    app.logged_in("samira", Role::Supervisor).await;
    app.logged_in("youssef", Role::Apprentice).await;
    app.db
        .execute_unprepared("UPDATE sessions SET expires_at = '2020-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    assert_eq!(session::Entity::find().count(&app.db).await.unwrap(), 2);
    let again = app
        .post("/api/v1/auth/login")
        .json(&json!({ "login": "samira", "password": PASSWORD }))
        .send()
        .await;
    assert_eq!(again.status, StatusCode::OK);
    // Samira's old session went; Youssef's expired one waits for his next login.
    assert_eq!(session::Entity::find().count(&app.db).await.unwrap(), 2);
    let expired = app
        .get("/api/v1/auth/me")
        .cookie(&again.session_cookie().unwrap())
        .send()
        .await;
    assert_eq!(expired.status, StatusCode::OK);
}
