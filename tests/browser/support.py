"""Shared fixtures of the dashboard tests: the sample graph in the session's real Neo4j.

Builds on ``tests/conftest.py`` (``driver``, ``neo4j_settings``): the graph is rewritten once
per test module (other modules clean the database), with one local account per role
(:data:`USERS`, password :data:`PASSWORD`) and the live run's risk ledger synced, and
:class:`DashGraph` gives the environment an app under test needs to reach the same server.
Never a mock.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pytest

from riskgraph.errors import RejectedError
from riskgraph.settings import Settings, load_settings
from tests.browser import sample_graph

PASSWORD = "sample-graph-password-1"
USERS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "city1": ("city", (), None),
    "wf": ("county", (sample_graph.WENFENG,), None),
    "bg": ("county", (sample_graph.BEIGUAN,), None),
    "mz": ("sector", (), "养老机构"),
    "an": ("analyst", (), None),
    "root": ("admin", (), None),
}
"""Accounts of the sample graph: username → (role, counties, sector)."""


@dataclass
class DashGraph:
    """Connection facts of the test database, and the RISKGRAPH_HOME holding report.json."""

    uri: str
    user: str
    password: str
    driver: neo4j.Driver
    home: Path

    def env(self) -> dict[str, str]:
        """Environment for the app under test (local sign-in, the default)."""
        return {"NEO4J_URI": self.uri, "NEO4J_USER": self.user,
                "NEO4J_PASSWORD": self.password, "RISKGRAPH_HOME": str(self.home),
                "RISKGRAPH_CITY": "410500", "RISKGRAPH_AUTH": "local"}

    def settings(self) -> Settings:
        return load_settings(self.env())


def add_users(graph: DashGraph) -> None:
    """One account per role (:data:`USERS`); the hash key lives in the graph's home, which the
    app under test shares."""
    from security import users

    settings = graph.settings()
    for name, (role, counties, sector) in USERS.items():
        try:
            users.add_user(graph.driver, settings, name, role, PASSWORD, counties, sector)
        except RejectedError:
            pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connection(settings: Settings) -> tuple[str, str, str]:
    if settings.neo4j_uri:
        return settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password or ""
    from graph import server

    return (f"bolt://127.0.0.1:{settings.bolt_port}", "neo4j",
            server.read_password(settings))


@pytest.fixture(scope="module")
def dash_graph(driver: neo4j.Driver, neo4j_settings: Settings,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashGraph]:
    """The sample graph, written fresh for the module."""
    from workflow import ledger

    home = tmp_path_factory.mktemp("dash_home")
    sample_graph.build(driver, home)
    uri, user, password = _connection(neo4j_settings)
    graph = DashGraph(uri, user, password, driver, home)
    add_users(graph)
    ledger.sync_ledger(driver, graph.settings(), "R2")
    yield graph
