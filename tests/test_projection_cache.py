"""The projection cache: a rescore after an increment patches the previous run's rows, and the
result equals a full read, row for row and record for record (real Neo4j, the demo city); with
it, the indicator cache re-evaluates only the enterprises the increment touched."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from analytics import pipeline, projection, projection_cache
from analytics.pipeline import score_graph
from analytics.projection_cache import RowSet, merge_rows
from graph import access, changes, cypher
from ingest import writer
from ingest.build import Writes
from ingest.pipeline import ingest_inbox
from riskgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

# --- pure parts ---------------------------------------------------------------------------


def test_merge_rows_replaces_inserts_in_id_order_and_drops() -> None:
    old = [[1, "a"], [4, "b"], [9, "c"]]
    merged = merge_rows(old, [[4, "B"], [6, "new"], [12, "last"]])
    assert merged == [[1, "a"], [4, "B"], [6, "new"], [9, "c"], [12, "last"]]
    assert merge_rows(old, [], drop=lambda r: r[0] == 9) == [[1, "a"], [4, "b"]]
    assert old == [[1, "a"], [4, "b"], [9, "c"]]  # not changed in place


def test_touched_keys_name_nodes_and_both_ends_of_relationships() -> None:
    w = Writes()
    w.node("Enterprise", "E1", {"name": "甲"}, mode="record")
    w.rel("LEGAL_REP_OF", ("Person", "P1"), ("Enterprise", "E2"), {})
    w.rel("REGISTERED_AT", ("Enterprise", "E1"), ("Address", "A1"), {})
    assert writer.touched_keys(w) == {"Enterprise": {"E1", "E2"}, "Person": {"P1"},
                                      "Address": {"A1"}}


def test_change_logs_round_trip_and_running_logs_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "changes"
    first = changes.write_log(folder, {"Enterprise": ["E2", "E1", "E1"]}, note="f1")
    changes.write_log(folder, {}, whole=["Enterprise", "HAS_PHONE"])
    logs = changes.read_logs(folder)
    assert logs is not None and [log.name for log in logs] == sorted(
        p.name for p in folder.glob("*.json"))
    assert logs[0].nodes == {"Enterprise": ["E1", "E2"]} and logs[1].whole == [
        "Enterprise", "HAS_PHONE"]
    # this process's logs are done (it is the one reading them): consumable
    assert projection_cache.consumable(logs) == [first.name, logs[1].name]
    # a log of a process still running (an ingest beside the scoring run) is kept
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        other = changes.ChangeLog("x.json", child.pid, {}, [])
        assert other.running and projection_cache.consumable([other]) == []
    finally:
        child.kill()
        child.wait()
    assert not changes.ChangeLog("x.json", child.pid, {}, []).running
    # an unreadable log: the caller reads the whole graph
    (folder / "99999999999999999999-1-000000.json").write_text("{", encoding="utf-8")
    assert changes.read_logs(folder) is None


def test_a_cache_of_other_projected_properties_is_not_loaded(tmp_path: Path,
                                                             monkeypatch) -> None:
    path = tmp_path / "projection.pkl"
    rows = RowSet({"Enterprise": [[1, "E1", "甲"], [4, "E2", "乙"]], "Person": [[2, "P1"]]},
                  {"LEGAL_REP_OF": [[9, 2, 1, None]]})
    projection_cache.save(path, projection_cache.Cached(projection_cache.fingerprint(), "s",
                                                        "r", ["log-1"], rows))
    got = projection_cache.load(path)
    assert got is not None and (got.rows.nodes, got.rows.rels) == (rows.nodes, rows.rels)
    assert (got.store_id, got.run_id, got.consumed) == ("s", "r", ["log-1"])
    # written chunk by chunk as a full read hands them over: the lists are joined
    writer = projection_cache.RowWriter(tmp_path / "chunks.pkl", got)
    writer.add("node", "Enterprise", [[1, "E1", "甲"]])
    writer.add("node", "Enterprise", [[4, "E2", "乙"]])
    writer.close()
    chunked = projection_cache.load(tmp_path / "chunks.pkl")
    assert chunked is not None and chunked.rows.nodes == {"Enterprise": rows.nodes["Enterprise"]}
    monkeypatch.setitem(projection.KEEP_PROPS, "Phone", ("raw",))
    assert projection_cache._stale_reason(got, "s", "r") == "projected properties changed"
    whole = path.read_bytes()
    path.write_bytes(whole[:-8])  # cut short: not a cache
    assert projection_cache.load(path) is None
    # the header alone still reads (a run decides from it and starts re-reading what
    # changed), the rows do not
    opened = projection_cache.open_cache(path)
    assert opened is not None and opened[0].run_id == "r"
    with opened[1] as fh:
        assert projection_cache.read_rows(fh) is None
    path.write_bytes(b"not a pickle")
    assert projection_cache.load(path) is None


# --- against Neo4j ------------------------------------------------------------------------



@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("demo-cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    env.update(RISKGRAPH_HOME=str(out / "home"), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "riskgraph.cli", "demo", "generate", "--out",
                    str(out), "--scale", "0.03", "--seed", "5"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=900)
    dates = sorted(p for p in (out / "inbox").iterdir() if p.is_dir())
    assert len(dates) >= 2
    return dates


def _rows_of_full_read(driver, db: str) -> tuple[RowSet, projection.Projection]:
    rows = RowSet()
    return rows, projection.project(driver, database=db, rows=rows)


def _same_projection(a: projection.Projection, b: projection.Projection) -> None:
    assert a.keys == b.keys and a.labels == b.labels
    assert list(a.graph.nodes(data=True)) == list(b.graph.nodes(data=True))
    assert list(a.graph.edges(keys=True, data=True)) == list(b.graph.edges(keys=True, data=True))


def _records(trace: dict) -> list[dict]:
    return [r.props("-") for r in trace["result"].records]


def _first_delivery(driver, neo4j_settings, tmp_path: Path, deliveries: list[Path]
                    ) -> tuple[Settings, Path]:
    """A home and inbox of this test, with the first delivery loaded transactionally."""
    settings = replace(neo4j_settings, home=tmp_path / "home", bulk_load="off")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / deliveries[0].name).symlink_to(deliveries[0], target_is_directory=True)
    ingest_inbox(driver, settings, inbox)
    return settings, inbox


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_rescore_after_an_increment_patches_the_cache_and_equals_a_full_read(
        clean_db, neo4j_settings, tmp_path: Path, deliveries: list[Path]) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    settings, inbox = _first_delivery(driver, neo4j_settings, tmp_path, deliveries)
    assert changes.read_logs(settings.changes_dir), "a transactional load logs its changes"
    first = score_graph(driver, settings)
    assert first.projection["source"] == "full"
    assert settings.projection_cache_file.is_file()
    assert changes.read_logs(settings.changes_dir) == [], "folded-in logs are removed"

    for d in deliveries[1:]:
        (inbox / d.name).symlink_to(d, target_is_directory=True)
    ingest_inbox(driver, settings, inbox)
    trace: dict = {}
    second = score_graph(driver, settings, trace=trace)
    assert second.projection["source"] == "cache", second.projection["source_why"]
    assert "re-read" in second.projection["source_why"]
    # only the enterprises the increment touched were evaluated again
    assert first.indicators["reused"] == 0
    assert second.indicators["reused"] > second.indicators["evaluated"] > 0

    # the patched rows and projection are those of a full read, in the same order
    cached = projection_cache.load(settings.projection_cache_file)
    assert cached is not None and cached.run_id == second.run_id
    assert not list(settings.projection_cache_file.parent.glob("*.staged"))
    rows, full = _rows_of_full_read(driver, db)
    assert cached.rows.nodes == {k: v for k, v in rows.nodes.items() if v}
    assert cached.rows.rels == {k: v for k, v in rows.rels.items() if v}
    _same_projection(trace["projection"], full)
    # edge counts per type, as listed while building, are those of the adjacency
    assert full.stats["types"] == projection.projection_stats(full)["types"]

    # and scoring on it gives the records a full read gives
    again: dict = {}
    third = score_graph(driver, replace(settings, projection_cache=False), trace=again)
    assert third.projection["source"] == "full"
    assert third.indicators == {"evaluated": second.enterprises, "reused": 0}
    assert _records(again) == _records(trace)
    # the record digests the live run left beside the graph are those in the graph
    assert second.projection["digests_cached"] and third.projection["digests_cached"]
    assert third.records["written"] == 0
    assert pipeline.load_digests(pipeline.digests_file(settings), third.run_id) == \
        pipeline.current_digests(driver, db)
    assert pipeline.load_digests(pipeline.digests_file(settings), second.run_id) is None
    _files_match_the_graph(driver, db, settings, third.run_id, _records(again))


def _files_match_the_graph(driver, db: str, settings: Settings, run_id: str,
                           records: list[dict]) -> None:
    """What the live run left beside the graph (groups, controls, digests) is what the
    graph holds, and the scores cached on the Enterprise nodes are the live records'."""
    store = projection_cache.store_id(driver, db)
    links = pipeline.load_link_state(pipeline.links_file(settings), run_id, store)
    groups, controls, from_file = pipeline.prior_state(driver, links, db)
    assert from_file and groups == {g: m for g, m in pipeline.previous_groups(driver, db).items()
                                    if m}
    assert controls == pipeline.current_controls(driver, db)
    live = {r["uscc"]: (r["score"], r["level"]) for r in access.read(
        driver, cypher.analytics_live_records(), {"run_id": run_id}, database=db)}
    assert pipeline.cached_scores(driver, db) == live
    # the live records say what scoring computed, their scores within the tolerance
    assert set(live) == {r["uscc"] for r in records}
    for r in records:
        assert live[r["uscc"]][1] == r["level"]
        assert abs(live[r["uscc"]][0] - r["score"]) < settings.score_tolerance
    # files of another store are not trusted
    assert pipeline.load_link_state(pipeline.links_file(settings), run_id, "other") is None
    assert pipeline.load_digests(pipeline.digests_file(settings), run_id, "other") is None


