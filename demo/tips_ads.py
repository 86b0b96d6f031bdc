"""Tips (举报线索) and advertising monitoring (广告监测).

Tips name their target the way callers do: sometimes the registered name with its code, often a
shortened or colloquial name without one. Scheme ads and tips speak of 高息, 保本, 返利, 养老,
原始股; ordinary ones complain about wages or noise, and a few misleading tips about legitimate
firms mention high interest too.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.firms import random_date
from demo.model import FULL_DELIVERY, INC_DELIVERY, Firm, Scheme
from demo.vocab import (
    AD_LICENSED,
    AD_MEDIA,
    AD_NORMAL,
    AD_SCHEME,
    TIP_CHANNELS,
    TIP_MISLEADING,
    TIP_NORMAL,
    TIP_SCHEME,
)
from demo.world import FULL, INC, World
from riskgraph.divisions import divisions, short_name


def colloquial(firm: Firm, rng: random.Random) -> str:
    """What a caller calls a firm: the registered name, or a shortened form."""
    name = firm.name
    r = rng.random()
    if r < 0.55:
        return name
    reg = divisions()
    for place in (reg.name(firm.county[:4] + "00"), short_name(reg.name(firm.county[:2] + "0000"))):
        if name.startswith(place):
            name = name[len(place) :]
    for tail in ("有限责任公司", "有限公司", "股份有限公司"):
        if name.endswith(tail):
            name = name[: -len(tail)]
    if r < 0.8:
        return name
    return name[:2] + rng.choice(("理财", "公司", "养老院", "合作社", "平台", "投资"))


def _fill(template: str, rng: random.Random, firm: Firm | None = None) -> str:
    return template.format(
        r=rng.choice((1.5, 2, 2.5, 3)),
        r2=rng.choice((10, 12, 15, 18, 20, 24, 36)),
        m=rng.randint(2, 8),
        k=rng.choice((3, 5, 10, 20)),
        name=firm.name if firm else "",
    )


class Tips:
    """Numbers tips and writes their rows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.seq: dict[date, int] = {}

    def add(
        self,
        delivery: str,
        rng: random.Random,
        firm: Firm,
        when: date,
        text: str,
        status: str,
        amount: float | None,
        protect: bool,
    ) -> None:
        self.seq[when] = self.seq.get(when, 0) + 1
        exact = rng.random() < 0.5
        self.world.add(
            "举报线索",
            delivery,
            {
                "举报编号": f"JB{when:%Y%m%d}{self.seq[when]:04d}",
                "举报日期": when,
                "举报渠道": rng.choice(TIP_CHANNELS),
                "被举报对象": firm.name if exact else colloquial(firm, rng),
                "被举报对象代码": firm.uscc if exact and firm.uscc and rng.random() < 0.6 else None,
                "内容摘要": text,
                "涉及金额": amount,
                "核查状态": status,
                "_p": protect,
            },
        )


def scheme_tips(
    world: World, tips: Tips, scheme: Scheme, delivery: str, rng: random.Random
) -> None:
    n = {
        "early": 1 if rng.random() < 0.5 else 0,
        "middle": rng.randint(1, 3),
        "late": rng.randint(2, 5),
    }[scheme.stage]
    if delivery == INC:
        n = 1
    for _ in range(n):
        target = world.firms[scheme.core if rng.random() < 0.85 else rng.choice(scheme.members)]
        if delivery == FULL:
            lo = max(scheme.start + timedelta(days=30), FULL_DELIVERY - timedelta(days=400))
            when = random_date(
                rng, min(lo, FULL_DELIVERY - timedelta(days=3)), FULL_DELIVERY - timedelta(days=1)
            )
        else:
            when = random_date(
                rng, FULL_DELIVERY + timedelta(days=1), INC_DELIVERY - timedelta(days=1)
            )
        status = {
            "early": "待核查",
            "middle": rng.choice(("待核查", "核查中")),
            "late": rng.choice(("核查中", "属实", "属实")),
        }[scheme.stage]
        amount = round(rng.uniform(1, 80), 1) if rng.random() < 0.5 else None
        text = _fill(rng.choice(TIP_SCHEME[scheme.typology]), rng)
        tips.add(delivery, rng, target, when, text, status, amount, protect=True)


