"""Cross-region hand-off package (跨区域案件移交材料) for the proposed lead region of a Group.

:func:`build_package` reads the group: members per region with their live scores and the
indicators that fired (evidence), the controller, investors per region (natural-person
plaintiffs against members and payers into members), and the contacts of every county office
involved. :func:`write_package` writes it as DOCX (公文 layout) and JSON, and moves the group's
hand-off status to ``draft``. :func:`set_handoff_status` moves it along the declared table
(draft → sent → accepted → closed; sent → draft when returned) with an immutable history row,
checked against who may make the move (:mod:`workflow.permissions`: the city on every move, the
lead county on accept/return/close) and written to the audit trail (``handoff_status``).
:func:`handoff_history` reads the rows back.

Contacts come from ``RISKGRAPH_HOME/county_offices.json`` when present, else the packaged
``workflow/county_offices.json``; any office without real data is marked ``placeholder`` and
printed as 【占位】.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import docx
from neo4j import Driver

from graph import access, cypher
from riskgraph.divisions import divisions
from riskgraph.errors import DataError, RejectedError
from riskgraph.settings import Settings
from security import audit
from workflow import docs
from workflow import permissions as perms
from workflow.ledger import LEVEL_NAMES, history, stamp, write_rows

HANDOFF_STATUSES = ("none", "draft", "sent", "accepted", "closed")
#: display names (zh-CN) of the hand-off statuses.
HANDOFF_NAMES: dict[str, str] = {"none": "未移交", "draft": "草拟", "sent": "已发送",
                                 "accepted": "已接收", "closed": "已办结"}
#: declared hand-off moves: (from, to)
HANDOFF_TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    ("none", "draft"), ("draft", "sent"), ("sent", "accepted"), ("sent", "draft"),
    ("accepted", "closed"),
})
PLAINTIFF_ROLES = ["原告", "申请执行人", "上诉人"]
PLACEHOLDER_MARK = "【占位】"


def load_contacts(settings: Settings) -> dict[str, dict[str, Any]]:
    """County office contacts by division code (``_default`` = the placeholder template)."""
    local = settings.home / "county_offices.json"
    try:
        if local.exists():
            text = local.read_text(encoding="utf-8")
        else:
            text = resources.files("workflow").joinpath("county_offices.json").read_text(
                encoding="utf-8")
        offices = json.loads(text)["offices"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"county office contacts unreadable: {exc}",
                        f"fix {local} (see workflow/county_offices.json)") from exc
    return {str(k): dict(v) for k, v in offices.items()}


def contact_for(code: str, contacts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The contact of ``code``'s office; a clearly marked placeholder when unknown."""
    name = divisions().full_name(code) if divisions().get(code) else code
    entry = contacts.get(code)
    if entry is None:
        template = contacts.get("_default", {"office": "{name}处非办", "placeholder": True})
        entry = {k: (v.format(name=name) if isinstance(v, str) else v)
                 for k, v in template.items()}
        entry["placeholder"] = True
    return {"region": code, "region_name": name, "office": entry.get("office", ""),
            "contact": entry.get("contact", ""), "phone": entry.get("phone", ""),
            "address": entry.get("address", ""), "placeholder": bool(entry.get("placeholder"))}


def _indicators(explanation: Any) -> list[dict[str, Any]]:
    try:
        data = json.loads(explanation) if isinstance(explanation, str) else (explanation or {})
    except ValueError:
        return []
    return [{k: i.get(k) for k in ("id", "source", "delivery", "value", "contribution")}
            for i in data.get("indicators", []) if isinstance(i, dict)]


