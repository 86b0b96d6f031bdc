"""Detection quality on demo cities: ``riskgraph eval`` over several seeds, beside the baseline.

    python -m bench.quality [--seeds 11,23,31,47] [--scale 1] [--city 410500] [--cities DIR]

For each seed, in a fresh temporary ``RISKGRAPH_HOME`` with its own local Neo4j (a free port):
``riskgraph demo generate`` (or the city already in ``DIR/seed-N`` when ``--cities`` is given;
generated there when missing), ``riskgraph refresh`` (ingest and score with the active model:
the hand-set default in a fresh home) and ``riskgraph eval --truth``. Prints a table of the
figures the scoring issue sets targets for (AUC, precision at k, schemes with their core in the
top k, early-stage recall, hard-negative share, cross-region accuracy) with the keyword +
lawsuit baseline's beside them, which targets each seed meets, and one JSON line with
everything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.refresh import ROOT, child_env, free_port, riskgraph

FIELDS: tuple[tuple[str, str, float, bool], ...] = (
    ("auc", "AUC", 0.95, True),
    ("precision_at_k", "P@k", 0.85, True),
    ("ring_recall_at_k", "core", 0.90, True),
    ("early_recall_at_k", "early", 0.60, True),
    ("hard_negative_share_at_k", "hard neg", 0.05, False),
    ("cross_region_accuracy", "x-region", 0.90, True),
)
"""(eval key, column, target, higher is better): the targets of the scoring issue."""


def missed(figures: Mapping[str, Any]) -> list[str]:
    """The columns whose target ``figures`` miss (a missing figure misses)."""
    out = []
    for key, col, target, higher in FIELDS:
        v = figures.get(key)
        if v is None or (v < target if higher else v > target):
            out.append(col)
    return out


def _cell(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}"


def format_table(results: Sequence[Mapping[str, Any]]) -> str:
    """One row per seed (model, then baseline), and the mean over the seeds."""
    head = ["seed", "scores", "k", *(c for _k, c, _t, _h in FIELDS), "targets missed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        for name, figs in (("riskgraph", r["eval"]), ("baseline", r["eval"].get("baseline"))):
            if not figs:
                continue
            cells = [str(r["seed"]), name, str(figs.get("k", "")),
                     *(_cell(figs.get(k)) for k, _c, _t, _h in FIELDS)]
            cells.append(", ".join(missed(figs)) or "none" if name == "riskgraph" else "")
            lines.append("| " + " | ".join(cells) + " |")
    if results:
        mean = {k: _mean([r["eval"].get(k) for r in results]) for k, _c, _t, _h in FIELDS}
        lines.append("| mean | riskgraph | | "
                     + " | ".join(_cell(mean[k]) for k, _c, _t, _h in FIELDS) + " | |")
    return "\n".join(lines)


def _mean(values: Sequence[Any]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _run(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(riskgraph(*args), env=dict(env), cwd=ROOT, check=False,
                          capture_output=True, text=True)


def evaluate_seed(seed: int, scale: float, city_code: str, cities: Path | None,
                  work: Path) -> dict[str, Any]:
    """Generate (or reuse), refresh and evaluate one demo city in its own home and server."""
    import os

    home = work / f"home-{seed}"
    env = child_env(os.environ, home, str(free_port()), "auto")
    city = (cities / f"seed-{seed}") if cities else work / f"city-{seed}"
    out: dict[str, Any] = {"seed": seed, "scale": scale, "city": city_code}
    t0 = time.perf_counter()
    try:
        subprocess.run(riskgraph("db", "start"), env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        if not (city / "truth").is_dir():
            subprocess.run(riskgraph("demo", "generate", "--out", str(city), "--scale",
                                     str(scale), "--seed", str(seed), "--city", city_code),
                           env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        refresh = _run(("refresh", "--inbox", str(city / "inbox")), env)
        if refresh.returncode not in (0, 1):
            raise SystemExit(f"seed {seed}: refresh failed: {refresh.stderr.strip()}")
        ev = _run(("eval", "--truth", str(city / "truth")), env)
        if ev.returncode != 0:
            raise SystemExit(f"seed {seed}: eval failed: {ev.stderr.strip()}")
        out["eval"] = json.loads(ev.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(riskgraph("db", "stop"), env=env, cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"seeds are integers separated by commas: {text}"
                                         ) from exc
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed")
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality")
    parser.add_argument("--seeds", type=_seeds, default=[11, 23, 31, 47])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--city", default="410500", help="division code of the demo city")
    parser.add_argument("--cities", type=Path, default=None,
                        help="keep (and reuse) the generated cities in DIR/seed-N")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rg-bench-quality-"))
    try:
        results = [evaluate_seed(s, args.scale, args.city,
                                 args.cities.absolute() if args.cities else None, work)
                   for s in args.seeds]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(format_table(results))
    print(json.dumps({"results": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
