//! Recovery certificates as PDF: what became of a partner's equipment on A4 pages, with the
//! signed snapshot and its seal inside the file so that the paper's claims can be checked
//! offline.
//!
//! As with label sheets, `layout` places everything in millimetres from each page's
//! top-left corner and the PDF is a plain drawing of that layout: tests check the placement
//! on the layout, and read the PDF back with the tools a partner would use.
//!
//! Decisions worth knowing:
//! - **Masses** are printed in kilograms to the gram (three decimals), as the ledger holds
//!   them: every printed total is the sum of its printed lines, and a hazardous fraction of
//!   120 g reads `0,120`. French writes `1 234,567` with a narrow no-break space (U+202F),
//!   English `1,234.567`.
//! - **Fonts**: DejaVu Sans and DejaVu Sans Bold, cut to the glyphs the certificate draws by
//!   [`subset`] (printpdf subsets only with its `text_layout` feature, which the crate leaves
//!   off): whole, the two would add 740 KB to every certificate.
//! - **Embedded proof**: the canonical snapshot is attached to the PDF as the file
//!   `certificate-<number>.json` (a compressed embedded-file stream: a 5,000-device annex
//!   is over a megabyte of JSON, too much for an uncompressed Info entry), and the document
//!   Info dictionary carries `GreenchipSnapshot` (that file's name), `GreenchipHash`,
//!   `GreenchipSignature` and `GreenchipPublicKey`. [`extract`] reads them back.
//! - **Page seal** (format 2): what a reader sees of every page (`super::page_seal`) is
//!   signed with the snapshot's key beside it, in `GreenchipPages` (the signed text) and
//!   `GreenchipPagesSignature`, so an edited figure, an added annotation or a swapped glyph
//!   no longer verifies. [`extract`] recomputes the pages' appearance from the file at hand.
//! - **Deterministic**: no clock and no random identifier; the dates come from the
//!   snapshot's `issued_at` and the trailer ID from its hash, so the same input always gives
//!   the same bytes.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::OnceLock;

use printpdf::{
    Color, DictItem, FontId, Greyscale, Mm, Op, ParsedFont, PdfDocument, PdfFont, PdfFontHandle,
    PdfPage, PdfSaveOptions, Pt, TextItem, TextMatrix,
};
use sha2::{Digest, Sha256};

use super::labels::{self, AreaMm, PT_PER_MM, PlacedQr};
use super::metrics;
use super::page_seal;
use super::qr::{QUIET_ZONE_MODULES, QrMatrix};
use super::subset;
use crate::domain::certificate::{
    Appearance, PageSeal, PagesTampered, PrintedPages, Seal, SealError, Snapshot, check_pages,
};
use crate::i18n::Lang;

const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_MM: f32 = 15.0;
const BODY_WIDTH_MM: f32 = PAGE_WIDTH_MM - 2.0 * MARGIN_MM;
const BODY_RIGHT_MM: f32 = PAGE_WIDTH_MM - MARGIN_MM;
/// Where the first page's content starts.
const FIRST_TOP_MM: f32 = 15.0;
/// The running header of the following pages, and where their content starts under it.
const RUNNING_HEADER_BASELINE_MM: f32 = 12.0;
const RUNNING_HEADER_RULE_MM: f32 = 14.0;
const CONTINUED_TOP_MM: f32 = 18.0;
/// Content stops here; the footer is under it.
const BODY_BOTTOM_MM: f32 = 280.0;
const FOOTER_RULE_MM: f32 = 283.0;
const FOOTER_BASELINE_MM: f32 = 287.0;
/// The verify QR code's side, quiet zone excluded: 30 mm and more scans from paper at arm's
/// length with any phone.
const QR_SIDE_MM: f32 = 32.0;
/// Between the header's text and the QR code's quiet zone.
const QR_GAP_MM: f32 = 4.0;
/// Hex digits of the hash in each footer: enough to tell two certificates apart.
const FOOTER_HASH_DIGITS: usize = 16;

/// Height of a line of text, as a multiple of its font size.
const LEADING: f32 = 1.25;
/// From the top of a line to its baseline, as a multiple of the font size: room for capital
/// accents above, and DejaVu's descenders (0.24 em) fit in what remains of the line.
const BASELINE_DROP: f32 = 0.98;
const CELL_PADDING_X_MM: f32 = 1.0;
/// A table cell or a block line wraps onto at most this many lines, the last one cut with
/// "…": a row is never higher than a page.
const MAX_CELL_LINES: usize = 6;
const CELL_PADDING_Y_MM: f32 = 0.7;
const SECTION_GAP_MM: f32 = 3.5;
const SHADE_GREY: f32 = 0.92;
const RULE_GREY: f32 = 0.55;
const RULE_THICKNESS_PT: f32 = 0.5;
/// An embedded snapshot larger than this is refused rather than inflated (a hostile PDF
/// could hold a deflate bomb); a 5,000-device snapshot is about 1.3 MB.
const MAX_SNAPSHOT_BYTES: usize = 64 * 1024 * 1024;
/// Advance widths are kept in a table for characters below this code point: every Latin
/// letter and the punctuation a certificate prints, so measuring needs no map look-up.
const DENSE_CHARS: usize = 0x2200;
/// A name tree nested deeper than this is not one greenchip wrote.
const MAX_NAME_TREE_DEPTH: usize = 8;

/// The Info dictionary's keys for the attached snapshot's file name and the seal.
const INFO_SNAPSHOT: &str = "GreenchipSnapshot";
const INFO_HASH: &str = "GreenchipHash";
const INFO_SIGNATURE: &str = "GreenchipSignature";
const INFO_PUBLIC_KEY: &str = "GreenchipPublicKey";
const INFO_PAGES: &str = "GreenchipPages";
const INFO_PAGES_SIGNATURE: &str = "GreenchipPagesSignature";

/// What a certificate PDF shows and carries.
#[derive(Debug, Clone, Copy)]
pub struct CertificatePdf<'a> {
    /// The facts.
    pub snapshot: &'a Snapshot,
    /// `snapshot.canonical()`: the exact text that was signed, embedded as it is.
    pub canonical: &'a str,
    pub seal: &'a Seal,
    /// The secret key that made `seal`: it also signs the printed pages.
    pub secret: &'a [u8; 32],
    /// What the QR code holds, e.g. `https://greenchip.example/verify/CE-0000000AB`.
    pub verify_url: &'a str,
    /// A later status to print prominently on the first page (not used at issue).
    pub status_note: Option<&'a str>,
}

/// What [`extract`] reads back from a certificate PDF. It does not check the seals: that is
/// [`crate::domain::certificate::verify`]'s and [`crate::domain::certificate::check_pages`]'s
/// job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    pub canonical: String,
    pub seal: Seal,
    /// The page seal's signed text and signature (format 2 on), when the file carries them.
    pub page_seal: Option<(String, String)>,
    /// What the file at hand shows, to compare with the page seal.
    pub appearance: Appearance,
}

impl Embedded {
    /// Whether the file's printed pages are the ones its page seal binds, for a snapshot of
    /// `format` whose own seal was verified already.
    pub fn printed_pages(&self, format: u32) -> Result<PrintedPages, PagesTampered> {
        check_pages(
            format,
            &self.seal,
            self.page_seal
                .as_ref()
                .map(|(text, signature)| (text.as_str(), signature.as_str())),
            &self.appearance,
        )
    }
}

