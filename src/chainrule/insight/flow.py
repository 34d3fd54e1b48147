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

from ..autograd import is_grad_enabled
from ..backend import np
from ..nn.activation import ReLU
from ..nn.module import Module

VANISH_RATIO = 1e-3      # first layer's gradient below this fraction of the output layer's
VANISH_ABSOLUTE = 1e-7   # or a layer's gradient norm below this
EXPLODE_RATIO = 1e3      # first layer's gradient above this multiple of the output layer's
EXPLODE_ABSOLUTE = 1e4   # or any gradient norm above this
EXPLODE_GROWTH = 1e2     # or norms growing by this factor over training
DEAD_FRACTION = 0.5      # a ReLU layer with at least this fraction of dead units
LARGE_UPDATE = 0.1       # an optimiser step moving weights by more than 10%

REMEDIES = {
    "vanishing": (
        "Remedies from the lesson: use ReLU (its derivative is 1 for positive inputs, so it does not "
        "shrink the gradient); add residual (skip) connections, which give the gradient a highway past "
        "the layers; add batch normalisation to keep values in the range where derivatives are not tiny."),
    "exploding": (
        "Remedies from the lesson: clip the gradients (nn.utils.clip_grad_norm_(model.parameters(), 1.0) "
        "between backward() and step()); lower the learning rate (w_new = w_old − lr × gradient: too "
        "large a step overshoots and feeds on itself); batch normalisation keeps values in a healthy range."),
    "dead_relu": (
        "Dead ReLUs output 0 for every input, so their derivative is 0 and they never recover. Lower the "
        "learning rate, use LeakyReLU (a small slope for negative inputs), or add batch normalisation."),
    "large_updates": (
        "Each step moves the weights by a large fraction of their size: the learning rate is probably "
        "too high (a healthy update-to-weight ratio is around 1e-3)."),
}


class Finding:
    """One diagnosis: ``kind`` ("vanishing", "exploding", "dead_relu", "large_updates"), the layers
    concerned (input first) and an explanation in words with the lesson's remedies."""

    def __init__(self, kind: str, layers: list, message: str):
        self.kind, self.layers, self.message = kind, list(layers), message

    def __repr__(self) -> str:
        return f"Finding({self.kind!r}, layers={self.layers})"


class FlowReport:
    """The findings and the per-layer table; ``str(report)`` is the text for a reader."""

    def __init__(self, findings: list, table: list, steps: int):
        self.findings, self.table, self.steps = findings, table, steps

    @property
    def kinds(self) -> set:
        return {f.kind for f in self.findings}

    @property
    def healthy(self) -> bool:
        return not self.findings

    def __contains__(self, kind: str) -> bool:
        return kind in self.kinds

    def __str__(self) -> str:
        lines = [f"Gradient flow over {self.steps} step(s), layers listed from the input:",
                 format_table(self.table), ""]
        if not self.findings:
            lines.append("Healthy: gradient norms stay within a few orders of magnitude from the output "
                         "layer back to the input layer, with no Inf/NaN and no dead ReLU layers.")
        for finding in self.findings:
            lines.append(f"{finding.kind.upper().replace('_', ' ')}: {finding.message}")
            lines.append("  " + REMEDIES[finding.kind])
        return "\n".join(lines)

    __repr__ = __str__


def format_table(rows: list) -> str:
    """Rows of dicts as aligned text columns (the keys of the first row are the headings)."""
    if not rows:
        return "(no gradients recorded yet: run a backward pass)"
    headings = list(rows[0])
    cells = [[_cell(row[h]) for h in headings] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headings)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headings, widths))]
    out += ["  ".join(c.ljust(w) for c, w in zip(cell_row, widths)) for cell_row in cells]
    return "\n".join(out)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2e}" if np.isfinite(value) else str(value)
    return str(value)


def _percent(fraction) -> str | None:
    return None if fraction is None else f"{fraction:.0%}"


def _norm(array) -> float:
    with np.errstate(all="ignore"):   # an overflowing norm is recorded as inf: that is the finding
        return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _median(values) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.median(finite)) if finite else None


def vanishing_findings(labels: list, norms: list) -> list:
    """Vanishing gradients from per-layer gradient norms (input side first, None for unknown)."""
    known = [(label, m) for label, m in zip(labels, norms) if m is not None]
    if not known:
        return []
    output_label, output_norm = known[-1]
    starved = [label for label, m in known
               if m < VANISH_ABSOLUTE or (len(known) > 1 and m < VANISH_RATIO * output_norm)]
    if not starved:
        return []
    first_label, first_norm = known[0]
    if output_norm == 0:
        return [Finding("vanishing", starved, "no gradient reaches the weight layers at all (every norm "
                        "is 0): the units are saturated or dead, so nothing learns.")]
    per_layer = (first_norm / output_norm) ** (1 / max(len(known) - 1, 1)) if output_norm > 0 else 0.0
    named = ", ".join(starved[:3]) + (f" and {len(starved) - 3} more" if len(starved) > 3 else "")
    message = (f"the gradients shrink toward the input, by about ×{per_layer:.2g} per layer: the output "
               f"layer {output_label} gets norm {output_norm:.2e} but the first layer {first_label} gets "
               f"{first_norm:.2e}. The first layers ({named}) receive almost no signal and barely learn.")
    return [Finding("vanishing", starved, message)]


def growth_toward_input(labels: list, norms: list) -> list:
    """Exploding gradients seen as norms growing from the output layer back to the input."""
    known = [(label, m) for label, m in zip(labels, norms) if m is not None]
    if not known:
        return []
    (first_label, first_norm), (output_label, output_norm) = known[0], known[-1]
    if len(known) > 1 and output_norm > 0 and first_norm > EXPLODE_RATIO * output_norm:
        return [Finding("exploding", [first_label], f"the gradients grow toward the input: "
                        f"{output_norm:.2e} at {output_label}, {first_norm:.2e} at {first_label}.")]
    return []


