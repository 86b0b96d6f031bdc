"""Scoring on a projection (pure: no Neo4j): indicators → direct score → linked risk → groups,
controllers and regions → one :class:`Record` per enterprise and one :class:`GroupFacts` per
group. :mod:`analytics.pipeline` reads the projection and writes the result back.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analytics import groups as grp
from analytics import indicators as ind
from analytics import propagation as prop
from analytics import regions, sectors
from analytics.facts import Facts, as_of_date, gather, light_facts, num, parse_date
from analytics.projection import Projection
from riskgraph.errors import RiskgraphError
from riskgraph.laps import Laps
from riskgraph.settings import Settings

if TYPE_CHECKING:
    from analytics.calibration import ModelVersion

LINK_REASON_MIN = 5.0
"""Linked points from which the strongest path's relationship becomes a reason."""

LINKED = "linked"
"""Feature (and noisy-OR weight) of the linked risk. With ``L`` the noisy-OR of the messages of
the last propagation round, ``total = 1 - (1 - direct) * (1 - gamma * L)``: so ``L`` is one more
indicator strength whose weight is the propagation's ``gamma`` (:data:`prop.GAMMA` by hand)."""

RAW_FEATURES: tuple[str, ...] = ("raw.reg_capital_wan", "raw.paid_capital_wan",
                                 "raw.age_years", "raw.branches")
"""Raw numeric fields the tree model may use besides the indicators and ``linked``."""

LINK_CHANNELS: tuple[str, ...] = tuple(f"{LINKED}.{c}" for c in prop.CHANNELS)
"""``linked`` split by the channel it came through (``linked.people``, ``linked.phone`` …;
:func:`analytics.propagation.linked_by_channel`): features the tree model may weigh apart."""

NET_FEATURES: tuple[str, ...] = (
    *(f"net.hub.{c}" for c in prop.NEIGHBOUR_CHANNELS),
    *(f"net.source.{c}" for c in prop.NEIGHBOUR_CHANNELS), "net.source.direct")
"""What surrounds a firm (:func:`analytics.propagation.neighbour_features`): the largest
connector of each channel it sits at, and the strongest direct risk among the firms it shares
a small connector with or is tied to directly."""

TREE_EXTRA: tuple[str, ...] = (*LINK_CHANNELS, *NET_FEATURES, *RAW_FEATURES)
"""What a tree model may use besides the noisy-OR's features (indicators and ``linked``)."""
LINKED_FEATURES: frozenset[str] = frozenset({LINKED, *LINK_CHANNELS})
"""The features that carry linked risk (a tree model's linked points are theirs)."""


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
    link_digests: dict[str, str] = field(default_factory=dict)
    """Enterprise key → digest of its links (:func:`analytics.groups.link_digests`)."""
    raw_hits: dict[str, tuple[dict[str, Any], Any]] = field(default_factory=dict)
    """Enterprise key → (raw hits, until date) (:attr:`Evaluated.raw`)."""


LEVEL_ORDER = ("red", "orange", "yellow", "blue")
"""The levels from the highest threshold down (below blue: ``none``)."""


def level_of(score: float, levels: Mapping[str, float]) -> str:
    """red/orange/yellow/blue by the thresholds, ``none`` below blue."""
    for name in LEVEL_ORDER:
        if score >= float(levels[name]):
            return name
    return "none"


def level_finder(levels: Mapping[str, float]) -> Callable[[float], str]:
    """:func:`level_of` for fixed thresholds, read once (called for every enterprise)."""
    bounds = tuple((name, float(levels[name])) for name in LEVEL_ORDER)

    def find(score: float) -> str:
        for name, bound in bounds:
            if score >= bound:
                return name
        return "none"

    return find


