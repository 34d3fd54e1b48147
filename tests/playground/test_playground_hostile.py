"""Hostile request bodies: every one gets a 4xx JSON error (naming the field where there is one),
never a 500, and the session carries on. A hand-picked list first, then a fuzzer (hypothesis)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chainrule.playground.server import create_app
from chainrule.playground.sessions import SessionStore
from chainrule.playground.settings import DEFAULTS, shown, validate_epochs, validate_settings

JSON = {"content-type": "application/json"}
HUGE = int("9" * 400)
NUMBER_FIELDS = ["seed", "learning_rate", "reg_rate", "clip_norm", "noise", "train_ratio", "batch_size"]


@pytest.fixture
def strict_client():
    """A client that turns any exception in the app into a test failure (never a hidden 500)."""
    app = create_app(SessionStore(max_sessions=64), start_trainer=False)
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def expect_error(response, status, *named):
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    for word in named:
        assert word in message, (word, message)
    assert len(message) < 600, "an error message never echoes a huge value back"
    return message


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("value", [HUGE, -HUGE, int("9" * 60), 1e308, -1e308])
def test_huge_numbers_are_422_naming_the_field(strict_client, field, value):
    raw = json.dumps({"settings": {field: value}}).encode()
    message = expect_error(strict_client.post("/api/sessions", content=raw, headers=JSON), 422, field)
    if abs(value) == HUGE:
        assert "400-digit" in message


@pytest.mark.parametrize("epochs", [HUGE, -HUGE, 1e308, float("inf")])
def test_huge_epochs_are_422(strict_client, epochs):
    sid = strict_client.post("/api/sessions", json={}).json()["id"]
    raw = json.dumps({"epochs": epochs}).encode()
    expect_error(strict_client.post(f"/api/sessions/{sid}/step", content=raw, headers=JSON), 422, "epochs")


def test_huge_numbers_from_python_do_not_overflow():
    """The validators compare exactly before converting: no OverflowError for any int."""
    for field in NUMBER_FIELDS:
        for value in (10**400, -(10**400), 10**5000, 2**1024):
            with pytest.raises(ValueError, match=field):
                validate_settings({field: value})
    with pytest.raises(ValueError, match="epochs"):
        validate_epochs(10**400)
    assert validate_settings({"seed": 2**31 - 1})["seed"] == 2**31 - 1
    assert validate_settings({"learning_rate": 10})["learning_rate"] == 10.0


@pytest.mark.parametrize("raw, status, named", [
    (b"[" * 5000 + b"]" * 5000, 400, "nested too deeply"),
    (b'{"settings": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "nested too deeply"),
    (b'{"settings": {"hidden": ' + b"[" * 900 + b"]" * 900 + b"}}", 422, "hidden"),
    (b'{"settings": {"hidden": [' + b"[" * 900 + b"]" * 900 + b"]}}", 422, "hidden"),
    (b'{"settings": {"seed": ' + b"9" * 5000 + b"}}", 422, "seed"),
    (b'{"settings": {"seed": 1e99999}}', 422, "seed"),
    (b'{"settings": {"learning_rate": NaN}}', 422, "learning_rate"),
    (b'{"settings": {"learning_rate": -Infinity}}', 422, "learning_rate"),
    (b'{"settings": {"seed": NaN}}', 422, "seed"),
    (b'{"settings": {"dataset": "' + b"x" * 15_000 + b'"}}', 422, "dataset"),
    (b'{"settings": {"' + b"k" * 15_000 + b'": 1}}', 422, "unknown settings field"),
    (b'{"' + b"k" * 15_000 + b'": 1}', 400, "unknown field"),
    (b'{"settings": {"\\ud800": 1}}', 422, "unknown settings field"),
    (b'{"settings": {"dataset": "\\udfff"}}', 422, "dataset"),
    (b'{"settings": {"features": ["x1", "\\u0000"]}}', 422, "feature"),
    (b'{"settings": 0}', 422, "settings"),
    (b'{"settings": false}', 422, "settings"),
    (b'{"settings": []}', 422, "settings"),
    (b'{"settings": {"hidden": {"a": 1}}}', 422, "hidden"),
    (b'{"settings": {"batch_size": "10"}}', 422, "batch_size"),
    (b'{"settings": {"residual": null}}', 422, "residual"),
    (b"\xff\xfe{\x00}\x00", 400, "UTF-8"),
    (b'{"settings": {"dataset": "\xff"}}', 400, "UTF-8"),
    (b"\x00{}", 400, "not valid JSON"),
    (b'{"settings": {}} trailing', 400, "not valid JSON"),
    (b'{"settings": {}, "settings": 3}', 422, "settings"),
    (b"null", 400, "JSON object"),
    (b"12", 400, "JSON object"),
])
def test_hostile_create_bodies(strict_client, raw, status, named):
    expect_error(strict_client.post("/api/sessions", content=raw, headers=JSON), status, named)


@pytest.mark.parametrize("headers, status, named", [
    ({"content-length": "9" * 5000}, 413, "too large"),
    ({"content-length": "-1"}, 400, "Content-Length"),
    ({"content-length": "1e3"}, 400, "Content-Length"),
    ({"content-length": "20000"}, 413, "too large"),
])
def test_bad_content_length_headers(strict_client, headers, status, named):
    response = strict_client.post("/api/sessions", content=b"{}", headers=dict(JSON, **headers))
    expect_error(response, status, named)


def test_an_empty_body_is_an_empty_object(strict_client):
    assert strict_client.post("/api/sessions", content=b"", headers=JSON).status_code == 201
    assert strict_client.post("/api/sessions", content=b"  \n", headers=JSON).status_code == 201


def test_explain_queries_with_hostile_values(strict_client):
    sid = strict_client.post("/api/sessions", json={}).json()["id"]
    for query in ("layer=" + "9" * 5000 + "&neuron=0", "layer=1&neuron=%ff%fe", "layer=1&neuron=0&"
                  + "k" * 5000 + "=1", "layer=١&neuron=0", "layer=1&neuron=-0&source=" + "1" * 400):
        response = strict_client.get(f"/api/sessions/{sid}/explain?{query}")
        assert response.status_code in (200, 422), (query[:40], response.text[:200])
        if response.status_code == 422:
            assert len(response.json()["error"]) < 600


def test_shown_is_short_and_encodable():
    for value in (10**400, -(10**400), 10**5000, "x" * 10_000, "\ud800", [[[[[1]]]]] * 100,
                  {"k" * 100: [1] * 100}, float("nan"), None, b"\xff"):
        text = shown(value)
        assert len(text) <= 40 and text.encode("utf-8")


# --- a fuzzer: random JSON at every endpoint that takes a body ----------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**80), max_value=10**80)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25)
setting_values = st.fixed_dictionaries({}, optional={name: json_values | st.just(default)
                                                     for name, default in DEFAULTS.items()})
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"settings": setting_values | json_values}),
    st.fixed_dictionaries({"epochs": json_values}),
    st.dictionaries(st.text(max_size=12), json_values, max_size=3),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(body=bodies, action=st.sampled_from(["create", "settings", "step", "play", "reset"]))
def test_fuzzed_json_bodies_never_give_a_500(strict_client, body, action):
    raw = json.dumps(body, allow_nan=True).encode()
    if action == "create":
        response = strict_client.post("/api/sessions", content=raw, headers=JSON)
        if response.status_code == 201:
            strict_client.delete(f"/api/sessions/{response.json()['id']}")
    else:
        sid = strict_client.post("/api/sessions", json={}).json()["id"]
        response = strict_client.post(f"/api/sessions/{sid}/{action}", content=raw, headers=JSON)
        strict_client.delete(f"/api/sessions/{sid}")
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert isinstance(response.json()["error"], str)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_fuzzed_raw_bytes_never_give_a_500(strict_client, raw):
    response = strict_client.post("/api/sessions", content=raw, headers=JSON)
    assert response.status_code < 500, response.text[:300]
    if response.status_code == 201:
        strict_client.delete(f"/api/sessions/{response.json()['id']}")
    else:
        assert isinstance(response.json()["error"], str)
