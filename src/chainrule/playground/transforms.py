"""What the data goes through before the network sees it, in the page's own words.

A point on the output plot is (x₁, x₂) in the box -6…6. On its way to the network it was

    drawn        by the data set's generator (seeded, so a URL reproduces it)
    noised       by the page's Noise slider (each set adds its noise its own way, below)
    kept in box  points pushed outside -6…6 by the noise are moved to the box's edge
    featured     turned into the inputs switched on in the network's first column:
                 x₁ and x₂ are divided by 3 (the box becomes -2…2, where tanh and sigmoid are not
                 flat); x₁², x₂², x₁x₂ are made from those scaled values (x₁x₂ = x₁·x₂/9);
                 sin x₁, sin x₂ from the unscaled ones

The formulas live in ``datasets.FEATURE_FUNCTIONS``; this module only says them in words, and a
test checks that the two agree.
"""

from __future__ import annotations

from ..locale import N_, _
from .datasets import BOX, FEATURE_LABELS

FEATURE_FORMULAS = {
    "x1": "x₁/3", "x2": "x₂/3", "x1^2": "(x₁/3)²", "x2^2": "(x₂/3)²", "x1x2": "x₁·x₂/9",
    "sin_x1": "sin(x₁)", "sin_x2": "sin(x₂)",
}

FEATURE_REASONS = {   # translated where shown
    "x1": N_("the point's first coordinate, divided by 3"),
    "x2": N_("the point's second coordinate, divided by 3"),
    "x1^2": N_("the square of the scaled first coordinate"),
    "x2^2": N_("the square of the scaled second coordinate"),
    "x1x2": N_("the product of the two scaled coordinates"),
    "sin_x1": N_("the sine of the unscaled first coordinate"),
    "sin_x2": N_("the sine of the unscaled second coordinate"),
}


def noise_words(dataset: str, noise_percent: int) -> str | None:
    """How the Noise slider changed this data set's points (None when it did nothing)."""
    n = noise_percent / 100.0
    if dataset == "gauss":
        return _("the two clouds are normal with spread σ = {spread:.3g} around (2, 2) and (-2, -2) (Noise "
                 "widens them)").format(spread=0.5 + 3.5 * n)
    if noise_percent == 0:
        return None
    moved = {
        "circle": _("each point was moved by up to ±{amount:.3g} in x₁ and in x₂ after its ring set its "
                    "label"),
        "xor": _("each point was moved by up to ±{amount:.3g} in x₁ and in x₂ after its quadrant set its "
                 "label"),
        "spiral": _("each point was moved by up to ±{amount:.3g} in x₁ and in x₂ off its arm"),
        "moons": _("each point was moved by normal noise of spread σ = {amount:.3g} in x₁ and in x₂"),
        "plane": _("each target got up to ±{amount:.3g} of noise added (then kept within -1…1)"),
        "waves": _("each target got up to ±{amount:.3g} of noise added (then kept within -1…1)"),
    }
    amount = {"circle": 5 * n, "xor": 5 * n, "spiral": 2.5 * n, "moons": 2 * n, "plane": n, "waves": n}
    return _("Noise {noise}: {how}").format(noise=noise_percent,
                                            how=moved[dataset].format(amount=amount[dataset]))


def pipeline(settings: dict) -> list[str]:
    """The steps from a drawn point to the network's inputs, one line each (for the page's Data
    column and the head of every explanation)."""
    steps = []
    noise = noise_words(settings["dataset"], settings["noise"])
    if noise:
        steps.append(noise[0].upper() + noise[1:])
    if settings["noise"] > 0 or settings["dataset"] == "gauss":
        steps.append(_("Points outside the box -{box:g}…{box:g} were moved to its edge.").format(box=BOX))
    inputs = ", ".join(_("input {feature} = {formula}").format(feature=FEATURE_LABELS[name],
                                                              formula=FEATURE_FORMULAS[name])
                       for name in settings["features"])
    steps.append(_("The network's inputs (its first column) are made from the point "
                   "(x₁, x₂): {inputs}.").format(inputs=inputs))
    if any(name in settings["features"] for name in ("x1", "x2", "x1^2", "x2^2", "x1x2")):
        steps.append(_("Dividing by 3 maps the box -6…6 to -2…2, where tanh and sigmoid are not flat."))
    return steps


def input_lines(settings: dict, point: tuple, inputs: list, fmt) -> list[str]:
    """One line per input of one example: name = formula = formula with the point's numbers = value."""
    x1, x2 = (fmt(v) for v in point)
    with_numbers = {
        "x1": f"{x1}/3", "x2": f"{x2}/3", "x1^2": f"({x1}/3)²", "x2^2": f"({x2}/3)²",
        "x1x2": f"{x1}·{x2}/9", "sin_x1": f"sin({x1})", "sin_x2": f"sin({x2})",
    }
    return [_("input {feature}").format(feature=FEATURE_LABELS[name])
            + f" = {FEATURE_FORMULAS[name]} = {with_numbers[name]} = {fmt(value)}"
            for name, value in zip(settings["features"], inputs)]
