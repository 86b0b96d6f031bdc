"""Roles of riskgraph, as data: who sees which counties, names, police and credit facts.

Five roles (``shared/spec/product.md``):

* ``city``    — the leading group / city office (市处非办): every county, aggregates and cases,
  names, police and credit details; may export, issue cross-region hand-off packages and
  advance their status, and pass city-level clues down to a county's ledger (市级交办). It
  reads every county's risk ledger but does not edit county entries: under 属地管理 the county
  answers for its territory and keeps its own ledger (``product.md``: the county office keeps
  "its own risk ledger … the clues the city passes down"; the leading group sees progress and
  drills down).
* ``county``  — a county office (县区处非办): one or several counties (属地管理), names of its
  own territory, no police/credit details; may export and edit its risk ledger.
* ``sector``  — a sector regulator (行业主管部门): its sector across the city, names masked, no
  police/credit details, no export.
* ``analyst`` — 经侦 / 金融监管 analysts: city-wide search and network, names, police and credit;
  may export an evidence dossier.
* ``admin``   — user and audit administration; no case data by default (an empty scope).

Each role is a :class:`Role`; the dashboards' :class:`~dashboards.scope.Scope` is derived from
it by :func:`security.scope.scope_for`. Sectors are the supervising-department table of
``source-formats.md`` (:data:`analytics.sectors.SECTORS`); users store the sector's Chinese
name because that is what ScoreRecords carry (``ScoreRecord.sector``).
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.sectors import SECTORS
from riskgraph.divisions import divisions
from riskgraph.errors import UsageError


@dataclass(frozen=True)
class Role:
    """What one role may see and do."""

    name: str
    zh: str
    scope_role: str
    """The role name the dashboards' Scope uses (``admin`` maps to ``operator``)."""
    all_counties: bool
    """True: the whole city; False: only the user's own ``counties``."""
    needs_counties: bool
    needs_sector: bool
    case_data: bool
    """False: no enterprise/person data at all (the scope is empty)."""
    see_names: bool
    """Natural-person names unmasked (citizen IDs are always masked, for every role)."""
    see_police_credit: bool
    may_export: bool
    may_handoff: bool
    """May issue cross-region hand-off packages (跨区域移交)."""
    may_edit_ledger: bool
    """May edit entries (fields, status) of the risk ledgers of the role's own counties."""
    may_pass_down: bool = False
    """May pass a city-level clue down to a county's ledger (市级交办)."""
    may_manage_users: bool = False
    may_read_audit: bool = False


ROLES: dict[str, Role] = {
    "city": Role("city", "市领导小组/市处非办", "city", all_counties=True, needs_counties=False,
                 needs_sector=False, case_data=True, see_names=True, see_police_credit=True,
                 may_export=True, may_handoff=True, may_edit_ledger=False,
                 may_pass_down=True),
    "county": Role("county", "县区处非办", "county", all_counties=False, needs_counties=True,
                   needs_sector=False, case_data=True, see_names=True, see_police_credit=False,
                   may_export=True, may_handoff=False, may_edit_ledger=True),
    "sector": Role("sector", "行业主管部门", "sector", all_counties=True, needs_counties=False,
                   needs_sector=True, case_data=True, see_names=False, see_police_credit=False,
                   may_export=False, may_handoff=False, may_edit_ledger=False),
    "analyst": Role("analyst", "分析研判人员", "analyst", all_counties=True,
                    needs_counties=False, needs_sector=False, case_data=True, see_names=True,
                    see_police_credit=True, may_export=True, may_handoff=False,
                    may_edit_ledger=False),
    "admin": Role("admin", "系统管理员", "operator", all_counties=False, needs_counties=False,
                  needs_sector=False, case_data=False, see_names=False, see_police_credit=False,
                  may_export=False, may_handoff=False, may_edit_ledger=False,
                  may_manage_users=True, may_read_audit=True),
}


def role(name: str) -> Role:
    """The role called ``name``; a :class:`UsageError` (exit 2) when there is none."""
    found = ROLES.get(name)
    if found is None:
        raise UsageError(f"unknown role {name!r}", f"use one of: {', '.join(ROLES)}")
    return found


def sector_names() -> tuple[str, ...]:
    """The Chinese names of the key sectors (as ScoreRecords carry them)."""
    return tuple(s.zh for s in SECTORS)


def resolve_sector(text: str) -> str:
    """A sector id (``elderly``), Chinese name (``养老机构``) or department (``民政部门``) → the
    sector's Chinese name; a :class:`UsageError` when it is none of them."""
    value = (text or "").strip()
    for sector in SECTORS:
        if value in (sector.id, sector.zh, sector.department):
            return sector.zh
    listing = ", ".join(f"{s.id} ({s.zh})" for s in SECTORS)
    raise UsageError(f"unknown sector {text!r}", f"use one of: {listing}")


def resolve_counties(codes: tuple[str, ...] | list[str], city: str) -> tuple[str, ...]:
    """Validate county codes against the city's counties (incl. development zones); keeps
    the given order, drops duplicates; a :class:`UsageError` for a code outside the city."""
    allowed = {d.code for d in divisions().counties(city)}
    out: list[str] = []
    for raw in codes:
        code = (raw or "").strip()
        if code not in allowed:
            raise UsageError(f"{raw!r} is not a county of city {city}",
                             "use a six-digit county code of RISKGRAPH_CITY (GB/T 2260)")
        if code not in out:
            out.append(code)
    return tuple(out)


def check_assignment(role_name: str, counties: tuple[str, ...], sector: str | None,
                     city: str) -> tuple[Role, tuple[str, ...], str | None]:
    """Validate a role with its counties and sector; returns the normalised triple."""
    spec = role(role_name)
    resolved = resolve_counties(counties, city) if counties else ()
    if spec.needs_counties and not resolved:
        raise UsageError(f"role {role_name!r} needs at least one --county",
                         "add --county CODE (repeatable)")
    if not spec.needs_counties and resolved:
        raise UsageError(f"role {role_name!r} does not take --county",
                         "only the county role is limited to counties")
    sector_zh = resolve_sector(sector) if sector else None
    if spec.needs_sector and sector_zh is None:
        raise UsageError(f"role {role_name!r} needs --sector", "add --sector SECTOR")
    if not spec.needs_sector and sector_zh is not None:
        raise UsageError(f"role {role_name!r} does not take --sector",
                         "only the sector role is limited to a sector")
    return spec, resolved, sector_zh
