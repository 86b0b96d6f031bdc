"""``riskgraph score``: project, score, write back, switch the run live.

:func:`score_graph` is the library entry point (used by the refresh job):

1. a ``Run`` node is created with ``status = 'running'``, ``live = false`` and the next
   sequence number ``seq``; what runs that never went live left behind is undone first
   (:func:`repair_records`);
2. the graph is projected (:mod:`analytics.projection`) and scored (:mod:`analytics.scoring`);
3. ScoreRecords are versioned, not copied: a record is written (``record_id =
   "<run_id>|<uscc>"``, ``from_seq = seq``, CREATEd by two sessions at once) only for an
   enterprise whose record differs from its current one (a digest of its properties), and
   the record it replaces is closed (``to_seq = seq``; enterprises without a current record,
   e.g. all of them on a first run, take a plain CREATE); an enterprise no longer scored has
   its record closed. Readers see the records valid at the live run's sequence
   (:func:`graph.cypher.valid_at`), so nothing written here is visible yet. Group nodes,
   and the memberships and ``CONTROLS`` that are new or changed, are written too;
4. ONE final transaction sets the new run ``status = 'ok', live = true`` and the previous live
   run ``live = false``;
5. afterwards the memberships and controls the new run no longer has are removed, the live
   score is cached on Enterprise nodes (only where the cached score/level differs) and the
   digests of every firm's links and the groups are kept in
   ``RISKGRAPH_HOME/cache/group-links.json`` for
   the next run's local group update (:func:`analytics.groups.find_groups`; derived data: a
   missing or foreign file only makes the next run re-optimise every group).

Writes are UNWIND batches of :data:`SCORE_BATCH` rows, one query per kind; the summary's
``seconds`` has wall times per stage (``write_records``, ``write_groups`` …) and the client's
CPU time (``cpu_project``, ``cpu_score``, ``cpu_write``), which stays meaningful on a loaded
machine (``python -m bench.scoring --neo4j`` adds the server's); for the score stage also the
CPU of the forked indicator workers (``cpu_score_workers``) and, on Linux, the time the
scoring thread was ready to run but waited for a core (``wait_score``, from
``/proc/thread-self/schedstat``): wall minus ``cpu_score`` minus ``wait_score`` is about the
time it was blocked (reading from Neo4j, waiting for a worker; ``cpu_score`` also counts the
process's other threads, which use little CPU then). ``records`` counts the
records written, closed and left unchanged.

A crash before step 4 leaves the previous run live; the run is marked ``failed`` (by the
next run when the process died) and its records are removed by the next run.
Scoring runs must not overlap: ``riskgraph score`` and ``riskgraph refresh`` hold the refresh
lock (:class:`riskgraph.runs.RefreshLock`).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import operator
import os
import resource
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from analytics import facts, hits_cache, projection, projection_cache, scoring
from analytics.groups import LinkState
from graph import access, changes, cypher
from riskgraph.errors import DatabaseError, RiskgraphError
from riskgraph.gcpause import gc_paused, release_in_background
from riskgraph.laps import Laps
from riskgraph.paths import write_json_atomic
from riskgraph.settings import Settings


@dataclass
class ScoreSummary:
    """What a scoring run did."""

    run_id: str
    model_version: str
    enterprises: int
    groups: int
    levels: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    projection: dict[str, Any] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    grouping: dict[str, Any] = field(default_factory=dict)
    """Linked firms and how many of them the group detection let move."""
    indicators: dict[str, int] = field(default_factory=dict)
    """Enterprises whose indicators were ``evaluated`` and whose cached hits were ``reused``
    (:mod:`analytics.hits_cache`)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the forked indicator workers)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _runq_wait() -> float | None:
    """Seconds this thread has been ready to run but waited for a core (Linux schedstat;
    None elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def new_run_id() -> str:
    return f"score-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def previous_groups(driver: Any, database: str | None = None) -> dict[str, set[str]]:
    """Group id → member USCCs, as stored by the previous run."""
    rows = access.read_collected(driver, cypher.analytics_previous_groups(), database=database)
    return {gid: {m for m in members if m} for gid, members in rows if gid}


SCORE_BATCH = 10_000
"""Rows per write transaction of the score write-back (UNWIND batches; at least the
configured ``batch_size``)."""

WRITERS = 2
"""Sessions writing ScoreRecord batches at once (disjoint enterprises, so no lock waits):
the client is idle while the server writes, and the server has a core to spare."""


def membership_pairs(groups: Mapping[str, Any]) -> set[tuple[str, str]]:
    """``(uscc, group_id)`` pairs of group id → member USCCs."""
    return {(m, gid) for gid, members in groups.items() for m in members}


def current_controls(driver: Any, database: str | None = None
                     ) -> dict[tuple[str, str], Any]:
    """(controller key, enterprise uscc) → share of the analytics CONTROLS in the graph."""
    return {(row[0], row[1]): row[2]
            for row in access.read_collected(driver, cypher.analytics_controls(),
                                             database=database)}


@dataclass
class Stale:
    """What the new run no longer has, deleted after the switch."""

    memberships: list[dict[str, str]] = field(default_factory=list)
    controls: list[dict[str, str]] = field(default_factory=list)


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(scoring.Record))
"""What a ScoreRecord stores besides the run that wrote it."""

MATERIAL_FIELDS: tuple[str, ...] = tuple(f for f in RECORD_FIELDS
                                         if f not in ("score", "explanation"))
"""The fields a record's digest covers as they are; the explanation is covered without its
points (:func:`explanation_shape`) and the score is compared with a tolerance
(:func:`changed_records`)."""

_material_values = operator.attrgetter(*MATERIAL_FIELDS)
"""The values of :data:`MATERIAL_FIELDS` of a record, as a tuple (in C, not a generator)."""

POINTS = ("contribution",)
"""Keys of an explanation's indicators and paths that hold points (left out of the digest)."""


