"""The BDCI 2020 benchmark: feature mapping on a tiny synthetic folder, and the real data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import bdci2020
from bench.bdci_features import INDICATORS, category_counts_of, load_folder

_DATA = Path("shared") / "real-data" / "bdci2020_illegal_fundraising"
# The shared folder sits beside the checkout (/work/main) or beside the worktrees (/work/wt/x);
# a checkout elsewhere names the data folder in RISKGRAPH_BDCI_DIR.
REAL = (Path(os.environ["RISKGRAPH_BDCI_DIR"]) if os.environ.get("RISKGRAPH_BDCI_DIR") else next(
    (p / _DATA for p in Path(__file__).resolve().parents if (p / _DATA).is_dir()),
    Path(__file__).resolve().parents[2] / _DATA,
))


def write_folder(root: Path, n: int = 80, seed: int = 0, shift_ids: int = 0) -> Path:
    """A small folder in the BDCI layout; positives sit in industry J with big capital."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    ids = [f"e{i + shift_ids:05d}" for i in range(n)]
    y = (np.arange(n) % 4 == 0).astype(int)
    base = pd.DataFrame(
        {
            "id": ids,
            "oplocdistrict": 340202,
            "industryphy": np.where(y == 1, "J", rng.choice(["O", "M", "J"], n, p=[0.5, 0.4, 0.1])),
            "industryco": 6760.0,
            "enttype": np.where(y == 1, 4500, 1100),
            "enttypeitem": np.nan,
            "opfrom_year": rng.integers(2010, 2020, n),
            "opfrom_month": rng.integers(1, 13, n),
            "opto": ["2040-01-01" if v < 0.3 else None for v in rng.random(n)],
            "state": 6,
            "orgid": 340202010010000000,
            "jobid": rng.choice([1, 2, 3], n),
            "adbusign": 0,
            "townsign": 1,
            "regtype": 1,
            "empnum": 3.0,
            "compform": np.nan,
            "parnum": np.nan,
            "exenum": np.nan,
            "opform": None,
            "venind": np.nan,
            "enttypeminu": np.nan,
            "protype": np.nan,
            "oploc": rng.choice(["h1", "h2", "h3"], n),
            "regcap": np.where(y == 1, 5000.0, 50.0) * rng.uniform(0.5, 2, n),
            "reccap": np.where(rng.random(n) < 0.5, 10.0, np.nan),
            "forreccap": np.nan,
            "forregcap": np.nan,
            "congro": np.nan,
            "enttypegb": 1130,
            "change_info_rowcount": rng.integers(0, 12, n).astype(float),
            "label": y,
        }
    )
    base.to_csv(root / "base_info_reconstructed.csv", index=False)
    base[["id", "label"]].to_csv(root / "entprise_info.csv", index=False)
    pd.DataFrame(
        {
            "id": ids[:10],
            "ANCHEYEAR": 2018.0,
            "EMPNUM": [0.0] * 5 + [3.0] * 5,
            "PUBSTATE": 3.0,
            "FORINVESTSIGN": 2.0,
            "BUSSTNAME": "开业",
        }
    ).to_csv(root / "annual_report_info.csv", index=False)
    pd.DataFrame(
        {"id": ids[:4], "TAX_CATEGORIES": "印花税", "TAX_AMOUNT": [0.0, 5.0, 500.0, 50000.0]}
    ).to_csv(root / "tax_info.csv", index=False)
    pd.DataFrame(
        {
            "id": [ids[0], ids[0], ids[1]],
            "positive_negtive": ["消极", "消极", "积极"],
            "public_date": "2019-01-01",
        }
    ).to_csv(root / "news_info.csv", index=False)
    pd.DataFrame({"id": ids[:3], "legal_judgment_num": [3.0, np.nan, 1.0]}).to_csv(
        root / "other_info.csv", index=False
    )
    return root


