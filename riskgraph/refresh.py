"""``riskgraph refresh``: ingest new deliveries, rescore, alert, record the run.

One refresh, under the refresh lock (:class:`riskgraph.runs.RefreshLock`):

1. close refresh runs a dead process left ``running`` (they failed; their scores never went
   live);
2. **ingest** every delivery of the inbox not yet loaded, in date order
   (``ingest.pipeline.ingest_inbox``, run id ``<run_id>-ingest``); a rejected delivery stops
   the refresh here: exit 1, outcome ``failed``, previous scores stay live;
3. **score** the graph (``analytics.pipeline.score_graph``, run id ``<run_id>-score``). The
   scoring engine writes its ScoreRecords under its own run id and switches ``Run.live`` in
   one final transaction, so until then readers keep reading the previous live run; the
   refresh then checks that its scoring run really is the live one;
4. **alerts** against the previously live run (:mod:`riskgraph.alerts`);
4b. **ledger**: the live run's entities at or above ``LEDGER_LEVEL`` enter their counties'
   risk ledgers (``workflow.ledger.sync_ledger``, edits kept) and overdue entries are marked
   (``mark_overdue``); counts in ``recomputed["ledger"]``. Also after a skipped rescore, so the
   daily run marks overdue entries. A failure here leaves the scores live: ``partial``;
5. the record: ``Run`` node ``kind = "refresh"`` and the run report
   ``runs/<run_id>/report.json`` (also as ``refresh.json``, :mod:`riskgraph.runs`), rewritten
   at every stage. The ingest and scoring stages write their own reports under their run ids
   (``runs/<run_id>-ingest/report.json``, ``runs/<run_id>-score/report.json``), named in the
   record's ``ingest_run`` and ``score_run``.

A failure anywhere records ``outcome = failed`` (or ``partial`` when the scores went live but
the alerts failed) with the error, writes the operator notice ``alerts/FAILED-<run_id>.txt``
and runs the alert hook. Exit codes: 0 ok; 1 rejected delivery / partial, or an ``ok`` run
whose ingest quarantined rows that failed a data contract (done, but: the scores went live,
no notice; the message gives the count and the quarantine folder); 3 stopped by a failure or
another refresh holding the lock.

Scoring is skipped (``recomputed.scope = "none"``) when nothing was loaded, the live scores
come from the last successful refresh and no delivery was added since: the common case of a
scheduled refresh with an empty inbox costs seconds.

Test hook: ``RISKGRAPH_TEST_BULK_CORRUPT=1`` breaks the CSV of a bulk first load (the
import must fail and leave the database empty).
Test hook: ``RISKGRAPH_TEST_PAUSE_AFTER=ingest|score-write|score`` sleeps
``RISKGRAPH_TEST_PAUSE_SECONDS`` (default 60) after the ingest stage, inside the scoring stage
after the new ScoreRecords are written but before the live switch, or after scoring, so tests can
kill the process at a known point.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph import access, cypher
from riskgraph import alerts as alerts_mod
from riskgraph import runs
from riskgraph.errors import DataError, RejectedError, RiskgraphError, UsageError
from riskgraph.paths import existing_folder
from riskgraph.runs import RefreshRecord
from riskgraph.schedule import run_schedule_command
from riskgraph.settings import Settings

__all__ = ["refresh", "run_refresh_command", "run_schedule_command", "resolve_inbox"]

PAUSE_POINTS = ("ingest", "score-write", "score")


class RefreshFailed(RiskgraphError):
    """A refresh ran and failed; the record and notice are written. Carries the record."""

    def __init__(self, message: str, record: RefreshRecord, exit_code: int,
                 cause_hint: str | None = None) -> None:
        super().__init__(message, (f"{cause_hint}; " if cause_hint else "")
                         + f"see {record.notice or 'the run record'}; the previous "
                         "scores stay live")
        self.record = record
        self.exit_code = exit_code


def resolve_inbox(settings: Settings, inbox: Path | None) -> Path:
    """``inbox`` or ``RISKGRAPH_INBOX``; a UsageError (exit 2) when neither names a folder."""
    chosen = inbox if inbox is not None else settings.inbox
    if chosen is None:
        raise UsageError("no inbox: pass --inbox DIR or set RISKGRAPH_INBOX",
                         "the inbox holds <YYYYMMDD>/<source>/ delivery folders")
    return existing_folder(chosen, "inbox",
                           "pass --inbox DIR or set RISKGRAPH_INBOX to an existing folder")


def _pause(point: str, pause_after: str | None, seconds: float, run_id: str) -> None:
    if pause_after == point:
        print(f"refresh {run_id}: test pause after {point} ({seconds:.0f}s)",
              file=sys.stderr, flush=True)
        time.sleep(seconds)


class _PauseBeforeSwitch:
    """Test hook (``RISKGRAPH_TEST_PAUSE_AFTER=score-write``): a driver wrapper that pauses
    right before the scoring engine's live switch, i.e. after its ScoreRecords are written.
    Everything else is delegated to the real driver unchanged."""

    def __init__(self, driver: Driver, seconds: float, run_id: str) -> None:
        self._driver, self._seconds, self._run_id = driver, seconds, run_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)

    def session(self, **kwargs: Any) -> Any:
        outer = self

        class _Session:
            def __init__(self, inner: Any) -> None:
                self._inner = inner

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

            def __enter__(self) -> Any:
                self._inner.__enter__()
                return self

            def __exit__(self, *exc: Any) -> Any:
                return self._inner.__exit__(*exc)

            def execute_write(self, fn: Any, *args: Any, **kw: Any) -> Any:
                if args and args[0] == cypher.analytics_switch_live():
                    _pause("score-write", "score-write", outer._seconds, outer._run_id)
                return self._inner.execute_write(fn, *args, **kw)

        return _Session(self._driver.session(**kwargs))


@contextmanager
def _stage(driver: Driver | None, settings: Settings, record: RefreshRecord,
           name: str) -> Iterator[None]:
    """Time one stage into ``record.timings[name]``; the record is saved on entry and after
    the stage completes (so a run killed later still shows what this stage did)."""
    record.stage = name
    runs.save(driver, settings, record)
    start = time.perf_counter()
    try:
        yield
    finally:
        record.timings[name] = round(time.perf_counter() - start, 3)
    runs.save(driver, settings, record)


def _attr(obj: Any, *names: str, default: Any = None) -> Any:
    """First attribute of ``obj`` found among ``names`` (reports of other stages)."""
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _ingest(driver: Driver, settings: Settings, inbox: Path, record: RefreshRecord,
            corrupt_bulk: bool = False) -> None:
    """Stage 1: load new deliveries; raise RejectedError when a file or delivery was rejected.

    A delivery (``<date>/<source>``) counts as loaded when at least one of its files loaded.
    """
    from ingest.pipeline import ingest_inbox

    record.ingest_run = f"{record.run_id}-ingest"
    report = ingest_inbox(driver, settings, inbox, force=False, run_id=record.ingest_run,
                          corrupt_bulk=corrupt_bulk)
    files = list(report.files)
    record.deliveries_loaded = sorted({f"{f.delivery}/{f.source}" for f in files
                                       if f.status == "loaded"})
    rejected = [f"{f.delivery}/{f.source}/{f.file} ({f.status}: {f.message})"
                for f in files if f.status in ("rejected", "blocked")]
    rejected += [f"{d['delivery']}/{d['source']} (blocked: {d.get('message', '')})"
                 for d in report.blocked_deliveries]
    record.deliveries_rejected = rejected
    record.rows_quarantined = int(report.quarantined)
    record.quarantine_dir = report.quarantine_dir or None
    record.rows_rejected = sum(f.rows_read for f in files if f.status in ("rejected", "blocked"))
    record.recomputed = {"ingest_report": report.report_path, "ingest_path": report.path,
                         "ingest_reader": report.reader}
    if report.bulk:
        record.recomputed["bulk"] = report.bulk
    if not report.ok:
        raise RejectedError(
            f"{len(rejected)} file(s) or deliveries rejected: {'; '.join(rejected)[:600]}",
            f"see {report.report_path} and the quarantine files; fix or re-deliver, then "
            "refresh again")


def _reconnect(driver: Driver, settings: Settings) -> None:
    try:
        access.read(driver, cypher.ping(), database=settings.neo4j_database)
    except Exception:  # noqa: BLE001 - the failure itself is what gets recorded
        pass


def _needs_scoring(driver: Driver, settings: Settings, record: RefreshRecord,
                   live: Mapping[str, Any] | None, deliveries_total: int) -> str | None:
    """Why scoring is needed (a reason string), or None when the live scores are current."""
    if record.deliveries_loaded:
        return f"{len(record.deliveries_loaded)} new deliveries"
    if live is None:
        return "no live scores yet"
    last_ok = next((r for r in runs.recent_runs(driver, settings, limit=20)
                    if r.get("outcome") == "ok" and r.get("run_id") != record.run_id), None)
    if last_ok is None or last_ok.get("live_run") != live.get("run_id"):
        return "the live scores do not come from the last successful refresh"
    if last_ok.get("deliveries_total") != deliveries_total:
        return "deliveries were loaded outside refresh since the last one"
    return None


def _level_counts(driver: Driver, settings: Settings, run_id: str | None) -> dict[str, int]:
    """Enterprises per level in the ScoreRecords of ``run_id``."""
    if not run_id:
        return {}
    rows = access.read(driver, cypher.score_level_counts(), {"run_id": run_id},
                       database=settings.neo4j_database)
    return {str(r["level"]): int(r["n"]) for r in rows}


def _score(driver: Driver, settings: Settings, record: RefreshRecord, reason: str) -> None:
    """Stage 2: full rescore; verify the scoring run went live."""
    from analytics.pipeline import score_graph

    record.score_run = f"{record.run_id}-score"
    summary = score_graph(driver, settings, run_id=record.score_run)
    live = runs.live_run(driver, settings)
    if live is None or live.get("run_id") != record.score_run:
        raise RuntimeError(f"scoring run {record.score_run} finished but is not the live run "
                           f"(live: {live and live.get('run_id')})")
    record.live_run = record.score_run
    record.model_version = str(live.get("model_version") or _attr(summary, "model_version")
                               or "") or None
    # the levels of the records the run computed are those of its live records (a record
    # kept from an earlier run says the same, level included): no scan of every record
    levels = _attr(summary, "levels", default=None)
    record.levels = ({str(k): int(v) for k, v in levels.items()} if isinstance(levels, dict)
                     else _level_counts(driver, settings, record.score_run))
    record.recomputed = {
        **record.recomputed,
        "scope": str(_attr(summary, "scope", default="full")),
        "reason": reason,
        "enterprises_scored": sum(record.levels.values()),
        "deliveries": list(record.deliveries_loaded),
        "groups": _attr(summary, "groups", "n_groups", default=None),
        "records": _attr(summary, "records", default={}),
        "grouping": _attr(summary, "grouping", default={}),
        "indicators": _attr(summary, "indicators", default={}),
        "score_seconds": _attr(summary, "seconds", default={}),
        "projection": _attr(summary, "projection", default={}),
    }


def _sync_ledger(driver: Driver, settings: Settings, run_id: str) -> dict[str, int]:
    """Stage 4: put the live run's entities at or above ``Settings.ledger_level`` into their
    counties' ledgers (idempotent; user edits are kept) and mark overdue entries."""
    from workflow.ledger import mark_overdue, sync_ledger

    synced = sync_ledger(driver, settings, run_id, database=settings.neo4j_database)
    overdue = mark_overdue(driver, database=settings.neo4j_database)
    return {"created": synced.created, "refreshed": synced.refreshed,
            "skipped": synced.skipped, "overdue_changed": overdue}


