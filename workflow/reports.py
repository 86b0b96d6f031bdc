"""The county's monthly report to the city: DOCX (公文 layout) plus XLSX working ledgers.

``riskgraph report monthly --county CODE --month YYYY-MM --out DIR`` writes
``DIR/<county>_<YYYY-MM>_月报.docx`` and ``DIR/<county>_<YYYY-MM>_台账.xlsx``. The content is read
from the ledger (entries, history, outcomes), the live scoring run (read contract: ``Run {live:
true}``), police clues, tips and the cross-region groups touching the county. A bad county code
(not a county of ``Settings.city``) or month raises :class:`UsageError` (exit 2) before the
database is touched.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import docx
from neo4j import Driver

from dashboards.scope import Scope
from graph import access, cypher
from riskgraph.divisions import COUNTY, divisions
from riskgraph.errors import UsageError
from riskgraph.paths import writable_folder
from riskgraph.settings import Settings
from workflow import docs
from workflow import statuses as st
from workflow.handoff import HANDOFF_NAMES
from workflow.ledger import LEVEL_NAMES, ORIGIN_NAMES, list_entries
from workflow.sheets import Sheet, write_workbook

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

#: 案由 of the criminal fundraising cases whose 涉案金额 belongs in the asset-disposal ledger.
CRIME_CAUSES = ["非法吸收公众存款罪", "集资诈骗罪", "组织、领导传销活动罪", "合同诈骗罪"]
#: columns of the asset-disposal ledger that no source of the city's member units carries.
NO_SOURCE_COLUMNS = ("处置方式", "清退金额(万元)", "清退人数", "冻结/查封资产")


def parse_month(text: str) -> tuple[date, date]:
    """``YYYY-MM`` → (first day, first day of the next month); UsageError otherwise."""
    match = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise UsageError(f"month {text!r} is not YYYY-MM", "e.g. --month 2025-03")
    start = date(int(match.group(1)), int(match.group(2)), 1)
    nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, nxt


def check_county(settings: Settings, code: str) -> str:
    """The county's name when ``code`` is a county (or zone) of the city served; else
    :class:`UsageError`."""
    reg = divisions()
    item = reg.get(code.strip()) if isinstance(code, str) else None
    if item is None or item.level != COUNTY or item.prefecture != settings.city:
        city = reg.name(settings.city) or settings.city
        raise UsageError(f"{code!r} is not a county of {city} ({settings.city})",
                         "use a six-digit county code of RISKGRAPH_CITY, e.g. "
                         + ", ".join(c.code for c in reg.counties(settings.city)[:3]))
    return item.name


def report_title(start: date) -> str:
    """关于YYYY年M月防范和处置非法集资风险排查情况的报告."""
    return f"关于{start.year}年{start.month}月防范和处置非法集资风险排查情况的报告"


def reason_label(code: str | None) -> str:
    """Display text of a reason code (the code itself when unknown)."""
    if not code:
        return ""
    return st.REASONS.get(code, (code, frozenset()))[0]


@dataclass
class MonthlyData:
    """Everything one county's monthly report shows (read once, rendered twice)."""

    county: str
    county_name: str
    city_name: str
    month: str
    start: date
    end: date
    as_of: str
    run_id: str | None
    scores: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    new_entries: list[dict[str, Any]] = field(default_factory=list)
    status_events: list[dict[str, Any]] = field(default_factory=list)
    closures: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)
    city_entries: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    police: list[dict[str, Any]] = field(default_factory=list)
    tips: list[dict[str, Any]] = field(default_factory=list)
    court: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.start.year}年{self.start.month}月"


def _in_month(value: str | None, start: date, end: date) -> bool:
    return bool(value) and start.isoformat() <= str(value) < end.isoformat()


