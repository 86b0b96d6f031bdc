"""AppTest runs of the Streamlit app against the sample graph (real Neo4j), signed in as each
role (city, county, sector, analyst, admin) through the real sign-in form.

Every route to out-of-scope data is tried — the navigation, URL parameters
(``st.query_params``), search, exports, network expansion, group and person pages — and must be
refused or masked; views, exports, hand-offs, ledger edits and refusals must leave audit rows.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from security import audit
from tests.browser.sample_graph import BEIGUAN, ENDED, GROUP_ID, HOSTILE, LINZHOU, WENFENG, E
from tests.browser.support import PASSWORD, DashGraph, dash_graph  # noqa: F401
from workflow import ledger

pytestmark = pytest.mark.neo4j
APP = str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py")
VIEWS = Path(APP).parent / "views"
ALL_PAGES = ("city", "county", "ledger", "sector", "search", "profile", "person",
             "cross_region", "runs", "admin")


@pytest.fixture()
def app_env(dash_graph: DashGraph, monkeypatch: pytest.MonkeyPatch  # noqa: F811
            ) -> Iterator[DashGraph]:
    for key, value in dash_graph.env().items():
        monkeypatch.setenv(key, value)
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield dash_graph


def sign_in(username: str, page: str | None = None, params: dict[str, str] | None = None,
            password: str = PASSWORD, **state: object) -> AppTest:
    """A fresh session: sign in through the form, then (optionally) go to ``page``."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert at.title[0].value == "riskgraph" and not at.dataframe  # only the sign-in
    at.text_input(key="rg_username").input(username)
    at.text_input(key="rg_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    if page is not None:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def frames_text(at: AppTest) -> str:
    return "\n".join(df.value.to_string() for df in at.dataframe)


def page_text(at: AppTest) -> str:
    parts = [frames_text(at)]
    for kind in ("markdown", "caption", "title", "warning", "info", "subheader"):
        parts += [str(e.value) for e in at.get(kind)]
    parts += [str(m.value) for m in at.metric]
    return "\n".join(parts)


def events(graph: DashGraph, user: str, action: str) -> list[dict]:
    return audit.events(graph.driver, user=user, action=action)


def registered_pages(at: AppTest) -> set[str]:
    """The page scripts the navigation registered for this session."""
    pages = set()
    for name in ALL_PAGES:
        try:
            at.switch_page(f"views/{name}.py")
        except ValueError:
            continue
        pages.add(name)
    return pages


# --- sign-in ---------------------------------------------------------------------------------


def test_anonymous_visitor_sees_only_the_sign_in(app_env: DashGraph) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["uscc"] = E["core"]
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["riskgraph"]
    assert not at.dataframe and "安阳鑫盛" not in page_text(at)
    for page in ("profile", "county", "admin"):  # a page script run without the sign-in
        at.switch_page(f"views/{page}.py").run()  # stops: no scope, nothing shown
        assert not at.exception and not at.dataframe and "安阳鑫盛" not in page_text(at)


def test_wrong_password_is_refused_and_audited(app_env: DashGraph) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="rg_username").input("wf")
    at.text_input(key="rg_password").input("not the password")
    at.button[0].click().run()
    assert at.error and "密码错误" in at.error[0].value
    assert at.title[0].value == "riskgraph" and not at.dataframe
    assert events(app_env, "wf", "login_failed")


def test_sign_in_and_out(app_env: DashGraph) -> None:
    at = sign_in("wf")
    assert at.title[0].value == "县区风险清单"
    assert any("wf" in c.value for c in at.sidebar.caption)
    assert events(app_env, "wf", "login")
    at.button(key="sign_out").click().run()
    assert at.title[0].value == "riskgraph" and not at.dataframe
    assert events(app_env, "wf", "logout")


