//! The printable licence and the written notices: one-page PDFs written directly. Text is set
//! in Tongban Sans SC (a subset of the OFL font Noto Sans CJK SC, see [`super::font`]), embedded
//! in each file with only the glyphs the page draws, so every viewer shows the same letters
//! and no viewer substitutes a font; a ToUnicode map makes the text extract correctly. The QR
//! code is drawn as vector squares.

use super::font::{self, Font};
use std::collections::BTreeMap;
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

/// A page's content stream and the characters it draws (glyph id → character).
#[derive(Default)]
struct Canvas {
    content: String,
    used: BTreeMap<u16, char>,
    /// Some character is not in the embedded font and is set in the reader's STSong-Light
    /// (`/F2`) instead, as before the font was embedded.
    fallback: bool,
}

impl Write for Canvas {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.content.push_str(s);
        Ok(())
    }
}

impl Canvas {
    fn push_str(&mut self, s: &str) {
        self.content.push_str(s);
    }

    /// The string as glyph ids in hex (Identity-H), noting each glyph used.
    fn hex(&mut self, s: &str) -> String {
        let f = Font::get();
        let mut out = String::with_capacity(s.len() * 4);
        for c in s.chars() {
            let g = f.glyph(c);
            if g != 0 {
                self.used.entry(g).or_insert(c);
            }
            let _ = write!(out, "{g:04X}");
        }
        out
    }

    /// Text-showing operators for `s` at `size`: runs in the embedded font (`/F1`), and any
    /// character it lacks (a rare character of a name outside GB 2312) in STSong-Light (`/F2`,
    /// supplied by the reader, UCS-2 encoded).
    fn shows(&mut self, s: &str, size: f32) -> String {
        let f = Font::get();
        let mut out = String::new();
        let mut run = String::new();
        let mut run_f1 = true;
        let flush = |out: &mut String, run: &mut String, f1: bool, this: &mut Canvas| {
            if run.is_empty() {
                return;
            }
            let text = std::mem::take(run);
            if f1 {
                let hex = this.hex(&text);
                let _ = write!(out, "/F1 {size} Tf <{hex}> Tj ");
            } else {
                this.fallback = true;
                let hex: String = text.chars().map(|c| format!("{:04X}", c as u32)).collect();
                let _ = write!(out, "/F2 {size} Tf <{hex}> Tj ");
            }
        };
        for c in s.chars() {
            let in_font = f.glyph(c) != 0 || (c as u32) > 0xFFFF || c.is_control();
            if in_font != run_f1 {
                flush(&mut out, &mut run, run_f1, self);
                run_f1 = in_font;
            }
            run.push(c);
        }
        flush(&mut out, &mut run, run_f1, self);
        out
    }
}

/// How `s` is written in the PDF's content stream (glyph ids in hex): for tests that look for
/// a text in a generated file.
pub fn encoded(s: &str) -> String {
    Canvas::default().hex(s)
}

fn text(content: &mut Canvas, x: f32, y: f32, size: f32, s: &str) {
    let shows = content.shows(s, size);
    let _ = writeln!(content, "BT {x:.2} {y:.2} Td {shows}ET");
}

