"""``riskgraph schedule --cron "EXPR"``: run the refresh on a cron schedule.

An APScheduler ``BlockingScheduler`` fires ``riskgraph refresh`` as a child process at every
time of the crontab expression (five fields, ``CronTrigger.from_crontab``, local time zone). A
child process per refresh keeps the scheduler small and immune to a refresh that crashes or
leaks memory. Overlap is impossible twice over: the job has ``max_instances=1`` and the refresh
itself takes the lock ``RISKGRAPH_HOME/refresh.lock`` (a refresh started by hand at the same
time makes the scheduled one exit 3, logged as skipped). Missed times are coalesced into one
run (``misfire_grace_time`` one hour).

Everything is logged to ``RISKGRAPH_HOME/logs/schedule.log`` (and stderr): start, next fire
time, each refresh's output lines and exit code. SIGTERM/SIGINT stop the scheduler cleanly.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from riskgraph.errors import UsageError
from riskgraph.settings import Settings

LOGGER_NAME = "riskgraph.schedule"
JOB_ID = "riskgraph-refresh"


def log_path(settings: Settings) -> Path:
    """``RISKGRAPH_HOME/logs/schedule.log``."""
    return settings.home / "logs" / "schedule.log"


def parse_cron(cron: str) -> CronTrigger:
    """A trigger from a five-field crontab expression; UsageError (exit 2) when it is bad."""
    try:
        return CronTrigger.from_crontab(cron.strip())
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"bad cron expression {cron!r}: {exc}",
            'use five fields "minute hour day month weekday", e.g. "30 2 * * *" for 02:30 daily',
        ) from exc


def next_fire_time(trigger: CronTrigger) -> datetime | None:
    """When ``trigger`` fires next (None when never)."""
    return trigger.get_next_fire_time(None, datetime.now(trigger.timezone))


def setup_logging(settings: Settings) -> logging.Logger:
    """Log to ``schedule.log`` and stderr (APScheduler's own messages included)."""
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path
               for h in logger.handlers):
        file_handler = logging.FileHandler(path, encoding="utf-8")
        file_handler.setFormatter(fmt)
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.setFormatter(fmt)
        for name in (LOGGER_NAME, "apscheduler"):
            target = logging.getLogger(name)
            target.addHandler(file_handler)
            target.addHandler(stderr_handler)
            target.setLevel(logging.INFO)
            target.propagate = False
    return logger


def refresh_argv(inbox: Path | None) -> list[str]:
    """The command line of one refresh child process."""
    argv = [sys.executable, "-m", "riskgraph.cli", "refresh"]
    if inbox is not None:
        argv += ["--inbox", str(inbox)]
    return argv


REPORT_LINE = "report: "
"""How a refresh names its run report (``runs/<run_id>/report.json``) on its output."""


def _outcome(report: Path | None) -> str | None:
    """The ``outcome`` of the refresh run report at ``report`` (None when unreadable)."""
    if report is None:
        return None
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("outcome") if isinstance(data, dict) else None


def run_refresh_job(settings: Settings, inbox: Path | None) -> int:
    """Run one refresh as a child process, logging its output; returns its exit code.

    A refresh that exits 1 but whose run report says ``ok`` completed (rows failed a data
    contract and were quarantined; the scores went live, no failure notice): it is logged as
    done, with a warning, not as a failure. Failed and partial runs (exit 1 or 3) are logged
    as errors; the refresh itself wrote their notice, and the next scheduled run retries."""
    logger = setup_logging(settings)
    argv = refresh_argv(inbox)
    logger.info("refresh starting: %s", " ".join(argv[1:]))
    env = dict(os.environ)
    env["RISKGRAPH_HOME"] = str(settings.home)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    assert proc.stdout is not None
    report: Path | None = None
    for line in proc.stdout:
        logger.info("refresh | %s", line.rstrip())
        if line.startswith(REPORT_LINE):
            report = Path(line[len(REPORT_LINE):].strip())
    code = proc.wait()
    if code == 0:
        logger.info("refresh done (exit 0)")
    elif code == 1 and _outcome(report) == "ok":
        logger.warning("refresh done, but something failed a check (exit 1): the new scores "
                       "are live; see the quarantine line above")
    elif code == 3:
        logger.warning("refresh stopped or skipped (exit 3): see the lines above")
    else:
        logger.error("refresh finished with exit %s: see the lines above and alerts/", code)
    return code


def build_scheduler(settings: Settings, cron: str, inbox: Path | None) -> BlockingScheduler:
    """The scheduler with the refresh job added (not started)."""
    trigger = parse_cron(cron)
    scheduler = BlockingScheduler()
    scheduler.add_job(run_refresh_job, trigger, args=(settings, inbox), id=JOB_ID,
                      name="riskgraph refresh", max_instances=1, coalesce=True,
                      misfire_grace_time=3600, replace_existing=True)
    return scheduler


def run_schedule_command(settings: Settings, cron: str, inbox: Path | None) -> int:
    """CLI body of ``riskgraph schedule --cron EXPR [--inbox DIR]``: blocks until stopped."""
    from riskgraph.refresh import resolve_inbox

    trigger = parse_cron(cron)
    folder = resolve_inbox(settings, inbox) if inbox is not None else None
    if folder is None:
        resolve_inbox(settings, None)  # fail now (exit 2), not at the first fire time
    scheduler = build_scheduler(settings, cron, folder)
    logger = setup_logging(settings)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logger.info("schedule %r (%s) inbox %s; log %s", cron, trigger,
                folder or settings.inbox, log_path(settings))
    logger.info("next refresh at %s", next_fire_time(trigger))
    scheduler.add_listener(lambda _event: logger.info("next refresh at %s",
                                                      next_fire_time(trigger)),
                           EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()  # blocks until _stop
    logger.info("scheduler stopped")
    return 0
