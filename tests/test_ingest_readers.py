"""Unit tests for ingest.readers and ingest.spec (files written here; no database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from data_contracts import validate
from ingest.readers import parse_file_name, read_csv, read_tables
from ingest.registration import TABLES as REG_TABLES
from ingest.spec import code_rule, prepare
from riskgraph.errors import DataError
from riskgraph.identifiers import is_valid_citizen_id, is_valid_regno, is_valid_uscc
from tests.ingest_fixtures import (
    ENT_HEADER,
    HOSTILE,
    SCRIPT,
    bad_uscc,
    citizen_id,
    enterprise_row,
    regno,
    uscc,
    write_csv,
)

TABLES = [t.name for t in REG_TABLES]
ENTERPRISE = REG_TABLES[0]
FX = {"美元": 7.1}


@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
])
def test_each_encoding(tmp_path: Path, encoding: str, detected: str) -> None:
    path = write_csv(tmp_path / f"x_企业基本信息_{encoding}_全量.csv", ENT_HEADER,
                     [enterprise_row(uscc(), "安阳市甲投资咨询有限公司", 经营范围="养老服务·保本")],
                     encoding=encoding)
    frame = read_csv(path)
    assert frame.attrs["encoding"] == detected
    assert frame.loc[2, "企业名称"] == "安阳市甲投资咨询有限公司"
    assert list(frame.index) == [2]


def test_gb18030_only_characters(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a_企业基本信息_全量.csv", ENT_HEADER,
                     [enterprise_row(uscc(), "𠀀字号有限公司")], encoding="gb18030")
    assert read_csv(path).loc[2, "企业名称"] == "𠀀字号有限公司"


def test_file_names() -> None:
    meta = parse_file_name("市场监管_企业基本信息_20240630_全量.csv", TABLES)
    assert (meta.table, meta.date, meta.kind) == ("企业基本信息", "20240630", "full")
    meta = parse_file_name("x_y_股东及出资信息_增量.xlsx", TABLES)
    assert (meta.table, meta.date, meta.kind) == ("股东及出资信息", None, "increment")
    with pytest.raises(DataError):
        parse_file_name("企业基本信息.csv", TABLES)


def test_xlsx_one_table_per_sheet(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "企业基本信息"
    ws.append(ENT_HEADER)
    ws.append(enterprise_row(uscc(), "安阳甲有限公司", 成立日期=44931))
    ws2 = wb.create_sheet("主要人员")
    ws2.append(["姓名", "统一社会信用代码", "职务", "证件号码"])
    ws2.append(["张三", uscc(), "监事", citizen_id()])
    path = tmp_path / "市场监管_登记数据_20240101_全量.xlsx"
    wb.save(path)
    meta, tables, notes, ignored = read_tables(path, TABLES)
    assert meta.kind == "full"
    assert set(tables) == {"企业基本信息", "主要人员"} and notes == [] and ignored == []
    assert "sheet_placement" not in tables["企业基本信息"].attrs  # named after its table
    prepared = prepare(tables["企业基本信息"], ENTERPRISE, FX)
    assert prepared.frame.loc[2, "founded"] == "2023-01-05"


@pytest.mark.parametrize("content", [b"", b"   \r\n", b"\x00\x01\x02garbage\xff\xfe" * 50])
def test_empty_and_binary_files_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x_企业基本信息_全量.csv"
    path.write_bytes(content)
    with pytest.raises(DataError):
        read_tables(path, TABLES)


def test_binary_garbage_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "x_企业基本信息_全量.xlsx"
    path.write_bytes(b"PK\x03\x04not really a zip" * 10)
    with pytest.raises(DataError):
        read_tables(path, TABLES)


def test_truncated_utf8_file_rejected(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", ENT_HEADER,
                     [enterprise_row(uscc(), "安阳市甲投资咨询有限公司")])
    path.write_bytes(path.read_bytes()[:-5] + "公".encode()[:2])
    with pytest.raises(DataError, match="truncated"):
        read_csv(path)


def test_truncated_row_is_quarantined_not_crashing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", ENT_HEADER,
                     [enterprise_row(uscc(serial=1), "甲有限公司"),
                      enterprise_row(uscc(serial=2), "乙有限公司")])
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex("乙".encode()) + 3])  # cut inside the last row
    frame = read_csv(path)
    assert frame.attrs["ragged"] == 1
    prepared = prepare(frame, ENTERPRISE, FX)
    assert len(prepared.frame) == 2


def test_missing_required_column_rejected(tmp_path: Path) -> None:
    header = [h for h in ENT_HEADER if h != "企业名称"]
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", header, [["x"] * len(header)])
    with pytest.raises(DataError, match="企业名称"):
        prepare(read_csv(path), ENTERPRISE, FX)


def test_unexpected_columns_and_any_order(tmp_path: Path) -> None:
    header = list(reversed(ENT_HEADER))
    row = list(reversed(enterprise_row(uscc(), "甲有限公司")))
    prepared = prepare(read_csv(write_csv(tmp_path / "x_企业基本信息_全量.csv", header, [row])),
                       ENTERPRISE, FX)
    assert prepared.unexpected_columns == ["备注"]
    assert prepared.frame.loc[2, "name"] == "甲有限公司"


def test_contract_rules_and_duplicates(tmp_path: Path) -> None:
    good, bad = uscc(serial=1), bad_uscc(uscc(serial=2))
    rows = [
        enterprise_row(good, f"甲{SCRIPT}有限公司", 经营范围=HOSTILE),        # 2 ok
        enterprise_row(bad, "乙有限公司"),                                     # 3 uscc_check
        enterprise_row(uscc(serial=3), "丙", 成立日期="2023-02-30"),           # 4 date_invalid
        enterprise_row(uscc(serial=4), "丁", 注册资本="约50万"),               # 5 amount_invalid
        enterprise_row(uscc(serial=5), "戊", 登记状态="待迁入"),               # 6 enum_unknown
        enterprise_row("", "己"),                                              # 7 required_missing
        enterprise_row(uscc(serial=6), "庚", 法定代表人证件号码="410502198001011230"),  # 8 id_check
        enterprise_row(good, f"甲{SCRIPT}有限公司", 经营范围=HOSTILE),        # 9 exact duplicate
        enterprise_row(good, "甲二有限公司"),                                  # 10 key_duplicate
        enterprise_row(regno(5), "老字号", 法定代表人证件号码="410502********1234"),  # 11 ok
    ]
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", ENT_HEADER, rows)
    prepared = prepare(read_csv(path), ENTERPRISE, FX)
    assert prepared.duplicates == [(9, 2)]
    result = validate(prepared.frame, prepared.contract)
    failures = {(f.row, f.rule) for f in result.failures}
    assert failures == {(3, "uscc_check"), (4, "date_invalid"), (5, "amount_invalid"),
                        (6, "enum_unknown"), (7, "required_missing"), (8, "id_check"),
                        (10, "key_duplicate")}
    assert prepared.frame.loc[2, "scope"] == HOSTILE
    assert all(x["column"] for x in result.expectations)


def test_check_character_algorithms() -> None:
    assert is_valid_uscc("91110000600037341L")
    assert not is_valid_uscc("91110000600037341M")
    assert is_valid_uscc(uscc()) and not is_valid_uscc(bad_uscc(uscc()))
    assert is_valid_citizen_id(citizen_id())
    assert not is_valid_citizen_id(citizen_id()[:-1] + ("0" if citizen_id()[-1] != "0" else "1"))
    assert is_valid_regno(regno(7))
    assert code_rule("91110000600037341L") is None
    assert code_rule("410502********1234") is None
    assert code_rule("91110000600037341M") == "uscc_check"
    assert code_rule("410502198001011230") == "id_check"


def test_every_table_has_record_keys() -> None:
    """Every table names the columns of a row's record key (its key, or for a child table
    what its rows belong to): a quarantined row of a full snapshot keeps those records."""
    from ingest.sources import SOURCES

    for specs in SOURCES.values():
        for spec in specs:
            names = {f.name for f in spec.fields}
            assert spec.seen_columns and set(spec.seen_columns) <= names, spec.name
            assert bool(spec.key) != bool(spec.snapshot_key), spec.name


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    """The row of a CSV record is its row in a spreadsheet (header = row 1): blank lines are
    skipped but counted, a quoted line break stays inside its cell (one row)."""
    import csv
    import io

    def line(cells: list[object]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(cells)
        return buf.getvalue().removesuffix("\r\n")

    good = line(enterprise_row(uscc(serial=1), "甲有限公司"))
    bad = line(enterprise_row(uscc(serial=2), "乙有限公司", 成立日期="2023-02-30"))
    multi = line(enterprise_row(uscc(serial=3), "丙\n有限公司"))  # two lines, one row
    text = "\r\n".join(["", line(ENT_HEADER), good, "", " , ", multi, "", bad, ""])
    path = tmp_path / "x_企业基本信息_全量.csv"
    path.write_text(text, encoding="utf-8")
    frame = read_csv(path)
    assert list(frame.index) == [3, 6, 8]
    assert frame.loc[6, "企业名称"] == "丙\n有限公司"
    prepared = prepare(frame, ENTERPRISE, FX)
    failures = validate(prepared.frame, prepared.contract).failures
    assert [(f.row, f.rule) for f in failures] == [(8, "date_invalid")]


def test_xlsx_rows_are_the_sheet_rows(tmp_path: Path) -> None:
    """The row of a workbook record is its sheet row: a header below empty rows and blank
    rows between records are skipped but counted (not quarantined as empty records)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "企业基本信息"
    ws.append([])
    ws.append(ENT_HEADER)                                         # row 2
    ws.append(enterprise_row(uscc(serial=1), "甲有限公司"))        # row 3
    ws.append([])
    ws.append([None, "  "])                                       # row 5: blank cells
    ws.append(enterprise_row(uscc(serial=2), "乙有限公司", 成立日期="2023-02-30"))  # row 6
    path = tmp_path / "市场监管_登记数据_全量.xlsx"
    wb.save(path)
    tables = read_tables(path, TABLES).tables
    frame = tables["企业基本信息"]
    assert list(frame.index) == [3, 6]
    prepared = prepare(frame, ENTERPRISE, FX)
    failures = validate(prepared.frame, prepared.contract).failures
    assert [(f.row, f.rule) for f in failures] == [(6, "date_invalid")]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


