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


def test_migration_stamps_the_parts_of_tax_years_written_before_parts(clean_db) -> None:
    """Migration 3: a TaxYear from before parts gets the stamps of each part its table wrote
    (the last writer's ``rec``, or a property only that table writes), from the node's own
    ``seen``; ``ended`` goes to the ``rec`` table's part only (the only table whose snapshot
    could end it), and a node another part keeps current is current again. A part nothing
    shows is left unstamped. Run again, nothing moves."""
    legacy = [
        {"tax_id": "X|2022", "year": 2022, "rec": "tax/申报汇总", "seen": "L:b",
         "revenue_yuan": 1.0, "ended": "2024-01-01"},
        {"tax_id": "X|2023", "year": 2023, "rec": "tax/申报汇总", "seen": "L:a",
         "revenue_yuan": 1.0, "tax_status": "正常"},
        {"tax_id": "X|2024", "year": 2024, "rec": "tax/纳税人信息", "seen": "L:c",
         "credit_grade": "D"},
        # ended by a 纳税人信息 snapshot although it holds a declaration: current again
        {"tax_id": "X|2021", "year": 2021, "rec": "tax/纳税人信息", "seen": "L:d",
         "credit_grade": "B", "zero_months": 9, "ended": "2024-02-01", "ended_run": "R1"},
    ]
    access.write(clean_db, "UNWIND $rows AS p CREATE (t:TaxYear) SET t = p", {"rows": legacy})
    assert 3 in schema.apply_schema(clean_db)

    def stamps() -> dict[str, tuple]:
        rows = access.read(clean_db, "MATCH (t:TaxYear) RETURN t.tax_id AS k, "
                           "[t.seen_taxpayer, t.ended_taxpayer, t.seen_declaration, "
                           "t.ended_declaration, t.ended, t.ended_run] AS s")
        return {r["k"]: tuple(r["s"]) for r in rows}

    want = {"X|2022": (None, None, "L:b", "2024-01-01", "2024-01-01", None),
            "X|2023": ("L:a", None, "L:a", None, None, None),
            "X|2024": ("L:c", None, None, None, None, None),
            "X|2021": ("L:d", "2024-02-01", "L:d", None, None, None)}
    assert stamps() == want
    for statement in cypher.migrate_record_parts():
        access.run_batched(clean_db, statement)
    assert stamps() == want
