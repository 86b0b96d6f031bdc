"""Every page of every role in Debian's Chromium, in Chinese and in English.

The AppTest tests run the page scripts in Python; only a real browser runs Streamlit's
front end and the components (plotly, pyvis' vis-network, the data grid). Here every page a
role gets is opened through the sidebar, as a user would, and must render its heading with no
Streamlit exception box, no uncaught script error, no dialog and no request leaving
127.0.0.1. The navigation itself must list exactly the role's pages
(``dashboards.state.ROLE_PAGES``): the browser sees what the server decided.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.i18n import STRINGS
from dashboards.state import ROLE_PAGES
from tests.browser.app_server import Browser, chromium, running_app
from tests.browser.support import PASSWORD, USERS, DashGraph, dash_graph  # noqa: F401

pytestmark = [pytest.mark.neo4j, pytest.mark.browser, pytest.mark.slow]

if not os.path.exists("/usr/bin/chromium"):
    # a missing browser in CI is a missing install step, never a quiet skip
    if os.environ.get("CI"):
        raise RuntimeError("Debian chromium is not installed (make test installs it)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

PAGE_KEYS = {"city": "page.city", "county": "page.county", "ledger": "page.ledger",
             "sector": "page.sector", "search": "page.search", "profile": "page.profile",
             "person": "page.person", "cross": "page.cross", "runs": "page.runs",
             "admin": "page.admin"}
"""The navigation's url paths and the i18n keys of their titles (``dashboards/app.py``)."""


@pytest.fixture(scope="module")
def app_url(dash_graph: DashGraph) -> Iterator[str]:  # noqa: F811
    with running_app(dash_graph.env()) as url:
        yield url


@pytest.fixture()
def browser() -> Iterator[tuple[Browser, list[str]]]:
    """The browser and the uncaught script errors of its page."""
    with chromium() as state:
        errors: list[str] = []
        state.page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield state, errors


def _title(url: str, lang: str) -> str:
    zh, en = STRINGS[PAGE_KEYS[url]]
    return en if lang == "en" else zh


def _nav_titles(browser: Browser) -> list[str]:
    links = browser.page.locator("[data-testid='stSidebarNav'] a")
    return [links.nth(i).inner_text().strip() for i in range(links.count())]


def _to_english(browser: Browser) -> None:
    page = browser.page
    page.get_by_role("combobox", name="语言", exact=True).click()
    page.get_by_role("option", name="English", exact=True).click()
    browser.settle()
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=_title("runs", "en")) \
        .first.wait_for(state="attached")


def _visit(browser: Browser, url: str, lang: str, default: bool) -> str:
    """Open ``url``'s page from the sidebar (the role's ``default`` page lives at ``/``); the
    heading it shows."""
    page = browser.page
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=_title(url, lang)) \
        .first.click()
    page.wait_for_function("([url, root]) => location.pathname.endsWith('/' + url)"
                           " || (root && location.pathname.endsWith('/'))", arg=[url, default])
    browser.settle()
    page.wait_for_timeout(300)  # components draw after the script finished
    browser.settle()
    return str(page.locator("[data-testid='stMain'] h1").first.inner_text().strip())


def _page_problems(browser: Browser, errors: list[str]) -> dict[str, Any]:
    page = browser.page
    return {"exceptions": [page.locator("[data-testid='stException']").nth(i).inner_text()
                           for i in range(page.locator("[data-testid='stException']").count())],
            "script_errors": list(errors), "dialogs": list(browser.dialogs),
            "external": browser.external_requests()}


@pytest.mark.parametrize(("user", "lang"), [
    ("city1", "zh"), ("city1", "en"), ("wf", "zh"), ("mz", "zh"), ("an", "en"), ("root", "zh")])
def test_every_page_of_the_role_renders(app_url: str, browser: tuple[Browser, list[str]],
                                        user: str, lang: str) -> None:
    state, errors = browser
    role = USERS[user][0]
    state.open(f"{app_url}/", user, PASSWORD)
    if lang == "en":
        _to_english(state)
    assert _nav_titles(state) == [_title(url, lang) for url in ROLE_PAGES[role]]
    headings = {}
    for url in ROLE_PAGES[role]:
        headings[url] = _visit(state, url, lang, default=url == ROLE_PAGES[role][0])
        assert headings[url], f"{url}: no heading"
        problems = _page_problems(state, errors)
        assert problems == {"exceptions": [], "script_errors": [], "dialogs": [],
                            "external": []}, (url, problems)
    if lang == "en":  # the pages speak English, not the Chinese defaults
        assert headings["runs"] == _title("runs", "en")
        assert not any(h == _title(url, "zh") for url, h in headings.items())


def test_runs_page_offers_earlier_ingest_reports(app_url: str, dash_graph: DashGraph,  # noqa: F811
                                                 browser: tuple[Browser, list[str]]) -> None:
    """The runs page shows the newest ingest report; an earlier one is picked by its run id
    and shown in its place."""
    state, errors = browser
    page = state.page
    newest = json.loads((dash_graph.home / "runs" / "R2" / "report.json").read_text("utf-8"))
    earlier = {**newest, "run_id": "R1-ingest", "finished": "2025-02-01T02:00:40",
               "files": [{**newest["files"][1], "file": "法院_案件_早前.csv"}]}
    folder = dash_graph.home / "runs" / "R1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(earlier, ensure_ascii=False), "utf-8")
    written = (dash_graph.home / "runs" / "R2" / "report.json").stat().st_mtime
    os.utime(folder / "report.json", (written - 86400, written - 86400))  # reports by age

    state.open(f"{app_url}/runs", "city1", PASSWORD)
    assert page.locator("[data-testid='stMain'] h1").first.inner_text().strip() == "数据与运行"
    page.get_by_text("导入报告", exact=True).first.wait_for(state="attached")
    # the report's caption names its run (its tables draw on a canvas, not as DOM text)
    caption = page.locator("[data-testid='stCaptionContainer']")
    caption.filter(has_text="R2-ingest · 2025-03-01T02:00:40").first.wait_for()
    page.get_by_role("combobox", name="导入批次（最新在前）").click()
    page.get_by_role("option", name="R1-ingest", exact=True).click()
    state.settle()
    caption.filter(has_text="R1-ingest · 2025-02-01T02:00:40").first.wait_for()
    assert caption.filter(has_text="R2-ingest").count() == 0
    assert _page_problems(state, errors) == {"exceptions": [], "script_errors": [],
                                              "dialogs": [], "external": []}
