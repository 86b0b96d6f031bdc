"""Bulk first load (ingest/bulk.py): Neo4j's offline importer into an empty local graph.

A dedicated local server (the bulk path stops and restarts it) with RISKGRAPH_BULK_LOAD=auto.
The key test loads the same demo city (a full delivery, then an increment) transactionally and
through the bulk path into the emptied server and compares both graphs canonically (labels,
properties minus run ids/timestamps, relationships with their properties), the ledger, the
ingest reports and the quarantine files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest

from graph import access, cypher, server
from graph.connection import connect
from graph.model import NODE_BY_LABEL
from ingest import bulk, warmup
from ingest.pipeline import ingest_inbox
from riskgraph.errors import DatabaseError
from riskgraph.refresh import RefreshFailed, refresh
from riskgraph.settings import Settings
from tests.conftest import TEST_HOME, free_port, local_test_settings

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SCALE = os.environ.get("RISKGRAPH_TEST_BULK_SCALE", "0.02")
VOLATILE = {"run_id", "ended_run", "loaded_at", "started", "finished",  # differ per run
            "recorded", "recorded_by"}  # (the KeyCheck node: when and by which run)
BOOKKEEPING = {"Run", "SchemaMigration"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bulkcity")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RISKGRAPH_", "NEO4J_"))}
    env.update(RISKGRAPH_HOME=str(out / "home"), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "riskgraph.cli", "demo", "generate", "--out",
                    str(out), "--scale", SCALE, "--seed", "5"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=900)
    dates = sorted(p for p in (out / "inbox").iterdir() if p.is_dir())
    assert len(dates) >= 2
    return out / "inbox"


@pytest.fixture(scope="module")
def bulk_settings() -> Iterator[Settings]:
    home = TEST_HOME / f"bulk-{os.getpid()}"
    base = local_test_settings(home, free_port(7960))
    settings = dataclasses.replace(base, bulk_load="auto")
    server.start(settings)
    try:
        yield settings
    finally:
        server.stop(settings)
        server.bulk_finished(settings)


@pytest.fixture(scope="module")
def bdriver(bulk_settings: Settings) -> Iterator[neo4j.Driver]:
    drv = connect(bulk_settings)
    yield drv
    drv.close()


def empty(driver: neo4j.Driver, settings: Settings) -> None:
    with driver.session(database=settings.neo4j_database) as session:
        session.run(cypher.delete_all_batched()).consume()


def _key(labels: list[str], props: dict[str, Any]) -> tuple[str, Any]:
    label = sorted(labels)[0]
    return label, props[NODE_BY_LABEL[label].key]


def dump(driver: neo4j.Driver, settings: Settings) -> dict[str, Any]:
    """The graph without bookkeeping and per-run values: node (labels, props) and
    relationship (type, endpoints, props), each as a sorted list; plus the ledger."""
    db = settings.neo4j_database
    nodes, rels, ledger = [], [], []
    for r in access.read(driver, "MATCH (n) RETURN labels(n) AS l, properties(n) AS p",
                         database=db):
        if set(r["l"]) & BOOKKEEPING:
            continue
        props = {k: v for k, v in r["p"].items() if k not in VOLATILE}
        item = json.dumps([sorted(r["l"]), props], sort_keys=True, ensure_ascii=False,
                          default=str)
        (ledger if set(r["l"]) & {"LoadedFile", "Delivery"} else nodes).append(item)
    for r in access.read(driver, "MATCH (a)-[r]->(b) RETURN type(r) AS t, labels(a) AS la, "
                         "properties(a) AS pa, labels(b) AS lb, properties(b) AS pb, "
                         "properties(r) AS p", database=db):
        props = {k: v for k, v in r["p"].items() if k not in VOLATILE}
        rels.append(json.dumps([r["t"], _key(r["la"], r["pa"]), _key(r["lb"], r["pb"]), props],
                               sort_keys=True, ensure_ascii=False, default=str))
    return {"nodes": sorted(nodes), "rels": sorted(rels), "ledger": sorted(ledger)}


def quarantine(settings: Settings, run_id: str) -> dict[str, str]:
    folder = settings.quarantine_dir / run_id
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv"))}


def report_facts(report: Any) -> list[Any]:
    return [(f.delivery, f.source, f.file, f.status, f.rows_read, f.rows_loaded,
             f.rows_quarantined, f.written, f.party_links, f.unresolved_count)
            for f in report.files]


def data_nodes(driver: neo4j.Driver, settings: Settings) -> int:
    row = access.read(driver, cypher.bulk_data_probe(bulk.KEPT_LABELS),
                      database=settings.neo4j_database)[0]
    return int(row["nodes"]) + int(row["rels"])


def test_bulk_load_equals_transactional(bulk_settings: Settings, bdriver: neo4j.Driver,
                                        city: Path) -> None:
    off = dataclasses.replace(bulk_settings, bulk_load="off")
    empty(bdriver, bulk_settings)
    slow = ingest_inbox(bdriver, dataclasses.replace(off, read_process_mb=1 << 20), city,
                        run_id="ingest-tx")
    assert slow.path == "transactional" and slow.rows_loaded > 0 and slow.reader == "thread"
    want = dump(bdriver, bulk_settings)
    assert want["nodes"] and want["rels"] and want["ledger"]
    shapes_tx = warmup.load_shapes(bulk_settings.ingest_shapes_file)
    bulk_settings.ingest_shapes_file.unlink()

    empty(bdriver, bulk_settings)
    access.write(bdriver, cypher.ingest_mark_run(), {"run_id": "refresh-kept", "props": {
        "kind": "refresh", "started": "2026-01-01T00:00:00+00:00", "tags": ["a", "b"]}},
        database=bulk_settings.neo4j_database)
    # bulk, and every file read in a worker process: the same graph, reports, quarantine
    fast = ingest_inbox(bdriver, dataclasses.replace(bulk_settings, read_process_mb=0), city,
                        run_id="ingest-bulk")
    assert fast.path == "bulk import" and fast.reader == "process", fast.messages
    assert fast.bulk["exit"] == 0 and fast.bulk["counts"]["Enterprise"] > 0
    # the import writes through none of the write queries, but records the same shapes, and
    # they are planned on the restarted server while the caller goes on (ingest/warmup.py)
    assert shapes_tx and warmup.load_shapes(bulk_settings.ingest_shapes_file) == shapes_tx
    assert fast.warm_up["when"] == "after bulk import"
    assert fast.warm_up["planned"] == fast.warm_up["queries"] > 0 and not fast.warm_up["failed"]
    got = dump(bdriver, bulk_settings)
    assert Counter(got["nodes"]) == Counter(want["nodes"])
    assert Counter(got["rels"]) == Counter(want["rels"])
    assert got["ledger"] == want["ledger"]
    assert report_facts(fast) == report_facts(slow)
    assert quarantine(bulk_settings, "ingest-bulk") == quarantine(bulk_settings, "ingest-tx")
    assert quarantine(bulk_settings, "ingest-tx")  # the demo city has bad rows
    # bookkeeping kept across the import, no pending marker, schema in place, CSVs gone
    kept = access.read(bdriver, "MATCH (r:Run {run_id: 'refresh-kept'}) RETURN r.tags AS t",
                       database=bulk_settings.neo4j_database)
    assert kept == [{"t": ["a", "b"]}]
    pending = access.read(bdriver, "MATCH (n) WHERE n.pending IS NOT NULL RETURN count(n) AS n",
                          database=bulk_settings.neo4j_database)
    assert pending[0]["n"] == 0
    from graph.schema import schema_differences
    assert schema_differences(bdriver, bulk_settings.neo4j_database) == []
    assert not list((bulk_settings.home / "bulk").glob("*/*.csv"))
    assert not server.bulk_marker(bulk_settings).exists()

    # a second ingest is a no-op, transactional, graph unchanged
    again = ingest_inbox(bdriver, bulk_settings, city, run_id="ingest-again")
    assert again.path == "transactional"
    assert all(f.status == "skipped" for f in again.files)
    assert dump(bdriver, bulk_settings) == got


def test_bulk_only_into_an_empty_local_graph(bulk_settings: Settings,
                                             bdriver: neo4j.Driver) -> None:
    empty(bdriver, bulk_settings)
    db = bulk_settings.neo4j_database
    access.write(bdriver, cypher.ingest_mark_run(), {"run_id": "r1", "props": {"kind": "x"}},
                 database=db)
    assert bulk.eligible(bdriver, bulk_settings, {}) == (True, "")
    assert bulk.eligible(bdriver, dataclasses.replace(bulk_settings, bulk_load="off"),
                         {})[0] is False
    remote = dataclasses.replace(bulk_settings, neo4j_uri="bolt://127.0.0.1:1")
    assert bulk.eligible(bdriver, remote, {}) == (False, "NEO4J_URI is set (remote server)")
    assert bulk.eligible(bdriver, bulk_settings, {"x": {}})[0] is False
    access.write(bdriver, "CREATE (:Enterprise {uscc: 'X1', name: 'x'})", database=db)
    assert bulk.eligible(bdriver, bulk_settings, {}) == (False, "the graph is not empty")


def test_failed_import_leaves_an_empty_graph_and_a_failed_run(
        bulk_settings: Settings, bdriver: neo4j.Driver, city: Path, tmp_path: Path) -> None:
    empty(bdriver, bulk_settings)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = sorted(p for p in city.iterdir() if p.is_dir())[0]
    (inbox / first.name).symlink_to(first, target_is_directory=True)
    with pytest.raises(RefreshFailed) as failed:
        refresh(bulk_settings, inbox, env={"RISKGRAPH_TEST_BULK_CORRUPT": "1"})
    record = failed.value.record
    assert record.outcome == "failed" and "bulk import failed" in (record.error or "")
    assert data_nodes(bdriver, bulk_settings) == 0
    assert not server.bulk_marker(bulk_settings).exists()
    db = bulk_settings.neo4j_database
    runs = access.read(bdriver, "MATCH (r:Run {run_id: $r}) RETURN r.status AS s",
                       {"r": record.run_id}, database=db)
    assert runs == [{"s": "failed"}]
    with pytest.raises(DatabaseError):  # the in-process API raises the same way
        ingest_inbox(bdriver, bulk_settings, inbox, corrupt_bulk=True)
    assert data_nodes(bdriver, bulk_settings) == 0

    ok = refresh(bulk_settings, inbox, env={})
    assert ok.outcome == "ok" and ok.recomputed["ingest_path"] == "bulk import"
    assert ok.levels and sum(ok.levels.values()) > 0
    earlier = access.read(bdriver, "MATCH (r:Run {run_id: $r}) RETURN r.status AS s",
                          {"r": record.run_id}, database=db)
    assert earlier == [{"s": "failed"}]  # the failed run's record survived the import


def test_interrupted_import_is_undone_at_the_next_start(bulk_settings: Settings,
                                                        bdriver: neo4j.Driver) -> None:
    """A bulk import whose process died (marker left, owner gone): the next start empties the
    database, restores the kept nodes and removes the marker."""
    db = bulk_settings.neo4j_database
    access.write(bdriver, "CREATE (:Enterprise {uscc: 'HALF', name: 'half-imported'})",
                 database=db)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    marker = {"owner": dead.pid, "importer": None, "database": db, "kept": [
        {"label": "Run", "key": "refresh-killed", "props": {
            "run_id": "refresh-killed", "kind": "refresh", "status": "running",
            "at": {"$neo4j.time": "DateTime", "v": "2026-11-01T02:00:00+00:00"}}}]}
    server.bulk_marker(bulk_settings).write_text(json.dumps(marker), encoding="utf-8")
    server.start(bulk_settings)
    assert not server.bulk_marker(bulk_settings).exists()
    assert data_nodes(bdriver, bulk_settings) == 0
    rows = access.read(bdriver, "MATCH (r:Run {run_id: 'refresh-killed'}) RETURN r.at.year AS y,"
                       " r.status AS s", database=db)
    assert rows == [{"y": 2026, "s": "running"}]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [], [""],
                                   [bulk.ARRAY_DELIMITER.join("ab")]])
def test_values_the_importer_cannot_carry_fail_clearly(value: object) -> None:
    # non-finite numbers, empty lists and lists holding the delimiter: a clear error whose
    # hint names the way out, never a silently altered value
    with pytest.raises(bulk.BulkUnsupported) as info:
        bulk._field(value)
    assert info.value.hint is not None and "RISKGRAPH_BULK_LOAD=off" in info.value.hint


def test_ordinary_values_become_csv_fields() -> None:
    assert bulk._field(None) == ""
    assert bulk._field('he said "x"') == '"he said ""x"""'
    assert bulk._field(True) == "true" and bulk._field(3) == "3" and bulk._field(0.5) == "0.5"
    assert bulk._field(["a", "b"]) == '"a' + bulk.ARRAY_DELIMITER + 'b"'


