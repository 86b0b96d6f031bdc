"""Every Cypher string of riskgraph, as pure builders.

Rules (enforced here, tested in tests/test_cypher.py):

* Values only ever travel as parameters (``$rows``, ``$uscc`` …); no value is formatted into a
  query string.
* Labels, relationship types and property keys that must appear in the text are checked against
  the declared model (:mod:`graph.model`) or a fixed allow-list before they are interpolated.
* Writes are ``UNWIND $rows AS row`` batches so the access layer can run them inside managed
  transactions (``execute_write``); every write is a MERGE on the declared key, so re-running a
  batch changes nothing.

Each builder returns a query string; the caller passes the parameters. The module is organised
in sections owned by the part of the product that uses them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from graph.model import (
    LABELS,
    NODE_BY_LABEL,
    NODES,
    REL_BY_TYPE,
    REL_TYPES,
    RecordPart,
    record_part,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CypherBuildError(ValueError):
    """A builder was asked for an undeclared label, type or unsafe identifier."""


def label(name: str) -> str:
    """``name`` if it is a declared label, else raise."""
    if name not in LABELS:
        raise CypherBuildError(f"undeclared label {name!r}")
    return name


def rel_type(name: str) -> str:
    """``name`` if it is a declared relationship type, else raise."""
    if name not in REL_TYPES:
        raise CypherBuildError(f"undeclared relationship type {name!r}")
    return name


def prop(name: str) -> str:
    """A property key, allowed only when it is a plain identifier."""
    if not _IDENT.match(name):
        raise CypherBuildError(f"unsafe property key {name!r}")
    return name


# --- schema ---------------------------------------------------------------------------------


def constraint_name(label_name: str, key: str) -> str:
    return f"uniq_{label_name.lower()}_{key}"


def index_name(label_name: str, key: str) -> str:
    return f"idx_{label_name.lower()}_{key}"


def fulltext_name(label_name: str) -> str:
    return f"ft_{label_name.lower()}"


def create_unique_constraint(label_name: str, key: str) -> str:
    return (
        f"CREATE CONSTRAINT {constraint_name(label(label_name), prop(key))} IF NOT EXISTS "
        f"FOR (n:{label_name}) REQUIRE n.{key} IS UNIQUE"
    )


def create_range_index(label_name: str, key: str) -> str:
    return (
        f"CREATE INDEX {index_name(label(label_name), prop(key))} IF NOT EXISTS "
        f"FOR (n:{label_name}) ON (n.{key})"
    )


def create_fulltext_index(label_name: str, keys: tuple[str, ...]) -> str:
    props = ", ".join(f"n.{prop(k)}" for k in keys)
    return (
        f"CREATE FULLTEXT INDEX {fulltext_name(label(label_name))} IF NOT EXISTS "
        f"FOR (n:{label_name}) ON EACH [{props}]"
    )


def schema_statements() -> list[str]:
    """All constraint and index statements generated from the model."""
    statements = []
    for spec in NODES:
        statements.append(create_unique_constraint(spec.label, spec.key))
        for key in spec.indexed:
            statements.append(create_range_index(spec.label, key))
        if spec.fulltext:
            statements.append(create_fulltext_index(spec.label, spec.fulltext))
    return statements


def show_constraints() -> str:
    return "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN *"


def show_indexes() -> str:
    return (
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, owningConstraint "
        "WHERE owningConstraint IS NULL AND type <> 'LOOKUP' RETURN name, type, labelsOrTypes, "
        "properties"
    )


def drop_constraint(name: str) -> str:
    return f"DROP CONSTRAINT {prop(name)} IF EXISTS"


def drop_index(name: str) -> str:
    return f"DROP INDEX {prop(name)} IF EXISTS"


def applied_migrations() -> str:
    return "MATCH (m:SchemaMigration) RETURN m.version AS version ORDER BY version"


def record_migration() -> str:
    return (
        "MERGE (m:SchemaMigration {version: $version}) "
        "ON CREATE SET m.applied = datetime(), m.description = $description"
    )


def key_check_read() -> str:
    """The fingerprint of the hash key recorded in the graph (no row when none is)."""
    return "MATCH (k:KeyCheck {name: $name}) RETURN k.fingerprint AS fingerprint"


def key_check_record() -> str:
    """Record ``$fingerprint`` when the graph holds none yet; returns the one it holds."""
    return (
        "MERGE (k:KeyCheck {name: $name}) "
        "ON CREATE SET k.fingerprint = $fingerprint, k.recorded = toString(datetime()), "
        "k.recorded_by = $by "
        "RETURN k.fingerprint AS fingerprint"
    )


def migrate_score_run_seq() -> str:
    """Migration 2: number the ok scoring runs that hold ScoreRecords (``seq`` 1, 2 … in
    start order)."""
    return (
        "MATCH (r:Run {kind: 'score', status: 'ok'}) WHERE r.seq IS NULL "
        "AND EXISTS { MATCH (:ScoreRecord {run_id: r.run_id}) } "
        "WITH r ORDER BY r.started, r.run_id WITH collect(r) AS runs "
        "UNWIND range(0, size(runs) - 1) AS i WITH runs[i] AS r, i "
        "SET r.seq = i + 1"
    )


def migrate_score_record_ranges() -> str:
    """Migration 2: each record of a numbered run is valid from its run until the next
    numbered run (the last run's stay current); auto-commit, inner transactions."""
    return (
        "MATCH (r:Run {kind: 'score', status: 'ok'}) WHERE r.seq IS NOT NULL "
        "WITH r ORDER BY r.seq WITH collect([r.run_id, r.seq]) AS runs "
        "UNWIND range(0, size(runs) - 1) AS i "
        "WITH runs[i][0] AS rid, runs[i][1] AS first, "
        f"CASE WHEN i + 1 < size(runs) THEN runs[i + 1][1] ELSE {OPEN_SEQ} END AS until "
        "MATCH (s:ScoreRecord {run_id: rid}) WHERE s.from_seq IS NULL "
        "CALL (s, first, until) { SET s.from_seq = first, s.to_seq = until } "
        "IN TRANSACTIONS OF 10000 ROWS"
    )


def _string(text: str) -> str:
    """``text`` as a Cypher string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def migrate_record_parts() -> list[str]:
    """Migration 3: records of a label delivered in parts (:attr:`graph.model.NodeSpec.parts`)
    written before parts existed get each part's stamps from the node's own: a part is taken
    as delivered by the node's last load (``seen``) when its table wrote the node last
    (``rec``) or the node holds one of the part's properties.

    Before parts, a full snapshot ended only the nodes its table wrote last (and a later
    write of any table cleared ``ended``), so an ended node was ended by its ``rec`` table:
    only that part takes ``ended``. The other parts were never ended by their own table and
    are current; a node with a current part is current again (the error this migration's
    model fixes: 纳税人信息_全量 ending years whose declarations still count). The next
    full snapshot of each table re-stamps or ends its part.
    Idempotent: a part already stamped is left alone, a node with no ended part current stays
    as it is. Auto-commit, inner transactions."""
    out = []
    for spec in NODES:
        for part in spec.parts:
            mine = f"n.rec = {_string(part.table)}"
            holds = " OR ".join([mine, *(f"n.{prop(k)} IS NOT NULL" for k in part.props)])
            out.append(
                f"MATCH (n:{spec.label}) WHERE n.seen IS NOT NULL "
                f"AND n.{prop(part.seen)} IS NULL AND ({holds}) "
                f"CALL (n) {{ SET n.{part.seen} = n.seen, "
                f"n.{part.ended} = CASE WHEN {mine} THEN n.ended ELSE null END }} "
                "IN TRANSACTIONS OF 10000 ROWS")
        if spec.parts:
            current = " OR ".join(f"(n.{prop(p.seen)} IS NOT NULL AND n.{prop(p.ended)} IS NULL)"
                                  for p in spec.parts)
            out.append(
                f"MATCH (n:{spec.label}) WHERE n.ended IS NOT NULL AND ({current}) "
                "CALL (n) { SET n.ended = null, n.ended_run = null } "
                "IN TRANSACTIONS OF 10000 ROWS")
    return out


def migrate_drop_unnumbered_records() -> str:
    """Migration 2: records of runs that never went live (no range) are deleted."""
    return (
        "MATCH (s:ScoreRecord) WHERE s.from_seq IS NULL "
        "CALL (s) { DETACH DELETE s } IN TRANSACTIONS OF 10000 ROWS"
    )


# --- generic batched writes -----------------------------------------------------------------


def merge_nodes(label_name: str) -> str:
    """MERGE one node per row on its declared key and set ``row.props`` on it.

    Parameters: ``$rows`` = list of ``{"key": value, "props": {…}}``.
    """
    key = NODE_BY_LABEL[label(label_name)].key
    return (
        f"UNWIND $rows AS row MERGE (n:{label_name} {{{key}: row.key}}) "
        "SET n += row.props"
    )


def merge_relationships(type_name: str, source: str, target: str) -> str:
    """MERGE one relationship per row between two existing nodes found by their keys.

    Parameters: ``$rows`` = list of ``{"src": key, "dst": key, "props": {…}}``; relationships
    are unique per (source, type, target, ``row.rk``) where ``rk`` distinguishes parallel facts
    (e.g. two officer roles) and may be an empty string.
    """
    spec = REL_BY_TYPE[rel_type(type_name)]
    if source not in spec.sources or target not in spec.targets:
        raise CypherBuildError(f"{source}-[:{type_name}]->{target} is not declared")
    skey = NODE_BY_LABEL[source].key
    tkey = NODE_BY_LABEL[target].key
    return (
        f"UNWIND $rows AS row MATCH (a:{source} {{{skey}: row.src}}) "
        f"MATCH (b:{target} {{{tkey}: row.dst}}) "
        f"MERGE (a)-[r:{type_name} {{rk: row.rk}}]->(b) SET r += row.props"
    )


def delete_by_source() -> str:
    """Delete every node written by source ``$src`` (used by benchmarks to clean up)."""
    return "MATCH (n) WHERE n.src = $src CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


def delete_all_batched() -> str:
    return "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


# --- db counts ------------------------------------------------------------------------------


def list_labels() -> str:
    return "CALL db.labels() YIELD label RETURN label ORDER BY label"


def list_relationship_types() -> str:
    return "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType ORDER BY 1"


def count_label(name: str) -> str:
    """Count of nodes with label ``name`` (answered from the count store)."""
    return f"MATCH (n:`{_safe_token(name)}`) RETURN count(n) AS n"


def count_type(name: str) -> str:
    """Count of relationships of type ``name`` (answered from the count store)."""
    return f"MATCH ()-[r:`{_safe_token(name)}`]->() RETURN count(r) AS n"


def _safe_token(name: str) -> str:
    """A label or type read from the database itself: only a plain identifier is accepted."""
    if not _IDENT.match(name):
        raise CypherBuildError(f"unsafe label or type {name!r}")
    return name


def server_setting() -> str:
    """The value of one server setting (``$name``), e.g. the transaction-log retention."""
    return "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value"


# --- analytics ------------------------------------------------------------------------------
# Owned by analytics/ (projection, scoring write-back, live switch, export, eval). Pure builders;
# every value travels as a parameter.


def analytics_nodes(label_name: str) -> str:
    """Stream every node of ``label_name``: its key and all its properties."""
    key = NODE_BY_LABEL[label(label_name)].key
    return f"MATCH (n:{label_name}) RETURN n.{key} AS key, properties(n) AS props"


def analytics_rels(type_name: str, source: str, target: str) -> str:
    """Stream every ``source-[type]->target`` relationship: endpoint keys and properties."""
    spec = REL_BY_TYPE[rel_type(type_name)]
    if source not in spec.sources or target not in spec.targets:
        raise CypherBuildError(f"{source}-[:{type_name}]->{target} is not declared")
    skey = NODE_BY_LABEL[label(source)].key
    tkey = NODE_BY_LABEL[label(target)].key
    return (
        f"MATCH (a:{source})-[r:{type_name}]->(b:{target}) "
        f"RETURN a.{skey} AS src, b.{tkey} AS dst, properties(r) AS props"
    )


def analytics_nodes_compact(label_name: str, props: tuple[str, ...] | None) -> str:
    """Stream every node of ``label_name`` as one list ``[key, p1, p2, …]`` (``props``) or
    ``[key, properties(n)]`` (``props`` None): compact rows for the scoring projection."""
    key = NODE_BY_LABEL[label(label_name)].key
    if props is None:
        return f"MATCH (n:{label_name}) RETURN [n.{key}, properties(n)] AS row"
    cols = "".join(f", n.{prop(p)}" for p in props)
    return f"MATCH (n:{label_name}) RETURN [n.{key}{cols}] AS row"


def analytics_rels_compact(type_name: str, source: str, target: str,
                           props: tuple[str, ...]) -> str:
    """Stream every ``source-[type]->target`` relationship as ``[src key, dst key, p1, …]``."""
    spec = REL_BY_TYPE[rel_type(type_name)]
    if source not in spec.sources or target not in spec.targets:
        raise CypherBuildError(f"{source}-[:{type_name}]->{target} is not declared")
    skey = NODE_BY_LABEL[label(source)].key
    tkey = NODE_BY_LABEL[label(target)].key
    cols = "".join(f", r.{prop(p)}" for p in props)
    return (
        f"MATCH (a:{source})-[r:{type_name}]->(b:{target}) "
        f"RETURN [a.{skey}, b.{tkey}{cols}] AS row"
    )


def _node_row(label_name: str, props: tuple[str, ...] | None) -> str:
    """``[internal id, key, p1, …]`` or ``[internal id, key, properties(n)]`` (``props`` None)."""
    key = NODE_BY_LABEL[label(label_name)].key
    if props is None:
        return f"[id(n), n.{key}, properties(n)]"
    cols = "".join(f", n.{prop(p)}" for p in props)
    return f"[id(n), n.{key}{cols}]"


def analytics_node_id_buckets(label_name: str) -> str:
    """How many ``label_name`` nodes fall in each internal-id bucket ``id(n) / $step``, in
    bucket order: one label scan and one counter per bucket (the chunk plan of
    :func:`analytics_nodes_chunk`)."""
    return (
        f"MATCH (n:{label(label_name)}) "
        "RETURN id(n) / $step AS bucket, count(*) AS rows ORDER BY bucket"
    )


def analytics_nodes_chunk(label_name: str, props: tuple[str, ...] | None, seek: bool) -> str:
    """ONE record holding the rows (see :func:`_node_row`) of the ``label_name`` nodes with
    ``$lo <= id(n) < $hi``. ``seek``: one id seek per id of the range (cost: the range's
    width); otherwise a label scan filtered on the range (cost: the label's size). The
    internal id names endpoints in :func:`analytics_rels_chunk`; it is only used within one
    projection pass, never stored."""
    row = _node_row(label_name, props)
    if seek:
        return (
            f"UNWIND range($lo, $hi - 1) AS i MATCH (n:{label(label_name)}) WHERE id(n) = i "
            f"RETURN collect({row}) AS rows"
        )
    return (
        f"MATCH (n:{label(label_name)}) WHERE id(n) >= $lo AND id(n) < $hi "
        f"RETURN collect({row}) AS rows"
    )


def _rel_row(props: tuple[str, ...]) -> str:
    """``[rel id, src id, dst id, p1, …]`` of ``(a)-[r]->(b)`` (internal ids)."""
    return "[id(r), id(a), id(b)" + "".join(f", r.{prop(p)}" for p in props) + "]"


def analytics_nodes_by_key(label_name: str, props: tuple[str, ...] | None) -> str:
    """ONE record holding the rows (:func:`_node_row`) of the ``label_name`` nodes whose keys
    are in ``$keys`` (index seeks): the changed nodes of a projection patch."""
    key = NODE_BY_LABEL[label(label_name)].key
    return (f"UNWIND $keys AS k MATCH (n:{label(label_name)} {{{key}: k}}) "
            f"RETURN collect({_node_row(label_name, props)}) AS rows")


def analytics_rels_around(type_name: str, props: tuple[str, ...]) -> str:
    """ONE record holding the rows (:func:`_rel_row`) of every ``[:type]`` relationship with
    an endpoint among the internal ids ``$ids``, each once, in relationship id order."""
    t = rel_type(type_name)
    return (
        f"UNWIND $ids AS i MATCH (x) WHERE id(x) = i MATCH (x)-[r:{t}]-() "
        f"WITH DISTINCT r MATCH (a)-[r]->(b) WITH r, a, b ORDER BY id(r) "
        f"RETURN collect({_rel_row(props)}) AS rows"
    )


def analytics_store_id() -> str:
    """The store id of the database (changes when the store is replaced: a bulk import, a
    restore)."""
    return "CALL db.info() YIELD id RETURN id"


def analytics_rel_id_buckets(type_name: str) -> str:
    """How many ``[:type]`` relationships fall in each internal-id bucket ``id(r) / $step``,
    in bucket order (the chunk plan of :func:`analytics_rels_chunk`)."""
    return (
        f"MATCH ()-[r:{rel_type(type_name)}]->() "
        "RETURN id(r) / $step AS bucket, count(*) AS rows ORDER BY bucket"
    )


def analytics_rels_chunk(type_name: str, props: tuple[str, ...], seek: bool) -> str:
    """ONE record holding ``[rel id, src id, dst id, p1, …]`` (internal ids, see
    :func:`analytics_nodes_chunk`) for the ``[:type]`` relationships with
    ``$lo <= id(r) < $hi``, endpoints of any label; ``seek`` as for nodes."""
    t = rel_type(type_name)
    row = _rel_row(props)
    if seek:
        return (
            f"UNWIND range($lo, $hi - 1) AS i MATCH (a)-[r:{t}]->(b) WHERE id(r) = i "
            f"RETURN collect({row}) AS rows"
        )
    return (
        f"MATCH (a)-[r:{t}]->(b) WHERE id(r) >= $lo AND id(r) < $hi "
        f"RETURN collect({row}) AS rows"
    )


OPEN_SEQ = 2**62
"""``to_seq`` of a ScoreRecord that no run has superseded yet."""


def valid_at(var: str = "s", seq: str = "seq") -> str:
    """The ScoreRecord ``var`` is the one of its enterprise at run sequence ``seq`` (a
    variable bound by :func:`at_runs`).

    A scoring run with sequence number N writes a record only for an enterprise whose record
    changed (``from_seq = N``) and closes the one it replaces (``to_seq = N``); a record is
    valid at N when ``from_seq <= N < to_seq``. Records of a run that is not live yet lie
    above the live run's sequence, so readers of the live run never see them."""
    v, q = prop(var), prop(seq)
    return f"({v}.to_seq > {q} AND {v}.from_seq <= {q})"


def at_runs(**runs: str) -> str:
    """Leading clauses binding, per ``variable=parameter``, the sequence number of the run
    whose id is ``$parameter`` (-1 when there is no such run: no record is valid at -1), e.g.
    ``at_runs(seq="run_id")`` binds ``seq`` for ``$run_id``."""
    matches = " ".join(f"OPTIONAL MATCH (at_{prop(v)}:Run {{run_id: ${prop(p)}}})"
                       for v, p in runs.items())
    binds = ", ".join(f"coalesce(at_{v}.seq, -1) AS {v}" for v in runs)
    return f"{matches} WITH {binds} "


_AT_LIVE = at_runs(seq="run_id")


def analytics_start_run() -> str:
    """Create (or reset) the scoring ``Run`` node with the next sequence number (above every
    run's); it is not live until the final switch. Returns ``seq`` and the live run's
    ``live_seq`` (0 without one)."""
    return (
        "OPTIONAL MATCH (x:Run) WHERE x.seq IS NOT NULL AND x.run_id <> $run_id "
        "WITH coalesce(max(x.seq), 0) AS top "
        "OPTIONAL MATCH (l:Run {live: true}) WHERE l.run_id <> $run_id "
        "WITH top, coalesce(max(l.seq), 0) AS live_seq "
        "MERGE (r:Run {run_id: $run_id}) "
        "SET r.started = $started, r.kind = 'score', r.status = 'running', r.live = false, "
        "r.model_version = $model_version, r.seq = top + 1 "
        "RETURN r.seq AS seq, live_seq"
    )


def analytics_run_status() -> str:
    """The status of run ``$run_id`` (no row when there is no such run)."""
    return "MATCH (r:Run {run_id: $run_id}) RETURN r.status AS status"


def analytics_fail_stale_runs() -> str:
    """Scoring runs other than ``$run_id`` still marked running (their process died: the
    caller holds the refresh lock) are marked failed."""
    return (
        "MATCH (r:Run {kind: 'score', status: 'running'}) WHERE r.run_id <> $run_id "
        "SET r.status = 'failed', r.live = false, "
        "r.error = coalesce(r.error, 'interrupted: its process ended before the switch')"
    )


def analytics_drop_unswitched_records() -> str:
    """Delete the ScoreRecords written by runs that never went live (``from_seq`` above the
    live run's ``$live_seq``), in inner transactions (run it auto-commit)."""
    return (
        "MATCH (s:ScoreRecord) WHERE s.from_seq > $live_seq "
        "CALL (s) { DETACH DELETE s } IN TRANSACTIONS OF 10000 ROWS"
    )


def analytics_reopen_records() -> str:
    """Records closed by a run that never went live (``$live_seq < to_seq < OPEN``) are
    current again (run it auto-commit)."""
    return (
        f"MATCH (s:ScoreRecord) WHERE s.to_seq > $live_seq AND s.to_seq < {OPEN_SEQ} "
        f"CALL (s) {{ SET s.to_seq = {OPEN_SEQ} }} IN TRANSACTIONS OF 10000 ROWS"
    )


def analytics_current_digests() -> str:
    """ONE record: ``[uscc, digest, score]`` of every current ScoreRecord (to write only
    changes)."""
    return (
        f"MATCH (s:ScoreRecord) WHERE s.to_seq = {OPEN_SEQ} "
        "RETURN collect([s.uscc, s.digest, s.score]) AS rows"
    )


def analytics_close_records() -> str:
    """Close the current records of ``$rows`` (``{uscc}``: enterprises no longer scored) at
    run ``$seq``."""
    return (
        "UNWIND $rows AS row "
        "MATCH (s:ScoreRecord {uscc: row.uscc}) "
        f"WHERE s.to_seq = {OPEN_SEQ} "
        "SET s.to_seq = $seq"
    )


def analytics_fail_run() -> str:
    """Mark a scoring run failed (the previous live run stays live)."""
    return (
        "MATCH (r:Run {run_id: $run_id}) "
        "SET r.status = 'failed', r.live = false, r.finished = $finished, r.error = $error"
    )


def analytics_write_score_records() -> str:
    """CREATE the ScoreRecords of enterprises that have no current record (``$rows`` of
    ``{record_id, uscc, props}``, props with ``from_seq = $seq`` and ``to_seq = OPEN``)
    linked by SCORED_AS.

    CREATE, not MERGE: a run's records are new (its run id is fresh, and
    :func:`analytics_clear_run_records` empties a reused one first), so no lookup of the
    record key and no Eager plan; a retried batch was rolled back as a whole."""
    return (
        "UNWIND $rows AS row "
        "MATCH (e:Enterprise {uscc: row.uscc}) "
        "CREATE (e)-[:SCORED_AS]->(s:ScoreRecord {record_id: row.record_id}) "
        "SET s += row.props"
    )


def analytics_replace_score_records() -> str:
    """:func:`analytics_write_score_records` for enterprises whose current record changed:
    that record is closed at ``$seq`` in the same batch (the plan reads before it writes,
    with Eager steps: slower per row than a plain CREATE, so only for these rows)."""
    return (
        "UNWIND $rows AS row "
        "MATCH (e:Enterprise {uscc: row.uscc}) "
        "CALL (e) { MATCH (e)-[:SCORED_AS]->(old:ScoreRecord) "
        f"WHERE old.to_seq = {OPEN_SEQ} SET old.to_seq = $seq }} "
        "CREATE (e)-[:SCORED_AS]->(s:ScoreRecord {record_id: row.record_id}) "
        "SET s += row.props"
    )


def analytics_clear_run_records() -> str:
    """Delete the ScoreRecords of ``$run_id`` (a reused run id; none for a fresh one), in
    inner transactions (run it auto-commit)."""
    return (
        "MATCH (s:ScoreRecord {run_id: $run_id}) "
        "CALL { WITH s DETACH DELETE s } IN TRANSACTIONS OF 10000 ROWS"
    )


def analytics_write_groups() -> str:
    """MERGE Group nodes (``$rows`` of ``{group_id, props}``)."""
    return (
        "UNWIND $rows AS row MERGE (g:Group {group_id: row.group_id}) "
        "SET g += row.props"
    )


def analytics_write_memberships() -> str:
    """MERGE ``(Enterprise)-[:MEMBER_OF]->(Group)`` (``$rows`` of ``{uscc, group_id}``)."""
    return (
        "UNWIND $rows AS row MATCH (e:Enterprise {uscc: row.uscc}) "
        "MATCH (g:Group {group_id: row.group_id}) "
        "MERGE (e)-[m:MEMBER_OF]->(g) SET m.run_id = $run_id"
    )


def analytics_write_controls() -> str:
    """MERGE ``CONTROLS`` from a controller (Person/Party/Enterprise) to an enterprise.

    ``$rows`` of ``{src, dst, share}``; the controller is matched by whichever key it has.
    """
    return (
        "UNWIND $rows AS row MATCH (e:Enterprise {uscc: row.dst}) "
        "OPTIONAL MATCH (p:Person {pid: row.src}) "
        "OPTIONAL MATCH (x:Party {party_id: row.src}) "
        "OPTIONAL MATCH (c:Enterprise {uscc: row.src}) "
        "WITH e, row, coalesce(p, x, c) AS ctl WHERE ctl IS NOT NULL "
        "MERGE (ctl)-[r:CONTROLS {rk: 'analytics'}]->(e) "
        "SET r.share = row.share, r.run_id = $run_id"
    )


def analytics_previous_groups() -> str:
    """ONE record: ``[group id, [member uscc, …]]`` of every Group (for stable group ids
    across runs and the membership diff)."""
    return (
        "MATCH (g:Group) OPTIONAL MATCH (e:Enterprise)-[:MEMBER_OF]->(g) "
        "WITH g, collect(e.uscc) AS members "
        "RETURN collect([g.group_id, members]) AS rows"
    )


def analytics_switch_live() -> str:
    """The ONE final transaction: the new run goes live, the previous live run does not."""
    return (
        "MATCH (r:Run {run_id: $run_id}) "
        "OPTIONAL MATCH (old:Run {live: true}) WHERE old.run_id <> $run_id "
        "SET old.live = false "
        "WITH DISTINCT r "
        "SET r.live = true, r.status = 'ok', r.finished = $finished, r.summary = $summary "
        "RETURN r.run_id AS run_id"
    )


def analytics_delete_memberships() -> str:
    """After the switch: delete ``(Enterprise)-[:MEMBER_OF]->(Group)`` pairs that the live
    run no longer has (``$rows`` of ``{uscc, group_id}``)."""
    return (
        "UNWIND $rows AS row "
        "MATCH (:Enterprise {uscc: row.uscc})-[m:MEMBER_OF]->(:Group {group_id: row.group_id}) "
        "DELETE m"
    )


def analytics_controls() -> str:
    """ONE record: ``[controller key, enterprise uscc, share]`` of every analytics
    ``CONTROLS`` now (to write only what changed)."""
    return (
        "MATCH (c)-[r:CONTROLS {rk: 'analytics'}]->(e:Enterprise) "
        "RETURN collect([coalesce(c.pid, c.party_id, c.uscc), e.uscc, r.share]) AS rows"
    )


def analytics_delete_controls() -> str:
    """After the switch: delete analytics ``CONTROLS`` the live run no longer has (``$rows``
    of ``{src, dst}``, the controller by whichever key it has)."""
    return (
        "UNWIND $rows AS row MATCH (c)-[r:CONTROLS {rk: 'analytics'}]->"
        "(:Enterprise {uscc: row.dst}) "
        "WHERE coalesce(c.pid, c.party_id, c.uscc) = row.src "
        "DELETE r"
    )


def analytics_cache_scores() -> str:
    """Copy ``score``/``level`` of the given run's records onto their Enterprise nodes."""
    return (
        "UNWIND $rows AS row MATCH (e:Enterprise {uscc: row.uscc}) "
        "SET e.score = row.score, e.level = row.level"
    )


def analytics_cached_scores() -> str:
    """ONE record: ``[uscc, score, level]`` cached on every Enterprise (to rewrite only what
    changed)."""
    return "MATCH (e:Enterprise) RETURN collect([e.uscc, e.score, e.level]) AS rows"


def analytics_live_run() -> str:
    """The live scoring run, if any."""
    return (
        "MATCH (r:Run {live: true}) RETURN r.run_id AS run_id, r.finished AS finished, "
        "r.model_version AS model_version ORDER BY r.finished DESC LIMIT 1"
    )


def analytics_live_records() -> str:
    """All ScoreRecords of the live run (``$run_id``), for export and eval."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} "
        "RETURN s.uscc AS uscc, s.name AS name, s.county AS county, s.score AS score, "
        "s.level AS level, s.group_id AS group_id, s.cross_region AS cross_region, "
        "s.lead_region AS lead_region, s.reasons AS reasons ORDER BY s.uscc"
    )


def analytics_records_of(run_id_param: str = "run_id") -> str:
    """Full ScoreRecords of one run for a list of enterprises (``$usccs``)."""
    return (
        f"{at_runs(seq=run_id_param)}MATCH (s:ScoreRecord) WHERE s.uscc IN $usccs "
        f"AND {valid_at()} RETURN properties(s) AS props"
    )


def analytics_previous_run() -> str:
    """The live run before the given one (``$run_id``), for 'what changed' diffs."""
    return (
        "MATCH (r:Run {kind: 'score', status: 'ok'}) WHERE r.run_id <> $run_id "
        "RETURN r.run_id AS run_id ORDER BY r.finished DESC LIMIT 1"
    )


def analytics_baseline_features() -> str:
    """Per enterprise: business scope and the number of court cases it is party to as a
    defendant (the keyword + lawsuit baseline of ``riskgraph eval``)."""
    return (
        "MATCH (e:Enterprise) "
        "OPTIONAL MATCH (e)-[p:PARTY_TO]->(c:CourtCase) "
        "WHERE p.role IN $defendant_roles "
        "RETURN e.uscc AS uscc, e.scope AS scope, count(DISTINCT c) AS lawsuits"
    )


# --- refresh --------------------------------------------------------------------------------
# Owned by riskgraph.refresh / riskgraph.runs / riskgraph.alerts. Values are parameters only.


def live_run() -> str:
    """The live scoring run (the read contract: ``MATCH (r:Run {live: true})``)."""
    return (
        "MATCH (r:Run {live: true}) "
        "RETURN r.run_id AS run_id, r.model_version AS model_version, "
        "r.finished AS finished ORDER BY r.finished DESC LIMIT 1"
    )


def refresh_run_upsert() -> str:
    """MERGE the Run node of a refresh and set its flat record properties.

    Parameters: ``$run_id``, ``$props``. Never touches ``live`` (the scoring engine's switch).
    """
    return "MERGE (r:Run {run_id: $run_id}) SET r += $props"


def refresh_runs_running() -> str:
    """Refresh runs still marked running. Parameters: ``$kind``."""
    return (
        "MATCH (r:Run) WHERE r.kind = $kind AND r.outcome = 'running' "
        "RETURN r.run_id AS run_id, r.stage AS stage"
    )


def refresh_run_close_interrupted() -> str:
    """Close a refresh run left running by a dead process.

    Parameters: ``$run_id``, ``$error``, ``$ended``.
    """
    return (
        "MATCH (r:Run {run_id: $run_id}) WHERE r.outcome = 'running' "
        "SET r.outcome = 'failed', r.status = 'failed', r.error = $error, r.ended = $ended"
    )


def refresh_runs_recent() -> str:
    """The latest refresh runs, newest first. Parameters: ``$kind``, ``$limit``."""
    return (
        "MATCH (r:Run) WHERE r.kind = $kind "
        "RETURN r {.*} AS run ORDER BY r.started DESC LIMIT $limit"
    )


def refresh_delivery_count() -> str:
    """How many deliveries the graph holds (loaded by any command)."""
    return "MATCH (d:Delivery) RETURN count(d) AS n"


def score_level_counts() -> str:
    """Enterprises per level in one run. Parameters: ``$run_id``."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} "
        "RETURN s.level AS level, count(*) AS n"
    )


def alert_candidates() -> str:
    """ScoreRecords of ``$run_id`` that may raise an alert, with the previous run's record.

    Parameters: ``$run_id``, ``$prev_run_id`` (may be null), ``$levels`` (alerting levels),
    ``$jump`` (minimum score rise). Only records written after the previous run (every
    record without one) can raise an alert: an unchanged record raises nothing new. Rows: the
    new record's fields plus ``prev_score``, ``prev_level`` (null when the enterprise was not
    scored in the previous run). The records are found by their ``from_seq`` (the range
    since the previous run: the increment's few thousand), not by the planner's choice of
    ``to_seq`` (every current record: 490,793 index entries at scale 25, 1.0-1.15 s against
    0.3 s with the hint, ad hoc on the scale-25 graph after an increment).
    """
    return (
        f"{at_runs(seq='run_id', prev_seq='prev_run_id')}"
        "MATCH (s:ScoreRecord) USING INDEX s:ScoreRecord(from_seq) "
        f"WHERE s.from_seq > prev_seq AND {valid_at()} "
        f"OPTIONAL MATCH (p:ScoreRecord {{uscc: s.uscc}}) WHERE {valid_at('p', 'prev_seq')} "
        "WITH s, p WHERE s.level IN $levels OR coalesce(s.cross_region, false) "
        "OR (p IS NOT NULL AND s.score - p.score >= $jump) "
        "RETURN s.uscc AS uscc, s.name AS name, s.county AS county, "
        "s.department AS department, s.sector AS sector, s.score AS score, s.level AS level, "
        "s.group_id AS group_id, coalesce(s.cross_region, false) AS cross_region, "
        "s.lead_region AS lead_region, s.reasons AS reasons, "
        "p.score AS prev_score, p.level AS prev_level"
    )


def cross_region_groups_of_run() -> str:
    """Group ids that were cross-region in a run. Parameters: ``$run_id``."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} "
        "AND s.cross_region = true AND s.group_id IS NOT NULL "
        "RETURN DISTINCT s.group_id AS group_id"
    )


def merge_alerts() -> str:
    """MERGE Alert nodes on their stable ``alert_key``.

    Parameters: ``$rows`` = list of ``{"alert_key", "run_id", "at", "props": {…}}``. A new
    alert starts ``status = 'new'``; a re-raised alert that was ``handled`` is reopened
    (``new``), a ``seen`` one stays ``seen``; ``raised_count`` counts the raisings.
    """
    return (
        "UNWIND $rows AS row MERGE (a:Alert {alert_key: row.alert_key}) "
        "ON CREATE SET a.status = 'new', a.first_run = row.run_id, a.created = row.at, "
        "a.raised_count = 0 "
        "SET a += row.props, a.last_run = row.run_id, a.raised = row.at, "
        "a.raised_count = a.raised_count + 1, "
        "a.status = CASE WHEN a.status = 'handled' "
        "AND coalesce(a.last_handled_run, '') <> row.run_id "
        "THEN 'new' ELSE a.status END"
    )


def link_alerts() -> str:
    """``(Alert)-[:ALERT_FOR]->(Enterprise|Group)``; alerts whose subject is missing are skipped.

    Parameters: ``$rows`` = list of ``{"alert_key", "label", "key"}`` where ``label`` is
    ``Enterprise`` (key = uscc) or ``Group`` (key = group_id).
    """
    return (
        "UNWIND $rows AS row MATCH (a:Alert {alert_key: row.alert_key}) "
        "OPTIONAL MATCH (e:Enterprise {uscc: row.key}) WHERE row.label = 'Enterprise' "
        "OPTIONAL MATCH (g:Group {group_id: row.key}) WHERE row.label = 'Group' "
        "WITH a, coalesce(e, g) AS t WHERE t IS NOT NULL "
        "MERGE (a)-[:ALERT_FOR]->(t)"
    )


def set_alert_status() -> str:
    """Set an alert's status. Parameters: ``$alert_key``, ``$status``, ``$by``, ``$at``."""
    return (
        "MATCH (a:Alert {alert_key: $alert_key}) "
        "SET a.status = $status, a.status_by = $by, a.status_at = $at, "
        "a.last_handled_run = CASE WHEN $status = 'handled' THEN a.last_run "
        "ELSE a.last_handled_run END "
        "RETURN a.alert_key AS alert_key"
    )


def alerts_list() -> str:
    """Alerts, newest first, optionally of one county and status.

    Parameters: ``$county`` (null = all), ``$status`` (null = all), ``$limit``.
    """
    return (
        "MATCH (a:Alert) WHERE ($county IS NULL OR a.county = $county "
        "OR $county IN coalesce(a.counties, [])) "
        "AND ($status IS NULL OR a.status = $status) "
        "RETURN a {.*} AS alert ORDER BY a.raised DESC, a.score DESC LIMIT $limit"
    )


# --- dashboards -----------------------------------------------------------------------------
# Read-only builders of the Streamlit app (dashboards/data.py). Every builder that returns
# enterprises applies the viewer's scope in the query itself: ``$counties`` (list of county
# codes, or null for the whole city) and ``$sector`` (or null); values only as parameters.

_DASH_SCOPE_S = (
    "($counties IS NULL OR s.county IN $counties) AND ($sector IS NULL OR s.sector = $sector)"
)
_DASH_RESTRICTED = ("PoliceClue", "CreditListing", "CreditReport", "BankAlert")
_DASH_ROLE_RELS = "LEGAL_REP_OF|SHAREHOLDER_OF|OFFICER_OF|CONTROLS"


def _dash_person_in_scope(var: str) -> str:
    """Whether the person / party ``var`` lies in the territory of ``$counties`` (null = the
    whole city). A person's territory (``docs/security.md``) is the county of residence
    (``region``, from the citizen-ID prefix) together with the counties of the enterprises
    they hold a registered role in (legal representative, shareholder, officer, controller):
    a county sees who runs and owns its own firms. For persons and parties without a
    residence, the counties of the enterprises they share a court case with count too."""
    return (
        f"($counties IS NULL OR ({var}.region IS NOT NULL AND {var}.region IN $counties) "
        f"OR EXISTS {{ MATCH ({var})-[:{_DASH_ROLE_RELS}]->(tf:Enterprise) "
        "WHERE tf.county IN $counties } "
        f"OR ({var}.region IS NULL AND EXISTS {{ MATCH ({var})-[:PARTY_TO]->(:CourtCase)"
        "<-[:PARTY_TO]-(tf:Enterprise) WHERE tf.county IN $counties }))"
    )


def _dash_enterprise_in_scope(var: str, record: str) -> str:
    """Whether enterprise ``var`` (with its live ScoreRecord ``record``, possibly null) lies in
    the scope: its county in ``$counties`` and, for sector scopes, its live record of
    ``$sector`` (no record = not of the sector: fail closed)."""
    return (f"(($counties IS NULL OR {var}.county IN $counties) "
            f"AND ($sector IS NULL OR {record}.sector = $sector))")
_DASH_EVENT_TYPES = ("HAS_CHANGE", "PARTY_TO", "SUBJECT_OF", "TIPPED_IN", "FLAGGED_IN",
                     "ADVERTISED_IN", "LISTED_IN")
_DASH_KEYED = ("Enterprise", "Person", "Party", "Address", "Phone", "CourtCase", "PoliceClue",
               "Tip", "CreditListing", "CreditReport", "TaxYear", "BankAlert", "Ad", "Change",
               "Group")
_DASH_KEY_EXPR = "coalesce(" + ", ".join(
    dict.fromkeys(f"n.{NODE_BY_LABEL[name].key}" for name in _DASH_KEYED)) + ")"


def dash_live_run() -> str:
    """The live scoring run (``Run {live: true}``), as a property map."""
    return ("MATCH (r:Run {live: true}) RETURN properties(r) AS run "
            "ORDER BY r.started DESC LIMIT 1")


def dash_previous_run() -> str:
    """The latest ok scoring run before ``$started`` (other than ``$run_id``) with scores."""
    return (
        "MATCH (r:Run) WHERE r.status = 'ok' AND r.run_id <> $run_id AND r.started < $started "
        "AND r.seq IS NOT NULL "
        "RETURN properties(r) AS run ORDER BY r.started DESC LIMIT 1"
    )


def dash_scored_runs() -> str:
    """The latest ``$limit`` ok scoring runs (runs with scores), newest first."""
    return (
        "MATCH (r:Run) WHERE r.status = 'ok' AND r.seq IS NOT NULL "
        "RETURN r.run_id AS run_id, r.started AS started ORDER BY r.started DESC LIMIT $limit"
    )


def dash_run_history() -> str:
    """All runs, newest first (``$limit``)."""
    return "MATCH (r:Run) RETURN properties(r) AS run ORDER BY r.started DESC LIMIT $limit"


def dash_county_summary() -> str:
    """Per county of one run (``$run_id``): scored, high-risk (red+orange), red, mean score."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} AND {_DASH_SCOPE_S} "
        "RETURN s.county AS county, count(s) AS enterprises, "
        "sum(CASE WHEN s.level IN ['red', 'orange'] THEN 1 ELSE 0 END) AS high_risk, "
        "sum(CASE WHEN s.level = 'red' THEN 1 ELSE 0 END) AS red, "
        "avg(s.score) AS mean_score"
    )


def dash_county_exposure() -> str:
    """Per county: court cases, amount (元) and distinct other parties (investors) involved,
    over the flagged (level not none) enterprises of run ``$run_id``. Current facts only, as
    the scoring counts them: a case or party link a full delivery no longer held (``ended``)
    is history."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} AND {_DASH_SCOPE_S} "
        "AND s.level <> 'none' "
        "MATCH (e:Enterprise {uscc: s.uscc})-[r:PARTY_TO]->(c:CourtCase) "
        "WHERE r.ended IS NULL AND c.ended IS NULL "
        "WITH DISTINCT s.county AS county, e, c "
        "OPTIONAL MATCH (p)-[q:PARTY_TO]->(c) WHERE p <> e AND q.ended IS NULL "
        "WITH county, c, count(DISTINCT p) AS others "
        "RETURN county, count(DISTINCT c) AS cases, "
        "sum(coalesce(c.amount_yuan, c.amount_wan * 10000, 0)) AS amount_yuan, "
        "sum(others) AS investors"
    )


def dash_county_new_clues() -> str:
    """Per county: police clues and tips delivered on or after ``$since`` (YYYYMMDD) that name
    an enterprise scored in run ``$run_id`` (current ones: not ``ended``)."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} AND {_DASH_SCOPE_S} "
        "MATCH (e:Enterprise {uscc: s.uscc})-[r:SUBJECT_OF|TIPPED_IN]->(c) "
        "WHERE ($since IS NULL OR c.delivery >= $since) "
        "AND r.ended IS NULL AND c.ended IS NULL "
        "AND ($can_see_police_credit OR NOT c:PoliceClue) "
        "RETURN s.county AS county, count(DISTINCT c) AS new_clues"
    )


def dash_trend() -> str:
    """High-risk count per county for each run in ``$run_ids``."""
    return (
        "UNWIND $run_ids AS rid MATCH (r:Run {run_id: rid}) WHERE r.seq IS NOT NULL "
        "WITH rid, r.seq AS seq "
        f"MATCH (s:ScoreRecord) WHERE {valid_at()} AND {_DASH_SCOPE_S} "
        "RETURN rid AS run_id, s.county AS county, "
        "sum(CASE WHEN s.level IN ['red', 'orange'] THEN 1 ELSE 0 END) AS high_risk, "
        "count(s) AS enterprises"
    )


def dash_enterprise_list() -> str:
    """Scored enterprises of run ``$run_id`` in scope, filtered by ``$levels`` (or null) and
    ``$county`` (or null), with the score in run ``$prev_run_id`` (or null) and the newest
    ledger entry, sorted by score, at most ``$limit``."""
    return (
        f"{at_runs(seq='run_id', prev_seq='prev_run_id')}"
        f"MATCH (s:ScoreRecord) WHERE {valid_at()} AND {_DASH_SCOPE_S} "
        "AND ($levels IS NULL OR s.level IN $levels) "
        "AND ($county IS NULL OR s.county = $county) "
        "AND ($min_score IS NULL OR s.score >= $min_score) "
        "WITH s, prev_seq ORDER BY s.score DESC, s.uscc LIMIT $limit "
        f"OPTIONAL MATCH (p:ScoreRecord {{uscc: s.uscc}}) WHERE {valid_at('p', 'prev_seq')} "
        "CALL (s) { OPTIONAL MATCH (l:LedgerEntry)-[:LEDGER_FOR]->(:Enterprise {uscc: s.uscc}) "
        "  RETURN l.status AS ledger_status ORDER BY coalesce(l.updated_at, l.created_at, '') DESC "
        "  LIMIT 1 } "
        "RETURN s.uscc AS uscc, s.name AS name, s.county AS county, s.score AS score, "
        "s.level AS level, s.sector AS sector, s.department AS department, "
        "s.group_id AS group_id, s.cross_region AS cross_region, s.lead_region AS lead_region, "
        "s.reasons AS reasons, p.score AS prev_score, p.level AS prev_level, ledger_status "
        "ORDER BY score DESC, uscc"
    )


def dash_sectors() -> str:
    """Distinct sectors of run ``$run_id`` within scope, with counts."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} AND {_DASH_SCOPE_S} "
        "RETURN s.sector AS sector, count(s) AS n ORDER BY n DESC"
    )


