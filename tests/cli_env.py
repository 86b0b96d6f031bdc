"""The environment of a ``riskgraph`` CLI child process that talks to the session's test
Neo4j (tests/conftest.py): shared by the tests that run the CLI as operators do."""

from __future__ import annotations

import os
from pathlib import Path

from graph import server
from riskgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def cli_env(settings: Settings, home: Path, **extra: str) -> dict[str, str]:
    """Environment of a CLI child talking to the session's test Neo4j, with ``home`` as its
    ``RISKGRAPH_HOME``; ``extra`` adds or overrides variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    if settings.local:
        uri, user, password = (server.bolt_uri(settings.bolt_port), "neo4j",
                               server.read_password(settings))
    else:
        uri, user, password = (settings.neo4j_uri or "", settings.neo4j_user,
                               settings.neo4j_password or "")
    env.update(RISKGRAPH_HOME=str(home), NEO4J_URI=uri, NEO4J_USER=user,
               NEO4J_PASSWORD=password, NEO4J_DATABASE=settings.neo4j_database,
               RISKGRAPH_BATCH_SIZE="1000", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env
