"""Making market entities: names, codes, types, capital, dates, officers and shareholders."""

from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import accumulate

from demo.ids import IdFactory
from demo.model import FULL_DELIVERY, Context, Firm, Holding
from demo.people import People
from demo.places import authority, civil_affairs, county_label, street_address
from demo.vocab import BRAND, COOP_KINDS, INDUSTRIES, SCOPE_EXTRA, SHOP_WORDS, Industry
from riskgraph.divisions import Division, divisions, short_name

PREFIX2 = {
    "company": "91",
    "joint": "91",
    "sole": "91",
    "lp": "91",
    "branch": "91",
    "foreign": "91",
    "indiv": "92",
    "coop": "93",
    "minfei": "52",
    "shetuan": "51",
}
_CAPITALS = (10, 30, 50, 100, 100, 200, 300, 500, 500, 1000, 1000, 2000, 3000, 5000, 10000)
_CAP_WEIGHTS = (6, 6, 10, 14, 6, 10, 8, 9, 4, 7, 3, 4, 2, 2, 1)
_INDUSTRY_CUM = list(accumulate(i.weight for i in INDUSTRIES))
_CAP_CUM = list(accumulate(_CAP_WEIGHTS))
INDUSTRY_BY_KEY = {i.key: i for i in INDUSTRIES}
_SHOP_SCOPES = (
    "日用百货、预包装食品零售",
    "五金交电、建材零售",
    "服装鞋帽零售",
    "餐饮服务（小餐饮）",
    "烟草制品零售；日用百货销售",
    "美容美发服务",
    "机动车维修",
    "通讯器材及配件零售",
)


def random_date(rng: random.Random, start: date, end: date) -> date:
    """A uniform date in [start, end]."""
    span = (end - start).days
    return start + timedelta(days=rng.randint(0, max(span, 0)))


def founding_date(rng: random.Random, max_years: float = 30) -> date:
    """Founding dates skewed to recent years, as in any registry."""
    r = rng.random()
    years = 5 * r if r < 0.45 else (5 + 7 * rng.random() if r < 0.8 else 12 + 18 * rng.random())
    years = min(years, max_years)
    return FULL_DELIVERY - timedelta(days=int(years * 365.25) + 20)


def phone(rng: random.Random, city: str) -> str:
    """A mobile number, or a landline with an (invented) area code."""
    if rng.random() < 0.8:
        return rng.choice(("13", "15", "18", "17", "19")) + f"{rng.randrange(10**9):09d}"
    area = f"0{300 + int(city[2:4]) * 3 + int(city[:2]) % 7}"
    return f"{area}-{rng.randint(2, 8)}{rng.randrange(10**6):06d}"


