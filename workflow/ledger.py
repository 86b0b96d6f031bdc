"""The county risk ledger (风险台账): entries, sync from scores, transitions, history, outcomes.

An entry (``LedgerEntry``, ``-[:LEDGER_FOR]->`` an Enterprise or a Group) is keyed
``<county>|<E|G>|<uscc or group_id>``: one entry per county and subject, so adding or syncing
twice never duplicates. Entries come from three origins: ``auto`` (:func:`sync_ledger`, when the
live score level reaches ``Settings.ledger_level``), ``user`` (:func:`add_entry`) and ``city``
(:func:`pass_down`, 市级交办).

Every change appends an immutable ``LedgerEvent`` (who, when, action, JSON of ``{field: [old,
new]}``); nothing ever updates or deletes one. Status moves follow the declared table in
:mod:`workflow.statuses`; a refused move raises :class:`riskgraph.errors.RejectedError` with the
allowed next statuses. Closing records an ``Outcome`` (confirmed/dismissed + reason code) for
calibration.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph import access, cypher
from riskgraph.divisions import COUNTY, divisions
from riskgraph.errors import RejectedError, UsageError
from riskgraph.settings import LEDGER_LEVELS, Settings
from security import audit
from workflow import permissions as perms
from workflow import statuses as st

LEVEL_ORDER: tuple[str, ...] = LEDGER_LEVELS  # highest first; RISKGRAPH_LEDGER_LEVEL is one
LEVEL_NAMES: dict[str, str] = {
    "red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝", "none": "无",
}
ORIGIN_NAMES: dict[str, str] = {"auto": "系统预警", "user": "人工添加", "city": "市级交办"}
DEFAULT_DEPARTMENT = "属地政府指定部门（无明确主管部门）"

#: fields a user may edit (besides the status, which only moves by :func:`transition`).
EDITABLE: dict[str, str] = {
    "assignee": "责任人",
    "leader": "分管领导",
    "department": "责任部门",
    "plan": "一企一策",
    "deadline": "办理期限",
    "notes": "备注",
    "attachments": "附件",
}


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_ledger` did: entries created, existing entries refreshed, skipped."""

    created: int
    refreshed: int
    skipped: int


# --- small helpers --------------------------------------------------------------------------


def stamp(at: datetime | None = None) -> str:
    """ISO timestamp (local time, microseconds) used for ``at``/``created_at``."""
    return (at or datetime.now()).replace(tzinfo=None).isoformat(timespec="microseconds")


def user_name(user: Any) -> str:
    """A user's name from a string, a :class:`security.users.User` or an object/dict with
    ``username``/``name``."""
    return perms.actor_of(user).name


def entry_id_for(county: str, kind: str, key: str) -> str:
    """The stable entry key ``<county>|<E|G>|<key>``."""
    if kind not in ("enterprise", "group"):
        raise UsageError(f"unknown subject kind {kind!r}", "use 'enterprise' or 'group'")
    return f"{county}|{'E' if kind == 'enterprise' else 'G'}|{key}"


def levels_at_or_above(level: str) -> list[str]:
    """Level names at or above ``level`` (``orange`` → red, orange)."""
    if level not in LEVEL_ORDER:
        raise UsageError(f"unknown ledger level {level!r}", f"use one of {', '.join(LEVEL_ORDER)}")
    return list(LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1])


def level_of(score: float | None, thresholds: Mapping[str, float]) -> str:
    """Warning level of a 0-100 score under the settings' thresholds."""
    if score is None:
        return "none"
    for name in LEVEL_ORDER[:-1]:
        if score >= thresholds.get(name, 101.0):
            return name
    return "none"


def _check_date(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if text == "":
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise UsageError(f"deadline {text!r} is not a date", "use YYYY-MM-DD") from exc


def _event(entry_id: str, user: str, action: str, at: str, changes: Mapping[str, Any],
           note: str | None = None) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "entry_id": entry_id,
        "user": user,
        "action": action,
        "at": at,
        "changes": json.dumps(changes, ensure_ascii=False, default=str),
        "note": note or "",
    }


