"""``chainrule.utils.data`` is ``chainrule.data`` under PyTorch's path (torch.utils.data)."""

from ..data import DataLoader, Dataset, TensorDataset

__all__ = ["DataLoader", "Dataset", "TensorDataset"]
