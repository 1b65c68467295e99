//! What a reader sees of a PDF, as digests: the parts of every page (text and drawings,
//! fonts, images, other resources, annotations, the page's box) and what the document adds
//! to them (actions, forms, optional content, a portfolio view). A certificate signs these
//! at issue beside its snapshot ([`crate::domain::certificate::PageSeal`]); `certificate
//! verify` recomputes them from the file at hand and names the parts that differ.
//!
//! The digests depend on what is drawn, not on how the file is written: objects are followed
//! through their references (object numbers do not count), streams are hashed decoded
//! (compression does not count) without their `Length` and filters, and content streams are
//! read operator by operator (whitespace and line breaks between tokens do not count). So a
//! `qpdf --qdf` round trip, which renumbers, decompresses and re-spaces, still verifies, and
//! any edit that changes what is shown does not.

use std::collections::HashMap;
use std::sync::Mutex;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};
use sha2::{Digest, Sha256};

use crate::domain::certificate::{Appearance, PageAppearance};

/// The catalog's entries that change what a viewer shows besides the pages themselves.
const DOCUMENT_KEYS: &[&[u8]] = &[
    b"AA",
    b"AcroForm",
    b"Collection",
    b"Names",
    b"OCProperties",
    b"OpenAction",
];
/// Page entries inherited from the page tree when a page does not set them.
const INHERITED: &[&[u8]] = &[b"Resources", b"MediaBox", b"CropBox", b"Rotate"];
/// Stream entries that say how the bytes are stored, not what they are (`Length` first).
const STORAGE_KEYS: &[&[u8]] = &[b"Length", b"Filter", b"DecodeParms", b"DL"];
/// A page's entries digested as parts of their own, or not at all (`Parent` leads back up the
/// tree).
const PAGE_PARTS: &[&[u8]] = &[b"Parent", b"Contents", b"Resources", b"Annots"];
/// The name tree of attached files: the snapshot is checked by its own seal.
const ATTACHMENTS: &[&[u8]] = &[b"EmbeddedFiles"];
/// The resource kinds digested on their own; every other resource kind goes together.
const FONTS: &[u8] = b"Font";
const IMAGES: &[u8] = b"XObject";
/// A page tree or object graph nested deeper than this is not one greenchip wrote; it is
/// digested as "too deep", which differs from anything sealed.
const MAX_DEPTH: usize = 64;
/// A decoded stream larger than this is digested as "too large" rather than inflated.
const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// The digests of the streams met so far, by object: the fonts every page shares are
/// decoded and hashed once, not once a page.
type Streams = Mutex<HashMap<ObjectId, [u8; 32]>>;

/// The appearance of every page of `document`, in page order; the pages are read on every
/// core.
pub fn appearance(document: &Document) -> Appearance {
    let streams = Streams::default();
    let page_ids: Vec<ObjectId> = document.get_pages().into_values().collect();
    let pages = super::labels::in_parallel(&page_ids, |page_id| {
        page_appearance(document, *page_id, &streams)
    });
    Appearance {
        document: document_digest(document, &streams),
        pages,
    }
}

fn document_digest(document: &Document, streams: &Streams) -> String {
    let mut digest = Digester::new(document, streams);
    if let Ok(catalog) = document.catalog() {
        for key in DOCUMENT_KEYS {
            let Ok(value) = catalog.get(key) else {
                continue;
            };
            // Every name tree but the attachments (scripts, destinations, …) counts.
            let names = (*key == b"Names")
                .then(|| {
                    document
                        .dereference(value)
                        .and_then(|(_, v)| v.as_dict())
                        .ok()
                })
                .flatten();
            if names.is_some_and(|names| {
                names
                    .iter()
                    .all(|(name, _)| ATTACHMENTS.contains(&name.as_slice()))
            }) {
                continue;
            }
            digest.bytes(key);
            match names {
                Some(names) => digest.dictionary_without(names, ATTACHMENTS, 0),
                None => digest.object(value, 0),
            }
        }
    }
    digest.finish()
}

