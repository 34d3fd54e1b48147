"""Helpers shared by the playground tests: waiting, a real server on 127.0.0.1, and headless
Chromium (Debian's /usr/bin/chromium driven by Playwright, which never downloads a browser)."""

import contextlib
import shutil
import socket
import tempfile
import threading
import time

import pytest

from chainrule.playground.server import create_app


def wait_for(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


class LiveServer:
    """uvicorn serving the playground on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, **options):
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(**options)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        pytest.importorskip("uvicorn")
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=15)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@contextlib.contextmanager
def chromium_context(playwright_api, width=1400, height=900):
    """A persistent headless Chromium context in a fresh profile, removed afterwards."""
    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    try:
        with playwright_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height})
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
