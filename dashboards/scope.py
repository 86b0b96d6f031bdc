"""Who is looking: the :class:`Scope` every data function of the app requires.

A scope limits what a viewer sees. ``counties`` is a tuple of county codes (None = the whole
city); ``sector`` restricts to one sector (None = all); ``can_see_persons`` shows personal names
(else the masked names); ``can_see_police_credit`` shows police clues and credit facts. Sign-in
(added later) builds a Scope from the user's role; until then the app offers the roles of
:data:`ROLES` to choose from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("city", "county", "sector", "analyst", "operator")


@dataclass(frozen=True)
class Scope:
    """The viewer's scope. Frozen and hashable, so cached data functions can key on it."""

    role: str
    counties: tuple[str, ...] | None = None
    sector: str | None = None
    can_see_persons: bool = False
    can_see_police_credit: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.counties is not None and not isinstance(self.counties, tuple):
            object.__setattr__(self, "counties", tuple(self.counties))

    def params(self) -> dict[str, Any]:
        """The query parameters every scoped builder of ``graph.cypher`` expects."""
        return {
            "counties": list(self.counties) if self.counties is not None else None,
            "sector": self.sector,
            "can_see_persons": self.can_see_persons,
            "can_see_police_credit": self.can_see_police_credit,
        }

    def sees_county(self, code: str | None) -> bool:
        """True when ``code`` lies inside the scope."""
        return self.counties is None or (code is not None and code in self.counties)


def city_scope() -> Scope:
    """The leading group / city office: everything."""
    return Scope("city", None, None, True, True)


def county_scope(county: str) -> Scope:
    """A county office (县区处非办): its own territory, persons visible, police/credit hidden."""
    return Scope("county", (county,), None, True, False)


def sector_scope(sector: str) -> Scope:
    """A sector regulator: its sector across the city; no persons, no police/credit."""
    return Scope("sector", None, sector, False, False)
