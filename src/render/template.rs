//! Label templates: sheet and roll layouts read from `labels/*.toml`, checked when loaded.

use std::path::Path;

use serde::Deserialize;

/// The shipped templates, embedded so the workshop binary runs without the repository.
const SHIPPED: [(&str, &str); 4] = [
    ("L7160.toml", include_str!("../../labels/L7160.toml")),
    ("L7163.toml", include_str!("../../labels/L7163.toml")),
    ("L7651.toml", include_str!("../../labels/L7651.toml")),
    ("roll62.toml", include_str!("../../labels/roll62.toml")),
];

/// How far (mm) a computed extent may pass a limit before it counts: absorbs float rounding.
const TOLERANCE_MM: f32 = 0.01;

/// Why a template could not be loaded or found.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read label templates from {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, a missing or unknown key, or a value of the wrong type: the message names
    /// the key and its line.
    #[error("label template {file}: {source}")]
    Parse {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("label template {file}: {field}: {reason}")]
    Invalid {
        file: String,
        field: &'static str,
        reason: String,
    },
    #[error("label templates {first} and {second} are both named “{name}”")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    #[error("unknown label template “{name}” (known: {})", known.join(", "))]
    Unknown { name: String, known: Vec<String> },
}

/// A label layout: where labels sit on a page and what they show. Sizes in millimetres,
/// positions from the page's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Looked up case-insensitively: `L7160`, `roll62`.
    pub name: String,
    pub description: String,
    /// Where the template was read from (a file name), for error messages.
    pub source: String,
    pub media: Media,
    pub label: LabelShape,
    pub grid: Grid,
    /// What prints beside the QR code, which always prints.
    pub fields: Vec<Field>,
}

/// What the printer is fed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Media {
    /// Cut sheets such as A4: every page holds `grid.columns × grid.rows` labels.
    Sheet { width_mm: f32, height_mm: f32 },
    /// A continuous roll cut after each page of `label_length_mm`.
    Roll { width_mm: f32, label_length_mm: f32 },
}

impl Media {
    /// The PDF page size: (width, height) in mm.
    pub fn page_size_mm(&self) -> (f32, f32) {
        match *self {
            Media::Sheet {
                width_mm,
                height_mm,
            } => (width_mm, height_mm),
            Media::Roll {
                width_mm,
                label_length_mm,
            } => (width_mm, label_length_mm),
        }
    }
}

/// One label's outline.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelShape {
    pub width_mm: f32,
    pub height_mm: f32,
    /// Rounds the corners of the optional cut borders.
    pub corner_radius_mm: f32,
    /// Nothing dark is printed closer than this to the label's edge.
    pub inner_margin_mm: f32,
}

/// Where the labels sit on a page, filled row by row from the top left.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    pub columns: u32,
    pub rows: u32,
    /// From the page's left edge to the first column's left edge.
    pub left_mm: f32,
    /// From the page's top edge to the first row's top edge.
    pub top_mm: f32,
    /// From one column's left edge to the next one's.
    pub horizontal_pitch_mm: f32,
    /// From one row's top edge to the next one's.
    pub vertical_pitch_mm: f32,
}

/// What can print beside the QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The code in bold monospace.
    Code,
    /// The detail lines (kind, material, mass, date).
    Lines,
}

