"""Versioned ScoreRecords (real Neo4j): a run writes a record only for an enterprise whose
record changed, readers see the records valid at the live run, and what a run that never
went live wrote is undone by the next one."""

from __future__ import annotations

import pytest

from analytics import pipeline
from analytics.pipeline import score_graph
from graph import access, cypher
from graph.schema import apply_schema
from riskgraph import runs
from riskgraph.errors import RiskgraphError
from tests.test_scoring_neo4j import PROV, A, B, C, D, write_tiny_graph

pytestmark = pytest.mark.neo4j


def _scores_at(driver, db: str, run_id: str) -> dict[str, float]:
    """USCC → score of the records valid at ``run_id`` (the export's reader)."""
    return {r["uscc"]: r["score"] for r in access.read(
        driver, cypher.analytics_live_records(), {"run_id": run_id}, database=db)}


def _versions(driver, db: str, uscc: str) -> list[dict]:
    return access.read(driver, "MATCH (s:ScoreRecord {uscc: $u}) RETURN s.run_id AS run_id, "
                       "s.from_seq AS f, s.to_seq AS t, s.score AS score ORDER BY f",
                       {"u": uscc}, database=db)


def _seq(driver, db: str, run_id: str) -> int:
    return access.read(driver, "MATCH (r:Run {run_id: $r}) RETURN r.seq AS seq",
                       {"r": run_id}, database=db)[0]["seq"]


def _live_id(driver, db: str) -> list[str]:
    return [r["run_id"] for r in access.read(
        driver, "MATCH (r:Run {live: true}) RETURN r.run_id AS run_id", database=db)]


def _add_police_clue(driver, db: str, uscc: str) -> None:
    access.merge_nodes(driver, "PoliceClue", [{"key": "JZ-9", "props": {
        **PROV, "src": "police", "delivery": "20240801", "status": "已立案",
        "amount_wan": 8000, "investors": 500}}], database=db)
    access.merge_relationships(driver, "SUBJECT_OF", "Enterprise", "PoliceClue",
                               [{"src": uscc, "dst": "JZ-9", "rk": "",
                                 "props": {**PROV, "role": "嫌疑单位"}}], database=db)


@pytest.fixture()
def scored(clean_db, neo4j_settings):
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    first = score_graph(driver, neo4j_settings, run_id="v1")
    return driver, db, first


def test_a_rescore_of_an_unchanged_graph_writes_no_record(scored, neo4j_settings) -> None:
    driver, db, first = scored
    assert first.records == {"written": 4, "closed": 0, "unchanged": 0}
    second = score_graph(driver, neo4j_settings, run_id="v2")
    assert second.records == {"written": 0, "closed": 0, "unchanged": 4}
    assert _seq(driver, db, "v2") == _seq(driver, db, "v1") + 1
    assert _live_id(driver, db) == ["v2"]
    count = access.read(driver, "MATCH (s:ScoreRecord) RETURN count(s) AS n", database=db)
    assert count[0]["n"] == 4
    assert _scores_at(driver, db, "v2") == _scores_at(driver, db, "v1")
    assert set(_scores_at(driver, db, "v2")) == {A, B, C, D}
    levels = access.read(driver, cypher.score_level_counts(), {"run_id": "v2"}, database=db)
    assert sum(r["n"] for r in levels) == 4


def _group_members(driver, db: str) -> dict[str, set[str]]:
    return pipeline.previous_groups(driver, db)


def test_groups_move_only_where_links_changed(scored, neo4j_settings) -> None:
    driver, db, first = scored
    path = pipeline.links_file(neo4j_settings)
    state = pipeline.load_link_state(path, "v1")  # the first run left its link digests
    assert state and state.digests and sorted(map(sorted, state.groups)) == sorted(
        sorted(m) for m in _group_members(driver, db).values())
    linked = first.grouping["linked"]
    assert linked >= 2 and first.grouping["movable"] == linked  # no previous digests
    second = score_graph(driver, neo4j_settings, run_id="v2")
    assert second.grouping == {"linked": linked, "movable": 0}  # nothing changed
    assert pipeline.load_link_state(path, "v2") and not pipeline.load_link_state(path, "v1")
    # digests of another run (or none) are not trusted: every firm may move again
    path.write_text('{"run_id": "elsewhere", "digests": {}, "groups": []}', encoding="utf-8")
    third = score_graph(driver, neo4j_settings, run_id="v3")
    assert third.grouping == {"linked": linked, "movable": linked}
    path.unlink()
    fourth = score_graph(driver, neo4j_settings, run_id="v4")
    assert fourth.grouping["movable"] == linked
    assert fourth.records["written"] == 0  # the same groups either way on this tiny graph