@pytest.mark.parametrize(("username", "pages"), [
    ("city1", {"city", "county", "ledger", "sector", "search", "profile", "person",
               "cross_region", "runs"}),
    ("wf", {"county", "ledger", "search", "profile", "person", "cross_region", "runs"}),
    ("mz", {"sector", "search", "profile", "cross_region"}),
    ("an", {"city", "county", "sector", "search", "profile", "person", "cross_region",
            "runs"}),
    ("root", {"admin", "runs"}),
])
def test_each_role_gets_its_pages_only(app_env: DashGraph, username: str,
                                       pages: set[str]) -> None:
    at = sign_in(username)
    assert registered_pages(at) == pages
    for name in sorted(pages):  # every page of the role opens without an error
        at.switch_page(f"views/{name}.py").run()
        assert not at.exception, (name, [e.value for e in at.exception])


def test_dev_mode_only_when_set_explicitly(app_env: DashGraph,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKGRAPH_AUTH", "none")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and at.title[0].value == "全市总览"
    assert "RISKGRAPH_AUTH=none" in at.sidebar.warning[0].value
    at.sidebar.selectbox(key="dev_role").set_value("county").run()
    at.sidebar.selectbox(key="dev_county").set_value(BEIGUAN).run()
    assert at.title[0].value == "县区风险清单"
    assert at.selectbox(key="county_select").options == ["北关区"]
    monkeypatch.delenv("RISKGRAPH_AUTH")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == "riskgraph"  # the default is the sign-in


# --- city --------------------------------------------------------------------------------


def test_city_page_with_ledger_progress(app_env: DashGraph) -> None:
    at = sign_in("city1")
    assert at.title[0].value == "全市总览"
    assert "文峰区" in frames_text(at)
    assert len(at.get("plotly_chart")) >= 1
    assert any(m.label == "陈案办结率" for m in at.metric)  # workflow.ui.render_city_progress
    at.selectbox(key="city_drill").set_value(WENFENG)
    at.button(key="city_open").click().run()
    assert not at.exception
    assert at.title[0].value == "县区风险清单"
    assert events(app_env, "city1", "view_county")


# --- county ------------------------------------------------------------------------------


def test_county_page_lists_own_county_and_exports(app_env: DashGraph) -> None:
    at = sign_in("wf")
    assert at.selectbox(key="county_select").options == ["文峰区"]
    text = frames_text(at)
    assert "安阳鑫盛财富投资管理有限公司" in text and HOSTILE in text
    assert "北关" not in text and "林州" not in text
    assert "待核查" in text  # each row's ledger status, and the ledger itself below
    assert "文峰区风险台账" in [s.value for s in at.subheader]
    assert not at.download_button  # nothing leaves before it is asked for (and audited)
    before = len(events(app_env, "wf", "export"))
    at.button(key="county_xlsx_prepare").click().run()
    assert not at.exception and len(at.download_button) == 1
    assert at.download_button[0].proto.label == "下载 Excel 清单"
    exported = events(app_env, "wf", "export")
    assert len(exported) == before + 1 and exported[0]["target"].endswith(".xlsx")
    at.selectbox(key="county_pick")  # the enterprise picker exists
    at.button(key="county_open").click().run()
    assert not at.exception
    assert at.title[0].value == "安阳鑫盛财富投资管理有限公司"
    assert events(app_env, "wf", "view_enterprise")[0]["target"] == E["core"]


def test_county_url_of_another_county_is_refused(app_env: DashGraph) -> None:
    at = sign_in("bg", params={"county": WENFENG})
    assert at.title[0].value == "县区风险清单"
    assert at.selectbox(key="county_select").options == ["北关区"]
    assert at.warning and "无权访问" in at.warning[0].value
    assert "安阳鑫盛商贸有限公司" not in frames_text(at)
    denied = events(app_env, "bg", "access_denied")
    assert denied and denied[0]["target"] == WENFENG
    at = sign_in("bg", "ledger", params={"county": WENFENG})
    assert at.selectbox(key="ledger_county").options == ["北关区"]
    assert "文峰区风险台账" not in [s.value for s in at.subheader]
    assert "安阳鑫盛财富投资管理有限公司" not in frames_text(at)


# --- ledger ------------------------------------------------------------------------------


def test_ledger_edit_is_audited_and_read_only_elsewhere(app_env: DashGraph) -> None:
    at = sign_in("wf", "ledger")
    assert at.title[0].value == "风险台账"
    eid = ledger.entry_id_for(WENFENG, "enterprise", E["shell1"])
    at.selectbox(key=f"wf_entry_{WENFENG}").select(eid).run()
    at.selectbox(key=f"wf_status_{eid}").select("核查中")
    at.text_input(key=f"wf_note_{eid}").input("约谈法定代表人")
    at.button(key=f"wf_save_{eid}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert ledger.get_entry(app_env.driver, eid)["status"] == "核查中"
    edits = events(app_env, "wf", "ledger_edit")
    assert edits and edits[0]["target"] == eid and "核查中" in edits[0]["detail"]
    # a county user never gets another county's ledger entries through the picker
    options = at.selectbox(key=f"wf_entry_{WENFENG}").options  # labels: name（status）
    assert options and not any("北关" in o or "林州" in o for o in options)


def test_monthly_report_button(app_env: DashGraph) -> None:
    at = sign_in("wf", "ledger")
    at.text_input(key="report_month").input("2025-03").run()
    at.button(key=f"report_{WENFENG}_2025-03_prepare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    names = [b.proto.label for b in at.download_button]
    assert names == ["下载月报（Word）", "下载台账（Excel）"]
    assert (app_env.home / "reports" / WENFENG / f"{WENFENG}_2025-03_月报.docx").exists()
    exported = events(app_env, "wf", "export")
    assert exported[0]["target"] == f"{WENFENG}_2025-03_月报"


# --- sector ------------------------------------------------------------------------------


def test_sector_page_no_export(app_env: DashGraph) -> None:
    at = sign_in("mz")
    assert at.title[0].value == "行业视图"
    assert at.selectbox(key="sector_select").options == ["养老机构 (2)"] or \
        at.selectbox(key="sector_select").value == "养老机构"
    text = frames_text(at)
    assert "林州康乐养老院" in text and "安阳鑫盛商贸有限公司" not in text
    assert not at.download_button and not [b for b in at.button
                                           if b.key and b.key.endswith("_prepare")]
    assert any("不可导出" in c.value for c in at.caption)


def test_sector_profile_masks_persons_and_refuses_other_sectors(app_env: DashGraph) -> None:
    at = sign_in("mz", "profile", params={"uscc": E["shell2"]})
    assert at.title[0].value == "安阳北关鑫盛养老服务有限公司"
    at.radio(key="profile_section").set_value("controller").run()
    text = page_text(at)
    assert "张三" not in text and "张某" in text
    at = sign_in("mz", "profile", params={"uscc": E["core"]})  # 投资理财: not its sector
    assert at.warning and "不在您的查看范围" in at.warning[0].value
    assert events(app_env, "mz", "access_denied")[0]["target"] == E["core"]


# --- search ------------------------------------------------------------------------------


def test_search_page_is_scoped_and_audited(app_env: DashGraph) -> None:
    at = sign_in("city1", "search")
    at.text_input(key="search_text").input("鑫盛").run()
    assert "林州鑫盛农业专业合作社" in frames_text(at)
    at.text_input(key="search_text").input("张三").run()
    assert "410502********1234" in frames_text(at)
    at.button(key="person_open").click().run()
    assert not at.exception and at.title[0].value == "张三"
    assert [e["target"] for e in events(app_env, "city1", "search")][:2] == ["张三", "鑫盛"]
    assert events(app_env, "city1", "view_person")[0]["target"] == "P:zhang"
    at = sign_in("bg", "search")
    at.text_input(key="search_text").input("鑫盛").run()
    text = frames_text(at)
    assert "安阳北关鑫盛养老服务有限公司" in text
    assert "安阳鑫盛财富投资管理有限公司" not in text and "林州" not in text
    at.text_input(key="search_text").input(E["core"]).run()
    assert E["core"] not in frames_text(at)
    at.text_input(key="search_text").input("<script>alert(1)</script>").run()
    assert not at.exception
    assert events(app_env, "bg", "search")[0]["target"] == "<script>alert(1)</script>"


# --- profile -----------------------------------------------------------------------------


def test_profile_page(app_env: DashGraph) -> None:
    at = sign_in("city1", "profile", params={"uscc": E["core"]})
    assert at.title[0].value == "安阳鑫盛财富投资管理有限公司"
    text = frames_text(at)
    assert "high_return_ad" in text and "广告监测" in text  # indicator with its source
    assert "police_clue" in text  # the city may see police indicators
    captions = " ".join(c.value for c in at.caption)
    assert "关联风险来源：人员" in captions and "电话" in captions  # linked points by channel
    at.radio(key="profile_section").set_value("changed").run()
    assert "police_clue" in frames_text(at)  # what changed since the last run
    at.radio(key="profile_section").set_value("timeline").run()
    assert "民间借贷纠纷" in frames_text(at)
    timeline = _frame_with(at, "已结束（全量交付日）")  # case 2 ended: history, dated
    ended = dict(zip(timeline["摘要"].str.split(" · ").str[0], timeline["已结束（全量交付日）"],
                     strict=True))
    assert ended["(2025)豫0502民初2号"] == ENDED and pd.isna(ended["(2025)豫0502民初1号"])
    assert any("不计入评分" in c.value for c in at.caption)
    at.radio(key="profile_section").set_value("controller").run()
    assert "张三" in "".join(m.value for m in at.markdown)
    at.radio(key="profile_section").set_value("network").run()
    assert not at.exception and at.get("iframe"), "network component missing"
    at.multiselect(key="net_types").select("PARTY_TO").run()
    assert "已结束" in at.get("iframe")[0].proto.srcdoc  # the ended case's link, dashed
    assert any("虚线" in c.value for c in at.caption)
    at.radio(key="profile_section").set_value("dossier").run()
    assert not at.download_button
    at.button(key="dossier_prepare").click().run()
    assert not at.exception
    assert len(at.download_button) == 2
    assert events(app_env, "city1", "export")[0]["target"] == E["core"]
    assert events(app_env, "city1", "view_network")[0]["target"] == E["core"]
    assert events(app_env, "city1", "view_group")[0]["target"] == GROUP_ID
    assert not at.warning  # core is in the latest registration delivery
    at = sign_in("city1", "profile", params={"uscc": E["clean"]})
    assert [w.value for w in at.warning] == [
        f"该企业已不在 {ENDED} 的登记全量交付中（可能已迁出或注销），"
        "登记信息为最后一次交付的内容。"]


def test_county_profile_masks_police_and_other_counties(app_env: DashGraph) -> None:
    at = sign_in("wf", "profile", params={"uscc": E["core"]})
    indicators = at.dataframe[0].value
    assert "police_clue" not in set(indicators["指标"])
    assert "公安" not in set(indicators["数据来源"]) and "受限信息" in set(indicators["数据来源"])
    assert "police_clue" not in frames_text(at)
    at.radio(key="profile_section").set_value("timeline").run()
    assert "JZ2025001" not in frames_text(at)  # police clue hidden from the timeline
    at = sign_in("wf", "profile", params={"uscc": E["shell1"]})
    text = frames_text(at)
    assert "安阳鑫盛财富投资管理有限公司" in text  # the linked-risk path, by name
    at.radio(key="profile_section").set_value("controller").run()
    members = at.dataframe[0].value
    other = members[members["县区"] != "文峰区"]
    # the cross-region group: other counties' members as firms (name, code), no evidence
    assert set(other["名称"]) == {"林州鑫盛农业专业合作社", "安阳北关鑫盛养老服务有限公司"}
    assert other["风险分"].isna().all() and (other["说明"] != "").all()
    at = sign_in("wf", "profile", params={"uscc": E["core"]})
    at.radio(key="profile_section").set_value("network").run()
    html = at.get("iframe")[0].proto.srcdoc  # core holds 51 % of a Linzhou firm
    assert "林州鑫盛农业专业合作社" not in html and "外县企业" in html  # placeholders
    assert events(app_env, "wf", "view_network")


def test_paths_network_and_dossier_mask_out_of_scope_nodes(app_env: DashGraph) -> None:
    """shell2 (Beiguan, 养老机构) is explained through 张三 (living in Wenfeng, its
    shareholder) and core (Wenfeng, 投资理财): the regulator sees 其他行业企业, Beiguan sees
    张三 but 外县企业 for core; far (Linzhou) sees 外县人员 for 张三 — in the explanation, the
    network and the dossier's tables."""
    at = sign_in("mz", "profile", params={"uscc": E["shell2"]})
    text = frames_text(at)
    assert "其他行业企业" in text and "安阳鑫盛财富投资管理有限公司" not in text
    _linzhou_user(app_env)
    at = sign_in("lz", "profile", params={"uscc": E["far"]})
    assert "外县人员" in frames_text(at) and "张三" not in frames_text(at)
    at = sign_in("bg", "profile", params={"uscc": E["shell2"]})
    assert "外县企业" in frames_text(at) and "安阳鑫盛财富投资管理有限公司" not in page_text(at)
    at.radio(key="profile_section").set_value("network").run()
    html = at.get("iframe")[0].proto.srcdoc  # depth 1: the firm and its shareholder
    assert "张三" in html and "安阳鑫盛财富投资管理有限公司" not in html
    at.radio(key="profile_section").set_value("dossier").run()
    text = page_text(at)  # the path's Wenfeng firm is a placeholder (the group's member
    assert "外县企业" in text  # list may name it: a cross-region group's names and codes)
    at.button(key="dossier_prepare").click().run()
    assert not at.exception and len(at.download_button) == 2


def test_profile_url_of_another_county_is_refused(app_env: DashGraph) -> None:
    at = sign_in("bg", "profile", params={"uscc": E["core"]})
    assert at.warning and "不在您的查看范围" in at.warning[0].value
    assert "安阳鑫盛财富" not in page_text(at).replace("不在您的查看范围", "")
    denied = events(app_env, "bg", "access_denied")
    assert denied[0]["target"] == E["core"] and "uscc" in denied[0]["detail"]
    at = sign_in("root", "runs", params={"uscc": E["core"]})  # the admin has no profile page
    with pytest.raises(ValueError):
        at.switch_page("views/profile.py")


def test_person_page(app_env: DashGraph) -> None:
    at = sign_in("city1", "person", pid="P:zhang")
    roles = _frame_with(at, "已结束（全量交付日）")
    former = roles[roles["已结束（全量交付日）"].notna()]
    assert list(former["名称"]) == ["安阳北关鑫盛养老服务有限公司"]  # the former shareholding
    assert list(former["已结束（全量交付日）"]) == [ENDED]
    assert any("不计入评分" in c.value for c in at.caption)
    at = sign_in("wf", "person", pid="P:zhang")
    text = frames_text(at)
    assert "安阳鑫盛商贸有限公司" in text and "外县企业" in text
    assert "安阳北关鑫盛养老服务有限公司" not in text
    at = sign_in("bg", "person", params={"pid": "P:li"})  # 李四: only Linzhou roles
    assert at.warning and "李四" not in page_text(at)
    assert events(app_env, "bg", "access_denied")[0]["target"] == "P:li"


# --- cross-region ------------------------------------------------------------------------


def test_cross_region_page_and_hand_off(app_env: DashGraph) -> None:
    at = sign_in("city1", "cross_region")
    assert "G-0001" in frames_text(at) and "张三" in frames_text(at)
    assert "建议主办地区：文峰区" in [m.value for m in at.markdown]
    assert "移交状态：未移交" in [m.value for m in at.markdown]
    at.button(key=f"handoff_{GROUP_ID}_prepare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.proto.label for b in at.download_button] == ["下载移交材料（Word）",
                                                           "下载移交数据（JSON）"]
    assert events(app_env, "city1", "handoff")[0]["target"] == GROUP_ID
    assert events(app_env, "city1", "view_group")


def test_cross_region_page_for_a_county(app_env: DashGraph) -> None:
    at = sign_in("bg", "cross_region")
    text = frames_text(at)
    assert "G-0001" in text and "张三" not in text  # no controller (a person) for counties
    assert not [b for b in at.button if b.key and b.key.startswith("handoff_")]  # city only
    assert "安阳鑫盛财富投资管理有限公司" in text  # other counties' members: firm names
    at = sign_in("bg", "cross_region", params={"group": "G-9999"})
    assert at.warning and events(app_env, "bg", "access_denied")[0]["target"] == "G-9999"


def test_analyst_sees_the_city_but_no_ledger_or_hand_off(app_env: DashGraph) -> None:
    at = sign_in("an", "profile", params={"uscc": E["far"]})
    assert at.title[0].value == "林州鑫盛农业专业合作社"
    assert "police_clue" in frames_text(at)  # analysts may see police indicators
    at.switch_page("views/cross_region.py").run()
    assert not [b for b in at.button if b.key and b.key.startswith("handoff_")]
    at.switch_page("views/county.py").run()
    assert "风险台账" not in "".join(s.value for s in at.subheader)


# --- runs and admin ----------------------------------------------------------------------


def test_runs_page(app_env: DashGraph) -> None:
    at = sign_in("city1", "runs")
    text = frames_text(at)
    assert "R3" in text and "ingest stopped" in text
    assert any(m.label == "已导入" and m.value == "10" for m in at.metric)
    headers = [set(map(str, df.value.columns)) for df in at.dataframe]
    assert any({"批次", "状态"} <= h for h in headers)  # run history, localised
    assert not any("run_id" in h or "rows_quarantined" in h for h in headers)


def _frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table of the page with ``column``."""
    [frame] = [df.value for df in at.dataframe if column in df.value.columns]
    return frame


def _notes_delivery(inbox: Path) -> Path:
    """An increment workbook of registration: the firm name under its alias 名称, a 备注
    column the contract does not declare, and a 填报说明 sheet naming no table."""
    from openpyxl import Workbook

    from tests.ingest_fixtures import ENT_HEADER, citizen_id, enterprise_row, uscc

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "企业基本信息"
    sheet.append(["名称" if h == "企业名称" else h for h in ENT_HEADER])
    sheet.append(enterprise_row(uscc("410522", 77), "安阳县测试商贸有限公司",
                                登记机关="安阳县市场监督管理局", 住所="安阳县白璧镇1号",
                                法定代表人="王五", 法定代表人证件号码=citizen_id("410522",
                                                                                serial=456)))
    workbook.create_sheet("填报说明").append(["本表由登记系统导出"])
    folder = inbox / "20250401" / "registration"
    folder.mkdir(parents=True)
    workbook.save(folder / "市场监管_登记数据_增量.xlsx")
    return inbox


def test_runs_page_shows_the_ingest_notes(app_env: DashGraph, tmp_path: Path) -> None:
    """A delivery loaded with an aliased header, a column not read and an ignored sheet: the
    latest ingest report shows each under its file, in Chinese and in English, to every role
    that sees the file's row (the county office too), and no raw report text."""
    from ingest.pipeline import ingest_inbox
    from riskgraph.settings import load_settings

    settings = load_settings({**app_env.env(), "RISKGRAPH_BULK_LOAD": "off"})
    report = ingest_inbox(app_env.driver, settings, _notes_delivery(tmp_path / "inbox"),
                          run_id="R9-notes")
    try:
        assert report.rows_loaded == 1 and report.ok
        for user in ("city1", "wf"):
            at = sign_in(user, "runs")
            text = page_text(at)
            # the file's heading, its name escaped (a delivered name is never markdown)
            assert ("交付批次 20250401 · 数据来源 registration · 文件 "
                    "市场监管\\_登记数据\\_增量\\.xlsx") in text
            notes = _frame_with(at, "文件中的写法")
            assert list(notes.columns) == ["表", "说明", "文件中的写法", "读作"]
            rows = {tuple(r) for r in notes.fillna("—").itertuples(index=False)}
            assert ("—", "工作表名未对应任何数据表：已忽略，未读取", "「填报说明」", "—") in rows
            assert ("企业基本信息", "表头与规范写法不同（别名、空格或全角字符）：按规范表头读取",
                    "「名称」", "企业名称") in rows
            assert ("企业基本信息", "未读取的列：规范中未声明，或该字段已由另一列读取", "「备注」",
                    "—") in rows
            assert "ignored_sheets" not in text and "header_mappings" not in text
        # an earlier ingest report on request: the sample's, without this delivery's notes
        assert at.selectbox(key="ingest_run").options[:2] == ["R9-notes", "R2-ingest"]
        at.selectbox(key="ingest_run").set_value("R2-ingest").run()
        assert not at.exception and "填报说明" not in page_text(at)
        assert any(m.label == "已导入" and m.value == "10" for m in at.metric)
        at.selectbox(key="ingest_run").set_value("R9-notes").run()
        at.selectbox(key="lang").set_value("en").run()
        assert not at.exception
        text = page_text(at)
        assert "Ingest notes: how files differed from the contract" in text
        notes = _frame_with(at, "As written in the file")
        assert list(notes.columns) == ["Table", "Note", "As written in the file", "Read as"]
        rows = {tuple(r) for r in notes.fillna("—").itertuples(index=False)}
        assert ("—", "Sheet names no table: ignored, not read", "“填报说明”", "—") in rows
        assert ("企业基本信息", "Header differs from the declared one (an alias, spaces or "
                "full-width characters): read as the declared header", "“名称”", "企业名称") in rows
        assert ("企业基本信息", "Column not read: not declared, or its field was already read "
                "from another column", "“备注”", "—") in rows
    finally:  # the sample report stays the latest for the other tests of the module
        shutil.rmtree(app_env.home / "runs" / "R9-notes", ignore_errors=True)


def test_admin_page_users_and_audit_export(app_env: DashGraph) -> None:
    sign_in("wf", "profile", params={"uscc": E["core"]})  # something to audit
    at = sign_in("root")
    assert at.title[0].value == "系统管理"
    users_table = at.dataframe[0].value
    assert {"city1", "wf", "mz", "an", "root"} <= set(users_table["username"])
    assert "pw_hash" not in users_table.columns
    trail = at.dataframe[1].value
    assert "view_enterprise" in set(trail["action"])
    assert not [b for b in at.button if "delete" in str(b.key) or "edit" in str(b.key)]
    at.button(key="audit_export_prepare").click().run()
    assert not at.exception and at.download_button
    assert events(app_env, "root", "audit_export")
    content = at.download_button[0].proto
    assert content.label == "下载审计日志"
    at.switch_page("views/runs.py").run()
    assert not at.exception and "安阳鑫盛" not in frames_text(at)  # no case data


def test_english(app_env: DashGraph) -> None:
    at = sign_in("wf")
    at.selectbox(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "County view"
    assert "Score" in at.dataframe[0].value.columns


def _linzhou_user(app_env: DashGraph) -> None:
    """The Linzhou county account ``lz`` (created once per module)."""
    from security import users

    try:
        users.add_user(app_env.driver, app_env.settings(), "lz", "county", PASSWORD,
                       (LINZHOU,))
    except Exception:  # noqa: BLE001 - exists from an earlier test of this module
        pass


def test_every_county_route_on_a_third_county(app_env: DashGraph) -> None:
    """A Linzhou account (created here) reaches no Wenfeng or Beiguan firm by any route."""
    _linzhou_user(app_env)
    at = sign_in("lz")
    assert set(at.selectbox(key="county_select").options) == {"林州市"}
    assert "安阳鑫盛财富投资管理有限公司" not in frames_text(at)
    for uscc in (E["core"], E["shell2"], E["hostile"]):
        at = sign_in("lz", "profile", params={"uscc": uscc})
        assert at.warning and "不在您的查看范围" in at.warning[0].value
    at = sign_in("lz", "profile", params={"uscc": E["far"]})
    assert at.title[0].value == "林州鑫盛农业专业合作社"
    text = frames_text(at)
    assert "外县人员" in text and "张三" not in text  # the Wenfeng person in its path
    at.radio(key="profile_section").set_value("controller").run()
    assert "张三" not in page_text(at)
    assert len(events(app_env, "lz", "access_denied")) >= 3


def test_serve_command_line() -> None:
    from dashboards.serve import run_serve_command, streamlit_command
    from riskgraph.errors import UsageError
    from riskgraph.settings import load_settings

    cmd = streamlit_command(8765)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[4].endswith("dashboards/app.py") and cmd[2:4] == ["dashboards.boot", "run"]
    with pytest.raises(UsageError):
        run_serve_command(load_settings({}), 0)
