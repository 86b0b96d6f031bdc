"""Project the Neo4j graph into NetworkX for scoring.

The projection is a :class:`networkx.MultiDiGraph` with integer node ids (``0..n-1``) and a key
table (:class:`Projection.keys`, ``labels``, ``index``), so that heavy passes can turn it into
SciPy sparse matrices without re-hashing string keys. Each node carries ``label``, ``key`` and
the properties scoring needs (a whitelist for the big labels, everything but bulky provenance
for the small fact nodes); each edge is keyed by its relationship type and carries its
properties (``ratio``, ``role``, ``amount_yuan`` …).

Reading (:func:`project`): one session; per label rows ``[internal id, key, whitelisted
properties…]`` and per relationship type rows ``[rel id, src id, dst id, properties…]``;
endpoints are resolved through an int → int map (no string keys hashed per edge), rows go to
NetworkX in bulk (:func:`build`; a rescore may instead build from the previous run's rows
patched with what ingest changed since, :mod:`analytics.projection_cache`). Each label/type
is read in chunks: a histogram of its internal ids (one scan, one counter
per id bucket) plans ranges of at most :data:`CHUNK_ROWS` rows, and each range comes back as
ONE record (``collect``), by id seeks when the range is narrower than the label/type is large,
else by a label/type scan filtered on the range. The driver's per-record cost (most of the
read time when every row was a record) is paid per chunk; the server holds one chunk at a
time (``bench.scoring --neo4j``, scale 1, 302,653 rows, Rust decoder: a read on its own
took 7.4 s client CPU and 3.4 s server CPU against 18.5 s and 6.7 s with one record per row).
With ``neo4j-rust-ext`` installed the driver decodes Bolt in Rust.
:func:`projection_stats` reports nodes, edges and memory (process RSS growth while building,
and bytes per edge).

Sizing (``python -m bench.scoring --neo4j`` on the demo city, scale 1: 121,874 nodes,
180,779 edges): about 1.7 kB of RSS growth per edge, node attributes and driver buffers
included, so the demo city at scale 25 (~491k enterprises, ~4.5M edges) needs about 7-8 GB for
the projection: inside 24 GB, with the scoring pass's own arrays on top.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import networkx as nx

from graph import cypher
from graph.model import NODE_BY_LABEL, REL_BY_TYPE
from riskgraph.gcpause import gc_paused

NODE_LABELS: tuple[str, ...] = (
    "Enterprise", "Person", "Party", "Address", "Phone", "Region", "CourtCase", "PoliceClue",
    "Tip", "CreditListing", "CreditReport", "TaxYear", "BankAlert", "Ad", "Change",
)
"""Labels projected (everything scoring reads; ledger, audit, runs … stay in Neo4j)."""

REL_TYPES: tuple[str, ...] = (
    "LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF", "BRANCH_OF", "REGISTERED_AT", "HAS_PHONE",
    "MANAGING_PARTNER_OF", "PARTY_TO", "SUBJECT_OF", "INVOLVES_REGION", "TIPPED_IN", "FLAGGED_IN",
    "ADVERTISED_IN",
    "LISTED_IN", "HAS_CREDIT_REPORT", "FILED_TAX", "HAS_CHANGE", "PAYS", "SAME_AS",
)
"""Relationship types projected."""

KEEP_PROPS: dict[str, tuple[str, ...]] = {
    "Enterprise": ("name", "ent_type", "legal_rep", "reg_capital_wan", "paid_capital_wan",
                   "founded", "status", "scope", "industry_code", "county", "in_city",
                   "authority", "address", "src", "delivery", "ended"),
    "Person": ("name", "name_masked", "region", "confidence", "id_masked"),
    "Party": ("name", "region", "reason", "id_masked"),
    "Address": ("county",),
    "Phone": (),
    "Region": ("name", "level", "parent"),
    # the bulky fact labels: what the indicators read (analytics.indicators: tax.*, credit.*,
    # reg.frequent_changes), the delivery (hit provenance, as-of date), ``ended`` and, for a
    # record delivered in parts (TaxYear), the part's ``ended_<part>``
    "TaxYear": ("year", "tax_status", "credit_grade", "zero_months", "revenue_yuan", "insured",
                "tax_due_yuan", "tax_paid_yuan", "arrears_yuan", "delivery", "ended",
                *(part.ended for part in NODE_BY_LABEL["TaxYear"].parts)),
    "Change": ("item", "date", "delivery", "ended"),
    "CreditReport": ("date", "overdue_wan", "guarantee_paid", "loans_wan", "guarantees_wan",
                     "queries_12m", "delivery", "ended"),
}
"""Properties kept for the big labels; other labels keep everything but :data:`DROP_PROPS`
(their indicators match keywords in any text they hold: ads, tips, listings, cases). The
fact labels with one node per enterprise and year or change (TaxYear, Change, CreditReport:
about 800,000 nodes at scale 25) keep only what scoring reads: with every property their
cached rows held some 20 keys each, re-created as new strings on every load, and building
them was the slowest part of the projection (scale-25 cache, session 13: TaxYear alone 8.3 s
of a 44 s build)."""

REL_PROPS: dict[str, tuple[str, ...]] = {
    "SHAREHOLDER_OF": ("ratio", "holder_type"),
    "OFFICER_OF": ("role",),
    "PARTY_TO": ("role", "party_type"),
    "SUBJECT_OF": ("role",),
    "PAYS": ("amount_yuan", "count", "period_from", "period_to"),
}
"""Relationship properties kept per type, besides :data:`REL_COMMON` (:func:`rel_props`)."""

REL_COMMON: tuple[str, ...] = ("ended", "delivery")

FOLDED_TYPES: dict[str, str] = {"FILED_TAX": "TaxYear", "HAS_CHANGE": "Change",
                                "HAS_CREDIT_REPORT": "CreditReport"}
"""Relationship type → label of the fact nodes it leads to that are *folded* into the node
they belong to instead of becoming graph nodes: one per enterprise and year, change or
report (about 800,000 nodes and as many relationships at scale 25), read only as that
enterprise's facts (:func:`analytics.facts.gather`), never as links. Folded, they are kept
in :attr:`Projection.facts` (``(type, fact properties, relationship properties)`` per owner,
in read order); the rows and the cache are the same."""

FOLDED_LABELS = frozenset(FOLDED_TYPES.values())

LINK_ONLY_TYPES = frozenset({"LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF", "BRANCH_OF",
                             "REGISTERED_AT", "HAS_PHONE", "MANAGING_PARTNER_OF"})
"""Types read only as links (propagation, groups, controllers), which never use the
delivery: their edges skip it (about three quarters of the edges; less to decode and hold)."""


def rel_props(type_name: str) -> tuple[str, ...]:
    """The relationship properties projected for ``type_name``, in row order."""
    common = ("ended",) if type_name in LINK_ONLY_TYPES else REL_COMMON
    return (*common, *REL_PROPS.get(type_name, ()))

DROP_PROPS = frozenset({"file", "row", "run_id", "ended_run", "name_norm", "rec_key"})
"""Never projected: provenance, bookkeeping (``rec_key`` repeats a record's own values, for
ending full snapshots only) and the normalised name."""


@dataclass
class Projection:
    """The projected graph and its key table."""

    graph: nx.MultiDiGraph
    keys: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    index: dict[tuple[str, str], int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    facts: dict[int, list[tuple[str, dict[str, Any], dict[str, Any]]]] = field(
        default_factory=dict)
    """Folded facts (:data:`FOLDED_TYPES`): owner node id → ``(relationship type, fact
    properties with label and key, relationship properties)``, in read order."""
    _by_type: Any = field(default=None, repr=False)

    def add_node(self, label_name: str, key: str, props: Mapping[str, Any]) -> int:
        """Add (or update) a node; returns its integer id."""
        ident = self.index.get((label_name, key))
        if ident is None:
            ident = len(self.keys)
            self.index[(label_name, key)] = ident
            self.keys.append(key)
            self.labels.append(label_name)
            self.graph.add_node(ident, label=label_name, key=key, **props)
        else:
            self.graph.nodes[ident].update(props)
        return ident

    def invalidate(self) -> None:
        """Drop cached per-type edge lists (after changing the graph)."""
        self._by_type = None

    def node_id(self, label_name: str, key: str) -> int | None:
        return self.index.get((label_name, key))

    def of_label(self, label_name: str) -> list[int]:
        """Node ids of one label, in id order."""
        return [i for i, lab in enumerate(self.labels) if lab == label_name]

    def set_edges_by_type(self, by_type: dict[str, tuple[list[int], list[int],
                                                        list[dict[str, Any]]]]) -> None:
        """Install per-type edge lists built while the edges were added (every edge of the
        graph exactly once), as :meth:`edges_by_type` would compute them."""
        self._by_type = (len(self.graph), by_type)

    def edges_by_type(self) -> dict[str, tuple[list[int], list[int], list[dict[str, Any]]]]:
        """Relationship type → (sources, targets, property dicts), from one pass over the
        edges; cached (keyed by the node count: :meth:`invalidate` after adding edges)."""
        n = len(self.graph)  # cheap; call :meth:`invalidate` after adding edges by hand
        cached = self._by_type
        if cached is not None and cached[0] == n:
            return cached[1]
        out: dict[str, tuple[list[int], list[int], list[dict[str, Any]]]] = {}
        for u, nbrs in self.graph._succ.items():
            for v, keyed in nbrs.items():
                for k, data in keyed.items():
                    t = out.get(k)
                    if t is None:
                        t = out[k] = ([], [], [])
                    t[0].append(u)
                    t[1].append(v)
                    t[2].append(data)
        self._by_type = (n, out)
        return out


def empty_projection() -> Projection:
    return Projection(nx.MultiDiGraph())


def trim_props(label_name: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of a node that scoring keeps."""
    keep = KEEP_PROPS.get(label_name)
    if keep is not None:
        return {k: props[k] for k in keep if k in props and props[k] is not None}
    return {k: v for k, v in props.items() if k not in DROP_PROPS and v is not None}


