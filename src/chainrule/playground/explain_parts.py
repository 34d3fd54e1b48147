"""What every playground explanation shares: the query checked, the element named, the
example described with every step from its point on the plot to the network's inputs, and the
numbers printed as the page prints them. The explanations themselves: explain.py."""

from __future__ import annotations

from dataclasses import dataclass

from ..locale import _, _n
from . import network as N
from .datasets import FEATURE_LABELS
from .settings import is_regression
from .settings import shown as shown_value
from .shown import shown
from .transforms import input_lines, noise_words

VIEWS = ("backward", "forward")


class ExplainError(ValueError):
    """A bad layer / neuron / source / example / view (answered with 422)."""


@dataclass
class Target:
    layer: int
    neuron: int
    source: int | None
    n_layers: int            # the output is layer n_layers
    features: list

    @property
    def is_link(self) -> bool:
        return self.source is not None

    @property
    def is_output(self) -> bool:
        return self.layer == self.n_layers

    def name(self, layer: int | None = None, neuron: int | None = None) -> str:
        layer = self.layer if layer is None else layer
        neuron = self.neuron if neuron is None else neuron
        if layer == 0:
            return _("input {feature}").format(feature=FEATURE_LABELS[self.features[neuron]])
        if layer == self.n_layers:
            return _("the output")
        return _("neuron {neuron} of hidden layer {layer}").format(neuron=neuron + 1, layer=layer)

    def feature(self) -> str:
        """The input's own name (x₁, sin x₂) for the input ``neuron`` of layer 0."""
        return FEATURE_LABELS[self.features[self.neuron]]

    def link_name(self) -> str:
        return _("the link {source} → {target}").format(source=self.name(self.layer - 1, self.source),
                                                         target=self.name())


def fmt(value: float) -> str:
    """An intermediate number: 4 significant digits, as the page prints."""
    return shown(float(value))


def term(value: float) -> str:
    """``fmt`` in brackets when negative, for a number inside a product or a sum."""
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text


def examples(count: int) -> str:
    return _n("{count} example", "{count} examples", count).format(count=count)


def neurons(count: int) -> str:
    return _n("{count} neuron", "{count} neurons", count).format(count=count)


def _index(params: dict, name: str, low: int, high: int, optional: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None:
        if not optional:
            raise ExplainError(f"explain needs {name} (a whole number from {low} to {high})")
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ExplainError(f"{name} must be a whole number from {low} to {high}; "
                           f"got {shown_value(raw)}") from None
    if not low <= value <= high:
        raise ExplainError(f"{name} must be a whole number from {low} to {high}; got {shown_value(value)}")
    return value


def parse(session, params: dict) -> tuple[Target, int | None, str]:
    """(target, example, view) from the query, each checked against the session's network;
    example is None when the query names none (each view then picks its own)."""
    s = session.settings
    n_layers = len(session.linears)
    widths = N.layer_widths(s)
    unknown = sorted(set(params) - {"layer", "neuron", "source", "example", "view"})
    if unknown:
        raise ExplainError(f"unknown parameter(s) {', '.join(shown_value(name) for name in unknown[:5])}; "
                           "use layer, neuron, source, example, view")
    layer = _index(params, "layer", 0, n_layers)
    neuron = _index(params, "neuron", 0, widths[layer] - 1)
    if layer == 0 and params.get("source") is not None:
        raise ExplainError("the inputs (layer 0) have no incoming links; leave out source")
    source = _index(params, "source", 0, widths[layer - 1] - 1, optional=True) if layer > 0 else None
    example = _index(params, "example", 0, len(session.train_y) - 1, optional=True)
    view = params.get("view", "backward")
    if view not in VIEWS:
        raise ExplainError(f"view must be one of {', '.join(VIEWS)}; got {str(view)[:20]!r}")
    return Target(layer, neuron, source, n_layers, list(s["features"])), example, view


def example_lines(session, settings: dict, example: int, inputs: list) -> list[str]:
    """Who the example is, and every step from its point on the plot to the network's inputs."""
    point = session.dataset.train_points[example]
    label = float(session.train_y._data[example])
    if is_regression(settings):
        said = _("target y = {value}").format(value=fmt(label))
    else:
        said = (_("label y = {label:g} (blue, class 1)") if label == 1 else
                _("label y = {label:g} (orange, class 0)")).format(label=label)
    lines = [_("Example #{example} of the {count} training points: the point (x₁, x₂) = ({x1}, {x2}) on the "
               "output plot, {said}.").format(example=example, count=len(session.train_y), x1=fmt(point[0]),
                                              x2=fmt(point[1]), said=said)]
    noise = noise_words(settings["dataset"], settings["noise"])
    if noise:
        lines.append("  " + _("({noise}; the point above is where it ended up.)").format(noise=noise))
    lines.append(_("What the network sees (the page turns the point into the inputs you switched on):"))
    lines += [f"  {line}" for line in input_lines(settings, point, inputs, fmt)]
    return lines
