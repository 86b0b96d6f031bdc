"""Ingest end to end against the real test Neo4j (tests/conftest.py fixtures; never mocked)."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import neo4j
import pytest

from demo.generate import generate
from graph import access, cypher
from ingest.pipeline import ingest_inbox, summary
from riskgraph.settings import Settings
from tests.ingest_fixtures import (
    ENT_HEADER,
    HOSTILE,
    SCRIPT,
    citizen_id,
    enterprise_row,
    small_inbox,
    uscc,
    write_csv,
)

RAW_ID = re.compile(r"\d{17}[\dX]")


@pytest.fixture()
def settings(neo4j_settings: Settings, tmp_path: Path) -> Settings:
    return replace(neo4j_settings, home=tmp_path / "home", hash_key="test-key")


def _read(driver: neo4j.Driver, settings: Settings, query: str, **params: Any) -> list[dict]:
    return access.read(driver, query, params, database=settings.neo4j_database)


VOLATILE = {"run_id", "ended_run", "loaded_at", "started", "finished",  # differ per run
            "recorded", "recorded_by"}  # (the KeyCheck node: when and by which run)


def _snapshot(driver: neo4j.Driver, settings: Settings, stable: bool = False
              ) -> list[tuple[Any, ...]]:
    """Nodes (but runs) and relationships with their properties, sorted; ``stable``: without
    the properties that name the run or its time."""
    def props(p: dict[str, Any]) -> str:
        kept = {k: v for k, v in p.items() if not (stable and k in VOLATILE)}
        return json.dumps(kept, sort_keys=True, default=str)

    rows = _read(driver, settings, "MATCH (n) WHERE NOT n:Run RETURN labels(n) AS l, "
                 "properties(n) AS p")
    nodes = sorted((tuple(r["l"]), props(r["p"])) for r in rows)
    rels = _read(driver, settings, "MATCH (a)-[r]->(b) RETURN type(r) AS t, "
                 "properties(r) AS p, elementId(a) AS a, elementId(b) AS b")
    return [*nodes, *sorted((r["t"], props(r["p"])) for r in rels)]


def test_small_inbox_loads(clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    codes = small_inbox(tmp_path / "inbox")
    report = ingest_inbox(clean_db, settings, tmp_path / "inbox", run_id="r1")
    assert report.ok
    assert report.quarantined == 3 and report.rows_loaded == 10
    assert sum(f.duplicates for f in report.files) == 1
    counts = access.counts(clean_db, settings.neo4j_database)["nodes"]
    assert counts["Enterprise"] == 3 and counts["CourtCase"] == 1 and counts["PoliceClue"] == 1
    ent = _read(clean_db, settings, "MATCH (e:Enterprise {uscc: $u}) RETURN e", u=codes["b"])
    e = ent[0]["e"]
    assert e["scope"] == HOSTILE and SCRIPT in e["name"]
    assert e["reg_capital_wan"] == 500 and e["founded"] == "2020-01-05"
    assert e["county"] == "410581" and e["county_rule"] == "authority" and e["in_city"] is True
    assert e["src"] == "registration" and e["row"] == 3 and e["run_id"] == "r1"
    c = _read(clean_db, settings, "MATCH (e:Enterprise {uscc: $u}) RETURN e", u=codes["c"])[0]["e"]
    assert c["reg_capital_wan"] == pytest.approx(710.0) and c["capital_currency"] == "美元"
    assert c["county"] == "410503" and c["county_rule"] == "address"
    # masked court party resolved through the counterpart's shareholder; the other is a Party
    rows = _read(clean_db, settings, "MATCH (p)-[r:PARTY_TO]->(:CourtCase) "
                 "RETURN labels(p)[0] AS l, r.role AS role, p.name AS name")
    got = {(r["l"], r["role"]) for r in rows}
    assert got == {("Person", "第三人"), ("Enterprise", "被告"), ("Party", "原告")}
    # no raw citizen ID anywhere in the graph, the quarantine or the reports
    for r in _read(clean_db, settings, "MATCH (n) RETURN properties(n) AS p"):
        assert not RAW_ID.search(json.dumps(r["p"], ensure_ascii=False))
    qfiles = list((settings.quarantine_dir / "r1").glob("*.csv"))
    rules = {row["rule"] for p in qfiles for row in csv.DictReader(p.open(encoding="utf-8-sig"))}
    assert rules == {"uscc_check", "date_invalid", "amount_invalid", "region_unknown"}
    report_json = (settings.runs_dir / "r1" / "report.json").read_text(encoding="utf-8")
    html = (settings.runs_dir / "r1" / "data_quality.html").read_text(encoding="utf-8")
    assert json.loads(report_json)["totals"]["rows_quarantined"] == 3
    assert "<script>" not in html and not RAW_ID.search(html)
    assert citizen_id() not in report_json


def test_loading_twice_changes_nothing(clean_db: neo4j.Driver, settings: Settings,
                                      tmp_path: Path) -> None:
    small_inbox(tmp_path / "inbox")
    ingest_inbox(clean_db, settings, tmp_path / "inbox")
    before = _snapshot(clean_db, settings)
    counts = access.counts(clean_db, settings.neo4j_database)
    second = ingest_inbox(clean_db, settings, tmp_path / "inbox")
    assert all(f.status == "skipped" for f in second.files)
    assert access.counts(clean_db, settings.neo4j_database) == counts
    assert _snapshot(clean_db, settings) == before


def test_rejected_file_blocks_its_table_only(clean_db: neo4j.Driver, settings: Settings,
                                            tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    small_inbox(inbox)
    (inbox / "20240101" / "registration" / "坏_主要人员_全量.csv").write_bytes(
        b"\x00\x9f\x92\x96" * 100)
    (inbox / "20240101" / "tax").mkdir()
    (inbox / "20240101" / "tax" / "税务_纳税人信息_全量.csv").write_bytes(b"")
    write_csv(inbox / "20240101" / "tips" / "举报线索_全量.csv", ["举报编号", "举报日期"],
              [["T1", "2024-01-01"]])  # 被举报对象 missing: rejected whole
    report = ingest_inbox(clean_db, settings, inbox)
    assert not report.ok and report.reader == "thread"  # a small inbox: no process
    rejected = {f.file: f.message for f in report.files if f.status == "rejected"}
    assert set(rejected) == {"坏_主要人员_全量.csv", "税务_纳税人信息_全量.csv",
                             "举报线索_全量.csv"}
    assert "被举报对象" in rejected["举报线索_全量.csv"]
    counts = access.counts(clean_db, settings.neo4j_database)["nodes"]
    assert counts["Enterprise"] == 3 and "Tip" not in counts and "TaxYear" not in counts
    graph = _snapshot(clean_db, settings, stable=True)

    # read in a worker process instead: the same rejections (errors cross the process
    # boundary with their words and hints), the same graph and quarantine
    with clean_db.session(database=settings.neo4j_database) as session:
        session.run(cypher.delete_all_batched()).consume()
    again = ingest_inbox(clean_db, replace(settings, read_process_mb=0), inbox)
    assert again.reader == "process"
    assert {f.file: f.message for f in again.files if f.status == "rejected"} == rejected
    assert [(f.file, f.status, f.rows_loaded, f.rows_quarantined) for f in again.files] == [
        (f.file, f.status, f.rows_loaded, f.rows_quarantined) for f in report.files]
    assert _snapshot(clean_db, settings, stable=True) == graph
    def quarantined(run_id: str) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8")
                for p in (settings.quarantine_dir / run_id).glob("*.csv")}

    assert quarantined(report.run_id) and quarantined(again.run_id) == quarantined(
        report.run_id)


def _deliver(inbox: Path, date: str, kind: str, rows: list[list[object]]) -> None:
    write_csv(inbox / date / "registration" / f"市场监管_企业基本信息_{date}_{kind}.csv",
              ENT_HEADER, rows)


def test_full_increment_ends_and_count_assertion(clean_db: neo4j.Driver, settings: Settings,
                                                tmp_path: Path) -> None:
    codes = [uscc(serial=i) for i in range(1, 5)]
    inbox = tmp_path / "inbox"
    _deliver(inbox, "20240101", "全量",
             [enterprise_row(c, f"企业{i}") for i, c in enumerate(codes)])
    _deliver(inbox, "20240201", "增量",
             [enterprise_row(codes[0], "企业0", 登记状态="注销")])
    _deliver(inbox, "20240301", "全量", [enterprise_row(c, f"企业{i}")
                                         for i, c in enumerate(codes[:3])])
    report = ingest_inbox(clean_db, settings, inbox)
    assert report.ok, [f.message for f in report.files]
    rows = {r["u"]: r for r in _read(
        clean_db, settings, "MATCH (e:Enterprise) RETURN e.uscc AS u, "
        "e.status AS s, e.ended AS ended, e.ended_run AS run")}
    assert rows[codes[3]]["ended"] == "2024-03-01" and rows[codes[3]]["run"] == report.run_id
    assert rows[codes[1]]["ended"] is None
    assert rows[codes[0]]["s"] == "存续"  # the later full snapshot is the newest version
    # a full snapshot ≥ 50 % smaller blocks the delivery unless forced
    _deliver(inbox, "20240401", "全量", [enterprise_row(codes[0], "企业0")])
    blocked = ingest_inbox(clean_db, settings, inbox)
    assert not blocked.ok and blocked.blocked_deliveries
    assert _read(clean_db, settings, "MATCH (e:Enterprise {uscc: $u}) RETURN e.ended AS x",
                 u=codes[1])[0]["x"] is None
    forced = ingest_inbox(clean_db, settings, inbox, force=True)
    assert forced.ok
    assert _read(clean_db, settings, "MATCH (e:Enterprise {uscc: $u}) RETURN e.ended AS x",
                 u=codes[1])[0]["x"] == "2024-04-01"


def test_rerun_completes_a_half_finished_file(clean_db: neo4j.Driver, settings: Settings,
                                             tmp_path: Path) -> None:
    small_inbox(tmp_path / "inbox")
    ingest_inbox(clean_db, settings, tmp_path / "inbox")
    before = _snapshot(clean_db, settings)
    # simulate a crash after the commit point of one file and before its finalisation
    # (the registration file, whose records are the Enterprise nodes marked pending)
    changed = access.write(
        clean_db, "MATCH (f:LoadedFile {name: '市场监管_企业基本信息_20240101_全量.csv'}) "
        "SET f.status = 'committed' WITH f MATCH (e:Enterprise) SET e.pending = f.load_id",
        database=settings.neo4j_database)
    assert changed > 1
    # and a crash half-way through another file: its LoadedFile still 'loading'
    access.write(clean_db, "MATCH (f:LoadedFile {name: '法院_案件信息_全量.csv'}) "
                 "SET f.status = 'loading'", database=settings.neo4j_database)
    ingest_inbox(clean_db, settings, tmp_path / "inbox")
    assert _read(clean_db, settings, "MATCH (n) WHERE n.pending IS NOT NULL RETURN count(n) AS n"
                 )[0]["n"] == 0
    statuses = {r["s"] for r in _read(clean_db, settings,
                                      "MATCH (f:LoadedFile) RETURN f.status AS s")}
    assert statuses == {"done"}
    after = _snapshot(clean_db, settings)
    assert len(after) == len(before)


def test_demo_inbox_agrees_with_truth(clean_db: neo4j.Driver, settings: Settings,
                                      tmp_path: Path) -> None:
    generate(tmp_path / "demo", settings.city, 0.02, 11)
    truth = tmp_path / "demo" / "truth"
    report = ingest_inbox(clean_db, settings, tmp_path / "demo" / "inbox")
    assert report.ok, [(f.file, f.message) for f in report.rejected]
    expected = json.loads((truth / "expected_counts.json").read_text())["nodes"]
    counts = access.counts(clean_db, settings.neo4j_database)["nodes"]
    # Persons: the truth counts persons known by citizen ID ('P:' keys); ingest also keeps
    # persons known only by (name, enterprise) ('N:' keys, confidence 0.5) per architecture.md
    counts["Person"] = _read(clean_db, settings, "MATCH (p:Person) WHERE p.pid STARTS WITH 'P:' "
                             "RETURN count(p) AS n")[0]["n"]
    assert {k: counts.get(k, 0) for k in expected} == expected
    invalid = {(r["delivery"], r["source"], r["file"], int(r["row"])): r["rule"]
               for r in csv.DictReader((truth / "invalid_rows.csv").open(encoding="utf-8-sig"))}
    got: dict[tuple[str, str, str, int], set[str]] = {}
    for path in Path(report.quarantine_dir).glob("*.csv"):
        for r in csv.DictReader(path.open(encoding="utf-8-sig")):
            got.setdefault((r["delivery"], r["source"], r["file"], int(r["row"])), set()).add(
                r["rule"])
    assert set(got) == set(invalid)
    assert all(invalid[k] in got[k] for k in invalid)
    dups = list(csv.DictReader((truth / "duplicates.csv").open(encoding="utf-8-sig")))
    reported = {(f.delivery, f.source, f.file, row, of) for f in report.files
                for t in f.tables for row, of in t.duplicate_rows}
    assert {(d["delivery"], d["source"], d["file"], int(d["row"]), int(d["duplicate_of_row"]))
            for d in dups} <= reported
    uscc_valid = {r["uscc"] for r in csv.DictReader((truth / "entities.csv").open(
        encoding="utf-8-sig"))}
    loaded = {r["u"] for r in _read(clean_db, settings,
                                    "MATCH (e:Enterprise) RETURN e.uscc AS u")}
    assert uscc_valid <= loaded


def test_unregistered_enterprise_references_are_never_dropped(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    from tests.ingest_fixtures import uscc as make_uscc

    inbox = tmp_path / "inbox"
    a, holder, ghost = make_uscc("410502", 11), make_uscc("410502", 12), make_uscc("410502", 13)
    reg = inbox / "20240101" / "registration"
    write_csv(reg / "市场监管_企业基本信息_20240101_全量.csv", ENT_HEADER,
              [enterprise_row(a, "安阳市甲投资咨询有限公司")])
    write_csv(reg / "市场监管_股东及出资信息_20240101_全量.csv",
              ["统一社会信用代码", "股东名称", "股东类型", "股东证照号码", "认缴出资额",
               "出资比例", "实缴出资额"],
              [[a, "外地控股有限公司", "企业法人", holder, "100", "60%", "100"]])
    write_csv(reg / "市场监管_变更记录_20240101_全量.csv",
              ["统一社会信用代码", "变更事项", "变更前内容", "变更后内容", "变更日期"],
              [[ghost, "住所", "旧址", "新址", "2023-05-01"]])
    report = ingest_inbox(clean_db, settings, inbox, run_id="r-unreg")
    assert report.ok
    # the shareholder enterprise missing from 企业基本信息 is a Party; the edge is kept
    rows = _read(clean_db, settings, "MATCH (p:Party)-[r:SHAREHOLDER_OF]->(e:Enterprise) "
                 "RETURN p.code AS code, p.name AS name, p.reason AS reason, e.uscc AS e, "
                 "r.ratio AS ratio")
    assert rows == [{"code": holder, "name": "外地控股有限公司",
                     "reason": "not in registration export", "e": a, "ratio": 0.6}]
    assert sum(f.party_links for f in report.files) == 1
    # HAS_CHANGE cannot start at a Party: counted and listed with file and row
    assert report.unresolved == 1
    listed = [u for f in report.files for u in f.unresolved]
    assert listed == [{"delivery": "20240101", "source": "registration",
                       "file": "市场监管_变更记录_20240101_全量.csv", "row": 2,
                       "type": "HAS_CHANGE", "code": ghost,
                       "reason": "not in registration export"}]
    saved = json.loads((settings.runs_dir / "r-unreg" / "report.json").read_text("utf-8"))
    assert saved["totals"]["unresolved_references"] == 1
    assert saved["totals"]["party_links"] == 1
    assert _read(clean_db, settings, "MATCH (n) WHERE n.pending IS NOT NULL "
                 "RETURN count(n) AS n")[0]["n"] == 0
    # idempotent: the same files again change nothing
    before = _snapshot(clean_db, settings)
    again = ingest_inbox(clean_db, settings, inbox)
    assert all(f.status == "skipped" for f in again.files)
    assert _snapshot(clean_db, settings) == before


def test_reader_process_does_not_rerun_the_parents_main(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A spawned process re-runs the parent's ``__main__``: an app run in-process (e.g. by
    Streamlit's AppTest) would start again in the reader. The reader starts without it."""
    import multiprocessing as mp
    import sys
    import types
    from concurrent.futures import ProcessPoolExecutor

    from ingest.pipeline import start_reader_process

    marker = tmp_path / "ran"
    script = tmp_path / "app_main.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('x')\n", encoding="utf-8")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as plain:
        assert plain.submit(abs, -3).result() == 3
    assert marker.exists()  # the hazard: a plain spawned pool ran the script
    marker.unlink()

    pool = start_reader_process()
    try:
        assert pool.submit(abs, -4).result() == 4
    finally:
        pool.shutdown()
    assert not marker.exists() and sys.modules["__main__"] is fake


