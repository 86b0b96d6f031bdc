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
from analytics.projection_cache import Cached, Fetched, Overlay, RowSet, merge_rows
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
    # a restore forgets the cache, its overlay and staged files, and the logs
    cache = tmp_path / "cache" / "projection.pkl"
    cache.parent.mkdir()
    keep = cache.parent / "hits.pkl"
    for f in (cache, projection_cache.overlay_path(cache),
              projection_cache.staged_path(cache, "r"), keep):
        f.write_bytes(b"x")
    changes.forget(cache, folder)
    assert list(cache.parent.iterdir()) == [keep] and not list(folder.glob("*.json"))


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


def _rowset() -> RowSet:
    return RowSet(
        nodes={"Enterprise": [[1, "E1", "a"], [2, "E2", "b"], [3, "E3", "c"]],
               "Person": [[10, "P1"], [11, "P2"]]},
        rels={"LEGAL_REP_OF": [[100, 10, 1], [101, 11, 2], [102, 11, 3]],
              "BRANCH_OF": [[200, 2, 1]]})


def _copy(rows: RowSet) -> RowSet:
    return RowSet({k: [list(r) for r in v] for k, v in rows.nodes.items()},
                  {k: [list(r) for r in v] for k, v in rows.rels.items()})


def test_a_combined_overlay_applies_like_its_patches_in_turn() -> None:
    # patch 1: E2 changed (its relationships re-read); patch 2: P2 changed and E4 is new,
    # linked to P2; the relationship 101 (P2 -> E2) read by patch 1 is read again by patch 2
    first = Fetched(nodes={"Enterprise": [[2, "E2", "b1"]]}, ids={2},
                    rels={"LEGAL_REP_OF": {101: [101, 11, 2, "x"]},
                          "BRANCH_OF": {200: [200, 2, 1, "y"]}})
    then = Fetched(nodes={"Person": [[11, "P2*"]], "Enterprise": [[4, "E4", "d"]]},
                   ids={11, 4},
                   rels={"LEGAL_REP_OF": {101: [101, 11, 2, "x2"], 102: [102, 11, 3],
                                          103: [103, 11, 4]}})
    in_turn = _rowset()
    projection_cache.apply(in_turn, first)
    projection_cache.apply(in_turn, then)
    at_once = _rowset()
    projection_cache.apply(at_once, projection_cache.combine(first, then))
    assert at_once == in_turn
    assert at_once.nodes["Enterprise"] == [[1, "E1", "a"], [2, "E2", "b1"], [3, "E3", "c"],
                                           [4, "E4", "d"]]
    assert at_once.rels["LEGAL_REP_OF"] == [[100, 10, 1], [101, 11, 2, "x2"], [102, 11, 3],
                                            [103, 11, 4]]
    assert at_once.rels["BRANCH_OF"] == [[200, 2, 1, "y"]]
    # combining in the other order is not the same (the later patch wins)
    other = _rowset()
    projection_cache.apply(other, projection_cache.combine(then, first))
    assert other != in_turn


