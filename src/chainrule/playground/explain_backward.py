"""The backward view explained: the last batch's gradient as the average of per-example chain rules.

The last step trained on a batch of n examples, on the mean loss L = (1/n) Σₖ ℓₖ. A derivative of
a sum is the sum of the derivatives, so for a weight w = W[j, i] of a layer z = a Wᵀ + b

    ∂L/∂w = (1/n) Σₖ ∂ℓₖ/∂w,      ∂ℓₖ/∂w = ∂ℓₖ/∂zⱼ · aᵢ     (the input the weight multiplies)

and ∂ℓₖ/∂zⱼ is the chain rule from the loss back to the neuron: ∂ℓ/∂ŷ, then through every layer
∂ℓ/∂aⱼ = Σₘ ∂ℓ/∂zₘ(next) · W(next)[m, j] (+ ∂ℓ/∂aⱼ(next) through a skip connection), then
∂ℓ/∂zⱼ = ∂ℓ/∂aⱼ · act'(zⱼ). The same holds for a neuron's ∂L/∂a and the output's ∂L/∂ŷ.

On top of the data loss the step's objective may hold a penalty, whose derivative is added to the
weights' gradients (L2: rate·Σw²/2 → rate·w; L1: rate·Σ|w| → rate·sign(w)), and the optimiser may
have clipped the whole gradient g to ‖g‖ ≤ c (g ← g · min(1, c / (‖g‖ + 10⁻⁶))). The page shows the
gradient the optimiser stepped with, so the explanation adds both.

With batch norm an example's loss depends on the whole batch (through its mean and variance), so
"∂ℓₖ/∂z" is example k's share, n·∂L/∂zₖ, read from autograd; the sum is still exact.

Every factor comes from replaying the step (``replay.py``), and each written-out product is checked
against autograd's value for that example.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr

from ..locale import N_, _
from .explain_parts import Target, example_lines, examples, fmt, neurons, term
from .replay import replay_last_step
from .settings import is_regression
from .shown import shown_sent

SLOPES = {  # (words, translated where shown; slope from h (the activation's input) and f (its output))
    "relu": (N_("relu'(z) = 1 if z > 0, else 0"), lambda h, f: float(h > 0)),
    "tanh": (N_("tanh'(z) = 1 - tanh²(z)"), lambda h, f: 1 - f * f),
    "sigmoid": (N_("σ'(z) = σ(z)(1 - σ(z))"), lambda h, f: f * (1 - f)),
    "linear": (N_("(no activation) ∂a/∂z = 1"), lambda h, f: 1.0),
}
MAX_ROWS = 12  # batch rows listed one by one; the sum always covers the whole batch


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th... (a Japanese catalogue writes 1 番目, whatever the suffix)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    words = {"st": _("{n}st"), "nd": _("{n}nd"), "rd": _("{n}rd"), "th": _("{n}th")}
    return words[suffix].format(n=n)


def _rows(tensor, n):
    """Per-example ∂ℓ/∂· (n times the batch-mean loss's gradient), float64."""
    return tensor.grad._data.astype(np.float64) * n


def explain(session, target: Target, example: int | None) -> dict:
    """``example``: the one to write out; None picks the session's example when it was in the
    batch, else the batch's first, without comment."""
    replay = replay_last_step(session)
    if replay is None:
        shown_example = session.probe_example if example is None else example
        return {"title": _("No gradients yet"), "example": shown_example, "batch": None, "value": None,
                "shown": None, "symbol": None, "example_note": "",
                "text": _("The backward view shows the gradients of the last training batch. Press Step or ▶ "
                          "to train, then click again.")}
    batch = [int(i) for i in replay.batch]
    preface = []
    if example is None:
        example = session.probe_example if session.probe_example in batch else batch[0]
    if example not in batch:
        preface = [_("Example #{example} was not in the last batch, so it played no part in these gradients; "
                     "showing #{first}, the batch's first example, instead.").format(example=example,
                                                                                     first=batch[0]), ""]
        example = batch[0]
    row, n, s = batch.index(example), replay.size, replay.settings
    per_example, symbol, data_value = _target_values(replay, target, n)

    lines = preface + example_lines(session, s, example, [float(v) for v in replay.x._data[row]])
    lines += ["", _("Forward, with the weights as they were before that step (step {step}):").format(
        step=replay.step)]
    lines += _forward_lines(replay, target, row)
    lines += ["", _("Backward: the chain rule for this example, one local derivative at a time")]
    chain, by_hand = _chain_lines(replay, target, row, n)
    lines += chain
    autograd_one = per_example[row]
    agrees = abs(by_hand - autograd_one) <= 1e-4 * max(1.0, abs(autograd_one))
    lines.append("  " + _("(autograd for this example: {value}{same})").format(
        value=fmt(autograd_one), same=_("  ✓ the same") if agrees else ""))

    one = "∂ℓₖ/" + symbol.split("/", 1)[1]
    lines += ["", _("The whole batch: step {step} (in epoch {epoch}) trained on {examples}, on their mean "
                    "loss {mean}, so "
                    "{sum}:").format(step=replay.step, epoch=replay.epoch, examples=examples(n),
                                                mean=f"L = (1/{n}) Σₖ ℓₖ",
                                                sum=f"{symbol} = (1/{n}) Σₖ {one}")]
    shown_rows = list(range(min(n, MAX_ROWS)))
    if row not in shown_rows:
        shown_rows[-1] = row
    for r in shown_rows:
        mark = "   " + _("← written out above") if r == row else ""
        lines.append(f"   #{batch[r]:<4} {fmt(per_example[r]):>11}{mark}")
    if n > len(shown_rows):
        lines.append("   " + _("… and {count} more").format(count=n - len(shown_rows)))
    total = float(np.sum(per_example))
    lines.append("   " + _("sum over the {n} = {total}").format(n=n, total=fmt(total)))
    lines.append(f"  {symbol} = {fmt(total)} / {n} = {fmt(total / n)}   "
                 + _("(autograd on the whole batch: {value})").format(value=fmt(data_value)))

    value = data_value
    if target.is_link:
        value, extra = _penalty_and_clipping(session, replay, target, data_value)
        lines += extra
    elif target.layer > 0:
        if s["regularization"] != "none" and s["reg_rate"] > 0:
            lines.append("  " + _("(The {penalty} penalty depends only on the weights, so it adds nothing to "
                                  "{symbol}.)").format(penalty=s["regularization"].upper(), symbol=symbol))
        if s["clip_norm"] > 0:
            lines.append("  " + _("(Clipping scales the weights' and biases' gradients, not this one.)"))
    shown = shown_sent(value)
    said = _("So {symbol} = {value}   ← the number on the link in the backward view") if target.is_link \
        else _("So {symbol} = {value}   ← the number on the neuron in the backward view")
    lines += ["", said.format(symbol=symbol, value=shown)]
    title_of = target.link_name() if target.is_link else target.name()
    note = _("Example #{example}: the {ordinal} of the {n} examples in the last batch").format(
        example=example, ordinal=ordinal(row + 1), n=n)
    return {"title": _("{symbol} for {name}, over the last batch").format(symbol=symbol, name=title_of),
            "text": "\n".join(lines),
            "value": float(value), "shown": shown, "symbol": symbol, "example": example,
            "example_note": note, "batch": batch, "autograd": float(data_value),
            "by_hand": float(total / n), "engine": _engine_account(replay, target, row, n)}


def _target_values(replay, target: Target, n: int):
    """(per-example values, symbol, autograd's batch value) of the element explained."""
    layers = replay.layers
    if target.layer == 0:
        dx = _rows(replay.x, n)[:, target.neuron]
        return dx, f"∂L/∂{target.feature()}", float(replay.x.grad._data[:, target.neuron].sum())
    layer = layers[target.layer - 1]
    if target.is_link:
        products = _rows(layer.z, n)[:, target.neuron] * layer.a_in._data[:, target.source].astype(np.float64)
        return products, "∂L/∂w", float(replay.data_grads[target.layer - 1][target.neuron, target.source])
    if target.is_output:
        return _rows(layer.z, n)[:, 0], "∂L/∂ŷ", float(layer.z.grad._data.sum())
    return (_rows(layer.a_out, n)[:, target.neuron], "∂L/∂a",
            float(layer.a_out.grad._data[:, target.neuron].sum()))


def _forward_lines(replay, target: Target, row: int) -> list[str]:
    s = replay.settings
    lines = []
    if 1 <= target.layer <= target.n_layers - 1:
        layer = replay.layers[target.layer - 1]
        j = target.neuron
        z, h, f = (float(t._data[row, j]) for t in (layer.z, layer.h, layer.f))
        act = s["activation"]
        if layer.norm is not None:
            said = _("z = {z}, batch norm h = {h}, a = {a}").format(
                z=fmt(z), h=fmt(h), a=f"{act}(h) = {fmt(f)}")
        else:
            said = f"z = {fmt(z)}, a = {act}(z) = {fmt(f)}"
        if layer.residual:
            said += _(", plus the skip connection: {value}").format(
                value=fmt(float(layer.a_out._data[row, j])))
        lines.append(f"  {target.name()}: {said}")
    y_hat, label = float(replay.layers[-1].z._data[row, 0]), float(replay.labels[row])
    if is_regression(s):
        lines.append("  " + _("output ŷ = {y_hat};  ℓ = {loss}").format(
            y_hat=fmt(y_hat),
            loss=f"(ŷ - y)² = ({fmt(y_hat)} - {fmt(label)})² = {fmt((y_hat - label) ** 2)}"))
    else:
        p = 1 / (1 + np.exp(-y_hat))
        loss = float(np.logaddexp(0, y_hat) - label * y_hat)
        lines.append("  " + _("output logit ŷ = {y_hat};  p = σ(ŷ) = {p};  ℓ = {loss}").format(
            y_hat=fmt(y_hat), p=fmt(p), loss=f"softplus(ŷ) - y·ŷ = {fmt(loss)}"))
    return lines


def _chain_lines(replay, target: Target, row: int, n: int) -> tuple[list[str], float]:
    """The chain rule for one example, output to target; returns (lines, the product by hand)."""
    s, layers = replay.settings, replay.layers
    lines = []
    d_out = float(_rows(layers[-1].z, n)[row, 0])
    y_hat, label = float(layers[-1].z._data[row, 0]), float(replay.labels[row])
    if is_regression(s):
        lines.append(f"  ∂ℓ/∂ŷ = 2(ŷ - y) = 2 × ({fmt(y_hat)} - {fmt(label)}) = {fmt(d_out)}")
    else:
        p = 1 / (1 + np.exp(-y_hat))
        lines.append(f"  ∂ℓ/∂ŷ = σ(ŷ) - y = {fmt(p)} - {label:g} = {fmt(d_out)}")
    if target.is_output and not target.is_link:
        return lines, d_out
    if target.is_link and target.is_output:
        a_in = float(layers[-1].a_in._data[row, target.source])
        product = d_out * a_in
        source = target.name(target.layer - 1, target.source)
        lines.append("  ∂ŷ/∂w = " + _("the input this weight multiplies, a of {source} = {value}").format(
            source=source, value=fmt(a_in)))
        lines.append(f"  ∂ℓ/∂w = ∂ℓ/∂ŷ · ∂ŷ/∂w = {fmt(d_out)} × {term(a_in)} = {fmt(product)}")
        return lines, product
    # ∂ℓ/∂a of the neuron (page layer ``at``) is summed over the layer after it, replay.layers[at]
    at = target.layer
    nxt = replay.layers[at]
    w_next = nxt.linear.weight._data
    dz_next = _rows(nxt.z, n)[row]
    j = target.neuron
    terms = [(float(dz_next[m]), float(w_next[m, j])) for m in range(w_next.shape[0])]
    total = sum(g * w for g, w in terms)
    me = target.name(at, j)
    nxt_name = _("the output") if at + 1 == target.n_layers else _("hidden layer {layer}").format(
        layer=at + 1)
    lines.append("  " + _("∂ℓ/∂a for {name}: it feeds {neurons} of {next}, so its paths add up:").format(
        name=me, neurons=neurons(len(terms)), next=nxt_name))
    lines.append("     Σₘ ∂ℓ/∂zₘ · wₘ = " + " + ".join(f"({fmt(g)})·({fmt(w)})" for g, w in terms)
                 + f" = {fmt(total)}")
    if at + 1 < target.n_layers:
        lines.append("     " + _("(each ∂ℓ/∂zₘ of the next layer was found the same way, one layer nearer "
                                 "the loss)"))
    if at + 1 < target.n_layers and nxt.residual:
        skip = float(_rows(nxt.a_out, n)[row, j])
        total += skip
        lines.append("     " + _("+ {skip} straight through the next layer's skip connection = "
                                  "{total}").format(skip=fmt(skip), total=fmt(total)))
    if target.layer == 0:
        lines.append("  " + _("(this is ∂ℓ/∂{feature}: how this example's loss would change if the input "
                              "moved)").format(feature=target.feature()))
        return lines, total
    if not target.is_link:
        return lines, total
    layer = layers[target.layer - 1]
    h_value, f_value = float(layer.h._data[row, j]), float(layer.f._data[row, j])
    words, slope_of = SLOPES[s["activation"]]
    words = _(words)
    slope = float(slope_of(h_value, f_value))
    skip = "   " + _("(the skip connection adds a, not z: no part here)") if layer.residual else ""
    if layer.norm is None:
        dz = total * slope
        lines.append(f"  ∂a/∂z = {words} = {fmt(slope)}   (z = {fmt(h_value)}, a = {fmt(f_value)})")
        lines.append(f"  ∂ℓ/∂z = ∂ℓ/∂a · ∂a/∂z = {fmt(total)} × {term(slope)} = {fmt(dz)}{skip}")
    else:
        dh = total * slope
        dz = float(_rows(layer.z, n)[row, j])
        lines.append(f"  ∂a/∂h = {words.replace('z', 'h')} = {fmt(slope)}   "
                     + _("(h = {h}, the batch-normed z; a = {a})").format(h=fmt(h_value), a=fmt(f_value)))
        lines.append(f"  ∂ℓ/∂h = ∂ℓ/∂a · ∂a/∂h = {fmt(total)} × {term(slope)} = {fmt(dh)}{skip}")
        lines.append("  " + _("∂ℓ/∂z: batch norm's mean and variance tie this example to the rest of the "
                              "batch, so autograd gives its share: ∂ℓ/∂z = {value}").format(value=fmt(dz)))
    a_in = float(layer.a_in._data[row, target.source])
    product = dz * a_in
    source = target.name(target.layer - 1, target.source)
    lines.append("  ∂z/∂w = " + _("the input this weight multiplies, a of {source} = {value}").format(
        source=source, value=fmt(a_in)))
    lines.append(f"  ∂ℓ/∂w = ∂ℓ/∂z · ∂z/∂w = {fmt(dz)} × {term(a_in)} = {fmt(product)}")
    return lines, product


def _penalty_and_clipping(session, replay, target: Target, data_value: float) -> tuple[float, list[str]]:
    """Add the penalty's derivative and the clipping to a weight's data gradient; the value the
    optimiser stepped with is the one the page shows (``session.last_grads``)."""
    s = replay.settings
    k, j, i = target.layer - 1, target.neuron, target.source
    w_before = float(replay.layers[k].linear.weight._data[j, i])
    lines, value = [], data_value
    penalty = float(replay.penalty_grads[k][j, i])
    if s["regularization"] != "none" and s["reg_rate"] > 0:
        rate = s["reg_rate"]
        if s["regularization"] == "l2":
            lines.append(_("Regularisation L2 (rate {rate:g}) adds rate·Σw²/2 to the loss; its derivative is "
                           "{derivative}   (w before the step)").format(
                               rate=rate, derivative=f"rate·w = {rate:g} × {fmt(w_before)} = {fmt(penalty)}"))
        else:
            lines.append(_("Regularisation L1 (rate {rate:g}) adds rate·Σ|w| to the loss; its derivative is "
                           "{derivative}").format(
                               rate=rate,
                               derivative=f"rate·sign(w) = {rate:g} × {np.sign(w_before):g} = "
                                          f"{fmt(penalty)}"))
        value = data_value + penalty
        lines.append(f"  ∂L/∂w = {fmt(data_value)} + {term(penalty)} = {fmt(value)}")
    if s["clip_norm"] > 0:
        c, norm = s["clip_norm"], replay.raw_total_norm
        if replay.clip_coefficient < 1.0:
            lines.append(_("Clipping ‖g‖ ≤ {c:g}: the whole gradient (every weight and bias) had norm ‖g‖ = "
                           "{norm}, so each gradient was multiplied by {c:g}/(‖g‖ + 10⁻⁶) = {factor}").format(
                               c=c, norm=fmt(norm), factor=fmt(replay.clip_coefficient)))
            lines.append(f"  ∂L/∂w = {fmt(value)} × {term(replay.clip_coefficient)} = "
                         f"{fmt(value * replay.clip_coefficient)}")
            value *= replay.clip_coefficient
        else:
            lines.append(_("Clipping ‖g‖ ≤ {c:g}: the whole gradient had norm ‖g‖ = {norm}, within the "
                           "limit, so clipping left it as it was.").format(c=c, norm=fmt(norm)))
    stepped = float(session.last_grads["weights"][k][j, i])
    lines.append(_("The optimiser stepped against this gradient: it lowers w.") if stepped > 0 else
                 _("The optimiser stepped against this gradient: it raises w.") if stepped < 0 else
                 _("The optimiser stepped against this gradient: it leaves w."))
    return stepped, lines


def _engine_account(replay, target: Target, row: int, n: int) -> str | None:
    """``cr.explain`` of the last steps on a scalar graph, w → z → a, times the upstream ∂ℓ/∂a held
    fixed: s = a(w)·(∂ℓ/∂a) has ∂s/∂w = ∂ℓ/∂w, so chainrule's own account ends on the same number."""
    s = replay.settings
    if not target.is_link or target.is_output or s["batch_norm"]:
        return None
    layer = replay.layers[target.layer - 1]
    j, i = target.neuron, target.source
    w_value = float(layer.linear.weight._data[j, i])
    a_in = float(layer.a_in._data[row, i])
    z_j = float(layer.z._data[row, j])
    w = cr.tensor(w_value, requires_grad=True, name="w")
    rest = cr.tensor(z_j - w_value * a_in, name="b_plus_other_inputs")
    z = w * a_in + rest
    act = {"relu": cr.relu, "tanh": cr.tanh, "sigmoid": cr.sigmoid, "linear": lambda v: v * 1.0}
    upstream = cr.tensor(float(_rows(layer.f, n)[row, j]) if layer.f.grad is not None else 0.0, name="dl_da")
    return cr.explain(act[s["activation"]](z) * upstream)
