"""XLSX writing for the working ledgers, with formula-like cells neutralised.

Every string cell passes through :func:`neutralise`: text starting with ``= + - @`` (or a tab
or carriage return) is prefixed with ``'`` so no spreadsheet ever evaluates it
(``shared/spec/interfaces.md``). Strings are written with ``write_string`` so xlsxwriter never
turns them into formulas either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``'`` + text when ``value`` is a string that a spreadsheet could read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass
class Sheet:
    """One worksheet: a title line, the header row, the data rows and an optional note."""

    name: str
    title: str
    headers: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    note: str = ""
    widths: dict[int, int] = field(default_factory=dict)


def _cell(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, list | tuple):
        ws.write_string(row, col, neutralise("；".join(str(v) for v in value)), fmt)
    else:
        ws.write_string(row, col, neutralise(str(value)), fmt)


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to ``path``: row 1 title, row 2 headers, data from row 3, note below."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    try:
        title_fmt = workbook.add_format({"bold": True, "font_size": 14, "align": "center",
                                         "font_name": "宋体"})
        head_fmt = workbook.add_format({"bold": True, "border": 1, "align": "center",
                                        "valign": "vcenter", "text_wrap": True,
                                        "bg_color": "#D9E1F2", "font_name": "宋体"})
        body_fmt = workbook.add_format({"border": 1, "valign": "top", "text_wrap": True,
                                        "font_name": "宋体"})
        note_fmt = workbook.add_format({"italic": True, "font_color": "#7F7F7F",
                                        "font_name": "宋体"})
        for sheet in sheets:
            ws = workbook.add_worksheet(sheet.name[:31])
            last = max(len(sheet.headers) - 1, 0)
            if last:
                ws.merge_range(0, 0, 0, last, neutralise(sheet.title), title_fmt)
            else:
                ws.write_string(0, 0, neutralise(sheet.title), title_fmt)
            for col, header in enumerate(sheet.headers):
                ws.write_string(1, col, neutralise(header), head_fmt)
                ws.set_column(col, col, sheet.widths.get(col, max(10, min(40, 2 * len(header)
                                                                          + 4))))
            for r, row in enumerate(sheet.rows, start=2):
                for col, value in enumerate(row):
                    _cell(ws, r, col, value, body_fmt)
            if sheet.note:
                ws.write_string(len(sheet.rows) + 3, 0, neutralise(sheet.note), note_fmt)
            ws.freeze_panes(2, 0)
    finally:
        workbook.close()
    return path