def model_version(weights: Mapping[str, float]) -> str:
    """Version string: the direct model id plus a hash of weights and propagation parameters."""
    blob = json.dumps({"w": dict(sorted(weights.items())), "p": prop.WEIGHTS, "f": prop.FREE,
                       "t0": prop.T0, "g": prop.GAMMA, "k": prop.ROUNDS,
                       "rev": prop.REVERSE, "cav": prop.CAVITY, "rw": prop.RATIO_WEIGHT,
                       "b": prop.BETA, "bank": ind.BANK_PATTERNS, "fam": prop.FAMILY,
                       "corr": prop.CORROBORATED, "pmax": prop.PAIR_MAX,
                       "unc": ind.UNCORROBORATED, "self": sorted(ind.SELF_DECLARED),
                       "csrc": sorted(ind.CORROBORATING_SOURCES)}, sort_keys=True)
    blob = f"{ind.MODEL_VERSION}|{blob}"
    return f"handset-{hashlib.sha1(blob.encode()).hexdigest()[:8]}"


def split_weights(weights: Mapping[str, float] | None) -> tuple[dict[str, float], float]:
    """Model weights (indicators, maybe ``linked``) → (every indicator's weight, gamma)."""
    weights = weights or {}
    return ind.weights(weights), float(weights.get(LINKED, prop.GAMMA))


