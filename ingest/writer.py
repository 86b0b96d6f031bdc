"""Write :class:`ingest.build.Writes` to Neo4j under a load id (see ingest/__init__.py).

Batches are ``UNWIND $rows`` MERGEs on indexed keys (one managed transaction per batch, size
from ``Settings.batch_size``). New nodes and relationships carry ``pending = load_id`` until
:func:`finalise` removes it after the file's commit point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neo4j import Driver

from graph import access, cypher
from ingest.build import Writes, region_rows

NODE_ORDER = ("Region", "Enterprise", "Person", "Party", "Address", "Phone")


def _strip(props: dict[str, Any], keep_none: bool) -> dict[str, Any]:
    if keep_none:
        return props
    return {k: v for k, v in props.items() if v is not None}


def ensure_regions(writes: Writes) -> None:
    """Add Region nodes (with ancestors) and PART_OF links for every Region a rel targets."""
    codes = {dst for (type_, _s, target), rows in writes.rels.items() if target == "Region"
             for (_src, dst, _rk) in rows}
    for code, props in region_rows(codes).items():
        writes.node("Region", code, props)
        if props["parent"]:
            writes.rel("PART_OF", ("Region", code), ("Region", props["parent"]),
                       {"src": "divisions"})


def write(driver: Driver, writes: Writes, load_id: str, batch_size: int = 2000,
          database: str | None = None, progress: Callable[[int], None] | None = None,
          ) -> dict[str, int]:
    """Write every node then every relationship; returns rows written per label/type."""
    ensure_regions(writes)
    done: dict[str, int] = {}
    order = {label: i for i, label in enumerate(NODE_ORDER)}
    for (label, mode) in sorted(writes.nodes, key=lambda k: (order.get(k[0], 99), k[0], k[1])):
        bucket = writes.nodes[(label, mode)]
        rows = [{"key": k, "props": _strip(p, mode == "record")} for k, p in bucket.items()]
        access.write_batches(driver, cypher.ingest_merge_nodes(label, mode), rows, batch_size,
                             database, extra={"load_id": load_id}, progress=progress)
        done[label] = done.get(label, 0) + len(rows)
    for (type_, source, target), bucket in sorted(writes.rels.items()):
        rows = [{"src": s, "dst": d, "rk": rk, "props": _strip(p, False)}
                for (s, d, rk), p in bucket.items()]
        record = any("rec" in p for p in bucket.values())  # only facts owned by a table
        access.write_batches(driver, cypher.ingest_merge_relationships(type_, source, target,
                                                                       record),
                             rows, batch_size, database, extra={"load_id": load_id},
                             progress=progress)
        done[type_] = done.get(type_, 0) + len(rows)
    return done


def _auto(driver: Driver, query: str, params: dict[str, Any], database: str | None) -> None:
    """Run an auto-commit query (needed for ``CALL … IN TRANSACTIONS``)."""
    with driver.session(database=database) as session:
        session.run(query, params).consume()  # type: ignore[arg-type]


def finalise(driver: Driver, load_id: str, labels: list[str], types: list[str],
             database: str | None = None) -> None:
    """Remove ``pending`` from the nodes and relationships of ``load_id`` (idempotent)."""
    for label in labels:
        _auto(driver, cypher.ingest_finalise_nodes(label), {"load_id": load_id}, database)
    for type_ in types:
        _auto(driver, cypher.ingest_finalise_relationships(type_), {"load_id": load_id},
              database)


def end_missing(driver: Driver, rec: str, load_id: str, ended: str, run_id: str,
                labels: list[str], types: list[str], database: str | None = None) -> None:
    """Full snapshot: records of ``rec`` not seen in ``load_id`` get ``ended``/``ended_run``."""
    params = {"rec": rec, "load_id": load_id, "ended": ended, "run_id": run_id}
    for label in labels:
        _auto(driver, cypher.ingest_end_nodes(label), params, database)
    for type_ in types:
        _auto(driver, cypher.ingest_end_relationships(type_), params, database)