def dash_enterprise() -> str:
    """One enterprise in scope (``$uscc``) with its score records of runs ``$run_id`` (live)
    and ``$prev_run_id`` (or null)."""
    return (
        f"{at_runs(seq='run_id', prev_seq='prev_run_id')}"
        "MATCH (e:Enterprise {uscc: $uscc}) "
        "WHERE ($counties IS NULL OR e.county IN $counties) "
        f"OPTIONAL MATCH (e)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        f"OPTIONAL MATCH (e)-[:SCORED_AS]->(p:ScoreRecord) WHERE {valid_at('p', 'prev_seq')} "
        "WITH e, s, p WHERE $sector IS NULL OR s.sector = $sector "
        "RETURN properties(e) AS enterprise, properties(s) AS score, properties(p) AS previous"
    )


def dash_score_history() -> str:
    """The score history of ``$uscc``: each ScoreRecord (one per change) up to the live run,
    with the start time of the run that wrote it, oldest first."""
    return (
        "OPTIONAL MATCH (lr:Run {live: true}) WITH coalesce(max(lr.seq), -1) AS live_seq "
        "MATCH (:Enterprise {uscc: $uscc})-[:SCORED_AS]->(s:ScoreRecord) "
        "WHERE s.from_seq <= live_seq "
        "OPTIONAL MATCH (r:Run {run_id: s.run_id}) "
        "RETURN s.run_id AS run_id, r.started AS started, s.score AS score, s.level AS level "
        "ORDER BY s.from_seq"
    )


