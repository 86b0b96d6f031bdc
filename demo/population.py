"""The ordinary population of firms, branches, linked outside firms, and the hard negatives.

Hard negatives are legitimate entities that fool naive rules: business-centre addresses shared
by hundreds of firms, bookkeeping agents whose phone is on hundreds of firms, licensed financial
firms, groups with subsidiaries in several counties, dormant shells filing zero tax, and firms
whose scope sounds financial or elderly-related but which behave normally.
"""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import accumulate

from demo.firms import INDUSTRY_BY_KEY, FirmFactory, random_date
from demo.model import FULL_DELIVERY, Firm
from demo.places import business_centre
from demo.vocab import BRAND
from riskgraph.divisions import Division, divisions, short_name

KINDS = ("company", "indiv", "coop", "sole", "lp", "joint", "foreign", "minfei", "shetuan")
KIND_CUM = list(accumulate((60, 22, 4.5, 3, 1.5, 1.5, 0.5, 1.2, 0.5)))
SOUNDS_FINANCIAL = {"L7212", "Q8514", "Q8499"}


def build_population(factory: FirmFactory, n_firms: int) -> None:
    """``n_firms`` ordinary firms with staff, then branches and linked outside firms."""
    rng = factory.ctx.rng("population")
    for _ in range(n_firms):
        kind = rng.choices(KINDS, cum_weights=KIND_CUM)[0]
        firm = factory.create(rng, kind)
        factory.staff(rng, firm, kind)
        if kind == "indiv" and rng.random() < 0.35:
            firm.tags.add("isolated")
        if firm.industry in SOUNDS_FINANCIAL or kind == "minfei":
            firm.hard_negative = True
    companies = [f for f in factory.firms if f.etype.startswith("有限责任公司(自然人")]
    for parent in rng.sample(companies, min(len(companies), round(n_firms * 0.025))):
        add_branch(factory, rng, parent, _branch_county(factory, rng, parent))
    for firm in rng.sample(companies, min(len(companies), round(n_firms * 0.015))):
        add_outside_shareholder(factory, rng, firm)


def _branch_county(factory: FirmFactory, rng: random.Random, parent: Firm) -> Division:
    ctx = factory.ctx
    if ctx.neighbour_counties and rng.random() < 0.15:
        return rng.choice(ctx.neighbour_counties)
    options = [c for c in ctx.counties if c.code != parent.county] or ctx.counties
    return rng.choice(options)


def add_branch(
    factory: FirmFactory, rng: random.Random, parent: Firm, county: Division, word: str = "分公司"
) -> Firm:
    """A branch of ``parent`` registered in ``county``."""
    if parent.etype == "农民专业合作社":
        word = "分社"
    name = f"{parent.name}{short_name(county.name)}{word}"
    if name in factory.names:
        name = f"{parent.name}{short_name(county.name)}第二{word}"
    founded = random_date(rng, parent.founded, FULL_DELIVERY - timedelta(days=30))
    branch = factory.create(
        rng, "branch", county=county, founded=founded, name=name, city_level=False
    )
    branch.scope, branch.industry = parent.scope, parent.industry
    branch.capital_wan, branch.paid_wan, branch.currency = 0.0, None, ""
    branch.parent = parent.idx
    if parent.etype.startswith("股份有限公司"):
        branch.etype = "股份有限公司分公司(非上市、自然人投资或控股)"
    elif parent.etype == "农民专业合作社":
        branch.etype = "农民专业合作社分支机构"
    elif parent.etype.startswith("有限责任公司(非自然人"):
        branch.etype = "有限责任公司分公司(非自然人投资或控股的法人独资)"
    if parent.status in ("注销", "吊销") and branch.status not in ("注销", "吊销"):
        branch.status = "注销"
    factory.staff(rng, branch, "branch")
    branch.tags.add("branch")
    return branch


def add_outside_shareholder(factory: FirmFactory, rng: random.Random, firm: Firm) -> Firm:
    """A firm from a neighbouring prefecture holding shares in ``firm``."""
    ctx = factory.ctx
    county = rng.choice(ctx.neighbour_counties) if ctx.neighbour_counties else factory.county(rng)
    owner = factory.create(rng, "company", county=county, city_level=False)
    factory.staff(rng, owner, "company")
    owner.tags.add("outside")
    share = rng.uniform(0.2, 0.6)
    holders = [h.holder for h in firm.holdings] + [owner.idx]
    kinds = [h.kind for h in firm.holdings] + ["f"]
    weights = [h.pct * (1 - share) for h in firm.holdings] + [share]
    factory.hold(firm, holders, weights, kinds)
    return owner


def build_hard_negatives(factory: FirmFactory) -> None:
    """Plant the legitimate look-alikes."""
    ctx = factory.ctx
    rng = ctx.rng("hard_negatives")
    _business_centres(factory, rng)
    _bookkeeping_agents(factory, rng)
    _licensed_finance(factory, rng)
    for _ in range(ctx.n(8)):
        _group(factory, rng)
    companies = [
        f
        for f in factory.firms
        if f.etype.startswith("有限责任公司(自然人") and f.status == "存续" and not f.hard_negative
    ]
    for firm in rng.sample(companies, min(len(companies), ctx.n(600))):
        firm.tags.add("shell")
        firm.revenue, firm.employees, firm.paid_wan = 0.0, 0, None
        firm.hard_negative = True


def _in_city_companies(factory: FirmFactory, county: str | None = None) -> list[Firm]:
    return [
        f
        for f in factory.firms
        if f.etype.startswith("有限责任公司(自然人")
        and (county is None or f.county == county)
        and "outside" not in f.tags
    ]


