//! Label sheets as PDF: where each label's QR code, code and detail lines go, then drawing them.
//!
//! [`layout`] places everything in millimetres from the page's top-left corner, and the PDF
//! is a plain drawing of that layout: tests check the placement on the layout, and read the
//! PDF back to decode every QR code it draws.

use std::io::Write;

use printpdf::{
    Color, CurTransMat, DictItem, Greyscale, LinePoint, Mm, Op, PaintMode, PdfDocument,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, TextItem, TextMatrix,
    WindingOrder,
};

use super::metrics::{self, Face};
use super::qr::{self, QUIET_ZONE_MODULES, QrMatrix};
use super::template::{Field, Template, TemplateError};
use crate::domain::codes::Code;

/// Detail lines a label holds under its code.
pub const MAX_DETAIL_LINES: usize = 2;
/// A printer correction beyond this is a unit mistake rather than a correction.
pub const MAX_OFFSET_MM: f32 = 10.0;

pub(super) const PT_PER_MM: f32 = 72.0 / 25.4;
/// Labels at least this much wider than high get their text beside the QR code, others under it.
const TEXT_BESIDE_MIN_ASPECT: f32 = 1.4;
/// Text beside the QR code keeps at least this share of the label's inner width.
const TEXT_MIN_WIDTH_SHARE: f32 = 0.3;
/// Text under the QR code takes at most this share of the label's inner height.
const TEXT_MAX_HEIGHT_SHARE: f32 = 0.4;
const CODE_MAX_PT: f32 = 12.0;
const LINE_MAX_PT: f32 = 9.0;
/// Detail lines shrink down to this size, then are cut with "…".
const LINE_MIN_PT: f32 = 5.0;
/// Height of a line of text, as a multiple of its font size.
const LEADING: f32 = 1.2;
/// From the top of a line to its baseline, as a multiple of the font size: room for
/// capital accents above and descenders below.
const BASELINE_DROP: f32 = 0.95;
const BORDER_THICKNESS_PT: f32 = 0.25;
const BORDER_GREY: f32 = 0.6;
/// Control-point distance of a cubic Bézier quarter circle, as a share of the radius.
const BEZIER_CIRCLE: f32 = 0.552_284_8;
/// 1,000 labels on L7160: 499 KB in 0.5 s at level 3, against 369 KB in 0.7 s at level 9
/// (what printpdf asks of lopdf) and 920 KB in 0.45 s at level 1.
const DEFLATE_LEVEL: u32 = 3;
/// Fewer items than this a thread are not worth a thread.
const MIN_ITEMS_PER_THREAD: usize = 16;

/// What one label shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub code: Code,
    /// Up to [`MAX_DETAIL_LINES`] lines such as kind and material, mass, date.
    pub lines: Vec<String>,
}

/// How a print run differs from the template's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelOptions {
    /// Used labels at the start of the first sheet, left blank (row by row from the top left).
    pub skip: usize,
    /// Printer correction: moves everything right by this much (negative: left).
    pub offset_x_mm: f32,
    /// Printer correction: moves everything down by this much (negative: up).
    pub offset_y_mm: f32,
    /// Thin outlines around each label, to cut plain paper by hand.
    pub cut_borders: bool,
    /// When set, the QR codes hold `PUBLIC_URL/S/<CODE>`: see [`qr::qr_content`].
    pub public_url: Option<String>,
}

/// Why labels could not be rendered. Nothing is rendered then.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("nothing to print: no labels were given")]
    NoLabels,
    #[error("cannot skip {skip} labels: a {template} page holds {per_page}")]
    SkipTooLarge {
        skip: usize,
        per_page: usize,
        template: String,
    },
    #[error("printer offset {axis} of {value_mm} mm is out of range (at most ±{MAX_OFFSET_MM} mm)")]
    OffsetOutOfRange { axis: &'static str, value_mm: f32 },
    #[error("label {code} has {count} detail lines; a label holds at most {MAX_DETAIL_LINES}")]
    TooManyLines { code: Code, count: usize },
    #[error("cannot encode “{content}” as a QR code: {source}")]
    Qr {
        content: String,
        #[source]
        source: qrcode::types::QrError,
    },
    /// Writing to memory does not fail in practice: an internal error, not the caller's.
    #[error("cannot write the PDF: {0}")]
    Write(#[from] std::io::Error),
}

/// A rectangle on a page, in mm from the page's top-left corner, y downwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaMm {
    pub left_mm: f32,
    pub top_mm: f32,
    pub width_mm: f32,
    pub height_mm: f32,
}

impl AreaMm {
    pub fn right_mm(&self) -> f32 {
        self.left_mm + self.width_mm
    }

    pub fn bottom_mm(&self) -> f32 {
        self.top_mm + self.height_mm
    }

    fn inset(&self, margin_mm: f32) -> AreaMm {
        AreaMm {
            left_mm: self.left_mm + margin_mm,
            top_mm: self.top_mm + margin_mm,
            width_mm: self.width_mm - 2.0 * margin_mm,
            height_mm: self.height_mm - 2.0 * margin_mm,
        }
    }
}

/// One PDF page: a sheet, or one label of a roll.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLayout {
    pub width_mm: f32,
    pub height_mm: f32,
    pub labels: Vec<PlacedLabel>,
}

/// A label where it prints.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLabel {
    pub code: Code,
    /// The label's outline on the page, printer offset included.
    pub frame: AreaMm,
    pub qr: PlacedQr,
    pub texts: Vec<PlacedText>,
}

/// A QR symbol where it prints; its quiet zone is the blank around it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedQr {
    pub content: String,
    pub matrix: QrMatrix,
    /// The top-left module's top-left corner.
    pub left_mm: f32,
    pub top_mm: f32,
    pub module_mm: f32,
}

impl PlacedQr {
    /// The symbol's side, quiet zone excluded.
    pub fn side_mm(&self) -> f32 {
        self.matrix.width_modules() as f32 * self.module_mm
    }

    /// The symbol with its quiet zone.
    pub fn with_quiet_zone(&self) -> AreaMm {
        let quiet_zone_mm = QUIET_ZONE_MODULES as f32 * self.module_mm;
        AreaMm {
            left_mm: self.left_mm - quiet_zone_mm,
            top_mm: self.top_mm - quiet_zone_mm,
            width_mm: self.side_mm() + 2.0 * quiet_zone_mm,
            height_mm: self.side_mm() + 2.0 * quiet_zone_mm,
        }
    }
}

