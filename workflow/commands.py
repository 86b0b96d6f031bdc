"""``riskgraph ledger …`` commands: pass a city-level clue down, list a county's ledger, move a
cross-region hand-off. Thin: check the arguments (exit 2 before the database is touched),
connect, call :mod:`workflow.ledger` / :mod:`workflow.handoff`, print one line per result.

``--by NAME``: when NAME is a local account (``riskgraph users add``) the change is made as
that account and its role is enforced (:mod:`workflow.permissions`: a county account cannot
pass clues down, a county that does not lead the group cannot accept its hand-off); any other
name, or none (``cli:<os user>``), is recorded as a trusted operator — the command line runs
with the database credentials.
"""

from __future__ import annotations

import getpass
import re
from datetime import date
from typing import Any

from neo4j import Driver

from riskgraph.errors import UsageError
from riskgraph.settings import Settings
from workflow import handoff, ledger
from workflow import statuses as st
from workflow.reports import check_county

#: the shape of an enterprise key: an 18-character USCC or ``REG:`` + a 15-digit 注册号 (whether
#: it exists is the graph's answer: an unknown key is refused with exit 1).
KEY_SHAPE = re.compile(r"^(?:[0-9A-Z]{18}|REG:\d{15})$")

LIST_FIELDS = ("entry_id", "status", "overdue", "origin", "city_passed", "name",
               "subject_key", "department", "assignee", "deadline")


def cli_actor(by: str | None) -> str:
    """``--by`` or ``cli:<os user>``."""
    if by and by.strip():
        return by.strip()
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _acting(driver: Driver, by: str | None) -> Any:
    """The local account named ``by`` when there is one (its role counts), else the name."""
    from security import users

    name = cli_actor(by)
    account = users.get_user(driver, name) if by else None
    if account is not None and account.disabled:
        raise UsageError(f"account {name!r} is disabled", "use an active account with --by")
    return account or name


def _subject(uscc: str | None, group: str | None) -> tuple[str, str]:
    if bool(uscc) == bool(group):
        raise UsageError("give exactly one of --uscc and --group",
                         "--uscc for an enterprise, --group for a group of firms")
    if uscc:
        code = uscc.strip().upper()
        if not KEY_SHAPE.match(code):
            raise UsageError(f"{uscc!r} is not a USCC",
                             "18 characters (GB 32100-2015), or REG:<15-digit 注册号>")
        return "enterprise", code
    return "group", str(group).strip()


def _deadline(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError as exc:
        raise UsageError(f"deadline {text!r} is not a date", "use YYYY-MM-DD") from exc


def _with_driver(settings: Settings) -> Driver:
    from graph.connection import connect

    return connect(settings)


def run_pass_down_command(settings: Settings, county: str, uscc: str | None,
                          group: str | None, note: str | None, deadline: str | None,
                          by: str | None) -> int:
    """``riskgraph ledger pass-down``: prints ``<entry_id>\\t<status>\\t<name>``."""
    check_county(settings, county)
    kind, key = _subject(uscc, group)
    due = _deadline(deadline)
    driver = _with_driver(settings)
    try:
        entry = ledger.pass_down(driver, county.strip(), kind, key, _acting(driver, by),
                                 note=note, deadline=due, database=settings.neo4j_database)
    finally:
        driver.close()
    print(f"{entry['entry_id']}\t{entry['status']}\t{entry.get('name')}")
    return 0


def run_list_command(settings: Settings, county: str, status: str | None) -> int:
    """``riskgraph ledger list``: a tab-separated table of the county's entries."""
    check_county(settings, county)
    if status is not None and status not in st.STATUSES:
        raise UsageError(f"unknown status {status!r}", f"use one of {'、'.join(st.STATUSES)}")
    driver = _with_driver(settings)
    try:
        entries = ledger.list_entries(driver, [county.strip()], status,
                                      database=settings.neo4j_database)
    finally:
        driver.close()
    print("\t".join(LIST_FIELDS))
    for e in entries:
        print("\t".join(_cell(e.get(f)) for f in LIST_FIELDS))
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return " ".join(str(value if value is not None else "").split())


def run_handoff_command(settings: Settings, group: str, target: str, note: str | None,
                        by: str | None) -> int:
    """``riskgraph ledger handoff``: move a group's hand-off status; prints the new status."""
    if target not in handoff.HANDOFF_STATUSES or target == "none":
        raise UsageError(f"unknown hand-off status {target!r}",
                         f"use one of {', '.join(handoff.HANDOFF_STATUSES[1:])}")
    driver = _with_driver(settings)
    try:
        done = handoff.set_handoff_status(driver, group.strip(), target, _acting(driver, by),
                                          note=note, database=settings.neo4j_database)
    finally:
        driver.close()
    print(f"{group}\t{done}\t{handoff.HANDOFF_NAMES[done]}")
    return 0
