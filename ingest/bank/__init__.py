"""bank — 可疑资金监测: account alerts and payment summaries between parties."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import YUAN, F, num, rows
from ingest.spec import TableSpec

SOURCE = "bank"

PATTERNS = ("分散转入集中转出", "定期批量小额转出", "快进快出", "其他")
PATTERN_LOOKUP = {"分散转入、集中转出": "分散转入集中转出", "快进快出型": "快进快出"}

ALERTS = (
    F("账户主体名称", "name", required=True, not_null=True),
    F("统一社会信用代码或证件号码", "code", "code", required=True, not_null=True,
      aliases=("主体代码",)),
    F("开户行", "bank"),
    F("监测期起", "period_from", "date", required=True, not_null=True),
    F("监测期止", "period_to", "date"),
    F("异动特征", "pattern", "enum", required=True, not_null=True, values=PATTERNS,
      lookup=PATTERN_LOOKUP),
    F("转入笔数", "in_count", "int"),
    F("转入对手数", "in_parties", "int"),
    F("转入金额", "in_amount", "amount", unit=YUAN),
    F("转出笔数", "out_count", "int"),
    F("转出金额", "out_amount", "amount", unit=YUAN),
)

PAYMENTS = (
    F("付款方名称", "payer", required=True, not_null=True),
    F("付款方代码", "payer_code", "code"),
    F("收款方名称", "payee", required=True, not_null=True),
    F("收款方代码", "payee_code", "code"),
    F("期间起", "period_from", "date"),
    F("期间止", "period_to", "date"),
    F("笔数", "count", "int"),
    F("金额", "amount", "amount", unit=YUAN, required=True),
)


def build_alerts(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    data = list(rows(frame))
    items: list[dict[str, Any]] = [
        {"name": r["name"], "code": r["code"], "row": row, "kind": None,
         "key": f"{r['period_from']}|{r['pattern']}", "counterparts": []} for row, r in data]
    for (row, r), subject in zip(data, ctx.resolve_parties(items), strict=True):
        if not subject[0]:
            continue
        alert_id = f"{subject[1]}|{r['period_from']}|{r['pattern']}"
        ctx.writes.node("BankAlert", alert_id, ctx.record_props(row, {
            "subject_name": r["name"], "subject_key": subject[1], "bank": r["bank"],
            "period_from": r["period_from"], "period_to": r["period_to"],
            "pattern": r["pattern"], "in_count": num(r["in_count"]),
            "in_parties": num(r["in_parties"]), "in_amount_yuan": num(r["in_amount"]),
            "out_count": num(r["out_count"]), "out_amount_yuan": num(r["out_amount"])}),
            mode="record")
        ctx.writes.rel("FLAGGED_IN", subject, ("BankAlert", alert_id), ctx.prov(row))
    return ctx.writes


def build_payments(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    data = list(rows(frame))
    items: list[dict[str, Any]] = []
    for row, r in data:
        for side in ("payer", "payee"):
            items.append({"name": r[side], "code": r[side + "_code"], "row": row, "kind": None,
                          "key": f"{r['period_from']}|{r['period_to']}", "counterparts": []})
    subjects = ctx.resolve_parties(items)
    for i, (row, r) in enumerate(data):
        payer, payee = subjects[2 * i], subjects[2 * i + 1]
        if not payer[0] or not payee[0]:
            continue
        ctx.writes.rel("PAYS", payer, payee, ctx.record_props(row, {
            "amount_yuan": num(r["amount"]), "count": num(r["count"]),
            "period_from": r["period_from"], "period_to": r["period_to"]}),
            rk=f"{r['period_from']}|{r['period_to']}")
    return ctx.writes


TABLES = (
    TableSpec(SOURCE, "账户异动", ALERTS, key=("code", "period_from", "pattern"),
              build=build_alerts, order=10),
    # a payment summary belongs to no record: its parties and period name it
    TableSpec(SOURCE, "资金往来汇总", PAYMENTS, child=True, build=build_payments, order=20,
              snapshot_key=("payer", "payee", "period_from", "period_to")),
)