def _tx_rows(tx: ManagedTransaction, query: str, params: Mapping[str, Any]) -> list[dict]:
    return [r.data() for r in tx.run(query, dict(params))]


def write_rows(driver: Driver, query: str, params: Mapping[str, Any],
               database: str | None = None) -> list[dict[str, Any]]:
    """Run one write query in a managed transaction and return its records."""
    with driver.session(database=database) as session:
        return session.execute_write(_tx_rows, query, params)


# --- sync from scores -----------------------------------------------------------------------


def _entry_props(county: str, kind: str, key: str, name: str, origin: str, user: str,
                 rec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "county": county,
        "subject_kind": kind,
        "subject_key": key,
        "name": name,
        "status": st.PENDING,
        "origin": origin,
        "city_passed": origin == "city",
        "created_by": user,
        "department": rec.get("department") or DEFAULT_DEPARTMENT,
        "sector": rec.get("sector") or "",
        "score_at_entry": rec.get("score"),
        "level_at_entry": rec.get("level") or "none",
        "last_score": rec.get("score"),
        "last_level": rec.get("level") or "none",
        "reasons": list(rec.get("reasons") or []),
        "assignee": "",
        "leader": "",
        "plan": "",
        "deadline": "",
        "notes": "",
        "attachments": [],
        "overdue": False,
        "version": 0,
        "passed_at": "",
        "passed_by": "",
        "pass_note": "",
    }


def _sync_rows(driver: Driver, settings: Settings, run_id: str,
               database: str | None) -> tuple[list[dict], int]:
    levels = levels_at_or_above(settings.ledger_level)
    rows: list[dict] = []
    skipped = 0
    params = {"run_id": run_id, "levels": levels}
    for rec in access.read(driver, cypher.wf_ledger_candidates(), params, database):
        eid = entry_id_for(rec["county"], "enterprise", rec["uscc"])
        props = _entry_props(rec["county"], "enterprise", rec["uscc"], rec.get("name") or "",
                             "auto", "system", rec)
        rows.append({"entry_id": eid, "create": props, "score": rec.get("score"),
                     "level": rec.get("level"), "kind": "Enterprise", "key": rec["uscc"]})
    min_score = settings.levels.get(settings.ledger_level, 101.0) if settings.ledger_level in \
        settings.levels else 101.0
    gparams = {"run_id": run_id, "min_score": min_score}
    city_prefix = settings.city[:4]
    for grp in access.read(driver, cypher.wf_group_candidates(), gparams, database):
        level = level_of(grp.get("score"), settings.levels)
        rec = {"score": grp.get("score"), "level": level}
        for county in grp.get("counties") or []:
            if not str(county).startswith(city_prefix):
                skipped += 1  # another city's county: handed off, not ours to ledger
                continue
            eid = entry_id_for(county, "group", grp["group_id"])
            props = _entry_props(county, "group", grp["group_id"],
                                 f"关联企业群 {grp['group_id']}", "auto", "system", rec)
            rows.append({"entry_id": eid, "create": props, "score": grp.get("score"),
                         "level": level, "kind": "Group", "key": grp["group_id"]})
    return rows, skipped


