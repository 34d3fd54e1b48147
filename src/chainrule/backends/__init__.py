"""``torch.backends`` switches a CPU-only NumPy library has no use for: settable, and harmless.

``torch.backends.cudnn.benchmark = True`` and ``torch.backends.mps.is_available()`` appear in
many scripts; here the flags are kept (so reading them back works) and every backend answers
"not available".
"""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
