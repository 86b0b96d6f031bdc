"""Fitting and checking the risk model on labelled outcomes (pure, graph-free).

Used by ``riskgraph calibrate`` (features of enterprises with a confirmed or dismissed outcome,
read from the graph by the caller) and by the BDCI 2020 benchmark (``bench/bdci2020.py``).

The hand-set model combines indicator strengths ``x_i`` in [0, 1] with weights ``w_i`` in
[0, 1) as a noisy-OR::

    score = 100 * (1 - prod_i (1 - w_i * x_i))

Two calibrated models are offered:

* ``noisy_or`` with fitted weights (maximum likelihood of a leaky noisy-OR, weights bounded
  to [0, 0.99]) so the model stays one explainable weight per indicator;
* ``lgbm``: a deterministic LightGBM over the indicators plus raw fields; each score explains
  itself through per-feature contributions (``pred_contrib``), in logit space.

Evaluation is stratified K-fold cross-validation. The decision threshold of every fold is chosen
on that fold's *training* part only (F1-maximising threshold on out-of-fold training
predictions) and then applied to the test part; nothing is tuned on a test fold.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskgraph.errors import DataError, UsageError

# LightGBM's OpenMP threads spin while waiting; on a busy machine (Neo4j, other jobs) two
# spinning threads on two cores made one fit ~50x slower. Passive waiting costs nothing when the
# cores are free. Only effective if set before OpenMP starts, so it is set at import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

Kind = Literal["noisy_or", "lgbm"]


def _folds(n_splits: int, seed: int) -> Any:
    """Stratified shuffled folds (scikit-learn is imported when a fit needs it, not by every
    scoring run that reads the active model)."""
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)

MAX_WEIGHT = 0.99
"""Upper bound of a fitted noisy-OR weight (a weight of 1 would make one indicator decisive)."""

INNER_FOLDS = 3
"""Folds of the inner split that yields out-of-fold training predictions for the threshold."""

LGBM_BAG_FOLDS = 5
"""The tree model is a bag of this many boosters, one per inner fold of its training data."""

DEFAULT_LGBM_PARAMS: dict[str, Any] = {
    # Not tuned on any single fold: chosen on pooled out-of-fold figures over three CV seeds
    # of the BDCI benchmark. Small trees, slow learning, row bagging; small leaves
    # (min_child_samples 5) because the positives sit in a few hundred firms of a few
    # industries; strong column sampling (0.3) decorrelates the trees over the many redundant
    # raw fields.
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": -1,
    "min_child_samples": 5,
    "min_sum_hessian_in_leaf": 1e-3,
    "feature_fraction": 0.3,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_boost_round": 250,
    "bag_repeats": 2,
}
"""LightGBM settings of the calibrated tree model; ``num_boost_round`` is popped before training.

``bag_repeats`` (popped too): the inner K-fold bag is repeated with this many different splits,
so the model is ``bag_repeats * LGBM_BAG_FOLDS`` boosters and every training row's out-of-fold
score (from which the threshold is chosen) is the mean logit of ``bag_repeats`` held-out
boosters: less noisy scores and a steadier threshold.

