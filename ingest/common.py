"""Small helpers shared by the source folders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from ingest.normalise import INVALID
from ingest.spec import WAN, YUAN, Field

__all__ = ["F", "WAN", "YUAN", "rows", "num"]


def F(header: str, name: str, kind: str = "text", **kw: Any) -> Field:  # noqa: N802
    """Shorthand for :class:`ingest.spec.Field`."""
    return Field(header, name, kind, **kw)


def rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(spreadsheet row, {field: value})`` over a prepared frame; NaN → None."""
    columns = [c for c in frame.columns if not c.startswith("__ok_")]
    for index, values in zip(frame.index, frame[columns].itertuples(index=False), strict=True):
        record = {}
        for name, value in zip(columns, values, strict=True):
            if isinstance(value, float) and value != value:
                value = None
            record[name] = None if value is INVALID else value
        yield int(index), record


def num(value: Any) -> Any:
    """A parsed number or None (INVALID never reaches the graph: those rows are quarantined)."""
    return None if value is None or value == INVALID else value
