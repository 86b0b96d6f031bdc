"""registration — 市场监管部门: enterprises, shareholders, officers, changes, branches."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ingest import normalise as nz
from ingest.build import BuildContext, Writes, short_hash, territory
from ingest.build_cache import is_valid_regno, is_valid_uscc
from ingest.common import F, num, rows
from ingest.spec import TableSpec
from riskgraph.identifiers import is_valid_citizen_id

SOURCE = "registration"

STATUS = ("存续", "在营", "开业", "注销", "吊销", "迁出", "撤销")
STATUS_LOOKUP = {
    "存续（在营、开业、在册）": "存续", "存续(在营、开业、在册)": "存续", "在业": "在营",
    "在册": "存续", "正常": "存续", "已注销": "注销", "注销企业": "注销", "吊销，未注销": "吊销",
    "吊销,未注销": "吊销", "吊销未注销": "吊销", "已吊销": "吊销", "已迁出": "迁出",
    "已撤销": "撤销",
}
HOLDER_TYPES = ("自然人股东", "企业法人", "合伙企业", "其他")
# 自然人 / 个人 / 法人股东 are NOT accepted: the contract says 自然人股东 / 企业法人 (enum_unknown)
HOLDER_LOOKUP = {"有限合伙": "合伙企业"}

DELEGATE = re.compile(r"^(?P<firm>.+?)[（(]\s*委派代表\s*[:：]\s*(?P<agents>[^()（）]*?)\s*[)）]$")
"""``firm（委派代表：person）``: the 法定代表人 field of a partnership whose 执行事务合伙人 is a
firm, with the person the firm delegates."""
DELEGATE_SPLIT = re.compile(r"[、,，;；/\s]+")
FIRM_ENDINGS = ("公司", "企业", "集团", "中心", "事务所", "合作社", "合伙）", "合伙)")
"""Endings of a firm's name (a 法定代表人 field naming a firm without a delegate)."""
PERSON_NAME_MAX = 6
"""Longest 法定代表人 text still read as a person's name whatever its ending."""
DELEGATE_ROLE = "执行事务合伙人委派代表"


def managing_partner(legal_rep: str) -> tuple[str, list[str]] | None:
    """``(firm name, delegate names)`` when a 法定代表人 field names a firm — the
    执行事务合伙人 of a partnership, ``某某基金管理有限公司（委派代表：张三）`` — else None (a
    person)."""
    text = legal_rep.strip()
    m = DELEGATE.match(text)
    if m is not None:
        return m["firm"].strip(), [a for a in DELEGATE_SPLIT.split(m["agents"]) if a]
    if len(text) > PERSON_NAME_MAX and text.endswith(FIRM_ENDINGS):
        return text, []
    return None


ENTERPRISE = (
    F("统一社会信用代码", "uscc", "uscc", required=True, not_null=True,
      aliases=("统一社会信用代码/注册号", "注册号")),
    F("企业名称", "name", required=True, not_null=True, aliases=("名称",)),
    F("企业类型", "ent_type"),
    F("法定代表人", "legal_rep", aliases=("执行事务合伙人", "负责人")),
    F("法定代表人证件号码", "legal_rep_id", "id"),
    F("注册资本", "reg_capital", "amount"),
    F("实缴资本", "paid_capital", "amount"),
    F("成立日期", "founded", "date"),
    F("登记机关", "authority"),
    F("登记状态", "status", "enum", values=STATUS, lookup=STATUS_LOOKUP),
    F("住所", "address", aliases=("地址", "注册地址")),
    F("经营范围", "scope"),
    F("行业代码", "industry_code"),
    F("联系电话", "phone", "phone"),
)


