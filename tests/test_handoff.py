"""Cross-region hand-off package (DOCX + JSON) and hand-off status, on the real Neo4j."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import docx
import pytest

from graph import access
from riskgraph.errors import RejectedError
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E4,
    E6,
    GROUP,
    OTHER,
    RUN_LIVE,
    A,
    B,
    SmallGraph,
    small_graph,
)
from workflow import handoff

pytestmark = pytest.mark.neo4j


def test_package_json_contents(small_graph: SmallGraph, tmp_path: Path) -> None:  # noqa: F811
    g = small_graph
    docx_path, json_path = handoff.write_package(g.driver, g.settings, GROUP, tmp_path, "city")
    package = json.loads(json_path.read_text(encoding="utf-8"))
    assert package["group_id"] == GROUP and package["run_id"] == RUN_LIVE
    assert package["proposed_lead_region"] == {"code": A, "name": "老城区"}
    assert package["controller"]["name"] == "张某某" and package["controller"]["region"] == A
    regions = {r["region"]: [m["uscc"] for m in r["members"]]
               for r in package["members_by_region"]}
    assert regions == {A: [E1], B: [E4], OTHER: [E6]}
    e1 = package["members_by_region"][0]["members"][0]
    assert e1["level"] == "red" and [i["id"] for i in e1["indicators"]] == [
        "court_plaintiffs", "pension_promise"]
    assert e1["indicators"][0]["source"] == "court"
    investors = {r["region"]: r["investors"] for r in package["investors_by_region"]}
    assert investors == {"": 1, A: 1, B: 1} and package["investor_count"] == 3
    contacts = {c["region"]: c for c in package["contacts"]}
    assert set(contacts) == {A, B, OTHER} and all(c["placeholder"] for c in contacts.values())
    assert contacts[OTHER]["office"] == "河南省安阳市文峰区防范和处置非法集资领导小组办公室"
    assert package["handoff_status"] == "draft"
    text = "\n".join(p.text for p in docx.Document(str(docx_path)).paragraphs)
    cells = "\n".join(c.text for t in docx.Document(str(docx_path)).tables
                      for r in t.rows for c in r.cells)
    assert "老城区防范和处置非法集资领导小组办公室：" in text and "张某某" in text
    assert E4 in cells and "【占位】" in cells and "court_plaintiffs" in cells


def test_package_counts_current_investors_only(small_graph: SmallGraph,  # noqa: F811
                                               tmp_path: Path) -> None:
    """A plaintiff link the court's latest full delivery no longer held is not counted."""
    g = small_graph
    access.write(g.driver, "MATCH (:Party {party_id: 'X:wft-inv3'})-[r:PARTY_TO]->(:CourtCase) "
                           "SET r.ended = '2025-03-31'")
    _, json_path = handoff.write_package(g.driver, g.settings, GROUP, tmp_path, "city")
    package = json.loads(json_path.read_text(encoding="utf-8"))
    investors = {r["region"]: r["investors"] for r in package["investors_by_region"]}
    assert investors == {A: 1, B: 1} and package["investor_count"] == 2


def test_real_contacts_from_home_file(small_graph: SmallGraph, tmp_path: Path) -> None:  # noqa: F811
    g = small_graph
    (tmp_path / "county_offices.json").write_text(json.dumps({"offices": {
        A: {"office": "老城区处非办", "contact": "周主任", "phone": "0379-1234567"}}}),
        encoding="utf-8")
    settings = dataclasses.replace(g.settings, home=tmp_path)
    package = handoff.build_package(g.driver, settings, GROUP)
    contacts = {c["region"]: c for c in package["contacts"]}
    assert contacts[A]["contact"] == "周主任" and not contacts[A]["placeholder"]
    assert contacts[B]["placeholder"]


def test_handoff_status_moves_along_the_table(small_graph: SmallGraph) -> None:  # noqa: F811
    g = small_graph
    with pytest.raises(RejectedError, match="not allowed"):
        handoff.set_handoff_status(g.driver, GROUP, "accepted", "city")
    assert handoff.set_handoff_status(g.driver, GROUP, "draft", "city", lead=A) == "draft"
    assert handoff.set_handoff_status(g.driver, GROUP, "sent", "city") == "sent"
    assert handoff.set_handoff_status(g.driver, GROUP, "accepted", "lead_county") == "accepted"
    grp = access.read(g.driver, "MATCH (g:Group {group_id: $g}) RETURN g.handoff_status AS s, "
                      "g.handoff_lead AS lead", {"g": GROUP})[0]
    assert grp == {"s": "accepted", "lead": A}
    rows = access.read(g.driver, "MATCH (ev:LedgerEvent)-[:EVENT_OF]->(:Group {group_id: $g}) "
                       "RETURN ev.user AS user, ev.changes AS changes ORDER BY ev.at", {"g": GROUP})
    assert [json.loads(r["changes"])["handoff_status"][1] for r in rows] == [
        "draft", "sent", "accepted"]
    assert rows[-1]["user"] == "lead_county"
    with pytest.raises(RejectedError, match="no group"):
        handoff.set_handoff_status(g.driver, "nope", "draft", "city")
