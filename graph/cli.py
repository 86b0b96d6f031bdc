"""``riskgraph db …``: the graph database's commands, and the backup file format.

Mounted by ``riskgraph/cli.py`` as ``app.add_typer(db_app, name="db")``. Errors are raised as
:class:`~riskgraph.errors.RiskgraphError` and turned into exit codes there.

Backup format (``db backup --out FILE`` / ``db restore FILE``)
-------------------------------------------------------------
A logical export made with Cypher, so it works for the local server *and* a remote
``NEO4J_URI`` (no file system access to the server needed). ``FILE`` is gzip-compressed JSON
Lines:

1. ``{"t": "header", "format": "riskgraph-backup", "version": 1, "created": …, "database": …}``
2. ``{"t": "schema", "name": …, "statement": "CREATE CONSTRAINT …"}`` for every user constraint
   and index (token lookup and constraint-owned indexes are left out),
3. ``{"t": "node", "id": …, "labels": […], "props": {…}}`` for every node,
4. ``{"t": "rel", "type": …, "src": …, "dst": …, "props": {…}}`` for every relationship,
5. ``{"t": "end", "nodes": N, "relationships": M}`` — a file without it is rejected as truncated.

Everything in the graph is included, so ledger, audit and run records stored as nodes are too.
Property values that JSON cannot carry are tagged: ``{"$t": "date" | "datetime" |
"localdatetime" | "time" | "localtime" | "duration" | "point" | "bytes", …}`` (date-times keep
their UTC offset; a named time zone is kept as its offset). ``id`` is the source's
``elementId`` and only links relationships to nodes inside the file.

The export reads inside one read transaction. Neo4j isolation is read-committed, so take the
backup while no ``ingest``/``refresh`` writes (the copy is then exactly the graph at that time).
The file is written to ``FILE.partial`` and renamed when complete.

Restore needs an empty database (``--replace`` deletes the current graph, constraints and
indexes first); it re-creates the schema, then the nodes and relationships in batches of
``RISKGRAPH_BATCH_SIZE``, and checks the counts against the file.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import neo4j
import typer
from neo4j import exceptions as neo4j_errors
from neo4j import spatial
from neo4j import time as ntime

from graph import access, changes, cypher, server
from graph.connection import connect, database_name
from riskgraph.errors import (
    DatabaseError,
    DataError,
    RejectedError,
    RiskgraphError,
    UsageError,
)
from riskgraph.paths import readable_file, writable_file
from riskgraph.settings import Settings, load_settings

BACKUP_FORMAT = "riskgraph-backup"
BACKUP_VERSION = 1

db_app = typer.Typer(
    help="The graph database: the local Neo4j (or NEO4J_URI), counts, backup and restore.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _settings(ctx: typer.Context | None = None) -> Settings:
    obj = ctx.obj if ctx is not None else None
    return obj if isinstance(obj, Settings) else load_settings()


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


# --- lifecycle commands -----------------------------------------------------------------------


@db_app.command("start")
def start_cmd(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option("--port", help="Bolt port (default 7697).")] = None,
) -> None:
    """Start the local Neo4j (no-op when it already runs) and print its Bolt URI."""
    print(server.start(_settings(ctx), port=port))


@db_app.command("stop")
def stop_cmd(ctx: typer.Context) -> None:
    """Stop the local Neo4j cleanly."""
    stopped = server.stop(_settings(ctx))
    print("stopped" if stopped else "not running")


@db_app.command("status")
def status_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show whether the database runs (exit 0) or not (exit 3)."""
    settings = _settings(ctx)
    info = server.status(settings)
    if not settings.local:  # remote: running means answering
        try:
            connect(settings).close()
            info["running"] = True
        except RiskgraphError as exc:
            info["running"] = False
            info["error"] = exc.message
    if as_json:
        print(_json(info))
    elif info["running"]:
        where = f"pid {info['pid']}, data {info['data_dir']}" if info["local"] else "remote"
        version = f"Neo4j {info['version']} " if info.get("version") else ""
        print(f"running: {version}at {info['uri']} ({where})")
    else:
        print(f"not running ({info.get('error') or 'riskgraph db start starts it'})")
    raise typer.Exit(0 if info["running"] else 3)