def sync_ledger(driver: Driver, settings: Settings, run_id: str,
                at: datetime | None = None, database: str | None = None) -> SyncResult:
    """Put every entity of ``run_id`` at or above ``Settings.ledger_level`` into its county's
    ledger. Idempotent: existing entries keep every user-edited field (only ``last_score``,
    ``last_level``, ``last_run`` and missing department/sector are refreshed). Called by the
    refresh job after scoring."""
    rows, skipped = _sync_rows(driver, settings, run_id, database)
    now = stamp(at)

    def work(tx: ManagedTransaction) -> list[str]:
        created = [r["entry_id"] for r in _tx_rows(
            tx, cypher.wf_sync_entries(), {"rows": rows, "run_id": run_id, "now": now})]
        for kind in ("Enterprise", "Group"):
            links = [{"entry_id": r["entry_id"], "key": r["key"]} for r in rows
                     if r["kind"] == kind]
            if links:
                tx.run(cypher.wf_link_entries(kind), {"rows": links}).consume()
        events = [_event(eid, "system", "create", now, {"status": [None, st.PENDING]},
                         f"风险等级达到{LEVEL_NAMES.get(settings.ledger_level, '')}色，自动入账"
                         f"（运行 {run_id}）") for eid in created]
        if events:
            tx.run(cypher.wf_create_events(), {"rows": events}).consume()
        return created

    if not rows:
        return SyncResult(0, 0, skipped)
    with driver.session(database=database) as session:
        created = session.execute_write(work)
    return SyncResult(len(created), len(rows) - len(created), skipped)


# --- entries added by users or passed down by the city --------------------------------------


def _subject(driver: Driver, kind: str, key: str, database: str | None) -> dict[str, Any]:
    run = access.read(driver, cypher.wf_live_run(), {}, database)
    run_id = run[0]["run_id"] if run else ""
    if kind == "enterprise":
        found = access.read(driver, cypher.wf_enterprise_subject(),
                            {"key": key, "run_id": run_id}, database)
    else:
        found = access.read(driver, cypher.wf_group(), {"group_id": key}, database)
        found = [{"name": f"关联企业群 {key}", "score": f["grp"].get("score")} for f in found]
    if not found:
        raise RejectedError(f"no {kind} {key!r} in the graph", "check the code and try again")
    return found[0]


def add_entry(driver: Driver, county: str, kind: str, key: str, user: Any, *,
              origin: str = "user", note: str | None = None, deadline: str | None = None,
              at: datetime | None = None, database: str | None = None) -> dict[str, Any]:
    """Add an enterprise (``kind='enterprise'``, key = uscc) or group to ``county``'s ledger.

    Returns the entry. When it is already in the ledger nothing is duplicated: a user add is
    refused (:class:`RejectedError`), a city pass-down marks the existing entry ``city_passed``.
    A user add needs the right to edit ``county``'s ledger, a pass-down the right to pass
    clues down (:mod:`workflow.permissions`).
    """
    if origin not in ORIGIN_NAMES:
        raise UsageError(f"unknown origin {origin!r}", f"use one of {', '.join(ORIGIN_NAMES)}")
    actor = perms.check_pass_down(user) if origin == "city" else perms.check_edit(user, county)
    who = actor.name
    item = divisions().get(county) if isinstance(county, str) else None
    if item is None or item.level != COUNTY:
        raise UsageError(f"{county!r} is not a county code", "use a six-digit county code")
    subject = _subject(driver, kind, key, database)
    eid = entry_id_for(county, kind, key)
    props = _entry_props(county, kind, key, subject.get("name") or key, origin, who, subject)
    props["deadline"] = _check_date(deadline)
    now = stamp(at)
    if origin == "city":
        props.update(passed_at=now, passed_by=who, pass_note=note or "")

    def work(tx: ManagedTransaction) -> tuple[dict[str, Any], bool]:
        res = _tx_rows(tx, cypher.wf_create_entry(), {"entry_id": eid, "props": props, "now": now})
        entry, created = res[0]["entry"], res[0]["created"]
        if created:
            tx.run(cypher.wf_link_entries("Enterprise" if kind == "enterprise" else "Group"),
                   {"rows": [{"entry_id": eid, "key": key}]}).consume()
            ev = _event(eid, who, "create", now, {"status": [None, st.PENDING]},
                        note or f"{ORIGIN_NAMES[origin]}入账")
            tx.run(cypher.wf_create_events(), {"rows": [ev]}).consume()
        return entry, created

    with driver.session(database=database) as session:
        entry, created = session.execute_write(work)
    if created:
        return dict(entry)
    if origin != "city":
        raise RejectedError(f"{entry['name']} is already in the ledger of {county} "
                            f"(status {entry['status']})", "open the existing entry instead")
    changes: dict[str, Any] = {"city_passed": True, "pass_note": note or ""}
    if deadline:
        changes["deadline"] = props["deadline"]
    current = get_entry(driver, eid, database=database)
    if not any(current.get(k) != v for k, v in changes.items()):
        return current  # passed down before with the same note and deadline: nothing to do
    changes.update(passed_at=now, passed_by=who)
    return _apply_update(driver, eid, who, changes, None, at, note or "市级交办", "city_pass",
                         database, current=current)