/// The TOML file as written; `Template` is what it means once checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    name: String,
    description: String,
    fields: Vec<Field>,
    page: Option<PageSize>,
    roll: Option<RollSize>,
    label: LabelShape,
    grid: Grid,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSize {
    width_mm: f32,
    height_mm: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollSize {
    width_mm: f32,
    label_length_mm: f32,
}

impl Template {
    /// Reads and checks a template; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Template, TemplateError> {
        let parsed: TemplateFile = toml::from_str(text).map_err(|source| TemplateError::Parse {
            file: file.to_string(),
            source,
        })?;
        let invalid = |field: &'static str, reason: &str| TemplateError::Invalid {
            file: file.to_string(),
            field,
            reason: reason.to_string(),
        };
        let media = match (parsed.page, parsed.roll) {
            (Some(page), None) => Media::Sheet {
                width_mm: page.width_mm,
                height_mm: page.height_mm,
            },
            (None, Some(roll)) => Media::Roll {
                width_mm: roll.width_mm,
                label_length_mm: roll.label_length_mm,
            },
            (Some(_), Some(_)) => {
                return Err(invalid("page", "give either [page] or [roll], not both"));
            }
            (None, None) => {
                return Err(invalid("page", "missing: give [page] (sheets) or [roll]"));
            }
        };
        let template = Template {
            name: parsed.name,
            description: parsed.description,
            source: file.to_string(),
            media,
            label: parsed.label,
            grid: parsed.grid,
            fields: parsed.fields,
        };
        template.check()?;
        Ok(template)
    }

    /// Refuses a layout that cannot print: empty sizes, overlapping labels, labels off the page.
    /// Loading calls it; rendering calls it again for templates built in code.
    pub fn check(&self) -> Result<(), TemplateError> {
        let invalid = |field: &'static str, reason: String| TemplateError::Invalid {
            file: self.source.clone(),
            field,
            reason,
        };
        let positive = |field: &'static str, value_mm: f32| {
            if value_mm.is_finite() && value_mm > 0.0 {
                Ok(())
            } else {
                Err(invalid(
                    field,
                    format!("must be more than 0 mm, not {value_mm}"),
                ))
            }
        };
        let not_negative = |field: &'static str, value_mm: f32| {
            if value_mm.is_finite() && value_mm >= 0.0 {
                Ok(())
            } else {
                Err(invalid(
                    field,
                    format!("must be 0 mm or more, not {value_mm}"),
                ))
            }
        };

        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "name",
                format!(
                    "“{}” must be letters, digits, ‘-’ or ‘_’, and not empty",
                    self.name
                ),
            ));
        }
        if self.description.trim().is_empty() {
            return Err(invalid("description", "must not be empty".into()));
        }
        for (i, field) in self.fields.iter().enumerate() {
            if self.fields[..i].contains(field) {
                return Err(invalid("fields", format!("{field:?} is listed twice")));
            }
        }

        let (page_width_mm, page_height_mm) = self.media.page_size_mm();
        match self.media {
            Media::Sheet { .. } => {
                positive("page.width_mm", page_width_mm)?;
                positive("page.height_mm", page_height_mm)?;
            }
            Media::Roll { .. } => {
                positive("roll.width_mm", page_width_mm)?;
                positive("roll.label_length_mm", page_height_mm)?;
            }
        }
        let label = &self.label;
        positive("label.width_mm", label.width_mm)?;
        positive("label.height_mm", label.height_mm)?;
        not_negative("label.corner_radius_mm", label.corner_radius_mm)?;
        not_negative("label.inner_margin_mm", label.inner_margin_mm)?;
        let shorter_side_mm = label.width_mm.min(label.height_mm);
        if label.corner_radius_mm > shorter_side_mm / 2.0 {
            return Err(invalid(
                "label.corner_radius_mm",
                format!(
                    "{} mm is more than half the label's shorter side ({shorter_side_mm} mm)",
                    label.corner_radius_mm
                ),
            ));
        }
        if 2.0 * label.inner_margin_mm >= shorter_side_mm {
            return Err(invalid(
                "label.inner_margin_mm",
                format!(
                    "{} mm on each side leaves nothing of a {} × {} mm label",
                    label.inner_margin_mm, label.width_mm, label.height_mm
                ),
            ));
        }

        let grid = &self.grid;
        if grid.columns == 0 {
            return Err(invalid("grid.columns", "must be 1 or more, not 0".into()));
        }
        if grid.rows == 0 {
            return Err(invalid("grid.rows", "must be 1 or more, not 0".into()));
        }
        not_negative("grid.left_mm", grid.left_mm)?;
        not_negative("grid.top_mm", grid.top_mm)?;
        positive("grid.horizontal_pitch_mm", grid.horizontal_pitch_mm)?;
        positive("grid.vertical_pitch_mm", grid.vertical_pitch_mm)?;
        if grid.horizontal_pitch_mm + TOLERANCE_MM < label.width_mm {
            return Err(invalid(
                "grid.horizontal_pitch_mm",
                format!(
                    "labels overlap: the pitch ({} mm) is less than the label width ({} mm)",
                    grid.horizontal_pitch_mm, label.width_mm
                ),
            ));
        }
        if grid.vertical_pitch_mm + TOLERANCE_MM < label.height_mm {
            return Err(invalid(
                "grid.vertical_pitch_mm",
                format!(
                    "labels overlap: the pitch ({} mm) is less than the label height ({} mm)",
                    grid.vertical_pitch_mm, label.height_mm
                ),
            ));
        }
        let right_mm =
            grid.left_mm + (grid.columns - 1) as f32 * grid.horizontal_pitch_mm + label.width_mm;
        if right_mm > page_width_mm + TOLERANCE_MM {
            return Err(invalid(
                "grid.columns",
                format!(
                    "the last column ends {right_mm:.2} mm from the left edge, \
                     off the {page_width_mm} mm wide page"
                ),
            ));
        }
        let bottom_mm =
            grid.top_mm + (grid.rows - 1) as f32 * grid.vertical_pitch_mm + label.height_mm;
        if bottom_mm > page_height_mm + TOLERANCE_MM {
            return Err(invalid(
                "grid.rows",
                format!(
                    "the last row ends {bottom_mm:.2} mm from the top edge, \
                     off the {page_height_mm} mm high page"
                ),
            ));
        }
        Ok(())
    }

    /// Labels on one page.
    pub fn labels_per_page(&self) -> usize {
        self.grid.columns as usize * self.grid.rows as usize
    }

    pub fn prints(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }
}

