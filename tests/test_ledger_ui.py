"""The ledger's Streamlit render functions, driven by AppTest on the real Neo4j."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.scope import Scope, city_scope, county_scope, sector_scope
from tests.test_ledger_fixtures import (  # noqa: F401  (fixture)
    E1,
    E2,
    RUN_LIVE,
    A,
    B,
    SmallGraph,
    small_graph,
)
from workflow import ledger
from workflow import statuses as st

pytestmark = pytest.mark.neo4j

#: what the tiny app script renders (same process as AppTest, so a module global works)
CONTEXT: dict[str, Any] = {}

SCRIPT = """
from tests import test_ledger_ui as t
from workflow.ui import render_city_progress, render_ledger

c = t.CONTEXT
if c["view"] == "ledger":
    render_ledger(c["driver"], c["scope"], c["county"], c["user"])
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