def build_enterprises(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    w = ctx.writes
    places: dict[tuple[Any, ...], tuple[str, str, str, bool]] = {}
    partners: list[tuple[int, str, str, str | None]] = []
    named: dict[str | None, set[str]] = {}
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None:
            continue
        uscc = r["uscc"] if is_valid_uscc(r["uscc"]) else None
        place = (r["authority"], uscc[2:8] if uscc else None, r["address"])
        if place not in places:
            places[place] = territory(r["authority"], uscc, r["address"], ctx.city)
        county, rule, evidence, in_city = places[place]
        name = r["name"]
        props = {
            "name": name, "name_norm": nz.name_norm(name), "ent_type": r["ent_type"],
            "legal_rep": r["legal_rep"], "reg_capital_wan": num(r["reg_capital"]),
            "paid_capital_wan": num(r["paid_capital"]),
            "capital_currency": r["reg_capital__currency"] or "人民币",
            "capital_original": r["reg_capital__original"], "founded": r["founded"],
            "authority": r["authority"], "status": r["status"], "address": r["address"],
            "scope": r["scope"], "industry_code": r["industry_code"], "phone": r["phone"],
            "county": county, "county_rule": rule, "county_evidence": evidence,
            "in_city": in_city, "reg_no": r["uscc"] if is_valid_regno(r["uscc"]) else None,
            "stub": None,
        }
        w.node("Enterprise", key, ctx.record_props(row, props), mode="record")
        named.setdefault(props["name_norm"], set()).add(key)
        ent = ("Enterprise", key)
        w.rel("IN_REGION", ent, ("Region", county),
              {"rule": rule, "evidence": evidence, **ctx.prov(row)})
        partner = managing_partner(r["legal_rep"]) if r["legal_rep"] else None
        if partner is not None:
            # the ID column holds the firm's code, or the one delegate's citizen ID
            firm_code = r["legal_rep_id"] if ctx.enterprise_key(r["legal_rep_id"]) else None
            partners.append((row, key, partner[0], firm_code))
            agent_id = r["legal_rep_id"] if firm_code is None else None
            # a citizen ID beside a firm named without its delegate is the delegate's
            agents: list[str | None] = list(partner[1]) or (
                [None] if agent_id and is_valid_citizen_id(agent_id) else [])
            for agent in agents:
                _officer(ctx, agent, agent_id if len(agents) == 1 else None, key, row,
                         DELEGATE_ROLE)
        elif r["legal_rep"]:
            pid = ctx.person(r["legal_rep"], r["legal_rep_id"], key, row)
            if pid is not None:
                label = "Party" if pid.startswith("X:") else "Person"
                w.rel("LEGAL_REP_OF", (label, pid), ent, ctx.record_props(row, {}))
        aid = ctx.address(r["address"], county, row)
        if aid is not None:
            w.rel("REGISTERED_AT", ent, ("Address", aid), ctx.record_props(row, {}))
            w.rel("IN_REGION", ("Address", aid), ("Region", county),
                  {"rule": "enterprise", "evidence": key, **ctx.prov(row)})
        if r["phone"]:
            w.node("Phone", r["phone"], {"raw": r["phone__raw"], **ctx.prov(row)})
            w.rel("HAS_PHONE", ent, ("Phone", r["phone"]), ctx.record_props(row, {}))
    _link_managing_partners(ctx, partners, named)
    return w


def _link_managing_partners(ctx: BuildContext, partners: list[tuple[int, str, str, str | None]],
                            named: dict[str | None, set[str]]) -> None:
    """``MANAGING_PARTNER_OF`` from each named 执行事务合伙人 firm: one firm of this table by
    that name, else its code or name as :meth:`BuildContext.resolve_parties` finds it (an
    Enterprise, else a Party)."""
    items, rels = [], []
    for row, key, firm, code in partners:
        same = named.get(nz.name_norm(firm), set()) - {key}
        if len(same) == 1 and code is None:
            subject = ctx.enterprise_stub(next(iter(same)), firm, row)
            ctx.writes.rel("MANAGING_PARTNER_OF", subject, ("Enterprise", key),
                           ctx.record_props(row, {}))
            continue
        items.append({"name": firm, "code": code, "kind": "org", "key": key, "row": row,
                      "counterparts": [key]})
        rels.append((row, key))
    for subject, (row, key) in zip(ctx.resolve_parties(items), rels, strict=True):
        if subject[0] and subject != ("Enterprise", key):
            ctx.writes.rel("MANAGING_PARTNER_OF", subject, ("Enterprise", key),
                           ctx.record_props(row, {}))


SHAREHOLDERS = (
    F("统一社会信用代码", "uscc", "uscc", required=True, not_null=True),
    F("股东名称", "holder", required=True, not_null=True, aliases=("股东",)),
    F("股东类型", "holder_type", "enum", values=HOLDER_TYPES, lookup=HOLDER_LOOKUP),
    F("股东证照号码", "holder_code", "code", aliases=("股东证件号码",)),
    F("认缴出资额", "subscribed", "amount"),
    F("出资比例", "ratio", "ratio"),
    F("实缴出资额", "paid", "amount"),
)


def build_shareholders(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    w = ctx.writes
    orgs: list[dict[str, Any]] = []
    rels: list[tuple[int, str, dict[str, Any]]] = []
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None:
            continue
        ctx.enterprise_stub(key, None, row)
        props = ctx.record_props(row, {"ratio": num(r["ratio"]),
                                       "subscribed_wan": num(r["subscribed"]),
                                       "paid_wan": num(r["paid"])})
        if r["holder_type"] == "自然人股东":
            pid = ctx.person(r["holder"], r["holder_code"], key, row)
            if pid is not None:
                w.rel("SHAREHOLDER_OF", ("Party" if pid.startswith("X:") else "Person", pid),
                      ("Enterprise", key), props)
            continue
        orgs.append({"name": r["holder"], "code": r["holder_code"], "row": row,
                     "kind": "org" if r["holder_type"] in ("企业法人", "合伙企业") else None,
                     "key": key, "counterparts": [key]})
        rels.append((row, key, props))
    for subject, (_row, key, props) in zip(ctx.resolve_parties(orgs), rels, strict=True):
        if subject[0]:
            w.rel("SHAREHOLDER_OF", subject, ("Enterprise", key), props)
    return w


OFFICERS = (
    F("统一社会信用代码", "uscc", "uscc", required=True, not_null=True),
    F("姓名", "name", required=True, not_null=True),
    F("证件号码", "id", "id", aliases=("身份证号", "身份证号码")),
    F("职务", "role"),
)


def build_officers(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None:
            continue
        ctx.enterprise_stub(key, None, row)
        _officer(ctx, r["name"], r["id"], key, row, r["role"])
    return ctx.writes


def _officer(ctx: BuildContext, name: str | None, citizen_id: str | None, key: str, row: int,
             role: str | None) -> None:
    pid = ctx.person(name, citizen_id, key, row)
    if pid is not None:
        ctx.writes.rel("OFFICER_OF", ("Party" if pid.startswith("X:") else "Person", pid),
                       ("Enterprise", key), ctx.record_props(row, {"role": role}),
                       rk=role or "")


CHANGES = (
    F("统一社会信用代码", "uscc", "uscc", required=True, not_null=True),
    F("变更事项", "item", required=True, not_null=True),
    F("变更前内容", "before"),
    F("变更后内容", "after"),
    F("变更日期", "date", "date", required=True),
)


def build_changes(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    w = ctx.writes
    for row, r in rows(frame):
        key = ctx.enterprise_key(r["uscc"])
        if key is None:
            continue
        ctx.enterprise_stub(key, None, row)
        change_id = f"{key}|" + short_hash(r["item"], r["before"], r["after"], r["date"])
        w.node("Change", change_id, ctx.record_props(row, {
            "uscc": key, "item": r["item"], "before": r["before"], "after": r["after"],
            "date": r["date"]}), mode="record")
        w.rel("HAS_CHANGE", ("Enterprise", key), ("Change", change_id), ctx.prov(row))
        before = (r["before"] or "").replace(" ", "")
        after = (r["after"] or "").replace(" ", "").upper()
        if is_valid_regno(before) and is_valid_uscc(after):
            ctx.enterprise_stub("REG:" + before, None, row)
            ctx.enterprise_stub(after, None, row)
            w.rel("SAME_AS", ("Enterprise", "REG:" + before), ("Enterprise", after),
                  ctx.prov(row))
    return w


BRANCHES = (
    F("统一社会信用代码", "uscc", "uscc", required=True, not_null=True),
    F("分支机构统一社会信用代码", "branch", "uscc", required=True, not_null=True),
    F("分支机构名称", "branch_name", required=True),
    F("登记机关", "authority"),
)


def build_branches(frame: pd.DataFrame, ctx: BuildContext) -> Writes:
    w = ctx.writes
    for row, r in rows(frame):
        head, branch = ctx.enterprise_key(r["uscc"]), ctx.enterprise_key(r["branch"])
        if head is None or branch is None:
            continue
        ctx.enterprise_stub(head, None, row)
        w.rel("BRANCH_OF", ("Enterprise", branch), ("Enterprise", head),
              ctx.record_props(row, {}))
    return w


TABLES = (
    TableSpec(SOURCE, "企业基本信息", ENTERPRISE, key=("uscc",), build=build_enterprises,
              order=10),
    # child tables: a row belongs to the enterprise of its 统一社会信用代码 (the head office's
    # for 分支机构)
    TableSpec(SOURCE, "股东及出资信息", SHAREHOLDERS, child=True, build=build_shareholders,
              order=20, snapshot_key=("uscc",)),
    TableSpec(SOURCE, "主要人员", OFFICERS, child=True, build=build_officers, order=20,
              snapshot_key=("uscc",)),
    TableSpec(SOURCE, "变更记录", CHANGES, child=True, build=build_changes, order=30,
              snapshot_key=("uscc",)),
    TableSpec(SOURCE, "分支机构", BRANCHES, child=True, build=build_branches, order=30,
              snapshot_key=("uscc",)),
)
