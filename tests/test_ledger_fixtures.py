"""A known small graph for the workflow tests (ledger, reports, hand-off), on the real Neo4j.

City 洛阳市 (410300): 老城区 410302 (A) and 西工区 410303 (B); one group member sits in 安阳市文峰区
410502 (another city). Two scoring runs; ``wft-run-2`` is live. Every node written here carries
``wf_test = true``; the fixture removes them, every ledger entry of 4103xx and the history rows,
and gives the live flag back to whichever run had it before.

Import the fixture in a test module with ``from tests.test_ledger_fixtures import small_graph``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from neo4j import Driver

from graph import access, cypher, schema
from riskgraph.settings import Settings
from tests import versioned

A, B, OTHER = "410302", "410303", "410502"
E1, E2, E3, E4, E5, E6 = (f"91{c}MAWFT000{i}X" for i, c in
                          enumerate([A, A, A, B, A, OTHER], start=1))
GROUP = "wft-group-1"
RUN_OLD, RUN_LIVE = "wft-run-1", "wft-run-2"
CONTROLLER = "P:wft-ctrl"


@dataclass(frozen=True)
class SmallGraph:
    driver: Driver
    settings: Settings


SPAN = versioned.ranges([RUN_OLD, RUN_LIVE])


def _records(run_id: str, rows: list[tuple]) -> list[dict]:
    out = []
    for uscc, name, county, score, level, sector, dept, reasons, group in rows:
        out.append({"key": f"{run_id}|{uscc}", "props": {
            "from_seq": SPAN[run_id]["from_seq"], "to_seq": SPAN[run_id]["to_seq"],
            "uscc": uscc, "run_id": run_id, "name": name, "county": county, "score": score,
            "level": level, "reasons": reasons, "explanation": json.dumps({"indicators": [
                {"id": r, "source": "court", "delivery": "20250301", "value": 1,
                 "contribution": 10.0} for r in reasons], "paths": [], "direct": 10.0,
                "linked": 0.0}), "group_id": group,
            "cross_region": group is not None, "lead_region": A if group else None,
            "sector": sector, "department": dept, "model_version": "test", "wf_test": True}})
    return out


ENTERPRISES = [
    (E1, "洛阳甲养老服务有限公司", A), (E2, "@洛阳乙投资咨询有限公司", A),
    (E3, "洛阳丙商贸有限公司", A), (E4, "洛阳丁农民专业合作社", B),
    (E5, "洛阳戊科技有限公司", A), (E6, "安阳己财富管理有限公司", OTHER),
]

LIVE_ROWS = [
    (E1, "洛阳甲养老服务有限公司", A, 85.0, "red", "养老机构", "民政部门",
     ["court_plaintiffs", "pension_promise"], GROUP),
    (E2, "@洛阳乙投资咨询有限公司", A, 65.0, "orange", "投资咨询", "市场监管部门",
     ["ad_returns"], None),
    (E3, "洛阳丙商贸有限公司", A, 45.0, "yellow", "", "", ["zero_tax"], None),
    (E4, "洛阳丁农民专业合作社", B, 90.0, "red", "农民专业合作社", "农业农村部门",
     ["bank_fanin"], GROUP),
    (E5, "洛阳戊科技有限公司", A, 10.0, "blue", "", "", [], None),
]


_SCHEMA: list[bool] = []


def build(driver: Driver) -> None:
    """Write the known small graph (idempotent)."""
    if not _SCHEMA:
        schema.apply_schema(driver)
        _SCHEMA.append(True)
    access.merge_nodes(driver, "Enterprise", [
        {"key": u, "props": {"name": n, "county": c, "legal_rep": "李某", "wf_test": True}}
        for u, n, c in ENTERPRISES])
    access.merge_nodes(driver, "Run", [
        {"key": RUN_OLD, "props": {"started": "2025-02-01T02:00:00", "status": "ok",
                                   "live": False, "wf_test": True,
                                   "seq": SPAN[RUN_OLD]["seq"]}},
        {"key": RUN_LIVE, "props": {"started": "2025-03-01T02:00:00", "status": "ok",
                                    "live": False, "wf_test": True,
                                    "seq": SPAN[RUN_LIVE]["seq"]}}])
    records = _records(RUN_OLD, [LIVE_ROWS[0]]) + _records(RUN_LIVE, LIVE_ROWS)
    access.merge_nodes(driver, "ScoreRecord", records)
    access.merge_relationships(driver, "SCORED_AS", "Enterprise", "ScoreRecord", [
        {"src": r["props"]["uscc"], "dst": r["key"], "rk": "", "props": {}} for r in records])
    access.merge_nodes(driver, "Group", [{"key": GROUP, "props": {
        "members": 3, "score": 88.0, "counties": [A, B, OTHER], "cities": ["410300", "410500"],
        "cross_region": True, "lead_region": A, "controller": CONTROLLER, "wf_test": True}}])
    access.merge_relationships(driver, "MEMBER_OF", "Enterprise", "Group", [
        {"src": u, "dst": GROUP, "rk": "", "props": {}} for u in (E1, E4, E6)])
    access.merge_nodes(driver, "Person", [
        {"key": CONTROLLER, "props": {"name": "张某某", "region": A, "wf_test": True}},
        {"key": "P:wft-inv1", "props": {"name": "王某", "region": A, "wf_test": True}},
        {"key": "P:wft-inv2", "props": {"name": "赵某", "region": B, "wf_test": True}}])
    access.merge_nodes(driver, "Party", [
        {"key": "X:wft-inv3", "props": {"name": "刘*", "wf_test": True}}])
    access.merge_relationships(driver, "CONTROLS", "Person", "Enterprise", [
        {"src": CONTROLLER, "dst": E1, "rk": "", "props": {"share": 0.8}}])
    access.merge_nodes(driver, "CourtCase", [
        {"key": "(2025)豫0302民初1号", "props": {"cause": "民间借贷纠纷", "wf_test": True}}])
    case = "(2025)豫0302民初1号"
    access.merge_relationships(driver, "PARTY_TO", "Enterprise", "CourtCase", [
        {"src": E1, "dst": case, "rk": "被告", "props": {"role": "被告"}}])
    access.merge_relationships(driver, "PARTY_TO", "Person", "CourtCase", [
        {"src": p, "dst": case, "rk": "原告", "props": {"role": "原告"}}
        for p in ("P:wft-inv1", "P:wft-inv2")])
    access.merge_relationships(driver, "PARTY_TO", "Party", "CourtCase", [
        {"src": "X:wft-inv3", "dst": case, "rk": "原告", "props": {"role": "原告"}}])
    access.merge_relationships(driver, "PAYS", "Person", "Enterprise", [
        {"src": "P:wft-inv1", "dst": E4, "rk": "", "props": {"amount_yuan": 50000}}])
    enforcement = "(2025)豫0302执100号"
    access.merge_nodes(driver, "CourtCase", [
        {"key": enforcement, "props": {"cause": "执行", "status": "终结本次执行",
                                       "amount_yuan": 1500000.0, "court": "洛阳市老城区人民法院",
                                       "wf_test": True}}])
    access.merge_relationships(driver, "PARTY_TO", "Enterprise", "CourtCase", [
        {"src": E2, "dst": enforcement, "rk": "被执行人", "props": {"role": "被执行人"}}])
    access.merge_nodes(driver, "PoliceClue", [{"key": "wft-clue-1", "props": {
        "title": "洛阳乙涉嫌非法吸收公众存款", "crime": "非法吸收公众存款", "status": "线索核查",
        "amount_wan": 120.5, "participants": 85, "unit": "老城分局经侦大队",
        "wf_test": True}}])
    access.merge_relationships(driver, "SUBJECT_OF", "Enterprise", "PoliceClue", [
        {"src": E2, "dst": "wft-clue-1", "rk": "", "props": {"role": "嫌疑单位"}}])
    access.merge_nodes(driver, "Tip", [{"key": "wft-tip-1", "props": {
        "date": "2025-03-08", "channel": "12345", "summary": "=HYPERLINK(\"http://x\",\"高息\")",
        "status": "待核查", "wf_test": True}}])
    access.merge_relationships(driver, "TIPPED_IN", "Enterprise", "Tip", [
        {"src": E2, "dst": "wft-tip-1", "rk": "", "props": {}}])


def clean(driver: Driver) -> None:
    """Remove everything the workflow tests wrote."""
    access.write(driver, "MATCH (e:LedgerEntry) WHERE e.county STARTS WITH '4103' "
                         "OPTIONAL MATCH (e)<-[:EVENT_OF|OUTCOME_OF]-(x) DETACH DELETE x, e")
    access.write(driver, "MATCH (g:Group {group_id: $g}) OPTIONAL MATCH (g)<-[:EVENT_OF]-(x) "
                         "DETACH DELETE x", {"g": GROUP})
    access.write(driver, "MATCH (n {wf_test: true}) DETACH DELETE n")


@pytest.fixture()
def small_graph(driver: Driver) -> Iterator[SmallGraph]:
    """The known small graph with ``wft-run-2`` live, in an otherwise empty graph (records
    left by other tests would be valid at its runs); removed again afterwards."""
    with driver.session() as session:
        session.run(cypher.delete_all_batched()).consume()
    build(driver)
    before = [r["run_id"] for r in access.read(
        driver, "MATCH (r:Run {live: true}) RETURN r.run_id AS run_id")]
    access.write(driver, "MATCH (r:Run {live: true}) SET r.live = false")
    access.write(driver, "MATCH (r:Run {run_id: $r}) SET r.live = true", {"r": RUN_LIVE})
    try:
        yield SmallGraph(driver, Settings(city="410300", ledger_level="orange"))
    finally:
        clean(driver)
        if before:
            access.write(driver, "UNWIND $ids AS id MATCH (r:Run {run_id: id}) "
                                 "SET r.live = true", {"ids": before})
