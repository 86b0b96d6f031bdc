"""The registry of sources: folder name → declared tables (load order inside a delivery)."""

from __future__ import annotations

from ingest import ads, bank, court, credit, police, registration, tax, tips
from ingest.spec import TableSpec

SOURCES: dict[str, tuple[TableSpec, ...]] = {
    "registration": registration.TABLES,
    "tax": tax.TABLES,
    "credit": credit.TABLES,
    "court": court.TABLES,
    "police": police.TABLES,
    "tips": tips.TABLES,
    "bank": bank.TABLES,
    "ads": ads.TABLES,
}
SOURCE_ORDER = tuple(SOURCES)


def table_spec(source: str, table: str) -> TableSpec:
    return next(t for t in SOURCES[source] if t.name == table)


def table_names(source: str) -> list[str]:
    return [t.name for t in SOURCES[source]]
