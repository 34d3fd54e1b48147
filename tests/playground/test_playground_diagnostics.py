"""The diagnosis: dead ReLUs, a learning rate too high (from the loss history), vanishing and
exploding gradients, and advice that never names the setting already chosen."""

import itertools
import math
import re

import numpy as np
import pytest

from chainrule.playground.diagnostics import (
    dead_layers,
    diagnose,
    loss_jump,
    lower_rates,
    plateau,
    remedies,
)
from chainrule.playground.session import Session
from chainrule.playground.settings import DEFAULTS
from chainrule.playground.snapshot import build_state

VANISHING_NORMS = [5e-7, 3e-6, 2e-5, 1e-4, 1e-3, 2e-2, 0.2]
EXPLODING_NORMS = [3e5, 1e3, 1.0]
HEALTHY_NORMS = [0.5, 0.3, 0.2]
DEAD_LAYER = [(2, 4, 4)]
JUMPING = [[0, 0.69, 0.69], [1, 0.4, 0.4], [2, 0.3, 0.3], [3, 2.5, 2.6], [4, 1.9, 2.0]]
STUCK = [[epoch, 0.6931 - 1e-5 * (epoch % 3), 0.6932] for epoch in range(40)]
LEARNING = [[epoch, 0.69 * 0.9 ** epoch, 0.7 * 0.9 ** epoch] for epoch in range(40)]

# what each remedy's words would say, to find a remedy that names the current setting
NAMES = {
    ("activation", "relu"): "to ReLU", ("activation", "tanh"): "to tanh",
    ("optimizer", "adam"): "Adam", ("residual", True): "residual", ("batch_norm", True): "batch norm",
    ("clip_norm", True): "clipping",
}


def settings(**changes):
    return dict(DEFAULTS, **changes)


ALL_SETTINGS = [
    settings(activation=act, optimizer=opt, residual=res, batch_norm=bn, clip_norm=clip, learning_rate=lr)
    for act, opt, res, bn, clip, lr in itertools.product(
        ("relu", "tanh", "sigmoid", "linear"), ("sgd", "momentum", "adam"), (False, True), (False, True),
        (0.0, 1.0), (0.03, 3.0, 10.0))
]


def advice(message):
    """The remedies part of a message ("To fix it: ..." up to any "Also: ...")."""
    found = re.search(r"To fix it[:,] (.*?)(?: Also: |$)", message)
    return found.group(1) if found else ""


@pytest.mark.parametrize("case", ["vanishing", "exploding", "dead", "jump", "stuck"])
def test_advice_never_names_the_current_setting(case):
    for s in ALL_SETTINGS:
        norms, history, dead = {
            "vanishing": (VANISHING_NORMS, LEARNING[:3], []),
            "exploding": (EXPLODING_NORMS, LEARNING[:3], []),
            "dead": (HEALTHY_NORMS, STUCK, DEAD_LAYER if s["activation"] == "relu" else []),
            "jump": (HEALTHY_NORMS, JUMPING, []),
            "stuck": (HEALTHY_NORMS, STUCK, []),
        }[case]
        result = diagnose(norms, s, history, dead)
        fix = advice(result["message"])
        for kind in result["findings"]:
            for field, value, words in remedies(kind, s):
                if field == "clip_norm":
                    assert s["clip_norm"] == 0, words
                elif field != "reset":  # reset is an action, not a setting
                    assert s[field] != value, (s, words)
        for (field, value), words in NAMES.items():
            current = s[field] if field != "clip_norm" else s["clip_norm"] > 0
            if current == value:
                assert words not in fix, (case, s, result["message"])
        assert f"try {s['learning_rate']:g}" not in fix and f"or {s['learning_rate']:g})" not in fix


