"""``riskgraph calibrate``: fit the model on the outcomes stored in the graph.

1. the latest verdict per enterprise (:func:`analytics.outcomes.latest`) gives the labels
   (confirmed = 1, dismissed = 0); fewer than :data:`MIN_OUTCOMES` or a single class is
   rejected (exit 1);
2. the features are those of the CURRENT graph, computed by the scoring engine itself
   (:func:`analytics.scoring.feature_frame`): every indicator strength, ``linked`` (the linked
   risk as one more noisy-OR strength, under the current model) and, for the tree model, the
   linked risk by channel (``linked.people``, ``linked.phone`` …), what surrounds the firm
   (``net.*``) and a few raw fields;
3. :func:`analytics.calibration.calibrate` cross-validates the current model (the active
   noisy-OR ModelVersion, else the hand-set weights) and the candidates on the same folds;
4. a candidate is stored and activated only when :func:`analytics.calibration.should_promote`
   says so; otherwise "not promoted: <reason>" and exit 0. Scoring picks the active version up
   on its next run.

A stored model travels as a file: ``--export FILE`` writes the active (or ``--version``) one,
``--import FILE`` checks it (format, features this version computes, boosters that load),
stores it and makes it active, with the version it replaces kept for ``--rollback``: a model
fitted on one city's outcomes (or the province's) can score a city that has too few of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analytics import model_store, outcomes, projection, scoring
from analytics.calibration import (
    CalibrationResult,
    ModelVersion,
    calibrate,
    fit_model,
    handset_spec,
    should_promote,
)
from analytics.indicators import INDICATORS
from analytics.model_store import read_export
from riskgraph.errors import RejectedError, UsageError
from riskgraph.paths import writable_file
from riskgraph.settings import Settings

MIN_OUTCOMES = 20
"""Fewest enterprises with a verdict (of both kinds) to calibrate on."""

FOLDS = 5


@dataclass
class CalibrationReport:
    """What :func:`calibrate_graph` did."""

    n: int
    positives: int
    missing: int
    current_version: str
    folds: int
    result: CalibrationResult
    promoted: ModelVersion | None
    reason: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def _current(driver: Any, db: str) -> tuple[ModelVersion | None, dict[str, float], str]:
    """(active model or None, noisy-OR weights with ``linked`` of the current model, its id)."""
    active = model_store.active_model(driver, db)
    w, gamma, version = scoring.resolve_model(active)
    return active, {**w, scoring.LINKED: gamma}, version


def calibrate_graph(driver: Any, settings: Settings, *, folds: int = FOLDS, seed: int = 0,
                    include_lgbm: bool = True) -> CalibrationReport:
    """Cross-validate current vs candidate models on the stored outcomes; promote if better."""
    db = settings.neo4j_database
    verdicts = outcomes.latest(driver, db)
    labels = {u: o.label for u, o in verdicts.items()}
    pos = sum(labels.values())
    hint = ("record verdicts with `riskgraph outcomes add USCC --verdict confirmed|dismissed "
            "--reason CODE` or by closing ledger entries; both kinds are needed")
    if len(labels) < MIN_OUTCOMES or pos == 0 or pos == len(labels):
        raise RejectedError(
            f"too few outcomes to calibrate: {len(labels)} enterprises with a verdict "
            f"({pos} confirmed, {len(labels) - pos} dismissed); need at least {MIN_OUTCOMES} "
            "and both verdicts", hint)
    active, current_w, current_version = _current(driver, db)
    proj = projection.project(driver, database=db)
    frame = scoring.feature_frame(proj, current_w)
    usccs = [u for u in labels if u in frame.index]
    missing = len(labels) - len(usccs)
    X = frame.loc[usccs].reset_index(drop=True)
    y = np.array([labels[u] for u in usccs], dtype=int)
    pos = int(y.sum())
    smallest = min(pos, len(y) - pos)
    if len(y) < MIN_OUTCOMES or smallest < 2:
        raise RejectedError(
            f"too few outcomes on enterprises of the current graph: {len(y)} ({pos} confirmed, "
            f"{len(y) - pos} dismissed; {missing} outcomes on enterprises no longer in the "
            "graph)", hint)
    folds = max(2, min(folds, smallest))
    result = calibrate(current_w, X, y, raw_features=scoring.TREE_EXTRA, folds=folds,
                       seed=seed, include_lgbm=include_lgbm, parent_version=current_version)
    promote, reason = result.promote, result.reason
    if promote and active is not None and active.kind == "lgbm" and "lgbm" in result.results:
        # the current model is a tree: the candidate must also beat the tree refitted on
        # the same folds
        promote, reason = should_promote(result.results["lgbm"].metrics,
                                         result.results[result.best].metrics)
        reason = f"{reason} (against the refitted tree model)"
    promoted = None
    if promote and result.model is not None:
        promoted = result.model
        if promoted.kind == "lgbm":
            promoted.params["link_weights"] = dict(current_w)
        if active is None:
            # keep the hand-set model as a stored version, so --rollback can return to it
            hs = fit_model(handset_spec(current_w, name="handset"), X, y, seed=seed)
            hs.version_id = current_version
            hs.cv_metrics = dict(result.results["current"].metrics)
            model_store.save(driver, hs, database=db)
        model_store.save(driver, promoted, activate=True, database=db)
    rows = [{"model": ("current " + current_version) if name == "current" else name,
             **{k: r.metrics.get(k) for k in ("precision", "recall", "f1", "auc")}}
            for name, r in result.results.items()]
    return CalibrationReport(len(y), pos, missing, current_version, folds, result, promoted,
                             reason, rows)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "   n/a"
    return f"{float(v):6.3f}"


def format_report(rep: CalibrationReport) -> list[str]:
    """The printed table and the decision line."""
    lines = [f"outcomes: {rep.n} enterprises ({rep.positives} confirmed, "
             f"{rep.n - rep.positives} dismissed)"
             + (f"; {rep.missing} outcomes skipped (enterprise not in the graph)"
                if rep.missing else ""),
             f"{rep.folds}-fold stratified CV, same folds for every model; positive class = "
             "confirmed"]
    width = max(len(r["model"]) for r in rep.rows)
    lines.append(f"{'model':<{width}}  precision  recall      F1     AUC")
    for r in rep.rows:
        lines.append(f"{r['model']:<{width}}     {_fmt(r['precision'])}  {_fmt(r['recall'])}  "
                     f"{_fmt(r['f1'])}  {_fmt(r['auc'])}")
    if rep.promoted is not None:
        lines.append(f"promoted: {rep.promoted.version_id} ({rep.result.best}, parent "
                     f"{rep.promoted.parent_version}): {rep.reason}; active from the next "
                     "`riskgraph score`")
    else:
        lines.append(f"not promoted: {rep.reason}; {rep.current_version} stays active")
    return lines


def format_versions(versions: list[model_store.StoredVersion], active_id: str) -> list[str]:
    lines = ["active\tversion\tkind\tname\tcreated\tparent\tcv_f1\tcv_auc"]
    for v in versions:
        m: Mapping[str, Any] = v.cv_metrics
        lines.append("\t".join([
            "*" if v.active else "", v.version, v.kind, v.name, v.created, v.parent or "",
            _fmt(m.get("f1")).strip(), _fmt(m.get("auc")).strip()]))
    if not any(v.active for v in versions):
        lines.append(f"(no stored version active: scoring uses the hand-set weights, "
                     f"{active_id})")
    return lines


def known_features() -> frozenset[str]:
    """Every feature this version computes (what an imported model may use)."""
    return frozenset({*(i.id for i in INDICATORS), scoring.LINKED, *scoring.TREE_EXTRA})


def run_calibrate_command(settings: Settings, *, rollback: str | None = None,
                          list_versions: bool = False, export: Path | None = None,
                          version: str | None = None, import_file: Path | None = None) -> int:
    """``riskgraph calibrate [--list | --rollback VERSION | --export FILE [--version V] |
    --import FILE]``; exit 0 (also when the candidate is not promoted), 1 when there are too
    few outcomes or nothing to export (:class:`RejectedError`)."""
    from graph.connection import connect

    if sum(x is not None and x is not False for x in (rollback, export, import_file)) + \
            bool(list_versions) > 1:
        raise UsageError("--list, --rollback, --export and --import do not go together",
                         "give one of them")
    if version and export is None:
        raise UsageError("--version goes with --export", "riskgraph calibrate --export FILE "
                         "--version VERSION")
    incoming = read_export(import_file, known_features()) if import_file else None
    if export is not None:
        writable_file(export, "model file", "pass a file in a folder you may write, e.g. "
                      "--export model.json")  # exit 2 before connecting
    driver = connect(settings)
    db = settings.neo4j_database
    try:
        if export is not None:
            model = model_store.export_model(driver, export, version, db)
            print(f"exported model {model.version_id} ({model.kind}) to {export}")
            return 0
        if incoming is not None:
            before = model_store.import_model(driver, incoming, str(import_file), db)
            print(f"imported model {incoming.version_id} ({incoming.kind}) and made it active "
                  f"→ scoring uses it from the next `riskgraph score`; back with "
                  f"`riskgraph calibrate --rollback {before or model_store.HANDSET}`")
            return 0
        if list_versions:
            _, _, current = _current(driver, db)
            for line in format_versions(model_store.list_versions(driver, db), current):
                print(line)
            return 0
        if rollback:
            now = model_store.activate(driver, rollback, db)
            _, _, current = _current(driver, db)
            print(f"active model: {now or 'none (hand-set weights)'} → scoring uses {current} "
                  "from the next `riskgraph score`")
            return 0
        for line in format_report(calibrate_graph(driver, settings)):
            print(line)
        return 0
    finally:
        driver.close()
