"""police — 公安经侦: clues/cases, the regions they involve, and their subjects."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import F, num, rows
from ingest.spec import TableSpec

SOURCE = "police"

CRIMES = ("非法吸收公众存款", "集资诈骗", "组织、领导传销活动", "其他")
CRIME_LOOKUP = {"非法吸收公众存款罪": "非法吸收公众存款", "集资诈骗罪": "集资诈骗",
                "组织、领导传销活动罪": "组织、领导传销活动",
                "组织领导传销活动": "组织、领导传销活动"}
STATES = ("线索核查", "已立案", "侦查终结", "移送起诉", "撤案")
STATE_LOOKUP = {"核查中": "线索核查", "立案": "已立案", "已撤案": "撤案", "已移送起诉": "移送起诉"}
SUBJECT_TYPES = ("单位", "个人")
SUBJECT_TYPE_LOOKUP = {"企业": "单位", "法人": "单位", "自然人": "个人"}
ROLES = ("嫌疑单位", "犯罪嫌疑人", "关联单位", "关联人员")

CLUES = (
    F("线索编号", "clue_no", "key", required=True, not_null=True),
    F("线索名称", "title"),
    F("涉嫌罪名", "crime", "enum", values=CRIMES, lookup=CRIME_LOOKUP),
    F("受理日期", "received", "date"),
    F("立案日期", "opened", "date"),
    F("状态", "status", "enum", values=STATES, lookup=STATE_LOOKUP),
    F("涉案金额", "amount", "amount"),
    F("集资参与人数", "participants", "int"),
    F("涉及地区", "regions", "region"),
    F("承办单位", "unit"),
)

SUBJECTS = (
    F("线索编号", "clue_no", "key", required=True, not_null=True),
    F("主体名称", "name", required=True, not_null=True),
    F("主体类型", "subject_type", "enum", values=SUBJECT_TYPES, lookup=SUBJECT_TYPE_LOOKUP),
    F("证件号码", "code", "code"),
    F("涉案角色", "role", "enum", values=ROLES),
)


def build_clues(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    for row, r in rows(frame):
        ctx.writes.node("PoliceClue", r["clue_no"], ctx.record_props(row, {
            "title": r["title"], "crime": r["crime"], "received": r["received"],
            "opened": r["opened"], "status": r["status"], "amount_wan": num(r["amount"]),
            "participants": num(r["participants"]), "regions": list(r["regions"] or []),
            "unit": r["unit"]}), mode="record")
        for code in r["regions"] or []:
            ctx.writes.rel("INVOLVES_REGION", ("PoliceClue", r["clue_no"]), ("Region", code),
                           ctx.record_props(row, {}))
    return ctx.writes


def build_subjects(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    data = list(rows(frame))
    items: list[dict[str, Any]] = []
    units: dict[str, list[str]] = {}
    for _row, r in data:
        key = ctx.enterprise_key(r["code"])
        if key is not None:
            units.setdefault(r["clue_no"], []).append(key)
    for row, r in data:
        kind = {"单位": "org", "个人": "person"}.get(r["subject_type"] or "")
        items.append({"name": r["name"], "code": r["code"], "row": row, "kind": kind,
                      "key": r["clue_no"], "counterparts": units.get(r["clue_no"], [])})
    for (row, r), subject in zip(data, ctx.resolve_parties(items), strict=True):
        if not subject[0]:
            continue
        ctx.writes.rel("SUBJECT_OF", subject, ("PoliceClue", r["clue_no"]),
                       ctx.record_props(row, {"role": r["role"]}), rk=r["role"] or "")
    return ctx.writes


TABLES = (
    TableSpec(SOURCE, "涉案线索", CLUES, key=("clue_no",), build=build_clues, order=10),
    TableSpec(SOURCE, "涉案主体", SUBJECTS, child=True, build=build_subjects, order=20,
              snapshot_key=("clue_no",)),
)