def collect_monthly(driver: Driver, settings: Settings, county: str, month: str,
                    today: date | None = None, database: str | None = None) -> MonthlyData:
    """Read the month's facts of ``county`` from the graph."""
    county_name = check_county(settings, county)
    start, end = parse_month(month)
    day = today or date.today()
    as_of = min(end, day + timedelta(days=1)).isoformat()  # overdue: deadline before this
    live = access.read(driver, cypher.wf_live_run(), {}, database)
    run_id = live[0]["run_id"] if live else None
    data = MonthlyData(county, county_name, divisions().name(settings.city), month, start, end,
                       as_of, run_id)
    if run_id:
        data.scores = access.read(driver, cypher.wf_county_scores(),
                                  {"run_id": run_id, "county": county}, database)
    end_iso = end.isoformat()
    entries = [e for e in list_entries(driver, [county], today=as_of, database=database)
               if str(e.get("created_at") or "") < end_iso]
    data.entries = [e for e in entries if not e.get("closed_at")
                    or str(e["closed_at"]) >= start.isoformat()]
    data.new_entries = [e for e in entries if _in_month(e.get("created_at"), start, end)]
    data.closures = [e for e in entries if _in_month(e.get("closed_at"), start, end)]
    data.overdue = [e for e in entries if e["overdue"]]
    data.city_entries = [e for e in entries if (e.get("city_passed") or e.get("origin") == "city")
                         and str(passed_at(e)) < end_iso]
    events = access.read(driver, cypher.wf_county_events(),
                         {"county": county, "start": start.isoformat(), "end": end_iso},
                         database)
    data.status_events = [_status_row(r) for r in events if r["event"].get("action") == "status"]
    data.groups = [{**r["grp"], "local_members": r["local_members"]} for r in access.read(
        driver, cypher.wf_groups_touching(), {"county": county}, database)]
    data.police = access.read(driver, cypher.wf_county_police(), {"county": county}, database)
    data.tips = access.read(driver, cypher.wf_county_tips(), {"county": county}, database)
    data.court = access.read(driver, cypher.wf_county_assets(),
                             {"county": county, "crimes": CRIME_CAUSES}, database)
    return data


def passed_at(entry: dict[str, Any]) -> str:
    """When the city passed the entry down (its creation for entries created by a pass-down
    before ``passed_at`` was kept)."""
    return str(entry.get("passed_at") or entry.get("created_at") or "")


def _status_row(row: dict[str, Any]) -> dict[str, Any]:
    event = row["event"]
    changes = json.loads(event.get("changes") or "{}")
    source, target = (changes.get("status") or [None, None])[:2]
    return {"at": event.get("at"), "name": row.get("name"), "key": row.get("subject_key"),
            "source": source, "target": target, "reason": reason_label(changes.get("reason_code")),
            "user": event.get("user"), "note": event.get("note") or ""}


# --- rendering helpers ----------------------------------------------------------------------


def _day(value: Any) -> str:
    return str(value or "")[:10]


def _level(value: Any) -> str:
    return LEVEL_NAMES.get(str(value or "none"), str(value or ""))


def _pick(props: dict[str, Any], *names: str) -> Any:
    for name in names:
        if props.get(name) not in (None, ""):
            return props[name]
    return ""


def city_summary(entries: list[dict[str, Any]]) -> str:
    """One sentence on what became of the clues the city passed down."""
    by_status = Counter(e["status"] for e in entries)
    closed = sum(by_status[s] for s in st.CLOSED_STATUSES)
    parts = [f"{s}{by_status[s]}条" for s in st.STATUSES if by_status[s]]
    overdue = sum(1 for e in entries if e.get("overdue"))
    return (f"市级交办线索{len(entries)}条，已办结{closed}条，未办结{len(entries) - closed}条"
            f"（{'、'.join(parts)}）" + (f"，其中逾期{overdue}条" if overdue else "") + "。")


def _fate(entry: dict[str, Any]) -> str:
    """What became of an entry: its status, the closing reason, overdue."""
    text = entry["status"]
    if entry.get("reason_code") and entry["status"] in st.CLOSED_STATUSES:
        text += f"（{reason_label(entry['reason_code'])}）"
    if entry.get("overdue"):
        text += "，已逾期"
    return text


# --- XLSX -----------------------------------------------------------------------------------


