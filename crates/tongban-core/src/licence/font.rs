//! The font the printable licence and the written notices embed: Tongban Sans SC, a subset of
//! Noto Sans CJK SC (SIL Open Font License 1.1, `fonts/OFL.txt`) covering GB 2312's 6763
//! hanzi and symbols, ASCII and common punctuation, in TrueType outlines
//! (`tools/fonts/subset_cjk.py` builds it).
//!
//! Each PDF carries only the glyphs it uses: [`Font::subset`] keeps the font's tables and glyph
//! numbering but empties every glyph the document does not draw, so the text is written as
//! glyph ids (Identity-H, CIDToGIDMap Identity) and a ToUnicode map gives the characters back.

use std::collections::BTreeSet;
use std::sync::OnceLock;

static FILE: &[u8] = include_bytes!("../../fonts/TongbanSansSC-Regular.ttf");

/// The PostScript name (without the subset tag).
pub const NAME: &str = "TongbanSansSC-Regular";

pub struct Font {
    data: &'static [u8],
    /// (tag, offset, length) of each table.
    tables: Vec<([u8; 4], usize, usize)>,
    units_per_em: u16,
    /// Glyph id of each BMP character (0: not in the font).
    cmap: Vec<u16>,
    advances: Vec<u16>,
    /// Glyph offsets into glyf, num_glyphs + 1 entries.
    loca: Vec<usize>,
}

fn u16_at(d: &[u8], at: usize) -> u16 {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .unwrap_or(0)
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}

impl Font {
    /// The embedded font, parsed once.
    pub fn get() -> &'static Font {
        static FONT: OnceLock<Font> = OnceLock::new();
        FONT.get_or_init(|| Font::parse(FILE))
    }

    fn parse(data: &'static [u8]) -> Font {
        let n = u16_at(data, 4) as usize;
        let tables: Vec<([u8; 4], usize, usize)> = (0..n)
            .map(|i| {
                let rec = 12 + i * 16;
                let mut tag = [0u8; 4];
                tag.copy_from_slice(&data[rec..rec + 4]);
                (
                    tag,
                    u32_at(data, rec + 8) as usize,
                    u32_at(data, rec + 12) as usize,
                )
            })
            .collect();
        let find = |t: &[u8; 4]| {
            tables
                .iter()
                .find(|(tag, _, _)| tag == t)
                .map(|&(_, o, _)| o)
                .expect("font table")
        };
        let head = find(b"head");
        let units_per_em = u16_at(data, head + 18);
        let long_loca = u16_at(data, head + 50) == 1;
        let num_glyphs = u16_at(data, find(b"maxp") + 4) as usize;
        let num_metrics = u16_at(data, find(b"hhea") + 34) as usize;
        let hmtx = find(b"hmtx");
        let advances = (0..num_glyphs)
            .map(|g| u16_at(data, hmtx + 4 * g.min(num_metrics.saturating_sub(1))))
            .collect();
        let loca_at = find(b"loca");
        let loca = (0..=num_glyphs)
            .map(|g| {
                if long_loca {
                    u32_at(data, loca_at + 4 * g) as usize
                } else {
                    u16_at(data, loca_at + 2 * g) as usize * 2
                }
            })
            .collect();
        // cmap: the Windows Unicode BMP subtable, format 4.
        let cmap_at = tables
            .iter()
            .find(|(tag, _, _)| tag == b"cmap")
            .map(|&(_, o, _)| o);
        let mut map = vec![0u16; 0x10000];
        let cmaps = cmap_at.map_or(0, |c| u16_at(data, c + 2) as usize);
        for i in 0..cmaps {
            let cmap_at = cmap_at.unwrap_or(0);
            let rec = cmap_at + 4 + i * 8;
            let (platform, encoding) = (u16_at(data, rec), u16_at(data, rec + 2));
            let sub = cmap_at + u32_at(data, rec + 4) as usize;
            if platform != 3 || encoding != 1 || u16_at(data, sub) != 4 {
                continue;
            }
            let segs = u16_at(data, sub + 6) as usize / 2;
            let ends = sub + 14;
            let starts = ends + 2 * segs + 2;
            let deltas = starts + 2 * segs;
            let ranges = deltas + 2 * segs;
            for s in 0..segs {
                let (start, end) = (u16_at(data, starts + 2 * s), u16_at(data, ends + 2 * s));
                let delta = u16_at(data, deltas + 2 * s);
                let range = u16_at(data, ranges + 2 * s) as usize;
                for c in start..=end {
                    if c == 0xFFFF {
                        break;
                    }
                    let g = if range == 0 {
                        c.wrapping_add(delta)
                    } else {
                        let at = ranges + 2 * s + range + 2 * (c - start) as usize;
                        match u16_at(data, at) {
                            0 => 0,
                            g => g.wrapping_add(delta),
                        }
                    };
                    map[c as usize] = g;
                }
            }
            break;
        }
        Font {
            data,
            tables,
            units_per_em,
            cmap: map,
            advances,
            loca,
        }
    }

    /// The glyph of a character: 0 (.notdef) when the font lacks it.
    pub fn glyph(&self, c: char) -> u16 {
        self.cmap.get(c as usize).copied().unwrap_or(0)
    }

    /// A glyph's advance width in thousandths of an em (the PDF's glyph space).
    pub fn width(&self, glyph: u16) -> u32 {
        let a = self.advances.get(glyph as usize).copied().unwrap_or(0) as u32;
        a * 1000 / self.units_per_em.max(1) as u32
    }

    /// Width of a string in ems.
    pub fn ems(&self, s: &str) -> f32 {
        s.chars()
            .map(|c| self.width(self.glyph(c)) as f32 / 1000.0)
            .sum()
    }

    fn glyph_data(&self, glyf: usize, g: usize) -> &[u8] {
        match (self.loca.get(g), self.loca.get(g + 1)) {
            (Some(&a), Some(&b)) if b > a => &self.data[glyf + a..glyf + b],
            _ => &[],
        }
    }

    /// The font file with only `glyphs` (and .notdef, and the parts of composite glyphs)
    /// left drawn; glyph ids are unchanged.
    pub fn subset(&self, glyphs: &BTreeSet<u16>) -> Vec<u8> {
        let table = |t: &[u8; 4]| {
            self.tables
                .iter()
                .find(|(tag, _, _)| tag == t)
                .map(|&(_, o, l)| &self.data[o..o + l])
        };
        let glyf_at = self
            .tables
            .iter()
            .find(|(tag, _, _)| tag == b"glyf")
            .map(|&(_, o, _)| o)
            .unwrap_or(0);
        // Close the set over composite glyphs' components.
        let mut keep: BTreeSet<u16> = glyphs.clone();
        keep.insert(0);
        let mut todo: Vec<u16> = keep.iter().copied().collect();
        while let Some(g) = todo.pop() {
            let d = self.glyph_data(glyf_at, g as usize);
            if d.len() < 10 || (u16_at(d, 0) as i16) >= 0 {
                continue;
            }
            let mut at = 10;
            loop {
                let flags = u16_at(d, at);
                let part = u16_at(d, at + 2);
                if keep.insert(part) {
                    todo.push(part);
                }
                at += 4 + if flags & 1 != 0 { 4 } else { 2 };
                at += if flags & 8 != 0 {
                    2
                } else if flags & 0x40 != 0 {
                    4
                } else if flags & 0x80 != 0 {
                    8
                } else {
                    0
                };
                if flags & 0x20 == 0 || at >= d.len() {
                    break;
                }
            }
        }
        let num_glyphs = self.loca.len() - 1;
        let mut glyf = Vec::new();
        let mut loca = Vec::with_capacity(4 * (num_glyphs + 1));
        for g in 0..num_glyphs {
            loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
            if keep.contains(&(g as u16)) {
                glyf.extend_from_slice(self.glyph_data(glyf_at, g));
                while glyf.len() % 4 != 0 {
                    glyf.push(0);
                }
            }
        }
        loca.extend_from_slice(&(glyf.len() as u32).to_be_bytes());
        let mut head = table(b"head").unwrap_or_default().to_vec();
        if head.len() >= 52 {
            head[8..12].copy_from_slice(&[0; 4]); // checksum adjustment, recomputed below
            head[50..52].copy_from_slice(&1u16.to_be_bytes()); // long loca
        }
        let mut out_tables: Vec<([u8; 4], Vec<u8>)> = vec![
            (*b"glyf", glyf),
            (*b"head", head),
            (*b"hhea", table(b"hhea").unwrap_or_default().to_vec()),
            (*b"hmtx", table(b"hmtx").unwrap_or_default().to_vec()),
            (*b"loca", loca),
            (*b"maxp", table(b"maxp").unwrap_or_default().to_vec()),
        ];
        out_tables.sort_by_key(|t| t.0);
        write_sfnt(&out_tables)
    }
}

