"""Who may talk to the playground, over HTTP: loopback Host names only, no cross-site requests,
JSON bodies only, and the security headers on every response (see server.py's security model)."""

import pytest
from starlette.testclient import TestClient

from chainrule.playground import server as server_module
from chainrule.playground.guard import CONTENT_SECURITY_POLICY, allowed_hosts, is_own_origin
from chainrule.playground.server import create_app
from chainrule.playground.sessions import SessionStore

JSON = {"content-type": "application/json"}
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def assert_secured(response):
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code, response.url)


# --- Host: DNS rebinding ---------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "localhost.evil.example:8000", "192.168.1.10:8000", "[::2]:8000",
                                  "", "127.0.0.1:8000:9", "[::1"])
def test_foreign_host_headers_are_refused(client, session_id, host):
    for method, path, body in [("POST", "/api/sessions", b"{}"),
                               ("GET", f"/api/sessions/{session_id}/state", None),
                               ("POST", f"/api/sessions/{session_id}/play", b""),
                               ("GET", "/", None), ("GET", "/static/main.js", None)]:
        response = client.request(method, path, content=body, headers=dict(JSON, host=host))
        assert response.status_code == 400, (host, path, response.status_code)
        assert_secured(response)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:65535",
                                  "[::1]", "[::1]:8000"])
def test_loopback_host_headers_are_served(client, session_id, host):
    response = client.get(f"/api/sessions/{session_id}/state", headers={"host": host})
    assert response.status_code == 200, response.text
    assert client.post("/api/sessions", json={}, headers={"host": host}).status_code == 201


def test_the_bound_host_is_added_to_the_allowed_hosts():
    assert allowed_hosts() == ["127.0.0.1", "localhost", "[::1]"]
    assert allowed_hosts("192.168.1.10")[-1] == "192.168.1.10"
    assert allowed_hosts("fe80::1")[-1] == "[fe80::1]"
    assert allowed_hosts("Lab-PC")[-1] == "lab-pc"
    assert allowed_hosts("0.0.0.0") == allowed_hosts("::") == allowed_hosts()
    app = create_app(SessionStore(max_sessions=2), start_trainer=False, hosts=allowed_hosts("lab-pc"))
    with TestClient(app, base_url="http://lab-pc:8000") as lan:
        assert lan.post("/api/sessions", json={}).status_code == 201
        assert lan.get("/", headers={"host": "evil.example"}).status_code == 400


# --- Origin and Sec-Fetch-Site: cross-site requests --------------------------------------------
FOREIGN_ORIGINS = ["http://evil.example", "null", "http://127.0.0.1:9999", "http://localhost:8000",
                   "https://127.0.0.1:8000", "file://", "http://127.0.0.1:8000.evil.example", "garbage"]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_state_changing_requests_from_a_foreign_origin_are_403(client, session_id, origin):
    """A page elsewhere (or a sandboxed one, Origin: null) cannot create, play or close sessions,
    even with a 'simple' text/plain request that needs no CORS preflight."""
    plain = {"content-type": "text/plain", "origin": origin}
    for method, path, body in [("POST", "/api/sessions", b'{"settings": {}}'),
                               ("POST", f"/api/sessions/{session_id}/play", b""),
                               ("POST", f"/api/sessions/{session_id}/step", b'{"epochs": 5}'),
                               ("POST", f"/api/sessions/{session_id}/close", b""),
                               ("DELETE", f"/api/sessions/{session_id}", None),
                               ("GET", f"/api/sessions/{session_id}/state", None)]:
        response = client.request(method, path, content=body, headers=plain)
        assert response.status_code == 403, (origin, path, response.text)
        assert "refused" in response.json()["error"]
        assert_secured(response)
    state = client.get(f"/api/sessions/{session_id}/state").json()
    assert not state["playing"] and state["pending_epochs"] == 0   # nothing happened


@pytest.mark.parametrize("site", ["cross-site", "same-site", "CROSS-SITE"])
def test_cross_site_fetch_metadata_is_403(client, session_id, site):
    response = client.post(f"/api/sessions/{session_id}/play", headers={"sec-fetch-site": site})
    assert response.status_code == 403 and "cross-site" in response.json()["error"]
    response = client.get(f"/api/sessions/{session_id}/export/code", headers={"sec-fetch-site": site})
    assert response.status_code == 403


