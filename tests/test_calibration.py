"""Unit tests of analytics.calibration on small synthetic data whose answers are known."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analytics.calibration import (
    BIAS,
    ModelVersion,
    best_f1_threshold,
    binary_metrics,
    calibrate,
    cross_validate,
    explain,
    fit_model,
    fit_noisy_or_weights,
    handset_spec,
    lgbm_spec,
    noisy_or_score,
    noisy_or_spec,
    score,
    should_promote,
    stratified_folds,
    weighted_score,
)
from riskgraph.errors import DataError, RiskgraphError, UsageError


def synthetic(n: int = 1200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``strong`` fires for 80 % of positives and 3 % of negatives; ``weak`` 30 % vs 15 %;
    ``noise`` is independent of the label; ``amount`` is a raw numeric field."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    strong = np.where(y == 1, rng.random(n) < 0.8, rng.random(n) < 0.03).astype(float)
    weak = np.where(y == 1, rng.random(n) < 0.3, rng.random(n) < 0.15).astype(float)
    noise = (rng.random(n) < 0.3).astype(float)
    amount = rng.lognormal(3, 1, n) * np.where(y == 1, 3.0, 1.0)
    X = pd.DataFrame({"strong": strong, "weak": weak, "noise": noise, "amount": amount})
    return X, y


# ------------------------------------------------------------------ noisy_or_score


def test_noisy_or_score_hand_checked() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 1.0, 0.5], "b": [0.0, 0.0, 1.0, 1.0]})
    w = {"a": 0.5, "b": 0.2}
    got = noisy_or_score(X, w)
    # row 0: nothing fires -> 0; row 1: 1-(1-0.5) = 0.5; row 2: 1-0.5*0.8 = 0.6;
    # row 3: 1-(1-0.25)*(1-0.2) = 0.4
    assert got == pytest.approx([0.0, 50.0, 60.0, 40.0])


def test_noisy_or_score_missing_counts_as_not_fired() -> None:
    X = pd.DataFrame({"a": [np.nan, 1.0]})
    assert noisy_or_score(X, {"a": 0.3}) == pytest.approx([0.0, 30.0])


def test_noisy_or_score_rejects_bad_inputs() -> None:
    with pytest.raises(DataError):
        noisy_or_score(pd.DataFrame({"a": [2.0]}), {"a": 0.3})
    with pytest.raises(DataError):
        noisy_or_score(pd.DataFrame({"a": [1.0]}), {"b": 0.3})
    with pytest.raises(UsageError):
        noisy_or_score(pd.DataFrame({"a": [1.0]}), {"a": 1.0})
    assert issubclass(DataError, RiskgraphError)


# ------------------------------------------------------------------ fitting


def test_separating_feature_gets_higher_weight() -> None:
    X, y = synthetic()
    weights, leak = fit_noisy_or_weights(X, y, ["strong", "weak", "noise"])
    assert weights["strong"] > weights["weak"] > weights["noise"]
    assert weights["strong"] > 0.5
    assert weights["noise"] < 0.1
    assert all(0.0 <= w <= 0.99 for w in weights.values())
    assert 0 < leak < 0.2


def test_fitted_weights_recover_a_noisy_or() -> None:
    rng = np.random.default_rng(3)
    n = 20000
    X = pd.DataFrame({"a": (rng.random(n) < 0.3) * 1.0, "b": (rng.random(n) < 0.3) * 1.0})
    p = 1 - (1 - 0.02) * (1 - 0.7 * X["a"]) * (1 - 0.3 * X["b"])
    y = (rng.random(n) < p).astype(int)
    weights, leak = fit_noisy_or_weights(X, y, l2=0.0)
    assert weights["a"] == pytest.approx(0.7, abs=0.03)
    assert weights["b"] == pytest.approx(0.3, abs=0.04)
    assert leak == pytest.approx(0.02, abs=0.01)


def test_best_f1_threshold() -> None:
    s = np.array([90, 80, 70, 60, 10, 5.0])
    y = np.array([1, 1, 0, 1, 0, 0])
    t = best_f1_threshold(s, y)
    assert 10 < t <= 60  # take the top four: F1 = 6/7, better than the top two (0.8)
    assert binary_metrics(y, s, t)["f1"] == pytest.approx(6 / 7)


def test_metrics_and_weighted_score() -> None:
    m = binary_metrics(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.8, 0.1]), 0.5)
    assert (m["precision"], m["recall"], m["f1"], m["auc"]) == pytest.approx((0.5, 0.5, 0.5, 0.75))
    assert weighted_score(0.8, 0.6, 0.7) == pytest.approx(0.4 + 0.18 + 0.14)


def test_stratified_folds_keep_class_ratio() -> None:
    _, y = synthetic()
    splits = stratified_folds(y, 5, seed=1)
    assert len(splits) == 5
    seen = np.concatenate([te for _, te in splits])
    assert sorted(seen.tolist()) == list(range(len(y)))
    for _, te in splits:
        assert abs(y[te].mean() - y.mean()) < 0.02


def test_cross_validate_calibrated_beats_bad_handset() -> None:
    X, y = synthetic()
    splits = stratified_folds(y, 4, seed=0)
    bad = cross_validate(handset_spec({"noise": 0.6, "weak": 0.2}), X, y, 4, 0, splits)
    fitted = cross_validate(noisy_or_spec(["strong", "weak", "noise"]), X, y, 4, 0, splits)
    assert fitted.metrics["f1"] > bad.metrics["f1"] + 0.3
    assert fitted.metrics["auc"] > 0.85
    assert fitted.metrics["folds"] == 4 and fitted.metrics["n"] == len(y)
    assert len(fitted.thresholds) == 4
    ok, reason = should_promote(bad.metrics, fitted.metrics)
    assert ok, reason


def test_cross_validate_is_deterministic_for_lgbm() -> None:
    X, y = synthetic(600)
    spec = lgbm_spec(["strong", "weak", "noise", "amount"], {"num_boost_round": 30})
    a = cross_validate(spec, X, y, folds=3, seed=5)
    b = cross_validate(spec, X, y, folds=3, seed=5)
    assert np.array_equal(a.oof_scores, b.oof_scores)
    assert a.metrics["auc"] > 0.85


# ------------------------------------------------------------------ promotion


BASE = {"f1": 0.80, "auc": 0.95, "folds": 5, "seed": 0, "n": 100, "positives": 10}


def test_should_promote_accepts_better() -> None:
    ok, reason = should_promote(BASE, {**BASE, "f1": 0.82, "auc": 0.95})
    assert ok and "F1" in reason


@pytest.mark.parametrize(
    "candidate",
    [
        {"f1": 0.78, "auc": 0.97},  # worse F1
        {"f1": 0.80, "auc": 0.96},  # equal F1
        {"f1": 0.80, "auc": 0.93},  # equal F1, lower AUC
        {"f1": 0.85, "auc": 0.94},  # better F1 but AUC drops
        {"f1": 0.85, "auc": 0.97, "folds": 3},  # not the same CV
        {"f1": 0.85, "auc": float("nan")},
    ],
)
def test_should_promote_refuses(candidate: dict[str, float]) -> None:
    ok, reason = should_promote(BASE, {**BASE, **candidate})
    assert not ok
    assert reason


# ------------------------------------------------------------------ versions and explanations


def test_noisy_or_explanation_sums_to_score() -> None:
    X, y = synthetic()
    model = fit_model(noisy_or_spec(["strong", "weak", "noise"]), X, y, seed=0)
    row = X.iloc[int(np.argmax(X["strong"] + X["weak"] + X["noise"]))]
    parts = explain(model, row)
    total = float(score(model, row.to_frame().T)[0])
    assert sum(v for _, v in parts) == pytest.approx(total)
    assert parts[0][0] == "strong"
    assert explain(model, {"strong": 0.0, "weak": 0.0, "noise": 0.0}) == []


def test_tree_explanation_sums_to_logit() -> None:
    X, y = synthetic(800)
    spec = lgbm_spec(["strong", "weak", "noise", "amount"], {"num_boost_round": 40})
    model = fit_model(spec, X, y, seed=1)
    assert len(model.boosters) >= 2  # a bag of inner-fold boosters
    for i in (0, 5, 17):
        row = X.iloc[i]
        parts = explain(model, row)
        s = float(score(model, X.iloc[[i]])[0]) / 100.0
        logit = math.log(s / (1 - s))
        assert sum(v for _, v in parts) == pytest.approx(logit, abs=1e-6)
        assert BIAS in dict(parts)
    strongest = explain(model, X.iloc[int(np.argmax(y * X["strong"]))])
    assert strongest[0][0] in ("strong", "amount", BIAS)


def test_model_version_round_trip() -> None:
    X, y = synthetic(600)
    for spec in (
        noisy_or_spec(["strong", "weak"]),
        lgbm_spec(["strong", "weak", "amount"], {"num_boost_round": 20}),
    ):
        model = fit_model(spec, X, y, seed=2, parent_version="v0")
        model.cv_metrics = {"f1": np.float64(0.8), "auc": 0.9, "folds": np.int64(5)}
        text = json.dumps(model.to_dict())
        back = ModelVersion.from_dict(json.loads(text))
        assert back.kind == model.kind and back.parent_version == "v0"
        assert back.threshold == model.threshold
        assert back.cv_metrics["folds"] == 5
        assert np.allclose(score(back, X), score(model, X))
        assert ModelVersion.from_json(model.to_json()).version_id == model.version_id
    with pytest.raises(DataError):
        ModelVersion.from_dict({"kind": "noisy_or"})


def test_calibrate_end_to_end() -> None:
    X, y = synthetic(900)
    current = {"strong": 0.1, "weak": 0.5, "noise": 0.5}
    res = calibrate(current, X, y, raw_features=["amount"], folds=3, seed=0, include_lgbm=False)
    assert set(res.results) == {"current", "noisy_or_fitted"}
    assert res.promote, res.reason
    assert res.model is not None and res.model.weights is not None
    assert res.model.weights["strong"] > res.model.weights["noise"]
    assert res.model.cv_metrics["f1"] == res.results["noisy_or_fitted"].metrics["f1"]


def test_bad_labels_rejected() -> None:
    X, _ = synthetic(50)
    with pytest.raises(DataError):
        fit_noisy_or_weights(X, np.full(50, 2), ["strong"])
    with pytest.raises(DataError):
        fit_noisy_or_weights(X, np.zeros(10), ["strong"])


def test_lgbm_variants_blend_boosters() -> None:
    X, y = synthetic(600)
    spec = lgbm_spec(
        ["strong", "weak", "noise", "amount"],
        {"num_boost_round": 20, "variants": [{}, {"extra_trees": True}]},
    )
    model = fit_model(spec, X, y, seed=0)
    plain = fit_model(
        lgbm_spec(["strong", "weak", "noise", "amount"], {"num_boost_round": 20}), X, y
    )
    assert len(model.boosters) == 2 * len(plain.boosters)
    back = ModelVersion.from_json(model.to_json())
    assert np.allclose(score(back, X), score(model, X))
    row = X.iloc[3]
    s = float(score(model, X.iloc[[3]])[0]) / 100.0
    assert sum(v for _, v in explain(model, row)) == pytest.approx(math.log(s / (1 - s)), abs=1e-6)


def test_lgbm_bag_repeats_multiply_boosters_and_keep_explanations() -> None:
    X, y = synthetic(600)
    feats = ["strong", "weak", "noise", "amount"]
    one = fit_model(lgbm_spec(feats, {"num_boost_round": 20, "bag_repeats": 1}), X, y, seed=0)
    three = fit_model(lgbm_spec(feats, {"num_boost_round": 20, "bag_repeats": 3}), X, y, seed=0)
    assert len(three.boosters) == 3 * len(one.boosters)
    assert len(set(three.boosters)) == len(three.boosters)  # every split gives new boosters
    assert 0.0 < three.threshold < 100.0
    back = ModelVersion.from_json(three.to_json())
    assert np.allclose(score(back, X), score(three, X))
    s = float(score(three, X.iloc[[7]])[0]) / 100.0
    parts = explain(three, X.iloc[7])
    assert sum(v for _, v in parts) == pytest.approx(math.log(s / (1 - s)), abs=1e-6)
