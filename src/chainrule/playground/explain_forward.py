"""The forward view explained: what a neuron or link does for one example, with today's weights.

The forward view draws each neuron's output over the whole plane and each link by its weight; a
tooltip gives the numbers for the chosen example (``replay.probe``: eval mode, as the heat maps).

    input        its value: the page's formula applied to the example's point (transforms.py)
    neuron       z = Σᵢ wᵢ·aᵢ + b,  [h = γ·(z - μ)/√(σ² + ε) + β  with batch norm's running μ, σ²],
                 a = act(h)  [+ the same neuron of the layer before, with a skip connection]
    output       ŷ = Σᵢ wᵢ·aᵢ + b;  for classification p = σ(ŷ), the probability of class 1
    link         its share w·a of the sum z it feeds, and how the last step set w:
                 SGD   w = w₀ - lr·g
                 +momentum  v = 0.9·v₀ + g,  w = w₀ - lr·v
                 Adam  m, v the running means of g and g²,  w = w₀ - lr·m̂/(√v̂ + ε),
                       m̂ = m/(1 - 0.9ᵗ), v̂ = v/(1 - 0.999ᵗ)
                 (g: the gradient the optimiser stepped with, as the backward view shows it)
"""

from __future__ import annotations

import math

import numpy as np

from ..locale import _
from .explain_parts import Target, example_lines, fmt, term
from .replay import probe, probe_probability
from .settings import is_regression
from .shown import shown_sent


def explain(session, target: Target, example: int | None) -> dict:
    s = session.settings
    example = session.probe_example if example is None else example
    values = probe(session, example)
    lines = example_lines(session, s, example, values.inputs)
    lines.append("")
    if target.layer == 0:
        value, symbol = values.inputs[target.neuron], target.feature()
        lines.append(_("{name} is one of the network's inputs: the line above is all it does.").format(
            name=capital(target.name())))
    elif target.is_link:
        value, symbol = _link(session, target, values, lines)
    else:
        value, symbol = _neuron(session, target, values, lines)
    shown = shown_sent(value)
    lines += ["", _("So {symbol} = {value}   ← the number in the tooltip (forward view)").format(
        symbol=symbol, value=shown)]
    if not target.is_link and target.layer > 0:
        lines.append(_("Switch to the backward view to see how the loss pulls on this neuron."))
    if target.is_link:
        title = _("w of {link}").format(link=target.link_name())
    elif target.layer == 0:
        title = _("{name} for example #{example}").format(name=target.name(), example=example)
    else:
        title = _("{symbol} of {name} for example #{example}").format(symbol=symbol, name=target.name(),
                                                                      example=example)
    return {"title": title, "text": "\n".join(lines), "value": float(value), "shown": shown,
            "symbol": symbol, "example": example, "batch": None,
            "example_note": _("Example #{example} of the {count} training points").format(
                example=example, count=len(session.train_y)),
            "engine": None}


def capital(text: str) -> str:
    """The first letter in capitals, for a name opening a sentence ("the output" → "The output")."""
    return text[:1].upper() + text[1:]


def _sum_line(weights, inputs, bias) -> str:
    terms = " + ".join(f"({fmt(w)})·({fmt(a)})" for w, a in zip(weights, inputs))
    return f"{terms} + {term(bias)}"


def _neuron(session, target: Target, values, lines: list) -> tuple[float, str]:
    s = session.settings
    k, j = target.layer - 1, target.neuron
    linear = session.linears[k]
    weights = [float(w) for w in linear.weight._data[j]]
    bias = float(linear.bias._data[j])
    inputs = values.inputs if k == 0 else values.a[k - 1]
    z = values.z[k][j]
    lines.append(_("{name} adds up its inputs, each times its link's weight, plus its bias:").format(
        name=capital(target.name())))
    lines.append(f"  z = Σᵢ wᵢ·aᵢ + b = {_sum_line(weights, inputs, bias)} = {fmt(z)}")
    if target.is_output:
        if is_regression(s):
            lines.append(_("For regression the output is z itself: ŷ = z, compared with the target y."))
            return z, "ŷ"
        p = probe_probability(z)
        lines.append(_("For classification z is the logit ŷ, and σ turns it into the probability of class 1 "
                       "(blue); the output plot colours every point of the plane by it."))
        lines.append(f"  p = σ(ŷ) = 1 / (1 + e^(-ŷ)) = 1 / (1 + e^({fmt(-z)})) = {fmt(p)}")
        return p, "p"
    block = list(session.model)[k]
    norm = next((m for m in block.modules() if type(m).__name__ == "BatchNorm1d"), None)
    h = z
    if norm is not None:
        mean, var = float(norm.running_mean._data[j]), float(norm.running_var._data[j])
        gamma, beta = float(norm.weight._data[j]), float(norm.bias._data[j])
        h = gamma * (z - mean) / math.sqrt(var + norm.eps) + beta
        lines.append(_("Batch norm, with the running mean and variance it learned in training:"))
        lines.append(f"  h = γ·(z - μ)/√(σ² + ε) + β = {fmt(gamma)}·({fmt(z)} - {fmt(mean)})/√({fmt(var)} + "
                     f"{norm.eps:g}) + {fmt(beta)} = {fmt(h)}")
    f = values.f[k][j]
    name = s["activation"]
    arg = "h" if norm is not None else "z"
    if name == "linear":
        lines.append(_("No activation (linear): a = {formula}").format(formula=f"{arg} = {fmt(f)}"))
    else:
        lines.append(_("The activation: a = {formula}").format(
            formula=f"{name}({arg}) = {name}({fmt(h)}) = {fmt(f)}"))
    a = values.a[k][j]
    residual = type(block).__name__ == "Residual"
    if residual:
        before = inputs[j]
        lines.append(_("The skip connection adds the same neuron of the layer before: a = {formula}").format(
            formula=f"{fmt(before)} + {fmt(f)} = {fmt(a)}"))
    lines.append(_("Its heat map shows this a for every point of the plane; the ring marks this example."))
    return a, "a"


