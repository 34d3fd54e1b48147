"""Data: datasets, samplers, mini-batch loading, and ready-made problems to learn.

    from chainrule import data
    X, y = data.make_moons(500, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0)
    loader = data.DataLoader(data.TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)

The same classes live under PyTorch's module paths in ``chainrule.utils.data``
(``from chainrule.utils.data import DataLoader, random_split``).
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .digits import load_digits
from .distributed import DistributedSampler
from .generated import make_circles, make_gaussians, make_moons, make_spiral, make_xor, train_test_split
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
           "StackDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "DistributedSampler", "BatchSampler", "DataLoader",
           "default_collate", "default_convert", "get_worker_info", "make_moons", "make_circles",
           "make_spiral", "make_xor", "make_gaussians", "train_test_split", "load_digits"]
