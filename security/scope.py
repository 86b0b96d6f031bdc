"""The scope of a signed-in user, and checks any data function can apply.

:func:`scope_for` turns a :class:`~security.users.User` into the dashboards'
:class:`dashboards.scope.Scope` (the one Scope type of the app; the data layer applies it in
Cypher). The helpers here are the second line of defence, for data that did not come through a
scoped query or that must be shown partially:

* :func:`check_county` / :func:`in_scope` — is a county (and sector) inside the scope;
* :func:`filter_rows` — keep only rows (dicts or a DataFrame) inside the scope; rows without a
  county are dropped for county-limited scopes (fail closed);
* :func:`mask_node` — a network node as the scope may see it: out-of-scope enterprises become
  ``外县企业`` (other counties) or ``其他行业企业`` (other sectors, for sector scopes), persons
  outside the territory ``外县人员``, addresses ``外县地址``, police/credit nodes ``受限信息`` —
  element id and hop kept so the paths stay visible without details;
* :func:`mask_explanation` — a score explanation with out-of-scope path nodes replaced by the same
  placeholders and police/credit indicators folded into one ``restricted`` line;
  :func:`render_explanation` renders it in words (``analytics.explain.render``) by the same rules;
* :func:`mask_group` — the cross-region rule: a group touching a county is visible to it as a
  group (regions involved, member firms' names and codes, lead region), but with no personal
  data and no evidence (scores, reasons, explanations) about other counties' members.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
OUT_SECTOR = "其他行业企业"
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


def placeholder_name(scope: Scope, label: str | None, *, county: str | None = None,
                     in_counties: bool | None = None) -> str:
    """The placeholder text of a node outside the scope. Enterprises: 外县企业 when outside
    the scope's counties, 其他行业企业 when inside them but of another sector (sector scopes);
    persons and parties 外县人员; addresses 外县地址; police/credit nodes 受限信息."""
    if label == "Enterprise":
        inside = in_counties if in_counties is not None else (
            scope.counties is None or scope.sees_county(county))
        return OUT_SECTOR if inside and scope.sector is not None else OUT_ENTERPRISE
    if label in PERSON_LABELS:
        return OUT_PERSON
    if label == "Address":
        return OUT_ADDRESS
    if masking.is_restricted_node(label):
        return RESTRICTED
    return OUT_ENTERPRISE


PLACEHOLDERS = (OUT_ENTERPRISE, OUT_SECTOR, OUT_PERSON, OUT_ADDRESS, PERSON, RESTRICTED)
"""Every placeholder text (the app translates them: ``dashboards.i18n`` ``placeholder.*``)."""


def _placeholder(scope: Scope, node: Mapping[str, Any]) -> dict[str, Any]:
    """A node stripped to its place in the graph: id, label, hop, county (enterprises and
    addresses); no key, name, score, level or other details."""
    label = node.get("label")
    out = {"id": node.get("id"), "label": label, "key": None,
           "name": placeholder_name(scope, None if label is None else str(label),
                                    county=node.get("county")),
           "visible": False, "hop": node.get("hop")}
    if label in ("Enterprise", "Address"):
        out["county"] = node.get("county")
    return out


def mask_node(scope: Scope, node: Mapping[str, Any]) -> dict[str, Any]:
    """``node`` (a dict with ``label`` and the node's properties, e.g. a node of
    :class:`dashboards.data.Network`) as the scope may see it.

    A node the data layer marked ``visible = False`` is a placeholder. Without that mark the
    rules are applied here (fail closed): an enterprise outside the counties or (when the node
    carries ``sector``) the sector; a person or party whose ``region`` lies outside the
    counties (no region: outside); another county's address; a police/credit node the role
    may not see.
    """
    out = _mask_node(scope, node)
    if "id" in node:
        out["id"] = node["id"]  # the graph's element id (edges refer to it), never an ID number
    return out


def _mask_node(scope: Scope, node: Mapping[str, Any]) -> dict[str, Any]:
    label = node.get("label")
    if node.get("visible") is False:
        return _placeholder(scope, node)
    if label == "Enterprise":
        if not scope.sees_county(node.get("county")):
            return _placeholder(scope, node)
        if scope.sector is not None and "sector" in node and node.get("sector") != scope.sector:
            return _placeholder(scope, node)
        return masking.mask_enterprise(scope, node)
    if label in PERSON_LABELS:
        if "visible" not in node and not scope.sees_county(node.get("region")):
            return _placeholder(scope, node)
        out = masking.mask_person(scope, node)
        if not scope.can_see_persons:
            out["key"] = None
            for key in ("pid", "party_id"):
                out.pop(key, None)
        return out
    if masking.is_restricted_node(str(label)):
        if not scope.can_see_police_credit:
            return _placeholder(scope, node)
        return dict(node)
    if label == "Address" and not scope.sees_county(node.get("county")):
        return _placeholder(scope, node)
    if label == "Phone":
        out = dict(node)
        for key in ("name", "number", "key"):
            if isinstance(out.get(key), str):
                out[key] = masking.mask_phone(scope, out[key])
        return out
    return {k: masking.mask_ids_in_text(v) if isinstance(v, str) else v for k, v in node.items()}


def _limited(scope: Scope) -> bool:
    return scope.counties is not None or scope.sector is not None


def _node_visible(scope: Scope, label: str | None, info: Mapping[str, Any] | None) -> bool:
    """Whether a path node lies inside the scope: the data layer's ``visible`` when given
    (``dashboards.data.path_names``), else the county / sector / region rules; a node with no
    facts is outside any limited scope (fail closed)."""
    if info and "visible" in info:
        return bool(info["visible"])
    if not info:
        return not _limited(scope)
    if label == "Enterprise":
        if scope.counties is not None and not scope.sees_county(info.get("county")):
            return False
        return scope.sector is None or info.get("sector") == scope.sector
    if label in PERSON_LABELS:
        return scope.counties is None or scope.sees_county(info.get("region"))
    return True


def _path_token(scope: Scope, key: str, label: str | None,
                info: Mapping[str, Any] | None) -> str:
    """What to show for one node key of an explanation path (placeholders stay as they are, so
    masking an already masked explanation changes nothing)."""
    if key in PLACEHOLDERS:
        return key
    label = (info or {}).get("label") or label
    person = label in PERSON_LABELS or key.startswith(("P:", "N:", "X:"))
    if label == "Enterprise" or person:
        if not _node_visible(scope, "Person" if person else label, info):
            if person:
                return OUT_PERSON
            return placeholder_name(scope, "Enterprise", county=(info or {}).get("county"),
                                    in_counties=(info or {}).get("in_counties"))
        if person and not scope.can_see_persons:
            return PERSON
        return key
    if masking.is_restricted_node(label) and not scope.can_see_police_credit:
        return RESTRICTED
    return key


def mask_explanation(scope: Scope, explanation: Mapping[str, Any],
                     nodes: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A parsed score explanation (``dashboards.data.explanation_of``) as the scope may see it.

    ``nodes`` maps path node keys to the facts of :func:`dashboards.data.path_names`
    (``visible``, ``label``, ``county``, ``in_counties``), or to ``{"label", "county",
    "sector"}`` (enterprises) / ``{"label", "region"}`` (persons) to apply the rules here; keys
    it does not cover are outside any county- or sector-limited scope (fail closed).
    Police/credit indicators are folded into one line ``{"id": "restricted"}`` carrying their
    summed contribution (the score stays explained, the facts do not leak).
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


def explanation_mask(scope: Scope, nodes: Mapping[str, Mapping[str, Any]],
                     own: str | None = None) -> Callable[[str, str], str]:
    """The ``mask(label, key)`` callable of :func:`analytics.explain.render` for a
    :func:`mask_explanation`-ed record: placeholders and ``own`` (the record's own name) stay
    as they are, keys become their display names from ``nodes`` (``path_names``), keys it does
    not cover are placeholders for limited scopes (fail closed)."""
    def mask(label: str, key: str) -> str:
        if key in PLACEHOLDERS or (own is not None and key == own):
            return key
        info = nodes.get(key)
        if info is None:
            return placeholder_name(scope, label or None) if _limited(scope) else key
        return str(info.get("name") or key)
    return mask


def render_explanation(scope: Scope, record: Mapping[str, Any],
                       nodes: Mapping[str, Mapping[str, Any]], lang: str = "zh") -> list[str]:
    """A ScoreRecord's explanation in words (``analytics.explain.render``), masked by the same
    rules as :func:`mask_explanation`: out-of-scope path nodes as placeholders, in-scope ones by
    their (masked) names, police/credit indicators folded into one restricted line."""
    import json

    from analytics.explain import render

    raw = record.get("explanation")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    except (TypeError, ValueError):
        parsed = {}
    masked = mask_explanation(scope, parsed if isinstance(parsed, dict) else {}, nodes)
    shown = {**record, "explanation": masked}
    own = str(record.get("name") or record.get("uscc") or "")
    return render(shown, lang, explanation_mask(scope, nodes, own))


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
