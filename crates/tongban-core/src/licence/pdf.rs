//! The printable licence: a one-page PDF written directly, with Chinese text in the PDF
//! standard's predefined Adobe-GB1 font STSong-Light (UniGB-UCS2-H), which readers supply
//! themselves — so no font file is shipped or fetched — plus a ToUnicode map so the text
//! extracts correctly, and a QR code drawn as vector squares.

use std::fmt::Write;

pub struct Face<'a> {
    pub title: &'a str,
    /// (label, value) lines.
    pub lines: Vec<(String, String)>,
    /// Text for the QR code (the verify URL with compact signed key fields).
    pub qr: &'a str,
    pub footer: &'a str,
    /// Set when the licence is no longer valid (revoked, superseded, cancelled) at the time
    /// of rendering: the status line printed under the title; the face is then crossed by a
    /// large red 作废 mark.
    pub void: Option<String>,
}

/// UCS-2 big-endian hex of a string (characters outside the BMP become '?').
fn ucs2_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 4);
    for c in s.chars() {
        let u = c as u32;
        let u = if u > 0xFFFF || (0xD800..0xE000).contains(&u) {
            '?' as u32
        } else {
            u
        };
        let _ = write!(out, "{u:04X}");
    }
    out
}

fn text(content: &mut String, x: f32, y: f32, size: f32, s: &str) {
    let _ = writeln!(
        content,
        "BT /F1 {size} Tf {x} {y} Td <{}> Tj ET",
        ucs2_hex(s)
    );
}

fn to_unicode_cmap() -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let ranges: Vec<u32> = (0..=0xFFu32)
        .filter(|h| !(0xD8..=0xDF).contains(h))
        .collect();
    for chunk in ranges.chunks(100) {
        let _ = writeln!(s, "{} beginbfrange", chunk.len());
        for h in chunk {
            let _ = writeln!(s, "<{h:02X}00> <{h:02X}FF> <{h:02X}00>");
        }
        s.push_str("endbfrange\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

pub fn render(face: &Face<'_>) -> Vec<u8> {
    let mut content = String::new();
    // Border and title.
    content.push_str("0.70 0.08 0.12 RG 3 w 40 40 515 762 re S 1 w 50 50 495 742 re S\n");
    content.push_str("0 0 0 rg\n");
    let title_width = face.title.chars().count() as f32 * 26.0;
    text(
        &mut content,
        (595.0 - title_width) / 2.0,
        740.0,
        26.0,
        face.title,
    );
    let mut y = 680.0;
    for (label, value) in &face.lines {
        text(&mut content, 80.0, y, 12.0, label);
        // Wrap long values at ~30 wide characters.
        let chars: Vec<char> = value.chars().collect();
        for (i, chunk) in chars.chunks(30).enumerate() {
            let line: String = chunk.iter().collect();
            text(&mut content, 200.0, y - i as f32 * 16.0, 12.0, &line);
        }
        y -= 16.0 * (chars.len().div_ceil(30).max(1) as f32) + 10.0;
    }
    text(&mut content, 80.0, 66.0, 9.0, face.footer);
    if let Some(status) = &face.void {
        // A void mark across the face: red, diagonal, large; and the status in words under
        // the title, so a printed copy cannot pass for a valid one.
        content.push_str("0.80 0 0 rg 0.80 0 0 RG\n");
        let status_width = ems(status) * 14.0;
        text(
            &mut content,
            ((595.0 - status_width) / 2.0).max(60.0),
            712.0,
            14.0,
            status,
        );
        let _ = writeln!(
            content,
            "q 4 w 0.7071 0.7071 -0.7071 0.7071 200 300 cm -20 -30 300 150 re S \
             BT /F1 120 Tf 10 0 Td <{}> Tj ET Q",
            ucs2_hex("作废")
        );
        content.push_str("0 0 0 rg 0 0 0 RG\n");
    }
    // QR code, bottom right.
    if let Ok(code) =
        qrcode::QrCode::with_error_correction_level(face.qr.as_bytes(), qrcode::EcLevel::M)
    {
        let w = code.width();
        let size = 150.0;
        let cell = size / (w as f32 + 8.0);
        let (x0, y0) = (545.0 - size - 10.0, 110.0);
        content.push_str("1 1 1 rg ");
        let _ = writeln!(content, "{x0} {y0} {size} {size} re f");
        content.push_str("0 0 0 rg\n");
        for (i, color) in code.to_colors().iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (cx, cy) = (i % w, i / w);
                let _ = writeln!(
                    content,
                    "{:.2} {:.2} {:.2} {:.2} re f",
                    x0 + (cx as f32 + 4.0) * cell,
                    y0 + size - (cy as f32 + 5.0) * cell,
                    cell,
                    cell
                );
            }
        }
        text(&mut content, x0 + 20.0, y0 - 14.0, 9.0, "扫码核验证照真伪");
    }
    assemble(&content)
}

