"""Plan the ingest's write queries ahead, so the first load after a server start does not wait
for Cypher planning.

Neo4j plans each distinct query text (and parameter types) once per server start and keeps
the plan in its query cache. An increment writes a few thousand rows through some 35
distinct queries (a MERGE per label and mode, one per relationship type and endpoints, the
finalising and bookkeeping queries); planning one took 0.15-0.45 s of server CPU on a freshly
started scale-25 server against 0.01-0.08 s once planned (ad hoc, session 16). That is the
usual case after a first bulk import (the import restarts the server and writes through none
of these queries) and after a restart for a backup, a restore or a reboot.

The queries depend on which labels, modes, relationship types and endpoints the deliveries
write, so every load records its *shapes* (:class:`Shapes`, from the final rows of each
write, bulk or transactional) in ``RISKGRAPH_HOME/cache/ingest-shapes.json``
(``Settings.ingest_shapes_file``), and :func:`warm` runs the query of each recorded shape
once, with one sample row of the same types, in a transaction it rolls back (nothing stays
written: the sample keys match no real node, and a relationship's endpoints do not exist).
Running it, not ``EXPLAIN``, also compiles the runtime code: after ``EXPLAIN`` the first real
run still took 0.04-0.16 s against 0.01-0.02 s after a rolled-back run. The rows travel
inside a map (``$batch.rows``, :data:`graph.cypher.INGEST_BATCH_NOTE`) so that one sample
row plans for every batch size. An ingest run does it in a daemon thread from its start,
beside its own work (:func:`start_warm`; cheap when the plans are cached; stopped and waited
for before the run returns, so that no thread uses the caller's driver after it), and at once
right after a bulk import's restart (seconds, before a refresh scores for minutes). A failure
to plan only means that query is planned later, when it runs: it is counted, never raised.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from graph import cypher
from graph.model import NODE_BY_LABEL, REL_BY_TYPE

FORMAT = 1
"""Version of the shapes file layout."""

SAMPLE_OF_KIND: dict[str, Any] = {"str": "warm-up", "int": 0, "float": 0.0, "bool": False}
"""A value of each key kind, for the parameters of a warm-up (the planner sees types only)."""

NodeShape = tuple[str, str, str]
"""``(label, mode, key kind)`` of a node MERGE."""

RelShape = tuple[str, str, str, bool, str, str]
"""``(type, source label, target label, record, source key kind, target key kind)``."""


def _kind(value: Any) -> str:
    name = type(value).__name__
    return name if name in SAMPLE_OF_KIND else "str"


@dataclass
class Shapes:
    """The write shapes loads have used."""

    nodes: set[NodeShape] = field(default_factory=set)
    rels: set[RelShape] = field(default_factory=set)

    def add(self, writes: Any) -> None:
        """Add the shapes of ``writes`` (an :class:`ingest.build.Writes` with its final rows):
        a relationship bucket is a record when any of its rows carries ``rec``, as
        :func:`ingest.writer.write` decides."""
        for (label, mode), rows in writes.nodes.items():
            if rows:
                self.nodes.add((label, mode, _kind(next(iter(rows)))))
        for (type_, source, target), rels in writes.rels.items():
            if rels:
                s, d, _rk = next(iter(rels))
                record = any(p.get("rec") is not None for p in rels.values())
                self.rels.add((type_, source, target, record, _kind(s), _kind(d)))

    def update(self, other: Shapes) -> None:
        self.nodes |= other.nodes
        self.rels |= other.rels

    def __bool__(self) -> bool:
        return bool(self.nodes or self.rels)


def load_shapes(path: Path) -> Shapes:
    """The shapes in ``path``; empty when missing, unreadable or of another format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return Shapes()
        nodes = {(str(a), str(b), str(c)) for a, b, c in data.get("nodes", [])}
        rels = {(str(a), str(b), str(c), bool(d), str(e), str(f))
                for a, b, c, d, e, f in data.get("rels", [])}
    except (OSError, ValueError, TypeError, AttributeError):
        return Shapes()
    return Shapes(nodes, rels)


def save_shapes(path: Path, shapes: Shapes) -> Shapes:
    """Add ``shapes`` to those in ``path`` (temporary file, then rename); returns the union.
    An unwritable file is left as it was (derived data: the next load records again)."""
    merged = load_shapes(path)
    merged.update(shapes)
    data = {"format": FORMAT, "nodes": sorted(merged.nodes), "rels": sorted(merged.rels)}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
    return merged


