"""Vanishing / exploding gradients, said in words, from the per-layer weight-gradient norms.

The diagnosis itself is chainrule's (``chainrule.insight.flow.diagnose_norms``: the same rules
that ``GradientFlow`` applies to any model); this module words it for the page, adding why the
chosen activation shrinks the gradient and what to toggle on the page to fix it.
"""

from __future__ import annotations

from ..insight.flow import diagnose_norms

REMEDIES_VANISHING = ("switch to ReLU, add residual connections or batch norm, "
                      "or use Adam, which rescales small gradients")
REMEDIES_EXPLODING = "lower the learning rate, turn on gradient clipping, or add batch norm"

WHY_VANISHING = {
    "sigmoid": " Each sigmoid layer multiplies the gradient by its slope, at most 0.25, so it shrinks "
               "layer by layer.",
    "tanh": " Saturated tanh units have slopes near 0, so the gradient shrinks layer by layer.",
}


def layer_labels(count: int) -> list[str]:
    """The names the page's gradient-norm chart uses: h1, h2, ..., out."""
    return [f"h{i + 1}" for i in range(count - 1)] + ["out"]


def diagnose(norms: list[float], activation: str) -> dict:
    """``norms``: ‖∂L/∂W‖ per layer, first to output. Returns {status, message}."""
    if not norms:
        return {"status": "idle", "message": "Train a step to see how gradients flow."}
    findings = diagnose_norms(layer_labels(len(norms)), list(norms))
    if not findings:
        return {"status": "healthy", "message": (
            f"Gradients flow: ‖∂L/∂W‖ runs from {norms[0]:.2e} at the first layer to {norms[-1]:.2e} "
            "at the output.")}
    finding = findings[0]
    if finding.kind == "exploding":
        return {"status": "exploding", "message": (
            f"Exploding gradients: {finding.message} To fix it, {REMEDIES_EXPLODING}.")}
    return {"status": "vanishing", "message": (
        f"Vanishing gradients: {finding.message}{WHY_VANISHING.get(activation, '')} "
        f"To fix it, {REMEDIES_VANISHING}.")}
