"""Credit data (信用名单, 企业征信摘要): ordinary listings and loans, and scheme anomalies."""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.firms import random_date
from demo.model import FULL_DELIVERY, INC_DELIVERY, Firm
from demo.places import authority, court, tax_office
from demo.world import FULL, INC, World
from riskgraph.divisions import divisions
from riskgraph.identifiers import mask_id

REPORT_DATES = (date(2025, 12, 31), date(2026, 6, 30))
_REASONS = {
    "经营异常名录": (
        "未按规定报送年度报告",
        "通过登记的住所或者经营场所无法联系",
        "未按规定公示即时信息",
    ),
    "行政处罚": ("未按规定明码标价", "销售不合格产品", "虚假宣传", "无证经营"),
    "失信被执行人": ("有履行能力而拒不履行生效法律文书确定义务",),
    "严重违法失信名单": ("被列入经营异常名录届满3年仍未履行相关义务", "提交虚假材料取得登记"),
    "重大税收违法失信主体": ("虚开增值税专用发票", "逃避缴纳税款"),
}


class Credit:
    """Writes listings (unique per subject, type and date) and credit reports."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.keys: set[tuple[str, str, date]] = set()
        self.reg = divisions()

    def _decider(self, firm: Firm, kind: str) -> str:
        county = self.reg.get(firm.county) or self.world.ctx.counties[0]
        if kind == "失信被执行人":
            return court(county if not county.zone else self.world.ctx.counties[0])
        if kind == "重大税收违法失信主体":
            return tax_office(county)
        return authority(county)

    def list_firm(
        self,
        delivery: str,
        rng: random.Random,
        firm: Firm,
        kind: str,
        listed: date,
        removed: date | None = None,
        protect: bool = False,
    ) -> bool:
        code = firm.code
        if (code, kind, listed) in self.keys:
            return False
        self.keys.add((code, kind, listed))
        self.world.add(
            "信用名单",
            delivery,
            {
                "主体名称": firm.name,
                "统一社会信用代码或证件号码": code,
                "名单类型": kind,
                "列入日期": listed,
                "列入原因": rng.choice(_REASONS[kind]),
                "决定机关": self._decider(firm, kind),
                "移出日期": removed,
                "_p": protect,
            },
        )
        return True

    def list_person(
        self, delivery: str, rng: random.Random, pidx: int, firm: Firm, listed: date
    ) -> None:
        person = self.world.persons[pidx]
        code = mask_id(person.pid) if rng.random() < 0.8 else person.pid
        if (code, "失信被执行人", listed) in self.keys:
            return
        self.keys.add((code, "失信被执行人", listed))
        self.world.add(
            "信用名单",
            delivery,
            {
                "主体名称": person.name,
                "统一社会信用代码或证件号码": code,
                "名单类型": "失信被执行人",
                "列入日期": listed,
                "列入原因": _REASONS["失信被执行人"][0],
                "决定机关": self._decider(firm, "失信被执行人"),
                "移出日期": None,
            },
        )

    def report(
        self,
        rng: random.Random,
        firm: Firm,
        loans: float,
        overdue: float,
        guarantee: float,
        queries: int,
        protect: bool = False,
    ) -> None:
        for when in REPORT_DATES:
            if firm.founded > when:
                continue
            drift = rng.uniform(0.85, 1.15)
            self.world.add(
                "企业征信摘要",
                FULL,
                {
                    "统一社会信用代码": firm.code,
                    "报告日期": when,
                    "贷款余额": round(loans * drift, 2),
                    "逾期金额": round(overdue * drift, 2) if overdue else 0.0,
                    "对外担保余额": round(guarantee, 2) if guarantee else None,
                    "担保代偿笔数": 0 if rng.random() < 0.97 else 1,
                    "近12月查询次数": max(0, int(queries * drift)),
                    "_p": protect,
                },
            )


def background_credit(world: World, credit: Credit) -> None:
    """Abnormal-operation listings (mostly shells), penalties, defaulters, loans."""
    rng = world.ctx.rng("credit:background")
    firms = [
        f
        for f in world.firms
        if f.delivery == FULL
        and "isolated" not in f.tags
        and "outside" not in f.tags
        and f.county[:4] == world.ctx.city[:4]
    ]
    for firm in firms:
        r = rng.random()
        shell = "shell" in firm.tags
        if (shell and r < 0.4) or r < 0.02:
            listed = random_date(
                rng,
                max(firm.founded + timedelta(days=400), date(2021, 1, 1)),
                FULL_DELIVERY - timedelta(days=10),
            )
            if listed < FULL_DELIVERY:
                removed = None
                if rng.random() < 0.3 and listed < FULL_DELIVERY - timedelta(days=30):
                    removed = random_date(
                        rng, listed + timedelta(days=20), FULL_DELIVERY - timedelta(days=1)
                    )
                credit.list_firm(FULL, rng, firm, "经营异常名录", listed, removed)
        if rng.random() < 0.01:
            credit.list_firm(
                FULL,
                rng,
                firm,
                "行政处罚",
                random_date(rng, date(2022, 1, 1), FULL_DELIVERY - timedelta(days=5)),
            )
        if firm.status == "吊销" and rng.random() < 0.1:
            credit.list_firm(
                FULL,
                rng,
                firm,
                "严重违法失信名单",
                random_date(rng, date(2020, 1, 1), FULL_DELIVERY - timedelta(days=5)),
            )
        if rng.random() < 0.004:
            listed = random_date(rng, date(2022, 1, 1), FULL_DELIVERY - timedelta(days=5))
            credit.list_firm(FULL, rng, firm, "失信被执行人", listed)
            if firm.legal_rep >= 0 and rng.random() < 0.6:
                credit.list_person(FULL, rng, firm.legal_rep, firm, listed)
        if rng.random() < 0.001:
            credit.list_firm(
                FULL,
                rng,
                firm,
                "重大税收违法失信主体",
                random_date(rng, date(2022, 1, 1), FULL_DELIVERY - timedelta(days=5)),
            )
        borrower = "licensed" in firm.tags or (
            firm.etype.startswith("有限责任公司") and rng.random() < 0.12
        )
        if borrower and firm.status in ("存续", "在营", "开业"):
            loans = round(max(firm.capital_wan, 50) * rng.uniform(0.2, 1.5), 2)
            overdue = round(loans * rng.uniform(0.05, 0.4), 2) if rng.random() < 0.04 else 0.0
            guarantee = round(loans * rng.uniform(0.1, 1.0), 2) if rng.random() < 0.15 else 0.0
            credit.report(rng, firm, loans, overdue, guarantee, rng.randint(0, 6))


def scheme_credit(world: World, credit: Credit) -> None:
    """Listings and report anomalies of scheme cores, growing with the stage."""
    rng = world.ctx.rng("credit:schemes")
    for scheme in world.schemes:
        core = world.firms[scheme.core]
        if scheme.stage == "middle":
            if rng.random() < 0.3:
                credit.list_firm(
                    FULL,
                    rng,
                    core,
                    "经营异常名录",
                    random_date(
                        rng, FULL_DELIVERY - timedelta(days=200), FULL_DELIVERY - timedelta(days=5)
                    ),
                    protect=True,
                )
            if rng.random() < 0.35:
                credit.report(
                    rng,
                    core,
                    rng.uniform(0, 300),
                    0.0,
                    rng.uniform(0, 2000),
                    rng.randint(8, 30),
                    protect=True,
                )
        elif scheme.stage == "late":
            after = scheme.collapse + timedelta(days=rng.randint(20, 120))
            if rng.random() < 0.5 and after < FULL_DELIVERY:
                credit.list_firm(FULL, rng, core, "经营异常名录", after, protect=True)
            if rng.random() < 0.5:
                listed = min(
                    scheme.collapse + timedelta(days=rng.randint(60, 160)),
                    FULL_DELIVERY - timedelta(days=2),
                )
                credit.list_firm(FULL, rng, core, "失信被执行人", listed, protect=True)
                credit.list_person(FULL, rng, scheme.controller, core, listed)
            if rng.random() < 0.15:
                credit.list_firm(
                    FULL,
                    rng,
                    core,
                    "严重违法失信名单",
                    FULL_DELIVERY - timedelta(days=rng.randint(2, 40)),
                    protect=True,
                )
            if rng.random() < 0.3:
                credit.report(
                    rng,
                    core,
                    rng.uniform(50, 800),
                    rng.uniform(20, 300),
                    rng.uniform(0, 3000),
                    rng.randint(10, 40),
                    protect=True,
                )


def increment_credit(world: World, credit: Credit) -> None:
    """A new defaulter listing for a late scheme and removals of earlier listings."""
    rng = world.ctx.rng("credit:increment")
    late = [s for s in world.schemes if s.stage == "late"]
    for scheme in late[:3]:
        core = world.firms[scheme.core]
        credit.list_firm(
            INC,
            rng,
            core,
            "失信被执行人",
            random_date(rng, FULL_DELIVERY + timedelta(days=1), INC_DELIVERY - timedelta(days=1)),
            protect=True,
        )
    removable = [
        r
        for r in world.rows("信用名单", FULL)
        if r["名单类型"] == "经营异常名录" and r["移出日期"] is None and not r.get("_p")
    ]
    for row in rng.sample(removable, min(len(removable), world.ctx.n(10))):
        new = dict(row)
        new["移出日期"] = random_date(
            rng, FULL_DELIVERY + timedelta(days=1), INC_DELIVERY - timedelta(days=1)
        )
        new["_p"] = True
        world.add("信用名单", INC, new)