def test_an_overlay_is_used_only_on_its_base_and_a_whole_commit_ends_it(tmp_path: Path) -> None:
    path = tmp_path / "projection.pkl"
    fp = projection_cache.fingerprint()
    projection_cache.save(path, Cached(fp, "store", "run-1", ["log-1"], _rowset()))
    fetched = Fetched(nodes={"Enterprise": [[2, "E2", "b1"]]}, ids={2},
                      rels={"LEGAL_REP_OF": {101: [101, 11, 2, "x"]}})
    staged = projection_cache.staged_path(projection_cache.overlay_path(path), "run-2")
    projection_cache.save_overlay(staged, Overlay(Cached(fp, "store", "run-2",
                                                         ["log-2"], RowSet()), "run-1",
                                                  fetched))
    assert projection_cache.is_overlay(staged, path)
    changes_dir = tmp_path / "changes"
    changes_dir.mkdir()
    projection_cache.commit(staged, path, changes_dir, [])
    base_bytes = path.read_bytes()
    current = projection_cache.load_current(path)
    assert current is not None and current.run_id == "run-2" and current.consumed == ["log-2"]
    expected = _rowset()
    projection_cache.apply(expected, fetched)
    assert current.rows == expected
    assert path.read_bytes() == base_bytes, "the base file is not written again"
    # the base file replaced by another run's whole rows: the overlay is not applied to it
    projection_cache.save(path, Cached(fp, "store", "run-3", [], _rowset()))
    current = projection_cache.load_current(path)
    assert current is not None and current.run_id == "run-3" and current.rows == _rowset()
    # a whole commit removes the overlay
    staged = projection_cache.staged_path(path, "run-4")
    projection_cache.save(staged, Cached(fp, "store", "run-4", [], _rowset()))
    assert not projection_cache.is_overlay(staged, path)
    projection_cache.commit(staged, path, changes_dir, [])
    assert not projection_cache.overlay_path(path).exists()
    # an overlay cut short is no overlay
    projection_cache.save_overlay(projection_cache.overlay_path(path),
                                  Overlay(Cached(fp, "store", "run-5", [], RowSet()), "run-4",
                                          fetched))
    whole = projection_cache.overlay_path(path).read_bytes()
    projection_cache.overlay_path(path).write_bytes(whole[:-10])
    current = projection_cache.load_current(path)
    assert current is not None and current.run_id == "run-4"


def test_a_small_patch_stages_an_overlay_a_large_one_the_whole_rows(tmp_path: Path,
                                                                  monkeypatch) -> None:
    path = tmp_path / "projection.pkl"
    rows = _rowset()  # 9 rows
    cached = Cached(projection_cache.fingerprint(), "store", "run-2", [], rows)
    small = Fetched(nodes={"Person": [[11, "P2"]]}, ids={11})
    monkeypatch.setattr(projection_cache, "OVERLAY_MAX_SHARE", 0.2)  # up to 1.8 rows
    staged = projection_cache.stage_patched(path, "run-2", cached, "run-1", small)
    assert projection_cache.is_overlay(staged, path)
    large = Fetched(nodes={"Person": [[10, "P1"], [11, "P2"]]}, ids={10, 11})
    staged = projection_cache.stage_patched(path, "run-2", cached, "run-1", large)
    assert not projection_cache.is_overlay(staged, path)
    loaded = projection_cache.load(staged)
    assert loaded is not None and loaded.rows == rows and loaded.run_id == "run-2"


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
    cached = projection_cache.load_current(settings.projection_cache_file)
    assert cached is not None and cached.run_id == second.run_id
    # the patched run staged only what it re-read, on the first run's whole rows
    base = projection_cache.load(settings.projection_cache_file)
    assert base is not None and base.run_id == first.run_id
    assert second.projection["cache_overlay"]["staged"] > 0
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
    _write_logged(driver, db, settings, "CourtCase", case, {"status": "终结本次执行"})
    return str(uscc)


def _write_logged(driver, db: str, settings, label: str, key: str, props: dict) -> None:
    """Write one node's properties through the ingest writer, with its change log."""
    w = Writes()
    w.node(label, key, props)

    def log(ws: Writes) -> None:
        changes.write_log(settings.changes_dir, writer.touched_keys(ws))

    writer.write(driver, w, f"L:test-{label}", database=db, before_write=log)


@pytest.fixture()
def scored_once(clean_db, neo4j_settings, tmp_path: Path, deliveries: list[Path]
                ) -> tuple[object, str, Settings]:
    """(driver, database, settings) after the first delivery was loaded and scored."""
    settings, _ = _first_delivery(clean_db, neo4j_settings, tmp_path, deliveries)
    score_graph(clean_db, settings)
    return clean_db, neo4j_settings.neo4j_database, settings


