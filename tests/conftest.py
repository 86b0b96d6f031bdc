"""Shared fixtures: one real Neo4j for the whole test session (never mocked).

By default a SEPARATE local test server is started (own home ``/tmp/riskgraph-test-<uid>/``,
own port: 7698 if free, else any free port) and stopped at the end of the session; its store
is kept between sessions so later starts are faster. Set ``RISKGRAPH_TEST_NEO4J_URI`` (with
``RISKGRAPH_TEST_NEO4J_USER`` / ``RISKGRAPH_TEST_NEO4J_PASSWORD``) to use an existing server
instead; tests then delete its data, so never point it at a production database.

Sub-folders add their own fixtures in their own ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from graph import access, cypher, server
from graph.connection import connect
from riskgraph.settings import Settings, load_settings

TEST_HOME = Path(f"/tmp/riskgraph-test-{os.getuid()}")


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing uses it on 127.0.0.1, else a free port from the OS."""
    if preferred is not None:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_test_settings(home: Path, port: int) -> Settings:
    """Settings for a local test server: small memory, given home and port."""
    return load_settings({
        "RISKGRAPH_HOME": str(home),
        "RISKGRAPH_BOLT_PORT": str(port),
        "RISKGRAPH_NEO4J_HEAP": "1g",
        "RISKGRAPH_NEO4J_PAGECACHE": "512m",
        "RISKGRAPH_BATCH_SIZE": "1000",
        # the session server is shared by many tests: no offline import restarting it
        # (tests/test_bulk_load.py runs its own server with the bulk first load on)
        "RISKGRAPH_BULK_LOAD": "off",
    })


def _running_port(home: Path) -> int | None:
    status = server.status(local_test_settings(home, 7698))
    return status["port"] if status["running"] else None


@contextlib.contextmanager
def exclusive_local_server() -> Iterator[Settings]:
    """A local test server that belongs to this pytest session alone.

    Homes are slots ``TEST_HOME/local``, ``local-1``, …; a session holds its slot's lock until
    it ends, so concurrent sessions (other engineers, other checkouts) never share a database.
    The store is kept for the next session; the server is stopped at the end.
    """
    for slot in range(32):
        home = TEST_HOME / ("local" if slot == 0 else f"local-{slot}")
        home.mkdir(parents=True, exist_ok=True)
        with open(home / "session.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            settings = local_test_settings(home, _running_port(home) or free_port(7698 + slot))
            server.start(settings)
            try:
                yield settings
            finally:
                server.stop(settings)
            return
    raise RuntimeError(f"all test server slots under {TEST_HOME} are in use")


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    """Settings pointing at the session's test Neo4j (started here unless given by env)."""
    uri = os.environ.get("RISKGRAPH_TEST_NEO4J_URI")
    if uri:
        yield load_settings({
            "RISKGRAPH_HOME": str(TEST_HOME / "remote"),
            "NEO4J_URI": uri,
            "NEO4J_USER": os.environ.get("RISKGRAPH_TEST_NEO4J_USER", "neo4j"),
            "NEO4J_PASSWORD": os.environ.get("RISKGRAPH_TEST_NEO4J_PASSWORD", ""),
            "NEO4J_DATABASE": os.environ.get("RISKGRAPH_TEST_NEO4J_DATABASE", "neo4j"),
        })
        return
    with exclusive_local_server() as settings:
        yield settings


@pytest.fixture(scope="session")
def local_server(neo4j_settings: Settings) -> Iterator[Settings]:
    """Settings of a LOCAL test server (the session one, or a dedicated one when it is remote)."""
    if neo4j_settings.local:
        yield neo4j_settings
        return
    with exclusive_local_server() as settings:
        yield settings


@pytest.fixture(scope="session")
def driver(neo4j_settings: Settings) -> Iterator[neo4j.Driver]:
    """The session's driver (created by :func:`graph.connection.connect`)."""
    drv = connect(neo4j_settings)
    yield drv
    drv.close()


@pytest.fixture()
def clean_db(driver: neo4j.Driver, neo4j_settings: Settings) -> neo4j.Driver:
    """Deletes every node and relationship (batched) before the test; schema is kept."""
    with driver.session(database=neo4j_settings.neo4j_database) as session:
        session.run(cypher.delete_all_batched()).consume()
    assert access.read(driver, cypher.count_all_nodes(),
                       database=neo4j_settings.neo4j_database)[0]["n"] == 0
    return driver
