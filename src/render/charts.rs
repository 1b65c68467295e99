//! Report charts as SVG, drawn with plotters on the server: bars for quantities by
//! category, a line with markers for a rate over time. Black, grey and white only, with
//! labelled axes and units, so they read the same on a black-and-white printout.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const SIZE: (u32, u32) = (720, 340);

#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(String);

fn failed(error: impl std::fmt::Display) -> ChartError {
    ChartError(error.to_string())
}

/// The category axis: one segment per category (plotters' segmented range has one more
/// segment than the range's end, so the range stops one short).
fn categories(count: usize) -> std::ops::Range<usize> {
    0..count.saturating_sub(1).max(1)
}

/// The top of the value axis: a little above the largest value, never zero.
fn axis_top(values: &[f64]) -> f64 {
    let largest = values.iter().copied().fold(0.0, f64::max);
    if largest <= 0.0 { 1.0 } else { largest * 1.15 }
}

/// One bar per category; `unit` labels the value axis (e.g. "kg").
pub fn bars(title: &str, unit: &str, data: &[(String, f64)]) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let values: Vec<f64> = data.iter().map(|(_, v)| *v).collect();
        let count = data.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(categories(count).into_segmented(), 0.0..axis_top(&values))
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.15))
            .y_desc(unit)
            .x_labels(count)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(index) => data
                    .get(*index)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(BLACK.mix(0.55).filled())
                    .margin(10)
                    .data(
                        values
                            .iter()
                            .enumerate()
                            .map(|(index, value)| (index, *value)),
                    ),
            )
            .map_err(failed)?;
        // The value on each bar, so the figure reads without the axis.
        let style = TextStyle::from(("sans-serif", 11).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, value)| **value > 0.0)
                    .map(|(index, value)| {
                        Text::new(
                            format_value(*value),
                            (SegmentValue::CenterOf(index), *value),
                            style.clone(),
                        )
                    }),
            )
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// A rate over time as a line with a marker at each point; `unit` labels the value axis
/// (e.g. "%"), which runs from zero to `top`.
pub fn line(
    title: &str,
    unit: &str,
    top: f64,
    data: &[(String, f64)],
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let count = data.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(categories(count).into_segmented(), 0.0..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.15))
            .y_desc(unit)
            .x_labels(count)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(index) => data
                    .get(*index)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(failed)?;
        let points: Vec<(SegmentValue<usize>, f64)> = data
            .iter()
            .enumerate()
            .map(|(index, (_, value))| (SegmentValue::CenterOf(index), *value))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), BLACK.stroke_width(2)))
            .map_err(failed)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|point| Circle::new(point.clone(), 4, BLACK.filled())),
            )
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

fn format_value(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_have_their_title_unit_labels_and_values() {
        let svg = bars(
            "Intake per month",
            "kg",
            &[("2026-10".into(), 1_234.5), ("2026-11".into(), 980.0)],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "Intake per month",
            "kg",
            "2026-10",
            "2026-11",
            "1234",
            "980",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
    }

    #[test]
    fn a_line_has_a_marker_per_point_and_an_empty_chart_still_draws() {
        let svg = line(
            "Melt yield",
            "%",
            100.0,
            &[
                ("MT-1".into(), 96.5),
                ("MT-2".into(), 94.0),
                ("MT-3".into(), 97.1),
            ],
        )
        .unwrap();
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("Melt yield") && svg.contains("MT-3"));
        assert!(
            bars("Nothing yet", "kg", &[])
                .unwrap()
                .contains("Nothing yet")
        );
    }
}