def _link(session, target: Target, values, lines: list) -> tuple[float, str]:
    k, j, i = target.layer - 1, target.neuron, target.source
    weight = session.linears[k].weight
    w = float(weight._data[j, i])
    a_in = (values.inputs if k == 0 else values.a[k - 1])[i]
    z = values.z[k][j]
    source = target.name(target.layer - 1, i)
    lines.append(_("This link multiplies the value of {source} by its weight w = {w} and passes it to "
                   "{target}.").format(source=source, w=fmt(w), target=target.name()))
    lines.append("  " + _("For this example: w·a = {product}, one term of that neuron's sum z = {z}.").format(
        product=f"{fmt(w)} × {term(a_in)} = {fmt(w * a_in)}", z=fmt(z)))
    lines.append("")
    lines += _update_lines(session, weight, k, j, i, w)
    return w, "w"


def _update_lines(session, weight, k: int, j: int, i: int, w: float) -> list[str]:
    """How the last optimiser step set this weight."""
    record = session.last_step
    if record is None:
        return [_("No step yet: w = {w} is its starting value, drawn at random when the network was built "
                  "(seed {seed}). Each training step will move it against its gradient.").format(
                      w=fmt(w), seed=session.settings["seed"])]
    w0 = float(_before(session, weight)[j, i])
    g = float(session.last_grads["weights"][k][j, i])
    settings = record["settings"]
    lr = settings["learning_rate"]
    kind = settings["optimizer"]
    state = session.optimizer.state.get(weight, {}) if kind == session.settings["optimizer"] else {}
    lines = [_("How step {step} set w (g = ∂L/∂w of that step's batch, as the backward view shows it; "
               "learning rate lr = {lr:g}):").format(step=record["step"], lr=lr)]
    if kind == "sgd":
        lines.append(f"  SGD: w = w₀ - lr·g = {fmt(w0)} - {lr:g} × {term(g)} = {fmt(w0 - lr * g)}")
    elif kind == "momentum" and "momentum_buffer" in state:
        v = float(state["momentum_buffer"][j, i])
        v0 = (v - g) / 0.9
        lines.append("  " + _("momentum") + f": v = 0.9·v₀ + g = 0.9 × {term(v0)} + {term(g)} = {fmt(v)}   "
                     + _("(v: the running direction)"))
        lines.append(f"  w = w₀ - lr·v = {fmt(w0)} - {lr:g} × {term(v)} = {fmt(w0 - lr * v)}")
    elif kind == "adam" and "exp_avg" in state:
        t = int(state["step"])
        m, v = float(state["exp_avg"][j, i]), float(state["exp_avg_sq"][j, i])
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        step = lr * m_hat / (math.sqrt(v_hat) + 1e-8)
        lines.append("  " + _("Adam (step t = {t}): m = running mean of g = {m}, v = running mean of g² = "
                              "{v}").format(t=t, m=fmt(m), v=fmt(v)))
        lines.append(f"  m̂ = m/(1 - 0.9ᵗ) = {fmt(m_hat)},  v̂ = v/(1 - 0.999ᵗ) = {fmt(v_hat)}")
        lines.append(f"  w = w₀ - lr·m̂/(√v̂ + ε) = {fmt(w0)} - {lr:g} × {term(m_hat)}/({fmt(math.sqrt(v_hat))}"
                     f" + 1e-8) = {fmt(w0 - step)}")
    else:
        lines.append("  " + _("w moved from w₀ = {w0} by {change}").format(w0=fmt(w0), change=fmt(w - w0)))
    return lines


def _before(session, weight) -> np.ndarray:
    """The weight's values before the last step (the record keeps every parameter by name)."""
    for name, param in session.model.named_parameters():
        if param is weight:
            return session.last_step["params"][name]
    raise KeyError("weight not found in the model")
