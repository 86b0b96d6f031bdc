"""Data contracts: one small wrapper around Great Expectations 1.x.

A :class:`Contract` lists :class:`Check` items for one table; each becomes one GX expectation
carrying its quarantine rule id (``docs/architecture.md``) and source column in ``meta``. The
frame validated is the ingest layer's normalised frame, whose index is the spreadsheet row
number; derived checks (check characters, parseable dates and amounts, key duplicates) arrive as
precomputed boolean columns validated with ``expect_column_values_to_be_in_set([True])``.

Validation runs in ONE ephemeral context per process (nothing written to disk; suites and
batch definitions registered once and reused; :func:`warm_up` imports GX in the background) with
``result_format="COMPLETE"``, so each failed expectation gives the failing row indexes, which
become :class:`Failure` rows for the quarantine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

RULES = ("uscc_check", "id_check", "date_invalid", "required_missing", "enum_unknown",
         "amount_invalid", "region_unknown", "key_duplicate")


@dataclass(frozen=True)
class Check:
    """One expectation. ``kind``: not_null | in_set | flag (boolean column, True = ok)."""

    kind: str
    column: str
    rule: str
    source_column: str
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Contract:
    table: str
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class Failure:
    row: int
    column: str
    rule: str
    field: str


@dataclass
class Validation:
    """Outcome of one validation: failures and a per-expectation summary for the report."""

    failures: list[Failure] = field(default_factory=list)
    expectations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_rows(self) -> set[int]:
        return {f.row for f in self.failures}


_CONTEXT_LOCK = threading.Lock()


def _context() -> Any:
    """The one ephemeral GX context of the process (created once, thread-safe)."""
    with _CONTEXT_LOCK:
        return _make_context()


def warm_up() -> threading.Thread:
    """Import GX and create the context in a background thread (the import alone costs
    seconds; an ingest starts it first thing so it overlaps connecting and reading)."""
    thread = threading.Thread(target=_context, name="gx-warm-up", daemon=True)
    thread.start()
    return thread


@lru_cache(maxsize=1)
def _make_context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.data_sources.add_pandas("riskgraph_ingest")
    return context


def _expectation(check: Check) -> Any:
    import great_expectations.expectations as gxe

    meta = {"rule": check.rule, "column": check.source_column}
    if check.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=check.column, meta=meta)
    if check.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=check.column, value_set=list(check.values),
                                               meta=meta)
    if check.kind == "flag":
        return gxe.ExpectColumnValuesToBeInSet(column=check.column, value_set=[True], meta=meta)
    raise ValueError(f"unknown check kind {check.kind!r}")


def build_suite(contract: Contract) -> Any:
    """The GX ExpectationSuite of ``contract`` (registered once in the ephemeral context)."""
    import great_expectations as gx

    context = _context()
    name = f"contract_{contract.table}"
    try:
        return context.suites.get(name)
    except Exception:  # noqa: BLE001 — not yet registered
        suite = gx.ExpectationSuite(name=name)
        for check in contract.checks:
            suite.add_expectation(_expectation(check))
        return context.suites.add(suite)


def _batch_definition(table: str) -> Any:
    source = _context().data_sources.get("riskgraph_ingest")
    try:
        asset = source.get_asset(table)
    except LookupError:
        asset = source.add_dataframe_asset(table)
    try:
        return asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        return asset.add_batch_definition_whole_dataframe("whole")


def validate(frame: pd.DataFrame, contract: Contract) -> Validation:
    """Validate ``frame`` (index = spreadsheet row numbers) against ``contract``."""
    out = Validation()
    checks = [c for c in contract.checks if c.column in frame.columns]
    if frame.empty or not checks:
        return out
    columns = sorted({c.column for c in checks})
    batch = _batch_definition(contract.table).get_batch(
        batch_parameters={"dataframe": frame[columns]})
    result = batch.validate(build_suite(contract), result_format="COMPLETE")
    by_config = {(c.column, c.rule): c for c in checks}
    for item in result.results:
        meta = item.expectation_config.meta or {}
        column = item.expectation_config.kwargs.get("column")
        check = by_config.get((str(column), str(meta.get("rule"))))
        if check is None:
            continue
        details = item.result or {}
        rows = details.get("unexpected_index_list") or []
        out.expectations.append({
            "expectation": item.expectation_config.type,
            "column": check.source_column, "rule": check.rule, "success": bool(item.success),
            "unexpected": int(details.get("unexpected_count") or 0),
            "element_count": int(details.get("element_count") or len(frame)),
        })
        for row in rows:
            index = row if not isinstance(row, dict) else next(iter(row.values()))
            out.failures.append(Failure(int(index), check.source_column, check.rule,
                                        check.column))
    return out


def contract_rules(contracts: Sequence[Contract]) -> set[str]:
    """Every rule id used by ``contracts`` (all must be declared in :data:`RULES`)."""
    return {c.rule for contract in contracts for c in contract.checks}
