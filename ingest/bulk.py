"""Bulk first load: the first delivery date into an EMPTY local graph via Neo4j's importer.

Neo4j's documented way to make an initial graph is the offline importer (``neo4j-admin
database import full``), not transactions. When the target database is empty and is the
project's own local server (:mod:`graph.server`), :class:`ingest.pipeline.Ingest` reads,
normalises, validates (quarantine unchanged) and resolves the files of the FIRST delivery date
exactly as on the transactional path, but hands each file's :class:`ingest.build.Writes` to a
:class:`MemoryGraph` instead of the ``UNWIND … MERGE`` writer:

* :class:`MemoryGraph` applies them with the writer's semantics (``MERGE`` on the key; mode
  ``record`` replaces (``+=``, a ``None`` removes the property) and stamps ``seen``, ``update``
  adds non-null properties, ``stub`` sets them only on create; a relationship is ``MERGE``\\ d
  on (type, endpoints, ``rk``) and skipped when an endpoint does not exist; files in the same
  order as the transactional path, so a later delivery wins), answers the resolution look-ups
  the builders make against the graph (enterprise keys, names, persons linked to an
  enterprise) and ends the records a full snapshot omits (``ended``/``ended_run``);
* :func:`write_csv` writes it as node/relationship CSV files under ``RISKGRAPH_HOME/bulk/``
  (typed headers; a property whose values have different types on different nodes goes in
  separate files, so every value keeps the type Bolt would have given it);
* :func:`graph.server.bulk_import` stops the server, runs the importer (our launcher's
  ``--import`` mode) on a fresh store and starts the server; the caller then restores the
  bookkeeping nodes (runs, schema migrations, users), applies the schema, writes the ledger
  (``LoadedFile``/``Delivery``) through the normal Cypher path, and removes the CSV files.

Later delivery dates of the same run go through the transactional path on top. The graph is
the one the transactional path makes (``tests/test_bulk_load.py`` compares both canonically),
except that no ``pending`` marker ever exists. A failed or killed import leaves the database
empty (see :mod:`graph.server`); the run fails and the next ingest starts over.

Memory: the graph of the first date is held in Python (one list of values per node and
relationship, the column names per label/type shared); see docs/operations.md for figures.
"""

from __future__ import annotations

import math
import resource
import shutil
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress, filterfalse, repeat, zip_longest
from operator import gt, is_, is_not
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph import access, cypher
from graph.model import BOOKKEEPING_LABELS, ENDED, NODE_BY_LABEL, RecordPart, record_part
from riskgraph.errors import DatabaseError
from riskgraph.gcpause import gc_paused
from riskgraph.settings import Settings

KEPT_LABELS = BOOKKEEPING_LABELS  # an "empty" graph may hold these (kept across the import)
LINKED_TYPES = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF")  # cypher.ingest_persons_linked
NODE_ORDER = ("Region", "Enterprise", "Person", "Party", "Address", "Phone")
ARRAY_DELIMITER = "\x1f"
TEST_CORRUPT_ENV = "RISKGRAPH_TEST_BULK_CORRUPT"  # test hook: a broken CSV line


class BulkUnsupported(DatabaseError):
    """A value the CSV importer cannot carry faithfully (the run fails before the server is
    stopped, the graph untouched; set RISKGRAPH_BULK_LOAD=off to load transactionally)."""

    HINT = ("nothing was written; set RISKGRAPH_BULK_LOAD=off and rerun the refresh to load "
            "this data transactionally")

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint or self.HINT)


# --- when --------------------------------------------------------------------------------------


def eligible(driver: Driver, settings: Settings, loaded: dict[str, Any]) -> tuple[bool, str]:
    """``(True, "")`` when this ingest may bulk-load: setting ``auto``, the local server, the
    default database, no file loaded yet, and no node but bookkeeping, no relationship."""
    if settings.bulk_load != "auto":
        return False, "RISKGRAPH_BULK_LOAD=off"
    if not settings.local:
        return False, "NEO4J_URI is set (remote server)"
    if settings.neo4j_database != "neo4j":
        return False, "not the local server's default database"
    if loaded:
        return False, "files already loaded"
    row = access.read(driver, cypher.bulk_data_probe(KEPT_LABELS),
                      database=settings.neo4j_database)[0]
    if row["nodes"] or row["rels"]:
        return False, "the graph is not empty"
    return True, ""


