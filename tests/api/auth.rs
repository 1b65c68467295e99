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
    greenchip::clock::simulated(chrono::Utc::now(), async {
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
        // Now even the right password waits (a guesser learns nothing more), but only a
        // moment: a delay, not a lock-out.
        let response = app
            .post("/api/v1/auth/login")
            .json(&json!({ "login": "youssef", "password": PASSWORD }))
            .send()
            .await;
        response.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
        let retry_after: i64 = response.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(retry_after, 1);
        assert!(response.session_cookie().is_none());

        // Another account is not affected.
        app.user("khadija", Role::Apprentice).await;
        let response = app
            .post("/api/v1/auth/login")
            .json(&json!({ "login": "khadija", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK);

        // After the wait, the right password opens a session.
        greenchip::clock::set(greenchip::clock::now() + chrono::Duration::seconds(retry_after));
        let response = app
            .post("/api/v1/auth/login")
            .json(&json!({ "login": "youssef", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    })
    .await;
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

#[tokio::test]
async fn a_login_never_adopts_a_session_id_the_browser_presented() {
    let app = TestApp::spawn().await;
    app.user("samira", Role::Supervisor).await;
    let youssef = app.logged_in("youssef", Role::Apprentice).await;
    // An attacker plants a session id of its choosing, or its own valid session, and waits.
    for planted in ["gc_session=attacker-chosen-0000", youssef.as_str()] {
        let response = app
            .post("/api/v1/auth/login")
            .cookie(planted)
            .json(&json!({ "login": "samira", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let issued = response.session_cookie().unwrap();
        assert_ne!(issued, planted, "the login kept the presented session id");
        let me = app.get("/api/v1/auth/me").cookie(&issued).send().await;
        assert_eq!(me.json()["name"], "samira");
    }
    // The planted id is still nobody; the other person's session is still theirs.
    let planted = app
        .get("/api/v1/auth/me")
        .cookie("gc_session=attacker-chosen-0000")
        .send()
        .await;
    planted.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let me = app.get("/api/v1/auth/me").cookie(&youssef).send().await;
    assert_eq!(me.json()["name"], "youssef");

    // The login form does the same.
    let token = "0123456789abcdef0123456789abcdef";
    let response = app
        .post("/login")
        .cookie(&format!("gc_session=attacker-chosen-0000; gc_csrf={token}"))
        .form(&[("login", "samira"), ("password", PASSWORD), ("csrf", token)])
        .send()
        .await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "{}",
        response.text()
    );
    let issued = response.session_cookie().unwrap();
    assert_ne!(issued, "gc_session=attacker-chosen-0000");
}

#[tokio::test]
async fn the_logout_form_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let home = app
        .get("/")
        .cookie(&cookie)
        .header("accept", "text/html")
        .send()
        .await
        .text();
    let marker = "name=\"csrf\" value=\"";
    let start = home.find(marker).unwrap() + marker.len();
    let csrf = home[start..start + 32].to_string();
    let out = app
        .post("/logout")
        .cookie(&cookie)
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookies().join("\n").contains("gc_session=;"));
    // A copy of the cookie kept elsewhere opens nothing any more.
    let me = app.get("/api/v1/auth/me").cookie(&cookie).send().await;
    me.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let page = app
        .get("/collections")
        .cookie(&cookie)
        .header("accept", "text/html")
        .send()
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"), "{}", page.location());
}

#[tokio::test]
async fn a_cross_site_write_with_a_cookie_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let partner = json!({ "name": "Evil Corp", "kind": "company" });
    for origin in [
        "https://evil.example",
        "null",
        "http://greenchip.test.evil.example",
    ] {
        let refused = app
            .post("/api/v1/partners")
            .cookie(&cookie)
            .header("host", "greenchip.test")
            .header("origin", origin)
            .json(&partner)
            .send()
            .await;
        refused.problem(StatusCode::FORBIDDEN, "forbidden");
        // A bodiless write, which a plain cross-site form could send, is refused too.
        let logout = app
            .post("/api/v1/auth/logout")
            .cookie(&cookie)
            .header("host", "greenchip.test")
            .header("origin", origin)
            .send()
            .await;
        logout.problem(StatusCode::FORBIDDEN, "forbidden");
    }
    let listed = app.get("/api/v1/partners").cookie(&cookie).send().await;
    assert!(!listed.text().contains("Evil Corp"), "{}", listed.text());
    // Reading is not a write; this site's own pages, and programs that send no Origin, write.
    let read = app
        .get("/api/v1/partners")
        .cookie(&cookie)
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let same_site = app
        .post("/api/v1/partners")
        .cookie(&cookie)
        .header("host", "greenchip.test")
        .header("origin", "http://greenchip.test")
        .json(&partner)
        .send()
        .await;
    assert_eq!(
        same_site.status,
        StatusCode::CREATED,
        "{}",
        same_site.text()
    );
}

#[tokio::test]
async fn a_cross_site_post_with_a_station_cookie_is_refused() {
    let shop = crate::helpers::Workshop::new().await;
    let station = shop.station("triage").await;
    shop.sign_in(&station).await;
    let refused = shop
        .app
        .post("/api/v1/station/sign-out")
        .cookie(&station.1)
        .header("host", "greenchip.test")
        .header("origin", "https://evil.example")
        .send()
        .await;
    refused.problem(StatusCode::FORBIDDEN, "forbidden");
    let still = shop
        .app
        .get("/api/v1/station")
        .cookie(&station.1)
        .send()
        .await;
    assert!(still.text().contains("youssef"), "{}", still.text());
    let signed_out = shop
        .app
        .post("/api/v1/station/sign-out")
        .cookie(&station.1)
        .header("host", "greenchip.test")
        .header("origin", "http://greenchip.test")
        .send()
        .await;
    assert_eq!(
        signed_out.status,
        StatusCode::NO_CONTENT,
        "{}",
        signed_out.text()
    );
}
