"""Declared table specs and the generic preparation step (zavod-style: specs are data).

A source folder (``ingest/<source>/``) declares its tables as :class:`TableSpec` objects: the
Chinese headers with their internal field names, kinds, which columns must be present, which
values must not be empty, enumerations and lookups for dirty categorical values. :func:`prepare`
turns a raw frame into

* a normalised frame with internal column names (index = spreadsheet row number),
* derived ``__ok_*`` boolean columns for the checks GX validates as flags,
* the :class:`data_contracts.Contract` of the table,
* the audit of leftovers: columns not read (not declared: reported, never used) and the
  headers read as declared ones they differ from (alias, spaces, full-width characters:
  ``header_mappings``, reported). A declared header is read before an alias or spaced form
  of it, which is then a column not read (reported). Two header cells read as the same
  declared column with no exact declared header to prefer (the same header twice once
  cleaned, or two aliases of one column) reject the table: which one holds the field is not
  known, and nothing is guessed.

Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from data_contracts import Check, Contract
from ingest import normalise as nz
from ingest.build_cache import is_valid_citizen_id, is_valid_regno, is_valid_uscc
from riskgraph.divisions import divisions
from riskgraph.errors import DataError
from riskgraph.identifiers import is_masked_id

if TYPE_CHECKING:
    from ingest.build import BuildContext, Writes

WAN, YUAN = 1e4, 1.0
DATE_MIN, DATE_MAX = "1949-10-01", "2030-12-31"
AMOUNT_MAX_YUAN = 1e13

KINDS = ("text", "key", "uscc", "id", "code", "date", "amount", "int", "ratio", "enum", "region",
         "phone")


@dataclass(frozen=True)
class Field:
    """One column: ``header`` (Chinese), internal ``name`` and how to read it."""

    header: str
    name: str
    kind: str = "text"
    required: bool = False  # column must be present, else the file is rejected
    not_null: bool = False  # value must be present, else required_missing
    unit: float = WAN  # amounts: unit of the field in 元
    values: tuple[str, ...] = ()  # enumeration (after lookup)
    lookup: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A table of a source: its fields, record key and whether rows only add (child table)."""

    source: str
    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    child: bool = False
    build: Callable[[pd.DataFrame, BuildContext], Writes] | None = None
    order: int = 50  # load order inside a delivery (records before children)
    snapshot_key: tuple[str, ...] = ()
    """A child table's columns that name what its rows belong to (it has no ``key``): the
    record key of a row in a full snapshot (:attr:`seen_columns`)."""

    @property
    def seen_columns(self) -> tuple[str, ...]:
        """The columns whose values are the record key (``rec_key``) of a row: the ``key`` of a
        record table, the :attr:`snapshot_key` of a child table. In a full snapshot a row
        quarantined with these values readable still accounts for the records of that key:
        they are not ended (for a child table: the owner's records of that table)."""
        return self.key or self.snapshot_key

    @property
    def headers(self) -> dict[str, Field]:
        out: dict[str, Field] = {}
        for f in self.fields:
            out[f.header] = f
            for alias in f.aliases:
                out[alias] = f
        return out


@dataclass
class Prepared:
    frame: pd.DataFrame
    contract: Contract
    unexpected_columns: list[str]
    missing_optional: list[str]
    duplicates: list[tuple[int, int]]  # (row, duplicate_of_row)
    headers: dict[str, str] = field(default_factory=dict)
    """Internal field name → the header of the file that was read for it."""
    header_mappings: dict[str, str] = field(default_factory=dict)
    """Header as written in the file → the declared header it was read as, where they differ
    (an alias, spaces, full-width characters)."""