def kept_nodes(driver: Driver, settings: Settings) -> list[dict[str, Any]]:
    """The bookkeeping nodes as ``{label, key, props}`` (props with the key)."""
    out: list[dict[str, Any]] = []
    for r in access.read(driver, cypher.bulk_kept_nodes(KEPT_LABELS),
                         database=settings.neo4j_database):
        label = next(lb for lb in r["labels"] if lb in KEPT_LABELS)
        props = dict(r["props"])
        out.append({"label": label, "key": props[NODE_BY_LABEL[label].key], "props": props})
    return out


# --- the graph in memory -----------------------------------------------------------------------


# a plan: positions of the names that are columns; which names those are and which are not
# (None: all are); the row length needed; the first position when they are consecutive, else -1
_Plan = tuple[list[int], list[bool] | None, list[bool] | None, int, int]
_PLANS_MAX = 4096  # property-name tuples remembered per table (see _Table.set)
# runs an iterator (a ``map`` of a setter) to its end at C speed, keeping nothing
_exhaust: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend


@dataclass
class _Table:
    """Rows of one label or one relationship bucket: ``cols`` name → position; a row is a list
    of values (``None`` = no property, as in Neo4j). A row may be shorter than ``cols`` (the
    missing positions are ``None``)."""

    cols: dict[str, int] = field(default_factory=dict)
    rows: dict[Any, list[Any]] = field(default_factory=dict)
    # names of a props dict (in order) → :data:`_Plan`; making a plan makes no column
    plans: dict[tuple[str, ...], _Plan] = field(default_factory=dict, repr=False)

    def index(self, name: str) -> int:
        i = self.cols.get(name)
        if i is None:
            i = self.cols[name] = len(self.cols)
        return i

    def _plan(self, names: tuple[str, ...]) -> _Plan:
        get = self.cols.get
        idx = [get(k, -1) for k in names]
        pos = [i for i in idx if i >= 0]
        start = pos[0] if pos and pos == list(range(pos[0], pos[0] + len(pos))) else -1
        plan: _Plan
        if -1 in idx:
            plan = (pos, [i >= 0 for i in idx], [i < 0 for i in idx], max(idx) + 1, start)
        else:
            plan = (pos, None, None, max(idx, default=-1) + 1, start)
        if len(self.plans) < _PLANS_MAX or names in self.plans:
            self.plans[names] = plan
        return plan

    def set(self, row: list[Any], props: dict[str, Any], keep_none: bool = True) -> None:
        """``row[cols[k]] = v`` for every property, new names getting the next positions in
        order; without ``keep_none`` a ``None`` value is ignored (and makes no column)."""
        names = tuple(props)
        plan = self.plans.get(names)
        if plan is None:
            plan = self._plan(names)
        pos, sel, _, need, _ = plan
        values: Iterable[Any] = props.values()
        if keep_none:
            if sel is not None:
                for k in names:
                    self.index(k)
                pos, sel, _, need, _ = self._plan(names)
            if len(row) < need:
                row.extend([None] * (need - len(row)))
            _exhaust(map(row.__setitem__, pos, values))
            return
        given = list(map(is_not, values, repeat(None)))
        if sel is not None and any(map(gt, given, sel)):  # a value for a name without column
            for k, g in zip(names, given, strict=True):
                if g:
                    self.index(k)
            pos, sel, _, need, _ = self._plan(names)
        if sel is not None:
            given, values = list(compress(given, sel)), list(compress(values, sel))
        if len(row) < need:
            row.extend([None] * (need - len(row)))
        _exhaust(map(row.__setitem__, compress(pos, given), compress(values, given)))

    def new_row(self, props: dict[str, Any], keep_none: bool = True,
                lead: tuple[Any, ...] = ()) -> list[Any]:
        """A row holding ``lead`` at positions 0… (columns already) and ``props`` (as
        :meth:`set` on that row). Fast when the names are columns right after ``lead`` in
        order: a ``None`` value sets nothing on a new row, so it is copied as is, or left out
        when its name has no column (and mode ``keep_none`` would not make one)."""
        values = props.values()
        plan = self.plans.get(tuple(props))
        if plan is not None and plan[4] == len(lead):
            sel, unsel = plan[1], plan[2]
            if sel is None or unsel is None:
                return [*lead, *values]
            if not keep_none and not any(map(is_not, compress(values, unsel), repeat(None))):
                return [*lead, *compress(values, sel)]
        row = list(lead)
        self.set(row, props, keep_none)
        return row

    def get(self, row: list[Any], name: str) -> Any:
        i = self.cols.get(name)
        return row[i] if i is not None and i < len(row) else None


