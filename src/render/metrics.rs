//! Widths of the PDF standard fonts labels use, so text is fitted without embedding a font.

use printpdf::BuiltinFont;

/// Glyph widths in thousandths of an em for every character of the WinAnsi encoding, which
/// is how printpdf writes text in the standard fonts. Helvetica's metrics, read from
/// URW's metric-compatible Nimbus Sans; sorted by character for a binary search.
#[rustfmt::skip]
const HELVETICA_WIDTHS: [(char, u16); 218] = [
    (' ', 278), ('!', 278), ('"', 355), ('#', 556), ('$', 556), ('%', 889), ('&', 667),
    ('\'', 191), ('(', 333), (')', 333), ('*', 389), ('+', 584), (',', 278), ('-', 333),
    ('.', 278), ('/', 278), ('0', 556), ('1', 556), ('2', 556), ('3', 556), ('4', 556),
    ('5', 556), ('6', 556), ('7', 556), ('8', 556), ('9', 556), (':', 278), (';', 278),
    ('<', 584), ('=', 584), ('>', 584), ('?', 556), ('@', 1015), ('A', 667), ('B', 667),
    ('C', 722), ('D', 722), ('E', 667), ('F', 611), ('G', 778), ('H', 722), ('I', 278),
    ('J', 500), ('K', 667), ('L', 556), ('M', 833), ('N', 722), ('O', 778), ('P', 667),
    ('Q', 778), ('R', 722), ('S', 667), ('T', 611), ('U', 722), ('V', 667), ('W', 944),
    ('X', 667), ('Y', 667), ('Z', 611), ('[', 278), ('\\', 278), (']', 278), ('^', 469),
    ('_', 556), ('`', 333), ('a', 556), ('b', 556), ('c', 500), ('d', 556), ('e', 556),
    ('f', 278), ('g', 556), ('h', 556), ('i', 222), ('j', 222), ('k', 500), ('l', 222),
    ('m', 833), ('n', 556), ('o', 556), ('p', 556), ('q', 556), ('r', 333), ('s', 500),
    ('t', 278), ('u', 556), ('v', 500), ('w', 722), ('x', 500), ('y', 500), ('z', 500),
    ('{', 334), ('|', 260), ('}', 334), ('~', 584), ('\u{00a0}', 278), ('¡', 333), ('¢', 556),
    ('£', 556), ('¤', 556), ('¥', 556), ('¦', 260), ('§', 556), ('¨', 333), ('©', 737),
    ('ª', 370), ('«', 556), ('¬', 584), ('\u{00ad}', 333), ('®', 737), ('¯', 333), ('°', 400),
    ('±', 584), ('²', 333), ('³', 333), ('´', 333), ('µ', 556), ('¶', 537), ('·', 278),
    ('¸', 333), ('¹', 333), ('º', 365), ('»', 556), ('¼', 834), ('½', 834), ('¾', 834),
    ('¿', 611), ('À', 667), ('Á', 667), ('Â', 667), ('Ã', 667), ('Ä', 667), ('Å', 667),
    ('Æ', 1000), ('Ç', 722), ('È', 667), ('É', 667), ('Ê', 667), ('Ë', 667), ('Ì', 278),
    ('Í', 278), ('Î', 278), ('Ï', 278), ('Ð', 722), ('Ñ', 722), ('Ò', 778), ('Ó', 778),
    ('Ô', 778), ('Õ', 778), ('Ö', 778), ('×', 584), ('Ø', 778), ('Ù', 722), ('Ú', 722),
    ('Û', 722), ('Ü', 722), ('Ý', 667), ('Þ', 667), ('ß', 611), ('à', 556), ('á', 556),
    ('â', 556), ('ã', 556), ('ä', 556), ('å', 556), ('æ', 889), ('ç', 500), ('è', 556),
    ('é', 556), ('ê', 556), ('ë', 556), ('ì', 278), ('í', 278), ('î', 278), ('ï', 278),
    ('ð', 556), ('ñ', 556), ('ò', 556), ('ó', 556), ('ô', 556), ('õ', 556), ('ö', 556),
    ('÷', 584), ('ø', 611), ('ù', 556), ('ú', 556), ('û', 556), ('ü', 556), ('ý', 500),
    ('þ', 556), ('ÿ', 500), ('Œ', 1000), ('œ', 944), ('Š', 667), ('š', 500), ('Ÿ', 667),
    ('Ž', 611), ('ž', 500), ('ƒ', 556), ('ˆ', 333), ('˜', 333), ('–', 556), ('—', 1000),
    ('\u{2018}', 222), ('\u{2019}', 222), ('\u{201a}', 222), ('\u{201c}', 333),
    ('\u{201d}', 333), ('\u{201e}', 333), ('†', 556), ('‡', 556), ('•', 350), ('…', 1000),
    ('‰', 1000), ('\u{2039}', 333), ('\u{203a}', 333), ('€', 556), ('™', 1000),
];

/// Every Courier glyph is 600 thousandths of an em wide.
const COURIER_WIDTH: u16 = 600;

