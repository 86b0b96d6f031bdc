"""Outcomes as data (real Neo4j): add, latest verdict wins, kept across a rescore, demo truth."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from analytics import outcomes
from analytics.pipeline import score_graph
from graph import access
from graph.schema import apply_schema
from riskgraph.errors import DataError, UsageError
from tests.test_scoring_neo4j import A, B, C, D, write_tiny_graph

pytestmark = pytest.mark.neo4j


def test_add_latest_wins_and_kept_across_rescore(clean_db, neo4j_settings) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    outcomes.add(driver, A, "dismissed", "排除-正常经营", "张三", at=datetime(2024, 7, 1),
                 database=db)
    outcomes.add(driver, A, "confirmed", "已立案", "李四", at=datetime(2024, 8, 1), database=db)
    outcomes.add(driver, B, "dismissed", "false_positive", "王五", at=datetime(2024, 8, 2),
                 database=db)
    latest = outcomes.latest(driver, db)
    assert set(latest) == {A, B}
    a = latest[A]
    assert (a.verdict, a.reason_code, a.user, a.label) == ("confirmed", "已立案", "李四", 1)
    assert a.at.startswith("2024-08-01") and a.origin == "cli"
    assert latest[B].label == 0
    hist = outcomes.history(driver, A, db)
    assert [h["verdict"] for h in hist] == ["dismissed", "confirmed"]  # nothing overwritten
    assert hist[0]["county"] == "410502" and hist[0]["subject_kind"] == "E"
    # an older verdict recorded later does not win
    outcomes.add(driver, A, "dismissed", "排除-信息错误", "赵六", at=datetime(2024, 7, 15),
                 database=db)
    assert outcomes.latest(driver, db)[A].verdict == "confirmed"

    score_graph(driver, neo4j_settings, run_id="score-out-1")
    score_graph(driver, neo4j_settings, run_id="score-out-2")
    assert outcomes.latest(driver, db) == latest
    n = access.read(driver, "MATCH (o:Outcome)-[:OUTCOME_FOR]->(:Enterprise) RETURN count(o) AS n",
                    database=db)[0]["n"]
    assert n == 4


def test_add_refuses_bad_input(clean_db, neo4j_settings) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    with pytest.raises(UsageError, match="unknown verdict"):
        outcomes.add(driver, A, "maybe", "已立案", "u", database=db)
    with pytest.raises(UsageError, match="means confirmed"):
        outcomes.add(driver, A, "dismissed", "已立案", "u", database=db)
    with pytest.raises(UsageError, match="unknown reason"):
        outcomes.add(driver, A, "confirmed", "nope", "u", database=db)
    with pytest.raises(DataError, match="no enterprise"):
        outcomes.add(driver, "91410502MA9999999X", "confirmed", "已立案", "u", database=db)
    assert outcomes.latest(driver, db) == {}


def test_import_truth_sample_and_idempotent(clean_db, neo4j_settings, tmp_path: Path) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "entities.csv").write_text(
        "uscc,name,county,scheme_id,role,typology,stage,hard_negative\n"
        f"{A},甲,410502,S1,core,p2p,late,false\n{B},乙,410502,S1,periphery,p2p,late,false\n"
        f"{C},丙,410526,,none,,,false\n{D},丁,410503,,none,,,true\n"
        "91410502MA9999999X,外地,410502,,none,,,false\n", encoding="utf-8")
    r = outcomes.import_truth(driver, tmp_path, database=db)
    assert (r.rows, r.written, r.confirmed, r.dismissed, r.missing) == (5, 4, 2, 2, 1)
    latest = outcomes.latest(driver, db)
    assert {u: o.reason_code for u, o in latest.items()} == {
        A: "demo-truth-positive", B: "demo-truth-positive",
        C: "demo-truth-negative", D: "demo-truth-negative"}
    outcomes.import_truth(driver, truth, database=db)  # again: nothing new
    n = access.read(driver, "MATCH (o:Outcome) RETURN count(o) AS n", database=db)[0]["n"]
    assert n == 4
    half = outcomes.import_truth(driver, truth, sample=0.5, seed=1, database=db)
    assert half.sampled < 5
    with pytest.raises(UsageError):
        outcomes.import_truth(driver, truth, sample=0.0, database=db)