@db_app.command("counts")
def counts_cmd(ctx: typer.Context) -> None:
    """Print ``{"nodes": {label: n}, "relationships": {type: n}}`` as JSON."""
    settings = _settings(ctx)
    driver = connect(settings)
    try:
        print(_json(counts(driver, database_name(settings))))
    finally:
        driver.close()


def counts(driver: neo4j.Driver, database: str | None = None) -> dict[str, dict[str, int]]:
    """Non-zero counts per label and per relationship type (from the count store)."""
    return access.counts(driver, database=database)


# --- backup / restore -------------------------------------------------------------------------


@db_app.command("backup")
def backup_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Backup file to write (.jsonl.gz).")],
) -> None:
    """Write a copy of the whole graph (schema, nodes, relationships) to FILE."""
    settings = _settings(ctx)
    writable_file(out, "backup file", "pass a file in a folder you may write, e.g. "
                  "--out backup.jsonl.gz")  # exit 2 before connecting
    driver = connect(settings)
    try:
        result = backup(driver, out, database=database_name(settings))
    finally:
        driver.close()
    print(_json({"file": str(out), **result}))


@db_app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `riskgraph db backup`.")],
    replace: Annotated[bool, typer.Option(
        "--replace", help="Delete the current graph, constraints and indexes first.")] = False,
) -> None:
    """Re-create the graph of FILE in an empty database."""
    settings = _settings(ctx)
    file = readable_file(file, "backup file", "pass a file written by `riskgraph db backup "
                         "--out FILE`")  # exit 2 before connecting (or dropping any cache)
    with _refresh_lock(settings, "restore"):
        driver = connect(settings)
        try:
            result = restore(driver, file, database=database_name(settings),
                             batch_size=settings.batch_size, replace=replace)
            print(_json({"file": str(file), **result}))
            check_restored_key(driver, settings)
        finally:
            driver.close()
            changes.forget(settings.projection_cache_file, settings.changes_dir)


def _refresh_lock(settings: Settings, what: str) -> Any:
    """The refresh lock of ``RISKGRAPH_HOME``, not waited for: a restore never runs beside a
    refresh, an ingest or a scoring run of this installation (exit 3 when one holds it,
    nothing done). The backup takes no lock itself: operators run it under ``flock`` on the
    same file (docs/operations.md), which a second lock in the child would wait on forever."""
    from riskgraph.runs import RefreshLock, lock_path

    return RefreshLock(lock_path(settings)).acquire(run_id=what)


def check_restored_key(driver: neo4j.Driver, settings: Settings) -> None:
    """After a restore: the graph's person keys and passwords need the hash key that made
    them (not in the backup, by design). Another key: :class:`RejectedError` (exit 1: the
    restore is done, the check failed) with the remedy; none recorded (a backup made before
    riskgraph recorded one): a note."""
    from graph import keycheck
    from riskgraph.identifiers import load_hash_key

    key = load_hash_key(settings.secrets_dir, settings.hash_key)
    try:
        found = keycheck.verify(driver, key, database_name(settings))
    except keycheck.KeyMismatchError as exc:
        raise RejectedError(f"restored, but {exc.message}; loads and sign-ins stop until "
                            "the keys agree", exc.hint) from exc
    if not found:
        print("note: the backup records no hash key fingerprint; this installation's key "
              "must be the one of the installation that made it (docs/security.md)",
              file=sys.stderr)


