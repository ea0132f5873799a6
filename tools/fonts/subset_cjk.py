#!/usr/bin/env python3
"""Builds crates/tongban-core/fonts/TongbanSansSC-Regular.ttf, the font the licence and 文书
PDFs embed: Noto Sans CJK SC Regular (SIL OFL 1.1) cut down to GB 2312 (all 6763 hanzi and
its symbols), ASCII and common punctuation, with its CFF outlines converted to TrueType
quadratics (glyf), which the PDF writer subsets per document.

    apt-get install fonts-noto-cjk && pip install fonttools
    python3 tools/fonts/subset_cjk.py [path/to/NotoSansCJK-Regular.ttc]

The family is renamed (OFL condition 3: a modified version does not use the original's
names); copyright and licence stay in the name table and in fonts/OFL.txt.
"""
import sys
from fontTools.ttLib import TTCollection, TTFont, newTable
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = "crates/tongban-core/fonts/TongbanSansSC-Regular.ttf"
FAMILY = "Tongban Sans SC"
PS_NAME = "TongbanSansSC-Regular"


def gb2312():
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def wanted():
    chars = gb2312()
    chars |= {chr(c) for c in range(0x20, 0x7F)}
    ranges = [(0x00A0, 0x00FF), (0x2010, 0x2027), (0x2030, 0x203B), (0x2103, 0x2103),
              (0x2116, 0x2116), (0x2160, 0x216B), (0x2190, 0x2193), (0x2460, 0x2473),
              (0x25A0, 0x25CF), (0x3000, 0x303F), (0xFF01, 0xFF5E), (0xFFE0, 0xFFE5)]
    for a, b in ranges:
        chars |= {chr(c) for c in range(a, b + 1)}
    return chars


def pick_sc(path):
    if path.endswith(".ttc"):
        for f in TTCollection(path).fonts:
            if f["name"].getDebugName(6) == "NotoSansCJKsc-Regular":
                return f
        raise SystemExit("no NotoSansCJKsc-Regular in " + path)
    return TTFont(path)


def to_truetype(font):
    """CFF → glyf with cubic-to-quadratic conversion (as fontTools' otf2ttf snippet)."""
    order = font.getGlyphOrder()
    gs = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(gs)
        gs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                 "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                 "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    maxp.numGlyphs = len(order)
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def rename(font):
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 6, 16, 17, 18, 21, 22):
            name.removeNames(nameID=rec.nameID)
    for pid, eid, lid in ((3, 1, 0x409), (1, 0, 0)):
        name.setName(FAMILY, 1, pid, eid, lid)
        name.setName("Regular", 2, pid, eid, lid)
        name.setName(PS_NAME + ";tongban", 3, pid, eid, lid)
        name.setName(FAMILY, 4, pid, eid, lid)
        name.setName(PS_NAME, 6, pid, eid, lid)


def main():
    font = pick_sc(SRC)
    opts = subset.Options()
    opts.layout_features = []  # no GSUB/GPOS: the PDF writer maps characters one to one
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.desubroutinize = True
    s = subset.Subsetter(opts)
    s.populate(unicodes=[ord(c) for c in wanted()])
    s.subset(font)
    for t in ("GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG", "DSIG"):
        if t in font:
            del font[t]
    to_truetype(font)
    rename(font)
    font.save(OUT)
    print(OUT, len(font.getGlyphOrder()), "glyphs")


main()