def _assert_re_evaluated(driver, settings, patched, trace: dict, uscc: str, reason: str
                         ) -> None:
    """A patched run re-evaluated some enterprises, not all; ``uscc`` now has ``reason``;
    and its records equal those of a full read of the same graph."""
    assert 0 < patched.indicators["evaluated"] < patched.enterprises
    reasons = {r.uscc: r.reasons for r in trace["result"].records}
    assert reason in reasons[uscc]
    full: dict = {}
    score_graph(driver, replace(settings, projection_cache=False), trace=full)
    assert _records(full) == _records(trace)


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_changed_fact_node_re_evaluates_the_enterprises_it_belongs_to(scored_once) -> None:
    driver, db, settings = scored_once
    uscc = _enforce_a_case(driver, db, settings)
    trace: dict = {}
    patched = score_graph(driver, settings, trace=trace)
    assert patched.projection["source"] == "cache"
    _assert_re_evaluated(driver, settings, patched, trace, uscc, "court.enforcement")


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



@pytest.mark.neo4j
@pytest.mark.slow
def test_patched_runs_in_a_row_stack_overlays_and_equal_a_full_read(scored_once,
                                                                    monkeypatch) -> None:
    driver, db, settings = scored_once
    path = settings.projection_cache_file
    base_run = projection_cache.load(path).run_id  # type: ignore[union-attr]
    base_bytes = path.read_bytes()
    _enforce_a_case(driver, db, settings)
    second = score_graph(driver, settings)
    assert second.projection["cache_overlay"] == {
        "applied": 0, "staged": second.projection["cache_overlay"]["staged"]}
    uscc = _enforce_a_case(driver, db, settings)
    trace: dict = {}
    third = score_graph(driver, settings, trace=trace)
    assert third.projection["source"] == "cache", third.projection["source_why"]
    # the third run applied the second's overlay and staged both patches on the same base
    assert third.projection["cache_overlay"]["applied"] == \
        second.projection["cache_overlay"]["staged"]
    assert third.projection["cache_overlay"]["staged"] > \
        second.projection["cache_overlay"]["staged"]
    assert path.read_bytes() == base_bytes
    current = projection_cache.load_current(path)
    assert current is not None and current.run_id == third.run_id
    rows, full = _rows_of_full_read(driver, db)
    assert current.rows.nodes == {k: v for k, v in rows.nodes.items() if v}
    assert current.rows.rels == {k: v for k, v in rows.rels.items() if v}
    _same_projection(trace["projection"], full)
    assert "court.enforcement" in {r.uscc: r.reasons for r in trace["result"].records}[uscc]
    # once an overlay would exceed its share, the run writes the whole rows again
    monkeypatch.setattr(projection_cache, "OVERLAY_MAX_SHARE", 0.0)
    _enforce_a_case(driver, db, settings)
    fourth = score_graph(driver, settings)
    assert fourth.projection["source"] == "cache"
    assert fourth.projection["cache_overlay"]["staged"] == 0
    assert not projection_cache.overlay_path(path).exists()
    whole = projection_cache.load(path)
    assert whole is not None and whole.run_id == fourth.run_id != base_run
    rows, _ = _rows_of_full_read(driver, db)
    assert whole.rows.nodes == {k: v for k, v in rows.nodes.items() if v}
    assert whole.rows.rels == {k: v for k, v in rows.rels.items() if v}
    assert not list(path.parent.glob("*.staged"))


def test_a_folded_label_is_reached_only_by_its_folding_type() -> None:
    """Folded fact nodes are not graph nodes: a projected relationship type that reached one
    any other way (a new type in graph.model) would be dropped silently by the build. This
    fails first, so the type gets folded too or the label stops being folded."""
    folded = projection.FOLDED_LABELS
    reaching = {(t, s, d) for t in projection.REL_TYPES
                for s, d in projection.declared_pairs(t) if s in folded or d in folded}
    assert reaching == {(t, "Enterprise", lab) for t, lab in projection.FOLDED_TYPES.items()}


