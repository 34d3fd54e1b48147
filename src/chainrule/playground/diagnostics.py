"""Vanishing / exploding gradients, said in words, from the per-layer weight-gradient norms.

The rule (the lesson's): backprop multiplies the signal by each layer's local derivative on its
way to the first layer. If the first layer's gradient is a tiny fraction of the output layer's,
the early layers barely learn (vanishing); if any layer's gradient is huge or not finite, the
updates blow up (exploding).
"""

from __future__ import annotations

import math

VANISHING_RATIO = 1e-2     # first layer's norm / output layer's norm below this: vanishing
VANISHING_FLOOR = 1e-7     # or the first layer's norm below this outright
EXPLODING_NORM = 1e2       # any layer's norm above this: exploding

REMEDIES_VANISHING = ("switch to ReLU, add residual connections or batch norm, "
                      "or use Adam, which rescales small gradients")
REMEDIES_EXPLODING = "lower the learning rate, turn on gradient clipping, or add batch norm"


def _layer_name(index: int, count: int) -> str:
    return "the output layer" if index == count - 1 else f"hidden layer {index + 1}"


def diagnose(norms: list[float], activation: str) -> dict:
    """``norms``: ‖∂L/∂W‖ per layer, first to output. Returns {status, message}."""
    if not norms:
        return {"status": "idle", "message": "Train a step to see how gradients flow."}
    count = len(norms)
    for index, value in enumerate(norms):
        if not math.isfinite(value):
            return {"status": "exploding", "message": (
                f"Exploding gradients: the gradient of {_layer_name(index, count)} is not finite (NaN or "
                f"infinite) — the updates overflowed. Reset, then {REMEDIES_EXPLODING}.")}
    largest = max(range(count), key=lambda i: norms[i])
    if norms[largest] > EXPLODING_NORM:
        return {"status": "exploding", "message": (
            f"Exploding gradients: ‖∂L/∂W‖ of {_layer_name(largest, count)} is {norms[largest]:.3g}; "
            f"steps this large throw the weights about. To fix it, {REMEDIES_EXPLODING}.")}
    first, last = norms[0], norms[-1]
    if count >= 3 and (first < VANISHING_FLOOR or (last > 0 and first / last < VANISHING_RATIO)):
        ratio = first / last if last > 0 else 0.0
        why = ""
        if activation == "sigmoid":
            why = (" Each sigmoid layer multiplies the gradient by its slope, at most 0.25, "
                   "so it shrinks layer by layer.")
        elif activation == "tanh":
            why = " Saturated tanh units have slopes near 0, so the gradient shrinks layer by layer."
        share = f"1/{1 / ratio:,.0f}" if ratio > 0 else "none"
        return {"status": "vanishing", "message": (
            f"Vanishing gradients: the first layer gets {share} of the output layer's gradient "
            f"(‖∂L/∂W₁‖ = {first:.2e} against {last:.2e}), so the early layers barely learn.{why} "
            f"To fix it, {REMEDIES_VANISHING}.")}
    return {"status": "healthy", "message": (
        f"Gradients flow: ‖∂L/∂W‖ runs from {first:.2e} at the first layer to {last:.2e} at the output.")}
