"""The dashboards' data layer against a real Neo4j holding the sample graph: the scope is
applied in the queries, out-of-scope nodes come back masked, exports are neutralised."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dashboards import data, exports, geo, network_view
from dashboards.i18n import STRINGS
from dashboards.scope import Scope, city_scope, county_scope, sector_scope
from tests.browser.sample_graph import BEIGUAN, ENDED, HOSTILE, LINZHOU, WENFENG, E
from tests.browser.support import DashGraph, dash_graph  # noqa: F401

pytestmark = pytest.mark.neo4j
COUNTIES = [WENFENG, BEIGUAN, "410505", LINZHOU]


def test_runs_follow_the_live_switch(dash_graph: DashGraph) -> None:  # noqa: F811
    runs = data.runs(dash_graph.driver, city_scope())
    assert runs.run_id == "R2" and runs.prev_id == "R1"


def test_county_scope_is_applied_in_the_query(dash_graph: DashGraph) -> None:  # noqa: F811
    own = data.enterprises(dash_graph.driver, county_scope(BEIGUAN))
    assert set(own["county"]) == {BEIGUAN}
    # asking a county scope for another county returns nothing, not the other county
    other = data.enterprises(dash_graph.driver, county_scope(BEIGUAN), county=WENFENG)
    assert other.empty
    everything = data.enterprises(dash_graph.driver, city_scope())
    assert len(everything) == 8
    assert list(everything["score"]) == sorted(everything["score"], reverse=True)
    core = everything.set_index("uscc").loc[E["core"]]
    assert core["prev_score"] == pytest.approx(73.2) and core["change"] == pytest.approx(18.3)
    assert not everything["is_new"].any()  # every firm was scored in R1 too


def test_change_marks_new_firms_and_the_first_run() -> None:
    from dashboards.ui.common import level_pills, with_labels

    frame = pd.DataFrame({"level": ["red", "orange", "blue"],
                          "prev_level": ["orange", None, None],
                          "is_new": [False, True, False]})
    shown = with_labels(frame)
    # 新: not scored in the previous run; None (drawn "—"): no previous run to compare with
    assert list(shown["prev_level"])[:2] == ["橙", "新"] and pd.isna(shown["prev_level"][2])
    assert list(shown["level"]) == ["红", "橙", "蓝"]
    pills, config = level_pills(shown.rename(columns={"level": "预警等级"}))
    assert list(pills["预警等级"]) == [["红"], ["橙"], ["蓝"]] and "预警等级" in config


def test_sector_scope(dash_graph: DashGraph) -> None:  # noqa: F811
    frame = data.enterprises(dash_graph.driver, sector_scope("养老机构"))
    assert set(frame["sector"]) == {"养老机构"} and len(frame) == 2


def test_county_overview_measures(dash_graph: DashGraph) -> None:  # noqa: F811
    overview = data.county_overview(dash_graph.driver, city_scope(), COUNTIES)
    row = overview.set_index("county").loc[WENFENG]
    assert row["high_risk"] == 2 and row["red"] == 1
    # case 2 (1,000,000 yuan, plaintiffs X:1 and X:3) ended: history, counted neither by the
    # scoring nor here; case 1 (500,000 yuan, plaintiff X:2) is current
    assert row["cases"] == 1 and row["amount_wan"] == pytest.approx(50.0)
    assert row["investors"] == 1 and row["new_clues"] >= 1
    only_own = data.county_overview(dash_graph.driver, county_scope(LINZHOU), COUNTIES)
    assert list(only_own["county"]) == [LINZHOU]


def test_network_masks_outside_scope(dash_graph: DashGraph) -> None:  # noqa: F811
    net = data.network(dash_graph.driver, county_scope(WENFENG), E["core"], depth=2)
    outside = [n for n in net.nodes.values() if not n["visible"]]
    assert outside, "the Linzhou/Beiguan firms should appear as placeholders"
    assert all(n["name"] == "外县企业" and n["key"] is None and n.get("score") is None
               for n in outside)  # placeholders: the path stays, the firm's details do not
    names = {n["name"] for n in net.nodes.values()}
    assert "林州鑫盛农业专业合作社" not in names and "安阳北关鑫盛养老服务有限公司" not in names
    full = data.network(dash_graph.driver, city_scope(), E["core"], depth=2)
    assert "林州鑫盛农业专业合作社" in {n["name"] for n in full.nodes.values()}
    capped = data.network(dash_graph.driver, city_scope(), E["core"], depth=3, max_nodes=3)
    assert capped.capped and len(capped.nodes) == 3


def test_network_masks_persons_without_permission(dash_graph: DashGraph) -> None:  # noqa: F811
    scope = Scope("sector", None, None, can_see_persons=False, can_see_police_credit=False)
    net = data.network(dash_graph.driver, scope, E["core"], depth=1)
    persons = [n for n in net.nodes.values() if n["label"] == "Person"]
    assert persons and all(n["name"] == "张某" and n["key"] is None for n in persons)


def test_profile_out_of_scope_is_none(dash_graph: DashGraph) -> None:  # noqa: F811
    assert data.profile(dash_graph.driver, county_scope(BEIGUAN), E["core"]) is None
    found = data.profile(dash_graph.driver, city_scope(), E["core"])
    assert found is not None and found["score"]["level"] == "red"
    assert {i["id"] for i in found["explanation"]["indicators"]} >= {"high_return_ad"}
    changed = data.changes(found["explanation"], found["previous_explanation"])
    assert "police_clue" in set(changed["indicator"])


def test_timeline_hides_police_for_county(dash_graph: DashGraph) -> None:  # noqa: F811
    full = data.timeline(dash_graph.driver, city_scope(), E["core"])
    assert {"PoliceClue", "CourtCase", "Change", "Ad", "BankAlert"} <= set(full["kind"])
    county = data.timeline(dash_graph.driver, county_scope(WENFENG), E["core"])
    assert "PoliceClue" not in set(county["kind"]) and "CourtCase" in set(county["kind"])
    assert data.timeline(dash_graph.driver, county_scope(LINZHOU), E["core"]).empty


def test_search_and_person(dash_graph: DashGraph) -> None:  # noqa: F811
    found = data.search(dash_graph.driver, city_scope(), "鑫盛")
    assert len(found["enterprises"]) == 4
    local = data.search(dash_graph.driver, county_scope(WENFENG), "鑫盛")
    assert set(local["enterprises"]["county"]) == {WENFENG}
    by_code = data.search(dash_graph.driver, city_scope(), E["far"].lower())
    assert list(by_code["enterprises"]["uscc"]) == [E["far"]]
    persons = data.search(dash_graph.driver, city_scope(), "410502********1234")["persons"]
    assert list(persons["pid"]) == ["P:zhang"]
    assert data.search(dash_graph.driver, sector_scope("商贸"), "张三")["persons"].empty
    person = data.person(dash_graph.driver, county_scope(WENFENG), "P:zhang")
    assert person is not None
    roles = person["roles"]
    assert roles[~roles["visible"]]["name"].isna().all()
    assert set(roles[roles["visible"]]["county"]) == {WENFENG}


def test_groups_runs_freshness(dash_graph: DashGraph) -> None:  # noqa: F811
    groups = data.cross_region_groups(dash_graph.driver, county_scope(LINZHOU))
    assert list(groups["group_id"]) == ["G-0001"]
    members = data.group_members(dash_graph.driver, county_scope(LINZHOU), "G-0001")
    assert set(members[members["visible"]]["county"]) == {LINZHOU}
    hidden = members[~members["visible"]]  # other counties' members: firm only, no evidence
    assert hidden["name"].notna().all() and hidden["score"].isna().all()
    assert groups["controller"].isna().all()  # a person: city-wide scopes only
    history = data.run_history(dash_graph.driver, city_scope())
    assert list(history["run_id"])[:1] == ["R3"] and "t_score" in history
    fresh = data.freshness(dash_graph.driver, county_scope(WENFENG))
    assert set(fresh["county"]) == {WENFENG}
    report = data.ingest_report(dash_graph.home, city_scope())
    assert report is not None and report["run_id"] == "R2-ingest"
    scored = dash_graph.home / "runs" / "R2-score"  # a scoring run's report, newer: skipped
    scored.mkdir(parents=True, exist_ok=True)
    (scored / "report.json").write_text('{"kind": "score", "enterprises": 8}', encoding="utf-8")
    assert data.ingest_report(dash_graph.home, city_scope())["run_id"] == "R2-ingest"
    offered = data.ingest_runs(dash_graph.home, city_scope())
    assert offered[0] == "R2-ingest" and "R2-score" not in offered
    for run_id in offered:  # each offered run's own report, by the same reader
        assert data.ingest_report(dash_graph.home, city_scope(), run_id)["run_id"] == run_id
    for unknown in ("R2-score", "nope", "../R2-ingest", ""):  # no report, never a path
        assert data.ingest_report(dash_graph.home, city_scope(), unknown) is None
    summary = data.report_summary(report)
    assert summary["loaded"] == 10 and list(summary["reasons"]["rule"]) == ["uscc_check"]


def test_report_notes_per_file_and_table() -> None:
    """Every kind of ingest note, per file in the report's order; files without notes left
    out; a report written before ``ignored_sheets`` gives its sheet notes in words."""
    report = {"files": [
        {"delivery": "20250401", "source": "registration", "file": "登记_全量.xlsx",
         "ignored_sheets": ["说明"], "notes": ["sheet '说明' ignored: it names no known table"],
         "tables": [{"table": "企业基本信息", "sheet": "Sheet1", "sheet_placement": "file_name",
                     "header_mappings": {"名称": "企业名称", "企业类型　": "企业类型"},
                     "unexpected_columns": ["备注"], "kept_keys": 2},
                    {"table": "主要人员", "sheet": "2024主要人员",
                     "sheet_placement": "name_ending"}]},
        {"delivery": "20250401", "source": "court", "file": "法院_案件_增量.csv",
         "ignored_sheets": [], "notes": [], "tables": [{"table": "案件", "kept_keys": 0}]},
        {"delivery": "20250301", "source": "tax", "file": "old.xlsx",
         "notes": ["sheet 'x' ignored: it names no known table", "纳税: column(s) not read: 'y'"],
         "tables": [{"table": "纳税", "unexpected_columns": ["y"]}]},
    ]}
    files = data.report_notes(report)
    assert [f["file"] for f in files] == ["登记_全量.xlsx", "old.xlsx"]
    rows = files[0]["notes"].to_dict("records")
    assert [(r["table"], r["note"], r["written"], r["read_as"], r["count"]) for r in rows] == [
        (None, "sheet_ignored", "说明", None, None),
        ("企业基本信息", "sheet_of_file_name", "Sheet1", "企业基本信息", None),
        ("企业基本信息", "header_mapped", "名称", "企业名称", None),
        ("企业基本信息", "header_mapped", "企业类型　", "企业类型", None),
        ("企业基本信息", "column_not_read", "备注", None, None),
        ("企业基本信息", "keys_kept", None, None, 2),
        ("主要人员", "sheet_name_ending", "2024主要人员", "主要人员", None)]
    legacy = files[1]["notes"].to_dict("records")
    assert [(r["note"], r["written"]) for r in legacy] == [
        ("recorded", "sheet 'x' ignored: it names no known table"),
        ("column_not_read", "y")]
    assert {r["note"] for r in rows + legacy} == set(data.NOTE_KINDS)
    from dashboards.ui.runs import NOTE_TEXT

    assert set(NOTE_TEXT) == set(data.NOTE_KINDS) and set(NOTE_TEXT.values()) <= set(STRINGS)


def test_ended_facts_are_marked_not_hidden(dash_graph: DashGraph) -> None:  # noqa: F811
    """A case and a shareholding the latest full deliveries no longer held stay visible as
    history, each with the date of that delivery; current ones carry none."""
    events = data.timeline(dash_graph.driver, city_scope(), E["core"]).set_index("summary")
    ended = events[events["kind"] == "CourtCase"]["ended"].to_dict()
    assert {k.split(" · ")[0]: None if pd.isna(v) else v for k, v in ended.items()} == {
        "(2025)豫0502民初1号": None, "(2025)豫0502民初2号": ENDED}
    assert events[events["kind"] != "CourtCase"]["ended"].isna().all()

    roles = data.person(dash_graph.driver, city_scope(), "P:zhang")["roles"]
    held = {(r["rel"], r["uscc"]): None if pd.isna(r["ended"]) else r["ended"]
            for r in roles.to_dict("records")}
    assert held[("SHAREHOLDER_OF", E["shell2"])] == ENDED
    assert held[("SHAREHOLDER_OF", E["core"])] is None
    assert held[("LEGAL_REP_OF", E["shell1"])] is None

    net = data.network(dash_graph.driver, city_scope(), E["core"], depth=2,
                       types=("SHAREHOLDER_OF", "PARTY_TO", "LEGAL_REP_OF"))
    by_id = net.nodes
    ends = {(by_id[e["from"]].get("key"), e["type"], by_id[e["to"]].get("key")): e["ended"]
            for e in net.edges}
    assert ends[("P:zhang", "SHAREHOLDER_OF", E["shell2"])] == ENDED
    assert ends[("P:zhang", "SHAREHOLDER_OF", E["core"])] is None
    # a link to an ended fact is ended with it; the fact node says so too
    assert ends[(E["core"], "PARTY_TO", "(2025)豫0502民初2号")] == ENDED
    assert ends[(E["core"], "PARTY_TO", "(2025)豫0502民初1号")] is None
    case2 = next(n for n in by_id.values() if n.get("key") == "(2025)豫0502民初2号")
    assert case2["ended"] == ENDED

    html = network_view.render_html(net)
    drawn = network_view.build(net).edges
    dashed = [e for e in drawn if e.get("dashes")]
    assert len(dashed) == 2 and all("已结束" in e["label"] for e in dashed)
    assert all(ENDED in e["title"] for e in dashed)
    assert not any("已结束" in str(e.get("label")) for e in drawn if not e.get("dashes"))
    assert '"dashes": true' in html


def test_network_html_is_offline_and_escaped(dash_graph: DashGraph) -> None:  # noqa: F811
    net = data.network(dash_graph.driver, city_scope(), E["core"], depth=2)
    html = network_view.render_html(net)
    assert network_view.external_urls(html) == []
    assert not re.search(r"<(script|link)[^>]+(src|href)=", html)
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    assert "textContent" in html


def test_xlsx_neutralises_formulas() -> None:
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "-2", "ok"],
                          "score": [1, 2, 3, 4, 5]})
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(frame, mark="内部资料")))
    values = [row[0].value for row in book.active.iter_rows(min_row=3)]
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in values)
    assert values[-1] == "ok"


def test_dossier_escapes_names() -> None:
    frame = pd.DataFrame({"name": [HOSTILE]})
    html = exports.dossier_html(HOSTILE, "内部资料", [("名称", HOSTILE)], [("表", frame)])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert exports.dossier_docx("t", "m", [("名称", HOSTILE)], [("表", frame)])[:2] == b"PK"


def test_every_label_is_declared() -> None:
    used = set()
    for path in Path("dashboards").rglob("*.py"):
        used |= set(re.findall(r"\btr\(\s*\"([a-z_]+\.[A-Za-z_.]+)\"", path.read_text()))
    assert used and not (used - set(STRINGS))
    assert all(len(pair) == 2 and all(pair) for pair in STRINGS.values())


def test_real_county_boundaries() -> None:
    bounds = geo.city_boundaries("410500")
    assert len(bounds.geojson["features"]) == 9 and bounds.missing == ("410571",)
    assert geo.boundary_path("431181") is not None  # registry code newer than the data
    lon, lat = geo.county_centroids("410500")[WENFENG]
    assert 113 < lon < 115.5 and 35 < lat < 37
