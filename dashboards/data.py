"""The app's data layer: scoped reads of the graph, returned as pandas DataFrames and dicts.

Every function takes the Neo4j ``driver`` and a :class:`dashboards.scope.Scope`; the scope is
applied inside the Cypher (``graph.cypher`` ``dash_*`` builders), never after the fact, so a
county office's queries cannot return its neighbours' enterprises. Enterprises outside the
scope reached by a network expansion or a group come back as masked placeholders
(``visible = False``, no name, no key). Scores are read through the contract of
``docs/architecture.md``: the live ``Run`` first, then its ``ScoreRecord`` nodes.

Nothing here touches Streamlit; :mod:`dashboards.state` adds the caching.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from neo4j import Driver

from dashboards.scope import Scope
from graph import access, cypher

LEVELS = ("red", "orange", "yellow", "blue", "none")
HIGH_LEVELS = ("red", "orange")
NETWORK_TYPES = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF", "CONTROLS", "BRANCH_OF",
                 "MANAGING_PARTNER_OF", "REGISTERED_AT", "HAS_PHONE", "PAYS", "PARTY_TO",
                 "SUBJECT_OF", "TIPPED_IN", "LISTED_IN", "FLAGGED_IN", "SAME_AS", "MEMBER_OF")
DEFAULT_NETWORK_TYPES = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF", "CONTROLS",
                         "BRANCH_OF", "MANAGING_PARTNER_OF", "REGISTERED_AT", "HAS_PHONE",
                         "PAYS")
MAX_NODES = 150
ENTERPRISE_COLUMNS = ["uscc", "name", "county", "score", "level", "sector", "department",
                      "group_id", "cross_region", "lead_region", "reasons", "prev_score",
                      "prev_level", "ledger_status"]
"""Columns of :func:`enterprises` from the query; it adds ``change`` (score minus the previous
run's, NaN without one) and ``is_new`` (not scored in the previous run; False on the first)."""


@dataclass(frozen=True)
class Runs:
    """The live scoring run and the one before it (None when there is none)."""

    live: dict[str, Any] | None
    previous: dict[str, Any] | None

    @property
    def run_id(self) -> str | None:
        return self.live.get("run_id") if self.live else None

    @property
    def prev_id(self) -> str | None:
        return self.previous.get("run_id") if self.previous else None


def _params(scope: Scope, **extra: Any) -> dict[str, Any]:
    return {**scope.params(), **extra}


def live_run_id(driver: Driver) -> str | None:
    """The live run's id (None before the first scoring run)."""
    rows = access.read(driver, cypher.dash_live_run())
    return str(rows[0]["run"].get("run_id")) if rows else None


def runs(driver: Driver, scope: Scope) -> Runs:
    """The live run and its predecessor (scope-independent, but required for uniformity)."""
    del scope
    live_rows = access.read(driver, cypher.dash_live_run())
    if not live_rows:
        return Runs(None, None)
    live = dict(live_rows[0]["run"])
    prev_rows = access.read(driver, cypher.dash_previous_run(),
                            {"run_id": live.get("run_id"), "started": live.get("started")})
    return Runs(live, dict(prev_rows[0]["run"]) if prev_rows else None)


def score_history(driver: Driver, uscc: str, rs: Runs) -> pd.DataFrame:
    """Score and level of ``uscc`` over the runs, oldest first: one row per change (a record
    is written only when it changes) and, when the last change is older than the live run,
    a closing row at the live run (the score still held)."""
    cols = ["run_id", "started", "score", "level"]
    rows = access.read(driver, cypher.dash_score_history(), {"uscc": uscc})
    if rows and rs.live and rows[-1]["run_id"] != rs.run_id:
        rows.append({**rows[-1], "run_id": rs.run_id, "started": rs.live.get("started")})
    return pd.DataFrame(rows, columns=cols)


def _since(previous: dict[str, Any] | None) -> str | None:
    """The YYYYMMDD delivery date from which clues count as new (previous run start)."""
    if not previous or not previous.get("started"):
        return None
    digits = "".join(ch for ch in str(previous["started"])[:10] if ch.isdigit())
    return digits[:8] or None


def county_overview(driver: Driver, scope: Scope, city_counties: list[str]) -> pd.DataFrame:
    """One row per county of the city (in scope): enterprises, high-risk, red, mean score,
    cases, amount (万元), investors, new clues, high-risk change since the previous run."""
    rs = runs(driver, scope)
    cols = ["county", "enterprises", "high_risk", "red", "mean_score", "cases", "amount_wan",
            "investors", "new_clues", "prev_high_risk", "change"]
    counties = [c for c in city_counties if scope.sees_county(c)]
    frame = pd.DataFrame({"county": counties})
    if rs.run_id is None:
        return frame.reindex(columns=cols).fillna(0)
    base = {"run_id": rs.run_id}
    summary = pd.DataFrame(access.read(driver, cypher.dash_county_summary(),
                                       _params(scope, **base)))
    exposure = pd.DataFrame(access.read(driver, cypher.dash_county_exposure(),
                                        _params(scope, **base)))
    clues = pd.DataFrame(access.read(driver, cypher.dash_county_new_clues(),
                                     _params(scope, since=_since(rs.previous), **base)))
    prev = pd.DataFrame(access.read(driver, cypher.dash_county_summary(),
                                    _params(scope, run_id=rs.prev_id))) if rs.prev_id else None
    for part in (summary, exposure, clues):
        if not part.empty:
            frame = frame.merge(part, on="county", how="left")  # only the city's counties
    if prev is not None and not prev.empty:
        frame = frame.merge(prev[["county", "high_risk"]].rename(
            columns={"high_risk": "prev_high_risk"}), on="county", how="left")
    frame = frame.reindex(columns=[*cols, "amount_yuan"])
    yuan = pd.to_numeric(frame.pop("amount_yuan"), errors="coerce").fillna(0)
    frame["amount_wan"] = (yuan / 10000.0).round(1)
    numeric = [c for c in cols if c not in ("county", "mean_score", "amount_wan")]
    frame[numeric] = frame[numeric].fillna(0).astype(int)
    frame["mean_score"] = pd.to_numeric(frame["mean_score"]).fillna(0).round(1)
    # no previous run: nothing to compare with (None, shown "—"), not a change of 0
    frame["change"] = (frame["high_risk"] - frame["prev_high_risk"]) if rs.prev_id else None
    frame["prev_high_risk"] = frame["prev_high_risk"] if rs.prev_id else None
    return frame[frame["county"].map(scope.sees_county)].reset_index(drop=True)


def trend(driver: Driver, scope: Scope, limit: int = 12) -> pd.DataFrame:
    """High-risk enterprises per county and run, for the latest ``limit`` scored runs."""
    run_rows = access.read(driver, cypher.dash_scored_runs(), {"limit": limit})
    if not run_rows:
        return pd.DataFrame(columns=["run_id", "started", "county", "high_risk", "enterprises"])
    started = {r["run_id"]: str(r["started"]) for r in run_rows}
    rows = access.read(driver, cypher.dash_trend(),
                       _params(scope, run_ids=list(started)))
    frame = pd.DataFrame(rows, columns=["run_id", "county", "high_risk", "enterprises"])
    frame["started"] = frame["run_id"].map(started)
    return frame.sort_values(["started", "county"]).reset_index(drop=True)


def enterprises(driver: Driver, scope: Scope, *, county: str | None = None,
                levels: tuple[str, ...] | None = None, min_score: float | None = None,
                limit: int = 5000) -> pd.DataFrame:
    """Scored enterprises of the live run in scope, highest score first."""
    rs = runs(driver, scope)
    if rs.run_id is None:
        return pd.DataFrame(columns=ENTERPRISE_COLUMNS)
    rows = access.read(driver, cypher.dash_enterprise_list(), _params(
        scope, run_id=rs.run_id, prev_run_id=rs.prev_id, county=county,
        levels=list(levels) if levels else None, min_score=min_score, limit=limit))
    frame = pd.DataFrame(rows, columns=ENTERPRISE_COLUMNS)
    frame["change"] = (pd.to_numeric(frame["score"]) - pd.to_numeric(frame["prev_score"])
                       ).round(1)
    # scored now but not in the previous run (none on the first run: nothing to compare with)
    frame["is_new"] = frame["prev_score"].isna() if rs.prev_id else False
    return frame


def sectors(driver: Driver, scope: Scope) -> pd.DataFrame:
    """Sectors present in the live run within scope, with counts."""
    rs = runs(driver, scope)
    if rs.run_id is None:
        return pd.DataFrame(columns=["sector", "n"])
    rows = access.read(driver, cypher.dash_sectors(), _params(scope, run_id=rs.run_id))
    return pd.DataFrame(rows, columns=["sector", "n"]).dropna()


def explanation_of(record: dict[str, Any] | None) -> dict[str, Any]:
    """The parsed ``explanation`` JSON of a ScoreRecord (empty parts when absent/broken)."""
    empty: dict[str, Any] = {"indicators": [], "paths": [], "direct": None, "linked": None}
    if not record or not record.get("explanation"):
        return empty
    try:
        parsed = json.loads(record["explanation"])
    except (TypeError, ValueError):
        return empty
    return {**empty, **parsed} if isinstance(parsed, dict) else empty


def _masked_record(scope: Scope, record: dict[str, Any] | None,
                   nodes: dict[str, dict[str, Any]]) -> tuple[dict[str, Any] | None,
                                                           dict[str, Any]]:
    """A ScoreRecord and its parsed explanation as the scope may see them: the explanation
    through :func:`security.scope.mask_explanation`, the record's raw ``explanation`` JSON
    replaced by the masked one and police/credit reasons left out."""
    from security import masking
    from security.scope import mask_explanation

    explanation = mask_explanation(scope, explanation_of(record), nodes)
    if record is None:
        return None, explanation
    out = dict(record)
    if out.get("explanation"):
        out["explanation"] = json.dumps(explanation, ensure_ascii=False)
    if not scope.can_see_police_credit and isinstance(out.get("reasons"), list):
        out["reasons"] = [r for r in out["reasons"]
                          if not masking.is_restricted_indicator({"id": r})]
    return out, explanation


def _path_keys(*records: dict[str, Any] | None) -> tuple[str, ...]:
    keys: set[str] = set()
    for record in records:
        for path in explanation_of(record).get("paths") or []:
            keys.update(str(k) for k in path.get("nodes") or [])
            if path.get("from"):
                keys.add(str(path["from"]))
    return tuple(sorted(keys))


def profile(driver: Driver, scope: Scope, uscc: str) -> dict[str, Any] | None:
    """An enterprise in scope: properties, live score record, previous record, parsed
    explanation, score history, controllers and group. None when out of scope or unknown.

    Masked for the scope (``docs/security.md``): explanations through
    :func:`security.scope.mask_explanation` (police/credit indicators folded, path nodes
    outside the scope as placeholders), the legal representative and the group's controller
    (natural persons) masked without ``can_see_persons``; the controller of a group shown only
    to city-wide scopes."""
    from security import masking

    rs = runs(driver, scope)
    rows = access.read(driver, cypher.dash_enterprise(), _params(
        scope, uscc=uscc, run_id=rs.run_id or "", prev_run_id=rs.prev_id))
    if not rows:
        return None
    row = rows[0]
    ctl = access.read(driver, cypher.dash_controller_and_group(),
                      _params(scope, uscc=uscc, run_id=rs.run_id or ""))
    controllers = [
        {"label": r["controller_label"],
         "name": r["controller_name"] if r["controller_visible"] else
         placeholder(scope, r["controller_label"]),
         "visible": r["controller_visible"], "share": r["share"]}
        for r in ctl if r["controller_label"]
    ]
    group = next((dict(r["grp"]) for r in ctl if r["grp"]), None)
    if group is not None:
        controller = group.get("controller")
        group["controller"] = (masking.mask_person_name(scope, str(controller))
                               if controller and scope.counties is None else None)
    history = score_history(driver, uscc, rs)
    nodes = path_names(driver, scope, _path_keys(row["score"], row["previous"]))
    score, explanation = _masked_record(scope, row["score"], nodes)
    previous, previous_explanation = _masked_record(scope, row["previous"], nodes)
    return {
        "enterprise": _mask_hidden_persons(driver, scope, uscc,
                                           masking.mask_enterprise(scope, row["enterprise"])),
        "score": score,
        "previous": previous,
        "explanation": explanation,
        "previous_explanation": previous_explanation,
        "history": history,
        "controllers": controllers,
        "group": group,
        "runs": rs,
    }


def _mask_hidden_persons(driver: Driver, scope: Scope, uscc: str,
                        enterprise: dict[str, Any]) -> dict[str, Any]:
    """The enterprise's person fields (``legal_rep``, ``controller``, …) that name a person
    outside the scope's territory replaced by 外县人员 (only county-limited scopes)."""
    if scope.counties is None:
        return enterprise
    from security import masking
    from security.scope import OUT_PERSON

    hidden = {r["name"] for r in access.read(driver, cypher.dash_hidden_person_names(),
                                              _params(scope, uscc=uscc))}
    if not hidden:
        return enterprise
    masked_hidden = {masking.mask_person_name(scope, n) for n in hidden}
    out = dict(enterprise)
    for key in masking.PERSON_NAME_FIELDS:
        if key != "name" and out.get(key) in hidden | masked_hidden:
            out[key] = OUT_PERSON
    return out


def placeholder(scope: Scope, label: str | None, *, in_counties: bool | None = None) -> str:
    """The placeholder shown for a node outside the scope (``security.scope``)."""
    from security.scope import placeholder_name

    return placeholder_name(scope, label, in_counties=in_counties)


def changes(current: dict[str, Any], previous: dict[str, Any]) -> pd.DataFrame:
    """Indicator contributions now vs the previous run: what changed and by how much."""
    def contributions(expl: dict[str, Any]) -> dict[str, float]:
        return {str(i.get("id")): float(i.get("contribution") or 0)
                for i in expl.get("indicators", [])}
    now, before = contributions(current), contributions(previous)
    rows = []
    for ind in sorted(set(now) | set(before)):
        delta = now.get(ind, 0.0) - before.get(ind, 0.0)
        if abs(delta) > 1e-9:
            status = "new" if ind not in before else "gone" if ind not in now else "changed"
            rows.append({"indicator": ind, "before": before.get(ind, 0.0),
                         "now": now.get(ind, 0.0), "delta": round(delta, 2), "status": status})
    linked_now = float(current.get("linked") or 0)
    linked_before = float(previous.get("linked") or 0)
    if abs(linked_now - linked_before) > 1e-9:
        rows.append({"indicator": "linked", "before": linked_before, "now": linked_now,
                     "delta": round(linked_now - linked_before, 2), "status": "changed"})
    return pd.DataFrame(rows, columns=["indicator", "before", "now", "delta", "status"])


_DATE_KEYS = ("date", "changed", "change_date", "filed", "judged", "listed", "listed_on",
              "reported", "report_date", "period_from", "found", "published", "accepted",
              "opened", "registered")


def _event_date(props: dict[str, Any], rel_props: dict[str, Any]) -> str:
    for key in _DATE_KEYS:
        value = props.get(key) or rel_props.get(key)
        if value:
            return str(value)[:10]
    delivery = str(props.get("delivery") or rel_props.get("delivery") or "")
    return f"{delivery[:4]}-{delivery[4:6]}-{delivery[6:8]}" if len(delivery) == 8 else ""


def _event_summary(kind: str, props: dict[str, Any]) -> str:
    fields = {
        "Change": ("item", "before", "after"),
        "CourtCase": ("case_no", "cause", "amount_yuan", "status"),
        "PoliceClue": ("clue_no", "status", "summary"),
        "Tip": ("tip_no", "summary", "status"),
        "BankAlert": ("pattern", "amount_yuan", "count"),
        "Ad": ("ad_id", "title", "channel", "keywords"),
        "CreditListing": ("list_type", "reason"),
    }.get(kind, ("name",))
    parts = [f"{props[f]}" for f in fields if props.get(f) not in (None, "")]
    return " · ".join(parts)


PERSON_CHANGE_WORDS = ("法定代表人", "负责人", "执行事务合伙人", "股东", "投资人", "董事", "监事",
                       "经理", "高管", "成员", "出资人", "主要人员")
"""Change items whose before/after values are natural persons' names."""
_NAME_SEPARATORS = ("、", "，", ",", "；", ";", " ", "/")


def _split_names(value: Any) -> list[str]:
    parts = [str(value or "")]
    for sep in _NAME_SEPARATORS:
        parts = [piece for part in parts for piece in part.split(sep)]
    return [p.strip() for p in parts if 2 <= len(p.strip()) <= 6]


def _person_names_in_events(rows: list[dict[str, Any]]) -> set[str]:
    """Names of natural persons an enterprise's events carry: the people of person-valued
    change items (法定代表人变更, 股东变更 …) and the persons linked to the events."""
    names: set[str] = set()
    for r in rows:
        props = r["props"]
        if r["kind"] == "Change" and any(w in str(props.get("item") or "")
                                         for w in PERSON_CHANGE_WORDS):
            names.update(_split_names(props.get("before")))
            names.update(_split_names(props.get("after")))
        names.update(n for n in (r.get("person_names") or []) if n and len(n) >= 2)
    return names


def _mask_text(scope: Scope, text: str, names: set[str]) -> str:
    """Free text as the scope may see it: citizen IDs always masked; for scopes without
    person rights, every known person name replaced by its masked form (longest first)."""
    from security import masking

    text = masking.mask_ids_in_text(text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, masking.mask_person_name(scope, name) or "")
    return text


def timeline(driver: Driver, scope: Scope, uscc: str, limit: int = 500) -> pd.DataFrame:
    """Events of an enterprise in scope, newest first: date, kind, summary, source, delivery,
    role and ``ended`` (the date of the full delivery that no longer held the event or its
    link: kept as history, not counted by the scoring)."""
    cols = ["date", "kind", "summary", "source", "delivery", "role", "ended"]
    rs = runs(driver, scope)
    if not access.read(driver, cypher.dash_enterprise(), _params(
            scope, uscc=uscc, run_id=rs.run_id or "", prev_run_id=None)):
        return pd.DataFrame(columns=cols)  # outside the scope (county and sector) or unknown
    rows = access.read(driver, cypher.dash_timeline(), _params(scope, uscc=uscc, limit=limit))
    names = _person_names_in_events(rows) if not scope.can_see_persons else set()
    events = [{
        "date": _event_date(r["props"], r["rel_props"]),
        "kind": r["kind"],
        "summary": _mask_text(scope, _event_summary(r["kind"], r["props"]), names),
        "source": r["props"].get("src") or r["rel_props"].get("src"),
        "delivery": r["props"].get("delivery") or r["rel_props"].get("delivery"),
        "role": r["rel_props"].get("role"),
        "ended": r["ended"],
    } for r in rows]
    frame = pd.DataFrame(events, columns=cols)
    return frame.sort_values("date", ascending=False).reset_index(drop=True)


def group_members(driver: Driver, scope: Scope, group_id: str) -> pd.DataFrame:
    """Members of a group. A group touching the scope: every member's name, code and county;
    score and level (evidence) only for members inside the scope (``visible``). A group not
    touching the scope: no names or codes, counties only."""
    rs = runs(driver, scope)
    rows = access.read(driver, cypher.dash_group_members(),
                       _params(scope, group_id=group_id, run_id=rs.run_id or ""))
    return pd.DataFrame(rows, columns=["uscc", "name", "county", "visible", "score", "level"])


ENTITY_LABELS = frozenset({"Enterprise", "Person", "Party", "Address", "Phone", "Group"})
"""Nodes that stand for someone or something; every other node is a fact (a case, a clue …)."""


def _edge_ended(row: dict[str, Any]) -> Any:
    """When a link of the network ended: the relationship's own end or, for a link to a fact
    (a case, a clue, a listing …), the fact's; None while current."""
    if row["rel_ended"]:
        return row["rel_ended"]
    return None if row["label"] in ENTITY_LABELS else row["node_ended"]


@dataclass
class Network:
    """A capped neighbourhood: nodes and edges as dicts, and whether the cap cut it."""

    nodes: dict[str, dict[str, Any]]
    edges: list[dict[str, Any]]
    capped: bool
    centre: str | None


def network(driver: Driver, scope: Scope, uscc: str, depth: int = 1,
            types: tuple[str, ...] = DEFAULT_NETWORK_TYPES,
            max_nodes: int = MAX_NODES) -> Network:
    """The neighbourhood of ``uscc`` up to ``depth`` hops (1-3) over ``types``, expanded hop by
    hop with at most ``max_nodes`` nodes. Nodes outside the scope (enterprises of other
    counties or sectors, persons and parties outside the territory, other counties'
    addresses) are placeholders and are not expanded further; persons are masked without
    ``can_see_persons``."""
    depth = max(1, min(3, int(depth)))
    types = tuple(t for t in types if t in NETWORK_TYPES)
    rs = runs(driver, scope)
    start = access.read(driver, cypher.dash_enterprise(), _params(
        scope, uscc=uscc, run_id=rs.run_id or "", prev_run_id=None))
    if not start:
        return Network({}, [], False, None)
    centre_id = access.read(driver, cypher.dash_node_by_uscc(), {"uscc": uscc})[0]["id"]
    ent, rec = start[0]["enterprise"], start[0]["score"] or {}
    nodes: dict[str, dict[str, Any]] = {centre_id: {
        "id": centre_id, "label": "Enterprise", "key": uscc, "name": ent.get("name"),
        "visible": True, "level": rec.get("level"), "score": rec.get("score"),
        "county": ent.get("county"), "hop": 0, "ended": ent.get("ended")}}
    edges: dict[str, dict[str, Any]] = {}
    frontier = [centre_id]
    capped = False
    for hop in range(1, depth + 1):
        if not frontier or not types:
            break
        budget = max_nodes - len(nodes)
        rows = access.read(driver, cypher.dash_expand(), _params(
            scope, ids=frontier, types=list(types), run_id=rs.run_id or "",
            limit=budget * 4 + 50))
        next_frontier: list[str] = []
        for r in rows:
            if r["dst"] not in nodes:
                if len(nodes) >= max_nodes:
                    capped = True
                    continue
                nodes[r["dst"]] = {
                    "id": r["dst"], "label": r["label"], "key": r["key"], "name": r["name"],
                    "visible": r["visible"], "level": r["level"], "score": r["score"],
                    "county": r["county"], "hop": hop, "ended": r["node_ended"]}
                if r["visible"]:
                    next_frontier.append(r["dst"])
            src, dst = (r["src"], r["dst"]) if r["outgoing"] else (r["dst"], r["src"])
            seen = edges.get(r["rid"])  # met again from its other end: the fact may be there
            edges[r["rid"]] = {"id": r["rid"], "from": src, "to": dst, "type": r["type"],
                               "role": r["role"], "ratio": r["ratio"],
                               "ended": _edge_ended(r) or (seen or {}).get("ended")}
        if len(rows) >= budget * 4 + 50:
            capped = True
        frontier = next_frontier
    return Network(_mask_nodes(scope, nodes), list(edges.values()), capped, centre_id)


def _mask_nodes(scope: Scope, nodes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every node as the scope may see it (:func:`security.scope.mask_node`): nodes outside
    the scope as placeholders (外县企业, 其他行业企业, 外县人员, 外县地址) with no key, score
    or level; persons and phones masked per role."""
    from security.scope import mask_node

    return {key: mask_node(scope, node) for key, node in nodes.items()}


def _normalise_name(text: str) -> str:
    try:
        from ingest.normalise import name_norm
    except ImportError:  # ingest not installed: a close enough local rule
        return text.replace(" ", "").replace("（", "").replace("）", "").upper()
    return name_norm(text) or ""


def search(driver: Driver, scope: Scope, text: str, limit: int = 50) -> dict[str, pd.DataFrame]:
    """Enterprises (name, USCC, 注册号) and persons (name, masked ID) matching ``text``."""
    raw = (text or "").strip()
    result = {"enterprises": pd.DataFrame(columns=["uscc", "name", "county", "score", "level"]),
              "persons": pd.DataFrame(columns=["pid", "name", "id_masked", "region", "firms"])}
    if not raw:
        return result
    rs = runs(driver, scope)
    code = raw.upper() if raw.isascii() and raw.replace("-", "").isalnum() else None
    rows = access.read(driver, cypher.dash_search_enterprises(), _params(
        scope, q=_normalise_name(raw), raw=raw, code=code, run_id=rs.run_id or "",
        limit=limit))
    result["enterprises"] = pd.DataFrame(rows, columns=list(result["enterprises"].columns))
    if scope.can_see_persons:
        rows = access.read(driver, cypher.dash_search_persons(),
                           _params(scope, raw=raw, limit=limit))
        result["persons"] = pd.DataFrame(rows, columns=list(result["persons"].columns))
    return result


def person(driver: Driver, scope: Scope, pid: str) -> dict[str, Any] | None:
    """A person's profile and roles across firms (firms outside the scope masked). None when
    the scope may not see persons, or the person lies outside its territory (residence, else
    the counties of the firms they hold roles in; ``docs/security.md``)."""
    if not scope.can_see_persons:
        return None
    rs = runs(driver, scope)
    rows = access.read(driver, cypher.dash_person_roles(),
                       _params(scope, pid=pid, run_id=rs.run_id or ""))
    if not rows or not rows[0]["person_visible"]:
        return None  # unknown, or living outside the scope's territory
    cols = ["rel", "role", "ratio", "share", "ended", "visible", "uscc", "name", "county",
            "score", "level"]
    roles = pd.DataFrame([{k: r[k] for k in cols} for r in rows if r["rel"]], columns=cols)
    from security import masking

    return {"person": masking.mask_person(scope, rows[0]["person"]), "roles": roles}


def cross_region_groups(driver: Driver, scope: Scope, limit: int = 200) -> pd.DataFrame:
    """Cross-region groups touching the scope, highest score first."""
    from security.scope import mask_group

    rs = runs(driver, scope)
    rows = access.read(driver, cypher.dash_cross_region_groups(),
                       _params(scope, limit=limit, run_id=rs.run_id or ""))
    cols = ["group_id", "score", "members", "counties", "cities", "lead_region", "controller",
            "handoff_status"]
    # the controller (a person) only for city-wide scopes, masked unless names may be seen;
    # analytics stores it as a node key (P:…): shown by name
    keys = tuple(sorted({str(r["grp"]["controller"]) for r in rows
                         if r["grp"].get("controller")}))
    names = path_names(driver, scope, keys) if keys and scope.counties is None else {}
    groups = [mask_group(scope, {**r["grp"], "controller": names.get(
        str(r["grp"].get("controller")), {}).get("name") or r["grp"].get("controller")})
        for r in rows]
    frame = pd.DataFrame([{k: v for k, v in g.items() if k != "member_list"}
                          for g in groups if g is not None])
    return frame.reindex(columns=cols) if not frame.empty else pd.DataFrame(columns=cols)


def freshness(driver: Driver, scope: Scope) -> pd.DataFrame:
    """Latest delivery (YYYYMMDD) per source and county within scope."""
    rows = access.read(driver, cypher.dash_freshness(), _params(scope))
    return pd.DataFrame(rows, columns=["county", "source", "latest", "facts"])


def deliveries(driver: Driver, scope: Scope) -> pd.DataFrame:
    """Latest delivery date per source (from the ingest bookkeeping)."""
    del scope
    rows = access.read(driver, cypher.dash_deliveries())
    return pd.DataFrame(rows, columns=["source", "latest", "deliveries"])


RUN_PUBLIC_FIELDS = ("run_id", "kind", "status", "live", "started", "finished", "ended",
                     "error", "model_version")
"""What scopes short of the whole city see of a run: when and how it ran, not the city-wide
counts (levels, rows) it produced."""


def run_history(driver: Driver, scope: Scope, limit: int = 50) -> pd.DataFrame:
    """Runs newest first, with per-stage timings flattened into ``t_<stage>`` columns. Scopes
    limited to counties or a sector get only :data:`RUN_PUBLIC_FIELDS` and the timings."""
    limited = scope.counties is not None or scope.sector is not None
    rows = access.read(driver, cypher.dash_run_history(), {"limit": limit})
    records = []
    for r in rows:
        run = dict(r["run"])
        for key in ("timings", "stages", "stage_seconds"):
            raw = run.pop(key, None)
            if isinstance(raw, str):
                try:
                    raw = json.loads(raw)
                except ValueError:
                    raw = None
            if isinstance(raw, dict):
                for stage, seconds in raw.items():
                    run[f"t_{stage}"] = seconds
        records.append({k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict)
                            else v) for k, v in run.items()
                        if not limited or k in RUN_PUBLIC_FIELDS or k.startswith("t_")})
    return pd.DataFrame(records)


ALERT_GROUP_FIELDS = ("alert_key", "kind", "subject_label", "subject", "group_id", "county",
                      "counties", "members", "status", "raised", "at", "last_run", "run_id")
"""What a county touched by a cross-region group sees of its alert: the group, not the
evidence (no top firm, score, level or reasons, which may be another county's)."""


def alerts(driver: Driver, scope: Scope, limit: int = 100) -> pd.DataFrame:
    """Refresh alerts in scope, newest first. A group alert of a group touching a county
    scope (but led elsewhere, or naming another county's firm) is shown as a group: regions,
    member count, status; no firm names, scores or reasons."""
    rs = runs(driver, scope)
    rows = access.read(driver, cypher.dash_alerts(),
                       _params(scope, limit=limit, run_id=rs.run_id or ""))
    out = []
    for r in rows:
        alert = dict(r["alert"])
        if not r["inside"]:
            alert = {k: v for k, v in alert.items() if k in ALERT_GROUP_FIELDS}
            alert["name"] = alert["message"] = (
                f"跨区域群组 {alert.get('group_id') or alert.get('subject')}："
                f"{alert.get('members')} 家企业，涉及 {len(alert.get('counties') or [])} 个区县")
        out.append(alert)
    return pd.DataFrame(out)


def _ingest_report_files(home: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(run id, report)`` of every readable ingest ``RISKGRAPH_HOME/runs/*/report.json``,
    newest first (scoring runs' reports and unreadable files are skipped)."""
    paths = sorted((home / "runs").glob("*/report.json"), key=lambda p: p.stat().st_mtime)
    out = []
    for path in reversed(paths):  # (a tie goes to the later name, as it always has)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and ("files" in data or "totals" in data):
            # an ingest report (a scoring run's report.json sits beside it, newer); its own
            # run id when it names one, else its folder's
            out.append((str(data.get("run_id") or path.parent.name), data))
    return out


def ingest_runs(home: Path, scope: Scope, limit: int = 30) -> list[str]:
    """The run ids of the ``limit`` newest ingest reports, newest first (what the runs page
    offers to show; every role with the page sees the same reports)."""
    del scope
    return list(dict.fromkeys(run_id for run_id, _ in _ingest_report_files(home)))[:limit]


def ingest_report(home: Path, scope: Scope, run_id: str | None = None
                  ) -> dict[str, Any] | None:
    """The newest ingest ``RISKGRAPH_HOME/runs/<run_id>/report.json`` (with ``run_id``
    added), or the one of ``run_id`` when given (None when it is no ingest report: only
    reports found under ``runs/`` are read, never a path made from ``run_id``)."""
    del scope
    for found, data in _ingest_report_files(home):
        if run_id is None or found == run_id:
            return {**data, "run_id": found}
    return None


def path_names(driver: Driver, scope: Scope, keys: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``key → {"visible", "name", "label", "county", "region", "in_counties"}`` for the node
    keys of explanation paths (scoped in Cypher). Nodes outside the scope come back with
    ``visible = False`` and a placeholder name: 外县企业 (enterprises of other counties),
    其他行业企业 (of other sectors, for sector scopes), 外县人员 (persons and parties outside
    the territory). Keys that are no node are invisible to limited scopes (fail closed)."""
    from security import masking
    from security.scope import PERSON_LABELS

    rs = runs(driver, scope)
    rows = access.read(driver, cypher.dash_node_names(),
                       _params(scope, keys=list(keys), run_id=rs.run_id or ""))
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        label, name = r["label"], r["name"]
        if not r["visible"]:
            name = placeholder(scope, label, in_counties=r["in_counties"]) if label else None
        elif label in PERSON_LABELS and isinstance(name, str):
            name = masking.mask_person_name(scope, name)
        out[r["key"]] = {"visible": bool(r["visible"]), "name": name, "label": label,
                         "county": r["county"], "region": r["region"],
                         "in_counties": r["in_counties"]}
    return out


def report_summary(report: dict[str, Any]) -> dict[str, Any]:
    """Totals, per-table rows and reasons of an ingest ``report.json``.

    Reads the ingest report's shape (``totals``; ``files[].tables[]`` with ``rows_*`` and
    ``rules``); returns ``{"loaded", "quarantined", "rejected", "tables": DataFrame,
    "reasons": DataFrame}``.
    """
    totals = report.get("totals") or {}
    rows = []
    reasons: dict[str, int] = {}
    for file in report.get("files") or []:
        for table in file.get("tables") or [{}]:
            rules = table.get("rules") or {}
            for rule, n in rules.items():
                reasons[rule] = reasons.get(rule, 0) + int(n or 0)
            rows.append({
                "delivery": file.get("delivery"), "source": file.get("source"),
                "file": file.get("file"), "table": table.get("table"),
                "status": table.get("status") or file.get("status"),
                "rows_read": table.get("rows_read"), "rows_loaded": table.get("rows_loaded"),
                "rows_quarantined": table.get("rows_quarantined"),
                "duplicates": table.get("duplicates"),
                "reasons": ";".join(f"{k}={v}" for k, v in rules.items()),
                "message": table.get("message") or file.get("message") or ""})
    rejected = [f for f in report.get("files") or [] if f.get("status") == "rejected"]
    return {
        "loaded": totals.get("rows_loaded"),
        "quarantined": totals.get("rows_quarantined"),
        "rejected": totals.get("rejected_files", len(rejected)),
        "tables": pd.DataFrame(rows),
        "reasons": pd.DataFrame([{"rule": rule, "rows": n} for rule, n in
                                 sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
                                columns=["rule", "rows"]),
    }


NOTE_COLUMNS = ("table", "note", "count", "written", "read_as")
"""Columns of a file's ingest notes (:func:`report_notes`); ``note`` is one of
:data:`NOTE_KINDS`."""
NOTE_KINDS = ("sheet_ignored", "sheet_of_file_name", "sheet_name_ending", "header_mapped",
              "column_not_read", "keys_kept", "recorded")
"""What a note says: a sheet ignored (naming no table), a workbook's only sheet read as the
table of the file name, a sheet read as the table its name ends in, a header read as the
declared one it was written for (alias, spaces, full-width characters), a column not read,
quarantined keys of a full snapshot keeping their records (``count``), or a note in words as
ingest recorded it (reports written before the notes were listed field by field)."""


def report_notes(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The ingest notes of a ``report.json``, per file: ``[{"delivery", "source", "file",
    "notes": DataFrame(NOTE_COLUMNS)}]`` in the report's file order, files without notes left
    out. Built from the same ``files`` as :func:`report_summary`, so a note is shown exactly
    where its file's row is."""
    out = []
    for file in report.get("files") or []:
        rows = _sheet_notes(file)
        for table in file.get("tables") or []:
            rows += _table_notes(table)
        if rows:
            out.append({"delivery": file.get("delivery"), "source": file.get("source"),
                        "file": file.get("file"),
                        "notes": pd.DataFrame(rows, columns=list(NOTE_COLUMNS), dtype=object)})
    return out


def _note(note: str, table: Any = None, written: Any = None, read_as: Any = None,
          count: int | None = None) -> dict[str, Any]:
    return {"table": table, "note": note, "count": count, "written": written,
            "read_as": read_as}


def _sheet_notes(file: dict[str, Any]) -> list[dict[str, Any]]:
    """Ignored sheets; a report without ``ignored_sheets`` (older) gives its sheet notes in
    words instead (the column notes come from the tables either way)."""
    if "ignored_sheets" not in file:
        return [_note("recorded", written=text) for text in file.get("notes") or []
                if str(text).startswith("sheet ")]
    return [_note("sheet_ignored", written=sheet) for sheet in file.get("ignored_sheets") or []]


def _table_notes(table: dict[str, Any]) -> list[dict[str, Any]]:
    name = table.get("table")
    rows = []
    placement = {"file_name": "sheet_of_file_name", "name_ending": "sheet_name_ending"}.get(
        str(table.get("sheet_placement") or ""))
    if placement:
        rows.append(_note(placement, name, written=table.get("sheet"), read_as=name))
    rows += [_note("header_mapped", name, written=written, read_as=declared)
             for written, declared in (table.get("header_mappings") or {}).items()]
    rows += [_note("column_not_read", name, written=column)
             for column in table.get("unexpected_columns") or []]
    if int(table.get("kept_keys") or 0):
        rows.append(_note("keys_kept", name, count=int(table["kept_keys"])))
    return rows
