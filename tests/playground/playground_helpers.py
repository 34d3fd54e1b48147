"""Helpers shared by the playground tests: waiting, and a real server on 127.0.0.1."""

import threading
import time

import pytest

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
