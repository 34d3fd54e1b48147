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
        name = target.name().split(" ", 1)[1]
        value, symbol = values.inputs[target.neuron], name
        lines.append(f"{target.name()} is one of the network's inputs: the line above is all it does.")
    elif target.is_link:
        value, symbol = _link(session, target, values, lines)
    else:
        value, symbol = _neuron(session, target, values, lines)
    shown = shown_sent(value)
    lines += ["", f"So {symbol} = {shown}   ← the number in the tooltip (forward view)"]
    if not target.is_link and target.layer > 0:
        lines.append("Switch to the backward view to see how the loss pulls on this neuron.")
    if target.is_link:
        title = f"w of {target.link_name()}"
    elif target.layer == 0:
        title = f"{target.name()} for example #{example}"
    else:
        title = f"{symbol} of {target.name()} for example #{example}"
    return {"title": title, "text": "\n".join(lines), "value": float(value), "shown": shown,
            "symbol": symbol, "example": example, "batch": None,
            "example_note": f"Example #{example} of the {len(session.train_y)} training points",
            "engine": None}


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
    name = target.name()
    lines.append(f"{name[0].upper()}{name[1:]} adds up its inputs, each times its link's weight, "
                 "plus its bias:")
    lines.append(f"  z = Σᵢ wᵢ·aᵢ + b = {_sum_line(weights, inputs, bias)} = {fmt(z)}")
    if target.is_output:
        if is_regression(s):
            lines.append("For regression the output is z itself: ŷ = z, compared with the target y.")
            return z, "ŷ"
        p = probe_probability(z)
        lines.append("For classification z is the logit ŷ, and σ turns it into the probability of class 1 "
                     "(blue); the output plot colours every point of the plane by it.")
        lines.append(f"  p = σ(ŷ) = 1 / (1 + e^(-ŷ)) = 1 / (1 + e^({fmt(-z)})) = {fmt(p)}")
        return p, "p"
    block = list(session.model)[k]
    norm = next((m for m in block.modules() if type(m).__name__ == "BatchNorm1d"), None)
    h = z
    if norm is not None:
        mean, var = float(norm.running_mean._data[j]), float(norm.running_var._data[j])
        gamma, beta = float(norm.weight._data[j]), float(norm.bias._data[j])
        h = gamma * (z - mean) / math.sqrt(var + norm.eps) + beta
        lines.append("Batch norm, with the running mean and variance it learned in training:")
        lines.append(f"  h = γ·(z - μ)/√(σ² + ε) + β = {fmt(gamma)}·({fmt(z)} - {fmt(mean)})/√({fmt(var)} + "
                     f"{norm.eps:g}) + {fmt(beta)} = {fmt(h)}")
    f = values.f[k][j]
    name = s["activation"]
    arg = "h" if norm is not None else "z"
    if name == "linear":
        lines.append(f"No activation (linear): a = {arg} = {fmt(f)}")
    else:
        lines.append(f"The activation: a = {name}({arg}) = {name}({fmt(h)}) = {fmt(f)}")
    a = values.a[k][j]
    residual = type(block).__name__ == "Residual"
    if residual:
        before = inputs[j]
        lines.append(f"The skip connection adds the same neuron of the layer before: a = {fmt(before)} + "
                     f"{fmt(f)} = {fmt(a)}")
    lines.append("Its heat map shows this a for every point of the plane; the ring marks this example.")
    return a, "a"


def _link(session, target: Target, values, lines: list) -> tuple[float, str]:
    k, j, i = target.layer - 1, target.neuron, target.source
    weight = session.linears[k].weight
    w = float(weight._data[j, i])
    a_in = (values.inputs if k == 0 else values.a[k - 1])[i]
    z = values.z[k][j]
    source = target.name(target.layer - 1, i)
    lines.append(f"This link multiplies the value of {source} by its weight w = {fmt(w)} and passes it to "
                 f"{target.name()}.")
    lines.append(f"  For this example: w·a = {fmt(w)} × {term(a_in)} = {fmt(w * a_in)}, one term of that "
                 f"neuron's sum z = {fmt(z)}.")
    lines.append("")
    lines += _update_lines(session, weight, k, j, i, w)
    return w, "w"


def _update_lines(session, weight, k: int, j: int, i: int, w: float) -> list[str]:
    """How the last optimiser step set this weight."""
    record = session.last_step
    if record is None:
        return [f"No step yet: w = {fmt(w)} is its starting value, drawn at random when the network "
                f"was built (seed {session.settings['seed']}). Each training step will move it against "
                "its gradient."]
    w0 = float(_before(session, weight)[j, i])
    g = float(session.last_grads["weights"][k][j, i])
    settings = record["settings"]
    lr = settings["learning_rate"]
    kind = settings["optimizer"]
    state = session.optimizer.state.get(weight, {}) if kind == session.settings["optimizer"] else {}
    lines = [f"How step {record['step']} set w (g = ∂L/∂w of that step's batch, as the backward view "
             f"shows it; learning rate lr = {lr:g}):"]
    if kind == "sgd":
        lines.append(f"  SGD: w = w₀ - lr·g = {fmt(w0)} - {lr:g} × {term(g)} = {fmt(w0 - lr * g)}")
    elif kind == "momentum" and "momentum_buffer" in state:
        v = float(state["momentum_buffer"][j, i])
        v0 = (v - g) / 0.9
        lines.append(f"  momentum: v = 0.9·v₀ + g = 0.9 × {term(v0)} + {term(g)} = {fmt(v)}   "
                     "(v: the running direction)")
        lines.append(f"  w = w₀ - lr·v = {fmt(w0)} - {lr:g} × {term(v)} = {fmt(w0 - lr * v)}")
    elif kind == "adam" and "exp_avg" in state:
        t = int(state["step"])
        m, v = float(state["exp_avg"][j, i]), float(state["exp_avg_sq"][j, i])
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        step = lr * m_hat / (math.sqrt(v_hat) + 1e-8)
        lines.append(f"  Adam (step t = {t}): m = running mean of g = {fmt(m)}, "
                     f"v = running mean of g² = {fmt(v)}")
        lines.append(f"  m̂ = m/(1 - 0.9ᵗ) = {fmt(m_hat)},  v̂ = v/(1 - 0.999ᵗ) = {fmt(v_hat)}")
        lines.append(f"  w = w₀ - lr·m̂/(√v̂ + ε) = {fmt(w0)} - {lr:g} × {term(m_hat)}/({fmt(math.sqrt(v_hat))}"
                     f" + 1e-8) = {fmt(w0 - step)}")
    else:
        lines.append(f"  w moved from w₀ = {fmt(w0)} by {fmt(w - w0)}")
    return lines


def _before(session, weight) -> np.ndarray:
    """The weight's values before the last step (the record keeps every parameter by name)."""
    for name, param in session.model.named_parameters():
        if param is weight:
            return session.last_step["params"][name]
    raise KeyError("weight not found in the model")
