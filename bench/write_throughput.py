"""Write throughput of the graph access layer: batched MERGE of N enterprises with their people.

    python -m bench.write_throughput --n 100000 [--batch 2000] [--keep]

Generates N synthetic enterprises (valid USCCs), 1.5·N persons (keyed-hash ids), one legal
representative edge and two shareholder edges per enterprise, a shared address per ~20 firms
and a phone per firm, then writes them with :func:`graph.access.merge_nodes` /
:func:`graph.access.merge_relationships` (``UNWIND $rows`` + MERGE on the declared keys inside
``execute_write``). Prints nodes/s and relationships/s and the batch size. Runs against the
configured server (local Neo4j by default; ``NEO4J_URI`` for another) and deletes what it wrote
unless ``--keep``. A second pass re-merges the same rows to show idempotent re-runs.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from graph import access, cypher, schema
from graph.connection import connect
from riskgraph.identifiers import uscc_check_char
from riskgraph.settings import load_settings

_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_PROV = {"src": "bench", "delivery": "20260101", "file": "bench", "run_id": "bench"}


def _uscc(rng: random.Random, county: str) -> str:
    body = "91" + county + "".join(rng.choice(_ALPHA) for _ in range(9))
    return body + uscc_check_char(body)


def make_rows(n: int, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Synthetic node and relationship rows for ``n`` enterprises."""
    rng = random.Random(seed)
    counties = ["410502", "410503", "410505", "410522", "410526"]
    usccs = sorted({_uscc(rng, rng.choice(counties)) for _ in range(int(n * 1.01) + 10)})[:n]
    persons = [f"P:bench{i:09d}" for i in range(int(n * 1.5))]
    rows: dict[str, list[dict[str, Any]]] = {"Enterprise": [], "Person": [], "Address": [],
                                             "Phone": [], "LEGAL_REP_OF": [],
                                             "SHAREHOLDER_OF": [], "REGISTERED_AT": [],
                                             "HAS_PHONE": []}
    for i, uscc in enumerate(usccs):
        rows["Enterprise"].append({"key": uscc, "props": {
            "name": f"基准测试企业{i}", "county": uscc[2:8], "reg_capital_wan": 100.0,
            "row": i + 2, **_PROV}})
        rows["Phone"].append({"key": f"1390000{i:07d}"[-11:], "props": {**_PROV}})
        rows["HAS_PHONE"].append({"src": uscc, "dst": f"1390000{i:07d}"[-11:], "rk": "",
                                  "props": _PROV})
        aid = f"A:bench{i // 20:08d}"
        rows["REGISTERED_AT"].append({"src": uscc, "dst": aid, "rk": "", "props": _PROV})
        rows["LEGAL_REP_OF"].append({"src": rng.choice(persons), "dst": uscc, "rk": "",
                                     "props": _PROV})
        for holder in rng.sample(persons, 2):
            rows["SHAREHOLDER_OF"].append({"src": holder, "dst": uscc, "rk": "", "props": {
                "ratio": 0.5, "subscribed_wan": 50.0, **_PROV}})
    rows["Person"] = [{"key": p, "props": {"name": "某某", **_PROV}} for p in persons]
    rows["Address"] = [{"key": f"A:bench{j:08d}", "props": {"text": f"基准路{j}号", **_PROV}}
                       for j in range(n // 20 + 1)]
    return rows


_RELS: Sequence[tuple[str, str, str]] = (
    ("LEGAL_REP_OF", "Person", "Enterprise"),
    ("SHAREHOLDER_OF", "Person", "Enterprise"),
    ("REGISTERED_AT", "Enterprise", "Address"),
    ("HAS_PHONE", "Enterprise", "Phone"),
)


def write_all(driver: Any, rows: dict[str, list[dict[str, Any]]], batch: int,
              database: str) -> tuple[int, float, int, float]:
    """Write every node then every relationship; returns counts and seconds of each phase."""
    started = time.perf_counter()
    nodes = 0
    for label in ("Enterprise", "Person", "Address", "Phone"):
        nodes += access.merge_nodes(driver, label, rows[label], batch, database)
    node_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rels = 0
    for rel, source, target in _RELS:
        rels += access.merge_relationships(driver, rel, source, target, rows[rel], batch,
                                           database)
    return nodes, node_seconds, rels, time.perf_counter() - started


def _cleanup(driver: Any, database: str) -> None:
    access.run_batched(driver, cypher.delete_by_source(), {"src": "bench"}, database=database)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings()
    driver = connect(settings)
    database = settings.neo4j_database
    try:
        schema.apply_schema(driver, database)
        t0 = time.perf_counter()
        rows = make_rows(args.n, args.seed)
        gen = time.perf_counter() - t0
        nodes, ns, rels, rs = write_all(driver, rows, args.batch, database)
        nodes2, ns2, rels2, rs2 = write_all(driver, rows, args.batch, database)
        result = {
            "n_enterprises": args.n, "batch_size": args.batch, "generate_s": round(gen, 1),
            "nodes": nodes, "node_seconds": round(ns, 1), "nodes_per_s": round(nodes / ns),
            "relationships": rels, "rel_seconds": round(rs, 1),
            "relationships_per_s": round(rels / rs),
            "rerun_nodes_per_s": round(nodes2 / ns2),
            "rerun_relationships_per_s": round(rels2 / rs2),
        }
        print(json.dumps(result, ensure_ascii=False))
    finally:
        if not args.keep:
            _cleanup(driver, database)
        driver.close()


if __name__ == "__main__":
    main()