def dash_timeline() -> str:
    """Events attached to ``$uscc`` (changes, suits, clues, tips, bank alerts, ads, listings);
    police and credit facts only when ``$can_see_police_credit``; for scopes without
    ``$can_see_persons``, ``person_names``: the names of the persons linked to each event and
    to the enterprise, which the caller masks inside the events' free text. ``ended``: the
    delivery date of the full snapshot that no longer held the event (or its link), if any."""
    types = "|".join(rel_type(t) for t in _DASH_EVENT_TYPES)
    restricted = " OR ".join(f"x:{label(n)}" for n in _DASH_RESTRICTED)
    return (
        f"MATCH (e:Enterprise {{uscc: $uscc}})-[r:{types}]->(x) "
        f"WHERE $can_see_police_credit OR NOT ({restricted}) "
        "RETURN type(r) AS rel, labels(x)[0] AS kind, properties(x) AS props, "
        "properties(r) AS rel_props, coalesce(x.ended, r.ended) AS ended, "
        "CASE WHEN $can_see_persons THEN [] ELSE "
        "COLLECT { MATCH (x)--(p:Person) RETURN p.name } + "
        f"COLLECT {{ MATCH (e)<-[:{_DASH_ROLE_RELS}]-(p:Person) RETURN p.name }} END "
        "AS person_names LIMIT $limit"
    )