_COMMON = {"src": "warm-up", "delivery": "warm-up"}
_LOAD = "warm-up"
_PROPS = {"name": "warm-up"}


def warm_queries(shapes: Shapes) -> list[tuple[str, dict[str, Any]]]:
    """``(query, parameters)`` to plan for ``shapes``: the ingest's fixed queries, then the
    MERGE of each node shape (labels in the writer's order) and of each relationship shape,
    with parameters of the types the writer sends. Shapes the model no longer declares are
    left out."""
    from ingest.writer import NODE_ORDER

    out: list[tuple[str, dict[str, Any]]] = [
        (cypher.ingest_loaded_files(), {}),
        (cypher.ingest_finalise_node_ids(), {"batch": {"ids": [0]}, "load_id": "warm-up"}),
        (cypher.ingest_finalise_relationship_ids(),
         {"batch": {"ids": [0]}, "load_id": "warm-up"}),
        (cypher.ingest_existing_keys("Enterprise"), {"keys": ["warm-up"]}),
    ]
    order = {label: i for i, label in enumerate(NODE_ORDER)}
    for label, mode, kind in sorted(shapes.nodes, key=lambda s: (order.get(s[0], 99), s)):
        if label not in NODE_BY_LABEL:
            continue
        row = {"key": SAMPLE_OF_KIND.get(kind, "warm-up"), "props": dict(_PROPS)}
        _add(out, partial(cypher.ingest_merge_nodes, label, mode),
             {"batch": {"rows": [row]}, "common": dict(_COMMON), "load_id": _LOAD})
    for type_, source, target, record, skind, tkind in sorted(shapes.rels):
        if type_ not in REL_BY_TYPE:
            continue
        row = {"src": SAMPLE_OF_KIND.get(skind, "warm-up"),
               "dst": SAMPLE_OF_KIND.get(tkind, "warm-up"), "rk": "", "props": dict(_PROPS)}
        _add(out, partial(cypher.ingest_merge_relationships, type_, source, target, record),
             {"batch": {"rows": [row]}, "common": dict(_COMMON), "load_id": _LOAD})
    return out


def _add(out: list[tuple[str, dict[str, Any]]], build: Callable[[], str],
         params: dict[str, Any]) -> None:
    try:
        out.append((build(), params))
    except Exception:  # noqa: BLE001 - a shape the model no longer declares: nothing to plan
        return


@dataclass
class WarmReport:
    """What a warm-up planned."""

    planned: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def warm(driver: Any, database: str | None, queries: Iterable[tuple[str, Mapping[str, Any]]],
         stop: threading.Event | None = None) -> WarmReport:
    """Run each query with its parameters in a transaction that is rolled back (the server
    plans, compiles and caches it; nothing is kept). Errors are counted (the first few
    kept), never raised; ``stop`` ends it early."""
    report = WarmReport()
    t0 = time.perf_counter()
    try:
        with driver.session(database=database) as session:
            for query, params in queries:
                if stop is not None and stop.is_set():
                    break
                try:
                    with session.begin_transaction() as tx:
                        tx.run(query, dict(params)).consume()
                        tx.rollback()
                    report.planned += 1
                except Exception as exc:  # noqa: BLE001 - planned later, when it runs
                    report.failed += 1
                    if len(report.errors) < 3:
                        report.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    except Exception as exc:  # noqa: BLE001 - no session (server gone): nothing warmed
        report.failed += 1
        report.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


@dataclass
class Warming:
    """A warm-up running in a daemon thread."""

    thread: threading.Thread
    report: WarmReport
    stop: threading.Event
    when: str = ""
    queries: int = 0

    def join(self, timeout: float | None = None) -> WarmReport:
        self.thread.join(timeout)
        return self.report


def start_warm(driver: Any, database: str | None, shapes: Shapes, when: str = ""
               ) -> Warming | None:
    """:func:`warm` the queries of ``shapes`` in a daemon thread (a process that ends
    meanwhile just stops it); ``None`` when there is nothing recorded to warm. ``when``
    names the occasion (reports)."""
    if not shapes:
        return None
    queries = warm_queries(shapes)
    report = WarmReport()
    stop = threading.Event()

    def run() -> None:
        done = warm(driver, database, queries, stop)
        report.planned, report.failed = done.planned, done.failed
        report.seconds, report.errors = done.seconds, done.errors

    thread = threading.Thread(target=run, name="ingest-warm-up", daemon=True)
    thread.start()
    return Warming(thread, report, stop, when, len(queries))
