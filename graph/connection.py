"""The one place a Neo4j driver is created.

:func:`connect` gives the driver for the configured graph: the server at ``NEO4J_URI`` (with
``NEO4J_USER``/``NEO4J_PASSWORD``; ``neo4j://`` routing URIs are fine) when it is set, otherwise
riskgraph's own local server, started on demand (:mod:`graph.server`). Connectivity is checked
with a real round trip, and failures become one-line riskgraph errors: refused credentials are a
:class:`ConfigError`, an unreachable server a :class:`DatabaseError`.
"""

from __future__ import annotations

import neo4j
from neo4j import exceptions as neo4j_errors

from riskgraph.errors import ConfigError, DatabaseError
from riskgraph.settings import Settings

CONNECT_TIMEOUT = 10.0
_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def database_name(settings: Settings) -> str:
    """The database riskgraph uses on the server (``RISKGRAPH_NEO4J_DATABASE``, or
    the older ``NEO4J_DATABASE``; default ``neo4j``)."""
    return settings.neo4j_database


def open_driver(
    uri: str,
    user: str,
    password: str,
    database: str | None = None,
    timeout: float = CONNECT_TIMEOUT,
    password_hint: str = "check NEO4J_PASSWORD (and NEO4J_USER)",
) -> neo4j.Driver:
    """A driver for ``uri`` whose connectivity and credentials were verified by one query.

    Prefer :func:`connect`; this is for the server lifecycle and tests that need a given URI.
    """
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"{uri!r} is not a usable Neo4j URI (scheme must be one of {', '.join(_SCHEMES)})",
            "use e.g. bolt://host:7687 or neo4j://host:7687 in NEO4J_URI",
        )
    try:
        driver = neo4j.GraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=timeout,
            connection_acquisition_timeout=timeout * 2,
            # Query-plan hints (e.g. "label does not exist yet" on an empty graph) are noise
            # for operators; real errors still raise.
            notifications_min_severity="OFF",
        )
    except (neo4j_errors.ConfigurationError, ValueError) as exc:
        raise ConfigError(
            f"{uri!r} is not a usable Neo4j URI: {exc}",
            "use e.g. bolt://host:7687 or neo4j://host:7687 in NEO4J_URI",
        ) from exc
    try:
        driver.verify_connectivity()
        with driver.session(database=database) as session:
            session.run("RETURN 1 AS ok").consume()
    except neo4j_errors.AuthError as exc:
        driver.close()
        raise ConfigError(
            f"Neo4j refused the credentials of user {user!r} at {uri}", password_hint
        ) from exc
    except neo4j_errors.ClientError as exc:
        driver.close()
        if exc.code and "DatabaseNotFound" in exc.code:
            raise ConfigError(
                f"database {database!r} does not exist on {uri}",
                "check RISKGRAPH_NEO4J_DATABASE (or the older NEO4J_DATABASE)",
            ) from exc
        raise DatabaseError(f"Neo4j at {uri} refused the check query: {exc.message}") from exc
    except (neo4j_errors.DriverError, neo4j_errors.Neo4jError, OSError) as exc:
        driver.close()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"cannot reach Neo4j at {uri}: {reason[:200]}",
            "check NEO4J_URI and that the server is running (local: riskgraph db status)",
        ) from exc
    return driver


def connect(settings: Settings) -> neo4j.Driver:
    """The driver for the configured graph; starts the local server when needed.

    With ``NEO4J_URI`` set, the local server is never started. Close the driver when done.
    """
    if settings.neo4j_uri:
        if not settings.neo4j_password:
            raise ConfigError(
                f"NEO4J_URI is set ({settings.neo4j_uri}) but NEO4J_PASSWORD is not",
                "set NEO4J_PASSWORD (and NEO4J_USER if not neo4j)",
            )
        return open_driver(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password,
                           database=database_name(settings))
    from graph import server

    uri = server.start(settings)
    return open_driver(uri, "neo4j", server.read_password(settings),
                       database=database_name(settings),
                       password_hint=f"the password in {server.password_file(settings)} does "
                       "not match the local database")
