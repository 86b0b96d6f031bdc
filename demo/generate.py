"""``riskgraph demo generate``: build the demo city and write its inbox and truth folder.

Two deliveries: a full snapshot of every source (``inbox/20261031/<source>/*_全量.*``) and an
increment (``inbox/20261115/<source>/*_增量.*``) with new suits, clues, tips, listings and
alerts, a new scheme member, cancellations (注销) and status changes. Same seed and arguments give
identical bytes.
"""

from __future__ import annotations

import gc
import shutil
from dataclasses import dataclass
from pathlib import Path

from demo.bank import all_money
from demo.court import Court, background_cases, increment_updates, scheme_cases
from demo.credit import Credit, background_credit, increment_credit, scheme_credit
from demo.firms import FirmFactory
from demo.ids import IdFactory
from demo.model import FULL_DELIVERY, INC_DELIVERY, make_context
from demo.people import People
from demo.police import Police, background_clues, increment_clues, scheme_clues
from demo.population import build_hard_negatives, build_population
from demo.registry_rows import (
    branch_rows,
    change_rows,
    enterprise_rows,
    officer_rows,
    shareholder_rows,
)
from demo.schemes import add_increment_member, plant_schemes
from demo.tables import (
    ADS,
    ALERTS,
    BRANCHES,
    CASES,
    CHANGES,
    CLUES,
    ENTERPRISE,
    FLOWS,
    LISTINGS,
    OFFICERS,
    PARTIES,
    REPORTS,
    SHAREHOLDERS,
    SUBJECTS,
    TAX_RETURNS,
    TAXPAYERS,
    TIPS,
    Table,
)
from demo.tax_rows import tax_rows
from demo.tips_ads import all_ads, all_tips
from demo.truth import write_truth
from demo.world import FULL, INC, World
from demo.writers import Renderer, Truth, write_csv, write_xlsx
from riskgraph.divisions import divisions
from riskgraph.errors import UsageError

PREFIX = {
    "registration": "市场监管",
    "tax": "税务",
    "credit": "人民银行征信",
    "court": "法院",
    "police": "公安经侦",
    "tips": "处非办",
    "bank": "金融机构",
    "ads": "广告监测中心",
}
# (source, file label, tables, format / encoding of the full snapshot)
FILES: tuple[tuple[str, str, tuple[Table, ...], str], ...] = (
    ("registration", "企业基本信息", (ENTERPRISE,), "utf-8-sig"),
    ("registration", "股东及出资信息", (SHAREHOLDERS,), "gbk"),
    ("registration", "主要人员", (OFFICERS,), "utf-8"),
    ("registration", "变更记录", (CHANGES,), "gb18030"),
    ("registration", "分支机构", (BRANCHES,), "gbk"),
    ("tax", "纳税人信息", (TAXPAYERS,), "gb18030"),
    ("tax", "申报汇总", (TAX_RETURNS,), "gbk"),
    ("credit", "信用数据", (LISTINGS, REPORTS), "xlsx"),
    ("court", "案件信息", (CASES,), "gbk"),
    ("court", "当事人", (PARTIES,), "utf-8-sig"),
    ("police", "涉案线索", (CLUES,), "xlsx"),
    ("police", "涉案主体", (SUBJECTS,), "xlsx"),
    ("tips", "举报线索", (TIPS,), "gb18030"),
    ("bank", "账户异动", (ALERTS,), "utf-8-sig"),
    ("bank", "资金往来汇总", (FLOWS,), "utf-8"),
    ("ads", "广告监测", (ADS,), "xlsx"),
)
CHILD_OF = {"当事人": "案件信息", "涉案主体": "涉案线索"}
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")


@dataclass
class Summary:
    """What one generation produced."""

    out: Path
    files: list[Path]
    rows: int
    counts: dict[str, object]
    enterprises: int
    persons: int
    schemes: int


def build_world(city: str, scale: float, seed: int) -> World:
    """Population, hard negatives, schemes, and every source's event rows."""
    ctx = make_context(city, scale, seed)
    people = People(ctx, IdFactory(ctx.rng("ids")))
    people.populate(ctx.n(30000 * 0.85, 50))
    factory = FirmFactory(ctx, people.ids, people)
    world = World(ctx=ctx, people=people, factory=factory)
    build_population(factory, ctx.n(20000 * 0.94, 40))
    build_hard_negatives(factory)
    world.schemes = plant_schemes(factory, people)
    add_increment_member(factory, world.schemes)
    _new_firms_and_cancellations(world)
    court = Court(world)
    background_cases(world, court, ctx.n(0.06 * 20000))
    scheme_cases(world, court)
    increment_updates(world, court)
    credit = Credit(world)
    background_credit(world, credit)
    scheme_credit(world, credit)
    increment_credit(world, credit)
    police = Police(world)
    scheme_clues(world, police)
    background_clues(world, police)
    increment_clues(world, police)
    all_tips(world)
    all_ads(world)
    all_money(world)
    return world