def model_weights(weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every indicator weight plus ``linked`` (the form a noisy-OR ModelVersion stores)."""
    w, gamma = split_weights(weights)
    return {**w, LINKED: gamma}


def resolve_model(model: ModelVersion | None, weights: Mapping[str, float] | None = None
                  ) -> tuple[dict[str, float], float, str]:
    """(indicator weights, gamma, version id) of the direct score and propagation.

    No model: the hand-set weights (with ``weights`` overrides). A noisy-OR model: its
    weights. A tree model: the noisy-OR it was calibrated on (``params["link_weights"]``),
    which only feeds the ``linked`` feature."""
    if model is None:
        w = ind.weights(weights)
        return w, prop.GAMMA, model_version(w)
    base = model.weights if model.kind == "noisy_or" else model.params.get("link_weights")
    w, gamma = split_weights(base)
    return w, gamma, model.version_id


@dataclass
class Evaluated:
    """Indicators, direct and total risk of every enterprise under one set of weights."""

    ctx: ind.Context
    facts: list[Facts]
    hits: dict[int, dict[str, ind.Hit]]
    direct: dict[int, float]
    la: prop.LinkArrays
    d: np.ndarray
    total: np.ndarray
    gamma: float
    raw: dict[str, tuple[dict[str, ind.Hit], date | None]] = field(default_factory=dict)
    """Enterprise key → (raw hits, until): what the next run may reuse."""
    counts: dict[str, int] = field(default_factory=dict)
    """Enterprises ``evaluated`` and whose hits were ``reused``."""
    state: prop.MessageState | None = None
    """The propagation's last-round messages (for :data:`LINK_CHANNELS`)."""


PARALLEL_MIN = 20_000
"""Enterprises below which indicators are evaluated in the scoring process only (forking
costs more than it saves)."""

_SHARED: dict[str, Any] = {}
"""The facts and context a forked evaluator reads (inherited copy-on-write, never pickled)."""


def _evaluate_slice(bounds: tuple[int, int]) -> list[Any]:
    lo, hi = bounds
    facts, ctx = _SHARED["facts"], _SHARED["ctx"]
    fn = getattr(ind, _SHARED["fn"])
    return [fn(f, ctx) for f in facts[lo:hi]]


def evaluate_indicators(facts: Sequence[Facts], ctx: ind.Context, workers: int = 1,
                        fn: str = "evaluate") -> list[Any]:
    """:func:`indicators.evaluate` (or the :mod:`analytics.indicators` function named
    ``fn``, e.g. ``evaluate_raw_until``) of every enterprise, in ``facts`` order.

    With ``workers`` > 1 and many enterprises, the list is cut into ``workers`` slices: the
    scoring process evaluates the last, forked processes the others. A fork shares the
    projection copy-on-write (the caller keeps the garbage collector paused, so the child
    does not touch every object) and sends back only its slice's hits; indicators are pure
    functions of one enterprise's facts, so the result equals the serial one. Where ``fork``
    is not available the evaluation stays serial."""
    n = len(facts)
    if workers <= 1 or n < PARALLEL_MIN or "fork" not in mp.get_all_start_methods():
        call = getattr(ind, fn)
        return [call(f, ctx) for f in facts]
    step = -(-n // workers)
    bounds = [(lo, min(lo + step, n)) for lo in range(0, n, step)]
    _SHARED.update(facts=facts, ctx=ctx, fn=fn)
    try:
        with ProcessPoolExecutor(len(bounds) - 1, mp_context=mp.get_context("fork")) as pool:
            pending = [pool.submit(_evaluate_slice, b) for b in bounds[:-1]]
            mine = _evaluate_slice(bounds[-1])
            theirs = [f.result() for f in pending]
    except BrokenProcessPool as exc:  # a worker died (e.g. killed for memory): no hang
        raise RiskgraphError(
            "an indicator worker process died before it finished",
            "the machine may be short of memory: set RISKGRAPH_SCORE_WORKERS=1 and rerun",
        ) from exc
    finally:
        _SHARED.clear()
    return [h for part in theirs for h in part] + mine


@dataclass
class FoundGroups:
    """Groups (enterprise node ids), their ids, the link digests and the grouping report."""

    members: list[set[int]]
    ids: list[str]
    digests: dict[str, str]
    report: dict[str, Any]


def find_groups(proj: Projection, la: prop.LinkArrays, control: Mapping[int, grp.Control],
                method: str, previous_groups: Mapping[str, set[str]] | None,
                previous_links: grp.LinkState | None) -> FoundGroups:
    """:func:`analytics.groups.find_groups` and the stable ids of what it found."""
    digests: dict[str, str] = {}
    report: dict[str, Any] = {}
    found = grp.find_groups(proj, la, control, method, previous_groups, previous_links,
                            digests, report)
    member_keys = [{proj.keys[m] for m in g} for g in found]
    ids = grp.assign_ids(member_keys, previous_groups or {})
    return FoundGroups(found, ids, digests, report)


def _find_groups_in_child() -> FoundGroups:
    return find_groups(*_SHARED["groups"])


def start_find_groups(proj: Projection, la: prop.LinkArrays,
                      control: Mapping[int, grp.Control], method: str,
                      previous_groups: Mapping[str, set[str]] | None,
                      previous_links: grp.LinkState | None, fork: bool = False
                      ) -> Callable[[], FoundGroups]:
    """:func:`find_groups`, with ``fork`` in a forked process while the caller goes on (the
    records need only the group ids, which are set once the groups are in); returns the
    function that gives the result (waiting for the child).

    With ``fork`` (``RISKGRAPH_GROUPS_IN_CHILD``), at least :data:`PARALLEL_MIN` enterprises
    and ``fork`` available, a child process inherits the projection and the link arrays
    copy-on-write (the caller keeps the garbage collector paused) and sends back only the
    groups, their ids and the link digests; group detection is deterministic (fixed seed,
    same inputs), so the result equals the serial one. Otherwise, or when the child dies
    (e.g. killed for memory), the groups are found in this process. The price is memory:
    the pages either process touches while both run are copied (``bench.refresh --scale
    25``, run O: increment peak PSS 14.8 GB against 10.7 GB, and no faster on the 2-core
    24 GB machine; docs/operations.md), so it is off by default."""
    args = (proj, la, control, method, previous_groups, previous_links)
    if not fork or len(la.ents) < PARALLEL_MIN or "fork" not in mp.get_all_start_methods():
        found = find_groups(*args)
        return lambda: found
    _SHARED["groups"] = args
    pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
    try:
        future = pool.submit(_find_groups_in_child)
    except BaseException:
        pool.shutdown(wait=False)
        _SHARED.pop("groups", None)
        raise

    def result() -> FoundGroups:
        try:
            out: FoundGroups = future.result()
            out.report["in_child"] = True
            return out
        except BrokenProcessPool:  # the child died: find them here (slower, same result)
            found = find_groups(*args)
            found.report["in_child"] = False
            found.report["child_died"] = True
            return found
        finally:
            pool.shutdown(wait=True)
            _SHARED.pop("groups", None)

    return result


@dataclass
class HitReuse:
    """What the previous run evaluated, for a rescore on a patched projection
    (:mod:`analytics.hits_cache`): per enterprise key its raw hits and the reference date
    until which they hold (:func:`indicators.evaluate_raw_until`), the reference date they
    were evaluated at, and ``dirty``: the projection ids of the enterprises whose facts may
    have changed since (:func:`facts.affected`)."""

    as_of: date
    entries: Mapping[str, tuple[dict[str, ind.Hit], date | None]]
    dirty: set[int]


def reusable_hits(proj: Projection, ents: Sequence[int], ctx: ind.Context,
                  reuse: HitReuse | None) -> dict[int, tuple[dict[str, ind.Hit], date | None]]:
    """Projection id → cached (raw hits, until) of the enterprises whose facts did not
    change and whose date-dependent indicators still give the same result."""
    if reuse is None or reuse.as_of > ctx.as_of:
        return {}
    out = {}
    keys, dirty, entries = proj.keys, reuse.dirty, reuse.entries
    for i in ents:
        if i in dirty:
            continue
        entry = entries.get(keys[i])
        if entry is not None and (entry[1] is None or ctx.as_of < entry[1]):
            out[i] = entry
    return out


def evaluate_all(proj: Projection, w: Mapping[str, float], gamma: float = prop.GAMMA,
                 workers: int = 1, reuse: HitReuse | None = None,
                 seconds: dict[str, float] | None = None) -> Evaluated:
    """Every indicator of every enterprise (``workers`` processes, see
    :func:`evaluate_indicators`), the direct noisy-OR and the propagated total.

    With ``reuse``, the enterprises :func:`reusable_hits` names keep their cached raw hits
    and get a light fact bundle (node properties and branch count: what the records and
    the feature frame read); the rest are gathered and evaluated. ``Evaluated.raw`` holds
    every enterprise's raw hits and until date, for the next run. ``seconds`` receives the
    time of each step."""
    lap = Laps(seconds if seconds is not None else {})
    ctx = ind.Context(as_of=as_of_date(proj))
    ents = proj.of_label("Enterprise")
    kept = reusable_hits(proj, ents, ctx, reuse)
    todo = [i for i in ents if i not in kept]
    lap("reuse")
    gathered = gather(proj, todo)
    lap("gather")
    fresh = dict(zip(todo, evaluate_indicators(gathered, ctx, workers, "evaluate_raw_until"),
                     strict=True))
    lap("indicators")
    by_node = {f.node: f for f in gathered}
    all_facts = [by_node[i] if i in by_node else light_facts(proj, i) for i in ents]
    lap("light_facts")
    hits_by_node: dict[int, dict[str, ind.Hit]] = {}
    direct: dict[int, float] = {}
    raw: dict[str, tuple[dict[str, ind.Hit], date | None]] = {}
    for f in all_facts:
        entry = kept.get(f.node) or fresh[f.node]
        raw[f.uscc] = entry
        hits = hits_by_node[f.node] = ind.corroborate(entry[0])
        direct[f.node] = ind.noisy_or(hits, w)
    lap("direct")
    la = prop.link_arrays(proj)
    lap("link_arrays")
    d = np.array([direct.get(int(n), 0.0) for n in la.ents], dtype=float)
    total, state = prop.propagate_state(la, d, gamma=gamma)
    lap("propagate")
    return Evaluated(ctx, all_facts, hits_by_node, direct, la, d, total, gamma, raw,
                     {"evaluated": len(todo), "reused": len(kept)}, state)


def frame_of(ev: Evaluated) -> pd.DataFrame:
    """Features per enterprise (index ``uscc``, in ``ev.facts`` order): the strength of every
    indicator (0 when it does not fire), :data:`LINKED`, :data:`LINK_CHANNELS`,
    :data:`NET_FEATURES` and :data:`RAW_FEATURES`."""
    pos = {int(n): i for i, n in enumerate(ev.la.ents)}
    ids = [i.id for i in ind.INDICATORS]
    channels = prop.linked_by_channel(ev.la, ev.state)
    around = prop.neighbour_features(ev.la, ev.d)
    rows = []
    for f in ev.facts:
        hits = ev.hits[f.node]
        row: dict[str, float] = {k: (hits[k].strength if k in hits else 0.0) for k in ids}
        i = pos.get(f.node)
        linked = 0.0
        if i is not None and ev.gamma > 0 and ev.d[i] < 1.0:
            linked = (float(ev.total[i]) - float(ev.d[i])) / ((1.0 - float(ev.d[i])) * ev.gamma)
        row[LINKED] = min(1.0, max(0.0, linked))
        for c, name in zip(prop.CHANNELS, LINK_CHANNELS, strict=True):
            row[name] = float(channels[c][i]) if i is not None else 0.0
        for name in NET_FEATURES:
            row[name] = float(around[name[4:]][i]) if i is not None else 0.0
        founded = parse_date(f.ent.get("founded"))
        row["raw.reg_capital_wan"] = _nan(num(f.ent, "reg_capital_wan"))
        row["raw.paid_capital_wan"] = _nan(num(f.ent, "paid_capital_wan"))
        row["raw.age_years"] = (ev.ctx.as_of - founded).days / 365.25 if founded else np.nan
        row["raw.branches"] = float(f.branches)
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index([f.uscc for f in ev.facts], name="uscc"),
                        columns=[*ids, LINKED, *TREE_EXTRA], dtype=float)


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def feature_frame(proj: Projection, weights: Mapping[str, float] | None = None
                  ) -> pd.DataFrame:
    """:func:`frame_of` the projection under noisy-OR ``weights`` (indicators, maybe
    ``linked``; default the hand-set ones): what ``riskgraph calibrate`` fits on."""
    w, gamma = split_weights(weights)
    return frame_of(evaluate_all(proj, w, gamma))


def _tree_scores(model: ModelVersion, frame: pd.DataFrame, anchor: float
                 ) -> tuple[np.ndarray, np.ndarray, float]:
    """Tree model: score 0-100 per row, the mean ``pred_contrib`` (logit; last column is the
    bias) of its boosters, and the logit shift applied.

    A tree model's probability has the base rate's scale (≈1 % positives), not the scale the
    level thresholds were set for. The score is therefore shifted in logit space so that the
    model's own decision threshold lands on ``anchor`` (the orange level): monotone, so the
    ranking, AUC and the per-feature logit contributions are unchanged.
    """
    data = frame.loc[:, list(model.features)].apply(pd.to_numeric, errors="coerce")
    data = data.astype(float)
    contrib = np.mean([np.asarray(b.predict(data, pred_contrib=True), dtype=float)
                       for b in model.booster_models()], axis=0)
    shift = _logit(anchor / 100.0) - _logit(float(model.threshold) / 100.0)
    logit = contrib.sum(axis=1) + shift
    return 100.0 / (1.0 + np.exp(-logit)), contrib, shift


def _logit(p: float) -> float:
    q = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(q / (1 - q)))