def add_rows(proj: Projection, label_name: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Add node rows ``{"key", "props"}``; returns how many."""
    n = 0
    for row in rows:
        if row.get("key") is None:
            continue
        proj.add_node(label_name, str(row["key"]), trim_props(label_name, row.get("props") or {}))
        n += 1
    return n


def add_rel_rows(proj: Projection, type_name: str, source: str, target: str,
                 rows: Iterable[Mapping[str, Any]]) -> int:
    """Add relationship rows ``{"src", "dst", "props"}`` between projected nodes."""
    n = 0
    g = proj.graph
    for row in rows:
        u = proj.index.get((source, str(row["src"])))
        v = proj.index.get((target, str(row["dst"])))
        if u is None or v is None:
            continue
        props = {k: val for k, val in (row.get("props") or {}).items()
                 if k not in DROP_PROPS and val is not None}
        g.add_edge(u, v, key=type_name, **props)
        n += 1
    return n


def declared_pairs(type_name: str) -> Iterator[tuple[str, str]]:
    """(source, target) label pairs of a relationship type among the projected labels."""
    spec = REL_BY_TYPE[type_name]
    for s in spec.sources:
        for t in spec.targets:
            if s in NODE_BY_LABEL and s in NODE_LABELS and t in NODE_LABELS:
                yield s, t


def _rss() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # psutil missing or unsupported platform
        return 0


def _stream_rows(driver: Any, query: str, database: str | None, fetch_size: int
                 ) -> Iterator[list[Any]]:
    """The single list column of each record (no per-record dict)."""
    with driver.session(database=database, fetch_size=fetch_size) as session:
        for record in session.run(query):
            yield record[0]


def add_node_lists(proj: Projection, label_name: str, rows: Iterable[Sequence[Any]]) -> int:
    """Add nodes from compact rows ``[key, p1, …]`` (:data:`KEEP_PROPS` order) or
    ``[key, props]`` (other labels), in bulk; returns how many had a key
    (:func:`add_nodes_by_id` without internal ids)."""
    keyed = [row for row in rows if row[0] is not None]
    add_nodes_by_id(proj, label_name, ([i, *row] for i, row in enumerate(keyed)), {})
    return len(keyed)


def add_rel_lists(proj: Projection, type_name: str, source: str, target: str,
                  rows: Iterable[Sequence[Any]], props: Sequence[str]) -> int:
    """Add relationships from compact rows ``[src key, dst key, p1, …]`` in bulk."""
    index = proj.index
    edges: list[tuple[int, int, str, dict[str, Any]]] = []
    for row in rows:
        u = index.get((source, str(row[0])))
        v = index.get((target, str(row[1])))
        if u is None or v is None:
            continue
        edges.append((u, v, type_name,
                      {k: val for k, val in zip(props, row[2:], strict=False)
                       if val is not None}))
    proj.graph.add_edges_from(edges)
    return len(edges)


CHUNK_ROWS = 10_000
"""Rows per record of the projection read (one ``collect`` per chunk of internal ids)."""


def _session_kwargs(fetch_size: int) -> dict[str, Any]:
    """Session options of the projection read: big fetches, no notifications (``id()`` is
    deprecated in Neo4j 5 but is the cheapest endpoint name within one pass)."""
    return {"fetch_size": fetch_size, "notifications_min_severity": "OFF"}


def id_chunks(buckets: Iterable[Sequence[int]], step: int, size: int
              ) -> list[tuple[int, int, int]]:
    """Merge consecutive id buckets ``[bucket, rows]`` (bucket ``b`` holds the ids
    ``b*step .. (b+1)*step - 1``, in bucket order) into ranges ``(lo, hi, rows)`` of at most
    ``size`` rows each (``step <= size``, so a bucket never holds more than ``size`` rows)."""
    out: list[tuple[int, int, int]] = []
    lo = hi = n = 0
    for b, c in buckets:
        if n and n + c > size:
            out.append((lo, hi, n))
            n = 0
        if not n:
            lo = b * step
        n += c
        hi = (b + 1) * step
    if n:
        out.append((lo, hi, n))
    return out


def seek_plan(lo: int, hi: int, total: int) -> bool:
    """Whether a chunk ``lo <= id < hi`` of a label/type with ``total`` rows is read by id
    seeks (cost ``hi - lo``) rather than a filtered label/type scan (cost ``total``)."""
    return hi - lo <= total


def plan_chunks(session: Any, buckets_q: str, size: int) -> list[tuple[int, int, int]]:
    """The chunks ``(lo, hi, rows)`` of one label/type from its id histogram."""
    return id_chunks(session.run(buckets_q, step=size).values(), size, size)


def row_attrs(label_name: str) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """The attributes of a node row ``[internal id, key, p1, …]`` (:data:`KEEP_PROPS`
    order, for the big labels) or ``[internal id, key, props]`` (other labels: every
    non-null property but :data:`DROP_PROPS`), as read by :func:`add_nodes_by_id`."""
    keep = KEEP_PROPS.get(label_name)
    if keep is not None:
        return nonnull_picker(keep, 2)
    return _generic_attrs


def _generic_attrs(row: Sequence[Any]) -> dict[str, Any]:
    return {k: v for k, v in (row[2] or {}).items() if v is not None and k not in DROP_PROPS}


def add_nodes_by_id(proj: Projection, label_name: str, rows: Iterable[Sequence[Any]],
                    nid: dict[int, int]) -> int:
    """Add nodes from rows ``[internal id, key, p1, …]`` (:data:`KEEP_PROPS` order) or
    ``[internal id, key, props]``; records internal id → projection id in ``nid``. Returns
    how many rows were read. What :func:`add_node_lists` does, in one loop that fills
    NetworkX's dicts directly (the projection's hottest loop with the edges')."""
    pick = row_attrs(label_name)
    index, keys, labels = proj.index, proj.keys, proj.labels
    g = proj.graph
    node, succ, pred = g._node, g._succ, g._pred
    updates: list[tuple[int, dict[str, Any]]] = []
    n = 0
    for row in rows:
        n += 1
        key = row[1]
        if key is None:
            continue
        key = str(key)
        attrs = pick(row)
        ident = index.get((label_name, key))
        if ident is None:
            ident = len(keys)
            index[(label_name, key)] = ident
            keys.append(key)
            labels.append(label_name)
            attrs["label"] = label_name
            attrs["key"] = key
            node[ident] = attrs
            succ[ident] = {}
            pred[ident] = {}
        else:
            updates.append((ident, attrs))
        nid[row[0]] = ident
    for ident, attrs in updates:
        node[ident].update(attrs)
    nx._clear_cache(g)
    return n


EdgeLists = tuple[list[int], list[int], list[dict[str, Any]]]
"""Sources, targets and attribute dicts of the edges of one relationship type."""


def add_keyed_edges(g: nx.MultiDiGraph, edges: Iterable[tuple[int, int, str, dict[str, Any]]],
                    new_edges: EdgeLists | None = None) -> None:
    """``g.add_edges_from(edges)`` for edges ``(u, v, key, attrs)`` between nodes already in
    ``g``, filling the adjacency directly (as NetworkX's ``add_edge`` does, without its
    per-edge node checks and key handling): an existing ``(u, v, key)`` gets its attributes
    updated, a new one takes ``attrs`` as its attribute dict (and is appended to
    ``new_edges`` when given)."""
    succ, pred = g._succ, g._pred
    new_keydict = g.edge_key_dict_factory
    for u, v, key, attrs in edges:
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = new_keydict()
            succ[u][v] = keydict
            pred[v][u] = keydict
        data = keydict.get(key)
        if data is None:
            keydict[key] = attrs
            if new_edges is not None:
                new_edges[0].append(u)
                new_edges[1].append(v)
                new_edges[2].append(attrs)
        else:
            data.update(attrs)
    nx._clear_cache(g)


def add_rels_by_id(proj: Projection, type_name: str, rows: Iterable[Sequence[Any]],
                   props: Sequence[str], nid: Mapping[int, int],
                   by_type: dict[str, EdgeLists] | None = None) -> int:
    """Add relationships from rows ``[rel id, src id, dst id, p1, …]`` (internal ids); rows
    whose endpoints were not projected are skipped. Returns how many were added. With
    ``by_type``, the new edges are also listed there under ``type_name`` (as
    :meth:`Projection.edges_by_type` lists them). Fills the adjacency as
    :func:`add_keyed_edges` does, in the same loop that decodes the rows."""
    get = nid.get
    g = proj.graph
    succ, pred = g._succ, g._pred
    new_keydict = g.edge_key_dict_factory
    lists = by_type.setdefault(type_name, ([], [], [])) if by_type is not None else None
    us, vs, ds = lists if lists is not None else ([], [], [])
    n = 0
    decode = rel_attrs_decoder(props)
    for row in rows:
        u = get(row[1])
        v = get(row[2])
        if u is None or v is None:
            continue
        attrs = decode(row)
        n += 1
        su = succ[u]
        keydict = su.get(v)
        if keydict is None:
            keydict = su[v] = pred[v][u] = new_keydict()
        data = keydict.get(type_name)
        if data is None:
            keydict[type_name] = attrs
            us.append(u)
            vs.append(v)
            ds.append(attrs)
        else:
            data.update(attrs)
    nx._clear_cache(g)
    return n


def rel_attrs_decoder(props: Sequence[str]) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function from a relationship row ``[rel id, src id, dst id, p1, …]`` to the dict of
    its non-null properties ``props`` (:func:`nonnull_picker` from position 3)."""
    return nonnull_picker(props, 3)


def nonnull_picker(names: Sequence[str], start: int
                   ) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function from a row to the dict ``{names[i]: row[start + i]}`` of its non-null
    values. For rows of the full width it runs code generated for ``names`` (one test and
    one store per value, no iterator or pair per value); a row cut short or longer is read
    as far as it goes. The projection's hottest lines: on the scale-25 cache, building the
    2.95 million node rows took 6.3-6.7 s this way against 9.4-9.5 s with a comprehension
    over ``zip`` (ad hoc, session 16), and relationship rows up to three properties used to
    be unrolled by hand for the same reason."""
    names = tuple(str(n) for n in names)

    def generic(row: Sequence[Any]) -> dict[str, Any]:
        return {k: val for k, val in zip(names, row[start:], strict=False) if val is not None}

    if not names:
        return lambda row: {}
    width = start + len(names)
    lines = ["def pick(row):", f"    if len(row) != {width}:", "        return generic(row)",
             "    out = {}"]
    for i, name in enumerate(names):
        lines += [f"    x = row[{start + i}]", f"    if x is not None: out[{name!r}] = x"]
    lines.append("    return out")
    namespace: dict[str, Any] = {"generic": generic}
    exec("\n".join(lines), namespace)  # noqa: S102 - names are declared property names
    picker: Callable[[Sequence[Any]], dict[str, Any]] = namespace["pick"]
    return picker


PREFETCH = 4
"""Chunks read ahead by the projection's reader thread."""


def prefetch(items: Iterable[Any], depth: int = PREFETCH) -> Iterator[Any]:
    """Iterate ``items`` in a background thread, at most ``depth`` ahead: the server prepares
    and the driver fetches the next chunks while this thread builds the graph. An error in
    the reader is raised here; leaving the loop early stops the reader."""
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consuming thread
            put(("error", exc))

    thread = threading.Thread(target=reader, name="projection-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _read_all(driver: Any, database: str | None, fetch_size: int, chunk_rows: int
              ) -> Iterator[tuple[str, str, list[Any]]]:
    """``(kind, label or type, rows of one chunk)`` for every projected label, then every
    projected type, in one session."""
    with driver.session(database=database, **_session_kwargs(fetch_size)) as session:
        for lab in NODE_LABELS:
            keep = KEEP_PROPS.get(lab)
            for rows in _chunk_lists(session, cypher.analytics_node_id_buckets(lab),
                                     partial(cypher.analytics_nodes_chunk, lab, keep),
                                     chunk_rows):
                yield "node", lab, rows
        for type_name in REL_TYPES:
            props = rel_props(type_name)
            for rows in _chunk_lists(session, cypher.analytics_rel_id_buckets(type_name),
                                     partial(cypher.analytics_rels_chunk, type_name, props),
                                     chunk_rows):
                yield "rel", type_name, rows


def _chunk_lists(session: Any, buckets_q: str, chunk_q: Any, size: int
                 ) -> Iterator[list[Any]]:
    """Rows of a label or type read chunk by chunk, one list per chunk: the id histogram
    first, then one record of up to ``size`` rows per chunk; ``chunk_q(seek)`` builds the
    chunk query, an id seek when the chunk's id range is narrower than the label/type is
    large, else a filtered scan."""
    chunks = plan_chunks(session, buckets_q, size)
    total = sum(c[2] for c in chunks)
    queries = {True: chunk_q(True), False: chunk_q(False)}
    for lo, hi, _ in chunks:
        record = session.run(queries[seek_plan(lo, hi, total)], lo=lo, hi=hi).single()
        if record is not None and record[0]:
            yield record[0]


def project(driver: Any, database: str | None = None, fetch_size: int = 50000,
            chunk_rows: int = CHUNK_ROWS, rows: Any = None) -> Projection:
    """Read the scoring-relevant part of the graph out of Neo4j into a :class:`Projection`.

    Per label rows ``[internal id, key, whitelisted properties…]`` and per relationship type
    rows ``[rel id, src id, dst id, properties…]`` (endpoints named by the internal ids just
    read, so no string keys are hashed per edge), all in one session. Each label/type is
    read in chunks of internal ids holding at most ``chunk_rows`` rows, ONE record per chunk
    (the driver's per-record cost is paid once per chunk, not per row; the server holds one
    chunk's list at a time); a reader thread fetches ahead (:func:`prefetch`) while the rows
    go to NetworkX in bulk. ``rows`` (an :class:`analytics.projection_cache.RowSet`) keeps
    every row read, for the projection cache."""
    chunks: Iterable[tuple[str, str, list[Any]]] = prefetch(
        _read_all(driver, database, fetch_size, chunk_rows))
    if rows is not None:
        chunks = _kept(chunks, rows)
    return build(chunks)


def _kept(chunks: Iterable[tuple[str, str, list[Any]]], rows: Any
          ) -> Iterator[tuple[str, str, list[Any]]]:
    for kind, name, chunk in chunks:
        rows.add(kind, name, chunk)
        yield kind, name, chunk


def fold_fact_nodes(label_name: str, rows: Iterable[Sequence[Any]],
                    facts: dict[int, dict[str, Any]]) -> int:
    """Fact nodes of a folded label (:data:`FOLDED_TYPES`) from rows as
    :func:`add_nodes_by_id` reads them: their properties (with ``label`` and ``key``) by
    internal id into ``facts``, not into the graph. Returns how many rows were read."""
    pick = row_attrs(label_name)
    n = 0
    for row in rows:
        n += 1
        key = row[1]
        if key is None:
            continue
        attrs = pick(row)
        attrs["label"] = label_name
        attrs["key"] = str(key)
        facts[row[0]] = attrs
    return n


def fold_fact_rels(proj: Projection, type_name: str, rows: Iterable[Sequence[Any]],
                   nid: Mapping[int, int], facts: Mapping[int, dict[str, Any]]) -> int:
    """Relationships of a folded type from rows ``[rel id, src id, dst id, p1, …]``: each
    puts its fact (from :func:`fold_fact_nodes`) and its own properties under its projected
    source in :attr:`Projection.facts` (a second one of the same type to the same fact
    updates the first's properties, as a second edge of a type would). Rows whose ends were
    not read are skipped. Returns how many rows were folded."""
    decode = rel_attrs_decoder(rel_props(type_name))
    owner_get, fact_get = nid.get, facts.get
    out = proj.facts
    n = 0
    for row in rows:
        u = owner_get(row[1])
        fact = fact_get(row[2])
        if u is None or fact is None:
            continue
        n += 1
        held = out.get(u)
        if held is None:
            out[u] = [(type_name, fact, decode(row))]
            continue
        for t, f, data in held:  # a second relationship of the type to the same fact
            if f is fact and t == type_name:  # merges into the first, as an edge would
                data.update(decode(row))
                break
        else:
            held.append((type_name, fact, decode(row)))
    return n


def build(chunks: Iterable[tuple[str, str, list[Any]]]) -> Projection:
    """A :class:`Projection` from ``(kind, label or type, rows)`` in read order (all node
    chunks first): what :func:`project` builds while reading, and what a patched cache
    (:func:`analytics.projection_cache.RowSet.chunks`) builds from, with the same code."""
    before = _rss()
    proj = empty_projection()
    nid: dict[int, int] = {}
    t0 = time.perf_counter()
    t1 = t0
    n_rows = 0
    by_type: dict[str, EdgeLists] = {}
    fact_nodes: dict[int, dict[str, Any]] = {}
    folded: dict[str, int] = {}
    with gc_paused():
        for kind, name, chunk in chunks:
            if kind == "node" and name in FOLDED_LABELS:
                n_rows += fold_fact_nodes(name, chunk, fact_nodes)
                t1 = time.perf_counter()
            elif kind == "node":
                n_rows += add_nodes_by_id(proj, name, chunk, nid)
                t1 = time.perf_counter()
            elif name in FOLDED_TYPES:
                k = fold_fact_rels(proj, name, chunk, nid, fact_nodes)
                n_rows += k
                folded[name] = folded.get(name, 0) + k
            else:
                n_rows += add_rels_by_id(proj, name, chunk, rel_props(name), nid, by_type)
    t2 = time.perf_counter()
    del nid, fact_nodes
    # the per-type edge lists scoring asks for, built while reading (no second pass over
    # every edge; types in read order)
    proj.set_edges_by_type({k: v for k, v in by_type.items() if v[0]})
    proj.stats = projection_stats(proj, _rss() - before if before else 0,
                                  {k: len(v[0]) for k, v in by_type.items() if v[0]})
    proj.stats["folded"] = folded
    proj.stats["seconds"] = {"nodes": round(t1 - t0, 2), "rels": round(t2 - t1, 2)}
    proj.stats["rows_per_second"] = round(n_rows / max(t2 - t0, 1e-9))
    return proj


def projection_stats(proj: Projection, rss_growth: int = 0,
                     types: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Node and edge counts per label/type and memory figures. ``types``: the edges per
    type when known (else counted over the adjacency)."""
    from collections import Counter

    labels = dict(Counter(proj.labels))
    if types is None:
        types = Counter(k for nbrs in proj.graph._succ.values() for keyed in nbrs.values()
                        for k in keyed)
    edges = sum(types.values())
    return {
        "nodes": len(proj.keys),
        "edges": edges,
        "labels": labels,
        "types": dict(types),
        "memory_bytes": rss_growth,
        "bytes_per_edge": round(rss_growth / edges, 1) if edges and rss_growth > 0 else None,
    }
