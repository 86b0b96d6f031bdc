"""The scope of a signed-in user, and checks any data function can apply.

:func:`scope_for` turns a :class:`~security.users.User` into the dashboards'
:class:`dashboards.scope.Scope` (the one Scope type of the app; the data layer applies it in
Cypher). The helpers here are the second line of defence, for data that did not come through a
scoped query or that must be shown partially:

* :func:`check_county` / :func:`in_scope` — is a county (and sector) inside the scope;
* :func:`filter_rows` — keep only rows (dicts or a DataFrame) inside the scope; rows without a
  county are dropped for county-limited scopes (fail closed);
* :func:`mask_node` — a network node as the scope may see it: out-of-scope enterprises become
  ``外县企业``, persons living elsewhere ``外县人员``, addresses ``外县地址``, police/credit
  nodes ``受限信息`` — element id and hop kept so the paths stay visible without details;
* :func:`mask_explanation` — a score explanation with out-of-scope path nodes replaced by the same
  placeholders and police/credit indicators folded into one ``restricted`` line;
* :func:`mask_group` — the cross-region rule: a group touching a county is visible to it as a
  group (regions involved, member firms' names and codes, lead region), but with no personal
  data and no evidence (scores, reasons, explanations) about other counties' members.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, overload

import pandas as pd

from dashboards.scope import Scope
from riskgraph.errors import RejectedError
from security import masking
from security.roles import role as role_of
from security.users import User

OUT_ENTERPRISE = "外县企业"
OUT_PERSON = "外县人员"
OUT_ADDRESS = "外县地址"
OUT_SECTOR = "行业外企业"
PERSON = "人员"
RESTRICTED = masking.RESTRICTED_PLACEHOLDER
PERSON_LABELS = ("Person", "Party")
MEMBER_PUBLIC_FIELDS = ("uscc", "name", "county", "group_id")
"""What a touching county sees of another county's group member: the firm, not the evidence."""

R = TypeVar("R", bound=Mapping[str, Any])


class AccessDenied(RejectedError):
    """The signed-in user's scope does not cover what was asked for."""


def scope_for(user: User) -> Scope:
    """The dashboards' Scope of ``user``'s role. An administrator (no case data) gets an empty
    county list, which matches nothing; a county user without counties likewise. A disabled
    account raises :class:`AccessDenied`."""
    if user.disabled:
        raise AccessDenied(f"account {user.username!r} is disabled")
    spec = role_of(user.role)
    if not spec.case_data:
        return Scope(spec.scope_role, (), None, False, False)
    counties = None if spec.all_counties else tuple(user.counties)
    sector = user.sector if spec.needs_sector else None
    return Scope(spec.scope_role, counties, sector, spec.see_names, spec.see_police_credit)


def in_scope(scope: Scope, county: str | None, sector: str | None = None) -> bool:
    """True when a county (and, for sector scopes, the sector) lies inside the scope."""
    if not scope.sees_county(county):
        return False
    return scope.sector is None or sector is None or sector == scope.sector


def check_county(scope: Scope, county: str | None) -> None:
    """Raise :class:`AccessDenied` unless ``county`` lies inside the scope."""
    if not scope.sees_county(county):
        raise AccessDenied(f"county {county!r} is outside your scope",
                           "ask the city office (市处非办) for this county's data")


@overload
def filter_rows(scope: Scope, rows: pd.DataFrame, *, county_key: str = ...,
                sector_key: str = ...) -> pd.DataFrame: ...


@overload
def filter_rows(scope: Scope, rows: Iterable[R], *, county_key: str = ...,
                sector_key: str = ...) -> list[R]: ...


