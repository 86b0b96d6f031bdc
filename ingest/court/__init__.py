"""court — 人民法院: cases and their parties (masked natural persons resolved when unambiguous)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from ingest.build import BuildContext, Writes
from ingest.common import YUAN, F, num, rows
from ingest.spec import TableSpec

SOURCE = "court"

CAUSES = (
    "民间借贷纠纷", "借款合同纠纷", "金融借款合同纠纷", "小额借款合同纠纷", "非法吸收公众存款罪",
    "集资诈骗罪", "合同诈骗罪", "组织、领导传销活动罪", "诈骗罪", "执行", "买卖合同纠纷",
    "劳动争议", "劳务合同纠纷", "追索劳动报酬纠纷", "租赁合同纠纷", "房屋租赁合同纠纷",
    "服务合同纠纷", "委托理财合同纠纷", "合伙协议纠纷", "股权转让纠纷", "保证合同纠纷",
    "追偿权纠纷", "建设工程施工合同纠纷", "商品房预售合同纠纷", "房屋买卖合同纠纷",
    "不当得利纠纷", "合同纠纷", "其他",
)
CAUSE_LOOKUP = {"组织领导传销活动罪": "组织、领导传销活动罪",
                "非法吸收公众存款": "非法吸收公众存款罪",
                "集资诈骗": "集资诈骗罪", "首次执行": "执行", "执行案件": "执行"}
STATES = ("已立案", "审理中", "已结案", "终结本次执行")
STATE_LOOKUP = {"立案": "已立案", "在审": "审理中", "结案": "已结案", "终本": "终结本次执行"}
PARTY_TYPES = ("自然人", "法人", "非法人组织")
PARTY_TYPE_LOOKUP = {"个人": "自然人", "单位": "法人", "企业": "法人", "其他组织": "非法人组织"}
ROLES = ("原告", "被告", "第三人", "申请执行人", "被执行人", "被告人", "上诉人", "被上诉人",
         "申请人", "被申请人")

CASES = (
    F("案号", "case_no", "key", required=True, not_null=True),
    # 案由 is an open list (民事案件案由规定 has hundreds): normalised through the lookup, known
    # causes flagged in ``cause_known``, never quarantined for being unlisted
    F("案由", "cause", "text", required=True, lookup=CAUSE_LOOKUP),
    F("立案日期", "filed", "date"),
    F("审理法院", "court"),
    F("标的金额", "amount", "amount", unit=YUAN),
    F("案件状态", "status", "enum", values=STATES, lookup=STATE_LOOKUP),
    F("结案日期", "closed", "date"),
)

PARTIES = (
    F("案号", "case_no", "key", required=True, not_null=True),
    F("当事人名称", "name", required=True, not_null=True, aliases=("当事人",)),
    F("当事人类型", "party_type", "enum", values=PARTY_TYPES, lookup=PARTY_TYPE_LOOKUP),
    F("证件号码", "code", "code", aliases=("证件号",)),
    F("诉讼地位", "role", "enum", required=True, values=ROLES),
)


def build_cases(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    for row, r in rows(frame):
        ctx.writes.node("CourtCase", r["case_no"], ctx.record_props(row, {
            "cause": r["cause"], "cause_known": r["cause"] in CAUSES, "filed": r["filed"],
            "court": r["court"],
            "amount_yuan": num(r["amount"]), "status": r["status"], "closed": r["closed"]}),
            mode="record")
    return ctx.writes


def build_parties(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    data = list(rows(frame))
    by_case: dict[str, set[str]] = defaultdict(set)
    for _row, r in data:
        key = ctx.enterprise_key(r["code"])
        if key is not None:
            by_case[r["case_no"]].add(key)
    items: list[dict[str, Any]] = []
    for row, r in data:
        kind = {"自然人": "person", "法人": "org", "非法人组织": "org"}.get(r["party_type"] or "")
        items.append({"name": r["name"], "code": r["code"], "row": row, "kind": kind,
                      "key": r["case_no"], "counterparts": sorted(by_case[r["case_no"]])})
    for (row, r), subject in zip(data, ctx.resolve_parties(items), strict=True):
        if not subject[0]:
            continue
        ctx.writes.rel("PARTY_TO", subject, ("CourtCase", r["case_no"]),
                       ctx.record_props(row, {"role": r["role"]}), rk=r["role"] or "")
    return ctx.writes


TABLES = (
    TableSpec(SOURCE, "案件信息", CASES, key=("case_no",), build=build_cases, order=10),
    TableSpec(SOURCE, "当事人", PARTIES, child=True, build=build_parties, order=20,
              snapshot_key=("case_no",)),
)