def compute(proj: Projection, settings: Settings,
            previous_groups: Mapping[str, set[str]] | None = None,
            weights: Mapping[str, float] | None = None,
            community_method: str = "auto",
            model: ModelVersion | None = None,
            previous_links: grp.LinkState | None = None,
            reuse: HitReuse | None = None) -> ScoringResult:
    """Score every enterprise of ``proj`` with ``model`` (a stored ModelVersion) or, without
    one, the hand-set weights (``weights`` overrides them). ``previous_groups`` and
    ``previous_links`` (what the live run left) keep groups stable
    (:func:`analytics.groups.find_groups`)."""
    seconds: dict[str, float] = {}
    w, gamma, version = resolve_model(model, weights)
    ev = evaluate_all(proj, w, gamma, settings.score_workers, reuse, seconds)
    lap = Laps(seconds)
    ctx, all_facts, hits_by_node, direct = ev.ctx, ev.facts, ev.hits, ev.direct
    la, d, total = ev.la, ev.d, ev.total
    # controllers, then the groups (in a forked process on large graphs) while the paths
    # and records are made here
    control = grp.controllers(proj, settings.controller_threshold)
    lap("controllers")
    groups_found = start_find_groups(proj, la, control, community_method, previous_groups,
                                     previous_links, settings.groups_in_child)
    lap("groups" if not settings.groups_in_child else "groups_start")
    paths = prop.top_paths(proj, la, d, total, gamma=gamma)
    shares = channel_shares(prop.linked_by_channel(la, ev.state))
    lap("paths")
    score_by_node = {int(n): round(100.0 * float(t), 2) for n, t in zip(la.ents, total,
                                                                         strict=True)}
    tree: dict[int, dict[str, float]] = {}
    shift = 0.0
    if model is not None and model.kind == "lgbm":
        tree_scores, tree_contrib, shift = _tree_scores(model, frame_of(ev),
                                                        float(settings.levels["orange"]))
        for f, s, c in zip(all_facts, tree_scores, tree_contrib, strict=True):
            score_by_node[f.node] = round(float(s), 2)
            tree[f.node] = {**dict(zip(model.features, map(float, c[:-1]), strict=True)),
                            "(bias)": float(c[-1])}
    lap("tree")
    by_ctl = regions.controlled_firms(control)
    ties: dict[int, set[int]] = {}  # strong ties per firm, shared by the region facts below
    # records (group ids set below, once the groups are in)
    pos = {int(n): i for i, n in enumerate(la.ents)}
    blue = float(settings.levels["blue"])
    level = level_finder(settings.levels)
    records: list[Record] = []
    for f in all_facts:
        i = pos[f.node]
        score = score_by_node[f.node]
        hits = hits_by_node[f.node]  # none for most firms: the loop below is kept short
        direct_pts = 100.0 * direct[f.node]
        contrib = ind.contributions(hits, w, direct_pts) if hits else {}
        model_note: dict[str, Any] | None = None
        if f.node in tree:
            # tree model: contributions in logit; linked points = score minus the score
            # without the contributions of the linked features (total and by channel)
            tc = tree[f.node]
            logit = sum(tc.values())
            linked_logit = sum(v for k, v in tc.items() if k in LINKED_FEATURES)
            without = 100.0 / (1.0 + np.exp(-(logit + shift - linked_logit)))
            direct_pts = min(score, float(without))
            contrib = {k: tc.get(k, 0.0) for k in hits}
            model_note = {"version": version, "kind": "lgbm", "unit": "logit",
                          "shift": round(shift, 4),
                          "contributions": {k: round(v, 4) for k, v in tc.items() if v}}
        order = sorted(hits, key=lambda k: -contrib[k]) if len(hits) > 1 else list(hits)
        node_paths = paths.get(i, [])
        linked_pts = max(0.0, score - direct_pts)
        reasons = list(order)
        if node_paths and linked_pts >= LINK_REASON_MIN:
            reasons.append(f"linked.{node_paths[0].rels[-1].lower()}")
        explanation = {
            "indicators": [
                {"id": k, "source": ind.INDICATOR_BY_ID[k].source, "delivery": hits[k].delivery,
                 "value": _jsonable(hits[k].value), "strength": round(hits[k].strength, 3),
                 "contribution": round(contrib[k], 4 if model_note else 2)}
                for k in order
            ],
            "paths": [p.as_dict() for p in node_paths] if linked_pts > 0.5 else [],
            "direct": round(direct_pts, 2),
            "linked": round(linked_pts, 2),
        }
        if linked_pts > 0.5:
            explanation["linked_by"] = channel_points(linked_pts, shares[i].tolist())
        if model_note is not None:
            explanation["model"] = model_note
        # an enterprise's own cross-region facts: those of its strong core (it is the core);
        # below the lowest level only its own county (nothing is flagged there)
        if score >= blue:
            ctl_f = control[f.node].controller if f.node in control else None
            rf = regions.region_facts(proj, [f.node], score_by_node, ctl_f, control,
                                      core=f.node, by_controller=by_ctl, ties_memo=ties)
        else:
            county = str(f.ent.get("county") or "")
            rf = regions.RegionFacts([county] if county else [], [], False, county)
        sector, dept = sectors.route(f"{f.ent.get('scope') or ''} {f.ent.get('name') or ''}",
                                     str(f.ent.get("ent_type") or ""))
        records.append(Record(
            f.uscc, str(f.ent.get("name") or ""), str(f.ent.get("county") or ""), score,
            level(score), reasons, explanation, "", rf.cross_region,
            rf.lead_region, sector, dept, version,
        ))
    lap("records")
    groups = groups_found()
    found, ids, digests, grouping = groups.members, groups.ids, groups.digests, groups.report
    lap("groups_wait")
    group_list, group_of = group_facts(proj, found, ids, control, score_by_node, by_ctl, ties)
    for f, rec in zip(all_facts, records, strict=True):
        rec.group_id = group_of.get(f.node, "")
    lap("group_facts")
    controls = [{"src": proj.keys[c.controller], "dst": proj.keys[c.enterprise],
                 "share": c.share} for c in control.values()
                if proj.labels[c.enterprise] == "Enterprise"]
    stats = {"enterprises": len(records), "groups": len(group_list), "seconds": seconds,
             "controlled": len(controls), "as_of": ctx.as_of.isoformat(),
             "grouping": grouping, "indicators": ev.counts,
             "levels": _count(r.level for r in records)}
    return ScoringResult(records, group_list, controls, version, stats, digests, ev.raw)


