"""Roles → Scope, the scope checks and masking helpers, and — per role — the dashboards' data
layer called directly with the role's scope against the sample graph in the real Neo4j.

Each data function is called with every role's scope: out-of-scope data is refused (empty
or None) or comes back masked.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboards import data
from dashboards.scope import Scope
from graph import access
from security import masking
from security.roles import ROLES, resolve_sector
from security.scope import (
    OUT_ENTERPRISE,
    OUT_PERSON,
    OUT_SECTOR,
    AccessDenied,
    check_county,
    filter_rows,
    mask_explanation,
    mask_group,
    mask_node,
    render_explanation,
    scope_for,
)
from security.users import User
from tests.browser.sample_graph import BEIGUAN, GROUP_ID, LINZHOU, WENFENG, E
from tests.browser.support import DashGraph, dash_graph  # noqa: F401

CITY = User("city1", "city")
WENFENG_USER = User("wf", "county", (WENFENG,))
BEIGUAN_USER = User("bg", "county", (BEIGUAN,))
LINZHOU_USER = User("lz", "county", (LINZHOU,))
SECTOR_USER = User("mz", "sector", sector="养老机构")
ANALYST = User("an", "analyst")
ADMIN = User("root", "admin")
COUNTIES = [WENFENG, BEIGUAN, "410505", LINZHOU]


# --- roles and scope (no database) -----------------------------------------------------------


def test_scope_for_each_role() -> None:
    assert scope_for(CITY) == Scope("city", None, None, True, True)
    assert scope_for(WENFENG_USER) == Scope("county", (WENFENG,), None, True, False)
    assert scope_for(User("two", "county", (WENFENG, BEIGUAN))).counties == (WENFENG, BEIGUAN)
    assert scope_for(SECTOR_USER) == Scope("sector", None, "养老机构", False, False)
    assert scope_for(ANALYST) == Scope("analyst", None, None, True, True)
    admin = scope_for(ADMIN)
    assert admin.counties == () and not admin.can_see_persons and not admin.sees_county(WENFENG)
    assert scope_for(User("odd", "county", ())).counties == ()  # no county → nothing
    with pytest.raises(AccessDenied):
        scope_for(User("off", "city", disabled=True))


def test_role_table() -> None:
    assert [r for r, spec in ROLES.items() if spec.may_handoff] == ["city"]
    assert not ROLES["admin"].case_data and ROLES["admin"].may_manage_users
    assert ROLES["county"].may_edit_ledger and not ROLES["sector"].may_export
    assert not ROLES["county"].see_police_credit and ROLES["analyst"].see_police_credit
    assert resolve_sector("elderly") == resolve_sector("民政部门") == "养老机构"


def test_check_county_and_filter_rows() -> None:
    scope = scope_for(WENFENG_USER)
    check_county(scope, WENFENG)
    with pytest.raises(AccessDenied):
        check_county(scope, LINZHOU)
    with pytest.raises(AccessDenied):
        check_county(scope, None)
    rows = [{"county": WENFENG, "n": 1}, {"county": LINZHOU, "n": 2}, {"n": 3},
            {"county": None, "n": 4}]
    assert [r["n"] for r in filter_rows(scope, rows)] == [1]
    assert [r["n"] for r in filter_rows(scope_for(CITY), rows)] == [1, 2, 3, 4]
    frame = pd.DataFrame([{"county": WENFENG, "sector": "养老机构"},
                          {"county": LINZHOU, "sector": "养老机构"},
                          {"county": LINZHOU, "sector": "商贸"}, {"county": None, "sector": None}])
    assert list(filter_rows(scope, frame)["county"]) == [WENFENG]
    assert len(filter_rows(scope_for(SECTOR_USER), frame)) == 2
    assert filter_rows(scope_for(ADMIN), frame).empty


def test_mask_node_placeholders() -> None:
    scope = scope_for(WENFENG_USER)
    far = {"id": "4:x:1", "label": "Enterprise", "key": E["far"], "name": "林州鑫盛农业专业合作社",
           "county": LINZHOU, "hop": 1, "visible": True, "score": 55.0}
    masked = mask_node(scope, far)
    assert masked["name"] == OUT_ENTERPRISE and masked["key"] is None
    assert masked["id"] == "4:x:1" and masked["hop"] == 1 and "score" not in masked
    li = {"id": "4:x:2", "label": "Person", "key": "P:li", "name": "李四", "region": LINZHOU,
          "id_masked": "410581********5678"}
    assert mask_node(scope, li)["name"] == OUT_PERSON
    # the data layer decided the territory (e.g. no region: the counties of its firms)
    placed = mask_node(scope, {**li, "visible": True})
    assert placed["name"] == "李四" and placed["id_masked"] == "410581********5678"
    assert mask_node(scope, {**li, "region": None})["name"] == OUT_PERSON  # fail closed
    sector = mask_node(scope_for(SECTOR_USER), {**li, "region": WENFENG})
    assert sector["name"] == "李某" and sector["key"] is None
    clue = {"id": "4:x:3", "label": "PoliceClue", "name": "JZ2025001", "county": WENFENG}
    assert mask_node(scope, clue)["name"] == masking.RESTRICTED_PLACEHOLDER
    assert mask_node(scope_for(ANALYST), clue)["name"] == "JZ2025001"
    # a node the data layer already hid stays hidden
    assert mask_node(scope_for(CITY), {**far, "visible": False})["key"] is None


def test_masking_personal_data() -> None:
    sector = scope_for(SECTOR_USER)
    county = scope_for(WENFENG_USER)
    raw_id = "410502199001011236"
    assert masking.mask_citizen_id(raw_id) == "410502********1236"
    person = {"name": "张三", "id_no": raw_id, "note": f"身份证{raw_id}"}
    for scope in (sector, county, scope_for(CITY)):
        shown = masking.mask_person(scope, person)
        assert raw_id not in str(shown.values())  # IDs only ever masked, for every role
    assert masking.mask_person(sector, person)["name"] == "张某"
    assert masking.mask_person(county, person)["name"] == "张三"
    ent = masking.mask_enterprise(sector, {"name": "某公司", "legal_rep": "欧阳娜娜",
                                           "phone": "13812345678"})
    assert ent == {"name": "某公司", "legal_rep": "欧某某某", "phone": "138****5678"}
    hidden = masking.hide_restricted(county, "CreditListing", {"list_type": "失信"})
    assert hidden["name"] == masking.RESTRICTED_PLACEHOLDER and "list_type" not in hidden


def test_mask_explanation() -> None:
    expl = {"indicators": [
        {"id": "ads.promise", "source": "ads", "value": "年化15%", "contribution": 10.0},
        {"id": "police.clue", "source": "police", "value": "JZ2025001", "contribution": 20.0},
        {"id": "credit.overdue", "source": "credit", "value": 3, "contribution": 5.0}],
        "paths": [{"nodes": [E["shell1"], "P:zhang", E["far"]],
                   "labels": ["Enterprise", "Person", "Enterprise"],
                   "rels": ["LEGAL_REP_OF", "CONTROLS"], "from": E["far"], "contribution": 8}],
        "direct": 35.0, "linked": 8.0}
    nodes = {E["shell1"]: {"label": "Enterprise", "county": WENFENG},
             E["far"]: {"label": "Enterprise", "county": LINZHOU},
             "P:zhang": {"label": "Person", "region": WENFENG}}
    county = mask_explanation(scope_for(WENFENG_USER), expl, nodes)
    assert [i["id"] for i in county["indicators"]] == ["ads.promise", "restricted"]
    assert county["indicators"][1]["contribution"] == 25.0
    assert "JZ2025001" not in str(county)
    assert county["paths"][0]["nodes"] == [E["shell1"], "P:zhang", OUT_ENTERPRISE]
    assert county["paths"][0]["from"] == OUT_ENTERPRISE and county["masked"]
    linzhou = mask_explanation(scope_for(LINZHOU_USER), expl, nodes)
    assert linzhou["paths"][0]["nodes"] == [OUT_ENTERPRISE, OUT_PERSON, E["far"]]
    sector = mask_explanation(scope_for(SECTOR_USER), expl, nodes)
    # no sector facts about the firms: other sectors' firms for the regulator (fail closed)
    assert sector["paths"][0]["nodes"] == [OUT_SECTOR, "人员", OUT_SECTOR]
    with_sector = {**nodes, E["shell1"]: {"label": "Enterprise", "county": WENFENG,
                                          "sector": "养老机构"}}
    sector = mask_explanation(scope_for(SECTOR_USER), expl, with_sector)
    assert sector["paths"][0]["nodes"] == [E["shell1"], "人员", OUT_SECTOR]
    city = mask_explanation(scope_for(CITY), expl, nodes)
    assert city["indicators"] == expl["indicators"] and not city["masked"]
    # without node facts a county scope fails closed
    assert mask_explanation(scope_for(WENFENG_USER), expl)["paths"][0]["nodes"][0] == \
        OUT_ENTERPRISE


def test_mask_group_cross_region_rule() -> None:
    group = {"group_id": GROUP_ID, "members": 3, "score": 91.5,
             "counties": [WENFENG, LINZHOU], "cross_region": True, "lead_region": WENFENG,
             "controller": "张三"}
    members = [{"uscc": E["core"], "name": "安阳鑫盛财富", "county": WENFENG, "score": 91.5,
                "level": "red", "legal_rep": "张三", "reasons": ["police.clue"]},
               {"uscc": E["far"], "name": "林州鑫盛农业专业合作社", "county": LINZHOU,
                "score": 55.0, "level": "yellow", "legal_rep": "李四"}]
    lz = mask_group(scope_for(LINZHOU_USER), group, members)
    assert lz is not None and lz["counties"] == [WENFENG, LINZHOU] and lz["controller"] is None
    other = lz["member_list"][0]
    assert other == {"uscc": E["core"], "name": "安阳鑫盛财富", "county": WENFENG,
                     "visible": False}
    assert lz["member_list"][1]["score"] == 55.0 and lz["member_list"][1]["legal_rep"] == "李四"
    assert mask_group(scope_for(BEIGUAN_USER), group, members) is None
    assert mask_group(scope_for(CITY), group, members)["controller"] == "张三"  # type: ignore
    assert mask_group(scope_for(SECTOR_USER), group, members)["controller"] == "张某"  # type: ignore


# --- the dashboards' data layer, per role (real Neo4j) -----------------------------------


@pytest.mark.neo4j
def test_city_and_analyst_see_the_city(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    for user in (CITY, ANALYST):
        scope = scope_for(user)
        assert len(data.enterprises(drv, scope)) == 8
        assert data.profile(drv, scope, E["far"]) is not None
        assert "PoliceClue" in set(data.timeline(drv, scope, E["core"])["kind"])
        assert list(data.search(drv, scope, "张三")["persons"]["pid"]) == ["P:zhang"]


@pytest.mark.neo4j
def test_county_user_gets_nothing_of_another_county(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    scope = scope_for(BEIGUAN_USER)
    assert set(data.enterprises(drv, scope)["county"]) == {BEIGUAN}
    assert data.enterprises(drv, scope, county=WENFENG).empty
    assert data.profile(drv, scope, E["core"]) is None
    assert data.timeline(drv, scope, E["core"]).empty
    net = data.network(drv, scope, E["core"], depth=2)
    assert net.nodes == {} and net.edges == []
    found = data.search(drv, scope, "鑫盛")
    assert set(found["enterprises"]["county"]) == {BEIGUAN}
    assert data.search(drv, scope, E["core"])["enterprises"].empty
    assert data.search(drv, scope, "李四")["persons"].empty
    assert data.person(drv, scope, "P:li") is None
    assert list(data.county_overview(drv, scope, COUNTIES)["county"]) == [BEIGUAN]
    assert set(data.trend(drv, scope)["county"]) <= {BEIGUAN}
    assert set(data.freshness(drv, scope)["county"]) <= {BEIGUAN}
    assert data.alerts(drv, scope).empty  # the sample alert is Wenfeng's


@pytest.mark.neo4j
def test_county_network_shows_neighbours_as_placeholders(
        dash_graph: DashGraph) -> None:  # noqa: F811
    net = data.network(dash_graph.driver, scope_for(WENFENG_USER), E["core"], depth=2)
    outside = [n for n in net.nodes.values() if n["label"] == "Enterprise" and
               n["county"] != WENFENG]
    assert outside and all(not n["visible"] and n["name"] == OUT_ENTERPRISE and
                           n["key"] is None and n.get("score") is None for n in outside)
    shown = [mask_node(scope_for(WENFENG_USER), n) for n in net.nodes.values()]
    assert {n["name"] for n in shown if n["label"] == "Enterprise" and not n["visible"]} == \
        {OUT_ENTERPRISE}


@pytest.mark.neo4j
def test_county_group_members_masked(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    scope = scope_for(LINZHOU_USER)
    assert list(data.cross_region_groups(drv, scope)["group_id"]) == [GROUP_ID]
    members = data.group_members(drv, scope, GROUP_ID)
    hidden = members[~members["visible"]]
    assert not hidden.empty and hidden["score"].isna().all() and hidden["level"].isna().all()
    # a group touching the county is visible as a group: every member firm's name and code
    assert hidden["name"].notna().all() and hidden["uscc"].notna().all()
    assert set(hidden["county"]) == {WENFENG, BEIGUAN}
    # a group not touching the county: no names, no codes
    other = data.group_members(drv, scope_for(User("x", "county", ("410505",))), GROUP_ID)
    assert other["name"].isna().all() and other["uscc"].isna().all()
    assert not other["visible"].any()
    assert data.cross_region_groups(drv, scope_for(User("x", "county", ("410505",)))).empty


@pytest.mark.neo4j
def test_county_cross_region_groups_hide_controller(dash_graph: DashGraph) -> None:  # noqa: F811
    groups = data.cross_region_groups(dash_graph.driver, scope_for(LINZHOU_USER))
    assert groups["controller"].isna().all()


@pytest.mark.neo4j
def test_county_profile_hides_police_indicators(dash_graph: DashGraph) -> None:  # noqa: F811
    found = data.profile(dash_graph.driver, scope_for(WENFENG_USER), E["core"])
    assert found is not None
    ids = {i["id"] for i in found["explanation"]["indicators"]}
    sources = {i["source"] for i in found["explanation"]["indicators"]}
    assert "police_clue" not in ids and "公安" not in sources


@pytest.mark.neo4j
def test_county_path_names_hide_other_counties_persons(
        dash_graph: DashGraph) -> None:  # noqa: F811
    names = data.path_names(dash_graph.driver, scope_for(LINZHOU_USER), ("P:zhang",))
    assert names["P:zhang"]["name"] != "张三"


@pytest.mark.neo4j
def test_sector_user(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    scope = scope_for(SECTOR_USER)
    frame = data.enterprises(drv, scope)
    assert set(frame["sector"]) == {"养老机构"} and len(frame) == 2
    assert data.profile(drv, scope, E["core"]) is None  # 投资理财, not its sector
    assert data.network(drv, scope, E["core"]).nodes == {}
    assert set(data.search(drv, scope, "鑫盛")["enterprises"]["uscc"]) == {E["shell2"]}
    assert data.search(drv, scope, "张三")["persons"].empty
    assert data.person(drv, scope, "P:zhang") is None
    net = data.network(drv, scope, E["shell2"], depth=1)
    persons = [n for n in net.nodes.values() if n["label"] == "Person"]
    assert persons and all(n["name"] == "张某" and n["key"] is None for n in persons)


@pytest.mark.neo4j
def test_sector_timeline_limited_to_its_sector(dash_graph: DashGraph) -> None:  # noqa: F811
    assert data.timeline(dash_graph.driver, scope_for(SECTOR_USER), E["core"]).empty


@pytest.mark.neo4j
def test_sector_profile_masks_person_names(dash_graph: DashGraph) -> None:  # noqa: F811
    found = data.profile(dash_graph.driver, scope_for(SECTOR_USER), E["shell2"])
    assert found is not None
    assert found["enterprise"]["legal_rep"] == "张某"
    assert "张三" not in str(found["group"])


@pytest.mark.neo4j
def test_admin_sees_no_case_data(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    scope = scope_for(ADMIN)
    assert data.enterprises(drv, scope).empty
    assert data.county_overview(drv, scope, COUNTIES).empty
    assert data.profile(drv, scope, E["core"]) is None
    assert data.timeline(drv, scope, E["core"]).empty
    assert data.network(drv, scope, E["core"]).nodes == {}
    found = data.search(drv, scope, "鑫盛")
    assert found["enterprises"].empty and found["persons"].empty
    assert data.person(drv, scope, "P:zhang") is None
    assert data.cross_region_groups(drv, scope).empty
    members = data.group_members(drv, scope, GROUP_ID)
    assert not members["visible"].any() and members["name"].isna().all()
    assert data.alerts(drv, scope).empty and data.freshness(drv, scope).empty


@pytest.mark.neo4j
def test_hostile_search_strings_are_data(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    for text in ("x'}) MATCH (n) DETACH DELETE n //", "<script>alert(1)</script>",
                 '" OR 1=1 --', "$counties"):
        found = data.search(drv, scope_for(CITY), text)
        assert found["enterprises"].empty
    assert len(data.enterprises(drv, scope_for(CITY))) == 8  # nothing was deleted
    hostile = data.search(drv, scope_for(CITY), "<img src=x")["enterprises"]
    assert list(hostile["name"]) == ["<img src=x onerror=alert(1)>投资公司"]


# --- the routes that leaked before: paths, network persons, profile fields, alerts, runs -----

CORE_NAME = "安阳鑫盛财富投资管理有限公司"


@pytest.mark.neo4j
def test_sector_explanation_paths_mask_other_sectors(dash_graph: DashGraph) -> None:  # noqa: F811
    """shell2 (养老机构) is explained by a path through core (投资理财): the regulator sees the
    path with 其他行业企业 in place of core, and core's name nowhere."""
    drv = dash_graph.driver
    scope = scope_for(SECTOR_USER)
    found = data.profile(drv, scope, E["shell2"])
    assert found is not None
    path = found["explanation"]["paths"][0]
    assert path["nodes"] == [E["shell2"], "人员", OUT_SECTOR] and path["from"] == OUT_SECTOR
    assert CORE_NAME not in str(found) and E["core"] not in str(found["explanation"])
    names = data.path_names(drv, scope, (E["core"], E["shell2"], "no-such-key"))
    assert names[E["core"]] == {**names[E["core"]], "visible": False, "name": OUT_SECTOR}
    assert names[E["shell2"]]["name"] == "安阳北关鑫盛养老服务有限公司"
    assert not names["no-such-key"]["visible"]  # fail closed
    record = {**found["score"], "name": found["enterprise"]["name"]}
    lines = render_explanation(scope, record, names)
    assert any(OUT_SECTOR in line for line in lines)
    assert CORE_NAME not in "".join(lines) and "张三" not in "".join(lines)
    # the whole city sees the same path by name
    city = data.profile(drv, scope_for(CITY), E["shell2"])
    assert city is not None and city["explanation"]["paths"][0]["nodes"][2] == E["core"]
    city_names = data.path_names(drv, scope_for(CITY), (E["core"],))
    city_lines = render_explanation(scope_for(CITY), city["score"], city_names)
    assert any(CORE_NAME in line for line in city_lines)


