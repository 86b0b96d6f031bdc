"""Scoring on a projection (pure: no Neo4j): indicators → direct score → linked risk → groups,
controllers and regions → one :class:`Record` per enterprise and one :class:`GroupFacts` per
group. :mod:`analytics.pipeline` reads the projection and writes the result back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analytics import groups as grp
from analytics import indicators as ind
from analytics import propagation as prop
from analytics import regions, sectors
from analytics.facts import as_of_date, gather
from analytics.projection import Projection
from riskgraph.settings import Settings

LINK_REASON_MIN = 5.0
"""Linked points from which the strongest path's relationship becomes a reason."""


@dataclass
class Record:
    """The score of one enterprise (the ScoreRecord properties of the read contract)."""

    uscc: str
    name: str
    county: str
    score: float
    level: str
    reasons: list[str]
    explanation: dict[str, Any]
    group_id: str = ""
    cross_region: bool = False
    lead_region: str = ""
    sector: str = ""
    department: str = ""
    model_version: str = ""

    def props(self, run_id: str) -> dict[str, Any]:
        """Properties of the ScoreRecord node."""
        return {
            "uscc": self.uscc, "run_id": run_id, "name": self.name, "county": self.county,
            "score": self.score, "level": self.level, "reasons": self.reasons,
            "explanation": json.dumps(self.explanation, ensure_ascii=False, sort_keys=True),
            "group_id": self.group_id, "cross_region": self.cross_region,
            "lead_region": self.lead_region, "sector": self.sector,
            "department": self.department, "model_version": self.model_version,
        }


@dataclass
class GroupFacts:
    """A group of firms (the Group node of the read contract)."""

    group_id: str
    members: list[str]
    score: float
    counties: list[str]
    cities: list[str]
    cross_region: bool
    lead_region: str
    controller: str = ""

    def props(self, run_id: str) -> dict[str, Any]:
        return {"members": self.members, "score": self.score, "counties": self.counties,
                "cities": self.cities, "cross_region": self.cross_region,
                "lead_region": self.lead_region, "controller": self.controller,
                "run_id": run_id, "size": len(self.members)}


@dataclass
class ScoringResult:
    records: list[Record]
    groups: list[GroupFacts]
    controls: list[dict[str, Any]]
    model_version: str
    stats: dict[str, Any] = field(default_factory=dict)


def level_of(score: float, levels: Mapping[str, float]) -> str:
    """red/orange/yellow/blue by the thresholds, ``none`` below blue."""
    for name in ("red", "orange", "yellow", "blue"):
        if score >= float(levels[name]):
            return name
    return "none"


def model_version(weights: Mapping[str, float]) -> str:
    """Version string: the direct model id plus a hash of weights and propagation parameters."""
    blob = json.dumps({"w": dict(sorted(weights.items())), "p": prop.WEIGHTS, "f": prop.FREE,
                       "t0": prop.T0, "g": prop.GAMMA, "k": prop.ROUNDS}, sort_keys=True)
    return f"{ind.MODEL_VERSION}+{hashlib.sha1(blob.encode()).hexdigest()[:8]}"