def omap(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` over a Series, NaN/NA passed as None, result kept as objects (no NaN coercion)."""
    return pd.Series([fn(None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                         else v) for v in series.tolist()], index=series.index, dtype=object)


def _valid_code(value: str) -> bool:
    return is_valid_uscc(value) or is_valid_regno(value)


def _looks_like_id(value: str) -> bool:
    return len(value) == 18 and value[:17].isdigit() and value[17] in "0123456789X"


def code_rule(value: str | None) -> str | None:
    """None when ``value`` is acceptable as a subject code (USCC, 注册号, citizen ID or masked),
    else the rule it fails (``id_check`` for ID-shaped values, ``uscc_check`` otherwise)."""
    if value is None or _valid_code(value) or is_valid_citizen_id(value) or is_masked_id(value):
        return None
    return "id_check" if _looks_like_id(value) or len(value) in (15, 17) and value.isdigit() \
        else "uscc_check"


def _codes(cleaned: pd.Series) -> pd.Series:
    """Codes from an already cleaned column: spaces removed, upper case."""
    return pd.Series([None if v is None else v.replace(" ", "").upper()
                      for v in cleaned.tolist()], index=cleaned.index, dtype=object)


def _range_ok(series: pd.Series, low: float, high: float) -> pd.Series:
    return omap(series, lambda v: v is None or (v != nz.INVALID and low <= float(v) <= high))


_REGION_SPLIT = re.compile(r"[;；、,，/\s]+")


def parse_regions(text: str | None, city: str) -> list[str] | None:
    """``410502;林州市`` → ``["410502", "410581"]``; None when any part is unknown."""
    if text is None:
        return []
    reg = divisions()
    codes: list[str] = []
    for token in _REGION_SPLIT.split(text):
        if not token:
            continue
        if token.isdigit():
            item = reg.get(token[:6]) if len(token) in (6, 9, 12) else None
        else:
            item = reg.parse_region(token, city)
        if item is None:
            return None
        if item.code not in codes:
            codes.append(item.code)
    return codes


def prepare(raw: pd.DataFrame, spec: TableSpec, fx_rates: Mapping[str, float],
            city: str = "410500") -> Prepared:
    """Normalise ``raw`` (cleaned headers, raw cells) per ``spec``; DataError when required
    columns are missing."""
    headers = spec.headers
    _refuse_one_column_twice(raw, spec)
    present: dict[str, str] = {}  # internal name -> header used
    unexpected: list[str] = []  # columns not read: undeclared, or a second one for a field
    mappings: dict[str, str] = {}
    written = raw.attrs.get("raw_headers", {})
    declared = {f.header for f in spec.fields}
    # a declared header is read before an alias or spaced form of it (either may come first)
    for column in sorted(raw.columns, key=lambda c: str(c) not in declared):
        f = _field_of(headers, str(column))
        if f is None or f.name in present:
            unexpected.append(str(column))
            continue
        present[f.name] = str(column)
        original = written.get(column, str(column))
        if original != f.header:
            mappings[original] = f.header
    order = {str(c): i for i, c in enumerate(raw.columns)}
    unexpected.sort(key=lambda c: order[c])
    missing = [f.header for f in spec.fields if f.required and f.name not in present]
    if missing:
        raise DataError(f"table {spec.name}: required column(s) missing: {', '.join(missing)}",
                        "deliver every required column (see shared/spec/source-formats.md)")
    missing_optional = [f.header for f in spec.fields if not f.required and f.name not in present]

    # exact duplicates on the raw cleaned cells (reported, not failures)
    cleaned = pd.DataFrame({c: nz.clean_series(raw[c]) for c in present.values()},
                           index=raw.index)
    filled = cleaned.astype(object).where(cleaned.notna(), "\x00")
    hashes = pd.util.hash_pandas_object(filled, index=False) if len(filled.columns) else \
        pd.Series(0, index=cleaned.index)
    dup_mask = hashes.duplicated(keep="first")
    duplicates: list[tuple[int, int]] = []
    if dup_mask.any():
        first_of = {h: int(str(i)) for i, h in hashes[~dup_mask].items()}
        duplicates = [(int(str(i)), first_of[h]) for i, h in hashes[dup_mask].items()]
    cleaned = cleaned[~dup_mask]
    raw = raw.loc[cleaned.index]

    out = pd.DataFrame(index=cleaned.index)
    checks: list[Check] = []
    for f in spec.fields:
        if f.name not in present:
            out[f.name] = None
            continue
        header = present[f.name]
        col = cleaned[header]
        if f.kind in ("uscc", "id", "code", "key"):
            col = _codes(col)
        if f.kind == "uscc":
            out["__ok_" + f.name] = omap(col, lambda v: v is None or _valid_code(v))
            checks.append(Check("flag", "__ok_" + f.name, "uscc_check", header))
        elif f.kind == "id":
            out["__ok_" + f.name] = omap(col,
                lambda v: v is None or is_valid_citizen_id(v) or is_masked_id(v))
            checks.append(Check("flag", "__ok_" + f.name, "id_check", header))
        elif f.kind == "code":
            rules = omap(col, code_rule)
            for rule in ("uscc_check", "id_check"):
                out[f"__ok_{f.name}_{rule}"] = rules != rule
                checks.append(Check("flag", f"__ok_{f.name}_{rule}", rule, header))
        elif f.kind == "date":
            col = nz.memo_series(raw[header], nz.parse_date)
            out["__ok_" + f.name] = omap(col,
                lambda v: v is None or (v != nz.INVALID and DATE_MIN <= v <= DATE_MAX))
            checks.append(Check("flag", "__ok_" + f.name, "date_invalid", header))
        elif f.kind in ("amount", "int"):
            unit = f.unit if f.kind == "amount" else 1.0

            def parse(v: Any, u: float = unit) -> Any:
                return nz.parse_amount(v, u, fx_rates)

            parsed = nz.memo_series(raw[header], parse)
            col = omap(parsed, lambda t: t[0])
            out[f.name + "__currency"] = omap(parsed, lambda t: t[1])
            out[f.name + "__original"] = cleaned[header]
            ok = _range_ok(col, 0, AMOUNT_MAX_YUAN / unit)
            if f.kind == "int":
                ok = ok & omap(col, lambda v: v is None or v == nz.INVALID or float(v).is_integer())
                col = omap(col, lambda v: int(v) if v is not None and v != nz.INVALID else v)
            out["__ok_" + f.name] = ok
            checks.append(Check("flag", "__ok_" + f.name, "amount_invalid", header))
        elif f.kind == "ratio":
            col = nz.memo_series(raw[header], nz.parse_ratio)
            out["__ok_" + f.name] = omap(col, lambda v: v != nz.INVALID)
            checks.append(Check("flag", "__ok_" + f.name, "amount_invalid", header))
        elif f.kind == "enum":
            col = omap(col, partial(nz.lookup, table=f.lookup))
            checks.append(Check("in_set", f.name, "enum_unknown", header, tuple(f.values)))
        elif f.kind == "region":
            col = nz.memo_series(col, lambda v: parse_regions(v, city))
            out["__ok_" + f.name] = omap(col, lambda v: v is not None)
            checks.append(Check("flag", "__ok_" + f.name, "region_unknown", header))
        elif f.kind == "phone":
            out[f.name + "__raw"] = col
            col = omap(col, nz.phone_norm)
        if f.kind == "text" and f.lookup:
            col = omap(col, partial(nz.lookup, table=f.lookup))
        out[f.name] = col
        if f.not_null:
            checks.insert(0, Check("not_null", f.name, "required_missing", header))
    if spec.key and not spec.child:
        keys = list(spec.key)
        has_key = out[keys].notna().all(axis=1)
        key_frame = out[keys].astype(object).where(out[keys].notna(), "\x00")
        dup = key_frame.duplicated(keep="first") & has_key
        out["__ok_key"] = ~dup
        checks.append(Check("flag", "__ok_key", "key_duplicate", present.get(keys[0], keys[0])))
    contract = Contract(f"{spec.source}.{spec.name}", tuple(checks))
    return Prepared(out, contract, unexpected, missing_optional, duplicates, present, mappings)


def _field_of(headers: Mapping[str, Field], column: str) -> Field | None:
    """The declared field a (cleaned) header is read as: its header or an alias, spaces
    inside it ignored; None when it names none."""
    return headers.get(column) or headers.get(column.replace(" ", ""))


def _refuse_one_column_twice(raw: pd.DataFrame, spec: TableSpec) -> None:
    """DataError (the file is rejected) when two header cells are read as the same declared
    column and exactly one of them is not that column's header as declared (which is then
    read, the others reported as columns not read): the same header twice once cleaned, or
    two aliases or spaced forms of a column whose header is absent. The message names both
    cells as written, where they are and the column."""
    headers = spec.headers
    cells = raw.attrs.get("header_cells") or [
        (f"column {i + 1}", str(c)) for i, c in enumerate(raw.columns)]
    by_field: dict[str, list[tuple[str, str, bool]]] = {}
    for (position, written), column in zip(cells, raw.columns, strict=True):
        f = _field_of(headers, str(column))
        if f is not None:
            by_field.setdefault(f.name, []).append((position, written, str(column) == f.header))
    for name, found in by_field.items():
        if len(found) < 2 or sum(exact for *_, exact in found) == 1:
            continue
        pair = [c for c in found if c[2]][:2] if any(c[2] for c in found) else found[:2]
        (where, before, _), (position, written, _) = pair
        sheet = raw.attrs.get("sheet")
        table = f"table {spec.name}" + (f" (sheet {sheet!r})" if sheet else "")
        raise DataError(
            f"{table}: header cells {before!r} ({where}) and {written!r} ({position}) are both "
            f"read as column {header_of(spec, name)}",
            "deliver each column once: remove or rename one of the two header cells")


def header_of(spec: TableSpec, name: str) -> str:
    return next(f.header for f in spec.fields if f.name == name)


def as_value(v: Any) -> Any:
    """A frame cell as a Neo4j property value (None for missing/NaN)."""
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    return v
