"""tips — 举报线索 (12345, 110, letters, online)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import F, num, rows
from ingest.spec import TableSpec

SOURCE = "tips"

STATES = ("待核查", "核查中", "属实", "不属实")
STATE_LOOKUP = {"未核查": "待核查", "查实": "属实", "已核实": "属实", "不实": "不属实"}

TIPS = (
    F("举报编号", "tip_no", "key", required=True, not_null=True),
    F("举报日期", "date", "date"),
    F("举报渠道", "channel"),
    F("被举报对象", "target", required=True),
    F("被举报对象代码", "target_code", "uscc"),
    F("内容摘要", "summary"),
    F("涉及金额", "amount", "amount"),
    F("核查状态", "status", "enum", values=STATES, lookup=STATE_LOOKUP),
)


def build_tips(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    data = list(rows(frame))
    items: list[dict[str, Any]] = []
    for row, r in data:
        items.append({"name": r["target"], "code": r["target_code"], "row": row, "kind": "org",
                      "key": r["tip_no"], "counterparts": []})
    for (row, r), subject in zip(data, ctx.resolve_parties(items), strict=True):
        ctx.writes.node("Tip", r["tip_no"], ctx.record_props(row, {
            "date": r["date"], "channel": r["channel"], "target": r["target"],
            "summary": r["summary"], "amount_wan": num(r["amount"]), "status": r["status"]}),
            mode="record")
        if subject[0] in ("Enterprise", "Party"):
            ctx.writes.rel("TIPPED_IN", subject, ("Tip", r["tip_no"]), ctx.record_props(row, {}))
    return ctx.writes


TABLES = (TableSpec(SOURCE, "举报线索", TIPS, key=("tip_no",), build=build_tips, order=10),)
