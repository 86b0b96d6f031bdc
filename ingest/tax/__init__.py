"""tax — 税务部门: taxpayer status and credit grade, yearly declarations (both → TaxYear).

Both tables write the same ``TaxYear`` node (``<uscc>|<year>``), each as its own part of the
record (:attr:`graph.model.NodeSpec.parts`): a full snapshot of one table ends only its part,
never the other table's facts of that year."""

from __future__ import annotations

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import YUAN, F, num, rows
from ingest.spec import TableSpec

SOURCE = "tax"

GRADES = ("A", "B", "M", "C", "D")
GRADE_LOOKUP = {f"{g}级": g for g in GRADES} | {g.lower(): g for g in GRADES}
TAX_STATUS = ("正常", "非正常户", "注销")
TAX_STATUS_LOOKUP = {"非正常": "非正常户", "已注销": "注销", "正常户": "正常"}

TAXPAYERS = (
    F("纳税人识别号", "uscc", "uscc", required=True, not_null=True),
    F("纳税人名称", "name"),
    F("主管税务机关", "tax_authority"),
    F("纳税人状态", "tax_status", "enum", values=TAX_STATUS, lookup=TAX_STATUS_LOOKUP),
    F("纳税信用等级", "credit_grade", "enum", values=GRADES, lookup=GRADE_LOOKUP),
    F("评价年度", "year", "int", required=True, not_null=True),
)

DECLARATIONS = (
    F("纳税人识别号", "uscc", "uscc", required=True, not_null=True),
    F("所属年度", "year", "int", required=True, not_null=True),
    F("营业收入", "revenue", "amount", unit=YUAN),
    F("应纳税额", "tax_due", "amount", unit=YUAN),
    F("已缴税额", "tax_paid", "amount", unit=YUAN),
    F("欠税余额", "arrears", "amount", unit=YUAN),
    F("零申报月数", "zero_months", "int"),
    F("社保缴纳人数", "insured", "int"),
)


def _tax_year(ctx: BuildContext, row: int, uscc: str, year: int, props: dict, name: str | None
              ) -> None:
    tax_id = f"{uscc}|{year}"
    ctx.enterprise_stub(uscc, name, row)
    ctx.writes.node("TaxYear", tax_id, ctx.record_props(row, {"uscc": uscc, "year": year,
                                                               **props}, "TaxYear"),
                    mode="record")
    ctx.writes.rel("FILED_TAX", ("Enterprise", uscc), ("TaxYear", tax_id), ctx.prov(row))


def build_taxpayers(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None or r["year"] is None:
            continue
        _tax_year(ctx, row, key, int(r["year"]), {
            "taxpayer_name": r["name"], "tax_authority": r["tax_authority"],
            "tax_status": r["tax_status"], "credit_grade": r["credit_grade"]}, r["name"])
    return ctx.writes


def build_declarations(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None or r["year"] is None:
            continue
        _tax_year(ctx, row, key, int(r["year"]), {
            "revenue_yuan": num(r["revenue"]), "tax_due_yuan": num(r["tax_due"]),
            "tax_paid_yuan": num(r["tax_paid"]), "arrears_yuan": num(r["arrears"]),
            "zero_months": num(r["zero_months"]), "insured": num(r["insured"])}, None)
    return ctx.writes


TABLES = (
    TableSpec(SOURCE, "纳税人信息", TAXPAYERS, key=("uscc", "year"), build=build_taxpayers,
              order=10),
    TableSpec(SOURCE, "申报汇总", DECLARATIONS, key=("uscc", "year"), build=build_declarations,
              order=20),
)