/// One line of text where it prints.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedText {
    /// As printed: shrunk to the standard fonts' characters, maybe cut with "…".
    pub text: String,
    pub face: Face,
    pub size_pt: f32,
    pub left_mm: f32,
    pub baseline_mm: f32,
    pub width_mm: f32,
}

/// Places `labels` on as many pages as they need, after `options.skip` used labels.
///
/// No labels is an error ([`RenderError::NoLabels`]) rather than a blank page, which a
/// printer would waste a sheet on.
pub fn layout(
    template: &Template,
    labels: &[Label],
    options: &LabelOptions,
) -> Result<Vec<PageLayout>, RenderError> {
    template.check()?;
    if labels.is_empty() {
        return Err(RenderError::NoLabels);
    }
    let per_page = template.labels_per_page();
    if options.skip >= per_page {
        return Err(RenderError::SkipTooLarge {
            skip: options.skip,
            per_page,
            template: template.name.clone(),
        });
    }
    for (axis, value_mm) in [("x", options.offset_x_mm), ("y", options.offset_y_mm)] {
        if !value_mm.is_finite() || value_mm.abs() > MAX_OFFSET_MM {
            return Err(RenderError::OffsetOutOfRange { axis, value_mm });
        }
    }
    if let Some(label) = labels.iter().find(|l| l.lines.len() > MAX_DETAIL_LINES) {
        return Err(RenderError::TooManyLines {
            code: label.code.clone(),
            count: label.lines.len(),
        });
    }

    let (width_mm, height_mm) = template.media.page_size_mm();
    let page_count = (options.skip + labels.len()).div_ceil(per_page);
    let mut pages: Vec<PageLayout> = (0..page_count)
        .map(|_| PageLayout {
            width_mm,
            height_mm,
            labels: Vec::new(),
        })
        .collect();
    let grid = &template.grid;
    let columns = grid.columns as usize;
    let slots: Vec<(usize, &Label)> = (options.skip..).zip(labels).collect();
    // Encoding QR codes is most of the work: spread it over the cores.
    let placed = in_parallel(&slots, |&(slot, label)| {
        let within_page = slot % per_page;
        let (row, column) = (within_page / columns, within_page % columns);
        let frame = AreaMm {
            left_mm: grid.left_mm + column as f32 * grid.horizontal_pitch_mm + options.offset_x_mm,
            top_mm: grid.top_mm + row as f32 * grid.vertical_pitch_mm + options.offset_y_mm,
            width_mm: template.label.width_mm,
            height_mm: template.label.height_mm,
        };
        place_label(template, label, frame, options.public_url.as_deref())
    });
    for (&(slot, _), placed) in slots.iter().zip(placed) {
        pages[slot / per_page].labels.push(placed?);
    }
    Ok(pages)
}

/// Renders `labels` as a PDF whose pages have the template's page size: A4 sheets, or one
/// page per label on a roll. Text uses the standard PDF fonts (Courier-Bold, Helvetica),
/// so it stays searchable and needs no embedded font; see [`layout`] for refusals.
pub fn render_pdf(
    template: &Template,
    labels: &[Label],
    options: &LabelOptions,
) -> Result<Vec<u8>, RenderError> {
    let pages = layout(template, labels, options)?;
    let corner_radius_mm = template.label.corner_radius_mm;
    let pdf_pages = pages
        .iter()
        .map(|page| {
            PdfPage::new(
                Mm(page.width_mm),
                Mm(page.height_mm),
                page_ops(page, options.cut_borders.then_some(corner_radius_mm)),
            )
        })
        .collect();
    let mut document = PdfDocument::new(&format!("greenchip labels ({})", template.name));
    document.with_pages(pdf_pages);
    let mut warnings = Vec::new();
    // Compressed here rather than by printpdf (`optimize`), which deflates at level 9 on
    // one core: about 40 % of the time of a 1,000-label run.
    let uncompressed = PdfSaveOptions {
        optimize: false,
        // Writes the raw operators that draw QR codes; every op here is the renderer's own.
        secure: false,
        ..PdfSaveOptions::default()
    };
    let mut pdf = document.to_lopdf_document(&uncompressed, &mut warnings);
    for warning in warnings {
        tracing::debug!(page = warning.page, message = %warning.msg, "PDF writer warning");
    }
    compress_streams(&mut pdf)?;
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes)?;
    Ok(bytes)
}

/// Deflates every stream that may be, keeping a stream as it is where that is smaller.
pub(super) fn compress_streams(pdf: &mut lopdf::Document) -> std::io::Result<()> {
    let streams: Vec<(lopdf::ObjectId, &[u8])> = pdf
        .objects
        .iter()
        .filter_map(|(&id, object)| match object {
            lopdf::Object::Stream(stream)
                if stream.allows_compression && stream.dict.get(b"Filter").is_err() =>
            {
                Some((id, stream.content.as_slice()))
            }
            _ => None,
        })
        .collect();
    let compressed = in_parallel(&streams, |&(_, content)| {
        let mut encoder = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(content.len() / 4),
            flate2::Compression::new(DEFLATE_LEVEL),
        );
        encoder.write_all(content)?;
        encoder.finish()
    });
    let ids: Vec<lopdf::ObjectId> = streams.into_iter().map(|(id, _)| id).collect();
    for (id, compressed) in ids.into_iter().zip(compressed) {
        let compressed = compressed?;
        if let Some(lopdf::Object::Stream(stream)) = pdf.objects.get_mut(&id)
            && compressed.len() < stream.content.len()
        {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(compressed);
        }
    }
    Ok(())
}