def dash_controller_and_group() -> str:
    """Controllers (CONTROLS) and the group of ``$uscc``: enterprises outside the scope
    (county or sector, run ``$run_id``) and persons outside its territory come back
    ``controller_visible = false`` with no name; persons masked unless ``$can_see_persons``."""
    return (
        f"{_AT_LIVE}MATCH (e:Enterprise {{uscc: $uscc}}) "
        "OPTIONAL MATCH (c)-[k:CONTROLS]->(e) "
        f"OPTIONAL MATCH (c:Enterprise)-[:SCORED_AS]->(cs:ScoreRecord) WHERE {valid_at('cs')} "
        "OPTIONAL MATCH (e)-[:MEMBER_OF]->(g:Group) "
        "WITH c, k, g, CASE WHEN c IS NULL THEN true "
        f"WHEN c:Enterprise THEN {_dash_enterprise_in_scope('c', 'cs')} "
        f"ELSE {_dash_person_in_scope('c')} END AS visible "
        "RETURN labels(c)[0] AS controller_label, "
        "CASE WHEN NOT visible THEN null WHEN c:Person AND NOT $can_see_persons "
        "THEN c.name_masked ELSE c.name END AS controller_name, "
        "visible AS controller_visible, k.share AS share, properties(g) AS grp"
    )


