"""Helpers shared by the playground tests: waiting, a real server on 127.0.0.1, and headless
Chromium (Debian's /usr/bin/chromium driven by Playwright, which never downloads a browser)."""

import contextlib
import shutil
import tempfile
import threading
import time

import pytest
from tests.conftest import CHROMIUM

from chainrule.playground.launch import bind
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
    """uvicorn serving the playground on 127.0.0.1 and a free port, in a background thread, under
    the same configuration as ``chainrule playground`` (http_limits.server_config). ``limits``
    (head_seconds, max_connections) go to that configuration, the other options to create_app."""

    def __init__(self, limits=None, **options):
        uvicorn = pytest.importorskip("uvicorn")
        from chainrule.playground.http_limits import server_config

        self.socket = bind("127.0.0.1", 0)
        self.port = self.socket.getsockname()[1]
        self.app = create_app(**options)
        self.server = uvicorn.Server(server_config(self.app, "127.0.0.1", self.port, **(limits or {})))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=15)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => window.cspViolations.push(
  `${event.violatedDirective} blocked ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`));
"""


@contextlib.contextmanager
def chromium_context(playwright_api, width=1400, height=900):
    """A persistent headless Chromium context in a fresh profile, removed afterwards; every page
    records the Content-Security-Policy violations it meets (see ``checked_page``)."""
    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    try:
        with playwright_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height})
            context.add_init_script(RECORD_CSP_VIOLATIONS)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_js(page, expression, arg=None, timeout=20):
    """Wait until ``expression`` (or the function ``expression`` applied to ``arg``) is true in the
    page, polled from Python: Playwright's wait_for_function compiles its predicate inside the page,
    which the playground's Content-Security-Policy (no eval) blocks."""
    if arg is None:
        wait_for(lambda: page.evaluate(expression), timeout=timeout, interval=0.1)
    else:
        wait_for(lambda: page.evaluate(expression, arg), timeout=timeout, interval=0.1)


@contextlib.contextmanager
def checked_page(context):
    """A new page that must end with no script error and no CSP violation."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    violations = [] if page.is_closed() else page.evaluate("window.cspViolations || []")
    page.close()
    assert not errors, errors
    assert not violations, violations
