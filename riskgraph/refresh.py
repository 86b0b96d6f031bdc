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
5. the record: ``Run`` node ``kind = "refresh"`` and ``runs/<run_id>/refresh.json``
   (:mod:`riskgraph.runs`), rewritten at every stage.

A failure anywhere records ``outcome = failed`` (or ``partial`` when the scores went live but
the alerts failed) with the error, writes the operator notice ``alerts/FAILED-<run_id>.txt``
and runs the alert hook. Exit codes: 0 ok, 1 rejected delivery / partial, 3 stopped by a
failure or another refresh holding the lock.

Scoring is skipped (``recomputed.scope = "none"``) when nothing was loaded, the live scores
come from the last successful refresh and no delivery was added since: the common case of a
scheduled refresh with an empty inbox costs seconds.

Test hook: ``RISKGRAPH_TEST_PAUSE_AFTER=ingest|score`` sleeps ``RISKGRAPH_TEST_PAUSE_SECONDS``
(default 60) after that stage, so tests can kill the process at a known point.
"""

from __future__ import annotations

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
from riskgraph.runs import RefreshRecord
from riskgraph.schedule import run_schedule_command
from riskgraph.settings import Settings

__all__ = ["refresh", "run_refresh_command", "run_schedule_command", "resolve_inbox"]

PAUSE_POINTS = ("ingest", "score")


class RefreshFailed(RiskgraphError):
    """A refresh ran and failed; the record and notice are written. Carries the record."""

    def __init__(self, message: str, record: RefreshRecord, exit_code: int) -> None:
        super().__init__(message, f"see {record.notice or 'the run record'}; the previous "
                         "scores stay live")
        self.record = record
        self.exit_code = exit_code


def resolve_inbox(settings: Settings, inbox: Path | None) -> Path:
    """``inbox`` or ``RISKGRAPH_INBOX``; a UsageError (exit 2) when neither names a folder."""
    chosen = inbox if inbox is not None else settings.inbox
    if chosen is None:
        raise UsageError("no inbox: pass --inbox DIR or set RISKGRAPH_INBOX",
                         "the inbox holds <YYYYMMDD>/<source>/ delivery folders")
    chosen = Path(chosen).absolute()
    if not chosen.is_dir():
        raise UsageError(f"inbox {chosen} is not a folder",
                         "pass --inbox DIR or set RISKGRAPH_INBOX to an existing folder")
    return chosen


def _pause(point: str, pause_after: str | None, seconds: float, record: RefreshRecord) -> None:
    if pause_after == point:
        print(f"refresh {record.run_id}: test pause after {point} ({seconds:.0f}s)",
              file=sys.stderr, flush=True)
        time.sleep(seconds)


@contextmanager
def _stage(driver: Driver | None, settings: Settings, record: RefreshRecord,
           name: str) -> Iterator[None]:
    """Time one stage into ``record.timings[name]``; the record is saved on entry."""
    record.stage = name
    runs.save(driver, settings, record)
    start = time.perf_counter()
    try:
        yield
    finally:
        record.timings[name] = round(time.perf_counter() - start, 3)


def _attr(obj: Any, *names: str, default: Any = None) -> Any:
    """First attribute (or mapping key) of ``obj`` found among ``names``."""
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _ids(value: Any) -> list[str]:
    """Delivery ids from whatever the ingest report holds (ids, objects, or a count)."""
    if value is None or isinstance(value, int | float):
        return []
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        else:
            out.append(str(_attr(item, "delivery_id", "id", "name", default=item)))
    return out


def _ingest(driver: Driver, settings: Settings, inbox: Path, record: RefreshRecord) -> None:
    """Stage 1: load new deliveries; raise RejectedError when a delivery was rejected."""
    from ingest.pipeline import ingest_inbox

    record.ingest_run = f"{record.run_id}-ingest"
    report = ingest_inbox(driver, settings, inbox, force=False, run_id=record.ingest_run)
    record.deliveries_loaded = _ids(_attr(report, "loaded", "deliveries_loaded", "deliveries"))
    record.deliveries_rejected = _ids(_attr(report, "rejected", "deliveries_rejected"))
    record.rows_quarantined = int(_attr(report, "rows_quarantined", "quarantined",
                                        default=0) or 0)
    record.rows_rejected = int(_attr(report, "rows_rejected", default=0) or 0)
    if record.deliveries_rejected:
        raise RejectedError(
            f"delivery rejected: {', '.join(record.deliveries_rejected)}",
            "see the run report and quarantine files; fix or re-deliver, then refresh again")


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
    rows = access.read(driver, cypher.score_level_counts(), {"run_id": record.score_run},
                       database=settings.neo4j_database)
    record.levels = {str(r["level"]): int(r["n"]) for r in rows}
    record.recomputed = {
        "scope": str(_attr(summary, "scope", default="full")),
        "reason": reason,
        "enterprises_scored": sum(record.levels.values()),
        "deliveries": list(record.deliveries_loaded),
        "groups": _attr(summary, "groups", "n_groups", default=None),
    }


def refresh(settings: Settings, inbox: Path | None, *, wait: bool = False,
            env: Mapping[str, str] | None = None) -> RefreshRecord:
    """Run one refresh (see the module doc). Returns the record of a successful run.

    Raises :class:`UsageError` for a missing inbox or bad settings,
    :class:`runs.RefreshBusyError` when another refresh holds the lock (without ``wait``), and
    :class:`RefreshFailed` for a run that started and failed (record and notice written).
    """
    env = os.environ if env is None else env
    folder = resolve_inbox(settings, inbox)
    jump = alerts_mod.alert_jump(settings, env)
    timeout = alerts_mod.hook_timeout(settings, env)
    pause_after = env.get("RISKGRAPH_TEST_PAUSE_AFTER") or None
    pause_seconds = float(env.get("RISKGRAPH_TEST_PAUSE_SECONDS") or 60)
    run_id = runs.new_run_id()
    with runs.RefreshLock(runs.lock_path(settings)).acquire(wait=wait, run_id=run_id):
        record = RefreshRecord(run_id=run_id, inbox=str(folder))
        return _locked_refresh(settings, folder, record, jump, timeout, pause_after,
                               pause_seconds)


def _locked_refresh(settings: Settings, inbox: Path, record: RefreshRecord, jump: float,
                    hook_timeout: float, pause_after: str | None,
                    pause_seconds: float) -> RefreshRecord:
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
            _ingest(driver, settings, inbox, record)
        _pause("ingest", pause_after, pause_seconds, record)
        total = access.read(driver, cypher.refresh_delivery_count(),
                            database=settings.neo4j_database)[0]["n"]
        record.deliveries_total = int(total)
        reason = _needs_scoring(driver, settings, record, live, total)
        if reason is None:
            record.live_run = record.previous_live_run
            record.model_version = live.get("model_version") if live else None
            record.recomputed = {"scope": "none", "reason": "no new delivery since the last "
                                 "successful refresh; the live scores are current"}
        else:
            with _stage(driver, settings, record, "score"):
                _score(driver, settings, record, reason)
            _pause("score", pause_after, pause_seconds, record)
            try:
                with _stage(driver, settings, record, "alerts"):
                    raised = alerts_mod.raise_alerts(driver, settings, record.score_run or "",
                                                     record.previous_live_run, jump)
                record.alerts = {k: sum(a.kind == k for a in raised) for k in alerts_mod.KINDS}
            except Exception as exc:  # noqa: BLE001 - scores are live; report, do not undo
                record.outcome = "partial"
                record.error = f"alerts failed: {exc}"
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
        record.outcome = "failed"
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
        code = 1 if isinstance(exc, RejectedError | DataError) else 3
        raise RefreshFailed(f"refresh {record.run_id} failed in stage {record.stage}: "
                            f"{record.error}", record, code) from exc
    finally:
        if driver is not None:
            driver.close()


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
               "record": str(runs.record_path(settings, record.run_id))}
    path, hook = alerts_mod.failure_notice(settings, record.run_id, record.error or "?",
                                           details, timeout)
    record.notice = str(path)
    if hook:
        print(f"alert hook: {hook}", file=sys.stderr)
    runs.write_json(settings, record)


def _summary(record: RefreshRecord) -> str:
    levels = " ".join(f"{k}={v}" for k, v in sorted(record.levels.items()))
    t = record.timings
    return (f"refresh {record.run_id} {record.outcome}: loaded "
            f"{len(record.deliveries_loaded)} deliveries, quarantined {record.rows_quarantined} "
            f"rows; recomputed {record.recomputed.get('scope', '?')}; levels {levels or '-'}; "
            f"alerts {sum(record.alerts.values())}; ingest {t.get('ingest', 0):.1f}s score "
            f"{t.get('score', 0):.1f}s alerts {t.get('alerts', 0):.1f}s total "
            f"{t.get('total', 0):.1f}s")


def run_refresh_command(settings: Settings, inbox: Path | None, wait: bool = False) -> int:
    """CLI body of ``riskgraph refresh [--inbox DIR] [--wait]``; returns the exit code.

    Usage errors and a busy lock are raised (the CLI prints them: exit 2 / 3); a failed run
    prints its error and the notice path and returns 1 (rejected/partial) or 3.
    """
    try:
        record = refresh(settings, inbox, wait=wait)
    except RefreshFailed as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.record.notice:
            print(f"notice: {exc.record.notice}", file=sys.stderr)
        print(_summary(exc.record), file=sys.stderr)
        return exc.exit_code
    print(_summary(record))
    print(f"record: {runs.record_path(settings, record.run_id)}")
    return 0
