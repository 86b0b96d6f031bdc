"""Who may change the ledger, checked in the data layer (real Neo4j): the county office edits
its own ledger, the city reads it, passes clues down and advances hand-offs, the lead county
accepts/returns/closes its hand-off; refusals write nothing; pass-downs and hand-off moves are
audited."""

from __future__ import annotations

from datetime import datetime

import pytest

from graph import access
from riskgraph.errors import RejectedError
from security import audit
from security.roles import ROLES
from security.users import User
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E3,
    E5,
    GROUP,
    RUN_LIVE,
    A,
    B,
    SmallGraph,
    small_graph,
)
from workflow import handoff, ledger, permissions
from workflow import statuses as st

pytestmark = pytest.mark.neo4j

CITY = User("wfp-city", "city")
OFFICE_A = User("wfp-office-a", "county", (A,))
OFFICE_B = User("wfp-office-b", "county", (B,))
SECTOR = User("wfp-sector", "sector", sector="养老机构")
ANALYST = User("wfp-analyst", "analyst")


def _events(driver, action: str, user: str) -> list[dict]:
    return audit.events(driver, user=user, action=action)


def _clear_audit(driver) -> None:
    access.write(driver, "MATCH (a:AuditEvent) WHERE a.user STARTS WITH 'wfp-' "
                         "OR a.user = 'cli-op' DETACH DELETE a")


def test_roles_as_data() -> None:
    assert [r for r, spec in ROLES.items() if spec.may_edit_ledger] == ["county"]
    assert [r for r, spec in ROLES.items() if spec.may_pass_down] == ["city"]
    assert permissions.may_edit(OFFICE_A, A) and not permissions.may_edit(OFFICE_A, B)
    assert not permissions.may_edit(CITY, A) and permissions.may_edit("cli:ops", A)
    assert permissions.may_pass_down(CITY) and not permissions.may_pass_down(OFFICE_A)
    assert permissions.may_move_handoff(OFFICE_A, "sent", "accepted", A)
    assert not permissions.may_move_handoff(OFFICE_A, "draft", "sent", A)
    assert not permissions.may_move_handoff(OFFICE_B, "sent", "accepted", A)


def test_city_and_other_counties_cannot_edit_county_entries(small_graph: SmallGraph  # noqa: F811
                                                            ) -> None:
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2025, 3, 1))
    eid = ledger.entry_id_for(A, "enterprise", E1)
    before = ledger.get_entry(g.driver, eid)
    for user in (CITY, OFFICE_B, SECTOR, ANALYST):
        with pytest.raises(RejectedError, match="may not edit the ledger of 410302"):
            ledger.update_entry(g.driver, eid, user, {"assignee": "张三"})
        with pytest.raises(RejectedError, match="may not edit"):
            ledger.transition(g.driver, eid, st.CHECKING, user)
        with pytest.raises(RejectedError, match="may not edit"):
            ledger.add_entry(g.driver, A, "enterprise", E3, user)
    after = ledger.get_entry(g.driver, eid)
    assert after["version"] == before["version"] and after["status"] == st.PENDING
    assert [h["action"] for h in ledger.history(g.driver, eid)] == ["create"]
    # the county office of A edits its own entry
    ledger.transition(g.driver, eid, st.CHECKING, OFFICE_A)
    edited = ledger.update_entry(g.driver, eid, OFFICE_A, {"assignee": "陈科长"})
    assert edited["status"] == st.CHECKING and edited["updated_by"] == "wfp-office-a"
    with pytest.raises(RejectedError) as refused:
        ledger.update_entry(g.driver, eid, CITY, {"plan": "市里改的"})
    assert "pass a clue down" in str(refused.value.hint)