def test_the_page_may_be_linked_from_anywhere(client):
    """A lesson on another site may link to a set-up (GET /?dataset=xor...): the page is not an
    action; only what the page then sends (same-origin) reaches the API."""
    response = client.get("/?dataset=xor", headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 200 and "chainrule" in response.text
    assert client.get("/static/api.js", headers={"sec-fetch-site": "cross-site"}).status_code == 200


@pytest.mark.parametrize("headers", [
    {},                                                            # curl, a script
    {"origin": "http://127.0.0.1:8000"},                          # the page itself
    {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-origin"},
    {"sec-fetch-site": "none"},                                   # typed into the address bar
])
def test_same_origin_and_non_browser_requests_pass(client, session_id, headers):
    response = client.post(f"/api/sessions/{session_id}/play", headers=headers)
    assert response.status_code == 200 and response.json()["playing"]


def test_origin_matching():
    assert is_own_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert is_own_origin("http://localhost", "localhost:80")
    assert is_own_origin("http://[::1]:8000", "[::1]:8000")
    assert is_own_origin("HTTP://LocalHost:8000", "localhost:8000")
    for origin, host in [("http://localhost:8000", "127.0.0.1:8000"), ("null", "127.0.0.1:8000"),
                         ("http://127.0.0.1:8001", "127.0.0.1:8000"), ("https://127.0.0.1", "127.0.0.1"),
                         ("http://127.0.0.1:x", "127.0.0.1:8000"), ("http://[::1", "[::1]:8000"),
                         ("ftp://127.0.0.1:8000", "127.0.0.1:8000"), ("http://127.0.0.1:8000", "")]:
        assert not is_own_origin(origin, host), (origin, host)
    assert is_own_origin("https://127.0.0.1", "127.0.0.1", "https")


# --- JSON bodies only ---------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8",
                                          "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/jsonx", None])
def test_bodies_that_are_not_declared_json_are_415(client, session_id, content_type):
    headers = {} if content_type is None else {"content-type": content_type}
    for path, body in [("/api/sessions", b'{"settings": {}}'),
                       (f"/api/sessions/{session_id}/settings", b'{"settings": {"noise": 10}}'),
                       (f"/api/sessions/{session_id}/step", b'{"epochs": 3}')]:
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == 415, (content_type, path, response.text)
        assert "application/json" in response.json()["error"]
    assert client.get(f"/api/sessions/{session_id}/state").json()["settings"]["noise"] == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON"])
def test_declared_json_is_accepted(client, session_id, content_type):
    response = client.post(f"/api/sessions/{session_id}/step", content=b'{"epochs": 2}',
                           headers={"content-type": content_type})
    assert response.status_code == 200


def test_the_unload_beacon_still_closes_the_session(client, session_id):
    """api.js closes with navigator.sendBeacon(url, ""): an empty text/plain body, same origin."""
    beacon = {"content-type": "text/plain;charset=UTF-8", "origin": "http://127.0.0.1:8000",
              "sec-fetch-site": "same-origin"}
    response = client.post(f"/api/sessions/{session_id}/close", content=b"", headers=beacon)
    assert response.status_code == 200 and response.json() == {"closed": session_id}
    assert client.get(f"/api/sessions/{session_id}/state").status_code == 404


# --- security headers everywhere ----------------------------------------------------------------
def test_security_headers_on_every_kind_of_response(client, session_id):
    responses = [
        client.get("/"), client.get("/static/main.js"), client.get("/static/style.css"),
        client.get("/static/nope.js"), client.get("/no/such/page"),
        client.get(f"/api/sessions/{session_id}/state"), client.get(f"/api/sessions/{session_id}/data"),
        client.get(f"/api/sessions/{session_id}/export/code"),
        client.get(f"/api/sessions/{session_id}/explain?layer=1&neuron=0"),
        client.post(f"/api/sessions/{session_id}/step", json={"epochs": 0}),        # 422
        client.post("/api/sessions", content=b"{", headers=JSON),                   # 400
        client.post("/api/sessions", content=b"x" * 20_000, headers=JSON),          # 413
        client.post("/api/sessions", content=b"{}", headers={"content-type": "text/plain"}),  # 415
        client.put(f"/api/sessions/{session_id}/play"),                             # 405
        client.get("/api/sessions/" + "0" * 32 + "/state"),                         # 404
        client.get("/", headers={"host": "evil.example"}),                          # 400 (host)
        client.post("/api/sessions", headers={"origin": "null"}),                   # 403
    ]
    assert {r.status_code for r in responses} >= {200, 400, 403, 404, 405, 413, 415, 422}
    for response in responses:
        assert_secured(response)
        assert response.status_code < 500


def test_a_server_error_is_json_and_carries_the_headers(store, monkeypatch):
    def broken(session):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(server_module, "build_data", broken)
    app = create_app(store, start_trainer=False)
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        sid = client.post("/api/sessions", json={}).json()["id"]
        response = client.get(f"/api/sessions/{sid}/data")
    assert response.status_code == 500
    assert "RuntimeError" in response.json()["error"] and "disk on fire" not in response.text
    assert_secured(response)


def test_the_policy_allows_only_this_origin_and_no_inline_code():
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src"):
        assert policy[directive] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
