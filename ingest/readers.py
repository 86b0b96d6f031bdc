"""Read delivered files into string DataFrames: CSV (any of four encodings) and XLSX.

Encodings are never assumed: a BOM is sniffed first; otherwise strict decode trials in the
order UTF-8, GB18030 (a superset of GBK), with charset-normalizer consulted when both fail or
for its opinion on short ambiguous files. A file that decodes under no candidate, holds NUL
bytes or is empty is rejected with :class:`riskgraph.errors.DataError`.

Every frame returned has the original (cleaned) header names as columns, string/None cells and
an index equal to the row number an operator finds in the file opened in a spreadsheet (Excel,
WPS): the sheet row of a workbook; for a CSV the number of its record, counting from 1 at the
first line of the file (normally the header) — every record is one row, blank ones included,
and a line break inside a quoted cell stays in its cell (a text editor's line number is the
same unless an earlier cell holds a line break). Blank rows (no cell with text) are skipped
but keep their numbers; the header is the first row that is not blank. Quarantine rows,
duplicate reports and the ``row`` provenance in the graph all use this number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ingest.normalise import clean_text
from riskgraph.errors import DataError

KINDS = {"全量": "full", "增量": "increment"}
_NAME_RE = re.compile(r"^(?P<stem>.+?)(?:_(?P<date>\d{8}))?_(?P<kind>全量|增量)$")


@dataclass(frozen=True)
class FileName:
    """What a file name says: the table (resolved against known tables), date and kind."""

    table: str | None
    date: str | None
    kind: str  # full | increment


def parse_file_name(name: str, tables: list[str]) -> FileName:
    """``市场监管_企业基本信息_20240630_全量.csv`` → table 企业基本信息, 20240630, full.

    The table is the longest known table name that the stem ends with (any prefix before
    it). For workbooks the table may be None (one table per sheet). Raises DataError when the
    kind suffix is missing.
    """
    stem = Path(name).stem
    m = _NAME_RE.match(stem)
    if not m:
        raise DataError(f"{name}: file name does not end in _全量 or _增量",
                        "name files <prefix>_<table>_<date>_<全量|增量>.<csv|xlsx>")
    body = m.group("stem")
    table = None
    for candidate in sorted(tables, key=len, reverse=True):
        if body == candidate or body.endswith("_" + candidate) or body.endswith(candidate):
            table = candidate
            break
    return FileName(table=table, date=m.group("date"), kind=KINDS[m.group("kind")])


def detect_encoding(data: bytes) -> str:
    """The encoding of ``data``: utf-8-sig (BOM), utf-8, gb18030; DataError when none fits."""
    if not data.strip():
        raise DataError("file is empty", "re-export the file with a header row and data")
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in data[:65536]:
        raise DataError("file holds binary data (NUL bytes), not text",
                        "deliver CSV text in UTF-8, GBK or GB18030, or an XLSX workbook")
    try:
        data.decode("utf-8", errors="strict")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            raise DataError("file is truncated (ends inside a UTF-8 character)",
                            "re-deliver the complete file") from exc
    try:
        data.decode("gb18030", errors="strict")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        try:
            data.decode(best.encoding, errors="strict")
            return best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise DataError("file cannot be decoded as UTF-8, GBK or GB18030 (corrupt or binary)",
                    "re-export the file as UTF-8 CSV")


def _blank(cells: Iterable[object]) -> bool:
    return all(c is None or str(c).strip() == "" for c in cells)


def _numbered(rows: Iterable[Sequence[object]]) -> list[tuple[int, Sequence[object]]]:
    """``(row number, cells)`` of the rows that are not blank, numbered from 1 over all rows
    (the module doc's numbering)."""
    return [(n, cells) for n, cells in enumerate(rows, start=1) if not _blank(cells)]


def csv_column(index: int) -> str:
    """Where the 0-based column ``index`` of a CSV is, for messages: ``column 3``."""
    return f"column {index + 1}"


def sheet_column(index: int) -> str:
    """Where the 0-based column ``index`` of a sheet is, for messages: ``column C``."""
    from openpyxl.utils import get_column_letter

    return f"column {get_column_letter(index + 1)}"


def _frame(numbered: list[tuple[int, Sequence[object]]],
           position: Callable[[int], str] = csv_column) -> pd.DataFrame:
    """A frame from numbered rows: the first is the header, the others the records, indexed by
    their row numbers. ``attrs["header_cells"]`` holds, per column, where its header cell is
    (``position``) and the cell as written: two cells may clean to the same name."""
    header = numbered[0][1]
    names = [clean_text(h) or f"_col{i}" for i, h in enumerate(header)]
    width = len(names)
    fixed = []
    for _n, r in numbered[1:]:
        cells = list(r[:width]) + [None] * (width - len(r))
        fixed.append(cells)
    frame = pd.DataFrame(fixed, columns=names, dtype=object)
    frame.index = pd.Index([n for n, _r in numbered[1:]], dtype="int64")
    # the header as written where cleaning changed it (reported with the header mappings)
    frame.attrs["raw_headers"] = {name: str(h) for name, h in zip(names, header, strict=True)
                                  if h is not None and str(h) != name}
    frame.attrs["header_cells"] = [(position(i), "" if h is None else str(h))
                                   for i, h in enumerate(header)]
    return frame


def _first_line(text: str) -> str:
    """The first line of ``text`` holding more than spaces (the header: blank lines may come
    before it)."""
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if line.strip() or end < 0:
            return line
        start = end + 1


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV file as a frame of raw strings; ragged rows are padded/truncated and reported."""
    data = path.read_bytes()
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    header_line = _first_line(text)
    delimiter = "\t" if "," not in header_line and "\t" in header_line else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                  strict=True))
    except csv.Error as exc:
        raise DataError(f"{path.name}: CSV structure broken ({exc})",
                        "check quoting; re-export the file") from exc
    numbered = _numbered(records)
    if not numbered:
        raise DataError(f"{path.name}: no header row", "re-export with a header row")
    frame = _frame(numbered)
    frame.attrs["encoding"] = encoding
    width = len(numbered[0][1])
    frame.attrs["ragged"] = sum(1 for _n, r in numbered[1:] if len(r) != width)
    return frame


def read_xlsx(path: Path) -> dict[str, pd.DataFrame]:
    """Every non-empty sheet of a workbook (read-only mode), keyed by the sheet name."""
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path.name}: not a readable XLSX workbook ({exc.__class__.__name__})",
                        "re-save the workbook as .xlsx") from exc
    sheets: dict[str, pd.DataFrame] = {}
    try:
        for sheet in workbook.worksheets:
            # read-only rows start at row 1, missing (empty) rows included
            numbered = _numbered(sheet.iter_rows(values_only=True))
            if not numbered:
                continue
            frame = _frame(numbered, sheet_column)
            frame.attrs["encoding"] = "xlsx"
            frame.attrs["ragged"] = 0
            name = clean_text(sheet.title) or sheet.title
            sheets[sheet.title if name in sheets else name] = frame
    except Exception as exc:  # noqa: BLE001 — any parse failure means the workbook is unusable
        raise DataError(f"{path.name}: workbook is damaged ({exc.__class__.__name__}: {exc})",
                        "re-save the workbook as .xlsx") from exc
    finally:
        workbook.close()
    if not sheets:
        raise DataError(f"{path.name}: workbook has no data", "deliver at least one sheet")
    return sheets


class TablesRead(NamedTuple):
    """What :func:`read_tables` found in a file."""

    meta: FileName
    tables: dict[str, pd.DataFrame]
    notes: list[str]
    """How the file differed from the contract, in words (run report, HTML, summary)."""
    ignored_sheets: list[str]
    """Sheets of a workbook that name no table and were not read (also in ``notes``)."""


SHEET_NAME_ENDING = "name_ending"
SHEET_OF_FILE_NAME = "file_name"
"""``attrs["sheet_placement"]`` of a sheet not named exactly after its table: its name ends
in the table's, or it is the workbook's only sheet, read as the table of the file name."""


def read_tables(path: Path, tables: list[str]) -> TablesRead:
    """Read ``path`` into ``{table: frame}`` for the tables of its source, with notes on how
    the file differed from the contract (for the run report: nothing is guessed silently).

    A CSV holds the table named in its file name. A workbook holds one table per sheet, the
    sheet named after its table (a name ending in it, ``2024企业基本信息``, is read as that
    table, noted). Sheets naming no known table are ignored (noted, and listed in
    ``ignored_sheets``) when another sheet names one; a workbook whose only sheet names no
    table is read as the table of its file name (noted). DataError (the file is rejected) when
    no table can be placed: no sheet names one and the file name names none, or several sheets
    do not and none does, or two sheets name the same table. Each frame's ``attrs["sheet"]``
    is its sheet name (workbooks), ``attrs["sheet_placement"]`` how a sheet not named exactly
    after its table was placed (:data:`SHEET_NAME_ENDING`, :data:`SHEET_OF_FILE_NAME`).
    """
    meta = parse_file_name(path.name, tables)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return TablesRead(meta, *_place_sheets(path, read_xlsx(path), tables, meta.table))
    if suffix in (".csv", ".txt"):
        if meta.table is None:
            raise DataError(f"{path.name}: file name names no known table",
                            f"known tables: {', '.join(tables)}")
        return TablesRead(meta, {meta.table: read_csv(path)}, [], [])
    raise DataError(f"{path.name}: unsupported file type {suffix!r}", "deliver .csv or .xlsx")


def _sheet_table(sheet: str, tables: list[str]) -> str | None:
    """The table a sheet name names: equal to it, else the longest table name it ends with."""
    if sheet in tables:
        return sheet
    return next((t for t in sorted(tables, key=len, reverse=True) if sheet.endswith(t)), None)


def _place_sheets(path: Path, sheets: dict[str, pd.DataFrame], tables: list[str],
                  file_table: str | None
                  ) -> tuple[dict[str, pd.DataFrame], list[str], list[str]]:
    """``({table: frame}, notes, ignored sheets)`` of a workbook's non-empty sheets
    (:func:`read_tables`)."""
    hint = f"name each sheet after its table ({', '.join(tables)})"
    named = {sheet: _sheet_table(sheet, tables) for sheet in sheets}
    notes: list[str] = []
    ignored: list[str] = []
    fallback: str | None = None
    if not any(named.values()):
        listed = ", ".join(repr(s) for s in sheets)
        if file_table is None:
            raise DataError(f"{path.name}: no sheet names a known table ({listed}) and the "
                            "file name names none", hint)
        if len(sheets) > 1:
            raise DataError(f"{path.name}: no sheet names a known table ({listed}): which one "
                            f"holds {file_table}, the table of the file name, is not known",
                            hint)
        fallback = next(iter(sheets))
        named[fallback] = file_table
        notes.append(f"sheet {fallback!r} names no table: read as {file_table}, the table of "
                     "the file name")
    out: dict[str, pd.DataFrame] = {}
    for sheet, frame in sheets.items():
        table = named[sheet]
        if table is None:
            notes.append(f"sheet {sheet!r} ignored: it names no known table")
            ignored.append(sheet)
            continue
        if table in out:
            raise DataError(f"{path.name}: sheets {out[table].attrs['sheet']!r} and {sheet!r} "
                            f"both hold table {table}", "deliver one sheet per table")
        if table != sheet and sheet != fallback:
            notes.append(f"sheet {sheet!r} read as table {table} (its name ends in it)")
            frame.attrs["sheet_placement"] = SHEET_NAME_ENDING
        elif sheet == fallback:
            frame.attrs["sheet_placement"] = SHEET_OF_FILE_NAME
        frame.attrs["sheet"] = sheet
        out[table] = frame
    return out, notes, ignored
