"""What is going wrong with the training, said in words, with remedies the learner has not tried.

Findings, most urgent first (the first sets the page's colour, a second is added as "Also"):

    dead_relu         a ReLU layer whose units all output 0 for every training point: its slope is 0
                      everywhere, so no gradient passes it and nothing before it learns again (half
                      a layer dead is reported too while the loss stays above half its start)
    lr_too_high       the training loss jumped (rose to more than 1.5 × its best so far, by more than
                      0.05, and never came back below that best) or became NaN, or it has been stuck
                      (no 1% gain in 20 epochs) above half its start while the learning rate is high
                      for the optimiser
    exploding /       from the per-layer weight-gradient norms, by chainrule's own rules
    vanishing         (``chainrule.insight.flow.diagnose_norms``, what ``GradientFlow`` applies)

A remedy is a change of setting (field, value) the page offers; ``remedies`` drops every one the
session already has, so the advice never names the current setting (asking a ReLU network to
"switch to ReLU", or to turn on clipping that is on). When nothing is left to suggest, it says so.
"""

from __future__ import annotations

import math

from ..insight.flow import diagnose_norms
from ..locale import N_, _
from .settings import DEFAULTS

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)  # the page's menu
HIGH_LEARNING_RATE = {"sgd": 1.0, "momentum": 0.3, "adam": 0.1}
JUMP_RATIO, JUMP_ABSOLUTE = 1.5, 0.05
PLATEAU_EPOCHS, PLATEAU_GAIN, PLATEAU_SHARE = 20, 0.01, 0.5

WHY_VANISHING = {   # translated where shown
    "sigmoid": N_(" Each sigmoid layer multiplies the gradient by its slope, at most 0.25, so it shrinks "
                  "layer by layer."),
    "tanh": N_(" Saturated tanh units have slopes near 0, so the gradient shrinks layer by layer."),
    "relu": N_(" ReLU units that output 0 have slope 0, and each such unit cuts a path the gradient could "
               "take back."),
}


def layer_labels(count: int) -> list[str]:
    """The names the page's gradient-norm chart uses: h1, h2, ..., out."""
    return [f"h{i + 1}" for i in range(count - 1)] + ["out"]


def lower_rates(current: float) -> list[float]:
    """Up to two learning rates from the page's menu, 30 to 100 times lower than ``current``."""
    lower = [r for r in LEARNING_RATES if current / 100 <= r <= current / 30 and r != current]
    if not lower:
        lower = [r for r in LEARNING_RATES if r < current][-1:]
    return sorted(lower, reverse=True)[:2]


def remedies(kind: str, settings: dict) -> list[tuple[str, object, str]]:
    """The page's settings that may help with ``kind``, as (field, value, words), leaving out
    every one the session already has."""
    s = settings
    options = []
    rates = lower_rates(s["learning_rate"])
    if rates and kind in ("exploding", "lr_too_high", "dead_relu"):
        said = _(" or ").join(f"{r:g}" for r in rates)
        options.append(("learning_rate", rates[0], _("lower the learning rate (try {rates})").format(
            rates=said)))
    if kind == "dead_relu":
        options.append(("reset", True, _("press ⟲ to reset the network (dead units do not come back by "
                                         "themselves)")))
        options.append(("activation", "tanh", _("switch the activation to tanh, which never goes flat to 0")))
    if kind == "vanishing":
        options.append(("activation", "relu",
            _("switch the activation to ReLU (slope 1 for positive inputs)")))
        options.append(("residual", True, _("turn on residual connections (they help between hidden layers "
                                            "of the same width)")))
    if kind in ("vanishing", "exploding", "dead_relu"):
        options.append(("batch_norm", True, _("turn on batch norm")))
    if kind == "vanishing":
        options.append(("optimizer", "adam", _("use the Adam optimiser, which rescales small gradients")))
    if kind in ("exploding", "lr_too_high"):
        options.append(("clip_norm", 1.0, _("turn on clipping (‖g‖ ≤ 1)")))
    fresh = []
    for field, value, words in options:
        if field == "clip_norm" and s.get("clip_norm", 0) > 0:
            continue
        if field in s and s[field] == value:
            continue
        fresh.append((field, value, words))
    return fresh


def _advice(kind: str, settings: dict) -> str:
    options = remedies(kind, settings)
    if not options:
        return _(" The page's usual remedies are already on; try fewer hidden layers, or fewer neurons per "
                 "layer.")
    words = [option[2] for option in options]
    said = words[0] if len(words) == 1 else _(", ").join(words[:-1]) + _(", or ") + words[-1]
    return _(" To fix it: {remedies}.").format(remedies=said)


def dead_layers(activation: str, outputs) -> list[tuple[int, int, int]]:
    """(hidden layer number, dead units, units) for every ReLU layer with a unit that outputs 0
    for every training point; ``outputs`` is each hidden layer's activation output (rows: points)."""
    if activation != "relu":
        return []
    found = []
    for index, values in enumerate(outputs):
        dead = int(sum(1 for j in range(values.shape[1]) if not (values[:, j] > 0).any()))
        if dead:
            found.append((index + 1, dead, values.shape[1]))
    return found