def filter_rows(scope: Scope, rows: pd.DataFrame | Iterable[R], *, county_key: str = "county",
                sector_key: str = "sector") -> pd.DataFrame | list[R]:
    """Only the rows inside the scope. County-limited scopes drop rows without a county; a
    sector scope drops rows of other sectors and rows without one (fail closed)."""
    def keep(county: Any, sector: Any) -> bool:
        if not scope.sees_county(None if _missing(county) else str(county)):
            return False
        if scope.sector is not None:
            return not _missing(sector) and str(sector) == scope.sector
        return True

    if isinstance(rows, pd.DataFrame):
        if rows.empty:
            return rows.copy()
        counties = rows[county_key] if county_key in rows else pd.Series([None] * len(rows),
                                                                          index=rows.index)
        sectors = rows[sector_key] if sector_key in rows else pd.Series([None] * len(rows),
                                                                        index=rows.index)
        mask = [keep(c, s) for c, s in zip(counties, sectors, strict=True)]
        return rows[mask].reset_index(drop=True)
    return [r for r in rows if keep(r.get(county_key), r.get(sector_key))]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _placeholder(node: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A node stripped to its place in the graph: id, label, hop, county; no key, no details."""
    out = {"id": node.get("id"), "label": node.get("label"), "key": None, "name": name,
           "visible": False, "hop": node.get("hop")}
    if node.get("label") in ("Enterprise", "Address"):
        out["county"] = node.get("county")
    return out


def mask_node(scope: Scope, node: Mapping[str, Any], *, anchored: bool = False
              ) -> dict[str, Any]:
    """``node`` (a dict with ``label`` and the node's properties, e.g. a node of
    :class:`dashboards.data.Network`) as the scope may see it.

    ``anchored`` says the node is a person reached from an in-scope enterprise (its officer or
    shareholder): such a person is shown (masked per role) even when living elsewhere.
    """
    label = node.get("label")
    if node.get("visible") is False:
        return _placeholder(node, _OUT_NAME.get(str(label), OUT_ENTERPRISE))
    if label == "Enterprise":
        if not scope.sees_county(node.get("county")):
            return _placeholder(node, OUT_ENTERPRISE)
        if scope.sector is not None and "sector" in node and node.get("sector") != scope.sector:
            return _placeholder(node, OUT_SECTOR)
        return masking.mask_enterprise(scope, node)
    if label in PERSON_LABELS:
        region = node.get("region")
        if scope.counties is not None and not anchored and not scope.sees_county(region):
            return _placeholder(node, OUT_PERSON)
        out = masking.mask_person(scope, node)
        if not scope.can_see_persons:
            out["key"] = None
            for key in ("pid", "party_id"):
                out.pop(key, None)
        return out
    if masking.is_restricted_node(str(label)):
        if not scope.can_see_police_credit:
            return _placeholder(node, RESTRICTED)
        return dict(node)
    if label == "Address" and not scope.sees_county(node.get("county")):
        return _placeholder(node, OUT_ADDRESS)
    if label == "Phone":
        out = dict(node)
        for key in ("name", "number", "key"):
            if isinstance(out.get(key), str):
                out[key] = masking.mask_phone(scope, out[key])
        return out
    return {k: masking.mask_ids_in_text(v) if isinstance(v, str) else v for k, v in node.items()}


_OUT_NAME = {"Enterprise": OUT_ENTERPRISE, "Person": OUT_PERSON, "Party": OUT_PERSON,
             "Address": OUT_ADDRESS}


def _path_token(scope: Scope, key: str, label: str | None,
                info: Mapping[str, Any] | None) -> str:
    """What to show for one node key of an explanation path."""
    label = (info or {}).get("label") or label
    if label == "Enterprise":
        county = (info or {}).get("county")
        if scope.counties is not None and (county is None or not scope.sees_county(county)):
            return OUT_ENTERPRISE
        return key
    if label in PERSON_LABELS or key.startswith(("P:", "N:", "X:")):
        region = (info or {}).get("region")
        if scope.counties is not None and (region is None or not scope.sees_county(region)):
            return OUT_PERSON
        return key if scope.can_see_persons else PERSON
    if masking.is_restricted_node(label) and not scope.can_see_police_credit:
        return RESTRICTED
    return key


def mask_explanation(scope: Scope, explanation: Mapping[str, Any],
                     nodes: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A parsed score explanation (``dashboards.data.explanation_of``) as the scope may see it.

    ``nodes`` maps path node keys to ``{"label", "county"}`` (enterprises) or ``{"label",
    "region"}`` (persons); keys it does not cover are treated as outside a county-limited scope
    (fail closed). Police/credit indicators are folded into one line ``{"id": "restricted"}``
    carrying their summed contribution (the score stays explained, the facts do not leak).
    """
    nodes = nodes or {}
    indicators: list[dict[str, Any]] = []
    hidden = 0.0
    hidden_count = 0
    for ind in explanation.get("indicators") or []:
        if masking.is_restricted_indicator(ind) and not scope.can_see_police_credit:
            hidden += float(ind.get("contribution") or 0)
            hidden_count += 1
            continue
        indicators.append({k: masking.mask_ids_in_text(v) if isinstance(v, str) else v
                           for k, v in ind.items()})
    if hidden_count:
        indicators.append({"id": "restricted", "source": RESTRICTED, "delivery": None,
                           "value": None, "contribution": round(hidden, 2),
                           "count": hidden_count})
    paths = []
    for path in explanation.get("paths") or []:
        keys: Sequence[str] = [str(k) for k in path.get("nodes") or []]
        labels: Sequence[Any] = list(path.get("labels") or [])
        tokens = [_path_token(scope, k, labels[i] if i < len(labels) else None, nodes.get(k))
                  for i, k in enumerate(keys)]
        start = path.get("from")
        start_token = (_path_token(scope, str(start), "Enterprise", nodes.get(str(start)))
                       if start else start)
        paths.append({**path, "nodes": tokens, "from": start_token,
                      "masked": tokens != list(keys) or start_token != start})
    return {**explanation, "indicators": indicators, "paths": paths,
            "masked": hidden_count > 0 or any(p["masked"] for p in paths)}


def group_visible(scope: Scope, group: Mapping[str, Any]) -> bool:
    """A group is visible to a scope that covers any of its counties (the whole city sees all)."""
    if scope.counties is None:
        return True
    return any(scope.sees_county(c) for c in (group.get("counties") or []))


def mask_group(scope: Scope, group: Mapping[str, Any],
               members: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any] | None:
    """The cross-region rule. None when the group does not touch the scope. Otherwise the
    group facts (regions, lead region, member count, score) and its members: in-scope members
    in full (persons masked per role), other counties' members only as firm name, code and
    county — no scores, reasons, persons or evidence. The controller (a person) is shown only to
    city-wide scopes, masked unless names may be seen."""
    if not group_visible(scope, group):
        return None
    out = {k: v for k, v in group.items() if k != "controller"}
    controller = group.get("controller")
    if controller and scope.counties is None:
        out["controller"] = masking.mask_person_name(scope, str(controller))
    else:
        out["controller"] = None
    shown = []
    for member in members:
        if scope.sees_county(member.get("county")):
            shown.append({**masking.mask_enterprise(scope, member), "visible": True})
        else:
            shown.append({**{k: member.get(k) for k in MEMBER_PUBLIC_FIELDS if k in member},
                          "visible": False})
    out["member_list"] = shown
    return out