def group_facts(proj: Projection, found: Sequence[set[int]], ids: Sequence[str],
                control: Mapping[int, grp.Control], score_by_node: Mapping[int, float],
                by_ctl: Mapping[int, set[int]], ties_memo: dict[int, set[int]] | None = None
                ) -> tuple[list[GroupFacts], dict[int, str]]:
    """Each group's facts (members, score, regions, controller) and the group id of every
    member. ``ties_memo``: :func:`analytics.regions.strong_core`'s."""
    group_of: dict[int, str] = {}
    group_list: list[GroupFacts] = []
    for gid, members in zip(ids, found, strict=True):
        ctl_counts: dict[int, int] = {}
        for m in members:
            if m in control:
                ctl_counts[control[m].controller] = ctl_counts.get(control[m].controller, 0) + 1
        ctl = max(ctl_counts, key=lambda c: (ctl_counts[c], proj.keys[c])) if ctl_counts else None
        rf = regions.region_facts(proj, members, score_by_node, ctl, control,
                                  by_controller=by_ctl, ties_memo=ties_memo)
        gscore = grp.group_score([score_by_node.get(m, 0.0) for m in members])
        group_list.append(GroupFacts(gid, sorted(proj.keys[m] for m in members), gscore,
                                     rf.counties, rf.cities, rf.cross_region, rf.lead_region,
                                     proj.keys[ctl] if ctl is not None else ""))
        for m in members:
            group_of[m] = gid
    return group_list, group_of


