"""The indicator cache's pure parts: until dates of the date-dependent indicators, the
enterprises a change affects, and reuse in :func:`analytics.scoring.evaluate_all`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from analytics import hits_cache, scoring
from analytics import indicators as ind
from analytics.facts import Facts, affected, gather
from analytics.projection import Projection, empty_projection
from tests.test_analytics_units import ent, lending_case, person, police, rel


def _firm(founded: str, reg: float = 5000.0,
          changes: Sequence[tuple[str, str | None]] = ()) -> Facts:
    by_kind = {"changes": [{"item": item, "date": d} for item, d in changes]} if changes else {}
    return Facts(0, "91410502YOUNG0000A", {"name": "某某公司", "founded": founded,
                                           "reg_capital_wan": reg}, by_kind)


def _both(f: Facts, as_of: date) -> tuple[ind.Hit | None, ind.Hit | None]:
    ctx = ind.Context(as_of=as_of)
    return ind.young_outsized(f, ctx), ind.frequent_changes(f, ctx)


def test_a_young_firm_holds_until_the_day_it_is_no_longer_young() -> None:
    f = _firm("2024-01-10")
    as_of = date(2024, 6, 30)
    until = ind.young_outsized_until(f, ind.Context(as_of=as_of))
    assert until == date(2024, 1, 10) + timedelta(days=731)
    assert ind.young_outsized(f, ind.Context(as_of=until - timedelta(days=1))) is not None
    assert ind.young_outsized(f, ind.Context(as_of=until)) is None
    # old, or young without outsized capital: never changes again
    assert ind.young_outsized_until(f, ind.Context(as_of=until)) is None
    assert ind.young_outsized_until(_firm("2024-01-10", reg=50.0),
                                    ind.Context(as_of=as_of)) is None


def test_frequent_changes_hold_until_the_oldest_counted_change_leaves_the_window() -> None:
    f = _firm("2010-01-01", reg=10.0, changes=[("法定代表人变更", "2023-03-01"),
                                               ("住所变更", "2023-09-01"),
                                               ("经营范围变更", None)])
    ctx = ind.Context(as_of=date(2024, 6, 30))
    hit = ind.frequent_changes(f, ctx)
    assert hit is not None and hit.value == 3
    until = ind.frequent_changes_until(f, ctx)
    assert until == date(2023, 3, 1) + timedelta(days=731)
    assert ind.frequent_changes(f, ind.Context(as_of=until - timedelta(days=1))) == hit
    later = ind.frequent_changes(f, ind.Context(as_of=until))
    assert later is not None and later.value == 2
    # one change in the window never becomes two as the date moves on
    one = _firm("2010-01-01", changes=[("住所变更", "2024-01-01")])
    assert ind.frequent_changes_until(one, ctx) is None


def test_until_is_a_date_before_which_every_dated_indicator_gives_the_same_result() -> None:
    firms = [_firm(f"20{y:02d}-0{m}-15", reg=r, changes=c)
             for y in (20, 22, 23, 24) for m in (1, 7) for r in (50.0, 3000.0)
             for c in ([], [("法定代表人", "2023-02-01"), ("住所", "2024-05-01")])]
    start = date(2024, 6, 30)
    for f in firms:
        hits, until = ind.evaluate_raw_until(f, ind.Context(as_of=start))
        for days in range(0, 1500, 30):
            later = start + timedelta(days=days)
            if until is not None and later >= until:
                break
            assert _both(f, later) == _both(f, start), (f.ent, later, until)
            assert ind.evaluate_raw(f, ind.Context(as_of=later)) == hits


def test_affected_follows_fact_edges_and_plaintiffs_but_not_shared_addresses() -> None:
    p = empty_projection()
    a, b, c = ent(p, "A"), ent(p, "B"), ent(p, "C")
    plaintiff = person(p, "P:1")
    case = lending_case(p, a, "(2024)豫0502民初1号", [plaintiff])
    clue = police(p, b, "J1")
    hub = p.add_node("Address", "A:hub", {})
    for e in (a, b, c):
        rel(p, e, hub, "REGISTERED_AT")
    assert affected(p, [plaintiff]) == {a}  # its case's defendant
    assert affected(p, [case]) == {a}
    assert affected(p, [clue]) == {b}
    assert affected(p, [hub]) == set()  # not a fact of the firms registered there
    assert affected(p, [c]) == {c}


def _city() -> tuple[Projection, list[int]]:
    p = empty_projection()
    ids = [ent(p, f"E{i}", reg_capital_wan=8000.0, paid_capital_wan=0.0,
               founded="2023-05-01", scope="投资理财咨询") for i in range(6)]
    police(p, ids[0], "J1")
    lending_case(p, ids[1], "C1", [person(p, f"P{k}") for k in range(4)])
    return p, ids


def test_reused_hits_give_the_evaluation_of_a_full_run() -> None:
    p, ids = _city()
    w = ind.weights()
    full = scoring.evaluate_all(p, w)
    assert full.counts == {"evaluated": 6, "reused": 0}
    as_of = full.ctx.as_of
    # a stale entry for E2 (marked dirty) and a wrong one for E3 (whose until has passed)
    entries = dict(full.raw)
    entries[p.keys[ids[2]]] = ({}, None)
    entries[p.keys[ids[3]]] = ({}, as_of)
    again = scoring.evaluate_all(p, w, reuse=scoring.HitReuse(as_of, entries, {ids[2]}))
    assert again.counts == {"evaluated": 2, "reused": 4}
    assert again.hits == full.hits and again.raw == full.raw
    assert [f.branches for f in again.facts] == [f.branches for f in gather(p)]
    # a reference date before the cached one: nothing is reused
    earlier = scoring.HitReuse(as_of + timedelta(days=1), full.raw, set())
    assert scoring.evaluate_all(p, w, reuse=earlier).counts["reused"] == 0


def test_the_cache_file_is_used_only_by_the_run_that_left_it(tmp_path: Path,
                                                             monkeypatch) -> None:
    path = tmp_path / "hits.pkl"
    entries = {"E1": ({"police.clue": ind.Hit(1.0, 1, "20240630")}, None)}
    hits_cache.commit(hits_cache.stage(path, "run-1", date(2024, 6, 30), entries), path)
    got = hits_cache.load(path, "run-1")
    assert got is not None and got.entries == entries and got.as_of == date(2024, 6, 30)
    assert hits_cache.load(path, "run-2") is None
    assert hits_cache.load(path, None) is None
    monkeypatch.setattr(ind, "MODEL_VERSION", "another")  # other indicator code
    assert hits_cache.load(path, "run-1") is None
