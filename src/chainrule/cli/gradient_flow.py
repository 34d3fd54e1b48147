"""``chainrule gradient-flow``: the lesson's experiment. Deep MLP variants (sigmoid, ReLU with He
initialisation, residual, batch norm, clipped) train for a few SGD steps on two moons; each Linear
layer's median gradient norm ||dL/dW|| is printed per variant, with the flow diagnosis
(vanishing, exploding, uneven), and plotted (matplotlib).

Why sigmoid stacks stop learning: going back through layer k (z_k = W_k h_{k-1} + b_k,
h_k = sigmoid(z_k)) the chain rule multiplies the gradient by sigmoid'(z_k) <= 0.25 and by W_k^T,

        dL/dh_{k-1} = W_k^T (sigmoid'(z_k) * dL/dh_k)

so with weights of order one it shrinks like 0.25^n over n layers (vanishing).
"""

from __future__ import annotations

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.backend import np
from chainrule.insight import flow_plots, plots
from chainrule.insight.diagnosis import KIND_NAMES
from chainrule.insight.figures import picture_language
from chainrule.insight.flow import GradientFlow, format_table
from chainrule.locale import _, pad

from .parser import writable_folder


def deep_variant(depth: int, width: int, activation, residual=False, batch_norm=False) -> nn.Sequential:
    """depth Linear layers: 2 → width, (depth − 2) hidden blocks, width → 2 (ReLU nets He-initialised)."""
    layers = [nn.Linear(2, width), activation()]
    for _block in range(depth - 2):
        block = nn.Sequential(nn.Linear(width, width), *([nn.BatchNorm1d(width)] if batch_norm else []),
                              activation())
        layers.append(nn.Residual(block) if residual else block)
    layers.append(nn.Linear(width, 2))
    model = nn.Sequential(*layers)
    if activation is nn.ReLU:   # He initialisation: keeps a ReLU stack's signal from shrinking
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
    return model


VARIANTS = {  # name -> (activation, residual, batch norm, clip gradients at norm CLIP_NORM)
    "sigmoid": (nn.Sigmoid, False, False, False),
    "relu (He init)": (nn.ReLU, False, False, False),
    "sigmoid+residual": (nn.Sigmoid, True, False, False),
    "sigmoid+batchnorm": (nn.Sigmoid, False, True, False),
    "sigmoid+clipped": (nn.Sigmoid, False, False, True),
    "relu+residual+bn": (nn.ReLU, True, True, False),
}
CLIP_NORM = 1.0


def layer_names(depth: int) -> list:
    """The experiment's names for its Linear layers, in the table, the verdicts and the plot."""
    return [(_("layer {i} (input)") if i == 0 else _("layer {i} (output)") if i == depth - 1
             else _("layer {i}")).format(i=i) for i in range(depth)]


def train_variant(args, X, y, activation, residual, batch_norm, clip) -> tuple:
    """Median gradient norm per Linear layer, the flow report, and the steps where clipping acted."""
    cr.manual_seed(args.seed)
    model = deep_variant(args.depth, args.width, activation, residual, batch_norm)
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    clipped, largest = 0, 0.0
    with GradientFlow(model) as flow, np.errstate(all="ignore"):
        try:
            for _ in range(args.steps):
                optimizer.zero_grad()
                nn.CrossEntropyLoss()(model(X), y).backward()
                if clip:
                    total = nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM).item()
                    clipped, largest = clipped + (total > CLIP_NORM), max(largest, total)
                optimizer.step()
        except cr.ChainruleError:     # a diverging variant: its report says so
            pass
        norms = [norm for _, norm in flow.layer_norms()]
        names = layer_names(args.depth)
        report = flow.report(labels=names if len(norms) == len(names) else None)
    return norms, report, (clipped, largest)


def run(args) -> int:
    writable_folder(args.out)
    X, y = data.make_moons(256, noise=0.2, seed=args.seed)
    norms, reports, reasons = {}, {}, {}
    for name, (activation, residual, batch_norm, clip) in VARIANTS.items():
        norms[name], reports[name], (clipped, largest) = train_variant(args, X, y, activation, residual,
                                                                      batch_norm, clip)
        if clip and clipped == 0:
            reasons[name] = _("clipping at norm {clip:g} never acted: the total gradient norm stayed at most "
                              "{largest:.1e}").format(clip=CLIP_NORM, largest=largest)
    names = layer_names(args.depth)
    rows = [{"Linear layer": names[i]} | {name: norms[name][i] if i < len(norms[name]) else None
                                          for name in VARIANTS} for i in range(args.depth)]
    print(_("Median gradient norm ‖dL/dW‖ per Linear layer over {steps} SGD steps (lr {lr}), {depth} layers "
            "of width {width}, two moons:").format(steps=args.steps, lr=args.lr, depth=args.depth,
                                                   width=args.width))
    print(format_table(rows))
    print()
    same, flags = flow_plots.coinciding(norms), {}
    for name in VARIANTS:
        first, last = norms[name][0], norms[name][-1]
        ratio = _("first/last layer {ratio:.1e}").format(ratio=first / last) if first and last \
            else _("no gradient")
        flags[name] = ", ".join(_(KIND_NAMES[kind]) for kind in sorted(reports[name].kinds)) or _("healthy")
        print(f"{pad(name, 18)} {pad(flags[name], 10)} ({ratio})")
        for finding in reports[name].findings:
            if finding.kind == "uneven":
                print(f"{'':<18} {finding.message}")
                flags[name] += _(": {layers} far above the rest").format(layers=", ".join(finding.layers))
        if name in same:
            why = f": {reasons[name]}" if name in reasons else ""
            print(f"{'':<18} " + _("the same numbers as {variant}").format(variant=same[name]) + why)
    print("\n" + _("Sigmoid's derivative is at most 0.25, so the gradient shrinks layer after layer "
                   "(vanishing). ReLU (He-initialised), residual connections and batch normalisation keep it "
                   "flowing; clipping only caps large gradients (exploding) and cannot revive vanishing "
                   "ones. A layer far above the others (uneven) is a warning too: it takes much larger steps "
                   "than the rest."))
    try:
        with picture_language():
            path = plots.plot_layer_norms(
                norms, args.out / "gradient_flow_layers.png", reasons=reasons, flags=flags,
                title=_("{depth}-layer MLPs: median gradient norm per Linear layer").format(depth=args.depth),
                xlabel=_("Linear layer, 0 = input … {last} = output").format(last=args.depth - 1))
        print(_("plot saved to {path}").format(path=path.resolve()))
    except plots.MissingExtraError as err:
        print(_("note: skipped the plot: {why}").format(why=err))
    return 0
