"""Per-enterprise fact bundles read from the projection (pure, no Neo4j).

:func:`gather` walks each enterprise's neighbourhood in the projected graph once and groups the
facts by source (registration, tax, credit, court, police, tips, bank, ads), merging the edge's
properties (``role`` …) into each fact. Indicators (:mod:`analytics.indicators`) only read these
bundles, so they are testable on hand-made dicts.

Property names follow docs/architecture.md where they are fixed; elsewhere the helpers look a
value up by several candidate names or by key fragments (``num_like(fact, "revenue")``), so that
small naming differences in the ingest do not silently zero an indicator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.projection import Projection

FACT_EDGES: dict[str, str] = {
    "FILED_TAX": "tax",
    "LISTED_IN": "credit_list",
    "HAS_CREDIT_REPORT": "credit_report",
    "PARTY_TO": "court",
    "SUBJECT_OF": "police",
    "TIPPED_IN": "tips",
    "FLAGGED_IN": "bank",
    "ADVERTISED_IN": "ads",
    "HAS_CHANGE": "changes",
}
"""Outgoing relationship type of an enterprise → fact kind."""

PLAINTIFF_ROLES = frozenset({"原告", "申请执行人", "上诉人", "plaintiff", "applicant"})
DEFENDANT_ROLES = frozenset({"被告", "被告人", "被执行人", "被上诉人", "defendant", "accused",
                             "respondent", "executed"})
ORG_PARTY_TYPES = frozenset({"法人", "非法人组织", "单位", "organisation", "legal"})


@dataclass
class Facts:
    """Everything known about one enterprise, grouped by source."""

    node: int
    uscc: str
    ent: dict[str, Any]
    by_kind: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    branches: int = 0
    plaintiffs: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """case key → [(filed date, plaintiff node id)] for natural-person plaintiffs."""
    payers: list[dict[str, Any]] = field(default_factory=list)
    """Natural-person payers (``PAYS`` into this enterprise) with ``amount_yuan``/``count``."""
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Values several indicators derive from the same facts (e.g. the latest tax years),
    computed once per enterprise."""

    def of(self, kind: str) -> list[dict[str, Any]]:
        return self.by_kind.get(kind, [])


def first(props: Mapping[str, Any], *names: str) -> Any:
    """The first non-empty value among ``names``."""
    for n in names:
        v = props.get(n)
        if v not in (None, ""):
            return v
    return None


def to_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def num(props: Mapping[str, Any], *names: str) -> float | None:
    """A number under one of ``names`` exactly, else under a key containing one of them."""
    for n in names:
        v = to_float(props.get(n))
        if v is not None:
            return v
    for key, value in props.items():
        for n in names:  # a plain loop: ``any(genexpr)`` per key was most of this function
            if n in key:
                v = to_float(value)
                if v is not None:
                    return v
                break
    return None


def text_of(props: Mapping[str, Any]) -> str:
    """All string values of a fact, joined (for keyword matching)."""
    parts: list[str] = []
    for v in props.values():
        if isinstance(v, str):
            parts.append(v)
        elif isinstance(v, list):
            parts.extend(x for x in v if isinstance(x, str))
    return " ".join(parts)


def has_text(props: Mapping[str, Any], needle: str) -> bool:
    """``needle in text_of(props)`` without joining the text (``needle`` holds no space)."""
    for v in props.values():
        if isinstance(v, str):
            if needle in v:
                return True
        elif isinstance(v, list):
            if any(isinstance(x, str) and needle in x for x in v):
                return True
    return False


def parse_date(value: Any) -> date | None:
    """An ISO date (``YYYY-MM-DD…``) or ``YYYYMMDD`` string as a date."""
    if value is None:
        return None
    s = str(value).strip()
    try:
        if len(s) >= 10 and s[4] == "-":
            return date.fromisoformat(s[:10])
        if len(s) == 8 and s.isdigit():
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None
    return None


def role_of(props: Mapping[str, Any]) -> str:
    return str(first(props, "role", "position", "诉讼地位", "涉案角色") or "")


def _is_natural(proj: Projection, node: int, edge: Mapping[str, Any]) -> bool:
    lab = proj.labels[node]
    if lab == "Enterprise":
        return False
    kind = str(first(edge, "party_type", "ptype", "当事人类型") or "")
    if kind and any(k in kind for k in ORG_PARTY_TYPES):
        return False
    if lab == "Party":
        ptype = str(first(proj.graph.nodes[node], "party_type", "ptype", "kind") or "")
        if ptype and any(k in ptype for k in ORG_PARTY_TYPES):
            return False
    return True


