"""Click a link or a neuron: the number the page shows for it, derived step by step.

Every explanation ends on the value the page shows for the element clicked, to the digits shown
(``shown.py``), and says which training example it writes out:

    backward view   the last batch's gradient, as the page's links and neurons show it:
                    ∂L/∂w = (1/n) Σₖ ∂ℓₖ/∂w, one chain-rule product per example of the batch (one
                    written out in full, the sum of all), then the regularisation term and the
                    clipping when they are on                              (explain_backward.py)
    forward view    what the element does for one example with the weights as they are now:
                    a neuron's z = Σ w·a + b and its activation, a link's share w·a and how the
                    last step set w                                        (explain_forward.py)

Layers are numbered as on the page: 0 is the input features, 1..H the hidden layers, H+1 the
output. ``layer=L, neuron=j, source=i`` is the link w[j, i] into layer L; without ``source`` it
is neuron j of layer L (for layer 0 the input feature itself). ``example=k`` picks the training
example (the page's arrows and a click on a data point choose it); the session remembers it, so
the page's tooltips and the output plot show the same example.
"""

from __future__ import annotations

from . import explain_backward, explain_forward
from .explain_parts import ExplainError, parse

__all__ = ["ExplainError", "explain_weight"]


def explain_weight(session, params: dict) -> dict:
    """The explanation the page asked for (see the module docstring); remembers the example."""
    target, example, view = parse(session, params)
    module = explain_forward if view == "forward" else explain_backward
    answer = module.explain(session, target, example)
    if answer["example"] != session.probe_example:
        session.probe_example = answer["example"]
        session.version += 1
    answer["view"] = view
    return answer