def all_tips(world: World) -> None:
    """Ordinary complaints, misleading tips on legitimate firms, scheme tips, new ones later."""
    rng = world.ctx.rng("tips")
    tips = Tips(world)
    firms = [
        f
        for f in world.firms
        if f.delivery == FULL
        and f.scheme < 0
        and "isolated" not in f.tags
        and f.county[:4] == world.ctx.city[:4]
    ]
    for delivery, n_normal, n_mislead, lo, hi in (
        (
            FULL,
            world.ctx.n(150),
            world.ctx.n(25),
            date(2024, 6, 1),
            FULL_DELIVERY - timedelta(days=1),
        ),
        (
            INC,
            world.ctx.n(12),
            world.ctx.n(3),
            FULL_DELIVERY + timedelta(days=1),
            INC_DELIVERY - timedelta(days=1),
        ),
    ):
        for _ in range(n_normal):
            firm = rng.choice(firms)
            tips.add(
                delivery,
                rng,
                firm,
                random_date(rng, lo, hi),
                _fill(rng.choice(TIP_NORMAL), rng),
                rng.choice(("待核查", "核查中", "属实", "不属实")),
                None,
                protect=False,
            )
        for _ in range(n_mislead):
            firm = rng.choice(firms)
            firm.hard_negative = True
            tips.add(
                delivery,
                rng,
                firm,
                random_date(rng, lo, hi),
                _fill(rng.choice(TIP_MISLEADING), rng),
                rng.choice(("不属实", "不属实", "核查中")),
                None,
                protect=False,
            )
    for scheme in world.schemes:
        scheme_tips(world, tips, scheme, FULL, rng)
    for scheme in rng.sample(world.schemes, min(len(world.schemes), max(2, world.ctx.n(6)))):
        scheme_tips(world, tips, scheme, INC, rng)


def _region(firm: Firm, rng: random.Random) -> str:
    reg = divisions()
    r = rng.random()
    if r < 0.45:
        return firm.county
    if r < 0.7:
        return reg.name(firm.county)
    if r < 0.85:
        return reg.name(firm.county[:4] + "00") + reg.name(firm.county)
    return firm.county[:4] + "00" if rng.random() < 0.5 else reg.name(firm.county[:4] + "00")


def all_ads(world: World) -> None:
    """Ordinary and licensed-finance ads, and the scheme ads of early and middle schemes."""
    rng = world.ctx.rng("ads")
    seq = 0
    firms = [
        f
        for f in world.firms
        if f.delivery == FULL
        and f.scheme < 0
        and "isolated" not in f.tags
        and f.county[:4] == world.ctx.city[:4]
    ]
    licensed = [f for f in firms if "licensed" in f.tags]

    def add(firm: Firm, when: date, text: str, protect: bool) -> None:
        nonlocal seq
        seq += 1
        world.add(
            "广告监测",
            FULL,
            {
                "监测编号": f"GG{when.year}{seq:06d}",
                "发布日期": when,
                "发布媒介": rng.choice(AD_MEDIA),
                "广告主名称": firm.name if rng.random() < 0.7 else colloquial(firm, rng),
                "广告主代码": firm.uscc if firm.uscc and rng.random() < 0.4 else None,
                "广告内容": text,
                "发布地区": _region(firm, rng),
                "_p": protect,
            },
        )

    start = date(2025, 1, 1)
    for _ in range(world.ctx.n(120)):
        firm = rng.choice(firms)
        add(
            firm,
            random_date(rng, start, FULL_DELIVERY - timedelta(days=1)),
            _fill(rng.choice(AD_NORMAL), rng, firm),
            False,
        )
    for _ in range(world.ctx.n(10)) if licensed else ():
        firm = rng.choice(licensed)
        add(
            firm,
            random_date(rng, start, FULL_DELIVERY - timedelta(days=1)),
            _fill(rng.choice(AD_LICENSED), rng, firm),
            False,
        )
    for scheme in world.schemes:
        p = {"early": 0.65, "middle": 0.5, "late": 0.25}[scheme.stage]
        if rng.random() >= p:
            continue
        for _ in range(rng.randint(1, 3)):
            firm = world.firms[scheme.core if rng.random() < 0.8 else rng.choice(scheme.members)]
            lo = max(scheme.start, start)
            hi = scheme.collapse if scheme.stage == "late" else FULL_DELIVERY - timedelta(days=1)
            add(
                firm,
                random_date(rng, min(lo, hi), hi),
                _fill(rng.choice(AD_SCHEME[scheme.typology]), rng),
                True,
            )