EMPTY_SHAPE: tuple[Any, ...] = ((), (), (), None)
"""The shape of an explanation with no indicator, path, channel or model (what the general
case gives for it, so the digests are the same)."""


def explanation_shape(explanation: Mapping[str, Any]) -> tuple[Any, ...]:
    """What an explanation says, without how many points each part is worth: every indicator
    (id, source, delivery, value, strength), every path (its nodes and relationships), the
    channels of the linked risk and the model (version and kind). The points (``direct``,
    ``linked``, each ``contribution``, the channel shares, a tree model's per-feature
    contributions and shift) follow the score."""
    if not (explanation.get("indicators") or explanation.get("paths")
            or explanation.get("linked_by") or explanation.get("model")):
        return EMPTY_SHAPE  # most firms: nothing found, nothing linked
    model = explanation.get("model") or {}
    return (
        tuple(tuple((k, v) for k, v in item.items() if k not in POINTS)
              for item in explanation.get("indicators", ())),
        tuple(tuple((k, v) for k, v in path.items() if k not in POINTS)
              for path in explanation.get("paths", ())),
        tuple(explanation.get("linked_by") or ()),
        (model.get("version"), model.get("kind")) if model else None,
    )


def record_digest(record: scoring.Record) -> str:
    """A digest of what a record says (not the run that writes it): every field of
    :class:`analytics.scoring.Record` but the score, and the explanation without its points
    (:func:`explanation_shape`). Two records with the same digest and scores within the
    tolerance (:func:`changed_records`) say the same thing.

    ``marshal`` format 0 (no references, no interning flags, floats as text: the same values
    in the same order give the same bytes) hashes the content without turning it into JSON,
    so only the records that changed are turned into properties (scale 2 synthetic: 17 µs a
    record against 55 µs for the JSON of its properties). The explanation is built in a fixed
    order, so equal content gives equal bytes; a value ``marshal`` cannot carry (e.g. a NumPy
    scalar) falls back to JSON. Changing this function changes every digest: the first run
    after such a change rewrites every record once."""
    values = (*_material_values(record), explanation_shape(record.explanation))
    try:
        blob = marshal.dumps(values, 0)
    except ValueError:
        blob = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha1(blob).hexdigest()


Current = tuple[str | None, float | None]
"""What is known of an enterprise's current record: its digest and its score."""


def current_digests(driver: Any, database: str | None = None) -> dict[str, Current]:
    """USCC → (digest, score) of its current ScoreRecord."""
    return {row[0]: (row[1], row[2]) for row in access.read_collected(
        driver, cypher.analytics_current_digests(), database=database)}


