//! Small SVG bar charts for the summaries (plotters' SVG backend), returned as strings so the
//! HTML can inline them and the Markdown can link them as files.

use plotters::prelude::*;

/// A vertical bar chart of `values` (0..=`y_max`) labelled by `labels`.
pub fn bar_chart(
    title: &str,
    labels: &[String],
    values: &[f64],
    y_max: f64,
    y_label: &str,
) -> String {
    let mut svg = String::new();
    {
        let width = (120 + 90 * labels.len().max(1)) as u32;
        let root =
            SVGBackend::with_string(&mut svg, (width.clamp(360, 900), 260)).into_drawing_area();
        let _ = draw(&root, title, labels, values, y_max.max(1e-9), y_label);
        let _ = root.present();
    }
    svg
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    labels: &[String],
    values: &[f64],
    y_max: f64,
    y_label: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d((0..n).into_segmented(), 0f64..y_max)?;
    let labels_owned: Vec<String> = labels.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc(y_label)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels_owned.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    chart.draw_series(values.iter().enumerate().map(|(i, v)| {
        let color = Palette99::pick(i).mix(0.85);
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), *v),
            ],
            color.filled(),
        );
        bar.set_margin(0, 0, 12, 12);
        bar
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg_even_for_empty_or_zero_data() {
        for (labels, values) in [
            (vec![], vec![]),
            (vec!["a".to_string()], vec![0.0]),
            (vec!["x".into(), "y".into()], vec![0.3, 0.7]),
        ] {
            let svg = bar_chart("t", &labels, &values, 1.0, "share");
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.trim_end().ends_with("</svg>"));
        }
    }
}