def loss_jump(history: list) -> tuple | None:
    """(epoch, best before, loss then) of the largest jump of the training loss that the training
    has not recovered from (the loss never came back below its best before the jump), or None.

    ``history`` rows are [epoch, train loss, test loss]; a NaN or infinite loss counts as a jump."""
    losses = [(row[0], math.inf if row[1] is None or not math.isfinite(row[1]) else row[1])
              for row in history]
    best, found, worst_ratio = math.inf, None, 0.0
    for index, (epoch, train) in enumerate(losses):
        jumped = math.isfinite(best) and train > best * JUMP_RATIO and train - best > JUMP_ABSOLUTE
        recovered = any(later < best for _, later in losses[index + 1:])
        if jumped and not recovered:
            ratio = train / max(best, 1e-12)
            if ratio > worst_ratio:
                found, worst_ratio = (epoch, best, train), ratio
        best = min(best, train)
    return found


def plateau(history: list) -> tuple | None:
    """(epochs stuck, loss) when the training loss has not improved by 1% in the last 20 epochs while
    still above half its starting value; None otherwise."""
    rows = [row for row in history if row[1] is not None and math.isfinite(row[1])]
    if len(rows) <= PLATEAU_EPOCHS or rows[-1][0] - rows[0][0] < PLATEAU_EPOCHS:
        return None
    recent = [row for row in rows if row[0] > rows[-1][0] - PLATEAU_EPOCHS]
    earlier = [row for row in rows if row[0] <= rows[-1][0] - PLATEAU_EPOCHS]
    if not earlier:
        return None
    best_before = min(row[1] for row in earlier)
    best_recent = min(row[1] for row in recent)
    start = rows[0][1]
    if best_recent < best_before * (1 - PLATEAU_GAIN) or rows[-1][1] <= start * PLATEAU_SHARE:
        return None
    return PLATEAU_EPOCHS, rows[-1][1]


def _findings(norms, settings, history, dead) -> list[tuple[str, str]]:
    """(kind, message without remedies) for everything found, most urgent first."""
    s = settings
    found = []
    for layer, count, width in dead:
        if count == width:
            found.append(("dead_relu", _("Dead ReLUs: all {width} units of hidden layer {layer} output 0 for "
                                         "every training point, so their slope is 0 and no gradient passes "
                                         "them: the layers before it cannot learn.").format(width=width,
                                                                                            layer=layer)))
            break
    else:
        partly = [(layer, count, width) for layer, count, width in dead if count * 2 >= width]
        finite = [row[1] for row in history if row[1] is not None and math.isfinite(row[1])]
        learning = len(finite) > 1 and finite[-1] <= finite[0] * PLATEAU_SHARE
        if partly and not learning:  # half a layer dead matters only while the loss stays high
            layer, count, width = partly[0]
            found.append(("dead_relu", _("Dead ReLUs: {count} of the {width} units of hidden layer {layer} "
                                         "output 0 for every training point and no longer learn.").format(
                                             count=count, width=width, layer=layer)))
    high = s["learning_rate"] >= HIGH_LEARNING_RATE[s["optimizer"]]
    jump = loss_jump(history)
    stuck = plateau(history)
    lr = f"{s['learning_rate']:g}"
    if jump is not None:
        epoch, best, after = jump
        rose = _("became NaN or infinite") if not math.isfinite(after) else \
            _("jumped to {loss:.3g}").format(loss=after)
        since = _(" from {loss:.3g}").format(loss=best) if math.isfinite(best) else ""
        found.append(("lr_too_high", _("The learning rate {lr} is too high: the training loss {rose}{since} "
                                       "by epoch {epoch}, so the steps overshoot the minimum instead of "
                                       "settling into "
                                       "it.").format(lr=lr, rose=rose, since=since, epoch=epoch)))
    elif stuck is not None and high:
        epochs, loss = stuck
        found.append(("lr_too_high", _("The learning rate {lr} looks too high: the training loss has stayed "
                                       "near {loss:.3g} for {epochs} epochs; steps this large jump across "
                                       "the valley instead of going down it.").format(lr=lr, loss=loss,
                                                                                  epochs=epochs)))
    if norms:
        for finding in diagnose_norms(layer_labels(len(norms)), list(norms)):
            if finding.kind == "exploding":
                found.append(("exploding", _("Exploding gradients: {message}").format(
                    message=finding.message)))
            else:
                why = WHY_VANISHING.get(s["activation"])
                found.append(("vanishing", _("Vanishing gradients: {message}").format(message=finding.message)
                              + (_(why) if why else "")))
    return found


def diagnose(norms: list[float], settings, history: list = (), dead: list = ()) -> dict:
    """{status, message, findings} for the page. ``norms``: the latest ‖∂L/∂W‖ per layer (first to
    output); ``settings``: the session's settings (or just the activation's name); ``history``:
    rows [epoch, train loss, test loss]; ``dead``: ``dead_layers(...)``."""
    if isinstance(settings, str):
        settings = dict(DEFAULTS, activation=settings)
    found = _findings(norms, settings, list(history), list(dead))
    if not found:
        if not norms:
            return {"status": "idle", "message": _("Train a step to see how gradients flow."), "findings": []}
        return {"status": "healthy", "findings": [], "message": _(
            "Gradients flow: ‖∂L/∂W‖ runs from {first:.2e} at the "
            "first layer to {last:.2e} at the output.").format(first=norms[0], last=norms[-1])}
    kind, message = found[0]
    message += _advice(kind, settings)
    others = [m for k, m in found[1:] if k != kind]
    if others:
        message += _(" Also: {finding}").format(finding=others[0])
    return {"status": kind, "message": message, "findings": [k for k, _ in found]}