def dash_hidden_person_names() -> str:
    """Names of the persons and parties holding a registered role in ``$uscc`` who lie outside
    the territory of ``$counties`` (the profile masks those names wherever the enterprise's
    own fields repeat them, e.g. ``legal_rep``)."""
    return (
        f"MATCH (p)-[:{_DASH_ROLE_RELS}]->(:Enterprise {{uscc: $uscc}}) "
        f"WHERE (p:Person OR p:Party) AND p.name IS NOT NULL "
        f"AND NOT {_dash_person_in_scope('p')} "
        "RETURN DISTINCT p.name AS name"
    )


def dash_group_members() -> str:
    """Members of group ``$group_id`` (the cross-region rule of ``docs/security.md``).

    A group touching the scope (any member county in ``$counties``; the whole city sees every
    group) shows every member firm's name, code and county; score and level only for members
    inside the scope (and of ``$sector`` for sector scopes). A group not touching the scope
    shows no names or codes at all (counts by county only)."""
    return (
        f"{_AT_LIVE}MATCH (e:Enterprise)-[:MEMBER_OF]->(g:Group {{group_id: $group_id}}) "
        f"OPTIONAL MATCH (e)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        f"WITH e, s, {_dash_enterprise_in_scope('e', 's')} AS inside "
        "WITH collect({e: e, s: s, inside: inside}) AS members "
        "WITH members, any(m IN members WHERE m.inside) AS touches "
        "UNWIND members AS m "
        "WITH m.e AS e, m.s AS s, touches, (touches AND m.inside) AS visible "
        "RETURN CASE WHEN touches THEN e.uscc END AS uscc, "
        "CASE WHEN touches THEN e.name END AS name, e.county AS county, visible, "
        "CASE WHEN visible THEN s.score END AS score, "
        "CASE WHEN visible THEN s.level END AS level ORDER BY county, score DESC"
    )


def dash_expand() -> str:
    """One hop of a network expansion from the nodes ``$ids`` (element ids) over ``$types``.

    Enterprises outside the scope (``$counties``; ``$sector`` by their record of run
    ``$run_id``), persons and parties outside its territory and addresses of other counties
    come back with ``visible = false`` and no name, key, score or level; persons come back
    masked unless ``$can_see_persons``; police and credit nodes are left out unless
    ``$can_see_police_credit``. ``rel_ended`` / ``node_ended``: the delivery date of the
    full snapshot that no longer held the relationship / the (visible) node, if any.
    """
    restricted = " OR ".join(f"b:{label(n)}" for n in _DASH_RESTRICTED)
    key_expr = _DASH_KEY_EXPR.replace("n.", "b.")
    return (
        f"{_AT_LIVE}MATCH (a)-[r]-(b) WHERE elementId(a) IN $ids AND type(r) IN $types "
        f"AND ($can_see_police_credit OR NOT ({restricted})) "
        "WITH a, r, b, seq LIMIT $limit "
        f"OPTIONAL MATCH (b:Enterprise)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        "WITH a, r, b, CASE "
        f"WHEN b:Enterprise THEN {_dash_enterprise_in_scope('b', 's')} "
        f"WHEN b:Person OR b:Party THEN {_dash_person_in_scope('b')} "
        "WHEN b:Address THEN ($counties IS NULL OR b.county IN $counties) "
        "ELSE true END AS visible, s "
        "RETURN elementId(a) AS src, elementId(b) AS dst, elementId(r) AS rid, type(r) AS type, "
        "startNode(r) = a AS outgoing, r.role AS role, r.ratio AS ratio, "
        "labels(b)[0] AS label, visible, "
        f"CASE WHEN visible AND NOT (b:Person AND NOT $can_see_persons) THEN {key_expr} END "
        "AS key, "
        "CASE WHEN NOT visible THEN null WHEN b:Person AND NOT $can_see_persons "
        "THEN b.name_masked ELSE coalesce(b.name, b.text, b.number, b.cause, b.item, "
        "b.list_type, b.pattern, b.title, b.case_no, b.clue_no, b.tip_no, b.ad_id) END AS name, "
        "b.county AS county, CASE WHEN visible THEN s.level END AS level, "
        "CASE WHEN visible THEN s.score END AS score, r.ended AS rel_ended, "
        "CASE WHEN visible THEN b.ended END AS node_ended"
    )


def dash_node_by_uscc() -> str:
    """The element id of enterprise ``$uscc``."""
    return "MATCH (e:Enterprise {uscc: $uscc}) RETURN elementId(e) AS id"


def dash_search_enterprises() -> str:
    """Enterprises in scope whose normalised name contains ``$q`` or whose USCC / 注册号 starts
    with ``$code``; with their live score."""
    return (
        f"{_AT_LIVE}MATCH (e:Enterprise) WHERE ($counties IS NULL OR e.county IN $counties) "
        "AND (e.name_norm CONTAINS $q OR e.name CONTAINS $raw "
        "OR ($code IS NOT NULL AND (e.uscc STARTS WITH $code OR e.reg_no STARTS WITH $code))) "
        "WITH e, seq LIMIT $limit "
        f"OPTIONAL MATCH (e)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        "WITH e, s WHERE $sector IS NULL OR s.sector = $sector "
        "RETURN e.uscc AS uscc, e.name AS name, e.county AS county, s.score AS score, "
        "s.level AS level ORDER BY coalesce(score, -1) DESC"
    )


def dash_search_persons() -> str:
    """Persons by name (contains ``$raw``) or masked ID (``$raw``) inside the territory of
    ``$counties``, with the number of in-scope firms they hold a role in."""
    return (
        "MATCH (p:Person) WHERE (p.name CONTAINS $raw OR p.id_masked = $raw "
        f"OR p.name_masked = $raw) AND {_dash_person_in_scope('p')} "
        "WITH p LIMIT $limit "
        f"OPTIONAL MATCH (p)-[:{_DASH_ROLE_RELS}]->(e:Enterprise) "
        "WHERE $counties IS NULL OR e.county IN $counties "
        "RETURN p.pid AS pid, p.name AS name, p.id_masked AS id_masked, p.region AS region, "
        "count(DISTINCT e) AS firms ORDER BY firms DESC"
    )


def dash_person_roles() -> str:
    """Roles of person ``$pid`` across firms; firms outside the scope (county, sector) masked;
    ``person_visible``: the person lies inside the territory of ``$counties``; ``ended``: the
    delivery date of the full snapshot that no longer held the role, if any."""
    return (
        f"{_AT_LIVE}MATCH (p:Person {{pid: $pid}}) "
        f"WITH p, seq, {_dash_person_in_scope('p')} AS person_visible "
        f"OPTIONAL MATCH (p)-[r:{_DASH_ROLE_RELS}]->(e:Enterprise) "
        f"OPTIONAL MATCH (e)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        f"WITH p, person_visible, r, e, s, {_dash_enterprise_in_scope('e', 's')} AS visible "
        "RETURN properties(p) AS person, person_visible, type(r) AS rel, r.role AS role, "
        "r.ratio AS ratio, "
        "r.share AS share, r.ended AS ended, visible, CASE WHEN visible THEN e.uscc END AS uscc, "
        "CASE WHEN visible THEN e.name END AS name, e.county AS county, "
        "CASE WHEN visible THEN s.score END AS score, "
        "CASE WHEN visible THEN s.level END AS level"
    )


def dash_cross_region_groups() -> str:
    """Cross-region groups touching the scope: any member county in ``$counties`` and, for
    sector scopes, a member of ``$sector`` (its record of run ``$run_id``)."""
    return (
        f"{_AT_LIVE}MATCH (g:Group) WHERE g.cross_region = true "
        "AND ($counties IS NULL OR any(c IN coalesce(g.counties, []) WHERE c IN $counties)) "
        "AND ($sector IS NULL OR EXISTS { MATCH (m:Enterprise)-[:MEMBER_OF]->(g) "
        "MATCH (m)-[:SCORED_AS]->(ms:ScoreRecord) "
        f"WHERE {valid_at('ms')} AND ms.sector = $sector }}) "
        "RETURN properties(g) AS grp ORDER BY coalesce(g.score, 0) DESC LIMIT $limit"
    )


def dash_freshness() -> str:
    """Latest delivery per source and county, from provenance of facts attached to the
    enterprises in scope."""
    return (
        "MATCH (e:Enterprise) WHERE ($counties IS NULL OR e.county IN $counties) "
        "MATCH (e)-[r]-() WHERE r.src IS NOT NULL "
        "RETURN e.county AS county, r.src AS source, max(r.delivery) AS latest, count(r) AS facts"
    )


def dash_deliveries() -> str:
    """Latest delivery date per source (Delivery nodes)."""
    return (
        "MATCH (d:Delivery) RETURN d.source AS source, max(d.date) AS latest, "
        "count(d) AS deliveries ORDER BY source"
    )


def dash_alerts() -> str:
    """Refresh alerts in scope, newest first: for county scopes those of its counties (a group
    alert when any of the group's counties is one of them); for sector scopes enterprise alerts
    of ``$sector`` (by the enterprise's record of run ``$run_id``). ``inside`` says the alert's
    subject lies in the scope (false: a group alert of a group touching the scope)."""
    return (
        f"{_AT_LIVE}MATCH (a:Alert) WHERE $counties IS NULL OR a.county IN $counties "
        "OR any(c IN coalesce(a.counties, []) WHERE c IN $counties) "
        f"OPTIONAL MATCH (s:ScoreRecord {{uscc: a.uscc}}) WHERE {valid_at()} "
        "WITH a, s WHERE $sector IS NULL OR (a.uscc IS NOT NULL AND s.sector = $sector) "
        "RETURN properties(a) AS alert, "
        "(a.uscc IS NOT NULL AND ($counties IS NULL OR a.county IN $counties)) "
        "OR $counties IS NULL AS inside "
        "ORDER BY coalesce(a.at, a.raised, a.created, '') DESC LIMIT $limit"
    )


# --- db backup / restore (used by `riskgraph db backup` / `db restore`, graph/cli.py) ---------

_SCHEMA_PREFIXES = ("CREATE CONSTRAINT ", "CREATE INDEX ", "CREATE RANGE INDEX ",
                    "CREATE TEXT INDEX ", "CREATE POINT INDEX ", "CREATE FULLTEXT INDEX ",
                    "CREATE VECTOR INDEX ")


def count_all_nodes() -> str:
    return "MATCH (n) RETURN count(n) AS n"


def backup_nodes() -> str:
    return "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props"


def backup_relationships() -> str:
    return (
        "MATCH (a)-[r]->(b) RETURN elementId(a) AS src, elementId(b) AS dst, type(r) AS type, "
        "properties(r) AS props"
    )


def backup_constraints() -> str:
    return "SHOW CONSTRAINTS YIELD name, createStatement RETURN name, createStatement AS statement"


def backup_indexes() -> str:
    """User indexes (not token lookups, not constraint-owned) as create statements."""
    return (
        "SHOW INDEXES YIELD name, type, owningConstraint, createStatement "
        "WHERE type <> 'LOOKUP' AND owningConstraint IS NULL "
        "RETURN name, createStatement AS statement"
    )


def restore_schema_statement(statement: str) -> str:
    """A constraint/index statement read from a backup file, accepted only if it is one."""
    text = statement.strip()
    if not text.upper().startswith(_SCHEMA_PREFIXES) or ";" in text:
        raise CypherBuildError(f"not a schema statement: {text[:80]!r}")
    return text


def restore_nodes(labels: tuple[str, ...] | list[str]) -> str:
    """CREATE nodes with ``labels``; ``$rows`` = ``[{"id": old id, "props": {…}}]``."""
    text = "".join(f":`{_safe_token(name)}`" for name in labels)
    return (
        f"UNWIND $rows AS row CREATE (n{text}) SET n = row.props "
        "RETURN row.id AS old, elementId(n) AS new"
    )