DIGESTS_FORMAT = 3


def digests_file(settings: Settings) -> Path:
    """Where a run leaves the digests of the current records (after it went live)."""
    return settings.home / "cache" / "record-digests.marshal"


def load_digests(path: Path, live_run: str | None, store: str | None = None
                 ) -> dict[str, Current] | None:
    """USCC → (digest, score) of its current record as the live run left them, when the
    file was written by ``live_run`` on the database store ``store`` (when given; else
    ``None``: the caller reads them from the graph). Only scoring runs write ScoreRecords,
    and a run that never went live is repaired back to the live run's records
    (:func:`repair_records`), so the live run's digests are current. The file is saved after
    the run cached its scores on the Enterprise nodes (:func:`cache_scores`), so it vouches
    for those too."""
    try:
        with path.open("rb") as fh:
            fmt, run_id, store_id, digests = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if fmt != DIGESTS_FORMAT or not live_run or run_id != live_run:
        return None
    if store is not None and store_id != store:
        return None
    if not isinstance(digests, dict) or not all(map(_is_current, digests.values())):
        return None  # derived data: a damaged file means reading the records from the graph
    return {str(k): (v[0], v[1]) for k, v in digests.items()}


def _is_current(value: object) -> bool:
    """Whether ``value`` is a (digest, score) pair as :func:`save_digests` writes it."""
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and isinstance(value[0], (str, type(None)))
            and isinstance(value[1], (int, float, type(None))))


def save_digests(path: Path, run_id: str, digests: Mapping[str, Current], store: str = ""
                 ) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(marshal.dumps((DIGESTS_FORMAT, run_id, store, dict(digests))))
    os.replace(tmp, path)


def unchanged(current: Current | None, digest: str, score: float, tolerance: float) -> bool:
    """Whether a record with ``digest`` and ``score`` says what the current one says: the
    same digest and the same score, or one less than ``tolerance`` points away (a current
    record of the old format, without either, has changed)."""
    if current is None or current[0] != digest or current[1] is None:
        return False
    moved = abs(float(score) - float(current[1]))
    return moved == 0 or moved < tolerance