def build_package(driver: Driver, settings: Settings, group_id: str,
                  database: str | None = None) -> dict[str, Any]:
    """The hand-off package of ``group_id`` as a JSON-ready dict."""
    reg = divisions()
    found = access.read(driver, cypher.wf_group(), {"group_id": group_id}, database)
    if not found:
        raise RejectedError(f"no group {group_id!r}", "check the group id")
    grp = found[0]["grp"]
    live = access.read(driver, cypher.wf_live_run(), {}, database)
    run_id = live[0]["run_id"] if live else None
    members = access.read(driver, cypher.wf_group_members(),
                          {"group_id": group_id, "run_id": run_id}, database)
    by_region: dict[str, dict[str, Any]] = {}
    for m in members:
        code = m.get("county") or ""
        region = by_region.setdefault(code, {"region": code, "region_name": reg.name(code),
                                             "members": []})
        region["members"].append({
            "uscc": m["uscc"], "name": m.get("name"), "legal_rep": m.get("legal_rep"),
            "address": m.get("address"), "score": m.get("score"), "level": m.get("level"),
            "reasons": list(m.get("reasons") or []),
            "indicators": _indicators(m.get("explanation"))})
    investors = [{"region": r["region"], "region_name": reg.name(r["region"]) or "未知地区",
                  "investors": r["investors"]}
                 for r in access.read(driver, cypher.wf_group_investors(),
                                      {"group_id": group_id, "plaintiff_roles": PLAINTIFF_ROLES},
                                      database)]
    ctrl_key = grp.get("controller")
    ctrl = access.read(driver, cypher.wf_controller(), {"key": ctrl_key}, database)[0] \
        if ctrl_key else {"name": None, "region": None}
    counties = [str(c) for c in grp.get("counties") or []]
    lead = grp.get("lead_region") or ""
    contacts = load_contacts(settings)
    return {
        "group_id": group_id,
        "generated_at": stamp(),
        "run_id": run_id,
        "handoff_status": grp.get("handoff_status") or "none",
        "score": grp.get("score"),
        "proposed_lead_region": {"code": lead, "name": reg.name(lead)},
        "counties": [{"code": c, "name": reg.name(c)} for c in counties],
        "cities": [{"code": str(c), "name": reg.name(str(c))} for c in grp.get("cities") or []],
        "controller": {"key": ctrl_key, "name": ctrl.get("name"), "region": ctrl.get("region"),
                       "region_name": reg.name(ctrl.get("region"))},
        "members_by_region": sorted(by_region.values(), key=lambda r: r["region"]),
        "member_count": len(members),
        "investors_by_region": investors,
        "investor_count": sum(r["investors"] for r in investors),
        "contacts": [contact_for(c, contacts) for c in sorted(set(counties) | {lead} - {""})],
    }