@pytest.mark.neo4j
def test_county_explanation_masks_persons_outside_territory(
        dash_graph: DashGraph) -> None:  # noqa: F811
    """Linzhou's far is explained through 张三 (living in Wenfeng, no role in Linzhou) and core
    (Wenfeng): both are placeholders. Beiguan's shell2 is explained through the same path, but
    张三 is its shareholder and controller: Beiguan sees him, and only core is masked."""
    drv = dash_graph.driver
    lz = data.profile(drv, scope_for(LINZHOU_USER), E["far"])
    assert lz is not None
    assert lz["explanation"]["paths"][0]["nodes"] == [E["far"], OUT_PERSON, OUT_ENTERPRISE]
    # (the fixture's own legal_rep field of far says 张三: the firm's registration, in scope)
    assert "张三" not in str(lz["explanation"]) + str(lz["controllers"])
    assert CORE_NAME not in str(lz)
    lines = render_explanation(scope_for(LINZHOU_USER), {**lz["score"], "name": "x"},
                               data.path_names(drv, scope_for(LINZHOU_USER),
                                               (E["far"], "P:zhang", E["core"])))
    assert "张三" not in "".join(lines) and OUT_PERSON in "".join(lines)
    bg = data.profile(drv, scope_for(BEIGUAN_USER), E["shell2"])
    assert bg is not None
    assert bg["explanation"]["paths"][0]["nodes"] == [E["shell2"], "P:zhang", OUT_ENTERPRISE]
    assert [c["name"] for c in bg["controllers"]] == ["张三"]
    assert CORE_NAME not in str(bg)
    # Wenfeng, where 张三 lives, sees him by name in its own firms' profiles
    wf = data.profile(drv, scope_for(WENFENG_USER), E["shell1"])
    assert wf is not None and wf["enterprise"]["legal_rep"] == "张三"
    assert wf["explanation"]["paths"][0]["nodes"][1] == "P:zhang"


