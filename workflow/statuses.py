"""Ledger statuses, the declared transition table and the reason codes — data, not if-chains.

Statuses follow the county office's working practice:
待核查 → 核查中 → 已化解 / 移交公安 / 已立案 / 排除. Closing (any move into a closed status)
needs a reason code valid for that status and records an :class:`Outcome` verdict for
calibration (``confirmed`` for 已化解/移交公安/已立案, ``dismissed`` for 排除). A closed entry
can be reopened (back to 核查中) when new evidence appears; that too needs a reason code.
"""

from __future__ import annotations

from dataclasses import dataclass

PENDING = "待核查"
CHECKING = "核查中"
RESOLVED = "已化解"
TO_POLICE = "移交公安"
FILED = "已立案"
DISMISSED = "排除"

STATUSES: tuple[str, ...] = (PENDING, CHECKING, RESOLVED, TO_POLICE, FILED, DISMISSED)
OPEN_STATUSES: frozenset[str] = frozenset({PENDING, CHECKING})
CLOSED_STATUSES: frozenset[str] = frozenset({RESOLVED, TO_POLICE, FILED, DISMISSED})

#: verdict recorded in an Outcome when an entry is closed with this status.
VERDICT_FOR: dict[str, str] = {
    RESOLVED: "confirmed",
    TO_POLICE: "confirmed",
    FILED: "confirmed",
    DISMISSED: "dismissed",
}

#: reason code → (label shown to users, statuses it may be used with).
REASONS: dict[str, tuple[str, frozenset[str]]] = {
    "rectified": ("整改到位，风险化解", frozenset({RESOLVED})),
    "refunded": ("资金清退完毕，风险化解", frozenset({RESOLVED})),
    "exited": ("企业注销或停业，风险出清", frozenset({RESOLVED})),
    "suspected_crime": ("涉嫌非法集资犯罪，移送公安", frozenset({TO_POLICE})),
    "police_filed": ("公安机关已立案侦查", frozenset({FILED})),
    "normal_business": ("经核查经营正常，无非法集资行为", frozenset({DISMISSED})),
    "false_positive": ("数据错误或误报", frozenset({DISMISSED})),
    "not_local": ("不属本地管辖，已转属地", frozenset({DISMISSED})),
    "new_evidence": ("出现新线索，重新核查", frozenset({CHECKING})),
}


@dataclass(frozen=True)
class Transition:
    """One allowed move; ``needs_reason`` when the move closes or reopens an entry."""

    source: str
    target: str
    needs_reason: bool = False

    @property
    def closes(self) -> bool:
        return self.source in OPEN_STATUSES and self.target in CLOSED_STATUSES

    @property
    def verdict(self) -> str | None:
        """Outcome verdict to record, or None when the move records none."""
        return VERDICT_FOR.get(self.target) if self.target in CLOSED_STATUSES else None


TRANSITIONS: tuple[Transition, ...] = (
    Transition(PENDING, CHECKING),
    Transition(PENDING, DISMISSED, True),
    Transition(CHECKING, RESOLVED, True),
    Transition(CHECKING, TO_POLICE, True),
    Transition(CHECKING, FILED, True),
    Transition(CHECKING, DISMISSED, True),
    Transition(TO_POLICE, FILED, True),
    Transition(RESOLVED, CHECKING, True),
    Transition(DISMISSED, CHECKING, True),
)

_BY_PAIR: dict[tuple[str, str], Transition] = {(t.source, t.target): t for t in TRANSITIONS}


def next_statuses(status: str) -> list[str]:
    """The statuses an entry in ``status`` may move to, in display order."""
    return [t.target for t in TRANSITIONS if t.source == status]


def find_transition(source: str, target: str) -> Transition | None:
    """The declared transition from ``source`` to ``target``, or None when not allowed."""
    return _BY_PAIR.get((source, target))


def reasons_for(status: str) -> dict[str, str]:
    """Reason codes valid for moving into ``status``: ``{code: label}``."""
    return {code: label for code, (label, allowed) in REASONS.items() if status in allowed}


def is_overdue(entry: dict, today: str) -> bool:
    """True when the entry has a deadline before ``today`` (ISO date) and is still open."""
    deadline = entry.get("deadline") or ""
    return bool(deadline) and entry.get("status") in OPEN_STATUSES and deadline < today
