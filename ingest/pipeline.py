"""Ingest an inbox: deliveries in date order, files read, validated, resolved, written.

Public API: :func:`ingest_inbox` (library, used by refresh) and :func:`run_ingest_command`
(the CLI ``riskgraph ingest INBOX [--force]``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import pickle
import re
import sys
import time
import types
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from neo4j import Driver

from data_contracts import validate, warm_up
from graph import access, changes, cypher, keycheck
from ingest import bulk, warmup, writer
from ingest.build import BuildContext, Writes, served_regions
from ingest.bulk import MemoryGraph
from ingest.normalise import INVALID
from ingest.readers import read_tables
from ingest.report import (
    FileReport,
    IngestReport,
    TableReport,
    append_quarantine,
    write_reports,
)
from ingest.sources import SOURCE_ORDER, SOURCES, table_names, table_spec
from ingest.spec import Prepared, TableSpec, prepare
from riskgraph.errors import DataError, RiskgraphError
from riskgraph.identifiers import is_masked_id, keyed_hash, load_hash_key, mask_id
from riskgraph.settings import Settings

SHRINK_LIMIT = 0.5
NOTES_SHOWN = 20  # adapter notes printed by :func:`summary` (all are in the report)
logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
_DATE_DIR = re.compile(r"^\d{8}$")
_ID_LIKE = re.compile(r"^\d{6}[\dX*]{8,}[\dX]?$")


@dataclass
class _Table:
    spec_name: str
    report: TableReport
    valid: pd.DataFrame
    quarantine: list[dict[str, Any]]
    """Quarantine file rows of the rows that failed the contract (values masked)."""
    rec_keys: dict[int, str] = field(default_factory=dict)
    """Row → record key of the valid rows (stamped as ``rec_key`` on their records)."""
    kept: list[str] = field(default_factory=list)
    """Full snapshot: the record keys of its quarantined rows that are still readable (their
    records are not ended, :func:`record_keys`)."""


@dataclass
class _File:
    path: Path
    report: FileReport
    kind: str = ""
    tables: list[_Table] = field(default_factory=list)
    read: bool = False
    end_tables: list[str] = field(default_factory=list)
    """Full snapshot: the tables this file is the last of its delivery to load: what the
    delivery omits of them is ended when this file completes."""

    @property
    def order(self) -> int:
        specs = [table_spec(self.report.source, t.spec_name).order for t in self.tables]
        return min(specs) if specs else 99


@dataclass
class _Snapshot:
    """A full snapshot of one table in one delivery (:meth:`Ingest._snapshot`)."""

    loads: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass
class _Read:
    file: _File
    error: BaseException | None
    seconds: float


@dataclass(frozen=True)
class ReadJob:
    """Everything a reader needs for one delivery folder: no database, no shared state, so
    it runs in a thread or in a worker process (:func:`read_folder`)."""

    date: str
    source: str
    folder: Path
    done: frozenset[str]
    """sha256 of the files already loaded or rejected (not read again)."""
    fx_rates: Mapping[str, float]
    city: str
    key: bytes


def read_folder(job: ReadJob) -> list[_Read]:
    """Hash, read, normalise and validate every file of a delivery; files in ``job.done``
    are hashed only. An error is kept with its file (bad input never crashes the reader)
    and made picklable, so a worker process can send it back."""
    out: list[_Read] = []
    for path in sorted(p for p in job.folder.iterdir() if p.is_file()
                       and not p.name.startswith((".", "~$"))):
        f = _File(path, FileReport(delivery=job.date, source=job.source, file=path.name))
        t = time.perf_counter()
        error: BaseException | None = None
        try:
            f.report.sha256 = _sha256(path)
            if f.report.sha256 not in job.done:
                read_file(f, job)
                f.read = True
        except Exception as exc:  # noqa: BLE001 — bad input never crashes
            error = _picklable(exc)
        out.append(_Read(f, error, time.perf_counter() - t))
    return out


def start_reader_process() -> ProcessPoolExecutor:
    """A pool of one spawned reader process, started now.

    A spawned process first re-runs the parent's ``__main__`` (so that functions defined
    there can be unpickled). The reader's functions live in importable modules and need
    none, while a ``__main__`` without a ``__name__`` guard would run again in the worker (an
    app run in-process, e.g. under Streamlit's AppTest, started a second server that way): the
    worker is therefore started with a plain ``__main__`` in place."""
    pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"),
                               initializer=warm_up)
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        pool.submit(int)  # starts the worker (its preparation data is sent at start)
    finally:
        if main is not None:
            sys.modules["__main__"] = main
    return pool


def reads_of(future: Future[list[_Read]]) -> list[_Read]:
    """The reads of one delivery; a reader process that died (killed, out of memory) is a
    clear error, not a traceback (nothing of that delivery was written)."""
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise RiskgraphError(
            "the ingest reader process died before it finished reading a delivery",
            "the machine may be short of memory: set RISKGRAPH_INGEST_READ_PROCESS_MB to a "
            "large value to read in the ingest process itself, and rerun") from exc


def _picklable(exc: Exception) -> Exception:
    """``exc`` itself when it survives pickling, else a plain exception with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 — any pickling failure: keep the words
        return RuntimeError(f"{exc.__class__.__name__}: {exc}")


def read_file(f: _File, job: ReadJob) -> None:
    """Read one file's tables into ``f``: prepared, validated, failed rows set aside with
    their quarantine rows (the raw frame is not kept)."""
    meta, tables, notes, ignored_sheets = read_tables(f.path, table_names(job.source))
    f.kind = f.report.kind = meta.kind
    f.report.notes = list(notes)
    f.report.ignored_sheets = list(ignored_sheets)
    for name, raw in tables.items():
        spec = table_spec(job.source, name)
        tr = TableReport(table=name, kind=meta.kind, rows_read=len(raw),
                         encoding=str(raw.attrs.get("encoding", "")),
                         sheet=str(raw.attrs.get("sheet", "")),
                         sheet_placement=str(raw.attrs.get("sheet_placement", "")))
        prepared = prepare(raw, spec, job.fx_rates, job.city)
        validation = validate(prepared.frame, prepared.contract)
        bad = validation.failed_rows
        tr.duplicates = len(prepared.duplicates)
        tr.duplicate_rows = prepared.duplicates
        tr.rows_quarantined = len(bad)
        tr.rows_loaded = len(prepared.frame) - len(bad)
        tr.unexpected_columns = prepared.unexpected_columns
        tr.header_mappings = prepared.header_mappings
        f.report.notes += _column_notes(tr)
        tr.missing_optional_columns = prepared.missing_optional
        tr.expectations = validation.expectations
        tr.rules = dict(Counter(x.rule for x in validation.failures))
        if raw.attrs.get("ragged"):
            tr.message = f"{raw.attrs['ragged']} row(s) with a wrong number of cells"
        rows = _quarantine_rows(f.report, raw, validation.failures, job.key)
        rec_keys, kept = record_keys(prepared, spec, validation.failures)
        if meta.kind != "full":
            kept = []  # only a full snapshot ends records
        tr.kept_keys = len(kept)
        valid = prepared.frame.drop(index=list(bad))
        valid.attrs.pop("failures", None)
        f.tables.append(_Table(name, tr, valid, rows, rec_keys, kept))
        f.report.tables.append(tr)


def _column_notes(tr: TableReport) -> list[str]:
    """The file notes on a table's headers: mapped to declared ones, columns not read."""
    notes = []
    if tr.header_mappings:
        notes.append(f"{tr.table}: header(s) read as declared ones: " + ", ".join(
            f"{k!r} → {v}" for k, v in tr.header_mappings.items()))
    if tr.unexpected_columns:
        notes.append(f"{tr.table}: column(s) not read: "
                     + ", ".join(repr(c) for c in tr.unexpected_columns))
    return notes


def record_keys(prepared: Prepared, spec: TableSpec, failures: Iterable[Any]
                ) -> tuple[dict[int, str], list[str]]:
    """Record keys (the values of ``spec.seen_columns`` joined by ``|``, ``None`` as empty):
    ``{row: key}`` of the valid rows, and the sorted keys the failed rows keep from being
    ended in a full snapshot: those readable (no check of a key column failed in that row)
    and, for a record table, loaded from no valid row (a valid row of the key is its whole
    new version: what that version lacks ends, a ``key_duplicate`` row keeps nothing). For a
    child table the key names what the row belongs to, so a failed row keeps all its owner's
    records of the table, whatever the valid rows of that owner."""
    columns = list(spec.seen_columns)
    if not columns:
        return {}, []
    frame = prepared.frame
    key_headers = {prepared.headers.get(c, c) for c in columns}
    failed: set[int] = set()
    unreadable: set[int] = set()
    for failure in failures:
        failed.add(int(failure.row))
        if failure.column in key_headers and failure.rule != "key_duplicate":
            unreadable.add(int(failure.row))  # a key_duplicate row's key is readable
    keys: dict[int, str] = {}
    kept: set[str] = set()
    for row, values in zip(frame.index, frame[columns].itertuples(index=False), strict=True):
        key = "|".join(map(_key_part, values))
        if int(row) not in failed:
            keys[int(row)] = key
        elif int(row) not in unreadable:
            kept.add(key)
    if spec.key:
        kept -= set(keys.values())
    return keys, sorted(kept)


def _key_part(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value == INVALID:
        return ""
    return str(value)


def _quarantine_rows(fr: FileReport, raw: pd.DataFrame, failures: Iterable[Any],
                     key: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    sheet = str(raw.attrs.get("sheet") or "")  # a workbook's sheet; a CSV has none
    for failure in failures:
        value: Any = None
        if failure.column in raw.columns:
            value = raw.at[failure.row, failure.column]
        text = "" if value is None else str(value)
        rows.append({"delivery": fr.delivery, "source": fr.source, "file": fr.file,
                     "row": failure.row, "column": failure.column,
                     "rule": failure.rule, "value": _mask_value(text),
                     "value_hash": keyed_hash(text, key) if text else "", "sheet": sheet})
    rows.sort(key=lambda r: (r["row"], r["column"]))
    return rows


def new_run_id() -> str:
    return datetime.now().strftime("ingest-%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(inbox: Path) -> tuple[list[tuple[str, str, Path]], list[str]]:
    """``[(date, source, folder)]`` in date then source order, and notes on ignored entries."""
    found: list[tuple[str, str, Path]] = []
    notes: list[str] = []
    if not inbox.is_dir():
        raise DataError(f"inbox {inbox} is not a folder", "pass the inbox folder")
    for day in sorted(inbox.iterdir()):
        if not day.is_dir():
            continue
        if not _DATE_DIR.match(day.name):
            notes.append(f"ignored folder {day.name!r}: not a YYYYMMDD delivery date")
            continue
        for folder in sorted(day.iterdir()):
            if not folder.is_dir():
                continue
            if folder.name not in SOURCES:
                notes.append(f"ignored {day.name}/{folder.name}: unknown source")
                continue
            found.append((day.name, folder.name, folder))
    found.sort(key=lambda d: (d[0], SOURCE_ORDER.index(d[1])))
    return found, notes


def _mask_value(value: Any) -> str:
    text = "" if value is None else str(value)
    if _ID_LIKE.match(text.replace(" ", "").upper()) or is_masked_id(text):
        return mask_id(text.replace(" ", ""))
    return text


class Ingest:
    """One ingest run over an inbox (state kept between deliveries)."""

    def __init__(self, driver: Driver, settings: Settings, inbox: Path, force: bool,
                 run_id: str | None, progress: bool, corrupt_bulk: bool = False) -> None:
        self.driver, self.settings, self.inbox, self.force = driver, settings, inbox, force
        self.run_id = run_id or new_run_id()
        self.db = settings.neo4j_database
        self.progress = progress
        self.key = load_hash_key(settings.secrets_dir, settings.hash_key)
        self.report = IngestReport(run_id=self.run_id, inbox=str(inbox),
                                   started=datetime.now().isoformat(timespec="seconds"),
                                   force=force)
        self.qdir = settings.quarantine_dir / self.run_id
        self.loaded: dict[str, dict[str, Any]] = {}
        self.regions: set[str] | None = None  # Region codes written in this run
        self.batch = max(settings.batch_size, writer.BATCH)
        # bulk first load (ingest/bulk.py): the first delivery date goes to memory, then CSV
        # and neo4j-admin import; ledger writes wait for the imported store
        self.memory: MemoryGraph | None = None
        self.kept: list[dict[str, Any]] = []
        self.pending_marks: list[dict[str, Any]] = []
        self.corrupt_bulk = corrupt_bulk
        # the write shapes of this run, and the planning ahead of recorded ones (ingest/warmup)
        self.shapes = warmup.Shapes()
        self.warming: warmup.Warming | None = None

    # --- state --------------------------------------------------------------------------

    def _load_state(self) -> None:
        for r in access.read(self.driver, cypher.ingest_loaded_files(), database=self.db):
            self.loaded[r["file_id"]] = r

    def _resume_committed(self) -> None:
        for r in list(self.loaded.values()):
            if r["status"] == "committed":  # crashed after the commit point: finish it
                self._complete(r)

    def _complete(self, r: dict[str, Any], written: writer.Written | None = None) -> None:
        """After the commit point: end what a full snapshot omits, clear ``pending`` (by the
        keys the write returned, or by scanning when resuming after a crash), mark done."""
        labels, types = list(r.get("labels") or []), list(r.get("types") or [])
        counts = json.loads(r.get("counts") or "{}")
        if r.get("kind") == "full":
            # a file recorded before end_tables ends every table it holds
            ending = r.get("end_tables")
            for table in counts if ending is None else ending:
                scope = self._snapshot(r, table)
                args = (f"{r['source']}/{table}", scope.loads, _iso(r["delivery"]),
                        self.run_id, scope.labels, scope.types, scope.kept)
                if self.memory is not None:
                    self.memory.end_missing(*args)
                else:
                    changes.write_log(self.settings.changes_dir, {},
                                      [*scope.labels, *scope.types],
                                      note=f"end missing {args[0]}")
                    writer.end_missing(self.driver, *args, self.db)
        if self.memory is not None:
            pass  # nothing is pending in memory
        elif written is not None:
            writer.finalise_keys(self.driver, r["load_id"], written, self.db, self.batch)
        else:
            writer.finalise(self.driver, r["load_id"], labels, types, self.db)
        self._mark(r["file_id"], {"status": "done"}, r)

    def _snapshot(self, r: dict[str, Any], table: str) -> _Snapshot:
        """The full snapshot of ``table`` that file ``r`` belongs to: every file of its
        delivery (same date and source) committed with that table, this one included: their
        loads, the labels and types carrying their records and the record keys of their
        quarantined rows (a table delivered in several files is one snapshot)."""
        files = [e for e in self.loaded.values()
                 if e.get("delivery") == r["delivery"] and e.get("source") == r["source"]
                 and e.get("status") in ("committed", "done") and e.get("load_id")
                 and table in json.loads(e.get("counts") or "{}")]
        out = _Snapshot()
        for e in [r, *files]:
            if e["load_id"] in out.loads:
                continue
            out.loads.append(e["load_id"])
            rec_labels, rec_types = e.get("rec_labels"), e.get("rec_types")
            out.labels += (e.get("labels") or []) if rec_labels is None else rec_labels
            out.types += (e.get("types") or []) if rec_types is None else rec_types
            out.kept += json.loads(e.get("kept") or "{}").get(table, [])
        out.loads.sort()
        out.labels, out.types = sorted(set(out.labels)), sorted(set(out.types))
        out.kept = sorted(set(out.kept))
        return out

    def _mark(self, file_id: str, props: dict[str, Any], base: dict[str, Any]) -> None:
        delivery = {"source": base["source"], "date": base["delivery"]}
        params = {"delivery_id": f"{base['delivery']}/{base['source']}", "delivery": delivery,
                  "file_id": file_id, "props": props}
        if self.memory is not None:  # written once the imported store is up (same order)
            self.pending_marks.append(params)
        else:
            access.write(self.driver, cypher.ingest_mark_file(), params, database=self.db)
        self.loaded.setdefault(file_id, dict(base)).update(props)

    def _previous_full(self, source: str, table: str) -> int | None:
        """Rows of ``table`` loaded from the newest full delivery of ``source`` holding it
        (summed over its files: a table may come in several)."""
        rows: dict[str, int] = {}
        for r in self.loaded.values():
            if r.get("source") != source or r.get("kind") != "full" or r.get("status") != "done":
                continue
            counts = json.loads(r.get("counts") or "{}")
            if table in counts:
                rows[r["delivery"]] = rows.get(r["delivery"], 0) + int(counts[table])
        return rows[max(rows)] if rows else None

    # --- run ----------------------------------------------------------------------------

    def run(self) -> IngestReport:
        try:
            return self._run()
        finally:  # never leave a thread using the caller's driver after returning
            self._end_warm()

    def _run(self) -> IngestReport:
        t0 = time.perf_counter()
        keycheck.verify(self.driver, self.key, self.db)  # another key: stop before writing
        deliveries, notes = discover(self.inbox)
        self.report.messages += notes
        # Reading + validating (pure Python/pandas, no database) of the next delivery runs in
        # a worker thread while the current one is resolved and written (Neo4j I/O).
        # The loaded files are known BEFORE the worker hashes anything, so files already done
        # are never read or validated (an increment costs its own files only).
        self._load_state()
        if deliveries:
            self._warm("run start")
        first = deliveries[0][0] if deliveries else None
        if first is not None:
            use, why = bulk.eligible(self.driver, self.settings, self.loaded)
            if use:
                self.memory = MemoryGraph()
                self.kept = bulk.kept_nodes(self.driver, self.settings)
            self.report.messages.append(
                f"first delivery date {first}: bulk import" if use else
                f"transactional writes ({why})")
        with self._reader(deliveries) as pool:
            ahead: dict[int, Future[list[_Read]]] = {}
            for i, (date, source, folder) in enumerate(deliveries[:2]):
                ahead[i] = pool.submit(read_folder, self._job(date, source, folder))
            self._resume_committed()
            for i, (date, source, folder) in enumerate(deliveries):
                if i + 1 < len(deliveries) and i + 1 not in ahead:
                    d, s, fo = deliveries[i + 1]
                    ahead[i + 1] = pool.submit(read_folder, self._job(d, s, fo))
                self._delivery(date, source, folder, reads_of(ahead.pop(i)))
                if self.memory is not None and (i + 1 == len(deliveries)
                                                or deliveries[i + 1][0] != first):
                    self._flush_bulk()
        self.report.finished = datetime.now().isoformat(timespec="seconds")
        self.report.seconds = round(time.perf_counter() - t0, 3)
        if self.shapes:
            warmup.save_shapes(self.settings.ingest_shapes_file, self.shapes)
        self._end_warm()
        if self.report.quarantined:
            self.report.quarantine_dir = str(self.qdir)
        write_reports(self.report, self.settings.runs_dir)
        if not any(f.status in ("loaded", "rejected") for f in self.report.files):
            return self.report  # nothing new: leave the graph exactly as it was
        keycheck.record(self.driver, self.key, self.run_id, self.db)
        access.write(self.driver, cypher.ingest_mark_run(), {"run_id": self.run_id, "props": {
            "kind": "ingest", "started": self.report.started, "finished": self.report.finished,
            "status": "ok" if self.report.ok else "rejected",
            "rows_loaded": self.report.rows_loaded, "rows_quarantined": self.report.quarantined,
            "path": self.report.path,
        }}, database=self.db)
        return self.report

    def _flush_bulk(self) -> None:
        """The first delivery date is resolved in memory: import it, then write the ledger."""
        memory, self.memory = self.memory, None
        marks, self.pending_marks = self.pending_marks, []

        def replay() -> None:
            for params in marks:
                access.write(self.driver, cypher.ingest_mark_file(), params, database=self.db)

        if memory is None or not memory:  # nothing loaded (all rejected): ledger only
            replay()
            return
        t = time.perf_counter()
        self.report.path = "bulk import"
        self._end_warm()  # the import restarts the server: plan again after it
        self.report.bulk = bulk.run_import(self.driver, self.settings, memory, self.kept,
                                           replay, corrupt=self.corrupt_bulk)
        self.report.bulk["seconds"] = round(time.perf_counter() - t, 3)
        self._warm("after bulk import", wait=True)

    def _warm(self, when: str, wait: bool = False) -> None:
        """Plan the recorded write shapes and this run's ahead (:mod:`ingest.warmup`): in a
        background thread beside the run's own work (ended by :meth:`_end_warm`), or, after
        a bulk import, at once (seconds, before a refresh scores for minutes)."""
        shapes = warmup.load_shapes(self.settings.ingest_shapes_file)
        shapes.update(self.shapes)
        if not wait:
            self.warming = warmup.start_warm(self.driver, self.db, shapes, when)
            return
        queries = warmup.warm_queries(shapes) if shapes else []
        if queries:
            self._note_warm(when, len(queries), warmup.warm(self.driver, self.db, queries))

    def _end_warm(self) -> None:
        """Stop the background warm-up, wait for it and note what it planned."""
        warming, self.warming = self.warming, None
        if warming is not None:
            warming.stop.set()
            self._note_warm(warming.when, warming.queries, warming.join(30.0))

    def _note_warm(self, when: str, queries: int, done: warmup.WarmReport) -> None:
        self.report.warm_up = {"when": when, "queries": queries, "planned": done.planned,
                               "failed": done.failed, "seconds": done.seconds,
                               "errors": done.errors}

    def _log_changes(self, note: str) -> Callable[[Writes], None]:
        """The ``before_write`` hook of a transactional load: its change log
        (:mod:`graph.changes`), written before the graph is touched."""
        def log(writes: Writes) -> None:
            changes.write_log(self.settings.changes_dir, writer.touched_keys(writes), note=note)
        return log

    def _write_regions(self, codes: list[str]) -> None:
        from ingest.build import region_rows

        w = Writes()
        rows = region_rows(codes)
        for code, props in rows.items():
            w.node("Region", code, props)
            if props["parent"]:
                w.rel("PART_OF", ("Region", code), ("Region", props["parent"]),
                      {"src": "divisions"})
        written = writer.write(self.driver, w, "L:regions", self.batch, self.db,
                               known_regions=set(rows), memory=self.memory,
                               before_write=self._log_changes("regions"), shapes=self.shapes)
        if self.memory is None:
            writer.finalise_keys(self.driver, "L:regions", written, self.db, self.batch)
        self.regions = set(rows)

    def _context(self, source: str, table: str, delivery: str, file: str, load_id: str,
                 writes: Writes) -> BuildContext:
        return BuildContext(source=source, table=table, delivery=delivery, file=file,
                            run_id=self.run_id, load_id=load_id, city=self.settings.city,
                            hash_key=self.key, driver=self.driver, database=self.db,
                            writes=writes, memory=self.memory)

    def _reader(self, deliveries: list[tuple[str, str, Path]]) -> Executor:
        """Where the next delivery is read while the current one is written: a worker
        PROCESS when the new input is large (reading, normalising and validating are pure
        Python/pandas and would share one core with resolving and writing under the GIL),
        else a thread (starting a process costs seconds: not worth it for an increment).
        New input = files whose (delivery, source, name) the ledger does not list as done."""
        known = {(r.get("delivery"), r.get("source"), r.get("name"))
                 for sha, r in self.loaded.items() if self._already(sha)}
        new_bytes = sum(p.stat().st_size for date, source, folder in deliveries
                        for p in folder.iterdir()
                        if p.is_file() and (date, source, p.name) not in known)
        self.report.reader = ("process" if deliveries and
                              new_bytes >= self.settings.read_process_mb * 2**20 else "thread")
        if self.report.reader == "process":
            return start_reader_process()
        warm_up()  # GX imported in the background while the first file is read
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-read")

    def _job(self, date: str, source: str, folder: Path) -> ReadJob:
        done = frozenset(sha for sha in self.loaded if self._already(sha))
        return ReadJob(date, source, folder, done, dict(self.settings.fx_rates),
                       self.settings.city, self.key)

    def _already(self, sha: str) -> dict[str, Any] | None:
        previous = self.loaded.get(sha)
        if previous is not None and previous.get("status") in ("done", "rejected"):
            return previous
        return None

    def _delivery(self, date: str, source: str, folder: Path, reads: list[_Read]) -> None:
        files: list[_File] = []
        blocked_tables: set[str] = set()
        entry: dict[str, Any] = {"delivery": date, "source": source, "status": "loaded",
                                 "message": ""}
        self.report.deliveries.append(entry)
        skipped: list[_Read] = []
        for item in reads:
            fr = item.file.report
            self.report.files.append(fr)
            previous = self._already(fr.sha256) if fr.sha256 else None
            if previous is not None:
                fr.status = "skipped"
                fr.message = (f"already {'loaded' if previous['status'] == 'done' else 'rejected'}"
                              f" as {previous.get('name')} ({previous.get('delivery')})")
                skipped.append(item)
                continue
            if self._take(item, date, source, folder, blocked_tables, mark=True):
                files.append(item.file)
        # A full table may come in several files. A file of it already loaded from an earlier
        # delivery (the same bytes) is loaded again when another file of that table loads in
        # this one: what it holds belongs to this snapshot and must not be ended by it.
        full = {t.spec_name for f in files if f.kind == "full" for t in f.tables}
        for item in skipped:
            fr = item.file.report
            previous = self.loaded[fr.sha256]
            tables = set(json.loads(previous.get("counts") or "{}"))
            if (previous.get("status") != "done" or previous.get("kind") != "full"
                    or (previous.get("delivery"), previous.get("source")) == (date, source)
                    or not tables & full):
                continue
            note = (f"loaded again (the same bytes as {previous.get('name')} of "
                    f"{previous.get('delivery')}): part of the full snapshot of "
                    f"{', '.join(sorted(tables & full))} in this delivery")
            fr.status, fr.message = "pending", ""
            if self._take(item, date, source, folder, blocked_tables, mark=False):
                fr.message = note
                files.append(item.file)
        for f in files:
            names = {t.spec_name for t in f.tables}
            if names & blocked_tables:
                f.report.status = "blocked"
                f.report.message = ("table(s) " + ", ".join(sorted(names & blocked_tables))
                                    + " blocked in this delivery by a rejected file")
        files = [f for f in files if f.report.status != "blocked"]
        shrink = self._shrinking(files, source)
        if shrink and not self.force:
            entry["status"], entry["message"] = "blocked", shrink + " — rerun with --force"
            for f in files:
                f.report.status, f.report.message = "blocked", entry["message"]
            return
        if shrink:
            entry["message"] = shrink + " (forced)"
        files.sort(key=lambda f: f.order)
        last = {t.spec_name: f for f in files if f.kind == "full" for t in f.tables}
        for table, f in last.items():
            f.end_tables.append(table)
        for f in files:
            self._quarantine(f)
            self._load(f, date, source)

    def _take(self, item: _Read, date: str, source: str, folder: Path,
              blocked_tables: set[str], mark: bool) -> bool:
        """True when the file of ``item`` is read (read now if the worker did not); else it
        is rejected with its message, its tables blocked in the delivery and, with ``mark``,
        recorded as rejected in the ledger."""
        f, fr, path = item.file, item.file.report, item.file.path
        try:
            if item.error is not None:
                raise item.error
            if not f.read:  # state changed since the worker looked: read it now
                read_file(f, self._job(date, source, folder))
                f.read = True
        except (DataError, Exception) as exc:  # noqa: BLE001 — bad input never crashes
            if isinstance(exc, DataError):
                fr.message = exc.message + (f" — {exc.hint}" if exc.hint else "")
            else:
                fr.message = f"file could not be read ({exc.__class__.__name__}: {exc})"
            fr.status = "rejected"
            blocked_tables.update(t.spec_name for t in f.tables)
            if f.kind:
                blocked_tables.update(_tables_named(path.name, source))
            if mark:
                self._mark(fr.sha256, {"status": "rejected", "name": path.name, "kind": f.kind,
                                       "source": source, "delivery": date,
                                       "message": fr.message, "run_id": self.run_id},
                           {"source": source, "delivery": date, "name": path.name})
            return False
        fr.timings["read_validate"] = round(item.seconds, 3)
        return True

    def _shrinking(self, files: list[_File], source: str) -> str:
        """The count assertion: a full table of this delivery (its rows summed over the files
        holding it) ≥ 50 % smaller than the previous full delivery's."""
        rows: dict[str, int] = {}
        for f in files:
            if f.kind == "full":
                for t in f.tables:
                    rows[t.spec_name] = rows.get(t.spec_name, 0) + t.report.rows_loaded
        for table, loaded in rows.items():
            before = self._previous_full(source, table)
            if before and loaded < before * SHRINK_LIMIT:
                return (f"count assertion: full {source}/{table} has {loaded} rows, "
                        f"previous full had {before} (≥{int(SHRINK_LIMIT * 100)} % smaller)")
        return ""

    def _quarantine(self, f: _File) -> None:
        fr = f.report
        for t in f.tables:
            append_quarantine(self.qdir / f"{fr.delivery}_{fr.source}_{t.spec_name}.csv",
                              t.quarantine)

    def _load(self, f: _File, date: str, source: str) -> None:
        fr = f.report
        load_id = "L:" + fr.sha256[:20]
        base = {"source": source, "delivery": date, "name": fr.file}
        t = time.perf_counter()
        writes = Writes()
        counts: dict[str, int] = {}
        for table in sorted(f.tables, key=lambda x: table_spec(source, x.spec_name).order):
            spec = table_spec(source, table.spec_name)
            ctx = self._context(source, table.spec_name, date, fr.file, load_id, Writes())
            ctx.rec_keys = table.rec_keys
            if spec.build is not None and not table.valid.empty:
                spec.build(table.valid, ctx)
            writes.merge(ctx.writes)
            counts[table.spec_name] = table.report.rows_loaded
        fr.timings["resolve"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        if self.regions is None:  # served regions once per run, only when something loads
            self._write_regions(served_regions(self.settings.city))
        assert self.regions is not None
        self._mark(fr.sha256, {"status": "loading", "load_id": load_id, "kind": f.kind,
                               "run_id": self.run_id, **base}, base)
        bar = None
        total = writes.count()
        if self.progress and total > 20000:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=fr.file[:40], unit="rows", leave=False)
        written = writer.write(self.driver, writes, load_id, self.batch, self.db,
                               progress=bar.update if bar else None,
                               known_regions=self.regions, file=fr.file, memory=self.memory,
                               before_write=self._log_changes(fr.file), shapes=self.shapes)
        self.regions.update(k for (label, _m), rows in writes.nodes.items()
                            if label == "Region" for k in rows)
        fr.written = written.counts
        fr.party_links = written.party_links
        fr.unresolved = [{"delivery": date, "source": source, **u} for u in written.unresolved]
        fr.unresolved_count = written.unresolved_count
        if bar is not None:
            bar.close()
        fr.timings["write"] = round(time.perf_counter() - t, 3)
        labels = sorted({label for (label, _m) in writes.nodes})
        types = sorted({k[0] for k in writes.rels})
        rec_labels = sorted({label for (label, mode) in writes.nodes if mode == "record"})
        rec_types = sorted({k[0] for k, rows in writes.rels.items()
                            if any("rec" in p for p in rows.values())})
        props = {"status": "committed", "load_id": load_id, "kind": f.kind,
                 "counts": json.dumps(counts, ensure_ascii=False), "labels": labels,
                 "types": types, "rec_labels": rec_labels, "rec_types": rec_types,
                 "kept": json.dumps({t.spec_name: t.kept for t in f.tables if t.kept},
                                    ensure_ascii=False),
                 "end_tables": sorted(f.end_tables),
                 "sha256": fr.sha256, "run_id": self.run_id,
                 "loaded_at": datetime.now().isoformat(timespec="seconds"), **base}
        t = time.perf_counter()
        self._mark(fr.sha256, props, base)  # the commit point: one transaction
        self._complete({**props, "file_id": fr.sha256}, written)
        fr.timings["finalise"] = round(time.perf_counter() - t, 3)
        fr.status = "loaded"
        for table in f.tables:
            table.report.status = "loaded"


def _tables_named(name: str, source: str) -> set[str]:
    return {t for t in table_names(source) if t in name}


def _iso(delivery: str) -> str:
    return f"{delivery[:4]}-{delivery[4:6]}-{delivery[6:8]}" if len(delivery) == 8 else delivery


def ingest_inbox(driver: Driver, settings: Settings, inbox: Path, force: bool = False,
                 run_id: str | None = None, progress: bool = False,
                 corrupt_bulk: bool = False) -> IngestReport:
    """Load every delivery of ``inbox`` not yet loaded; returns the run report (also written
    to ``RISKGRAPH_HOME/runs/<run_id>/report.json``). Never raises for bad input: rejected
    files and blocked deliveries are in the report (``report.ok`` is False).

    Into an empty local graph the first delivery date is bulk-imported (:mod:`ingest.bulk`;
    ``report.path``); a failed import raises :class:`DatabaseError` with the database left
    empty. ``corrupt_bulk`` (tests only) breaks the import's CSV."""
    return Ingest(driver, settings, Path(inbox), force, run_id, progress, corrupt_bulk).run()


def summary(report: IngestReport) -> str:
    lines = [f"ingest {report.run_id}: {len(report.files)} file(s), {report.rows_read} rows "
             f"read, {report.rows_loaded} loaded, {report.quarantined} quarantined, "
             f"{sum(f.duplicates for f in report.files)} duplicate(s) in {report.seconds:.1f}s"]
    for f in report.files:
        if f.status in ("rejected", "blocked"):
            lines.append(f"  {f.status.upper()}: {f.delivery}/{f.source}/{f.file}: {f.message}")
    for d in report.blocked_deliveries:
        lines.append(f"  BLOCKED delivery {d['delivery']}/{d['source']}: {d['message']}")
    notes = [(f, n) for f in report.files for n in f.notes]
    for f, n in notes[:NOTES_SHOWN]:
        lines.append(f"  NOTE {f.delivery}/{f.source}/{f.file}: {n}")
    if len(notes) > NOTES_SHOWN:
        lines.append(f"  … and {len(notes) - NOTES_SHOWN} more note(s) in the report")
    if report.quarantined:
        lines.append(f"  {report.quarantined} row(s) quarantined → {report.quarantine_dir}")
    kept = sum(t.kept_keys for f in report.files for t in f.tables)
    if kept:
        lines.append(f"  {kept} key(s) of rows quarantined from full snapshots keep their "
                     "records (not ended)")
    links = sum(f.party_links for f in report.files)
    if links:
        lines.append(f"  {links} reference(s) to enterprises not in the registration export "
                     "linked as Party")
    if report.unresolved:
        lines.append(f"  {report.unresolved} unresolved reference(s) (enterprise not in the "
                     "registration export) listed in the report")
    b = report.bulk
    lines.append(f"  writes: {report.path}" + (
        f" ({b.get('seconds', 0):.1f}s: CSV {b.get('csv_s', 0):.1f}s, import "
        f"{b.get('import_s', 0):.1f}s, schema {b.get('schema_s', 0):.1f}s)" if b else "")
                 + f"; files read in a {report.reader}")
    lines.append(f"  report: {report.report_path}")
    lines.append(f"  data quality: {report.html_path}")
    return "\n".join(lines)


def ensure_schema(driver: Driver, database: str | None = None) -> bool:
    """Apply the schema only when the database lacks a declared constraint/index or a
    migration (two reads instead of ~60 schema writes per run). True when applied."""
    from graph.schema import MIGRATIONS, apply_schema, schema_differences

    done = {r["version"] for r in access.read(driver, cypher.applied_migrations(),
                                              database=database)}
    if schema_differences(driver, database) or any(m.version not in done for m in MIGRATIONS):
        apply_schema(driver, database=database)
        return True
    return False


def run_ingest_command(settings: Settings, inbox: Path, force: bool) -> int:
    """CLI entry: connect, apply the schema, ingest, print a summary.

    Returns 0 when everything loaded; 1 ("done, but") when a file or delivery was rejected or
    blocked, or when rows failed a data contract and were quarantined (the message gives how
    many and the quarantine folder; the valid rows are loaded all the same).
    """
    from data_contracts import warm_up
    from graph.connection import connect
    from riskgraph.runs import RefreshLock, checked_exit_code, lock_path

    warm_up()  # overlaps connecting and checking the schema
    # never beside a refresh, a scoring run or a restore of this installation (exit 3 when
    # one holds the lock: nothing was done)
    with RefreshLock(lock_path(settings)).acquire(run_id="ingest"):
        driver = connect(settings)
        try:
            ensure_schema(driver, settings.neo4j_database)
            report = ingest_inbox(driver, settings, inbox, force=force, progress=True)
        finally:
            driver.close()
    print(summary(report))
    return checked_exit_code(f"ingest {report.run_id}", rejected=not report.ok,
                             quarantined=report.quarantined,
                             quarantine_dir=report.quarantine_dir, report=report.report_path)