fn page_appearance(document: &Document, page_id: ObjectId, streams: &Streams) -> PageAppearance {
    let page = document
        .get_dictionary(page_id)
        .cloned()
        .unwrap_or_default();
    let page = with_inherited(document, page);
    let part = |fill: &dyn Fn(&mut Digester)| {
        let mut digest = Digester::new(document, streams);
        digest.visiting.push(page_id);
        fill(&mut digest);
        digest.finish()
    };
    let resources = page
        .get(b"Resources")
        .and_then(|r| document.dereference(r))
        .and_then(|(_, r)| r.as_dict())
        .cloned()
        .unwrap_or_default();
    PageAppearance {
        content: part(&|digest| digest.contents(page.get(b"Contents").ok())),
        fonts: part(&|digest| digest.optional(resources.get(FONTS).ok())),
        images: part(&|digest| digest.optional(resources.get(IMAGES).ok())),
        resources: part(&|digest| digest.dictionary_without(&resources, &[FONTS, IMAGES], 0)),
        annotations: part(&|digest| digest.optional(page.get(b"Annots").ok())),
        page: part(&|digest| digest.dictionary_without(&page, PAGE_PARTS, 0)),
    }
}

/// The page with the entries it inherits from its ancestors in the page tree.
fn with_inherited(document: &Document, mut page: Dictionary) -> Dictionary {
    let mut parent = page.get(b"Parent").ok().cloned();
    for _ in 0..MAX_DEPTH {
        let Some(node) = parent
            .as_ref()
            .and_then(|p| document.dereference(p).ok())
            .and_then(|(_, node)| node.as_dict().ok())
        else {
            break;
        };
        for key in INHERITED {
            if !page.has(key)
                && let Ok(value) = node.get(key)
            {
                page.set(key.to_vec(), value.clone());
            }
        }
        parent = node.get(b"Parent").ok().cloned();
    }
    page
}

/// Feeds objects into a SHA-256 in a form that ignores how they are stored.
struct Digester<'d> {
    document: &'d Document,
    hasher: Sha256,
    /// The references being followed: one met again is a cycle, fed as such.
    visiting: Vec<ObjectId>,
    streams: &'d Streams,
}

