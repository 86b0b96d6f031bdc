"""Bank monitoring (账户异动, 资金往来汇总).

Schemes collect from many natural persons and pay out to the controller and periphery firms
(分散转入集中转出; 定期批量小额转出 for 'interest'). Legitimate look-alikes: trading firms with
fast turnover, training schools and shops paid by many parents or customers, group transfers.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.firms import INDUSTRY_BY_KEY, random_date
from demo.model import FULL_DELIVERY, INC_DELIVERY, Firm, Scheme
from demo.vocab import BANK_BRANDS
from demo.world import FULL, INC, World
from riskgraph.divisions import divisions, short_name

_KIND = {
    "p2p": "分散转入集中转出",
    "elderly": "定期批量小额转出",
    "coop": "分散转入集中转出",
    "investment": "分散转入集中转出",
    "private_fund": "快进快出",
}


class Bank:
    """Writes alerts (unique per subject, period start and feature) and flow summaries."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.keys: set[tuple[str, date, str]] = set()
        self.limit = {
            FULL: FULL_DELIVERY - timedelta(days=1),
            INC: INC_DELIVERY - timedelta(days=1),
        }
        city = short_name(world.ctx.city_name)
        self.branches = [
            f"{b}{city}{w}支行"
            for b in BANK_BRANDS
            for w in ("分行营业部", "城中", "开发区", "东区")
        ]

    def alert(
        self,
        delivery: str,
        rng: random.Random,
        name: str,
        code: str,
        start: date,
        kind: str,
        inflow_n: int,
        counterparties: int,
        inflow: float,
        outflow_n: int,
        outflow: float,
        protect: bool,
    ) -> None:
        if (code, start, kind) in self.keys:
            return
        self.keys.add((code, start, kind))
        self.world.add(
            "账户异动",
            delivery,
            {
                "账户主体名称": name,
                "统一社会信用代码或证件号码": code,
                "开户行": rng.choice(self.branches),
                "监测期起": start,
                "监测期止": min(
                    start + timedelta(days=rng.choice((29, 30, 59, 90))), self.limit[delivery]
                ),
                "异动特征": kind,
                "转入笔数": inflow_n,
                "转入对手数": counterparties,
                "转入金额": round(inflow, 2),
                "转出笔数": outflow_n,
                "转出金额": round(outflow, 2),
                "_p": protect,
            },
        )

    def flow(
        self,
        delivery: str,
        payer: tuple[str, str | None],
        payee: tuple[str, str | None],
        start: date,
        end: date,
        count: int,
        amount: float,
        protect: bool,
    ) -> None:
        self.world.add(
            "资金往来汇总",
            delivery,
            {
                "付款方名称": payer[0],
                "付款方代码": payer[1],
                "收款方名称": payee[0],
                "收款方代码": payee[1],
                "期间起": start,
                "期间止": end,
                "笔数": count,
                "金额": round(amount, 2),
                "_p": protect,
            },
        )


def _firm_party(firm: Firm, rng: random.Random) -> tuple[str, str | None]:
    return firm.name, firm.code if rng.random() < 0.9 else None


def scheme_money(world: World, bank: Bank, scheme: Scheme, rng: random.Random) -> None:
    """Alerts and flows of one scheme at middle or late stage."""
    core = world.firms[scheme.core]
    if scheme.stage == "early" and scheme.typology != "p2p":
        return
    end = scheme.collapse if scheme.stage == "late" else FULL_DELIVERY - timedelta(days=1)
    start = max(scheme.start, end - timedelta(days=rng.randint(120, 360)))
    payers = scheme.investors if (scheme.typology == "p2p" or rng.random() < 0.6) else []
    total = 0.0
    for pidx in payers:
        person = world.persons[pidx]
        amount = rng.uniform(1e4, 5e5) if scheme.typology != "p2p" else rng.uniform(2e3, 2e5)
        total += amount
        bank.flow(
            FULL,
            (person.name, person.pid),
            _firm_party(core, rng),
            start,
            end,
            rng.randint(1, 12),
            amount,
            protect=True,
        )
        region = divisions().get(person.pid[:6])
        if region is not None and region.level == 3:
            scheme.investor_regions.add(region.code)
    total = total or rng.uniform(2e5, 5e6)
    for member in scheme.flows:
        firm = world.firms[member]
        if firm.delivery != FULL:
            continue
        bank.flow(
            FULL,
            _firm_party(core, rng),
            _firm_party(firm, rng),
            start,
            end,
            rng.randint(2, 30),
            total * rng.uniform(0.05, 0.3),
            protect=True,
        )
    if rng.random() < 0.5:
        boss = world.persons[scheme.controller]
        bank.flow(
            FULL,
            _firm_party(core, rng),
            (boss.name, boss.pid),
            start,
            end,
            rng.randint(2, 20),
            total * rng.uniform(0.1, 0.4),
            protect=True,
        )
    if scheme.stage == "early" or rng.random() > (0.7 if scheme.stage == "middle" else 0.8):
        return
    when = random_date(rng, start, max(start, end - timedelta(days=60)))
    n_in = max(len(payers), rng.randint(30, 300))
    bank.alert(
        FULL,
        rng,
        core.name,
        core.code,
        when,
        _KIND[scheme.typology],
        n_in * rng.randint(2, 6),
        max(len(payers), rng.randint(20, 200)),
        total * rng.uniform(0.5, 1.0),
        rng.randint(5, 40),
        total * rng.uniform(0.6, 0.98),
        protect=True,
    )
    if rng.random() < 0.4:
        boss = world.persons[scheme.controller]
        bank.alert(
            FULL,
            rng,
            boss.name,
            boss.pid,
            when,
            "快进快出",
            rng.randint(5, 40),
            rng.randint(2, 8),
            total * 0.3,
            rng.randint(5, 40),
            total * 0.29,
            protect=True,
        )
    for member in scheme.members[1:]:
        firm = world.firms[member]
        if firm.delivery == FULL and rng.random() < 0.15:
            bank.alert(
                FULL,
                rng,
                firm.name,
                firm.code,
                when,
                "快进快出",
                rng.randint(5, 60),
                rng.randint(1, 5),
                total * 0.1,
                rng.randint(5, 60),
                total * 0.098,
                protect=True,
            )