def test_tax_year_parts_agree_between_bulk_and_transactional(
        bulk_settings: Settings, bdriver: neo4j.Driver, tmp_path: Path) -> None:
    """TaxYear is delivered in parts (纳税人信息, 申报汇总): a bulk first date stamps the same
    parts as the transactional path, so the later full snapshots (transactional on top) end
    the same parts and the same records either way."""
    from tests.ingest_fixtures import (
        ENT_HEADER,
        declaration_row,
        enterprise_row,
        tax_files,
        taxpayer_row,
        uscc,
        write_csv,
    )

    a = uscc(serial=1)
    inbox = tmp_path / "inbox"
    write_csv(inbox / "20240101" / "registration" / "市场监管_企业基本信息_20240101_全量.csv",
              ENT_HEADER, [enterprise_row(a, "企业甲")])
    tax_files(inbox / "20240101" / "tax", "20240101",
              [taxpayer_row(a, 2023), taxpayer_row(a, 2024, "非正常户", "D")],
              [declaration_row(a, 2022), declaration_row(a, 2023, zero_months=9),
               declaration_row(a, 2024)], workbook=True)
    tax_files(inbox / "20240201" / "tax", "20240201", [taxpayer_row(a, 2024, "非正常户", "D")],
              [declaration_row(a, 2023, zero_months=9)])
    off = dataclasses.replace(bulk_settings, bulk_load="off")
    dumps = {}
    for name, settings in (("transactional", off), ("bulk import", bulk_settings)):
        empty(bdriver, bulk_settings)
        report = ingest_inbox(bdriver, settings, inbox, force=True, run_id=f"tax-{name[:4]}")
        assert report.ok and report.path == name, [f.message for f in report.files]
        dumps[name] = dump(bdriver, bulk_settings)
    assert dumps["bulk import"] == dumps["transactional"]
    years = {json.loads(n)[1]["year"]: json.loads(n)[1] for n in dumps["bulk import"]["nodes"]
             if json.loads(n)[0] == ["TaxYear"]}
    assert years[2022].get("ended") == "2024-02-01" and years[2022]["seen_declaration"]
    assert years[2023].get("ended") is None and years[2023]["ended_taxpayer"] == "2024-02-01"
    assert years[2024].get("ended") is None and years[2024]["ended_declaration"] == "2024-02-01"