def _business_centres(factory: FirmFactory, rng: random.Random) -> None:
    ctx = factory.ctx
    n_centres = max(1, round(3 * ctx.scale**0.5))
    per_centre = max(20, ctx.n(450) // n_centres)
    districts = [c for c in ctx.counties if c.name.endswith("区") and not c.zone] or ctx.counties
    for _ in range(n_centres):
        county = rng.choice(districts)
        stem, _building = business_centre(rng, county)
        pool = [
            f
            for f in _in_city_companies(factory, county.code)
            if f.founded.year >= 2015 and f.scheme < 0
        ]
        for firm in rng.sample(pool, min(len(pool), per_centre)):
            firm.address = stem + rng.choice(
                (
                    f"A区{rng.randint(1, 999):03d}号",
                    f"{rng.randint(2, 20)}层{rng.randint(1, 80):02d}号工位",
                )
            )
            firm.hard_negative = True
            firm.tags.add("centre")


def _bookkeeping_agents(factory: FirmFactory, rng: random.Random) -> None:
    ctx = factory.ctx
    n_agents = max(1, round(3 * ctx.scale**0.5))
    per_agent = max(20, ctx.n(400) // n_agents)
    pool = _in_city_companies(factory)
    for _ in range(n_agents):
        agent = factory.create(rng, "company", industry=INDUSTRY_BY_KEY["bookkeep"])
        factory.staff(rng, agent, "company")
        agent.hard_negative = True
        agent.tags.add("agent")
        for client in rng.sample(pool, min(len(pool), per_agent)):
            client.phone = agent.phone
            client.hard_negative = True


def _licensed_finance(factory: FirmFactory, rng: random.Random) -> None:
    ctx = factory.ctx
    city_short = short_name(ctx.city_name)
    brand = rng.choice(BRAND) + rng.choice(BRAND)
    bank = factory.create(
        rng,
        "joint",
        county=ctx.counties[0],
        city_level=True,
        name=f"{city_short}{brand}农村商业银行股份有限公司",
    )
    bank.scope = (
        "吸收公众存款；发放短期、中期和长期贷款；办理国内结算；办理票据承兑与贴现；"
        "代理发行、代理兑付、承销政府债券；从事同业拆借；经银行业监督管理机构批准的其他业务"
    )
    bank.industry, bank.capital_wan, bank.status = "J6622", 120000.0, "存续"
    bank.revenue, bank.employees = 6.5e8, 900
    factory.staff(rng, bank, "company")
    _licensed(bank)
    for county in ctx.counties:
        branch = add_branch(factory, rng, bank, county, word="支行")
        branch.status = "存续"
        _licensed(branch)
    for word, scope, code, n in (
        ("小额贷款有限公司", "发放小额贷款；提供财务咨询（凭有效许可证经营）", "J6636", 4),
        (
            "融资担保有限公司",
            "借款类担保业务、发行债券担保业务和其他融资担保业务（凭许可证经营）",
            "J6991",
            3,
        ),
        (
            "典当有限责任公司",
            "动产质押典当业务；财产权利质押典当业务；房地产抵押典当业务",
            "J6639",
            2,
        ),
    ):
        for _ in range(ctx.n(n)):
            county = factory.county(rng)
            name = factory.unique_name(rng, lambda b, w=word: f"{ctx.city_name}{b}{w}")
            firm = factory.create(rng, "company", county=county, name=name)
            firm.scope, firm.industry, firm.status = scope, code, "存续"
            firm.capital_wan = float(rng.choice((5000, 10000, 20000, 30000)))
            firm.paid_wan = firm.capital_wan
            firm.revenue = firm.capital_wan * 1e4 * rng.uniform(0.08, 0.15)
            firm.employees = rng.randint(12, 60)
            factory.staff(rng, firm, "company")
            _licensed(firm)


def _licensed(firm: Firm) -> None:
    firm.hard_negative = True
    firm.tags.add("licensed")


def _group(factory: FirmFactory, rng: random.Random) -> None:
    """A legitimate group: a holding company with subsidiaries in several counties."""
    ctx = factory.ctx
    reg = divisions()
    head_county = factory.county(rng)
    word = rng.choice(("实业", "控股", "建设", "农业", "商贸"))
    name = factory.unique_name(rng, lambda b: f"{ctx.city_name}{b}{word}集团有限公司")
    head = factory.create(
        rng,
        "company",
        county=head_county,
        name=name,
        founded=FULL_DELIVERY - timedelta(days=rng.randint(8, 25) * 365),
    )
    head.capital_wan, head.status = float(rng.choice((5000, 10000, 20000))), "存续"
    head.revenue, head.employees = (
        head.capital_wan * 1e4 * rng.uniform(0.5, 2),
        rng.randint(80, 400),
    )
    factory.staff(rng, head, "company")
    head.tags.add("group")
    head.hard_negative = True
    chair = head.legal_rep
    finance = factory.people.pick(rng)
    for _ in range(rng.randint(3, 8)):
        if ctx.neighbour_counties and rng.random() < 0.2:
            county = rng.choice(ctx.neighbour_counties)
        else:
            county = factory.county(rng)
        sub = factory.create(
            rng,
            "company",
            county=county,
            founded=random_date(rng, head.founded, FULL_DELIVERY - timedelta(days=200)),
        )
        sub.etype = "有限责任公司(非自然人投资或控股的法人独资)"
        sub.status = "存续"
        sub.revenue = max(sub.revenue, 2e6)
        lr = chair if rng.random() < 0.4 else None
        factory.staff(rng, sub, "company", lr=lr)
        sub.officers.append((finance, "财务负责人"))
        if rng.random() < 0.3:
            sub.phone = head.phone
        factory.hold(sub, [head.idx], [1.0], ["f"])
        sub.hard_negative = True
        sub.tags.add("group")
        if reg.get(county.parent) and county.parent != ctx.city:
            sub.tags.add("outside")
