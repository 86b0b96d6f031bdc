"""``riskgraph calibrate`` on small synthetic graphs (real Neo4j, no mocks).

The graph: "positives" are on the abnormal-operations list (credit.abnormal_ops, hand weight
0.15), a share of the "negatives" advertise high returns (ads.promise, hand weight 0.55). The
hand-set model therefore ranks the wrong firms first; a fitted noisy-OR separates them.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analytics import model_store, outcomes, projection, scoring
from analytics.calibrate_cmd import calibrate_graph, format_report, run_calibrate_command
from analytics.calibration import fit_model, lgbm_spec
from analytics.indicators import INDICATORS
from analytics.indicators import weights as handset_weights
from analytics.pipeline import score_graph
from graph import access, cypher
from graph.schema import apply_schema
from riskgraph.errors import DataError, RejectedError, UsageError
from riskgraph.settings import Settings

pytestmark = pytest.mark.neo4j

PROV = {"src": "registration", "delivery": "20240630", "file": "f.csv", "row": 2,
        "run_id": "ingest-1"}


def uscc(i: int) -> str:
    return f"91410502MA{i:07d}X"


def write_signal_graph(driver, db: str, n_pos: int = 20, n_ads: int = 12, n_plain: int = 8,
                       start: int = 0) -> tuple[list[str], list[str]]:
    """Positives (abnormal list) and negatives (some with promise ads); returns their USCCs."""
    pos = [uscc(start + i) for i in range(n_pos)]
    neg_ads = [uscc(start + n_pos + i) for i in range(n_ads)]
    neg_plain = [uscc(start + n_pos + n_ads + i) for i in range(n_plain)]
    ents = [{"key": u, "props": {**PROV, "name": f"企业{u[-8:]}", "county": "410502",
                                 "scope": "日用百货销售"}} for u in pos + neg_ads + neg_plain]
    access.merge_nodes(driver, "Enterprise", ents, database=db)
    access.merge_nodes(driver, "CreditListing", [
        {"key": f"{u}|经营异常名录|2024-01-01", "props": {**PROV, "src": "credit",
                                                     "list_type": "经营异常名录"}}
        for u in pos], database=db)
    access.merge_relationships(driver, "LISTED_IN", "Enterprise", "CreditListing", [
        {"src": u, "dst": f"{u}|经营异常名录|2024-01-01", "rk": "", "props": {**PROV}}
        for u in pos], database=db)
    access.merge_nodes(driver, "Ad", [
        {"key": f"AD-{u}", "props": {**PROV, "src": "ads", "content": "高息理财 保本"}}
        for u in neg_ads], database=db)
    access.merge_relationships(driver, "ADVERTISED_IN", "Enterprise", "Ad", [
        {"src": u, "dst": f"AD-{u}", "rk": "", "props": {**PROV}} for u in neg_ads],
        database=db)
    return pos, neg_ads + neg_plain


def record(driver, db: str, pos: list[str], neg: list[str]) -> None:
    for u in pos:
        outcomes.add(driver, u, "confirmed", "已立案", "测试", database=db)
    for u in neg:
        outcomes.add(driver, u, "dismissed", "排除-正常经营", "测试", database=db)


def live_records(driver, db: str) -> dict[str, dict]:
    rows = access.read(driver, "MATCH (r:Run {live: true}) WITH r, r.seq AS seq "
                       f"MATCH (s:ScoreRecord) WHERE {cypher.valid_at()} "
                       "RETURN s.uscc AS uscc, properties(s) AS p, r.model_version AS rv",
                       database=db)
    return {r["uscc"]: {**r["p"], "run_model_version": r["rv"]} for r in rows}


@pytest.fixture()
def graph(clean_db, neo4j_settings):
    apply_schema(clean_db, neo4j_settings.neo4j_database)
    return clean_db, neo4j_settings.neo4j_database


def test_feature_frame_reproduces_the_score(graph, neo4j_settings) -> None:
    driver, db = graph
    pos, neg = write_signal_graph(driver, db)
    score_graph(driver, neo4j_settings, run_id="score-f-1")
    frame = scoring.feature_frame(projection.project(driver, database=db))
    assert frame.loc[pos[0], "credit.abnormal_ops"] == pytest.approx(0.7)
    assert frame.loc[[neg[0]], "ads.promise"].to_numpy()[0] > 0
    assert frame.loc[neg[-1], [i.id for i in INDICATORS]].to_numpy().sum() == 0.0
    from analytics.calibration import noisy_or_score

    recs = live_records(driver, db)
    expect = noisy_or_score(frame, scoring.model_weights())
    got = np.array([recs[u]["score"] for u in frame.index])
    assert np.allclose(expect, got, atol=0.01)
    assert recs[pos[0]]["model_version"].startswith("handset-")


def test_calibrate_promotes_and_scoring_uses_the_model(graph, neo4j_settings, capsys) -> None:
    driver, db = graph
    pos, neg = write_signal_graph(driver, db)
    record(driver, db, pos, neg)
    score_graph(driver, neo4j_settings, run_id="score-c-1")
    handset_id = live_records(driver, db)[pos[0]]["model_version"]

    assert run_calibrate_command(neo4j_settings) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "AUC" in out and f"current {handset_id}" in out
    assert "promoted: noisy_or-" in out, out
    active = model_store.active_model(driver, db)
    assert active is not None and active.kind == "noisy_or" and active.parent_version == handset_id
    assert active.weights is not None
    assert active.weights["credit.abnormal_ops"] > 0.5 > active.weights["ads.promise"]
    assert active.cv_metrics["f1"] > 0.9

    score_graph(driver, neo4j_settings, run_id="score-c-2")
    recs = live_records(driver, db)
    p, n = recs[pos[0]], recs[neg[0]]
    assert p["model_version"] == p["run_model_version"] == active.version_id
    assert p["score"] > n["score"]
    exp = json.loads(p["explanation"])
    ind = exp["indicators"][0]
    assert ind["id"] == "credit.abnormal_ops"
    assert ind["contribution"] == pytest.approx(
        100 * active.weights["credit.abnormal_ops"] * 0.7, abs=0.05)
    assert p["reasons"] == ["credit.abnormal_ops"]

    # list and rollback: the hand-set model was stored as the parent
    assert run_calibrate_command(neo4j_settings, list_versions=True) == 0
    listing = capsys.readouterr().out
    assert handset_id in listing and active.version_id in listing
    assert run_calibrate_command(neo4j_settings, rollback=handset_id) == 0
    assert model_store.active_model(driver, db).version_id == handset_id  # type: ignore[union-attr]
    score_graph(driver, neo4j_settings, run_id="score-c-3")
    assert live_records(driver, db)[pos[0]]["model_version"] == handset_id
    assert run_calibrate_command(neo4j_settings, rollback=active.version_id) == 0
    assert model_store.active_model(driver, db).version_id == active.version_id  # type: ignore[union-attr]
    with pytest.raises(RejectedError, match="no stored model version"):
        run_calibrate_command(neo4j_settings, rollback="nope")
    assert run_calibrate_command(neo4j_settings, rollback="handset") == 0
    assert model_store.active_model(driver, db) is None
    versions = model_store.list_versions(driver, db)
    assert len(versions) == 2 and not any(v.active for v in versions)


def test_noise_outcomes_are_not_promoted(graph, neo4j_settings) -> None:
    driver, db = graph
    pos, neg = write_signal_graph(driver, db)
    everyone = pos + neg
    rng = random.Random(7)
    rng.shuffle(everyone)
    record(driver, db, everyone[:20], everyone[20:])  # verdicts unrelated to the features
    rep = calibrate_graph(driver, neo4j_settings)
    text = "\n".join(format_report(rep))
    assert rep.promoted is None and "not promoted:" in text, text
    assert model_store.list_versions(driver, db) == []
    assert model_store.active_model(driver, db) is None


def test_current_model_that_is_already_right_is_kept(graph, neo4j_settings) -> None:
    """Outcomes that follow the hand weights (ads = confirmed): no candidate is better."""
    driver, db = graph
    pos, neg = write_signal_graph(driver, db)
    ads, plain = neg[:12], neg[12:]
    record(driver, db, ads, pos + plain)
    rep = calibrate_graph(driver, neo4j_settings)
    assert rep.promoted is None and "F1 does not improve" in rep.reason


def test_too_few_outcomes_is_rejected(graph, neo4j_settings) -> None:
    driver, db = graph
    pos, neg = write_signal_graph(driver, db)
    record(driver, db, pos[:5], neg[:5])
    with pytest.raises(RejectedError, match="too few outcomes"):
        calibrate_graph(driver, neo4j_settings)
    record(driver, db, pos + neg[:5], [])  # 25 verdicts, the latest all confirmed
    with pytest.raises(RejectedError, match="0 dismissed"):
        calibrate_graph(driver, neo4j_settings)


def _cli_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "RISKGRAPH_"))}
    if settings.local:
        env.update({"RISKGRAPH_HOME": str(settings.home),
                    "RISKGRAPH_BOLT_PORT": str(settings.bolt_port)})
    else:
        env.update({"RISKGRAPH_HOME": str(settings.home), "NEO4J_URI": str(settings.neo4j_uri),
                    "NEO4J_USER": settings.neo4j_user,
                    "NEO4J_PASSWORD": settings.neo4j_password or "",
                    "NEO4J_DATABASE": settings.neo4j_database})
    return env


def test_cli_exit_codes(graph, neo4j_settings) -> None:
    driver, db = graph
    pos, neg = write_signal_graph(driver, db, n_pos=3, n_ads=3, n_plain=0)
    env = _cli_env(neo4j_settings)
    rg = [sys.executable, "-m", "riskgraph.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(rg + list(args), capture_output=True, text=True, env=env,
                              timeout=300)

    r = run("outcomes", "add", pos[0], "--verdict", "confirmed", "--reason", "已立案",
            "--by", "张三")
    assert r.returncode == 0, r.stderr
    assert outcomes.latest(driver, db)[pos[0]].user == "张三"
    r = run("outcomes", "add", pos[0], "--verdict", "confirmed", "--reason", "排除-正常经营")
    assert r.returncode == 2 and "hint:" in r.stderr
    r = run("calibrate")
    assert r.returncode == 1
    assert r.stderr.startswith("error: too few outcomes") and "hint:" in r.stderr
    r = run("calibrate", "--list")
    assert r.returncode == 0 and "hand-set" in r.stdout


def test_tree_model_scores_with_contributions(graph, neo4j_settings) -> None:
    """An active lgbm ModelVersion: score_graph uses its boosters and keeps contributions."""
    driver, db = graph
    pos, neg = write_signal_graph(driver, db, n_pos=40, n_ads=25, n_plain=15)
    frame = scoring.feature_frame(projection.project(driver, database=db))
    usccs = pos + neg
    X = frame.loc[usccs].reset_index(drop=True)
    y = np.array([1] * len(pos) + [0] * len(neg))
    spec = lgbm_spec([*frame.columns], {"min_child_samples": 5, "num_boost_round": 30})
    model = fit_model(spec, X, y)
    model.params["link_weights"] = scoring.model_weights(handset_weights())
    model_store.save(driver, model, activate=True, database=db)
    score_graph(driver, neo4j_settings, run_id="score-t-1")
    recs = live_records(driver, db)
    p, n = recs[pos[0]], recs[neg[-1]]
    assert p["model_version"] == model.version_id == p["run_model_version"]
    assert p["score"] > 50 > n["score"]
    exp = json.loads(p["explanation"])
    assert exp["model"]["kind"] == "lgbm" and "(bias)" in exp["model"]["contributions"]
    assert exp["indicators"][0]["id"] == "credit.abnormal_ops"
    assert exp["indicators"][0]["contribution"] > 0
    logit = sum(exp["model"]["contributions"].values()) + exp["model"]["shift"]
    assert p["score"] == pytest.approx(100 / (1 + np.exp(-logit)), abs=0.05)
    # the model's decision threshold is mapped onto the orange level: positives the model
    # calls positive reach at least orange, negatives it rejects stay below it
    orange = neo4j_settings.levels["orange"]
    flagged = [u for u in pos if recs[u]["score"] >= orange]
    assert p["level"] in ("orange", "red") and len(flagged) >= len(pos) * 0.8
    assert n["score"] < orange



def test_model_export_and_import_into_another_city(graph, neo4j_settings, tmp_path,
                                                    capsys) -> None:
    """A tree model fitted on one city's outcomes is exported, the graph is replaced by
    another city without outcomes, and the imported model scores it (with rollback)."""
    driver, db = graph
    with pytest.raises(RejectedError, match="no stored model is active"):
        run_calibrate_command(neo4j_settings, export=tmp_path / "none.json")
    pos, neg = write_signal_graph(driver, db, n_pos=40, n_ads=25, n_plain=15)
    frame = scoring.feature_frame(projection.project(driver, database=db))
    X = frame.loc[pos + neg].reset_index(drop=True)
    y = np.array([1] * len(pos) + [0] * len(neg))
    spec = lgbm_spec([*handset_weights(), scoring.LINKED, *scoring.TREE_EXTRA],
                     {"min_child_samples": 5, "num_boost_round": 30})
    model = fit_model(spec, X, y)
    model_store.save(driver, model, activate=True, database=db)
    (tmp_path / "a_file").write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="model file .* cannot be made"):  # before connecting
        run_calibrate_command(neo4j_settings, export=tmp_path / "a_file" / "model.json")
    out = tmp_path / "model.json"
    assert run_calibrate_command(neo4j_settings, export=out) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "riskgraph-model" and doc["model"]["version_id"] == model.version_id
    assert set(scoring.LINK_CHANNELS) <= set(doc["model"]["features"])

    # another city: new firms, no outcomes, no stored models
    access.write(driver, "MATCH (n) DETACH DELETE n", {}, database=db)
    pos2, neg2 = write_signal_graph(driver, db, n_pos=10, n_ads=6, n_plain=4, start=500)
    score_graph(driver, neo4j_settings, run_id="score-x-1")
    handset_id = live_records(driver, db)[pos2[0]]["model_version"]
    capsys.readouterr()
    assert run_calibrate_command(neo4j_settings, import_file=out) == 0
    assert f"--rollback {model_store.HANDSET}" in capsys.readouterr().out
    assert run_calibrate_command(neo4j_settings, import_file=out) == 0  # twice: stored once
    assert [v.version for v in model_store.list_versions(driver, db)] == [model.version_id]
    active = model_store.active_model(driver, db)
    assert active is not None and active.version_id == model.version_id
    assert active.params["imported"]["from"] == str(out)
    score_graph(driver, neo4j_settings, run_id="score-x-2")
    recs = live_records(driver, db)
    assert recs[pos2[0]]["model_version"] == model.version_id
    assert min(recs[u]["score"] for u in pos2) > max(recs[u]["score"] for u in neg2)
    assert json.loads(recs[pos2[0]]["explanation"])["model"]["kind"] == "lgbm"
    assert run_calibrate_command(neo4j_settings, rollback=model_store.HANDSET) == 0
    score_graph(driver, neo4j_settings, run_id="score-x-3")
    assert live_records(driver, db)[pos2[0]]["model_version"] == handset_id


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"format": "other"}', "is not a riskgraph model export"),
    ('{"format": "riskgraph-model", "format_version": 99, "model": {}}', "format 99"),
    ('{"format": "riskgraph-model", "format_version": 1, "model": {"version_id": "x", '
     '"kind": "lgbm", "features": ["linked", "raw.shoe_size"], "threshold": 50, '
     '"boosters": ["tree"]}}', "does not compute: raw.shoe_size"),
    ('{"format": "riskgraph-model", "format_version": 1, "model": {"version_id": "x", '
     '"kind": "lgbm", "features": ["linked"], "threshold": 50, "boosters": ["no tree"]}}',
     "boosters do not load"),
    ('{"format": "riskgraph-model", "format_version": 1, "model": {"version_id": "x", '
     '"kind": "lgbm", "features": 5, "threshold": 50}}', "no usable model"),
    ('{"format": "riskgraph-model", "format_version": 1, "model": {"version_id": "x", '
     '"kind": "noisy_or", "features": ["linked"], "threshold": "high"}}', "no usable model"),
])
def test_import_rejects_a_bad_file_before_touching_the_graph(tmp_path, content: str,
                                                             message: str) -> None:
    """Checked before connecting: the settings point at no server at all."""
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    nowhere = Settings(neo4j_uri="bolt://127.0.0.1:9", home=tmp_path)
    with pytest.raises(DataError, match=message):
        run_calibrate_command(nowhere, import_file=bad)
    with pytest.raises(UsageError, match="not found"):
        run_calibrate_command(nowhere, import_file=tmp_path / "missing.json")
    with pytest.raises(UsageError, match="--version goes with --export"):
        run_calibrate_command(nowhere, version="v1")
    with pytest.raises(UsageError, match="do not go together"):
        run_calibrate_command(nowhere, import_file=bad, export=tmp_path / "x.json")


def test_tree_scores_put_the_model_threshold_on_the_orange_level() -> None:
    """With 5 % positives the raw probability sits far below the level thresholds; the
    shifted score keeps the ranking and maps the model's own threshold onto orange."""
    rng = np.random.default_rng(3)
    n = 400
    y = (rng.random(n) < 0.05).astype(int)
    X = pd.DataFrame({"a": rng.random(n) * 0.3 + 0.7 * y, "b": rng.random(n)})
    model = fit_model(lgbm_spec(["a", "b"], {"min_child_samples": 5, "num_boost_round": 20}),
                      X, y)
    scores, contrib, shift = scoring._tree_scores(model, X, 60.0)
    raw = 100 / (1 + np.exp(-contrib.sum(axis=1)))
    assert model.threshold < 60  # the raw scale is not the level scale
    assert ((raw >= model.threshold) == (scores >= 60.0 - 1e-9)).all()
    assert np.corrcoef(np.argsort(np.argsort(raw)), np.argsort(np.argsort(scores)))[0, 1] > 0.999
