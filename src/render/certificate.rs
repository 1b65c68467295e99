//! Placeholder until the certificate renderer lands from its branch.
use crate::domain::certificate::{Seal, Snapshot};

pub struct CertificatePdf<'a> {
    pub snapshot: &'a Snapshot,
    pub canonical: &'a str,
    pub seal: &'a Seal,
    pub verify_url: &'a str,
    pub status_note: Option<&'a str>,
}

pub struct Embedded {
    pub canonical: String,
    pub seal: Seal,
}

pub fn render(pdf: &CertificatePdf) -> Result<Vec<u8>, String> {
    Ok(format!("{}\n{}", pdf.canonical, pdf.seal.signature).into_bytes())
}

pub fn extract(_pdf: &[u8]) -> Result<Embedded, String> {
    Err("not yet".into())
}