/// `work` on every item, in order, spread over the machine's cores when there are enough.
pub(super) fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let chunk_len = items.len().div_ceil(threads).max(MIN_ITEMS_PER_THREAD);
    if chunk_len >= items.len() {
        return items.iter().map(&work).collect();
    }
    let work = &work;
    std::thread::scope(|scope| {
        let chunks: Vec<_> = items
            .chunks(chunk_len)
            .map(|chunk| scope.spawn(move || chunk.iter().map(work).collect::<Vec<R>>()))
            .collect();
        chunks
            .into_iter()
            .flat_map(|chunk| {
                chunk
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Where one label's QR code and text go inside `frame`.
fn place_label(
    template: &Template,
    label: &Label,
    frame: AreaMm,
    public_url: Option<&str>,
) -> Result<PlacedLabel, RenderError> {
    let content = qr::qr_content(&label.code, public_url);
    let matrix = QrMatrix::encode(&content).map_err(|source| RenderError::Qr {
        content: content.clone(),
        source,
    })?;
    let modules = matrix.width_modules() as f32;
    let quiet_zone = QUIET_ZONE_MODULES as f32;
    let margin_mm = template.label.inner_margin_mm;
    let inner = frame.inset(margin_mm);

    let code = template.prints(Field::Code).then(|| label.code.to_string());
    let lines: Vec<String> = if template.prints(Field::Lines) {
        label
            .lines
            .iter()
            .map(|line| metrics::printable(line.trim()))
            .collect()
    } else {
        Vec::new()
    };
    let has_text = template.prints(Field::Code) || template.prints(Field::Lines);

    // Dark modules stay inside the inner margin; the quiet zone may use the margin but
    // stays on the label. Every module size below honours both, and the text's room.
    let qr_at = move |left_mm: f32, top_mm: f32, module_mm: f32| PlacedQr {
        content,
        matrix,
        left_mm,
        top_mm,
        module_mm,
    };
    let (qr, texts) = if !has_text {
        let module_mm = (inner.width_mm.min(inner.height_mm) / modules)
            .min(frame.width_mm.min(frame.height_mm) / (modules + 2.0 * quiet_zone));
        let side_mm = modules * module_mm;
        let qr = qr_at(
            frame.left_mm + (frame.width_mm - side_mm) / 2.0,
            frame.top_mm + (frame.height_mm - side_mm) / 2.0,
            module_mm,
        );
        (qr, Vec::new())
    } else if frame.width_mm >= TEXT_BESIDE_MIN_ASPECT * frame.height_mm {
        let min_text_width_mm = TEXT_MIN_WIDTH_SHARE * inner.width_mm;
        let module_mm = (inner.height_mm / modules)
            .min(frame.height_mm / (modules + 2.0 * quiet_zone))
            .min((frame.width_mm - margin_mm - min_text_width_mm) / (modules + 2.0 * quiet_zone))
            .min((inner.width_mm - min_text_width_mm) / (modules + quiet_zone));
        let symbol_left_mm = frame.left_mm + margin_mm.max(quiet_zone * module_mm);
        let qr = qr_at(
            symbol_left_mm,
            frame.top_mm + (frame.height_mm - modules * module_mm) / 2.0,
            module_mm,
        );
        let text_left_mm = symbol_left_mm + (modules + quiet_zone) * module_mm;
        let text_width_mm = inner.right_mm() - text_left_mm;
        let block = TextBlock::fit(code, lines, text_width_mm, inner.height_mm);
        let text_top_mm = inner.top_mm + (inner.height_mm - block.height_mm()) / 2.0;
        (qr, block.place(text_left_mm, text_top_mm))
    } else {
        let block = TextBlock::fit(
            code,
            lines,
            inner.width_mm,
            TEXT_MAX_HEIGHT_SHARE * inner.height_mm,
        );
        let text_height_mm = block.height_mm();
        let module_mm = (inner.width_mm / modules)
            .min(frame.width_mm / (modules + 2.0 * quiet_zone))
            .min((frame.height_mm - margin_mm - text_height_mm) / (modules + 2.0 * quiet_zone))
            .min((inner.height_mm - text_height_mm) / (modules + quiet_zone));
        let symbol_top_mm = frame.top_mm + margin_mm.max(quiet_zone * module_mm);
        let qr = qr_at(
            frame.left_mm + (frame.width_mm - modules * module_mm) / 2.0,
            symbol_top_mm,
            module_mm,
        );
        let text_top_mm = symbol_top_mm + (modules + quiet_zone) * module_mm;
        (qr, block.place(inner.left_mm, text_top_mm))
    };
    Ok(PlacedLabel {
        code: label.code.clone(),
        frame,
        qr,
        texts,
    })
}

/// The code and detail lines, each in its face and size, fitted to a width and a height.
struct TextBlock {
    rows: Vec<(String, Face, f32)>,
}

impl TextBlock {
    /// The code as large as fits (up to 12 pt, never cut); each line as large as fits, up
    /// to 9 pt and the code's size, down to 5 pt, then cut with "…"; everything smaller if
    /// the block would be higher than `max_height_mm`.
    fn fit(
        code: Option<String>,
        lines: Vec<String>,
        width_mm: f32,
        max_height_mm: f32,
    ) -> TextBlock {
        let width_pt = (width_mm * PT_PER_MM).max(0.0);
        // Infinite for an empty text: the caps below then apply.
        let fitting_size_pt = |face: Face, text: &str| width_pt / face.text_width_pt(text, 1.0);
        let mut rows = Vec::with_capacity(1 + lines.len());
        let mut line_max_pt = LINE_MAX_PT;
        if let Some(code) = code {
            let size_pt = CODE_MAX_PT.min(fitting_size_pt(Face::CourierBold, &code));
            line_max_pt = line_max_pt.min(size_pt);
            rows.push((code, Face::CourierBold, size_pt));
        }
        let line_min_pt = LINE_MIN_PT.min(line_max_pt);
        for line in lines {
            let size_pt = fitting_size_pt(Face::Helvetica, &line)
                .max(line_min_pt)
                .min(line_max_pt);
            rows.push((line, Face::Helvetica, size_pt));
        }

        let mut block = TextBlock { rows };
        let height_mm = block.height_mm();
        if height_mm > max_height_mm {
            let shrink = max_height_mm.max(0.0) / height_mm;
            for row in &mut block.rows {
                row.2 *= shrink;
            }
        }
        for (text, face, size_pt) in &mut block.rows {
            // The code fits by its size; only detail lines are ever cut.
            if *face == Face::Helvetica {
                *text = metrics::truncate_to_width(*face, text, *size_pt, width_pt);
            }
        }
        block
    }

    fn height_mm(&self) -> f32 {
        LEADING * self.rows.iter().map(|row| row.2).sum::<f32>() / PT_PER_MM
    }

    /// The lines of text, the block's top-left corner at (`left_mm`, `top_mm`).
    fn place(self, left_mm: f32, top_mm: f32) -> Vec<PlacedText> {
        let mut line_top_mm = top_mm;
        self.rows
            .into_iter()
            .map(|(text, face, size_pt)| {
                let placed = PlacedText {
                    width_mm: face.text_width_pt(&text, size_pt) / PT_PER_MM,
                    text,
                    face,
                    size_pt,
                    left_mm,
                    baseline_mm: line_top_mm + BASELINE_DROP * size_pt / PT_PER_MM,
                };
                line_top_mm += LEADING * size_pt / PT_PER_MM;
                placed
            })
            .collect()
    }
}

/// The drawing of one page; `border_radius_mm` is set when cut borders are wanted.
fn page_ops(page: &PageLayout, border_radius_mm: Option<f32>) -> Vec<Op> {
    // PDF measures in points from the bottom-left corner.
    let to_point = |x_mm: f32, y_mm: f32| Point {
        x: Pt(x_mm * PT_PER_MM),
        y: Pt((page.height_mm - y_mm) * PT_PER_MM),
    };
    let mut ops = vec![Op::SetFillColor {
        col: Color::Greyscale(Greyscale::new(0.0, None)),
    }];

    if let Some(radius_mm) = border_radius_mm {
        ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(BORDER_GREY, None)),
        });
        ops.push(Op::SetOutlineThickness {
            pt: Pt(BORDER_THICKNESS_PT),
        });
        for label in &page.labels {
            let points = rounded_rectangle(&label.frame, radius_mm)
                .into_iter()
                .map(|(x_mm, y_mm, bezier)| LinePoint {
                    p: to_point(x_mm, y_mm),
                    bezier,
                })
                .collect();
            ops.push(Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing { points }],
                    mode: PaintMode::Stroke,
                    winding_order: WindingOrder::NonZero,
                },
            });
        }
    }

    for label in &page.labels {
        draw_qr(&label.qr, page.height_mm, &mut ops);
    }

    let texts: Vec<&PlacedText> = page
        .labels
        .iter()
        .flat_map(|label| &label.texts)
        .filter(|text| !text.text.is_empty())
        .collect();
    if !texts.is_empty() {
        ops.push(Op::StartTextSection);
        let mut current_font = None;
        for text in texts {
            if current_font != Some((text.face, text.size_pt)) {
                current_font = Some((text.face, text.size_pt));
                ops.push(Op::SetFont {
                    font: PdfFontHandle::Builtin(text.face.builtin()),
                    size: Pt(text.size_pt),
                });
            }
            let baseline = to_point(text.left_mm, text.baseline_mm);
            ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(baseline.x, baseline.y),
            });
            ops.push(Op::ShowText {
                items: vec![TextItem::Text(text.text.clone())],
            });
        }
        ops.push(Op::EndTextSection);
    }
    ops
}

