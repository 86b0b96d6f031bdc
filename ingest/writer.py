"""Write :class:`ingest.build.Writes` to Neo4j under a load id (see ingest/__init__.py).

Batches are ``UNWIND $rows`` MERGEs on indexed keys (one managed transaction per batch of
:data:`BATCH` rows, one query per label/mode and per relationship type/endpoints). New nodes
and relationships carry ``pending = load_id``; each batch returns the internal ids of those still
pending for this load, and :func:`finalise_keys` clears exactly those after the file's commit
point (id seeks, batched transactions, two queries for all labels and types) — no label or
type scan. :func:`finalise` (scan) remains for the crash-recovery path, when the ids are no
longer known.

Before writing, :func:`link_unregistered` checks every Enterprise a relationship references:
an enterprise missing from 企业基本信息 (and not in this file) is linked as a ``Party`` with
``reason = "not in registration export"`` (code and name kept) where the model allows a Party
at that end, and otherwise reported as an unresolved reference (file, row) — never dropped
silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neo4j import Driver, ManagedTransaction

from graph import cypher
from graph.model import ENDED, PROVENANCE, REL_BY_TYPE
from ingest.build import Writes, region_rows
from riskgraph.gcpause import gc_paused

if TYPE_CHECKING:
    from ingest.bulk import MemoryGraph
    from ingest.warmup import Shapes

NODE_ORDER = ("Region", "Enterprise", "Person", "Party", "Address", "Phone")
BATCH = 10000
UNREGISTERED = "not in registration export"
UNRESOLVED_LISTED = 5000  # per file; the count is always exact


@dataclass
class Written:
    """What :func:`write` did: rows per label/type, what is still pending (internal ids),
    unresolved refs."""

    counts: dict[str, int] = field(default_factory=dict)
    pending_nodes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    """Label → internal ids of the nodes still carrying this load's ``pending``."""
    pending_rels: dict[tuple[str, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(list))
    """(type, source, target) → internal ids of the relationships still pending."""
    party_links: int = 0
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    unresolved_count: int = 0

    def unresolved_ref(self, item: dict[str, Any]) -> None:
        self.unresolved_count += 1
        if len(self.unresolved) < UNRESOLVED_LISTED:
            self.unresolved.append(item)


def _strip(props: dict[str, Any], keep_none: bool) -> dict[str, Any]:
    if keep_none:
        return props
    return {k: v for k, v in props.items() if v is not None}


def _strip_rel(props: dict[str, Any]) -> dict[str, Any]:
    """A relationship's properties without ``None`` values, except a record's ``ended`` and
    ``ended_run`` (:data:`graph.model.ENDED`): delivered again, it is current again."""
    if props.get("rec") is None:
        return _strip(props, False)
    return {k: v for k, v in props.items() if v is not None or k in ENDED}


_MISSING = object()


def factor_common(props: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split the property maps of a batch into ``(common, rest)``: ``common`` holds the
    scalar properties every map has with the same value and type (provenance, ``rec``, …),
    ``rest`` the maps without them. ``SET n += common, n += rest[i]`` equals
    ``SET n += props[i]``; the batch sent over Bolt shrinks by the shared keys."""
    if not props:
        return {}, props
    common: dict[str, Any] = {}
    for key, value in props[0].items():
        if isinstance(value, (list, dict)):
            continue
        kind = type(value)
        if all(type(q.get(key, _MISSING)) is kind and q[key] == value for q in props):
            common[key] = value
    if not common:
        return {}, props
    return common, [{k: v for k, v in q.items() if k not in common} for q in props]


def ensure_regions(writes: Writes, known: set[str] | None = None) -> None:
    """Add Region nodes (with ancestors) and PART_OF links for every Region a rel targets
    (except ``known`` codes, already written in this run)."""
    codes = {dst for (_t, _s, target), rows in writes.rels.items() if target == "Region"
             for (_src, dst, _rk) in rows}
    codes -= known or set()
    for code, props in region_rows(codes).items():
        writes.node("Region", code, props)
        if props["parent"]:
            writes.rel("PART_OF", ("Region", code), ("Region", props["parent"]),
                       {"src": "divisions"})


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _tx_single(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> dict[str, Any]:
    """The one record of ``query`` as a dict of plain values (lists of keys, counts).

    Not ``Record.data()``: it walks every returned value recursively in Python to convert
    graph types, which cost as much as the write itself for 10k returned keys."""
    record = tx.run(query, params).single()
    return {} if record is None else dict(zip(record.keys(), record.values(), strict=True))


def _tx_consume(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> None:
    tx.run(query, params).consume()


def existing(driver: Driver, label: str, keys: Iterable[Any], database: str | None = None
             ) -> set[Any]:
    """The ``keys`` that exist as ``label`` nodes."""
    found: set[Any] = set()
    items = sorted(set(keys))
    if not items:
        return found
    query = cypher.ingest_existing_keys(label)
    with driver.session(database=database) as session:
        for chunk in _chunks(items, BATCH):
            found.update(session.execute_read(_tx_single, query, {"keys": chunk})["found"])
    return found


def link_unregistered(driver: Driver, writes: Writes, file: str, database: str | None,
                      written: Written,
                      exists: Callable[[str, Iterable[Any]], set[Any]] | None = None) -> None:
    """Relationships to an Enterprise that is neither in the graph nor in ``writes``: moved to a
    ``Party`` (``X:U:<code>``) where the model allows one, else removed and listed in
    ``written.unresolved`` with file and row."""
    own = {k for (label, _m), rows in writes.nodes.items() if label == "Enterprise"
           for k in rows}
    refs: set[Any] = set()
    for (_t, source, target), rows in writes.rels.items():
        if source == "Enterprise":
            refs.update(s for (s, _d, _rk) in rows)
        if target == "Enterprise":
            refs.update(d for (_s, d, _rk) in rows)
    refs -= own
    if not refs:
        return
    found = (exists("Enterprise", refs) if exists is not None
             else existing(driver, "Enterprise", refs, database))
    missing = refs - found
    if not missing:
        return
    names = writes.enterprise_names
    for bucket_key in [k for k in writes.rels if "Enterprise" in k[1:]]:
        type_, source, target = bucket_key
        spec = REL_BY_TYPE[type_]
        rows = writes.rels[bucket_key]
        moved: dict[tuple[str, str], dict[tuple[Any, Any, str], dict[str, Any]]] = \
            defaultdict(dict)
        for rk_key in [k for k in rows if (source == "Enterprise" and k[0] in missing)
                       or (target == "Enterprise" and k[1] in missing)]:
            props = rows.pop(rk_key)
            s, d, rk = rk_key
            s_bad = source == "Enterprise" and s in missing
            d_bad = target == "Enterprise" and d in missing
            if (s_bad and "Party" not in spec.sources) or (d_bad and "Party" not in spec.targets):
                code = s if s_bad and "Party" not in spec.sources else d
                written.unresolved_ref({"file": file, "row": props.get("row"), "type": type_,
                                        "code": code, "reason": UNREGISTERED})
                continue
            new_s, new_d = s, d
            if s_bad:
                new_s = _party(writes, s, names.get(s), props)
            if d_bad:
                new_d = _party(writes, d, names.get(d), props)
            moved[("Party" if s_bad else source, "Party" if d_bad else target)][
                (new_s, new_d, rk)] = props
            written.party_links += 1
        for (s_label, t_label), extra in moved.items():
            writes.rels[(type_, s_label, t_label)].update(extra)
    for k in [k for k, rows in writes.rels.items() if not rows]:
        del writes.rels[k]


def _party(writes: Writes, code: str, name: str | None, props: dict[str, Any]) -> str:
    pid = "X:U:" + code
    prov: dict[str, Any] = {k: props[k] for k in PROVENANCE if k in props}
    writes.node("Party", pid, {"name": name or code, "code": code.removeprefix("REG:"),
                               "reason": UNREGISTERED,
                               **prov})
    return pid


def touched_keys(writes: Writes) -> dict[str, set[str]]:
    """Per label, the keys of the nodes ``writes`` writes and of both ends of every
    relationship it writes (what a change log names, :mod:`graph.changes`)."""
    out: dict[str, set[str]] = defaultdict(set)
    for (label, _mode), rows in writes.nodes.items():
        out[label].update(str(k) for k in rows)
    for (_type, source, target), rels in writes.rels.items():
        src, dst = out[source], out[target]
        for s, d, _rk in rels:
            src.add(str(s))
            dst.add(str(d))
    return dict(out)


def write(driver: Driver, writes: Writes, load_id: str, batch_size: int = BATCH,
          database: str | None = None, progress: Callable[[int], None] | None = None,
          known_regions: set[str] | None = None, file: str = "",
          memory: MemoryGraph | None = None,
          before_write: Callable[[Writes], None] | None = None,
          shapes: Shapes | None = None) -> Written:
    """Write every node then every relationship (Enterprise references checked first).

    With ``memory`` (a bulk first load, :mod:`ingest.bulk`) the same rows are applied to that
    in-memory graph with the same semantics instead of the database. ``before_write`` sees
    the final rows (regions and party links added) before the first database write: where
    the change log is written. ``shapes`` collects the write shapes of those final rows
    (:mod:`ingest.warmup`), whichever way they are written."""
    out = Written()
    ensure_regions(writes, known_regions)
    link_unregistered(driver, writes, file, database, out,
                      exists=memory.existing if memory is not None else None)
    if shapes is not None:
        shapes.add(writes)
    order = {label: i for i, label in enumerate(NODE_ORDER)}
    if memory is not None:
        _write_memory(memory, writes, load_id, order, out, file)
        return out
    if before_write is not None:
        before_write(writes)
    extra = {"load_id": load_id}
    with driver.session(database=database) as session:
        for (label, mode) in sorted(writes.nodes,
                                    key=lambda k: (order.get(k[0], 99), k[0], k[1])):
            bucket = writes.nodes[(label, mode)]
            keys = list(bucket)
            props = [_strip(p, mode == "record") for p in bucket.values()]
            query = cypher.ingest_merge_nodes(label, mode)
            for i in range(0, len(keys), batch_size):
                common, rest = factor_common(props[i:i + batch_size])
                chunk = [{"key": k, "props": p}
                         for k, p in zip(keys[i:i + batch_size], rest, strict=True)]
                res = session.execute_write(_tx_single, query, {
                    "batch": {"rows": chunk}, "common": common, **extra})
                out.pending_nodes[label].extend(res.get("pending") or [])
                if progress is not None:
                    progress(len(chunk))
            out.counts[label] = out.counts.get(label, 0) + len(keys)
        for (type_, source, target), bucket in sorted(writes.rels.items()):
            ends = list(bucket)
            rprops = [_strip_rel(p) for p in bucket.values()]
            record = any("rec" in p for p in rprops)  # only facts owned by a table
            query = cypher.ingest_merge_relationships(type_, source, target, record)
            done = 0
            for i in range(0, len(ends), batch_size):
                common, rest = factor_common(rprops[i:i + batch_size])
                chunk = [{"src": s, "dst": d, "rk": rk, "props": p}
                         for (s, d, rk), p in zip(ends[i:i + batch_size], rest, strict=True)]
                res = session.execute_write(_tx_single, query, {
                    "batch": {"rows": chunk}, "common": common, **extra})
                done += int(res.get("written") or 0)
                out.pending_rels[(type_, source, target)].extend(res.get("pending") or [])
                if progress is not None:
                    progress(len(chunk))
            if done < len(ends):  # an endpoint missing that no check caught: say so
                out.unresolved_ref({"file": file, "row": None, "type": type_,
                                    "code": f"{len(ends) - done} row(s) {source}->{target}",
                                    "reason": "endpoint missing"})
            out.counts[type_] = out.counts.get(type_, 0) + done
    return out


def _write_memory(memory: MemoryGraph, writes: Writes, load_id: str, order: dict[str, int],
                  out: Written, file: str) -> None:
    """:func:`write` into :class:`ingest.bulk.MemoryGraph`: same order, same property
    handling (``_strip``: the memory graph ignores ``None`` except in mode ``record``), same
    counts and unresolved entries; nothing is pending. The garbage collector is paused (the
    rows made here hold no cycles; a collection would walk the whole graph)."""

    with gc_paused():
        for (label, mode) in sorted(writes.nodes, key=lambda k: (order.get(k[0], 99), k[0], k[1])):
            bucket = writes.nodes[(label, mode)]
            memory.merge_nodes(label, mode, bucket.items(), load_id)
            out.counts[label] = out.counts.get(label, 0) + len(bucket)
        for (type_, source, target), rbucket in sorted(writes.rels.items()):
            record = any(p.get("rec") is not None for p in rbucket.values())  # "rec" in _strip(p)
            done = memory.merge_rels((type_, source, target), rbucket.items(), load_id, record)
            if done < len(rbucket):
                out.unresolved_ref({"file": file, "row": None, "type": type_,
                                    "code": f"{len(rbucket) - done} row(s) {source}->{target}",
                                    "reason": "endpoint missing"})
            out.counts[type_] = out.counts.get(type_, 0) + done


def finalise_keys(driver: Driver, load_id: str, written: Written, database: str | None = None,
                  batch_size: int = BATCH) -> None:
    """Remove ``pending`` from exactly the nodes/relationships the load left pending, by the
    internal ids the write batches returned (id seeks in batched transactions, no label or
    type scan). Two queries whatever the labels and types: the server plans each distinct
    query once per start, and one per label and per relationship type and endpoints cost an
    increment about as much server time as the removals themselves."""
    params: dict[str, Any] = {"load_id": load_id}
    nodes = [i for ids in written.pending_nodes.values() for i in ids]
    rels = [i for ids in written.pending_rels.values() for i in ids]
    with driver.session(database=database) as session:
        for query, ids in ((cypher.ingest_finalise_node_ids(), nodes),
                           (cypher.ingest_finalise_relationship_ids(), rels)):
            for chunk in _chunks(ids, batch_size):
                session.execute_write(_tx_consume, query,
                                      {"batch": {"ids": chunk}, **params})


def _auto(driver: Driver, query: str, params: dict[str, Any], database: str | None) -> None:
    """Run an auto-commit query (needed for ``CALL … IN TRANSACTIONS``)."""
    with driver.session(database=database) as session:
        session.run(query, params).consume()  # type: ignore[arg-type]


def finalise(driver: Driver, load_id: str, labels: list[str], types: list[str],
             database: str | None = None) -> None:
    """Remove ``pending`` from the nodes and relationships of ``load_id`` by scanning the
    labels and types (crash recovery, when the pending keys are not known; idempotent)."""
    for label in labels:
        _auto(driver, cypher.ingest_finalise_nodes(label), {"load_id": load_id}, database)
    for type_ in types:
        _auto(driver, cypher.ingest_finalise_relationships(type_), {"load_id": load_id},
              database)


def end_missing(driver: Driver, rec: str, loads: list[str], ended: str, run_id: str,
                labels: list[str], types: list[str], kept: list[str],
                database: str | None = None) -> None:
    """Full snapshot: records of ``rec`` stamped by none of ``loads`` (the files of the
    delivery holding the table) and whose ``rec_key`` is not in ``kept`` (rows quarantined
    from the snapshot) get ``ended``/``ended_run``. ``labels``/``types`` should be those
    carrying records (``rec``) of those files. On a label several tables deliver in parts
    (``TaxYear``), only the part of ``rec`` ends (:func:`graph.cypher.ingest_end_nodes`)."""
    params = {"rec": rec, "loads": loads, "ended": ended, "run_id": run_id, "kept": kept}
    for label in labels:
        _auto(driver, cypher.ingest_end_nodes(label, rec), params, database)
    for type_ in types:
        _auto(driver, cypher.ingest_end_relationships(type_), params, database)