class MemoryGraph:
    """What an empty database would hold after the transactional writes (see module doc)."""

    def __init__(self) -> None:
        self.nodes: dict[str, _Table] = defaultdict(_Table)
        self.rels: dict[tuple[str, str, str], _Table] = defaultdict(_Table)
        self.by_name: dict[str, set[str]] = defaultdict(set)  # Enterprise name_norm → usccs
        self.linked: dict[str, set[str]] = defaultdict(set)  # uscc → Person pids

    def clear(self) -> None:
        self.nodes.clear()
        self.rels.clear()
        self.by_name.clear()
        self.linked.clear()

    def __bool__(self) -> bool:
        return any(t.rows for t in self.nodes.values())

    def counts(self) -> dict[str, int]:
        out = {label: len(t.rows) for label, t in self.nodes.items()}
        for (type_, _s, _t), table in self.rels.items():
            out[type_] = out.get(type_, 0) + len(table.rows)
        return out

    # look-ups the builders and the writer make against the graph

    def existing(self, label: str, keys: Iterable[Any]) -> set[Any]:
        rows = self.nodes[label].rows
        return {k for k in keys if k in rows}

    def enterprises_by_name(self, names: list[str], norms: list[str | None]
                            ) -> list[dict[str, Any]]:
        """Rows of :func:`graph.cypher.ingest_enterprises_by_name`."""
        return [{"q": q, "uscc": u} for q, nn in zip(names, norms, strict=True)
                if nn is not None for u in sorted(self.by_name.get(nn, ()))]

    def persons_linked(self, usccs: Iterable[str]) -> list[dict[str, Any]]:
        """Rows of :func:`graph.cypher.ingest_persons_linked`."""
        people = self.nodes["Person"]
        out = []
        for u in usccs:
            for pid in sorted(self.linked.get(u, ())):
                row = people.rows[pid]
                out.append({"uscc": u, "pid": pid, "name": people.get(row, "name"),
                            "id_masked": people.get(row, "id_masked")})
        return out

    # writes

    def merge_nodes(self, label: str, mode: str, items: Iterable[tuple[Any, dict[str, Any]]],
                    load_id: str) -> None:
        """Apply ``(key, props)`` rows of one label and mode, in order. Modes ``update`` and
        ``stub`` ignore ``None`` values (the writer strips them); ``record`` removes the
        property and stamps ``seen``."""
        table = self.nodes[label]
        rows, tset, new_row, tget = table.rows, table.set, table.new_row, table.get
        record, stub, ent = mode == "record", mode == "stub", label == "Enterprise"
        si: int | None = None  # position of "seen", made after the first row's properties
        for key, props in items:
            row = rows.get(key)
            old = None
            if row is None:
                row = rows[key] = new_row(props, record)
            elif stub:
                continue
            else:
                if ent:
                    old = tget(row, "name_norm")
                tset(row, props, record)
            if record:
                if si is None:
                    si = table.index("seen")
                if si >= len(row):
                    row.extend([None] * (si + 1 - len(row)))
                row[si] = load_id
            if ent:
                new = tget(row, "name_norm")
                if new != old:
                    if old is not None:
                        self.by_name[old].discard(key)
                    if new is not None:
                        self.by_name[new].add(key)

    def merge_rels(self, bucket: tuple[str, str, str],
                   items: Iterable[tuple[tuple[Any, Any, str], dict[str, Any]]],
                   load_id: str, record: bool) -> int:
        """Apply ``(ends, props)`` rows of one bucket (``None`` values ignored, as the writer
        strips them, but a record's ``ended``/``ended_run``: a ``None`` clears them); a row
        whose endpoint does not exist is skipped. Returns rows written."""
        type_, source, target = bucket
        src, dst = self.nodes[source].rows, self.nodes[target].rows
        linked = type_ in LINKED_TYPES and source == "Person" and target == "Enterprise"
        table: _Table | None = None  # made at the first row written
        ri = si = -1  # positions of "rk" (made before a new row's properties) and "seen"
        done = 0
        for ends, props in items:
            s, d, rk = ends
            if s not in src or d not in dst:
                continue
            if table is None:
                table = self.rels[bucket]
                rows, tset, new_row = table.rows, table.set, table.new_row
            row = rows.get(ends)
            if row is None:
                if ri < 0:
                    ri = table.index("rk")
                if ri == 0:
                    row = rows[ends] = new_row(props, False, (rk,))
                else:  # not met: "rk" is the first column of every relationship table
                    row = rows[ends] = [None] * ri + [rk]
                    tset(row, props, False)
                if linked:
                    self.linked[d].add(s)
            else:
                tset(row, props, False)
            if record:
                if si < 0:
                    si = table.index("seen")
                if si >= len(row):
                    row.extend([None] * (si + 1 - len(row)))
                row[si] = load_id
                for name in ENDED:
                    i = table.cols.get(name)
                    if i is not None and i < len(row) and name in props and props[name] is None:
                        row[i] = None
            done += 1
        return done

    def end_missing(self, rec: str, loads: list[str], ended: str, run_id: str,
                    labels: list[str], types: list[str], kept: list[str]) -> None:
        """:func:`ingest.writer.end_missing` (a record never stamped ``seen`` is left alone,
        as ``NOT n.seen IN $loads`` is null then; on a label delivered in parts, only the
        part of ``rec`` ends: :meth:`_end_part`)."""
        seen_in, kept_keys = set(loads), set(kept)
        tables = []
        for lb in labels:
            part = record_part(lb, rec)
            if part is not None:
                self._end_part(lb, part, seen_in, ended, run_id, kept_keys)
            elif lb in self.nodes:
                tables.append(self.nodes[lb])
        tables += [t for (ty, _s, _t), t in self.rels.items() if ty in types]
        for table in tables:
            ri, si = table.cols.get("rec"), table.cols.get("seen")
            if ri is None or si is None:
                continue
            for row in table.rows.values():
                n = len(row)
                if (ri < n and si < n and row[ri] == rec and row[si] is not None
                        and row[si] not in seen_in and table.get(row, "ended") is None
                        and table.get(row, "rec_key") not in kept_keys):
                    table.set(row, {"ended": ended, "ended_run": run_id})

    def _end_part(self, label: str, part: RecordPart, seen_in: set[str], ended: str,
                  run_id: str, kept_keys: set[str]) -> None:
        """:func:`graph.cypher.ingest_end_nodes` for one part of a label delivered in parts:
        ``ended_<part>`` on the nodes whose part the snapshot omits, the node ended when no
        other part is current and current otherwise."""
        table = self.nodes.get(label)
        if table is None:
            return
        others = [p for p in NODE_BY_LABEL[label].parts if p != part]
        get = table.get
        for row in table.rows.values():
            seen = get(row, part.seen)
            if (seen is None or seen in seen_in or get(row, part.ended) is not None
                    or get(row, "rec_key") in kept_keys):
                continue
            current = any(get(row, p.seen) is not None and get(row, p.ended) is None
                          for p in others)
            table.set(row, {part.ended: ended, "ended": None if current else ended,
                            "ended_run": None if current else run_id})


