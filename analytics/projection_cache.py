"""The projection cache: a rescore patches the rows the last run read instead of reading the
whole graph again.

A full read (:func:`analytics.projection.project`) gets, per projected label, rows
``[internal id, key, properties…]`` in internal-id order, and per relationship type rows
``[rel id, src id, dst id, properties…]`` in relationship-id order, and builds the NetworkX
projection from them. The cache keeps those rows (:class:`RowSet`) in
``RISKGRAPH_HOME/cache/projection.pkl`` (``Settings.projection_cache_file``), stamped with
the store id of the database, the scoring run that read them and the change logs
(:mod:`graph.changes`) already folded in. ``RISKGRAPH_PROJECTION_CACHE=off`` reads the whole
graph every time.

The next run uses it when the store id and the live run still match and no log marks a
label or type as changed as a whole (a full snapshot); then it

1. re-reads the nodes the new change logs name (index seeks by key) and every projected
   relationship around them (expansions from those nodes),
2. replaces the cached rows of exactly those nodes and relationships, keeping the id order
   (:func:`merge_rows`), and
3. checks the row counts against the database's count store; any difference (a writer that
   kept no log, a deletion) means a full read instead.

The rows are then built into a projection by the same code as a full read, in the same
order, so a patched projection equals the projection a full read gives (the tests compare
both, row for row and record for record): group detection and tie-breaks, which depend on
node order, give the same result.

A patched run does not write all the rows again: it stages only what the patches since the
last whole file re-read (an *overlay*, ``projection.pkl.delta``: the fresh node rows, their
ids and the relationship rows around them, combined over the runs as :func:`combine`), and
the next run applies base file, overlay and its own patch in turn. When the overlay grows past
:data:`OVERLAY_MAX_SHARE` of the rows, the run writes the whole rows again (and drops the
overlay). An overlay is used only with the base file it was made on (its run id).

Relationships are never deleted by ingest (a full snapshot *ends* what it omits), nodes
neither; the counts check catches the cases where something else did. Anything that writes
projected data must either write a change log or go through a path that changes the store id.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from graph import changes, cypher
from graph.changes import ChangeLog
from riskgraph.gcpause import gc_paused
from riskgraph.laps import Laps

FORMAT = 2
"""Version of the cache file layout."""

KEYS_PER_QUERY = 5_000
"""Node keys (or internal ids) per patch query."""


@dataclass
class RowSet:
    """Projection rows per label and per relationship type, each list in id order."""

    nodes: dict[str, list[list[Any]]] = field(default_factory=dict)
    rels: dict[str, list[list[Any]]] = field(default_factory=dict)

    def add(self, kind: str, name: str, rows: Sequence[list[Any]]) -> None:
        target = self.nodes if kind == "node" else self.rels
        target.setdefault(name, []).extend(rows)

    def chunks(self, labels: Sequence[str], types: Sequence[str]
               ) -> Iterator[tuple[str, str, list[list[Any]]]]:
        """``(kind, name, rows)`` in the order a full read yields them."""
        for lab in labels:
            if self.nodes.get(lab):
                yield "node", lab, self.nodes[lab]
        for t in types:
            if self.rels.get(t):
                yield "rel", t, self.rels[t]


@dataclass
class Cached:
    """A cache file's content."""

    fingerprint: str
    store_id: str
    run_id: str
    consumed: list[str]
    rows: RowSet


