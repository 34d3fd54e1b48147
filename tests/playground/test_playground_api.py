"""Every validation path of the playground's HTTP API: 4xx with a clear JSON message, never a crash."""

import pytest
from playground_helpers import wait_for

BAD_SETTINGS = [
    ({"dataset": "galaxy"}, "dataset"),
    ({"noise": -1}, "noise"),
    ({"noise": 51}, "noise"),
    ({"train_ratio": 5}, "train_ratio"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 101}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": True}, "batch_size"),
    ({"seed": -3}, "seed"),
    ({"features": []}, "features"),
    ({"features": ["x3"]}, "feature"),
    ({"features": ["x1", "x1"]}, "features"),
    ({"features": "x1"}, "features"),
    ({"hidden": [4] * 7}, "hidden"),
    ({"hidden": [9]}, "hidden layer"),
    ({"hidden": [0]}, "hidden layer"),
    ({"hidden": "4,2"}, "hidden"),
    ({"activation": "swish"}, "activation"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": 11}, "learning_rate"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"regularization": "l3"}, "regularization"),
    ({"reg_rate": -0.1}, "reg_rate"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"residual": "yes"}, "residual"),
    ({"batch_norm": 1}, "batch_norm"),
    ({"clip_norm": 1000}, "clip_norm"),
    ({"colour": "red"}, "unknown settings field"),
]


def error_of(response, status):
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


@pytest.mark.parametrize("settings, named", BAD_SETTINGS)
def test_bad_settings_on_create_are_422(client, settings, named):
    response = client.post("/api/sessions", json={"settings": settings})
    assert named in error_of(response, 422)


@pytest.mark.parametrize("raw", [b'{"settings": {"learning_rate": NaN}}',
                                 b'{"settings": {"reg_rate": Infinity}}'])
def test_non_finite_numbers_are_422(client, raw):
    response = client.post("/api/sessions", content=raw, headers={"content-type": "application/json"})
    assert "finite" in error_of(response, 422)


@pytest.mark.parametrize("settings, named", BAD_SETTINGS)
def test_bad_settings_on_update_are_422_and_the_session_carries_on(client, session_id, settings, named):
    before = client.get(f"/api/sessions/{session_id}/state").json()["settings"]
    response = client.post(f"/api/sessions/{session_id}/settings", json={"settings": settings})
    assert named in error_of(response, 422)
    after = client.get(f"/api/sessions/{session_id}/state")
    assert after.status_code == 200 and after.json()["settings"] == before
    assert client.post(f"/api/sessions/{session_id}/step", json={"epochs": 1}).status_code == 200


def test_create_with_defaults(client):
    response = client.post("/api/sessions")
    assert response.status_code == 201
    state = response.json()["state"]
    assert state["epoch"] == 0 and state["settings"]["dataset"] == "circle"
    assert state["network"]["widths"] == [2, 4, 2, 1]


@pytest.mark.parametrize("body, content_type, status, words", [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"[1, 2]", "application/json", 400, "JSON object"),
    (b'"text"', "application/json", 400, "JSON object"),
    (b"\xff\xfe", "application/json", 400, "not valid JSON"),
    (b'{"settings": {}}', "application/x-www-form-urlencoded", 415, "JSON"),
    (b'{"settings": {}, "extra": 1}', "application/json", 400, "unknown field"),
    (b'{"settings": "circle"}', "application/json", 422, "JSON object"),
])
def test_malformed_create_bodies(client, body, content_type, status, words):
    response = client.post("/api/sessions", content=body, headers={"content-type": content_type})
    assert words in error_of(response, status)


def test_oversized_body_is_413(client, session_id):
    huge = b'{"settings": {"dataset": "' + b"x" * 40_000 + b'"}}'
    response = client.post("/api/sessions", content=huge, headers={"content-type": "application/json"})
    assert "too large" in error_of(response, 413)
    response = client.post(f"/api/sessions/{session_id}/settings", content=huge,
                           headers={"content-type": "application/json"})
    assert "too large" in error_of(response, 413)


@pytest.mark.parametrize("path", ["state", "data", "events", "explain?layer=1&neuron=0", "export/code",
                                  "export/model"])
def test_unknown_session_is_404(client, path):
    for sid in ("0" * 32, "nope", "x" * 100):
        response = client.get(f"/api/sessions/{sid}/{path}")
        assert "no session" in error_of(response, 404)


@pytest.mark.parametrize("action", ["play", "pause", "reset", "regenerate", "step", "settings", "close"])
def test_commands_on_unknown_session_are_404(client, action):
    assert "no session" in error_of(client.post(f"/api/sessions/{'a' * 32}/{action}"), 404)
    assert "no session" in error_of(client.delete(f"/api/sessions/{'a' * 32}"), 404)


def test_unknown_command_export_and_method(client, session_id):
    assert "unknown command" in error_of(client.post(f"/api/sessions/{session_id}/fly"), 404)
    assert "unknown export" in error_of(client.get(f"/api/sessions/{session_id}/export/pdf"), 404)
    assert error_of(client.put(f"/api/sessions/{session_id}/play"), 405)
    assert error_of(client.get("/api/sessions"), 405)
    assert error_of(client.get("/no/such/page"), 404)
    assert "unknown field" in error_of(client.post(f"/api/sessions/{session_id}/play", json={"x": 1}), 400)


