"""PyTorch's ``torch.utils`` path, so ``from torch.utils.data import DataLoader`` carries over."""

from . import data
