"""Refresh run bookkeeping: run ids, the refresh lock, and run records (graph + JSON).

A refresh is recorded twice:

* on its ``Run`` node (key ``run_id``, ``kind = "refresh"``) as flat properties the dashboard
  reads (:data:`RUN_FIELDS`); nested facts (``recomputed``, per-delivery details) travel as JSON
  strings because Neo4j properties cannot hold maps;
* as ``RISKGRAPH_HOME/runs/<run_id>/report.json`` (the run report of
  ``shared/spec/interfaces.md``: the same facts, nested) and, with the same content,
  ``refresh.json`` beside it (the name tools and notes of earlier versions read); both are
  rewritten atomically at every stage so an operator can see how far a crashed run got.

The refresh's own ``Run`` node is separate from the runs of its stages: ingest runs as
``<run_id>-ingest`` and scoring as ``<run_id>-score`` (the scoring run is the one that carries
``live``; this module never sets ``live``). The refresh node names them in ``ingest_run`` and
``score_run``; its ``status`` mirrors ``outcome``.

The lock (:class:`RefreshLock`) is an ``fcntl.flock`` on ``RISKGRAPH_HOME/refresh.lock``; the
kernel releases it when the holder dies (even on SIGKILL), so a crashed refresh never blocks the
next one. Refresh runs that were still ``running`` when their process died are closed as
``failed`` ("interrupted") by the next refresh (:func:`close_interrupted`).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from neo4j import Driver

from graph import access, cypher
from riskgraph.errors import RiskgraphError
from riskgraph.paths import write_json_atomic
from riskgraph.settings import Settings

KIND = "refresh"
LEVELS = ("red", "orange", "yellow", "blue", "none")
OUTCOMES = ("running", "ok", "partial", "failed")


class RefreshBusyError(RiskgraphError):
    """Another refresh holds the lock (exit 3: stopped, nothing was done)."""

    exit_code = 3


def now_iso() -> str:
    """UTC time with offset, to the second, as the scoring runs store theirs (so ``started``
    of all runs sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    """A sortable, file-name-safe run id: ``refresh-YYYYMMDDTHHMMSS-<6 hex>`` (UTC)."""
    return f"refresh-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def run_dir(settings: Settings, run_id: str) -> Path:
    return settings.runs_dir / run_id


def record_path(settings: Settings, run_id: str) -> Path:
    """``RISKGRAPH_HOME/runs/<run_id>/refresh.json`` (same content as :func:`report_path`)."""
    return run_dir(settings, run_id) / "refresh.json"


def report_path(settings: Settings, run_id: str) -> Path:
    """``RISKGRAPH_HOME/runs/<run_id>/report.json``: the run report of the refresh."""
    return run_dir(settings, run_id) / "report.json"


def _write_record(settings: Settings, run_id: str, data: dict[str, Any]) -> Path:
    """Write ``data`` (atomically) as the run's ``report.json`` and ``refresh.json``."""
    write_json_atomic(report_path(settings, run_id), data)
    write_json_atomic(record_path(settings, run_id), data)
    return report_path(settings, run_id)


def lock_path(settings: Settings) -> Path:
    return settings.home / "refresh.lock"


# --- the lock ---------------------------------------------------------------------------------


class RefreshLock:
    """Exclusive, process-wide lock on ``RISKGRAPH_HOME/refresh.lock`` (``fcntl.flock``).

    ``acquire(wait=False)`` raises :class:`RefreshBusyError` when another process holds it;
    ``acquire(wait=True)`` blocks until it is free (or ``timeout`` seconds pass). The holder's
    pid and run id are written into the file for the message the loser prints.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self, wait: bool = False, timeout: float | None = None,
                run_id: str = "") -> RefreshLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    holder = self.holder()
                    fh.close()
                    mine = run_id.split("-")[0] if run_id and not run_id.startswith(
                        "refresh-") else "refresh"
                    # "another refresh is running" is what operators grep for: kept whoever
                    # holds the lock (the holder says which job it is)
                    raise RefreshBusyError(
                        f"another refresh is running ({holder or 'holder unknown'}); "
                        f"lock {self.path} is held, this {mine} did nothing",
                        "wait for it to finish, or run `riskgraph refresh --wait`"
                        if mine == "refresh" else "wait for it to finish, then run this again",
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} run {run_id} since {now_iso()}\n")
        fh.flush()
        self._fh = fh
        return self

    def holder(self) -> str:
        """What the current holder wrote into the lock file (may be empty)."""
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RefreshLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- the record -------------------------------------------------------------------------------


@dataclass
class RefreshRecord:
    """Everything one refresh reports; JSON-serialisable via :meth:`to_json`."""

    run_id: str
    inbox: str
    started: str = field(default_factory=now_iso)
    ended: str | None = None
    kind: str = KIND
    outcome: str = "running"
    stage: str = "start"
    error: str | None = None
    previous_live_run: str | None = None
    live_run: str | None = None
    ingest_run: str | None = None
    deliveries_total: int | None = None
    score_run: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    deliveries_loaded: list[str] = field(default_factory=list)
    deliveries_rejected: list[str] = field(default_factory=list)
    rows_quarantined: int = 0
    quarantine_dir: str | None = None
    rows_rejected: int = 0
    model_version: str | None = None
    levels: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    recomputed: dict[str, Any] = field(default_factory=dict)
    notice: str | None = None
    pid: int = field(default_factory=os.getpid)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def graph_props(self) -> dict[str, Any]:
        """Flat properties for the ``Run`` node (lists of strings and scalars only)."""
        props: dict[str, Any] = {
            "kind": self.kind,
            "started": self.started,
            "ended": self.ended,
            "outcome": self.outcome,
            "status": self.outcome,
            "ingest_run": self.ingest_run,
            "score_run": self.score_run,
            "live_run": self.live_run,
            "deliveries_total": self.deliveries_total,
            "stage": self.stage,
            "error": self.error,
            "inbox": self.inbox,
            "previous_live_run": self.previous_live_run,
            "deliveries_loaded": list(self.deliveries_loaded),
            "deliveries_rejected": list(self.deliveries_rejected),
            "rows_quarantined": self.rows_quarantined,
            "quarantine_dir": self.quarantine_dir,
            "rows_rejected": self.rows_rejected,
            "refresh_model_version": self.model_version,
            "alerts_raised": sum(self.alerts.values()),
            "recomputed": json.dumps(self.recomputed, ensure_ascii=False, sort_keys=True),
            "alerts_by_kind": json.dumps(self.alerts, ensure_ascii=False, sort_keys=True),
            "record_file": f"runs/{self.run_id}/refresh.json",
        }
        for stage in ("ingest", "score", "alerts", "total"):
            props[f"seconds_{stage}"] = self.timings.get(stage)
        for level in LEVELS:
            props[f"level_{level}"] = self.levels.get(level)
        return props


def write_json(settings: Settings, record: RefreshRecord) -> Path:
    """Write (atomically) ``RISKGRAPH_HOME/runs/<run_id>/report.json`` and ``refresh.json``;
    returns the report's path."""
    return _write_record(settings, record.run_id, record.to_json())


def save(driver: Driver | None, settings: Settings, record: RefreshRecord) -> None:
    """Write the JSON copy, then the ``Run`` node (when a driver is at hand).

    The JSON copy is written first so a run whose database is unreachable is still recorded.
    """
    write_json(settings, record)
    if driver is None:
        return
    access.write(driver, cypher.refresh_run_upsert(),
                 {"run_id": record.run_id, "props": record.graph_props()},
                 database=settings.neo4j_database)


def quarantine_notice(label: str, rows: int, quarantine_dir: str | Path | None,
                      report: str | Path | None = None) -> str:
    """The line that says a completed run quarantined rows, and where they are."""
    where = f": {quarantine_dir}" if quarantine_dir else ""
    see = f" (report: {report})" if report else ""
    return (f"{label} done, but {rows} row(s) failed a data contract check and were "
            f"quarantined{where}{see}")


def checked_exit_code(label: str, *, rejected: bool, quarantined: int,
                      quarantine_dir: str | Path | None, report: str | Path | None) -> int:
    """Exit code of an ingest or refresh that ran to its end (``shared/spec/interfaces.md``):
    1 ("done, but something was rejected or failed a check") when a file or delivery was
    rejected or rows failed a data contract and were quarantined, else 0. Quarantined rows
    are said on stderr (:func:`quarantine_notice`); rejections are in the run's summary."""
    if quarantined:
        print(quarantine_notice(label, quarantined, quarantine_dir, report), file=sys.stderr)
    return 1 if rejected or quarantined else 0


def close_interrupted(driver: Driver, settings: Settings) -> list[str]:
    """Close refresh runs left ``running`` by a dead process; returns their run ids.

    Call only while holding the lock (then no other refresh can be running).
    """
    rows = access.read(driver, cypher.refresh_runs_running(), {"kind": KIND},
                       database=settings.neo4j_database)
    closed = []
    for row in rows:
        run_id = row["run_id"]
        error = (f"interrupted: the process died during stage {row.get('stage') or '?'}; "
                 "the previous scores stayed live")
        access.write(driver, cypher.refresh_run_close_interrupted(),
                     {"run_id": run_id, "error": error, "ended": now_iso()},
                     database=settings.neo4j_database)
        path = record_path(settings, run_id)
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                data.update(outcome="failed", error=error, ended=data.get("ended") or now_iso())
                _write_record(settings, run_id, data)
            except (OSError, ValueError):
                pass
        closed.append(run_id)
    return closed


def live_run(driver: Driver, settings: Settings) -> dict[str, Any] | None:
    """The live scoring run (``run_id``, ``model_version``), or None before the first score."""
    rows = access.read(driver, cypher.live_run(), database=settings.neo4j_database)
    return rows[0] if rows else None


def recent_runs(driver: Driver, settings: Settings, limit: int = 50) -> list[dict[str, Any]]:
    """The latest refresh runs, newest first, as the flat ``Run`` properties (for the app)."""
    rows = access.read(driver, cypher.refresh_runs_recent(), {"kind": KIND, "limit": limit},
                       database=settings.neo4j_database)
    return [row["run"] for row in rows]