@pytest.mark.parametrize("epochs", [0, 101, -1, 1.5, "3", True, None, [1]])
def test_bad_step_sizes_are_422(client, session_id, epochs):
    response = client.post(f"/api/sessions/{session_id}/step", json={"epochs": epochs})
    assert "epochs" in error_of(response, 422)
    assert "unknown field" in error_of(
        client.post(f"/api/sessions/{session_id}/step", json={"steps": 1}), 400)


@pytest.mark.parametrize("query, words", [
    ("", "needs layer"),
    ("layer=1", "needs neuron"),
    ("layer=x&neuron=0", "layer must be"),
    ("layer=4&neuron=0", "layer must be"),
    ("layer=-1&neuron=0", "layer must be"),
    ("layer=1&neuron=3", "neuron must be"),
    ("layer=2&neuron=0&source=3", "source must be"),
    ("layer=0&neuron=0&source=0", "no incoming links"),
    ("layer=1&neuron=0&example=100000", "example must be"),
    ("layer=1&neuron=0&colour=red", "unknown parameter"),
    ("layer=1&neuron=0&view=sideways", "view must be one of"),
])
def test_bad_explain_queries_are_422(client, session_id, query, words):
    response = client.get(f"/api/sessions/{session_id}/explain?{query}")
    assert words in error_of(response, 422)


def test_too_many_sessions_is_429(client, store):
    for _ in range(store.max_sessions - len(store)):
        assert client.post("/api/sessions").status_code == 201
    response = client.post("/api/sessions")
    assert "full" in error_of(response, 429)
    assert response.headers["retry-after"]


def test_commands_train_and_answer_state(client, session_id):
    state = client.post(f"/api/sessions/{session_id}/step", json={"epochs": 3}).json()
    assert state["pending_epochs"] + state["epoch"] >= 3
    url = f"/api/sessions/{session_id}/state"
    state = wait_for(lambda: (s := client.get(url).json())["epoch"] >= 3 and s)
    assert state["network"]["weight_grads"] is not None
    assert len(state["grad_norms"]["history"][-1]) == 1 + 3  # epoch, then one norm per layer
    assert state["diagnosis"]["status"] in ("healthy", "vanishing", "exploding")
    assert client.post(f"/api/sessions/{session_id}/play").json()["playing"] is True
    assert client.post(f"/api/sessions/{session_id}/pause").json()["playing"] is False
    seed = state["settings"]["seed"]
    regenerated = client.post(f"/api/sessions/{session_id}/regenerate").json()
    assert regenerated["settings"]["seed"] != seed and regenerated["epoch"] == 0
    assert client.post(f"/api/sessions/{session_id}/reset").json()["epoch"] == 0
    data = client.get(f"/api/sessions/{session_id}/data").json()
    assert len(data["train"]) + len(data["test"]) == 500


def test_live_settings_keep_the_weights_and_structural_ones_rebuild(client, session_id):
    client.post(f"/api/sessions/{session_id}/step", json={"epochs": 2})
    wait_for(lambda: client.get(f"/api/sessions/{session_id}/state").json()["epoch"] >= 2)
    state = client.post(f"/api/sessions/{session_id}/settings",
                        json={"settings": {"learning_rate": 0.3, "optimizer": "adam"}}).json()
    assert state["epoch"] >= 2 and state["settings"]["optimizer"] == "adam"
    state = client.post(f"/api/sessions/{session_id}/settings", json={"settings": {"hidden": [5]}}).json()
    assert state["epoch"] == 0 and state["network"]["widths"] == [2, 5, 1]


def test_explain_matches_autograd(client, session_id):
    client.post(f"/api/sessions/{session_id}/step", json={"epochs": 2})
    for query in ("layer=2&neuron=1&source=2", "layer=1&neuron=0", "layer=3&neuron=0&source=1",
                  "layer=0&neuron=1", "layer=1&neuron=2&source=0&example=7"):
        answer = client.get(f"/api/sessions/{session_id}/explain?{query}").json()
        assert answer["by_hand"] == pytest.approx(answer["autograd"], rel=1e-3, abs=1e-6)
        assert "∂L/∂" in answer["text"]


def test_delete_and_close_drop_the_session(client, store):
    first = client.post("/api/sessions").json()["id"]
    second = client.post("/api/sessions").json()["id"]
    assert client.delete(f"/api/sessions/{first}").status_code == 200
    assert client.post(f"/api/sessions/{second}/close", content=b"",
                       headers={"content-type": "text/plain"}).status_code == 200
    assert client.get(f"/api/sessions/{first}/state").status_code == 404
    assert client.get(f"/api/sessions/{second}/state").status_code == 404


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "chainrule" in page.text
    for name in ("main.js", "api.js", "controls.js", "network-view.js", "charts.js", "colors.js",
                 "style.css"):
        assert client.get(f"/static/{name}").status_code == 200, name
