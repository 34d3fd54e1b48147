"""What every picture shares: a matplotlib Figure of its own, atomic saving, readable log axes.

Each picture draws on its own ``Figure`` with the Agg canvas (no window, no global pyplot
state, the user's backend untouched). Without matplotlib, ``new_figure`` raises
``MissingExtraError`` whose one-line message says what to install.

Languages: ``picture_language()`` wraps the drawing of pictures whose words are Japanese. It
puts a Japanese font after DejaVu Sans in the family list (matplotlib takes each glyph from the
first font that has it: Latin and math from DejaVu, kana and kanji from the Japanese font; the
choice lives in an ``rc_context``, never in the user's global settings). Without any Japanese
font installed it warns ONCE, naming the Debian package, and draws the words in English rather
than as empty boxes.

Log axes: a gradient norm moving by 3× is a small change, but a log axis zoomed onto it (one
decade, two ticks) draws it as a cliff. ``log_axis`` therefore always shows at least
``MIN_DECADES`` decades, centred on the data, with a labelled tick at every decade.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import warnings
from pathlib import Path

from ..backend import np
from ..errors import ChainruleError
from ..locale import _, current_language, language

try:  # optional extra: pip install chainrule[plots]
    import matplotlib
    from matplotlib import font_manager, ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    matplotlib = font_manager = Figure = FigureCanvasAgg = ticker = Line2D = Patch = None

INSTALL = "pip install chainrule[plots]"
MIN_DECADES = 3
# colour-blind-safe qualitative colours (Okabe & Ito), one per class or per variant
# Japanese fonts matplotlib can use, best first (Debian: fonts-ipaexfont-gothic, fonts-noto-cjk)
JAPANESE_FONTS = ("IPAexGothic", "Noto Sans CJK JP", "IPAGothic", "Noto Sans JP", "TakaoGothic",
                  "VL Gothic", "Hiragino Sans", "Yu Gothic", "MS Gothic")
JAPANESE_FONT_FILES = ("ipaexg", "notosanscjk", "ipag", "notosansjp", "takaogothic", "vl-gothic")
JAPANESE_FONT_PACKAGE = "apt-get install fonts-ipaexfont-gothic"
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"]


class MissingExtraError(ChainruleError, ImportError):
    """An optional dependency (an "extra") is not installed; the message says how to get it."""


def available() -> bool:
    return Figure is not None


class MissingFontWarning(UserWarning):
    """No Japanese font for matplotlib: the pictures' words are drawn in English instead."""


_font_search = {}   # "done": the Japanese font found (or None) once looked for; "warned": True


def japanese_font() -> str | None:
    """The name of a Japanese font matplotlib can use, or None. Fonts installed after
    matplotlib built its font cache are found on the system and added (once)."""
    if "done" not in _font_search:
        known = {entry.name for entry in font_manager.fontManager.ttflist}
        found = next((name for name in JAPANESE_FONTS if name in known), None)
        if found is None:
            for path in font_manager.findSystemFonts():
                if any(key in Path(path).name.lower().replace("-", "") for key in JAPANESE_FONT_FILES):
                    with contextlib.suppress(Exception):
                        font_manager.fontManager.addfont(path)
            known = {entry.name for entry in font_manager.fontManager.ttflist}
            found = next((name for name in JAPANESE_FONTS if name in known), None)
        _font_search["done"] = found
    return _font_search["done"]


@contextlib.contextmanager
def picture_language():
    """Draw (and save) a picture inside this block: in Japanese with a Japanese font when the
    language is Japanese and one is installed; in English, after one warning, when none is."""
    if Figure is None or current_language() != "ja":
        yield
        return
    font = japanese_font()
    if font is None:
        if not _font_search.get("warned"):
            _font_search["warned"] = True
            warnings.warn(f"no Japanese font for matplotlib, so the pictures are labelled in English "
                          f"({JAPANESE_FONT_PACKAGE}, or any of {', '.join(JAPANESE_FONTS[:3])})",
                          MissingFontWarning, stacklevel=3)
        with language("en"):
            yield
        return
    with matplotlib.rc_context({"font.family": ["DejaVu Sans", font]}):
        yield


def new_figure(width: float, height: float, columns: int = 1, sharey: bool = False):
    """A Figure with ``columns`` axes side by side (constrained layout), and the axes."""
    if Figure is None:
        raise MissingExtraError(_("matplotlib is not installed, so no plot was drawn: {install}").format(
            install=INSTALL))
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False, sharey=sharey)[0]


def write_atomically(path, write) -> Path:
    """Call ``write(temporary_path)``, then move the file into place: a reader never finds half a
    file, and a failure leaves the old one. The file gets the usual permissions (0666 less the
    umask), not the private 0600 of a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def save(figure, path) -> Path:
    """Write the figure (format from the suffix, PNG without one) atomically."""
    with picture_language():
        return write_atomically(path, lambda temporary: figure.savefig(
            temporary, format=(Path(path).suffix.lstrip(".") or "png")))


def png_bytes(figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (for a notebook, which shows it inline)."""
    buffer = io.BytesIO()
    with picture_language():
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def log_axis(axes, values, min_decades: float = MIN_DECADES, axis: str = "y") -> tuple:
    """A log scale spanning the positive finite ``values``, widened (around their geometric
    centre) to at least ``min_decades`` decades, with a labelled major tick at every decade
    (every few decades on very wide ranges) and unlabelled minor ticks between. Returns the
    limits."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values) & (values > 0)]
    low, high = (float(values.min()), float(values.max())) if values.size else (1e-3, 1.0)
    span = math.log10(high / low)
    if span < min_decades:
        centre = (math.log10(high) + math.log10(low)) / 2
        low, high = 10 ** (centre - min_decades / 2), 10 ** (centre + min_decades / 2)
    else:
        low, high = low / 10 ** (0.05 * span), high * 10 ** (0.05 * span)
    decades = math.log10(high / low)
    step = max(1, math.ceil(decades / 10))          # at most about ten labelled ticks
    set_scale, set_limits, target = ((axes.set_yscale, axes.set_ylim, axes.yaxis) if axis == "y"
                                     else (axes.set_xscale, axes.set_xlim, axes.xaxis))
    set_scale("log")
    set_limits(low, high)
    target.set_major_locator(ticker.LogLocator(base=10 ** step, numticks=30))
    target.set_minor_locator(ticker.LogLocator(base=10, subs=np.arange(2, 10) if step == 1 else (1.0,),
                                               numticks=100))
    target.set_minor_formatter(ticker.NullFormatter())
    target.set_major_formatter(ticker.LogFormatterSciNotation(base=10))
    return low, high


def rolling_median(series, window: int):
    """The median of each ``window`` consecutive values (centred, shrinking at the ends), NaN
    ignored: a smoothed curve that a single spike cannot drag."""
    series = np.asarray(series, dtype=float)
    half = max(window, 1) // 2
    smoothed = np.full(series.shape, np.nan)
    for i in range(len(series)):
        chunk = series[max(0, i - half):i + half + 1]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            smoothed[i] = np.median(chunk)
    return smoothed
