//! Server-rendered SVG charts: no JavaScript, no network, printable.

use crate::error::html_escape;

/// Label size in the chart's own units. Each chart is drawn twice — a wide drawing and a
/// narrow one for phones and narrow columns — and the stylesheet shows the one that fits its
/// box (a container query on `.chart`), so the text is never scaled below about 11 CSS px.
const FONT: f64 = 13.0;
/// The narrow drawing's width (a phone's card is about 290–310 CSS px wide).
const NARROW: f64 = 300.0;

/// Estimated width of `s` at `size` px: CJK and full-width characters a full em, others
/// about 0.6 em.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.6 } else { 1.0 })
        .sum::<f64>()
        * size
}

/// `s` cut to fit `width` px at `size`, with an ellipsis when cut.
fn fit(s: &str, width: f64, size: f64) -> String {
    if text_width(s, size) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        let next = format!("{out}{c}…");
        if text_width(&next, size) > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A horizontal bar chart; `value` in 0..=max; each bar with its label and shown value.
pub fn bar_chart(rows: &[(String, f64, String)], max: f64) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">暂无数据。</p>".into();
    }
    format!("{}{}", bar_wide(rows, max), bar_narrow(rows, max))
}

fn ratio(value: f64, max: f64) -> f64 {
    if max > 0.0 {
        (value / max).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Labels left of the bars, values after them.
fn bar_wide(rows: &[(String, f64, String)], max: f64) -> String {
    let row_h = 24.0;
    let label_w = 180.0;
    let bar_w = 240.0;
    let value_w = rows
        .iter()
        .map(|(_, _, v)| text_width(v, FONT))
        .fold(40.0, f64::max)
        .min(160.0);
    let width = label_w + bar_w + value_w + 10.0;
    let height = rows.len() as f64 * row_h + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"柱状图\" class=\"chart-wide\">"
    );
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{label_w}\" y1=\"0\" x2=\"{label_w}\" y2=\"{height}\" stroke=\"#999\"/>"
    ));
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = ratio(*value, max) * bar_w;
        s.push_str(&format!(
            "<text class=\"bar-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"{FONT}\">{}</text>",
            label_w - 6.0,
            y + 14.0,
            html_escape(&fit(label, label_w - 10.0, FONT))
        ));
        s.push_str(&format!(
            "<rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"#1f4e8c\"><title>{}：{}</title></rect>",
            row_h - 8.0,
            html_escape(label),
            html_escape(shown)
        ));
        s.push_str(&format!(
            "<text class=\"bar-label\" x=\"{:.1}\" y=\"{}\" font-size=\"{FONT}\">{}</text>",
            label_w + w + 4.0,
            y + 14.0,
            html_escape(&fit(shown, value_w, FONT))
        ));
    }
    s.push_str("</svg>");
    s
}

/// For narrow boxes: each row is the label (left) and the value (right) on one line, the bar
/// under them across the full width.
fn bar_narrow(rows: &[(String, f64, String)], max: f64) -> String {
    let row_h = 40.0;
    let height = rows.len() as f64 * row_h + 6.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {NARROW} {height}\" role=\"img\" aria-label=\"柱状图\" class=\"chart-narrow\">"
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let shown_text = fit(shown, NARROW * 0.55, FONT);
        let room = NARROW - text_width(&shown_text, FONT) - 10.0;
        s.push_str(&format!(
            "<text class=\"bar-label\" x=\"0\" y=\"{}\" font-size=\"{FONT}\">{}</text>",
            y + 15.0,
            html_escape(&fit(label, room, FONT))
        ));
        s.push_str(&format!(
            "<text class=\"bar-label\" x=\"{NARROW}\" y=\"{}\" text-anchor=\"end\" font-size=\"{FONT}\">{}</text>",
            y + 15.0,
            html_escape(&shown_text)
        ));
        s.push_str(&format!(
            "<rect class=\"bar-track\" x=\"0\" y=\"{}\" width=\"{NARROW}\" height=\"12\" fill=\"#eef0f3\"/>\
             <rect class=\"bar\" x=\"0\" y=\"{}\" width=\"{:.1}\" height=\"12\" fill=\"#1f4e8c\"><title>{}：{}</title></rect>",
            y + 22.0,
            y + 22.0,
            ratio(*value, max) * NARROW,
            html_escape(label),
            html_escape(shown)
        ));
    }
    s.push_str("</svg>");
    s
}