def refresh(settings: Settings, inbox: Path | None, *, wait: bool = False,
            env: Mapping[str, str] | None = None) -> RefreshRecord:
    """Run one refresh (see the module doc). Returns the record of a successful run.

    Raises :class:`UsageError` for a missing inbox or bad settings,
    :class:`runs.RefreshBusyError` when another refresh holds the lock (without ``wait``), and
    :class:`RefreshFailed` for a run that started and failed (record and notice written).
    """
    env = os.environ if env is None else env
    folder = resolve_inbox(settings, inbox)
    jump = alerts_mod.alert_jump(settings)
    timeout = alerts_mod.hook_timeout(settings)
    pause_after = env.get("RISKGRAPH_TEST_PAUSE_AFTER") or None
    pause_seconds = float(env.get("RISKGRAPH_TEST_PAUSE_SECONDS") or 60)
    corrupt_bulk = (env.get("RISKGRAPH_TEST_BULK_CORRUPT") or "") not in ("", "0")
    run_id = runs.new_run_id()
    with runs.RefreshLock(runs.lock_path(settings)).acquire(wait=wait, run_id=run_id):
        record = RefreshRecord(run_id=run_id, inbox=str(folder))
        return _locked_refresh(settings, folder, record, jump, timeout, pause_after,
                               pause_seconds, corrupt_bulk)