def _enforce_a_case(driver, db: str, settings) -> str:
    """Through the ingest writer (change log and all): a court case in which an enterprise is
    defendant turns into terminated enforcement; only the case node changes."""
    case, uscc = access.read(driver, (
        "MATCH (e:Enterprise)-[r:PARTY_TO]->(c:CourtCase) WHERE r.role = '被告' "
        "AND NOT coalesce(c.status, '') CONTAINS '执行' "
        "RETURN c.case_no AS case, e.uscc AS uscc ORDER BY c.case_no LIMIT 1"),
        database=db)[0].values()
    w = Writes()
    w.node("CourtCase", case, {"status": "终结本次执行"})

    def log(ws: Writes) -> None:
        changes.write_log(settings.changes_dir, writer.touched_keys(ws))

    writer.write(driver, w, "L:test-enforce", database=db, before_write=log)
    return str(uscc)


@pytest.fixture()
def scored_once(clean_db, neo4j_settings, tmp_path: Path, deliveries: list[Path]
                ) -> tuple[object, str, Settings]:
    """(driver, database, settings) after the first delivery was loaded and scored."""
    settings, _ = _first_delivery(clean_db, neo4j_settings, tmp_path, deliveries)
    score_graph(clean_db, settings)
    return clean_db, neo4j_settings.neo4j_database, settings


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_changed_fact_node_re_evaluates_the_enterprises_it_belongs_to(scored_once) -> None:
    driver, db, settings = scored_once
    uscc = _enforce_a_case(driver, db, settings)
    trace: dict = {}
    patched = score_graph(driver, settings, trace=trace)
    assert patched.projection["source"] == "cache"
    assert 0 < patched.indicators["evaluated"] < patched.enterprises
    reasons = {r.uscc: r.reasons for r in trace["result"].records}
    assert "court.enforcement" in reasons[uscc]
    full: dict = {}
    score_graph(driver, replace(settings, projection_cache=False), trace=full)
    assert _records(full) == _records(trace)


