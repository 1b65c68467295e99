//! TrueType fonts cut down to the glyphs a document draws, so that a PDF embeds tens of
//! kilobytes of font rather than the whole face (printpdf subsets only with its `text_layout`
//! feature, which this crate leaves off).
//!
//! The cut keeps every glyph id: the outlines of unused glyphs are emptied, the tables that
//! index glyphs (`hmtx`, `cmap`) stay as they are, and only layout tables a PDF never reads
//! (`GSUB`, `GPOS`, `kern`…) and glyph names go. Text encoded for the whole font therefore
//! draws the same with the cut one.

use std::collections::BTreeSet;

/// The tables a PDF viewer may read from an embedded TrueType program, in tag order; `post`
/// is kept as a version 3 header, without glyph names.
const KEPT_TABLES: [&[u8; 4]; 13] = [
    b"OS/2", b"cmap", b"cvt ", b"fpgm", b"gasp", b"glyf", b"head", b"hhea", b"hmtx", b"loca",
    b"maxp", b"name", b"post",
];
/// `head.checkSumAdjustment` makes the whole font sum to this.
const CHECKSUM_MAGIC: u32 = 0xB1B0_AFBA;
const HEAD_CHECKSUM_ADJUSTMENT: usize = 8;
const HEAD_INDEX_TO_LOC_FORMAT: usize = 50;
const POST_HEADER_LEN: usize = 32;
/// Composite glyph flags (OpenType `glyf` table).
const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
const WE_HAVE_A_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
/// Components nested deeper than this are not a font worth reading.
const MAX_COMPOSITE_DEPTH: usize = 8;

/// `program` with the outlines of every glyph but `glyphs`, `.notdef` and their components
/// emptied. `None` when `program` is not a TrueType font with `glyf` outlines.
pub fn keep_glyphs(program: &[u8], glyphs: &BTreeSet<u16>) -> Option<Vec<u8>> {
    let tables = read_directory(program)?;
    let table = |tag: &[u8; 4]| {
        tables
            .iter()
            .find(|(found, _)| found == tag)
            .map(|(_, data)| *data)
    };
    let head = table(b"head")?;
    let glyph_count = usize::from(read_u16(table(b"maxp")?, 4)?);
    let long_offsets = read_u16(head, HEAD_INDEX_TO_LOC_FORMAT)? == 1;
    let loca = table(b"loca")?;
    let glyf = table(b"glyf")?;
    let offsets: Vec<usize> = (0..=glyph_count)
        .map(|index| {
            if long_offsets {
                read_u32(loca, 4 * index).map(|offset| offset as usize)
            } else {
                read_u16(loca, 2 * index).map(|offset| 2 * usize::from(offset))
            }
        })
        .collect::<Option<_>>()?;
    let outline = |glyph: usize| -> Option<&[u8]> {
        let (start, end) = (*offsets.get(glyph)?, *offsets.get(glyph + 1)?);
        glyf.get(start..end)
    };

    // Composite glyphs (most accented letters) draw their components: keep those too.
    let mut kept = vec![false; glyph_count];
    let mut pending: Vec<(u16, usize)> = std::iter::once(0)
        .chain(glyphs.iter().copied())
        .map(|glyph| (glyph, 0))
        .collect();
    while let Some((glyph, depth)) = pending.pop() {
        let index = usize::from(glyph);
        if index >= glyph_count || kept[index] || depth > MAX_COMPOSITE_DEPTH {
            continue;
        }
        kept[index] = true;
        pending.extend(
            components(outline(index)?)?
                .into_iter()
                .map(|c| (c, depth + 1)),
        );
    }

    let mut new_glyf = Vec::new();
    let mut new_loca = Vec::with_capacity(4 * (glyph_count + 1));
    for (index, keep) in kept.iter().enumerate() {
        new_loca.extend_from_slice(&u32::try_from(new_glyf.len()).ok()?.to_be_bytes());
        if *keep {
            new_glyf.extend_from_slice(outline(index)?);
            new_glyf.resize(new_glyf.len().next_multiple_of(4), 0);
        }
    }
    new_loca.extend_from_slice(&u32::try_from(new_glyf.len()).ok()?.to_be_bytes());

    let mut new_head = head.to_vec();
    new_head
        .get_mut(HEAD_CHECKSUM_ADJUSTMENT..HEAD_CHECKSUM_ADJUSTMENT + 4)?
        .fill(0);
    new_head
        .get_mut(HEAD_INDEX_TO_LOC_FORMAT..HEAD_INDEX_TO_LOC_FORMAT + 2)?
        .copy_from_slice(&1_u16.to_be_bytes());
    let new_post = table(b"post").map(|post| {
        let mut header = post[..POST_HEADER_LEN.min(post.len())].to_vec();
        header.resize(POST_HEADER_LEN, 0);
        header[..4].copy_from_slice(&0x0003_0000_u32.to_be_bytes());
        header
    });

    let out_tables: Vec<(&[u8; 4], Vec<u8>)> = KEPT_TABLES
        .iter()
        .filter_map(|&tag| {
            let data = match tag {
                b"glyf" => std::mem::take(&mut new_glyf),
                b"loca" => std::mem::take(&mut new_loca),
                b"head" => std::mem::take(&mut new_head),
                b"post" => new_post.clone()?,
                _ => table(tag)?.to_vec(),
            };
            Some((tag, data))
        })
        .collect();
    let mut font = write_font(program.get(..4)?, &out_tables)?;
    let head_offset = head_offset(&font)?;
    let adjustment = CHECKSUM_MAGIC.wrapping_sub(checksum(&font));
    font.get_mut(
        head_offset + HEAD_CHECKSUM_ADJUSTMENT..head_offset + HEAD_CHECKSUM_ADJUSTMENT + 4,
    )?
    .copy_from_slice(&adjustment.to_be_bytes());
    Some(font)
}

