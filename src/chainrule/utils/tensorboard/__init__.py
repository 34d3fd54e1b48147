"""``torch.utils.tensorboard``: ``from chainrule.utils.tensorboard import SummaryWriter``.

Needs the optional ``tensorboard`` package (``pip install chainrule[tensorboard]``, or
``pip install tensorboard``); TensorFlow is not needed.
"""

try:
    import tensorboard  # noqa: F401 - only to say clearly when it is missing
except ImportError:
    raise ImportError("chainrule.utils.tensorboard needs the tensorboard package, an optional extra: "
                      "pip install 'chainrule[tensorboard]'  (or: pip install tensorboard; "
                      "TensorFlow is not needed)") from None

from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