/// Written in place of a character the standard fonts cannot show, as printpdf does.
const REPLACEMENT: char = '?';

const ELLIPSIS: char = '…';

/// A standard PDF font used on labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Detail lines.
    Helvetica,
    /// The code: bold monospace.
    CourierBold,
}

impl Face {
    pub fn builtin(self) -> BuiltinFont {
        match self {
            Face::Helvetica => BuiltinFont::Helvetica,
            Face::CourierBold => BuiltinFont::CourierBold,
        }
    }

    /// How wide `text` prints at `size_pt`, in points. Measure `printable` text.
    pub fn text_width_pt(self, text: &str, size_pt: f32) -> f32 {
        let thousandths: u32 = text.chars().map(|c| u32::from(self.glyph_width(c))).sum();
        thousandths as f32 * size_pt / 1000.0
    }

    fn glyph_width(self, c: char) -> u16 {
        match self {
            Face::CourierBold => COURIER_WIDTH,
            Face::Helvetica => helvetica_width(c)
                .or_else(|| helvetica_width(REPLACEMENT))
                .unwrap_or(COURIER_WIDTH),
        }
    }
}

fn helvetica_width(c: char) -> Option<u16> {
    HELVETICA_WIDTHS
        .binary_search_by_key(&c, |&(known, _)| known)
        .ok()
        .map(|i| HELVETICA_WIDTHS[i].1)
}

/// What the standard fonts can show of `text`: a character outside their WinAnsi encoding
/// becomes `?` (as printpdf would write it, so that measuring agrees with printing), and
/// tabs and line breaks become spaces. French accents, `€`, `–` and `…` are kept.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_whitespace() => ' ',
            c if helvetica_width(c).is_some() => c,
            _ => REPLACEMENT,
        })
        .collect()
}

/// `text` if it fits in `max_width_pt`, else as much of it as fits followed by `…`
/// (nothing when not even that fits).
pub fn truncate_to_width(face: Face, text: &str, size_pt: f32, max_width_pt: f32) -> String {
    truncate_by_width(text, max_width_pt, |c| {
        f32::from(face.glyph_width(c)) * size_pt / 1000.0
    })
}

/// `text` if it fits in `max_width_pt`, else as much of it as fits followed by `…`
/// (nothing when not even that fits), in any font: `char_width_pt` measures one character.
pub fn truncate_by_width(
    text: &str,
    max_width_pt: f32,
    char_width_pt: impl Fn(char) -> f32,
) -> String {
    if text.chars().map(&char_width_pt).sum::<f32>() <= max_width_pt {
        return text.to_string();
    }
    let budget_pt = max_width_pt - char_width_pt(ELLIPSIS);
    if budget_pt < 0.0 {
        return String::new();
    }
    let mut kept_pt = 0.0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        kept_pt += char_width_pt(c);
        if kept_pt > budget_pt {
            break;
        }
        end = i + c.len_utf8();
    }
    format!("{}{ELLIPSIS}", text[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_table_is_sorted_and_complete() {
        assert!(HELVETICA_WIDTHS.windows(2).all(|w| w[0].0 < w[1].0));
        // 95 ASCII, 96 Latin-1 and 27 typographic characters.
        assert_eq!(HELVETICA_WIDTHS.len(), 218);
    }

    #[test]
    fn helvetica_widths_are_the_standard_ones() {
        assert_eq!(Face::Helvetica.text_width_pt("A", 1000.0), 667.0);
        assert_eq!(Face::Helvetica.text_width_pt("i", 1000.0), 222.0);
        assert_eq!(Face::Helvetica.text_width_pt("é", 10.0), 5.56);
        assert_eq!(Face::CourierBold.text_width_pt("IT-7K3M9QX4A", 10.0), 72.0);
    }

    #[test]
    fn accents_survive_and_the_rest_becomes_a_question_mark() {
        assert_eq!(
            printable("Écran déposé à 12,5 kg – 3 €…"),
            "Écran déposé à 12,5 kg – 3 €…"
        );
        assert_eq!(printable("Cuivre\tnu\n"), "Cuivre nu ");
        assert_eq!(printable("铜 ŝ"), "? ?");
    }

    #[test]
    fn a_long_text_is_cut_with_an_ellipsis_to_fit() {
        let text = "Unité centrale, boîtier métal, carte mère et alimentation";
        let max_width_pt = 60.0;
        let cut = truncate_to_width(Face::Helvetica, text, 8.0, max_width_pt);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(text.starts_with(cut.trim_end_matches('…')), "{cut}");
        assert!(Face::Helvetica.text_width_pt(&cut, 8.0) <= max_width_pt);
        // Not cut more than needed: within two ems of the limit.
        assert!(Face::Helvetica.text_width_pt(&cut, 8.0) > max_width_pt - 2.0 * 8.0);

        assert_eq!(
            truncate_to_width(Face::Helvetica, "Cuivre", 8.0, 60.0),
            "Cuivre"
        );
        assert_eq!(truncate_to_width(Face::Helvetica, "Cuivre", 8.0, 1.0), "");
    }
}
