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

from graph.model import LABELS, NODE_BY_LABEL, NODES, REL_BY_TYPE, REL_TYPES

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
        "MATCH (s:ScoreRecord {run_id: $run_id}) "
        "RETURN s.level AS level, count(*) AS n"
    )


def alert_candidates() -> str:
    """ScoreRecords of ``$run_id`` that may raise an alert, with the previous run's record.

    Parameters: ``$run_id``, ``$prev_run_id`` (may be null), ``$levels`` (alerting levels),
    ``$jump`` (minimum score rise). Rows: the new record's fields plus ``prev_score``,
    ``prev_level`` (null when the enterprise was not scored in the previous run).
    """
    return (
        "MATCH (s:ScoreRecord {run_id: $run_id}) "
        "OPTIONAL MATCH (p:ScoreRecord {record_id: $prev_run_id + '|' + s.uscc}) "
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
        "MATCH (s:ScoreRecord {run_id: $run_id}) "
        "WHERE s.cross_region = true AND s.group_id IS NOT NULL "
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
