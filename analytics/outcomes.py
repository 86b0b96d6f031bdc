"""Outcomes as data: confirmed / dismissed verdicts on enterprises, the labels of calibration.

An ``Outcome`` node (``-[:OUTCOME_FOR]->`` an Enterprise) carries ``verdict`` (``confirmed`` or
``dismissed``), ``reason_code``, ``user``, ``at`` (ISO timestamp), ``origin`` (``ledger`` when
written by closing a ledger entry in :mod:`workflow.ledger`, ``cli`` for
``riskgraph outcomes add``, ``demo-truth`` for ``riskgraph outcomes import-truth``) plus the
ledger's shape (``uscc``, ``county``, ``subject_kind``, ``subject_key``).

Outcomes are append-only: a new verdict never changes an old one, and :func:`latest` takes the
latest verdict per enterprise (by ``at``). Neither ingest nor scoring touches them, so they are
kept across refreshes.
"""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from neo4j import Driver, ManagedTransaction

from graph import cypher
from riskgraph.errors import DataError, UsageError
from riskgraph.paths import existing_folder, readable_file
from workflow import statuses as st
from workflow.ledger import stamp, user_name

CONFIRMED = "confirmed"
DISMISSED = "dismissed"
VERDICTS: tuple[str, ...] = (CONFIRMED, DISMISSED)

DEMO_POSITIVE = "demo-truth-positive"
DEMO_NEGATIVE = "demo-truth-negative"

#: reason code → (verdict, label). Chinese codes of the county offices, the demo truth codes,
#: and (below) the ledger's reason codes with the verdict of the status they close into.
REASONS: dict[str, tuple[str, str]] = {
    "已立案": (CONFIRMED, "公安机关已立案侦查"),
    "移交公安": (CONFIRMED, "涉嫌非法集资犯罪，已移送公安"),
    "属实已化解": (CONFIRMED, "核查属实，资金清退或整改到位，风险已化解"),
    "属实-行政处罚": (CONFIRMED, "核查属实，已作行政处罚"),
    "排除-正常经营": (DISMISSED, "经核查经营正常，无非法集资行为"),
    "排除-信息错误": (DISMISSED, "数据错误或误报"),
    "排除-非本地": (DISMISSED, "不属本地管辖"),
    DEMO_POSITIVE: (CONFIRMED, "演示数据真值：涉案（核心或外围）"),
    DEMO_NEGATIVE: (DISMISSED, "演示数据真值：未涉案"),
}
for _code, (_label, _statuses) in st.REASONS.items():
    _verdicts = {st.VERDICT_FOR[s] for s in _statuses if s in st.VERDICT_FOR}
    if len(_verdicts) == 1:
        REASONS.setdefault(_code, (_verdicts.pop(), _label))


@dataclass(frozen=True)
class Outcome:
    """The latest verdict on one enterprise."""

    uscc: str
    verdict: str
    reason_code: str
    user: str
    at: str
    outcome_id: str
    origin: str = ""

    @property
    def label(self) -> int:
        """1 for confirmed, 0 for dismissed."""
        return 1 if self.verdict == CONFIRMED else 0


def check_reason(verdict: str, reason_code: str) -> None:
    """Raise :class:`UsageError` unless ``verdict`` is known and ``reason_code`` fits it."""
    if verdict not in VERDICTS:
        raise UsageError(f"unknown verdict {verdict!r}", "use confirmed or dismissed")
    fits = [c for c, (v, _) in REASONS.items() if v == verdict]
    if reason_code not in REASONS:
        raise UsageError(f"unknown reason code {reason_code!r}",
                         f"for {verdict} use one of: {', '.join(fits)}")
    if REASONS[reason_code][0] != verdict:
        raise UsageError(f"reason code {reason_code!r} means {REASONS[reason_code][0]}, "
                         f"not {verdict}", f"for {verdict} use one of: {', '.join(fits)}")


def _write(driver: Driver, rows: list[dict[str, Any]], database: str | None,
           batch_size: int = 2000) -> list[str]:
    """Write outcome rows; returns the USCCs written (enterprises that exist)."""
    written: list[str] = []

    def work(tx: ManagedTransaction, batch: list[dict[str, Any]]) -> list[str]:
        return [r["uscc"] for r in tx.run(cypher.cal_write_outcomes(), {"rows": batch})]

    with driver.session(database=database) as session:
        for i in range(0, len(rows), batch_size):
            written += session.execute_write(work, rows[i:i + batch_size])
    return written


