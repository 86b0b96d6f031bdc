"""AppTest runs of every page of the Streamlit app against the sample graph (real Neo4j)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.browser.sample_graph import BEIGUAN, HOSTILE, WENFENG, E
from tests.browser.support import DashGraph, dash_graph  # noqa: F401

pytestmark = pytest.mark.neo4j
APP = str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py")


@pytest.fixture()
def app_env(dash_graph: DashGraph, monkeypatch: pytest.MonkeyPatch  # noqa: F811
            ) -> Iterator[DashGraph]:
    for key, value in dash_graph.env().items():
        monkeypatch.setenv(key, value)
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield dash_graph


def run(page: str, **state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page != "views/city.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames_text(at: AppTest) -> str:
    return "\n".join(df.value.to_string() for df in at.dataframe)


def test_city_page(app_env: DashGraph) -> None:
    at = run("views/city.py")
    assert at.title[0].value == "全市总览"
    assert "文峰区" in frames_text(at)
    assert len(at.get("plotly_chart")) >= 1
    at.selectbox(key="city_drill").set_value(WENFENG)
    at.button(key="city_open").click().run()
    assert not at.exception
    assert at.title[0].value == "县区风险清单"


def test_county_page_lists_own_county(app_env: DashGraph) -> None:
    at = run("views/county.py", county=WENFENG)
    text = frames_text(at)
    assert "安阳鑫盛财富投资管理有限公司" in text and HOSTILE in text
    assert "北关" not in text
    assert at.get("download_button")
    at.selectbox(key="county_pick")  # the enterprise picker exists
    at.button(key="county_open").click().run()
    assert not at.exception
    assert at.title[0].value == "安阳鑫盛财富投资管理有限公司"


def test_county_scope_cannot_pick_other_counties(app_env: DashGraph) -> None:
    at = run("views/county.py", scope_role="county", scope_county=BEIGUAN)
    assert at.selectbox(key="county_select").options == ["北关区"]
    assert "安阳鑫盛商贸有限公司" not in frames_text(at)


def test_sector_page(app_env: DashGraph) -> None:
    at = run("views/sector.py")
    at.selectbox(key="sector_select").set_value("养老机构").run()
    text = frames_text(at)
    assert "林州康乐养老院" in text and "安阳鑫盛商贸有限公司" not in text


def test_search_page(app_env: DashGraph) -> None:
    at = run("views/search.py")
    at.text_input(key="search_text").input("鑫盛").run()
    assert "林州鑫盛农业专业合作社" in frames_text(at)
    at.text_input(key="search_text").input("张三").run()
    assert "410502********1234" in frames_text(at)
    at.button(key="person_open").click().run()
    assert not at.exception and at.title[0].value == "张三"


def test_profile_page(app_env: DashGraph) -> None:
    at = run("views/profile.py", uscc=E["core"])
    assert at.title[0].value == "安阳鑫盛财富投资管理有限公司"
    text = frames_text(at)
    assert "high_return_ad" in text and "广告监测" in text  # indicator with its source
    section = at.radio(key="profile_section")
    section.set_value("changed").run()
    assert "police_clue" in frames_text(at)  # what changed since the last run
    at.radio(key="profile_section").set_value("timeline").run()
    assert "民间借贷纠纷" in frames_text(at)
    at.radio(key="profile_section").set_value("controller").run()
    assert "张三" in "".join(m.value for m in at.markdown)
    at.radio(key="profile_section").set_value("network").run()
    assert not at.exception and at.get("iframe"), "network component missing"
    at.radio(key="profile_section").set_value("dossier").run()
    at.button(key="dossier_make").click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 2


def test_profile_paths_and_masking(app_env: DashGraph) -> None:
    at = run("views/profile.py", uscc=E["shell1"], scope_role="county",
             scope_county=WENFENG)
    text = frames_text(at)
    at.radio(key="profile_section").set_value("controller").run()
    text += frames_text(at)
    assert "安阳鑫盛财富投资管理有限公司" in text  # the linked-risk path, by name
    assert "外县企业" in text  # Beiguan / Linzhou group members masked
    assert "林州鑫盛农业专业合作社" not in text


def test_profile_out_of_scope(app_env: DashGraph) -> None:
    at = run("views/profile.py", uscc=E["core"], scope_role="county", scope_county=BEIGUAN)
    assert at.warning and "不在您的查看范围" in at.warning[0].value


def test_person_page(app_env: DashGraph) -> None:
    at = run("views/person.py", pid="P:zhang", scope_role="county", scope_county=WENFENG)
    text = frames_text(at)
    assert "安阳鑫盛商贸有限公司" in text and "外县企业" in text


def test_cross_region_page(app_env: DashGraph) -> None:
    at = run("views/cross_region.py")
    assert "G-0001" in frames_text(at)
    assert "建议主办地区：文峰区" in [m.value for m in at.markdown]


def test_runs_page(app_env: DashGraph) -> None:
    at = run("views/runs.py")
    text = frames_text(at)
    assert "R3" in text and "ingest stopped" in text
    assert any(m.label == "已导入" and m.value == "10" for m in at.metric)


def test_english(app_env: DashGraph) -> None:
    at = run("views/county.py", county=WENFENG)
    at.selectbox(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "County view"
    assert "Score" in at.dataframe[0].value.columns


def test_serve_command_line() -> None:
    from dashboards.serve import run_serve_command, streamlit_command
    from riskgraph.errors import UsageError
    from riskgraph.settings import load_settings

    cmd = streamlit_command(8765)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[4].endswith("dashboards/app.py") and cmd[2:4] == ["streamlit", "run"]
    with pytest.raises(UsageError):
        run_serve_command(load_settings({}), 0)