ENT_SHEET = [ENT_HEADER, enterprise_row(uscc(), "安阳甲有限公司")]
OFFICER_SHEET = [["姓名", "统一社会信用代码", "职务"], ["张三", uscc(), "监事"]]


def test_workbook_sheets_naming_no_table_are_ignored_and_said(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "市场监管_登记数据_全量.xlsx", {
        "说明": [["本表为导出说明"]], "2024企业基本信息": ENT_SHEET, "主要人员": OFFICER_SHEET,
        "Sheet3": []})  # an empty sheet is no table: nothing to say
    _meta, tables, notes, ignored = read_tables(path, TABLES)
    assert set(tables) == {"企业基本信息", "主要人员"}
    assert tables["企业基本信息"].attrs["sheet"] == "2024企业基本信息"
    assert tables["企业基本信息"].attrs["sheet_placement"] == "name_ending"
    assert notes == ["sheet '说明' ignored: it names no known table",
                     "sheet '2024企业基本信息' read as table 企业基本信息 (its name ends in it)"]
    assert ignored == ["说明"]


def test_workbook_single_sheet_takes_the_file_names_table_and_says_so(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "市场监管_企业基本信息_全量.xlsx", {"Sheet1": ENT_SHEET})
    _meta, tables, notes, ignored = read_tables(path, TABLES)
    assert list(tables) == ["企业基本信息"] and ignored == []
    assert tables["企业基本信息"].attrs["sheet_placement"] == "file_name"
    assert notes == ["sheet 'Sheet1' names no table: read as 企业基本信息, the table of the "
                     "file name"]