/// Draws `qr`'s dark modules in the current fill colour, on a page `page_height_mm` high.
pub(super) fn draw_qr(qr: &PlacedQr, page_height_mm: f32, ops: &mut Vec<Op>) {
    // Drawn in module units (x right, y down from the symbol's top-left corner), so
    // the content stream holds small integers.
    let module_pt = qr.module_mm * PT_PER_MM;
    let (origin_x_pt, origin_y_pt) = (
        qr.left_mm * PT_PER_MM,
        (page_height_mm - qr.top_mm) * PT_PER_MM,
    );
    ops.push(Op::SaveGraphicsState);
    ops.push(Op::SetTransformationMatrix {
        matrix: CurTransMat::Raw([module_pt, 0.0, 0.0, -module_pt, origin_x_pt, origin_y_pt]),
    });
    // One path of `re` subpaths, filled once: viewers show no seams between touching
    // runs, and it takes a quarter of the bytes of polygon rings. printpdf has no op
    // for a rectangle that does not paint itself, hence the raw operators.
    for run in qr.matrix.dark_runs() {
        ops.push(Op::Unknown {
            key: "re".into(),
            value: [run.first_column, run.row, run.length_modules, 1]
                .into_iter()
                .map(|modules| DictItem::Int(modules as i64))
                .collect(),
        });
    }
    ops.push(Op::Unknown {
        key: "f".into(),
        value: Vec::new(),
    });
    ops.push(Op::RestoreGraphicsState);
}