def changed_records(result: scoring.ScoringResult, run_id: str, seq: int,
                    current: Mapping[str, Current],
                    digests: dict[str, Current] | None = None,
                    tolerance: float = 0.0
                    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """(rows to write: the records that differ from their enterprise's current one, with
    ``from_seq = seq``; rows to close: enterprises with a current record not scored now).

    A record differs when its digest does (:func:`record_digest`: what it says) or its score
    moved by ``tolerance`` points or more. Below that, the current record stays, with its
    score: propagation moves the scores of firms far from any change by hundredths of a point
    (scale-25 increment: 64,252 records rewritten with no tolerance, 13,277 with 0.5), and
    score histories would fill with versions that say nothing new. The stored score never
    drifts further than the tolerance from the computed one, since the comparison is always
    with the stored record. ``digests`` receives, for every scored enterprise, the digest
    and score of its current record once this run is live (the stored one where it stays)."""
    rows = []
    for r in result.records:
        digest = record_digest(r)
        cur = current.get(r.uscc)
        if unchanged(cur, digest, r.score, tolerance):
            if digests is not None and cur is not None:
                digests[r.uscc] = cur
            continue
        if digests is not None:
            digests[r.uscc] = (digest, r.score)
        props = r.props(run_id)
        props.update(digest=digest, from_seq=seq, to_seq=cypher.OPEN_SEQ)
        rows.append({"record_id": f"{run_id}|{r.uscc}", "uscc": r.uscc, "props": props})
    scored = {r.uscc for r in result.records}
    gone = [{"uscc": u} for u in sorted(current) if u not in scored]
    return rows, gone


def repair_records(driver: Any, run_id: str, live_seq: int,
                   database: str | None = None) -> None:
    """Undo what scoring runs that never went live left: mark them failed, delete their
    records and reopen the records they closed (the caller holds the refresh lock)."""
    access.write(driver, cypher.analytics_fail_stale_runs(), {"run_id": run_id},
                 database=database)
    access.run_batched(driver, cypher.analytics_drop_unswitched_records(),
                       {"live_seq": live_seq}, database)
    access.run_batched(driver, cypher.analytics_reopen_records(), {"live_seq": live_seq},
                       database)


def write_result(driver: Any, result: scoring.ScoringResult, run_id: str, seq: int,
                 batch_size: int = SCORE_BATCH, database: str | None = None,
                 seconds: dict[str, float] | None = None,
                 previous: Mapping[str, set[str]] | None = None,
                 counts: dict[str, int] | None = None,
                 current: Mapping[str, Current] | None = None,
                 digests: dict[str, Current] | None = None,
                 written: set[str] | None = None,
                 controls_now: Mapping[tuple[str, str], Any] | None = None,
                 tolerance: float = 0.0) -> Stale:
    """Write the changed ScoreRecords (CREATE, :data:`WRITERS` sessions) and close those
    they replace, groups, and the memberships and controls that are new or changed against
    ``previous`` (group id → members now in the graph) and the CONTROLS now in the graph;
    nothing is live yet. Returns what is to be deleted after the switch; per-kind times into
    ``seconds``, records written / closed / unchanged into ``counts``. ``current``: the
    digests of the current records when known (:func:`load_digests`), else read from the
    graph; ``digests`` receives this run's (:func:`changed_records`), ``written`` the
    enterprises whose record was written. ``controls_now``: the CONTROLS in the graph when
    known (:func:`prior_state`), else read from it. ``tolerance``: score points below which a
    record that says the same stays (:func:`changed_records`)."""
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        if seconds is not None:
            now = time.perf_counter()
            seconds[f"write_{name}"] = now - t
            t = now

    access.run_batched(driver, cypher.analytics_clear_run_records(), {"run_id": run_id},
                       database)
    if current is None:
        current = current_digests(driver, database)
    if seconds is not None:
        seconds["write_clear"] = time.perf_counter() - t
    rows, gone = changed_records(result, run_id, seq, current, digests, tolerance)
    lap("diff")
    for query, part in ((cypher.analytics_write_score_records(),
                         [r for r in rows if r["uscc"] not in current]),
                        (cypher.analytics_replace_score_records(),
                         [r for r in rows if r["uscc"] in current])):
        access.write_batches_parallel(driver, query, part, batch_size, database,
                                      workers=WRITERS, extra={"seq": seq})
    del current
    access.write_batches(driver, cypher.analytics_close_records(), gone, batch_size,
                         database, extra={"seq": seq})
    if counts is not None:
        counts.update(written=len(rows), closed=len(gone),
                      unchanged=len(result.records) - len(rows))
    if written is not None:
        written.update(r["uscc"] for r in rows)
    del rows
    lap("records")
    access.write_batches_parallel(driver, cypher.analytics_write_groups(),
                                  [{"group_id": g.group_id, "props": g.props(run_id)}
                                   for g in result.groups], batch_size, database,
                                  workers=WRITERS)
    old = membership_pairs(previous or {})
    new = membership_pairs({g.group_id: g.members for g in result.groups})
    # by group: each firm is in one group, so concurrent batches share at most the group
    # at their boundary (locked first by the later batch: a wait, never a deadlock)
    access.write_batches_parallel(driver, cypher.analytics_write_memberships(),
                                  [{"uscc": u, "group_id": g}
                                   for g, u in sorted((g, u) for u, g in new - old)],
                                  batch_size, database, extra={"run_id": run_id},
                                  workers=WRITERS)
    stale = Stale([{"uscc": u, "group_id": g} for u, g in sorted(old - new)])
    lap("groups")
    now = controls_now if controls_now is not None else current_controls(driver, database)
    # by controller: each firm has one controller, so concurrent batches share little
    access.write_batches_parallel(driver, cypher.analytics_write_controls(),
                                  sorted((c for c in result.controls
                                          if now.get((c["src"], c["dst"]), -1.0) != c["share"]),
                                         key=lambda c: (c["src"], c["dst"])),
                                  batch_size, database, extra={"run_id": run_id},
                                  workers=WRITERS)
    keep = {(c["src"], c["dst"]) for c in result.controls}
    stale.controls = [{"src": s, "dst": d} for s, d in sorted(set(now) - keep)]
    lap("controls")
    return stale


def delete_stale(driver: Any, stale: Stale, batch_size: int = SCORE_BATCH,
                 database: str | None = None) -> None:
    """After the switch: drop the memberships and controls the live run no longer has."""
    access.write_batches(driver, cypher.analytics_delete_memberships(), stale.memberships,
                         batch_size, database)
    access.write_batches(driver, cypher.analytics_delete_controls(), stale.controls,
                         batch_size, database)


def cached_scores(driver: Any, database: str | None = None) -> dict[str, tuple[Any, Any]]:
    """USCC → (score, level) cached on the Enterprise nodes now."""
    return {row[0]: (row[1], row[2])
            for row in access.read_collected(driver, cypher.analytics_cached_scores(),
                                             database=database)}


def cache_scores(driver: Any, result: scoring.ScoringResult, batch_size: int = SCORE_BATCH,
                 database: str | None = None, only: set[str] | None = None,
                 stored: Mapping[str, Current] | None = None) -> int:
    """Copy the live score/level onto the Enterprise nodes whose cached values differ;
    returns how many were rewritten. The live score is the current record's: ``stored``
    (:func:`changed_records`' ``digests``) gives it where a record stayed with a score
    within the tolerance of the computed one. ``only``: the enterprises whose record this
    run rewrote, when the others are known to hold their record's score already (the
    previous run got as far as its digests file, which is saved after this step): just
    those are written, without reading every cached score back."""
    def live(r: scoring.Record) -> float:
        cur = stored.get(r.uscc) if stored is not None else None
        return float(cur[1]) if cur is not None and cur[1] is not None else r.score

    if only is not None:
        rows = [{"uscc": r.uscc, "score": r.score, "level": r.level} for r in result.records
                if r.uscc in only]
    else:
        now = cached_scores(driver, database)
        rows = [{"uscc": r.uscc, "score": live(r), "level": r.level} for r in result.records
                if now.get(r.uscc) != (live(r), r.level)]
    access.write_batches_parallel(driver, cypher.analytics_cache_scores(), rows, batch_size,
                                  database, workers=WRITERS)  # one row per firm: disjoint
    return len(rows)


def links_file(settings: Settings) -> Path:
    """Where a run leaves its link digests for the next run."""
    return settings.home / "cache" / "group-links.json"


def load_link_state(path: Path, live_run: str | None, store: str | None = None
                    ) -> LinkState | None:
    """The link digests and groups written by the live run ``live_run`` on the database
    store ``store`` (when given); None when there are none (no file, unreadable, or left by
    another run, e.g. of another graph)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not live_run or data.get("run_id") != live_run:
        return None
    if store is not None and data.get("store_id") != store:
        return None
    digests, groups, ids = data.get("digests"), data.get("groups"), data.get("group_ids")
    controls = data.get("controls")
    if not isinstance(digests, dict) or not isinstance(groups, list):
        return None
    return LinkState(digests, groups, ids if isinstance(ids, list) else [],
                     controls if isinstance(controls, list) else None)


def save_link_state(path: Path, run_id: str, result: scoring.ScoringResult,
                    store: str = "") -> None:
    """Write the run's link digests and groups (members and ids) atomically (a reader never
    sees half a file). Written last, after the memberships the run no longer has were
    deleted: a file of the live run holds exactly the groups in the graph
    (:func:`prior_state`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"run_id": run_id, "store_id": store,
                               "digests": result.link_digests,
                               "groups": [g.members for g in result.groups],
                               "group_ids": [g.group_id for g in result.groups],
                               "controls": [[c["src"], c["dst"], float(c["share"])]
                                            for c in result.controls]}),
                   encoding="utf-8")
    os.replace(tmp, path)


