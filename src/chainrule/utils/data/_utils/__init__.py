"""``torch.utils.data._utils``: where PyTorch keeps the collate module (``_utils.collate``)."""

from . import collate

__all__ = ["collate"]