/// Why a certificate could not be rendered. Nothing is rendered then.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the seal's hash {sealed} is not the SHA-256 of the canonical text ({computed})")]
    HashMismatch { sealed: String, computed: String },
    #[error("cannot encode “{url}” as a QR code: {source}")]
    Qr {
        url: String,
        #[source]
        source: qrcode::types::QrError,
    },
    /// The embedded fonts are part of the binary: an internal error, not the caller's.
    #[error("cannot read the embedded font {0}")]
    Font(&'static str),
    /// Writing to memory does not fail in practice: an internal error, not the caller's.
    #[error("cannot write the PDF: {0}")]
    Write(#[from] std::io::Error),
    /// printpdf's document lacks what it always has: an internal error.
    #[error("cannot complete the PDF: {0}")]
    Pdf(#[from] lopdf::Error),
    #[error("cannot seal the printed pages: {0}")]
    PageSeal(#[from] SealError),
}

/// Why a PDF's embedded certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not a readable PDF: {0}")]
    Pdf(#[from] lopdf::Error),
    #[error("the PDF carries no greenchip certificate: {0} is missing")]
    Missing(&'static str),
    #[error("the embedded snapshot is not UTF-8 text")]
    NotText,
}

/// Renders a certificate as an A4 PDF; see the module documentation for what it embeds.
/// Refuses a seal whose hash is not the canonical text's.
pub fn render(pdf: &CertificatePdf) -> Result<Vec<u8>, RenderError> {
    let digest = Sha256::digest(pdf.canonical.as_bytes());
    let computed = hex::encode(digest);
    if computed != pdf.seal.hash {
        return Err(RenderError::HashMismatch {
            sealed: pdf.seal.hash.clone(),
            computed,
        });
    }
    let fonts = fonts()?;
    let pages = layout(pdf, fonts)?;
    let pdf_pages = labels::in_parallel(&pages, |page| {
        PdfPage::new(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), page_ops(page, fonts))
    });

    let lang = language(pdf.snapshot);
    let mut document = PdfDocument::new("");
    for (font, bold) in [(&fonts.regular, false), (&fonts.bold, true)] {
        let used = font.glyphs_used(
            pages
                .iter()
                .flat_map(|page| &page.lines)
                .filter(|line| line.style.bold == bold)
                .map(|line| line.text.as_str()),
        );
        document
            .resources
            .fonts
            .map
            .insert(font.id.clone(), PdfFont::new(font.cut_to(&used)?));
    }
    document.with_pages(pdf_pages);
    let mut warnings = Vec::new();
    // Compressed below rather than by printpdf (`optimize`), as labels are: faster.
    let uncompressed = PdfSaveOptions {
        optimize: false,
        // Writes the raw operators for shades, rules and the QR code.
        secure: false,
        ..PdfSaveOptions::default()
    };
    let mut document = document.to_lopdf_document(&uncompressed, &mut warnings);
    for warning in warnings {
        tracing::debug!(page = warning.page, message = %warning.msg, "PDF writer warning");
    }
    let page_seal = PageSeal {
        snapshot_hash: pdf.seal.hash.clone(),
        appearance: page_seal::appearance(&document),
    }
    .signed(pdf.secret)?;
    embed_proof(&mut document, pdf, &page_seal, lang, &digest[..16])?;
    labels::compress_streams(&mut document)?;
    let mut bytes = Vec::new();
    document.save_to(&mut bytes)?;
    Ok(bytes)
}

/// Reads back the canonical snapshot and the seal that [`render`] embedded.
pub fn extract(pdf_bytes: &[u8]) -> Result<Embedded, ExtractError> {
    let document = lopdf::Document::load_mem(pdf_bytes)?;
    let info = document
        .trailer
        .get(b"Info")
        .and_then(|info| document.dereference(info))
        .and_then(|(_, info)| info.as_dict())
        .map_err(|_| ExtractError::Missing("the Info dictionary"))?;
    let text = |key: &'static str| {
        info.get(key.as_bytes())
            .and_then(lopdf::decode_text_string)
            .map_err(|_| ExtractError::Missing(key))
    };
    let seal = Seal {
        hash: text(INFO_HASH)?,
        signature: text(INFO_SIGNATURE)?,
        public_key: text(INFO_PUBLIC_KEY)?,
    };
    let page_seal = text(INFO_PAGES).ok().zip(text(INFO_PAGES_SIGNATURE).ok());
    let file_name = text(INFO_SNAPSHOT)?;
    let stream =
        attachment(&document, &file_name).ok_or(ExtractError::Missing("the attached snapshot"))?;
    let bytes = if stream.dict.has(b"Filter") {
        stream.decompressed_content_with_limit(MAX_SNAPSHOT_BYTES)?
    } else {
        stream.content.clone()
    };
    let canonical = String::from_utf8(bytes).map_err(|_| ExtractError::NotText)?;
    Ok(Embedded {
        canonical,
        seal,
        page_seal,
        appearance: page_seal::appearance(&document),
    })
}

// ---------------------------------------------------------------------------------------
// Fonts

/// One embedded face: parsed once per process, measured without map look-ups.
struct Font {
    /// Its resource name in the PDF: fixed, where printpdf would draw a random one.
    id: FontId,
    name: &'static str,
    parsed: ParsedFont,
    /// Glyph and advance width (in thousandths of an em, truncated as the PDF's `/W` array
    /// has it) for code points below [`DENSE_CHARS`]; `None` where the font lacks the
    /// character.
    dense: Vec<Option<Glyph>>,
}

#[derive(Debug, Clone, Copy)]
struct Glyph {
    id: u16,
    width: u16,
}

struct Fonts {
    regular: Font,
    bold: Font,
}

static FONTS: OnceLock<Result<Fonts, &'static str>> = OnceLock::new();

fn fonts() -> Result<&'static Fonts, RenderError> {
    FONTS
        .get_or_init(|| {
            Ok(Fonts {
                regular: Font::load("DejaVuSans", REGULAR_TTF)?,
                bold: Font::load("DejaVuSans-Bold", BOLD_TTF)?,
            })
        })
        .as_ref()
        .map_err(|name| RenderError::Font(name))
}

impl Font {
    fn load(name: &'static str, program: &[u8]) -> Result<Font, &'static str> {
        let parsed = ParsedFont::from_bytes(program, 0, &mut Vec::new()).ok_or(name)?;
        let mut font = Font {
            id: FontId(name.replace('-', "")),
            name,
            parsed,
            dense: Vec::new(),
        };
        font.dense = (0..DENSE_CHARS as u32)
            .map(|code| char::from_u32(code).and_then(|c| font.lookup(c)))
            .collect();
        Ok(font)
    }

    fn lookup(&self, c: char) -> Option<Glyph> {
        let id = self.parsed.lookup_glyph_index(c as u32)?;
        let units = f32::from(self.parsed.get_glyph_width(id)?);
        let units_per_em = f32::from(self.parsed.pdf_font_metrics.units_per_em);
        Some(Glyph {
            id,
            width: (units * 1000.0 / units_per_em) as u16,
        })
    }

    fn glyph(&self, c: char) -> Option<Glyph> {
        match self.dense.get(c as usize) {
            Some(glyph) => *glyph,
            None => self.lookup(c),
        }
    }

    fn width(&self, c: char) -> Option<u16> {
        self.glyph(c).map(|glyph| glyph.width)
    }

    /// The glyphs that draw `texts`.
    fn glyphs_used<'t>(&self, texts: impl Iterator<Item = &'t str>) -> BTreeSet<u16> {
        let mut used = vec![false; usize::from(u16::MAX) + 1];
        for c in texts.flat_map(str::chars) {
            if let Some(glyph) = self.glyph(c) {
                used[usize::from(glyph.id)] = true;
            }
        }
        (0..=u16::MAX).filter(|&id| used[usize::from(id)]).collect()
    }

    /// This face with only the `used` glyphs' outlines, named with a subset tag (six
    /// capitals, from the glyphs kept) as the PDF specification asks of a subset.
    fn cut_to(&self, used: &BTreeSet<u16>) -> Result<ParsedFont, RenderError> {
        let program = subset::keep_glyphs(&self.parsed.original_bytes, used)
            .ok_or(RenderError::Font(self.name))?;
        let glyph_ids: Vec<u8> = used.iter().flat_map(|id| id.to_be_bytes()).collect();
        let tag: String = Sha256::digest(&glyph_ids)
            .iter()
            .take(6)
            .map(|byte| char::from(b'A' + byte % 26))
            .collect();
        let mut cut = self.parsed.clone();
        cut.original_bytes = program;
        cut.font_name = Some(format!("{tag}+{}", self.name));
        Ok(cut)
    }

    fn char_width_pt(&self, c: char, size_pt: f32) -> f32 {
        f32::from(self.width(c).unwrap_or(0)) * size_pt / 1000.0
    }

    /// How wide `text` prints at `size_pt`. Measure [`Font::printable`] text.
    fn width_pt(&self, text: &str, size_pt: f32) -> f32 {
        let thousandths: u32 = text
            .chars()
            .map(|c| u32::from(self.width(c).unwrap_or(0)))
            .sum();
        thousandths as f32 * size_pt / 1000.0
    }

    /// What the font can show of `text`: tabs and line breaks become spaces, a character the
    /// font lacks becomes `?`, so that measuring agrees with printing. No-break spaces stay:
    /// they keep `1 234,5` on one line.
    fn printable<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let shows = |c: char| !c.is_control() && self.width(c).is_some();
        if text.chars().all(shows) {
            return Cow::Borrowed(text);
        }
        Cow::Owned(
            text.chars()
                .map(|c| match c {
                    c if c.is_whitespace() && !shows(c) => ' ',
                    c if shows(c) => c,
                    _ => '?',
                })
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Words

/// Every fixed text of a certificate, in one language: a missing translation is a compile
/// error, not an English word in a French certificate.
struct Labels {
    title: &'static str,
    number: &'static str,
    code: &'static str,
    issued_on: &'static str,
    supersedes: &'static str,
    hash: &'static str,
    public_key: &'static str,
    /// Around the attached file's name: how to check the certificate.
    sealed_note: (&'static str, &'static str),
    issuer: &'static str,
    partner: &'static str,
    permit: &'static str,
    scope: &'static str,
    scope_collection: &'static str,
    scope_partner: &'static str,
    period: &'static str,
    period_from: &'static str,
    period_to: &'static str,
    collection: &'static str,
    received_on: &'static str,
    reference: &'static str,
    received_heading: &'static str,
    equipment_kind: &'static str,
    weee_category: &'static str,
    count: &'static str,
    mass_kg: &'static str,
    total: &'static str,
    fate_heading: &'static str,
    fate_received: &'static str,
    reused: &'static str,
    dismantled: &'static str,
    shipped_whole: &'static str,
    copper_ingot: &'static str,
    lost: &'static str,
    recycled_heading: &'static str,
    family: &'static str,
    hazardous_heading: &'static str,
    material: &'static str,
    processor: &'static str,
    documents: &'static str,
    none: &'static str,
    declaration: &'static str,
    signatory: &'static str,
    annex_heading: &'static str,
    annex_note: &'static str,
    no_annex: &'static str,
    item: &'static str,
    serial: &'static str,
    method: &'static str,
    tool: &'static str,
    verification: &'static str,
    date: &'static str,
    operator: &'static str,
    page: &'static str,
    /// NIST SP 800-88 methods, by their code.
    methods: [(&'static str, &'static str); 3],
    /// Material families, by their code (`shared/data/materials.csv`).
    families: [(&'static str, &'static str); 12],
    /// WEEE categories 1 to 6 (Directive 2012/19/EU, Annex III).
    weee: [&'static str; 6],
    months: [&'static str; 12],
}

const FRENCH: Labels = Labels {
    title: "Certificat de valorisation",
    number: "N°",
    code: "Code",
    issued_on: "Émis le",
    supersedes: "Remplace le certificat n°",
    hash: "Empreinte SHA-256 :",
    public_key: "Clé publique Ed25519 :",
    sealed_note: (
        "Certificat signé électroniquement. Le texte signé (",
        ") et sa signature sont joints à ce PDF ; scannez le code QR pour vérifier ce \
         certificat.",
    ),
    issuer: "Émetteur",
    partner: "Partenaire",
    permit: "N° d’autorisation :",
    scope: "Périmètre",
    scope_collection: "Une collecte",
    scope_partner: "Toutes les collectes du partenaire sur la période",
    period: "Période :",
    period_from: "du",
    period_to: "au",
    collection: "Collecte",
    received_on: "Reçue le",
    reference: "Référence du partenaire",
    received_heading: "Équipements reçus",
    equipment_kind: "Type d’équipement",
    weee_category: "Catégorie DEEE",
    count: "Nombre",
    mass_kg: "Masse (kg)",
    total: "Total",
    fate_heading: "Devenir des équipements",
    fate_received: "Reçus",
    reused: "Réemployés",
    dismantled: "Démontés",
    shipped_whole: "Expédiés entiers à un repreneur agréé",
    copper_ingot: "Lingot de cuivre coulé à l’atelier",
    lost: "Pertes de traitement et écarts de pesée",
    recycled_heading: "Matières valorisées par famille",
    family: "Famille de matière",
    hazardous_heading: "Fractions dangereuses",
    material: "Matière",
    processor: "Repreneur agréé",
    documents: "Documents",
    none: "Aucune.",
    declaration: "Déclaration",
    signatory: "Signataire",
    annex_heading: "Annexe : appareils porteurs de données",
    annex_note: "Données effacées ou détruites selon la norme NIST SP 800-88, puis vérifiées.",
    no_annex: "Aucun appareil porteur de données.",
    item: "Objet",
    serial: "N° de série",
    method: "Méthode",
    tool: "Outil",
    verification: "Vérification",
    date: "Date",
    operator: "Opérateur",
    page: "Page",
    methods: [
        ("clear", "Effacement"),
        ("purge", "Purge"),
        ("destroy", "Destruction"),
    ],
    families: [
        ("aluminium", "Aluminium"),
        ("battery", "Piles et batteries"),
        ("copper", "Cuivre"),
        ("data_media", "Supports de données"),
        ("ferrous", "Métaux ferreux"),
        ("glass", "Verre"),
        ("hazardous_component", "Composants dangereux"),
        ("metal", "Métaux"),
        ("other", "Autres"),
        ("pcb", "Cartes électroniques"),
        ("plastic", "Plastiques"),
        ("residue", "Résidus"),
    ],
    weee: [
        "Équipements d’échange thermique",
        "Écrans et moniteurs",
        "Lampes",
        "Gros équipements",
        "Petits équipements",
        "Petits équipements informatiques et de télécommunications",
    ],
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
};

const ENGLISH: Labels = Labels {
    title: "Recovery certificate",
    number: "No.",
    code: "Code",
    issued_on: "Issued on",
    supersedes: "Replaces certificate no.",
    hash: "SHA-256 fingerprint:",
    public_key: "Ed25519 public key:",
    sealed_note: (
        "Electronically signed. The signed text (",
        ") and its signature are attached to this PDF; scan the QR code to check this \
         certificate.",
    ),
    issuer: "Issuer",
    partner: "Partner",
    permit: "Permit no.:",
    scope: "Scope",
    scope_collection: "One collection",
    scope_partner: "All of the partner’s collections in the period",
    period: "Period:",
    period_from: "from",
    period_to: "to",
    collection: "Collection",
    received_on: "Received on",
    reference: "Partner’s reference",
    received_heading: "Equipment received",
    equipment_kind: "Equipment kind",
    weee_category: "WEEE category",
    count: "Count",
    mass_kg: "Mass (kg)",
    total: "Total",
    fate_heading: "What became of the equipment",
    fate_received: "Received",
    reused: "Reused",
    dismantled: "Dismantled",
    shipped_whole: "Shipped whole to a licensed processor",
    copper_ingot: "Copper ingot cast at the workshop",
    lost: "Process loss and weighing variance",
    recycled_heading: "Recovered materials by family",
    family: "Material family",
    hazardous_heading: "Hazardous fractions",
    material: "Material",
    processor: "Licensed processor",
    documents: "Documents",
    none: "None.",
    declaration: "Declaration",
    signatory: "Signatory",
    annex_heading: "Annex: data-bearing devices",
    annex_note: "Data cleared, purged or destroyed as NIST SP 800-88 describes, then verified.",
    no_annex: "No data-bearing device.",
    item: "Item",
    serial: "Serial number",
    method: "Method",
    tool: "Tool",
    verification: "Verification",
    date: "Date",
    operator: "Operator",
    page: "Page",
    methods: [
        ("clear", "Clear"),
        ("purge", "Purge"),
        ("destroy", "Destroy"),
    ],
    families: [
        ("aluminium", "Aluminium"),
        ("battery", "Batteries"),
        ("copper", "Copper"),
        ("data_media", "Data media"),
        ("ferrous", "Ferrous metals"),
        ("glass", "Glass"),
        ("hazardous_component", "Hazardous components"),
        ("metal", "Metals"),
        ("other", "Other"),
        ("pcb", "Circuit boards"),
        ("plastic", "Plastics"),
        ("residue", "Residue"),
    ],
    weee: [
        "Temperature exchange equipment",
        "Screens and monitors",
        "Lamps",
        "Large equipment",
        "Small equipment",
        "Small IT and telecommunication equipment",
    ],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

/// The certificate's language: French for `fr`, else English, as the declaration's.
fn language(snapshot: &Snapshot) -> Lang {
    match snapshot.language.as_str() {
        "fr" => Lang::Fr,
        _ => Lang::En,
    }
}

fn labels_for(lang: Lang) -> &'static Labels {
    match lang {
        Lang::Fr => &FRENCH,
        _ => &ENGLISH,
    }
}

/// A code's translation from `table`, or the code itself when the table lacks it.
fn translated<'t>(table: &[(&str, &'t str)], code: &'t str) -> &'t str {
    table
        .iter()
        .find(|(known, _)| *known == code)
        .map_or(code, |(_, name)| name)
}

/// A mass in kilograms without its unit, to the gram: `120` → `0,120`, `1234567` →
/// `1 234,567` in French; nothing but zero is `0`.
fn kg(lang: Lang, mass_g: i64) -> String {
    if mass_g == 0 {
        return "0".to_string();
    }
    let sign = if mass_g < 0 { "-" } else { "" };
    let grams = mass_g.unsigned_abs();
    lang.decimal(&format!("{sign}{}.{:03}", grams / 1000, grams % 1000))
}

fn count(lang: Lang, count: i64) -> String {
    lang.decimal(&count.to_string())
}

/// `(year, month, day)` of a text starting `YYYY-MM-DD`.
fn parse_day(text: &str) -> Option<(u32, u32, u32)> {
    let day = text.get(..10)?;
    let bytes = day.as_bytes();
    if bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &day[range];
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

/// A day in a table: `10/03/2026` in French, ISO `2026-03-10` in English (unambiguous
/// where the month-first and day-first habits meet). Text that is no date prints as it is.
fn short_day(lang: Lang, text: &str) -> String {
    match (parse_day(text), lang) {
        (Some((year, month, day)), Lang::Fr) => format!("{day:02}/{month:02}/{year}"),
        (Some((year, month, day)), _) => format!("{year}-{month:02}-{day:02}"),
        (None, _) => text.to_string(),
    }
}

/// A day in a sentence: `1er mars 2026`, `29 November 2026`.
fn long_day(lang: Lang, text: &str) -> String {
    let Some((year, month, day)) = parse_day(text) else {
        return text.to_string();
    };
    let month = labels_for(lang).months[month as usize - 1];
    match lang {
        Lang::Fr if day == 1 => format!("1er {month} {year}"),
        _ => format!("{day} {month} {year}"),
    }
}

/// `D:YYYYMMDDHHmmSSZ` from an RFC 3339 UTC time such as `2026-11-29T10:00:00Z`.
fn pdf_date(issued_at: &str) -> Option<String> {
    parse_day(issued_at)?;
    let digits: String = issued_at
        .get(..19)?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (digits.len() == 14).then(|| format!("D:{digits}Z"))
}

/// The attached snapshot's file name: `certificate-2026-0042.json`.
fn snapshot_file_name(snapshot: &Snapshot) -> String {
    let number: String = snapshot
        .number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("certificate-{number}.json")
}

// ---------------------------------------------------------------------------------------
// Layout

#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    bold: bool,
    size_pt: f32,
}

const TITLE: Style = Style {
    bold: true,
    size_pt: 17.0,
};
const NUMBER: Style = Style {
    bold: true,
    size_pt: 12.0,
};
const NOTE: Style = Style {
    bold: true,
    size_pt: 10.0,
};
const HEADING: Style = Style {
    bold: true,
    size_pt: 10.5,
};
const BODY: Style = Style {
    bold: false,
    size_pt: 9.0,
};
const BODY_BOLD: Style = Style {
    bold: true,
    size_pt: 9.0,
};
const SMALL: Style = Style {
    bold: false,
    size_pt: 7.0,
};
const CELL: Style = Style {
    bold: false,
    size_pt: 7.5,
};
/// The annex: eight columns across the page.
const ANNEX: Style = Style {
    bold: false,
    size_pt: 7.0,
};

impl Style {
    fn bold(self) -> Style {
        Style { bold: true, ..self }
    }

    fn line_height_mm(self) -> f32 {
        LEADING * self.size_pt / PT_PER_MM
    }

    fn baseline_drop_mm(self) -> f32 {
        BASELINE_DROP * self.size_pt / PT_PER_MM
    }
}

/// One line of text where it prints.
#[derive(Debug, Clone, PartialEq)]
struct PlacedLine {
    /// As printed: printable in the font, maybe cut with "…".
    text: String,
    style: Style,
    left_mm: f32,
    baseline_mm: f32,
    width_mm: f32,
}

/// A thin horizontal rule.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rule {
    left_mm: f32,
    right_mm: f32,
    y_mm: f32,
}

/// One page as placed: everything in mm from its top-left corner.
#[derive(Debug, Clone, Default)]
struct Page {
    lines: Vec<PlacedLine>,
    /// Light grey backgrounds: table headers and every other row.
    shades: Vec<AreaMm>,
    rules: Vec<Rule>,
    qr: Option<PlacedQr>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

struct Column<'t> {
    title: &'t str,
    width_mm: f32,
    align: Align,
}

impl<'t> Column<'t> {
    fn new(title: &'t str, width_mm: f32, align: Align) -> Column<'t> {
        Column {
            title,
            width_mm,
            align,
        }
    }
}

/// Cells wrap onto more lines (the row grows), up to [`MAX_CELL_LINES`].
struct Table<'t> {
    /// The cells' style; the header and the total are its bold.
    style: Style,
    columns: Vec<Column<'t>>,
    rows: Vec<Vec<String>>,
    /// A last row in bold, under a rule.
    total: Option<Vec<String>>,
}

/// Places content from the top of a page down, starting new pages as it fills them.
struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<Page>,
    /// Where the next content goes on the last page.
    top_mm: f32,
}

impl<'f> Flow<'f> {
    fn new(fonts: &'f Fonts) -> Flow<'f> {
        Flow {
            fonts,
            pages: vec![Page::default()],
            top_mm: FIRST_TOP_MM,
        }
    }

    fn font(&self, style: Style) -> &'f Font {
        if style.bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    fn page(&mut self) -> &mut Page {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn break_page(&mut self) {
        self.pages.push(Page::default());
        self.top_mm = CONTINUED_TOP_MM;
    }

    /// Starts a new page unless `height_mm` fits under the cursor (or the page is empty,
    /// where waiting would not help).
    fn keep(&mut self, height_mm: f32) {
        let page_top_mm = if self.pages.len() == 1 {
            FIRST_TOP_MM
        } else {
            CONTINUED_TOP_MM
        };
        if self.top_mm + height_mm > BODY_BOTTOM_MM && self.top_mm > page_top_mm {
            self.break_page();
        }
    }

    fn gap(&mut self, height_mm: f32) {
        self.top_mm = (self.top_mm + height_mm).min(BODY_BOTTOM_MM);
    }

    /// One line of `text` whose line box starts at `top_mm`, cut with "…" to `width_mm`,
    /// against the left or the right of the box.
    fn place(
        &mut self,
        text: &str,
        style: Style,
        (left_mm, width_mm): (f32, f32),
        top_mm: f32,
        align: Align,
    ) {
        let font = self.font(style);
        let printable = font.printable(text);
        let width_pt = width_mm * PT_PER_MM;
        let text = if font.width_pt(&printable, style.size_pt) <= width_pt {
            printable.into_owned()
        } else {
            metrics::truncate_by_width(&printable, width_pt, |c| {
                font.char_width_pt(c, style.size_pt)
            })
        };
        if text.is_empty() {
            return;
        }
        let text_width_mm = font.width_pt(&text, style.size_pt) / PT_PER_MM;
        let left_mm = match align {
            Align::Left => left_mm,
            Align::Right => left_mm + width_mm - text_width_mm,
        };
        self.page().lines.push(PlacedLine {
            text,
            style,
            left_mm,
            baseline_mm: top_mm + style.baseline_drop_mm(),
            width_mm: text_width_mm,
        });
    }

    /// `text` in lines no wider than `width_mm`, at most [`MAX_CELL_LINES`] of them: the
    /// last one kept is cut with "…" when there would be more.
    fn wrap(&self, text: &str, style: Style, width_mm: f32) -> Vec<String> {
        let font = self.font(style);
        let width_pt = width_mm * PT_PER_MM;
        let mut lines = wrap(font, &font.printable(text), style.size_pt, width_pt);
        if lines.len() > MAX_CELL_LINES {
            lines.truncate(MAX_CELL_LINES);
            let last = format!("{}…", lines[MAX_CELL_LINES - 1]);
            lines[MAX_CELL_LINES - 1] = metrics::truncate_by_width(&last, width_pt, |c| {
                font.char_width_pt(c, style.size_pt)
            });
        }
        lines
    }

    /// A line across the body at the cursor.
    fn line(&mut self, text: &str, style: Style) {
        self.keep(style.line_height_mm());
        let top_mm = self.top_mm;
        self.place(text, style, (MARGIN_MM, BODY_WIDTH_MM), top_mm, Align::Left);
        self.top_mm += style.line_height_mm();
    }

    /// Wrapped text across the body, flowing onto the next page if need be.
    fn paragraph(&mut self, text: &str, style: Style) {
        let font = self.font(style);
        let printable = font.printable(text);
        for line in wrap(font, &printable, style.size_pt, BODY_WIDTH_MM * PT_PER_MM) {
            self.line(&line, style);
        }
    }

    /// A section's title, kept on the page of what follows it (`next_mm` high).
    fn heading(&mut self, text: &str, next_mm: f32) {
        self.gap(SECTION_GAP_MM);
        self.keep(HEADING.line_height_mm() + 1.0 + next_mm);
        self.line(text, HEADING);
        self.top_mm += 1.0;
    }

    /// Side-by-side blocks of wrapped lines, one per column of `width_mm`, `gap_mm` apart.
    fn columns(&mut self, blocks: &[Vec<(String, Style)>], width_mm: f32, gap_mm: f32) {
        let wrapped: Vec<Vec<(String, Style)>> = blocks
            .iter()
            .map(|block| {
                block
                    .iter()
                    .flat_map(|(text, style)| {
                        self.wrap(text, *style, width_mm)
                            .into_iter()
                            .map(|line| (line, *style))
                    })
                    .collect()
            })
            .collect();
        let height_mm = |block: &Vec<(String, Style)>| {
            block
                .iter()
                .map(|(_, style)| style.line_height_mm())
                .sum::<f32>()
        };
        let tallest_mm = wrapped.iter().map(height_mm).fold(0.0, f32::max);
        self.keep(tallest_mm);
        for (index, block) in wrapped.iter().enumerate() {
            let left_mm = MARGIN_MM + index as f32 * (width_mm + gap_mm);
            let mut top_mm = self.top_mm;
            for (text, style) in block {
                self.place(text, *style, (left_mm, width_mm), top_mm, Align::Left);
                top_mm += style.line_height_mm();
            }
        }
        self.top_mm += tallest_mm;
    }

    /// A table across the body; rows flow onto further pages under a repeated header.
    fn table(&mut self, table: &Table) {
        let (style, bold) = (table.style, table.style.bold());
        let titles: Vec<&str> = table.columns.iter().map(|column| column.title).collect();
        let header = self.row_lines(&titles, bold, table);
        let first_row = table
            .rows
            .first()
            .map(|row| self.row_lines(row, style, table))
            .unwrap_or_default();
        self.keep(row_height_mm(&header, bold) + row_height_mm(&first_row, style));
        self.table_header(table, &header);
        for (index, row) in table.rows.iter().enumerate() {
            let cells = if index == 0 {
                first_row.clone()
            } else {
                self.row_lines(row, style, table)
            };
            let height_mm = row_height_mm(&cells, style);
            if self.top_mm + height_mm > BODY_BOTTOM_MM {
                self.break_page();
                self.table_header(table, &header);
            }
            if index % 2 == 1 {
                let top_mm = self.top_mm;
                self.page().shades.push(AreaMm {
                    left_mm: MARGIN_MM,
                    top_mm,
                    width_mm: table_width_mm(table),
                    height_mm,
                });
            }
            self.table_row(table, &cells, style);
        }
        if let Some(total) = &table.total {
            let cells = self.row_lines(total, bold, table);
            self.keep(row_height_mm(&cells, bold));
            self.rule(table_width_mm(table));
            self.table_row(table, &cells, bold);
        }
        self.rule(table_width_mm(table));
    }

    fn table_header(&mut self, table: &Table, header: &[Vec<String>]) {
        let top_mm = self.top_mm;
        self.page().shades.push(AreaMm {
            left_mm: MARGIN_MM,
            top_mm,
            width_mm: table_width_mm(table),
            height_mm: row_height_mm(header, table.style.bold()),
        });
        self.table_row(table, header, table.style.bold());
    }

    /// Places one row's cells, already fitted to their columns, and moves under it.
    fn table_row(&mut self, table: &Table, cells: &[Vec<String>], style: Style) {
        let mut left_mm = MARGIN_MM;
        for (column, lines) in table.columns.iter().zip(cells) {
            let mut top_mm = self.top_mm + CELL_PADDING_Y_MM;
            for line in lines {
                self.place(
                    line,
                    style,
                    (
                        left_mm + CELL_PADDING_X_MM,
                        column.width_mm - 2.0 * CELL_PADDING_X_MM,
                    ),
                    top_mm,
                    column.align,
                );
                top_mm += style.line_height_mm();
            }
            left_mm += column.width_mm;
        }
        self.top_mm += row_height_mm(cells, style);
    }

    /// A row's cells as lines fitted to their columns.
    fn row_lines(&self, row: &[impl AsRef<str>], style: Style, table: &Table) -> Vec<Vec<String>> {
        table
            .columns
            .iter()
            .zip(row)
            .map(|(column, text)| {
                self.wrap(
                    text.as_ref(),
                    style,
                    column.width_mm - 2.0 * CELL_PADDING_X_MM,
                )
            })
            .collect()
    }

    fn rule(&mut self, width_mm: f32) {
        let y_mm = self.top_mm;
        self.page().rules.push(Rule {
            left_mm: MARGIN_MM,
            right_mm: MARGIN_MM + width_mm,
            y_mm,
        });
    }
}

fn row_height_mm(cells: &[Vec<String>], style: Style) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    lines as f32 * style.line_height_mm() + 2.0 * CELL_PADDING_Y_MM
}

fn table_width_mm(table: &Table) -> f32 {
    table.columns.iter().map(|column| column.width_mm).sum()
}

/// `text` in lines no wider than `width_pt`: broken after spaces and slashes (so that a URL
/// breaks between its parts), and inside a word only when the word alone is too wide.
fn wrap(font: &Font, text: &str, size_pt: f32, width_pt: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_pt = 0.0;
    fn end_line(lines: &mut Vec<String>, line: &mut String, line_pt: &mut f32) {
        lines.push(line.trim_end_matches(' ').to_string());
        line.clear();
        *line_pt = 0.0;
    }
    for token in text.split_inclusive([' ', '/']) {
        let token = if line.is_empty() {
            token.trim_start_matches(' ')
        } else {
            token
        };
        let token_pt = font.width_pt(token, size_pt);
        let visible_pt = font.width_pt(token.trim_end_matches(' '), size_pt);
        if line_pt + visible_pt <= width_pt {
            line.push_str(token);
            line_pt += token_pt;
            continue;
        }
        if !line.is_empty() {
            end_line(&mut lines, &mut line, &mut line_pt);
        }
        let token = token.trim_start_matches(' ');
        if font.width_pt(token.trim_end_matches(' '), size_pt) <= width_pt {
            line.push_str(token);
            line_pt = font.width_pt(token, size_pt);
            continue;
        }
        for c in token.chars() {
            let c_pt = font.char_width_pt(c, size_pt);
            if line_pt + c_pt > width_pt && !line.is_empty() {
                end_line(&mut lines, &mut line, &mut line_pt);
            }
            line.push(c);
            line_pt += c_pt;
        }
    }
    if !line.trim_end_matches(' ').is_empty() || lines.is_empty() {
        end_line(&mut lines, &mut line, &mut line_pt);
    }
    lines
}

/// Places a whole certificate on as many A4 pages as it needs.
fn layout(pdf: &CertificatePdf, fonts: &Fonts) -> Result<Vec<Page>, RenderError> {
    let snapshot = pdf.snapshot;
    let lang = language(snapshot);
    let words = labels_for(lang);
    let mut flow = Flow::new(fonts);

    first_page_header(&mut flow, pdf, lang)?;

    let half_mm = (BODY_WIDTH_MM - 8.0) / 2.0;
    flow.gap(SECTION_GAP_MM);
    // An address or permit number left empty in the configuration leaves no empty line.
    let given = |text: &str| !text.trim().is_empty();
    let mut issuer = vec![
        (words.issuer.to_string(), HEADING),
        (snapshot.issuer.name.clone(), BODY_BOLD),
    ];
    if given(&snapshot.issuer.address) {
        issuer.push((snapshot.issuer.address.clone(), BODY));
    }
    if given(&snapshot.issuer.permit_number) {
        issuer.push((
            format!("{} {}", words.permit, snapshot.issuer.permit_number),
            BODY,
        ));
    }
    let mut partner = vec![
        (words.partner.to_string(), HEADING),
        (snapshot.partner.name.clone(), BODY_BOLD),
    ];
    if given(&snapshot.partner.address) {
        partner.push((snapshot.partner.address.clone(), BODY));
    }
    flow.columns(&[issuer, partner], half_mm, 8.0);

    let scope = &snapshot.scope;
    flow.heading(words.scope, 3.0 * BODY.line_height_mm());
    let kind = match scope.kind.as_str() {
        "collection" => words.scope_collection,
        "partner" => words.scope_partner,
        other => other,
    };
    flow.line(
        &format!(
            "{kind} · {} {} {} {} {}",
            words.period,
            words.period_from,
            short_day(lang, &scope.from),
            words.period_to,
            short_day(lang, &scope.to)
        ),
        BODY,
    );
    flow.gap(1.5);
    flow.table(&Table {
        style: CELL,
        columns: vec![
            Column::new(words.collection, 40.0, Align::Left),
            Column::new(words.received_on, 30.0, Align::Left),
            Column::new(words.reference, 110.0, Align::Left),
        ],
        rows: scope
            .collections
            .iter()
            .map(|collection| {
                vec![
                    collection.code.clone(),
                    short_day(lang, &collection.received_on),
                    collection.reference.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        total: None,
    });

    flow.heading(words.received_heading, 3.0 * CELL.line_height_mm());
    flow.table(&Table {
        style: CELL,
        columns: vec![
            Column::new(words.equipment_kind, 52.0, Align::Left),
            Column::new(words.weee_category, 88.0, Align::Left),
            Column::new(words.count, 18.0, Align::Right),
            Column::new(words.mass_kg, 22.0, Align::Right),
        ],
        rows: snapshot
            .received
            .iter()
            .map(|line| {
                let category = usize::try_from(line.weee_category)
                    .ok()
                    .and_then(|number| words.weee.get(number.checked_sub(1)?));
                vec![
                    line.equipment_kind.clone(),
                    match category {
                        Some(name) => format!("{} · {name}", line.weee_category),
                        None => line.weee_category.to_string(),
                    },
                    count(lang, line.count),
                    kg(lang, line.mass_g),
                ]
            })
            .collect(),
        total: Some(vec![
            words.total.to_string(),
            String::new(),
            count(lang, snapshot.received.iter().map(|line| line.count).sum()),
            kg(lang, snapshot.received.iter().map(|line| line.mass_g).sum()),
        ]),
    });

    let fate = &snapshot.fate;
    flow.heading(words.fate_heading, 3.0 * CELL.line_height_mm());
    let pieces = |label: &str, pieces: &crate::domain::certificate::CountMass| {
        vec![
            label.to_string(),
            count(lang, pieces.count),
            kg(lang, pieces.mass_g),
        ]
    };
    let mass_only =
        |label: &str, mass_g: i64| vec![label.to_string(), String::new(), kg(lang, mass_g)];
    flow.table(&Table {
        style: CELL,
        columns: vec![
            Column::new("", 120.0, Align::Left),
            Column::new(words.count, 25.0, Align::Right),
            Column::new(words.mass_kg, 35.0, Align::Right),
        ],
        rows: vec![
            pieces(words.fate_received, &fate.received),
            pieces(words.reused, &fate.reused),
            pieces(words.dismantled, &fate.dismantled),
            pieces(words.shipped_whole, &fate.shipped_whole),
            mass_only(words.copper_ingot, fate.copper_ingot_g),
            mass_only(words.lost, fate.lost_g),
        ],
        total: None,
    });

    flow.heading(words.recycled_heading, 3.0 * CELL.line_height_mm());
    if fate.recycled.is_empty() {
        flow.line(words.none, BODY);
    } else {
        flow.table(&Table {
            style: CELL,
            columns: vec![
                Column::new(words.family, 120.0, Align::Left),
                Column::new(words.mass_kg, 60.0, Align::Right),
            ],
            rows: fate
                .recycled
                .iter()
                .map(|line| {
                    vec![
                        translated(&words.families, &line.family).to_string(),
                        kg(lang, line.mass_g),
                    ]
                })
                .collect(),
            total: Some(vec![
                words.total.to_string(),
                kg(lang, fate.recycled.iter().map(|line| line.mass_g).sum()),
            ]),
        });
    }

    flow.heading(words.hazardous_heading, 3.0 * CELL.line_height_mm());
    if fate.hazardous.is_empty() {
        flow.line(words.none, BODY);
    } else {
        flow.table(&Table {
            style: CELL,
            columns: vec![
                Column::new(words.material, 42.0, Align::Left),
                Column::new(words.mass_kg, 22.0, Align::Right),
                Column::new(words.processor, 40.0, Align::Left),
                Column::new(words.permit.trim_end_matches([' ', ':']), 28.0, Align::Left),
                Column::new(words.documents, 48.0, Align::Left),
            ],
            rows: fate
                .hazardous
                .iter()
                .map(|line| {
                    vec![
                        format!("{} ({})", line.material_name, line.material),
                        kg(lang, line.mass_g),
                        line.processor.clone(),
                        line.permit_number.clone(),
                        line.documents.join(", "),
                    ]
                })
                .collect(),
            total: None,
        });
    }

    flow.heading(words.declaration, 3.0 * BODY.line_height_mm());
    flow.paragraph(&snapshot.declaration, BODY);

    flow.heading(words.signatory, 2.0 * BODY.line_height_mm());
    flow.line(
        &format!("{}, {}", snapshot.signatory.name, snapshot.signatory.role),
        BODY_BOLD,
    );
    flow.line(
        &format!(
            "{} {}",
            words.issued_on,
            long_day(lang, &snapshot.issued_at)
        ),
        BODY,
    );

    flow.heading(
        &format!(
            "{} ({})",
            words.annex_heading,
            count(lang, snapshot.annex.len() as i64)
        ),
        BODY.line_height_mm() + 4.0 * CELL.line_height_mm(),
    );
    if snapshot.annex.is_empty() {
        flow.line(words.no_annex, BODY);
    } else {
        flow.line(words.annex_note, BODY);
        flow.gap(1.5);
        flow.table(&Table {
            style: ANNEX,
            columns: vec![
                // Wide enough that a code (`IT-` and nine symbols) never wraps.
                Column::new(words.item, 23.0, Align::Left),
                Column::new(words.equipment_kind, 25.0, Align::Left),
                Column::new(words.serial, 23.0, Align::Left),
                Column::new(words.method, 18.0, Align::Left),
                Column::new(words.tool, 17.0, Align::Left),
                Column::new(words.verification, 32.0, Align::Left),
                Column::new(words.date, 16.5, Align::Left),
                Column::new(words.operator, 25.5, Align::Left),
            ],
            rows: snapshot
                .annex
                .iter()
                .map(|line| {
                    vec![
                        line.item.clone(),
                        line.equipment_kind.clone(),
                        line.serial.clone(),
                        translated(&words.methods, &line.method).to_string(),
                        line.tool.clone(),
                        line.verification.clone(),
                        short_day(lang, &line.date),
                        line.operator.clone(),
                    ]
                })
                .collect(),
            total: None,
        });
    }

    let mut pages = flow.pages;
    running_headers_and_footers(&mut pages, fonts, snapshot, &pdf.seal.hash, lang);
    Ok(pages)
}

/// The first page's top: title, number and seal on the left, the verify QR code and its URL
/// on the right.
fn first_page_header(flow: &mut Flow, pdf: &CertificatePdf, lang: Lang) -> Result<(), RenderError> {
    let snapshot = pdf.snapshot;
    let words = labels_for(lang);
    let matrix = QrMatrix::encode(pdf.verify_url).map_err(|source| RenderError::Qr {
        url: pdf.verify_url.to_string(),
        source,
    })?;
    let module_mm = QR_SIDE_MM / matrix.width_modules() as f32;
    let quiet_zone_mm = QUIET_ZONE_MODULES as f32 * module_mm;
    let qr = PlacedQr {
        content: pdf.verify_url.to_string(),
        matrix,
        left_mm: BODY_RIGHT_MM - QR_SIDE_MM,
        top_mm: FIRST_TOP_MM,
        module_mm,
    };
    let qr_column_left_mm = qr.left_mm - quiet_zone_mm;
    let mut url_top_mm = qr.top_mm + QR_SIDE_MM + quiet_zone_mm;
    let url_width_mm = BODY_RIGHT_MM - qr_column_left_mm;
    for line in flow.wrap(pdf.verify_url, SMALL, url_width_mm) {
        flow.place(
            &line,
            SMALL,
            (qr_column_left_mm, url_width_mm),
            url_top_mm,
            Align::Right,
        );
        url_top_mm += SMALL.line_height_mm();
    }
    flow.page().qr = Some(qr);

    let left_width_mm = qr_column_left_mm - QR_GAP_MM - MARGIN_MM;
    let mut left: Vec<(String, Style)> = vec![(words.title.to_string(), TITLE)];
    if let Some(note) = pdf.status_note {
        left.push((note.to_string(), NOTE));
    }
    left.push((format!("{} {}", words.number, snapshot.number), NUMBER));
    left.push((
        format!(
            "{} {} · {} {}",
            words.code,
            snapshot.code,
            words.issued_on,
            long_day(lang, &snapshot.issued_at)
        ),
        BODY,
    ));
    if let Some(replaced) = &snapshot.supersedes {
        left.push((format!("{} {replaced}", words.supersedes), BODY));
    }
    left.push((format!("{} {}", words.hash, pdf.seal.hash), SMALL));
    left.push((
        format!("{} {}", words.public_key, pdf.seal.public_key),
        SMALL,
    ));
    left.push((
        format!(
            "{}{}{}",
            words.sealed_note.0,
            snapshot_file_name(snapshot),
            words.sealed_note.1
        ),
        SMALL,
    ));
    flow.columns(&[left], left_width_mm, 0.0);
    flow.top_mm = flow.top_mm.max(url_top_mm);
    flow.rule(BODY_WIDTH_MM);
    Ok(())
}

/// Every page's footer (number, short hash, "Page n / N"), and a running header on every
/// page but the first.
fn running_headers_and_footers(
    pages: &mut [Page],
    fonts: &Fonts,
    snapshot: &Snapshot,
    hash: &str,
    lang: Lang,
) {
    let words = labels_for(lang);
    let total = pages.len();
    let short_hash = hash.get(..FOOTER_HASH_DIGITS).unwrap_or(hash);
    let footer = format!(
        "{} {} {} · SHA-256 {short_hash}…",
        words.title, words.number, snapshot.number
    );
    let running = format!("{} {} {}", words.title, words.number, snapshot.number);
    // Left and right parts of the header and footer lines, 4 mm apart at least.
    let half_mm = BODY_WIDTH_MM / 2.0 - 2.0;
    let (footer_left_mm, footer_right_mm) = (0.7 * BODY_WIDTH_MM, 0.3 * BODY_WIDTH_MM - 4.0);
    for (index, page) in pages.iter_mut().enumerate() {
        // A flow of one page, to reuse its placing on a finished page.
        let mut flow = Flow {
            fonts,
            pages: vec![std::mem::take(page)],
            top_mm: 0.0,
        };
        let footer_top_mm = FOOTER_BASELINE_MM - SMALL.baseline_drop_mm();
        flow.place(
            &footer,
            SMALL,
            (MARGIN_MM, footer_left_mm),
            footer_top_mm,
            Align::Left,
        );
        flow.place(
            &format!("{} {} / {total}", words.page, index + 1),
            SMALL,
            (BODY_RIGHT_MM - footer_right_mm, footer_right_mm),
            footer_top_mm,
            Align::Right,
        );
        flow.top_mm = FOOTER_RULE_MM;
        flow.rule(BODY_WIDTH_MM);
        if index > 0 {
            let header_top_mm = RUNNING_HEADER_BASELINE_MM - SMALL.baseline_drop_mm();
            flow.place(
                &running,
                SMALL,
                (MARGIN_MM, half_mm),
                header_top_mm,
                Align::Left,
            );
            flow.place(
                &snapshot.partner.name,
                SMALL,
                (BODY_RIGHT_MM - half_mm, half_mm),
                header_top_mm,
                Align::Right,
            );
            flow.top_mm = RUNNING_HEADER_RULE_MM;
            flow.rule(BODY_WIDTH_MM);
        }
        *page = flow.pages.remove(0);
    }
}

// ---------------------------------------------------------------------------------------
// Drawing

fn page_ops(page: &Page, fonts: &Fonts) -> Vec<Op> {
    let x_pt = |x_mm: f32| DictItem::Real(x_mm * PT_PER_MM);
    let y_pt = |y_mm: f32| DictItem::Real((PAGE_HEIGHT_MM - y_mm) * PT_PER_MM);
    let raw = |key: &str, value: Vec<DictItem>| Op::Unknown {
        key: key.into(),
        value,
    };
    let mut ops = Vec::with_capacity(8 + 4 * page.lines.len() + page.shades.len());

    if !page.shades.is_empty() {
        ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(SHADE_GREY, None)),
        });
        // One path of rectangles, filled once; printpdf has no op for a rectangle that does
        // not paint itself, hence the raw operators.
        for shade in &page.shades {
            ops.push(raw(
                "re",
                vec![
                    x_pt(shade.left_mm),
                    y_pt(shade.bottom_mm()),
                    DictItem::Real(shade.width_mm * PT_PER_MM),
                    DictItem::Real(shade.height_mm * PT_PER_MM),
                ],
            ));
        }
        ops.push(raw("f", Vec::new()));
    }

    if !page.rules.is_empty() {
        ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(RULE_GREY, None)),
        });
        ops.push(Op::SetOutlineThickness {
            pt: Pt(RULE_THICKNESS_PT),
        });
        for rule in &page.rules {
            ops.push(raw("m", vec![x_pt(rule.left_mm), y_pt(rule.y_mm)]));
            ops.push(raw("l", vec![x_pt(rule.right_mm), y_pt(rule.y_mm)]));
        }
        ops.push(raw("S", Vec::new()));
    }

    ops.push(Op::SetFillColor {
        col: Color::Greyscale(Greyscale::new(0.0, None)),
    });
    if let Some(qr) = &page.qr {
        labels::draw_qr(qr, PAGE_HEIGHT_MM, &mut ops);
    }

    if !page.lines.is_empty() {
        ops.push(Op::StartTextSection);
        let mut current_style = None;
        for line in &page.lines {
            if current_style != Some(line.style) {
                current_style = Some(line.style);
                let font = if line.style.bold {
                    &fonts.bold
                } else {
                    &fonts.regular
                };
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(font.id.clone()),
                    size: Pt(line.style.size_pt),
                });
            }
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(
                    Pt(line.left_mm * PT_PER_MM),
                    Pt((PAGE_HEIGHT_MM - line.baseline_mm) * PT_PER_MM),
                ),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(line.text.clone())],
            });
        }
        ops.push(Op::EndTextSection);
    }
    ops
}