def prior_state(driver: Any, links: LinkState | None, database: str | None = None
                ) -> tuple[dict[str, set[str]], dict[tuple[str, str], Any] | None, bool]:
    """What the live run left in the graph: (group id → member USCCs, (controller key,
    enterprise uscc) → share of its CONTROLS or None when unknown, whether both came from its
    link state file rather than from the graph). The file is written last, after the
    memberships and CONTROLS the run no longer had were deleted, and nothing but scoring
    writes either; it is used when it keeps both and the graph holds as many MEMBER_OF and
    CONTROLS relationships as it lists (count store: anything else, e.g. a run that died
    before writing it, means reading them from the graph)."""
    known = links.by_id() if links is not None else None
    if known is not None and links is not None and links.controls is not None:
        controls = {(str(c[0]), str(c[1])): c[2] for c in links.controls}
        if (_count_rels(driver, "MEMBER_OF", database) == sum(map(len, known.values()))
                and _count_rels(driver, "CONTROLS", database) == len(controls)):
            return known, controls, True
    return previous_groups(driver, database), None, False


def _count_rels(driver: Any, type_name: str, database: str | None) -> int:
    rows = access.read(driver, cypher.count_type(type_name), database=database)
    return int(rows[0]["n"]) if rows else 0


def start_run(driver: Any, run_id: str, model_version: str,
              database: str | None = None) -> tuple[int, int]:
    """Create the ``Run`` node of a new scoring run; returns (its sequence number, the live
    run's). A run id that already went live cannot be scored again."""
    done = access.read(driver, cypher.analytics_run_status(), {"run_id": run_id},
                       database=database)
    if done and done[0]["status"] == "ok":
        raise RiskgraphError(f"scoring run {run_id} already finished",
                             "give the new run a new id")
    rows = access.write_read(driver, cypher.analytics_start_run(),
                             {"run_id": run_id, "started": _now(),
                              "model_version": model_version}, database=database)
    return int(rows[0]["seq"]), int(rows[0]["live_seq"])


