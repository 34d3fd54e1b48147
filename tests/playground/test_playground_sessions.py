"""Sessions are isolated from each other, idle ones are dropped, and the trainer shares time fairly."""

import time

import numpy as np
from playground_helpers import wait_for

from chainrule.playground.sessions import SessionStore


def test_sessions_are_isolated(client):
    first = client.post("/api/sessions", json={"settings": {"hidden": [3]}}).json()
    second = client.post("/api/sessions", json={"settings": {"hidden": [3]}}).json()
    a, b = first["id"], second["id"]
    assert a != b
    weights_b = second["state"]["network"]["weights"]
    client.post(f"/api/sessions/{a}/step", json={"epochs": 5})
    client.post(f"/api/sessions/{a}/settings", json={"settings": {"learning_rate": 1}})
    wait_for(lambda: client.get(f"/api/sessions/{a}/state").json()["epoch"] >= 5)
    state_b = client.get(f"/api/sessions/{b}/state").json()
    assert state_b["epoch"] == 0
    assert state_b["settings"]["learning_rate"] == 0.03
    assert state_b["network"]["weights"] == weights_b
    state_a = client.get(f"/api/sessions/{a}/state").json()
    assert state_a["network"]["weights"] != weights_b


def test_same_settings_give_the_same_network_and_data(client):
    one = client.post("/api/sessions", json={"settings": {"seed": 7}}).json()
    two = client.post("/api/sessions", json={"settings": {"seed": 7}}).json()
    assert one["state"]["network"]["weights"] == two["state"]["network"]["weights"]
    data_one = client.get(f"/api/sessions/{one['id']}/data").json()
    data_two = client.get(f"/api/sessions/{two['id']}/data").json()
    assert data_one["train"] == data_two["train"]


def test_idle_sessions_are_dropped(client, store):
    sid = client.post("/api/sessions").json()["id"]
    kept = client.post("/api/sessions").json()["id"]
    store.idle_seconds = 0.3
    time.sleep(0.2)
    client.get(f"/api/sessions/{kept}/state")   # a request keeps a session alive
    time.sleep(0.2)
    store.expire()
    assert client.get(f"/api/sessions/{sid}/state").status_code == 404
    assert client.get(f"/api/sessions/{kept}/state").status_code == 200


def test_the_trainer_thread_expires_sessions_on_its_own():
    store = SessionStore(max_sessions=2, idle_seconds=0.2)
    store.start()
    try:
        store.create()
        wait_for(lambda: len(store) == 0, timeout=5)
    finally:
        store.stop()


def test_a_failing_session_does_not_stop_the_others():
    store = SessionStore(max_sessions=3)
    broken, healthy = store.create(), store.create({"hidden": [2]})
    broken.queue_epochs(3)
    healthy.queue_epochs(3)

    def explode(*args):
        raise RuntimeError("boom")

    broken.advance = explode
    for _ in range(200):
        store.train_round()
        if healthy.epoch >= 3:
            break
    assert healthy.epoch >= 3
    assert "boom" in broken.error and not broken.wants_training


def test_circle_with_relu_learns():
    store = SessionStore()
    session = store.create({"activation": "relu", "hidden": [8, 8], "learning_rate": 0.1})
    session.queue_epochs(100)
    while session.wants_training:
        session.advance(0.5)
    assert session.history[-1][2] < 0.1


def test_deep_sigmoid_is_diagnosed_as_vanishing():
    from chainrule.playground.snapshot import build_state

    store = SessionStore()
    session = store.create({"activation": "sigmoid", "hidden": [8] * 6, "learning_rate": 0.1})
    session.queue_epochs(3)
    while session.wants_training:
        session.advance(0.5)
    state = build_state(session)
    assert state["diagnosis"]["status"] == "vanishing"
    assert "Vanishing gradients" in state["diagnosis"]["message"]
    norms = np.array(state["grad_norms"]["history"][-1][1:])
    assert norms[0] < norms[-1] * 1e-2