def pass_down(driver: Driver, county: str, kind: str, key: str, user: Any, *,
              note: str | None = None, deadline: str | None = None,
              at: datetime | None = None, database: str | None = None) -> dict[str, Any]:
    """A city-level clue passed down to ``county`` (市级交办): an entry with ``origin='city'``,
    or the existing entry marked ``city_passed`` (with ``passed_at``/``passed_by``/
    ``pass_note``). Only the city role (or a trusted operator) may do it; every pass-down that
    changes something is written to the audit trail (action ``ledger_pass_down``)."""
    actor = perms.check_pass_down(user)
    before = _existing(driver, entry_id_for(county, kind, key), database)
    entry = add_entry(driver, county, kind, key, actor, origin="city", note=note,
                      deadline=deadline, at=at, database=database)
    if before is None or before.get("version") != entry.get("version"):
        audit.record(driver, "ledger_pass_down", user=actor.name, role=actor.role,
                     target=entry["entry_id"], detail={
                         "county": county, "kind": kind, "key": key, "note": note or "",
                         "deadline": entry.get("deadline") or "",
                         "existing": before is not None})
    return entry


def _existing(driver: Driver, entry_id: str, database: str | None) -> dict[str, Any] | None:
    rows = access.read(driver, cypher.wf_entry(), {"entry_id": entry_id}, database)
    return dict(rows[0]["entry"]) if rows else None


def home_county(driver: Driver, kind: str, key: str, city: str,
                database: str | None = None) -> str | None:
    """The county of the city a subject belongs to: an enterprise's county (属地), a group's
    lead region; None when unknown or outside ``city``."""
    if kind == "enterprise":
        run = access.read(driver, cypher.wf_live_run(), {}, database)
        found = access.read(driver, cypher.wf_enterprise_subject(),
                            {"key": key, "run_id": run[0]["run_id"] if run else ""}, database)
        code = found[0].get("county") if found else None
    else:
        groups = access.read(driver, cypher.wf_group(), {"group_id": key}, database)
        code = groups[0]["grp"].get("lead_region") if groups else None
    item = divisions().get(str(code)) if code else None
    if item is None or item.level != COUNTY or item.prefecture != city:
        return None
    return item.code


# --- reading --------------------------------------------------------------------------------


def get_entry(driver: Driver, entry_id: str, today: str | None = None,
              database: str | None = None) -> dict[str, Any]:
    """One entry with ``overdue`` computed for ``today`` (ISO; default today)."""
    rows = access.read(driver, cypher.wf_entry(), {"entry_id": entry_id}, database)
    if not rows:
        raise RejectedError(f"no ledger entry {entry_id!r}", "check the entry id")
    entry = dict(rows[0]["entry"])
    entry["overdue"] = st.is_overdue(entry, today or date.today().isoformat())
    return entry


def list_entries(driver: Driver, counties: Iterable[str], status: str | None = None,
                 today: str | None = None, database: str | None = None) -> list[dict[str, Any]]:
    """Entries of ``counties`` (optionally one status) with ``overdue`` computed for ``today``."""
    if status is not None and status not in st.STATUSES:
        raise UsageError(f"unknown status {status!r}", f"use one of {'、'.join(st.STATUSES)}")
    day = today or date.today().isoformat()
    rows = access.read(driver, cypher.wf_entries(),
                       {"counties": list(counties), "status": status}, database)
    entries = [dict(r["entry"]) for r in rows]
    for entry in entries:
        entry["overdue"] = st.is_overdue(entry, day)
    return entries


