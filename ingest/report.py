"""Run report (JSON), quarantine CSVs and the offline HTML data-quality report.

The HTML is self-contained (inline CSS, no scripts, no CDN) and shows counts, rules and
expectation outcomes only — never a cell value, so never a citizen ID.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

QUARANTINE_COLUMNS = ("delivery", "source", "file", "row", "column", "rule", "value",
                      "value_hash", "sheet")
"""Columns of a quarantine file, in order (operators' interface: new columns go at the end);
``sheet`` is the workbook sheet of the row (empty for a CSV)."""
_FORMULA_START = ("=", "+", "-", "@")


@dataclass
class TableReport:
    table: str
    kind: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    kept_keys: int = 0
    """Full snapshot: record keys of quarantined rows still readable: their records are kept
    (not ended) although the rows were not loaded."""
    duplicates: int = 0
    duplicate_rows: list[tuple[int, int]] = field(default_factory=list)  # (row, first row)
    status: str = "pending"  # loaded | rejected | blocked | skipped
    message: str = ""
    unexpected_columns: list[str] = field(default_factory=list)
    """Columns not read: not declared, or a second column for a field already read."""
    missing_optional_columns: list[str] = field(default_factory=list)
    header_mappings: dict[str, str] = field(default_factory=dict)
    """Header as written → declared header it was read as, where they differ (an alias,
    spaces, full-width characters)."""
    sheet: str = ""  # the workbook sheet the table was read from
    sheet_placement: str = ""
    """How a sheet not named exactly after the table was read as it: ``name_ending`` (its name
    ends in the table's) or ``file_name`` (the workbook's only sheet, read as the table of the
    file name); empty otherwise (ingest.readers)."""
    rules: dict[str, int] = field(default_factory=dict)
    expectations: list[dict[str, Any]] = field(default_factory=list)
    encoding: str = ""


@dataclass
class FileReport:
    delivery: str
    source: str
    file: str
    sha256: str = ""
    kind: str = ""
    status: str = "pending"  # loaded | rejected | blocked | skipped
    message: str = ""
    notes: list[str] = field(default_factory=list)
    """How the file differed from the contract and what the adapter did (sheets ignored, a
    sheet read as the file name's table, headers mapped, columns not read)."""
    ignored_sheets: list[str] = field(default_factory=list)
    """Workbook sheets naming no table, not read (also in ``notes``)."""
    tables: list[TableReport] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    party_links: int = 0  # references to unregistered enterprises linked to a Party
    unresolved: list[dict[str, Any]] = field(default_factory=list)  # (listed, capped)
    unresolved_count: int = 0  # references written nowhere (exact)

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for t in self.tables)


@dataclass
class IngestReport:
    run_id: str
    inbox: str
    started: str
    finished: str = ""
    force: bool = False
    files: list[FileReport] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    report_path: str = ""
    html_path: str = ""
    quarantine_dir: str = ""
    seconds: float = 0.0
    path: str = "transactional"  # or "bulk import" (ingest/bulk.py)
    reader: str = "thread"  # or "process": where files were read while others were written
    bulk: dict[str, Any] = field(default_factory=dict)
    warm_up: dict[str, Any] = field(default_factory=dict)  # ingest.warmup: what was planned ahead

    @property
    def rejected(self) -> list[FileReport]:
        return [f for f in self.files if f.status in ("rejected", "blocked")]

    @property
    def blocked_deliveries(self) -> list[dict[str, Any]]:
        return [d for d in self.deliveries if d.get("status") == "blocked"]

    @property
    def quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def unresolved(self) -> int:
        """References to unregistered enterprises that could not be linked (see files)."""
        return sum(f.unresolved_count for f in self.files)

    @property
    def ok(self) -> bool:
        """False when a file or delivery was rejected or blocked (exit code 1)."""
        return not self.rejected and not self.blocked_deliveries

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for f, raw in zip(self.files, data["files"], strict=True):
            raw.update(rows_read=f.rows_read, rows_loaded=f.rows_loaded,
                       rows_quarantined=f.rows_quarantined, duplicates=f.duplicates)
        data["totals"] = {"files": len(self.files), "rows_read": self.rows_read,
                          "rows_loaded": self.rows_loaded, "rows_quarantined": self.quarantined,
                          "duplicates": sum(f.duplicates for f in self.files),
                          "rejected_files": len(self.rejected),
                          "blocked_deliveries": len(self.blocked_deliveries),
                          "party_links": sum(f.party_links for f in self.files),
                          "unresolved_references": self.unresolved,
                          "rows_per_second": round(self.rows_read / self.seconds, 1)
                          if self.seconds else None}
        data["ok"] = self.ok
        return data


def safe_cell(value: Any) -> Any:
    """Neutralise formula-like cells (``= + - @``) in every CSV the product writes."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def append_quarantine(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append quarantine rows to ``path`` (UTF-8 with BOM so Excel opens it; header once)."""
    if not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", encoding="utf-8-sig" if new else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=QUARANTINE_COLUMNS)
        if new:
            writer.writeheader()
        for row in rows:
            writer.writerow({k: safe_cell(row.get(k)) for k in QUARANTINE_COLUMNS})


def write_reports(report: IngestReport, runs_dir: Path) -> None:
    out = runs_dir / report.run_id
    out.mkdir(parents=True, exist_ok=True)
    report.report_path = str(out / "report.json")
    report.html_path = str(out / "data_quality.html")
    (out / "report.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "data_quality.html").write_text(render_html(report), encoding="utf-8")


def render_html(report: IngestReport) -> str:
    e = html.escape
    rules: Counter[str] = Counter()
    for f in report.files:
        for t in f.tables:
            rules.update(t.rules)
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>数据质量报告 {e(report.run_id)}</title><style>",
        "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}"
        ".rejected,.blocked{background:#fdd}.loaded{background:#efe}.skipped{color:#888}"
        "</style></head><body>",
        f"<h1>数据质量报告 / Data quality — run {e(report.run_id)}</h1>",
        f"<p>inbox {e(report.inbox)} · started {e(report.started)} · finished "
        f"{e(report.finished)} · rows read {report.rows_read} · loaded {report.rows_loaded} · "
        f"quarantined {report.quarantined} · rejected/blocked files {len(report.rejected)}</p>",
    ]
    if report.messages:
        parts.append("<ul>" + "".join(f"<li>{e(m)}</li>" for m in report.messages) + "</ul>")
    if rules:
        parts.append("<h2>Quarantine rules</h2><table><tr><th>rule</th><th>rows</th></tr>")
        parts += [f"<tr><td>{e(k)}</td><td>{v}</td></tr>" for k, v in rules.most_common()]
        parts.append("</table>")
    notes = [(f, n) for f in report.files for n in f.notes]
    if notes:
        parts.append("<h2>Adapted to the file / 文件差异</h2><ul>" + "".join(
            f"<li>{e(f.delivery)}/{e(f.source)}/{e(f.file)}: {e(n)}</li>" for f, n in notes)
            + "</ul>")
    parts.append("<h2>Files</h2><table><tr><th>delivery</th><th>source</th><th>file</th>"
                 "<th>table</th><th>kind</th><th>status</th><th>read</th><th>loaded</th>"
                 "<th>quarantined</th><th>duplicates</th><th>unexpected columns</th>"
                 "<th>headers mapped</th><th>message</th></tr>")
    for f in report.files:
        tables = f.tables or [TableReport(table="", kind=f.kind, status=f.status,
                                          message=f.message)]
        for t in tables:
            parts.append(
                f"<tr class='{e(t.status)}'><td>{e(f.delivery)}</td><td>{e(f.source)}</td>"
                f"<td>{e(f.file)}</td><td>{e(t.table)}</td><td>{e(t.kind)}</td>"
                f"<td>{e(t.status)}</td><td>{t.rows_read}</td><td>{t.rows_loaded}</td>"
                f"<td>{t.rows_quarantined}</td><td>{t.duplicates}</td>"
                f"<td>{e(', '.join(t.unexpected_columns))}</td>"
                f"<td>{e(', '.join(f'{k} → {v}' for k, v in t.header_mappings.items()))}</td>"
                f"<td>{e(t.message or f.message)}</td></tr>")
    parts.append("</table><h2>Expectations (Great Expectations)</h2><table><tr><th>file</th>"
                 "<th>table</th><th>column</th><th>expectation</th><th>rule</th>"
                 "<th>success</th><th>unexpected</th></tr>")
    for f in report.files:
        for t in f.tables:
            for x in t.expectations:
                parts.append(
                    f"<tr><td>{e(f.file)}</td><td>{e(t.table)}</td><td>{e(x['column'])}</td>"
                    f"<td>{e(x['expectation'])}</td><td>{e(x['rule'])}</td>"
                    f"<td>{'✔' if x['success'] else '✘'}</td><td>{x['unexpected']}</td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)