/// The ToUnicode map: each glyph drawn back to its character.
fn to_unicode_cmap(used: &BTreeMap<u16, char>) -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let pairs: Vec<(&u16, &char)> = used.iter().collect();
    for chunk in pairs.chunks(100) {
        let _ = writeln!(s, "{} beginbfchar", chunk.len());
        for (g, c) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(s, "<{g:04X}> <{hex}>");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

pub fn render(face: &Face<'_>) -> Vec<u8> {
    let mut content = Canvas::default();
    // Border and title.
    content.push_str("0.70 0.08 0.12 RG 3 w 40 40 515 762 re S 1 w 50 50 495 742 re S\n");
    content.push_str("0 0 0 rg\n");
    let title_width = ems(face.title) * 26.0;
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
        let mark = content.shows("作废", 120.0);
        let _ = writeln!(
            content,
            "q 4 w 0.7071 0.7071 -0.7071 0.7071 200 300 cm -20 -30 300 150 re S \
             BT 10 0 Td {mark}ET Q"
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
    assemble(content)
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

/// Width of `s` in ems, from the embedded font's advance widths.
fn ems(s: &str) -> f32 {
    Font::get().ems(s)
}

/// Splits a paragraph into lines of at most `width` ems.
pub fn wrap(paragraph: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0.0;
    let f = Font::get();
    for c in paragraph.chars() {
        let cw = f.width(f.glyph(c)) as f32 / 1000.0;
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
    let mut content = Canvas::default();
    content.push_str("0 0 0 rg\n");
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
    assemble(content)
}

/// An application form (申请表) to print: a title, the item's particulars, a table of
/// fields with a writing space each (or an example value), check boxes for the delivery
/// choice and the materials, and the declaration with signature lines. A sample (样表) is
/// marked as such across the page.
pub struct FormSheet<'a> {
    pub title: &'a str,
    /// Lines under the title (事项, 实施机关, 实施编码).
    pub heading: Vec<String>,
    /// (field, value): an empty value leaves a blank to write in.
    pub fields: Vec<(String, String)>,
    /// (group label, choices with whether ticked).
    pub choices: Vec<(String, Vec<(String, bool)>)>,
    pub declaration: &'a str,
    /// (signature line label, value).
    pub signature: Vec<(String, String)>,
    /// Marks the page as a sample: 样表 across it and a note under the title.
    pub sample: bool,
}

pub fn render_form(form: &FormSheet<'_>) -> Vec<u8> {
    let mut c = Canvas::default();
    if form.sample {
        // 样表 across the page, drawn first in light red so the example reads over it.
        let mark = c.shows("样表", 150.0);
        let _ = writeln!(
            c,
            "q 0.97 0.80 0.80 rg 0.7071 0.7071 -0.7071 0.7071 190 230 cm BT 0 0 Td {mark}ET Q"
        );
    }
    c.push_str("0 0 0 rg 0 0 0 RG\n");
    let title_size = 18.0;
    text(
        &mut c,
        (595.0 - ems(form.title) * title_size) / 2.0,
        780.0,
        title_size,
        form.title,
    );
    let mut y = 756.0;
    if form.sample {
        let note = "样表：仅供填写参考，不作申请使用";
        c.push_str("0.80 0 0 rg\n");
        text(&mut c, (595.0 - ems(note) * 11.0) / 2.0, y, 11.0, note);
        c.push_str("0 0 0 rg\n");
        y -= 18.0;
    }
    for h in &form.heading {
        text(&mut c, 60.0, y, 10.0, h);
        y -= 15.0;
    }
    y -= 4.0;
    // The table: label column, value column; rows grow with wrapped values.
    let (left, mid, right, size) = (60.0, 200.0, 535.0, 11.0);
    let _ = writeln!(c, "0.5 w {left} {y} m {right} {y} l S");
    let value_width = (right - mid - 12.0) / size;
    for (label, value) in &form.fields {
        let lines = if value.is_empty() {
            vec![String::new()]
        } else {
            wrap(value, value_width)
        };
        let label_lines = wrap(label, (mid - left - 12.0) / size);
        let rows = lines.len().max(label_lines.len()) as f32;
        let h = rows * 15.0 + 12.0;
        for (i, l) in label_lines.iter().enumerate() {
            text(&mut c, left + 6.0, y - 16.0 - i as f32 * 15.0, size, l);
        }
        for (i, l) in lines.iter().enumerate() {
            text(&mut c, mid + 6.0, y - 16.0 - i as f32 * 15.0, size, l);
        }
        let bottom = y - h;
        let _ = writeln!(
            c,
            "{left} {y} m {left} {bottom} l S {mid} {y} m {mid} {bottom} l S {right} {y} m {right} {bottom} l S {left} {bottom} m {right} {bottom} l S"
        );
        y = bottom;
    }
    y -= 22.0;
    for (group, options) in &form.choices {
        text(&mut c, left, y, size, group);
        y -= 17.0;
        for (option, ticked) in options {
            let box_y = y - 1.0;
            let _ = writeln!(c, "{} {box_y} 9 9 re S", left + 12.0);
            if *ticked {
                let _ = writeln!(
                    c,
                    "1.2 w {} {} m {} {} l {} {} l S 0.5 w",
                    left + 13.5,
                    box_y + 4.5,
                    left + 16.0,
                    box_y + 1.5,
                    left + 20.0,
                    box_y + 8.0
                );
            }
            for (i, l) in wrap(option, (right - left - 30.0) / size)
                .iter()
                .enumerate()
            {
                text(&mut c, left + 27.0, y - i as f32 * 15.0, size, l);
                if i > 0 {
                    y -= 15.0;
                }
            }
            y -= 17.0;
        }
        y -= 6.0;
    }
    for l in wrap(form.declaration, (right - left) / size) {
        text(&mut c, left, y, size, &l);
        y -= 16.0;
    }
    y -= 14.0;
    for (label, value) in &form.signature {
        text(&mut c, 300.0, y, size, label);
        let x = 300.0 + ems(label) * size + 4.0;
        let _ = writeln!(c, "{x} {} m {right} {} l S", y - 3.0, y - 3.0);
        if !value.is_empty() {
            text(&mut c, x + 6.0, y, size, value);
        }
        y -= 24.0;
    }
    assemble(c)
}

/// A round red seal: circle, star and the agency name along the upper arc.
fn seal(content: &mut Canvas, cx: f32, cy: f32, r: f32, agency: &str) {
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
        let glyph = content.shows(&c.to_string(), (size * 100.0).round() / 100.0);
        let _ = writeln!(
            content,
            "BT {cos:.4} {sin:.4} {:.4} {cos:.4} {:.2} {:.2} Tm {glyph}ET",
            -sin,
            x + dx * cos - dy * sin,
            y + dx * sin + dy * cos,
        );
    }
    content.push_str("Q\n");
}

/// The identity ToUnicode map of UCS-2 codes (the fallback font's encoding).
fn ucs2_cmap() -> String {
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

/// A tag of six capitals naming the subset (PDF 32000-1 9.6.4), derived from the glyphs used
/// so the same page gives the same file.
fn subset_tag(used: &BTreeMap<u16, char>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in used.keys() {
        for b in g.to_be_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| (b'A' + ((h >> (i * 8)) % 26) as u8) as char)
        .collect()
}

/// The /W array: the width of each glyph used.
fn widths(used: &BTreeMap<u16, char>) -> String {
    let f = Font::get();
    let mut s = String::from("[");
    for g in used.keys() {
        let _ = write!(s, " {g} [{}]", f.width(*g));
    }
    s.push_str(" ]");
    s
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

/// The PDF file around one page's content stream, with the font subset it uses.
fn assemble(canvas: Canvas) -> Vec<u8> {
    let cmap = to_unicode_cmap(&canvas.used);
    let name = format!("{}+{}", subset_tag(&canvas.used), font::NAME);
    let font_file = Font::get().subset(&canvas.used.keys().copied().collect());
    let packed = deflate(&font_file);
    let content = canvas.content;
    // Objects as bytes: the font file stream is binary.
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R{} >> >> /Contents 4 0 R >>", if canvas.fallback { " /F2 10 0 R" } else { "" }).into_bytes(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()).into_bytes(),
        format!("<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 8 0 R >>").into_bytes(),
        format!("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 7 0 R /DW 1000 /W {} /CIDToGIDMap /Identity >>", widths(&canvas.used)).into_bytes(),
        format!("<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [-1000 -300 3000 1100] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 733 /StemV 80 /FontFile2 9 0 R >>").into_bytes(),
        format!("<< /Length {} >>\nstream\n{cmap}endstream", cmap.len()).into_bytes(),
        {
            let mut o = format!(
                "<< /Length {} /Length1 {} /Filter /FlateDecode >>\nstream\n",
                packed.len(),
                font_file.len()
            )
            .into_bytes();
            o.extend_from_slice(&packed);
            o.extend_from_slice(b"\nendstream");
            o
        },
    ];
    let mut objects = objects;
    if canvas.fallback {
        // Characters outside the embedded subset: the reader's Adobe-GB1 STSong-Light.
        let ucs = ucs2_cmap();
        objects.extend([
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [11 0 R] /ToUnicode 13 0 R >>".to_vec(),
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 12 0 R /DW 1000 /W [1 95 500] >>".to_vec(),
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>".to_vec(),
            format!("<< /Length {} >>\nstream\n{ucs}endstream", ucs.len()).into_bytes(),
        ]);
    }
    let mut pdf: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(o);
        pdf.extend_from_slice(b"\nendobj\n");
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
            text.contains("+TongbanSansSC-Regular")
                && text.contains("/Identity-H")
                && text.contains("/FontFile2")
                && text.contains("/ToUnicode")
        );
        // 食品 as glyph ids, and their characters in the ToUnicode map (食 = U+98DF).
        assert!(text.contains(&encoded("食品")));
        assert!(text.contains("<98DF>") && text.contains("<54C1>"));
        // Only the glyphs drawn are embedded: far less than the whole font.
        assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
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
        // 作废: only on a void licence.
        assert!(!text.contains(&encoded("作废")));
        let void = render(&Face {
            title: "食品经营许可证",
            lines: vec![],
            qr: "x",
            footer: "tongban",
            void: Some("已吊销".into()),
        });
        assert!(String::from_utf8_lossy(&void).contains(&encoded("作废")));
        // A name character outside the embedded GB 2312 subset (堃, GBK only) falls back to
        // the reader's STSong-Light instead of printing an empty glyph.
        assert_eq!(Font::get().glyph('堃'), 0);
        let rare = render(&Face {
            title: "食品经营许可证",
            lines: vec![("法定代表人".into(), "王堃".into())],
            qr: "x",
            footer: "tongban",
            void: None,
        });
        let text = String::from_utf8_lossy(&rare);
        assert!(text.contains("/F2 12 Tf <5803> Tj") && text.contains("/STSong-Light"));
        assert!(!String::from_utf8_lossy(&pdf).contains("/STSong-Light"));
    }
}
