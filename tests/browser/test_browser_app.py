"""The app in Debian's Chromium: pick a county, open an enterprise, see its explanation and
network; hostile names stay text; nothing is loaded from outside 127.0.0.1.

Screenshots go to docs/screenshots/ (checked by eye for Chinese rendering).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.app_server import Browser, chromium, network_frame, running_app
from tests.browser.sample_graph import HOSTILE, E
from tests.browser.support import PASSWORD, DashGraph, dash_graph  # noqa: F401

pytestmark = [pytest.mark.neo4j, pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

if not os.path.exists("/usr/bin/chromium"):
    # a missing browser in CI is a missing install step, never a quiet skip
    if os.environ.get("CI"):
        raise RuntimeError("Debian chromium is not installed (make test installs it)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def app_url(dash_graph: DashGraph) -> Iterator[str]:  # noqa: F811
    with running_app(dash_graph.env()) as url:
        yield url


@pytest.fixture()
def browser() -> Iterator[Browser]:
    with chromium() as state:
        yield state


def _pick(browser: Browser, label: str, option: str) -> None:
    """Choose ``option`` in the Streamlit selectbox labelled ``label``."""
    page = browser.page
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=False).first.click()
    browser.settle()


def _open_tab(browser: Browser, name: str) -> None:
    """Choose a profile section (radio)."""
    browser.page.get_by_text(name, exact=True).click()
    browser.settle()


def test_county_to_profile_with_network(app_url: str, browser: Browser) -> None:
    page = browser.page
    page.goto(f"{app_url}/county")
    browser.settle()
    assert page.locator("[data-testid='stDataFrame']").count() == 0  # sign-in first
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "sign_in.png"), full_page=True)
    browser.sign_in("city1", PASSWORD)
    _pick(browser, "县区", "文峰区")
    page.get_by_text("安阳鑫盛财富投资管理有限公司").first.wait_for(state="attached")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "county.png"), full_page=True)

    page.get_by_role("button", name="查看企业画像").click()
    browser.settle()
    # the page switch may land after the app settled once (a loaded machine): wait for it
    page.locator("[data-testid='stMain'] h1", has_text="安阳鑫盛财富投资管理有限公司").first \
        .wait_for(state="attached", timeout=60_000)
    heading = page.locator("[data-testid='stMain'] h1").first
    assert heading.inner_text().strip() == "安阳鑫盛财富投资管理有限公司"
    # the explanation: an indicator row with its source
    page.get_by_text("high_return_ad").first.wait_for(state="attached")
    page.get_by_text("广告监测").first.wait_for(state="attached")
    page.screenshot(path=str(SHOTS / "profile_explanation.png"), full_page=True)

    _open_tab(browser, "关联网络")
    frame = network_frame(page)
    assert int(frame.evaluate("() => document.body.getAttribute('data-nodes')")) >= 5
    assert frame.evaluate("() => window.riskgraphNetwork.body.data.nodes.length") >= 5
    page.wait_for_timeout(1500)  # let the physics settle for the picture
    page.screenshot(path=str(SHOTS / "profile_network.png"), full_page=True)

    assert browser.dialogs == []
    assert browser.external_requests() == []


def test_city_map_renders_offline(app_url: str, browser: Browser) -> None:
    page = browser.page
    browser.open(f"{app_url}/", "city1", PASSWORD)
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "city.png"), full_page=True)
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="跨区域案件").first.click()
    browser.settle()
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / "cross_region.png"), full_page=True)
    assert browser.external_requests() == []


def test_hostile_names_render_as_text(app_url: str, browser: Browser) -> None:
    page = browser.page
    browser.open(f"{app_url}/profile?uscc={E['hostile']}", "city1", PASSWORD)
    heading = page.locator("[data-testid='stMain'] h1").first
    assert heading.inner_text().strip() == HOSTILE  # shown literally, as text
    assert heading.is_visible()
    assert page.locator("img[src='x']").count() == 0

    _open_tab(browser, "关联网络")
    frame = network_frame(page)
    labels = frame.evaluate(
        "() => window.riskgraphNetwork.body.data.nodes.get().map(n => n.label)")
    assert HOSTILE[:15] + "…" in labels or HOSTILE in labels
    assert frame.locator("img").count() == 0 and frame.locator("script[src]").count() == 0
    # hover tooltips are DOM text, not HTML
    tooltip = frame.evaluate(
        "() => window.riskgraphNetwork.body.data.nodes.get()"
        ".map(n => n.title && n.title.textContent).join('\\n')")
    assert HOSTILE in tooltip and "<script>alert(2)</script>" in tooltip

    page.locator("[data-testid='stSidebarNav'] a").filter(has_text="县区风险清单").first.click()
    browser.settle()
    _pick(browser, "县区", "文峰区")
    page.get_by_text(HOSTILE).first.wait_for(state="attached")
    page.wait_for_timeout(1000)
    assert browser.dialogs == [], browser.dialogs
    assert browser.external_requests() == []
