"""The ingest writer's batch payload: shared properties sent once per batch (``$common``) must
give exactly the graph the per-row properties give, and re-writing changes nothing."""

from __future__ import annotations

from typing import Any

import neo4j

from graph import access, schema
from ingest import writer
from ingest.build import Writes
from riskgraph.settings import Settings


def test_factor_common_keeps_only_identical_scalars() -> None:
    rows: list[dict[str, Any]] = [
        {"src": "tax", "row": 2, "n": 1, "ended": None, "tags": ["a"]},
        {"src": "tax", "row": 3, "n": 1.0, "ended": None, "tags": ["a"]},
        {"src": "tax", "row": 4, "n": 1, "ended": None, "tags": ["a"]},
    ]
    common, rest = writer.factor_common(rows)
    assert common == {"src": "tax", "ended": None}  # 1 and 1.0 differ in type: kept per row
    assert [{**common, **r} for r in rest] == rows
    assert all("src" not in r and "row" in r and "n" in r for r in rest)
    partial: list[dict[str, Any]] = [{"a": 1, "b": 2}, {"b": 2}]
    common, rest = writer.factor_common(partial)
    assert common == {"b": 2} and rest == [{"a": 1}, {}]
    assert writer.factor_common([]) == ({}, [])


def _props(driver: neo4j.Driver, settings: Settings, query: str) -> dict[Any, dict[str, Any]]:
    rows = access.read(driver, query, database=settings.neo4j_database)
    return {r["k"]: r["p"] for r in rows}


def test_write_with_shared_props_matches_rows_and_is_idempotent(
        clean_db: neo4j.Driver, neo4j_settings: Settings) -> None:
    schema.apply_schema(clean_db, neo4j_settings.neo4j_database)
    prov = {"src": "registration", "delivery": "20260101", "file": "f.csv", "run_id": "r1"}
    w = Writes()
    expected: dict[str, dict[str, Any]] = {}
    for i in range(7):
        key = f"P:test{i}"
        props = {"name": f"人{i}", "row": i + 2, "confidence": 1.0 if i % 3 else 0.5, **prov}
        if i == 5:
            props["src"] = "tax"  # one row differs in a mostly shared key
        w.node("Person", key, props)
        expected[key] = props
        w.rel("IN_REGION", ("Person", key), ("Region", "410502"),
              {"rule": "id_prefix", "evidence": "410502", "row": i + 2, **prov})
    written = writer.write(clean_db, w, "L:test", batch_size=3,
                           database=neo4j_settings.neo4j_database, known_regions=set())
    writer.finalise_keys(clean_db, "L:test", written, neo4j_settings.neo4j_database, 3)
    assert written.counts["Person"] == 7 and written.counts["IN_REGION"] == 7
    got = _props(clean_db, neo4j_settings,
                 "MATCH (p:Person) RETURN p.pid AS k, properties(p) AS p")
    assert {k: {x: v for x, v in p.items() if x != "pid"} for k, p in got.items()} == expected
    rels = _props(clean_db, neo4j_settings, "MATCH (p:Person)-[r:IN_REGION]->(:Region) "
                  "RETURN p.pid AS k, properties(r) AS p")
    assert rels["P:test4"] == {"rule": "id_prefix", "evidence": "410502", "row": 6, "rk": "",
                               **prov}
    before = _props(clean_db, neo4j_settings,
                    "MATCH (n) RETURN elementId(n) AS k, properties(n) AS p")
    again = Writes()
    again.merge(w)
    writer.write(clean_db, again, "L:test2", batch_size=4,
                 database=neo4j_settings.neo4j_database, known_regions=set())
    after = _props(clean_db, neo4j_settings,
                   "MATCH (n) RETURN elementId(n) AS k, properties(n) AS p")
    assert after == before  # nothing new, nothing pending, same properties


def test_region_rows_come_in_one_order_whatever_the_input_order() -> None:
    from ingest.build import region_rows

    codes = ["410526", "410502", "410522", "410503"]
    rows = region_rows(codes)
    assert list(region_rows(reversed(codes))) == list(rows)  # so the bulk CSV is stable
    assert {"410502", "410503", "410500", "410000"} <= set(rows)


def test_finalise_clears_exactly_what_this_load_left_pending(
        clean_db: neo4j.Driver, neo4j_settings: Settings) -> None:
    """The write batches report what they created (or found pending under their own load id)
    by internal id, over several labels, relationship types and batches; finalising clears
    those and nothing another load left pending."""
    schema.apply_schema(clean_db, neo4j_settings.neo4j_database)
    db = neo4j_settings.neo4j_database
    access.write(clean_db, "CREATE (:Person {pid: 'P:other', pending: 'L:other'})"
                 "-[:IN_REGION {rk: '', pending: 'L:other'}]->"
                 "(:Region {code: '410502', pending: 'L:other'})", database=db)
    w = Writes()
    for i in range(5):
        w.node("Person", f"P:f{i}", {"name": f"人{i}"})
        w.rel("IN_REGION", ("Person", f"P:f{i}"), ("Region", "410502"), {"rule": "id_prefix"})
        w.node("Phone", f"1380000000{i}", {"src": "test"})
    w.node("Person", "P:other", {"name": "旧"})  # exists, pending under another load
    written = writer.write(clean_db, w, "L:mine", batch_size=2, database=db,
                           known_regions={"410502"})
    assert sorted(map(len, written.pending_nodes.values())) == [5, 5]
    assert sum(map(len, written.pending_rels.values())) == 5
    mine = "MATCH (n) WHERE n.pending = 'L:mine' RETURN count(n) AS n"
    mine_r = "MATCH ()-[r]->() WHERE r.pending = 'L:mine' RETURN count(r) AS n"
    assert access.read(clean_db, mine, database=db)[0]["n"] == 10
    assert access.read(clean_db, mine_r, database=db)[0]["n"] == 5
    writer.finalise_keys(clean_db, "L:mine", written, db, batch_size=3)
    assert access.read(clean_db, mine, database=db)[0]["n"] == 0
    assert access.read(clean_db, mine_r, database=db)[0]["n"] == 0
    other = access.read(clean_db, "MATCH (n) WHERE n.pending = 'L:other' RETURN count(n) AS n "
                        "UNION ALL MATCH ()-[r]->() WHERE r.pending = 'L:other' "
                        "RETURN count(r) AS n", database=db)
    assert [r["n"] for r in other] == [2, 1]
    writer.finalise_keys(clean_db, "L:mine", written, db)  # again: nothing left, no error
