//! Label print runs through the API and the pages, checked with real PDF and QR tools:
//! `qpdf --check`, `pdftotext`, and `pdftoppm` + `zbarimg` on every label, cropped.

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use greenchip::domain::roles::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Whether the PDF tools are here. On CI they must be (`.ci/run` installs them); elsewhere a
/// test that needs them says it skipped that part.
pub fn have_tools() -> bool {
    let present = ["qpdf", "pdftotext", "pdftoppm", "zbarimg"]
        .iter()
        .all(|tool| Command::new(tool).arg("--version").output().is_ok());
    assert!(
        present || std::env::var_os("CI").is_none(),
        "CI needs qpdf, poppler-utils and zbar-tools"
    );
    if !present {
        eprintln!(
            "skipping the external PDF checks: qpdf, pdftotext, pdftoppm or zbarimg is missing"
        );
    }
    present
}

async fn staff_with_items(count: usize) -> (TestApp, String, String, Vec<String>) {
    // Without public_url a label's QR code is the bare code, which the checks below read.
    let app = TestApp::with_config(|config| config.public_url = None).await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let collection = app.open_collection(&cookie, "École Al Jisr").await;
    let items: Vec<Value> = (0..count)
        .map(|n| json!({ "kind": if n % 3 == 0 { "laptop" } else { "desktop_pc" }, "mass_g": 2_000 + 97 * n as i64 }))
        .collect();
    let received = app
        .post(&format!("/api/v1/collections/{collection}/items/bulk"))
        .cookie(&cookie)
        .json(&json!({ "items": items }))
        .send()
        .await;
    assert_eq!(received.status, StatusCode::CREATED, "{}", received.text());
    let codes = received
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    (app, cookie, collection, codes)
}

fn page_count(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type /Page")
        .filter(|(at, _)| !text[at + 11..].starts_with('s'))
        .count()
        + text
            .match_indices("/Type/Page")
            .filter(|(at, _)| !text[at + 10..].starts_with('s'))
            .count()
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success() || program == "zbarimg",
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Decodes the QR code inside one label area (mm) of a page, rendered at 300 dpi and cropped.
fn decode_label(
    pdf: &Path,
    page: usize,
    left_mm: f32,
    top_mm: f32,
    width_mm: f32,
    height_mm: f32,
) -> String {
    let px = |mm: f32| ((mm / 25.4) * 300.0).round() as i64;
    let root = pdf.with_file_name(format!("crop-{page}-{}-{}", px(left_mm), px(top_mm)));
    let page_text = page.to_string();
    let (x, y, w, h) = (
        px(left_mm).to_string(),
        px(top_mm).to_string(),
        px(width_mm).to_string(),
        px(height_mm).to_string(),
    );
    run(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-f",
            &page_text,
            "-l",
            &page_text,
            "-x",
            &x,
            "-y",
            &y,
            "-W",
            &w,
            "-H",
            &h,
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
    );
    let image = format!("{}.png", root.display());
    run("zbarimg", &["-q", "--raw", &image]).trim().to_string()
}

#[tokio::test]
async fn the_layouts_are_listed_with_their_geometry() {
    let (app, cookie, _, _) = staff_with_items(1).await;
    let listed = app
        .get("/api/v1/labels/templates")
        .cookie(&cookie)
        .send()
        .await
        .json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for name in ["L7160", "L7163", "L7651", "roll62"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let l7160 = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "L7160")
        .unwrap();
    assert_eq!(l7160["labels_per_page"], 21);
    assert_eq!(
        (l7160["columns"].as_u64(), l7160["rows"].as_u64()),
        (Some(3), Some(7))
    );
    assert_eq!(l7160["page_width_mm"], 210.0);
    assert_eq!(l7160["label_width_mm"], 63.5);
}

#[tokio::test]
async fn thirty_items_on_l7160_print_on_two_sheets_and_every_qr_scans_back() {
    let (app, cookie, collection, codes) = staff_with_items(30).await;
    let printed = app
        .post("/api/v1/labels")
        .cookie(&cookie)
        .json(&json!({ "template": "L7160", "collection": collection }))
        .send()
        .await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.text());
    assert_eq!(printed.content_type(), "application/pdf");
    assert!(printed.body.starts_with(b"%PDF"));
    assert_eq!(page_count(&printed.body), 2);
    if !have_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("sheet.pdf");
    std::fs::write(&pdf, &printed.body).unwrap();
    run("qpdf", &["--check", pdf.to_str().unwrap()]);
    let text = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    for code in &codes {
        assert!(text.contains(code.as_str()), "{code} is extractable text");
    }
    assert!(
        text.contains("Unité centrale"),
        "French kind names with their accents"
    );
    // L7160: 3 × 7 labels of 63.5 × 38.1 mm, from 7.25 mm left and 15.15 mm top, pitch 66.04 × 38.1.
    for (index, code) in codes.iter().enumerate() {
        let (page, slot) = (index / 21 + 1, index % 21);
        let (column, row) = ((slot % 3) as f32, (slot / 3) as f32);
        let decoded = decode_label(
            &pdf,
            page,
            7.25 + column * 66.04,
            15.15 + row * 38.1,
            63.5,
            38.1,
        );
        assert_eq!(&decoded, code, "label {index} on page {page}");
    }
}