def switch_live(driver: Any, run_id: str, summary: Mapping[str, Any],
                database: str | None = None) -> None:
    """The one final transaction that makes ``run_id`` the live run."""
    access.write(driver, cypher.analytics_switch_live(),
                 {"run_id": run_id, "finished": _now(),
                  "summary": json.dumps(summary, ensure_ascii=False)}, database=database)


def _hit_reuse(settings: Settings, proj: projection.Projection,
               got: projection_cache.Obtained) -> scoring.HitReuse | None:
    """What the last run's indicator hits can give this run (:mod:`analytics.hits_cache`):
    only on a patched projection, whose change logs name every changed node."""
    if got.changed is None:
        return None
    cached = hits_cache.load(settings.hits_cache_file, got.live_run)
    if cached is None:
        return None
    index = proj.index
    changed = {index[(label, k)] for label, keys in got.changed.items() for k in keys
               if (label, k) in index}
    folded = {label: keys for label, keys in got.changed.items()
              if label in projection.FOLDED_LABELS}
    return scoring.HitReuse(cached.as_of, cached.entries,
                            facts.affected(proj, changed) | facts.fact_owners(proj, folded))


def score_graph(driver: Any, settings: Settings, run_id: str | None = None,
                weights: Mapping[str, float] | None = None,
                trace: dict[str, Any] | None = None) -> ScoreSummary:
    """Rescore every enterprise of the graph behind ``driver``; returns the summary.

    Uses the active stored ModelVersion (:mod:`analytics.model_store`); without one, or when
    ``weights`` are given, the hand-set weights (with those overrides). ``trace`` (for
    ``bench/`` and tests): receives the ``projection`` and the ``result``, which are then
    left intact for the caller instead of being released in the background.

    The cyclic garbage collector stays paused for the whole run (:func:`gc_paused`): the
    run holds the projection, tens of millions of objects, from its first step to its last,
    and makes next to no cyclic garbage. With collections allowed between the steps, the
    first collection after the projection was built walked all of it and the ones after
    walked it again (scale-25 increment: the JSON of 64,387 changed records took 12.6 s, of
    which nearly all was the collector; group ids read back 16 s)."""
    with gc_paused():
        garbage: list[object] = []
        summary = _score_graph(driver, settings, run_id, weights, trace, garbage)
        release_in_background(garbage)  # the projection and result, freed while the caller
        return summary                  # goes on (the pause holds until they are gone)


