"""bench.quality: which targets a seed's eval figures miss, and the table (pure parts)."""

from __future__ import annotations

import argparse

import pytest

from bench import quality

MET = {"auc": 0.98, "k": 176, "precision_at_k": 0.864, "ring_recall_at_k": 0.92,
       "early_recall_at_k": 0.71, "hard_negative_share_at_k": 0.045,
       "cross_region_accuracy": 0.96}


def test_missed_reads_each_target_in_its_direction() -> None:
    assert quality.missed(MET) == []
    worse = {**MET, "precision_at_k": 0.849, "hard_negative_share_at_k": 0.051}
    assert quality.missed(worse) == ["P@k", "hard neg"]
    # a figure eval could not compute (no cross-region truth) misses rather than passes
    assert quality.missed({**MET, "cross_region_accuracy": None}) == ["x-region"]


def test_table_has_model_baseline_and_mean_rows() -> None:
    base = {**MET, "precision_at_k": 0.2, "cross_region_accuracy": None}
    rows = [{"seed": 47, "eval": {**MET, "baseline": base}},
            {"seed": 11, "eval": {**MET, "precision_at_k": 0.8}}]
    table = quality.format_table(rows).splitlines()
    assert table[2].startswith("| 47 | riskgraph | 176 | 0.980 | 0.864 |")
    assert table[2].endswith("| none |")
    assert table[3].startswith("| 47 | baseline | 176 | 0.980 | 0.200 |")
    assert table[4].endswith("| P@k |")
    assert table[5].startswith("| mean | riskgraph | | 0.980 | 0.832 |")


def test_seeds_option() -> None:
    assert quality._seeds("11, 23,47") == [11, 23, 47]
    for bad in ("", "a,b"):
        with pytest.raises(argparse.ArgumentTypeError):
            quality._seeds(bad)
