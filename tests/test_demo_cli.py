"""``riskgraph demo generate`` from the command line: another city, and clear usage errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from riskgraph.cli import main
from riskgraph.divisions import divisions
from riskgraph.identifiers import is_valid_uscc


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return int(stopped.value.code or 0)


def test_another_city(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "suzhou"
    assert (
        _run(
            [
                "demo",
                "generate",
                "--out",
                str(out),
                "--city",
                "341300",
                "--scale",
                "0.05",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    reg = divisions()
    allowed = {"341300"} | {c.code for c in reg.counties("341300")}
    for n in reg.neighbours("341300"):
        allowed |= {n.code} | {c.code for c in reg.counties(n.code)}
    with (out / "truth" / "entities.csv").open(encoding="utf-8") as handle:
        entities = list(csv.DictReader(handle))
    assert entities
    for row in entities:
        if not row["uscc"].startswith("REG:"):
            assert is_valid_uscc(row["uscc"]) and row["uscc"][2:8] in allowed
        assert row["county"][:2] == "34"
    counts = json.loads((out / "truth" / "expected_counts.json").read_text(encoding="utf-8"))
    assert counts["nodes"]["Enterprise"] == len(entities)
    names = {p.name for p in (out / "inbox" / "20261031" / "registration").iterdir()}
    assert "市场监管_企业基本信息_20261031_全量.csv" in names


@pytest.mark.parametrize("city", ["999999", "410502", "41050"])
def test_bad_city_is_a_usage_error(
    tmp_path: Path, city: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["demo", "generate", "--out", str(tmp_path / "x"), "--city", city]) == 2
    assert "not a prefecture" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_bad_scale_is_a_usage_error(tmp_path: Path) -> None:
    assert _run(["demo", "generate", "--out", str(tmp_path / "x"), "--scale", "0"]) == 2
