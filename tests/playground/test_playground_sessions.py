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


# --- the published state: built once per version, never waiting for a training slice ---------------
def test_the_state_is_built_once_per_version(client, session_id, store, monkeypatch):
    from chainrule.playground import snapshot

    builds = []
    original = snapshot.build_state
    monkeypatch.setattr(snapshot, "build_state", lambda s: builds.append(s.version) or original(s))
    session = store.get(session_id)
    bodies = [client.get(f"/api/sessions/{session_id}/state").content for _ in range(5)]
    assert len(set(bodies)) == 1 and len(builds) <= 1
    client.post(f"/api/sessions/{session_id}/settings", json={"settings": {"noise": 10}})
    for _ in range(5):
        assert client.get(f"/api/sessions/{session_id}/state").json()["version"] == session.version
    assert len(builds) <= 2


def test_a_state_request_does_not_wait_for_a_training_slice(store):
    """While the trainer holds a session's lock (a slice), /state answers from the last published
    state instead of waiting; before the slice ends nothing newer exists anyway."""
    import threading

    from starlette.testclient import TestClient

    from chainrule.playground.server import create_app

    with TestClient(create_app(store, start_trainer=False), base_url="http://127.0.0.1:8000") as client:
        sid = client.post("/api/sessions", json={}).json()["id"]
        client.post(f"/api/sessions/{sid}/play")
        session = store.get(sid)
        answers = []
        with session.lock:                    # a slice in progress...
            session.version += 1              # ...after an earlier slice nobody asked about
            asking = threading.Thread(target=lambda: answers.append(client.get(f"/api/sessions/{sid}/state")))
            asking.start()
            asking.join(timeout=10)
            assert answers, "the state request waited for the training slice"
        assert answers[0].status_code == 200 and answers[0].json()["playing"]
        assert session.state_wanted, "the reader asked the trainer for a fresh state"


def test_the_trainer_publishes_a_state_only_when_someone_asked():
    from chainrule.playground.snapshot import latest_state

    store = SessionStore(max_sessions=2)
    session = store.create({"hidden": [2]})
    session.playing = True
    store.train_round()
    assert session.state_cache is None        # nobody watching: no state built
    assert latest_state(session) is None      # nothing published yet: the reader builds it
    assert session.state_wanted
    store.train_round()
    version, body, _ = session.state_cache
    assert version == session.version and not session.state_wanted
    assert latest_state(session) == (version, body) and session.state_wanted
    store.train_round()                       # asked, but published under PUBLISH_SECONDS ago
    assert session.state_cache[0] == version < session.version and session.state_wanted
    session.state_cache = (version, body, time.monotonic() - 1)
    store.train_round()                       # asked, and the last one is old enough: published
    version, body, _ = session.state_cache
    assert version == session.version and not session.state_wanted
    store.train_round()                       # not asked since: not rebuilt...
    assert session.state_cache[0] < session.version
    assert latest_state(session) == (version, body)      # ...and a reader gets the last one meanwhile
    session.state_cache = (version, body, time.monotonic() - 60)
    assert latest_state(session) is None      # too old to hand out: the reader builds it
    session.playing = False
    session.state_cache = (version, body, time.monotonic())
    assert latest_state(session) is None      # not training: the current state is cheap to build
