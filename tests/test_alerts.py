"""Refresh alerts: computed from two runs' ScoreRecords, routed, stored and digested.

The ScoreRecords are written directly with graph.access (no scoring engine involved), on the
real test Neo4j of tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from graph import access, cypher
from riskgraph import alerts
from riskgraph.errors import ConfigError
from riskgraph.settings import load_settings

pytestmark = pytest.mark.neo4j

WRITE_RECORDS = (
    "UNWIND $rows AS row MATCH (e:Enterprise {uscc: row.uscc}) "
    "MERGE (s:ScoreRecord {record_id: row.record_id}) SET s += row.props "
    "MERGE (e)-[:SCORED_AS]->(s)"
)


@pytest.fixture()
def tag() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


@pytest.fixture()
def home(tmp_path: Path):
    return load_settings({"RISKGRAPH_HOME": str(tmp_path / "home")})


@pytest.fixture()
def cleanup(driver, tag):
    # an empty graph: records other tests left would be valid at these runs' sequence numbers
    with driver.session() as session:
        session.run(cypher.delete_all_batched()).consume()
    yield
    access.write(driver, "MATCH (n) WHERE n.uscc STARTS WITH $t OR n.run_id STARTS WITH $t "
                 "OR n.alert_key CONTAINS $t OR n.group_id STARTS WITH $t DETACH DELETE n",
                 {"t": tag})


def write_run(driver, run_id: str, rows: list[tuple]) -> None:
    """A scoring run (the next sequence number) holding a full copy of the records, which
    replaces every current one. rows: (uscc, county, score, level, department, group_id,
    cross_region, lead_region)."""
    seq = access.read(driver, "OPTIONAL MATCH (r:Run) RETURN coalesce(max(r.seq), 0) + 1 "
                      "AS seq")[0]["seq"]
    access.write(driver, "MATCH (s:ScoreRecord) WHERE s.to_seq = $open SET s.to_seq = $seq",
                 {"open": cypher.OPEN_SEQ, "seq": seq})
    access.write(driver, "CREATE (:Run {run_id: $r, kind: 'score', status: 'ok', seq: $seq})",
                 {"r": run_id, "seq": seq})
    access.merge_nodes(driver, "Enterprise",
                       [{"key": r[0], "props": {"name": f"名{r[0][-2:]}"}} for r in rows])
    access.write_batches(driver, WRITE_RECORDS, [
        {"record_id": f"{run_id}|{u}", "uscc": u,
         "props": {"uscc": u, "run_id": run_id, "name": f"名{u[-2:]}", "county": c,
                   "score": float(s), "level": lv, "department": dep, "group_id": g,
                   "cross_region": cr, "lead_region": lr, "reasons": ["ind_a"],
                   "from_seq": seq, "to_seq": cypher.OPEN_SEQ}}
        for u, c, s, lv, dep, g, cr, lr in rows])


def two_runs(driver, tag: str) -> tuple[str, str]:
    a, b = f"{tag}-A", f"{tag}-B"
    write_run(driver, a, [
        (f"{tag}01", "410502", 50, "yellow", "市场监管局", None, False, None),
        (f"{tag}02", "410503", 85, "red", "民政局", None, False, None),
        (f"{tag}03", "410502", 10, "blue", "农业农村局", f"{tag}G1", False, None),
        (f"{tag}05", "410506", 65, "orange", "商务局", f"{tag}G2", True, "410506"),
        (f"{tag}06", "410522", 30, "blue", "商务局", None, False, None),
    ])
    write_run(driver, b, [
        (f"{tag}01", "410502", 82, "red", "市场监管局", None, False, None),     # red + jump
        (f"{tag}02", "410503", 86, "red", "民政局", None, False, None),         # still red
        (f"{tag}03", "410502", 65, "orange", "农业农村局", f"{tag}G1", True, "410502"),
        (f"{tag}04", "410505", 70, "orange", "农业农村局", f"{tag}G1", True, "410502"),
        (f"{tag}05", "410506", 62, "orange", "商务局", f"{tag}G2", True, "410506"),  # old group
        (f"{tag}06", "410522", 45, "yellow", "商务局", None, False, None),       # below jump
    ])
    return a, b


def test_compute_is_pure_and_follows_the_rules() -> None:
    rows = [
        {"uscc": "U1", "level": "red", "prev_level": "orange", "score": 81, "prev_score": 70},
        {"uscc": "U2", "level": "orange", "prev_level": "red", "score": 70, "prev_score": 85},
        {"uscc": "U3", "level": "orange", "prev_level": None, "score": 61, "prev_score": None},
        {"uscc": "U4", "level": "yellow", "prev_level": "blue", "score": 45, "prev_score": 25},
        {"uscc": "U5", "level": "yellow", "prev_level": "blue", "score": 44, "prev_score": 25},
    ]
    keys = {a.alert_key for a in alerts.compute(rows, [], jump=20)}
    assert keys == {"red:U1", "orange:U3", "jump:U4"}
    assert {a.alert_key for a in alerts.compute(rows, [], jump=19)} == keys | {"jump:U5"}


def test_alert_jump_setting() -> None:
    assert alerts.alert_jump(load_settings({})) == 20
    assert alerts.alert_jump(load_settings({"RISKGRAPH_ALERT_JUMP": "15"})) == 15
    for bad in ("lots", "0", "150"):
        with pytest.raises(ConfigError):
            load_settings({"RISKGRAPH_ALERT_JUMP": bad})


def test_alerts_routed_stored_and_digested(driver, tag, home, cleanup) -> None:
    a, b = two_runs(driver, tag)
    raised = alerts.raise_alerts(driver, home, b, a, jump=20)
    keys = {x.alert_key: x for x in raised}
    assert set(keys) == {f"red:{tag}01", f"jump:{tag}01", f"orange:{tag}03", f"jump:{tag}03",
                         f"orange:{tag}04", f"cross_region:{tag}G1"}
    assert keys[f"red:{tag}01"].county == "410502"
    assert keys[f"red:{tag}01"].department == "市场监管局"
    group = keys[f"cross_region:{tag}G1"]
    assert group.county == "410502" and set(group.counties) == {"410502", "410505"}
    assert group.department == "农业农村局" and group.members == 2

    stored = access.read(driver, "MATCH (x:Alert) WHERE x.alert_key CONTAINS $t "
                         "OPTIONAL MATCH (x)-[:ALERT_FOR]->(e:Enterprise) "
                         "RETURN x.alert_key AS k, x.status AS status, x.county AS county, "
                         "x.department AS dept, e.uscc AS uscc", {"t": tag})
    assert {r["k"] for r in stored} == set(keys)
    assert all(r["status"] == "new" for r in stored)
    red = next(r for r in stored if r["k"] == f"red:{tag}01")
    assert red["uscc"] == f"{tag}01" and red["dept"] == "市场监管局"

    folder = home.home / "alerts" / b
    assert sorted(p.name for p in folder.iterdir()) == [
        "410502.json", "410502.md", "410505.json", "410505.md", "index.json"]
    digest = json.loads((folder / "410505.json").read_text(encoding="utf-8"))
    assert {x["alert_key"] for x in digest["alerts"]} == {f"orange:{tag}04",
                                                          f"cross_region:{tag}G1"}
    md = (folder / "410502.md").read_text(encoding="utf-8")
    assert "市场监管局" in md and f"red:{tag}01" in md and home.confidentiality_mark in md
    assert f"{tag}05" not in md  # the group that was already cross-region raises nothing


def test_alert_key_is_stable_and_status_survives(driver, tag, home, cleanup) -> None:
    a, b = two_runs(driver, tag)
    alerts.raise_alerts(driver, home, b, a, jump=20)
    key = f"red:{tag}01"
    assert alerts.set_status(driver, home, key, "seen")
    alerts.raise_alerts(driver, home, b, a, jump=20)  # same condition again: same node
    rows = access.read(driver, "MATCH (x:Alert {alert_key: $k}) RETURN x.status AS s, "
                       "x.raised_count AS n, count(*) AS c", {"k": key})
    assert rows == [{"s": "seen", "n": 2, "c": 1}]
    assert alerts.set_status(driver, home, key, "handled")
    # a later run where the entity dropped, then one where it is red again: reopened
    c, d = f"{tag}-C", f"{tag}-D"
    write_run(driver, c, [(f"{tag}01", "410502", 50, "yellow", "市场监管局", None, False, None)])
    write_run(driver, d, [(f"{tag}01", "410502", 90, "red", "市场监管局", None, False, None)])
    assert alerts.raise_alerts(driver, home, c, b, jump=20) == []
    alerts.raise_alerts(driver, home, d, c, jump=20)
    rows = access.read(driver, "MATCH (x:Alert {alert_key: $k}) RETURN x.status AS s, "
                       "x.first_run AS first, x.last_run AS last", {"k": key})
    assert rows == [{"s": "new", "first": b, "last": d}]
    listed = alerts.list_alerts(driver, home, county="410502", status="new")
    assert any(x["alert_key"] == key for x in listed)


def test_first_run_alerts_every_red_and_orange(driver, tag, home, cleanup) -> None:
    a, _ = two_runs(driver, tag)
    raised = alerts.raise_alerts(driver, home, a, None, jump=20)
    assert {x.alert_key for x in raised} == {f"red:{tag}02", f"orange:{tag}05",
                                             f"cross_region:{tag}G2"}


def test_failure_notice_and_bounded_hook(tmp_path: Path) -> None:
    base = load_settings({"RISKGRAPH_HOME": str(tmp_path)})
    seen = tmp_path / "hook-saw.txt"
    hook = f"{sys.executable} -c \"import sys, pathlib; pathlib.Path({str(seen)!r})" \
           ".write_text(sys.argv[1])\""
    path, result = alerts.failure_notice(replace(base, alert_hook=hook), "R1", "boom",
                                         {"stage": "ingest"}, timeout=30)
    assert path == tmp_path / "alerts" / "FAILED-R1.txt"
    assert "boom" in path.read_text(encoding="utf-8")
    assert result and result.startswith("hook exit 0") and seen.read_text() == str(path)
    marker = tmp_path / "still-running"
    slow = f"sleep 30; touch {marker}; echo"
    path, result = alerts.failure_notice(replace(base, alert_hook=slow), "R2", "boom", {},
                                         timeout=1)
    assert result == "hook killed after 1s timeout"
    assert not marker.exists()
    assert subprocess.run(["pgrep", "-f", f"touch {marker}"], capture_output=True,
                          env=os.environ).returncode == 1
