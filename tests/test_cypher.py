"""Cypher builders accept only declared labels/types and never embed values."""

import pytest

from graph import cypher
from graph.model import NODES, RELATIONSHIPS


def test_every_declared_label_gets_a_unique_constraint() -> None:
    statements = cypher.schema_statements()
    for spec in NODES:
        assert any(f"(n:{spec.label}) REQUIRE n.{spec.key} IS UNIQUE" in s for s in statements)


def test_undeclared_label_or_type_is_refused() -> None:
    with pytest.raises(cypher.CypherBuildError):
        cypher.merge_nodes("Enterprise) DETACH DELETE (n")
    with pytest.raises(cypher.CypherBuildError):
        cypher.merge_relationships("OWNS_EVERYTHING", "Person", "Enterprise")
    with pytest.raises(cypher.CypherBuildError):
        cypher.merge_relationships("BRANCH_OF", "Person", "Enterprise")  # undeclared endpoints
    with pytest.raises(cypher.CypherBuildError):
        cypher.count_label("x` MATCH (n) DETACH DELETE n //")


def test_writes_are_parameterised_merges() -> None:
    for spec in RELATIONSHIPS:
        query = cypher.merge_relationships(spec.type, spec.sources[0], spec.targets[0])
        assert query.startswith("UNWIND $rows AS row") and "MERGE" in query
    assert "$rows" in cypher.merge_nodes("Enterprise")
