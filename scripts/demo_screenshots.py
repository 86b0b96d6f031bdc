"""Screenshots of every page of the app on the demo city, for the README and the user guide.

    RISKGRAPH_HOME=… .venv/bin/python scripts/demo_screenshots.py [--out docs/screenshots]

Needs the demo city loaded (``make demo`` up to the refresh) and the demo accounts of
``python -m security.demo_users`` (passwords read from ``RISKGRAPH_HOME/secrets/demo_users.txt``).
Starts the app on a free port with the current settings, signs in through the real form in
Debian's Chromium and writes ``demo_<page>.png``. Nothing is fetched from outside 127.0.0.1
(checked at the end).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskgraph.settings import load_settings  # noqa: E402
from tests.browser.app_server import Browser, chromium, network_frame, running_app  # noqa: E402


def accounts() -> dict[str, str]:
    """``username → password`` of the demo accounts."""
    path = load_settings().home / "secrets" / "demo_users.txt"
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            found[parts[0]] = parts[3]
    return found


def shot(browser: Browser, out: Path, name: str, wait_ms: int = 600) -> None:
    browser.settle(120_000)
    browser.page.wait_for_timeout(wait_ms)
    browser.page.screenshot(path=str(out / f"demo_{name}.png"), full_page=True)
    print(f"demo_{name}.png", flush=True)


def nav(browser: Browser, text: str) -> None:
    link = browser.page.locator("[data-testid='stSidebarNav'] a").filter(has_text=text)
    link.first.click()
    browser.page.wait_for_timeout(100)
    browser.settle(120_000)


def search(browser: Browser, text: str = "投资") -> None:
    nav(browser, "检索")
    browser.page.get_by_role("textbox").first.fill(text)
    browser.page.keyboard.press("Enter")
    browser.page.wait_for_timeout(200)
    browser.page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
    browser.settle(120_000)


def city_pages(browser: Browser, base: str, password: str, out: Path) -> None:
    page = browser.page
    page.goto(f"{base}/")
    browser.settle(120_000)
    shot(browser, out, "sign_in", 200)
    browser.sign_in("demo-city", password, 120_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shot(browser, out, "city", 1500)
    nav(browser, "县区风险清单")
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
    shot(browser, out, "county", 1000)
    nav(browser, "风险台账")
    shot(browser, out, "ledger", 800)
    nav(browser, "行业视图")
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
    shot(browser, out, "sector", 1000)
    search(browser)
    shot(browser, out, "search", 1000)
    person_open = page.get_by_role("button", name="查看人员画像")
    if person_open.count():
        person_open.first.click()
        page.wait_for_timeout(100)
        shot(browser, out, "person", 1000)
        search(browser)  # the search box is empty again after leaving the page
    page.get_by_role("button", name="查看企业画像").first.click()
    page.wait_for_timeout(100)
    browser.settle(120_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
    shot(browser, out, "profile", 1000)
    page.get_by_text("关联网络", exact=True).click()
    network_frame(page, 120_000)
    shot(browser, out, "network", 2500)
    nav(browser, "跨区域案件")
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shot(browser, out, "cross_region", 1200)
    nav(browser, "数据与运行")
    shot(browser, out, "runs", 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    users = accounts()
    external: list[str] = []
    with running_app({}, timeout=300) as base:
        with chromium(1400, 1000) as browser:
            city_pages(browser, base, users["demo-city"], args.out)
            external += browser.external_requests()
        with chromium(1400, 1000) as browser:
            browser.open(f"{base}/admin", "demo-admin", users["demo-admin"])
            shot(browser, args.out, "admin", 800)
            external += browser.external_requests()
    if external:
        print(f"requests outside 127.0.0.1: {external}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
