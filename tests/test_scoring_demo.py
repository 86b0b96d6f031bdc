"""Integration: the demo city ingested and scored against the real Neo4j; every explanation
names nodes that exist in the graph and evidence of the sources and deliveries loaded."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import neo4j
import pytest

from analytics import indicators as ind
from analytics.pipeline import score_graph
from demo.generate import generate
from graph import access, cypher
from graph.model import key_of
from ingest.pipeline import ingest_inbox
from riskgraph.settings import Settings

pytestmark = pytest.mark.neo4j


@pytest.fixture()
def settings(neo4j_settings: Settings, tmp_path: Path) -> Settings:
    return replace(neo4j_settings, home=tmp_path / "home", hash_key="test-key")


def _records(driver: neo4j.Driver, db: str | None) -> list[dict]:
    rows = access.read(driver, "MATCH (r:Run {live: true}) WITH r.seq AS seq "
                       f"MATCH (s:ScoreRecord) WHERE {cypher.valid_at()} "
                       "RETURN properties(s) AS p", database=db)
    return [r["p"] for r in rows]


def _existing(driver: neo4j.Driver, db: str | None, label: str, keys: set[str]) -> set[str]:
    prop = key_of(label)
    rows = access.read(driver, f"MATCH (n:{label}) WHERE n.{prop} IN $keys "
                       f"RETURN n.{prop} AS k", {"keys": sorted(keys)}, database=db)
    return {r["k"] for r in rows}


def test_demo_city_explanations_name_real_nodes_and_sources(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    db = settings.neo4j_database
    city = tmp_path / "city"
    generate(city, "410500", 0.1, 47)
    report = ingest_inbox(clean_db, settings, city / "inbox", run_id="ingest-demo")
    assert report.files
    score_graph(clean_db, settings, run_id="score-demo")
    records = _records(clean_db, db)
    n_ents = access.read(clean_db, "MATCH (e:Enterprise) RETURN count(e) AS n",
                         database=db)[0]["n"]
    assert len(records) == n_ents > 1000
    deliveries = {p.name for p in (city / "inbox").iterdir() if p.is_dir()}
    sources = {i.source for i in ind.INDICATORS}
    named: dict[str, set[str]] = {}
    n_paths = 0
    for rec in records:
        exp = json.loads(rec["explanation"])
        for hit in exp["indicators"]:
            assert hit["id"] in ind.INDICATOR_BY_ID
            assert hit["source"] == ind.INDICATOR_BY_ID[hit["id"]].source in sources
            assert hit["delivery"] in deliveries, (rec["uscc"], hit)
        assert [h["id"] for h in exp["indicators"]] == [r for r in rec["reasons"]
                                                        if not r.startswith("linked.")]
        for path in exp["paths"]:
            n_paths += 1
            assert path["nodes"][0] == path["from"] and path["nodes"][-1] == rec["uscc"]
            assert len(path["nodes"]) == len(path["labels"]) == len(path["rels"]) + 1
            for label, key in zip(path["labels"], path["nodes"], strict=True):
                named.setdefault(label, set()).add(key)
    assert n_paths > 0
    for label, keys in named.items():
        assert _existing(clean_db, db, label, keys) == keys, label
    # the red and orange firms carry reasons and a rendered explanation
    high = [r for r in records if r["level"] in ("red", "orange")]
    assert high and all(r["reasons"] for r in high)
    # the demo's private-fund partnerships are run by their manager firm, not by a "person"
    # named after it
    runs = access.read(clean_db, "MATCH (g:Enterprise)-[:MANAGING_PARTNER_OF]->(e:Enterprise) "
                       "RETURN count(*) AS n", database=db)[0]["n"]
    fake = access.read(clean_db, "MATCH (p:Person) WHERE p.name CONTAINS '委派代表' "
                       "RETURN count(p) AS n", database=db)[0]["n"]
    assert runs > 0 and fake == 0