def history(driver: Driver, entry_id: str, database: str | None = None) -> list[dict[str, Any]]:
    """The entry's history, oldest first; ``changes`` decoded from JSON."""
    rows = access.read(driver, cypher.wf_history(), {"entry_id": entry_id}, database)
    events = []
    for row in rows:
        event = dict(row["event"])
        event["changes"] = json.loads(event.get("changes") or "{}")
        events.append(event)
    return events


def outcomes(driver: Driver, entry_id: str, database: str | None = None) -> list[dict[str, Any]]:
    """Outcomes recorded when the entry was closed."""
    rows = access.read(driver, cypher.wf_outcomes(), {"entry_id": entry_id}, database)
    return [dict(r["outcome"]) for r in rows]


# --- changing -------------------------------------------------------------------------------


def _clean_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise UsageError(f"fields {unknown} cannot be edited here",
                         f"editable: {', '.join(EDITABLE)}; the status moves by transition()")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "deadline":
            clean[name] = _check_date(value)
        elif name == "attachments":
            clean[name] = [str(v) for v in (value or [])]
        else:
            clean[name] = "" if value is None else str(value)
    return clean


def _apply_update(driver: Driver, entry_id: str, who: str, changes: dict[str, Any],
                  version: int | None, at: datetime | None, note: str | None, action: str,
                  database: str | None, current: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    if current is None:
        current = get_entry(driver, entry_id, database=database)
    diff = {k: [current.get(k), v] for k, v in changes.items() if current.get(k) != v}
    if not diff:
        return current
    expected = (current.get("version") or 0) if version is None else version
    params = {
        "entry_id": entry_id, "version": expected, "changes": {k: v[1] for k, v in diff.items()},
        "at": stamp(at), "user": who, "event_id": uuid.uuid4().hex, "action": action,
        "changes_json": json.dumps(diff, ensure_ascii=False, default=str), "note": note or "",
    }
    if not write_rows(driver, cypher.wf_update_entry(), params, database):
        raise RejectedError(f"ledger entry {entry_id} was changed by someone else meanwhile",
                            "reload the entry and apply your change again")
    return get_entry(driver, entry_id, database=database)


def update_entry(driver: Driver, entry_id: str, user: Any, changes: Mapping[str, Any], *,
                 version: int | None = None, note: str | None = None,
                 at: datetime | None = None, database: str | None = None) -> dict[str, Any]:
    """Edit assignee, leader, department, plan (一企一策), deadline, notes or attachments.

    Only changed fields are written and recorded in the history. ``version`` (from the entry
    read before editing) guards against overwriting a concurrent edit. The user must have the
    right to edit the entry's county ledger (:func:`workflow.permissions.check_edit`).
    """
    clean = _clean_changes(changes)
    current = get_entry(driver, entry_id, database=database)
    actor = perms.check_edit(user, current["county"])
    return _apply_update(driver, entry_id, actor.name, clean, version, at, note, "edit",
                         database, current=current)


def transition(driver: Driver, entry_id: str, target: str, user: Any, *,
               reason_code: str | None = None, note: str | None = None,
               at: datetime | None = None, database: str | None = None) -> dict[str, Any]:
    """Move the entry to ``target`` along the declared table; closing records an Outcome.

    Raises :class:`RejectedError` for a user without the right to edit the entry's county
    ledger, a move the table does not allow, a missing or wrong reason code, or a status changed
    by someone else meanwhile.
    """
    entry = get_entry(driver, entry_id, database=database)
    who = perms.check_edit(user, entry["county"]).name
    source = entry["status"]
    move = st.find_transition(source, target)
    if move is None:
        allowed = "、".join(st.next_statuses(source)) or "无（已办结）"
        raise RejectedError(f"ledger entry {entry['name']}: {source} → {target} is not allowed",
                            f"from {source} the allowed next statuses are: {allowed}")
    if move.needs_reason:
        valid = st.reasons_for(target)
        if not reason_code:
            raise RejectedError(f"moving to {target} needs a reason code",
                                f"use one of {', '.join(valid)}")
        if reason_code not in valid:
            raise RejectedError(f"reason code {reason_code!r} does not fit {target}",
                                f"use one of {', '.join(valid)}")
    elif reason_code:
        raise RejectedError(f"moving to {target} takes no reason code", "leave it empty")
    now = stamp(at)
    closed = target in st.CLOSED_STATUSES
    params = {
        "entry_id": entry_id, "source": source, "target": target, "at": now, "user": who,
        "reason_code": reason_code, "closed": closed, "event_id": uuid.uuid4().hex,
        "changes_json": json.dumps({"status": [source, target], "reason_code": reason_code},
                                   ensure_ascii=False),
        "note": note or "",
    }

    def work(tx: ManagedTransaction) -> bool:
        if not _tx_rows(tx, cypher.wf_transition(), params):
            return False
        verdict = move.verdict
        if verdict is not None:
            tx.run(cypher.wf_record_outcome(), {
                "entry_id": entry_id, "outcome_id": f"{entry_id}|{now}", "verdict": verdict,
                "reason_code": reason_code, "status": target, "user": who, "at": now,
            }).consume()
        return True

    with driver.session(database=database) as session:
        if not session.execute_write(work):
            raise RejectedError(f"ledger entry {entry_id} changed status meanwhile",
                                "reload the entry and try again")
    return get_entry(driver, entry_id, database=database)


def mark_overdue(driver: Driver, today: str | None = None, database: str | None = None) -> int:
    """Set ``overdue`` on every entry (deadline before ``today`` and still open); returns the
    number of entries whose flag changed. The refresh job calls it daily."""
    params = {"today": today or date.today().isoformat(), "open": sorted(st.OPEN_STATUSES)}
    rows = write_rows(driver, cypher.wf_mark_overdue(), params, database)
    return int(rows[0]["changed"]) if rows else 0


# --- city view ------------------------------------------------------------------------------


def county_progress(driver: Driver, counties: Iterable[str], today: str | None = None,
                    database: str | None = None) -> dict[str, dict[str, int]]:
    """Per county: number of entries per status, plus ``total``, ``open``, ``overdue``."""
    wanted = list(counties)
    progress: dict[str, dict[str, int]] = {
        c: {**{s: 0 for s in st.STATUSES}, "total": 0, "open": 0, "overdue": 0} for c in wanted}
    for entry in list_entries(driver, wanted, today=today, database=database):
        row = progress[entry["county"]]
        row[entry["status"]] = row.get(entry["status"], 0) + 1
        row["total"] += 1
        row["open"] += entry["status"] in st.OPEN_STATUSES
        row["overdue"] += bool(entry["overdue"])
    return progress


def old_case_closure(driver: Driver, counties: Iterable[str], year: int,
                     database: str | None = None) -> dict[str, dict[str, float]]:
    """陈案办结率 per county for ``year``: entries still open on 1 January (陈案) and how many of
    them were closed during the year; ``rate`` = closed / old_cases (0 when none)."""
    wanted = list(counties)
    params = {"counties": wanted, "year_start": f"{year:04d}-01-01",
              "year_end": f"{year + 1:04d}-01-01"}
    rows = {r["county"]: r for r in access.read(driver, cypher.wf_old_case_closure(), params,
                                                 database)}
    result: dict[str, dict[str, float]] = {}
    for county in wanted:
        row = rows.get(county, {"old_cases": 0, "closed": 0})
        old, closed = int(row["old_cases"]), int(row["closed"])
        result[county] = {"old_cases": old, "closed": closed,
                          "rate": (closed / old) if old else 0.0}
    return result