def restore_relationships(type_name: str) -> str:
    """CREATE relationships; ``$rows`` = ``[{"src": element id, "dst": …, "props": {…}}]``."""
    return (
        "UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.src "
        "MATCH (b) WHERE elementId(b) = row.dst "
        f"CREATE (a)-[r:`{_safe_token(type_name)}`]->(b) SET r = row.props"
    )


# --- workflow ---------------------------------------------------------------------------------
# Owned by workflow/ (ledger, reports, hand-off). Pure builders; values only as parameters.


def wf_live_run() -> str:
    """The live scoring run (read contract: ``Run {live: true}``)."""
    return (
        "MATCH (r:Run {live: true}) RETURN r.run_id AS run_id, r.seq AS seq "
        "ORDER BY r.run_id DESC LIMIT 1"
    )


def wf_ledger_candidates() -> str:
    """ScoreRecords of ``$run_id`` whose level is one of ``$levels`` and that have a county
    (found through the index on ``level``: a few thousand of the scale-25 city's 490,000
    current records; the hint because the planner may otherwise pick the range on
    ``to_seq``, which every current record matches)."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) USING INDEX s:ScoreRecord(level) WHERE {valid_at()} "
        "AND s.level IN $levels AND s.county IS NOT NULL AND s.county <> '' "
        "RETURN s.uscc AS uscc, s.name AS name, s.county AS county, s.score AS score, "
        "s.level AS level, s.sector AS sector, s.department AS department, "
        "s.reasons AS reasons, s.group_id AS group_id"
    )


def wf_group_candidates() -> str:
    """Groups touched by ``$run_id`` (a record valid at the run names it) whose score reaches
    ``$min_score``: from the groups by score (indexed), each checked through the records
    that name it (indexed by ``group_id``), rather than every record of the run (scale 25:
    490,000); hinted, as :func:`wf_ledger_candidates`."""
    return (
        f"{_AT_LIVE}MATCH (g:Group) USING INDEX g:Group(score) WHERE g.score >= $min_score "
        "AND EXISTS { MATCH (s:ScoreRecord {group_id: g.group_id}) "
        f"USING INDEX s:ScoreRecord(group_id) WHERE {valid_at()} }} "
        "RETURN g.group_id AS group_id, g.score AS score, g.counties AS counties, "
        "g.lead_region AS lead_region, g.controller AS controller"
    )


def wf_sync_entries() -> str:
    """MERGE ledger entries; on create set everything, on match only the system fields.

    Parameters: ``$rows`` = ``[{"entry_id", "create": {…}, "score", "level"}]``, ``$run_id``,
    ``$now``. Returns the entry ids created by this call (``created_at = $now``).
    """
    return (
        "UNWIND $rows AS row "
        "MERGE (e:LedgerEntry {entry_id: row.entry_id}) "
        "ON CREATE SET e += row.create, e.created_at = $now, e.created_run = $run_id "
        "ON MATCH SET e.last_score = row.score, e.last_level = row.level, "
        "e.last_run = $run_id, e.department = coalesce(e.department, row.create.department), "
        "e.sector = coalesce(e.sector, row.create.sector) "
        "WITH e WHERE e.created_at = $now AND e.created_run = $run_id "
        "RETURN e.entry_id AS entry_id"
    )


def wf_create_entry() -> str:
    """CREATE one ledger entry when absent; returns it (``created`` true when new)."""
    return (
        "MERGE (e:LedgerEntry {entry_id: $entry_id}) "
        "ON CREATE SET e += $props, e.created_at = $now "
        "RETURN e {.*} AS entry, e.created_at = $now AS created"
    )


def wf_enterprise_subject() -> str:
    """An enterprise to add to a ledger, with its ScoreRecord of ``$run_id`` when scored."""
    return (
        f"{_AT_LIVE}MATCH (t:Enterprise {{uscc: $key}}) "
        f"OPTIONAL MATCH (t)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        "RETURN t.name AS name, t.county AS county, s.score AS score, s.level AS level, "
        "s.sector AS sector, s.department AS department, s.reasons AS reasons"
    )


def wf_link_entries(target: str) -> str:
    """``(LedgerEntry)-[:LEDGER_FOR]->(target)`` for ``$rows`` = ``[{entry_id, key}]``."""
    tkey = NODE_BY_LABEL[label(target)].key
    if target not in REL_BY_TYPE["LEDGER_FOR"].targets:
        raise CypherBuildError(f"LEDGER_FOR cannot point at {target}")
    return (
        "UNWIND $rows AS row MATCH (e:LedgerEntry {entry_id: row.entry_id}) "
        f"MATCH (t:{target} {{{tkey}: row.key}}) MERGE (e)-[:LEDGER_FOR]->(t)"
    )


def wf_create_events() -> str:
    """Append immutable history rows to ledger entries (never updated afterwards)."""
    return (
        "UNWIND $rows AS row MATCH (e:LedgerEntry {entry_id: row.entry_id}) "
        "CREATE (ev:LedgerEvent {event_id: row.event_id, entry_id: row.entry_id, "
        "user: row.user, action: row.action, at: row.at, changes: row.changes, "
        "note: row.note})-[:EVENT_OF]->(e)"
    )


def wf_entry() -> str:
    return "MATCH (e:LedgerEntry {entry_id: $entry_id}) RETURN e {.*} AS entry"


def wf_entries() -> str:
    """Entries of the counties ``$counties``; ``$status`` null for all statuses."""
    return (
        "MATCH (e:LedgerEntry) WHERE e.county IN $counties "
        "AND ($status IS NULL OR e.status = $status) "
        "RETURN e {.*} AS entry ORDER BY e.county, e.created_at, e.entry_id"
    )


def wf_history() -> str:
    return (
        "MATCH (ev:LedgerEvent {entry_id: $entry_id}) "
        "RETURN ev {.*} AS event ORDER BY ev.at, ev.event_id"
    )


def wf_county_events() -> str:
    """History rows of a county's entries with ``$start <= at < $end``."""
    return (
        "MATCH (ev:LedgerEvent)-[:EVENT_OF]->(e:LedgerEntry {county: $county}) "
        "WHERE ev.at >= $start AND ev.at < $end "
        "RETURN ev {.*} AS event, e.name AS name, e.subject_key AS subject_key "
        "ORDER BY ev.at, ev.event_id"
    )


def wf_update_entry() -> str:
    """Set editable fields when the entry is still at ``$version`` (optimistic check)."""
    return (
        "MATCH (e:LedgerEntry {entry_id: $entry_id}) "
        "WHERE coalesce(e.version, 0) = $version "
        "SET e += $changes, e.updated_at = $at, e.updated_by = $user, "
        "e.version = coalesce(e.version, 0) + 1 "
        "CREATE (ev:LedgerEvent {event_id: $event_id, entry_id: $entry_id, user: $user, "
        "action: $action, at: $at, changes: $changes_json, note: $note})-[:EVENT_OF]->(e) "
        "RETURN e.entry_id AS entry_id"
    )


def wf_transition() -> str:
    """Move an entry from ``$source`` to ``$target`` (no-op when the status moved meanwhile)."""
    return (
        "MATCH (e:LedgerEntry {entry_id: $entry_id}) WHERE e.status = $source "
        "SET e.status = $target, e.updated_at = $at, e.updated_by = $user, "
        "e.reason_code = $reason_code, e.version = coalesce(e.version, 0) + 1, "
        "e.closed_at = CASE WHEN $closed THEN coalesce(e.closed_at, $at) ELSE null END, "
        "e.closed_by = CASE WHEN $closed THEN coalesce(e.closed_by, $user) ELSE null END, "
        "e.overdue = CASE WHEN $closed THEN false ELSE e.overdue END "
        "CREATE (ev:LedgerEvent {event_id: $event_id, entry_id: $entry_id, user: $user, "
        "action: 'status', at: $at, changes: $changes_json, note: $note})-[:EVENT_OF]->(e) "
        "RETURN e.entry_id AS entry_id"
    )


def wf_record_outcome() -> str:
    """An Outcome for the subject of a closed entry (calibration feedback)."""
    return (
        "MATCH (e:LedgerEntry {entry_id: $entry_id})-[:LEDGER_FOR]->(t) "
        "WHERE t:Enterprise OR t:Group "
        "CREATE (o:Outcome {outcome_id: $outcome_id, verdict: $verdict, "
        "reason_code: $reason_code, status: $status, user: $user, at: $at, "
        "entry_id: $entry_id, county: e.county, subject_kind: e.subject_kind, "
        "subject_key: e.subject_key, uscc: CASE WHEN t:Enterprise THEN t.uscc END, "
        "group_id: CASE WHEN t:Group THEN t.group_id END}) "
        "CREATE (o)-[:OUTCOME_FOR]->(t) CREATE (o)-[:OUTCOME_OF]->(e) "
        "RETURN o.outcome_id AS outcome_id"
    )


def wf_outcomes() -> str:
    return (
        "MATCH (o:Outcome {entry_id: $entry_id}) RETURN o {.*} AS outcome ORDER BY o.at"
    )


def wf_mark_overdue() -> str:
    """Set ``overdue`` on every entry to (open AND deadline before ``$today``)."""
    return (
        "MATCH (e:LedgerEntry) "
        "WITH e, (e.status IN $open AND e.deadline IS NOT NULL AND e.deadline <> '' "
        "AND e.deadline < $today) AS od "
        "WHERE e.overdue IS NULL OR e.overdue <> od SET e.overdue = od "
        "RETURN count(e) AS changed"
    )


def wf_old_case_closure() -> str:
    """Per county: entries open at ``$year_start`` (陈案) and how many closed by ``$year_end``.
    """
    return (
        "MATCH (e:LedgerEntry) WHERE e.county IN $counties AND e.created_at < $year_start "
        "AND (e.closed_at IS NULL OR e.closed_at >= $year_start) "
        "RETURN e.county AS county, count(e) AS old_cases, "
        "sum(CASE WHEN e.closed_at IS NOT NULL AND e.closed_at < $year_end "
        "THEN 1 ELSE 0 END) AS closed"
    )


def wf_county_scores() -> str:
    """ScoreRecords of ``$run_id`` in ``$county``."""
    return (
        f"{_AT_LIVE}MATCH (s:ScoreRecord) WHERE {valid_at()} AND s.county = $county "
        "RETURN s.uscc AS uscc, s.name AS name, s.score AS score, s.level AS level, "
        "s.reasons AS reasons, s.sector AS sector, s.department AS department, "
        "s.group_id AS group_id, s.cross_region AS cross_region ORDER BY s.score DESC"
    )


def wf_groups_touching() -> str:
    """Cross-region groups whose counties include ``$county``, with the county's members."""
    return (
        "MATCH (g:Group) WHERE g.cross_region = true AND $county IN coalesce(g.counties, []) "
        "OPTIONAL MATCH (m:Enterprise)-[:MEMBER_OF]->(g) WHERE m.county = $county "
        "WITH g, collect(m.name) AS local_members "
        "RETURN g {.*} AS grp, local_members ORDER BY g.group_id"
    )


def wf_county_police() -> str:
    """Police clues naming the subjects of a county's ledger entries; ``ended``: the full
    delivery that no longer held the clue (or its link), if any."""
    return (
        "MATCH (e:LedgerEntry {county: $county})-[:LEDGER_FOR]->(t:Enterprise)"
        "-[r:SUBJECT_OF]->(c:PoliceClue) "
        "RETURN e.entry_id AS entry_id, t.name AS name, t.uscc AS uscc, r.role AS role, "
        "c {.*} AS clue, coalesce(c.ended, r.ended) AS ended ORDER BY c.clue_no"
    )


def wf_county_assets() -> str:
    """Court cases where an enterprise of a county's ledger (an entry's own enterprise, or a
    member in ``$county`` of an entry's group) is the debtor: 被执行人 in enforcement, or
    被告/被告人 in a criminal fundraising case (``$crimes``) or a case ended 终结本次执行;
    ``ended``: the full delivery that no longer held the case (or its link), if any."""
    return (
        "MATCH (e:LedgerEntry {county: $county})-[:LEDGER_FOR]->(x) "
        "MATCH (t:Enterprise)-[:MEMBER_OF*0..1]->(x) WHERE t = x OR t.county = $county "
        "MATCH (t)-[r:PARTY_TO]->(c:CourtCase) "
        "WHERE r.role = '被执行人' OR (r.role IN ['被告', '被告人'] "
        "AND (c.cause IN $crimes OR c.status = '终结本次执行')) "
        "RETURN DISTINCT t.name AS name, t.uscc AS uscc, r.role AS role, c {.*} AS court, "
        "coalesce(c.ended, r.ended) AS ended ORDER BY court.case_no, uscc"
    )