def ledger_sheets(data: MonthlyData) -> list[Sheet]:
    """The working ledgers (台账) of the month, one :class:`Sheet` each."""
    suffix = f"（{data.county_name} {data.label}）"
    control = Sheet("风险企业管控台账", "风险企业管控台账" + suffix, [
        "序号", "台账编号", "主体名称", "统一社会信用代码/群组编号", "主体类型", "风险等级",
        "风险分值", "所属行业", "责任部门", "责任人", "分管领导", "状态", "一企一策", "办理期限",
        "是否逾期", "来源", "入账时间", "办结时间", "办结原因", "备注", "附件"])
    for i, e in enumerate(data.entries, 1):
        control.rows.append([
            i, e["entry_id"], e.get("name"), e.get("subject_key"),
            "企业" if e.get("subject_kind") == "enterprise" else "关联企业群",
            _level(e.get("last_level")), e.get("last_score"), e.get("sector"),
            e.get("department"), e.get("assignee"), e.get("leader"), e["status"], e.get("plan"),
            e.get("deadline"), bool(e.get("overdue")), ORIGIN_NAMES.get(e.get("origin") or ""),
            _day(e.get("created_at")), _day(e.get("closed_at")), reason_label(e.get("reason_code")),
            e.get("notes"), list(e.get("attachments") or [])])
    clues = Sheet("线索核查台账", "线索核查台账（本月新增）" + suffix, [
        "序号", "线索来源", "入账时间", "主体名称", "统一社会信用代码/群组编号", "风险等级",
        "风险分值", "主要风险指标", "责任部门", "责任人", "核查状态", "核查结论"])
    for i, e in enumerate(data.new_entries, 1):
        clues.rows.append([
            i, ORIGIN_NAMES.get(e.get("origin") or ""), _day(e.get("created_at")), e.get("name"),
            e.get("subject_key"), _level(e.get("level_at_entry")), e.get("score_at_entry"),
            list(e.get("reasons") or []), e.get("department"), e.get("assignee"), e["status"],
            reason_label(e.get("reason_code"))])
    if not clues.rows:
        clues.note = "本月无新增线索。"
    cases = Sheet("案件进展台账", "案件进展台账" + suffix, [
        "序号", "主体名称", "统一社会信用代码", "台账状态", "线索编号", "线索名称", "涉嫌罪名",
        "公安状态", "立案日期", "涉案金额(万元)", "集资参与人数", "承办单位", "涉案角色"])
    by_entry = {e["entry_id"]: e for e in data.entries}
    seen: set[str] = set()
    for p in data.police:
        clue = p["clue"]
        entry = by_entry.get(p["entry_id"], {})
        seen.add(p["entry_id"])
        cases.rows.append([
            len(cases.rows) + 1, p.get("name"), p.get("uscc"), entry.get("status", ""),
            clue.get("clue_no"), _pick(clue, "title", "name"), _pick(clue, "crime", "charge"),
            _status(clue.get("status"), p), _pick(clue, "opened", "filed", "filed_date"),
            _pick(clue, "amount_wan"), _pick(clue, "participants", "investors"),
            _pick(clue, "unit", "handler"), p.get("role")])
    for e in data.entries:
        if e["status"] in (st.TO_POLICE, st.FILED) and e["entry_id"] not in seen:
            cases.rows.append([len(cases.rows) + 1, e.get("name"), e.get("subject_key"),
                               e["status"], "", "", "", "", "", None, None, "", ""])
    if not cases.rows:
        cases.note = "本月无移交公安或立案案件。"
    assets = asset_sheet(data, suffix)
    petitions = Sheet("信访台账", "信访台账（举报线索）" + suffix, [
        "序号", "举报编号", "举报日期", "举报渠道", "被举报对象", "统一社会信用代码", "内容摘要",
        "涉及金额(万元)", "核查状态"])
    for i, t in enumerate(data.tips, 1):
        tip = t["tip"]
        petitions.rows.append([
            i, tip.get("tip_no"), _pick(tip, "date", "tip_date", "received"),
            _pick(tip, "channel"), t.get("name"), t.get("uscc"), _pick(tip, "summary", "content"),
            _pick(tip, "amount_wan") or None, _status(tip.get("status"), t)])
    if not petitions.rows:
        petitions.note = "图谱中本县区暂无信访举报数据。"
    changes = Sheet("状态变更台账", "状态变更台账（本月）" + suffix, [
        "序号", "时间", "主体名称", "代码", "原状态", "新状态", "原因", "操作人", "说明"])
    for i, ev in enumerate(data.status_events, 1):
        changes.rows.append([i, str(ev["at"])[:19].replace("T", " "), ev["name"], ev["key"],
                             ev["source"], ev["target"], ev["reason"], ev["user"], ev["note"]])
    city = Sheet("市级交办台账", "市级交办线索办理台账" + suffix, [
        "序号", "主体名称", "代码", "交办时间", "交办人", "交办说明", "办理期限", "当前状态",
        "办结原因", "是否逾期", "责任部门", "责任人"])
    for i, e in enumerate(data.city_entries, 1):
        city.rows.append([i, e.get("name"), e.get("subject_key"), _day(passed_at(e)),
                          e.get("passed_by") or e.get("created_by"), e.get("pass_note"),
                          e.get("deadline"), e["status"], reason_label(e.get("reason_code")),
                          bool(e.get("overdue")), e.get("department"), e.get("assignee")])
    if not city.rows:
        city.note = "本月无市级交办线索。"
    groups = Sheet("跨区域案件台账", "跨区域案件台账" + suffix, [
        "序号", "群组编号", "群组分值", "涉及县区", "涉及城市", "拟主办地区", "实际控制人",
        "本县区成员", "移交状态"])
    for i, g in enumerate(data.groups, 1):
        groups.rows.append([i, g.get("group_id"), g.get("score"), _regions(g.get("counties")),
                            _regions(g.get("cities")), _regions([g.get("lead_region")]),
                            g.get("controller"), list(g.get("local_members") or []),
                            HANDOFF_NAMES.get(g.get("handoff_status") or "none", "")])
    return [control, clues, cases, assets, petitions, changes, city, groups]


