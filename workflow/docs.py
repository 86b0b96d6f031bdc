"""DOCX helpers laid out like a Chinese government document (公文).

Fonts follow GB/T 9704 habits where the machine has them: 方正小标宋简体 title (二号, 22 pt),
黑体 for level-one headings (三号, 16 pt), 仿宋_GB2312 body (三号); Word falls back to installed
fonts. East-Asian font names are set on ``w:eastAsia`` so Chinese text really uses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

TITLE_FONT = "方正小标宋简体"
HEAD_FONT = "黑体"
BODY_FONT = "仿宋_GB2312"
NUMERALS = "一二三四五六七八九十"


def cn_date(day: date) -> str:
    """``2025年4月3日`` (no leading zeros, as in 公文 落款)."""
    return f"{day.year}年{day.month}月{day.day}日"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二 (section numbers up to 99)."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else NUMERALS[tens - 1]) + "十" + (NUMERALS[ones - 1] if ones else "")


def style_run(run: Run, font: str = BODY_FONT, size: float = 16, bold: bool = False,
              color: RGBColor | None = None) -> Run:
    """Set the Latin and East-Asian font, size, weight and colour of ``run``."""
    run.font.name = font
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)
    return run


def para(doc: DocumentType, text: str = "", font: str = BODY_FONT, size: float = 16,
         bold: bool = False, align: Any = None, indent: bool = False,
         color: RGBColor | None = None) -> Paragraph:
    """A paragraph of one styled run; ``indent`` = two-character first-line indent."""
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(0)
    if text:
        style_run(p.add_run(text), font, size, bold, color)
    return p


def red_rule(doc: DocumentType) -> Paragraph:
    """The red separator line under the 文号 (a paragraph bottom border)."""
    p = doc.add_paragraph()
    ppr = p._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"),
                       ("w:color", "FF0000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    ppr.append(border)
    return p


def heading(doc: DocumentType, number: int, text: str) -> Paragraph:
    """A level-one heading ``一、…`` in 黑体."""
    return para(doc, f"{cn_number(number)}、{text}", HEAD_FONT, 16, indent=True)


def table(doc: DocumentType, headers: Sequence[str], rows: Sequence[Sequence[Any]],
          empty: str = "无") -> None:
    """A bordered table (header row bold); a one-line ``empty`` paragraph when no rows."""
    if not rows:
        para(doc, empty, indent=True)
        return
    tbl = doc.add_table(rows=1, cols=len(headers))
    tbl.style = "Table Grid"
    tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(tbl.rows[0].cells, headers, strict=True):
        cell.text = ""
        style_run(cell.paragraphs[0].add_run(str(header)), BODY_FONT, 10.5, bold=True)
    for row in rows:
        cells = tbl.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            text = "" if value is None else str(value)
            style_run(cell.paragraphs[0].add_run(text), BODY_FONT, 10.5)


CENTER = WD_ALIGN_PARAGRAPH.CENTER
RIGHT = WD_ALIGN_PARAGRAPH.RIGHT
LEFT = WD_ALIGN_PARAGRAPH.LEFT
RED = RGBColor(0xFF, 0x00, 0x00)
