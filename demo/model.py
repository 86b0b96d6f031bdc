"""In-memory model of the demo city: people, firms, schemes and the generation context."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from riskgraph.divisions import Division, divisions
from riskgraph.errors import UsageError

FULL_DELIVERY = date(2026, 10, 31)
INC_DELIVERY = date(2026, 11, 15)
TYPOLOGIES = ("investment", "elderly", "coop", "p2p", "private_fund")
STAGES = ("early", "middle", "late")


@dataclass(slots=True)
class Person:
    """A natural person with a valid citizen ID; ``home`` is the county where they live."""

    idx: int
    name: str
    pid: str
    birth: date
    male: bool
    home: str


@dataclass(slots=True)
class Holding:
    """One shareholder of a firm: a person (``kind`` 'p') or a firm ('f')."""

    kind: str
    holder: int
    amount_wan: float
    pct: float
    paid_wan: float | None


@dataclass(slots=True)
class Firm:
    """A market entity (company, individual business, co-operative, partnership, 民非…)."""

    idx: int
    uscc: str
    regno: str
    name: str
    etype: str
    county: str
    authority: str
    founded: date
    status: str
    address: str
    scope: str
    industry: str
    phone: str
    capital_wan: float
    currency: str
    paid_wan: float | None
    legal_rep: int = -1
    legal_rep_firm: int = -1
    lr_id_blank: bool = False
    officers: list[tuple[int, str]] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    parent: int = -1
    scheme: int = -1
    role: str = "none"
    hard_negative: bool = False
    tags: set[str] = field(default_factory=set)
    revenue: float = 0.0
    employees: int = 0
    delivery: str = "full"

    @property
    def key(self) -> str:
        """The graph key: the USCC, or ``REG:<注册号>`` for old records without one."""
        return self.uscc if self.uscc else "REG:" + self.regno

    @property
    def code(self) -> str:
        """The code as printed in other sources (USCC or 注册号)."""
        return self.uscc or self.regno


@dataclass(slots=True)
class Scheme:
    """A planted illegal-fundraising scheme."""

    sid: str
    typology: str
    stage: str
    core: int
    controller: int
    members: list[int] = field(default_factory=list)
    nominees: list[int] = field(default_factory=list)
    investors: list[int] = field(default_factory=list)
    police_regions: list[str] = field(default_factory=list)
    flows: list[int] = field(default_factory=list)
    investor_regions: set[str] = field(default_factory=set)
    accomplice: int = -1
    collapse: date = FULL_DELIVERY
    start: date = FULL_DELIVERY
    cross: bool = False
    cross_city: bool = False


@dataclass
class Context:
    """Everything generation needs: the city, its counties and neighbours, and seeded RNGs."""

    city: str
    scale: float
    seed: int
    city_div: Division
    counties: list[Division]
    neighbours: list[Division]
    neighbour_counties: list[Division]
    other_prefixes: list[str]
    abolished_prefixes: list[str]

    def rng(self, name: str) -> random.Random:
        """A generator for one part of the work, independent of the order parts run in."""
        return random.Random(f"{self.seed}:{self.city}:{self.scale:g}:{name}")

    @property
    def city_name(self) -> str:
        return self.city_div.name

    def n(self, base: float, minimum: int = 1) -> int:
        """``base`` scaled linearly, at least ``minimum``."""
        return max(minimum, round(base * self.scale))


def make_context(city: str, scale: float, seed: int) -> Context:
    """Resolve the city in the division registry; raise UsageError when it is no prefecture."""
    reg = divisions()
    div = reg.get(city)
    if div is None or div.level != 2 or not reg.counties(city):
        raise UsageError(
            f"--city {city!r} is not a prefecture-level city in the division registry",
            "use a six-digit GB/T 2260 code of a prefecture, e.g. 410500 (安阳市) or 341300",
        )
    if not (scale > 0):
        raise UsageError(f"--scale must be positive, got {scale}", "e.g. --scale 1")
    rng = random.Random(f"{seed}:{city}:context")
    neighbours = [d for d in reg.neighbours(city) if reg.counties(d.code)]
    neighbours = sorted(rng.sample(neighbours, min(4, len(neighbours))), key=lambda d: d.code)
    ncounties = [c for n in neighbours for c in reg.counties(n.code) if not c.zone]
    province = city[:2]
    others = sorted(
        d.code
        for d in reg.by_code.values()
        if d.level == 3 and not d.zone and d.code[:2] != province
    )
    other_prefixes = sorted(rng.sample(others, min(40, len(others))))
    abolished = [city[:4] + "01"] + [
        city[:4] + f"{i:02d}" for i in range(21, 30) if reg.get(city[:4] + f"{i:02d}") is None
    ][:2]
    return Context(
        city=city,
        scale=scale,
        seed=seed,
        city_div=div,
        counties=reg.counties(city),
        neighbours=neighbours,
        neighbour_counties=ncounties,
        other_prefixes=other_prefixes,
        abolished_prefixes=abolished,
    )