@pytest.mark.neo4j
def test_county_network_masks_persons_outside_territory(
        dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    net = data.network(drv, scope_for(BEIGUAN_USER), E["shell2"], depth=3)
    persons = [n for n in net.nodes.values() if n["label"] == "Person"]
    assert [n["name"] for n in persons] == ["张三"]  # its own shareholder, by name
    firms = [n for n in net.nodes.values() if n["label"] == "Enterprise"]
    hidden = [n for n in firms if not n["visible"]]
    assert hidden and all(n["name"] == OUT_ENTERPRISE and n["key"] is None for n in hidden)
    assert CORE_NAME not in str(net.nodes) and "李四" not in str(net.nodes)
    # placeholders are not expanded: nothing beyond 张三's Wenfeng firms is reached
    assert max(n["hop"] for n in net.nodes.values()) == 2
    lz = data.network(drv, scope_for(LINZHOU_USER), E["far"], depth=3)
    assert "张三" not in str(lz.nodes) and CORE_NAME not in str(lz.nodes)
    wf = data.network(drv, scope_for(WENFENG_USER), E["core"], depth=1)
    assert any(n["name"] == "张三" and n["visible"] for n in wf.nodes.values())
    for graph in (net, lz, wf):  # masking keeps the element ids the edges refer to
        assert all(key == node["id"] for key, node in graph.nodes.items())
        assert {e["from"] for e in graph.edges} | {e["to"] for e in graph.edges} <= \
            set(graph.nodes)


@pytest.mark.neo4j
def test_sector_network_masks_other_sectors(dash_graph: DashGraph) -> None:  # noqa: F811
    net = data.network(dash_graph.driver, scope_for(SECTOR_USER), E["shell2"], depth=2)
    firms = [n for n in net.nodes.values() if n["label"] == "Enterprise"]
    shown = {n["name"] for n in firms if n["visible"]}
    assert shown == {"安阳北关鑫盛养老服务有限公司"}
    hidden = [n for n in firms if not n["visible"]]
    assert hidden and {n["name"] for n in hidden} == {OUT_SECTOR}
    assert all(n["key"] is None and n.get("score") is None for n in hidden)
    assert CORE_NAME not in str(net.nodes)


@pytest.mark.neo4j
def test_person_routes_follow_territory(dash_graph: DashGraph) -> None:  # noqa: F811
    """张三 lives in Wenfeng and holds roles in Beiguan's shell2: Linzhou neither finds nor
    opens him; Beiguan does (its firm's shareholder), with his Wenfeng firms masked."""
    drv = dash_graph.driver
    linzhou = scope_for(LINZHOU_USER)
    assert data.search(drv, linzhou, "张三")["persons"].empty
    assert data.person(drv, linzhou, "P:zhang") is None
    beiguan = scope_for(BEIGUAN_USER)
    assert list(data.search(drv, beiguan, "张三")["persons"]["pid"]) == ["P:zhang"]
    found = data.person(drv, beiguan, "P:zhang")
    assert found is not None
    hidden = found["roles"][~found["roles"]["visible"]]
    assert set(hidden["county"]) == {WENFENG} and hidden["name"].isna().all()
    assert hidden["uscc"].isna().all() and hidden["score"].isna().all()
    assert set(found["roles"][found["roles"]["visible"]]["county"]) == {BEIGUAN}


@pytest.mark.neo4j
def test_alerts_scoped_and_group_alerts_masked(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    access.merge_nodes(drv, "Alert", [{"key": "AL-G", "props": {
        "alert_key": "AL-G", "kind": "cross_region", "subject_label": "Group",
        "subject": GROUP_ID, "group_id": GROUP_ID, "county": WENFENG,
        "counties": [WENFENG, BEIGUAN, LINZHOU], "members": 4, "score": 91.5, "level": "red",
        "name": f"{CORE_NAME} 等 4 家", "reasons": ["police_clue"], "status": "open",
        "message": f"跨区域群组 {GROUP_ID}：最高分 {CORE_NAME} 92 分",
        "at": "2025-03-01T02:01:11"}}])
    try:
        beiguan = data.alerts(drv, scope_for(BEIGUAN_USER))
        assert list(beiguan["alert_key"]) == ["AL-G"]  # the group touches Beiguan
        assert CORE_NAME not in beiguan.to_string() and "police_clue" not in beiguan.to_string()
        assert "score" not in beiguan or beiguan["score"].isna().all()
        city = data.alerts(drv, scope_for(CITY))
        assert set(city["alert_key"]) == {"AL1", "AL-G"} and CORE_NAME in city.to_string()
        wenfeng = data.alerts(drv, scope_for(WENFENG_USER))
        # even the lead county sees a group alert as a group (its top firm may be anyone's)
        assert set(wenfeng["alert_key"]) == {"AL1", "AL-G"}
        assert CORE_NAME not in wenfeng.to_string()
        assert data.alerts(drv, scope_for(SECTOR_USER)).empty  # neither is of its sector
        assert data.alerts(drv, scope_for(User("x", "county", ("410505",)))).empty
    finally:
        access.write(drv, "MATCH (a:Alert {alert_key: 'AL-G'}) DETACH DELETE a")


@pytest.mark.neo4j
def test_sector_groups_and_runs(dash_graph: DashGraph) -> None:  # noqa: F811
    drv = dash_graph.driver
    assert list(data.cross_region_groups(drv, scope_for(SECTOR_USER))["group_id"]) == [GROUP_ID]
    no_member = Scope("sector", None, "房地产中介", False, False)
    assert data.cross_region_groups(drv, no_member).empty
    members = data.group_members(drv, no_member, GROUP_ID)
    assert members["name"].isna().all() and not members["visible"].any()
    county_runs = data.run_history(drv, scope_for(WENFENG_USER))
    assert set(county_runs.columns) <= set(data.RUN_PUBLIC_FIELDS) | {
        c for c in county_runs.columns if c.startswith("t_")}
    assert len(county_runs) == len(data.run_history(drv, scope_for(CITY)))


@pytest.mark.neo4j
def test_monthly_report_masked_for_the_county_role(dash_graph: DashGraph,  # noqa: F811
                                                   tmp_path: Path) -> None:
    """The ledger page's monthly report (an export) follows the signed-in scope: a county
    office gets no police clue details and no group controller; the CLI (operators) gets all."""
    import docx
    import openpyxl

    from workflow.reports import monthly_report

    def text_of(paths: tuple[Path, Path]) -> str:
        book = openpyxl.load_workbook(paths[1], read_only=True)
        cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                 for c in row if c is not None]
        document = docx.Document(str(paths[0]))
        cells += [p.text for p in document.paragraphs]
        cells += [c.text for t in document.tables for r in t.rows for c in r.cells]
        return "\n".join(cells)

    month = date.today().strftime("%Y-%m")
    full = text_of(monthly_report(dash_graph.driver, dash_graph.settings(), WENFENG, month,
                                  tmp_path / "cli"))
    assert "JZ2025001" in full and "张三" in full  # the police clue, the group's controller
    county = text_of(monthly_report(dash_graph.driver, dash_graph.settings(), WENFENG, month,
                                    tmp_path / "app", scope=scope_for(WENFENG_USER)))
    assert "JZ2025001" not in county and "张三" not in county
    assert GROUP_ID in county  # the group itself stays


@pytest.mark.neo4j
def test_timeline_free_text_masks_person_names_for_sector(
        dash_graph: DashGraph) -> None:  # noqa: F811
    """A legal-representative change and a tip naming 张三 (shareholder of shell2): the sector
    regulator, who sees names masked, reads 张某 in the timeline's free text; the city reads
    the name; a citizen ID inside free text is masked for every role."""
    from tests.browser.sample_graph import PROV, _rel

    drv = dash_graph.driver
    change, tip = f"{E['shell2']}|rep", "JB-T-NAMES"
    access.merge_nodes(drv, "Change", [{"key": change, "props": {
        **PROV, "change_id": change, "item": "法定代表人变更", "before": "王五",
        "after": "张三", "date": "2025-02-01"}}])
    access.merge_nodes(drv, "Tip", [{"key": tip, "props": {
        **PROV, "tip_no": tip, "status": "待核查", "date": "2025-02-02",
        "summary": "张三、王五以高息吸收存款，身份证410502199001011236"}}])
    _rel(drv, "HAS_CHANGE", "Enterprise", "Change", [(E["shell2"], change, {})])
    _rel(drv, "TIPPED_IN", "Enterprise", "Tip", [(E["shell2"], tip, {})])
    try:
        sector = data.timeline(drv, scope_for(SECTOR_USER), E["shell2"])
        text = " ".join(sector["summary"])
        assert "张三" not in text and "王五" not in text and "张某" in text and "王某" in text
        assert "410502199001011236" not in text
        city = " ".join(data.timeline(drv, scope_for(CITY), E["shell2"])["summary"])
        assert "张三" in city and "王五" in city and "410502199001011236" not in city
    finally:
        access.write(drv, "MATCH (x) WHERE x.change_id = $c OR x.tip_no = $t DETACH DELETE x",
                     {"c": change, "t": tip})