An optional ``variants`` entry (a list of parameter overrides) makes every fit a blend: one
booster per variant, all averaged in logit space with the inner-fold bag (e.g. a gradient-boosted
booster beside an extremely randomised one, ``{"extra_trees": True}``)."""

BIAS = "(bias)"
"""Name of the constant term in explanations of the tree model."""


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------


def _indicator_matrix(features: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise DataError(
            f"features lack the indicator columns {missing}",
            "compute every indicator of the model before scoring",
        )
    x = features.loc[:, list(names)].to_numpy(dtype=float, na_value=0.0)
    x = np.nan_to_num(x, nan=0.0)
    if x.size and (x.min() < -1e-9 or x.max() > 1 + 1e-9):
        bad = [n for n in names if not features[n].fillna(0).between(-1e-9, 1 + 1e-9).all()]
        raise DataError(
            f"indicator strengths must lie in [0, 1]; out of range: {bad}",
            "scale indicators to [0, 1] before a noisy-OR combines them",
        )
    return np.clip(x, 0.0, 1.0)


def _check_weights(weights: Mapping[str, float]) -> None:
    bad = {k: v for k, v in weights.items() if not (0.0 <= float(v) < 1.0)}
    if bad:
        raise UsageError(
            f"noisy-OR weights must lie in [0, 1), got {bad}", "fix the indicator weights"
        )


def noisy_or_score(features: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """``100 * (1 - prod_i (1 - w_i x_i))`` for every row of ``features``.

    ``weights`` maps indicator id to weight in [0, 1); every weighted indicator must be a column
    of ``features`` with values in [0, 1] (missing values count as 0 = not fired).
    """
    _check_weights(weights)
    names = list(weights)
    if not names:
        return np.zeros(len(features))
    x = _indicator_matrix(features, names)
    w = np.array([float(weights[n]) for n in names])
    return 100.0 * (1.0 - np.prod(1.0 - x * w, axis=1))


# --------------------------------------------------------------------------------------------
# Model specification and fitted versions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """What to fit. ``kind='noisy_or'`` with ``fit_weights=False`` is the hand-set model."""

    kind: Kind
    features: tuple[str, ...]
    weights: Mapping[str, float] | None = None
    fit_weights: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "lgbm":
            return "lgbm"
        return "noisy_or_fitted" if self.fit_weights else "noisy_or_handset"


def handset_spec(weights: Mapping[str, float], name: str = "handset") -> ModelSpec:
    """The current hand-set noisy-OR model, used as is (nothing fitted)."""
    _check_weights(weights)
    return ModelSpec("noisy_or", tuple(weights), dict(weights), fit_weights=False, name=name)


def noisy_or_spec(
    features: Sequence[str],
    prior: Mapping[str, float] | None = None,
    l2: float = 1.0,
    name: str = "noisy_or_fitted",
) -> ModelSpec:
    """A noisy-OR whose weights are fitted; ``prior`` (optional) is the starting point."""
    return ModelSpec(
        "noisy_or", tuple(features), dict(prior) if prior else None, True, {"l2": l2}, name
    )


def lgbm_spec(
    features: Sequence[str], params: Mapping[str, Any] | None = None, name: str = "lgbm"
) -> ModelSpec:
    """A LightGBM model over ``features`` (indicators and raw numeric fields)."""
    merged = {**DEFAULT_LGBM_PARAMS, **(params or {})}
    return ModelSpec("lgbm", tuple(features), None, True, merged, name)


@dataclass
class ModelVersion:
    """A fitted model that can be stored (JSON) and used to score and explain."""

    version_id: str
    kind: Kind
    features: list[str]
    threshold: float
    weights: dict[str, float] | None = None
    boosters: list[str] = field(default_factory=list)
    leak: float = 0.0
    cv_metrics: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    parent_version: str | None = None
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    _booster_objs: list[Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (boosters are LightGBM's own model text)."""
        return {
            "version_id": self.version_id,
            "kind": self.kind,
            "features": list(self.features),
            "threshold": float(self.threshold),
            "weights": None
            if self.weights is None
            else {k: float(v) for k, v in self.weights.items()},
            "boosters": list(self.boosters),
            "leak": float(self.leak),
            "cv_metrics": _jsonable(self.cv_metrics),
            "created_at": self.created_at,
            "parent_version": self.parent_version,
            "name": self.name,
            "params": _jsonable(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelVersion:
        try:
            kind = data["kind"]
            if kind not in ("noisy_or", "lgbm"):
                raise DataError(f"unknown model kind {kind!r}", "expected noisy_or or lgbm")
            return cls(
                version_id=str(data["version_id"]),
                kind=kind,
                features=list(data["features"]),
                threshold=float(data["threshold"]),
                weights=None if data.get("weights") is None else dict(data["weights"]),
                boosters=list(data.get("boosters") or []),
                leak=float(data.get("leak", 0.0)),
                cv_metrics=dict(data.get("cv_metrics") or {}),
                created_at=str(data.get("created_at", "")),
                parent_version=data.get("parent_version"),
                name=str(data.get("name", "")),
                params=dict(data.get("params") or {}),
            )
        except KeyError as exc:
            raise DataError(f"stored model lacks {exc}", "store models with to_dict()") from exc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelVersion:
        return cls.from_dict(json.loads(text))

    def booster_models(self) -> list[Any]:
        """The LightGBM boosters (loaded lazily from their model text)."""
        if self.kind != "lgbm" or not self.boosters:
            raise UsageError(f"model {self.version_id} is not a tree model")
        if self._booster_objs is None:
            import lightgbm as lgb

            self._booster_objs = [lgb.Booster(model_str=b) for b in self.boosters]
        return self._booster_objs

    def raw_scores(self, X: pd.DataFrame) -> np.ndarray:
        """Tree model: the mean logit of the bagged boosters."""
        data = _numeric(X, self.features)
        logits = [
            np.asarray(b.predict(data, raw_score=True), dtype=float) for b in self.booster_models()
        ]
        return np.mean(logits, axis=0)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def _new_version_id(kind: str) -> str:
    return f"{kind}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


def fit_noisy_or_weights(
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray | pd.Series,
    features: Sequence[str] | None = None,
    *,
    prior: Mapping[str, float] | None = None,
    l2: float = 1.0,
    max_weight: float = MAX_WEIGHT,
) -> tuple[dict[str, float], float]:
    """Maximum-likelihood weights of a leaky noisy-OR; returns ``(weights, leak)``.

    ``P(y=1 | x) = 1 - (1 - leak) * prod_i (1 - w_i x_i)``, with ``w_i`` in ``[0, max_weight]``
    and a small L2 penalty ``l2 * sum w_i^2``. The leak absorbs positives that no indicator
    explains, so the weights are not inflated by them; scores use the weights only
    (the leak shifts every score the same way and does not change the ranking).
    """
    names = list(features) if features is not None else list(X.columns)
    x = _indicator_matrix(X, names)
    yy = _labels(y, len(X))
    k = len(names)
    base = float(np.clip(yy.mean(), 1e-4, 0.5))
    w0 = np.array([float((prior or {}).get(n, 0.1)) for n in names]).clip(0.0, max_weight)
    theta0 = np.concatenate([w0, [min(base, 0.2)]])
    pos = yy == 1

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, leak = theta[:k], theta[k]
        one_minus = np.clip(1.0 - x * w, 1e-12, None)
        log_q = np.log1p(-leak) + np.log(one_minus).sum(axis=1)  # log P(y=0)
        q = np.exp(log_q)
        p = np.clip(1.0 - q, 1e-12, None)
        loss = -(np.log(p[pos]).sum() + log_q[~pos].sum()) + l2 * float(w @ w)
        # d log_q / d w_i = -x_i / (1 - w_i x_i); d log_q / d leak = -1 / (1 - leak)
        dlogq_dw = -x / one_minus
        coef = np.where(pos, q / p, -1.0)  # d loss / d log_q for positives / negatives
        grad_w = (coef[:, None] * dlogq_dw).sum(axis=0) + 2.0 * l2 * w
        grad_leak = float((coef * (-1.0 / (1.0 - leak))).sum())
        return float(loss), np.concatenate([grad_w, [grad_leak]])

    bounds = [(0.0, max_weight)] * k + [(1e-6, 0.5)]
    from scipy.optimize import minimize

    res = minimize(nll, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = res.x
    weights = {n: round(float(theta[i]), 6) for i, n in enumerate(names)}
    return weights, float(theta[k])


def _lgb_params(params: Mapping[str, Any], seed: int) -> tuple[dict[str, Any], int]:
    p = dict(params)
    p.pop("variants", None)
    p.pop("bag_repeats", None)
    rounds = int(p.pop("num_boost_round", 250))
    p.update(
        {
            "deterministic": True,
            "num_threads": int(p.get("num_threads", 2)),
            "seed": seed,
            "force_col_wise": True,
            "verbose": -1,
        }
    )
    return p, rounds


def fit_lgbm(
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray | pd.Series,
    features: Sequence[str],
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Any:
    """Train a deterministic LightGBM booster on ``features`` of ``X``."""
    import lightgbm as lgb

    p, rounds = _lgb_params({**DEFAULT_LGBM_PARAMS, **(params or {})}, seed)
    data = lgb.Dataset(_numeric(X, features), label=_labels(y, len(X)), free_raw_data=True)
    return lgb.train(p, data, num_boost_round=rounds)


def _numeric(X: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise DataError(f"features lack the columns {missing}", "compute every model feature")
    out = X.loc[:, list(features)].apply(pd.to_numeric, errors="coerce").astype(float)
    return out


def _labels(y: Sequence[int] | np.ndarray | pd.Series, n: int) -> np.ndarray:
    yy = np.asarray(y, dtype=float)
    if yy.shape != (n,):
        raise DataError(f"{yy.shape[0] if yy.ndim else 0} labels for {n} rows", "one label a row")
    if not np.isin(yy, (0.0, 1.0)).all():
        raise DataError("labels must be 0 or 1", "map confirmed to 1 and dismissed to 0")
    return yy.astype(int)


def score(model: ModelVersion, X: pd.DataFrame) -> np.ndarray:
    """Scores 0-100 of every row (noisy-OR score, or 100 x probability for the tree model)."""
    if model.kind == "noisy_or":
        return noisy_or_score(X, model.weights or {})
    return 100.0 * _sigmoid(model.raw_scores(X))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1.0 - 1e-12)
    return np.log(q) - np.log1p(-q)


def _fit_raw(spec: ModelSpec, X: pd.DataFrame, y: np.ndarray, seed: int) -> ModelVersion:
    """Fit ``spec`` on all of ``X`` without choosing a threshold."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    if spec.kind == "noisy_or":
        if spec.fit_weights:
            weights, leak = fit_noisy_or_weights(
                X, y, spec.features, prior=spec.weights, l2=float(spec.params.get("l2", 1.0))
            )
        else:
            weights, leak = dict(spec.weights or {}), 0.0
        return ModelVersion(
            _new_version_id("noisy_or"),
            "noisy_or",
            list(spec.features),
            50.0,
            weights=weights,
            leak=leak,
            created_at=created,
            name=spec.label,
            params=dict(spec.params),
        )
    if spec.kind == "lgbm":
        params = dict(spec.params)
        variants = params.pop("variants", None) or [{}]
        boosters = [
            fit_lgbm(X, y, spec.features, {**params, **dict(v)}, seed + i)
            for i, v in enumerate(variants)
        ]
        mv = ModelVersion(
            _new_version_id("lgbm"),
            "lgbm",
            list(spec.features),
            50.0,
            boosters=[b.model_to_string() for b in boosters],
            created_at=created,
            name=spec.label,
            params={**dict(spec.params), "seed": seed},
        )
        mv._booster_objs = boosters
        return mv
    raise UsageError(f"unknown model kind {spec.kind!r}", "use noisy_or or lgbm")


def best_f1_threshold(scores: np.ndarray, y: np.ndarray) -> float:
    """The threshold (``score >= t`` is positive) that maximises F1 on ``scores``/``y``.

    The threshold sits halfway between the chosen score and the next lower one, so that
    slightly different scores of new rows are not decided by a hair's breadth.
    """
    s = np.asarray(scores, dtype=float)
    yy = np.asarray(y, dtype=int)
    if yy.sum() == 0:
        return float(s.max() + 1.0) if s.size else 50.0
    uniq = np.unique(s)[::-1]  # descending
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], yy[order]
    tp_cum = np.cumsum(y_sorted)
    # predicted positive at threshold u = all rows with score >= u
    last_idx = np.searchsorted(-s_sorted, -uniq, side="right") - 1
    tp = tp_cum[last_idx]
    pred = last_idx + 1
    f1 = 2.0 * tp / (pred + yy.sum())
    k = int(np.argmax(f1))
    if k + 1 < len(uniq):
        return float((uniq[k] + uniq[k + 1]) / 2.0)
    return float(uniq[k])


def _inner_oof(
    spec: ModelSpec, X: pd.DataFrame, y: np.ndarray, seed: int
) -> tuple[np.ndarray, list[ModelVersion]]:
    """Out-of-fold scores on the training data (only data the caller fits on), and the
    models of the inner folds."""
    if spec.kind == "noisy_or" and not spec.fit_weights:
        return noisy_or_score(X, spec.weights or {}), []
    n_inner = LGBM_BAG_FOLDS if spec.kind == "lgbm" else INNER_FOLDS
    n_splits = min(n_inner, int(np.bincount(y, minlength=2).min()))
    if n_splits < 2:
        raise DataError("too few positives or negatives to fit", "collect more outcomes")
    repeats = max(1, int(spec.params.get("bag_repeats", 1))) if spec.kind == "lgbm" else 1
    oof = np.zeros(len(X))
    models = []
    for r in range(repeats):
        # Each repeat splits the training data differently; a row's out-of-fold score is
        # the mean logit of its held-out boosters, like the bag's scores of new rows.
        skf = _folds(n_splits, seed + 1 + 100 * r)
        for tr, te in skf.split(np.zeros(len(y)), y):
            m = _fit_raw(spec, X.iloc[tr], y[tr], seed + r)
            oof[te] += _logit(score(m, X.iloc[te]) / 100.0) if repeats > 1 else score(m, X.iloc[te])
            models.append(m)
    if repeats > 1:
        oof = 100.0 * _sigmoid(oof / repeats)
    return oof, models


def fit_model(
    spec: ModelSpec,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray | pd.Series,
    *,
    seed: int = 0,
    parent_version: str | None = None,
) -> ModelVersion:
    """Fit ``spec`` on all of ``X``; the threshold maximises F1 on out-of-fold predictions of
    ``X`` itself (an inner split), never on data held out for evaluation."""
    yy = _labels(y, len(X))
    X = X.reset_index(drop=True)
    oof, inner = _inner_oof(spec, X, yy, seed)
    if spec.kind == "lgbm":
        # The tree model *is* the bag of inner-fold boosters (mean logit): its out-of-fold
        # predictions then have the same scale as its scores, so the threshold carries over.
        model = inner[0]
        model.boosters = [b for m in inner for b in m.boosters]
        model._booster_objs = [o for m in inner for o in (m._booster_objs or [])]
    else:
        model = _fit_raw(spec, X, yy, seed)
    model.threshold = best_f1_threshold(oof, yy)
    model.parent_version = parent_version
    return model


# --------------------------------------------------------------------------------------------
# Metrics and cross-validation
# --------------------------------------------------------------------------------------------


def weighted_score(precision: float, recall: float, f1: float) -> float:
    """The BDCI 2020 competition score: ``0.5 P + 0.3 R + 0.2 F1``."""
    return 0.5 * precision + 0.3 * recall + 0.2 * f1


def binary_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall, F1 (positive class) at ``threshold`` and AUC of ``scores``."""
    yy = np.asarray(y, dtype=int)
    pred = np.asarray(scores) >= threshold
    tp = int((pred & (yy == 1)).sum())
    fp = int((pred & (yy == 0)).sum())
    fn = int((~pred & (yy == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(yy, scores)) if 0 < yy.sum() < len(yy) else float("nan")
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auc": auc,
        "weighted": weighted_score(precision, recall, f1),
    }


@dataclass
class CVResult:
    """Cross-validated figures of one model specification."""

    name: str
    metrics: dict[str, Any]
    fold_metrics: list[dict[str, float]]
    oof_scores: np.ndarray
    oof_pred: np.ndarray
    thresholds: list[float]


def stratified_folds(
    y: Sequence[int] | np.ndarray | pd.Series, folds: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of a shuffled stratified K-fold; share them across models."""
    yy = _labels(y, len(np.asarray(y)))
    if folds < 2:
        raise UsageError(f"folds={folds}", "use at least 2 folds")
    if int(np.bincount(yy, minlength=2).min()) < folds:
        raise DataError(
            f"fewer than {folds} examples of a class", "collect more outcomes or use fewer folds"
        )
    skf = _folds(folds, seed)
    return [(tr, te) for tr, te in skf.split(np.zeros(len(yy)), yy)]


def cross_validate(
    model_spec: ModelSpec,
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray | pd.Series,
    folds: int = 5,
    seed: int = 0,
    splits: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> CVResult:
    """Stratified K-fold CV of ``model_spec``.

    For every fold the model is fitted on the training part, its threshold is chosen on
    out-of-fold predictions of the training part (:func:`fit_model`), and it is scored on the
    test part. ``metrics`` holds precision, recall, F1 and the weighted score from the pooled
    out-of-fold decisions, AUC as the mean of the per-fold AUCs (each fold's model has its own
    scale), plus ``*_std`` over folds and the CV setup (``folds``, ``seed``, ``n``,
    ``positives``) that :func:`should_promote` checks.
    """
    yy = _labels(y, len(X))
    X = X.reset_index(drop=True)
    splits = splits if splits is not None else stratified_folds(yy, folds, seed)
    oof = np.zeros(len(X))
    oof_pred = np.zeros(len(X), dtype=bool)
    per_fold: list[dict[str, float]] = []
    thresholds: list[float] = []
    for tr, te in splits:
        model = fit_model(model_spec, X.iloc[tr], yy[tr], seed=seed)
        s = score(model, X.iloc[te])
        oof[te] = s
        oof_pred[te] = s >= model.threshold
        thresholds.append(model.threshold)
        per_fold.append(binary_metrics(yy[te], s, model.threshold))
    pooled = binary_metrics(yy, oof_pred.astype(float), 0.5)
    metrics: dict[str, Any] = {
        "precision": pooled["precision"],
        "recall": pooled["recall"],
        "f1": pooled["f1"],
        "auc": float(np.mean([m["auc"] for m in per_fold])),
        "weighted": pooled["weighted"],
    }
    for key in ("precision", "recall", "f1", "auc"):
        metrics[f"{key}_std"] = float(np.std([m[key] for m in per_fold]))
    metrics.update({"folds": len(splits), "seed": seed, "n": len(X), "positives": int(yy.sum())})
    return CVResult(model_spec.label, metrics, per_fold, oof, oof_pred, thresholds)


def should_promote(
    current_metrics: Mapping[str, Any], candidate_metrics: Mapping[str, Any]
) -> tuple[bool, str]:
    """Promote only if F1 (positive class) improves and AUC does not drop, under the same CV."""
    for key in ("folds", "seed", "n", "positives"):
        a, b = current_metrics.get(key), candidate_metrics.get(key)
        if a is not None and b is not None and a != b:
            return False, f"not comparable: {key} differs ({a} vs {b}); rerun both under one CV"
    try:
        f1_cur, f1_new = float(current_metrics["f1"]), float(candidate_metrics["f1"])
        auc_cur, auc_new = float(current_metrics["auc"]), float(candidate_metrics["auc"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"metrics lack f1/auc: {exc}", "pass cross_validate() metrics") from exc
    if any(math.isnan(v) for v in (f1_cur, f1_new, auc_cur, auc_new)):
        return False, "a metric is undefined (NaN); keep the current model"
    eps = 1e-9
    if f1_new <= f1_cur + eps:
        return False, f"F1 does not improve ({f1_new:.4f} vs {f1_cur:.4f})"
    if auc_new < auc_cur - eps:
        return False, f"AUC drops ({auc_new:.4f} vs {auc_cur:.4f})"
    return True, (f"F1 {f1_cur:.4f} -> {f1_new:.4f}, AUC {auc_cur:.4f} -> {auc_new:.4f}")


# --------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------


def _row_frame(
    model: ModelVersion, row: pd.Series | Mapping[str, Any] | pd.DataFrame
) -> pd.DataFrame:
    if isinstance(row, pd.DataFrame):
        if len(row) != 1:
            raise UsageError(f"explain() takes one row, got {len(row)}")
        return row
    if isinstance(row, pd.Series):
        return row.to_frame().T
    return pd.DataFrame([dict(row)])


def explain(
    model: ModelVersion, row: pd.Series | Mapping[str, Any] | pd.DataFrame
) -> list[tuple[str, float]]:
    """Per-feature contributions to one row's score, largest magnitude first.

    * noisy-OR: contributions in score points (0-100) that sum to the score; indicator ``i``
      gets the share ``-log(1 - w_i x_i) / -log(1 - score/100)`` of the score.
    * tree model: LightGBM ``pred_contrib`` in logit space; with the ``(bias)`` term they sum
      to ``logit(score / 100)``. Features contributing exactly 0 are left out.
    """
    frame = _row_frame(model, row)
    if model.kind == "noisy_or":
        weights = model.weights or {}
        names = list(weights)
        x = _indicator_matrix(frame, names)[0]
        w = np.array([weights[n] for n in names])
        logs = -np.log1p(-np.clip(w * x, 0.0, 1.0 - 1e-12))
        total = float(logs.sum())
        if total <= 0:
            return []
        s = 100.0 * (1.0 - math.exp(-total))
        contrib = [(n, float(s * v / total)) for n, v in zip(names, logs, strict=True) if v > 0]
    else:
        data = _numeric(frame, model.features)
        values = np.mean(
            [np.asarray(b.predict(data, pred_contrib=True))[0] for b in model.booster_models()],
            axis=0,
        )
        contrib = [
            (n, float(v)) for n, v in zip(model.features, values[:-1], strict=True) if v != 0.0
        ]
        contrib.append((BIAS, float(values[-1])))
    return sorted(contrib, key=lambda kv: -abs(kv[1]))


# --------------------------------------------------------------------------------------------
# One call for `riskgraph calibrate`
# --------------------------------------------------------------------------------------------


@dataclass
class CalibrationResult:
    """Outcome of :func:`calibrate`: figures of every model under one CV and the decision."""

    results: dict[str, CVResult]
    best: str
    promote: bool
    reason: str
    model: ModelVersion | None
    """The fitted candidate (on all data) when ``promote``; otherwise None."""


def calibrate(
    current_weights: Mapping[str, float],
    X: pd.DataFrame,
    y: Sequence[int] | np.ndarray | pd.Series,
    *,
    raw_features: Sequence[str] = (),
    folds: int = 5,
    seed: int = 0,
    include_lgbm: bool = True,
    parent_version: str | None = None,
) -> CalibrationResult:
    """Cross-validate the current hand-set weights and the calibrated candidates on the same
    folds, pick the candidate with the best F1, and fit it on all data if it should be
    promoted over the current model."""
    yy = _labels(y, len(X))
    X = X.reset_index(drop=True)
    indicators = list(current_weights)
    specs = [
        handset_spec(current_weights, name="current"),
        noisy_or_spec(indicators, prior=current_weights),
    ]
    if include_lgbm:
        specs.append(lgbm_spec([*indicators, *[f for f in raw_features if f not in indicators]]))
    splits = stratified_folds(yy, folds, seed)
    results = {s.label: cross_validate(s, X, yy, folds, seed, splits) for s in specs}
    candidates = [s for s in specs[1:]]
    best_spec = max(candidates, key=lambda s: results[s.label].metrics["f1"])
    ok, reason = should_promote(results["current"].metrics, results[best_spec.label].metrics)
    model = None
    if ok:
        model = fit_model(best_spec, X, yy, seed=seed, parent_version=parent_version)
        model.cv_metrics = dict(results[best_spec.label].metrics)
    return CalibrationResult(results, best_spec.label, ok, reason, model)