@pytest.mark.parametrize("name, sheets, message", [
    ("市场监管_登记数据_全量.xlsx", {"Sheet1": ENT_SHEET},
     "no sheet names a known table ('Sheet1') and the file name names none"),
    ("市场监管_企业基本信息_全量.xlsx", {"Sheet1": ENT_SHEET, "Sheet2": ENT_SHEET},
     "which one holds 企业基本信息, the table of the file name, is not known"),
    ("市场监管_登记数据_全量.xlsx", {"企业基本信息": ENT_SHEET, "新企业基本信息": ENT_SHEET},
     "sheets '企业基本信息' and '新企业基本信息' both hold table 企业基本信息"),
])
def test_workbook_that_places_no_table_is_rejected(tmp_path: Path, name: str,
                                                   sheets: dict[str, list[list[object]]],
                                                   message: str) -> None:
    with pytest.raises(DataError) as rejected:
        read_tables(_workbook(tmp_path / name, sheets), TABLES)
    assert message in rejected.value.message


def test_header_mappings_are_recorded(tmp_path: Path) -> None:
    """Headers read through an alias, with spaces or full-width characters are recorded as
    written → declared; a second column for a field already read is a column not read (the
    declared header is read before an alias of it, whatever their order)."""
    header = ["名称", "统一 社会信用代码", "企业类型　", "注册地址", "住所", "备注"]
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", header,
                     [["甲有限公司", uscc(), "有限责任公司", "安阳市文峰区中华路1号", "另址", "x"]])
    prepared = prepare(read_csv(path), ENTERPRISE, FX)
    assert prepared.header_mappings == {"名称": "企业名称", "统一 社会信用代码": "统一社会信用代码",
                                        "企业类型　": "企业类型"}
    assert prepared.unexpected_columns == ["注册地址", "备注"]
    assert prepared.frame.loc[2, "address"] == "另址"


