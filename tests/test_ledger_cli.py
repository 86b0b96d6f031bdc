"""``riskgraph ledger pass-down | list | handoff`` against the known small graph on the real
Neo4j (the commands read their settings from the environment, as an operator runs them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from riskgraph.cli import app
from riskgraph.errors import RejectedError, UsageError
from riskgraph.settings import Settings
from security import audit, users
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E5,
    GROUP,
    RUN_LIVE,
    A,
    B,
    SmallGraph,
    small_graph,
)
from workflow import handoff, ledger
from workflow import statuses as st

pytestmark = pytest.mark.neo4j

PASSWORD = "wfc-password-123"


@pytest.fixture()
def cli_env(small_graph: SmallGraph, neo4j_settings: Settings,  # noqa: F811
            monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallGraph]:
    """The environment of an operator's shell pointing at the test server, city 410300."""
    s = neo4j_settings
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    if s.neo4j_uri:
        monkeypatch.setenv("NEO4J_URI", s.neo4j_uri)
        monkeypatch.setenv("NEO4J_USER", s.neo4j_user)
        monkeypatch.setenv("NEO4J_PASSWORD", s.neo4j_password or "")
        monkeypatch.setenv("NEO4J_DATABASE", s.neo4j_database)
    monkeypatch.setenv("RISKGRAPH_HOME", str(s.home))
    monkeypatch.setenv("RISKGRAPH_BOLT_PORT", str(s.bolt_port))
    monkeypatch.setenv("RISKGRAPH_CITY", "410300")
    d = small_graph.driver
    d.execute_query("MATCH (u:User) WHERE u.username STARTS WITH 'wfc-' DETACH DELETE u")
    d.execute_query("MATCH (a:AuditEvent) WHERE a.user STARTS WITH 'wfc-' DETACH DELETE a")
    yield SmallGraph(d, dataclasses.replace(s, city="410300", ledger_level="orange"))
    d.execute_query("MATCH (u:User) WHERE u.username STARTS WITH 'wfc-' DETACH DELETE u")
    d.execute_query("MATCH (a:AuditEvent) WHERE a.user STARTS WITH 'wfc-' DETACH DELETE a")


def _run(*args: str):
    return CliRunner().invoke(app, ["ledger", *args])


def test_bad_arguments_exit_2_before_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKGRAPH_CITY", "410300")
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")  # never reached
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    for args in (["pass-down", "--county", "410502", "--uscc", E1],      # another city
                 ["pass-down", "--county", A],                            # no subject
                 ["pass-down", "--county", A, "--uscc", E1, "--group", GROUP],
                 ["pass-down", "--county", A, "--uscc", "123"],           # bad USCC
                 ["pass-down", "--county", A, "--uscc", E1, "--deadline", "30/4"],
                 ["list", "--county", "999999"],
                 ["list", "--county", A, "--status", "done"],
                 ["handoff", "--group", GROUP, "--to", "finished"]):
        result = _run(*args)
        assert isinstance(result.exception, UsageError), (args, result.exception)
        assert result.exception.exit_code == 2


def test_pass_down_list_and_handoff(cli_env: SmallGraph) -> None:
    g = cli_env
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE)
    result = _run("pass-down", "--county", A, "--uscc", E5, "--note", "请核查",
                  "--deadline", "2025-04-30", "--by", "wfc-ops")
    assert result.exit_code == 0, result.output
    eid = ledger.entry_id_for(A, "enterprise", E5)
    assert result.stdout.split("\t")[:2] == [eid, st.PENDING]
    entry = ledger.get_entry(g.driver, eid)
    assert entry["origin"] == "city" and entry["deadline"] == "2025-04-30"
    assert entry["passed_by"] == "wfc-ops" and entry["pass_note"] == "请核查"
    assert [e["target"] for e in audit.events(g.driver, user="wfc-ops",
                                              action="ledger_pass_down")] == [eid]
    listed = _run("list", "--county", A)
    assert listed.exit_code == 0
    lines = [line.split("\t") for line in listed.stdout.strip().splitlines()]
    assert lines[0][:3] == ["entry_id", "status", "overdue"]
    assert {row[0] for row in lines[1:]} == {e["entry_id"] for e in
                                             ledger.list_entries(g.driver, [A])}
    assert eid in {row[0] for row in lines[1:]}
    only = _run("list", "--county", A, "--status", st.CHECKING)
    assert only.stdout.strip().splitlines()[1:] == []
    # the hand-off: drafted by the package, sent and accepted on the command line
    handoff.set_handoff_status(g.driver, GROUP, "draft", "wfc-ops", lead=A)
    moved = _run("handoff", "--group", GROUP, "--to", "sent", "--note", "函告", "--by", "wfc-ops")
    assert moved.exit_code == 0 and moved.stdout.split("\t")[1] == "sent"
    refused = _run("handoff", "--group", GROUP, "--to", "closed")
    assert isinstance(refused.exception, RejectedError) and refused.exception.exit_code == 1
    assert "not allowed" in refused.exception.message


def test_by_a_local_account_enforces_its_role(cli_env: SmallGraph) -> None:
    g = cli_env
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE)
    users.add_user(g.driver, g.settings, "wfc-county-b", "county", PASSWORD, (B,))
    users.add_user(g.driver, g.settings, "wfc-county-a", "county", PASSWORD, (A,))
    users.add_user(g.driver, g.settings, "wfc-city", "city", PASSWORD)
    refused = _run("pass-down", "--county", A, "--uscc", E5, "--by", "wfc-county-a")
    assert isinstance(refused.exception, RejectedError) and refused.exception.exit_code == 1
    assert not any(e["subject_key"] == E5 for e in ledger.list_entries(g.driver, [A]))
    assert _run("pass-down", "--county", A, "--uscc", E5, "--by", "wfc-city").exit_code == 0
    handoff.set_handoff_status(g.driver, GROUP, "draft", "wfc-city", lead=A)
    assert _run("handoff", "--group", GROUP, "--to", "sent", "--by", "wfc-city").exit_code == 0
    other = _run("handoff", "--group", GROUP, "--to", "accepted", "--by", "wfc-county-b")
    assert isinstance(other.exception, RejectedError)
    lead = _run("handoff", "--group", GROUP, "--to", "accepted", "--by", "wfc-county-a")
    assert lead.exit_code == 0, lead.output
    rows = handoff.handoff_history(g.driver, GROUP)
    assert [r["user"] for r in rows] == ["wfc-city", "wfc-city", "wfc-county-a"]