def _write_docx(package: dict[str, Any], settings: Settings, path: Path) -> Path:
    doc = docx.Document()
    docs.para(doc, settings.confidentiality_mark, docs.HEAD_FONT, 16, align=docs.LEFT)
    docs.para(doc, "跨区域非法集资风险案件移交材料", docs.TITLE_FONT, 22, align=docs.CENTER)
    lead = package["proposed_lead_region"]
    docs.para(doc, f"{lead['name'] or lead['code']}防范和处置非法集资领导小组办公室：")
    docs.para(doc, (
        f"经风险监测预警平台分析，关联企业群 {package['group_id']} 涉及"
        f"{'、'.join(c['name'] or c['code'] for c in package['counties'])}，成员企业"
        f"{package['member_count']}家，涉及集资参与人{package['investor_count']}人。"
        f"鉴于实际控制人及核心企业位于{lead['name'] or lead['code']}，建议由贵地区牵头主办，"
        "现将有关材料移交如下："),
        indent=True)
    ctrl = package["controller"]
    docs.heading(doc, 1, "实际控制人")
    where = ctrl.get("region_name") or "未知"
    docs.para(doc, f"{ctrl.get('name') or '未识别'}（所在地区：{where}）", indent=True)
    docs.heading(doc, 2, "成员企业（按地区）及预警依据")
    rows = []
    for region in package["members_by_region"]:
        for m in region["members"]:
            fired = "；".join(f"{i['id']}（{i.get('source') or ''} {i.get('delivery') or ''}）"
                             for i in m["indicators"]) or "、".join(m["reasons"])
            rows.append([region["region_name"] or region["region"], m["name"], m["uscc"],
                         LEVEL_NAMES.get(str(m.get("level") or "none"), ""),
                         "" if m.get("score") is None else f"{m['score']:.1f}", fired])
    docs.table(doc, ["地区", "企业名称", "统一社会信用代码", "预警等级", "风险分值", "触发指标"],
               rows)
    docs.heading(doc, 3, "集资参与人分布")
    docs.table(doc, ["地区", "人数"], [[r["region_name"], r["investors"]]
                                      for r in package["investors_by_region"]],
               "图谱中暂无集资参与人数据。")
    docs.heading(doc, 4, "相关县区处非办联系方式")
    docs.table(doc, ["地区", "单位", "联系人", "电话"], [
        [c["region_name"], c["office"],
         (PLACEHOLDER_MARK if c["placeholder"] else "") + str(c["contact"]),
         (PLACEHOLDER_MARK if c["placeholder"] else "") + str(c["phone"])]
        for c in package["contacts"]])
    if any(c["placeholder"] for c in package["contacts"]):
        docs.para(doc, f"注：标有{PLACEHOLDER_MARK}的联系方式为占位信息，请在移交前核实补充。",
                  size=12, indent=True)
    docs.para(doc, "")
    docs.para(doc, docs.cn_date(date.today()), align=docs.RIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def next_handoff_statuses(status: str) -> list[str]:
    """The hand-off statuses reachable from ``status`` in display order."""
    return [t for t in HANDOFF_STATUSES if (status, t) in HANDOFF_TRANSITIONS]


def allowed_moves(user: Any, status: str, lead: str | None) -> list[str]:
    """The next statuses ``user`` may move a hand-off in ``status`` to (lead region ``lead``)."""
    return [t for t in next_handoff_statuses(status)
            if perms.may_move_handoff(user, status, t, lead)]


def set_handoff_status(driver: Driver, group_id: str, target: str, user: Any, *,
                       lead: str | None = None, note: str | None = None,
                       at: datetime | None = None, database: str | None = None) -> str:
    """Move the group's hand-off status to ``target`` along :data:`HANDOFF_TRANSITIONS`.

    Refused (:class:`RejectedError`, nothing written) for an unknown group, a move the table
    does not allow, a user who may not make it (:func:`workflow.permissions.check_handoff`) or
    a status changed meanwhile. Every move is kept in the group's history and audited.
    """
    found = access.read(driver, cypher.wf_group(), {"group_id": group_id}, database)
    if not found:
        raise RejectedError(f"no group {group_id!r}", "check the group id")
    grp = found[0]["grp"]
    source = grp.get("handoff_status") or "none"
    if (source, target) not in HANDOFF_TRANSITIONS:
        allowed = next_handoff_statuses(source)
        raise RejectedError(f"hand-off of {group_id}: {source} → {target} is not allowed",
                            f"from {source} the allowed next statuses are: "
                            f"{', '.join(allowed) or 'none'}")
    region = grp.get("handoff_lead") or grp.get("lead_region")
    actor = perms.check_handoff(user, source, target, region)
    params = {"group_id": group_id, "source": source, "target": target, "at": stamp(at),
              "user": actor.name, "lead": lead, "event_id": uuid.uuid4().hex,
              "history_key": f"group:{group_id}", "note": note or "",
              "changes_json": json.dumps({"handoff_status": [source, target], "lead": lead},
                                         ensure_ascii=False)}
    if not write_rows(driver, cypher.wf_set_handoff(), params, database):
        raise RejectedError(f"hand-off of {group_id} changed meanwhile", "reload and retry")
    audit.record(driver, "handoff_status", user=actor.name, role=actor.role, target=group_id,
                 detail={"from": source, "to": target, "lead": region, "note": note or ""})
    return target


def handoff_history(driver: Driver, group_id: str,
                    database: str | None = None) -> list[dict[str, Any]]:
    """The group's hand-off moves, oldest first (who, when, from → to, note)."""
    return history(driver, f"group:{group_id}", database=database)


def write_package(driver: Driver, settings: Settings, group_id: str, out: Path, user: Any,
                  database: str | None = None) -> tuple[Path, Path]:
    """Write ``<group>_移交材料.docx`` and ``<group>_handoff.json`` into ``out``; a group
    without a hand-off yet moves to ``draft``."""
    package = build_package(driver, settings, group_id, database)
    if package["handoff_status"] == "none":
        set_handoff_status(driver, group_id, "draft", user,
                           lead=package["proposed_lead_region"]["code"], database=database)
        package["handoff_status"] = "draft"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in group_id)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{safe}_handoff.json"
    json_path.write_text(json.dumps(package, ensure_ascii=False, indent=2, default=str),
                         encoding="utf-8")
    return _write_docx(package, settings, out / f"{safe}_移交材料.docx"), json_path
