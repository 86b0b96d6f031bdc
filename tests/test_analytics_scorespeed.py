"""Speed work on the scoring pass: the id-keyed projection stream, the inverted-index group id
assignment, the accelerated community detection (agreement on small graphs) and the
changed-only score cache. Neo4j tests use the real test server."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from analytics import groups as grp
from analytics import pipeline, projection
from analytics.projection import (
    add_node_lists,
    add_nodes_by_id,
    add_rel_lists,
    add_rels_by_id,
    declared_pairs,
    empty_projection,
)
from graph import cypher
from graph.schema import apply_schema
from tests.test_scoring_neo4j import write_tiny_graph


def test_rows_by_internal_id_build_the_same_projection_as_keyed_rows() -> None:
    by_key = empty_projection()
    add_node_lists(by_key, "Enterprise", [["E1", "甲公司"], ["E2", "乙公司"]])
    add_node_lists(by_key, "Person", [["P1", "张三"]])
    add_rel_lists(by_key, "LEGAL_REP_OF", "Person", "Enterprise",
                  [["P1", "E1", None, "20240630"], ["P1", "E2", None, None]],
                  ("ended", "delivery"))
    by_id = empty_projection()
    nid: dict[int, int] = {}
    assert add_nodes_by_id(by_id, "Enterprise", [[70, "E1", "甲公司"], [71, "E2", "乙公司"],
                                                 [72, None, "无键"]], nid) == 3
    add_nodes_by_id(by_id, "Person", [[5, "P1", "张三"]], nid)
    assert nid == {70: 0, 71: 1, 5: 2}
    # 99 is not projected (e.g. a Run node): skipped, not an error
    n = add_rels_by_id(by_id, "LEGAL_REP_OF", [[0, 5, 70, None, "20240630"],
                                               [1, 5, 71, None, None],
                                               [2, 99, 70, None, None]], ("ended", "delivery"),
                       nid)
    assert n == 2
    assert by_id.keys == by_key.keys and by_id.labels == by_key.labels
    assert dict(by_id.graph.nodes(data=True)) == dict(by_key.graph.nodes(data=True))
    assert sorted(by_id.graph.edges(keys=True, data=True)) == \
        sorted(by_key.graph.edges(keys=True, data=True))


def test_rows_add_every_edge_once_and_update_repeated_ones() -> None:
    p = empty_projection()
    nid: dict[int, int] = {}
    add_nodes_by_id(p, "Person", [[i, f"P{i}"] for i in range(10)], nid)
    rows = [[i, i, i + 1, None, "20240630"] for i in range(9)]
    by_type: dict = {}
    assert add_rels_by_id(p, "PAYS", rows, ("ended", "delivery"), nid, by_type) == 9
    assert p.graph.number_of_edges() == 9
    # the same pair again: the edge's properties are updated, not a second edge
    assert add_rels_by_id(p, "PAYS", [[20, 0, 1, "2024-07-01", None]], ("ended", "delivery"),
                          nid, by_type) == 1
    assert p.graph.number_of_edges() == 9
    assert p.graph.edges[0, 1, "PAYS"] == {"ended": "2024-07-01", "delivery": "20240630"}
    assert len(by_type["PAYS"][0]) == 9
    expected = nx.MultiDiGraph()
    expected.add_nodes_from(p.graph.nodes(data=True))
    expected.add_edges_from([(i, i + 1, "PAYS", {"delivery": "20240630"}) for i in range(9)])
    expected.edges[0, 1, "PAYS"]["ended"] = "2024-07-01"
    assert list(p.graph.edges(keys=True, data=True)) == list(
        expected.edges(keys=True, data=True))
    assert list(p.graph.pred[1]) == [0]


def _brute_force_ids(groups: list[set[str]], previous: dict[str, set[str]],
                     keep: float = grp.KEEP_SHARE) -> list[tuple[int, float, int, str]]:
    return sorted(((len(g & old), grp.jaccard(g, old), i, gid) for i, g in enumerate(groups)
                   for gid, old in previous.items()
                   if len(g & old) > keep * len(old)),
                  key=lambda t: (-t[0], -t[1], t[2], t[3]))


def test_assign_ids_matches_all_pairs_reference() -> None:
    rng = random.Random(3)
    people = [f"u{i}" for i in range(60)]
    for _ in range(20):
        previous = {f"G{k}": set(rng.sample(people, rng.randint(2, 8))) for k in range(12)}
        groups = [set(rng.sample(people, rng.randint(2, 8))) for _ in range(12)]
        groups += [set(old) for old in list(previous.values())[:3]]  # unchanged groups
        ids = grp.assign_ids(groups, previous)
        # the reference: greedy over every (group, previous) pair, best Jaccard first
        expected: list[str | None] = [None] * len(groups)
        used: set[str] = set()
        for _n, _j, i, gid in _brute_force_ids(groups, previous):
            if expected[i] is None and gid not in used:
                expected[i] = gid
                used.add(gid)
        for got, want in zip(ids, expected, strict=True):
            if want is not None:
                assert got == want
            else:
                assert got not in previous or previous[got] == set()
        assert len(set(ids)) == len(ids)


def _planted(seed: int, blocks: int = 5, size: int = 6) -> tuple[list[int], dict, list]:
    """Cliques of ``size`` joined by a few weak random bridges."""
    rng = random.Random(seed)
    links: dict[tuple[int, int], float] = {}
    truth = []
    for b in range(blocks):
        members = list(range(b * size, (b + 1) * size))
        truth.append(members)
        for i, a in enumerate(members):
            for c in members[i + 1:]:
                links[(a, c)] = rng.uniform(0.6, 1.0)
    for _ in range(blocks):
        a, c = rng.sample(range(blocks * size), 2)
        if a // size != c // size:
            links[(min(a, c), max(a, c))] = 0.05
    return list(range(blocks * size)), links, truth


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_leiden_agrees_with_networkx_louvain_on_small_graphs(seed: int) -> None:
    nodes, links, truth = _planted(seed)
    louvain = sorted(map(sorted, grp.communities(nodes, links, "louvain")))
    leiden = sorted(map(sorted, grp.communities(nodes, links, "leiden")))
    assert louvain == leiden == sorted(truth)


def test_auto_method_switches_to_leiden_above_the_threshold(monkeypatch) -> None:
    nodes, links, truth = _planted(5)

    def no_louvain(*args: object, **kwargs: object) -> None:
        raise AssertionError("NetworkX Louvain used above the threshold")

    monkeypatch.setattr(grp.nx.community, "louvain_communities", no_louvain)
    monkeypatch.setattr(grp, "LEIDEN_ABOVE", 10)
    assert sorted(map(sorted, grp.communities(nodes, links))) == sorted(truth)
    monkeypatch.setattr(grp, "LEIDEN_ABOVE", 10_000)
    with pytest.raises(AssertionError, match="Louvain used"):
        grp.communities(nodes, links)


# --- against the real Neo4j test server -----------------------------------------------------


def _project_by_keys(driver, db: str):  # type: ignore[no-untyped-def]
    """The former per-(type, source, target) string-keyed stream, as the reference."""
    p = empty_projection()
    with driver.session(database=db) as s:
        for lab in projection.NODE_LABELS:
            q = cypher.analytics_nodes_compact(lab, projection.KEEP_PROPS.get(lab))
            add_node_lists(p, lab, (r[0] for r in s.run(q)))
        for t in projection.REL_TYPES:
            props = projection.rel_props(t)
            for a, b in declared_pairs(t):
                q = cypher.analytics_rels_compact(t, a, b, props)
                add_rel_lists(p, t, a, b, (r[0] for r in s.run(q)), props)
    return p


@pytest.mark.neo4j
def test_projection_by_id_equals_keyed_projection(clean_db, neo4j_settings) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    got = projection.project(driver, db)
    want = _project_by_keys(driver, db)
    assert got.stats["edges"] > 10 and got.stats["rows_per_second"] > 0

    def canon(p):  # type: ignore[no-untyped-def]
        nodes = {(d["label"], d["key"]): d for _, d in p.graph.nodes(data=True)}
        edges = sorted((p.labels[u], p.keys[u], p.labels[v], p.keys[v], k, sorted(d.items()))
                       for u, v, k, d in p.graph.edges(keys=True, data=True))
        return nodes, edges

    assert canon(got) == canon(want)
    # tiny chunks: many records per label/type, both the id-seek and the scan chunk plans
    plans = set()
    with driver.session(database=db) as s:
        for q in [*(cypher.analytics_node_id_buckets(lab) for lab in projection.NODE_LABELS),
                  *(cypher.analytics_rel_id_buckets(t) for t in projection.REL_TYPES)]:
            chunks = projection.plan_chunks(s, q, 3)
            total = sum(c[2] for c in chunks)
            plans |= {projection.seek_plan(lo, hi, total) for lo, hi, _ in chunks}
            assert all(n <= 3 for _, _, n in chunks)
    assert plans == {True, False}
    tiny = projection.project(driver, db, chunk_rows=3)
    assert canon(tiny) == canon(want)
    assert tiny.keys == got.keys and tiny.labels == got.labels


def test_id_chunks_hold_at_most_size_rows_and_cover_every_bucket() -> None:
    buckets = [[0, 2], [1, 3], [2, 1], [5, 3], [9, 1]]
    chunks = projection.id_chunks(buckets, 3, 3)
    assert chunks == [(0, 3, 2), (3, 6, 3), (6, 9, 1), (15, 18, 3), (27, 30, 1)]
    assert projection.id_chunks([[0, 1], [1, 1], [2, 1], [4, 2]], 3, 3) == [(0, 9, 3), (12, 15, 2)]
    assert sum(c[2] for c in chunks) == 10 and all(c[2] <= 3 for c in chunks)
    assert projection.id_chunks([], 3, 3) == []


@pytest.mark.neo4j
def test_second_run_rewrites_no_unchanged_cached_score(clean_db, neo4j_settings) -> None:
    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    first = pipeline.score_graph(driver, neo4j_settings, run_id="score-speed-1")
    assert first.projection["cached_rewritten"] == 4
    cached = pipeline.cached_scores(driver, db)
    assert len(cached) == 4 and all(v[0] is not None and v[1] for v in cached.values())
    second = pipeline.score_graph(driver, neo4j_settings, run_id="score-speed-2")
    assert second.projection["cached_rewritten"] == 0
    assert pipeline.cached_scores(driver, db) == cached
    assert {"write_records", "write_groups", "after_switch", "compute_indicators",
            "compute_propagate", "compute_groups", "compute_records", "score_previous_groups",
            "after_cache_scores"} <= set(second.seconds)


def test_prefetch_yields_everything_in_order_and_hands_errors_over() -> None:
    assert list(projection.prefetch(iter(range(50)), depth=2)) == list(range(50))

    def broken():  # type: ignore[no-untyped-def]
        yield 1
        raise RuntimeError("reader failed")

    got = []
    with pytest.raises(RuntimeError, match="reader failed"):
        for x in projection.prefetch(broken()):
            got.append(x)
    assert got == [1]
    # leaving the loop early stops the reader (no hang)
    for x in projection.prefetch(iter(range(10_000)), depth=1):
        if x == 3:
            break


def _pairs(driver, db: str, rel: str, key: str):  # type: ignore[no-untyped-def]
    from graph import access

    return sorted((r["a"], r["b"]) for r in access.read(
        driver, f"MATCH (a)-[m:{rel}]->(b) RETURN coalesce(a.pid, a.uscc) AS a, "
        f"b.{key} AS b", database=db))


@pytest.mark.neo4j
def test_write_back_writes_changes_only(
        clean_db, neo4j_settings) -> None:
    from graph import access
    from tests.test_scoring_neo4j import A, B, D

    driver, db = clean_db, neo4j_settings.neo4j_database
    apply_schema(driver, db)
    write_tiny_graph(driver, db)
    pipeline.score_graph(driver, neo4j_settings, run_id="score-diff-1")
    members = _pairs(driver, db, "MEMBER_OF", "group_id")
    controls = _pairs(driver, db, "CONTROLS", "uscc")
    assert {u for u, _ in members} >= {A, B} and ("P:boss", A) in controls
    # a stale membership and a stale control (as left by an earlier run): removed after the
    # switch; the ones the new run has again are not rewritten (their run id stays)
    access.write(driver, "MATCH (e:Enterprise {uscc: $b}) MERGE (g:Group {group_id: 'GOLD'}) "
                 "MERGE (e)-[:MEMBER_OF {run_id: 'old'}]->(g) WITH e "
                 "MATCH (p:Person {pid: 'P:boss'}), (d:Enterprise {uscc: $d}) "
                 "MERGE (p)-[:CONTROLS {rk: 'analytics', run_id: 'old', share: 0.1}]->(d)",
                 {"b": B, "d": D}, database=db)
    assert len(_pairs(driver, db, "MEMBER_OF", "group_id")) == len(members) + 1
    again = pipeline.score_graph(driver, neo4j_settings, run_id="score-diff-1b")
    assert _pairs(driver, db, "MEMBER_OF", "group_id") == members
    assert _pairs(driver, db, "CONTROLS", "uscc") == controls
    runs = {r["run"] for r in access.read(driver, "MATCH ()-[m:MEMBER_OF]->() "
                                          "RETURN m.run_id AS run", database=db)}
    assert runs == {"score-diff-1"}
    # the records did not change either: none written, the first run's stay live
    assert again.records == {"written": 0, "closed": 0, "unchanged": 4}
    n = access.read(driver, "MATCH (:Enterprise)-[:SCORED_AS]->(s:ScoreRecord) "
                    "RETURN count(s) AS n", database=db)[0]["n"]
    assert n == again.enterprises == 4
    pipeline.score_graph(driver, neo4j_settings, run_id="score-diff-2")
    runs = {r["run"] for r in access.read(driver, "MATCH ()-[m:MEMBER_OF]->() "
                                          "RETURN m.run_id AS run", database=db)}
    assert runs == {"score-diff-1"}  # unchanged memberships are not rewritten
    assert _pairs(driver, db, "MEMBER_OF", "group_id") == members


@pytest.mark.neo4j
def test_parallel_batches_write_every_row_and_raise_the_first_error(clean_db,
                                                                     neo4j_settings) -> None:
    from graph import access

    driver, db = clean_db, neo4j_settings.neo4j_database
    rows = [{"k": i} for i in range(95)]
    q = "UNWIND $rows AS row CREATE (:Phone {number: 'T' + toString(row.k)})"
    assert access.write_batches_parallel(driver, q, rows, 10, db, workers=3) == 95
    n = access.read(driver, "MATCH (p:Phone) RETURN count(p) AS n", database=db)[0]["n"]
    assert n == 95
    bad = ("UNWIND $rows AS row "
           "CREATE (:Phone {number: 'X' + toString(row.k) + toString(1 / (row.k - 42))})")
    with pytest.raises(Exception, match="/ by zero|division"):
        access.write_batches_parallel(driver, bad, rows, 10, db, workers=3)


def test_add_keyed_edges_builds_what_add_edges_from_builds() -> None:
    import networkx as nx

    edges = [(0, 1, "PAYS", {"amount_yuan": 5}), (0, 1, "HAS_PHONE", {}),
             (1, 0, "PAYS", {"count": 2}), (0, 1, "PAYS", {"count": 3}), (2, 2, "SAME_AS", {})]
    want, got = nx.MultiDiGraph(), nx.MultiDiGraph()
    want.add_nodes_from(range(3))
    got.add_nodes_from(range(3))
    want.add_edges_from([(u, v, k, dict(d)) for u, v, k, d in edges])
    projection.add_keyed_edges(got, [(u, v, k, dict(d)) for u, v, k, d in edges])
    assert sorted(got.edges(keys=True, data=True)) == sorted(want.edges(keys=True, data=True))
    assert got[0][1]["PAYS"] == {"amount_yuan": 5, "count": 3}
    assert got.number_of_edges() == 4 and list(got.predecessors(0)) == [1]


def test_gc_paused_disables_the_collector_and_restores_its_state() -> None:
    import gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), projection.gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with projection.gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()


def test_gc_pauses_overlapping_across_threads_end_with_the_last() -> None:
    """A background read that pauses the collector while the main thread's pause ends
    (or the other way round) keeps it paused until both ended."""
    import gc
    import threading

    inside, leave = threading.Event(), threading.Event()

    def background() -> None:
        with projection.gc_paused():
            inside.set()
            leave.wait(5)

    assert gc.isenabled()
    with projection.gc_paused():
        thread = threading.Thread(target=background)
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the main pause ended, the background one did not
    leave.set()
    thread.join()
    assert gc.isenabled()


def test_release_in_background_frees_with_the_collector_paused_until_done() -> None:
    import gc
    import threading

    from riskgraph.gcpause import release_in_background

    freeing, go_on = threading.Event(), threading.Event()

    class Slow:
        def __del__(self) -> None:
            freeing.set()
            go_on.wait(5)

    items: list[object] = [Slow()]
    assert gc.isenabled()
    thread = release_in_background(items)
    assert freeing.wait(5)
    assert not gc.isenabled()  # paused while the objects are being freed
    go_on.set()
    thread.join(5)
    assert items == [] and gc.isenabled() and not thread.is_alive()


def test_release_in_background_lets_the_caller_run_while_it_frees() -> None:
    import time

    from riskgraph.gcpause import release_in_background

    class Held:
        pass

    n = 1_500_000
    rows = [{"i": i, "v": [i]} for i in range(n)]
    held = Held()
    held.rows = rows  # type: ignore[attr-defined]
    items: list[object] = [held]
    del held
    thread = release_in_background(items)
    time.sleep(0.01)
    # taken apart piece by piece: this thread runs again while the rows are being dropped
    # (freed in one C call, it would get the interpreter back only when all were gone)
    assert 0 < len(rows) < n
    assert thread.daemon  # a process that ends does not wait for the rest
    thread.join(60)
    assert not thread.is_alive() and items == [] and rows == []


def test_a_process_ending_during_a_release_keeps_the_collector_off_what_is_left() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import atexit, gc\n"
        "from riskgraph.gcpause import release_in_background\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))  # runs last\n"
        "big = {i: {'v': [i]} for i in range(1_000_000)}\n"
        "items = [big]\n"
        "del big\n"
        "release_in_background(items)\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=root, timeout=300)
    assert out.returncode == 0, out.stderr
    # the shutdown's full collection finds what the release had not dropped yet frozen
    assert int(out.stdout.split()[-1]) > 100_000


def test_shed_empties_the_big_containers_and_leaves_shared_small_ones() -> None:
    from riskgraph.gcpause import SHED_ABOVE, shed

    class Graph:
        pass

    class Proj:
        pass

    levels = {"red": 3}  # small, shared with a summary: dropped, not emptied
    g = Graph()
    g.succ = {i: {i + 1: {}} for i in range(SHED_ABOVE + 5)}  # type: ignore[attr-defined]
    p = Proj()
    p.graph = g  # type: ignore[attr-defined]
    p.keys = [str(i) for i in range(SHED_ABOVE + 5)]  # type: ignore[attr-defined]
    p.stats = {"levels": levels}  # type: ignore[attr-defined]
    p.edges = {"PAYS": ([1] * (SHED_ABOVE + 1), [2] * (SHED_ABOVE + 1))}  # type: ignore[attr-defined]
    lists = p.edges["PAYS"]  # type: ignore[attr-defined]
    shed(p)
    assert g.succ == {} and p.keys == [] and p.stats == {}  # type: ignore[attr-defined]
    assert lists == ([], []) and levels == {"red": 3}


def test_laps_time_each_step_and_add_up_repeated_names() -> None:
    import time

    from riskgraph.laps import Laps

    into: dict[str, float] = {}
    lap = Laps(into, "x_")
    time.sleep(0.01)
    lap("a")
    lap("b")
    time.sleep(0.01)
    lap("a")
    assert set(into) == {"x_a", "x_b"}
    assert into["x_a"] >= 0.02 > into["x_b"]


def test_link_state_keeps_group_ids_controls_and_its_store(tmp_path) -> None:
    import numpy as np

    from analytics import scoring

    group = scoring.GroupFacts("G1", ["A", "B"], 50.0, ["410502"], ["410500"], False, "410502")
    result = scoring.ScoringResult([], [group], [{"src": "P:boss", "dst": "A",
                                                  "share": np.float64(0.6)}], "v",
                                   link_digests={"A": "d1", "B": "d2"})
    path = tmp_path / "links.json"
    pipeline.save_link_state(path, "r1", result, "store-1")
    state = pipeline.load_link_state(path, "r1", "store-1")
    assert state is not None and state.by_id() == {"G1": {"A", "B"}}
    assert state.controls == [["P:boss", "A", 0.6]]
    assert pipeline.load_link_state(path, "r1", "store-2") is None
    assert pipeline.load_link_state(path, "r0", "store-1") is None