// ---------------------------------------------------------------------------------------
// Embedded proof

/// Attaches the canonical snapshot, writes the seal, the page seal and fixed dates into the
/// Info dictionary, and derives the trailer ID from the snapshot's hash.
fn embed_proof(
    document: &mut lopdf::Document,
    pdf: &CertificatePdf,
    (pages, pages_signature): &(String, String),
    lang: Lang,
    id: &[u8],
) -> Result<(), lopdf::Error> {
    use lopdf::{Dictionary, Object, Stream, StringFormat, text_string};

    let snapshot = pdf.snapshot;
    let words = labels_for(lang);
    let file_name = snapshot_file_name(snapshot);
    let date = pdf_date(&snapshot.issued_at);

    let mut params = Dictionary::from_iter([("Size", Object::Integer(pdf.canonical.len() as i64))]);
    if let Some(date) = &date {
        params.set("ModDate", Object::string_literal(date.as_str()));
    }
    let file = document.add_object(Stream::new(
        Dictionary::from_iter([
            ("Type", Object::Name(b"EmbeddedFile".to_vec())),
            ("Subtype", Object::Name(b"application/json".to_vec())),
            ("Params", Object::Dictionary(params)),
        ]),
        pdf.canonical.as_bytes().to_vec(),
    ));
    let file_spec = document.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Filespec".to_vec())),
        ("F", Object::string_literal(file_name.as_str())),
        ("UF", text_string(&file_name)),
        (
            "Desc",
            text_string(&format!(
                "{} {} {}: canonical JSON, SHA-256 {}",
                words.title, words.number, snapshot.number, pdf.seal.hash
            )),
        ),
        (
            "EF",
            Object::Dictionary(Dictionary::from_iter([("F", Object::Reference(file))])),
        ),
    ]));
    let names = Dictionary::from_iter([(
        "EmbeddedFiles",
        Object::Dictionary(Dictionary::from_iter([(
            "Names",
            Object::Array(vec![
                Object::string_literal(file_name.as_str()),
                Object::Reference(file_spec),
            ]),
        )])),
    )]);
    document
        .catalog_mut()?
        .set("Names", Object::Dictionary(names));

    let mut info = Dictionary::from_iter([
        (
            "Title",
            text_string(&format!(
                "{} {} {}",
                words.title, words.number, snapshot.number
            )),
        ),
        ("Author", text_string(&snapshot.issuer.name)),
        ("Subject", text_string(&snapshot.partner.name)),
        ("Creator", text_string("greenchip")),
        ("Producer", text_string("greenchip (printpdf, lopdf)")),
        (INFO_SNAPSHOT, Object::string_literal(file_name.as_str())),
        (INFO_HASH, text_string(&pdf.seal.hash)),
        (INFO_SIGNATURE, text_string(&pdf.seal.signature)),
        (INFO_PUBLIC_KEY, text_string(&pdf.seal.public_key)),
        (INFO_PAGES, text_string(pages)),
        (INFO_PAGES_SIGNATURE, text_string(pages_signature)),
    ]);
    if let Some(date) = &date {
        info.set("CreationDate", Object::string_literal(date.as_str()));
        info.set("ModDate", Object::string_literal(date.as_str()));
    }
    let info_id = document.add_object(info);
    // printpdf's own Info dictionary holds the current time; it goes.
    if let Ok(old) = document.trailer.get(b"Info").and_then(Object::as_reference) {
        document.objects.remove(&old);
    }
    document.trailer.set("Info", Object::Reference(info_id));
    // printpdf draws a random ID; a certificate's is its hash's first half.
    let id = Object::String(id.to_vec(), StringFormat::Hexadecimal);
    document
        .trailer
        .set("ID", Object::Array(vec![id.clone(), id]));
    Ok(())
}