def _score_graph(driver: Any, settings: Settings, run_id: str | None,
                 weights: Mapping[str, float] | None,
                 trace: dict[str, Any] | None,
                 garbage: list[object]) -> ScoreSummary:
    """:func:`score_graph`; the big objects it is done with go to ``garbage`` at the end."""
    run_id = run_id or new_run_id()
    db = settings.neo4j_database
    t: dict[str, float] = {}
    start = time.perf_counter()
    from analytics.indicators import weights as all_weights

    model = None
    try:
        if weights is None:
            from analytics import model_store

            model = model_store.active_model(driver, db)
        version = (model.version_id if model is not None
                   else scoring.model_version(all_weights(weights)))
        seq, live_seq = start_run(driver, run_id, version, db)
        repair_records(driver, run_id, live_seq, db)
    except RiskgraphError:
        raise
    except Exception as exc:
        raise DatabaseError(f"cannot start scoring run: {exc}", "is Neo4j running?") from exc
    staged: Path | None = None
    staged_hits: Path | None = None
    try:
        cpu = time.process_time()
        _server_lap(trace, t, "start")
        got = projection_cache.obtain(
            driver, db, settings.projection_cache_file, settings.changes_dir,
            settings.projection_cache,
            lambda sink: projection.project(driver, database=db, rows=sink), run_id)
        proj = got.projection
        staged = got.staged
        consumed = got.consumed
        proj.stats["source"] = got.source
        proj.stats["source_why"] = got.why
        proj.stats["source_seconds"] = got.seconds
        live_run, store = got.live_run, got.store_id
        t["project"] = time.perf_counter() - start
        t["cpu_project"] = time.process_time() - cpu
        _server_lap(trace, t, "project")
        workers_cpu, waited = _children_cpu(), _runq_wait()
        lap = Laps(t, "score_")
        reuse = _hit_reuse(settings, proj, got) if settings.projection_cache else None
        del got
        lap("previous_hits")
        prev_links = load_link_state(links_file(settings), live_run, store)
        prev, controls_now, proj.stats["groups_cached"] = prior_state(driver, prev_links, db)
        lap("previous_groups")
        result = scoring.compute(proj, settings, prev, weights, model=model,
                                 previous_links=prev_links, reuse=reuse)
        del reuse
        lap("compute")
        if settings.projection_cache:
            staged_hits = hits_cache.stage(settings.hits_cache_file, run_id,
                                           date.fromisoformat(result.stats["as_of"]),
                                           result.raw_hits)
        result.raw_hits = {}
        lap("stage_hits")
        if trace is not None:
            trace.update(projection=proj, result=result)
        t.update({f"compute_{k}": v for k, v in result.stats.pop("seconds", {}).items()})
        t["score"] = time.perf_counter() - start - t["project"]
        t["cpu_score"] = time.process_time() - cpu - t["cpu_project"]
        t["cpu_score_workers"] = _children_cpu() - workers_cpu
        waited_now = _runq_wait()
        if waited is not None and waited_now is not None:
            t["wait_score"] = waited_now - waited
        _server_lap(trace, t, "score")
        batch = max(settings.batch_size, SCORE_BATCH)
        counts: dict[str, int] = {}
        digests: dict[str, Current] = {}
        known = load_digests(digests_file(settings), live_run, store)
        proj.stats["digests_cached"] = known is not None
        rewritten: set[str] | None = set() if known is not None else None
        del prev_links
        stale = write_result(driver, result, run_id, seq, batch, db, t, prev, counts, known,
                             digests, rewritten, controls_now, settings.score_tolerance)
        del controls_now
        del known
        t["write"] = time.perf_counter() - start - t["project"] - t["score"]
        t["cpu_write"] = time.process_time() - cpu - t["cpu_project"] - t["cpu_score"]
        _server_lap(trace, t, "write")
        summary = ScoreSummary(run_id, result.model_version, len(result.records),
                               len(result.groups), result.stats["levels"], t,
                               {k: v for k, v in proj.stats.items() if k != "labels"},
                               counts, dict(result.stats.get("grouping", {})),
                               dict(result.stats.get("indicators", {})))
        switch_live(driver, run_id, {"enterprises": summary.enterprises,
                                     "groups": summary.groups, "levels": summary.levels},
                    db)
    except Exception as exc:
        projection_cache.discard(staged)
        projection_cache.discard(staged_hits)
        try:
            access.write(driver, cypher.analytics_fail_run(),
                         {"run_id": run_id, "finished": _now(), "error": str(exc)[:500]},
                         database=db)
        except Exception:  # the database itself may be gone; the run stays not-live anyway
            pass
        _write_report(settings, run_id, {"status": "failed", "finished": _now(),
                                         "error": str(exc)[:500], "live": False})
        if isinstance(exc, RiskgraphError):
            raise
        raise DatabaseError(f"scoring run {run_id} failed: {exc}",
                            "the previous run stays live; rerun with --debug") from exc
    # after the switch: housekeeping that readers do not depend on
    t0 = time.perf_counter()
    lap = Laps(summary.seconds, "after_")
    try:
        if staged_hits is not None:
            hits_cache.commit(staged_hits, settings.hits_cache_file)
        if staged is not None:
            projection_cache.commit(staged, settings.projection_cache_file,
                                    settings.changes_dir, consumed)
        else:  # cache off: the logs read are folded into nothing, but are not needed
            changes.remove_logs(settings.changes_dir, consumed)
    except OSError:  # derived data: the next run reads the whole graph
        projection_cache.discard(staged)
        projection_cache.discard(staged_hits)
    lap("caches")
    delete_stale(driver, stale, batch, db)
    lap("stale")
    summary.projection["cached_rewritten"] = cache_scores(driver, result, batch, db,
                                                          only=rewritten, stored=digests)
    lap("cache_scores")
    try:  # after the cached scores: a digests file of the live run vouches for them
        save_digests(digests_file(settings), run_id, digests, store)
    except OSError:  # derived data: the next run reads them from the graph
        pass
    del digests
    try:
        save_link_state(links_file(settings), run_id, result, store)
    except (OSError, TypeError, ValueError):  # derived data: the next run then reads the
        pass                                   # graph and re-optimises every group
    lap("links")
    summary.seconds["after_switch"] = time.perf_counter() - t0
    _server_lap(trace, summary.seconds, "after_switch")
    summary.seconds.pop("_server", None)
    summary.seconds["total"] = time.perf_counter() - start
    _write_report(settings, run_id, {"status": "ok", **summary.as_dict()})
    # released piece by piece: only what nobody else holds (a trace keeps the projection
    # and the result for its caller)
    garbage.extend((prev, rewritten) if trace is not None and "projection" in trace
                   else (proj, result, prev, rewritten))
    del proj, result, prev, rewritten
    return summary


