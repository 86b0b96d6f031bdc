"""A small graph for the dashboard tests, written through ``graph.access`` (real Neo4j).

Three counties of 安阳市 (文峰区 410502, 北关区 410503, 林州市 410581); two scoring runs
(``R1`` earlier, ``R2`` live) with ScoreRecords following the read contract; a cross-region
group; court cases (one ended), clues, tips, changes, a bank alert, an ad; persons (one former
shareholding, ended); a Run history with
timings, an Alert and Delivery nodes; and one enterprise with a hostile name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph import access
from riskgraph.identifiers import uscc_check_char
from tests import versioned

HOSTILE = "<img src=x onerror=alert(1)>投资公司"
WENFENG, BEIGUAN, LINZHOU = "410502", "410503", "410581"


def uscc(county: str, n: int) -> str:
    """A valid USCC for enterprise ``n`` of ``county``."""
    first17 = f"91{county}MA{n:07d}"
    return first17 + uscc_check_char(first17)


E = {name: uscc(county, i) for i, (name, county) in enumerate([
    ("core", WENFENG), ("shell1", WENFENG), ("shell2", BEIGUAN), ("far", LINZHOU),
    ("clean", WENFENG), ("hostile", WENFENG), ("coop", BEIGUAN), ("pension", LINZHOU),
], start=1)}

ENTERPRISES = [
    (E["core"], "安阳鑫盛财富投资管理有限公司", WENFENG, 91.5, "red", "投资理财", "地方金融监管局"),
    (E["shell1"], "安阳鑫盛商贸有限公司", WENFENG, 72.0, "orange", "商贸", "市场监管局"),
    (E["shell2"], "安阳北关鑫盛养老服务有限公司", BEIGUAN, 65.0, "orange", "养老机构", "民政局"),
    (E["far"], "林州鑫盛农业专业合作社", LINZHOU, 55.0, "yellow", "农民专业合作社", "农业农村局"),
    (E["clean"], "安阳文峰面包房有限公司", WENFENG, 5.0, "none", "餐饮", "市场监管局"),
    (E["hostile"], HOSTILE, WENFENG, 45.0, "yellow", "投资理财", "地方金融监管局"),
    (E["coop"], "北关惠农合作社", BEIGUAN, 25.0, "blue", "农民专业合作社", "农业农村局"),
    (E["pension"], "林州康乐养老院", LINZHOU, 30.0, "blue", "养老机构", "民政局"),
]
GROUP_ID = "G-0001"
ENDED = "2025-03-01"
"""The full delivery that no longer held the sample's ended facts."""
PROV = {"src": "sample", "delivery": "20250301", "file": "sample.csv", "row": 2, "run_id": "I1"}


def _explanation(uscc_: str, score: float, boost: float) -> str:
    indicators = [
        {"id": "high_return_ad", "source": "广告监测", "delivery": "20250301",
         "value": "年化15%保本", "contribution": round(score * 0.4 * boost, 1)},
        {"id": "many_plaintiffs", "source": "法院", "delivery": "20250215",
         "value": 23, "contribution": round(score * 0.3, 1)},
    ]
    if boost > 1:
        indicators.append({"id": "police_clue", "source": "公安", "delivery": "20250310",
                           "value": "线索1条", "contribution": 5.0})
    paths = [] if uscc_ == E["core"] else [{
        "nodes": [uscc_, "P:zhang", E["core"]], "labels": ["Enterprise", "Person", "Enterprise"],
        "rels": ["LEGAL_REP_OF", "CONTROLS"], "from": E["core"], "contribution": 8.0}]
    return json.dumps({"indicators": indicators, "paths": paths, "direct": score * 0.7,
                       "linked": score * 0.3,
                       "linked_by": {"people": round(score * 0.2, 1),
                                     "phone": round(score * 0.1, 1)}}, ensure_ascii=False)


def _rel(driver: Driver, type_: str, src_label: str, dst_label: str,
         rows: list[tuple[Any, Any, dict[str, Any]]]) -> None:
    access.merge_relationships(driver, type_, src_label, dst_label, [
        {"src": s, "dst": d, "rk": "", "props": {**PROV, **p}} for s, d, p in rows])


