"""Gradient-flow diagnostics: watch every layer's gradients while a model trains.

    flow = GradientFlow(model)          # attaches hooks; the model itself is not changed
    for x, y in loader:
        optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()
    print(flow.report())                # "vanishing: ..." / "exploding: ..." / "healthy"
    flow.remove()                       # or use ``with GradientFlow(model) as flow:``

What is recorded, per backward pass ("step"):

    grad norm      ‖dL/dW‖₂ of every parameter (a hook on the parameter sees each step's gradient)
    update ratio   ‖W_after − W_before‖ / ‖W_before‖: how far one optimiser step moved the weights
                   (measured at the next backward; about 1e-3 is the usual healthy size)
    activations    mean and std of every leaf module's output (training forwards only), and for
                   ReLU modules the dead fraction: units that output 0 for every example of a batch

Why depth matters: backward multiplies the gradient by each layer's local derivative,

    dL/dh₀ = dL/dh_n × ∏ₖ (dh_k/dh_(k−1)),

so factors below 1 (a saturated sigmoid has σ' ≤ 0.25) make the first layers' gradients shrink
geometrically (vanishing) and factors above 1 make them grow (exploding).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..autograd import is_grad_enabled
from ..backend import np
from ..display import escape, png_html
from ..locale import _, language
from ..nn.activation import ReLU
from ..nn.module import Module
from .diagnosis import (  # noqa: F401  (re-exported: chainrule.insight.flow is where users look)
    DEAD_FRACTION,
    EXPLODE_ABSOLUTE,
    EXPLODE_GROWTH,
    EXPLODE_RATIO,
    LARGE_UPDATE,
    REMEDIES,
    SPREAD_RATIO,
    VANISH_ABSOLUTE,
    VANISH_RATIO,
    Finding,
    FlowReport,
    diagnose_norms,
    format_table,
    growth_toward_input,
    huge_norms,
    spread_findings,
    vanishing_findings,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Literal

    from ..tensor import Tensor


def _percent(fraction: float | None) -> str | None:
    return None if fraction is None else f"{fraction:.0%}"


def _norm(array: np.ndarray) -> float:
    with np.errstate(all="ignore"):   # an overflowing norm is recorded as inf: that is the finding
        return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _median(values: Sequence[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.median(finite)) if finite else None


class GradientFlow:
    """Records per-parameter gradient norms, update ratios and activation statistics of ``model``."""

    def __init__(self, model: Module, activations: bool = True) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"GradientFlow watches an nn.Module, got {type(model).__name__}")
        self.model = model
        self.parameters = dict(model.named_parameters())
        self.grad_norms: dict[str, list[float]] = {name: [] for name in self.parameters}
        self.update_ratios: dict[str, list[float]] = {name: [] for name in self.parameters}
        # module name -> {"mean": [...], "std": [...], "dead": [...]}
        self.activation_stats: dict[str, dict[str, list[float]]] = {}
        self._snapshots: dict[str, np.ndarray] = {}
        self._provisional: set[str] = set()
        self._param_hooks: list[tuple[Tensor, Any]] = []
        self._module_handles: list[Any] = []
        for name, param in self.parameters.items():
            if param.requires_grad:
                hook = self._gradient_hook(name, param)
                param.register_hook(hook)
                self._param_hooks.append((param, hook))
        if activations:
            for name, module in model.named_modules():
                if not list(module.children()):
                    self.activation_stats[name] = {"mean": [], "std": [], "dead": []}
                    self._module_handles.append(module.register_forward_hook(self._activation_hook(name)))

    # --- recording ------------------------------------------------------------------------------
    def _gradient_hook(self, name: str, param: Tensor) -> Callable[[Tensor], None]:
        def record(grad: Tensor) -> None:
            self._measure_update(name, param)
            self.grad_norms[name].append(_norm(grad._data))
            self._snapshots[name] = param._data.copy()
            return None
        return record

    def _measure_update(self, name: str, param: Tensor) -> None:
        """The update of the previous step: compare the weights with their snapshot."""
        before = self._snapshots.get(name)
        if before is None:
            return
        ratio = _norm(param._data - before) / (_norm(before) + 1e-12)
        ratios = self.update_ratios[name]
        if name in self._provisional:   # report() measured this step early: replace its value
            self._provisional.discard(name)
            ratios[-1] = ratio
        else:
            ratios.append(ratio)

    def _activation_hook(self, name: str) -> Callable[[Module, tuple[Any, ...], Any], None]:
        def record(module: Module, args: tuple[Any, ...], output: Any) -> None:
            if not (is_grad_enabled() and module.training) or not hasattr(output, "data"):
                return None
            values = np.asarray(output._data, dtype=np.float64)
            stats = self.activation_stats[name]
            with np.errstate(all="ignore"):
                stats["mean"].append(float(values.mean()))
                stats["std"].append(float(values.std()))
            if isinstance(module, ReLU) and values.ndim >= 2 and values.shape[0] > 1:
                stats["dead"].append(float(np.mean(np.all(values <= 0, axis=0))))
            return None
        return record

    def remove(self) -> None:
        """Detach every hook; the model is exactly as before (the records stay readable)."""
        for param, hook in self._param_hooks:
            if param._hooks:
                remaining = [h for h in param._hooks if h is not hook]
                param._hooks = remaining or None
        for handle in self._module_handles:
            handle.remove()
        self._param_hooks, self._module_handles = [], []

    def __enter__(self) -> GradientFlow:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.remove()
        return False

    @property
    def steps(self) -> int:
        return max((len(v) for v in self.grad_norms.values()), default=0)

    # --- per layer ------------------------------------------------------------------------------
    def layers(self) -> list:
        """The weight matrices (2-D or more: Linear, Conv) in order from the input: the depth axis
        along which gradients flow. Falls back to every parameter for models without any."""
        names = [n for n, p in self.parameters.items() if p.ndim >= 2 and self.grad_norms[n]]
        return names or [n for n in self.parameters if self.grad_norms[n]]

    def layer_label(self, name: str) -> str:
        prefix = name.rsplit(".", 1)[0] if "." in name else ""
        module = self.model.get_submodule(prefix) if prefix else self.model
        return f"{prefix or name} ({type(module).__name__})"

    def history(self) -> dict:
        """{"layers": labels, "grad_norms": array (steps, layers)} for plotting (NaN where missing)."""
        layers = self.layers()
        norms = np.full((self.steps, len(layers)), np.nan)
        for j, name in enumerate(layers):
            series = self.grad_norms[name]
            norms[:len(series), j] = series
        return {"layers": [self.layer_label(n) for n in layers], "grad_norms": norms}

    def layer_norms(self) -> list:
        """(label, median gradient norm over the steps) per layer, input first."""
        return [(self.layer_label(n), _median(self.grad_norms[n])) for n in self.layers()]

    def table(self, labels: list | None = None) -> list:
        """One row per weight layer: its median gradient norm, update ratio, activation spread
        and dead-ReLU share; ``labels`` replaces the module labels in the "layer" column."""
        rows = []
        for i, name in enumerate(self.layers()):
            prefix = name.rsplit(".", 1)[0] if "." in name else ""
            follower = self._activation_after(prefix)
            stats = self.activation_stats.get(follower, {}) if follower else {}
            rows.append({
                "layer": labels[i] if labels else self.layer_label(name),
                "grad norm": _median(self.grad_norms[name]),
                "update/weight": _median(self.update_ratios[name]),
                "act std": _median(stats.get("std", [])),
                "dead ReLU": _percent(_median(stats.get("dead", []))),
            })
        return rows

    def _activation_after(self, prefix: str) -> str | None:
        """The parameter-free leaf module recorded right after ``prefix`` (its activation), if any."""
        names = list(self.activation_stats)
        if prefix not in names or names.index(prefix) + 1 == len(names):
            return None
        follower = names[names.index(prefix) + 1]
        return None if list(self.model.get_submodule(follower).parameters()) else follower

    # --- in a notebook ---------------------------------------------------------------------------
    def _repr_html_(self, lang: str | None = None) -> str:
        """A notebook's view: the gradient-flow picture (PNG, matplotlib) above the diagnosis.
        Without matplotlib, or before any backward pass, the diagnosis alone and why."""
        with language(lang):
            report = self.report()
            if not self.steps:
                return report._repr_html_()
            # flow_plots draws with matplotlib, a heavy optional extra: imported when a picture is
            # shown, so that importing chainrule.insight stays light (flow_plots never imports flow)
            from .figures import MissingExtraError, png_bytes
            try:
                from .figures import picture_language
                from .flow_plots import gradient_flow_figure
                with picture_language():
                    picture = png_html(png_bytes(gradient_flow_figure(self)), _("Gradient flow"))
            except MissingExtraError as err:
                picture = f"<p><i>{escape(err)}</i></p>"
            return f"<div>{picture}{report._repr_html_()}</div>"

    # --- diagnosis ------------------------------------------------------------------------------
    def report(self, labels: list | None = None, lang: str | None = None) -> FlowReport:
        """Diagnose vanishing / exploding gradients, one layer far above the rest (uneven), dead
        ReLUs and oversized updates. ``labels``: names for the weight layers (input first) to use
        instead of the module labels, e.g. "layer 19 (output)"; ``lang``: "en" or "ja" (default:
        the environment's language), the language of the findings and of ``str(report)``."""
        with language(lang) as chosen:
            return self._report(labels, chosen)

    def _report(self, labels: Any, lang: str) -> FlowReport:
        for name, param in self.parameters.items():  # measure the last step's update too
            if name in self._snapshots and name not in self._provisional and self.grad_norms[name]:
                self._measure_update(name, param)
                self._provisional.add(name)
        findings = []
        layers = self.layers()
        if labels is not None and len(labels) != len(layers):
            raise ValueError(f"GradientFlow.report: {len(labels)} labels for {len(layers)} weight layers")
        labels = labels or [self.layer_label(n) for n in layers]
        medians = [_median(self.grad_norms[n]) for n in layers]
        findings += self._exploding(layers, labels, medians)
        if not any(f.kind == "exploding" for f in findings):
            findings += self._vanishing(labels, medians)
        if not findings:
            findings += spread_findings(labels, medians)
        findings += self._dead_relus()
        ratios = [r for n in layers for r in self.update_ratios[n][-5:] if np.isfinite(r)]
        if ratios and np.median(ratios) > LARGE_UPDATE:
            findings.append(Finding("large_updates", [], _(
                "the median update/weight ratio over the last steps is {ratio:.2g}.").format(
                    ratio=np.median(ratios))))
        return FlowReport(findings, self.table(labels), self.steps, lang)

    def _vanishing(self, labels: Any, medians: Any) -> list:
        return vanishing_findings(labels, medians)

    def _exploding(self, layers: Any, labels: Any, medians: Any) -> list:
        """Inf/NaN anywhere, huge or fast-growing norms in any parameter (biases too), or norms
        growing toward the input along the weight layers."""
        every = [n for n in self.parameters if self.grad_norms[n]]
        bad = [n for n in every if not np.all(np.isfinite(self.grad_norms[n]))
               or not np.all(np.isfinite(self.parameters[n]._data))]
        bad += [name or "model" for name, stats in self.activation_stats.items()
                if not np.all(np.isfinite(stats["mean"]))][:1]
        if bad:
            return [Finding("exploding", bad, _(
                "gradients, weights or activations became Inf/NaN in {layers}: the updates grew until the "
                "numbers overflowed.").format(layers=", ".join(bad[:3])))]
        peaks = {n: max(self.grad_norms[n]) for n in every}
        huge = [n for n in every if peaks[n] > EXPLODE_ABSOLUTE]
        if huge:
            return [Finding("exploding", huge, huge_norms(max(peaks.values()), huge))]
        growing = []
        for n in every:
            series = [v for v in self.grad_norms[n] if v > 0]
            quarter = max(len(series) // 4, 1)
            early, late = np.median(series[:quarter] or [0]), np.median(series[-quarter:] or [0])
            if len(series) >= 8 and late > EXPLODE_GROWTH * early:
                growing.append(n)
        if growing:
            return [Finding("exploding", growing, _(
                "gradient norms grew more than {growth:.0f}× during training in {layers}.").format(
                    growth=EXPLODE_GROWTH, layers=", ".join(growing[:3])))]
        return growth_toward_input(labels, medians)

    def _dead_relus(self) -> list:
        dead = [(name, _median(stats["dead"][-5:])) for name, stats in self.activation_stats.items()
                if stats["dead"]]
        dead = [(name, fraction) for name, fraction in dead if fraction >= DEAD_FRACTION]  # type: ignore[operator]
        if not dead:
            return []
        words = ", ".join(_("{layer} ({fraction:.0%} dead)").format(layer=name or "model", fraction=fraction)
                          for name, fraction in dead[:3])
        return [Finding("dead_relu", [name for name, _fraction in dead],
                        _("ReLU layers with dead units: {layers}.").format(layers=words))]
