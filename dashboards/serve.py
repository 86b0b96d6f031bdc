"""``riskgraph serve``: run the Streamlit app on 127.0.0.1, headless, without telemetry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from riskgraph.errors import UsageError
from riskgraph.settings import Settings

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(port: int) -> list[str]:
    """The ``streamlit run`` command line for ``port`` (through :mod:`dashboards.boot`, which
    warms the app up while the server starts)."""
    return [
        sys.executable, "-m", "dashboards.boot", "run", str(APP),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
    ]


def run_serve_command(settings: Settings, port: int) -> int:
    """Run the app until interrupted; returns streamlit's exit code."""
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} is not a TCP port", "use a number from 1 to 65535")
    from security.auth import load_auth_settings

    load_auth_settings()  # a bad sign-in setting (e.g. oidc without Authlib) stops here
    env = dict(os.environ)
    env.setdefault("RISKGRAPH_CITY", settings.city)
    env.setdefault("RISKGRAPH_HOME", str(settings.home))
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    print(f"riskgraph app on http://127.0.0.1:{port}", flush=True)
    try:
        return subprocess.call(streamlit_command(port), env=env)
    except KeyboardInterrupt:
        return 0
