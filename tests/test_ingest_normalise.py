"""Unit tests for ingest.normalise (pure functions, no database)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from ingest import normalise as nz


@pytest.mark.parametrize("raw, iso", [
    ("2023-01-05", "2023-01-05"), ("2023/1/5", "2023-01-05"), ("20230105", "2023-01-05"),
    ("2023年1月5日", "2023-01-05"), ("44931", "2023-01-05"), (44931, "2023-01-05"),
    ("２０２３－０１－０５", None), (" 2023-01-05 ", "2023-01-05"), ("2023.1.5", "2023-01-05"),
    (datetime(2023, 1, 5, 10, 0), "2023-01-05"), ("2023-01-05 00:00:00", "2023-01-05"),
])
def test_dates(raw: object, iso: str | None) -> None:
    if iso is None:  # full-width digits with a full-width dash: half-width gives 2023-01-05
        assert nz.parse_date(raw) == "2023-01-05"
    else:
        assert nz.parse_date(raw) == iso


@pytest.mark.parametrize("raw", ["2023-02-30", "2023-13-01", "2006年0月12日", "20231301", "abc",
                                 "12.3.4"])
def test_bad_dates(raw: str) -> None:
    assert nz.parse_date(raw) == nz.INVALID


@pytest.mark.parametrize("raw", ["", "空", "-", "无", "/", None, float("nan"), "  "])
def test_missing_markers(raw: object) -> None:
    assert nz.clean_text(raw) is None
    assert nz.parse_date(raw) is None
    assert nz.parse_amount(raw, 1e4)[0] is None


@pytest.mark.parametrize("raw, unit, value, currency", [
    ("1,200.5", 1e4, 1200.5, None), ("500万", 1e4, 500.0, None), ("3.2亿", 1e4, 32000.0, None),
    ("500万", 1.0, 5_000_000.0, None), ("500万元", 1e4, 500.0, None),
    ("1,200.50", 1.0, 1200.5, None),
    ("1000万美元", 1e4, 7100.0, "美元"), ("１２００", 1e4, 1200.0, None), (12.5, 1e4, 12.5, None),
    ("100万元人民币", 1e4, 100.0, None),
])
def test_amounts(raw: object, unit: float, value: float, currency: str | None) -> None:
    got, cur = nz.parse_amount(raw, unit, {"美元": 7.1})
    assert got == pytest.approx(value)
    assert cur == currency


@pytest.mark.parametrize("raw", ["约50万", "12.3.4", "壹佰万元", "待定金额", "50万~80万", "#VALUE!",
                                 "100万卢布", "-5"])
def test_bad_amounts(raw: str) -> None:
    assert nz.parse_amount(raw, 1e4, {"美元": 7.1})[0] == nz.INVALID


@pytest.mark.parametrize("raw, ratio", [("35%", 0.35), ("0.35", 0.35), ("35", 0.35),
                                        ("100%", 1.0), ("1", 1.0), ("0.5%", 0.005)])
def test_ratios(raw: str, ratio: float) -> None:
    assert nz.parse_ratio(raw) == pytest.approx(ratio)


def test_bad_ratio() -> None:
    assert nz.parse_ratio("150%") == nz.INVALID
    assert nz.parse_ratio("abc") == nz.INVALID


def test_half_width_and_spaces() -> None:
    cleaned = nz.clean_text("  安阳（文峰）ＡＢＣ１２３\n有限公司\u3000")
    assert cleaned == "安阳(文峰)ABC123 有限公司"
    assert nz.half_width("、。") == "、。"


def test_clean_series_vectorised() -> None:
    s = pd.Series([" a ", None, "无", float("nan"), "Ａ\r\nB"], dtype=object)
    assert nz.clean_series(s).tolist() == ["a", None, None, None, "A B"]


def test_name_norm_keeps_match_key() -> None:
    assert nz.name_norm("安阳（文峰）投资有限责任公司") == nz.name_norm("安阳(文峰)投资有限公司")
    assert nz.name_norm("甲股份有限公司") == "甲股份公司"


def test_phone_and_address() -> None:
    assert nz.phone_norm("0372-5951234") == "03725951234"
    assert nz.phone_norm("+86 138 0000 1111") == "13800001111"
    assert nz.phone_norm("无") is None
    assert nz.address_id("安阳市 文峰区（中华路）1号") == nz.address_id("安阳市文峰区(中华路)1号")
    assert nz.address_id(None) is None