# --- CSV files ---------------------------------------------------------------------------------

_TYPES: dict[type, str] = {str: "string", bool: "boolean", int: "long", float: "double"}


def _kind(value: Any) -> str:
    if isinstance(value, list):
        kinds = {_kind(v) for v in value}
        if len(kinds) != 1 or "[]" in next(iter(kinds)):
            raise BulkUnsupported(f"a list property {value!r:.80} has no single element type "
                                  "the importer can write")
        return next(iter(kinds)) + "[]"
    kind = _TYPES.get(type(value))
    if kind is None:
        raise BulkUnsupported(f"a property of type {type(value).__name__} cannot be imported")
    return kind


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BulkUnsupported(f"a non-finite number {value!r} cannot be imported")
        return repr(value)
    return str(value)


def _field(value: Any) -> str:
    """One CSV field: no property = empty; strings (also empty ones) and lists quoted."""
    if value is None:
        return ""
    if isinstance(value, list):
        parts = [_scalar(v) for v in value]
        if any(ARRAY_DELIMITER in p for p in parts):
            raise BulkUnsupported("a list value holds the array delimiter")
        if not parts or parts == [""]:
            raise BulkUnsupported("an empty list (or a list of one empty string) cannot be "
                                  "imported faithfully")
        return '"' + ARRAY_DELIMITER.join(parts).replace('"', '""') + '"'
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return _scalar(value)