def _new_firms_and_cancellations(world: World) -> None:
    """Firms registered after the snapshot, and firms cancelled (注销) since."""
    rng = world.ctx.rng("increment_registry")
    factory = world.factory
    for _ in range(world.ctx.n(15)):
        firm = factory.create(rng, "company", founded=INC_DELIVERY.replace(day=rng.randint(1, 12)))
        firm.status = "存续"
        if not firm.uscc:
            firm.uscc, firm.regno = factory.ids.uscc("91", firm.county, firm.founded), ""
        factory.staff(rng, firm, "company")
        firm.delivery = INC
    live = [
        f
        for f in world.firms
        if f.delivery == FULL
        and f.scheme < 0
        and f.status == "存续"
        and "isolated" not in f.tags
        and not f.tags & {"licensed", "group"}
    ]
    for firm in rng.sample(live, min(len(live), world.ctx.n(20))):
        world.status_change[firm.idx] = ("存续", "注销")
        firm.status = "注销"


def _table_rows(
    world: World, table: Table, delivery: str, cache: dict[str, list[dict[str, object]]]
) -> list[dict[str, object]]:
    name = table.name
    if name == "企业基本信息":
        return enterprise_rows(world, delivery)
    if name == "股东及出资信息":
        return shareholder_rows(world, delivery)
    if name == "主要人员":
        return officer_rows(world, delivery)
    if name == "变更记录":
        return change_rows(world, delivery)
    if name == "分支机构":
        return branch_rows(world, delivery)
    if name in ("纳税人信息", "申报汇总"):
        if delivery == INC:
            return []
        if name not in cache:
            cache["纳税人信息"], cache["申报汇总"] = tax_rows(world)
        return cache.pop(name)
    return world.rows(name, delivery)


def _encoding(world: World, planned: str, delivery: str, label: str) -> str:
    if planned == "xlsx":
        return "xlsx"
    enc = planned if delivery == FULL else world.ctx.rng(f"enc:{label}").choice(ENCODINGS)
    if enc == "gbk" and not _gbk_safe(world):
        return "gb18030"
    return enc


def _gbk_safe(world: World) -> bool:
    reg = divisions()
    names = [world.ctx.city_name] + [
        c.name for c in world.ctx.counties + world.ctx.neighbour_counties
    ]
    names += [reg.name(n.code) for n in world.ctx.neighbours]
    try:
        "".join(names).encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def write_inbox(world: World, out: Path, truth: Truth) -> list[Path]:
    """Render and write every file of both deliveries."""
    files: list[Path] = []
    province = world.ctx.city[:2]
    for delivery, day, kind in ((FULL, FULL_DELIVERY, "全量"), (INC, INC_DELIVERY, "增量")):
        stamp = f"{day:%Y%m%d}"
        cache: dict[str, list[dict[str, object]]] = {}
        bad_parents: dict[str, set[str]] = {}
        for source, label, tables, planned in FILES:
            fmt = _encoding(world, planned, delivery, label)
            ext = "xlsx" if fmt == "xlsx" else "csv"
            name = f"{PREFIX[source]}_{label}_{stamp}_{kind}.{ext}"
            renderer = Renderer(
                stamp,
                source,
                name,
                fmt == "xlsx",
                f"{world.ctx.seed}:{world.ctx.city}:{world.ctx.scale:g}:{name}",
                truth,
                province,
                duplicates=len(tables) == 1,
            )
            sheets = []
            for table in tables:
                rows = _table_rows(world, table, delivery, cache)
                parent = CHILD_OF.get(table.name)
                if parent and bad_parents.get(parent):
                    rows = [r for r in rows if r.get("_parent") not in bad_parents[parent]]
                if not rows:
                    continue
                header, rendered, bad = renderer.render(table, rows)
                bad_parents[table.name] = bad
                sheets.append((table.name, header, rendered))
            if not sheets:
                continue
            path = out / "inbox" / stamp / source / name
            if fmt == "xlsx":
                write_xlsx(path, sheets)
            else:
                crlf = renderer.rng.random() < 0.5
                write_csv(path, sheets[0][1], sheets[0][2], fmt, crlf)
            files.append(path)
    return files


def generate(out: Path, city: str, scale: float, seed: int) -> Summary:
    """Generate the demo city into ``out`` (``out/inbox`` and ``out/truth`` are replaced)."""
    if scale > 200:
        raise UsageError(f"--scale {scale} is too large", "use a scale of at most 200")
    collecting = gc.isenabled()
    gc.disable()  # millions of small rows: the cyclic collector would rescan them again and again
    try:
        world = build_world(city, scale, seed)
        for sub in ("inbox", "truth"):
            if (out / sub).exists():
                shutil.rmtree(out / sub)
        truth = Truth(person_ids={p.pid for p in world.persons})
        files = write_inbox(world, out, truth)
        counts = write_truth(world, truth, out / "truth")
    finally:
        if collecting:
            gc.enable()
    return Summary(
        out=out,
        files=files,
        rows=truth.rows_written,
        counts=counts,
        enterprises=len(world.firms),
        persons=len(world.persons),
        schemes=len(world.schemes),
    )
