"""Click a link or a neuron: the chain rule for that weight, written out for one example.

The numbers come from one forward pass on one training example, and every backward factor is
read from chainrule's autograd (``cr.grad``), so the page shows the engine's own values; the
product of the factors written out is checked against the gradient autograd gives for the weight.

Layers are numbered as on the page: 0 is the input features, 1..H the hidden layers, H+1 the
output. ``layer=L, neuron=j, source=i`` is the link w[j, i] into layer L; without ``source`` it
is neuron j of layer L (its bias, or for layer 0 the input feature itself).
"""

from __future__ import annotations

import chainrule as cr
from chainrule import nn

from . import network as N
from .datasets import FEATURE_LABELS
from .settings import is_regression
from .settings import shown as shown_value

ACTIVATION_SLOPES = {
    "relu": ("relu'(z) = 1 if z > 0 else 0", lambda z, a: float(z > 0)),
    "tanh": ("tanh'(z) = 1 - tanh²(z)", lambda z, a: 1 - a * a),
    "sigmoid": ("σ'(z) = σ(z)(1 - σ(z))", lambda z, a: a * (1 - a)),
    "linear": ("(linear) ∂a/∂z = 1", lambda z, a: 1.0),
}


class ExplainError(ValueError):
    """A bad layer / neuron / source / example index (answered with 422)."""