def _unfolded(monkeypatch) -> None:
    """Project fact nodes as graph nodes again (the projection before folding)."""
    monkeypatch.setattr(projection, "FOLDED_TYPES", {})
    monkeypatch.setattr(projection, "FOLDED_LABELS", frozenset())


@pytest.mark.neo4j
@pytest.mark.slow
def test_folded_facts_score_as_fact_nodes_did(scored_once, monkeypatch) -> None:
    from analytics import facts, scoring

    driver, db, settings = scored_once
    rows, folded = _rows_of_full_read(driver, db)
    chunks = list(rows.chunks(projection.NODE_LABELS, projection.REL_TYPES))
    with monkeypatch.context() as m:
        _unfolded(m)
        plain = projection.build(chunks)
    # the fact nodes and their relationships are not in the folded graph, but held by their
    # enterprises, one per relationship
    fact_labels = set(projection.FOLDED_LABELS)
    assert fact_labels <= set(plain.labels) and not fact_labels & set(folded.labels)
    n_facts = sum(len(v) for v in folded.facts.values())
    assert n_facts == sum(plain.stats["types"].get(t, 0) for t in projection.FOLDED_TYPES) > 0
    assert folded.stats["folded"] == {t: plain.stats["types"][t]
                                      for t in projection.FOLDED_TYPES
                                      if plain.stats["types"].get(t)}
    assert folded.graph.number_of_nodes() == plain.graph.number_of_nodes() - sum(
        1 for lab in plain.labels if lab in fact_labels)
    # every enterprise's facts are those the fact nodes gave, in the same order
    def bundles(p: projection.Projection) -> dict[str, dict]:
        return {f.uscc: {k: [{a: b for a, b in x.items() if a != "_node"} for x in v]
                         for k, v in f.by_kind.items()} for f in facts.gather(p)}
    assert bundles(folded) == bundles(plain)
    assert facts.as_of_date(folded) == facts.as_of_date(plain)
    # and the scores and explanations are the same
    got = scoring.compute(folded, settings)
    want = scoring.compute(plain, settings)
    assert [r.props("-") for r in got.records] == [r.props("-") for r in want.records]
    assert any("tax." in ",".join(r.reasons) for r in got.records)


def _abnormal_tax_year(driver, db: str, settings) -> tuple[str, str]:
    """Through the ingest writer (change log and all): the latest tax year of an enterprise
    without a tax hit turns into an abnormal taxpayer's; only the TaxYear node changes."""
    key, uscc = access.read(driver, (
        "MATCH (e:Enterprise)-[:FILED_TAX]->(t:TaxYear) WITH e, t ORDER BY t.year DESC "
        "WITH e, collect(t) AS years WITH e, years[0] AS t "
        "WHERE NOT coalesce(t.tax_status, '') CONTAINS '非正常' "
        "RETURN t.tax_id AS key, e.uscc AS uscc ORDER BY uscc LIMIT 1"), database=db)[0].values()
    _write_logged(driver, db, settings, "TaxYear", key, {"tax_status": "非正常户"})
    return str(key), str(uscc)


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_changed_folded_fact_re_evaluates_its_enterprise(scored_once) -> None:
    from analytics import facts

    driver, db, settings = scored_once
    key, uscc = _abnormal_tax_year(driver, db, settings)
    trace: dict = {}
    patched = score_graph(driver, settings, trace=trace)
    assert patched.projection["source"] == "cache"
    proj = trace["projection"]
    owner = proj.node_id("Enterprise", uscc)
    assert facts.fact_owners(proj, {"TaxYear": [key]}) == {owner}
    assert facts.fact_owners(proj, {"TaxYear": ["no such key"], "Change": []}) == set()
    _assert_re_evaluated(driver, settings, patched, trace, uscc, "tax.abnormal")