@pytest.mark.neo4j
@pytest.mark.slow
def test_the_cache_is_not_used_when_the_graph_changed_behind_it(scored_once,
                                                               tmp_path: Path) -> None:
    driver, db, settings = scored_once
    # a node written without a change log: the counts check catches it
    access.merge_nodes(driver, "Phone", [{"key": "13800000000", "props": {"raw": "x"}}],
                       database=db)
    summary = score_graph(driver, settings)
    assert summary.projection["source"] == "full"
    assert summary.projection["source_why"] == "row counts differ from the graph"
    # a full snapshot (a log naming a whole label): a full read
    changes.write_log(settings.changes_dir, {}, whole=["Enterprise"])
    summary = score_graph(driver, settings)
    assert summary.projection["source_why"] == "a full snapshot was loaded"
    # the live run moved on without this cache (e.g. a restore): a full read
    score_graph(driver, replace(settings, home=tmp_path / "other-home"))
    assert score_graph(driver, settings).projection["source_why"] == \
        "the live run is not the cache's"


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_cache_whose_rows_are_cut_short_gives_a_full_read(scored_once) -> None:
    driver, db, settings = scored_once
    uscc = _enforce_a_case(driver, db, settings)  # something to re-read from the logs
    path = settings.projection_cache_file
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # the header is intact, the rows are not
    trace: dict = {}
    summary = score_graph(driver, settings, trace=trace)
    assert summary.projection["source"] == "full"
    assert summary.projection["source_why"] == "cache unreadable"
    assert "court.enforcement" in {r.uscc: r.reasons for r in trace["result"].records}[uscc]
    # the run left a whole cache again: the next rescore patches it
    assert score_graph(driver, settings).projection["source"] == "cache"

