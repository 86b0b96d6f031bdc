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
