"""Start Streamlit with the app warmed up: ``python -m dashboards.boot run dashboards/app.py …``.

``riskgraph serve`` runs this instead of ``python -m streamlit``. It starts Streamlit's own
command line unchanged, and meanwhile, in a background thread, does what the first visitor
would otherwise wait for: import the page modules and the libraries they load lazily (pandas'
Styler, pyarrow, plotly, pyvis, python-docx), connect the Neo4j driver (the app's
``st.cache_resource``), read the county boundaries and the live run. The server answers at
once; a visitor who comes before the warm-up has finished just shares its imports.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time

LOG = logging.getLogger("riskgraph.boot")
LIBRARIES = (
    "pandas", "pyarrow", "pandas.io.formats.style", "plotly.graph_objects", "plotly.express",
    "streamlit.elements.plotly_chart", "streamlit.components.v1", "pyvis.network", "docx",
    "neo4j",
)
APP_MODULES = (
    "dashboards.state", "dashboards.ui.common", "dashboards.ui.city",
    "dashboards.ui.county", "dashboards.ui.profile", "dashboards.ui.search",
    "dashboards.ui.sector", "dashboards.ui.person", "dashboards.ui.cross_region",
    "dashboards.ui.runs", "dashboards.ui.ledger", "dashboards.ui.admin", "workflow.ui",
    "analytics.explain", "analytics.indicators",
)


def _imports(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - best effort; the page reports real errors
            LOG.warning("warm-up: import %s failed: %s", name, exc)


def _wait_for_runtime(timeout: float = 60) -> None:
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def warm() -> float:
    """Import the app and open its resources; returns the seconds it took. Never raises: a
    failure here (e.g. the database still starting) only means the first visitor waits."""
    start = time.perf_counter()
    _imports(LIBRARIES)
    _wait_for_runtime()  # the app's caches belong to the server's runtime
    _imports(APP_MODULES)
    try:
        from dashboards import geo, state

        settings = state.settings()
        geo.city_boundaries(settings.city)
        geo.county_centroids(settings.city)
        state.driver().verify_connectivity()
        state.live_run_id()
    except Exception as exc:  # noqa: BLE001
        LOG.warning("warm-up: %s", exc)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Warm up in the background and run Streamlit's command line with ``argv``."""
    from streamlit.web.cli import main as streamlit_main

    threading.Thread(target=warm, name="riskgraph-warm-up", daemon=True).start()
    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
