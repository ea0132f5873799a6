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
}