def gather(proj: Projection, nodes: Iterable[int] | None = None) -> list[Facts]:
    """Fact bundles of every enterprise (or of ``nodes``); reads the adjacency dicts directly
    (no NetworkX view objects per node)."""
    g = proj.graph
    succ, pred, node_attr = g._succ, g._pred, g._node
    labels, keys = proj.labels, proj.keys
    ids = list(nodes) if nodes is not None else proj.of_label("Enterprise")
    folded = proj.facts
    out: list[Facts] = []
    for i in ids:
        facts = Facts(i, keys[i], dict(node_attr[i]))
        for rtype, vattr, data in folded.get(i, ()):  # folded facts: as from an edge below
            fact = {**vattr, **{f"edge_{k}": val for k, val in data.items()}}
            fact["role"] = role_of(data)
            fact["_node"] = None
            facts.by_kind.setdefault(FACT_EDGES[rtype], []).append(fact)
        for v, keyed in succ[i].items():
            for rtype, data in keyed.items():
                kind = FACT_EDGES.get(rtype)
                if kind is None:
                    continue
                vattr = node_attr[v]
                fact = {**vattr, **{f"edge_{k}": val for k, val in data.items()}}
                fact["role"] = role_of(data)
                fact["_node"] = v
                facts.by_kind.setdefault(kind, []).append(fact)
                if kind == "court" and fact["role"] in DEFENDANT_ROLES:
                    filed = str(first(vattr, "filed", "filed_date", "立案日期") or "")
                    plist = []
                    for p, keyed2 in pred[v].items():
                        d2 = keyed2.get("PARTY_TO")
                        if d2 is not None and role_of(d2) in PLAINTIFF_ROLES \
                                and _is_natural(proj, p, d2):
                            plist.append((filed, p))
                    facts.plaintiffs[keys[v]] = plist
        for u, keyed in pred[i].items():
            if "BRANCH_OF" in keyed:
                facts.branches += 1
            data = keyed.get("PAYS")
            if data is not None and labels[u] in ("Person", "Party"):
                facts.payers.append({"node": u, **data})
        out.append(facts)
    return out


def light_facts(proj: Projection, i: int) -> Facts:
    """The fact bundle of enterprise ``i`` without its facts: node properties and branch
    count only (for an enterprise whose indicator hits are reused)."""
    pred = proj.graph._pred[i]
    return Facts(i, proj.keys[i], dict(proj.graph._node[i]),
                 branches=sum(1 for keyed in pred.values() if "BRANCH_OF" in keyed))


def fact_owners(proj: Projection, keys: Mapping[str, Iterable[str]]) -> set[int]:
    """The nodes holding a folded fact (:attr:`Projection.facts`) whose label and key are
    among ``keys`` (label → keys)."""
    wanted = {label: set(ks) for label, ks in keys.items()}
    if not wanted:
        return set()
    return {owner for owner, held in proj.facts.items()
            if any(f["key"] in wanted.get(f["label"], ()) for _, f, _ in held)}


def affected(proj: Projection, changed: Iterable[int]) -> set[int]:
    """The enterprises whose fact bundle (:func:`gather`) may differ when the nodes
    ``changed`` (and every relationship touching them) changed: a changed enterprise; the
    enterprises with a fact relationship (:data:`FACT_EDGES`) into a changed node; and, for
    a changed person or party, the parties to the court cases it is party to (it may be
    their natural-person plaintiff)."""
    g, labels = proj.graph, proj.labels
    succ, pred = g._succ, g._pred
    out: set[int] = set()
    for v in changed:
        if labels[v] == "Enterprise":
            out.add(v)
        for u, keyed in pred[v].items():
            if labels[u] == "Enterprise" and any(k in FACT_EDGES for k in keyed):
                out.add(u)
        if labels[v] in ("Person", "Party"):
            for case, keyed in succ[v].items():
                if "PARTY_TO" in keyed:
                    out.update(u for u, k2 in pred[case].items()
                               if "PARTY_TO" in k2 and labels[u] == "Enterprise")
    return out


def as_of_date(proj: Projection) -> date:
    """The reference date of the data: the latest delivery seen (else today)."""
    latest: date | None = None
    seen = {data.get("delivery") for data in proj.graph._node.values()}  # few distinct
    seen.update(f.get("delivery") for held in proj.facts.values() for _, f, _ in held)
    for value in seen:
        d = parse_date(value)
        if d is not None and (latest is None or d > latest):
            latest = d
    return latest or date.today()