impl<'d> Digester<'d> {
    fn new(document: &'d Document, streams: &'d Streams) -> Digester<'d> {
        Digester {
            document,
            hasher: Sha256::new(),
            visiting: Vec::new(),
            streams,
        }
    }

    fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }

    /// A referenced stream stands in the digest by its own digest, computed once.
    fn stream_digest(&mut self, id: ObjectId, stream: &Object, depth: usize) -> [u8; 32] {
        let known = self
            .streams
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(&id)
            .copied();
        if let Some(known) = known {
            return known;
        }
        let mut own = Digester::new(self.document, self.streams);
        own.visiting = self.visiting.clone();
        own.visiting.push(id);
        own.object(stream, depth + 1);
        let digest: [u8; 32] = own.hasher.finalize().into();
        self.streams
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(id, digest);
        digest
    }

    /// A length-prefixed byte string: no two sequences of fields feed the same bytes.
    fn bytes(&mut self, bytes: &[u8]) {
        self.hasher.update((bytes.len() as u64).to_be_bytes());
        self.hasher.update(bytes);
    }

    fn tag(&mut self, tag: u8) {
        self.hasher.update([tag]);
    }

    fn integer(&mut self, value: i64) {
        self.tag(b'i');
        self.hasher.update(value.to_be_bytes());
    }

    fn optional(&mut self, object: Option<&Object>) {
        match object {
            Some(object) => self.object(object, 0),
            None => self.tag(b'-'),
        }
    }

    fn object(&mut self, object: &Object, depth: usize) {
        if depth > MAX_DEPTH {
            self.tag(b'!');
            return;
        }
        match object {
            Object::Null => self.tag(b'n'),
            Object::Boolean(value) => self.tag(if *value { b'T' } else { b'F' }),
            Object::Integer(value) => self.integer(*value),
            // A real with no fraction is written as an integer (`0.0` as `0`) and read back
            // as one: both are fed as the integer.
            Object::Real(value) if value.fract() == 0.0 && value.abs() < 1e15 => {
                self.integer(*value as i64);
            }
            Object::Real(value) => {
                self.tag(b'r');
                self.hasher.update(value.to_bits().to_be_bytes());
            }
            Object::Name(name) => {
                self.tag(b'/');
                self.bytes(name);
            }
            Object::String(text, _) => {
                self.tag(b's');
                self.bytes(text);
            }
            Object::Array(items) => {
                self.tag(b'[');
                self.hasher.update((items.len() as u64).to_be_bytes());
                for item in items {
                    self.object(item, depth + 1);
                }
            }
            Object::Dictionary(dictionary) => self.dictionary_without(dictionary, &[], depth),
            Object::Stream(stream) => {
                let is_form = stream
                    .dict
                    .get(b"Subtype")
                    .and_then(Object::as_name)
                    .is_ok_and(|name| name == b"Form");
                match decoded(stream) {
                    Some(bytes) => {
                        self.tag(b'S');
                        self.dictionary_without(&stream.dict, STORAGE_KEYS, depth);
                        if is_form {
                            self.content_bytes(&bytes);
                        } else {
                            self.bytes(&bytes);
                        }
                    }
                    // A filter this reader cannot undo (an image's JPEG, say): the stored
                    // bytes with their filter, which a round trip leaves as they are.
                    None => {
                        self.tag(b'?');
                        self.dictionary_without(&stream.dict, &STORAGE_KEYS[..1], depth);
                        self.bytes(&stream.content);
                    }
                }
            }
            Object::Reference(id) => {
                if self.visiting.contains(id) {
                    self.tag(b'@');
                    return;
                }
                match self.document.get_object(*id) {
                    Ok(stream @ Object::Stream(_)) => {
                        let digest = self.stream_digest(*id, stream, depth);
                        self.tag(b'#');
                        self.hasher.update(digest);
                    }
                    Ok(target) => {
                        self.visiting.push(*id);
                        self.object(target, depth + 1);
                        self.visiting.pop();
                    }
                    Err(_) => self.tag(b'0'),
                }
            }
        }
    }

    /// A dictionary's entries in key order, less `skip`.
    fn dictionary_without(&mut self, dictionary: &Dictionary, skip: &[&[u8]], depth: usize) {
        let mut entries: Vec<(&Vec<u8>, &Object)> = dictionary
            .iter()
            .filter(|(key, _)| !skip.contains(&key.as_slice()))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        self.tag(b'<');
        self.hasher.update((entries.len() as u64).to_be_bytes());
        for (key, value) in entries {
            self.bytes(key);
            self.object(value, depth + 1);
        }
    }

    /// A page's `Contents`: one stream or an array of them, drawn as their concatenation.
    fn contents(&mut self, contents: Option<&Object>) {
        let Some(contents) = contents else {
            self.tag(b'-');
            return;
        };
        let streams: Vec<&Object> = match self.document.dereference(contents) {
            Ok((_, Object::Array(parts))) => parts.iter().collect(),
            Ok((_, single)) => vec![single],
            Err(_) => Vec::new(),
        };
        let mut joined = Vec::new();
        for part in streams {
            let stream = self
                .document
                .dereference(part)
                .ok()
                .and_then(|(_, part)| part.as_stream().ok());
            match stream.map(|stream| (stream, decoded(stream))) {
                Some((_, Some(bytes))) => {
                    joined.extend_from_slice(&bytes);
                    joined.push(b'\n');
                }
                Some((stream, None)) => {
                    self.tag(b'?');
                    self.bytes(&stream.content);
                    return;
                }
                None => {
                    self.tag(b'0');
                    return;
                }
            }
        }
        self.content_bytes(&joined);
    }

    /// Content-stream bytes as their operators and operands; bytes that do not parse as a
    /// content stream are fed as they are (they differ from anything sealed).
    fn content_bytes(&mut self, bytes: &[u8]) {
        match Content::decode_strict(bytes) {
            Ok(content) => {
                self.tag(b'C');
                self.hasher
                    .update((content.operations.len() as u64).to_be_bytes());
                for operation in &content.operations {
                    self.bytes(operation.operator.as_bytes());
                    self.hasher
                        .update((operation.operands.len() as u64).to_be_bytes());
                    for operand in &operation.operands {
                        self.object(operand, 1);
                    }
                }
            }
            Err(_) => {
                self.tag(b'B');
                self.bytes(bytes);
            }
        }
    }
}

