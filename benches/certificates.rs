//! Certificate rendering benchmark: a recovery certificate with 5,000 data-bearing devices in
//! its annex (about 90 A4 pages), and short ones of two pages and one, as PDF.
//!
//! ```sh
//! cargo bench --bench certificates                          # 10 runs, median time and size
//! cargo bench --bench certificates -- --quick               # 3 runs
//! GREENCHIP_BENCH_PDF=/tmp/certificate.pdf cargo bench --bench certificates   # keep the PDF
//! ```
//! Target on a 2-core machine: snapshot, seal and PDF of 5,000 devices under 300 ms.

use std::time::{Duration, Instant};

use greenchip::domain::certificate::{
    AnnexLine, CertificateScope, CountMass, FORMAT, FamilyLine, Fate, HazardousLine, Issuer, Party,
    PrintedPages, ReceivedLine, ScopeCollection, Signatory, Snapshot, declaration, seal, verify,
};
use greenchip::render::certificate::{CertificatePdf, extract, render};

const DEVICES: usize = 5_000;
const SECRET: [u8; 32] = [7; 32];
const VERIFY_URL: &str = "https://greenchip.example/verify/CE-0000000AB";

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let runs = if quick { 3 } else { 10 };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| benchmark | runs | median ms | min ms | max ms | size KB | target |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");

    let mut kept = Vec::new();
    // A small school collection without data-bearing devices: one kind, two families.
    let mut small = snapshot(0);
    small.received.truncate(1);
    small.fate.recycled.truncate(2);
    for (snapshot, target) in [
        (snapshot(DEVICES), "< 300 ms with the seal"),
        (snapshot(3), ""),
        (small, ""),
    ] {
        let devices = snapshot.annex.len();
        let mut render_samples = Vec::with_capacity(runs);
        let mut sealed_samples = Vec::with_capacity(runs);
        let mut pdf = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let canonical = snapshot.canonical().expect("the snapshot is canonical");
            let sealed = seal(&canonical, &SECRET);
            let rendering = Instant::now();
            pdf = render(&CertificatePdf {
                snapshot: &snapshot,
                canonical: &canonical,
                seal: &sealed,
                secret: &SECRET,
                verify_url: VERIFY_URL,
                status_note: None,
            })
            .expect("the certificate renders");
            render_samples.push(rendering.elapsed());
            sealed_samples.push(started.elapsed());
        }
        let size_kb = pdf.len() as f64 / 1024.0;
        // What `certificate verify` does with the file: read it back, check both seals.
        let mut verify_samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let embedded = extract(&pdf).expect("the PDF carries its proof");
            verify(&embedded.canonical, &embedded.seal).expect("the snapshot is genuine");
            assert_eq!(
                embedded.printed_pages(snapshot.format),
                Ok(PrintedPages::Bound)
            );
            verify_samples.push(started.elapsed());
        }
        for (what, samples, target) in [
            ("render", &mut render_samples, ""),
            ("snapshot + seal + render", &mut sealed_samples, target),
            ("verify: extract + both seals", &mut verify_samples, ""),
        ] {
            samples.sort();
            println!(
                "| {what}, {devices} devices ({} pages) | {runs} | {:.1} | {:.1} | {:.1} | {size_kb:.0} | {target} |",
                page_count(&pdf),
                ms(samples[samples.len() / 2]),
                ms(samples[0]),
                ms(samples[samples.len() - 1]),
            );
        }
        if kept.is_empty() {
            kept = pdf;
        }
    }
    if let Ok(path) = std::env::var("GREENCHIP_BENCH_PDF") {
        std::fs::write(&path, &kept).expect("write the PDF");
        println!(
            "PDF of {DEVICES} devices written to {path} ({} bytes)",
            kept.len()
        );
    }
}

fn page_count(pdf: &[u8]) -> usize {
    lopdf::Document::load_mem(pdf)
        .expect("the PDF loads")
        .get_pages()
        .len()
}

/// A French certificate for one school's collection, `devices` of them data-bearing.
fn snapshot(devices: usize) -> Snapshot {
    let issuer = "Atelier Électronique Solidaire";
    let partner = "Lycée Félix Éboué";
    let kinds = [
        "Ordinateur portable",
        "Unité centrale",
        "Disque dur externe",
    ];
    Snapshot {
        format: FORMAT,
        code: "CE-0000000AB".into(),
        number: "2026-0042".into(),
        language: "fr".into(),
        issued_at: "2026-11-29T10:00:00Z".into(),
        issuer: Issuer {
            name: issuer.into(),
            address: "12 rue de l'École, 97300 Cayenne".into(),
            permit_number: "ICPE 973-2026-17".into(),
        },
        partner: Party {
            name: partner.into(),
            address: "Avenue Léopold Héder, Cayenne".into(),
        },
        scope: CertificateScope {
            kind: "collection".into(),
            collections: vec![ScopeCollection {
                code: "CO-00000001X".into(),
                received_on: "2026-03-02".into(),
                reference: Some("BL-118".into()),
            }],
            from: "2026-03-02".into(),
            to: "2026-03-02".into(),
        },
        received: kinds
            .iter()
            .map(|kind| ReceivedLine {
                equipment_kind: (*kind).into(),
                weee_category: 6,
                count: devices.div_ceil(3) as i64,
                mass_g: 2_500 * devices.div_ceil(3) as i64,
            })
            .collect(),
        fate: Fate {
            received: CountMass {
                count: devices as i64,
                mass_g: 2_500 * devices as i64,
            },
            reused: CountMass {
                count: devices as i64 / 4,
                mass_g: 625 * devices as i64,
            },
            dismantled: CountMass {
                count: devices as i64 - devices as i64 / 4,
                mass_g: 1_875 * devices as i64,
            },
            shipped_whole: CountMass {
                count: 0,
                mass_g: 0,
            },
            recycled: ["ferrous", "copper", "pcb"]
                .into_iter()
                .map(|family| FamilyLine {
                    family: family.into(),
                    mass_g: 500 * devices as i64,
                })
                .collect(),
            hazardous: vec![HazardousLine {
                material: "BATT-LI".into(),
                material_name: "Piles lithium".into(),
                mass_g: 120 * devices as i64,
                processor: "Récupération Guyane".into(),
                permit_number: "973-44".into(),
                documents: vec!["SH-0000001Z / BSD 2026-118".into()],
            }],
            copper_ingot_g: 40 * devices as i64,
            lost_g: 31 * devices as i64,
        },
        annex: (0..devices)
            .map(|index| AnnexLine {
                item: format!("IT-{index:08}X"),
                equipment_kind: kinds[index % 3].into(),
                serial: format!("SN{index:06}-{:04}", index * 7919 % 10_000),
                method: ["clear", "purge", "destroy"][index % 3].into(),
                tool: "nwipe 0.34".into(),
                verification: "relecture d'échantillons".into(),
                date: format!("2026-03-{:02}", 1 + index % 28),
                operator: ["Aïcha N'Diaye", "Jean-Émile Bastien", "Loïc Tanon"][index % 3].into(),
            })
            .collect(),
        declaration: declaration("fr", issuer, partner),
        signatory: Signatory {
            name: "Hélène Dupré".into(),
            role: "Responsable d'atelier".into(),
        },
        supersedes: None,
    }
}
