"""Run reports and exit codes of ``riskgraph ingest``, ``score`` and ``refresh`` as operators
see them (interfaces.md): real CLI processes against the session's test Neo4j, on the small
handmade inbox of ``tests/ingest_fixtures`` (10 rows load, 3 fail a data contract)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from analytics import pipeline, projection_cache
from riskgraph import schedule
from riskgraph.errors import DatabaseError
from riskgraph.settings import Settings, load_settings
from tests.cli_env import cli_env as shared_cli_env
from tests.ingest_fixtures import small_inbox

pytestmark = [pytest.mark.neo4j]

ROOT = Path(__file__).resolve().parents[1]


def cli_env(settings: Settings, home: Path) -> dict[str, str]:
    """The shared CLI environment (tests/cli_env.py), with the database named by its
    prefixed setting and a fixed hash key."""
    env = shared_cli_env(settings, home, RISKGRAPH_NEO4J_DATABASE=settings.neo4j_database,
                         RISKGRAPH_HASH_KEY="test-key")
    del env["NEO4J_DATABASE"]
    return env


def rg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "riskgraph.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def report_of(home: Path, run_id: str) -> dict:
    return json.loads((home / "runs" / run_id / "report.json").read_text(encoding="utf-8"))


def ingest_run_id(stdout: str) -> str:
    found = re.search(r"^ingest (\S+):", stdout, re.M)
    assert found, stdout
    return found.group(1)


def test_ingest_and_score_have_the_report_of_the_run_id_they_print(
        clean_db, neo4j_settings: Settings, tmp_path: Path) -> None:  # noqa: ANN001
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    small_inbox(inbox)
    env = cli_env(neo4j_settings, home)
    ingest = rg(env, "ingest", str(inbox))
    run_id = ingest_run_id(ingest.stdout)
    report = report_of(home, run_id)
    assert report["run_id"] == run_id and report["totals"]["rows_loaded"] == 10
    # done, but 3 rows failed a data contract check: exit 1, and the message says so
    assert report["ok"] and report["totals"]["rows_quarantined"] == 3
    assert ingest.returncode == 1, ingest.stderr
    quarantine = home / "quarantine" / run_id
    assert f"3 row(s) failed a data contract check and were quarantined: {quarantine}" \
        in ingest.stderr
    assert list(quarantine.glob("*.csv"))
    again = rg(env, "ingest", str(inbox))  # nothing new, nothing quarantined: 0
    assert again.returncode == 0, again.stderr
    assert "quarantined:" not in again.stderr

    score = rg(env, "score")
    assert score.returncode == 0, score.stderr
    printed = json.loads(score.stdout.strip().splitlines()[-1])
    report = report_of(home, printed["run_id"])
    assert report["kind"] == "score" and report["status"] == "ok"
    assert report["run_id"] == printed["run_id"] and report["enterprises"] == printed["enterprises"]


def test_a_failed_scoring_run_has_a_report_too(clean_db, neo4j_settings: Settings,  # noqa: ANN001
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = replace(neo4j_settings, home=tmp_path / "home")

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("projection exploded")

    monkeypatch.setattr(projection_cache, "obtain", broken)
    with pytest.raises(DatabaseError, match="scoring run score-broken failed"):
        pipeline.score_graph(clean_db, settings, run_id="score-broken")
    report = report_of(settings.home, "score-broken")
    assert report["kind"] == "score" and report["status"] == "failed"
    assert "projection exploded" in report["error"] and report["live"] is False


def test_refresh_with_quarantined_rows_is_done_but_exits_1(
        clean_db, neo4j_settings: Settings, tmp_path: Path,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Quarantined rows make the refresh exit 1 ("done, but"), while the run itself completes:
    rescored, live, recorded ``ok``, no failure notice. The scheduler logs it as done, not as a
    failure; the next refresh (nothing new) exits 0."""
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    small_inbox(inbox)
    env = cli_env(neo4j_settings, home)
    for key in [k for k in os.environ if k.startswith(("RISKGRAPH_", "NEO4J_"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    code = schedule.run_refresh_job(settings, inbox)  # a refresh child, as scheduled
    assert code == 1
    log = schedule.log_path(settings).read_text(encoding="utf-8")
    records = [p for p in (home / "runs").glob("refresh-*/report.json")
               if json.loads(p.read_text(encoding="utf-8")).get("kind") == "refresh"]
    assert len(records) == 1  # beside it: the reports of its -ingest and -score stages
    record = json.loads(records[0].read_text(encoding="utf-8"))
    run_id = record["run_id"]
    assert record["outcome"] == "ok" and record["stage"] == "done" and not record["error"]
    assert record["rows_quarantined"] == 3 and record["live_run"] == record["score_run"]
    assert record["quarantine_dir"] == str(home / "quarantine" / f"{run_id}-ingest")
    assert not list((home / "alerts").glob("FAILED-*"))  # no failure notice, no hook
    assert (f"refresh {run_id} done, but 3 row(s) failed a data contract check and were "
            f"quarantined: {record['quarantine_dir']}") in log
    assert "ERROR" not in log and "refresh done, but" in log
    assert report_of(home, f"{run_id}-ingest")["totals"]["rows_quarantined"] == 3
    assert report_of(home, f"{run_id}-score")["status"] == "ok"

    second = rg(env, "refresh", "--inbox", str(inbox))  # nothing new: nothing quarantined
    assert second.returncode == 0, second.stderr
    assert "quarantined:" not in second.stderr