def all_money(world: World) -> None:
    """Everything in the bank source, both deliveries."""
    rng = world.ctx.rng("bank")
    bank = Bank(world)
    firms = [
        f
        for f in world.firms
        if f.delivery == FULL
        and f.scheme < 0
        and "isolated" not in f.tags
        and f.status in ("存续", "在营", "开业")
    ]
    start = date(2025, 10, 1)
    for _ in range(round(0.15 * len(firms))):
        payer, payee = rng.choice(firms), rng.choice(firms)
        if payer is payee:
            continue
        s = random_date(rng, start, date(2026, 6, 30))
        bank.flow(
            FULL,
            _firm_party(payer, rng),
            _firm_party(payee, rng),
            s,
            s + timedelta(days=89),
            rng.randint(1, 40),
            rng.lognormvariate(12, 1.3),
            protect=False,
        )
    _group_flows(world, bank, firms, rng)
    _many_payers(world, bank, firms, rng)
    for firm in rng.sample(firms, min(len(firms), world.ctx.n(40))):
        firm.hard_negative = True
        s = random_date(rng, date(2026, 1, 1), date(2026, 8, 31))
        volume = max(firm.revenue, 1e6) * rng.uniform(0.2, 0.6)
        bank.alert(
            FULL,
            rng,
            firm.name,
            firm.code,
            s,
            rng.choice(("快进快出", "其他", "快进快出")),
            rng.randint(10, 200),
            rng.randint(3, 40),
            volume,
            rng.randint(10, 200),
            volume * 0.97,
            protect=False,
        )
    for scheme in world.schemes:
        scheme_money(world, bank, scheme, rng)
    for scheme in [s for s in world.schemes if s.stage == "middle"][:3]:
        core = world.firms[scheme.core]
        s = random_date(rng, date(2026, 8, 1), FULL_DELIVERY - timedelta(days=20))
        bank.alert(
            INC,
            rng,
            core.name,
            core.code,
            s,
            "分散转入集中转出",
            rng.randint(80, 400),
            rng.randint(40, 150),
            rng.uniform(1e6, 8e6),
            rng.randint(5, 20),
            rng.uniform(9e5, 7e6),
            protect=True,
        )


def _group_flows(world: World, bank: Bank, firms: list[Firm], rng: random.Random) -> None:
    for firm in world.firms:
        if "group" in firm.tags and firm.holdings and firm.holdings[0].kind == "f":
            head = world.firms[firm.holdings[0].holder]
            s = random_date(rng, date(2025, 10, 1), date(2026, 4, 30))
            bank.flow(
                FULL,
                _firm_party(head, rng),
                _firm_party(firm, rng),
                s,
                s + timedelta(days=180),
                rng.randint(3, 30),
                rng.uniform(1e6, 3e7),
                protect=False,
            )


def _many_payers(world: World, bank: Bank, firms: list[Firm], rng: random.Random) -> None:
    """Training schools and shops paid by many people: a legitimate many-small-payers pattern."""
    edu = [f for f in firms if f.industry in (INDUSTRY_BY_KEY["edu"].code, "Q8514", "F5299")]
    for firm in rng.sample(edu, min(len(edu), world.ctx.n(6))):
        firm.hard_negative = True
        s = random_date(rng, date(2025, 9, 1), date(2026, 3, 1))
        for _ in range(rng.randint(40, 150)):
            person = world.persons[world.people.pick(rng)]
            bank.flow(
                FULL,
                (person.name, person.pid),
                _firm_party(firm, rng),
                s,
                s + timedelta(days=120),
                rng.randint(1, 3),
                rng.uniform(800, 12000),
                protect=False,
            )