def test_a_reader_process_that_dies_is_a_clear_error() -> None:
    import os
    import signal
    import time

    from ingest.pipeline import reads_of, start_reader_process
    from riskgraph.errors import RiskgraphError

    pool = start_reader_process()
    try:
        assert pool.submit(abs, -1).result() == 1
        pending = pool.submit(time.sleep, 30)
        for pid in list(pool._processes):  # killed, e.g. by the kernel for memory
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(RiskgraphError) as failed:
            reads_of(pending)  # type: ignore[arg-type]
        assert "reader process died" in failed.value.message
        assert "RISKGRAPH_INGEST_READ_PROCESS_MB" in (failed.value.hint or "")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("text, expected", [
    ("安阳某某基金管理有限公司（委派代表：王五）", ("安阳某某基金管理有限公司", ["王五"])),
    ("安阳某某基金管理有限公司(委派代表:王五、赵六)",
     ("安阳某某基金管理有限公司", ["王五", "赵六"])),
    ("安阳某某投资管理合伙企业（有限合伙）", ("安阳某某投资管理合伙企业（有限合伙）", [])),
    ("张三", None),
    ("欧阳中心", None),  # a short text is a person's name whatever its ending
])
def test_managing_partner_field_names_a_firm(text: str, expected: object) -> None:
    from ingest.registration import managing_partner

    assert managing_partner(text) == expected


