"""The county risk ledger on the real Neo4j: sync, transitions, history, outcomes, overdue."""

from __future__ import annotations

from datetime import datetime

import pytest

from graph import access
from riskgraph.errors import RejectedError, UsageError
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E2,
    E3,
    E5,
    GROUP,
    RUN_LIVE,
    RUN_OLD,
    A,
    B,
    SmallGraph,
    small_graph,
)
from workflow import ledger
from workflow import statuses as st

pytestmark = pytest.mark.neo4j

T0 = datetime(2025, 3, 2, 9, 0)


def _eid(county: str, key: str, kind: str = "enterprise") -> str:
    return ledger.entry_id_for(county, kind, key)


def test_transition_table_is_data() -> None:
    assert st.next_statuses(st.PENDING) == [st.CHECKING, st.DISMISSED]
    assert st.find_transition(st.FILED, st.CHECKING) is None
    assert all(t.needs_reason for t in st.TRANSITIONS if t.target in st.CLOSED_STATUSES)
    assert st.reasons_for(st.DISMISSED) and not st.reasons_for(st.PENDING)


def test_sync_enters_orange_and_above_once(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    first = ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=T0)
    # E1, E2 (county A), E4 (county B); group in A and B (410502 is another city: skipped)
    assert (first.created, first.refreshed, first.skipped) == (5, 0, 1)
    again = ledger.sync_ledger(g.driver, g.settings, RUN_LIVE)
    assert (again.created, again.refreshed) == (0, 5)
    entries = ledger.list_entries(g.driver, [A, B])
    keys = sorted(e["subject_key"] for e in entries)
    assert len(keys) == len(set((e["county"], e["subject_key"]) for e in entries)) == 5
    assert E3 not in keys and E5 not in keys and GROUP in keys
    e1 = ledger.get_entry(g.driver, _eid(A, E1))
    assert e1["status"] == st.PENDING and e1["origin"] == "auto"
    assert e1["department"] == "民政部门" and e1["sector"] == "养老机构"
    links = access.read(g.driver, "MATCH (:LedgerEntry {entry_id: $e})-[:LEDGER_FOR]->(t) "
                        "RETURN t.uscc AS uscc", {"e": _eid(A, E1)})
    assert [r["uscc"] for r in links] == [E1]
    assert [h["action"] for h in ledger.history(g.driver, _eid(A, E1))] == ["create"]


def test_sync_never_overwrites_user_edits(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_OLD, at=T0)
    eid = _eid(A, E1)
    ledger.update_entry(g.driver, eid, "county_user", {
        "assignee": "陈科长", "department": "县民政局", "plan": "约谈法人，清退预付费",
        "deadline": "2025-04-30"})
    ledger.transition(g.driver, eid, st.CHECKING, "county_user")
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE)
    entry = ledger.get_entry(g.driver, eid)
    assert entry["assignee"] == "陈科长" and entry["department"] == "县民政局"
    assert entry["plan"] == "约谈法人，清退预付费" and entry["status"] == st.CHECKING
    assert entry["last_run"] == RUN_LIVE and entry["last_score"] == 85.0
    n = access.read(g.driver, "MATCH (e:LedgerEntry {entry_id: $e}) RETURN count(e) AS n",
                    {"e": eid})
    assert n[0]["n"] == 1


def test_allowed_and_refused_transitions(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=T0)
    eid = _eid(A, E2)
    with pytest.raises(RejectedError, match="not allowed") as err:
        ledger.transition(g.driver, eid, st.RESOLVED, "u1", reason_code="rectified")
    assert err.value.hint and st.CHECKING in err.value.hint
    with pytest.raises(UsageError):
        ledger.transition(g.driver, eid, st.CHECKING, "  ")
    ledger.transition(g.driver, eid, st.CHECKING, "u1")
    with pytest.raises(RejectedError, match="needs a reason"):
        ledger.transition(g.driver, eid, st.TO_POLICE, "u1")
    with pytest.raises(RejectedError, match="does not fit"):
        ledger.transition(g.driver, eid, st.TO_POLICE, "u1", reason_code="normal_business")
    entry = ledger.transition(g.driver, eid, st.TO_POLICE, "u1", reason_code="suspected_crime")
    assert entry["status"] == st.TO_POLICE and entry["closed_at"]
    entry = ledger.transition(g.driver, eid, st.FILED, "u2", reason_code="police_filed")
    assert entry["status"] == st.FILED
    with pytest.raises(RejectedError) as final:
        ledger.transition(g.driver, eid, st.CHECKING, "u2", reason_code="new_evidence")
    assert final.value.hint and "无（已办结）" in final.value.hint
    assert ledger.get_entry(g.driver, eid)["status"] == st.FILED