/// The embedded file named `file_name` in the document's EmbeddedFiles name tree.
fn attachment<'d>(document: &'d lopdf::Document, file_name: &str) -> Option<&'d lopdf::Stream> {
    let names = document.catalog().ok()?.get(b"Names").ok()?;
    let (_, names) = document.dereference(names).ok()?;
    let tree = names.as_dict().ok()?.get(b"EmbeddedFiles").ok()?;
    let file_spec = find_in_name_tree(document, tree, file_name.as_bytes(), 0)?;
    let (_, file_spec) = document.dereference(file_spec).ok()?;
    let embedded = file_spec.as_dict().ok()?.get(b"EF").ok()?;
    let (_, embedded) = document.dereference(embedded).ok()?;
    let file = embedded.as_dict().ok()?.get(b"F").ok()?;
    let (_, file) = document.dereference(file).ok()?;
    file.as_stream().ok()
}

fn find_in_name_tree<'d>(
    document: &'d lopdf::Document,
    node: &'d lopdf::Object,
    key: &[u8],
    depth: usize,
) -> Option<&'d lopdf::Object> {
    if depth > MAX_NAME_TREE_DEPTH {
        return None;
    }
    let (_, node) = document.dereference(node).ok()?;
    let node = node.as_dict().ok()?;
    if let Ok(names) = node.get(b"Names").and_then(lopdf::Object::as_array) {
        let found = names
            .chunks(2)
            .find(|pair| pair[0].as_str().is_ok_and(|name| name == key))
            .and_then(|pair| pair.get(1));
        if found.is_some() {
            return found;
        }
    }
    node.get(b"Kids")
        .and_then(lopdf::Object::as_array)
        .ok()?
        .iter()
        .find_map(|kid| find_in_name_tree(document, kid, key, depth + 1))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;
    use std::process::Command;

    use super::*;
    use crate::domain::certificate::{self, tests::sample};

    const VERIFY_URL: &str = "https://greenchip.example/verify/CE-0000000AB";
    const SECRET: [u8; 32] = [7; 32];
    /// Layout figures are compared to this many mm: float rounding, no more.
    const EPSILON_MM: f32 = 1e-3;

    /// A snapshot with its canonical text and seal, as the issuing service hands them over.
    struct Sealed {
        snapshot: Snapshot,
        canonical: String,
        seal: Seal,
    }

    impl Sealed {
        fn new(snapshot: Snapshot) -> Sealed {
            let canonical = snapshot.canonical().unwrap();
            let seal = certificate::seal(&canonical, &SECRET);
            Sealed {
                snapshot,
                canonical,
                seal,
            }
        }

        fn pdf(&self) -> CertificatePdf<'_> {
            CertificatePdf {
                snapshot: &self.snapshot,
                canonical: &self.canonical,
                seal: &self.seal,
                secret: &SECRET,
                verify_url: VERIFY_URL,
                status_note: None,
            }
        }

        fn render(&self) -> Vec<u8> {
            render(&self.pdf()).unwrap()
        }

        fn layout(&self) -> Vec<Page> {
            layout(&self.pdf(), fonts().unwrap()).unwrap()
        }
    }

    fn english(mut snapshot: Snapshot) -> Snapshot {
        snapshot.language = "en".into();
        snapshot.declaration =
            certificate::declaration("en", &snapshot.issuer.name, &snapshot.partner.name);
        snapshot
    }

    /// Runs a command-line tool on the PDF, written to a temporary file, and returns what
    /// it prints. The tools come with poppler-utils, qpdf and zbar-tools (CI installs them).
    fn run_on_pdf(pdf: &[u8], program: &str, args: &[&str]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certificate.pdf");
        std::fs::write(&path, pdf).unwrap();
        run(program, args, &path)
    }

    fn run(program: &str, args: &[&str], path: &Path) -> String {
        let output = Command::new(program)
            .args(args)
            .arg(path)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The PDF's text as pdftotext reads it, pages separated by form feeds.
    fn pdftotext(pdf: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certificate.pdf");
        std::fs::write(&path, pdf).unwrap();
        let output = Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext runs");
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    }

    fn single_spaced(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Every line stays inside the body's margins, and no two lines on one baseline
    /// overlap: a cell that overflowed its column would run into the next one.
    fn assert_nothing_overflows(pages: &[Page]) {
        for (number, page) in pages.iter().enumerate() {
            let mut lines: Vec<&PlacedLine> = page.lines.iter().collect();
            lines.sort_by(|a, b| {
                (a.baseline_mm, a.left_mm)
                    .partial_cmp(&(b.baseline_mm, b.left_mm))
                    .unwrap()
            });
            for line in &lines {
                assert!(
                    line.left_mm >= MARGIN_MM - EPSILON_MM,
                    "page {number}: {line:?}"
                );
                assert!(
                    line.left_mm + line.width_mm <= BODY_RIGHT_MM + EPSILON_MM,
                    "page {number}: {line:?}"
                );
            }
            for pair in lines.windows(2) {
                if (pair[0].baseline_mm - pair[1].baseline_mm).abs() < EPSILON_MM {
                    assert!(
                        pair[0].left_mm + pair[0].width_mm <= pair[1].left_mm + EPSILON_MM,
                        "page {number}: {:?} runs into {:?}",
                        pair[0],
                        pair[1]
                    );
                }
            }
        }
    }

    #[test]
    fn masses_print_to_the_gram_as_the_ledger_holds_them() {
        assert_eq!(kg(Lang::Fr, 120), "0,120");
        assert_eq!(kg(Lang::Fr, 9_999), "9,999");
        assert_eq!(kg(Lang::Fr, 12_964), "12,964");
        assert_eq!(kg(Lang::Fr, 27_549), "27,549");
        assert_eq!(kg(Lang::Fr, 1_234_567), "1\u{202f}234,567");
        assert_eq!(kg(Lang::En, 1_234_567), "1,234.567");
        assert_eq!(kg(Lang::En, -310), "-0.310");
        assert_eq!(kg(Lang::En, -12_350), "-12.350");
        assert_eq!(kg(Lang::En, 0), "0");
        assert_eq!(count(Lang::Fr, 5_000), "5\u{202f}000");
        assert_eq!(count(Lang::En, 5_000), "5,000");
    }

    /// The kilograms printed on the line of `pdftotext -layout` output that starts with
    /// `label`: its last number, in grams.
    fn printed_grams(text: &str, label: &str) -> i64 {
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(label))
            .unwrap_or_else(|| panic!("no line {label} in\n{text}"));
        let figure = line.split("  ").last().unwrap().trim();
        let (kilograms, grams) = figure
            .split_once('.')
            .unwrap_or_else(|| panic!("{figure} is not to the gram"));
        assert_eq!(grams.len(), 3, "{figure} is not to the gram");
        kilograms.replace(',', "").parse::<i64>().unwrap() * 1000 + grams.parse::<i64>().unwrap()
    }

    #[test]
    fn every_printed_total_is_the_sum_of_its_printed_lines() {
        let mut snapshot = english(sample(0));
        // Three kinds whose masses, rounded to 100 g each, would not add up to their total
        // rounded to 100 g: 12,964 g in all.
        snapshot.received = [("Desktop PC", 4_321), ("Laptop", 4_322), ("Screen", 4_321)]
            .into_iter()
            .map(|(kind, mass_g)| crate::domain::certificate::ReceivedLine {
                equipment_kind: kind.into(),
                weee_category: 6,
                count: 1,
                mass_g,
            })
            .collect();
        snapshot.fate.recycled = [("metal", 10_049), ("plastic", 10_049), ("glass", 151)]
            .into_iter()
            .map(|(family, mass_g)| crate::domain::certificate::FamilyLine {
                family: family.into(),
                mass_g,
            })
            .collect();
        let pdf = Sealed::new(snapshot).render();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("certificate.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let output = Command::new("pdftotext")
            .args(["-layout", "-enc", "UTF-8"])
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext runs");
        let text = String::from_utf8(output.stdout).unwrap();
        let received: i64 = ["Desktop PC", "Laptop", "Screen"]
            .iter()
            .map(|kind| printed_grams(&text, kind))
            .sum();
        let (received_part, recycled_part) = text.split_once("Metals").unwrap_or_else(|| {
            panic!("no recycled table in\n{text}");
        });
        assert_eq!(received, 12_964);
        assert_eq!(printed_grams(received_part, "Total"), received);
        let recycled_text = format!("Metals{recycled_part}");
        let recycled: i64 = ["Metals", "Plastics", "Glass"]
            .iter()
            .map(|family| printed_grams(&recycled_text, family))
            .sum();
        assert_eq!(recycled, 20_249);
        assert_eq!(printed_grams(&recycled_text, "Total"), recycled);
    }

    #[test]
    fn an_empty_permit_number_or_address_leaves_no_line() {
        let mut snapshot = sample(0);
        snapshot.issuer.permit_number = "  ".into();
        snapshot.issuer.address = String::new();
        let pages = Sealed::new(snapshot).layout();
        let texts: Vec<&str> = pages[0].lines.iter().map(|l| l.text.as_str()).collect();
        assert!(
            !texts.iter().any(|text| text.starts_with(FRENCH.permit)),
            "{texts:?}"
        );
        assert!(!texts.contains(&""), "{texts:?}");
        let pages = Sealed::new(sample(0)).layout();
        let texts: Vec<&str> = pages[0].lines.iter().map(|l| l.text.as_str()).collect();
        let permit = format!("{} ICPE 973-2026-17", FRENCH.permit);
        assert!(texts.contains(&permit.as_str()), "{texts:?}");
    }

    #[test]
    fn days_read_the_way_each_language_writes_them() {
        assert_eq!(short_day(Lang::Fr, "2026-03-02"), "02/03/2026");
        assert_eq!(short_day(Lang::En, "2026-03-02"), "2026-03-02");
        assert_eq!(
            long_day(Lang::Fr, "2026-11-29T10:00:00Z"),
            "29 novembre 2026"
        );
        assert_eq!(long_day(Lang::Fr, "2026-03-01"), "1er mars 2026");
        assert_eq!(
            long_day(Lang::En, "2026-11-29T10:00:00Z"),
            "29 November 2026"
        );
        assert_eq!(short_day(Lang::Fr, "soon"), "soon");
        assert_eq!(short_day(Lang::Fr, "2026-13-02"), "2026-13-02");
        assert_eq!(
            pdf_date("2026-11-29T10:00:00Z").as_deref(),
            Some("D:20261129100000Z")
        );
        assert_eq!(pdf_date("yesterday"), None);
    }

    #[test]
    fn wrapped_lines_fit_and_break_between_words_or_after_slashes() {
        let font = &fonts().unwrap().regular;
        let text = "Atelier Électronique Solidaire certifie que les équipements reçus";
        let lines = wrap(font, text, 9.0, 100.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert!(lines.iter().all(|line| font.width_pt(line, 9.0) <= 100.0));

        // A no-break space holds a number together.
        let number = "Total 1\u{202f}234\u{202f}567,8";
        let width_pt = font.width_pt("1\u{202f}234\u{202f}567,8 ", 9.0);
        assert_eq!(
            wrap(font, number, 9.0, width_pt),
            vec!["Total", "1\u{202f}234\u{202f}567,8"]
        );

        let url = wrap(font, VERIFY_URL, 7.0, 100.0);
        assert_eq!(url.concat(), VERIFY_URL);
        assert!(url.iter().all(|line| font.width_pt(line, 7.0) <= 100.0));
        assert!(url[0].ends_with('/'), "{url:?}");

        let word = "x".repeat(200);
        let pieces = wrap(font, &word, 9.0, 50.0);
        assert_eq!(pieces.concat(), word);
        assert!(pieces.iter().all(|line| font.width_pt(line, 9.0) <= 50.0));
        assert_eq!(wrap(font, "", 9.0, 50.0), vec![String::new()]);
    }

    #[test]
    fn the_fonts_have_french_accents_and_the_narrow_no_break_space() {
        let fonts = fonts().unwrap();
        for font in [&fonts.regular, &fonts.bold] {
            for c in "éèêëàâçîïôûùüÿœæÉÈÊÀÇÔŒ°’…·€\u{202f}\u{a0}".chars()
            {
                assert!(font.width(c).is_some_and(|w| w > 0), "{c:?}");
            }
            assert_eq!(font.printable("Lycée\tFélix"), "Lycée Félix");
            assert_eq!(font.printable("1\u{202f}234,5"), "1\u{202f}234,5");
            assert_eq!(font.printable("a\u{E000}b"), "a?b");
        }
    }

    #[test]
    fn a_seal_over_other_text_is_refused() {
        let sealed = Sealed::new(sample(1));
        let forged = sealed.canonical.replace("Lycée", "Lycee");
        let pdf = CertificatePdf {
            canonical: &forged,
            ..sealed.pdf()
        };
        assert!(matches!(
            render(&pdf),
            Err(RenderError::HashMismatch { .. })
        ));
    }

    #[test]
    fn a_rendered_certificate_passes_qpdf_check() {
        let pdf = Sealed::new(sample(3)).render();
        assert!(pdf.starts_with(b"%PDF-"));
        let report = run_on_pdf(&pdf, "qpdf", &["--check"]);
        assert!(
            report.contains("No syntax or stream encoding errors"),
            "{report}"
        );
    }

    #[test]
    fn the_text_reads_back_in_french_with_its_accents() {
        let mut snapshot = sample(3);
        snapshot.received[0].mass_g = 1_234_567;
        let sealed = Sealed::new(snapshot);
        let pages = sealed.layout();
        assert!(
            pages[0]
                .lines
                .iter()
                .any(|line| line.text == "1\u{202f}234,567")
        );
        // Readers may copy the narrow no-break space out as a plain space.
        let text = pdftotext(&sealed.render()).replace('\u{202f}', " ");
        for expected in [
            "Certificat de valorisation",
            "Lycée Félix Éboué",
            "2026-0042",
            "CE-0000000AB",
            "Atelier Électronique Solidaire",
            "Récupération Guyane",
            "Piles lithium (BATT-LI)",
            "SH-0000001Z / BSD 2026-118",
            "1 234,567",
            "0,120",
            "Démontés",
            "02/03/2026",
            "29 novembre 2026",
            "Hélène Dupré, Responsable d'atelier",
            "Aïcha N'Diaye",
            "Page 1 / ",
            VERIFY_URL.split_at(20).0,
            &sealed.seal.hash,
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(
            single_spaced(&text).contains(&single_spaced(&sealed.snapshot.declaration)),
            "the declaration is missing from:\n{text}"
        );
        // The fixed labels are French.
        assert!(!text.contains("Recovery certificate"), "{text}");
    }

    #[test]
    fn an_english_certificate_has_english_labels_and_numbers() {
        let mut snapshot = english(sample(2));
        snapshot.received[0].mass_g = 1_234_500;
        let sealed = Sealed::new(snapshot);
        let text = pdftotext(&sealed.render());
        for expected in [
            "Recovery certificate",
            "Equipment received",
            "What became of the equipment",
            "Annex: data-bearing devices",
            "1,234.5",
            "2026-03-02",
            "29 November 2026",
            "Purge",
            "Page 1 / ",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
        assert!(
            single_spaced(&text).contains(&single_spaced(&sealed.snapshot.declaration)),
            "{text}"
        );
        for french in [
            "Certificat de valorisation",
            "Équipements reçus",
            "1\u{202f}234",
        ] {
            assert!(!text.contains(french), "{french:?} in:\n{text}");
        }
    }

    #[test]
    fn the_qr_code_on_the_first_page_scans_to_the_verify_url() {
        let sealed = Sealed::new(sample(1));
        let pages = sealed.layout();
        let qr = pages[0].qr.as_ref().unwrap();
        assert!(qr.side_mm() >= 30.0, "{} mm", qr.side_mm());
        assert!(pages[1..].iter().all(|page| page.qr.is_none()));

        let dir = tempfile::tempdir().unwrap();
        let pdf_path = dir.path().join("certificate.pdf");
        std::fs::write(&pdf_path, sealed.render()).unwrap();
        let prefix = dir.path().join("page");
        let status = Command::new("pdftoppm")
            .args(["-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf_path)
            .arg(&prefix)
            .status()
            .expect("pdftoppm runs");
        assert!(status.success());
        let decoded = run("zbarimg", &["--raw", "-q"], &dir.path().join("page.png"));
        assert_eq!(decoded.trim_end(), VERIFY_URL);
    }

    #[test]
    fn five_thousand_devices_flow_onto_numbered_pages_under_repeated_headers() {
        let sealed = Sealed::new(sample(5_000));
        let pages = sealed.layout();
        assert!(pages.len() > 50, "{} pages", pages.len());
        assert_nothing_overflows(&pages);
        // The annex header ("Objet") heads every page after the first.
        for (number, page) in pages.iter().enumerate().skip(1) {
            assert!(
                page.lines
                    .iter()
                    .any(|line| line.text == "Objet" && line.style == ANNEX.bold()),
                "page {number} has no table header"
            );
        }

        let pdf = sealed.render();
        let text = pdftotext(&pdf);
        let page_texts: Vec<&str> = text
            .split('\u{c}')
            .filter(|t| !t.trim().is_empty())
            .collect();
        assert_eq!(page_texts.len(), pages.len());
        for (index, page) in page_texts.iter().enumerate() {
            let numbering = format!("Page {} / {}", index + 1, pages.len());
            assert!(page.contains(&numbering), "{numbering} missing");
            assert!(
                page.contains("2026-0042"),
                "page {} lacks the number",
                index + 1
            );
        }
        let codes: Vec<&str> = text
            .split_whitespace()
            .filter(|word| word.starts_with("IT-"))
            .collect();
        assert_eq!(codes.len(), 5_000);
        let distinct: BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(distinct.len(), 5_000);
        assert!(distinct.contains("IT-00000000X"));
        assert!(distinct.contains("IT-00004999X"));
    }

    #[test]
    fn long_cells_wrap_within_their_columns_and_only_overlong_ones_are_cut() {
        let mut snapshot = sample(3);
        snapshot.annex[0].verification =
            "relecture complète de chaque secteur et contrôle visuel du plateau".into();
        snapshot.annex[1].serial = "W".repeat(30);
        snapshot.annex[2].tool = "nwipe ".repeat(200);
        snapshot.fate.hazardous[0].documents = (1..=6)
            .map(|n| format!("SH-000000{n}Z / BSD 2026-11{n}"))
            .collect();
        snapshot.partner.address = "Avenue Léopold Héder, ".repeat(8);
        let sealed = Sealed::new(snapshot);
        let pages = sealed.layout();
        assert_nothing_overflows(&pages);
        let lines: Vec<&str> = pages
            .iter()
            .flat_map(|page| &page.lines)
            .map(|line| line.text.as_str())
            .collect();
        let text = lines.join(" ");
        // Wrapped, every word is there.
        for word in ["relecture", "complète", "secteur", "contrôle", "plateau"] {
            assert!(text.contains(word), "{word}");
        }
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with('W'))
                .map(|l| l.len())
                .sum::<usize>(),
            30
        );
        for n in 1..=6 {
            let document = format!("BSD 2026-11{n}");
            assert!(lines.iter().any(|l| l.contains(&document)), "{document}");
        }
        // Only a cell longer than MAX_CELL_LINES lines is cut.
        let tool: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with("nwipe") && !l.starts_with("nwipe 0.34"))
            .collect();
        assert_eq!(tool.len(), MAX_CELL_LINES);
        assert!(tool[MAX_CELL_LINES - 1].ends_with('…'));
        assert!(!text.contains("complète…"));
    }

    #[test]
    fn every_page_has_a_footer_with_the_number_the_short_hash_and_the_page() {
        let sealed = Sealed::new(sample(200));
        let pages = sealed.layout();
        assert!(pages.len() >= 2);
        let short_hash = &sealed.seal.hash[..FOOTER_HASH_DIGITS];
        for (index, page) in pages.iter().enumerate() {
            let footer = page
                .lines
                .iter()
                .find(|line| line.baseline_mm > BODY_BOTTOM_MM && line.text.contains(short_hash))
                .unwrap_or_else(|| panic!("page {index} has no hash in its footer"));
            assert!(footer.text.contains("2026-0042"));
            assert!(footer.baseline_mm > BODY_BOTTOM_MM);
            let numbering = format!("Page {} / {}", index + 1, pages.len());
            assert!(page.lines.iter().any(|line| line.text == numbering));
            // Nothing of the body runs into the footer.
            assert!(
                page.lines
                    .iter()
                    .filter(|line| line.baseline_mm < BODY_BOTTOM_MM + 1.0)
                    .all(|line| line.baseline_mm <= BODY_BOTTOM_MM)
            );
        }
        // The full hash is on the first page.
        assert!(
            pages[0]
                .lines
                .iter()
                .any(|line| line.text.contains(&sealed.seal.hash))
        );
    }

    #[test]
    fn extract_gives_back_the_signed_text_and_seal_exactly() {
        let sealed = Sealed::new(sample(20));
        assert!(sealed.canonical.contains("Lycée Félix Éboué"));
        let embedded = extract(&sealed.render()).unwrap();
        assert_eq!(embedded.canonical, sealed.canonical);
        assert_eq!(embedded.seal, sealed.seal);
        assert_eq!(
            certificate::verify(&embedded.canonical, &embedded.seal),
            Ok(())
        );
    }

    #[test]
    fn a_pdf_without_a_certificate_cannot_be_extracted() {
        let mut document = PdfDocument::new("not a certificate");
        document.with_pages(vec![PdfPage::new(Mm(210.0), Mm(297.0), Vec::new())]);
        let plain = document.save(&PdfSaveOptions::default(), &mut Vec::new());
        assert!(matches!(extract(&plain), Err(ExtractError::Missing(_))));
        assert!(matches!(
            extract(b"not a PDF at all"),
            Err(ExtractError::Pdf(_))
        ));
    }

    #[test]
    fn the_same_certificate_renders_to_the_same_bytes() {
        let sealed = Sealed::new(sample(120));
        let first = sealed.render();
        assert_eq!(first, sealed.render());
        let info = run_on_pdf(&first, "pdfinfo", &[]);
        assert!(info.contains("2026"), "{info}");
        // Another certificate differs, trailer ID included.
        let mut other = sample(120);
        other.number = "2026-0043".into();
        let other = Sealed::new(other).render();
        assert_ne!(first, other);
    }

    /// The pages of a PDF as PNG images, as poppler draws them at 50 dpi.
    fn raster(pdf: &[u8]) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let pdf_path = dir.path().join("certificate.pdf");
        std::fs::write(&pdf_path, pdf).unwrap();
        let status = Command::new("pdftoppm")
            .args(["-r", "50", "-png"])
            .arg(&pdf_path)
            .arg(dir.path().join("page"))
            .status()
            .expect("pdftoppm runs");
        assert!(status.success());
        let mut pages: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "png"))
            .collect();
        pages.sort();
        pages
            .iter()
            .map(|path| std::fs::read(path).unwrap())
            .collect()
    }

    #[test]
    fn the_cut_fonts_draw_exactly_what_the_whole_fonts_draw() {
        let pdf = Sealed::new(sample(30)).render();
        let mut whole = lopdf::Document::load_mem(&pdf).unwrap();
        let mut swapped = 0;
        let descriptors: Vec<(String, lopdf::ObjectId)> = whole
            .objects
            .values()
            .filter_map(|object| {
                let dict = object.as_dict().ok()?;
                let name = dict.get(b"FontName").ok()?.as_name().ok()?;
                let program = dict.get(b"FontFile2").ok()?.as_reference().ok()?;
                Some((String::from_utf8_lossy(name).into_owned(), program))
            })
            .collect();
        for (name, program) in descriptors {
            let (_, face) = name.split_once('+').expect("a subset tag");
            let bytes = if face == "DejaVuSans-Bold" {
                BOLD_TTF
            } else {
                REGULAR_TTF
            };
            let stream = whole
                .get_object_mut(program)
                .unwrap()
                .as_stream_mut()
                .unwrap();
            assert!(stream.decompressed_content().unwrap().len() < bytes.len() / 4);
            stream.dict.remove(b"Filter");
            stream.dict.set("Length1", bytes.len() as i64);
            stream.set_content(bytes.to_vec());
            swapped += 1;
        }
        assert_eq!(swapped, 2);
        let mut whole_pdf = Vec::new();
        whole.save_to(&mut whole_pdf).unwrap();
        assert!(whole_pdf.len() > pdf.len() + 1_000_000);
        let (cut_pages, whole_pages) = (raster(&pdf), raster(&whole_pdf));
        assert_eq!(cut_pages.len(), 2);
        assert!(cut_pages == whole_pages, "the pages differ");
    }

    #[test]
    fn a_certificate_without_data_bearing_devices_fits_on_one_page() {
        let pages = Sealed::new(sample(0)).layout();
        assert_eq!(pages.len(), 1);
        assert!(
            pages[0]
                .lines
                .iter()
                .any(|line| line.text == "Aucun appareil porteur de données.")
        );
    }

    #[test]
    fn a_status_note_and_a_superseded_number_show_on_the_first_page() {
        let mut snapshot = sample(1);
        snapshot.supersedes = Some("2026-0041".into());
        let sealed = Sealed::new(snapshot);
        let pdf = CertificatePdf {
            status_note: Some("Annulé le 3 décembre 2026"),
            ..sealed.pdf()
        };
        let pages = layout(&pdf, fonts().unwrap()).unwrap();
        let texts: Vec<&str> = pages[0].lines.iter().map(|l| l.text.as_str()).collect();
        assert!(texts.contains(&"Annulé le 3 décembre 2026"), "{texts:?}");
        assert!(
            texts.contains(&"Remplace le certificat n° 2026-0041"),
            "{texts:?}"
        );
    }
}
