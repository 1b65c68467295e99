//! What a label's QR code holds, and the module matrix the renderer draws.

use qrcode::{Color, EcLevel, QrCode};

use crate::domain::codes::Code;

/// Light modules a reader needs around the symbol (ISO/IEC 18004).
pub const QUIET_ZONE_MODULES: usize = 4;

/// Level M recovers about 15 % of the symbol: enough for scuffed labels on equipment,
/// while a code with a public URL still fits a 29 × 29 symbol.
pub const ERROR_CORRECTION: EcLevel = EcLevel::M;

/// The text a label's QR code holds: `PUBLIC_URL/S/<CODE>` in upper case when a public URL
/// is configured, so that a phone camera opens the item's page, else the bare code.
///
/// Upper case keeps every character in the QR alphanumeric set, which makes the symbol
/// smaller; the server answers `/S/<code>` and `/s/<code>` alike and host names ignore
/// case. A public URL with a path prefix is upper-cased too, so the server (or proxy) in
/// front of greenchip must accept that prefix in upper case.
pub fn qr_content(code: &Code, public_url: Option<&str>) -> String {
    match public_url.map(str::trim).filter(|url| !url.is_empty()) {
        Some(base) => format!("{}/S/{}", base.trim_end_matches('/'), code).to_uppercase(),
        None => code.to_string(),
    }
}

/// A QR symbol's modules, without its quiet zone: `true` is dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width_modules: usize,
    dark: Vec<bool>,
}

/// Dark modules next to each other on one row, drawn as one rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleRun {
    pub row: usize,
    pub first_column: usize,
    pub length_modules: usize,
}

impl QrMatrix {
    /// Encodes `content` at level M in the smallest version that holds it.
    pub fn encode(content: &str) -> Result<QrMatrix, qrcode::types::QrError> {
        let symbol = QrCode::with_error_correction_level(content, ERROR_CORRECTION)?;
        Ok(QrMatrix {
            width_modules: symbol.width(),
            dark: symbol
                .into_colors()
                .into_iter()
                .map(|color| color == Color::Dark)
                .collect(),
        })
    }

    /// Modules on a side: 21 for version 1, 4 more per version.
    pub fn width_modules(&self) -> usize {
        self.width_modules
    }

    /// Whether the module at (column, row) is dark; outside the symbol is light.
    pub fn is_dark(&self, column: usize, row: usize) -> bool {
        column < self.width_modules
            && row < self.width_modules
            && self.dark[row * self.width_modules + column]
    }

    /// Every horizontal run of dark modules, row by row: one rectangle each keeps the PDF
    /// small (a version 2 symbol has about 150 runs for 300 dark modules).
    pub fn dark_runs(&self) -> Vec<ModuleRun> {
        let mut runs = Vec::new();
        for (row, modules) in self.dark.chunks(self.width_modules).enumerate() {
            let mut column = 0;
            while column < modules.len() {
                if !modules[column] {
                    column += 1;
                    continue;
                }
                let first_column = column;
                while column < modules.len() && modules[column] {
                    column += 1;
                }
                runs.push(ModuleRun {
                    row,
                    first_column,
                    length_modules: column - first_column,
                });
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> Code {
        super::super::tests::sample_codes(1).remove(0)
    }

    fn decode(matrix: &QrMatrix) -> String {
        let grid = rqrr::SimpleGrid::from_func(matrix.width_modules(), |x, y| matrix.is_dark(x, y));
        rqrr::Grid::new(grid).decode().unwrap().1
    }

    #[test]
    fn without_a_public_url_the_qr_holds_the_bare_code() {
        let code = code();
        assert_eq!(qr_content(&code, None), code.to_string());
        assert_eq!(qr_content(&code, Some("  ")), code.to_string());
    }

    #[test]
    fn with_a_public_url_the_qr_holds_the_upper_case_scan_url() {
        let code = code();
        let expected = format!("HTTPS://GC.EXAMPLE.ORG/S/{code}");
        assert_eq!(qr_content(&code, Some("https://gc.example.org")), expected);
        assert_eq!(qr_content(&code, Some("https://gc.example.org/")), expected);
        assert_eq!(
            qr_content(&code, Some("https://GC.example.org//")),
            expected
        );
        assert_eq!(
            Code::from_scan(&qr_content(&code, Some("http://10.0.0.5:8080"))),
            Ok(code)
        );
    }

    #[test]
    fn the_content_stays_in_the_alphanumeric_set_and_the_symbol_small() {
        let code = code();
        let bare = QrMatrix::encode(&qr_content(&code, None)).unwrap();
        assert_eq!(bare.width_modules(), 21, "version 1");
        let url = qr_content(&code, Some("https://greenchip.example.org"));
        assert!(
            url.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || " $%*+-./:".contains(c)),
            "{url}"
        );
        let with_url = QrMatrix::encode(&url).unwrap();
        // 43 alphanumeric characters fit version 3 at level M; bytes would need version 4.
        assert_eq!(with_url.width_modules(), 29, "version 3");
    }

    #[test]
    fn the_matrix_decodes_to_its_content() {
        let code = code();
        for content in [
            qr_content(&code, None),
            qr_content(&code, Some("https://gc.example.org")),
        ] {
            let matrix = QrMatrix::encode(&content).unwrap();
            assert_eq!(decode(&matrix), content);
        }
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let matrix = QrMatrix::encode("IT-7K3M9QX4A").unwrap();
        let width = matrix.width_modules();
        let mut covered = vec![false; width * width];
        for run in matrix.dark_runs() {
            assert!(run.length_modules > 0);
            for column in run.first_column..run.first_column + run.length_modules {
                assert!(!covered[run.row * width + column], "runs overlap");
                covered[run.row * width + column] = true;
            }
            // A run is maximal: the modules on either side are light.
            assert!(run.first_column == 0 || !matrix.is_dark(run.first_column - 1, run.row));
            assert!(!matrix.is_dark(run.first_column + run.length_modules, run.row));
        }
        for row in 0..width {
            for column in 0..width {
                assert_eq!(covered[row * width + column], matrix.is_dark(column, row));
            }
        }
        assert!(!matrix.is_dark(width, 0));
    }
}