def _status(status: Any, row: dict[str, Any]) -> str:
    """A clue's, tip's or case's status as the source gave it, marked when the source's
    latest full delivery no longer holds it (``ended``: kept as history; the scoring no
    longer counts it)."""
    text = str(status or "")
    if row.get("ended"):
        text += f"（{row['ended']} 全量交付中已无）"
    return text


def _wan(yuan: Any) -> float | None:
    return round(float(yuan) / 10000, 2) if isinstance(yuan, int | float) else None


def asset_sheet(data: MonthlyData, suffix: str) -> Sheet:
    """资产处置台账 from what the graph holds: 涉案金额/集资参与人数 of police clues naming the
    ledger's enterprises, and court cases where they are the debtor (enforcement, 终本,
    criminal fundraising cases). The columns no source carries (:data:`NO_SOURCE_COLUMNS`)
    stay empty and the note row says so."""
    sheet = Sheet("资产处置台账", "资产处置台账" + suffix, [
        "序号", "案件/主体名称", "资产类型", "资产描述", "涉案金额(万元)", "涉及人数",
        "案件/执行状态", "处置进度", *NO_SOURCE_COLUMNS, "数据来源", "备注"])
    blank = [None] * len(NO_SOURCE_COLUMNS)
    seen: set[tuple[Any, Any]] = set()
    for p in data.police:
        clue = p["clue"]
        if (clue.get("clue_no"), p.get("uscc")) in seen:
            continue
        seen.add((clue.get("clue_no"), p.get("uscc")))
        crime = _pick(clue, "crime", "charge")
        sheet.rows.append([
            len(sheet.rows) + 1, p.get("name"), "涉案资金",
            f"公安线索 {clue.get('clue_no')} {_pick(clue, 'title', 'name')}"
            + (f"（{crime}）" if crime else ""),
            _pick(clue, "amount_wan") or None, _pick(clue, "participants") or None,
            _status(clue.get("status"), p), "", *blank, "公安 涉案线索", p.get("role") or ""])
    for c in data.court:
        case = c["court"]
        enforce = c.get("role") == "被执行人"
        progress = {"终结本次执行": "终结本次执行（暂无可供执行财产）",
                    "已结案": "已结案"}.get(str(case.get("status") or ""), "")
        sheet.rows.append([
            len(sheet.rows) + 1, c.get("name"), "执行标的" if enforce else "刑事案件涉案金额",
            f"{case.get('case_no')} {case.get('cause') or ''}"
            + (f"（{case['court']}）" if case.get("court") else ""),
            _wan(case.get("amount_yuan")), None, _status(case.get("status"), c), progress,
            *blank,
            "法院 案件信息", f"诉讼地位：{c.get('role')}"])
    missing = "、".join(NO_SOURCE_COLUMNS)
    empty = "" if sheet.rows else "图谱中本县区台账主体暂无公安涉案金额或法院执行、刑事案件数据。"
    sheet.note = (empty + f"注：{missing}无对应数据源（公安、法院、银行等成员单位报送数据"
                  "均不含此项），相应列留空，请按实际处置情况填报。")
    return sheet