/// Reads every `*.toml` in `dir` as a template, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Template>, TemplateError> {
    let read_error = |source| TemplateError::Read {
        file: dir.display().to_string(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let is_toml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        if is_toml && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();

    let mut templates: Vec<Template> = Vec::with_capacity(paths.len());
    for path in paths {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
            file: file.clone(),
            source,
        })?;
        let template = Template::parse(&file, &text)?;
        if let Some(first) = templates
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&template.name))
        {
            return Err(TemplateError::Duplicate {
                name: template.name,
                first: first.source.clone(),
                second: file,
            });
        }
        templates.push(template);
    }
    Ok(templates)
}

/// The templates a workshop can print with, looked up by name.
#[derive(Debug, Clone)]
pub struct Templates {
    templates: Vec<Template>,
}

impl Templates {
    /// The templates shipped in `labels/`, embedded in the binary.
    pub fn shipped() -> Result<Templates, TemplateError> {
        let templates = SHIPPED
            .iter()
            .map(|(file, text)| Template::parse(file, text))
            .collect::<Result<_, _>>()?;
        Ok(Templates { templates })
    }

    /// Adds the templates in `dir`; one named like a shipped template replaces it, so a
    /// workshop can adjust a layout to its printer without a new build.
    pub fn with_dir(mut self, dir: &Path) -> Result<Templates, TemplateError> {
        for template in load_dir(dir)? {
            self.templates
                .retain(|known| !known.name.eq_ignore_ascii_case(&template.name));
            self.templates.push(template);
        }
        Ok(self)
    }

