"""The refresh keeps the county ledgers in step with the live scores (``riskgraph.refresh``
stage ``ledger``: ``workflow.ledger.sync_ledger`` + ``mark_overdue``), on a tiny demo city
against the real test Neo4j; a user's ledger edits survive later refreshes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph import access, server
from riskgraph.refresh import refresh
from riskgraph.settings import Settings, load_settings
from workflow import ledger
from workflow import statuses as sts

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


def settings_for(base: Settings, home: Path) -> Settings:
    """Settings of an in-process refresh: its own home, the session's test Neo4j."""
    if base.local:
        uri, user, password = (server.bolt_uri(base.bolt_port), "neo4j",
                               server.read_password(base))
    else:
        uri, user, password = base.neo4j_uri or "", base.neo4j_user, base.neo4j_password or ""
    return load_settings({"RISKGRAPH_HOME": str(home), "NEO4J_URI": uri, "NEO4J_USER": user,
                          "NEO4J_PASSWORD": password, "NEO4J_DATABASE": base.neo4j_database,
                          "RISKGRAPH_BATCH_SIZE": "1000"})


def demo_city(out: Path) -> list[Path]:
    """A tiny demo city (``riskgraph demo generate --scale 0.02``); its delivery folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    env.update(RISKGRAPH_HOME=str(out / "gen-home"), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "riskgraph.cli", "demo", "generate", "--out",
                    str(out), "--scale", "0.02", "--seed", "11"], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=900)
    return sorted(p for p in (out / "inbox").iterdir() if p.is_dir())


def test_refresh_syncs_ledger_and_keeps_edits(clean_db, neo4j_settings: Settings,  # noqa: ANN001
                                              tmp_path: Path) -> None:
    dates = demo_city(tmp_path / "demo")
    assert len(dates) >= 2
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / dates[0].name).symlink_to(dates[0], target_is_directory=True)
    settings = settings_for(neo4j_settings, tmp_path / "home")
    driver = clean_db

    first = refresh(settings, inbox)
    assert first.outcome == "ok" and "ledger" in first.timings
    synced = first.recomputed["ledger"]
    assert synced["created"] > 0
    counties = sorted({r["county"] for r in access.read(
        driver, "MATCH (e:LedgerEntry) RETURN DISTINCT e.county AS county")})
    entries = ledger.list_entries(driver, counties)
    assert len(entries) == synced["created"]
    assert all(e["status"] == sts.PENDING and e["origin"] == "auto" for e in entries)

    edited, late = entries[0], entries[1]
    ledger.transition(driver, edited["entry_id"], sts.CHECKING, "wf", note="约谈法定代表人")
    ledger.update_entry(driver, edited["entry_id"], "wf", {"assignee": "陈科长"})
    ledger.update_entry(driver, late["entry_id"], "wf", {"deadline": "2020-01-31"})

    (inbox / dates[-1].name).symlink_to(dates[-1], target_is_directory=True)
    second = refresh(settings, inbox)
    assert second.outcome == "ok" and second.live_run != first.live_run
    assert second.recomputed["ledger"]["refreshed"] > 0
    assert second.recomputed["ledger"]["overdue_changed"] >= 1
    kept = ledger.get_entry(driver, edited["entry_id"])
    assert kept["status"] == sts.CHECKING and kept["assignee"] == "陈科长"
    assert kept.get("last_run") == second.live_run
    assert ledger.get_entry(driver, late["entry_id"])["overdue"] is True
    stored = access.read(driver, "MATCH (e:LedgerEntry {entry_id: $id}) RETURN e.overdue AS o",
                         {"id": late["entry_id"]})
    assert stored[0]["o"] is True  # marked in the graph by the refresh
    actions = [h["action"] for h in ledger.history(driver, edited["entry_id"])]
    assert actions == ["create", "status", "edit"]  # nothing of the edit was overwritten

    third = refresh(settings, inbox)  # nothing new: no rescore, the ledger stage still runs
    assert third.recomputed["scope"] == "none" and "ledger" in third.recomputed
    assert third.recomputed["ledger"]["created"] == 0