def channel_shares(channels: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per enterprise position, each channel's share (columns in
    :data:`analytics.propagation.CHANNELS` order) of ``-log(1 - L_c)``: the log-share that
    splits a noisy-OR (``1 - prod(1 - L_c) = L``), as
    :func:`analytics.indicators.contributions` splits the direct points (all zero where
    nothing came in)."""
    if not channels:
        return np.zeros((0, len(prop.CHANNELS)))
    stacked = np.vstack([np.asarray(channels[c], dtype=float) for c in prop.CHANNELS]).T
    logs = -np.log1p(-np.minimum(stacked, 1.0 - 1e-12))
    total = logs.sum(axis=1, keepdims=True)
    return np.divide(logs, total, out=np.zeros_like(logs), where=total > 0)


def channel_points(linked_pts: float, shares: Sequence[float]) -> dict[str, float]:
    """The linked points of one enterprise split by channel (``shares``: its row of
    :func:`channel_shares`): largest first, one decimal, shares under 0.1 point left out."""
    pts = [(v, c) for c, x in zip(prop.CHANNELS, shares, strict=True)
           if x and (v := round(linked_pts * x, 1)) >= 0.1]
    if len(pts) > 1:
        pts.sort(key=lambda vc: (-vc[0], vc[1]))
    return {c: v for v, c in pts}


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)