def _column_kinds(table: _Table) -> dict[int, set[str]]:
    """The kinds (:func:`_kind`) of the non-null values of each column that has one. The
    rows are reduced to their distinct tuples of value types (C speed); only list values are
    looked at one by one."""
    rows = table.rows.values()
    types: dict[int, set[type]] = defaultdict(set)
    for signature in set(map(tuple, map(map, repeat(type), rows))):
        for i, t in enumerate(signature):
            types[i].add(t)
    kinds: dict[int, set[str]] = {}
    for i in sorted(types):
        found: set[str] = set()
        for t in types[i]:
            kind = _TYPES.get(t)
            if kind is not None:
                found.add(kind)
            elif issubclass(t, list):
                found.update(_kind(r[i]) for r in rows if len(r) > i and type(r[i]) is t)
            elif t is not type(None):
                raise BulkUnsupported(f"a property of type {t.__name__} cannot be imported")
        if found:
            kinds[i] = found
    return kinds


def _groups(table: _Table, skip: set[str]) -> dict[tuple[tuple[str, str], ...], list[Any]]:
    """Rows grouped by the (column, type) of their properties that vary in type across rows;
    columns with one type (or only nulls) are common to every group."""
    kinds = _column_kinds(table)
    names = {i: n for n, i in table.cols.items()}
    mixed = sorted(i for i, k in kinds.items() if len(k) > 1)
    fixed = tuple((names[i], next(iter(kinds[i]))) for i in sorted(kinds)
                  if i not in mixed and names[i] not in skip)
    if not mixed:  # one group (none without rows)
        return {fixed: list(table.rows)} if table.rows else {}
    groups: dict[tuple[tuple[str, str], ...], list[Any]] = defaultdict(list)
    for key, row in table.rows.items():
        extra = tuple((names[i], _kind(row[i])) for i in mixed
                      if i < len(row) and row[i] is not None and names[i] not in skip)
        groups[fixed + extra].append(key)
    return groups


