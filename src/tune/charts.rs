//! Precision–recall and ROC charts as SVG (plotters), one line per tuned attribute with the
//! chosen threshold marked, so a moderator can see the trade-off the threshold sits on.
//! Attributes whose curve is undefined (no positives; for ROC also no negatives) are left out.

use std::path::Path;

use plotters::prelude::*;

use super::report::OutputError;
use super::AttributeResult;

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(90, 90, 90),
];

/// Which chart to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Precision (y) against recall (x).
    PrecisionRecall,
    /// True-positive rate (y) against false-positive rate (x).
    Roc,
}

/// One line: the attribute's points and its chosen point.
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
    chosen: Option<(f64, f64)>,
}

fn series(chart: Chart, results: &[AttributeResult]) -> Vec<Series> {
    let mut out = Vec::new();
    for r in results {
        let xy = |p: &super::metrics::Point| match chart {
            Chart::PrecisionRecall => Some((p.recall()?, p.precision()?)),
            Chart::Roc => Some((p.fpr()?, p.recall()?)),
        };
        let defined = match chart {
            Chart::PrecisionRecall => r.average_precision.is_some(),
            Chart::Roc => r.roc_auc.is_some(),
        };
        if !defined {
            continue;
        }
        let mut points: Vec<(f64, f64)> = r.curve.iter().filter_map(xy).collect();
        let name = match chart {
            Chart::PrecisionRecall => format!(
                "{} (AP {:.2})",
                r.attribute,
                r.average_precision.unwrap_or(0.0)
            ),
            Chart::Roc => {
                points.insert(0, (0.0, 0.0));
                format!("{} (AUC {:.2})", r.attribute, r.roc_auc.unwrap_or(0.0))
            }
        };
        out.push(Series {
            name,
            points,
            chosen: r.chosen().and_then(xy),
        });
    }
    out
}

/// Draws `chart` for `results` into an SVG file at `path`.
pub fn write_chart(
    path: &Path,
    chart: Chart,
    results: &[AttributeResult],
) -> Result<(), OutputError> {
    let mut svg = String::new();
    draw(&mut svg, chart, &series(chart, results)).map_err(|e| OutputError::Chart {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, svg).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn draw(
    svg: &mut String,
    chart: Chart,
    lines: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let (title, x_desc, y_desc) = match chart {
        Chart::PrecisionRecall => (
            "Precision–recall (● = chosen threshold)",
            "recall",
            "precision",
        ),
        Chart::Roc => (
            "ROC (● = chosen threshold)",
            "false-positive rate",
            "true-positive rate (recall)",
        ),
    };
    let root = SVGBackend::with_string(svg, (720, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut ctx = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)?;
    ctx.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw()?;
    if chart == Chart::Roc {
        ctx.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))?;
    }
    for (i, s) in lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        ctx.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))?
        .label(s.name.as_str())
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        if let Some(c) = s.chosen {
            ctx.draw_series(std::iter::once(Circle::new(c, 5, color.filled())))?;
        }
    }
    if !lines.is_empty() {
        let position = match chart {
            Chart::PrecisionRecall => SeriesLabelPosition::LowerLeft,
            Chart::Roc => SeriesLabelPosition::LowerRight,
        };
        ctx.configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::metrics::Scored;
    use crate::tune::search::Objective;
    use crate::tune::{tune_attribute, Attribute, Settings};

    #[test]
    fn charts_are_svg_with_a_line_per_defined_attribute() {
        let settings = Settings {
            objective: Objective::MaxF1,
            resamples: 0,
            seed: 1,
        };
        let s: Vec<Scored> = (0..20)
            .map(|i| Scored {
                score: i as f64 / 20.0,
                positive: i % 3 == 0,
            })
            .collect();
        let all_pos: Vec<Scored> = s
            .iter()
            .map(|x| Scored {
                positive: true,
                ..*x
            })
            .collect();
        let results = [
            tune_attribute(Attribute::Insult, &s, &settings),
            tune_attribute(Attribute::Obscene, &all_pos, &settings),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (chart, file, has_obscene) in [
            (Chart::PrecisionRecall, "pr.svg", true),
            (Chart::Roc, "roc.svg", false),
        ] {
            let path = dir.path().join(file);
            write_chart(&path, chart, &results).unwrap();
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.contains("insult ("), "{file}");
            assert_eq!(svg.contains("obscene ("), has_obscene, "{file}");
            assert!(!svg.contains("NaN"));
        }
        let empty = dir.path().join("empty.svg");
        write_chart(&empty, Chart::Roc, &[]).unwrap();
        let bad = dir.path().join("no/such/dir.svg");
        assert!(write_chart(&bad, Chart::Roc, &results)
            .unwrap_err()
            .to_string()
            .starts_with("writing "));
    }
}