def wf_county_tips() -> str:
    """Public tips (信访/举报) about enterprises of ``$county``; ``ended``: the full delivery
    that no longer held the tip (or its link), if any."""
    return (
        "MATCH (t:Enterprise {county: $county})-[r:TIPPED_IN]->(tip:Tip) "
        "RETURN t.name AS name, t.uscc AS uscc, tip {.*} AS tip, "
        "coalesce(tip.ended, r.ended) AS ended ORDER BY tip.tip_no"
    )


def wf_group() -> str:
    return "MATCH (g:Group {group_id: $group_id}) RETURN g {.*} AS grp"


def wf_group_members() -> str:
    """Members of a group with their ScoreRecord of ``$run_id`` (may be null)."""
    return (
        f"{_AT_LIVE}MATCH (m:Enterprise)-[:MEMBER_OF]->(g:Group {{group_id: $group_id}}) "
        f"OPTIONAL MATCH (m)-[:SCORED_AS]->(s:ScoreRecord) WHERE {valid_at()} "
        "RETURN m.uscc AS uscc, m.name AS name, m.county AS county, m.legal_rep AS legal_rep, "
        "m.address AS address, s.score AS score, s.level AS level, s.reasons AS reasons, "
        "s.explanation AS explanation ORDER BY m.county, m.uscc"
    )


def wf_group_investors() -> str:
    """Distinct plaintiffs (``$plaintiff_roles``) against members, and payers into members,
    counted by their region; current facts only (not ``ended``), as the scoring counts them."""
    return (
        "MATCH (m:Enterprise)-[:MEMBER_OF]->(:Group {group_id: $group_id}) "
        "CALL (m) { "
        "MATCH (m)-[d:PARTY_TO]->(c:CourtCase)<-[p:PARTY_TO]-(x) "
        "WHERE p.role IN $plaintiff_roles AND (x:Person OR x:Party) "
        "AND d.ended IS NULL AND p.ended IS NULL AND c.ended IS NULL RETURN x "
        "UNION "
        "MATCH (x:Person)-[y:PAYS]->(m) WHERE y.ended IS NULL RETURN x } "
        "WITH DISTINCT x "
        "RETURN coalesce(x.region, '') AS region, count(x) AS investors ORDER BY region"
    )


def wf_controller() -> str:
    """Name and region of a controller key (Person pid, Party id or Enterprise uscc)."""
    return (
        "OPTIONAL MATCH (p:Person {pid: $key}) OPTIONAL MATCH (q:Party {party_id: $key}) "
        "OPTIONAL MATCH (c:Enterprise {uscc: $key}) "
        "RETURN coalesce(p.name, q.name, c.name) AS name, "
        "coalesce(p.region, c.county) AS region"
    )


def wf_set_handoff() -> str:
    """Move a group's hand-off status from ``$source`` to ``$target`` with a history row."""
    return (
        "MATCH (g:Group {group_id: $group_id}) "
        "WHERE coalesce(g.handoff_status, 'none') = $source "
        "SET g.handoff_status = $target, g.handoff_updated = $at, g.handoff_by = $user, "
        "g.handoff_lead = coalesce($lead, g.handoff_lead) "
        "CREATE (ev:LedgerEvent {event_id: $event_id, entry_id: $history_key, user: $user, "
        "action: 'handoff', at: $at, changes: $changes_json, note: $note})-[:EVENT_OF]->(g) "
        "RETURN g.group_id AS group_id"
    )


# --- ingest ---------------------------------------------------------------------------------
# Owned by ingest/. Visibility protocol (see ingest/__init__.py): nodes and relationships
# created by a file carry ``pending = $load_id`` until the file is committed; records owned by
# a table carry ``rec`` and ``seen = $load_id`` so a full snapshot can end what it omits.

_INGEST_MODES = ("record", "update", "stub")


INGEST_BATCH_NOTE = """The rows come inside a map (``$batch.rows``, ``$batch.ids``): Neo4j
plans a query again for each size class of a list parameter (1, up to 10, up to 100 … rows:
a plan made for 1 row was not reused for 2, 10, 100 or 1,500 rows, one made for 1,000 rows was
for 877; a scale-25 server, session 16), but not for a list inside a map, so every batch size
shares one plan, and :mod:`ingest.warmup` can plan it ahead with one sample row."""


def ingest_merge_nodes(label_name: str, mode: str) -> str:
    """MERGE nodes of ``label_name`` from ``$batch.rows`` = ``[{key, props}]`` under
    ``$load_id`` (:data:`INGEST_BATCH_NOTE`).

    ``record``: props replace (``+=``) and ``seen`` is stamped; ``update``: props are added;
    ``stub``: props are set only when the node is created (never overwrite a full record).
    Returns ``pending``: the internal ids of the nodes still carrying ``pending = $load_id``
    (created by this load, now or in a crashed attempt) — exactly what finalising must clear
    (:func:`ingest_finalise_node_ids`).
    ``$common`` holds the properties every row of the batch shares (provenance, ``rec``…),
    applied before ``row.props`` (sent once per batch instead of once per row).
    """
    if mode not in _INGEST_MODES:
        raise CypherBuildError(f"unknown ingest mode {mode!r}")
    key = NODE_BY_LABEL[label(label_name)].key
    head = (f"UNWIND $batch.rows AS row MERGE (n:{label_name} {{{key}: row.key}}) "
            "ON CREATE SET n.pending = $load_id")
    tail = " WITH n WHERE n.pending = $load_id RETURN collect(id(n)) AS pending"
    if mode == "stub":
        return head + ", n += $common, n += row.props" + tail
    if mode == "record":
        return head + " SET n += $common, n += row.props, n.seen = $load_id" + tail
    return head + " SET n += $common, n += row.props" + tail


def ingest_merge_relationships(type_name: str, source: str, target: str, record: bool) -> str:
    """MERGE relationships from ``$batch.rows`` = ``[{src, dst, rk, props}]`` under
    ``$load_id`` (:data:`INGEST_BATCH_NOTE`).

    Returns ``written`` (rows whose two endpoints exist) and ``pending`` (the internal ids
    of the relationships still carrying ``pending = $load_id``). ``$common``: properties
    shared by every row of the batch, applied before ``row.props``."""
    spec = REL_BY_TYPE[rel_type(type_name)]
    if source not in spec.sources or target not in spec.targets:
        raise CypherBuildError(f"{source}-[:{type_name}]->{target} is not declared")
    skey = NODE_BY_LABEL[source].key
    tkey = NODE_BY_LABEL[target].key
    seen = ", r.seen = $load_id" if record else ""
    return (
        f"UNWIND $batch.rows AS row MATCH (a:{source} {{{skey}: row.src}}) "
        f"MATCH (b:{target} {{{tkey}: row.dst}}) "
        f"MERGE (a)-[r:{type_name} {{rk: row.rk}}]->(b) ON CREATE SET r.pending = $load_id "
        f"SET r += $common, r += row.props{seen} "
        "RETURN count(r) AS written, collect(CASE WHEN r.pending = $load_id "
        "THEN id(r) END) AS pending"
    )


def ingest_finalise_node_ids() -> str:
    """Remove ``pending = $load_id`` from the nodes whose internal ids are ``$batch.ids`` (as the
    merge queries returned them; id seeks, whatever the label). One query for every label:
    an increment's files used to compile a finalising query per label and per relationship
    type and endpoints, each planned once per server start (0.1-0.3 s of server CPU)."""
    return ("UNWIND $batch.ids AS i MATCH (n) WHERE id(n) = i AND n.pending = $load_id "
            "REMOVE n.pending")


def ingest_finalise_relationship_ids() -> str:
    """Remove ``pending = $load_id`` from the relationships whose internal ids are
    ``$batch.ids`` (id seeks, whatever the type)."""
    return ("UNWIND $batch.ids AS i MATCH ()-[r]->() WHERE id(r) = i AND r.pending = $load_id "
            "REMOVE r.pending")


def ingest_existing_keys(label_name: str) -> str:
    """The keys among ``$keys`` that exist as ``label_name`` nodes (index seeks)."""
    key = NODE_BY_LABEL[label(label_name)].key
    return (f"UNWIND $keys AS k MATCH (n:{label_name} {{{key}: k}}) "
            "RETURN collect(k) AS found")


def ingest_finalise_nodes(label_name: str) -> str:
    """Remove ``pending`` from the nodes of one load (auto-commit, batched)."""
    return (f"MATCH (n:{label(label_name)}) WHERE n.pending = $load_id "
            "CALL (n) { REMOVE n.pending } IN TRANSACTIONS OF 10000 ROWS")


def ingest_finalise_relationships(type_name: str) -> str:
    return (f"MATCH ()-[r:{rel_type(type_name)}]->() WHERE r.pending = $load_id "
            "CALL (r) { REMOVE r.pending } IN TRANSACTIONS OF 10000 ROWS")


_NOT_SEEN = ("{x}.rec = $rec AND NOT {x}.seen IN $loads AND {x}.ended IS NULL "
             "AND NOT coalesce({x}.rec_key IN $kept, false)")
"""A record of table ``$rec`` that a full snapshot omits: stamped by none of the snapshot's
loads (``$loads``: the files of the delivery holding the table; a record never stamped is
left alone), and whose record key is not one of the snapshot's quarantined rows
(``$kept``)."""


def ingest_end_nodes(label_name: str, table: str | None = None) -> str:
    """Records of table ``$rec`` a full snapshot omits (:data:`_NOT_SEEN`) get ``ended``.

    On a label that several tables deliver in parts, ``table`` (the snapshot's ``$rec``)
    being one of them, only that table's part ends (:func:`_ingest_end_part`)."""
    part = record_part(label(label_name), table) if table is not None else None
    if part is not None:
        return _ingest_end_part(label_name, part)
    return (f"MATCH (n:{label_name}) WHERE {_NOT_SEEN.format(x='n')} "
            "CALL (n) { SET n.ended = $ended, n.ended_run = $run_id } "
            "IN TRANSACTIONS OF 10000 ROWS")


def _ingest_end_part(label_name: str, part: RecordPart) -> str:
    """The nodes whose ``part`` the snapshot omits (stamped by none of ``$loads``, not ended,
    ``rec_key`` not in ``$kept``) get ``ended_<part>``; the node is ended (``ended``,
    ``ended_run``) when no other part is current (stamped and not ended), and current
    otherwise: the other tables' facts of the record stay."""
    others = [p for p in NODE_BY_LABEL[label_name].parts if p != part]
    current = " OR ".join(f"(n.{prop(p.seen)} IS NOT NULL AND n.{prop(p.ended)} IS NULL)"
                          for p in others) or "false"
    seen, ended = prop(part.seen), prop(part.ended)
    return (f"MATCH (n:{label_name}) WHERE n.{seen} IS NOT NULL AND NOT n.{seen} IN $loads "
            f"AND n.{ended} IS NULL AND NOT coalesce(n.rec_key IN $kept, false) "
            f"WITH n, {current} AS current "
            f"CALL (n, current) {{ SET n.{ended} = $ended, "
            "n.ended = CASE WHEN current THEN null ELSE $ended END, "
            "n.ended_run = CASE WHEN current THEN null ELSE $run_id END } "
            "IN TRANSACTIONS OF 10000 ROWS")


def ingest_end_relationships(type_name: str) -> str:
    return (f"MATCH ()-[r:{rel_type(type_name)}]->() WHERE {_NOT_SEEN.format(x='r')} "
            "CALL (r) { SET r.ended = $ended, r.ended_run = $run_id } "
            "IN TRANSACTIONS OF 10000 ROWS")


def ingest_enterprises_by_name() -> str:
    """Enterprises whose normalised name equals one of ``$norms`` (paired with ``$names``)."""
    return ("UNWIND range(0, size($names) - 1) AS i WITH $names[i] AS q, $norms[i] AS nn "
            "WHERE nn IS NOT NULL MATCH (e:Enterprise {name_norm: nn}) "
            "RETURN q, e.uscc AS uscc")


def ingest_persons_linked() -> str:
    """Persons linked (legal rep, shareholder, officer) to the enterprises ``$usccs``."""
    return ("UNWIND $usccs AS u MATCH (e:Enterprise {uscc: u})"
            "<-[:LEGAL_REP_OF|SHAREHOLDER_OF|OFFICER_OF]-(p:Person) "
            "RETURN DISTINCT u AS uscc, p.pid AS pid, p.name AS name, p.id_masked AS id_masked")