@pytest.mark.parametrize("extra", ["统一 社会信用代码", "注册地址"])
def test_a_declared_header_is_read_before_a_form_of_it(tmp_path: Path, extra: str) -> None:
    """An alias or spaced form beside the declared header is no ambiguity: the declared one is
    read, the other is a column not read (reported), and the table is not rejected."""
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", [extra, *ENT_HEADER],
                     [["other", *enterprise_row(uscc(), "甲有限公司")]])
    tables = read_tables(path, TABLES).tables
    prepared = prepare(tables["企业基本信息"], ENTERPRISE, FX)
    assert prepared.unexpected_columns == [extra, "备注"]
    assert "other" not in set(prepared.frame.loc[2].astype(str))


@pytest.mark.parametrize(("extra", "at", "first", "first_at", "column"), [
    ("统一社会信用代码 ", 16, "统一社会信用代码", 2, "统一社会信用代码"),  # the same, once cleaned
    ("统一社会信用代码　", 16, "统一社会信用代码", 2, "统一社会信用代码"),  # full-width space
])
def test_two_header_cells_read_as_one_column_reject_a_csv(
        tmp_path: Path, extra: str, at: int, first: str, first_at: int, column: str) -> None:
    """Which of the two holds the field is not known: the table is rejected, naming both
    cells as written, their column numbers and the declared column (no generic failure)."""
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", [*ENT_HEADER, extra],
                     [[*enterprise_row(uscc(), "甲有限公司"), "x"]])
    tables = read_tables(path, TABLES).tables
    with pytest.raises(DataError) as rejected:
        prepare(tables["企业基本信息"], ENTERPRISE, FX)
    assert rejected.value.message == (
        f"table 企业基本信息: header cells {first!r} (column {first_at}) and {extra!r} "
        f"(column {at}) are both read as column {column}")
    assert rejected.value.hint and "once" in rejected.value.hint


def test_two_aliases_of_an_absent_header_reject_a_csv(tmp_path: Path) -> None:
    """Two aliases of one column whose declared header is absent (地址 and 注册地址 for 住所):
    neither is preferred, so the table is rejected."""
    header = [h for h in ENT_HEADER if h != "住所"] + ["地址", "注册地址"]
    row = dict(zip(ENT_HEADER, enterprise_row(uscc(), "甲有限公司"), strict=True))
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", header,
                     [[row.get(h, "某地") for h in header]])
    tables = read_tables(path, TABLES).tables
    with pytest.raises(DataError) as rejected:
        prepare(tables["企业基本信息"], ENTERPRISE, FX)
    assert rejected.value.message == (
        "table 企业基本信息: header cells '地址' (column 15) and '注册地址' (column 16) are both "
        "read as column 住所")


@pytest.mark.parametrize(("first", "message"), [
    ("企业名称 ", "'企业名称 ' (column A) and '企业名称' (column B) are both read as "
     "column 企业名称"),
    ("注册地址", None),  # an alias beside its declared header: the declared one is read
    ("备注", None),  # undeclared columns (备注 twice) are not read: no rejection
])
def test_two_header_cells_read_as_one_column_reject_a_sheet(
        tmp_path: Path, first: str, message: str | None) -> None:
    """In a workbook the cells are named by their column letters, and the sheet is named."""
    row = enterprise_row(uscc(), "甲有限公司")
    path = _workbook(tmp_path / "市场监管_登记数据_全量.xlsx",
                     {"2024企业基本信息": [[first, *ENT_HEADER], ["甲", *row]]})
    tables = read_tables(path, TABLES).tables
    if message is None:
        prepared = prepare(tables["企业基本信息"], ENTERPRISE, FX)
        assert prepared.unexpected_columns == [first, "备注"]
        return
    with pytest.raises(DataError) as rejected:
        prepare(tables["企业基本信息"], ENTERPRISE, FX)
    assert rejected.value.message == (
        f"table 企业基本信息 (sheet '2024企业基本信息'): header cells {message}")


