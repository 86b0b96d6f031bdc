"""``riskgraph export scores --out FILE.csv`` and the shared formula-neutralising helper.

The CSV (UTF-8, header) has one row per enterprise of the live run:
``uscc,name,county,score,level,group_id,cross_region,lead_region,reasons`` with cross_region
``true``/``false`` and reasons ``;``-separated indicator ids (strongest first; a
``linked.<relationship type>`` entry last when linked risk counts, see
docs/architecture.md). Every cell goes through :func:`safe_cell`, so a value starting with
``= + - @`` cannot run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from graph import access, cypher
from riskgraph.errors import RejectedError, UsageError
from riskgraph.paths import writable_file
from riskgraph.settings import Settings

HEADER = ("uscc", "name", "county", "score", "level", "group_id", "cross_region",
          "lead_region", "reasons")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell as text, with a leading single quote when it would start a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def export_row(rec: Mapping[str, Any]) -> list[str]:
    """One CSV row (already neutralised) from a ScoreRecord dict."""
    reasons = rec.get("reasons") or []
    if isinstance(reasons, str):
        reasons = [reasons]
    score = rec.get("score")
    return [
        safe_cell(rec.get("uscc")), safe_cell(rec.get("name")), safe_cell(rec.get("county")),
        safe_cell(f"{float(score):.2f}" if score is not None else ""),
        safe_cell(rec.get("level") or "none"), safe_cell(rec.get("group_id") or ""),
        "true" if rec.get("cross_region") else "false", safe_cell(rec.get("lead_region") or ""),
        safe_cell(";".join(str(r) for r in reasons)),
    ]


def write_csv(rows: Iterable[Mapping[str, Any]], out: Path) -> int:
    """Write the export CSV; returns the number of data rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for rec in rows:
            writer.writerow(export_row(rec))
            n += 1
    return n


def live_run_id(driver: Any, database: str | None = None) -> str | None:
    rows = access.read(driver, cypher.analytics_live_run(), database=database)
    return rows[0]["run_id"] if rows else None


def live_records(driver: Any, database: str | None = None) -> list[dict[str, Any]]:
    """ScoreRecords of the live run (empty when nothing was scored)."""
    run_id = live_run_id(driver, database)
    if run_id is None:
        return []
    return access.read(driver, cypher.analytics_live_records(), {"run_id": run_id},
                       database=database)


def run_export_scores_command(settings: Settings, out: Path) -> int:
    """Write the live scores to ``out``; exit 0, or 1 when there is no live run."""
    if out.suffix.lower() != ".csv":
        raise UsageError(f"--out {out} is not a .csv file", "use e.g. --out scores.csv")
    writable_file(out, "output file", "pass a .csv file in a folder you may write, e.g. "
                  "--out scores.csv")  # exit 2 before connecting
    from graph.connection import connect

    driver = connect(settings)
    try:
        rows = live_records(driver, settings.neo4j_database)
    finally:
        driver.close()
    n = write_csv(rows, out)
    if n == 0:
        raise RejectedError("no live scoring run: wrote the header only",
                            "run `riskgraph score` first")
    print(f"wrote {n} rows to {out}")
    return 0
