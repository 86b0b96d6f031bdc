"""``riskgraph refresh`` end to end: real processes, the real test Neo4j, the demo city.

Each test empties the graph (``clean_db``) and uses its own ``RISKGRAPH_HOME``; the refreshes
run as ``python -m riskgraph.cli refresh`` child processes. The demo city is generated once
per module at a small scale; its last delivery date is the increment.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph import access, cypher
from riskgraph.settings import Settings
from tests.cli_env import cli_env

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SCALE = os.environ.get("RISKGRAPH_TEST_REFRESH_SCALE", "0.02")


def riskgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "riskgraph.cli", *args]


@dataclass
class Demo:
    inbox: Path
    dates: list[Path]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    env.update(RISKGRAPH_HOME=str(out / "home"), PYTHONPATH=str(ROOT))
    subprocess.run(riskgraph("demo", "generate", "--out", str(out), "--scale", SCALE,
                             "--seed", "11"), env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=900)
    dates = sorted(p for p in (out / "inbox").iterdir() if p.is_dir())
    assert len(dates) >= 2, "the demo generator writes a full delivery and an increment"
    return Demo(out / "inbox", dates)


@dataclass
class Site:
    """One test's world: its home, inbox (symlinks to demo deliveries) and CLI env."""

    home: Path
    inbox: Path
    env: dict[str, str]
    settings: Settings

    def add(self, folder: Path) -> None:
        (self.inbox / folder.name).symlink_to(folder, target_is_directory=True)

    def refresh(self, *args: str, timeout: float = 900, **extra: str
                ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(riskgraph("refresh", "--inbox", str(self.inbox), *args),
                              env={**self.env, **extra}, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(riskgraph("refresh", "--inbox", str(self.inbox), *args),
                                env={**self.env, **extra}, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def records(self) -> list[dict]:
        files = sorted((self.home / "runs").glob("refresh-*/refresh.json"))
        return [json.loads(p.read_text(encoding="utf-8")) for p in files]


@pytest.fixture()
def site(clean_db, neo4j_settings: Settings, tmp_path: Path) -> Site:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    return Site(home, inbox, cli_env(neo4j_settings, home), neo4j_settings)


def live(driver, db: str) -> str | None:
    rows = access.read(driver, "MATCH (r:Run {live: true}) RETURN r.run_id AS id", database=db)
    assert len(rows) <= 1
    return rows[0]["id"] if rows else None


def scores(driver, db: str, run_id: str) -> dict[str, float]:
    rows = access.read(driver, cypher.analytics_live_records(), {"run_id": run_id},
                       database=db)
    return {r["uscc"]: r["score"] for r in rows}


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 600) -> str:
    """Read the child's stderr until a line containing ``needle`` (fails on exit/timeout)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return line
    proc.kill()
    raise AssertionError(f"no {needle!r} from the refresh; stderr: {''.join(seen)[-2000:]}")


def done_exit(proc: subprocess.CompletedProcess[str] | subprocess.Popen[str], record: dict,
              stderr: str | None = None) -> None:
    """A refresh that completed (``ok``) exits 0, or 1 ("done, but") when its ingest
    quarantined rows, saying how many and where (the demo city has invalid rows)."""
    err = proc.stderr if stderr is None else stderr
    assert record["outcome"] == "ok", err
    if record["rows_quarantined"]:
        assert proc.returncode == 1, err
        assert (f"{record['rows_quarantined']} row(s) failed a data contract check and were "
                f"quarantined: {record['quarantine_dir']}") in str(err)
    else:
        assert proc.returncode == 0, err
        assert "quarantined:" not in str(err)


def first_refresh(site: Site, demo: Demo) -> dict:
    for folder in demo.dates[:-1]:
        site.add(folder)
    proc = site.refresh()
    record = site.records()[-1]
    done_exit(proc, record)
    assert record["outcome"] == "ok" and record["deliveries_loaded"]
    return record


def kill_at(site: Site, point: str) -> dict:
    """Start a refresh that pauses at ``point``, SIGKILL it there; returns its record."""
    proc = site.start(RISKGRAPH_TEST_PAUSE_AFTER=point, RISKGRAPH_TEST_PAUSE_SECONDS="600")
    wait_for_line(proc, f"test pause after {point}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed = site.records()[-1]
    assert killed["outcome"] == "running" and killed["stage"] in ("ingest", "score")
    return killed


def test_killed_refreshes_rejected_delivery_and_alerts(site: Site, demo: Demo, driver,
                                                       tmp_path: Path) -> None:
    """One history: full refresh; a refresh killed after ingest; one killed inside scoring
    (new ScoreRecords written, not switched live); a completing refresh with alerts; then a
    rejected delivery. Readers see the previous scores throughout."""
    db = site.settings.neo4j_database
    first = first_refresh(site, demo)
    assert live(driver, db) == first["score_run"] == first["live_run"]
    before = scores(driver, db, first["score_run"])
    assert before and first["levels"] and sum(first["levels"].values()) == len(before)

    site.add(demo.dates[-1])
    killed_ingest = kill_at(site, "ingest")
    assert killed_ingest["deliveries_loaded"]
    assert live(driver, db) == first["score_run"]
    killed_score = kill_at(site, "score-write")
    assert not killed_score["deliveries_loaded"]  # loaded by the run killed before
    assert scores(driver, db, f"{killed_score['run_id']}-score")  # written, never live
    assert live(driver, db) == first["score_run"]
    assert scores(driver, db, first["score_run"]) == before

    proc = site.refresh()
    done = site.records()[-1]
    done_exit(proc, done)
    assert "closed interrupted refresh runs" in proc.stderr
    assert done["outcome"] == "ok" and done["live_run"] == live(driver, db)
    assert done["live_run"] == done["score_run"] != first["score_run"]
    assert done["recomputed"]["scope"] == "full"  # the increment still needed scoring
    # the levels the record reports (from the scoring run) are those of the live records,
    # most of them kept from the first run
    counted = access.read(driver, cypher.score_level_counts(), {"run_id": done["live_run"]},
                          database=db)
    assert done["levels"] == {r["level"]: r["n"] for r in counted}
    assert done["recomputed"]["records"]["unchanged"] > 0
    # the projection cache was patched with the change logs of the killed ingest
    assert done["recomputed"]["projection"]["source"] == "cache"
    assert done["previous_live_run"] == first["score_run"]
    assert set(done["timings"]) >= {"ingest", "score", "alerts", "total"}
    for killed in (killed_ingest, killed_score):
        rows = access.read(driver, "MATCH (r:Run {run_id: $r}) RETURN r.outcome AS o, "
                           "r.error AS e", {"r": killed["run_id"]}, database=db)
        assert rows[0]["o"] == "failed" and "interrupted" in rows[0]["e"]
        report = site.home / "runs" / killed["run_id"] / "report.json"  # closed as well
        closed = json.loads(report.read_text(encoding="utf-8"))
        assert closed["outcome"] == "failed" and "interrupted" in closed["error"]
    assert f"report: {site.home / 'runs' / done['run_id'] / 'report.json'}" in proc.stdout

    # alerts of the completing run: routed, stored, digested per county
    folder = site.home / "alerts" / done["run_id"]
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert index["previous_run"] == first["score_run"]
    assert index["scores_run"] == done["score_run"]
    for county, n in index["counties"].items():
        digest = json.loads((folder / f"{county}.json").read_text(encoding="utf-8"))
        assert len(digest["alerts"]) == n and (folder / f"{county}.md").exists()
    rows = access.read(driver, "MATCH (a:Alert) WHERE a.last_run = $r "
                       "RETURN a.alert_key AS k, a.county AS c, a.department AS d, "
                       "a.status AS s", {"r": done["run_id"]}, database=db)
    assert len(rows) == index["total"]
    assert all(r["c"] and r["d"] and r["s"] == "new" for r in rows)
    run = access.read(driver, "MATCH (r:Run {run_id: $r}) RETURN r {.*} AS run",
                      {"r": done["run_id"]}, database=db)[0]["run"]
    assert run["kind"] == "refresh" and run["outcome"] == "ok"
    assert run["alerts_raised"] == index["total"]
    assert run["seconds_score"] is not None and run["refresh_model_version"]

    # a rejected delivery: exit 1, failed run, notice + hook, the scores stay
    served = live(driver, db)
    bad = tmp_path / "bad" / "29991231"
    shutil.copytree(demo.dates[-1], bad)
    victim = sorted(p for p in bad.rglob("*.csv"))[0]
    victim.write_text("完全,不对\n1,2\n", encoding="utf-8")  # required columns missing
    site.add(bad)
    hook_saw = tmp_path / "hook.txt"
    hook = (f"{sys.executable} -c \"import sys, pathlib; "
            f"pathlib.Path({str(hook_saw)!r}).write_text(sys.argv[1])\"")
    proc = site.refresh(RISKGRAPH_ALERT_HOOK=hook)
    assert proc.returncode == 1, proc.stderr
    assert "rejected" in proc.stderr and victim.name in proc.stderr
    failed = site.records()[-1]
    assert failed["outcome"] == "failed" and failed["deliveries_rejected"]
    notice = site.home / "alerts" / f"FAILED-{failed['run_id']}.txt"
    assert notice.exists() and victim.name in notice.read_text(encoding="utf-8")
    assert hook_saw.read_text() == str(notice)
    assert live(driver, db) == served
    rows = access.read(driver, "MATCH (r:Run {run_id: $r}) RETURN r.outcome AS o, "
                       "r.status AS s", {"r": failed["run_id"]}, database=db)
    assert rows == [{"o": "failed", "s": "failed"}]


def test_two_refreshes_never_run_together(site: Site, demo: Demo) -> None:
    site.add(demo.dates[-1])  # the (small) increment alone is a valid inbox
    first = site.start(RISKGRAPH_TEST_PAUSE_AFTER="ingest", RISKGRAPH_TEST_PAUSE_SECONDS="8")
    wait_for_line(first, "test pause after ingest")
    second = site.refresh(timeout=120)
    assert second.returncode == 3
    assert "another refresh is running" in second.stderr
    waiting = site.start("--wait")
    _, first_err = first.communicate(timeout=900)
    _, waiting_err = waiting.communicate(timeout=900)
    records = site.records()
    assert len(records) == 2  # the refused one did nothing at all
    a, b = sorted(records, key=lambda r: r["started"])
    done_exit(first, a, first_err)
    done_exit(waiting, b, waiting_err)  # nothing new, nothing quarantined: 0
    assert waiting.returncode == 0, waiting_err
    assert b["started"] >= a["ended"]
    assert b["recomputed"]["scope"] == "none"  # nothing new after the first one


def test_refresh_with_another_hash_key_fails_visibly_and_keeps_scores(
        site: Site, demo: Demo, driver) -> None:
    """A home whose hash key is not the graph's (a restore onto a new machine without the key
    file) stops before loading: exit 2 naming the remedy, a failed run with a notice, the
    previous scores still served, and the right key loads the delivery afterwards."""
    db = site.settings.neo4j_database
    first = first_refresh(site, demo)
    before = scores(driver, db, first["score_run"])
    site.add(demo.dates[-1])
    proc = site.refresh(RISKGRAPH_HASH_KEY="a key from another installation")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "hash key" in proc.stderr and "RISKGRAPH_HASH_KEY" in proc.stderr
    failed = site.records()[-1]
    assert failed["outcome"] == "failed" and failed["stage"] == "ingest"
    assert not failed["deliveries_loaded"]
    assert live(driver, db) == first["score_run"]
    assert scores(driver, db, first["score_run"]) == before
    again = site.refresh()
    assert again.returncode in (0, 1), again.stderr
    assert site.records()[-1]["outcome"] == "ok" and site.records()[-1]["deliveries_loaded"]
