"""credit — 信用名单 (credit lists) and 企业征信摘要 (credit-report summaries)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import F, num, rows
from ingest.spec import TableSpec

SOURCE = "credit"

LIST_TYPES = (
    "失信被执行人", "经营异常名录", "严重违法失信名单", "重大税收违法失信主体", "行政处罚",
)
LIST_LOOKUP = {"经营异常名单": "经营异常名录", "严重违法失信企业名单": "严重违法失信名单",
               "重大税收违法案件当事人": "重大税收违法失信主体", "失信被执行人名单": "失信被执行人"}

LISTINGS = (
    F("主体名称", "name", required=True, not_null=True),
    F("统一社会信用代码或证件号码", "code", "code", required=True,
      aliases=("统一社会信用代码", "证件号码")),
    F("名单类型", "list_type", "enum", required=True, not_null=True, values=LIST_TYPES,
      lookup=LIST_LOOKUP),
    F("列入日期", "listed", "date", required=True, not_null=True),
    F("列入原因", "reason"),
    F("决定机关", "authority"),
    F("移出日期", "removed", "date"),
)

REPORTS = (
    F("统一社会信用代码", "uscc", "uscc", required=True, not_null=True),
    F("报告日期", "date", "date", required=True, not_null=True),
    F("贷款余额", "loans", "amount"),
    F("逾期金额", "overdue", "amount"),
    F("对外担保余额", "guarantees", "amount"),
    F("担保代偿笔数", "guarantee_paid", "int"),
    F("近12月查询次数", "queries", "int"),
)


def build_listings(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    items: list[dict[str, Any]] = []
    data = list(rows(frame))
    for row, r in data:
        items.append({"name": r["name"], "code": r["code"], "row": row, "kind": None,
                      "key": f"{r['list_type']}|{r['listed']}", "counterparts": []})
    for (row, r), subject in zip(data, ctx.resolve_parties(items), strict=True):
        if not subject[0]:
            continue
        listing_id = f"{subject[1]}|{r['list_type']}|{r['listed']}"
        ctx.writes.node("CreditListing", listing_id, ctx.record_props(row, {
            "list_type": r["list_type"], "listed": r["listed"], "reason": r["reason"],
            "authority": r["authority"], "removed": r["removed"], "subject_name": r["name"],
            "subject_key": subject[1]}), mode="record")
        ctx.writes.rel("LISTED_IN", subject, ("CreditListing", listing_id), ctx.prov(row))
    return ctx.writes


def build_reports(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None:
            continue
        ctx.enterprise_stub(key, None, row)
        report_id = f"{key}|{r['date']}"
        ctx.writes.node("CreditReport", report_id, ctx.record_props(row, {
            "uscc": key, "date": r["date"], "loans_wan": num(r["loans"]),
            "overdue_wan": num(r["overdue"]), "guarantees_wan": num(r["guarantees"]),
            "guarantee_paid": num(r["guarantee_paid"]), "queries_12m": num(r["queries"])}),
            mode="record")
        ctx.writes.rel("HAS_CREDIT_REPORT", ("Enterprise", key), ("CreditReport", report_id),
                       ctx.prov(row))
    return ctx.writes


TABLES = (
    TableSpec(SOURCE, "信用名单", LISTINGS, key=("code", "name", "list_type", "listed"),
              build=build_listings, order=10),
    TableSpec(SOURCE, "企业征信摘要", REPORTS, key=("uscc", "date"), build=build_reports,
              order=10),
)
