"""Benchmark the risk model on the real BDCI 2020 illegal-fundraising labels.

    python -m bench.bdci2020 DATA_DIR [--holdout DIR] [--folds 5] [--seed N | --seeds 0,1,2]
                             [--json]

Compares, on the same stratified folds: the hand-set noisy-OR model (prior weights chosen by
domain reasoning, nothing fitted), the noisy-OR with calibrated weights, and LightGBM over the
indicators plus raw fields. Thresholds are chosen on training data only (see
``analytics.calibration``). With ``--holdout DIR`` the models are fitted on DATA_DIR and scored
on DIR instead of cross-validated. ``--seeds 0,1,2`` repeats the run with each seed (other folds,
other inner splits and booster seeds) and adds the mean over the seeds: a change to the model
should improve that mean, not one seed's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analytics.calibration import (
    ModelSpec,
    binary_metrics,
    cross_validate,
    fit_model,
    handset_spec,
    lgbm_spec,
    noisy_or_spec,
    score,
    stratified_folds,
)
from bench.bdci_features import HANDSET_WEIGHTS, BdciData, category_counts_of, load_folder
from riskgraph.errors import RiskgraphError

METRICS = ("precision", "recall", "f1", "auc", "weighted")


def model_specs(data: BdciData) -> list[ModelSpec]:
    """The three models of the benchmark."""
    return [
        handset_spec(HANDSET_WEIGHTS, name="noisy_or_handset"),
        noisy_or_spec(data.indicators, prior=HANDSET_WEIGHTS, name="noisy_or_calibrated"),
        lgbm_spec(data.all_features, name="lgbm"),
    ]


def run_cv(data: BdciData, folds: int = 5, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Cross-validated figures of every model, all on the same folds."""
    splits = stratified_folds(data.labels, folds, seed)
    out: dict[str, dict[str, Any]] = {}
    for spec in model_specs(data):
        t0 = time.perf_counter()
        res = cross_validate(spec, data.features, data.labels, folds, seed, splits)
        out[spec.label] = {**res.metrics, "seconds": round(time.perf_counter() - t0, 2)}
    return out


def run_holdout(train: BdciData, test: BdciData, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Fit on ``train`` (threshold from its own out-of-fold predictions), report on ``test``."""
    out: dict[str, dict[str, Any]] = {}
    for spec in model_specs(train):
        t0 = time.perf_counter()
        model = fit_model(spec, train.features, train.labels, seed=seed)
        metrics = binary_metrics(test.labels, score(model, test.features), model.threshold)
        out[spec.label] = {
            **metrics,
            "threshold": model.threshold,
            "n": len(test.labels),
            "positives": int(test.labels.sum()),
            "seconds": round(time.perf_counter() - t0, 2),
        }
    return out


def format_table(results: dict[str, dict[str, Any]], title: str) -> str:
    head = f"{'model':<22}" + "".join(f"{m:>10}" for m in METRICS) + f"{'seconds':>10}"
    lines = [title, head, "-" * len(head)]
    for name, m in results.items():
        lines.append(
            f"{name:<22}" + "".join(f"{m[k]:>10.4f}" for k in METRICS) + f"{m['seconds']:>10.1f}"
        )
    return "\n".join(lines)


def run(
    data_dir: str | Path,
    holdout: str | Path | None = None,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the benchmark; returns ``{"mode", "n", "positives", "models": {...}, "seconds"}``."""
    t0 = time.perf_counter()
    if holdout is None:
        data, _ = load_folder(data_dir)
        models = run_cv(data, folds, seed)
        mode = f"{folds}-fold CV"
    else:
        counts = category_counts_of(data_dir, holdout)
        data, enc = load_folder(data_dir, counts=counts)
        test, _ = load_folder(holdout, encoders=enc, counts=counts)
        models = run_holdout(data, test, seed)
        mode = "holdout"
    return {
        "mode": mode,
        "n": int(len(data.labels)),
        "positives": int(data.labels.sum()),
        "folds": folds if holdout is None else None,
        "seed": seed,
        "features": {"indicators": len(data.indicators), "raw": len(data.raw)},
        "models": models,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def mean_over_seeds(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model, the mean of every metric (and of the seconds) over the runs of several seeds."""
    names = list(runs[0]["models"])
    return {
        name: {
            k: float(sum(r["models"][name][k] for r in runs) / len(runs))
            for k in (*METRICS, "seconds")
        }
        for name in names
    }


def _parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        msg = f"--seeds takes integers like 0,1,2, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from exc
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds needs at least one seed")
    return seeds


def _title(result: dict[str, Any], seed: int) -> str:
    return (
        f"BDCI 2020 illegal fundraising — {result['mode']}, seed {seed}, "
        f"train n={result['n']} ({result['positives']} positive)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bdci2020", description=__doc__)
    parser.add_argument("data_dir", help="folder with the BDCI 2020 csv files")
    parser.add_argument("--holdout", help="fit on DATA_DIR, report on this folder")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds", type=_parse_seeds, help="comma-separated seeds (0,1,2): run each, add the mean"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line of the figures")
    args = parser.parse_args(argv)
    seeds = args.seeds or [args.seed]
    try:
        runs = [run(args.data_dir, args.holdout, args.folds, seed) for seed in seeds]
    except RiskgraphError as exc:
        print(f"error: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return exc.exit_code
    if args.seeds is None:
        result = runs[0]
    else:
        result = {"seeds": seeds, "runs": runs, "mean": mean_over_seeds(runs)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return 0
    for seed, one in zip(seeds, runs, strict=True):
        print(format_table(one["models"], _title(one, seed)))
        print(f"elapsed: {one['seconds']:.1f} s")
    if args.seeds is not None:
        print(format_table(result["mean"], f"mean over seeds {','.join(map(str, seeds))}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