def test_a_changed_enterprise_gets_a_new_version_and_the_old_one_stays_readable(
        scored, neo4j_settings) -> None:
    driver, db, _ = scored
    before = _scores_at(driver, db, "v1")
    _add_police_clue(driver, db, D)
    second = score_graph(driver, neo4j_settings, run_id="v2")
    s1, s2 = _seq(driver, db, "v1"), _seq(driver, db, "v2")
    assert 1 <= second.records["written"] < 4 and second.records["closed"] == 0
    versions = _versions(driver, db, D)
    assert [(v["run_id"], v["f"], v["t"]) for v in versions] == [
        ("v1", s1, s2), ("v2", s2, cypher.OPEN_SEQ)]
    after = _scores_at(driver, db, "v2")
    assert after[D] > before[D]
    assert _scores_at(driver, db, "v1") == before  # the old run still reads as it was
    history = access.read(driver, cypher.dash_score_history(), {"uscc": D}, database=db)
    assert [h["run_id"] for h in history] == ["v1", "v2"]
    # alerts look only at what changed since the previous run
    cands = access.read(driver, cypher.alert_candidates(),
                        {"run_id": "v2", "prev_run_id": "v1", "levels": ["red", "orange",
                                                                           "yellow", "blue",
                                                                           "none"],
                         "jump": 1000.0}, database=db)
    written = {r["uscc"] for r in access.read(
        driver, "MATCH (s:ScoreRecord {run_id: 'v2'}) RETURN s.uscc AS uscc", database=db)}
    assert {c["uscc"] for c in cands} == written and D in written
    prev = next(c for c in cands if c["uscc"] == D)
    assert prev["prev_score"] == before[D]


def test_a_run_that_never_went_live_is_invisible_and_undone_by_the_next(
        scored, neo4j_settings, monkeypatch) -> None:
    driver, db, _ = scored
    before = _scores_at(driver, db, "v1")
    _add_police_clue(driver, db, D)

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before the switch")

    monkeypatch.setattr(pipeline, "switch_live", killed)
    with pytest.raises(Exception, match="killed before the switch"):
        score_graph(driver, neo4j_settings, run_id="v2")
    monkeypatch.undo()
    # its records were written (and the old ones closed), yet readers of v1 see v1
    assert any(v["run_id"] == "v2" for v in _versions(driver, db, D))
    assert _live_id(driver, db) == ["v1"]
    assert _scores_at(driver, db, "v1") == before
    # a process killed outright leaves its run 'running': the next run fails it
    access.write(driver, "MATCH (r:Run {run_id: 'v2'}) SET r.status = 'running'",
                 database=db)
    third = score_graph(driver, neo4j_settings, run_id="v3")
    assert third.records["written"] >= 1
    status = access.read(driver, "MATCH (r:Run {run_id: 'v2'}) RETURN r.status AS s",
                         database=db)
    assert status == [{"s": "failed"}]
    left = access.read(driver, "MATCH (s:ScoreRecord {run_id: 'v2'}) RETURN count(s) AS n",
                       database=db)
    assert left[0]["n"] == 0
    current = access.read(driver, "MATCH (s:ScoreRecord) WHERE s.to_seq = $open "
                          "RETURN s.uscc AS uscc, count(*) AS n", {"open": cypher.OPEN_SEQ},
                          database=db)
    assert sorted((r["uscc"], r["n"]) for r in current) == [(u, 1) for u in sorted([A, B, C, D])]
    assert [v["run_id"] for v in _versions(driver, db, D)] == ["v1", "v3"]
    assert _scores_at(driver, db, "v1") == before


def test_an_enterprise_no_longer_in_the_graph_has_its_record_closed(
        scored, neo4j_settings) -> None:
    driver, db, _ = scored
    access.write(driver, "MATCH (e:Enterprise {uscc: $u}) DETACH DELETE e", {"u": C},
                 database=db)
    second = score_graph(driver, neo4j_settings, run_id="v2")
    assert second.records["closed"] == 1
    assert C not in _scores_at(driver, db, "v2")
    assert C in _scores_at(driver, db, "v1")


def test_a_finished_run_id_cannot_be_scored_again(scored, neo4j_settings) -> None:
    driver, _, _ = scored
    with pytest.raises(RiskgraphError, match="already finished"):
        score_graph(driver, neo4j_settings, run_id="v1")


def test_the_score_command_refuses_to_overlap_a_refresh(neo4j_settings) -> None:
    with runs.RefreshLock(runs.lock_path(neo4j_settings)).acquire(run_id="other"), \
            pytest.raises(runs.RefreshBusyError):
        pipeline.run_score_command(neo4j_settings)


