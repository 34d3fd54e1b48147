"""Real data that ships inside a package: scikit-learn's handwritten digits (no download).

1,797 grey-scale 8x8 images of the digits 0-9 (UCI's optical recognition set), each pixel an
integer 0..16. Needs the optional extra: ``pip install chainrule[data]`` (scikit-learn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend as B
from ..tensor import Tensor

if TYPE_CHECKING:
    from typing import Any

_MISSING_EXTRA = ("load_digits needs scikit-learn, which is not installed. Install chainrule's optional "
                  "data extra:  pip install chainrule[data]   (or: pip install scikit-learn)")


def load_digits(as_tensors: bool = True, scale: bool = True, images: bool = False) -> tuple[Any, Any]:
    """The digits as ``(X, y)``.

    X  float32, shape (1797, 64) -- or (1797, 1, 8, 8) with ``images=True``, ready for Conv2d;
       pixel values divided by 16 into [0, 1] unless ``scale=False`` (then the raw 0..16)
    y  int64 labels 0..9, shape (1797,)
    as_tensors  Tensors (default) or NumPy arrays
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:
        raise ImportError(_MISSING_EXTRA) from err
    bunch = sklearn_load_digits()
    features = bunch.data.astype(B.float32)
    if scale:
        features /= 16.0
    if images:
        features = features.reshape(-1, 1, 8, 8)
    labels = bunch.target.astype(B.int64)
    if as_tensors:
        return Tensor(features), Tensor(labels)
    return features, labels
