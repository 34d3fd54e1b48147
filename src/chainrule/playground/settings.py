"""The playground's set-up: every knob on the page, its limits, and strict validation.

A set-up is a plain dict (JSON on the wire, the page's URL query). ``validate_settings``
checks every field against the limits below and returns a clean copy, or raises
``SettingsError`` naming the field and what is allowed, so the HTTP layer can answer 4xx.
"""

from __future__ import annotations

import math

DATASETS_CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
DATASETS_REGRESSION = ("plane", "waves")
DATASETS = DATASETS_CLASSIFICATION + DATASETS_REGRESSION
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
REGULARIZATIONS = ("none", "l1", "l2")
OPTIMIZERS = ("sgd", "momentum", "adam")

MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 8
MAX_BATCH = 100
MAX_STEP_EPOCHS = 100
MAX_LEARNING_RATE = 10.0
MAX_REG_RATE = 10.0
MAX_CLIP_NORM = 100.0
MAX_SEED = 2**31 - 1
N_SAMPLES = 500

DEFAULTS = {
    "dataset": "circle",
    "noise": 0,
    "train_ratio": 50,
    "batch_size": 10,
    "seed": 1,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activation": "tanh",
    "learning_rate": 0.03,
    "regularization": "none",
    "reg_rate": 0.0,
    "optimizer": "sgd",
    "residual": False,
    "batch_norm": False,
    "clip_norm": 0.0,
}

# Fields whose change keeps the trained weights (the rest rebuild the network or the data).
LIVE_FIELDS = frozenset({"learning_rate", "regularization", "reg_rate", "batch_size", "optimizer",
                         "clip_norm"})
DATA_FIELDS = frozenset({"dataset", "noise", "train_ratio", "seed"})


MAX_JSON_DIGITS = 100   # a longer integer literal in a request is never a valid value


class SettingsError(ValueError):
    """A set-up field is missing its type or outside its limits; the message says which and why."""


class LongNumber:
    """An integer literal in a request too long to be worth converting (the JSON reader's
    ``parse_int``): no field accepts it, so its field's check refuses it by name."""

    def __init__(self, text: str):
        self.digits = len(text.lstrip("-"))

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"


def parse_json_int(text: str):
    """``json.loads(parse_int=...)``: an int, or a ``LongNumber`` past ``MAX_JSON_DIGITS`` digits
    (int() of thousands of digits is slow, and Python refuses past 4,300)."""
    return int(text) if len(text) <= MAX_JSON_DIGITS else LongNumber(text)


def shown(value, limit: int = 40) -> str:
    """A short printable form of any JSON value for an error message.

    Never more than about ``limit`` characters (a 15 KB string or a 400-digit number is cut, not
    echoed back whole), never deep (nested lists show as ``[...]``), and never a raw surrogate,
    so the message always encodes as UTF-8."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        digits = len(str(abs(value))) if value.bit_length() < 13_000 else int(value.bit_length() * 0.30103)
        return f"a {digits}-digit {'negative ' if value < 0 else ''}number"
    if isinstance(value, (list, dict)):
        text = _shallow(value)
    else:
        text = repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shallow(value) -> str:
    """repr of a list or dict one level deep, its items shown with ``shown``."""
    if isinstance(value, dict):
        items = [f"{shown(k, 20)}: {'...' if isinstance(v, (list, dict)) else shown(v, 20)}"
                 for k, v in list(value.items())[:4]]
        return "{" + ", ".join(items) + (", ..." if len(value) > 4 else "") + "}"
    items = ["[...]" if isinstance(v, (list, dict)) else shown(v, 20) for v in value[:8]]
    return "[" + ", ".join(items) + (", ..." if len(value) > 8 else "") + "]"


def _choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}; got {shown(value)}")
    return value


def _integer(name, value, low, high):
    """A whole number in [low, high]: an int, or a float with no fractional part.

    Compared as Python numbers (exact for ints of any size) before any conversion, so a
    400-digit integer is refused by range instead of overflowing float()."""
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    whole = number and (isinstance(value, int) or (math.isfinite(value) and value.is_integer()))
    if not whole or not low <= value <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}; got {shown(value)}")
    return int(value)


def _number(name, value, low, high, low_open=False):
    out_of_range = f"{name} must be a number {'above' if low_open else 'from'} {low} up to {high}"
    if isinstance(value, LongNumber):   # a number, but far outside any range
        raise SettingsError(f"{out_of_range}; got {shown(value)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise SettingsError(f"{name} must be a finite number; got {shown(value)}")
    too_low = value <= low if low_open else value < low
    if too_low or value > high:   # int against float compares exactly, however many digits
        raise SettingsError(f"{out_of_range}; got {shown(value)}")
    return float(value)


def _flag(name, value):
    if not isinstance(value, bool):
        raise SettingsError(f"{name} must be true or false; got {shown(value)}")
    return value


def _features(value):
    if not isinstance(value, list) or not value:
        raise SettingsError(f"features must be a non-empty list drawn from {', '.join(FEATURES)}")
    for item in value:
        _choice("each feature", item, FEATURES)
    if len(set(value)) != len(value):
        raise SettingsError("features must not repeat")
    return [f for f in FEATURES if f in value]  # canonical order


def _hidden(value):
    if not isinstance(value, list) or len(value) > MAX_HIDDEN_LAYERS:
        raise SettingsError(f"hidden must be a list of 0 to {MAX_HIDDEN_LAYERS} layer widths")
    return [_integer("each hidden layer's width", width, 1, MAX_NEURONS) for width in value]


_CHECKS = {
    "dataset": lambda v: _choice("dataset", v, DATASETS),
    "noise": lambda v: _integer("noise", v, 0, 50),
    "train_ratio": lambda v: _integer("train_ratio", v, 10, 90),
    "batch_size": lambda v: _integer("batch_size", v, 1, MAX_BATCH),
    "seed": lambda v: _integer("seed", v, 0, MAX_SEED),
    "features": _features,
    "hidden": _hidden,
    "activation": lambda v: _choice("activation", v, ACTIVATIONS),
    "learning_rate": lambda v: _number("learning_rate", v, 0.0, MAX_LEARNING_RATE, low_open=True),
    "regularization": lambda v: _choice("regularization", v, REGULARIZATIONS),
    "reg_rate": lambda v: _number("reg_rate", v, 0.0, MAX_REG_RATE),
    "optimizer": lambda v: _choice("optimizer", v, OPTIMIZERS),
    "residual": lambda v: _flag("residual", v),
    "batch_norm": lambda v: _flag("batch_norm", v),
    "clip_norm": lambda v: _number("clip_norm", v, 0.0, MAX_CLIP_NORM),
}


def validate_settings(changes, base: dict | None = None) -> dict:
    """``base`` (the defaults when None) updated by ``changes``, every field checked.

    Unknown fields are refused rather than ignored, so a typo never silently does nothing."""
    if not isinstance(changes, dict):
        raise SettingsError("settings must be a JSON object of field: value")
    unknown = sorted(set(changes) - set(_CHECKS), key=str)
    if unknown:
        raise SettingsError(f"unknown settings field(s): {', '.join(shown(name) for name in unknown[:5])}; "
                            f"known fields are {', '.join(_CHECKS)}")
    merged = dict(DEFAULTS if base is None else base)
    merged.update(changes)
    return {name: check(merged[name]) for name, check in _CHECKS.items()}


def is_regression(settings: dict) -> bool:
    return settings["dataset"] in DATASETS_REGRESSION


def validate_epochs(value) -> int:
    return _integer("epochs", value, 1, MAX_STEP_EPOCHS)