def build(driver: Driver, home: Path | None = None) -> None:
    """Write the sample graph (idempotent) and, with ``home``, a run report file."""
    access.write(driver, "MATCH (n) DETACH DELETE n")
    access.merge_nodes(driver, "Enterprise", [
        {"key": u, "props": {**PROV, "uscc": u, "name": n, "name_norm": n.upper(),
                             "county": c, "in_city": True, "status": "存续",
                             "founded": "2021-05-01", "legal_rep": "张三",
                             "reg_capital_wan": 1000.0, "address": "安阳市文峰区中华路1号",
                             # the bakery is not in the latest full registration delivery
                             **({"ended": ENDED} if u == E["clean"] else {})}}
        for u, n, c, *_ in ENTERPRISES])
    access.merge_nodes(driver, "Person", [
        {"key": "P:zhang", "props": {**PROV, "pid": "P:zhang", "name": "张三",
                                     "name_masked": "张某", "id_masked": "410502********1234",
                                     "region": WENFENG, "confidence": 1.0}},
        {"key": "P:li", "props": {**PROV, "pid": "P:li", "name": "李四", "name_masked": "李某",
                                  "id_masked": "410581********5678", "region": LINZHOU,
                                  "confidence": 1.0}},
        {"key": "P:evil", "props": {**PROV, "pid": "P:evil", "name": "<script>alert(2)</script>",
                                    "name_masked": "<某>", "id_masked": "410502********0000",
                                    "region": WENFENG, "confidence": 1.0}},
    ])
    access.merge_nodes(driver, "Address", [{"key": "A:1", "props": {
        **PROV, "aid": "A:1", "text": "安阳市文峰区中华路1号", "county": WENFENG}}])
    access.merge_nodes(driver, "CourtCase", [
        {"key": f"(2025)豫0502民初{i}号", "props": {
            **PROV, "case_no": f"(2025)豫0502民初{i}号", "cause": "民间借贷纠纷",
            "filed": f"2025-02-{10 + i:02d}", "amount_yuan": 500000.0 * i,
            # case 2 is no longer in the court's latest full delivery (history, not scored)
            **({"ended": ENDED} if i == 2 else {})}} for i in (1, 2)])
    access.merge_nodes(driver, "Party", [
        {"key": f"X:{i}", "props": {**PROV, "party_id": f"X:{i}", "name": f"王*{i}"}}
        for i in range(1, 4)])
    access.merge_nodes(driver, "PoliceClue", [{"key": "JZ2025001", "props": {
        **PROV, "clue_no": "JZ2025001", "status": "初查", "delivery": "20250310"}}])
    access.merge_nodes(driver, "Tip", [{"key": "JB2025001", "props": {
        **PROV, "tip_no": "JB2025001", "status": "已受理", "summary": "承诺高息",
        "delivery": "20250312"}}])
    access.merge_nodes(driver, "Change", [{"key": f"{E['core']}|abc", "props": {
        **PROV, "change_id": f"{E['core']}|abc", "item": "经营范围", "before": "商贸",
        "after": "投资咨询", "date": "2025-01-15"}}])
    access.merge_nodes(driver, "Ad", [{"key": "AD001", "props": {
        **PROV, "ad_id": "AD001", "title": "年化15%保本保息", "date": "2025-02-20"}}])
    access.merge_nodes(driver, "BankAlert", [{"key": f"{E['core']}|2025-01-01|快进快出", "props": {
        **PROV, "alert_id": f"{E['core']}|2025-01-01|快进快出", "pattern": "快进快出",
        "period_from": "2025-01-01", "amount_yuan": 3000000.0}}])
    _rel(driver, "LEGAL_REP_OF", "Person", "Enterprise",
         [("P:zhang", E["core"], {}), ("P:zhang", E["shell1"], {}),
          ("P:li", E["far"], {}), ("P:evil", E["hostile"], {})])
    _rel(driver, "SHAREHOLDER_OF", "Person", "Enterprise",
         [("P:zhang", E["core"], {"ratio": 0.8}),
          # a former shareholding: the latest full registration delivery no longer lists it
          ("P:zhang", E["shell2"], {"ratio": 0.6, "ended": ENDED})])
    _rel(driver, "SHAREHOLDER_OF", "Enterprise", "Enterprise",
         [(E["core"], E["far"], {"ratio": 0.51}), (E["core"], E["hostile"], {"ratio": 0.3})])
    _rel(driver, "CONTROLS", "Person", "Enterprise",
         [("P:zhang", u, {"share": 0.8}) for u in (E["core"], E["shell1"], E["shell2"])])
    _rel(driver, "REGISTERED_AT", "Enterprise", "Address",
         [(E["core"], "A:1", {}), (E["shell1"], "A:1", {})])
    _rel(driver, "PARTY_TO", "Enterprise", "CourtCase",
         [(E["core"], f"(2025)豫0502民初{i}号", {"role": "被告"}) for i in (1, 2)])
    _rel(driver, "PARTY_TO", "Party", "CourtCase",
         [(f"X:{i}", f"(2025)豫0502民初{1 + i % 2}号", {"role": "原告"}) for i in range(1, 4)])
    _rel(driver, "SUBJECT_OF", "Enterprise", "PoliceClue", [(E["core"], "JZ2025001", {})])
    _rel(driver, "TIPPED_IN", "Enterprise", "Tip", [(E["shell2"], "JB2025001", {})])
    _rel(driver, "HAS_CHANGE", "Enterprise", "Change", [(E["core"], f"{E['core']}|abc", {})])
    _rel(driver, "ADVERTISED_IN", "Enterprise", "Ad", [(E["core"], "AD001", {})])
    _rel(driver, "FLAGGED_IN", "Enterprise", "BankAlert",
         [(E["core"], f"{E['core']}|2025-01-01|快进快出", {})])
    _write_runs_and_scores(driver)
    if home is not None:
        _write_report(home)