def test_relu_xor_at_learning_rate_10_is_not_told_to_switch_to_relu():
    """The case from the issue: the advice named the setting already chosen."""
    session = Session("s" * 32, {"dataset": "xor", "activation": "relu", "learning_rate": 10.0})
    session.queue_epochs(15)
    while session.wants_training:
        session.advance(1.0)
    state = build_state(session)
    message = state["diagnosis"]["message"]
    assert state["diagnosis"]["status"] in ("dead_relu", "lr_too_high"), message
    assert "ReLU (" not in message and "to ReLU" not in message
    assert "learning rate" in message and "try 0.3 or 0.1" in message


def test_dead_relu_layers_are_found_from_the_activations():
    alive = np.array([[0.0, 1.0], [2.0, 0.0]])
    dead = np.zeros((5, 3))
    half = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    assert dead_layers("relu", [alive, dead, half]) == [(2, 3, 3), (3, 2, 3)]
    assert dead_layers("tanh", [dead]) == []
    result = diagnose(HEALTHY_NORMS, settings(activation="relu"), LEARNING[:3], [(2, 3, 3)])
    assert result["status"] == "dead_relu" and "all 3 units of hidden layer 2 output 0" in result["message"]
    assert "reset" in result["message"] and "switch the activation to tanh" in result["message"]
    # half a layer dead is worth saying while the loss stays high, not once the network learned
    assert diagnose(HEALTHY_NORMS, settings(activation="relu"), STUCK, [(1, 2, 4)])["status"] == "dead_relu"
    assert diagnose(HEALTHY_NORMS, settings(activation="relu"), LEARNING, [(1, 2, 4)])["status"] == "healthy"


def test_a_learning_rate_too_high_is_read_from_the_loss_history():
    assert loss_jump(JUMPING) == (3, 0.3, 2.5)
    assert loss_jump(LEARNING) is None
    recovered = JUMPING + [[5, 0.2, 0.2]]
    assert loss_jump(recovered) is None, "a jump the training came back from is history"
    assert loss_jump([[0, 0.69, 0.7], [1, math.nan, math.nan]])[2] == math.inf
    assert plateau(STUCK) is not None and plateau(LEARNING) is None and plateau(STUCK[:10]) is None
    jumped = diagnose(HEALTHY_NORMS, settings(learning_rate=3.0), JUMPING, [])
    assert jumped["status"] == "lr_too_high" and "jumped to 2.5 from 0.3 by epoch 3" in jumped["message"]
    stuck = diagnose(HEALTHY_NORMS, settings(learning_rate=10.0), STUCK, [])
    assert stuck["status"] == "lr_too_high" and "stayed near 0.693 for 20 epochs" in stuck["message"]
    assert "try 0.3 or 0.1" in stuck["message"]
    # stuck with a small learning rate is not blamed on the learning rate
    assert diagnose(HEALTHY_NORMS, settings(learning_rate=0.03), STUCK, [])["status"] == "healthy"
    assert diagnose(HEALTHY_NORMS, settings(learning_rate=0.3, optimizer="adam"), STUCK, [])["status"] \
        == "lr_too_high"


def test_lower_rates_come_from_the_menu_and_are_lower():
    for rate in (10, 3, 1, 0.3, 0.1, 0.03, 0.01, 0.001):
        suggested = lower_rates(rate)
        assert suggested and all(r < rate for r in suggested)
    assert lower_rates(0.00001) == []


def test_when_every_remedy_is_on_it_says_so():
    everything = settings(activation="relu", residual=True, batch_norm=True, optimizer="adam")
    result = diagnose(VANISHING_NORMS, everything)
    assert result["status"] == "vanishing" and "already on" in result["message"]


def test_vanishing_and_exploding_still_come_from_the_norms():
    vanishing = diagnose(VANISHING_NORMS, "sigmoid")
    assert vanishing["status"] == "vanishing" and "sigmoid" in vanishing["message"]
    assert "switch the activation to ReLU" in vanishing["message"]
    assert diagnose(EXPLODING_NORMS, settings())["status"] == "exploding"
    assert diagnose([], "relu")["status"] == "idle"
    assert diagnose(HEALTHY_NORMS, "relu")["status"] == "healthy"
