"""Data: datasets, mini-batch loading, and ready-made problems to learn.

    from chainrule import data
    X, y = data.make_moons(500, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.2, seed=0)
    loader = data.DataLoader(data.TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
"""

from .dataloader import DataLoader, default_collate
from .dataset import Dataset, TensorDataset
from .digits import load_digits
from .generated import make_circles, make_gaussians, make_moons, make_spiral, make_xor, train_test_split

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate", "make_moons", "make_circles",
           "make_spiral", "make_xor", "make_gaussians", "train_test_split", "load_digits"]
