"""Start the real app (``dashboards.serve``) on a free port and drive it with Debian's Chromium.

Used by the browser tests and by ``bench/pageload.py``. Chromium runs headless with background
networking off; :class:`Browser` records every request so a test can assert that nothing left
127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "data:", "blob:",
                  "about:", "chrome-extension:")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(env: dict[str, str], port: int | None = None,
                timeout: float = 90) -> Iterator[str]:
    """Run ``dashboards.serve.run_serve_command`` in a subprocess; yields the base URL."""
    port = port or free_port()
    code = ("from dashboards.serve import run_serve_command;"
            "from riskgraph.settings import load_settings;"
            f"raise SystemExit(run_serve_command(load_settings(), {port}))")
    log = open(os.devnull, "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("the app exited during start-up") from None
                time.sleep(0.3)
        else:
            raise RuntimeError("the app did not start")
        yield base
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


@dataclass
class Browser:
    """A Chromium page plus the requests it made and the dialogs that fired."""

    page: Any
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_PREFIXES)]

    def sign_in(self, username: str, password: str, timeout: float = 30_000) -> None:
        """Fill in the app's sign-in form (``security.auth``) and wait for the first page.
        Every new browser page load is a new Streamlit session, so it asks again."""
        page = self.page
        page.get_by_label("用户名 / Username").fill(username)
        page.get_by_label("密码 / Password").fill(password)
        page.get_by_role("button", name="登录 / Sign in").click()
        page.wait_for_function(
            "() => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
            " return h && h.innerText.trim() !== 'riskgraph'; }", timeout=timeout)
        self.settle(timeout)

    def open(self, url: str, username: str, password: str) -> None:
        """Load ``url`` in a new session and sign in; the app then shows ``url``'s page."""
        self.page.goto(url)
        self.settle()
        self.sign_in(username, password)

    def settle(self, timeout: float = 30_000) -> None:
        """Wait until Streamlit has finished running the script."""
        self.page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
        self.page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stApp\"]')"
            "?.getAttribute('data-test-script-state') !== 'running'", timeout=timeout)
        self.page.wait_for_selector("[data-testid='stMain'] h1", timeout=timeout)


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[Browser]:
    """A headless Debian Chromium page that records requests and dialogs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN")
        page = context.new_page()
        state = Browser(page)
        context.on("request", lambda request: state.requests.append(request.url))

        def on_dialog(dialog: Any) -> None:
            state.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        context.on("page", lambda p: p.on("dialog", on_dialog))
        try:
            yield state
        finally:
            context.close()
            browser.close()


def network_frame(page: Any, timeout: float = 30_000) -> Any:
    """The frame of the network component, once vis-network has drawn it."""
    deadline = time.time() + timeout / 1000
    while time.time() < deadline:
        for frame in page.frames:
            try:
                if frame.evaluate("() => document.body && "
                                  "document.body.getAttribute('data-nodes')"):
                    return frame
            except Exception:  # noqa: BLE001 - frames come and go while Streamlit renders
                continue
        time.sleep(0.2)
    raise TimeoutError("network component did not render")
