"""The database schema is generated from the model declaration and checked against it."""

from graph import access, cypher, schema
from graph.model import NODES


def test_apply_schema_is_idempotent_and_matches_declaration(driver) -> None:
    schema.apply_schema(driver)
    schema.apply_schema(driver)
    assert schema.schema_differences(driver) == []
    versions = [r["version"] for r in access.read(driver, cypher.applied_migrations())]
    assert versions == sorted(set(versions)) and 1 in versions


def test_differences_are_reported_when_database_and_model_disagree(driver) -> None:
    schema.apply_schema(driver)
    spec = NODES[0]
    name = cypher.constraint_name(spec.label, spec.key)
    access.write(driver, cypher.drop_constraint(name))
    access.write(driver, "CREATE INDEX stray_idx IF NOT EXISTS FOR (n:Enterprise) ON (n.stray)")
    try:
        diffs = schema.schema_differences(driver)
        assert any(name in d and d.startswith("missing") for d in diffs)
        assert any("stray_idx" in d and d.startswith("undeclared") for d in diffs)
    finally:
        access.write(driver, cypher.drop_index("stray_idx"))
        schema.apply_schema(driver)
    assert schema.schema_differences(driver) == []


def test_key_uniqueness_is_enforced_by_the_database(driver) -> None:
    schema.apply_schema(driver)
    rows = [{"key": "91110000600037341L", "props": {"name": "甲"}}]
    access.merge_nodes(driver, "Enterprise", rows)
    access.merge_nodes(driver, "Enterprise", rows)
    found = access.read(driver, "MATCH (e:Enterprise {uscc: $u}) RETURN count(e) AS n",
                        {"u": "91110000600037341L"})
    assert found[0]["n"] == 1
    access.write(driver, "MATCH (e:Enterprise {uscc: $u}) DETACH DELETE e",
                 {"u": "91110000600037341L"})


def test_apply_schema_creates_only_what_the_database_lacks(driver, monkeypatch) -> None:
    """A start-up on a complete schema sends no CREATE; a dropped index is the one created."""
    schema.apply_schema(driver)
    sent: list[str] = []
    write = access.write

    def recording(drv, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(query)
        return write(drv, query, *args, **kwargs)

    monkeypatch.setattr(access, "write", recording)
    schema.apply_schema(driver)
    assert not [q for q in sent if q.startswith("CREATE")]
    spec = next(n for n in NODES if n.indexed)
    name = cypher.index_name(spec.label, spec.indexed[0])
    write(driver, cypher.drop_index(name))
    schema.apply_schema(driver)
    assert [q for q in sent if q.startswith("CREATE")] \
        == [cypher.create_range_index(spec.label, spec.indexed[0])]
    assert schema.schema_differences(driver) == []
