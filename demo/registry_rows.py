"""Rows of the registration export (企业基本信息, 股东及出资信息, 主要人员, 变更记录, 分支机构)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from demo.firms import random_date
from demo.model import FULL_DELIVERY, Firm
from demo.world import FULL, INC, World

Row = dict[str, object]


def firms_in(world: World, delivery: str) -> list[Firm]:
    """Firms whose registration row is in ``delivery``, in a shuffled (export) order."""
    if delivery == FULL:
        chosen = [f for f in world.firms if f.delivery == FULL]
    else:
        chosen = [f for f in world.firms if f.delivery == INC or f.idx in world.status_change]
    rng = world.ctx.rng(f"order:{delivery}")
    order = list(range(len(chosen)))
    rng.shuffle(order)
    return [chosen[i] for i in order]


def _legal_rep(world: World, firm: Firm) -> tuple[str, str | None]:
    person = world.persons[firm.legal_rep] if firm.legal_rep >= 0 else None
    if firm.legal_rep_firm >= 0:
        gp = world.firms[firm.legal_rep_firm]
        agent = f"（委派代表：{person.name}）" if person else ""
        return gp.name + agent, None
    if person is None:
        return "", None
    return person.name, None if firm.lr_id_blank else person.pid


def enterprise_rows(world: World, delivery: str) -> list[Row]:
    rows: list[Row] = []
    for firm in firms_in(world, delivery):
        status = firm.status
        if firm.idx in world.status_change:
            before, after = world.status_change[firm.idx]
            status = before if delivery == FULL else after
        name, pid = _legal_rep(world, firm)
        rows.append(
            {
                "统一社会信用代码": firm.code,
                "企业名称": firm.name,
                "企业类型": firm.etype,
                "法定代表人": name,
                "法定代表人证件号码": pid,
                "注册资本": firm.capital_wan if firm.capital_wan > 0 else None,
                "_currency": firm.currency,
                "实缴资本": firm.paid_wan,
                "成立日期": firm.founded,
                "登记机关": firm.authority,
                "登记状态": status,
                "住所": firm.address,
                "经营范围": firm.scope,
                "行业代码": firm.industry or None,
                "联系电话": firm.phone,
                "_p": "isolated" not in firm.tags or delivery == INC,
            }
        )
    return rows


def _holder_type(world: World, kind: str, holder: int) -> str:
    if kind == "p":
        return "自然人股东"
    return "合伙企业" if world.firms[holder].etype == "有限合伙企业" else "企业法人"


def shareholder_rows(world: World, delivery: str) -> list[Row]:
    rng = world.ctx.rng(f"shareholders:{delivery}")
    rows: list[Row] = []
    for firm in firms_in(world, delivery):
        if delivery == INC and firm.delivery != INC:
            continue
        for h in firm.holdings:
            if h.kind == "p":
                person = world.persons[h.holder]
                name, code = person.name, person.pid if rng.random() > 0.04 else None
            else:
                other = world.firms[h.holder]
                name, code = other.name, other.code if rng.random() > 0.1 else None
            rows.append(
                {
                    "统一社会信用代码": firm.code,
                    "股东名称": name,
                    "股东类型": _holder_type(world, h.kind, h.holder),
                    "股东证照号码": code,
                    "认缴出资额": h.amount_wan if h.amount_wan > 0 else None,
                    "出资比例": h.pct,
                    "实缴出资额": h.paid_wan,
                    "_p": firm.scheme >= 0,
                }
            )
    return rows


def officer_rows(world: World, delivery: str) -> list[Row]:
    rng = world.ctx.rng(f"officers:{delivery}")
    rows: list[Row] = []
    for firm in firms_in(world, delivery):
        if delivery == INC and firm.delivery != INC:
            continue
        for pidx, role in firm.officers:
            person = world.persons[pidx]
            rows.append(
                {
                    "统一社会信用代码": firm.code,
                    "姓名": person.name,
                    "证件号码": person.pid if rng.random() > 0.05 else None,
                    "职务": role,
                    "_p": firm.scheme >= 0,
                }
            )
    return rows


def branch_rows(world: World, delivery: str) -> list[Row]:
    rows: list[Row] = []
    for firm in firms_in(world, delivery):
        if firm.parent < 0 or (delivery == INC and firm.delivery != INC):
            continue
        head = world.firms[firm.parent]
        rows.append(
            {
                "统一社会信用代码": head.code,
                "分支机构统一社会信用代码": firm.code,
                "分支机构名称": firm.name,
                "登记机关": firm.authority,
                "_p": firm.scheme >= 0,
            }
        )
    return rows


def change_rows(world: World, delivery: str) -> list[Row]:
    """Registration changes: ordinary ones, and nominee rotation in schemes."""
    if delivery == INC:
        return []
    rng = world.ctx.rng("changes")
    rows: list[Row] = []
    for firm in firms_in(world, FULL):
        scheme = world.scheme_of(firm)
        rate = 0.3 if scheme is None else (0.9 if scheme.stage != "early" else 0.5)
        seen: set[str] = set()
        while rng.random() < rate and len(seen) < 4:
            rate *= 0.45
            item = _change(world, rng, firm, scheme is not None)
            if item is None or item[0] in seen:
                continue
            seen.add(item[0])
            start = firm.founded + timedelta(days=30)
            if start >= FULL_DELIVERY - timedelta(days=5):
                break
            rows.append(
                {
                    "统一社会信用代码": firm.code,
                    "变更事项": item[0],
                    "变更前内容": item[1],
                    "变更后内容": item[2],
                    "变更日期": random_date(rng, start, FULL_DELIVERY - timedelta(days=5)),
                    "_p": scheme is not None,
                }
            )
    return rows


def _change(
    world: World, rng: random.Random, firm: Firm, in_scheme: bool
) -> tuple[str, str, str] | None:
    persons = world.persons
    r = rng.random()
    if r < 0.3 or (in_scheme and r < 0.55):
        if firm.legal_rep < 0:
            return None
        before = persons[world.people.pick(rng)].name
        return "法定代表人变更", before, persons[firm.legal_rep].name
    if r < 0.55:
        before = firm.address.split("号")[0][:-2] + f"{rng.randint(1, 300)}号"
        return "住所变更", before, firm.address
    if r < 0.75:
        return "经营范围变更", firm.scope.split("；")[0], firm.scope
    if r < 0.88 and firm.capital_wan > 0:
        smaller = max(1.0, round(firm.capital_wan * rng.choice((0.1, 0.2, 0.5)), 2))
        return "注册资本变更", f"{smaller:g}万元", f"{firm.capital_wan:g}万元"
    if firm.holdings:
        names = [
            persons[h.holder].name if h.kind == "p" else world.firms[h.holder].name
            for h in firm.holdings
        ]
        earlier = [persons[world.people.pick(rng)].name] + names[1:]
        return "股东变更", "、".join(earlier), "、".join(names)
    return None


def iter_person_ids(world: World) -> Iterator[str]:
    """Every citizen ID of the person pool (for tests and diagnostics)."""
    for person in world.persons:
        yield person.pid