/// A written document (文书): a centred title, a document number, paragraphs wrapped to the
/// page, the agency and date at the foot, and its seal drawn as a red circle with the agency
/// name — a picture of a seal, not a GB/T 38540 electronic seal (see ADR 0009).
pub struct Document<'a> {
    pub title: &'a str,
    /// The document number (文号), right-aligned under the title.
    pub number: &'a str,
    /// Paragraphs, each wrapped to the text width; an empty one leaves a gap.
    pub paragraphs: Vec<String>,
    /// Agency name: signs the document and rings the seal.
    pub agency: &'a str,
    /// The date line under the agency name (e.g. 2026年3月2日).
    pub date: &'a str,
}

/// Width of `s` in ems: CJK characters are full width, ASCII half (the font's /W).
fn ems(s: &str) -> f32 {
    s.chars()
        .map(|c| if (c as u32) < 0x80 { 0.5 } else { 1.0 })
        .sum()
}

/// Splits a paragraph into lines of at most `width` ems.
pub fn wrap(paragraph: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0.0;
    for c in paragraph.chars() {
        let cw = if (c as u32) < 0x80 { 0.5 } else { 1.0 };
        if w + cw > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            w = 0.0;
        }
        line.push(c);
        w += cw;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn render_document(doc: &Document<'_>) -> Vec<u8> {
    let mut content = String::from("0 0 0 rg\n");
    let title_size = 22.0;
    text(
        &mut content,
        (595.0 - ems(doc.title) * title_size) / 2.0,
        760.0,
        title_size,
        doc.title,
    );
    let size = 12.0;
    text(
        &mut content,
        (595.0 - ems(doc.number) * size) / 2.0,
        730.0,
        size,
        doc.number,
    );
    content.push_str("0.70 0.08 0.12 RG 1.5 w 72 718 m 523 718 l S\n");
    let width = (523.0 - 72.0) / size;
    let mut y = 690.0;
    for p in &doc.paragraphs {
        if p.is_empty() {
            y -= 10.0;
            continue;
        }
        for line in wrap(p, width) {
            text(&mut content, 72.0, y, size, &line);
            y -= 20.0;
        }
    }
    // The agency and the date, right-aligned, with the seal over them.
    let y = (y - 40.0).clamp(120.0, 240.0);
    let right = 500.0;
    text(
        &mut content,
        right - ems(doc.agency) * size,
        y,
        size,
        doc.agency,
    );
    text(
        &mut content,
        right - ems(doc.date) * size,
        y - 20.0,
        size,
        doc.date,
    );
    seal(&mut content, right - 60.0, y - 2.0, 52.0, doc.agency);
    assemble(&content)
}

/// A round red seal: circle, star and the agency name along the upper arc.
fn seal(content: &mut String, cx: f32, cy: f32, r: f32, agency: &str) {
    // A circle from four Bézier arcs (k = 0.5523).
    let k = 0.5523 * r;
    let _ = writeln!(
        content,
        "q 0.85 0.1 0.1 RG 2.5 w {} {cy} m {} {} {} {} {cx} {} c {} {} {} {} {} {cy} c {} {} {} {} {cx} {} c {} {} {} {} {} {cy} c S",
        cx + r,
        cx + r, cy + k, cx + k, cy + r, cy + r,
        cx - k, cy + r, cx - r, cy + k, cx - r,
        cx - r, cy - k, cx - k, cy - r, cy - r,
        cx + k, cy - r, cx + r, cy - k, cx + r,
    );
    // A five-pointed star in the middle.
    let (sr, ir) = (r * 0.28, r * 0.11);
    let mut pts = Vec::new();
    for i in 0..10 {
        let a = std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
        let rr = if i % 2 == 0 { sr } else { ir };
        pts.push((cx + rr * a.cos(), cy + rr * a.sin()));
    }
    let _ = write!(content, "0.85 0.1 0.1 rg {:.2} {:.2} m", pts[0].0, pts[0].1);
    for (x, y) in &pts[1..] {
        let _ = write!(content, " {x:.2} {y:.2} l");
    }
    content.push_str(" h f\n");
    // The name along the upper arc, each character rotated to face outwards.
    let chars: Vec<char> = agency.chars().collect();
    let n = chars.len().max(1) as f32;
    let span = (200.0f32).to_radians().min(n * 0.42);
    let size = (r * 0.26).min(12.0);
    for (i, c) in chars.iter().enumerate() {
        let a = std::f32::consts::FRAC_PI_2 + span / 2.0 - span * (i as f32 + 0.5) / n;
        let rr = r * 0.72;
        let (x, y) = (cx + rr * a.cos(), cy + rr * a.sin());
        let rot = a - std::f32::consts::FRAC_PI_2;
        let (cos, sin) = (rot.cos(), rot.sin());
        // Centre the glyph on its point.
        let (dx, dy) = (-size / 2.0, -size / 2.0);
        let _ = writeln!(
            content,
            "BT /F1 {size:.2} Tf {cos:.4} {sin:.4} {:.4} {cos:.4} {:.2} {:.2} Tm <{}> Tj ET",
            -sin,
            x + dx * cos - dy * sin,
            y + dx * sin + dy * cos,
            ucs2_hex(&c.to_string())
        );
    }
    content.push_str("Q\n");
}

/// The PDF file around one page's content stream.
fn assemble(content: &str) -> Vec<u8> {
    let cmap = to_unicode_cmap();
    let objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".into(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] /ToUnicode 8 0 R >>".into(),
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R /DW 1000 /W [1 95 500] >>".into(),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>".into(),
        format!("<< /Length {} >>\nstream\n{cmap}endstream", cmap.len()),
    ];
    let mut pdf: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    let mut x = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(x, "{o:010} 00000 n ");
    }
    let _ = write!(
        x,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    pdf.extend_from_slice(x.as_bytes());
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_pdf_with_chinese_text() {
        let pdf = render(&Face {
            title: "食品经营许可证",
            lines: vec![("经营者名称".into(), "娄星市星辰科技有限公司".into())],
            qr: "http://127.0.0.1:8080/verify?id=1.2.156",
            footer: "tongban",
            void: None,
        });
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.7"));
        assert!(
            text.contains("/STSong-Light")
                && text.contains("/UniGB-UCS2-H")
                && text.contains("/ToUnicode")
        );
        // 食 = U+98DF, in UCS-2 hex.
        assert!(text.contains("98DF54C1"));
        // The xref offsets point at the objects.
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[xref_at..].starts_with(b"xref"));
        assert!(text.trim_end().ends_with("%%EOF"));
        // 作废 = U+4F5C U+5E9F: only on a void licence.
        assert!(!text.contains("4F5C5E9F"));
        let void = render(&Face {
            title: "食品经营许可证",
            lines: vec![],
            qr: "x",
            footer: "tongban",
            void: Some("已吊销".into()),
        });
        assert!(String::from_utf8_lossy(&void).contains("4F5C5E9F"));
    }
}
