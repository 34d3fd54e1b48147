"""Pictures of gradient flow: per layer over training, and per layer across network variants.

    gradient_flow_figure(flow)          left: a handful of layers' ‖dL/dW‖ over the steps, each a
                                        smoothed curve (rolling median) over its faint raw trace;
                                        right: every layer's median norm, input to output. Both
                                        panels share one log axis of at least three decades and
                                        name the layers as the model does ("2 (Linear)").
    layer_norms_figure(norms)           one curve per variant (the lesson's experiment); curves
                                        that coincide get their own line style and marker and
                                        say so in the legend, with the reason when one is given.
"""

from __future__ import annotations

from ..backend import np
from ..locale import _, _n
from .figures import PALETTE, log_axis, new_figure, picture_language, rolling_median, save

MAX_LAYERS_OVER_TIME = 5
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def chosen_layers(count: int, most: int = MAX_LAYERS_OVER_TIME) -> list:
    """Indices of at most ``most`` layers spread from the input to the output (both included)."""
    if count <= most:
        return list(range(count))
    return sorted(set(int(round(i)) for i in np.linspace(0, count - 1, most)))


def smoothing_window(steps: int) -> int:
    """About 1/25 of the run (odd, at least 1): enough to see the trend through the batch noise."""
    return max(1, (steps // 25) | 1)


def gradient_flow_figure(flow, title: str | None = None):
    """The Figure behind ``plot_gradient_flow`` (``flow``: a GradientFlow or its history())."""
    history = flow.history() if hasattr(flow, "history") else flow
    labels, norms = list(history["layers"]), np.asarray(history["grad_norms"], dtype=float)
    norms = norms.reshape(-1, len(labels)) if labels else norms.reshape(0, 0)
    positive = np.where(norms > 0, norms, np.nan)
    figure, (over_time, per_layer) = new_figure(12, 4.6, columns=2, sharey=True)
    figure.suptitle(_("Gradient flow") if title is None else title)
    steps, chosen = len(positive), chosen_layers(len(labels))
    window = smoothing_window(steps)
    colors = {j: PALETTE[k % len(PALETTE)] for k, j in enumerate(chosen)}
    x = np.arange(1, steps + 1)
    for j in chosen:
        if not np.isfinite(positive[:, j]).any():
            continue
        over_time.plot(x, positive[:, j], color=colors[j], lw=0.6, alpha=0.18)
        over_time.plot(x, rolling_median(positive[:, j], window), color=colors[j], lw=2, label=labels[j])
    over_time.set_xlabel(_("training step"))
    over_time.set_ylabel(_("gradient norm ‖dL/dW‖"))
    shown = _("every layer") if len(chosen) == len(labels) else \
        _("{shown} of {count} layers").format(shown=len(chosen), count=len(labels))
    over_time.set_title(_n("over training ({shown}): faint = each step, bold = median of {window} step",
                           "over training ({shown}): faint = each step, bold = median of {window} steps",
                           window).format(shown=shown, window=window), fontsize=10)
    if any(line.get_label()[:1] != "_" for line in over_time.get_lines()):
        over_time.legend(fontsize=8, loc="best", title=_("layer"), title_fontsize=8)
    with np.errstate(all="ignore"):
        medians = np.array([np.nanmedian(positive[:, j]) if np.isfinite(positive[:, j]).any() else np.nan
                            for j in range(len(labels))])
    positions = np.arange(len(labels))
    per_layer.plot(positions, medians, color="#555555", lw=1.2, zorder=1)
    per_layer.scatter(positions, medians, s=36, zorder=2,
                      c=[colors.get(j, "#555555") for j in range(len(labels))])
    per_layer.set_xticks(positions)
    per_layer.set_xticklabels(labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4
                              else "center", fontsize=8)
    per_layer.set_xlabel(_("layer, input → output"))
    per_layer.set_title(_("median over training, per layer"), fontsize=10)
    finite = medians[np.isfinite(medians)]
    if finite.size > 1:
        per_layer.text(0.98, 0.97, _("largest / smallest median: {ratio:.3g}×").format(
                           ratio=finite.max() / finite.min()),
                       transform=per_layer.transAxes, ha="right", va="top", fontsize=9, color="#333333")
    per_layer.tick_params(labelleft=True)
    log_axis(over_time, np.concatenate([positive.ravel(), medians]))
    for axes in (over_time, per_layer):
        axes.grid(True, which="major", axis="y", alpha=0.3)
    return figure


def plot_gradient_flow(flow, path, title: str | None = None):
    """Save ``gradient_flow_figure`` to ``path`` (PNG, SVG... from the suffix); returns the path."""
    with picture_language():
        return save(gradient_flow_figure(flow, title), path)


def coinciding(norms_by_variant: dict, rtol: float = 1e-6) -> dict:
    """{variant: the earlier variant whose curve it repeats exactly (within rtol)}."""
    same, seen = {}, []
    for variant, norms in norms_by_variant.items():
        values = _as_curve(norms)
        for earlier, earlier_values in seen:
            if values.shape == earlier_values.shape and np.allclose(values, earlier_values, rtol=rtol,
                                                                    atol=0, equal_nan=True):
                same[variant] = earlier
                break
        seen.append((variant, values))
    return same


def _as_curve(norms):
    return np.array([np.nan if n is None or not n > 0 else n for n in norms], dtype=float)


def layer_norms_figure(norms_by_variant: dict, title: str | None = None, reasons=None,
                       xlabel: str | None = None, flags=None):
    """One curve per variant: the median gradient norm of each layer, input side on the left, on a
    log axis. ``reasons`` ({variant: why}) explains a curve that coincides with another; ``flags``
    ({variant: diagnosis}) is added to a variant's legend entry (e.g. "vanishing")."""
    reasons, flags = reasons or {}, flags or {}
    figure, (axes,) = new_figure(10, 5.4)
    same = coinciding(norms_by_variant)
    everything, captions = [], []
    for k, (variant, norms) in enumerate(norms_by_variant.items()):
        values = _as_curve(norms)
        everything.append(values)
        label = variant + (f": {flags[variant]}" if variant in flags else "")
        style = dict(color=PALETTE[k % len(PALETTE)], marker=MARKERS[k % len(MARKERS)], ls="-",
                     lw=1.6, ms=5)
        if variant in same:     # drawn over the earlier curve: dashed, hollow and larger, so both show
            label = _("{variant} (= {same}, dashed)").format(variant=variant, same=same[variant])
            style.update(ls=(0, (4, 4)), lw=1.8, ms=9, markerfacecolor="none", markeredgewidth=1.5, zorder=3)
            captions.append((_("{variant} lies exactly on {same}: {reason}.") if variant in reasons
                             else _("{variant} lies exactly on {same}.")).format(
                                 variant=variant, same=same[variant], reason=reasons.get(variant)))
        axes.plot(np.arange(len(values)), values, label=label, **style)
    log_axis(axes, np.concatenate(everything) if everything else [])
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel(_("layer, input → output") if xlabel is None else xlabel)
    axes.set_ylabel(_("median gradient norm ‖dL/dW‖"))
    axes.set_title(_("Gradient norm per layer") if title is None else title)
    axes.grid(True, which="major", axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if captions:
        figure.supxlabel("\n".join(captions), fontsize=9, color="#333333")
    return figure


def plot_layer_norms(norms_by_variant: dict, path, title: str | None = None, reasons=None,
                     xlabel: str | None = None, flags=None):
    """Save ``layer_norms_figure`` to ``path``; returns the path."""
    with picture_language():
        return save(layer_norms_figure(norms_by_variant, title, reasons, xlabel, flags), path)