def _server_lap(trace: dict[str, Any] | None, t: dict[str, float], stage: str) -> None:
    """With ``trace["server_cpu"]`` (a callable giving the database server's CPU seconds so
    far; ``bench/`` passes one): ``t["srv_<stage>"]`` = server CPU since the last lap."""
    clock = trace.get("server_cpu") if trace is not None else None
    if clock is None:
        return
    now = float(clock())
    if stage != "start":
        t[f"srv_{stage}"] = now - t.get("_server", now)
    t["_server"] = now


def _write_report(settings: Settings, run_id: str, report: Mapping[str, Any]) -> None:
    """``RISKGRAPH_HOME/runs/<run_id>/report.json`` of a scoring run (written atomically; a
    report that cannot be written does not fail the run)."""
    try:
        write_json_atomic(settings.runs_dir / run_id / "report.json",
                          {"kind": "score", "run_id": run_id, **report})
    except OSError:
        pass


def run_score_command(settings: Settings) -> int:
    """``riskgraph score``: prints a one-line JSON summary; exit code 0."""
    from graph.connection import connect
    from riskgraph import runs

    with runs.RefreshLock(runs.lock_path(settings)).acquire(run_id="score"):
        driver = connect(settings)
        try:
            summary = score_graph(driver, settings)
        finally:
            close = getattr(driver, "close", None)
            if close is not None:
                close()
    print(json.dumps({"run_id": summary.run_id, "model_version": summary.model_version,
                      "enterprises": summary.enterprises, "groups": summary.groups,
                      "levels": summary.levels, "records": summary.records,
                      "grouping": summary.grouping,
                      "seconds": {k: round(v, 2) for k, v in summary.seconds.items()}},
                     ensure_ascii=False))
    return 0
