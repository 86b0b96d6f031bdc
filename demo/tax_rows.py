"""Rows of the tax export (纳税人信息 and 申报汇总), for 2024 and 2025.

Ordinary firms pay in proportion to their revenue; shells file zero returns all year; scheme
firms show anomalies that grow with the stage (little revenue for the money they move, 非正常户,
arrears, low credit grade); licensed financial firms pay normally.
"""

from __future__ import annotations

import random
from datetime import date

from demo.model import Firm, Scheme
from demo.places import tax_office
from demo.world import FULL, World
from riskgraph.divisions import divisions

Row = dict[str, object]
YEARS = (2024, 2025)


def _taxpayers(world: World) -> list[Firm]:
    rng = world.ctx.rng("tax:select")
    chosen = []
    for firm in world.firms:
        if firm.delivery != FULL or {"outside", "isolated"} & firm.tags:
            continue
        if firm.county[:4] != world.ctx.city[:4] or firm.etype == "社会团体":
            continue
        if firm.etype == "个体工商户" and rng.random() < 0.6:
            continue
        if firm.status in ("注销", "吊销", "撤销", "迁出") and firm.founded.year >= 2024:
            continue
        chosen.append(firm)
    return chosen


def _profile(rng: random.Random, firm: Firm, scheme: Scheme | None, year: int) -> dict[str, object]:
    """Status, grade and one year's return for a taxpayer."""
    ended = firm.status in ("注销", "吊销", "撤销", "迁出")
    revenue = firm.revenue * rng.uniform(0.7, 1.3) * (0.85 if year == 2024 else 1.0)
    zero, status, grade = 0, "正常", rng.choices("ABMCD", (12, 58, 18, 9, 3))[0]
    if firm.founded.year >= year - 1:
        grade = "M"
    if "shell" in firm.tags:
        revenue, zero, grade = 0.0, 12, rng.choice("BMM")
    if ended:
        status = "注销" if firm.status == "注销" else "非正常户"
        revenue, zero = revenue * rng.uniform(0, 0.3), rng.randint(6, 12)
    arrears = 0.0
    if scheme is not None and firm.role == "core" and year == 2025:
        stage = scheme.stage
        revenue *= {"early": 0.5, "middle": 0.15, "late": 0.05}[stage]
        if stage != "early" and rng.random() < 0.6:
            zero = rng.randint(3, 12)
        if stage == "late" and rng.random() < 0.6:
            status = "非正常户"
        if stage != "early":
            grade = rng.choice("MCD" if stage == "middle" else "CDD")
        if rng.random() < (0.2 if stage == "early" else 0.5):
            arrears = round(rng.uniform(2e4, 8e5), 2)
    elif rng.random() < 0.03:
        arrears = round(rng.uniform(1e3, 2e5), 2)
    rate = rng.uniform(0.01, 0.06)
    due = round(revenue * rate, 2)
    return {
        "status": status,
        "grade": grade,
        "revenue": round(revenue, 2),
        "due": due,
        "paid": max(0.0, round(due - arrears, 2)) if arrears else due,
        "arrears": arrears,
        "zero": zero if revenue > 0 else 12,
        "staff": 0 if revenue == 0 else max(0, int(firm.employees * rng.uniform(0.6, 1.1))),
    }


def tax_rows(world: World) -> tuple[list[Row], list[Row]]:
    """(纳税人信息 rows, 申报汇总 rows) of the full snapshot."""
    rng = world.ctx.rng("tax")
    reg = divisions()
    info: list[Row] = []
    returns: list[Row] = []
    for firm in _taxpayers(world):
        office = tax_office(reg.get(firm.county) or world.ctx.counties[0])
        scheme = world.scheme_of(firm)
        for year in YEARS:
            if firm.founded > date(year, 12, 31):
                continue
            p = _profile(rng, firm, scheme, year)
            protect = scheme is not None
            info.append(
                {
                    "纳税人识别号": firm.code,
                    "纳税人名称": firm.name,
                    "主管税务机关": office,
                    "纳税人状态": p["status"],
                    "纳税信用等级": p["grade"],
                    "评价年度": year,
                    "_p": protect,
                }
            )
            if rng.random() < 0.03 and "shell" not in firm.tags:
                continue
            returns.append(
                {
                    "纳税人识别号": firm.code,
                    "所属年度": year,
                    "营业收入": p["revenue"],
                    "应纳税额": p["due"],
                    "已缴税额": p["paid"],
                    "欠税余额": p["arrears"] if p["arrears"] or rng.random() < 0.5 else None,
                    "零申报月数": p["zero"],
                    "社保缴纳人数": p["staff"],
                    "_p": protect,
                }
            )
    rng.shuffle(info)
    rng.shuffle(returns)
    return info, returns