/// The glyphs a composite glyph draws; none for a simple or empty glyph.
fn components(outline: &[u8]) -> Option<Vec<u16>> {
    if outline.len() < 10 || i16::from_be_bytes([outline[0], outline[1]]) >= 0 {
        return Some(Vec::new());
    }
    let mut found = Vec::new();
    let mut at = 10;
    loop {
        let flags = read_u16(outline, at)?;
        found.push(read_u16(outline, at + 2)?);
        at += 4;
        at += if flags & ARG_1_AND_2_ARE_WORDS != 0 {
            4
        } else {
            2
        };
        if flags & WE_HAVE_A_SCALE != 0 {
            at += 2;
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            at += 4;
        } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            at += 8;
        }
        if flags & MORE_COMPONENTS == 0 {
            return Some(found);
        }
    }
}

/// Every table of a single-face TrueType font, by tag.
fn read_directory(program: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    let version = read_u32(program, 0)?;
    if version != 0x0001_0000 && &program[..4] != b"true" {
        return None;
    }
    let count = usize::from(read_u16(program, 4)?);
    (0..count)
        .map(|index| {
            let record = 12 + 16 * index;
            let tag: [u8; 4] = program.get(record..record + 4)?.try_into().ok()?;
            let offset = read_u32(program, record + 8)? as usize;
            let length = read_u32(program, record + 12)? as usize;
            Some((tag, program.get(offset..offset.checked_add(length)?)?))
        })
        .collect()
}