def test_managing_partner_firm_runs_the_partnership(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    """A partnership whose 法定代表人 field names a firm (执行事务合伙人 with a delegate) is run
    by that firm: MANAGING_PARTNER_OF from the firm of the same export (or a Party when the
    firm is not in it), the delegate an officer; no person is made of the firm's name."""
    inbox = tmp_path / "inbox"
    gp, lp, lp2, lp3 = (uscc("410502", 31), uscc("410502", 32), uscc("410502", 33),
                        uscc("410502", 34))
    reg = inbox / "20240101" / "registration"
    write_csv(reg / "市场监管_企业基本信息_20240101_全量.csv", ENT_HEADER, [
        # the partnership comes before the firm that runs it: resolved within the file
        enterprise_row(lp, "安阳市甲股权投资合伙企业(有限合伙)", 企业类型="有限合伙企业",
                       法定代表人="安阳市甲基金管理有限公司（委派代表：王五）",
                       法定代表人证件号码=""),
        enterprise_row(gp, "安阳市甲基金管理有限公司"),
        enterprise_row(lp2, "安阳市乙创业投资合伙企业(有限合伙)", 企业类型="有限合伙企业",
                       法定代表人="外地乙资产管理有限公司(委派代表:赵六)",
                       法定代表人证件号码=citizen_id("410502", "19800101", 5)),
        # the firm named without its delegate, the delegate's ID in the ID column
        enterprise_row(lp3, "安阳市丙投资合伙企业(有限合伙)", 企业类型="有限合伙企业",
                       法定代表人="安阳市甲基金管理有限公司",
                       法定代表人证件号码=citizen_id("410502", "19810101", 6)),
    ])
    report = ingest_inbox(clean_db, settings, inbox, run_id="r-gp")
    assert report.ok
    runs = _read(clean_db, settings, "MATCH (g)-[:MANAGING_PARTNER_OF]->(e:Enterprise) "
                 "RETURN labels(g)[0] AS l, coalesce(g.uscc, g.name) AS g, e.uscc AS e "
                 "ORDER BY e")
    assert runs == [{"l": "Enterprise", "g": gp, "e": lp},
                    {"l": "Party", "g": "外地乙资产管理有限公司", "e": lp2},
                    {"l": "Enterprise", "g": gp, "e": lp3}]
    officers = _read(clean_db, settings, "MATCH (p:Person)-[r:OFFICER_OF]->(e:Enterprise) "
                     "RETURN p.name AS p, r.role AS role, p.resolution AS how, e.uscc AS e "
                     "ORDER BY e")
    assert officers == [{"p": "王五", "role": "执行事务合伙人委派代表", "how": "name", "e": lp},
                        {"p": "赵六", "role": "执行事务合伙人委派代表", "how": "id", "e": lp2},
                        {"p": None, "role": "执行事务合伙人委派代表", "how": "id", "e": lp3}]
    reps = _read(clean_db, settings, "MATCH (p)-[:LEGAL_REP_OF]->(e:Enterprise) "
                 "RETURN p.name AS p, e.uscc AS e")
    assert reps == [{"p": "张三", "e": gp}]
    # idempotent
    before = _snapshot(clean_db, settings)
    ingest_inbox(clean_db, settings, inbox)
    assert _snapshot(clean_db, settings) == before


def test_cli_ingest_never_runs_beside_a_refresh(clean_db: neo4j.Driver,
                                                neo4j_settings: Settings,
                                                tmp_path: Path) -> None:
    """`riskgraph ingest` takes the refresh lock: while a refresh (or scoring run, backup)
    of the installation holds it, an ingest stops at once (exit 3) and loads nothing."""
    import subprocess
    import sys

    from riskgraph.runs import RefreshLock, lock_path
    from tests.cli_env import cli_env

    small_inbox(tmp_path / "inbox")
    env = cli_env(neo4j_settings, tmp_path / "home", RISKGRAPH_HASH_KEY="test-key")
    held = RefreshLock(lock_path(replace(neo4j_settings, home=tmp_path / "home"))).acquire(
        run_id="refresh-20261207T000000-abcdef")
    try:
        done = subprocess.run([sys.executable, "-m", "riskgraph", "ingest",
                               str(tmp_path / "inbox")], capture_output=True, text=True,
                              env=env, cwd=Path(__file__).resolve().parents[1], timeout=300,
                              check=False)
    finally:
        held.release()
    assert done.returncode == 3, done.stdout + done.stderr
    assert "another refresh is running" in done.stderr and "this ingest did nothing" in done.stderr
    assert _read(clean_db, neo4j_settings, "MATCH (n) RETURN count(n) AS n")[0]["n"] == 0


HOLDER_HEADER = ["统一社会信用代码", "股东名称", "股东类型", "股东证照号码", "认缴出资额",
                 "出资比例"]


def _holders(inbox: Path, date: str, rows: list[list[object]]) -> None:
    write_csv(inbox / date / "registration" / f"市场监管_股东及出资信息_{date}_全量.csv",
              HOLDER_HEADER, rows)


def _holder(code: str, name: str, serial: int, ratio: str = "50%", amount: str = "100"
            ) -> list[object]:
    return [code, name, "自然人股东", citizen_id("410502", "19800101", serial), amount, ratio]


def _ended(driver: neo4j.Driver, settings: Settings) -> dict[str, Any]:
    rows = _read(driver, settings, "MATCH (e:Enterprise) RETURN e.uscc AS u, e.ended AS x")
    return {r["u"]: r["x"] for r in rows}


def test_full_snapshot_quarantined_row_keeps_its_record(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    """A row quarantined from a full snapshot was in the file: when its key is readable its
    record (and, for a child table, the records of the same owner) is not ended; a record
    whose key is absent (or unreadable) is."""
    from tests.ingest_fixtures import bad_uscc

    codes = [uscc(serial=i) for i in range(1, 6)]
    a, b, c, d, e = codes
    inbox = tmp_path / "inbox"
    _deliver(inbox, "20240101", "全量", [enterprise_row(x, f"企业{i}")
                                         for i, x in enumerate(codes)])
    _holders(inbox, "20240101", [_holder(a, "张一", 1), _holder(b, "张二", 2),
                                 _holder(d, "张四", 4), _holder(e, "张五", 5)])
    first = ingest_inbox(clean_db, settings, inbox)
    assert first.ok and first.quarantined == 0
    _deliver(inbox, "20240201", "全量", [
        enterprise_row(a, "企业0"),
        enterprise_row(b, "企业1", 成立日期="2023-02-30"),  # quarantined, key readable
        enterprise_row(bad_uscc(c), "企业2"),               # quarantined, key unreadable
        enterprise_row(d, "企业3"), enterprise_row(e, "企业4")])
    _holders(inbox, "20240201", [_holder(a, "张一", 1, ratio="五成"),  # quarantined
                                 _holder(d, "张四", 4), _holder(e, "张五", 5)])
    report = ingest_inbox(clean_db, settings, inbox, run_id="r-kept")
    assert report.ok and report.quarantined == 3, [f.message for f in report.files]
    assert _ended(clean_db, settings) == {a: None, b: None, c: "2024-02-01", d: None, e: None}
    founded = _read(clean_db, settings, "MATCH (e:Enterprise {uscc: $u}) RETURN e.founded AS f",
                    u=b)[0]["f"]
    assert founded == "2019-03-05"  # the earlier version stays, unchanged
    holders = {r["u"]: r["x"] for r in _read(
        clean_db, settings, "MATCH (:Person)-[r:SHAREHOLDER_OF]->(e:Enterprise) "
        "RETURN e.uscc AS u, r.ended AS x")}
    assert holders == {a: None, b: "2024-02-01", d: None, e: None}
    tables = {t.table: t for f in report.files for t in f.tables}
    assert tables["企业基本信息"].kept_keys == 1 and tables["股东及出资信息"].kept_keys == 1
    saved = json.loads((settings.runs_dir / "r-kept" / "report.json").read_text("utf-8"))
    assert sorted(t["kept_keys"] for f in saved["files"] for t in f["tables"]) == [1, 1]
    assert "2 key(s) of rows quarantined from full snapshots keep their records" in summary(
        report)


def test_full_snapshot_split_over_files_of_one_delivery(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    """A full table delivered in two files (two CSVs, or a CSV and a workbook sheet) of one
    delivery is one snapshot: what either file holds is seen; only what neither holds ends,
    and the count assertion compares the delivery's rows with the previous delivery's."""
    from openpyxl import Workbook

    codes = [uscc(serial=i) for i in range(1, 7)]
    inbox = tmp_path / "inbox"

    def split(date: str, first: list[str], second: list[str], third: list[str]) -> None:
        reg = inbox / date / "registration"
        write_csv(reg / f"市场监管_企业基本信息_{date}_全量.csv", ENT_HEADER,
                  [enterprise_row(x, f"企业{x[-4:]}") for x in first])
        write_csv(reg / f"市场监管_第二批_企业基本信息_{date}_全量.csv", ENT_HEADER,
                  [enterprise_row(x, f"企业{x[-4:]}") for x in second])
        wb = Workbook()
        ws = wb.active
        ws.title = "企业基本信息"
        ws.append(ENT_HEADER)
        for x in third:
            ws.append(enterprise_row(x, f"企业{x[-4:]}"))
        wb.save(reg / f"市场监管_登记数据_{date}_全量.xlsx")

    split("20240101", codes[:2], codes[2:4], codes[4:])
    first = ingest_inbox(clean_db, settings, inbox)
    assert first.ok, [f.message for f in first.files]
    assert set(_ended(clean_db, settings).values()) == {None}
    split("20240201", codes[:2], codes[2:3], codes[4:])  # codes[3] left out
    second = ingest_inbox(clean_db, settings, inbox)
    assert second.ok, [(f.file, f.message) for f in second.files] + second.blocked_deliveries
    ended = _ended(clean_db, settings)
    assert {k for k, v in ended.items() if v} == {codes[3]}
    assert ended[codes[3]] == "2024-02-01"
    # the first CSV is the same bytes as the month before: loaded again as part of this
    # snapshot (skipped, its records would have been ended)
    again = {f.file: f.message for f in second.files if f.delivery == "20240201"}
    assert again["市场监管_企业基本信息_20240201_全量.csv"].startswith("loaded again")
    assert {f.status for f in second.files if f.delivery == "20240201"} == {"loaded"}
    # idempotent
    before = _snapshot(clean_db, settings)
    third = ingest_inbox(clean_db, settings, inbox)
    assert third.ok and {f.status for f in third.files} == {"skipped"}
    assert _snapshot(clean_db, settings) == before


def test_a_record_back_in_a_later_snapshot_is_current_again(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    """A record ended by a full snapshot that omits it and delivered again by a later one is
    current again: relationships too (their ``ended`` is cleared like a node's)."""
    codes = [uscc(serial=i) for i in range(1, 4)]
    inbox = tmp_path / "inbox"
    for date, holders in (("20240101", codes), ("20240201", codes[1:]),
                          ("20240301", codes)):
        _deliver(inbox, date, "全量", [enterprise_row(x, f"企业{x[-4:]}", 备注=date)
                                       for x in codes])
        # (each file differs from the earlier ones: the same bytes again would be skipped)
        _holders(inbox, date, [_holder(x, f"股东{codes.index(x)}", codes.index(x),
                                       amount=date[4:6]) for x in holders])
        report = ingest_inbox(clean_db, settings, inbox, force=True)
        assert report.ok, [(f.file, f.message) for f in report.files]
        rows = _read(clean_db, settings, "MATCH (:Person)-[r:SHAREHOLDER_OF]->(e:Enterprise) "
                     "RETURN e.uscc AS u, r.ended AS x, r.ended_run AS run")
        got = {r["u"]: (r["x"], r["run"] is not None) for r in rows}
        if date == "20240201":
            assert got == {codes[0]: ("2024-02-01", True), codes[1]: (None, False),
                           codes[2]: (None, False)}
        else:
            assert got == {x: (None, False) for x in codes}


def test_two_header_cells_read_as_one_column_reject_their_file(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path) -> None:
    """A CSV and a sheet whose header holds one declared column twice (once cleaned, with
    no exact declared header to prefer) are rejected like any unusable file: named in the run
    report, the HTML and the summary with both cells, their places and the column; the rest
    of the delivery loads, and the run is not ok ("done, but": exit 1)."""
    from openpyxl import Workbook

    inbox = tmp_path / "inbox"
    small_inbox(inbox)
    write_csv(inbox / "20240101" / "tips" / "举报线索_全量.csv",
              ["举报编号", "举报日期", "被举报对象", "举报编号 "],
              [["T1", "2024-01-01", "某公司", "T1"]])
    wb = Workbook()
    sheet = wb.active
    sheet.title = "账户异动"
    sheet.append(["账户主体名称", "主体代码", "监测期起", "异动特征", "主体代码 "])
    sheet.append(["某公司", uscc("410502", 1), "2024-01-01", "快进快出", uscc("410502", 1)])
    (inbox / "20240101" / "bank").mkdir(parents=True)
    wb.save(inbox / "20240101" / "bank" / "银行_监测数据_全量.xlsx")
    report = ingest_inbox(clean_db, settings, inbox)
    assert not report.ok
    rejected = {f.file: f.message for f in report.files if f.status == "rejected"}
    assert set(rejected) == {"举报线索_全量.csv", "银行_监测数据_全量.xlsx"}, rejected
    assert rejected["举报线索_全量.csv"].startswith(
        "table 举报线索: header cells '举报编号' (column 1) and '举报编号 ' (column 4) are both "
        "read as column 举报编号 — deliver each column once")
    assert rejected["银行_监测数据_全量.xlsx"].startswith(
        "table 账户异动 (sheet '账户异动'): header cells '主体代码' (column B) and "
        "'主体代码 ' (column E) are both read as column 统一社会信用代码或证件号码")
    counts = access.counts(clean_db, settings.neo4j_database)["nodes"]
    assert counts["Enterprise"] == 3 and "Tip" not in counts
    assert "BankAlert" not in counts
    text = summary(report)
    assert ("REJECTED: 20240101/tips/举报线索_全量.csv: table 举报线索: header cells '举报编号' "
            "(column 1) and '举报编号 ' (column 4)") in text
    saved = json.loads(Path(report.report_path).read_text(encoding="utf-8"))
    assert {f["file"]: f["message"] for f in saved["files"] if f["status"] == "rejected"} == \
        rejected
    html = Path(report.html_path).read_text(encoding="utf-8")
    assert "header cells &#x27;主体代码&#x27; (column B)" in html


TAX_LAYOUTS = {
    # name: (workbook?, date of the later 纳税人信息 snapshot, of the later 申报汇总 snapshot)
    "one delivery, two CSVs": (False, "20240201", "20240201"),
    "one delivery, one workbook": (True, "20240201", "20240201"),
    "taxpayers first": (False, "20240201", "20240301"),
    "declarations first": (False, "20240301", "20240201"),
}


def _tax_years(driver: neo4j.Driver, settings: Settings) -> dict[int, dict[str, Any]]:
    rows = _read(driver, settings, "MATCH (:Enterprise)-[:FILED_TAX]->(t:TaxYear) "
                 "RETURN t.year AS y, properties(t) AS p")
    return {r["y"]: r["p"] for r in rows}


def _tax_facts(driver: neo4j.Driver, settings: Settings, code: str) -> dict[int, dict]:
    from analytics import facts, projection

    proj = projection.project(driver, database=settings.neo4j_database)
    bundle = facts.gather(proj, [proj.index[("Enterprise", code)]])[0]
    return {int(f["year"]): f for f in bundle.of("tax")}


def _iso(date: str) -> str:
    return f"{date[:4]}-{date[4:6]}-{date[6:]}"


@pytest.mark.parametrize("layout", list(TAX_LAYOUTS))
def test_tax_snapshots_end_only_their_own_part_of_a_tax_year(
        clean_db: neo4j.Driver, settings: Settings, tmp_path: Path, layout: str) -> None:
    """纳税人信息 and 申报汇总 both write TaxYear ``<uscc>|<year>``: a full snapshot of one
    ends only its own part of the years it omits; the other table's facts of that year stay
    current (and in scoring's facts), whatever the order or the files they come in."""
    from tests.ingest_fixtures import declaration_row, tax_files, taxpayer_row

    workbook, tp_date, decl_date = TAX_LAYOUTS[layout]
    a = uscc(serial=1)
    inbox = tmp_path / "inbox"
    _deliver(inbox, "20240101", "全量", [enterprise_row(a, "企业甲")])
    tax_files(inbox / "20240101" / "tax", "20240101",
              [taxpayer_row(a, 2023), taxpayer_row(a, 2024, "非正常户", "D")],
              [declaration_row(a, 2022), declaration_row(a, 2023, zero_months=9),
               declaration_row(a, 2024)], workbook)
    # a corrected 2023 status comes last: 纳税人信息 is the last to write that year
    tax_files(inbox / "20240115" / "tax", "20240115", [taxpayer_row(a, 2023, grade="A")],
              None, workbook, kind="增量")
    assert ingest_inbox(clean_db, settings, inbox).ok
    later: dict[str, tuple[Any, Any]] = {tp_date: ([taxpayer_row(a, 2024, "非正常户", "D")],
                                                   None)}
    later[decl_date] = (later.get(decl_date, (None, None))[0],
                        [declaration_row(a, 2023, zero_months=9)])
    for date, (taxpayers, declarations) in sorted(later.items()):
        tax_files(inbox / date / "tax", date, taxpayers, declarations, workbook)
        report = ingest_inbox(clean_db, settings, inbox, force=True)  # ≥ 50 % smaller
        assert report.ok, [(f.file, f.message) for f in report.files]
        years = _tax_years(clean_db, settings)
        # 2023 is still declared, 2024 still has its status and grade: neither ends
        assert years[2023].get("ended") is None and years[2024].get("ended") is None, date
    decl_ended, tp_ended = _iso(decl_date), _iso(tp_date)
    years = _tax_years(clean_db, settings)
    # 2022: only ever declared, the 申报汇总 snapshot omits it: the record ends
    assert (years[2022]["ended_declaration"], years[2022]["ended"]) == (decl_ended, decl_ended)
    assert years[2022]["ended_run"]
    # 2023: the 纳税人信息 snapshot omits it (its part ends), still declared: current
    assert years[2023]["ended_taxpayer"] == tp_ended and years[2023].get("ended_run") is None
    assert years[2023].get("ended_declaration") is None and years[2023]["zero_months"] == 9
    # 2024: the 申报汇总 snapshot omits it (its part ends), status and grade still delivered
    assert years[2024]["ended_declaration"] == decl_ended
    assert years[2024].get("ended_taxpayer") is None
    assert (years[2024]["tax_status"], years[2024]["credit_grade"]) == ("非正常户", "D")
    # scoring reads the same: the 2023 declaration and the 2024 grade are current facts
    tax = _tax_facts(clean_db, settings, a)
    assert tax[2023].get("ended") is None and tax[2023]["zero_months"] == 9
    assert tax[2024].get("ended") is None and tax[2024]["credit_grade"] == "D"
    assert tax[2022]["ended"] == decl_ended
    # … and the indicators read only the current parts: 2023's ended grade no longer counts
    from analytics.indicators import current_tax
    assert tax[2023]["ended_taxpayer"] == tp_ended and tax[2023]["credit_grade"] == "A"
    assert "credit_grade" not in (current_tax(tax[2023]) or {})
    assert current_tax(tax[2022]) is None
    # idempotent: the same inbox again changes nothing
    before = _snapshot(clean_db, settings)
    again = ingest_inbox(clean_db, settings, inbox)
    assert again.ok and {f.status for f in again.files} == {"skipped"}
    assert _snapshot(clean_db, settings) == before
    # every year delivered again by both tables in one delivery: every part current again
    tax_files(inbox / "20240401" / "tax", "20240401",
              [taxpayer_row(a, 2022, grade="A"), taxpayer_row(a, 2023),
               taxpayer_row(a, 2024, "非正常户", "D")],
              [declaration_row(a, 2022), declaration_row(a, 2023, zero_months=9),
               declaration_row(a, 2024, revenue="")], workbook)
    back = ingest_inbox(clean_db, settings, inbox)
    assert back.ok, [(f.file, f.message) for f in back.files]
    years = _tax_years(clean_db, settings)
    for year, props in years.items():
        assert not {k for k, v in props.items() if k.startswith("ended") and v}, year
        assert props["seen_taxpayer"] and props["seen_declaration"], year
    assert "revenue_yuan" not in years[2024]  # the new version's empty value removes it
    assert years[2022]["credit_grade"] == "A"


def test_quarantine_rows_name_their_sheet(clean_db: neo4j.Driver, settings: Settings,
                                          tmp_path: Path) -> None:
    """A quarantine file ends with a ``sheet`` column: the workbook sheet of the failed row
    (empty for a CSV); the columns before it keep their names and order."""
    from openpyxl import Workbook

    from ingest.report import QUARANTINE_COLUMNS

    codes = [uscc(serial=i) for i in range(1, 5)]
    reg = tmp_path / "inbox" / "20240101" / "registration"
    write_csv(reg / "市场监管_企业基本信息_20240101_全量.csv", ENT_HEADER,
              [enterprise_row(codes[0], "企业0"),
               enterprise_row(codes[1], "企业1", 成立日期="2023-02-30")])
    wb = Workbook()
    first = wb.active
    first.title = "说明"  # a sheet naming no table, ignored
    first.append(["本文件含登记数据"])
    ws = wb.create_sheet("企业基本信息")
    ws.append(ENT_HEADER)
    ws.append(enterprise_row(codes[2], "企业2"))
    ws.append(enterprise_row(codes[3], "企业3", 成立日期="2023-02-31"))
    holders = wb.create_sheet("股东及出资信息")
    holders.append(HOLDER_HEADER)
    holders.append(_holder(codes[2], "张三", 3, ratio="五成"))
    wb.save(reg / "市场监管_登记数据_20240101_全量.xlsx")
    report = ingest_inbox(clean_db, settings, tmp_path / "inbox", run_id="r-sheet")
    assert report.quarantined == 3
    folder = settings.quarantine_dir / "r-sheet"

    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames or ()) == QUARANTINE_COLUMNS
            return list(reader)

    assert QUARANTINE_COLUMNS == ("delivery", "source", "file", "row", "column", "rule",
                                  "value", "value_hash", "sheet")
    found = {(r["file"], r["row"], r["sheet"])
             for r in rows("20240101_registration_企业基本信息.csv")}
    assert found == {("市场监管_企业基本信息_20240101_全量.csv", "3", ""),
                     ("市场监管_登记数据_20240101_全量.xlsx", "3", "企业基本信息")}
    assert [(r["row"], r["sheet"]) for r in rows("20240101_registration_股东及出资信息.csv")
            ] == [("2", "股东及出资信息")]