def diagnose_norms(labels: list, norms: list) -> list:
    """Findings from one reading of per-layer weight-gradient norms (input side first): Inf/NaN
    or huge norms, growth toward the input (exploding), shrinking toward the input (vanishing).
    For callers that keep their own norms, such as the playground."""
    broken = [label for label, n in zip(labels, norms) if not np.isfinite(n)]
    if broken:
        return [Finding("exploding", broken, f"the gradient of {', '.join(broken[:3])} is not finite "
                        "(NaN or infinite): the updates overflowed.")]
    huge = [label for label, n in zip(labels, norms) if n > EXPLODE_ABSOLUTE]
    if huge:
        return [Finding("exploding", huge, f"gradient norms reached {max(norms):.2e} "
                        f"(in {', '.join(huge[:3])}).")]
    return growth_toward_input(labels, norms) or vanishing_findings(labels, norms)


class GradientFlow:
    """Records per-parameter gradient norms, update ratios and activation statistics of ``model``."""

    def __init__(self, model: Module, activations: bool = True):
        if not isinstance(model, Module):
            raise TypeError(f"GradientFlow watches an nn.Module, got {type(model).__name__}")
        self.model = model
        self.parameters = dict(model.named_parameters())
        self.grad_norms = {name: [] for name in self.parameters}
        self.update_ratios = {name: [] for name in self.parameters}
        self.activation_stats = {}      # module name -> {"mean": [...], "std": [...], "dead": [...]}
        self._snapshots, self._provisional = {}, set()
        self._param_hooks, self._module_handles = [], []
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
    def _gradient_hook(self, name: str, param):
        def record(grad):
            self._measure_update(name, param)
            self.grad_norms[name].append(_norm(grad._data))
            self._snapshots[name] = param._data.copy()
            return None
        return record

    def _measure_update(self, name: str, param) -> None:
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

    def _activation_hook(self, name: str):
        def record(module, args, output):
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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
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

    def table(self) -> list:
        rows = []
        for name in self.layers():
            prefix = name.rsplit(".", 1)[0] if "." in name else ""
            follower = self._activation_after(prefix)
            stats = self.activation_stats.get(follower, {}) if follower else {}
            rows.append({
                "layer": self.layer_label(name),
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

    # --- diagnosis ------------------------------------------------------------------------------
    def report(self) -> FlowReport:
        """Diagnose vanishing / exploding gradients, dead ReLUs and oversized updates."""
        for name, param in self.parameters.items():  # measure the last step's update too
            if name in self._snapshots and name not in self._provisional and self.grad_norms[name]:
                self._measure_update(name, param)
                self._provisional.add(name)
        findings = []
        layers = self.layers()
        labels = [self.layer_label(n) for n in layers]
        medians = [_median(self.grad_norms[n]) for n in layers]
        findings += self._exploding(layers, labels, medians)
        if not any(f.kind == "exploding" for f in findings):
            findings += self._vanishing(labels, medians)
        findings += self._dead_relus()
        ratios = [r for n in layers for r in self.update_ratios[n][-5:] if np.isfinite(r)]
        if ratios and np.median(ratios) > LARGE_UPDATE:
            findings.append(Finding("large_updates", [], f"the median update/weight ratio over the last "
                                    f"steps is {np.median(ratios):.2g}."))
        return FlowReport(findings, self.table(), self.steps)

    def _vanishing(self, labels, medians) -> list:
        return vanishing_findings(labels, medians)

    def _exploding(self, layers, labels, medians) -> list:
        """Inf/NaN anywhere, huge or fast-growing norms in any parameter (biases too), or norms
        growing toward the input along the weight layers."""
        every = [n for n in self.parameters if self.grad_norms[n]]
        bad = [n for n in every if not np.all(np.isfinite(self.grad_norms[n]))
               or not np.all(np.isfinite(self.parameters[n]._data))]
        bad += [name or "model" for name, stats in self.activation_stats.items()
                if not np.all(np.isfinite(stats["mean"]))][:1]
        if bad:
            return [Finding("exploding", bad, f"gradients, weights or activations became Inf/NaN in "
                            f"{', '.join(bad[:3])}: the updates grew until the numbers overflowed.")]
        peaks = {n: max(self.grad_norms[n]) for n in every}
        huge = [n for n in every if peaks[n] > EXPLODE_ABSOLUTE]
        if huge:
            worst = max(peaks.values())
            return [Finding("exploding", huge, f"gradient norms reached {worst:.2e} "
                            f"(in {', '.join(huge[:3])}).")]
        growing = []
        for n in every:
            series = [v for v in self.grad_norms[n] if v > 0]
            quarter = max(len(series) // 4, 1)
            early, late = np.median(series[:quarter] or [0]), np.median(series[-quarter:] or [0])
            if len(series) >= 8 and late > EXPLODE_GROWTH * early:
                growing.append(n)
        if growing:
            return [Finding("exploding", growing, f"gradient norms grew more than {EXPLODE_GROWTH:.0f}× "
                            f"during training in {', '.join(growing[:3])}.")]
        return growth_toward_input(labels, medians)

    def _dead_relus(self) -> list:
        dead = [(name, _median(stats["dead"][-5:])) for name, stats in self.activation_stats.items()
                if stats["dead"]]
        dead = [(name, fraction) for name, fraction in dead if fraction >= DEAD_FRACTION]
        if not dead:
            return []
        words = ", ".join(f"{name or 'model'} ({fraction:.0%} dead)" for name, fraction in dead[:3])
        return [Finding("dead_relu", [name for name, _ in dead], f"ReLU layers with dead units: {words}.")]
