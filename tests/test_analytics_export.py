"""Export cells, eval metrics, explanations (pure)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from analytics import evaluate, explain, export


def test_safe_cell_neutralises_formulas() -> None:
    assert export.safe_cell("=1+1") == "'=1+1"
    assert export.safe_cell("+86") == "'+86"
    assert export.safe_cell("-x") == "'-x"
    assert export.safe_cell("@SUM") == "'@SUM"
    assert export.safe_cell("甲公司") == "甲公司"
    assert export.safe_cell(True) == "true" and export.safe_cell(None) == ""


def test_write_csv(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    export.write_csv([{"uscc": "X", "name": "=HYPERLINK()", "county": "410502", "score": 81.234,
                       "level": "red", "group_id": "G1", "cross_region": True,
                       "lead_region": "410502", "reasons": ["police.clue", "ads.promise"]}], out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == list(export.HEADER)
    assert rows[1] == ["X", "'=HYPERLINK()", "410502", "81.23", "red", "G1", "true", "410502",
                       "police.clue;ads.promise"]


def test_metrics() -> None:
    truth = evaluate.Truth(
        [{"uscc": "a", "role": "core", "scheme_id": "S1", "stage": "early", "hard_negative": ""},
         {"uscc": "b", "role": "periphery", "scheme_id": "S1", "stage": "early",
          "hard_negative": ""},
         {"uscc": "c", "role": "none", "scheme_id": "", "stage": "", "hard_negative": "true"},
         {"uscc": "d", "role": "none", "scheme_id": "", "stage": "", "hard_negative": ""}],
        [{"scheme_id": "S1", "core_uscc": "a", "cross_region": "false"}])
    m = evaluate.metrics({"a": 90, "b": 10, "c": 50, "d": 0}, truth, {"a": False})
    assert m["k"] == 2 and m["precision_at_k"] == 0.5 and m["ring_recall_at_k"] == 1.0
    assert m["early_recall_at_k"] == 0.5 and m["hard_negative_share_at_k"] == 0.5
    assert m["auc"] == 0.75 and m["cross_region_accuracy"] == 1.0
    assert evaluate.baseline_scores([{"uscc": "a", "scope": "投资理财", "lawsuits": 2}]) == {
        "a": 70.0}


def _strict_loads(text: str) -> dict:
    """``json.loads`` that refuses NaN and Infinity (which are not JSON)."""
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_undefined_metrics_are_null_in_strict_json() -> None:
    """A truth without positives (or without negatives) leaves AUC undefined: the eval line
    says null, never NaN (which no strict JSON reader accepts)."""
    negatives = evaluate.Truth(
        [{"uscc": u, "role": "none", "scheme_id": "", "stage": "", "hard_negative": ""}
         for u in ("a", "b")], [])
    m = evaluate.metrics({"a": 90, "b": 10}, negatives)
    assert m["auc"] is None and m["k"] == 0 and m["precision_at_k"] is None
    positives = evaluate.Truth(
        [{"uscc": u, "role": "core", "scheme_id": "S1", "stage": "", "hard_negative": ""}
         for u in ("a", "b")], [{"scheme_id": "S1", "core_uscc": "a", "cross_region": ""}])
    assert evaluate.metrics({"a": 90, "b": 10}, positives)["auc"] is None
    line = evaluate.json_line({**m, "baseline": {"auc": float("nan"), "x": float("inf"),
                                                 "nested": [float("-inf"), 1.5]}})
    assert "\n" not in line and "NaN" not in line and "Infinity" not in line
    data = _strict_loads(line)
    assert data["auc"] is None and data["baseline"] == {"auc": None, "x": None,
                                                        "nested": [None, 1.5]}


def test_render_and_diff() -> None:
    rec = {"uscc": "U1", "name": "甲公司", "score": 70.0, "level": "orange", "explanation":
           json.dumps({"indicators": [{"id": "police.clue", "source": "police",
                                       "delivery": "20240701", "value": 1,
                                       "contribution": 60.0}],
                       "paths": [{"nodes": ["U0", "P:1", "U1"],
                                  "labels": ["Enterprise", "Person", "Enterprise"],
                                  "rels": ["LEGAL_REP_OF", "LEGAL_REP_OF"], "from": "U0",
                                  "contribution": 10.0}], "direct": 60.0, "linked": 10.0})}
    zh = explain.render(rec, "zh", mask=lambda lab, key: "***" if lab == "Person" else key)
    assert "公安经侦线索" in zh[1] and "20240701" in zh[1]
    assert "***" in zh[2] and "P:1" not in zh[2]
    en = explain.render(rec, "en")
    assert "legal representative" in en[2]
    assert zh[0].endswith("关联 10.0") and en[0].endswith("linked 10.0")  # no split stored
    exp = json.loads(rec["explanation"])
    rec_by = {**rec, "explanation": json.dumps({**exp, "linked_by": {"people": 8.0,
                                                                     "money": 2.0}})}
    assert explain.render(rec_by, "zh")[0].endswith("关联 10.0（人员 8.0 · 资金 2.0）")
    assert explain.render(rec_by, "en")[0].endswith("linked 10.0 (people 8.0 · money 2.0)")
    d = explain.diff(None, rec)
    assert d["added"] == ["police.clue"] and d["delta"] == 70.0
    assert "police" in explain.diff_text(d, "en").lower()
