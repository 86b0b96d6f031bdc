"""Pure normalisers for messy source values (no I/O, no database).

Scalar functions take and return plain values; ``*_series`` variants apply them to a pandas
Series, vectorised where it matters (text cleaning, missing markers) and memoised on distinct
values elsewhere (dates, amounts repeat a lot). ``None`` always means "missing"; a value that
cannot be parsed is returned as :data:`INVALID` so the contracts can quarantine it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

MISSING = frozenset({"", "空", "-", "—", "--", "无", "/", "null", "NULL", "None", "nan", "NaN",
                     "N/A", "n/a", "#N/A"})
INVALID = "\x00invalid"

_SPACE_RE = re.compile(r"[\s\u3000\u00a0]+")
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH["\u3000"] = " "
_FW_TABLE = str.maketrans(_FULLWIDTH)


def half_width(text: str) -> str:
    """Full-width ASCII forms (（）ＡＢＣ１２３, ideographic space) → half-width.

    Only the U+FF01-FF5E block and U+3000 are mapped (safe NFKC subset): CJK text and
    punctuation such as 、。 stay as they are.
    """
    return text.translate(_FW_TABLE)


def clean_text(value: Any) -> str | None:
    """Half-width, stray spaces/line breaks collapsed, trimmed; missing markers → None."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = _SPACE_RE.sub(" ", half_width(str(value))).strip()
    return None if text in MISSING else text


def clean_series(series: pd.Series) -> pd.Series:
    """:func:`clean_text` over a Series (one pass in plain Python, memoised on repeated
    strings; faster than chained pandas string methods on object columns)."""
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    append = out.append
    translate, sub, missing = str.translate, _SPACE_RE.sub, MISSING
    for v in series.tolist():
        if type(v) is str:
            r = cache.get(v, INVALID)
            if r is INVALID:
                text = sub(" ", translate(v, _FW_TABLE)).strip()
                r = None if text in missing else text
                if len(cache) < 200_000:
                    cache[v] = r
            append(r)
        elif v is None or v is pd.NA or (isinstance(v, float) and v != v):
            append(None)
        else:
            append(clean_text(v))
    return pd.Series(out, index=series.index, dtype=object)


def compact(text: str | None) -> str | None:
    """Remove every space (codes, phone numbers, case numbers)."""
    return None if text is None else text.replace(" ", "")


# --- dates ----------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value: Any) -> str | None:
    """A date in any delivered form → ``YYYY-MM-DD``; None when missing; INVALID otherwise.

    Forms: 2023-01-05, 2023/1/5, 2023.1.5, 20230105, 2023年1月5日, Excel serial (e.g. 44931,
    accepted between 1 and 80000), and datetime objects from XLSX cells.
    """
    if hasattr(value, "year") and hasattr(value, "month") and hasattr(value, "day"):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    text = clean_text(value)
    if text is None:
        return None
    text = text.replace(" ", " ").strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d).isoformat()
            except ValueError:
                return INVALID
    serial = re.match(r"^(\d{1,5})(?:\.0+)?$", text)
    if serial and 1 <= int(serial.group(1)) <= 80000:
        return (_EXCEL_EPOCH + timedelta(days=int(serial.group(1)))).isoformat()
    return INVALID


# --- amounts --------------------------------------------------------------------------------

_UNITS = {"": 1.0, "元": 1.0, "万": 1e4, "万元": 1e4, "亿": 1e8, "亿元": 1e8, "千": 1e3,
          "千元": 1e3, "百万": 1e6, "百万元": 1e6}
_AMOUNT_RE = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*(百万|千|万|亿)?\s*(元)?\s*(.*)$")
_CURRENCY_ALIASES = {"人民币": "", "rmb": "", "cny": "", "usd": "美元", "eur": "欧元",
                     "hkd": "港元", "jpy": "日元", "美金": "美元"}