def _locked_refresh(settings: Settings, inbox: Path, record: RefreshRecord, jump: float,
                    hook_timeout: float, pause_after: str | None,
                    pause_seconds: float, corrupt_bulk: bool = False) -> RefreshRecord:
    from graph.connection import connect
    from graph.schema import apply_schema

    started = time.perf_counter()
    driver: Driver | None = None
    try:
        runs.write_json(settings, record)
        driver = connect(settings)
        apply_schema(driver, settings.neo4j_database)
        closed = runs.close_interrupted(driver, settings)
        if closed:
            print(f"closed interrupted refresh runs: {', '.join(closed)}", file=sys.stderr)
        live = runs.live_run(driver, settings)
        record.previous_live_run = live["run_id"] if live else None
        with _stage(driver, settings, record, "ingest"):
            try:
                _ingest(driver, settings, inbox, record, corrupt_bulk)
            except Exception:
                # a bulk first load restarts the server: drop connections to the old one
                _reconnect(driver, settings)
                raise
        _pause("ingest", pause_after, pause_seconds, record.run_id)
        total = access.read(driver, cypher.refresh_delivery_count(),
                            database=settings.neo4j_database)[0]["n"]
        record.deliveries_total = int(total)
        reason = _needs_scoring(driver, settings, record, live, total)
        if reason is None:
            record.live_run = record.previous_live_run
            record.model_version = live.get("model_version") if live else None
            record.levels = _level_counts(driver, settings, record.live_run)
            record.recomputed.update(scope="none", reason="no new delivery since the last "
                                     "successful refresh; the live scores are current")
        else:
            scorer: Any = driver
            if pause_after == "score-write":
                scorer = _PauseBeforeSwitch(driver, pause_seconds, record.run_id)
            with _stage(driver, settings, record, "score"):
                _score(scorer, settings, record, reason)
            _pause("score", pause_after, pause_seconds, record.run_id)
            try:
                with _stage(driver, settings, record, "alerts"):
                    raised = alerts_mod.raise_alerts(driver, settings, record.score_run or "",
                                                     record.previous_live_run, jump,
                                                     filed_as=record.run_id)
                record.alerts = {k: sum(a.kind == k for a in raised) for k in alerts_mod.KINDS}
            except Exception as exc:  # noqa: BLE001 - scores are live; report, do not undo
                record.outcome = "partial"
                record.error = f"alerts failed: {exc}"
        if record.live_run:  # the county ledgers follow the live scores (workflow.ledger)
            try:
                with _stage(driver, settings, record, "ledger"):
                    record.recomputed["ledger"] = _sync_ledger(driver, settings,
                                                               record.live_run)
            except Exception as exc:  # noqa: BLE001 - scores are live; report, do not undo
                record.outcome = "partial"
                record.error = "; ".join(filter(None, [record.error,
                                                       f"ledger sync failed: {exc}"]))
        record.stage = "done"
        if record.outcome == "running":
            record.outcome = "ok"
        record.ended = runs.now_iso()
        record.timings["total"] = round(time.perf_counter() - started, 3)
        runs.save(driver, settings, record)
        if record.outcome == "partial":
            _notify(settings, record, hook_timeout)
            raise RefreshFailed(f"refresh {record.run_id} partial: {record.error}", record, 1)
        return record
    except RefreshFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, then re-raised
        record.outcome = "partial" if _went_live(driver, settings, record) else "failed"
        record.error = _message(exc)
        record.ended = runs.now_iso()
        record.timings["total"] = round(time.perf_counter() - started, 3)
        if settings.debug:
            traceback.print_exc()
        try:
            runs.save(driver, settings, record)
        except Exception as save_exc:  # noqa: BLE001 - the JSON copy is already written
            print(f"warning: could not record the failure in the graph: {save_exc}",
                  file=sys.stderr)
            runs.write_json(settings, record)
        _notify(settings, record, hook_timeout)
        code = 1 if isinstance(exc, RejectedError | DataError) or record.outcome == "partial" \
            else 2 if isinstance(exc, UsageError) else 3  # e.g. another installation's key
        raise RefreshFailed(f"refresh {record.run_id} failed in stage {record.stage}: "
                            f"{record.error}", record, code,
                            exc.hint if isinstance(exc, RiskgraphError) else None) from exc
    finally:
        if driver is not None:
            driver.close()