def _row(uscc: str, verdict: str, reason_code: str, user: str, at: str, origin: str,
         outcome_id: str | None = None, note: str = "") -> dict[str, Any]:
    oid = outcome_id or f"{origin}|{uscc}|{at}|{uuid.uuid4().hex[:8]}"
    return {"outcome_id": oid, "uscc": uscc, "props": {
        "verdict": verdict, "reason_code": reason_code, "status": None, "user": user,
        "at": at, "origin": origin, "note": note, "entry_id": None, "group_id": None}}


def add(driver: Driver, uscc: str, verdict: str, reason_code: str, user: Any, *,
        at: datetime | None = None, note: str = "", database: str | None = None) -> str:
    """Record one verdict on enterprise ``uscc``; returns the outcome id.

    Raises :class:`UsageError` for an unknown verdict / reason code and :class:`DataError`
    when the enterprise is not in the graph.
    """
    check_reason(verdict, reason_code)
    row = _row(uscc.strip(), verdict, reason_code, user_name(user), stamp(at), "cli", note=note)
    if not _write(driver, [row], database):
        raise DataError(f"no enterprise {uscc!r} in the graph",
                        "check the USCC (ingest the enterprise first)")
    return str(row["outcome_id"])


def latest(driver: Driver, database: str | None = None) -> dict[str, Outcome]:
    """USCC → the latest verdict on it (every enterprise with at least one outcome)."""
    with driver.session(database=database, notifications_min_severity="OFF") as session:
        rows = session.execute_read(
            lambda tx: [r.data() for r in tx.run(cypher.cal_latest_outcomes())])
    out: dict[str, Outcome] = {}
    for r in rows:
        if r["verdict"] not in VERDICTS:
            continue
        out[r["uscc"]] = Outcome(r["uscc"], r["verdict"], str(r["reason_code"] or ""),
                                 str(r["user"] or ""), str(r["at"] or ""),
                                 str(r["outcome_id"]), str(r["origin"] or "ledger"))
    return out


def history(driver: Driver, uscc: str, database: str | None = None) -> list[dict[str, Any]]:
    """Every outcome recorded for ``uscc``, oldest first."""
    with driver.session(database=database) as session:
        return session.execute_read(
            lambda tx: [dict(r["outcome"]) for r in tx.run(cypher.cal_outcome_history(),
                                                           {"uscc": uscc})])


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    sampled: int
    written: int
    confirmed: int
    dismissed: int
    missing: int


def entities_file(folder: Path) -> Path:
    """The truth ``entities.csv`` of ``folder`` (or of ``folder/truth``); a UsageError (exit 2)
    when the folder is missing or unreadable or holds none."""
    hint = "pass the demo truth folder (riskgraph demo generate --out DIR → DIR/truth)"
    folder = existing_folder(folder, "truth folder", hint)
    for cand in (folder / "entities.csv", folder / "truth" / "entities.csv"):
        if cand.is_file():
            return readable_file(cand, "truth file", hint)
    raise UsageError(f"no entities.csv in the truth folder {folder}", hint)


def import_truth(driver: Driver, folder: Path, *, sample: float = 1.0, seed: int = 0,
                 user: str = "demo-truth", at: datetime | None = None,
                 database: str | None = None, batch_size: int = 2000) -> ImportSummary:
    """Demo truth ``entities.csv`` → outcomes: role core/periphery ⇒ confirmed
    (``demo-truth-positive``), none ⇒ dismissed (``demo-truth-negative``), on a random
    ``sample`` fraction of the rows (``seed``). Re-importing adds nothing already imported."""
    if not 0.0 < sample <= 1.0:
        raise UsageError(f"--sample {sample}", "use a fraction in (0, 1]")
    path = entities_file(folder)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"uscc", "role"} <= set(rows[0]):
        raise DataError(f"{path} lacks the uscc/role columns", "use the demo truth entities.csv")
    rng = random.Random(seed)
    picked = [r for r in rows if rng.random() < sample] if sample < 1.0 else rows
    when = stamp(at)
    out = []
    for r in picked:
        role = (r.get("role") or "").strip().lower()
        positive = role in ("core", "periphery")
        out.append(_row(r["uscc"].strip(), CONFIRMED if positive else DISMISSED,
                        DEMO_POSITIVE if positive else DEMO_NEGATIVE, user, when, "demo-truth",
                        outcome_id=f"demo-truth|{r['uscc'].strip()}"))
    verdict_of: Mapping[str, str] = {o["uscc"]: o["props"]["verdict"] for o in out}
    written = _write(driver, out, database, batch_size)
    conf = sum(1 for u in written if verdict_of.get(u) == CONFIRMED)
    return ImportSummary(len(rows), len(picked), len(written), conf, len(written) - conf,
                         len(picked) - len(written))