def _write_runs_and_scores(driver: Driver) -> None:
    timings = json.dumps({"ingest": 12.5, "score": 30.1, "alert": 0.4})
    span = versioned.ranges(["R1", "R2"])
    access.merge_nodes(driver, "Run", [
        {"key": "R1", "props": {"run_id": "R1", "started": "2025-02-01T02:00:00",
                                "finished": "2025-02-01T02:01:00", "status": "ok",
                                "live": False, "kind": "refresh", "timings": timings,
                                "seq": span["R1"]["seq"]}},
        {"key": "R2", "props": {"run_id": "R2", "started": "2025-03-01T02:00:00",
                                "finished": "2025-03-01T02:01:10", "status": "ok",
                                "live": True, "kind": "refresh", "timings": timings,
                                "seq": span["R2"]["seq"]}},
        {"key": "R3", "props": {"run_id": "R3", "started": "2025-03-02T02:00:00",
                                "status": "failed", "live": False, "kind": "refresh",
                                "error": "ingest stopped"}},
    ])
    records = []
    for run_id, factor in (("R1", 0.8), ("R2", 1.0)):
        for u, name, county, score, level, sector, dept in ENTERPRISES:
            value = round(score * factor, 1)
            lvl = level if factor == 1.0 else ("orange" if level == "red" else level)
            member = u in (E["core"], E["shell1"], E["shell2"], E["far"])
            records.append({"key": f"{run_id}|{u}", "props": {
                "record_id": f"{run_id}|{u}", "uscc": u, "run_id": run_id, "name": name,
                "county": county, "score": value, "level": lvl,
                "reasons": ["high_return_ad", "many_plaintiffs"] if value > 20 else [],
                "explanation": _explanation(u, value, 1.2 if factor == 1.0 else 1.0),
                "group_id": GROUP_ID if member else None, "cross_region": member,
                "lead_region": WENFENG if member else None, "sector": sector,
                "department": dept, "model_version": "1",
                "from_seq": span[run_id]["from_seq"], "to_seq": span[run_id]["to_seq"]}})
    access.merge_nodes(driver, "ScoreRecord", records)
    access.merge_relationships(driver, "SCORED_AS", "Enterprise", "ScoreRecord", [
        {"src": r["props"]["uscc"], "dst": r["key"], "rk": "", "props": {}} for r in records])
    members = [E["core"], E["shell1"], E["shell2"], E["far"]]
    access.merge_nodes(driver, "Group", [{"key": GROUP_ID, "props": {
        "group_id": GROUP_ID, "members": 4, "score": 91.5,
        "counties": [WENFENG, BEIGUAN, LINZHOU], "cities": ["410500"], "cross_region": True,
        "lead_region": WENFENG, "controller": "张三"}}])
    access.merge_relationships(driver, "MEMBER_OF", "Enterprise", "Group", [
        {"src": u, "dst": GROUP_ID, "rk": "", "props": {}} for u in members])
    access.merge_nodes(driver, "Alert", [{"key": "AL1", "props": {
        "alert_key": "AL1", "kind": "new_red", "county": WENFENG, "status": "open",
        "at": "2025-03-01T02:01:10", "message": "新增红色预警企业1家"}}])
    access.merge_nodes(driver, "Delivery", [
        {"key": f"20250301/{s}", "props": {"delivery_id": f"20250301/{s}", "source": s,
                                          "date": "20250301"}}
        for s in ("市场监管", "法院", "公安")])


def _write_report(home: Path) -> None:
    folder = home / "runs" / "R2"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps({
        "run_id": "R2-ingest", "started": "2025-03-01T02:00:00",
        "finished": "2025-03-01T02:00:40",
        "files": [{"delivery": "20250301", "source": "registration", "file": "市场监管_登记.csv",
                   "status": "loaded", "message": "",
                   "tables": [{"table": "登记信息", "rows_read": 9, "rows_loaded": 8,
                               "rows_quarantined": 1, "duplicates": 0, "status": "loaded",
                               "rules": {"uscc_check": 1}}]},
                  {"delivery": "20250301", "source": "court", "file": "法院_案件.csv",
                   "status": "loaded", "message": "",
                   "tables": [{"table": "案件", "rows_read": 2, "rows_loaded": 2,
                               "rows_quarantined": 0, "duplicates": 0, "status": "loaded",
                               "rules": {}}]}],
        "totals": {"files": 2, "rows_read": 11, "rows_loaded": 10, "rows_quarantined": 1,
                   "duplicates": 0, "rejected_files": 0},
    }, ensure_ascii=False), encoding="utf-8")