def test_migration_turns_per_run_copies_into_versions(clean_db, neo4j_settings) -> None:
    """A graph from before migration 2: every ok run holds a full copy of the records, and a
    failed run left some; after the migration each copy is valid until the next ok run, the
    failed run's are gone, and readers of either ok run read what it wrote."""
    driver, db = clean_db, neo4j_settings.neo4j_database
    write_tiny_graph(driver, db)
    legacy = [("old", "ok", False, "2024-07-01T00:00:00+00:00", 10.0),
              ("bad", "failed", False, "2024-07-02T00:00:00+00:00", 99.0),
              ("new", "ok", True, "2024-07-03T00:00:00+00:00", 20.0)]
    for run_id, status, live, started, score in legacy:
        access.write(driver, "CREATE (:Run {run_id: $r, kind: 'score', status: $s, live: $l, "
                     "started: $t})", {"r": run_id, "s": status, "l": live, "t": started},
                     database=db)
        access.write(driver, "UNWIND $us AS u MATCH (e:Enterprise {uscc: u}) "
                     "CREATE (e)-[:SCORED_AS]->(:ScoreRecord {record_id: $r + '|' + u, "
                     "uscc: u, run_id: $r, score: $score, level: 'none'})",
                     {"us": [A, B], "r": run_id, "score": score}, database=db)
    applied = apply_schema(driver, db)
    assert 2 in applied
    assert _seq(driver, db, "old") == 1 and _seq(driver, db, "new") == 2
    assert [(v["run_id"], v["f"], v["t"]) for v in _versions(driver, db, A)] == [
        ("old", 1, 2), ("new", 2, cypher.OPEN_SEQ)]
    assert _scores_at(driver, db, "new") == {A: 20.0, B: 20.0}
    assert _scores_at(driver, db, "old") == {A: 10.0, B: 10.0}
    # the next run versions on top of the migrated records
    nxt = score_graph(driver, neo4j_settings, run_id="after")
    assert nxt.records["written"] == 4 and _seq(driver, db, "after") == 3
    assert set(_scores_at(driver, db, "after")) == {A, B, C, D}


def test_an_unreadable_link_state_file_is_ignored(tmp_path) -> None:
    path = tmp_path / "group-links.json"
    for text in ("{not json", "[]", '{"run_id": "r1", "digests": [], "groups": []}',
                 '{"run_id": "r1", "digests": {}}'):
        path.write_text(text, encoding="utf-8")
        assert pipeline.load_link_state(path, "r1") is None, text
    path.write_text('{"run_id": "r1", "digests": {"A": "x"}, "groups": [["A", "B"]]}',
                    encoding="utf-8")
    state = pipeline.load_link_state(path, "r1")
    assert state is not None and state.groups == [["A", "B"]]
    assert pipeline.load_link_state(path, None) is None


def _cached(driver, db: str, uscc: str) -> float:
    return access.read(driver, "MATCH (e:Enterprise {uscc: $u}) RETURN e.score AS s",
                       {"u": uscc}, database=db)[0]["s"]


@pytest.mark.parametrize("from_file", [True, False])
def test_a_record_that_says_the_same_within_the_tolerance_stays_with_its_score(
        scored, neo4j_settings, from_file) -> None:
    """The stored score of A is moved 0.3 points off what scoring computes (as propagation
    moves far-off firms): with the 0.5 tolerance A's record stays, and the score cached on
    A stays the stored one, whether the run knows the stored records from its digests file
    or reads them from the graph; with no tolerance the record is rewritten."""
    from dataclasses import replace

    driver, db, _ = scored
    computed = _scores_at(driver, db, "v1")[A]
    moved = round(computed + 0.3, 2)
    access.write(driver, "MATCH (e:Enterprise {uscc: $u})-[:SCORED_AS]->(s:ScoreRecord) "
                 "SET s.score = $s, e.score = $s", {"u": A, "s": moved}, database=db)
    path = pipeline.digests_file(neo4j_settings)
    if from_file:  # the file of run v1, with A's stored score as the graph now has it
        known = pipeline.load_digests(path, "v1")
        assert known is not None and known[A][1] == computed
        pipeline.save_digests(path, "v1", {**known, A: (known[A][0], moved)},
                              pipeline.projection_cache.store_id(driver, db))
    else:
        path.unlink()
    second = score_graph(driver, replace(neo4j_settings, score_tolerance=0.5), run_id="v2")
    assert second.records == {"written": 0, "closed": 0, "unchanged": 4}
    assert _scores_at(driver, db, "v2")[A] == moved and _cached(driver, db, A) == moved
    kept = pipeline.load_digests(path, "v2")
    assert kept is not None and kept[A][1] == moved  # the next run compares with it again
    third = score_graph(driver, replace(neo4j_settings, score_tolerance=0.0), run_id="v3")
    assert third.records["written"] == 1
    assert _scores_at(driver, db, "v3")[A] == computed and _cached(driver, db, A) == computed
