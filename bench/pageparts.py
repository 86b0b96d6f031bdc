"""Where the time of a county page and an enterprise profile goes, on the server side.

    python -m bench.pageparts [--county CODE] [--uscc USCC] [--repeat 3]

Against the current graph (settings from the environment: NEO4J_URI …, RISKGRAPH_HOME), for the
city role and the defaults of ``bench.pageload`` (the county with most high-risk enterprises and
its top enterprise). Prints one JSON line:

* ``imports_s``: importing the app's page modules in a fresh interpreter (what the first
  session of a server would pay without the warm-up of ``dashboards.boot``);
* ``queries_s``: each data call of the two pages, uncached (median of ``--repeat``), plus the
  row counts of the big ones;
* ``script_s``: the whole server-side run of each page (Streamlit ``AppTest``, development
  sign-in ``RISKGRAPH_AUTH=none``, city role): ``cold`` with empty caches, ``warm`` the median of
  ``--repeat`` runs after it. The browser's part (``bench.pageload``) comes on top.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
PAGE_MODULES = ("dashboards.ui.county", "dashboards.ui.profile", "dashboards.ui.city",
                "workflow.ui")
logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)


def import_seconds() -> float:
    """Seconds to import the page modules in a fresh interpreter."""
    code = ("import time; t = time.perf_counter(); "
            + "; ".join(f"import {m}" for m in PAGE_MODULES)
            + "; print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return round(float(out.strip().splitlines()[-1]), 3)


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3), result


def query_seconds(county: str, uscc: str, repeat: int) -> dict[str, Any]:
    """Each data call of the county page and the profile, uncached."""
    from dashboards import data
    from dashboards.scope import Scope
    from graph.connection import connect
    from riskgraph.divisions import divisions
    from riskgraph.settings import load_settings
    from workflow import ledger

    settings = load_settings()
    driver = connect(settings)
    scope = Scope("city", None, None, True, True)
    codes = [d.code for d in divisions().counties(settings.city)]
    calls: dict[str, Callable[[], Any]] = {
        "runs": lambda: data.runs(driver, scope),
        "county_overview": lambda: data.county_overview(driver, scope, codes),
        "enterprises(county)": lambda: data.enterprises(driver, scope, county=county),
        "ledger.list_entries": lambda: ledger.list_entries(driver, [county], None),
        "profile": lambda: data.profile(driver, scope, uscc),
        "timeline": lambda: data.timeline(driver, scope, uscc),
        "network(depth 1)": lambda: data.network(driver, scope, uscc),
        "network(depth 2)": lambda: data.network(driver, scope, uscc, 2),
    }
    out: dict[str, Any] = {}
    rows: dict[str, int] = {}
    try:
        for name, fn in calls.items():
            out[name], result = _median(fn, repeat)
            if hasattr(result, "__len__") and not isinstance(result, dict):
                rows[name] = len(result)
    finally:
        driver.close()
    return {"seconds": out, "rows": rows}


def script_seconds(county: str, uscc: str, repeat: int) -> dict[str, Any]:
    """The server-side run of the county page and the profile (AppTest), cold and warm."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["RISKGRAPH_AUTH"] = "none"
    results: dict[str, Any] = {}
    pages = {"county_page": ("views/county.py", {"county": county}),
             "profile_page": ("views/profile.py", {"uscc": uscc})}
    for name, (script, params) in pages.items():
        st.cache_data.clear()
        times = []
        for _ in range(repeat + 1):
            at = AppTest.from_file(str(APP), default_timeout=300)
            at.run()  # the default page (city) of a fresh session
            for key, value in params.items():
                at.query_params[key] = value
            start = time.perf_counter()
            at.switch_page(script).run()
            times.append(time.perf_counter() - start)
            if at.exception:
                raise RuntimeError(f"{name}: {[e.value for e in at.exception]}")
        results[name] = {"cold": round(times[0], 3),
                         "warm": round(statistics.median(times[1:]), 3)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pageparts", description=__doc__)
    parser.add_argument("--county")
    parser.add_argument("--uscc")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from bench.pageload import _defaults

    county, uscc = _defaults(args.county, args.uscc)
    repeat = max(1, args.repeat)
    result = {"county": county, "uscc": uscc, "imports_s": import_seconds(),
              "queries_s": query_seconds(county, uscc, repeat),
              "script_s": script_seconds(county, uscc, repeat),
              "load": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
