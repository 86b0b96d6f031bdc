"""Downloads of the app: the county/sector list as XLSX, the evidence dossier as HTML and DOCX.

Formula-like cells (starting with ``= + - @``, also after leading whitespace or tab/CR) are
neutralised with ``analytics.export.safe_cell`` when scoring's exporter is installed, else with
the same rule here. Every value in the HTML dossier is escaped.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _local_safe_cell(value: Any) -> Any:
    """Prefix a quote to text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _load_safe_cell() -> Callable[[Any], Any]:
    try:
        from analytics.export import safe_cell
    except ImportError:
        return _local_safe_cell
    return safe_cell  # type: ignore[no-any-return]


safe_cell = _load_safe_cell()


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and header) passed through safe_cell."""
    out = frame.copy()
    out.columns = [safe_cell(str(c)) for c in out.columns]
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(_safe_value).astype(object)
    return out


def _safe_value(value: Any) -> Any:
    """Text and lists through safe_cell; numbers, dates and empties unchanged."""
    if isinstance(value, list | tuple):
        return safe_cell(";".join(map(str, value)))
    if isinstance(value, str):
        return safe_cell(value)
    return value


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "清单", mark: str | None = None) -> bytes:
    """An XLSX workbook of ``frame`` (neutralised), with an optional confidentiality line."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as writer:
        start = 1 if mark else 0
        neutralise(frame).to_excel(writer, sheet_name=sheet[:31], index=False, startrow=start)
        if mark:
            writer.sheets[sheet[:31]].write_string(0, 0, safe_cell(mark))
    return buffer.getvalue()


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>—</p>"
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def dossier_html(title: str, mark: str, header: list[tuple[str, Any]],
                 sections: list[tuple[str, pd.DataFrame]]) -> str:
    """A printable evidence dossier: header facts, then one table per section (escaped)."""
    facts = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in header)
    body = "".join(f"<h2>{_e(name)}</h2>{_table_html(frame)}" for name, frame in sections)
    return (
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>body{{font-family:'Noto Sans CJK SC',sans-serif;"
        "margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #999;padding:4px 8px;text-align:left}"
        ".mark{color:#b00;font-weight:bold}</style></head><body>"
        f"<p class=\"mark\">{_e(mark)}</p><h1>{_e(title)}</h1><table>{facts}</table>"
        f"{body}<p class=\"mark\">{_e(mark)}</p></body></html>"
    )


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def dossier_docx(title: str, mark: str, header: list[tuple[str, Any]],
                 sections: list[tuple[str, pd.DataFrame]]) -> bytes:
    """The same dossier as a Word document."""
    from docx import Document

    doc = Document()
    doc.add_paragraph(mark)
    doc.add_heading(title, level=1)
    facts = doc.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for key, value in header:
        cells = facts.add_row().cells
        cells[0].text, cells[1].text = str(key), _cell_text(value)
    for name, frame in sections:
        doc.add_heading(name, level=2)
        if frame.empty:
            doc.add_paragraph("—")
            continue
        table = doc.add_table(rows=1, cols=len(frame.columns))
        table.style = "Table Grid"
        for cell, column in zip(table.rows[0].cells, frame.columns, strict=True):
            cell.text = str(column)
        for row in frame.itertuples(index=False):
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = _cell_text(value)
    doc.add_paragraph(f"{mark} · {datetime.now():%Y-%m-%d %H:%M}")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