    /// The template of that name, whatever its case.
    pub fn get(&self, name: &str) -> Result<&Template, TemplateError> {
        let name = name.trim();
        self.templates
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| TemplateError::Unknown {
                name: name.to_string(),
                known: self.names().into_iter().map(str::to_string).collect(),
            })
    }

    /// Every template's name, in loading order.
    pub fn names(&self) -> Vec<&str> {
        self.templates.iter().map(|t| t.name.as_str()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Template> {
        self.templates.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l7160_text() -> &'static str {
        SHIPPED[0].1
    }

    /// The L7160 file with its first `key = …` line replaced by `replacement`.
    fn l7160_with(key: &str, replacement: &str) -> String {
        let mut replaced = false;
        let text = l7160_text()
            .lines()
            .map(|line| {
                if !replaced && line.starts_with(&format!("{key} =")) {
                    replaced = true;
                    replacement.to_string()
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(replaced, "no line starts with {key}");
        text
    }

    fn refusal(text: &str) -> TemplateError {
        Template::parse("test.toml", text).expect_err("the template should be refused")
    }

    fn assert_invalid(text: &str, expected_field: &str, reason_part: &str) {
        match refusal(text) {
            TemplateError::Invalid {
                file,
                field,
                reason,
            } => {
                assert_eq!(file, "test.toml");
                assert_eq!(field, expected_field, "{reason}");
                assert!(reason.contains(reason_part), "{reason}");
            }
            other => panic!("expected an Invalid error on {expected_field}, got {other}"),
        }
    }

    #[test]
    fn every_shipped_template_loads() {
        let templates = Templates::shipped().unwrap();
        assert_eq!(templates.names(), ["L7160", "L7163", "L7651", "roll62"]);
        let l7160 = templates.get("L7160").unwrap();
        assert_eq!(l7160.labels_per_page(), 21);
        assert_eq!(l7160.media.page_size_mm(), (210.0, 297.0));
        assert_eq!(l7160.label.width_mm, 63.5);
        assert_eq!(l7160.grid.horizontal_pitch_mm, 66.04);
        assert_eq!(templates.get("L7163").unwrap().labels_per_page(), 14);
        assert_eq!(templates.get("L7651").unwrap().labels_per_page(), 65);
        let roll = templates.get("roll62").unwrap();
        assert_eq!(roll.labels_per_page(), 1);
        assert_eq!(roll.media.page_size_mm(), (62.0, 29.0));
        assert!(templates.iter().all(|t| !t.description.is_empty()));
    }

    #[test]
    fn templates_are_found_whatever_the_case() {
        let templates = Templates::shipped().unwrap();
        for name in ["L7160", "l7160", " l7160 "] {
            assert_eq!(templates.get(name).unwrap().name, "L7160");
        }
        assert_eq!(templates.get("ROLL62").unwrap().name, "roll62");
    }

    #[test]
    fn an_unknown_template_name_lists_the_known_ones() {
        let templates = Templates::shipped().unwrap();
        let error = templates.get("L9999").unwrap_err();
        assert!(matches!(error, TemplateError::Unknown { .. }));
        assert_eq!(
            error.to_string(),
            "unknown label template “L9999” (known: L7160, L7163, L7651, roll62)"
        );
    }

    #[test]
    fn whole_numbers_are_accepted_as_millimetres() {
        let text = l7160_with("width_mm", "width_mm = 210");
        let template = Template::parse("test.toml", &text).unwrap();
        assert_eq!(template.media.page_size_mm().0, 210.0);
    }

    #[test]
    fn a_zero_or_negative_size_is_refused() {
        assert_invalid(
            &l7160_with("height_mm", "height_mm = 0"),
            "page.height_mm",
            "more than 0 mm",
        );
        let text = l7160_text().replace("width_mm = 63.5", "width_mm = -63.5");
        assert_invalid(&text, "label.width_mm", "more than 0 mm");
        assert_invalid(
            &l7160_with("vertical_pitch_mm", "vertical_pitch_mm = 0.0"),
            "grid.vertical_pitch_mm",
            "more than 0 mm",
        );
        assert_invalid(
            &l7160_with("left_mm", "left_mm = -1.0"),
            "grid.left_mm",
            "0 mm or more",
        );
        assert_invalid(&l7160_with("rows", "rows = 0"), "grid.rows", "1 or more");
        assert_invalid(
            &l7160_with("inner_margin_mm", "inner_margin_mm = 20.0"),
            "label.inner_margin_mm",
            "leaves nothing",
        );
        assert_invalid(
            &l7160_with("corner_radius_mm", "corner_radius_mm = 30.0"),
            "label.corner_radius_mm",
            "more than half",
        );
    }

    #[test]
    fn a_negative_count_is_refused_by_its_type() {
        let error = refusal(&l7160_with("columns", "columns = -3"));
        assert!(matches!(error, TemplateError::Parse { .. }));
        assert!(error.to_string().contains("test.toml"), "{error}");
        assert!(error.to_string().contains("columns"), "{error}");
    }

    #[test]
    fn overlapping_labels_are_refused() {
        assert_invalid(
            &l7160_with("horizontal_pitch_mm", "horizontal_pitch_mm = 60.0"),
            "grid.horizontal_pitch_mm",
            "labels overlap",
        );
        assert_invalid(
            &l7160_with("vertical_pitch_mm", "vertical_pitch_mm = 30.0"),
            "grid.vertical_pitch_mm",
            "labels overlap",
        );
    }

    #[test]
    fn labels_falling_off_the_page_are_refused() {
        assert_invalid(
            &l7160_with("columns", "columns = 4"),
            "grid.columns",
            "off the 210 mm wide page",
        );
        assert_invalid(
            &l7160_with("top_mm", "top_mm = 40.0"),
            "grid.rows",
            "off the 297 mm high page",
        );
    }

    #[test]
    fn an_unknown_key_is_refused_naming_it() {
        let text = l7160_text().replace("rows = 7", "rows = 7\nrow_gap_mm = 1.0");
        let error = refusal(&text);
        assert!(matches!(error, TemplateError::Parse { .. }));
        let message = error.to_string();
        assert!(message.contains("test.toml"), "{message}");
        assert!(message.contains("unknown field `row_gap_mm`"), "{message}");

        let error = refusal(&format!("{}\ncolour = \"red\"", l7160_text()));
        assert!(error.to_string().contains("colour"), "{error}");
    }

    #[test]
    fn an_unknown_field_name_is_refused() {
        let text = l7160_with("fields", r#"fields = ["code", "mass"]"#);
        let message = refusal(&text).to_string();
        assert!(message.contains("test.toml"), "{message}");
        assert!(message.contains("unknown variant `mass`"), "{message}");
        assert!(message.contains("`code`"), "{message}");
    }

    #[test]
    fn a_field_listed_twice_is_refused() {
        let text = l7160_with("fields", r#"fields = ["code", "code"]"#);
        assert_invalid(&text, "fields", "listed twice");
    }

    #[test]
    fn a_missing_key_is_refused_naming_it() {
        let text = l7160_with("corner_radius_mm", "");
        let message = refusal(&text).to_string();
        assert!(message.contains("corner_radius_mm"), "{message}");
    }

    #[test]
    fn page_and_roll_exclude_each_other() {
        let both = format!(
            "{}\n[roll]\nwidth_mm = 62.0\nlabel_length_mm = 29.0\n",
            l7160_text()
        );
        assert_invalid(&both, "page", "not both");
        let neither = l7160_text().replace("[page]\nwidth_mm = 210.0\nheight_mm = 297.0\n", "");
        assert_invalid(&neither, "page", "missing");
    }

    #[test]
    fn a_bad_name_is_refused() {
        assert_invalid(
            &l7160_with("name", r#"name = "A4 sheet""#),
            "name",
            "letters",
        );
    }

    #[test]
    fn a_directory_adds_and_replaces_templates() {
        let dir = tempfile::tempdir().unwrap();
        let custom = l7160_with("name", r#"name = "L7160-shifted""#);
        std::fs::write(dir.path().join("shifted.toml"), custom).unwrap();
        let replacing = l7160_with("top_mm", "top_mm = 14.0");
        std::fs::write(dir.path().join("L7160.toml"), replacing).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a template").unwrap();

        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.len(), 2);
        let templates = Templates::shipped().unwrap().with_dir(dir.path()).unwrap();
        assert_eq!(templates.get("l7160").unwrap().grid.top_mm, 14.0);
        assert!(
            templates
                .get("L7160")
                .unwrap()
                .source
                .ends_with("L7160.toml")
        );
        assert_eq!(templates.get("l7160-SHIFTED").unwrap().grid.top_mm, 15.15);
        assert_eq!(templates.names().len(), 5);
    }

    #[test]
    fn a_bad_file_in_a_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.toml");
        std::fs::write(&path, l7160_with("columns", "columns = 4")).unwrap();
        let message = load_dir(dir.path()).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("grid.columns"), "{message}");
    }

    #[test]
    fn two_files_with_one_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), l7160_text()).unwrap();
        std::fs::write(
            dir.path().join("b.toml"),
            l7160_with("name", r#"name = "l7160""#),
        )
        .unwrap();
        assert!(matches!(
            load_dir(dir.path()),
            Err(TemplateError::Duplicate { .. })
        ));
    }

    #[test]
    fn a_missing_directory_is_a_read_error() {
        let error = load_dir(Path::new("/nonexistent/greenchip-labels")).unwrap_err();
        assert!(matches!(error, TemplateError::Read { .. }));
        assert!(error.to_string().contains("/nonexistent/greenchip-labels"));
    }

    mod hostile {
        use super::*;
        use proptest::prelude::*;

        /// A value a hand-edited layout file might hold for any key.
        fn any_toml_value() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<f32>().prop_map(|v| format!("{v:?}")),
                any::<i64>().prop_map(|v| v.to_string()),
                any::<u32>().prop_map(|v| v.to_string()),
                prop::sample::select(vec![
                    "nan",
                    "inf",
                    "-inf",
                    "-0.0",
                    "0",
                    "1e39",
                    "-1e39",
                    "1e-45",
                    "4294967296",
                    "true",
                    "[]",
                    "{}",
                    "\"\"",
                    "\"L7160\"",
                    "[\"code\", \"code\"]",
                    "[\"qr\"]",
                    "\"\u{202e}\"",
                ])
                .prop_map(str::to_string),
                ".{0,20}",
            ]
        }

        /// A loaded layout that passed its checks prints inside its page.
        fn fits(template: &Template) -> bool {
            let (width_mm, height_mm) = template.media.page_size_mm();
            let grid = &template.grid;
            let right = grid.left_mm
                + (grid.columns - 1) as f32 * grid.horizontal_pitch_mm
                + template.label.width_mm;
            let bottom = grid.top_mm
                + (grid.rows - 1) as f32 * grid.vertical_pitch_mm
                + template.label.height_mm;
            template.check().is_ok()
                && right <= width_mm + TOLERANCE_MM
                && bottom <= height_mm + TOLERANCE_MM
                && template.labels_per_page() >= 1
        }

        proptest! {
            /// Arbitrary text: an error naming the file, never a panic.
            #[test]
            fn arbitrary_text_never_panics(text in ".{0,300}") {
                match Template::parse("fuzz.toml", &text) {
                    Ok(template) => prop_assert!(fits(&template)),
                    Err(error) => prop_assert!(error.to_string().contains("fuzz.toml")),
                }
            }

            /// A shipped layout with one line changed to any value (or dropped, or doubled).
            #[test]
            fn a_shipped_layout_with_one_line_changed_loads_or_is_refused(
                shipped in 0..SHIPPED.len(), line in 0..40usize, value in any_toml_value(), how in 0..3u8
            ) {
                let lines: Vec<&str> = SHIPPED[shipped].1.lines().collect();
                let line = line % lines.len();
                let changed: Vec<String> = lines
                    .iter()
                    .enumerate()
                    .filter_map(|(i, text)| match (i == line, how) {
                        (false, _) => Some(text.to_string()),
                        (true, 0) => Some(match text.split_once(" = ") {
                            Some((key, _)) => format!("{key} = {value}"),
                            None => format!("{text}{value}"),
                        }),
                        (true, 1) => None,
                        (true, _) => Some(format!("{text}\n{text}")),
                    })
                    .collect();
                match Template::parse("fuzz.toml", &changed.join("\n")) {
                    Ok(template) => prop_assert!(fits(&template), "{template:?}"),
                    Err(error) => prop_assert!(error.to_string().contains("fuzz.toml")),
                }
            }

            /// Arbitrary bytes in a layouts folder: a read or parse error, never a panic.
            #[test]
            fn arbitrary_bytes_in_a_layout_file_are_an_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                let dir = tempfile::tempdir().unwrap();
                std::fs::write(dir.path().join("fuzz.toml"), &bytes).unwrap();
                match load_dir(dir.path()) {
                    Ok(templates) => prop_assert!(templates.iter().all(fits)),
                    Err(error) => prop_assert!(error.to_string().contains("fuzz.toml")),
                }
            }
        }
    }
}
