"""Police data (涉案线索, 涉案主体): clues on late schemes, checks on some middle ones, and a
few unrelated economic-crime clues (some withdrawn) on ordinary firms."""

from __future__ import annotations

import random
from datetime import date, timedelta

from demo.firms import random_date
from demo.model import FULL_DELIVERY, INC_DELIVERY, Firm, Scheme
from demo.places import police_unit
from demo.world import FULL, INC, World
from riskgraph.divisions import divisions


class Police:
    """Numbers clues and writes clue and subject rows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.seq = 0
        self.reg = divisions()

    def clue_no(self, accepted: date) -> str:
        self.seq += 1
        return f"JZ{self.world.ctx.city}{accepted.year}{self.seq:05d}"

    def regions_text(self, codes: list[str], rng: random.Random) -> str:
        """涉及地区: codes or names, separated by ';' or '、'."""
        parts = []
        for code in codes:
            r = rng.random()
            if r < 0.5:
                parts.append(code)
            elif r < 0.8:
                parts.append(self.reg.name(code))
            else:
                parts.append(self.reg.name(code[:4] + "00") + self.reg.name(code))
        return rng.choice((";", "、", "；")).join(parts)

    def add_clue(
        self,
        delivery: str,
        rng: random.Random,
        no: str,
        title: str,
        crime: str,
        accepted: date,
        filed: date | None,
        status: str,
        amount: float | None,
        investors: int | None,
        regions: list[str],
        county: str,
        protect: bool,
    ) -> dict[str, object]:
        div = self.reg.get(county) or self.world.ctx.counties[0]
        row: dict[str, object] = {
            "线索编号": no,
            "线索名称": title,
            "涉嫌罪名": crime,
            "受理日期": accepted,
            "立案日期": filed,
            "状态": status,
            "涉案金额": amount,
            "集资参与人数": investors,
            "涉及地区": self.regions_text(regions, rng),
            "_regions": regions,
            "承办单位": police_unit(div, city_level=len(regions) > 2),
            "_p": protect,
        }
        self.world.add("涉案线索", delivery, row)
        return row

    def subject_firm(
        self, delivery: str, no: str, firm: Firm, role: str, rng: random.Random
    ) -> None:
        self.world.add(
            "涉案主体",
            delivery,
            {
                "线索编号": no,
                "主体名称": firm.name,
                "主体类型": "单位",
                "证件号码": firm.code if rng.random() < 0.8 else None,
                "涉案角色": role,
                "_parent": no,
                "_p": True,
            },
        )

    def subject_person(self, delivery: str, no: str, pidx: int, role: str) -> None:
        person = self.world.persons[pidx]
        self.world.add(
            "涉案主体",
            delivery,
            {
                "线索编号": no,
                "主体名称": person.name,
                "主体类型": "个人",
                "证件号码": person.pid,
                "涉案角色": role,
                "_parent": no,
                "_p": True,
            },
        )


def _title(firm: Firm, crime: str) -> str:
    return f"{firm.name}涉嫌{crime}案"


def scheme_clues(world: World, police: Police) -> None:
    """Late schemes: a clue naming the core, its controller and some periphery firms."""
    rng = world.ctx.rng("police:schemes")
    for scheme in world.schemes:
        if scheme.stage == "late" and rng.random() < 0.9:
            _scheme_clue(world, police, scheme, rng, FULL, late=True)
        elif scheme.stage == "middle" and rng.random() < 0.25:
            _scheme_clue(world, police, scheme, rng, FULL, late=False)


def _scheme_clue(
    world: World, police: Police, scheme: Scheme, rng: random.Random, delivery: str, late: bool
) -> str:
    core = world.firms[scheme.core]
    crime = (
        "集资诈骗"
        if scheme.typology in ("p2p", "private_fund") and rng.random() < 0.4
        else "非法吸收公众存款"
    )
    if late:
        accepted = min(
            scheme.collapse + timedelta(days=rng.randint(10, 90)),
            FULL_DELIVERY - timedelta(days=10),
        )
        status = rng.choice(("已立案", "已立案", "侦查终结", "移送起诉"))
        filed: date | None = accepted + timedelta(days=rng.randint(3, 8))
        amount = round(len(scheme.investors) * rng.uniform(8, 40), 2)
        investors = int(len(scheme.investors) * rng.uniform(1.5, 6))
        regions = scheme.police_regions or [core.county]
    else:
        accepted = random_date(
            rng, FULL_DELIVERY - timedelta(days=150), FULL_DELIVERY - timedelta(days=5)
        )
        status, filed, amount, investors = "线索核查", None, None, None
        regions = [core.county]
    if delivery == INC:
        accepted = random_date(
            rng, FULL_DELIVERY + timedelta(days=1), INC_DELIVERY - timedelta(days=2)
        )
        filed = None
        status = "线索核查"
    no = police.clue_no(accepted)
    police.add_clue(
        delivery,
        rng,
        no,
        _title(core, crime),
        crime,
        accepted,
        filed,
        status,
        amount,
        investors,
        regions,
        core.county,
        protect=True,
    )
    police.subject_firm(delivery, no, core, "嫌疑单位", rng)
    police.subject_person(delivery, no, scheme.controller, "犯罪嫌疑人")
    if core.legal_rep >= 0 and core.legal_rep != scheme.controller:
        police.subject_person(delivery, no, core.legal_rep, rng.choice(("犯罪嫌疑人", "关联人员")))
    if late:
        for member in scheme.members[1:]:
            if rng.random() < 0.4:
                police.subject_firm(delivery, no, world.firms[member], "关联单位", rng)
    return no


def background_clues(world: World, police: Police) -> None:
    """Unrelated economic-crime clues; some withdrawn, some about legitimate firms."""
    rng = world.ctx.rng("police:background")
    firms = [
        f
        for f in world.firms
        if f.delivery == FULL
        and f.scheme < 0
        and "isolated" not in f.tags
        and f.county[:4] == world.ctx.city[:4]
    ]
    for _ in range(world.ctx.n(12)):
        firm = rng.choice(firms)
        accepted = random_date(rng, date(2024, 1, 1), FULL_DELIVERY - timedelta(days=10))
        status = rng.choice(("撤案", "撤案", "线索核查", "已立案", "侦查终结"))
        filed = (
            accepted + timedelta(days=rng.randint(5, 60))
            if status in ("已立案", "侦查终结")
            else None
        )
        if filed and filed >= FULL_DELIVERY:
            filed, status = None, "线索核查"
        crime = rng.choice(("其他", "其他", "组织、领导传销活动", "非法吸收公众存款"))
        no = police.clue_no(accepted)
        police.add_clue(
            FULL,
            rng,
            no,
            _title(firm, "合同诈骗" if crime == "其他" else crime),
            crime,
            accepted,
            filed,
            status,
            round(rng.uniform(10, 500), 2),
            None,
            [firm.county],
            firm.county,
            protect=False,
        )
        police.subject_firm(FULL, no, firm, "嫌疑单位" if status != "撤案" else "关联单位", rng)
        if firm.legal_rep >= 0:
            police.subject_person(FULL, no, firm.legal_rep, "关联人员")
        firm.hard_negative = True


def increment_clues(world: World, police: Police) -> None:
    """A status change of a delivered clue (re-delivered in full) and one new clue."""
    rng = world.ctx.rng("police:increment")
    delivered = [r for r in world.rows("涉案线索", FULL) if r["状态"] in ("已立案", "线索核查")]
    for row in rng.sample(delivered, min(len(delivered), max(1, world.ctx.n(3)))):
        new = dict(row)
        if row["状态"] == "线索核查":
            new["状态"] = "已立案"
            new["立案日期"] = random_date(
                rng, FULL_DELIVERY + timedelta(days=1), INC_DELIVERY - timedelta(days=1)
            )
        else:
            new["状态"] = "侦查终结"
        new["_p"] = True
        world.add("涉案线索", INC, new)
    without = [
        s
        for s in world.schemes
        if s.stage == "late"
        and not any(
            r["线索名称"] == _title(world.firms[s.core], "非法吸收公众存款")
            or r["线索名称"] == _title(world.firms[s.core], "集资诈骗")
            for r in world.rows("涉案线索", FULL)
        )
    ]
    candidates = without or [s for s in world.schemes if s.stage == "middle"]
    if candidates:
        _scheme_clue(world, police, rng.choice(candidates), rng, INC, late=False)
