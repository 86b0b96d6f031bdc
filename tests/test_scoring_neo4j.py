"""Integration: a tiny graph written with graph.access, scored by score_graph (real Neo4j)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import evaluate, explain, export, projection, scoring
from analytics.pipeline import score_graph
from graph import access, cypher
from graph.schema import apply_schema

pytestmark = pytest.mark.neo4j

A, B, C, D = ("91410502MA0000001A", "91410502MA0000002B", "91410526MA0000003C",
              "91410503MA0000004D")
PROV = {"src": "registration", "delivery": "20240630", "file": "f.csv", "row": 2,
        "run_id": "ingest-1"}


def _node(key: str, **props: object) -> dict:
    return {"key": key, "props": {**PROV, **props}}


def _rel(src: str, dst: str, rk: str = "", **props: object) -> dict:
    return {"src": src, "dst": dst, "rk": rk, "props": {**PROV, **props}}


def write_tiny_graph(driver, db: str) -> None:
    ents = [
        _node(A, name="甲财富管理有限公司", county="410502", scope="投资理财咨询",
              founded="2023-05-01", reg_capital_wan=10000.0, paid_capital_wan=0.0),
        _node(B, name="乙商贸有限公司", county="410502", scope="日用百货销售"),
        _node(C, name="丙养老服务有限公司", county="410526", scope="养老服务"),
        _node(D, name="丁五金店", county="410503", scope="五金销售"),
    ]
    access.merge_nodes(driver, "Enterprise", ents, database=db)
    access.merge_nodes(driver, "Person", [_node("P:boss", name="王某", region="410502"),
                                          *[_node(f"P:v{i}", name=f"投资人{i}", region="410526")
                                            for i in range(4)]], database=db)
    access.merge_nodes(driver, "PoliceClue", [{"key": "JZ-1", "props": {
        **PROV, "src": "police", "delivery": "20240701", "status": "已立案", "amount_wan": 5000,
        "investors": 300}}], database=db)
    access.merge_nodes(driver, "CourtCase", [{"key": "(2024)豫0502民初1号", "props": {
        **PROV, "src": "court", "cause": "民间借贷纠纷", "filed": "2024-03-01"}}], database=db)
    access.merge_nodes(driver, "Address", [_node("A:hub", text="某商务中心")], database=db)
    access.merge_relationships(driver, "SUBJECT_OF", "Enterprise", "PoliceClue",
                               [_rel(A, "JZ-1", role="嫌疑单位")], database=db)
    access.merge_relationships(driver, "PARTY_TO", "Enterprise", "CourtCase",
                               [_rel(A, "(2024)豫0502民初1号", "被告", role="被告")], database=db)
    access.merge_relationships(driver, "PARTY_TO", "Person", "CourtCase",
                               [_rel(f"P:v{i}", "(2024)豫0502民初1号", "原告", role="原告")
                                for i in range(4)], database=db)
    access.merge_relationships(driver, "LEGAL_REP_OF", "Person", "Enterprise",
                               [_rel("P:boss", A), _rel("P:boss", B), _rel("P:boss", C)],
                               database=db)
    access.merge_relationships(driver, "SHAREHOLDER_OF", "Person", "Enterprise",
                               [_rel("P:boss", A, ratio=0.9), _rel("P:boss", B, ratio=0.8)],
                               database=db)
    access.merge_relationships(driver, "REGISTERED_AT", "Enterprise", "Address",
                               [_rel(D, "A:hub")], database=db)


def _live(driver, db: str) -> list[dict]:
    return access.read(driver, "MATCH (r:Run {live: true}) RETURN r.run_id AS run_id, "
                       "r.status AS status", database=db)


def test_projection_lists_edges_by_type_while_reading(clean_db, neo4j_settings) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    proj = projection.project(driver, database=db)
    read = {t: sorted(zip(us, vs, map(id, ds), strict=True))
            for t, (us, vs, ds) in proj.edges_by_type().items()}
    proj.invalidate()  # the same lists from a pass over the finished graph
    again = {t: sorted(zip(us, vs, map(id, ds), strict=True))
             for t, (us, vs, ds) in proj.edges_by_type().items()}
    assert read == again and {"SHAREHOLDER_OF", "REGISTERED_AT"} <= set(read)
    assert sum(len(v) for v in read.values()) == proj.graph.number_of_edges()


def test_score_graph_end_to_end(clean_db, neo4j_settings, tmp_path: Path, monkeypatch) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    s1 = score_graph(driver, neo4j_settings, run_id="score-test-1")
    assert s1.enterprises == 4
    assert s1.seconds["cpu_score_workers"] >= 0.0  # 4 firms: no worker forked
    assert s1.seconds.get("wait_score", 0.0) >= 0.0
    assert _live(driver, db) == [{"run_id": "score-test-1", "status": "ok"}]
    recs = {r["uscc"]: r for r in access.read(
        driver, "MATCH (e:Enterprise)-[:SCORED_AS]->(s:ScoreRecord {run_id: $r}) "
        "RETURN e.uscc AS uscc, properties(s) AS p", {"r": "score-test-1"}, database=db)}
    assert set(recs) == {A, B, C, D}
    a = recs[A]["p"]
    assert a["record_id"] == f"score-test-1|{A}"
    assert a["level"] in ("red", "orange") and "police.clue" in a["reasons"]
    exp = json.loads(a["explanation"])
    sources = {i["source"] for i in exp["indicators"]}
    assert {"police", "court", "registration"} <= sources
    assert any(i["delivery"] == "20240701" for i in exp["indicators"])
    b = recs[B]["p"]
    path = json.loads(b["explanation"])["paths"][0]
    assert path["nodes"] == [A, "P:boss", B] and path["from"] == A
    assert b["score"] > recs[D]["p"]["score"]
    assert a["group_id"] and a["group_id"] == b["group_id"]
    assert a["cross_region"] is True  # plaintiffs live in 410526, C sits there
    assert a["department"] == "金融管理部门派出机构"
    assert explain.render(a, "en")[0].startswith("甲财富管理有限公司: risk score")
    gid = a["group_id"]
    ctl = access.read(driver, "MATCH (p:Person)-[c:CONTROLS]->(e:Enterprise {uscc: $u}) "
                      "RETURN p.pid AS pid, c.share AS share", {"u": A}, database=db)
    assert ctl == [{"pid": "P:boss", "share": 0.9}]

    # a crashed run leaves the previous run live
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(scoring, "compute", boom)
    with pytest.raises(Exception, match="boom"):
        score_graph(driver, neo4j_settings, run_id="score-test-2")
    monkeypatch.undo()
    assert _live(driver, db) == [{"run_id": "score-test-1", "status": "ok"}]

    # second good run: switches live, keeps the group id; nothing changed, so no record
    # is written and the first run's records are the live ones
    s3 = score_graph(driver, neo4j_settings, run_id="score-test-3")
    assert _live(driver, db) == [{"run_id": "score-test-3", "status": "ok"}]
    assert s3.records == {"written": 0, "closed": 0, "unchanged": 4}
    n = access.read(driver, "MATCH (s:ScoreRecord {uscc: $u}) RETURN count(s) AS n", {"u": A},
                    database=db)[0]["n"]
    assert n == 1
    new_a = access.read(driver, cypher.analytics_records_of(), {"run_id": "score-test-3",
                                                                "usccs": [A]},
                        database=db)[0]["props"]
    assert new_a["group_id"] == gid and new_a["record_id"] == f"score-test-1|{A}"
    assert explain.diff(a, new_a)["delta"] == 0

    out = tmp_path / "scores.csv"
    rows = export.live_records(driver, db)
    assert export.write_csv(rows, out) == 4
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(export.HEADER)
    truth = evaluate.Truth(
        [{"uscc": A, "role": "core", "scheme_id": "S1", "stage": "late", "hard_negative": "false"},
         {"uscc": B, "role": "periphery", "scheme_id": "S1", "stage": "late",
          "hard_negative": "false"},
         {"uscc": C, "role": "none", "scheme_id": "", "stage": "", "hard_negative": "false"},
         {"uscc": D, "role": "none", "scheme_id": "", "stage": "", "hard_negative": "true"}],
        [{"scheme_id": "S1", "core_uscc": A, "cross_region": "true"}])
    m = evaluate.evaluate_graph(driver, truth, db)
    assert m["k"] == 2 and m["ring_recall_at_k"] == 1.0 and m["cross_region_accuracy"] == 1.0
    assert "baseline" in m
