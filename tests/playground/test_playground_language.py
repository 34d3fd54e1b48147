"""The playground in Japanese: a session's language, switched without touching its network, and
every explanation, diagnosis and pipeline line the server writes found in the catalogue."""

import pytest
from playground_helpers import wait_for

import chainrule.locale as locale
from chainrule.locale import language
from chainrule.playground.diagnostics import diagnose
from chainrule.playground.explain import explain_weight
from chainrule.playground.session import Session
from chainrule.playground.settings import DEFAULTS
from chainrule.playground.snapshot import build_state
from chainrule.playground.transforms import pipeline

SETUPS = [
    {"hidden": [4, 3], "noise": 10},
    {"hidden": [4, 3], "regularization": "l2", "reg_rate": 0.03, "clip_norm": 0.05, "learning_rate": 0.3},
    {"hidden": [3, 3], "activation": "relu", "residual": True, "batch_norm": True, "regularization": "l1",
     "reg_rate": 0.01, "dataset": "gauss"},
    {"dataset": "waves", "hidden": [5], "optimizer": "momentum", "features": ["x1", "x2", "x1x2", "sin_x1"],
     "noise": 20},
    {"dataset": "xor", "optimizer": "adam", "batch_size": 1, "hidden": [2], "activation": "sigmoid",
     "clip_norm": 100.0},
    {"dataset": "spiral", "activation": "linear", "hidden": [2], "noise": 5},
]


@pytest.fixture
def untranslated(monkeypatch):
    real = locale.translation
    table = real("ja")
    missing = set()

    class Recorder:
        def gettext(self, message):
            if message not in table._catalog:
                missing.add(message)
            return table.gettext(message)

        def ngettext(self, singular, plural, count):
            if (singular, 0) not in table._catalog:
                missing.add(singular)
            return table.ngettext(singular, plural, count)

    monkeypatch.setattr(locale, "translation", lambda lang: Recorder() if lang == "ja" else real(lang))
    return missing


def trained(settings, epochs=2):
    session = Session("s" * 32, settings, lang="ja")
    before = build_state(session)    # also in Japanese before any step
    session.queue_epochs(epochs)
    while session.wants_training:
        session.advance(1.0)
    return session, before


def every_element(session):
    widths = [len(session.settings["features"]), *session.settings["hidden"], 1]
    for layer, width in enumerate(widths):
        for neuron in range(width):
            yield {"layer": layer, "neuron": neuron}
            if layer > 0:
                yield {"layer": layer, "neuron": neuron, "source": 0}


@pytest.mark.parametrize("settings", SETUPS)
def test_every_explanation_and_state_in_japanese_is_in_the_catalogue(untranslated, settings):
    session, before = trained(settings)
    assert before["lang"] == "ja" and not before["diagnosis"]["message"].isascii()
    state = build_state(session)
    assert state["lang"] == "ja" and all(not line.isascii() for line in state["pipeline"])
    with language("ja"):
        for target in every_element(session):
            for view in ("forward", "backward"):
                answer = explain_weight(session, {key: str(v) for key, v in target.items()} | {"view": view})
                assert "So " not in answer["text"] and "よって" in answer["text"], answer["text"]
        outside = next(i for i in range(len(session.train_y)) if i not in session.last_step["batch"])
        assert "直近のバッチに含まれていなかった" in explain_weight(
            session, {"layer": "1", "neuron": "0", "example": str(outside)})["text"]
    assert not untranslated


