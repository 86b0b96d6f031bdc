"""End-to-end ingest throughput: read, validate, resolve and write the demo city.

    python -m bench.ingest --scale 1 [--inbox DIR] [--seed 7] [--keep]

Generates the demo city (``demo.generate``) at ``--scale`` into a temporary folder unless
``--inbox`` is given, then runs :func:`ingest.pipeline.ingest_inbox` against the configured Neo4j
(local server by default, ``NEO4J_URI`` for another). WARNING: the graph is cleared first unless
``--no-clear``. Prints one JSON line: rows, seconds, rows/s, per-stage seconds, node counts and,
when generated, whether the node counts and the quarantine agree with the demo truth.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from graph import access, cypher
from graph.connection import connect
from ingest.pipeline import ensure_schema, ingest_inbox
from riskgraph.settings import load_settings


def _truth_check(truth: Path, report: Any, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    expected = json.loads((truth / "expected_counts.json").read_text(encoding="utf-8"))["nodes"]
    mismatched = {k: [v, counts["nodes"].get(k, 0)] for k, v in expected.items()
                  if counts["nodes"].get(k, 0) != v}
    invalid = {(r["delivery"], r["source"], r["file"], int(r["row"]))
               for r in csv.DictReader((truth / "invalid_rows.csv").open(encoding="utf-8-sig"))}
    got: set[tuple[str, str, str, int]] = set()
    if report.quarantine_dir:
        for path in Path(report.quarantine_dir).glob("*.csv"):
            for r in csv.DictReader(path.open(encoding="utf-8-sig")):
                got.add((r["delivery"], r["source"], r["file"], int(r["row"])))
    return {"count_mismatches": mismatched, "invalid_rows": len(invalid),
            "quarantined_rows": len(got), "missed": len(invalid - got),
            "extra": len(got - invalid)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--inbox", type=Path)
    parser.add_argument("--no-clear", action="store_true", help="do not clear the graph first")
    args = parser.parse_args(argv)
    settings = load_settings()
    out: dict[str, Any] = {"scale": args.scale}
    tmp = None
    truth = None
    if args.inbox is None:
        from demo.generate import generate

        tmp = tempfile.mkdtemp(prefix="rg-bench-ingest-")
        t = time.perf_counter()
        generate(Path(tmp), settings.city, args.scale, args.seed)
        out["generate_s"] = round(time.perf_counter() - t, 1)
        inbox, truth = Path(tmp) / "inbox", Path(tmp) / "truth"
    else:
        inbox = args.inbox
        if (inbox.parent / "truth" / "expected_counts.json").exists():
            truth = inbox.parent / "truth"
    driver = connect(settings)
    try:
        if not args.no_clear:
            with driver.session(database=settings.neo4j_database) as session:
                session.run(cypher.delete_all_batched()).consume()
        ensure_schema(driver, settings.neo4j_database)
        t = time.perf_counter()
        report = ingest_inbox(driver, settings, inbox, progress=False)
        seconds = time.perf_counter() - t
        stages: dict[str, float] = defaultdict(float)
        for f in report.files:
            for k, v in f.timings.items():
                stages[k] += v
        counts = access.counts(driver, database=settings.neo4j_database)
        out.update(rows=report.rows_read, loaded=report.rows_loaded,
                   quarantined=report.quarantined, seconds=round(seconds, 1),
                   rows_per_s=round(report.rows_read / seconds, 1),
                   stages={k: round(v, 1) for k, v in stages.items()},
                   nodes=counts["nodes"], report=report.report_path)
        out.update(party_links=sum(f.party_links for f in report.files),
                   unresolved=report.unresolved)
        if truth is not None:
            # the truth counts persons known by citizen ID ('P:'); ingest also keeps 'N:' ones
            truth_counts = {"nodes": {**counts["nodes"], "Person": access.read(
                driver, "MATCH (p:Person) WHERE p.pid STARTS WITH 'P:' RETURN count(p) AS n",
                database=settings.neo4j_database)[0]["n"]}}
            out["truth"] = _truth_check(truth, report, truth_counts)
    finally:
        driver.close()
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