class FirmFactory:
    """Creates firms into one list, keeping registered names unique."""

    def __init__(self, ctx: Context, ids: IdFactory, people: People) -> None:
        self.ctx = ctx
        self.ids = ids
        self.people = people
        self.firms: list[Firm] = []
        self.names: set[str] = set()
        self.reg = divisions()
        self.city_short = short_name(ctx.city_name)
        self._counties = ctx.counties
        self._ccum = list(
            accumulate(
                0.5 if c.zone else (2.0 if c.name.endswith("区") else 1.2) for c in ctx.counties
            )
        )

    # -- places -----------------------------------------------------------------------------
    def county(self, rng: random.Random) -> Division:
        return rng.choices(self._counties, cum_weights=self._ccum)[0]

    def _place_prefix(self, rng: random.Random, county: Division) -> str:
        r = rng.random()
        city = self.reg.get(county.parent)
        city_name = city.name if city else self.ctx.city_name
        if r < 0.5:
            return city_name
        if r < 0.7 and not county.name.endswith("区"):
            return county.name
        if r < 0.85:
            return short_name(self.reg.name(county.province))
        return ""

    def unique_name(self, rng: random.Random, make: object) -> str:
        """Call ``make(brand)`` until the name is new; brands grow to three characters."""
        assert callable(make)
        for attempt in range(200):
            size = 2 if attempt < 5 and rng.random() < 0.85 else 3
            brand = "".join(rng.choice(BRAND) for _ in range(size))
            name = make(brand)
            if name not in self.names:
                self.names.add(name)
                return str(name)
        raise RuntimeError("could not find a unique firm name")

    # -- the firm itself -------------------------------------------------------------------
    def create(
        self,
        rng: random.Random,
        kind: str,
        county: Division | None = None,
        industry: Industry | None = None,
        founded: date | None = None,
        city_level: bool | None = None,
        name: str | None = None,
    ) -> Firm:
        """One firm of ``kind``: company, joint, sole, lp, indiv, coop, minfei, shetuan, foreign."""
        county = county or self.county(rng)
        industry = industry or rng.choices(INDUSTRIES, cum_weights=_INDUSTRY_CUM)[0]
        founded = founded or founding_date(rng)
        in_city = county.parent == self.ctx.city
        if city_level is None:
            city_level = in_city and kind in ("company", "joint", "lp") and rng.random() < 0.1
        division = str(county.parent) if city_level else county.code
        if county.zone and kind in ("minfei", "shetuan"):
            division = str(county.parent)
        status = self._status(rng, founded)
        uscc, regno = "", ""
        if founded.year < 2014 and status in ("吊销", "注销") and rng.random() < 0.35:
            regno = self.ids.regno(division)
        else:
            uscc = self.ids.uscc(PREFIX2.get(kind, "91"), division, founded)
        etype, scope, code = self._type_scope(rng, kind, industry)
        if name is None:
            name = self._name(rng, kind, county, industry)
        else:
            self.names.add(name)
        if kind in ("minfei", "shetuan"):
            auth = civil_affairs(county)
        else:
            auth = authority(county, city_level=city_level, old=bool(regno))
        capital, currency, paid = self._capital(rng, kind)
        firm = Firm(
            idx=len(self.firms),
            uscc=uscc,
            regno=regno,
            name=name,
            etype=etype,
            county=county.code,
            authority=auth,
            founded=founded,
            status=status,
            address=street_address(rng, county, with_city=rng.random() < 0.7 or city_level),
            scope=scope,
            industry=code if rng.random() < 0.75 else "",
            phone=phone(rng, self.ctx.city),
            capital_wan=capital,
            currency=currency,
            paid_wan=paid,
        )
        firm.revenue = self._revenue(rng, firm)
        firm.employees = max(0, int(firm.revenue / rng.uniform(2e5, 6e5)))
        self.firms.append(firm)
        return firm

    def _status(self, rng: random.Random, founded: date) -> str:
        r = rng.random()
        age = (FULL_DELIVERY - founded).days / 365.25
        if age < 1.5 or r < 0.72:
            return "存续"
        if r < 0.80:
            return "在营"
        if r < 0.83:
            return "开业"
        if r < 0.93:
            return "注销"
        if r < 0.98:
            return "吊销"
        return "迁出" if r < 0.995 else "撤销"

    def _type_scope(self, rng: random.Random, kind: str, ind: Industry) -> tuple[str, str, str]:
        scope = ind.scope + rng.choice(SCOPE_EXTRA)
        if kind == "company":
            etype = rng.choices(
                ("有限责任公司(自然人投资或控股)", "有限责任公司(自然人独资)", "其他有限责任公司"),
                (70, 24, 6),
            )[0]
        elif kind == "joint":
            etype = "股份有限公司(非上市、自然人投资或控股)"
        elif kind == "sole":
            etype = "个人独资企业"
        elif kind == "lp":
            etype = "有限合伙企业"
        elif kind == "foreign":
            etype = rng.choice(("有限责任公司(外国法人独资)", "有限责任公司(台港澳法人独资)"))
        elif kind == "indiv":
            return (
                "个体工商户",
                rng.choice(_SHOP_SCOPES),
                rng.choice(("F5211", "F5212", "H6210", "O8011", "")),
            )
        elif kind == "coop":
            etype, coop = "农民专业合作社", rng.choice(COOP_KINDS)
            return etype, coop[2], coop[1]
        elif kind == "minfei":
            return "民办非企业单位", "为老年人提供生活照料、康复护理服务；职业技能培训", "Q8514"
        elif kind == "shetuan":
            return "社会团体", "行业交流、咨询服务、业务培训", "S9521"
        else:
            etype = "有限责任公司分公司(自然人投资或控股)"
        return etype, scope, ind.code

    def _name(self, rng: random.Random, kind: str, county: Division, ind: Industry) -> str:
        place = self._place_prefix(rng, county)
        if kind == "indiv":
            label = county_label(county)
            if rng.random() < 0.4:
                owner = self.people.persons[self.people.pick(rng)].name
                return self.unique_name(
                    rng,
                    lambda b: (
                        f"{label}{owner}{rng.choice(SHOP_WORDS)}"
                        if rng.random() < 0.6
                        else f"{label}{b}{owner[0]}{rng.choice(SHOP_WORDS)}"
                    ),
                )
            return self.unique_name(rng, lambda b: f"{label}{b}{rng.choice(SHOP_WORDS)}")
        if kind == "coop":
            word = rng.choice(("种植", "养殖", "蔬菜种植", "农机服务", "林果", "中药材种植"))
            return self.unique_name(rng, lambda b: f"{county.name}{b}{word}专业合作社")
        if kind == "minfei":
            word = rng.choice(("养老院", "职业培训学校", "幼儿园", "老年公寓", "康复中心"))
            return self.unique_name(rng, lambda b: f"{self.reg.name(county.parent)}{b}{word}")
        if kind == "shetuan":
            word = rng.choice(("商会", "协会", "促进会"))
            return self.unique_name(
                rng, lambda b: f"{self.reg.name(county.parent)}{b}{ind.word}{word}"
            )
        if kind == "sole":
            tail = rng.choice(("中心", "经营部", "工作室", "商行"))
            return self.unique_name(rng, lambda b: f"{place}{b}{ind.word}{tail}")
        if kind == "lp":
            word = rng.choice(("股权投资", "企业管理", "投资", "创业投资", "商务咨询"))
            paren = rng.choice(("（有限合伙）", "(有限合伙)"))
            return self.unique_name(rng, lambda b: f"{place}{b}{word}合伙企业{paren}")
        form = (
            "股份有限公司"
            if kind == "joint"
            else rng.choices(("有限公司", "有限责任公司"), (85, 15))[0]
        )
        if not place:
            return self.unique_name(rng, lambda b: f"{b}{ind.word}{form}")
        return self.unique_name(rng, lambda b: f"{place}{b}{ind.word}{form}")

    def _capital(self, rng: random.Random, kind: str) -> tuple[float, str, float | None]:
        if kind == "indiv":
            return float(rng.choice((1, 2, 3, 5, 5, 10, 10, 20, 30, 50))), "", None
        if kind in ("minfei", "shetuan"):
            return float(rng.choice((3, 5, 10, 20, 50))), "", None
        capital = float(rng.choices(_CAPITALS, cum_weights=_CAP_CUM)[0])
        currency = ""
        if kind == "foreign":
            currency = rng.choice(("美元", "港元"))
            capital = float(rng.choice((50, 100, 200, 500, 1000)))
        r = rng.random()
        paid = (
            None
            if r < 0.65
            else (capital if r < 0.85 else round(capital * rng.uniform(0.1, 0.9), 2))
        )
        return capital, currency, paid

    def _revenue(self, rng: random.Random, firm: Firm) -> float:
        base = 3e5 + firm.capital_wan * 1e4 * rng.uniform(0.2, 3.0)
        return round(base * rng.lognormvariate(0, 0.8), 2)

    # -- people around the firm ------------------------------------------------------------
    def staff(self, rng: random.Random, firm: Firm, kind: str, lr: int | None = None) -> None:
        """Legal representative, officers and shareholders typical of the firm's type."""
        people = self.people
        local = people.pick_in(rng, firm.county) if rng.random() < 0.5 else people.pick(rng)
        firm.legal_rep = lr if lr is not None else local
        firm.lr_id_blank = rng.random() < 0.03
        if kind in ("indiv", "minfei", "shetuan", "branch"):
            if kind == "branch":
                firm.officers = [(firm.legal_rep, "负责人")]
            return
        if kind == "coop":
            firm.officers = [(firm.legal_rep, "理事长"), (people.pick(rng), "监事")]
            members = [firm.legal_rep] + [
                people.pick_in(rng, firm.county) for _ in range(rng.randint(4, 8))
            ]
            self.hold(firm, members, [rng.uniform(1, 5) for _ in members])
            return
        if kind in ("sole",):
            firm.officers = [(firm.legal_rep, "投资人")]
            self.hold(firm, [firm.legal_rep], [1.0])
            return
        if kind == "lp":
            firm.officers = [(firm.legal_rep, "执行事务合伙人")]
            partners = [firm.legal_rep] + [people.pick(rng) for _ in range(rng.randint(1, 4))]
            self.hold(firm, partners, [rng.uniform(0.5, 3) for _ in partners], partnership=True)
            return
        supervisor = people.pick(rng)
        r = rng.random()
        if r < 0.6:
            firm.officers = [(firm.legal_rep, "执行董事兼总经理"), (supervisor, "监事")]
        elif r < 0.85:
            firm.officers = [
                (firm.legal_rep, "执行董事"),
                (people.pick(rng), "经理"),
                (supervisor, "监事"),
            ]
        else:
            directors = [people.pick(rng) for _ in range(2)]
            firm.officers = [(firm.legal_rep, "董事长")] + [(d, "董事") for d in directors]
            firm.officers.append((supervisor, "监事"))
        if rng.random() < 0.3:
            firm.officers.append((people.pick(rng), "财务负责人"))
        if firm.etype.endswith("(自然人独资)"):
            self.hold(firm, [firm.legal_rep], [1.0])
        else:
            owners = [firm.legal_rep] + [people.pick(rng) for _ in range(rng.randint(1, 3))]
            self.hold(firm, owners, [3.0] + [rng.uniform(0.3, 2) for _ in owners[1:]])

    def hold(
        self,
        firm: Firm,
        holders: list[int],
        weights: list[float],
        kinds: list[str] | None = None,
        partnership: bool = False,
    ) -> None:
        """Shareholdings proportional to ``weights`` (persons unless ``kinds`` says 'f')."""
        seen: dict[tuple[str, int], float] = {}
        for i, (holder, weight) in enumerate(zip(holders, weights, strict=True)):
            kind = kinds[i] if kinds else "p"
            seen[(kind, holder)] = seen.get((kind, holder), 0.0) + weight
        total = sum(seen.values())
        paid_all = firm.paid_wan is not None
        firm.holdings = []
        for (kind, holder), weight in seen.items():
            pct = round(weight / total, 4)
            amount = round(firm.capital_wan * pct, 2)
            firm.holdings.append(Holding(kind, holder, amount, pct, amount if paid_all else None))
        del partnership
