"""The monthly report (DOCX + XLSX) against the known small graph on the real Neo4j."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from riskgraph.cli import app
from riskgraph.errors import UsageError
from riskgraph.settings import Settings
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E2,
    E3,
    E5,
    GROUP,
    RUN_LIVE,
    A,
    SmallGraph,
    small_graph,
)
from workflow import ledger, reports
from workflow import statuses as st
from workflow.sheets import neutralise

pytestmark = pytest.mark.neo4j


def _march(g: SmallGraph) -> None:
    """February sync, then a month of county work in March 2025."""
    d = g.driver
    ledger.sync_ledger(d, g.settings, RUN_LIVE, at=datetime(2025, 2, 20, 2))
    ledger.pass_down(d, A, "enterprise", E5, "市处非办", deadline="2025-03-20",
                     note="市级交办", at=datetime(2025, 3, 3, 9))
    ledger.add_entry(d, A, "enterprise", E3, "analyst", at=datetime(2025, 3, 5, 9))
    e1, e2 = ledger.entry_id_for(A, "enterprise", E1), ledger.entry_id_for(A, "enterprise", E2)
    ledger.transition(d, e1, st.CHECKING, "陈科长", at=datetime(2025, 3, 6, 9))
    ledger.transition(d, e1, st.RESOLVED, "陈科长", reason_code="refunded",
                      at=datetime(2025, 3, 25, 9))
    ledger.transition(d, e2, st.CHECKING, "李科长", at=datetime(2025, 3, 7, 9))
    ledger.update_entry(d, e2, "李科长", {"plan": "=1+2", "notes": "-5万元已清退",
                                          "deadline": "2025-03-15", "assignee": "李科长"},
                        at=datetime(2025, 3, 7, 10))


def _texts(document: docx.document.Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def _table_text(document: docx.document.Document) -> str:
    return "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)


def test_month_and_county_are_checked() -> None:
    settings = Settings(city="410300")
    assert reports.parse_month("2025-03") == (date(2025, 3, 1), date(2025, 4, 1))
    assert reports.parse_month("2025-12")[1] == date(2026, 1, 1)
    for bad in ("2025-13", "2025-3", "March", "1999-01"):
        with pytest.raises(UsageError):
            reports.parse_month(bad)
    assert reports.check_county(settings, A) == "老城区"
    for bad in ("410502", "410300", "999999", "abc"):
        with pytest.raises(UsageError):
            reports.check_county(settings, bad)


def test_cli_bad_arguments_are_usage_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RISKGRAPH_CITY", "410300")
    runner = CliRunner()
    for args in (["--county", "999999", "--month", "2025-03"],
                 ["--county", A, "--month", "2025-3"]):
        result = runner.invoke(app, ["report", "monthly", *args, "--out", str(tmp_path)])
        assert isinstance(result.exception, UsageError)
        assert result.exception.exit_code == 2
    assert not list(tmp_path.iterdir())


def test_monthly_docx_reads_like_a_government_report(small_graph: SmallGraph,  # noqa: F811
                                                     tmp_path: Path) -> None:
    g = small_graph
    _march(g)
    docx_path, xlsx_path = reports.monthly_report(g.driver, g.settings, A, "2025-03", tmp_path,
                                                  report_date=date(2025, 4, 3))
    assert docx_path.name == "410302_2025-03_月报.docx" and xlsx_path.exists()
    document = docx.Document(str(docx_path))
    texts = _texts(document)
    assert texts[0] == "内部资料 注意保密"
    assert "老城区处非办〔2025〕3号" in texts
    assert "关于2025年3月防范和处置非法集资风险排查情况的报告" in texts
    assert "洛阳市防范和处置非法集资领导小组办公室：" in texts
    numbers = ["一、", "二、", "三、", "四、", "五、", "六、", "七、"]
    assert [t[:2] for t in texts if t[:2] in numbers] == numbers
    assert texts[-2:] == ["老城区防范和处置非法集资领导小组办公室", "2025年4月3日"]
    summary = next(t for t in texts if t.startswith("截至"))
    assert "红色预警1家" in summary and "橙色1家" in summary and "本月新增线索2条" in summary
    assert "办结1项" in summary and "逾期未办结2项" in summary and "跨区域案件1起" in summary
    tables = document.tables
    new_clues = {row.cells[1].text for row in tables[0].rows[1:]}
    assert new_clues == {"洛阳丙商贸有限公司", "洛阳戊科技有限公司"}
    changes = [[c.text for c in row.cells] for row in tables[1].rows[1:]]
    assert [r[3] for r in changes] == [st.CHECKING, st.CHECKING, st.RESOLVED]
    closed = [[c.text for c in row.cells] for row in tables[2].rows[1:]]
    assert closed == [["1", "洛阳甲养老服务有限公司", st.RESOLVED, "资金清退完毕，风险化解",
                       "2025-03-25"]]
    overdue = {row.cells[1].text for row in tables[3].rows[1:]}
    assert overdue == {"@洛阳乙投资咨询有限公司", "洛阳戊科技有限公司"}
    city = [[c.text for c in row.cells] for row in tables[4].rows[1:]]
    assert city == [["1", "洛阳戊科技有限公司", "2025-03-03", "2025-03-20", "待核查，已逾期"]]
    assert "市级交办线索1条，已办结0条，未办结1条（待核查1条），其中逾期1条。" in texts
    assert GROUP in _table_text(document) and "洛阳甲养老服务有限公司" in _table_text(document)


def _sheet_rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]


def test_monthly_xlsx_ledgers_and_neutralisation(small_graph: SmallGraph,  # noqa: F811
                                                 tmp_path: Path) -> None:
    g = small_graph
    _march(g)
    _, xlsx_path = reports.monthly_report(g.driver, g.settings, A, "2025-03", tmp_path,
                                          report_date=date(2025, 4, 3))
    wb = openpyxl.load_workbook(xlsx_path)
    assert wb.sheetnames[:5] == ["风险企业管控台账", "线索核查台账", "案件进展台账", "资产处置台账",
                                 "信访台账"]
    control = wb["风险企业管控台账"]
    headers = [c.value for c in control[2]]
    assert headers[:4] == ["序号", "台账编号", "主体名称", "统一社会信用代码/群组编号"]
    rows = {r[3]: dict(zip(headers, r, strict=True)) for r in _sheet_rows(control) if r[0]}
    assert set(rows) == {E1, E2, E3, E5, GROUP}
    assert rows[E1]["状态"] == st.RESOLVED and rows[E1]["办结原因"] == "资金清退完毕，风险化解"
    assert rows[E2]["一企一策"] == "'=1+2" and rows[E2]["备注"] == "'-5万元已清退"
    assert rows[E2]["主体名称"] == "'@洛阳乙投资咨询有限公司" and rows[E2]["是否逾期"] == "是"
    assert rows[E5]["来源"] == "市级交办" and rows[E1]["责任部门"] == "民政部门"
    clues = {r[3] for r in _sheet_rows(wb["线索核查台账"]) if r[0]}
    assert clues == {"洛阳丙商贸有限公司", "洛阳戊科技有限公司"}
    cases = [r for r in _sheet_rows(wb["案件进展台账"]) if r[0]]
    assert cases[0][4] == "wft-clue-1" and cases[0][9] == 120.5 and cases[0][10] == 85
    assert cases[0][5] == "洛阳乙涉嫌非法吸收公众存款" and cases[0][11] == "老城分局经侦大队"
    assets = wb["资产处置台账"]
    head = [c.value for c in assets[2]]
    assert head[:3] == ["序号", "案件/主体名称", "资产类型"]
    rows_a = [dict(zip(head, r, strict=True)) for r in _sheet_rows(assets)
              if isinstance(r[0], int)]
    by_type = {r["资产类型"]: r for r in rows_a}
    assert set(by_type) == {"涉案资金", "执行标的"}
    police = by_type["涉案资金"]
    assert police["涉案金额(万元)"] == 120.5 and police["涉及人数"] == 85
    assert "wft-clue-1" in police["资产描述"] and police["数据来源"] == "公安 涉案线索"
    court = by_type["执行标的"]
    assert court["涉案金额(万元)"] == 150.0 and court["案件/执行状态"] == "终结本次执行"
    assert "(2025)豫0302执100号" in court["资产描述"] and court["数据来源"] == "法院 案件信息"
    assert court["处置进度"].startswith("终结本次执行") and court["清退金额(万元)"] is None
    notes = [r[0] for r in assets.iter_rows(min_row=3, values_only=True)
             if isinstance(r[0], str)]
    assert notes and "清退金额(万元)、清退人数、冻结/查封资产无对应数据源" in notes[0]
    city_sheet = wb["市级交办台账"]
    city_head = [c.value for c in city_sheet[2]]
    city_rows = [dict(zip(city_head, r, strict=True)) for r in _sheet_rows(city_sheet)
                 if isinstance(r[0], int)]
    assert [(r["代码"], r["交办时间"], r["交办人"], r["交办说明"], r["是否逾期"])
            for r in city_rows] == [(E5, "2025-03-03", "市处非办", "市级交办", "是")]
    tips = [r for r in _sheet_rows(wb["信访台账"]) if r[0]]
    assert tips[0][1] == "wft-tip-1" and tips[0][6] == "'=HYPERLINK(\"http://x\",\"高息\")"
    groups = [r for r in _sheet_rows(wb["跨区域案件台账"]) if r[0]]
    assert groups[0][1] == GROUP and "老城区" in groups[0][3]
    for ws in wb.worksheets:  # nothing formula-like survives anywhere
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith(tuple("=+-@"))), value


def test_monthly_xlsx_marks_what_the_sources_no_longer_hold(small_graph: SmallGraph,  # noqa: F811
                                                            tmp_path: Path) -> None:
    """A tip, a police clue's link and an enforcement case the latest full deliveries no
    longer held stay in the ledgers as history, their status marked with that delivery."""
    g = small_graph
    _march(g)
    from graph import access

    access.write(g.driver, "MATCH (t:Tip {tip_no: 'wft-tip-1'}) SET t.ended = '2025-03-31'")
    access.write(g.driver, "MATCH (:Enterprise)-[r:SUBJECT_OF]->(:PoliceClue "
                           "{clue_no: 'wft-clue-1'}) SET r.ended = '2025-03-30'")
    access.write(g.driver, "MATCH (c:CourtCase {case_no: '(2025)豫0302执100号'}) "
                           "SET c.ended = '2025-03-29'")
    _, xlsx_path = reports.monthly_report(g.driver, g.settings, A, "2025-03", tmp_path,
                                          report_date=date(2025, 4, 3))
    wb = openpyxl.load_workbook(xlsx_path)
    tips = [r for r in _sheet_rows(wb["信访台账"]) if r[0]]
    assert tips[0][1] == "wft-tip-1" and tips[0][8].endswith("（2025-03-31 全量交付中已无）")
    cases = [r for r in _sheet_rows(wb["案件进展台账"]) if r[0]]
    assert cases[0][4] == "wft-clue-1" and cases[0][7].endswith("（2025-03-30 全量交付中已无）")
    assets = wb["资产处置台账"]
    head = [c.value for c in assets[2]]
    by_type = {r["资产类型"]: r for r in (dict(zip(head, r, strict=True))
                                         for r in _sheet_rows(assets) if isinstance(r[0], int))}
    assert by_type["执行标的"]["案件/执行状态"] == "终结本次执行（2025-03-29 全量交付中已无）"
    assert by_type["涉案资金"]["案件/执行状态"].endswith("（2025-03-30 全量交付中已无）")


def test_neutralise() -> None:
    assert neutralise("=SUM(A1)") == "'=SUM(A1)" and neutralise("@x") == "'@x"
    assert neutralise("+1") == "'+1" and neutralise("-1") == "'-1"
    assert neutralise("正常文本") == "正常文本" and neutralise(-1) == -1


def test_report_command_writes_both_files(small_graph: SmallGraph, neo4j_settings: Settings,  # noqa: F811
                                          tmp_path: Path, capsys) -> None:
    _march(small_graph)
    settings = dataclasses.replace(neo4j_settings, city="410300")
    assert reports.run_monthly_command(settings, A, "2025-03", tmp_path) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).suffix for p in printed) == [".docx", ".xlsx"]
    assert all(Path(p).exists() for p in printed)
