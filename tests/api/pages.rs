//! The HTML shell: login form, languages, navigation by role, CSRF, security headers.

use axum::http::StatusCode;
use greenchip::domain::roles::Role;

use crate::helpers::{PASSWORD, TestApp, TestResponse};

async fn login_page(app: &TestApp, lang: &str) -> TestResponse {
    app.get("/login")
        .header("accept-language", lang)
        .send()
        .await
}

fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..start + 32].to_string()
}

#[tokio::test]
async fn the_login_page_speaks_english_french_and_arabic() {
    let app = TestApp::spawn().await;
    let english = login_page(&app, "en").await;
    assert_eq!(english.status, StatusCode::OK);
    assert!(english.text().contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(english.text().contains("<h1>Sign in</h1>"));

    let french = login_page(&app, "fr-MA,fr;q=0.9").await;
    assert!(french.text().contains("<html lang=\"fr\" dir=\"ltr\">"));
    assert!(french.text().contains("<h1>Connexion</h1>"));
    assert!(french.text().contains("Mot de passe"));

    let arabic = login_page(&app, "ar").await;
    assert!(arabic.text().contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(arabic.text().contains("<h1>تسجيل الدخول</h1>"));

    // The visitor's choice (cookie) wins over the browser's language.
    let chosen = app
        .get("/login")
        .header("accept-language", "ar")
        .cookie("gc_lang=fr")
        .send()
        .await;
    assert!(chosen.text().contains("<h1>Connexion</h1>"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_no_external_assets() {
    let app = TestApp::spawn().await;
    let page = login_page(&app, "en").await;
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!page.text().contains("http://") && !page.text().contains("https://"));
}

#[tokio::test]
async fn the_language_switch_remembers_the_choice_and_stays_on_this_site() {
    let app = TestApp::spawn().await;
    let response = app.get("/lang/ar?next=/login").send().await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/login");
    assert!(
        response
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("gc_lang=ar"))
    );
    for hostile in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let response = app.get(&format!("/lang/fr?next={hostile}")).send().await;
        assert_eq!(response.location(), "/", "{hostile}");
    }
    let unknown = app.get("/lang/xx").send().await;
    unknown.problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_login_form_logs_in_and_the_dashboard_follows_the_role() {
    let app = TestApp::spawn().await;
    app.user("samira", Role::Supervisor).await;
    let anonymous = app.get("/").send().await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(anonymous.location().starts_with("/login"));

    let form = login_page(&app, "en").await;
    let csrf_cookie = form.cookie_named("gc_csrf").expect("a csrf cookie");
    let csrf = hidden_csrf(&form.text());
    assert_eq!(csrf_cookie, format!("gc_csrf={csrf}"));

    let submitted = app
        .post("/login")
        .cookie(&csrf_cookie)
        .form(&[
            ("login", "samira"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.text()
    );
    assert_eq!(submitted.location(), "/");
    let session = submitted.session_cookie().expect("a session");

    let dashboard = app.get("/").cookie(&session).send().await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let html = dashboard.text();
    assert!(html.contains("Welcome, samira"));
    assert!(
        html.contains("href=\"/api/docs\""),
        "supervisors see the API link"
    );
    assert!(
        html.contains("auth.login"),
        "supervisors see the latest activity"
    );
}

#[tokio::test]
async fn an_apprentice_sees_their_badge_and_no_supervisor_links() {
    let app = TestApp::spawn().await;
    let cookie = app.logged_in("youssef", Role::Apprentice).await;
    let html = app
        .get("/")
        .cookie(&cookie)
        .header("accept-language", "fr")
        .send()
        .await
        .text();
    assert!(html.contains("Votre badge"));
    assert!(html.contains("AP-"));
    assert!(!html.contains("href=\"/api/docs\""));
    assert!(!html.contains("auth.login"));
}

#[tokio::test]
async fn a_wrong_password_on_the_form_says_so_in_the_page_language() {
    let app = TestApp::spawn().await;
    app.user("samira", Role::Supervisor).await;
    let form = login_page(&app, "fr").await;
    let csrf = hidden_csrf(&form.text());
    let refused = app
        .post("/login")
        .cookie(&format!("gc_csrf={csrf}; gc_lang=fr"))
        .form(&[
            ("login", "samira"),
            ("password", "nope nope"),
            ("csrf", &csrf),
        ])
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.text().contains("Nom ou mot de passe incorrect."));
    assert!(refused.session_cookie().is_none());
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = TestApp::spawn().await;
    app.user("samira", Role::Supervisor).await;
    // Login without the matching token (a forged form on another site cannot read it).
    let forged = app
        .post("/login")
        .cookie("gc_csrf=00000000000000000000000000000000")
        .form(&[
            ("login", "samira"),
            ("password", PASSWORD),
            ("csrf", "11111111111111111111111111111111"),
        ])
        .send()
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.session_cookie().is_none());

    // Logout from another origin, even carrying the session cookie, is refused.
    let session = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({ "login": "samira", "password": PASSWORD }))
        .send()
        .await
        .session_cookie()
        .unwrap();
    let page = app.get("/").cookie(&session).send().await.text();
    let csrf = hidden_csrf(&page);
    let cross_site = app
        .post("/logout")
        .cookie(&session)
        .header("host", "greenchip.local")
        .header("origin", "https://evil.example")
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/auth/me")
            .cookie(&session)
            .send()
            .await
            .status,
        StatusCode::OK
    );

    let same_site = app
        .post("/logout")
        .cookie(&session)
        .header("host", "greenchip.local")
        .header("origin", "http://greenchip.local")
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(same_site.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/auth/me")
            .cookie(&session)
            .send()
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