def test_adapter_notes_reach_the_run_report_and_the_summary(tmp_path: Path) -> None:
    """What the adapters did (sheet ignored or read as the file name's table, headers mapped,
    columns not read) is in the file's report, report.json, the HTML and the summary."""
    import json

    from ingest.pipeline import ReadJob, _File, read_file, summary
    from ingest.report import FileReport, IngestReport, write_reports

    header = ["名称" if h == "企业名称" else h for h in ENT_HEADER]
    (tmp_path / "20240101").mkdir()
    path = _workbook(tmp_path / "20240101" / "市场监管_登记数据_全量.xlsx", {
        "企业基本信息": [header, enterprise_row(uscc(), "安阳甲有限公司")], "说明": [["x"]]})
    f = _File(path, FileReport(delivery="20240101", source="registration", file=path.name))
    read_file(f, ReadJob("20240101", "registration", path.parent, frozenset(), FX, "410500",
                         b"k"))
    table = f.report.tables[0]
    assert table.header_mappings == {"名称": "企业名称"} and table.sheet == "企业基本信息"
    assert table.sheet_placement == "" and f.report.ignored_sheets == ["说明"]
    assert f.report.notes == ["sheet '说明' ignored: it names no known table",
                              "企业基本信息: header(s) read as declared ones: '名称' → 企业名称",
                              "企业基本信息: column(s) not read: '备注'"]
    report = IngestReport(run_id="r", inbox=str(tmp_path), started="now", files=[f.report])
    write_reports(report, tmp_path / "runs")
    saved = json.loads((tmp_path / "runs" / "r" / "report.json").read_text("utf-8"))
    assert saved["files"][0]["notes"] == f.report.notes
    assert saved["files"][0]["tables"][0]["header_mappings"] == {"名称": "企业名称"}
    assert saved["files"][0]["ignored_sheets"] == ["说明"]
    html = (tmp_path / "runs" / "r" / "data_quality.html").read_text("utf-8")
    assert "sheet &#x27;说明&#x27; ignored" in html and "名称 → 企业名称" in html
    text = summary(report)
    assert f"  NOTE 20240101/registration/{path.name}: sheet '说明' ignored" in text


def test_tab_separated_file_with_blank_lines_before_its_header(tmp_path: Path) -> None:
    path = tmp_path / "x_企业基本信息_全量.csv"
    row = enterprise_row(uscc(), "甲有限公司")
    path.write_text("\n\n" + "\t".join(ENT_HEADER) + "\n" + "\t".join(map(str, row)) + "\n",
                    encoding="utf-8")
    frame = read_csv(path)
    assert list(frame.index) == [4] and frame.loc[4, "企业名称"] == "甲有限公司"


def test_record_keys_of_failed_rows(tmp_path: Path) -> None:
    """The keys a full snapshot's failed rows keep from being ended: readable keys only, and
    for a record table only keys no valid row loaded; a child row keeps its owner's key."""
    from ingest.pipeline import record_keys

    a, b, c, d = (uscc(serial=i) for i in range(1, 5))
    path = write_csv(tmp_path / "x_企业基本信息_全量.csv", ENT_HEADER, [
        enterprise_row(a, "甲"),                                  # 2 valid
        enterprise_row(b, "乙", 成立日期="2023-02-30"),           # 3 kept
        enterprise_row(bad_uscc(c), "丙"),                        # 4 key unreadable
        enterprise_row(a, "甲二"),                                # 5 key_duplicate: a loaded
        enterprise_row(d, "丁", 注册资本="约50万"),               # 6 kept
        enterprise_row(d, "丁二", 成立日期="2023-02-30")])        # 7 key_duplicate of a failed row
    prepared = prepare(read_csv(path), ENTERPRISE, FX)
    keys, kept = record_keys(prepared, ENTERPRISE,
                             validate(prepared.frame, prepared.contract).failures)
    assert keys == {2: a} and kept == sorted([b, d])

    holders = REG_TABLES[1]
    path = write_csv(tmp_path / "x_股东及出资信息_全量.csv",
                     ["统一社会信用代码", "股东名称", "股东类型", "出资比例"],
                     [[a, "张三", "自然人股东", "60%"], [a, "李四", "自然人股东", "五成"],
                      [bad_uscc(b), "王五", "自然人股东", "40%"]])
    prepared = prepare(read_csv(path), holders, FX)
    keys, kept = record_keys(prepared, holders,
                             validate(prepared.frame, prepared.contract).failures)
    assert keys == {2: a} and kept == [a]
