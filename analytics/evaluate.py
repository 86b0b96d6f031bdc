"""``riskgraph eval --truth DIR``: compare the live scores with a demo truth folder.

Prints one JSON line with ``auc, k, precision_at_k, ring_recall_at_k, early_recall_at_k,
hard_negative_share_at_k, cross_region_accuracy`` (definitions in :func:`metrics`) and, under
``baseline``, the same figures for the keyword + lawsuit baseline (:func:`baseline_scores`).
A figure that is undefined for the truth given (AUC without positives or without negatives,
precision@k with k = 0, …) is ``null``; the line is strict JSON (:func:`json_line`).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.facts import DEFENDANT_ROLES
from graph import access, cypher
from riskgraph.errors import DataError, RejectedError, UsageError
from riskgraph.paths import existing_folder, readable_file
from riskgraph.settings import Settings

BASELINE_KEYWORDS = ("投资", "理财", "资产管理", "财富管理", "私募", "众筹", "P2P", "借贷",
                     "融资担保", "资金互助", "养老")
POSITIVE_ROLES = ("core", "periphery")


@dataclass(frozen=True)
class Truth:
    """The demo truth: entity rows and scheme rows."""

    entities: list[dict[str, str]]
    schemes: list[dict[str, str]]


TRUTH_HINT = "pass the truth folder of `riskgraph demo generate --out DIR` (DIR/truth)"


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise UsageError(f"no {path.name} in the truth folder {path.parent}", TRUTH_HINT)
    path = readable_file(path, "truth file", TRUTH_HINT)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [dict(r) for r in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is not a readable CSV: {exc}", TRUTH_HINT) from exc


def load_truth(folder: Path) -> Truth:
    """The truth of ``folder``; a UsageError (exit 2) when the folder or one of its two files
    is missing or unreadable (checked before the eval connects to the database)."""
    folder = existing_folder(folder, "truth folder", TRUTH_HINT)
    return Truth(_read_csv(folder / "entities.csv"), _read_csv(folder / "schemes.csv"))


def _true(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("true", "1", "yes")


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """ROC AUC with ties counted half (Mann-Whitney); NaN when ``labels`` hold no positive or
    no negative (undefined: :func:`metrics` reports it as None)."""
    from scipy.stats import rankdata

    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y)
    return float((rank_sum - pos * (pos + 1) / 2) / (pos * neg))


def _figure(value: float, digits: int = 4) -> float | None:
    """``value`` rounded, or None when it is undefined (NaN) or infinite."""
    return round(value, digits) if math.isfinite(value) else None


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±inf) inside it replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def json_line(figures: Mapping[str, Any]) -> str:
    """The eval figures as one line of strict JSON: undefined figures are ``null``, never
    ``NaN`` or ``Infinity`` (``allow_nan=False`` guards it)."""
    return json.dumps(_finite(figures), ensure_ascii=False, allow_nan=False)


def _resolve(key: str, scored: Mapping[str, Any]) -> str:
    if key in scored:
        return key
    alt = f"REG:{key}"
    return alt if alt in scored else key


def metrics(scores: Mapping[str, float], truth: Truth,
            cross_region: Mapping[str, bool] | None = None) -> dict[str, Any]:
    """The eval figures of ``scores`` (uscc → score) against ``truth``.

    * auc = ROC AUC of the scores (None when the truth has no positive or no negative);
    * k = number of scheme entities (role core or periphery);
    * precision@k = share of the top k that are scheme entities;
    * ring recall = share of schemes whose core is in the top k;
    * early recall = share of early-stage scheme entities in the top k;
    * hard-negative share = share of the top k that are hard negatives;
    * cross-region accuracy = share of schemes whose core's cross-region flag (that of its
      strong core, :func:`analytics.regions.strong_core`) matches the truth (None when
      ``cross_region`` is not given).
    """
    ents = {_resolve(e["uscc"], scores): e for e in truth.entities}
    universe = sorted(set(scores) | set(ents))
    label = {u: int(ents.get(u, {}).get("role", "") in POSITIVE_ROLES
                    and bool(ents.get(u, {}).get("scheme_id"))) for u in universe}
    k = sum(label.values())
    ranked = sorted(universe, key=lambda u: (-scores.get(u, 0.0), u))
    top = set(ranked[:k])
    early = [u for u in universe if label[u] and ents[u].get("stage") == "early"]
    hard = {u for u, e in ents.items() if _true(e.get("hard_negative"))}
    cores = [_resolve(s["core_uscc"], scores) for s in truth.schemes]
    out: dict[str, Any] = {
        "auc": _figure(auc([scores.get(u, 0.0) for u in universe],
                           [label[u] for u in universe])),
        "k": k,
        "precision_at_k": round(sum(label[u] for u in top) / k, 4) if k else None,
        "ring_recall_at_k": round(sum(c in top for c in cores) / len(cores), 4)
        if cores else None,
        "early_recall_at_k": round(sum(u in top for u in early) / len(early), 4)
        if early else None,
        "hard_negative_share_at_k": round(len(top & hard) / k, 4) if k else None,
        "cross_region_accuracy": None,
    }
    if cross_region is not None and truth.schemes:
        hits = sum(bool(cross_region.get(c, False)) == _true(s.get("cross_region"))
                   for c, s in zip(cores, truth.schemes, strict=True))
        out["cross_region_accuracy"] = round(hits / len(truth.schemes), 4)
    return out


def baseline_scores(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Keyword rule on the business scope (50 points) + 10 points per lawsuit (max 50)."""
    out = {}
    for r in rows:
        scope = str(r.get("scope") or "")
        kw = 50.0 if any(k in scope for k in BASELINE_KEYWORDS) else 0.0
        out[str(r["uscc"])] = kw + min(50.0, 10.0 * float(r.get("lawsuits") or 0))
    return out


def evaluate_graph(driver: Any, truth: Truth, database: str | None = None) -> dict[str, Any]:
    """Eval figures of the live run, with the baseline under ``baseline``."""
    from analytics.export import live_records

    recs = live_records(driver, database)
    if not recs:
        raise RejectedError("no live scoring run to evaluate", "run `riskgraph score` first")
    scores = {r["uscc"]: float(r["score"] or 0.0) for r in recs}
    xr = {r["uscc"]: bool(r.get("cross_region")) for r in recs}
    out = metrics(scores, truth, xr)
    rows = access.read(driver, cypher.analytics_baseline_features(),
                       {"defendant_roles": sorted(DEFENDANT_ROLES)}, database=database)
    out["baseline"] = metrics(baseline_scores(rows), truth)
    return out


def run_eval_command(settings: Settings, truth: Path) -> int:
    """Print the eval JSON line; exit 0. The truth folder is read before connecting (a missing
    one is bad usage, exit 2)."""
    t = load_truth(truth)
    from graph.connection import connect

    driver = connect(settings)
    try:
        out = evaluate_graph(driver, t, settings.neo4j_database)
    finally:
        driver.close()
    print(json_line(out))
    return 0
