"""The generated world: people, firms, schemes, and the event rows of each source table."""

from __future__ import annotations

from dataclasses import dataclass, field

from demo.firms import FirmFactory
from demo.model import Context, Firm, Person, Scheme
from demo.people import People

FULL, INC = "full", "inc"


@dataclass
class World:
    """Everything generated, before rendering. Event rows are dicts of clean values keyed by
    Chinese header; keys starting with ``_`` are metadata (``_p`` protects a row from being
    made invalid, ``_parent`` names the parent record of a child row)."""

    ctx: Context
    people: People
    factory: FirmFactory
    schemes: list[Scheme] = field(default_factory=list)
    events: dict[tuple[str, str], list[dict[str, object]]] = field(default_factory=dict)
    status_change: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def firms(self) -> list[Firm]:
        return self.factory.firms

    @property
    def persons(self) -> list[Person]:
        return self.people.persons

    def add(self, table: str, delivery: str, row: dict[str, object]) -> None:
        self.events.setdefault((table, delivery), []).append(row)

    def rows(self, table: str, delivery: str) -> list[dict[str, object]]:
        return self.events.get((table, delivery), [])

    def scheme_of(self, firm: Firm) -> Scheme | None:
        return self.schemes[firm.scheme] if firm.scheme >= 0 else None
