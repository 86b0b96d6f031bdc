"""Court data (案件信息, 当事人): ordinary suits, and the 民间借贷 waves of collapsing schemes."""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.firms import random_date
from demo.model import FULL_DELIVERY, INC_DELIVERY, Firm, Person, Scheme
from demo.places import court
from demo.vocab import LAWSUIT_CAUSES, PROVINCE_ABBR
from demo.world import FULL, INC, World
from riskgraph.divisions import Division, divisions
from riskgraph.identifiers import mask_id, mask_name

_CAUSES = [c for c, _ in LAWSUIT_CAUSES]
_CAUSE_W = [w for _, w in LAWSUIT_CAUSES]


class Court:
    """Numbers cases per court, year and kind, and writes case and party rows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.seq: dict[tuple[int, str, str], int] = {}
        self.reg = divisions()
        self.courts = [c for c in world.ctx.counties if not c.zone]

    def court_of(self, county_code: str, rng: random.Random) -> Division:
        div = self.reg.get(county_code)
        if div is None or div.zone or div.parent != self.world.ctx.city:
            return rng.choice(self.courts)
        return div

    def case_no(self, year: int, county: Division, kind: str, rng: random.Random) -> str:
        key = (year, county.code, kind)
        self.seq[key] = self.seq.get(key, rng.randint(20, 400)) + rng.randint(1, 9)
        abbr = PROVINCE_ABBR.get(county.code[:2], "豫")
        return f"({year}){abbr}{county.code[2:]}{kind}{self.seq[key]}号"

    def add_case(
        self,
        delivery: str,
        rng: random.Random,
        county: Division,
        filed: date,
        cause: str,
        amount: float | None,
        kind: str = "民初",
        status: str | None = None,
        protect: bool = False,
    ) -> str:
        no = self.case_no(filed.year, county, kind, rng)
        age = (FULL_DELIVERY - filed).days
        if status is None:
            if age > 200:
                status = "已结案" if rng.random() < 0.85 else "审理中"
            else:
                status = "审理中" if rng.random() < 0.5 else "已立案"
            if kind == "执" and status == "已结案" and rng.random() < 0.5:
                status = "终结本次执行"
        closed = None
        if status in ("已结案", "终结本次执行"):
            closed = min(
                filed + timedelta(days=rng.randint(25, 300)), FULL_DELIVERY - timedelta(days=2)
            )
        self.world.add(
            "案件信息",
            delivery,
            {
                "案号": no,
                "案由": cause,
                "立案日期": filed,
                "审理法院": court(county),
                "标的金额": amount,
                "案件状态": status,
                "结案日期": closed,
                "_p": protect,
            },
        )
        return no

    def person_party(
        self,
        delivery: str,
        rng: random.Random,
        no: str,
        person: Person,
        role: str,
        protect: bool = False,
    ) -> None:
        r = rng.random()
        code = person.pid if r < 0.3 else (mask_id(person.pid) if r < 0.78 else None)
        name = mask_name(person.name) if rng.random() < 0.5 else person.name
        self.world.add(
            "当事人",
            delivery,
            {
                "案号": no,
                "当事人名称": name,
                "当事人类型": "自然人",
                "证件号码": code,
                "诉讼地位": role,
                "_parent": no,
                "_p": protect,
            },
        )

    def firm_party(
        self,
        delivery: str,
        rng: random.Random,
        no: str,
        firm: Firm,
        role: str,
        protect: bool = False,
    ) -> None:
        kind = (
            "非法人组织"
            if firm.etype in ("个体工商户", "有限合伙企业", "个人独资企业") and rng.random() < 0.5
            else "法人"
        )
        self.world.add(
            "当事人",
            delivery,
            {
                "案号": no,
                "当事人名称": firm.name,
                "当事人类型": kind,
                "证件号码": firm.code if rng.random() < 0.6 else None,
                "诉讼地位": role,
                "_parent": no,
                "_p": protect,
            },
        )


def background_cases(world: World, court_: Court, n: int) -> None:
    """Ordinary litigation: sales contracts, labour disputes, loans, enforcement."""
    rng = world.ctx.rng("court:background")
    firms = [f for f in world.firms if f.delivery == FULL and "isolated" not in f.tags]
    banks = [f for f in firms if "licensed" in f.tags] or firms
    for _ in range(n):
        defendant = rng.choice(firms)
        cause = rng.choices(_CAUSES, _CAUSE_W)[0]
        filed = random_date(rng, date(2023, 1, 1), FULL_DELIVERY - timedelta(days=3))
        county = court_.court_of(defendant.county, rng)
        amount = round(rng.lognormvariate(11, 1.2), 2)
        if cause == "民间借贷纠纷":
            defendant.hard_negative = defendant.hard_negative or defendant.scheme < 0
        no = court_.add_case(FULL, rng, county, filed, cause, amount)
        if cause in ("劳动争议", "民间借贷纠纷", "机动车交通事故责任纠纷"):
            for _ in range(1 if rng.random() < 0.8 else 2):
                court_.person_party(FULL, rng, no, world.persons[world.people.pick(rng)], "原告")
        elif cause == "借款合同纠纷":
            court_.firm_party(FULL, rng, no, rng.choice(banks), "原告")
        else:
            court_.firm_party(FULL, rng, no, rng.choice(firms), "原告")
        court_.firm_party(FULL, rng, no, defendant, "被告")
        if defendant.legal_rep >= 0 and rng.random() < 0.15:
            court_.person_party(FULL, rng, no, world.persons[defendant.legal_rep], "被告")
        if rng.random() < 0.1 and filed < date(2025, 6, 1):
            exe = court_.add_case(
                FULL,
                rng,
                county,
                filed + timedelta(days=rng.randint(200, 400)),
                "执行",
                amount,
                kind="执",
            )
            court_.firm_party(FULL, rng, exe, defendant, "被执行人")
            court_.person_party(FULL, rng, exe, world.persons[world.people.pick(rng)], "申请执行人")


def scheme_suits(
    world: World,
    court_: Court,
    scheme: Scheme,
    delivery: str,
    start: date,
    end: date,
    n_plaintiffs: int,
) -> None:
    """A wave of 民间借贷 suits by distinct natural persons against the core (and its people)."""
    rng = world.ctx.rng(f"court:{scheme.sid}:{delivery}")
    core = world.firms[scheme.core]
    county = court_.court_of(core.county, rng)
    plaintiffs = [p for p in scheme.investors if p != scheme.controller][:n_plaintiffs]
    if delivery == INC:
        plaintiffs = scheme.investors[-n_plaintiffs:]
    i = 0
    while i < len(plaintiffs):
        group = plaintiffs[i : i + (1 if rng.random() < 0.8 else rng.randint(2, 3))]
        i += len(group)
        filed = random_date(rng, start, end)
        cause = "民间借贷纠纷" if rng.random() < 0.8 else "借款合同纠纷"
        amount = round(rng.uniform(2e4, 8e5) * len(group), 2)
        status = (
            "已立案"
            if (FULL_DELIVERY - filed).days < 40
            else rng.choice(("审理中", "审理中", "已结案"))
        )
        no = court_.add_case(
            delivery, rng, county, filed, cause, amount, status=status, protect=True
        )
        for pidx in group:
            person = world.persons[pidx]
            court_.person_party(delivery, rng, no, person, "原告", protect=True)
            region = court_.reg.get(person.pid[:6])
            if region is not None and region.level == 3:
                scheme.investor_regions.add(region.code)
        court_.firm_party(delivery, rng, no, core, "被告", protect=True)
        if rng.random() < 0.5:
            who = core.legal_rep if core.legal_rep >= 0 else scheme.controller
            court_.person_party(delivery, rng, no, world.persons[who], "被告", protect=True)
        if len(scheme.members) > 1 and rng.random() < 0.08:
            guarantor = world.firms[rng.choice(scheme.members[1:])]
            court_.firm_party(delivery, rng, no, guarantor, "被告", protect=True)


def scheme_cases(world: World, court_: Court) -> None:
    """Suits for each scheme by stage; late schemes get more in the increment."""
    rng = world.ctx.rng("court:schemes")
    for scheme in world.schemes:
        if scheme.stage == "late":
            end = min(
                scheme.collapse + timedelta(days=rng.randint(60, 150)),
                FULL_DELIVERY - timedelta(days=1),
            )
            n = max(8, int(len(scheme.investors) * rng.uniform(0.4, 0.8)))
            scheme_suits(world, court_, scheme, FULL, scheme.collapse, end, n)
            scheme_suits(
                world,
                court_,
                scheme,
                INC,
                FULL_DELIVERY + timedelta(days=1),
                INC_DELIVERY - timedelta(days=1),
                rng.randint(2, 6),
            )
            if rng.random() < 0.25:
                _criminal(world, court_, scheme, rng)
        elif scheme.stage == "middle" and rng.random() < 0.35 and scheme.investors:
            start = FULL_DELIVERY - timedelta(days=240)
            scheme_suits(
                world,
                court_,
                scheme,
                FULL,
                start,
                FULL_DELIVERY - timedelta(days=5),
                rng.randint(1, 2),
            )


def _criminal(world: World, court_: Court, scheme: Scheme, rng: random.Random) -> None:
    core = world.firms[scheme.core]
    county = court_.court_of(core.county, rng)
    filed = min(
        scheme.collapse + timedelta(days=rng.randint(90, 200)), FULL_DELIVERY - timedelta(days=3)
    )
    cause = "非法吸收公众存款罪" if rng.random() < 0.7 else "集资诈骗罪"
    no = court_.add_case(
        FULL, rng, county, filed, cause, None, kind="刑初", status="审理中", protect=True
    )
    court_.firm_party(FULL, rng, no, core, "被告人", protect=True)
    court_.person_party(FULL, rng, no, world.persons[scheme.controller], "被告人", protect=True)


def increment_updates(world: World, court_: Court) -> None:
    """New ordinary suits, and status changes of delivered cases (re-delivered in full)."""
    rng = world.ctx.rng("court:increment")
    firms = [f for f in world.firms if f.delivery == FULL and "isolated" not in f.tags]
    for _ in range(world.ctx.n(30)):
        defendant = rng.choice(firms)
        filed = random_date(
            rng, FULL_DELIVERY + timedelta(days=1), INC_DELIVERY - timedelta(days=1)
        )
        cause = rng.choices(_CAUSES[:6], _CAUSE_W[:6])[0]
        no = court_.add_case(
            INC,
            rng,
            court_.court_of(defendant.county, rng),
            filed,
            cause,
            round(rng.lognormvariate(11, 1.1), 2),
            status="已立案",
        )
        court_.firm_party(INC, rng, no, rng.choice(firms), "原告")
        court_.firm_party(INC, rng, no, defendant, "被告")
    open_cases = [r for r in world.rows("案件信息", FULL) if r["案件状态"] in ("审理中", "已立案")]
    for row in rng.sample(open_cases, min(len(open_cases), world.ctx.n(20))):
        new = dict(row)
        new["案件状态"] = "已结案"
        filed_on = row["立案日期"]
        assert isinstance(filed_on, date)
        new["结案日期"] = random_date(
            rng, max(filed_on, FULL_DELIVERY), INC_DELIVERY - timedelta(days=1)
        )
        new["_p"] = True
        world.add("案件信息", INC, new)
