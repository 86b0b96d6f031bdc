"""Benchmark of the projection cache's overlay: what staging an overlay saves a patched run,
and what it costs each later run that applies it, by the overlay's share of the rows.

    python -m bench.overlay CACHE_FILE [--shares 0.005,0.01,0.02,0.05,0.1] [--own 0.003]
                            [--seed 7] [--repeat 3]

``CACHE_FILE`` is a projection cache (``RISKGRAPH_HOME/cache/projection.pkl``, e.g. of the home
``python -m bench.refresh --scale 25 --keep`` leaves). Nothing touches the database or the
cache file: each overlay is made from the cached rows themselves (random enterprises and
every relationship row around them, what :func:`analytics.projection_cache.fetch` re-reads
after a change to them), so it has the real rows' sizes and shapes. Temporary files go
beside the cache (same disk) and are removed.

A patched run stages either the overlay (all patches since the last whole file) or, past
:data:`analytics.projection_cache.OVERLAY_MAX_SHARE` of the rows, the whole rows. For each
share this times

- **stage**: writing the overlay (``save_overlay``), against writing the whole rows (``save``,
  once: ``whole``);
- **later run**: loading the overlay, combining it with that run's own patch (``--own``, the
  share a typical increment re-reads) and applying both to the base rows, against applying
  its own patch alone. The difference is what the overlay costs every run until the next
  whole write (``extra``).

``saved`` = whole − stage; ``net`` = saved − extra: what each patched run gains by keeping an
overlay of that share (staging it, and applying it at the next run) instead of writing the
whole rows every time. While ``net`` is positive the overlay pays. Each time is the median
of ``--repeat`` tries (the whole write's too). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from analytics import projection_cache as pc

SHARES = (0.005, 0.01, 0.02, 0.05, 0.1)
LABEL = "Enterprise"


def degrees(rows: pc.RowSet) -> Counter[int]:
    """Relationship rows per node id (both ends), over every type."""
    out: Counter[int] = Counter()
    for type_rows in rows.rels.values():
        out.update(r[1] for r in type_rows)
        out.update(r[2] for r in type_rows)
    return out


def sample_ids(ids: Sequence[int], degree: Counter[int], target_rows: int,
               rng: random.Random) -> set[int]:
    """Ids drawn in random order from ``ids`` until they and their relationship rows
    (``degree``, an upper bound: a row between two drawn ids counts twice) reach
    ``target_rows``; all of ``ids`` when they cannot."""
    order = list(ids)
    rng.shuffle(order)
    chosen: set[int] = set()
    held = 0
    for i in order:
        if held >= target_rows:
            break
        chosen.add(i)
        held += 1 + degree.get(i, 0)
    return chosen


def fetched_from_rows(rows: pc.RowSet, ids: set[int]) -> pc.Fetched:
    """What :func:`analytics.projection_cache.fetch` would re-read after a change to the
    nodes ``ids``, taken from ``rows``: their node rows (id order) and, per type, every
    relationship row touching one of them (by relationship id)."""
    out = pc.Fetched(ids=set(ids))
    for label, node_rows in rows.nodes.items():
        fresh = [r for r in node_rows if r[0] in ids]
        if fresh:
            out.nodes[label] = fresh
    for t, type_rows in rows.rels.items():
        out.rels[t] = {r[0]: r for r in type_rows if r[1] in ids or r[2] in ids}
    return out


def shallow(rows: pc.RowSet) -> pc.RowSet:
    """A copy :func:`analytics.projection_cache.apply` may patch (it replaces whole lists,
    never a row)."""
    return pc.RowSet(dict(rows.nodes), dict(rows.rels))


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """``fn()`` and the median of its wall time over ``repeat`` calls."""
    times = []
    out = None
    for _ in range(max(repeat, 1)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def measure_share(rows: pc.RowSet, head: pc.Cached, own: pc.Fetched, ids: set[int],
                  folder: Path, apply_own_s: float, whole_s: float, repeat: int = 1
                  ) -> dict[str, Any]:
    """Stage an overlay of the nodes ``ids`` and apply it with ``own`` as a later run does."""
    overlay = fetched_from_rows(rows, ids)
    path = folder / "overlay.delta"
    _, stage_s = timed(lambda: pc.save_overlay(path, pc.Overlay(head, head.run_id, overlay)),
                       repeat)
    size = path.stat().st_size
    loaded, load_s = timed(lambda: pc.load_overlay(path), repeat)
    path.unlink()
    assert loaded is not None
    combined, combine_s = timed(lambda: pc.combine(loaded.fetched, own), repeat)
    _, apply_s = timed(lambda: pc.apply(shallow(rows), combined), repeat)
    extra = load_s + combine_s + apply_s - apply_own_s
    saved = whole_s - stage_s
    return {
        "rows": pc.overlay_size(overlay),
        "share": round(pc.overlay_size(overlay) / max(pc.row_count(rows), 1), 4),
        "file_mb": round(size / 2**20, 1),
        "stage_s": round(stage_s, 2),
        "load_s": round(load_s, 2),
        "combine_s": round(combine_s, 2),
        "apply_s": round(apply_s, 2),
        "extra_s": round(extra, 2),
        "saved_s": round(saved, 2),
        "net_s": round(saved - extra, 2),
    }


def run(cache_file: Path, shares: Sequence[float], own_share: float, seed: int,
        repeat: int = 1) -> dict[str, Any]:
    """Every figure of the module docstring, for the cache in ``cache_file``."""
    cached, load_s = timed(lambda: pc.load(cache_file))
    if cached is None:
        raise SystemExit(f"{cache_file}: not a readable projection cache of this version")
    rows = cached.rows
    total = pc.row_count(rows)
    firms = [r[0] for r in rows.nodes.get(LABEL, [])]
    degree = degrees(rows)
    rng = random.Random(seed)
    own = fetched_from_rows(rows, sample_ids(firms, degree, int(own_share * total), rng))
    _, apply_own_s = timed(lambda: pc.apply(shallow(rows), own), repeat)
    out: dict[str, Any] = {"cache": str(cache_file), "rows": total,
                           "file_mb": round(cache_file.stat().st_size / 2**20, 1),
                           "load_base_s": round(load_s, 2), "own_rows": pc.overlay_size(own),
                           "apply_own_s": round(apply_own_s, 2), "shares": []}
    with tempfile.TemporaryDirectory(dir=cache_file.parent, prefix="bench-overlay-") as tmp:
        folder = Path(tmp)
        _, whole_s = timed(lambda: pc.save(folder / "whole.pkl", cached), repeat)
        (folder / "whole.pkl").unlink()
        out["whole_s"] = round(whole_s, 2)
        for share in shares:
            ids = sample_ids(firms, degree, int(share * total), rng)
            row = measure_share(rows, cached, own, ids, folder, apply_own_s, whole_s, repeat)
            out["shares"].append({"target": share, **row})
    out["overlay_max_share"] = pc.OVERLAY_MAX_SHARE
    out["repeat"] = repeat
    return out


def table(out: dict[str, Any]) -> str:
    lines = [f"{out['rows']:,} rows ({out['file_mb']} MB): load {out['load_base_s']} s, "
             f"whole write {out['whole_s']} s; a later run's own patch "
             f"{out['own_rows']:,} rows, applied in {out['apply_own_s']} s",
             "share  rows       MB     stage  load   combine apply  extra  saved  net"]
    for s in out["shares"]:
        lines.append(f"{s['share']:<6} {s['rows']:<10,} {s['file_mb']:<6} {s['stage_s']:<6} "
                     f"{s['load_s']:<6} {s['combine_s']:<7} {s['apply_s']:<6} "
                     f"{s['extra_s']:<6} {s['saved_s']:<6} {s['net_s']}")
    return "\n".join(lines)


def share_of(text: str) -> float:
    """A share of all rows: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:  # also false for NaN
        raise argparse.ArgumentTypeError(f"a share is a number above 0 and at most 1, "
                                         f"got {text!r}")
    return value


def shares_of(text: str) -> list[float]:
    """Comma-separated shares (:func:`share_of`), at least one."""
    shares = [share_of(part.strip()) for part in text.split(",") if part.strip()]
    if not shares:
        raise argparse.ArgumentTypeError("--shares needs at least one share")
    return shares


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache_file", type=Path)
    ap.add_argument("--shares", type=shares_of, default=list(SHARES),
                    help="overlay sizes as shares of all rows, comma-separated")
    ap.add_argument("--own", type=share_of, default=0.003,
                    help="share of the rows a later run re-reads itself")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3, help="tries per time (median)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error(f"--repeat takes a whole number of at least 1, got {args.repeat}")
    out = run(args.cache_file, args.shares, args.own, args.seed, args.repeat)
    print(table(out))
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