/// A stream's bytes with its filters undone, or `None` when they cannot be.
fn decoded(stream: &lopdf::Stream) -> Option<Vec<u8>> {
    if stream.dict.has(b"Filter") {
        stream
            .decompressed_content_with_limit(MAX_STREAM_BYTES)
            .ok()
    } else {
        Some(stream.content.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use lopdf::{Document, Object, Stream, dictionary};

    use crate::domain::certificate::tests::sample;
    use crate::domain::certificate::{self, PagesTampered, PrintedPages, Snapshot, seal};
    use crate::render::certificate::{CertificatePdf, extract, render};

    const SECRET: [u8; 32] = [7; 32];
    const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

    fn issued(snapshot: &Snapshot) -> Vec<u8> {
        let canonical = snapshot.canonical().unwrap();
        let seal = seal(&canonical, &SECRET);
        render(&CertificatePdf {
            snapshot,
            canonical: &canonical,
            seal: &seal,
            secret: &SECRET,
            verify_url: "https://greenchip.example/verify/CE-0000000AB",
            status_note: None,
        })
        .unwrap()
    }

    /// What `certificate verify` finds of a PDF's printed pages, its snapshot's seal intact.
    fn printed(pdf: &[u8]) -> Result<PrintedPages, PagesTampered> {
        let embedded = extract(pdf).unwrap();
        certificate::verify(&embedded.canonical, &embedded.seal).unwrap();
        let snapshot: Snapshot = serde_json::from_str(&embedded.canonical).unwrap();
        embedded.printed_pages(snapshot.format)
    }

    fn differences(pdf: &[u8]) -> Vec<String> {
        match printed(pdf) {
            Err(PagesTampered::Differ(found)) => found,
            other => panic!("expected differences, found {other:?}"),
        }
    }

    fn tool(program: &str, args: &[&Path]) -> Vec<u8> {
        let output = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// The PDF as `qpdf --qdf` writes it: renumbered, streams decompressed, content
    /// streams re-spaced one token group a line, as a forger would edit it in a text editor.
    fn qdf(pdf: &[u8], dir: &Path) -> Vec<u8> {
        let (input, output) = (dir.join("issued.pdf"), dir.join("qdf.pdf"));
        std::fs::write(&input, pdf).unwrap();
        tool(
            "qpdf",
            &[
                Path::new("--qdf"),
                Path::new("--object-streams=disable"),
                &input,
                &output,
            ],
        );
        std::fs::read(output).unwrap()
    }

    /// The glyph ids that draw `text` in the regular face, as four hex digits each: how the
    /// content streams show text.
    fn glyphs_hex(text: &str) -> String {
        let font =
            printpdf::ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new()).expect("DejaVu");
        text.chars()
            .map(|c| format!("{:04x}", font.lookup_glyph_index(c as u32).unwrap()))
            .collect()
    }

    fn replace_once(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = haystack
            .windows(from.len())
            .position(|window| window.eq_ignore_ascii_case(from))
            .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(from)));
        [&haystack[..at], to, &haystack[at + from.len()..]].concat()
    }

    fn pdftotext(path: &Path) -> String {
        String::from_utf8(tool("pdftotext", &[path, Path::new("-")])).unwrap()
    }

    fn first_page(document: &Document) -> lopdf::ObjectId {
        *document.get_pages().values().next().unwrap()
    }

    fn saved(document: &mut Document) -> Vec<u8> {
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn the_issued_pages_verify_as_sealed() {
        let pdf = issued(&sample(40));

        assert_eq!(printed(&pdf), Ok(PrintedPages::Bound));
    }

    #[test]
    fn a_qpdf_round_trip_without_an_edit_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = issued(&sample(40));
        let rewritten = qdf(&pdf, dir.path());
        assert_ne!(rewritten, pdf);
        assert_eq!(printed(&rewritten), Ok(PrintedPages::Bound));
    }

    #[test]
    fn a_changed_digit_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = issued(&sample(0));
        // The copper ingot's 1,250 kg made 1,950 in the page's content, the attached
        // snapshot left as it was.
        let edited = replace_once(
            &qdf(&pdf, dir.path()),
            glyphs_hex("1,250").as_bytes(),
            glyphs_hex("1,950").as_bytes(),
        );
        let edited_path = dir.path().join("edited.pdf");
        std::fs::write(&edited_path, &edited).unwrap();
        let fixed = tool("fix-qdf", &[&edited_path]);
        let fixed_path = dir.path().join("fixed.pdf");
        std::fs::write(&fixed_path, &fixed).unwrap();
        // The forgery is real: a reader now sees 1,950 where 1,250 was.
        let shown = pdftotext(&fixed_path);
        assert!(
            shown.contains("1,950") && !shown.contains("1,250"),
            "{shown}"
        );
        assert_eq!(
            differences(&fixed),
            vec!["page 1: its text or drawings changed"]
        );
    }

    #[test]
    fn an_appended_content_stream_does_not_verify() {
        let pdf = issued(&sample(40));
        let mut document = Document::load_mem(&pdf).unwrap();
        let page = first_page(&document);
        let extra = document.add_object(Stream::new(
            dictionary! {},
            b"q 1 1 1 rg 100 600 80 20 re f Q".to_vec(),
        ));
        let dictionary = document.get_dictionary_mut(page).unwrap();
        let contents = dictionary.get(b"Contents").unwrap().clone();
        dictionary.set(
            "Contents",
            Object::Array(vec![contents, Object::Reference(extra)]),
        );
        assert_eq!(
            differences(&saved(&mut document)),
            vec!["page 1: its text or drawings changed"]
        );
    }

    #[test]
    fn an_added_annotation_does_not_verify() {
        let pdf = issued(&sample(40));
        let mut document = Document::load_mem(&pdf).unwrap();
        let page = document.get_pages()[&2];
        let note = document.add_object(dictionary! {
            "Type" => "Annot",
            "Subtype" => "FreeText",
            "Rect" => vec![100.into(), 600.into(), 300.into(), 640.into()],
            "Contents" => Object::string_literal("Cuivre : 1 992 kg"),
            "DA" => Object::string_literal("/Helv 12 Tf 0 g"),
        });
        document
            .get_dictionary_mut(page)
            .unwrap()
            .set("Annots", Object::Array(vec![Object::Reference(note)]));
        assert_eq!(
            differences(&saved(&mut document)),
            vec!["page 2: annotations were added or changed"]
        );
    }

    /// The font program's table `tag`: its offset and length.
    fn table(font: &[u8], tag: &[u8; 4]) -> (usize, usize) {
        let count = usize::from(u16::from_be_bytes([font[4], font[5]]));
        (0..count)
            .map(|index| &font[12 + 16 * index..28 + 16 * index])
            .find(|record| &record[..4] == tag)
            .map(|record| {
                let word =
                    |at: usize| u32::from_be_bytes(record[at..at + 4].try_into().unwrap()) as usize;
                (word(8), word(12))
            })
            .unwrap_or_else(|| panic!("no {} table", String::from_utf8_lossy(tag)))
    }

    /// Draws `from`'s outline in place of `to`'s in a TrueType program: every `to` then
    /// reads as `from`.
    fn swap_glyph(font: &mut [u8], from: u16, to: u16) {
        let (head, _) = table(font, b"head");
        let long = i16::from_be_bytes([font[head + 50], font[head + 51]]) == 1;
        let (loca, _) = table(font, b"loca");
        let (glyf, _) = table(font, b"glyf");
        let offset = |font: &[u8], glyph: u16| -> usize {
            let glyph = usize::from(glyph);
            if long {
                u32::from_be_bytes(
                    font[loca + 4 * glyph..loca + 4 * glyph + 4]
                        .try_into()
                        .unwrap(),
                ) as usize
            } else {
                2 * usize::from(u16::from_be_bytes([
                    font[loca + 2 * glyph],
                    font[loca + 2 * glyph + 1],
                ]))
            }
        };
        let range = |glyph: u16| (glyf + offset(font, glyph), glyf + offset(font, glyph + 1));
        let ((from_start, from_end), (to_start, to_end)) = (range(from), range(to));
        assert!(
            from_end - from_start <= to_end - to_start,
            "pick a shorter outline"
        );
        let outline = font[from_start..from_end].to_vec();
        font[to_start..to_end].fill(0);
        font[to_start..to_start + outline.len()].copy_from_slice(&outline);
    }

    #[test]
    fn a_glyph_swapped_in_the_embedded_font_does_not_verify() {
        let pdf = issued(&sample(0));
        let mut document = Document::load_mem(&pdf).unwrap();
        let program = document
            .objects
            .values()
            .filter_map(|object| {
                let dict = object.as_dict().ok()?;
                let name = dict.get(b"FontName").ok()?.as_name().ok()?;
                let program = dict.get(b"FontFile2").ok()?.as_reference().ok()?;
                name.ends_with(b"+DejaVuSans").then_some(program)
            })
            .next()
            .expect("the regular face is embedded");
        let stream = document
            .get_object_mut(program)
            .unwrap()
            .as_stream_mut()
            .unwrap();
        let mut font = stream.decompressed_content().unwrap();
        let glyph = |c: char| u16::from_str_radix(&glyphs_hex(&c.to_string()), 16).unwrap();
        // Whichever of the two outlines is shorter takes the other's place.
        let (one, seven) = (glyph('1'), glyph('7'));
        swap_glyph(&mut font, one, seven);
        stream.dict.remove(b"Filter");
        stream.set_content(font);
        assert_eq!(
            differences(&saved(&mut document)),
            vec!["page 1: its fonts or their glyphs changed"]
        );
    }

    #[test]
    fn a_page_seal_removed_from_a_format_2_certificate_is_not_a_format_1_one() {
        let pdf = issued(&sample(0));
        let mut document = Document::load_mem(&pdf).unwrap();
        let info = document
            .trailer
            .get(b"Info")
            .unwrap()
            .as_reference()
            .unwrap();
        let info = document.get_dictionary_mut(info).unwrap();
        info.remove(b"GreenchipPages");
        info.remove(b"GreenchipPagesSignature");
        assert_eq!(
            printed(&saved(&mut document)),
            Err(PagesTampered::Removed(certificate::FORMAT))
        );
    }
}