def _write(path: Path, header: list[str], chunks: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\n")
        for chunk in chunks:
            out.write(chunk)


_CHUNK = 10000  # rows formatted at a time (column by column)


_BOOL = {True: "true", False: "false", None: ""}.__getitem__


def _blank_nulls(fields: list[str], values: Sequence[Any]) -> list[str]:
    """``fields`` with "" where ``values`` is None (C speed)."""
    _exhaust(map(fields.__setitem__, compress(range(len(values)), map(is_, values,
                                                                       repeat(None))),
                  repeat("")))
    return fields


def _quoted(values: Sequence[Any]) -> list[str]:
    """Strings quoted (also empty ones), ``"`` doubled; None = empty."""
    if '"' in "".join(filter(None, values)):
        return ["" if v is None else '"' + v.replace('"', '""') + '"' for v in values]
    return ["" if v is None else f'"{v}"' for v in values]


def _column(kind: str, values: Sequence[Any]) -> list[str]:
    """The CSV fields of one column whose non-null values all have ``kind``: no property =
    empty; strings (also empty ones) and lists quoted (see :func:`_field`)."""
    if kind == "string":
        return _quoted(values)
    if kind == "long":
        return _blank_nulls(list(map(str, values)), values)
    if kind == "boolean":
        return list(map(_BOOL, values))
    if kind == "double":
        bad = next(filterfalse(math.isfinite, filter(None, values)), None)  # skips None, 0.0
        if bad is not None:
            raise BulkUnsupported(f"a non-finite number {bad!r} cannot be imported")
        return _blank_nulls(list(map(repr, values)), values)
    return [_field(v) for v in values]


def _text(lead: list[list[str]], rows: list[list[Any]],
          cols: list[tuple[int, str]]) -> str:
    """Lines of ``rows``: the formatted ``lead`` columns (ids), then ``cols`` (position,
    kind). Rows shorter than a position have no property there."""
    columns = list(zip_longest(*rows))
    nulls = (None,) * len(rows)
    fields = lead + [_column(kind, columns[i] if i < len(columns) else nulls)
                     for i, kind in cols]
    return "\n".join(map(",".join, zip(*fields, strict=True))) + "\n"


def _positions(table: _Table, cols: tuple[tuple[str, str], ...]) -> list[tuple[int, str]]:
    return [(table.cols[c], kind) for c, kind in cols]


def _node_chunks(label: str, table: _Table, keys: list[Any],
                 cols: list[tuple[int, str]]) -> Iterable[str]:
    rows = table.rows
    for at in range(0, len(keys), _CHUNK):
        part = keys[at:at + _CHUNK]
        if not all(map(isinstance, part, repeat(str))):
            k = next(k for k in part if not isinstance(k, str))
            raise BulkUnsupported(f"a {label} key {k!r} is not a string")
        yield _text([_quoted(part)], [rows[k] for k in part], cols)


def _rel_chunks(table: _Table, ends: list[Any], cols: list[tuple[int, str]]) -> Iterable[str]:
    rows = table.rows
    for at in range(0, len(ends), _CHUNK):
        part = ends[at:at + _CHUNK]
        yield _text([_quoted([e[0] for e in part]), _quoted([e[1] for e in part])],
                    [rows[e] for e in part], cols)


def write_csv(graph: MemoryGraph, folder: Path, corrupt: bool = False) -> list[str]:
    """Write ``graph`` as importer CSV files in ``folder``; returns the importer arguments
    (``--nodes=…``/``--relationships=…`` and options, without the database name)."""
    with gc_paused():
        return _write_csv(graph, folder, corrupt)


def _write_csv(graph: MemoryGraph, folder: Path, corrupt: bool) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    args: list[str] = []
    n = 0
    for label in sorted(graph.nodes):
        table = graph.nodes[label]
        key = NODE_BY_LABEL[label].key
        for cols, keys in _groups(table, {key}).items():
            n += 1
            path = folder / f"n{n:03d}_{label}.csv"
            header = [f"{key}:ID({label})"] + [f"{c}:{k}" for c, k in cols]

            _write(path, header, _node_chunks(label, table, keys, _positions(table, cols)))
            args.append(f"--nodes={label}={path}")
    for (type_, source, target) in sorted(graph.rels):
        table = graph.rels[(type_, source, target)]
        for cols, ends in _groups(table, set()).items():
            n += 1
            path = folder / f"r{n:03d}_{type_}_{source}_{target}.csv"
            header = [f":START_ID({source})", f":END_ID({target})"] + [
                f"{c}:{k}" for c, k in cols]

            _write(path, header, _rel_chunks(table, ends, _positions(table, cols)))
            args.append(f"--relationships={type_}={path}")
    if corrupt and args:  # test hook: a line the importer must refuse
        first = Path(args[0].split("=", 2)[2])
        with first.open("a", encoding="utf-8") as out:
            out.write('"unterminated,"\n"x\n')
    args += ["--multiline-fields=true", "--bad-tolerance=0", "--skip-bad-relationships=false",
             "--skip-duplicate-nodes=false", f"--array-delimiter={ARRAY_DELIMITER}",
             "--overwrite-destination=true", f"--report-file={folder / 'import.report'}"]
    return args


# --- the import ----------------------------------------------------------------------------------


def run_import(driver: Driver, settings: Settings, graph: MemoryGraph,
               kept: list[dict[str, Any]], replay: Callable[[], None],
               corrupt: bool = False) -> dict[str, Any]:
    """CSV → importer → server back → kept nodes, schema, ledger (``replay``) → marker gone.

    Returns timings. Raises :class:`DatabaseError` when the import failed (the database is
    empty again, the kept nodes restored)."""
    from graph import server
    from graph.schema import apply_schema

    folder = settings.home / "bulk" / time.strftime("%Y%m%dT%H%M%S")
    stats: dict[str, Any] = {"counts": graph.counts(),  # peak of this process so far:
                             "client_peak_rss_mb": round(resource.getrusage(
                                 resource.RUSAGE_SELF).ru_maxrss / 1024)}
    t = time.perf_counter()
    try:
        args = write_csv(graph, folder, corrupt=corrupt)
        graph.clear()  # the importer gets the memory
        stats["csv_s"] = round(time.perf_counter() - t, 3)
        stats["csv_mb"] = round(sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20, 1)
        result = server.bulk_import(settings, args, kept, folder.parent / "import.log")
        stats.update(result)
        uri = server.status(settings)["uri"]
        server.restore_kept(settings, uri, settings.neo4j_password, kept)
        _reconnect(driver, settings)
        if result["exit"] != 0:
            server.bulk_finished(settings)
            raise DatabaseError(
                f"the bulk import failed (neo4j-admin exit {result['exit']}); the database "
                "was left empty",
                f"see {folder.parent / 'import.log'} and {folder / 'import.report'}; the next "
                "refresh starts over (RISKGRAPH_BULK_LOAD=off loads transactionally)")
        t = time.perf_counter()
        apply_schema(driver, settings.neo4j_database)
        access.run_batched(driver, cypher.await_indexes(), database=settings.neo4j_database)
        stats["schema_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        replay()
        stats["ledger_s"] = round(time.perf_counter() - t, 3)
        server.bulk_finished(settings)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return stats


def _reconnect(driver: Driver, settings: Settings) -> None:
    """The driver's pooled connections died with the old server: one retried read drops
    them (managed transactions retry on a dead connection)."""
    access.read(driver, cypher.ping(), database=settings.neo4j_database)