/// A line chart of one or more series over the same labelled points (a trend): each series
/// is (name, colour, values); the y axis runs from 0 to the largest value.
pub fn line_chart(labels: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    format!(
        "{}{}",
        line_drawing(labels, series, 560.0, "chart-wide"),
        line_drawing(labels, series, NARROW, "chart-narrow")
    )
}

fn line_drawing(
    labels: &[String],
    series: &[(&str, &str, Vec<f64>)],
    w: f64,
    class: &str,
) -> String {
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0, f64::max)
        .max(1.0);
    let max_text = format!("{max}");
    // The legend: one entry per series, wrapped into rows that fit the width.
    let mut legend = String::new();
    let (mut lx, mut ly) = (0.0, 15.0);
    for (name, colour, _) in series {
        let entry = format!("■ {name}");
        let ew = text_width(&entry, FONT);
        if lx > 0.0 && lx + ew > w {
            lx = 0.0;
            ly += FONT + 6.0;
        }
        legend.push_str(&format!(
            "<text x=\"{lx:.1}\" y=\"{ly}\" font-size=\"{FONT}\" fill=\"{}\">{}</text>",
            html_escape(colour),
            html_escape(&entry)
        ));
        lx += ew + 16.0;
    }
    let label_w = labels
        .iter()
        .map(|l| text_width(l, FONT))
        .fold(0.0, f64::max);
    let top = ly + FONT + 10.0;
    let plot_h = 150.0;
    let bottom = FONT + 14.0;
    let h = top + plot_h + bottom;
    let left = (text_width(&max_text, FONT) + 8.0).max(label_w / 2.0 + 2.0);
    let right = (label_w / 2.0 + 2.0).max(10.0);
    let plot_w = w - left - right;
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
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"趋势图\" class=\"line-chart {class}\">"
    );
    s.push_str(&legend);
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{left:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#999\"/>",
        top + plot_h,
        left + plot_w,
        top + plot_h
    ));
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"end\" font-size=\"{FONT}\">{}</text><text x=\"{:.1}\" y=\"{}\" text-anchor=\"end\" font-size=\"{FONT}\">0</text>",
        left - 4.0,
        top + 5.0,
        max_text,
        left - 4.0,
        top + plot_h
    ));
    // Axis labels far enough apart not to touch: every k-th point.
    let step = if n > 1 {
        plot_w / (n - 1) as f64
    } else {
        plot_w
    };
    let every = ((label_w + 8.0) / step).ceil().max(1.0) as usize;
    for (i, l) in labels.iter().enumerate() {
        if i % every == 0 {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{FONT}\">{}</text>",
                x(i),
                h - 8.0,
                html_escape(l)
            ));
        }
    }
    for (name, colour, values) in series {
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
        // Wide: 240 units at the maximum; narrow: the full 300.
        assert!(svg.contains("width=\"120.0\""));
        assert!(svg.contains("width=\"240.0\""));
        assert!(svg.contains("width=\"150.0\"") && svg.contains("width=\"300.0\""));
        assert!(svg.contains("&lt;b&gt;"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("class=\"chart-wide\"") && svg.contains("class=\"chart-narrow\""));
    }

    #[test]
    fn long_labels_are_cut_to_fit_and_keep_their_full_text_in_the_title() {
        let long = "娄星市行政审批服务局（市政务服务中心）综合受理科".to_string();
        let svg = bar_narrow(&[(long.clone(), 1.0, "12 件 · 按时 95.0%".into())], 1.0);
        assert!(svg.contains('…'));
        assert!(svg.contains(&format!("<title>{long}：")));
        let cut = fit(&long, 100.0, FONT);
        assert!(text_width(&cut, FONT) <= 100.0, "{cut}");
    }

    #[test]
    fn line_points_span_the_plot_and_axis_labels_do_not_touch() {
        let labels: Vec<String> = (1..=12).map(|m| format!("2026-{m:02}")).collect();
        let values: Vec<f64> = (0..12).map(f64::from).collect();
        let svg = line_drawing(&labels, &[("申报量", "#1f4e8c", values)], NARROW, "x");
        assert!(svg.contains("2026-01"));
        // 12 labels of about 47 px cannot all fit on a 300-unit axis: every second or third.
        let shown = labels
            .iter()
            .filter(|l| svg.contains(&format!(">{l}<")))
            .count();
        assert!((3..12).contains(&shown), "{shown}");
        // The top point is at the plot's top, the first at its left.
        assert!(svg.contains("points=\""));
    }
}