def ingest_loaded_files() -> str:
    return ("MATCH (f:LoadedFile) RETURN f.file_id AS file_id, f.status AS status, "
            "f.load_id AS load_id, f.source AS source, f.kind AS kind, f.delivery AS delivery, "
            "f.counts AS counts, f.labels AS labels, f.types AS types, f.name AS name, "
            "f.rec_labels AS rec_labels, f.rec_types AS rec_types, f.kept AS kept, "
            "f.end_tables AS end_tables")


def ingest_mark_file() -> str:
    """Create/update the LoadedFile ``$file_id`` and its Delivery in ONE transaction (the
    commit point of a file)."""
    return ("MERGE (d:Delivery {delivery_id: $delivery_id}) SET d += $delivery "
            "MERGE (f:LoadedFile {file_id: $file_id}) SET f += $props "
            "MERGE (f)-[l:LOADED_IN {rk: ''}]->(d)")


def ingest_mark_run() -> str:
    return "MERGE (r:Run {run_id: $run_id}) SET r += $props"


def dash_node_names() -> str:
    """Display facts of the node keys ``$keys`` (from explanation paths): ``label``,
    ``visible``, ``in_counties``, ``name``, ``county`` and ``region``. Enterprises outside the
    scope (``$counties``; ``$sector`` by their record of run ``$run_id``) and persons / parties
    outside its territory come back invisible with no name (the caller shows 外县企业 /
    其他行业企业 / 外县人员); a key that is no node is invisible to any limited scope (fail
    closed); persons masked unless ``$can_see_persons``."""
    return (
        f"{_AT_LIVE}UNWIND $keys AS k "
        "OPTIONAL MATCH (e:Enterprise {uscc: k}) "
        f"OPTIONAL MATCH (s:ScoreRecord {{uscc: k}}) WHERE {valid_at()} "
        "OPTIONAL MATCH (p:Person {pid: k}) "
        "OPTIONAL MATCH (x:Party {party_id: k}) "
        "WITH k, e, s, p, x, coalesce(p, x) AS q "
        "WITH k, e, s, p, x, q, CASE WHEN e IS NOT NULL THEN 'Enterprise' "
        "WHEN p IS NOT NULL THEN 'Person' WHEN x IS NOT NULL THEN 'Party' END AS label, "
        f"CASE WHEN e IS NOT NULL THEN {_dash_enterprise_in_scope('e', 's')} "
        f"WHEN q IS NOT NULL THEN {_dash_person_in_scope('q')} "
        "ELSE ($counties IS NULL AND $sector IS NULL) END AS visible "
        "RETURN k AS key, label, visible, "
        "($counties IS NULL OR e.county IN $counties) AS in_counties, "
        "CASE WHEN NOT visible THEN null WHEN e IS NOT NULL THEN e.name "
        "WHEN p IS NOT NULL AND $can_see_persons THEN p.name "
        "WHEN p IS NOT NULL THEN p.name_masked WHEN x IS NOT NULL THEN x.name END AS name, "
        "e.county AS county, "
        "CASE WHEN visible THEN coalesce(p.region, x.region) END AS region"
    )


# --- security ---------------------------------------------------------------------------------
# Owned by security/ (local accounts, lockout, audit). Values only as parameters. AuditEvent is
# append-only: the only builders naming it are one CREATE and MATCH … RETURN reads (a test scans
# this module for that); there is deliberately no update or delete builder for it.


def security_user_create() -> str:
    """Create user ``$username`` with ``$props`` unless it exists; ``created`` is true only
    when this call created it (``$props.user_id`` is fresh)."""
    return (
        "MERGE (u:User {username: $username}) ON CREATE SET u += $props "
        "RETURN u.user_id = $props.user_id AS created"
    )


def security_user_get() -> str:
    """User ``$username`` as a property map."""
    return "MATCH (u:User {username: $username}) RETURN properties(u) AS user"


def security_user_by_email() -> str:
    """Users whose ``email`` equals ``$email`` (OIDC mapping)."""
    return "MATCH (u:User) WHERE u.email = $email RETURN properties(u) AS user LIMIT 2"


def security_users_list() -> str:
    """Every user, by username."""
    return "MATCH (u:User) RETURN properties(u) AS user ORDER BY u.username"


def security_user_disable() -> str:
    """Disable user ``$username`` at ``$at``."""
    return (
        "MATCH (u:User {username: $username}) SET u.disabled = true, u.disabled_at = $at "
        "RETURN u.username AS username"
    )


def security_user_enable() -> str:
    """Enable user ``$username`` again at ``$at`` (lockout counters cleared)."""
    return (
        "MATCH (u:User {username: $username}) SET u.disabled = false, u.enabled_at = $at, "
        "u.failed_logins = 0, u.locked_until = null "
        "RETURN u.username AS username"
    )


def security_user_set_password() -> str:
    """Replace the password hash of user ``$username`` (``$pw_hash``, ``$pw_salt``,
    ``$pw_alg``) at ``$at``; lockout counters cleared."""
    return (
        "MATCH (u:User {username: $username}) SET u.pw_hash = $pw_hash, "
        "u.pw_salt = $pw_salt, u.pw_alg = $pw_alg, u.password_changed = $at, "
        "u.failed_logins = 0, u.locked_until = null "
        "RETURN u.username AS username"
    )


def security_login_failed() -> str:
    """Count one failed sign-in of ``$username``; at ``$max_failures`` the account is locked
    until ``$until`` and the counter restarts."""
    return (
        "MATCH (u:User {username: $username}) "
        "WITH u, coalesce(u.failed_logins, 0) + 1 AS n "
        "SET u.failed_logins = CASE WHEN n >= $max_failures THEN 0 ELSE n END, "
        "u.locked_until = CASE WHEN n >= $max_failures THEN $until ELSE u.locked_until END, "
        "u.last_failed = $at "
        "RETURN n >= $max_failures AS locked"
    )


def security_login_ok() -> str:
    """A successful sign-in of ``$username`` at ``$at``: counters cleared."""
    return (
        "MATCH (u:User {username: $username}) "
        "SET u.failed_logins = 0, u.locked_until = null, u.last_login = $at "
        "RETURN u.username AS username"
    )


def security_audit_create() -> str:
    """Append one audit event (every property a parameter)."""
    return (
        "CREATE (e:AuditEvent {event_id: $event_id, user: $user, role: $role, "
        "action: $action, target: $target, detail: $detail, at: $at}) "
        "RETURN e.event_id AS event_id"
    )


def security_audit_list(newest_first: bool = True) -> str:
    """Audit events filtered by ``$user``, ``$action``, ``$since`` (each may be null), newest
    (or oldest) first, at most ``$limit``."""
    order = "DESC" if newest_first else "ASC"
    return (
        "MATCH (e:AuditEvent) WHERE ($user IS NULL OR e.user = $user) "
        "AND ($action IS NULL OR e.action = $action) AND ($since IS NULL OR e.at >= $since) "
        f"RETURN properties(e) AS event ORDER BY e.at {order}, e.event_id {order} LIMIT $limit"
    )


# --- calibration ------------------------------------------------------------------------------
# Outcomes recorded outside the ledger (``riskgraph outcomes``) and stored model versions
# (``riskgraph calibrate``); see analytics/outcomes.py and analytics/model_store.py.


def cal_write_outcomes() -> str:
    """``$rows`` of ``{outcome_id, uscc, props}``: one Outcome per row for an existing
    Enterprise (same shape as the ledger's), linked OUTCOME_FOR; MERGE on ``outcome_id`` so a
    re-run adds nothing. Returns the ids written (rows without an enterprise are dropped)."""
    return (
        "UNWIND $rows AS row "
        "MATCH (t:Enterprise {uscc: row.uscc}) "
        "MERGE (o:Outcome {outcome_id: row.outcome_id}) "
        "ON CREATE SET o += row.props, o.uscc = t.uscc, o.county = t.county, "
        "o.subject_kind = 'E', o.subject_key = t.uscc "
        "MERGE (o)-[:OUTCOME_FOR]->(t) "
        "RETURN o.outcome_id AS outcome_id, o.uscc AS uscc"
    )


def cal_latest_outcomes() -> str:
    """The latest Outcome per Enterprise (by ``at``, then ``outcome_id``), ledger or not."""
    return (
        "MATCH (o:Outcome)-[:OUTCOME_FOR]->(e:Enterprise) "
        "WITH e, o ORDER BY o.at DESC, o.outcome_id DESC "
        "WITH e, collect(o)[0] AS o "
        "RETURN e.uscc AS uscc, o.verdict AS verdict, o.reason_code AS reason_code, "
        "o.user AS user, o.at AS at, o.outcome_id AS outcome_id, o.origin AS origin "
        "ORDER BY uscc"
    )


def cal_outcome_history() -> str:
    """Every Outcome of Enterprise ``$uscc``, oldest first."""
    return (
        "MATCH (o:Outcome)-[:OUTCOME_FOR]->(e:Enterprise {uscc: $uscc}) "
        "RETURN o {.*} AS outcome ORDER BY o.at, o.outcome_id"
    )


def cal_model_create() -> str:
    """Store a ModelVersion (inactive); MERGE on ``version`` so storing twice is a no-op."""
    return (
        "MERGE (m:ModelVersion {version: $version}) "
        "ON CREATE SET m.kind = $kind, m.name = $name, m.model_json = $model_json, "
        "m.cv_metrics = $cv_metrics, m.created = $created, m.parent = $parent, "
        "m.active = false "
        "RETURN m.version AS version"
    )


def cal_model_activate() -> str:
    """Make ModelVersion ``$version`` the one active version (others become inactive)."""
    return (
        "MATCH (m:ModelVersion {version: $version}) "
        "OPTIONAL MATCH (o:ModelVersion {active: true}) WHERE o.version <> $version "
        "SET o.active = false, o.deactivated = $at "
        "WITH DISTINCT m "
        "SET m.active = true, m.activated = $at "
        "RETURN m.version AS version"
    )


def cal_model_deactivate_all() -> str:
    """No active ModelVersion: scoring falls back to the hand-set weights of the code."""
    return (
        "MATCH (m:ModelVersion {active: true}) SET m.active = false, m.deactivated = $at "
        "RETURN m.version AS version"
    )


def cal_model_active() -> str:
    return (
        "MATCH (m:ModelVersion {active: true}) "
        "RETURN properties(m) AS model ORDER BY m.activated DESC LIMIT 1"
    )


def cal_model_get() -> str:
    return "MATCH (m:ModelVersion {version: $version}) RETURN properties(m) AS model"


def cal_model_list() -> str:
    """Every stored ModelVersion (without the model JSON), oldest first."""
    return (
        "MATCH (m:ModelVersion) "
        "RETURN m {.version, .kind, .name, .created, .parent, .active, .activated, "
        ".cv_metrics} AS model ORDER BY m.created, m.version"
    )


# --- bulk first load (ingest/bulk.py) ---------------------------------------------------------


def bulk_data_probe(kept: Sequence[str]) -> str:
    """``nodes``: 1 when some node has none of the ``kept`` labels (bookkeeping: runs, schema
    migrations, users, audit rows), else 0 — stops at the first such node; ``rels``: all
    relationships (count store)."""
    where = " OR ".join(f"n:{label(k)}" for k in kept) or "false"
    return (f"CALL () {{ MATCH (n) WHERE NOT ({where}) RETURN n LIMIT 1 }} "
            "WITH count(n) AS nodes CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } "
            "RETURN nodes, rels")


def bulk_kept_nodes(kept: Sequence[str]) -> str:
    """The bookkeeping nodes of an otherwise empty graph (kept across a bulk import)."""
    where = " OR ".join(f"n:{label(k)}" for k in kept) or "false"
    return f"MATCH (n) WHERE {where} RETURN labels(n) AS labels, properties(n) AS props"


def bulk_restore_nodes(label_name: str) -> str:
    """Re-create kept nodes ``$rows`` = ``[{key, props}]`` exactly (``SET n = props``)."""
    key = NODE_BY_LABEL[label(label_name)].key
    return (f"UNWIND $rows AS row MERGE (n:{label_name} {{{key}: row.key}}) "
            "SET n = row.props")


def await_indexes(seconds: int = 3600) -> str:
    """Wait until every index is online (after creating them on an imported store)."""
    return f"CALL db.awaitIndexes({int(seconds)})"


def ping() -> str:
    return "RETURN 1 AS ok"
