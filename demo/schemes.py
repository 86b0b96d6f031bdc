"""Planted illegal-fundraising schemes: core firm, periphery, controller, nominees, investors.

Each scheme has a typology (投资理财/资产管理 ring, 养老 memberships, 合作社 deposits, P2P-like
platform, 私募-style 有限合伙 vehicles) and a stage (early, middle, late). Only the structure
is made here; the signals in the other sources come from :mod:`demo.signals`. Periphery firms
are tied to the scheme by links only (shared people, phone, address, shares, branches, money).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.firms import INDUSTRY_BY_KEY, FirmFactory, random_date
from demo.model import FULL_DELIVERY, INC_DELIVERY, STAGES, TYPOLOGIES, Firm, Scheme
from demo.people import People
from demo.population import add_branch
from demo.vocab import Industry
from riskgraph.divisions import Division

_FUND = Industry(
    "fund",
    "股权投资基金管理",
    "L7211",
    "受托管理股权投资基金；从事投资管理及相关咨询服务（须在中国证券投资基金业协会完成登记备案后方可从事经营活动）",
    0,
)
CORE_INDUSTRIES = {
    "investment": ("invest", "asset", "wealth", "consult", "info"),
    "elderly": ("elder", "health", "health", "elder"),
    "coop": (),
    "p2p": ("net", "net", "info", "tech"),
    "private_fund": ("fund",),
}
PERIPHERY_INDUSTRIES = {
    "investment": ("trade", "culture", "info", "consult", "estate", "ad", "tech"),
    "elderly": ("health", "trade", "med", "culture", "fooding"),
    "coop": ("agri", "trade", "fooding"),
    "p2p": ("consult", "info", "trade", "tech", "invest"),
    "private_fund": ("consult", "tech", "energy", "agri"),
}
_TYPOLOGY_WEIGHTS = (30, 20, 15, 15, 20)
_STAGE_WEIGHTS = (40, 35, 25)
_SIZES = (1, 1, 1, 2, 2, 2, 3, 3, 4, 6, 8)


def _industry(key: str) -> Industry:
    return _FUND if key == "fund" else INDUSTRY_BY_KEY[key]


def plant_schemes(factory: FirmFactory, people: People) -> list[Scheme]:
    """Plant about 50 schemes per unit of scale."""
    ctx = factory.ctx
    rng = ctx.rng("schemes")
    n = max(2, round(50 * ctx.scale))
    typologies = [TYPOLOGIES[i % 5] for i in range(min(n, 5))]
    typologies += rng.choices(TYPOLOGIES, _TYPOLOGY_WEIGHTS, k=n - len(typologies))
    stages = [STAGES[i % 3] for i in range(min(n, 3))]
    stages += rng.choices(STAGES, _STAGE_WEIGHTS, k=n - len(stages))
    rng.shuffle(typologies)
    rng.shuffle(stages)
    schemes = []
    for i, (typology, stage) in enumerate(zip(typologies, stages, strict=True)):
        schemes.append(_scheme(factory, people, rng, f"S{i + 1:04d}", typology, stage))
    return schemes


def _timeline(rng: random.Random, stage: str) -> tuple[date, date]:
    """(founding of the core, collapse or 'now') for a stage."""
    years = {"early": (0.4, 2.5), "middle": (1.0, 4.0), "late": (1.5, 6.0)}[stage]
    start = FULL_DELIVERY - timedelta(days=int(rng.uniform(*years) * 365))
    if stage == "late":
        collapse = random_date(rng, date(2026, 3, 1), date(2026, 8, 31))
    else:
        collapse = FULL_DELIVERY
    return start, collapse


def _scheme(
    factory: FirmFactory, people: People, rng: random.Random, sid: str, typology: str, stage: str
) -> Scheme:
    ctx = factory.ctx
    county = factory.county(rng)
    start, collapse = _timeline(rng, stage)
    controller = people.pick_in(rng, county.code)
    nominees = [
        people.pick_elderly(rng) if rng.random() < 0.4 else people.pick(rng)
        for _ in range(rng.randint(1, 3))
    ]
    scheme = Scheme(
        sid=sid,
        typology=typology,
        stage=stage,
        core=-1,
        controller=controller,
        nominees=nominees,
        start=start,
        collapse=collapse,
    )
    scheme.cross = rng.random() < 0.45
    scheme.cross_city = scheme.cross and bool(ctx.neighbour_counties) and rng.random() < 0.4
    scheme.accomplice = people.pick(rng)
    kind = "coop" if typology == "coop" else "company"
    industry = None if typology == "coop" else _industry(rng.choice(CORE_INDUSTRIES[typology]))
    core = factory.create(
        rng,
        kind,
        county=county,
        industry=industry,
        founded=start,
        city_level=False if kind == "coop" else None,
    )
    core.status = "存续"
    if core.uscc == "":
        core.uscc = factory.ids.uscc("91", county.code, start)
        core.regno = ""
    core.capital_wan = float(rng.choice((500, 1000, 1000, 2000, 3000, 5000, 10000)))
    core.paid_wan = None if rng.random() < 0.7 else core.capital_wan
    lr = rng.choice(nominees) if rng.random() < 0.6 else controller
    factory.staff(rng, core, kind, lr=lr)
    if kind == "company":
        owners = list(dict.fromkeys([lr] + nominees))
        factory.hold(core, owners, [rng.uniform(0.5, 3) for _ in owners])
        if lr != controller and rng.random() < 0.5:
            core.officers.append((controller, rng.choice(("经理", "监事", "财务负责人"))))
    core.revenue = core.revenue * rng.uniform(0.05, 0.6)
    _join(scheme, core, "core")
    for _ in range(rng.choice(_SIZES)):
        _periphery(factory, people, rng, scheme, core)
    _investors(factory, people, rng, scheme)
    return scheme


def _join(scheme: Scheme, firm: Firm, role: str) -> None:
    firm.scheme = int(scheme.sid[1:]) - 1
    firm.role = role
    firm.hard_negative = False
    if role == "core":
        scheme.core = firm.idx
    scheme.members.append(firm.idx)


def _member_county(
    factory: FirmFactory, rng: random.Random, scheme: Scheme, core: Firm
) -> Division:
    ctx = factory.ctx
    if scheme.cross_city and rng.random() < 0.4:
        return rng.choice(ctx.neighbour_counties)
    if scheme.cross and rng.random() < 0.6:
        return factory.county(rng)
    return next((c for c in ctx.counties if c.code == core.county), ctx.counties[0])


def _periphery(
    factory: FirmFactory, people: People, rng: random.Random, scheme: Scheme, core: Firm
) -> Firm:
    """One periphery firm with one to three links to the scheme and few direct signals."""
    typology = scheme.typology
    county = _member_county(factory, rng, scheme, core)
    if rng.random() < 0.15 and scheme.typology != "private_fund":
        firm = add_branch(factory, rng, core, county)
        firm.status = "存续"
        _join(scheme, firm, "periphery")
        return firm
    founded = random_date(
        rng, FULL_DELIVERY - timedelta(days=9 * 365), FULL_DELIVERY - timedelta(days=60)
    )
    if typology == "private_fund" and rng.random() < 0.75:
        firm = factory.create(rng, "lp", county=county, founded=founded)
        firm.scope = (
            "以自有资金从事股权投资、投资管理（不得从事吸收存款、向社会公众集（融）资等金融业务）"
        )
        firm.industry = "L7212" if rng.random() < 0.6 else ""
        firm.status = "存续"
        gp_agent = rng.choice((scheme.controller, scheme.accomplice))
        factory.staff(rng, firm, "lp", lr=gp_agent)
        firm.legal_rep_firm = core.idx
        lps = [h.holder for h in firm.holdings if h.kind == "p"] + [scheme.controller]
        factory.hold(
            firm,
            [core.idx] + lps,
            [0.05] + [rng.uniform(0.5, 3) for _ in lps],
            ["f"] + ["p"] * len(lps),
        )
        _join(scheme, firm, "periphery")
        return firm
    kind = "coop" if typology == "coop" and rng.random() < 0.6 else "company"
    industry = None if kind == "coop" else _industry(rng.choice(PERIPHERY_INDUSTRIES[typology]))
    firm = factory.create(rng, kind, county=county, industry=industry, founded=founded)
    if firm.status not in ("存续", "在营", "开业"):
        firm.status = "存续"
    if not firm.uscc:
        firm.uscc, firm.regno = factory.ids.uscc("91", county.code, founded), ""
    links = rng.sample(("lr", "officer", "share", "phone", "address", "flow"), rng.randint(1, 3))
    lr = None
    if "lr" in links:
        lr = rng.choice((scheme.controller, scheme.accomplice, *scheme.nominees))
    factory.staff(rng, firm, kind, lr=lr)
    if "officer" in links:
        firm.officers.append(
            (
                rng.choice((scheme.controller, scheme.accomplice)),
                rng.choice(("监事", "经理", "财务负责人")),
            )
        )
    if "share" in links and firm.holdings:
        holder, hkind = (core.idx, "f") if rng.random() < 0.5 else (scheme.controller, "p")
        holders = [h.holder for h in firm.holdings] + [holder]
        kinds = [h.kind for h in firm.holdings] + [hkind]
        weights = [h.pct for h in firm.holdings] + [rng.uniform(0.3, 1.5)]
        factory.hold(firm, holders, weights, kinds)
    if "phone" in links:
        firm.phone = core.phone
    if "address" in links and firm.county == core.county:
        firm.address = core.address
    if "flow" in links or rng.random() < 0.3:
        scheme.flows.append(firm.idx)
    _join(scheme, firm, "periphery")
    return firm


def _investors(factory: FirmFactory, people: People, rng: random.Random, scheme: Scheme) -> None:
    """The members of the public who put money in (payers, later plaintiffs)."""
    ctx = factory.ctx
    base = {"early": (0, 6), "middle": (10, 40), "late": (25, 90)}[scheme.stage]
    n = rng.randint(*base)
    if scheme.typology == "p2p" and scheme.stage != "early":
        n = int(n * rng.uniform(2.0, 3.5))
    core = factory.firms[scheme.core]
    local = [c.code for c in ctx.counties if not c.zone]
    neighbours = [c.code for c in ctx.neighbour_counties]
    elderly = scheme.typology == "elderly"
    for _ in range(n):
        r = rng.random()
        native = False
        if scheme.cross and r < 0.45:
            county = rng.choice(local)
        elif scheme.cross_city and r < 0.65:
            county = rng.choice(neighbours)
        else:
            county = core.county if core.county in local else rng.choice(local)
            native = not scheme.cross
        old = elderly or (scheme.typology == "coop" and rng.random() < 0.5)
        pidx = _investor(people, rng, county, old, native)
        if pidx not in scheme.investors:
            scheme.investors.append(pidx)
    if scheme.stage == "late":
        regions = {factory.firms[m].county for m in scheme.members}
        regions |= {people.persons[p].home for p in scheme.investors[:12]}
        scheme.police_regions = (
            sorted(regions)[: rng.randint(2, 5)] if len(regions) > 1 else sorted(regions)
        )
        if core.county not in scheme.police_regions:
            scheme.police_regions.insert(0, core.county)


def _investor(people: People, rng: random.Random, county: str, old: bool, native: bool) -> int:
    """Someone living in ``county``; ``old``: born 1962 or earlier; ``native``: ID issued there."""
    pool = people.by_home.get(county, [])
    for _ in range(12):
        if not pool:
            break
        pidx = rng.choice(pool)
        person = people.persons[pidx]
        if (not old or person.birth.year <= 1962) and (not native or person.pid[:6] == county):
            return pidx
    birth = date(rng.randint(1938, 1960), rng.randint(1, 12), rng.randint(1, 28)) if old else None
    return people.make(county, county, birth)


def add_increment_member(factory: FirmFactory, schemes: list[Scheme]) -> Firm | None:
    """A new periphery firm registered after the full snapshot (delivered in the increment)."""
    rng = factory.ctx.rng("increment_member")
    candidates = [s for s in schemes if s.stage in ("middle", "late")] or schemes
    if not candidates:
        return None
    scheme = rng.choice(candidates)
    core = factory.firms[scheme.core]
    county = next(
        (c for c in factory.ctx.counties if c.code == core.county), factory.ctx.counties[0]
    )
    industry = _industry(rng.choice(PERIPHERY_INDUSTRIES[scheme.typology]))
    firm = factory.create(
        rng,
        "company",
        county=county,
        industry=industry,
        founded=INC_DELIVERY - timedelta(days=rng.randint(3, 12)),
        city_level=False,
    )
    firm.status = "存续"
    factory.staff(rng, firm, "company", lr=scheme.accomplice)
    factory.hold(firm, [scheme.controller, scheme.accomplice], [0.7, 0.3])
    firm.phone = core.phone if rng.random() < 0.5 else firm.phone
    firm.delivery = "inc"
    _join(scheme, firm, "periphery")
    return firm
