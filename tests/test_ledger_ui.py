"""The ledger's Streamlit render functions, driven by AppTest on the real Neo4j."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.scope import Scope, city_scope, county_scope, sector_scope
from security.users import User
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E2,
    E4,
    E5,
    GROUP,
    RUN_LIVE,
    A,
    B,
    SmallGraph,
    small_graph,
)
from workflow import handoff, ledger
from workflow import statuses as st

pytestmark = pytest.mark.neo4j

#: what the tiny app script renders (same process as AppTest, so a module global works)
CONTEXT: dict[str, Any] = {}

SCRIPT = """
from tests import test_ledger_ui as t
from workflow.ui import (render_city_progress, render_handoff_control, render_ledger,
                         render_pass_down)

c = t.CONTEXT
if c["view"] == "ledger":
    render_ledger(c["driver"], c["scope"], c["county"], c["user"])
elif c["view"] == "pass":
    render_pass_down(c["driver"], c["scope"], c["user"], settings=c["settings"])
elif c["view"] == "handoff":
    render_handoff_control(c["driver"], c["user"], c["group"])
else:
    render_city_progress(c["driver"], c["scope"], c["year"], settings=c["settings"])
"""


def _app(tmp_path: Path, **context: Any) -> AppTest:
    CONTEXT.clear()
    CONTEXT.update(context)
    script = tmp_path / "ledger_app.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return AppTest.from_file(str(script), default_timeout=60).run()


def _eid(key: str, county: str = A) -> str:
    return ledger.entry_id_for(county, "enterprise", key)


def test_ledger_lists_filters_and_marks_overdue(small_graph: SmallGraph,  # noqa: F811
                                                tmp_path: Path) -> None:
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2025, 3, 1))
    ledger.update_entry(g.driver, _eid(E2), "u", {"deadline": "2020-01-01"})
    at = _app(tmp_path, view="ledger", driver=g.driver, scope=county_scope(A), county=A,
              user="county_user")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["代码"]) == {E1, E2, "wft-group-1"}
    assert table.set_index("代码").loc[E2, "逾期"] == "⚠ 逾期"
    assert "其中逾期 1 项" in at.caption[0].value
    at.checkbox(key=f"wf_overdue_{A}").check().run()
    assert list(at.dataframe[0].value["代码"]) == [E2]
    at.checkbox(key=f"wf_overdue_{A}").uncheck().run()
    at.selectbox(key=f"wf_filter_{A}").select(st.CHECKING).run()
    assert any("暂无" in i.value for i in at.info)


def test_edit_form_offers_only_allowed_statuses_and_saves(small_graph: SmallGraph,  # noqa: F811
                                                          tmp_path: Path) -> None:
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2025, 3, 1))
    at = _app(tmp_path, view="ledger", driver=g.driver, scope=county_scope(A), county=A,
              user="county_user")
    eid = _eid(E1)
    at.selectbox(key=f"wf_entry_{A}").select(eid).run()
    assert at.selectbox(key=f"wf_status_{eid}").options == [st.PENDING, st.CHECKING,
                                                            st.DISMISSED]
    at.selectbox(key=f"wf_status_{eid}").select(st.CHECKING)
    at.text_input(key=f"wf_assignee_{eid}").input("陈科长")
    at.text_area(key=f"wf_plan_{eid}").input("约谈法人，督促清退")
    at.button(key=f"wf_save_{eid}").click().run()
    assert not at.exception and not at.error
    entry = ledger.get_entry(g.driver, eid)
    assert entry["status"] == st.CHECKING and entry["assignee"] == "陈科长"
    assert entry["plan"] == "约谈法人，督促清退"
    assert any("已保存" in s.value for s in at.success)
    history = at.dataframe[1].value
    assert list(history["动作"]) == ["入账", "编辑", "状态变更"]
    assert set(history["操作人"]) == {"system", "county_user"}
    # closing without a reason is refused with a clear message, nothing changes
    at.selectbox(key=f"wf_entry_{A}").select(eid).run()
    assert at.selectbox(key=f"wf_status_{eid}").options == [
        st.CHECKING, st.RESOLVED, st.TO_POLICE, st.FILED, st.DISMISSED]
    at.selectbox(key=f"wf_status_{eid}").select(st.DISMISSED)
    at.button(key=f"wf_save_{eid}").click().run()
    assert any("reason code" in e.value for e in at.error)
    assert ledger.get_entry(g.driver, eid)["status"] == st.CHECKING


def test_scope_outside_county_and_read_only_roles(small_graph: SmallGraph,  # noqa: F811
                                                  tmp_path: Path) -> None:
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2025, 3, 1))
    at = _app(tmp_path, view="ledger", driver=g.driver, scope=county_scope(B), county=A,
              user="b_user")
    assert at.warning and not at.dataframe
    at = _app(tmp_path, view="ledger", driver=g.driver, scope=sector_scope("养老机构"),
              county=A, user="sector_user")
    assert at.dataframe and not at.button and any("只读" in i.value for i in at.info)


def test_city_progress_and_closure_rate(small_graph: SmallGraph,  # noqa: F811
                                        tmp_path: Path) -> None:
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2024, 12, 1))
    ledger.transition(g.driver, _eid(E1), st.CHECKING, "u", at=datetime(2025, 1, 5))
    ledger.transition(g.driver, _eid(E1), st.RESOLVED, "u", reason_code="rectified",
                      at=datetime(2025, 2, 5))
    at = _app(tmp_path, view="city", driver=g.driver, scope=city_scope(), year=2025,
              settings=g.settings)
    assert not at.exception
    table = at.dataframe[0].value.set_index("县区")
    assert table.loc["老城区", "陈案"] == 3 and table.loc["老城区", "年内办结"] == 1
    assert table.loc["老城区", "陈案办结率"] == "33.3%" and table.loc["老城区", "达标"] == "✓"
    assert table.loc["西工区", "达标"] == "✗"
    rate = at.metric[0]
    assert rate.value == "20.0%"  # 1 of 5 old cases across the city
    assert at.metric[1].value == "15%"
    scoped = _app(tmp_path, view="city", driver=g.driver, scope=Scope("county", (B,)),
                  year=2025, settings=g.settings)
    assert list(scoped.dataframe[0].value["县区"]) == ["西工区"]


CITY = User("wfu-city", "city")
OFFICE_A = User("wfu-office-a", "county", (A,))
OFFICE_B = User("wfu-office-b", "county", (B,))


def test_city_reads_county_ledger_without_an_edit_form(small_graph: SmallGraph,  # noqa: F811
                                                      tmp_path: Path) -> None:
    g = small_graph
    ledger.sync_ledger(g.driver, g.settings, RUN_LIVE, at=datetime(2025, 3, 1))
    ledger.pass_down(g.driver, A, "enterprise", E1, CITY, note="市领导批示，限期核查")
    at = _app(tmp_path, view="ledger", driver=g.driver, scope=city_scope(), county=A, user=CITY)
    assert not at.exception and at.dataframe and not at.button
    assert any("属地管理" in i.value for i in at.info)
    table = at.dataframe[0].value.set_index("代码")
    assert table.loc[E1, "来源"] == "系统预警，市级交办"
    at.selectbox(key=f"wf_entry_{A}").select(_eid(E1)).run()
    assert any("市领导批示，限期核查" in i.value for i in at.info)
    # the county office of A gets the form for the same entry
    office = _app(tmp_path, view="ledger", driver=g.driver, scope=county_scope(A), county=A,
                  user=OFFICE_A)
    assert office.button(key=f"wf_save_{office.selectbox(key=f'wf_entry_{A}').value}")


def test_city_passes_an_enterprise_down_from_the_form(small_graph: SmallGraph,  # noqa: F811
                                                      tmp_path: Path) -> None:
    g = small_graph
    at = _app(tmp_path, view="pass", driver=g.driver, scope=city_scope(), user=CITY,
              settings=g.settings)
    assert not at.exception
    at.text_input(key="wf_pass_key").input(E4)  # county by 属地: 西工区 (B)
    at.text_input(key="wf_pass_deadline").input("2025-05-31")
    at.text_area(key="wf_pass_note").input("12345 热线多次举报")
    at.button(key="wf_pass_submit").click().run()
    assert not at.exception and not at.error
    assert any("已交办" in s.value and "西工区" in s.value for s in at.success)
    entry = ledger.get_entry(g.driver, ledger.entry_id_for(B, "enterprise", E4))
    assert entry["origin"] == "city" and entry["deadline"] == "2025-05-31"
    assert entry["passed_by"] == "wfu-city" and entry["pass_note"] == "12345 热线多次举报"
    # a group to a chosen county; a bad date is refused with a message and writes nothing
    at.radio(key="wf_pass_kind").set_value("group")
    at.text_input(key="wf_pass_key").input(GROUP)
    at.selectbox(key="wf_pass_county").select(A)
    at.text_input(key="wf_pass_deadline").input("5月底")
    at.button(key="wf_pass_submit").click().run()
    assert any("not a date" in e.value for e in at.error)
    assert not any(e["subject_key"] == GROUP for e in ledger.list_entries(g.driver, [A]))
    at.text_input(key="wf_pass_deadline").input("")
    at.button(key="wf_pass_submit").click().run()
    assert not at.error
    assert ledger.get_entry(g.driver, ledger.entry_id_for(A, "group", GROUP))["origin"] == "city"
    # an enterprise code that is not in the graph: a clear message
    at.radio(key="wf_pass_kind").set_value("enterprise")
    at.text_input(key="wf_pass_key").input(E5.replace("5X", "9X"))
    at.selectbox(key="wf_pass_county").select("")
    at.button(key="wf_pass_submit").click().run()
    assert at.error
    # county offices have no such form
    office = _app(tmp_path, view="pass", driver=g.driver, scope=county_scope(A), user=OFFICE_A,
                  settings=g.settings)
    assert not office.exception and not office.button and not office.text_input


def test_handoff_control_for_city_and_lead_county(small_graph: SmallGraph,  # noqa: F811
                                                  tmp_path: Path) -> None:
    g = small_graph
    at = _app(tmp_path, view="handoff", driver=g.driver, user=CITY, group=GROUP)
    assert not at.exception and not at.button  # no package yet: nothing to advance
    handoff.set_handoff_status(g.driver, GROUP, "draft", CITY, lead=A)
    at = _app(tmp_path, view="handoff", driver=g.driver, user=CITY, group=GROUP)
    assert at.selectbox(key=f"wf_handoff_to_{GROUP}").options == ["已发送"]
    at.text_input(key=f"wf_handoff_note_{GROUP}").input("已函告主办地")
    at.button(key=f"wf_handoff_save_{GROUP}").click().run()
    assert not at.exception and not at.error
    assert any("已发送" in s.value for s in at.success)
    assert "移交状态：已发送" in at.markdown[0].value
    # a county that does not lead the group sees the status only
    other = _app(tmp_path, view="handoff", driver=g.driver, user=OFFICE_B, group=GROUP)
    assert not other.button and any("主办县区可接收" in c.value for c in other.caption)
    # the lead county accepts, then closes
    lead = _app(tmp_path, view="handoff", driver=g.driver, user=OFFICE_A, group=GROUP)
    assert lead.selectbox(key=f"wf_handoff_to_{GROUP}").options == ["草拟", "已接收"]
    lead.selectbox(key=f"wf_handoff_to_{GROUP}").select("accepted")
    lead.button(key=f"wf_handoff_save_{GROUP}").click().run()
    assert "移交状态：已接收" in lead.markdown[0].value
    assert lead.selectbox(key=f"wf_handoff_to_{GROUP}").options == ["已办结"]
    history = lead.dataframe[0].value
    assert list(history["操作人"]) == ["wfu-city", "wfu-city", "wfu-office-a"]
    assert "移交状态: 已发送 → 已接收" in history["变更"].iloc[-1]