def test_features_map_onto_indicators(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "d")
    data, enc = load_folder(folder)
    f = data.features
    assert len(f) == 80 and data.labels.sum() == 20
    assert data.indicators == INDICATORS
    assert "id" not in f.columns and "label" not in f.columns
    assert not any("id" == c or c.startswith("id_") for c in data.all_features)
    ind = f[list(INDICATORS)]
    assert ind.min().min() >= 0.0 and ind.max().max() <= 1.0
    assert f.loc[0, "negative_news"] == pytest.approx(1.0)  # two negative articles of two
    assert f.loc[0, "annual_no_staff"] == 1.0 and f.loc[6, "annual_no_staff"] == 0.0
    assert f.loc[0, "tax_anomaly"] == 1.0 and f.loc[3, "tax_anomaly"] == 0.0
    assert f.loc[0, "judgments"] == pytest.approx(1 - np.exp(-1.0))
    pos = data.labels == 1
    assert (f.loc[pos, "risky_industry"] == 1.0).all()
    assert (f.loc[pos, "key_sector_type"] == 1.0).all()
    assert set(enc.categories) >= {"industryphy", "jobid"}


def test_holdout_uses_training_encoders(tmp_path: Path) -> None:
    train = write_folder(tmp_path / "train", seed=1)
    test = write_folder(tmp_path / "test", n=40, seed=2, shift_ids=1000)
    counts = category_counts_of(train, test)
    a, enc = load_folder(train, counts=counts)
    b, _ = load_folder(test, encoders=enc, counts=counts)
    assert list(a.features.columns) == list(b.features.columns)
    j = enc.categories["industryphy"].index("J")
    assert (b.features.loc[b.labels == 1, "industryphy"] == j).all()


def test_cli_json_on_synthetic_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_folder(tmp_path / "d", n=120)
    assert bdci2020.main([str(folder), "--folds", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip())
    assert set(out["models"]) == {"noisy_or_handset", "noisy_or_calibrated", "lgbm"}
    for m in out["models"].values():
        assert set(m) >= {"precision", "recall", "f1", "auc", "weighted"}
    assert out["models"]["noisy_or_calibrated"]["auc"] > 0.9


def test_cli_holdout_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_folder(tmp_path / "train", n=120, seed=1)
    test = write_folder(tmp_path / "test", n=60, seed=2, shift_ids=1000)
    assert bdci2020.main([str(train), "--holdout", str(test)]) == 0
    text = capsys.readouterr().out
    assert "holdout" in text and "lgbm" in text and "elapsed" in text


def test_cli_missing_folder(tmp_path: Path) -> None:
    assert bdci2020.main([str(tmp_path / "nope")]) == 1


@pytest.mark.realdata
@pytest.mark.slow
def test_real_bdci_three_fold() -> None:
    assert REAL.is_dir(), f"real data folder missing: {REAL} (set RISKGRAPH_BDCI_DIR)"
    result = bdci2020.run(REAL, folds=3, seed=0)
    assert result["n"] == 8872 and result["positives"] == 566
    models = result["models"]
    assert models["lgbm"]["auc"] > 0.9
    assert models["noisy_or_calibrated"]["auc"] > 0.9
    # Calibration must not make the hand-set model worse.
    assert models["noisy_or_calibrated"]["f1"] >= models["noisy_or_handset"]["f1"]


def test_cli_seeds_add_the_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_folder(tmp_path / "d", n=120)
    assert bdci2020.main([str(folder), "--folds", "3", "--seeds", "0,1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip())
    assert out["seeds"] == [0, 1] and [r["seed"] for r in out["runs"]] == [0, 1]
    for name, mean in out["mean"].items():
        f1s = [r["models"][name]["f1"] for r in out["runs"]]
        assert mean["f1"] == pytest.approx(sum(f1s) / 2)
    assert bdci2020.main([str(folder), "--folds", "3", "--seeds", "0,1"]) == 0
    assert "mean over seeds 0,1" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bdci2020.main([str(folder), "--seeds", "a,b"])