def test_every_diagnosis_in_japanese_is_in_the_catalogue(untranslated):
    histories = {"jump": [[0, 0.7, 0.7], [1, 0.3, 0.3], [2, 2.0, 2.0], [3, 2.1, 2.1]],
                 "stuck": [[e, 0.69, 0.69] for e in range(30)], "none": []}
    norms = {"vanishing": [1e-9, 1e-6, 1e-2], "exploding": [1e6, 1.0, 1.0], "healthy": [0.1, 0.2, 0.3],
             "nan": [float("nan"), 1.0, 1.0], "growing": [10.0, 1.0, 1e-3], "idle": []}
    with language("ja"):
        for activation in ("relu", "tanh", "sigmoid", "linear"):
            for history in histories.values():
                for values in norms.values():
                    for dead in ([], [(1, 4, 4)], [(1, 2, 4)]):
                        for extra in ({}, {"learning_rate": 3.0, "optimizer": "adam"},
                                      {"batch_norm": True, "residual": True, "clip_norm": 1.0,
                                       "optimizer": "adam", "learning_rate": 0.00001}):
                            settings = dict(DEFAULTS, activation=activation, **extra)
                            message = diagnose(values, settings, history, dead)["message"]
                            assert not any(word in message for word in ("gradient", "learning rate", "layer"))
        for dataset in ("circle", "xor", "gauss", "spiral", "moons", "plane", "waves"):
            pipeline(dict(DEFAULTS, dataset=dataset, noise=30, features=["x1", "x1^2", "x1x2", "sin_x2"]))
    assert not untranslated


def test_the_language_switches_without_touching_the_network(client):
    created = client.post("/api/sessions", json={"settings": {"hidden": [3, 2]}, "lang": "ja"})
    assert created.status_code == 201, created.text
    sid, state = created.json()["id"], created.json()["state"]
    assert state["lang"] == "ja" and "1 ステップ学習すると" in state["diagnosis"]["message"]
    client.post(f"/api/sessions/{sid}/step", json={"epochs": 2})
    trained = wait_for(lambda: (s := client.get(f"/api/sessions/{sid}/state").json())["epoch"] >= 2 and s)
    assert "勾配" in trained["diagnosis"]["message"]
    switched = client.post(f"/api/sessions/{sid}/language", json={"lang": "en"})
    assert switched.status_code == 200, switched.text
    english = switched.json()
    assert english["lang"] == "en" and english["session"] == sid and english["epoch"] == trained["epoch"]
    assert english["network"]["weights"] == trained["network"]["weights"]
    assert english["diagnosis"]["message"].startswith(("Gradients flow", "Vanishing", "Exploding", "Dead",
                                                       "The learning rate"))
    query = "layer=1&neuron=0&source=0&view=backward"
    in_japanese = client.get(f"/api/sessions/{sid}/explain?{query}&lang=ja").json()
    in_english = client.get(f"/api/sessions/{sid}/explain?{query}").json()    # the session's language
    assert "よって ∂L/∂w = " in in_japanese["text"] and "So ∂L/∂w = " in in_english["text"]
    assert in_japanese["shown"] == in_english["shown"]      # the same number in both languages


@pytest.mark.parametrize("request_", [
    ("POST", "/api/sessions", {"settings": {}, "lang": "fr"}),
    ("POST", "/api/sessions/{sid}/language", {"lang": "klingon"}),
    ("POST", "/api/sessions/{sid}/language", {"lang": ["ja"]}),
    ("GET", "/api/sessions/{sid}/explain?layer=1&neuron=0&lang=xx", None),
])
def test_an_unknown_language_is_refused_by_name(client, session_id, request_):
    method, path, body = request_
    response = client.request(method, path.format(sid=session_id), json=body)
    assert response.status_code == 422 and "lang must be one of en, ja" in response.json()["error"]


def test_a_server_started_in_japanese_greets_new_pages_in_japanese():
    from starlette.testclient import TestClient

    from chainrule.playground.server import create_app

    with TestClient(create_app(lang="ja", start_trainer=False), base_url="http://127.0.0.1:8000") as client:
        state = client.post("/api/sessions", json={"settings": {}}).json()["state"]
        assert state["lang"] == "ja"
        assert client.post("/api/sessions", json={"lang": "en"}).json()["state"]["lang"] == "en"