def test_history_is_complete_and_append_only(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=T0)
    eid = _eid(A, E1)
    ledger.update_entry(g.driver, eid, "u1", {"assignee": "陈科长", "notes": "首次走访"},
                        at=datetime(2025, 3, 3, 10))
    ledger.update_entry(g.driver, eid, "u1", {"assignee": "陈科长"})  # no change: no row
    ledger.transition(g.driver, eid, st.CHECKING, "u2", at=datetime(2025, 3, 4, 10))
    ledger.transition(g.driver, eid, st.DISMISSED, "u2", reason_code="normal_business",
                      note="经营正常", at=datetime(2025, 3, 5, 10))
    rows = ledger.history(g.driver, eid)
    assert [r["action"] for r in rows] == ["create", "edit", "status", "status"]
    assert rows[1]["user"] == "u1" and rows[1]["changes"]["assignee"] == ["", "陈科长"]
    assert rows[3]["changes"]["status"] == [st.CHECKING, st.DISMISSED]
    assert rows[3]["note"] == "经营正常" and rows[3]["at"].startswith("2025-03-05")
    with pytest.raises(UsageError, match="cannot be edited"):
        ledger.update_entry(g.driver, eid, "u1", {"status": st.PENDING})
    with pytest.raises(RejectedError, match="changed by someone else"):
        ledger.update_entry(g.driver, eid, "u1", {"plan": "x"}, version=0)


def test_closing_records_outcomes_for_calibration(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=T0)
    e1, e2 = _eid(A, E1), _eid(A, E2)
    ledger.transition(g.driver, e1, st.DISMISSED, "u1", reason_code="false_positive")
    ledger.transition(g.driver, e2, st.CHECKING, "u1")
    ledger.transition(g.driver, e2, st.RESOLVED, "u1", reason_code="refunded")
    (o1,) = ledger.outcomes(g.driver, e1)
    (o2,) = ledger.outcomes(g.driver, e2)
    assert (o1["verdict"], o1["reason_code"], o1["uscc"], o1["user"]) == (
        "dismissed", "false_positive", E1, "u1")
    assert (o2["verdict"], o2["status"], o2["uscc"]) == ("confirmed", st.RESOLVED, E2)
    linked = access.read(g.driver, "MATCH (o:Outcome {entry_id: $e})-[:OUTCOME_FOR]->"
                         "(t:Enterprise) RETURN t.uscc AS uscc", {"e": e1})
    assert [r["uscc"] for r in linked] == [E1]
    # reopening records no outcome; closing again records a second one
    ledger.transition(g.driver, e1, st.CHECKING, "u1", reason_code="new_evidence")
    assert ledger.get_entry(g.driver, e1).get("closed_at") is None
    assert len(ledger.outcomes(g.driver, e1)) == 1


def test_overdue_marking(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=T0)
    e1, e2 = _eid(A, E1), _eid(A, E2)
    ledger.update_entry(g.driver, e1, "u1", {"deadline": "2025-03-10"})
    ledger.update_entry(g.driver, e2, "u1", {"deadline": "2025-03-10"})
    ledger.transition(g.driver, e2, st.DISMISSED, "u1", reason_code="normal_business")
    with pytest.raises(UsageError, match="not a date"):
        ledger.update_entry(g.driver, e1, "u1", {"deadline": "next week"})
    listed = {e["entry_id"]: e for e in ledger.list_entries(g.driver, [A], today="2025-03-11")}
    assert listed[e1]["overdue"] is True and listed[e2]["overdue"] is False
    assert not ledger.get_entry(g.driver, e1, today="2025-03-10")["overdue"]
    assert ledger.mark_overdue(g.driver, today="2025-03-11") >= 1
    stored = access.read(g.driver, "MATCH (e:LedgerEntry) WHERE e.entry_id IN $ids "
                         "RETURN e.entry_id AS id, e.overdue AS overdue", {"ids": [e1, e2]})
    assert {r["id"]: r["overdue"] for r in stored} == {e1: True, e2: False}


