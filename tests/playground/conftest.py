"""Fixtures for the playground tests: an in-process client, and a real server on 127.0.0.1."""

import pytest

pytest.importorskip("starlette", reason="the playground extra (starlette) is not installed")
pytest.importorskip("httpx", reason="httpx (for Starlette's TestClient) is not installed")

from starlette.testclient import TestClient  # noqa: E402

from chainrule.playground.server import create_app  # noqa: E402
from chainrule.playground.sessions import SessionStore  # noqa: E402


@pytest.fixture
def store():
    return SessionStore(max_sessions=4, idle_seconds=60)


@pytest.fixture
def client(store):
    with TestClient(create_app(store), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def session_id(client):
    response = client.post("/api/sessions", json={"settings": {"hidden": [3, 2]}})
    assert response.status_code == 201, response.text
    return response.json()["id"]