/// An sfnt file of `tables`, which must come sorted by tag.
fn write_font(version: &[u8], tables: &[(&[u8; 4], Vec<u8>)]) -> Option<Vec<u8>> {
    let count = u16::try_from(tables.len()).ok()?;
    let entry_selector = 15 - count.max(1).leading_zeros() as u16;
    let search_range = 16 * (1_u16 << entry_selector);
    let mut font = Vec::new();
    font.extend_from_slice(version);
    for value in [
        count,
        search_range,
        entry_selector,
        16 * count - search_range,
    ] {
        font.extend_from_slice(&value.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    for (tag, data) in tables {
        font.extend_from_slice(*tag);
        font.extend_from_slice(&checksum(data).to_be_bytes());
        font.extend_from_slice(&u32::try_from(offset).ok()?.to_be_bytes());
        font.extend_from_slice(&u32::try_from(data.len()).ok()?.to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        font.extend_from_slice(data);
        font.resize(font.len().next_multiple_of(4), 0);
    }
    Some(font)
}

fn head_offset(font: &[u8]) -> Option<usize> {
    let count = usize::from(read_u16(font, 4)?);
    (0..count)
        .find_map(|index| {
            let record = 12 + 16 * index;
            (font.get(record..record + 4)? == b"head").then(|| read_u32(font, record + 8))?
        })
        .map(|offset| offset as usize)
}

/// The sum of the big-endian 32-bit words of `data`, zero-padded.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0_u32, |sum, chunk| {
        let mut word = [0; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use printpdf::ParsedFont;

    const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

    fn glyph_of(font: &ParsedFont, c: char) -> u16 {
        font.lookup_glyph_index(c as u32).unwrap()
    }

    #[test]
    fn the_cut_font_keeps_the_used_glyphs_their_components_and_every_glyph_id() {
        let whole = ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new()).unwrap();
        let used: BTreeSet<u16> = "Lycée Félix".chars().map(|c| glyph_of(&whole, c)).collect();
        let cut = keep_glyphs(REGULAR_TTF, &used).unwrap();
        assert!(cut.len() < REGULAR_TTF.len() / 4, "{} bytes", cut.len());
        assert_eq!(checksum(&cut), CHECKSUM_MAGIC);

        let reparsed = ParsedFont::from_bytes(&cut, 0, &mut Vec::new()).unwrap();
        assert_eq!(reparsed.codepoint_to_glyph, whole.codepoint_to_glyph);
        assert_eq!(reparsed.glyph_widths, whole.glyph_widths);

        let outlines = |program: &[u8]| -> Vec<Vec<u8>> {
            let tables = read_directory(program).unwrap();
            let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).unwrap().1;
            let long = read_u16(table(b"head"), HEAD_INDEX_TO_LOC_FORMAT).unwrap() == 1;
            let count = usize::from(read_u16(table(b"maxp"), 4).unwrap());
            let offset = |i: usize| {
                if long {
                    read_u32(table(b"loca"), 4 * i).unwrap() as usize
                } else {
                    2 * usize::from(read_u16(table(b"loca"), 2 * i).unwrap())
                }
            };
            (0..count)
                .map(|i| table(b"glyf")[offset(i)..offset(i + 1)].to_vec())
                .collect()
        };
        let (before, after) = (outlines(REGULAR_TTF), outlines(&cut));
        assert_eq!(before.len(), after.len());
        let e_acute = usize::from(glyph_of(&whole, 'é'));
        let parts = components(&before[e_acute]).unwrap();
        assert!(!parts.is_empty(), "DejaVu draws é from e and an accent");
        for glyph in used.iter().map(|&g| usize::from(g)).chain([0, e_acute]) {
            assert_eq!(after[glyph].len(), before[glyph].len().next_multiple_of(4));
            assert!(after[glyph].starts_with(&before[glyph]));
        }
        for part in parts {
            assert!(!after[usize::from(part)].is_empty());
        }
        assert!(after[usize::from(glyph_of(&whole, 'Z'))].is_empty());
    }

    #[test]
    fn what_is_not_a_truetype_font_is_refused() {
        assert_eq!(keep_glyphs(b"not a font", &BTreeSet::new()), None);
        assert_eq!(keep_glyphs(&REGULAR_TTF[..100], &BTreeSet::new()), None);
    }
}
