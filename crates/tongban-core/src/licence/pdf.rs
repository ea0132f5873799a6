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
    }
}
