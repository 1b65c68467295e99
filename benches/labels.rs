//! Label rendering benchmark: 1,000 item labels on Avery L7160 sheets (48 pages) as one PDF.
//!
//! ```sh
//! cargo bench --bench labels                         # 10 runs, median time and PDF size
//! cargo bench --bench labels -- --quick              # 3 runs
//! GREENCHIP_BENCH_PDF=/tmp/labels.pdf cargo bench --bench labels   # also keep the PDF
//! ```
//! Targets on a 2-core machine: under 500 ms and under 2 MB.

use std::time::{Duration, Instant};

use greenchip::domain::codes::{Code, CodeKind};
use greenchip::render::{Label, LabelOptions, Templates, render_pdf};
use rand::SeedableRng;
use rand::rngs::StdRng;

const LABELS: usize = 1_000;

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let runs = if quick { 3 } else { 10 };
    let templates = Templates::shipped().expect("the shipped templates load");
    let template = templates.get("L7160").expect("L7160 is shipped");
    let mut rng = StdRng::seed_from_u64(1_000);
    let labels: Vec<Label> = (0..LABELS)
        .map(|i| Label {
            code: Code::generate(CodeKind::Item, &mut rng),
            lines: vec![
                [
                    "Unité centrale · acier",
                    "Écran plat · verre",
                    "Câbles · cuivre",
                ][i % 3]
                    .into(),
                format!("{} g · 2026-03-{:02}", 350 + 17 * i, 1 + i % 28),
            ],
        })
        .collect();
    let options = LabelOptions {
        public_url: Some("https://greenchip.example.org".into()),
        ..LabelOptions::default()
    };

    let mut samples = Vec::with_capacity(runs);
    let mut pdf = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        pdf = render_pdf(template, &labels, &options).expect("the labels render");
        samples.push(started.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median_ms = ms(samples[samples.len() / 2]);
    let size_kb = pdf.len() as f64 / 1024.0;
    println!("| benchmark | runs | median ms | min ms | max ms | size KB | target |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| render 1,000 labels on L7160 ({} pages) | {runs} | {median_ms:.1} | {:.1} | {:.1} | {size_kb:.0} | < 500 ms, < 2,048 KB |",
        LABELS.div_ceil(template.labels_per_page()),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
    );
    if let Ok(path) = std::env::var("GREENCHIP_BENCH_PDF") {
        std::fs::write(&path, &pdf).expect("write the PDF");
        println!("PDF written to {path} ({} bytes)", pdf.len());
    }
}
