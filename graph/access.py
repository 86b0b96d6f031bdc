"""The graph access layer: run builders from :mod:`graph.cypher` on a driver passed in.

The driver is created once at the edge (:func:`graph.connection.connect`) and handed to these
functions; nothing here creates one. Writes go in ``UNWIND $rows`` batches, each inside a
managed transaction (``session.execute_write``), so the driver retries transient errors and a
retried batch changes nothing (every write is a MERGE on a declared key).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph import cypher

Row = Mapping[str, Any]


def chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Split ``rows`` into lists of at most ``size`` items."""
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_write(tx: ManagedTransaction, query: str, params: Mapping[str, Any]) -> int:
    summary = tx.run(query, dict(params)).consume()
    counters = summary.counters
    return counters.nodes_created + counters.relationships_created + counters.properties_set


def write(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
          database: str | None = None) -> int:
    """Run one write query in a managed transaction; returns the number of changes."""
    with driver.session(database=database) as session:
        return session.execute_write(_run_write, query, params or {})


def write_read(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
               database: str | None = None) -> list[dict[str, Any]]:
    """Run one write query in a managed transaction and return its records as dicts."""
    with driver.session(database=database) as session:
        return session.execute_write(_run_read, query, params or {})


def run_batched(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
                database: str | None = None) -> None:
    """Run a ``CALL { … } IN TRANSACTIONS`` query: it must be an auto-commit transaction
    (Neo4j splits it into its own inner transactions, which it also retries)."""
    with driver.session(database=database) as session:
        session.run(query, dict(params or {})).consume()


def write_batches(
    driver: Driver,
    query: str,
    rows: Iterable[Row],
    batch_size: int = 2000,
    database: str | None = None,
    extra: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Run ``query`` (an ``UNWIND $rows`` builder) over ``rows`` in batches.

    Each batch is its own managed transaction. Returns the number of rows written.
    """
    written = 0
    with driver.session(database=database) as session:
        for batch in chunks(rows, batch_size):
            params = {"rows": list(batch), **(extra or {})}
            session.execute_write(_run_write, query, params)
            written += len(batch)
            if progress is not None:
                progress(len(batch))
    return written


def write_batches_parallel(driver: Driver, query: str, rows: Sequence[Row],
                           batch_size: int = 2000, database: str | None = None,
                           extra: Mapping[str, Any] | None = None, workers: int = 2) -> int:
    """:func:`write_batches` with ``workers`` sessions taking batches in turn (each batch its
    own managed transaction). Only for batches that touch disjoint nodes (no lock waits,
    no deadlocks), e.g. CREATEs per enterprise, or rows ordered so that concurrent batches
    share at most the node at their boundary (a wait, not a deadlock; a deadlock would be
    retried by the managed transaction anyway). The first error is raised after every
    worker has stopped; batches already committed stay (as with :func:`write_batches`)."""
    from concurrent.futures import ThreadPoolExecutor

    batches = list(chunks(rows, batch_size))
    if workers <= 1 or len(batches) <= 1:
        return write_batches(driver, query, rows, batch_size, database, extra)
    lock = threading.Lock()
    todo = iter(batches)
    failed = threading.Event()

    def work() -> int:
        n = 0
        with driver.session(database=database) as session:
            while not failed.is_set():
                with lock:
                    batch = next(todo, None)
                if batch is None:
                    break
                try:
                    session.execute_write(_run_write, query, {"rows": batch, **(extra or {})})
                except BaseException:
                    failed.set()  # the other workers stop after their current batch
                    raise
                n += len(batch)
        return n

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work) for _ in range(min(workers, len(batches)))]
        return sum(f.result() for f in futures)


def _run_read(tx: ManagedTransaction, query: str, params: Mapping[str, Any]) -> list[dict]:
    return [record.data() for record in tx.run(query, dict(params))]


def read(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
         database: str | None = None) -> list[dict[str, Any]]:
    """Run a read query in a managed read transaction; returns the records as dicts."""
    with driver.session(database=database) as session:
        return session.execute_read(_run_read, query, params or {})


def stream(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
           database: str | None = None, fetch_size: int = 10000) -> Iterator[dict[str, Any]]:
    """Stream records of a large read lazily (auto-commit, batched fetches)."""
    with driver.session(database=database, fetch_size=fetch_size) as session:
        for record in session.run(query, dict(params or {})):
            yield record.data()


def stream_lists(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
                 database: str | None = None, fetch_size: int = 50000) -> Iterator[Any]:
    """Stream the FIRST column of each record of a large read (a builder returning one
    compact list per row): no per-record dict, big fetches, no notifications."""
    with driver.session(database=database, fetch_size=fetch_size,
                        notifications_min_severity="OFF") as session:
        for record in session.run(query, dict(params or {})):
            yield record[0]


def read_collected(driver: Driver, query: str, params: Mapping[str, Any] | None = None,
                   database: str | None = None) -> list[Any]:
    """The one list of a builder returning ONE record ``collect(…) AS rows`` (empty when
    there is no record): the driver's per-record cost paid once, not per row (at scale 1,
    19.6k rows in 0.4 s against 8 s as one record each on a loaded machine)."""
    with driver.session(database=database, notifications_min_severity="OFF") as session:
        record = session.run(query, dict(params or {})).single()
        return list(record[0]) if record is not None and record[0] is not None else []


def merge_nodes(driver: Driver, label: str, rows: Sequence[Row], batch_size: int = 2000,
                database: str | None = None) -> int:
    """MERGE nodes of ``label``; rows are ``{"key": …, "props": {…}}``."""
    return write_batches(driver, cypher.merge_nodes(label), rows, batch_size, database)


def merge_relationships(driver: Driver, type_name: str, source: str, target: str,
                        rows: Sequence[Row], batch_size: int = 2000,
                        database: str | None = None) -> int:
    """MERGE relationships; rows are ``{"src": key, "dst": key, "rk": str, "props": {…}}``."""
    query = cypher.merge_relationships(type_name, source, target)
    return write_batches(driver, query, rows, batch_size, database)


def counts(driver: Driver, database: str | None = None) -> dict[str, dict[str, int]]:
    """``{"nodes": {label: n}, "relationships": {type: n}}`` for any Neo4j 5 server."""
    labels = [r["label"] for r in read(driver, cypher.list_labels(), database=database)]
    types = [r["relationshipType"]
             for r in read(driver, cypher.list_relationship_types(), database=database)]
    nodes = {name: read(driver, cypher.count_label(name), database=database)[0]["n"]
             for name in labels}
    rels = {name: read(driver, cypher.count_type(name), database=database)[0]["n"]
            for name in types}
    return {"nodes": {k: v for k, v in nodes.items() if v},
            "relationships": {k: v for k, v in rels.items() if v}}
