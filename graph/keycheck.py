"""The hash key check: a graph is only ever written with the hash key that made its keys.

Person keys (``P:`` + keyed hash of the citizen ID) and the accounts' password peppers come
from the installation's hash key (:func:`riskgraph.identifiers.load_hash_key`), which is kept
outside the graph and out of backups. A graph restored on another machine, or a home whose
``secrets/hash_key`` was lost or replaced, would otherwise go on loading silently with a new
key: every person delivered again becomes a second node, and no account can sign in.

The graph therefore records the fingerprint of its key (one ``KeyCheck`` node,
:func:`riskgraph.identifiers.key_fingerprint`): the first run that writes keyed data records
it; every later run checks it first (:func:`verify`) and stops with a settings error (exit 2)
naming both fingerprints when the keys differ, before it writes anything.
"""

from __future__ import annotations

from typing import Any

from graph import access, cypher
from riskgraph.errors import ConfigError
from riskgraph.identifiers import key_fingerprint

NAME = "hash_key"


class KeyMismatchError(ConfigError):
    """The installation's hash key is not the one that made the graph's keys (exit 2)."""


def recorded(driver: Any, database: str | None = None) -> str | None:
    """The fingerprint the graph holds, or None."""
    rows = access.read(driver, cypher.key_check_read(), {"name": NAME}, database=database)
    return str(rows[0]["fingerprint"]) if rows and rows[0]["fingerprint"] else None


def mismatch(graph_fp: str, own_fp: str) -> KeyMismatchError:
    return KeyMismatchError(
        f"this installation's hash key (fingerprint {own_fp}) is not the one that made the "
        f"graph's person keys and passwords (fingerprint {graph_fp})",
        "use the key of the installation that loaded this graph: copy its "
        "RISKGRAPH_HOME/secrets/hash_key here (mode 0600) or set RISKGRAPH_HASH_KEY "
        "(docs/security.md, 'Where the hash key lives')")


def verify(driver: Any, key: bytes, database: str | None = None) -> bool:
    """Raise :class:`KeyMismatchError` when the graph records another key's fingerprint.
    True when it records this key's, False when it records none (nothing to compare)."""
    graph_fp = recorded(driver, database)
    if graph_fp is None:
        return False
    own = key_fingerprint(key)
    if graph_fp != own:
        raise mismatch(graph_fp, own)
    return True


def record(driver: Any, key: bytes, by: str, database: str | None = None) -> None:
    """Record this key's fingerprint when the graph holds none (``by``: the run or command
    that did); raise :class:`KeyMismatchError` when it holds another (a race with a writer
    using another key)."""
    own = key_fingerprint(key)
    rows = access.write_read(driver, cypher.key_check_record(),
                             {"name": NAME, "fingerprint": own, "by": by}, database=database)
    got = rows[0]["fingerprint"]
    if got != own:
        raise mismatch(str(got), own)