def _index(params: dict, name: str, low: int, high: int, default=None) -> int | None:
    raw = params.get(name)
    if raw is None:
        if default is None and name != "source":
            raise ExplainError(f"explain needs {name} (a whole number from {low} to {high})")
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ExplainError(f"{name} must be a whole number from {low} to {high}; got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise ExplainError(f"{name} must be a whole number from {low} to {high}; got {value}")
    return value


def _parts(block):
    """(linear, batch norm or None, residual?) of one layer block."""
    linear = next(m for m in block.modules() if isinstance(m, nn.Linear))
    norm = next((m for m in block.modules() if isinstance(m, nn.BatchNorm1d)), None)
    return linear, norm, isinstance(block, nn.Residual)


def _trace(session, example: int, inputs_need_grad: bool = False):
    """One example through the network, keeping z (pre-activation) and a (output) of each layer."""
    s = session.settings
    act = {"relu": cr.relu, "tanh": cr.tanh, "sigmoid": cr.sigmoid, "linear": lambda v: v}[s["activation"]]
    x = cr.tensor(session.train_x.data[example:example + 1], requires_grad=inputs_need_grad)
    y = cr.from_numpy(session.train_y.data[example:example + 1])
    session.model.eval()
    try:
        a_values, z_values, a = [x], [None], x
        blocks = list(session.model)
        for index, block in enumerate(blocks):
            linear, norm, residual = _parts(block)
            z = linear(a)
            if index == len(blocks) - 1:
                a_new = z
            else:
                h = norm(z) if norm is not None else z
                a_new = act(h) + a if residual else act(h)
            z_values.append(z)
            a_values.append(a_new)
            a = a_new
        loss = N.data_loss(a, y, is_regression(s))
    finally:
        session.model.train()
    return x, y, z_values, a_values, loss


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _neuron_name(layer: int, neuron: int, n_layers: int, features: list) -> str:
    if layer == 0:
        return f"input {FEATURE_LABELS[features[neuron]]}"
    if layer == n_layers:
        return "the output"
    return f"neuron {neuron + 1} of hidden layer {layer}"


def explain_weight(session, params: dict) -> dict:
    s = session.settings
    n_layers = len(session.linears)  # the output is layer n_layers
    widths = N.layer_widths(s)
    unknown = sorted(set(params) - {"layer", "neuron", "source", "example"})
    if unknown:
        raise ExplainError(f"unknown parameter(s) {', '.join(shown_value(name) for name in unknown[:5])}; "
                           "use layer, neuron, source, example")
    layer = _index(params, "layer", 0, n_layers)
    neuron = _index(params, "neuron", 0, widths[layer] - 1)
    source = _index(params, "source", 0, widths[layer - 1] - 1) if layer > 0 else None
    if layer == 0 and params.get("source") is not None:
        raise ExplainError("the inputs (layer 0) have no incoming links; leave out source")
    example = _index(params, "example", 0, len(session.train_y) - 1, default=0)

    x, y, zs, acts, loss = _trace(session, example, inputs_need_grad=(layer == 0))
    linear = session.linears[layer - 1] if layer > 0 else None
    targets = [zs[k] for k in range(1, n_layers + 1)] + [acts[k] for k in range(0, n_layers)]
    targets.append(linear.weight if linear is not None else x)
    grads = cr.grad(loss, [t if t.requires_grad else x for t in targets] if layer == 0 else
                    [t for t in targets if t.requires_grad], allow_unused=True)
    if layer > 0:  # acts[0] (the inputs) has no gradient here: put a placeholder back in its slot
        grads = grads[:n_layers] + (None,) + grads[n_layers:]
    dz = [None] + [g.data[0] if g is not None else None for g in grads[:n_layers]]
    da = [g.data[0] if g is not None else None for g in grads[n_layers:2 * n_layers]]
    features = s["features"]
    point = session.dataset.train_points[example]
    label = float(y.data[0])
    lines = [f"Example #{example} of the training set: x₁ = {_fmt(point[0])}, x₂ = {_fmt(point[1])}, "
             f"{'target' if is_regression(s) else 'label'} y = {_fmt(label)}", ""]
    out_z = float(zs[n_layers].data[0, 0])
    lines.append("Forward")
    if is_regression(s):
        lines.append(f"  output ŷ = {_fmt(out_z)};  L = (ŷ - y)² = {_fmt(loss.item())}")
    else:
        p = 1 / (1 + pow(2.718281828459045, -out_z))
        lines.append(f"  output logit ŷ = {_fmt(out_z)};  p = σ(ŷ) = {_fmt(p)};  "
                     f"L = softplus(ŷ) - y·ŷ = {_fmt(loss.item())}")
    lines += ["", "Backward: the chain rule, one local derivative at a time"]
    out_grad = float(dz[n_layers][0])
    rule = "2(ŷ - y)" if is_regression(s) else "σ(ŷ) - y"
    lines.append(f"  ∂L/∂ŷ = {rule} = {_fmt(out_grad)}")

    # Walk back from the output to the chosen layer, one hidden layer at a time.
    # the neuron we explain: its ∂L/∂a (sum over what it feeds) then ∂a/∂z, then ∂z/∂w
    target_layer = layer
    j = neuron
    if target_layer < n_layers:
        # ∂L/∂a_j = Σ_k ∂L/∂z_k(next) · w_kj  (+ ∂L/∂a_j(next) through a skip connection)
        w_next = session.linears[target_layer].weight.data
        next_dz = dz[target_layer + 1]
        terms = [(float(next_dz[k]), float(w_next[k, j])) for k in range(w_next.shape[0])]
        total = sum(g * w for g, w in terms)
        shown = " + ".join(f"({_fmt(g)})·({_fmt(w)})" for g, w in terms)
        me = _neuron_name(target_layer, j, n_layers, features)
        lines.append(f"  ∂L/∂a for {me}: it feeds {len(terms)} neuron(s) of the next layer, "
                     "so add their paths")
        lines.append(f"     Σₖ ∂L/∂zₖ · wₖ = {shown} = {_fmt(total)}")
        if target_layer < n_layers - 1:
            lines.append("     (each ∂L/∂zₖ of the next layer was found the same way, "
                         "one layer nearer the loss)")
        next_block = list(session.model)[target_layer] if target_layer < n_layers else None
        if next_block is not None and target_layer < n_layers - 1 and _parts(next_block)[2]:
            skip = float(da[target_layer + 1][j])
            total += skip
            lines.append(f"     + {_fmt(skip)} straight through the skip connection (residual) "
                         f"= {_fmt(total)}")
        autograd_da = float(da[target_layer][j])
        lines.append(f"     (autograd: ∂L/∂a = {_fmt(autograd_da)})")
    if target_layer == 0:
        value = float(da[0][j])
        lines += ["", f"So ∂L/∂{FEATURE_LABELS[features[j]]} = {_fmt(value)} for this example: how the loss "
                  "would change if this input moved."]
        return {"title": f"∂L/∂{FEATURE_LABELS[features[j]]}", "text": "\n".join(lines),
                "autograd": value, "by_hand": value}
    z_j = float(zs[target_layer].data[0, j])
    dz_j = float(dz[target_layer][j])
    if target_layer < n_layers:
        _, norm, residual = _parts(list(session.model)[target_layer - 1])
        skip_in = float(acts[target_layer - 1].data[0, j]) if residual else 0.0
        a_j = float(acts[target_layer].data[0, j]) - skip_in
        name, slope_of = ACTIVATION_SLOPES[s["activation"]]
        if norm is None:
            slope = float(slope_of(z_j, a_j))
            dz_j = float(da[target_layer][j]) * slope  # by hand; autograd's value is checked below
            lines.append(f"  ∂a/∂z = {name} = {_fmt(slope)}   (z = {_fmt(z_j)}, a = {_fmt(a_j)})")
            lines.append(f"  ∂L/∂z = ∂L/∂a · ∂a/∂z = {_fmt(float(da[target_layer][j]))} × {_fmt(slope)} "
                         f"= {_fmt(dz_j)}")
        else:
            lines.append(f"  ∂a/∂z = {name} × γ/√(running var + ε) (batch norm, in eval mode)   "
                         f"(z = {_fmt(z_j)})")
            lines.append(f"  ∂L/∂z = ∂L/∂a · ∂a/∂z = {_fmt(dz_j)}")
    if source is None:
        lines += ["", f"  ∂L/∂b = ∂L/∂z · ∂z/∂b = {_fmt(dz_j)} × 1 = {_fmt(dz_j)}"]
        value = float(dz_j)
        title = f"∂L/∂b for {_neuron_name(target_layer, j, n_layers, features)}"
        return {"title": title, "text": "\n".join(lines), "autograd": value, "by_hand": value}
    a_in = float(acts[target_layer - 1].data[0, source])
    by_hand = dz_j * a_in
    autograd_w = float(grads[-1].data[j, source])
    src = _neuron_name(target_layer - 1, source, n_layers, features)
    lines.append(f"  ∂z/∂w = the input this weight multiplies, a of {src} = {_fmt(a_in)}")
    lines += ["", f"  ∂L/∂w = ∂L/∂z · ∂z/∂w = {_fmt(dz_j)} × {_fmt(a_in)} = {_fmt(by_hand)}",
              f"  chainrule's autograd: ∂L/∂w = {_fmt(autograd_w)}"
              + ("  ✓ the same" if abs(by_hand - autograd_w) <= 1e-4 * max(1.0, abs(autograd_w)) else "")]
    lines += _engine_account(session, target_layer, j, source, a_in, z_j, da, n_layers)
    title = f"∂L/∂w for the link {src} → {_neuron_name(target_layer, j, n_layers, features)}"
    return {"title": title, "text": "\n".join(lines), "autograd": autograd_w, "by_hand": by_hand}


def _engine_account(session, layer, j, source, a_in, z_j, da, n_layers) -> list:
    """``cr.explain`` of the last steps, on a scalar graph: w → z → a, times the upstream ∂L/∂a.

    s = a(w) · (∂L/∂a) has ∂s/∂w = ∂L/∂w exactly (∂L/∂a is held fixed, as the chain rule does), so
    the engine's own step-by-step account ends on the same number."""
    s = session.settings
    if layer == n_layers or s["batch_norm"]:
        return []  # the output has no activation; batch norm's step is not a scalar one
    w_value = float(session.linears[layer - 1].weight.data[j, source])
    w = cr.tensor(w_value, requires_grad=True, name="w")
    rest = cr.tensor(z_j - w_value * a_in, name="b_plus_other_inputs")
    z = w * a_in + rest
    act = {"relu": cr.relu, "tanh": cr.tanh, "sigmoid": cr.sigmoid, "linear": lambda v: v * 1.0}
    upstream = cr.tensor(float(da[layer][j]), name="dL_da")
    surrogate = act[s["activation"]](z) * upstream
    return ["", "chainrule's own account of the last steps (cr.explain), with ∂L/∂a held fixed:", "",
            cr.explain(surrogate)]
