"""Planning the ingest's write queries ahead (ingest/warmup.py): shapes recorded from the rows
a load writes, the queries built from them, and EXPLAIN against the real test Neo4j."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import neo4j
import pytest

from graph import cypher
from ingest import warmup, writer
from ingest.build import Writes
from ingest.pipeline import ingest_inbox
from riskgraph.settings import Settings
from tests.ingest_fixtures import small_inbox


def _writes() -> Writes:
    w = Writes()
    w.node("Enterprise", "E1", {"name": "甲公司", "rec": "registration/企业"}, mode="record")
    w.node("Person", "P1", {"name": "张三"})
    w.rel("LEGAL_REP_OF", ("Person", "P1"), ("Enterprise", "E1"), {"rec": "registration/人员"})
    w.rel("HAS_PHONE", ("Enterprise", "E1"), ("Phone", "13800000000"), {"rec": None})
    return w


def test_shapes_of_writes_name_label_mode_type_endpoints_and_record() -> None:
    shapes = warmup.Shapes()
    shapes.add(_writes())
    assert shapes.nodes == {("Enterprise", "record", "str"), ("Person", "update", "str")}
    assert shapes.rels == {("LEGAL_REP_OF", "Person", "Enterprise", True, "str", "str"),
                           ("HAS_PHONE", "Enterprise", "Phone", False, "str", "str")}
    empty = warmup.Shapes()
    empty.add(Writes())
    assert not empty


def test_shapes_file_keeps_the_union_and_ignores_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "ingest-shapes.json"
    assert not warmup.load_shapes(path)  # missing
    first = warmup.Shapes()
    first.add(_writes())
    warmup.save_shapes(path, first)
    second = warmup.Shapes({("Tip", "record", "int")}, set())
    merged = warmup.save_shapes(path, second)
    assert warmup.load_shapes(path) == merged
    assert merged.nodes == first.nodes | {("Tip", "record", "int")}
    assert merged.rels == first.rels
    path.write_text("{not json", encoding="utf-8")
    assert not warmup.load_shapes(path)
    path.write_text(json.dumps({"format": 999, "nodes": [["Tip", "record", "str"]]}),
                    encoding="utf-8")
    assert not warmup.load_shapes(path)


def test_warm_queries_are_the_writers_queries_with_typed_parameters() -> None:
    shapes = warmup.Shapes({("Enterprise", "record", "str"), ("Tip", "stub", "int"),
                            ("NoSuchLabel", "record", "str")},
                           {("LEGAL_REP_OF", "Person", "Enterprise", True, "str", "str"),
                            ("LEGAL_REP_OF", "Tip", "Region", False, "str", "str")})
    queries = warmup.warm_queries(shapes)
    texts = [q for q, _ in queries]
    assert cypher.ingest_merge_nodes("Enterprise", "record") in texts
    assert cypher.ingest_merge_nodes("Tip", "stub") in texts
    assert cypher.ingest_merge_relationships("LEGAL_REP_OF", "Person", "Enterprise",
                                             True) in texts
    assert cypher.ingest_finalise_node_ids() in texts
    # undeclared shapes (a model that changed since they were recorded) are left out
    assert len(texts) == 4 + 3
    params = dict(queries)
    tip = params[cypher.ingest_merge_nodes("Tip", "stub")]
    assert tip["batch"] == {"rows": [{"key": 0, "props": {"name": "warm-up"}}]}
    assert tip["common"]


@pytest.fixture()
def settings(neo4j_settings: Settings, tmp_path: Path) -> Settings:
    return replace(neo4j_settings, home=tmp_path / "home", hash_key="test-key")


def test_a_load_records_the_shapes_of_every_query_it_writes_through(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write query a transactional load ran is among the queries the next warm-up
    plans, and each of those plans on the real server without an error."""
    ran: set[str] = set()
    single, consume = writer._tx_single, writer._tx_consume

    def tx_single(tx: Any, query: str, params: dict[str, Any]) -> dict[str, Any]:
        ran.add(query)
        return single(tx, query, params)

    def tx_consume(tx: Any, query: str, params: dict[str, Any]) -> None:
        ran.add(query)
        consume(tx, query, params)

    monkeypatch.setattr(writer, "_tx_single", tx_single)
    monkeypatch.setattr(writer, "_tx_consume", tx_consume)
    small_inbox(tmp_path / "inbox")
    report = ingest_inbox(clean_db, settings, tmp_path / "inbox", run_id="warm-1")
    assert report.ok and report.path == "transactional"
    assert report.warm_up == {}  # nothing recorded before the first load
    shapes = warmup.load_shapes(settings.ingest_shapes_file)
    planned = warmup.warm_queries(shapes)
    merges = {q for q in ran if "MERGE" in q or "pending" in q}
    assert merges and merges <= {q for q, _ in planned}
    done = warmup.warm(clean_db, settings.neo4j_database, planned)
    assert (done.planned, done.failed) == (len(planned), 0), done.errors
    # the next run plans them in the background from its start (test_loading_twice_changes
    # _nothing: the graph stays exactly as it was)
    again = ingest_inbox(clean_db, settings, tmp_path / "inbox", run_id="warm-2")
    assert again.warm_up["when"] == "run start"
    assert again.warm_up["queries"] == len(planned) and again.warm_up["failed"] == 0
    # ... and the thread is over when the run returns: the caller may close its driver
    assert not [t for t in threading.enumerate() if t.name == "ingest-warm-up" and t.is_alive()]


def test_warm_counts_errors_and_never_raises(clean_db: neo4j.Driver,
                                             settings: Settings) -> None:
    done = warmup.warm(clean_db, settings.neo4j_database,
                       [("MATCH (n) RETURN n", {}), ("THIS IS NOT CYPHER", {})])
    assert (done.planned, done.failed) == (1, 1) and done.errors
