"""Rendering tables into files (CSV in four encodings, XLSX) and recording the truth as we go.

For each table of a file: shuffle the column order, pick about 1 % of the rows to break one
contract rule each (recorded in ``invalid_rows``), render every value messily, insert a few
exact duplicate rows (``duplicates``), and count the node keys of the valid rows.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from demo.messiness import (
    NOISE_RATE,
    Style,
    bad_amount,
    bad_date,
    bad_id,
    bad_region,
    bad_uscc,
    missing,
    noisy_code,
    noisy_text,
    render_caseno,
    render_date,
    render_ratio,
    render_wan,
    render_yuan,
)
from demo.tables import Col, Table
from riskgraph.divisions import divisions
from riskgraph.identifiers import is_masked_id, is_valid_citizen_id, is_valid_uscc

Row = dict[str, object]
Cell = str | int | float
INVALID_RATE = 0.01
DUPLICATE_RATE = 0.001
XLSX_CREATED = datetime(2026, 10, 31, 8, 0, 0)


@dataclass
class Truth:
    """What the generator knows: invalid rows, duplicates, node keys of valid rows."""

    invalid: list[tuple[str, str, str, int, str, str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    nodes: dict[str, set[str]] = field(default_factory=dict)
    approx: dict[str, set[str]] = field(default_factory=dict)
    rows_written: int = 0
    person_ids: set[str] = field(default_factory=set)

    def node(self, label: str, key: str) -> None:
        self.nodes.setdefault(label, set()).add(key)

    def near(self, label: str, key: str) -> None:
        self.approx.setdefault(label, set()).add(key)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def count_row(table: Table, row: Row, truth: Truth, id_cols: list[str]) -> None:
    """Add the node keys of one valid row (rules of docs/architecture.md)."""
    name = table.name

    def iso(value: object) -> str:
        return value.isoformat() if isinstance(value, date) else str(value)

    if name == "企业基本信息":
        code = str(row["统一社会信用代码"])
        truth.node("Enterprise", code if len(code) == 18 else "REG:" + code)
        truth.near("Phone", _digits(str(row["联系电话"])))
        truth.near("Address", "".join(str(row["住所"]).split()))
    elif name == "案件信息":
        truth.node("CourtCase", str(row["案号"]))
    elif name == "涉案线索":
        truth.node("PoliceClue", str(row["线索编号"]))
    elif name == "举报线索":
        truth.node("Tip", str(row["举报编号"]))
    elif name == "广告监测":
        truth.node("Ad", str(row["监测编号"]))
    elif name == "信用名单":
        subject = row["统一社会信用代码或证件号码"] or row["主体名称"]
        truth.node("CreditListing", f"{subject}|{row['名单类型']}|{iso(row['列入日期'])}")
    elif name == "企业征信摘要":
        truth.node("CreditReport", f"{row['统一社会信用代码']}|{iso(row['报告日期'])}")
    elif name == "纳税人信息":
        truth.node("TaxYear", f"{row['纳税人识别号']}|{row['评价年度']}")
    elif name == "申报汇总":
        truth.node("TaxYear", f"{row['纳税人识别号']}|{row['所属年度']}")
    elif name == "账户异动":
        truth.node(
            "BankAlert",
            f"{row['统一社会信用代码或证件号码']}|{iso(row['监测期起'])}|{row['异动特征']}",
        )
    elif name == "变更记录":
        parts = (row["变更事项"], row["变更前内容"], row["变更后内容"], iso(row["变更日期"]))
        truth.node("Change", f"{row['统一社会信用代码']}|" + "|".join(map(str, parts)))
    for name_ in id_cols:
        value = row.get(name_)
        if value is None:
            if name in ("当事人", "信用名单") and row.get("当事人类型", "自然人") == "自然人":
                truth.near("Party", f"{name}|{row.get('当事人名称', row.get('主体名称'))}|")
        elif value in truth.person_ids:
            truth.node("Person", str(value))
        elif name in ("当事人", "信用名单") and is_masked_id(str(value)):
            truth.near("Party", f"{name}|{row.get('当事人名称', row.get('主体名称'))}|{value}")


def _applicable(rule: str, value: object) -> bool:
    if rule == "uscc_check":
        return isinstance(value, str) and len(value) == 18 and is_valid_uscc(value)
    if rule == "id_check":
        return isinstance(value, str) and is_valid_citizen_id(value)
    return True


class Renderer:
    """Renders the tables of one file."""

    def __init__(
        self,
        delivery: str,
        source: str,
        file_name: str,
        xlsx: bool,
        seed_key: str,
        truth: Truth,
        province: str,
        duplicates: bool = True,
    ) -> None:
        self.delivery, self.source, self.file_name = delivery, source, file_name
        self.rng = random.Random(seed_key)
        self.style = Style.pick(self.rng, xlsx)
        self.truth = truth
        self.province = province
        self.allow_duplicates = duplicates
        self.reg = divisions()

    def column(self, col: Col, values: list[object], rows: list[Row]) -> list[Cell]:
        """Render one column: the value forms of its kind, missing markers, sampled noise."""
        rng, style, kind = self.rng, self.style, col.kind
        miss = style.missing
        out: list[Cell]
        if kind == "date":
            out = [miss if v is None else render_date(v, style, rng) for v in values]  # type: ignore[arg-type]
        elif kind == "capital":
            out = [
                miss if v is None else render_wan(v, rng, style, str(r.get("_currency") or ""))  # type: ignore[arg-type]
                for v, r in zip(values, rows, strict=True)
            ]
        elif kind == "wan":
            out = [miss if v is None else render_wan(v, rng, style) for v in values]  # type: ignore[arg-type]
        elif kind == "yuan":
            out = [miss if v is None else render_yuan(v, rng, style) for v in values]  # type: ignore[arg-type]
        elif kind == "ratio":
            out = [miss if v is None else render_ratio(v, rng) for v in values]  # type: ignore[arg-type]
        elif kind in ("int", "year"):
            if style.xlsx and rng.random() < 0.6:
                out = [miss if v is None else v for v in values]  # type: ignore[misc]
            else:
                out = [miss if v is None else str(v) for v in values]
        elif kind == "caseno":
            out = [render_caseno(str(v), rng) for v in values]
        else:
            out = [miss if v is None or v == "" else str(v) for v in values]
            rate = NOISE_RATE.get(kind, 0.0) * style.noise
            for i in rng.sample(range(len(values)), round(len(values) * rate)):
                v = values[i]
                if v is None or v == "":
                    continue
                out[i] = (
                    noisy_code(str(v), rng)
                    if kind in ("uscc", "pid", "code")
                    else noisy_text(str(v), rng, kind)
                )
        for i, v in enumerate(values):
            if (v is None or v == "") and rng.random() < 0.15:
                out[i] = missing(style, rng)
        return out

    def corrupt(self, table: Table, col: Col, rule: str, v: object) -> str:
        rng = self.rng
        if rule == "uscc_check":
            return bad_uscc(str(v), rng)
        if rule == "id_check":
            return bad_id(str(v), rng)
        if rule == "date_invalid":
            return bad_date(v if isinstance(v, date) else None, rng)
        if rule == "required_missing":
            return ""
        if rule == "enum_unknown":
            return rng.choice(table.unknown or ("未知",))
        if rule == "amount_invalid":
            return bad_amount(rng)
        code = bad_region(rng, self.province)
        while self.reg.get(code) is not None:
            code = bad_region(rng, self.province)
        return code if rng.random() < 0.5 or v is None else f"{v}、{code}"

    def render(self, table: Table, rows: list[Row]) -> tuple[list[str], list[list[Cell]], set[str]]:
        """(header, rendered rows, keys of invalid parent rows) for one table."""
        rng = self.rng
        cols = list(table.cols)
        if rng.random() < 0.7:
            rng.shuffle(cols)
        invalid = self._pick_invalid(table, rows)
        columns = [self.column(col, [row.get(col.name) for row in rows], rows) for col in cols]
        out: list[list[Cell]] = [list(cells) for cells in zip(*columns, strict=True)]
        del columns
        position = {col.name: j for j, col in enumerate(cols)}
        id_cols = [c.name for c in table.cols if c.kind in ("pid", "code")]
        bad_keys: set[str] = set()
        for i, (column, rule, _) in list(invalid.items()):
            row = rows[i]
            bad = self.corrupt(table, table.col(column), rule, row.get(column))
            out[i][position[column]] = bad
            invalid[i] = (column, rule, bad)
            bad_keys.add(str(row.get(table.cols[0].name)))
        for i, row in enumerate(rows):
            if i not in invalid:
                count_row(table, row, self.truth, id_cols)
        tags = list(range(len(out)))
        self._duplicates(out, tags, invalid)
        self._record(tags, invalid)
        self.truth.rows_written += len(out)
        return [c.name for c in cols], out, bad_keys

    def _pick_invalid(self, table: Table, rows: list[Row]) -> dict[int, tuple[str, str, str]]:
        rng = self.rng
        n = round(len(rows) * INVALID_RATE)
        if n == 0 and len(rows) >= 10:
            n = 1
        eligible = [i for i, r in enumerate(rows) if not r.get("_p")]
        chosen: dict[int, tuple[str, str, str]] = {}
        for i in sorted(rng.sample(eligible, min(n, len(eligible)))):
            options = [(c, r) for c, r in table.rules if _applicable(r, rows[i].get(c))]
            if options:
                # the table's first rule comes first, so that every rule occurs in small cities too
                column, rule = options[0] if not chosen else rng.choice(options)
                chosen[i] = (column, rule, "")
        return chosen

    def _duplicates(
        self, out: list[list[Cell]], tags: list[int], invalid: dict[int, tuple[str, str, str]]
    ) -> None:
        """Insert exact copies of a few valid rows just after them (tag ``-1 - original``)."""
        rng = self.rng
        n = round(len(out) * DUPLICATE_RATE)
        if n == 0 and len(out) >= 50 and rng.random() < 0.7:
            n = 1
        if not self.allow_duplicates:
            return
        candidates = [i for i in range(len(out)) if i not in invalid]
        later: dict[int, list[int]] = {}
        for i in rng.sample(candidates, min(n, len(candidates))):
            later.setdefault(min(i + rng.randint(0, 3), len(out) - 1), []).append(i)
        if not later:
            return
        rows, order = list(out), list(tags)
        out.clear()
        tags.clear()
        for pos, (cells, tag) in enumerate(zip(rows, order, strict=True)):
            out.append(cells)
            tags.append(tag)
            for i in sorted(later.get(pos, ())):
                out.append(list(rows[i]))
                tags.append(-1 - i)

    def _record(self, tags: list[int], invalid: dict[int, tuple[str, str, str]]) -> None:
        position: dict[int, int] = {}
        for pos, tag in enumerate(tags):
            if tag >= 0:
                position[tag] = pos + 2
        for pos, tag in enumerate(tags):
            if tag < 0:
                self.truth.duplicates.append(
                    (self.delivery, self.source, self.file_name, pos + 2, position[-1 - tag])
                )
        for i, (column, rule, value) in sorted(invalid.items()):
            self.truth.invalid.append(
                (self.delivery, self.source, self.file_name, position[i], column, rule, value)
            )


def write_csv(
    path: Path, header: list[str], rows: list[list[Cell]], encoding: str, crlf: bool
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: Path, sheets: list[tuple[str, list[str], list[list[Cell]]]]) -> None:
    """One workbook, one sheet per table, written row by row (constant memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    book.set_properties({"created": XLSX_CREATED, "author": "export", "company": ""})
    for name, header, rows in sheets:
        sheet = book.add_worksheet(name)
        for c, text in enumerate(header):
            sheet.write_string(0, c, text)
        for r, cells in enumerate(rows, start=1):
            for c, cell in enumerate(cells):
                if isinstance(cell, str):
                    if cell:
                        sheet.write_string(r, c, cell)
                else:
                    sheet.write_number(r, c, cell)
    book.close()
