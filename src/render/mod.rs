//! Printable labels (layouts read from `labels/*.toml`, QR content, sheets rendered as PDF) and
//! recovery certificates as PDF.
//!
//! Pure library code: no database, no HTTP. Items, lots, ingots, badges and station cards
//! all print through [`render_pdf`]; recovery certificates through [`certificate::render`].

pub mod certificate;
pub mod charts;
pub mod labels;
pub mod metrics;
pub mod page_seal;
pub mod qr;
pub mod sankey;
pub mod subset;
pub mod template;

pub use labels::{
    AreaMm, Label, LabelOptions, MAX_DETAIL_LINES, MAX_OFFSET_MM, PageLayout, PlacedLabel,
    PlacedQr, PlacedText, RenderError, layout, render_pdf,
};
pub use metrics::Face;
pub use qr::{QUIET_ZONE_MODULES, QrMatrix, qr_content};
pub use template::{Field, Grid, LabelShape, Media, Template, TemplateError, Templates, load_dir};

#[cfg(test)]
pub(crate) mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::domain::codes::{Code, CodeKind};

    /// The same valid item codes on every run.
    pub fn sample_codes(count: usize) -> Vec<Code> {
        let mut rng = StdRng::seed_from_u64(7160);
        (0..count)
            .map(|_| Code::generate(CodeKind::Item, &mut rng))
            .collect()
    }
}
