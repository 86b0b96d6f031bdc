"""The audit trail: append-only ``AuditEvent`` nodes, written through :func:`record` only.

An event is ``event_id`` (random UUID), ``user``, ``role``, ``action`` (one of
:data:`ACTIONS`), ``target`` (what was looked at: a USCC, a person key, a search string, a
file), ``detail`` (a JSON string) and ``at`` (UTC ISO time). The Cypher for it is one ``CREATE``
and ``MATCH … RETURN`` reads (``graph.cypher`` section ``security``); no builder updates or
deletes audit events, and a test scans ``graph.cypher`` to keep it so.

Values are stored verbatim as parameters (a search string with Cypher or HTML in it is data);
long values are clipped. The administrator exports the trail with :func:`export_audit` (CSV,
formula-like cells neutralised).
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from neo4j import Driver

from analytics.export import safe_cell
from graph import access, cypher
from riskgraph.errors import UsageError
from security.users import User, now_iso, write_read

ACTIONS: frozenset[str] = frozenset({
    "login", "login_failed", "logout", "search", "view_enterprise", "view_person",
    "view_group", "view_network", "view_county", "export", "handoff", "handoff_status",
    "ledger_edit", "ledger_pass_down",
    "access_denied", "user_add", "user_disable", "user_enable", "user_set_password",
    "audit_export",
})
FIELDS = ("event_id", "at", "user", "role", "action", "target", "detail")
MAX_TARGET = 500
MAX_DETAIL = 4000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def record(driver: Driver, action: str, *, user: User | str, role: str | None = None,
           target: str = "", detail: Mapping[str, Any] | str | None = None,
           now: datetime | None = None) -> str:
    """Append one audit event; returns its ``event_id``. ``user`` is the acting account (or a
    name, e.g. the username typed into a failed sign-in, or ``cli:<os user>``)."""
    if action not in ACTIONS:
        raise UsageError(f"unknown audit action {action!r}", f"use one of {sorted(ACTIONS)}")
    name = user.username if isinstance(user, User) else str(user)
    role_name = role if role is not None else (user.role if isinstance(user, User) else "")
    if detail is None:
        detail_text = ""
    elif isinstance(detail, str):
        detail_text = detail
    else:
        detail_text = json.dumps(dict(detail), ensure_ascii=False, sort_keys=True, default=str)
    event_id = uuid.uuid4().hex
    rows = write_read(driver, cypher.security_audit_create(), {
        "event_id": event_id, "user": _clip(name, MAX_TARGET), "role": role_name,
        "action": action, "target": _clip(str(target or ""), MAX_TARGET),
        "detail": _clip(detail_text, MAX_DETAIL), "at": now_iso(now)})
    return str(rows[0]["event_id"]) if rows else event_id


def events(driver: Driver, *, user: str | None = None, action: str | None = None,
           since: str | None = None, limit: int = 1000,
           newest_first: bool = True) -> list[dict[str, Any]]:
    """Audit events (dicts with :data:`FIELDS`), filtered, newest first by default."""
    rows = access.read(driver, cypher.security_audit_list(newest_first), {
        "user": user, "action": action, "since": since, "limit": int(limit)})
    return [{k: r["event"].get(k) for k in FIELDS} for r in rows]


def export_audit(driver: Driver, out_csv: Path, *, since: str | None = None,
                 limit: int = 1_000_000) -> int:
    """Write the audit trail, oldest first, as a UTF-8 CSV with a header; every cell goes
    through :func:`analytics.export.safe_cell` (formula-like cells neutralised). Returns the
    number of rows written."""
    rows = events(driver, since=since, limit=limit, newest_first=False)
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow([safe_cell(row.get(k)) for k in FIELDS])
    return len(rows)
