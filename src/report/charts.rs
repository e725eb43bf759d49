//! Small SVG bar charts for the summaries (plotters' SVG backend), returned as strings so the
//! HTML can inline them and the Markdown can link them as files.

use plotters::prelude::*;

/// Stance toward the article: favor, against, none. Blue and orange, which read as two sides
/// rather than as good and bad; grey for none.
pub const STANCE_COLORS: [RGBColor; 3] = [
    RGBColor(0x3b, 0x6f, 0xb6),
    RGBColor(0xe0, 0x8a, 0x1e),
    RGBColor(0x9a, 0x9a, 0x9a),
];
/// Sentiment: negative, neutral, positive, in a palette of its own (purple, grey, gold).
pub const SENTIMENT_COLORS: [RGBColor; 3] = [
    RGBColor(0x7b, 0x4f, 0xa0),
    RGBColor(0x9a, 0x9a, 0x9a),
    RGBColor(0xd4, 0xa0, 0x17),
];
/// One series (toxicity by depth): one colour for every bar.
pub const SINGLE_COLOR: [RGBColor; 1] = [RGBColor(0x4c, 0x72, 0xb0)];

/// A vertical bar chart of `values` (0..=`y_max`) labelled by `labels`; bar `i` takes
/// `colors[i % colors.len()]`.
pub fn bar_chart(
    title: &str,
    labels: &[String],
    values: &[f64],
    y_max: f64,
    y_label: &str,
    colors: &[RGBColor],
) -> String {
    let mut svg = String::new();
    {
        let width = (120 + 90 * labels.len().max(1)) as u32;
        let root =
            SVGBackend::with_string(&mut svg, (width.clamp(360, 900), 260)).into_drawing_area();
        let colors = if colors.is_empty() {
            &SINGLE_COLOR[..]
        } else {
            colors
        };
        let _ = draw(
            &root,
            title,
            labels,
            values,
            y_max.max(1e-9),
            y_label,
            colors,
        );
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
    colors: &[RGBColor],
) -> Result<(), Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let n = labels.len().max(1);
    // A continuous x axis with one unit per bar (bar i centred on i), so any number of bars,
    // one included, fills the plot without empty slots.
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..y_max)?;
    let labels_owned: Vec<String> = labels.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .y_desc(y_label)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels_owned.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .draw()?;
    chart.draw_series(values.iter().enumerate().map(|(i, v)| {
        let color = colors[i % colors.len()];
        let x = i as f64;
        Rectangle::new([(x - 0.38, 0.0), (x + 0.38, *v)], color.filled())
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
            let svg = bar_chart("t", &labels, &values, 1.0, "share", &SINGLE_COLOR);
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.trim_end().ends_with("</svg>"));
        }
    }

    /// Each bar takes its palette's colour: favor blue, against orange (not red and green).
    #[test]
    fn bars_take_their_palettes_colours() {
        let labels: Vec<String> = ["favor", "against", "none"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg =
            bar_chart("s", &labels, &[0.2, 0.5, 0.3], 1.0, "share", &STANCE_COLORS).to_lowercase();
        for c in ["#3b6fb6", "#e08a1e", "#9a9a9a"] {
            assert!(svg.contains(c), "{c} missing");
        }
        let one =
            bar_chart("d", &labels, &[0.2, 0.5, 0.3], 1.0, "tox", &SINGLE_COLOR).to_lowercase();
        assert_eq!(
            one.matches("#4c72b0").count(),
            3,
            "one colour for every bar"
        );
    }
}
