"""Page-load benchmark of the app in Debian's Chromium: a county page and an enterprise profile.

    python -m bench.pageload [--url http://127.0.0.1:8501] [--county CODE] [--uscc USCC]
                             [--repeat 5]

Without ``--url`` the app is started on a free port with the current settings (NEO4J_URI …,
RISKGRAPH_HOME) and ``RISKGRAPH_AUTH=none`` (no sign-in, the city role: the development
switch, so each fresh load measures the page rather than a sign-in); ``--url`` needs an app
started the same way. Each page is loaded once to warm the server process (imports, driver, caches
of other sessions are not shared: every load is a fresh browser navigation and a fresh
Streamlit session), then ``--repeat`` times; a load ends when the script has finished and the
page's content is drawn (county: the table; profile: the explanation table and the network).
Measured twice: as a fresh page load (new Streamlit session) and as in-app navigation from the
sidebar (how users move). Prints one JSON line: seconds per page (cold, median, max), whether
the target (< 2 s median) held for each way (``ok_navigate``, ``ok_reload``; ``ok``: both) and
the load average at the end.
Defaults: the county with most high-risk enterprises and that county's top enterprise.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from contextlib import ExitStack
from typing import Any

TARGET_SECONDS = 2.0
logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
_DONE = ("() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
         " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
         " && document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0"
         " && !!document.querySelector('[data-testid=\"stMain\"] h1'); }")


def _defaults(county: str | None, uscc: str | None) -> tuple[str, str]:
    from dashboards import data
    from dashboards.scope import Scope
    from graph.connection import connect
    from riskgraph.divisions import divisions
    from riskgraph.settings import load_settings

    settings = load_settings()
    driver = connect(settings)
    try:
        scope = Scope("city", None, None, True, True)
        if county is None:
            codes = [d.code for d in divisions().counties(settings.city)]
            overview = data.county_overview(driver, scope, codes)
            county = str(overview.sort_values("high_risk", ascending=False)["county"].iloc[0])
        if uscc is None:
            top = data.enterprises(driver, scope, county=county, limit=1)
            uscc = str(top["uscc"].iloc[0])
    finally:
        driver.close()
    return county, uscc


def _load(page: Any, url: str, ready: str | None) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(_DONE, timeout=120_000)
    if ready:
        page.wait_for_selector(ready, state="attached", timeout=120_000)
    return time.perf_counter() - start


def _timed(page: Any, action: Any, ready: str) -> float:
    start = time.perf_counter()
    action()
    page.wait_for_timeout(50)  # let Streamlit flip the script state to running
    page.wait_for_function(_DONE, timeout=120_000)
    page.wait_for_selector(ready, state="attached", timeout=120_000)
    return time.perf_counter() - start


def _network(page: Any) -> float:
    """Open the profile's network section; seconds until vis-network has drawn it. Then go
    back to the explanation (the section choice is kept by the session)."""
    from tests.browser.app_server import network_frame

    start = time.perf_counter()
    page.get_by_text("关联网络", exact=True).click()
    network_frame(page, timeout=120_000)
    seconds = time.perf_counter() - start
    page.get_by_text("评分解释", exact=True).click()
    page.wait_for_timeout(50)
    page.wait_for_function(_DONE, timeout=120_000)
    return seconds


def _summary(times: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def measure(base: str, county: str, uscc: str, repeat: int) -> dict[str, Any]:
    """Load the county page and the profile ``repeat`` times each (after one warm-up), as a
    fresh page load (new Streamlit session, browser cache warm) and as in-app navigation
    (sidebar link, the way users move between pages); and open the profile's network."""
    from tests.browser.app_server import chromium

    table = "[data-testid='stDataFrame']"
    results: dict[str, Any] = {"county": county, "uscc": uscc}
    with chromium() as browser:
        page = browser.page
        reload: dict[str, list[float]] = {"county_page": [], "profile_page": [], "network": []}
        for _ in range(repeat + 1):
            reload["county_page"].append(
                _timed(page, lambda: page.goto(f"{base}/county?county={county}"), table))
            reload["profile_page"].append(
                _timed(page, lambda: page.goto(f"{base}/profile?uscc={uscc}"), table))
            reload["network"].append(_network(page))
        nav: dict[str, list[float]] = {"county_page": [], "profile_page": [], "network": []}
        links = {"county_page": "县区风险清单", "profile_page": "企业画像"}
        for _ in range(repeat):
            for name, text in links.items():
                link = page.locator("[data-testid='stSidebarNav'] a").filter(has_text=text)
                nav[name].append(_timed(page, link.first.click, table))
            nav["network"].append(_network(page))
        for name in reload:
            results[name] = {"reload": {"cold_s": round(reload[name][0], 3),
                                        **_summary(reload[name][1:])},
                             "navigate": _summary(nav[name])}
        results["external_requests"] = browser.external_requests()
    results["target_s"] = TARGET_SECONDS
    for how in ("navigate", "reload"):
        results[f"ok_{how}"] = all(results[n][how]["median_s"] < TARGET_SECONDS
                                   for n in ("county_page", "profile_page"))
    results["ok"] = results["ok_navigate"] and results["ok_reload"]
    results["load"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pageload", description=__doc__)
    parser.add_argument("--url", help="a running app; default: start one")
    parser.add_argument("--county")
    parser.add_argument("--uscc")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    county, uscc = _defaults(args.county, args.uscc)
    with ExitStack() as stack:
        base = args.url
        if base is None:
            from tests.browser.app_server import running_app

            # development sign-in switch (dashboards.state): the bench measures page loads,
            # and every fresh page load would otherwise be a new sign-in
            base = stack.enter_context(running_app({"RISKGRAPH_AUTH": "none"}))
        result = measure(base.rstrip("/"), county, uscc, max(1, args.repeat))
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
