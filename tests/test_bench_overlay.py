"""``bench.overlay``: overlays made from cached rows as a patched run would re-read them, and the
benchmark end to end on a small cache file (no database)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from analytics import projection_cache as pc
from bench.overlay import degrees, fetched_from_rows, main, sample_ids, shallow


def small_rows(firms: int = 60, seed: int = 3) -> pc.RowSet:
    """Enterprises 0..firms-1, persons after them; legal reps and shareholders."""
    rng = random.Random(seed)
    rows = pc.RowSet()
    rows.add("node", "Enterprise", [[i, f"E{i}", f"firm {i}"] for i in range(firms)])
    persons = list(range(firms, firms + firms // 2))
    rows.add("node", "Person", [[p, f"P{p}", None] for p in persons])
    rel_id = 1000
    legal, held = [], []
    for i in range(firms):
        legal.append([rel_id, rng.choice(persons), i, None])
        rel_id += 1
        for _ in range(rng.randint(0, 2)):
            held.append([rel_id, rng.choice(persons), i, round(rng.random(), 2)])
            rel_id += 1
    rows.add("rel", "LEGAL_REP_OF", legal)
    rows.add("rel", "SHAREHOLDER_OF", held)
    return rows


def test_an_overlay_made_from_the_rows_re_reads_every_relationship_around_its_nodes() -> None:
    rows = small_rows()
    ids = {0, 7, 65}  # two firms and a person
    got = fetched_from_rows(rows, ids)
    assert got.ids == ids
    assert [r[0] for r in got.nodes["Enterprise"]] == [0, 7]
    assert [r[0] for r in got.nodes["Person"]] == [65]
    for t, type_rows in rows.rels.items():
        touching = {r[0] for r in type_rows if r[1] in ids or r[2] in ids}
        assert set(got.rels[t]) == touching
    # applied as a later run applies a re-read, the unchanged rows come back as they were:
    # a relationship the overlay missed would have been dropped
    patched = shallow(rows)
    pc.apply(patched, got)
    assert patched == rows


def test_sampling_reaches_the_target_rows_and_follows_the_seed() -> None:
    rows = small_rows()
    firms = [r[0] for r in rows.nodes["Enterprise"]]
    degree = degrees(rows)
    assert sum(degree.values()) == 2 * sum(len(v) for v in rows.rels.values())
    target = 40
    a = sample_ids(firms, degree, target, random.Random(1))
    assert sum(1 + degree[i] for i in a) >= target
    assert sum(1 + degree[i] for i in a) - max(1 + degree[i] for i in a) < target  # no more
    assert a == sample_ids(firms, degree, target, random.Random(1))
    assert sample_ids(firms, degree, 10**6, random.Random(1)) == set(firms)


def test_the_benchmark_times_each_share_on_a_cache_file(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    rows = small_rows(firms=400)
    path = tmp_path / "cache" / "projection.pkl"
    path.parent.mkdir()
    pc.save(path, pc.Cached(pc.fingerprint(), "store", "run-1", [], rows))
    assert main([str(path), "--shares", "0.01,0.2", "--own", "0.005",
                 "--repeat", "2"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["rows"] == pc.row_count(rows)
    assert out["repeat"] == 2
    assert [s["target"] for s in out["shares"]] == [0.01, 0.2]
    small, large = out["shares"]
    assert 0 < small["rows"] < large["rows"] < out["rows"]
    assert large["share"] >= 0.2
    assert {"stage_s", "load_s", "combine_s", "apply_s", "extra_s", "saved_s"} <= set(small)
    assert small["net_s"] == pytest.approx(small["saved_s"] - small["extra_s"], abs=0.011)
    assert sorted(p.name for p in path.parent.iterdir()) == ["projection.pkl"]  # tidied


def test_an_unreadable_cache_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "projection.pkl"
    path.write_bytes(b"not a cache")
    with pytest.raises(SystemExit, match="not a readable projection cache"):
        main([str(path)])


@pytest.mark.parametrize("args", [["--shares", "abc"], ["--shares", "0"], ["--shares", "1.5"],
                                  ["--shares", ","], ["--own", "-0.1"], ["--repeat", "0"]])
def test_bad_arguments_are_a_usage_error_not_a_crash(tmp_path: Path, args: list[str],
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "projection.pkl"), *args])
    assert stop.value.code == 2  # argparse's usage error, before any file is read
    assert "error:" in capsys.readouterr().err