def compute(proj: Projection, settings: Settings,
            previous_groups: Mapping[str, set[str]] | None = None,
            weights: Mapping[str, float] | None = None,
            community_method: str = "auto") -> ScoringResult:
    """Score every enterprise of ``proj``."""
    w = ind.weights(weights)
    version = model_version(w)
    ctx = ind.Context(as_of=as_of_date(proj))
    all_facts = gather(proj)
    hits_by_node: dict[int, dict[str, ind.Hit]] = {}
    direct: dict[int, float] = {}
    for f in all_facts:
        hits = ind.evaluate(f, ctx)
        hits_by_node[f.node] = hits
        direct[f.node] = ind.noisy_or(hits, w)
    la = prop.link_arrays(proj)
    import numpy as np

    d = np.array([direct.get(int(n), 0.0) for n in la.ents], dtype=float)
    total = prop.propagate(la, d)
    paths = prop.top_paths(proj, la, d, total)
    score_by_node = {int(n): round(100.0 * float(t), 2) for n, t in zip(la.ents, total,
                                                                         strict=True)}
    # controllers and groups
    control = grp.controllers(proj, settings.controller_threshold)
    found = grp.find_groups(proj, la, control, community_method)
    member_keys = [{proj.keys[m] for m in g} for g in found]
    ids = grp.assign_ids(member_keys, previous_groups or {})
    group_of: dict[int, tuple[str, regions.RegionFacts]] = {}
    group_list: list[GroupFacts] = []
    for gid, members in zip(ids, found, strict=True):
        ctl_counts: dict[int, int] = {}
        for m in members:
            if m in control:
                ctl_counts[control[m].controller] = ctl_counts.get(control[m].controller, 0) + 1
        ctl = max(ctl_counts, key=lambda c: (ctl_counts[c], proj.keys[c])) if ctl_counts else None
        rf = regions.region_facts(proj, members, score_by_node, ctl)
        gscore = grp.group_score([score_by_node.get(m, 0.0) for m in members])
        group_list.append(GroupFacts(gid, sorted(proj.keys[m] for m in members), gscore,
                                     rf.counties, rf.cities, rf.cross_region, rf.lead_region,
                                     proj.keys[ctl] if ctl is not None else ""))
        for m in members:
            group_of[m] = (gid, rf)
    # records
    pos = {int(n): i for i, n in enumerate(la.ents)}
    blue = float(settings.levels["blue"])
    records: list[Record] = []
    for f in all_facts:
        i = pos[f.node]
        score = score_by_node[f.node]
        hits = hits_by_node[f.node]
        direct_pts = 100.0 * direct[f.node]
        contrib = ind.contributions(hits, w, direct_pts)
        order = sorted(hits, key=lambda k: -contrib[k])
        node_paths = paths.get(i, [])
        linked_pts = max(0.0, score - direct_pts)
        reasons = list(order)
        if node_paths and linked_pts >= LINK_REASON_MIN:
            reasons.append(f"linked.{node_paths[0].rels[-1].lower()}")
        explanation = {
            "indicators": [
                {"id": k, "source": ind.INDICATOR_BY_ID[k].source, "delivery": hits[k].delivery,
                 "value": _jsonable(hits[k].value), "strength": round(hits[k].strength, 3),
                 "contribution": round(contrib[k], 2)}
                for k in order
            ],
            "paths": [p.as_dict() for p in node_paths] if linked_pts > 0.5 else [],
            "direct": round(direct_pts, 2),
            "linked": round(linked_pts, 2),
        }
        gid, rf = group_of.get(f.node, ("", None))  # type: ignore[assignment]
        if rf is None:
            if score >= blue:
                rf = regions.region_facts(proj, [f.node], score_by_node)
            else:
                county = str(f.ent.get("county") or "")
                rf = regions.RegionFacts([county] if county else [], [], False, county)
        sector, dept = sectors.route(f"{f.ent.get('scope') or ''} {f.ent.get('name') or ''}",
                                     str(f.ent.get("ent_type") or ""))
        records.append(Record(
            f.uscc, str(f.ent.get("name") or ""), str(f.ent.get("county") or ""), score,
            level_of(score, settings.levels), reasons, explanation, gid, rf.cross_region,
            rf.lead_region, sector, dept, version,
        ))
    controls = [{"src": proj.keys[c.controller], "dst": proj.keys[c.enterprise],
                 "share": c.share} for c in control.values()
                if proj.labels[c.enterprise] == "Enterprise"]
    stats = {"enterprises": len(records), "groups": len(group_list),
             "controlled": len(controls), "as_of": ctx.as_of.isoformat(),
             "levels": _count(r.level for r in records)}
    return ScoringResult(records, group_list, controls, version, stats)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)
