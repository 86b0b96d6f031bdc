"""The county ledger in the real app (Debian's Chromium, real Neo4j, a tiny demo city): a
county user signs in, moves an entry 待核查 → 核查中 with a note, a refresh run loads the next
delivery and rescores, and after reloading (and signing in again) the change is still there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import pytest

from riskgraph.refresh import refresh
from riskgraph.settings import Settings
from security import audit, users
from tests.browser.app_server import Browser, chromium, running_app
from tests.test_refresh_ledger import demo_city, settings_for
from workflow import ledger
from workflow import statuses as sts

pytestmark = [pytest.mark.neo4j, pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "ledger-browser-password-1"
NOTE = "已约谈法定代表人，要求说明资金去向"

if not os.path.exists("/usr/bin/chromium"):
    # a missing browser in CI is a missing install step, never a quiet skip
    if os.environ.get("CI"):
        raise RuntimeError("Debian chromium is not installed (make test installs it)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


@dataclass
class DemoSite:
    settings: Settings
    inbox: Path
    later: Path
    county: str
    entry: dict


@pytest.fixture(scope="module")
def demo_site(driver: neo4j.Driver, neo4j_settings: Settings,
              tmp_path_factory: pytest.TempPathFactory) -> DemoSite:
    """The first delivery of a tiny demo city refreshed (scores live, ledgers synced) and a
    county account for the county with the most ledger entries."""
    with driver.session(database=neo4j_settings.neo4j_database) as session:
        session.run("MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS "
                    "OF 10000 ROWS").consume()
    root = tmp_path_factory.mktemp("ledger_demo")
    dates = demo_city(root / "demo")
    inbox = root / "inbox"
    inbox.mkdir()
    (inbox / dates[0].name).symlink_to(dates[0], target_is_directory=True)
    settings = settings_for(neo4j_settings, root / "home")
    assert refresh(settings, inbox).outcome == "ok"
    rows = driver.execute_query(
        "MATCH (e:LedgerEntry {subject_kind: 'enterprise'}) RETURN e.county AS county, "
        "count(*) AS n ORDER BY n DESC, county LIMIT 1", database_=settings.neo4j_database)
    county = rows.records[0]["county"]
    entry = ledger.list_entries(driver, [county])[0]
    assert entry["status"] == sts.PENDING
    users.add_user(driver, settings, "county-browser", "county", PASSWORD, (county,))
    return DemoSite(settings, inbox, dates[-1], county, entry)


@pytest.fixture(scope="module")
def app_url(demo_site: DemoSite) -> Iterator[str]:
    s = demo_site.settings
    env = {"NEO4J_URI": s.neo4j_uri or "", "NEO4J_USER": s.neo4j_user,
           "NEO4J_PASSWORD": s.neo4j_password or "", "NEO4J_DATABASE": s.neo4j_database,
           "RISKGRAPH_HOME": str(s.home), "RISKGRAPH_CITY": s.city, "RISKGRAPH_AUTH": "local"}
    with running_app(env) as url:
        yield url


@pytest.fixture()
def browser() -> Iterator[Browser]:
    with chromium() as state:
        yield state


def _choose(browser: Browser, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox ``label`` and wait until the app shows it (a rerun
    can redraw the list while it is open: then open it again)."""
    page = browser.page
    box = page.get_by_role("combobox", name=label, exact=True)
    for _ in range(5):
        browser.settle()
        box.click()
        choice = page.get_by_role("option", name=option, exact=False).first
        try:
            choice.click(timeout=5_000)
        except Exception:  # noqa: BLE001 - the list was redrawn; close it and retry
            page.keyboard.press("Escape")
            continue
        page.wait_for_timeout(300)
        browser.settle()
        if option in box.input_value():
            return
    raise AssertionError(f"could not choose {option!r} in {label!r}: {box.input_value()!r}")


def test_ledger_edit_survives_a_refresh(demo_site: DemoSite, app_url: str, browser: Browser,
                                        driver: neo4j.Driver) -> None:
    page = browser.page
    entry = demo_site.entry
    browser.open(f"{app_url}/ledger", "county-browser", PASSWORD)
    assert page.locator("[data-testid='stMain'] h1").first.inner_text().strip() == "风险台账"
    _choose(browser, "选择条目", str(entry["name"]))
    _choose(browser, "状态（仅可选允许的下一状态）", sts.CHECKING)
    page.get_by_label("变更说明").fill(NOTE)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存").first.wait_for()
    browser.settle()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop) "
                  "e.scrollTop = 0; })")
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "ledger.png"), full_page=True)
    saved = ledger.get_entry(driver, entry["entry_id"])
    assert saved["status"] == sts.CHECKING
    assert audit.events(driver, user="county-browser", action="ledger_edit")

    # a refresh run between the page loads: the next delivery, a new live run, ledger sync
    (demo_site.inbox / demo_site.later.name).symlink_to(demo_site.later,
                                                        target_is_directory=True)
    record = refresh(demo_site.settings, demo_site.inbox)
    assert record.outcome == "ok" and record.recomputed["ledger"]["refreshed"] > 0

    browser.open(f"{app_url}/ledger", "county-browser", PASSWORD)  # a new session
    _choose(browser, "选择条目", str(entry["name"]))
    picker = page.get_by_role("combobox", name="选择条目", exact=True)
    assert picker.input_value() == f"{entry['name']}（{sts.CHECKING}）"
    status = page.get_by_role("combobox", name="状态（仅可选允许的下一状态）", exact=True)
    assert status.input_value() == sts.CHECKING  # the form starts from the saved status
    page.get_by_text(NOTE).first.wait_for(state="attached")  # in the history
    after = ledger.get_entry(driver, entry["entry_id"])
    assert after["status"] == sts.CHECKING and after["last_run"] == record.live_run
    assert [h["action"] for h in ledger.history(driver, entry["entry_id"])] == \
        ["create", "status"]
    assert browser.dialogs == [] and browser.external_requests() == []
