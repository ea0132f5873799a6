//! Server-rendered SVG charts: no JavaScript, no network, printable.

use crate::error::html_escape;

/// A horizontal bar chart; `value` in 0..=max; labels are shown beside the bars.
pub fn bar_chart(rows: &[(String, f64, String)], max: f64) -> String {
    let row_h = 22.0;
    let label_w = 190.0;
    let bar_w = 260.0;
    let height = rows.len() as f64 * row_h + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"柱状图\">",
        label_w + bar_w + 90.0
    );
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{label_w}\" y1=\"0\" x2=\"{label_w}\" y2=\"{height}\" stroke=\"#999\"/>"
    ));
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = if max > 0.0 {
            (value / max).clamp(0.0, 1.0) * bar_w
        } else {
            0.0
        };
        s.push_str(&format!(
            "<text class=\"bar-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            label_w - 6.0,
            y + 13.0,
            html_escape(label)
        ));
        s.push_str(&format!(
            "<rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"#1f4e8c\"><title>{}：{}</title></rect>",
            row_h - 6.0,
            html_escape(label),
            html_escape(shown)
        ));
        s.push_str(&format!(
            "<text class=\"bar-label\" x=\"{:.1}\" y=\"{}\" font-size=\"12\">{}</text>",
            label_w + w + 4.0,
            y + 13.0,
            html_escape(shown)
        ));
    }
    s.push_str("</svg>");
    s
}

/// A line chart of one or more series over the same labelled points (a trend): each series
/// is (name, colour, values); the y axis runs from 0 to the largest value.
pub fn line_chart(labels: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    let (w, h, left, bottom, top) = (540.0, 200.0, 44.0, 28.0, 22.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0, f64::max)
        .max(1.0);
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + plot_h * (1.0 - v / max);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"趋势图\" class=\"line-chart\">"
    );
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
        top + plot_h,
        left + plot_w,
        top + plot_h
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">0</text>",
        left - 4.0,
        top + 4.0,
        max,
        left - 4.0,
        top + plot_h
    ));
    // At most about ten axis labels, evenly spaced.
    let every = n.div_ceil(10);
    for (i, l) in labels.iter().enumerate() {
        if i % every == 0 {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
                x(i),
                h - 8.0,
                html_escape(l)
            ));
        }
    }
    for (k, (name, colour, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        s.push_str(&format!(
            "<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            html_escape(colour),
            points.join(" "),
            html_escape(name)
        ));
        for (i, v) in values.iter().enumerate() {
            s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"><title>{} {}：{}</title></circle>",
                x(i),
                y(*v),
                html_escape(colour),
                html_escape(labels.get(i).map(String::as_str).unwrap_or("")),
                html_escape(name),
                v
            ));
        }
        s.push_str(&format!(
            "<text x=\"{}\" y=\"14\" font-size=\"11\" fill=\"{}\">■ {}</text>",
            left + 90.0 * k as f64,
            html_escape(colour),
            html_escape(name)
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_max_and_escape_labels() {
        let svg = bar_chart(
            &[
                ("一级".into(), 1.0, "1".into()),
                ("<b>".into(), 2.0, "2".into()),
            ],
            2.0,
        );
        assert!(svg.contains("width=\"130.0\""));
        assert!(svg.contains("width=\"260.0\""));
        assert!(svg.contains("&lt;b&gt;"));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn line_points_span_the_plot_and_the_largest_value_is_the_top() {
        let svg = line_chart(
            &["1月".into(), "2月".into()],
            &[("申报量", "#1f4e8c", vec![0.0, 4.0])],
        );
        assert!(svg.contains("points=\"44.0,172.0 530.0,22.0\""), "{svg}");
        assert!(svg.contains("2月"));
    }
}