def test_user_add_and_city_pass_down(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    added = ledger.add_entry(g.driver, A, "enterprise", E3, "analyst", at=T0)
    assert added["origin"] == "user" and added["name"] == "洛阳丙商贸有限公司"
    with pytest.raises(RejectedError, match="already in the ledger"):
        ledger.add_entry(g.driver, A, "enterprise", E3, "analyst")
    with pytest.raises(RejectedError, match="no enterprise"):
        ledger.add_entry(g.driver, A, "enterprise", "91000000000000000X", "analyst")
    city = ledger.pass_down(g.driver, A, "enterprise", E5, "city_office", deadline="2025-03-31",
                            note="市处非办交办", at=T0)
    assert city["origin"] == "city" and city["city_passed"] and city["deadline"] == "2025-03-31"
    again = ledger.pass_down(g.driver, A, "enterprise", E3, "city_office")
    assert again["origin"] == "user" and again["city_passed"] is True
    assert [h["action"] for h in ledger.history(g.driver, _eid(A, E3))] == ["create", "city_pass"]


def test_city_progress_and_old_case_closure(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2024, 11, 2))
    ledger.transition(g.driver, _eid(A, E1), st.CHECKING, "u", at=datetime(2025, 1, 5))
    ledger.transition(g.driver, _eid(A, E1), st.RESOLVED, "u", reason_code="rectified",
                      at=datetime(2025, 2, 5))
    progress = ledger.county_progress(g.driver, [A, B])
    assert progress[A]["total"] == 3 and progress[A][st.RESOLVED] == 1 and progress[A]["open"] == 2
    rates = ledger.old_case_closure(g.driver, [A, B], 2025)
    assert rates[A] == {"old_cases": 3, "closed": 1, "rate": pytest.approx(1 / 3)}
    assert rates[B]["old_cases"] == 2 and rates[B]["rate"] == 0.0


def test_group_candidates_are_the_groups_a_run_names_at_the_minimum_score(
        small_graph: SmallGraph) -> None:  # noqa: F811
    from graph import cypher

    g = small_graph
    # a high-scoring group that no record names (e.g. one a later run dissolved)
    access.merge_nodes(g.driver, "Group", [{"key": "wft-group-unnamed", "props": {
        "members": 2, "score": 99.0, "counties": [A], "wf_test": True}}])

    def candidates(run_id: str, min_score: float) -> list[str]:
        rows = access.read(g.driver, cypher.wf_group_candidates(),
                           {"run_id": run_id, "min_score": min_score})
        return sorted(r["group_id"] for r in rows)

    try:
        assert candidates(RUN_LIVE, 60.0) == [GROUP]
        assert candidates(RUN_OLD, 60.0) == [GROUP]  # the old run's record names it too
        assert candidates(RUN_LIVE, 90.0) == []  # its score, 88, is below
        assert candidates("no-such-run", 0.0) == []
    finally:
        access.write(g.driver, "MATCH (x:Group {group_id: 'wft-group-unnamed'}) DETACH DELETE x")


def _plan_details(driver, query: str, params: dict) -> str:
    with driver.session() as session:
        plan = session.run("EXPLAIN " + query, params).consume().plan

    def walk(p: dict) -> list[str]:
        return [f"{p['operatorType']} {p.get('args', {}).get('Details', '')}",
                *(x for c in p.get("children", []) for x in walk(c))]
    return "\n".join(walk(plan))


def test_ledger_candidates_are_found_through_indexes(
        small_graph: SmallGraph) -> None:  # noqa: F811
    """Not by reading every record of the run: the level and group ids are indexed."""
    from graph import cypher

    g = small_graph
    plan = _plan_details(g.driver, cypher.wf_ledger_candidates(),
                         {"run_id": RUN_LIVE, "levels": ["red", "orange"]})
    assert "ScoreRecord(level)" in plan
    plan = _plan_details(g.driver, cypher.wf_group_candidates(),
                         {"run_id": RUN_LIVE, "min_score": 60.0})
    assert "Group(score)" in plan and "ScoreRecord(group_id)" in plan