def _went_live(driver: Driver | None, settings: Settings, record: RefreshRecord) -> bool:
    """After a failure: did this refresh's scoring run go live anyway (failure after the
    switch, e.g. in the scoring engine's housekeeping)?"""
    if driver is None or record.score_run is None:
        return False
    try:
        live = runs.live_run(driver, settings)
    except Exception:  # noqa: BLE001 - the database may be gone
        return False
    if live is not None and live.get("run_id") == record.score_run:
        record.live_run = record.score_run
        return True
    return False


def _message(exc: BaseException) -> str:
    if isinstance(exc, RiskgraphError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _notify(settings: Settings, record: RefreshRecord, timeout: float) -> None:
    details = {"stage": record.stage, "outcome": record.outcome, "inbox": record.inbox,
               "started": record.started, "ended": record.ended,
               "previous_live_run": record.previous_live_run,
               "deliveries_loaded": ", ".join(record.deliveries_loaded) or "-",
               "deliveries_rejected": ", ".join(record.deliveries_rejected) or "-",
               "record": str(runs.record_path(settings, record.run_id)),
               "report": str(runs.report_path(settings, record.run_id))}
    path, hook = alerts_mod.failure_notice(settings, record.run_id, record.error or "?",
                                           details, timeout)
    record.notice = str(path)
    if hook:
        print(f"alert hook: {hook}", file=sys.stderr)
    runs.write_json(settings, record)


def _summary(record: RefreshRecord) -> str:
    levels = " ".join(f"{k}={v}" for k, v in sorted(record.levels.items()))
    t = record.timings
    path = f" ({record.recomputed['ingest_path']})" if record.recomputed.get("ingest_path") \
        else ""
    return (f"refresh {record.run_id} {record.outcome}: loaded "
            f"{len(record.deliveries_loaded)} deliveries, quarantined {record.rows_quarantined} "
            f"rows; recomputed {record.recomputed.get('scope', '?')}; levels {levels or '-'}; "
            f"alerts {sum(record.alerts.values())}; ingest {t.get('ingest', 0):.1f}s{path} score "
            f"{t.get('score', 0):.1f}s alerts {t.get('alerts', 0):.1f}s total "
            f"{t.get('total', 0):.1f}s")


def run_refresh_command(settings: Settings, inbox: Path | None, wait: bool = False) -> int:
    """CLI body of ``riskgraph refresh [--inbox DIR] [--wait]``; returns the exit code (0, or
    1 when the completed run quarantined rows).

    Usage errors and a busy lock are raised (the CLI prints them: exit 2 / 3). A failed run
    prints its summary and notice path, then re-raises :class:`RefreshFailed` (exit 1 for a
    rejected delivery or partial run, 3 for a failure). Raising rather than returning the code
    keeps the exit code right even where the CLI ignores a returned one.
    """
    if not settings.debug:  # the server's "unknown label" notes on a young graph are noise
        logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    try:
        record = refresh(settings, inbox, wait=wait)
    except RefreshFailed as exc:
        print(_summary(exc.record), file=sys.stderr)
        print(f"report: {runs.report_path(settings, exc.record.run_id)}", file=sys.stderr)
        if exc.record.notice:
            print(f"notice: {exc.record.notice}", file=sys.stderr)
        raise  # the CLI edge prints "error: …" and exits with exc.exit_code (1 or 3)
    print(_summary(record))
    print(f"record: {runs.record_path(settings, record.run_id)}")
    print(f"report: {runs.report_path(settings, record.run_id)}", flush=True)
    # the run is done (ok, scores live); quarantined rows still make it exit 1 ("done, but")
    return runs.checked_exit_code(f"refresh {record.run_id}", rejected=False,
                                  quarantined=record.rows_quarantined,
                                  quarantine_dir=record.quarantine_dir,
                                  report=runs.report_path(settings, record.run_id))