#[tokio::test]
async fn roll_labels_print_one_per_page_and_scan_back() {
    let (app, cookie, _, codes) = staff_with_items(3).await;
    let printed = app
        .post("/api/v1/labels")
        .cookie(&cookie)
        .json(&json!({ "template": "roll62", "codes": codes }))
        .send()
        .await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.text());
    assert_eq!(page_count(&printed.body), 3);
    if !have_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("roll.pdf");
    std::fs::write(&pdf, &printed.body).unwrap();
    run("qpdf", &["--check", pdf.to_str().unwrap()]);
    let size = run("pdfinfo", &[pdf.to_str().unwrap()]);
    assert!(
        size.contains("175.748") || size.contains("175.75"),
        "62 mm wide: {size}"
    );
    for (index, code) in codes.iter().enumerate() {
        let decoded = decode_label(&pdf, index + 1, 0.0, 0.0, 62.0, 29.0);
        assert_eq!(&decoded, code);
    }
}

#[tokio::test]
async fn a_public_url_goes_into_the_qr_code_in_upper_case() {
    let app =
        TestApp::with_config(|config| config.public_url = Some("https://gc.example.org/".into()))
            .await;
    let cookie = app.logged_in("samira", Role::Supervisor).await;
    let badge = app
        .user("youssef", Role::Apprentice)
        .await
        .badge_code
        .unwrap();
    let printed = app
        .post("/api/v1/labels")
        .cookie(&cookie)
        .json(&json!({ "template": "roll62", "codes": [badge] }))
        .send()
        .await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.text());
    if !have_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("badge.pdf");
    std::fs::write(&pdf, &printed.body).unwrap();
    assert_eq!(
        decode_label(&pdf, 1, 0.0, 0.0, 62.0, 29.0),
        format!("HTTPS://GC.EXAMPLE.ORG/S/{badge}")
    );
    assert!(run("pdftotext", &[pdf.to_str().unwrap(), "-"]).contains("youssef"));
}

#[tokio::test]
async fn bad_print_runs_are_refused_naming_the_field() {
    let (app, cookie, collection, codes) = staff_with_items(2).await;
    let cases = [
        (json!({ "template": "L9999", "codes": codes }), "template"),
        (
            json!({ "template": "L7160", "codes": [codes[0], "IT-7K3M9QX4U"] }),
            "codes/1",
        ),
        (
            json!({ "template": "L7160", "codes": [codes[0], "LT-000000000"] }),
            "codes/1",
        ),
        (json!({ "template": "L7160" }), "codes"),
        (
            json!({ "template": "L7160", "codes": [], "collection": collection }),
            "codes",
        ),
        (
            json!({ "template": "L7160", "codes": codes, "skip": 21 }),
            "skip",
        ),
        (
            json!({ "template": "L7160", "codes": codes, "offset_x_mm": 50.0 }),
            "offset_x_mm",
        ),
        (
            json!({ "template": "L7160", "codes": vec![codes[0].clone(); 5_001] }),
            "codes",
        ),
    ];
    for (body, field) in cases {
        let refused = app
            .post("/api/v1/labels")
            .cookie(&cookie)
            .json(&body)
            .send()
            .await;
        let problem = refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let unknown_template = app
        .post("/api/v1/labels")
        .cookie(&cookie)
        .json(&json!({ "template": "L9999", "codes": codes }))
        .send()
        .await
        .json();
    assert!(
        unknown_template["detail"]
            .as_str()
            .unwrap()
            .contains("L7160"),
        "the known layouts are named"
    );
}

#[tokio::test]
async fn label_links_on_pages_answer_pdfs_to_staff_only() {
    let (app, cookie, collection, codes) = staff_with_items(4).await;
    let one = app
        .get(&format!("/labels/{}.pdf?template=roll62", codes[0]))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.content_type(), "application/pdf");
    let sheet = app
        .get(&format!(
            "/collections/{collection}/labels.pdf?template=L7651&skip=3"
        ))
        .cookie(&cookie)
        .send()
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert_eq!(page_count(&sheet.body), 1);
    let apprentice = app.logged_in("youssef", Role::Apprentice).await;
    let refused = app
        .get(&format!("/labels/{}.pdf", codes[0]))
        .cookie(&apprentice)
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
