"""Who may change what in the working ledger — checked in the data layer, not only the UI.

Every changing function of :mod:`workflow.ledger` and :mod:`workflow.handoff` turns its
``user`` argument into an :class:`Actor` and asks this module before writing:

* a signed-in :class:`security.users.User` acts with its role (``security.roles``):

  - **edit** a county's entries (fields, status): roles with ``may_edit_ledger`` (the county
    office) and only for the role's own counties. The city leading group reads every ledger but
    does not edit county entries (属地管理: the county keeps its own ledger — product.md);
  - **pass down** a city-level clue (市级交办): roles with ``may_pass_down`` (the city);
  - **advance a cross-region hand-off**: roles with ``may_handoff`` (the city) along every
    declared move; a county office whose counties include the group's lead region (主办地区)
    along the moves of the receiving side (:data:`LEAD_MOVES`: accept, return, close).

* a plain name (``"cli:ops"``, ``"system"``) is a trusted operator: the command line and the
  refresh job run with the database credentials, so a role check there would protect nothing.
  They are still recorded by name in the history and the audit trail.

A refusal raises :class:`riskgraph.errors.RejectedError` (exit 1 at the CLI) and writes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riskgraph.errors import RejectedError, UsageError
from security.roles import role as role_of
from security.users import User

SYSTEM = "system"
#: hand-off moves the lead county (the receiving side) may make itself.
LEAD_MOVES: frozenset[tuple[str, str]] = frozenset({
    ("sent", "accepted"), ("sent", "draft"), ("accepted", "closed"),
})


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a name, a role (``system`` for trusted operators) and the counties
    the role covers (None: the whole city)."""

    name: str
    role: str
    counties: tuple[str, ...] | None = None

    @property
    def trusted(self) -> bool:
        return self.role == SYSTEM

    def covers(self, county: str | None) -> bool:
        return self.counties is None or (county is not None and county in self.counties)


def actor_of(user: Any) -> Actor:
    """The :class:`Actor` behind ``user``: a :class:`User` acts with its role and counties; a
    string (or a mapping/object with only a name) is a trusted operator."""
    if isinstance(user, Actor):
        return user
    if isinstance(user, User):
        spec = role_of(user.role)
        return Actor(user.username, user.role, None if spec.all_counties else user.counties)
    if isinstance(user, str):
        name = user
    elif isinstance(user, Mapping):
        name = str(user.get("username") or user.get("name") or "")
    else:
        name = str(getattr(user, "username", "") or getattr(user, "name", "") or "")
    if not name.strip():
        raise UsageError("a ledger change needs the user who makes it", "pass the user name")
    return Actor(name.strip(), SYSTEM)


def may_edit(user: Any, county: str) -> bool:
    """True when ``user`` may edit entries of ``county``'s ledger."""
    actor = actor_of(user)
    if actor.trusted:
        return True
    return role_of(actor.role).may_edit_ledger and actor.covers(county)


def check_edit(user: Any, county: str) -> Actor:
    """The actor, when it may edit ``county``'s ledger; :class:`RejectedError` otherwise."""
    actor = actor_of(user)
    if may_edit(actor, county):
        return actor
    if actor.role == "city":
        hint = ("the city leading group reads county ledgers; pass a clue down "
                "(市级交办) and the county office edits its entry")
    else:
        hint = "only the county office of that county edits its ledger"
    raise RejectedError(f"{actor.name} ({actor.role}) may not edit the ledger of {county}",
                        hint)


def may_pass_down(user: Any) -> bool:
    """True when ``user`` may pass a city-level clue down to a county (市级交办)."""
    actor = actor_of(user)
    return actor.trusted or role_of(actor.role).may_pass_down


def check_pass_down(user: Any) -> Actor:
    """The actor, when it may pass clues down; :class:`RejectedError` otherwise."""
    actor = actor_of(user)
    if not may_pass_down(actor):
        raise RejectedError(f"{actor.name} ({actor.role}) may not pass clues down",
                            "市级交办 is done by the city leading group office")
    return actor


def may_move_handoff(user: Any, source: str, target: str, lead: str | None) -> bool:
    """True when ``user`` may move a hand-off from ``source`` to ``target`` for a group whose
    lead region is ``lead``. The move itself is checked against the table by the caller."""
    actor = actor_of(user)
    if actor.trusted or role_of(actor.role).may_handoff:
        return True
    return (source, target) in LEAD_MOVES and bool(lead) and actor.role == "county" \
        and actor.covers(lead)


def check_handoff(user: Any, source: str, target: str, lead: str | None) -> Actor:
    """The actor, when it may make this hand-off move; :class:`RejectedError` otherwise."""
    actor = actor_of(user)
    if not may_move_handoff(actor, source, target, lead):
        raise RejectedError(
            f"{actor.name} ({actor.role}) may not move the hand-off {source} → {target}",
            "the city office advances hand-offs; the lead county may accept, return or close")
    return actor