def fingerprint() -> str:
    """What the rows mean: the projected labels, types and properties (a cache written by
    code that projected other properties is not used)."""
    from analytics.projection import KEEP_PROPS, NODE_LABELS, REL_TYPES, rel_props

    blob = json.dumps({"f": FORMAT, "labels": NODE_LABELS, "keep": KEEP_PROPS,
                       "types": {t: rel_props(t) for t in REL_TYPES}}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def store_id(driver: Any, database: str | None) -> str:
    with driver.session(database=database) as session:
        record = session.run(cypher.analytics_store_id()).single()
    return str(record[0]) if record is not None else ""


class RowWriter:
    """Writes a cache file as rows come: a header ``(FORMAT, fingerprint, store id, run id,
    consumed logs)``, one pickled ``(kind, name, rows)`` record per chunk, ``None`` at the
    end. A full read hands it each chunk as it is read, so the rows are not all held until
    the end (peak PSS of a scale-25 full refresh: 13.5 GB holding them, 12.3 GB streaming;
    ``bench.refresh`` runs G and H in docs/operations.md). The rows hold no shared or cyclic
    objects, so the pickler runs without its memo (``fast``: several times quicker)."""

    def __init__(self, path: Path, cached: Cached) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = path.open("wb")
        self._pickler = pickle.Pickler(self._fh, protocol=5)
        self._pickler.fast = True  # no memo: fine for acyclic rows
        self._pickler.dump((FORMAT, cached.fingerprint, cached.store_id, cached.run_id,
                            cached.consumed))

    def add(self, kind: str, name: str, rows: Sequence[list[Any]]) -> None:
        with gc_paused():
            self._pickler.dump((kind, name, rows))

    def close(self) -> None:
        self._pickler.dump(None)
        self._fh.close()

    def abandon(self) -> None:
        self._fh.close()
        self.path.unlink(missing_ok=True)


def save(path: Path, cached: Cached) -> None:
    """Write ``cached`` to ``path`` (temporary file, then rename)."""
    from analytics.projection import NODE_LABELS, REL_TYPES

    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    writer = RowWriter(tmp, cached)
    try:
        for kind, name, rows in cached.rows.chunks(NODE_LABELS, REL_TYPES):
            writer.add(kind, name, rows)
        writer.close()
    except BaseException:
        writer.abandon()
        raise
    os.replace(tmp, path)


def load(path: Path) -> Cached | None:
    """The cache in ``path``; ``None`` when missing, unreadable, cut short or of another
    format."""
    opened = open_cache(path)
    if opened is None:
        return None
    head, fh = opened
    with fh:
        rows = read_rows(fh)
    if rows is None:
        return None
    head.rows = rows
    return head


def load_current(path: Path) -> Cached | None:
    """The cache as the next run sees it: the base file with its overlay applied (the
    overlay's header then says which run and logs it holds); ``None`` when unreadable."""
    cached = load(path)
    if cached is None:
        return None
    overlay = current_overlay(path, cached)
    if overlay is None:
        return cached
    apply(cached.rows, overlay.fetched)
    overlay.head.rows = cached.rows
    return overlay.head


def open_cache(path: Path) -> tuple[Cached, BinaryIO] | None:
    """The header of the cache in ``path`` (a :class:`Cached` without rows) and the open
    file positioned at the rows (:func:`read_rows`); ``None`` when missing, unreadable or of
    another format. Reading the header first lets a run decide whether the cache is usable
    and start re-reading what changed while the rows load."""
    try:
        fh = path.open("rb")
    except OSError:
        return None
    try:
        fmt, fp, sid, run_id, consumed = pickle.load(fh)
        if fmt != FORMAT:
            fh.close()
            return None
    except _UNREADABLE:
        fh.close()
        return None
    return Cached(str(fp), str(sid), str(run_id), list(consumed), RowSet()), fh


def read_rows(fh: BinaryIO) -> RowSet | None:
    """The rows after the header (:func:`open_cache`); ``None`` when cut short or
    unreadable."""
    rows = RowSet()
    try:
        with gc_paused():  # millions of lists: no collections
            while (record := pickle.load(fh)) is not None:
                rows.add(*record)
    except _UNREADABLE:
        return None
    return rows


_UNREADABLE = (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError,
               AttributeError, ImportError, IndexError)


def merge_rows(old: list[list[Any]], fresh: Iterable[list[Any]],
               drop: Any = None) -> list[list[Any]]:
    """``old`` rows (sorted by their first element, the internal id) with every row whose id
    is among ``fresh`` replaced by the fresh one, fresh rows with new ids inserted in id
    order, and rows for which ``drop(row)`` is true removed."""
    by_id = {r[0]: r for r in fresh}
    kept = [r for r in old if r[0] not in by_id and not (drop is not None and drop(r))]
    if not by_id:
        return kept
    merged = kept + list(by_id.values())
    merged.sort(key=_first)  # nearly sorted: timsort merges the two runs
    return merged


def _first(row: Sequence[Any]) -> Any:
    return row[0]


def _batches(items: Sequence[Any], size: int = KEYS_PER_QUERY) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def changed_keys(logs: Iterable[ChangeLog], labels: Iterable[str]) -> dict[str, set[str]]:
    """Per projected label, the keys the logs name."""
    wanted = set(labels)
    out: dict[str, set[str]] = {}
    for log in logs:
        for label, keys in log.nodes.items():
            if label in wanted and keys:
                out.setdefault(label, set()).update(keys)
    return out


@dataclass
class Fetched:
    """What :func:`fetch` re-read: per label the fresh node rows, the internal ids of those
    nodes, and per type the fresh rows of every relationship touching them."""

    nodes: dict[str, list[list[Any]]] = field(default_factory=dict)
    ids: set[int] = field(default_factory=set)
    rels: dict[str, dict[int, list[Any]]] = field(default_factory=dict)


def fetch(driver: Any, database: str | None, keys: dict[str, set[str]]) -> Fetched:
    """Re-read the nodes ``keys`` names and every projected relationship around them (reads
    only: the cached rows are not needed, so this runs while they load)."""
    from analytics.projection import KEEP_PROPS, REL_TYPES, _session_kwargs

    out = Fetched()
    with driver.session(database=database, **_session_kwargs(50_000)) as session:
        for label in sorted(keys):
            query = cypher.analytics_nodes_by_key(label, KEEP_PROPS.get(label))
            fresh: list[list[Any]] = []
            for batch in _batches(sorted(keys[label])):
                record = session.run(query, keys=list(batch)).single()
                fresh.extend(record[0] if record is not None else [])
            out.ids.update(int(r[0]) for r in fresh)
            out.nodes[label] = fresh
    id_list = sorted(out.ids)
    with ThreadPoolExecutor(PATCH_READERS) as pool:
        fetched = list(pool.map(lambda t: _rels_around(driver, database, t, id_list),
                                REL_TYPES))
    out.rels = dict(zip(REL_TYPES, fetched, strict=True))
    return out


def apply(rows: RowSet, fetched: Fetched) -> dict[str, int]:
    """Put what :func:`fetch` re-read into ``rows`` (see the module docstring). Returns what
    was re-read."""
    ids = fetched.ids
    stats = {"nodes": 0, "rels": 0}
    for label, fresh in fetched.nodes.items():
        rows.nodes[label] = merge_rows(rows.nodes.get(label, []), fresh)
        stats["nodes"] += len(fresh)
    for t, fresh_by_id in fetched.rels.items():
        if not ids or (not fresh_by_id and not rows.rels.get(t)):
            continue
        rows.rels[t] = merge_rows(rows.rels.get(t, []), fresh_by_id.values(),
                                  drop=lambda r: r[1] in ids or r[2] in ids)
        stats["rels"] += len(fresh_by_id)
    return stats


def combine(first: Fetched, then: Fetched) -> Fetched:
    """One :class:`Fetched` that :func:`apply` puts into rows with the same result as
    applying ``first`` and then ``then``: node rows by id (``then``'s win), the ids of both,
    and per type ``first``'s relationship rows that touch none of ``then``'s nodes (``then``
    re-read every relationship around those) with ``then``'s."""
    out = Fetched(ids=first.ids | then.ids)
    for label in sorted(set(first.nodes) | set(then.nodes)):
        by_id = {r[0]: r for r in first.nodes.get(label, ())}
        by_id.update((r[0], r) for r in then.nodes.get(label, ()))
        out.nodes[label] = sorted(by_id.values(), key=_first)
    ids = then.ids
    for t in sorted(set(first.rels) | set(then.rels)):
        kept = {rid: r for rid, r in first.rels.get(t, {}).items()
                if r[1] not in ids and r[2] not in ids}
        kept.update(then.rels.get(t, {}))
        out.rels[t] = kept
    return out


def overlay_size(fetched: Fetched) -> int:
    """Rows an overlay holds (nodes and relationships)."""
    return (sum(len(v) for v in fetched.nodes.values())
            + sum(len(v) for v in fetched.rels.values()))


def row_count(rows: RowSet) -> int:
    return sum(len(v) for v in rows.nodes.values()) + sum(len(v) for v in rows.rels.values())


OVERLAY_MAX_SHARE = 0.05
"""An overlay up to this share of all rows is staged as an overlay; a larger one makes the
run write the whole rows again (its load and apply would cost more than they save)."""


def overlay_path(path: Path) -> Path:
    """The overlay file beside the cache file ``path``."""
    return path.with_name(path.name + ".delta")


@dataclass
class Overlay:
    """An overlay file's content: the header of the cache state it leaves (run id and the
    logs folded in by then), the base file's run id it applies to, and the rows."""

    head: Cached
    base_run_id: str
    fetched: Fetched


def save_overlay(path: Path, overlay: Overlay) -> None:
    """Write ``overlay`` to ``path`` (temporary file, then rename)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    head = overlay.head
    try:
        with tmp.open("wb") as fh, gc_paused():
            pickler = pickle.Pickler(fh, protocol=5)
            pickler.fast = True  # acyclic rows, as in RowWriter
            f = overlay.fetched
            pickler.dump((FORMAT, head.fingerprint, head.store_id, head.run_id, head.consumed,
                          overlay.base_run_id, f.nodes, sorted(f.ids), f.rels))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def load_overlay(path: Path) -> Overlay | None:
    """The overlay in ``path``; ``None`` when missing, unreadable or of another format."""
    try:
        with path.open("rb") as fh, gc_paused():
            fmt, fp, sid, run_id, consumed, base, nodes, ids, rels = pickle.load(fh)
    except (*_UNREADABLE, KeyError):
        return None
    if fmt != FORMAT:
        return None
    return Overlay(Cached(str(fp), str(sid), str(run_id), list(consumed), RowSet()), str(base),
                   Fetched(dict(nodes), set(ids), dict(rels)))


def current_overlay(path: Path, base: Cached) -> Overlay | None:
    """The overlay beside ``path`` when it was made on ``base`` (same rows meaning, store and
    base run); else ``None`` (the base file alone is the cache)."""
    overlay = load_overlay(overlay_path(path))
    if overlay is None or overlay.base_run_id != base.run_id \
            or overlay.head.fingerprint != base.fingerprint \
            or overlay.head.store_id != base.store_id:
        return None
    return overlay


def patch(rows: RowSet, driver: Any, database: str | None, keys: dict[str, set[str]]
          ) -> dict[str, int]:
    """Re-read the nodes ``keys`` names and every projected relationship around them, and
    put them into ``rows`` (:func:`fetch`, then :func:`apply`). Returns what was re-read."""
    return apply(rows, fetch(driver, database, keys))


PATCH_READERS = 2
"""Sessions reading the relationships around the changed nodes at once (one type each):
the server answers two expansions on its two cores while the client waits."""


def _rels_around(driver: Any, database: str | None, type_name: str, ids: Sequence[int]
                 ) -> dict[int, list[Any]]:
    """Relationship id → row of every ``type_name`` relationship touching a node of ``ids``
    (internal ids)."""
    from analytics.projection import _session_kwargs, rel_props

    out: dict[int, list[Any]] = {}
    if not ids:
        return out
    query = cypher.analytics_rels_around(type_name, rel_props(type_name))
    with driver.session(database=database, **_session_kwargs(50_000)) as session:
        for batch in _batches(ids):
            record = session.run(query, ids=list(batch)).single()
            for r in record[0] if record is not None else []:
                out[int(r[0])] = r
    return out


def counts_match(rows: RowSet, driver: Any, database: str | None) -> bool:
    """Whether every projected label and type has as many rows as the database holds."""
    from analytics.projection import NODE_LABELS, REL_TYPES

    with driver.session(database=database) as session:
        for label in NODE_LABELS:
            n = session.run(cypher.count_label(label)).single()
            if int(n[0] if n else 0) != len(rows.nodes.get(label, [])):
                return False
        for t in REL_TYPES:
            n = session.run(cypher.count_type(t)).single()
            if int(n[0] if n else 0) != len(rows.rels.get(t, [])):
                return False
    return True


def consumable(logs: Iterable[ChangeLog]) -> list[str]:
    """Names of the logs a run may remove once live: all but those of running processes."""
    return [log.name for log in logs if not log.running]




@dataclass
class Obtained:
    """A projection's rows, how they were got, and what the run may do with the cache."""

    projection: Any
    """The :class:`analytics.projection.Projection`."""
    staged: Path | None
    """Its rows, staged as the next cache (:func:`commit`); ``None`` when the cache is off."""
    source: str
    """``cache`` (patched) or ``full`` (read from the graph)."""
    why: str
    """Why a full read, or what the patch re-read."""
    store_id: str
    consumed: list[str]
    live_run: str | None = None
    """The live run when the projection was read."""
    changed: dict[str, set[str]] | None = None
    """Patched: the keys per label the folded-in logs name (re-read); ``None`` after a full
    read (everything may have changed)."""
    seconds: dict[str, float] = field(default_factory=dict)


def obtain(driver: Any, database: str | None, path: Path, changes_dir: Path, use_cache: bool,
           full_read: Callable[[Any], Any], run_id: str = "") -> Obtained:
    """This run's projection: the cached rows patched with the change logs when the cache is
    valid (module docstring), else ``full_read(sink)``, which reads the graph, hands every
    chunk of rows to ``sink.add`` (a :class:`RowWriter`, or ``None``) and returns the
    projection. The logs are listed before the graph is read. With ``use_cache`` the rows of
    this run are staged next to the cache file for ``run_id`` (``Obtained.staged``; see
    :func:`commit`). ``Obtained.seconds`` times each step."""
    from analytics.export import live_run_id
    from analytics.projection import NODE_LABELS, REL_TYPES, build

    seconds: dict[str, float] = {}
    lap = Laps(seconds)
    logs = changes.read_logs(changes_dir)
    sid = store_id(driver, database)
    live = live_run_id(driver, database)
    consumed = consumable(logs or [])
    why = "cache off"
    if use_cache:
        why = "no cache"
        opened = open_cache(path)
        cached = None
        overlay: Overlay | None = None
        if logs is None:
            why = "unreadable change log"
        elif opened is not None:
            cached = opened[0]
            overlay = current_overlay(path, cached)
            state = overlay.head if overlay is not None else cached
            why = _stale_reason(state, sid, live)
            new = [log for log in logs if log.name not in set(state.consumed)]
            if not why and any(log.whole for log in new):
                why = "a full snapshot was loaded"
        if opened is not None and cached is not None and not why:
            keys = changed_keys(new, NODE_LABELS)
            # the server re-reads what changed while this process loads the cached rows
            with ThreadPoolExecutor(1) as pool, opened[1] as fh:
                fetching = pool.submit(fetch, driver, database, keys)
                rows = read_rows(fh)
                lap("load")
                fetched = fetching.result()
            lap("fetch_wait")
            if rows is None:
                why = "cache unreadable"
            else:
                cached.rows = rows
                read_again = {"nodes": sum(len(v) for v in fetched.nodes.values()),
                              "rels": sum(len(v) for v in fetched.rels.values())}
                pending = combine(overlay.fetched, fetched) if overlay is not None else fetched
                del fetched
                apply(cached.rows, pending)
                lap("patch")
                if counts_match(cached.rows, driver, database):
                    lap("counts")
                    proj = build(cached.rows.chunks(NODE_LABELS, REL_TYPES))
                    lap("build")
                    staged = stage_patched(path, run_id, Cached(fingerprint(), sid, run_id,
                                                                consumed, cached.rows),
                                           cached.run_id, pending)
                    lap("stage")
                    proj.stats["cache_overlay"] = {
                        "applied": overlay_size(overlay.fetched) if overlay is not None else 0,
                        "staged": overlay_size(pending) if is_overlay(staged, path) else 0}
                    return Obtained(proj, staged, "cache",
                                    f"re-read {read_again['nodes']} nodes, "
                                    f"{read_again['rels']} relationships from {len(new)} "
                                    "change logs", sid, consumed, live, keys, seconds)
                why = "row counts differ from the graph"
        elif opened is not None:
            opened[1].close()
        cached = None  # the full read below does not need the old rows
    if not use_cache:
        proj = full_read(None)
        lap("read")
        return Obtained(proj, None, "full", why, sid, consumed, live, None, seconds)
    staged = staged_path(path, run_id)
    sink = RowWriter(staged, Cached(fingerprint(), sid, run_id, consumed, RowSet()))
    try:
        proj = full_read(sink)
        sink.close()
    except BaseException:
        sink.abandon()
        raise
    lap("read")
    return Obtained(proj, staged, "full", why, sid, consumed, live, None, seconds)


def _stale_reason(cached: Cached, sid: str, live: str | None) -> str:
    if cached.fingerprint != fingerprint():
        return "projected properties changed"
    if cached.store_id != sid:
        return "another database store"
    if not live or cached.run_id != live:
        return "the live run is not the cache's"
    return ""


def staged_path(path: Path, run_id: str) -> Path:
    """Where a run stages its rows until it is live."""
    return path.with_name(f"{path.name}.{run_id}.staged")


def stage_patched(path: Path, run_id: str, cached: Cached, base_run_id: str,
                  pending: Fetched) -> Path:
    """Stage a patched run's cache: the overlay ``pending`` (on the base file of
    ``base_run_id``) while it holds at most :data:`OVERLAY_MAX_SHARE` of the rows, else the
    whole rows. Returns the staged file (:func:`commit` tells which it is)."""
    if overlay_size(pending) <= OVERLAY_MAX_SHARE * row_count(cached.rows):
        staged = staged_path(overlay_path(path), run_id)
        save_overlay(staged, Overlay(Cached(cached.fingerprint, cached.store_id, run_id,
                                            cached.consumed, RowSet()),
                                     base_run_id, pending))
        return staged
    staged = staged_path(path, run_id)
    save(staged, cached)
    return staged


def is_overlay(staged: Path, path: Path) -> bool:
    """Whether ``staged`` (beside the cache file ``path``) is a staged overlay."""
    return staged.name.startswith(overlay_path(path).name + ".")


def commit(staged: Path, path: Path, changes_dir: Path, consumed: Iterable[str]) -> None:
    """The run is live: its staged rows become the cache (a staged overlay becomes the
    overlay on the same base file; whole rows replace the base file and end its overlay),
    and the logs it folded in go."""
    if is_overlay(staged, path):
        os.replace(staged, overlay_path(path))
    else:
        os.replace(staged, path)
        overlay_path(path).unlink(missing_ok=True)  # made on the old base: unused anyway
    changes.remove_logs(changes_dir, consumed)


def discard(staged: Path | None) -> None:
    if staged is not None:
        try:
            staged.unlink()
        except FileNotFoundError:
            pass
