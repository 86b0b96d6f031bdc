"""Rendering clean values the way real exports look, and breaking them for invalid rows.

Every valid rendering here is something the spec allows (date forms, amounts with separators or
unit suffixes, missing markers, full-width characters, stray spaces and line breaks); the
``corrupt`` functions make exactly one contract rule fail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from demo.ids import corrupt_check
from riskgraph.identifiers import USCC_ALPHABET, is_valid_citizen_id, is_valid_uscc

MISSING = ("", "-", "无", "/")
DATE_FORMS = ("iso", "slash", "compact", "cn", "serial")
_EXCEL_EPOCH = date(1899, 12, 30)
_FULL = str.maketrans(
    "0123456789()ABCDEFGHJKLMNPQRTUWXY",
    "０１２３４５６７８９（）ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ",
)
_HALF_PARENS = str.maketrans("（）", "()")
_FULL_PARENS = str.maketrans("()", "（）")


@dataclass
class Style:
    """How one file renders values: its main date form and missing marker, and noise rates."""

    date_form: str
    missing: str
    xlsx: bool
    noise: float

    @classmethod
    def pick(cls, rng: random.Random, xlsx: bool) -> Style:
        return cls(
            date_form=rng.choice(DATE_FORMS[:4]) if not xlsx or rng.random() < 0.5 else "serial",
            missing=rng.choice(MISSING),
            xlsx=xlsx,
            noise=rng.uniform(0.5, 1.5),
        )


def fmt_number(x: float) -> str:
    """``1200.5`` → ``1200.5``; ``500.0`` → ``500``; at most four decimals."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def render_date(d: date, style: Style, rng: random.Random) -> str | int:
    form = style.date_form if rng.random() < 0.75 else rng.choice(DATE_FORMS)
    if form == "iso":
        return d.isoformat()
    if form == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if form == "compact":
        return f"{d:%Y%m%d}"
    if form == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    serial = (d - _EXCEL_EPOCH).days
    return serial if style.xlsx else str(serial)


def render_wan(v: float, rng: random.Random, style: Style, currency: str = "") -> str | float:
    """An amount in 万元 (or 万 of a foreign currency)."""
    if currency:
        return f"{fmt_number(v)}万{currency}"
    r = rng.random()
    if style.xlsx and r < 0.4:
        return round(v, 4)
    if r < 0.55:
        return fmt_number(v)
    if r < 0.7:
        return f"{v:,.2f}" if v >= 1000 else f"{v:.2f}"
    if r < 0.85:
        return f"{fmt_number(v)}万" + ("元" if rng.random() < 0.3 else "")
    if v >= 10000 and round(v) % 100 == 0:
        return f"{fmt_number(v / 10000)}亿"
    return f"{v:,.4f}".rstrip("0").rstrip(".") if v >= 1000 else fmt_number(v)


def render_yuan(v: float, rng: random.Random, style: Style) -> str | float:
    """An amount in 元."""
    r = rng.random()
    if style.xlsx and r < 0.4:
        return round(v, 2)
    if r < 0.5:
        return f"{v:.2f}" if rng.random() < 0.5 else fmt_number(v)
    if r < 0.85:
        return f"{v:,.2f}"
    if round(v) % 100 == 0 and v >= 10000:
        return f"{fmt_number(v / 10000)}万"
    return fmt_number(v)


def render_ratio(pct: float, rng: random.Random) -> str:
    """A share as ``35%``, ``0.35`` or ``35`` (a bare value ≤ 1 reads as a fraction)."""
    percent = pct * 100
    r = rng.random()
    if r < 0.5 or percent <= 1:
        return f"{fmt_number(round(percent, 2))}%"
    if r < 0.8:
        return fmt_number(round(pct, 4))
    return fmt_number(round(percent, 2))


NOISE_RATE = {
    "name": 0.04,
    "address": 0.06,
    "longtext": 0.05,
    "text": 0.02,
    "enum": 0.01,
    "uscc": 0.01,
    "pid": 0.01,
    "code": 0.01,
}


def noisy_text(text: str, rng: random.Random, kind: str) -> str:
    """One realistic blemish: a line break, swapped parentheses, full-width digits, spaces."""
    if not text:
        return text
    r = rng.random()
    if kind in ("address", "longtext") and r < 0.45 and len(text) > 6:
        cut = rng.randint(2, len(text) - 2)
        return text[:cut] + rng.choice(("\n", "\r\n", " \n")) + text[cut:]
    if kind in ("name", "address") and r < 0.6 and ("(" in text or "（" in text):
        return text.translate(_HALF_PARENS if rng.random() < 0.5 else _FULL_PARENS)
    if kind == "address" and r < 0.7:
        return text.translate(_FULL)
    if rng.random() < 0.5:
        return rng.choice((" ", "  ", "\u3000")) + text
    return text + rng.choice((" ", "  ", "\n"))


def noisy_code(code: str, rng: random.Random) -> str:
    """Identifiers: a surrounding space, or (rarely) the full-width form."""
    r = rng.random()
    if r < 0.3:
        return code.translate(_FULL)
    return " " + code if r < 0.65 else code + " "


def render_caseno(case_no: str, rng: random.Random) -> str:
    """案号 with half- or full-width parentheses (the key is the half-width form)."""
    return case_no.translate(_FULL_PARENS) if rng.random() < 0.6 else case_no


def missing(style: Style, rng: random.Random) -> str:
    return style.missing if rng.random() < 0.85 else rng.choice(MISSING)


# -- breaking values ---------------------------------------------------------------------------
def bad_uscc(code: str, rng: random.Random) -> str:
    """``code`` with a wrong check character (and not readable as a citizen ID either)."""
    while True:
        bad = corrupt_check(code, USCC_ALPHABET, rng)
        if not is_valid_citizen_id(bad):
            return bad


def bad_id(code: str, rng: random.Random) -> str:
    """``code`` with a wrong check character (and not readable as a USCC either)."""
    while True:
        bad = corrupt_check(code, "0123456789X", rng)
        if not is_valid_uscc(bad):
            return bad


def bad_date(d: date | None, rng: random.Random) -> str:
    """An impossible date in one of the spec's forms."""
    year = d.year if d else 2025
    month, day = rng.choice(
        ((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 5), (0, 12))
    )
    form = rng.choice(("iso", "slash", "compact", "cn"))
    if form == "iso":
        return f"{year}-{month:02d}-{day:02d}"
    if form == "slash":
        return f"{year}/{month}/{day}"
    if form == "compact":
        return f"{year}{month:02d}{day:02d}"
    return f"{year}年{month}月{day}日"


def bad_amount(rng: random.Random) -> str:
    return rng.choice(("约50万", "12.3.4", "壹佰万元", "待定金额", "50万~80万", "#VALUE!"))


def bad_region(rng: random.Random, province: str) -> str:
    return f"{province}99{rng.randint(50, 99)}"
