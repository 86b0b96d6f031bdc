"""``riskgraph schedule`` and the refresh lock, with real processes (no database needed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskgraph import schedule
from riskgraph.errors import UsageError
from riskgraph.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    # a server that is certainly not there: reaching it fails fast with a clear message
    env.update(RISKGRAPH_HOME=str(home), NEO4J_URI="bolt://127.0.0.1:9",
               NEO4J_PASSWORD="not-a-real-password", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def riskgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "riskgraph.cli", *args]


def test_bad_cron_expression_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        schedule.parse_cron("61 25 * * *")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for bad in ("every day", "61 2 * * *"):
        proc = subprocess.run(riskgraph("schedule", "--cron", bad, "--inbox", str(inbox)),
                              capture_output=True, text=True, env=cli_env(tmp_path),
                              timeout=60, cwd=ROOT)
        assert proc.returncode == 2, proc.stderr
        assert "bad cron expression" in proc.stderr


def test_schedule_without_inbox_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(riskgraph("schedule", "--cron", "0 2 * * *"), capture_output=True,
                          text=True, env=cli_env(tmp_path), timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "no inbox" in proc.stderr


def test_schedule_runs_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proc = subprocess.Popen(riskgraph("schedule", "--cron", "30 2 * * *", "--inbox", str(inbox)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(tmp_path), cwd=ROOT)
    log = tmp_path / "logs" / "schedule.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "next refresh at" not in (
            log.read_text(encoding="utf-8") if log.exists() else ""):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    text = log.read_text(encoding="utf-8")
    assert "next refresh at" in text and "02:30:00" in text and "scheduler stopped" in text


def test_scheduled_job_runs_refresh_as_a_child_and_logs_it(tmp_path: Path,
                                                           monkeypatch) -> None:
    for key, value in cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    code = schedule.run_refresh_job(settings, tmp_path / "missing-inbox")
    assert code == 2
    text = schedule.log_path(settings).read_text(encoding="utf-8")
    assert "refresh | error: inbox" in text and "exit 2" in text
    sched = schedule.build_scheduler(settings, "*/5 * * * *", tmp_path)
    job = sched.get_job(schedule.JOB_ID)
    assert job is not None and job.max_instances == 1 and job.coalesce


def fake_refresh(report: Path, outcome: str, code: int) -> list[str]:
    """A child that writes a refresh report with ``outcome``, says where, exits ``code``."""
    script = ("import json, pathlib, sys; p = pathlib.Path(sys.argv[1]); "
              "p.parent.mkdir(parents=True, exist_ok=True); "
              "p.write_text(json.dumps({'outcome': sys.argv[2]})); "
              "print('report:', p); sys.exit(int(sys.argv[3]))")
    return [sys.executable, "-c", script, str(report), outcome, str(code)]


@pytest.mark.parametrize(("outcome", "code", "level", "said"), [
    ("ok", 0, "INFO", "refresh done (exit 0)"),
    ("ok", 1, "WARNING", "refresh done, but something failed a check (exit 1)"),
    ("failed", 1, "ERROR", "refresh finished with exit 1"),
    ("partial", 1, "ERROR", "refresh finished with exit 1"),
])
def test_schedule_tells_a_done_run_from_a_failed_one(tmp_path: Path, monkeypatch,
                                                      outcome: str, code: int, level: str,
                                                      said: str) -> None:
    """Exit 1 of a refresh recorded ``ok`` (rows quarantined) is a completed run, logged as
    such; exit 1 of a failed or partial run is logged as a failure."""
    for key, value in cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    report = tmp_path / "runs" / "refresh-x" / "report.json"
    monkeypatch.setattr(schedule, "refresh_argv",
                        lambda _inbox: fake_refresh(report, outcome, code))
    assert schedule.run_refresh_job(settings, tmp_path) == code
    lines = schedule.log_path(settings).read_text(encoding="utf-8").splitlines()
    last = lines[-1]
    assert f" {level} " in last and said in last, lines


def hold_lock(home: Path, seconds: float) -> subprocess.Popen[str]:
    """A real process holding the refresh lock for ``seconds``; returns once it holds it."""
    code = ("import sys, time; from pathlib import Path; from riskgraph.runs import RefreshLock;"
            f"lock = RefreshLock(Path({str(home / 'refresh.lock')!r})).acquire(run_id='holder');"
            f"print('held', flush=True); time.sleep({seconds}); lock.release()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=cli_env(home))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_refresh_exits_3_while_the_lock_is_held(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    holder = hold_lock(tmp_path, 60)
    try:
        proc = subprocess.run(riskgraph("refresh", "--inbox", str(inbox)), capture_output=True,
                              text=True, env=cli_env(tmp_path), timeout=60, cwd=ROOT)
        assert proc.returncode == 3
        assert "another refresh is running" in proc.stderr and "holder" in proc.stderr
        assert not (tmp_path / "runs").exists()  # it did nothing
    finally:
        holder.kill()
        holder.wait()


def test_refresh_wait_blocks_until_the_lock_is_free(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    holder = hold_lock(tmp_path, 3)
    start = time.monotonic()
    proc = subprocess.run(riskgraph("refresh", "--wait", "--inbox", str(inbox)),
                          capture_output=True, text=True, env=cli_env(tmp_path), timeout=120,
                          cwd=ROOT)
    holder.wait()
    assert time.monotonic() - start >= 2
    assert "another refresh is running" not in proc.stderr
    # past the lock it tried the (absent) database: a recorded failure, exit 3
    assert proc.returncode == 3 and "cannot reach Neo4j" in proc.stderr
    assert list((tmp_path / "alerts").glob("FAILED-refresh-*.txt"))


def test_a_failed_refresh_has_the_run_report_of_the_id_it_prints(tmp_path: Path) -> None:
    """The run id a refresh prints names ``runs/<run_id>/report.json`` (interfaces.md), also
    when it failed; ``refresh.json`` beside it says the same."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proc = subprocess.run(riskgraph("refresh", "--inbox", str(inbox)), capture_output=True,
                          text=True, env=cli_env(tmp_path), timeout=120, cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    run_id = proc.stderr.split("refresh ", 1)[1].split()[0]
    report = tmp_path / "runs" / run_id / "report.json"
    assert f"report: {report}" in proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["run_id"] == run_id and data["kind"] == "refresh"
    assert data["outcome"] == "failed" and "cannot reach Neo4j" in data["error"]
    assert data == json.loads((report.parent / "refresh.json").read_text(encoding="utf-8"))
    notice = (tmp_path / "alerts" / f"FAILED-{run_id}.txt").read_text(encoding="utf-8")
    assert f"report: {report}" in notice


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    holder = hold_lock(tmp_path, 600)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    from riskgraph.runs import RefreshLock

    lock = RefreshLock(tmp_path / "refresh.lock").acquire()
    lock.release()