def test_pass_down_is_city_only_idempotent_and_audited(small_graph: SmallGraph  # noqa: F811
                                                       ) -> None:
    g = small_graph
    _clear_audit(g.driver)
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2025, 3, 1))
    for user in (OFFICE_A, SECTOR, ANALYST):
        with pytest.raises(RejectedError, match="may not pass clues down"):
            ledger.pass_down(g.driver, A, "enterprise", E5, user)
    assert not any(e["subject_key"] == E5 for e in ledger.list_entries(g.driver, [A]))
    new = ledger.pass_down(g.driver, A, "enterprise", E5, CITY, note="请核查资金来源",
                           deadline="2025-04-30", at=datetime(2025, 3, 3, 9))
    assert new["origin"] == "city" and new["passed_by"] == "wfp-city"
    assert new["pass_note"] == "请核查资金来源" and new["passed_at"].startswith("2025-03-03")
    # passing the same clue again with the same note changes nothing and is not audited again
    ledger.pass_down(g.driver, A, "enterprise", E5, CITY, note="请核查资金来源")
    assert len(ledger.history(g.driver, new["entry_id"])) == 1
    # an entry already in the ledger (from the scores) is marked as passed down
    eid = ledger.entry_id_for(A, "enterprise", E1)
    marked = ledger.pass_down(g.driver, A, "enterprise", E1, CITY, note="市领导批示",
                              at=datetime(2025, 3, 4, 9))
    assert marked["origin"] == "auto" and marked["city_passed"] is True
    assert marked["passed_at"].startswith("2025-03-04") and marked["pass_note"] == "市领导批示"
    assert [h["action"] for h in ledger.history(g.driver, eid)] == ["create", "city_pass"]
    events = _events(g.driver, "ledger_pass_down", "wfp-city")
    assert sorted(e["target"] for e in events) == sorted([new["entry_id"], eid])
    assert all(e["role"] == "city" for e in events)
    # the county office then works the passed-down entry; the city cannot
    ledger.transition(g.driver, new["entry_id"], st.CHECKING, OFFICE_A)
    with pytest.raises(RejectedError):
        ledger.transition(g.driver, new["entry_id"], st.DISMISSED, CITY,
                          reason_code="false_positive")
    with pytest.raises(RejectedError, match="no enterprise"):
        ledger.pass_down(g.driver, A, "enterprise", "91410302MAWFT0099X", CITY)
    _clear_audit(g.driver)


def test_handoff_moves_by_role_and_lead_county(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    _clear_audit(g.driver)
    with pytest.raises(RejectedError, match="may not move"):
        handoff.set_handoff_status(g.driver, GROUP, "draft", OFFICE_A, lead=A)
    handoff.set_handoff_status(g.driver, GROUP, "draft", CITY, lead=A)
    assert handoff.allowed_moves(OFFICE_A, "draft", A) == []
    assert handoff.allowed_moves(CITY, "draft", A) == ["sent"]
    with pytest.raises(RejectedError, match="may not move"):
        handoff.set_handoff_status(g.driver, GROUP, "sent", OFFICE_A)
    handoff.set_handoff_status(g.driver, GROUP, "sent", CITY, note="已函告老城区")
    assert handoff.allowed_moves(OFFICE_A, "sent", A) == ["draft", "accepted"]
    with pytest.raises(RejectedError, match="may not move"):  # B does not lead this group
        handoff.set_handoff_status(g.driver, GROUP, "accepted", OFFICE_B)
    handoff.set_handoff_status(g.driver, GROUP, "accepted", OFFICE_A)
    with pytest.raises(RejectedError, match="not allowed"):
        handoff.set_handoff_status(g.driver, GROUP, "sent", CITY)
    assert handoff.set_handoff_status(g.driver, GROUP, "closed", OFFICE_A) == "closed"
    with pytest.raises(RejectedError, match="not allowed"):
        handoff.set_handoff_status(g.driver, GROUP, "accepted", CITY)
    rows = handoff.handoff_history(g.driver, GROUP)
    assert [(r["user"], r["changes"]["handoff_status"]) for r in rows] == [
        ("wfp-city", ["none", "draft"]), ("wfp-city", ["draft", "sent"]),
        ("wfp-office-a", ["sent", "accepted"]), ("wfp-office-a", ["accepted", "closed"])]
    assert rows[1]["note"] == "已函告老城区" and all(r["at"] for r in rows)
    moves = [(e["user"], e["detail"]) for e in
             _events(g.driver, "handoff_status", "wfp-office-a")]
    assert len(moves) == 2 and all('"lead": "410302"' in d for _, d in moves)
    _clear_audit(g.driver)