/// The outline of `frame` with rounded corners, clockwise from the top edge, in mm from
/// the page's top-left corner; `true` marks a Bézier control point.
fn rounded_rectangle(frame: &AreaMm, radius_mm: f32) -> Vec<(f32, f32, bool)> {
    let (left, top, right, bottom) = (
        frame.left_mm,
        frame.top_mm,
        frame.right_mm(),
        frame.bottom_mm(),
    );
    if radius_mm <= 0.0 {
        return vec![
            (left, top, false),
            (right, top, false),
            (right, bottom, false),
            (left, bottom, false),
        ];
    }
    let r = radius_mm;
    let k = BEZIER_CIRCLE * r;
    vec![
        (left + r, top, false),
        (right - r, top, false),
        (right - r + k, top, true),
        (right, top + r - k, true),
        (right, top + r, false),
        (right, bottom - r, false),
        (right, bottom - r + k, true),
        (right - r + k, bottom, true),
        (right - r, bottom, false),
        (left + r, bottom, false),
        (left + r - k, bottom, true),
        (left, bottom - r + k, true),
        (left, bottom - r, false),
        (left, top + r, false),
        (left, top + r - k, true),
        (left + r - k, top, true),
        (left + r, top, false),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::template::Templates;
    use crate::render::tests::sample_codes;

    const PUBLIC_URL: &str = "https://greenchip.example.org";
    /// Layout figures are compared to this many mm: float rounding, no more.
    const EPSILON_MM: f32 = 1e-3;

    fn template(name: &str) -> Template {
        Templates::shipped().unwrap().get(name).unwrap().clone()
    }

    fn item_labels(count: usize) -> Vec<Label> {
        sample_codes(count)
            .into_iter()
            .enumerate()
            .map(|(i, code)| Label {
                code,
                lines: vec![
                    "Unité centrale · acier".to_string(),
                    format!("{} g · 2026-03-{:02}", 1200 + 37 * i, 1 + i % 28),
                ],
            })
            .collect()
    }

    fn with_url() -> LabelOptions {
        LabelOptions {
            public_url: Some(PUBLIC_URL.to_string()),
            ..LabelOptions::default()
        }
    }

    /// A page of a rendered PDF as lopdf reads it back.
    struct ReadPage {
        width_mm: f32,
        height_mm: f32,
        operations: Vec<lopdf::content::Operation>,
    }

    fn read_pdf(pdf: &[u8]) -> Vec<ReadPage> {
        let document = lopdf::Document::load_mem(pdf).expect("the rendered PDF loads");
        document
            .get_pages()
            .into_values()
            .map(|page_id| {
                let page = document.get_dictionary(page_id).unwrap();
                let media_box: Vec<f32> = page
                    .get(b"MediaBox")
                    .and_then(lopdf::Object::as_array)
                    .unwrap()
                    .iter()
                    .map(|number| number.as_float().unwrap())
                    .collect();
                let content = document.get_page_content(page_id);
                ReadPage {
                    width_mm: (media_box[2] - media_box[0]) / PT_PER_MM,
                    height_mm: (media_box[3] - media_box[1]) / PT_PER_MM,
                    operations: lopdf::content::Content::decode(&content)
                        .expect("the page's content decodes")
                        .operations,
                }
            })
            .collect()
    }

    /// The strings a page shows, decoded from WinAnsi (Latin-1 for accented letters).
    fn shown_text(page: &ReadPage) -> Vec<String> {
        page.operations
            .iter()
            .filter(|operation| operation.operator == "Tj")
            .filter_map(|operation| operation.operands.first()?.as_str().ok())
            .map(|bytes| bytes.iter().map(|&byte| char::from(byte)).collect())
            .collect()
    }

    /// `first` then `second`, as PDF's `cm` composes: a point goes through `first` first.
    fn then(first: [f32; 6], second: [f32; 6]) -> [f32; 6] {
        let [a, b, c, d, e, f] = first;
        let [a2, b2, c2, d2, e2, f2] = second;
        [
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ]
    }

    /// Paints the filled paths of a page, as read back from the PDF, into a greyscale image
    /// of `area`, `px_per_mm` pixels a millimetre. Every path the renderer fills is made of
    /// axis-aligned rectangles, so each subpath fills its bounding box; text and strokes
    /// are left out.
    fn rasterise(page: &ReadPage, area: AreaMm, px_per_mm: f32) -> GreyImage {
        let width_px = (area.width_mm * px_per_mm).ceil() as usize;
        let height_px = (area.height_mm * px_per_mm).ceil() as usize;
        let mut pixels = vec![255_u8; width_px * height_px];
        let mut transforms = vec![[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]];
        // Subpaths as points in mm from the page's top-left corner.
        let mut subpaths: Vec<Vec<(f32, f32)>> = Vec::new();
        let to_px = |value_mm: f32, limit_px: usize| {
            ((value_mm * px_per_mm).round().max(0.0) as usize).min(limit_px)
        };
        for operation in &page.operations {
            let numbers: Vec<f32> = operation
                .operands
                .iter()
                .filter_map(|operand| operand.as_float().ok())
                .collect();
            let [a, b, c, d, e, f] = *transforms.last().unwrap();
            let to_mm = |x: f32, y: f32| {
                let (x_pt, y_pt) = (a * x + c * y + e, b * x + d * y + f);
                (x_pt / PT_PER_MM, page.height_mm - y_pt / PT_PER_MM)
            };
            match operation.operator.as_str() {
                "q" => transforms.push([a, b, c, d, e, f]),
                "Q" => {
                    transforms.pop();
                }
                "cm" => {
                    let matrix: [f32; 6] = numbers[..6].try_into().unwrap();
                    *transforms.last_mut().unwrap() = then(matrix, [a, b, c, d, e, f]);
                }
                "re" => {
                    let (x, y, w, h) = (numbers[0], numbers[1], numbers[2], numbers[3]);
                    subpaths.push(vec![to_mm(x, y), to_mm(x + w, y + h)]);
                }
                "m" => subpaths.push(vec![to_mm(numbers[0], numbers[1])]),
                "l" | "c" => {
                    let n = numbers.len();
                    let point = to_mm(numbers[n - 2], numbers[n - 1]);
                    subpaths.last_mut().unwrap().push(point);
                }
                "f" | "f*" => {
                    for subpath in subpaths.drain(..) {
                        let xs = subpath.iter().map(|p| p.0 - area.left_mm);
                        let left_mm = xs.clone().fold(f32::INFINITY, f32::min);
                        let right_mm = xs.fold(f32::NEG_INFINITY, f32::max);
                        let ys = subpath.iter().map(|p| p.1 - area.top_mm);
                        let top_mm = ys.clone().fold(f32::INFINITY, f32::min);
                        let bottom_mm = ys.fold(f32::NEG_INFINITY, f32::max);
                        for y in to_px(top_mm, height_px)..to_px(bottom_mm, height_px) {
                            for x in to_px(left_mm, width_px)..to_px(right_mm, width_px) {
                                pixels[y * width_px + x] = 0;
                            }
                        }
                    }
                }
                "S" | "s" | "n" => subpaths.clear(),
                _ => {}
            }
        }
        GreyImage {
            width_px,
            height_px,
            pixels,
        }
    }

    struct GreyImage {
        width_px: usize,
        height_px: usize,
        pixels: Vec<u8>,
    }

    impl GreyImage {
        /// What every QR code found in the image holds.
        fn decode_all(&self) -> Vec<String> {
            let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
                self.width_px,
                self.height_px,
                |x, y| self.pixels[y * self.width_px + x],
            );
            prepared
                .detect_grids()
                .into_iter()
                .map(|grid| match grid.decode() {
                    Ok((_, content)) => content,
                    Err(error) => format!("undecodable: {error} at {:?}", grid.bounds),
                })
                .collect()
        }
    }

    /// Renders, parses the PDF back, rasterises each label (with 2 mm around it, where a
    /// neighbour could intrude) and checks its QR code reads back as its code.
    fn assert_every_qr_decodes(template: &Template, labels: &[Label], options: &LabelOptions) {
        let pdf_pages = read_pdf(&render_pdf(template, labels, options).unwrap());
        let pages = layout(template, labels, options).unwrap();
        assert_eq!(pdf_pages.len(), pages.len());
        let mut decoded = 0;
        for (page, pdf_page) in pages.iter().zip(&pdf_pages) {
            for label in &page.labels {
                let area = label.frame.inset(-2.0);
                let image = rasterise(pdf_page, area, 8.0);
                let contents = image.decode_all();
                assert_eq!(contents.len(), 1, "{} on {}", label.code, template.name);
                assert_eq!(
                    contents[0],
                    qr::qr_content(&label.code, options.public_url.as_deref())
                );
                assert_eq!(Code::from_scan(&contents[0]), Ok(label.code.clone()));
                decoded += 1;
            }
        }
        assert_eq!(decoded, labels.len());
    }

    #[test]
    fn every_qr_on_a_rendered_l7160_sheet_decodes_to_its_code() {
        let labels = item_labels(21);
        assert_every_qr_decodes(&template("L7160"), &labels, &with_url());
        assert_every_qr_decodes(&template("L7160"), &labels[..5], &LabelOptions::default());
    }

    #[test]
    fn every_qr_on_roll_labels_decodes_to_its_code() {
        assert_every_qr_decodes(&template("roll62"), &item_labels(3), &with_url());
    }

    #[test]
    fn every_qr_on_the_other_sheets_decodes_to_its_code() {
        assert_every_qr_decodes(&template("L7163"), &item_labels(14), &with_url());
        let options = LabelOptions {
            skip: 55,
            ..with_url()
        };
        assert_every_qr_decodes(&template("L7651"), &item_labels(12), &options);
    }

    /// A decoder run on a whole sheet pairs finder patterns of neighbouring codes (as
    /// DESIGN.md notes for zbarimg), so the codes are decoded label by label above; here
    /// the whole page is checked to hold nothing dark but the QR symbols.
    #[test]
    fn a_whole_rendered_page_fills_nothing_but_its_qr_symbols() {
        let template = template("L7160");
        let options = LabelOptions {
            cut_borders: true,
            ..with_url()
        };
        let labels = item_labels(21);
        let pdf_pages = read_pdf(&render_pdf(&template, &labels, &options).unwrap());
        let page = AreaMm {
            left_mm: 0.0,
            top_mm: 0.0,
            width_mm: 210.0,
            height_mm: 297.0,
        };
        let px_per_mm = 4.0;
        let image = rasterise(&pdf_pages[0], page, px_per_mm);
        let symbols: Vec<AreaMm> = layout(&template, &labels, &options).unwrap()[0]
            .labels
            .iter()
            .map(|label| {
                let symbol = AreaMm {
                    left_mm: label.qr.left_mm,
                    top_mm: label.qr.top_mm,
                    width_mm: label.qr.side_mm(),
                    height_mm: label.qr.side_mm(),
                };
                // Edges are rounded to whole pixels.
                symbol.inset(-1.0 / px_per_mm)
            })
            .collect();
        let mut dark_in_symbol = vec![0; symbols.len()];
        for y in 0..image.height_px {
            for x in 0..image.width_px {
                if image.pixels[y * image.width_px + x] != 0 {
                    continue;
                }
                let pixel = AreaMm {
                    left_mm: x as f32 / px_per_mm,
                    top_mm: y as f32 / px_per_mm,
                    width_mm: 1.0 / px_per_mm,
                    height_mm: 1.0 / px_per_mm,
                };
                let symbol = symbols.iter().position(|symbol| contains(symbol, &pixel));
                let symbol = symbol
                    .unwrap_or_else(|| panic!("dark pixel outside the QR codes at {pixel:?}"));
                dark_in_symbol[symbol] += 1;
            }
        }
        assert!(dark_in_symbol.iter().all(|&count| count > 0));
    }

    #[test]
    fn pdf_pages_have_the_template_page_size() {
        for (name, width_mm, height_mm) in [("L7160", 210.0, 297.0), ("roll62", 62.0, 29.0)] {
            let template = template(name);
            let pdf_pages = read_pdf(&render_pdf(&template, &item_labels(2), &with_url()).unwrap());
            assert_eq!(
                pdf_pages.len(),
                2_usize.div_ceil(template.labels_per_page())
            );
            for page in &pdf_pages {
                let size_mm = (page.width_mm, page.height_mm);
                assert!((size_mm.0 - width_mm).abs() < 0.01, "{name}: {size_mm:?}");
                assert!((size_mm.1 - height_mm).abs() < 0.01, "{name}: {size_mm:?}");
            }
        }
    }

    #[test]
    fn labels_take_as_many_pages_as_they_need() {
        let l7160 = template("L7160");
        let page_count = |count: usize, skip: usize| {
            let options = LabelOptions {
                skip,
                ..LabelOptions::default()
            };
            let pages = layout(&l7160, &item_labels(count), &options).unwrap();
            let pdf_pages = read_pdf(&render_pdf(&l7160, &item_labels(count), &options).unwrap());
            assert_eq!(pdf_pages.len(), pages.len());
            pages
                .iter()
                .map(|page| page.labels.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(page_count(1, 0), [1]);
        assert_eq!(page_count(21, 0), [21]);
        assert_eq!(page_count(22, 0), [21, 1]);
        assert_eq!(page_count(3, 20), [1, 2]);
        assert_eq!(page_count(43, 0), [21, 21, 1]);

        let roll = layout(&template("roll62"), &item_labels(3), &with_url()).unwrap();
        assert_eq!(roll.len(), 3);
        assert!(roll.iter().all(|page| page.labels.len() == 1));
        assert!(
            roll.iter()
                .all(|page| (page.width_mm, page.height_mm) == (62.0, 29.0))
        );
    }

    #[test]
    fn skipped_labels_are_left_blank_row_by_row() {
        let l7160 = template("L7160");
        let options = LabelOptions {
            skip: 20,
            ..LabelOptions::default()
        };
        let pages = layout(&l7160, &item_labels(2), &options).unwrap();
        let last_slot = pages[0].labels[0].frame;
        assert!((last_slot.left_mm - (7.25 + 2.0 * 66.04)).abs() < EPSILON_MM);
        assert!((last_slot.top_mm - (15.15 + 6.0 * 38.1)).abs() < EPSILON_MM);
        let next_sheet = pages[1].labels[0].frame;
        assert_eq!((next_sheet.left_mm, next_sheet.top_mm), (7.25, 15.15));
    }

    #[test]
    fn a_printer_offset_moves_everything() {
        let l7160 = template("L7160");
        let labels = item_labels(4);
        let plain = layout(&l7160, &labels, &LabelOptions::default()).unwrap();
        let options = LabelOptions {
            offset_x_mm: 1.5,
            offset_y_mm: -0.75,
            ..LabelOptions::default()
        };
        let moved = layout(&l7160, &labels, &options).unwrap();
        for (before, after) in plain[0].labels.iter().zip(&moved[0].labels) {
            assert!((after.frame.left_mm - before.frame.left_mm - 1.5).abs() < EPSILON_MM);
            assert!((after.frame.top_mm - before.frame.top_mm + 0.75).abs() < EPSILON_MM);
            assert!((after.qr.left_mm - before.qr.left_mm - 1.5).abs() < EPSILON_MM);
            assert!((after.qr.top_mm - before.qr.top_mm + 0.75).abs() < EPSILON_MM);
            for (text_before, text_after) in before.texts.iter().zip(&after.texts) {
                assert!((text_after.left_mm - text_before.left_mm - 1.5).abs() < EPSILON_MM);
                assert!(
                    (text_after.baseline_mm - text_before.baseline_mm + 0.75).abs() < EPSILON_MM
                );
            }
        }
    }

    #[test]
    fn bad_print_runs_are_refused() {
        let l7160 = template("L7160");
        assert!(matches!(
            layout(&l7160, &[], &LabelOptions::default()),
            Err(RenderError::NoLabels)
        ));
        assert!(matches!(
            render_pdf(&l7160, &[], &LabelOptions::default()),
            Err(RenderError::NoLabels)
        ));

        let skip_all = LabelOptions {
            skip: 21,
            ..LabelOptions::default()
        };
        let error = layout(&l7160, &item_labels(1), &skip_all).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot skip 21 labels: a L7160 page holds 21"
        );

        let far = LabelOptions {
            offset_y_mm: -25.0,
            ..LabelOptions::default()
        };
        assert!(matches!(
            layout(&l7160, &item_labels(1), &far),
            Err(RenderError::OffsetOutOfRange { axis: "y", .. })
        ));
        let not_a_number = LabelOptions {
            offset_x_mm: f32::NAN,
            ..LabelOptions::default()
        };
        assert!(layout(&l7160, &item_labels(1), &not_a_number).is_err());

        let mut three_lines = item_labels(1);
        three_lines[0].lines.push("a third line".into());
        assert!(matches!(
            layout(&l7160, &three_lines, &LabelOptions::default()),
            Err(RenderError::TooManyLines { count: 3, .. })
        ));
    }

    #[test]
    fn a_template_built_in_code_is_checked_before_rendering() {
        let mut broken = template("L7160");
        broken.grid.columns = 0;
        let error = render_pdf(&broken, &item_labels(1), &LabelOptions::default()).unwrap_err();
        assert!(matches!(
            error,
            RenderError::Template(TemplateError::Invalid { .. })
        ));
        assert!(error.to_string().contains("grid.columns"), "{error}");
    }

    /// Where a text line's glyphs can reach: from above capital accents to below descenders.
    fn text_box(text: &PlacedText) -> AreaMm {
        let size_mm = text.size_pt / PT_PER_MM;
        AreaMm {
            left_mm: text.left_mm,
            top_mm: text.baseline_mm - BASELINE_DROP * size_mm,
            width_mm: text.width_mm,
            height_mm: LEADING * size_mm,
        }
    }

    fn contains(outer: &AreaMm, inner: &AreaMm) -> bool {
        inner.left_mm >= outer.left_mm - EPSILON_MM
            && inner.top_mm >= outer.top_mm - EPSILON_MM
            && inner.right_mm() <= outer.right_mm() + EPSILON_MM
            && inner.bottom_mm() <= outer.bottom_mm() + EPSILON_MM
    }

    fn overlap(a: &AreaMm, b: &AreaMm) -> bool {
        a.left_mm < b.right_mm() - EPSILON_MM
            && b.left_mm < a.right_mm() - EPSILON_MM
            && a.top_mm < b.bottom_mm() - EPSILON_MM
            && b.top_mm < a.bottom_mm() - EPSILON_MM
    }

    /// Symbol inside the inner margin, quiet zone on the label and clear of text, text
    /// inside the inner margin.
    fn assert_well_placed(template: &Template, label: &PlacedLabel) {
        let inner = label.frame.inset(template.label.inner_margin_mm);
        let qr = &label.qr;
        let symbol = AreaMm {
            left_mm: qr.left_mm,
            top_mm: qr.top_mm,
            width_mm: qr.side_mm(),
            height_mm: qr.side_mm(),
        };
        let context = format!("{} on {}", label.code, template.name);
        assert!(
            contains(&inner, &symbol),
            "{context}: symbol {symbol:?} in {inner:?}"
        );
        let quiet = qr.with_quiet_zone();
        assert!(
            contains(&label.frame, &quiet),
            "{context}: quiet zone {quiet:?}"
        );
        for text in &label.texts {
            let text_area = text_box(text);
            assert!(
                contains(&inner, &text_area),
                "{context}: “{}” {text_area:?}",
                text.text
            );
            assert!(
                !overlap(&quiet, &text_area),
                "{context}: “{}” on the QR",
                text.text
            );
        }
    }

    #[test]
    fn every_shipped_layout_keeps_qr_and_text_apart_and_inside() {
        let long = "Unité centrale tour, boîtier acier, carte mère, alimentation ATX 450 W";
        for template in Templates::shipped().unwrap().iter() {
            for public_url in [None, Some(PUBLIC_URL.to_string())] {
                for lines in [vec![], vec!["Cuivre"], vec![long, "12 345 g · 2026-03-14"]] {
                    let labels: Vec<Label> = sample_codes(2)
                        .into_iter()
                        .map(|code| Label {
                            code,
                            lines: lines.iter().map(|line| line.to_string()).collect(),
                        })
                        .collect();
                    let options = LabelOptions {
                        public_url: public_url.clone(),
                        ..LabelOptions::default()
                    };
                    for page in layout(template, &labels, &options).unwrap() {
                        for label in &page.labels {
                            assert_well_placed(template, label);
                            // Readable: modules a scanner resolves, a code one can read.
                            assert!(label.qr.module_mm >= 0.5, "{}", template.name);
                            let code = &label.texts[0];
                            assert_eq!(code.text, label.code.to_string());
                            assert_eq!(code.face, Face::CourierBold);
                            assert!(code.size_pt >= 6.0, "{}: {}", template.name, code.size_pt);
                            for line in &label.texts[1..] {
                                assert!(line.size_pt >= LINE_MIN_PT, "{}", template.name);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn wide_labels_have_the_qr_on_the_left_and_the_text_beside_it() {
        for name in ["L7160", "L7163", "L7651", "roll62"] {
            let pages = layout(&template(name), &item_labels(1), &with_url()).unwrap();
            let label = &pages[0].labels[0];
            let quiet = label.qr.with_quiet_zone();
            assert!(quiet.left_mm - label.frame.left_mm < label.frame.width_mm / 4.0);
            assert!(
                label
                    .texts
                    .iter()
                    .all(|text| text.left_mm >= quiet.right_mm())
            );
            assert_eq!(label.texts.len(), 3, "{name}");
        }
    }

    #[test]
    fn the_qr_code_is_as_large_as_the_label_allows() {
        let pages = layout(&template("L7160"), &item_labels(1), &with_url()).unwrap();
        let quiet = pages[0].labels[0].qr.with_quiet_zone();
        // The quiet zone, not the text, limits it: it takes the label's whole height.
        assert!((quiet.height_mm - 38.1).abs() < EPSILON_MM, "{quiet:?}");
    }

    #[test]
    fn a_long_detail_line_is_cut_and_never_wider_than_the_label() {
        let mut labels = item_labels(1);
        labels[0].lines[0] = "Écran plat 24 pouces, dalle fissurée, rétroéclairage LED, \
                              pied métallique démonté, câbles récupérés"
            .to_string();
        for name in ["L7160", "L7651", "roll62"] {
            let template = template(name);
            let pages = layout(&template, &labels, &LabelOptions::default()).unwrap();
            let label = &pages[0].labels[0];
            let inner = label.frame.inset(template.label.inner_margin_mm);
            let line = &label.texts[1];
            assert!(line.text.starts_with("Écran plat"), "{name}: {}", line.text);
            assert!(line.text.ends_with('…'), "{name}: {}", line.text);
            assert_eq!(line.size_pt, LINE_MIN_PT, "{name}: shrunk before cut");
            if name != "L7651" {
                // The shorter line under it keeps a larger size.
                assert!(label.texts[2].size_pt > LINE_MIN_PT, "{name}");
            }
            assert!(
                line.left_mm + line.width_mm <= inner.right_mm() + EPSILON_MM,
                "{name}"
            );
            assert!(
                line.left_mm + line.width_mm <= label.frame.right_mm(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_short_detail_line_keeps_its_full_size() {
        let pages = layout(
            &template("L7163"),
            &item_labels(1),
            &LabelOptions::default(),
        )
        .unwrap();
        let line = &pages[0].labels[0].texts[1];
        assert_eq!(line.text, "Unité centrale · acier");
        assert_eq!(line.size_pt, LINE_MAX_PT);
    }

    #[test]
    fn codes_and_accented_lines_are_text_in_the_pdf() {
        let labels = item_labels(3);
        let pdf_pages = read_pdf(&render_pdf(&template("L7160"), &labels, &with_url()).unwrap());
        let shown = shown_text(&pdf_pages[0]);
        for label in &labels {
            assert!(shown.contains(&label.code.to_string()), "{shown:?}");
        }
        assert!(
            shown.iter().any(|text| text == "Unité centrale · acier"),
            "{shown:?}"
        );
    }

    #[test]
    fn square_labels_have_the_text_under_the_qr() {
        let mut square = template("L7160");
        square.name = "square".into();
        square.label.width_mm = 50.0;
        square.label.height_mm = 50.0;
        square.grid.columns = 3;
        square.grid.rows = 5;
        square.grid.horizontal_pitch_mm = 60.0;
        square.grid.vertical_pitch_mm = 55.0;
        let labels = item_labels(2);
        let pages = layout(&square, &labels, &with_url()).unwrap();
        for label in &pages[0].labels {
            assert_well_placed(&square, label);
            let quiet = label.qr.with_quiet_zone();
            assert!(
                label
                    .texts
                    .iter()
                    .all(|t| text_box(t).top_mm >= quiet.bottom_mm() - EPSILON_MM)
            );
        }
        assert_every_qr_decodes(&square, &labels, &with_url());
    }

    #[test]
    fn a_template_without_fields_prints_the_qr_alone_and_centred() {
        let mut qr_only = template("L7651");
        qr_only.fields.clear();
        let pages = layout(&qr_only, &item_labels(1), &with_url()).unwrap();
        let label = &pages[0].labels[0];
        assert!(label.texts.is_empty());
        assert_well_placed(&qr_only, label);
        let symbol_centre_mm = label.qr.left_mm + label.qr.side_mm() / 2.0;
        let frame_centre_mm = label.frame.left_mm + label.frame.width_mm / 2.0;
        assert!((symbol_centre_mm - frame_centre_mm).abs() < EPSILON_MM);

        let mut code_only = template("L7160");
        code_only.fields = vec![Field::Code];
        let pages = layout(&code_only, &item_labels(1), &with_url()).unwrap();
        assert_eq!(pages[0].labels[0].texts.len(), 1);
    }

    #[test]
    fn cut_borders_outline_each_printed_label() {
        let page = &layout(&template("L7160"), &item_labels(5), &with_url()).unwrap()[0];
        let strokes = |ops: &[Op]| {
            ops.iter()
                .filter(|op| matches!(op, Op::DrawPolygon { polygon } if polygon.mode == PaintMode::Stroke))
                .count()
        };
        assert_eq!(strokes(&page_ops(page, None)), 0);
        assert_eq!(strokes(&page_ops(page, Some(2.5))), 5);
        let outline = rounded_rectangle(&page.labels[0].frame, 2.5);
        assert!(outline.iter().all(|&(x, y, _)| {
            contains(
                &page.labels[0].frame,
                &AreaMm {
                    left_mm: x,
                    top_mm: y,
                    width_mm: 0.0,
                    height_mm: 0.0,
                },
            )
        }));
        assert_eq!(rounded_rectangle(&page.labels[0].frame, 0.0).len(), 4);
    }

    #[test]
    fn each_qr_is_one_path_of_merged_runs() {
        let page = &layout(&template("L7160"), &item_labels(2), &with_url()).unwrap()[0];
        // Per label: how many rectangles before the path is filled.
        let mut rectangles_per_fill = Vec::new();
        let mut rectangles = 0;
        for op in page_ops(page, None) {
            match op {
                Op::Unknown { key, value } if key == "re" => {
                    assert_eq!(value.len(), 4);
                    rectangles += 1;
                }
                Op::Unknown { key, .. } if key == "f" => {
                    rectangles_per_fill.push(rectangles);
                    rectangles = 0;
                }
                _ => {}
            }
        }
        let runs: Vec<usize> = page
            .labels
            .iter()
            .map(|l| l.qr.matrix.dark_runs().len())
            .collect();
        assert_eq!(rectangles_per_fill, runs);
    }
}