def encode_value(value: Any) -> Any:
    """A property value as JSON (tagged for the types JSON lacks)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return {"$t": "bytes", "v": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, ntime.DateTime):
        kind = "datetime" if value.tzinfo is not None else "localdatetime"
        return {"$t": kind, "v": value.iso_format()}
    if isinstance(value, ntime.Date):
        return {"$t": "date", "v": value.iso_format()}
    if isinstance(value, ntime.Time):
        kind = "time" if value.tzinfo is not None else "localtime"
        return {"$t": kind, "v": value.iso_format()}
    if isinstance(value, ntime.Duration):
        return {"$t": "duration", "v": [value.months, value.days, value.seconds, value.nanoseconds]}
    if isinstance(value, spatial.Point):
        return {"$t": "point", "srid": value.srid, "v": list(value)}
    if isinstance(value, list | tuple):  # after Point and Duration, which are tuples
        return [encode_value(v) for v in value]
    raise DataError(f"cannot back up a property value of type {type(value).__name__}")


_POINTS: dict[int, type[spatial.Point]] = {
    7203: spatial.CartesianPoint, 9157: spatial.CartesianPoint,
    4326: spatial.WGS84Point, 4979: spatial.WGS84Point,
}


def decode_value(value: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("$t")
    raw: Any = value.get("v")
    if kind == "bytes":
        return base64.b64decode(raw)
    if kind in ("datetime", "localdatetime"):
        return ntime.DateTime.from_iso_format(raw)
    if kind == "date":
        return ntime.Date.from_iso_format(raw)
    if kind in ("time", "localtime"):
        return ntime.Time.from_iso_format(raw)
    if kind == "duration":
        months, days, seconds, nanoseconds = raw
        return ntime.Duration(months=months, days=days, seconds=seconds, nanoseconds=nanoseconds)
    if kind == "point":
        return _POINTS[int(value["srid"])](raw)
    raise DataError(f"unknown tagged value {value!r} in the backup file")


def _props(props: dict[str, Any], decode: bool = False) -> dict[str, Any]:
    convert = decode_value if decode else encode_value
    return {key: convert(v) for key, v in props.items()}


def backup(driver: neo4j.Driver, out: Path, database: str | None = None) -> dict[str, int]:
    """Export schema, nodes and relationships to ``out`` (see the module docstring)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    nodes = rels = schema = 0
    started = time.monotonic()
    try:
        with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS,
                            fetch_size=5000) as session, \
                gzip.open(partial, "wt", encoding="utf-8") as fh:
            header = {"t": "header", "format": BACKUP_FORMAT, "version": BACKUP_VERSION,
                      "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "database": database}
            fh.write(_json(header) + "\n")
            for query in (cypher.backup_constraints(), cypher.backup_indexes()):
                for record in session.run(query):
                    fh.write(_json({"t": "schema", "name": record["name"],
                                    "statement": record["statement"]}) + "\n")
                    schema += 1
            with session.begin_transaction() as tx:
                for record in tx.run(cypher.backup_nodes()):
                    fh.write(_json({"t": "node", "id": record["id"], "labels": record["labels"],
                                    "props": _props(record["props"])}) + "\n")
                    nodes += 1
                for record in tx.run(cypher.backup_relationships()):
                    fh.write(_json({"t": "rel", "type": record["type"], "src": record["src"],
                                    "dst": record["dst"], "props": _props(record["props"])})
                             + "\n")
                    rels += 1
                tx.commit()
            fh.write(_json({"t": "end", "nodes": nodes, "relationships": rels}) + "\n")
        os.replace(partial, out)
    except neo4j_errors.Neo4jError as exc:
        partial.unlink(missing_ok=True)
        raise DatabaseError(f"backup failed: {exc.message}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    print(f"backed up {nodes} nodes, {rels} relationships in {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return {"nodes": nodes, "relationships": rels, "schema": schema}


def _read_backup(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}: line {number} is not JSON") from exc
    except FileNotFoundError as exc:
        raise DataError(f"backup file {path} does not exist") from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable riskgraph backup: {exc}") from exc


def _check_backup(path: Path) -> dict[str, Any]:
    """Validate the whole file before the database is touched; returns its end record."""
    header = end = None
    for item in _read_backup(path):
        kind = item.get("t")
        if kind == "header":
            header = item
        elif kind == "end":
            end = item
        elif kind == "schema":
            try:
                cypher.restore_schema_statement(item["statement"])
            except cypher.CypherBuildError as exc:
                raise DataError(f"{path}: {exc}") from exc
    if header is None or header.get("format") != BACKUP_FORMAT:
        raise DataError(f"{path} is not a riskgraph backup (no header)")
    if header.get("version") != BACKUP_VERSION:
        raise DataError(f"{path} has backup format version {header.get('version')}, "
                        f"this riskgraph reads version {BACKUP_VERSION}")
    if end is None:
        raise DataError(f"{path} is truncated (no end record)", "take the backup again")
    return end


def _is_schema_duplicate(exc: neo4j_errors.Neo4jError) -> bool:
    return any(word in (exc.code or "") for word in ("AlreadyExists", "EquivalentSchemaRule"))


def _wipe(driver: neo4j.Driver, database: str | None) -> None:
    with driver.session(database=database) as session:
        session.run(cypher.delete_all_batched()).consume()
        constraints = [r["name"] for r in session.run(cypher.backup_constraints())]
        for name in constraints:
            session.run(cypher.drop_constraint(name)).consume()
        indexes = [r["name"] for r in session.run(cypher.backup_indexes())]
        for name in indexes:
            session.run(cypher.drop_index(name)).consume()


def _created(tx: neo4j.ManagedTransaction, query: str,
             rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["old"], r["new"]) for r in tx.run(query, {"rows": rows})]


def restore(driver: neo4j.Driver, path: Path, database: str | None = None,
            batch_size: int = 2000, replace: bool = False) -> dict[str, int]:
    """Re-create the graph of a backup file in an empty database (see the module docstring)."""
    path = Path(path)
    end = _check_backup(path)
    started = time.monotonic()
    existing = access.read(driver, cypher.count_all_nodes(), database=database)[0]["n"]
    if existing and not replace:
        raise UsageError(
            f"the database is not empty ({existing} nodes); restore needs an empty database",
            "add --replace to delete the current graph first (take a backup of it before)",
        )
    if replace:
        _wipe(driver, database)

    ids: dict[str, str] = {}
    node_buf: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    rel_buf: dict[str, list[dict[str, Any]]] = defaultdict(list)
    nodes = rels = 0

    def flush_nodes(labels: tuple[str, ...]) -> None:
        rows = node_buf.pop(labels, [])
        if rows:
            with driver.session(database=database) as session:
                written = session.execute_write(_created, cypher.restore_nodes(labels), rows)
            ids.update(written)

    def flush_rels(type_name: str) -> None:
        rows = rel_buf.pop(type_name, [])
        if rows:
            access.write(driver, cypher.restore_relationships(type_name), {"rows": rows},
                         database=database)

    try:
        with driver.session(database=database) as session:
            for item in _read_backup(path):
                if item.get("t") != "schema":
                    continue
                try:
                    session.run(cypher.restore_schema_statement(item["statement"])).consume()
                except neo4j_errors.ClientError as exc:
                    if not _is_schema_duplicate(exc):
                        raise
        for item in _read_backup(path):
            kind = item.get("t")
            if kind == "node":
                labels = tuple(item["labels"])
                node_buf[labels].append({"id": item["id"], "props": _props(item["props"], True)})
                nodes += 1
                if len(node_buf[labels]) >= batch_size:
                    flush_nodes(labels)
            elif kind == "rel":
                if node_buf:  # relationships follow all nodes in the file
                    for labels in list(node_buf):
                        flush_nodes(labels)
                try:
                    src, dst = ids[item["src"]], ids[item["dst"]]
                except KeyError as exc:
                    raise DataError(f"{path}: a relationship refers to a missing node") from exc
                rel_buf[item["type"]].append(
                    {"src": src, "dst": dst, "props": _props(item["props"], True)})
                rels += 1
                if len(rel_buf[item["type"]]) >= batch_size:
                    flush_rels(item["type"])
        for labels in list(node_buf):
            flush_nodes(labels)
        for type_name in list(rel_buf):
            flush_rels(type_name)
    except neo4j_errors.Neo4jError as exc:
        raise DatabaseError(
            f"restore failed part way: {exc.message}",
            "the database holds a partial copy; run restore again with --replace",
        ) from exc
    if (nodes, rels) != (end["nodes"], end["relationships"]):
        raise DataError(f"{path}: end record says {end['nodes']} nodes, {end['relationships']} "
                        f"relationships, the file holds {nodes} and {rels}")
    print(f"restored {nodes} nodes, {rels} relationships in {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return {"nodes": nodes, "relationships": rels}