def parse_amount(value: Any, unit: float, fx_rates: Mapping[str, float] | None = None,
                 ) -> tuple[float | None | str, str | None]:
    """An amount → ``(value in the field's unit, currency or None)``.

    ``unit`` is the field's unit in 元 (1 for 元 fields, 1e4 for 万元 fields); a bare number is
    taken to be in that unit, a suffix (万, 亿, 元…) overrides it. Thousands separators are
    dropped. A foreign currency (``1000万美元``) is converted with ``fx_rates`` (CNY per unit).
    Returns ``(None, None)`` when missing and ``(INVALID, None)`` when unparseable, negative
    or in an unknown currency.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value:
            return None, None
        return (float(value), None) if value >= 0 else (INVALID, None)
    text = clean_text(value)
    if text is None:
        return None, None
    text = text.replace(",", "").replace("，", "").replace(" ", "")
    m = _AMOUNT_RE.match(text)
    if not m:
        return INVALID, None
    number, scale, yuan, rest = m.groups()
    currency = rest.strip()
    currency = _CURRENCY_ALIASES.get(currency.lower(), currency)
    if currency.endswith("元") and currency not in ("美元", "欧元", "港元", "日元"):
        currency = currency[:-1]
    amount = float(number)
    if amount < 0:
        return INVALID, None
    if scale or yuan:
        amount = amount * _UNITS[(scale or "") + ("元" if yuan and not scale else "")] / unit
    if currency:
        rate = (fx_rates or {}).get(currency)
        if rate is None:
            return INVALID, None
        return amount * rate, currency
    return amount, None


def parse_ratio(value: Any) -> float | None | str:
    """``35%`` → 0.35; ``0.35`` → 0.35; ``35`` → 0.35 (> 1 is a percentage). INVALID if > 100 %."""
    text = clean_text(value)
    if text is None:
        return None
    text = text.replace(" ", "")
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        return INVALID
    ratio = number / 100 if percent or number > 1 else number
    return round(ratio, 6) if 0 <= ratio <= 1 else INVALID


def memo_series(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct value (dates and amounts repeat a lot)."""
    cache: dict[Any, Any] = {}
    out = []
    for v in series.tolist():
        try:
            r = cache[v]
        except KeyError:
            r = cache[v] = fn(v)
        except TypeError:  # unhashable
            r = fn(v)
        out.append(r)
    return pd.Series(out, index=series.index, dtype=object)


# --- names, addresses, phones ---------------------------------------------------------------

_NAME_SUFFIXES = (
    ("股份有限公司", "股份公司"), ("有限责任公司", "有限公司"), ("有限公司", "有限公司"),
)
_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")"})


def name_norm(name: str | None) -> str | None:
    """A matching key for a company name; the registered name is kept separately.

    Half-width, no spaces, brackets unified and dropped with their content kept
    (``安阳（文峰）`` → ``安阳文峰``), legal-form variants unified (有限责任公司 → 有限公司,
    股份有限公司 → 股份公司), upper-cased Latin letters.
    """
    text = clean_text(name)
    if text is None:
        return None
    text = text.translate(_BRACKETS).replace(" ", "").replace("(", "").replace(")", "").upper()
    for long, short in _NAME_SUFFIXES:
        if text.endswith(long):
            return text[: -len(long)] + short
    return text


def address_id(text: str | None) -> str | None:
    """Address key ``A:`` + sha1(normalised address)[:16] (docs/architecture.md)."""
    norm = address_norm(text)
    if norm is None:
        return None
    return "A:" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:16]


def address_norm(text: str | None) -> str | None:
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    cleaned = cleaned.replace(" ", "").translate(_BRACKETS)
    return cleaned or None


_MOBILE_RE = re.compile(r"^(?:86)?(1[3-9]\d{9})$")
_LANDLINE_RE = re.compile(r"^(0\d{2,3})(\d{7,8})(?:\d{1,4})?$")


def phone_norm(text: Any) -> str | None:
    """Digits only: an 11-digit mobile or area code + number; None when not a phone."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    digits = re.sub(r"\D", "", cleaned.split("转")[0])
    if digits.startswith("0086"):
        digits = digits[4:]
    m = _MOBILE_RE.match(digits)
    if m:
        return m.group(1)
    m = _LANDLINE_RE.match(digits)
    if m:
        return m.group(1) + m.group(2)
    return None


def lookup(value: str | None, table: Mapping[str, str]) -> str | None:
    """Map a dirty categorical value through a declared lookup (identity when not listed)."""
    if value is None:
        return None
    return table.get(value, table.get(value.replace(" ", ""), value))