def _regions(codes: Any) -> str:
    reg = divisions()
    return "、".join(reg.name(str(c)) or str(c) for c in (codes or []) if c)


# --- DOCX -----------------------------------------------------------------------------------


def write_docx(data: MonthlyData, settings: Settings, path: Path, report_date: date) -> Path:
    """The report as a 公文: mark, 文号, red rule, title, 主送, numbered sections, 落款."""
    doc = docx.Document()
    docs.para(doc, settings.confidentiality_mark, docs.HEAD_FONT, 16, align=docs.LEFT)
    office = f"{data.county_name}防范和处置非法集资领导小组办公室"
    docs.para(doc, f"{data.county_name}处非办〔{data.start.year}〕{data.start.month}号",
              size=16, align=docs.CENTER)
    docs.red_rule(doc)
    docs.para(doc, report_title(data.start), docs.TITLE_FONT, 22, align=docs.CENTER)
    docs.para(doc, "")
    docs.para(doc, f"{data.city_name}防范和处置非法集资领导小组办公室：")
    levels = Counter(str(s.get("level") or "none") for s in data.scores)
    open_n = sum(1 for e in data.entries if e["status"] in st.OPEN_STATUSES)
    docs.para(doc, (
        f"按照属地管理原则，我县区依托风险监测预警平台对辖区市场主体开展了{data.label}风险排查。"
        f"现将有关情况报告如下："), indent=True)
    n = 1
    docs.heading(doc, n, "总体情况")
    docs.para(doc, (
        f"截至{data.label}末，平台监测辖区市场主体{len(data.scores)}家，其中红色预警"
        f"{levels['red']}家、橙色{levels['orange']}家、黄色{levels['yellow']}家、蓝色"
        f"{levels['blue']}家。风险台账在管{len(data.entries)}项（未办结{open_n}项），本月新增"
        f"线索{len(data.new_entries)}条，状态变更{len(data.status_events)}次，办结"
        f"{len(data.closures)}项，逾期未办结{len(data.overdue)}项，市级交办"
        f"{len(data.city_entries)}项，涉及本县区的跨区域案件{len(data.groups)}起。"
        + ("" if data.run_id else "（平台暂无已完成的评分运行，预警数据缺失。）")), indent=True)
    n += 1
    docs.heading(doc, n, "新增风险线索")
    docs.table(doc, ["序号", "主体名称", "代码", "风险等级", "来源", "责任部门", "状态"], [
        [i, e.get("name"), e.get("subject_key"), _level(e.get("level_at_entry")),
         ORIGIN_NAMES.get(e.get("origin") or ""), e.get("department"), e["status"]]
        for i, e in enumerate(data.new_entries, 1)], "本月无新增风险线索。")
    n += 1
    docs.heading(doc, n, "核查处置进展")
    docs.para(doc, f"本月状态变更{len(data.status_events)}次：", indent=True)
    docs.table(doc, ["时间", "主体名称", "原状态", "新状态", "原因", "操作人"], [
        [str(ev["at"])[:10], ev["name"], ev["source"], ev["target"], ev["reason"], ev["user"]]
        for ev in data.status_events], "本月无状态变更。")
    docs.para(doc, f"本月办结{len(data.closures)}项：", indent=True)
    docs.table(doc, ["序号", "主体名称", "办结状态", "办结原因", "办结时间"], [
        [i, e.get("name"), e["status"], reason_label(e.get("reason_code")),
         _day(e.get("closed_at"))] for i, e in enumerate(data.closures, 1)], "本月无办结事项。")
    n += 1
    docs.heading(doc, n, "逾期未办结事项")
    docs.table(doc, ["序号", "主体名称", "责任部门", "责任人", "办理期限", "当前状态"], [
        [i, e.get("name"), e.get("department"), e.get("assignee"), e.get("deadline"),
         e["status"]] for i, e in enumerate(data.overdue, 1)], "无逾期未办结事项。")
    n += 1
    docs.heading(doc, n, "市级交办线索办理情况")
    if data.city_entries:
        docs.para(doc, city_summary(data.city_entries), indent=True)
    docs.table(doc, ["序号", "主体名称", "交办时间", "办理期限", "办理结果"], [
        [i, e.get("name"), _day(passed_at(e)), e.get("deadline"), _fate(e)]
        for i, e in enumerate(data.city_entries, 1)], "本月无市级交办线索。")
    n += 1
    docs.heading(doc, n, "跨区域案件")
    docs.table(doc, ["群组编号", "涉及县区", "拟主办地区", "本县区成员", "移交状态"], [
        [g.get("group_id"), _regions(g.get("counties")), _regions([g.get("lead_region")]),
         "、".join(g.get("local_members") or []),
         HANDOFF_NAMES.get(g.get("handoff_status") or "none", "")] for g in data.groups],
        "本月无涉及本县区的跨区域案件。")
    n += 1
    docs.heading(doc, n, "下一步工作安排")
    docs.para(doc, ("坚持打早打小，对未办结事项逐项落实一企一策和责任人，督促逾期事项限期办结；"
                    "对市级交办线索按期反馈；配合主办地区做好跨区域案件的协查工作。"), indent=True)
    docs.para(doc, "")
    docs.para(doc, f"附件：{data.county_name}{data.label}风险排查工作台账（电子表格）", indent=True)
    docs.para(doc, "")
    docs.para(doc, office, align=docs.RIGHT)
    docs.para(doc, docs.cn_date(report_date), align=docs.RIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def for_scope(data: MonthlyData, scope: Scope | None) -> MonthlyData:
    """The report's facts as the signed-in ``scope`` may see them (``docs/security.md``): no
    police clue details without ``can_see_police_credit`` (the ledger's own 移交公安/立案
    rows stay), no group controller (a person) for county-limited scopes. ``None`` (the CLI,
    run by operators): everything."""
    if scope is None:
        return data
    if not scope.can_see_police_credit:
        data.police = []
    if scope.counties is not None:
        data.groups = [{**g, "controller": None} for g in data.groups]
    return data


def monthly_report(driver: Driver, settings: Settings, county: str, month: str, out: Path,
                   report_date: date | None = None, database: str | None = None,
                   scope: Scope | None = None) -> tuple[Path, Path]:
    """Write the DOCX report and the XLSX ledgers of ``county`` for ``month`` into ``out``
    (masked for ``scope`` when the app makes it for a signed-in user, :func:`for_scope`)."""
    day = report_date or date.today()
    data = for_scope(collect_monthly(driver, settings, county, month, today=day,
                                     database=database), scope)
    stem = f"{county}_{month}"
    docx_path = write_docx(data, settings, out / f"{stem}_月报.docx", day)
    xlsx_path = write_workbook(out / f"{stem}_台账.xlsx", ledger_sheets(data))
    return docx_path, xlsx_path


def run_monthly_command(settings: Settings, county: str, month: str, out: Path) -> int:
    """CLI entry: check the arguments, connect, write both files, print their paths."""
    check_county(settings, county)
    parse_month(month)
    writable_folder(out, "output folder", "pass a folder you may write (it is made when "
                    "missing)")  # exit 2 before connecting
    from graph.connection import connect

    driver = connect(settings)
    try:
        paths = monthly_report(driver, settings, county, month, out,
                               database=settings.neo4j_database)
    finally:
        driver.close()
    for path in paths:
        print(path)
    return 0


__all__ = ["MonthlyData", "check_county", "collect_monthly", "ledger_sheets",
           "monthly_report", "parse_month", "run_monthly_command", "write_docx"]