fn checksum(d: &[u8]) -> u32 {
    d.chunks(4).fold(0u32, |s, c| {
        let mut b = [0u8; 4];
        b[..c.len()].copy_from_slice(c);
        s.wrapping_add(u32::from_be_bytes(b))
    })
}

/// An sfnt file from its tables (sorted by tag).
fn write_sfnt(tables: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    let n = tables.len() as u16;
    let mut p = 1u16;
    let mut log = 0u16;
    while p * 2 <= n {
        p *= 2;
        log += 1;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, p * 16, log, n * 16 - p * 16] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    if let Some(h) = head_at {
        let adj = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[h + 8..h + 12].copy_from_slice(&adj.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_covers_gb2312_names_and_subsets_to_what_is_drawn() {
        let f = Font::get();
        // Common surname and place characters, digits, full-width punctuation.
        for c in "张王李赵娄星市食品经营许可证０123（）：，。·—".chars() {
            assert_ne!(f.glyph(c), 0, "no glyph for {c}");
        }
        // CJK full width, ASCII digits narrower.
        assert_eq!(f.width(f.glyph('张')), 1000);
        assert!(f.width(f.glyph('1')) < 700);
        let used: BTreeSet<u16> = "张三".chars().map(|c| f.glyph(c)).collect();
        let sub = f.subset(&used);
        assert!(sub.len() < FILE.len() / 10, "{} bytes", sub.len());
        let back = Font::parse(Box::leak(sub.into_boxed_slice()));
        assert_eq!(back.glyph('张'), 0, "the subset carries no cmap");
        let g = f.glyph('张') as usize;
        let glyf = |font: &Font| font.tables.iter().find(|(t, _, _)| t == b"glyf").unwrap().1;
        // (padded to four bytes in the subset)
        assert!(
            back.glyph_data(glyf(&back), g)
                .starts_with(f.glyph_data(glyf(f), g)),
            "a used glyph is kept whole"
        );
        let other = f.glyph('李') as usize;
        assert!(back.glyph_data(glyf(&back), other).is_empty());
        // The file's checksum adjustment makes the whole sum come out right.
        let whole = f.subset(&used);
        assert_eq!(checksum(&whole), 0xB1B0_AFBA);
    }
}
